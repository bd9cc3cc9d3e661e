"""Classification losses: cross entropy, negative log-likelihood, binary cross entropy (of
probabilities and of logits) and KL divergence, with the helpers every loss module shares (the
reduction and shape checks, PyTorch's legacy ``size_average`` / ``reduce`` flags, the records'
numpy reduction and error samples); the regression losses are in :mod:`.regression_losses`, the
margin and ranking losses in :mod:`.margin_losses`, CTC in :mod:`.ctc`.

Composites of core ops, except :func:`binary_cross_entropy`: its elementwise loss is computed
without recording and given its own backward, PyTorch's gradients, which stay finite where the
composite's (through the clamped logs) would be NaN.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from ... import ops as E
from ...autograd.grad_mode import STATE, no_grad
from ...autograd.graph import attach, needs_input_grad
from ...ops._core import has_data
from ...tensor import Tensor

__all__ = [
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
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


# -- divergence, and the legacy reduction flags of every loss module -------------------------------
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


# -- op records ---------------------------------------------------------------------------------
def _np_reduce(loss: Any, reduction: str) -> Any:
    """The numpy reference's reduction, for the records of every loss module."""
    import numpy as np

    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](loss)


def _shape_error(op: str) -> Any:
    """The error sample of a loss given an input and a target of different shapes."""
    import numpy as np

    from ...ops.samples import ErrorSample

    return ErrorSample(
        (np.ones((2, 3)), np.ones((3, 2))), {}, ValueError, f"{op}: input of shape \\(2, 3\\) and target"
    )


def _reduction_error(op: str) -> Any:
    """The error sample of a loss given an unknown reduction."""
    import numpy as np

    from ...ops.samples import ErrorSample

    return ErrorSample(
        (np.ones(3), np.ones(3)), {"reduction": "avg"}, ValueError, f"{op}: reduction must be one of"
    )


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
        return _np_reduce(loss if weight is None else loss * weight, reduction)

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
        return _np_reduce(loss if weight is None else loss * weight, reduction)

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
        return _np_reduce(loss, reduction)

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
        # input values outside [0, 1] raise a ValueError too, but only where the device holds
        # values, so that check is not among the error contracts (which run on shape-only devices)
        OpRecord(
            "nn.functional.binary_cross_entropy",
            binary_cross_entropy,
            bce_samples,
            bce_ref,
            errors=(_shape_error("binary_cross_entropy"), _reduction_error("binary_cross_entropy")),
        ),
        OpRecord(
            "nn.functional.binary_cross_entropy_with_logits",
            binary_cross_entropy_with_logits,
            bce_logits_samples,
            bce_logits_ref,
            errors=(_shape_error("binary_cross_entropy_with_logits"),),
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
    )


_records()
