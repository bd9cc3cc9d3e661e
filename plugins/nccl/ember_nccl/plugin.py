"""Declares the ``nccl`` communication backend to Ember (cheap: CuPy is not imported here)."""

from __future__ import annotations

from ember.distributed.contract import COMM_API_VERSION, CommBackendDeclaration, hookimpl

#: What to tell a user whose machine cannot run the nccl backend.
REMEDY = (
    "pip install ember-nccl cupy-cuda12x nvidia-nccl-cu12 (CuPy and NCCL for CUDA 12, also "
    "pip install 'ember-nccl[cuda12]'; cupy-cuda13x nvidia-nccl-cu13 for CUDA 13) on a machine with "
    "an NVIDIA GPU and driver"
)


@hookimpl
def ember_distributed_backends() -> list[CommBackendDeclaration]:
    """The ``nccl`` backend, implemented by :class:`ember_nccl.group.NcclProcessGroup`."""
    return [
        CommBackendDeclaration(
            name="nccl",
            api_version=COMM_API_VERSION,
            implementation="ember_nccl.group:NcclProcessGroup",
            device_types=("cuda",),
            remedy=REMEDY,
            description="NCCL through CuPy: cuda tensors in place, one GPU per rank (LOCAL_RANK)",
        )
    ]
