"""Dispatch: kernel tables, overrides with priority, composites, the opt-in CPU fallback, errors."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import make_plugin_dist, run_python

LACKING_PLUGIN = """
    import numpy as np
    import ember
    from ember.array_backend import ArrayBackend, numpy_erf, numpy_random_bits

    class Lacking(ArrayBackend):
        device_type = "lacking"
        def __init__(self):
            super().__init__(np, lambda x: np.array(x), lambda a, i: np.array(a), numpy_erf(),
                             numpy_random_bits)
            del self.kernels["cumsum"]       # a primitive with no composite
            del self.kernels["softmax"]      # a composite op: core's definition takes over

    @ember.hookimpl
    def ember_backends():
        return [ember.BackendDeclaration("lacking", ember.BACKEND_API_VERSION, "lackingplug:Lacking")]
"""

OVERRIDE_PLUGIN = """
    import numpy as np
    import ember

    CALLS = []

    def fast_add(a, b):
        CALLS.append("add")
        return np.add(a, b)

    KERNELS = {"add": fast_add}

    @ember.hookimpl
    def ember_kernel_overrides():
        return [ember.KernelOverride("cpu", "overrideplug:KERNELS", priority=10)]
"""


def test_missing_kernel_error_names_op_device_and_remedies(plugin_dir: Path) -> None:
    make_plugin_dist(plugin_dir, "lacking-plugin", "lacking", "lackingplug", LACKING_PLUGIN)
    res = run_python(
        """
        import ember
        x = ember.tensor([[1., 2.], [3., 4.]], device="lacking")
        print(ember.softmax(x, 1).sum().item())   # composite path works
        try:
            ember.cumsum(x, 0)
        except ember.KernelNotFoundError as e:
            print("ERR", e)
    """,
        plugin_dir,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == "2.0"
    assert (
        "ERR op 'cumsum' has no kernel on device type 'lacking' (backend plugin 'lacking') and no composite "
        "implementation; remedies: move the tensors to a device that has it (x.to('cpu')), enable the CPU "
        "fallback (ember.dispatch.set_fallback(True, 'lacking') or EMBER_CPU_FALLBACK=1), or add the kernel "
        "to the backend"
    ) in res.stdout


def test_cpu_fallback_is_opt_in_warned_once_and_counted(plugin_dir: Path) -> None:
    make_plugin_dist(plugin_dir, "lacking-plugin", "lacking", "lackingplug", LACKING_PLUGIN)
    res = run_python(
        """
        import json, warnings, ember
        ember.dispatch.set_fallback(True, "lacking")
        x = ember.tensor([[1., 2.], [3., 4.]], device="lacking")
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            a = ember.cumsum(x, 0)
            b = ember.cumsum(x, 1)
        print(json.dumps({"a": a.tolist(), "dev": str(a.device), "warnings": [str(m.message) for m in w],
                          "counts": ember.dispatch.fallback_counts()}))
    """,
        plugin_dir,
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["a"] == [[1.0, 2.0], [4.0, 6.0]] and out["dev"] == "lacking:0"
    assert (
        len(out["warnings"]) == 1
        and "op 'cumsum' has no kernel on 'lacking'; running it on cpu" in out["warnings"][0]
    )
    assert out["counts"] == {"cumsum@lacking": 2}


def test_kernel_override_with_priority_wins_and_is_inspectable(plugin_dir: Path) -> None:
    make_plugin_dist(plugin_dir, "override-plugin", "override", "overrideplug", OVERRIDE_PLUGIN)
    res = run_python(
        """
        import ember, overrideplug
        x = ember.ones(3) + ember.ones(3)
        print(overrideplug.CALLS, ember.dispatch.kernel_source("add", "cpu"),
              ember.dispatch.kernel_source("mul", "cpu"), x.tolist())
    """,
        plugin_dir,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "['add'] ('override', 10) ('cpu', 0) [2.0, 2.0, 2.0]"


def test_equal_priority_overrides_are_both_refused_and_the_device_works(plugin_dir: Path) -> None:
    make_plugin_dist(plugin_dir, "override-plugin", "override", "overrideplug", OVERRIDE_PLUGIN)
    make_plugin_dist(
        plugin_dir,
        "override-two",
        "override2",
        "override2plug",
        OVERRIDE_PLUGIN.replace("overrideplug", "override2plug"),
    )
    res = run_python(
        """
        import ember
        print((ember.ones(2) + 1).tolist(), ember.dispatch.kernel_source("add", "cpu"))
        for r in ember.backends():
            if r["status"] == "failed":
                print("ERR", r["plugin"], "|", r["reason"])
    """,
        plugin_dir,
    )
    assert "[2.0, 2.0] ('cpu', 0)" in res.stdout, res.stdout + res.stderr  # neither override wins
    assert (
        "ERR override | kernel override 'overrideplug:KERNELS' for 'cpu' refused: plugin 'override' "
        "(distribution override-plugin) gives device type 'cpu' a kernel for 'add' in 'overrideplug:KERNELS' "
        "at priority 10, the priority of plugin 'override2' (distribution override-two)'s override "
        "'override2plug:KERNELS', so which one runs would be undecided"
    ) in res.stdout, res.stdout
    assert "ERR override2 | kernel override 'override2plug:KERNELS' for 'cpu' refused" in res.stdout


def test_dispatch_does_not_call_pluggy_per_op() -> None:
    res = run_python("""
        import ember, pluggy
        calls = []
        orig = pluggy.HookCaller.__call__
        def spy(self, *a, **k):
            calls.append(self.name)
            return orig(self, *a, **k)
        pluggy.HookCaller.__call__ = spy
        x = ember.ones(4, requires_grad=True)
        for _ in range(10):
            y = (x * 2 + 1).relu().sum()
            y.backward()
        print(len(calls))
    """)
    assert res.stdout.strip() == "0", res.stderr


def test_override_registered_at_runtime_reaches_devices_in_use() -> None:
    res = run_python("""
        import numpy as np
        import ember
        x = ember.ones(3)                      # cpu in use before the plugin arrives
        calls = []

        def traced_mul(a, b):
            calls.append(1)
            return np.multiply(a, b)

        class Plugin:
            KERNELS = {"mul": traced_mul}

            @ember.hookimpl
            def ember_kernel_overrides(self):
                return [ember.KernelOverride("cpu", "__main__:Plugin.KERNELS", priority=5)]

        ember.registry.register_plugin(Plugin(), "traced")
        y = x * 2                               # the old tensor's device sees the new kernel
        print(len(calls), (y + x).device is x.device, ember.dispatch.kernel_source("mul", "cpu"))
    """)
    assert res.stdout.strip() == "1 True ('traced', 5)", res.stderr
