"""``OpenCLBackend.compile_graph`` (:mod:`ember_opencl.compiled`): a compiled function replayed as
launch lists equals its eager twin bitwise over many calls (training steps with SGD and Adam,
dropout, a scheduler, state reloaded), keeps results of earlier calls intact, fuses a chain of
tiny ops into one launch, and falls back to the plain replay where the launch lists do not fit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import ember
import numpy as np
import pytest

try:
    from ember_opencl.compiled import CompiledReplay

    DEV = ember.device("opencl")
    DEV.properties()
except Exception as exc:  # noqa: BLE001 - no pyopencl, no platform, no device
    pytest.skip(f"OpenCL unavailable: {exc}", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "examples"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_compile import digits_training, training_step  # the step bench_compile.py times
from train_digits import DigitsCNN


def _replays(cf: Any) -> list[CompiledReplay]:
    return [e for e in cf._cache.values() if isinstance(e, CompiledReplay)]


def _batches(n: int, batch: int = 16) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    return [
        (rng.random((batch, 1, 8, 8)).astype(np.float32), rng.integers(0, 10, batch)) for _ in range(n)
    ]


def _train(optimizer: str, compiled: bool, batches: list, reload_at: int = -1) -> tuple[list, list, Any]:
    """Losses (read after the last step) and parameters of a digits CNN trained on ``batches``."""
    model, opt, step = digits_training(DEV, optimizer)
    sched = None
    if optimizer == "adam":
        sched = ember.optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0 / (1 + e))
    run = ember.compile(step) if compiled else step
    losses = []
    for i, (x, y) in enumerate(batches):
        losses.append(run(ember.tensor(x, device=DEV), ember.tensor(y, device=DEV)))
        if sched is not None:
            sched.step()
        if i == reload_at:
            # a state written from outside: the next replay must read it, not a planned copy
            fresh = DigitsCNN().to(DEV)
            model.load_state_dict(fresh.state_dict())
            opt.load_state_dict(opt.state_dict())
    # every loss read at the end: a later replay must not have written into an earlier result
    return [float(t.item()) for t in losses], [p.detach().numpy() for p in model.parameters()], run


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_steps_equal_eager_bitwise(optimizer: str) -> None:
    """Digits CNN (dropout: a random kernel per step; cross-entropy's value checks), SGD with
    momentum or Adam under LambdaLR (host scalars change every step), a state_dict reload in the
    middle: losses and parameters equal eager's bit for bit; most calls run the launch lists."""
    batches = _batches(10)
    el, ep, _ = _train(optimizer, False, batches, reload_at=5)
    cl_, cp, run = _train(optimizer, True, batches, reload_at=5)
    assert cl_ == el
    for a, b in zip(ep, cp):
        np.testing.assert_array_equal(b, a)
    fast = sum(r.stats["fast"] for r in _replays(run))
    assert fast >= 5, run.explain()


def test_tiny_op_chain_is_one_launch_and_reads_new_inputs() -> None:
    """Ten rounds of x * y + y on 8 floats: one fused launch per replay; each call's inputs (new
    buffers) are read, and earlier results stay as they were."""

    def chain(x: Any, y: Any) -> Any:
        for _ in range(10):
            x = x * y + y
        return x

    f = ember.compile(chain)
    rng = np.random.default_rng(1)
    xs = [rng.random(8).astype(np.float32) for _ in range(6)]
    y = ember.tensor(np.full(8, 0.5, np.float32), device=DEV)
    outs = [f(ember.tensor(x, device=DEV), y) for x in xs]
    for x, out in zip(xs, outs):
        np.testing.assert_array_equal(out.numpy(), chain(ember.tensor(x, device=DEV), y).numpy())
    (r,) = _replays(f)
    assert r.stats["fast"] == 4 and r.stats["launches"] == 1, (r.stats, r.why)


def test_an_input_laid_out_otherwise_runs_the_plain_replay() -> None:
    """An input that is a view at another offset of its buffer than when traced: the call runs
    the plain replay (same signature: shape and strides match) and gives eager's result."""

    def f(x: Any) -> Any:
        return (x * 2.0).exp().sum()

    g = ember.compile(f)
    base = ember.tensor(np.arange(12, dtype=np.float32) / 10, device=DEV)
    for _ in range(3):
        g(base[:8])
    got = g(base[4:12])
    np.testing.assert_array_equal(got.numpy(), f(base[4:12]).numpy())
    (r,) = _replays(g)
    assert r.stats["plain"] == 1 and r.stats["fast"] == 1, r.stats


def test_other_kernel_families_replay() -> None:
    """Sorting, a scan, gather and a matmul with a bias and relu epilogue (each traced as
    launches like any other kernel) over changing inputs: equal to eager on every call."""

    def f(a: Any, w: Any) -> Any:
        s, i = ember.sort(a, dim=1)
        c = ember.cumsum(s, dim=1)
        h = (c @ w + 1.0).relu()
        return h, ember.gather(a, 1, i)

    g = ember.compile(f)
    rng = np.random.default_rng(2)
    w = ember.tensor(rng.random((6, 3)).astype(np.float32), device=DEV)
    for _ in range(4):
        a = ember.tensor(rng.random((5, 6)).astype(np.float32), device=DEV)
        for got, want in zip(g(a, w), f(a, w)):
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    (r,) = _replays(g)
    assert r.stats["fast"] == 2, (r.stats, r.why)


def test_a_bad_target_raises_the_eager_error_before_the_step() -> None:
    """Core's value checks run in the launch-list replay (on the host-backed memory where the pool
    has it): a target out of range raises eager's IndexError, and the step's later launches (the
    optimizer's update) never run."""
    ember.manual_seed(0)
    model = ember.nn.Linear(4, 3).to(DEV)
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    run = ember.compile(training_step(model, opt))
    x = ember.tensor(np.ones((5, 4), np.float32), device=DEV)
    bad = ember.tensor(np.array([0, 1, 3, 1, 0]), device=DEV)
    message = r"cross_entropy: target 3 is out of bounds for 3 classes"
    for i in range(6):
        if i == 2:  # the call that records the launch lists fails: the next one records again
            with pytest.raises(IndexError, match=message):
                run(x, bad)
            continue
        run(x, ember.tensor(np.array([0, 1, 2, 1, 0]), device=DEV))
    assert sum(r.stats["fast"] for r in _replays(run)) == 2  # the next call runs the launch lists
    before = [p.detach().numpy() for p in model.parameters()]
    with pytest.raises(IndexError, match=message):
        run(x, bad)
    for a, p in zip(before, model.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), a)


