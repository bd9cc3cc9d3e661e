"""Trigonometric and hyperbolic functions composed from the elementwise primitives: ``tan``,
``atan``, ``atan2``, ``asin``, ``acos``, ``sinh``, ``cosh``, ``asinh``, ``acosh``, ``atanh`` and their
numpy-style aliases (``arctan``, ``arctan2``, ``arcsin`` ...), with their op records. Each is a
composite accurate to the dtype's rounding on every backend (atan's rational approximation is
Cephes'; asin and acos go through atan2); where a backend has the optional ``atan2`` kernel, atan,
atan2, asin and acos run it instead. The shared helpers (``_poly``, ``_float_operands``,
``_with_backward``, ``_signbit_float``) and the record builders are in :mod:`ember.ops.math_functions`.
"""

from __future__ import annotations

import math
from typing import Any

from ._core import Tensor, _make, kernel
from .elementwise import (
    _broadcast,
    _rg,
    abs,
    cos,
    div,
    eq,
    exp,
    expm1,
    gt,
    log,
    log1p,
    logical_and,
    logical_not,
    lt,
    maximum,
    minimum,
    neg,
    rsqrt,
    sin,
    sqrt,
    where,
)
from .math_functions import _LN2, _also, _float_operands, _poly, _shape_error, _signbit_float, _with_backward
from .unary import (
    _half_in_float32,
    _unary,
)


def tan(x: Tensor) -> Tensor:
    """Tangent (integers compute in the default float dtype)."""
    return _unary(
        "tan",
        x,
        lambda g, x, o: g * (o * o + 1),
        "out",
        composite=_half_in_float32(lambda x: sin(x) / cos(x)),
    )


_ATAN_P = (
    -8.750608600031904122785e-1,
    -1.615753718733365076637e1,
    -7.500855792314704667340e1,
    -1.228866684490136173410e2,
    -6.485021904942025371773e1,
)
_ATAN_Q = (
    1.0,
    2.485846490142306297962e1,
    1.650270098316988542046e2,
    4.328810604912902668951e2,
    4.853903996359136964868e2,
    1.945506571482613964425e2,
)
_TAN_3PI_8 = 2.41421356237309504880
_PI_2_LOW = 6.123233995736765886130e-17  # pi/2 - float(pi/2)


def _atan_composite(x: Tensor) -> Tensor:
    """arctan by Cephes' reduction to |t| <= tan(pi/8) and its rational approximation."""
    a = abs(x)
    big = gt(a, _TAN_3PI_8)
    mid = logical_and(gt(a, 0.66), logical_not(big))
    t = where(big, div(-1.0, where(big, a, 1.0)), where(mid, (a - 1) / (a + 1), a))
    z = t * t
    r = t * (z * _poly(z, _ATAN_P) / _poly(z, _ATAN_Q)) + t
    # the offsets in x's dtype (bool * constant is exact; a where of two Python floats would be
    # in the default float dtype)
    fb, fm = big.to(x.dtype), mid.to(x.dtype)
    r = r + (fb * _PI_2_LOW + fm * (0.5 * _PI_2_LOW))
    res = (fb * (math.pi / 2) + fm * (math.pi / 4)) + r
    # odd: the sign of x (and -0.0 stays -0.0)
    return where(eq(x, 0), x, where(lt(x, 0), neg(res), res))


def atan(x: Tensor) -> Tensor:
    """Arctangent, in (-pi/2, pi/2)."""
    return _unary("atan", x, lambda g, x, o: g / (x * x + 1), composite=_half_in_float32(_atan_of))


def _atan_of(x: Tensor) -> Tensor:
    """arctan(x) through the device's ``atan2`` kernel (as atan2(x, 1)) or the composite."""
    k = x.device.kernels.get("atan2")
    if k is None:
        return _atan_composite(x)
    one = kernel(x.device, "full")((), 1.0, x.dtype, x.device.index)
    return _make(k(x._data, one), x.shape, x.dtype, x.device)


