"""Threads (docs/architecture.md, "Threads"): grad mode and the default device are per thread, as in
PyTorch; random generators, device resolution and backend construction are process-wide and
thread-safe. Several threads training their own models get exactly what each gets alone.

Races are made likely rather than hoped for: threads start together at a barrier and the
interpreter switches threads every 10 µs or less (:func:`switching_every`) instead of every 5 ms. Every
thread is joined with a timeout, and a thread that hangs fails the test by name. Concurrent work on
a device other than cpu runs in a fresh process (:func:`on_device`), so a backend that is not
thread-safe fails the test instead of crashing the whole run (an OpenCL kernel object whose
arguments two threads set at once can crash the process).
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest
from conftest import make_plugin_dist, run_python

JOIN_TIMEOUT_S = 120.0


@contextlib.contextmanager
def switching_every(seconds: float = 1e-5) -> Iterator[None]:
    """Let the interpreter switch threads every ``seconds`` (Python's default is 5 ms), so races
    show up."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """:func:`switching_every` 10 µs for the whole test."""
    with switching_every(1e-5):
        yield


def run_threads(jobs: dict[str, Callable[[], Any]], timeout: float = JOIN_TIMEOUT_S) -> dict[str, Any]:
    """Run each job in its own thread, all released together; their results by name.

    Fails naming the job that is still running after ``timeout`` seconds, or re-raises the first
    job's exception with its name and traceback."""
    barrier = threading.Barrier(len(jobs))
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def body(name: str, job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout)
            results[name] = job()
        except BaseException:  # reported by the main thread with the job's name
            errors[name] = traceback.format_exc()

    threads = {
        name: threading.Thread(target=body, args=(name, job), name=f"test-{name}", daemon=True)
        for name, job in jobs.items()
    }
    for t in threads.values():
        t.start()
    for name, t in threads.items():
        t.join(timeout)
        if t.is_alive():
            pytest.fail(f"thread {name!r} hung: still running {timeout:.0f} s after it started")
    if errors:
        name, tb = next(iter(errors.items()))
        pytest.fail(f"thread {name!r} raised ({len(errors)} of {len(jobs)} threads failed):\n{tb}")
    return results


@pytest.fixture(params=["cpu", "opencl"])
def device(request: pytest.FixtureRequest) -> ember.Device:
    """Each in-tree data device, skipped with the backend's reason when it cannot be used here."""
    try:
        return ember.device(request.param)
    except ember.BackendError as exc:
        pytest.skip(f"device {request.param!r} unusable: {exc}")


def on_device(device: ember.Device, job: str, *args: Any) -> Any:
    """``job(device, *args)`` (a function of this module returning JSON-able data): here on cpu,
    in a fresh process on any other device (see the module docstring); its result."""
    if device.type == "cpu":
        return globals()[job](device, *args)
    code = f"""
        import json, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import ember, test_threads
        print(json.dumps(test_threads.{job}(ember.device({str(device)!r}), *{args!r})))
    """
    res = run_python(code)
    assert res.returncode == 0, (
        f"{job} on {device} (in a fresh process) exited with {res.returncode}:\n{res.stderr[-4000:]}"
    )
    return json.loads(res.stdout.splitlines()[-1])


# -- grad mode ---------------------------------------------------------------------------------------
def train(device: ember.Device, seed: int, optimizer: str, steps: int) -> dict[str, np.ndarray]:
    """Train a small MLP from seed-fixed weights and data; the losses and final parameters."""
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1)).to(device)
    with ember.no_grad():  # weights from numpy: independent of the shared random generators
        for p in model.parameters():
            p.copy_(ember.tensor(rng.standard_normal(p.shape) * 0.3, dtype=ember.float32, device=device))
    x_np = rng.standard_normal((32, 8)).astype(np.float32)
    x = ember.tensor(x_np, device=device)
    y = ember.tensor(np.sin(x_np.sum(1, keepdims=True)), device=device)
    if optimizer == "sgd":
        opt: ember.optim.Optimizer = ember.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    else:
        opt = ember.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(steps):
        loss = F.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    out = {name: p.detach().numpy().copy() for name, p in model.named_parameters()}
    out["losses"] = np.array(losses)
    return out


