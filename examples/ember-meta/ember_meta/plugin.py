"""What ember-meta declares to Ember (imported at ``import ember``: cheap, nothing heavy here)."""

from __future__ import annotations

from ember.hookspecs import BACKEND_API_VERSION, BackendDeclaration, KernelOverride, hookimpl


@hookimpl
def ember_backends() -> list[BackendDeclaration]:
    """The ``meta`` device type, implemented by :class:`ember_meta.backend.MetaBackend`."""
    return [
        BackendDeclaration(
            device_type="meta",
            api_version=BACKEND_API_VERSION,
            implementation="ember_meta.backend:MetaBackend",
            remedy="pip install ember-meta",
            description="shapes and dtypes without data, for sizing models without allocating",
        )
    ]


@hookimpl
def ember_kernel_overrides() -> list[KernelOverride]:
    """A faster ``softmax`` for the cpu device, above the cpu backend's own kernel (priority 0)."""
    return [KernelOverride("cpu", "ember_meta.cpu_kernels:KERNELS", priority=10)]
