"""Manipulation and indexing functions: ``concat``, ``expand_dims``, ``permute_dims``,
``squeeze``, ``take``, ``take_along_axis`` ... with the standard's signatures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import dtypes as _dt
from .. import ops as _ops
from ..tensor import Tensor
from ._dtypes import result_type


def _axis(axis: int, ndim: int, op: str) -> int:
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise IndexError(
            f"{op}: axis {axis} is out of range for {ndim} dimension(s) (use {-ndim} .. {ndim - 1})"
        )
    return axis % ndim


def _axes(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
    """Normalized, checked axes of ``axis`` (None is every axis); duplicates are refused."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = tuple(_axis(a, ndim, op) for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return out


def _common(arrays: Sequence[Tensor], op: str) -> list[Tensor]:
    arrays = list(arrays)
    if not arrays:
        raise ValueError(f"{op}: needs at least one array")
    d = result_type(*arrays)
    return [a if a.dtype is d else a.to(d) for a in arrays]


def broadcast_arrays(*arrays: Tensor) -> tuple[Tensor, ...]:
    """The arrays broadcast against each other, as a tuple."""
    if not arrays:
        return ()
    shape = broadcast_shapes(*(a.shape for a in arrays))
    return tuple(_ops.broadcast_to(a, shape) for a in arrays)


def broadcast_shapes(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape that ``shapes`` broadcast to (ValueError when they do not)."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(-ndim, 0):
        sizes = {s[i] for s in shapes if len(s) >= -i and s[i] != 1}
        if len(sizes) > 1:
            raise ValueError(f"broadcast_shapes: shapes {list(shapes)} do not broadcast (dimension {i})")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def broadcast_to(x: Tensor, /, shape: tuple[int, ...]) -> Tensor:
    """``x`` broadcast to ``shape`` (a view)."""
    shape = tuple(shape)
    if broadcast_shapes(x.shape, shape) != shape:
        raise ValueError(f"broadcast_to: an array of shape {x.shape} cannot broadcast to {shape}")
    return _ops.broadcast_to(x, shape)


def concat(arrays: Sequence[Tensor], /, *, axis: int | None = 0) -> Tensor:
    """The arrays joined along ``axis`` (flattened first when None), promoted to their common
    dtype."""
    arrays = _common(arrays, "concat")
    if axis is None:
        return _ops.cat([a.reshape(-1) for a in arrays], 0)
    _axis(axis, max(arrays[0].ndim, 1), "concat")
    return _ops.cat(arrays, axis)


def expand_dims(x: Tensor, /, axis: int | tuple[int, ...] = 0) -> Tensor:
    """``x`` with new axes of size one at ``axis`` (an int or, since 2025.12, a tuple; positions
    in the result)."""
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    n = x.ndim + len(axes)
    pos = sorted(_axes(axes, n, "expand_dims"))
    shape = list(x.shape)
    for p in pos:
        shape.insert(p, 1)
    return x.reshape(tuple(shape))


def flip(x: Tensor, /, *, axis: Any = None) -> Tensor:
    """``x`` with the order of elements along ``axis`` (every axis when None) reversed."""
    axes = _axes(axis, x.ndim, "flip")
    return _ops.flip(x, axes) if axes else x.clone()


def moveaxis(x: Tensor, source: Any, destination: Any, /) -> Tensor:
    """``x`` with axes ``source`` moved to ``destination``."""
    src = _axes(source, x.ndim, "moveaxis")
    dst = _axes(destination, x.ndim, "moveaxis")
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: source {source!r} and destination {destination!r} differ in length")
    return _ops.moveaxis(x, list(src), list(dst))


def permute_dims(x: Tensor, /, axes: tuple[int, ...]) -> Tensor:
    """``x`` with its axes in the order ``axes`` (a permutation; negative axes allowed)."""
    perm = _axes(tuple(axes), x.ndim, "permute_dims")
    if len(perm) != x.ndim:
        raise ValueError(f"permute_dims: axes {tuple(axes)} is not a permutation of {x.ndim} axes")
    return _ops.permute(x, perm)


def repeat(x: Tensor, repeats: int | Tensor, /, *, axis: int | None = None) -> Tensor:
    """Each element repeated ``repeats`` times (an int or an array of counts) along ``axis``
    (of the flattened array when None)."""
    if axis is None:
        x, axis = x.reshape(-1), 0
    else:
        axis = _axis(axis, x.ndim, "repeat")
    return _ops.repeat_interleave(x, repeats, axis)


def reshape(x: Tensor, /, shape: tuple[int, ...], *, copy: bool | None = None) -> Tensor:
    """``x`` with a new shape (one dimension may be -1). ``copy=False`` raises ValueError when
    the result cannot be a view; ``copy=True`` always copies."""
    shape = tuple(shape)
    if copy is False:
        try:
            return x.view(shape)
        except (RuntimeError, ValueError) as exc:
            raise ValueError(f"reshape: copy=False, but shape {shape} needs a copy of x: {exc}") from exc
    out = x.reshape(shape)
    return out.clone() if copy else out


def roll(x: Tensor, /, shift: int | tuple[int, ...], *, axis: Any = None) -> Tensor:
    """Elements shifted by ``shift`` along ``axis`` (over the flattened array when None)."""
    if axis is None:
        if not isinstance(shift, int):
            shift = sum(shift)
        return _ops.roll(x.reshape(-1), shift).reshape(x.shape)
    return _ops.roll(x, shift, axis)


def squeeze(x: Tensor, /, axis: int | tuple[int, ...]) -> Tensor:
    """``x`` without the size-one axes ``axis``; ValueError for an axis whose size is not one."""
    axes = _axes(axis, x.ndim, "squeeze")
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} has size {x.shape[a]}, not 1 (shape {x.shape})")
    return x.reshape(tuple(s for i, s in enumerate(x.shape) if i not in axes))


