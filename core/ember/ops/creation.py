"""Making tensors: from data, filled, ranges and identity (the random ones, with the per-device
generators, are in :mod:`ember.ops.random_creation`)."""

from __future__ import annotations

import math
import operator
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
]


def _shape(op: str, size: Sequence[Any]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = _sizes(op, "size", size)
    if any(s < 0 for s in shape):
        raise ValueError(f"{op}: negative dimension in size {shape}")
    return shape


def _sizes(op: str, what: str, size: Sequence[Any]) -> tuple[int, ...]:
    """``size`` as Python ints: ints, numpy integers and integer 0-d tensors are sizes; floats and
    bools are refused, as in PyTorch (``zeros(2.5)`` is an error, not shape (2,))."""
    out = []
    for s in size:
        if not isinstance(s, (bool, np.bool_, float, np.floating)):
            try:
                out.append(operator.index(s))
                continue
            except TypeError:
                pass
        raise TypeError(
            f"{op}: {what} must be ints, got {s!r} ({type(s).__name__}) in {tuple(size)!r}; "
            "pass whole numbers (int(...) to convert)"
        )
    return tuple(out)


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
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data)  # numpy arrays and numpy scalars keep their dtype, as in PyTorch
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
    elif arr.dtype == np.complex128:  # Python complex numbers: the default complex dtype
        arr = arr.astype(_dt.default_complex_dtype().numpy)
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
    if dt is _dt.bfloat16 and not isinstance(data, np.ndarray) and arr.dtype == np.float64:
        # Python floats reach bfloat16 through float32, as in PyTorch (1 + 2**-8 + 2**-30 gives
        # 1.0, where a direct rounding gives 1.0078125; ml_dtypes' own cast changed between versions)
        arr = arr.astype(np.float32)
    arr = _dt.canonical_bools(np.array(arr, dtype=dt.numpy, copy=True, order="C"), in_place=True)
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
    if (
        isinstance(data, np.ndarray)
        and (dtype is None or _dt.as_dtype(dtype).numpy == data.dtype)
        and _dt.canonical_bools(data, in_place=True) is data  # else a copy holding 0 and 1
    ):
        dev = _device(device)
        dt = _dt.from_numpy_dtype(data.dtype)
        return _make(kernel(dev, "from_numpy")(data, dev.index), data.shape, dt, dev)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A cpu tensor sharing memory with ``array`` (writes are seen by both). A bool array's True
    elements stored as bytes other than 1 are set to 1 (the values numpy reads stay; a read-only
    such array is copied instead), as every bool buffer holds 0 and 1."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    array = _dt.canonical_bools(array, in_place=True)
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
        bool(fill_value)
        if dt.is_bool
        else (
            float(fill_value)
            if dt.is_floating_point
            else (complex(fill_value) if dt.is_complex else int(fill_value))
        )
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


# -- Tensor.new_*: a new tensor with self's dtype and device unless told otherwise -----------------
def _new_shape(op: str, size: tuple) -> tuple[int, ...]:
    return _shape(op, size[0] if len(size) == 1 and isinstance(size[0], (tuple, list)) else size)


