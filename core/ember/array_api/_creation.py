"""Creation functions: ``asarray``, ``arange``, ``linspace``, ``full``, ``eye`` ... with the
standard's signatures, each taking ``device=`` (an Ember device or its name; ``None`` is the
default device, or the input's device for the ``*_like`` functions)."""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from .. import dtypes as _dt
from .. import ops as _ops
from ..device import Device, get_default_device
from ..device import device as _device
from ..tensor import Tensor
from ._dtypes import check_dtype


def resolve_device(device: Any) -> Device:
    """An Ember device from ``device`` (a Device, a name such as ``"opencl:0"``, or None for the
    default device)."""
    return get_default_device() if device is None else _device(device)


def _shape(shape: Any, op: str) -> tuple[int, ...]:
    if isinstance(shape, int):
        shape = (shape,)
    try:
        out = tuple(operator_index(s) for s in shape)
    except TypeError:
        raise TypeError(f"{op}: shape must be an int or a tuple of ints, got {shape!r}") from None
    if any(s < 0 for s in out):
        raise ValueError(f"{op}: negative dimension in shape {out}")
    return out


def operator_index(v: Any) -> int:
    """``v`` as a Python int (``operator.index``)."""
    import operator

    return operator.index(v)


def _scalar_dtype(value: Any, op: str) -> _dt.DType:
    if isinstance(value, builtins.bool):
        return _dt.bool_
    if isinstance(value, int):
        return _dt.int64
    if isinstance(value, float):
        return _dt.get_default_dtype()
    if isinstance(value, complex):
        return _dt.get_default_dtype().to_complex()
    if isinstance(value, Tensor) and value.ndim == 0:
        return value.dtype
    raise TypeError(f"{op}: expected a Python bool, int, float or complex, got {type(value).__name__}")


def _dtype(dtype: Any, op: str) -> _dt.DType | None:
    return None if dtype is None else check_dtype(dtype, op)


def _nested_dtype(obj: Any) -> _dt.DType | None:
    """The default dtype of nested Python scalars and 0-d arrays: the arrays' promoted dtype,
    raised by the scalars' kinds (bool, int64, the default float, its complex dtype) as weak
    scalars raise it."""
    kinds: set[int] = set()
    arrays: list[_dt.DType] = []

    def walk(o: Any) -> None:
        if isinstance(o, Tensor):
            arrays.append(o.dtype)
        elif isinstance(o, (list, tuple)):
            for e in o:
                walk(e)
        elif isinstance(o, builtins.bool):
            kinds.add(0)
        elif isinstance(o, int):
            kinds.add(1)
        elif isinstance(o, float):
            kinds.add(2)
        elif isinstance(o, complex):
            kinds.add(3)

    walk(obj)
    if arrays:
        d = arrays[0]
        for a in arrays[1:]:
            d = _dt.promote_types(d, a)
        for k in kinds:
            d = _dt.result_type_scalar(d, (False, 0, 0.0, 0j)[k])
        return d
    if not kinds:
        return None
    real = _dt.get_default_dtype()
    return {0: _dt.bool_, 1: _dt.int64, 2: real, 3: real.to_complex()}[max(kinds)]


def _python_values(obj: Any) -> Any:
    """Nested sequences with their arrays read as Python values."""
    if isinstance(obj, Tensor):
        return obj.tolist()
    if isinstance(obj, (list, tuple)):
        return [_python_values(e) for e in obj]
    return obj


