"""Define-by-run automatic differentiation: ``backward()``, :func:`grad`, grad modes, custom
:class:`Function`, and :func:`gradcheck`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..tensor import Tensor
from .function import Function, FunctionCtx
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import gradcheck
from .graph import Node, queue_callback, run_backward

__all__ = [
    "Function",
    "FunctionCtx",
    "Node",
    "backward",
    "enable_grad",
    "grad",
    "gradcheck",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "queue_callback",
    "set_grad_enabled",
]


def _seq(x: Any) -> list:
    if x is None:
        return []
    return [x] if isinstance(x, Tensor) else list(x)


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Any, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated into .grad).

    ``grad_outputs`` is needed for non-scalar outputs; ``create_graph=True`` records the backward
    pass so the result can itself be differentiated.
    """
    from ..ops.creation import ones_like

    outs = _seq(outputs)
    ins = _seq(inputs)
    if not ins:
        raise RuntimeError(
            "grad: inputs is empty, so there is no gradient to compute; pass the tensors to "
            "differentiate with respect to (as in PyTorch)"
        )
    gouts = _seq(grad_outputs)
    if not gouts:
        gouts = [None] * len(outs)
    if len(gouts) != len(outs):
        raise ValueError(f"grad: {len(outs)} outputs but {len(gouts)} grad_outputs")
    for i, (o, g) in enumerate(zip(outs, gouts)):
        if not o.requires_grad:
            raise RuntimeError(f"grad: output {i} does not require grad and has no grad_fn")
        if g is None:
            if o.numel() != 1:
                raise RuntimeError(
                    f"grad: output {i} has shape {o.shape}; grad can be implicitly created only "
                    "for scalar outputs, pass grad_outputs"
                )
            gouts[i] = ones_like(o)
    if retain_graph is None:
        retain_graph = create_graph
    res = run_backward(outs, gouts, retain_graph, create_graph, inputs=ins, allow_unused=allow_unused)
    return tuple(res or ())


def backward(
    tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None, create_graph: bool = False
) -> None:
    """Accumulate gradients of several tensors at once into the leaves' ``.grad``."""
    from ..ops.creation import ones_like

    ts = _seq(tensors)
    gs = _seq(grad_tensors) or [None] * len(ts)
    gs = [ones_like(t) if g is None else g for t, g in zip(ts, gs)]
    run_backward(ts, gs, create_graph if retain_graph is None else retain_graph, create_graph)
