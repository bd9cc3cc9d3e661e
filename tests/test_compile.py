"""ember.compile: a compiled function equals its eager twin (bitwise: the replay runs the very
kernels eager ran, in the same order, on the same data), on cpu and opencl; guards, recompiles,
the eager fallback with its warning, and what explain() shows."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest
from ember.compile import CompiledFunction, CompileWarning

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from train_digits import DigitsCNN, train_step  # noqa: E402

DEVICES = ["cpu", "opencl", "cuda"]


@pytest.fixture(params=DEVICES)
def dev(request: pytest.FixtureRequest) -> ember.Device:
    """cpu and opencl (skipped with the backend's reason when it cannot run here)."""
    try:
        return ember.device(request.param)
    except ember.BackendError as exc:
        pytest.skip(f"device {request.param!r} unusable: {exc}")


def _batches(dev: Any, n: int, batch: int = 32, seed: int = 0) -> list[tuple[ember.Tensor, ember.Tensor]]:
    rng = np.random.default_rng(seed)
    return [
        (
            ember.tensor(rng.random((batch, 1, 8, 8)).astype(np.float32), device=dev),
            ember.tensor(rng.integers(0, 10, batch), device=dev),
        )
        for _ in range(n)
    ]


def _params(model: nn.Module) -> list[np.ndarray]:
    return [p.detach().numpy() for p in model.parameters()]


def _twins(dev: Any, optimizer: str) -> tuple[Any, Any, Any, Any]:
    def make() -> tuple[Any, Any]:
        ember.manual_seed(0)
        m = DigitsCNN().to(dev)
        if optimizer == "sgd":
            return m, ember.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
        return m, ember.optim.Adam(m.parameters(), lr=3e-3)

    return (*make(), *make())


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_step_equals_eager_twin_over_20_steps(dev: Any, optimizer: str) -> None:
    m1, o1, m2, o2 = _twins(dev, optimizer)
    step = ember.compile(train_step)
    batches = _batches(dev, 20)
    ember.manual_seed(1)  # dropout draws from the default generator: the same masks both ways
    eager_losses = [train_step(m1, o1, x, y).item() for x, y in batches]
    ember.manual_seed(1)
    compiled_losses = [step(m2, o2, x, y).item() for x, y in batches]
    assert compiled_losses == eager_losses
    _assert_optimizer_twins(m1, o1, m2, o2)  # the Python-visible state too
    assert step.stats["captures"] == 2  # the first step creates optimizer state; the second is steady
    assert step.stats["replays"] == 18
    explained = step.explain()
    assert "matmul" in explained and "check: ember.ops.gather_scatter._check_index" in explained
    if optimizer == "adam":  # the first step creates the state (eagerly); the steady one replays
        first, steady = explained.split("compiled train_step:")[1:]
        assert "eager: optimizer 0.step() (it changes the optimizer's host state" in first
        assert "0 eager optimizer steps, 8 optimizer host-scalar calls" in steady
        assert "h0 = O[0]._host_scalars(O[0].param_groups[0], O[0].state[P[" in steady


def _assert_optimizer_twins(m1: nn.Module, o1: Any, m2: nn.Module, o2: Any) -> None:
    """Parameters, gradients and every optimizer state value (tensors and the host step count)."""
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p1.detach().numpy(), p2.detach().numpy())
        np.testing.assert_array_equal(p1.grad.numpy(), p2.grad.numpy())
        s1, s2 = o1.state[p1], o2.state[p2]
        assert s1.keys() == s2.keys()
        for k in s1:
            if isinstance(s1[k], ember.Tensor):
                np.testing.assert_array_equal(s1[k].numpy(), s2[k].numpy())
            else:
                assert s1[k] == s2[k] and type(s1[k]) is type(s2[k])
    assert o1.param_groups[0]["lr"] == o2.param_groups[0]["lr"]


