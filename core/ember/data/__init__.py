"""Datasets and batching (``ember.data``, PyTorch's ``torch.utils.data``): Dataset, IterableDataset,
TensorDataset, Subset, random_split, DataLoader (with optional worker processes),
get_worker_info and DistributedSampler."""

from __future__ import annotations

from ._worker import WorkerInfo, get_worker_info
from .collate import default_collate
from .dataloader import DataLoader
from .dataset import Dataset, IterableDataset, Subset, TensorDataset, _perm, random_split
from .distributed import DistributedSampler

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "Subset",
    "random_split",
    "DataLoader",
    "DistributedSampler",
    "default_collate",
    "get_worker_info",
    "WorkerInfo",
]
