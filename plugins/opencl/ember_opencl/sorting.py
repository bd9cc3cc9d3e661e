"""The optional ``sort`` kernel: a stable ascending segmented sort along one dim, in OpenCL C.

Every row (one coordinate of all the other dims) is sorted on its own. Each element becomes an
*item*: an unsigned key whose integer order is the value order, and the element's position in
its row, which breaks every tie, so the order is total and a sorting network gives the stable
sort. Keys:

* integers: the two's complement bits with the sign bit flipped (bool and uint8 as they are);
* floats (read as raw bits, so float16 and float64 need no device support beyond storage): the
  sign-magnitude bits folded onto an unsigned order; -0.0 is keyed as +0.0 (they compare equal and
  keep their input order) and every NaN, whatever its sign and payload, gets the largest key, after
  +inf, the NaNs keeping their order among themselves.

Items of 8-, 16- and 32-bit dtypes pack into one ``ulong`` (key in the high half, position in the
low half), so a comparison is one integer compare; 64-bit dtypes use ``ulong2`` (key, position).
A row is padded to a power of two P with sentinel items (the largest key, positions >= the row's
length) that sort after everything, NaN included, and are never written out.

Rows of at most one block (:func:`block_size` items, what local memory holds: 2048 on a CPU,
fewer on a GPU with small local memory) are sorted by one work-group each, a bitonic network in
local memory (``sort_block``). Longer rows run the same kernel on blocks of the row (sorted in
alternating directions, so neighbouring blocks form bitonic sequences) into a work buffer, then for
each merge size k = 2B .. P the compare-exchange steps of distance >= B go through global memory
(``merge_global``, one launch per step) and the remaining steps through local memory again
(``merge_local``). The last kernel of a row writes the outputs: the indices, and the values read
from the input at those indices (so they are the input's bits exactly).

Inputs that are not contiguous are copied contiguous first (as the line kernels of
:mod:`ember_opencl.reductions` do); rows are then lines of a contiguous (outer, L, inner) array.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import pyopencl as cl
from ember import dtypes

from ._array import CLArray
from ._launch import INT_LIMIT, new_array
from ._signature import KernelSignature, Param, Program
from .memory import contiguous

__all__ = ["block_size", "gen_sort_program", "sort"]

#: most items one work-group sorts in local memory
BLOCK_MAX = 2048
#: most work-items of a sorting work-group (each handles Bk / 2 / WG compare-exchanges a step)
WG_MAX = 256

#: storage type of each dtype as the sort reads it: raw bits for floats, so the values are copied
#: exactly and keys come from the bit patterns
_STORAGE = {
    "bool": "uchar",
    "uint8": "uchar",
    "int8": "char",
    "int16": "short",
    "int32": "int",
    "int64": "long",
    "float16": "ushort",
    "float32": "uint",
    "float64": "ulong",
}
_BITS = {"bool": 8, "uint8": 8, "int8": 8, "int16": 16, "int32": 32, "int64": 64}
_FLOAT_BITS = {"float16": 16, "float32": 32, "float64": 64}

_block_sizes: dict[tuple[Any, int], int] = {}
_group_limits: dict[Any, int] = {}


def block_size(dev: Any, item_bytes: int) -> int:
    """Items one work-group sorts in local memory on ``dev``: a power of two up to
    :data:`BLOCK_MAX`, using at most half the device's local memory."""
    key = (dev, item_bytes)
    b = _block_sizes.get(key)
    if b is None:
        fit = max(2, int(dev.device.local_mem_size) // (2 * item_bytes))
        b = _block_sizes[key] = min(BLOCK_MAX, 1 << (fit.bit_length() - 1))
    return b


def _group_size(dev: Any, knl: Any, items: int) -> int:
    """Work-items of a work-group sorting ``items`` items (a power of two): one per
    compare-exchange up to :data:`WG_MAX` and what the device allows for the kernel."""
    limit = _group_limits.get(knl)
    if limit is None:
        limit = int(knl.get_work_group_info(cl.kernel_work_group_info.WORK_GROUP_SIZE, dev.device))
        limit = min(WG_MAX, int(dev.device.max_work_group_size), limit)
        limit = _group_limits[knl] = 1 << (limit.bit_length() - 1)
    return max(1, min(items // 2, limit))


def sort(x: CLArray, dim: int) -> tuple[CLArray, CLArray]:
    """Optional kernel ``sort``: (values, int64 indices) of the stable ascending sort of ``x``
    along ``dim`` (NaN after every number), both new contiguous arrays of x's shape. A 0-d x is
    one row of one element."""
    dev = x.dev
    shape = x.shape
    ndim = len(shape)
    if ndim and not -ndim <= dim < ndim:
        raise IndexError(f"opencl sort: dimension {dim} out of range for a {ndim}-d array of shape {shape}")
    d = dim % ndim if ndim else 0
    values = new_array(dev, shape, x.dtype)
    indices = new_array(dev, shape, dtypes.int64)
    n = values.size
    if n == 0:
        return values, indices
    if not x.layout.is_contiguous:
        x = contiguous(x)
    length = shape[d] if ndim else 1
    inner = math.prod(shape[d + 1 :])
    rows = n // length
    P = 1 << (length - 1).bit_length()
    dt = x.dtype.name
    wide = dt in ("int64", "float64") or P > 1 << 32
    item_bytes = 16 if wide else 8
    B = block_size(dev, item_bytes)
    bk = min(P, B)
    nblk = P // bk
    big = rows * P >= INT_LIMIT or any(a.alloc.size // a.dtype.itemsize >= INT_LIMIT for a in (x, values, indices))
    idx = "long" if big else "int"
    kernels = dev.program(("sort", dt, wide, idx), gen_sort_program, dt, wide, idx)
    local = cl.LocalMemory(bk * item_bytes)
    head = (values.alloc.buf, indices.alloc.buf, x.alloc.buf, x.offset, length, inner, P, bk, nblk)
    knl = kernels["sort_block"]
    wg = _group_size(dev, knl, bk)
    groups = (rows * nblk * wg,)
    if nblk == 1:  # every row in one block: sort and write the outputs
        dev.launch(knl, sort_signature("sort_block", dt, wide, idx).pack(*head, values.alloc.buf, 1, local),
                   groups, (wg,))
        return values, indices
    work = dev.pool.allocate(rows * P * item_bytes)
    dev.launch(knl, sort_signature("sort_block", dt, wide, idx).pack(*head, work.buf, 0, local), groups, (wg,))
    gknl = kernels["merge_global"]
    lknl = kernels["merge_local"]
    lwg = _group_size(dev, lknl, bk)
    gsig = sort_signature("merge_global", dt, wide, idx)
    lsig = sort_signature("merge_local", dt, wide, idx)
    pairs = rows * (P // 2)
    gwg = 64
    gsize = (-(-pairs // gwg) * gwg,)
    k = 2 * bk
    while k <= P:
        j = k // 2
        while j >= bk:
            dev.launch(gknl, gsig.pack(work.buf, P, k, j, pairs), gsize, (gwg,))
            j //= 2
        final = 1 if k == P else 0
        dev.launch(lknl, lsig.pack(*head, work.buf, final, k, local), (rows * nblk * lwg,), (lwg,))
        k *= 2
    # the work buffer goes back to the pool when `work` dies: the in-order queue runs every
    # later user of the memory after these kernels
    return values, indices


# ----------------------------------------------------------------------------------------------
# code generation


def _key_function(dt: str) -> str:
    """OpenCL C ``key_(v)``: the unsigned key (uint, or ulong for 64-bit dtypes) of a storage
    value of ``dt`` whose integer order is the value order (see the module docstring)."""
    st = _STORAGE[dt]
    if dt in _FLOAT_BITS:
        bits = _FLOAT_BITS[dt]
        kt, top = ("ulong", "0xFFFFFFFFFFFFFFFFUL") if bits == 64 else ("uint", "0xFFFFFFFFu")
        sign = {16: "0x8000u", 32: "0x80000000u", 64: "0x8000000000000000UL"}[bits]
        inf = {16: "0x7C00u", 32: "0x7F800000u", 64: "0x7FF0000000000000UL"}[bits]
        mask = {16: "0xFFFFu", 32: "0xFFFFFFFFu", 64: "0xFFFFFFFFFFFFFFFFUL"}[bits]
        # |v| > inf: a NaN of either sign, after everything; |v| == 0: -0.0 keyed as +0.0;
        # negative numbers: all bits flipped (larger magnitude, smaller key); positive: sign set
        return f"""
inline {kt} key_({st} v) {{
    {kt} u = ({kt})v;
    {kt} a = u & ({sign} - 1);
    if (a > {inf}) return {top};
    if (a == 0) return {sign};
    return (u & {sign}) ? (~u & {mask}) : (u | {sign});
}}
"""
    if dt in ("bool", "uint8"):
        body = "return (uint)v;"
        kt = "uint"
    elif _BITS[dt] == 64:
        body, kt = "return as_ulong(v) ^ 0x8000000000000000UL;", "ulong"
    else:
        body, kt = "return as_uint((int)v) ^ 0x80000000u;", "uint"
    return f"\ninline {kt} key_({st} v) {{ {body} }}\n"


def gen_sort_program(dt: str, wide: bool, idx: str) -> Program:
    """Kernels ``sort_block``, ``merge_global`` and ``merge_local`` of dtype ``dt`` (see the module
    docstring); ``wide``: items are ulong2 (key, position), else one ulong (key << 32 | position);
    ``idx``: the type of element indices."""
    st = _STORAGE[dt]
    if wide:
        item = "ulong2"
        make = "(ulong2)((ulong)key_(v_), (ulong)(p_))"
        sentinel = "(ulong2)(0xFFFFFFFFFFFFFFFFUL, (ulong)(p_))"
        gt = "((a_).x > (b_).x || ((a_).x == (b_).x && (a_).y > (b_).y))"
        pos = "((long)(a_).y)"
    else:
        item = "ulong"
        make = "((((ulong)key_(v_)) << 32) | (ulong)(p_))"
        sentinel = "((0xFFFFFFFFUL << 32) | (ulong)(p_))"
        gt = "((a_) > (b_))"
        pos = "((long)((a_) & 0xFFFFFFFFUL))"
    sigs = [sort_signature(name, dt, wide, idx) for name in ("sort_block", "merge_global", "merge_local")]
    src = _key_function(dt) + f"""
typedef {item} item_t;
#define MAKE(v_, p_) ({make})
#define SENTINEL(p_) ({sentinel})
#define GT(a_, b_) ({gt})
#define POS(a_) ({pos})

/* compare-exchange of s[lo] and s[lo + j]: ascending when asc, else descending */
#define STEP(s, lo, j, asc) {{ item_t a = s[lo]; item_t b = s[(lo) + (j)]; \\
    if (GT(a, b) == (asc)) {{ s[lo] = b; s[(lo) + (j)] = a; }} }}

/* the low index of pair t of a step of distance j (a power of two) */
#define LOW(t, j) ((((t) & ~((j) - 1)) << 1) | ((t) & ((j) - 1)))

/* this work-group's row and block; the row's first element in x (and in the outputs) */
#define ROW_SETUP \\
    {idx} g_ = get_group_id(0); {idx} r_ = g_ / nblk; {idx} b0 = (g_ - r_ * nblk) * Bk; \\
    {idx} o_ = r_ / inner; {idx} j_ = r_ - o_ * inner; \\
    {idx} obase = o_ * L * inner + j_; {idx} xbase = x_off + obase; \\
    int lid = get_local_id(0); int wg = get_local_size(0);

/* the sorted block: the outputs at positions < L (final), else back into the work buffer */
#define WRITE_OUT \\
    if (final) {{ \\
        for (int t = lid; t < Bk; t += wg) {{ \\
            {idx} gi = b0 + t; \\
            if (gi < L) {{ \\
                long p = POS(s[t]); \\
                out_i[obase + gi * inner] = p; \\
                out_v[obase + gi * inner] = x[xbase + ({idx})p * inner]; \\
            }} \\
        }} \\
    }} else {{ \\
        for (int t = lid; t < Bk; t += wg) work[r_ * P + b0 + t] = s[t]; \\
    }}

{sigs[0].declaration()} {{
    ROW_SETUP
    for (int t = lid; t < Bk; t += wg) {{
        {idx} gi = b0 + t;
        if (gi < L) {{ {st} v = x[xbase + gi * inner]; s[t] = MAKE(v, gi); }}
        else s[t] = SENTINEL(gi);
    }}
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = 2; k <= Bk; k <<= 1) {{
        for (int j = k >> 1; j > 0; j >>= 1) {{
            for (int t = lid; t < (Bk >> 1); t += wg) {{
                int lo = LOW(t, j);
                STEP(s, lo, j, ((b0 + lo) & k) == 0);
            }}
            barrier(CLK_LOCAL_MEM_FENCE);
        }}
    }}
    WRITE_OUT
}}

{sigs[1].declaration()} {{
    {idx} i = get_global_id(0);
    if (i >= n) return;
    {idx} half_ = P >> 1;
    {idx} r = i / half_; {idx} t = i - r * half_;
    {idx} lo = LOW(t, j);
    __global item_t* s = work + r * P;
    STEP(s, lo, j, (lo & k) == 0);
}}

{sigs[2].declaration()} {{
    ROW_SETUP
    for (int t = lid; t < Bk; t += wg) s[t] = work[r_ * P + b0 + t];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int j = Bk >> 1; j > 0; j >>= 1) {{
        for (int t = lid; t < (Bk >> 1); t += wg) {{
            int lo = LOW(t, j);
            STEP(s, lo, j, ((b0 + lo) & k) == 0);
        }}
        barrier(CLK_LOCAL_MEM_FENCE);
    }}
    WRITE_OUT
}}
"""
    return src, sigs


@cache
def sort_signature(name: str, dt: str, wide: bool, idx: str) -> KernelSignature:
    """Parameters of the sort kernels. ``sort_block``/``merge_local``: the outputs (values,
    indices), the input and its offset, the row length L, the stride between row elements
    (``inner``), the padded length P, the block length Bk, blocks per row, the work buffer, whether
    to write the outputs (``final``), (merge_local) the merge size k, and the local buffer.
    ``merge_global``: the work buffer, P, the merge size k, the step distance j and the number of
    compare-exchanges n."""
    item = "ulong2" if wide else "ulong"
    if name == "merge_global":
        params = [Param("work", f"__global {item}*")] + [Param(p, idx) for p in ("P", "k", "j", "n")]
        return KernelSignature(name, tuple(params))
    st = _STORAGE[dt]
    params = [
        Param("out_v", f"__global {st}*"),
        Param("out_i", "__global long*"),
        Param("x", f"__global const {st}*"),
        Param("x_off", idx),
        Param("L", idx),
        Param("inner", idx),
        Param("P", idx),
        Param("Bk", "int"),
        Param("nblk", idx),
        Param("work", f"__global {item}*"),
        Param("final", "int"),
    ]
    if name == "merge_local":
        params.append(Param("k", idx))
    params.append(Param("s", f"__local {item}*"))
    return KernelSignature(name, tuple(params))
