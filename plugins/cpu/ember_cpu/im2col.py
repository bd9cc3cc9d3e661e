"""The cpu backend's ``fold2d`` kernel (:data:`ember.ops.catalog.OPTIONAL_KERNELS`): unfold2d's
adjoint, the convolution's col2im.

Core's composite adds the window gradient back one kernel position at a time, each add a strided
pass over the whole (N, C, H, W) result (nine passes for a 3 x 3 kernel, rows of 8 floats on an
8 x 8 image). Here the C loop of ``strided.c`` (see :mod:`ember_cpu.native`) folds one plane at a
time, which stays in cache across the kernel positions, in the composite's order per element (the
same bits); numpy's adds in that order for other dtypes or without a C compiler.
"""

from __future__ import annotations

import ctypes

import numpy as np

from . import native

__all__ = ["fold2d"]

_Pair = tuple[int, int]


def fold2d(
    g: np.ndarray,
    src_shape: tuple[int, int, int, int],
    out_hw: _Pair,
    kernel_size: _Pair,
    stride: _Pair,
    dilation: _Pair,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """A fresh (N, C, H, W) array (``src_shape``) with each element of the (N, C, kh, kw, oh, ow)
    window gradient ``g`` added at its window position, kernel positions in row-major order;
    ``out``: a C-contiguous array of that shape and ``g``'s dtype to write instead (a compiled
    plan's buffer: every element is written, whatever it held)."""
    n, c, h, w = src_shape
    (kh, kw), (oh, ow), (sh, sw), (dh, dw) = kernel_size, out_hw, stride, dilation
    if g.shape != (n, c, kh, kw, oh, ow):
        raise ValueError(
            f"fold2d: the window gradient has shape {g.shape}, expected {(n, c, kh, kw, oh, ow)} "
            f"for an input of shape {tuple(src_shape)}"
        )
    if (oh - 1) * sh + (kh - 1) * dh >= h or (ow - 1) * sw + (kw - 1) * dw >= w:
        raise ValueError(
            f"fold2d: windows of {out_hw} outputs run past the input of shape {tuple(src_shape)}"
        )
    native.check_out_buffer("fold2d", out, src_shape, g.dtype)
    lib = native.library() if g.dtype in native.POOL_DTYPES else None
    if lib is not None:
        g = np.ascontiguousarray(g)
        out = np.empty(src_shape, dtype=g.dtype) if out is None else out
        params = (ctypes.c_int64 * 8)(kh, kw, oh, ow, sh, sw, dh, dw)
        getattr(lib, f"ember_fold_{g.dtype.name}")(g.ctypes.data, out.ctypes.data, n, c, h, w, params)
        return out
    if out is None:
        out = np.zeros(src_shape, dtype=g.dtype)
    else:
        out.fill(0)
    for i in range(kh):
        for j in range(kw):
            r, q = i * dh, j * dw
            out[:, :, r : r + (oh - 1) * sh + 1 : sh, q : q + (ow - 1) * sw + 1 : sw] += g[:, :, i, j]
    return out
