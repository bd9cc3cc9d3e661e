"""Loss functions: cross entropy, negative log-likelihood, regression losses, binary cross
entropy, KL divergence, margin and ranking losses, and the Poisson and Gaussian likelihoods.

Composites of core ops, except :func:`binary_cross_entropy`: its elementwise loss is computed
without recording and given its own backward, PyTorch's gradients, which stay finite where the
composite's (through the clamped logs) would be NaN.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from ... import dtypes as _dt
from ... import ops as E
from ...autograd.grad_mode import STATE, no_grad
from ...autograd.graph import attach, needs_input_grad
from ...ops._core import has_data
from ...tensor import Tensor

__all__ = [
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
    "soft_margin_loss",
    "multilabel_soft_margin_loss",
    "margin_ranking_loss",
    "triplet_margin_loss",
    "cosine_embedding_loss",
    "poisson_nll_loss",
    "gaussian_nll_loss",
    "ctc_loss",
]


_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _class_last(x: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N * d1 * ..., C)."""
    if x.ndim <= 2:
        return x if x.ndim == 2 else x.unsqueeze(0)
    return E.movedim(x, 1, -1).reshape(-1, x.shape[1])


def _check_targets(op: str, target: Tensor, c: int, ignore_index: int) -> None:
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
        raise TypeError(
            f"{op}: ignore_index must be an int, got {ignore_index!r}; PyTorch's legacy size_average "
            "and reduce arguments are not supported (pass reduction= by keyword)"
        )
    if target.numel() == 0 or not has_data(target):
        return
    valid = E.ne(target, ignore_index)
    # one read of the device on the common path: whether any kept target is out of range
    if not bool(E.logical_and(valid, E.logical_or(E.lt(target, 0), E.ge(target, c))).any()):
        return
    t = E.where(valid, target, 0)
    lo, hi = int(t.min().item()), int(t.max().item())
    if lo < 0 or hi >= c:
        bad = lo if lo < 0 else hi
        raise IndexError(
            f"{op}: target {bad} is out of bounds for {c} classes (valid: 0 .. {c - 1}, or "
            f"ignore_index={ignore_index})"
        )


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices ``target`` under log-probabilities ``input``
    ((N, C) or (N, C, d1, ...); target (N,) or (N, d1, ...)). With ``reduction='mean'`` the result is
    divided by the total weight of the non-ignored targets."""
    return _nll_loss("nll_loss", input, target, weight, ignore_index, reduction)


def _nll_loss(
    op: str, input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int, reduction: str
) -> Tensor:
    """:func:`nll_loss` with errors naming ``op`` (cross_entropy's are its own; its targets are
    checked once)."""
    _check_reduction(op, reduction)
    if target.dtype.is_floating_point:
        raise TypeError(
            f"{op}: expected integer class indices as target, got {target.dtype}; for class "
            "probabilities use cross_entropy"
        )
    c = input.shape[1] if input.ndim >= 2 else input.shape[0]
    expect = (input.shape[0],) + input.shape[2:] if input.ndim >= 2 else ()
    if tuple(target.shape) != expect:
        raise ValueError(
            f"{op}: expected target of shape {expect} for input of shape {input.shape}, got {target.shape}"
        )
    _check_targets(op, target, c, ignore_index)
    logp = _class_last(input)
    t = target.reshape(-1)
    valid = E.ne(t, ignore_index)
    safe = E.where(valid, t, 0)
    picked = E.gather(logp, 1, safe.unsqueeze(1)).squeeze(1)
    w = valid.to(input.dtype)
    if weight is not None:
        if weight.shape != (c,):
            raise ValueError(f"{op}: weight has shape {weight.shape}, expected ({c},) (one per class)")
        w = w * E.index_select(weight, 0, safe)
    loss = -picked * w
    if reduction == "none":
        return loss.reshape(target.shape)
    if reduction == "sum":
        return loss.sum()
    return _weighted_mean(loss, w.sum())


def _weighted_mean(loss: Tensor, total: Tensor) -> Tensor:
    """``loss.sum() / total``; when every target is ignored (``total`` 0) the result is NaN but the
    gradient zero, as in PyTorch, rather than a NaN gradient (0 * inf) that poisons the parameters."""
    empty = E.eq(total, 0)
    return E.where(empty, math.nan, (loss / E.where(empty, 1.0, total)).sum())


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross entropy between logits ``input`` ((N, C) or (N, C, d1, ...)) and ``target``: class
    indices ((N,) or (N, d1, ...), integer) or class probabilities (same shape as input, float).
    Matches PyTorch, including ``ignore_index``, ``weight`` and ``label_smoothing``."""
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    if input.ndim == 0:
        raise ValueError("cross_entropy: expected input of shape (N, C) or (C,), got a 0-d tensor")
    unbatched = input.ndim == 1
    if unbatched:
        input = input.unsqueeze(0)
        target = target.unsqueeze(0)
    c = input.shape[1]
    logp = E.log_softmax(input, 1)
    if target.dtype.is_floating_point:
        if target.shape != input.shape:
            raise ValueError(
                f"cross_entropy: class-probability target must have the input's shape "
                f"{tuple(input.shape)}, got {tuple(target.shape)}"
            )
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / c
        wshape = (1, c) + (1,) * (input.ndim - 2)
        prod = logp * target
        if weight is not None:
            prod = prod * weight.reshape(wshape)
        loss = -prod.sum(1)
        if unbatched:
            loss = loss.squeeze(0)
        if reduction == "mean":
            return loss.sum() / (input.numel() // c)
        return _reduce(loss, reduction)
    if target.ndim != input.ndim - 1:
        raise ValueError(
            f"cross_entropy: expected target of shape {(input.shape[0],) + input.shape[2:]} "
            f"(class indices) or {tuple(input.shape)} (probabilities) for input of shape "
            f"{tuple(input.shape)}, got {tuple(target.shape)}"
        )
    nll = _nll_loss("cross_entropy", logp, target, weight, ignore_index, reduction)
    if label_smoothing > 0:
        lp = _class_last(logp)
        t = target.reshape(-1)
        valid = E.ne(t, ignore_index)
        smooth = -(lp * weight).sum(1) if weight is not None else -lp.sum(1)
        smooth = E.where(valid, smooth, 0.0)
        if reduction == "mean":
            if weight is not None:
                denom = (E.index_select(weight, 0, E.where(valid, t, 0)) * valid.to(weight.dtype)).sum()
            else:
                denom = valid.to(input.dtype).sum()
            sm = _weighted_mean(smooth, denom)
        elif reduction == "sum":
            sm = smooth.sum()
        else:
            sm = smooth.reshape(target.shape)
        nll = nll * (1 - label_smoothing) + sm * (label_smoothing / c)
    if unbatched and reduction == "none":
        nll = nll.squeeze(0)
    return nll


def _check_same_shape(op: str, input: Tensor, target: Tensor) -> None:
    if input.shape != target.shape:
        raise ValueError(
            f"{op}: input of shape {tuple(input.shape)} and target of shape "
            f"{tuple(target.shape)} "
            "differ; make them the same shape (e.g. target.reshape(input.shape))"
        )


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error."""
    _check_reduction("mse_loss", reduction)
    _check_same_shape("mse_loss", input, target)
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean absolute error."""
    _check_reduction("l1_loss", reduction)
    _check_same_shape("l1_loss", input, target)
    return _reduce(E.abs(input - target), reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 * d^2 / beta where |d| < beta, |d| - 0.5 * beta elsewhere."""
    _check_reduction("smooth_l1_loss", reduction)
    _check_same_shape("smooth_l1_loss", input, target)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    d = E.abs(input - target)
    if beta == 0:
        return _reduce(d, reduction)
    loss = E.where(E.lt(d, beta), d * d * (0.5 / beta), d - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5 * d^2 where |d| < delta, delta * (|d| - 0.5 * delta) elsewhere."""
    _check_reduction("huber_loss", reduction)
    _check_same_shape("huber_loss", input, target)
    if delta < 0:
        raise ValueError(f"huber_loss: delta must be non-negative, got {delta}")
    return smooth_l1_loss(input, target, reduction, delta) * delta


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) for probabilities ``input`` (logs clamped at -100, as PyTorch)."""
    _check_reduction("binary_cross_entropy", reduction)
    _check_same_shape("binary_cross_entropy", input, target)
    if input.numel() and has_data(input):
        with no_grad():
            lo, hi = float(input.min().item()), float(input.max().item())
        if lo < 0 or hi > 1:
            raise ValueError(
                f"binary_cross_entropy: input values must be probabilities in [0, 1], got "
                f"values "
                f"in [{lo}, {hi}]; for logits use binary_cross_entropy_with_logits"
            )
    loss = _bce(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


_BCE_EPS = 9.999999960041972e-13  # PyTorch's EPSILON in the BCE backward: 1e-12 as a float32


def _bce(input: Tensor, target: Tensor) -> Tensor:
    """Elementwise -(t log p + (1 - t) log(1 - p)) (logs clamped at -100) with PyTorch's gradients:
    (p - t) / max(p (1 - p), 1e-12) for p and -logit(p) (unclamped) for t. (The composite's
    gradient would be NaN at p = 0 or 1, where the clamped log has 0 * inf.)"""
    with no_grad():
        logp, log1mp = E.clamp(E.log(input), -100), E.clamp(E.log(1 - input), -100)
        loss = -(target * logp + (1 - target) * log1mp)
    if STATE.enabled and (input.requires_grad or target.requires_grad):

        def backward(g: Tensor) -> tuple[Tensor | None, Tensor | None]:
            gi = gt = None
            if needs_input_grad(0):  # the inputs as recorded: (input, target)
                gi = g * (input - target) / E.clamp(input * (1 - input), _BCE_EPS)
            if needs_input_grad(1):
                gt = -g * E.log(input / (1 - input))
            return gi, gt

        attach(loss, "binary_cross_entropy", backward, (input, target), (input, target))
    return loss


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross entropy of ``sigmoid(input)``, computed stably from the logits."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    _check_same_shape("binary_cross_entropy_with_logits", input, target)
    # log(1 + exp(-|x|)) + max(-x, 0) == -log(sigmoid(x)), without overflow
    log_sig_neg = E.log1p(E.exp(-E.abs(input))) + E.clamp(-input, 0)
    if pos_weight is not None:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * log_sig_neg
    else:
        loss = (1 - target) * input + log_sig_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# -- divergence, margin and likelihood losses --------------------------------------------------------
def _legacy_reduction(op: str, size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """PyTorch's deprecated ``size_average`` / ``reduce`` flags mapped to a reduction (with its
    warning); ``reduction`` itself when both are None."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn(
        f"{op}: size_average and reduce are deprecated; pass reduction='mean', 'sum' or 'none' instead",
        UserWarning,
        stacklevel=3,
    )
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """KL divergence of ``target`` from the log-probabilities ``input``: ``target * (log(target) -
    input)`` (0 where target is 0), or ``exp(target) * (target - input)`` with ``log_target``.
    ``reduction='batchmean'`` divides the sum by the batch size (the mathematically right mean);
    'mean' averages over every element, with PyTorch's warning."""
    reduction = _legacy_reduction("kl_div", size_average, reduce, reduction)
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(
            f"kl_div: reduction must be one of 'mean', 'batchmean', 'sum' or 'none', got {reduction!r}"
        )
    if reduction == "mean":
        warnings.warn(
            "kl_div: reduction='mean' divides the total loss by both the batch size and the support "
            "size; 'batchmean' divides only by the batch size, which is the KL divergence's "
            "definition. 'mean' will change to behave like 'batchmean' in a later PyTorch release.",
            UserWarning,
            stacklevel=2,
        )
    if log_target:
        loss = E.exp(target) * (target - input)
    else:
        # xlogy(t, t): the log of a safe 1 where t is 0, so neither value nor gradient is NaN
        positive = E.gt(target, 0)
        loss = E.where(positive, target * E.log(E.where(positive, target, 1.0)), 0.0) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


