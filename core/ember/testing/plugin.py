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
