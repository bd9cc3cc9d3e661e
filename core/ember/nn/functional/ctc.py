"""The connectionist temporal classification loss (:func:`ctc_loss`): the negative log of the total
probability of every alignment of a label sequence to the frames of per-frame log-probabilities,
computed by the forward (alpha) recursion in log space over the batch at once, a composite of core
ops (so differentiable on every backend); the lengths and labels are read on the host.
"""

from __future__ import annotations

import math
from typing import Any

from ... import dtypes as _dt
from ... import ops as E
from ...tensor import Tensor
from .losses import _check_reduction

__all__ = ["ctc_loss"]


_CTC_NEG = -1e30  # "log 0" for impossible alignments: finite, so gradients stay finite


def _lengths(v: Any) -> list[int]:
    if isinstance(v, Tensor):
        return [int(x) for x in v.reshape(-1).tolist()]
    if isinstance(v, int):
        return [v]
    return [int(x) for x in v]


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Tensor | Any,
    target_lengths: Tensor | Any,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    """Connectionist temporal classification loss: ``-log`` of the total probability of every
    alignment of ``targets`` to the frames of ``log_probs`` (T, N, C) (or (T, C) unbatched), with
    ``blank`` between repeats, computed by the forward (alpha) recursion in log space over the
    batch at once. ``targets`` are (N, S) padded or the 1-D concatenation of every target;
    'mean' divides each loss by its target length, then averages, as PyTorch. An impossible
    alignment (input too short) gives inf, or 0 with ``zero_infinity``. The lengths are read on
    the host. The gradient is the true derivative with respect to ``log_probs``; through a
    ``log_softmax`` it equals PyTorch's (whose ctc_loss hands back the logits' gradient instead)."""
    op = "ctc_loss"
    _check_reduction(op, reduction)
    unbatched = log_probs.ndim == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    if lp.ndim != 3:
        raise ValueError(
            f"{op}: expected log_probs of shape (T, N, C) or (T, C), got {tuple(log_probs.shape)}"
        )
    t_max, n, c = lp.shape
    in_lens, tg_lens = _lengths(input_lengths), _lengths(target_lengths)
    if len(in_lens) != n or len(tg_lens) != n:
        raise ValueError(
            f"{op}: expected {n} input_lengths and target_lengths (one per batch element), got "
            f"{len(in_lens)} and {len(tg_lens)}"
        )
    if any(v > t_max or v < 0 for v in in_lens):
        raise ValueError(f"{op}: input_lengths {in_lens} must lie in [0, {t_max}] (the frames of log_probs)")
    if not 0 <= blank < c:
        raise ValueError(f"{op}: blank {blank} must be a class index in [0, {c})")
    flat = [int(v) for v in targets.reshape(-1).tolist()]
    if targets.ndim == 2:
        width = targets.shape[1]
        seqs = [flat[i * width : i * width + tg_lens[i]] for i in range(n)]
    else:
        starts = [sum(tg_lens[:i]) for i in range(n)]
        seqs = [flat[s : s + k] for s, k in zip(starts, tg_lens)]
    if any(len(s) != k for s, k in zip(seqs, tg_lens)):
        raise ValueError(f"{op}: targets hold fewer labels than target_lengths {tg_lens} ask for")
    width = 2 * max(tg_lens, default=0) + 1
    ext = [[blank] * width for _ in range(n)]
    skip = [[False] * width for _ in range(n)]  # may alpha(s) come from alpha(s - 2)?
    for i, seq in enumerate(seqs):
        for j, lab in enumerate(seq):
            ext[i][2 * j + 1] = lab
            if j > 0 and lab != seq[j - 1]:
                skip[i][2 * j + 1] = True
    dev = lp.device
    idx = E.tensor(ext, dtype=_dt.int64, device=dev)  # (N, W)
    skip_t = E.tensor(skip, device=dev)
    valid = E.tensor([[s < 2 * k + 1 for s in range(width)] for k in tg_lens], device=dev)
    neg = E.full((n, 1), _CTC_NEG, dtype=lp.dtype, device=dev)

    def emit(t: int) -> Tensor:
        return E.gather(lp[t], 1, idx)  # (N, W): log p of each extended label at frame t

    start = E.tensor([[s < 2 for s in range(width)] for _ in range(n)], device=dev)
    alpha = E.where(E.logical_and(start, valid), emit(0), _CTC_NEG)
    for t in range(1, t_max):
        prev1 = E.cat([neg, alpha[:, :-1]], 1)
        prev2 = E.where(skip_t, E.cat([neg, neg, alpha[:, :-2]], 1) if width > 2 else neg, _CTC_NEG)
        new = E.logsumexp(E.stack([alpha, prev1, prev2]), 0) + emit(t)
        new = E.where(valid, new, _CTC_NEG)
        running = E.tensor([[t < k] for k in in_lens], device=dev)
        alpha = E.where(running, new, alpha)
    last = E.tensor([[2 * k] for k in tg_lens], dtype=_dt.int64, device=dev)
    before = E.tensor([[max(2 * k - 1, 0)] for k in tg_lens], dtype=_dt.int64, device=dev)
    end_a, end_b = E.gather(alpha, 1, last), E.gather(alpha, 1, before)
    end_b = E.where(E.tensor([[k > 0] for k in tg_lens], device=dev), end_b, _CTC_NEG)
    loss = -E.logsumexp(E.cat([end_a, end_b], 1), 1)  # (N,)
    impossible = E.gt(loss, -_CTC_NEG / 2)
    if zero_infinity:
        loss = E.where(impossible, 0.0, loss)
    else:
        loss = E.where(impossible, math.inf, loss)
    if reduction == "mean":
        lengths = E.tensor([max(k, 1) for k in tg_lens], dtype=loss.dtype, device=dev)
        return (loss / lengths).mean()
    if reduction == "sum":
        return loss.sum()
    return loss[0] if unbatched else loss