def soft_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Two-class logistic loss ``log(1 + exp(-target * input))`` for targets of 1 or -1."""
    reduction = _legacy_reduction("soft_margin_loss", size_average, reduce, reduction)
    _check_reduction("soft_margin_loss", reduction)
    _check_same_shape("soft_margin_loss", input, target)
    z = -target * input
    # log1p(exp(z)) without overflow: max(z, 0) + log1p(exp(-|z|))
    return _reduce(E.clamp(z, 0) + E.log1p(E.exp(-E.abs(z))), reduction)


def _logsigmoid(x: Tensor) -> Tensor:
    return E.clamp(x, max=0.0) - E.log1p(E.exp(-E.abs(x)))


def multilabel_soft_margin_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-label one-versus-all logistic loss of (N, C) (or (C,)) logits against 0/1 targets: the
    binary cross entropy of each class, weighted by ``weight``, averaged over the classes."""
    reduction = _legacy_reduction("multilabel_soft_margin_loss", size_average, reduce, reduction)
    _check_reduction("multilabel_soft_margin_loss", reduction)
    _check_same_shape("multilabel_soft_margin_loss", input, target)
    if input.ndim == 0:
        raise ValueError(
            "multilabel_soft_margin_loss: expected a 1-D (C,) or 2-D (N, C) input, got a 0-d tensor"
        )
    loss = -(target * _logsigmoid(input) + (1 - target) * _logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(-1) / input.shape[-1]
    return _reduce(loss, reduction)


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``: target 1 ranks input1 first, -1 input2."""
    reduction = _legacy_reduction("margin_ranking_loss", size_average, reduce, reduction)
    _check_reduction("margin_ranking_loss", reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise ValueError(
            f"margin_ranking_loss: all inputs must have the same number of dims, got shapes "
            f"{tuple(input1.shape)}, {tuple(input2.shape)} and {tuple(target.shape)}"
        )
    return _reduce(E.clamp(-target * (input1 - input2) + margin, 0), reduction)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``max(d(a, p) - d(a, n) + margin, 0)`` with d the pairwise ``p``-distance (plus ``eps``) over
    the last dim; with ``swap`` d(a, n) is replaced by d(p, n) where that is smaller."""
    from .distance import pairwise_distance

    reduction = _legacy_reduction("triplet_margin_loss", size_average, reduce, reduction)
    _check_reduction("triplet_margin_loss", reduction)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ValueError(
            f"triplet_margin_loss: anchor, positive and negative must have the same number of dims, got "
            f"shapes {tuple(anchor.shape)}, {tuple(positive.shape)} and {tuple(negative.shape)}"
        )
    if anchor.ndim not in (1, 2):
        raise ValueError(
            f"triplet_margin_loss: expected 1-D (D,) or 2-D (N, D) inputs, got shape {tuple(anchor.shape)}"
        )
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")
    d_ap = pairwise_distance(anchor, positive, p, eps)
    d_an = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_an = E.minimum(d_an, pairwise_distance(positive, negative, p, eps))
    return _reduce(E.clamp(margin + d_ap - d_an, 0), reduction)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``1 - cos(x1, x2)`` where target is 1, ``max(0, cos(x1, x2) - margin)`` where it is -1; the
    cosine along dim 1 of (N, D) inputs (dim 0 of (D,) inputs), each squared norm plus 1e-12, as
    PyTorch."""
    reduction = _legacy_reduction("cosine_embedding_loss", size_average, reduce, reduction)
    _check_reduction("cosine_embedding_loss", reduction)
    if input1.shape != input2.shape or input1.ndim not in (1, 2):
        raise ValueError(
            f"cosine_embedding_loss: expected two 1-D (D,) or 2-D (N, D) inputs of the same shape, got "
            f"{tuple(input1.shape)} and {tuple(input2.shape)}"
        )
    if target.ndim != input1.ndim - 1:
        raise ValueError(
            f"cosine_embedding_loss: expected a {input1.ndim - 1}-D target for {input1.ndim}-D inputs, "
            f"got shape {tuple(target.shape)}"
        )
    d = input1.ndim - 1
    eps = 1e-12
    norms = E.sqrt(((input1 * input1).sum(d) + eps) * ((input2 * input2).sum(d) + eps))
    cos = (input1 * input2).sum(d) / norms
    zeros = E.zeros_like(cos)
    positive = E.where(E.eq(target, 1), 1 - cos, zeros)
    loss = positive + E.where(E.eq(target, -1), E.clamp(cos - margin, 0), zeros)
    return _reduce(loss, reduction)


def poisson_nll_loss(
    input: Tensor,
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of a Poisson ``target``: ``exp(input) - target * input`` for a log
    rate ``input`` (``log_input``), else ``input - target * log(input + eps)``; ``full`` adds
    Stirling's approximation of log(target!) where target > 1."""
    reduction = _legacy_reduction("poisson_nll_loss", size_average, reduce, reduction)
    _check_reduction("poisson_nll_loss", reduction)
    if log_input:
        loss = E.exp(input) - target * input
    else:
        loss = input - target * E.log(input + eps)
    if full:
        big = E.gt(target, 1)
        t = E.where(big, target, 2.0)  # a safe value where the term is masked out
        stirling = t * E.log(t) - t + 0.5 * E.log(2 * math.pi * t)
        loss = loss + E.where(big, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(
    input: Tensor,
    target: Tensor,
    var: Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of ``target`` under N(``input``, ``var``):
    ``0.5 * (log(max(var, eps)) + (input - target)^2 / max(var, eps))`` (plus ``0.5 * log(2 pi)``
    with ``full``). ``var`` has the input's shape, or lacks its last dim, or has a last dim of 1
    (one variance for every feature), or is a number. The clamp at ``eps`` changes the value, not
    the gradient, as PyTorch's."""
    _check_reduction("gaussian_nll_loss", reduction)
    if not isinstance(var, Tensor):
        var = E.full_like(input, float(var))
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.shape[:-1] == var.shape[:-1] and var.ndim and var.shape[-1] == 1):
            raise ValueError(
                f"gaussian_nll_loss: var of shape {tuple(var.shape)} does not fit input of shape "
                f"{tuple(input.shape)}; give it the input's shape, the input's shape without the last "
                "dim, or a last dim of 1"
            )
    if has_data(var) and var.numel():
        with no_grad():
            negative = bool(E.lt(var, 0).any())
        if negative:
            raise ValueError("gaussian_nll_loss: var has negative entries; variances must be >= 0")
    clamped = var + (E.clamp(var, eps) - var).detach()
    loss = 0.5 * (E.log(clamped) + (input - target) ** 2 / clamped)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


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
def _np_class_loss(
    x: Any,
    t: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    log_probs: bool = False,
) -> Any:
    """Reference cross entropy (or, with ``log_probs``, nll_loss on ``x`` as given) by PyTorch's
    definition: the loss of each sample is -sum_c w_c q_c log p_c, with q the target distribution
    ((1 - label_smoothing) one-hot or the given probabilities, plus label_smoothing / C); 'mean'
    divides by the total weight w_{t_n} of the non-ignored class-index targets, or by the number of
    samples for probability targets."""
    import numpy as np

    x64 = x.astype(np.float64)
    unbatched = x.ndim == 1
    if unbatched:
        x64, t = x64[None], t[None]
    c = x64.shape[1]
    if log_probs:
        logp = x64
    else:
        m = x64.max(axis=1, keepdims=True) if x64.size else 0.0
        logp = x64 - m - np.log(np.exp(x64 - m).sum(axis=1, keepdims=True))
    lp = np.moveaxis(logp, 1, -1)  # (N, d1, ..., C)
    w = np.ones(c) if weight is None else weight.astype(np.float64)
    eps = label_smoothing
    if t.dtype.kind == "f":
        q = np.moveaxis(t.astype(np.float64), 1, -1) * (1 - eps) + eps / c
        loss = -(w * q * lp).sum(-1)
        if unbatched:
            loss = loss[0]
        if reduction == "mean":
            return loss.sum() / loss.size if loss.size else np.nan
        return loss.sum() if reduction == "sum" else loss
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    wt = w[safe] * valid
    picked = np.take_along_axis(lp, safe[..., None], -1)[..., 0]
    loss = (1 - eps) * (-picked * wt) + (eps / c) * (-(lp * w).sum(-1) * valid)
    if unbatched:
        loss = loss[0]
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / wt.sum() if wt.sum() else np.nan


def _records() -> None:
    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import ErrorSample, Sample, rand_array

    def targets(
        rng: np.random.Generator, shape: tuple[int, ...], c: int, ignore: int | None = None
    ) -> np.ndarray:
        t = rng.integers(0, c, size=shape).astype(np.int64)
        if ignore is not None and t.size:
            t.reshape(-1)[::3] = ignore  # every third target ignored
        return t

    def probs(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
        e = rng.random(shape) + 0.1
        return (e / e.sum(axis=1, keepdims=True)).astype(dtype)

    def cross_entropy_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        def w(c: int) -> np.ndarray:
            return rand_array(rng, (c,), dtype, 0.5, 2.0)

        return [
            Sample((a(3, 4), targets(rng, (3,), 4))),
            Sample((a(3, 4), targets(rng, (3,), 4), w(4)), {"reduction": "sum"}),
            Sample((a(4, 3), targets(rng, (4,), 3, -100)), {"reduction": "none"}),
            Sample((a(4, 3), targets(rng, (4,), 3, 1), w(3)), {"ignore_index": 1}),
            Sample((a(3, 4), targets(rng, (3,), 4)), {"label_smoothing": 0.2}),
            Sample((a(4, 3), targets(rng, (4,), 3, -100), w(3)), {"label_smoothing": 0.1}),
            Sample((a(2, 3, 2), targets(rng, (2, 2), 3), w(3))),  # (N, C, d1)
            Sample((a(3, 4), probs(rng, (3, 4), dtype))),  # class probabilities
            Sample((a(2, 3), probs(rng, (2, 3), dtype), w(3)), {"label_smoothing": 0.3}),
            Sample((a(4), np.asarray(2, dtype=np.int64))),  # unbatched
            Sample(
                (a(5, 6), targets(rng, (5,), 6, 2), w(6)),
                {"ignore_index": 2, "label_smoothing": 0.1},
                grad=False,
            ),
            Sample(
                (a(5, 6), targets(rng, (5,), 6, -100), w(6)),
                {"label_smoothing": 0.25, "reduction": "sum"},
                grad=False,
            ),
            Sample(
                (a(5, 6), targets(rng, (5,), 6)), {"label_smoothing": 0.1, "reduction": "none"}, grad=False
            ),
            Sample((a(2, 4, 3, 2), targets(rng, (2, 3, 2), 4, -100), w(4)), grad=False),
            Sample(
                (a(2, 4, 3, 2), targets(rng, (2, 3, 2), 4)),
                {"reduction": "none", "label_smoothing": 0.2},
                grad=False,
            ),
            Sample((a(2, 4, 3), probs(rng, (2, 4, 3), dtype)), {"reduction": "none"}, grad=False),
            Sample((a(2, 4, 3), probs(rng, (2, 4, 3), dtype), w(4)), {"reduction": "sum"}, grad=False),
            Sample((a(5), probs(rng, (1, 5), dtype)[0]), {"reduction": "none"}, grad=False),
            Sample(
                (a(6), np.asarray(0, dtype=np.int64)),
                {"reduction": "none", "label_smoothing": 0.1},
                grad=False,
            ),
            # every target ignored: the mean is NaN (0 / 0), the sum 0
            Sample((a(3, 4), np.full((3,), -100, dtype=np.int64)), grad=False),
            Sample((a(3, 4), np.full((3,), -100, dtype=np.int64)), {"reduction": "sum"}, grad=False),
            Sample((a(0, 4), np.zeros((0,), dtype=np.int64)), {"reduction": "sum"}, grad=False),
            Sample((a(5, 4), targets(rng, (5,), 4), w(4)), noncontig=True, grad=False),
            Sample((a(4, 3), probs(rng, (3, 4), dtype).T.copy()), noncontig=True),
            Sample(
                (a(4, 5), targets(rng, (4,), 5, -100)), {"label_smoothing": 0.1}, noncontig="flip", grad=False
            ),
        ]

    def cross_entropy_ref(
        x: np.ndarray,
        t: np.ndarray,
        weight: np.ndarray | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> np.ndarray:
        return _np_class_loss(x, t, weight, ignore_index, reduction, label_smoothing)

    def nll_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -3.0, 0.0)

        def w(c: int) -> np.ndarray:
            return rand_array(rng, (c,), dtype, 0.5, 2.0)

        return [
            Sample((a(3, 4), targets(rng, (3,), 4))),
            Sample((a(3, 4), targets(rng, (3,), 4), w(4)), {"reduction": "sum"}),
            Sample((a(4, 3), targets(rng, (4,), 3, -100), w(3))),
            Sample((a(4, 3), targets(rng, (4,), 3, 0)), {"ignore_index": 0, "reduction": "none"}),
            Sample((a(2, 3, 2), targets(rng, (2, 2), 3))),
            Sample((a(4), np.asarray(1, dtype=np.int64))),  # unbatched
            Sample(
                (a(2, 4, 3, 2), targets(rng, (2, 3, 2), 4, -100), w(4)), {"reduction": "none"}, grad=False
            ),
            Sample((a(6, 5), targets(rng, (6,), 5, 3), w(5)), {"ignore_index": 3}, grad=False),
            Sample((a(5), np.asarray(4, dtype=np.int64), w(5)), {"reduction": "none"}, grad=False),
            Sample((a(3, 4), np.full((3,), -100, dtype=np.int64)), grad=False),  # all ignored: NaN
            Sample((a(0, 4), np.zeros((0,), dtype=np.int64)), {"reduction": "none"}, grad=False),
            Sample((a(5, 4), targets(rng, (5,), 4), w(4)), noncontig=True, grad=False),
            Sample((a(3, 2), targets(rng, (3,), 2)), noncontig=True),
            Sample(
                (a(4, 5), targets(rng, (4,), 5, -100)), {"reduction": "sum"}, noncontig="flip", grad=False
            ),
        ]

    def nll_ref(
        x: np.ndarray,
        t: np.ndarray,
        weight: np.ndarray | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
    ) -> np.ndarray:
        return _np_class_loss(x, t, weight, ignore_index, reduction, log_probs=True)

    def pair_samples(low: float = -2.0, high: float = 2.0, **extra: Any) -> Any:
        """(input, target) pairs of one shape with every reduction; ``extra`` in every call."""

        def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
            def a(*s: int) -> np.ndarray:
                return rand_array(rng, s, dtype, low, high)

            return [
                Sample((a(3, 4), a(3, 4)), dict(extra)),
                Sample((a(2, 3), a(2, 3)), dict(extra, reduction="sum")),
                Sample((a(2, 3), a(2, 3)), dict(extra, reduction="none")),
                Sample((a(), a()), dict(extra)),
                Sample((a(2, 3, 4), a(2, 3, 4)), dict(extra, reduction="none"), grad=False),
                Sample((a(0, 3), a(0, 3)), dict(extra, reduction="sum"), grad=False),
                Sample((a(4, 3), a(4, 3)), dict(extra), noncontig=True),
                Sample((a(3, 5), a(3, 5)), dict(extra, reduction="none"), noncontig="flip", grad=False),
            ]

        return make

    def joined(*fns: Any) -> Any:
        return lambda dtype, rng: [s for f in fns for s in f(dtype, rng)]

    def reduce_ref(loss: np.ndarray, reduction: str) -> np.ndarray:
        if reduction == "mean":
            return loss.mean()
        return loss.sum() if reduction == "sum" else loss

    def mse_ref(x: np.ndarray, y: np.ndarray, reduction: str = "mean") -> np.ndarray:
        return reduce_ref((x.astype(np.float64) - y) ** 2, reduction)

    def l1_ref(x: np.ndarray, y: np.ndarray, reduction: str = "mean") -> np.ndarray:
        return reduce_ref(np.abs(x.astype(np.float64) - y), reduction)

    def smooth_l1_ref(x: np.ndarray, y: np.ndarray, reduction: str = "mean", beta: float = 1.0) -> np.ndarray:
        d = np.abs(x.astype(np.float64) - y)
        loss = d if beta == 0 else np.where(d < beta, 0.5 * d**2 / beta, d - 0.5 * beta)
        return reduce_ref(loss, reduction)

    def huber_ref(x: np.ndarray, y: np.ndarray, reduction: str = "mean", delta: float = 1.0) -> np.ndarray:
        d = np.abs(x.astype(np.float64) - y)
        return reduce_ref(np.where(d < delta, 0.5 * d**2, delta * (d - 0.5 * delta)), reduction)

    def bce_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def p(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, 0.05, 0.95)

        def hard(*s: int) -> np.ndarray:
            return (rng.random(s) < 0.5).astype(dtype)

        def w(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, 0.5, 2.0)

        edge = p(2, 4)
        edge[0, :2] = (0.0, 1.0)  # log(0) is clamped to -100
        edge_t = hard(2, 4)
        edge_t[0, :2] = (1.0, 0.0)
        return [
            Sample((p(3, 4), p(3, 4))),  # soft targets
            Sample((p(2, 3), hard(2, 3), w(3)), {"reduction": "sum"}),
            Sample((p(2, 3), hard(2, 3)), {"reduction": "none"}),
            Sample((p(), p())),
            Sample((p(3, 4), hard(3, 4), w(3, 4)), grad=False),
            Sample((p(2, 3, 2), p(2, 3, 2), w(3, 1)), {"reduction": "none"}, grad=False),
            Sample((edge, edge_t), {"reduction": "none"}, grad=False),
            Sample((edge, 1 - edge_t), {"reduction": "sum"}, grad=False),
            Sample((p(0, 3), p(0, 3)), {"reduction": "sum"}, grad=False),
            Sample((p(4, 3), p(4, 3)), noncontig=True),
            Sample((p(3, 5), hard(3, 5), w(5)), {"reduction": "none"}, noncontig="flip", grad=False),
        ]

    def bce_ref(
        x: np.ndarray, t: np.ndarray, weight: np.ndarray | None = None, reduction: str = "mean"
    ) -> np.ndarray:
        x = x.astype(np.float64)
        with np.errstate(divide="ignore"):
            loss = -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log(1 - x), -100))
        return reduce_ref(loss if weight is None else loss * weight, reduction)

    def bce_logits_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -3.0, 3.0)

        def t(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, 0.0, 1.0)

        def w(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, 0.5, 2.0)

        big = a(2, 4) * 20  # logits up to +-60: exp would overflow in float32 without the stable form
        return [
            Sample((a(3, 4), t(3, 4))),
            Sample((a(2, 3), t(2, 3), w(3)), {"reduction": "sum"}),
            Sample((a(2, 3), t(2, 3), None, "none", w(3))),  # pos_weight
            Sample((a(), t())),
            Sample((a(3, 4), t(3, 4), w(3, 4), "mean", w(4)), grad=False),
            Sample((a(2, 3, 2), t(2, 3, 2), None, "sum", w(2)), grad=False),
            Sample((big, (rng.random((2, 4)) < 0.5).astype(dtype)), {"reduction": "none"}, grad=False),
            Sample((a(0, 3), t(0, 3)), {"reduction": "sum"}, grad=False),
            Sample((a(4, 3), t(4, 3), w(4, 3)), noncontig=True),
            Sample((a(3, 5), t(3, 5)), {"reduction": "none"}, noncontig="flip", grad=False),
        ]

    def bce_logits_ref(
        x: np.ndarray,
        t: np.ndarray,
        weight: np.ndarray | None = None,
        reduction: str = "mean",
        pos_weight: np.ndarray | None = None,
    ) -> np.ndarray:
        # -(pos_weight * t * log(sigmoid(x)) + (1 - t) * log(1 - sigmoid(x))), the logs as logaddexp
        x = x.astype(np.float64)
        log_sig, log_one_minus_sig = -np.logaddexp(0, -x), -np.logaddexp(0, x)
        pw = 1.0 if pos_weight is None else pos_weight
        loss = -(pw * t * log_sig + (1 - t) * log_one_minus_sig)
        return reduce_ref(loss if weight is None else loss * weight, reduction)

    def shape_error(op: str) -> ErrorSample:
        return ErrorSample(
            (np.ones((2, 3)), np.ones((3, 2))), {}, ValueError, f"{op}: input of shape \\(2, 3\\) and target"
        )

    def reduction_error(op: str) -> ErrorSample:
        return ErrorSample(
            (np.ones(3), np.ones(3)), {"reduction": "avg"}, ValueError, f"{op}: reduction must be one of"
        )

    # -- divergence, margin and likelihood losses
    def sign_targets(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
        return np.where(rng.random(shape) > 0.5, 1.0, -1.0).astype(dtype)

    def np_logsigmoid(x: np.ndarray) -> np.ndarray:
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    def np_reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
        return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](loss)

    def kl_div_ref(
        x: np.ndarray,
        t: np.ndarray,
        size_average: Any = None,
        reduce: Any = None,
        reduction: str = "mean",
        log_target: bool = False,
    ) -> np.ndarray:
        if log_target:
            loss = np.exp(t) * (t - x)
        else:
            loss = np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0)), 0.0) - t * x
        if reduction == "batchmean":
            return loss.sum() / (x.shape[0] if x.ndim else 1)
        return np_reduce(loss, reduction)

    def kl_div_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def logp(*s: int) -> np.ndarray:
            return np.log(probs(rng, s, dtype)).astype(dtype)

        with_zero = probs(rng, (3, 4), dtype)
        with_zero[0, 1] = 0  # a zero target: its term is 0
        return [
            Sample((logp(3, 4), probs(rng, (3, 4), dtype)), {"reduction": "batchmean"}),
            Sample((logp(3, 4), probs(rng, (3, 4), dtype)), {"reduction": "sum"}),
            Sample((logp(2, 3, 2), probs(rng, (2, 3, 2), dtype)), {"reduction": "none"}),
            Sample((logp(3, 4), logp(3, 4)), {"reduction": "batchmean", "log_target": True}),
            Sample((logp(3, 4), with_zero), {"reduction": "sum"}, grad=False),
            Sample((logp(4, 3), probs(rng, (4, 3), dtype)), {"reduction": "batchmean"}, noncontig=True),
        ]

    def soft_margin_ref(
        x: np.ndarray, y: np.ndarray, size_average: Any = None, reduce: Any = None, reduction: str = "mean"
    ) -> np.ndarray:
        return np_reduce(np.log1p(np.exp(-y * x)), reduction)

    def soft_margin_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -3, 3)

        return [
            Sample((a(3, 4), sign_targets(rng, (3, 4), dtype))),
            Sample((a(5), sign_targets(rng, (5,), dtype)), {"reduction": "sum"}),
            Sample((a(2, 3), sign_targets(rng, (2, 3), dtype)), {"reduction": "none"}),
            Sample((a(0, 3), sign_targets(rng, (0, 3), dtype)), {"reduction": "sum"}, grad=False),
            Sample((a(4, 3), sign_targets(rng, (4, 3), dtype)), noncontig=True),
        ]

    def multilabel_ref(
        x: np.ndarray,
        y: np.ndarray,
        weight: Any = None,
        size_average: Any = None,
        reduce: Any = None,
        reduction: str = "mean",
    ) -> np.ndarray:
        loss = -(y * np_logsigmoid(x) + (1 - y) * np_logsigmoid(-x))
        if weight is not None:
            loss = loss * weight
        return np_reduce(loss.sum(-1) / x.shape[-1], reduction)

    def multilabel_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -3, 3)

        def y(*s: int) -> np.ndarray:
            return (rng.random(s) > 0.5).astype(dtype)

        return [
            Sample((a(3, 4), y(3, 4))),
            Sample((a(3, 4), y(3, 4), rand_array(rng, (4,), dtype, 0.5, 2))),
            Sample((a(5), y(5)), {"reduction": "sum"}),
            Sample((a(2, 3), y(2, 3)), {"reduction": "none"}),
            Sample((a(4, 3), y(4, 3)), noncontig=True),
        ]

    def ranking_ref(
        x1: np.ndarray,
        x2: np.ndarray,
        y: np.ndarray,
        margin: float = 0.0,
        size_average: Any = None,
        reduce: Any = None,
        reduction: str = "mean",
    ) -> np.ndarray:
        return np_reduce(np.maximum(0, -y * (x1 - x2) + margin), reduction)

    def ranking_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(6), a(6), sign_targets(rng, (6,), dtype))),
            Sample((a(6), a(6), sign_targets(rng, (6,), dtype)), {"margin": 0.5, "reduction": "sum"}),
            Sample((a(2, 3), a(2, 3), sign_targets(rng, (2, 3), dtype)), {"reduction": "none"}),
            Sample((a(4, 3), a(4, 3), sign_targets(rng, (4, 3), dtype)), noncontig=True),
        ]

    def np_dist(a: np.ndarray, b: np.ndarray, p: float, eps: float) -> np.ndarray:
        return np.linalg.norm(a - b + eps, ord=p, axis=-1)

    def triplet_ref(
        a: np.ndarray,
        pos: np.ndarray,
        neg: np.ndarray,
        margin: float = 1.0,
        p: float = 2,
        eps: float = 1e-6,
        swap: bool = False,
        size_average: Any = None,
        reduce: Any = None,
        reduction: str = "mean",
    ) -> np.ndarray:
        d_an = np_dist(a, neg, p, eps)
        if swap:
            d_an = np.minimum(d_an, np_dist(pos, neg, p, eps))
        return np_reduce(np.maximum(margin + np_dist(a, pos, p, eps) - d_an, 0), reduction)

    def triplet_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(4, 3), a(4, 3), a(4, 3)), {"margin": 2.0}),
            Sample((a(4, 3), a(4, 3), a(4, 3)), {"p": 1, "swap": True, "margin": 2.0}),
            Sample((a(5), a(5), a(5)), {"reduction": "sum", "margin": 3.0}),
            Sample((a(3, 2), a(3, 2), a(3, 2)), {"reduction": "none", "margin": 2.0}),
            Sample((a(4, 3), a(4, 3), a(4, 3)), {"margin": 2.0}, noncontig=True),
        ]

    def cosine_embedding_ref(
        x1: np.ndarray,
        x2: np.ndarray,
        y: np.ndarray,
        margin: float = 0.0,
        size_average: Any = None,
        reduce: Any = None,
        reduction: str = "mean",
    ) -> np.ndarray:
        d = x1.ndim - 1
        cos = (x1 * x2).sum(d) / np.sqrt(((x1 * x1).sum(d) + 1e-12) * ((x2 * x2).sum(d) + 1e-12))
        loss = np.where(y == 1, 1 - cos, 0.0) + np.where(y == -1, np.maximum(cos - margin, 0), 0.0)
        return np_reduce(loss, reduction)

    def cosine_embedding_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(5, 3), a(5, 3), sign_targets(rng, (5,), dtype))),
            Sample((a(5, 3), a(5, 3), sign_targets(rng, (5,), dtype)), {"margin": -0.5, "reduction": "sum"}),
            Sample((a(4), a(4), np.asarray(-1.0, dtype=dtype)), {"reduction": "none"}),
            Sample((a(4, 3), a(4, 3), sign_targets(rng, (4,), dtype)), noncontig=True),
        ]

    def poisson_ref(
        x: np.ndarray,
        t: np.ndarray,
        log_input: bool = True,
        full: bool = False,
        size_average: Any = None,
        eps: float = 1e-8,
        reduce: Any = None,
        reduction: str = "mean",
    ) -> np.ndarray:
        loss = np.exp(x) - t * x if log_input else x - t * np.log(x + eps)
        if full:
            ts = np.where(t > 1, t, 2.0)
            loss = loss + np.where(t > 1, ts * np.log(ts) - ts + 0.5 * np.log(2 * np.pi * ts), 0.0)
        return np_reduce(loss, reduction)

    def poisson_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -1, 1)

        def counts(*s: int) -> np.ndarray:
            # off the integers, away from the Stirling term's switch at 1 (for the gradcheck)
            return (rng.integers(0, 5, s) + 0.25).astype(dtype)

        return [
            Sample((a(3, 4), counts(3, 4))),
            Sample((a(3, 4), counts(3, 4)), {"full": True, "reduction": "sum"}),
            Sample((rand_array(rng, (5,), dtype, 0.5, 3), counts(5)), {"log_input": False}),
            Sample(
                (rand_array(rng, (2, 3), dtype, 0.5, 3), counts(2, 3)),
                {"log_input": False, "full": True, "reduction": "none"},
            ),
            Sample((a(4, 3), counts(4, 3)), noncontig=True),
        ]

    def gaussian_ref(
        x: np.ndarray, t: np.ndarray, var: Any, full: bool = False, eps: float = 1e-6, reduction: str = "mean"
    ) -> np.ndarray:
        var = np.asarray(var, dtype=np.float64)
        if var.shape != x.shape and x.shape[:-1] == var.shape:
            var = var[..., None]
        v = np.maximum(var, eps)
        loss = 0.5 * (np.log(v) + (x - t) ** 2 / v)
        if full:
            loss = loss + 0.5 * np.log(2 * np.pi)
        return np_reduce(np.broadcast_to(loss, np.broadcast_shapes(loss.shape, x.shape)), reduction)

    def gaussian_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        def v(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, 0.2, 2.0)

        return [
            Sample((a(3, 4), a(3, 4), v(3, 4))),
            Sample((a(3, 4), a(3, 4), v(3)), {"full": True, "reduction": "sum"}),  # one variance per row
            Sample((a(3, 4), a(3, 4), v(3, 1)), {"reduction": "none"}),
            Sample((a(2, 3), a(2, 3), v(2, 3)), {"eps": 0.5}),  # variances clamped at eps
            Sample((a(4, 3), a(4, 3), v(4, 3)), noncontig=True),
        ]

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
            "nn.functional.cross_entropy",
            cross_entropy,
            cross_entropy_samples,
            cross_entropy_ref,
            errors=(
                ErrorSample(
                    (np.ones((2, 3)), np.array([0, 3], dtype=np.int64)),
                    {},
                    IndexError,
                    "cross_entropy: target 3 is out of bounds for 3 classes",
                ),
                ErrorSample(
                    (np.ones((2, 3)), np.array([0, 1], dtype=np.int64)),
                    {"label_smoothing": 1.5},
                    ValueError,
                    "cross_entropy: label_smoothing must be between 0.0 and 1.0, got 1.5",
                ),
                ErrorSample(
                    (np.ones((2, 3)), np.ones((3, 2))),
                    {},
                    ValueError,
                    "cross_entropy: class-probability target must have the input's shape",
                ),
                ErrorSample(
                    (np.ones((2, 3)), np.array([0, 1], dtype=np.int64)),
                    {"reduction": "avg"},
                    ValueError,
                    "cross_entropy: reduction must be one of",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.nll_loss",
            nll_loss,
            nll_samples,
            nll_ref,
            errors=(
                ErrorSample(
                    (np.ones((2, 3)), np.array([0, -1], dtype=np.int64)),
                    {},
                    IndexError,
                    "nll_loss: target -1 is out of bounds for 3 classes",
                ),
                ErrorSample(
                    (np.ones((2, 3)), np.array([0, 1, 2], dtype=np.int64)),
                    {},
                    ValueError,
                    "nll_loss: expected target of shape \\(2,\\)",
                ),
                ErrorSample(
                    (np.ones((2, 3)), np.array([0.0, 1.0])),
                    {},
                    TypeError,
                    "nll_loss: expected integer class indices as target",
                ),
                ErrorSample(
                    (np.ones((2, 3)), np.array([0, 1], dtype=np.int64), np.ones(2)),
                    {},
                    ValueError,
                    "nll_loss: weight has shape \\(2,\\), expected \\(3,\\)",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.mse_loss",
            mse_loss,
            pair_samples(),
            mse_ref,
            errors=(shape_error("mse_loss"), reduction_error("mse_loss")),
        ),
        OpRecord(
            "nn.functional.l1_loss",
            l1_loss,
            pair_samples(),
            l1_ref,
            errors=(shape_error("l1_loss"), reduction_error("l1_loss")),
        ),
        OpRecord(
            "nn.functional.smooth_l1_loss",
            smooth_l1_loss,
            joined(pair_samples(), pair_samples(beta=0.5), pair_samples(beta=2.5), pair_samples(beta=0.0)),
            smooth_l1_ref,
            errors=(
                shape_error("smooth_l1_loss"),
                ErrorSample(
                    (np.ones(3), np.ones(3)),
                    {"beta": -1.0},
                    ValueError,
                    "smooth_l1_loss: beta must be non-negative",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.huber_loss",
            huber_loss,
            joined(pair_samples(), pair_samples(delta=0.5), pair_samples(delta=2.5)),
            huber_ref,
            errors=(
                shape_error("huber_loss"),
                reduction_error("huber_loss"),
                ErrorSample(
                    (np.ones(3), np.ones(3)),
                    {"delta": -1.0},
                    ValueError,
                    "huber_loss: delta must be non-negative",
                ),
            ),
        ),
        # input values outside [0, 1] raise a ValueError too, but only where the device holds
        # values, so that check is not among the error contracts (which run on shape-only devices)
        OpRecord(
            "nn.functional.binary_cross_entropy",
            binary_cross_entropy,
            bce_samples,
            bce_ref,
            errors=(shape_error("binary_cross_entropy"), reduction_error("binary_cross_entropy")),
        ),
        OpRecord(
            "nn.functional.binary_cross_entropy_with_logits",
            binary_cross_entropy_with_logits,
            bce_logits_samples,
            bce_logits_ref,
            errors=(shape_error("binary_cross_entropy_with_logits"),),
        ),
        OpRecord(
            "nn.functional.kl_div",
            kl_div,
            kl_div_samples,
            kl_div_ref,
            errors=(
                ErrorSample(
                    (np.ones(3), np.ones(3)),
                    {"reduction": "avg"},
                    ValueError,
                    "kl_div: reduction must be one of",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.soft_margin_loss",
            soft_margin_loss,
            soft_margin_samples,
            soft_margin_ref,
            errors=(shape_error("soft_margin_loss"), reduction_error("soft_margin_loss")),
        ),
        OpRecord(
            "nn.functional.multilabel_soft_margin_loss",
            multilabel_soft_margin_loss,
            multilabel_samples,
            multilabel_ref,
            errors=(shape_error("multilabel_soft_margin_loss"),),
        ),
        OpRecord(
            "nn.functional.margin_ranking_loss",
            margin_ranking_loss,
            ranking_samples,
            ranking_ref,
            errors=(
                ErrorSample(
                    (np.ones(3), np.ones((1, 3)), np.ones(3)),
                    {},
                    ValueError,
                    "margin_ranking_loss: all inputs must have the same number of dims",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.triplet_margin_loss",
            triplet_margin_loss,
            triplet_samples,
            triplet_ref,
            errors=(
                ErrorSample(
                    (np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3))),
                    {"margin": 0.0},
                    ValueError,
                    "triplet_margin_loss: margin must be greater than 0",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.cosine_embedding_loss",
            cosine_embedding_loss,
            cosine_embedding_samples,
            cosine_embedding_ref,
            errors=(
                ErrorSample(
                    (np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 1))),
                    {},
                    ValueError,
                    "cosine_embedding_loss: expected a 1-D target for 2-D inputs",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.poisson_nll_loss",
            poisson_nll_loss,
            poisson_samples,
            poisson_ref,
            errors=(reduction_error("poisson_nll_loss"),),
        ),
        OpRecord(
            "nn.functional.gaussian_nll_loss",
            gaussian_nll_loss,
            gaussian_samples,
            gaussian_ref,
            errors=(
                ErrorSample(
                    (np.ones((2, 3)), np.ones((2, 3)), np.ones((3, 2))),
                    {},
                    ValueError,
                    "gaussian_nll_loss: var of shape \\(3, 2\\) does not fit input of shape \\(2, 3\\)",
                ),
            ),
        ),
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
