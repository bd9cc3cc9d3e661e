"""Ember's data types and PyTorch-compatible type promotion.

A :class:`DType` is a small immutable object; the module-level names (``ember.float32`` ...)
are the only instances. Promotion follows PyTorch: categories bool < integer < floating <
complex, the widest type of the highest category present wins, and Python scalars are *weak*
(they only decide the category, never the width). A complex type is as wide as the floating
type of its parts (complex64 with float64 gives complex128); a Python ``complex`` scalar makes a
floating tensor the complex type of its width (float32 + 1j is complex64) and an integer or bool
tensor the default complex type (complex64 under the default float32).

``bfloat16`` (8 bits of significand, float32's exponent range) is a floating type as wide as
float16: the two together give float32, as in PyTorch. numpy has no bfloat16; its numpy dtype is
``ml_dtypes.bfloat16``.
"""

from __future__ import annotations

import ml_dtypes
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
    "bfloat16",
    "complex64",
    "complex128",
    "cfloat",
    "cdouble",
    "ALL_DTYPES",
    "COMPLEX_DTYPES",
    "FLOAT_DTYPES",
    "INT_DTYPES",
    "promote_types",
    "result_type",
    "get_default_dtype",
    "set_default_dtype",
    "as_dtype",
    "finfo",
    "canonical_bools",
]


_NUMPY_TYPES: dict[str, object] = {"bfloat16": ml_dtypes.bfloat16}  # numpy's own names otherwise


class DType:
    """A tensor element type (``ember.float32`` and friends).

    Attributes: ``name`` (``"float32"``), ``itemsize`` in bytes, ``is_floating_point`` (False
    for complex types, as in PyTorch), ``is_complex``, ``is_signed``, ``numpy`` (the matching
    ``numpy.dtype``).
    """

    __slots__ = (
        "name",
        "itemsize",
        "is_floating_point",
        "is_complex",
        "is_signed",
        "numpy",
        "_rank",
        "_kind",
    )

    def __init__(self, name: str, kind: int, rank: int, signed: bool) -> None:
        self.name = name
        self.numpy = np.dtype(_NUMPY_TYPES.get(name, name))
        self.itemsize = self.numpy.itemsize
        self._kind = kind  # 0 bool, 1 integer, 2 floating, 3 complex
        # the width: floating types and complex types of the same part width share a rank
        self._rank = rank
        self.is_floating_point = kind == 2
        self.is_complex = kind == 3
        self.is_signed = signed

    @property
    def is_bool(self) -> bool:
        """True for ``ember.bool``."""
        return self._kind == 0

    @property
    def is_integer(self) -> bool:
        """True for the integer types (not bool)."""
        return self._kind == 1

    @property
    def is_differentiable(self) -> bool:
        """True for the types autograd differentiates: floating and complex."""
        return self._kind >= 2

    def to_real(self) -> DType:
        """The real type of this type's parts: complex64 -> float32, complex128 -> float64; a
        real type is returned as it is (as PyTorch's ``dtype.to_real()``)."""
        return _TO_REAL.get(self, self)

    def to_complex(self) -> DType:
        """The complex type with parts of this floating type: float32 -> complex64, float64 ->
        complex128 (float16 -> complex64: Ember has no complex32); a complex type is returned
        as it is. TypeError for integer and bool types, as in PyTorch."""
        if self._kind == 3:
            return self
        c = _TO_COMPLEX.get(self)
        if c is None:
            raise TypeError(
                f"to_complex: {self} has no complex counterpart; only floating types do (float32 -> "
                "complex64, float64 -> complex128)"
            )
        return c

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
bfloat16 = DType("bfloat16", 2, 1, True)  # as wide as float16: the two promote to float32
complex64 = DType("complex64", 3, 2, True)
complex128 = DType("complex128", 3, 3, True)
cfloat = complex64  # PyTorch's aliases
cdouble = complex128

# complex types and bfloat16 come last: their positions must not move the older ones' (the
# distributed collectives send a dtype as its index in this tuple)
ALL_DTYPES: tuple[DType, ...] = (
    bool_,
    uint8,
    int8,
    int16,
    int32,
    int64,
    float16,
    float32,
    float64,
    complex64,
    complex128,
    bfloat16,
)
REAL_DTYPES: tuple[DType, ...] = (*ALL_DTYPES[:9], bfloat16)
FLOAT_DTYPES: tuple[DType, ...] = (float16, float32, float64, bfloat16)
COMPLEX_DTYPES: tuple[DType, ...] = (complex64, complex128)
INT_DTYPES: tuple[DType, ...] = (uint8, int8, int16, int32, int64)

_TO_REAL: dict[DType, DType] = {complex64: float32, complex128: float64}
_TO_COMPLEX: dict[DType, DType] = {
    float16: complex64,
    bfloat16: complex64,
    float32: complex64,
    float64: complex128,
}

