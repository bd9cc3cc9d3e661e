"""Training in Ember and in PyTorch CPU, side by side: one epoch of the digits CNN (batch 64), and
steps of the character Transformer of ``examples/train_charlm.py``.

    python benchmarks/bench_training.py [--epochs 3] [--device cpu] [--only digits|charlm]
        [--runs 3] [--charlm-steps 15] [--charlm-devices cpu,opencl]

Each framework runs in its own subprocess, so its peak resident memory (``ru_maxrss``) is its own.
``--threads N`` pins both to N BLAS/OpenMP threads (steadier numbers on a small, busy machine).
PyTorch is skipped when it is not installed.

Digits: each framework does one untimed warm-up epoch, then times ``--epochs`` epochs and reports
the median epoch time.

Character Transformer: the example's default configuration (4 blocks, width 128, 4 heads, block
64, batch 32, dropout 0.1, AdamW with warm-up and cosine decay, gradient clipping), written once
with ``ember.nn`` (the example's own model) and once with ``torch.nn`` (:func:`torch_charlm_model`,
the same initialisation), fed the same batches of the same text. Each of ``--runs`` rounds starts
one fresh process per framework and device, in turn; each process does 3 untimed steps, then
times ``--charlm-steps`` steps. The table gives tokens per second (median over the rounds, and
the lowest and highest), the ratio to PyTorch in the same round (median and spread), and memory:
the process's peak resident set (``ru_maxrss``) less its value after the imports and the text were
loaded, so neither framework is charged for the other's import footprint or for the shared data
(OpenCL on a CPU device, PoCL, keeps its buffers in host memory, so they count too).
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
from collections.abc import Callable
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


def run_torch(
    epochs: int,
    optimizer: str = "adam",
    clock: Callable[[], float] = time.perf_counter,
    compiled: bool = False,
) -> list[float]:
    """Epoch times (after one warm-up epoch) of the same model in PyTorch (CPU), trained with
    ``optimizer`` ("adam": lr 3e-3, "adamw": lr 3e-3 and weight decay 0.01, "sgd": lr 0.05 and
    momentum 0.9), timed with ``clock``; ``compiled``: the model under ``torch.compile`` (its
    default inductor backend; the compilations, for the full and the last partial batch, happen
    in the warm-up epoch)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.manual_seed(0)
    if os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    x, y = _data()
    model = torch_digits_model(nn)
    forward = torch.compile(model) if compiled else model
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    elif optimizer == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    ds = torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y))
    loader = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True)
    times = []
    for epoch in range(epochs + 1):
        t0 = clock()
        for xb, yb in loader:
            loss = F.cross_entropy(forward(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        loss.item()
        if epoch:
            times.append(clock() - t0)
    return times


# -- the character Transformer of examples/train_charlm.py -----------------------------------------
def _charlm_example() -> Any:
    sys.path.insert(0, str(ROOT / "examples"))
    import train_charlm

    return train_charlm


def _charlm_data() -> tuple[Any, Any, Any]:
    """The example module, its default flags and its data (text, vocabulary, splits)."""
    ex = _charlm_example()
    args = ex.parse_args([])
    text = ex.stdlib_text(args.data_bytes)
    return ex, args, ex.CharData(text)


def _charlm_batches(ex: Any, data: Any, args: Any, steps: int) -> list[tuple[Any, Any]]:
    """The first ``steps`` training batches of the example's run (numpy int64 arrays)."""
    return [
        data.batch("train", args.batch_size, args.block_size, ex.batch_rng(args.seed, i))
        for i in range(steps)
    ]


def run_ember_charlm(
    ex: Any, args: Any, data: Any, device: str, steps: int, warmup: int = 3, compiled: bool = False
) -> dict[str, float]:
    """Tokens per second of the example's model and optimisation on ``device``; ``compiled``: the
    step (forward, loss, backward, clipping, AdamW) through ``ember.compile`` (the scheduler's
    step stays outside: the replays read the learning rate it sets)."""
    import ember
    import ember.nn as nn
    import ember.nn.functional as F

    dev = ember.device(device)
    ember.manual_seed(0)
    cfg = ex.CharLMConfig(
        len(data.vocab), args.block_size, args.n_layer, args.n_head, args.n_embd, args.dropout
    )
    model, opt, sched = ex.build(cfg, args, dev)
    batches = _charlm_batches(ex, data, args, warmup + steps)

    def train_step(x: Any, y: Any) -> Any:
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        return loss

    step_fn = ember.compile(train_step) if compiled else train_step
    t0 = 0.0
    for i, (x, y) in enumerate(batches):
        if i == warmup:  # the warm-up steps' work done (a compiled step captured by then)
            ember.synchronize(dev)
            t0 = time.perf_counter()
        loss = step_fn(ember.tensor(x, device=dev), ember.tensor(y.reshape(-1), device=dev))
        sched.step()
    last = loss.item()
    ember.synchronize(dev)
    elapsed = time.perf_counter() - t0
    return {"tokens_s": steps * args.batch_size * args.block_size / elapsed, "loss": last}


def torch_charlm_model(
    torch: Any, vocab_size: int, block_size: int, n_layer: int, n_head: int, n_embd: int, dropout: float
) -> Any:
    """The example's CharTransformer written with ``torch.nn`` (passed in, so importing this module
    needs no PyTorch): the same layers, tied head and GPT-2 initialisation."""
    import math

    nn, F = torch.nn, torch.nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.qkv = nn.Linear(n_embd, 3 * n_embd)
            self.proj = nn.Linear(n_embd, n_embd)
            self.resid_drop = nn.Dropout(dropout)

        def forward(self, x: Any) -> Any:
            b, t, c = x.shape
            q, k, v = self.qkv(x).split(c, dim=2)
            q, k, v = (z.reshape(b, t, n_head, c // n_head).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(
                q, k, v, dropout_p=dropout if self.training else 0.0, is_causal=True
            )
            return self.resid_drop(self.proj(y.transpose(1, 2).reshape(b, t, c)))

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1, self.attn, self.ln2 = nn.LayerNorm(n_embd), CausalSelfAttention(), nn.LayerNorm(n_embd)
            self.mlp = nn.Sequential(
                nn.Linear(n_embd, 4 * n_embd),
                nn.GELU(approximate="tanh"),
                nn.Linear(4 * n_embd, n_embd),
                nn.Dropout(dropout),
            )

        def forward(self, x: Any) -> Any:
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class CharTransformer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok_emb = nn.Embedding(vocab_size, n_embd)
            self.pos_emb = nn.Embedding(block_size, n_embd)
            self.drop = nn.Dropout(dropout)
            self.blocks = nn.ModuleList([Block() for _ in range(n_layer)])
            self.ln_f = nn.LayerNorm(n_embd)
            self.head = nn.Linear(n_embd, vocab_size, bias=False)
            self.head.weight = self.tok_emb.weight
            for name, p in self.named_parameters():
                if name.endswith("bias"):
                    nn.init.zeros_(p)
                elif p.ndim == 2:
                    into_residual = name.endswith(("attn.proj.weight", "mlp.2.weight"))
                    nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * n_layer) if into_residual else 0.02)

        def forward(self, idx: Any) -> Any:
            pos = torch.arange(idx.shape[1])
            x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln_f(x))

    return CharTransformer()


