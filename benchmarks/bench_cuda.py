"""Ember's cuda backend side by side with CuPy (directly) and PyTorch (when it has CUDA), one GPU.

    python benchmarks/bench_cuda.py [--device cuda:0] [--size 4096] [--require-gpu]

Rows: matmul n x n in float32 and float16 (TFLOP/s; every framework's float32 matmul is a true
float32 GEMM, TF32 left off), the host latency of a tiny op (a + b on shape (4,)), and one epoch
of the digits CNN of examples/train_digits.py (batch 64), eager and under ``ember.compile`` (the
cuda backend replays the step's runs of kernels as CUDA graphs), against the same model in
PyTorch.
GPU work is timed with the device synchronised before and after each timed run. Without a usable
GPU it prints why and exits (with status 1 under ``--require-gpu``, else 0).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import ember  # noqa: E402
from common import fmt_time, per_call, table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def gpu_seconds(
    fn: Callable[[], object], sync: Callable[[], None], min_time: float = 0.3, repeats: int = 5
) -> float:
    """Median seconds per call of ``fn``, each timed run bracketed by device synchronisation."""
    fn()
    sync()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        sync()
        dt = time.perf_counter() - t0
        if dt >= min_time / repeats or n >= 1 << 16:
            break
        n *= 2
    samples = []
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        sync()
        samples.append((time.perf_counter() - t0) / n)
    return statistics.median(samples)


def load_torch() -> object | None:
    """PyTorch when it is installed and sees a GPU, else None."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    torch.backends.cuda.matmul.allow_tf32 = False
    return torch


def matmul_row(dev: ember.Device, cp: object, torch: object | None, n: int, dt: str) -> list[str]:
    """matmul n x n in ``dt``: time, TFLOP/s and time ratios."""
    flops = 2.0 * n**3
    a_np = np.random.default_rng(0).standard_normal((n, n)).astype(dt)
    b_np = np.random.default_rng(1).standard_normal((n, n)).astype(dt)
    a, b = ember.tensor(a_np, device=dev), ember.tensor(b_np, device=dev)
    t_em = gpu_seconds(lambda: a @ b, dev.synchronize)
    with cp.cuda.Device(dev.index):
        ca, cb = cp.asarray(a_np), cp.asarray(b_np)
        t_cp = gpu_seconds(lambda: ca @ cb, cp.cuda.Device(dev.index).synchronize)
    t_pt = None
    if torch is not None:
        tdev = f"cuda:{dev.index}"
        ta, tb = torch.from_numpy(a_np).to(tdev), torch.from_numpy(b_np).to(tdev)
        t_pt = gpu_seconds(lambda: ta @ tb, torch.cuda.synchronize)

    def rate(t: float) -> str:
        return f"{fmt_time(t)} ({flops / t / 1e12:.1f} TFLOP/s)"

    return [
        f"matmul {n}² {dt}",
        rate(t_em),
        rate(t_cp),
        "n/a" if t_pt is None else rate(t_pt),
        f"{t_em / t_cp:.2f}",
        "n/a" if t_pt is None else f"{t_em / t_pt:.2f}",
    ]


def tiny_op_row(dev: ember.Device, cp: object, torch: object | None) -> list[str]:
    """Host time per call of a + b on (4,) float32 (launch-bound: what an eager framework adds)."""
    a_np = np.arange(4, dtype=np.float32)
    a, b = ember.tensor(a_np, device=dev), ember.tensor(a_np, device=dev)
    t_em = per_call(lambda: a + b)
    dev.synchronize()
    with cp.cuda.Device(dev.index):
        ca, cb = cp.asarray(a_np), cp.asarray(a_np)
        t_cp = per_call(lambda: ca + cb)
        cp.cuda.Device(dev.index).synchronize()
    t_pt = None
    if torch is not None:
        ta = torch.from_numpy(a_np).to(f"cuda:{dev.index}")
        tb = ta.clone()
        t_pt = per_call(lambda: ta + tb)
        torch.cuda.synchronize()
    return [
        "a + b (4,) f32, per call",
        fmt_time(t_em),
        fmt_time(t_cp),
        "n/a" if t_pt is None else fmt_time(t_pt),
        f"{t_em / t_cp:.2f}",
        "n/a" if t_pt is None else f"{t_em / t_pt:.2f}",
    ]


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0)[:, None]
    y = d.target.astype(np.int64)
    perm = np.random.default_rng(0).permutation(len(y))[360:]  # the example's training split
    return x[perm], y[perm]