def test_a_function_without_tensor_inputs_gives_each_result_its_own_buffer() -> None:
    """A function reading no tensor (its result made inside): each call's result has a buffer of
    its own, so writing into a kept result changes neither later results nor is undone by them."""

    def f() -> Any:
        return ember.ones(8, device=DEV) * 2.0 + 1.0

    g = ember.compile(f)
    kept = []
    for _ in range(5):
        r = g()
        r.add_(10.0)
        kept.append(r)
    for r in kept:
        np.testing.assert_array_equal(r.numpy(), np.full(8, 13.0, np.float32))
    assert sum(x.stats["fast"] for x in _replays(g)) >= 2


def _layers(seed: int) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)

    def param(*shape: int) -> Any:
        return ember.tensor(rng.standard_normal(shape).astype(np.float32), device=DEV, requires_grad=True)

    # a conv's weight and bias; a linear layer whose bias is read through a strided view; a
    # product of 12 columns (a partial panel) plus a bias broadcast from one value
    return param(8, 3, 3, 3), param(8), param(10, 128), param(20), param(12, 10), param(1)


def _forward_backward(x: Any, conv_w: Any, conv_b: Any, w1: Any, b1: Any, w2: Any, b2: Any) -> Any:
    h = ember.nn.functional.conv2d(x, conv_w, conv_b, padding=1).relu().reshape(x.shape[0], -1)
    h = ember.nn.functional.linear(h, w1, b1[::2]).relu()
    loss = (h @ w2.mT + b2).square().mean()
    loss.backward()
    return loss


def test_bias_adds_run_in_the_matmul_epilogue() -> None:
    """A conv's bias (per row of its product), a linear bias read through a strided view (per
    column) and one broadcast from one value (a partial panel of 12 columns): each add runs
    inside its matmul's launch (three rewrites); losses and gradients equal eager's bit for bit
    on every call."""
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal((4, 3, 4, 4)).astype(np.float32) for _ in range(5)]
    eager, compiled = _layers(0), _layers(0)
    run = ember.compile(_forward_backward)
    for x in xs:
        want = _forward_backward(ember.tensor(x, device=DEV), *eager).item()
        got = run(ember.tensor(x, device=DEV), *compiled).item()
        assert got == want
        for a, b in zip(eager, compiled):
            np.testing.assert_array_equal(b.grad.numpy(), a.grad.numpy())
            a.grad = b.grad = None
    (r,) = _replays(run)
    assert r.stats["epilogues"] == 3 and r.stats["fast"] >= 3, (r.stats, r.why)