def _atan2_of(y: Tensor, x: Tensor) -> Tensor:
    """atan2 of two floating tensors of one dtype: the device's optional ``atan2`` kernel, or the
    composite (every device gets the same values to rounding)."""
    k = y.device.kernels.get("atan2")
    if k is None:
        return _atan2_composite(y, x)
    shape = y.shape if y.shape == x.shape else _broadcast("atan2", y.shape, x.shape)
    return _make(k(y._data, x._data), shape, y.dtype, y.device)


def _atan2_composite(y: Tensor, x: Tensor) -> Tensor:
    ay, ax = abs(y), abs(x)
    hi, lo = maximum(ay, ax), minimum(ay, ax)
    both_inf = logical_and(eq(ay, math.inf), eq(ax, math.inf))
    ratio = where(eq(hi, 0), 0.0, where(both_inf, 1.0, lo / where(eq(hi, 0), 1.0, hi)))
    t = _atan_composite(ratio)  # in [0, pi/4]
    t = where(gt(ay, ax), math.pi / 2 - t, t)
    t = where(_signbit_float(x), math.pi - t, t)
    return where(_signbit_float(y), neg(t), t)


def atan2(input: Any, other: Any) -> Tensor:
    """The angle of the point (other, input), in [-pi, pi]: ``atan2(y, x)``, with the quadrant
    from both signs (signed zeros included, as in C's atan2)."""
    y, x, dt = _float_operands("atan2", input, other)

    def grad(g: Tensor, o: Tensor) -> tuple[Any, Any]:
        r2 = x * x + y * y
        return (g * x / r2 if _rg(0) else None), (g * neg(y) / r2 if _rg(1) else None)

    return _with_backward("atan2", (input, other), lambda: _atan2_of(y, x), grad, dt)


arctan2 = atan2


def asin(x: Tensor) -> Tensor:
    """Arcsine, in [-pi/2, pi/2] (NaN outside [-1, 1])."""
    return _unary(
        "asin",
        x,
        lambda g, x, o: g * rsqrt((1 - x) * (1 + x)),
        composite=_half_in_float32(lambda x: _atan2_of(x, sqrt((1 - x) * (1 + x)))),
    )


def acos(x: Tensor) -> Tensor:
    """Arccosine, in [0, pi] (NaN outside [-1, 1])."""
    return _unary(
        "acos",
        x,
        lambda g, x, o: neg(g * rsqrt((1 - x) * (1 + x))),
        composite=_half_in_float32(lambda x: _atan2_of(sqrt((1 - x) * (1 + x)), x)),
    )


def _sinh_composite(x: Tensor) -> Tensor:
    # (u + u / (u + 1)) / 2 with u = expm1(|x|) is exact near 0; far from it, e^|x| / 2 - e^-|x| / 2
    # (exp(|x| - ln 2) does not overflow before sinh does)
    a = abs(x)
    small = lt(a, 1.0)
    u = expm1(where(small, a, 0.0))
    near = (u + u / (u + 1)) * 0.5
    e = exp(a - _LN2)
    far = e - 0.25 / e
    res = where(small, near, far)
    return where(eq(x, 0), x, where(lt(x, 0), neg(res), res))


def sinh(x: Tensor) -> Tensor:
    """Hyperbolic sine."""
    return _unary("sinh", x, lambda g, x, o: g * cosh(x), composite=_half_in_float32(_sinh_composite))


def cosh(x: Tensor) -> Tensor:
    """Hyperbolic cosine."""

    def composite(x: Tensor) -> Tensor:
        e = exp(abs(x) - _LN2)  # e^|x| / 2, finite as long as cosh is
        return e + 0.25 / e

    return _unary("cosh", x, lambda g, x, o: g * sinh(x), composite=_half_in_float32(composite))


_HUGE_ARG = 2.0**28  # past it, sqrt(x*x + 1) is |x| to the last bit: log(2|x|) avoids the square's overflow


