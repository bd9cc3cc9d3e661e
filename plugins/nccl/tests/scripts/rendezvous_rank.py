"""One rank of the NCCL id exchange, run as a real process by the tests (no CuPy needed).

    python rendezvous_rank.py RANK WORLD_SIZE MASTER_ADDR MASTER_PORT TIMEOUT GPU

Rank 0 makes a random 128-byte id (as ``ncclGetUniqueId`` would); every rank prints ``ID <hex>``
once it has the id, or ``ERROR <type>: <message>`` and exits with status 3, then ``TOOK <s>``.
With MASTER_ADDR ``mpi`` the exchange goes over MPI (the ranks started by mpiexec, rank and
world size from MPI).
"""

from __future__ import annotations

import os
import sys
import time

from ember.distributed.contract import DistError
from ember_nccl.rendezvous import exchange_over_mpi, exchange_unique_id


def main() -> int:
    rank, world, addr, port, timeout, gpu = sys.argv[1:7]
    start = time.monotonic()
    try:
        if addr == "mpi":
            from mpi4py import MPI

            uid = exchange_over_mpi(
                MPI.COMM_WORLD.Get_rank(),
                MPI.COMM_WORLD.Get_size(),
                float(timeout),
                lambda: os.urandom(128),
                gpu,
            )
        else:
            uid = exchange_unique_id(
                int(rank), int(world), addr, int(port), float(timeout), lambda: os.urandom(128), gpu
            )
    except DistError as exc:
        print(f"ERROR {type(exc).__name__}: {exc}", flush=True)
        print(f"TOOK {time.monotonic() - start:.2f}", flush=True)
        return 3
    print(f"ID {uid.hex()}", flush=True)
    print(f"TOOK {time.monotonic() - start:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
