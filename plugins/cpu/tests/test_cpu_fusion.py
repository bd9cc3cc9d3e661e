"""Elementwise fusion in the cpu backend's compiled graphs (ember_cpu.fusion): fused groups give
numpy's bits (special values, both float dtypes, comparisons, selects, logical ops, in-place
updates of state that changes per replay), keep what later items read, and fall back to the numpy
calls when a per-replay operand does not match what was planned."""

from __future__ import annotations

from typing import Any

import ember
import numpy as np
import pytest
from ember.compile.graph import Node
from ember_cpu import fusion, native
from ember_cpu.compiled import PlannedReplay

pytestmark = pytest.mark.skipif(
    native.library() is None, reason=f"the native loops are not available here: {native.status()}"
)


def _values(dtype: str) -> tuple[ember.Tensor, ember.Tensor]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(64).astype(dtype)
    y = rng.standard_normal(64).astype(dtype)
    x[:8] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.0]
    y[:8] = [-0.0, 0.0, np.inf, 1.0, 2.0, np.nan, -0.0, -1e-30]
    return ember.tensor(x), ember.tensor(y)


def _bits(t: ember.Tensor) -> bytes:
    return np.ascontiguousarray(t.detach().numpy()).tobytes()


def _planned(fn: Any) -> PlannedReplay:
    (replay,) = [r for r in fn._cache.values() if isinstance(r, PlannedReplay) and r.planned is not None]
    return replay


