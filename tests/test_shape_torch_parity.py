"""Differential tests of Ember's shape, indexing and linear-algebra ops (issue 13) against PyTorch (cpu).

roll, diag, diagonal, diag_embed, tile, repeat_interleave, meshgrid, the stacks, atleast_*d, rot90,
swapaxes, moveaxis, movedim, tril/triu_indices, Tensor.unfold, squeeze_/unsqueeze_, take_along_dim,
the scatter family, the index_* ops, masked_scatter, put, einsum, tensordot, kron, cross,
addmm/addmv/baddbmm and Tensor.new_*: values, dtypes and shapes over every dtype, gradients in
float64 with torch's autograd, and errors (where torch raises, Ember must raise). The helpers count
the comparisons; the module's last test checks that a whole run made at least MIN_COMPARISONS.
Without PyTorch the module fails to collect, unless EMBER_ALLOW_NO_TORCH=1 turns that into a skip.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import ember
import numpy as np
import pytest
from torch_required import require_torch

torch = require_torch()

# torch warns on scatter's deprecated reduce= and on meshgrid without indexing=; both are compared
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")
_TOL = {"float16": (2e-3, 2e-3), "float32": (1e-5, 1e-6), "float64": (1e-10, 1e-12)}

# The fewest comparisons with torch a whole run of this module makes: a full run with torch 2.13.0
# counted 1,779 (1,488 values, 97 raised errors, 194 gradients), the same on every run. Raise it
# when adding comparisons; lower it only when removing some on purpose.
MIN_COMPARISONS = 1_779
COMPARED: Counter[str] = Counter()


# -- helpers (as in test_ops_torch_parity.py) ------------------------------------------------------
def _sample(dtype: str, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype.startswith("float"):
        return rng.uniform(-3, 3, shape).astype(dtype)
    return rng.integers(0 if dtype == "uint8" else -5, 6, shape).astype(dtype)


def _lib_args(lib: Any, args: tuple) -> list:
    out: list[Any] = []
    for a in args:
        if isinstance(a, np.ndarray):
            out.append(ember.tensor(a) if lib is ember else torch.tensor(a))
        elif isinstance(a, list | tuple) and a and isinstance(a[0], np.ndarray):
            out.append(type(a)(_lib_args(lib, tuple(a))))
        else:
            out.append(a)
    return out


def _dtype_name(t: Any) -> str:
    return t.dtype.name if isinstance(t, ember.Tensor) else str(t.dtype).removeprefix("torch.")


def assert_same(e: Any, t: Any, what: str = "") -> None:
    """Ember result ``e`` equals torch result ``t``: dtype, shape and values."""
    if isinstance(t, tuple | list):
        assert isinstance(e, tuple | list) and len(e) == len(t), f"{what}: {e!r} vs {t!r}"
        for i, (a, b) in enumerate(zip(e, t)):
            assert_same(a, b, f"{what}[{i}]")
        return
    if not isinstance(t, torch.Tensor):
        assert e == t, f"{what}: ember {e!r}, torch {t!r}"
        COMPARED["values"] += 1
        return
    assert isinstance(e, ember.Tensor), f"{what}: ember gave {type(e).__name__}"
    assert _dtype_name(e) == _dtype_name(t), f"{what}: dtype ember {e.dtype}, torch {t.dtype}"
    assert e.shape == tuple(t.shape), f"{what}: shape ember {e.shape}, torch {tuple(t.shape)}"
    ev, tv = e.detach().numpy(), t.detach().numpy()
    if ev.dtype.kind == "f":
        r, a = _TOL[ev.dtype.name]
        np.testing.assert_allclose(ev, tv, rtol=r, atol=a, err_msg=what)
    else:
        np.testing.assert_array_equal(ev, tv, err_msg=what)
    COMPARED["values"] += 1


def both(fn: Callable[..., Any], *args: Any, what: str = "", strict: bool = True) -> None:
    """Run ``fn(lib, *args)`` with lib = ember and torch (numpy arrays in args become tensors) and
    compare. When torch raises, Ember must raise too if ``strict``; the dtype sweeps pass
    strict=False, as Ember accepts some inputs torch refuses (bool or integer inputs of some ops)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = fn(torch, *_lib_args(torch, args))
    except Exception:
        if strict:
            with pytest.raises(Exception):  # noqa: B017 - any error: the libraries word them differently
                fn(ember, *_lib_args(ember, args))
            COMPARED["raised errors"] += 1
        return
    assert_same(fn(ember, *_lib_args(ember, args)), t, what)


def grads_match(fn: Callable[..., Any], *values: Any) -> None:
    """float64 gradients of sum(fn(*inputs) * w) agree with torch's autograd (w: 1, 2, 3 ...)."""

    def run(lib: Any) -> tuple[Any, list]:
        xs = [lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in values]
        out = fn(lib, *xs)
        w = lib.tensor(np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape)), dtype=lib.float64)
        (out * w).sum().backward()
        return out, [x.grad for x in xs]

    eo, eg = run(ember)
    to, tg = run(torch)
    assert_same(eo, to, "forward")
    for i, (a, b) in enumerate(zip(eg, tg)):
        if b is None:
            assert a is None or not a.numpy().any(), f"grad {i}: torch None, ember {a}"
        else:
            assert a is not None, f"grad {i}: ember None, torch {b}"
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12, err_msg=f"grad {i}")
        COMPARED["gradients"] += 1


def _ix(lib: Any, values: Any) -> Any:
    """An int64 index tensor of ``values`` in lib."""
    return lib.tensor(values, dtype=lib.int64)


X34 = _sample("float64", (3, 4))
X234 = _sample("float64", (2, 3, 4), seed=1)


