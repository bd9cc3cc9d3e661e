"""``ember new-backend NAME``: write a backend plugin package that installs and passes the
conformance kit at once.

The generated backend is laid out as a table of kernels, one entry per primitive of
:data:`ember.backend.PRIMITIVES`, each starting as the numpy implementation and marked
``REPLACE`` so the author swaps in their device's own kernels one by one, re-running the kit
after each.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from .backend import PRIMITIVES

__all__ = ["new_backend"]

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def _kernel_table() -> str:
    lines = []
    family = None
    for name, (fam, contract) in PRIMITIVES.items():
        if fam != family:
            family = fam
            lines.append(f"    # -- {fam} " + "-" * (86 - len(fam)))
        wrapped = textwrap.wrap(contract, 96)
        lines.extend(f"    # {w}" for w in wrapped)
        lines.append(f'    "{name}": _START["{name}"],  # REPLACE with your device\'s kernel')
    return "\n".join(lines)


def _files(name: str) -> dict[str, str]:
    pkg = f"ember_{name}"
    dist = f"ember-{name.replace('_', '-')}"
    return {
        "pyproject.toml": f'''\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "An Ember backend for {name} devices"
requires-python = ">=3.11"
dependencies = ["ember", "numpy"]

[project.optional-dependencies]
# `pip install -e '.[test]'`: pytest and the cpu backend, which Ember's conformance kit moves data
# through and compares your device against (Ember's `kit` extra)
test = ["ember[kit]"]

[project.entry-points."ember.backends"]
{name} = "{pkg}.plugin"

[tool.setuptools.packages.find]
# {pkg} and every folder under it (Python subpackages and data folders such as kernels/ alike)
include = ["{pkg}*"]

[tool.setuptools.package-data]
# files other than Python modules that go into the wheel, in every folder of {pkg}: kernel
# sources, data tables. A file no pattern matches is left out of the wheel, and your backend
# then fails only once installed: add a pattern for every other kind of file you ship.
"*" = ["py.typed", "*.c", "*.h", "*.cl", "*.cu", "*.json", "*.txt", "*.bin", "*.npy", "*.npz"]

[tool.pytest.ini_options]
# `pytest` runs your tests and Ember's conformance kit (the ember.testing package) on this device
addopts = "--pyargs --ember-device={name} -p no:cacheprovider"
testpaths = ["tests", "ember.testing"]
# Tests your device is known to fail or cannot run: fnmatch patterns on test ids as pytest prints
# them, with or without directories ("[[]" is a literal "["), e.g.
#   ember_expected_failures = ["test_ops.py::test_forward_matches_numpy[[]{name}-cumsum-*"]
# Expected failures are strict (one that passes fails the run: remove its pattern), and a pattern
# that matches no test is reported (an error with ember_strict_patterns = true).
ember_expected_failures = []
ember_skip = []
''',
        f"{pkg}/__init__.py": f'"""An Ember backend for {name} devices."""\n\n__version__ = "0.1.0"\n',
        f"{pkg}/py.typed": "",
        f"{pkg}/plugin.py": f'''\
"""Declares the ``{name}`` device type to Ember. Keep this module light: no device library imports."""

from __future__ import annotations

from ember.hookspecs import BACKEND_API_VERSION, BackendDeclaration, hookimpl


@hookimpl
def ember_backends() -> list[BackendDeclaration]:
    """The {name} device type, implemented in :mod:`{pkg}.backend`."""
    return [
        BackendDeclaration(
            device_type="{name}",
            api_version=BACKEND_API_VERSION,
            implementation="{pkg}.backend:{name.title().replace("_", "")}Backend",
            remedy="pip install {dist}",
            description="{name} devices",
        )
    ]
''',
        f"{pkg}/backend.py": f'''\
"""The {name} backend: a table of kernels, one per primitive of ember.backend.PRIMITIVES.

Every kernel starts as the numpy implementation (buffers are numpy arrays), so the package passes
Ember's conformance kit as generated. Replace the entries marked REPLACE with your device's
kernels and its own buffer type, re-running ``pytest`` after each. The contract of each kernel is
the comment above it; the full text is in ember/backend.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.array_backend import array_kernels, numpy_erf, numpy_random_bits
from ember.backend import Backend

# REPLACE: host transfer of your buffer type
_START = array_kernels(np, lambda x: np.asarray(x), lambda a, index: np.array(a), numpy_erf(),
                       numpy_random_bits)

KERNELS: dict[str, Any] = {{
{_kernel_table()}
}}


class {name.title().replace("_", "")}Backend(Backend):
    """Kernels and device queries for ``{name}``. Raise ember.BackendUnavailable(reason, remedy) from
    __init__ when the device or its driver is missing."""

    device_type = "{name}"

    def __init__(self) -> None:
        super().__init__()
        self.kernels = dict(KERNELS)

    def device_count(self) -> int:
        """REPLACE: how many {name} devices exist."""
        return 1

    def device_properties(self, index: int) -> dict[str, Any]:
        """REPLACE: what ``ember info`` shows about device ``index``."""
        return {{"name": "{name} (numpy starting kernels)"}}

    def memory_stats(self, index: int) -> dict[str, int]:
        """REPLACE: bytes in use, cached and peak on device ``index``."""
        return {{"in_use": 0, "cached": 0, "peak": 0}}
''',
        "tests/test_backend.py": f'''\
"""Tests of your own beyond the conformance kit (which runs through pytest's addopts)."""

import ember


def test_device_is_registered() -> None:
    rec = [r for r in ember.backends() if r["name"] == "{name}"][0]
    assert rec["status"] == "available", rec
    assert (ember.ones(3, device="{name}") * 2).sum().item() == 6.0
''',
        "README.md": f"""\
# {dist}

An Ember backend for `{name}` devices, generated by `ember new-backend {name}`.

    pip install -e '.[test]'  # registers the `{name}` device; brings pytest and the kit's cpu backend
    pytest                    # runs Ember's conformance kit on `{name}` plus tests/
    ember info                # shows the backend, its devices and its kernel coverage
    python -m build           # (or `pip wheel --no-deps .`) the wheel to publish

Replace the kernels marked `REPLACE` in `{pkg}/backend.py` with your device's own, one at a time.
Files other than Python modules (kernel sources, data) go into the wheel when a pattern of
`[tool.setuptools.package-data]` in `pyproject.toml` matches them; read them at run time with
`importlib.resources.files("{pkg}") / "kernels/my_kernel.c"`, never through a path relative to
the source tree.
""",
    }


def new_backend(name: str, dest: str | Path = ".") -> Path:
    """Write the plugin package ``ember-NAME`` under ``dest``; returns its folder.

    Raises ValueError for an invalid name and FileExistsError when the folder exists.
    """
    if not _NAME_RE.match(name):
        raise ValueError(
            f"new-backend: invalid device type name {name!r}; use lowercase letters, digits "
            "and _ (starting with a letter)"
        )
    root = Path(dest) / f"ember-{name.replace('_', '-')}"
    if root.exists():
        raise FileExistsError(f"new-backend: {root} already exists; choose another name or folder")
    for rel, text in _files(name).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
