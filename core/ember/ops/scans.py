"""Scans and differences: cumprod, cummax, cummin, logcumsumexp, diff.

All composite. The scans are Hillis-Steele scans along one dim: ``ceil(log2 n)`` rounds, each
combining every element with the one ``shift`` places before it (``shift`` doubling), so they run
on every device as a handful of elementwise ops, and their gradients come from autograd through
those ops (exact even where an input is zero: a product's gradient is never a division).
``cumsum`` is a primitive (``ember.ops.reduction``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import dtypes as _dt
from ..autograd.grad_mode import no_grad
from ._core import Tensor, wrap_dim
from .reduction import ValuesIndices, _in_float32

__all__ = ["cumprod", "cummax", "cummin", "logcumsumexp", "diff"]

Pair = tuple[Tensor, ...]


def _scan(parts: Pair, d: int, combine: Callable[[Pair, Pair], Pair]) -> Pair:
    """Inclusive scan along ``d`` of same-shape tensors ``parts`` with an associative
    ``combine(earlier, later)``."""
    from .joining import cat
    from .shape import narrow

    n = parts[0].shape[d]
    shift = 1
    while shift < n:
        head = tuple(narrow(p, d, 0, shift) for p in parts)
        earlier = tuple(narrow(p, d, 0, n - shift) for p in parts)
        later = tuple(narrow(p, d, shift, n - shift) for p in parts)
        parts = tuple(cat([h, c], d) for h, c in zip(head, combine(earlier, later)))
        shift *= 2
    return parts


def _check_tensor(op: str, x: Any) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")


def cumprod(x: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Cumulative product along ``dim`` (integer and bool inputs in int64, as in PyTorch, unless
    ``dtype`` is given; float16 accumulates in float32). Differentiable, zeros included."""
    from .elementwise import mul

    _check_tensor("cumprod", x)
    d = wrap_dim(dim, x.ndim, "cumprod")
    dt = _dt.as_dtype(dtype) if dtype is not None else (x.dtype if x.dtype._kind >= 2 else _dt.int64)
    x32 = _in_float32(x, dt) if x.shape else None
    if x32 is not None:
        return cumprod(x32, d).to(dt)
    x = x.to(dt) if x.dtype is not dt else x
    if not x.shape or x.numel() == 0:
        return x.clone()
    return _scan((x,), d, lambda a, b: (mul(a[0], b[0]),))[0]


def _cum_extreme(op: str, x: Tensor, dim: int) -> ValuesIndices:
    from .creation import arange, zeros
    from .elementwise import ge, isnan, le, logical_and, logical_not, logical_or, where
    from .sorting import _take

    _check_tensor(op, x)
    d = wrap_dim(dim, x.ndim, op)
    if not x.shape or x.numel() == 0:
        return ValuesIndices(x.clone(), zeros(x.shape, dtype=_dt.int64, device=x.device))
    better = ge if op == "cummax" else le
    floating = x.dtype.is_floating_point

    def combine(a: Pair, b: Pair) -> Pair:
        # the later element wins ties (PyTorch's index is the last one) and NaN wins over numbers;
        # once NaN is met it stays, its index moving to each later NaN
        take = better(b[0], a[0])
        if floating:
            take = logical_or(isnan(b[0]), logical_and(logical_not(isnan(a[0])), take))
        return where(take, b[0], a[0]), where(take, b[1], a[1])

    with no_grad():
        key = x.detach().to(_dt.uint8) if x.dtype.is_bool else x.detach()
        pos = arange(x.shape[d], device=x.device).reshape(tuple(-1 if i == d else 1 for i in range(x.ndim)))
        _, indices = _scan((key, pos.expand(x.shape)), d, combine)
    return ValuesIndices(_take(x, d, indices), indices)


def cummax(x: Tensor, dim: int) -> ValuesIndices:
    """Running maximum along ``dim`` and the index where it was reached (the last of equal
    values); NaN, once met, propagates. Differentiable in the values."""
    return _cum_extreme("cummax", x, dim)


def cummin(x: Tensor, dim: int) -> ValuesIndices:
    """Running minimum along ``dim`` and its index (see :func:`cummax`)."""
    return _cum_extreme("cummin", x, dim)