def digits_epoch_rows(dev: ember.Device, torch: object | None) -> list[list[str]] | str:
    """One training epoch (after a warm-up epoch) of the example's CNN, eager and compiled; a
    reason string to skip."""
    if not (ROOT / "examples" / "train_digits.py").exists():
        return "examples/train_digits.py not found"
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        from ember.data import DataLoader, TensorDataset
        from train_digits import DigitsCNN, train_step

        x, y = _digits()
    except ImportError as exc:
        return f"digits example unavailable ({exc})"

    ember.manual_seed(0)
    model = DigitsCNN().to(dev)
    opt = ember.optim.Adam(model.parameters(), lr=3e-3)
    loader = DataLoader(
        TensorDataset(ember.tensor(x, device=dev), ember.tensor(y, device=dev)),
        batch_size=64,
        shuffle=True,
        generator=ember.Generator(dev, seed=0),
    )

    def ember_epoch(step: Callable[..., ember.Tensor]) -> float:
        dev.synchronize()
        t0 = time.perf_counter()
        for xb, yb in loader:
            loss = step(model, opt, xb, yb)
        loss.item()
        dev.synchronize()
        return time.perf_counter() - t0

    compiled_step = ember.compile(train_step)
    ember_epoch(train_step)  # warm-up: kernel compilation, memory pool
    t_em = ember_epoch(train_step)
    ember_epoch(compiled_step)  # warm-up: captures, the first replays, the CUDA graph captures
    t_compiled = ember_epoch(compiled_step)
    for replay in compiled_step._cache.values():  # what the backend made of each signature
        if hasattr(replay, "describe"):
            print(f"{replay.describe()}\n#   stats: {replay.stats}")
    t_pt = None
    if torch is not None:
        tnn, tF = torch.nn, torch.nn.functional
        tdev = f"cuda:{dev.index}"
        torch.manual_seed(0)
        from bench_training import torch_digits_model

        tmodel = torch_digits_model(tnn).to(tdev)
        topt = torch.optim.Adam(tmodel.parameters(), lr=3e-3)
        ds = torch.utils.data.TensorDataset(torch.tensor(x, device=tdev), torch.tensor(y, device=tdev))
        tloader = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True)

        def torch_epoch() -> float:
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            for xb, yb in tloader:
                loss = tF.cross_entropy(tmodel(xb), yb)
                topt.zero_grad()
                loss.backward()
                topt.step()
            loss.item()
            torch.cuda.synchronize()
            return time.perf_counter() - t0

        torch_epoch()
        t_pt = torch_epoch()
    return [
        [
            f"digits CNN epoch{what} ({len(y)} images, batch 64)",
            fmt_time(t),
            "n/a",
            "n/a" if t_pt is None else fmt_time(t_pt),
            "n/a",
            "n/a" if t_pt is None else f"{t / t_pt:.2f}",
        ]
        for what, t in (("", t_em), (", ember.compile", t_compiled))
    ]


def main() -> int:
    """Run every row and print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda", help="ember cuda device (default: cuda)")
    p.add_argument("--size", type=int, default=4096, help="matmul size n (default 4096)")
    p.add_argument("--require-gpu", action="store_true", help="exit 1 (not 0) when no GPU is usable")
    p.add_argument("--skip-training", action="store_true", help="leave out the digits epoch row")
    args = p.parse_args()
    try:
        dev = ember.device(args.device)
        import cupy as cp
    except (ember.BackendError, ImportError) as exc:
        print(f"bench_cuda: no usable CUDA GPU, nothing to measure: {exc}", file=sys.stderr)
        return 1 if args.require_gpu else 0
    torch = load_torch()
    props = dev.properties()
    versions = f"CuPy {cp.__version__}, " + (f"PyTorch {torch.__version__}" if torch else "no PyTorch CUDA")
    cc = props.get("compute_capability")
    print(f"device {dev}: {props.get('name')} (compute capability {cc}; {versions})")
    rows = [matmul_row(dev, cp, torch, args.size, dt) for dt in ("float32", "float16")]
    rows.append(tiny_op_row(dev, cp, torch))
    notes = []
    if not args.skip_training:
        r = digits_epoch_rows(dev, torch)
        if isinstance(r, str):
            notes.append(f"digits epoch rows skipped: {r}")
        else:
            rows += r
    print(table(rows, ["case", "ember", "cupy", "torch", "ember/cupy", "ember/torch"]))
    for n in notes:
        print(n)
    print("ratios are time ratios: below 1 means ember is faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
