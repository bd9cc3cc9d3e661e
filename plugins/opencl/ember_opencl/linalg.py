"""Linear algebra: the ``matmul`` kernel and its code generators.

float32/float64 (:data:`FAST_MM`): B is packed into zero-padded panels of 16 (float32) or 8
(float64) columns, then a register-blocked kernel computes 6 x W blocks of C per step, with
cache blocking on a CPU device (:data:`MM_BLOCK`); its launch plan is kept per operand layout,
so a repeated product is an allocation, two ``set_args`` and two enqueues. Other dtypes run a
4 x 4 register-blocked kernel over any strides (complex: complex multiply-adds for small
products; larger ones are four real products of the parts, :data:`COMPLEX_BY_PARTS`). Batch
dims broadcast.
"""

from __future__ import annotations

import math
from functools import cache

from ember.layout import broadcast_shapes, broadcast_strides, contiguous_strides

from ._array import CLArray
from ._codegen import CTYPE, INTS, ITEMSIZE, compute_type, convert, decompose, header, load, position, store
from ._complex import COMPLEX, complex_math, fn
from ._launch import INT_LIMIT, bucket_rank, coalesce, index_type, launch_n, launch_nd, new_array, pad
from ._signature import KernelSignature, Param, Program
from .elementwise import binary_kernel
from .memory import complex_parts, contiguous, copy_into, fill

_PART_OPS = {"add": binary_kernel("add"), "sub": binary_kernel("sub")}  # (eager: no fusion)

__all__ = ["FAST_MM", "MM_BLOCK", "matmul", "mmf_with_bias"]

MM_BLOCK = (8, 8, 256)  # matmul cache blocking on a CPU device: row blocks, panels, K chunk