# -- shape ops over every dtype ----------------------------------------------------------------------
SHAPE_CALLS: list[tuple[str, Callable[..., Any]]] = [
    ("roll", lambda lib, x: lib.roll(x, 1, 0)),
    ("roll tuple", lambda lib, x: lib.roll(x, (2, -5), (0, -1))),
    ("roll flat", lambda lib, x: lib.roll(x, 7)),
    ("roll method", lambda lib, x: x.roll(-1, 1)),
    ("diagonal", lambda lib, x: lib.diagonal(x)),
    ("diagonal offset", lambda lib, x: lib.diagonal(x, 1, 2, 0)),
    ("diagonal neg", lambda lib, x: x.diagonal(-1, -1, -2)),
    ("diagonal past", lambda lib, x: lib.diagonal(x, 9)),
    ("diag_embed", lambda lib, x: lib.diag_embed(x)),
    ("diag_embed dims", lambda lib, x: lib.diag_embed(x, -1, 0, 3)),
    ("diag 2d", lambda lib, x: lib.diag(x[0], 1)),
    ("diag 1d", lambda lib, x: lib.diag(x[0, 0], -2)),
    ("diag 3d", lambda lib, x: lib.diag(x)),
    ("tile", lambda lib, x: lib.tile(x, (2,))),
    ("tile more", lambda lib, x: x.tile((2, 1, 1, 2))),
    ("repeat_interleave", lambda lib, x: lib.repeat_interleave(x, 2)),
    ("repeat_interleave dim", lambda lib, x: x.repeat_interleave(3, dim=1)),
    ("repeat_interleave tensor", lambda lib, x: lib.repeat_interleave(x, _ix(lib, [1, 0, 2]), dim=1)),
    ("repeat_interleave 1-elt", lambda lib, x: lib.repeat_interleave(x, _ix(lib, [2]), dim=0)),
    ("hstack", lambda lib, x: lib.hstack([x, x[:, :1]])),
    ("vstack", lambda lib, x: lib.vstack([x[0], x[1, :1].expand(1, 3, 4)])),
    ("dstack", lambda lib, x: lib.dstack([x[0], x[1]])),
    ("column_stack", lambda lib, x: lib.column_stack([x[0, 0], x[0, :, :2]])),
    ("row_stack", lambda lib, x: lib.row_stack([x[0, 0], x[1, 1]])),
    ("atleast_1d", lambda lib, x: lib.atleast_1d(x[0, 0, 0])),
    ("atleast_2d", lambda lib, x: lib.atleast_2d(x[0, 0])),
    ("atleast_3d", lambda lib, x: lib.atleast_3d(x[0])),
    ("atleast_3d 1d", lambda lib, x: lib.atleast_3d(x[0, 0])),
    ("atleast_3d 0d", lambda lib, x: lib.atleast_3d(x[0, 0, 0])),
    ("atleast several", lambda lib, x: lib.atleast_2d(x[0, 0, 0], x[0, 0], x)),
    ("rot90", lambda lib, x: lib.rot90(x)),
    ("rot90 k", lambda lib, x: lib.rot90(x, 3, (2, 1))),
    ("rot90 neg", lambda lib, x: x.rot90(-2, [0, 2])),
    ("swapaxes", lambda lib, x: lib.swapaxes(x, 0, -1)),
    ("swapdims", lambda lib, x: x.swapdims(1, 2)),
    ("moveaxis", lambda lib, x: lib.moveaxis(x, (0, 1), (2, 0))),
    ("movedim tuples", lambda lib, x: lib.movedim(x, (0, 2), (1, 0))),
    ("movedim lists", lambda lib, x: x.movedim([0], [-1])),
    ("unfold", lambda lib, x: x.unfold(2, 2, 1)),
    ("unfold step", lambda lib, x: x.unfold(-1, 3, 2)),
    ("unfold whole", lambda lib, x: x.unfold(0, 2, 5)),
    ("unfold empty", lambda lib, x: x.unfold(1, 0, 1)),
    ("kron", lambda lib, x: lib.kron(x[0], x[1, :2])),
    ("kron ranks", lambda lib, x: lib.kron(x[0, 0], x[1])),
    ("take_along_dim", lambda lib, x: lib.take_along_dim(x, _ix(lib, [[[0], [3], [1]]]), 2)),
    ("take_along_dim flat", lambda lib, x: lib.take_along_dim(x, _ix(lib, [0, 23, 5]))),
    ("take_along_dim bcast", lambda lib, x: x.take_along_dim(_ix(lib, [[[1, 0, 1, 1]]]), dim=0)),
    ("take_along_dim neg", lambda lib, x: x.take_along_dim(_ix(lib, [[[-1, 0, -2, 1]]]), dim=-1)),
    ("take_along_dim neg flat", lambda lib, x: lib.take_along_dim(x, _ix(lib, [-1, -24, 3]))),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("call", [c for _, c in SHAPE_CALLS], ids=[n for n, _ in SHAPE_CALLS])
def test_shape_ops_over_dtypes(call: Callable, dtype: str) -> None:
    both(call, _sample(dtype, (2, 3, 4)), strict=False)


@pytest.mark.parametrize("call", [c for _, c in SHAPE_CALLS], ids=[n for n, _ in SHAPE_CALLS])
def test_shape_ops_on_views(call: Callable) -> None:
    # a transposed view and a view with a step: the ops read strides, not just shapes
    x = _sample("float32", (4, 3, 2))
    both(lambda lib, x: call(lib, x.permute(2, 1, 0)), x, strict=False)
    y = _sample("float32", (2, 3, 8))
    both(lambda lib, y: call(lib, y[:, :, ::2]), y, strict=False)


def test_meshgrid() -> None:
    a, b, c = _sample("float32", (3,)), _sample("int64", (4,)), _sample("float32", (2,))
    for indexing in ("ij", "xy"):
        both(lambda lib, a, b, i=indexing: lib.meshgrid(a, b, indexing=i), a, b)
        both(lambda lib, a, b, c, i=indexing: lib.meshgrid(a, b, c, indexing=i), a, b, c)
        both(lambda lib, a, b, i=indexing: lib.meshgrid([a, b], indexing=i), a, b)
        both(lambda lib, a, i=indexing: lib.meshgrid(a, indexing=i), a)
    both(lambda lib, a, b: lib.meshgrid(a, b), a, b)  # the default is "ij"
    both(lambda lib, a: lib.meshgrid(a[0], a, indexing="xy"), a)  # a 0-d input
    both(lambda lib, a: lib.meshgrid(a.reshape(3, 1), a), a)  # 2-D: an error in both


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_tril_triu_indices(dtype: str) -> None:
    for row, col, offset in [(3, 3, 0), (3, 4, 1), (4, 3, -1), (4, 4, -5), (3, 3, 7), (0, 3, 0), (5, 2, 2)]:
        for op in ("tril_indices", "triu_indices"):
            both(
                lambda lib, op=op, r=row, c=col, o=offset: getattr(lib, op)(
                    r, c, o, dtype=getattr(lib, dtype)
                )
            )
            both(lambda lib, op=op, r=row, c=col, o=offset: getattr(lib, op)(r, c, offset=o))


def test_repeat_interleave_counts_alone() -> None:
    both(lambda lib: lib.repeat_interleave(_ix(lib, [2, 0, 3, 1])))
    both(lambda lib: lib.repeat_interleave(_ix(lib, [1, 2]), output_size=3))
    both(lambda lib: lib.repeat_interleave(lib.tensor([1, 2], dtype=lib.int32)))


def test_squeeze_unsqueeze_in_place() -> None:
    for lib in (ember, torch):
        x = lib.zeros(2, 1, 3, 1)
        y = x.squeeze_(1)
        assert y is x and tuple(x.shape) == (2, 3, 1), lib.__name__
        x.unsqueeze_(0)
        assert tuple(x.shape) == (1, 2, 3, 1)
        x.squeeze_()
        assert tuple(x.shape) == (2, 3)
        x.unsqueeze_(-1)
        assert tuple(x.shape) == (2, 3, 1)
        COMPARED["values"] += 4
    # through a graph: the gradient flows through the changed shape
    grads_match(lambda lib, x: (x * 2).unsqueeze_(1).squeeze_(0), X34[:1])
    for lib in (ember, torch):  # a leaf that requires grad cannot change its shape in place
        with pytest.raises(RuntimeError):
            lib.ones(1, 2, requires_grad=True).squeeze_()
        COMPARED["raised errors"] += 1


# -- scatter family ------------------------------------------------------------------------------
IDX = np.array([[0, 1, 2, 0], [2, 0, 1, 2]])  # positions along dim 0 of a (3, 4) tensor, one per column
IDX_DUP = np.array([[0, 1, 1, 0], [0, 1, 1, 0], [2, 1, 0, 0]])  # repeated positions


@pytest.mark.parametrize("dtype", DTYPES)
def test_scatter_family_over_dtypes(dtype: str) -> None:
    x, src = _sample(dtype, (3, 4)), _sample(dtype, (3, 4), seed=2)
    calls: list[Callable] = [
        lambda lib, x, s: lib.scatter(x, 0, _ix(lib, IDX), s),
        lambda lib, x, s: x.scatter(1, _ix(lib, [[3, 0], [1, 2], [0, 3]]), s),
        lambda lib, x, s: lib.scatter(x, 0, _ix(lib, IDX), 2),
        lambda lib, x, s: lib.scatter(x, 0, _ix(lib, IDX_DUP), s, reduce="add"),
        lambda lib, x, s: lib.scatter(x, 0, _ix(lib, IDX_DUP), s, reduce="multiply"),
        lambda lib, x, s: lib.scatter_add(x, 0, _ix(lib, IDX_DUP), s),
        lambda lib, x, s: lib.take_along_dim(x, _ix(lib, IDX_DUP), 0),
        lambda lib, x, s: lib.index_add(x, 0, _ix(lib, [2, 0, 2]), s),
        lambda lib, x, s: x.index_add(1, _ix(lib, [3, 3]), s[:, :2], alpha=2),
        lambda lib, x, s: lib.index_copy(x, 0, _ix(lib, [2, 0]), s[:2]),
        lambda lib, x, s: x.index_copy(1, _ix(lib, [1]), s[:, 1:2]),
        lambda lib, x, s: lib.index_fill(x, 1, _ix(lib, [0, 3, 0]), 1),
        lambda lib, x, s: x.index_fill(0, _ix(lib, [-1]), lib.tensor(0)),
        lambda lib, x, s: lib.index_put(x, (_ix(lib, [0, 2]), _ix(lib, [1, 3])), s[0, :2]),
        lambda lib, x, s: lib.index_put(x, (_ix(lib, [1, 1, 0]),), s, accumulate=True),
        lambda lib, x, s: x.index_put((_ix(lib, [2]), _ix(lib, [0, 1])), s[0, 0]),
        lambda lib, x, s: lib.masked_scatter(x, s > s.min() if s.dtype != lib.bool else s, x.flip(0)),
        lambda lib, x, s: x.masked_scatter(lib.tensor([True, False, True, True]), s),
        lambda lib, x, s: lib.put(x, _ix(lib, [0, -1, 5]), s[0, :3]),
        lambda lib, x, s: x.put(_ix(lib, [[1, 1], [11, 1]]), s[:2, :2], accumulate=True),
    ]
    for i, call in enumerate(calls):
        both(call, x, src, what=f"call {i}", strict=False)
    if dtype in ("bool", "float16"):  # torch has no scatter_reduce for these on cpu (prod of bool ...)
        return
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            for d, index in ((0, IDX_DUP), (1, IDX_DUP.T[:3, :2])):
                both(
                    lambda lib, x, s, d=d, i=index, r=reduce, inc=include_self: lib.scatter_reduce(
                        x, d, _ix(lib, i), s, r, include_self=inc
                    ),
                    x,
                    src,
                    what=f"scatter_reduce {reduce} {include_self} dim {d}",
                    strict=False,
                )


def test_scatter_family_gradients() -> None:
    src = _sample("float64", (3, 4), seed=2)
    nodup = np.array([[0, 2, 1, 0], [2, 0, 2, 1]])
    grads_match(lambda lib, x, s: lib.scatter(x, 0, _ix(lib, nodup), s[:2]), X34, src)
    grads_match(lambda lib, x: lib.scatter(x, 1, _ix(lib, [[0, 2], [3, 1], [1, 0]]), 2.5), X34)
    # torch has no derivative for scatter(reduce="add"); its scatter_add is the same sum
    grads_match(
        lambda lib, x, s: (
            lib.scatter(x, 0, _ix(lib, IDX_DUP), s, reduce="add")
            if lib is ember
            else lib.scatter_add(x, 0, _ix(lib, IDX_DUP), s)
        ),
        X34,
        src,
    )
    grads_match(lambda lib, x: lib.take_along_dim(x, _ix(lib, IDX_DUP), 0), X34)
    grads_match(lambda lib, x: lib.take_along_dim(x, _ix(lib, [1, 4, 4, 11])), X34)
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            grads_match(
                lambda lib, x, s, r=reduce, inc=include_self: lib.scatter_reduce(
                    x, 0, _ix(lib, IDX_DUP), s, r, include_self=inc
                ),
                X34,
                src,
            )
    grads_match(lambda lib, x, s: lib.index_add(x, 0, _ix(lib, [2, 0, 2]), s, alpha=-2), X34, src)
    grads_match(lambda lib, x, s: lib.index_copy(x, 1, _ix(lib, [3, 0]), s[:, :2]), X34, src)
    grads_match(lambda lib, x: lib.index_fill(x, 1, _ix(lib, [0, 3]), -1.0), X34)
    grads_match(lambda lib, x, s: lib.index_put(x, (_ix(lib, [0, 2]), _ix(lib, [1, 3])), s[0, :2]), X34, src)
    grads_match(lambda lib, x, s: lib.index_put(x, (_ix(lib, [1, 1]),), s[:2], accumulate=True), X34, src)
    grads_match(lambda lib, x, s: lib.masked_scatter(x, s > 0, s * 3), X34, src)
    grads_match(lambda lib, x, s: lib.put(x, _ix(lib, [0, -1, 5]), s[0, :3]), X34, src)
    grads_match(lambda lib, x, s: lib.put(x, _ix(lib, [5, 5, 1]), s[0, :3], accumulate=True), X34, src)


def test_in_place_scatter_family() -> None:
    src = _sample("float32", (3, 4), seed=2)
    calls: list[Callable] = [
        lambda lib, x, s: x.clone().scatter_(0, _ix(lib, IDX), s),
        lambda lib, x, s: x.clone().scatter_(0, _ix(lib, IDX), 1.5, reduce="add"),
        lambda lib, x, s: x.clone().scatter_reduce_(1, _ix(lib, IDX_DUP), s, "amax"),
        lambda lib, x, s: x.clone().scatter_add_(0, _ix(lib, IDX_DUP), s),
        lambda lib, x, s: x.clone().index_add_(0, _ix(lib, [1]), s[:1]),
        lambda lib, x, s: x.clone().index_copy_(0, _ix(lib, [1]), s[:1]),
        lambda lib, x, s: x.clone().index_fill_(1, _ix(lib, [1]), 3.0),
        lambda lib, x, s: x.clone().index_put_((_ix(lib, [0]), _ix(lib, [1])), s[0, 0]),
        lambda lib, x, s: x.clone().masked_scatter_(s > 0, s),
        lambda lib, x, s: x.clone().put_(_ix(lib, [3]), s[0, :1]),
    ]
    for call in calls:
        both(call, _sample("float32", (3, 4)), src)
    # in place on a view writes through to its base
    for lib in (ember, torch):
        base = lib.zeros(3, 4)
        base[1:].index_fill_(1, _ix(lib, [2]), 7.0)
        assert base.sum().item() == 14.0, lib.__name__
        COMPARED["values"] += 1


def test_scatter_family_errors() -> None:
    x, s = X34, _sample("float64", (3, 4), seed=2)
    calls: list[Callable] = [
        lambda lib, x, s: lib.scatter(x, 0, _ix(lib, [[3, 0]]), s),  # out of range
        lambda lib, x, s: lib.scatter(x, 2, _ix(lib, [[0]]), s),  # dim out of range
        lambda lib, x, s: lib.scatter(x, 0, _ix(lib, [0]), s),  # index dims differ
        lambda lib, x, s: lib.scatter(x, 0, _ix(lib, [[0]]), s, reduce="max"),
        lambda lib, x, s: lib.scatter(x, 0, s.long(), s),  # fine: an int index (negative values raise)
        lambda lib, x, s: lib.scatter(x, 0, s, s),  # a float index
        lambda lib, x, s: lib.scatter_reduce(x, 0, _ix(lib, [[0]]), s, "maximum"),
        lambda lib, x, s: lib.scatter_reduce(x, 0, _ix(lib, [[0]]), s, "max"),  # an alias of amax in both
        lambda lib, x, s: lib.scatter_reduce(x, 0, _ix(lib, [[0, 0, 0, 0, 0]]), s, "sum"),  # index too large
        lambda lib, x, s: lib.take_along_dim(x, _ix(lib, [5]), 0),
        lambda lib, x, s: lib.take_along_dim(x, s, 0),
        lambda lib, x, s: lib.index_add(x, 0, _ix(lib, [0, 1]), s),  # source has 3 rows
        lambda lib, x, s: lib.index_add(x, 0, _ix(lib, [3]), s[:1]),
        lambda lib, x, s: lib.index_add(x, 0, _ix(lib, [[0]]), s[:1]),
        lambda lib, x, s: lib.index_copy(x, 1, _ix(lib, [4]), s[:, :1]),
        lambda lib, x, s: lib.index_fill(x, 0, _ix(lib, [3]), 1.0),
        lambda lib, x, s: lib.index_fill(x, 0, _ix(lib, [0]), lib.ones(2)),
        lambda lib, x, s: lib.index_put(x, (_ix(lib, [3]),), s[0]),
        lambda lib, x, s: lib.index_put(x, (_ix(lib, [0, 1]),), s[:3]),  # values do not broadcast
        lambda lib, x, s: lib.masked_scatter(x, s > -10, s[:2]),  # source too small
        lambda lib, x, s: lib.masked_scatter(x, s, s),  # a float mask
        lambda lib, x, s: lib.put(x, _ix(lib, [12]), s[0, :1]),
        lambda lib, x, s: lib.put(x, _ix(lib, [-13]), s[0, :1]),
        lambda lib, x, s: lib.put(x, _ix(lib, [0, 1]), s[0, :1]),
    ]
    for i, call in enumerate(calls):
        both(call, x, s, what=f"error call {i}")
    # torch reads out of bounds here (no check in take_along_dim's path); Ember names the index
    with pytest.raises(IndexError, match="gather: index 5 is out of bounds for dimension 0 with size 3"):
        ember.take_along_dim(ember.tensor(x), ember.tensor([[5]]), 0)


# -- shape-op gradients and errors -----------------------------------------------------------------
GRADS: list[tuple[str, Callable[..., Any], tuple]] = [
    ("roll", lambda lib, x: lib.roll(x, (1, -2), (0, 1)), (X34,)),
    ("roll flat", lambda lib, x: lib.roll(x, 5), (X34,)),
    ("diagonal", lambda lib, x: lib.diagonal(x, 1, 0, 2), (X234,)),
    ("diagonal neg", lambda lib, x: lib.diagonal(x, -1), (X34,)),
    ("diag_embed", lambda lib, x: lib.diag_embed(x, 1, 0, 2), (X34,)),
    ("diag", lambda lib, x: lib.diag(x, -1), (X34,)),
    ("diag 1d", lambda lib, x: lib.diag(x[0], 2), (X34,)),
    ("tile", lambda lib, x: lib.tile(x, (2, 1, 2)), (X34,)),
    ("repeat_interleave", lambda lib, x: lib.repeat_interleave(x, 2, 1), (X34,)),
    ("repeat_interleave tensor", lambda lib, x: x.repeat_interleave(_ix(lib, [2, 0, 1]), dim=0), (X34,)),
    ("meshgrid", lambda lib, a, b: lib.stack(lib.meshgrid(a, b, indexing="xy")), (X34[0], X34[1, :3])),
    ("hstack", lambda lib, a, b: lib.hstack([a, b]), (X34, X34[:, :1])),
    ("vstack", lambda lib, a, b: lib.vstack([a[0], b]), (X34, X34)),
    ("dstack", lambda lib, a, b: lib.dstack([a, b]), (X34, X34)),
    ("column_stack", lambda lib, a, b: lib.column_stack([a[:, 0], b]), (X34, X34)),
    ("atleast_3d", lambda lib, x: lib.atleast_3d(x[0]) * 1, (X34,)),
    ("rot90", lambda lib, x: lib.rot90(x, 1, (1, 2)), (X234,)),
    ("rot90 k3", lambda lib, x: lib.rot90(x, 3), (X34,)),
    ("swapaxes", lambda lib, x: lib.swapaxes(x, 0, 2), (X234,)),
    ("moveaxis", lambda lib, x: lib.moveaxis(x, (0, 2), (2, 0)), (X234,)),
    ("unfold", lambda lib, x: x.unfold(1, 2, 1), (X34,)),
    ("unfold step", lambda lib, x: x.unfold(-1, 2, 3), (X234,)),
    ("unfold overlapping", lambda lib, x: x.unfold(0, 2, 1).unfold(1, 3, 1), (X34,)),
    ("take_along_dim", lambda lib, x: lib.take_along_dim(x, _ix(lib, [[2, 0, 2, 2]]), 0), (X34,)),
]


@pytest.mark.parametrize("fn,values", [(f, v) for _, f, v in GRADS], ids=[n for n, _, _ in GRADS])
def test_shape_gradients(fn: Callable, values: tuple) -> None:
    grads_match(fn, *values)


def test_diagonal_is_a_view() -> None:
    for lib in (ember, torch):
        x = lib.zeros(3, 3)
        x.diagonal().fill_(2.0)
        x.diagonal(1).add_(1.0)
        assert x.sum().item() == 8.0, lib.__name__
        COMPARED["values"] += 1
    both(lambda lib, x: x.unfold(1, 2, 1).contiguous(), X34)


def test_in_place_ops_through_the_new_views_keep_gradients() -> None:
    # diagonal, unfold and swapaxes are views: an in-place op through them rebuilds the base's history
    def fn(lib: Any, x: Any) -> Any:
        y = x * 1
        y.diagonal(1).mul_(3)
        y.unfold(1, 2, 2).add_(1)
        y.swapaxes(0, 1)[0].mul_(2)
        return y * y

    grads_match(fn, X34)


def test_second_derivatives_through_the_new_ops() -> None:
    # the views' backward closures (diagonal, unfold) are Ember ops themselves: create_graph works
    def second(lib: Any) -> Any:
        x = lib.tensor(X34, requires_grad=True)
        y = (x.diagonal(1) ** 3).sum() + (x.unfold(1, 2, 1) ** 3).sum() + (lib.roll(x, 1, 0) * x).sum()
        y = y + lib.einsum("ij,ij->", x, x) ** 2
        y = y + lib.scatter_reduce(x, 0, lib.tensor(IDX), x[:2], "prod").sum()
        grad = torch.autograd.grad if lib is torch else ember.grad
        (g,) = grad(y, x, create_graph=True)
        (g * g).sum().backward()
        return x.grad

    np.testing.assert_allclose(second(ember).numpy(), second(torch).numpy(), rtol=1e-9, atol=1e-10)
    COMPARED["gradients"] += 1


def test_scatter_reduce_with_large_groups() -> None:
    # thousands of writes into a few positions: the segmented scan takes log2(group) steps
    rng = np.random.default_rng(3)
    src, idx = rng.random((3000, 2)), rng.integers(0, 4, (3000, 2))
    for reduce in ("sum", "mean", "amax", "amin"):
        both(
            lambda lib, x, s, r=reduce: lib.scatter_reduce(x, 0, _ix(lib, idx), s, r, include_self=False),
            np.zeros((4, 2)),
            src,
        )


SHAPE_ERRORS: list[Callable[..., Any]] = [
    lambda lib, x: lib.roll(x, (1, 2), (0,)),
    lambda lib, x: lib.roll(x, (1, 2)),
    lambda lib, x: lib.roll(x, 1, 3),
    lambda lib, x: lib.diagonal(x[0, 0]),
    lambda lib, x: lib.diagonal(x, 0, 1, 1),
    lambda lib, x: lib.diagonal(x, 0, 0, 5),
    lambda lib, x: lib.diag_embed(x, 0, 0, 0),
    lambda lib, x: lib.diag(x),
    lambda lib, x: lib.tile(x, (-1,)),
    lambda lib, x: lib.repeat_interleave(x, -1),
    lambda lib, x: lib.repeat_interleave(x, _ix(lib, [1, 2]), dim=0),
    lambda lib, x: lib.repeat_interleave(x, _ix(lib, [1, -2]), dim=0),
    lambda lib, x: lib.repeat_interleave(x, 2, dim=3),
    lambda lib, x: lib.rot90(x, 1, (0, 0)),
    lambda lib, x: lib.rot90(x, 1, (0,)),
    lambda lib, x: lib.rot90(x[0, 0]),
    lambda lib, x: lib.rot90(x, 1, (0, 3)),
    lambda lib, x: lib.swapaxes(x, 0, 3),
    lambda lib, x: lib.moveaxis(x, (0, 1), (1,)),
    lambda lib, x: lib.moveaxis(x, (0, 0), (1, 2)),
    lambda lib, x: x.unfold(0, 4, 1),
    lambda lib, x: x.unfold(0, 2, 0),
    lambda lib, x: x.unfold(3, 1, 1),
    lambda lib, x: lib.hstack([x, x[0]]),
    lambda lib, x: lib.vstack([x[0], x[0, :2]]),
    lambda lib, x: lib.dstack([x, x[:, :1, :1]]),
    lambda lib, x: lib.column_stack([x[0, 0], x[0, :2]]),
    lambda lib, x: lib.hstack([]),
    lambda lib, x: lib.vstack(()),
    lambda lib, x: lib.dstack([]),
    lambda lib, x: lib.column_stack([]),
    lambda lib, x: lib.kron(x, lib.ones(2, dtype=lib.int64)),  # mixed dtypes: fine in both
    lambda lib, x: lib.tril_indices(-1, 3),
    lambda lib, x: lib.triu_indices(3, -1),
    lambda lib, x: lib.tril_indices(3, 3, dtype=lib.float32),
]


ZERO_DIM: list[Callable[..., Any]] = [
    lambda lib, x: lib.index_add(x, 0, _ix(lib, [0, 0]), lib.tensor([2.0, 3.0])),  # one index at most
    lambda lib, x: lib.index_add(x, 0, _ix(lib, 0), lib.tensor(2.0)),
    lambda lib, x: lib.index_fill(x, 0, _ix(lib, [0]), 5.0),
    lambda lib, x: lib.index_copy(x, 0, _ix(lib, [0]), lib.tensor([4.0])),
    lambda lib, x: lib.scatter(x, 0, _ix(lib, 0), lib.tensor(7.0)),
    lambda lib, x: lib.scatter_reduce(x, 0, _ix(lib, 0), lib.tensor(7.0), "prod"),
    lambda lib, x: lib.take_along_dim(x, _ix(lib, 0), 0),
    lambda lib, x: lib.roll(x, 1),
    lambda lib, x: lib.roll(x, 1, 0),  # a 0-d tensor has no dim 0 to roll
    lambda lib, x: lib.diag_embed(x),
    lambda lib, x: lib.tile(x, ()),
    lambda lib, x: lib.tile(x, (2, 1)),
    lambda lib, x: lib.repeat_interleave(x, 2),
    lambda lib, x: lib.repeat_interleave(x, 2, 0),  # dim given for a 0-d tensor
    lambda lib, x: x.unfold(0, 1, 1),
    lambda lib, x: x.unfold(0, 0, 1),
    lambda lib, x: lib.put(x, _ix(lib, 0), lib.tensor(2.0)),
    lambda lib, x: lib.masked_scatter(x, lib.tensor(True), lib.tensor([5.0])),
    lambda lib, x: lib.kron(x, lib.ones(2)),
    lambda lib, x: lib.tensordot(x, lib.ones(2), 0),
    lambda lib, x: lib.einsum("->", x),
    lambda lib, x: lib.atleast_3d(x),
    lambda lib, x: lib.hstack([x, x]),
    lambda lib, x: lib.column_stack([x, x]),
    lambda lib, x: lib.diag(x),
    lambda lib, x: lib.diagonal(x),
]


def test_zero_dim_inputs() -> None:
    for i, call in enumerate(ZERO_DIM):
        both(call, np.array(1.5, dtype=np.float32), what=f"0-d call {i}")


def test_shape_op_errors() -> None:
    for i, call in enumerate(SHAPE_ERRORS):
        both(call, X234, what=f"error call {i}")


# -- linear algebra --------------------------------------------------------------------------------
EINSUM_CASES: list[tuple[str, tuple[tuple[int, ...], ...]]] = [
    ("ij,jk->ik", ((3, 4), (4, 5))),
    ("ij,jk", ((3, 4), (4, 5))),
    ("bij,bjk->bik", ((2, 3, 4), (2, 4, 5))),
    ("bij,bkj->bik", ((2, 3, 4), (2, 5, 4))),
    ("ii->i", ((4, 4),)),
    ("ii", ((4, 4),)),
    ("iij->j", ((3, 3, 2),)),
    ("iji->ij", ((3, 2, 3),)),
    ("i,i->", ((5,), (5,))),
    ("i,i", ((5,), (5,))),
    ("i,j->ij", ((3,), (4,))),
    ("i,j", ((3,), (4,))),
    ("ij->ji", ((3, 4),)),
    ("ba", ((3, 4),)),
    ("ij->", ((3, 4),)),
    ("ij->j", ((3, 4),)),
    ("...ij,...jk->...ik", ((2, 3, 4), (4, 5))),
    ("...ij,...jk", ((2, 1, 3, 4), (3, 4, 2))),
    ("i...->...", ((3, 2, 4),)),
    ("...i,...i->...", ((2, 3, 4), (3, 4))),
    ("b...,b...->b", ((2, 3, 4), (2, 3, 4))),
    ("abc,cd,de->ae", ((2, 3, 4), (4, 5), (5, 6))),
    ("ab,bc,cd,de->ae", ((2, 3), (3, 4), (4, 5), (5, 2))),
    ("bn,anm,bm->ba", ((2, 3), (4, 3, 5), (2, 5))),
    ("ij,ij,ij->ij", ((2, 3), (2, 3), (2, 3))),
    ("ijk,kji->", ((2, 3, 4), (4, 3, 2))),
    ("i,i,i", ((3,), (3,), (3,))),
    ("ab,cd->abcd", ((2, 3), (2, 2))),
    ("a,b,c->abc", ((2,), (3,), (2,))),
    ("bhqd,bhkd->bhqk", ((2, 2, 3, 4), (2, 2, 5, 4))),
    ("bhqk,bhkd->bhqd", ((2, 2, 3, 5), (2, 2, 5, 4))),
    ("i j , j k -> i k", ((2, 3), (3, 2))),  # spaces are ignored
    ("ij,jk->ik", ((0, 3), (3, 2))),
    ("ij,jk->ik", ((2, 0), (0, 2))),
    ("ij,j->i", ((3, 4), (4,))),
    ("ij,kj->", ((2, 3), (1, 3))),
    ("ij,jk", ((2, 1), (3, 2))),  # a contracted size-1 dim broadcasts
    ("ij,ij->i", ((2, 3), (2, 1))),
    ("bij,bjk->bik", ((1, 2, 3), (4, 3, 2))),  # so does a batch dim
    ("...ij,...jk", ((3, 1, 2, 3), (1, 4, 3, 2))),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES, ids=[e for e, _ in EINSUM_CASES])
def test_einsum_values_and_gradients(eq: str, shapes: tuple) -> None:
    arrays = [_sample("float64", s, seed=i) for i, s in enumerate(shapes)]
    both(lambda lib, *xs: lib.einsum(eq, *xs), *arrays, what=eq)
    both(lambda lib, *xs: lib.einsum(eq, list(xs)), *arrays, what=eq)  # the operands as one list
    for dtype in ("float32", "int64"):
        both(lambda lib, *xs: lib.einsum(eq, *xs), *[a.astype(dtype) for a in arrays], what=f"{eq} {dtype}")
    if all(0 not in s for s in shapes):
        grads_match(lambda lib, *xs: lib.einsum(eq, *xs) * 1, *arrays)


def test_einsum_sublist_form() -> None:
    a, b, c = X34, _sample("float64", (4, 5), seed=1), _sample("float64", (2, 3, 4), seed=2)
    both(lambda lib, a, b: lib.einsum(a, [0, 1], b, [1, 2], [0, 2]), a, b)
    both(lambda lib, a, b: lib.einsum(a, [0, 1], b, [1, 2]), a, b)
    both(lambda lib, a: lib.einsum(a, [1, 1]), a[:, :3])
    both(lambda lib, c, b: lib.einsum(c, [..., 0], b, [0, 1], [..., 1]), c, b)
    both(lambda lib, a, b: lib.einsum(a, [0, 51], b, [51, 26]), a, b)
    both(lambda lib, a, b: lib.einsum(a, [0, 52], b, [52, 1]), a, b)  # out of range: both raise
    grads_match(lambda lib, a, b: lib.einsum(a, [0, 1], b, [1, 2], [2, 0]), a, b)


def test_einsum_errors() -> None:
    a, b = X34, _sample("float64", (5, 2))
    for call in [
        lambda lib, a, b: lib.einsum("ij,jk", a, b),  # j: 4 vs 5
        lambda lib, a, b: lib.einsum("ijk", a),
        lambda lib, a, b: lib.einsum("ij,jk", a),
        lambda lib, a, b: lib.einsum("ij->k", a),
        lambda lib, a, b: lib.einsum("ij->ii", a),
        lambda lib, a, b: lib.einsum("i..j...", a),
        lambda lib, a, b: lib.einsum("ii", a),  # a repeated label on dims of different sizes
        lambda lib, a, b: lib.einsum("i1", a),
        lambda lib, a, b: lib.einsum("ij->i->j", a),
    ]:
        both(call, a, b)


def test_einsum_contraction_order_avoids_huge_intermediates() -> None:
    # left to right, (a, b) first would make an (n, n, n) intermediate; the greedy order contracts
    # b with the vector first and never holds more than n * n elements
    n = 40
    a, b, v = ember.ones(n, n), ember.ones(n, n, n), ember.ones(n)
    from ember.ops import linalg

    sizes: list[int] = []
    original = linalg.matmul

    def counting(x: Any, y: Any) -> Any:
        out = original(x, y)
        sizes.append(out.numel())
        return out

    linalg.matmul = counting
    try:
        out = ember.einsum("ij,jkl,l->ik", a, b, v)
    finally:
        linalg.matmul = original
    assert out.shape == (n, n) and float(out[0, 0].item()) == n * n
    assert sizes and max(sizes) <= n * n, sizes
    COMPARED["values"] += 1


LINALG_CALLS: list[tuple[str, Callable[..., Any], tuple[tuple[int, ...], ...]]] = [
    ("tensordot", lambda lib, a, b: lib.tensordot(a, b), ((2, 3, 4), (3, 4, 2))),
    ("tensordot int", lambda lib, a, b: lib.tensordot(a, b, 1), ((2, 3), (3, 4))),
    ("tensordot 0", lambda lib, a, b: lib.tensordot(a, b, 0), ((2, 3), (2,))),
    ("tensordot lists", lambda lib, a, b: lib.tensordot(a, b, ([2, 0], [0, 1])), ((2, 3, 4), (4, 2, 5))),
    ("tensordot ints", lambda lib, a, b: lib.tensordot(a, b, dims=([1], [0])), ((2, 3), (3, 2))),
    ("kron", lambda lib, a, b: lib.kron(a, b), ((2, 3), (3, 2))),
    ("kron ranks", lambda lib, a, b: lib.kron(a, b), ((3,), (2, 2))),
    ("kron 3d", lambda lib, a, b: a.kron(b), ((2, 1, 2), (3,))),
    ("cross", lambda lib, a, b: lib.cross(a, b, dim=1), ((4, 3), (4, 3))),
    ("cross default", lambda lib, a, b: lib.cross(a, b), ((3, 4), (3, 4))),
    ("cross broadcast", lambda lib, a, b: lib.cross(a, b, dim=-1), ((2, 3), (1, 3))),
    ("cross method", lambda lib, a, b: a.cross(b, 0), ((3, 2), (3, 2))),
    ("linalg-style cross", lambda lib, a, b: lib.cross(a, b, -1), ((3, 3), (3, 3))),
    ("addmm", lambda lib, c, a: lib.addmm(c, a, a.mT), ((3, 3), (3, 4))),
    ("addmm scaled", lambda lib, c, a: lib.addmm(c, a, a.mT, beta=0.5, alpha=-2), ((3,), (3, 4))),
    ("addmm beta 0", lambda lib, c, a: lib.addmm(c, a, a.mT, beta=0), ((3, 1), (3, 4))),
    ("addmm method", lambda lib, c, a: c.addmm(a, a.mT, alpha=3), ((3, 3), (3, 4))),
    ("addmv", lambda lib, c, a: lib.addmv(c, a, a[0]), ((3,), (3, 3))),
    ("addmv scaled", lambda lib, c, a: lib.addmv(c, a, a[0], beta=2, alpha=0.5), ((1,), (3, 3))),
    ("baddbmm", lambda lib, c, a: lib.baddbmm(c, a, a.mT), ((2, 3, 3), (2, 3, 4))),
    ("baddbmm scaled", lambda lib, c, a: lib.baddbmm(c, a, a.mT, beta=-1, alpha=2), ((3, 3), (2, 3, 4))),
    ("baddbmm method", lambda lib, c, a: c.baddbmm(a, a.mT), ((2, 3, 3), (2, 3, 4))),
]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "float16", "bool"])
@pytest.mark.parametrize(
    "fn,shapes", [(f, s) for _, f, s in LINALG_CALLS], ids=[n for n, _, _ in LINALG_CALLS]
)
def test_linalg_values(fn: Callable, shapes: tuple, dtype: str) -> None:
    both(fn, *[_sample(dtype, s, seed=i) for i, s in enumerate(shapes)], strict=False)


