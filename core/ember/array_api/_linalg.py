"""The linear algebra functions of the main namespace (``matmul``, ``matrix_transpose``,
``tensordot``, ``vecdot``) and, when :mod:`ember.linalg` exists, the ``linalg`` extension."""

from __future__ import annotations

from collections.abc import Sequence

from .. import ops as _ops
from ..tensor import Tensor
from ._dtypes import promote
from ._manipulation import broadcast_shapes


def matmul(x1: Tensor, x2: Tensor, /) -> Tensor:
    """The matrix product (vectors promoted as in numpy), with the standard's type promotion."""
    a, b = promote(x1, x2, "matmul")
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError("matmul: both arguments must be arrays")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: 0-d arrays have no matrix product; use multiply")
    return _ops.matmul(a, b)


def matrix_transpose(x: Tensor, /) -> Tensor:
    """``x`` with its last two axes swapped (``x.mT``)."""
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose: expected at least 2 dimensions, got shape {x.shape}")
    return x.mT


def tensordot(x1: Tensor, x2: Tensor, /, *, axes: int | tuple[Sequence[int], Sequence[int]] = 2) -> Tensor:
    """The sum of products over the last ``axes`` axes of ``x1`` and the first of ``x2``, or over
    the paired axes ``(axes_x1, axes_x2)``."""
    a, b = promote(x1, x2, "tensordot")
    if isinstance(axes, int):
        if axes < 0:
            raise ValueError(f"tensordot: axes must be non-negative, got {axes}")
        return _ops.tensordot(a, b, axes)
    return _ops.tensordot(a, b, (list(axes[0]), list(axes[1])))


def vecdot(x1: Tensor, x2: Tensor, /, *, axis: int = -1) -> Tensor:
    """The dot product of vectors along ``axis`` of the broadcast arrays: ``sum(conj(x1) * x2)``,
    the first argument conjugated as the standard specifies for complex arrays."""
    a, b = promote(x1, x2, "vecdot")
    shape = broadcast_shapes(a.shape, b.shape)
    if not -len(shape) <= axis < len(shape):
        raise IndexError(f"vecdot: axis {axis} is out of range for the broadcast shape {shape}")
    if a.shape[axis] != b.shape[axis]:
        raise ValueError(f"vecdot: axis {axis} has sizes {a.shape[axis]} and {b.shape[axis]}")
    a, b = _ops.broadcast_to(a, shape), _ops.broadcast_to(b, shape)
    if a.dtype.is_complex:
        a = _ops.conj(a)
    return _ops.sum(a * b, axis, dtype=a.dtype)
