"""The profiler: what it records (ops, kernels, sources, shapes, memory, stacks, threads), the
Chrome trace it writes, the table's totals, schedules, its errors, and that it leaves nothing
behind when it ends."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import ember
import ember.nn as nn
import ember.nn.functional as F
import pytest
from conftest import make_plugin_dist, run_python
from ember.profiler import ProfilerAction, ProfilerActivity, profile, record_function, schedule


def _x_events(path: Path) -> list[dict]:
    trace = json.loads(path.read_text())
    assert isinstance(trace["traceEvents"], list)
    return [e for e in trace["traceEvents"] if e["ph"] == "X"]


def _children(events, parent):
    return [e for e in events if e.parent == parent.id]


def test_ops_nest_their_kernels_with_device_source_and_plugin():
    a, b = ember.ones(3, 4), ember.ones(4)
    w = ember.ones(2, 4)
    with profile(record_shapes=True) as prof:
        ember.add(a, b)
        F.linear(a, w)
        F.softmax(a, 1)
    events = prof.events()
    add = next(e for e in events if e.name == "add" and e.kind == "op")
    assert (add.device, add.source, add.plugin, add.parent) == ("cpu", "native", "cpu", None)
    assert add.input_shapes == [[3, 4], [4]] and add.input_dtypes == ["float32", "float32"]
    (kernel,) = _children(events, add)
    assert (kernel.name, kernel.kind, kernel.device, kernel.source) == ("add", "kernel", "cpu", "native")
    assert kernel.input_shapes == [[3, 4], [4]]
    # linear has no kernel of its own: core composes it, and the kernels it ran nest inside it
    linear = next(e for e in events if e.name == "nn.functional.linear")
    assert (linear.source, linear.plugin) == ("composite", "")
    below = [e for e in events if e.start_ns >= linear.start_ns and e.end_ns <= linear.end_ns]
    assert "matmul" in {e.name for e in below if e.kind == "kernel"}
    # softmax's own kernel ran: its plugin is whichever won the cpu table (an override may)
    softmax = next(e for e in events if e.name == "softmax" and e.kind == "op")
    assert (softmax.source, softmax.plugin) == ("native", ember.dispatch.kernel_source("softmax", "cpu")[0])


def test_chrome_trace_is_one_event_per_recorded_call_properly_nested(tmp_path):
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    x = ember.randn(4, 6)
    with profile(record_shapes=True, profile_memory=True) as prof:
        with record_function("forward", args={"batch": 4}):
            loss = F.cross_entropy(model(x), ember.tensor([0, 1, 2, 0]))
        loss.backward()
        loss.item()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(path)
    trace = _x_events(path)
    events = prof.events()
    assert len(trace) == len(events) > 20
    by_id = {e["args"]["id"]: e for e in trace}
    assert sorted(by_id) == list(range(len(events)))
    for ev in trace:
        assert {"name", "cat", "ph", "ts", "dur", "pid", "tid"} <= set(ev)
        assert ev["cat"] in ("ember_op", "kernel", "user_annotation") and ev["dur"] >= 0
        parent = by_id.get(ev["args"]["parent"])
        if parent is not None:  # a child lies inside its parent, on the same thread's track
            assert parent["tid"] == ev["tid"]
            assert parent["ts"] <= ev["ts"] and ev["ts"] + ev["dur"] <= parent["ts"] + parent["dur"] + 1e-3
    # the trace's own order and timing agree with the recorded parents: siblings do not overlap
    for pid in {e["args"]["parent"] for e in trace}:
        kids = sorted((e for e in trace if e["args"]["parent"] == pid), key=lambda e: e["ts"])
        for one, two in zip(kids, kids[1:]):
            if one["tid"] == two["tid"]:
                assert one["ts"] + one["dur"] <= two["ts"] + 1e-3
    forward = next(e for e in trace if e["name"] == "forward")
    assert forward["cat"] == "user_annotation" and forward["args"]["batch"] == 4
    inside = {(e["name"], e["cat"]) for e in trace if e["args"]["parent"] == forward["args"]["id"]}
    assert {("nn.functional.linear", "ember_op"), ("nn.functional.cross_entropy", "ember_op")} <= inside
    # nn.ReLU holds the nn.functional.relu it was built with (unwrapped); the op it calls shows
    assert ("relu", "ember_op") in inside
    backward = next(e for e in trace if e["name"] == "Tensor.backward")
    assert any(e["args"]["parent"] == backward["args"]["id"] and e["cat"] == "kernel" for e in trace)
    linear = next(e for e in trace if e["name"] == "nn.functional.linear")
    assert linear["args"]["input_shapes"] == [[4, 6], [5, 6], [5]]
    assert linear["args"]["memory_bytes"] == 4 * 5 * 4


def test_table_totals_match_the_events():
    a = ember.randn(16, 16)
    with profile() as prof:
        for _ in range(3):
            (a @ a).relu().sum()
    events = prof.events()
    rows = prof.key_averages()
    assert sum(r.count for r in rows) == len(events)
    for r in rows:
        mine = [
            e
            for e in events
            if (e.name, e.kind, e.device, e.source_label) == (r.key, r.kind, r.device, r.source_label)
        ]
        assert r.count == len(mine)
        assert r.cpu_time_total == pytest.approx(sum(e.cpu_time_total for e in mine))
        assert r.self_cpu_time_total == pytest.approx(sum(e.self_cpu_time_total for e in mine))
    matmul = next(r for r in rows if r.key == "matmul" and r.kind == "op")
    assert matmul.count == 3 and matmul.source_label == "native (cpu)"
    # self times add up to the time of the top-level calls: nothing counted twice, nothing lost
    roots = sum(e.end_ns - e.start_ns for e in events if e.parent is None)
    assert sum(e.self_ns for e in events) == roots
    assert rows.self_cpu_time_total == pytest.approx(roots / 1000)
    table = rows.table(sort_by="self_cpu_time_total", row_limit=-1)
    lines = table.splitlines()
    assert lines[1].split()[:4] == ["Name", "Kind", "Device", "Source"]
    assert lines[-1] == f"Self CPU time total: {ember.profiler.events.format_time(roots / 1000)}"
    body = lines[3:-2]
    assert len(body) == len(rows)
    assert sum(int(line.split()[-1]) for line in body) == len(events)
    shown = [
        float(line.split()[5].rstrip("us").rstrip("m")) for line in body if line.split()[5].endswith("us")
    ]
    assert shown == sorted(shown, reverse=True)


def test_table_sort_keys_and_shape_grouping():
    with profile(record_shapes=True, profile_memory=True) as prof:
        ember.ones(2, 3) * 2
        ember.ones(5) * 2
    rows = prof.key_averages(group_by_input_shape=True)
    muls = [r for r in rows if r.key == "mul" and r.kind == "op"]
    assert sorted(r.input_shapes for r in muls) == ["[[2, 3], []]", "[[5], []]"]
    assert sorted(r.memory_usage for r in muls) == [5 * 4, 6 * 4]
    assert "Input Shapes" in rows.table(sort_by="count") and "Mem" in rows.table()
    with pytest.raises(
        ValueError, match=r"table\(sort_by='cuda_time'\): unknown sort key; use one of 'cpu_time_total'"
    ):
        rows.table(sort_by="cuda_time")
    with profile() as plain:
        ember.ones(2)
    with pytest.raises(
        ValueError, match="group_by_input_shape=True\\) needs the shapes: profile with record_shapes=True"
    ):
        plain.key_averages(group_by_input_shape=True)


def test_inactive_profiler_leaves_every_path_as_it_was():
    cpu = ember.device("cpu")
    before_kernels = dict(cpu.kernels)
    before = (
        ember.add,
        ember.ops.add,
        F.linear,
        ember.Tensor.__dict__["__add__"],
        ember.Tensor.__dict__["backward"],
    )
    with profile():
        assert cpu.kernels["add"] is not before_kernels["add"]
        assert ember.add is not before[0] and ember.Tensor.__dict__["__add__"] is not before[3]
        assert ember.add.__wrapped__ is before[0]
    assert all(cpu.kernels[k] is v for k, v in before_kernels.items())
    after = (
        ember.add,
        ember.ops.add,
        F.linear,
        ember.Tensor.__dict__["__add__"],
        ember.Tensor.__dict__["backward"],
    )
    assert all(x is y for x, y in zip(before, after))
    assert not ember.profiler.is_profiling()


def test_ops_after_an_error_and_in_other_threads_nest_on_their_own_tracks():
    x = ember.ones(2, 3)
    seen = []

    def worker():
        with record_function("worker"):
            seen.append((x * 3).sum().item())

    with profile() as prof:
        with pytest.raises(ValueError):
            ember.ones(2, 3) @ ember.ones(2, 3)
        ember.exp(x)
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    events = prof.events()
    assert seen == [18.0]
    exp = next(e for e in events if e.name == "exp" and e.kind == "op")
    assert exp.parent is None  # the failed matmul's event closed when it raised
    assert any(e.name == "matmul" and e.kind == "op" for e in events)
    worker_range = next(e for e in events if e.name == "worker")
    assert worker_range.thread != exp.thread and worker_range.parent is None
    mine = [e for e in events if e.parent == worker_range.id]
    assert {e.name for e in mine} == {"mul", "sum", "Tensor.item"}
    assert all(e.thread == worker_range.thread for e in mine)


def test_with_stack_names_the_callers_line():
    with profile(with_stack=True) as prof:
        ember.ones(3).exp()  # the line the stack names
    exp = next(e for e in prof.events() if e.name == "exp" and e.kind == "op")
    assert exp.stack and exp.stack[0].startswith(f"{__file__}(")
    assert exp.stack[0].endswith(": test_with_stack_names_the_callers_line")


def test_schedule_records_the_active_steps_and_hands_each_cycle_over():
    cycles = []
    steps = schedule(wait=1, warmup=1, active=2, repeat=2)
    assert [steps(i) for i in range(9)] == [
        ProfilerAction.NONE,
        ProfilerAction.WARMUP,
        ProfilerAction.RECORD,
        ProfilerAction.RECORD_AND_SAVE,
    ] * 2 + [ProfilerAction.NONE]
    x = ember.ones(4)
    with profile(schedule=steps, on_trace_ready=lambda p: cycles.append(p.events())) as prof:
        for i in range(10):
            with record_function(f"step {i}"):
                x + 1
            prof.step()
    assert [sorted({e.name for e in c if e.kind == "user"}) for c in cycles] == [
        ["step 2", "step 3"],
        ["step 6", "step 7"],
    ]
    assert prof.events() is cycles[-1]
    with pytest.raises(ValueError, match=r"active must be at least 1"):
        schedule(wait=0, warmup=0, active=0)


def test_profiler_errors_name_the_problem_and_the_remedy():
    with profile():
        with pytest.raises(RuntimeError, match=r"another profile is already active \(profiles do not nest\)"):
            profile().start()
    prof = profile()
    with pytest.raises(
        RuntimeError, match=r"no results yet; they are ready when the `with profile\(...\)` block ends"
    ):
        prof.events()
    with pytest.raises(RuntimeError, match=r"step\(\): the profile is not running"):
        prof.step()
    with pytest.raises(
        ValueError, match=r"activities=\[DEVICE\]\) records nothing.*add ProfilerActivity.CPU"
    ):
        profile(activities=[ProfilerActivity.DEVICE])
    with pytest.raises(TypeError, match="'cpu' is not a ProfilerActivity"):
        profile(activities=["cpu"])
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        ember.ones(2) + 1
    assert "Device time: not reported" in prof.key_averages().table()


LACKING_PLUGIN = """
    import numpy as np
    import ember
    from ember.array_backend import ArrayBackend, numpy_erf, numpy_random_bits

    class Lacking(ArrayBackend):
        device_type = "lacking"
        def __init__(self):
            super().__init__(np, lambda x: np.array(x), lambda a, i: np.array(a), numpy_erf(),
                             numpy_random_bits)
            del self.kernels["cumsum"]       # a primitive with no composite: the cpu fallback runs it
            del self.kernels["softmax"]      # an optional kernel: core's composite runs

    @ember.hookimpl
    def ember_backends():
        return [ember.BackendDeclaration("lacking", ember.BACKEND_API_VERSION, "lackingplug:Lacking")]
