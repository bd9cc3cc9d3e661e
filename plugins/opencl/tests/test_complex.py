"""complex64 / complex128 on the OpenCL backend against numpy: the functions at special values,
multiply and divide where a naive formula overflows, strided and broadcast inputs, casts, the
part kernels, reductions, both matmul paths, scalars and the fused path."""

from __future__ import annotations

import math

import ember
import numpy as np
import pytest

try:
    import ember_opencl
    from ember_opencl import linalg

    DEV = ember.device("opencl")
    DEV.properties()
except Exception as exc:  # noqa: BLE001 - no pyopencl, no platform, no device
    pytest.skip(f"OpenCL unavailable: {exc}", allow_module_level=True)

pytestmark = [
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),  # numpy's own inf / NaN warnings
    pytest.mark.filterwarnings("ignore:Casting complex values to real:UserWarning"),
]

FP64 = DEV.backend.supports_dtype(ember.float64, DEV.index)
DTYPES = [np.complex64, pytest.param(np.complex128, marks=pytest.mark.skipif(not FP64, reason="no fp64"))]
INF, NAN = math.inf, math.nan
# every pairing of the special parts: the cases C99 Annex G (and numpy through the C library) settles
_PARTS = (0.0, -0.0, 1.5, -2.0, INF, -INF, NAN)
SPECIALS = np.array([complex(r, i) for r in _PARTS for i in _PARTS])


def rand(rng, *shape, dtype=np.complex64, scale=2.0):
    return ((rng.random(shape) - 0.5) * scale + 1j * (rng.random(shape) - 0.5) * scale).astype(dtype)


def cl(a):
    return ember.tensor(a, device="opencl")


def close(got, want, dtype):
    """Equal as numpy's assert_allclose has it, part by part: NaN where numpy has NaN, the same
    infinities, finite parts to the dtype's tolerance."""
    rtol = 2e-5 if np.dtype(dtype) == np.complex64 else 1e-12
    got, want = np.asarray(got), np.asarray(want)
    for part in (np.real, np.imag):
        np.testing.assert_allclose(part(got), part(want).astype(part(got).dtype), rtol=rtol, atol=rtol)


def test_supports_dtype_follows_fp64():
    assert DEV.backend.supports_dtype(ember.complex64, DEV.index)
    assert DEV.backend.supports_dtype(ember.complex128, DEV.index) == FP64