@pytest.mark.parametrize("optimizer", ["Adam", "AdamW"])
def test_adam_replays_with_a_scheduler_and_a_state_dict_round_trip(dev: Any, optimizer: str) -> None:
    """24 Adam/AdamW steps, the lr changed by a scheduler after each (the replay recomputes the bias
    corrections and reads the new lr), the optimizer reloaded from its own state dict mid-run."""

    def make() -> tuple[Any, Any, Any]:
        ember.manual_seed(0)
        m = DigitsCNN().to(dev)
        o = getattr(ember.optim, optimizer)(m.parameters(), lr=3e-3, weight_decay=0.05, amsgrad=True)
        return m, o, ember.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / (1 + 0.3 * e))

    (m1, o1, s1), (m2, o2, s2) = make(), make()
    step = ember.compile(train_step)
    losses: list[list[float]] = [[], []]
    for i, (x, y) in enumerate(_batches(dev, 24, batch=16)):
        for j, (m, o, s, f) in enumerate(((m1, o1, s1, train_step), (m2, o2, s2, step))):
            ember.manual_seed(100 + i)
            losses[j].append(f(m, o, x, y).item())
            s.step()
            if i == 11:  # a round trip through the state dict: new state tensors and dicts
                o.load_state_dict(o.state_dict())
    assert losses[0] == losses[1]
    _assert_optimizer_twins(m1, o1, m2, o2)
    assert all(st["step"] == 24 for st in o2.state.values())
    assert o2.param_groups[0]["lr"] != 3e-3
    assert step.stats["captures"] == 2 and step.stats["replays"] == 22 and step.stats["eager"] == 0


@pytest.mark.parametrize("optimizer", ["RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam"])
def test_other_optimizers_equal_eager_under_a_scheduler(dev: Any, optimizer: str) -> None:
    """The host-scalar optimizers replay (RAdam's step switches kernels on its step count: it runs
    eagerly inside the replay); all equal their eager twins bitwise."""
    kwargs: dict[str, dict[str, Any]] = {
        "RMSprop": {"momentum": 0.5, "centered": True},
        "Adagrad": {"lr_decay": 0.01},
        "NAdam": {"decoupled_weight_decay": True},
        "RAdam": {},
    }

    def make() -> tuple[Any, Any, Any]:
        ember.manual_seed(0)
        m = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3)).to(dev)
        cls = getattr(ember.optim, optimizer)
        o = cls(m.parameters(), lr=1e-2, weight_decay=0.1, **kwargs.get(optimizer, {}))
        return m, o, ember.optim.lr_scheduler.StepLR(o, 3, gamma=0.5)

    def fn(m: nn.Module, o: Any, x: ember.Tensor) -> ember.Tensor:
        o.zero_grad()
        loss = (m(x) ** 2).mean()
        loss.backward()
        o.step()
        return loss.detach()

    (m1, o1, s1), (m2, o2, s2) = make(), make()
    step = ember.compile(fn)
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = ember.tensor(rng.random((5, 6)).astype(np.float32), device=dev)
        assert fn(m1, o1, x).item() == step(m2, o2, x).item()
        s1.step()
        s2.step()
    _assert_optimizer_twins(m1, o1, m2, o2)
    steady = step.explain().split("compiled fn:")[-1]
    if optimizer == "RAdam":  # its lr is a guarded hyper-parameter: each new lr is a new signature
        assert "1 eager optimizer steps" in steady
    else:
        assert "0 eager optimizer steps, 4 optimizer host-scalar calls" in steady
        assert step.stats["replays"] == 18