def run_torch_charlm(ex: Any, args: Any, data: Any, steps: int, warmup: int = 3) -> dict[str, float]:
    """Tokens per second of the same model and optimisation in PyTorch (CPU)."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    if os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    model = torch_charlm_model(
        torch, len(data.vocab), args.block_size, args.n_layer, args.n_head, args.n_embd, args.dropout
    )
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr,
        betas=(0.9, 0.99),
    )
    lrs = torch.optim.lr_scheduler
    warm = max(1, min(args.warmup, args.decay_steps - 1))
    sched = lrs.SequentialLR(
        opt,
        [
            lrs.LinearLR(opt, start_factor=0.01, end_factor=1.0, total_iters=warm),
            lrs.CosineAnnealingLR(opt, T_max=max(1, args.decay_steps - warm), eta_min=args.lr * 0.1),
            lrs.LinearLR(opt, start_factor=0.1, end_factor=0.1, total_iters=1),
        ],
        milestones=[warm, max(warm + 1, args.decay_steps)],
    )
    batches = _charlm_batches(ex, data, args, warmup + steps)
    vocab = len(data.vocab)
    t0 = 0.0
    for i, (x, y) in enumerate(batches):
        if i == warmup:
            t0 = time.perf_counter()
        logits = model(torch.from_numpy(x))
        loss = F.cross_entropy(logits.reshape(-1, vocab), torch.from_numpy(y.reshape(-1)))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        sched.step()
    last = loss.item()
    elapsed = time.perf_counter() - t0
    return {"tokens_s": steps * args.batch_size * args.block_size / elapsed, "loss": last}


def charlm_worker(framework: str, steps: int, device: str) -> None:
    """One framework's charlm run in this (fresh) process: a JSON line with tokens/s and memory."""
    if framework in ("ember", "ember-compiled"):
        import ember
        import ember.nn  # noqa: F401

        try:
            ember.device(device)  # the backend's own start-up counts as import
        except ember.BackendError as exc:
            print(json.dumps({"skipped": str(exc).splitlines()[0]}))
            return
    else:
        import torch  # noqa: F401
    ex, args, data = _charlm_data()
    base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    if framework in ("ember", "ember-compiled"):
        res = run_ember_charlm(ex, args, data, device, steps, compiled=framework == "ember-compiled")
    else:  # (the example module, which builds the data, imports ember: counted in the baseline)
        res = run_torch_charlm(ex, args, data, steps)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    res.update(
        peak_rss_mib=peak_kib / 1024,
        base_rss_mib=base_kib / 1024,
        rss_increase_mib=(peak_kib - base_kib) / 1024,
    )
    print(json.dumps(res))


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


