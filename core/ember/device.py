"""Devices: ``ember.device("cpu")``, ``ember.device("opencl:1")``, the default device.

A :class:`Device` is canonical (one object per type and index), so ops compare devices with
``is``. It holds its backend's kernel table directly, which is what makes dispatch a single
dictionary lookup.
"""

from __future__ import annotations

import os
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
_default: Device | None = None
_default_spec: str | None = None


def clear_cache() -> None:
    """Forget resolved devices (after the registry is rebuilt)."""
    global _default
    _cache.clear()
    _default = None


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
    """The device new tensors go to: set by :func:`set_default_device`, else ``EMBER_DEVICE``,
    else ``cpu``."""
    global _default
    if _default is None:
        _default = device(_default_spec or os.environ.get("EMBER_DEVICE") or "cpu")
    return _default


def set_default_device(spec: DeviceLike) -> None:
    """Make ``spec`` the device of new tensors (``None`` restores the environment/cpu default)."""
    global _default, _default_spec
    if spec is None:
        _default_spec, _default = None, None
        return
    d = device(spec)
    _default_spec, _default = str(d), d
