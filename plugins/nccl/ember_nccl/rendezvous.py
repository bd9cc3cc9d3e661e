"""The exchange of NCCL's unique id: rank 0 makes it, every other rank receives it.

An NCCL communicator is made on every rank from one 128-byte id (``ncclGetUniqueId`` on one
rank, ``ncclCommInitRank`` on all); carrying the id between the processes is the application's
part. Two ways, chosen by :func:`exchange_unique_id`:

- **TCP** (:func:`exchange_over_tcp`), for ranks started with ``RANK`` / ``WORLD_SIZE`` /
  ``MASTER_ADDR`` / ``MASTER_PORT`` (torchrun-style launchers, or by hand): rank 0 listens on
  ``MASTER_PORT``; every other rank connects to ``MASTER_ADDR:MASTER_PORT``, retrying while rank 0
  is not listening yet, and says who it is; once every rank has arrived rank 0 sends each the id.
  Everything is bounded by the group's timeout: a rank that never arrives makes rank 0 fail
  naming it, and rank 0 sends the same cause to the ranks that did arrive. Every socket error
  becomes a :class:`~ember.distributed.DistBackendError` naming the address, the rank and the
  remedy (:class:`~ember.distributed.DistTimeoutError` for the timeouts).
- **MPI** (:func:`exchange_over_mpi`), when mpiexec started the ranks (``ember run``) and mpi4py
  is importable: a non-blocking all-gather and broadcast on ``MPI.COMM_WORLD``, polled until the
  timeout.

Each rank also reports its host and the GPU it will use (its PCI bus id), so two ranks on one GPU,
which NCCL refuses ("Duplicate GPU detected"), fail here on every rank with both ranks named.
Standard library only: the tests run it between real processes on machines without CuPy.
"""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ember.distributed.contract import DistBackendError, DistTimeoutError

__all__ = [
    "ID_BYTES",
    "RankInfo",
    "duplicate_gpu",
    "exchange_over_mpi",
    "exchange_over_tcp",
    "exchange_unique_id",
    "launched_by_mpiexec",
]

#: the size of NCCL's unique id (``NCCL_UNIQUE_ID_BYTES``)
ID_BYTES = 128
#: variables mpiexec sets in the processes it starts (Open MPI, PMIx, MPICH's Hydra)
_LAUNCHED_BY_MPIEXEC = ("OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE")

# the wire format: a rank's hello (magic, rank, world size, length of its JSON info, the info),
# and rank 0's reply (status, length of the payload, the payload: the id or the error's text)
_MAGIC = b"ember-nccl-rdv/1"
_HELLO = struct.Struct("!16sIIH")
_REPLY = struct.Struct("!BI")
_OK, _FAILED, _TIMED_OUT = 0, 1, 2
#: seconds rank 0 gives a new connection to say who it is (a silent one is not an Ember rank)
_HELLO_WAIT_S = 5.0
#: bytes of each rank's JSON info in the MPI exchange
_MPI_INFO_BYTES = 512


@dataclass(frozen=True)
class RankInfo:
    """What one rank says about itself: its rank, its host name and the GPU it uses (its PCI bus
    id, ``""`` when unknown)."""

    rank: int
    host: str
    gpu: str = ""

    def to_json(self) -> bytes:
        """The info as the JSON bytes the exchange sends."""
        return json.dumps({"rank": self.rank, "host": self.host, "gpu": self.gpu}).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> RankInfo:
        """The info from :meth:`to_json`'s bytes; ValueError when they are not."""
        d = json.loads(raw.decode())
        if not isinstance(d, dict) or not isinstance(d.get("rank"), int):
            raise ValueError(f"not a rank's info: {raw[:80]!r}")
        return cls(d["rank"], str(d.get("host", "")), str(d.get("gpu", "")))


def launched_by_mpiexec() -> bool:
    """Whether mpiexec started this process (it sets one of Open MPI's, PMIx's or Hydra's variables)."""
    return any(os.environ.get(v) for v in _LAUNCHED_BY_MPIEXEC)


