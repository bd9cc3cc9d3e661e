"""Gradient recording switches: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

The switch is per thread, as in PyTorch: ``no_grad`` in one thread (an optimizer's step, an
evaluation loop) never stops another thread from recording its graph, and a new thread starts
with recording on whatever the thread that started it was doing. Ops read ``STATE.enabled`` on
every call; ``STATE`` is a ``threading.local`` whose class attribute is the default, so the read
is one attribute lookup and a thread that never switched needs no setup.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = [
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "inference_mode",
    "is_inference_mode_enabled",
]

F = TypeVar("F", bound=Callable[..., Any])


class _GradState(threading.local):
    """This thread's recording switch (``enabled``) and the modes saved by the ``with`` blocks
    it is inside (``saved``, innermost last)."""

    #: the default of every thread, read through the class until the thread switches
    enabled = True
    #: whether an ``inference_mode()`` block is active in this thread
    inference = False
    #: ``running[0]``: the autograd Node whose backward closure runs now in this thread (None
    #: outside a backward pass); the closure asks it which inputs need a gradient
    #: (``ember.autograd.graph.needs_input_grad``). Each backward pass sets its own list and
    #: stores each node in it (cheaper than setting this thread-local attribute per node).
    running: list | tuple = (None,)

    def __init__(self) -> None:  # runs once in each thread, on its first use of STATE
        self.saved: list[bool] = []
        self.inference_saved: list[tuple[bool, bool]] = []


STATE = _GradState()


def is_grad_enabled() -> bool:
    """Whether ops in the calling thread record the graph for autograd."""
    return STATE.enabled


class set_grad_enabled:
    """Turn gradient recording on or off in the calling thread: as a function call, a context
    manager or a decorator."""

    def __init__(self, mode: bool) -> None:
        self.prev = STATE.enabled
        self.mode = bool(mode)
        STATE.enabled = self.mode

    def __enter__(self) -> None:
        STATE.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        STATE.enabled = self.prev

    def __call__(self, fn: F) -> F:
        mode = self.mode
        STATE.enabled = self.prev

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class _GradModeContext:
    mode = True

    # The mode to restore is saved per thread, not on the instance: one instance may be entered
    # by several threads at once, or twice by one thread (nested), and each exit restores its own.
    def __enter__(self) -> None:
        state = STATE
        state.saved.append(state.enabled)
        state.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        state = STATE
        state.enabled = state.saved.pop()

    def __call__(self, fn: F) -> F:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = STATE.enabled
            STATE.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                STATE.enabled = prev

        return wrapper  # type: ignore[return-value]


class no_grad(_GradModeContext):
    """Context manager and decorator: ops inside record no graph (results don't require grad).
    Applies to the calling thread only."""

    mode = False


class enable_grad(_GradModeContext):
    """Context manager and decorator: turn recording back on inside a ``no_grad`` block (in the
    calling thread)."""

    mode = True


class inference_mode(_GradModeContext):
    """Context manager and decorator (``@inference_mode`` or ``@inference_mode()``): like
    :class:`no_grad`, ops inside record no graph, in the calling thread only; for code that never
    needs gradients (evaluation, serving). ``inference_mode(False)`` changes nothing, as in
    PyTorch. Unlike PyTorch's, the tensors made inside are ordinary tensors (Ember's ops have no
    extra per-op bookkeeping for inference mode to skip)."""

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode) and not isinstance(mode, bool):  # @inference_mode without parentheses
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.active = bool(mode)

    def __enter__(self) -> None:
        state = STATE
        state.inference_saved.append((state.enabled, state.inference))
        if self.active:
            state.enabled, state.inference = False, True

    def __exit__(self, *exc: object) -> None:
        state = STATE
        state.enabled, state.inference = state.inference_saved.pop()

    def __call__(self, fn: F) -> F:
        ctx = self

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with ctx:
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def is_inference_mode_enabled() -> bool:
    """Whether the calling thread is inside an active :class:`inference_mode` block."""
    return STATE.inference
