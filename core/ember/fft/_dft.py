"""The one transform every function of :mod:`ember.fft` reduces to: the unnormalized complex DFT
along one axis, on complex values held as ``(real, imag)`` pairs in a trailing dim of 2 (the layout
of ``view_as_real``).

Pairs rather than complex buffers: the transform (kernel or composite) then needs nothing but real
float buffers on the device, and the gradient convention of PyTorch for complex tensors (the
gradient of a real loss with respect to ``z`` is ``dL/dRe z + i dL/dIm z``) is the ordinary real
gradient of the pair. The adjoint of the real-linear map "DFT of the pairs" is the unnormalized
inverse DFT, so one kernel serves the forward and the backward.

A device whose kernel table has the optional kernel ``fft_c2c`` (numpy and CuPy through
:func:`array_kernels`, the OpenCL plugin's Stockham kernel) runs it; every other device runs the
composite below, made of ``matmul``, elementwise ops and views, on the device:

* ``n = p * m`` with a factor ``p <= RADIX_MAX``: one Cooley-Tukey step (decimation in time). The
  ``p`` interleaved subsequences of length ``m`` are transformed recursively as one batch, then
  multiplied by the twiddles and combined by one ``matmul`` with the ``2p x 2p`` real matrix of
  the ``p``-point DFT acting on the pairs.
* ``n <= DENSE_MAX``, or a prime up to ``PRIME_DENSE_MAX``: one ``matmul`` with the ``2n x 2n``
  real matrix of the ``n``-point DFT.
* other lengths (a prime factor above ``PRIME_DENSE_MAX``): Bluestein's chirp z-transform, a
  circular convolution of power-of-two length ``M >= 2n - 1`` done by the step above.

The constant matrices, twiddles and chirps are computed in float64 on the host, once per length,
dtype and device (an LRU cache), and uploaded; the data never leaves the device.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from ..autograd.grad_mode import STATE, no_grad
from ..ops._core import Tensor, _make, attach

__all__ = ["DENSE_MAX", "PRIME_DENSE_MAX", "RADIX_MAX", "array_kernels", "c2c"]

#: lengths up to this run as one dense DFT matmul
DENSE_MAX = 16
#: largest radix of a Cooley-Tukey step of the composite
RADIX_MAX = 16
#: primes up to this run as one dense DFT matmul; longer ones through Bluestein's algorithm
PRIME_DENSE_MAX = 256


def c2c(x: Tensor, axis: int, inverse: bool) -> Tensor:
    """The unnormalized DFT of the complex pairs ``x`` (a float32/float64 tensor ``(..., 2)``) along
    ``axis`` (a non-negative dim below ``x.ndim - 1``): ``y[k] = sum_j x[j] exp(-+2 pi i j k / n)``
    (``+`` when ``inverse``). Differentiable: the backward is the transform in the other direction.
    """
    kernel = x.device.kernels.get("fft_c2c") if x.numel() else None
    if kernel is None:
        return _c2c_composite(x, axis, inverse)
    with no_grad():
        xc = x.contiguous()
        out = _make(kernel(xc._data, axis, inverse), x.shape, x.dtype, x.device)
    if STATE.enabled and x.requires_grad:

        def grad(g: Tensor) -> tuple[Tensor]:
            return (c2c(g, axis, not inverse),)

        out = attach(out, "fft_c2c", grad, (x,))
    return out


# -- the composite ---------------------------------------------------------------------------------
def _c2c_composite(x: Tensor, axis: int, inverse: bool) -> Tensor:
    n = x.shape[axis]
    if n <= 1 or x.numel() == 0:
        return x.clone()
    moved = x.movedim(axis, -2)
    shape = moved.shape
    rows = moved.reshape(-1, n, 2)
    y = _dft_rows(rows, inverse).reshape(shape)
    return y.movedim(-2, axis).contiguous()  # laid out as the kernel's result (C order)


def _dft_rows(x: Tensor, inverse: bool) -> Tensor:
    """The DFT along dim 1 of pairs ``x`` of shape ``(B, n, 2)``."""
    b, n, _ = x.shape
    if n == 1:
        return x
    plan = _plan(n)
    if plan == "dense":
        return (x.reshape(b, 2 * n) @ _const(x, "dense", n, 0, inverse)).reshape(b, n, 2)
    if plan == "bluestein":
        return _bluestein(x, inverse)
    p, m = plan, n // plan
    # index j = p * j2 + j1: the p subsequences (fixed j1) are transformed over j2 as one batch
    a = x.reshape(b, m, p, 2).permute(0, 2, 1, 3).reshape(b * p, m, 2)
    a = _dft_rows(a, inverse).reshape(b, p, m, 2).permute(0, 2, 1, 3)  # (b, m, p, 2): [k1, j1]
    t = _const(x, "twiddle", n, p, inverse)  # (m, p, 2): exp(-+2 pi i j1 k1 / n)
    tw = _cmul(a, t).reshape(b * m, 2 * p)
    # X[k1 + m k2] = sum_j1 W_p[k2, j1] tw[j1, k1]: the p-point DFT as one matmul on the pairs
    y = (tw @ _const(x, "dense", p, 0, inverse)).reshape(b, m, p, 2)
    return y.permute(0, 2, 1, 3).reshape(b, n, 2)


def _bluestein(x: Tensor, inverse: bool) -> Tensor:
    """Bluestein: ``X[k] = c[k] sum_j (x[j] c[j]) conj(c[k - j])`` with the chirp ``c[j] = exp(-+pi
    i j^2 / n)``, the sum a circular convolution of power-of-two length."""
    from ..ops.creation import zeros
    from ..ops.joining import cat

    b, n, _ = x.shape
    size = 1 << (2 * n - 2).bit_length()
    chirp = _const(x, "chirp", n, 0, inverse)  # (n, 2)
    kernel = _const(x, "chirp_fft", n, size, inverse)  # (size, 2): DFT of conj(c), over size
    a = _cmul(x, chirp)
    a = cat([a, zeros((b, size - n, 2), dtype=x.dtype, device=x.device)], 1)
    conv = _dft_rows(_cmul(_dft_rows(a, False), kernel), True)
    return _cmul(conv[:, :n], chirp)


def _cmul(a: Tensor, c: Tensor) -> Tensor:
    """Elementwise complex product of pairs (``c`` broadcasts)."""
    from ..ops.joining import stack

    ar, ai, cr, ci = a[..., 0], a[..., 1], c[..., 0], c[..., 1]
    return stack([ar * cr - ai * ci, ar * ci + ai * cr], -1)


def _plan(n: int) -> int | str:
    """How the composite transforms length ``n``: ``"dense"``, ``"bluestein"`` or a radix."""
    if n <= DENSE_MAX:
        return "dense"
    for p in range(RADIX_MAX, 1, -1):
        if n % p == 0:
            return p
    q = _smallest_factor(n)
    if q == n:
        return "dense" if n <= PRIME_DENSE_MAX else "bluestein"
    return q if q <= PRIME_DENSE_MAX else "bluestein"


def _smallest_factor(n: int) -> int:
    for q in range(2, math.isqrt(n) + 1):
        if n % q == 0:
            return q
    return n


def _const(like: Tensor, kind: str, n: int, k: int, inverse: bool) -> Tensor:
    return _cached_const(kind, n, k, inverse, like.dtype, like.device)


@lru_cache(maxsize=64)
def _cached_const(kind: str, n: int, k: int, inverse: bool, dtype: Any, device: Any) -> Tensor:
    from ..ops.creation import tensor

    return tensor(_host_const(kind, n, k, inverse), dtype=dtype, device=device)


def _host_const(kind: str, n: int, k: int, inverse: bool) -> np.ndarray:
    """The composite's constants in float64 (angles reduced exactly before the sine and cosine)."""
    sign = 1.0 if inverse else -1.0
    if kind == "dense":  # the (2n, 2n) real matrix R with pairs(x) @ R = pairs(x @ W), W[j, k] = w^jk
        j = np.arange(n)
        ang = sign * 2 * np.pi * (np.outer(j, j) % n) / n
        wr, wi = np.cos(ang), np.sin(ang)
        r = np.empty((n, 2, n, 2))
        r[:, 0, :, 0], r[:, 0, :, 1] = wr, wi
        r[:, 1, :, 0], r[:, 1, :, 1] = -wi, wr
        return r.reshape(2 * n, 2 * n)
    if kind == "twiddle":  # (m, p, 2): exp(sign 2 pi i j1 k1 / n), [k1, j1]
        p, m = k, n // k
        ang = sign * 2 * np.pi * (np.outer(np.arange(m), np.arange(p)) % n) / n
        return np.stack([np.cos(ang), np.sin(ang)], -1)
    j = np.arange(n)
    ang = sign * np.pi * ((j * j) % (2 * n)) / n
    if kind == "chirp":
        return np.stack([np.cos(ang), np.sin(ang)], -1)
    # "chirp_fft": the DFT of conj(chirp) laid out circularly over length k, divided by k (the
    # unnormalized inverse transform of the convolution then needs no scaling)
    b = np.zeros(k, dtype=np.complex128)
    b[:n] = np.exp(-1j * ang)
    b[k - n + 1 :] = np.exp(-1j * ang[1:][::-1])
    f = np.fft.fft(b) / k
    return np.stack([f.real, f.imag], -1)


# -- the kernel for array-library backends ---------------------------------------------------------
def array_kernels(xp: Any) -> dict[str, Any]:
    """``fft_c2c`` on an array namespace with numpy's ``fft`` module and array views (numpy, CuPy):
    the pairs are viewed as complex (no copy), transformed by the library, viewed back as pairs.
    Other namespaces get no kernel (the composite runs)."""
    fft = getattr(xp, "fft", None)
    if fft is None or not hasattr(fft, "fft") or not hasattr(xp, "ascontiguousarray"):
        return {}  # not numpy-like (array_api_strict, PyTorch through array_api_compat): the composite runs

    def fft_c2c(x: Any, axis: int, inverse: bool) -> Any:
        ctype = np.complex64 if x.dtype == np.float32 else np.complex128
        z = xp.ascontiguousarray(x).view(ctype)[..., 0]
        y = fft.ifft(z, axis=axis, norm="forward") if inverse else fft.fft(z, axis=axis)
        y = xp.ascontiguousarray(y.astype(ctype, copy=False))
        return y.view(x.dtype).reshape(x.shape)

    return {"fft_c2c": fft_c2c}
