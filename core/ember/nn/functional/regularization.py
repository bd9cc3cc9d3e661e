"""Dropout.

A composite of core ops: a uniform draw from the device's generator, a comparison and a
``where``, so it differentiates through them.
"""

from __future__ import annotations

from typing import Any

from ... import ops as E
from ...tensor import Tensor
from .activations import _maybe_inplace

__all__ = ["dropout"]


def dropout(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, generator: Any = None
) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (identity when not
    training). The mask comes from the device's default generator (or ``generator``), so
    ``ember.manual_seed`` makes it reproducible. ``inplace=True`` writes into ``input``."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _maybe_inplace(input, lambda x: x * 0.0, inplace, "dropout_", saves_input=False)
    u = E.rand(
        input.shape,
        dtype=input.dtype if input.dtype.is_floating_point else None,
        device=input.device,
        generator=generator,
    )
    keep = E.ge(u, p)
    scale = 1.0 / (1.0 - p)
    return _maybe_inplace(
        input, lambda x: E.where(keep, x, 0.0) * scale, inplace, "dropout_", saves_input=False
    )
