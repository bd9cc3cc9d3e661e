"""The OpenCL ``max_pool2d`` and ``max_pool2d_backward`` kernels (:mod:`ember_opencl.pooling`)
against PyTorch: values, int64 indices and gradients bit for bit, on windows with NaNs (the last
one wins), all -inf windows beside the padding (their first in-bounds element), ties after a
ReLU (the first maximum), overlapping windows (gradients summed), ceil_mode, dilation,
non-contiguous inputs, every floating dtype and an empty batch."""

from __future__ import annotations

from typing import Any

import ember
import ember.nn.functional as F
import numpy as np
import pytest
import torch

try:
    from ember_opencl import pooling

    DEV = ember.device("opencl")
    DEV.properties()
except Exception as exc:  # noqa: BLE001 - no pyopencl, no platform, no device
    pytest.skip(f"OpenCL unavailable: {exc}", allow_module_level=True)

DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16, "bfloat16": torch.bfloat16}


def _input(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """float32 values with ties (a ReLU's zeros), two NaNs in one window region, an all -inf
    first row (windows over it and the top padding hold only -inf) and an all -inf plane."""
    rng = np.random.default_rng(seed)
    x = np.maximum(rng.standard_normal(shape), 0).astype(np.float32)
    x[0, 0, 1, 1] = x[0, 0, 2, 2] = np.nan
    x[-1, -1, 0, :] = -np.inf
    x[0, -1] = -np.inf
    return x


def _pair(
    x: np.ndarray, dtype: str, args: tuple, kwargs: dict[str, Any], grad_seed: int = 1
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(values, indices, input gradient) of ember on opencl and of torch, as float32/int64 numpy."""
    tx = torch.tensor(x).to(DTYPES[dtype]).requires_grad_(True)
    tv, ti = torch.nn.functional.max_pool2d(tx, *args, return_indices=True, **kwargs)
    g = np.random.default_rng(grad_seed).standard_normal(tuple(tv.shape)).astype(np.float32)
    tg = torch.tensor(g).to(DTYPES[dtype])
    tv.backward(tg)
    ex = ember.tensor(tx.detach().float().numpy(), device=DEV).to(getattr(ember, dtype)).requires_grad_(True)
    ev, ei = F.max_pool2d(ex, *args, return_indices=True, **kwargs)
    ev.backward(ember.tensor(tg.float().numpy(), device=DEV).to(getattr(ember, dtype)))
    got = [ev.detach().float().numpy(), ei.numpy(), ex.grad.float().numpy()]
    want = [tv.detach().float().numpy(), ti.numpy(), tx.grad.float().numpy()]
    return got, want


def _assert_equal(got: list[np.ndarray], want: list[np.ndarray]) -> None:
    for name, a, b in zip(("values", "indices", "gradient"), got, want):
        assert a.shape == b.shape, (name, a.shape, b.shape)
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_the_kernels_are_the_backends() -> None:
    assert DEV.kernels["max_pool2d"] is pooling.max_pool2d
    assert DEV.kernels["max_pool2d_backward"] is pooling.max_pool2d_backward


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((3, 2, 1), {"ceil_mode": True}),  # overlapping windows, padding, a partial last window
        ((3, 1, 1), {}),  # stride 1: each element in up to 9 windows, their gradients summed
        (((3, 2), (2, 1), (1, 0), 2), {}),  # dilation, rectangular windows
        ((2,), {"ceil_mode": True}),  # the digits CNN's pooling, on an odd size
    ],
)
def test_nan_inf_ties_and_overlaps_equal_torch(args: tuple, kwargs: dict[str, Any]) -> None:
    _assert_equal(*_pair(_input((2, 3, 7, 9)), "float32", args, kwargs))


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
def test_other_floating_dtypes_equal_torch(dtype: str) -> None:
    if dtype == "float64" and not DEV.properties()["fp64"]:
        pytest.skip("this OpenCL device has no cl_khr_fp64: float64 tensors cannot live on it")
    _assert_equal(*_pair(_input((2, 2, 6, 7)), dtype, (3, 2, 1), {"ceil_mode": True}))


def test_the_64_bit_index_programs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The programs arrays past 2**30 elements get (long coordinates, 4 lanes), run here on a small
    input: values, indices and gradients as torch's."""
    monkeypatch.setattr(pooling, "index_type", lambda *arrays: "long")
    _assert_equal(*_pair(_input((2, 3, 7, 9)), "float32", (3, 2, 1), {"ceil_mode": True}))


@pytest.mark.parametrize("view", ["channels_last", "offset_and_step"])
def test_non_contiguous_input(view: str) -> None:
    """The kernel reads the input through its offset and strides: a permuted layout, and a view
    starting past its buffer's start with a step along H (the kit's samples add negative strides)."""
    x = _input((2, 3, 6, 7))
    if view == "channels_last":
        ex = ember.tensor(x, device=DEV).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
    else:
        wide = np.zeros((2, 4, 12, 7), dtype=np.float32)
        wide[:, 1:, ::2] = x
        ex = ember.tensor(wide, device=DEV)[:, 1:, ::2]
    assert not ex.is_contiguous()
    ex.requires_grad_(True)
    ev, ei = F.max_pool2d(ex, 3, 2, 1, return_indices=True)
    ev.backward(ember.ones(ev.shape, device=DEV))
    tx = torch.tensor(x, requires_grad=True)
    tv, ti = torch.nn.functional.max_pool2d(tx, 3, 2, 1, return_indices=True)
    tv.backward(torch.ones_like(tv))
    _assert_equal(
        [ev.detach().numpy(), ei.numpy(), ex.grad.numpy()],
        [tv.detach().numpy(), ti.numpy(), tx.grad.numpy()],
    )


def test_empty_batch() -> None:
    ex = ember.zeros((0, 3, 5, 5), device=DEV, requires_grad=True)
    ev, ei = F.max_pool2d(ex, 2, return_indices=True)
    assert ev.shape == ei.shape == (0, 3, 2, 2)
    ev.sum().backward()
    assert ex.grad.shape == (0, 3, 5, 5)


def test_other_dtypes_and_mismatched_indices_are_refused() -> None:
    x = ember.ones((1, 1, 4, 4), dtype=ember.int32, device=DEV)._data
    with pytest.raises(TypeError, match="max_pool2d: the opencl kernel takes floating inputs .* got int32"):
        pooling.max_pool2d(x, (2, 2), (2, 2), (0, 0), (1, 1), (2, 2))
    g = ember.ones((1, 1, 2, 2), device=DEV)._data
    ind = ember.zeros((1, 1, 2, 3), dtype=ember.int64, device=DEV)._data
    with pytest.raises(ValueError, match=r"max_pool2d_backward: indices of shape \(1, 1, 2, 3\)"):
        pooling.max_pool2d_backward(g, ind, (4, 4))
