"""Datasets and batching (``ember.data``, PyTorch's ``torch.utils.data``): Dataset, TensorDataset,
Subset, random_split and DataLoader."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar

from .. import ops as E
from ..ops.creation import Generator
from ..tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "DataLoader", "default_collate"]

T = TypeVar("T")


class Dataset(Generic[T]):
    """A map-style dataset: subclasses define ``__getitem__(i)`` and ``__len__``."""

    def __getitem__(self, index: int) -> T:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


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


class DataLoader(Generic[T]):
    """Iterate over ``dataset`` in batches.

    ``shuffle=True`` draws a new order each epoch from ``generator`` (an :class:`ember.Generator`) or
    the default generator, so ``ember.manual_seed`` makes the order reproducible. ``drop_last`` drops
    a final short batch; ``collate_fn`` combines samples (default: :func:`default_collate`). A
    :class:`TensorDataset` with the default collate is batched by indexing its tensors directly.
    """

    def __init__(
        self,
        dataset: Dataset[T],
        batch_size: int | None = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        generator: Generator | None = None,
        sampler: Sequence[int] | None = None,
    ) -> None:
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(
                f"DataLoader: batch_size should be a positive integer or None, got {batch_size!r}"
            )
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last
        self.collate_fn = collate_fn
        self.generator, self.sampler = generator, sampler

    def _indices(self) -> list[int]:
        n = len(self.dataset)  # type: ignore[arg-type]
        if self.sampler is not None:
            return [int(i) for i in self.sampler]
        return _perm(n, self.generator) if self.shuffle else list(range(n))

    def __len__(self) -> int:
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)  # type: ignore[arg-type]
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        idx = self._indices()
        if self.batch_size is None:
            for i in idx:
                yield self.dataset[i] if self.collate_fn is None else self.collate_fn(self.dataset[i])
            return
        bs = self.batch_size
        fast = self.collate_fn is None and isinstance(self.dataset, TensorDataset)
        for start in range(0, len(idx), bs):
            chunk = idx[start : start + bs]
            if len(chunk) < bs and self.drop_last:
                return
            if fast:
                tensors = self.dataset.tensors  # type: ignore[attr-defined]
                sel = E.tensor(chunk, dtype="int64", device=tensors[0].device)
                yield tuple(
                    E.index_select(t, 0, sel if t.device is sel.device else sel.to(t.device)) for t in tensors
                )
            else:
                collate = self.collate_fn or default_collate
                yield collate([self.dataset[i] for i in chunk])
