"""Train a small character-level Transformer language model on Python's own standard library.

    python examples/train_charlm.py --steps 600 --seed 0 --max-val-ratio 0.75

A decoder-only Transformer (token and position embeddings, pre-norm blocks of causal self-attention
and a GELU MLP, dropout, the output head tied to the token embedding) learns to predict the next
character of Python source. The text ships with every Python installation: the top-level ``*.py``
files of the standard library (``sysconfig.get_paths()["stdlib"]``), read in sorted order and cut
at ``--data-bytes`` (2 MB by default); the last 10% is the validation split. Training draws random
crops of ``--block-size`` characters, optimises with AdamW (weight decay on the matrices only),
a linear warm-up then a cosine decay of the learning rate, and gradient clipping.

Every ``--log-every`` steps it prints the training loss and tokens per second; every
``--eval-every`` steps the validation loss next to the unigram baseline (the entropy of the
training text's character distribution, in nats: the loss of a model that knows only how often
each character occurs) and saves a checkpoint to ``--out`` (``ember.save``: model, optimizer and
scheduler state, vocabulary, model configuration, the data and optimisation flags, the step). At
the end it prints a sample drawn from ``--prompt`` with ``--temperature`` and ``--top-k``.
``--resume PATH`` continues a saved run up to ``--steps`` with the saved run's data, model and
schedule (the cosine reaches its end at ``--decay-steps``, the first run's ``--steps`` unless
given); batches depend only on the seed and the step, so a run stopped and resumed sees the
batches, and without dropout computes the weights, of the uninterrupted run. ``--quick`` is a
tiny configuration for tests (1 block, width 32, 40 steps, no dropout).

Measured 2026-12-05 on a shared 2-core AMD EPYC VM (numpy with OpenBLAS on one thread, PoCL 3.0
for opencl), the default configuration (4 blocks, 4 heads, width 128, block 64, batch 32: 814,464
parameters; 2,000,000 characters, vocabulary 101, unigram baseline 3.1395 nats), validation loss
over the baseline at steps 100, 200, ... 600:

- cpu: 0.770, 0.710, 0.659, 0.619, 0.599, 0.585 (1.836 nats); 190 s of CPU time for the 600
  steps (671 s of wall time at a load average of 9-14 from other jobs; an earlier run with the
  exact GELU took 257 s of wall time in a quieter hour);
- opencl: 0.769, 0.703, 0.660, 0.621, 0.598, 0.586 (1.839 nats); 256 s of CPU time over PoCL's
  threads (763 s of wall time at a load average of 8-13).

So the run is below 0.75x the baseline by step 200, about a minute of one core. Side by side
with the same model in PyTorch (``benchmarks/bench_training.py``) Ember trains at about 0.7x
PyTorch's tokens per second on cpu and 0.5x on opencl.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import sysconfig
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np


# -- the model ---------------------------------------------------------------------------------------
@dataclass
class CharLMConfig:
    """The model's shape; saved in the checkpoint so a resumed run or a sampler rebuilds it."""

    vocab_size: int
    block_size: int = 64
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.1


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position t attends to positions 0..t only."""

    def __init__(self, cfg: CharLMConfig) -> None:
        super().__init__()
        if cfg.n_embd % cfg.n_head:
            raise ValueError(f"n_embd ({cfg.n_embd}) must be a multiple of n_head ({cfg.n_head})")
        self.n_head, self.dropout = cfg.n_head, cfg.dropout
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.resid_drop = nn.Dropout(cfg.dropout)

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        """(B, T, C) -> (B, T, C)."""
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=2)
        # (B, T, C) -> (B, heads, T, C / heads)
        q, k, v = (z.reshape(b, t, self.n_head, c // self.n_head).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True
        )
        return self.resid_drop(self.proj(y.transpose(1, 2).reshape(b, t, c)))


class Block(nn.Module):
    """Pre-norm Transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, cfg: CharLMConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.n_embd)
        self.attn = CausalSelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.n_embd, 4 * cfg.n_embd),
            nn.GELU(approximate="tanh"),
            nn.Linear(4 * cfg.n_embd, cfg.n_embd),
            nn.Dropout(cfg.dropout),
        )

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        """(B, T, C) -> (B, T, C)."""
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class CharTransformer(nn.Module):
    """Decoder-only Transformer over characters; the output head shares the token embedding's
    weight. Initialisation as GPT-2: every matrix N(0, 0.02), the projections back into the
    residual stream N(0, 0.02 / sqrt(2 * n_layer)), biases zero, layer norms one and zero."""

    def __init__(self, cfg: CharLMConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.pos_emb = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # weight tying
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif p.ndim == 2:
                into_residual = name.endswith(("attn.proj.weight", "mlp.2.weight"))
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * cfg.n_layer) if into_residual else 0.02)

    def forward(self, idx: ember.Tensor) -> ember.Tensor:
        """Logits (B, T, vocab_size) for token ids ``idx`` (B, T), T <= block_size."""
        t = idx.shape[1]
        if t > self.cfg.block_size:
            raise ValueError(
                f"CharTransformer: a sequence of {t} tokens is longer than block_size "
                f"{self.cfg.block_size}; crop the context to the last {self.cfg.block_size} tokens"
            )
        pos = ember.arange(t, device=idx.device)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict[str, object]]:
    """AdamW's two groups: the matrices (linear and embedding weights) decay, biases and layer-norm
    weights do not. A tied weight appears once."""
    decay, no_decay, seen = [], [], set()
    for _, p in model.named_parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        (decay if p.ndim >= 2 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def warmup_cosine(
    opt: ember.optim.Optimizer, warmup: int, decay_steps: int, min_ratio: float = 0.1
) -> ember.optim.lr_scheduler.LRScheduler:
    """Linear warm-up from lr/100 over ``warmup`` steps, cosine decay to ``min_ratio`` * lr at step
    ``decay_steps``, then constant (stepped once per optimisation step)."""
    sched = ember.optim.lr_scheduler
    warmup = max(1, min(warmup, decay_steps - 1))
    base_lr = opt.param_groups[0]["lr"]
    return sched.SequentialLR(
        opt,
        [
            sched.LinearLR(opt, start_factor=0.01, end_factor=1.0, total_iters=warmup),
            sched.CosineAnnealingLR(opt, T_max=max(1, decay_steps - warmup), eta_min=base_lr * min_ratio),
            sched.LinearLR(opt, start_factor=min_ratio, end_factor=min_ratio, total_iters=1),
        ],
        milestones=[warmup, max(warmup + 1, decay_steps)],
    )


# -- the data ----------------------------------------------------------------------------------------
def stdlib_text(max_chars: int) -> str:
    """The top-level ``*.py`` files of this Python's standard library in sorted order, joined and
    cut at ``max_chars`` characters. Same Python, same text."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in root.glob("*.py") if p.is_file())
    if not files:
        raise SystemExit(f"error: no *.py files in the standard library folder {root}")
    parts, size = [], 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        parts.append(text)
        size += len(text)
        if size >= max_chars:
            break
    return "".join(parts)[:max_chars]


class CharData:
    """A text as token ids over its character vocabulary, split into training (the first 90%) and
    validation (the rest)."""

    def __init__(self, text: str, vocab: str | None = None, val_fraction: float = 0.1) -> None:
        self.vocab = vocab if vocab is not None else "".join(sorted(set(text)))
        self.stoi = {ch: i for i, ch in enumerate(self.vocab)}
        missing = sorted(set(text) - set(self.stoi))
        if missing:
            raise ValueError(
                f"CharData: the text has {len(missing)} characters outside the vocabulary "
                f"(first: {missing[:5]!r}); build the vocabulary from this text"
            )
        ids = np.array([self.stoi[ch] for ch in text], dtype=np.int64)
        n_val = int(len(ids) * val_fraction)
        self.train, self.val = ids[: len(ids) - n_val], ids[len(ids) - n_val :]

    def encode(self, s: str) -> list[int]:
        """Token ids of ``s``; every character must be in the vocabulary."""
        unknown = sorted(set(s) - set(self.stoi))
        if unknown:
            raise ValueError(
                f"encode: characters {unknown!r} are not in the vocabulary; use characters of the "
                "training text"
            )
        return [self.stoi[ch] for ch in s]

    def decode(self, ids: list[int]) -> str:
        """The text of token ids ``ids``."""
        return "".join(self.vocab[i] for i in ids)

    def unigram_entropy(self) -> float:
        """Entropy of the training split's character distribution, in nats."""
        p = np.bincount(self.train, minlength=len(self.vocab)) / len(self.train)
        p = p[p > 0]
        return float(-(p * np.log(p)).sum())

    def batch(
        self, split: str, batch_size: int, block_size: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) int64 arrays (batch_size, block_size): random crops of ``split`` and the same
        crops shifted one character on."""
        ids = self.train if split == "train" else self.val
        if len(ids) <= block_size:
            raise ValueError(
                f"batch: the {split} split has {len(ids)} characters, not more than block_size "
                f"{block_size}; raise --data-bytes or lower --block-size"
            )
        starts = rng.integers(0, len(ids) - block_size, size=batch_size)
        rows = starts[:, None] + np.arange(block_size + 1)
        crops = ids[rows]
        return crops[:, :-1], crops[:, 1:]


def batch_rng(seed: int, step: int, split: str = "train") -> np.random.Generator:
    """The generator of one step's batch: a function of the seed and the step alone, so a resumed
    run sees the batches of an uninterrupted one."""
    return np.random.default_rng([seed, step, 0 if split == "train" else 1])


# -- training ----------------------------------------------------------------------------------------
def estimate_val_loss(
    model: CharTransformer, data: CharData, args: argparse.Namespace, device: ember.Device
) -> float:
    """Mean cross-entropy over ``args.eval_batches`` fixed validation batches (eval mode, no grad)."""
    was_training = model.training
    model.eval()
    rng = batch_rng(args.seed, 0, "val")  # the same batches at every evaluation
    total = 0.0
    with ember.no_grad():
        for _ in range(args.eval_batches):
            x, y = data.batch("val", args.batch_size, model.cfg.block_size, rng)
            logits = model(ember.tensor(x, device=device))
            loss = F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), ember.tensor(y.reshape(-1), device=device)
            )
            total += loss.item()
    model.train(was_training)
    return total / args.eval_batches


def generate(
    model: CharTransformer,
    prompt_ids: list[int],
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: ember.Generator | None = None,
) -> list[int]:
    """``prompt_ids`` followed by ``max_new_tokens`` sampled ids: each from the softmax of the last
    position's logits divided by ``temperature``, restricted to the ``top_k`` most likely."""
    if temperature <= 0:
        raise ValueError(f"generate: temperature must be > 0, got {temperature}")
    if not prompt_ids:
        raise ValueError("generate: the prompt is empty; give at least one character")
    device = model.tok_emb.weight.device
    was_training = model.training
    model.eval()
    ids = list(prompt_ids)
    with ember.no_grad():
        for _ in range(max_new_tokens):
            ctx = ember.tensor([ids[-model.cfg.block_size :]], device=device)
            logits = model(ctx)[0, -1] / temperature
            if top_k is not None and top_k < logits.shape[0]:
                kth = ember.topk(logits, top_k).values[-1]
                logits = logits.masked_fill(logits < kth, -math.inf)
            probs = F.softmax(logits, dim=-1)
            ids.append(int(ember.multinomial(probs, 1, generator=generator).item()))
    model.train(was_training)
    return ids


# the flags a checkpoint keeps: a resumed run trains on with the saved run's data, model and optimisation
SAVED_FLAGS = (
    "seed",
    "data_bytes",
    "batch_size",
    "lr",
    "warmup",
    "decay_steps",
    "weight_decay",
    "grad_clip",
    "eval_batches",
)


def build(
    cfg: CharLMConfig, args: argparse.Namespace, device: ember.Device
) -> tuple[CharTransformer, ember.optim.Optimizer, ember.optim.lr_scheduler.LRScheduler]:
    """Model, AdamW optimizer and warm-up/cosine scheduler for ``cfg`` and the run's flags."""
    model = CharTransformer(cfg).to(device)
    opt = ember.optim.AdamW(parameter_groups(model, args.weight_decay), lr=args.lr, betas=(0.9, 0.99))
    return model, opt, warmup_cosine(opt, args.warmup, args.decay_steps)


def save_checkpoint(
    path: str,
    model: CharTransformer,
    opt: ember.optim.Optimizer,
    sched: ember.optim.lr_scheduler.LRScheduler,
    data: CharData,
    args: argparse.Namespace,
    step: int,
    val_loss: float,
) -> None:
    """Model, optimizer and scheduler state, vocabulary, model configuration, the flags in
    :data:`SAVED_FLAGS` and the step, in one file (written atomically by ``ember.save``)."""
    ember.save(
        {
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(),
            "vocab": data.vocab,
            "config": asdict(model.cfg),
            "flags": {k: getattr(args, k) for k in SAVED_FLAGS},
            "step": step,
            "val_loss": val_loss,
        },
        path,
    )


def train(args: argparse.Namespace) -> dict[str, object]:
    """Train (or resume), evaluate, checkpoint and sample; returns the run's figures."""
    device = ember.device(args.device) if args.device else ember.get_default_device()
    ckpt = ember.load(args.resume, map_location=device) if args.resume else None
    if ckpt is not None:  # the saved run's data, vocabulary, model shape and optimisation
        for k, v in ckpt["flags"].items():
            setattr(args, k, v)
    ember.manual_seed(args.seed)
    text = stdlib_text(args.data_bytes)
    data = CharData(text, vocab=ckpt["vocab"] if ckpt is not None else None)
    try:  # checked before training, not after
        prompt_ids = data.encode(args.prompt.replace("\\n", "\n").replace("\\t", "\t") or "\n")
    except ValueError as exc:
        raise SystemExit(f"error: --prompt {args.prompt!r}: {exc}") from None
    if ckpt is not None:
        cfg = CharLMConfig(**ckpt["config"])
    else:
        cfg = CharLMConfig(
            vocab_size=len(data.vocab),
            block_size=args.block_size,
            n_layer=args.n_layer,
            n_head=args.n_head,
            n_embd=args.n_embd,
            dropout=args.dropout,
        )
    model, opt, sched = build(cfg, args, device)
    start = 0
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        start = ckpt["step"]
        ember.manual_seed(args.seed + start)  # the resumed steps' dropout masks
    unigram = data.unigram_entropy()
    n_params = sum(p.numel() for group in opt.param_groups for p in group["params"])
    say = (lambda *a: None) if args.quiet else print
    say(
        f"data: {len(text):,} characters of {sysconfig.get_paths()['stdlib']}, vocabulary {len(data.vocab)}, "
        f"unigram baseline {unigram:.4f} nats; model: {n_params:,} parameters on {device}"
        + (f"; resuming {args.resume} at step {start}" if ckpt is not None else "")
    )
    path = args.out or os.path.join(tempfile.mkdtemp(prefix="ember-charlm-"), "charlm.safetensors")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    history: dict[str, list[float]] = {"step": [], "loss": [], "val_step": [], "val_loss": []}
    model.train()
    t_start = time.perf_counter()
    t_log, tokens_log = t_start, 0
    val_loss = ckpt["val_loss"] if ckpt is not None else None

    def train_step(xb: ember.Tensor, yb: ember.Tensor) -> ember.Tensor:
        logits = model(xb)
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), yb)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        return loss

    # --compile: the step captured once and replayed (the scheduler's lr is read at each replay)
    run_step = ember.compile(train_step) if args.compile else train_step
    for step in range(start, args.steps):
        x, y = data.batch("train", args.batch_size, cfg.block_size, batch_rng(args.seed, step))
        loss = run_step(ember.tensor(x, device=device), ember.tensor(y.reshape(-1), device=device))
        sched.step()
        tokens_log += x.size
        done = step + 1
        if done % args.log_every == 0 or done == args.steps:
            lv = loss.item()
            history["step"].append(done)
            history["loss"].append(lv)
            now = time.perf_counter()
            say(
                f"step {done:5d}/{args.steps}  loss {lv:.4f}  lr {sched.get_last_lr()[0]:.2e}  "
                f"{tokens_log / (now - t_log):,.0f} tok/s"
            )
            t_log, tokens_log = now, 0
        if done % args.eval_every == 0 or done == args.steps:
            val_loss = estimate_val_loss(model, data, args, device)
            history["val_step"].append(done)
            history["val_loss"].append(val_loss)
            say(
                f"step {done:5d}  val loss {val_loss:.4f}  unigram {unigram:.4f}  "
                f"ratio {val_loss / unigram:.3f}"
            )
            save_checkpoint(path, model, opt, sched, data, args, done, val_loss)
    train_time = time.perf_counter() - t_start
    if val_loss is None:  # --steps 0
        val_loss = estimate_val_loss(model, data, args, device)
    trained = max(0, args.steps - start) * args.batch_size * cfg.block_size
    tok_s = trained / train_time if trained else 0.0
    print(
        f"val loss {val_loss:.4f} = {val_loss / unigram:.3f} x unigram baseline {unigram:.4f} nats "
        f"at step {max(start, args.steps)}; {train_time:.1f}s on {device} ({tok_s:,.0f} tok/s)"
    )
    if not os.path.exists(path) or start >= args.steps:
        save_checkpoint(path, model, opt, sched, data, args, max(start, args.steps), val_loss)
    print(f"checkpoint: {path} ({os.path.getsize(path) / 1024:.0f} KiB)")

    gen = ember.Generator(device, seed=args.seed)
    ids = generate(model, prompt_ids, args.sample_chars, args.temperature, args.top_k, gen)
    sample = data.decode(ids)
    if not args.quiet:
        print(f"--- sample (temperature {args.temperature}, top-k {args.top_k}) ---")
        print(sample)
        print("---")
    return {
        "val_loss": val_loss,
        "unigram": unigram,
        "ratio": val_loss / unigram,
        "history": history,
        "train_time": train_time,
        "tokens_per_s": tok_s,
        "checkpoint": path,
        "sample": sample,
    }


