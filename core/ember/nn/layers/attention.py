""":class:`MultiheadAttention` with PyTorch's parameters, layout, masks and initialisation
(``in_proj_weight`` or separate q/k/v projections, ``bias_k``/``bias_v``, ``add_zero_attn``)."""

from __future__ import annotations

import math
from typing import Any

from ... import ops as E
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ._parameters import _empty
from .linear import Linear


class MultiheadAttention(Module):
    """Multi-head attention with PyTorch's parameters and layout: ``in_proj_weight`` (3E, E), or
    ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim) and ``v_proj_weight`` (E, vdim) when
    ``kdim`` or ``vdim`` differ from E; ``in_proj_bias`` (3E,); ``out_proj``; with ``add_bias_kv``
    learned ``bias_k`` and ``bias_v`` (1, 1, E) appended to the keys and values; with
    ``add_zero_attn`` a zero key and value appended after them. Inputs (L, N, E), (N, L, E) with
    ``batch_first=True``, or unbatched (L, E). Returns ``(output, attention weights or None)``."""

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                f"embed_dim={embed_dim} and num_heads={num_heads}"
            )
        if embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})"
            )
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if self._qkv_same_embed_dim:
            self.in_proj_weight = _empty((3 * embed_dim, embed_dim), device, dtype)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = _empty((embed_dim, embed_dim), device, dtype)
            self.k_proj_weight = _empty((embed_dim, self.kdim), device, dtype)
            self.v_proj_weight = _empty((embed_dim, self.vdim), device, dtype)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = _empty((3 * embed_dim,), device, dtype)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = _empty((1, 1, embed_dim), device, dtype)
            self.bias_v = _empty((1, 1, embed_dim), device, dtype)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's initialisation: Xavier-uniform projections, zero biases, Xavier-normal bias_k/v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _additive_mask(self, mask: Tensor | None, name: str, dtype: Any) -> Tensor | None:
        """A bool mask (True: not attended) as 0 / -inf in ``dtype``; a float one is added as is."""
        if mask is None:
            return None
        if mask.dtype.is_bool:
            return E.masked_fill(E.zeros(mask.shape, dtype=dtype, device=mask.device), mask, -math.inf)
        if not mask.dtype.is_floating_point:
            raise TypeError(
                f"MultiheadAttention: {name} must be a bool or floating tensor, got {mask.dtype}; "
                f"cast it with .bool()"
            )
        return mask

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """Attend from ``query`` to ``key``/``value``, as PyTorch. ``key_padding_mask`` (N, S) and
        ``attn_mask`` (L, S) or (N * num_heads, L, S) are bool (True: not attended) or float (added
        to the scores). ``is_causal`` masks the future (with an ``attn_mask`` as well, both apply).
        The weights returned (with ``need_weights``) are those applied, after dropout, averaged
        over the heads unless ``average_attn_weights=False``."""
        name = "MultiheadAttention"
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(
                f"{name}: expected query, key and value all 3-D (batched) or all 2-D (unbatched), "
                f"got shapes {tuple(query.shape)}, {tuple(key.shape)} and {tuple(value.shape)}"
            )
        if not batched:
            query, key, value = (t.unsqueeze(0) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        n, lq, e = query.shape
        s = key.shape[1]
        h, hd = self.num_heads, self.head_dim
        if e != self.embed_dim or key.shape[-1] != self.kdim or value.shape[-1] != self.vdim:
            raise ValueError(
                f"{name}: expected query, key and value with {self.embed_dim}, {self.kdim} and "
                f"{self.vdim} features, got shapes {tuple(query.shape)}, {tuple(key.shape)} and "
                f"{tuple(value.shape)}"
            )
        if key.shape[:2] != value.shape[:2]:
            raise ValueError(
                f"{name}: key of shape {tuple(key.shape)} and value of shape {tuple(value.shape)} "
                "must have the same batch and sequence sizes"
            )
        # the mask added to the (N, H, L, S) scores
        mask = self._additive_mask(attn_mask, "attn_mask", query.dtype)
        if mask is not None:
            if mask.ndim == 2 and mask.shape == (lq, s):
                mask = mask.reshape(1, 1, lq, s)
            elif mask.ndim == 3 and mask.shape == (n * h, lq, s):
                mask = mask.reshape(n, h, lq, s)
            else:
                raise ValueError(
                    f"{name}: attn_mask must have shape ({lq}, {s}) or ({n * h}, {lq}, {s}) "
                    f"(N * num_heads, L, S), got {tuple(mask.shape)}"
                )
        kpm = self._additive_mask(key_padding_mask, "key_padding_mask", query.dtype)
        if kpm is not None:
            if kpm.shape != (n, s):
                raise ValueError(
                    f"{name}: key_padding_mask must have shape ({n}, {s}) (batch, source length), "
                    f"got {tuple(key_padding_mask.shape)}"  # type: ignore[union-attr]
                )
            kpm = kpm.reshape(n, 1, 1, s)
            mask = kpm if mask is None else mask + kpm
        if is_causal:
            future = E.triu(E.ones((lq, s), dtype="bool", device=query.device), 1)
            causal = self._additive_mask(future, "is_causal", query.dtype)
            mask = causal if mask is None else mask + causal
        b = self.in_proj_bias
        bq, bk, bv = (b[:e], b[e : 2 * e], b[2 * e :]) if b is not None else (None, None, None)
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            wq, wk, wv = w[:e], w[e : 2 * e], w[2 * e :]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        q = F.linear(query, wq, bq)
        k = F.linear(key, wk, bk)
        v = F.linear(value, wv, bv)
        extra = 0  # key/value positions appended after the source
        if self.bias_k is not None:
            k = E.cat([k, self.bias_k.expand(n, 1, e)], 1)
            v = E.cat([v, self.bias_v.expand(n, 1, e)], 1)
            extra += 1
        q = q.reshape(n, lq, h, hd).transpose(1, 2)
        k = k.reshape(n, s + extra, h, hd).transpose(1, 2)
        v = v.reshape(n, s + extra, h, hd).transpose(1, 2)
        if self.add_zero_attn:
            zeros = E.zeros((n, h, 1, hd), dtype=k.dtype, device=k.device)
            k, v = E.cat([k, zeros], 2), E.cat([v, zeros], 2)
            extra += 1
        if mask is not None and extra:
            mask = F.pad(mask, (0, extra))  # the appended positions are always attended
        scores = (q @ k.mT) * (1.0 / math.sqrt(hd))  # (N, H, L, S + extra)
        if mask is not None:
            scores = scores + mask
        # PyTorch computes the weights it returns with a plain softmax (a query row whose keys
        # are all masked is NaN) and, without need_weights, with scaled_dot_product_attention,
        # where such a row is zero
        attn = F.softmax(scores, -1) if need_weights or mask is None else F._safe_softmax(scores)
        if self.dropout > 0 and self.training:
            attn = F.dropout(attn, self.dropout, True)
        out = (attn @ v).transpose(1, 2).reshape(n, lq, e)
        out = self.out_proj(out)
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        weights = attn.mean(1) if average_attn_weights else attn
        return out, weights.squeeze(0) if not batched else weights
