"""The OpenCL backend's native ``sort`` and ``atan2`` kernels against numpy.

``sort`` is compared with ``numpy.argsort(kind="stable")`` (indices exactly, values bit for bit)
at the sizes where its structure changes: runs of :data:`ember_opencl.sorting.RUN` items in
registers, the work-group's block in local memory (:func:`ember_opencl.sorting.block_size`),
rows of several blocks merged through global memory, non-power-of-two lengths, a 100k-element
row; with ties, NaN of both signs (also at block edges), signed zeros, infinities and integer
extremes, in every dtype. ``atan2`` is compared with ``numpy.arctan2``, eager and fused.
"""

from __future__ import annotations

import ember
import numpy as np
import pytest

try:
    import ember_opencl
    from ember_opencl import sorting
    from ember_opencl.backend import OpenCLBackend

    ember.device("opencl").properties()
except Exception as exc:  # noqa: BLE001 - no pyopencl, no platform, no device
    pytest.skip(f"OpenCL unavailable: {exc}", allow_module_level=True)

ALL = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


@pytest.fixture(scope="module")
def be():
    return OpenCLBackend()


@pytest.fixture(scope="module")
def K(be):
    return be.kernels


def block(be, dt: str) -> int:
    """The block (items sorted in local memory by one work-group) of dtype ``dt`` on opencl:0."""
    wide = np.dtype(dt).itemsize == 8
    return sorting.block_size(be._dev(0), 16 if wide else 8)


