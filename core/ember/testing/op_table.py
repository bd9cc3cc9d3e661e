"""The op table: one record per op (sample inputs, numpy reference, dtypes, gradient support).

It drives the forward tests, gradchecks and coverage report on every device, and backend authors
run it against their own device with ``pytest --pyargs ember.testing --ember-device=mydev``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import ember

FLOATS = ("float32", "float64")
FLOATS16 = ("float16", "float32", "float64")
INTS = ("int32", "int64")
SIGNED = ("int8", "int16", "int32", "int64")
ALL_INT = ("uint8", "int8", "int16", "int32", "int64")
NUMERIC = ("float32", "float64", "int32", "int64")
ALL = ("bool",) + ALL_INT + FLOATS16


@dataclass
class Sample:
    """One call: positional args (numpy arrays become tensors, anything else passes through) and
    keyword args; ``noncontig`` makes tensor args non-contiguous views with the same values."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    noncontig: bool = False
    grad: bool = True  # use this sample in gradchecks

    def describe(self) -> str:
        """A short id for test names."""
        parts = [
            ("x".join(map(str, a.shape)) or "0d") if isinstance(a, np.ndarray) else repr(a) for a in self.args
        ]
        kw = ",".join(f"{k}={v}" for k, v in self.kwargs.items())
        return "-".join(parts) + (f"-{kw}" if kw else "") + ("-nc" if self.noncontig else "")


@dataclass
class OpSpec:
    """An op under test.

    fn: calls the op on ember tensors; ref: the same on numpy arrays; samples(dtype, rng) builds
    inputs; dtypes: dtype names the op supports; grad: differentiable in its float args.
    """

    name: str
    fn: Callable[..., Any]
    ref: Callable[..., Any]
    samples: Callable[[str, np.random.Generator], list[Sample]]
    dtypes: tuple[str, ...] = FLOATS
    grad: bool = True
    atol: float = 1e-5
    rtol: float = 1e-4
    primitive: str | None = None  # the kernel name the op exercises, for coverage


def _rand(
    rng: np.random.Generator, shape: tuple[int, ...], dtype: str, low: float = -2.0, high: float = 2.0
) -> np.ndarray:
    if dtype == "bool":
        return np.asarray(rng.random(shape) > 0.5)
    if dtype.startswith("float"):
        return np.asarray(rng.uniform(low, high, size=shape), dtype=dtype)
    lo = 0 if dtype == "uint8" else max(int(low * 4), -8)
    hi = max(int(high * 4), 1)
    return np.asarray(rng.integers(lo, hi, size=shape), dtype=dtype)


def unary_samples(low: float = -2.0, high: float = 2.0) -> Callable[[str, np.random.Generator], list[Sample]]:
    """Samples for unary ops: 0-d, empty, 1-D, 2-D, 3-D and a non-contiguous view."""

    def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample((_rand(rng, (), dtype, low, high),)),
            Sample((_rand(rng, (0,), dtype, low, high),), grad=False),
            Sample((_rand(rng, (5,), dtype, low, high),)),
            Sample((_rand(rng, (3, 4), dtype, low, high),)),
            Sample((_rand(rng, (2, 3, 2), dtype, low, high),), grad=False),
            Sample((_rand(rng, (4, 3), dtype, low, high),), noncontig=True),
        ]

    return make


def binary_samples(
    low: float = -2.0,
    high: float = 2.0,
    rhs_low: float | None = None,
    rhs_high: float | None = None,
    scalar: Any = 1.5,
) -> Callable[..., list[Sample]]:
    """Samples for binary ops: equal shapes, broadcasting both ways, 0-d, empty, scalars, views."""
    rl = low if rhs_low is None else rhs_low
    rh = high if rhs_high is None else rhs_high

    def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(shape: tuple[int, ...]) -> np.ndarray:
            return _rand(rng, shape, dtype, low, high)

        def b(shape: tuple[int, ...]) -> np.ndarray:
            return _rand(rng, shape, dtype, rl, rh)

        s = scalar if dtype.startswith("float") else (2 if dtype != "bool" else True)
        return [
            Sample((a((3, 4)), b((3, 4)))),
            Sample((a((3, 4)), b((4,)))),
            Sample((a((2, 1, 4)), b((3, 1)))),
            Sample((a(()), b((3,)))),
            Sample((a((0, 3)), b((3,))), grad=False),
            Sample((a((3, 2)), s)),
            Sample((s, b((3, 2)))),
            Sample((a((4, 3)), b((4, 3))), noncontig=True),
        ]

    return make


