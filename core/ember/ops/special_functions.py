"""Special functions composed from the elementwise primitives: the error function family
(``erfc``, ``erfinv``) and the gamma family (``lgamma``, ``digamma``, and ``_trigamma``, digamma's
gradient), with their op records. Each is a composite accurate to the dtype's rounding on every
backend: erfc by Cephes' rational approximations, erfinv from Giles' approximation polished with
Newton steps on erf, lgamma by Lanczos' series (g = 7, n = 9) and digamma by the recurrence and its
asymptotic series, both reflected below 1/2. The shared helper ``_poly`` and the record builder
``_also`` are in :mod:`ember.ops.math_functions`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ._core import Tensor
from .elementwise import (
    abs,
    cos,
    div,
    eq,
    erf,
    exp,
    floor,
    log,
    logical_and,
    lt,
    minimum,
    neg,
    reciprocal,
    round,
    sin,
    sqrt,
    where,
)
from .math_functions import _also, _poly
from .unary import (
    _TWO_OVER_SQRT_PI,
    _half_in_float32,
    _unary,
)

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


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records): one per op, read by Tensor's methods, the kit and the docs
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from .elementwise import _unary_record
    from .records import OpRecord, register
    from .samples import FLOATS, Sample, SampleFn, unary_samples

    u = _unary_record
    also = _also

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

    def gammaln_ref(x: np.ndarray) -> np.ndarray:
        def one(v: float) -> float:
            if v <= 0 and v == math.floor(v):
                return math.inf
            return math.lgamma(v)

        return ufunc(one)(x)

    MATH_FLOATS = FLOATS  # integer inputs compute in float32: the parity tests compare them with torch
    register(
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
    )


_records()
