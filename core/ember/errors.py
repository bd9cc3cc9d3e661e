"""Ember's exception types. Each message names the op, the offending values and the remedy."""

from __future__ import annotations

__all__ = ["EmberError", "BackendError", "DeviceMismatchError", "KernelNotFoundError", "CheckpointError"]


class EmberError(Exception):
    """Base class of Ember's own errors."""


class BackendError(EmberError, RuntimeError):
    """A backend is unknown, unavailable, failed to load or was refused."""


class DeviceMismatchError(EmberError, RuntimeError):
    """Tensors on different devices were given to one op."""


class KernelNotFoundError(EmberError, NotImplementedError):
    """No kernel, composite or enabled fallback exists for an op on a device."""


class CheckpointError(EmberError, ValueError):
    """A checkpoint file is truncated, corrupt or does not match what it is loaded into."""
