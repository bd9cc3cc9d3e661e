"""Run every benchmark in this folder, one after another, printing each one's table, then draw
the side-by-side ratios of all runs as a chart (``chart.py``; needs matplotlib, the ``plots``
extra).

Usage: python benchmarks/run_all.py [--runs N] [--chart PATH] [--save-results PATH] [name ...]
(names: core, training, opencl, cuda, distributed). Each benchmark runs ``--runs`` times (default 3) so the
chart shows the spread over runs; the chart goes to ``docs/benchmarks.png`` unless ``--chart``
says otherwise (``--chart ''``: none).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SCRIPTS = {
    "core": "bench_core.py",
    "training": "bench_training.py",
    "opencl": "bench_opencl.py",
    "cuda": "bench_cuda.py",
    "distributed": "bench_distributed.py",
}


def run(script: Path) -> tuple[int, str]:
    """Run ``script``, echoing its output as it comes; returns its status and its output."""
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    return proc.wait(), "".join(lines)


def main(argv: list[str]) -> int:
    """Run the benchmarks and draw the chart; returns 1 if any benchmark failed."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help=f"benchmarks to run: {', '.join(SCRIPTS)} (default: all)")
    p.add_argument("--runs", type=int, default=3, help="runs of each benchmark, for the spread (default 3)")
    p.add_argument("--chart", default=str(HERE.parent / "docs" / "benchmarks.png"), help="chart PNG path")
    p.add_argument("--save-results", default=None, help="also save every run's output as JSON here")
    args = p.parse_args(argv)
    names = args.names or list(SCRIPTS)
    unknown = [n for n in names if n not in SCRIPTS]
    if unknown:
        p.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(SCRIPTS)}")
    failed = []
    outputs: dict[str, list[str]] = {}
    for name in names:
        script = HERE / SCRIPTS[name]
        if not script.exists():
            print(f"## {name}: {script.name} not present, skipped")
            continue
        for i in range(args.runs):
            print(f"## {name} ({script.name}), run {i + 1} of {args.runs}", flush=True)
            rc, out = run(script)
            outputs.setdefault(name, []).append(out)
            if rc:
                failed.append(name)
                break
            print()
    if args.save_results:
        Path(args.save_results).write_text(json.dumps(outputs, indent=1))
    if args.chart:
        draw(outputs, args.chart)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


def draw(outputs: dict[str, list[str]], path: str) -> None:
    """Render the chart of ``outputs``, or say why not."""
    sys.path.insert(0, str(HERE))
    import chart

    panels = chart.panels_from_runs(outputs)
    if not panels:
        print("chart: no ratios were printed, nothing to draw")
        return
    try:
        w, h = chart.render(panels, path)
    except ImportError as exc:
        print(f"chart: not drawn, matplotlib is missing ({exc}); pip install 'ember[plots]'")
        return
    print(f"chart: {path} ({w}x{h} px, {len(panels)} benchmark(s))")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
