"""One training epoch of the digits CNN (batch 64) in Ember and in PyTorch CPU, side by side.

    python benchmarks/bench_training.py [--epochs 3] [--device cpu]

Each framework runs in its own subprocess, so its peak resident memory (``ru_maxrss``) is its own.
``--threads N`` pins both to N BLAS/OpenMP threads (steadier numbers on a small, busy machine).
Each does one untimed warm-up epoch, then times ``--epochs`` epochs and reports the median epoch
time. PyTorch is skipped when it is not installed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _data():
    import numpy as np
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0)[:, None]
    y = d.target.astype(np.int64)
    perm = np.random.default_rng(0).permutation(len(y))[360:]  # the example's training split
    return x[perm], y[perm]


def run_ember(epochs: int, device: str | None) -> list[float]:
    """Epoch times of the Ember model."""
    sys.path.insert(0, str(ROOT / "examples"))
    import ember
    import ember.nn.functional as F
    from ember.data import DataLoader, TensorDataset
    from train_digits import DigitsCNN

    dev = ember.device(device) if device else ember.get_default_device()
    ember.manual_seed(0)
    x, y = _data()
    model = DigitsCNN().to(dev)
    opt = ember.optim.Adam(model.parameters(), lr=3e-3)
    ds = TensorDataset(ember.tensor(x, device=dev), ember.tensor(y, device=dev))
    loader = DataLoader(ds, batch_size=64, shuffle=True, generator=ember.Generator(dev, seed=0))
    times = []
    for epoch in range(epochs + 1):
        t0 = time.perf_counter()
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        loss.item()
        ember.synchronize(dev)
        if epoch:  # epoch 0 is the warm-up
            times.append(time.perf_counter() - t0)
    return times


def torch_digits_model(nn: Any) -> Any:
    """The example's DigitsCNN written with ``torch.nn`` (passed in, so importing this module needs
    no PyTorch); shared with bench_cuda.py."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(512, 64),
        nn.ReLU(),
        nn.Dropout(0.1),
        nn.Linear(64, 10),
    )


def run_torch(epochs: int) -> list[float]:
    """Epoch times of the same model in PyTorch (CPU)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.manual_seed(0)
    if os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    x, y = _data()
    model = torch_digits_model(nn)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    ds = torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y))
    loader = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True)
    times = []
    for epoch in range(epochs + 1):
        t0 = time.perf_counter()
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        loss.item()
        if epoch:
            times.append(time.perf_counter() - t0)
    return times


def worker(framework: str, epochs: int, device: str | None) -> None:
    """Run one framework and print a JSON line with its timings and peak memory."""
    t0 = time.perf_counter()
    times = run_ember(epochs, device) if framework == "ember" else run_torch(epochs)
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        json.dumps(
            {
                "framework": framework,
                "epoch_s": statistics.median(times),
                "all": times,
                "total_s": time.perf_counter() - t0,
                "peak_rss_mib": rss_kib / 1024,
            }
        )
    )


def main() -> int:
    """Run both workers and print the comparison table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=3, help="timed epochs per framework (after one warm-up)")
    p.add_argument("--device", default=None, help="ember device (default: ember's default device)")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="BLAS/OpenMP threads for both frameworks (default: their own defaults)",
    )
    p.add_argument("--worker", choices=["ember", "torch"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args.worker, args.epochs, args.device)
        return 0
    frameworks = ["ember"]
    try:
        import importlib.util

        if importlib.util.find_spec("torch") is not None:
            frameworks.append("torch")
    except (ImportError, ValueError):
        pass
    results = {}
    path = os.pathsep.join([str(ROOT / "examples"), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)
    if args.threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(args.threads)
    for fw in frameworks:
        cmd = [sys.executable, __file__, "--worker", fw, "--epochs", str(args.epochs)]
        if args.device:
            cmd += ["--device", args.device]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode:
            print(f"{fw} failed:\n{proc.stderr}", file=sys.stderr)
            return 1
        results[fw] = json.loads(proc.stdout.strip().splitlines()[-1])
    base = results.get("torch", {}).get("epoch_s")
    threads = f"{args.threads} thread(s)" if args.threads else "default threads"
    print(f"digits CNN, one epoch of 1437 images, batch 64 (median of {args.epochs} timed epochs, {threads})")
    print(f"{'framework':<10} {'epoch (s)':>10} {'vs torch':>9} {'ms/batch':>9} {'peak RSS (MiB)':>15}")
    for fw, r in results.items():
        ratio = f"{r['epoch_s'] / base:.2f}x" if base else "-"
        print(
            f"{fw:<10} {r['epoch_s']:>10.3f} {ratio:>9} {1000 * r['epoch_s'] / 23:>9.1f} "
            f"{r['peak_rss_mib']:>15.0f}"
        )
    if "torch" not in results:
        print("(PyTorch is not installed: no comparison)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