def _ranks(ranks: Sequence[int]) -> str:
    return f"rank{'s' if len(ranks) != 1 else ''} {', '.join(map(str, ranks))}"


def duplicate_gpu(infos: Sequence[RankInfo]) -> str | None:
    """The error text when two ranks use one GPU of one host (NCCL refuses it), else None."""
    seen: dict[tuple[str, str], int] = {}
    for info in sorted(infos, key=lambda i: i.rank):
        if not info.gpu:
            continue
        first = seen.setdefault((info.host, info.gpu), info.rank)
        if first != info.rank:
            return (
                f"ranks {first} and {info.rank} both use GPU {info.gpu} on host {info.host}: NCCL needs "
                "one GPU per rank; give the ranks of one machine different LOCAL_RANK values (0 .. its "
                "number of GPUs - 1), as `ember run` and torchrun do"
            )
    return None


def exchange_unique_id(
    rank: int,
    world_size: int,
    master_addr: str | None,
    master_port: int | None,
    timeout: float,
    make_id: Callable[[], bytes],
    gpu: str = "",
) -> bytes:
    """The NCCL unique id of this job, on every rank: ``make_id()`` (called on rank 0 only) carried
    over MPI when mpiexec started the ranks and mpi4py is importable, else over TCP on
    ``master_addr:master_port``; a world of one exchanges nothing. ``gpu`` is this rank's GPU
    identity (two ranks with one GPU of one host are refused)."""
    if world_size == 1:
        return _checked_id(make_id(), rank, world_size)
    if launched_by_mpiexec() and importlib.util.find_spec("mpi4py") is not None:
        return exchange_over_mpi(rank, world_size, timeout, make_id, gpu)
    if master_addr is None or master_port is None:
        unset = [n for n, v in (("MASTER_ADDR", master_addr), ("MASTER_PORT", master_port)) if v is None]
        raise DistBackendError(
            f"NCCL rendezvous, rank {rank} of {world_size}: {' and '.join(unset)} "
            f"{'is' if len(unset) == 1 else 'are'} not set; the NCCL backend's ranks find rank 0 at "
            "MASTER_ADDR:MASTER_PORT when mpiexec did not start them: set both, the same on every "
            "rank (MASTER_ADDR=127.0.0.1 MASTER_PORT=29500 when every rank runs on this machine), or "
            "start the ranks with `ember run -n N script.py` "
            "(mpiexec, with ember-mpi installed)"
        )
    return exchange_over_tcp(rank, world_size, master_addr, master_port, timeout, make_id, gpu)


def _checked_id(uid: object, rank: int, world_size: int) -> bytes:
    if not isinstance(uid, (bytes, bytearray)) or len(uid) != ID_BYTES:
        shown = f"{type(uid).__name__} of length {len(uid)}" if hasattr(uid, "__len__") else repr(uid)
        raise DistBackendError(
            f"NCCL rendezvous, rank {rank} of {world_size}: the NCCL unique id must be {ID_BYTES} bytes, "
            f"got {shown}"
        )
    return bytes(uid)


# -- TCP -----------------------------------------------------------------------------------------
def exchange_over_tcp(
    rank: int,
    world_size: int,
    addr: str,
    port: int,
    timeout: float,
    make_id: Callable[[], bytes],
    gpu: str = "",
) -> bytes:
    """The id over TCP: rank 0 listens on ``port`` and answers every other rank once all have
    connected to ``addr:port``; each step is bounded by ``timeout`` seconds in all."""
    deadline = time.monotonic() + timeout
    where = f"NCCL rendezvous on {addr}:{port} (MASTER_ADDR:MASTER_PORT), rank {rank} of {world_size}"
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise DistBackendError(f"{where}: MASTER_PORT={port!r} is not a port number (1 .. 65535)")
    family = _resolve(addr, port, where, timeout, deadline)
    me = RankInfo(rank, socket.gethostname(), gpu)
    if rank == 0:
        return _serve(me, world_size, port, family, timeout, deadline, make_id, where)
    return _join(me, world_size, addr, port, timeout, deadline, where)


