"""Train a small CNN on scikit-learn's 8x8 digits (1797 images, no download) with Ember.

    python examples/train_digits.py --epochs 15 --seed 0 --min-accuracy 0.97

Prints the test accuracy, saves a checkpoint (model + optimizer state, safetensors format), reloads
it into a fresh model and checks the reloaded model scores the same. ``--logdir DIR`` logs the
loss, test accuracy and learning rate of every epoch for TensorBoard (``tensorboard --logdir
DIR``); ``--plot PATH`` saves the loss and accuracy curves as a PNG. The same seed gives the same
result on the same backend. Host BLAS runs single-threaded by default (``--blas-threads``): the
matrices are small, and on a busy 2-core machine extra BLAS threads made training 3-5x slower.

Data-parallel: ``ember run -n 2 examples/train_digits.py`` trains the same model on 2 ranks
(``ember.nn.parallel.DistributedDataParallel``; each rank loads its share of every epoch through
``ember.data.DistributedSampler``, ``--batch-size`` images per rank and step). Rank 0 alone
prints, saves the checkpoint and checks it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
from ember.data import DataLoader, DistributedSampler, TensorDataset


class DigitsCNN(nn.Module):
    """conv(1->16) - relu - conv(16->32) - relu - maxpool - linear(512->64) - relu - dropout -
    linear(64->10)."""

    def __init__(self, dropout: float = 0.1) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(32 * 4 * 4, 64),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(64, 10),
        )

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        """Logits of shape (N, 10) for images of shape (N, 1, 8, 8)."""
        return self.classifier(self.features(x))


def load_digits_split(
    seed: int, device: object, test_fraction: float = 0.2
) -> tuple[ember.Tensor, ember.Tensor, ember.Tensor, ember.Tensor]:
    """(x_train, y_train, x_test, y_test): images scaled to [0, 1], a seeded stratification-free split."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0)[:, None, :, :]
    y = digits.target.astype(np.int64)
    perm = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(len(y) * test_fraction))
    test, train = perm[:n_test], perm[n_test:]
    as_t = lambda a: ember.tensor(a, device=device)  # noqa: E731
    return as_t(x[train]), as_t(y[train]), as_t(x[test]), as_t(y[test])


def train_step(
    model: nn.Module, opt: ember.optim.Optimizer, xb: ember.Tensor, yb: ember.Tensor
) -> ember.Tensor:
    """One training step: cross-entropy of ``model(xb)`` against ``yb``, backward, ``opt.step()``;
    returns the loss."""
    loss = F.cross_entropy(model(xb), yb)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


def evaluate(model: nn.Module, x: ember.Tensor, y: ember.Tensor, batch_size: int = 512) -> float:
    """Accuracy of ``model`` on (x, y), in eval mode without gradients."""
    model.eval()
    correct = 0
    with ember.no_grad():
        for start in range(0, x.shape[0], batch_size):
            logits = model(x[start : start + batch_size])
            correct += int((logits.argmax(1) == y[start : start + batch_size]).sum().item())
    return correct / x.shape[0]


class _NoBar:
    """What ``--quiet`` iterates instead of a tqdm bar: the loader itself, no output."""

    def __init__(self, loader: DataLoader) -> None:
        self.loader = loader

    def __iter__(self) -> object:
        return iter(self.loader)

    def set_postfix(self, **_: object) -> None:
        """Nothing to show."""


def progress_bar(loader: DataLoader, desc: str, quiet: bool) -> object:
    """tqdm's progress bar over ``loader``; under ``--quiet`` the loader alone, so a quiet run
    needs no tqdm installed."""
    if quiet:
        return _NoBar(loader)
    from tqdm import tqdm

    return tqdm(loader, desc=desc, leave=False)


