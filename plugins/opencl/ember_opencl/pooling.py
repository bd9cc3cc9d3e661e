"""Max-pooling kernels: ``max_pool2d`` and ``max_pool2d_backward`` (optional kernels of
:data:`ember.ops.catalog.OPTIONAL_KERNELS`), with their code generators.

Core's composite copies the windows out (im2col), reduces them and builds the first-maximum mask
with a dozen elementwise ops and a stack; its backward multiplies by the mask and folds. Here the
forward is one launch (each work-item walks the windows of a run of outputs, 8 or 4 at a time as
vector lanes: see :func:`gen_max_pool_program`), and the backward is one launch too. Both follow PyTorch's rule: window positions in row-major order, an element
replaces the running maximum when it is greater or NaN (the last NaN wins), padding never does,
and an all -inf window points at its first in-bounds element. Indices are int64 ``h * W + w``
within the input plane.

The input is read through its strides (any, negative included) and offset, so no copy is made;
the outputs are fresh and contiguous. Values are loaded into the dtype's compute type (float for
float16 and bfloat16: comparisons of the widened values order them exactly as the stored ones)
and stored back unchanged, so the maxima are the input's values bit for bit.

The backward's work-items each own one (n, c) plane: a work-item zeroes its plane of the fresh
gradient buffer, then adds the plane's output gradients at their indices in row-major output
order, as PyTorch's CPU kernel does. Overlapping windows (stride < kernel size) may share a
maximum, so a work-item per output would race; with one per plane nothing is shared, no atomics
are needed, and the sums come out in PyTorch's order, so results are deterministic. The kernel
receives only the gradient and the indices (not the window geometry), so it cannot tell whether
windows overlap; the parallelism is N * C work-items, plenty for training batches (few large
planes, N * C in the tens, would leave a GPU mostly idle: a known limit). An index
outside ``[0, H * W)`` (never produced by :func:`max_pool2d`) is skipped rather than written: the
check that would raise IndexError needs the indices on the host, and a kernel that waits for the
device would stall the queue and stop ``ember.compile``'s launch lists from replaying the step.
"""

from __future__ import annotations

from functools import cache

from ember import dtypes

from ._array import CLArray
from ._codegen import CTYPE, FLOATS, compute_type, header, load, store
from ._launch import index_type, launch_n, new_array
from ._signature import KernelSignature, Param, Program

__all__ = ["gen_max_pool_program", "max_pool2d", "max_pool2d_backward"]

_Pair = tuple[int, int]
#: most outputs one work-item of max_pool2d computes on a CPU device (8 chunks of 8 float lanes)
_SPAN = 64


def _check_floating(op: str, dt: str) -> None:
    if dt not in FLOATS:
        raise TypeError(
            f"{op}: the opencl kernel takes floating inputs ({', '.join(FLOATS)}), got {dt}; "
            "core composes max pooling of other dtypes from unfold2d and elementwise ops "
            "(ember.nn.functional.max_pool2d)"
        )