def reduction_samples(
    dim_kw: str = "dim",
    keepdim: bool = True,
    multi: bool = True,
    low: float = -2.0,
    high: float = 2.0,
    allow_empty: bool = True,
) -> Callable[..., list[Sample]]:
    """Samples for reductions: all dims, one dim (positive and negative), several dims, keepdim,
    0-d, an empty reduced-away dim, and a non-contiguous input."""

    def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(shape: tuple[int, ...]) -> np.ndarray:
            return _rand(rng, shape, dtype, low, high)

        out = [
            Sample((a((3, 4)),)),
            Sample((a((3, 4)),), {dim_kw: 0}),
            Sample((a((2, 3, 4)),), {dim_kw: -1}),
            Sample((a(()),), grad=False),
            Sample((a((4, 3)),), {dim_kw: 1}, noncontig=True),
        ]
        if keepdim:
            out.append(Sample((a((2, 3, 4)),), {dim_kw: 1, "keepdim": True}))
        if multi:
            out.append(Sample((a((2, 3, 4)),), {dim_kw: (0, 2)}))
        if allow_empty:
            out.append(Sample((a((0, 3)),), {dim_kw: 1}, grad=False))
        return out

    return make


def _np_kw(kwargs: dict, mapping: dict[str, str] | None = None) -> dict:
    mapping = mapping or {"dim": "axis", "keepdim": "keepdims"}
    return {mapping.get(k, k): v for k, v in kwargs.items()}


_erf = np.frompyfunc(math.erf, 1, 1)


def np_erf(x: np.ndarray) -> np.ndarray:
    """Reference error function (exact, elementwise)."""
    return (
        np.asarray(_erf(x), dtype=np.float64).astype(x.dtype)
        if np.ndim(x)
        else np.asarray(math.erf(float(x)), dtype=x.dtype)
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _float_out(x: np.ndarray) -> np.ndarray:
    return x if x.dtype.kind == "f" else x.astype(np.float32)


def _logsumexp(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True) if x.size else 0
    r = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=axis) if axis is not None else r.reshape(())


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _gather_ref(x: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
    sl = tuple(slice(None) if d == dim else slice(0, n) for d, n in enumerate(index.shape))
    return np.take_along_axis(x[sl], index, axis=dim)


def _scatter_add_ref(x: np.ndarray, dim: int, index: np.ndarray, src: np.ndarray) -> np.ndarray:
    out = x.copy()
    idx = list(np.indices(index.shape, sparse=True))
    idx[dim] = index
    np.add.at(out, tuple(idx), src)
    return out


def _index_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
    x = _rand(rng, (4, 5), dtype)
    return [
        Sample((x, 0, rng.integers(0, 4, size=(3, 5)).astype(np.int64))),
        Sample((x, 1, rng.integers(0, 5, size=(4, 2)).astype(np.int64))),
        Sample((_rand(rng, (3, 4), dtype), 1, rng.integers(0, 4, size=(2, 3)).astype(np.int64))),
    ]


def _scatter_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
    return [
        Sample(
            (
                _rand(rng, (4, 5), dtype),
                0,
                rng.integers(0, 4, size=(3, 5)).astype(np.int64),
                _rand(rng, (3, 5), dtype),
            )
        ),
        Sample(
            (
                _rand(rng, (4, 5), dtype),
                1,
                rng.integers(0, 5, size=(4, 3)).astype(np.int64),
                _rand(rng, (4, 3), dtype),
            )
        ),
    ]


def _matmul_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
    def a(*s: int) -> np.ndarray:
        return _rand(rng, s, dtype, -1, 1)

    return [
        Sample((a(3, 4), a(4, 5))),
        Sample((a(2, 3, 4), a(4, 2))),
        Sample((a(2, 1, 3, 4), a(3, 4, 2))),
        Sample((a(4), a(4, 3))),
        Sample((a(3, 4), a(4))),
        Sample((a(4), a(4))),
        Sample((a(0, 4), a(4, 3)), grad=False),
        Sample((a(3, 0), a(0, 2)), grad=False),
        Sample((a(5, 3), a(3, 5)), noncontig=True),
        Sample((a(17, 33), a(33, 65)), grad=False),
    ]


def _shape_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
    return [Sample((_rand(rng, (2, 3, 4), dtype),)), Sample((_rand(rng, (4, 6), dtype),), noncontig=True)]


def _index_expr_samples(key: Any) -> Callable[..., list[Sample]]:
    def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample((_rand(rng, (4, 5, 3), dtype),)),
            Sample((_rand(rng, (5, 4, 3), dtype),), noncontig=True),
        ]

    return make