def test_a_subclass_step_of_its_own_keeps_lr_guarded() -> None:
    """lr leaves the guards only for the step that declared it reads lr through _host_scalars: a
    subclass's own step may read lr directly, so a new lr captures again."""

    class DirectLr(ember.optim.Adam):
        def step(self, closure: Any = None) -> Any:
            super().step()
            with ember.no_grad():
                for p in self.param_groups[0]["params"]:
                    p.sub_(p.grad * self.param_groups[0]["lr"])

    def make() -> tuple[Any, Any]:
        ember.manual_seed(0)
        m = nn.Linear(3, 2)
        return m, DirectLr(m.parameters(), lr=0.1)

    def train(m: nn.Module, o: Any, x: ember.Tensor) -> None:
        o.zero_grad()
        m(x).sum().backward()
        o.step()

    (m1, o1), (m2, o2) = make(), make()
    fn = ember.compile(train)
    x = ember.ones(4, 3)
    for i in range(6):
        for m, o, f in ((m1, o1, train), (m2, o2, fn)):
            f(m, o, x)
            o.param_groups[0]["lr"] = 0.1 / (i + 2)
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p1.detach().numpy(), p2.detach().numpy())
    assert fn.stats["replays"] == 0  # every call met a new lr: no replay could have used a stale one


def test_host_scalars_returning_a_hyper_parameter_object_runs_eagerly() -> None:
    """Host scalars are told apart by identity: a hyper-parameter's own float is refused, named."""

    class Aliasing(ember.optim.RMSprop):
        def _host_scalars(self, group: dict[str, Any], state: dict[str, Any]) -> tuple[float, ...]:
            state["step"] += 1
            return (group["lr"],)

    m = nn.Linear(3, 2)
    o = Aliasing(m.parameters(), lr=0.5)
    step = ember.compile(lambda x: (o.zero_grad(), m(x).sum().backward(), o.step()) and None)
    x = ember.ones(4, 3)
    with pytest.warns(CompileWarning, match=r"Aliasing._host_scalars returns a hyper-parameter's own float"):
        step(x)
    step(x)  # the state now exists: a new signature, refused the same way (warned once)
    step(x)
    assert step.stats["captures"] == 2 and step.stats["eager"] == 1 and step.stats["replays"] == 0
    assert o.state[m.weight]["step"] == 3


def test_forward_pass_equals_eager(dev: Any) -> None:
    ember.manual_seed(0)
    model = DigitsCNN().to(dev).eval()
    fwd = ember.compile(model)
    (x, _), (x2, _) = _batches(dev, 2)
    with ember.no_grad():
        for inp in (x, x2, x):
            np.testing.assert_array_equal(fwd(inp).numpy(), model(inp).numpy())
    assert fwd.stats == {"captures": 1, "replays": 2, "eager": 0, "recompiles": 0}


def test_dropout_draws_fresh_numbers_like_eager(dev: Any) -> None:
    x = ember.ones(4, 256, device=dev)
    fn = ember.compile(lambda t: F.dropout(t, 0.5, True) * 2)
    ember.manual_seed(7)
    eager = [F.dropout(x, 0.5, True).numpy() * 2 for _ in range(4)]
    ember.manual_seed(7)
    compiled = [fn(x).numpy() for _ in range(4)]
    for a, b in zip(eager, compiled):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(compiled[1], compiled[2])  # each replay draws its own mask
    assert fn.stats["replays"] == 3
    # the generator moved on as eager's did: the next eager draw is the same either way
    ember.manual_seed(7)
    for _ in range(4):
        F.dropout(x, 0.5, True)
    after_eager = ember.rand(3, device=dev).numpy()
    ember.manual_seed(7)
    for _ in range(4):
        fn(x)
    np.testing.assert_array_equal(ember.rand(3, device=dev).numpy(), after_eager)


def test_new_shape_recompiles_and_cache_is_bounded(dev: Any) -> None:
    fn = ember.compile(lambda a: (a * 2).sum(0), cache_size=2)
    for n in (3, 4, 3, 4):
        a = ember.arange(n * 2.0, device=dev).reshape(n, 2)
        np.testing.assert_array_equal(fn(a).numpy(), (a * 2).sum(0).numpy())
    assert fn.stats["captures"] == 2 and fn.stats["recompiles"] == 1 and fn.stats["replays"] == 2
    assert "recompiling for a new signature: arguments" in fn.explain()
    a = ember.ones(5, 2, device=dev)
    with pytest.warns(
        CompileWarning, match=r"met 3 input signatures, more than cache_size=2; new signatures run eagerly"
    ):
        np.testing.assert_array_equal(fn(a).numpy(), [10.0, 10.0])
    assert fn.stats["eager"] == 1


