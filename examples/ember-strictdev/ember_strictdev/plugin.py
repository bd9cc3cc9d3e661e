"""What ember-strictdev declares to Ember (imported at ``import ember``: nothing heavy here)."""

from __future__ import annotations

from ember.hookspecs import BACKEND_API_VERSION, BackendDeclaration, hookimpl


@hookimpl
def ember_backends() -> list[BackendDeclaration]:
    """The ``strict`` device type, implemented by :class:`ember_strictdev.backend.StrictBackend`."""
    return [
        BackendDeclaration(
            device_type="strict",
            api_version=BACKEND_API_VERSION,
            implementation="ember_strictdev.backend:StrictBackend",
            remedy="pip install ember-strictdev array-api-strict",
            description="array_api_strict arrays: the array API standard and nothing else",
        )
    ]
