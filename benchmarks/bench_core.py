"""Core overheads on the cpu backend, side by side with numpy and (when installed) PyTorch, and
the tiny op's time before, during and after a profile (ember.profiler).

Run: python benchmarks/bench_core.py
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import ember  # noqa: E402
from common import fmt_time, per_call, table  # noqa: E402

try:
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
except ImportError:  # PyTorch is optional
    torch = None


def tiny_ops() -> list[list[str]]:
    rows = []
    for shape in [(4,), (64, 64)]:
        a_np = np.random.rand(*shape).astype(np.float32)
        b_np = np.random.rand(*shape).astype(np.float32)
        t_np = per_call(lambda a_np=a_np, b_np=b_np: a_np + b_np)
        for grad in (False, True):
            a = ember.tensor(a_np, requires_grad=grad)
            b = ember.tensor(b_np)
            t_em = per_call(lambda a=a, b=b: a + b)
            if torch is not None:
                ta = torch.tensor(a_np, requires_grad=grad)
                tb = torch.tensor(b_np)
                t_pt = per_call(lambda ta=ta, tb=tb: ta + tb)
                pt, ratio = fmt_time(t_pt), f"{t_em / t_pt:.2f}"
            else:
                pt, ratio = "n/a", "n/a"
            rows.append(
                [
                    f"a + b {shape}{' grad' if grad else ''}",
                    fmt_time(t_em),
                    fmt_time(t_np),
                    pt,
                    f"{t_em / t_np:.2f}",
                    ratio,
                ]
            )
    return rows


def large_ops() -> list[list[str]]:
    rows = []
    n = 16 * 1024 * 1024
    rng = np.random.default_rng(0)
    a_np, b_np, c_np = (rng.random(n, dtype=np.float32) for _ in range(3))
    a, b, c = ember.tensor(a_np), ember.tensor(b_np), ember.tensor(c_np)
    t_em = per_call(lambda: ((a * b + c).exp() * 0.5).sum(), min_time=1.0)
    t_np = per_call(lambda: (np.exp(a_np * b_np + c_np) * np.float32(0.5)).sum(), min_time=1.0)
    pt = "n/a"
    if torch is not None:
        ta, tb, tc = (torch.from_numpy(x) for x in (a_np, b_np, c_np))
        t_pt = per_call(lambda: ((ta * tb + tc).exp() * 0.5).sum(), min_time=1.0)
        pt = fmt_time(t_pt)
    rows.append(
        [
            "((a*b+c).exp()*0.5).sum(), 16M f32",
            fmt_time(t_em),
            fmt_time(t_np),
            pt,
            f"{t_em / t_np:.2f}",
            "n/a" if torch is None else f"{t_em / t_pt:.2f}",
        ]
    )
    m_np = rng.random((1024, 1024), dtype=np.float32)
    m = ember.tensor(m_np)
    t_em = per_call(lambda: m @ m, min_time=1.0)
    t_np = per_call(lambda: m_np @ m_np, min_time=1.0)
    pt, r = "n/a", "n/a"
    if torch is not None:
        tm = torch.from_numpy(m_np)
        t_pt = per_call(lambda: tm @ tm, min_time=1.0)
        pt, r = fmt_time(t_pt), f"{t_em / t_pt:.2f}"
    rows.append(["matmul 1024² f32", fmt_time(t_em), fmt_time(t_np), pt, f"{t_em / t_np:.2f}", r])
    return rows


def profiler_overhead() -> list[list[str]]:
    """The tiny op before a profile, after it ended (the profiler's wrappers are gone: the ratio
    should be 1 within noise) and while it records (what profiling costs)."""
    from ember.profiler import profile

    rows = []
    for shape in [(4,), (64, 64)]:
        a, b = ember.rand(*shape), ember.rand(*shape)
        before = per_call(lambda a=a, b=b: a + b)
        with profile():
            during = per_call(lambda a=a, b=b: a + b, min_time=0.05)
        after = per_call(lambda a=a, b=b: a + b)
        rows.append(
            [
                f"a + b {shape} (profiler)",
                fmt_time(before),
                fmt_time(after),
                fmt_time(during),
                f"{after / before:.2f}",
                f"{during / before:.2f}",
            ]
        )
    return rows


def import_time() -> list[str]:
    code = "import time; t=time.perf_counter(); import ember; print(time.perf_counter()-t)"
    code_np = "import time; t=time.perf_counter(); import numpy; print(time.perf_counter()-t)"
    runs = [float(subprocess.check_output([sys.executable, "-c", code])) for _ in range(5)]
    runs_np = [float(subprocess.check_output([sys.executable, "-c", code_np])) for _ in range(5)]
    heavy = subprocess.check_output(
        [
            sys.executable,
            "-c",
            "import sys, ember; print(sorted(m for m in ('pyopencl','cupy','torch') if m in sys.modules))",
        ],
        text=True,
    ).strip()
    return [
        "import ember",
        fmt_time(sorted(runs)[2]),
        fmt_time(sorted(runs_np)[2]) + " (numpy alone)",
        f"heavy modules imported: {heavy}",
        f"{sorted(runs)[2] / sorted(runs_np)[2]:.2f}",
        "",
    ]


def main() -> None:
    header = ["benchmark", "ember", "numpy", "pytorch", "ember/numpy", "ember/pytorch"]
    rows = tiny_ops() + large_ops() + [import_time()]
    print(table(rows, header))
    print()
    header = ["profiler", "before a profile", "after it ended", "while profiling"]
    print(table(profiler_overhead(), header + ["after/before", "profiling/before"]))


if __name__ == "__main__":
    main()
