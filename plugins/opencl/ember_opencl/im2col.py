"""The convolution's col2im: the optional kernel ``fold2d`` (unfold2d's backward), with its code
generator.

Core's composite zeroes the (N, C, H, W) result and adds the contiguous (N, C, kh, kw, oh, ow)
window gradient back one kernel position at a time: kh * kw strided ``add_`` launches, each
reading and writing the whole result. Here one launch does it, in one of two schedules that
give every element the composite's sum, operation for operation: each element starts from zero
and gets its windows' gradients added in row-major kernel-position order (no two windows at one
kernel position share an element). float32, float64 and the integer dtypes add in their own
type; float16 and bfloat16 are rounded back to their dtype after every add (as the composite's
stores round them), so results equal it bit for bit.

- **Planes** (a CPU device): a work-item owns whole (n, c) planes; it zeroes a plane, then for
  each kernel position and window row adds a row of window gradients into the plane (both sides
  run along W: the inner loop is a vector loop). Work-groups of one work-item, a few planes each
  (PoCL pays per work-group, and compiles a one-item group's loops with LLVM's vectoriser): the
  digits CNN's fold (64 x 16 planes of 10 x 10, 3 x 3 windows) takes 0.12 ms on PoCL, against
  0.40 ms as the gather below and 0.48 ms as the composite.
- **Gather** (other devices: parallelism per element): the work-item of result element
  (plane, r, q) adds each kernel position's window gradient whose window position
  ``(oi * sh + i * dh, oj * sw + j * dw)`` is its own. No two work-items write one element, so
  there are no atomics. The range is 3-D (q, r, plane), so no division finds an element's
  coordinates, and a stride of 1 (the convolution's) compiles without the stride's divisions.
"""

from __future__ import annotations

from functools import cache

from ._array import CLArray
from ._codegen import CTYPE, FLOATS, INTS, compute_type, header, load, store
from ._launch import index_type, launch_nd, new_array
from ._signature import KernelSignature, Param, Program

__all__ = ["FOLD_DTYPES", "PLANE_ITEMS", "SCHEDULE", "fold2d", "gen_fold_program"]

_Pair = tuple[int, int]
#: the dtypes the kernel takes (core composes bool and complex folds from its adds)
FOLD_DTYPES = FLOATS + INTS
#: work-items of the plane schedule on a CPU device (measured on PoCL, 2 cores: 16 to 256 items
#: take the digits CNN's fold in 0.12-0.15 ms; one item per plane, 1024 work-groups, is slower)
PLANE_ITEMS = 64
#: the schedule every device uses when set ("planes" or "gather"; None: planes on a CPU device,
#: gather elsewhere). The tests set it to run both on one device.
SCHEDULE: str | None = None


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
    kn = dev.program(("fold2d", dt, idx, unit), gen_fold_program, dt, idx, unit)
    geometry = ([h, w], [kh, kw], [oh, ow], [sh, sw], [dh, dw], n * c)
    if (SCHEDULE or ("planes" if dev.is_cpu else "gather")) == "planes":
        # a few planes per work-item, about PLANE_ITEMS of them (see the module docstring)
        per = -(-n * c // PLANE_ITEMS)
        args = fold_planes_signature(dt, idx).pack(out.alloc.buf, g.alloc.buf, g.offset, *geometry, per)
        launch_nd(dev, kn["fold2d_planes"], args, (-(-n * c // per),), (1,))
        return out
    args = fold_signature(dt, idx).pack(out.alloc.buf, g.alloc.buf, g.offset, *geometry)
    # work-groups of whole rows (neighbouring work-items, neighbouring elements) and as many
    # rows as fit 256 work-items
    lw = min(w, 256)
    lh = max(1, min(h, 256 // lw))
    launch_nd(dev, kn["fold2d"], args, (-(-w // lw) * lw, -(-h // lh) * lh, n * c), (lw, lh, 1))
    return out


def gen_fold_program(dt: str, idx: str, unit_stride: bool) -> Program:
    """Both ``fold2d`` schedules (see the module docstring) for dtype ``dt`` with index type
    ``idx`` (``unit_stride``: stride (1, 1), the convolution's, compiled without the stride's
    divisions).

    ``fold2d`` (the gather): the work-item at (q, r, plane) of a 3-D range is result element
    (plane, r, q); for each kernel position ``(i, j)`` in row-major order whose window row
    ``r - i * dh`` and column ``q - j * dw`` fall on a stride inside the output plane, it adds
    that window's gradient element, starting from zero. Rows and columns only decrease with
    ``i`` and ``j``, so a negative one ends its loop. Neighbouring work-items read neighbouring
    gradients.

    ``fold2d_planes``: work-item ``item`` zeroes planes ``item * per`` to ``item * per + per - 1``
    one at a time and adds, for each kernel position (row-major), window row and window column,
    the gradient at ``(oi * sh + i * dh, oj * sw + j * dw)`` of its plane."""
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
    psig = fold_planes_signature(dt, idx)
    add_at = store(dt, "o", "u", load(dt, "o", "u") + " + " + load(dt, "gr", "oj"))
    planes_src = f"""
{psig.declaration()} {{
    {idx} p0 = get_global_id(0) * per;
    {idx} p1 = min(p0 + per, planes);
    for ({idx} p = p0; p < p1; ++p) {{
        __global {CTYPE[dt]}* o = out + p * p_hw0 * p_hw1;
        const __global {CTYPE[dt]}* gp = g + g_off + p * p_k0 * p_k1 * p_o0 * p_o1;
        for ({idx} t = 0; t < p_hw0 * p_hw1; ++t) {store(dt, "o", "t", f"({ct})0")}
        for ({idx} i = 0; i < p_k0; ++i)
            for ({idx} j = 0; j < p_k1; ++j)
                for ({idx} oi = 0; oi < p_o0; ++oi) {{
                    {idx} u0 = (oi * p_s0 + i * p_d0) * p_hw1 + j * p_d1;
                    const __global {CTYPE[dt]}* gr = gp + ((i * p_k1 + j) * p_o0 + oi) * p_o1;
                    for ({idx} oj = 0; oj < p_o1; ++oj) {{
                        {idx} u = u0 + oj{"" if unit_stride else " * p_s1"};
                        {add_at}
                    }}
                }}
    }}
}}
"""
    return header(dt) + src + planes_src, [sig, psig]


@cache
def fold_planes_signature(dt: str, idx: str) -> KernelSignature:
    """Parameters of ``fold2d_planes``: those of ``fold2d`` (:func:`fold_signature`) and the
    planes per work-item ``per``."""
    base = fold_signature(dt, idx)
    return KernelSignature("fold2d_planes", (*base.params, Param("per", idx)))


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
