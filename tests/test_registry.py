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
        "device type 'toy' is declared by 2 plugins: plugin 'toyclone' (distribution toy-clone) and plugin "
        "'toy' (distribution toy-plugin); Ember does not pick one by name or install order, so device type "
        "'toy' is refused"
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


# -- kernel tables are checked when a device type is first used ---------------------------------
TYPO_PLUGIN = """
    import ember
    from ember.array_backend import ArrayBackend, numpy_erf, numpy_random_bits
    import numpy as np

    class TypoBackend(ArrayBackend):
        device_type = "typo"
        def __init__(self):
            super().__init__(np, lambda x: np.array(x), lambda a, i: np.array(a), numpy_erf(),
                             numpy_random_bits)
            self.kernels["sofmax"] = self.kernels.pop("softmax")   # a typo: never looked up
            self.kernels["frobnicate"] = np.negative                # no such op at all
            self.kernels["mylib.scaled_tanh"] = np.tanh             # a custom op's kernel: fine

    @ember.hookimpl
    def ember_backends():
        return [ember.BackendDeclaration("typo", ember.BACKEND_API_VERSION, "typoplug:TypoBackend",
                                         remedy="pip install typo")]
"""


def test_unknown_kernel_name_fails_the_backend_naming_plugin_and_closest_name(plugin_dir: Path) -> None:
    make_plugin_dist(plugin_dir, "typo-plugin", "typo", "typoplug", TYPO_PLUGIN)
    res = run_python(
        """
        import ember
        from ember.cli import main
        rec = [r for r in ember.backends() if r["name"] == "typo"][0]
        print("STATUS", rec["status"])
        print("CPU", ember.ones(2).sum().item())        # other devices are unaffected
        try:
            ember.device("typo")
        except ember.BackendError as e:
            print("ERR", e)
        main(["info"])
    """,
        plugin_dir,
    )
    assert res.returncode == 0, res.stderr
    assert "STATUS failed" in res.stdout and "CPU 2.0" in res.stdout
    reason = (
        "plugin 'typo' (distribution typo-plugin) gives device type 'typo' kernels named 'sofmax', "
        "'frobnicate' in typoplug:TypoBackend.kernels, which no op dispatches to (a kernel name is a "
        "primitive of ember.backend.PRIMITIVES, an optional kernel of ember.ops.catalog.OPTIONAL_KERNELS "
        "or a namespaced custom op name such as 'mylib.scaled_tanh'), so Ember would never call it"
    )
    remedy = (
        "rename 'sofmax' to 'softmax' in typoplug:TypoBackend.kernels; remove 'frobnicate' from "
        "typoplug:TypoBackend.kernels, or key it by its custom op's namespaced name ('namespace.frobnicate') "
        "(until typo-plugin is fixed: uninstall it, or set EMBER_DISABLE_BACKENDS=typo)"
    )
    assert f"ERR backend 'typo' (plugin 'typo') failed: {reason}; remedy: {remedy}" in res.stdout
    assert f"reason: {reason}" in res.stdout and f"remedy: {remedy}" in res.stdout  # ember info


def test_non_callable_kernel_fails_the_backend(plugin_dir: Path) -> None:
    source = TYPO_PLUGIN.replace(
        'self.kernels["sofmax"] = self.kernels.pop("softmax")', 'self.kernels["add"] = 3'
    ).replace('self.kernels["frobnicate"] = np.negative', "pass")
    make_plugin_dist(plugin_dir, "typo-plugin", "typo", "typoplug", source)
    res = run_python(
        """
        import ember
        rec = [r for r in ember.backends() if r["name"] == "typo"][0]
        print(rec["status"], "|", rec["reason"], "|", rec["remedy"])
    """,
        plugin_dir,
    )
    assert (
        "failed | plugin 'typo' (distribution typo-plugin) gives device type 'typo' kernels that are not "
        "callable in typoplug:TypoBackend.kernels: 'add' -> int | map 'add' to the kernel function in "
        "typoplug:TypoBackend.kernels (until typo-plugin is fixed: uninstall it, or set "
        "EMBER_DISABLE_BACKENDS=typo)"
    ) in res.stdout, res.stdout + res.stderr


BAD_OVERRIDE_PLUGIN = """
    import numpy as np
    import ember

    KERNELS = {"log_sofmax": lambda x, dim: x}

    @ember.hookimpl
    def ember_kernel_overrides():
        return [ember.KernelOverride("cpu", "badovplug:KERNELS", priority=10)]
"""


def test_unknown_name_in_a_kernel_override_drops_the_override_naming_its_plugin(plugin_dir: Path) -> None:
    make_plugin_dist(plugin_dir, "badov-plugin", "badov", "badovplug", BAD_OVERRIDE_PLUGIN)
    res = run_python(
        """
        import ember
        print("CPU", [r["status"] for r in ember.backends() if r["name"] == "cpu"])
        rec = [r for r in ember.backends() if r["plugin"] == "badov"][0]
        print(rec["status"], "|", rec["reason"], "|", rec["remedy"])
    """,
        plugin_dir,
    )
    assert res.returncode == 0, res.stderr
    assert "CPU ['available']" in res.stdout  # the device works without the broken override
    assert (
        "failed | kernel override 'badovplug:KERNELS' for 'cpu' refused: plugin 'badov' (distribution "
        "badov-plugin) gives device type 'cpu' a kernel named 'log_sofmax' in badovplug:KERNELS, which no op "
        "dispatches to"
    ) in res.stdout, res.stdout
    assert (
        "| rename 'log_sofmax' to 'log_softmax' in badovplug:KERNELS (until badov-plugin is fixed: "
        "uninstall it, or set EMBER_DISABLE_BACKENDS=badov)"
    ) in res.stdout


def test_bad_override_registered_at_runtime_is_refused_and_the_table_kept() -> None:
    res = run_python("""
        import numpy as np
        import ember
        x = ember.ones(3)                      # cpu in use before the plugin arrives

        class Plugin:
            KERNELS = {"mul_": np.multiply}

            @ember.hookimpl
            def ember_kernel_overrides(self):
                return [ember.KernelOverride("cpu", "__main__:Plugin.KERNELS", priority=5)]

        try:
            ember.registry.register_plugin(Plugin(), "typo_mul")
        except ember.BackendError as e:
            print("ERR", e)
        print("MUL", (x * 2).sum().item(), ember.dispatch.kernel_source("mul", "cpu"))
        fails = [r for r in ember.backends() if r["status"] == "failed"]
        print("RECORDED", fails[0]["plugin"], "|", fails[0]["remedy"])
    """)
    assert res.returncode == 0, res.stderr
    assert (
        "ERR kernel override '__main__:Plugin.KERNELS' for 'cpu' refused: plugin 'typo_mul' (registered by "
        "hand, no distribution) gives device type 'cpu' a kernel named 'mul_' in __main__:Plugin.KERNELS"
    ) in res.stdout
    assert "; remedy: rename 'mul_' to 'mul' in __main__:Plugin.KERNELS" in res.stdout
    assert "MUL 6.0 ('cpu', 0)" in res.stdout
    assert "RECORDED typo_mul | rename 'mul_' to 'mul' in __main__:Plugin.KERNELS" in res.stdout


def test_installed_backends_have_only_known_kernel_names() -> None:
    for rec in ember.backends():
        assert "which no op dispatches to" not in rec.get("reason", ""), rec
        assert "not callable" not in rec.get("reason", ""), rec
    for name, rec in ember.registry.registry.records.items():
        if rec.backend is not None:
            ember.dispatch.check_kernels(rec.backend.kernels, name, rec.plugin, rec.distribution, name)
