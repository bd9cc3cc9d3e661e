"""ember.distributed on this machine: all_reduce against the same MPI called through mpi4py, and
DistributedDataParallel training throughput on 1 and 2 ranks.

Usage: python benchmarks/bench_distributed.py [--rounds N]

It starts its own jobs with the launcher (``python -m ember.distributed.run -n 2 ...``, needs
``ember-mpi`` and an mpiexec: ``make setup`` installs both) and prints two Markdown tables:

- all_reduce (SUM, float32) of 4 KiB, 4 MiB and 64 MiB between 2 ranks: Ember's blocking
  ``all_reduce`` and ``all_reduce(async_op=True).wait()`` against ``comm.Allreduce(IN_PLACE)``
  on the same buffer, interleaved round by round in one job (the variants take turns at going
  first); medians over rounds, Ember's overhead per call, the ratio mpi4py time / Ember time
  (Ember's share of mpi4py's bandwidth: 1 is parity, below 1 Ember is slower) with its quartiles
  over rounds, algorithm and bus bandwidth (bus = algorithm x 2(n-1)/n).
- DDP on an MLP (784-1024-1024-10, 1.9 M parameters, 1 MiB buckets, batch 64 per rank, SGD): samples/s on 1
  and 2 ranks, scaling efficiency, and the share of gradient communication that backward does not
  hide: (DDP step - step without communication) / (step with every bucket all-reduced after
  backward - step without communication).

This machine's ranks share 2 cores with each other (and with other jobs): the load average is
printed with the tables, and ratios measured side by side mean more than the absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
#: size -> (bytes, calls per round, rounds at --rounds 1): short rounds, interleaved, so that the
#: load of a shared machine falls on every variant alike
SIZES = {"4 KiB": (4 << 10, 200, 6), "4 MiB": (4 << 20, 5, 4), "64 MiB": (64 << 20, 1, 2)}


# -- inside the ranks ---------------------------------------------------------------------------
def _timed(fn, calls: int) -> float:  # noqa: ANN001
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def worker_allreduce(rounds: int) -> None:
    import ember
    import ember.distributed as dist
    import numpy as np
    from mpi4py import MPI

    dist.init_process_group()
    comm = MPI.COMM_WORLD.Dup()
    results = {}
    for label, (nbytes, calls, per_round) in SIZES.items():
        n = nbytes // 4
        t = ember.ones(n)
        raw = np.ones(n, dtype=np.float32)
        rows: dict[str, list[float]] = {"mpi4py": [], "ember": [], "ember async": []}
        variants = {
            "mpi4py": lambda raw=raw: comm.Allreduce(MPI.IN_PLACE, raw),
            "ember": lambda t=t: dist.all_reduce(t),
            "ember async": lambda t=t: dist.all_reduce(t, async_op=True).wait(),
        }
        for fn in variants.values():  # warm up
            fn()
        names = list(variants)
        for i in range(rounds * per_round):
            # the variants take turns at going first: the first after a barrier measured 1.3x
            # slower or faster at 4 MiB depending on which it was
            for name in names[i % len(names) :] + names[: i % len(names)]:
                comm.Barrier()
                rows[name].append(_timed(variants[name], calls))
        results[label] = {"bytes": nbytes, **rows}
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps({"world": dist.get_world_size(), "allreduce": results}), flush=True)
    dist.destroy_process_group()


def worker_ddp(steps: int) -> None:
    import ember
    import ember.distributed as dist
    import ember.nn as nn
    import ember.nn.functional as F
    from ember.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group()
    rank, world = dist.get_rank(), dist.get_world_size()
    ember.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10)
    )
    ddp = DDP(model, bucket_cap_mb=1)  # 1 MiB buckets: several, so communication can overlap backward
    opt = ember.optim.SGD(ddp.parameters(), lr=0.01)
    batch = 64
    ember.manual_seed(1 + rank)
    x, y = ember.randn(batch, 784), ember.randint(0, 10, (batch,))

    def step(mode: str) -> None:
        opt.zero_grad()
        if mode == "local":
            with ddp.no_sync():
                F.cross_entropy(ddp(x), y).backward()
        elif mode == "after":  # communication not overlapped: every bucket after backward
            with ddp.no_sync():
                F.cross_entropy(ddp(x), y).backward()
            for b in ddp._buckets:
                flat = ember.cat([p.grad.reshape(-1) for p in b.params])
                dist.all_reduce(flat, op=dist.ReduceOp.AVG)
        else:
            F.cross_entropy(ddp(x), y).backward()
        opt.step()

    times: dict[str, list[float]] = {"ddp": [], "local": [], "after": []}
    for mode in times:
        step(mode)
    for _ in range(steps):
        for mode in times:
            dist.barrier()
            t0 = time.perf_counter()
            step(mode)
            times[mode].append(time.perf_counter() - t0)
    if rank == 0:
        print(
            "RESULT "
            + json.dumps({"world": world, "batch": batch, "ddp": times, "buckets": len(ddp._buckets)})
        )
    dist.destroy_process_group()


# -- the driver ---------------------------------------------------------------------------------
def launch(n: int, *args: str) -> dict:
    cmd = [sys.executable, "-m", "ember.distributed.run", "-n", str(n), "--timeout", "900", str(HERE), *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=960)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    line = next(line for line in out.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def _fmt(s: float) -> str:
    return f"{s * 1e6:.1f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def allreduce_table(res: dict) -> str:
    """One row per size: medians over rounds; the ratio is mpi4py's time over Ember's in each
    round (Ember's share of mpi4py's bandwidth), its median and spread (quartiles) over rounds."""
    n = res["world"]
    lines = [
        "| size | mpi4py | ember | ember - mpi4py | mpi4py/ember time (quartiles) | ember async | "
        "mpi4py/async time | algbw (ember) | busbw (ember) |",
        "|" + "---|" * 9,
    ]
    for label, r in res["allreduce"].items():
        raw, em, asy = (statistics.median(r[k]) for k in ("mpi4py", "ember", "ember async"))
        ratios = sorted(a / b for a, b in zip(r["mpi4py"], r["ember"]))
        q1, q3 = ratios[len(ratios) // 4], ratios[(3 * len(ratios)) // 4]
        over = statistics.median(b - a for a, b in zip(r["mpi4py"], r["ember"]))
        async_ratio = statistics.median(a / b for a, b in zip(r["mpi4py"], r["ember async"]))
        algbw = r["bytes"] / em / 1e9
        lines.append(
            f"| {label} | {_fmt(raw)} | {_fmt(em)} | {_fmt(over)} | {statistics.median(ratios):.2f} "
            f"({q1:.2f}-{q3:.2f}) | {_fmt(asy)} | {async_ratio:.2f} | {algbw:.2f} GB/s | "
            f"{algbw * 2 * (n - 1) / n:.2f} GB/s |"
        )
    return "\n".join(lines)


def ddp_table(one: dict, two: dict) -> str:
    lines = [
        "| ranks | step (DDP) | samples per s | scaling efficiency | step, no communication | "
        "step, all-reduce after backward | communication not hidden |",
        "|" + "---|" * 7,
    ]
    base = None
    for res in (one, two):
        t = {k: statistics.median(v) for k, v in res["ddp"].items()}
        sps = res["world"] * res["batch"] / t["ddp"]
        base = base or sps
        eff = sps / (base * res["world"])
        exposed = (
            (t["ddp"] - t["local"]) / (t["after"] - t["local"]) if t["after"] > t["local"] else float("nan")
        )
        hidden = "-" if res["world"] == 1 else f"{exposed:.0%}"
        lines.append(
            f"| {res['world']} | {_fmt(t['ddp'])} | {sps:.0f} | {eff:.0%} | {_fmt(t['local'])} | "
            f"{_fmt(t['after'])} | {hidden} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5, help="scale of the interleaved rounds (default 5)")
    p.add_argument("--steps", type=int, default=15, help="timed DDP steps per mode (default 15)")
    p.add_argument("--worker", choices=["allreduce", "ddp"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker == "allreduce":
        worker_allreduce(args.rounds)
        return 0
    if args.worker == "ddp":
        worker_ddp(args.steps)
        return 0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"## all_reduce, 2 ranks, float32 SUM, {args.rounds} interleaved rounds (load average {load:.2f})\n"
    )
    print(allreduce_table(launch(2, "--worker", "allreduce", "--rounds", str(args.rounds))))
    one = launch(1, "--worker", "ddp", "--steps", str(args.steps))
    two = launch(2, "--worker", "ddp", "--steps", str(args.steps))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n## DDP, MLP 784-1024-1024-10, batch 64 per rank, {two['buckets']} buckets (load {load:.2f})\n")
    print(ddp_table(one, two))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
