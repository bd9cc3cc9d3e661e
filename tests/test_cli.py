"""The ``ember`` command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import make_plugin_dist, run_python
from ember.cli import collect_info


def test_info_lists_backends_devices_switches_and_coverage() -> None:
    info = collect_info()
    names = {b["name"]: b for b in info["backends"]}
    assert names["cpu"]["status"] == "available" and names["cpu"]["version"] == "0.1.0"
    assert names["cpu"]["devices"][0]["index"] == 0
    assert info["coverage"]["cpu"]["add"] == "native"
    assert info["coverage"]["cpu"]["any"] == "composite"


def test_info_json_and_text_through_the_console_entry() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ember", "info", "--json"],
        capture_output=True,
        text=True,
        env={"EMBER_BACKENDS": "cpu", "PATH": ""},
        timeout=60,
    )
    data = json.loads(out.stdout)
    assert data["switches"] == {"EMBER_BACKENDS": "cpu"}
    text = subprocess.run([sys.executable, "-m", "ember", "info"], capture_output=True, text=True, timeout=60)
    assert "Kernel coverage (native / composite / fallback / missing):" in text.stdout
    assert text.returncode == 0


def test_info_survives_a_closed_pipe() -> None:
    res = subprocess.run(
        f"'{sys.executable}' -m ember info | head -1", shell=True, capture_output=True, text=True, timeout=60
    )
    assert res.stdout.startswith("Ember ") and "BrokenPipeError" not in res.stderr


# -- the coverage matrix reads the op records --------------------------------------------------
LACKING_PLUGIN = """
    import numpy as np
    import ember
    from ember.array_backend import ArrayBackend, numpy_erf, numpy_random_bits

    class Lacking(ArrayBackend):
        device_type = "lacking"
        def __init__(self):
            super().__init__(np, lambda x: np.array(x), lambda a, i: np.array(a), numpy_erf(),
                             numpy_random_bits)
            del self.kernels["cumsum"]       # a primitive: missing (or fallback when opted in)
            del self.kernels["softmax"]      # an optional kernel: core composes the op
            self.kernels["mylib.scaled_tanh"] = np.tanh

    @ember.hookimpl
    def ember_backends():
        return [ember.BackendDeclaration("lacking", ember.BACKEND_API_VERSION, "lackingplug:Lacking")]
"""


def test_info_coverage_has_every_op_record_on_every_device() -> None:
    from ember.ops.records import RECORDS

    info = collect_info()
    assert "nn.functional.relu" in RECORDS  # collect_info registers the nn.functional records
    for cov in info["coverage"].values():
        assert set(cov) == set(RECORDS)
    assert set(info["ops"]) == set(RECORDS)
    cpu = info["coverage"]["cpu"]
    for name, rec in RECORDS.items():
        assert info["ops"][name] == {"kind": rec.kind, "kernel": rec.kernel}
        if rec.kind == "composite":
            assert cpu[name] == "composite", name
        if rec.kind == "primitive":
            assert cpu[name] == "native", name
    assert sum(info["coverage_counts"]["cpu"].values()) == len(RECORDS)
    assert info["coverage_counts"]["cpu"]["native"] == sum(1 for h in cpu.values() if h == "native")


def test_info_summarises_native_composite_missing_and_fallback_per_device(tmp_path: Path) -> None:
    make_plugin_dist(tmp_path, "lacking-plugin", "lacking", "lackingplug", LACKING_PLUGIN)
    code = """
        import json
        from ember.cli import main
        main(["info", "--json"])
        print("=" * 10)
        main(["info"])
    """
    for env, how, note in (
        ({}, "missing", "missing (primitive not provided; EMBER_CPU_FALLBACK=1 runs it on cpu)"),
        ({"EMBER_CPU_FALLBACK": "1"}, "fallback", "fallback to cpu (primitive not provided)"),
    ):
        res = run_python(code, tmp_path, {"EMBER_BACKENDS": "cpu,lacking", **env})
        assert res.returncode == 0, res.stderr
        raw, text = res.stdout.split("=" * 10)
        data = json.loads(raw)
        cov, counts = data["coverage"]["lacking"], data["coverage_counts"]["lacking"]
        assert cov["cumsum"] == how and cov["softmax"] == "composite" and cov["add"] == "native"
        assert counts[how] == 1 and sum(counts.values()) == len(cov)
        assert data["custom_kernels"]["lacking"] == ["mylib.scaled_tanh"]
        summary = ", ".join(f"{h} {n}" for h, n in counts.items())
        assert f"\n  lacking    {summary}\n" in text
        assert f"\n             {note}: cumsum\n" in text
        composed = [line for line in text.splitlines() if "composite (optional kernel not provided)" in line]
        assert any("softmax" in line for line in composed), text
        assert "             custom op kernels: mylib.scaled_tanh" in text
        assert "every op: ember info --ops" in text and "\n  cumsum " not in text


def test_info_ops_flag_prints_every_op_on_every_device() -> None:
    import ember
    from ember.cli import op_coverage
    from ember.ops.records import load_all

    RECORDS = load_all()  # as ember info loads them

    res = subprocess.run(
        [sys.executable, "-m", "ember", "info", "--ops"],
        capture_output=True,
        text=True,
        env={"EMBER_BACKENDS": "cpu", "PATH": ""},
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    rows = {line.split()[0]: line.split()[1:] for line in res.stdout.splitlines() if line.startswith("  ")}
    assert rows["op"] == ["kind", "kernel", "cpu"]
    expected = op_coverage(ember.device("cpu").kernels, False)
    for name, rec in RECORDS.items():
        assert rows[name] == [rec.kind, rec.kernel or "-", expected[name]], name
    assert rows["cumsum"] == ["primitive", "cumsum", "native"]
    assert rows["nn.functional.relu"][0] == "composite" and rows["any"] == ["optional", "any", "composite"]
