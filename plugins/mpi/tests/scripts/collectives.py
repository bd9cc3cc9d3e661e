"""Run by the tests with 2+ ranks: every collective on every device given, checked against numpy.

Each rank computes what every collective must give from the values all ranks contribute (a
function of the rank), so any rank can check its result alone. Prints one line per device.
"""

from __future__ import annotations

import sys

import ember
import ember.distributed as dist
import numpy as np

DTYPES = ("float32", "float64", "float16", "int64", "int32", "int8", "uint8", "bool")


def values(rank: int, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """What rank ``rank`` contributes: small numbers, so sums and products are exact."""
    n = int(np.prod(shape))
    if dtype == "bool":
        return ((np.arange(n) + rank) % 3 == 0).reshape(shape)
    return ((np.arange(n) * (rank + 2)) % 5 + 1).astype(dtype).reshape(shape)


def reduce(arrays: list[np.ndarray], op: dist.ReduceOp) -> np.ndarray:
    if arrays[0].dtype == np.bool_:
        any_, all_ = np.logical_or.reduce(arrays), np.logical_and.reduce(arrays)
        return any_ if op in (dist.ReduceOp.SUM, dist.ReduceOp.MAX) else all_
    stacked = np.stack(arrays)
    if op is dist.ReduceOp.SUM:
        return stacked.sum(0).astype(arrays[0].dtype)
    if op is dist.ReduceOp.AVG:
        return (stacked.sum(0) / len(arrays)).astype(arrays[0].dtype)
    if op is dist.ReduceOp.PRODUCT:
        return stacked.prod(0).astype(arrays[0].dtype)
    return (stacked.min(0) if op is dist.ReduceOp.MIN else stacked.max(0)).astype(arrays[0].dtype)


def check(got: ember.Tensor, want: np.ndarray, what: str) -> None:
    a = got.numpy()
    tol = 1e-3 if a.dtype == np.float16 else 1e-6
    ok = np.array_equal(a, want) if a.dtype.kind in "biu" else np.allclose(a, want, rtol=tol, atol=tol)
    if not ok or a.dtype != want.dtype or a.shape != want.shape:
        raise AssertionError(f"rank {dist.get_rank()}: {what}: got {a!r}, expected {want!r}")


def run(device: str) -> int:
    rank, world = dist.get_rank(), dist.get_world_size()
    checks = 0
    for dtype in DTYPES:
        for shape in ((2, 3), (), (5,)):
            mine = values(rank, dtype, shape)
            everyone = [values(r, dtype, shape) for r in range(world)]
            for op in dist.ReduceOp:
                if op is dist.ReduceOp.AVG and dtype not in ("float32", "float64", "float16"):
                    continue
                x = ember.tensor(mine, device=device)
                before = x._version[0]
                assert dist.all_reduce(x, op=op) is None
                check(x, reduce(everyone, op), f"all_reduce {op.name} {dtype} {shape} on {device}")
                assert x._version[0] > before, "all_reduce did not bump the version counter"
                checks += 1
            for src in range(world):  # broadcast from every rank, rank 1 included
                x = ember.tensor(mine, device=device)
                dist.broadcast(x, src=src)
                check(x, everyone[src], f"broadcast src={src} {dtype} {shape}")
                checks += 1
            outs = [ember.zeros(shape, dtype=dtype, device=device) for _ in range(world)]
            dist.all_gather(outs, ember.tensor(mine, device=device))
            for r in range(world):
                check(outs[r], everyone[r], f"all_gather [{r}] {dtype} {shape}")
            checks += 1
            # reduce_scatter: rank r contributes values(r + 10 * i) as its input for rank i
            ins = [ember.tensor(values(rank + 10 * i, dtype, shape), device=device) for i in range(world)]
            out = ember.zeros(shape, dtype=dtype, device=device)
            dist.reduce_scatter(out, ins, op=dist.ReduceOp.SUM)
            check(
                out,
                reduce([values(r + 10 * rank, dtype, shape) for r in range(world)], dist.ReduceOp.SUM),
                f"reduce_scatter {dtype} {shape}",
            )
            checks += 1
    # several non-blocking collectives in flight, of different kinds, completed out of order
    xs = [ember.full((1000 + i,), float(rank + i), device=device) for i in range(4)]
    bc = ember.full((7,), float(rank), device=device)
    gathered = [ember.zeros(3, device=device) for _ in range(world)]
    works = [dist.all_reduce(x, async_op=True) for x in xs]
    works.append(dist.broadcast(bc, src=world - 1, async_op=True))
    works.append(dist.all_gather(gathered, ember.full((3,), float(rank), device=device), async_op=True))
    works.append(dist.barrier(async_op=True))
    for w in reversed(works):
        assert w.wait(timeout=60) is True and w.is_completed()
    for i, x in enumerate(xs):
        check(x, np.full(1000 + i, sum(r + i for r in range(world)), np.float32), f"async all_reduce {i}")
    check(bc, np.full(7, world - 1, np.float32), "async broadcast")
    for r in range(world):
        check(gathered[r], np.full(3, r, np.float32), "async all_gather")
    assert works[0].result()[0] is xs[0]
    # a tensor that requires grad (a parameter): reduced in place, still a leaf
    w = ember.full((3,), float(rank + 1), device=device, requires_grad=True)
    dist.all_reduce(w, op=dist.ReduceOp.AVG)
    check(w.detach(), np.full(3, (world + 1) / 2, np.float32), "all_reduce of a leaf that requires grad")
    assert w.requires_grad and w.is_leaf
    # a contiguous view is reduced in place inside its base
    base = ember.zeros(4, 3, device=device)
    base[1] = float(rank + 1)
    dist.all_reduce(base[1])
    check(
        base,
        np.stack([np.zeros(3), np.full(3, world * (world + 1) / 2), np.zeros(3), np.zeros(3)]).astype(
            np.float32
        ),
        "view",
    )
    dist.barrier()
    return checks + 6


def main() -> None:
    dist.init_process_group(timeout=120)
    for device in sys.argv[1:] or ["cpu"]:
        n = run(device)
        print(
            f"rank {dist.get_rank()} of {dist.get_world_size()} on {device}: {n} collectives checked",
            flush=True,
        )
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
