"""Max-pooling kernels: ``max_pool2d`` and ``max_pool2d_backward`` (optional kernels of
:data:`ember.ops.catalog.OPTIONAL_KERNELS`), with their code generators.

Core's composite copies the windows out (im2col), reduces them and builds the first-maximum mask
with a dozen elementwise ops and a stack; its backward multiplies by the mask and folds. Here the
forward is one launch, one work-item per output element walking its window, and the backward is
one launch too. Both follow PyTorch's rule: window positions in row-major order, an element
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
windows overlap; the parallelism is N * C work-items, plenty for training batches. An index
outside ``[0, H * W)`` (never produced by :func:`max_pool2d`) is skipped rather than written: the
check that would raise IndexError needs the indices on the host, and a kernel that waits for the
device would stall the queue and stop ``ember.compile``'s launch lists from replaying the step.
"""

from __future__ import annotations

from functools import cache

from ember import dtypes

from ._array import CLArray
from ._codegen import CTYPE, FLOATS, compute_type, header, load, store
from ._launch import index_type, launch_1d, launch_n, new_array
from ._signature import KernelSignature, Param, Program

__all__ = ["gen_max_pool_program", "max_pool2d", "max_pool2d_backward"]

_Pair = tuple[int, int]


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
    idx = index_type(total, x, ind)
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
    )
    launch_1d(dev, knl, args, total)
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


def gen_max_pool_program(dt: str, idx: str) -> Program:
    """Both kernels for dtype ``dt`` with index type ``idx``.

    ``max_pool2d``: work-item i is output (b, ch, oi, ow) in C order; it walks its window's rows
    and columns (padding skipped) keeping the running maximum and its position. ``take`` is the
    rule of the module docstring: the window's first in-bounds element, then any greater or NaN
    element (``v != v``).

    ``max_pool2d_backward``: work-item p is plane (b, ch); it zeroes the plane of the contiguous
    output, then adds the plane's gradients at their indices in row-major output order.
    """
    ct = compute_type(dt)
    fwd = max_pool_signature(dt, idx)
    bwd = max_pool_backward_signature(dt, idx)
    zero = store(dt, "gx", "base + t", f"({ct})0")
    src = f"""
{fwd.declaration()} {{
    {idx} i = get_global_id(0);
    if (i >= n) return;
    {idx} oj = i % p_o1; {idx} t_ = i / p_o1;
    {idx} oi = t_ % p_o0; t_ /= p_o0;
    {idx} ch = t_ % p_d0; {idx} b = t_ / p_d0;
    {idx} plane = x_off + b * x_s0 + ch * x_s1;
    {idx} r0 = oi * p_s0 - p_p0, q0 = oj * p_s1 - p_p1;
    {ct} best = -INFINITY;
    long at = -1;
    for ({idx} ki = 0; ki < p_k0; ++ki) {{
        {idx} r = r0 + ki * p_dil0;
        if (r < 0 || r >= p_d1) continue;
        for ({idx} kj = 0; kj < p_k1; ++kj) {{
            {idx} q = q0 + kj * p_dil1;
            if (q < 0 || q >= p_d2) continue;
            {ct} v = {load(dt, "x", "plane + r * x_s2 + q * x_s3")};
            if (at < 0 || v > best || v != v) {{
                best = v;
                at = (long)r * p_d2 + q;
            }}
        }}
    }}
    {store(dt, "out", "i", "best")}
    ind[i] = at;
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
    ``p_p`` and dilation ``p_dil`` (height, width); the output plane (oh, ow) and the element
    count."""
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
