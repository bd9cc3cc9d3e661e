"""The NCCL process group: Ember's collectives on CuPy's NCCL bindings (``cupy.cuda.nccl``).

One GPU per rank. Rank r uses ``cuda:LOCAL_RANK`` (``init_process_group`` takes it from
``LOCAL_RANK`` or what mpiexec sets, else the rank); its communicator is made from the unique id
that :mod:`ember_nccl.rendezvous` carries from rank 0 (TCP on ``MASTER_ADDR:MASTER_PORT``, or MPI
under mpiexec). Two ranks on one GPU are refused there, naming both.

Buffers. A cuda tensor's buffer is a CuPy array; NCCL gets its device pointer, so collectives
work in place. ``all_gather`` gathers into one scratch array and copies each rank's part into its
output tensor (``cudaMemcpyAsync``); ``reduce_scatter`` lays the inputs end to end in a scratch
array first.

dtypes. NCCL reduces int8, uint8, int32, int64, float16, float32 and float64; bool is reduced as
uint8 (SUM and MAX with NCCL's MAX: a logical or; PRODUCT and MIN with its MIN: a logical and).
NCCL has no 16-bit integer type: ``broadcast`` and ``all_gather`` move int16 tensors as bytes
(no arithmetic is involved), and the reductions refuse them naming the supported dtypes. AVG is
NCCL's own ``ncclAvg`` (NCCL 2.10 and later), else SUM then a division by the world size.

Streams. Every collective runs on the group's own CuPy stream, ordered after the work already
queued on the current stream (the one that produced the tensors: an event recorded there and
waited on by the group's stream), and records an event when it is done. A blocking call waits for
that event, polling, up to the group's timeout; ``async_op=True`` returns at once with a
:class:`_Work` whose ``wait(timeout)`` polls the same way. The work holds the tensors' arrays
(and the scratch arrays) until the event has completed, so CuPy's memory pool cannot hand them to
another allocation while NCCL still reads or writes them.

Failures. A collective that does not complete within the timeout aborts the communicator
(``ncclCommAbort``: NCCL's kernels stop waiting for the missing ranks) and raises
:class:`~ember.distributed.DistTimeoutError` (NCCL cannot say which ranks did not arrive); an
error NCCL reports asynchronously (a rank whose connection broke) aborts it too and raises
:class:`~ember.distributed.DistBackendError`. Either way the group cannot be used afterwards.
"""

from __future__ import annotations

import importlib.util
import threading
import time
import warnings
from collections.abc import Sequence
from typing import Any

from ember.distributed.contract import (
    BackendWork,
    CommBackendUnavailable,
    DistBackendError,
    DistTimeoutError,
    ProcessGroup,
    ReduceOp,
    Rendezvous,
    describe_call,
    timeout_error,
)
from ember.tensor import Tensor

from .plugin import REMEDY
from .rendezvous import ID_BYTES, exchange_unique_id

__all__ = ["NcclProcessGroup", "REDUCIBLE_DTYPES", "MOVABLE_DTYPES"]

#: Ember dtype -> (NCCL data type, NCCL elements per tensor element) for the reductions
_REDUCIBLE = {
    "bool": ("NCCL_UINT8", 1),
    "uint8": ("NCCL_UINT8", 1),
    "int8": ("NCCL_INT8", 1),
    "int32": ("NCCL_INT32", 1),
    "int64": ("NCCL_INT64", 1),
    "float16": ("NCCL_FLOAT16", 1),
    "float32": ("NCCL_FLOAT32", 1),
    "float64": ("NCCL_FLOAT64", 1),
}
#: ... and for broadcast and all_gather, which only move bytes
_MOVABLE = {**_REDUCIBLE, "int16": ("NCCL_INT8", 2)}
#: the dtypes the reductions (all_reduce, reduce_scatter) take, and those broadcast / all_gather take
REDUCIBLE_DTYPES = tuple(_REDUCIBLE)
MOVABLE_DTYPES = tuple(_MOVABLE)
_OPS = {
    ReduceOp.SUM: "NCCL_SUM",
    ReduceOp.PRODUCT: "NCCL_PROD",
    ReduceOp.MIN: "NCCL_MIN",
    ReduceOp.MAX: "NCCL_MAX",
}
#: NCCL's version code of 2.10.0, the first with ncclAvg (codes are X*10000 + Y*100 + Z from 2.9)
_NCCL_AVG_VERSION = 21000
#: how often (polls) a waiting rank asks NCCL for an asynchronous error
_ERROR_CHECK_EVERY = 64


