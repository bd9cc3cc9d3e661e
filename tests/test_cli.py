"""The ``ember`` command line."""

from __future__ import annotations

import json
import subprocess
import sys

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
