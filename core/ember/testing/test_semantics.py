"""Conformance: behaviour every device must share with cpu, beyond single-op values.

Views and in-place writes, host round trips, cross-device moves, random reproducibility, error
contracts, memory statistics, and a small training step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember


def test_host_round_trip_is_exact_for_every_dtype(ember_device: Any) -> None:
    rng = np.random.default_rng(0)
    for dt in ember.dtypes.ALL_DTYPES:
        if not ember_device.backend.supports_dtype(dt, ember_device.index):
            continue
        if dt.is_bool:
            a = rng.random((3, 5)) > 0.5
        elif dt.is_floating_point:
            a = (rng.standard_normal((3, 5)) * 100).astype(dt.numpy)
        else:
            a = rng.integers(0, 100, (3, 5)).astype(dt.numpy)
        t = ember.tensor(a, device=ember_device)
        assert t.dtype is dt and t.device is ember_device
        np.testing.assert_array_equal(t.numpy(), a)
        np.testing.assert_array_equal(t.to("cpu").to(ember_device).numpy(), a)
        assert t.tolist() == a.tolist()


def test_views_share_memory_with_their_base(ember_device: Any) -> None:
    base = ember.zeros(3, 4, device=ember_device)
    base[1] = 5.0
    base.reshape(12)[0] = 1.0
    base.T[3, 2] = 7.0
    col = base[:, 1]
    col += 2.0
    base.narrow(1, 2, 1).fill_(-1.0)
    expected = np.zeros((3, 4), np.float32)
    expected[1] = 5
    expected[0, 0] = 1
    expected[2, 3] = 7
    expected[:, 1] += 2
    expected[:, 2] = -1
    np.testing.assert_array_equal(base.numpy(), expected)
    assert base._version[0] == col._version[0] > 0


def test_non_contiguous_views_compute_correctly(ember_device: Any) -> None:
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x = ember.tensor(a, device=ember_device)
    v = x.permute(2, 0, 1)[1:, :, ::2]
    np.testing.assert_array_equal(v.numpy(), a.transpose(2, 0, 1)[1:, :, ::2])
    np.testing.assert_array_equal(
        (v * 2 + v.flip(0)).numpy(),
        a.transpose(2, 0, 1)[1:, :, ::2] * 2 + a.transpose(2, 0, 1)[1:, :, ::2][::-1],
    )
    np.testing.assert_array_equal(v.contiguous().numpy(), a.transpose(2, 0, 1)[1:, :, ::2])
    np.testing.assert_array_equal(v.sum(1).numpy(), a.transpose(2, 0, 1)[1:, :, ::2].sum(1))


def test_setitem_advanced_on_device(ember_device: Any) -> None:
    x = ember.zeros(3, 4, device=ember_device)
    x[x == 0] = 1.0
    x[ember.tensor([0, 2], device=ember_device), ember.tensor([3, 1], device=ember_device)] = 5.0
    expected = np.ones((3, 4), np.float32)
    expected[[0, 2], [3, 1]] = 5
    np.testing.assert_array_equal(x.numpy(), expected)


def test_floor_division_and_remainder_round_like_python(ember_device: Any) -> None:
    # floor(a / b) is not floor division: 1.0 / 0.1 rounds to 10.0, while 1.0 // 0.1 is 9.0
    # (0.1 is slightly above one tenth); ints must be exact beyond 2**53 and follow b's sign
    fa = [1.0, -1.0, 5.5, -5.5, 7.0, -7.0, 0.0, 3.0]
    fb = [0.1, 0.1, 2.0, 2.0, -3.0, -3.0, 2.0, np.inf]
    for dt in (ember.float32, ember.float64):
        if not ember_device.backend.supports_dtype(dt, ember_device.index):
            continue
        a, b = np.array(fa, dt.numpy), np.array(fb, dt.numpy)
        x, y = ember.tensor(a, device=ember_device), ember.tensor(b, device=ember_device)
        np.testing.assert_array_equal((x // y).numpy(), np.floor_divide(a, b))
        np.testing.assert_allclose((x % y).numpy(), np.remainder(a, b), rtol=0, atol=1e-6)
    ia = np.array([7, -7, 7, -7, 2**62 + 1, -(2**63), 5], np.int64)
    ib = np.array([2, 2, -2, -2, 3, -1, 7], np.int64)
    i, j = ember.tensor(ia, device=ember_device), ember.tensor(ib, device=ember_device)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal((i // j).numpy(), np.floor_divide(ia, ib))
        np.testing.assert_array_equal((i % j).numpy(), np.remainder(ia, ib))


def test_random_is_reproducible(ember_device: Any) -> None:
    g1 = ember.Generator(ember_device, seed=42)
    g2 = ember.Generator(ember_device, seed=42)
    a = ember.rand(1000, device=ember_device, generator=g1)
    b = ember.rand(1000, device=ember_device, generator=g2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    c = ember.rand(1000, device=ember_device, generator=g1)
    assert not np.array_equal(a.numpy(), c.numpy())
    u = a.numpy()
    assert u.min() >= 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.05
    n = ember.randn(20000, device=ember_device, generator=g1).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05


def test_mixed_devices_are_refused_with_both_names(ember_device: Any) -> None:
    if ember_device.type == "cpu":
        pytest.skip("needs a second device type")
    a = ember.ones(2, device=ember_device)
    b = ember.ones(2, device="cpu")
    with pytest.raises(
        ember.DeviceMismatchError,
        match=f"add: expected all tensors on one device, got {ember_device} and cpu",
    ):
        a + b


def test_error_contracts(ember_device: Any) -> None:
    x = ember.zeros(2, 3, device=ember_device)
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        x + ember.zeros(4, device=ember_device)
    with pytest.raises(IndexError, match="index 2 is out of bounds for dimension 0 with size 2"):
        x[2]
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(2, 3\) cannot be multiplied"):
        x @ x


def test_memory_stats_report_bytes(ember_device: Any) -> None:
    stats = ember_device.memory_stats()
    assert isinstance(stats, dict)
    for key in ("in_use", "cached", "peak"):
        assert key in stats and stats[key] >= 0, f"memory_stats() of {ember_device} lacks {key!r}: {stats}"
    ember_device.empty_cache()
    ember_device.synchronize()


def test_training_step_matches_cpu(ember_device: Any) -> None:
    rng = np.random.default_rng(0)
    xs, ws, ys = rng.standard_normal((8, 5)), rng.standard_normal((5, 3)), rng.integers(0, 3, 8)
    results = []
    for dev in ("cpu", ember_device):
        x = ember.tensor(xs, dtype=ember.float32, device=dev)
        w = ember.tensor(ws, dtype=ember.float32, device=dev, requires_grad=True)
        logits = (x @ w).relu()
        loss = -ember.log_softmax(logits, 1)[ember.arange(8, device=dev), ember.tensor(ys, device=dev)].mean()
        loss.backward()
        results.append((loss.item(), w.grad.numpy()))
    assert abs(results[0][0] - results[1][0]) < 1e-5
    np.testing.assert_allclose(results[0][1], results[1][1], atol=1e-5)
