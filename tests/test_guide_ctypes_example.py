"""The authoring guide's worked raw-buffer example runs: its C library compiles, and its Python
kernels (through ctypes, on ember.layout's helpers) give numpy's values on contiguous, transposed,
flipped (negative strides), broadcast (zero strides) and empty views."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "authoring-a-backend.md"


def _blocks(lang: str) -> list[str]:
    return [
        body for tag, body in re.findall(r"```(\w*)\n(.*?)```", GUIDE.read_text(), re.DOTALL) if tag == lang
    ]


CHECK = """
import numpy as np
from ember_mydev.kernels import add, as_strided, empty, from_numpy, to_numpy

a = np.arange(12, dtype=np.float32).reshape(3, 4)
x = from_numpy(a)
assert (to_numpy(x) == a).all()
cases = [
    ((3, 4), (4, 1), 0, a),  # contiguous
    ((4, 3), (1, 4), 0, a.T),  # transposed
    ((3, 4), (-4, -1), 11, a[::-1, ::-1]),  # flipped: negative strides
    ((2, 4), (0, 1), 4, np.broadcast_to(a[1], (2, 4))),  # broadcast: a zero stride
]
for shape, strides, offset, ref in cases:
    v = as_strided(x, shape, strides, offset)
    assert (to_numpy(v) == ref).all(), (shape, strides)
    assert (to_numpy(add(v, 1.5)) == ref + np.float32(1.5)).all(), (shape, strides)
    assert (to_numpy(add(2.0, v)) == ref + np.float32(2.0)).all(), (shape, strides)
assert to_numpy(empty((0, 3), x.dtype)).shape == (0, 3)
print("guide example ok")
"""


def test_the_guides_c_through_ctypes_example_runs(tmp_path: Path) -> None:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler (cc or gcc) on PATH to build the guide's example library")
    (c_src,) = [b for b in _blocks("c") if "mydev_add_scalar_f32" in b]
    (py_src,) = [b for b in _blocks("python") if "class MyArray" in b]
    pkg = tmp_path / "ember_mydev"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "kernels.py").write_text(py_src)
    (tmp_path / "mydev.c").write_text(c_src)
    subprocess.run(
        [cc, "-O2", "-shared", "-fPIC", str(tmp_path / "mydev.c"), "-o", str(pkg / "libmydev.so")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    res = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0 and "guide example ok" in res.stdout, res.stdout + res.stderr[-3000:]
