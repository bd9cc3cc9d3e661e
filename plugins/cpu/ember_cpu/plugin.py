"""Declares the ``cpu`` device type to Ember (cheap: nothing heavy is imported here)."""

from __future__ import annotations

from ember.hookspecs import BACKEND_API_VERSION, BackendDeclaration, hookimpl


@hookimpl
def ember_backends() -> list[BackendDeclaration]:
    """The cpu device type, implemented by :class:`ember_cpu.backend.CpuBackend`."""
    return [
        BackendDeclaration(
            device_type="cpu",
            api_version=BACKEND_API_VERSION,
            implementation="ember_cpu.backend:CpuBackend",
            remedy="pip install 'ember[cpu]'",
            description="numpy on the host CPU",
        )
    ]
