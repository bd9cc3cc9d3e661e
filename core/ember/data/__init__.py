"""Datasets and batching (``ember.data``, PyTorch's ``torch.utils.data``): Dataset, IterableDataset,
TensorDataset, Subset, random_split, DataLoader (with optional worker processes) and
get_worker_info."""

from __future__ import annotations

from ._worker import WorkerInfo, get_worker_info
from .collate import default_collate
from .dataloader import DataLoader
from .dataset import Dataset, IterableDataset, Subset, TensorDataset, _perm, random_split

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "Subset",
    "random_split",
    "DataLoader",
    "default_collate",
    "get_worker_info",
    "WorkerInfo",
]