_BY_NAME: dict[str, DType] = {d.name: d for d in ALL_DTYPES}
_BY_NAME.update({"half": float16, "float": float32, "double": float64, "long": int64, "int": int32})
_BY_NAME.update({"cfloat": complex64, "cdouble": complex128})
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
    type ``float``/``int``/``bool``/``complex``) to an Ember :class:`DType`."""
    if isinstance(value, DType):
        return value
    if value is float:
        return _default_float
    if value is complex:
        return default_complex_dtype()
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


def default_complex_dtype() -> DType:
    """The complex type of tensors made from Python complex numbers: the complex type of the
    default floating type (complex64 under float32, complex128 under float64), as in PyTorch."""
    return _TO_COMPLEX[_default_float]


def is_complex(x: object) -> bool:
    """Whether ``x`` (a Tensor or a DType) has a complex dtype (``ember.is_complex``)."""
    dt = x if isinstance(x, DType) else getattr(x, "dtype", None)
    if not isinstance(dt, DType):
        raise TypeError(f"is_complex: expected an ember.Tensor, got {type(x).__name__}")
    return dt._kind == 3


def finfo(dtype: object) -> ml_dtypes.finfo:
    """Machine limits of a floating dtype (``bits``, ``eps``, ``max``, ``min``, ``tiny``,
    ``smallest_normal``, ``resolution``, ``nmant``), as ``numpy.finfo`` gives them, bfloat16
    included (``numpy.finfo`` refuses it)."""
    d = as_dtype(dtype)
    if not (d.is_floating_point or d.is_complex):
        raise TypeError(f"finfo: {d} is not a floating dtype; use numpy.iinfo(dtype.numpy) for integers")
    return ml_dtypes.finfo(d.numpy)


def from_numpy_dtype(dt: np.dtype) -> DType:
    """The Ember dtype of a numpy dtype; a clear TypeError for types Ember lacks."""
    d = _BY_NUMPY.get(dt)
    if d is None:
        names = ", ".join(x.name for x in ALL_DTYPES)
        raise TypeError(f"numpy dtype {dt} has no Ember equivalent; supported: {names}")
    return d


def canonical_bools(array: np.ndarray, in_place: bool = False) -> np.ndarray:
    """``array`` itself, unless it is a bool array holding bytes other than 0 and 1: then a copy
    holding 0 and 1, or with ``in_place`` (and a writable array) the same array with those bytes
    set to 1 (its values, as numpy reads them, are unchanged). numpy reads every nonzero byte as
    True (``np.frombuffer`` and byte views give such arrays); kernels compute on the bytes (2 & 1
    is 0, a cast of 255 gives 255), so every bool buffer Ember holds has 0 and 1 only."""
    if array.dtype != np.bool_ or array.size == 0:
        return array
    as_bytes = array.view(np.uint8)
    if int(as_bytes.max()) <= 1:
        return array
    if in_place and array.flags.writeable:
        np.minimum(as_bytes, 1, out=as_bytes)
        return array
    return as_bytes != 0


def _promote_pair(a: DType, b: DType) -> DType:
    if a is b:
        return a
    if a._kind != b._kind:
        hi, lo = (a, b) if a._kind > b._kind else (b, a)
        if hi._kind == 3 and lo._kind == 2 and lo._rank > hi._rank:
            return lo.to_complex()  # complex64 with float64: complex128
        return hi
    if a._kind == 2 and a._rank == b._rank:
        return float32  # float16 with bfloat16: neither holds the other
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
    """Category of a Python scalar: 0 bool, 1 integer, 2 floating, 3 complex. TypeError otherwise."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return 1
    if isinstance(value, float):
        return 2
    if isinstance(value, complex):
        return 3
    if isinstance(value, np.generic):
        d = _BY_NUMPY.get(value.dtype)
        if d is not None:  # numpy's kind letter is "V" for ml_dtypes.bfloat16
            return d._kind
        kind = value.dtype.kind
        return 0 if kind == "b" else (2 if kind == "f" else (3 if kind == "c" else 1))
    raise TypeError(f"expected a Tensor or a Python number, got {type(value).__name__}")


def result_type_scalar(dtype: DType, value: object) -> DType:
    """Type of ``tensor(dtype) op scalar``: the scalar is weak and can only raise the category."""
    k = scalar_kind(value)
    if k <= dtype._kind:
        return dtype
    return _weak_scalar_type(dtype, k)


def _weak_scalar_type(dtype: DType, k: int) -> DType:
    """The type a scalar of category ``k`` above ``dtype``'s category raises it to."""
    if k == 3:
        # a complex scalar keeps a floating tensor's width (float64 + 1j is complex128)
        return dtype.to_complex() if dtype._kind == 2 else default_complex_dtype()
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
        if scalar_max == 3:
            return default_complex_dtype()
        return {0: bool_, 1: int64, 2: _default_float}[scalar_max]
    if scalar_max > tensor_type._kind:
        return _weak_scalar_type(tensor_type, scalar_max)
    return tensor_type
