"""Collation: :func:`default_collate` combines a list of samples into a batch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import ops as E
from ..tensor import Tensor

__all__ = ["default_collate"]


def default_collate(batch: list[Any]) -> Any:
    """Stack a list of samples: tensors with ``ember.stack``, numbers into a tensor, and tuples,
    lists and dicts element-wise."""
    first = batch[0]
    if isinstance(first, Tensor):
        return E.stack(batch)
    if isinstance(first, bool):
        return E.tensor(batch)
    if isinstance(first, (int, float)):
        return E.tensor(batch)
    if isinstance(first, Mapping):
        return {k: default_collate([b[k] for b in batch]) for k in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(default_collate(list(x)) for x in zip(*batch)))
    if isinstance(first, (tuple, list)):
        if any(len(b) != len(first) for b in batch):
            raise ValueError("default_collate: each sample in the batch must have the same number of fields")
        return (
            type(first)(default_collate(list(x)) for x in zip(*batch))
            if isinstance(first, tuple)
            else [default_collate(list(x)) for x in zip(*batch)]
        )
    if hasattr(first, "__array__"):
        import numpy as np

        return E.tensor(np.stack([np.asarray(b) for b in batch]))
    return batch
