"""Moving and converting tensors: ``.to(device/dtype)``, casts, and DLPack exchange."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..device import Device
from ..device import device as _device
from ..dtypes import DType
from ._core import STATE, Tensor, _make, attach, kernel


def _parse_to_args(args: tuple, kwargs: dict) -> tuple[Any, Any, bool]:
    dev = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    copy = bool(kwargs.pop("copy", False))
    # transfers complete before the data is next used either way, so non_blocking changes nothing
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(
            f"to: unexpected keyword arguments {sorted(kwargs)}; Ember's to() takes device, dtype, "
            "non_blocking and copy (tensors have one memory format, so memory_format is not taken)"
        )
    flags = [a for a in args if isinstance(a, bool)]
    args = tuple(a for a in args if not isinstance(a, bool))
    if len(flags) > 2:
        raise TypeError(f"to: expected at most two bools (non_blocking, copy), got {len(flags)}")
    if len(flags) == 2:  # PyTorch's positional order: to(dtype_or_device, non_blocking, copy)
        copy = copy or flags[1]
    for a in args:
        if isinstance(a, Tensor):
            dev, dtype = a.device, a.dtype
        elif isinstance(a, (DType, type)) or (isinstance(a, str) and _is_dtype_name(a)):
            dtype = a
        elif isinstance(a, (str, Device)):
            dev = a
        elif a is None:
            continue
        else:
            raise TypeError(f"to: expected a device, a dtype or a tensor, got {a!r}")
    return dev, dtype, copy


def _is_dtype_name(s: str) -> bool:
    try:
        _dt.as_dtype(s)
        return True
    except TypeError:
        return False


def to(x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """x on another device and/or dtype: ``x.to("opencl")``, ``x.to(ember.float64)``,
    ``x.to(other)``. Returns x itself when nothing changes (unless ``copy=True``)."""
    dev, dtype, copy = _parse_to_args(args, kwargs)
    dt = _dt.as_dtype(dtype) if dtype is not None else x.dtype
    target = _device(dev) if dev is not None else x.device
    if dt is x.dtype and target is x.device:
        return x.clone() if copy else x
    out = x
    if target is not x.device:
        out = _move(out, target)
    if dt is not out.dtype:
        out = _cast(out, dt)
    return out


def _move(x: Tensor, target: Any) -> Tensor:
    if not target.backend.supports_dtype(x.dtype, target.index):
        raise TypeError(f"to: device {target} does not support {x.dtype}; convert the dtype first")
    direct = target.kernels.get("from_device")
    data = direct(x._data, x.device, target.index) if direct is not None else None
    if data is None:  # through the host
        # (np.ascontiguousarray would turn a 0-d array into shape (1,))
        host = np.ascontiguousarray(kernel(x.device, "to_numpy")(x._data)).reshape(x.shape)
        if target.type == "cpu" and x.device.type != "cpu":
            host = host.copy() if not host.flags.owndata else host
        # a cpu tensor shares memory with numpy (from_numpy, from_dlpack, .numpy()), whose bool
        # bytes may have been written since: 0 and 1 on the device
        data = kernel(target, "from_numpy")(_dt.canonical_bools(host), target.index)
    out = _make(data, x.shape, x.dtype, target)
    if x.requires_grad and STATE.enabled:
        src = x.device
        attach(out, "to", lambda g: (_move(g, src),), (x,))
    return out


def _cast(x: Tensor, dt: DType) -> Tensor:
    if not x.device.backend.supports_dtype(dt, x.device.index):
        raise TypeError(f"to: device {x.device} does not support {dt}")
    if x.dtype.is_complex and dt.is_bool:  # nonzero in either part, as PyTorch (no warning)
        from .elementwise import ne

        return ne(x, 0)
    if x.dtype.is_complex and not dt.is_complex:
        # as PyTorch: the real part, with a warning (no kernel casts complex to real)
        import warnings

        from .complex import real

        warnings.warn(
            f"Casting complex values to real discards the imaginary part ({x.dtype} to {dt}); "
            "take x.real (or x.abs()) to say which real values you want",
            UserWarning,
            stacklevel=3,
        )
        r = real(x)
        return _cast(r, dt) if r.dtype is not dt else r.clone()
    out = _make(kernel(x.device, "cast")(x._data, dt), x.shape, dt, x.device)
    if x.requires_grad and STATE.enabled and dt.is_differentiable:
        from ..autograd.graph import _grad_as

        src = x.dtype
        # a real input cast to complex takes its gradient's real part, with no warning
        attach(out, "to", lambda g: (_grad_as(g, src) if g.dtype is not src else g,), (x,))
    return out


def type_as(x: Tensor, other: Tensor) -> Tensor:
    """x cast to other's dtype."""
    return to(x, other.dtype)


