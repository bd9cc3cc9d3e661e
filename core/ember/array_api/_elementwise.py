"""Element-wise functions with the standard's names. Binary functions promote their array
operands by the standard's rules first (see :mod:`._dtypes`); Python scalars stay weak."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from .. import ops as _ops
from ..tensor import Tensor
from ._dtypes import promote

__all__ = [
    "abs", "acos", "acosh", "add", "asin", "asinh", "atan", "atan2", "atanh", "bitwise_and",
    "bitwise_left_shift", "bitwise_invert", "bitwise_or", "bitwise_right_shift", "bitwise_xor",
    "ceil", "clip", "conj", "copysign", "cos", "cosh", "divide", "equal", "exp", "expm1", "floor",
    "floor_divide", "greater", "greater_equal", "hypot", "imag", "isfinite", "isinf", "isnan",
    "less", "less_equal", "log", "log1p", "log2", "log10", "logaddexp", "logical_and",
    "logical_not", "logical_or", "logical_xor", "maximum", "minimum", "multiply", "negative",
    "nextafter", "not_equal", "positive", "pow", "real", "reciprocal", "remainder", "round",
    "sign", "signbit", "sin", "sinh", "square", "sqrt", "subtract", "tan", "tanh", "trunc",
]  # fmt: skip


def _array(x: Any, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected an array, got {type(x).__name__}")
    return x


def _unary(name: str, ember_fn: Any) -> Any:
    def fn(x: Tensor, /) -> Tensor:
        return ember_fn(_array(x, name))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Element-wise {name} (the standard's ``{name}``; Ember's ``{ember_fn.__name__}``)."
    return fn


def _binary(name: str, ember_fn: Any) -> Any:
    def fn(x1: Any, x2: Any, /) -> Tensor:
        a, b = promote(x1, x2, name)
        return ember_fn(a, b)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"Element-wise {name} of two arrays, or an array and a Python scalar, with the standard's "
        f"type promotion (Ember's ``{ember_fn.__name__}``)."
    )
    return fn


def _integral_identity(name: str, ember_fn: Any) -> Any:
    # rounding functions return integer (and bool) input unchanged, as the standard asks
    def fn(x: Tensor, /) -> Tensor:
        x = _array(x, name)
        return x.clone() if not x.dtype.is_floating_point else ember_fn(x)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Element-wise {name}; integer input is returned unchanged (a copy)."
    return fn


abs = _unary("abs", _ops.abs)  # noqa: A001
acos = _unary("acos", _ops.acos)
acosh = _unary("acosh", _ops.acosh)
asin = _unary("asin", _ops.asin)
asinh = _unary("asinh", _ops.asinh)
atan = _unary("atan", _ops.atan)
atanh = _unary("atanh", _ops.atanh)
bitwise_invert = _unary("bitwise_invert", _ops.bitwise_not)
ceil = _integral_identity("ceil", _ops.ceil)
cos = _unary("cos", _ops.cos)
cosh = _unary("cosh", _ops.cosh)
exp = _unary("exp", _ops.exp)
expm1 = _unary("expm1", _ops.expm1)
floor = _integral_identity("floor", _ops.floor)
isfinite = _unary("isfinite", _ops.isfinite)
isinf = _unary("isinf", _ops.isinf)
isnan = _unary("isnan", _ops.isnan)
log = _unary("log", _ops.log)
log1p = _unary("log1p", _ops.log1p)
log2 = _unary("log2", _ops.log2)
log10 = _unary("log10", _ops.log10)
logical_not = _unary("logical_not", _ops.logical_not)
negative = _unary("negative", _ops.neg)
reciprocal = _unary("reciprocal", _ops.reciprocal)
signbit = _unary("signbit", _ops.signbit)
sin = _unary("sin", _ops.sin)
sinh = _unary("sinh", _ops.sinh)
square = _unary("square", _ops.square)
sqrt = _unary("sqrt", _ops.sqrt)
tan = _unary("tan", _ops.tan)


def tanh(x: Tensor, /) -> Tensor:
    """Element-wise hyperbolic tangent. For complex ``x`` with an infinite real part and a finite
    imaginary part the result is ``±1 + 0j`` with the zero signed as ``imag(x)``, the standard's
    special case (C99's ``ctanh`` signs the zero as ``sin(2 imag(x))``, as numpy's kernel does)."""
    x = _array(x, "tanh")
    out = _ops.tanh(x)
    if not x.dtype.is_complex:
        return out
    re, im = _ops.real(x), _ops.imag(x)
    fix = _ops.logical_and(_ops.isinf(re), _ops.isfinite(im))
    zero = _ops.copysign(_ops.zeros_like(im), im)
    return _ops.where(fix, _ops.complex(_ops.sign(re), zero), out)

trunc = _integral_identity("trunc", _ops.trunc)

add = _binary("add", _ops.add)
atan2 = _binary("atan2", _ops.atan2)
bitwise_and = _binary("bitwise_and", _ops.bitwise_and)
bitwise_left_shift = _binary("bitwise_left_shift", _ops.bitwise_left_shift)
bitwise_or = _binary("bitwise_or", _ops.bitwise_or)
bitwise_right_shift = _binary("bitwise_right_shift", _ops.bitwise_right_shift)
bitwise_xor = _binary("bitwise_xor", _ops.bitwise_xor)
copysign = _binary("copysign", _ops.copysign)
divide = _binary("divide", _ops.div)
equal = _binary("equal", _ops.eq)
greater = _binary("greater", _ops.gt)
greater_equal = _binary("greater_equal", _ops.ge)
hypot = _binary("hypot", _ops.hypot)
less = _binary("less", _ops.lt)
less_equal = _binary("less_equal", _ops.le)
logaddexp = _binary("logaddexp", _ops.logaddexp)
logical_and = _binary("logical_and", _ops.logical_and)
logical_or = _binary("logical_or", _ops.logical_or)
logical_xor = _binary("logical_xor", _ops.logical_xor)
maximum = _binary("maximum", _ops.maximum)
minimum = _binary("minimum", _ops.minimum)
multiply = _binary("multiply", _ops.mul)
not_equal = _binary("not_equal", _ops.ne)
pow = _binary("pow", _ops.pow)  # noqa: A001
subtract = _binary("subtract", _ops.sub)


def positive(x: Tensor, /) -> Tensor:
    """``+x`` (a copy)."""
    return _array(x, "positive").clone()


def round(x: Tensor, /) -> Tensor:  # noqa: A001
    """Round to the nearest integer, halves to even; integer input is returned unchanged; a
    complex input has its real and imaginary parts rounded separately, as the standard asks."""
    x = _array(x, "round")
    if x.dtype.is_complex:
        return _ops.complex(_ops.round(_ops.real(x)), _ops.round(_ops.imag(x)))
    return x.clone() if not x.dtype.is_floating_point else _ops.round(x)


def conj(x: Tensor, /) -> Tensor:
    """The complex conjugate; ``x`` itself (a copy) for real dtypes."""
    x = _array(x, "conj")
    return _ops.conj(x) if x.dtype.is_complex else x.clone()


def real(x: Tensor, /) -> Tensor:
    """The real part (of the real dtype of ``x``'s precision); ``x`` itself (a copy) for real
    dtypes."""
    x = _array(x, "real")
    return _ops.real(x) if x.dtype.is_complex else x.clone()


def imag(x: Tensor, /) -> Tensor:
    """The imaginary part (of the real dtype of ``x``'s precision); zeros for real dtypes."""
    x = _array(x, "imag")
    return _ops.imag(x) if x.dtype.is_complex else _ops.zeros_like(x)


def clip(x: Tensor, /, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """``x`` limited to ``[min, max]`` (arrays or Python scalars; either may be None); the
    result keeps ``x``'s dtype and shape."""
    x = _array(x, "clip")
    for name, b in (("min", min), ("max", max)):
        if isinstance(b, Tensor) and b.dtype.is_floating_point != x.dtype.is_floating_point:
            raise TypeError(f"clip: {name} is {b.dtype} but x is {x.dtype}; the kinds must match")
    if min is None and max is None:
        return x.clone()
    if isinstance(min, Tensor):
        min = min.to(x.dtype)
    if isinstance(max, Tensor):
        max = max.to(x.dtype)
    out = x
    if min is not None:
        out = _ops.where(out < min, min, out) if isinstance(min, Tensor) else _ops.clamp_min(out, min)
    if max is not None:
        out = _ops.where(out > max, max, out) if isinstance(max, Tensor) else _ops.clamp_max(out, max)
    return out.to(x.dtype) if out.dtype is not x.dtype else (out.clone() if out is x else out)


def nextafter(x1: Any, x2: Any, /) -> Tensor:
    """The next representable floating value after ``x1`` towards ``x2``. The bit step has no
    Ember kernel: the values go to the host (numpy's ``nextafter``) and back to the device."""
    a, b = promote(x1, x2, "nextafter")
    ref = a if isinstance(a, Tensor) else b
    if not ref.dtype.is_floating_point:
        raise TypeError(f"nextafter: expected floating arrays, got {ref.dtype}")
    na = a.numpy() if isinstance(a, Tensor) else np.asarray(a, ref.dtype.numpy)
    nb = b.numpy() if isinstance(b, Tensor) else np.asarray(b, ref.dtype.numpy)
    out = np.nextafter(na, nb).astype(ref.dtype.numpy)
    return _ops.tensor(out, dtype=ref.dtype, device=ref.device)


def sign(x: Tensor, /) -> Tensor:
    """-1, 0 or 1 after the sign of each element; NaN stays NaN (the standard's special case).
    For complex ``x``, ``x / |x|`` (0 where ``x`` is 0), Ember's ``sgn``."""
    x = _array(x, "sign")
    if x.dtype.is_complex:
        return _ops.sgn(x)
    out = _ops.sign(x)
    return _ops.where(_ops.isnan(x), x, out) if x.dtype.is_floating_point else out


def floor_divide(x1: Any, x2: Any, /) -> Tensor:
    """The floor of ``x1 / x2`` with the standard's type promotion. For floats, where either
    operand is infinite the result is ``floor(x1 / x2)`` (an infinity or a signed zero, the
    standard's special cases) rather than the NaN or -1 of the remainder-based formula."""
    a, b = promote(x1, x2, "floor_divide")
    out = _ops.floor_divide(a, b)
    if not out.dtype.is_floating_point:
        return out
    a_inf = _ops.isinf(a) if isinstance(a, Tensor) else _ops.tensor(builtins.abs(a) == float("inf"))
    b_inf = _ops.isinf(b) if isinstance(b, Tensor) else _ops.tensor(builtins.abs(b) == float("inf"))
    a_inf, b_inf = a_inf.to_device(out.device), b_inf.to_device(out.device)
    return _ops.where(_ops.logical_or(a_inf, b_inf), _ops.floor(_ops.div(a, b)), out)


def remainder(x1: Any, x2: Any, /) -> Tensor:
    """``x1 - floor_divide(x1, x2) * x2``, with the sign of ``x2`` (Python's ``%``), with the
    standard's type promotion; a zero result of floating arrays carries ``x2``'s sign, as the
    standard's special cases ask, on every device."""
    a, b = promote(x1, x2, "remainder")
    out = _ops.remainder(a, b)
    if not out.dtype.is_floating_point:
        return out
    sign_of = b if isinstance(b, Tensor) else _ops.full_like(out, b)
    return _ops.where(out == 0, _ops.copysign(_ops.zeros_like(out), sign_of), out)
