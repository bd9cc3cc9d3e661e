"""CUDA C sources of the backend's own kernels, and their (lazily compiled) CuPy wrappers.

The sources are plain strings so they can be read (and the Philox generator checked against its
known-answer vectors with a host C compiler) without CuPy or a GPU. ``Kernels(cupy)`` compiles
each kernel on first use; CuPy caches the binaries on disk.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Philox4x32-10 (Salmon et al., SC'11, as in Random123): encrypts the 128-bit counter ``c`` under
#: the 64-bit key (k0, k1) in place. ``__umulhi`` is CUDA's high half of a 32x32 multiply.
PHILOX_SOURCE = r"""
__device__ __forceinline__ void ember_philox4x32_10(unsigned int c[4], unsigned int k0, unsigned int k1) {
    for (int r = 0; r < 10; ++r) {
        if (r) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
        unsigned int hi0 = __umulhi(0xD2511F53u, c[0]), lo0 = 0xD2511F53u * c[0];
        unsigned int hi1 = __umulhi(0xCD9E8D57u, c[2]), lo1 = 0xCD9E8D57u * c[2];
        unsigned int n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0; c[1] = lo1; c[2] = n2; c[3] = lo0;
    }
}

/* Word `stream` of element i: Philox block (base + i / 4) of sub-stream `stream`, lane i % 4.
   A draw of n numbers at offset o touches blocks [o/4, o/4 + ceil(n/4)) only, so consecutive
   draws of one generator never share counters. */
