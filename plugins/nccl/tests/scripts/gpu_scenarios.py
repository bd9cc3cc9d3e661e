"""GPU scenarios of the nccl backend that run in a process of their own (a timed-out collective
leaves the communicator aborted, which no later test should share). Needs CuPy, NCCL and a GPU.

    python gpu_scenarios.py async_timeout | blocking_timeout | init

``async_timeout`` / ``blocking_timeout``: a world of one whose all_reduce waits behind a kernel
that spins for 6 s on the current stream, with a timeout of 0.5 s (``Work.wait``) or 2 s (the
group's, for the blocking call): prints ``CAUGHT <error>``, then
what the next collective says, then that a new group works. ``init``: joins the group the
environment describes (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) and prints ``OK`` or
``CAUGHT <error>``.
"""

from __future__ import annotations

import sys
import time

import cupy
import ember
import ember.distributed as dist

# the GPU's nanosecond timer (not clock64: SM clock rates vary, and CUDA 13 drops clockRate)
_SPIN = r"""
extern "C" __global__ void spin(unsigned long long ns) {
    unsigned long long start, now;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
    do {
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
    } while (now - start < ns);
}
"""


def spin(seconds: float) -> None:
    """Queue a kernel on the current stream that keeps the GPU busy for ``seconds``."""
    cupy.RawKernel(_SPIN, "spin")((1,), (1,), (cupy.uint64(int(seconds * 1e9)),))


def timeout(async_op: bool) -> None:
    x = ember.ones(4, device="cuda")  # CUDA is up before the group's (2 s) timeout starts counting
    dist.init_process_group(backend="nccl", rank=0, world_size=1, timeout=2)
    spin(6.0)
    start = time.monotonic()
    try:
        if async_op:
            work = dist.all_reduce(x, async_op=True)
            print("PENDING", not work.is_completed(), flush=True)
            work.wait(timeout=0.5)
        else:
            dist.all_reduce(x)
    except dist.DistTimeoutError as exc:
        print(f"CAUGHT {exc}", flush=True)
    print(f"TOOK {time.monotonic() - start:.2f}", flush=True)
    try:
        dist.all_reduce(x)
    except dist.DistBackendError as exc:
        print(f"NEXT {exc}", flush=True)
    dist.destroy_process_group()
    cupy.cuda.Device().synchronize()  # the spin ends; the device is still healthy
    dist.init_process_group(backend="nccl", rank=0, world_size=1, timeout=30)
    y = ember.full((3,), 2.0, device="cuda")
    dist.all_reduce(y, op=dist.ReduceOp.MAX)
    print("AGAIN", y.tolist(), flush=True)
    dist.destroy_process_group()


def init() -> None:
    try:
        dist.init_process_group(backend="nccl", timeout=30)
    except dist.DistError as exc:
        print(f"CAUGHT {exc}", flush=True)
        return
    print("OK", dist.get_rank(), dist.get_world_size(), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "init":
        init()
    else:
        timeout(async_op=mode == "async_timeout")
