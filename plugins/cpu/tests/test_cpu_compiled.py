"""The cpu backend's ``compile_graph`` (ember_cpu.compiled): planned replays equal eager execution
bit for bit (every rewrite keeps the floating-point operations and their order), over many
training steps, across state changes between replays, and for graphs the plan does not know."""

from __future__ import annotations

import copy
import sys
import warnings
from pathlib import Path
from typing import Any

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest
from ember.compile import CompileWarning
from ember_cpu import compiled as cpu_compiled
from ember_cpu import fusion as cpu_fusion
from ember_cpu import native
from ember_cpu.compiled import PlannedReplay

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "examples"))
from train_charlm import Block, CharLMConfig, parameter_groups, warmup_cosine  # noqa: E402
from train_digits import DigitsCNN, train_step  # noqa: E402


def _planned(fn: Any) -> list[PlannedReplay]:
    """The planned replays of a compiled function (those that ran at least twice)."""
    return [r for r in fn._cache.values() if isinstance(r, PlannedReplay) and r.planned is not None]


def _digits_batches(n: int, batch: int = 16) -> list[tuple[ember.Tensor, ember.Tensor]]:
    rng = np.random.default_rng(0)
    x = rng.random((n, batch, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, (n, batch))
    return [(ember.tensor(x[i]), ember.tensor(y[i])) for i in range(n)]


def _digits(optimizer: str) -> tuple[nn.Module, Any]:
    ember.manual_seed(0)
    m = DigitsCNN()
    if optimizer == "sgd":
        return m, ember.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
    return m, ember.optim.Adam(m.parameters(), lr=3e-3)


def _assert_twins(m1: nn.Module, o1: Any, m2: nn.Module, o2: Any) -> None:
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p1.detach().numpy(), p2.detach().numpy())
        np.testing.assert_array_equal(p1.grad.numpy(), p2.grad.numpy())
        for k, v in o1.state[p1].items():
            w = o2.state[p2][k]
            if isinstance(v, ember.Tensor):
                np.testing.assert_array_equal(v.numpy(), w.numpy())
            else:
                assert v == w


@pytest.mark.parametrize("optimizer,loops", [("sgd", "native"), ("adam", "native"), ("adam", "numpy")])
def test_digits_steps_equal_eager(optimizer: str, loops: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """16 training steps of the digits CNN: losses, parameters, gradients and optimizer state equal
    the eager twin's bitwise; the plan preallocated outputs, made the optimizer's updates in place,
    took views once, (forced here: the choice is timed) flipped matmuls and packed operands, and
    ran the copies, adds and selects it knows the buffers of through the native loops (or,
    without them, numpy)."""
    monkeypatch.setattr(cpu_compiled, "_form_pays", _when_equal)
    if loops == "numpy":
        monkeypatch.setattr(native, "library", lambda: None)
    elif native.library() is None:
        pytest.skip(f"the native loops are not available here: {native.status()}")
    m1, o1 = _digits(optimizer)
    m2, o2 = _digits(optimizer)
    step = ember.compile(train_step)
    batches = _digits_batches(16)
    ember.manual_seed(1)
    eager = [train_step(m1, o1, x, y).item() for x, y in batches]
    ember.manual_seed(1)
    got = [step(m2, o2, x, y).item() for x, y in batches]
    assert got == eager
    _assert_twins(m1, o1, m2, o2)
    (planned,) = _planned(step)
    st = planned.stats
    assert st["planned"] > 50 and st["views"] > 20 and st["constants"] > 0 and st["flipped"] > 0
    assert st["packed"] > 0  # the convolutions' batched products with a transposed operand
    assert st["in_place"] == (24 if optimizer == "sgd" else 40)  # momentum + param; Adam's 5 per param
    # im2col's copies and the padding's (4; col2im and the pooling are kernels of their own)
    assert st["native"] >= 4 if loops == "native" else st["native"] == 0, st
    # relu's backward masks and selects, the optimizer's update of each parameter
    assert st["fused"] >= 30 if loops == "native" else st["fused"] == 0, st
    assert "# planned by the cpu backend: planned " in step.explain()


def _when_equal(form: Any, a: Any, b: Any, r: Any) -> bool:
    """``_form_pays`` without the timing: every form that gives the same bits is taken."""
    out = np.empty_like(r)
    form(out)
    return bool(np.array_equal(out, r))


def test_charlm_block_steps_equal_eager() -> None:
    """examples/train_charlm.py's Transformer block (causal self-attention, layer norms, GELU MLP,
    dropout) under a linear head, trained as that example trains (AdamW in two groups, warm-up
    and cosine schedule, gradient clipping): 8 steps equal eager bitwise. (The whole CharTransformer
    step is not captured: the embedding's index check reads the indices' min and max on the host.)"""
    cfg = CharLMConfig(vocab_size=20, block_size=16, n_layer=1, n_head=2, n_embd=32, dropout=0.1)

    def make() -> tuple[Any, Any, Any]:
        ember.manual_seed(0)
        model = nn.Sequential(Block(cfg), nn.LayerNorm(cfg.n_embd), nn.Linear(cfg.n_embd, cfg.vocab_size))
        opt = ember.optim.AdamW(parameter_groups(model, 0.1), lr=3e-3, betas=(0.9, 0.99))
        return model, opt, warmup_cosine(opt, 3, 8)

    def step(model: Any, opt: Any, x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 4, 16, 32)).astype(np.float32)
    y = rng.integers(0, 20, (8, 4, 16))
    batches = [(ember.tensor(x[i]), ember.tensor(y[i])) for i in range(8)]
    (m1, o1, s1), (m2, o2, s2) = make(), make()
    compiled = ember.compile(step)
    results = []
    for model, opt, sched, fn in ((m1, o1, s1, step), (m2, o2, s2, compiled)):
        ember.manual_seed(1)
        losses = []
        for x, y in batches:
            losses.append(fn(model, opt, x, y).item())
            sched.step()
        results.append(losses)
    assert results[0] == results[1]
    _assert_twins(m1, o1, m2, o2)
    (planned,) = _planned(compiled)
    assert compiled.stats["replays"] == 6 and planned.stats["in_place"] > 0


