"""What ember-torchdev declares to Ember (imported at ``import ember``: torch is not imported here)."""

from __future__ import annotations

from ember.hookspecs import BACKEND_API_VERSION, BackendDeclaration, hookimpl


@hookimpl
def ember_backends() -> list[BackendDeclaration]:
    """The ``torchcpu`` device type, implemented by :class:`ember_torchdev.backend.TorchBackend`."""
    return [
        BackendDeclaration(
            device_type="torchcpu",
            api_version=BACKEND_API_VERSION,
            implementation="ember_torchdev.backend:TorchBackend",
            remedy="pip install ember-torchdev torch",
            description="PyTorch CPU tensors, through the array API standard",
        )
    ]