def from_dlpack(obj: Any) -> Tensor:
    """A tensor sharing memory with a DLPack-capable object (numpy array, CuPy array, torch tensor ...).

    Host memory becomes a cpu tensor with no copy; device memory goes to the backend that claims it
    through an optional ``from_dlpack`` kernel."""
    if not hasattr(obj, "__dlpack__"):
        raise TypeError(f"from_dlpack: {type(obj).__name__} does not implement __dlpack__")
    dev_type, dev_id = obj.__dlpack_device__()
    if int(dev_type) in (1, 3):  # kDLCPU, kDLCUDAHost
        arr = np.from_dlpack(obj)
        dt = _dt.from_numpy_dtype(arr.dtype)
        cpu = _device("cpu")
        return _make(kernel(cpu, "from_numpy")(arr, 0), arr.shape, dt, cpu)
    from ..device import devices

    for d in devices():
        k = d.kernels.get("from_dlpack")
        if k is not None:
            res = k(obj, int(dev_type), int(dev_id))
            if res is not None:
                data, shape, np_dtype = res
                return _make(
                    data, tuple(shape), _dt.from_numpy_dtype(np.dtype(np_dtype)), _device(d.type, int(dev_id))
                )
    if isinstance(obj, Tensor):
        dlpack(obj)  # raises the BufferError that names the remedy (x.to('cpu'))
    raise TypeError(
        f"from_dlpack: no installed backend accepts DLPack device type {int(dev_type)} "
        f"(id {dev_id}); install the backend for that device (e.g. ember[cuda])"
    )


#: DLPack's device type codes (``DLDeviceType``) of the host
_KDL_CPU, _KDL_CUDA_HOST = 1, 3


def dlpack(
    x: Tensor,
    *,
    stream: Any = None,
    max_version: tuple[int, int] | None = None,
    dl_device: tuple[int, int] | None = None,
    copy: bool | None = None,
) -> Any:
    """``x.__dlpack__(*, stream=None, max_version=None, dl_device=None, copy=None)``: a DLPack
    capsule of x, exported through the native buffer's own DLPack support.

    The keywords are the array API standard's (DLPack 1.0): ``max_version`` is the highest DLPack
    version the consumer understands (a versioned capsule when the buffer can give one and it is
    at least ``(1, 0)``, the legacy capsule otherwise), ``dl_device`` the ``(type, index)`` the
    consumer wants the data on (only x's own device, or the host ``(1, 0)``, for which a tensor
    of another device is copied unless ``copy=False``), ``copy`` True to always export a copy,
    False to never copy (BufferError when a copy would be needed), None to copy only when needed.
    A device whose buffers have no DLPack support raises BufferError: ``x.to('cpu')`` first."""
    if x.requires_grad:
        raise RuntimeError("can't export a tensor that requires grad through DLPack; use x.detach()")
    if not (copy is None or copy is True or copy is False):
        raise ValueError(f"__dlpack__: copy must be None, True or False, not {copy!r}")
    if x.dtype is _dt.bfloat16:  # numpy's buffers (ml_dtypes.bfloat16) have no DLPack type code
        raise BufferError(
            "__dlpack__: a bfloat16 tensor cannot be exported through DLPack; convert it first, "
            "e.g. x.float() (exact: every bfloat16 value is a float32 value)"
        )
    pair = isinstance(max_version, tuple) and len(max_version) == 2
    if max_version is not None and not (pair and all(isinstance(v, int) for v in max_version)):
        raise TypeError(
            f"__dlpack__: max_version must be a (major, minor) tuple of ints or None, not {max_version!r}"
        )
    buf = x._data
    if dl_device is not None:
        want = (int(dl_device[0]), int(dl_device[1]))
        if want != tuple(int(v) for v in dlpack_device(x)):
            if want[0] != _KDL_CPU:
                raise BufferError(
                    f"__dlpack__: cannot export a tensor on {x.device} to DLPack device {want}; only its "
                    "own device or the host (1, 0) can be asked for"
                )
            if copy is False:
                raise BufferError(
                    f"__dlpack__: dl_device=(1, 0) needs a copy of the tensor on {x.device} to the host, "
                    "and copy=False forbids it; pass copy=None or True"
                )
            buf, copy = to(x.detach(), "cpu")._data, None  # already a fresh copy
        dl_device = None if want[0] == _KDL_CPU and buf is not x._data else dl_device
    if not hasattr(buf, "__dlpack__"):
        raise BufferError(
            f"__dlpack__: the {x.device.type} backend's buffers do not support DLPack; copy the tensor "
            "to the host first (x.to('cpu')), or pass dl_device=(1, 0)"
        )
    kwargs: dict[str, Any] = {}
    if stream is not None:
        kwargs["stream"] = stream
    if max_version is not None:
        kwargs["max_version"] = max_version
    if dl_device is not None:
        kwargs["dl_device"] = dl_device
    if copy is not None:
        kwargs["copy"] = copy
    return buf.__dlpack__(**kwargs)


