"""The side-by-side ratios of the benchmarks as one chart, with the spread over runs.

``run_all.py`` runs each benchmark several times and hands the printed output here. Every
Markdown table a benchmark prints (``common.table``) is read back, and every column whose header
is a ratio (``ember/numpy``, ``ratio (>1: ember better)``) becomes one row of the chart: a dot per
run, a bar from the lowest to the highest run and a tick at the median, on a log scale with 1
(parity) marked. Each column keeps its own direction, as its header says.

    python benchmarks/chart.py OUT.png RESULTS.json   # redraw from run_all.py --save-results
"""

from __future__ import annotations

import json
import math
import re
import statistics
import sys
from dataclasses import dataclass, field

__all__ = ["Panel", "parse_tables", "panels_from_runs", "render", "chart_size"]

_NUMBER = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*x?\s*$")


@dataclass
class Panel:
    """One benchmark's ratios: row label -> the value of each run, in order of appearance."""

    name: str
    rows: dict[str, list[float]] = field(default_factory=dict)


def parse_tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Every Markdown table in ``text`` as (header, rows of cells)."""
    tables: list[tuple[list[str], list[list[str]]]] = []
    block: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        s = line.strip()
        if s.startswith("|") and s.endswith("|"):
            block.append([c.strip() for c in s[1:-1].split("|")])
            continue
        if len(block) >= 2 and set("".join(block[1])) <= set("-: "):
            tables.append((block[0], block[2:]))
        block = []
    return tables


def _is_ratio(column: str) -> bool:
    return "/" in column or column.lower().startswith("ratio")


def panels_from_runs(runs: dict[str, list[str]]) -> list[Panel]:
    """One panel per benchmark from the printed output of each of its runs; a benchmark that
    printed no ratio (skipped, no GPU) gets none."""
    panels = []
    for name, outputs in runs.items():
        panel = Panel(name)
        for text in outputs:
            for header, rows in parse_tables(text):
                ratios = [(col, title) for col, title in enumerate(header) if col and _is_ratio(title)]
                for cells in rows:
                    for col, title in ratios:
                        m = _NUMBER.match(cells[col]) if col < len(cells) else None
                        if m:
                            panel.rows.setdefault(f"{cells[0]}  [{title}]", []).append(float(m.group(1)))
        if panel.rows:
            panels.append(panel)
    return panels


def chart_size(panels: list[Panel], width_px: int = 1100) -> tuple[int, int]:
    """The chart's size in pixels: ``width_px`` wide, 28 px a row plus room per panel, rounded up
    to 25 px (a quarter inch at 100 dpi, so the size in inches is exact)."""
    height = 40 + sum(90 + 28 * len(p.rows) for p in panels)
    return width_px, 25 * math.ceil(height / 25)


def render(panels: list[Panel], path: str, width_px: int = 1100, dpi: int = 100) -> tuple[int, int]:
    """Draw ``panels`` into the PNG ``path``; returns its size in pixels (:func:`chart_size`)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if not panels:
        raise ValueError("render: no ratios to draw (every benchmark was skipped or printed no ratio)")
    w, h = chart_size(panels, width_px)
    fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi, layout="constrained")
    axes = fig.subplots(len(panels), 1, squeeze=False, height_ratios=[90 + 28 * len(p.rows) for p in panels])
    runs = max(len(v) for p in panels for v in p.rows.values())
    for ax, panel in zip(axes[:, 0], panels):
        labels = list(panel.rows)
        for y, label in enumerate(labels):
            values = panel.rows[label]
            ax.hlines(y, min(values), max(values), color="tab:blue", linewidth=3, alpha=0.35)
            ax.plot(values, [y] * len(values), "o", color="tab:blue", markersize=4)
            median = statistics.median(values)
            ax.plot([median], [y], "|", color="black", markersize=14, mew=2)
            ax.annotate(
                f"{median:.2f}",
                (max(values), y),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        ax.axvline(1.0, color="tab:red", linewidth=1)
        ax.set_xscale("log")
        every = [v for vals in panel.rows.values() for v in vals] + [1.0]
        ax.set_xlim(min(every) / 1.4, max(every) * 1.4)
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.set_title(f"{panel.name}: ratios as each column names them (red: 1, parity)", fontsize=10)
        ax.grid(axis="x", which="both", alpha=0.3)
    fig.suptitle(
        f"Ember benchmarks side by side: dots are runs ({runs} at most), bar the spread, tick the median"
    )
    fig.savefig(path, dpi=dpi)
    return w, h


def main(argv: list[str]) -> int:
    """``chart.py OUT.png RESULTS.json``: draw the chart of saved results."""
    if len(argv) != 2:
        print(__doc__)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        runs = json.load(f)
    w, h = render(panels_from_runs(runs), argv[0])
    print(f"chart: {argv[0]} ({w}x{h})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
