"""Data types, the standard's type promotion and the data type functions (``astype``,
``can_cast``, ``finfo``, ``iinfo``, ``isdtype``, ``result_type``).

The standard's promotion differs from Ember's operators (PyTorch's rules) in one place: a 0-d
array takes full part in promotion (``int8[3] + int64[()]`` is int64 here, int8 in PyTorch). The
namespace's functions therefore cast array operands to the standard's common type before calling
Ember's op. Python scalars are weak in both: an ``int`` joins an integer or floating array, a
``float`` a floating array, a ``complex`` a real or complex floating array (``float32`` becomes
``complex64``), and otherwise the result keeps the array's dtype. Real and complex floating
dtypes promote to the complex dtype of the wider precision, by the standard's table. Mixed kinds (bool with a
number, integer with floating), which the standard leaves to the library, follow Ember's rules.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..tensor import Tensor

bool = _dt.bool_  # noqa: A001 - the standard's name
int8, int16, int32, int64 = _dt.int8, _dt.int16, _dt.int32, _dt.int64
uint8 = _dt.uint8
float32, float64 = _dt.float32, _dt.float64
complex64, complex128 = _dt.complex64, _dt.complex128

#: the standard's dtypes that Ember has (no uint16/uint32/uint64)
DTYPES: tuple[_dt.DType, ...] = (
    bool, int8, int16, int32, int64, uint8, float32, float64, complex64, complex128,
)  # fmt: skip
_STANDARD = frozenset(DTYPES)

_KINDS = {
    "bool": lambda d: d.is_bool,
    "signed integer": lambda d: d.is_integer and d.is_signed,
    "unsigned integer": lambda d: d.is_integer and not d.is_signed,
    "integral": lambda d: d.is_integer,
    "real floating": lambda d: d.is_floating_point,
    "complex floating": lambda d: d.is_complex,
    "numeric": lambda d: not d.is_bool,
}


def check_dtype(dtype: Any, op: str) -> _dt.DType:
    """``dtype`` as one of the namespace's dtypes, or a TypeError naming the ones there are."""
    if isinstance(dtype, _dt.DType) and dtype in _STANDARD:
        return dtype
    names = ", ".join(d.name for d in DTYPES)
    raise TypeError(f"{op}: {dtype!r} is not a dtype of ember.array_api; use one of {names}")


def _is_inexact(d: _dt.DType) -> builtins.bool:
    return d.is_floating_point or d.is_complex


def standard_promote(a: _dt.DType, b: _dt.DType) -> _dt.DType | None:
    """The standard's promotion of two dtypes, or None where the standard has no rule (mixed
    kinds: bool with a number, integer with floating). Real and complex floating dtypes promote
    to the complex dtype of the wider precision (``float64`` with ``complex64`` is
    ``complex128``)."""
    if a is b:
        return a
    if a.is_bool or b.is_bool or _is_inexact(a) != _is_inexact(b):
        return None
    return _dt.promote_types(a, b)


def _is_scalar(x: object) -> builtins.bool:
    return isinstance(x, (int, float, complex))


def result_type(*arrays_and_dtypes: Any) -> _dt.DType:
    """The dtype the standard's promotion gives ``arrays_and_dtypes`` (arrays, dtypes and, since
    2024.12, Python ``bool``/``int``/``float``/``complex`` scalars, which are weak: a ``complex``
    makes a real floating dtype the complex dtype of its precision)."""
    if not arrays_and_dtypes:
        raise ValueError("result_type: at least one array or dtype is required")
    out: _dt.DType | None = None
    scalars = []
    for a in arrays_and_dtypes:
        if isinstance(a, Tensor):
            d = a.dtype
        elif isinstance(a, _dt.DType):
            d = check_dtype(a, "result_type")
        elif _is_scalar(a):
            scalars.append(a)
            continue
        else:
            raise TypeError(f"result_type: expected arrays, dtypes or Python scalars, got {type(a).__name__}")
        out = d if out is None else (standard_promote(out, d) or _dt.promote_types(out, d))
    if out is None:
        raise ValueError("result_type: at least one array or dtype is required (only scalars given)")
    for s in scalars:
        out = _dt.result_type_scalar(out, s)
    return out


