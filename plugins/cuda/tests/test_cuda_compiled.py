"""The cuda backend's ``compile_graph`` (:mod:`ember_cuda.compiled`).

Without a GPU: the segment plan on hand-made graphs and on graphs captured from real training
steps on cpu, and the rewritten replay (segments running their kernels one by one, which is what a
segment does when its capture fails) equal to eager execution bit for bit, with numpy kernels.
With CuPy and a GPU: training steps replayed as CUDA graphs equal their eager twins bit for bit,
results the caller keeps are not overwritten by later calls, and moved inputs are followed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import ember
import ember.nn.functional as F
import numpy as np
import pytest
from ember import nn
from ember.backend import BackendUnavailable
from ember.compile.graph import Bind, Effect, Graph, HostArg, Node, ResultTensor, Return, Slot, defines, reads

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

from bench_compile import digits_training  # the step bench_compile.py times

from ember_cuda.compiled import HOST_KERNELS, MIN_NODES, GraphReplay, _byte_extent, capturable, plan_segments


def _hand_made() -> Graph:
    """v0 (input), v1 (parameter) -> four capturable calls -> a call with a host scalar -> an
    effect; the return reads v3; an in-place update outside reads v5."""
    v = [Slot(i) for i in range(8)]
    items = [
        Bind(v[0], "L[0]._data"),
        Bind(v[1], "P[0]._data"),
        Node("mul", "cpu", np.multiply, (v[0], v[1]), {}, v[2]),
        Node("add", "cpu", np.add, (v[2], 1.0), {}, v[3]),
        Node("exp", "cpu", np.exp, (v[3],), {}, v[4]),
        Node("neg", "cpu", np.negative, (v[4],), {}, v[5]),
        Node("mul", "cpu", np.multiply, (v[5], HostArg(0, 0)), {}, v[6]),
        Node("copy_", "cpu", np.copyto, (v[1], v[5]), {}, None),
        Effect("P[0].grad = _mk(v6, (2,), {dt}, {dev})", (v[6],)),
        Return(ResultTensor(v[3], (2,), None, None)),
    ]
    return Graph("hand_made", items, [])


def test_plan_of_a_hand_made_graph() -> None:
    g = _hand_made()
    (plan,) = plan_segments(g)
    v = [Slot(i) for i in range(8)]
    assert (plan.start, plan.stop) == (2, 6)
    assert plan.inputs == (v[0], v[1])
    # v2 and v4 die inside; v3 is returned, v5 read by the host-scalar call and the update
    assert plan.outputs == (v[3], v[5])
    # v3 leaves through the return; v5 through the host-scalar call whose output an effect sets
    # (the in-place update outside does not make what it reads leave)
    assert plan.escaping == {v[3], v[5]}
    assert not capturable(g.items[6])  # a host scalar: its argument changes per replay
    assert plan_segments(g, min_nodes=5) == []


def test_plan_stops_at_host_kernels() -> None:
    v = [Slot(i) for i in range(10)]
    items = [Bind(v[0], "L[0]._data")]
    items += [Node("neg", "cpu", np.negative, (v[i],), {}, v[i + 1]) for i in range(4)]
    items.append(Node("from_numpy", "cpu", np.asarray, (np.ones(2), 0), {}, v[5]))
    items += [Node("neg", "cpu", np.negative, (v[i],), {}, v[i + 1]) for i in range(5, 9)]
    items.append(Return(ResultTensor(v[9], (2,), None, None)))
    plans = plan_segments(Graph("g", items, []))
    assert "from_numpy" in HOST_KERNELS
    assert [(p.start, p.stop) for p in plans] == [(1, 5), (6, 10)]
    assert plans[0].outputs == () and plans[0].escaping == frozenset()  # v4: read by nothing after
    assert plans[1].inputs == (v[5],) and plans[1].escaping == {v[9]}


def test_byte_extent_matches_numpys_bounds() -> None:
    """The span a copied input's buffer must cover (layout arithmetic only: numpy arrays stand in
    for CuPy's, whose strides and shapes mean the same)."""
    base = np.zeros((6, 8), np.float32)
    views = [base, base.T, base[::-2, 1::3], base[:, ::-1], base[2:5, 4], np.zeros((), np.float64)]
    bounds = getattr(np, "byte_bounds", None) or np.lib.array_utils.byte_bounds
    for v in views:
        lo, hi = _byte_extent(v)
        start = v.__array_interface__["data"][0]
        assert (start + lo, start + hi + v.itemsize) == bounds(v), (v.shape, v.strides)


