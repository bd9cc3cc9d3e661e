"""Shared fixtures for Ember's own tests (the conformance kit's fixtures come from ember.testing)."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest


def make_plugin_dist(root: Path, dist: str, entry_name: str, module: str, source: str) -> None:
    """Write an installed-looking distribution (dist-info with entry_points.txt) and its module."""
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[ember.backends]\n{entry_name} = {module}\n")
    (root / f"{module}.py").write_text(textwrap.dedent(source))


def run_python(
    code: str,
    extra_path: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (optionally with ``extra_path`` on sys.path)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("EMBER_")}
    if extra_path is not None:
        full_env["PYTHONPATH"] = str(extra_path) + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Path:
    """A folder to put fake plugin distributions in."""
    return tmp_path


# -- whole-module runs, for the differential tests that count their comparisons with PyTorch ---------
_OUTCOMES: dict[str, str] = {}  # node id -> "passed" / "failed" / "skipped", as reported in this process
_DESELECTED: Counter[str] = Counter()  # module part of the node id -> items deselected from it


def _module_part(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Remember which modules lost items to -k, -m, --deselect (or any other deselection)."""
    for item in items:
        _DESELECTED[_module_part(item.nodeid)] += 1


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember each test's outcome in this process: failed if any phase failed, else skipped or passed."""
    if report.failed:
        _OUTCOMES[report.nodeid] = "failed"
    elif report.when == "call" or report.skipped:
        _OUTCOMES.setdefault(report.nodeid, report.outcome)


@pytest.fixture
def incomplete_module_run(request: pytest.FixtureRequest) -> str | None:
    """None when every test of the requesting test's module was collected, selected and has already
    run in this process without failing; otherwise why not. A module's closing check (such as the
    count of comparisons of the differential tests against PyTorch) is only meaningful on such a run:
    -k / -m / --deselect, node ids naming some tests, a reordered or distributed run (pytest-xdist)
    all leave part of the module out, and failures are reported by the failing tests themselves."""
    node, module = request.node, request.module
    defined = {n for n, obj in vars(module).items() if n.startswith("test") and inspect.isfunction(obj)}
    others = [
        item for item in request.session.items if getattr(item, "module", None) is module and item is not node
    ]
    reasons = []
    deselected = _DESELECTED[_module_part(node.nodeid)]
    if deselected:
        reasons.append(f"{deselected} of its tests were deselected (-k, -m or --deselect)")
    collected = {getattr(item, "originalname", item.name) for item in others} | {node.originalname}
    missing = sorted(defined - collected)
    if missing:
        names = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
        reasons.append(f"{len(missing)} of its test functions were not collected ({names})")
    not_run = [item for item in others if item.nodeid not in _OUTCOMES]
    if not_run:
        reasons.append(
            f"{len(not_run)} of its tests had not run in this process before {node.name} "
            "(a reordered or distributed run)"
        )
    failed = [item for item in others if _OUTCOMES.get(item.nodeid) == "failed"]
    if failed:
        reasons.append(f"{len(failed)} of its tests failed (reported on their own)")
    return "; ".join(reasons) or None
