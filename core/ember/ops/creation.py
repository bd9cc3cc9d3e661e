"""Making tensors: from data, filled, ranges, identity, and random (seeded per device)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..device import device as _device
from ..dtypes import DType
from ._core import Tensor, _make, kernel

__all__ = [
    "tensor",
    "as_tensor",
    "from_numpy",
    "zeros",
    "ones",
    "full",
    "empty",
    "zeros_like",
    "ones_like",
    "full_like",
    "empty_like",
    "arange",
    "linspace",
    "eye",
    "rand",
    "randn",
    "randint",
    "rand_like",
    "randn_like",
    "randperm",
    "manual_seed",
    "Generator",
    "default_generator",
]


def _shape(op: str, size: Sequence[Any]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        shape = tuple(int(s) for s in size)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: size must be ints, got {tuple(size)!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"{op}: negative dimension in size {shape}")
    return shape


def _check_dtype_on(dev: Any, dt: DType, op: str) -> None:
    if not dev.backend.supports_dtype(dt, dev.index):
        raise TypeError(
            f"{op}: device {dev} does not support {dt} "
            f"({dev.properties().get('name', dev.type)}); use another dtype or device"
        )


def _finish(t: Tensor, requires_grad: bool) -> Tensor:
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_numpy(data: Any, dtype_given: bool = False) -> np.ndarray:
    """``data`` as a numpy array; without an explicit dtype, Python floats take the default
    float dtype and ints int64 (with one, values stay exact until the final cast)."""
    if isinstance(data, np.ndarray):
        return data
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError) as exc:
        raise TypeError(
            f"tensor: cannot make a tensor from {type(data).__name__}: nested sequences must be "
            f"rectangular and hold only numbers ({exc})"
        ) from None
    if arr.dtype == object:
        raise TypeError(
            f"tensor: cannot make a tensor from {data!r}: nested sequences must be rectangular "
            "and hold only numbers"
        )
    if dtype_given:
        return arr
    if arr.dtype == np.float64:
        arr = arr.astype(_dt.get_default_dtype().numpy)
    elif arr.dtype.kind in "iu" and arr.dtype != np.uint8:
        arr = arr.astype(np.int64)
    return arr


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers, numpy arrays or tensors).

    Python floats become the default float dtype, ints int64, bools bool; numpy arrays keep theirs.
    """
    if isinstance(data, Tensor):
        out = (
            data.detach()
            .to(
                device=device if device is not None else data.device,
                dtype=dtype if dtype is not None else data.dtype,
            )
            .clone()
        )
        return _finish(out, requires_grad)
    if isinstance(data, (list, tuple)) and data and any(isinstance(d, Tensor) for d in data):
        data = [d.detach().numpy() if isinstance(d, Tensor) else d for d in data]
    arr = _infer_numpy(data, dtype is not None)
    dt = _dt.as_dtype(dtype) if dtype is not None else _dt.from_numpy_dtype(arr.dtype)
    dev = _device(device)
    _check_dtype_on(dev, dt, "tensor")
    if dt.is_integer and arr.size and not isinstance(data, np.ndarray) and arr.dtype.kind in "iuf":
        _check_python_values_fit(arr, dt)
    arr = np.array(arr, dtype=dt.numpy, copy=True, order="C")
    out = _make(kernel(dev, "from_numpy")(arr, dev.index), arr.shape, dt, dev)
    return _finish(out, requires_grad)


def _check_python_values_fit(arr: np.ndarray, dt: DType) -> None:
    """Python numbers that ``dt`` cannot hold are an error, as in PyTorch (numpy arrays, like
    there, convert with wrap-around). Unsigned types take negatives down to -max (two's complement)."""
    bits = 8 * dt.itemsize
    hi = (1 << (bits - 1)) - 1 if dt.is_signed else (1 << bits) - 1
    lo = -hi - 1 if dt.is_signed else -hi
    if arr.dtype.kind == "f":
        if np.isnan(arr).any():
            raise ValueError(f"tensor: NaN cannot be converted to {dt}")
        vmin, vmax = float(np.trunc(arr.min())), float(np.trunc(arr.max()))
        ok = lo <= vmin and vmax <= hi and vmax < 2.0 ** (bits - (1 if dt.is_signed else 0))
    else:
        vmin, vmax = int(arr.min()), int(arr.max())
        ok = lo <= vmin and vmax <= hi
    if not ok:
        bad = vmin if vmin < lo else vmax
        raise ValueError(
            f"tensor: value {bad!r} cannot be converted to {dt} without overflow (range {lo} .. {hi}); "
            "use a wider dtype"
        )


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like :func:`tensor` but shares memory with a cpu numpy array or tensor when it can."""
    if isinstance(data, Tensor):
        return data.to(
            device=device if device is not None else data.device,
            dtype=dtype if dtype is not None else data.dtype,
        )
    if isinstance(data, np.ndarray) and (dtype is None or _dt.as_dtype(dtype).numpy == data.dtype):
        dev = _device(device)
        dt = _dt.from_numpy_dtype(data.dtype)
        return _make(kernel(dev, "from_numpy")(data, dev.index), data.shape, dt, dev)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A cpu tensor sharing memory with ``array`` (writes are seen by both)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    dt = _dt.from_numpy_dtype(array.dtype)
    dev = _device("cpu")
    return _make(kernel(dev, "from_numpy")(array, dev.index), array.shape, dt, dev)


def full(
    size: Sequence[int], fill_value: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from the value if not given)."""
    shape = _shape("full", (size,) if isinstance(size, int) else tuple(size))
    dt = _dt.as_dtype(dtype) if dtype is not None else _dt.result_type(fill_value)
    dev = _device(device)
    _check_dtype_on(dev, dt, "full")
    value = (
        bool(fill_value) if dt.is_bool else (float(fill_value) if dt.is_floating_point else int(fill_value))
    )
    if dt.is_integer and not _int_fits(value, dt):
        raise ValueError(f"full: value {fill_value!r} cannot be converted to {dt} without overflow")
    return _finish(_make(kernel(dev, "full")(shape, value, dt, dev.index), shape, dt, dev), requires_grad)