def _cpu_step_graph(optimizer: str) -> Graph:
    ember.manual_seed(0)
    m = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 4))
    opt = (
        ember.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        if optimizer == "sgd"
        else ember.optim.Adam(m.parameters())
    )

    @ember.compile
    def step(x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
        return loss

    rng = np.random.default_rng(0)
    for _ in range(3):
        step(ember.tensor(rng.random((32, 8), dtype=np.float32)), ember.tensor(rng.integers(0, 4, 32)))
    return step._graphs[-1]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_plan_of_captured_training_steps(optimizer: str) -> None:
    g = _cpu_step_graph(optimizer)
    plans = plan_segments(g)
    assert plans, "a training step has runs of kernel calls to capture"
    defined_at: dict[Slot, int] = {}
    read_at: dict[Slot, list[int]] = {}
    for k, item in enumerate(g.items):
        for s in defines(item):
            defined_at[s] = k
        for s in reads(item):
            read_at.setdefault(s, []).append(k)
    prev_stop = 0
    for p in plans:
        assert p.stop - p.start >= MIN_NODES and p.start >= prev_stop
        assert all(capturable(n) for n in p.nodes)
        # maximal: the items around a segment cannot join it
        assert p.start == 0 or not capturable(g.items[p.start - 1])
        assert p.stop == len(g.items) or not capturable(g.items[p.stop])
        for s in p.inputs:
            assert defined_at[s] < p.start
        inside = {s for n in p.nodes for s in defines(n)}
        assert set(p.outputs) == {s for s in inside if any(k >= p.stop for k in read_at.get(s, []))}
        prev_stop = p.stop
    # every gradient an effect sets and the returned loss leave the replay: copied out
    leaving = {s for item in g.items if isinstance(item, (Effect, Return)) for s in reads(item)}
    outputs = {s for p in plans for s in p.outputs}
    assert leaving & outputs
    assert all(s in p.escaping for p in plans for s in p.outputs if s in leaving)


def _batches(dev: Any, n: int) -> list[tuple[ember.Tensor, ember.Tensor]]:
    rng = np.random.default_rng(0)
    return [
        (
            ember.tensor(rng.random((16, 1, 8, 8)).astype(np.float32), device=dev),
            ember.tensor(rng.integers(0, 10, 16), device=dev),
        )
        for _ in range(n)
    ]


def _replays(step: Any) -> list[GraphReplay]:
    return [r for r in step._cache.values() if isinstance(r, GraphReplay)]


def _run_twins(dev: Any, optimizer: str, steps: int) -> tuple[Any, list[float], list[float], Any, Any]:
    """A digits CNN trained eagerly and its twin trained through ``ember.compile`` on the same
    batches: (the compiled step, eager losses, compiled losses, eager model, compiled model)."""
    m1, _, eager_step = digits_training(dev, optimizer)
    m2, _, step_fn = digits_training(dev, optimizer)
    step = ember.compile(step_fn)
    batches = _batches(dev, steps)
    ember.manual_seed(1)
    eager = [eager_step(x, y).item() for x, y in batches]
    ember.manual_seed(1)
    compiled = [step(x, y).item() for x, y in batches]
    return step, eager, compiled, m1, m2


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_rewritten_replay_equals_eager_on_cpu(monkeypatch: pytest.MonkeyPatch, optimizer: str) -> None:
    """The rewrite (segments as single calls of the generated replay) with every segment running
    its kernels one by one, on cpu's numpy kernels: bitwise the eager twin's training."""
    cpu = ember.device("cpu")
    monkeypatch.setattr(cpu.backend, "compile_graph", lambda graph: GraphReplay(graph, None), raising=False)
    step, eager, compiled, m1, m2 = _run_twins(cpu, optimizer, 6)
    assert compiled == eager
    for a, b in zip(m1.parameters(), m2.parameters(), strict=True):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    (replay,) = _replays(step)[-1:]
    assert replay.stats["segments"] > 0 and replay.stats["launches"] == 0
    assert replay.stats["eager_segments"] == replay.stats["segments"]
    text = step.explain()
    assert "cuda graphs:" in text and "eager (CuPy is not loaded)" in text and "= cuda_graph0_" in text


# -- with a GPU ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cuda() -> Any:
    pytest.importorskip("cupy", reason="CuPy is not installed: GPU tests skipped")
    from ember_cuda.backend import CudaBackend

    try:
        CudaBackend()
    except BackendUnavailable as exc:
        pytest.skip(f"no usable CUDA GPU: {exc}")
    return ember.device("cuda")


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_step_runs_as_cuda_graphs(cuda: Any, optimizer: str) -> None:
    step, eager, compiled, m1, m2 = _run_twins(cuda, optimizer, 8)
    assert compiled == eager
    for a, b in zip(m1.parameters(), m2.parameters(), strict=True):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    replay = _replays(step)[-1]
    assert replay.stats["captures"] >= 1 and replay.stats["launches"] >= 1, replay.describe()
    assert replay.stats["eager_segments"] == 0, replay.describe()
    assert "a CUDA graph" in step.explain()


def test_results_the_caller_keeps_are_not_overwritten(cuda: Any) -> None:
    m, _, step_fn = digits_training(cuda, "sgd")
    step = ember.compile(step_fn)
    kept = []
    for x, y in _batches(cuda, 6):
        loss = step(x, y)
        grads = [p.grad for p in m.parameters()]
        kept.append((loss, loss.numpy().copy(), grads, [g.numpy().copy() for g in grads]))
    assert _replays(step)[-1].stats["launches"] >= 2
    for loss, loss_then, grads, grads_then in kept:
        assert np.array_equal(loss.numpy(), loss_then)
        for g, then in zip(grads, grads_then, strict=True):
            assert np.array_equal(g.numpy(), then)


def test_same_and_new_input_buffers_and_load_state_dict(cuda: Any) -> None:
    m1, _, eager_step = digits_training(cuda, "sgd")
    m2, _, step_fn = digits_training(cuda, "sgd")
    step = ember.compile(step_fn)
    (x, y), (x2, y2) = _batches(cuda, 2)
    # the same batch tensors each call (read in place), then new ones (copied in), then a
    # state loaded into the module between calls
    calls = [(x, y)] * 4 + [(x2, y2), (x, y), (x2, y2)]
    for i, (a, b) in enumerate(calls):
        if i == 5:
            state = {k: v.clone() for k, v in m1.state_dict().items()}
            m1.load_state_dict(state)
            m2.load_state_dict(state)
        assert step(a, b).item() == eager_step(a, b).item()
    for p1, p2 in zip(m1.parameters(), m2.parameters(), strict=True):
        assert np.array_equal(p1.detach().numpy(), p2.detach().numpy())