def values(shape, dt: str, seed: int = 0, special: bool = True) -> np.ndarray:
    """Random values of ``dt`` with many ties; with ``special``: NaN of both signs, -0.0 and +0.0,
    infinities (floats) or the dtype's extremes (integers) sprinkled in, including at the start
    and the end of the last dim."""
    rng = np.random.default_rng(seed)
    if dt == "bool":
        return rng.random(shape) < 0.5
    if dt.startswith("float"):
        a = rng.integers(-20, 20, size=shape).astype(dt) / 4
        if special and a.size:
            flat = a.reshape(-1)
            n = flat.size
            for value, step in ((np.nan, 7), (-np.nan, 11), (-0.0, 5), (0.0, 6), (np.inf, 13), (-np.inf, 17)):
                flat[rng.integers(0, n, size=max(1, n // step))] = value
            if a.ndim and a.shape[-1]:
                a[..., 0] = np.nan
                a[..., -1] = -0.0
        return a
    info = np.iinfo(dt)
    a = rng.integers(-50, 50, size=shape).astype(dt) if info.min else rng.integers(0, 50, size=shape).astype(dt)
    if special and a.size:
        flat = a.reshape(-1)
        n = flat.size
        flat[rng.integers(0, n, size=max(1, n // 7))] = info.max
        flat[rng.integers(0, n, size=max(1, n // 9))] = info.min
    return a


def check_sort(K, a: np.ndarray, dim: int, x=None) -> None:
    """sort(x, dim) on the device equals numpy's stable argsort of ``a`` (x: a view holding a)."""
    v, i = K["sort"](K["from_numpy"](a, 0) if x is None else x, dim)
    got_i, got_v = K["to_numpy"](i), K["to_numpy"](v)
    want_i = np.argsort(a, axis=dim, kind="stable") if a.ndim else np.zeros((), np.int64)
    want_v = np.take_along_axis(a, want_i, dim) if a.ndim else a.copy()
    assert got_i.dtype == np.int64 and got_i.shape == a.shape
    assert got_v.dtype == a.dtype and got_v.shape == a.shape
    bad = np.flatnonzero(got_i != want_i)
    assert bad.size == 0, f"{a.dtype} {a.shape} dim {dim}: first wrong index at {bad[:5]}"
    # values exactly, the sign of zeros included (a NaN's payload may change in a strided
    # input's contiguous copy)
    assert np.array_equal(got_v, want_v, equal_nan=a.dtype.kind == "f"), f"{a.dtype} {a.shape} dim {dim}"
    if a.dtype.kind == "f":
        assert np.array_equal(np.signbit(got_v), np.signbit(want_v)), f"{a.dtype} {a.shape} dim {dim}: signs"


def test_sort_and_atan2_are_native(be):
    assert "sort" in be.kernels and "atan2" in be.kernels
    x = ember.tensor(np.array([3.0, 1.0, 2.0]), device="opencl")
    assert x.device.kernels.get("sort") is not None
    assert x.device.kernels.get("atan2") is not None


@pytest.mark.parametrize("dt", ALL)
def test_sort_lengths_around_runs_and_blocks(be, K, dt):
    """Row lengths at and next to every power of two where the kernel changes structure."""
    b = block(be, dt)
    run = sorting.RUN
    lengths = {1, 2, 3, run - 1, run, run + 1, 2 * run + 3, 255, 256, 257}
    lengths |= {b - 1, b, b + 1, 2 * b - 1, 2 * b + 1, 4 * b + 5}
    for n, length in enumerate(sorted(lengths)):
        check_sort(K, values((3, length), dt, seed=n), 1)


@pytest.mark.parametrize("dt", ["float32", "float64", "float16", "int64", "int32", "uint8"])
def test_sort_100k_row(K, dt):
    check_sort(K, values((100_000,), dt, seed=1), 0)


def test_sort_ties_in_long_rows(be, K):
    """Rows of several blocks that are all one value, or two values, or all NaN: stability is
    the whole answer (the indices must come out in order)."""
    b = block(be, "float32")
    n = 3 * b + 7
    for a in (
        np.zeros((2, n), np.float32),
        np.full((2, n), np.nan, np.float32),
        np.where(np.arange(n) % 3 == 0, np.float32(1), np.float32(-0.0))[None].repeat(2, 0),
        np.full((2, n), np.iinfo(np.int64).max, np.int64),
    ):
        check_sort(K, a, 1)


def test_sort_nan_at_block_edges(be, K):
    """NaN (both signs) exactly at the first and last place of each block, and +inf beside them:
    NaN after +inf, the NaNs in input order, padding never written."""
    for dt in ("float32", "float64", "float16"):
        b = block(be, dt)
        n = 2 * b + 3
        a = values((2, n), dt, seed=3, special=False)
        for e in range(0, n, b):
            a[:, e] = np.nan
            if e - 1 >= 0:
                a[:, e - 1] = -np.nan
            if e + 1 < n:
                a[:, e + 1] = np.inf
        check_sort(K, a, 1)


def test_sort_integer_extremes(K):
    for dt in ("int8", "int16", "int32", "int64", "uint8"):
        info = np.iinfo(dt)
        a = np.array([info.max, info.min, 0, -1 if info.min else 1, info.max, info.min, 1], dtype=dt)
        check_sort(K, np.tile(a, 300), 0)


@pytest.mark.parametrize("dt", ["float32", "int64", "float16", "bool"])
def test_sort_dims_views_and_edge_shapes(K, dt):
    a = values((4, 5, 6), dt, seed=2)
    for dim in (0, 1, 2, -1, -3):
        check_sort(K, a, dim)
    # many short rows, not a multiple of the rows a work-group takes
    check_sort(K, values((1237, 5), dt, seed=4), 1)
    check_sort(K, values((3, 2500, 2), dt, seed=5), 1)  # long rows with a stride between elements
    # a transposed view, a reversed (negative-stride) view with an offset
    base = values((40, 30), dt, seed=6)
    X = K["from_numpy"](base, 0)
    check_sort(K, base.T, 1, K["as_strided"](X, (30, 40), (1, 30), 0))
    check_sort(K, base[::-1, 2:], 0, K["as_strided"](X, (40, 28), (-30, 1), 39 * 30 + 2))
    # 0-d and empty
    check_sort(K, values((), dt, seed=7), 0)
    for shape, dim in (((0,), 0), ((0, 3), 1), ((3, 0), 1)):
        v, i = K["sort"](K["from_numpy"](values(shape, dt), 0), dim)
        assert K["to_numpy"](v).shape == shape and K["to_numpy"](i).dtype == np.int64


def test_sort_64_bit_indices_and_wide_items(K, monkeypatch):
    """The variants that only rows past 2^30 elements (long indices) or 2^32 items (ulong2 items
    for 8- to 32-bit dtypes) would reach, forced on small rows."""
    monkeypatch.setattr(sorting, "INT_LIMIT", 1)
    for dt in ("float32", "int64"):
        check_sort(K, values((3, 3000), dt, seed=8), 1)
    monkeypatch.setattr(sorting, "PACK_LIMIT", 1)
    for dt in ("float16", "int8", "bool"):
        check_sort(K, values((2, 2500, 3), dt, seed=9), 1)


def test_sort_dim_out_of_range(K):
    with pytest.raises(IndexError, match="opencl sort: dimension 2 out of range for a 2-d array of shape"):
        K["sort"](K["from_numpy"](np.ones((2, 3)), 0), 2)


def test_sort_through_ember_matches_torch_semantics():
    """The public ops on top of the kernel: descending puts NaN first, ties keep their order."""
    a = np.array([[2.0, np.nan, 1.0, 2.0, -0.0, 0.0, np.nan, -np.inf]], np.float32)
    x = ember.tensor(a, device="opencl")
    i = ember.sort(x, descending=True).indices
    assert i.tolist() == [[1, 6, 0, 3, 2, 4, 5, 7]]  # torch.sort(a, descending=True, stable=True)
    assert ember.argsort(x).tolist() == [[7, 4, 5, 2, 0, 3, 1, 6]]


# -- atan2 -------------------------------------------------------------------------------------


def test_atan2_kernel_values_and_broadcast(K):
    rng = np.random.default_rng(0)
    specials = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-30, -3.5])
    for dt, tol in (("float32", 2e-6), ("float64", 1e-14), ("float16", 1e-3)):
        y = np.concatenate([rng.normal(size=200), np.repeat(specials, specials.size)]).astype(dt)
        x = np.concatenate([rng.normal(size=200), np.tile(specials, specials.size)]).astype(dt)
        got = K["to_numpy"](K["atan2"](K["from_numpy"](y, 0), K["from_numpy"](x, 0)))
        want = np.arctan2(y, x)
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)
        # the quadrant of signed zeros, exactly
        zeros = ~np.isnan(want) & (want == 0)
        assert np.array_equal(np.signbit(got[zeros]), np.signbit(want[zeros]))
        # broadcasting, and a 0-d operand (how atan reaches the kernel)
        yb, xb = y[:60].reshape(6, 10), x[:10]
        got = K["to_numpy"](K["atan2"](K["from_numpy"](yb, 0), K["from_numpy"](xb, 0)))
        np.testing.assert_allclose(got, np.arctan2(yb, xb), rtol=tol, atol=tol, equal_nan=True)
        one = K["full"]((), 1.0, getattr(ember, dt), 0)
        got = K["to_numpy"](K["atan2"](K["from_numpy"](y, 0), one))
        np.testing.assert_allclose(got, np.arctan(y), rtol=tol, atol=tol, equal_nan=True)


def test_atan2_fuses():
    previous = ember_opencl.set_fusion("always")
    try:
        a = np.random.default_rng(1).normal(size=(3, 500)).astype(np.float32)
        b = np.random.default_rng(2).normal(size=(3, 500)).astype(np.float32)
        x, y = ember.tensor(a, device="opencl"), ember.tensor(b, device="opencl")
        before = ember_opencl.fusion_stats()
        r = ember.atan2(x * 2.0, y + 1.0) * 3.0
        got = r.numpy()
        after = ember_opencl.fusion_stats()
        assert after["fused_launches"] - before["fused_launches"] == 1
        assert after["fused_ops"] - before["fused_ops"] == 4
        np.testing.assert_allclose(got, np.arctan2(a * 2, b + 1) * 3, rtol=1e-5, atol=1e-6)
    finally:
        ember_opencl.set_fusion(previous)


def test_atan2_float32_within_4_ulp():
    """The inline float32 atan2 (vector body and scalar tail, contiguous and strided) against
    numpy's float64 arctan2 rounded to float32, over magnitudes from 1e-30 to 1e30."""
    rng = np.random.default_rng(5)
    for scale in (1e-30, 1e-3, 1.0, 1e3, 1e30):
        y = (rng.normal(size=10_001) * scale).astype(np.float32)
        x = rng.normal(size=10_001).astype(np.float32)
        Y, X = ember.tensor(y, device="opencl"), ember.tensor(x, device="opencl")
        for got, (yy, xx) in ((ember.atan2(Y, X), (y, x)), (ember.atan2(Y[::3], X[::3]), (y[::3], x[::3]))):
            want = np.arctan2(yy.astype(np.float64), xx.astype(np.float64)).astype(np.float32)
            ulp = np.abs(got.numpy().view(np.int32).astype(np.int64) - want.view(np.int32).astype(np.int64))
            assert ulp.max() <= 4, (scale, int(ulp.max()))
