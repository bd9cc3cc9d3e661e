"""Index-based encodings: :func:`embedding` lookup and :func:`one_hot`.

Composites of core ops (``index_select``, ``eq``). Index bounds are checked on the values where
the device holds them (not on shape-only devices such as ``meta``).
"""

from __future__ import annotations

from ... import dtypes as _dt
from ... import ops as E
from ...autograd.grad_mode import STATE
from ...ops._core import has_data
from ...tensor import Tensor

__all__ = ["embedding", "one_hot"]


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) at the integer indices ``input``; rows at
    ``padding_idx`` get no gradient."""
    if input.dtype.is_floating_point or input.dtype.is_bool:
        raise TypeError(f"embedding: expected integer indices, got {input.dtype}; cast with .long()")
    num = weight.shape[0]
    if padding_idx is not None and not -num <= padding_idx < num:
        raise ValueError(
            f"embedding: padding_idx {padding_idx} must be within num_embeddings ({num}), i.e. in "
            f"[{-num}, {num - 1}]; or pass None"
        )
    flat = input.reshape(-1)
    if flat.numel() and has_data(flat):
        lo, hi = int(flat.min().item()), int(flat.max().item())
        if lo < 0 or hi >= num:
            bad = lo if lo < 0 else hi
            raise IndexError(
                f"embedding: index {bad} is out of range for an embedding with {num} rows "
                f"(valid: 0 .. {num - 1})"
            )
    out = E.index_select(weight, 0, flat)
    if padding_idx is not None and weight.requires_grad and STATE.enabled:
        if padding_idx < 0:
            padding_idx += num
        keep = E.ne(flat, padding_idx).unsqueeze(-1)
        out = E.where(keep, out, out.detach())
    return out.reshape(tuple(input.shape) + (weight.shape[1],))


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """(…, num_classes) int64 tensor with a 1 at each index (num_classes=-1: max index + 1)."""
    if tensor.dtype.is_floating_point or tensor.dtype.is_bool:
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got {tensor.dtype}")
    if num_classes < 0:
        num_classes = int(tensor.max().item()) + 1 if tensor.numel() else 0  # needs values
    if tensor.numel() and has_data(tensor):
        lo, hi = int(tensor.min().item()), int(tensor.max().item())
        if lo < 0 or hi >= num_classes:
            bad = lo if lo < 0 else hi
            raise ValueError(f"one_hot: class values must be in [0, {num_classes}), got {bad}")
    classes = E.arange(num_classes, dtype=tensor.dtype, device=tensor.device)
    return E.eq(tensor.unsqueeze(-1), classes).to(_dt.int64)
