"""Reductions: sum, mean, prod, max/min (values and indices), argmax/argmin, var/std, logsumexp,
all/any, cumsum, norm, and softmax/log_softmax (composites a backend may fuse)."""

from __future__ import annotations

import builtins
import math
from typing import Any, NamedTuple

from .. import dtypes as _dt
from ..dtypes import DType
from ._core import STATE, Tensor, _make, attach, cast_data, kernel, normalize_dims, saved_output, wrap_dim


class ValuesIndices(NamedTuple):
    """(values, indices) returned by max/min/sort-like reductions with a ``dim``."""

    values: Tensor
    indices: Tensor


def _out_shape(shape: tuple[int, ...], dims: tuple[int, ...], keepdim: bool) -> tuple[int, ...]:
    if keepdim:
        return tuple(1 if i in dims else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in dims)


def _unreduce(g: Tensor, shape: tuple[int, ...], dims: tuple[int, ...], keepdim: bool) -> Tensor:
    """Broadcast a reduced gradient back to ``shape``."""
    if not keepdim and dims:
        kshape = tuple(1 if i in dims else n for i, n in enumerate(shape))
        g = g.reshape(kshape)
    return g.expand(shape)


def _reduce(op: str, x: Tensor, dims: tuple[int, ...], keepdim: bool, dtype: DType) -> Tensor:
    shape = _out_shape(x.shape, dims, keepdim)
    if not x.shape:  # 0-d: the reduction is the identity
        return _make(cast_data(x, dtype), (), dtype, x.device) if dtype is not x.dtype else x.clone().detach()
    data = cast_data(x, dtype)
    return _make(kernel(x.device, op)(data, dims, keepdim), shape, dtype, x.device)