# -- op records ---------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import ErrorSample, Sample

    def np_ctc(
        lp: np.ndarray,
        targets: np.ndarray,
        input_lengths: Any,
        target_lengths: Any,
        blank: int = 0,
        reduction: str = "mean",
        zero_infinity: bool = False,
    ) -> np.ndarray:
        unbatched = lp.ndim == 2
        lp = lp[:, None] if unbatched else lp.astype(np.float64)
        il = np.atleast_1d(np.asarray(input_lengths)).tolist()
        tl = np.atleast_1d(np.asarray(target_lengths)).tolist()
        flat = np.asarray(targets).reshape(-1).tolist()
        if np.asarray(targets).ndim == 2:
            w = np.asarray(targets).shape[1]
            seqs = [flat[i * w : i * w + k] for i, k in enumerate(tl)]
        else:
            seqs = [flat[sum(tl[:i]) : sum(tl[: i + 1])] for i in range(len(tl))]
        losses = []
        for i, seq in enumerate(seqs):
            ext = [blank]
            for lab in seq:
                ext += [lab, blank]
            alpha = np.full(len(ext), -np.inf)
            alpha[0] = lp[0, i, ext[0]]
            if len(ext) > 1:
                alpha[1] = lp[0, i, ext[1]]
            for t in range(1, il[i]):
                new = np.full(len(ext), -np.inf)
                for s in range(len(ext)):
                    terms = [alpha[s]] + ([alpha[s - 1]] if s else [])
                    if s > 1 and ext[s] != blank and ext[s] != ext[s - 2]:
                        terms.append(alpha[s - 2])
                    new[s] = np.logaddexp.reduce(terms) + lp[t, i, ext[s]]
                alpha = new
            total = np.logaddexp.reduce(alpha[-2:]) if len(ext) > 1 else alpha[-1]
            loss = -total
            losses.append(0.0 if (zero_infinity and np.isinf(loss)) else loss)
        out = np.asarray(losses)
        if reduction == "mean":
            return (out / np.maximum(tl, 1)).mean()
        if reduction == "sum":
            return out.sum()
        return out[0] if unbatched else out

    def ctc_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def logp(*s: int) -> np.ndarray:
            x = rng.standard_normal(s)
            return (x - np.log(np.exp(x).sum(-1, keepdims=True))).astype(dtype)

        i64 = np.int64
        return [
            Sample(
                (
                    logp(6, 2, 4),
                    np.array([[1, 2, 2], [3, 1, 0]], dtype=i64),
                    np.array([6, 5]),
                    np.array([3, 2]),
                )
            ),
            Sample(
                (logp(5, 2, 4), np.array([1, 2, 3], dtype=i64), np.array([5, 5]), np.array([2, 1])),
                {"reduction": "sum"},
            ),
            Sample(
                (logp(5, 2, 3), np.array([[1, 1], [2, 0]], dtype=i64), np.array([5, 4]), np.array([2, 1])),
                {"reduction": "none", "blank": 0},
            ),
            Sample(
                (logp(4, 3), np.array([2, 1], dtype=i64), np.array(4), np.array(2)), {"reduction": "none"}
            ),
            Sample(
                (logp(5, 2, 4), np.array([[1, 2], [2, 2]], dtype=i64), np.array([5, 5]), np.array([2, 2])),
                {"blank": 3},
            ),
            # the second input is too short for its target: inf, or 0 with zero_infinity
            Sample(
                (logp(4, 2, 3), np.array([[1, 2], [1, 1]], dtype=i64), np.array([4, 2]), np.array([2, 2])),
                {"reduction": "none", "zero_infinity": True},
                grad=False,
            ),
        ]

    register(
        OpRecord(
            "nn.functional.ctc_loss",
            ctc_loss,
            ctc_samples,
            np_ctc,
            reads_values=True,  # the lengths and labels are read on the host
            errors=(
                ErrorSample(
                    # lengths as lists: the count is checked before any value is read (so on meta too)
                    (np.zeros((4, 2, 3)), np.zeros((2, 2), dtype=np.int64), [4], [2, 2]),
                    {},
                    ValueError,
                    "ctc_loss: expected 2 input_lengths and target_lengths",
                ),
            ),
        ),
    )


_records()
