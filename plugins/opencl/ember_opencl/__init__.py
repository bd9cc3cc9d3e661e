"""Ember's OpenCL backend plugin (device type ``"opencl"``).

Importing this package is cheap: pyopencl is only imported when :mod:`ember_opencl.backend` is,
which Ember does on first use of an ``opencl`` device.
"""

__version__ = "0.1.0"


def _backend():  # -> ember_opencl.backend.OpenCLBackend (loaded through the registry)
    from ember.registry import get_registry

    return get_registry().load("opencl")


def set_fusion(mode: str) -> str:
    """Set elementwise fusion to ``"auto"`` (default), ``"always"`` or ``"off"``; returns the
    previous mode. Also settable at start-up with ``EMBER_OPENCL_FUSION``. Loads the backend."""
    return _backend().set_fusion(mode)


def fusion_stats() -> dict[str, int]:
    """Counters of the fusion layer (pending arrays, fused launches and their ops, ops run by the
    prebuilt kernels, flushes before in-place writes). Loads the backend."""
    return _backend().fusion_stats()
