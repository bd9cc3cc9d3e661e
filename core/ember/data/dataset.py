"""Datasets: Dataset, IterableDataset, TensorDataset, Subset and random_split."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

from .. import ops as E
from ..ops.random_creation import Generator
from ..tensor import Tensor

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "random_split"]

T = TypeVar("T")


class Dataset(Generic[T]):
    """A map-style dataset: subclasses define ``__getitem__(i)`` and ``__len__``."""

    def __getitem__(self, index: int) -> T:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


class IterableDataset(Dataset[T]):
    """A stream-style dataset: subclasses define ``__iter__`` (and may define ``__len__``).

    :class:`DataLoader` iterates it instead of indexing it, so ``shuffle`` and ``sampler`` do not
    apply. With ``num_workers > 0`` every worker process iterates its own copy of the dataset, as in
    PyTorch: without sharding each sample comes out ``num_workers`` times. Sharding is up to the
    dataset: in ``__iter__``, :func:`ember.data.get_worker_info` gives the worker's ``id`` and
    ``num_workers`` (it is ``None`` in the main process), e.g. yield every ``num_workers``-th item
    starting at ``id``.
    """

    def __iter__(self) -> Iterator[T]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Samples are the rows of tensors sharing their first dim: ``ds[i] == (t1[i], t2[i], ...)``."""

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        n = tensors[0].shape[0] if tensors[0].ndim else None
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"TensorDataset: argument {i} is a {type(t).__name__}, expected an ember.Tensor"
                )
            if not t.ndim or t.shape[0] != n:
                raise ValueError(
                    f"TensorDataset: size mismatch between tensors: tensor 0 has {n} rows but "
                    f"tensor {i} has shape {tuple(t.shape)} (all need the same first dim)"
                )
        self.tensors = tensors

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset[T]):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset: Dataset[T], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, index: int) -> T:
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def _perm(n: int, generator: Generator | None) -> list[int]:
    dev = generator.device if generator is not None else "cpu"
    return E.randperm(n, device=dev, generator=generator).tolist()


def random_split(
    dataset: Dataset[T], lengths: Sequence[int | float], generator: Generator | None = None
) -> list[Subset[T]]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths (or fractions
    summing to 1, the remainder dealt round-robin as PyTorch does)."""
    n = len(dataset)  # type: ignore[arg-type]
    lengths = list(lengths)
    if (
        lengths
        and all(isinstance(x, float) for x in lengths)
        and math.isclose(sum(lengths), 1.0)
        and sum(lengths) <= 1 + 1e-9
    ):
        sizes = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes  # type: ignore[assignment]
    if sum(lengths) != n or any(x < 0 for x in lengths):
        raise ValueError(
            f"random_split: sum of input lengths {sum(lengths)} does not equal the length of "
            f"the "
            f"input dataset ({n}); give lengths summing to {n} or fractions summing to 1"
        )
    perm = _perm(n, generator)
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[start : start + int(length)]))
        start += int(length)
    return out
