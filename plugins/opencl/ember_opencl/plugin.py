"""Plugin declaration of the OpenCL backend (entry point ``ember.backends: opencl``).

Light on purpose: no pyopencl import, no device work.
"""

from __future__ import annotations

from ember.hookspecs import BACKEND_API_VERSION, BackendDeclaration, hookimpl

REMEDY = "pip install 'ember[opencl]' (PoCL CPU runtime: pip install pocl-binary-distribution)"


@hookimpl
def ember_backends() -> list[BackendDeclaration]:
    """Declare the ``opencl`` device type."""
    return [
        BackendDeclaration(
            device_type="opencl",
            api_version=BACKEND_API_VERSION,
            implementation="ember_opencl.backend:OpenCLBackend",
            remedy=REMEDY,
            description="OpenCL devices through pyopencl (GPUs, or CPUs via PoCL); kernels generated in OpenCL C",
        )
    ]