def load_checkpoint(path: str, device: object = None) -> tuple[CharTransformer, CharData]:
    """The model and data (vocabulary, splits) of a checkpoint saved by :func:`train`."""
    ckpt = ember.load(path, map_location=device)
    model = CharTransformer(CharLMConfig(**ckpt["config"])).to(device or ember.get_default_device())
    model.load_state_dict(ckpt["model"])
    text = stdlib_text(ckpt["flags"]["data_bytes"])
    return model, CharData(text, vocab=ckpt["vocab"])


QUICK = {
    "steps": 40,
    "batch_size": 8,
    "block_size": 32,
    "n_layer": 1,
    "n_head": 2,
    "n_embd": 32,
    "data_bytes": 200_000,
    "eval_every": 20,
    "eval_batches": 4,
    "log_every": 10,
    "warmup": 5,
    "lr": 1e-2,
    "sample_chars": 50,
}


def _blas_threads(n: int) -> contextlib.AbstractContextManager[object]:
    """Limit the host BLAS thread pool to ``n`` threads (needs threadpoolctl); a no-op for
    ``n <= 0`` or without threadpoolctl."""
    if n <= 0:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; ``--quick`` fills in the tiny configuration for every flag not given."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--device", default=None, help="ember device: cpu, opencl, cuda ... (default: ember's default)"
    )
    p.add_argument("--steps", type=int, default=None, help="optimisation steps in all (default 600)")
    p.add_argument("--batch-size", type=int, default=None, help="sequences per step (default 32)")
    p.add_argument("--block-size", type=int, default=None, help="context length in characters (default 64)")
    p.add_argument("--n-layer", type=int, default=None, help="Transformer blocks (default 4)")
    p.add_argument("--n-head", type=int, default=None, help="attention heads (default 4)")
    p.add_argument("--n-embd", type=int, default=None, help="model width (default 128)")
    p.add_argument("--dropout", type=float, default=None, help="dropout probability (default 0.1)")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate (default 3e-3)")
    p.add_argument("--warmup", type=int, default=None, help="linear warm-up steps (default 50)")
    p.add_argument(
        "--decay-steps",
        type=int,
        default=None,
        help="the step at which the cosine decay reaches lr/10, constant after (default: --steps)",
    )
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--grad-clip", type=float, default=1.0, help="clip the gradients' total norm to this")
    p.add_argument(
        "--data-bytes", type=int, default=None, help="characters of text to use (default 2,000,000)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--log-every", type=int, default=None, help="print the training loss every N steps (default 25)"
    )
    p.add_argument("--eval-every", type=int, default=None, help="validation loss every N steps (default 100)")
    p.add_argument(
        "--eval-batches", type=int, default=None, help="batches per validation estimate (default 20)"
    )
    p.add_argument("--out", default=None, help="checkpoint path (default: a new temp directory)")
    p.add_argument("--resume", default=None, help="continue the run saved in this checkpoint up to --steps")
    p.add_argument("--prompt", default="def ", help="sampling prompt (\\n and \\t for newline and tab)")
    p.add_argument(
        "--sample-chars", type=int, default=None, help="characters to sample at the end (default 300)"
    )
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--top-k", type=int, default=20)
    p.add_argument(
        "--max-val-ratio", type=float, default=None, help="exit 1 if val loss / unigram is above this"
    )
    p.add_argument("--quick", action="store_true", help="a tiny configuration for tests (40 steps, 1 layer)")
    p.add_argument(
        "--compile",
        action="store_true",
        help="run the training step through ember.compile (the same results as eager, faster)",
    )
    p.add_argument(
        "--quiet", action="store_true", help="no per-step lines; the sample is drawn but not printed"
    )
    p.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads for host matmuls (default 1: the matrices are small and extra threads only "
        "contend for the CPU; 0 keeps the BLAS library's default)",
    )
    args = p.parse_args(argv)
    defaults = {
        "steps": 600,
        "batch_size": 32,
        "block_size": 64,
        "n_layer": 4,
        "n_head": 4,
        "n_embd": 128,
        "dropout": 0.1,
        "lr": 3e-3,
        "warmup": 50,
        "data_bytes": 2_000_000,
        "log_every": 25,
        "eval_every": 100,
        "eval_batches": 20,
        "sample_chars": 300,
    }
    if args.quick:
        defaults.update(QUICK)
        defaults["dropout"] = 0.0
    for k, v in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.decay_steps is None:
        args.decay_steps = args.steps
    return args


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = parse_args(argv)
    with _blas_threads(args.blas_threads):
        metrics = train(args)
    if args.max_val_ratio is not None and metrics["ratio"] > args.max_val_ratio:
        print(
            f"FAILED: val loss / unigram {metrics['ratio']:.3f} > --max-val-ratio {args.max_val_ratio}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
