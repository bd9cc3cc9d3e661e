"""The cuda backend: :class:`ember.array_backend.ArrayBackend` (the array API standard's kernels, on
CuPy through ``array_api_compat``'s namespace for it, with CuPy's own strided views as buffers),
plus fused CUDA kernels for the hot paths, counter-based random numbers, DLPack, memory
reporting, and ``ember.compile`` graphs replayed as CUDA graphs (:mod:`ember_cuda.compiled`).

Buffers are ``cupy.ndarray``. Devices ``cuda:N`` are CuPy's devices ``N``. Every kernel runs on
the right device: creation kernels on ``device_index``, the others on their first array's device
(only when there is more than one GPU; with one, the current device is always right and the
per-op context switch is skipped). CuPy's out-of-memory errors become :class:`MemoryError` with
the device, the request and the memory pool's state.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from ember.array_backend import ArrayBackend
from ember.backend import BackendUnavailable

from ._kernels import Kernels
from .plugin import REMEDY

__all__ = ["CudaBackend", "load_cupy"]

#: DLPack device types this backend accepts: kDLCUDA and kDLCUDAManaged.
DLPACK_CUDA = (2, 13)

# kernels that only make views or read metadata: no device work, no allocation, no wrapper
_VIEW_KERNELS = frozenset(
    {"strides", "as_strided", "reshape", "permute", "expand", "getitem_basic", "is_contiguous"}
)
# creation kernels -> position of their device_index argument
_CREATION_INDEX = {"from_numpy": 1, "empty": 2, "full": 3, "uniform": 2, "normal": 2}
# dtypes cupyx.scatter_add (atomicAdd) handles natively
_SCATTER_NATIVE = frozenset({"int32", "uint32", "uint64", "float32", "float64"})


def load_cupy() -> tuple[Any, int]:
    """Import CuPy and count the GPUs; raise :class:`BackendUnavailable` saying exactly what is
    missing (CuPy, the driver, a GPU)."""
    try:
        import cupy
    except ImportError as exc:
        raise BackendUnavailable(f"CuPy is not installed (import cupy failed: {exc})", REMEDY) from exc
    except Exception as exc:  # a broken CuPy install (missing CUDA libraries ...)
        raise BackendUnavailable(
            f"CuPy failed to import: {type(exc).__name__}: {exc}",
            "reinstall CuPy for this machine's CUDA version (pip install 'ember-cuda[cuda12]' "
            "or 'ember-cuda[cuda13]')",
        ) from exc
    version = getattr(cupy, "__version__", "?")
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:
        raise BackendUnavailable(
            f"CuPy {version} cannot reach a CUDA GPU: cupy.cuda.runtime.getDeviceCount() raised "
            f"{type(exc).__name__}: {exc} (no NVIDIA driver, a driver too old for this CuPy, or no GPU)",
            REMEDY,
        ) from exc
    if count <= 0:
        raise BackendUnavailable(
            f"CuPy {version} found no CUDA GPU (cupy.cuda.runtime.getDeviceCount() returned {count})", REMEDY
        )
    return cupy, count


def _fmt_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


class CudaBackend(ArrayBackend):
    """CuPy kernels for the ``cuda`` device type (devices ``cuda:0`` ... ``cuda:N-1``).

    Raises :class:`ember.backend.BackendUnavailable` when CuPy, the driver or a GPU is missing.
    """

    device_type = "cuda"

    def __init__(self) -> None:
        cp, count = load_cupy()
        try:
            from cupyx.scipy.special import erf as cupy_erf
        except Exception as exc:
            reason = f"CuPy's cupyx.scipy.special.erf failed to import: {exc}"
            raise BackendUnavailable(reason, REMEDY) from exc
        self.cp = cp
        self._count = count
        self._pool = cp.get_default_memory_pool()
        self._peak = [0] * count
        self._oom_type = cp.cuda.memory.OutOfMemoryError
        self._k = Kernels(cp)

        def erf(x: Any) -> Any:
            if x.dtype == np.float16:  # compute half in float, like the fused kernels
                return cupy_erf(x.astype(np.float32)).astype(np.float16)
            return cupy_erf(x)

        super().__init__(cp, to_host=cp.asnumpy, from_host=self._from_host, erf=erf, random_bits=self._random_bits)
        k = self.kernels
        generic_softmax, generic_log_softmax = k["softmax"], k["log_softmax"]
        k.update(
            empty=lambda shape, dtype, index: cp.empty(shape, dtype=dtype.numpy),
            scatter_add=self._scatter_add,
            is_contiguous=lambda x: x.flags.c_contiguous,
            any=lambda x, dims, keep: cp.any(x, axis=dims, keepdims=keep),
            relu=self._elementwise("relu", floating_only=False),
            sigmoid=self._elementwise("sigmoid"),
            silu=self._elementwise("silu"),
            gelu=self._elementwise("gelu"),
            rsqrt=self._elementwise("rsqrt"),
            floor_divide=self._divmod("floor_divide", k["floor_divide"]),
            remainder=self._divmod("remainder", k["remainder"]),
            softmax=self._softmax_kernel(False, generic_softmax),
            log_softmax=self._softmax_kernel(True, generic_log_softmax),
            from_dlpack=self._from_dlpack,
            from_device=self._from_device,
        )
        self.kernels = {name: self._guard(name, fn) for name, fn in k.items()}

    # -- kernel wrapping: device placement and out-of-memory errors ---------------------------
    def _guard(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in _VIEW_KERNELS:
            return fn
        oom, on_error = self._oom_type, self._out_of_memory
        if self._count == 1:

            def run(*args: Any) -> Any:
                try:
                    return fn(*args)
                except oom as exc:
                    raise on_error(name, exc, 0, args) from exc

        elif name in _CREATION_INDEX:
            pos, Device = _CREATION_INDEX[name], self.cp.cuda.Device

            def run(*args: Any) -> Any:
                index = args[pos]
                try:
                    with Device(index):
                        return fn(*args)
                except oom as exc:
                    raise on_error(name, exc, index, args) from exc

        else:
            ndarray = self.cp.ndarray

            def run(*args: Any) -> Any:
                dev = None
                for a in args:
                    if type(a) is ndarray:
                        dev = a.device
                        break
                    if type(a) in (list, tuple) and a and type(a[0]) is ndarray:
                        dev = a[0].device
                        break
                try:
                    if dev is None:
                        return fn(*args)
                    with dev:
                        return fn(*args)
                except oom as exc:
                    raise on_error(name, exc, dev.id if dev is not None else None, args) from exc

        run.__name__ = f"cuda_{name}"
        run.__doc__ = getattr(fn, "__doc__", None)
        return run

    def _out_of_memory(self, op: str, exc: Exception, index: int | None, args: tuple) -> MemoryError:
        cp = self.cp
        if index is None:
            index = cp.cuda.runtime.getDevice()
        want = ""
        if op in ("empty", "full", "uniform", "normal"):
            shape = args[0]
            dtype = args[2] if op == "full" else args[1]
            size = _fmt_bytes(math.prod(shape) * dtype.itemsize)
            want = f" for a {tuple(shape)} {dtype.name} buffer ({size})"
        elif op == "from_numpy":
            a = args[0]
            want = f" copying a {a.shape} {a.dtype} array ({_fmt_bytes(a.nbytes)}) to the GPU"
        state = ""
        try:
            with cp.cuda.Device(index):
                used, total = self._pool.used_bytes(), self._pool.total_bytes()
                free, device_total = cp.cuda.runtime.memGetInfo()
            self._peak[index] = max(self._peak[index], used)
            state = (
                f"; CuPy's memory pool: {_fmt_bytes(used)} in use, {_fmt_bytes(total - used)} cached; "
                f"device: {_fmt_bytes(free)} free of {_fmt_bytes(device_total)}"
            )
        except (RuntimeError, OSError) as err:  # reporting must not hide the original error
            state = f"; (memory pool state unavailable: {err})"
        return MemoryError(
            f"cuda:{index}: out of GPU memory in {op}{want}: {exc}{state}. Free tensors that are no longer "
            f"needed, use smaller batches, or call ember.device('cuda:{index}').empty_cache()"
        )

    # -- host transfer and random numbers ------------------------------------------------------
    def _from_host(self, array: np.ndarray, index: int) -> Any:
        return self.cp.asarray(np.ascontiguousarray(array))

    def _random_bits(
        self, kind: str, shape: tuple[int, ...], np_dtype: Any, index: int, seed: int, offset: int
    ) -> Any:
        """Philox4x32-10 keyed by ``seed``, element i at counter block offset/4 + i/4 (a pure
        function of (seed, offset), the same on every GPU)."""
        cp = self.cp
        name = np.dtype(np_dtype).name
        draw = name if name in ("float16", "float32", "float64") else "float32"
        if kind == "normal" and draw == "float16":
            # RANDOM_BODIES has no half normal: draw in float32 and round (random_reference's
            # float16 normals are the same float32 formula); uniform float16 keeps its own body,
            # whose 11 bits cast exactly and never round up to 1.0
            draw = "float32"
        out = cp.empty(shape, dtype=np.float32 if draw == "float16" else draw)
        if out.size:
            seed &= 0xFFFF_FFFF_FFFF_FFFF
            kern = self._k.random(kind, draw)
            kern(np.uint32(seed & 0xFFFFFFFF), np.uint32(seed >> 32), np.uint64(offset // 4), out)
        return out if out.dtype == np_dtype else out.astype(np_dtype)

    # -- fused kernels ---------------------------------------------------------------------------
    def _elementwise(self, name: str, floating_only: bool = True) -> Callable[[Any], Any]:
        kernels = self._k
        kinds = "f" if floating_only else "biuf"

        def run(x: Any) -> Any:
            if x.dtype.kind not in kinds:  # pragma: no cover - core casts ints to float first
                raise TypeError(f"{name}: unsupported dtype {x.dtype}")
            return kernels.elementwise(name)(x)

        run.__name__ = name
        return run

    def _divmod(self, name: str, generic: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """floor_divide / remainder: floating operands through the fmod-based kernel (CuPy's own
        floating floor division is not guaranteed to round like numpy's); integers through CuPy."""
        kernels = self._k

        def run(a: Any, b: Any) -> Any:
            arr = a if hasattr(a, "dtype") else b
            if arr.dtype.kind != "f":
                return generic(a, b)
            if not hasattr(a, "dtype"):
                a = arr.dtype.type(a)
            if not hasattr(b, "dtype"):
                b = arr.dtype.type(b)
            return kernels.divmod(name)(a, b)

        run.__name__ = name
        return run

    def _softmax_kernel(self, log: bool, generic: Callable[[Any, int], Any]) -> Callable[[Any, int], Any]:
        cp, kernels = self.cp, self._k

        def run(x: Any, dim: int) -> Any:
            n = x.shape[dim] if x.ndim else 1
            if x.ndim == 0 or any(s != 1 for s in x.shape[dim + 1 :]) or x.size == 0:
                return generic(x, dim)  # reductions over a middle axis: CuPy's kernels
            half = x.dtype == np.float16
            xc = cp.ascontiguousarray(x, dtype=np.float32 if half else x.dtype)
            y = cp.empty_like(xc)
            rows = xc.size // n
            threads = 32
            while threads < n and threads < 256:
                threads *= 2
            grid = min(rows, 1 << 16)
            kernels.softmax(xc.dtype.name, log)((grid,), (threads,), (xc, y, np.int64(rows), np.int64(n)))
            return y.astype(np.float16) if half else y

        run.__name__ = "log_softmax" if log else "softmax"
        return run

    def _scatter_add(self, x: Any, dim: int, index: Any, src: Any) -> Any:
        import cupyx

        cp = self.cp
        nd = index.ndim
        idx = [cp.arange(n).reshape((1,) * d + (n,) + (1,) * (nd - d - 1)) for d, n in enumerate(index.shape)]
        idx[dim] = index
        key = tuple(idx)
        name = x.dtype.name
        if name in _SCATTER_NATIVE:
            out = x.copy()
            cupyx.scatter_add(out, key, src)
            return out
        if name == "int64":  # two's complement: the same sums as uint64
            out = x.copy().view(np.uint64)
            cupyx.scatter_add(out, key, src.view(np.uint64))
            return out.view(np.int64)
        wide = np.float32 if name == "float16" else np.int32
        out = x.astype(wide)
        cupyx.scatter_add(out, key, src.astype(wide))
        return (out != 0) if name == "bool" else out.astype(x.dtype)

    # -- DLPack and device-to-device copies ----------------------------------------------------
    def _from_dlpack(self, obj: Any, dl_device_type: int, dl_device_id: int) -> tuple[Any, tuple, Any] | None:
        """Zero-copy import of a CUDA DLPack producer (CuPy array, torch.cuda tensor, ...)."""
        if dl_device_type not in DLPACK_CUDA or not 0 <= dl_device_id < self._count:
            return None
        with self.cp.cuda.Device(dl_device_id):
            arr = self.cp.from_dlpack(obj)
        return arr, tuple(arr.shape), arr.dtype

    def _from_device(self, buffer: Any, source_device: Any, target_index: int | None = None) -> Any:
        """A copy of ``buffer`` (on ``source_device``) on cuda:``target_index``, peer to peer when
        both are GPUs. Returns None (go through the host) when the target is not known."""
        cp = self.cp
        if target_index is None:
            if self._count != 1:
                return None  # the core's from_device contract does not name the target GPU
            target_index = 0
        if getattr(source_device, "type", None) == "cuda" and type(buffer) is cp.ndarray:
            with cp.cuda.Device(target_index):
                out = cp.empty(buffer.shape, dtype=buffer.dtype)
                src = buffer if buffer.flags.c_contiguous else None
                if src is None:
                    with buffer.device:
                        src = cp.ascontiguousarray(buffer)
                out.data.copy_from_device_async(src.data, src.nbytes)
                if src.device.id != target_index:
                    # the copy is queued on the target's stream: the source buffer must outlive it
                    cp.cuda.get_current_stream().synchronize()
                return out
        if type(buffer) is np.ndarray:
            with cp.cuda.Device(target_index):
                return self._from_host(buffer, target_index)
        return None

    # -- ember.compile -----------------------------------------------------------------------------
    def compile_graph(self, graph: Any) -> Any:
        """An ``ember.compile`` graph with its runs of kernel calls captured once as CUDA graphs and
        launched (:mod:`ember_cuda.compiled`); results equal the plain replay's."""
        from .compiled import compile_graph

        return compile_graph(graph, self.cp, self._count)

    # -- device queries ------------------------------------------------------------------------
    def device_count(self) -> int:
        """The number of CUDA GPUs CuPy sees (honours CUDA_VISIBLE_DEVICES)."""
        return self._count

    def device_properties(self, index: int) -> dict[str, Any]:
        """Name, total memory, compute capability, SM count, CuPy and CUDA versions."""
        cp = self.cp
        p = cp.cuda.runtime.getDeviceProperties(index)
        name = p.get("name", b"")
        rt = cp.cuda.runtime.runtimeGetVersion()
        return {
            "name": name.decode() if isinstance(name, bytes) else str(name),
            "total_memory": int(p.get("totalGlobalMem", 0)),
            "compute_capability": f"{p.get('major', 0)}.{p.get('minor', 0)}",
            "multiprocessors": int(p.get("multiProcessorCount", 0)),
            "cupy": cp.__version__,
            "cuda_runtime": f"{rt // 1000}.{rt % 1000 // 10}",
            "float64": True,
            "float16": True,
        }

    def supports_dtype(self, dtype: Any, index: int) -> bool:
        """Every Ember dtype but bfloat16 (CuPy has no bfloat16 arrays) on every CUDA GPU."""
        return dtype.name != "bfloat16"

    def synchronize(self, index: int) -> None:
        """Wait for all work queued on the GPU (every stream)."""
        self.cp.cuda.Device(index).synchronize()
        self._sample_peak(index)

    def _sample_peak(self, index: int) -> int:
        with self.cp.cuda.Device(index):
            used = int(self._pool.used_bytes())
        self._peak[index] = max(self._peak[index], used)
        return used

    def memory_stats(self, index: int) -> dict[str, int]:
        """CuPy's default memory pool on this GPU: ``in_use`` (bytes held by live buffers),
        ``cached`` (held by the pool, free for reuse), ``peak`` (the highest ``in_use`` seen when
        stats were read, the device synchronised or the cache emptied), and the device's
        ``device_free``/``device_total`` from cudaMemGetInfo."""
        cp = self.cp
        used = self._sample_peak(index)
        with cp.cuda.Device(index):
            total = int(self._pool.total_bytes())
            free, device_total = cp.cuda.runtime.memGetInfo()
        return {
            "in_use": used,
            "cached": max(total - used, 0),
            "peak": self._peak[index],
            "device_free": int(free),
            "device_total": int(device_total),
        }

    def empty_cache(self, index: int) -> None:
        """Give the pool's unused blocks on this GPU back to the driver."""
        self._sample_peak(index)
        with self.cp.cuda.Device(index):
            self._pool.free_all_blocks()

    def native_type(self) -> type:
        """``cupy.ndarray`` (its ``__dlpack__`` is what ``Tensor.__dlpack__`` exports)."""
        return self.cp.ndarray
