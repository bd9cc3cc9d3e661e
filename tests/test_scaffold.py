"""``ember new-backend``: the generated package installs, registers and passes the conformance kit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import run_python
from ember.backend import PRIMITIVES
from ember.cli import main
from ember.ops.catalog import OPTIONAL_KERNELS
from ember.scaffold import new_backend


def test_generated_backend_passes_the_kit(tmp_path: Path) -> None:
    """`ember new-backend` writes a package that installs, registers its device and passes the kit
    (all but the gradchecks) as generated."""
    assert main(["new-backend", "scaffdev", "--dest", str(tmp_path)]) == 0
    root = tmp_path / "ember-scaffdev"
    backend_src = (root / "ember_scaffdev" / "backend.py").read_text()
    assert backend_src.count("REPLACE with your device's kernel") == len(PRIMITIVES)
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(root),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    # the whole kit but its gradchecks: the generated kernels are the cpu backend's numpy ones, whose
    # gradients the cpu kit checks; gradchecks through the composites of all 42 optional kernels
    # (Jacobi eigh/svd, DFT matmuls) made this one test take two and a half minutes of make test
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-k", "not gradcheck"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**_env(), "PYTHONPATH": str(site)},
        timeout=600,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    expected = f"scaffdev: kernels composite {len(OPTIONAL_KERNELS)}, native {len(PRIMITIVES)}"
    assert expected in res.stdout, res.stdout[-2000:]
    info = run_python(
        "import ember; print([r['status'] for r in ember.backends() if r['name']=='scaffdev'])", site
    )
    assert info.stdout.strip() == "['available']", info.stderr


def test_new_backend_refuses_bad_names_and_existing_folders(tmp_path: Path) -> None:
    assert main(["new-backend", "Bad-Name", "--dest", str(tmp_path)]) == 2
    new_backend("okdev", tmp_path)
    try:
        new_backend("okdev", tmp_path)
    except FileExistsError as exc:
        assert "already exists" in str(exc)
    else:
        raise AssertionError("expected FileExistsError")


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("EMBER_") and k != "PYTHONPATH"}


class _Config:
    """The part of pytest's config that ``selected_devices`` reads."""

    def __init__(self, devices: list[str]) -> None:
        self.devices = devices

    def getoption(self, name: str, default: object = None) -> object:
        assert name == "--ember-device"
        return self.devices


def test_a_device_named_twice_runs_once() -> None:
    """A scaffolded project's addopts name its device; naming it again on the command line (the
    guide's ``pytest --pyargs ember.testing --ember-device=NAME``) must not run the kit twice."""
    from ember.testing.plugin import selected_devices

    assert selected_devices(_Config(["mydev", "mydev"])) == ["mydev"]
    assert selected_devices(_Config(["mydev,cpu", "cpu", "mydev:0", " mydev "])) == ["mydev", "cpu"]
    assert selected_devices(_Config(["opencl:1", "opencl:0", "opencl"])) == ["opencl:1", "opencl:0"]