def matmul(a: CLArray, b: CLArray) -> CLArray:
    """Kernel ``matmul``: (..., n, k) @ (..., k, m) -> (..., n, m), batch dims broadcast."""
    dev = a.dev
    # fast path: float32/float64 operands with a layout seen before
    la, lb = a.layout, b.layout
    p = dev.mm_plans.get((a.dtype, la.shape, la.strides, lb.shape, lb.strides))
    if p is not None and a.alloc.size < INT_LIMIT and b.alloc.size < INT_LIMIT:
        oshape, bpbytes, pknl, prest, pg, pl, mknl, mrest1, mrest2, mg, ml = p
        out = new_array(dev, oshape, a.dtype)
        bp = dev.pool.allocate(bpbytes)
        dev.launch(pknl, (bp.buf, b.alloc.buf, lb.offset, *prest), pg, pl)
        dev.launch(mknl, (out.alloc.buf, a.alloc.buf, la.offset, *mrest1, bp.buf, *mrest2), mg, ml)
        return out
    n, k = a.shape[-2], a.shape[-1]
    m = b.shape[-1]
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    out = new_array(dev, (*batch, n, m), a.dtype)
    if out.size == 0:
        return out
    if k == 0:
        return fill(out, 0)
    dt = a.dtype.name
    if dt in FAST_MM:
        return _matmul_fast(a, b, out, batch)
    if dt in COMPLEX and n * k * m >= COMPLEX_BY_PARTS:
        return _matmul_complex(a, b, out)
    nb = math.prod(batch)
    cstr = contiguous_strides(batch)
    astr = broadcast_strides(a.shape[:-2], a.strides[:-2], batch)
    bstr = broadcast_strides(b.shape[:-2], b.strides[:-2], batch)
    bshape, (_, astr2, bstr2) = coalesce(batch, [cstr, astr, bstr])
    brank = bucket_rank(len(bshape)) if bshape else 0
    if brank:
        bshape, (astr2, bstr2) = pad(bshape, [astr2, bstr2], brank)
    idx = index_type(out.size, a, b, out)
    knl = dev.program(("matmul", dt, brank, idx), gen_matmul_program, dt, brank, idx)["matmul"]
    args = matmul_signature(dt, brank, idx).pack(
        out.alloc.buf,
        a.alloc.buf,
        a.offset,
        a.strides[-2],
        a.strides[-1],
        b.alloc.buf,
        b.offset,
        b.strides[-2],
        b.strides[-1],
        n,
        k,
        m,
        bshape,
        astr2,
        bstr2,
    )
    launch_nd(dev, knl, args, (-(-m // 4), -(-n // 4), nb), (1, 1, 1))
    return out


#: complex products of at least this many multiply-adds (n * k * m) run as four real products of
#: the parts; smaller ones as one kernel with complex multiply-adds. Measured on a 2-core Zen 3,
#: PoCL 3.0, square complex64 (complex128) products: n = 8 0.02 ms one kernel against 0.17 ms
#: (0.04 / 0.20) by parts; n = 64 0.21 / 0.13 ms (0.41 / 0.21); n = 256 12.9 / 2.0 ms (12.9 /
#: 6.4); n = 512 105 / 21 ms (240 / 42): the packed real kernel outruns the generic one.
COMPLEX_BY_PARTS = 32 * 32 * 32


def _matmul_complex(a: CLArray, b: CLArray, out: CLArray) -> CLArray:
    """Complex ``out = a @ b`` as real products of the parts (strided views of the same
    memory): Re = ar @ br - ai @ bi, Im = ar @ bi + ai @ br, written into ``out``'s parts."""
    ar, ai = complex_parts(a)
    br, bi = complex_parts(b)
    sub, add = _PART_OPS["sub"], _PART_OPS["add"]
    re = sub(matmul(ar, br), matmul(ai, bi))
    im = add(matmul(ar, bi), matmul(ai, br))
    out_re, out_im = complex_parts(out)
    copy_into(out_re, re)
    copy_into(out_im, im)
    return out


def _matmul_fast(a: CLArray, b: CLArray, out: CLArray, batch: tuple[int, ...]) -> CLArray:
    """float32/float64: pack B into zero-padded panels, then the register-blocked kernel."""
    dev = a.dev
    dt = a.dtype.name
    rows, vec = FAST_MM[dt]
    n, k = a.shape[-2], a.shape[-1]
    m = b.shape[-1]
    b_orig = b
    bbatch = b.shape[:-2]
    bsh, (bst,) = coalesce(bbatch, [b.strides[:-2]])
    if len(bsh) > 1:  # batch dims that do not merge into one: pack from a contiguous copy
        b = contiguous(b)
        bsh, (bst,) = coalesce(bbatch, [b.strides[:-2]])
    P = -(-m // vec)
    nbb = math.prod(bbatch)
    bp = new_array(dev, (nbb * P * k * vec,), a.dtype)
    # strides of B's packed batches, broadcast to the output batch, coalesced like a's
    pstr = broadcast_strides(bbatch, tuple(s * P * k * vec for s in contiguous_strides(bbatch)), batch)
    astr_full = broadcast_strides(a.shape[:-2], a.strides[:-2], batch)
    bshape, (_, astr2, pstr2) = coalesce(batch, [contiguous_strides(batch), astr_full, pstr])
    brank = bucket_rank(len(bshape)) if bshape else 0
    if brank:
        bshape, (astr2, pstr2) = pad(bshape, [astr2, pstr2], brank)
    idx = index_type(max(out.size, bp.size), a, b, out, bp)
    kn = dev.program(("matmul_fast", dt, brank, idx), gen_matmul_fast_program, dt, brank, idx)
    pack_sig, mmf_sig = mm_fast_signatures(dt, brank, idx)
    kb = min(k, max(1, 1024 // vec))
    nkb = -(-k // kb)
    npk = nbb * P * nkb
    bsz = bst[0] if bsh else 0
    pargs = pack_sig.pack(
        bp.alloc.buf, b.alloc.buf, b.offset, bsz, b.strides[-2], b.strides[-1], k, m, P, kb, nkb, npk
    )
    launch_n(dev, kn[pack_sig.name], pargs, npk)
    # cache blocking: a work-item computes RB row blocks x NP panels of C, K in chunks of KC;
    # per chunk the A rows (RB * rows x KC) stay in L2 across the NP panels, and each panel's
    # KC x vec slice of B stays in L1 across the RB row blocks; partial sums go through C
    nrb = -(-n // rows)
    nbt = math.prod(batch)
    # (measured on a 2-core Zen 3 VM, PoCL 3.0, interleaved with numpy in one process: 8 x 8
    # blocks, KC = 256 gave medians of 0.96x numpy at 1024 and 0.99x at 2048; 16 x 8 blocks,
    # half as many work-items, 0.82x and 0.99x: the smaller items balance better when a core
    # is shared with other work);
    # small products split further so that there are >= 16 work-items; not a CPU: no blocking
    RB, NP, KC = (min(nrb, MM_BLOCK[0]), min(P, MM_BLOCK[1]), MM_BLOCK[2]) if dev.is_cpu else (1, 1, k)
    while -(-nrb // RB) * -(-P // NP) * nbt < 16 and (RB > 1 or NP > 1):
        if RB >= NP:
            RB = -(-RB // 2)
        else:
            NP = -(-NP // 2)
    args = mmf_sig.pack(
        out.alloc.buf,
        a.alloc.buf,
        a.offset,
        a.strides[-2],
        a.strides[-1],
        bp.alloc.buf,
        n,
        k,
        m,
        RB,
        NP,
        KC,
        bshape,
        astr2,
        pstr2,
    )
    gsize = (-(-nrb // RB), -(-P // NP), nbt)
    launch_nd(dev, kn[mmf_sig.name], args, gsize, (1, 1, 1))
    if b_orig is b and idx == "int":  # cache the launch plan (see matmul)
        if len(dev.mm_plans) > 1024:
            dev.mm_plans.clear()
        key = (a.dtype, a.layout.shape, a.layout.strides, b.layout.shape, b.layout.strides)
        plocal = 16 if npk >= 256 else 1  # launch_n's work-group size
        dev.mm_plans[key] = (
            out.shape,
            bp.size * a.dtype.itemsize,
            kn[pack_sig.name],
            tuple(pargs[3:]),  # after bp, b, b's offset
            (-(-npk // plocal) * plocal,),
            (plocal,),
            kn[mmf_sig.name],
            tuple(args[3:5]),  # a's strides, between a's offset and bp
            tuple(args[6:]),  # after bp
            gsize,
            (1, 1, 1),
        )
    return out


# ----------------------------------------------------------------------------------------------
# code generation


def gen_matmul_program(dt: str, brank: int, idx: str) -> Program:
    """Register-blocked matmul, any strides: each work-item computes a 4x4 block of C.

    Grid: (ceil(m/4), ceil(n/4), batch). Batch dims bd0.. with strides ab_s.. (a), bb_s.. (b);
    C is contiguous (batch, n, m). Edge blocks clamp their loads and mask their stores, so the
    inner loop has no branches.
    """
    ct = compute_type(dt)
    act = "float" if dt in ("float16", "bfloat16") else ("long" if dt in INTS else ct)
    sig = matmul_signature(dt, brank, idx)
    lines = [
        sig.declaration() + " {",
        f"    {idx} j0 = get_global_id(0) * 4; {idx} i0 = get_global_id(1) * 4; {idx} z = get_global_id(2);",
        "    if (j0 >= M || i0 >= N) return;",
    ]
    lines += ["    " + s for s in decompose(brank, idx, "z", "bd")]
    lines.append(f"    {idx} ab_off = a_off; {idx} bb_off = b_off;")
    lines.append(f"    {idx} pa = {position('ab', brank)};")
    lines.append(f"    {idx} pb = {position('bb', brank)};")
    for r in range(4):
        lines.append(f"    {idx} ar{r} = pa + min(i0 + {r}, N - 1) * a_sr;")
        lines.append(f"    {idx} bc{r} = pb + min(j0 + {r}, M - 1) * b_sc;")
    for r in range(4):
        lines.append("    " + " ".join(f"{act} acc{r}{q} = 0;" for q in range(4)))
    lines.append(f"    for ({idx} k = 0; k < K; ++k) {{")
    for r in range(4):
        lines.append(f"        {act} av{r} = ({act}){load(dt, 'a', f'ar{r} + k * a_sk')};")
        lines.append(f"        {act} bv{r} = ({act}){load(dt, 'b', f'bc{r} + k * b_sk')};")
    mul = (lambda a, b: f"{fn('cmul', dt)}({a}, {b})") if dt in COMPLEX else (lambda a, b: f"{a} * {b}")
    for r in range(4):
        lines.append("        " + " ".join(f"acc{r}{q} += {mul(f'av{r}', f'bv{q}')};" for q in range(4)))
    lines.append("    }")
    lines.append(f"    {idx} pc = z * N * M;")
    for r in range(4):
        for q in range(4):
            lines.append(
                f"    if (i0 + {r} < N && j0 + {q} < M) "
                + store(dt, "c", f"pc + (i0 + {r}) * M + j0 + {q}", convert(f"acc{r}{q}", act, dt))
            )
    lines.append("}")
    lib = complex_math(dt) if dt in COMPLEX else ""
    return header(dt, act) + lib + "\n".join(lines) + "\n", [sig]


@cache
def matmul_signature(dt: str, brank: int, idx: str) -> KernelSignature:
    """Parameters of ``matmul`` (see :func:`gen_matmul_program`): C; A with its offset, row and
    k strides; B with its offset, k and column strides; N, K, M; the batch dims ``bd`` and the
    batch strides of A (``ab_s``) and B (``bb_s``)."""
    t = CTYPE[dt]
    params = (
        Param("c", f"__global {t}*"),
        Param("a", f"__global const {t}*"),
        Param("a_off", idx),
        Param("a_sr", idx),
        Param("a_sk", idx),
        Param("b", f"__global const {t}*"),
        Param("b_off", idx),
        Param("b_sk", idx),
        Param("b_sc", idx),
        Param("N", idx),
        Param("K", idx),
        Param("M", idx),
        Param("bd", idx, brank),
        Param("ab_s", idx, brank),
        Param("bb_s", idx, brank),
    )
    return KernelSignature("matmul", params)


#: (rows per work-item, vector width) of the packed matmul; C block is ROWS x VEC per work-item.
FAST_MM = {"float32": (6, 16), "float64": (6, 8)}


def gen_matmul_fast_program(dt: str, brank: int, idx: str, epilogue: str = "") -> Program:
    """Packed register-blocked matmul for float32/float64 (kernels ``pack`` and ``mmf``).

    ``epilogue`` ``"row"`` or ``"col"``: ``mmf`` also adds a bias to each finished element, the
    element ``bias[bias_off + i * bias_s]`` of its row i or ``bias[bias_off + j * bias_s]`` of
    its column j, in the dtype's arithmetic, as the ``add`` kernel would in a launch of its own
    (a compiled graph's rewrite, :mod:`ember_opencl.compiled`; the sum is the same IEEE add, so
    the result is bitwise that of matmul then add).

    ``pack`` copies a contiguous B (nb, K, M) into panels Bp (nb, P, K, W), W = vector width,
    zero-padding the last panel. In ``mmf`` each work-item (row group, panel group, batch z)
    computes RB row blocks x NP panels of C, over K in chunks of KC (runtime arguments): per
    chunk, per panel, per row block it keeps a ROWS x W block of C in ROWS vector registers
    (partial sums of earlier chunks are read back from C); per k it loads one aligned vector of
    the panel and ROWS scalars of A, and does ROWS vector multiply-adds (plain operators: PoCL
    calls fma/mad out of line). The A chunk (RB * ROWS x KC) stays in L2 across the panels, the
    panel's KC x W slice in L1 across the row blocks. The inner loops address A through
    pointers (contiguous rows share one induction variable): per-load 32-bit index arithmetic
    made the loop issue-bound. Measured on a 2-core Zen 3 with PoCL 3.0: 6 x 16 floats is the
    best of the register shapes tried (4x64 spills registers on AVX2).
    """
    rows, vec = FAST_MM[dt]
    t = CTYPE[dt]
    vt = f"{t}{vec}"
    sigs = mm_fast_signatures(dt, brank, idx, epilogue)
    pack = f"""
typedef {vt} {vt}p __attribute__((aligned({ITEMSIZE[dt]})));
{sigs[0].declaration()} {{
    {idx} g = get_global_id(0);
    if (g >= nwi) return;
    {idx} kb = g % NKB; {idx} r = g / NKB;
    {idx} p = r % P; {idx} z = r / P;
    {idx} k0 = kb * KB; {idx} k1 = min(k0 + KB, K);
    {idx} col0 = p * {vec};
    __global {t}* dst = bp + ((z * P + p) * K) * {vec};
    const __global {t}* src = b + b_off + z * b_sz + col0 * b_sc;
    if (b_sc == 1 && col0 + {vec} <= M) {{
        for ({idx} k = k0; k < k1; ++k)
            *(__global {vt}*)(dst + k * {vec}) = *(const __global {vt}p*)(src + k * b_sk);
        return;
    }}
    {idx} cols = min(({idx}){vec}, M - col0);
    if (b_sk == 1) {{  // B a transposed view: each column is contiguous along k
        for ({idx} c = 0; c < cols; ++c) {{
            const __global {t}* sc = src + c * b_sc;
            for ({idx} k = k0; k < k1; ++k) dst[k * {vec} + c] = sc[k];
        }}
        for ({idx} c = cols; c < {vec}; ++c)
            for ({idx} k = k0; k < k1; ++k) dst[k * {vec} + c] = ({t})0;
        return;
    }}
    // column by column: reads run along k
    for ({idx} c = 0; c < cols; ++c)
        for ({idx} k = k0; k < k1; ++k) dst[k * {vec} + c] = src[k * b_sk + c * b_sc];
    for ({idx} c = cols; c < {vec}; ++c)
        for ({idx} k = k0; k < k1; ++k) dst[k * {vec} + c] = ({t})0;
}}
"""
    lines = [
        sigs[1].declaration() + " {",
        f"    {idx} i_lo = get_global_id(0) * RB * {rows}; {idx} pg = get_global_id(1); {idx} z = get_global_id(2);",
        "    if (i_lo >= N) return;  // padding of the row-group dimension up to the work-group size",
        f"    {idx} i_hi = min(i_lo + RB * {rows}, N);",
        f"    {idx} P = (M + {vec - 1}) / {vec}; {idx} p_lo = pg * NP; {idx} p_hi = min(p_lo + NP, P);",
    ]
    lines += ["    " + s for s in decompose(brank, idx, "z", "bd")]
    lines.append(f"    {idx} ab_off = a_off; {idx} bb_off = 0;")
    lines.append(f"    {idx} pa = {position('ab', brank)};")
    lines.append(f"    {idx} pb = {position('bb', brank)};")
    lines.append(f"    for ({idx} k0 = 0; k0 < K; k0 += KC) {{")
    lines.append(f"    {idx} kn = min(KC, K - k0);")
    lines.append(f"    for ({idx} p = p_lo; p < p_hi; ++p) {{")
    lines.append(f"    const __global {vt}* bq = (const __global {vt}*)(bp + pb + p * K * {vec}) + k0;")
    lines.append(f"    {idx} cols = min(({idx}){vec}, M - p * {vec});")
    lines.append(f"    __global {t}* pc = c + z * N * M + p * {vec};")
    lines.append(f"    for ({idx} i0 = i_lo; i0 < i_hi; i0 += {rows}) {{")
    for r in range(rows):
        lines.append(f"    {idx} ar{r} = pa + min(i0 + {r}, N - 1) * a_sr + k0 * a_sk; {vt} acc{r} = 0;")
    lines.append("    if (k0 > 0) {  // partial sums of the earlier K chunks")
    lines.append(f"        if (cols == {vec}) {{")
    for r in range(rows):
        lines.append(f"            if (i0 + {r} < N) acc{r} = *(__global {vt}p*)(pc + (i0 + {r}) * M);")
    lines.append("        } else {")
    for r in range(rows):
        lines.append(
            f"            if (i0 + {r} < N) {{ {t}* e = ({t}*)&acc{r}; __global {t}* o = pc + (i0 + {r}) * M;"
            f" for ({idx} q = 0; q < cols; ++q) e[q] = o[q]; }}"
        )
    lines.append("        }")
    lines.append("    }")
    # inner loops on pointers: 32-bit index arithmetic per load costs more than the multiply-adds
    for r in range(rows):
        lines.append(f"    const __global {t}* ap{r} = a + ar{r};")
    lines.append("    if (a_sk == 1) {  // rows contiguous along k: one shared induction variable")
    lines.append("    #pragma unroll 4")
    lines.append(f"    for ({idx} k = 0; k < kn; ++k) {{")
    lines.append(f"        {vt} bv = bq[k];")
    for r in range(rows):
        lines.append(f"        acc{r} += ({vt})(ap{r}[k]) * bv;")
    lines.append("    }")
    lines.append(f"    }} else if (a_sr == 1 && i0 + {rows} <= N) {{  // A a transposed view: rows adjacent")
    lines.append("    #pragma unroll 4")
    lines.append(f"    for ({idx} k = 0; k < kn; ++k, ap0 += a_sk) {{")
    lines.append(f"        {vt} bv = bq[k];")
    for r in range(rows):
        lines.append(f"        acc{r} += ({vt})(ap0[{r}]) * bv;")
    lines.append("    }")
    lines.append("    } else {")
    lines.append(f"    for ({idx} k = 0; k < kn; ++k) {{")
    lines.append(f"        {vt} bv = bq[k];")
    for r in range(rows):
        lines.append(f"        acc{r} += ({vt})(*ap{r}) * bv; ap{r} += a_sk;")
    lines.append("    }")
    lines.append("    }")
    if epilogue == "row":
        lines.append("    if (k0 + KC >= K) {  // the last chunk: each row's bias")
        for r in range(rows):
            lines.append(f"        acc{r} += ({vt})(bias[bias_off + min(i0 + {r}, N - 1) * bias_s]);")
        lines.append("    }")
    elif epilogue == "col":
        lines.append("    if (k0 + KC >= K) {  // the last chunk: each column's bias")
        lines.append(f"        {vt} bv = 0; {t}* e = ({t}*)&bv;")
        lines.append(f"        for ({idx} q = 0; q < cols; ++q) e[q] = bias[bias_off + (p * {vec} + q) * bias_s];")
        for r in range(rows):
            lines.append(f"        acc{r} += bv;")
        lines.append("    }")
    lines.append(f"    if (cols == {vec}) {{  // full panel: unaligned vector stores")
    for r in range(rows):
        lines.append(f"        if (i0 + {r} < N) *(__global {vt}p*)(pc + (i0 + {r}) * M) = acc{r};")
    lines.append("    } else {")
    for r in range(rows):
        lines.append(
            f"        if (i0 + {r} < N) {{ {t}* e = ({t}*)&acc{r}; __global {t}* o = pc + (i0 + {r}) * M;"
            f" for ({idx} q = 0; q < cols; ++q) o[q] = e[q]; }}"
        )
    lines.append("    }")
    lines.append("    }}}")
    lines.append("}")
    return header(dt) + pack + "\n".join(lines) + "\n", list(sigs)


@cache
def mm_fast_signatures(
    dt: str, brank: int, idx: str, epilogue: str = ""
) -> tuple[KernelSignature, KernelSignature]:
    """Parameters of ``pack`` (the panels Bp; B with its offset, batch, k and column strides; K,
    M, the panel count P, the k chunk KB, chunks per panel NKB, work-items) and of ``mmf`` (C; A
    with its offset, row and k strides; Bp; N, K, M; the blocking RB, NP, KC; the batch dims
    ``bd`` and the batch strides of A (``ab_s``) and of Bp (``bb_s``); with an ``epilogue``, the
    bias with its offset and stride)."""
    t = CTYPE[dt]
    scalars = ("b_off", "b_sz", "b_sk", "b_sc", "K", "M", "P", "KB", "NKB", "nwi")
    pack = (
        Param("bp", f"__global {t}*"),
        Param("b", f"__global const {t}*"),
        *(Param(p, idx) for p in scalars),
    )
    mmf = (
        Param("c", f"__global {t}*"),
        Param("a", f"__global const {t}*"),
        *(Param(p, idx) for p in ("a_off", "a_sr", "a_sk")),
        Param("bp", f"__global const {t}*"),
        *(Param(p, idx) for p in ("N", "K", "M", "RB", "NP", "KC")),
        Param("bd", idx, brank),
        Param("ab_s", idx, brank),
        Param("bb_s", idx, brank),
    )
    if epilogue:
        mmf += (Param("bias", f"__global const {t}*"), Param("bias_off", idx), Param("bias_s", idx))
    return KernelSignature("pack", pack), KernelSignature("mmf", mmf)


def mmf_with_bias(dev: object, key: tuple, epilogue: str) -> object:
    """The ``mmf`` kernel of the program ``key`` (``("matmul_fast", dt, brank, idx)``, as
    :func:`matmul` builds it) with a bias ``epilogue`` (``"row"`` or ``"col"``): its arguments are
    those of ``mmf`` followed by the bias buffer, offset and stride."""
    _, dt, brank, idx = key
    return dev.program((*key, epilogue), gen_matmul_fast_program, dt, brank, idx, epilogue)["mmf"]
