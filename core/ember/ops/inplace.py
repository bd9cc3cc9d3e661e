"""In-place ops (``add_``, ``mul_``, ``zero_``, ``copy_`` ...): compute out of place, then write the
result into the tensor's memory, bump its version, and adopt the result's graph."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import dtypes as _dt
from ._core import STATE, Tensor, _make, kernel, same_device
from .shape import is_contiguous_, strides_of


def write_into(dst: Tensor, src: Tensor, op: str) -> None:
    """Write ``src`` (dst's dtype and device, shape broadcastable to dst's) into dst's memory
    through the device's ``copy_`` kernel, keeping that kernel's contract: it never sees a source
    that overlaps its destination.

    A source that may share memory with dst (a view of the same tensor, as in ``x[1:] = x[:-1]``
    or ``x.t().copy_(x)``) is copied first, so every backend gives the result of reading src in
    full before writing any element of dst (numpy's rule; PyTorch refuses these partial
    overlaps). A destination whose elements share memory (an expanded view) is refused, as in
    PyTorch: the write would have no single result.
    """
    if src._data is dst._data:
        return  # the very buffer: every element already holds its value
    if dst._base is not None and dst.numel() > 1:
        st = strides_of(dst)
        if any(s == 0 and n > 1 for s, n in zip(st, dst.shape)):
            raise RuntimeError(
                f"{op}: more than one element of the written-to tensor (shape {dst.shape}, strides "
                f"{st}) refers to a single memory location (an expanded view); write into a "
                "clone() of it, or into the tensor that was expanded"
            )
    data = src._data
    if src._version is dst._version:  # views of one tensor share its version counter
        from .shape import clone

        data = clone(src.detach())._data
    kernel(dst.device, "copy_")(dst._data, data)


def commit(x: Tensor, result: Tensor, op: str) -> Tensor:
    """Write ``result`` into ``x`` in place (the last step of every in-place op); returns x.

    When x is a view and autograd is involved, the base's history is rebuilt as PyTorch does
    (``_rebase_history``): the base's gradient flows to ``result`` inside the view and to the
    base's earlier history outside it, and the view's own history becomes "that view of the new
    base"."""
    base = x._base
    # (a view with no history of its own writing values with none, e.g. through a detach() alias,
    # is a plain write, as in PyTorch)
    rebase = STATE.enabled and base is not None and (result.requires_grad or x.requires_grad)
    if STATE.enabled:
        if x.requires_grad and x.grad_fn is None:
            raise RuntimeError(
                f"{op}: a leaf tensor that requires grad (shape {x.shape}) is being used in "
                "an in-place operation; do it under ember.no_grad() or use the out-of-place "
                "op"
            )
        if rebase:
            if base.requires_grad and base.grad_fn is None:
                raise RuntimeError(
                    f"{op}: a view of a leaf tensor that requires grad (base shape {base.shape}) is "
                    "being used in an in-place operation; do it under ember.no_grad(), or on a "
                    "clone of the leaf"
                )
            if x._view_fn is None or not is_contiguous_(base):
                raise RuntimeError(
                    f"{op}: in-place modification of this view of a tensor that requires grad is "
                    "not supported (it was made by an op that records no way to rebuild it, or its "
                    "base is not contiguous); use the out-of-place op"
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
    write_into(x, result, op)
    x._version[0] += 1
    if rebase:
        _rebase_history(x, base, result)
    elif result.requires_grad and STATE.enabled:
        x.grad_fn = result.grad_fn
        x.requires_grad = True
    elif x.requires_grad and STATE.enabled:
        # overwritten with values that do not depend on the graph: no gradient flows back (as fill_)
        x.grad_fn = None
        x.requires_grad = False
    return x


def _rebase_history(view: Tensor, base: Tensor, result: Tensor) -> None:
    """After ``result`` was written into ``view`` (a view of the contiguous ``base``): the base's
    new history is ``copy_slices(old base, result)``, whose backward sends the gradient inside the
    view to ``result`` and the rest to the old history; the view becomes the same view of the
    new base (replayed by ``view._view_fn``)."""
    from ..autograd.grad_mode import no_grad
    from ..autograd.graph import attach
    from .creation import ones_like

    replay = view._view_fn
    old = _make(base._data, base.shape, base.dtype, base.device)  # carries only the old history
    old.requires_grad, old.grad_fn = base.requires_grad, base.grad_fn

    def backward(g: Tensor) -> tuple[Tensor, Tensor]:
        with no_grad():
            outside = ones_like(g)
            replay(outside).fill_(0)  # a contiguous tensor: the replayed views are views of it
        return g * outside, replay(g)

    attach(base, "copy_slices", backward, (old, result))
    rebuilt = replay(base)
    view.grad_fn, view.requires_grad = rebuilt.grad_fn, True


def make_inplace(fn: Callable[..., Tensor], op: str) -> Callable[..., Tensor]:
    """The in-place method ``op`` (e.g. ``add_``) of the out-of-place ``fn``."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        # with autograd recording, the op reads a copy: its backward may need self's old values,
        # which the write is about to replace (PyTorch saves the "original self" the same way)
        src = self.clone() if STATE.enabled and self.requires_grad else self
        return commit(self, fn(src, *args, **kwargs), op)

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
    write_into(x, src, "copy_")
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
    if with_grad and x._base is not None:  # the base's history must learn the filled elements
        return commit(x, full(x.shape, value, dtype=x.dtype, device=x.device), "fill_")
    kernel(x.device, "copy_")(x._data, full((), value, dtype=x.dtype, device=x.device)._data)
    x._version[0] += 1
    if with_grad:
        x.grad_fn = None
        x.requires_grad = False
    return x


def zero_(x: Tensor) -> Tensor:
    """Set every element to zero; returns x."""
    return fill_(x, False if x.dtype is _dt.bool_ else 0)


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from .records import OpRecord, register
    from .samples import ALL, NUMERIC, Sample, rand_array, unary_samples

    def fresh(x: Any) -> Any:
        return x.copy() if isinstance(x, np.ndarray) else x.clone()

    def copy_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(3, 4), a(3, 4))),
            Sample((a(3, 4), a(4))),
            Sample((a(4, 4), a(4, 4)), noncontig=True),
            Sample((a(3, 4), a(3, 4)), noncontig="flip", grad=False),
            Sample((a(), a())),
        ]

    def copy_into(x: Any, src: Any) -> Any:
        y = fresh(x)
        if isinstance(y, np.ndarray):
            y[...] = src
            return y
        return copy_(y, src)

    def copy_transposed_onto_itself(x: Any) -> Any:
        # source and destination overlap: the result is as if the source were read first
        y = fresh(x)
        if isinstance(y, np.ndarray):
            y.T[...] = y.copy()
            return y
        y.t().copy_(y)
        return y

    def square(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample((rand_array(rng, (4, 4), dtype),)),
            Sample((rand_array(rng, (3, 3), dtype),), noncontig=True),
        ]

    register(
        OpRecord(
            "copy_",
            copy_,
            copy_samples,
            copy_into,
            call=copy_into,
            kernel="copy_",
            methods={"copy_": copy_},
            dtypes=ALL,
            public=False,
        ),
        OpRecord(
            "copy_overlapping",
            copy_,
            square,
            copy_transposed_onto_itself,
            call=copy_transposed_onto_itself,
            kernel="copy_",
            dtypes=NUMERIC,
            public=False,
        ),
        OpRecord(
            "fill_",
            fill_,
            unary_samples(),
            lambda x: np.full_like(x, 3),
            call=lambda x: fill_(fresh(x), 3),
            kernel="full",
            methods={"fill_": fill_},
            dtypes=ALL,
            grad=False,
            public=False,
        ),
        OpRecord(
            "zero_",
            zero_,
            unary_samples(),
            np.zeros_like,
            call=lambda x: zero_(fresh(x)),
            methods={"zero_": zero_},
            dtypes=ALL,
            grad=False,
            public=False,
        ),
        OpRecord(
            "pos",
            lambda x: x,
            unary_samples(),
            lambda x: x,
            call=lambda x: +x,
            methods={"__pos__": lambda self: self},
            dtypes=ALL,
            grad=False,
            public=False,
        ),
    )


_records()
