"""Strided layouts: shape, strides and offset arithmetic shared by the core and raw-buffer backends.

All strides and offsets are in *elements*. A raw-buffer backend (OpenCL, most third-party
devices) keeps a :class:`StridedLayout` beside its device allocation and uses these functions
for its views and its kernels' index arithmetic, instead of writing its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "StridedLayout",
    "contiguous_strides",
    "is_contiguous",
    "broadcast_shapes",
    "broadcast_strides",
    "view_strides",
    "numel",
    "StridedBuffer",
]


def numel(shape: tuple[int, ...]) -> int:
    """Number of elements of ``shape``."""
    return math.prod(shape)


def contiguous_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    """C-order strides (in elements) of ``shape``."""
    strides = []
    acc = 1
    for n in reversed(shape):
        strides.append(acc)
        acc *= max(n, 1)
    return tuple(reversed(strides))


def is_contiguous(shape: tuple[int, ...], strides: tuple[int, ...]) -> bool:
    """True when ``strides`` address ``shape`` in C order with no gaps (size-1 dims ignored)."""
    expected = 1
    for n, s in zip(reversed(shape), reversed(strides)):
        if n == 0:
            return True
        if n != 1:
            if s != expected:
                return False
            expected *= n
    return True


_BROADCAST_CACHE: dict[tuple[tuple[int, ...], ...], tuple[int, ...]] = {}


def broadcast_shapes(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The numpy/PyTorch broadcast of ``shapes``; ValueError naming them when they do not."""
    out = _BROADCAST_CACHE.get(shapes)
    if out is not None:
        return out
    ndim = max(len(s) for s in shapes)
    result = [1] * ndim
    for s in shapes:
        for i, n in enumerate(s, ndim - len(s)):
            if n != 1:
                if result[i] != 1 and result[i] != n:
                    shown = " and ".join(str(tuple(x)) for x in shapes)
                    raise ValueError(
                        f"shapes {shown} cannot be broadcast together "
                        f"(dimension {i - ndim}: {result[i]} vs {n})"
                    )
                result[i] = n
    out = tuple(result)
    if len(_BROADCAST_CACHE) < 4096:
        _BROADCAST_CACHE[shapes] = out
    return out


def broadcast_strides(
    shape: tuple[int, ...], strides: tuple[int, ...], out_shape: tuple[int, ...]
) -> tuple[int, ...]:
    """Strides that read an array of ``shape``/``strides`` as if expanded to ``out_shape``."""
    lead = len(out_shape) - len(shape)
    if lead < 0:
        raise ValueError(f"cannot broadcast shape {shape} to {out_shape}")
    result = [0] * lead
    for n, s, m in zip(shape, strides, out_shape[lead:]):
        if n == m:
            result.append(s if n != 1 else 0)
        elif n == 1:
            result.append(0)
        else:
            raise ValueError(f"cannot broadcast shape {shape} to {out_shape}")
    return tuple(result)


def view_strides(
    shape: tuple[int, ...], strides: tuple[int, ...], new_shape: tuple[int, ...]
) -> tuple[int, ...] | None:
    """Strides of ``new_shape`` viewing the same memory, or None if no view can (a copy is needed).

    The algorithm matches PyTorch's ``computeStride``: dims of the old shape are merged into
    chunks that are contiguous with each other, and each chunk is split into new dims.
    """
    if shape == new_shape:
        return strides
    if numel(shape) == 0 or not shape or not new_shape:
        return contiguous_strides(new_shape)  # empty or single-element: any strides address it
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base_stride = strides[-1] if strides else 1
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(len(shape) - 1, -1, -1):
        tensor_numel *= shape[tensor_d]
        if tensor_d == 0 or (
            shape[tensor_d - 1] != 1 and strides[tensor_d - 1] != tensor_numel * chunk_base_stride
        ):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = strides[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    if view_d != -1:
        return None
    return tuple(new_strides)


@dataclass(frozen=True)
class StridedLayout:
    """Shape, strides and offset (elements) of a view into a flat allocation.

    Every method returns a new layout describing a view of the same allocation; none copies.
    """

    shape: tuple[int, ...]
    strides: tuple[int, ...]
    offset: int = 0

    @classmethod
    def contiguous(cls, shape: tuple[int, ...], offset: int = 0) -> StridedLayout:
        """A C-contiguous layout of ``shape``."""
        return cls(tuple(shape), contiguous_strides(tuple(shape)), offset)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    @property
    def numel(self) -> int:
        """Number of elements."""
        return numel(self.shape)

    @property
    def is_contiguous(self) -> bool:
        """C-contiguous with no gaps."""
        return is_contiguous(self.shape, self.strides)

    def span(self) -> tuple[int, int]:
        """(lowest, highest+1) element positions touched, relative to the allocation start."""
        if self.numel == 0:
            return (self.offset, self.offset)
        lo = hi = self.offset
        for n, s in zip(self.shape, self.strides):
            if s > 0:
                hi += (n - 1) * s
            else:
                lo += (n - 1) * s
        return (lo, hi + 1)

    def as_strided(self, shape: tuple[int, ...], strides: tuple[int, ...], offset: int) -> StridedLayout:
        """The view ``as_strided`` describes, ``offset`` relative to this layout's first element."""
        return StridedLayout(tuple(shape), tuple(strides), self.offset + offset)

    def broadcast_to(self, shape: tuple[int, ...]) -> StridedLayout:
        """This layout read as ``shape`` (stride 0 on broadcast dims)."""
        return StridedLayout(
            tuple(shape), broadcast_strides(self.shape, self.strides, tuple(shape)), self.offset
        )

    def permute(self, dims: tuple[int, ...]) -> StridedLayout:
        """Dims reordered."""
        return StridedLayout(
            tuple(self.shape[d] for d in dims), tuple(self.strides[d] for d in dims), self.offset
        )

    def reshape(self, shape: tuple[int, ...]) -> StridedLayout | None:
        """A view with ``shape``, or None when the memory cannot be viewed so."""
        st = view_strides(self.shape, self.strides, tuple(shape))
        return None if st is None else StridedLayout(tuple(shape), st, self.offset)


class StridedBuffer:
    """Base for a raw-buffer backend's array type that keeps a :class:`StridedLayout` in its
    ``layout`` attribute: gives it ``shape``, ``strides`` (elements), ``offset``, ``ndim`` and
    ``size`` from the layout, so a backend's buffer class only adds its allocation and dtype."""

    __slots__ = ()
    layout: StridedLayout

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape."""
        return self.layout.shape

    @property
    def strides(self) -> tuple[int, ...]:
        """Strides in elements (not bytes, unlike numpy)."""
        return self.layout.strides

    @property
    def offset(self) -> int:
        """Position of element [0, ..., 0] in the allocation, in elements."""
        return self.layout.offset

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.layout.shape)

    @property
    def size(self) -> int:
        """Number of elements."""
        return self.layout.numel
