"""The cpu backend's random numbers: core's :func:`ember.array_backend.numpy_random_bits` (numpy's
Philox keyed by the seed, at the block offset), with its uniform float32 numbers drawn by a C loop
of the same generator (:mod:`ember_cpu.native`, ``ember_philox_uniform_float32``) where the
native code is built: the same numbers bit for bit, about 2x faster than numpy's draw, which
calls through its bit generator once a number (dropout draws a mask of every activation it
drops, each step). Other kinds and dtypes, and a machine without a C compiler, take numpy's draw.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np
from ember.array_backend import numpy_random_bits

from . import native

__all__ = ["cpu_random_bits"]

_MASK64 = (1 << 64) - 1


def cpu_random_bits(
    kind: str, shape: tuple[int, ...], np_dtype: Any, index: int, seed: int, offset: int
) -> Any:
    """``numpy_random_bits``'s numbers (see the module docstring): "uniform" or "normal" draws of
    ``shape`` in ``np_dtype``, a pure function of (seed, offset)."""
    lib = native.library() if kind == "uniform" and np.dtype(np_dtype) == np.float32 else None
    if lib is None:
        return numpy_random_bits(kind, shape, np_dtype, index, seed, offset)
    out = np.empty(shape, dtype=np.float32)
    counter = offset // 4  # numpy_random_bits' Philox(counter=offset // 4): 256 bits, low word first
    words = (ctypes.c_uint64 * 4)(*((counter >> (64 * i)) & _MASK64 for i in range(4)))
    lib.ember_philox_uniform_float32(seed & _MASK64, 0, words, out.size, out.ctypes.data)
    return out