def charlm_table(results: dict[tuple[str, str], list[dict[str, float]]]) -> str:
    """The Markdown table of the charlm rounds: tokens/s, the ratio to PyTorch's in the same round
    (median, lowest and highest) and the memory columns (medians)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from common import table

    torch_runs = results.get(("torch", "cpu"), [])
    rows = []
    for (fw, dev), runs in results.items():
        tok = [r["tokens_s"] for r in runs]
        ratios = [r["tokens_s"] / t["tokens_s"] for r, t in zip(runs, torch_runs)] if fw != "torch" else []
        rows.append(
            [
                f"{fw} {dev}",
                f"{statistics.median(tok):,.0f}",
                f"{min(tok):,.0f}-{max(tok):,.0f}",
                f"{statistics.median(ratios):.2f}x" if ratios else "-",
                f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else "-",
                f"{statistics.median(r['rss_increase_mib'] for r in runs):.0f}",
                f"{statistics.median(r['base_rss_mib'] for r in runs):.0f}",
                f"{statistics.median(r['loss'] for r in runs):.3f}",
            ]
        )
    header = [
        "run",
        "tokens per s",
        "lowest-highest",
        "ember/torch tokens",
        "spread",
        "peak RSS over baseline (MiB)",
        "baseline (MiB)",
        "last loss",
    ]
    return table(rows, header)


def charlm_main(args: argparse.Namespace, env: dict[str, str], with_torch: bool) -> int:
    """Run the charlm rounds (one fresh process per framework and device each) and print the table."""
    devices = [d.strip() for d in args.charlm_devices.split(",") if d.strip()]
    jobs = [(fw, d) for d in devices for fw in ("ember", "ember-compiled")]
    if with_torch:
        jobs.append(("torch", "cpu"))
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    skipped: dict[tuple[str, str], str] = {}
    for _ in range(args.runs):
        for job in jobs:
            if job in skipped:
                continue
            fw, dev = job
            cmd = [sys.executable, __file__, "--charlm-worker", fw, "--charlm-steps", str(args.charlm_steps)]
            proc = subprocess.run([*cmd, "--device", dev], capture_output=True, text=True, env=env)
            if proc.returncode:
                print(f"charlm {fw} on {dev} failed:\n{proc.stderr}", file=sys.stderr)
                return 1
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            if "skipped" in res:
                skipped[job] = res["skipped"]
                continue
            results.setdefault(job, []).append(res)
    if not with_torch:
        results = {k: v for k, v in results.items() if k[0] != "torch"}
    threads = f"{args.threads} thread(s)" if args.threads else "default threads"
    print(
        f"\ncharacter Transformer (examples/train_charlm.py defaults: 0.8 M parameters, batch 32 x 64 "
        f"tokens), {args.charlm_steps} timed steps after 3 warm-up steps, {args.runs} rounds of fresh "
        f"processes, {threads}"
    )
    print(
        "memory: peak RSS (ru_maxrss) of each process less its value after the imports and the text "
        "were loaded (the baseline column)"
    )
    print(charlm_table(results))
    for (fw, dev), why in skipped.items():
        print(f"({fw} on {dev} skipped: {why})")
    if not with_torch:
        print("(PyTorch is not installed: no comparison)")
    return 0


def main() -> int:
    """Run the workers of the benchmarks chosen and print their tables."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=3, help="timed epochs per framework (after one warm-up)")
    p.add_argument("--device", default=None, help="ember device (default: ember's default device)")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="BLAS/OpenMP threads for both frameworks (default: their own defaults)",
    )
    p.add_argument(
        "--only", choices=["digits", "charlm"], default=None, help="run one benchmark (default: both)"
    )
    p.add_argument("--runs", type=int, default=3, help="charlm: rounds of fresh processes (default 3)")
    p.add_argument(
        "--charlm-steps", type=int, default=15, help="charlm: timed steps per process (default 15)"
    )
    p.add_argument(
        "--charlm-devices",
        default="cpu,opencl",
        help="charlm: ember devices, comma-separated (default cpu,opencl)",
    )
    p.add_argument("--worker", choices=["ember", "torch"], help=argparse.SUPPRESS)
    p.add_argument("--charlm-worker", choices=["ember", "ember-compiled", "torch"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args.worker, args.epochs, args.device)
        return 0
    if args.charlm_worker:
        charlm_worker(args.charlm_worker, args.charlm_steps, args.device or "cpu")
        return 0
    frameworks = ["ember"]
    try:
        import importlib.util

        if importlib.util.find_spec("torch") is not None:
            frameworks.append("torch")
    except (ImportError, ValueError):
        pass
    path = os.pathsep.join([str(ROOT / "examples"), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)
    if args.threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(args.threads)
    if args.only != "charlm":
        rc = digits_main(args, env, frameworks)
        if rc or args.only == "digits":
            return rc
    return charlm_main(args, env, "torch" in frameworks)


def digits_main(args: argparse.Namespace, env: dict[str, str], frameworks: list[str]) -> int:
    """Run the digits workers and print their table."""
    results = {}
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
