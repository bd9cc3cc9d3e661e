"""Activation functions and softmax.

Thin wrappers over the core ops of the same names (their kernels and backwards live in
:mod:`ember.ops`). This module adds PyTorch's argument checks, ``inplace=True`` (the result is
written into the input with :func:`ember.ops.inplace.commit`), relu6's zero gradient at 0 and 6
(a composite of core ops) and softmax's deprecated implicit ``dim``.
"""

from __future__ import annotations

import warnings
from typing import Any

from ... import ops as E
from ...autograd.grad_mode import STATE
from ...ops.inplace import commit
from ...tensor import Tensor

__all__ = [
    "relu",
    "relu6",
    "gelu",
    "silu",
    "tanh",
    "sigmoid",
    "leaky_relu",
    "elu",
    "softplus",
    "softmax",
    "log_softmax",
]


def _maybe_inplace(input: Tensor, fn: Any, inplace: bool, op: str, saves_input: bool = True) -> Tensor:
    """``fn(input)``, or with ``inplace`` ``input`` overwritten by it (and returned), as PyTorch's
    ``inplace=True`` activations do; autograd follows the write like any in-place op. When the
    gradient of ``fn`` needs its input (``saves_input``) and the graph is recorded, ``fn`` runs on
    a copy, so the write does not invalidate what backward reads."""
    if not inplace:
        return fn(input)
    src = input.clone() if saves_input and STATE.enabled and input.requires_grad else input
    return commit(input, fn(src), op)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0); ``inplace=True`` writes the result into ``input`` and returns it."""
    return _maybe_inplace(input, E.relu, inplace, "relu_", saves_input=False)  # backward reads the output


def _relu6(x: Tensor) -> Tensor:
    out = E.clamp(x, 0, 6)
    if not (STATE.enabled and x.requires_grad):
        return out
    # PyTorch's relu6 is hardtanh(0, 6): no gradient at the kinks 0 and 6 themselves (clamp passes it)
    inside = E.logical_and(E.gt(x, 0), E.lt(x, 6))
    return E.where(inside, x, out.detach())


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6), with PyTorch's gradient (zero at 0 and 6); ``inplace=True`` writes the
    result into ``input`` and returns it."""
    return _maybe_inplace(input, _relu6, inplace, "relu6_", saves_input=False)  # backward reads a mask


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit (``approximate='tanh'`` for the tanh form)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return E.gelu(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x); ``inplace=True`` writes the result into ``input`` and returns it."""
    return _maybe_inplace(input, E.silu, inplace, "silu_")


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return E.tanh(input)


def sigmoid(input: Tensor) -> Tensor:
    """The logistic function."""
    return E.sigmoid(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope * x otherwise (``inplace=True``: into ``input``)."""
    return _maybe_inplace(input, lambda x: E.leaky_relu(x, negative_slope), inplace, "leaky_relu_")


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise (``inplace=True``: into ``input``)."""
    return _maybe_inplace(input, lambda x: E.elu(x, alpha), inplace, "elu_")


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta."""
    return E.softplus(input, beta, threshold)


def _softmax_dim(op: str, input: Tensor, dim: int | None, stacklevel: Any) -> int:
    """``dim``, or when it is None PyTorch's deprecated implicit choice (0 for 0-, 1- and 3-D
    inputs, else 1) with PyTorch's warning."""
    if isinstance(stacklevel, bool) or not isinstance(stacklevel, int):
        raise TypeError(
            f"{op}: the third positional argument is _stacklevel (an int, as in PyTorch), got "
            f"{stacklevel!r}; pass the dtype by keyword: {op}(x, dim, dtype=...)"
        )
    if dim is not None:
        return dim
    warnings.warn(
        f"Implicit dimension choice for {op} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return 0 if input.ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """Softmax along ``dim`` (stable: the max is subtracted first), computed in ``dtype`` if given.
    Without ``dim``, PyTorch's deprecated implicit choice (dim 0 for 0-, 1- and 3-D inputs, else 1)
    with a warning."""
    return E.softmax(input, _softmax_dim("softmax", input, dim, _stacklevel), dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """log(softmax(x)) along ``dim``, computed stably as x - logsumexp(x) (in ``dtype`` if given).
    Without ``dim``, PyTorch's deprecated implicit choice, as :func:`softmax`."""
    return E.log_softmax(input, _softmax_dim("log_softmax", input, dim, _stacklevel), dtype)
