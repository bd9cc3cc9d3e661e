"""The OpenCL backend under ``ember.profiler``: with ``ProfilerActivity.DEVICE`` every command the
device ran is a ``device`` event timed by the device, placed in the host's time range under the
host event that launched it; the fusion layer's launches are labelled ranges naming their ops;
and the device is left as it was when the profile ends."""

from __future__ import annotations

import json

import ember
import numpy as np
import pytest
from ember.profiler import ProfilerActivity, profile, schedule

try:
    import pyopencl as cl

    import ember_opencl

    ember.device("opencl").properties()
except Exception as exc:  # noqa: BLE001 - no pyopencl, no platform, no device
    pytest.skip(f"OpenCL unavailable: {exc}", allow_module_level=True)

BOTH = [ProfilerActivity.CPU, ProfilerActivity.DEVICE]


@pytest.fixture
def fusion():
    """Set the fusion mode for the test; the previous one is restored afterwards."""
    previous = []

    def set_mode(m: str) -> None:
        previous.append(ember_opencl.set_fusion(m))

    yield set_mode
    if previous:
        ember_opencl.set_fusion(previous[0])


def cl_tensor(*shape: int, seed: int = 0) -> ember.Tensor:
    return ember.tensor(np.random.default_rng(seed).random(shape, dtype=np.float32), device="opencl")


def _device_state():
    return ember.device("opencl").backend._devices[0]


def test_device_events_lie_in_the_host_range_under_the_host_event_that_launched_them(tmp_path):
    b = cl_tensor(48, 32, seed=2)
    a_np = np.random.default_rng(1).random((64, 48), dtype=np.float32)
    ember.device("opencl").synchronize()
    with profile(activities=BOTH) as prof:
        a = ember.tensor(a_np, device="opencl")
        c = (a @ b).relu()
        total = c.sum().item()
    assert total == pytest.approx(float(np.maximum(a.numpy() @ b.numpy(), 0).sum()), rel=1e-4)
    events = prof.events()
    by_id = {e.id: e for e in events}
    device = [e for e in events if e.kind == "device"]
    host = [e for e in events if e.kind != "device"]
    assert device, "no device events"
    lo, hi = min(e.start_ns for e in host), max(e.end_ns for e in host)
    for e in device:
        assert e.device == "opencl:0"
        assert e.end_ns > e.start_ns, f"{e.name}: duration {e.end_ns - e.start_ns} ns"
        assert e.device_ns == e.end_ns - e.start_ns and e.cpu_time_total == 0 and e.self_ns == 0
        assert lo <= e.start_ns and e.end_ns <= hi, f"{e.name} runs outside the profile's host range"
        parent = by_id[e.parent]
        assert parent.kind in ("kernel", "user") and parent.thread != e.thread
        assert e.start_ns >= parent.start_ns, f"{e.name} starts before {parent.name} enqueued it"
    # the matmul kernel launched the packing and product kernels: its device time is theirs
    matmul = next(e for e in host if e.kind == "kernel" and e.name == "matmul")
    under = [e for e in device if e.parent == matmul.id]
    assert len(under) == 2 and matmul.device_ns == sum(e.device_ns for e in under)
    # the op above it counts them too; the upload is a device event of from_numpy
    assert by_id[matmul.parent].device_ns >= matmul.device_ns
    assert [by_id[e.parent].name for e in device if e.name == "write_buffer"] == ["from_numpy"]

    rows = prof.key_averages()
    table = rows.table(row_limit=-1)
    assert "Device total" in table.splitlines()[1] and "Device time avg" in table.splitlines()[1]
    assert table.splitlines()[-1].startswith("Device time total: ")
    assert rows.device_time_total == pytest.approx(sum(e.device_ns for e in device) / 1000)
    assert sum(r.cpu_time_total for r in rows if r.kind == "device") == 0

    path = tmp_path / "trace.json"
    prof.export_chrome_trace(path)
    trace = json.loads(path.read_text())["traceEvents"]
    tracks = {e["tid"]: e["args"]["name"] for e in trace if e["ph"] == "M" and e["name"] == "thread_name"}
    x_device = [e for e in trace if e["ph"] == "X" and e["cat"] == "device"]
    assert len(x_device) == len(device)
    assert {tracks[e["tid"]] for e in x_device} == {"opencl:0 (device)"}
    assert all(e["dur"] > 0 for e in x_device)


