"""The log-sum-exp family: logsumexp, softmax and log_softmax.

Each is computed stably, shifted by the maximum along the reduced dims (logsumexp: of the real
parts, for complex inputs) before exponentiating. softmax and log_softmax run through a backend's
optional fused kernel of that name when it has one, and otherwise compose it from the reductions
of :mod:`ember.ops.reduction` (amax, sum) and elementwise exp and log.
"""

from __future__ import annotations

import builtins
from typing import Any

from .. import dtypes as _dt
from ._core import STATE, Tensor, _make, attach, normalize_dims, saved_output, wrap_dim
from .reduction import _all_if_empty, _along_dim, _reduction_record, _refuse_complex, amax, sum


def logsumexp(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim`` (all dims when None or empty), computed stably; -inf over an
    empty dim."""
    from .elementwise import exp, isinf, log, where

    if x.dtype._kind < 2:  # integers and bools: in the default float dtype, as PyTorch
        x = x.to(_dt.get_default_dtype())
    dims = normalize_dims(_all_if_empty(dim), x.ndim, "logsumexp")
    if x.ndim == 0:  # dim 0 / -1 of a 0-d tensor names the tensor itself: log(exp(x)) is x
        return x.clone()
    if builtins.any(x.shape[d] == 0 for d in dims):  # an empty sum: log(0) = -inf, as in PyTorch
        out = log(sum(exp(x), dims, keepdim=True))
        return out if keepdim else out.squeeze(dims)
    # complex x: the largest real part is the shift (|exp(z)| = exp(Re z)), as in PyTorch
    from .complex import real

    m = amax(real(x), dims, keepdim=True).detach()
    m = where(isinf(m), 0.0, m)
    out = log(sum(exp(x - m), dims, keepdim=True)) + m
    return out if keepdim else out.squeeze(dims) if dims else out


def _fused_along_dim(op: str, x: Tensor, d: int, grad: Any) -> Tensor | None:
    """``op`` through the backend's optional fused kernel, if it has one, with ``grad(g, out)``
    as the backward; None when the device has no such kernel (the caller composes it)."""
    k = x.device.kernels.get(op)
    if k is None or not x.dtype.is_floating_point:
        return None
    out = _make(k(x._data, d), x.shape, x.dtype, x.device)
    if x.requires_grad and STATE.enabled:
        o = saved_output(out)
        attach(out, op, lambda g: (grad(g, o),), (x,), (o,), out_alias=o)
    return out


def softmax(x: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, stable (the max is subtracted first)."""
    from .elementwise import exp

    if dtype is not None:
        x = x.to(dtype)
    _refuse_complex("softmax", x)
    d = wrap_dim(dim, x.ndim, "softmax")
    if not x.numel():  # nothing to normalise (a fused kernel may not take an empty reduction)
        return exp(x)
    out = _fused_along_dim("softmax", x, d, lambda g, o: o * (g - sum(g * o, d, keepdim=True)))
    if out is not None:
        return out
    e = exp(x - amax(x, d, keepdim=True).detach())
    return e / sum(e, d, keepdim=True)


def log_softmax(x: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along ``dim``, stable."""
    from .elementwise import exp

    if dtype is not None:
        x = x.to(dtype)
    _refuse_complex("log_softmax", x)
    d = wrap_dim(dim, x.ndim, "log_softmax")
    if not x.numel():
        return x * 1.0
    out = _fused_along_dim("log_softmax", x, d, lambda g, o: g - exp(o) * sum(g, d, keepdim=True))
    if out is not None:
        return out
    return x - logsumexp(x, d, keepdim=True)


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from .records import OpRecord, register
    from .samples import ErrorSample

    def logsumexp_ref(x: np.ndarray, dim: Any = None, keepdim: bool = False) -> np.ndarray:
        m = np.max(x, axis=dim, keepdims=True) if x.size else 0
        r = np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True)) + m
        return r if keepdim else np.squeeze(r, axis=dim) if dim is not None else r.reshape(())

    def softmax_ref(x: np.ndarray, dim: int) -> np.ndarray:
        e = np.exp(x - x.max(axis=dim, keepdims=True))
        return e / e.sum(axis=dim, keepdims=True)

    register(
        _reduction_record("logsumexp", logsumexp, logsumexp_ref, allow_empty=False),
        OpRecord(
            "softmax",
            softmax,
            _along_dim,
            softmax_ref,
            kernel="softmax",
            methods=("softmax",),
            errors=(
                ErrorSample((np.ones((3, 4)), -3), {}, IndexError, "softmax: dimension -3 out of range"),
            ),
        ),
        OpRecord(
            "log_softmax",
            log_softmax,
            _along_dim,
            lambda x, dim: np.log(softmax_ref(x, dim)),
            kernel="log_softmax",
            methods=("log_softmax",),
        ),
    )


_records()
