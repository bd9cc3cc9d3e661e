"""The optional ``fft_c2c`` kernel: the unnormalized complex DFT along one axis, in OpenCL C.

Complex values are ``(real, imag)`` pairs in a trailing dim of 2 (``view_as_real``'s layout), so a
C-contiguous float32 / float64 buffer ``(..., 2)`` is an array of ``float2`` / ``double2``. The
transform runs along ``axis`` of the complex array seen as ``(outer, n, inner)``; every line (one
``outer`` and one ``inner`` coordinate) is transformed by the same launches, so the batch needs no
transposes.

The algorithm is Stockham's autosort FFT (no bit reversal: each pass reads one buffer and writes
the other, in the order the next pass reads). ``n`` is split into radices (:func:`radices`: 8s,
a 4, then 2, 3, 5, 7, 11, 13, then the other prime factors); a pass of radix ``R`` after passes
whose radices multiply to ``Ns`` computes, for each ``j < n / R`` with ``k = j % Ns``::

    v[r]  = x[j + r n / R] * exp(-+2 pi i r k / (Ns R))          r < R    (twiddles)
    y[(j / Ns) Ns R + k + q Ns] = sum_r v[r] exp(-+2 pi i r q / R)   q < R    (an R-point DFT)

A radix of :data:`BUTTERFLIES` runs a butterfly kernel compiled for that ``R`` (one work-item per
``j``, the ``R``-point DFT's constants in a ``__constant`` table); a prime factor ``p`` up to
:data:`BLUESTEIN_ABOVE` runs one work-item per output, a sum of ``p`` terms (``O(n p)`` work for
that pass). A length with a larger prime factor runs Bluestein's algorithm: a chirp product, a
convolution of power-of-two length through the passes above, a second chirp product. Every
twiddle is read from the length's table of roots ``exp(-2 pi i t / n)`` (computed in float64 on
the host once per length, and uploaded), so a float32 result is as accurate as its roots are.
Work-items index with ``int`` unless a buffer or the launch needs ``long`` (64-bit division is
what the index arithmetic would cost most).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from ._array import CLArray
from ._launch import INT_LIMIT, launch_1d, new_array
from ._launch import LOCAL_VEC as LOCAL
from ._signature import KernelSignature, Param, Program
from .memory import contiguous, from_numpy

__all__ = ["BLUESTEIN_ABOVE", "BUTTERFLIES", "fft_c2c", "gen_fft_program", "radices"]

#: lengths with a prime factor above this run Bluestein's algorithm (the generic pass below it)
BLUESTEIN_ABOVE = 64
#: the radices with a butterfly kernel of their own; other prime factors run the generic pass
BUTTERFLIES = (2, 3, 4, 5, 7, 8, 11, 13)

_CTYPE = {"float32": "float", "float64": "double"}


def radices(n: int) -> list[int]:
    """The passes of a length-``n`` transform: 8s first, then a 4, then 2, 3, 5, 7, 11, 13, then
    the other prime factors in increasing order (an empty list for ``n == 1``)."""
    out = []
    for p in (8, 4):
        while n % p == 0:
            out.append(p)
            n //= p
    for p in (2, 3, 5, 7, 11, 13):
        while n % p == 0:
            out.append(p)
            n //= p
    q = 17
    while n > 1 and q * q <= n:
        while n % q == 0:
            out.append(q)
            n //= q
        q += 2
    if n > 1:
        out.append(n)
    return out


def _signature(name: str, ctype: str, idx: str) -> KernelSignature:
    return KernelSignature(
        name,
        (
            Param("src", f"__global const {ctype}2*"),
            Param("src_off", idx),
            Param("dst", f"__global {ctype}2*"),
            Param("tw", f"__global const {ctype}2*"),
            Param("n", idx),
            Param("ns", idx),
            Param("radix", idx),
            Param("inner", idx),
            Param("sign", ctype),
            Param("count", idx),
        ),
    )


def _kernel_name(radix: int) -> str:
    return f"fft_r{radix}" if radix in BUTTERFLIES else "fft_generic"


def gen_fft_program(dtype_name: str, idx: str) -> Program:
    """The pass kernels for float32 / float64 pairs, indices of C type ``idx`` (``int`` when every
    index fits, else ``long``): a butterfly ``fft_r<R>`` for each radix of :data:`BUTTERFLIES`,
    ``fft_generic`` (one output per work-item, any radix: a launch argument) and ``fft_scale``
    (Bluestein's products). ``tw`` is the length's table of roots ``exp(-2 pi i t / n)``."""
    t = _CTYPE[dtype_name]
    lit = (lambda v: f"{v!r}") if t == "double" else (lambda v: f"{v!r}f")
    parts = [
        "#pragma OPENCL EXTENSION cl_khr_fp64 : enable" if t == "double" else "",
        f"typedef {t} T;",
        f"typedef {t}2 T2;",
        f"typedef {idx} I;",
        "inline T2 cmul(T2 a, T2 b) { return (T2)(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }",
        "// exp(sign * 2 pi i e / n) from the table of exp(-2 pi i t / n); sign -1 or 1",
        "inline T2 root(__global const T2* tw, I e, T sign) { T2 w = tw[e]; return (T2)(w.x, -sign * w.y); }",
    ]
    sigs = []
    for radix in BUTTERFLIES:
        sig = _signature(_kernel_name(radix), t, idx)
        sigs.append(sig)
        parts.append(f"""
{sig.declaration()}
{{
    I g = get_global_id(0), m = n / {radix};
    if (g >= count) return;
    I gl = g / inner, j = gl % m, base = (gl / m) * n * inner + (g - gl * inner);
    I k = j % ns, L = ns * {radix}, stride = n / L, d = (j / ns) * L + k;
    src += src_off + base + j * inner;
    dst += base + d * inner;
    I sm = m * inner, sd = ns * inner;
{_butterfly(radix, lit)}
}}""")
    sig = _signature("fft_generic", t, idx)
    sigs.append(sig)
    parts.append(f"""
{sig.declaration()}
{{
    I g = get_global_id(0), m = n / radix;
    if (g >= count) return;
    I gl = g / inner, tq = gl % n, base = (gl / n) * n * inner + (g - gl * inner);
    I q = tq / m, j = tq % m, k = j % ns, L = ns * radix, kq = k + q * ns, stride = n / L;
    src += src_off + base;
    T2 acc = (T2)(0, 0);
    for (I r = 0; r < radix; r++)
        acc += cmul(src[(j + r * m) * inner], root(tw, ((r * kq) % L) * stride, sign));
    dst[base + ((j / ns) * L + kq) * inner] = acc;
}}""")
    sig = KernelSignature(
        "fft_scale",
        (
            Param("src", f"__global const {t}2*"),
            Param("src_off", idx),
            Param("src_len", idx),
            Param("dst", f"__global {t}2*"),
            Param("dst_len", idx),
            Param("table", f"__global const {t}2*"),
            Param("inner", idx),
            Param("count", idx),
        ),
    )
    sigs.append(sig)
    parts.append(f"""
// dst[o, j, i] = src[o, j, i] * table[j] (0 where j >= src_len): Bluestein's chirps and its kernel
{sig.declaration()}
{{
    I g = get_global_id(0);
    if (g >= count) return;
    I i = g % inner, j = (g / inner) % dst_len, o = g / inner / dst_len;
    dst[(o * dst_len + j) * inner + i] =
        j < src_len ? cmul(src[src_off + (o * src_len + j) * inner + i], table[j]) : (T2)(0, 0);
}}""")
    return "\n".join(parts) + "\n", sigs


def _butterfly(radix: int, lit: Any) -> str:
    """The straight-line body of a radix-``radix`` butterfly: the twiddled inputs ``v<r>``, then
    each output a sum with the ``radix``-point DFT's roots as literals (``sign`` picks the
    direction at run time)."""
    lines = ["    T2 v0 = src[0];"]
    lines += [
        f"    T2 v{r} = cmul(src[{r} * sm], root(tw, {r} * k * stride, sign));" for r in range(1, radix)
    ]
    for q in range(radix):
        terms = ["v0"]
        for r in range(1, radix):
            e = (r * q) % radix
            if e == 0:
                terms.append(f"v{r}")
            elif 4 * e == radix:  # exp(-+i pi / 2): (x, y) -> +-(y, -x)
                terms.append(f"sign * (T2)(-v{r}.y, v{r}.x)")
            elif 2 * e == radix:
                terms.append(f"-v{r}")
            elif 4 * e == 3 * radix:
                terms.append(f"sign * (T2)(v{r}.y, -v{r}.x)")
            else:
                c, sn = math.cos(2 * math.pi * e / radix), math.sin(2 * math.pi * e / radix)
                terms.append(f"cmul(v{r}, (T2)({lit(c)}, sign * {lit(sn)}))")
        lines.append(f"    dst[{q} * sd] = " + " + ".join(terms) + ";")
    return "\n".join(lines)


@lru_cache(maxsize=64)
def _roots(dev: Any, dt: str, n: int) -> CLArray:
    """The table ``exp(-2 pi i t / n)``, ``t < n``, computed in float64 on the host (the angle
    reduced exactly) once per device, dtype and length, and uploaded."""
    ang = -2 * np.pi * np.arange(n) / n
    return from_numpy(dev, np.ascontiguousarray(np.stack([np.cos(ang), np.sin(ang)], -1), dtype=dt))


def _index_type(*counts: int) -> str:
    return "int" if max(counts) < INT_LIMIT else "long"


def fft_c2c(x: CLArray, axis: int, inverse: bool) -> CLArray:
    """Kernel ``fft_c2c``: the unnormalized DFT along ``axis`` of the complex pairs ``x`` (a
    float32/float64 array ``(..., 2)``), as Stockham passes, or Bluestein's algorithm when ``n``
    has a prime factor above :data:`BLUESTEIN_ABOVE` (module docstring)."""
    if not x.layout.is_contiguous or x.offset % 2:
        x = contiguous(x)
    shape = x.shape
    n = shape[axis]
    out = new_array(x.dev, shape, x.dtype)
    if out.size == 0:
        return out
    plan = radices(n)
    if not plan:
        return contiguous(x)
    outer = math.prod(shape[:axis])
    inner = math.prod(shape[axis + 1 : -1])
    sign = 1.0 if inverse else -1.0
    if plan[-1] > BLUESTEIN_ABOVE:
        return _bluestein(x, out, n, outer, inner, inverse)
    tmp = new_array(x.dev, shape, x.dtype) if len(plan) > 1 else out
    # the passes alternate between two buffers: start with the one that makes the last write out
    first, second = (out, tmp) if len(plan) % 2 else (tmp, out)
    return _passes(x, x.offset // 2, first, second, plan, n, outer, inner, sign)


def _passes(
    src: CLArray,
    src_off: int,
    first: CLArray,
    second: CLArray,
    plan: list[int],
    n: int,
    outer: int,
    inner: int,
    sign: float,
) -> CLArray:
    """Run the Stockham passes of ``plan`` on lines of ``n`` complex values of ``src`` (from complex
    offset ``src_off``): pass ``i`` writes ``first`` when ``i`` is even, else ``second`` (either may
    be ``src``, which the first pass alone reads). Returns the array holding the result."""
    dev, dt = src.dev, src.dtype.name
    idx = _index_type(src.alloc.size // src.dtype.itemsize, first.size, second.size)
    kernels = dev.program(("fft", dt, idx), gen_fft_program, dt, idx)
    tw = _roots(dev, dt, n).alloc.buf
    buf, ns = src.alloc.buf, 1
    dst = first
    for i, r in enumerate(plan):
        dst = first if i % 2 == 0 else second
        name = _kernel_name(r)
        count = (n // r if name != "fft_generic" else n) * inner * outer
        args = [buf, src_off, dst.alloc.buf, tw, n, ns, r, inner, sign, count]
        launch_1d(dev, kernels[name], args, count, LOCAL)
        buf, src_off, ns = dst.alloc.buf, 0, ns * r
    return dst


def _bluestein(x: CLArray, out: CLArray, n: int, outer: int, inner: int, inverse: bool) -> CLArray:
    """``X[k] = c[k] sum_j (x[j] c[j]) conj(c[k - j])`` with the chirp ``c[j] = exp(-+pi i j^2 / n)``:
    the sum is a circular convolution of power-of-two length ``size >= 2n - 1``, done with two
    transforms of that length and the precomputed transform of ``conj(c)``."""
    dev, dt = x.dev, x.dtype.name
    size = 1 << (2 * n - 2).bit_length()
    chirp, kernel = _bluestein_tables(dev, dt, n, size, inverse)
    a = new_array(dev, (outer, size, inner, 2), x.dtype)
    b = new_array(dev, (outer, size, inner, 2), x.dtype)
    idx = _index_type(x.alloc.size // x.dtype.itemsize, a.size, out.size)
    scale = dev.program(("fft", dt, idx), gen_fft_program, dt, idx)["fft_scale"]
    plan = radices(size)
    count = size * inner * outer
    args = [x.alloc.buf, x.offset // 2, n, a.alloc.buf, size, chirp.alloc.buf, inner, count]
    launch_1d(dev, scale, args, count, LOCAL)
    y = _passes(a, 0, b, a, plan, size, outer, inner, -1.0)
    launch_1d(
        dev, scale, [y.alloc.buf, 0, size, y.alloc.buf, size, kernel.alloc.buf, inner, count], count, LOCAL
    )
    z = _passes(y, 0, b if y is a else a, y, plan, size, outer, inner, 1.0)
    count = n * inner * outer
    launch_1d(
        dev, scale, [z.alloc.buf, 0, size, out.alloc.buf, n, chirp.alloc.buf, inner, count], count, LOCAL
    )
    return out


@lru_cache(maxsize=64)
def _bluestein_tables(dev: Any, dt: str, n: int, size: int, inverse: bool) -> tuple[CLArray, CLArray]:
    """The chirp (n) and the transform of its conjugate laid out circularly over ``size``, divided
    by ``size`` (so the inverse transform of the product needs no scaling), computed in float64 on
    the host once per length and uploaded."""
    sign = 1.0 if inverse else -1.0
    j = np.arange(n)
    c = np.exp(1j * sign * np.pi * ((j * j) % (2 * n)) / n)
    b = np.zeros(size, dtype=np.complex128)
    b[:n] = c.conj()
    b[size - n + 1 :] = c.conj()[1:][::-1]
    f = np.fft.fft(b) / size
    chirp, kernel = (
        from_numpy(dev, np.ascontiguousarray(np.stack([v.real, v.imag], -1), dtype=dt)) for v in (c, f)
    )
    return chirp, kernel
