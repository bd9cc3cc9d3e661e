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
    if t.dtype is _dt.bfloat16:  # printed as its (exact) float32 values, as PyTorch does
        arr = arr.astype(np.float32)
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
        elif arr.dtype.kind == "c":
            kwargs["formatter"] = {"complex_kind": _complex_formatter(arr)}
        body = np.array2string(arr, **kwargs)
    extras = _extras(t, t.device.type != "cpu")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"


def _part_formatter(parts: np.ndarray):
    """PyTorch's rule for one part (real or imaginary) of complex values: whole numbers print as
    ``2.``, others with 4 decimals (scientific from 1e8 up); non-finite values as nan / inf."""
    finite = parts[np.isfinite(parts)]
    big = finite.size and float(np.abs(finite).max()) >= 1e8
    whole = finite.size == 0 or (np.all(finite == np.round(finite)) and not big)

    def fmt(v: float) -> str:
        if not np.isfinite(v):
            return str(v)
        if whole:
            return f"{v:.0f}."
        return f"{v:.4e}" if big else f"{v:.4f}"

    return fmt


def _complex_formatter(arr: np.ndarray):
    """Format complex values as PyTorch does, ``1.5000+2.j``: each part by its own rule."""
    fr, fi = _part_formatter(arr.real), _part_formatter(arr.imag)

    def fmt(v: complex) -> str:
        im = float(v.imag)
        sign = "-" if im < 0 or (im == 0 and np.signbit(im)) else "+"
        return f"{fr(float(v.real))}{sign}{fi(abs(im))}j"

    return fmt


def _extras(t: Tensor, show_device: bool) -> list[str]:
    extras = []
    if show_device:
        extras.append(f"device='{t.device}'")
    if t.dtype not in (_dt.get_default_dtype(), _dt.default_complex_dtype(), _dt.int64, _dt.bool_):
        extras.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return extras
