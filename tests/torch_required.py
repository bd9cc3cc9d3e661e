"""PyTorch for the differential tests: the test extra installs it, so a missing torch means a broken
setup, and a module that compares with PyTorch fails to collect instead of skipping, unless
``EMBER_ALLOW_NO_TORCH=1`` says the skip is on purpose."""

from __future__ import annotations

import os
from types import ModuleType

import pytest


def require_torch() -> ModuleType:
    """``torch``, or a collection failure (a module-level skip under ``EMBER_ALLOW_NO_TORCH=1``)."""
    try:
        import torch
    except ImportError as exc:
        reason = f"{type(exc).__name__}: {exc}"
    else:
        return torch
    if os.environ.get("EMBER_ALLOW_NO_TORCH") != "1":
        pytest.fail(
            f"PyTorch cannot be imported ({reason}), so Ember cannot be compared with it. Install the "
            "test extra, pip install -e '.[test]' (it brings torch==2.13.0), or set EMBER_ALLOW_NO_TORCH=1 "
            "to skip these differential tests on purpose",
            pytrace=False,
        )
    pytest.skip(f"PyTorch cannot be imported ({reason}) and EMBER_ALLOW_NO_TORCH=1", allow_module_level=True)
    raise AssertionError("unreachable")  # pytest.skip raises
