"""Ember's data types and PyTorch-compatible type promotion.

A :class:`DType` is a small immutable object; the module-level names (``ember.float32`` ...)
are the only instances. Promotion follows PyTorch: categories bool < integer < floating, the
widest type of the highest category present wins, and Python scalars are *weak* (they only
decide the category, never the width).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "DType",
    "bool_",
    "uint8",
    "int8",
    "int16",
    "int32",
    "int64",
    "float16",
    "float32",
    "float64",
    "ALL_DTYPES",
    "FLOAT_DTYPES",
    "INT_DTYPES",
    "promote_types",
    "result_type",
    "get_default_dtype",
    "set_default_dtype",
    "as_dtype",
]


class DType:
    """A tensor element type (``ember.float32`` and friends).

    Attributes: ``name`` (``"float32"``), ``itemsize`` in bytes, ``is_floating_point``,
    ``is_signed``, ``numpy`` (the matching ``numpy.dtype``).
    """

    __slots__ = ("name", "itemsize", "is_floating_point", "is_signed", "numpy", "_rank", "_kind")

    def __init__(self, name: str, kind: int, rank: int, signed: bool) -> None:
        self.name = name
        self.numpy = np.dtype("bool" if name == "bool" else name)
        self.itemsize = self.numpy.itemsize
        self._kind = kind  # 0 bool, 1 integer, 2 floating
        self._rank = rank
        self.is_floating_point = kind == 2
        self.is_signed = signed

    @property
    def is_bool(self) -> bool:
        """True for ``ember.bool``."""
        return self._kind == 0

    @property
    def is_integer(self) -> bool:
        """True for the integer types (not bool)."""
        return self._kind == 1

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self):  # pickling returns the singleton
        return (as_dtype, (self.name,))


bool_ = DType("bool", 0, 0, False)
uint8 = DType("uint8", 1, 1, False)
int8 = DType("int8", 1, 1, True)
int16 = DType("int16", 1, 2, True)
int32 = DType("int32", 1, 3, True)
int64 = DType("int64", 1, 4, True)
float16 = DType("float16", 2, 1, True)
float32 = DType("float32", 2, 2, True)
float64 = DType("float64", 2, 3, True)

ALL_DTYPES: tuple[DType, ...] = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
FLOAT_DTYPES: tuple[DType, ...] = (float16, float32, float64)
INT_DTYPES: tuple[DType, ...] = (uint8, int8, int16, int32, int64)

_BY_NAME: dict[str, DType] = {d.name: d for d in ALL_DTYPES}
_BY_NAME.update({"half": float16, "float": float32, "double": float64, "long": int64, "int": int32})
_BY_NUMPY: dict[np.dtype, DType] = {d.numpy: d for d in ALL_DTYPES}

_default_float = float32


def get_default_dtype() -> DType:
    """The floating type of tensors made from Python floats (float32 unless changed); one for
    the whole process, as in PyTorch."""
    return _default_float


def set_default_dtype(dtype: DType) -> None:
    """Set the default floating type (float16, float32 or float64) for every thread of the
    process, as in PyTorch (unlike the default device, which is per thread). Set it before
    starting threads: an op running in another thread while it changes may use either type."""
    global _default_float
    dtype = as_dtype(dtype)
    if not dtype.is_floating_point:
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_float = dtype


def as_dtype(value: object) -> DType:
    """Convert ``value`` (a DType, a name such as ``"float32"``, a numpy dtype, or a Python
    type ``float``/``int``/``bool``) to an Ember :class:`DType`."""
    if isinstance(value, DType):
        return value
    if value is float:
        return _default_float
    if value is int:
        return int64
    if value is bool:
        return bool_
    if isinstance(value, str):
        d = _BY_NAME.get(value.removeprefix("ember."))
        if d is not None:
            return d
    else:
        try:
            d = _BY_NUMPY.get(np.dtype(value))  # type: ignore[arg-type]
        except TypeError:
            d = None
        if d is not None:
            return d
    names = ", ".join(x.name for x in ALL_DTYPES)
    raise TypeError(f"unsupported dtype {value!r}; Ember supports {names}")


def from_numpy_dtype(dt: np.dtype) -> DType:
    """The Ember dtype of a numpy dtype; a clear TypeError for types Ember lacks."""
    d = _BY_NUMPY.get(dt)
    if d is None:
        names = ", ".join(x.name for x in ALL_DTYPES)
        raise TypeError(f"numpy dtype {dt} has no Ember equivalent; supported: {names}")
    return d


def _promote_pair(a: DType, b: DType) -> DType:
    if a is b:
        return a
    if a._kind != b._kind:
        return a if a._kind > b._kind else b
    if a._kind == 1 and a.is_signed != b.is_signed:
        # uint8 with a signed type: the signed type wide enough for both
        signed, unsigned = (a, b) if a.is_signed else (b, a)
        if signed.itemsize > unsigned.itemsize:
            return signed
        return int16
    return a if a._rank >= b._rank else b


_PROMOTE: dict[tuple[DType, DType], DType] = {
    (a, b): _promote_pair(a, b) for a in ALL_DTYPES for b in ALL_DTYPES
}


def promote_types(a: DType, b: DType) -> DType:
    """The type two tensors of dtypes ``a`` and ``b`` compute in (PyTorch's table)."""
    return _PROMOTE[a, b]


def scalar_kind(value: object) -> int:
    """Category of a Python scalar: 0 bool, 1 integer, 2 floating. TypeError otherwise."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return 1
    if isinstance(value, float):
        return 2
    if isinstance(value, np.generic):
        return 0 if value.dtype == np.bool_ else (2 if value.dtype.kind == "f" else 1)
    raise TypeError(f"expected a Tensor or a Python number, got {type(value).__name__}")


def result_type_scalar(dtype: DType, value: object) -> DType:
    """Type of ``tensor(dtype) op scalar``: the scalar is weak and can only raise the category."""
    k = scalar_kind(value)
    if k <= dtype._kind:
        return dtype
    return _default_float if k == 2 else int64


def result_type(*operands: object) -> DType:
    """The promoted dtype of tensors and Python scalars, PyTorch style."""
    tensor_type: DType | None = None
    scalar_max = -1
    for op in operands:
        dt = getattr(op, "dtype", None)
        if isinstance(dt, DType):
            tensor_type = dt if tensor_type is None else _PROMOTE[tensor_type, dt]
        else:
            scalar_max = max(scalar_max, scalar_kind(op))
    if tensor_type is None:
        return {0: bool_, 1: int64, 2: _default_float}[scalar_max]
    if scalar_max > tensor_type._kind:
        return _default_float if scalar_max == 2 else int64
    return tensor_type