__device__ __forceinline__ unsigned int ember_word(unsigned long long base, unsigned long long i,
                                                   unsigned int stream, unsigned int k0, unsigned int k1) {
    unsigned long long blk = base + (i >> 2);
    unsigned int c[4] = {(unsigned int)blk, (unsigned int)(blk >> 32), stream, 0u};
    ember_philox4x32_10(c, k0, k1);
    return c[i & 3];
}
"""

# Bodies of the random ElementwiseKernels (inputs: uint32 k0, uint32 k1, uint64 base; output: y).
# Uniform floats in [0, 1) from the top bits (24 for float32, 53 for float64, 11 for float16 so the
# cast to half is exact and never rounds up to 1); normals by Box-Muller with u1 in (0, 1].
RANDOM_BODIES: dict[tuple[str, str], str] = {
    ("uniform", "float32"): "y = (float)(ember_word(base, i, 0, k0, k1) >> 8) * 5.9604644775390625e-08f;",
    ("uniform", "float16"): "y = (float)(ember_word(base, i, 0, k0, k1) >> 21) * 4.8828125e-04f;",
    ("uniform", "float64"): (
        "y = ((double)(ember_word(base, i, 0, k0, k1) >> 5) * 67108864.0"
        " + (double)(ember_word(base, i, 1, k0, k1) >> 6)) * 1.1102230246251565e-16;"
    ),
    ("normal", "float32"): (
        "float u1 = (float)((ember_word(base, i, 0, k0, k1) >> 8) + 1u) * 5.9604644775390625e-08f;"
        "float u2 = (float)(ember_word(base, i, 1, k0, k1) >> 8) * 5.9604644775390625e-08f;"
        "y = sqrtf(-2.0f * logf(u1)) * cospif(2.0f * u2);"
    ),
    ("normal", "float64"): (
        "double u1 = ((double)(ember_word(base, i, 0, k0, k1) >> 5) * 67108864.0"
        " + (double)(ember_word(base, i, 1, k0, k1) >> 6) + 1.0) * 1.1102230246251565e-16;"
        "double u2 = ((double)(ember_word(base, i, 2, k0, k1) >> 5) * 67108864.0"
        " + (double)(ember_word(base, i, 3, k0, k1) >> 6)) * 1.1102230246251565e-16;"
        "y = sqrt(-2.0 * log(u1)) * cospi(2.0 * u2);"
    ),
}

#: Compute type of the fused elementwise kernels: float for half and float, double for double.
ACC_PREAMBLE = r"""
template <typename U> struct ember_acc { typedef float type; };
template <> struct ember_acc<double> { typedef double type; };
"""

# Fused elementwise bodies over 'T x' -> 'T y' (T: float16/float32/float64; relu: any dtype).
ELEMENTWISE_BODIES: dict[str, str] = {
    # NaN < 0 is false, so NaN passes through as in torch.relu
    "relu": "y = (x < (T)0) ? (T)0 : x;",
    "sigmoid": (
        "typedef ember_acc<T>::type A; A v = (A)x; A e = exp(-fabs(v)); A p = (A)1 / ((A)1 + e);"
        "y = (T)(v >= (A)0 ? p : e * p);"
    ),
    "silu": (
        "typedef ember_acc<T>::type A; A v = (A)x; A e = exp(-fabs(v)); A p = (A)1 / ((A)1 + e);"
        "y = (T)(v * (v >= (A)0 ? p : e * p));"
    ),
    "gelu": (
        "typedef ember_acc<T>::type A; A v = (A)x;"
        "y = (T)((A)0.5 * v * ((A)1 + erf(v * (A)0.70710678118654752440)));"
    ),
    "rsqrt": "typedef ember_acc<T>::type A; y = (T)((A)1 / sqrt((A)x));",
}

# Floating floor division and remainder over 'T a, T b' -> 'T y', computed like numpy and PyTorch
# (fmod-based: 1.0 // 0.1 == 9.0, where floor(1.0 / 0.1) == 10.0); half is computed in float.
DIVMOD_BODIES: dict[str, str] = {
    "floor_divide": (
        "typedef ember_acc<T>::type A; A x = (A)a, z = (A)b, r;"
        "if (z == (A)0) { r = x / z; } else {"
        " A m = fmod(x, z); A d = (x - m) / z;"
        " if (m != (A)0 && ((z < (A)0) != (m < (A)0))) d -= (A)1;"
        " if (d == (A)0) { r = copysign((A)0, x / z); }"
        " else { A f = floor(d); r = (d - f > (A)0.5) ? f + (A)1 : f; } }"
        "y = (T)r;"
    ),
    "remainder": (
        "typedef ember_acc<T>::type A; A x = (A)a, z = (A)b; A m = fmod(x, z);"
        "y = (T)((m != (A)0 && ((z < (A)0) != (m < (A)0))) ? m + z : m);"
    ),
}

#: Row softmax / log-softmax over the last axis of a C-contiguous (rows, n) array, one block per
#: row (grid-strided), numerically stable (the row max is subtracted). NaN in a row propagates.
#: ``SCALAR`` and ``NEG_INF`` are substituted per dtype; ``LOG`` selects log-softmax.
SOFTMAX_SOURCE = r"""
__device__ __forceinline__ SCALAR ember_warp_max(SCALAR v) {
    for (int o = 16; o > 0; o >>= 1) {
        SCALAR w = __shfl_xor_sync(0xffffffffu, v, o);
        v = (w > v || w != w) ? w : v;
    }
    return v;
}
__device__ __forceinline__ SCALAR ember_warp_sum(SCALAR v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
extern "C" __global__ void NAME(const SCALAR* __restrict__ x, SCALAR* __restrict__ y,
                                long long rows, long long n) {
    __shared__ SCALAR red[32];
    __shared__ SCALAR bcast;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const SCALAR* xr = x + row * n;
        SCALAR* yr = y + row * n;
        SCALAR m = NEG_INF;
        for (long long j = threadIdx.x; j < n; j += blockDim.x) {
            SCALAR v = xr[j];
            m = (v > m || v != v) ? v : m;
        }
        m = ember_warp_max(m);
        if (lane == 0) red[warp] = m;
        __syncthreads();
        if (warp == 0) {
            SCALAR v = lane < nwarps ? red[lane] : NEG_INF;
            v = ember_warp_max(v);
            if (lane == 0) bcast = v;
        }
        __syncthreads();
        m = bcast;
        SCALAR s = 0;
        for (long long j = threadIdx.x; j < n; j += blockDim.x) s += exp(xr[j] - m);
        s = ember_warp_sum(s);
        __syncthreads();
        if (lane == 0) red[warp] = s;
        __syncthreads();
        if (warp == 0) {
            SCALAR v = lane < nwarps ? red[lane] : (SCALAR)0;
            v = ember_warp_sum(v);
            if (lane == 0) bcast = v;
        }
        __syncthreads();
        s = bcast;
#if LOG
        SCALAR ls = log(s);
        for (long long j = threadIdx.x; j < n; j += blockDim.x) yr[j] = xr[j] - m - ls;
#else
        SCALAR inv = (SCALAR)1 / s;
        for (long long j = threadIdx.x; j < n; j += blockDim.x) yr[j] = exp(xr[j] - m) * inv;
#endif
        __syncthreads();
    }
}
"""

_SCALARS = {
    "float32": ("float", "__int_as_float(0xff800000)"),
    "float64": ("double", "__longlong_as_double(0xfff0000000000000LL)"),
}


def softmax_source(dtype_name: str, log: bool) -> tuple[str, str]:
    """(source, kernel name) of the row softmax kernel for float32/float64."""
    scalar, neg_inf = _SCALARS[dtype_name]
    name = f"ember_{'log_' if log else ''}softmax_{dtype_name}"
    src = (
        SOFTMAX_SOURCE.replace("SCALAR", scalar)
        .replace("NEG_INF", neg_inf)
        .replace("NAME", name)
        .replace("#if LOG", f"#if {int(log)}")
    )
    return src, name


class Kernels:
    """The backend's compiled kernels for one CuPy module, built on first use of each."""

    def __init__(self, cp: Any) -> None:
        self.cp = cp
        self._cache: dict[Any, Any] = {}

    def elementwise(self, name: str) -> Any:
        """The fused ``T x -> T y`` ElementwiseKernel named ``name`` (see ELEMENTWISE_BODIES)."""
        k = self._cache.get(name)
        if k is None:
            k = self._cache[name] = self.cp.ElementwiseKernel(
                "T x", "T y", ELEMENTWISE_BODIES[name], f"ember_{name}", preamble=ACC_PREAMBLE
            )
        return k

    def divmod(self, name: str) -> Any:
        """The floating ``T a, T b -> T y`` ElementwiseKernel ``floor_divide`` or ``remainder``."""
        key = ("divmod", name)
        k = self._cache.get(key)
        if k is None:
            k = self._cache[key] = self.cp.ElementwiseKernel(
                "T a, T b", "T y", DIVMOD_BODIES[name], f"ember_{name}", preamble=ACC_PREAMBLE
            )
        return k

    def random(self, kind: str, dtype_name: str) -> Any:
        """The counter-based random ElementwiseKernel for (uniform|normal, float16|32|64)."""
        key = ("random", kind, dtype_name)
        k = self._cache.get(key)
        if k is None:
            out_t = "float32" if dtype_name == "float16" else dtype_name
            k = self._cache[key] = self.cp.ElementwiseKernel(
                "uint32 k0, uint32 k1, uint64 base",
                f"{out_t} y",
                RANDOM_BODIES[(kind, dtype_name)],
                f"ember_{kind}_{dtype_name}",
                preamble=PHILOX_SOURCE,
            )
        return k

    def softmax(self, dtype_name: str, log: bool) -> Any:
        """The row softmax RawKernel for float32/float64."""
        key = ("softmax", dtype_name, log)
        k = self._cache.get(key)
        if k is None:
            src, name = softmax_source(dtype_name, log)
            k = self._cache[key] = self.cp.RawKernel(src, name)
        return k


