"""Loss functions: cross entropy, negative log-likelihood, regression losses and binary cross
entropy.

Composites of core ops, except :func:`binary_cross_entropy`: its elementwise loss is computed
without recording and given its own backward, PyTorch's gradients, which stay finite where the
composite's (through the clamped logs) would be NaN.
"""

from __future__ import annotations

import math

from ... import ops as E
from ...autograd.grad_mode import STATE, no_grad
from ...autograd.graph import attach
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
    if not bool(valid.any()):
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
    _check_reduction("nll_loss", reduction)
    if target.dtype.is_floating_point:
        raise TypeError(
            f"nll_loss: expected integer class indices as target, got {target.dtype}; for class "
            "probabilities use cross_entropy"
        )
    c = input.shape[1] if input.ndim >= 2 else input.shape[0]
    expect = (input.shape[0],) + input.shape[2:] if input.ndim >= 2 else ()
    if tuple(target.shape) != expect:
        raise ValueError(
            f"nll_loss: expected target of shape {expect} for input of shape {input.shape}, got "
            f"{target.shape}"
        )
    _check_targets("nll_loss", target, c, ignore_index)
    logp = _class_last(input)
    t = target.reshape(-1)
    valid = E.ne(t, ignore_index)
    safe = E.where(valid, t, 0)
    picked = E.gather(logp, 1, safe.unsqueeze(1)).squeeze(1)
    w = valid.to(input.dtype)
    if weight is not None:
        if weight.shape != (c,):
            raise ValueError(f"nll_loss: weight has shape {weight.shape}, expected ({c},) (one per class)")
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
    _check_targets("cross_entropy", target, c, ignore_index)
    nll = nll_loss(logp, target, weight, ignore_index, reduction)
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
            if input.requires_grad:
                gi = g * (input - target) / E.clamp(input * (1 - input), _BCE_EPS)
            if target.requires_grad:
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
