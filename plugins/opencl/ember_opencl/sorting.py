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
fewer on a GPU with small local memory) are sorted by one work-group each (several short rows
share a work-group), a bitonic network in local memory (``sort_block``): each work-item keeps a
run of :data:`RUN` consecutive items in registers, where the compare-exchanges of distance less
than :data:`RUN` happen without a barrier, and the longer ones go through local memory. Longer rows
run the same kernel on blocks of the row (sorted in alternating directions, so neighbouring blocks
form bitonic sequences) into a work buffer, then for each merge size k = 2B .. P the steps of
distance >= B go through global memory (``merge_global``, one launch per step) and the remaining
ones through local memory and registers again (``merge_local``). The last kernel of a row writes
the outputs: the indices, and the values read from the input at those indices (so they are the
input's bits exactly).

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
#: most and fewest work-items of a sorting work-group
WG_MAX = 256
WG_MIN = 64
#: items each work-item sorts in registers (the steps of shorter distance need no barrier)
RUN = 16
#: longest padded row whose items pack into one ulong (the position takes the low 32 bits)
PACK_LIMIT = 1 << 32

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
    "bfloat16": "ushort",
}
_BITS = {"bool": 8, "uint8": 8, "int8": 8, "int16": 16, "int32": 32, "int64": 64}
_FLOAT_BITS = {"float16": 16, "float32": 32, "float64": 64, "bfloat16": 16}

# per device (and item size, or kernel): facts the runtime is asked once
_block_sizes: dict[tuple[Any, int], int] = {}
_group_limits: dict[Any, int] = {}
_units: dict[Any, int] = {}


