"""The inspection API: ``__array_namespace_info__()``."""

from __future__ import annotations

from typing import Any

from .. import dtypes as _dt
from ..device import Device, get_default_device
from ..device import devices as _devices
from ._creation import resolve_device
from ._dtypes import DTYPES, isdtype


class Info:
    """What the namespace supports: capabilities, devices, dtypes and default dtypes."""

    __module__ = "ember.array_api"

    def capabilities(self) -> dict[str, Any]:
        """Boolean indexing and data-dependent shapes (``unique_*``, ``nonzero``, boolean masks)
        are supported; there is no fixed limit on the number of dimensions."""
        return {"boolean indexing": True, "data-dependent shapes": True, "max dimensions": None}

    def default_device(self) -> Device:
        """The default device of the calling thread (``ember.get_default_device()``)."""
        return get_default_device()

    def devices(self) -> tuple[Device, ...]:
        """The devices arrays can live on: every available Ember device that holds values (the
        ``meta`` device, which holds shapes only, is left out)."""
        return tuple(d for d in _devices() if d.type != "meta")

    def default_dtypes(self, *, device: Any = None) -> dict[str, Any]:
        """The default dtypes: Ember's default float for 'real floating', the complex dtype of its
        precision for 'complex floating', int64 for 'integral' and 'indexing'."""
        if device is not None:
            resolve_device(device)
        real = _dt.get_default_dtype()
        return {
            "real floating": real,
            "complex floating": real.to_complex(),
            "integral": _dt.int64,
            "indexing": _dt.int64,
        }

    def dtypes(self, *, device: Any = None, kind: Any = None) -> dict[str, _dt.DType]:
        """The supported dtypes by name, optionally of ``kind`` (as in ``isdtype``); every device
        supports all of them."""
        if device is not None:
            resolve_device(device)
        return {d.name: d for d in DTYPES if kind is None or isdtype(d, kind)}


def __array_namespace_info__() -> Info:
    """The inspection namespace of ``ember.array_api``."""
    return Info()
