"""Gradient utilities: clipping by total norm or by value, and parameters flattened to one vector
and back; :mod:`.rnn` holds the packed sequences of the recurrent layers."""

from __future__ import annotations

import math
from collections.abc import Iterable

from ... import ops as E
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from . import rnn

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "parameters_to_vector",
    "rnn",
    "vector_to_parameters",
    "zero_grads_",
]


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in params if p.grad is not None]


def zero_grads_(params: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Clear the gradients of ``params``: to None (the default), or to zeros in place.

    Shared by ``Module.zero_grad`` and ``Optimizer.zero_grad``."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            with no_grad():
                p.grad = p.grad.detach()
                p.grad.zero_()


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale the gradients in place so that their total ``norm_type``-norm (as if concatenated) is at
    most ``max_norm``; returns the total norm before clipping (a 0-d tensor)."""
    grads = _grads(parameters)
    if not grads:
        return E.tensor(0.0)
    norm_type = float(norm_type)
    with no_grad():
        if math.isinf(norm_type):
            norms = [g.abs().amax() for g in grads]
            total = norms[0] if len(norms) == 1 else E.stack([n.to(grads[0].device) for n in norms]).amax()
        else:
            norms = [E.norm(g.reshape(-1), norm_type) for g in grads]
            total = E.norm(E.stack([n.to(grads[0].device) for n in norms]), norm_type)
        if error_if_nonfinite and not bool(E.isfinite(total)):
            raise RuntimeError(
                f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
                "non-finite, so it cannot be clipped; pass error_if_nonfinite=False to skip "
                "this check"
            )
        coef = E.clamp(max_norm / (total + 1e-6), max=1.0)
        for g in grads:
            g.mul_(coef.to(g.device).to(g.dtype))
    return total


def clip_grad_value_(
    parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None
) -> None:
    """Clamp every gradient element to [-clip_value, clip_value] in place (``foreach`` is accepted
    for PyTorch compatibility)."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    params = list(parameters)
    _check_one_device("parameters_to_vector", params)
    return E.cat([p.reshape(-1) for p in params])


def _check_one_device(op: str, params: list[Tensor]) -> None:
    devices = {p.device for p in params}
    if len(devices) > 1:
        raise ValueError(
            f"{op}: found parameters on several devices ({', '.join(sorted(map(str, devices)))}); move "
            "them to one device first"
        )


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (each reshaped to its
    parameter's shape), the inverse of :func:`parameters_to_vector`; not recorded by autograd."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected an ember.Tensor, but got {type(vec).__name__}")
    params = list(parameters)
    _check_one_device("vector_to_parameters", params)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(
            f"vector_to_parameters: vec has shape {tuple(vec.shape)}, but the parameters hold {total} "
            f"elements; pass a 1-D tensor of {total} elements (e.g. from parameters_to_vector)"
        )
    offset = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec[offset : offset + n].reshape(p.shape).to(p.dtype))
            offset += n