def block_size(dev: Any, item_bytes: int) -> int:
    """Items one work-group sorts in local memory on ``dev``: a power of two up to
    :data:`BLOCK_MAX`, using at most half the device's local memory."""
    key = (dev, item_bytes)
    b = _block_sizes.get(key)
    if b is None:
        fit = max(2, int(dev.device.local_mem_size) // (2 * item_bytes))
        b = _block_sizes[key] = max(RUN, min(BLOCK_MAX, 1 << (fit.bit_length() - 1)))
    return b


def _group_size(dev: Any, knl: Any, runs: int) -> int:
    """Work-items of a work-group sorting ``runs`` runs of :data:`RUN` items (a power of two):
    one per run up to :data:`WG_MAX` and what the device allows for the kernel, but at least
    :data:`WG_MIN` (idle work-items cost little, and each work-group size is another build of
    the kernel on some runtimes, PoCL's among them)."""
    limit = _group_limits.get(knl)
    if limit is None:
        limit = int(knl.get_work_group_info(cl.kernel_work_group_info.WORK_GROUP_SIZE, dev.device))
        limit = min(WG_MAX, int(dev.device.max_work_group_size), limit)
        limit = _group_limits[knl] = 1 << (limit.bit_length() - 1)
    return min(max(runs, WG_MIN), limit)


def _compute_units(dev: Any) -> int:
    """The device's compute units (cached)."""
    n = _units.get(dev)
    if n is None:
        n = _units[dev] = max(1, int(dev.device.max_compute_units))
    return n


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
    P = max(RUN, 1 << (length - 1).bit_length())
    dt = "uint8" if x.dtype.name == "bool" else x.dtype.name  # (one program: same bits, same order)
    wide = dt in ("int64", "float64") or P > PACK_LIMIT
    item_bytes = 16 if wide else 8
    B = block_size(dev, item_bytes)
    bk = min(P, B)
    nblk = P // bk
    big = rows * P >= INT_LIMIT or any(
        a.alloc.size // a.dtype.itemsize >= INT_LIMIT for a in (x, values, indices)
    )
    idx = "long" if big else "int"
    kernels = dev.program(("sort", dt, wide, idx, RUN), gen_sort_program, dt, wide, idx, RUN)
    nb = rows * nblk
    # blocks per work-group: fill the local block of B items with short rows, keeping a few
    # work-groups per compute unit
    per_group = max(1, min(B // bk, nb // (4 * _compute_units(dev))))
    per_group = 1 << (per_group.bit_length() - 1)
    groups = -(-nb // per_group)
    local = cl.LocalMemory(per_group * bk * item_bytes)
    lbk, lnb = bk.bit_length() - 1, nblk.bit_length() - 1
    head = (values.alloc.buf, indices.alloc.buf, x.alloc.buf, x.offset, length, inner, P, bk, lbk, nblk, lnb)
    head = (*head, per_group, nb)
    knl = kernels["sort_block"]
    block_sig = sort_signature("sort_block", dt, wide, idx)
    wg = _group_size(dev, knl, per_group * bk // RUN)
    if nblk == 1:  # every row in one block: sort and write the outputs
        dev.launch(knl, block_sig.pack(*head, values.alloc.buf, 1, local), (groups * wg,), (wg,))
        return values, indices
    work = dev.pool.allocate(rows * P * item_bytes)
    dev.launch(knl, block_sig.pack(*head, work.buf, 0, local), (groups * wg,), (wg,))
    gknl = kernels["merge_global"]
    lknl = kernels["merge_local"]
    lwg = _group_size(dev, lknl, per_group * bk // RUN)
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
        dev.launch(lknl, lsig.pack(*head, work.buf, final, k, local), (groups * lwg,), (lwg,))
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


def _network(run: int, k_first: int | None, up: str) -> list[str]:
    """Unrolled compare-exchanges of registers r0 .. r{run-1} (a run of consecutive positions,
    starting at a multiple of ``run``): with ``k_first`` None, the steps j = run/2 .. 1 of one
    merge stage whose direction is ``up`` (ascending when true); else every stage k = 2 .. run,
    the directions of k < run fixed by the register's place and that of k = run given by ``up``."""
    lines = []
    stages = [(None, run // 2)] if k_first is None else [(k, k // 2) for k in _powers(2, run)]
    for k, j0 in stages:
        j = j0
        while j >= 1:
            for i in range(run):
                if i & j:
                    continue
                asc = up if k is None or k == run else ("1" if (i & k) == 0 else "0")
                lines.append(f"CE(r{i}, r{i + j}, {asc});")
            j //= 2
    return lines


def _powers(lo: int, hi: int) -> list[int]:
    out = []
    while lo <= hi:
        out.append(lo)
        lo *= 2
    return out


def gen_sort_program(dt: str, wide: bool, idx: str, run: int) -> Program:
    """Kernels ``sort_block``, ``merge_global`` and ``merge_local`` of dtype ``dt`` (see the module
    docstring); ``wide``: items are ulong2 (key, position), else one ulong (key << 32 | position);
    ``idx``: the type of element indices; ``run``: the items each work-item keeps in registers
    (the compare-exchanges of distance < run need no barrier)."""
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
    regs = range(run)
    decl = "item_t " + ", ".join(f"r{i}" for i in regs) + ";"
    from_local = " ".join(f"r{i} = s[cu + {i}];" for i in regs)
    to_local = " ".join(f"s[cu + {i}] = r{i};" for i in regs)
    load_x = "\n".join(
        f"        {{ {idx} gi = cpos + {i}; if (live && gi < L) {{ {st} v = x[xrow + gi * inner]; "
        f"r{i} = MAKE(v, gi); }} else r{i} = SENTINEL(gi); }}"
        for i in regs
    )
    out_regs = "\n".join(f"        OUT({i}, r{i})" for i in regs)
    first = "\n".join("        " + ln for ln in _network(run, 2, "up"))
    tail = "\n".join("        " + ln for ln in _network(run, None, "up"))
    body = f"""
typedef {item} item_t;
#define MAKE(v_, p_) ({make})
#define SENTINEL(p_) ({sentinel})
#define GT(a_, b_) ({gt})
#define POS(a_) ({pos})

/* compare-exchange: ascending when asc, else descending (without a branch: on random data half
   the swaps would be mispredicted) */
#define CE(ra, rb, asc) {{ item_t a_ = ra; item_t b_ = rb; int sw_ = GT(a_, b_) == (asc); \\
    ra = sw_ ? b_ : a_; rb = sw_ ? a_ : b_; }}
#define STEP(s, lo, j, asc) CE(s[lo], s[(lo) + (j)], asc)

/* the low index of pair t of a step of distance j (a power of two) */
#define LOW(t, j) ((((t) & ~((j) - 1)) << 1) | ((t) & ((j) - 1)))

/* run c of this work-group (groups of G blocks of Bk items, runs of {run} items): its first
   slot cu, block gb (live: a real block), row r_, position in the row cpos, and the row's first
   element in the outputs (obase) and in x (xrow) */
#define RUN_SETUP(c) \\
    int cu = (c) * {run}; {idx} gb = get_group_id(0) * ({idx})G + (cu >> lbk); int live = gb < nb; \\
    {idx} r_ = gb >> lnb; {idx} cpos = ((gb & (nblk - 1)) << lbk) + (cu & (Bk - 1)); \\
    {idx} o_ = r_ / inner; {idx} obase = o_ * L * inner + (r_ - o_ * inner); {idx} xrow = x_off + obase;

/* item v of a sorted run: at position cpos + i of the outputs (final), else the work buffer */
#define OUT(i, v) \\
    if (live) {{ \\
        {idx} gi = cpos + (i); \\
        if (!final) work[r_ * P + gi] = v; \\
        else if (gi < L) {{ \\
            long p = POS(v); \\
            out_i[obase + gi * inner] = p; \\
            out_v[obase + gi * inner] = x[xrow + ({idx})p * inner]; \\
        }} \\
    }}

/* every compare-exchange of step (k, j) (j >= {run}) over the work-group's blocks, then a barrier */
#define STEPS(k, j) \\
    for (int t2 = lid; t2 < half_; t2 += wg) {{ \\
        int q2 = t2 >> (lbk - 1); int lo = LOW(t2 & ((Bk >> 1) - 1), j); \\
        {idx} gb2 = get_group_id(0) * ({idx})G + q2; \\
        {idx} pos = ((gb2 & (nblk - 1)) << lbk) + lo; \\
        STEP(s, (q2 << lbk) + lo, j, (pos & (k)) == 0); \\
    }} \\
    barrier(CLK_LOCAL_MEM_FENCE);

{sigs[0].declaration()} {{
    int lid = get_local_id(0); int wg = get_local_size(0);
    int half_ = (G * Bk) >> 1; int runs = (G * Bk) / {run};
    {decl}
    /* stages k = 2 .. {run}: each run in registers, straight from x */
    for (int c = lid; c < runs; c += wg) {{
        RUN_SETUP(c)
        int up = (cpos & {run}) == 0;
{load_x}
{first}
        if (Bk == {run}) {{
{out_regs}
        }} else {{
            {to_local}
        }}
    }}
    if (Bk == {run}) return;
    barrier(CLK_LOCAL_MEM_FENCE);
    /* stages k = {2 * run} .. Bk: the steps of distance >= {run} in local memory, the rest in
       registers, the last stage's runs written out */
    for (int k = {2 * run}; k <= Bk; k <<= 1) {{
        for (int j = k >> 1; j >= {run}; j >>= 1) {{
            STEPS(k, j)
        }}
        for (int c = lid; c < runs; c += wg) {{
            RUN_SETUP(c)
            int up = (cpos & k) == 0;
            {from_local}
{tail}
            if (k == Bk) {{
{out_regs}
            }} else {{
                {to_local}
            }}
        }}
        if (k < Bk) barrier(CLK_LOCAL_MEM_FENCE);
    }}
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
    int lid = get_local_id(0); int wg = get_local_size(0);
    int half_ = (G * Bk) >> 1; int runs = (G * Bk) / {run};
    {decl}
    for (int u = lid; u < G * Bk; u += wg) {{
        {idx} gb = get_group_id(0) * ({idx})G + (u >> lbk);
        s[u] = gb < nb ? work[gb * Bk + (u & (Bk - 1))] : SENTINEL(0);
    }}
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int j = Bk >> 1; j >= {run}; j >>= 1) {{
        STEPS(k, j)
    }}
    for (int c = lid; c < runs; c += wg) {{
        RUN_SETUP(c)
        int up = (cpos & k) == 0;
        {from_local}
{tail}
{out_regs}
    }}
}}
"""
    return _key_function(dt) + body, sigs


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
        Param("lbk", "int"),
        Param("nblk", idx),
        Param("lnb", "int"),
        Param("G", "int"),
        Param("nb", idx),
        Param("work", f"__global {item}*"),
        Param("final", "int"),
    ]
    if name == "merge_local":
        params.append(Param("k", idx))
    params.append(Param("s", f"__local {item}*"))
    return KernelSignature(name, tuple(params))
