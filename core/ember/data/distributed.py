"""``DistributedSampler``: each rank's share of a dataset's indices, for data-parallel training."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

__all__ = ["DistributedSampler"]


class DistributedSampler:
    """The indices of ``dataset`` that rank ``rank`` of ``num_replicas`` loads, as
    ``torch.utils.data.distributed.DistributedSampler``; pass it as a :class:`DataLoader`'s
    ``sampler``.

    Every rank gets ``len(sampler)`` indices, the ranks' shares are disjoint and together cover
    the dataset: without ``drop_last`` the order is padded by repeating its first indices up to a
    multiple of ``num_replicas``; with it, the tail that does not divide evenly is dropped. Rank
    ``r`` takes every ``num_replicas``-th index from position ``r``. With ``shuffle`` the order is
    a permutation drawn from an :class:`ember.Generator` seeded with ``seed + epoch``, the same on
    every rank: call :meth:`set_epoch` at the start of each epoch for a new order.

    ``num_replicas`` and ``rank`` default to the default process group's world size and rank
    (:func:`ember.distributed.init_process_group` must have run).
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            from ..distributed.process_group import state

            pg = state("DistributedSampler (num_replicas and rank default to the process group's)").pg
            num_replicas = pg.world_size if num_replicas is None else num_replicas
            rank = pg.rank if rank is None else rank
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive int, got {num_replicas!r}")
        if not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(
                f"DistributedSampler: invalid rank {rank!r}; rank should be in the interval "
                f"[0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas, self.rank = num_replicas, rank
        self.shuffle, self.seed, self.drop_last = shuffle, int(seed), drop_last
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = n // num_replicas  # PyTorch's ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            from ..ops.random_creation import Generator, randperm

            indices = randperm(n, generator=Generator("cpu").manual_seed(self.seed + self.epoch)).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            while padding > 0 and indices:  # repeat the order as often as needed (tiny datasets)
                indices += indices[:padding]
                padding = self.total_size - len(indices)
        else:
            indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch`` for the next shuffle (``seed + epoch`` seeds the permutation), so each
        epoch has a new order that every rank agrees on."""
        self.epoch = int(epoch)
