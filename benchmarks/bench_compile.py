"""One digits training epoch (batch 64): Ember eager, Ember with the step under ``ember.compile`` (the
backend's ``compile_graph`` rewrite on, and off with ``EMBER_COMPILE_BACKEND=0``), and PyTorch eager
(CPU), side by side, with SGD (momentum), Adam and AdamW (``--optimizers``); with
``--torch-compile`` also PyTorch with the model under ``torch.compile`` (inductor, which needs a
C++ compiler; it compiles in each run's warm-up epoch).

    python benchmarks/bench_compile.py [--devices cpu,opencl] [--epochs 3] [--runs 3] [--threads 1]
                                       [--clock wall|cpu] [--torch-compile]

The step compiled is the whole training step (forward, cross-entropy, ``zero_grad``, ``backward``,
``opt.step()``), as ``examples/train_digits.py`` writes it. Each Ember run does two untimed warm-up
epochs (the captures, and the first replay of each graph, which the cpu rewrite spends recording
layouts and timing matmuls, happen there), then times ``--epochs`` epochs; a run's figure is its
median epoch, and the table gives the median over ``--runs`` runs with the range (min-max); each
run times PyTorch, Ember eager, Ember compiled with the backend's rewrite off ("plain replay") and
on ("planned") back to back, and its ratios are taken within the run. Both compiled runs'
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLOCK = time.perf_counter  # or time.process_time (--clock cpu)
sys.path.insert(0, str(ROOT / "benchmarks"))


def _data() -> tuple[Any, Any]:
    from bench_training import _data as digits

    return digits()


def training_step(model: Any, opt: Any) -> Callable[[Any, Any], Any]:
    """The whole training step of ``model`` under ``opt`` (``examples/train_digits.py``'s
    ``train_step``: forward, cross-entropy, ``zero_grad``, ``backward``, ``opt.step()``) as a
    function of the batch; returns the loss."""
    sys.path.insert(0, str(ROOT / "examples"))
    from train_digits import train_step

    def step(xb: Any, yb: Any) -> Any:
        return train_step(model, opt, xb, yb)

    return step


#: the optimizers this benchmark trains with, by name: class and keyword arguments
OPTIMIZERS: dict[str, tuple[str, dict[str, float]]] = {
    "sgd": ("SGD", {"lr": 0.05, "momentum": 0.9}),
    "adam": ("Adam", {"lr": 3e-3}),
    "adamw": ("AdamW", {"lr": 3e-3, "weight_decay": 0.01}),
}


def digits_training(device: Any, optimizer: str) -> tuple[Any, Any, Callable[[Any, Any], Any]]:
    """A digits CNN on ``device`` initialised from seed 0, its optimizer (a name of
    :data:`OPTIMIZERS`) and its :func:`training_step`: what this benchmark times, and what the
    OpenCL backend's compiled-replay tests train (ember is imported here, not at module level, so
    that ``main`` sets the BLAS thread counts first)."""
    sys.path.insert(0, str(ROOT / "examples"))
    import ember
    from train_digits import DigitsCNN

    if optimizer not in OPTIMIZERS:
        raise ValueError(f"digits_training: unknown optimizer {optimizer!r}; use one of {sorted(OPTIMIZERS)}")
    cls, kwargs = OPTIMIZERS[optimizer]
    ember.manual_seed(0)
    model = DigitsCNN().to(device)
    opt = getattr(ember.optim, cls)(model.parameters(), **kwargs)
    return model, opt, training_step(model, opt)


def ember_epochs(
    device: str, optimizer: str, compiled: bool, epochs: int, backend_rewrite: bool = True
) -> tuple[list[float], Any]:
    """Epoch times of Ember's DigitsCNN (and its final parameters as numpy arrays); ``compiled``
    with ``backend_rewrite`` off replays the graph as captured (``EMBER_COMPILE_BACKEND=0``)."""
    import ember
    from ember.data import DataLoader, TensorDataset

    dev = ember.device(device)
    x, y = _data()
    model, _opt, step = digits_training(dev, optimizer)
    ds = TensorDataset(ember.tensor(x, device=dev), ember.tensor(y, device=dev))
    loader = DataLoader(ds, batch_size=64, shuffle=True, generator=ember.Generator(dev, seed=0))
    run = ember.compile(step) if compiled else step
    times = []
    loss = None
    os.environ["EMBER_COMPILE_BACKEND"] = "1" if backend_rewrite else "0"  # read at each capture
    try:
        for epoch in range(epochs + 2):
            t0 = CLOCK()
            for xb, yb in loader:
                loss = run(xb, yb)
            loss.item()
            ember.synchronize(dev)
            if epoch >= 2:
                times.append(CLOCK() - t0)
    finally:
        os.environ.pop("EMBER_COMPILE_BACKEND", None)
    return times, [p.detach().numpy() for p in model.parameters()]


def torch_epochs(optimizer: str, epochs: int, compiled: bool = False) -> list[float]:
    """Epoch times of the same model in PyTorch (CPU; eager, or the model under
    ``torch.compile``), timed with this run's clock."""
    from bench_training import run_torch

    return run_torch(epochs, optimizer, CLOCK, compiled)