def max_pool2d(
    x: CLArray, kernel_size: _Pair, stride: _Pair, padding: _Pair, dilation: _Pair, out_hw: _Pair
) -> tuple[CLArray, CLArray]:
    """Kernel ``max_pool2d``: (values, int64 indices), each a fresh (N, C, oh, ow) array: the
    maximum of each window of floating (N, C, H, W) ``x`` and its position ``h * W + w`` in the
    input plane (PyTorch's max_pool2d; see the module docstring)."""
    dt = x.dtype.name
    _check_floating("max_pool2d", dt)
    dev = x.dev
    n, c, h, w = x.shape
    oh, ow = out_hw
    out = new_array(dev, (n, c, oh, ow), x.dtype)
    ind = new_array(dev, (n, c, oh, ow), dtypes.int64)
    total = out.size
    if total == 0:
        return out, ind
    idx = index_type(total + _SPAN, x, ind)
    # chunks of lanes per work-item: a few on a CPU (its threads take whole work-groups), one on
    # a GPU (many work-items)
    per = _SPAN // 8 if dev.is_cpu else 1
    items = -(-total // (per * _lanes(dt, idx)))
    knl = dev.program(("max_pool2d", dt, idx), gen_max_pool_program, dt, idx)["max_pool2d"]
    args = max_pool_signature(dt, idx).pack(
        out.alloc.buf,
        ind.alloc.buf,
        x.alloc.buf,
        x.offset,
        list(x.strides),
        [c, h, w],
        list(kernel_size),
        list(stride),
        list(padding),
        list(dilation),
        [oh, ow],
        total,
        per,
        items,
    )
    launch_n(dev, knl, args, items)
    return out, ind


def max_pool2d_backward(grad: CLArray, indices: CLArray, input_hw: _Pair) -> CLArray:
    """Kernel ``max_pool2d_backward``: a fresh (N, C, H, W) array of ``grad``'s dtype, zero except
    where each element of (N, C, oh, ow) ``grad`` is added at its int64 index of the same shape
    (overlapping windows sum, in row-major output order). Indices outside ``[0, H * W)`` are
    skipped (see the module docstring)."""
    dt = grad.dtype.name
    _check_floating("max_pool2d_backward", dt)
    if indices.shape != grad.shape or indices.dtype.name != "int64":
        raise ValueError(
            f"max_pool2d_backward: indices of shape {indices.shape} and dtype {indices.dtype.name} do not "
            f"match the gradient's shape {grad.shape}; pass the int64 indices max_pool2d returned"
        )
    dev = grad.dev
    n, c, oh, ow = grad.shape
    h, w = input_hw
    gx = new_array(dev, (n, c, h, w), grad.dtype)
    planes = n * c
    if planes == 0 or h * w == 0:
        return gx
    idx = index_type(gx.size, grad, indices, gx)
    knl = dev.program(("max_pool2d_backward", dt, idx), gen_max_pool_program, dt, idx)["max_pool2d_backward"]
    args = max_pool_backward_signature(dt, idx).pack(
        gx.alloc.buf,
        grad.alloc.buf,
        grad.offset,
        list(grad.strides),
        indices.alloc.buf,
        indices.offset,
        list(indices.strides),
        [c, oh, ow],
        h * w,
        planes,
    )
    launch_n(dev, knl, args, planes)
    return gx


# ----------------------------------------------------------------------------------------------
# code generation


def _lanes(dt: str, idx: str) -> int:
    """Outputs per vector in :func:`gen_max_pool_program`: 256 bits of coordinates (8 int or 4
    long lanes; long8 vectors crash PoCL's kernel compiler on AVX2)."""
    return 8 if compute_type(dt) == "float" and idx == "int" else 4


def gen_max_pool_program(dt: str, idx: str) -> Program:
    """Both kernels for dtype ``dt`` with index type ``idx``.

    ``max_pool2d``: the outputs, in C order, are taken ``w`` at a time (:func:`_lanes`: 8, or 4
    for double values or long indices) as the lanes of vectors holding each lane's coordinates (b, ch, oi,
    oj), its running maximum and its position; work-item ``item`` does ``per`` such chunks from
    output ``item * per * w`` on. For each window position all lanes compare and select at once;
    an element outside the input reads the buffer's first element and is masked out. Moving to
    the next chunk adds ``w`` to oj and carries into oi, ch and b with vector selects, so no
    division runs past a work-item's start, and a row shorter than ``w`` (the 4 outputs of an
    8 x 8 plane pooled by 2) leaves no lane idle.

    Why vectors: a scalar running maximum (one work-item per output, ``if (v > best) ...``)
    compiles to a branch per element (LLVM turns the select a loop carries into a jump),
    mispredicted about half the time on unordered data: 3-4x slower on PoCL (the digits CNN's
    pooling: about 1 ms against 0.28 ms). The selects are written as masks (a comparison's
    lanes are 0 or -1): PoCL calls the builtins ``select`` and ``isnan`` out of line, and the
    masks took the digits CNN's pooling from 0.17-0.18 ms to 0.11-0.12 ms (alternating runs).

    ``take`` is the rule of the module docstring: the window's first in-bounds element, then any
    greater or NaN element.

    ``max_pool2d_backward``: work-item p is plane (b, ch); it zeroes the plane of the contiguous
    output, then adds the plane's gradients at their indices in row-major output order.
    """
    ct = compute_type(dt)
    fwd = max_pool_signature(dt, idx)
    bwd = max_pool_backward_signature(dt, idx)
    zero = store(dt, "gx", "base + t", f"({ct})0")
    w = _lanes(dt, idx)
    # masks of value comparisons are int (float) or long (double) lanes; coordinates are pt lanes
    mt = "int" if ct == "float" else "long"
    pt = "int" if mt == "int" and idx == "int" else "long"
    P, C, M = f"{pt}{w}", f"{ct}{w}", f"{mt}{w}"

    def as_mask(e: str) -> str:
        return f"({e})" if pt == mt else f"convert_{M}({e})"

    def carry(lo: str, hi: str, size: str) -> str:
        # lanes whose ``lo`` passed ``size`` wrap it and step ``hi``: at most w / size rounds (a
        # comparison's lanes are 0 or -1: masking with it is the select)
        return (
            f"for ({P} m = {lo} >= ({pt}){size}; any(m); m = {lo} >= ({pt}){size}) {{ "
            f"{lo} -= ({pt}){size} & m; {hi} -= m; }}"
        )

    lanes = ", ".join(load(dt, "x", f"addr.s{j}") for j in range(w))
    # (per-lane stores: vstoreN of these vectors crashes PoCL's kernel compiler)
    full_store = " ".join(f"{store(dt, 'out', f'base + {j}', f'best.s{j}')} ind[base + {j}] = at.s{j};" for j in range(w))
    part_store = " ".join(
        f"if (base + {j} < total) {{ {store(dt, 'out', f'base + {j}', f'best.s{j}')} ind[base + {j}] = at.s{j}; }}"
        for j in range(w)
    )
    seq = ", ".join(str(j) for j in range(w))
    src = f"""
{fwd.declaration()} {{
    {idx} item = get_global_id(0);
    if (item >= n) return;
    {idx} i0 = item * per * {w};
    {idx} t_ = i0 / p_o1;
    {idx} oj0 = i0 - t_ * p_o1;
    {idx} oi0 = t_ % p_o0; t_ /= p_o0;
    {P} oj = ({P})(({pt})oj0) + ({P})({seq});
    {P} oi = ({P})(({pt})oi0), ch = ({P})(({pt})(t_ % p_d0)), b = ({P})(({pt})(t_ / p_d0));
    {carry("oj", "oi", "p_o1")}
    {carry("oi", "ch", "p_o0")}
    {carry("ch", "b", "p_d0")}
    {idx} end = min(i0 + per * {w}, total);
    for ({idx} base = i0; base < end; base += {w}) {{
        {P} live = ({P})(({pt})base) + ({P})({seq}) < ({P})(({pt})total);
        {P} plane = ({pt})x_off + b * ({pt})x_s0 + ch * ({pt})x_s1;
        {P} r0 = oi * ({pt})p_s0 - ({pt})p_p0, q0 = oj * ({pt})p_s1 - ({pt})p_p1;
        {C} best = ({C})(-INFINITY);
        {P} at = ({P})(-1);
        for ({idx} ki = 0; ki < p_k0; ++ki) {{
            {P} r = r0 + ({pt})(ki * p_dil0);
            {P} rin = live & (r >= ({pt})0) & (r < ({pt})p_d1);
            {P} rp = plane + r * ({pt})x_s2;
            for ({idx} kj = 0; kj < p_k1; ++kj) {{
                {P} q = q0 + ({pt})(kj * p_dil1);
                {P} inb = rin & (q >= ({pt})0) & (q < ({pt})p_d2);
                {P} addr = (rp + q * ({pt})x_s3) & inb;
                {C} v = ({C})({lanes});
                {M} take = {as_mask("inb")} & ({as_mask("at < 0")} | (v > best) | (v != v));
                best = as_{C}((as_{M}(best) & ~take) | (as_{M}(v) & take));
                {P} tp = {"take" if pt == mt else f"convert_{P}(take)"};
                at = (at & ~tp) | ((r * ({pt})p_d2 + q) & tp);
            }}
        }}
        if (base + {w} <= total) {{ {full_store} }} else {{ {part_store} }}
        oj += ({pt}){w};
        {carry("oj", "oi", "p_o1")}
        {carry("oi", "ch", "p_o0")}
        {carry("ch", "b", "p_d0")}
    }}
}}

{bwd.declaration()} {{
    {idx} p = get_global_id(0);
    if (p >= n) return;
    {idx} b = p / p_d0, ch = p % p_d0;
    {idx} base = p * hw;
    for ({idx} t = 0; t < hw; ++t) {zero}
    {idx} g0 = g_off + b * g_s0 + ch * g_s1, i0 = ix_off + b * ix_s0 + ch * ix_s1;
    for ({idx} oi = 0; oi < p_d1; ++oi) {{
        for ({idx} oj = 0; oj < p_d2; ++oj) {{
            long at = ix[i0 + oi * ix_s2 + oj * ix_s3];
            if (at < 0 || at >= hw) continue;
            {idx} k = base + ({idx})at;
            {ct} v = {load(dt, "gx", "k")} + {load(dt, "g", "g0 + oi * g_s2 + oj * g_s3")};
            {store(dt, "gx", "k", "v")}
        }}
    }}
}}
"""
    return header(dt) + src, [fwd, bwd]


@cache
def max_pool_signature(dt: str, idx: str) -> KernelSignature:
    """Parameters of ``max_pool2d``: the value and index outputs; x with its offset and its four
    strides; x's dims C, H, W (``p_d``); the window's size ``p_k``, stride ``p_s``, padding
    ``p_p`` and dilation ``p_dil`` (height, width); the output plane (oh, ow); the output count,
    the chunks of lanes per work-item and the work-item count."""
    t = CTYPE[dt]
    return KernelSignature(
        "max_pool2d",
        (
            Param("out", f"__global {t}*"),
            Param("ind", "__global long*"),
            Param("x", f"__global const {t}*"),
            Param("x_off", idx),
            Param("x_s", idx, 4),
            Param("p_d", idx, 3),
            Param("p_k", idx, 2),
            Param("p_s", idx, 2),
            Param("p_p", idx, 2),
            Param("p_dil", idx, 2),
            Param("p_o", idx, 2),
            Param("total", idx),
            Param("per", idx),
            Param("n", idx),
        ),
    )


@cache
def max_pool_backward_signature(dt: str, idx: str) -> KernelSignature:
    """Parameters of ``max_pool2d_backward``: the contiguous (N, C, H, W) output; the gradient
    and the indices, each with its offset and four strides; (C, oh, ow) as ``p_d``; the plane
    size H * W and the plane count N * C."""
    t = CTYPE[dt]
    return KernelSignature(
        "max_pool2d_backward",
        (
            Param("gx", f"__global {t}*"),
            Param("g", f"__global const {t}*"),
            Param("g_off", idx),
            Param("g_s", idx, 4),
            Param("ix", "__global const long*"),
            Param("ix_off", idx),
            Param("ix_s", idx, 4),
            Param("p_d", idx, 3),
            Param("hw", idx),
            Param("n", idx),
        ),
    )