def _import_cupy() -> Any:
    """CuPy with its NCCL bindings and at least one GPU, or :class:`CommBackendUnavailable`
    saying what is missing."""
    if importlib.util.find_spec("cupy") is None:
        raise CommBackendUnavailable("CuPy is not installed", REMEDY)
    try:
        with warnings.catch_warnings():  # CuPy warns when it cannot preload NCCL; said below instead
            warnings.simplefilter("ignore")
            import cupy
            from cupy.cuda import nccl
    except Exception as exc:
        raise CommBackendUnavailable(f"CuPy failed to import: {type(exc).__name__}: {exc}", REMEDY) from exc
    version = getattr(cupy, "__version__", "?")
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:
        raise CommBackendUnavailable(
            f"no CUDA device: CuPy {version} cannot reach a GPU (cupy.cuda.runtime.getDeviceCount() "
            f"raised {type(exc).__name__}: {exc})",
            REMEDY,
        ) from exc
    if count <= 0:
        raise CommBackendUnavailable(f"no CUDA device: CuPy {version} found none", REMEDY)
    if not getattr(nccl, "available", True) or not hasattr(nccl, "NcclCommunicator"):
        raise CommBackendUnavailable(
            f"CuPy {version} cannot load the NCCL library (libnccl.so.2)",
            "pip install nvidia-nccl-cu12 (CUDA 12; nvidia-nccl-cu13 for CUDA 13), or "
            "python -m cupyx.tools.install_library --library nccl --cuda 12.x",
        )
    return cupy


def _communicator(nccl: Any, world_size: int, uid: bytes, rank: int) -> Any:
    """``NcclCommunicator`` from the id's bytes: CuPy 14 takes bytes, older CuPy a tuple of
    C chars (signed on x86-64, unsigned on Arm)."""
    try:
        return nccl.NcclCommunicator(world_size, uid, rank)
    except TypeError:
        signed = tuple(b - 256 if b > 127 else b for b in uid)
        try:
            return nccl.NcclCommunicator(world_size, signed, rank)
        except OverflowError:
            return nccl.NcclCommunicator(world_size, tuple(uid), rank)


def _id_bytes(uid: Any) -> bytes:
    """``get_unique_id()``'s result as bytes (CuPy before 14 returns a tuple of C chars)."""
    return bytes(uid) if isinstance(uid, (bytes, bytearray)) else bytes(b & 0xFF for b in uid)


class _Work(BackendWork):
    """One collective on the group's stream: done when its event has completed."""

    __slots__ = ("_pg", "_event", "_keep", "_done")

    def __init__(self, pg: NcclProcessGroup, event: Any, keep: tuple) -> None:
        self._pg, self._event, self._keep, self._done = pg, event, keep, event is None

    def is_completed(self) -> bool:
        """Whether the event has completed (``cudaEventQuery``); never blocks."""
        if not self._done and self._event.done:
            self._finish()
        return self._done

    def wait(self, timeout: float) -> bool:
        """Poll the event until it completes (True) or ``timeout`` seconds pass (False: the
        communicator is aborted, as the group cannot be used after a timeout). An error NCCL
        reports meanwhile raises :class:`~ember.distributed.DistBackendError`."""
        if self._done:
            return True
        event, pg = self._event, self._pg
        deadline = time.monotonic() + timeout
        polls, pause = 0, 0.0
        while not event.done:
            polls += 1
            if polls % _ERROR_CHECK_EVERY == 0:
                pg.check_async_error()
                if time.monotonic() > deadline:
                    pg.abort(f"a collective did not complete within {timeout:g} s")
                    return False
            if polls > 256:  # a few hundred microseconds of spinning, then sleeps of up to 1 ms
                time.sleep(pause)
                pause = min(pause * 2 or 20e-6, 1e-3)
        self._finish()
        return True

    def _finish(self) -> None:
        self._done, self._keep, self._event = True, (), None


