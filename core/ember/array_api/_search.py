"""Searching, set and sorting functions: ``argmax``, ``nonzero``, ``searchsorted``, ``where``,
``count_nonzero``, ``unique_*``, ``sort``, ``argsort``."""

from __future__ import annotations

from typing import Any, NamedTuple

from .. import dtypes as _dt
from .. import ops as _ops
from ..tensor import Tensor
from ._dtypes import promote
from ._manipulation import _axes, _axis


def _arg(name: str, fn: Any, x: Tensor, axis: int | None, keepdims: bool) -> Tensor:
    if x.numel() == 0:
        raise ValueError(f"{name}: the array is empty; there is no {name[3:]} to locate")
    if axis is None:
        out = fn(x.reshape(-1), 0)
        return out.reshape((1,) * x.ndim) if keepdims else out
    return fn(x, _axis(axis, x.ndim, name), keepdims)


def argmax(x: Tensor, /, *, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Indices of the first maximum along ``axis`` (of the flattened array when None)."""
    return _arg("argmax", _ops.argmax, x, axis, keepdims)


def argmin(x: Tensor, /, *, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Indices of the first minimum along ``axis`` (of the flattened array when None)."""
    return _arg("argmin", _ops.argmin, x, axis, keepdims)


def count_nonzero(x: Tensor, /, *, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The number of non-zero elements over ``axis`` (int64)."""
    axes = _axes(axis, x.ndim, "count_nonzero")
    nz = x != 0
    if not axes:
        return nz.to(_dt.int64)
    return _ops.sum(nz, axes, keepdims, dtype=_dt.int64)


def nonzero(x: Tensor, /) -> tuple[Tensor, ...]:
    """The indices of the non-zero elements, one int64 array per axis."""
    if x.ndim == 0:
        raise ValueError("nonzero: a 0-d array has no axes to index; use expand_dims(x) first")
    return tuple(_ops.nonzero(x, as_tuple=True))


def searchsorted(x1: Tensor, x2: Any, /, *, side: str = "left", sorter: Tensor | None = None) -> Tensor:
    """Where to insert ``x2``'s elements in the sorted 1-D ``x1`` to keep it sorted (``side``
    'left' or 'right'; ``sorter`` sorts ``x1``). ``x2`` may be a Python scalar (2025.12)."""
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if x1.ndim != 1:
        raise ValueError(f"searchsorted: x1 must be 1-D, got shape {x1.shape}")
    if not isinstance(x2, Tensor):
        x2 = _ops.tensor(x2, dtype=_dt.result_type_scalar(x1.dtype, x2), device=x1.device)
    a, b = promote(x1, x2, "searchsorted")
    if sorter is not None:
        a = _ops.index_select(a, 0, sorter.to(_dt.int64))
    return _ops.searchsorted(a, b, side=side)


def where(condition: Tensor, x1: Any, x2: Any, /) -> Tensor:
    """Elements of ``x1`` where ``condition`` is true, else of ``x2`` (arrays or Python scalars),
    with the standard's type promotion."""
    if not isinstance(condition, Tensor) or not condition.dtype.is_bool:
        raise TypeError("where: condition must be a bool array")
    if not isinstance(x1, Tensor) and not isinstance(x2, Tensor):
        d = _dt.result_type(x1, x2)
        x1 = _ops.tensor(x1, dtype=d, device=condition.device)
    a, b = promote(x1, x2, "where")
    return _ops.where(condition, a, b)


class UniqueAllResult(NamedTuple):
    """``unique_all``'s result."""

    values: Tensor
    indices: Tensor
    inverse_indices: Tensor
    counts: Tensor


class UniqueCountsResult(NamedTuple):
    """``unique_counts``'s result."""

    values: Tensor
    counts: Tensor


class UniqueInverseResult(NamedTuple):
    """``unique_inverse``'s result."""

    values: Tensor
    inverse_indices: Tensor


def _unique(x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    values, inverse, counts = _ops.unique(x.reshape(-1), sorted=True, return_inverse=True, return_counts=True)
    return values, inverse.reshape(x.shape), counts


def unique_all(x: Tensor, /) -> UniqueAllResult:
    """The sorted unique values of ``x`` (each NaN its own), the index of each one's first
    occurrence in the flattened ``x``, the inverse indices (``x``'s shape) and the counts."""
    values, inverse, counts = _unique(x)
    n = x.numel()
    pos = _ops.arange(n, device=x.device)
    first = _ops.full((values.shape[0],), n, dtype=_dt.int64, device=x.device)
    first = _ops.scatter_reduce(first, 0, inverse.reshape(-1).to(_dt.int64), pos, "amin")
    return UniqueAllResult(values, first, inverse, counts)


def unique_counts(x: Tensor, /) -> UniqueCountsResult:
    """The sorted unique values of ``x`` and how often each occurs."""
    values, _, counts = _unique(x)
    return UniqueCountsResult(values, counts)


def unique_inverse(x: Tensor, /) -> UniqueInverseResult:
    """The sorted unique values of ``x`` and, for each element of ``x``, the index of its value."""
    values, inverse, _ = _unique(x)
    return UniqueInverseResult(values, inverse)


def unique_values(x: Tensor, /) -> Tensor:
    """The sorted unique values of ``x`` (each NaN its own)."""
    return _ops.unique(x.reshape(-1), sorted=True)


def isin(x1: Any, x2: Any, /, *, invert: bool = False) -> Tensor:
    """For each element of ``x1``, whether it occurs in ``x2`` (2025.12); ``invert`` negates."""
    a, b = promote(x1, x2, "isin")
    if not isinstance(a, Tensor):
        a = _ops.tensor(a, dtype=b.dtype, device=b.device)
    if not isinstance(b, Tensor):
        b = _ops.tensor([b], dtype=a.dtype, device=a.device)
    flat = b.reshape(-1)
    if flat.numel() == 0:
        out = _ops.zeros(a.shape, dtype=_dt.bool_, device=a.device)
    else:
        out = (a.reshape(*a.shape, 1) == flat).any(-1)
    return _ops.logical_not(out) if invert else out


def argsort(x: Tensor, /, *, axis: int = -1, descending: bool = False, stable: bool = True) -> Tensor:
    """Indices that sort ``x`` along ``axis`` (stable by default; equal elements keep their order
    in a descending sort too)."""
    if x.ndim == 0:
        return _ops.zeros((), dtype=_dt.int64, device=x.device)
    return _ops.argsort(x, _axis(axis, x.ndim, "argsort"), descending, stable=stable)


def sort(x: Tensor, /, *, axis: int = -1, descending: bool = False, stable: bool = True) -> Tensor:
    """``x`` sorted along ``axis`` (NaNs last)."""
    if x.ndim == 0:
        return x.clone()
    return _ops.sort(x, _axis(axis, x.ndim, "sort"), descending, stable=stable)[0]
