"""PyTorch-like ``repr`` of tensors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import dtypes as _dt

if TYPE_CHECKING:
    from .tensor import Tensor


def format_tensor(t: Tensor) -> str:
    """``tensor([[1., 2.]], device='opencl:0', dtype=ember.float64, requires_grad=True)``."""
    if not getattr(t.device.backend, "has_data", True):
        return (
            "tensor("
            + ", ".join(["...", f"device='{t.device}'", f"size={t.shape}"] + _extras(t, False))
            + ")"
        )
    arr = t.device.kernels["to_numpy"](t._data)
    if arr.size == 0:
        body = "[]" if t.ndim <= 1 else f"[], size={t.shape}"
    else:
        kwargs: dict = {"separator": ", ", "prefix": "tensor(", "threshold": 1000, "edgeitems": 3}
        if arr.dtype.kind == "f":
            finite = arr[np.isfinite(arr)]
            if finite.size and np.all(finite == np.round(finite)) and float(np.abs(finite).max()) < 1e8:
                kwargs["formatter"] = {"float_kind": lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)}
            else:
                kwargs["precision"] = 4
                kwargs["floatmode"] = "fixed"
        body = np.array2string(arr, **kwargs)
    extras = _extras(t, t.device.type != "cpu")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"


def _extras(t: Tensor, show_device: bool) -> list[str]:
    extras = []
    if show_device:
        extras.append(f"device='{t.device}'")
    if t.dtype is not _dt.get_default_dtype() and t.dtype not in (_dt.int64, _dt.bool_):
        extras.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return extras
