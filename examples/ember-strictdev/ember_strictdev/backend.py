"""The ``strict`` device: :class:`ember.array_backend.ArrayBackend` on ``array_api_strict``.

The standard has no strided views, erf, random numbers or host transfer; ``ArrayBackend``'s
standard-only defaults provide them (layouts over flat arrays, a series erf, the host's Philox
numbers, DLPack), so the device is a declaration.
"""

from __future__ import annotations

from ember.array_backend import ArrayBackend


class StrictBackend(ArrayBackend):
    """``array_api_strict`` arrays as Ember buffers (one device, ``strict``; no float16)."""

    device_type = "strict"

    def __init__(self) -> None:
        import array_api_strict

        super().__init__(array_api_strict)
