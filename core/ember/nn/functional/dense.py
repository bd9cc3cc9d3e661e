"""Dense layers: the :func:`linear` and :func:`bilinear` maps, and :func:`flatten`, which turns
(N, C, ...) features into the rows they take.

Composites of core ops: they differentiate through the core ops' backwards.
"""

from __future__ import annotations

from ... import ops as E
from ...tensor import Tensor

__all__ = ["linear", "bilinear", "flatten"]


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` with weight of shape (out_features, in_features)."""
    return E.linear(input, weight, bias)


def bilinear(x1: Tensor, x2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_k = x1 @ weight[k] @ x2 + bias_k`` for weight of shape (out, in1, in2)."""
    out = (x1.unsqueeze(-2).unsqueeze(-2) @ weight) @ x2.unsqueeze(-2).unsqueeze(-1)
    out = out.reshape(out.shape[:-2])
    return out + bias if bias is not None else out


def flatten(input: Tensor, start_dim: int = 1, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one."""
    return E.flatten(input, start_dim, end_dim)