def sum(x: Tensor, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """Sum over ``dim`` (all dims when None). Integer and bool inputs sum in int64."""
    dims = normalize_dims(dim, x.ndim, "sum")
    if dtype is not None:
        dt = _dt.as_dtype(dtype)
    else:
        dt = x.dtype if x.dtype.is_floating_point else _dt.int64
    out = _reduce("sum", x, dims, keepdim, dt)
    if x.requires_grad and STATE.enabled:
        shape = x.shape
        attach(out, "sum", lambda g: (_unreduce(g, shape, dims, keepdim).to(x.dtype),), (x,))
    return out


def mean(x: Tensor, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """Mean over ``dim``; floating inputs only (as in PyTorch)."""
    dt = _dt.as_dtype(dtype) if dtype is not None else x.dtype
    if not dt.is_floating_point:
        raise TypeError(
            f"mean: could not infer output dtype; input dtype must be floating point, got "
            f"{x.dtype} (use x.float().mean() or dtype=ember.float32)"
        )
    dims = normalize_dims(dim, x.ndim, "mean")
    n = math.prod(x.shape[d] for d in dims) if x.shape else 1
    s = sum(x.to(dt) if dt is not x.dtype else x, dims, keepdim)
    return s / n if n else s * math.nan


def prod(x: Tensor, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """Product over ``dim`` (int/bool inputs in int64)."""
    if dim is not None and not isinstance(dim, int):
        raise TypeError("prod: dim must be an int or None")
    dims = normalize_dims(dim, x.ndim, "prod")
    dt = _dt.as_dtype(dtype) if dtype is not None else (x.dtype if x.dtype.is_floating_point else _dt.int64)
    out = _reduce("prod", x, dims, keepdim, dt)
    if x.requires_grad and STATE.enabled:
        from .elementwise import eq, where

        o = saved_output(out)

        def grad(g: Tensor) -> tuple[Tensor]:
            # out / x, with zeros handled by recomputing the product of the others
            gx = _unreduce(g * o, x.shape, dims, keepdim)
            safe = where(eq(x, 0), 1.0, x)
            others = _unreduce(prod(safe, dim, keepdim), x.shape, dims, keepdim)
            nz = _unreduce(sum(eq(x, 0).to(x.dtype), dims, keepdim), x.shape, dims, keepdim)
            zero_grad = where(eq(nz, 1), others, 0.0) * _unreduce(g, x.shape, dims, keepdim)
            return (where(eq(x, 0), zero_grad, gx / safe),)

        attach(out, "prod", grad, (x,), (x,), out_alias=o)
    return out


def _check_nonempty(op: str, x: Tensor, dims: tuple[int, ...]) -> None:
    for d in dims:
        if x.shape and x.shape[d] == 0:
            raise ValueError(
                f"{op}: cannot reduce over dimension {d} of size 0 (shape {x.shape}): "
                "the operation has no identity"
            )


def _extreme(op: str, x: Tensor, dim: Any, keepdim: bool) -> Any:
    if dim is None:
        dims = tuple(range(x.ndim))
        _check_nonempty(op, x, dims)
        if x.numel() == 0:
            raise ValueError(f"{op}: the input is empty (shape {x.shape}) and {op} has no identity")
        out = _reduce(op, x, dims, False, x.dtype)
        if x.requires_grad and STATE.enabled:
            from .elementwise import eq

            o = saved_output(out)

            def grad(g: Tensor) -> tuple[Tensor]:
                mask = eq(x, o).to(g.dtype)
                return (mask * (g / sum(mask)),)

            attach(out, op, grad, (x,), (x,), out_alias=o)
        return out
    d = wrap_dim(dim, x.ndim, op)
    _check_nonempty(op, x, (d,))
    values = _reduce(op, x, (d,), keepdim, x.dtype)
    indices = (argmax if op == "max" else argmin)(x, d, keepdim)
    if x.requires_grad and STATE.enabled:
        shape = x.shape

        def grad_v(g: Tensor) -> tuple[Tensor]:
            from .creation import zeros
            from .indexing import scatter_add

            gi = indices if keepdim else indices.unsqueeze(d)
            gg = g if keepdim else g.unsqueeze(d)
            return (scatter_add(zeros(shape, dtype=g.dtype, device=g.device), d, gi, gg),)

        attach(values, op, grad_v, (x,))
    return ValuesIndices(values, indices)


def max(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """Maximum of all elements, or (values, indices) along ``dim``.

    ``max(a, b)`` with a second tensor is the elementwise :func:`ember.maximum`.
    """
    if isinstance(dim, Tensor):
        from .elementwise import maximum

        return maximum(x, dim)
    return _extreme("max", x, dim, keepdim)


def min(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """Minimum of all elements, or (values, indices) along ``dim``."""
    if isinstance(dim, Tensor):
        from .elementwise import minimum

        return minimum(x, dim)
    return _extreme("min", x, dim, keepdim)


def amax(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Maximum over one or more dims (values only); ties share the gradient."""
    return _amax_amin("amax", "max", x, dim, keepdim)


def amin(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Minimum over one or more dims (values only); ties share the gradient."""
    # not -amax(-x): negation wraps around for unsigned and most-negative integers, and bool has none
    return _amax_amin("amin", "min", x, dim, keepdim)


def _amax_amin(name: str, op: str, x: Tensor, dim: Any, keepdim: bool) -> Tensor:
    dims = normalize_dims(dim, x.ndim, name)
    _check_nonempty(name, x, dims)
    out = _reduce(op, x, dims, keepdim, x.dtype)
    if x.requires_grad and STATE.enabled:
        from .elementwise import eq

        o = saved_output(out)

        def grad(g: Tensor) -> tuple[Tensor]:
            mask = eq(x, _unreduce(o, x.shape, dims, keepdim)).to(g.dtype)
            cnt = _unreduce(sum(mask, dims, keepdim), x.shape, dims, keepdim)
            return (mask * _unreduce(g, x.shape, dims, keepdim) / cnt,)

        attach(out, name, grad, (x,), (x,), out_alias=o)
    return out


def _arg(op: str, x: Tensor, dim: Any, keepdim: bool) -> Tensor:
    if dim is None:
        if x.numel() == 0:
            raise ValueError(f"{op}: the input is empty (shape {x.shape})")
        flat = x.reshape(-1)
        return (
            _make(kernel(x.device, op)(flat._data, 0, False), (), _dt.int64, x.device)
            if not keepdim
            else _make(kernel(x.device, op)(flat._data, 0, False), (), _dt.int64, x.device).reshape(
                (1,) * x.ndim
            )
        )
    d = wrap_dim(dim, x.ndim, op)
    _check_nonempty(op, x, (d,))
    if not x.shape:
        return _make(kernel(x.device, "full")((), 0, _dt.int64, x.device.index), (), _dt.int64, x.device)
    return _make(
        kernel(x.device, op)(x._data, d, keepdim), _out_shape(x.shape, (d,), keepdim), _dt.int64, x.device
    )


def argmax(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Index of the first maximum (of the flattened tensor when dim is None)."""
    return _arg("argmax", x, dim, keepdim)


def argmin(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Index of the first minimum."""
    return _arg("argmin", x, dim, keepdim)


def var(
    x: Tensor, dim: Any = None, keepdim: bool = False, correction: float = 1, unbiased: bool | None = None
) -> Tensor:
    """Variance over ``dim`` with ``correction`` (1: unbiased, as PyTorch's default)."""
    if unbiased is not None:
        correction = 1 if unbiased else 0
    dims = normalize_dims(dim, x.ndim, "var")
    n = math.prod(x.shape[d] for d in dims) if x.shape else 1
    mu = mean(x, dims, keepdim=True)
    d = x - mu
    return sum(d * d, dims, keepdim) / builtins.max(n - correction, 0)


def std(
    x: Tensor, dim: Any = None, keepdim: bool = False, correction: float = 1, unbiased: bool | None = None
) -> Tensor:
    """Standard deviation over ``dim`` with ``correction``."""
    from .elementwise import sqrt

    return sqrt(var(x, dim, keepdim, correction, unbiased))


def logsumexp(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, computed stably."""
    from .elementwise import exp, isinf, log, where

    dims = normalize_dims(dim, x.ndim, "logsumexp")
    m = amax(x, dims, keepdim=True).detach()
    m = where(isinf(m), 0.0, m)
    out = log(sum(exp(x - m), dims, keepdim=True)) + m
    return out if keepdim else out.squeeze(dims) if dims else out


def all(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """True where every element over ``dim`` is nonzero."""
    from .elementwise import logical_not

    return logical_not(any(logical_not(x), dim, keepdim))


def any(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """True where some element over ``dim`` is nonzero."""
    from .elementwise import gt, ne

    xb = x if x.dtype.is_bool else ne(x, 0)
    dims = normalize_dims(dim, x.ndim, "any")
    if "any" in x.device.kernels:
        return _reduce("any", xb, dims, keepdim, _dt.bool_)
    return gt(sum(xb, dims, keepdim), 0)


def cumsum(x: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Cumulative sum along ``dim`` (int/bool inputs in int64)."""
    d = wrap_dim(dim, x.ndim, "cumsum")
    dt = _dt.as_dtype(dtype) if dtype is not None else (x.dtype if x.dtype.is_floating_point else _dt.int64)
    if not x.shape:
        return x.to(dt).clone()
    out = _make(kernel(x.device, "cumsum")(cast_data(x, dt), d), x.shape, dt, x.device)
    if x.requires_grad and STATE.enabled:
        attach(out, "cumsum", lambda g: (cumsum(g.flip(d), d).flip(d),), (x,))
    return out


def norm(x: Tensor, p: Any = 2, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Vector p-norm over ``dim`` (p = 2, 1, inf, -inf, 0 or any positive number); "fro" is 2."""
    from .elementwise import abs, ne, pow, sqrt

    if p == "fro" or p is None:
        p = 2
    if not x.dtype.is_floating_point:
        raise TypeError(f"norm: expected a floating tensor, got {x.dtype}")
    if p == 2:
        return sqrt(sum(x * x, dim, keepdim))
    if p == 1:
        return sum(abs(x), dim, keepdim)
    if p == math.inf:
        return amax(abs(x), dim, keepdim)
    if p == -math.inf:
        return amin(abs(x), dim, keepdim)
    if p == 0:
        return sum(ne(x, 0).to(x.dtype), dim, keepdim)
    return pow(sum(pow(abs(x), p), dim, keepdim), 1.0 / p)


def _fused_along_dim(op: str, x: Tensor, d: int, grad: Any) -> Tensor | None:
    """``op`` through the backend's optional fused kernel, if it has one, with ``grad(g, out)``
    as the backward; None when the device has no such kernel (the caller composes it)."""
    k = x.device.kernels.get(op)
    if k is None or not x.dtype.is_floating_point:
        return None
    out = _make(k(x._data, d), x.shape, x.dtype, x.device)
    if x.requires_grad and STATE.enabled:
        o = saved_output(out)
        attach(out, op, lambda g: (grad(g, o),), (x,), (o,), out_alias=o)
    return out


def softmax(x: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, stable (the max is subtracted first)."""
    from .elementwise import exp

    if dtype is not None:
        x = x.to(dtype)
    d = wrap_dim(dim, x.ndim, "softmax")
    out = _fused_along_dim("softmax", x, d, lambda g, o: o * (g - sum(g * o, d, keepdim=True)))
    if out is not None:
        return out
    e = exp(x - amax(x, d, keepdim=True).detach())
    return e / sum(e, d, keepdim=True)


def log_softmax(x: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along ``dim``, stable."""
    from .elementwise import exp

    if dtype is not None:
        x = x.to(dtype)
    d = wrap_dim(dim, x.ndim, "log_softmax")
    out = _fused_along_dim("log_softmax", x, d, lambda g, o: g - exp(o) * sum(g, d, keepdim=True))
    if out is not None:
        return out
    return x - logsumexp(x, d, keepdim=True)
