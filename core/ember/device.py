"""Devices: ``ember.device("cpu")``, ``ember.device("opencl:1")``, the default device.

A :class:`Device` is canonical (one object per type and index), so ops compare devices with
``is``. It holds its backend's kernel table directly, which is what makes dispatch a single
dictionary lookup.

Threads: the default device is per thread, as in PyTorch (a new thread starts from
``EMBER_DEVICE``, else ``cpu``, whatever its parent chose); resolving a device is thread-safe,
and two threads resolving one device at once get the same object.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from .errors import BackendError

__all__ = ["Device", "device", "devices", "get_default_device", "set_default_device", "DeviceLike"]


class Device:
    """A device: a type (``"cpu"``) and an index. Create with :func:`ember.device`."""

    __slots__ = ("type", "index", "backend", "kernels", "_str")

    def __init__(self, type: str, index: int, backend: Any) -> None:
        self.type = type
        self.index = index
        self.backend = backend
        self.kernels: dict[str, Any] = backend.kernel_table.kernels
        self._str = (
            type if backend.device_count() == 1 and index == 0 and type == "cpu" else f"{type}:{index}"
        )

    def __repr__(self) -> str:
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self._str

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (BackendError, ValueError):
                return False
        return self is other

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))

    def properties(self) -> dict[str, Any]:
        """The backend's description of this device (name, memory, dtype support ...)."""
        return self.backend.device_properties(self.index)

    def synchronize(self) -> None:
        """Wait for all queued work on this device."""
        self.backend.synchronize(self.index)

    def memory_stats(self) -> dict[str, int]:
        """Memory in use, cached and peak on this device, in bytes."""
        return self.backend.memory_stats(self.index)

    def empty_cache(self) -> None:
        """Release cached device memory."""
        self.backend.empty_cache(self.index)


DeviceLike = Device | str | None

_cache: dict[Any, Device] = {}
#: held while a canonical Device is made, so two threads resolving one device get one object
_cache_lock = threading.Lock()
#: the process default (EMBER_DEVICE, else cpu), resolved on first use
_env_default: Device | None = None


class _ThreadDefault(threading.local):
    """The calling thread's :func:`set_default_device` choice; ``None`` (the class default, so
    every new thread starts there) means the process default."""

    spec: str | None = None


_thread_default = _ThreadDefault()


def clear_cache() -> None:
    """Forget resolved devices (after the registry is rebuilt). A thread's own default device
    (:func:`set_default_device`) is kept and resolved again on its next use."""
    global _env_default
    with _cache_lock:
        _cache.clear()
        _env_default = None


def _parse(spec: str) -> tuple[str, int | None]:
    type_, sep, idx = spec.strip().partition(":")
    if not type_ or (sep and not idx.isdigit()):
        raise ValueError(
            f"invalid device string {spec!r}; expected 'type' or 'type:index', e.g. 'cpu', 'opencl:0'"
        )
    return type_, (int(idx) if sep else None)


def device(spec: DeviceLike = None, index: int | None = None) -> Device:
    """Parse and validate a device: ``device("cpu")``, ``device("opencl:1")``,
    ``device("cuda", 0)``; ``None`` gives the default device.

    Raises BackendError naming the installed backends and the pip extra for an unknown type, the
    reason for an unavailable one, and ValueError for an index out of range.
    """
    if isinstance(spec, Device) and index is None:
        return spec
    key = (spec, index)
    dev = _cache.get(key)
    if dev is not None:
        return dev
    if spec is None:
        return get_default_device()
    if isinstance(spec, Device):
        type_, idx = spec.type, index
    elif isinstance(spec, str):
        type_, idx = _parse(spec)
        if index is not None:
            if idx is not None and idx != index:
                raise ValueError(f"device {spec!r} given together with index={index}")
            idx = index
    else:
        raise TypeError(f"expected a device string like 'cpu' or an ember.Device, got {spec!r}")
    from . import registry as _registry

    backend = _registry.registry.load(type_)
    count = backend.device_count()
    idx = 0 if idx is None else idx
    if not 0 <= idx < count:
        raise ValueError(
            f"device index {idx} out of range for {type_!r}: {count} device(s) "
            f"({type_}:0 .. {type_}:{count - 1})"
        )
    with _cache_lock:
        canon = _cache.get((type_, idx, "canon"))
        if canon is None:
            canon = Device(type_, idx, backend)
            _cache[(type_, idx, "canon")] = canon
        _cache[key] = canon
    return canon


def devices() -> list[Device]:
    """Every usable device of every available backend."""
    from . import registry as _registry

    out = []
    for name in sorted(_registry.registry.records):
        try:
            backend = _registry.registry.load(name)
        except BackendError:
            continue
        out.extend(device(name, i) for i in range(backend.device_count()))
    return out


def get_default_device() -> Device:
    """The device new tensors go to in the calling thread: set by :func:`set_default_device` in
    this thread, else ``EMBER_DEVICE``, else ``cpu``."""
    global _env_default
    spec = _thread_default.spec
    if spec is not None:
        return device(spec)
    d = _env_default
    if d is None:
        d = _env_default = device(os.environ.get("EMBER_DEVICE") or "cpu")
    return d


def set_default_device(spec: DeviceLike) -> None:
    """Make ``spec`` the device of new tensors in the calling thread, as in PyTorch (other
    threads keep theirs; a new thread starts from ``EMBER_DEVICE``, else ``cpu``). ``None``
    restores the environment/cpu default."""
    _thread_default.spec = None if spec is None else str(device(spec))
