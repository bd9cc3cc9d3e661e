"""OpenCL C building blocks shared by the kernel families' code generators.

Each family module (:mod:`~ember_opencl.elementwise`, :mod:`~ember_opencl.reductions`,
:mod:`~ember_opencl.linalg`, :mod:`~ember_opencl.indexing`, :mod:`~ember_opencl.memory`,
:mod:`~ember_opencl.random`) generates the source of its own *programs*, each holding one or
more kernels whose parameters are :class:`~ember_opencl._signature.KernelSignature` objects.
Programs are specialised per (kernel family, dtype(s), rank bucket, index type, operand modes)
and never per shape: shapes, strides and offsets are kernel arguments. Built programs are cached
per device (:meth:`ember_opencl._device._Device.program`).

Conventions of the generated code:

* ``IDX`` is ``int`` or ``long``: the type of element indices, chosen by the launcher from the
  sizes involved (32-bit index arithmetic is much faster on CPU devices).
* Values are loaded into the dtype's *compute type* (``float`` for ``half``, which is a storage
  only type here: loads and stores use ``vload_half``/``vstore_half_rte``, so float16 works on
  devices without ``cl_khr_fp16``).
* ``bfloat16`` is stored as ``ushort`` (the top half of a float32) and computed in ``float``:
  a load shifts the bits up, a store rounds to nearest even (``ember_to_bf16_``), NaN stays NaN.
* ``bool`` is stored as ``uchar`` 0/1 (numpy compatible); converting to bool is ``x != 0``.
* ``complex64`` / ``complex128`` are ``float2`` / ``double2`` (numpy's layout: real part, then
  imaginary part); their arithmetic and functions are :mod:`ember_opencl._complex`'s library.
  Converting a real value to complex sets the imaginary part 0; a complex value to a real dtype
  takes the real part (numpy's ``astype``), to bool tests both parts.
* Rank-``r`` index math: a linear index ``i`` over a shape ``d0..d{r-1}`` is split into
  coordinates ``c0..c{r-1}`` (C order), each operand's element is at
  ``off + sum(c_j * s_j)``. Rank 0 means "every operand is contiguous": element ``off + i``.

Importing this module needs no OpenCL runtime.
"""

from __future__ import annotations

CTYPE = {
    "bool": "uchar",
    "uint8": "uchar",
    "int8": "char",
    "int16": "short",
    "int32": "int",
    "int64": "long",
    "float16": "half",
    "float32": "float",
    "float64": "double",
    "complex64": "float2",
    "complex128": "double2",
    "bfloat16": "ushort",
}
FLOATS = ("float16", "float32", "float64", "bfloat16")
INTS = ("uint8", "int8", "int16", "int32", "int64")


def compute_type(dt: str) -> str:
    """The OpenCL type values of dtype ``dt`` are computed in."""
    return "float" if dt == "float16" or dt == "bfloat16" else CTYPE[dt]


def acc_type(dt: str) -> str:
    """Accumulator type of reductions over dtype ``dt``."""
    if dt in ("complex64", "complex128"):
        return CTYPE[dt]
    if dt in ("float16", "float32", "bfloat16"):
        return "float"
    if dt == "float64":
        return "double"
    return "long"


ACC_DTYPE = {
    "float": "float32",
    "double": "float64",
    "long": "int64",
    "float2": "complex64",
    "double2": "complex128",
}
_VECTOR_PART = {"float2": "float", "double2": "double"}


def load(dt: str, ptr: str, idx: str) -> str:
    """Expression loading element ``idx`` of ``ptr`` as the compute type."""
    if dt == "float16":
        return f"vload_half(0, {ptr} + ({idx}))"
    if dt == "bfloat16":
        return f"as_float((uint){ptr}[{idx}] << 16)"
    return f"{ptr}[{idx}]"


def store(dt: str, ptr: str, idx: str, val: str) -> str:
    """Statement storing compute-type ``val`` into element ``idx`` of ``ptr``."""
    if dt == "float16":
        return f"vstore_half_rte({val}, 0, {ptr} + ({idx}));"
    if dt == "bfloat16":
        return f"{ptr}[{idx}] = ember_to_bf16_({val});"
    return f"{ptr}[{idx}] = {val};"


