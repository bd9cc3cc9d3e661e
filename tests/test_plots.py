"""The pictures: the benchmark chart (benchmarks/chart.py, as run_all.py draws it) and the digits
example's curves are real PNGs of the size they promise."""

from __future__ import annotations

import importlib.util
import struct
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason="the test extra installs matplotlib: pip install -e '.[test]'")
from matplotlib.image import imread  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import chart  # noqa: E402
from common import table  # noqa: E402


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's signature and IHDR chunk; fails on anything else."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


def _core_run(tiny: str, grad: str, chain: str) -> str:
    """What bench_core.py prints, made by the same table function."""
    header = ["benchmark", "ember", "numpy", "pytorch", "ember/numpy", "ember/pytorch"]
    rows = [
        ["a + b (4,)", "1.69 µs", "0.39 µs", "1.37 µs", tiny, "1.23"],
        ["a + b (4,) grad", "2.34 µs", "0.39 µs", "2.52 µs", grad, "n/a"],
        ["((a*b+c).exp()*0.5).sum(), 16M f32", "65.2 ms", "48.0 ms", "132.4 ms", chain, "0.49"],
    ]
    return "some preamble\n" + table(rows, header) + "\nnotes after the table\n"


def test_benchmark_chart_shows_every_ratio_with_its_spread(tmp_path):
    runs = {
        "core": [
            _core_run("4.27", "5.93", "1.36"),
            _core_run("4.10", "6.20", "1.31"),
            _core_run("4.50", "5.70", "1.40"),
        ],
        "opencl": [
            table(
                [["matmul 1024² f32", "182.9 GFLOP/s", "188.1 GFLOP/s", "0.97x", "≥ 0.9x"]],
                ["benchmark", "ember opencl", "numpy", "ratio (>1: ember better)", "target"],
            ),
        ],
        "cuda": ["bench_cuda: no usable CUDA GPU, nothing to measure\n"],
    }
    panels = chart.panels_from_runs(runs)
    assert [p.name for p in panels] == ["core", "opencl"]  # cuda printed no table
    core = panels[0].rows
    assert core["a + b (4,)  [ember/numpy]"] == [4.27, 4.10, 4.50]
    assert core["a + b (4,)  [ember/pytorch]"] == [1.23, 1.23, 1.23]
    assert "a + b (4,) grad  [ember/pytorch]" not in core  # "n/a" is no ratio
    assert panels[1].rows == {"matmul 1024² f32  [ratio (>1: ember better)]": [0.97]}
    path = tmp_path / "benchmarks.png"
    size = chart.render(panels, str(path))
    assert size == chart.chart_size(panels) == (1100, 400)
    assert png_size(path) == size
    assert imread(path).shape[:2] == (400, 1100)  # it decodes
    with pytest.raises(ValueError, match="render: no ratios to draw"):
        chart.render([], str(tmp_path / "none.png"))


def test_digits_curves_are_a_png_of_the_promised_size(tmp_path):
    spec = importlib.util.spec_from_file_location("train_digits", ROOT / "examples" / "train_digits.py")
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    history = {"loss": [1.9, 0.7, 0.4], "accuracy": [0.7, 0.9, 0.95], "lr": [3e-3, 2e-3, 1e-3]}
    path = tmp_path / "curves.png"
    ex.plot_curves(history, str(path))
    assert png_size(path) == (800, 350)
    ex.plot_curves(history, str(path), size=(6, 4), dpi=50)
    assert png_size(path) == (300, 200) and imread(path).shape[:2] == (200, 300)
