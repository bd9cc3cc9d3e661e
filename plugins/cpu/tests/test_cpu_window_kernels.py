"""The cpu backend's window kernels (``max_pool2d``, ``max_pool2d_backward``, ``fold2d``): the C
loops and the numpy passes that replace them (other dtypes, no C compiler) give the same bits, on
strided inputs, padding, dilation, ceil-mode sizes, overlapping windows, NaN and -inf."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from ember_cpu import im2col, native, pooling

pytestmark = pytest.mark.skipif(
    native.library() is None, reason=f"the native loops are not available here: {native.status()}"
)

#: (kernel, stride, padding, dilation, (oh, ow)) for a 7 x 9 input
CASES = [
    ((2, 2), (2, 2), (0, 0), (1, 1), (3, 4)),
    ((2, 2), (2, 2), (0, 0), (1, 1), (4, 5)),  # ceil_mode: the last windows run past the input
    ((3, 3), (2, 2), (1, 1), (1, 1), (4, 5)),  # ceil_mode's extra window: (7 + 2 - 3 + 1) // 2 + 1
    ((3, 2), (1, 2), (1, 1), (2, 1), (5, 5)),
    ((2, 3), (1, 1), (0, 1), (1, 2), (6, 7)),
]


def _input(dtype: str, strided: bool) -> np.ndarray:
    rng = np.random.default_rng(5)
    x = np.maximum(rng.standard_normal((2, 3, 7, 9)), 0).astype(dtype)  # ties at zero
    x[0, 0, 1, 1] = x[0, 0, 1, 2] = x[1, 2, 6, 8] = np.nan
    x[1, 1, 0, :] = -np.inf
    if strided:
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)  # channels last
    return x


def _without_loops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native, "library", lambda: None)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("strided", [False, True])
def test_max_pool_loops_equal_numpy_passes(case: Any, strided: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    x = _input("float32", strided)
    values, idx = pooling.max_pool2d(x, *case)
    g = np.random.default_rng(6).standard_normal(values.shape).astype(np.float32)
    gx = pooling.max_pool2d_backward(g, idx, x.shape[2:])
    _without_loops(monkeypatch)
    v2, i2 = pooling.max_pool2d(x, *case)
    assert values.tobytes() == v2.tobytes() and np.array_equal(idx, i2)
    assert gx.tobytes() == pooling.max_pool2d_backward(g, i2, x.shape[2:]).tobytes()


def test_max_pool_backward_refuses_foreign_indices() -> None:
    g = np.ones((1, 1, 2, 2), np.float32)
    with pytest.raises(IndexError, match="max_pool2d_backward: an index is outside the input plane of 3 x 3"):
        pooling.max_pool2d_backward(g, np.array([[[[0, 1], [2, 9]]]]), (3, 3))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fold_loop_equals_numpy_adds(case: Any, dtype: str, monkeypatch: pytest.MonkeyPatch) -> None:
    k, s, _, d, (oh, ow) = case
    h, w = (oh - 1) * s[0] + (k[0] - 1) * d[0] + 1, (ow - 1) * s[1] + (k[1] - 1) * d[1] + 2
    g = np.random.default_rng(7).standard_normal((2, 3, *k, oh, ow)).astype(dtype)
    got = im2col.fold2d(g, (2, 3, h, w), (oh, ow), k, s, d)
    _without_loops(monkeypatch)
    assert got.tobytes() == im2col.fold2d(g, (2, 3, h, w), (oh, ow), k, s, d).tobytes()


def test_fold_checks_its_shapes() -> None:
    g = np.zeros((1, 1, 3, 3, 4, 4), np.float32)
    with pytest.raises(
        ValueError, match=r"fold2d: the window gradient has shape \(1, 1, 3, 3, 4, 4\), expected"
    ):
        im2col.fold2d(g, (1, 2, 6, 6), (4, 4), (3, 3), (1, 1), (1, 1))
    with pytest.raises(ValueError, match="fold2d: windows of"):
        im2col.fold2d(g, (1, 1, 5, 6), (4, 4), (3, 3), (1, 1), (1, 1))


@pytest.mark.parametrize("loops", [True, False])
def test_window_gradients_write_a_given_buffer_whole(loops: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """``out=`` (a compiled plan's buffer, holding the last replay's values): fold2d and
    max_pool2d_backward overwrite every element, with the bits of their fresh results; a buffer
    of another shape, dtype or layout is refused by name."""
    if not loops:
        _without_loops(monkeypatch)
    k, s, p, d, (oh, ow) = CASES[2]
    x = _input("float32", False)
    _, idx = pooling.max_pool2d(x, k, s, p, d, (oh, ow))
    g = np.random.default_rng(8).standard_normal(idx.shape).astype(np.float32)
    fresh = pooling.max_pool2d_backward(g, idx, (7, 9))
    stale = np.full((2, 3, 7, 9), np.nan, np.float32)
    assert pooling.max_pool2d_backward(g, idx, (7, 9), out=stale) is stale
    assert stale.tobytes() == fresh.tobytes()
    transposed = np.empty((2, 3, 9, 7), np.float32).transpose(0, 1, 3, 2)
    with pytest.raises(ValueError, match=r"max_pool2d_backward: out must be a C-contiguous float32 array"):
        pooling.max_pool2d_backward(g, idx, (7, 9), out=transposed)
    gw = np.random.default_rng(9).standard_normal((2, 3, 3, 3, 4, 4)).astype(np.float32)
    fresh = im2col.fold2d(gw, (2, 3, 6, 6), (4, 4), (3, 3), (1, 1), (1, 1))
    stale = np.full((2, 3, 6, 6), np.nan, np.float32)
    assert im2col.fold2d(gw, (2, 3, 6, 6), (4, 4), (3, 3), (1, 1), (1, 1), out=stale) is stale
    assert stale.tobytes() == fresh.tobytes()
    wanted = r"fold2d: out must be a C-contiguous float32 array of shape \(2, 3, 6, 6\), got float64"
    with pytest.raises(ValueError, match=wanted):
        im2col.fold2d(gw, (2, 3, 6, 6), (4, 4), (3, 3), (1, 1), (1, 1), out=np.empty((2, 3, 6, 6)))