def convert(expr: str, src_ct: str, dst: str) -> str:
    """Convert an expression of OpenCL type ``src_ct`` to the compute type of dtype ``dst``
    (complex: a real value gets imaginary part 0, a complex one gives a real dtype its real
    part and bool whether either part is nonzero; ``expr`` is evaluated once)."""
    ct = compute_type(dst)
    src_part = _VECTOR_PART.get(src_ct)
    if dst == "bool":
        if src_part is not None:
            return f"(uchar)any(({expr}) != ({src_ct})(0))"
        return f"(uchar)(({expr}) != 0)"
    if ct == src_ct:
        return f"({expr})"
    part = _VECTOR_PART.get(ct)
    if part is not None:
        if src_part is not None:
            return f"convert_{ct}({expr})"
        return f"(({ct})(({part})({expr}), 0))"
    if src_part is not None:
        return f"({ct})(({expr}).x)"
    return f"({ct})({expr})"


def header(*dtypes: str) -> str:
    """Program preamble (fp64 pragma when needed, the inline math macros, unaligned vector
    types, helpers)."""
    lines = []
    double = "float64" in dtypes or "double" in dtypes or "complex128" in dtypes
    if double:
        lines.append("#pragma OPENCL EXTENSION cl_khr_fp64 : enable")
    lines.append(_INLINE_MATH)
    if "float32" in dtypes:
        lines.append(_vector_sqrt("float", 8, "vsqrt_"))
    if double:
        lines.append(_vector_sqrt("double", 4, "vsqrtd_"))
    for dt, w in VEC_WIDTH.items():
        ct = CTYPE[dt]
        if dt in dtypes:
            lines.append(f"typedef {ct}{w} {ct}{w}u __attribute__((aligned({ITEMSIZE[dt]})));")
    if "float32" in dtypes or "float16" in dtypes or "bfloat16" in dtypes:
        lines.append(_VEXP)
    if "bfloat16" in dtypes:
        lines.append(_TO_BF16)
    return "\n".join(lines) + "\n"


# Exact math as instructions: PoCL's distribution builds (the wheel's) call the OpenCL builtins
# fabs, floor, ceil, trunc, rint, sqrt and isnan out of line, a call per element that also stops
# the loop from vectorising (an eager sqrt, abs or maximum of 1M float32 took 1.5 ms against 0.2
# ms for a multiply). clang's own builtins compile to instructions, for scalars and vectors
# alike; they are exact (correctly rounded sqrt), so results do not change. A compiler without
# them, or a program that defines EMBER_STANDARD_MATH (the tests do, to check that branch), gets
# the standard builtins. Generated code writes ember_<op>_(x), and NaN tests as x != x.
_INLINE_MATH = """
#ifndef __has_builtin
#define __has_builtin(x) 0
#endif
#if !defined(EMBER_STANDARD_MATH) && __has_builtin(__builtin_elementwise_abs) && __has_builtin(__builtin_elementwise_roundeven)
#define ember_fabs_(x) __builtin_elementwise_abs(x)
#define ember_floor_(x) __builtin_elementwise_floor(x)
#define ember_ceil_(x) __builtin_elementwise_ceil(x)
#define ember_trunc_(x) __builtin_elementwise_trunc(x)
#define ember_rint_(x) __builtin_elementwise_roundeven(x)
#else
#define ember_fabs_(x) fabs(x)
#define ember_floor_(x) floor(x)
#define ember_ceil_(x) ceil(x)
#define ember_trunc_(x) trunc(x)
#define ember_rint_(x) rint(x)
#endif
#if !defined(EMBER_STANDARD_MATH) && __has_builtin(__builtin_sqrtf) && __has_builtin(__builtin_sqrt)
#define ember_sqrtf_(x) __builtin_sqrtf(x)
#define ember_sqrt_(x) __builtin_sqrt(x)
#else
#define ember_sqrtf_(x) sqrt(x)
#define ember_sqrt_(x) sqrt(x)
#endif
"""