def training_differences(device: ember.Device) -> list[str]:
    """Four threads train their own MLPs at once (SGD with momentum and Adam); what differs from
    the same trainings run one after another (an empty list when nothing does)."""
    configs = {
        f"{opt}-{seed}": (seed, opt) for seed, opt in [(0, "sgd"), (1, "adam"), (2, "sgd"), (3, "adam")]
    }
    steps = 12
    alone = {name: train(device, seed, opt, steps) for name, (seed, opt) in configs.items()}
    with switching_every(1e-5):
        together = run_threads(
            {
                name: (lambda s=seed, o=opt: train(device, s, o, steps))
                for name, (seed, opt) in configs.items()
            }
        )
    wrong = []
    for name, want in alone.items():
        got = together[name]
        wrong += [
            f"{name}: {key} {got[key]} != {want[key]}"
            for key in want
            if not np.array_equal(got[key], want[key])
        ]
        if not want["losses"][-1] < want["losses"][0]:
            wrong.append(f"{name} did not train: losses {want['losses']}")
    return wrong


def test_threads_training_their_own_models_get_the_single_threaded_results(device: ember.Device) -> None:
    wrong = on_device(device, "training_differences")
    assert wrong == [], f"concurrent training on {device} differs from single-threaded training: {wrong}"


def test_no_grad_in_one_thread_never_drops_another_threads_graph(fast_switching: None) -> None:
    stop = threading.Event()
    iterations = 1500

    def toggler() -> int:
        n = 0
        w = ember.ones(2)
        while not stop.is_set():
            with ember.no_grad():
                w = w * 1.0
            ember.set_grad_enabled(False)
            ember.set_grad_enabled(True)
            n += 1
        return n

    def builder() -> list[str]:
        wrong = []
        try:
            for i in range(iterations):
                x = ember.tensor([3.0, 4.0], requires_grad=True)
                y = (x * x * 10.0).sum()  # dy/dx = 20 x = [60, 80]
                y.backward()
                if x.grad is None or x.grad.tolist() != [60.0, 80.0]:
                    wrong.append(f"iteration {i}: {None if x.grad is None else x.grad.tolist()}")
        finally:
            stop.set()
        return wrong

    out = run_threads({"toggler": toggler, "builder": builder})
    assert out["builder"] == [], f"wrong gradients while another thread toggled no_grad: {out['builder'][:5]}"
    assert out["toggler"] > 0
    assert ember.is_grad_enabled()  # the toggling thread's mode never leaked into this one


def test_a_new_thread_starts_with_grad_enabled_and_its_mode_stays_its_own() -> None:
    seen: dict[str, bool] = {}

    def child() -> None:
        seen["child at start"] = ember.is_grad_enabled()
        ember.set_grad_enabled(False)  # the function form: this thread only
        seen["child after set_grad_enabled(False)"] = ember.is_grad_enabled()

    with ember.no_grad():
        t = threading.Thread(target=child, daemon=True)
        t.start()
        t.join(JOIN_TIMEOUT_S)
        assert not t.is_alive(), "child thread hung"
        seen["parent in no_grad after the child"] = ember.is_grad_enabled()
    assert seen == {
        "child at start": True,
        "child after set_grad_enabled(False)": False,
        "parent in no_grad after the child": False,
    }
    assert ember.is_grad_enabled()
    x = ember.ones(2, requires_grad=True)
    assert (x * 2).requires_grad


def test_one_grad_mode_object_entered_by_two_threads_restores_each_threads_mode() -> None:
    """A shared ``enable_grad()`` instance: each exit restores the mode of the thread that entered."""
    shared = ember.enable_grad()
    entered, b_entered = threading.Event(), threading.Event()
    after: dict[str, bool] = {}

    def a() -> None:  # grad off, enters first, exits after b entered
        ember.set_grad_enabled(False)
        with shared:
            entered.set()
            assert b_entered.wait(JOIN_TIMEOUT_S), "thread b never entered"
        after["a"] = ember.is_grad_enabled()

    def b() -> None:  # grad on, enters second
        assert entered.wait(JOIN_TIMEOUT_S), "thread a never entered"
        with shared:
            b_entered.set()
        after["b"] = ember.is_grad_enabled()

    run_threads({"a": a, "b": b})
    assert after == {"a": False, "b": True}