def test_load_state_dict_is_seen_by_the_next_replay(dev: Any) -> None:
    m1, o1, m2, o2 = _twins(dev, "sgd")
    step = ember.compile(train_step)
    batches = _batches(dev, 6)
    ember.manual_seed(3)
    for x, y in batches[:3]:
        train_step(m1, o1, x, y)
    ember.manual_seed(3)
    for x, y in batches[:3]:
        step(m2, o2, x, y)
    ember.manual_seed(11)
    fresh = DigitsCNN().to(dev)
    for m, o in ((m1, o1), (m2, o2)):
        m.load_state_dict(fresh.state_dict())
        o.load_state_dict(ember.optim.SGD(m.parameters(), lr=0.05, momentum=0.9).state_dict())
    ember.manual_seed(5)
    for x, y in batches[3:]:
        train_step(m1, o1, x, y)
    ember.manual_seed(5)
    for x, y in batches[3:]:
        step(m2, o2, x, y)
    for a, b in zip(_params(m1), _params(m2)):
        np.testing.assert_array_equal(a, b)


def test_parameter_rebound_outside_is_read_by_the_replay(dev: Any) -> None:
    lin = nn.Linear(3, 2).to(dev)
    fn = ember.compile(lin)
    x = ember.ones(1, 3, device=dev)
    with ember.no_grad():
        fn(x)
        fn(x)
        lin.weight.data = ember.zeros(2, 3, device=dev)  # a new buffer, same shape
        np.testing.assert_array_equal(fn(x).numpy(), lin.bias.detach().numpy()[None])
    assert fn.stats["captures"] == 1


def test_item_inside_warns_once_and_runs_eagerly(dev: Any) -> None:
    def fn(a: ember.Tensor) -> float:
        return (a * 3).sum().item()

    compiled = ember.compile(fn)
    a = ember.ones(4, device=dev)
    with pytest.warns(CompileWarning) as rec:
        assert compiled(a) == 12.0
    (w,) = rec
    msg = str(w.message)
    assert "ember.compile: " in msg and "fn cannot be captured for this input signature" in msg
    assert "item reads tensor values on the host" in msg
    assert "test_compile.py:" in msg and "return (a * 3).sum().item()" in msg
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning
        assert compiled(a * 2) == 24.0
    assert compiled.stats["eager"] == 1 and "eager: item reads tensor values" in compiled.explain()


def test_value_dependent_shape_runs_eagerly(dev: Any) -> None:
    compiled = ember.compile(lambda a: ember.nonzero(a > 1))
    a = ember.tensor([0.0, 2.0, 3.0], device=dev)
    with pytest.warns(CompileWarning, match="output shape that depends on the values"):
        out = compiled(a)
    np.testing.assert_array_equal(out.numpy(), [[1], [2]])


def test_train_eval_switch_recompiles(dev: Any) -> None:
    ember.manual_seed(0)
    model = DigitsCNN(dropout=0.5).to(dev)
    fwd = ember.compile(model)
    ((x, _),) = _batches(dev, 1)
    with ember.no_grad():
        model.eval()
        ev = fwd(x).numpy()
        np.testing.assert_array_equal(ev, model(x).numpy())
        model.train()
        ember.manual_seed(2)
        tr = fwd(x).numpy()
        ember.manual_seed(2)
        np.testing.assert_array_equal(tr, model(x).numpy())
        assert not np.array_equal(ev, tr)
        model.eval()
        np.testing.assert_array_equal(fwd(x).numpy(), ev)
    assert fwd.stats["captures"] == 2 and fwd.stats["replays"] == 1
    assert "module training modes" in fwd.explain()


