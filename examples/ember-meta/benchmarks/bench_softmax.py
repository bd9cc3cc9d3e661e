"""Side by side: the cpu backend's own softmax kernel vs ember-meta's override.

Run: python benchmarks/bench_softmax.py [--repeat N]. Prints a Markdown table (the README's).
Both kernels run interleaved, many times; the table shows the median of each, and the
ratio of the best runs (least disturbed by other load on the machine).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import ember
import numpy as np
from ember.registry import registry

from ember_meta.cpu_kernels import softmax as override

CASES = [
    ((256, 4096), 1, "float32"),  # 4 MiB: below MIN_BYTES, the generic path (expect 1.0x)
    ((1024, 4096), 1, "float32"),  # 16 MiB
    ((4096, 4096), 1, "float32"),  # 64 MiB
    ((1024, 4096), 1, "float64"),  # 32 MiB
    ((64, 128, 512), 2, "float32"),  # 16 MiB
    ((32, 8, 128, 128), 3, "float32"),  # 16 MiB: attention scores
    ((4096, 1024), 0, "float32"),  # 16 MiB, not the last axis: the in-place path
    ((4096, 1024), 0, "float64"),  # 32 MiB
]


def _time(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    """Measure and print the table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=21)
    args = ap.parse_args()
    own = registry.load("cpu").kernels["softmax"]  # the backend's own kernel, priority 0
    assert ember.dispatch.kernel_source("softmax", "cpu") == ("meta", 10)
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}, {platform.machine()}, median of {args.repeat} interleaved runs\n")
    print("| shape | dim | dtype | size | cpu kernel | override | speed-up | best-run ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for shape, dim, dt in CASES:
        x = rng.standard_normal(shape).astype(dt)
        np.testing.assert_array_equal(own(x, dim), override(x, dim))
        a, b = [], []
        for _ in range(args.repeat):
            a.append(_time(lambda x=x, dim=dim: own(x, dim)))
            b.append(_time(lambda x=x, dim=dim: override(x, dim)))
        ma, mb = statistics.median(a), statistics.median(b)
        print(
            f"| {'x'.join(map(str, shape))} | {dim} | {dt} | {x.nbytes >> 20} MiB | {ma * 1e3:.2f} ms "
            f"| {mb * 1e3:.2f} ms | {ma / mb:.2f}x | {min(a) / min(b):.2f}x |"
        )


if __name__ == "__main__":
    main()
