"""Per-device state of the OpenCL backend: :class:`_Device`.

A ``_Device`` holds the OpenCL device, its context and in-order queue (created on first use), the
memory pool, the cache of built programs, the launch-plan caches of the kernel families and the
fusion layer's per-device state. Every command the backend enqueues goes through
:meth:`_Device.launch`, :meth:`_Device.fill`, :meth:`_Device.upload` or :meth:`_Device.read`,
which record its event in ``last``: a readback from host-backed memory
(:func:`ember_opencl.memory.to_numpy`) trusts that record to know whether the queue is idle.

Threads: one re-entrant lock per device (``lock``) makes each ``set_args`` and its enqueue one
step (kernel objects are cached per device and shared by every thread), and guards ``last``,
the pending fused arrays (:mod:`ember_opencl._fusion`), the queue switch of a device profile and
opening the device. Building a program takes a second lock (``_build_lock``, always after
``lock`` when both are held), so launches on the device go on while a thread builds. The pool has
its own (see :class:`ember_opencl._array.MemoryPool`).

Device profiling (:meth:`set_tracing`): while a profile with the device activity runs, the device
works on a second queue created with ``PROFILING_ENABLE`` (the flag can only be given at
creation; the first queue keeps running without it) and every command is kept with its event, the
host time just before its enqueue and the enqueuing thread; :meth:`device_events` turns them into
(name, start, end, thread, enqueued) on the host's ``perf_counter_ns`` clock.

Imports pyopencl; only the backend (and the modules it loads once pyopencl is there) import it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from time import perf_counter_ns
from typing import Any

import numpy as np
import pyopencl as cl
from pyopencl import enqueue_copy as _enqueue_copy
from pyopencl import enqueue_nd_range_kernel as _enqueue_nd

# pyopencl's private entry points: the public wrappers query the CL version per call
from pyopencl._cl import _enqueue_fill_buffer, _enqueue_read_buffer

from . import _codegen as cg
from ._array import MemoryPool
from ._signature import Program

__all__ = ["_Device", "wait"]

_PROFILING = cl.command_queue_properties.PROFILING_ENABLE


class _Device:
    """Per-device state: the OpenCL device, its context and queue (created lazily), pool, programs,
    launch plans, the fusion layer's pending arrays and counters, and the device lock."""

    def __init__(self, index: int, platform: Any, device: Any) -> None:
        self.index = index
        self.platform = platform
        self.device = device
        self.name = device.name.strip()
        exts = device.extensions.split()
        self.fp64 = "cl_khr_fp64" in exts
        self.fp16 = "cl_khr_fp16" in exts
        self.is_cpu = bool(device.type & 2)  # CL_DEVICE_TYPE_CPU
        # the destination dtypes of one copy program (see ember_opencl.memory.gen_copy_program):
        # a real source's program converts to the real dtypes, a complex source's to every dtype;
        # copies from a real to a complex dtype have programs of their own, so the real programs
        # (most copies) build no complex kernels
        have = [d for d in cg.CTYPE if d not in ("float64", "complex128") or self.fp64]
        self.copy_dsts = ",".join(d for d in have if not d.startswith("complex"))
        self.complex_copy_dsts = ",".join(d for d in have if d.startswith("complex"))
        self.all_copy_dsts = ",".join(have)
        #: held for each set_args + enqueue, and for the other shared state (module docstring)
        self.lock = threading.RLock()
        self._build_lock = threading.Lock()
        self._ctx = None
        self.queue: Any = None
        self._queues: dict[bool, Any] = {}  # profiling-enabled? -> queue (the second on demand)
        self.pool: Any = None
        self.programs: dict[tuple, dict[str, Any]] = {}
        self.plans: dict[tuple, tuple] = {}  # elementwise launch plans (elementwise.run_map)
        self.copy_plans: dict[tuple, tuple] = {}  # copy_ launch plans by (dtypes, layouts)
        self.reduce_plans: dict[tuple, tuple] = {}  # single-launch generic reductions
        self.mm_plans: dict[tuple, tuple] = {}  # float matmul launch plans
        self.fusion: Any = None  # the backend's _fusion.Fusion (CLArray.alloc materialises through it)
        # the fusion layer's state of this device, changed under ``lock``: weak references to the
        # pending arrays (oldest first; appended without the lock, see _fusion._pending), how
        # often each structure was materialised, structures whose fused program does not build,
        # and the counters of ember_opencl.fusion_stats() (a pending array is counted when its
        # entry leaves the list)
        self.pending: list = []
        self.seen: dict[tuple, int] = {}
        self.unbuildable: set[tuple] = set()
        self.fusion_counts = {"pending": 0, "fused_launches": 0, "fused_ops": 0, "eager_ops": 0, "flushes": 0}
        # event of the last command enqueued, None when the queue is known idle: every command
        # goes through launch(), fill(), upload() or read() so that a host-side readback never
        # misses one
        self.last: Any = None
        # while a device profile runs: (kernel or command name, event, host ns before the
        # enqueue, native thread id) of every command; None otherwise
        self.trace: list | None = None

    def open(self) -> _Device:
        """Create the context, queue and pool on first use (once, whichever threads ask)."""
        if self._ctx is None:
            with self.lock:
                if self._ctx is None:
                    self._open()
        return self

    def _open(self) -> None:
        ctx = cl.Context([self.device])
        self._queues[False] = cl.CommandQueue(ctx, self.device)
        queue = self._queues[False]
        if self.trace is not None:
            queue = self._queues[True] = cl.CommandQueue(ctx, self.device, properties=_PROFILING)
        self.queue = queue
        args = (
            ctx,
            self.device.max_mem_alloc_size,
            self.device.global_mem_size,
            f"opencl:{self.index} ({self.name})",
        )
        pool = MemoryPool(*args, host_backed=self.is_cpu)
        if self.is_cpu and not pool.host_memory_is_device_memory(queue):
            pool = MemoryPool(*args)
        self.pool = pool
        self._ctx = ctx  # last: a thread that sees the context sees the queue and pool

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
        ctx = self.context  # (opening takes ``lock``: never while holding the build lock)
        with self._build_lock:
            kernels = self.programs.get(key)
            if kernels is None:
                kernels = self.programs[key] = self._build(ctx, key, gen, gen_args)
        return kernels

    def _build(self, ctx: Any, key: tuple, gen: Callable[..., Program], gen_args: tuple) -> dict[str, Any]:
        src, sigs = gen(*gen_args)
        prg = cl.Program(ctx, src)
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
        return kernels

    # -- enqueueing (every command of the backend) --------------------------------------------------

    def launch(self, knl: Any, args: Any, gsize: tuple[int, ...], lsize: tuple[int, ...] | None) -> None:
        """Set kernel ``knl``'s arguments to ``args`` (a sequence) and enqueue it over ``gsize``
        in work-groups ``lsize``, as one step under the device lock."""
        lock = self.lock
        lock.acquire()  # (cheaper than `with` on the hot path)
        try:
            knl.set_args(*args)
            if self.trace is None:
                self.last = _enqueue_nd(self.queue, knl, gsize, lsize)
            else:
                t = perf_counter_ns()
                evt = self.last = _enqueue_nd(self.queue, knl, gsize, lsize)
                self.trace.append((knl, evt, t, threading.get_native_id()))
        finally:
            lock.release()

    def fill(self, buf: Any, pattern: np.ndarray, offset: int, nbytes: int) -> None:
        """Enqueue filling ``nbytes`` of ``buf`` from byte ``offset`` with ``pattern``."""
        with self.lock:
            t = 0 if self.trace is None else perf_counter_ns()
            evt = self.last = _enqueue_fill_buffer(self.queue, buf, pattern, offset, nbytes, None)
            if self.trace is not None:
                self.trace.append(("fill_buffer", evt, t, threading.get_native_id()))

    def upload(self, buf: Any, host: np.ndarray) -> Any:
        """Enqueue copying ``host`` into ``buf`` without waiting; returns the event."""
        with self.lock:
            t = 0 if self.trace is None else perf_counter_ns()
            evt = self.last = _enqueue_copy(self.queue, buf, host, is_blocking=False)
            if self.trace is not None:
                self.trace.append(("write_buffer", evt, t, threading.get_native_id()))
        return evt

    def read(self, buf: Any, host: np.ndarray, offset: int) -> Any:
        """Enqueue copying ``buf`` from byte ``offset`` into ``host`` and submit it; returns the
        event (wait with :func:`wait`, then :meth:`forget` it)."""
        with self.lock:
            t = 0 if self.trace is None else perf_counter_ns()
            queue = self.queue
            evt = self.last = _enqueue_read_buffer(queue, buf, host, offset, None, False)
            if self.trace is not None:
                self.trace.append(("read_buffer", evt, t, threading.get_native_id()))
            queue.flush()
        return evt

    def idle(self) -> bool:
        """Whether every command enqueued so far has finished; forgets the record when so.

        Commands run in order, so the newest being done means all are. The status is read
        without the lock (a command enqueued meanwhile is newer, and never one this thread waits
        for); clearing ``last`` compares first, so another thread's newer record stays."""
        last = self.last
        if last is None:
            return True
        if last.command_execution_status > 0:  # CL_COMPLETE is 0, errors are negative
            return False
        self.forget(last)
        return True

    def forget(self, evt: Any) -> None:
        """Clear ``last`` if it is still ``evt`` (a finished command: the queue is idle)."""
        with self.lock:
            if self.last is evt:
                self.last = None

    # -- device profiling ----------------------------------------------------------------------------

    def set_tracing(self, on: bool) -> None:
        """Start (``on``) or stop keeping every command's event for :meth:`device_events`.

        Starting moves the device to its profiling-enabled queue, stopping back to the first one;
        the queue left is finished first, so commands stay in order (and pooled memory is reused
        safely) across the switch. Kept events not collected are dropped on stop."""
        with self.lock:
            if on == (self.trace is not None):
                return
            self.trace = [] if on else None
            if self._ctx is None:
                return  # open() makes the queue that fits
            queue = self._queues.get(on)
            if queue is None:
                queue = self._queues[on] = cl.CommandQueue(self._ctx, self.device, properties=_PROFILING)
            self.queue.finish()
            self.queue = queue

    def device_events(self) -> list[tuple[str, int, int, int, int]]:
        """The commands kept since the last call, each ``(name, start_ns, end_ns, thread,
        enqueued_ns)``: the kernel's name (``fill_buffer``, ``write_buffer``, ``read_buffer`` for
        the other commands) and when it ran on the device, on the host's ``perf_counter_ns``
        clock; the native id of the thread that enqueued it and the host time just before it
        did. Waits for the commands to finish.

        Device timestamps come from the device's own clock. Its offset to the host clock is the
        largest (host time before an enqueue - the command's QUEUED timestamp) of the kept
        commands: the smallest offset under which no command was queued before its host enqueue
        began, so never later than the true one, and short of it only by the shortest time any
        enqueue call took to stamp QUEUED (a few µs on PoCL)."""
        with self.lock:
            trace = self.trace
            if not trace:
                return []
            self.trace = []
        trace[-1][1].wait()  # in order: the last done means all are
        names: dict[int, str] = {}
        rows = []
        offset = None
        for what, evt, host_ns, tid in trace:
            prof = evt.profile
            queued, start, end = prof.queued, prof.start, prof.end
            o = host_ns - queued
            if offset is None or o > offset:
                offset = o
            if type(what) is str:
                name = what
            else:
                name = names.get(id(what))
                if name is None:
                    name = what.function_name
                    name = names[id(what)] = name.removeprefix("k_")
            rows.append((name, start, end, tid, host_ns))
        off = offset or 0
        return [(name, start + off, end + off, tid, host_ns) for name, start, end, tid, host_ns in rows]


def wait(evt: Any, spin_s: float = 2e-4) -> None:
    """Wait for ``evt`` (already submitted): poll its status for up to ``spin_s`` seconds, then
    block.

    A blocking wait on PoCL's CPU device costs tens of µs of thread wake-up latency; a short
    poll returns as soon as a small transfer is done.
    """
    t_end = time.perf_counter() + spin_s
    while time.perf_counter() < t_end:
        if evt.command_execution_status <= 0:  # CL_COMPLETE (0) or an error (< 0: wait raises it)
            break
    evt.wait()