def _cat_fn(*xs: Any, dim: int = 0) -> Any:
    return ember.cat(list(xs), dim) if isinstance(xs[0], ember.Tensor) else np.concatenate(list(xs), dim)


def _stack_fn(*xs: Any, dim: int = 0) -> Any:
    return ember.stack(list(xs), dim) if isinstance(xs[0], ember.Tensor) else np.stack(list(xs), dim)


def _cat_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
    return [
        Sample((_rand(rng, (2, 3), dtype), _rand(rng, (4, 3), dtype)), {"dim": 0}),
        Sample((_rand(rng, (2, 3), dtype), _rand(rng, (2, 1), dtype), _rand(rng, (2, 2), dtype)), {"dim": 1}),
        Sample((_rand(rng, (3, 2), dtype), _rand(rng, (3, 2), dtype)), {"dim": -1}, noncontig=True),
    ]


def _stack_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
    return [
        Sample((_rand(rng, (2, 3), dtype), _rand(rng, (2, 3), dtype)), {"dim": 0}),
        Sample((_rand(rng, (2, 3), dtype), _rand(rng, (2, 3), dtype)), {"dim": 2}),
    ]


def _where_fn(c: Any, a: Any, b: Any) -> Any:
    return ember.where(c, a, b) if isinstance(c, ember.Tensor) else np.where(c, a, b)


def _where_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
    return [
        Sample((rng.random((3, 4)) > 0.5, _rand(rng, (3, 4), dtype), _rand(rng, (3, 4), dtype))),
        Sample((rng.random((3, 1)) > 0.5, _rand(rng, (1, 4), dtype), _rand(rng, (3, 4), dtype))),
        Sample(
            (rng.random((4, 3)) > 0.5, _rand(rng, (4, 3), dtype), _rand(rng, (4, 3), dtype)), noncontig=True
        ),
    ]


def _call(name: str) -> Callable[..., Any]:
    f = getattr(ember, name)
    return lambda *a, **k: f(*a, **k)


def _method(name: str) -> Callable[..., Any]:
    return lambda x, *a, **k: getattr(x, name)(*a, **k)


def _u(
    name: str,
    ref: Callable[..., Any],
    dtypes: tuple[str, ...] = FLOATS,
    low: float = -2.0,
    high: float = 2.0,
    grad: bool = True,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    primitive: str | None = None,
    fn: Callable[..., Any] | None = None,
) -> OpSpec:
    return OpSpec(
        name, fn or _call(name), ref, unary_samples(low, high), dtypes, grad, atol, rtol, primitive or name
    )


def _b(
    name: str,
    ref: Callable[..., Any],
    dtypes: tuple[str, ...] = NUMERIC,
    grad: bool = True,
    fn: Callable[..., Any] | None = None,
    **kw: Any,
) -> OpSpec:
    return OpSpec(name, fn or _call(name), ref, binary_samples(**kw), dtypes, grad, primitive=name)


def _r(
    name: str,
    ref: Callable[..., Any],
    dtypes: tuple[str, ...] = FLOATS,
    grad: bool = True,
    fn: Callable[..., Any] | None = None,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    **kw: Any,
) -> OpSpec:
    return OpSpec(name, fn or _call(name), ref, reduction_samples(**kw), dtypes, grad, atol, rtol, name)


def _int_sum(x: np.ndarray, **kw: Any) -> np.ndarray:
    return np.sum(x, dtype=None if x.dtype.kind == "f" else np.int64, **_np_kw(kw))


def _np_var(x: np.ndarray, **kw: Any) -> np.ndarray:
    return np.var(x, ddof=1, **_np_kw(kw))


def _np_std(x: np.ndarray, **kw: Any) -> np.ndarray:
    return np.std(x, ddof=1, **_np_kw(kw))


def _np_max_values(x: np.ndarray, dim: Any = None, keepdim: bool = False) -> np.ndarray:
    return np.max(x, axis=dim, keepdims=keepdim)


def _ember_max_values(x: Any, dim: Any = None, keepdim: bool = False) -> Any:
    r = ember.max(x, dim, keepdim) if dim is not None else ember.max(x)
    return r.values if dim is not None else r


