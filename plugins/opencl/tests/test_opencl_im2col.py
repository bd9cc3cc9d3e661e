"""The OpenCL ``fold2d`` kernel (:mod:`ember_opencl.im2col`, the convolution's col2im), in both
schedules (planes per work-item, a CPU device's; a gather per element, other devices'), against
core's composite on the same device (one strided add per kernel position, from zero): bit for
bit on overlapping windows, strides, dilation, gaps the windows skip, every floating dtype
(float16 and bfloat16 round after every add, as the composite's stores do) and integer dtypes;
against ``torch.nn.functional.fold`` too; and its refusals."""

from __future__ import annotations

import itertools
from typing import Any

import ember
import ember.nn.functional as F
import numpy as np
import pytest
import torch
from ember.nn.functional import convolution
from ember.ops._core import _make

try:
    from ember_opencl import im2col

    DEV = ember.device("opencl")
    DEV.properties()
except Exception as exc:  # noqa: BLE001 - no pyopencl, no platform, no device
    pytest.skip(f"OpenCL unavailable: {exc}", allow_module_level=True)

#: (kernel, stride, dilation, (oh, ow)); the input is one row and two columns larger than the
#: windows reach, so some elements take no window
CASES = [
    ((3, 3), (1, 1), (1, 1), (6, 6)),  # the convolution's: overlapping windows
    ((2, 2), (2, 2), (1, 1), (3, 4)),  # tiling windows
    ((3, 2), (1, 2), (2, 1), (5, 5)),
    ((2, 3), (1, 1), (1, 2), (6, 7)),
    ((3, 3), (2, 2), (1, 1), (4, 5)),  # rows and columns the stride skips
]
DTYPES = ["float32", "float64", "float16", "bfloat16", "int32", "int64", "uint8", "int8"]


def _window_gradient(dtype: str, shape: tuple[int, ...]) -> ember.Tensor:
    rng = np.random.default_rng(3)
    if dtype in ("float32", "float64", "float16", "bfloat16"):
        values = rng.standard_normal(shape).astype(np.float32)
    else:
        values = rng.integers(0, 40, shape)
    return ember.tensor(values, device=DEV).to(getattr(ember, dtype))


def _bits(t: ember.Tensor) -> bytes:
    return np.asarray(t.cpu()._data).tobytes()


@pytest.mark.parametrize("schedule", ["planes", "gather"])
@pytest.mark.parametrize("case,dtype", list(itertools.product(CASES, DTYPES)))
def test_fold_kernel_equals_the_composite_bitwise(
    case: Any, dtype: str, schedule: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(im2col, "SCHEDULE", schedule)
    k, s, d, (oh, ow) = case
    h, w = (oh - 1) * s[0] + (k[0] - 1) * d[0] + 2, (ow - 1) * s[1] + (k[1] - 1) * d[1] + 3
    # 5 x 3 planes: with PLANE_ITEMS of 4, the plane schedule's last work-item takes a partial run
    monkeypatch.setattr(im2col, "PLANE_ITEMS", 4)
    g = _window_gradient(dtype, (5, 3, *k, oh, ow))
    got = _make(im2col.fold2d(g._data, (5, 3, h, w), (oh, ow), k, s, d), (5, 3, h, w), g.dtype, g.device)
    kernels = g.device.kernels
    kernel = kernels.pop("fold2d")
    try:
        want = convolution._fold_raw(g, (5, 3, h, w), (oh, ow), k, s, d, False)
    finally:
        kernels["fold2d"] = kernel
    assert _bits(got) == _bits(want)


def test_fold_matches_torch() -> None:
    """F.fold (through the kernel) on opencl against torch's fold, float64."""
    rng = np.random.default_rng(4)
    cols = rng.standard_normal((2, 3 * 3 * 2, 20))
    want = torch.nn.functional.fold(torch.tensor(cols), (6, 7), (3, 2), dilation=(1, 2), stride=(1, 1))
    got = F.fold(ember.tensor(cols, device=DEV), (6, 7), (3, 2), dilation=(1, 2), stride=(1, 1))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


def test_fold_kernel_refusals() -> None:
    g = _window_gradient("float32", (1, 1, 3, 3, 4, 4))
    with pytest.raises(ValueError, match=r"fold2d: the window gradient must be a contiguous array of shape"):
        im2col.fold2d(g._data, (1, 2, 6, 6), (4, 4), (3, 3), (1, 1), (1, 1))
    with pytest.raises(ValueError, match="fold2d: windows of"):
        im2col.fold2d(g._data, (1, 1, 5, 6), (4, 4), (3, 3), (1, 1), (1, 1))
    z = ember.zeros((1, 1, 3, 3, 4, 4), dtype=ember.complex64, device=DEV)
    with pytest.raises(TypeError, match="fold2d: the opencl kernel takes float16, float32"):
        im2col.fold2d(z._data, (1, 1, 6, 6), (4, 4), (3, 3), (1, 1), (1, 1))
