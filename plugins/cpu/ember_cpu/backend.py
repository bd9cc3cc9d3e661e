"""The cpu backend: :class:`ember.array_backend.ArrayBackend` on numpy, plus host-specific details.

Buffers are ``numpy.ndarray`` (numpy's own strided views, ufuncs and ``errstate`` are the fast
paths ``ArrayBackend`` finds in it); host transfer shares memory (``from_numpy`` keeps the array,
``to_numpy`` returns it), which is what makes ``ember.from_numpy`` and ``.numpy()`` zero-copy.
Random numbers are numpy's Philox on the host, ``ArrayBackend``'s default, with uniform float32
draws through a C loop of the same generator (:mod:`ember_cpu.random`).
"""

from __future__ import annotations

import os
import platform
from typing import Any

import numpy as np
from ember.array_backend import ArrayBackend, numpy_erf

from . import im2col, native, pooling
from .bfloat16 import bfloat16_kernels
from .memory import keep_freed_memory
from .random import cpu_random_bits


def sum_leading_first(x: np.ndarray, dims: tuple[int, ...], keep: bool, out: np.ndarray | None = None) -> Any:
    """``sum`` over ``dims`` in x's dtype; a floating sum over the leading dimension and others (a
    bias gradient's (0, 2, 3)) first accumulates the leading dimension's rows elementwise, then
    reduces the rest: numpy reducing several strided dimensions at once walks them element by
    element (66 us against 16 us for (64, 32, 8, 8) over (0, 2, 3))."""
    dims = tuple(dims)
    if len(dims) < 2 or 0 not in dims or len(dims) == x.ndim or x.dtype.kind != "f":
        r = np.sum(x, axis=dims, keepdims=keep, dtype=x.dtype, out=out)
        return np.asarray(r) if out is None else out
    rows = np.add.reduce(x, axis=0, dtype=x.dtype)
    rest = tuple(d - 1 for d in dims if d)
    if out is not None:
        np.sum(rows, axis=rest, keepdims=keep, dtype=x.dtype, out=out[0] if keep else out)
        return out
    r = np.asarray(np.sum(rows, axis=rest, keepdims=keep, dtype=x.dtype))
    return r[None] if keep else r


def _from_host(array: np.ndarray, index: int) -> np.ndarray:
    return array


def _to_host(x: np.ndarray) -> np.ndarray:
    return x


class CpuBackend(ArrayBackend):
    """numpy kernels for the ``cpu`` device type (one device, ``cpu``)."""

    device_type = "cpu"

    def __init__(self) -> None:
        super().__init__(
            np, to_host=_to_host, from_host=_from_host, erf=numpy_erf(), random_bits=cpu_random_bits
        )
        keep_freed_memory()  # a training step's large temporaries reuse warm pages
        self.kernels["sum"] = sum_leading_first
        self.kernels.update(bfloat16_kernels(self.kernels))  # ml_dtypes.bfloat16 arrays
        # large strided copies, adds and selects through ember_cpu.native's C loops
        self.kernels.update(native.eager_kernels(self.kernels))
        # max pooling in one pass (the C loops for float32/float64) instead of core's composite
        self.kernels.update(max_pool2d=pooling.max_pool2d, max_pool2d_backward=pooling.max_pool2d_backward)
        self.kernels["fold2d"] = im2col.fold2d  # the convolution's col2im, a plane at a time

    def supports_dtype(self, dtype: Any, index: int) -> bool:
        """Every Ember dtype; bfloat16 through ml_dtypes (see :mod:`ember_cpu.bfloat16`)."""
        return dtype.name == "bfloat16" or super().supports_dtype(dtype, index)

    def device_properties(self, index: int) -> dict[str, Any]:
        """Processor name, core count, numpy version, what ``ember.compile``'s native code uses."""
        from . import native

        return {
            "name": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "numpy": np.__version__,
            "float64": True,
            "float16": True,
            "bfloat16": True,  # ml_dtypes' loops and float32 compute, rounded once per op
            "native code": native.describe(),  # ember.compile's strided loops and fused kernels
            "malloc": keep_freed_memory(),
        }

    def memory_stats(self, index: int) -> dict[str, int]:
        """Host memory is managed by numpy: nothing is cached by Ember."""
        return {"in_use": 0, "cached": 0, "peak": 0}

    def compile_graph(self, graph: Any) -> Any:
        """``ember.compile``'s hook: the graph replayed with a memory plan (see ember_cpu.compiled)."""
        from .compiled import compile_graph

        return compile_graph(graph)
