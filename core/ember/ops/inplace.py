"""In-place ops (``add_``, ``mul_``, ``zero_``, ``copy_`` ...): compute out of place, then write the
result into the tensor's memory, bump its version, and adopt the result's graph."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import dtypes as _dt
from ._core import STATE, Tensor, kernel, same_device


def commit(x: Tensor, result: Tensor, op: str) -> Tensor:
    """Write ``result`` into ``x`` in place (the last step of every in-place op); returns x."""
    if STATE.enabled:
        if x.requires_grad and x.grad_fn is None:
            raise RuntimeError(
                f"{op}: a leaf tensor that requires grad (shape {x.shape}) is being used in "
                "an in-place operation; do it under ember.no_grad() or use the out-of-place "
                "op"
            )
        if result.requires_grad and x._base is not None and (x._base.requires_grad or x.requires_grad):
            raise RuntimeError(
                f"{op}: in-place modification of a view of a tensor that requires grad is not "
                "supported; use the out-of-place op"
            )
        if x.requires_grad and not result.requires_grad and x._base is not None:
            # the base's graph would still route gradient through the overwritten elements
            raise RuntimeError(
                f"{op}: in-place overwrite of a view of a tensor that requires grad is not "
                "supported; use an out-of-place op (e.g. ember.where) on the base tensor"
            )
    if result.dtype is not x.dtype:
        if result.dtype._kind > x.dtype._kind:
            raise TypeError(
                f"{op}: result type {result.dtype} can't be cast to the desired output type {x.dtype}"
            )
        result = result.to(x.dtype)
    if result.shape != x.shape:
        raise ValueError(
            f"{op}: the result of shape {result.shape} does not fit in place into a tensor of "
            f"shape {x.shape} (in-place ops cannot broadcast the tensor they modify)"
        )
    kernel(x.device, "copy_")(x._data, result._data)
    x._version[0] += 1
    if result.requires_grad and STATE.enabled:
        x.grad_fn = result.grad_fn
        x.requires_grad = True
    elif x.requires_grad and STATE.enabled:
        # overwritten with values that do not depend on the graph: no gradient flows back (as fill_)
        x.grad_fn = None
        x.requires_grad = False
    return x


def make_inplace(fn: Callable[..., Tensor], op: str) -> Callable[..., Tensor]:
    """The in-place method ``op`` (e.g. ``add_``) of the out-of-place ``fn``."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return commit(self, fn(self, *args, **kwargs), op)

    method.__name__ = op
    method.__doc__ = f"In-place version of :meth:`{op[:-1]}`; returns self."
    return method


def copy_(x: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` (broadcast, cast, possibly from another device) into x; returns x.

    ``non_blocking`` is accepted for PyTorch compatibility; the copy is complete (as seen by any
    later op or read) when this returns either way, so it changes nothing."""
    from .conversion import to

    if not isinstance(src, Tensor):
        raise TypeError(f"copy_: expected a tensor, got {type(src).__name__}")
    if src.device is not x.device:
        src = to(src, x.device)
    same_device("copy_", x, src)
    if src.dtype is not x.dtype:
        src = to(src, x.dtype)
    if src.shape != x.shape:
        src = src.expand(x.shape)
    if STATE.enabled and (x.requires_grad or src.requires_grad):
        return commit(x, src.clone() if src.requires_grad else src, "copy_")
    kernel(x.device, "copy_")(x._data, src._data)
    x._version[0] += 1
    return x


def fill_(x: Tensor, value: Any) -> Tensor:
    """Set every element to ``value``; returns x."""
    from .creation import full

    if isinstance(value, Tensor):
        if value.ndim:
            raise ValueError(
                f"fill_: value must be a number or a 0-d tensor, got a tensor of shape {value.shape}"
            )
        if value.requires_grad and STATE.enabled:
            return copy_(x, value)  # recorded: the gradient flows back to the value, as in PyTorch
        value = value.item()
    with_grad = STATE.enabled and x.requires_grad
    if with_grad and x.grad_fn is None:
        raise RuntimeError("fill_: a leaf tensor that requires grad is being used in an in-place operation")
    if with_grad and x._base is not None:
        # the base's graph would still route gradient through the filled elements
        raise RuntimeError(
            "fill_: in-place overwrite of a view of a tensor that requires grad is not supported; "
            "use an out-of-place op (e.g. ember.where or masked_fill) on the base tensor"
        )
    kernel(x.device, "copy_")(x._data, full((), value, dtype=x.dtype, device=x.device)._data)
    x._version[0] += 1
    if with_grad:
        x.grad_fn = None
        x.requires_grad = False
    return x


def zero_(x: Tensor) -> Tensor:
    """Set every element to zero; returns x."""
    return fill_(x, False if x.dtype is _dt.bool_ else 0)
