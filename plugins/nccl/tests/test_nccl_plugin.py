"""The nccl backend as a plugin, on any machine: discovery through its real entry point, what
``ember info`` and ``init_process_group`` say where it cannot run (no CuPy, no GPU), that the
declaration imports no CuPy, and the refusal of cpu tensors.

What these tests expect depends on the machine, which they find out first: without CuPy the
backend is unavailable with the reason "CuPy is not installed", with CuPy but no GPU "no CUDA
device: ...", with both it is available (and ``test_nccl_gpu.py`` runs it).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import ember
import ember.distributed as dist
import pytest
from ember.distributed import process_group
from ember.distributed.backends import communication_backends, reload


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("EMBER_", "OMPI_", "PMI"))}


def expected_reason() -> str | None:
    """The start of the reason the backend gives here, or None where it can run."""
    if importlib.util.find_spec("cupy") is None:
        return "CuPy is not installed"
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() <= 0:
            return "no CUDA device"
    except Exception:
        return "no CUDA device"
    from cupy.cuda import nccl

    return (
        None if getattr(nccl, "available", True) else f"CuPy {cupy.__version__} cannot load the NCCL library"
    )


def test_the_plugin_declares_nccl_for_cuda_tensors_without_importing_cupy() -> None:
    code = (
        "import sys, ember\n"
        "from ember.distributed.backends import communication_backends\n"
        "rec = communication_backends().records['nccl']\n"
        "d = rec.declaration\n"
        "print(rec.status, rec.distribution, d.implementation, d.device_types, 'cupy' in sys.modules)\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert (
        res.stdout.split("\n")[0] == "declared ember-nccl ember_nccl.group:NcclProcessGroup ('cuda',) False"
    )


def test_ember_info_shows_the_backend_and_why_it_cannot_run_here() -> None:
    info = [sys.executable, "-m", "ember", "info"]
    res = subprocess.run([*info, "--json"], capture_output=True, text=True, env=_env(), timeout=180)
    assert res.returncode == 0, res.stderr
    nccl = {b["name"]: b for b in json.loads(res.stdout)["distributed_backends"]}["nccl"]
    assert nccl["distribution"] == "ember-nccl" and nccl["device_types"] == ["cuda"]
    reason = expected_reason()
    if reason is None:
        assert nccl["status"] == "available", nccl
        return
    assert nccl["status"] == "unavailable" and nccl["reason"].startswith(reason), nccl
    assert "pip install ember-nccl cupy-cuda12x" in nccl["remedy"] or "nvidia-nccl" in nccl["remedy"], nccl
    text = subprocess.run(info, capture_output=True, text=True, env=_env(), timeout=180).stdout
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("nccl "))
    assert "unavailable" in line and "plugin 'nccl' (ember-nccl" in line and "moves cuda tensors" in line
    assert f"reason: {reason}" in text


def test_import_ember_is_unaffected_where_the_backend_cannot_run() -> None:
    code = "import ember; print(ember.ones(2).tolist())"
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=120
    )
    assert res.returncode == 0 and res.stdout.strip() == "[1.0, 1.0]", res.stderr
    assert "nccl" not in res.stderr.lower() and "cupy" not in res.stderr.lower(), res.stderr


def test_init_process_group_names_the_reason_and_the_remedy() -> None:
    reason = expected_reason()
    if reason is None:
        pytest.skip("CuPy, NCCL and a GPU are here: the backend starts (test_nccl_gpu.py runs it)")
    code = (
        "import ember.distributed as dist\n"
        "try:\n"
        "    dist.init_process_group(backend='nccl')\n"
        "except dist.DistBackendError as e:\n"
        "    print('ERR', e)\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=120
    )
    assert (
        f"ERR init_process_group: communication backend 'nccl' (plugin 'nccl') is unavailable: {reason}"
    ) in res.stdout, res.stdout + res.stderr
    assert "; remedy: pip install ember-nccl cupy-cuda12x" in res.stdout or "nvidia-nccl" in res.stdout


@pytest.fixture
def group_declared_as_nccl():
    """The default group of a world of one with what core knows of the nccl backend: its name and
    declared device types (core refuses other devices' tensors before the backend sees them)."""
    decl = communication_backends().records["nccl"].declaration
    rdv = dist.Rendezvous(0, 1, 0, None, None, 30.0)
    process_group._STATE = process_group.GroupState(
        process_group.SelfProcessGroup(rdv), "nccl", tuple(decl.device_types), 30.0, "OFF"
    )
    try:
        yield
    finally:
        process_group._STATE = None


def test_cpu_tensors_are_refused_naming_the_device_and_the_move(group_declared_as_nccl) -> None:
    for call in (
        lambda x: dist.all_reduce(x),
        lambda x: dist.broadcast(x, 0),
        lambda x: dist.all_gather([ember.zeros(3)], x),
    ):
        with pytest.raises(dist.DistBackendError) as info:
            call(ember.ones(3))
        assert (
            "backend 'nccl' does not support tensors on cpu (it moves tensors on cuda); move the tensor "
            in str(info.value)
        )
        assert ".to('cuda')" in str(info.value)


# -- what the contract gained for NCCL: ProcessGroup.device ----------------------------------------
class BoundToOpenCL(process_group.SelfProcessGroup):
    """A world of one bound to one device, as an NCCL rank is bound to its GPU; records where the
    tensors it gathers are."""

    device = "opencl:0"
    gathered_on: list[str] = []

    def all_gather(self, outputs, tensor, blocking):  # noqa: ANN001, ANN201 - the contract's signature
        BoundToOpenCL.gathered_on.append(str(tensor.device))
        return super().all_gather(outputs, tensor, blocking)


class _BoundPlugin:
    @dist.hookimpl
    def ember_distributed_backends(self) -> list[dist.CommBackendDeclaration]:
        return [
            dist.CommBackendDeclaration(
                "bound_opencl", dist.COMM_API_VERSION, f"{__name__}:BoundToOpenCL", ("cpu", "opencl")
            )
        ]


def test_a_barriers_debug_check_runs_on_the_device_the_backend_is_bound_to(monkeypatch) -> None:
    """With EMBER_DISTRIBUTED_DEBUG=DETAIL core all-gathers every rank's call first; a barrier has
    no tensor, so core makes one: on ``ProcessGroup.device`` when the backend sets it (an NCCL rank
    on cuda:1 cannot take a tensor on cuda:0), else on cpu."""
    try:
        ember.device("opencl")
    except ember.BackendError as exc:
        pytest.skip(f"needs an opencl device (make setup installs PoCL): {exc}")
    backends = communication_backends()
    if "bound_opencl" not in backends.records:
        backends.register_plugin(_BoundPlugin(), "bound-opencl-plugin")
    monkeypatch.setenv("EMBER_DISTRIBUTED_DEBUG", "DETAIL")
    BoundToOpenCL.gathered_on.clear()
    dist.init_process_group(backend="bound_opencl", rank=0, world_size=1)
    try:
        dist.barrier()
        dist.all_reduce(ember.ones(2))
    finally:
        dist.destroy_process_group()
        reload()  # forget the backend registered by hand
    assert BoundToOpenCL.gathered_on == ["opencl:0", "cpu"]
