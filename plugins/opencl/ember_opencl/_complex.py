"""OpenCL C for complex64 / complex128: values are ``float2`` / ``double2`` (``.x`` the real part,
``.y`` the imaginary part), numpy's layout, so host transfers are plain copies.

:func:`complex_math` gives one dtype's library of inline functions, suffixed ``_f`` (complex64)
or ``_d`` (complex128): multiply and divide, equality, the modulus and the elementwise functions numpy
defines on complex numbers (``exp``, ``log``, ``sqrt``, ``sin``, ``cos``, ``tanh``, ``pow``). The code generators of the kernel families include it in programs over a complex
dtype and name the functions through :func:`fn`.

What the functions follow, so that results equal numpy's (the backend's value reference):

* multiply is the schoolbook form numpy uses; divide is Smith's algorithm, numpy's too (the
  divisor scaled by its larger part, so 1e30 / 1e30 in complex64 is 1, not NaN from an
  overflowing ``|b|^2``); a zero divisor gives numpy's inf / NaN parts;
* exp, log, sqrt, sinh / cosh (sin and cos through them, ``sin z = -i sinh(iz)``,
  ``cos z = cosh(iz)``) and tanh (Kahan's form) follow C99/C11 Annex G for infinite, NaN and
  signed-zero parts, as the C library numpy calls does; exp and cosh/sinh avoid the
  overflow of ``e^x`` where the product with ``cos y`` / ``sin y`` is finite, log rescales
  huge and subnormal moduli and uses ``log1p`` near the unit circle, sqrt scales its operands
  near the overflow threshold;
* pow is numpy's: ``z ** 0 = 1``, ``0 ** w`` is 0 (Re w > 0) or NaN, small integer exponents by
  repeated multiplication, else ``exp(w log z)``.

Floating-point contraction is off inside these functions (``FP_CONTRACT OFF``): a fused
multiply-add would leave a residue in ``a.x * b.y + a.y * b.x`` where numpy's exact
cancellation gives 0 (the imaginary part of ``z * conj(z)``).

Importing this module needs no OpenCL runtime.
"""

from __future__ import annotations

from functools import cache

__all__ = ["COMPLEX", "REAL_OF", "complex_math", "fn", "is_complex_ct"]

COMPLEX = ("complex64", "complex128")
#: dtype of the parts of each complex dtype
REAL_OF = {"complex64": "float32", "complex128": "float64"}
_SUFFIX = {"complex64": "f", "complex128": "d", "float2": "f", "double2": "d"}


def is_complex_ct(ct: str) -> bool:
    """Whether OpenCL type ``ct`` is a complex compute type (``float2`` / ``double2``)."""
    return ct in ("float2", "double2")


def fn(name: str, dt: str) -> str:
    """The C name of library function ``name`` (``cmul``, ``cexp`` ...) for complex dtype ``dt``."""
    return f"{name}_{_SUFFIX[dt]}"


@cache
def complex_math(dt: str) -> str:
    """The OpenCL C library of complex dtype ``dt`` (see the module docstring)."""
    s = _SUFFIX[dt]
    double = dt == "complex128"
    T = "double" if double else "float"
    consts = {
        "T": T,
        "V": f"{T}2",
        "s": s,
        # |x| past which tanh(x) is +-1 in T and cosh/sinh drop their e^-|x| term
        "TANH_BIG": "22.0" if double else "9.0f",
        # e^x overflows past log(MAX); e^(x/2) squared reaches past it
        "EXP_BIG": "709.0" if double else "88.0f",
        "MAX": "DBL_MAX" if double else "FLT_MAX",
        "MIN": "DBL_MIN" if double else "FLT_MIN",
        "MANT": "53" if double else "24",
        "LN2": "0.69314718055994530942" if double else "0.69314718055994530942f",
        "SQRT_THRESH": "(DBL_MAX / 2.41421356237309504880)"
        if double
        else "(FLT_MAX / 2.41421356237309504880f)",
    }
    src = _LIBRARY
    for k, v in consts.items():
        src = src.replace("@" + k + "@", v)
    return src


