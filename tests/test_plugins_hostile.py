"""Broken and hostile plugins, installed as real ``*.dist-info`` distributions on a temporary path
and run in fresh interpreters: none may break ``import ember``, ``ember info`` or another
plugin's device; each failure is recorded naming the plugin, its distribution and a remedy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import make_plugin_dist, run_python
from ember.plugin_group import PluginExit, guarded

#: prints every failure recorded at import as one JSON line, then proves cpu still works
REPORT = """
    import json, ember
    fails = [r for r in ember.backends() if r["status"] == "failed"]
    print(json.dumps({"failures": fails, "cpu": (ember.ones(3) * 2).sum().item()}))
"""


def _report(plugin_dir: Path, env: dict[str, str] | None = None) -> dict:
    res = run_python(REPORT, plugin_dir, env)
    assert res.returncode == 0, res.stdout + res.stderr
    return json.loads(res.stdout.splitlines()[-1])


def _failures_of(report: dict, plugin: str) -> list[dict]:
    return [f for f in report["failures"] if f["plugin"] == plugin]


def _ember_info(
    plugin_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("EMBER_")}
    full_env["PYTHONPATH"] = str(plugin_dir) + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "ember", "info", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


def _entry_points_only(root: Path, dist: str, entry_points_txt: str) -> None:
    """A distribution with entry points and no module of its own."""
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points_txt)


def _every_failure_is_named_with_a_remedy(report: dict) -> None:
    for f in report["failures"]:
        assert f["plugin"] and f["remedy"], f
        assert f["distribution"] is None or f["distribution"] in f["reason"] + f["remedy"], f


# -- plugins that stopped import ember ------------------------------------------------------------
def test_entry_point_named_like_another_plugins_gets_a_qualified_name(plugin_dir: Path) -> None:
    make_plugin_dist(plugin_dir, "evil-cpu", "cpu", "evilcpu", "VALUE = 1\n")
    res = _ember_info(plugin_dir, "--json")
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)
    plugins = {p["name"]: p for p in info["plugins"]}
    assert plugins["cpu@ember-cpu"]["status"] == "loaded" and plugins["cpu@ember-cpu"]["entry_point"] == "cpu"
    assert plugins["cpu@evil-cpu"]["status"] == "loaded"
    cpu = [b for b in info["backends"] if b["name"] == "cpu"][0]
    assert cpu["status"] == "available" and cpu["plugin"] == "cpu@ember-cpu"


def test_entry_point_naming_another_plugins_module_is_refused_whatever_its_name(plugin_dir: Path) -> None:
    # "aaa_thief" sorts before "cpu": found first, it must still not take ember-cpu's module
    _entry_points_only(plugin_dir, "thief", "[ember.backends]\naaa_thief = ember_cpu.plugin\n")
    report = _report(plugin_dir)
    assert report["cpu"] == 6.0
    (fail,) = _failures_of(report, "aaa_thief")
    assert fail["reason"] == (
        "plugin 'aaa_thief' (distribution thief) names ember_cpu.plugin in its ember.backends entry point, "
        "the module of plugin 'cpu' (distribution ember-cpu); one module is one plugin, so 'aaa_thief' was "
        "not registered"
    )
    assert fail["remedy"] == (
        "thief's entry point must name a module of its own (until thief is fixed: upgrade or uninstall "
        "thief, or set EMBER_DISABLE_BACKENDS=aaa_thief to skip it)"
    )


def test_hookimpl_with_a_wrong_signature_is_recorded(plugin_dir: Path) -> None:
    make_plugin_dist(
        plugin_dir,
        "badsig-plugin",
        "badsig",
        "badsigplug",
        """
        import ember
        @ember.hookimpl
        def ember_backends(config):
            return []
        """,
    )
    report = _report(plugin_dir)
    assert report["cpu"] == 6.0
    (fail,) = _failures_of(report, "badsig")
    assert fail["reason"].startswith(
        "plugin 'badsig' (distribution badsig-plugin) implements a hook with a signature pluggy refuses: "
        "Plugin 'badsig' for hook 'ember_backends'; hookimpl definition: ember_backends(config); "
    )
    assert fail["remedy"].startswith(
        "write it as `def ember_backends()` (ember.hookspecs documents every hook)"
    )
    assert "set EMBER_DISABLE_BACKENDS=badsig" in fail["remedy"]


EXIT_AT_IMPORT = "import sys\nsys.exit(3)\n"
INTERRUPT_AT_IMPORT = "raise KeyboardInterrupt\n"
EXIT_IN_HOOK = """
    import sys, ember
    @ember.hookimpl
    def ember_backends():
        sys.exit(3)