@pytest.mark.parametrize("dtype", DTYPES)
def test_functions_match_numpy_with_special_values(dtype):
    """exp, log, sqrt, sin, cos, tanh, abs, neg and conj at random values and at every pairing
    of 0, -0, finite, +-inf and NaN parts; abs is real."""
    rng = np.random.default_rng(0)
    a = np.concatenate([rand(rng, 40, dtype=dtype, scale=6.0), SPECIALS.astype(dtype)])
    x = cl(a)
    for name, ref in (
        ("exp", np.exp),
        ("log", np.log),
        ("sqrt", np.sqrt),
        ("sin", np.sin),
        ("cos", np.cos),
        ("tanh", np.tanh),
        ("neg", np.negative),
        ("conj", np.conj),
    ):
        got = getattr(ember, name)(x)
        assert got.dtype == x.dtype, name
        close(got.numpy(), ref(a), dtype)
    m = ember.abs(x)
    assert m.dtype == x.dtype.to_real()
    np.testing.assert_allclose(m.numpy(), np.abs(a), rtol=2e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_large_and_small_arguments(dtype):
    """exp past the overflow of e^x where cos / sin keep the result finite, log of huge and
    subnormal moduli and near the unit circle, sqrt near the overflow threshold, tanh of large
    real parts, pow by integer and non-integer exponents."""
    big = 1e300 if dtype == np.complex128 else 1e37
    tiny = 1e-310 if dtype == np.complex128 else 1e-40
    lim = 709.5 if dtype == np.complex128 else 88.5
    a = np.array(
        [lim + 2j, lim + 0.5 + 3j, -lim - 1j, big + big * 1j, -big + big * 1j, tiny + tiny * 1j,
         0.6 + 0.8j, 1.0000001 + 1e-4j, 30 + 2j, -30 - 1j, 400 + 0.5j],
        dtype=dtype,
    )  # fmt: skip
    x = cl(a)
    close(ember.exp(x[:3]).numpy(), np.exp(a[:3]), dtype)
    close(ember.log(x).numpy(), np.log(a), dtype)
    close(ember.sqrt(x).numpy(), np.sqrt(a), dtype)
    close(ember.tanh(x[6:]).numpy(), np.tanh(a[6:]), dtype)
    b = a[6:9]
    for e in (2, 3, -2, 5, 0.5, 1.5 - 0.5j):
        close((cl(b) ** e).numpy(), b**e, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_multiply_and_divide(dtype):
    """Division by Smith's algorithm: operands whose squared moduli overflow (or underflow)
    divide as numpy does; division by zero gives numpy's inf / NaN; products and quotients of
    random values and special values; z * conj(z) is exactly real (no contracted residue)."""
    rng = np.random.default_rng(1)
    big = 1e300 if dtype == np.complex128 else 1e30
    tiny = 1e-300 if dtype == np.complex128 else 1e-30
    n = np.array([big + big * 1j, 3 - big * 1j, tiny - tiny * 1j, 1 + 1j, 1 - 1j, 0j, 2 + 0j], dtype=dtype)
    d = np.array(
        [big - big * 1j, big + 0.5 * big * 1j, tiny + 2 * tiny * 1j, 0j, 0.0 + 0j, 0j, 1e-3 + 4j], dtype=dtype
    )
    close((cl(n) / cl(d)).numpy(), n / d, dtype)
    a, b = rand(rng, 30, dtype=dtype, scale=10.0), rand(rng, 30, dtype=dtype, scale=10.0)
    s = SPECIALS.astype(dtype)
    close((cl(a) * cl(b)).numpy(), a * b, dtype)
    close((cl(a) / cl(b)).numpy(), a / b, dtype)
    close((cl(s) / cl(a[:1])).numpy(), s / a[:1], dtype)
    close((cl(a[:1]) * cl(s)).numpy(), a[:1] * s, dtype)
    x = cl(a)
    assert not np.any((x * ember.conj(x)).numpy().imag)


@pytest.mark.parametrize("dtype", DTYPES)
def test_strided_and_broadcast_inputs(dtype):
    """Transposed and negative-stride views and broadcasts through the map, copy, reduction
    and matmul kernels."""
    rng = np.random.default_rng(2)
    a, b = rand(rng, 5, 7, dtype=dtype), rand(rng, 7, dtype=dtype)
    x = cl(a)
    t, f = x.t(), ember.flip(x, (0, 1))
    close(ember.exp(t).numpy(), np.exp(a.T), dtype)
    close((f * cl(b)).numpy(), a[::-1, ::-1] * b, dtype)
    close((t / (1 + 2j)).numpy(), a.T / (1 + 2j), dtype)
    close(((2 - 1j) - f).numpy(), (2 - 1j) - a[::-1, ::-1], dtype)
    close(t.contiguous().numpy(), a.T, dtype)
    close(f.sum(0).numpy(), a[::-1, ::-1].sum(0), dtype)
    close((t @ f).numpy(), a.T @ a[::-1, ::-1], dtype)
    close(ember.where(cl(a.real > 0), x, 1j).numpy(), np.where(a.real > 0, a, 1j), dtype)
    y = ember.zeros((7, 5), dtype=x.dtype, device=DEV)
    y[:, 1:4] = t[:, 1:4]
    want = np.zeros((7, 5), dtype)
    want[:, 1:4] = a.T[:, 1:4]
    close(y.numpy(), want, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_casts(dtype):
    """Real and integer to complex (imaginary part 0), complex to real (the real part, numpy's
    astype), to bool (either part nonzero) and between the complex dtypes."""
    ed = ember.dtypes.as_dtype(np.dtype(dtype).name)
    r = np.array([-1.5, 0.0, 2.5, INF, NAN], np.float32)
    close(cl(r).to(ed).numpy(), r.astype(dtype), dtype)
    i = np.array([-3, 0, 7], np.int64)
    close(cl(i).to(ed).numpy(), i.astype(dtype), dtype)
    c = np.array([1.5 - 2j, 0j, -0.0 + 3j, 2.75 + 0j], dtype)
    x = cl(c)
    np.testing.assert_array_equal(x.to(ember.float32).numpy(), c.real.astype(np.float32))
    np.testing.assert_array_equal(x.to(ember.int32).numpy(), c.real.astype(np.int32))
    # (the cast kernel itself: bool tests both parts, as numpy's astype and PyTorch's to(bool))
    np.testing.assert_array_equal(
        DEV.kernels["to_numpy"](DEV.kernels["cast"](x._data, ember.bool_)), c.astype(bool)
    )
    other = ember.complex64 if ed is ember.complex128 else ember.complex128
    if other is ember.complex64 or FP64:
        close(x.to(other).to(ed).numpy(), c, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_parts_keep_infinities(dtype):
    """real / imag / complex move each part as it is (inf * 1j would be NaN), broadcasting."""
    s = SPECIALS.astype(dtype)
    x = cl(s)
    np.testing.assert_array_equal(ember.real(x).numpy(), s.real)
    np.testing.assert_array_equal(ember.imag(x).numpy(), s.imag)
    rdt = np.float64 if dtype == np.complex128 else np.float32
    re, im = np.array([INF, -1.0, NAN], rdt), np.array([[0.0], [-INF]], rdt)
    z = ember.complex(cl(re), cl(im)).numpy()
    assert z.dtype == dtype
    np.testing.assert_array_equal(z.real, np.broadcast_to(re, (2, 3)))
    np.testing.assert_array_equal(z.imag, np.broadcast_to(im, (2, 3)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_reductions(dtype):
    """sum, prod and mean over dims (complex multiply in prod), an empty prod, cumsum."""
    rng = np.random.default_rng(3)
    a = rand(rng, 3, 4, 5, dtype=dtype)
    x = cl(a)
    close(x.sum().numpy(), a.sum(), dtype)
    close(x.sum((0, 2)).numpy(), a.sum((0, 2)), dtype)
    close(x.prod(1).numpy(), a.prod(1), dtype)
    close(x.mean(-1).numpy(), a.mean(-1), dtype)
    close(ember.cumsum(x, 1).numpy(), np.cumsum(a, 1), dtype)
    close(cl(a[:, :0]).prod(1).numpy(), np.ones((3, 5), dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_both_paths(dtype):
    """Small products run one complex kernel, large ones four real products of the parts; both
    equal numpy's, batched, with a transposed operand."""
    rng = np.random.default_rng(4)
    for n, k, m in ((3, 5, 2), (40, 33, 36)):
        assert (n * k * m >= linalg.COMPLEX_BY_PARTS) == (n == 40)
        a, b = rand(rng, 2, n, k, dtype=dtype), rand(rng, m, k, dtype=dtype)
        got = (cl(a) @ cl(b).transpose(-1, -2)).numpy()
        np.testing.assert_allclose(got, a @ b.T, rtol=1e-4 if dtype == np.complex64 else 1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_chains(dtype):
    """Under fusion the chain runs as one generated kernel (complex scalars as kernel arguments)
    and equals numpy; abs of a pending complex array is real and computed eagerly."""
    rng = np.random.default_rng(5)
    a, b = rand(rng, 300, dtype=dtype), rand(rng, 300, dtype=dtype)
    old = ember_opencl.set_fusion("always")
    try:
        before = ember_opencl.fusion_stats()["fused_launches"]
        x, y = cl(a), cl(b)
        z = ember.exp(x * y + (0.5 - 1j)) / ember.conj(x) - 2.0
        m = ember.abs(x * y)
        close(z.numpy(), np.exp(a * b + (0.5 - 1j)) / np.conj(a) - 2.0, dtype)
        np.testing.assert_allclose(m.numpy(), np.abs(a * b), rtol=2e-6)
        assert ember_opencl.fusion_stats()["fused_launches"] > before
    finally:
        ember_opencl.set_fusion(old)