def logcumsumexp(x: Tensor, dim: int) -> Tensor:
    """``log(cumsum(exp(x)))`` along ``dim``, computed stably (each step adds in log space:
    ``max(a, b) + log1p(exp(-|a - b|))``); floating inputs only, as in PyTorch."""
    from .elementwise import abs, eq, exp, log1p, maximum, where

    _check_tensor("logcumsumexp", x)
    d = wrap_dim(dim, x.ndim, "logcumsumexp")
    if not x.dtype.is_floating_point:
        raise TypeError(
            f"logcumsumexp: expected a floating tensor, got {x.dtype}; use x.float().logcumsumexp(dim)"
        )
    x32 = _in_float32(x, None) if x.shape else None
    if x32 is not None:
        return logcumsumexp(x32, d).to(x.dtype)
    if not x.shape or x.numel() == 0:
        return x.clone()

    def combine(a: Pair, b: Pair) -> Pair:
        # equal operands (both -inf or both inf, where a - b is NaN) add to themselves plus log 2
        tie = eq(a[0], b[0])
        gap = -abs(where(tie, 0.0, a[0]) - where(tie, 0.0, b[0]))
        return (maximum(a[0], b[0]) + log1p(exp(gap)),)

    return _scan((x,), d, combine)[0]


def diff(
    x: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None, append: Tensor | None = None
) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (``out[i] = x[i + 1] - x[i]``, repeated
    ``n`` times), after joining ``prepend`` and ``append`` to x along ``dim``; bool inputs give
    ``x[i + 1] != x[i]``, as in PyTorch. Differentiable."""
    from .elementwise import ne
    from .joining import cat
    from .shape import narrow

    _check_tensor("diff", x)
    if x.ndim == 0:
        raise ValueError("diff: expected a tensor with at least one dim, got a 0-d tensor; use x.reshape(-1)")
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"diff: order n must be a non-negative int, got {n!r}")
    d = wrap_dim(dim, x.ndim, "diff")
    parts = []
    for name, extra in (("prepend", prepend), ("append", append)):
        if extra is not None:
            if not isinstance(extra, Tensor) or extra.ndim != x.ndim:
                raise ValueError(
                    f"diff: {name} must be a tensor with the input's {x.ndim} dims, got "
                    f"{getattr(extra, 'shape', type(extra).__name__)}"
                )
    if prepend is not None:
        parts.append(prepend)
    parts.append(x)
    if append is not None:
        parts.append(append)
    out = cat(parts, d) if len(parts) > 1 else x
    for _ in range(n):
        m = out.shape[d]
        if m == 0:
            break
        later, earlier = narrow(out, d, 1, m - 1), narrow(out, d, 0, m - 1)
        out = ne(later, earlier) if out.dtype.is_bool else later - earlier
    return out if out is not x else x.clone()


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from .records import OpRecord, register
    from .samples import FLOATS, FLOATS16, ErrorSample, Sample, rand_array
    from .sorting import dim_samples

    NUM = ("bool", "uint8", "int32", "int64", "float32", "float64")

    def np_cumprod(x: np.ndarray, dim: int, dtype: Any = None) -> np.ndarray:
        dt = None if x.dtype.kind == "f" else np.int64
        return x.astype(dt or x.dtype).copy() if x.ndim == 0 else np.cumprod(x, axis=dim, dtype=dt)

    def np_cum(ufunc: Any, indices: bool = False) -> Any:
        def ref(x: np.ndarray, dim: int) -> np.ndarray:
            if x.ndim == 0:
                return np.zeros((), np.int64) if indices else x.copy()
            moved = np.moveaxis(x, dim, -1)
            vals = np.empty(moved.shape, x.dtype)
            idx = np.zeros(moved.shape, np.int64)
            for pos in np.ndindex(*moved.shape[:-1]):
                row = moved[pos]
                for j in range(row.shape[0]):
                    if j == 0:
                        vals[pos + (0,)] = row[0]
                        continue
                    a, b = vals[pos + (j - 1,)], row[j]
                    take = (b != b) or (a == a and ufunc(b, a))
                    vals[pos + (j,)] = b if take else a
                    idx[pos + (j,)] = j if take else idx[pos + (j - 1,)]
            return np.moveaxis(idx if indices else vals, -1, dim)

        return ref

    def cum_values(f: Any) -> Any:
        return lambda x, dim: f(x, dim).values

    def cum_indices(f: Any) -> Any:
        return lambda x, dim: f(x, dim).indices

    def cumprod_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        out = dim_samples()(dtype, rng)
        if dtype.startswith("float"):
            x = rand_array(rng, (2, 5), dtype)
            x[0, 2] = 0.0  # the gradient through a zero
            x[1, [1, 3]] = 0.0
            out.append(Sample((x, 1)))
        return out

    def lcse_ref(x: np.ndarray, dim: int) -> np.ndarray:
        if x.ndim == 0:
            return x.copy()
        with np.errstate(invalid="ignore"):
            return np.logaddexp.accumulate(x.astype(np.float64), axis=dim).astype(x.dtype)

    def lcse_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        # gradchecks on two of them: finite differences through every scan round are slow on
        # devices that launch a kernel per op
        out = [
            Sample(smp.args, smp.kwargs, smp.noncontig, smp.grad and i in (0, 3))
            for i, smp in enumerate(dim_samples()(dtype, rng))
        ]
        x = rand_array(rng, (2, 5), dtype, -3, 3)
        x[0, :2] = -np.inf
        x[1, 2] = -50.0
        out.append(Sample((x, 1), grad=False))
        return out

    def diff_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(7),)),
            Sample((a(3, 6),), {"n": 2}),
            Sample((a(3, 6),), {"dim": 0}),
            Sample((a(2, 3, 4),), {"n": 3, "dim": 1}),
            Sample((a(4, 3),), {"dim": 0}, noncontig=True),
            Sample((a(3, 5),), noncontig="flip", grad=False),
            Sample((a(3),), {"n": 5}, grad=False),
            Sample((a(3),), {"n": 0}),
            Sample((a(0, 3),), {"dim": 0}, grad=False),
        ]

    def diff_extra_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [Sample((a(3, 4), a(3, 2), a(3, 1))), Sample((a(5), a(1), a(2)), {"n": 2})]

    def diff_with(x: Tensor, prepend: Tensor, append: Tensor, n: int = 1) -> Tensor:
        return diff(x, n, -1, prepend, append)

    def np_diff(
        x: np.ndarray, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None
    ) -> np.ndarray:
        kw = {k: v for k, v in (("prepend", prepend), ("append", append)) if v is not None}
        return np.diff(x, n, axis=dim, **kw)

    register(
        OpRecord(
            "cumprod",
            cumprod,
            cumprod_samples,
            np_cumprod,
            methods=("cumprod",),
            inplace=("cumprod_",),
            dtypes=NUM,
            errors=(ErrorSample((np.ones((3, 4)), 2), {}, IndexError, "cumprod: dimension 2 out of range"),),
        ),
        OpRecord(
            "cummax",
            cummax,
            dim_samples(),
            np_cum(np.greater_equal),
            call=cum_values(cummax),
            methods=("cummax",),
            dtypes=NUM,
            errors=(ErrorSample((np.ones((3, 4)), -3), {}, IndexError, "cummax: dimension -3 out of range"),),
        ),
        OpRecord(
            "cummax_indices",
            cummax,
            dim_samples(),
            np_cum(np.greater_equal, indices=True),
            call=cum_indices(cummax),
            dtypes=NUM,
            grad=False,
            public=False,
        ),
        OpRecord(
            "cummin",
            cummin,
            dim_samples(),
            np_cum(np.less_equal),
            call=cum_values(cummin),
            methods=("cummin",),
            dtypes=NUM,
        ),
        OpRecord(
            "cummin_indices",
            cummin,
            dim_samples(),
            np_cum(np.less_equal, indices=True),
            call=cum_indices(cummin),
            dtypes=NUM,
            grad=False,
            public=False,
        ),
        OpRecord(
            "logcumsumexp",
            logcumsumexp,
            lcse_samples,
            lcse_ref,
            methods=("logcumsumexp",),
            dtypes=FLOATS16,
            errors=(
                ErrorSample(
                    (np.ones(3, np.int64), 0),
                    {},
                    TypeError,
                    "logcumsumexp: expected a floating tensor, got ember.int64",
                ),
            ),
        ),
        OpRecord(
            "diff",
            diff,
            diff_samples,
            np_diff,
            methods=("diff",),
            dtypes=NUM,
            errors=(
                ErrorSample((np.ones(()),), {}, ValueError, "diff: expected a tensor with at least one dim"),
                ErrorSample((np.ones(3),), {"n": -1}, ValueError, "diff: order n must be a non-negative int"),
            ),
        ),
        OpRecord(
            "diff_prepend_append",
            diff,
            diff_extra_samples,
            lambda x, p, a, n=1: np.diff(x, n, axis=-1, prepend=p, append=a),
            call=diff_with,
            dtypes=FLOATS,
            public=False,
        ),
    )


_records()