def _ember_min_values(x: Any, dim: Any = None, keepdim: bool = False) -> Any:
    r = ember.min(x, dim, keepdim) if dim is not None else ember.min(x)
    return r.values if dim is not None else r


def _norm_ref(x: np.ndarray, dim: Any = None, keepdim: bool = False) -> np.ndarray:
    return np.sqrt(np.sum(x * x, axis=dim, keepdims=keepdim))


OPS: list[OpSpec] = [
    # -- unary elementwise --------------------------------------------------------------------
    _u("neg", np.negative, NUMERIC + ("int8",)),
    _u("abs", np.abs, NUMERIC + ("int8",)),
    _u("exp", np.exp, FLOATS16),
    _u("expm1", np.expm1),
    _u("log", np.log, low=0.1, high=3.0),
    _u("log1p", np.log1p, low=-0.5, high=3.0),
    _u("log2", np.log2, low=0.1, high=3.0),
    _u("sqrt", np.sqrt, FLOATS16, low=0.1, high=3.0),
    _u("rsqrt", lambda x: 1 / np.sqrt(x), low=0.1, high=3.0),
    _u("sin", np.sin),
    _u("cos", np.cos),
    _u("tanh", np.tanh),
    _u("sigmoid", _sigmoid),
    _u("erf", np_erf),
    _u("relu", lambda x: np.maximum(x, 0).astype(x.dtype), NUMERIC),
    _u("gelu", lambda x: (0.5 * x * (1 + np_erf(x / math.sqrt(2)))).astype(x.dtype)),
    _u("silu", lambda x: x * _sigmoid(x)),
    _u("floor", np.floor, grad=False),
    _u("ceil", np.ceil, grad=False),
    _u("round", np.round, grad=False),
    _u("trunc", np.trunc, grad=False),
    _u("sign", np.sign, NUMERIC, grad=False),
    _u("reciprocal", lambda x: 1 / x, low=0.5, high=3.0),
    _u("square", np.square, NUMERIC),
    _u("isnan", np.isnan, FLOATS, grad=False),
    _u("logical_not", np.logical_not, ("bool", "int32", "float32"), grad=False),
    _u("bitwise_not", np.invert, ("bool", "int32", "int64", "uint8"), grad=False),
    _u("clamp", lambda x: np.clip(x, -0.5, 0.7), NUMERIC, fn=lambda x: ember.clamp(x, -0.5, 0.7)),
    # -- binary elementwise ---------------------------------------------------------------------
    _b("add", np.add, ALL_INT + FLOATS16),
    _b("sub", np.subtract, SIGNED + FLOATS),
    _b("mul", np.multiply, ALL_INT + FLOATS16),
    _b("div", lambda a, b: np.true_divide(a, b), FLOATS, rhs_low=0.5, rhs_high=2.0),
    _b("pow", np.power, FLOATS, low=0.5, high=2.0),
    _b("maximum", np.maximum, NUMERIC),
    _b("minimum", np.minimum, NUMERIC),
    _b("eq", np.equal, ALL, grad=False),
    _b("ne", np.not_equal, NUMERIC, grad=False),
    _b("lt", np.less, NUMERIC, grad=False),
    _b("le", np.less_equal, NUMERIC, grad=False),
    _b("gt", np.greater, NUMERIC, grad=False),
    _b("ge", np.greater_equal, NUMERIC, grad=False),
    _b("bitwise_and", np.bitwise_and, ("bool", "uint8", "int32", "int64"), grad=False),
    _b("bitwise_or", np.bitwise_or, ("bool", "int32", "int64"), grad=False),
    _b("bitwise_xor", np.bitwise_xor, ("bool", "int32", "int64"), grad=False),
    _b("logical_and", np.logical_and, ("bool", "float32"), grad=False),
    _b(
        "floor_divide",
        np.floor_divide,
        ("int32", "int64", "float32", "float64"),
        grad=False,
        rhs_low=0.5,
        rhs_high=3.0,
    ),
    _b(
        "remainder",
        np.remainder,
        ("int32", "int64", "float32", "float64"),
        grad=False,
        rhs_low=0.5,
        rhs_high=3.0,
    ),
    OpSpec("where", _where_fn, _where_fn, _where_samples, NUMERIC + ("bool",), True, primitive="where"),
    # -- reductions ----------------------------------------------------------------------------
    _r("sum", _int_sum, ("float32", "float64", "int32", "int64", "bool")),
    _r("mean", lambda x, **k: np.mean(x, **_np_kw(k)), allow_empty=False),
    _r("prod", lambda x, **k: np.prod(x, **_np_kw(k)), multi=False),
    _r("amax", lambda x, **k: np.max(x, **_np_kw(k)), NUMERIC, allow_empty=False),
    _r("amin", lambda x, **k: np.min(x, **_np_kw(k)), NUMERIC, allow_empty=False),
    _r("max", _np_max_values, NUMERIC, fn=_ember_max_values, multi=False, allow_empty=False),
    _r(
        "min",
        lambda x, dim=None, keepdim=False: np.min(x, axis=dim, keepdims=keepdim),
        NUMERIC,
        fn=_ember_min_values,
        multi=False,
        allow_empty=False,
    ),
    _r(
        "argmax",
        lambda x, dim=None, keepdim=False: np.argmax(x, axis=dim, keepdims=keepdim),
        NUMERIC,
        grad=False,
        multi=False,
        allow_empty=False,
    ),
    _r(
        "argmin",
        lambda x, dim=None, keepdim=False: np.argmin(x, axis=dim, keepdims=keepdim),
        NUMERIC,
        grad=False,
        multi=False,
        allow_empty=False,
    ),
    _r("var", _np_var, allow_empty=False),
    _r("std", _np_std, allow_empty=False),
    _r("logsumexp", lambda x, dim=None, keepdim=False: _logsumexp(x, dim, keepdim), allow_empty=False),
    _r("norm", _norm_ref, fn=lambda x, dim=None, keepdim=False: ember.norm(x, 2, dim, keepdim)),
    _r("any", lambda x, **k: np.any(x, **_np_kw(k)), ("bool", "float32", "int64"), grad=False),
    _r("all", lambda x, **k: np.all(x, **_np_kw(k)), ("bool", "float32", "int64"), grad=False),
    OpSpec(
        "cumsum",
        lambda x, dim: ember.cumsum(x, dim),
        lambda x, dim: np.cumsum(x, axis=dim, dtype=None if x.dtype.kind == "f" else np.int64),
        lambda dt, rng: [
            Sample((_rand(rng, (3, 4), dt), 1)),
            Sample((_rand(rng, (3, 4), dt), 0)),
            Sample((_rand(rng, (4, 3), dt), 0), noncontig=True),
        ],
        NUMERIC,
        primitive="cumsum",
    ),
    OpSpec(
        "softmax",
        lambda x, dim: ember.softmax(x, dim),
        _softmax,
        lambda dt, rng: [Sample((_rand(rng, (3, 5), dt), 1)), Sample((_rand(rng, (2, 3, 4), dt), 0))],
    ),
    OpSpec(
        "log_softmax",
        lambda x, dim: ember.log_softmax(x, dim),
        lambda x, dim: np.log(_softmax(x, dim)),
        lambda dt, rng: [Sample((_rand(rng, (3, 5), dt), 1)), Sample((_rand(rng, (2, 3, 4), dt), -1))],
    ),
    # -- linear algebra -------------------------------------------------------------------------
    OpSpec(
        "matmul",
        _call("matmul"),
        np.matmul,
        _matmul_samples,
        ("float32", "float64", "int64"),
        atol=1e-4,
        primitive="matmul",
    ),
    # -- indexing --------------------------------------------------------------------------------
    OpSpec("gather", _call("gather"), _gather_ref, _index_samples, NUMERIC, primitive="gather"),
    OpSpec(
        "scatter_add",
        _call("scatter_add"),
        _scatter_add_ref,
        _scatter_samples,
        NUMERIC,
        primitive="scatter_add",
    ),
    OpSpec(
        "index_select",
        lambda x, d, i: ember.index_select(x, d, i),
        lambda x, d, i: np.take(x, i, d),
        lambda dt, rng: [
            Sample((_rand(rng, (4, 5), dt), 1, np.array([0, 4, 4, 1]))),
            Sample((_rand(rng, (4, 5), dt), 0, np.array([3, 0]))),
        ],
        NUMERIC,
    ),
    OpSpec(
        "getitem_basic",
        lambda x: x[1:, None, ::2, -1],
        lambda x: x[1:, None, ::2, -1],
        _index_expr_samples(None),
        ALL,
    ),
    OpSpec(
        "getitem_int_tensor",
        lambda x: x[ember.tensor([0, 2, -1], device=x.device)],
        lambda x: x[np.array([0, 2, -1])],
        _index_expr_samples(None),
        NUMERIC,
    ),
    OpSpec(
        "getitem_two_tensors",
        lambda x: x[:, ember.tensor([0, 2], device=x.device), ember.tensor([1, 0], device=x.device)],
        lambda x: x[:, np.array([0, 2]), np.array([1, 0])],
        _index_expr_samples(None),
        NUMERIC,
    ),
    OpSpec("getitem_mask", lambda x: x[x > 0], lambda x: x[x > 0], _index_expr_samples(None), FLOATS),
    OpSpec(
        "masked_fill",
        lambda x: ember.masked_fill(x, x > 0.5, -1.0),
        lambda x: np.where(x > 0.5, -1.0, x).astype(x.dtype),
        unary_samples(),
        FLOATS,
    ),
    # -- shape -----------------------------------------------------------------------------------
    OpSpec("reshape", lambda x: x.reshape(-1, 2), lambda x: x.reshape(-1, 2), _shape_samples, ALL),
    OpSpec(
        "permute", lambda x: x.permute(*reversed(range(x.ndim))), lambda x: x.transpose(), _shape_samples, ALL
    ),
    OpSpec(
        "expand",
        lambda x: x[None].expand(3, *x.shape),
        lambda x: np.broadcast_to(x, (3,) + x.shape),
        _shape_samples,
        NUMERIC,
    ),
    OpSpec("flip", lambda x: x.flip(0), lambda x: np.flip(x, 0), _shape_samples, NUMERIC),
    OpSpec(
        "repeat",
        lambda x: x.repeat(2, *([1] * (x.ndim - 1))),
        lambda x: np.tile(x, (2,) + (1,) * (x.ndim - 1)),
        _shape_samples,
        NUMERIC,
    ),
    OpSpec(
        "transpose_contiguous",
        lambda x: x.transpose(0, 1).contiguous(),
        lambda x: np.swapaxes(x, 0, 1),
        _shape_samples,
        ALL,
    ),
    OpSpec("cat", _cat_fn, _cat_fn, _cat_samples, NUMERIC + ("bool",)),
    OpSpec("stack", _stack_fn, _stack_fn, _stack_samples, NUMERIC),
    OpSpec("tril", lambda x: ember.tril(x), lambda x: np.tril(x), _shape_samples, FLOATS),
    OpSpec(
        "cast_int",
        lambda x: x.to(ember.int32),
        lambda x: x.astype(np.int32),
        unary_samples(),
        FLOATS + INTS + ("bool",),
        grad=False,
        primitive="cast",
    ),
    OpSpec(
        "cast_float",
        lambda x: x.to(ember.float64),
        lambda x: x.astype(np.float64),
        unary_samples(),
        ALL,
        grad=False,
        primitive="cast",
    ),
]