def _chain(x: ember.Tensor, y: ember.Tensor) -> tuple[ember.Tensor, ...]:
    a = (x * 2.5 - y) / (y + 0.5)
    b = ember.sqrt(a.abs()) + (-a)
    c = ember.maximum(b, y) - ember.minimum(x, 0.25)
    mask = (x < y) | ((x == 0.0) & (y != 1.0))
    mask = mask ^ (b <= c)
    d = ember.where(mask, c, ember.relu(x) * 3.0)
    return d, mask, ember.relu(c - 1.0) * 0.1


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's, on the NaN and infinite inputs
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_chain_equals_eager_bitwise(dtype: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Arithmetic, sqrt, abs, negation, numpy's maximum/minimum, comparisons, logical ops, where
    and relu over NaN, infinities and signed zeros: every result's bytes are eager's (a NaN's
    payload and a zero's sign included)."""
    monkeypatch.setattr(fusion, "MIN_CALLS", 2)
    x, y = _values(dtype)
    compiled = ember.compile(_chain)
    with ember.no_grad():
        want = _chain(x, y)
        for _ in range(4):
            got = compiled(x, y)
            assert [_bits(g) for g in got] == [_bits(w) for w in want]
    st = _planned(compiled).stats
    assert st["fused"] >= 15, st
    assert "#     for (long long i = 0; i < 64LL; i++) {" in compiled.explain()  # the generated C


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_broadcast_operands_fuse_as_rows_and_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """A channel bias (1, C, 1, 1) over (N, C, H, W) (one value per row of H * W), a feature bias
    (F,) over (N, F) (read along the row) and a per-sample scale (N, 1): fused with what follows
    (relu, a product) in two-level loops, bitwise eager's with NaN and signed zeros in the biases;
    the bias rebound per call (a parameter reshaped) is checked like any per-replay operand."""
    monkeypatch.setattr(fusion, "MIN_CALLS", 2)
    rng = np.random.default_rng(3)

    def step(x: ember.Tensor, b: ember.Tensor, h: ember.Tensor, c: ember.Tensor, s: ember.Tensor) -> Any:
        y = ember.relu(x + b.reshape(1, -1, 1, 1)) * 0.5
        z = ember.relu(h + c) * s
        return y * 1.0, z * 1.0  # (the results leave the replay: the last calls are not planned)

    x = ember.tensor(rng.standard_normal((3, 4, 5, 6)).astype(np.float32))
    h = ember.tensor(rng.standard_normal((7, 9)).astype(np.float32))
    s = ember.tensor(rng.standard_normal((7, 1)).astype(np.float32))
    bias = [rng.standard_normal(4).astype(np.float32) for _ in range(3)]
    bias[1][:2] = [np.nan, -0.0]
    c = ember.tensor(np.array([0.0, -0.0, np.inf, -1, 2, np.nan, 3, -4, 5], dtype=np.float32))
    compiled = ember.compile(step)
    with ember.no_grad():
        for b in bias:
            want = step(x, ember.tensor(b), h, c, s)
            got = compiled(x, ember.tensor(b), h, c, s)
            assert [_bits(g) for g in got] == [_bits(w) for w in want]
    source = compiled.explain()
    assert "for (long long r = 0; r < 12LL; r++)" in source  # the channel bias: 3 * 4 rows of 30
    assert "r % 4LL]" in source and "r % 7LL]" in source  # the channel bias, the per-sample scale
    assert "for (long long j = 0; j < 9LL; j++)" in source  # the feature bias: rows of 9
    assert _planned(compiled).stats["fused"] == 6


def _fused_nodes(replay: PlannedReplay) -> list[Node]:
    return [it for it in replay.planned.items if isinstance(it, Node) and it.name == "fused"]


def test_in_place_updates_of_per_replay_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """An Adam-like update of tensors bound per replay (parameters and state), fused with a host
    scalar that changes every call: equal to eager after every call, also after the tensors are
    rebound to new buffers between calls."""
    monkeypatch.setattr(fusion, "MIN_CALLS", 2)

    def update(p: ember.Tensor, m: ember.Tensor, v: ember.Tensor, g: ember.Tensor, lr: float) -> None:
        m.mul_(0.9).add_(g * 0.1)
        v.mul_(0.999).add_(g * g * 0.001)
        p.sub_(m / (ember.sqrt(v) + 1e-8) * lr)

    rng = np.random.default_rng(1)
    state = [rng.standard_normal(300).astype(np.float32) for _ in range(4)]
    eager = [ember.tensor(a.copy()) for a in state]
    comp = [ember.tensor(a.copy()) for a in state]
    compiled = ember.compile(update)
    with ember.no_grad():
        for k in range(6):
            lr = 0.01 * (k + 1)
            if k == 4:  # rebind: the fused call must take the new buffers
                comp[:3] = [ember.tensor(t.numpy().copy()) for t in comp[:3]]
            update(*eager, lr=lr)
            compiled(*comp, lr=lr)
            assert [_bits(t) for t in comp] == [_bits(t) for t in eager]


def test_fallback_when_an_operand_does_not_match(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fused call given a per-replay operand in another layout, or the same memory for two of
    its operands where one is written, runs the numpy calls it replaced (same results)."""
    monkeypatch.setattr(fusion, "MIN_CALLS", 2)

    def fn(a: ember.Tensor, b: ember.Tensor) -> None:
        a.mul_(2.0).add_(b * 3.0)

    rng = np.random.default_rng(2)
    a0 = rng.standard_normal((8, 8)).astype(np.float32)
    b0 = rng.standard_normal((8, 8)).astype(np.float32)
    compiled = ember.compile(fn)
    with ember.no_grad():
        for _ in range(3):
            compiled(ember.tensor(a0.copy()), ember.tensor(b0.copy()))
    (node,) = _fused_nodes(_planned(compiled))
    assert len(node.args) == 2  # a's and b's buffers, bound per replay
    a = np.asfortranarray(a0)  # another layout
    node.fn(a, b0)
    np.testing.assert_array_equal(a, a0 * np.float32(2.0) + b0 * np.float32(3.0))
    a = a0.copy()  # b is a itself: numpy's order reads a after it doubled (the loop would not)
    node.fn(a, a)
    np.testing.assert_array_equal(a, a0 * np.float32(2.0) + (a0 * np.float32(2.0)) * np.float32(3.0))
    a = np.ndarray((8, 8), np.float32, np.zeros(257, np.uint8), 1)  # unaligned: numpy's calls
    a[...] = a0
    node.fn(a, b0)
    np.testing.assert_array_equal(a, a0 * np.float32(2.0) + b0 * np.float32(3.0))
    a, b = a0.copy(), b0.copy()  # and the fused loop itself
    node.fn(a, b)
    np.testing.assert_array_equal(a, a0 * np.float32(2.0) + b0 * np.float32(3.0))


def test_view_taken_at_planning_reads_the_in_place_update(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fused group reading a planned buffer through a view taken at planning after an in-place
    update of the buffer (another operand, the same memory) reads the updated values, as eager."""
    monkeypatch.setattr(fusion, "MIN_CALLS", 2)

    def fn(a: ember.Tensor) -> ember.Tensor:
        y = a * 2.0
        v = y.reshape(8, 8)
        r = v * 3.0
        y.copy_(y + 1.0)
        return (r - v * 5.0).sum(1)

    a = ember.tensor(np.arange(64, dtype=np.float32))
    compiled = ember.compile(fn)
    with ember.no_grad():
        want = fn(a)
        for _ in range(3):
            assert _bits(compiled(a)) == _bits(want)
    assert _planned(compiled).stats["fused"] == 4


def test_read_only_destination_bound_per_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fused in-place update given a read-only tensor of the planned layout raises as eager
    does (numpy's calls), leaving the array unchanged."""
    monkeypatch.setattr(fusion, "MIN_CALLS", 2)

    def fn(a: ember.Tensor, b: ember.Tensor) -> None:
        a.mul_(2.0).add_(b * 3.0)

    compiled = ember.compile(fn)
    b = ember.ones(8, 8)
    with ember.no_grad():
        for _ in range(3):
            compiled(ember.ones(8, 8), b)
        assert _fused_nodes(_planned(compiled))
        ro = np.zeros((8, 8), np.float32)
        ro.flags.writeable = False
        with pytest.raises(ValueError, match="read-only"):
            compiled(ember.from_numpy(ro), b)
    assert not ro.any()