def asarray(
    obj: Any,
    /,
    *,
    dtype: Any = None,
    device: Any = None,
    copy: builtins.bool | None = None,
) -> Tensor:
    """An array from ``obj``: an Ember tensor, a Python scalar or nested sequence of them, or an
    object with the buffer or DLPack protocol (numpy arrays ...). ``copy=True`` always copies,
    ``copy=False`` never does (ValueError when it would have to), ``copy=None`` copies only when
    needed."""
    dtype = _dtype(dtype, "asarray")
    if isinstance(obj, Tensor):
        dev = obj.device if device is None else resolve_device(device)
        d = obj.dtype if dtype is None else dtype
        if d is obj.dtype and dev is obj.device:
            return obj.clone() if copy else obj
        if copy is False:
            raise ValueError(
                f"asarray: copy=False, but converting a {obj.dtype} array on {obj.device} to {d} on "
                f"{dev} needs a copy; pass copy=None to allow one"
            )
        return obj.to(device=dev, dtype=d)
    dev = resolve_device(device)
    if isinstance(obj, (builtins.bool, int, float, complex, list, tuple)):
        if copy is False:
            raise ValueError("asarray: copy=False, but a Python object always needs a copy")
        d = dtype if dtype is not None else _nested_dtype(obj)
        if isinstance(obj, int) and not isinstance(obj, builtins.bool):
            lim = np.iinfo((d or _dt.int64).numpy) if d is None or d.is_integer else None
            if lim is not None and not lim.min <= obj <= lim.max:
                raise OverflowError(f"asarray: {obj} is out of the range of {d or _dt.int64}")
        if isinstance(obj, (list, tuple)) and any(isinstance(e, Tensor) for e in _flat(obj)):
            obj = _python_values(obj)
        return _ops.tensor(obj, dtype=d if d is not None else _dt.get_default_dtype(), device=dev)
    try:
        arr = np.asarray(obj) if copy is not True else np.array(obj, copy=True)
    except Exception as exc:
        raise TypeError(f"asarray: cannot make an array from a {type(obj).__name__}: {exc}") from exc
    if copy is False and (dev.type != "cpu" or (dtype is not None and dtype.numpy != arr.dtype)):
        raise ValueError(
            f"asarray: copy=False, but a {type(obj).__name__} of {arr.dtype} becomes a "
            f"{dtype or arr.dtype} array on {dev} only through a copy; pass copy=None"
        )
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"asarray: {arr.dtype} has no Ember dtype")
    if dtype is not None:
        arr = arr.astype(dtype.numpy, copy=False)
    if copy is False:
        return _ops.from_numpy(arr)
    return _ops.tensor(arr, device=dev)


def _flat(obj: Any):
    for e in obj:
        if isinstance(e, (list, tuple)):
            yield from _flat(e)
        else:
            yield e


def arange(
    start: int | float,
    /,
    stop: int | float | None = None,
    step: int | float = 1,
    *,
    dtype: Any = None,
    device: Any = None,
) -> Tensor:
    """Evenly spaced values in ``[start, stop)``: ``ceil((stop - start) / step)`` of them."""
    dtype = _dtype(dtype, "arange")
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if dtype is None:
        floats = any(isinstance(v, float) for v in (start, stop, step))
        dtype = _dt.get_default_dtype() if floats else _dt.int64
    n = max(0, math.ceil((stop - start) / step))
    dev = resolve_device(device)
    if n == 0:
        return _ops.empty(0, dtype=dtype, device=dev)
    if dtype.is_floating_point:
        idx = _ops.arange(n, dtype=_dt.float64, device=dev)
        return (idx * step + start).to(dtype)
    return _ops.arange(start, start + n * step, step, dtype=dtype, device=dev)[:n]


def empty(shape: Any, *, dtype: Any = None, device: Any = None) -> Tensor:
    """An uninitialized array."""
    return _ops.empty(_shape(shape, "empty"), dtype=_dtype(dtype, "empty"), device=resolve_device(device))


def zeros(shape: Any, *, dtype: Any = None, device: Any = None) -> Tensor:
    """An array of zeros (default floating dtype)."""
    return _ops.zeros(_shape(shape, "zeros"), dtype=_dtype(dtype, "zeros"), device=resolve_device(device))


def ones(shape: Any, *, dtype: Any = None, device: Any = None) -> Tensor:
    """An array of ones (default floating dtype)."""
    return _ops.ones(_shape(shape, "ones"), dtype=_dtype(dtype, "ones"), device=resolve_device(device))


def full(shape: Any, fill_value: Any, *, dtype: Any = None, device: Any = None) -> Tensor:
    """An array filled with ``fill_value``; without ``dtype``, bool, int64 or the default float
    after the value's Python type."""
    d = _dtype(dtype, "full") or _scalar_dtype(fill_value, "full")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _ops.full(_shape(shape, "full"), fill_value, dtype=d, device=resolve_device(device))


def _like_device(x: Tensor, device: Any) -> Device:
    return x.device if device is None else resolve_device(device)


def empty_like(x: Tensor, /, *, dtype: Any = None, device: Any = None) -> Tensor:
    """An uninitialized array of ``x``'s shape (and dtype and device unless given)."""
    return _ops.empty(x.shape, dtype=_dtype(dtype, "empty_like") or x.dtype, device=_like_device(x, device))