def asinh(x: Tensor) -> Tensor:
    """Inverse hyperbolic sine."""

    def composite(x: Tensor) -> Tensor:
        a = abs(x)
        huge = gt(a, _HUGE_ARG)
        m = where(huge, 1.0, a)
        res = where(huge, log(a) + _LN2, log1p(m + m * m / (sqrt(m * m + 1) + 1)))
        return where(eq(x, 0), x, where(lt(x, 0), neg(res), res))

    return _unary("asinh", x, lambda g, x, o: g * rsqrt(x * x + 1), composite=_half_in_float32(composite))


def acosh(x: Tensor) -> Tensor:
    """Inverse hyperbolic cosine (NaN below 1)."""

    def composite(x: Tensor) -> Tensor:
        huge = gt(x, _HUGE_ARG)
        t = where(huge, 1.0, x) - 1
        res = where(huge, log(x) + _LN2, log1p(t + sqrt(t * t + 2 * t)))
        return where(lt(x, 1), math.nan, res)

    return _unary(
        "acosh", x, lambda g, x, o: g * rsqrt((x - 1) * (x + 1)), composite=_half_in_float32(composite)
    )


def atanh(x: Tensor) -> Tensor:
    """Inverse hyperbolic tangent (+-inf at +-1, NaN outside [-1, 1])."""

    def composite(x: Tensor) -> Tensor:
        a = abs(x)
        res = log1p(2 * a / (1 - a)) * 0.5
        return where(eq(x, 0), x, where(lt(x, 0), neg(res), res))

    return _unary("atanh", x, lambda g, x, o: g / ((1 - x) * (1 + x)), composite=_half_in_float32(composite))


arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records): one per op, read by Tensor's methods, the kit and the docs
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    import dataclasses

    import numpy as np

    from .elementwise import _binary_record, _unary_record
    from .records import register
    from .samples import FLOATS, Sample, binary_samples

    u, b = _unary_record, _binary_record
    also = _also

    def atan2_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        """binary_samples, and every pair of special values (NaN, infinities, signed zeros, both
        signs of finite values): 98 contiguous elements (long enough for a device's vectorised
        contiguous path as well as its tail) and a broadcast grid."""
        vals = np.array([math.nan, -math.inf, -1.5, -0.0, 0.0, 0.5, math.inf], dtype=dtype)
        y, x = np.tile(np.repeat(vals, 7), 2), np.tile(vals, 14)
        special = [Sample((y, x), grad=False), Sample((vals.reshape(7, 1), vals.reshape(1, 7)), grad=False)]
        return binary_samples()(dtype, rng) + special

    MATH_FLOATS = FLOATS  # integer inputs compute in float32: the parity tests compare them with torch
    register(
        also(u("tan", tan, np.tan, MATH_FLOATS, low=-1.2, high=1.2)),
        also(u("atan", atan, np.arctan, MATH_FLOATS, low=-4.0, high=4.0), "arctan"),
        also(u("asin", asin, np.arcsin, FLOATS, low=-0.95, high=0.95), "arcsin"),
        also(u("acos", acos, np.arccos, FLOATS, low=-0.95, high=0.95), "arccos"),
        u("sinh", sinh, np.sinh, MATH_FLOATS, low=-3.0, high=3.0),
        u("cosh", cosh, np.cosh, MATH_FLOATS, low=-3.0, high=3.0),
        also(u("asinh", asinh, np.arcsinh, MATH_FLOATS, low=-3.0, high=3.0), "arcsinh"),
        also(u("acosh", acosh, np.arccosh, FLOATS, low=1.05, high=4.0), "arccosh"),
        also(u("atanh", atanh, np.arctanh, FLOATS, low=-0.95, high=0.95), "arctanh"),
        also(
            dataclasses.replace(
                b("atan2", atan2, np.arctan2, MATH_FLOATS, kernel="atan2", errors=_shape_error("atan2")),
                samples=atan2_samples,
            ),
            "arctan2",
        ),
    )


_records()