def test_state_changed_between_replays_is_read() -> None:
    """load_state_dict (model and optimizer) and a new lr between replays: the planned replay
    reads them (buffers are planned for temporaries only), as the eager twin does."""
    m1, o1 = _digits("adam")
    m2, o2 = _digits("adam")
    step = ember.compile(train_step)
    batches = _digits_batches(12)
    snapshot = {k: v.clone() for k, v in m1.state_dict().items()}
    for m, o, fn in ((m1, o1, train_step), (m2, o2, step)):
        ember.manual_seed(1)
        for i, (x, y) in enumerate(batches):
            if i == 6:
                m.load_state_dict(snapshot)
                o.load_state_dict(copy.deepcopy(o.state_dict()))  # new state tensors, same values
                o.param_groups[0]["lr"] = 1e-3
            fn(m, o, x, y)
    _assert_twins(m1, o1, m2, o2)
    assert _planned(step) and step.stats["replays"] >= 8


def test_kept_gradients_and_results_are_never_overwritten() -> None:
    """What leaves a replay (gradients, the returned loss) is allocated per replay: a tensor the
    caller keeps holds its own step's values after later replays."""
    m, o = _digits("sgd")
    step = ember.compile(train_step)
    batches = _digits_batches(6)
    kept = []
    for x, y in batches:
        loss = step(m, o, x, y)
        p = next(m.parameters())
        kept.append((loss, loss.detach().numpy().copy(), p.grad, p.grad.numpy().copy()))
    assert _planned(step)
    for loss, loss_then, grad, grad_then in kept:
        np.testing.assert_array_equal(loss.detach().numpy(), loss_then)
        np.testing.assert_array_equal(grad.numpy(), grad_then)


def test_update_read_before_its_copy_is_not_made_in_place() -> None:
    """``r = p * 0.5; s = p + 1; p.copy_(r)``: s reads p between the update's computation and its
    copy, so the update stays a copy; ``p.copy_(p * 0.5)`` alone becomes an in-place multiply."""

    def read_between(p: ember.Tensor) -> ember.Tensor:
        r = p * 0.5
        s = p + 1
        p.copy_(r)
        return s

    def direct(p: ember.Tensor) -> ember.Tensor:
        p.copy_(p * 0.5)
        return p.sum()

    for fn, in_place in ((read_between, 0), (direct, 1)):
        compiled = ember.compile(fn)
        a, b = ember.arange(6.0).reshape(2, 3), ember.arange(6.0).reshape(2, 3)
        with ember.no_grad():
            for _ in range(4):
                np.testing.assert_array_equal(compiled(b).numpy(), fn(a).numpy())
                np.testing.assert_array_equal(b.numpy(), a.numpy())
        (planned,) = _planned(compiled)
        assert planned.stats["in_place"] == in_place