"""


def test_fallback_composite_and_a_device_type_first_used_inside_the_profile(plugin_dir):
    make_plugin_dist(plugin_dir, "lacking-plugin", "lacking", "lackingplug", LACKING_PLUGIN)
    res = run_python(
        """
        import json, warnings, ember
        from ember.profiler import profile
        ember.dispatch.set_fallback(True, "lacking")
        warnings.simplefilter("ignore")
        with profile() as prof:
            x = ember.ones(2, 3, device="lacking")   # the backend loads inside the profile
            ember.add(x, x); ember.softmax(x, 1); ember.cumsum(x, 0)
        ev = prof.events()
        out = {e.name + "/" + e.kind: [e.device, e.source, e.plugin] for e in ev if e.parent is None}
        cumsum = next(e for e in ev if e.name == "cumsum" and e.kind == "kernel")
        out["inside the fallback"] = sorted(e.name + "@" + e.device for e in ev if e.parent == cumsum.id)
        print(json.dumps(out))
        """,
        plugin_dir,
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["add/op"] == ["lacking:0", "native", "lacking"]
    assert out["softmax/op"] == ["lacking:0", "composite", ""]
    assert out["cumsum/op"] == ["lacking:0", "fallback", "cpu"]
    # the fallback's copies through the host and the cpu kernel nest inside it
    assert out["inside the fallback"] == [
        "cumsum@cpu",
        "from_numpy@cpu",
        "from_numpy@lacking:0",
        "to_numpy@cpu",
        "to_numpy@lacking:0",
    ]
