"""Run by the tests with 2 ranks: one way for a job to fail, chosen by argv[1].

raise          rank 1 raises while rank 0 waits in a blocking all_reduce (long timeout)
timeout        rank 0's blocking all_reduce times out (2 s) while rank 1 sleeps
async_timeout  rank 0's wait(timeout=1) on an async all_reduce raises while rank 1 sleeps
mismatch       with EMBER_DISTRIBUTED_DEBUG=DETAIL: rank 0 all_reduces, rank 1 broadcasts
"""

from __future__ import annotations

import sys
import time

import ember
import ember.distributed as dist

mode = sys.argv[1]
dist.init_process_group(timeout=2 if mode == "timeout" else 600)
rank = dist.get_rank()
x = ember.ones(4, 3)
print(f"rank {rank} ready", flush=True)
if mode == "raise":
    if rank == 1:
        raise ValueError("rank 1 broke on purpose")
    dist.all_reduce(x)
elif mode == "timeout":
    if rank == 0:
        dist.all_reduce(x)
    else:
        time.sleep(120)
elif mode == "async_timeout":
    if rank == 0:
        work = dist.all_reduce(x, async_op=True)
        try:
            work.wait(timeout=1)
        except dist.DistTimeoutError as exc:
            print(f"CAUGHT {type(exc).__name__}: {exc}", flush=True)
            raise
    else:
        time.sleep(120)
elif mode == "mismatch":
    if rank == 0:
        dist.all_reduce(x)
    else:
        dist.broadcast(ember.ones(4), src=0)
print(f"rank {rank} finished", flush=True)