def _int_fits(v: int, dt: DType) -> bool:
    """Whether the integer ``v`` is representable in the integer dtype ``dt``."""
    bits = 8 * dt.itemsize
    lo = -(1 << (bits - 1)) if dt.is_signed else 0
    return lo <= v < lo + (1 << bits)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (default float dtype)."""
    shape = _shape("zeros", size)
    return full(shape, 0, dtype=dtype or _dt.get_default_dtype(), device=device, requires_grad=requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones (default float dtype)."""
    shape = _shape("ones", size)
    return full(shape, 1, dtype=dtype or _dt.get_default_dtype(), device=device, requires_grad=requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor."""
    shape = _shape("empty", size)
    dt = _dt.as_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    dev = _device(device)
    _check_dtype_on(dev, dt, "empty")
    return _finish(_make(kernel(dev, "empty")(shape, dt, dev.index), shape, dt, dev), requires_grad)


def _like(x: Tensor, dtype: Any, device: Any) -> tuple[DType, Any]:
    return (_dt.as_dtype(dtype) if dtype is not None else x.dtype), (
        device if device is not None else x.device
    )


def zeros_like(x: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with x's shape, dtype and device."""
    dt, dev = _like(x, dtype, device)
    return full(x.shape, 0, dtype=dt, device=dev, requires_grad=requires_grad)


def ones_like(x: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with x's shape, dtype and device."""
    dt, dev = _like(x, dtype, device)
    return full(x.shape, 1, dtype=dt, device=dev, requires_grad=requires_grad)


def full_like(
    x: Tensor, fill_value: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """``fill_value`` with x's shape, dtype and device."""
    dt, dev = _like(x, dtype, device)
    return full(x.shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def empty_like(x: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uninitialised with x's shape, dtype and device."""
    dt, dev = _like(x, dtype, device)
    return empty(x.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def arange(
    start: Any,
    end: Any = None,
    step: Any = 1,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Values from ``start`` (inclusive) to ``end`` (exclusive) by ``step``; int64 for int arguments."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    dt = _dt.as_dtype(dtype) if dtype is not None else _dt.result_type(start, end, step)
    n = max(0, math.ceil((end - start) / step))
    if dt.is_integer and not all(isinstance(v, int) for v in (start, end, step)):
        # PyTorch: an integer arange truncates start and step to integers first (values start +
        # i * step); int64 counts the elements from the truncated bounds too
        istart, iend, istep = int(start), int(end), int(step)
        if istep == 0:
            raise ValueError(f"arange: step {step!r} truncates to 0 for {dt}; use a step of magnitude >= 1")
        if dt is _dt.int64:
            n = max(0, -(-(iend - istart) // istep))
        return tensor(
            (istart + np.arange(n, dtype=np.int64) * istep).astype(dt.numpy),
            dtype=dt,
            device=device,
            requires_grad=requires_grad,
        )
    arr = start + np.arange(n, dtype=np.float64 if dt.is_floating_point else np.int64) * step
    return tensor(arr.astype(dt.numpy), dtype=dt, device=device, requires_grad=requires_grad)


def linspace(
    start: float, end: float, steps: int, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    dt = _dt.as_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    return tensor(
        np.linspace(start, end, steps).astype(dt.numpy), dtype=dt, device=device, requires_grad=requires_grad
    )


def eye(
    n: int, m: int | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """The n x m identity matrix."""
    dt = _dt.as_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    return tensor(np.eye(n, m, dtype=dt.numpy), dtype=dt, device=device, requires_grad=requires_grad)


# -- random ---------------------------------------------------------------------------------------
class Generator:
    """A counter-based random stream for one device: (seed, offset). Each draw of n numbers uses the
    counters [offset, offset + n) and advances the offset, so a seed fixes every later draw."""

    def __init__(self, device: Any = "cpu", seed: int = 0) -> None:
        self.device = device
        self.seed = int(seed)
        self.offset = 0

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream at ``seed``."""
        self.seed = int(seed) & 0xFFFF_FFFF_FFFF_FFFF
        self.offset = 0
        return self

    def initial_seed(self) -> int:
        """The seed the stream started from."""
        return self.seed

    def get_state(self) -> tuple[int, int]:
        """(seed, offset): enough to resume the stream."""
        return (self.seed, self.offset)

    def set_state(self, state: tuple[int, int]) -> None:
        """Resume a stream from :meth:`get_state`."""
        self.seed, self.offset = int(state[0]), int(state[1])

    def next_offset(self, n: int) -> int:
        """Reserve ``n`` counters; returns the first."""
        off = self.offset
        self.offset += (n + 3) // 4 * 4  # whole Philox blocks, so backends may draw 4 at a time
        return off


_generators: dict[Any, Generator] = {}
_global_seed = [0]


def default_generator(device: Any = None) -> Generator:
    """The default generator of ``device`` (created from the global seed on first use)."""
    dev = _device(device)
    g = _generators.get(dev)
    if g is None:
        g = _generators[dev] = Generator(dev, _global_seed[0])
    return g


def manual_seed(seed: int) -> Generator:
    """Seed the default generator of every device; returns the current device's."""
    _global_seed[0] = int(seed)
    for g in _generators.values():
        g.manual_seed(seed)
    return default_generator()


def _random(op: str, shape: tuple[int, ...], dtype: Any, device: Any, generator: Generator | None) -> Tensor:
    dt = _dt.as_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    if not dt.is_floating_point:
        raise TypeError(f"{op}: expected a floating dtype, got {dt}")
    dev = _device(device) if generator is None or device is not None else _device(generator.device)
    _check_dtype_on(dev, dt, op)
    gen = generator or default_generator(dev)
    n = math.prod(shape)
    kname = "uniform" if op == "rand" else "normal"
    data = kernel(dev, kname)(shape, dt, dev.index, gen.seed, gen.next_offset(n))
    return _make(data, shape, dt, dev)


def rand(
    *size: Any,
    dtype: Any = None,
    device: Any = None,
    generator: Generator | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Uniform random numbers in [0, 1)."""
    return _finish(_random("rand", _shape("rand", size), dtype, device, generator), requires_grad)


def randn(
    *size: Any,
    dtype: Any = None,
    device: Any = None,
    generator: Generator | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Standard normal random numbers."""
    return _finish(_random("randn", _shape("randn", size), dtype, device, generator), requires_grad)


def rand_like(
    x: Tensor,
    dtype: Any = None,
    device: Any = None,
    generator: Generator | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Uniform [0, 1) with x's shape, dtype and device."""
    dt, dev = _like(x, dtype, device)
    return rand(x.shape, dtype=dt, device=dev, generator=generator, requires_grad=requires_grad)


def randn_like(
    x: Tensor,
    dtype: Any = None,
    device: Any = None,
    generator: Generator | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Standard normal with x's shape, dtype and device."""
    dt, dev = _like(x, dtype, device)
    return randn(x.shape, dtype=dt, device=dev, generator=generator, requires_grad=requires_grad)


def randint(
    low: int,
    high: int | None = None,
    size: Sequence[int] = (),
    dtype: Any = None,
    device: Any = None,
    generator: Generator | None = None,
) -> Tensor:
    """Random integers in [low, high) (``randint(high, size)`` starts at 0)."""
    if isinstance(high, (tuple, list)):  # randint(high, size), PyTorch's overload
        if size != ():
            raise TypeError(f"randint: got a size {high!r} in place of high and also size={size!r}")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    u = _random(
        "rand",
        _shape("randint", (tuple(size),)),
        _dt.float64
        if _device(device).backend.supports_dtype(_dt.float64, _device(device).index)
        else _dt.float32,
        device,
        generator,
    )
    from .elementwise import floor

    vals = floor(u * (high - low)) + low
    return vals.to(_dt.as_dtype(dtype) if dtype is not None else _dt.int64)


def randperm(n: int, dtype: Any = None, device: Any = None, generator: Generator | None = None) -> Tensor:
    """A random permutation of 0..n-1."""
    u = _random("rand", (n,), None, device, generator)
    idx = np.argsort(u.numpy(), kind="stable")
    return tensor(idx, dtype=dtype or _dt.int64, device=u.device)