def philox_reference(counter: tuple[int, int, int, int], key: tuple[int, int]) -> tuple[int, ...]:
    """Philox4x32-10 in Python (for tests): the four output words of one block."""
    m = 0xFFFFFFFF
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for r in range(10):
        if r:
            k0, k1 = (k0 + 0x9E3779B9) & m, (k1 + 0xBB67AE85) & m
        p0, p1 = 0xD2511F53 * c0, 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & m, (p0 >> 32) ^ c3 ^ k1, p0 & m
    return c0, c1, c2, c3


def random_reference(kind: str, n: int, dtype_name: str, seed: int, offset: int) -> np.ndarray:
    """What the random kernels compute, on the host in numpy (slow; for tests of small draws)."""
    seed &= 0xFFFF_FFFF_FFFF_FFFF
    k = (seed & 0xFFFFFFFF, seed >> 32)
    base = offset // 4

    def word(i: int, s: int) -> int:
        blk = base + (i >> 2)
        return philox_reference((blk & 0xFFFFFFFF, (blk >> 32) & 0xFFFFFFFF, s, 0), k)[i & 3]

    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        if kind == "uniform":
            if dtype_name == "float64":
                out[i] = ((word(i, 0) >> 5) * 67108864.0 + (word(i, 1) >> 6)) * 2.0**-53
            elif dtype_name == "float16":
                out[i] = (word(i, 0) >> 21) * 2.0**-11
            else:
                out[i] = (word(i, 0) >> 8) * 2.0**-24
        elif dtype_name == "float64":
            u1 = ((word(i, 0) >> 5) * 67108864.0 + (word(i, 1) >> 6) + 1.0) * 2.0**-53
            u2 = ((word(i, 2) >> 5) * 67108864.0 + (word(i, 3) >> 6)) * 2.0**-53
            out[i] = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
        else:
            u1 = ((word(i, 0) >> 8) + 1) * 2.0**-24
            u2 = (word(i, 1) >> 8) * 2.0**-24
            out[i] = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return out.astype(dtype_name)
