"""Custom differentiable functions: subclass :class:`Function`, write ``forward`` and ``backward``."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .grad_mode import STATE, no_grad
from .graph import attach

__all__ = ["Function", "FunctionCtx"]


class FunctionCtx:
    """The context object passed to ``forward``/``backward``: ``save_for_backward(*tensors)`` then
    ``saved_tensors``; any other attribute may be set freely."""

    def __init__(self) -> None:
        self.saved_tensors: tuple[Any, ...] = ()
        self.needs_input_grad: tuple[bool, ...] = ()

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep tensors for backward (modifying them in place before backward is reported)."""
        self.saved_tensors = tensors


class Function:
    """Base class of custom ops::

        class Square(ember.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * x * g

        y = Square.apply(x)

    ``backward`` returns one gradient (or None) per input of ``forward``.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        """Compute the output from the inputs (runs without recording a graph)."""
        raise NotImplementedError("Function subclasses must implement forward")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        """Gradients with respect to each input of forward, from the output's gradient."""
        raise NotImplementedError("Function subclasses must implement backward")

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run forward and record the op so backward is called during autograd."""
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        with no_grad():
            out = cls.forward(ctx, *args)
        if not (STATE.enabled and any(ctx.needs_input_grad)):
            return out
        if not isinstance(out, Tensor):
            raise TypeError(f"{cls.__name__}.forward must return a single Tensor, got {type(out).__name__}")
        n = len(args)

        def backward_fn(g: Any) -> tuple[Any, ...]:
            res = cls.backward(ctx, g)
            if not isinstance(res, tuple):
                res = (res,)
            if len(res) != n:
                raise RuntimeError(
                    f"{cls.__name__}.backward returned {len(res)} gradients, expected {n} (one "
                    "per forward input; use None for non-tensor inputs)"
                )
            return res

        out = out.detach() if out.requires_grad else out
        saved = tuple(t for t in ctx.saved_tensors if isinstance(t, Tensor))
        return attach(out, cls.__name__, backward_fn, args, saved)