def test_graphs_the_plan_does_not_know_still_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kernels without an out= form (sort, cumsum, gather ...) replay as recorded among planned
    ones; a plan that fails leaves the plain replay; EMBER_COMPILE_BACKEND=0 turns the hook off."""

    def fn(x: ember.Tensor) -> ember.Tensor:
        v, i = (x * 2).sort(dim=1)
        return (v.cumsum(1) + x.gather(1, i)).exp().sum(0)

    x = ember.tensor(np.random.default_rng(0).random((4, 5)).astype(np.float32))
    compiled = ember.compile(fn)
    for _ in range(4):
        np.testing.assert_array_equal(compiled(x).numpy(), fn(x).numpy())
    (planned,) = _planned(compiled)
    assert planned.fast is not planned.plain and planned.stats["planned"] > 0

    def failing(*a: Any) -> Any:
        raise RuntimeError("plan failed")

    monkeypatch.setattr(cpu_compiled, "plan", failing)
    compiled = ember.compile(fn)
    for _ in range(4):
        np.testing.assert_array_equal(compiled(x).numpy(), fn(x).numpy())
    (replay,) = compiled._cache.values()
    assert replay.fast is replay.plain and compiled.stats["replays"] == 3

    monkeypatch.setenv("EMBER_COMPILE_BACKEND", "0")
    compiled = ember.compile(fn)
    for _ in range(3):
        np.testing.assert_array_equal(compiled(x).numpy(), fn(x).numpy())
    assert not any(isinstance(r, PlannedReplay) for r in compiled._cache.values())


@pytest.mark.parametrize("fusion_calls", ["default", "forced"])
def test_op_records_replayed_after_planning(fusion_calls: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every op record's first forward sample (float32 where it has it) through a compiled
    function called four times (capture, recording replay, two planned replays) equals eager bit
    for bit; "forced": with fusion on the smallest groups (a single op's graph never reaches
    fusion.MIN_CALLS), so every record's elementwise runs go through the generated C too."""
    from ember.testing.op_table import OPS, cast_sample, to_ember

    if fusion_calls == "forced":
        if native.library() is None:
            pytest.skip(f"the native loops are not available here: {native.status()}")
        monkeypatch.setattr(cpu_fusion, "MIN_CALLS", 2)
    dev = ember.device("cpu")
    fused = 0
    for spec in OPS:
        if not spec.dtypes:
            continue
        dtype = "float32" if "float32" in spec.dtypes else spec.dtypes[0]
        fn = spec.caller()
        raw = next(iter(spec.samples(dtype, np.random.default_rng(0))), None)
        if raw is None:
            continue
        sample = cast_sample(raw, dtype)
        compiled = ember.compile(lambda *a, _fn=fn, **k: _fn(*a, **k))
        ember.manual_seed(0)
        args, kwargs = to_ember(sample, dtype, dev)
        expected = fn(*args, **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CompileWarning)
            for _ in range(4):
                ember.manual_seed(0)
                args, kwargs = to_ember(sample, dtype, dev)
                got = compiled(*args, **kwargs)
        for e, g in zip(_tensors(expected), _tensors(got), strict=True):
            assert (
                np.ascontiguousarray(g.detach().numpy()).tobytes()
                == np.ascontiguousarray(e.detach().numpy()).tobytes()
            ), spec.name
        fused += sum(r.stats["fused"] for r in compiled._cache.values() if isinstance(r, PlannedReplay))
    if fusion_calls == "forced":
        assert fused > 50, fused


def _tensors(out: Any) -> list[Any]:
    if isinstance(out, ember.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _tensors(o)]
    return []


def test_a_kernel_returning_its_input_is_taken_for_a_view(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel the plan takes for a fresh one that returns memory of its input (here ``where``,
    returning its second argument, which is right for an all-true condition): the first replay
    sees it, and the input's buffer then lives as long as the output (nothing is written over
    it)."""
    monkeypatch.setitem(ember.device("cpu").kernels, "where", lambda cond, a, b: a)

    def fn(x: ember.Tensor) -> ember.Tensor:
        b = ember.where(x >= 0, x * 2, x)
        c = x + 1
        return b * c

    x = ember.arange(8.0)
    compiled = ember.compile(fn)
    with ember.no_grad():
        for _ in range(4):
            np.testing.assert_array_equal(compiled(x).numpy(), fn(x).numpy())
    assert _planned(compiled)
