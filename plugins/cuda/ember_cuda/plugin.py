"""Declares the ``cuda`` device type to Ember (cheap: CuPy is not imported here)."""

from __future__ import annotations

from ember.hookspecs import BACKEND_API_VERSION, BackendDeclaration, hookimpl

#: What to tell a user whose machine cannot run the cuda backend.
REMEDY = "pip install 'ember-cuda[cuda12]' (CuPy for CUDA 12) on a machine with an NVIDIA GPU and driver"


@hookimpl
def ember_backends() -> list[BackendDeclaration]:
    """The ``cuda`` device type, implemented by :class:`ember_cuda.backend.CudaBackend`."""
    return [
        BackendDeclaration(
            device_type="cuda",
            api_version=BACKEND_API_VERSION,
            implementation="ember_cuda.backend:CudaBackend",
            remedy=REMEDY,
            description="NVIDIA GPUs through CuPy (cuBLAS matmul, fused elementwise and softmax kernels)",
        )
    ]