def test_output_requiring_grad_without_backward_runs_eagerly() -> None:
    lin = nn.Linear(3, 2)
    fwd = ember.compile(lin)
    x = ember.ones(1, 3)
    with pytest.warns(CompileWarning, match="returns a tensor that requires grad and runs no backward"):
        out = fwd(x)
    out.sum().backward()  # the eager result keeps its graph
    assert lin.weight.grad is not None


def test_returned_input_and_structures() -> None:
    fn = ember.compile(lambda a, b: {"a": a, "sum": (a + b, 3), "n": None})
    a, b = ember.ones(2), ember.arange(2.0)
    for _ in range(2):
        out = fn(a, b)
        assert out["a"] is a and out["n"] is None and out["sum"][1] == 3
        np.testing.assert_array_equal(out["sum"][0].numpy(), [1.0, 2.0])
    assert fn.stats["replays"] == 1


def test_in_place_update_of_an_input_bumps_its_version() -> None:
    def fn(a: ember.Tensor) -> None:
        a.mul_(2)

    compiled = ember.compile(fn)
    a = ember.ones(3)
    for expect in (2.0, 4.0, 8.0):
        v = a._version[0]
        compiled(a)
        np.testing.assert_array_equal(a.numpy(), [expect] * 3)
        assert a._version[0] == v + 1


