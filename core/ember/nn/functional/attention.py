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