def dlpack_device(x: Tensor) -> tuple[int, int]:
    """``x.__dlpack_device__()``: the ``(DLPack device type, index)`` of x's memory; a backend
    whose buffers have no DLPack support of their own names its device type code in its
    ``dlpack_device_type`` attribute (OpenCL: ``kDLOpenCL`` = 4)."""
    buf = x._data
    if hasattr(buf, "__dlpack_device__"):
        dev_type, dev_id = buf.__dlpack_device__()
        return int(dev_type), int(dev_id)
    code = getattr(x.device.backend, "dlpack_device_type", None)
    if code is not None:
        return int(code), x.device.index
    raise TypeError(f"__dlpack_device__: the {x.device.type} backend's buffers do not support DLPack")


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    from .records import OpRecord, register
    from .samples import ALL, FLOATS, FLOATS16, INTS, Sample, rand_array, unary_samples

    def as_tensor_on(x: Tensor, values: Any) -> Tensor:
        from .creation import tensor

        return tensor(values, device=x.device)

    def contiguous_only(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [Sample((rand_array(rng, (2, 3, 4), dtype),)), Sample((rand_array(rng, (5,), dtype),))]

    def cast(name: str, method: str, dt: _dt.DType, dtypes: tuple = ALL) -> OpRecord:
        return OpRecord(
            name,
            to,
            unary_samples(),
            lambda x: x.astype(dt.numpy),
            call=lambda x: getattr(x, method)(),
            methods={method: lambda self: to(self, dt)},
            dtypes=dtypes,
            grad=dt is _dt.float64,
            public=False,
        )

    register(
        OpRecord(
            "to",
            to,
            unary_samples(),
            lambda x: x.astype(np.float64),
            call=lambda x: to(x, _dt.float64),
            kernel="cast",
            methods=("to",),
            dtypes=ALL,
            grad=False,
            public=True,
        ),
        OpRecord(
            "cast_int",
            to,
            unary_samples(),
            lambda x: x.astype(np.int32),
            call=lambda x: to(x, _dt.int32),
            kernel="cast",
            dtypes=FLOATS + INTS + ("bool",),
            grad=False,
            public=False,
        ),
        OpRecord(
            "type_as",
            type_as,
            unary_samples(),
            lambda x: x.astype(np.float32),
            call=lambda x: type_as(x, as_tensor_on(x, [1.0])),
            methods=("type_as",),
            dtypes=ALL,
            grad=False,
            public=True,
        ),
        OpRecord(
            "cpu",
            to,
            unary_samples(),
            lambda x: x,
            call=lambda x: to(x, "cpu").to(x.device),
            kernel="from_device",
            methods={"cpu": lambda self: to(self, "cpu")},
            dtypes=ALL,
            grad=False,
            public=False,
            reads_values=True,
        ),
        cast("float", "float", _dt.float32),
        cast("double", "double", _dt.float64),
        cast("half", "half", _dt.float16, FLOATS + INTS),
        cast("bfloat16", "bfloat16", _dt.bfloat16, FLOATS16 + INTS),
        cast("long", "long", _dt.int64),
        cast("int", "int", _dt.int32),
        cast("bool", "bool", _dt.bool_),
        cast("byte", "byte", _dt.uint8, ("bool", "uint8", "int32", "int64")),
        OpRecord(
            "stride",
            strides_of_tensor,
            contiguous_only,
            lambda x: np.array([s // x.itemsize for s in x.strides], dtype=np.int64),
            call=lambda x: as_tensor_on(x, list(x.stride())),
            kernel="strides",
            methods={"stride": lambda self, dim=None: strides_of_tensor(self, dim)},
            dtypes=ALL,
            grad=False,
            public=False,
        ),
        OpRecord(
            "is_contiguous",
            is_contiguous_tensor,
            contiguous_only,
            lambda x: np.array(True),
            call=lambda x: as_tensor_on(x, x.is_contiguous()),
            kernel="is_contiguous",
            methods={"is_contiguous": is_contiguous_tensor},
            dtypes=ALL,
            grad=False,
            public=False,
        ),
        OpRecord(
            "dlpack",
            dlpack,
            contiguous_only,
            lambda x: x,
            call=dlpack_round_trip,
            kernel="from_dlpack",
            methods={"__dlpack__": dlpack, "__dlpack_device__": dlpack_device},
            dtypes=ALL,
            grad=False,
            public=False,
            covers=("from_dlpack",),
        ),
    )


def dlpack_round_trip(x: Tensor) -> Tensor:
    """``from_dlpack(x)`` back on x's device; a device whose buffers have no DLPack support must
    refuse with a BufferError (a device that names its DLPack device type) or a TypeError (one that
    does not, such as meta) that says so (its tensors then reach other libraries through the host)."""
    try:
        return to(from_dlpack(x), x.device)
    except (BufferError, TypeError) as exc:
        if "do not support DLPack" not in str(exc):
            raise
        return x


def strides_of_tensor(x: Tensor, dim: int | None = None) -> Any:
    """``x.stride()`` (all dims, in elements) or ``x.stride(dim)``."""
    from .shape import strides_of

    s = strides_of(x)
    return s if dim is None else s[dim]


def is_contiguous_tensor(x: Tensor) -> bool:
    """Whether x is C-contiguous."""
    from .shape import is_contiguous_

    return is_contiguous_(x)


_records()