def zeros_like(x: Tensor, /, *, dtype: Any = None, device: Any = None) -> Tensor:
    """Zeros of ``x``'s shape (and dtype and device unless given)."""
    return _ops.zeros(x.shape, dtype=_dtype(dtype, "zeros_like") or x.dtype, device=_like_device(x, device))


def ones_like(x: Tensor, /, *, dtype: Any = None, device: Any = None) -> Tensor:
    """Ones of ``x``'s shape (and dtype and device unless given)."""
    return _ops.ones(x.shape, dtype=_dtype(dtype, "ones_like") or x.dtype, device=_like_device(x, device))


def full_like(x: Tensor, /, fill_value: Any, *, dtype: Any = None, device: Any = None) -> Tensor:
    """``fill_value`` in ``x``'s shape (and dtype and device unless given)."""
    d = _dtype(dtype, "full_like") or x.dtype
    return _ops.full(x.shape, fill_value, dtype=d, device=_like_device(x, device))


def eye(
    n_rows: int, n_cols: int | None = None, /, *, k: int = 0, dtype: Any = None, device: Any = None
) -> Tensor:
    """A 2-D array with ones on diagonal ``k`` (0 the main one, positive above it)."""
    n_cols = n_rows if n_cols is None else n_cols
    dev = resolve_device(device)
    d = _dtype(dtype, "eye") or _dt.get_default_dtype()
    rows = _ops.arange(n_rows, device=dev).reshape(n_rows, 1)
    cols = _ops.arange(n_cols, device=dev).reshape(1, n_cols)
    return (rows + k == cols).to(d)


def linspace(
    start: int | float,
    stop: int | float,
    /,
    num: int,
    *,
    dtype: Any = None,
    device: Any = None,
    endpoint: builtins.bool = True,
) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` (excluded if not ``endpoint``),
    computed in float64 (complex128 when ``start`` or ``stop`` is complex or ``dtype`` is a
    complex dtype; without ``dtype``, a complex bound gives the default complex dtype)."""
    d = _dtype(dtype, "linspace")
    cplx = isinstance(start, complex) or isinstance(stop, complex)
    if d is None:
        d = _dt.get_default_dtype().to_complex() if cplx else _dt.get_default_dtype()
    if not (d.is_floating_point or d.is_complex):
        raise TypeError(f"linspace: dtype must be a real or complex floating dtype, got {d}")
    if cplx and not d.is_complex:
        raise TypeError(
            f"linspace: start={start!r} or stop={stop!r} is complex but dtype is {d}; pass a complex dtype"
        )
    dev = resolve_device(device)
    num = operator_index(num)
    if num < 0:
        raise ValueError(f"linspace: num must be non-negative, got {num}")
    div = (num - 1) if endpoint else num
    step = (stop - start) / div if div > 0 else 0.0
    work = _dt.complex128 if d.is_complex else _dt.float64
    out = _ops.arange(num, dtype=_dt.float64, device=dev).to(work) * step + start
    if endpoint and num > 1:
        out[-1] = stop
    return out.to(d)


def meshgrid(*arrays: Tensor, indexing: str = "xy") -> tuple[Tensor, ...]:
    """Coordinate arrays from 1-D arrays (``indexing`` 'xy' or 'ij'), as a tuple."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    if not arrays:
        return ()
    return tuple(_ops.meshgrid(*arrays, indexing=indexing))


def tril(x: Tensor, /, *, k: int = 0) -> Tensor:
    """The lower triangle (diagonal ``k`` and below) of the last two dimensions."""
    return _ops.tril(x, k)


def triu(x: Tensor, /, *, k: int = 0) -> Tensor:
    """The upper triangle (diagonal ``k`` and above) of the last two dimensions."""
    return _ops.triu(x, k)


def from_dlpack(x: Any, /, *, device: Any = None, copy: builtins.bool | None = None) -> Tensor:
    """An array from an object with ``__dlpack__`` (sharing its memory when it can)."""
    if isinstance(x, Tensor):
        return asarray(x, device=device, copy=copy)
    out = _ops.from_dlpack(x)
    if device is not None and resolve_device(device) is not out.device:
        if copy is False:
            raise ValueError(f"from_dlpack: copy=False, but moving to {device} needs a copy")
        return out.to(resolve_device(device))
    return out.clone() if copy else out

