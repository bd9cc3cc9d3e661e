"""Math functions composed from the elementwise primitives: trigonometric and hyperbolic
functions and their inverses, ``erfc``, ``erfinv``, ``lgamma``, ``digamma``, ``hypot``,
``copysign``, ``fmod``, ``lerp``, ``logaddexp``, ``xlogy``, and the comparisons and updates built
the same way (``isclose``, ``allclose``, ``equal``, ``nan_to_num``, ``heaviside``, ``addcmul`` ...).

Each is a composite of those primitives, accurate to the dtype's rounding on every backend; where
a backend has a kernel for the op (``atan2``, ``signbit``: optional kernels) that kernel runs
instead. A composite with its own backward (``_with_backward``) runs as one autograd node.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .. import dtypes as _dt
from ..dtypes import DType
from ._core import Tensor, _make, attach, kernel, needs_grad, same_device, saved_output
from .binary import (
    _check_int_divisor,
    _no_bool_division,
    _operands_dtype,
)
from .elementwise import (
    _broadcast,
    _fit,
    _rg,
    _Scalar,
    _scalar_or_raise,
    _shape,
    abs,
    add,
    clamp,
    cos,
    div,
    eq,
    erf,
    exp,
    expm1,
    floor,
    gt,
    isfinite,
    isnan,
    le,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    reciprocal,
    refuse_complex,
    remainder,
    round,
    rsqrt,
    sign,
    sin,
    sqrt,
    trunc,
    where,
    zeros_like_,
)
from .unary import (
    _TWO_OVER_SQRT_PI,
    _half_in_float32,
    _unary,
)

# ----------------------------------------------------------------------------------------------
# math functions: composites of the primitives, accurate to the dtype's rounding on every backend
# (atan's rational approximation is Cephes', lgamma's is Lanczos' (g = 7, n = 9), erfinv starts
# from Giles' and polishes with Newton steps on erf)
# ----------------------------------------------------------------------------------------------
_LN2 = math.log(2.0)


def _poly(z: Tensor, coeffs: tuple[float, ...]) -> Tensor:
    """coeffs[0] * z**(n-1) + ... + coeffs[-1] (Horner)."""
    p = z * coeffs[0] + coeffs[1]
    for c in coeffs[2:]:
        p = p * z + c
    return p


def _float_operands(op: str, a: Any, b: Any) -> tuple[Tensor, Tensor, DType]:
    """Two operands (at least one a tensor, the other may be a Python number) as tensors on one
    device, and the dtype of the result: their common floating dtype (PyTorch's promotion, integer
    and bool results in the default float dtype). The tensors are in that dtype, or in float32 when
    it is float16 or bfloat16 (the composite then rounds once, at the end); shapes must broadcast."""
    for v in (a, b):
        if not isinstance(v, (Tensor, *_Scalar)):
            _scalar_or_raise(op, v)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}: expected at least one ember.Tensor operand, got two Python numbers")
    refuse_complex(op, a, b)
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        same_device(op, a, b)
        _broadcast(op, a.shape, b.shape)
    dt = _operands_dtype(a, b)
    if not dt.is_floating_point:
        dt = _dt.get_default_dtype()
    dev = (a if isinstance(a, Tensor) else b).device
    ct = _dt.float32 if dt is _dt.float16 or dt is _dt.bfloat16 else dt

    def conv(v: Any) -> Tensor:
        if isinstance(v, Tensor):
            return v if v.dtype is ct else v.to(ct)
        return _make(kernel(dev, "full")((), float(v), ct, dev.index), (), ct, dev)

    return conv(a), conv(b), dt


def _with_backward(
    op: str,
    inputs: tuple[Any, ...],
    forward: Callable[[], Tensor],
    grad: Callable[[Tensor, Tensor], tuple],
    dtype: DType | None = None,
) -> Tensor:
    """``forward()`` (cast to ``dtype`` when given) with ``grad(g, out) -> one gradient per input``
    as its backward, each gradient in its input's dtype: the pieces of the composite record
    nothing, so the op saves what its own formula needs and runs as one node."""

    def run() -> Tensor:
        out = forward()
        return out.to(dtype) if dtype is not None and out.dtype is not dtype else out

    if not needs_grad(*inputs):
        return run()
    from ..autograd.grad_mode import no_grad

    with no_grad():
        out = run()
    o = saved_output(out)
    saved = tuple(t for t in inputs if isinstance(t, Tensor))
    # the inputs' shapes and dtypes as recorded (an in-place squeeze_ may change a shape later)
    shapes = tuple(_shape(t) for t in inputs)
    dtypes = tuple(t.dtype if isinstance(t, Tensor) else None for t in inputs)

    def backward(g: Tensor) -> tuple:
        return tuple(
            r.to(dt) if isinstance(r, Tensor) and dt is not None and r.dtype is not dt else r
            for r, dt in zip(_fit(grad(g, o), shapes), dtypes)
        )

    attach(out, op, backward, inputs, saved + (o,), out_alias=o)
    return out


def _signbit_float(x: Tensor) -> Tensor:
    """True where a floating x has its sign bit set (-0.0 included: 1 / -0.0 is -inf)."""
    return logical_or(lt(x, 0), logical_and(eq(x, 0), lt(div(1.0, x), 0)))


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


def hypot(input: Any, other: Any) -> Tensor:
    """sqrt(input**2 + other**2) without overflow or underflow in the squares (inf if either is
    inf, even against NaN, as C's hypot)."""
    a, b, dt = _float_operands("hypot", input, other)

    def forward() -> Tensor:
        aa, ab = abs(a), abs(b)
        hi, lo = maximum(aa, ab), minimum(aa, ab)
        r = lo / where(eq(hi, 0), 1.0, hi)
        out = hi * sqrt(r * r + 1)
        return where(logical_or(eq(aa, math.inf), eq(ab, math.inf)), math.inf, out)

    def grad(g: Tensor, o: Tensor) -> tuple[Any, Any]:
        return (g * a / o if _rg(0) else None), (g * b / o if _rg(1) else None)

    return _with_backward("hypot", (input, other), forward, grad, dt)


def _unit_with_sign_of(x: Tensor) -> Tensor:
    """+-1 with the sign bit of each element of ``x`` (so a kit record can see a zero's sign)."""
    return copysign(x * 0 + 1, x)


def copysign(input: Any, other: Any) -> Tensor:
    """|input| with the sign of other (the sign bit: -0.0 counts as negative), as a float tensor."""
    a, b, dt = _float_operands("copysign", input, other)

    def forward() -> Tensor:
        m = abs(a)
        return where(_signbit_float(b), neg(m), m)

    def grad(g: Tensor, o: Tensor) -> tuple[Any, Any]:
        # PyTorch: d/da is out / a (0 where a is 0); the sign carries no gradient
        ga = g * where(eq(a, 0), 0.0, o / where(eq(a, 0), 1.0, a)) if _rg(0) else None
        gb = zeros_like_(g) if _rg(1) else None
        return ga, gb

    return _with_backward("copysign", (input, other), forward, grad, dt)


def fmod(input: Any, other: Any) -> Tensor:
    """C's remainder: ``input - trunc(input / other) * other``, with the sign of ``input`` (exact;
    :func:`remainder` takes the sign of ``other``). Integer division by zero raises, as in PyTorch."""
    _no_bool_division("fmod", input, other)
    _check_int_divisor("fmod", input, other)
    dt = _operands_dtype(input, other)

    def forward() -> Tensor:
        if dt.is_floating_point:
            # the remainder of two non-negative operands is exact; the sign is then input's
            def mag(v: Any) -> Any:
                return abs(v.to(dt)) if isinstance(v, Tensor) else (v if v >= 0 else -v)

            r = remainder(mag(input), mag(other))
            if not isinstance(r, Tensor) or r.dtype is not dt:
                r = r.to(dt)
            if isinstance(input, Tensor):
                return where(_signbit_float(input.to(dt)), neg(r), r)
            return neg(r) if math.copysign(1.0, input) < 0 else r
        # integers: remainder has other's sign; move it to input's (exact in integer arithmetic)
        r = remainder(input, other)
        flip = logical_and(ne(r, 0), ne(lt(r, 0), lt(input, 0) if isinstance(input, Tensor) else input < 0))
        return where(flip, r - other, r)

    def grad(g: Tensor, o: Tensor) -> tuple[Any, Any]:
        ga = g if _rg(0) else None
        gb = neg(g) * div(input, other, rounding_mode="trunc") if _rg(1) else None
        return ga, gb

    return _with_backward("fmod", (input, other), forward, grad)


def frac(x: Tensor) -> Tensor:
    """The fractional part ``x - trunc(x)`` (the sign of x), for floating tensors."""
    if not x.dtype.is_floating_point:
        raise TypeError(
            f"frac: expected a floating tensor, got {x.dtype} (as in PyTorch, an integer has no fractional "
            "part); use x.float().frac()"
        )
    return x - trunc(x)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """Linear interpolation ``input + weight * (end - input)`` (weight a number or a tensor; all
    broadcast), computed as PyTorch does: from ``end`` backwards when weight >= 0.5, so that
    weight 1 gives ``end`` exactly. Floating tensors of one dtype."""
    for name, v in (("input", input), ("end", end), ("weight", weight)):
        if isinstance(v, Tensor) and v.dtype is not input.dtype:
            raise TypeError(
                f"lerp: expected {name} of dtype {input.dtype} (the input's), got {v.dtype}; convert "
                f"with .to({input.dtype})"
            )
    if not input.dtype.is_floating_point:
        raise TypeError(f"lerp: expected floating tensors, got {input.dtype}; use x.float()")
    if not isinstance(end, Tensor):
        raise TypeError(f"lerp: end must be a tensor, got {type(end).__name__}")
    diff = end - input
    if isinstance(weight, Tensor):
        low = lt(abs(weight), 0.5)
        return where(low, input + weight * diff, end - diff * (1 - weight))
    return input + diff * weight if -0.5 < weight < 0.5 else end - diff * (1 - weight)


def logaddexp(input: Any, other: Any) -> Tensor:
    """log(exp(input) + exp(other)), without overflow."""
    a, b, dt = _float_operands("logaddexp", input, other)

    def forward() -> Tensor:
        m = maximum(a, b)
        soft = m + log1p(exp(neg(abs(a - b))))
        return where(eq(a, b), a + _LN2, soft)  # equal infinities: a - b would be NaN

    def grad(g: Tensor, o: Tensor) -> tuple[Any, Any]:
        return (g * exp(a - o) if _rg(0) else None), (g * exp(b - o) if _rg(1) else None)

    return _with_backward("logaddexp", (input, other), forward, grad, dt)


def logit(x: Tensor, eps: float | None = None) -> Tensor:
    """log(x / (1 - x)); with ``eps``, x is first clamped to [eps, 1 - eps] (its gradient is then 0
    outside that range, as in PyTorch)."""
    if not x.dtype.is_floating_point:
        x = x.to(_dt.get_default_dtype())
    if eps is not None:
        x = clamp(x, eps, 1 - eps)
    return log(x / (1 - x))


def xlogy(input: Any, other: Any) -> Tensor:
    """``input * log(other)``, 0 where input is 0 (unless other is NaN), as in PyTorch."""
    a, b, dt = _float_operands("xlogy", input, other)

    def forward() -> Tensor:
        return where(isnan(b), math.nan, where(eq(a, 0), 0.0, a * log(b)))

    def grad(g: Tensor, o: Tensor) -> tuple[Any, Any]:
        ga = gb = None
        if _rg(0):
            ga = g * where(isnan(b), math.nan, where(eq(a, 0), 0.0, log(b)))
        if _rg(1):
            gb = g * a / b
        return ga, gb

    return _with_backward("xlogy", (input, other), forward, grad, dt)


_ERFC_P = (
    2.46196981473530512524e-10,
    5.64189564831068821977e-1,
    7.46321056442269912687e0,
    4.86371970985681366614e1,
    1.96520832956077098242e2,
    5.26445194995477358631e2,
    9.34528527171957607540e2,
    1.02755188689515710272e3,
    5.57535335369399327526e2,
)
_ERFC_Q = (
    1.0,
    1.32281951154744992508e1,
    8.67072140885989742329e1,
    3.54937778887819891062e2,
    9.75708501743205489753e2,
    1.82390916687909736289e3,
    2.24633760818710981792e3,
    1.65666309194161350182e3,
    5.57535340817727675546e2,
)
_ERFC_R = (
    5.64189583547755073984e-1,
    1.27536670759978104416e0,
    5.01905042251180477414e0,
    6.16021097993053585195e0,
    7.40974269950448939160e0,
    2.97886665372100240670e0,
)
_ERFC_S = (
    1.0,
    2.26052863220117276590e0,
    9.39603524938001434673e0,
    1.20489539808096656605e1,
    1.70814450747565897222e1,
    9.60896809063285878198e0,
    3.36907645100081516050e0,
)


def erfc(x: Tensor) -> Tensor:
    """The complementary error function 1 - erf(x), accurate where it is tiny (large x)."""

    def composite(x: Tensor) -> Tensor:
        a = minimum(abs(x), 30.0)  # erfc(30) underflows: the polynomials need not reach further
        near = lt(a, 8.0)
        tail = where(near, _poly(a, _ERFC_P) / _poly(a, _ERFC_Q), _poly(a, _ERFC_R) / _poly(a, _ERFC_S))
        y = exp(neg(x * x)) * tail
        y = where(lt(x, 0), 2 - y, y)
        return where(lt(abs(x), 1.0), 1 - erf(x), y)

    return _unary(
        "erfc",
        x,
        lambda g, x, o: g * (exp(neg(x * x)) * -_TWO_OVER_SQRT_PI),
        composite=_half_in_float32(composite),
    )


def erfinv(x: Tensor) -> Tensor:
    """The inverse error function on [-1, 1] (+-inf at +-1, NaN outside): Giles' approximation,
    polished by two Newton steps on erf, so it is as accurate as the device's erf."""

    def composite(y: Tensor) -> Tensor:
        ay = abs(y)
        inside = lt(ay, 1.0)
        ys = where(inside, y, 0.0)
        w = neg(log((1 - ys) * (1 + ys)))
        central = lt(w, 5.0)
        wc = where(central, w, 5.0) - 2.5
        p1 = _poly(
            wc,
            (
                2.81022636e-08,
                3.43273939e-07,
                -3.5233877e-06,
                -4.39150654e-06,
                2.1858087e-04,
                -1.25372503e-03,
                -4.17768164e-03,
                2.46640727e-01,
                1.50140941e00,
            ),
        )
        wt = sqrt(where(central, 5.0, w)) - 3.0
        p2 = _poly(
            wt,
            (
                -2.00214257e-04,
                1.00950558e-04,
                1.34934322e-03,
                -3.67342844e-03,
                5.73950773e-03,
                -7.6224613e-03,
                9.43887047e-03,
                1.00167406e00,
                2.83297682e00,
            ),
        )
        r = where(central, p1, p2) * ys
        for _ in range(2):  # Newton on erf(r) = y: the error squares at each step
            r = r - (erf(r) - ys) / (exp(neg(r * r)) * _TWO_OVER_SQRT_PI)
        edge = where(eq(ay, 1.0), y * math.inf, math.nan)  # +-inf at +-1, NaN beyond (and for NaN)
        return where(inside, r, edge)

    return _unary(
        "erfinv",
        x,
        lambda g, x, o: g * exp(o * o) * (math.sqrt(math.pi) / 2),
        "out",
        composite=_half_in_float32(composite),
    )


_LANCZOS_G = 7.0
_LANCZOS = (
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _sinpi_abs(x: Tensor) -> Tensor:
    """|sin(pi x)|, exact in the reduction (x minus its nearest integer is exact)."""
    return abs(sin((x - round(x)) * math.pi))


def _lgamma_composite(x: Tensor) -> Tensor:
    reflect = lt(x, 0.5)
    xx = where(reflect, 1 - x, x)  # >= 0.5: Lanczos' series holds there
    z = xx - 1
    s = _LANCZOS[0] + _LANCZOS[1] / (z + 1)
    for i, c in enumerate(_LANCZOS[2:], start=2):
        s = s + c / (z + i)
    t = z + (_LANCZOS_G + 0.5)
    lg = (z + 0.5) * log(t) - t + log(s) + _HALF_LOG_2PI
    lg = where(eq(xx, math.inf), math.inf, lg)  # lgamma(+-inf) = +inf
    # lgamma(x) = log(pi / |sin(pi x)|) - lgamma(1 - x): +inf at 0 and the negative integers
    out = where(reflect, (math.log(math.pi) - log(_sinpi_abs(x))) - lg, lg)
    return where(eq(x, -math.inf), math.inf, out)


def lgamma(x: Tensor) -> Tensor:
    """log |Gamma(x)| (+inf at 0 and the negative integers)."""
    return _unary("lgamma", x, lambda g, x, o: g * digamma(x), composite=_half_in_float32(_lgamma_composite))


#: the recurrence moves arguments past this before the asymptotic series (error below 1e-17 there)
_PSI_SHIFT = 10


def _digamma_composite(x: Tensor) -> Tensor:
    reflect = lt(x, 0.5)
    xx = where(reflect, 1 - x, x)
    # psi(x) = psi(x + n) - sum 1/(x + k): the asymptotic series is exact to rounding at x + n >= 10
    y = xx + _PSI_SHIFT
    acc = reciprocal(xx)
    for k in range(1, _PSI_SHIFT):
        acc = acc + reciprocal(xx + k)
    z = reciprocal(y * y)
    tail = z * _poly(z, (-1 / 12, 691 / 32760, -1 / 132, 1 / 240, -1 / 252, 1 / 120, -1 / 12))
    psi = log(y) - 0.5 / y + tail - acc
    # psi(x) = psi(1 - x) - pi / tan(pi x); NaN at the negative integers, -inf at 0 (PyTorch's)
    r = (x - round(x)) * math.pi
    reflected = psi - math.pi * cos(r) / sin(r)
    out = where(reflect, reflected, psi)
    out = where(eq(x, 0), neg(div(1.0, x)), out)  # -inf at +0, +inf at -0
    out = where(logical_and(lt(x, 0), eq(x, floor(x))), math.nan, out)
    return where(eq(x, math.inf), math.inf, out)


def _trigamma(x: Tensor) -> Tensor:
    """psi'(x), the gradient of digamma (written with differentiable ops: higher derivatives work)."""
    reflect = lt(x, 0.5)
    xx = where(reflect, 1 - x, x)
    y = xx + _PSI_SHIFT
    acc = reciprocal(xx * xx)
    for k in range(1, _PSI_SHIFT):
        acc = acc + reciprocal((xx + k) * (xx + k))
    iy = reciprocal(y)
    z = iy * iy
    series = iy + 0.5 * z + iy * z * _poly(z, (7 / 6, -691 / 2730, 5 / 66, -1 / 30, 1 / 42, -1 / 30, 1 / 6))
    psi1 = series + acc
    s = sin((x - round(x)) * math.pi)
    return where(reflect, (math.pi * math.pi) / (s * s) - psi1, psi1)


def digamma(x: Tensor) -> Tensor:
    """The logarithmic derivative of Gamma, psi(x) (-inf at 0, NaN at the negative integers)."""
    return _unary(
        "digamma", x, lambda g, x, o: g * _trigamma(x), composite=_half_in_float32(_digamma_composite)
    )


def sgn(x: Tensor) -> Tensor:
    """The sign of each element: :func:`sign` for real tensors, ``x / |x|`` (0 at 0) for complex
    ones, as in PyTorch."""
    if isinstance(x, Tensor) and x.dtype._kind == 3:
        from .complex import complex_sgn

        return complex_sgn(x)
    return sign(x)


def signbit(x: Tensor) -> Tensor:
    """True where the sign bit is set: negative values, -0.0 and a NaN with its sign bit set (read
    by the device's optional ``signbit`` kernel; without one, a NaN counts as clear)."""
    if x.dtype.is_floating_point:
        k = x.device.kernels.get("signbit")
        if k is None:
            return _signbit_float(x)
        return _make(k(x._data), x.shape, _dt.bool_, x.device)
    if x.dtype.is_bool or not x.dtype.is_signed:
        return zeros_like_(x, _dt.bool_)
    return lt(x, 0)


def nan_to_num(
    x: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Tensor:
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default 0, the dtype's
    largest and its lowest finite value); integer and bool tensors are returned as a copy."""
    if not x.dtype.is_floating_point:
        return x.clone()
    info = _dt.finfo(x.dtype)
    hi = float(info.max) if posinf is None else posinf
    lo = float(info.min) if neginf is None else neginf
    return where(isnan(x), nan, where(eq(x, math.inf), hi, where(eq(x, -math.inf), lo, x)))


def clamp_min(x: Tensor, min: Any) -> Tensor:
    """max(x, min): :func:`clamp` with a lower bound only."""
    return clamp(x, min=min)


def clamp_max(x: Tensor, max: Any) -> Tensor:
    """min(x, max): :func:`clamp` with an upper bound only."""
    return clamp(x, max=max)


def isclose(
    input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (or equal, infinities included;
    NaNs equal each other only with ``equal_nan``), as a bool tensor. Both tensors of one dtype."""
    for name, v in (("input", input), ("other", other)):
        if not isinstance(v, Tensor):
            raise TypeError(f"isclose: {name} must be a tensor, got {type(v).__name__}")
    if input.dtype is not other.dtype:
        raise TypeError(
            f"isclose: input and other must have one dtype, got {input.dtype} and {other.dtype}; "
            f"convert one with .to({input.dtype})"
        )
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: rtol and atol must be >= 0, got rtol={rtol}, atol={atol}")
    close = eq(input, other)
    if equal_nan and input.dtype._kind >= 2:
        close = logical_or(close, logical_and(isnan(input), isnan(other)))
    if rtol == 0 and atol == 0:
        return close
    a, b = (
        (input, other)
        if input.dtype._kind >= 2
        else (v.to(_dt.get_default_dtype()) for v in (input, other))
    )
    diff = abs(a - b)
    within = logical_and(isfinite(diff), le(diff, abs(b) * rtol + atol))
    return logical_or(close, within)


def allclose(
    input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """Whether :func:`isclose` holds for every element (a Python bool; reads the values)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all().item())


def equal(input: Tensor, other: Tensor) -> bool:
    """Whether both tensors have the same shape and the same values (a Python bool; NaN is unequal
    to itself; dtypes may differ, as in PyTorch)."""
    for name, v in (("input", input), ("other", other)):
        if not isinstance(v, Tensor):
            raise TypeError(f"equal: {name} must be a tensor, got {type(v).__name__}")
    same_device("equal", input, other)
    if input.shape != other.shape:
        return False
    return bool(eq(input, other).all().item())


def isposinf(x: Tensor) -> Tensor:
    """True where x is +inf."""
    if not x.dtype.is_floating_point:
        return zeros_like_(x, _dt.bool_)
    return eq(x, math.inf)


def isneginf(x: Tensor) -> Tensor:
    """True where x is -inf."""
    if not x.dtype.is_floating_point:
        return zeros_like_(x, _dt.bool_)
    return eq(x, -math.inf)


def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """The step function: 0 where input < 0, ``values`` where input == 0, 1 where input > 0 (NaN
    gives 0, as in PyTorch). Both tensors of one dtype; not differentiable."""
    if not isinstance(values, Tensor):
        raise TypeError(
            f"heaviside: values must be a tensor, got {type(values).__name__} (as in PyTorch); use "
            "ember.tensor(v, dtype=input.dtype)"
        )
    if input.dtype is not values.dtype:
        raise TypeError(
            f"heaviside: input and values must have one dtype, got {input.dtype} and {values.dtype}; "
            f"convert values with .to({input.dtype})"
        )
    from ..autograd.grad_mode import no_grad

    with no_grad():
        return where(eq(input, 0), values, gt(input, 0).to(input.dtype))


def addcmul(input: Tensor, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
    """``input + value * tensor1 * tensor2`` (all broadcast)."""
    prod = mul(tensor1, tensor2)
    _integer_value_only("addcmul", input, prod, value)
    return add(input, prod, alpha=value) if value != 1 else add(input, prod)


def addcdiv(input: Tensor, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
    """``input + value * tensor1 / tensor2`` (true division; all broadcast)."""
    if all(isinstance(t, Tensor) and not t.dtype.is_floating_point for t in (tensor1, tensor2)):
        raise TypeError(
            f"addcdiv: integer division of tensor1 and tensor2 ({tensor1.dtype}, {tensor2.dtype}) is not "
            "supported, as in PyTorch; convert them with .float() for a true division, or use "
            "addcmul with floor_divide(tensor1, tensor2) for an integer one"
        )
    quot = div(tensor1, tensor2)
    _integer_value_only("addcdiv", input, quot, value)
    return add(input, quot, alpha=value) if value != 1 else add(input, quot)


def _integer_value_only(op: str, a: Any, b: Any, value: Any) -> None:
    dt = _operands_dtype(a, b)
    if isinstance(value, float) and not dt.is_floating_point:
        raise TypeError(
            f"{op}: for integer inputs ({dt}) value must be an integer, got {value!r}; convert the "
            "inputs with .float() for a fractional value"
        )


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records): one per op, read by Tensor's methods, the kit and the docs
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    import dataclasses

    import numpy as np

    from .elementwise import _binary_record, _special_values, _unary_record
    from .records import OpRecord, register
    from .samples import (
        COMPLEX,
        FLOATS,
        NUMERIC,
        ErrorSample,
        Sample,
        SampleFn,
        binary_samples,
        complex_specials,
        rand_array,
        unary_samples,
    )

    u, b, special_values = _unary_record, _binary_record, _special_values

    def also(rec: OpRecord, *aliases: str, inplace: bool = True) -> OpRecord:
        """``rec`` with numpy-style aliases (``arcsin`` for ``asin``) as methods and public names."""
        methods = tuple(rec.methods) + aliases
        inpl = tuple(rec.inplace) + (tuple(a + "_" for a in aliases) if inplace else ())
        return dataclasses.replace(rec, methods=methods, inplace=inpl, covers=tuple(rec.covers) + aliases)

    def atan2_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        """binary_samples, and every pair of special values (NaN, infinities, signed zeros, both
        signs of finite values): 98 contiguous elements (long enough for a device's vectorised
        contiguous path as well as its tail) and a broadcast grid."""
        vals = np.array([math.nan, -math.inf, -1.5, -0.0, 0.0, 0.5, math.inf], dtype=dtype)
        y, x = np.tile(np.repeat(vals, 7), 2), np.tile(vals, 14)
        special = [Sample((y, x), grad=False), Sample((vals.reshape(7, 1), vals.reshape(1, 7)), grad=False)]
        return binary_samples()(dtype, rng) + special

    def ufunc(f: Callable[[float], float]) -> Callable[[np.ndarray], np.ndarray]:
        """An elementwise reference from a scalar function of the math module (exact to rounding)."""

        def ref(x: np.ndarray) -> np.ndarray:
            x64 = np.asarray(x, dtype=np.float64)

            def one(v: float) -> float:
                try:
                    return f(v)
                except (ValueError, OverflowError):
                    return math.nan

            out = np.frompyfunc(one, 1, 1)(x64) if x64.ndim else np.asarray(one(float(x64)))
            return np.asarray(out, dtype=np.float64)

        return ref

    def digamma_ref(v: float) -> float:
        # psi by the recurrence and the asymptotic series in Python floats (reference only)
        if v == 0:  # the pole at zero: -inf from the right, as torch.digamma (inf for -0.0)
            return -math.copysign(math.inf, v)
        if v < 0 and v == math.floor(v):
            return math.nan
        if v < 0.5:
            return digamma_ref(1 - v) - math.pi / math.tan(math.pi * v)
        acc = 0.0
        while v < 20:
            acc -= 1 / v
            v += 1
        z = 1 / (v * v)
        tail = z * (1 / 12 - z * (1 / 120 - z * (1 / 252 - z * (1 / 240 - z / 132))))
        return acc + math.log(v) - 0.5 / v - tail

    def erfinv_ref(y: float) -> float:
        # bisection on math.erf to the last bit (reference only)
        if y <= -1 or y >= 1:
            return math.copysign(math.inf, y) if math.fabs(y) == 1 else math.nan
        lo, hi = -6.0, 6.0
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if math.erf(mid) < y else (lo, mid)
        return 0.5 * (lo + hi)

    def with_poles(low: float, high: float) -> SampleFn:
        """Unary samples in [low, high) plus negative non-integers (the reflection formula)."""
        base = unary_samples(low, high)

        def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
            out = base(dtype, rng)
            if dtype.startswith("float"):
                out.append(Sample((np.array([-2.5, -1.3, -0.7, 0.3, 7.5, 25.0], dtype=dtype),)))
            return out

        return make

    def specials(dtype: str, rng: np.random.Generator) -> list[Sample]:
        out = unary_samples()(dtype, rng)
        if dtype.startswith("float"):
            out += [Sample(s.args, grad=False) for s in special_values(dtype, rng)]
        return out

    def close_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        a = rand_array(rng, (3, 4), dtype)
        far = rand_array(rng, (3, 4), dtype)
        out = [
            Sample((a, far)),
            Sample((a, a.copy())),
            Sample((a, rand_array(rng, (4,), dtype)), {"rtol": 0.5, "atol": 0.5}),
            Sample((a[:2].T.copy(), a[:2].T.copy()), noncontig=True),
        ]
        if dtype.startswith("float"):
            near = (a * (1 + 1e-6)).astype(dtype)
            nans = np.array([math.nan, math.inf, -math.inf, 1.0, 0.0], dtype=dtype)
            other = np.array([math.nan, math.inf, math.inf, 1.0 + 1e-9, 1e-9], dtype=dtype)
            out += [
                Sample((a, near)),
                Sample((a, near), {"rtol": 0.0, "atol": 0.0}),
                Sample((nans, other)),
                Sample((nans, other), {"equal_nan": True}),
            ]
        if dtype.startswith("complex"):
            sp = complex_specials(dtype)
            swapped = np.ascontiguousarray(sp[:, ::-1])
            out += [Sample((sp, sp.copy())), Sample((sp, swapped), {"equal_nan": True})]
        return out

    def lerp_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(3, 4), a(3, 4), 0.3)),
            Sample((a(3, 4), a(4), 0.8)),
            Sample((a(3, 4), a(3, 4), rand_array(rng, (3, 4), dtype, -0.5, 1.5))),
            Sample((a(2, 1, 4), a(3, 1), rand_array(rng, (4,), dtype, 0, 1))),
            Sample((a(), a(), 1.0)),
            Sample((a(0, 3), a(3), 0.5), grad=False),
            Sample((a(4, 3), a(4, 3), a(4, 3)), noncontig=True),
            Sample((a(3, 4), a(3, 4), a(3, 4)), noncontig="flip", grad=False),
        ]

    def lerp_ref(x: np.ndarray, e: Any, w: Any) -> np.ndarray:
        return np.where(np.abs(w) < 0.5, x + w * (e - x), e - (e - x) * (1 - w))

    def addc_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int, low: float = -2.0) -> np.ndarray:
            return rand_array(rng, s, dtype, low, 2.0)

        value = 0.5 if dtype.startswith("float") else 3
        return [
            Sample((a(3, 4), a(3, 4), a(3, 4, low=0.5))),
            Sample((a(3, 4), a(4), a(3, 1, low=0.5)), {"value": value}),
            Sample((a(), a(2, 3), a(2, 3, low=0.5)), {"value": value}),
            Sample((a(0, 3), a(3), a(3, low=0.5)), grad=False),
            Sample((a(4, 3), a(4, 3), a(4, 3, low=0.5)), noncontig=True),
            Sample((a(3, 4), a(3, 4), a(3, 4, low=0.5)), noncontig="flip", grad=False),
        ]

    def heaviside_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        x = rand_array(rng, (3, 4), dtype)
        x[0, :2] = 0
        return [
            Sample((x, rand_array(rng, (3, 4), dtype))),
            Sample((x, rand_array(rng, (), dtype))),
            Sample((x.T.copy(), rand_array(rng, (3,), dtype)), noncontig=True),
            Sample((rand_array(rng, (0,), dtype), rand_array(rng, (), dtype))),
        ]

    def on_device_of(f: Callable[..., Any]) -> Callable[..., Any]:
        """``f`` (which returns a Python bool) as a 0-d bool tensor on the inputs' device."""

        def call(a: Any, b_: Any, **kw: Any) -> Any:
            from .creation import full

            return full((), f(a, b_, **kw), dtype=_dt.bool_, device=a.device)

        return call

    def equal_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        a = rand_array(rng, (3, 4), dtype)
        b_ = a.copy()
        b_[1, 2] = b_[1, 2] + 1 if dtype != "bool" else not b_[1, 2]
        return [
            Sample((a, a.copy())),
            Sample((a, b_)),
            Sample((a, a[:2].copy())),
            Sample((a, a.T.copy()), noncontig=True),
            Sample((a[:0], a[:0].copy())),
        ]

    def nan_to_num_ref(x: np.ndarray, **kw: Any) -> np.ndarray:
        return np.nan_to_num(x, **kw) if x.dtype.kind == "f" else x.copy()

    def fmod_errors() -> tuple[ErrorSample, ...]:
        return (
            ErrorSample(
                (np.array([1, 2]), np.array([1, 0])), {}, ZeroDivisionError, "fmod: integer division by zero"
            ),
        )

    def shape_error(op: str) -> tuple[ErrorSample, ...]:
        return (
            ErrorSample(
                (np.ones((3, 4)), np.ones(5)),
                {},
                ValueError,
                f"{op}: shapes \\(3, 4\\) and \\(5,\\) cannot be broadcast together",
            ),
        )

    def no_inplace(rec: OpRecord) -> OpRecord:
        return dataclasses.replace(rec, inplace=())

    def gammaln_ref(x: np.ndarray) -> np.ndarray:
        def one(v: float) -> float:
            if v <= 0 and v == math.floor(v):
                return math.inf
            return math.lgamma(v)

        return ufunc(one)(x)

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
        also(u("erfc", erfc, ufunc(math.erfc), MATH_FLOATS, low=-3.0, high=5.0), inplace=False),
        u("erfinv", erfinv, ufunc(erfinv_ref), FLOATS, low=-0.95, high=0.95),
        OpRecord(
            "lgamma",
            lgamma,
            with_poles(0.2, 4.0),
            gammaln_ref,
            methods=("lgamma",),
            inplace=("lgamma_",),
            dtypes=FLOATS,
        ),
        OpRecord(
            "digamma",
            digamma,
            with_poles(0.2, 4.0),
            ufunc(digamma_ref),
            methods=("digamma",),
            inplace=("digamma_",),
            dtypes=FLOATS,
        ),
        u(
            "frac",
            frac,
            lambda x: x - np.trunc(x),
            FLOATS,
            low=-3.0,
            high=3.0,
            errors=(
                ErrorSample(
                    (np.array([1, 2]),), {}, TypeError, "frac: expected a floating tensor, got ember.int64"
                ),
            ),
        ),
        u("logit", logit, lambda x: np.log(x / (1 - x)), FLOATS, low=0.05, high=0.95),
        OpRecord(
            "logit_eps",
            logit,
            unary_samples(-0.2, 1.2, eps=0.1),
            lambda x, eps: (lambda c: np.log(c / (1 - c)))(np.clip(x, eps, 1 - eps)),
            dtypes=FLOATS,
            covers=("logit",),
            public=False,
        ),
        u("sgn", sgn, np.sign, NUMERIC + COMPLEX, grad=False),
        u(
            "signbit",
            signbit,
            np.signbit,
            ("float32", "float64", "int32", "uint8"),
            inplace=False,
            grad=False,
            kernel="signbit",
        ),
        OpRecord(
            "signbit_special",
            signbit,
            special_values,
            np.signbit,
            grad=False,
            kernel="signbit",
            covers=("signbit",),
            public=False,
        ),
        OpRecord(
            "nan_to_num",
            nan_to_num,
            specials,
            nan_to_num_ref,
            methods=("nan_to_num",),
            inplace=("nan_to_num_",),
            dtypes=FLOATS + ("int32",),
        ),
        OpRecord(
            "nan_to_num_values",
            nan_to_num,
            lambda dtype, rng: [
                Sample(s.args, {"nan": 1.5, "posinf": 9.0, "neginf": -7.0}, grad=False)
                for s in special_values(dtype, rng)
            ],
            nan_to_num_ref,
            grad=False,
            covers=("nan_to_num",),
            public=False,
        ),
        OpRecord(
            "clamp_min",
            clamp_min,
            unary_samples(min=-0.5),
            lambda x, min: np.maximum(x, min),
            methods=("clamp_min",),
            inplace=("clamp_min_",),
            dtypes=NUMERIC,
        ),
        OpRecord(
            "clamp_max",
            clamp_max,
            unary_samples(max=0.7),
            lambda x, max: np.minimum(x, max),
            methods=("clamp_max",),
            inplace=("clamp_max_",),
            dtypes=NUMERIC,
        ),
        u("isposinf", isposinf, np.isposinf, FLOATS + ("int64",), inplace=False, grad=False),
        OpRecord(
            "isposinf_special",
            isposinf,
            special_values,
            np.isposinf,
            grad=False,
            covers=("isposinf",),
            public=False,
        ),
        u("isneginf", isneginf, np.isneginf, FLOATS + ("int64",), inplace=False, grad=False),
        OpRecord(
            "isneginf_special",
            isneginf,
            special_values,
            np.isneginf,
            grad=False,
            covers=("isneginf",),
            public=False,
        ),
        OpRecord(
            "isclose",
            isclose,
            close_samples,
            lambda a, b_, **kw: np.isclose(a, b_, **kw),
            methods=("isclose",),
            dtypes=("float32", "float64", "int64", "bool") + COMPLEX,
            grad=False,
            errors=(
                ErrorSample(
                    (np.ones(3), np.ones(3, dtype=np.float32)),
                    {},
                    TypeError,
                    "isclose: input and other must have one dtype, got ember.float64 and ember.float32",
                ),
                ErrorSample(
                    (np.ones(3), np.ones(3)),
                    {"rtol": -1.0},
                    ValueError,
                    "isclose: rtol and atol must be >= 0",
                ),
            ),
        ),
        OpRecord(
            "allclose",
            allclose,
            close_samples,
            lambda a, b_, **kw: np.asarray(np.allclose(a, b_, **kw)),
            call=on_device_of(allclose),
            methods=("allclose",),
            dtypes=("float32", "float64", "int64"),
            grad=False,
            reads_values=True,
        ),
        OpRecord(
            "equal",
            equal,
            equal_samples,
            lambda a, b_: np.asarray(a.shape == b_.shape and bool(np.all(a == b_))),
            call=on_device_of(equal),
            methods=("equal",),
            dtypes=("float32", "int64", "bool"),
            grad=False,
            reads_values=True,
        ),
        OpRecord(
            "heaviside",
            heaviside,
            heaviside_samples,
            lambda x, v: np.heaviside(x, v).astype(x.dtype),
            methods=("heaviside",),
            inplace=("heaviside_",),
            dtypes=("float32", "float64", "int64"),
            grad=False,
            errors=(
                ErrorSample(
                    (np.ones(3), np.ones(3, dtype=np.float32)),
                    {},
                    TypeError,
                    "heaviside: input and values must have one dtype, got ember.float64 and ember.float32",
                ),
                ErrorSample(
                    (np.ones(3), 0.5), {}, TypeError, "heaviside: values must be a tensor, got float"
                ),
            ),
        ),
        OpRecord(
            "lerp",
            lerp,
            lerp_samples,
            lerp_ref,
            methods=("lerp",),
            inplace=("lerp_",),
            dtypes=FLOATS,
            errors=(
                ErrorSample(
                    (np.ones(3), np.ones(3, dtype=np.float32), 0.5),
                    {},
                    TypeError,
                    "lerp: expected end of dtype ember.float64 \\(the input's\\), got ember.float32",
                ),
                ErrorSample(
                    (np.array([1, 2]), np.array([3, 4]), 0.5),
                    {},
                    TypeError,
                    "lerp: expected floating tensors",
                ),
            ),
        ),
        OpRecord(
            "addcmul",
            addcmul,
            addc_samples,
            lambda x, a, b_, value=1: x + value * a * b_,
            methods=("addcmul",),
            inplace=("addcmul_",),
            dtypes=NUMERIC,
            errors=(
                ErrorSample(
                    (np.array([1, 2]), np.array([1, 2]), np.array([1, 2])),
                    {"value": 0.5},
                    TypeError,
                    "addcmul: for integer inputs \\(ember.int64\\) value must be an integer, got 0.5",
                ),
            ),
        ),
        OpRecord(
            "addcdiv",
            addcdiv,
            addc_samples,
            lambda x, a, b_, value=1: x + value * (a / b_),
            methods=("addcdiv",),
            inplace=("addcdiv_",),
            dtypes=FLOATS,
            errors=(
                ErrorSample(
                    (np.ones(2), np.array([1, 2]), np.array([1, 2])),
                    {},
                    TypeError,
                    "addcdiv: integer division of tensor1 and tensor2 \\(ember.int64, ember.int64\\)",
                ),
            ),
        ),
        also(
            dataclasses.replace(
                b("atan2", atan2, np.arctan2, MATH_FLOATS, kernel="atan2", errors=shape_error("atan2")),
                samples=atan2_samples,
            ),
            "arctan2",
        ),
        b("hypot", hypot, np.hypot, FLOATS, errors=shape_error("hypot")),
        b("copysign", copysign, np.copysign, MATH_FLOATS, low=-2.0, high=2.0),
        b("fmod", fmod, np.fmod, NUMERIC, rhs_low=0.5, rhs_high=3.0, errors=fmod_errors()),
        no_inplace(b("logaddexp", logaddexp, np.logaddexp, FLOATS, errors=shape_error("logaddexp"))),
        b(
            "xlogy",
            xlogy,
            lambda a, b_: np.where(
                np.asarray(a) == 0, 0.0, np.asarray(a) * np.log(np.asarray(b_, dtype=np.float64))
            ),
            MATH_FLOATS,
            rhs_low=0.1,
            rhs_high=3.0,
        ),
    )


_records()
