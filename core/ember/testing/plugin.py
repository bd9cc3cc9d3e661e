"""pytest plugin (entry point ``pytest11``): adds ``--ember-device``."""

from __future__ import annotations

from typing import Any


def pytest_addoption(parser: Any) -> None:
    """Register ``--ember-device`` (repeatable): the devices the conformance tests run on."""
    group = parser.getgroup("ember")
    group.addoption("--ember-device", action="append", default=None,
                    help="device(s) to run Ember's conformance tests on (default: every available)")
