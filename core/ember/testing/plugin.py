"""The conformance kit's pytest plugin (entry point ``pytest11``).

Adds ``--ember-device`` and the ``ember_device`` fixture: every test that takes it runs once per
selected device. Without the option, it runs on every available device, and each declared but
unusable backend appears as one skipped run whose reason says why.

``--ember-gradcheck=fast|full`` picks how the kit's gradchecks run: ``fast`` (the default) checks
one random projection ``v^T J u`` per input and output (``ember.autograd.gradcheck(...,
fast_mode=True)``), ``full`` the whole Jacobians, to see every entry of a wrong gradient.

A backend's own pytest configuration lists what its device cannot pass yet: ``ember_skip`` and
``ember_expected_failures`` (strict), fnmatch patterns on test ids. A pattern matches a test when
it equals or fnmatch-matches one of these forms of the test's id (see :func:`id_forms`):

- the full id as pytest prints it, e.g. ``core/ember/testing/test_ops.py::test_x[mydev-neg-float32]``;
- that id with leading directories removed, e.g. ``ember/testing/test_ops.py::test_x[...]`` or
  ``test_ops.py::test_x[mydev-neg-float32]`` (the portable form: the prefix depends on where
  Ember is installed and where pytest runs);
- the part after the first ``::``, e.g. ``test_x[mydev-neg-float32]``.

In fnmatch, ``[[]`` is a literal ``[``. A pattern that matches no collected test is reported in
the terminal summary (an error under ``--ember-strict-patterns`` or ``ember_strict_patterns =
true``); an expected failure that passes fails the run, saying which pattern to remove.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: Any) -> None:
    """Register ``--ember-device`` (repeatable, or comma-separated), ``--ember-gradcheck``,
    ``--ember-strict-patterns``, and the ini options ``ember_expected_failures``, ``ember_skip``
    and ``ember_strict_patterns``."""
    group = parser.getgroup("ember")
    parser.addini(
        "ember_expected_failures",
        "test ids (fnmatch patterns) expected to fail on your device; strict: one that passes fails "
        "the run. A pattern matches the full test id, the id without its directories "
        "(test_ops.py::test_x[[]mydev-*) or the part after '::'",
        type="linelist",
        default=[],
    )
    parser.addini(
        "ember_skip",
        "test ids (fnmatch patterns, matched as for ember_expected_failures) to skip on your device",
        type="linelist",
        default=[],
    )
    parser.addini(
        "ember_strict_patterns",
        "stop the run when an ember_expected_failures / ember_skip pattern matches no collected test "
        "(default: report it in the terminal summary)",
        type="bool",
        default=False,
    )
    group.addoption(
        "--ember-device",
        action="append",
        default=None,
        help="device(s) to run Ember's conformance tests on, e.g. cpu, opencl:0 "
        "(default: every available device)",
    )
    group.addoption(
        "--ember-gradcheck",
        choices=("fast", "full"),
        default="fast",
        help="how the kit's gradchecks compare gradients: fast (default), one random projection "
        "v^T J u per input and output, as PyTorch's gradcheck(fast_mode=True); full, the whole "
        "Jacobians element by element (slower; shows every entry when a gradient is wrong)",
    )
    group.addoption(
        "--ember-strict-patterns",
        action="store_true",
        default=False,
        help="stop the run when an ember_expected_failures / ember_skip pattern matches no "
        "collected test (default: report it in the terminal summary)",
    )


def selected_devices(config: Any) -> list[str]:
    """The device strings the conformance tests run on, each once.

    A device named twice (``--ember-device=mydev`` in a project's ``addopts`` and again on the
    command line, or ``mydev`` and ``mydev:0``) runs once, under its first spelling: pytest would
    otherwise run every test twice, as ``[mydev0-...]`` and ``[mydev1-...]``.
    """
    opt = config.getoption("--ember-device", default=None)
    if opt:
        named = [d.strip() for item in opt for d in item.split(",") if d.strip()]
        first: dict[str, str] = {}
        for d in named:
            first.setdefault(d if ":" in d else f"{d}:0", d)
        return list(first.values())
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
_KIT_DIR = Path(__file__).resolve().parent
_XFAIL_PATTERN = pytest.StashKey[str]()
_OPTIONS = ("ember_skip", "ember_expected_failures")


def pytest_configure(config: Any) -> None:
    """Set up the tables behind the coverage summary and the expectation checks."""
    config._ember_results = {}  # (device, op) -> set of outcomes
    config._ember_items = {}  # nodeid -> (device, op)
    config._ember_unmatched = []  # (ini option, pattern) matching no collected test
    config._ember_collected = 0  # how many tests the patterns were checked against
    config._ember_xpassed = []  # (nodeid, pattern): expected failures that passed


def _ini_patterns(config: Any, name: str) -> list[str]:
    try:
        return [p.strip() for p in config.getini(name) if p.strip()]
    except ValueError:
        return []


def id_forms(nodeid: str) -> list[str]:
    """The forms of a test id that ``ember_expected_failures`` / ``ember_skip`` patterns are tried on.

    The full nodeid as pytest prints it; the same with leading directories removed, one at a time
    (``ember/testing/test_ops.py::...``, ``testing/test_ops.py::...``, ``test_ops.py::...``); and
    the part after the first ``::`` (``test_forward_matches_numpy[mydev-cumsum-float32]``).
    """
    path, sep, rest = nodeid.partition("::")
    parts = path.split("/")
    forms = [nodeid]
    forms.extend("/".join(parts[i:]) + sep + rest for i in range(1, len(parts)))
    if sep:
        forms.append(rest)
    return forms


def pattern_matches(pattern: str, nodeid: str) -> bool:
    """Whether an ``ember_expected_failures`` / ``ember_skip`` pattern selects the test ``nodeid``.

    True when the pattern equals one of :func:`id_forms` of the nodeid, or matches one with
    :func:`fnmatch.fnmatchcase` (``*`` any text, ``?`` one character, ``[[]`` a literal ``[``).
    """
    import fnmatch

    return any(pattern == form or fnmatch.fnmatchcase(form, pattern) for form in id_forms(nodeid))


def _config_source(config: Any) -> str:
    inipath = getattr(config, "inipath", None)
    return str(inipath) if inipath else "your pytest configuration"


def _strict_patterns(config: Any) -> bool:
    if config.getoption("--ember-strict-patterns", default=False):
        return True
    try:
        return bool(config.getini("ember_strict_patterns"))
    except ValueError:
        return False


def _unmatched_message(config: Any, option: str, pattern: str, collected: int) -> str:
    return (
        f"{option}: pattern {pattern!r} matches none of the {collected} collected tests; "
        f"correct it or remove it from {option} in {_config_source(config)} (patterns match the test "
        "id as pytest prints it, the id without its directories such as "
        "'test_ops.py::test_forward_matches_numpy[[]mydev-cumsum-*', or the part after '::'; "
        "'[[]' is a literal '[')"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Apply ``ember_skip`` and ``ember_expected_failures`` (patterns on test ids, see
    :func:`pattern_matches`) from the author's pytest configuration, check that each pattern
    selects some test, and remember which op and device each test exercises.

    Runs before ``-k``/``-m`` deselection, so patterns are checked against every collected test.
    Expected failures are strict: one that passes fails the run. Patterns are checked only when
    the run collected the conformance kit; one that matches nothing is reported in the terminal
    summary, or stops the run under ``--ember-strict-patterns`` / ``ember_strict_patterns``.
    """
    patterns = {option: _ini_patterns(config, option) for option in _OPTIONS}
    used: set[tuple[str, str]] = set()
    kit_collected = False
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        spec = params.get("spec")
        if spec is not None and "ember_device" in params:
            config._ember_items[item.nodeid] = (str(params["ember_device"]), spec.name)
        path = getattr(item, "path", None)
        if not kit_collected and path is not None and Path(path).resolve().parent == _KIT_DIR:
            kit_collected = True
        hits = {o: [p for p in patterns[o] if pattern_matches(p, item.nodeid)] for o in _OPTIONS}
        used.update((o, p) for o in _OPTIONS for p in hits[o])
        if hits["ember_skip"]:
            reason = f"listed in ember_skip (pattern {hits['ember_skip'][0]!r})"
            item.add_marker(pytest.mark.skip(reason=reason))
        elif hits["ember_expected_failures"]:
            pattern = hits["ember_expected_failures"][0]
            item.stash[_XFAIL_PATTERN] = pattern
            reason = f"listed in ember_expected_failures (pattern {pattern!r})"
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
    if not kit_collected:
        return
    unmatched = [(o, p) for o in _OPTIONS for p in patterns[o] if (o, p) not in used]
    if unmatched and _strict_patterns(config):
        lines = [_unmatched_message(config, o, p, len(items)) for o, p in unmatched]
        raise pytest.UsageError(
            "\n".join(lines) + "\n(an error because of --ember-strict-patterns or ember_strict_patterns)"
        )
    config._ember_unmatched = unmatched
    config._ember_collected = len(items)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    """Say what to do when a test listed in ``ember_expected_failures`` passes (strict XPASS)."""
    rep = yield
    pattern = item.stash.get(_XFAIL_PATTERN, None)
    if pattern is not None and rep.when == "call" and rep.failed and not call.excinfo:
        cfg = item.config
        cfg._ember_xpassed.append((item.nodeid, pattern))
        rep.longrepr = (
            f"[XPASS(strict)] {item.nodeid} passes, but ember_expected_failures pattern {pattern!r} "
            f"lists it as an expected failure: remove the pattern from ember_expected_failures in "
            f"{_config_source(cfg)} (or narrow it) so the test counts as a pass"
        )
    return rep


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
    missing), and which op records failed. Before it, the expectation patterns that match
    no collected test and the expected failures that passed, each with what to do."""
    tr = terminalreporter
    unmatched = getattr(config, "_ember_unmatched", [])
    xpassed = getattr(config, "_ember_xpassed", [])
    if unmatched or xpassed:
        tr.section("ember expectations", yellow=True, bold=True)
        for option, pattern in unmatched:
            msg = _unmatched_message(config, option, pattern, config._ember_collected)
            tr.write_line(f"WARNING {msg}", yellow=True)
        for nodeid, pattern in xpassed:
            tr.write_line(
                f"PASSED, expected to fail: {nodeid}: remove ember_expected_failures pattern "
                f"{pattern!r} from {_config_source(config)}",
                red=True,
            )
    results = getattr(config, "_ember_results", {})
    if not results:
        return
    import ember
    from ember.dispatch import fallback_enabled
    from ember.ops.catalog import coverage
    from ember.ops.records import RECORDS

    devices = sorted({d for d, _ in results})
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
        covered = {name for op in ops if op in RECORDS for name in RECORDS[op].public_names()}
        tr.write_line(
            f"  op records: {passed} of {len(ops)} pass (covering {len(covered)} public ops and Tensor "
            "methods)"
            + (f"; failing: {', '.join(failed)}" if failed else "")
            + (f"; expected failures: {', '.join(xfailed)}" if xfailed else "")
        )
