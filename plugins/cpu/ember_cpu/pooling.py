"""The cpu backend's max-pooling kernels (``max_pool2d`` and ``max_pool2d_backward`` of
:data:`ember.ops.catalog.OPTIONAL_KERNELS`).

Core's composite copies the windows (im2col), reduces them and builds a first-maximum mask with a
dozen elementwise ops; its backward multiplies by the mask and folds the windows back. Here one
pass over the input gives the maxima and their positions, and the backward adds each gradient at
its position: the loops of ``strided.c`` (see :mod:`ember_cpu.native`) for float32 and float64,
a few numpy passes (one per window position) for other dtypes or without a C compiler. Both
follow PyTorch's rule: positions in the window's row-major order, an element replaces the running
maximum when greater or NaN (the last NaN wins), padding never does, and an all -inf window points
at its first in-bounds element.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from . import native

__all__ = ["max_pool2d", "max_pool2d_backward"]

_Pair = tuple[int, int]


def _i64(values: Any) -> Any:
    return (ctypes.c_int64 * len(values))(*values)


def max_pool2d(
    x: np.ndarray, kernel_size: _Pair, stride: _Pair, padding: _Pair, dilation: _Pair, out_hw: _Pair
) -> tuple[np.ndarray, np.ndarray]:
    """(values, int64 indices), each (N, C, oh, ow): the maximum of each window of (N, C, H, W) ``x``
    and its position ``h * W + w`` in the input plane (PyTorch's max_pool2d); a window of padding
    alone (dilation can skip the input) is -inf at index -1."""
    n, c, h, w = x.shape
    oh, ow = out_hw
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    ind = np.empty((n, c, oh, ow), dtype=np.int64)
    lib = native.library() if x.dtype in native.POOL_DTYPES and h * w < 2**31 else None  # int32 positions
    if lib is not None and out.size:
        m = oh * ow
        scratch, iscratch = np.empty(2 * m, dtype=x.dtype), np.empty(2 * m, dtype=np.int32)
        params = _i64((*kernel_size, *stride, *padding, *dilation, oh, ow))
        getattr(lib, f"ember_max_pool_{x.dtype.name}")(
            x.ctypes.data,
            _i64(x.strides),
            n,
            c,
            h,
            w,
            params,
            out.ctypes.data,
            ind.ctypes.data,
            scratch.ctypes.data,
            iscratch.ctypes.data,
        )
        return out, ind
    return _max_pool_numpy(x, kernel_size, stride, padding, dilation, out, ind)


def _max_pool_numpy(
    x: np.ndarray, k: _Pair, s: _Pair, p: _Pair, d: _Pair, out: np.ndarray, ind: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The same rule with numpy: one pass of compare-and-select per window position over the
    -inf-padded input (padding is never greater, nor NaN)."""
    n, c, h, w = x.shape
    oh, ow = out.shape[2:]
    # the padded extent the windows reach (ceil_mode windows may run past the right padding)
    hp = max(h + 2 * p[0], (oh - 1) * s[0] + d[0] * (k[0] - 1) + 1)
    wp = max(w + 2 * p[1], (ow - 1) * s[1] + d[1] * (k[1] - 1) + 1)
    xp = np.full((n, c, hp, wp), -np.inf, dtype=x.dtype)
    xp[:, :, p[0] : p[0] + h, p[1] : p[1] + w] = x
    pos = np.full((hp, wp), -1, dtype=np.int64)
    pos[p[0] : p[0] + h, p[1] : p[1] + w] = np.arange(h * w, dtype=np.int64).reshape(h, w)

    def window(a: np.ndarray, i: int, j: int) -> np.ndarray:
        r, q = i * d[0], j * d[1]
        return a[..., r : r + (oh - 1) * s[0] + 1 : s[0], q : q + (ow - 1) * s[1] + 1 : s[1]]

    first = np.full((oh, ow), -1, dtype=np.int64)  # each window's first in-bounds position
    for i in range(k[0]):
        for j in range(k[1]):
            at = window(pos, i, j)
            first = np.where((first < 0) & (at >= 0), at, first)
    best = np.full(out.shape, -np.inf, dtype=x.dtype)
    where = np.broadcast_to(first, out.shape).copy()
    floating = np.issubdtype(x.dtype, np.inexact) or x.dtype.kind == "V"
    for i in range(k[0]):
        for j in range(k[1]):
            v = window(xp, i, j)
            take = v > best
            if floating:
                take |= np.isnan(v)
            best = np.where(take, v, best)
            where = np.where(take, window(pos, i, j), where)
    out[...] = best
    ind[...] = where
    return out, ind


def max_pool2d_backward(
    grad: np.ndarray, indices: np.ndarray, input_hw: _Pair, out: np.ndarray | None = None
) -> np.ndarray:
    """The gradient of :func:`max_pool2d` with respect to its (N, C, H, W) input: each output's
    gradient added at its index (where overlapping windows share a maximum, their gradients sum;
    index -1, a window of padding alone, takes none); ``out``: a C-contiguous array of that shape
    and ``grad``'s dtype to write instead (a compiled plan's buffer: zeroed here)."""
    n, c, oh, ow = grad.shape
    h, w = input_hw
    if indices.shape != grad.shape:
        raise ValueError(
            f"max_pool2d_backward: indices of shape {indices.shape} do not match the gradient's {grad.shape}"
        )
    native.check_out_buffer("max_pool2d_backward", out, (n, c, h, w), grad.dtype)
    if out is None:
        gx = np.zeros((n, c, h, w), dtype=grad.dtype)
    else:
        gx = out
        gx.fill(0)
    lib = native.library() if grad.dtype in native.POOL_DTYPES and indices.dtype == np.int64 else None
    if lib is not None:
        bad = getattr(lib, f"ember_max_pool_backward_{grad.dtype.name}")(
            gx.ctypes.data,
            grad.ctypes.data,
            _i64(grad.strides),
            indices.ctypes.data,
            _i64(indices.strides),
            n,
            c,
            oh,
            ow,
            h * w,
        )
    else:
        flat = indices.reshape(n * c, oh * ow)
        bad = flat.size and (flat.min() < -1 or flat.max() >= h * w)
        if not bad:
            rows = np.broadcast_to(np.arange(n * c)[:, None], flat.shape)
            some = flat >= 0  # -1: a window of padding alone, whose gradient goes nowhere
            np.add.at(gx.reshape(n * c, h * w), (rows[some], flat[some]), grad.reshape(n * c, oh * ow)[some])
    if bad:
        raise IndexError(
            f"max_pool2d_backward: an index is outside the input plane of {h} x {w} = {h * w} positions; "
            "indices must come from max_pool2d on an input of that size"
        )
    return gx
