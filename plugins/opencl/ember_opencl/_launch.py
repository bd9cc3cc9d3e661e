"""Launch helpers shared by the kernel families: output arrays over shared contiguous layouts,
the index type of a launch, dims coalesced and padded to a rank bucket, the tiling of strided
elementwise kernels, and launches over 1-d ranges (through :meth:`ember_opencl._device._Device.launch`,
which sets the arguments and enqueues as one step under the device lock).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ember.layout import StridedLayout, contiguous_strides

from ._array import CLArray

__all__ = [
    "INT_LIMIT",
    "LOCAL",
    "LOCAL_TILED",
    "LOCAL_VEC",
    "bucket_rank",
    "coalesce",
    "contiguous_layout",
    "index_type",
    "launch_1d",
    "launch_n",
    "launch_nd",
    "layout_entry",
    "new_array",
    "pad",
    "tile",
]

RANK_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64)
LOCAL = 256  # fixed work-group size of elementwise kernels (PoCL compiles per local size)
LOCAL_TILED = 8  # work-group size of tiled strided kernels (up to ~512 elements per work-item)
LOCAL_VEC = 64  # work-group size of contiguous elementwise kernels (CHUNK elements per work-item)
#: element counts (and buffer sizes) from here on need 64-bit index arithmetic
INT_LIMIT = 1 << 30

_LAYOUTS: dict[tuple, tuple] = {}  # shape -> (contiguous StridedLayout, numel), shared and immutable


def bucket_rank(r: int) -> int:
    """The rank bucket programs are generated for that holds rank ``r``."""
    for b in RANK_BUCKETS:
        if r <= b:
            return b
    raise NotImplementedError(f"OpenCL backend: rank {r} after coalescing exceeds {RANK_BUCKETS[-1]}")


def coalesce(shape: Sequence[int], strides: Sequence[Sequence[int]]) -> tuple[list[int], list[list[int]]]:
    """Drop size-1 dims and merge adjacent dims that are contiguous with each other in every operand."""
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
    return out_shape, out_strides


def pad(shape: list[int], strides: list[list[int]], rank: int) -> tuple[list[int], list[list[int]]]:
    """Left-pad to ``rank`` dims with size-1, stride-0 dims."""
    k = rank - len(shape)
    return [1] * k + shape, [[0] * k + s for s in strides]


def tile(cshape: Sequence[int], cpu: bool) -> tuple[int, int, int, int, int]:
    """(RB, CB, NRB, NCB, work-items) of a tiled strided kernel over ``cshape`` (rank >= 2): on a
    CPU about 512 elements per work-item (16 x 32 tiles across wide rows, so a transposing copy
    reuses cache lines), keeping enough work-items for every core; one element elsewhere."""
    dr, dl = cshape[-2], cshape[-1]
    outer = math.prod(cshape[:-2])
    if not cpu:
        return (1, 1, dr, dl, outer * dr * dl)
    cb = dl if dl <= 64 else 32
    rb = max(1, min(dr, 512 // cb))
    while rb > 1 and outer * -(-dr // rb) * -(-dl // cb) < 64:
        rb = -(-rb // 2)
    nrb, ncb = -(-dr // rb), -(-dl // cb)
    return (rb, cb, nrb, ncb, outer * nrb * ncb)


def layout_entry(shape: tuple[int, ...]) -> tuple[StridedLayout, int]:
    """(the shared contiguous StridedLayout of ``shape``, its element count)."""
    entry = _LAYOUTS.get(shape) if type(shape) is tuple else None
    if entry is None:
        shape = tuple(int(s) for s in shape)
        entry = (StridedLayout(shape, contiguous_strides(shape), 0), math.prod(shape))
        if len(_LAYOUTS) < 8192:
            _LAYOUTS[shape] = entry
    return entry


def contiguous_layout(shape: tuple[int, ...]) -> StridedLayout:
    """The contiguous layout of ``shape`` (one shared, immutable object per shape)."""
    return layout_entry(shape)[0]


def new_array(dev: Any, shape: tuple[int, ...], dtype: Any) -> CLArray:
    """A fresh contiguous array of ``shape`` and ``dtype`` from device ``dev``'s pool."""
    layout, numel = layout_entry(shape)
    return CLArray(dev.pool.allocate(numel * dtype.itemsize), layout, dtype, dev)


def index_type(n: int, *arrays: Any) -> str:
    """The C index type of a launch over ``n`` items reading ``arrays``: ``int`` when every
    buffer and the launch fit comfortably in 32 bits, else ``long``."""
    big = n >= INT_LIMIT or any(a.alloc.size // a.dtype.itemsize >= INT_LIMIT for a in arrays)
    return "long" if big else "int"


def launch_nd(dev: Any, knl: Any, args: list, gsize: tuple[int, ...], lsize: tuple[int, ...] | None) -> None:
    """Set ``knl``'s arguments and enqueue it on ``dev`` over ``gsize`` in work-groups ``lsize``."""
    dev.launch(knl, args, gsize, lsize)


def launch_1d(dev: Any, knl: Any, args: list, n: int, local: int = LOCAL) -> None:
    """``launch_nd`` over ``n`` work-items (rounded up to whole work-groups of ``local``)."""
    dev.launch(knl, args, ((n + local - 1) // local * local,), (local,))


def launch_n(dev: Any, knl: Any, args: list, n: int) -> None:
    """n heavy work-items: work-groups of 1 when few (so both CPU threads get some), else 16."""
    local = 16 if n >= 256 else 1
    dev.launch(knl, args, (-(-n // local) * local,), (local,))