@pytest.mark.parametrize(
    "fn,shapes", [(f, s) for _, f, s in LINALG_CALLS], ids=[n for n, _, _ in LINALG_CALLS]
)
def test_linalg_gradients(fn: Callable, shapes: tuple) -> None:
    grads_match(fn, *[_sample("float64", s, seed=i) for i, s in enumerate(shapes)])


def test_addmm_with_beta_zero_ignores_nan() -> None:
    c = np.full((2, 2), np.nan)
    a = _sample("float64", (2, 3))
    both(lambda lib, c, a: lib.addmm(c, a, a.mT, beta=0), c, a)
    both(lambda lib, c, a: lib.addmv(c[0], a.mT, a[0], beta=0), c, a)


def test_in_place_products() -> None:
    a = _sample("float32", (3, 4))
    both(lambda lib, a: lib.ones(3, 3).addmm_(a, a.mT, beta=2), a)
    both(lambda lib, a: lib.ones(3).addmv_(a, a[0], alpha=2), a)
    both(lambda lib, a: lib.ones(1, 3, 3).baddbmm_(a[None], a.mT[None]), a)


def test_linalg_errors() -> None:
    a, b = X34, _sample("float64", (5, 2))
    for call in [
        lambda lib, a, b: lib.tensordot(a, b),
        lambda lib, a, b: lib.tensordot(a, b, 1),
        lambda lib, a, b: lib.tensordot(a, b, ([0], [0, 1])),
        lambda lib, a, b: lib.tensordot(a, b, 3),
        lambda lib, a, b: lib.tensordot(a, b, -1),
        lambda lib, a, b: lib.cross(a, b),
        lambda lib, a, b: lib.cross(a[:, :3], a[:, :3], dim=0),
        lambda lib, a, b: lib.cross(a[:, :3], a[:, :3], dim=2),
        lambda lib, a, b: lib.addmm(a, a, b),
        lambda lib, a, b: lib.addmm(a, a[0], b),
        lambda lib, a, b: lib.addmm(a[:, :1].expand(3, 5), a, a.mT),  # input does not broadcast
        lambda lib, a, b: lib.addmv(a[0], a, b[0]),
        lambda lib, a, b: lib.addmv(a[0], a, a),
        lambda lib, a, b: lib.baddbmm(a, a[None], a[None]),
        lambda lib, a, b: lib.baddbmm(a, a, a.mT),
    ]:
        both(call, a, b)