def new_zeros(
    x: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """``Tensor.new_zeros(size)``: zeros of ``size`` with x's dtype and device unless given."""
    dt, dev = _like(x, dtype, device)
    return full(_new_shape("new_zeros", size), 0, dtype=dt, device=dev, requires_grad=requires_grad)


def new_ones(
    x: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """``Tensor.new_ones(size)``: ones of ``size`` with x's dtype and device unless given."""
    dt, dev = _like(x, dtype, device)
    return full(_new_shape("new_ones", size), 1, dtype=dt, device=dev, requires_grad=requires_grad)


def new_empty(
    x: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """``Tensor.new_empty(size)``: an uninitialised tensor with x's dtype and device unless given."""
    dt, dev = _like(x, dtype, device)
    return empty(_new_shape("new_empty", size), dtype=dt, device=dev, requires_grad=requires_grad)


def new_full(
    x: Tensor,
    size: Sequence[int],
    fill_value: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """``Tensor.new_full(size, fill_value)`` with x's dtype and device unless given."""
    dt, dev = _like(x, dtype, device)
    return full(size, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def new_tensor(
    x: Tensor, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """``Tensor.new_tensor(data)``: a copy of ``data`` with x's dtype and device unless given."""
    dt, dev = _like(x, dtype, device)
    if isinstance(data, Tensor):
        data = data.detach()
    return tensor(data, dtype=dt, device=dev, requires_grad=requires_grad)


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


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _sample_kwargs(dtype: str, **extra: Any) -> dict[str, Any]:
    """A creation record's sample keywords: the dtype, the kit's device and the dtype the result
    must have (this module's and :mod:`ember.ops.random_creation`'s records)."""
    from .samples import DEVICE

    return {"dtype": _dt.as_dtype(dtype), "device": DEVICE, "expect": dtype, **extra}


def _creation_record(name: str, fn: Any, samples: Any, ref: Any, dtypes: tuple, **extra: Any) -> Any:
    """The op record of a creation op (no gradient)."""
    from .records import OpRecord

    return OpRecord(name, fn, samples, ref, dtypes=dtypes, grad=False, **extra)


def _records() -> None:
    """Records of the creation ops. Their samples take no tensor (or a tensor only for its shape):
    each passes ``device=DEVICE`` and ``expect``, the dtype name the result must have (the kit
    compares values, not dtypes, so the call checks it; the reference casts to it). Random ops
    cannot be compared by value: their calls return a vector of checks computed with other ops
    (range, moments, a permutation's counts, same seed -> same values), all True in the reference."""
    from collections.abc import Callable

    from .records import register
    from .samples import ALL, DEVICE, FLOATS16, INTS, ErrorSample, Sample, rand_array

    kw = _sample_kwargs

    def expecting(name: str, fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
        """``fn`` for the kit: the result must have the sample's ``expect`` dtype and its
        ``requires_grad`` (then it is detached, so the kit can read it)."""

        def call(*args: Any, expect: str, **kwargs: Any) -> Tensor:
            out = fn(*args, **kwargs)
            if out.dtype.name != expect:
                raise AssertionError(f"{name}{args!r} {kwargs}: result dtype {out.dtype}, expected {expect}")
            if out.requires_grad != kwargs.get("requires_grad", False):
                raise AssertionError(f"{name}{args!r} {kwargs}: requires_grad is {out.requires_grad}")
            return out.detach()

        return call

    def ref_as(np_fn: Callable[..., Any]) -> Callable[..., np.ndarray]:
        """The numpy reference ``np_fn`` without the ember-only keywords, cast to ``expect``."""

        def ref(*args: Any, expect: str, dtype: Any = None, device: Any = None, **kwargs: Any) -> np.ndarray:
            kwargs.pop("requires_grad", None)
            return np.asarray(np_fn(*args, **kwargs)).astype(expect)

        return ref

    def np_size(size: tuple) -> tuple:
        return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size

    def fill_for(dtype: str) -> Any:
        return {"bool": True, "uint8": 7}.get(dtype, -1.25 if dtype.startswith("float") else -3)

    # -- from data --------------------------------------------------------------------------------
    def tensor_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        vals = rand_array(rng, (3, 4), dtype)
        out = [
            Sample((vals.tolist(),), kw(dtype)),  # nested Python lists
            Sample((vals[0, 0].item(),), kw(dtype)),  # a Python scalar: 0-d
            Sample(([],), kw(dtype)),
            # numpy arrays (passed as a keyword: the kit makes tensors of positional arrays) keep
            # their dtype; a Fortran-order one is copied in C order
            Sample((), {"data": rand_array(rng, (2, 3), dtype), "device": DEVICE, "expect": dtype}),
            Sample(
                (),
                {
                    "data": np.asfortranarray(rand_array(rng, (3, 2), dtype)),
                    "device": DEVICE,
                    "expect": dtype,
                },
            ),
            Sample((rand_array(rng, (2, 3), dtype),), {"expect": dtype}),  # a tensor on the device
            # a numpy scalar keeps its dtype (np.int32(5) is int32, np.float64 float64), as in PyTorch
            Sample((vals[0, 1][()],), {"device": DEVICE, "expect": dtype}),
        ]
        inferred = {  # PyTorch's inference: floats the default dtype, ints int64, bools bool
            "float32": [[[1.5, -2.0], [0.25, 3.0]], [1, 2.5], 0.5],
            "int64": [[[1, -2], [3, 4]], [True, 2], 7],
            "bool": [[True, False, True], True],
        }
        out += [Sample((data,), {"device": DEVICE, "expect": dtype}) for data in inferred.get(dtype, [])]
        return out

    def one_tensor(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [Sample((rand_array(rng, (3, 4), dtype),)), Sample((rand_array(rng, (), dtype),))]

    def tensor_copies(x: Tensor) -> Tensor:
        # tensor(t) is a copy: zeroing it leaves t as it was
        from .joining import stack

        y = tensor(x)
        y.zero_()
        return stack([x, y])

    def as_tensor_shares(x: Tensor) -> Tensor:
        # as_tensor(t) of the same dtype and device is t's memory: zeroing it zeroes t (a copy of
        # the input); on cpu a numpy array's memory is shared the same way
        base = x.clone()
        y = as_tensor(base)
        if x.device.type == "cpu":
            a = np.ones(6, dtype=x.dtype.numpy)
            t = as_tensor(a, device=x.device)
            a[...] = 0
            if t.any().item():
                raise AssertionError("as_tensor: a cpu tensor of a numpy array does not share its memory")
        y.zero_()
        return base

    def from_numpy_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        arrays = [
            rand_array(rng, (3, 4), dtype),
            rand_array(rng, (), dtype),
            rand_array(rng, (0, 2), dtype),
            np.asfortranarray(rand_array(rng, (4, 3), dtype)),  # strides that are not C order
        ]
        return [Sample((), {"array": a, "device": DEVICE, "expect": dtype}) for a in arrays]

    def from_numpy_writes_through(array: np.ndarray, device: Any, expect: str) -> Tensor:
        # from_numpy is a cpu tensor of the array's memory: a write through numpy is seen by it
        a = array.copy(order="K")
        t = from_numpy(a)
        if t.device.type != "cpu" or t.dtype.name != expect:
            raise AssertionError(f"from_numpy: got {t.dtype} on {t.device}, expected {expect} on cpu")
        a[...] = np.flip(a).copy()
        return t.to(device)

    # -- filled -----------------------------------------------------------------------------------
    def full_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        v = fill_for(dtype)
        out = [
            Sample(((2, 3), v), kw(dtype)),
            Sample((4, v), kw(dtype)),
            Sample(((), v), kw(dtype)),
            Sample(((0, 2), v), kw(dtype)),
        ]
        if dtype.startswith("float"):
            out.append(Sample(((2,), v), kw(dtype, requires_grad=True)))
        inferred = {"float32": 1.5, "int64": 3, "bool": True}  # the fill value's dtype
        if dtype in inferred:
            out.append(Sample(((2, 2), inferred[dtype]), {"device": DEVICE, "expect": dtype}))
        return out

    def size_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        out = [
            Sample((2, 3), kw(dtype)),
            Sample(((2, 3),), kw(dtype)),
            Sample(([4],), kw(dtype)),
            Sample((), kw(dtype)),
            Sample((0, 5), kw(dtype)),
        ]
        if dtype.startswith("float"):
            out.append(Sample((3,), kw(dtype, requires_grad=True)))
        if dtype == _dt.get_default_dtype().name:
            out.append(Sample((3, 1), {"device": DEVICE, "expect": dtype}))  # the default dtype
        return out

    def filled_empty(*size: Any, **kwargs: Any) -> Tensor:
        # empty's values are unspecified: its shape, dtype and device are what is proved, and that
        # every element can be written
        from ..autograd.grad_mode import no_grad

        out = empty(*size, **kwargs)
        with no_grad():
            out.fill_(1)
        return out

    def like_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        other = "int64" if dtype.startswith("float") else "float32"

        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(3, 4),), {"expect": dtype}),
            Sample((a(),), {"expect": dtype}),
            Sample((a(0, 3),), {"expect": dtype}),
            Sample((a(4, 3),), {"expect": dtype}, noncontig=True),
            Sample((a(2, 3),), kw(other)),
        ]

    def full_like_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample((s.args[0], fill_for(s.kwargs["expect"])), s.kwargs, s.noncontig)
            for s in like_samples(dtype, rng)
        ]

    def filled_empty_like(x: Tensor, **kwargs: Any) -> Tensor:
        return empty_like(x, **kwargs).fill_(1)

    # -- ranges -----------------------------------------------------------------------------------
    def arange_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        if dtype.startswith("float"):
            args = [(0.0, 1.0, 0.125), (2.5, -1.0, -0.5), (3,), (-2, 2.5, 0.5), (0, 1, 0.1), (1.0, 1.0)]
        else:
            args = [(5,), (2, 11, 3), (10, 0, -3), (5, 5), (0, -7, -2), (0.0, 6.0, 2.0)]
        out = [Sample(a, kw(dtype)) for a in args]
        inferred = {  # PyTorch's inference: int64 for ints, the default float dtype for any float
            "int64": [(5,), (-3, 4), (10, 0, -3)],
            "float32": [(0.0, 1.0, 0.25), (0, 5, 0.5), (1, 2.5)],
        }
        out += [Sample(a, {"device": DEVICE, "expect": dtype}) for a in inferred.get(dtype, [])]
        return out

    def linspace_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        if dtype.startswith("float"):
            args = [(0, 1, 5), (2.0, -2.0, 7), (-1, 1, 1), (0, 1, 0), (3, 3, 4)]
        else:  # integer dtypes truncate, as in PyTorch
            args = [(0, 10, 5), (10, -10, 6), (0, 7, 4), (1, 1, 0)]
        out = [Sample(a, kw(dtype)) for a in args]
        if dtype == "float32":
            out.append(Sample((0, 1, 5), {"device": DEVICE, "expect": dtype}))
        return out

    def eye_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        out = [Sample(a, kw(dtype)) for a in [(3,), (2, 4), (4, 2), (0,), (1,), (2, 0)]]
        if dtype == "float32":
            out.append(Sample((3,), {"device": DEVICE, "expect": dtype}))
        return out

    rec = _creation_record
    register(
        rec(
            "tensor",
            tensor,
            tensor_samples,
            ref_as(lambda data: data),
            ALL,
            call=expecting("tensor", tensor),
            kernel="from_numpy",
        ),
        rec(
            "tensor_copies",
            tensor,
            one_tensor,
            lambda x: np.stack([x, np.zeros_like(x)]),
            ALL,
            call=tensor_copies,
            public=False,
        ),
        rec(
            "as_tensor",
            as_tensor,
            tensor_samples,
            ref_as(lambda data: data),
            ALL,
            call=expecting("as_tensor", as_tensor),
            reads_values=True,
        ),
        rec(
            "as_tensor_shares",
            as_tensor,
            one_tensor,
            np.zeros_like,
            ALL,
            call=as_tensor_shares,
            public=False,
            reads_values=True,
        ),
        rec(
            "from_numpy",
            from_numpy,
            from_numpy_samples,
            lambda array, device, expect: np.flip(array),
            ALL,
            call=from_numpy_writes_through,
            kernel="from_numpy",
        ),
        rec("full", full, full_samples, ref_as(np.full), ALL, call=expecting("full", full), kernel="full"),
        rec(
            "zeros",
            zeros,
            size_samples,
            ref_as(lambda *s: np.zeros(np_size(s))),
            ALL,
            call=expecting("zeros", zeros),
            errors=(
                ErrorSample(
                    (2.5,), {"device": DEVICE}, TypeError, "zeros: size must be ints, got 2.5 \\(float\\)"
                ),
                ErrorSample(
                    ((2, True),), {"device": DEVICE}, TypeError, "zeros: size must be ints, got True"
                ),
            ),
        ),
        rec(
            "ones",
            ones,
            size_samples,
            ref_as(lambda *s: np.ones(np_size(s))),
            ALL,
            call=expecting("ones", ones),
        ),
        rec(
            "empty",
            empty,
            size_samples,
            ref_as(lambda *s: np.ones(np_size(s))),
            ALL,
            call=expecting("empty", filled_empty),
            kernel="empty",
        ),
        rec(
            "zeros_like",
            zeros_like,
            like_samples,
            ref_as(np.zeros_like),
            ALL,
            call=expecting("zeros_like", zeros_like),
        ),
        rec(
            "ones_like",
            ones_like,
            like_samples,
            ref_as(np.ones_like),
            ALL,
            call=expecting("ones_like", ones_like),
        ),
        rec(
            "full_like",
            full_like,
            full_like_samples,
            ref_as(lambda x, v: np.full(np.shape(x), v)),
            ALL,
            call=expecting("full_like", full_like),
        ),
        rec(
            "empty_like",
            empty_like,
            like_samples,
            ref_as(np.ones_like),
            ALL,
            call=expecting("empty_like", filled_empty_like),
        ),
        rec(
            "arange",
            arange,
            arange_samples,
            ref_as(np.arange),
            FLOATS16 + INTS,
            call=expecting("arange", arange),
        ),
        rec(
            "linspace",
            linspace,
            linspace_samples,
            ref_as(np.linspace),
            FLOATS16 + INTS,
            call=expecting("linspace", linspace),
        ),
        rec("eye", eye, eye_samples, ref_as(np.eye), ALL, call=expecting("eye", eye)),
    )


_records()


def _new_records() -> None:
    """Records of ``Tensor.new_zeros`` and its siblings: the result has self's dtype and device
    (the call checks them) and the reference's values."""
    from .records import OpRecord, register
    from .samples import ALL, Sample, rand_array

    def samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        x = rand_array(rng, (2, 3), dtype)
        return [Sample((x, (3, 2))), Sample((x, (0,))), Sample((x, ()))]

    def checked(name: str, fn: Any) -> Any:
        def call(x: Tensor, *args: Any) -> Tensor:
            out = fn(x, *args)
            if out.dtype is not x.dtype or out.device is not x.device:
                raise AssertionError(
                    f"{name}: result {out.dtype} on {out.device}, expected {x.dtype} on {x.device}"
                )
            return out

        return call

    def fill(x: Any) -> Any:
        return True if x.dtype == np.bool_ or getattr(x, "dtype", None) is _dt.bool_ else 3

    def records(name: str, fn: Any, call: Any, ref: Any) -> OpRecord:
        return OpRecord(
            name,
            fn,
            samples,
            ref,
            call=checked(name, call),
            methods={name: fn},
            dtypes=ALL,
            grad=False,
            public=False,
        )

    register(
        records("new_zeros", new_zeros, lambda x, s: new_zeros(x, s), lambda x, s: np.zeros(s, x.dtype)),
        records("new_ones", new_ones, lambda x, s: new_ones(x, *s), lambda x, s: np.ones(s, x.dtype)),
        records(
            "new_empty",
            new_empty,
            lambda x, s: new_empty(x, s).fill_(fill(x)),
            lambda x, s: np.full(s, fill(x), x.dtype),
        ),
        records(
            "new_full",
            new_full,
            lambda x, s: new_full(x, s, fill(x)),
            lambda x, s: np.full(s, fill(x), x.dtype),
        ),
        records(
            "new_tensor",
            new_tensor,
            lambda x, s: new_tensor(x, [list(s), [1, 0][: len(s)]]) if s else new_tensor(x, 2),
            lambda x, s: np.array([list(s), [1, 0][: len(s)]] if s else 2).astype(x.dtype),
        ),
    )


_new_records()


def __getattr__(name: str) -> Any:
    """The random factories and ``Generator`` moved to :mod:`ember.ops.random_creation`; their old
    paths here still resolve (lazily: that module imports this one), so code and pickles that
    name ``ember.ops.creation.Generator`` keep working."""
    from . import random_creation

    if name in random_creation.__all__:
        return getattr(random_creation, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
