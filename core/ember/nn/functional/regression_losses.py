"""Regression losses: mean squared and absolute error, the smooth L1 and Huber losses, and the
negative log-likelihoods of a Poisson count and of a Gaussian with a given variance. Composites of
core ops, sharing the reduction and shape checks of :mod:`.losses`; the module ends with their op
records.
"""

from __future__ import annotations

import math
from typing import Any

from ... import ops as E
from ...autograd.grad_mode import no_grad
from ...ops._core import has_data
from ...tensor import Tensor
from .losses import (
    _check_reduction,
    _check_same_shape,
    _legacy_reduction,
    _np_reduce,
    _reduce,
    _reduction_error,
    _shape_error,
)

__all__ = [
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "poisson_nll_loss",
    "gaussian_nll_loss",
]


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


# -- op records ---------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import ErrorSample, Sample, rand_array

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

    def mse_ref(x: np.ndarray, y: np.ndarray, reduction: str = "mean") -> np.ndarray:
        return _np_reduce((x.astype(np.float64) - y) ** 2, reduction)

    def l1_ref(x: np.ndarray, y: np.ndarray, reduction: str = "mean") -> np.ndarray:
        return _np_reduce(np.abs(x.astype(np.float64) - y), reduction)

    def smooth_l1_ref(x: np.ndarray, y: np.ndarray, reduction: str = "mean", beta: float = 1.0) -> np.ndarray:
        d = np.abs(x.astype(np.float64) - y)
        loss = d if beta == 0 else np.where(d < beta, 0.5 * d**2 / beta, d - 0.5 * beta)
        return _np_reduce(loss, reduction)

    def huber_ref(x: np.ndarray, y: np.ndarray, reduction: str = "mean", delta: float = 1.0) -> np.ndarray:
        d = np.abs(x.astype(np.float64) - y)
        return _np_reduce(np.where(d < delta, 0.5 * d**2, delta * (d - 0.5 * delta)), reduction)

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
        return _np_reduce(loss, reduction)

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
        return _np_reduce(np.broadcast_to(loss, np.broadcast_shapes(loss.shape, x.shape)), reduction)

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

    register(
        OpRecord(
            "nn.functional.mse_loss",
            mse_loss,
            pair_samples(),
            mse_ref,
            errors=(_shape_error("mse_loss"), _reduction_error("mse_loss")),
        ),
        OpRecord(
            "nn.functional.l1_loss",
            l1_loss,
            pair_samples(),
            l1_ref,
            errors=(_shape_error("l1_loss"), _reduction_error("l1_loss")),
        ),
        OpRecord(
            "nn.functional.smooth_l1_loss",
            smooth_l1_loss,
            joined(pair_samples(), pair_samples(beta=0.5), pair_samples(beta=2.5), pair_samples(beta=0.0)),
            smooth_l1_ref,
            errors=(
                _shape_error("smooth_l1_loss"),
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
                _shape_error("huber_loss"),
                _reduction_error("huber_loss"),
                ErrorSample(
                    (np.ones(3), np.ones(3)),
                    {"delta": -1.0},
                    ValueError,
                    "huber_loss: delta must be non-negative",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.poisson_nll_loss",
            poisson_nll_loss,
            poisson_samples,
            poisson_ref,
            errors=(_reduction_error("poisson_nll_loss"),),
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
    )


_records()