# -- Tensor.new_* ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_new_factories(dtype: str) -> None:
    x = _sample(dtype, (2, 3))
    calls: list[Callable] = [
        lambda lib, x: x.new_zeros(3, 2),
        lambda lib, x: x.new_zeros((3, 2)),
        lambda lib, x: x.new_zeros([0]),
        lambda lib, x: x.new_ones(2),
        lambda lib, x: x.new_ones((), dtype=lib.float64),
        lambda lib, x: x.new_full((2, 2), 1),
        lambda lib, x: x.new_full([3], True, dtype=lib.int32),
        lambda lib, x: x.new_empty(2, 3).fill_(1).shape,
        lambda lib, x: x.new_empty((4,)).dtype == x.dtype,
        lambda lib, x: x.new_tensor([[1, 0], [0, 1]]),
        lambda lib, x: x.new_tensor(2),
        lambda lib, x: x.new_tensor([1.5], dtype=lib.float64),
        lambda lib, x: x.new_tensor(x),
    ]
    for i, call in enumerate(calls):
        both(call, x, what=f"call {i}", strict=False)
    for lib in (ember, torch):
        t = lib.tensor(x)
        n = t.new_zeros(2, requires_grad=True) if t.dtype.is_floating_point else t.new_zeros(2)
        assert n.requires_grad == t.dtype.is_floating_point and not t.new_tensor(t).requires_grad, (
            lib.__name__
        )
        COMPARED["values"] += 1


def test_new_tensor_copies() -> None:
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.new_tensor(x)
        assert not y.requires_grad and y.grad_fn is None
        y.add_(1)
        assert x.tolist() == [1.0, 2.0], lib.__name__
        COMPARED["values"] += 1


# -- last: the count ---------------------------------------------------------------------------------
def test_the_whole_module_compared_with_torch(incomplete_module_run: str | None) -> None:
    """Written last, so that it runs last: a sweep that compares nothing passes, so the helpers
    count what they compare and a whole run must reach MIN_COMPARISONS."""
    if incomplete_module_run:
        pytest.skip(f"the comparison count is checked on whole runs of this module: {incomplete_module_run}")
    made = sum(COMPARED.values())
    detail = ", ".join(f"{n} {kind}" for kind, n in sorted(COMPARED.items()))
    assert made >= MIN_COMPARISONS, (
        f"{__name__}: a whole run compared Ember with torch {made} times ({detail or 'nothing'}), fewer than "
        f"MIN_COMPARISONS = {MIN_COMPARISONS}: some test compares less than it did; find it and restore its "
        "comparisons, or lower MIN_COMPARISONS if they were removed on purpose"
    )