# -- default device and dtype ------------------------------------------------------------------------
def _other_device() -> ember.Device:
    """A usable device other than this thread's default (meta or opencl)."""
    here = ember.get_default_device()
    for spec in ("meta", "opencl", "cpu"):
        try:
            dev = ember.device(spec)
        except ember.BackendError:
            continue
        if dev is not here:
            return dev
    pytest.skip("needs a second device type (meta from examples/ember-meta, or opencl): none is usable")


def test_default_device_is_per_thread_as_in_pytorch() -> None:
    main_default = ember.get_default_device()
    other = _other_device()
    seen: dict[str, ember.Device] = {}

    def grandchild() -> None:
        seen["grandchild"] = ember.get_default_device()

    def child() -> None:
        ember.set_default_device(other)
        seen["child"] = ember.get_default_device()
        seen["child zeros"] = ember.zeros(1).device
        t = threading.Thread(target=grandchild, daemon=True)
        t.start()
        t.join(JOIN_TIMEOUT_S)
        assert not t.is_alive(), "grandchild thread hung"

    run_threads({"child": child})
    assert seen["child"] is other and seen["child zeros"] is other
    # neither the parent nor a thread started by the child inherits the child's choice
    assert ember.get_default_device() is main_default
    assert seen["grandchild"] is main_default


def test_default_dtype_is_process_wide_as_in_pytorch() -> None:
    old = ember.get_default_dtype()
    try:
        run_threads({"setter": lambda: ember.set_default_dtype(ember.float64)})
        assert ember.get_default_dtype() is ember.float64
        assert ember.tensor([1.5]).dtype is ember.float64
    finally:
        ember.set_default_dtype(old)


# -- random generators -------------------------------------------------------------------------------
def random_draw_problems(device: ember.Device, which: str) -> list[str]:
    """Six threads draw from one generator at once; what went wrong (an empty list when nothing):
    the same numbers twice, numbers a sequential run never draws, or counters lost."""
    n_threads, draws, size = 6, 40, 8
    gen = ember.default_generator(device) if which == "default generator" else ember.Generator(device)
    kw = {"generator": None if which == "default generator" else gen}
    state = gen.get_state()
    try:
        gen.manual_seed(7)
        sequential = {
            ember.rand(size, device=device, **kw).numpy().tobytes() for _ in range(n_threads * draws)
        }
        gen.manual_seed(7)

        def draw() -> list[bytes]:
            return [ember.rand(size, device=device, **kw).numpy().tobytes() for _ in range(draws)]

        with switching_every(1e-5):
            out = run_threads({f"drawer{i}": draw for i in range(n_threads)})
        blocks = [b for bs in out.values() for b in bs]
        problems = []
        if len(set(blocks)) != len(blocks):
            problems.append(f"{len(blocks) - len(set(blocks))} draws repeat another thread's numbers")
        # each draw took its own counters: together they are exactly the first n_threads * draws draws
        if set(blocks) != sequential:
            problems.append(f"{len(set(blocks) - sequential)} draws are not among the sequential run's")
        if gen.get_state() != (7, n_threads * draws * size):
            problems.append(
                f"state {gen.get_state()} after the draws, expected {(7, n_threads * draws * size)}"
            )
        return problems
    finally:
        gen.set_state(state)


@pytest.mark.parametrize("which", ["default generator", "shared Generator"])
def test_concurrent_random_draws_never_repeat_or_lose_counters(device: ember.Device, which: str) -> None:
    problems = on_device(device, "random_draw_problems", which)
    assert problems == [], f"concurrent draws from the {which} of {device}: {problems}"


def test_first_draws_of_threads_at_once_share_one_default_generator() -> None:
    """Threads drawing at once from a device whose default generator does not exist yet make it
    once: they never each make one (and draw the same numbers from counter 0)."""
    from ember.ops import random_creation

    dev = ember.device("cpu")
    kept = random_creation._generators.get(dev)
    wrong = []
    try:
        with switching_every(1e-6):
            for r in range(100):
                random_creation._generators.pop(dev, None)  # as on first use of the device
                out = run_threads({f"drawer{i}": lambda: ember.rand(8).numpy().tobytes() for i in range(6)})
                offset = ember.default_generator(dev).get_state()[1]
                if len(set(out.values())) != 6 or offset != 48:
                    wrong.append(
                        f"round {r}: {6 - len(set(out.values()))} repeated draws, offset {offset} (48)"
                    )
    finally:
        if kept is None:
            random_creation._generators.pop(dev, None)
        else:
            random_creation._generators[dev] = kept
    assert wrong == [], f"threads each made their own default generator: {wrong[:5]}"


