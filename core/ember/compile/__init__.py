"""``ember.compile``: capture a function's kernel calls once per input signature, replay them fast.

The first call with a new signature (shapes, dtypes, devices, strides and requires_grad of the
tensors it reads, the modules' training modes, grad mode, optimizer hyper-parameters and state
keys) runs eagerly while every kernel call is recorded (:mod:`ember.compile.capture`); later calls
with that signature run the recorded calls as one generated Python function with no Tensor
objects, no autograd graph and no dispatch (:mod:`ember.compile.graph`), then apply what the run
did to Python-visible state (gradients set, optimizer state created, version counters bumped).
A run that cannot be replayed (a host read such as ``.item()``, a value-dependent shape) warns
once, naming the op and the source line, and that signature runs eagerly from then on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["compile", "CompiledFunction", "CompileWarning", "Graph"]


def compile(fn: Callable[..., Any] | None = None, *, cache_size: int = 8) -> Any:  # noqa: A001
    """Compile ``fn`` (a function, a bound method or a Module), as ``torch.compile``: used as
    ``ember.compile(fn)``, ``@ember.compile`` or ``@ember.compile(cache_size=4)``.

    ``cache_size``: graphs kept per function; a signature beyond it runs eagerly with one warning.
    The compiled function's ``explain()`` (or ``EMBER_COMPILE_DEBUG=1`` at each capture) shows what
    each signature became."""
    from .function import CompiledFunction

    if cache_size < 1:
        raise ValueError(f"ember.compile: cache_size must be >= 1, got {cache_size}")
    if fn is None:
        return lambda f: CompiledFunction(f, cache_size)
    if not callable(fn):
        raise TypeError(f"ember.compile: expected a function or a Module, got {type(fn).__name__}")
    return CompiledFunction(fn, cache_size)


def __getattr__(name: str) -> Any:
    # the machinery loads on first use: `import ember` stays as fast as before
    if name in ("CompiledFunction", "CompileWarning"):
        from . import function

        return getattr(function, name)
    if name == "Graph":
        from .graph import Graph

        return Graph
    raise AttributeError(f"module 'ember.compile' has no attribute {name!r}")
