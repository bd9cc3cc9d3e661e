"""ember.array_backend: the kernels on the array API standard, the fast paths chosen by feature, and
the standard-only parts (StridedArray views, erf, scatter_add) against numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ember.array_backend import (
    ArrayBackend,
    StridedArray,
    array_kernels,
    numpy_erf,
    numpy_random_bits,
    standard_erf,
    standard_namespace,
)

strict = pytest.importorskip("array_api_strict", reason="array-api-strict is in the test extra")


@pytest.fixture(scope="module")
def sk() -> dict:
    """The kernel table on array_api_strict (StridedArray buffers)."""
    return array_kernels(strict)


def test_fast_paths_are_chosen_by_what_the_namespace_offers(sk: dict) -> None:
    nk = array_kernels(np, lambda x: x, lambda a, i: a, numpy_erf(), numpy_random_bits)
    assert type(nk["from_numpy"](np.ones(2), 0)) is np.ndarray  # numpy's own strided views
    assert nk["scatter_add"].__name__ == "scatter_add_at"  # ufunc.at
    assert nk["add"](np.float32(1), np.float32(2)).shape == ()  # 0-d results stay arrays
    assert "linalg_lu_factor" in nk and "linalg_lu_factor" not in sk  # numpy-family extras only there
    assert sk["scatter_add"].__name__ == "scatter_add_sorted"
    assert type(sk["from_numpy"](np.ones(2), 0)) is StridedArray
    assert standard_namespace(np) is np and standard_namespace(strict) is strict
    with pytest.raises(TypeError, match=r"math does not declare __array_api_version__ .* array-api-compat"):
        standard_namespace(math)


def test_strided_array_views_write_through_to_their_base(sk: dict) -> None:
    base = sk["from_numpy"](np.arange(12.0), 0)
    # a flipped, strided 2x3 view (negative and gapped strides), written and read back
    view = sk["as_strided"](base, (2, 3), (-6, 2), 7)
    assert sk["strides"](view) == (-6, 2)
    np.testing.assert_array_equal(sk["to_numpy"](view), [[7, 9, 11], [1, 3, 5]])
    sk["copy_"](view, sk["from_numpy"](np.array([[-1.0, -2, -3], [-4, -5, -6]]), 0))
    want = np.arange(12.0)
    want[[7, 9, 11, 1, 3, 5]] = [-1, -2, -3, -4, -5, -6]
    np.testing.assert_array_equal(sk["to_numpy"](base), want)
    # a contiguous row view: a kernel reads the new values, and its result is a fresh buffer
    row = sk["as_strided"](base, (4,), (1,), 8)
    out = sk["add"](row, 1.0)
    sk["copy_"](row, sk["from_numpy"](np.zeros(4), 0))
    np.testing.assert_array_equal(sk["to_numpy"](out), want[8:] + 1)
    np.testing.assert_array_equal(sk["to_numpy"](base)[8:], 0)


def test_standard_erf_matches_math_erf() -> None:
    x = np.concatenate([np.linspace(-7, 7, 2801), [0.0, 1e-300, 2.5, -2.5, np.inf, -np.inf]])
    want = np.array([math.erf(v) for v in x])
    for dtype, atol in (("float64", 1e-14), ("float32", 5e-6)):
        got = strict_to_numpy(standard_erf(strict)(strict.asarray(x.astype(dtype))))
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=0, atol=atol)
    assert np.isnan(strict_to_numpy(standard_erf(strict)(strict.asarray([np.nan])))).all()


def test_standard_scatter_add_sums_repeated_positions_as_numpy(sk: dict) -> None:
    rng = np.random.default_rng(0)
    index = rng.integers(0, 3, (5, 4))  # up to 5 writes per position along dim 0
    for dtype in ("float64", "int8", "bool"):
        x = rng.integers(0, 2, (3, 6)).astype(dtype)
        src = rng.integers(-60 if dtype == "int8" else 0, 60 if dtype == "int8" else 2, (5, 4)).astype(dtype)
        want = x.copy()
        cols = np.broadcast_to(np.arange(4), index.shape)
        np.add.at(want, (index, cols), src)  # int8 wraps around, bool is logical or
        x_, index_, src_ = (sk["from_numpy"](a, 0) for a in (x, index, src))
        got = sk["scatter_add"](x_, 0, index_, src_)
        np.testing.assert_array_equal(sk["to_numpy"](got), want)


def test_bool_operands_take_their_logical_forms_where_the_standard_refuses_them(sk: dict) -> None:
    a, b = np.array([True, True, False, False]), np.array([True, False, True, False])
    ta, tb = sk["from_numpy"](a, 0), sk["from_numpy"](b, 0)
    for name, want in (("add", a | b), ("mul", a & b), ("lt", a < b), ("le", a <= b), ("maximum", a | b)):
        np.testing.assert_array_equal(sk["to_numpy"](sk[name](ta, tb)), want, err_msg=name)
    assert sk["to_numpy"](sk["sum"](ta, (0,), False)).item() is True
    np.testing.assert_array_equal(sk["to_numpy"](sk["sort"](tb, 0)[0]), np.sort(b))


def test_array_backend_device_queries() -> None:
    class Strict(ArrayBackend):
        device_type = "strict-test"

    backend = Strict(strict)
    assert backend.native_type() is StridedArray
    assert not backend.supports_dtype(np.dtype("float16"), 0)  # the standard has no float16
    assert backend.supports_dtype(np.dtype("float32"), 0)


def strict_to_numpy(x: object) -> np.ndarray:
    return np.from_dlpack(x).copy()
