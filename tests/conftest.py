"""Shared fixtures for Ember's own tests (the conformance kit's fixtures come from ember.testing)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
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