def test_manual_seed_while_other_threads_draw_and_create_generators(fast_switching: None) -> None:
    """Reseeding iterates every device's generator while threads draw: no error, and afterwards the
    stream is the seeded one."""
    state = ember.default_generator("cpu").get_state()
    try:

        def reseed() -> None:
            for i in range(200):
                ember.manual_seed(i)

        def draw() -> None:
            for _ in range(200):
                ember.rand(4)

        run_threads({"reseeder": reseed, "drawer1": draw, "drawer2": draw})
        ember.manual_seed(5)
        a = ember.rand(16).numpy()
        ember.manual_seed(5)
        np.testing.assert_array_equal(ember.rand(16).numpy(), a)
    finally:
        ember.default_generator("cpu").set_state(state)


# -- devices -----------------------------------------------------------------------------------------
SLOW_PLUGIN = """
    import threading, time
    import ember
    from ember.array_backend import ArrayBackend, numpy_erf, numpy_random_bits
    import numpy as np

    CONSTRUCTED = []

    class SlowBackend(ArrayBackend):
        device_type = "slowtoy"
        def __init__(self):
            CONSTRUCTED.append(threading.current_thread().name)
            time.sleep(0.2)  # holds the window open: every other thread arrives meanwhile
            super().__init__(np, lambda x: np.array(x), lambda a, i: np.array(a), numpy_erf(),
                             numpy_random_bits)
        def device_count(self):
            time.sleep(0.01)  # widens the window between looking a device up and caching it
            return 2

    @ember.hookimpl
    def ember_backends():
        return [ember.BackendDeclaration("slowtoy", ember.BACKEND_API_VERSION, "slowtoyplug:SlowBackend")]
"""

FIRST_USE = """
    import json, sys, threading
    import ember
    n = 8
    barrier = threading.Barrier(n)
    devs, sums, errors = [None] * n, [None] * n, []
    def use(i):
        try:
            barrier.wait(60)
            devs[i] = ember.device("{spec}")
            sums[i] = (ember.ones(3, device="{spec}") * 2).sum().item()
        except BaseException as e:
            errors.append(repr(e))
    threads = [threading.Thread(target=use, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    hung = sum(t.is_alive() for t in threads)
    rec = ember.registry.registry.records["{type}"]
    print(json.dumps({{
        "hung": hung, "errors": errors, "distinct devices": len({{id(d) for d in devs}}),
        "sums": sums, "status": rec.status, "constructed": {constructed},
    }}))
"""


def test_concurrent_first_use_constructs_the_backend_once(plugin_dir: Path) -> None:
    make_plugin_dist(plugin_dir, "slowtoy-plugin", "slowtoy", "slowtoyplug", SLOW_PLUGIN)
    code = FIRST_USE.format(
        spec="slowtoy:1", type="slowtoy", constructed="sys.modules['slowtoyplug'].CONSTRUCTED"
    )
    res = run_python(code, plugin_dir)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["hung"] == 0 and out["errors"] == [], out
    assert len(out["constructed"]) == 1, f"backend constructed {len(out['constructed'])} times: {out}"
    assert out["distinct devices"] == 1, f"threads got different Device objects for one device: {out}"
    assert out["sums"] == [6.0] * 8 and out["status"] == "available"


def test_concurrent_first_use_of_opencl() -> None:
    """Eight threads touch opencl for the first time together: one device, right values."""
    try:
        ember.device("opencl")
    except ember.BackendError as exc:
        pytest.skip(f"device 'opencl' unusable: {exc}")
    res = run_python(FIRST_USE.format(spec="opencl", type="opencl", constructed="None"))
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["hung"] == 0 and out["errors"] == [], out
    assert out["distinct devices"] == 1 and out["sums"] == [6.0] * 8 and out["status"] == "available", out
