"""(d) The cpu softmax override: it wins dispatch, and equals the cpu backend's own kernel."""

from __future__ import annotations

from typing import Any

import ember
import numpy as np
import pytest
from ember.registry import registry

from ember_meta import cpu_kernels
from ember_meta.cpu_kernels import softmax, softmax_generic


def _reference(x: np.ndarray, dim: int) -> np.ndarray:
    x64 = x.astype(np.float64)
    e = np.exp(x64 - x64.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def test_override_wins_dispatch_on_cpu() -> None:
    assert ember.dispatch.kernel_source("softmax", "cpu") == ("meta", 10)
    table = registry.load("cpu").kernel_table
    assert table.candidates["softmax"] == [("meta", 10), ("cpu", 0)]
    assert ember.device("cpu").kernels["softmax"] is softmax
    assert ember.dispatch.kernel_source("add", "cpu") == ("cpu", 0)  # nothing else is touched


@pytest.fixture(params=["fast paths forced", "default thresholds"])
def threshold(request: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.param == "fast paths forced":
        monkeypatch.setattr(cpu_kernels, "MIN_BYTES", 0)
        monkeypatch.setattr(cpu_kernels, "BLOCK_BYTES", 64)  # many blocks, and rows wider than a block


SHAPES = [
    ((5,), 0),
    ((3, 7), 1),
    ((3, 7), 0),
    ((4, 5, 6), 2),
    ((4, 5, 6), 1),
    ((4, 5, 6), 0),
    ((2, 1, 300), 2),
    ((300, 3), 1),
    ((1, 1), 1),
]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("shape,dim", SHAPES, ids=[f"{'x'.join(map(str, s))}-dim{d}" for s, d in SHAPES])
def test_equals_the_cpu_backend_kernel(threshold: None, shape: tuple[int, ...], dim: int, dtype: str) -> None:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    got = softmax(x, dim)
    np.testing.assert_array_equal(got, softmax_generic(x, dim))  # same ufuncs, same order
    tol = 1e-3 if dtype == "float16" else 1e-6
    np.testing.assert_allclose(got, _reference(x, dim), rtol=tol, atol=tol)
    assert got.dtype == x.dtype and got.shape == x.shape and got.flags.c_contiguous


def test_special_values_and_layouts(threshold: None) -> None:
    x = np.array(
        [[0.0, np.inf, 1.0], [-np.inf, -np.inf, -np.inf], [np.nan, 1.0, 2.0], [1e30, -1e30, 0]], np.float32
    )
    cases = [
        (x, 0),
        (x, 1),
        (np.ascontiguousarray(x.T).T, 1),
        (x[:, ::-1], 0),
        (np.zeros((0, 3), np.float32), 1),
        (np.zeros((2, 0, 3)), 2),
        (x.astype(np.float64)[None], 2),
    ]
    for arr, dim in cases:
        np.testing.assert_array_equal(softmax(arr, dim), softmax_generic(arr, dim))


def test_large_input_takes_the_fast_path_and_matches_numpy() -> None:
    x = np.random.default_rng(1).standard_normal((1024, 4096)).astype(np.float32)  # 16 MiB
    assert x.nbytes >= cpu_kernels.MIN_BYTES
    got = ember.softmax(ember.from_numpy(x), dim=-1).numpy()
    np.testing.assert_array_equal(got, softmax_generic(x, 1))
    np.testing.assert_allclose(got, _reference(x, 1), rtol=1e-5, atol=1e-7)


def test_autograd_through_the_override() -> None:
    x = ember.tensor(np.random.default_rng(2).standard_normal((3, 5)), requires_grad=True)
    ember.autograd.gradcheck(lambda t: ember.softmax(t, 1), (x,), eps=1e-6, atol=1e-5, rtol=1e-3)
