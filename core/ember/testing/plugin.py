"""The conformance kit's pytest plugin (entry point ``pytest11``).

Adds ``--ember-device`` and the ``ember_device`` fixture: every test that takes it runs once per
selected device. Without the option, it runs on every available device, and each declared but
unusable backend appears as one skipped run whose reason says why.
"""

from __future__ import annotations

from typing import Any

import pytest


def pytest_addoption(parser: Any) -> None:
    """Register ``--ember-device`` (repeatable, or comma-separated)."""
    group = parser.getgroup("ember")
    parser.addini(
        "ember_expected_failures",
        "test ids (fnmatch patterns) expected to fail on your device",
        type="linelist",
        default=[],
    )
    parser.addini(
        "ember_skip", "test ids (fnmatch patterns) to skip on your device", type="linelist", default=[]
    )
    group.addoption(
        "--ember-device",
        action="append",
        default=None,
        help="device(s) to run Ember's conformance tests on, e.g. cpu, opencl:0 "
        "(default: every available device)",
    )


def selected_devices(config: Any) -> list[str]:
    """The device strings the conformance tests run on."""
    opt = config.getoption("--ember-device", default=None)
    if opt:
        return [d.strip() for item in opt for d in item.split(",") if d.strip()]
    import ember

    out: list[str] = []
    for rec in ember.backends():
        if rec["status"] == "available":
            devs = rec.get("devices") or [{"index": 0}]
            out.extend(rec["name"] if len(devs) == 1 else f"{rec['name']}:{d['index']}" for d in devs)
        elif rec["status"] in ("unavailable", "failed", "declared"):
            out.append(rec["name"])
    return out


def pytest_generate_tests(metafunc: Any) -> None:
    """Parametrize the ``ember_device`` fixture over the selected devices."""
    if "ember_device" in metafunc.fixturenames:
        metafunc.parametrize("ember_device", selected_devices(metafunc.config), indirect=True)


@pytest.fixture
def ember_device(request: Any) -> Any:
    """The ember.Device under test; skips with the backend's reason when it cannot be used."""
    import ember

    try:
        return ember.device(request.param)
    except ember.BackendError as exc:
        pytest.skip(f"device {request.param!r} unusable: {exc}")


# -- the author's own expectations, and the coverage summary ---------------------------------------
def pytest_configure(config: Any) -> None:
    """Register the ini options a backend author uses for expected failures and skips."""
    config._ember_results = {}  # (device, op) -> set of outcomes
    config._ember_items = {}  # nodeid -> (device, op)


def _ini_patterns(config: Any, name: str) -> list[str]:
    try:
        return [p.strip() for p in config.getini(name) if p.strip()]
    except ValueError:
        return []


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Apply ``ember_expected_failures`` / ``ember_skip`` (fnmatch patterns on test ids, from the
    author's pytest configuration) and remember which op and device each test exercises."""
    import fnmatch

    xfails = _ini_patterns(config, "ember_expected_failures")
    skips = _ini_patterns(config, "ember_skip")
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        spec = params.get("spec")
        if spec is not None and "ember_device" in params:
            config._ember_items[item.nodeid] = (str(params["ember_device"]), spec.name)
        name = item.nodeid.split("::", 1)[-1]
        if any(fnmatch.fnmatchcase(name, p) for p in skips):
            item.add_marker(pytest.mark.skip(reason="listed in ember_skip of this project's configuration"))
        elif any(fnmatch.fnmatchcase(name, p) for p in xfails):
            item.add_marker(pytest.mark.xfail(reason="listed in ember_expected_failures", strict=False))


def pytest_runtest_logreport(report: Any) -> None:
    """Collect per-op outcomes for the coverage summary."""
    cfg = getattr(report, "config", None)
    key = None
    if cfg is None:
        return
    key = cfg._ember_items.get(report.nodeid)
    if key is None:
        return
    if report.when == "call" or report.outcome == "skipped":
        outcome = "xfail" if hasattr(report, "wasxfail") else report.outcome
        cfg._ember_results.setdefault(key, set()).add(outcome)


def pytest_report_teststatus(report: Any, config: Any) -> None:
    """Attach the config to reports so the outcome collector can find its tables."""
    report.config = config


def pytest_terminal_summary(terminalreporter: Any, config: Any) -> None:
    """Per device: how each primitive and optional kernel runs (native / composite / fallback /
    missing), and which ops of the op table failed."""
    results = getattr(config, "_ember_results", {})
    if not results:
        return
    import ember
    from ember.dispatch import fallback_enabled
    from ember.ops.catalog import coverage

    devices = sorted({d for d, _ in results})
    tr = terminalreporter
    tr.section("ember conformance coverage")
    for dev_name in devices:
        try:
            dev = ember.device(dev_name)
        except (ember.BackendError, ValueError):
            tr.write_line(f"{dev_name}: not usable here")
            continue
        cov = coverage(dev.kernels, fallback_enabled(dev.type))
        counts: dict[str, list[str]] = {}
        for op, how in cov.items():
            counts.setdefault(how, []).append(op)
        parts = [f"{how} {len(ops)}" for how, ops in sorted(counts.items())]
        tr.write_line(f"{dev_name}: kernels " + ", ".join(parts))
        for how in ("fallback", "missing"):
            if counts.get(how):
                tr.write_line(f"  {how}: {', '.join(sorted(counts[how]))}")
        ops = {op: outs for (d, op), outs in results.items() if d == dev_name}
        failed = sorted(op for op, outs in ops.items() if "failed" in outs)
        xfailed = sorted(op for op, outs in ops.items() if "xfail" in outs)
        passed = sum(1 for outs in ops.values() if outs <= {"passed"})
        tr.write_line(
            f"  op table: {passed} of {len(ops)} ops pass"
            + (f"; failing: {', '.join(failed)}" if failed else "")
            + (f"; expected failures: {', '.join(xfailed)}" if xfailed else "")
        )
