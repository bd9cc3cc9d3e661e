"""Invariants every op result must keep, on every device: the kit's checks beyond values.

* :func:`check_result`: the buffer a tensor wraps really has the dtype and shape the tensor
  records. The buffer is read through the device's raw ``to_numpy`` kernel, not through
  :meth:`ember.Tensor.numpy` (which may cast), so a kernel that computes in a wider dtype than
  the core asked for (numpy sums int32 in int64, ``where`` of two Python floats is float64)
  is caught where it happens, before ``ember.save`` writes a checkpoint that cannot be loaded.
* :func:`snapshot_inputs` / :func:`check_inputs_unchanged`: an op that is not in-place leaves its
  inputs as they were (values, shape, dtype and version counter).
* :func:`call_checked`: both around one call.

On a device without data (its backend's ``has_data`` is False, as for ``meta``) no values are
read; the buffer's own ``shape`` and ``dtype`` attributes are compared when it has them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

import ember

__all__ = [
    "InputSnapshot",
    "buffer_dtype_and_shape",
    "call_checked",
    "check_inputs_unchanged",
    "check_result",
    "device_has_data",
    "snapshot_inputs",
]


def device_has_data(device: Any) -> bool:
    """Whether ``device`` holds values (False for shape-only devices such as ``meta``)."""
    return bool(getattr(device.backend, "has_data", True))


def _read_raw(t: ember.Tensor) -> np.ndarray:
    """t's buffer on the host exactly as the device's ``to_numpy`` kernel returns it (no cast)."""
    return t.device.kernels["to_numpy"](t._data)


def buffer_dtype_and_shape(t: ember.Tensor) -> tuple[np.dtype | None, tuple[int, ...] | None]:
    """The (numpy dtype, shape) of t's buffer as the device really holds it; either is None when
    it cannot be known (a device without data whose buffer type does not carry it).

    With data, both come from the raw ``to_numpy`` kernel; an AssertionError names the kernel
    when it returns something that is not a numpy array.
    """
    if device_has_data(t.device):
        host = _read_raw(t)
        if not isinstance(host, (np.ndarray, np.generic)):
            raise AssertionError(
                f"the to_numpy kernel of {t.device} returned {type(host).__name__}, not a numpy.ndarray "
                "(the kernel contract: to_numpy(x) -> np.ndarray with x's shape and dtype)"
            )
        return host.dtype, tuple(host.shape)
    buf = t._data
    shape = getattr(buf, "shape", None)
    raw_dtype = getattr(buf, "dtype", None)
    try:
        dtype = np.dtype(raw_dtype) if raw_dtype is not None else None
    except TypeError:
        dtype = None
    return dtype, (tuple(int(n) for n in shape) if shape is not None else None)


def _tensors_in(value: Any, label: str) -> Iterator[tuple[str, ember.Tensor]]:
    """(label, tensor) for every tensor in ``value``, looking into tuples, lists and dicts."""
    if isinstance(value, ember.Tensor):
        yield label, value
    elif isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            yield from _tensors_in(v, f"{label}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _tensors_in(v, f"{label}[{k!r}]")


def check_result(out: Any, op_name: str, device: Any = None) -> None:
    """Assert that ``out`` (a tensor, or a tuple/list of tensors such as max's (values, indices))
    lives on ``device`` and that each tensor's buffer has exactly the dtype and shape it records
    (and, for a bool tensor, holds bytes 0 and 1 only).

    AssertionError messages name the op, the recorded and the actual dtype/shape.
    """
    found = list(_tensors_in(out, op_name))
    if not found:
        raise AssertionError(f"{op_name}: returned {type(out).__name__}, expected an ember.Tensor")
    for label, t in found:
        if device is not None and t.device is not device and t.device != device:
            raise AssertionError(f"{label}: result on {t.device}, expected {device}")
        dtype, shape = buffer_dtype_and_shape(t)
        if shape is not None and shape != t.shape:
            raise AssertionError(
                f"{label}: the tensor records shape {t.shape} but its buffer on {t.device} has shape {shape}"
            )
        if dtype is not None and dtype != t.dtype.numpy:
            raise AssertionError(
                f"{label}: the tensor records dtype {t.dtype} but its buffer on {t.device} holds "
                f"{dtype} (a kernel computed in another dtype than the core asked for; the core must "
                "cast its result, or the kernel keep its input's dtype)"
            )
        if t.dtype.is_bool and device_has_data(t.device):
            as_bytes = np.asarray(_read_raw(t)).view(np.uint8)
            if as_bytes.size and int(as_bytes.max()) > 1:
                bad = np.unique(as_bytes[as_bytes > 1])[:4].tolist()
                raise AssertionError(
                    f"{label}: the bool buffer on {t.device} holds bytes {bad} (a bool buffer holds 0 "
                    "and 1 only: other kernels compute on the bytes, 2 & 1 giving 0)"
                )


@dataclass
class _Entry:
    label: str
    tensor: ember.Tensor
    shape: tuple[int, ...]
    dtype: Any
    version: int
    values: np.ndarray | None


@dataclass
class InputSnapshot:
    """What :func:`snapshot_inputs` saw: each input tensor with its metadata and a copy of its
    values (None on a device without data)."""

    entries: list[_Entry]


def snapshot_inputs(args: Any = (), kwargs: dict[str, Any] | None = None) -> InputSnapshot:
    """Record every tensor among ``args`` and ``kwargs`` (nested in tuples, lists and dicts):
    shape, dtype, version counter and a copy of its values (read through the raw ``to_numpy``)."""
    entries = []
    found = list(_tensors_in(tuple(args), "argument")) + list(_tensors_in(dict(kwargs or {}), "keyword"))
    for label, t in found:
        values = np.array(_read_raw(t), copy=True) if device_has_data(t.device) else None
        entries.append(_Entry(label, t, t.shape, t.dtype, t._version[0], values))
    return InputSnapshot(entries)


_BFLOAT16 = ember.bfloat16.numpy


def _first_difference(before: np.ndarray, after: np.ndarray) -> str:
    if before.dtype == _BFLOAT16:  # ml_dtypes' kind letter is "V": compare its (exact) float32 values
        before, after = before.astype(np.float32), after.astype(np.float32)
    if before.dtype.kind in "fc":
        same = (before == after) | (np.isnan(before) & np.isnan(after))
    else:
        same = before == after
    bad = np.argwhere(~np.asarray(same))
    if not bad.size:
        return ""
    idx = tuple(int(i) for i in bad[0])
    return (
        f"{len(bad)} of {before.size} elements changed, first at index {idx}: "
        f"{before[idx]!r} -> {after[idx]!r}"
    )


def check_inputs_unchanged(snapshot: InputSnapshot, op_name: str) -> None:
    """Assert that no input recorded in ``snapshot`` was changed by ``op_name`` (a non-in-place
    op): same shape, dtype, version counter and values. The message names the op, the input and
    the first changed element."""
    for e in snapshot.entries:
        t = e.tensor
        head = f"{op_name}: modified its input {e.label}"
        if t.shape != e.shape or t.dtype is not e.dtype:
            raise AssertionError(
                f"{head}: it was {e.dtype} of shape {e.shape}, it is now {t.dtype} of shape {t.shape}"
            )
        if e.values is not None:
            after = np.asarray(_read_raw(t))
            if after.shape != e.values.shape or after.dtype != e.values.dtype:
                raise AssertionError(
                    f"{head}: its buffer was {e.values.dtype} of shape {e.values.shape}, it is now "
                    f"{after.dtype} of shape {after.shape}"
                )
            diff = _first_difference(e.values, after)
            if diff:
                raise AssertionError(
                    f"{head} ({t.dtype}, shape {t.shape}): {diff}; an op that is not in-place must "
                    "leave its inputs as they were"
                )
        if t._version[0] != e.version:
            raise AssertionError(
                f"{head}: its version counter went from {e.version} to {t._version[0]} (an in-place "
                "write), though the op is not in-place"
            )


def call_checked(
    op_name: str,
    fn: Callable[..., Any],
    args: Any = (),
    kwargs: dict[str, Any] | None = None,
    device: Any = None,
) -> Any:
    """``fn(*args, **kwargs)`` with both invariants checked: its inputs are unchanged and its
    result's buffers match their tensors (see :func:`check_result`); returns the result."""
    kwargs = dict(kwargs or {})
    snap = snapshot_inputs(args, kwargs)
    out = fn(*args, **kwargs)
    check_inputs_unchanged(snap, op_name)
    check_result(out, op_name, device)
    return out
