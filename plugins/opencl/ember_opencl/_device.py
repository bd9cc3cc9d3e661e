"""Per-device state of the OpenCL backend: :class:`_Device`.

A ``_Device`` holds the OpenCL device, its context and single in-order queue (created on first
use), the memory pool, the cache of built programs and the launch-plan caches of the kernel
families. Every command the backend enqueues goes through :meth:`_Device.launch`,
:meth:`_Device.fill` or :meth:`_Device.upload`, which record its event in ``last``: a readback
from host-backed memory (:func:`ember_opencl.memory.to_numpy`) trusts that record to know whether
the queue is idle.

Imports pyopencl; only the backend (and the modules it loads once pyopencl is there) import it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyopencl as cl
from pyopencl import enqueue_copy as _enqueue_copy
from pyopencl import enqueue_nd_range_kernel as _enqueue_nd

# pyopencl's private entry point: its public wrapper queries the CL version per call
from pyopencl._cl import _enqueue_fill_buffer

from . import _codegen as cg
from ._array import MemoryPool
from ._signature import Program

__all__ = ["_Device", "wait"]


class _Device:
    """Per-device state: the OpenCL device, its context and queue (created lazily), pool, programs."""

    def __init__(self, index: int, platform: Any, device: Any) -> None:
        self.index = index
        self.platform = platform
        self.device = device
        self.name = device.name.strip()
        exts = device.extensions.split()
        self.fp64 = "cl_khr_fp64" in exts
        self.fp16 = "cl_khr_fp16" in exts
        self.is_cpu = bool(device.type & 2)  # CL_DEVICE_TYPE_CPU
        # the destination dtypes of one copy program (see ember_opencl.memory.gen_copy_program)
        self.copy_dsts = ",".join(d for d in cg.CTYPE if d != "float64" or self.fp64)
        self._ctx = None
        self.queue: Any = None
        self.pool: Any = None
        self.programs: dict[tuple, dict[str, Any]] = {}
        self.plans: dict[tuple, tuple] = {}  # elementwise launch plans (elementwise.run_map)
        self.copy_plans: dict[tuple, tuple] = {}  # copy_ launch plans by (dtypes, layouts)
        self.reduce_plans: dict[tuple, tuple] = {}  # single-launch generic reductions
        self.mm_plans: dict[tuple, tuple] = {}  # float matmul launch plans
        self.fusion: Any = None  # the backend's _fusion.Fusion (CLArray.alloc materialises through it)
        self.pending: list = []  # weak references to this device's pending arrays, oldest first
        # event of the last command enqueued, None when the queue is known idle: every command
        # goes through launch(), fill() or upload() so that a host-side readback never misses one
        self.last: Any = None

    def open(self) -> _Device:
        """Create the context, queue and pool on first use."""
        if self._ctx is None:
            self._ctx = cl.Context([self.device])
            self.queue = cl.CommandQueue(self._ctx, self.device)
            args = (
                self._ctx,
                self.device.max_mem_alloc_size,
                self.device.global_mem_size,
                f"opencl:{self.index} ({self.name})",
            )
            self.pool = MemoryPool(*args, host_backed=self.is_cpu)
            if self.is_cpu and not self.pool.host_memory_is_device_memory(self.queue):
                self.pool = MemoryPool(*args)
        return self

    @property
    def context(self) -> Any:
        """The device's ``pyopencl.Context`` (created on first use)."""
        return self.open()._ctx

    def program(self, key: tuple, gen: Callable[..., Program], *gen_args: Any) -> dict[str, Any]:
        """Build (once) and return ``{kernel name: pyopencl.Kernel}`` of the program ``key``.

        ``gen(*gen_args)`` gives the program's source and the signatures of its kernels; each
        kernel gets its signature's scalar argument types, so ``set_args`` packs Python numbers."""
        kernels = self.programs.get(key)
        if kernels is not None:
            return kernels
        src, sigs = gen(*gen_args)
        prg = cl.Program(self.context, src)
        try:
            prg.build()
        except Exception as exc:  # noqa: BLE001 - re-raised with the build log
            try:
                log = prg.get_build_info(self.device, cl.program_build_info.LOG)
            except Exception:  # noqa: BLE001
                log = "(no build log)"
            raise RuntimeError(
                f"OpenCL backend: building program {key} (kernels {[str(s) for s in sigs]}) for "
                f"{self.name} failed: {exc}\nbuild log:\n{log}\nsource:\n{src}"
            ) from None
        kernels = {}
        for sig in sigs:
            knl = cl.Kernel(prg, sig.c_name)
            # typed scalar arguments: set_args packs Python ints/floats with struct (about 1 µs)
            # instead of pyopencl's generic numpy-scalar path (about 10 µs per scalar argument)
            knl.set_scalar_arg_dtypes(sig.arg_dtypes)
            kernels[sig.name] = knl
        self.programs[key] = kernels
        return kernels

    def launch(self, knl: Any, gsize: tuple[int, ...], lsize: tuple[int, ...] | None) -> None:
        """Enqueue kernel ``knl`` (arguments already set)."""
        self.last = _enqueue_nd(self.queue, knl, gsize, lsize)

    def fill(self, buf: Any, pattern: np.ndarray, offset: int, nbytes: int) -> None:
        """Enqueue filling ``nbytes`` of ``buf`` from byte ``offset`` with ``pattern``."""
        self.last = _enqueue_fill_buffer(self.queue, buf, pattern, offset, nbytes, None)

    def upload(self, buf: Any, host: np.ndarray) -> Any:
        """Enqueue copying ``host`` into ``buf`` without waiting; returns the event."""
        self.last = _enqueue_copy(self.queue, buf, host, is_blocking=False)
        return self.last


def wait(queue: Any, evt: Any, spin_s: float = 2e-4) -> None:
    """Wait for ``evt``: poll its status for up to ``spin_s`` seconds, then block.

    A blocking wait on PoCL's CPU device costs tens of µs of thread wake-up latency; a short
    poll returns as soon as a small transfer is done.
    """
    queue.flush()
    t_end = time.perf_counter() + spin_s
    while time.perf_counter() < t_end:
        if evt.command_execution_status <= 0:  # CL_COMPLETE (0) or an error (< 0: wait raises it)
            break
    evt.wait()
