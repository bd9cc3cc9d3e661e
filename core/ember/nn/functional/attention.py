"""Scaled dot-product attention.

A composite of core ops (matrix products, ``masked_fill``, softmax, dropout). With a mask, a
query whose keys are all masked gets zeros and a zero gradient (:func:`_safe_softmax`, which
``ember.nn.MultiheadAttention`` uses too) rather than NaN.
"""

from __future__ import annotations

import math

from ... import dtypes as _dt
from ... import ops as E
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from .regularization import dropout

__all__ = ["scaled_dot_product_attention"]


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    training: bool = True,
) -> Tensor:
    """softmax(q @ k^T * scale + mask) @ v over (..., L, E) tensors. A bool ``attn_mask`` marks the
    positions that may be attended; a float one is added to the scores. A query whose keys are all
    masked gets zeros (and no gradient), as in PyTorch, not NaN."""
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.mT) * scale
    if is_causal:
        lq, lk = query.shape[-2], key.shape[-2]
        causal = E.tril(E.ones((lq, lk), dtype=_dt.bool_, device=query.device))
        scores = E.masked_fill(scores, E.logical_not(causal), -math.inf)
    if attn_mask is not None:
        if attn_mask.dtype.is_bool:
            scores = E.masked_fill(scores, E.logical_not(attn_mask), -math.inf)
        else:
            scores = scores + attn_mask
    attn = _safe_softmax(scores) if is_causal or attn_mask is not None else E.softmax(scores, -1)
    if dropout_p > 0:
        attn = dropout(attn, dropout_p, training)
    return attn @ value


def _safe_softmax(scores: Tensor) -> Tensor:
    """Softmax over the last dim, with rows that are entirely -inf (every key masked) giving zeros
    and a zero gradient, as PyTorch's attention, instead of NaN."""
    with no_grad():
        dead = E.eq(scores.amax(-1, keepdim=True), -math.inf)
    return E.where(dead, 0.0, E.softmax(E.where(dead, 0.0, scores), -1))


# -- op records ---------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import Sample, rand_array

    def samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -1.5, 1.5)

        def bool_mask(*s: int) -> np.ndarray:
            m = rng.random(s) < 0.6
            m[..., 0] = True  # every query keeps a key ...
            return m

        dead = bool_mask(3, 4)
        dead[1] = False  # ... except query 1, which gets zeros (not NaN)
        return [
            Sample((a(1, 2, 3), a(1, 3, 3), a(1, 3, 2))),
            Sample((a(1, 3, 2), a(1, 4, 2), a(1, 4, 2), bool_mask(3, 4))),
            Sample((a(1, 3, 2), a(1, 4, 2), a(1, 4, 2), a(3, 4))),  # a float mask is added
            Sample((a(1, 3, 2), a(1, 3, 2), a(1, 3, 2)), {"is_causal": True}),
            Sample((a(3, 2), a(4, 2), a(4, 2), dead)),
            Sample((a(1, 2, 3), a(1, 3, 3), a(1, 3, 2)), {"scale": 0.7}),
            Sample((a(2, 2, 3, 4), a(2, 2, 5, 4), a(2, 2, 5, 3)), grad=False),
            Sample((a(2, 2, 3, 4), a(2, 2, 5, 4), a(2, 2, 5, 3), bool_mask(2, 1, 3, 5)), grad=False),
            Sample((a(2, 4, 3), a(2, 4, 3), a(2, 4, 6)), {"is_causal": True}, grad=False),
            Sample((a(2, 3, 3), a(2, 5, 3), a(2, 5, 2)), {"is_causal": True}, grad=False),  # Lq < Lk
            Sample((a(2, 5, 3), a(2, 3, 3), a(2, 3, 2)), {"is_causal": True}, grad=False),  # Lq > Lk
            Sample((a(2, 3, 4), a(2, 5, 4), a(2, 5, 2), a(2, 3, 5)), {"scale": 0.25}, grad=False),
            # dropout_p with training=False: no dropout; dropout_p=1: every weight dropped
            Sample((a(2, 3, 4), a(2, 5, 4), a(2, 5, 2)), {"dropout_p": 0.5, "training": False}, grad=False),
            Sample((a(2, 3, 4), a(2, 5, 4), a(2, 5, 2)), {"dropout_p": 1.0}, grad=False),
            Sample((a(2, 0, 4), a(2, 5, 4), a(2, 5, 2)), grad=False),
            Sample((a(2, 3, 4), a(2, 5, 4), a(2, 5, 2), bool_mask(3, 5)), noncontig=True, grad=False),
            Sample((a(1, 3, 2), a(1, 4, 2), a(1, 4, 2)), noncontig=True),
            Sample((a(2, 4, 3), a(2, 4, 3), a(2, 4, 2)), {"is_causal": True}, noncontig="flip", grad=False),
        ]

    def ref(
        q: np.ndarray,
        k: np.ndarray,
        v: np.ndarray,
        attn_mask: np.ndarray | None = None,
        dropout_p: float = 0.0,
        is_causal: bool = False,
        scale: float | None = None,
        training: bool = True,
    ) -> np.ndarray:
        q, k, v = (t.astype(np.float64) for t in (q, k, v))
        lq, lk = q.shape[-2], k.shape[-2]
        scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
        scores = np.einsum("...ie,...je->...ij", q, k) * scale
        allowed = np.ones(scores.shape, dtype=bool)
        if is_causal:  # query i sees keys 0..i (aligned at the top left)
            allowed = allowed & (np.arange(lk)[None, :] <= np.arange(lq)[:, None])
        if attn_mask is not None:
            if attn_mask.dtype == bool:
                allowed = allowed & attn_mask
            else:
                scores = scores + attn_mask
        out_shape = np.broadcast_shapes(scores.shape, allowed.shape)
        scores, allowed = np.broadcast_to(scores, out_shape), np.broadcast_to(allowed, out_shape)
        weights = np.zeros(out_shape)
        for idx in np.ndindex(out_shape[:-1]):
            keep = allowed[idx]
            if keep.any():  # a query with no key allowed gets zero weights
                e = np.exp(scores[idx][keep] - scores[idx][keep].max())
                weights[idx + (keep,)] = e / e.sum()
        if dropout_p == 1.0 and training:
            weights = np.zeros_like(weights)
        return np.einsum("...ij,...je->...ie", weights, v)

    register(
        OpRecord(
            "nn.functional.scaled_dot_product_attention",
            scaled_dot_product_attention,
            samples,
            ref,
            atol=1e-4,
        ),
    )


_records()
