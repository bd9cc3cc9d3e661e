"""The convolution's col2im: the optional kernel ``fold2d`` (unfold2d's backward), with its code
generator.

Core's composite zeroes the (N, C, H, W) result and adds the contiguous (N, C, kh, kw, oh, ow)
window gradient back one kernel position at a time: kh * kw strided ``add_`` launches, each
reading and writing the whole result. Here one launch gathers instead: the work-item of result
element (plane, r, q) adds, kernel position by kernel position in row-major order, the window
gradient whose window position ``(oi * sh + i * dh, oj * sw + j * dw)`` is its own, starting
from zero. No two work-items write one element, so there are no atomics, and each element's sum
is the composite's, operation for operation: float32, float64 and the integer dtypes add in
their own type, float16 and bfloat16 are rounded back to their dtype after every add (as the
composite's stores round them), so results equal it bit for bit. The range is 3-D (q, r,
plane), so no division finds an element's coordinates, and a stride of 1 (the convolution's)
compiles without the stride's divisions: on PoCL the digits CNN's fold takes 0.39 ms against
the composite's 0.48 ms (a gather with divisions per element took 2.1 ms, a work-item per row
0.53 ms).
"""

from __future__ import annotations

from functools import cache

from ._array import CLArray
from ._codegen import CTYPE, FLOATS, INTS, compute_type, header, load, store
from ._launch import index_type, launch_nd, new_array
from ._signature import KernelSignature, Param, Program

__all__ = ["FOLD_DTYPES", "fold2d", "gen_fold_program"]

_Pair = tuple[int, int]
#: the dtypes the kernel takes (core composes bool and complex folds from its adds)
FOLD_DTYPES = FLOATS + INTS


def fold2d(
    g: CLArray,
    src_shape: tuple[int, int, int, int],
    out_hw: _Pair,
    kernel_size: _Pair,
    stride: _Pair,
    dilation: _Pair,
) -> CLArray:
    """Kernel ``fold2d``: a fresh (N, C, H, W) array (``src_shape``) with each element of the
    contiguous (N, C, kh, kw, oh, ow) window gradient ``g`` added at its window position, kernel
    positions in row-major order per element, from zero (see the module docstring)."""
    dt = g.dtype.name
    n, c, h, w = src_shape
    (kh, kw), (oh, ow), (sh, sw), (dh, dw) = kernel_size, out_hw, stride, dilation
    if dt not in FOLD_DTYPES:
        raise TypeError(
            f"fold2d: the opencl kernel takes {', '.join(FOLD_DTYPES)}, got {dt}; core folds other "
            "dtypes with its adds (ember.nn.functional.fold)"
        )
    if tuple(g.shape) != (n, c, kh, kw, oh, ow) or not g.layout.is_contiguous:
        raise ValueError(
            f"fold2d: the window gradient must be a contiguous array of shape {(n, c, kh, kw, oh, ow)} "
            f"for an input of shape {tuple(src_shape)}, got shape {tuple(g.shape)}"
        )
    if (oh - 1) * sh + (kh - 1) * dh >= h or (ow - 1) * sw + (kw - 1) * dw >= w:
        raise ValueError(
            f"fold2d: windows of {out_hw} outputs run past the input of shape {tuple(src_shape)}"
        )
    dev = g.dev
    out = new_array(dev, (n, c, h, w), g.dtype)
    if out.size == 0:
        return out
    idx = index_type(out.size, g, out)
    unit = (sh, sw) == (1, 1)
    knl = dev.program(("fold2d", dt, idx, unit), gen_fold_program, dt, idx, unit)["fold2d"]
    args = fold_signature(dt, idx).pack(
        out.alloc.buf, g.alloc.buf, g.offset, [h, w], [kh, kw], [oh, ow], [sh, sw], [dh, dw], n * c
    )
    # work-groups of whole rows (neighbouring work-items, neighbouring elements) and as many
    # rows as fit 256 work-items: PoCL pays per work-group
    lw = min(w, 256)
    lh = max(1, min(h, 256 // lw))
    launch_nd(dev, knl, args, (-(-w // lw) * lw, -(-h // lh) * lh, n * c), (lw, lh, 1))
    return out


def gen_fold_program(dt: str, idx: str, unit_stride: bool) -> Program:
    """The ``fold2d`` kernel for dtype ``dt`` with index type ``idx`` (``unit_stride``: stride
    (1, 1), the convolution's, compiled without the stride's divisions): the work-item at
    (q, r, plane) of a 3-D range is result element (plane, r, q); for each kernel position
    ``(i, j)`` in row-major order whose window row ``r - i * dh`` and column ``q - j * dw`` fall
    on a stride inside the output plane, it adds that window's gradient element, starting from
    zero. Rows and columns only decrease with ``i`` and ``j``, so a negative one ends its loop.
    Neighbouring work-items read neighbouring gradients (a vector load on a CPU device)."""
    sig = fold_signature(dt, idx)
    ct = compute_type(dt)
    if dt in ("float16", "bfloat16"):
        # round to the dtype after every add, as the composite's stores do
        step = f"{store(dt, 'out', 't', 'acc + v')} acc = {load(dt, 'out', 't')};"
    else:
        step = "acc = acc + v;"
    if unit_stride:
        row, col = f"{idx} oi = a;", f"{idx} oj = b;"
    else:
        row = f"if (a % p_s0 != 0) continue; {idx} oi = a / p_s0;"
        col = f"if (b % p_s1 != 0) continue; {idx} oj = b / p_s1;"
    src = f"""
{sig.declaration()} {{
    {idx} q = get_global_id(0), r = get_global_id(1), plane = get_global_id(2);
    if (q >= p_hw1 || r >= p_hw0) return;
    {idx} t = (plane * p_hw0 + r) * p_hw1 + q;
    {idx} gp = g_off + plane * p_k0 * p_k1 * p_o0 * p_o1;
    {ct} acc = ({ct})0;
    for ({idx} i = 0; i < p_k0; ++i) {{
        {idx} a = r - i * p_d0;
        if (a < 0) break;
        {row}
        if (oi >= p_o0) continue;
        for ({idx} j = 0; j < p_k1; ++j) {{
            {idx} b = q - j * p_d1;
            if (b < 0) break;
            {col}
            if (oj >= p_o1) continue;
            {ct} v = {load(dt, "g", "gp + ((i * p_k1 + j) * p_o0 + oi) * p_o1 + oj")};
            {step}
        }}
    }}
    {store(dt, "out", "t", "acc")}
}}
"""
    return header(dt) + src, [sig]


@cache
def fold_signature(dt: str, idx: str) -> KernelSignature:
    """Parameters of ``fold2d``: the contiguous (N, C, H, W) result; the window gradient and its
    offset; the plane (H, W) as ``p_hw``, the kernel size ``p_k``, the output plane ``p_o``, the
    stride ``p_s`` and the dilation ``p_d`` (height, width); the plane count N * C."""
    t = CTYPE[dt]
    return KernelSignature(
        "fold2d",
        (
            Param("out", f"__global {t}*"),
            Param("g", f"__global const {t}*"),
            Param("g_off", idx),
            Param("p_hw", idx, 2),
            Param("p_k", idx, 2),
            Param("p_o", idx, 2),
            Param("p_s", idx, 2),
            Param("p_d", idx, 2),
            Param("planes", idx),
        ),
    )
