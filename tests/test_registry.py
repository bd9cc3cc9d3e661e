"""The device registry through real entry points: discovery, lazy loading, failures, switches."""

from __future__ import annotations

import json
from pathlib import Path

import ember
import pytest
from conftest import make_plugin_dist, run_python

GOOD_PLUGIN = """
    import ember
    from ember.array_backend import ArrayBackend, numpy_erf, numpy_random_bits
    import numpy as np

    class ToyBackend(ArrayBackend):
        device_type = "toy"
        def __init__(self):
            super().__init__(np, lambda x: np.array(x), lambda a, i: np.array(a), numpy_erf(),
                             numpy_random_bits)
        def device_count(self):
            return 2

    @ember.hookimpl
    def ember_backends():
        return [ember.BackendDeclaration("toy", ember.BACKEND_API_VERSION, "toyplug:ToyBackend",
                                         remedy="pip install toy")]
"""


def test_cpu_backend_is_discovered_through_its_entry_point() -> None:
    recs = {r["name"]: r for r in ember.backends()}
    assert recs["cpu"]["status"] == "available"
    assert recs["cpu"]["distribution"] == "ember-cpu"
    assert ember.device("cpu") in ember.devices()


def test_third_party_plugin_loads_lazily_and_works(plugin_dir: Path) -> None:
    make_plugin_dist(plugin_dir, "toy-plugin", "toy", "toyplug", GOOD_PLUGIN)
    res = run_python(
        """
        import sys, json, ember
        assert "toyplug" in sys.modules          # the light plugin module is imported at discovery
        names = {r["name"]: r["status"] for r in ember.registry.registry.summary(load=False)}
        x = ember.ones(3, device="toy:1") * 2
        print(json.dumps({"before": names, "dev": str(x.device), "sum": x.sum().item()}))
    """,
        plugin_dir,
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["before"]["toy"] == "declared"  # not constructed until used
    assert out["dev"] == "toy:1" and out["sum"] == 6.0


def test_plugin_failing_on_import_never_breaks_import_ember(plugin_dir: Path) -> None:
    make_plugin_dist(plugin_dir, "broken-plugin", "broken", "brokenplug", "raise ImportError('no libfoo')\n")
    res = run_python(
        """
        import ember
        recs = [r for r in ember.backends() if r["name"] == "broken"]
        print(recs[0]["status"], "|", recs[0]["reason"])
        print(ember.ones(2).sum().item())
        try:
            ember.device("broken")
        except ember.BackendError as e:
            print("ERR", e)
    """,
        plugin_dir,
    )
    assert res.returncode == 0, res.stderr
    assert "failed | plugin 'broken' (broken-plugin) failed to import: ImportError: no libfoo" in res.stdout
    assert "2.0" in res.stdout
    assert "ERR unknown device type 'broken'" in res.stdout and "no libfoo" in res.stdout


def test_plugin_failing_at_initialisation_reports_when_used(plugin_dir: Path) -> None:
    make_plugin_dist(
        plugin_dir,
        "initfail-plugin",
        "initfail",
        "initfailplug",
        """
        import ember
        class Bad(ember.Backend):
            device_type = "initfail"
            def __init__(self):
                raise RuntimeError("driver exploded")
        @ember.hookimpl
        def ember_backends():
            return [ember.BackendDeclaration("initfail", ember.BACKEND_API_VERSION, "initfailplug:Bad")]
    """,
    )
    res = run_python(
        """
        import ember
        try:
            ember.zeros(2, device="initfail")
        except ember.BackendError as e:
            print("ERR", e)
    """,
        plugin_dir,
    )
    assert res.returncode == 0, res.stderr
    assert (
        "ERR backend 'initfail' (plugin 'initfail') failed: plugin 'initfail' (initfail-plugin) failed to "
        "initialise initfailplug:Bad: RuntimeError: driver exploded"
    ) in res.stdout


def test_unavailable_backend_gives_reason_and_remedy(plugin_dir: Path) -> None:
    make_plugin_dist(
        plugin_dir,
        "nodev-plugin",
        "nodev",
        "nodevplug",
        """
        import ember
        class NoDev(ember.Backend):
            device_type = "nodev"
            def __init__(self):
                raise ember.BackendUnavailable("no nodev device found", "plug one in")
        @ember.hookimpl
        def ember_backends():
            return [ember.BackendDeclaration("nodev", ember.BACKEND_API_VERSION, "nodevplug:NoDev")]
    """,
    )
    res = run_python(
        """
        import ember
        rec = [r for r in ember.backends() if r["name"] == "nodev"][0]
        print(rec["status"], "|", rec["reason"], "|", rec["remedy"])
        try:
            ember.device("nodev")
        except ember.BackendError as e:
            print("ERR", e)
    """,
        plugin_dir,
    )
    assert "unavailable | no nodev device found | plug one in" in res.stdout, res.stderr
    assert (
        "ERR backend 'nodev' (plugin 'nodev') is unavailable: no nodev device found; remedy: plug one in"
        in res.stdout
    )


def test_name_clash_is_refused_with_both_distributions(plugin_dir: Path) -> None:
    make_plugin_dist(plugin_dir, "toy-plugin", "toy", "toyplug", GOOD_PLUGIN)
    make_plugin_dist(
        plugin_dir,
        "toy-clone",
        "toyclone",
        "toycloneplug",
        GOOD_PLUGIN.replace("toyplug:ToyBackend", "toycloneplug:ToyBackend"),
    )
    res = run_python(
        """
        import ember
        for r in ember.backends():
            if r["status"] == "failed":
                print(r["reason"])
    """,
        plugin_dir,
    )
    assert (
        "device type 'toy' is declared by two plugins: 'toy' (distribution toy-plugin) and 'toyclone' "
        "(distribution toy-clone); the second was refused"
    ) in res.stdout, res.stdout + res.stderr


def test_api_version_mismatch_is_refused(plugin_dir: Path) -> None:
    make_plugin_dist(
        plugin_dir,
        "old-plugin",
        "old",
        "oldplug",
        GOOD_PLUGIN.replace("ember.BACKEND_API_VERSION", "99")
        .replace('"toy"', '"old"')
        .replace("toyplug", "oldplug"),
    )
    res = run_python(
        """
        import ember
        try:
            ember.device("old")
        except ember.BackendError as e:
            print("ERR", e)
    """,
        plugin_dir,
    )
    assert "was written for Ember backend API 99, this Ember speaks API 1" in res.stdout, res.stderr


def test_switches_allow_block_and_autoload(plugin_dir: Path) -> None:
    make_plugin_dist(plugin_dir, "toy-plugin", "toy", "toyplug", GOOD_PLUGIN)
    code = """
        import ember, json
        print(json.dumps({r["name"]: r["status"] for r in ember.backends()}))
    """
    allow = json.loads(run_python(code, plugin_dir, {"EMBER_BACKENDS": "cpu"}).stdout)
    assert allow["cpu"] == "available" and allow["toy"] == "disabled"
    assert set(allow.values()) == {"available", "disabled"} and list(allow.values()).count("available") == 1
    block = json.loads(run_python(code, plugin_dir, {"EMBER_DISABLE_BACKENDS": "toy"}).stdout)
    assert block["cpu"] == "available" and block["toy"] == "disabled"
    off = run_python(code, plugin_dir, {"EMBER_BACKEND_AUTOLOAD": "0"})
    assert json.loads(off.stdout) == {}, off.stderr


def test_blocked_plugin_uses_pluggy_blocking(plugin_dir: Path) -> None:
    make_plugin_dist(plugin_dir, "toy-plugin", "toy", "toyplug", GOOD_PLUGIN)
    res = run_python(
        """
        import ember
        print(ember.registry.registry.pm.is_blocked("toy"))
        try:
            ember.device("toy")
        except ember.BackendError as e:
            print("ERR", e)
    """,
        plugin_dir,
        {"EMBER_DISABLE_BACKENDS": "toy"},
    )
    assert res.stdout.startswith("True"), res.stderr
    assert "ERR backend 'toy' (plugin 'toy') is disabled: blocked by EMBER_DISABLE_BACKENDS" in res.stdout


def test_import_ember_does_not_import_heavy_backends() -> None:
    res = run_python("""
        import sys, ember
        print(sorted(m for m in ("pyopencl", "cupy", "torch") if m in sys.modules))
    """)
    assert res.stdout.strip() == "[]", res.stderr


def test_unknown_device_names_installed_backends_and_extra() -> None:
    with (
        pytest.raises(
            ember.BackendError,
            match=r"unknown device type 'cuda'; installed backends: .*cpu.*"
            r"pip install 'ember\[cuda\]'",
        )
        if "cuda" not in ember.registry.registry.records
        else pytest.raises(ember.BackendError)
    ):
        ember.device("cuda")
    with pytest.raises(ember.BackendError, match="unknown device type 'tpu'.*install the plugin package"):
        ember.zeros(2, device="tpu")


def test_bad_device_strings_and_indices() -> None:
    with pytest.raises(ValueError, match="invalid device string 'cpu:x'"):
        ember.device("cpu:x")
    with pytest.raises(ValueError, match=r"device index 3 out of range for 'cpu': 1 device\(s\)"):
        ember.device("cpu:3")


def test_default_device_from_environment() -> None:
    res = run_python(
        "import ember; print(ember.zeros(1).device, ember.get_default_device())",
        env={"EMBER_DEVICE": "cpu:0"},
    )
    assert res.stdout.split() == ["cpu", "cpu"], res.stderr
    ember.set_default_device("cpu")
    assert ember.get_default_device() is ember.device("cpu")
    ember.set_default_device(None)