def train(args: argparse.Namespace) -> dict[str, float]:
    """Train, evaluate, checkpoint and reload; returns the metrics."""
    import ember.distributed as dist

    device = ember.device(args.device) if args.device else ember.get_default_device()
    # started by `ember run -n N` (mpiexec): one rank of a data-parallel job
    launched = any(os.environ.get(v) for v in ("WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE"))
    own_group = launched and not dist.is_initialized()
    if own_group:
        dist.init_process_group()
    parallel = dist.is_initialized() and dist.get_world_size() > 1
    if parallel and args.compile:
        raise SystemExit("error: --compile runs the step in one process; drop it under `ember run -n N`")
    rank = dist.get_rank() if parallel else 0
    args.quiet = args.quiet or rank != 0
    ember.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = load_digits_split(args.seed, device)
    net = DigitsCNN().to(device)
    # DDP averages the gradients over the ranks (and starts every rank from rank 0's weights)
    model = nn.parallel.DistributedDataParallel(net) if parallel else net
    opt = ember.optim.Adam(model.parameters(), lr=args.lr)
    sched = ember.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    data = TensorDataset(x_train, y_train)
    if parallel:  # each rank loads its share of a shuffle all ranks agree on
        sampler = DistributedSampler(data, shuffle=True, seed=args.seed)
        loader = DataLoader(data, batch_size=args.batch_size, sampler=sampler)
    else:
        gen = ember.Generator(device, seed=args.seed)
        loader = DataLoader(data, batch_size=args.batch_size, shuffle=True, generator=gen)
    writer = None
    if args.logdir:
        from ember.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(args.logdir)
    history: dict[str, list[float]] = {"loss": [], "accuracy": [], "lr": []}

    # --compile: the whole step (forward, loss, backward, Adam) captured once per input signature
    # and replayed (the device's backend may plan and fuse it); the same numbers as eager
    run_step = ember.compile(train_step) if args.compile else train_step
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        if parallel:
            sampler.set_epoch(epoch)
        model.train()
        bar = progress_bar(loader, f"epoch {epoch + 1}/{args.epochs}", args.quiet)
        total, n = 0.0, 0
        for xb, yb in bar:
            loss = run_step(model, opt, xb, yb)
            total += loss.item() * xb.shape[0]
            n += xb.shape[0]
            bar.set_postfix(loss=f"{total / n:.4f}")
        if writer is not None or args.plot:  # the curves: one test evaluation per epoch
            lr = opt.param_groups[0]["lr"]
            history["loss"].append(total / n)
            history["accuracy"].append(evaluate(net, x_test, y_test))
            history["lr"].append(lr)
            if writer is not None:
                writer.add_scalar("loss/train", total / n, epoch + 1)
                writer.add_scalar("accuracy/test", history["accuracy"][-1], epoch + 1)
                writer.add_scalar("lr", lr, epoch + 1)
        sched.step()
        if not args.quiet:
            print(f"epoch {epoch + 1:2d}  loss {total / n:.4f}  lr {sched.get_last_lr()[0]:.2e}")
    train_time = time.perf_counter() - t0
    if writer is not None:
        writer.close()
    if args.plot:
        plot_curves(history, args.plot)
        print(f"curves: {args.plot}")
    acc = evaluate(net, x_test, y_test)
    if rank != 0:  # rank 0 alone saves and checks the checkpoint (the ranks' models are equal)
        dist.barrier()
        if own_group:
            dist.destroy_process_group()
        return {"accuracy": acc, "reloaded_accuracy": acc, "train_time": train_time}
    where = f"{dist.get_world_size()} ranks on {device}" if parallel else str(device)
    print(f"test accuracy: {acc:.4f} ({x_test.shape[0]} images), training time {train_time:.1f}s on {where}")

    path = args.checkpoint or os.path.join(tempfile.mkdtemp(prefix="ember-digits-"), "digits.safetensors")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    ember.save(
        {"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": args.epochs, "accuracy": acc},
        path,
    )
    ckpt = ember.load(path, map_location=device)
    fresh = DigitsCNN().to(device)
    fresh.load_state_dict(ckpt["model"])
    opt2 = ember.optim.Adam(fresh.parameters(), lr=args.lr)
    opt2.load_state_dict(ckpt["optimizer"])
    acc2 = evaluate(fresh, x_test, y_test)
    print(f"checkpoint: {path} ({os.path.getsize(path) / 1024:.0f} KiB); reloaded model accuracy {acc2:.4f}")
    if acc2 != acc or ckpt["accuracy"] != acc:
        raise SystemExit(f"error: the reloaded model scores {acc2:.4f}, the trained one {acc:.4f}")
    if parallel:
        dist.barrier()
        if own_group:
            dist.destroy_process_group()
    return {"accuracy": acc, "reloaded_accuracy": acc2, "train_time": train_time}


def plot_curves(
    history: dict[str, list[float]], path: str, size: tuple[float, float] = (8, 3.5), dpi: int = 100
) -> None:
    """Save the per-epoch training loss and test accuracy of ``history`` side by side as a PNG of
    ``size`` inches at ``dpi`` (800 x 350 pixels by default); needs matplotlib (the ``plots`` extra)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise SystemExit(f"error: --plot needs matplotlib ({exc}); pip install 'ember[plots]'") from exc

    epochs = range(1, len(history["loss"]) + 1)
    fig = Figure(figsize=size, dpi=dpi, layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    loss_ax.plot(epochs, history["loss"], marker="o")
    loss_ax.set(title="training loss", xlabel="epoch", ylabel="cross-entropy")
    acc_ax.plot(epochs, history["accuracy"], marker="o", color="tab:green")
    acc_ax.set(title="test accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0, 1))
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.savefig(path, dpi=dpi)


def _blas_threads(n: int) -> contextlib.AbstractContextManager[object]:
    """Limit the host BLAS thread pool to ``n`` threads (needs threadpoolctl, which scikit-learn
    brings); a no-op for ``n <= 0`` or without threadpoolctl."""
    if n <= 0:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on threadpoolctl
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default=None, help="ember device (default: ember's default device)")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--checkpoint", default=None, help="checkpoint path (default: a new temp directory)")
    p.add_argument("--min-accuracy", type=float, default=None, help="exit 1 if test accuracy is below this")
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")
    p.add_argument(
        "--compile",
        action="store_true",
        help="run the training step through ember.compile (the same results as eager, faster)",
    )
    p.add_argument("--logdir", default=None, help="log loss, accuracy and lr per epoch for TensorBoard here")
    p.add_argument("--plot", default=None, help="save the loss and accuracy curves as a PNG here")
    p.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads for host matmuls (default 1: this model's matrices are small, and "
        "extra threads only contend for the CPU; 0 keeps the BLAS library's default)",
    )
    args = p.parse_args(argv)
    with _blas_threads(args.blas_threads):
        metrics = train(args)
    if args.min_accuracy is not None and metrics["accuracy"] < args.min_accuracy:
        print(
            f"FAILED: accuracy {metrics['accuracy']:.4f} < --min-accuracy {args.min_accuracy}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