def _vector_sqrt(t: str, w: int, name: str) -> str:
    """``name``: the lane-by-lane square root of a ``t``-vector of ``w`` lanes (the scalar
    builtins of :data:`_INLINE_MATH`; LLVM packs them into one vector square root)."""
    one = "ember_sqrtf_" if t == "float" else "ember_sqrt_"
    lanes = ", ".join(f"{one}(x.s{j:x})" for j in range(w))
    return f"inline {t}{w} {name}({t}{w} x) {{ return ({t}{w})({lanes}); }}\n"


# float -> bfloat16 bits, rounded to nearest even (as PyTorch and ml_dtypes); NaN stays a quiet NaN
_TO_BF16 = """
inline ushort ember_to_bf16_(float f) {
    uint u = as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (ushort)((u >> 16) | 0x40u);
    return (ushort)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
"""

#: vector width (elements) of the contiguous fast paths: 256-bit vectors (AVX2)
VEC_WIDTH = {"float32": 8, "float64": 4, "int32": 8, "int64": 4}
ITEMSIZE = {"float32": 4, "float64": 8, "int32": 4, "int64": 8}
#: elements per work-item of contiguous ("rank -1") elementwise kernels
CHUNK = 64

# float32 exp with plain operators only (PoCL calls builtins such as exp out of line, which is
# ~7x slower): Cephes expf range reduction + degree-6 polynomial, 2^n applied in two factors so
# results down to the denormals are right; about 2 ulp. inf -> inf, -inf -> 0, nan -> nan.
_VEXP = """
inline float8 vexp_(float8 x) {
    x = x < -104.0f ? (float8)(-104.0f) : x;
    x = x > 89.0f ? (float8)(89.0f) : x;
    float8 t = x * 1.44269504088896341f + 12582912.0f;
    float8 nf = t - 12582912.0f;
    float8 r = x - nf * 0.693359375f;
    r = r - nf * -2.12194440e-4f;
    float8 p = 1.9875691500E-4f;
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    p = p * (r * r) + r + 1.0f;
    int8 ni = as_int8(t) - 0x4B400000;
    int8 n1 = ni >> 1;
    int8 n2 = ni - n1;
    return p * as_float8((n1 + 127) << 23) * as_float8((n2 + 127) << 23);
}
inline float sexp_(float x) { return vexp_((float8)(x)).s0; }
/* tanh the same way (Cephes tanhf): an odd polynomial for |x| < 0.625, else 1 - 2 / (e^2|x| + 1)
   with the sign of x; about 2 ulp, +-1 for large |x|, nan -> nan. */
inline float8 vtanh_(float8 x) {
    float8 ax = as_float8(as_int8(x) & 0x7fffffff);
    float8 z = x * x;
    float8 p = -5.70498872745E-3f;
    p = p * z + 2.06390887954E-2f;
    p = p * z - 5.37397155531E-2f;
    p = p * z + 1.33314422036E-1f;
    p = p * z - 3.33332819422E-1f;
    float8 small = p * z * ax + ax;
    float8 big = 1.0f - 2.0f / (vexp_(ax + ax) + 1.0f);
    float8 r = ax < 0.625f ? small : big;  /* tanh(|x|) >= 0; odd: the sign of x (also -0) */
    return as_float8(as_int8(r) | (as_int8(x) & (int)0x80000000));
}
inline float stanh_(float x) { return vtanh_((float8)(x)).s0; }
/* atan2 the same way (PoCL's atan2 builtin costs about 100 ns an element): the angle of the
   smaller over the larger of |y|, |x| by Cephes atanf (a reduction to |u| <= tan(pi/8) and a
   degree-9 odd polynomial), then the octant from |y| > |x| and the signs (of -0.0 too); a few ulp.
   C's special cases: (+-0, +0) -> +-0, (+-0, -0) -> +-pi, inf/inf -> the diagonal, NaN -> NaN. */
inline float8 vatan2_(float8 y, float8 x) {
    float8 ay = as_float8(as_int8(y) & 0x7fffffff);
    float8 ax = as_float8(as_int8(x) & 0x7fffffff);
    int8 steep = ay > ax;
    float8 hi = steep ? ay : ax;
    float8 lo = steep ? ax : ay;
    float8 t = lo / (hi == 0.0f ? (float8)(1.0f) : hi);
    t = (ay == INFINITY && ax == INFINITY) ? (float8)(1.0f) : t;
    int8 mid = t > 0.41421356237309504880f;
    float8 u = mid ? (t - 1.0f) / (t + 1.0f) : t;
    float8 z = u * u;
    float8 p = 8.05374449538e-2f;
    p = p * z - 1.38776856032e-1f;
    p = p * z + 1.99777106478e-1f;
    p = p * z - 3.33329491539e-1f;
    float8 a = p * z * u + u;
    a = mid ? a + 0.78539816339744830962f : a;
    a = steep ? 1.57079632679489661923f - a : a;
    a = as_int8(x) < 0 ? 3.14159265358979323846f - a : a;
    a = (x != x || y != y) ? x + y : a;
    return as_float8(as_int8(a) | (as_int8(y) & (int)0x80000000));
}
inline float satan2_(float y, float x) { return vatan2_((float8)(y), (float8)(x)).s0; }
/* log the same way (Cephes logf): x = m * 2^e with m in [sqrt(1/2), sqrt(2)) (denormals scaled
   by 2^23 first), log(1 + f) for f = m - 1 by a degree-9 polynomial, e * ln 2 added in two
   parts; about 1 ulp. log(0) = -inf, log(inf) = inf, log(x < 0) = log(nan) = nan. */
inline float8 vlog_(float8 x) {
    int8 tiny = x < 1.17549435e-38f;
    float8 y = tiny ? x * 8388608.0f : x;
    int8 i = as_int8(y);
    int8 e = ((i >> 23) & 0xff) - 126 - (tiny & 23);
    float8 m = as_float8((i & (int)0x807fffff) | 0x3f000000);
    int8 low = m < 0.707106781186547524f;
    e = e + low;  /* (a true comparison is -1) */
    float8 f = (low ? m + m : m) - 1.0f;
    float8 z = f * f;
    float8 p = 7.0376836292E-2f;
    p = p * f - 1.1514610310E-1f;
    p = p * f + 1.1676998740E-1f;
    p = p * f - 1.2420140846E-1f;
    p = p * f + 1.4249322787E-1f;
    p = p * f - 1.6668057665E-1f;
    p = p * f + 2.0000714765E-1f;
    p = p * f - 2.4999993993E-1f;
    p = p * f + 3.3333331174E-1f;
    float8 fe = as_float8(e + 0x4B400000) - 12582912.0f;  /* e as a float (|e| < 2^22) */
    float8 r = f * z * p;
    r = r + fe * -2.12194440e-4f;
    r = r - 0.5f * z;
    r = f + r;
    r = r + fe * 0.693359375f;
    r = x == INFINITY ? x : r;
    r = x == 0.0f ? (float8)(-INFINITY) : r;
    return (x < 0.0f || x != x) ? (float8)(NAN) : r;
}
inline float slog_(float x) { return vlog_((float8)(x)).s0; }
"""


def decompose(rank: int, idx: str, var: str = "i", dims: str = "d") -> list[str]:
    """Statements splitting linear ``var`` into coordinates c0..c{rank-1} over dims ``dims``j."""
    if rank == 0:
        return []
    lines = [f"{idx} t_ = {var};"]
    for j in range(rank - 1, 0, -1):
        lines.append(f"{idx} c{j} = t_ % {dims}{j}; t_ /= {dims}{j};")
    lines.append(f"{idx} c0 = t_;")
    return lines


def position(prefix: str, rank: int, coord: str = "c") -> str:
    """Expression of operand ``prefix``'s element at coordinates ``coord``0.. (its offset plus
    coordinate times stride, parameters ``<prefix>_off`` and ``<prefix>_s<j>``)."""
    terms = [f"{prefix}_off"] + [f"{coord}{j} * {prefix}_s{j}" for j in range(rank)]
    return " + ".join(terms)
