"""The nccl backend on a real GPU: a world of one on one GPU (NCCL refuses two ranks on one GPU),
every collective and dtype against numpy, stream ordering, async work, timeouts, the refusals,
and DistributedDataParallel. Skipped, with the reason ``ember info`` gives ("CuPy is not
installed", "no CUDA device: ..."), where CuPy, NCCL or a GPU is missing; scripts/gpu_check.sh
runs it on a GPU machine.

In a world of one, the reductions' result is the rank's own tensor (AVG included), broadcast
leaves it as it is, all_gather and reduce_scatter copy it: what is checked is that NCCL gets the
right pointers, counts and dtypes (a wrong one reads or writes the wrong bytes), in place, after
the kernels that produced the input.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import ember
import ember.distributed as dist
import numpy as np
import pytest
from ember.distributed import CommBackendUnavailable


def _unavailable() -> str | None:
    from ember_nccl.group import NcclProcessGroup

    try:
        NcclProcessGroup.check_available()
    except CommBackendUnavailable as exc:
        return exc.reason
    return None


REASON = _unavailable()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"nccl backend unavailable: {REASON}")

SCRIPTS = Path(__file__).parent / "scripts"
DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")
OPS = tuple(dist.ReduceOp)
_RANK_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "EMBER_DISTRIBUTED_DEBUG")


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OMPI_", "PMI", "EMBER_")) and k not in _RANK_VARS
    }
    return env | extra


@pytest.fixture(scope="module")
def group():
    """A world of one on cuda:0 with the nccl backend."""
    saved = {k: os.environ.pop(k) for k in _RANK_VARS if k in os.environ}
    dist.init_process_group(backend="nccl", rank=0, world_size=1, timeout=60)
    try:
        assert dist.get_backend() == "nccl"
        yield
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
        os.environ.update(saved)


def values(dtype: str, shape: tuple[int, ...] = (5, 7)) -> np.ndarray:
    rng = np.random.default_rng(abs(hash(dtype)) % 2**32)
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, -100), min(info.max, 100), shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def on_gpu(a: np.ndarray) -> ember.Tensor:
    return ember.tensor(a, device="cuda")


@pytest.mark.parametrize("dtype", DTYPES)
def test_all_reduce_every_op(group, dtype: str) -> None:
    a = values(dtype)
    for op in OPS:
        if op is dist.ReduceOp.AVG and not np.issubdtype(a.dtype, np.floating):
            continue
        x = on_gpu(a)
        if dtype == "int16":
            with pytest.raises(dist.DistBackendError) as info:
                dist.all_reduce(x, op=op)
            assert "all_reduce: NCCL cannot reduce int16 tensors (it has no 16-bit integer type); " in str(
                info.value
            )
            assert "supported dtypes: bool, uint8, int8, int32, int64, float16, float32, float64" in str(
                info.value
            )
            continue
        dist.all_reduce(x, op=op)
        np.testing.assert_array_equal(x.numpy(), a, err_msg=f"all_reduce {op} on {dtype}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_broadcast_all_gather_and_reduce_scatter(group, dtype: str) -> None:
    a = values(dtype)
    x = on_gpu(a)
    dist.broadcast(x, 0)
    np.testing.assert_array_equal(x.numpy(), a)
    # all_gather into the middle row of a larger tensor: the rows around it must stay untouched
    fill = np.zeros((3, *a.shape), dtype=a.dtype)
    big = on_gpu(fill)
    dist.all_gather([big[1]], x)
    got = big.numpy()
    np.testing.assert_array_equal(got[1], a)
    np.testing.assert_array_equal(got[[0, 2]], fill[[0, 2]])
    out = on_gpu(np.zeros_like(a))
    if dtype == "int16":
        with pytest.raises(dist.DistBackendError, match="reduce_scatter: NCCL cannot reduce int16 tensors"):
            dist.reduce_scatter(out, [x])
        return
    for op in (dist.ReduceOp.SUM, dist.ReduceOp.MAX):
        out = on_gpu(np.zeros_like(a))
        dist.reduce_scatter(out, [x], op=op)
        np.testing.assert_array_equal(out.numpy(), a)


def test_empty_and_zero_dim_tensors(group) -> None:
    e = ember.zeros(0, device="cuda")
    dist.all_reduce(e)
    dist.broadcast(e, 0)
    dist.all_gather([ember.zeros(0, device="cuda")], e)
    s = ember.tensor(3.5, device="cuda")
    dist.all_reduce(s, op=dist.ReduceOp.AVG)
    assert s.item() == 3.5
    dist.barrier()


def test_collectives_run_after_the_kernels_that_produced_their_input(group) -> None:
    """The input is written by a kernel queued behind a 0.3 s spin on the current stream; a
    collective that did not wait for it would gather zeros."""
    sys.path.insert(0, str(SCRIPTS))
    from gpu_scenarios import spin

    x = ember.zeros(1 << 20, device="cuda")
    spin(0.3)
    x.fill_(5.0)
    outs = [ember.zeros(1 << 20, device="cuda")]
    dist.all_gather(outs, x)
    assert float(outs[0].numpy().min()) == 5.0 and float(outs[0].numpy().max()) == 5.0
    y = ember.zeros(1 << 20, device="cuda")
    spin(0.3)
    y.fill_(2.0)
    dist.all_reduce(y, op=dist.ReduceOp.PRODUCT)
    assert float(y.numpy().min()) == 2.0


def test_async_work_is_pending_then_completes(group) -> None:
    sys.path.insert(0, str(SCRIPTS))
    from gpu_scenarios import spin

    x = ember.full((1000,), 1.5, device="cuda")
    spin(0.5)
    work = dist.all_reduce(x, op=dist.ReduceOp.AVG, async_op=True)
    assert not work.is_completed(), "the all_reduce completed before the kernel it waits behind"
    assert work.wait(timeout=30) is True and work.is_completed()
    assert work.result()[0] is x and float(x.numpy().max()) == 1.5
    b = dist.barrier(async_op=True)
    assert b.wait() and b.result() == []


def test_tensors_on_the_cpu_are_refused(group) -> None:
    with pytest.raises(
        dist.DistBackendError,
        match=r"all_reduce: backend 'nccl' does not support tensors on cpu \(it moves tensors on cuda\); "
        r"move the tensor \(\.to\('cuda'\)\)",
    ):
        dist.all_reduce(ember.ones(3))


def test_the_process_group_refuses_tensors_of_another_gpu(group) -> None:
    import cupy

    if cupy.cuda.runtime.getDeviceCount() < 2:
        pytest.skip("one GPU here: no tensor can be on another GPU than the rank's")
    with pytest.raises(
        dist.DistBackendError, match=r"the tensor is on cuda:1, but rank 0's NCCL communicator"
    ):
        dist.all_reduce(ember.ones(3, device="cuda:1"))


def test_debug_detail_checks_calls_through_nccl() -> None:
    code = (
        "import ember, ember.distributed as dist\n"
        "dist.init_process_group(backend='nccl', rank=0, world_size=1)\n"
        "x = ember.ones(4, 3, device='cuda')\n"
        "dist.all_reduce(x); dist.barrier(); dist.broadcast(x, 0)\n"
        "print('DETAIL OK', x.numpy().sum())\n"
        "dist.destroy_process_group()\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(EMBER_DISTRIBUTED_DEBUG="DETAIL"),
    )
    assert res.returncode == 0 and "DETAIL OK 12.0" in res.stdout, res.stdout + res.stderr


@pytest.mark.parametrize("mode", ["async_timeout", "blocking_timeout"])
def test_a_collective_past_its_timeout_raises_aborts_and_a_new_group_works(mode: str) -> None:
    res = subprocess.run(
        [sys.executable, str(SCRIPTS / "gpu_scenarios.py"), mode],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
    )
    assert res.returncode == 0, res.stdout + res.stderr
    limit = 0.5 if mode == "async_timeout" else 2  # Work.wait(timeout=0.5), else the group's 2 s
    assert (
        f"CAUGHT all_reduce (shape (4,), float32, SUM) on rank 0 of 1 did not complete within {limit:g} s "
        "(backend 'nccl'): the backend cannot tell which ranks did not arrive"
    ) in res.stdout, res.stdout + res.stderr
    took = float(next(ln for ln in res.stdout.splitlines() if ln.startswith("TOOK")).split()[1])
    assert took < limit + 1.5, f"the timeout of {limit} s took {took} s to raise"
    if mode == "async_timeout":
        assert "PENDING True" in res.stdout
    assert "NEXT all_reduce: the nccl process group of rank 0 cannot be used any more" in res.stdout
    assert "AGAIN [2.0, 2.0, 2.0]" in res.stdout, res.stdout + res.stderr


def test_two_ranks_on_one_gpu_are_refused_naming_both() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    procs = [
        subprocess.Popen(
            [sys.executable, str(SCRIPTS / "gpu_scenarios.py"), "init"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(RANK=str(r), WORLD_SIZE="2", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1", MASTER_PORT=port),
        )
        for r in (0, 1)
    ]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert "CAUGHT NCCL rendezvous on 127.0.0.1:" in out, out + err
        assert "ranks 0 and 1 both use GPU " in out and "NCCL needs one GPU per rank" in out, out + err


def test_distributed_data_parallel_on_one_gpu_with_nccl() -> None:
    res = subprocess.run(
        [sys.executable, str(SCRIPTS / "ddp_one_gpu.py")],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "DDP on cuda with nccl: 8 steps match plain training" in res.stdout
