"""Define new ops from Python: schema by example, a meta function, a backward, kernels per device.

>>> import ember
>>> from ember.library import Op
>>> scaled_tanh = Op(
...     "mylib.scaled_tanh",
...     meta=lambda x, scale: (x.shape, x.dtype),
...     composite=lambda x, scale: ember.tanh(x) * scale,
...     backward=lambda ctx, g: (g * ctx.params["scale"] * (1 - (ctx.output / ctx.params["scale"]) ** 2),),
... )
>>> _ = scaled_tanh.register_kernel("cpu", lambda x, scale: __import__("numpy").tanh(x) * scale)
>>> scaled_tanh(ember.ones(2), 2.0).shape
(2,)

Resolution is the dispatcher's: a kernel in the device's table under the op's name (so plugins
can ship kernels for a user's op through ``KernelOverride``), else one registered here for the
device type, else the composite, else the CPU fallback when enabled, else an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .autograd.grad_mode import STATE
from .autograd.graph import attach
from .dispatch import resolve_missing
from .dtypes import DType
from .errors import KernelNotFoundError
from .ops._core import same_device, saved_output
from .tensor import Tensor, _make

__all__ = ["Op", "OpContext"]


class OpContext:
    """What a custom op's backward sees: ``inputs`` (the call's positional args), ``output``
    (an alias of the result), ``params`` (the keyword args) and ``needs_input_grad`` (one bool
    per positional arg: whether it was a tensor requiring grad when the op ran, PyTorch's
    ``ctx.needs_input_grad``; a backward may return None where it is False, and should ask it
    rather than an input's ``requires_grad``, which ``detach_()`` may have changed since)."""

    __slots__ = ("inputs", "output", "params", "needs_input_grad")

    def __init__(self, inputs: tuple, output: Tensor, params: dict[str, Any]) -> None:
        self.inputs, self.output, self.params = inputs, output, params
        self.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in inputs)


class Op:
    """A user- or plugin-defined op.

    name: unique, conventionally ``"namespace.op"``; it is the key kernels are found under.
    meta: ``meta(*args, **params) -> (shape, dtype)``; validates and raises with a clear message.
    composite: the op written with other Ember ops (runs on any device, autograd for free).
    backward: ``backward(ctx, grad_output) -> tuple`` with one gradient (or None) per positional
        arg; needed when a kernel (not the composite) computed the forward and an input requires
        grad.
    kernels: device type -> kernel on native buffers (tensor args are replaced by their buffers,
        other args passed through), returning the result buffer.
    """

    def __init__(
        self,
        name: str,
        meta: Callable[..., tuple[tuple[int, ...], DType]],
        composite: Callable[..., Tensor] | None = None,
        backward: Callable[[OpContext, Tensor], tuple] | None = None,
        kernels: dict[str, Callable[..., Any]] | None = None,
    ) -> None:
        self.name = name
        self.meta = meta
        self.composite = composite
        self.backward = backward
        self.kernels: dict[str, Callable[..., Any]] = dict(kernels or {})

    def register_kernel(self, device_type: str, kernel: Callable[..., Any]) -> Callable[..., Any]:
        """Add (or replace) the kernel for ``device_type``; usable as a decorator."""
        self.kernels[device_type] = kernel
        return kernel

    def _kernel(self, device: Any) -> Callable[..., Any] | None:
        k = device.kernels.get(self.name)
        return k if k is not None else self.kernels.get(device.type)

    def __call__(self, *args: Any, **params: Any) -> Tensor:
        """Run the op: validate with ``meta``, then kernel / composite / fallback."""
        tensors = [a for a in args if isinstance(a, Tensor)]
        if not tensors:
            raise TypeError(f"{self.name}: expected at least one ember.Tensor argument")
        device = same_device(self.name, *tensors)
        shape, dtype = self.meta(*args, **params)
        kernel = self._kernel(device)
        if kernel is None:
            if self.composite is not None:
                return self.composite(*args, **params)
            try:
                kernel = resolve_missing(self.name, device)
            except KernelNotFoundError as exc:
                raise KernelNotFoundError(
                    f"{exc}; or register one with {self.name}.register_kernel({device.type!r}, fn)"
                ) from None
        data = kernel(*[a._data if isinstance(a, Tensor) else a for a in args], **params)
        out = _make(data, tuple(shape), dtype, device)
        if STATE.enabled and any(t.requires_grad for t in tensors):
            if self.backward is None:
                raise RuntimeError(
                    f"{self.name}: an input requires grad but the op has no backward; "
                    "give Op(..., backward=...) or run under ember.no_grad()"
                )
            o = saved_output(out)
            ctx = OpContext(args, o, params)
            backward = self.backward
            attach(out, self.name, lambda g: backward(ctx, g), args, tensors, out_alias=o)
        return out

    def __repr__(self) -> str:
        return f"<ember op {self.name} (kernels for {sorted(self.kernels) or 'none'})>"