def _resolve(addr: str, port: int, where: str, timeout: float, deadline: float) -> int:
    """The address family of ``addr``, resolved in a thread so a stuck DNS cannot outlast the timeout."""
    found: list[Any] = []

    def lookup() -> None:
        try:
            found.append(socket.getaddrinfo(addr, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            found.append(exc)

    worker = threading.Thread(target=lookup, name="ember-nccl-resolve", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline - time.monotonic()))
    remedy = (
        "set MASTER_ADDR to the host name or IP address of rank 0's machine (127.0.0.1 when every "
        "rank runs on this one), the same on every rank"
    )
    if not found:
        raise DistTimeoutError(
            f"{where}: resolving MASTER_ADDR={addr!r} did not finish within {timeout:g} s (no answer "
            f"from the name service); {remedy}"
        )
    if isinstance(found[0], OSError) or not found[0]:
        why = getattr(found[0], "strerror", None) or found[0] or "no address"
        raise DistBackendError(f"{where}: MASTER_ADDR={addr!r} cannot be resolved ({why}); {remedy}")
    return found[0][0][0]


def _serve(
    me: RankInfo,
    world_size: int,
    port: int,
    family: int,
    timeout: float,
    deadline: float,
    make_id: Callable[[], bytes],
    where: str,
) -> bytes:
    """Rank 0: accept every other rank, check them, create the id and answer each."""
    try:
        server = socket.create_server(("", port), family=family, backlog=max(world_size, 8))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            hint = (
                "another process holds the port (an earlier job still running?): choose a free "
                "MASTER_PORT, the same on every rank"
            )
        elif exc.errno == errno.EACCES:
            hint = "ports below 1024 need privileges: choose a MASTER_PORT above 1023, the same on every rank"
        else:
            hint = "choose another MASTER_PORT (the same on every rank)"
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        raise DistBackendError(
            f"{where}: rank 0 cannot listen on port {port} for the other ranks: {why}; {hint}"
        ) from exc
    infos: dict[int, RankInfo] = {0: me}
    conns: list[socket.socket] = []
    status, message, uid = _OK, "", b""
    try:
        while len(infos) < world_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                missing = [r for r in range(world_size) if r not in infos]
                status, message = (
                    _TIMED_OUT,
                    (
                        f"{_ranks(missing)} did not arrive within {timeout:g} s ({_ranks(sorted(infos))} "
                        f"did): start every rank with the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE "
                        f"({world_size}), look for a rank that failed before init_process_group, or raise "
                        "init_process_group(timeout=...)"
                    ),
                )
                break
            server.settimeout(remaining)
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            try:
                info, their_world = _read_hello(conn, min(deadline, time.monotonic() + _HELLO_WAIT_S))
            except (
                OSError,
                ValueError,
                struct.error,
            ):  # not one of our ranks: a port scanner, a stray client
                conn.close()
                continue
            conns.append(conn)
            problem = _refusal(info, their_world, world_size, infos)
            if problem:
                status, message = _FAILED, problem
                break
            infos[info.rank] = info
        if status == _OK:
            problem = duplicate_gpu(list(infos.values()))
            if problem:
                status, message = _FAILED, problem
        if status == _OK:
            try:
                uid = _checked_id(make_id(), 0, world_size)
            except Exception as exc:
                status, message = (
                    _FAILED,
                    f"rank 0 could not create the NCCL unique id: {type(exc).__name__}: {exc}",
                )
        payload = uid if status == _OK else message.encode()
        for conn in conns:
            try:
                conn.settimeout(max(0.1, deadline - time.monotonic()))
                conn.sendall(_REPLY.pack(status, len(payload)) + payload)
            except OSError:
                pass  # that rank is gone; it fails on its own
    finally:
        for conn in conns:
            conn.close()
        server.close()
    if status == _TIMED_OUT:
        raise DistTimeoutError(f"{where}: {message}")
    if status == _FAILED:
        raise DistBackendError(f"{where}: {message}")
    return uid


def _refusal(info: RankInfo, their_world: int, world_size: int, infos: dict[int, RankInfo]) -> str | None:
    """Why rank 0 refuses a rank that said hello, or None."""
    if their_world != world_size:
        return (
            f"rank {info.rank} (host {info.host}) was started with WORLD_SIZE={their_world}, rank 0 with "
            f"WORLD_SIZE={world_size}: every rank needs the same WORLD_SIZE"
        )
    if info.rank in infos:
        return (
            f"two processes say they are rank {info.rank} (on hosts {infos[info.rank].host} and "
            f"{info.host}): every process needs its own RANK, 0 .. {world_size - 1}"
        )
    if not 0 < info.rank < world_size:
        return (
            f"a process on host {info.host} says it is rank {info.rank}, which is not a rank of a world "
            f"of {world_size}"
        )
    return None


def _recv_exact(conn: socket.socket, n: int, deadline: float) -> bytes:
    """``n`` bytes from ``conn`` by ``deadline``; TimeoutError, or ConnectionError when it closes."""
    chunks, got = [], 0
    while got < n:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        conn.settimeout(remaining)
        chunk = conn.recv(n - got)
        if not chunk:
            raise ConnectionError("connection closed")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _read_hello(conn: socket.socket, deadline: float) -> tuple[RankInfo, int]:
    magic, rank, world, length = _HELLO.unpack(_recv_exact(conn, _HELLO.size, deadline))
    if magic != _MAGIC:
        raise ValueError("not an Ember NCCL rank")
    info = RankInfo.from_json(_recv_exact(conn, length, deadline))
    if info.rank != rank:
        raise ValueError("inconsistent hello")
    return info, world


def _join(
    me: RankInfo, world_size: int, addr: str, port: int, timeout: float, deadline: float, where: str
) -> bytes:
    """Every rank but 0: connect (retrying until rank 0 listens), say hello, receive the id."""
    delay, last = 0.02, None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            why = f"{last.strerror or last}" if isinstance(last, OSError) else "no attempt finished"
            if isinstance(last, ConnectionRefusedError):
                why += ": nothing listens there"
            raise DistTimeoutError(
                f"{where}: could not reach rank 0 within {timeout:g} s (last error: {why}); check that "
                "rank 0 is running with the same MASTER_ADDR and MASTER_PORT, that MASTER_ADDR is rank "
                "0's machine and the port is reachable from here (firewall), or raise "
                "init_process_group(timeout=...)"
            )
        try:
            conn = socket.create_connection((addr, port), timeout=remaining)
            break
        except OSError as exc:  # refused (rank 0 not listening yet), unreachable, timed out
            last = exc
            time.sleep(max(0.0, min(delay, deadline - time.monotonic())))
            delay = min(delay * 2, 0.5)
    stranger = (
        "rank 0 failed, or another program holds MASTER_PORT on rank 0's machine: choose a free "
        "MASTER_PORT, the same on every rank"
    )
    with conn:
        try:
            info = me.to_json()
            conn.settimeout(max(0.001, deadline - time.monotonic()))
            conn.sendall(_HELLO.pack(_MAGIC, me.rank, world_size, len(info)) + info)
            status, length = _REPLY.unpack(_recv_exact(conn, _REPLY.size, deadline))
            if status not in (_OK, _FAILED, _TIMED_OUT) or (status == _OK and length != ID_BYTES):
                raise DistBackendError(
                    f"{where}: the process at {addr}:{port} answered something that is not an Ember NCCL "
                    f"rendezvous reply; {stranger}"
                )
            payload = _recv_exact(conn, length, deadline)
        except TimeoutError:
            raise DistTimeoutError(
                f"{where}: rank 0 accepted the connection but sent no NCCL id within {timeout:g} s: it "
                "is still waiting for other ranks (its own error names the missing ones); start every "
                "rank with the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE, or raise "
                "init_process_group(timeout=...)"
            ) from None
        except OSError as exc:  # closed or reset before the reply
            raise DistBackendError(
                f"{where}: the process at {addr}:{port} closed the connection without sending the NCCL id "
                f"({exc.strerror or exc}); {stranger}"
            ) from None
    if status == _OK:
        return payload
    error = DistTimeoutError if status == _TIMED_OUT else DistBackendError
    raise error(f"{where}: rank 0 ended the rendezvous: {payload.decode(errors='replace')}")


# -- MPI -----------------------------------------------------------------------------------------
def exchange_over_mpi(
    rank: int, world_size: int, timeout: float, make_id: Callable[[], bytes], gpu: str = ""
) -> bytes:
    """The id over ``MPI.COMM_WORLD`` (mpiexec started the ranks): an all-gather of each rank's
    host and GPU, then a broadcast of the id from rank 0, both non-blocking and polled until
    ``timeout`` seconds have passed."""
    from mpi4py import MPI

    deadline = time.monotonic() + timeout
    world = MPI.COMM_WORLD
    where = f"NCCL rendezvous over MPI, rank {rank} of {world_size}"
    if world.Get_size() != world_size or world.Get_rank() != rank:
        raise DistBackendError(
            f"{where}: MPI sees rank {world.Get_rank()} of {world.Get_size()}, but init_process_group was "
            f"told rank {rank} of {world_size} (from the arguments or RANK / WORLD_SIZE); under mpiexec "
            "leave RANK and WORLD_SIZE unset"
        )
    mine = RankInfo(rank, socket.gethostname(), gpu).to_json()
    if len(mine) > _MPI_INFO_BYTES:
        raise DistBackendError(
            f"{where}: this rank's host name and GPU id take {len(mine)} bytes (at most {_MPI_INFO_BYTES})"
        )
    send = bytearray(mine.ljust(_MPI_INFO_BYTES, b"\0"))
    gathered = bytearray(_MPI_INFO_BYTES * world_size)
    _wait(
        world.Iallgather([send, MPI.BYTE], [gathered, MPI.BYTE]), deadline, timeout, where, "hosts and GPUs"
    )
    infos = [
        RankInfo.from_json(bytes(gathered[r * _MPI_INFO_BYTES : (r + 1) * _MPI_INFO_BYTES]).rstrip(b"\0"))
        for r in range(world_size)
    ]
    problem = duplicate_gpu(infos)
    if problem:  # every rank has every info: each raises the same error, no more messages needed
        raise DistBackendError(f"{where}: {problem}")
    buf = bytearray(1 + ID_BYTES)
    failure: Exception | None = None
    if rank == 0:
        try:
            buf[1:] = _checked_id(make_id(), 0, world_size)
        except Exception as exc:
            buf[0], failure = _FAILED, exc
    _wait(world.Ibcast([buf, MPI.BYTE], root=0), deadline, timeout, where, "the NCCL id")
    if failure is not None:
        raise DistBackendError(
            f"{where}: rank 0 could not create the NCCL unique id: {type(failure).__name__}: {failure}"
        ) from failure
    if buf[0] != _OK:
        raise DistBackendError(
            f"{where}: rank 0 could not create the NCCL unique id (its own error says why)"
        )
    return bytes(buf[1:])


def _wait(request: Any, deadline: float, timeout: float, where: str, what: str) -> None:
    pause = 1e-4
    while not request.Test():
        if time.monotonic() > deadline:
            raise DistTimeoutError(
                f"{where}: the exchange of {what} did not complete within {timeout:g} s: a rank has not "
                "reached init_process_group (look for one that failed or stopped early), or raise "
                "init_process_group(timeout=...)"
            )
        time.sleep(pause)
        pause = min(pause * 2, 0.01)