class NcclProcessGroup(ProcessGroup):
    """The ``nccl`` backend: one NCCL communicator, one GPU per rank (``cuda:LOCAL_RANK``)."""

    name = "nccl"

    @classmethod
    def check_available(cls) -> None:
        """CuPy must import, see a GPU and load NCCL (NCCL itself is not started)."""
        _import_cupy()

    def __init__(self, rendezvous: Rendezvous) -> None:
        super().__init__(rendezvous)
        cp = _import_cupy()
        from cupy.cuda import nccl

        self.cp, self.nccl = cp, nccl
        self.timeout = rendezvous.timeout
        rank, world = rendezvous.rank, rendezvous.world_size
        count = cp.cuda.runtime.getDeviceCount()
        index = rendezvous.local_rank
        if not 0 <= index < count:
            raise DistBackendError(
                f"init_process_group: rank {rank} of {world} would use cuda:{index} (LOCAL_RANK, else the "
                f"rank), but this machine has {count} CUDA GPU{'s' if count != 1 else ''} (cuda:0 .. "
                f"cuda:{count - 1}); the NCCL backend needs one GPU per rank: start at most {count} "
                "ranks per machine, each with its own LOCAL_RANK"
            )
        #: the index of this rank's GPU: its tensors must be on ``cuda:<device_index>``
        self.device_index = index
        self.device = f"cuda:{index}"  # where core puts the tensors of its own checks
        self._device = cp.cuda.Device(index)
        try:  # the GPU's identity across processes (indices depend on CUDA_VISIBLE_DEVICES)
            self._gpu_id = cp.cuda.runtime.deviceGetPCIBusId(index)
        except Exception:
            self._gpu_id = ""
        self._broken = ""
        uid = exchange_unique_id(
            rank,
            world,
            rendezvous.master_addr,
            rendezvous.master_port,
            rendezvous.timeout,
            lambda: _id_bytes(nccl.get_unique_id()),
            self._gpu_id,
        )
        assert len(uid) == ID_BYTES
        self._aborting: threading.Thread | None = None
        self.comm = self._make_communicator(nccl, uid)
        with self._device:
            self._stream = cp.cuda.Stream(non_blocking=True)
            self._one = cp.zeros(1, dtype=cp.float32)  # the barrier's all_reduce
        version = nccl.get_version() if hasattr(nccl, "get_version") else 0
        self._avg = getattr(nccl, "NCCL_AVG", None) if version >= _NCCL_AVG_VERSION else None
        self._ops = {op: getattr(nccl, code) for op, code in _OPS.items()}
        self._memcpy = cp.cuda.runtime.memcpyAsync
        self._d2d = cp.cuda.runtime.memcpyDeviceToDevice

    def _make_communicator(self, nccl: Any, uid: bytes) -> Any:
        """``ncclCommInitRank`` in a thread, so that a rank which died after the rendezvous (NCCL's
        own bootstrap then waits for it for ever) cannot hold this one past the timeout."""
        rank, world, timeout = self.rank, self.world_size, self.timeout
        made: list[Any] = []

        def init() -> None:
            try:
                with self._device:
                    made.append(_communicator(nccl, world, uid, rank))
            except BaseException as exc:
                made.append(exc)

        worker = threading.Thread(target=init, name="ember-nccl-init", daemon=True)
        worker.start()
        worker.join(timeout)
        where = (
            f"init_process_group: NCCL's communicator of rank {rank} of {world} on cuda:{self.device_index}"
        )
        if not made:
            raise DistTimeoutError(
                f"{where} (GPU {self._gpu_id}) was not made within {timeout:g} s: a rank that took part in "
                "the rendezvous has not joined (it failed or stopped after it: look for its error), or "
                "raise init_process_group(timeout=...)"
            )
        if isinstance(made[0], BaseException):
            exc = made[0]
            raise DistBackendError(
                f"{where} (GPU {self._gpu_id}) could not be made: {type(exc).__name__}: {exc}; run with "
                "NCCL_DEBUG=INFO to see why (a rank that failed after the rendezvous, two ranks on one "
                "GPU, a network interface NCCL cannot use: NCCL_SOCKET_IFNAME)"
            ) from exc
        return made[0]

    # -- failures --------------------------------------------------------------------------------
    def abort(self, why: str) -> None:
        """Mark the group unusable, saying ``why``, and abort the communicator (``ncclCommAbort``:
        NCCL's kernels stop waiting for the missing ranks) in a thread of its own, so the caller's
        error is raised at once however long NCCL takes; :meth:`shutdown` waits for it."""
        if self._broken:
            return
        self._broken = why
        comm = self.comm

        def run() -> None:
            try:
                (comm.abort if hasattr(comm, "abort") else comm.destroy)()
            except Exception:  # the group is unusable either way
                pass

        self._aborting = threading.Thread(target=run, name="ember-nccl-abort", daemon=True)
        self._aborting.start()

    def check_async_error(self) -> None:
        """Raise :class:`~ember.distributed.DistBackendError` (after aborting) when NCCL reports an
        asynchronous error: a rank died or its connection broke."""
        if self._broken or not hasattr(self.comm, "check_async_error"):
            return
        try:
            self.comm.check_async_error()
        except Exception as exc:
            self.abort(f"NCCL reported {type(exc).__name__}: {exc}")
            raise DistBackendError(
                f"nccl: rank {self.rank} of {self.world_size}: NCCL reported an error while a collective "
                f"was running: {exc}; another rank probably failed or lost its connection (its own "
                "output says why). The process group cannot be used after this"
            ) from exc

    def _usable(self, op: str) -> None:
        if self._broken:
            raise DistBackendError(
                f"{op}: the nccl process group of rank {self.rank} cannot be used any more ({self._broken}); "
                "call destroy_process_group() and init_process_group() again (every rank)"
            )

    # -- tensors ---------------------------------------------------------------------------------
    def _array(self, op: str, t: Tensor) -> Any:
        """The CuPy array behind ``t``, checked to be on this rank's GPU."""
        dev = t.device
        if dev.type != "cuda":
            raise DistBackendError(
                f"{op}: backend 'nccl' moves cuda tensors only, got a tensor on {dev}; move it to this "
                f"rank's GPU with .to('cuda:{self.device_index}'), or use a backend for {dev.type} "
                "tensors (backend='mpi')"
            )
        if dev.index != self.device_index:
            raise DistBackendError(
                f"{op}: the tensor is on {dev}, but rank {self.rank}'s NCCL communicator uses "
                f"cuda:{self.device_index} (LOCAL_RANK); put this rank's tensors on "
                f"cuda:{self.device_index}"
            )
        return t._data

    def _dtype(self, op: str, t: Tensor, table: dict[str, tuple[str, int]]) -> tuple[int, int]:
        """(NCCL data type, NCCL elements per tensor element) of ``t``, or the refusal."""
        entry = table.get(t.dtype.name)
        if entry is None:
            raise DistBackendError(
                f"{op}: NCCL cannot {'reduce' if table is _REDUCIBLE else 'move'} {t.dtype.name} tensors "
                f"(it has no 16-bit integer type); supported dtypes: {', '.join(table)}; convert first, "
                "e.g. t.to(ember.int32), and back"
            )
        return getattr(self.nccl, entry[0]), entry[1]

    def _reduce_op(self, op: ReduceOp, t: Tensor) -> tuple[int, bool]:
        """(NCCL op, whether to divide by the world size afterwards)."""
        if t.dtype.name == "bool":
            return self._ops[ReduceOp.MAX if op in (ReduceOp.SUM, ReduceOp.MAX) else ReduceOp.MIN], False
        if op is ReduceOp.AVG:
            return (self._avg, False) if self._avg is not None else (self._ops[ReduceOp.SUM], True)
        return self._ops[op], False

    # -- running collectives ---------------------------------------------------------------------
    def _launch(
        self, op: str, tensor: Tensor | None, detail: str, blocking: bool, body: Any, keep: tuple
    ) -> _Work:
        """Run ``body(stream_ptr)`` (the NCCL calls) on the group's stream, ordered after the current
        stream's work; then wait (blocking) or return the pending work."""
        self._usable(op)
        cp = self.cp
        with self._device:
            stream = self._stream
            ready = cp.cuda.Event(block=False, disable_timing=True)
            ready.record(cp.cuda.get_current_stream())
            stream.wait_event(ready)
            try:
                body(stream)
            except Exception as exc:
                raise DistBackendError(
                    f"{describe_call(op, tensor, detail)}: NCCL refused the call on rank {self.rank} of "
                    f"{self.world_size}: {type(exc).__name__}: {exc}"
                ) from exc
            done = cp.cuda.Event(block=False, disable_timing=True)
            done.record(stream)
        work = _Work(self, done, keep)
        if blocking and not work.wait(self.timeout):
            raise timeout_error(
                describe_call(op, tensor, detail), self.rank, self.world_size, self.timeout, None, "nccl"
            )
        return work

    def _divide(self, arr: Any, stream: Any) -> None:
        with stream:
            self.cp.divide(arr, self.world_size, out=arr)

    def all_reduce(self, tensor: Tensor, op: ReduceOp, blocking: bool) -> BackendWork:
        """``ncclAllReduce`` in place."""
        arr = self._array("all_reduce", tensor)
        dtype, per = self._dtype("all_reduce", tensor, _REDUCIBLE)
        nop, divide = self._reduce_op(op, tensor)
        count = arr.size * per

        def body(stream: Any) -> None:
            if count:
                self.comm.allReduce(arr.data.ptr, arr.data.ptr, count, dtype, nop, stream.ptr)
                if divide:
                    self._divide(arr, stream)

        return self._launch("all_reduce", tensor, op.name, blocking, body, (arr,))

    def broadcast(self, tensor: Tensor, src: int, blocking: bool) -> BackendWork:
        """``ncclBcast`` from ``src`` in place."""
        arr = self._array("broadcast", tensor)
        dtype, per = self._dtype("broadcast", tensor, _MOVABLE)
        count = arr.size * per

        def body(stream: Any) -> None:
            if count:
                self.comm.bcast(arr.data.ptr, count, dtype, src, stream.ptr)

        return self._launch("broadcast", tensor, f"src={src}", blocking, body, (arr,))

    def all_gather(self, outputs: Sequence[Tensor], tensor: Tensor, blocking: bool) -> BackendWork:
        """``ncclAllGather`` into one scratch array, then each rank's part copied into its output."""
        arr = self._array("all_gather", tensor)
        outs = [self._array("all_gather", t) for t in outputs]
        dtype, per = self._dtype("all_gather", tensor, _MOVABLE)
        count, nbytes = arr.size * per, arr.nbytes
        scratch: list[Any] = []

        def body(stream: Any) -> None:
            if not count:
                return
            with stream:  # allocated for the group's stream (CuPy's pool is stream-ordered)
                gathered = self.cp.empty(arr.size * self.world_size, dtype=arr.dtype)
            scratch.append(gathered)
            base = gathered.data.ptr
            self.comm.allGather(arr.data.ptr, base, count, dtype, stream.ptr)
            for r, out in enumerate(outs):
                self._memcpy(out.data.ptr, base + r * nbytes, nbytes, self._d2d, stream.ptr)

        work = self._launch("all_gather", tensor, "", blocking, body, (arr, outs, scratch))
        return work

    def reduce_scatter(
        self, output: Tensor, inputs: Sequence[Tensor], op: ReduceOp, blocking: bool
    ) -> BackendWork:
        """The inputs copied end to end into a scratch array, then ``ncclReduceScatter`` into ``output``."""
        out = self._array("reduce_scatter", output)
        ins = [self._array("reduce_scatter", t) for t in inputs]
        dtype, per = self._dtype("reduce_scatter", output, _REDUCIBLE)
        nop, divide = self._reduce_op(op, output)
        count, nbytes = out.size * per, out.nbytes
        scratch: list[Any] = []

        def body(stream: Any) -> None:
            if not count:
                return
            with stream:
                laid = self.cp.empty(out.size * self.world_size, dtype=out.dtype)
            scratch.append(laid)
            base = laid.data.ptr
            for r, src in enumerate(ins):
                self._memcpy(base + r * nbytes, src.data.ptr, nbytes, self._d2d, stream.ptr)
            self.comm.reduceScatter(base, out.data.ptr, count, dtype, nop, stream.ptr)
            if divide:
                self._divide(out, stream)

        return self._launch("reduce_scatter", output, op.name, blocking, body, (out, ins, scratch))

    def barrier(self, blocking: bool) -> BackendWork:
        """An ``ncclAllReduce`` of one element (done once every rank has entered it)."""
        one = self._one

        def body(stream: Any) -> None:
            self.comm.allReduce(
                one.data.ptr, one.data.ptr, 1, self.nccl.NCCL_FLOAT32, self._ops[ReduceOp.SUM], stream.ptr
            )

        return self._launch("barrier", None, "", blocking, body, ())

    def shutdown(self) -> None:
        """Destroy the communicator once its queued collectives are done (waiting at most the
        timeout, else aborting it); after a failure, wait as long for the abort to finish."""
        if self._broken:
            if self._aborting is not None:
                self._aborting.join(self.timeout)
            return
        with self._device:
            done = self.cp.cuda.Event(block=False, disable_timing=True)
            done.record(self._stream)
        if not _Work(self, done, ()).wait(self.timeout):
            return  # aborted by the wait
        self._broken = "destroy_process_group() was called"
        with self._device:
            self.comm.destroy()