"""
INTERRUPT_IN_HOOK = EXIT_IN_HOOK.replace("sys.exit(3)", "raise KeyboardInterrupt")
EXIT_IN_CONSTRUCTOR = """
    import sys, ember
    class Quitter(ember.Backend):
        device_type = "quitter"
        def __init__(self):
            sys.exit(4)
    @ember.hookimpl
    def ember_backends():
        return [ember.BackendDeclaration("quitter", ember.BACKEND_API_VERSION, "quitterplug:Quitter")]
"""


def test_system_exit_and_keyboard_interrupt_raised_by_plugins_are_recorded(plugin_dir: Path) -> None:
    for entry, source in [
        ("exitimport", EXIT_AT_IMPORT),
        ("intimport", INTERRUPT_AT_IMPORT),
        ("exithook", EXIT_IN_HOOK),
        ("inthook", INTERRUPT_IN_HOOK),
        ("quitter", EXIT_IN_CONSTRUCTOR),
    ]:
        make_plugin_dist(plugin_dir, f"{entry}-plugin", entry, f"{entry}plug", source)
    report = _report(plugin_dir)
    assert report["cpu"] == 6.0
    reasons = {f["plugin"]: f["reason"] for f in report["failures"]}
    assert reasons["exitimport"] == "plugin 'exitimport' (exitimport-plugin) failed to import: SystemExit: 3"
    assert reasons["intimport"] == "plugin 'intimport' (intimport-plugin) failed to import: KeyboardInterrupt"
    assert (
        reasons["exithook"] == "plugin 'exithook' (exithook-plugin) raised in ember_backends(): SystemExit: 3"
    )
    assert (
        reasons["inthook"]
        == "plugin 'inthook' (inthook-plugin) raised in ember_backends(): KeyboardInterrupt"
    )
    assert reasons["quitter"] == (
        "plugin 'quitter' (quitter-plugin) failed to initialise quitterplug:Quitter: SystemExit: 4"
    )
    _every_failure_is_named_with_a_remedy(report)
    res = _ember_info(plugin_dir)
    assert res.returncode == 0, res.stderr
    assert "reason: plugin 'exitimport' (exitimport-plugin) failed to import: SystemExit: 3" in res.stdout
    assert "remedy: reinstall exitimport-plugin (until exitimport-plugin is fixed:" in res.stdout


CTRL_C_AT_IMPORT = """
    import os, signal, time
    os.kill(os.getpid(), signal.SIGINT)   # the user presses Ctrl-C while this plugin imports
    time.sleep(60)
"""
CTRL_C_SWALLOWED = """
    import os, signal, time
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(60)
    except KeyboardInterrupt:
        pass                               # a plugin may not swallow the user's Ctrl-C
"""


@pytest.mark.parametrize("source", [CTRL_C_AT_IMPORT, CTRL_C_SWALLOWED], ids=["raised", "swallowed"])
def test_ctrl_c_during_import_ember_interrupts_it(plugin_dir: Path, source: str) -> None:
    make_plugin_dist(plugin_dir, "slowpoke-plugin", "slowpoke", "slowpokeplug", source)
    res = run_python("import ember\nprint('IMPORTED')", plugin_dir)
    assert "IMPORTED" not in res.stdout
    assert res.returncode != 0 and "KeyboardInterrupt" in res.stderr, res.stderr


def test_unreadable_entry_points_file_is_recorded(plugin_dir: Path) -> None:
    _entry_points_only(plugin_dir, "garbled", "[ember.backends]\nthis line has no equals sign\n")
    report = _report(plugin_dir)
    assert report["cpu"] == 6.0
    (fail,) = _failures_of(report, "garbled")
    assert fail["reason"].startswith(
        "distribution garbled has an entry_points.txt that cannot be read (TypeError: "
    ) and fail["reason"].endswith("so its ember.backends plugins were not loaded")
    assert fail["remedy"] == "reinstall or uninstall garbled"


# -- a device type declared by two plugins ----------------------------------------------------------
CLASH_PLUGIN = """
    import numpy as np
    import ember
    from ember.array_backend import ArrayBackend, numpy_erf, numpy_random_bits

    class Impostor(ArrayBackend):       # working kernels: cpu ops would quietly run them
        device_type = "cpu"
        def __init__(self):
            super().__init__(np, lambda x: np.array(x), lambda a, i: np.array(a), numpy_erf(),
                             numpy_random_bits)

    @ember.hookimpl
    def ember_backends():
        return [ember.BackendDeclaration("cpu", ember.BACKEND_API_VERSION, "clashplug:Impostor")]
