"""Statistical and utility functions: ``sum``, ``prod``, ``mean``, ``std``, ``var``, ``max``,
``min``, ``cumulative_sum``, ``cumulative_prod``, ``all``, ``any``, ``diff``. ``axis`` is None,
an int or a tuple of ints; ``axis=()`` reduces over nothing (PyTorch reads ``dim=()`` as every
dimension, so the namespace handles it before calling Ember)."""

from __future__ import annotations

import builtins
from typing import Any

from .. import dtypes as _dt
from .. import ops as _ops
from ..tensor import Tensor
from ._dtypes import check_dtype
from ._manipulation import _axes, _axis


def _sum_dtype(x: Tensor, dtype: Any, op: str) -> _dt.DType:
    """The standard's accumulation dtype: integers (and bool) narrower than int64 widen to int64
    (Ember has no uint64, so unsigned ones go to int64 too); real and complex floats keep theirs."""
    if dtype is not None:
        return check_dtype(dtype, op)
    return x.dtype if x.dtype.is_floating_point or x.dtype.is_complex else _dt.int64


def _reduce(x: Tensor, axis: Any, keepdims: bool, op: str, fn: Any, nothing: Any, **kw: Any) -> Tensor:
    """``fn(x, axes, keepdims, **kw)`` over the checked ``axis``; ``nothing(x)`` when there is no
    axis to reduce (a 0-d ``x`` or ``axis=()``), where each element is its own result."""
    axes = _axes(axis, x.ndim, op)
    if x.ndim == 0 or (not axes and axis is not None):
        return nothing(x)
    return fn(x, axes, keepdims, **kw)


def sum(x: Tensor, /, *, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """The sum over ``axis`` in ``dtype`` (by default int64 for integers and bool)."""
    d = _sum_dtype(x, dtype, "sum")
    return _reduce(x, axis, keepdims, "sum", _ops.sum, lambda t: t.to(d, copy=True), dtype=d)


def prod(x: Tensor, /, *, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Tensor:
    """The product over ``axis`` in ``dtype`` (by default int64 for integers and bool)."""
    d = _sum_dtype(x, dtype, "prod")
    return _reduce(x, axis, keepdims, "prod", _prod_axes, lambda t: t.to(d, copy=True), dtype=d)


def _prod_axes(x: Tensor, axes: tuple[int, ...], keepdims: bool, dtype: _dt.DType) -> Tensor:
    # Ember's prod reduces one dimension at a time: the highest first keeps the others' numbers
    out = x.to(dtype)
    for a in sorted(axes, reverse=True):
        out = _ops.prod(out, a, keepdims, dtype=dtype)
    return out


def _float_only(x: Tensor, op: str) -> None:
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating array, got {x.dtype}; use astype(x, float64) first")


def mean(x: Tensor, /, *, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The arithmetic mean over ``axis`` (real or complex floating arrays; NaN for an empty
    reduction)."""
    if not x.dtype.is_complex:
        _float_only(x, "mean")
    return _reduce(x, axis, keepdims, "mean", _ops.mean, Tensor.clone)


def _moment(name: str, fn: Any, x: Tensor, axis: Any, correction: float, keepdims: bool) -> Tensor:
    _float_only(x, name)
    axes = _axes(axis, x.ndim, name)
    if x.ndim == 0 or (not axes and axis is not None):
        # one element per result: (x - x)^2 / (1 - correction) keeps NaN and infinity as NaN
        dev = x - x
        return dev * dev / builtins.max(1 - correction, 0)
    return fn(x, axes, keepdim=keepdims, correction=correction)


def std(x: Tensor, /, *, axis: Any = None, correction: float = 0.0, keepdims: bool = False) -> Tensor:
    """The standard deviation over ``axis`` with ``correction`` (0: population, 1: sample)."""
    return _moment("std", _ops.std, x, axis, correction, keepdims)


def var(x: Tensor, /, *, axis: Any = None, correction: float = 0.0, keepdims: bool = False) -> Tensor:
    """The variance over ``axis`` with ``correction`` (0: population, 1: sample)."""
    return _moment("var", _ops.var, x, axis, correction, keepdims)


def _extreme(name: str, fn: Any, x: Tensor, axis: Any, keepdims: bool) -> Tensor:
    axes = _axes(axis, x.ndim, name)
    if x.ndim == 0 or (not axes and axis is not None):
        return x.clone()
    if builtins.any(x.shape[a] == 0 for a in axes):
        raise ValueError(
            f"{name}: reduction over an empty axis of an array of shape {x.shape} has no identity"
        )
    return fn(x, axes, keepdims)


def max(x: Tensor, /, *, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """The largest values over ``axis`` (values only; NaN propagates)."""
    return _extreme("max", _ops.amax, x, axis, keepdims)


def min(x: Tensor, /, *, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """The smallest values over ``axis`` (values only; NaN propagates)."""
    return _extreme("min", _ops.amin, x, axis, keepdims)


def _cumulative(
    name: str, fn: Any, start: int, x: Tensor, axis: int | None, dtype: Any, include_initial: bool
) -> Tensor:
    if axis is None:
        if x.ndim > 1:
            raise ValueError(f"{name}: axis is required for a {x.ndim}-D array")
        x = x.reshape(-1)
        axis = 0
    axis = _axis(axis, x.ndim, name)
    d = _sum_dtype(x, dtype, name)
    out = fn(x.to(d), axis) if x.numel() else x.to(d, copy=True)
    if include_initial:
        shape = list(x.shape)
        shape[axis] = 1
        out = _ops.cat([_ops.full(tuple(shape), start, dtype=d, device=x.device), out], axis)
    return out


def cumulative_sum(
    x: Tensor, /, *, axis: int | None = None, dtype: Any = None, include_initial: bool = False
) -> Tensor:
    """Running sums along ``axis`` (optional for 1-D input); ``include_initial`` puts the zero in
    front."""
    return _cumulative("cumulative_sum", _ops.cumsum, 0, x, axis, dtype, include_initial)


def cumulative_prod(
    x: Tensor, /, *, axis: int | None = None, dtype: Any = None, include_initial: bool = False
) -> Tensor:
    """Running products along ``axis`` (optional for 1-D input); ``include_initial`` puts the one
    in front."""
    return _cumulative("cumulative_prod", _ops.cumprod, 1, x, axis, dtype, include_initial)


def all(x: Tensor, /, *, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether every element over ``axis`` is true (non-zero)."""
    b = x if x.dtype.is_bool else x != 0  # bool out for every dtype (Ember keeps uint8's)
    return _reduce(b, axis, keepdims, "all", _ops.all, Tensor.clone)


def any(x: Tensor, /, *, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether some element over ``axis`` is true (non-zero)."""
    b = x if x.dtype.is_bool else x != 0  # bool out for every dtype (Ember keeps uint8's)
    return _reduce(b, axis, keepdims, "any", _ops.any, Tensor.clone)


def diff(
    x: Tensor, /, *, axis: int = -1, n: int = 1, prepend: Tensor | None = None, append: Tensor | None = None
) -> Tensor:
    """The ``n``-th discrete difference along ``axis``, after joining ``prepend``/``append``."""
    axis = _axis(axis, x.ndim, "diff")
    if n < 0:
        raise ValueError(f"diff: n must be non-negative, got {n}")
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        from ._manipulation import concat

        x = concat(parts, axis=axis)
    for _ in range(n):
        if x.shape[axis] == 0:
            break
        x = _ops.narrow(x, axis, 1, x.shape[axis] - 1) - _ops.narrow(x, axis, 0, x.shape[axis] - 1)
    return x if n else x.clone()
