"""Distances between vectors: :func:`cosine_similarity` and :func:`pairwise_distance`.

Composites of core ops with PyTorch's numerics: cosine similarity divides each input by its norm
clamped at ``eps`` (the clamp changes the value, not the gradient, as PyTorch's in-place clamp
under no_grad does); the pairwise distance is the p-norm of ``x1 - x2 + eps``.
"""

from __future__ import annotations

from ... import ops as E
from ...tensor import Tensor

__all__ = ["cosine_similarity", "pairwise_distance"]


def _norm_clamped(x: Tensor, dim: int, eps: float) -> Tensor:
    """||x|| along ``dim`` (kept), its value clamped at ``eps``, its gradient the unclamped norm's."""
    n = E.norm(x, 2, dim, keepdim=True)
    return n + (E.clamp(n, eps) - n).detach()


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (they broadcast), each norm
    clamped at ``eps``."""
    try:
        shape = _broadcast(tuple(x1.shape), tuple(x2.shape))
    except ValueError as exc:
        raise ValueError(
            f"cosine_similarity: x1 of shape {tuple(x1.shape)} and x2 of shape {tuple(x2.shape)} do not "
            "broadcast; make them the same shape"
        ) from exc
    a, b = E.broadcast_to(x1, shape), E.broadcast_to(x2, shape)
    nd = a.ndim
    if not -max(nd, 1) <= dim < max(nd, 1):
        raise IndexError(f"cosine_similarity: dim {dim} is out of range for {nd}-d inputs")
    return ((a / _norm_clamped(a, dim, eps)) * (b / _norm_clamped(b, dim, eps))).sum(dim)


def _broadcast(s1: tuple[int, ...], s2: tuple[int, ...]) -> tuple[int, ...]:
    n = max(len(s1), len(s2))
    a, b = (1,) * (n - len(s1)) + tuple(s1), (1,) * (n - len(s2)) + tuple(s2)
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            raise ValueError(f"shapes {s1} and {s2} do not broadcast")
        out.append(y if x == 1 else x)
    return tuple(out)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """The ``p``-norm of ``x1 - x2 + eps`` over the last dim (the inputs broadcast), as PyTorch."""
    try:
        _broadcast(tuple(x1.shape), tuple(x2.shape))
    except ValueError as exc:
        raise ValueError(
            f"pairwise_distance: x1 of shape {tuple(x1.shape)} and x2 of shape {tuple(x2.shape)} do not "
            "broadcast; make them the same shape"
        ) from exc
    d = x1 - x2 + eps
    if d.ndim == 0:
        d = d.reshape(1)
    return E.norm(d, p, -1, keepdim=keepdim)


# -- op records ---------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import ErrorSample, Sample, rand_array

    def cosine_ref(x1: np.ndarray, x2: np.ndarray, dim: int = 1, eps: float = 1e-8) -> np.ndarray:
        a, b = np.broadcast_arrays(x1.astype(np.float64), x2.astype(np.float64))
        na = np.maximum(np.sqrt((a * a).sum(axis=dim, keepdims=True)), eps)
        nb = np.maximum(np.sqrt((b * b).sum(axis=dim, keepdims=True)), eps)
        return ((a / na) * (b / nb)).sum(axis=dim)

    def cosine_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        zero = a(3, 4)
        zero[1] = 0  # a zero vector: its norm is clamped at eps
        return [
            Sample((a(3, 4), a(3, 4))),
            Sample((a(3, 4), a(1, 4)), {"dim": 1}),
            Sample((a(2, 3, 4), a(2, 3, 4)), {"dim": -1}),
            Sample((a(5), a(5)), {"dim": 0}),
            Sample((a(4, 3), a(4, 3)), {"dim": 0, "eps": 0.5}),
            Sample((zero, a(3, 4)), grad=False),
            Sample((a(0, 4), a(0, 4)), grad=False),
            Sample((a(4, 3), a(4, 3)), noncontig=True),
        ]

    def pairwise_ref(
        x1: np.ndarray, x2: np.ndarray, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
    ) -> np.ndarray:
        d = x1.astype(np.float64) - x2.astype(np.float64) + eps
        d = d.reshape(1) if d.ndim == 0 else d
        return (
            np.linalg.norm(d, ord=p, axis=-1, keepdims=keepdim)
            if p != 0
            else (d != 0).sum(-1, keepdims=keepdim)
        )

    def pairwise_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(3, 4), a(3, 4))),
            Sample((a(3, 4), a(1, 4)), {"p": 1.0}),
            Sample((a(2, 3, 4), a(2, 3, 4)), {"p": 3.0, "keepdim": True}),
            Sample((a(5), a(5)), {"eps": 0.1}),
            Sample((a(3, 4), a(3, 4)), {"p": float("inf")}),
            Sample((a(0, 4), a(0, 4)), grad=False),
            Sample((a(4, 3), a(4, 3)), noncontig=True),
        ]

    register(
        OpRecord(
            "nn.functional.cosine_similarity",
            cosine_similarity,
            cosine_samples,
            cosine_ref,
            errors=(
                ErrorSample(
                    (np.ones((2, 3)), np.ones((3, 2))),
                    {},
                    ValueError,
                    "cosine_similarity: x1 of shape \\(2, 3\\)",
                ),
                ErrorSample(
                    (np.ones((2, 3)), np.ones((2, 3))), {"dim": 2}, IndexError, "cosine_similarity: dim 2"
                ),
            ),
        ),
        OpRecord(
            "nn.functional.pairwise_distance",
            pairwise_distance,
            pairwise_samples,
            pairwise_ref,
            errors=(
                ErrorSample(
                    (np.ones((2, 3)), np.ones((3, 2))),
                    {},
                    ValueError,
                    "pairwise_distance: x1 of shape \\(2, 3\\)",
                ),
            ),
        ),
    )


_records()
