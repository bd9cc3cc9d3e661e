"""The OpenCL backend: :class:`OpenCLBackend` (devices, fusion mode, the kernel table).

Device order: platforms in ``pyopencl.get_platforms()`` order, then each platform's devices in
``platform.get_devices()`` order; ``opencl:0`` is the first. The environment variable
``EMBER_OPENCL_DEVICE`` restricts the list to devices whose platform name or device name contains
it (case-insensitive substring), keeping that order.

The kernels live in one module per family, each beside its OpenCL C code generator:
:mod:`~ember_opencl.memory` (transfers, creation, copies, casts, views, ``add_``),
:mod:`~ember_opencl.elementwise` (unary, binary, compare, ``where``),
:mod:`~ember_opencl.reductions` (sum ... argmin, cumsum, softmax, log_softmax),
:mod:`~ember_opencl.linalg` (matmul), :mod:`~ember_opencl.indexing` (gather, scatter_add,
nonzero), :mod:`~ember_opencl.sorting` (sort), :mod:`~ember_opencl.pooling` (max_pool2d and its
gradient), :mod:`~ember_opencl.im2col` (fold2d) and :mod:`~ember_opencl.random` (uniform, normal); :meth:`OpenCLBackend._kernel_table` lists them all by op name. Per-device state (context, queue, pool, program and launch-plan
caches) is :class:`ember_opencl._device._Device`; lazy elementwise fusion is
:mod:`ember_opencl._fusion`. Programs are generated per (family, dtype(s), rank bucket, index
type, operand modes), built on first use and cached per device. Only ``to_numpy`` and
``nonzero`` wait for the device; every other kernel just enqueues work on the device's in-order
queue. Threads may use a device at once: its shared state changes under one lock per device
(:class:`ember_opencl._device._Device`). A profile with the device activity gets every command's
device time (:meth:`OpenCLBackend.profiler_device_events`).

Besides the primitives the backend provides the optional kernels ``add_`` (in-place add through
views), ``relu``, ``softmax``, ``log_softmax``, ``atan2`` (elementwise, fused like the binary
primitives), ``sort`` (a segmented bitonic sort, :mod:`ember_opencl.sorting`), ``max_pool2d`` and
``max_pool2d_backward`` (one launch each, :mod:`ember_opencl.pooling`), ``fold2d`` (the
convolution's col2im as one launch, :mod:`ember_opencl.im2col`) and the complex
kernels ``real``, ``imag``, ``complex`` and ``conj``. Complex arrays are float2/double2 pairs
(:mod:`ember_opencl._complex`); every family above takes them where numpy defines the op.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
from ember.backend import Backend, BackendUnavailable

try:
    import pyopencl as cl
except ImportError as exc:  # the constructor reports it: the backend is unavailable, not broken
    cl = None
    _PYOPENCL_MISSING = str(exc)
else:  # the kernel modules import pyopencl (through the array type and the device)
    from . import elementwise, fft, im2col, indexing, linalg, memory, pooling, random, reductions, sorting
    from ._array import CLArray
    from ._device import _Device
    from ._fusion import MODES, Fusion

__all__ = ["OpenCLBackend"]

REMEDY = "pip install 'ember[opencl]' (PoCL CPU runtime: pip install pocl-binary-distribution)"
ENV_DEVICE = "EMBER_OPENCL_DEVICE"
ENV_FUSION = "EMBER_OPENCL_FUSION"


def _unary_compare(kernel: Callable[[Any, Any], Any]) -> Callable[[Any], Any]:
    """A bool-valued unary kernel (``signbit``) from a compare kernel whose expression reads only
    its first operand: the second is the scalar 0."""

    def unary(x: Any) -> Any:
        return kernel(x, 0)

    unary.__name__ = unary.__qualname__ = kernel.__name__  # named after its op, as every kernel
    return unary


class OpenCLBackend(Backend):
    """Ember's OpenCL backend (device type ``"opencl"``). See the module docstring."""

    device_type = "opencl"
    #: DLPack's ``kDLOpenCL``: ``x.__dlpack_device__()`` is ``(4, index)``; the buffers themselves
    #: export no DLPack capsule (``x.__dlpack__()`` raises BufferError naming ``x.to('cpu')``)
    dlpack_device_type = 4

    def __init__(self) -> None:
        super().__init__()
        if cl is None:
            raise BackendUnavailable(f"pyopencl is not installed ({_PYOPENCL_MISSING})", REMEDY)
        try:
            platforms = cl.get_platforms()
        except Exception as exc:  # noqa: BLE001 - cl.LogicError PLATFORM_NOT_FOUND_KHR without an ICD
            raise BackendUnavailable(f"no OpenCL platform found ({exc})", REMEDY) from None
        found: list[tuple[Any, Any]] = []
        for p in platforms:
            try:
                devs = p.get_devices()
            except Exception:  # noqa: BLE001, S112 - a platform without devices: DEVICE_NOT_FOUND
                continue
            found.extend((p, d) for d in devs)
        want = os.environ.get(ENV_DEVICE, "").strip().lower()
        if want:
            chosen = [(p, d) for p, d in found if want in p.name.lower() or want in d.name.lower()]
            if not chosen:
                avail = "; ".join(f"{p.name.strip()} / {d.name.strip()}" for p, d in found) or "none"
                raise BackendUnavailable(
                    f"{ENV_DEVICE}={want!r} matches no OpenCL device (available: {avail})",
                    f"unset {ENV_DEVICE} or set it to part of a platform or device name",
                )
            found = chosen
        if not found:
            raise BackendUnavailable("no OpenCL device found", REMEDY)
        self._devices = [_Device(i, p, d) for i, (p, d) in enumerate(found)]
        mode = os.environ.get(ENV_FUSION, "auto").strip().lower() or "auto"
        if mode not in MODES:
            raise BackendUnavailable(
                f"{ENV_FUSION}={mode!r} is not a fusion mode",
                f"set {ENV_FUSION} to one of {', '.join(MODES)}",
            )
        self._fusion = Fusion(mode)
        for d in self._devices:
            d.fusion = self._fusion
        self.kernels = self._kernel_table()

    def _kernel_table(self) -> dict[str, Callable[..., Any]]:
        """Every kernel of the backend by op name: the primitives of
        :data:`ember.backend.PRIMITIVES` and the optional kernels ``add_``, ``relu``, ``softmax``,
        ``log_softmax``, ``atan2``, ``sort``, ``max_pool2d``, ``max_pool2d_backward``, ``real``,
        ``imag``, ``complex`` and ``conj`` (:data:`ember.ops.catalog.OPTIONAL_KERNELS`).

        The unary maps (``conj`` included) and the non-bitwise binary maps (``atan2`` included)
        go through the fusion layer (``fused_unary``/``fused_binary``), which returns pending
        arrays for contiguous float32/float64/complex64/complex128 operands and calls the eager
        kernel otherwise. Each call builds fresh
        unary/binary/reduction kernels (they keep per-backend launch-plan caches).
        """
        ew, red = elementwise, reductions
        fusion = self._fusion

        def fused_unary(name: str) -> Callable[[Any], Any]:
            return fusion.wrap_unary(name, ew.unary_kernel(name))

        def fused_binary(name: str) -> Callable[[Any, Any], Any]:
            return fusion.wrap_binary(name, ew.binary_kernel(name))

        abs_kernel = ew.unary_kernel("abs")

        def complex_abs(x: Any) -> Any:
            # |x| of a complex buffer (float2/double2 in, float/double out): cabs, C's hypot rule
            return abs_kernel(x)

        return {
            # -- host transfer, memory and layout (memory.py)
            "from_numpy": self._from_numpy,
            "to_numpy": memory.to_numpy,
            "empty": self._empty,
            "full": self._full,
            "copy_": memory.copy_,
            "cast": memory.cast,
            "strides": memory.strides,
            "as_strided": memory.as_strided,
            # -- elementwise (elementwise.py)
            "neg": fused_unary("neg"),
            "abs": fused_unary("abs"),
            "exp": fused_unary("exp"),
            "log": fused_unary("log"),
            "sqrt": fused_unary("sqrt"),
            "sin": fused_unary("sin"),
            "cos": fused_unary("cos"),
            "tanh": fused_unary("tanh"),
            "erf": fused_unary("erf"),
            "floor": fused_unary("floor"),
            "ceil": fused_unary("ceil"),
            "round": fused_unary("round"),
            "trunc": fused_unary("trunc"),
            "add": fused_binary("add"),
            "sub": fused_binary("sub"),
            "mul": fused_binary("mul"),
            "div": fused_binary("div"),
            "pow": fused_binary("pow"),
            "maximum": fused_binary("maximum"),
            "minimum": fused_binary("minimum"),
            "bitwise_and": ew.binary_kernel("bitwise_and"),
            "bitwise_or": ew.binary_kernel("bitwise_or"),
            "bitwise_xor": ew.binary_kernel("bitwise_xor"),
            "floor_divide": fused_binary("floor_divide"),
            "remainder": fused_binary("remainder"),
            "eq": ew.binary_kernel("eq", compare=True),
            "lt": ew.binary_kernel("lt", compare=True),
            "le": ew.binary_kernel("le", compare=True),
            "signbit": _unary_compare(ew.binary_kernel("signbit", compare=True)),
            "where": ew.where,
            # -- reductions (reductions.py)
            "sum": red.reduction_kernel("sum"),
            "prod": red.reduction_kernel("prod"),
            "max": red.reduction_kernel("max"),
            "min": red.reduction_kernel("min"),
            "argmax": red.reduction_kernel("argmax"),
            "argmin": red.reduction_kernel("argmin"),
            "cumsum": red.cumsum,
            # -- linear algebra (linalg.py), indexing (indexing.py), random (random.py)
            "matmul": linalg.matmul,
            "gather": indexing.gather,
            "scatter_add": indexing.scatter_add,
            "nonzero": indexing.nonzero,
            "uniform": self._uniform,
            "normal": self._normal,
            # -- optional kernels
            "add_": memory.add_,
            "relu": fused_unary("relu"),
            "softmax": red.softmax,
            "log_softmax": red.log_softmax,
            "atan2": fused_binary("atan2"),
            "sort": sorting.sort,
            "fft_c2c": fft.fft_c2c,  # ember.fft's transform: Stockham passes (fft.py)
            # max pooling and its gradient, one launch each (pooling.py)
            "max_pool2d": pooling.max_pool2d,
            "max_pool2d_backward": pooling.max_pool2d_backward,
            # the convolution's col2im, one launch (im2col.py)
            "fold2d": im2col.fold2d,
            # complex numbers: the parts as real arrays, a complex array from its parts, conj
            "real": memory.real,
            "imag": memory.imag,
            "complex": ew.make_complex,
            "conj": fused_unary("conj"),
            "complex_abs": complex_abs,
        }

    # ------------------------------------------------------------------------------------------
    # the kernels that take a device index

    def _from_numpy(self, array: np.ndarray, device_index: int) -> CLArray:
        """Kernel ``from_numpy``: a copy of ``array`` on device ``device_index``."""
        return memory.from_numpy(self._dev(device_index), array)

    def _empty(self, shape: tuple[int, ...], dtype: Any, device_index: int) -> CLArray:
        """Kernel ``empty``: an uninitialised contiguous array on device ``device_index``."""
        return memory.empty(self._dev(device_index), shape, dtype)

    def _full(self, shape: tuple[int, ...], value: Any, dtype: Any, device_index: int) -> CLArray:
        """Kernel ``full``: a contiguous array of ``value`` on device ``device_index``."""
        return memory.full(self._dev(device_index), shape, value, dtype)

    def _uniform(
        self, shape: tuple[int, ...], dtype: Any, device_index: int, seed: int, offset: int
    ) -> CLArray:
        """Kernel ``uniform`` on device ``device_index`` (see :func:`ember_opencl.random.uniform`)."""
        return random.uniform(self._dev(device_index), shape, dtype, seed, offset)

    def _normal(
        self, shape: tuple[int, ...], dtype: Any, device_index: int, seed: int, offset: int
    ) -> CLArray:
        """Kernel ``normal`` on device ``device_index`` (see :func:`ember_opencl.random.normal`)."""
        return random.normal(self._dev(device_index), shape, dtype, seed, offset)

    def _dev(self, index: int) -> _Device:
        return self._devices[index].open()

    # ------------------------------------------------------------------------------------------
    # fusion

    def set_fusion(self, mode: str) -> str:
        """Set the fusion mode (``auto``, ``always`` or ``off``); returns the previous one.

        Pending arrays are materialised first; the change applies to every later op.
        """
        if mode not in MODES:
            raise ValueError(f"opencl set_fusion: unknown mode {mode!r}; expected one of {', '.join(MODES)}")
        for d in self._devices:
            if d.queue is not None:
                self._fusion.flush(d)
        old, self._fusion.mode = self._fusion.mode, mode
        return old

    def fusion_stats(self) -> dict[str, int]:
        """Counters of the fusion layer, summed over the devices: pending arrays made, fused
        launches and the ops they covered, ops run by the prebuilt kernels, flushes before
        in-place writes."""
        total: dict[str, int] = {}
        for d in self._devices:
            with d.lock:
                for k, v in d.fusion_counts.items():
                    total[k] = total.get(k, 0) + v
                # (an entry of the pending list is counted when flush or compaction takes it out)
                total["pending"] += len(d.pending)
        return total

    # ------------------------------------------------------------------------------------------
    # device queries

    def device_count(self) -> int:
        """Number of OpenCL devices visible (after ``EMBER_OPENCL_DEVICE`` filtering)."""
        return len(self._devices)

    def device_properties(self, index: int) -> dict[str, Any]:
        """Name, platform, memory sizes, compute units and fp64/fp16 support of device ``index``."""
        d = self._devices[index]
        dev = d.device
        return {
            "name": d.name,
            "platform": d.platform.name.strip(),
            "vendor": dev.vendor.strip(),
            "version": dev.version.strip(),
            "driver_version": dev.driver_version.strip(),
            "global_memory": int(dev.global_mem_size),
            "max_allocation": int(dev.max_mem_alloc_size),
            "local_memory": int(dev.local_mem_size),
            "compute_units": int(dev.max_compute_units),
            "fp64": d.fp64,
            "fp16": d.fp16,
            "float16_storage": True,  # half is computed in float32, stored with vstore_half_rte
            "bfloat16_storage": True,  # ushort, computed in float32, stored rounded to nearest even
        }

    def supports_dtype(self, dtype: Any, index: int) -> bool:
        """float64 and complex128 need cl_khr_fp64; float16 is stored as half and computed in
        float32 everywhere; bfloat16 is stored as ushort and computed in float32 everywhere;
        complex64 is float2 pairs everywhere."""
        if dtype.name in ("float64", "complex128"):
            return self._devices[index].fp64
        return True

    def compile_graph(self, graph: Any) -> Any:
        """An ``ember.compile`` graph replayed as prebuilt launch lists with a memory plan and
        the whole step's elementwise chains fused (:mod:`ember_opencl.compiled`); None (the plain
        replay) for a graph holding an eager optimizer step."""
        from .compiled import compile_graph

        return compile_graph(self, graph)

    def synchronize(self, index: int) -> None:
        """Wait for all work queued on device ``index``."""
        d = self._devices[index]
        if d.queue is not None:
            d.queue.finish()

    def memory_stats(self, index: int) -> dict[str, int]:
        """Pool statistics of device ``index`` in bytes: in_use, cached, peak (and allocations)."""
        d = self._devices[index]
        if d.pool is None:
            return {"in_use": 0, "cached": 0, "peak": 0, "allocations": 0}
        return d.pool.stats()

    def empty_cache(self, index: int) -> None:
        """Return the pool's cached buffers of device ``index`` to the runtime."""
        d = self._devices[index]
        if d.pool is not None:
            with d.lock:  # no command is enqueued meanwhile: every cached buffer is done with
                d.queue.finish()
                d.pool.empty_cache()

    # ------------------------------------------------------------------------------------------
    # device time for ember.profiler (the optional methods of ember.backend.Backend)

    def profiler_device_trace(self, enabled: bool) -> None:
        """Start (or stop) keeping the device timestamps of every command on every device; a
        profile with ``ProfilerActivity.DEVICE`` calls this when it starts (and ends). Meanwhile
        each device runs on a profiling-enabled queue (see :class:`ember_opencl._device._Device`)."""
        for d in self._devices:
            d.set_tracing(enabled)

    def profiler_device_events(self, index: int) -> list[tuple[str, int, int, int, int]]:
        """The commands device ``index`` ran since the last call, as ``(name, start_ns, end_ns,
        thread, enqueued_ns)`` on the host's ``perf_counter_ns`` clock (waits for them; see
        :meth:`ember_opencl._device._Device.device_events`)."""
        return self._devices[index].device_events()

    def native_type(self) -> type:
        """:class:`ember_opencl._array.CLArray`."""
        return CLArray