def test_a_product_read_elsewhere_keeps_its_own_add() -> None:
    """A matmul result the function also returns (or another op reads) is not folded into its
    bias add: the product and the sum both come back right."""

    def f(a: Any, w: Any, b: Any) -> Any:
        p = a @ w
        return p, p + b, (p * 2.0 + b).sum()

    g = ember.compile(f)
    rng = np.random.default_rng(4)
    w = ember.tensor(rng.random((6, 5)).astype(np.float32), device=DEV)
    b = ember.tensor(rng.random(5).astype(np.float32), device=DEV)
    for _ in range(4):
        a = ember.tensor(rng.random((7, 6)).astype(np.float32), device=DEV)
        for got, want in zip(g(a, w, b), f(a, w, b)):
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    (r,) = _replays(g)
    assert r.stats["epilogues"] == 0 and r.stats["fast"] == 2, (r.stats, r.why)


def test_optimizer_updates_are_computed_into_the_parameters() -> None:
    """SGD with momentum's in-place updates (the buffer twice, the parameter once, each computed
    out of place then copied back) become fused kernels writing the buffers themselves: no copy
    launch, the same buffers, eager's values bit for bit."""
    batches = _batches(6)
    el, ep, _ = _train("sgd", False, batches)
    cl_, cp, run = _train("sgd", True, batches)
    assert cl_ == el
    for a, b in zip(ep, cp):
        np.testing.assert_array_equal(b, a)
    (r,) = [r for r in _replays(run) if r.stats["fast"]]
    assert r.stats["consumed_copies"] == 3 * 8, r.stats  # 8 parameters
    assert "24 copies computed into their destination" in run.explain()  # what the trace became


def _copies(f: Any, *shapes: tuple[int, ...], calls: int = 4) -> dict[str, int]:
    """Run ``f`` eagerly and compiled on fresh tensors of ``shapes`` ``calls`` times; every result
    and every input written must agree bitwise. Returns the compiled replay's stats."""
    rng = np.random.default_rng(5)
    g = ember.compile(f)
    for _ in range(calls):
        arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        eager = [ember.tensor(a, device=DEV) for a in arrays]
        compiled = [ember.tensor(a, device=DEV) for a in arrays]
        np.testing.assert_array_equal(g(*compiled).numpy(), f(*eager).numpy())
        for a, b in zip(eager, compiled):
            np.testing.assert_array_equal(b.numpy(), a.numpy())
    (r,) = _replays(g)
    assert r.stats["fast"] == calls - 2, (r.stats, r.why)  # a capture, a trace, then launch lists
    return r.stats


def test_a_copy_from_a_chain_read_afterwards_is_kept() -> None:
    """The chain's value is read after the copy (and the destination is overwritten meanwhile):
    it keeps a buffer of its own, the copy stays (were it computed into p, r * 3 would read x)."""

    def f(p: Any, x: Any) -> Any:
        r = x * 2.0 + 1.0
        p.copy_(r)
        p.copy_(x)
        return r * 3.0 + p

    assert _copies(f, (64,), (64,))["consumed_copies"] == 0


def test_chains_reading_the_destination_are_written_into_it_where_that_is_the_same() -> None:
    """``p = p * 0.5 + x`` (the destination read at the same elements) is computed into p; a
    chain reading another row of the same buffer, or written into a row that does not start the
    buffer, keeps its copy (a work-item could read an element another one already wrote)."""

    def same(p: Any, x: Any) -> Any:
        p.copy_(p * 0.5 + x)
        return p * 1.0

    def shifted(p: Any, x: Any) -> Any:
        p[0].copy_(p[1] * 0.5 + x)  # reads row 1 of p's buffer while writing row 0
        p[1].copy_(p[0] * 0.25 - x)  # written at an offset
        return p * 1.0

    def overlapping(p: Any, x: Any) -> Any:
        p[:-1].copy_(p[1:] * 2.0 + x)  # element i reads i + 1, which another work-item writes
        return p * 1.0

    assert _copies(same, (256,), (256,))["consumed_copies"] == 1
    assert _copies(shifted, (2, 256), (256,))["consumed_copies"] == 0
    assert _copies(overlapping, (4097,), (4096,))["consumed_copies"] == 0
