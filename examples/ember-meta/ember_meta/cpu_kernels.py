"""A faster ``softmax`` kernel for Ember's cpu device, installed by a :class:`KernelOverride`.

The cpu backend's kernel (:func:`ember.array_backend.array_kernels`) computes
``e = exp(x - max); e /= sum(e)``: five passes over memory and two full-size temporaries. For
large (16 MiB and more) C-contiguous float32/float64 inputs this kernel computes the same expression, with the
same numpy ufuncs in the same order (so the same values, bit for bit):

* along the last axis, a block of rows (1 MiB) at a time, writing straight
  into the result, so only the first read of each block comes from main memory;
* along another axis, in place in one preallocated result (one full-size temporary fewer).

Every other input (small, non-contiguous, float16, 0-d, empty) takes the generic numpy path,
which is the cpu backend's own algorithm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["KERNELS", "softmax", "softmax_generic"]

#: bytes of one block of rows on the last-axis path (1 MiB: stays in the L2/L3 cache between passes)
BLOCK_BYTES = 1 << 20
#: smaller inputs (and their temporaries) stay in cache anyway: the generic path is as fast there
#: (measured: break-even at 8 MiB, 1.2-1.5x from 16 MiB; see benchmarks/bench_softmax.py)
MIN_BYTES = 1 << 24
_FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_max = np.maximum.reduce
_sum = np.add.reduce


def softmax_generic(x: np.ndarray, dim: int) -> np.ndarray:
    """The cpu backend's own softmax (any layout, any floating dtype)."""
    with np.errstate(all="ignore"):
        e = np.exp(x - x.max(axis=dim, keepdims=True))
        e /= e.sum(axis=dim, keepdims=True)
        return e


def _softmax_last_axis(x: np.ndarray) -> np.ndarray:
    k = x.shape[-1]
    rows = x.reshape(-1, k)  # a view: x is C-contiguous
    out = np.empty_like(rows)
    step = max(1, BLOCK_BYTES // max(k * x.itemsize, 1))
    for i in range(0, rows.shape[0], step):
        xb, ob = rows[i : i + step], out[i : i + step]
        np.subtract(xb, _max(xb, axis=1, keepdims=True), out=ob)
        np.exp(ob, out=ob)
        ob /= _sum(ob, axis=1, keepdims=True)
    return out.reshape(x.shape)


def _softmax_in_place(x: np.ndarray, dim: int) -> np.ndarray:
    out = np.subtract(x, _max(x, axis=dim, keepdims=True))
    np.exp(out, out=out)
    out /= _sum(out, axis=dim, keepdims=True)
    return out


def softmax(x: np.ndarray, dim: int) -> np.ndarray:
    """softmax(x, dim) along the (non-negative) axis ``dim``; contract of
    :data:`ember.ops.catalog.OPTIONAL_KERNELS`. A fresh C-contiguous array on the fast paths."""
    if (
        type(x) is not np.ndarray
        or x.dtype not in _FAST_DTYPES
        or x.nbytes < MIN_BYTES
        or not x.flags.c_contiguous
    ):
        return softmax_generic(x, dim)
    with np.errstate(all="ignore"):  # IEEE results (inf, nan) without warnings, like the cpu backend
        if dim == x.ndim - 1:
            return _softmax_last_axis(x)
        return _softmax_in_place(x, dim)


#: what the KernelOverride names: op name -> kernel
KERNELS: dict[str, Callable[..., Any]] = {"softmax": softmax}