# the library, with @T@ the part type, @V@ the vector type, @s@ the suffix and the constants above
_LIBRARY = """
inline @V@ cmul_@s@(@V@ a, @V@ b) {
    #pragma OPENCL FP_CONTRACT OFF
    return (@V@)(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}
/* Smith's algorithm, as numpy: scale by the divisor's larger part */
inline @V@ cdiv_@s@(@V@ a, @V@ b) {
    #pragma OPENCL FP_CONTRACT OFF
    @T@ br = fabs(b.x), bi = fabs(b.y);
    if (br >= bi) {
        if (br == 0 && bi == 0) return (@V@)(a.x / br, a.y / br);
        @T@ r = b.y / b.x;
        @T@ d = 1 / (b.x + b.y * r);
        return (@V@)((a.x + a.y * r) * d, (a.y - a.x * r) * d);
    }
    @T@ r = b.x / b.y;
    @T@ d = 1 / (b.y + b.x * r);
    return (@V@)((a.x * r + a.y) * d, (a.y * r - a.x) * d);
}
inline int ceq_@s@(@V@ a, @V@ b) { return a.x == b.x && a.y == b.y; }
inline @T@ cabs_@s@(@V@ z) { return hypot(z.x, z.y); }  /* numpy's: inf when a part is inf */
/* m * (cos y, sin y) with m = e^x, without overflowing e^x where the product is finite */
inline @V@ cexpcis_@s@(@T@ x, @T@ y) {
    #pragma OPENCL FP_CONTRACT OFF
    @T@ c = cos(y), sn = sin(y);
    if (x < @EXP_BIG@) { @T@ m = exp(x); return (@V@)(m * c, m * sn); }
    @T@ h = exp(x * (@T@)0.5);
    return (@V@)((h * c) * h, (h * sn) * h);
}
inline @V@ cexp_@s@(@V@ z) {
    @T@ x = z.x, y = z.y;
    if (isfinite(x)) {
        if (y == 0) return (@V@)(exp(x), y);
        if (!isfinite(y)) return (@V@)(NAN, NAN);
        return cexpcis_@s@(x, y);
    }
    if (isnan(x)) return y == 0 ? z : (@V@)(x, NAN);
    if (x > 0) {  /* +inf */
        if (y == 0) return z;
        if (isfinite(y)) return (@V@)(x * cos(y), x * sin(y));
        return (@V@)(x, NAN);
    }
    if (isfinite(y)) return (@V@)(0 * cos(y), 0 * sin(y));  /* -inf: +0 cis(y) */
    return (@V@)(0, 0);
}
inline @V@ clog_@s@(@V@ z) {
    #pragma OPENCL FP_CONTRACT OFF
    @T@ ax = fabs(z.x), ay = fabs(z.y), re;
    if (isinf(ax) || isinf(ay)) return (@V@)(INFINITY, (isnan(ax) || isnan(ay)) ? NAN : atan2(z.y, z.x));
    if (isnan(ax) || isnan(ay)) return (@V@)(NAN, NAN);
    if (ax > @MAX@ / 4 || ay > @MAX@ / 4) {
        re = log(hypot(ax * (@T@)0.5, ay * (@T@)0.5)) + @LN2@;
    } else if (ax < @MIN@ && ay < @MIN@) {
        if (ax == 0 && ay == 0) re = -INFINITY;
        else re = log(hypot(ldexp(ax, @MANT@), ldexp(ay, @MANT@))) - @MANT@ * @LN2@;
    } else {
        @T@ h = hypot(ax, ay);
        if (h >= (@T@)0.71 && h <= (@T@)1.73) {
            @T@ hi = fmax(ax, ay), lo = fmin(ax, ay);
            re = log1p((hi - 1) * (hi + 1) + lo * lo) * (@T@)0.5;  /* accurate near |z| = 1 */
        } else {
            re = log(h);
        }
    }
    return (@V@)(re, atan2(z.y, z.x));
}
inline @V@ csqrt_@s@(@V@ z) {
    #pragma OPENCL FP_CONTRACT OFF
    @T@ a = z.x, b = z.y;
    if (a == 0 && b == 0) return (@V@)(0, b);
    if (isinf(b)) return (@V@)(INFINITY, b);
    if (isnan(a)) return (@V@)(a, NAN);
    if (isinf(a)) {
        if (a < 0) return (@V@)(fabs(b - b), copysign(a, b));  /* -inf: 0 (NaN) +- i inf */
        return (@V@)(a, copysign(b - b, b));  /* +inf: inf +- i0 (NaN) */
    }
    int scale = fabs(a) >= @SQRT_THRESH@ || fabs(b) >= @SQRT_THRESH@;
    if (scale) { a *= (@T@)0.25; b *= (@T@)0.25; }
    @V@ r;
    if (a >= 0) {
        @T@ t = sqrt((a + hypot(a, b)) * (@T@)0.5);
        r = (@V@)(t, b / (2 * t));
    } else {
        @T@ t = sqrt((hypot(a, b) - a) * (@T@)0.5);
        r = (@V@)(fabs(b) / (2 * t), copysign(t, b));
    }
    return scale ? r * (@T@)2 : r;
}
/* cosh and sinh of x + iy together: (cosh x cos y, sinh x sin y) or (sinh x cos y, cosh x sin y) */
inline @V@ chyp_@s@(@V@ z, int is_sinh) {
    #pragma OPENCL FP_CONTRACT OFF
    @T@ x = z.x, y = z.y;
    if (isfinite(x) && isfinite(y)) {
        if (y == 0) return is_sinh ? (@V@)(sinh(x), y) : (@V@)(cosh(x), x * y);
        @T@ c = cos(y), sn = sin(y);
        if (fabs(x) < @TANH_BIG@) {
            @T@ ch = cosh(x), sh = sinh(x);
            return is_sinh ? (@V@)(sh * c, ch * sn) : (@V@)(ch * c, sh * sn);
        }
        /* cosh x = sinh |x| = e^|x| / 2 here (to T's precision) */
        @V@ h = cexpcis_@s@(fabs(x) - @LN2@, y);
        @T@ sx = copysign((@T@)1, x);
        return is_sinh ? (@V@)(sx * h.x, h.y) : (@V@)(h.x, sx * h.y);
    }
    if (x == 0) return is_sinh ? (@V@)(x, y - y) : (@V@)(y - y, x * copysign((@T@)0, y));
    if (y == 0) return is_sinh ? (@V@)(x, y) : (@V@)(x * x, copysign((@T@)0, x) * y);
    if (isinf(x)) {
        if (!isfinite(y)) return is_sinh ? (@V@)(x * x, x * (y - y)) : (@V@)(x * x, x * (y - y));
        return is_sinh ? (@V@)(x * cos(y), INFINITY * sin(y)) : (@V@)(INFINITY * cos(y), x * sin(y));
    }
    return (@V@)(NAN, NAN);  /* x NaN and y != 0, or x finite and y inf / NaN */
}
inline @V@ csin_@s@(@V@ z) {  /* -i sinh(iz) */
    if (isinf(z.y) && !isfinite(z.x)) return (@V@)(NAN, INFINITY);  /* the C library's sign */
    @V@ h = chyp_@s@((@V@)(-z.y, z.x), 1);
    return (@V@)(h.y, -h.x);
}
inline @V@ ccos_@s@(@V@ z) { return chyp_@s@((@V@)(-z.y, z.x), 0); }  /* cosh(iz) */
/* Kahan's tanh */
inline @V@ ctanh_@s@(@V@ z) {
    #pragma OPENCL FP_CONTRACT OFF
    @T@ x = z.x, y = z.y;
    if (!isfinite(x)) {
        if (isnan(x)) return (@V@)(x, y == 0 ? y : x * y);
        return (@V@)(copysign((@T@)1, x), copysign((@T@)0, isinf(y) ? y : sin(y) * cos(y)));
    }
    if (!isfinite(y)) return (@V@)(x == 0 ? x : y - y, y - y);
    if (fabs(x) >= @TANH_BIG@) {
        @T@ e = exp(-fabs(x));
        return (@V@)(copysign((@T@)1, x), 4 * sin(y) * cos(y) * e * e);
    }
    @T@ t = tan(y);
    @T@ beta = 1 + t * t;
    @T@ sh = sinh(x);
    @T@ rho = sqrt(1 + sh * sh);
    @T@ den = 1 + beta * sh * sh;
    return (@V@)((beta * rho * sh) / den, t / den);
}
/* numpy's pow: z ** 0 = 1, 0 ** w, small integer exponents by multiplication, else exp(w log z) */
inline @V@ cpow_@s@(@V@ a, @V@ b) {
    #pragma OPENCL FP_CONTRACT OFF
    if (b.x == 0 && b.y == 0) return (@V@)(1, 0);
    if (a.x == 0 && a.y == 0) return b.x > 0 ? (@V@)(0, 0) : (@V@)(NAN, NAN);
    if (b.y == 0 && b.x > -100 && b.x < 100 && b.x == trunc(b.x)) {
        int n = (int)b.x;
        if (n == 1) return a;
        if (n == 2) return cmul_@s@(a, a);
        if (n == 3) return cmul_@s@(a, cmul_@s@(a, a));
        int m = n < 0 ? -n : n;
        @V@ r = (@V@)(1, 0), p = a;
        while (m) { if (m & 1) r = cmul_@s@(r, p); m >>= 1; if (m) p = cmul_@s@(p, p); }
        return n < 0 ? cdiv_@s@((@V@)(1, 0), r) : r;
    }
    return cexp_@s@(cmul_@s@(b, clog_@s@(a)));
}
"""