def test_a_fused_chain_shows_its_ops(fusion):
    fusion("always")
    x = cl_tensor(1000, seed=3)
    want = np.exp(x.numpy() * np.float32(2) + np.float32(1)) - x.numpy()
    with profile(activities=BOTH) as prof:
        got = ((x * 2.0 + 1.0).exp() - x).numpy()
        s = (x * x + 1.0).sum().item()
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert s == pytest.approx(float((x.numpy().astype(np.float64) ** 2 + 1).sum()), rel=1e-5)
    events = prof.events()
    by_id = {e.id: e for e in events}
    fused = [e for e in events if e.kind == "user" and e.name.startswith("opencl.fused.")]
    assert [(e.name, e.args["ops"]) for e in fused] == [
        ("opencl.fused.map", ["mul", "add", "exp", "sub"]),
        ("opencl.fused.sum", ["mul", "add"]),
    ]
    # the range sits inside the kernel that needed the values, and holds the fused kernel's run
    assert [by_id[e.parent].name for e in fused] == ["to_numpy", "sum"]
    for e in fused:
        inside = [d for d in events if d.kind == "device" and d.parent == e.id]
        assert [d.name for d in inside] == ["fused"] and e.device_ns == inside[0].device_ns > 0


def test_a_cold_chain_runs_op_by_op_in_one_labelled_range(fusion):
    fusion("auto")
    x = cl_tensor(500, seed=4)
    with profile() as prof:  # host activity only: the ranges are there all the same
        y = ((x - 0.25).abs() * 3.0).sqrt().numpy()
    np.testing.assert_allclose(y, np.sqrt(np.abs(x.numpy() - np.float32(0.25)) * 3), rtol=1e-6)
    fused = [e for e in prof.events() if e.name.startswith("opencl.fused.")]
    assert [(e.name, e.args["ops"]) for e in fused] == [("opencl.fused.eager", ["sub", "abs", "mul", "sqrt"])]
    assert not any(e.kind == "device" for e in prof.events())


def test_only_recorded_steps_keep_their_device_events():
    a, b = cl_tensor(16, 16, seed=5), cl_tensor(16, 16, seed=6)
    with profile(activities=BOTH, schedule=schedule(wait=1, warmup=0, active=1)) as prof:
        (a @ b).numpy()  # step 0: waiting, nothing kept
        prof.step()
        (a - b).numpy()  # step 1: recorded
        prof.step()
    events = prof.events()
    by_id = {e.id: e for e in events}
    device = [e for e in events if e.kind == "device"]
    assert device and not any(e.name == "matmul" for e in events)
    assert {by_id[e.parent].name for e in device} <= {"opencl.fused.eager", "to_numpy"}


def test_the_device_runs_as_before_once_the_profile_ends():
    d = _device_state()
    x = cl_tensor(8)
    with profile():
        (x + 1).numpy()
    assert d.trace is None and not d.queue.properties & cl.command_queue_properties.PROFILING_ENABLE
    with profile(activities=BOTH) as prof:
        assert d.queue.properties & cl.command_queue_properties.PROFILING_ENABLE
        (x + 1).numpy()
    assert d.trace is None and not d.queue.properties & cl.command_queue_properties.PROFILING_ENABLE
    assert any(e.kind == "device" for e in prof.events())
    np.testing.assert_allclose((x * 3).numpy(), x.numpy() * 3)
