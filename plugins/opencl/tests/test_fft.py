"""The OpenCL backend's ``fft_c2c`` kernel (Stockham passes, :mod:`ember_opencl.fft`) against
numpy.fft in float64.

Every length 1..1024 (each butterfly radix alone and mixed, the generic pass for prime factors
17..61, Bluestein above), batches along the other axes on either side of the transformed one, and
both directions. float32 results stay within a bound that grows with log2(n) of numpy's float64
result; float64 within 1e-12 relative.
"""

from __future__ import annotations

import math

import ember
import numpy as np
import pytest

try:
    from ember_opencl import fft as cl_fft

    ember.device("opencl").properties()
except Exception as exc:  # noqa: BLE001 - no pyopencl, no platform, no device
    pytest.skip(f"OpenCL unavailable: {exc}", allow_module_level=True)

RNG = np.random.default_rng(2)
EPS32 = float(np.finfo(np.float32).eps)


def run(z: np.ndarray, axis: int, inverse: bool, dtype: str) -> np.ndarray:
    """fft_c2c on opencl for complex ``z`` as pairs of ``dtype``; the result as complex128."""
    pairs = np.ascontiguousarray(np.stack([z.real, z.imag], -1), dtype=dtype)
    x = ember.tensor(pairs, device="opencl")
    y = ember.device("opencl").kernels["fft_c2c"](x._data, axis, inverse)
    out = ember.ops._core._make(y, x.shape, x.dtype, x.device).numpy()
    return out[..., 0] + 1j * out[..., 1]


def check(z: np.ndarray, axis: int, inverse: bool, dtype: str) -> None:
    n = z.shape[axis]
    want = np.fft.ifft(z, axis=axis) * n if inverse else np.fft.fft(z, axis=axis)
    got = run(z, axis, inverse, dtype)
    scale = np.abs(want).max() or 1.0
    bound = 4 * EPS32 * max(1.0, math.log2(n)) if dtype == "float32" else 1e-12
    err = np.abs(got - want).max() / scale
    assert err <= bound, (n, axis, inverse, dtype, err, bound, cl_fft.radices(n))


def test_every_length_to_1024_float32() -> None:
    """Every length 1..1024 (every plan: butterflies alone and mixed, the generic pass, Bluestein),
    a batch of 2 lines, forward for even lengths and inverse for odd ones."""
    plans = set()
    for n in range(1, 1025):
        p = cl_fft.radices(n)
        big = p[-1] if p else 1
        plans.add("bluestein" if big > cl_fft.BLUESTEIN_ABOVE else "generic" if big > 13 else "butterflies")
        check(RNG.standard_normal((2, n)) + 1j * RNG.standard_normal((2, n)), 1, n % 2 == 1, "float32")
    assert plans == {"butterflies", "generic", "bluestein"}


@pytest.mark.parametrize("n", [1, 12, 17, 64, 97, 1024])
def test_batches_along_any_axis_float64(n: int) -> None:
    """The transformed axis first, in the middle and last, with batch dims on both sides."""
    if not ember.device("opencl").backend.supports_dtype(ember.float64, 0):
        pytest.skip("the OpenCL device has no fp64")
    for shape, axis in (((n, 3), 0), ((2, n, 3), 1), ((2, 3, n), 2)):
        z = RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)
        for inverse in (False, True):
            check(z, axis, inverse, "float64")


def test_input_views_and_empty_batches() -> None:
    """A strided view is made contiguous first; an empty batch gives an empty result."""
    z = RNG.standard_normal((4, 24)) + 1j * RNG.standard_normal((4, 24))
    pairs = np.stack([z.real, z.imag], -1).astype(np.float32)
    x = ember.tensor(pairs, device="opencl")[1:3]  # offset view
    y = ember.device("opencl").kernels["fft_c2c"](x._data, 1, False)
    got = ember.ops._core._make(y, x.shape, x.dtype, x.device).numpy()
    np.testing.assert_allclose(got[..., 0] + 1j * got[..., 1], np.fft.fft(z[1:3]), rtol=1e-5, atol=1e-4)
    e = ember.zeros((0, 8, 2), device="opencl")
    assert ember.device("opencl").kernels["fft_c2c"](e._data, 1, False).shape == (0, 8, 2)