"""

USE_CPU = """
    import ember
    try:
        print("CPU", ember.ones(2).sum().item(), ember.dispatch.kernel_source("add", "cpu"))
    except ember.BackendError as e:
        print("ERR", e)
"""


@pytest.mark.parametrize("entry", ["aa_clash", "zz_clash"])
def test_device_type_clash_is_refused_naming_both_whatever_the_order(plugin_dir: Path, entry: str) -> None:
    make_plugin_dist(plugin_dir, "clash-plugin", entry, "clashplug", CLASH_PLUGIN)
    res = run_python(USE_CPU, plugin_dir)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == (
        f"ERR backend 'cpu' (plugin '{entry}, cpu') failed: device type 'cpu' is declared by 2 plugins: "
        f"plugin '{entry}' (distribution clash-plugin) and plugin 'cpu' (distribution ember-cpu); Ember does "
        "not pick one by name or install order, so device type 'cpu' is refused; remedy: uninstall all but "
        "one of clash-plugin, ember-cpu, or choose one with the switches: EMBER_DISABLE_BACKENDS=ember-cpu "
        "uses clash-plugin's, EMBER_DISABLE_BACKENDS=clash-plugin uses ember-cpu's"
    )


def test_device_type_clash_remedies_choose_either_plugin(plugin_dir: Path) -> None:
    make_plugin_dist(plugin_dir, "clash-plugin", "aa_clash", "clashplug", CLASH_PLUGIN)
    chosen = {
        "EMBER_DISABLE_BACKENDS=ember-cpu": "CPU 2.0 ('aa_clash', 0)",
        "EMBER_DISABLE_BACKENDS=clash-plugin": "CPU 2.0 ('cpu', 0)",
        "EMBER_BACKENDS=aa_clash": "CPU 2.0 ('aa_clash', 0)",
        "EMBER_BACKENDS=cpu": "CPU 2.0 ('cpu', 0)",
    }
    for switch, expected in chosen.items():
        name, _, value = switch.partition("=")
        res = run_python(USE_CPU, plugin_dir, {name: value})
        assert res.stdout.strip() == expected, (switch, res.stdout + res.stderr)
    info = _ember_info(plugin_dir)
    assert info.returncode == 0, info.stderr
    assert "reason: device type 'cpu' is declared by 2 plugins" in info.stdout


def test_device_type_registered_by_hand_is_refused_when_it_exists() -> None:
    res = run_python("""
        import ember

        class Impostor:
            @ember.hookimpl
            def ember_backends(self):
                return [ember.BackendDeclaration("cpu", ember.BACKEND_API_VERSION, "nowhere:Nothing")]

        try:
            ember.registry.register_plugin(Impostor(), "impostor")
        except ember.BackendError as e:
            print("ERR", e)
        print("CPU", ember.ones(2).sum().item(), ember.dispatch.kernel_source("add", "cpu"))
    """)
    assert res.returncode == 0, res.stderr
    assert (
        "ERR plugin 'impostor' (registered by hand, no distribution) declares device type 'cpu', which "
        "plugin 'cpu' (distribution ember-cpu) provides already; 'impostor''s declaration was refused; "
        "remedy: declare another device type, or switch the other plugin off "
        "(EMBER_DISABLE_BACKENDS=ember-cpu) or uninstall it"
    ) in res.stdout
    assert "CPU 2.0 ('cpu', 0)" in res.stdout


# -- broken kernel overrides are dropped; the device works ------------------------------------------
def _override_plugin(kernels: str, priority: str = "10", body: str = "") -> str:
    return f"""
    import numpy as np
    import ember
    {body}
    @ember.hookimpl
    def ember_kernel_overrides():
        return [ember.KernelOverride("cpu", {kernels!r}, priority={priority})]
    """


def test_broken_kernel_overrides_are_dropped_and_cpu_works(plugin_dir: Path) -> None:
    broken = {
        "missing": _override_plugin("no_such_module_xyz:KERNELS"),
        "zero": _override_plugin("zeroplug:KERNELS", "0", 'KERNELS = {"add": np.add}'),
        "notdict": _override_plugin("notdictplug:KERNELS", "10", "KERNELS = [np.add]"),
        "wordy": _override_plugin("wordyplug:KERNELS", '"high"', 'KERNELS = {"add": np.add}'),
        "quits": _override_plugin("quitskernels:KERNELS"),
    }
    for entry, source in broken.items():
        make_plugin_dist(plugin_dir, f"{entry}-ov", entry, f"{entry}plug", source)
    (plugin_dir / "quitskernels.py").write_text("import sys\nsys.exit(5)\n")
    res = run_python(
        """
        import json, ember
        x = ember.ones(3) + 1
        print(json.dumps({"sum": x.sum().item(), "add": ember.dispatch.kernel_source("add", "cpu"),
                          "failures": [r for r in ember.backends() if r["status"] == "failed"]}))
        """,
        plugin_dir,
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["sum"] == 6.0 and out["add"] == ["cpu", 0]
    fails = {f["plugin"]: f for f in out["failures"]}
    assert set(fails) == set(broken)
    prefix = (
        "kernel override {!r} for 'cpu' refused: plugin {!r} (distribution {}-ov) gives device type 'cpu' "
    )
    assert fails["missing"]["reason"] == (
        prefix.format("no_such_module_xyz:KERNELS", "missing", "missing")
        + "kernels in 'no_such_module_xyz:KERNELS', which cannot be loaded: ModuleNotFoundError: No module "
        "named 'no_such_module_xyz'; 'cpu' works without it"
    )
    assert fails["missing"]["remedy"] == (
        "make the KernelOverride's kernels name an importable 'module:attribute' (until missing-ov is fixed: "
        "uninstall it, or set EMBER_DISABLE_BACKENDS=missing)"
    )
    assert fails["zero"]["reason"] == (
        prefix.format("zeroplug:KERNELS", "zero", "zero")
        + "a kernel for 'add' in 'zeroplug:KERNELS' at priority 0, the priority of the backend's own kernel "
        "(plugin 'cpu'), so which one runs would be undecided; 'cpu' works without it"
    )
    assert fails["zero"]["remedy"].startswith("give the override a priority above 0 to replace the backend's")
    assert "which is a list, not a dict[str, Callable]" in fails["notdict"]["reason"]
    assert "with priority 'high', which is not an int" in fails["wordy"]["reason"]
    assert "which cannot be loaded: SystemExit: 5" in fails["quits"]["reason"]
    for f in out["failures"]:
        assert "ember[cpu]" not in f["remedy"] and f"EMBER_DISABLE_BACKENDS={f['plugin']}" in f["remedy"], f


# -- load times ---------------------------------------------------------------------------------------
def test_ember_info_shows_each_plugins_load_time(plugin_dir: Path) -> None:
    make_plugin_dist(plugin_dir, "sleepy-plugin", "sleepy", "sleepyplug", "import time\ntime.sleep(0.3)\n")
    res = _ember_info(plugin_dir, "--json")
    assert res.returncode == 0, res.stderr
    plugins = {p["name"]: p for p in json.loads(res.stdout)["plugins"]}
    assert plugins["sleepy"]["load_s"] >= 0.3  # measured around its import: it includes the sleep
    assert plugins["sleepy"]["distribution"] == "sleepy-plugin" and plugins["cpu"]["load_s"] > 0
    text = _ember_info(plugin_dir)
    line = [ln for ln in text.stdout.splitlines() if ln.strip().startswith("sleepy ")]
    assert len(line) == 1 and "sleepyplug (sleepy-plugin 0.1)" in line[0], text.stdout
    assert line[0].split()[:3] == ["sleepy", "loaded", "load"]  # name, status, its load time


# -- the guard itself -----------------------------------------------------------------------------------
def _interrupt() -> None:
    raise KeyboardInterrupt


def test_guarded_turns_a_plugins_own_interrupt_into_an_exception_and_restores_sigint() -> None:
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(PluginExit, match="^KeyboardInterrupt$"):
        guarded(_interrupt)
    with pytest.raises(PluginExit, match="^SystemExit: 3$"):
        guarded(sys.exit, 3)
    assert signal.getsignal(signal.SIGINT) is before
    caught: list[BaseException] = []

    def off_main_thread() -> None:  # no signal reaches this thread: every interrupt is code's
        try:
            guarded(_interrupt)
        except BaseException as exc:
            caught.append(exc)

    worker = threading.Thread(target=off_main_thread)
    worker.start()
    worker.join(timeout=60)
    assert len(caught) == 1 and isinstance(caught[0], PluginExit), caught