def test_debug_switch_prints_the_graph(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("EMBER_COMPILE_DEBUG", "1")
    fn = ember.compile(lambda a: a.exp() + 1)
    fn(ember.ones(2))
    err = capsys.readouterr().err
    assert "kernel calls" in err and "exp x1" in err and "def replay(L, P, O):" in err


def test_decorator_forms_and_errors() -> None:
    @ember.compile
    def f(a: ember.Tensor) -> ember.Tensor:
        return a + 1

    @ember.compile(cache_size=1)
    def g(a: ember.Tensor) -> ember.Tensor:
        return a - 1

    assert isinstance(f, CompiledFunction) and f.__name__ == "f" and g.cache_size == 1
    np.testing.assert_array_equal(f(ember.ones(1)).numpy(), [2.0])
    with pytest.raises(ValueError, match=r"ember.compile: cache_size must be >= 1, got 0"):
        ember.compile(f, cache_size=0)
    with pytest.raises(TypeError, match=r"ember.compile: expected a function or a Module, got int"):
        ember.compile(3)


def test_eager_pays_nothing_after_a_capture() -> None:
    """The recorders are put back: the kernel dicts hold the backend's own kernels again."""
    dev = ember.device("cpu")
    before = dict(dev.kernels)
    ember.compile(lambda a: a * 2)(ember.ones(2))
    assert all(dev.kernels[k] is v for k, v in before.items())


def test_backend_compile_graph_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    """The optional ``Backend.compile_graph``: called once per capture with the graph; a rewritten
    Graph is replayed, a callable replaces the replay, None keeps the plain replay."""
    from ember.compile import Graph

    backend = ember.device("cpu").backend
    seen: list[Graph] = []

    def drop_nothing(graph: Graph) -> Graph:
        seen.append(graph)
        return graph

    monkeypatch.setattr(backend, "compile_graph", drop_nothing, raising=False)
    fn = ember.compile(lambda a: a.exp() * 2)
    a = ember.ones(3)
    for _ in range(3):
        np.testing.assert_array_equal(fn(a).numpy(), (a.exp() * 2).numpy())
    assert len(seen) == 1 and [n.name for n in seen[0].nodes] == ["exp", "mul"]

    calls: list[int] = []

    def counting(graph: Graph) -> Any:
        plain = graph.build()

        def replay(L: Any, P: Any, O: Any) -> Any:  # noqa: E741 - the replay's argument names
            calls.append(1)
            return plain(L, P, O)

        return replay

    monkeypatch.setattr(backend, "compile_graph", counting, raising=False)
    fn = ember.compile(lambda a: a + 1)
    for _ in range(3):
        np.testing.assert_array_equal(fn(a).numpy(), [2.0, 2.0, 2.0])
    assert len(calls) == 2  # the first call captured (eagerly)

    monkeypatch.setattr(backend, "compile_graph", lambda graph: None, raising=False)
    fn = ember.compile(lambda a: a - 1)
    for _ in range(2):
        np.testing.assert_array_equal(fn(a).numpy(), [0.0, 0.0, 0.0])
    assert fn.stats["replays"] == 1


def test_graph_reads_defines_in_place_and_dead_code() -> None:
    """What an item does with slots (``reads``, ``defines``, ``in_place``, ``is_dynamic``,
    ``last_use``), on a hand-made graph with each kind of item and slots nested in kwargs,
    tuples, a check's TensorRef and a returned ResultTensor; the dead-code pass built on them drops an unread
    binding and an unread kernel call but keeps an in-place one, and the replay frees each slot
    only after its last reader."""
    from types import SimpleNamespace

    from ember.compile.graph import (
        Bind,
        Check,
        Effect,
        Graph,
        HostArg,
        Node,
        RandomArg,
        Reserve,
        ResultTensor,
        Return,
        Slot,
        TensorRef,
        defines,
        in_place,
        is_dynamic,
        last_use,
        reads,
    )

    v = [Slot(n) for n in range(7)]
    checked: list[Any] = []
    check = Check(lambda t, n: checked.append(t.data.shape), (TensorRef(v[4], (1,), None, None), 1), "split")
    split = Node("split", "cpu", lambda t: (t[0][: t[1]], t[0][t[1] :]), ((v[3], 1),), {}, (v[4], v[5]))
    cases = [  # an item, the slots it reads, the slots it defines
        (Bind(v[1], "L[0]._data"), set(), {v[1]}),
        (Bind(v[2], "L[1]._data"), set(), {v[2]}),
        (Bind(v[0], "L[2]._data"), set(), {v[0]}),  # read by nothing: dropped
        (Node("mul", "cpu", lambda a, b: a * b, (v[1],), {"b": v[2]}, v[3]), {v[1], v[2]}, {v[3]}),
        (split, {v[3]}, {v[4], v[5]}),  # a tuple argument, two outputs
        (Node("exp", "cpu", np.exp, (v[3],), {}, v[6]), {v[3]}, {v[6]}),  # read by nothing: dropped
        (Node("copy_", "cpu", np.copyto, (v[1], v[3]), {}, None), {v[1], v[3]}, set()),
        (check, {v[4]}, set()),
        (Effect("O.append(v5)", (v[5],)), {v[5]}, set()),
        (Return((ResultTensor(v[1], (2,), None, None, "L[0]"), 3)), {v[1]}, set()),
    ]
    items = [c[0] for c in cases]
    assert [(reads(i), defines(i)) for i in items] == [c[1:] for c in cases]
    assert [in_place(i) for i in items] == [False] * 6 + [True] + [False] * 3
    # arguments computed per replay: a host scalar (nested in a tuple), a random kernel's counter
    scaled = Node("mul", "cpu", np.multiply, ((v[1], HostArg(0, 1)),), {}, v[6])
    drawn = Node("uniform", "cpu", None, ((2,),), {"offset": RandomArg(Reserve(None), 0)}, v[6])
    assert [is_dynamic(i) for i in (*items, scaled, drawn)] == [False] * 10 + [True, True]
    # each slot's last item: v1 is returned (9), v3 last read by copy_ (6), v6 defined only (5)
    assert last_use(items) == {v[0]: 2, v[1]: 9, v[2]: 3, v[3]: 6, v[4]: 7, v[5]: 8, v[6]: 5}

    graph = Graph("g", list(items), []).eliminate_dead_code()
    assert graph.removed == 1
    assert [i for i in items if i not in graph.items] == [items[2], items[5]]
    replay = graph.build()
    a = np.array([3.0, 4.0])
    out: list[Any] = []
    result = replay([SimpleNamespace(_data=a), SimpleNamespace(_data=np.array([2.0, 5.0])), None], [], out)
    np.testing.assert_array_equal(a, [6.0, 20.0])  # copy_ wrote v3 (v1 * v2) into v1
    np.testing.assert_array_equal(out[0], [20.0])
    assert checked == [(1,)] and result[1] == 3
    # each slot is deleted after its last reader (v2 after mul, v3 after copy_, v4 after the
    # check, v5 after the effect), never before
    lines = [ln.strip() for ln in graph.source.splitlines()]
    after = {ln[4:]: lines[k - 1] for k, ln in enumerate(lines) if ln.startswith("del ")}
    assert after == {
        "v2": next(ln for ln in lines if ln.startswith("v3 = mul")),
        "v3": next(ln for ln in lines if ln.startswith("copy_")),
        "v4": next(ln for ln in lines if ln.startswith("f")),  # the check
        "v5": "O.append(v5)",
    }, graph.source


def test_value_checks_run_again_on_replay(dev: Any) -> None:
    """core's bounds checks read values only to raise: a replay runs them on its own data."""
    ember.manual_seed(0)
    model = DigitsCNN().to(dev).eval()
    loss_of = ember.compile(lambda x, y: F.cross_entropy(model(x), y))
    (x, y), (x2, _) = _batches(dev, 2)
    with ember.no_grad():
        loss_of(x, y)
        loss_of(x2, y)
        bad = ember.tensor([10] + [0] * 31, device=dev)
        with pytest.raises(IndexError, match=r"cross_entropy: target 10 is out of bounds for 10 classes"):
            loss_of(x, bad)
    assert loss_of.stats["replays"] == 2  # the failing call was a replay too


def test_embedding_step_is_captured_and_its_index_check_runs_on_replay(dev: Any) -> None:
    """An embedding's bounds check is a value check (a language model's training step replays
    instead of warning and running eagerly); a bad token on a replay raises as eagerly."""

    def make() -> tuple[Any, Any]:
        ember.manual_seed(3)
        model = nn.Sequential(nn.Embedding(11, 8), nn.Flatten(), nn.Linear(8 * 5, 11)).to(dev)
        return model, ember.optim.AdamW(model.parameters(), lr=1e-2)

    (m1, o1), (m2, o2) = make(), make()

    def step(model: nn.Module, opt: Any, x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    compiled = ember.compile(step)
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        for _ in range(4):
            x = ember.tensor(rng.integers(0, 11, (6, 5)), device=dev)
            y = ember.tensor(rng.integers(0, 11, 6), device=dev)
            assert compiled(m1, o1, x, y).item() == step(m2, o2, x, y).item()
    assert compiled.stats["replays"] == 2  # the second call captures again: AdamW's state exists
    for a, b in zip(_params(m1), _params(m2), strict=True):
        np.testing.assert_array_equal(a, b)
    bad = ember.tensor([[0, 1, 2, 3, 11]] * 6, device=dev)
    with pytest.raises(IndexError, match=r"embedding: index 11 is out of range for an embedding with 11"):
        compiled(m1, o1, bad, y)


def test_exception_inside_the_capture_propagates_and_restores() -> None:
    dev = ember.device("cpu")
    before = dict(dev.kernels)

    def fn(a: ember.Tensor) -> ember.Tensor:
        a * 2
        raise ValueError("boom")

    compiled = ember.compile(fn)
    with pytest.raises(ValueError, match="boom"):
        compiled(ember.ones(2))
    assert all(dev.kernels[k] is v for k, v in before.items())
    with pytest.raises(ValueError, match="boom"):  # nothing cached: captured again, raises again
        compiled(ember.ones(2))


def test_gradients_of_inputs_are_set_and_accumulate(dev: Any) -> None:
    def fn(x: ember.Tensor, w: ember.Tensor) -> ember.Tensor:
        loss = (x * w).sum()
        loss.backward()
        return loss

    compiled = ember.compile(fn)
    x = ember.arange(3.0, device=dev).requires_grad_()
    w = ember.tensor([2.0, 3.0, 4.0], device=dev)
    for n in range(1, 5):  # no zero_grad: the gradient accumulates, as eager
        loss = compiled(x, w)
        assert loss.item() == 11.0
        assert loss.requires_grad == (n <= 2)  # captures return eager's result; replays detach it
        np.testing.assert_array_equal(x.grad.numpy(), [2.0 * n, 3.0 * n, 4.0 * n])
    # the first call has no gradient yet, the second accumulates into one: two signatures
    assert compiled.stats["captures"] == 2 and compiled.stats["replays"] == 2


def test_batch_norm_running_stats_follow_eager(dev: Any) -> None:
    def make() -> tuple[nn.Module, Any]:
        ember.manual_seed(0)
        m = nn.Sequential(
            nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(144, 10)
        ).to(dev)
        return m, ember.optim.SGD(m.parameters(), lr=0.1)

    (m1, o1), (m2, o2) = make(), make()
    step = ember.compile(train_step)
    for x, y in _batches(dev, 5):
        train_step(m1, o1, x, y)
        step(m2, o2, x, y)
    for (n, a), (_, b) in zip(m1.state_dict().items(), m2.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=n)
    assert step.stats["replays"] == 3  # the first call has no gradients yet: a signature of its own


def test_replacing_a_parameter_inside_runs_eagerly() -> None:
    lin = nn.Linear(2, 2)

    def fn(x: ember.Tensor) -> ember.Tensor:
        with ember.no_grad():
            out = lin(x)
        lin.weight = nn.Parameter(lin.weight.detach() * 2)
        return out

    compiled = ember.compile(fn)
    with pytest.warns(CompileWarning, match="replaces a module's parameter or buffer"):
        compiled(ember.ones(1, 2))
    w = lin.weight.detach().numpy().copy()
    with pytest.warns(
        CompileWarning, match="replaces a module's parameter"
    ):  # a new parameter: a new signature
        compiled(ember.ones(1, 2))
    np.testing.assert_array_equal(lin.weight.detach().numpy(), w * 2)


def test_modules_reached_through_a_bound_method_in_the_closure() -> None:
    lin = nn.Linear(2, 2)
    forward = lin.forward

    def fn(x: ember.Tensor) -> ember.Tensor:
        with ember.no_grad():
            return forward(x)

    compiled = ember.compile(fn)
    x = ember.ones(1, 2)
    compiled(x)
    lin.weight.data = ember.zeros(2, 2)  # rebound: read by the replay, not kept from the capture
    np.testing.assert_array_equal(compiled(x).numpy(), lin.bias.detach().numpy()[None])
    lin.eval()  # the module's training flag is in the signature
    compiled(x)
    assert compiled.stats == {"captures": 2, "replays": 1, "eager": 0, "recompiles": 1}


def test_a_compiled_function_inside_another() -> None:
    ember.manual_seed(0)
    lin = nn.Linear(2, 2)
    inner = ember.compile(lin)

    @ember.compile
    def outer(x: ember.Tensor) -> ember.Tensor:
        with ember.no_grad():
            return inner(x) * 2

    x = ember.ones(1, 2)
    with ember.no_grad():
        expected = (lin(x) * 2).numpy()
    for _ in range(3):
        np.testing.assert_array_equal(outer(x).numpy(), expected)
    assert outer.stats["replays"] == 2 and inner.stats["captures"] == 0  # inner ran inside the capture
    assert "P[0]._data" in outer.explain()  # lin's parameters are read as parameters, not constants


def test_compiled_method_of_a_module() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(2, 3)

        @ember.compile
        def predict(self, x: ember.Tensor) -> ember.Tensor:
            with ember.no_grad():
                return self.lin(x).relu()

    a, b = Net(), Net()
    x = ember.ones(4, 2)
    for _ in range(2):
        for net in (a, b):  # one compiled function per instance
            with ember.no_grad():
                expected = net.lin(x).relu().numpy()
            np.testing.assert_array_equal(net.predict(x).numpy(), expected)
    assert a.predict is a.predict and a.predict is not b.predict
    assert a.predict.stats["replays"] == 1 and b.predict.stats["replays"] == 1