OPS_BY_NAME: dict[str, OpSpec] = {op.name: op for op in OPS}


def to_ember(sample: Sample, dtype_name: str, device: Any, requires_grad: bool = False) -> tuple[list, dict]:
    """Tensors for a sample on ``device`` (non-contiguous views when the sample says so)."""
    args: list[Any] = []
    for a in sample.args:
        if isinstance(a, np.ndarray):
            grad = requires_grad and a.dtype.kind == "f"
            if sample.noncontig and a.ndim >= 2:
                t = ember.tensor(np.ascontiguousarray(a.T), device=device).T
            elif sample.noncontig and a.ndim == 1:
                t = ember.tensor(np.repeat(a, 2), device=device)[::2]
            else:
                t = ember.tensor(a, device=device)
            if grad:
                t = t.detach().requires_grad_(True)
            args.append(t)
        else:
            args.append(a)
    return args, dict(sample.kwargs)


def cast_sample(sample: Sample, dtype_name: str) -> Sample:
    """The sample with float args cast to ``dtype_name`` (index args stay int64)."""
    args = tuple(
        a.astype(dtype_name) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in sample.args
    )
    return Sample(args, sample.kwargs, sample.noncontig, sample.grad)


def tolerance(dtype_name: str, spec: OpSpec) -> tuple[float, float]:
    """(atol, rtol) for comparing an op's result in ``dtype_name`` with the reference."""
    if dtype_name == "float16":
        return 2e-2, 2e-2
    if dtype_name == "float32":
        return max(spec.atol, 1e-5), max(spec.rtol, 1e-4)
    return 1e-9 if spec.atol <= 1e-5 else spec.atol, 1e-7
