"""Helpers every op module shares: kernel lookup, device checks, casts, gradient reduction."""

from __future__ import annotations

from typing import Any

from ..autograd.grad_mode import STATE
from ..autograd.graph import attach
from ..dispatch import resolve_missing
from ..dtypes import DType
from ..errors import DeviceMismatchError
from ..tensor import Tensor, _make, _wrap_dim

__all__ = [
    "kernel",
    "same_device",
    "cast_data",
    "sum_to",
    "attach",
    "STATE",
    "Tensor",
    "_make",
    "wrap_dim",
    "needs_grad",
    "normalize_dims",
]

wrap_dim = _wrap_dim


def kernel(device: Any, name: str) -> Any:
    """The kernel for op ``name`` on ``device`` (its table, else the CPU fallback, else an error)."""
    k = device.kernels.get(name)
    if k is None:
        k = resolve_missing(name, device)
    return k


def same_device(op: str, *tensors: Tensor) -> Any:
    """The common device of ``tensors``; DeviceMismatchError naming both devices otherwise."""
    dev = tensors[0].device
    for t in tensors[1:]:
        if t.device is not dev:
            raise DeviceMismatchError(
                f"{op}: expected all tensors on one device, got {dev} and {t.device}; move one with "
                f".to('{dev}') or .to('{t.device}')"
            )
    return dev


def cast_data(t: Tensor, dtype: DType) -> Any:
    """``t``'s buffer in ``dtype`` (the buffer itself when it already is)."""
    if t.dtype is dtype:
        return t._data
    return kernel(t.device, "cast")(t._data, dtype)


def has_data(t: Tensor) -> bool:
    """Whether ``t``'s device holds values (False for shape-only devices such as ``meta``): value
    checks (bounds, division by zero) are skipped where there are no values to check."""
    return getattr(t.device.backend, "has_data", True)


def saved_output(out: Tensor) -> Tensor:
    """An alias of ``out`` (same memory and version counter, no graph) for a backward closure.

    Closing over ``out`` itself would make a cycle (out -> node -> closure -> out) that only the
    garbage collector frees; the alias keeps memory use as tight as reference counting allows.
    """
    alias = _make(out._data, out.shape, out.dtype, out.device)
    alias._version = out._version
    return alias


def needs_grad(*inputs: Any) -> bool:
    """Whether an op on ``inputs`` must be recorded."""
    # the tensors' own flags first: grad mode is thread-local, slower to read
    for i in inputs:
        if isinstance(i, Tensor) and i.requires_grad:
            return STATE.enabled
    return False


def sum_to(g: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Reduce a broadcast gradient ``g`` back to ``shape`` (the inverse of broadcasting)."""
    if g.shape == shape:
        return g
    from .reduction import sum as _sum

    lead = len(g.shape) - len(shape)
    dims = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1
    )
    out = _sum(g, dims, keepdim=True) if dims else g
    if lead:
        out = out.reshape(shape)
    return out


def normalize_dims(dim: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``dim`` (None, int or sequence) as a sorted tuple of distinct non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        return (_wrap_dim(dim, ndim, op),)
    dims = tuple(sorted({_wrap_dim(d, ndim, op) for d in dim}))
    if len(dims) != len(tuple(dim)):
        raise ValueError(f"{op}: dim {tuple(dim)} names a dimension twice")
    return dims
