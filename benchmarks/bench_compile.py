"""One digits training epoch (batch 64): Ember eager, Ember with the step under ``ember.compile``, and
PyTorch eager (CPU), side by side, with SGD (momentum), Adam and AdamW (``--optimizers``).

    python benchmarks/bench_compile.py [--devices cpu,opencl] [--epochs 3] [--runs 3] [--threads 1]
                                       [--clock wall|cpu]

The step compiled is the whole training step (forward, cross-entropy, ``zero_grad``, ``backward``,
``opt.step()``), as ``examples/train_digits.py`` writes it. Each run does one untimed warm-up epoch
(captures happen there), then times ``--epochs`` epochs; a run's figure is its median epoch, and
the table gives the median over ``--runs`` runs with the range (min-max); each run times PyTorch,
Ember eager and Ember compiled back to back and its ratios are taken within the run. The compiled run's
parameters are checked equal to the eager run's after the same batches (bitwise, same seed).
``--clock cpu`` times with ``time.process_time`` (the CPU time of the process, all its threads:
PoCL's workers included) instead of the wall clock: steadier on a shared, loaded machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLOCK = time.perf_counter  # or time.process_time (--clock cpu)
sys.path.insert(0, str(ROOT / "benchmarks"))


def _data() -> tuple[Any, Any]:
    from bench_training import _data as digits

    return digits()


def ember_epochs(device: str, optimizer: str, compiled: bool, epochs: int) -> tuple[list[float], Any]:
    """Epoch times of Ember's DigitsCNN (and its final parameters as numpy arrays)."""
    sys.path.insert(0, str(ROOT / "examples"))
    import ember
    import ember.nn.functional as F
    from ember.data import DataLoader, TensorDataset
    from train_digits import DigitsCNN

    dev = ember.device(device)
    ember.manual_seed(0)
    x, y = _data()
    model = DigitsCNN().to(dev)
    if optimizer == "sgd":
        opt = ember.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    elif optimizer == "adamw":
        opt = ember.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    else:
        opt = ember.optim.Adam(model.parameters(), lr=3e-3)
    ds = TensorDataset(ember.tensor(x, device=dev), ember.tensor(y, device=dev))
    loader = DataLoader(ds, batch_size=64, shuffle=True, generator=ember.Generator(dev, seed=0))

    def step(xb: Any, yb: Any) -> Any:
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    run = ember.compile(step) if compiled else step
    times = []
    loss = None
    for epoch in range(epochs + 1):
        t0 = CLOCK()
        for xb, yb in loader:
            loss = run(xb, yb)
        loss.item()
        ember.synchronize(dev)
        if epoch:
            times.append(CLOCK() - t0)
    return times, [p.detach().numpy() for p in model.parameters()]


def torch_epochs(optimizer: str, epochs: int) -> list[float]:
    """Epoch times of the same model in PyTorch (CPU, eager), timed with this run's clock."""
    from bench_training import run_torch

    return run_torch(epochs, optimizer, CLOCK)


def _fmt(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1e3:.0f} ms ({min(samples) * 1e3:.0f}-{max(samples) * 1e3:.0f})"


def main(argv: list[str] | None = None) -> None:
    """Run the comparison and print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", default="cpu,opencl")
    ap.add_argument("--optimizers", default="sgd,adam,adamw")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads (both frameworks)")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = ap.parse_args(argv)
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before numpy loads its BLAS
    import numpy as np

    try:
        import torch

        torch.set_num_threads(args.threads)
        have_torch = True
    except ImportError:
        have_torch = False
    rows = []
    for opt in args.optimizers.split(","):
        for dev in args.devices.split(","):
            # one run: PyTorch, Ember eager, Ember compiled back to back, so the three share the
            # machine's load of that moment and each ratio is taken within one run
            eager, comp, tor = [], [], []
            same = True
            for _ in range(args.runs):
                if have_torch:
                    tor.append(statistics.median(torch_epochs(opt, args.epochs)))
                te, pe = ember_epochs(dev, opt, False, args.epochs)
                tc, pc = ember_epochs(dev, opt, True, args.epochs)
                eager.append(statistics.median(te))
                comp.append(statistics.median(tc))
                same = same and all(np.array_equal(a, b) for a, b in zip(pe, pc))
            ratios = [c / e for c, e in zip(comp, eager)]
            row = [
                dev,
                opt,
                _fmt(eager),
                _fmt(comp),
                f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})",
                "yes" if same else "NO",
            ]
            if tor:
                tr = [e / t for e, t in zip(eager, tor)]
                cr = [c / t for c, t in zip(comp, tor)]
                row += [
                    _fmt(tor),
                    f"{statistics.median(tr):.2f} ({min(tr):.2f}-{max(tr):.2f})",
                    f"{statistics.median(cr):.2f} ({min(cr):.2f}-{max(cr):.2f})",
                ]
            rows.append(row)
            print(" | ".join(row), file=sys.stderr, flush=True)
    from common import table

    header = ["device", "optimizer", "Ember eager", "Ember compiled", "compiled / eager", "equal"]
    if have_torch:
        header += ["PyTorch eager (cpu)", "eager / PyTorch", "compiled / PyTorch"]
    print(table(rows, header))


if __name__ == "__main__":
    main()
