"""Margin and ranking losses: the two-class and multi-label soft margin (logistic) losses, margin
ranking, the triplet margin loss of pairwise distances and the cosine embedding loss; each takes
PyTorch's legacy ``size_average`` / ``reduce`` flags. Composites of core ops, sharing the reduction
and shape checks of :mod:`.losses`; the module ends with their op records.
"""

from __future__ import annotations

from typing import Any

from ... import ops as E
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
    "soft_margin_loss",
    "multilabel_soft_margin_loss",
    "margin_ranking_loss",
    "triplet_margin_loss",
    "cosine_embedding_loss",
]


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


# -- op records ---------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import ErrorSample, Sample, rand_array

    def sign_targets(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
        return np.where(rng.random(shape) > 0.5, 1.0, -1.0).astype(dtype)

    def np_logsigmoid(x: np.ndarray) -> np.ndarray:
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    def soft_margin_ref(
        x: np.ndarray, y: np.ndarray, size_average: Any = None, reduce: Any = None, reduction: str = "mean"
    ) -> np.ndarray:
        return _np_reduce(np.log1p(np.exp(-y * x)), reduction)

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
        return _np_reduce(loss.sum(-1) / x.shape[-1], reduction)

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
        return _np_reduce(np.maximum(0, -y * (x1 - x2) + margin), reduction)

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
        return _np_reduce(np.maximum(margin + np_dist(a, pos, p, eps) - d_an, 0), reduction)

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
        return _np_reduce(loss, reduction)

    def cosine_embedding_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(5, 3), a(5, 3), sign_targets(rng, (5,), dtype))),
            Sample((a(5, 3), a(5, 3), sign_targets(rng, (5,), dtype)), {"margin": -0.5, "reduction": "sum"}),
            Sample((a(4), a(4), np.asarray(-1.0, dtype=dtype)), {"reduction": "none"}),
            Sample((a(4, 3), a(4, 3), sign_targets(rng, (4,), dtype)), noncontig=True),
        ]

    register(
        OpRecord(
            "nn.functional.soft_margin_loss",
            soft_margin_loss,
            soft_margin_samples,
            soft_margin_ref,
            errors=(_shape_error("soft_margin_loss"), _reduction_error("soft_margin_loss")),
        ),
        OpRecord(
            "nn.functional.multilabel_soft_margin_loss",
            multilabel_soft_margin_loss,
            multilabel_samples,
            multilabel_ref,
            errors=(_shape_error("multilabel_soft_margin_loss"),),
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
    )


_records()
