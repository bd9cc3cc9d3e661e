"""The OpenCL backend's native buffer (:class:`CLArray`) and its memory pool.

Imports pyopencl; only the backend's modules import this one, once the backend found pyopencl.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import numpy as np
import pyopencl as cl
from ember.layout import StridedBuffer, StridedLayout

__all__ = ["Allocation", "CLArray", "MemoryPool"]

_MIN_BLOCK = 256
_HOST_ALIGN = 128  # alignment of host-backed buffers (the widest OpenCL vector type, double16)


def _bucket(nbytes: int) -> int:
    """Size class of an allocation: at least 256 bytes, then 4 classes per power of two."""
    if nbytes <= _MIN_BLOCK:
        return _MIN_BLOCK
    shift = max(nbytes.bit_length() - 3, 0)
    step = 1 << shift
    return (nbytes + step - 1) // step * step


class Allocation:
    """One pooled device buffer. Returns itself to its pool when the last view dies.

    ``keep`` holds objects that must outlive queued work using the buffer (for instance the
    host array and event of a non-blocking upload). ``host`` is the buffer's memory as a uint8
    numpy array when the pool is host-backed (see :class:`MemoryPool`), else None.
    """

    __slots__ = ("buf", "host", "keep", "pool", "size")

    def __init__(self, buf: cl.Buffer, host: np.ndarray | None, size: int, pool: MemoryPool) -> None:
        self.buf = buf
        self.host = host
        self.size = size
        self.pool = pool
        self.keep: Any = None

    def __del__(self) -> None:
        pool = self.pool
        if pool is not None:
            try:  # MemoryPool._release, inlined: any thread, no lock (see MemoryPool)
                pool._returned.append(((self.buf, self.host), self.size))
            except Exception:  # noqa: BLE001, S110 - interpreter shutdown
                pass


class MemoryPool:
    """A caching allocator: free lists of device buffers by size class.

    Freed buffers are kept for reuse (``cached``) until :meth:`empty_cache`. Reuse is safe
    without waiting because all work of a device goes through one in-order queue at a time.

    Threads: the free lists and counters change under the pool's lock. A buffer comes back from
    ``Allocation.__del__``, in whatever thread drops the last reference, possibly one inside a
    pool call already (a garbage collection), so :meth:`_release` takes no lock: it appends to a
    deque that the next call under the lock drains into the free lists.

    ``host_backed``: every buffer is created over aligned host memory the pool allocates
    (``CL_MEM_USE_HOST_PTR``), which a CPU device such as PoCL's computes in place; the backend
    then reads results from that memory once the queue is done instead of enqueuing a transfer
    (see :func:`ember_opencl.memory.to_numpy`). Only used after :meth:`host_memory_is_device_memory`
    confirmed it on the device.
    """

    def __init__(
        self, context: cl.Context, max_alloc: int, global_mem: int, name: str, host_backed: bool = False
    ) -> None:
        self.context = context
        self.max_alloc = max_alloc
        self.global_mem = global_mem
        self.name = name
        self.host_backed = host_backed
        self.free: dict[int, list[tuple[cl.Buffer, np.ndarray | None]]] = {}
        self.in_use = 0
        self.cached = 0
        self.peak = 0
        self.n_allocs = 0
        self._lock = threading.RLock()
        self._returned: deque[tuple[tuple[cl.Buffer, np.ndarray | None], int]] = deque()

    def allocate(self, nbytes: int) -> Allocation:
        """A buffer of at least ``nbytes`` bytes (at least 1)."""
        size = _bucket(nbytes)
        lock = self._lock
        lock.acquire()  # (cheaper than `with` on the hot path)
        try:
            free = self.free
            returned = self._returned
            while returned:  # _drain, inlined: usually the one buffer the last op dropped
                pair, s = returned.popleft()
                self.in_use -= s
                self.cached += s
                lst = free.get(s)
                if lst is None:
                    free[s] = [pair]
                else:
                    lst.append(pair)
            lst = free.get(size)
            if lst:
                buf, host = lst.pop()
                self.cached -= size
            else:
                buf, host = self._new(size, nbytes)
            in_use = self.in_use = self.in_use + size
            if in_use > self.peak:  # noqa: PLR1730 - no call on the hot path
                self.peak = in_use
        finally:
            lock.release()
        return Allocation(buf, host, size, self)

    def _drain(self) -> None:
        """Move the buffers given back since the last call into the free lists (under the lock)."""
        returned = self._returned
        free = self.free
        while returned:
            pair, size = returned.popleft()
            self.in_use -= size
            self.cached += size
            lst = free.get(size)
            if lst is None:
                free[size] = [pair]
            else:
                lst.append(pair)

    def _create(self, size: int) -> tuple[cl.Buffer, np.ndarray | None]:
        if not self.host_backed:
            return cl.Buffer(self.context, cl.mem_flags.READ_WRITE, size), None
        raw = np.empty(size + _HOST_ALIGN, dtype=np.uint8)
        start = -raw.ctypes.data % _HOST_ALIGN
        host = raw[start : start + size]
        return cl.Buffer(
            self.context, cl.mem_flags.READ_WRITE | cl.mem_flags.USE_HOST_PTR, hostbuf=host
        ), host

    def _new(self, size: int, nbytes: int) -> tuple[cl.Buffer, np.ndarray | None]:
        if size > self.max_alloc or self.in_use + size > self.global_mem:
            self.empty_cache()
            if size > self.max_alloc or self.in_use + size > self.global_mem:
                raise MemoryError(self._oom_message(nbytes, size))
        try:
            pair = self._create(size)
        except (cl.MemoryError, cl.LogicError, cl.RuntimeError, MemoryError):
            self.empty_cache()
            try:
                pair = self._create(size)
            except (cl.MemoryError, cl.LogicError, cl.RuntimeError, MemoryError) as exc:
                raise MemoryError(self._oom_message(nbytes, size) + f" ({exc})") from None
        self.n_allocs += 1
        return pair

    def host_memory_is_device_memory(self, queue: cl.CommandQueue) -> bool:
        """Whether a host-backed buffer's host memory is what the device computes on: fill one
        on the device and look at the host side without a transfer."""
        buf, host = self._create(256)
        host[:] = 0
        pattern = np.array([0x5A17C3E1], dtype=np.uint32)
        cl.enqueue_fill_buffer(queue, buf, pattern, 0, 256)
        queue.finish()
        ok = bool((host.view(np.uint32) == pattern[0]).all())
        buf.release()
        return ok

    def _oom_message(self, nbytes: int, size: int) -> str:
        return (
            f"OpenCL out of memory on {self.name}: requested {nbytes} bytes (block {size}); "
            f"pool in use {self.in_use} bytes, cached {self.cached} bytes, peak {self.peak} bytes; "
            f"device global memory {self.global_mem} bytes, max single allocation {self.max_alloc} bytes"
        )

    def _release(self, pair: tuple[cl.Buffer, np.ndarray | None], size: int) -> None:
        """Take back a buffer of size class ``size`` (any thread, no lock: see the class)."""
        self._returned.append((pair, size))

    def empty_cache(self) -> None:
        """Release every cached (unused) buffer to the OpenCL runtime."""
        with self._lock:
            self._drain()
            for lst in self.free.values():
                for buf, _ in lst:
                    buf.release()
            self.free.clear()
            self.cached = 0

    def stats(self) -> dict[str, int]:
        """in_use, cached and peak bytes (size classes, as held from the runtime)."""
        with self._lock:
            self._drain()
            return {
                "in_use": self.in_use,
                "cached": self.cached,
                "peak": self.peak,
                "allocations": self.n_allocs,
            }


class CLArray(StridedBuffer):
    """A strided view into a pooled OpenCL buffer, or a pending elementwise result.

    Fields: ``alloc`` (the :class:`Allocation`, shared by views), ``layout``
    (:class:`ember.layout.StridedLayout`, in elements), ``dtype`` (an Ember DType) and ``dev``
    (the backend's per-device state: context, queue, pool, program cache).

    A *pending* array (see :mod:`ember_opencl._fusion`) has no allocation yet, only ``expr``:
    the elementwise op that will produce it. Reading ``alloc`` computes it (fusing the pending
    ops it depends on into one kernel where that pays), so every kernel that touches device
    memory sees a materialised buffer without knowing about fusion.
    """

    __slots__ = ("__weakref__", "_alloc", "dev", "dtype", "expr", "layout")

    def __init__(self, alloc: Allocation | None, layout: StridedLayout, dtype: Any, dev: Any) -> None:
        self._alloc = alloc
        self.layout = layout
        self.dtype = dtype
        self.dev = dev
        self.expr: Any = None

    @property
    def alloc(self) -> Allocation:
        """The allocation holding the data (computed first if the array is pending)."""
        a = self._alloc
        if a is None:
            a = self.dev.fusion.materialize(self)
        return a

    @property
    def is_pending(self) -> bool:
        """True while the array is an elementwise expression not computed yet."""
        return self._alloc is None

    @property
    def buffer(self) -> cl.Buffer:
        """The underlying ``pyopencl.Buffer`` (shared with every view)."""
        return self.alloc.buf

    @property
    def device_index(self) -> int:
        """Index of the device holding the buffer."""
        return self.dev.index

    def __len__(self) -> int:
        if not self.layout.shape:
            raise TypeError("len() of a 0-d CLArray")
        return self.layout.shape[0]

    def __repr__(self) -> str:
        return (
            f"CLArray(shape={self.shape}, strides={self.strides}, offset={self.offset}, "
            f"dtype={self.dtype.name}, device=opencl:{self.dev.index})"
        )