def tiny_chain_rows(device: str, rounds: int, runs: int) -> list[list[str]]:
    """The tiny-op chain (``x = x * 1.0001 + 0.5``, ``rounds`` times on 64 float32 values, then one
    readback), per op: eager, compiled with the backend's rewrite off (plain replay) and on, with
    ``CLOCK``; each of ``runs`` rounds times the three back to back (median and range over rounds)."""
    import ember
    import numpy as np

    dev = ember.device(device)
    x0 = ember.tensor(np.random.default_rng(2).random(64, dtype=np.float32), device=dev)

    def chain(x: Any) -> Any:
        for _ in range(rounds):
            x = x * 1.0001 + 0.5
        return x

    runners = {"eager": chain}
    for name, flag in (("plain", "0"), ("planned", "1")):
        os.environ["EMBER_COMPILE_BACKEND"] = flag  # read at the capture
        try:
            f = ember.compile(chain)
            for _ in range(3):  # capture, (trace), replay
                f(x0).numpy()
        finally:
            os.environ.pop("EMBER_COMPILE_BACKEND", None)
        runners[name] = f
    want = chain(x0).numpy()
    same = all(np.array_equal(f(x0).numpy(), want) for f in runners.values())
    times: dict[str, list[float]] = {k: [] for k in runners}
    for _ in range(runs):
        for name, f in runners.items():
            n = max(1, 20000 // rounds)
            t0 = CLOCK()
            for _ in range(n):
                f(x0).numpy()
            times[name].append((CLOCK() - t0) / n / (2 * rounds))

    def us(v: list[float]) -> str:
        return f"{statistics.median(v) * 1e6:.2f} us ({min(v) * 1e6:.2f}-{max(v) * 1e6:.2f})"

    return [
        [
            device,
            str(rounds),
            us(times["eager"]),
            us(times["plain"]),
            us(times["planned"]),
            _ratio(times["planned"], times["eager"]),
            "yes" if same else "NO",
        ]
    ]


def _ratio(a: list[float], b: list[float]) -> str:
    """Median and range of the per-run ratios a / b."""
    r = [x / y for x, y in zip(a, b)]
    return f"{statistics.median(r):.2f} ({min(r):.2f}-{max(r):.2f})"


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
    ap.add_argument(
        "--tiny-chain",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="only the tiny-op chain of ROUNDS rounds (per op: eager, plain replay, planned)",
    )
    ap.add_argument(
        "--torch-compile",
        action="store_true",
        help="also time PyTorch with the model under torch.compile (inductor; compiles each run)",
    )
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
    if args.tiny_chain:
        from common import table

        rows = [r for d in args.devices.split(",") for r in tiny_chain_rows(d, args.tiny_chain, args.runs)]
        head = ["device", "rounds", "eager, per op", "plain replay, per op", "planned, per op"]
        print(table(rows, [*head, "planned / eager", "equal"]))
        return
    rows = []
    for opt in args.optimizers.split(","):
        for dev in args.devices.split(","):
            # one run: PyTorch, Ember eager, Ember compiled back to back, so the three share the
            # machine's load of that moment and each ratio is taken within one run
            eager, plain, comp, tor, tor_c = [], [], [], [], []
            same = True
            for _ in range(args.runs):
                if have_torch:
                    tor.append(statistics.median(torch_epochs(opt, args.epochs)))
                    if args.torch_compile:
                        tor_c.append(statistics.median(torch_epochs(opt, args.epochs, compiled=True)))
                te, pe = ember_epochs(dev, opt, False, args.epochs)
                tp, pp = ember_epochs(dev, opt, True, args.epochs, backend_rewrite=False)
                tc, pc = ember_epochs(dev, opt, True, args.epochs)
                eager.append(statistics.median(te))
                plain.append(statistics.median(tp))
                comp.append(statistics.median(tc))
                same = same and all(np.array_equal(a, b) for a, b in zip(pe, pc))
                same = same and all(np.array_equal(a, b) for a, b in zip(pe, pp))
            row = [
                dev,
                opt,
                _fmt(eager),
                _fmt(plain),
                _fmt(comp),
                _ratio(plain, eager),
                _ratio(comp, eager),
                _ratio(comp, plain),
                "yes" if same else "NO",
            ]
            if tor:
                row += [_fmt(tor), _ratio(eager, tor), _ratio(comp, tor)]
            if tor_c:
                row += [_fmt(tor_c), _ratio(comp, tor_c)]
            rows.append(row)
            print(" | ".join(row), file=sys.stderr, flush=True)
    from common import table

    header = ["device", "optimizer", "Ember eager", "compiled, plain replay", "compiled, planned"]
    header += ["plain / eager", "planned / eager", "planned / plain", "equal"]
    if have_torch:
        header += ["PyTorch eager (cpu)", "eager / PyTorch", "planned / PyTorch"]
        if args.torch_compile:
            header += ["PyTorch torch.compile (cpu)", "planned / torch.compile"]
    print(table(rows, header))


if __name__ == "__main__":
    main()