def promote(x1: Any, x2: Any, op: str) -> tuple[Any, Any]:
    """The operands of a binary function, arrays cast to their common dtype; Python scalars stay
    as they are (Ember treats them as weak, as the standard does)."""
    t1, t2 = isinstance(x1, Tensor), isinstance(x2, Tensor)
    if not t1 and not t2:
        raise TypeError(f"{op}: at least one argument must be an array, got two Python scalars")
    for x in (x1, x2):
        if not isinstance(x, Tensor) and not (_is_scalar(x) or isinstance(x, np.generic)):
            raise TypeError(f"{op}: expected an array or a Python scalar, got {type(x).__name__}")
    if t1 and t2 and x1.dtype is not x2.dtype:
        d = standard_promote(x1.dtype, x2.dtype) or _dt.promote_types(x1.dtype, x2.dtype)
        x1, x2 = x1.to(d), x2.to(d)
    return x1, x2


def astype(x: Tensor, dtype: _dt.DType, /, *, copy: builtins.bool = True, device: Any = None) -> Tensor:
    """``x`` converted to ``dtype`` (and moved to ``device``). ``copy=False`` returns ``x`` itself
    when nothing changes."""
    if not isinstance(x, Tensor):
        raise TypeError(f"astype: expected an array, got {type(x).__name__}")
    dtype = check_dtype(dtype, "astype")
    from ._creation import resolve_device

    dev = x.device if device is None else resolve_device(device)
    if x.dtype.is_complex and not dtype.is_complex:
        raise TypeError(
            f"astype: casting a {x.dtype} array to {dtype} would drop the imaginary parts, which the "
            "standard does not permit; take real(x), imag(x) or abs(x) first"
        )
    if not copy and dtype is x.dtype and dev is x.device:
        return x
    out = x.to(device=dev, dtype=dtype)
    return out.clone() if out is x else out


def can_cast(from_: Any, to: _dt.DType, /) -> builtins.bool:
    """Whether the standard's promotion of ``from_`` (a dtype or an array) and ``to`` is ``to``."""
    f = from_.dtype if isinstance(from_, Tensor) else check_dtype(from_, "can_cast")
    to = check_dtype(to, "can_cast")
    return standard_promote(f, to) is to


def isdtype(dtype: _dt.DType, kind: Any) -> builtins.bool:
    """Whether ``dtype`` is of ``kind``: a dtype, one of the standard's kind names ('bool',
    'signed integer', 'unsigned integer', 'integral', 'real floating', 'complex floating',
    'numeric') or a tuple of them."""
    dtype = check_dtype(dtype, "isdtype")
    if isinstance(kind, tuple):
        return any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, _dt.DType):
        return dtype is kind
    if isinstance(kind, str):
        test = _KINDS.get(kind)
        if test is None:
            raise ValueError(f"isdtype: unknown kind {kind!r}; use one of {', '.join(_KINDS)}")
        return test(dtype)
    raise TypeError(f"isdtype: kind must be a dtype, a kind name or a tuple of them, got {kind!r}")


@dataclass(frozen=True)
class finfo_object:  # noqa: N801 - the standard's name
    """Machine limits of a floating dtype (for a complex dtype, those of its real parts, and
    ``dtype`` is the real dtype of that precision, as the standard specifies)."""

    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    dtype: _dt.DType


@dataclass(frozen=True)
class iinfo_object:  # noqa: N801 - the standard's name
    """Limits of an integer dtype."""

    bits: int
    max: int
    min: int
    dtype: _dt.DType


def _dtype_of(type: Any, op: str) -> _dt.DType:  # noqa: A002
    return type.dtype if isinstance(type, Tensor) else check_dtype(type, op)


def finfo(type: Any, /) -> finfo_object:  # noqa: A002
    """Machine limits of a real or complex floating dtype (or of an array's dtype); a complex
    dtype reports its parts' real dtype."""
    d = _dtype_of(type, "finfo")
    if d.is_complex:
        d = d.to_real()
    if not d.is_floating_point:
        raise TypeError(f"finfo: {d} is not a floating dtype; use iinfo for integers")
    f = np.finfo(d.numpy)
    return finfo_object(f.bits, float(f.eps), float(f.max), float(f.min), float(f.smallest_normal), d)


def iinfo(type: Any, /) -> iinfo_object:  # noqa: A002
    """Limits of an integer dtype (or of an array's dtype)."""
    d = _dtype_of(type, "iinfo")
    if not d.is_integer:
        raise TypeError(f"iinfo: {d} is not an integer dtype; use finfo for floating dtypes")
    i = np.iinfo(d.numpy)
    return iinfo_object(i.bits, int(i.max), int(i.min), d)
