"""Strided layouts: shape, strides and offset arithmetic shared by the core and raw-buffer backends.

All strides and offsets are in *elements*. A raw-buffer backend (OpenCL, most third-party
devices) keeps a :class:`StridedLayout` beside its device allocation and uses these functions
for its views and its kernels' index arithmetic, instead of writing its own. Three helpers
serve a kernel launch: :func:`merge_dims` (fewer loop levels), :func:`split_reduction` (the kept
and reduced dims of a reduction) and :func:`scalar_to_bytes` (a Python scalar as the bytes of a
kernel argument of an Ember dtype, integers wrapped as in C, float16 as IEEE half).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "StridedLayout",
    "contiguous_strides",
    "is_contiguous",
    "broadcast_shapes",
    "broadcast_strides",
    "view_strides",
    "numel",
    "StridedBuffer",
    "merge_dims",
    "ReductionSplit",
    "split_reduction",
    "wrap_integer",
    "scalar_to_bytes",
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


# -- kernel launch helpers ------------------------------------------------------------------------


def merge_dims(
    shape: Sequence[int], *strides: Sequence[int]
) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]:
    """Fewer loop levels for a kernel over ``shape``: size-1 dims dropped, and adjacent dims merged
    where they are contiguous with each other in every operand (the outer one's stride is the inner
    one's stride times the inner size; negative and 0 strides merge by the same rule).

    ``strides`` holds one stride tuple per operand, each as long as ``shape``. Returns the merged
    shape and each operand's merged strides, in order: ``merge_dims((2, 3, 4), (12, 4, 1), (0, 0,
    1))`` gives ``((6, 4), ((4, 1), (0, 1)))``. Every operand visits the same elements in the same
    order as before; a shape whose dims are all size 1 merges to ``()``. Raises ValueError naming
    the operand whose strides do not match the shape.
    """
    shape = tuple(shape)
    for i, st in enumerate(strides):
        if len(st) != len(shape):
            raise ValueError(
                f"merge_dims: operand {i} has {len(st)} strides {tuple(st)} for the {len(shape)} dims of "
                f"shape {shape}; pass one stride per dim for every operand"
            )
    out_shape: list[int] = []
    out_strides: list[list[int]] = [[] for _ in strides]
    for j, n in enumerate(shape):
        if n == 1:
            continue
        if out_shape and all(st[-1] == s[j] * n for st, s in zip(out_strides, strides)):
            out_shape[-1] *= n
            for st, s in zip(out_strides, strides):
                st[-1] = s[j]
        else:
            out_shape.append(n)
            for st, s in zip(out_strides, strides):
                st.append(s[j])
    return tuple(out_shape), tuple(tuple(st) for st in out_strides)


@dataclass(frozen=True)
class ReductionSplit:
    """How a reduction walks its input (see :func:`split_reduction`).

    kept: the kept dims of the input, in order, with the input's offset: output element ``i``
        (C order over ``kept.shape``) reads from ``kept``'s position of ``i`` ...
    reduced: ... plus each position of ``reduced`` (the reduced dims, in order; offset 0).
    out_shape: the result's shape (reduced dims dropped, or size 1 with ``keepdim``).
    """

    kept: StridedLayout
    reduced: StridedLayout
    out_shape: tuple[int, ...]

    @property
    def n_out(self) -> int:
        """Number of output elements."""
        return numel(self.out_shape)

    @property
    def n_reduced(self) -> int:
        """Number of input elements folded into each output element."""
        return self.reduced.numel


def split_reduction(
    layout: StridedLayout, dims: int | Sequence[int], keepdim: bool = False, merge: bool = True
) -> ReductionSplit:
    """Split ``layout`` into the dims a reduction over ``dims`` keeps and the dims it reduces.

    With ``merge`` (the default) each group is passed through :func:`merge_dims`, so a kernel
    loops over as few levels as the memory allows: a contiguous (a, b, c) reduced over dim 1
    becomes kept (a, c) strides (b*c, 1), reduced (b,) stride (c,). The output is a fresh
    C-contiguous buffer, so merging the kept dims needs only the input's strides. Negative dims
    count from the end, as in the core; repeated or out-of-range dims raise ValueError naming
    them. An empty ``dims`` keeps every dim (reduced is then 0-d, one element).
    """
    ndim = len(layout.shape)
    given = (dims,) if isinstance(dims, int) else tuple(dims)
    norm = []
    for d in given:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise ValueError(
                f"split_reduction: dim {d} is out of range for a {ndim}-d layout of shape {layout.shape} "
                f"(valid: {-max(ndim, 1)} .. {max(ndim, 1) - 1})"
            )
        norm.append(d % ndim if ndim else 0)
    if len(set(norm)) != len(norm):
        raise ValueError(f"split_reduction: dims {given} name a dim twice (normalised: {tuple(norm)})")
    red = sorted(norm) if ndim else []
    kept = [d for d in range(ndim) if d not in red]
    kshape = tuple(layout.shape[d] for d in kept)
    kstr = tuple(layout.strides[d] for d in kept)
    rshape = tuple(layout.shape[d] for d in red)
    rstr = tuple(layout.strides[d] for d in red)
    if merge:
        kshape, (kstr,) = merge_dims(kshape, kstr)
        rshape, (rstr,) = merge_dims(rshape, rstr)
    if keepdim:
        out_shape = tuple(1 if d in red else n for d, n in enumerate(layout.shape))
    else:
        out_shape = tuple(layout.shape[d] for d in kept)
    return ReductionSplit(
        StridedLayout(kshape, kstr, layout.offset), StridedLayout(rshape, rstr, 0), out_shape
    )


def _as_dtype(dtype: Any) -> Any:
    from .dtypes import as_dtype

    return as_dtype(dtype)


def wrap_integer(value: int, dtype: Any) -> int:
    """``value`` wrapped into the range of the integer ``dtype`` (an Ember dtype or its name) as C
    does: modulo 2**bits, then two's complement for a signed type (``wrap_integer(300, "uint8")``
    is 44, ``wrap_integer(128, "int8")`` is -128). Core already wraps the scalars it hands to
    kernels this way; this is for the values a backend computes itself. Raises TypeError for a
    dtype that is not an integer type."""
    dt = _as_dtype(dtype)
    if not dt.is_integer:
        raise TypeError(f"wrap_integer: {dt.name} is not an integer dtype; use scalar_to_bytes for it")
    v = int(value)
    bits = 8 * dt.itemsize
    lo = -(1 << (bits - 1)) if dt.is_signed else 0
    if lo <= v < lo + (1 << bits):
        return v
    v &= (1 << bits) - 1
    return v - (1 << bits) if dt.is_signed and v >= 1 << (bits - 1) else v


def scalar_to_bytes(value: bool | int | float, dtype: Any) -> bytes:
    """The bytes of ``value`` as one element of ``dtype`` (an Ember dtype or its name), in this
    machine's byte order: what a kernel argument or a fill pattern of that dtype holds.

    bool: one byte, 1 for a true value; integers: wrapped as in C (:func:`wrap_integer`), so
    ``scalar_to_bytes(300, "uint8") == bytes([44])``; floating: rounded to the dtype, float16 as
    IEEE half (``scalar_to_bytes(1.0, "float16") == b"\\x00\\x3c"`` on a little-endian machine),
    overflowing to inf as a cast does. A float for an integer dtype truncates toward zero; NaN or
    inf there raises ValueError naming the value and dtype.
    """
    dt = _as_dtype(dtype)
    if dt.is_bool:
        return b"\x01" if value else b"\x00"
    if dt.is_integer:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"scalar_to_bytes: {value!r} has no {dt.name} value; pass a finite number")
        return wrap_integer(int(value), dt).to_bytes(dt.itemsize, sys.byteorder, signed=dt.is_signed)
    with np.errstate(over="ignore"):
        return np.asarray(float(value), dtype=dt.numpy).tobytes()
