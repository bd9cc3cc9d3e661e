"""A scaffolded backend as its users get it: built as a wheel, installed with only its declared
dependencies in a fresh virtual environment, and passing the conformance kit from inside its project.

The wheels of ember, ember-cpu and the scaffolded package are built here from copies of their
sources (nothing is written into the checkout); the third-party wheels their metadata asks for are
fetched with ``pip download`` at the versions this environment runs. The install then uses
``--no-index`` on that folder alone, so a dependency the metadata does not declare is missing,
and the kit fails, instead of being found elsewhere.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from ember.scaffold import new_backend

REPO = Path(__file__).resolve().parents[1]
packaging_requirements = pytest.importorskip("packaging.requirements")
packaging_utils = pytest.importorskip("packaging.utils")

DATA_FILES = {
    "ember_wheeldev/kernels/scale.c": "void scale(float *x, long n, float a) { while (n--) *x++ *= a; }\n",
    "ember_wheeldev/data/coeffs.json": '{"scale": 2.0}\n',
}

# installed from the wheel, not the source tree: the module's file and its data come from site-packages
PACKAGED_TEST = """\
import importlib.resources
import json

import ember_wheeldev


def test_the_installed_package_and_its_data_files_are_used() -> None:
    assert "site-packages" in ember_wheeldev.__file__, ember_wheeldev.__file__
    root = importlib.resources.files("ember_wheeldev")
    assert json.loads((root / "data" / "coeffs.json").read_text()) == {"scale": 2.0}
    assert "void scale" in (root / "kernels" / "scale.c").read_text()
"""


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)  # type: ignore[call-overload]
    assert res.returncode == 0, f"{' '.join(map(str, cmd))}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


def _copy_source(src: Path, dest: Path) -> Path:
    """A copy of a source folder without its build outputs."""
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist"))
    return dest


def _requirements(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        text = zf.read(meta).decode()
    return re.findall(r"^Requires-Dist: (.+)$", text, re.MULTILINE)


def _third_party(wheels: dict[str, Path], root: str, extras: set[str]) -> set[str]:
    """The requirements outside ``wheels`` that installing ``root[extras]`` pulls in, walked through
    the local wheels' metadata (their extras included), each pinned to the version installed here."""
    Requirement, canon = packaging_requirements.Requirement, packaging_utils.canonicalize_name
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(canon(root), frozenset(extras))]
    out: set[str] = set()
    while todo:
        name, ex = todo.pop()
        if (name, ex) in seen:
            continue
        seen.add((name, ex))
        for line in _requirements(wheels[name]):
            req = Requirement(line)
            if req.marker and not any(req.marker.evaluate({"extra": e}) for e in ex or {""}):
                continue
            dep = canon(req.name)
            if dep in wheels:
                todo.append((dep, frozenset(req.extras)))
                continue
            try:
                out.add(f"{dep}=={importlib.metadata.version(dep)}")
            except importlib.metadata.PackageNotFoundError:
                out.add(str(req))
    return out


def test_scaffolded_wheel_installs_with_its_declared_dependencies_and_passes_the_kit(tmp_path: Path) -> None:
    project = new_backend("wheeldev", tmp_path)
    for rel, text in DATA_FILES.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(text)
    (project / "tests" / "test_packaged.py").write_text(PACKAGED_TEST)

    # the wheels: ours built from copies of the sources, the scaffolded one in its own folder
    wheelhouse = tmp_path / "wheelhouse"
    ember_src = _copy_source(REPO / "core", tmp_path / "src-ember" / "core").parent
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, ember_src / name)
    cpu_src = _copy_source(REPO / "plugins" / "cpu", tmp_path / "src-ember-cpu")
    sources = [ember_src, cpu_src, project]
    pip = [sys.executable, "-m", "pip"]
    _run(
        [*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheelhouse), *map(str, sources)]
    )
    local = {packaging_utils.canonicalize_name(w.name.split("-")[0]): w for w in wheelhouse.glob("*.whl")}
    assert set(local) == {"ember", "ember-cpu", "ember-wheeldev"}, sorted(local)
    with zipfile.ZipFile(local["ember-wheeldev"]) as zf:
        names = set(zf.namelist())
    assert {
        "ember_wheeldev/kernels/scale.c",
        "ember_wheeldev/data/coeffs.json",
        "ember_wheeldev/py.typed",
    } <= names
    assert not any(n.startswith("tests/") for n in names), sorted(names)

    # the third-party wheels the metadata declares: ember's numpy and pluggy, the kit's pytest ...
    third = _third_party(local, "ember-wheeldev", {"test"})
    assert {r.split("==")[0] for r in third} >= {"numpy", "pluggy", "pytest"}, third
    _run([*pip, "download", "-q", "--only-binary=:all:", "-d", str(wheelhouse), *sorted(third)])

    # a fresh environment, everything from the wheelhouse alone (--isolated: no configured index
    # or find-links either)
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    vpy = venv / "bin" / "python"
    _run(
        [*pip, "--isolated", "--python", str(vpy), "install", "-q", "--no-index"]
        + ["--find-links", str(wheelhouse), "ember-wheeldev[test]"]
    )
    listed = _run([*pip, "--isolated", "--python", str(vpy), "list", "--format=freeze"]).stdout
    installed = {line.split("==")[0].lower() for line in listed.split()}
    assert {"ember", "ember-cpu", "ember-wheeldev", "numpy", "pluggy", "pytest"} <= installed, listed
    assert not installed & {"ember-opencl", "ember-cuda", "ember-mpi", "scipy", "torch"}, listed

    # the kit from inside the project, as the guide says to run it: the device named on the
    # command line and in the project's addopts runs once; the installed pytest script does not
    # put the project folder on sys.path, so the installed package is what runs. A slice of the
    # kit (its semantics and hostile-input tests and the op tests of a few ops) proves that the
    # installed wheel runs it; tests/test_scaffold.py runs the kit but its gradchecks on the same code
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMBER_", "PYTHON", "VIRTUAL_ENV"))}
    res = subprocess.run(
        [
            str(venv / "bin" / "pytest"),
            "--pyargs",
            "ember.testing",
            "--ember-device=wheeldev",
            "tests",
            "-rfE",
            "-k",
            "test_semantics or test_hostile or add or matmul or sum or softmax",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    last = out.strip().splitlines()[-1]
    assert re.search(r" \d+ passed", last) and not re.search("failed|error", last), out[-1000:]
    assert "wheeldev: kernels composite" in out, out[-2000:]
    collected = subprocess.run(
        [
            str(venv / "bin" / "pytest"),
            "--pyargs",
            "ember.testing",
            "--ember-device=wheeldev",
            "--collect-only",
            "-q",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    ).stdout
    ids = [line for line in collected.splitlines() if "::" in line]
    assert any("[wheeldev-" in i or "[wheeldev]" in i for i in ids), collected[-2000:]
    assert not any("wheeldev0" in i or "wheeldev1" in i for i in ids), [i for i in ids if "wheeldev1" in i][
        :3
    ]