def stack(arrays: Sequence[Tensor], /, *, axis: int = 0) -> Tensor:
    """The arrays (of one shape) joined along a new axis, promoted to their common dtype."""
    arrays = _common(arrays, "stack")
    _axis(axis, arrays[0].ndim + 1, "stack")
    return _ops.stack(arrays, axis)


def tile(x: Tensor, repetitions: tuple[int, ...], /) -> Tensor:
    """``x`` repeated ``repetitions`` times along each axis."""
    return _ops.tile(x, tuple(repetitions))


def unstack(x: Tensor, /, *, axis: int = 0) -> tuple[Tensor, ...]:
    """The slices of ``x`` along ``axis``, as a tuple."""
    return tuple(_ops.unbind(x, _axis(axis, x.ndim, "unstack")))


def take(x: Tensor, indices: Tensor, /, *, axis: int | None = None) -> Tensor:
    """Elements of ``x`` at the 1-D integer ``indices`` along ``axis`` (required unless ``x`` is
    1-D); negative indices count from the end."""
    if not isinstance(indices, Tensor) or not indices.dtype.is_integer:
        raise TypeError("take: indices must be an integer array")
    if axis is None:
        if x.ndim != 1:
            raise ValueError(f"take: axis is required for a {x.ndim}-D array")
        axis = 0
    axis = _axis(axis, x.ndim, "take")
    idx = _ops.where(indices < 0, indices + x.shape[axis], indices).to(_dt.int64)
    return _ops.index_select(x, axis, idx)


def take_along_axis(x: Tensor, indices: Tensor, /, *, axis: int = -1) -> Tensor:
    """Elements of ``x`` at ``indices`` (an integer array broadcasting with ``x`` except along
    ``axis``), picked along ``axis``."""
    if not isinstance(indices, Tensor) or not indices.dtype.is_integer:
        raise TypeError("take_along_axis: indices must be an integer array")
    axis = _axis(axis, x.ndim, "take_along_axis")
    idx = _ops.where(indices < 0, indices + x.shape[axis], indices).to(_dt.int64)
    return _ops.take_along_dim(x, idx, axis)

