"""Training past one process: ``ember.distributed``, with ``torch.distributed``'s names.

>>> import ember, ember.distributed as dist
>>> dist.init_process_group()          # no RANK / WORLD_SIZE set: a world of one process
>>> x = ember.ones(3)
>>> dist.all_reduce(x, op=dist.ReduceOp.SUM)
>>> dist.get_rank(), dist.get_world_size(), x.tolist()
(0, 1, [1.0, 1.0, 1.0])
>>> dist.destroy_process_group()

Start several ranks with ``ember run -n 2 script.py`` (or ``python -m ember.distributed.run``);
each calls :func:`init_process_group` and the same collectives in the same order. The core
imports no communication library: backends are plugins (``ember.distributed_backends`` entry
points, contract in :mod:`ember.distributed.contract`), such as ``ember-mpi``. A world of one
process needs none. :class:`ember.nn.parallel.DistributedDataParallel` and
:class:`ember.data.DistributedSampler` build data-parallel training on these calls.
"""

from __future__ import annotations

from .collectives import Work, all_gather, all_reduce, barrier, broadcast, reduce_scatter
from .contract import (
    COMM_API_VERSION,
    CommBackendDeclaration,
    CommBackendUnavailable,
    DistBackendError,
    DistError,
    DistTimeoutError,
    ProcessGroup,
    ReduceOp,
    Rendezvous,
    hookimpl,
)
from .process_group import (
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
)

__all__ = [
    "COMM_API_VERSION",
    "CommBackendDeclaration",
    "CommBackendUnavailable",
    "DistBackendError",
    "DistError",
    "DistTimeoutError",
    "ProcessGroup",
    "ReduceOp",
    "Rendezvous",
    "Work",
    "all_gather",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_backend",
    "get_rank",
    "get_world_size",
    "hookimpl",
    "init_process_group",
    "is_available",
    "is_initialized",
    "reduce_scatter",
]
