"""Normalisation: batch, layer and group norm, and :func:`normalize` (division by a p-norm).

Composites of core ops; batch_norm in training also updates the running statistics in place.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ... import ops as E
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor

__all__ = ["batch_norm", "layer_norm", "group_norm", "normalize"]


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over dim 1 of (N, C, ...). In training, normalise with the batch's mean and
    biased variance and update the running stats in place (unbiased variance, as PyTorch); otherwise
    use the running stats."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected at least a 2-D (N, C, ...) input, got shape {input.shape}")
    c = input.shape[1]
    dims = (0,) + tuple(range(2, input.ndim))
    shape = (1, c) + (1,) * (input.ndim - 2)
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and t.shape != (c,):
            raise ValueError(
                f"batch_norm: {name} has shape {t.shape}, expected ({c},) for an input with {c} channels"
            )
    if training:
        count = input.numel() // c
        if count <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input "
                f"of shape {input.shape}"
            )
        mean = input.mean(dims, keepdim=True)
        var = ((input - mean) ** 2).mean(dims, keepdim=True)
        if running_mean is not None and running_var is not None:
            with no_grad():
                m = momentum
                running_mean.mul_(1 - m).add_(mean.detach().reshape(c) * m)
                running_var.mul_(1 - m).add_(var.detach().reshape(c) * (m * count / (count - 1)))
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are required when training=False")
        mean = running_mean.reshape(shape)
        var = running_var.reshape(shape)
    out = (input - mean) * E.rsqrt(var + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def layer_norm(
    input: Tensor,
    normalized_shape: Sequence[int] | int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dims (biased variance), then scale and shift."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not ns:
        raise ValueError(
            "layer_norm: normalized_shape must have at least one dim (the trailing dims to "
            f"normalise over), got {ns}; pass e.g. normalized_shape=input.shape[-1:]"
        )
    if len(ns) > input.ndim or input.shape[input.ndim - len(ns) :] != ns:
        raise ValueError(
            f"layer_norm: normalized_shape {ns} does not match the trailing dims of input of "
            f"shape {input.shape}"
        )
    dims = tuple(range(input.ndim - len(ns), input.ndim))
    mean = input.mean(dims, keepdim=True)
    xc = input - mean
    var = (xc * xc).mean(dims, keepdim=True)
    out = xc * E.rsqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Group normalisation of (N, C, *): the C channels are split into ``num_groups`` groups and each
    sample's group is normalised by its own mean and biased variance, then ``weight`` and ``bias``
    (shape (C,)) scale and shift each channel, as PyTorch."""
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected at least a 2-D (N, C, ...) input, got shape {input.shape}")
    n, c = input.shape[:2]
    if num_groups < 1 or c % num_groups:
        raise ValueError(
            f"group_norm: the number of channels C={c} must be divisible by num_groups={num_groups}; "
            f"choose num_groups among the divisors of {c}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise ValueError(
                f"group_norm: {name} has shape {t.shape}, expected ({c},) for an input with {c} channels"
            )
    group_size = (c // num_groups) * math.prod(input.shape[2:])
    x = input.reshape(n, num_groups, group_size)
    mean = x.mean(2, keepdim=True)
    xc = x - mean
    var = (xc * xc).mean(2, keepdim=True)
    out = (xc * E.rsqrt(var + eps)).reshape(input.shape)
    shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim``."""
    n = E.norm(input, p, dim, keepdim=True)
    return input / E.clamp(n, eps)
