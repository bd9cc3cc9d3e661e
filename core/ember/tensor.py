"""The Tensor: shape, dtype, device, a backend-native buffer and autograd fields.

The class stays thin: math lives in :mod:`ember.ops` and is attached as methods there, so the
functional form (``ember.exp(x)``) and the method (``x.exp()``) are one piece of code.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .dtypes import DType

__all__ = ["Tensor"]

if TYPE_CHECKING:
    # the methods and operators the op records attach at import (ember.ops), as a generated stub
    from ._tensor_methods import TensorMethods as _RecordMethods
else:
    _RecordMethods = object


class Tensor(_RecordMethods):
    """An n-dimensional array on a device, with autograd.

    Attributes: ``shape`` (tuple), ``dtype`` (:class:`ember.dtypes.DType`), ``device``
    (:class:`ember.Device`), ``requires_grad``, ``grad``, ``grad_fn``. Make tensors with
    :func:`ember.tensor`, :func:`ember.zeros` and friends rather than calling this class.
    """

    __slots__ = (
        "_data",
        "shape",
        "dtype",
        "device",
        "requires_grad",
        "grad",
        "grad_fn",
        "_version",
        "_base",
        "_view_fn",
        "_view_version",
        "_hooks",
        "_post_accumulate_hooks",
        "__weakref__",
    )

    _data: Any
    shape: tuple[int, ...]
    dtype: DType
    device: Any
    requires_grad: bool
    grad: Tensor | None
    grad_fn: Any
    _version: list[int]
    _base: Tensor | None
    # for a view: base -> this view, replayed with autograd (an in-place op on the view rebuilds
    # the base's history from it); None for a base, or a view made by an op that records none
    _view_fn: Callable[[Tensor], Tensor] | None
    _view_version: int  # for a view: the shared version its history corresponds to
    _hooks: list[Callable[[Tensor], Tensor | None]] | None
    _post_accumulate_hooks: list[Callable[[Tensor], None]] | None  # register_post_accumulate_grad_hook

    def __new__(cls, *args: Any, **kwargs: Any) -> Tensor:
        if args or kwargs:
            from .ops.creation import tensor

            return tensor(*args, **kwargs)
        raise TypeError("use ember.tensor(data), ember.zeros(shape) ... to make a tensor")

    # -- basic properties ------------------------------------------------------------------------
    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    def dim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or the size of dimension ``dim``."""
        if dim is None:
            return self.shape
        return self.shape[_wrap_dim(dim, len(self.shape), "size")]

    def numel(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)

    def element_size(self) -> int:
        """Bytes per element."""
        return self.dtype.itemsize

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (user-made tensors and parameters)."""
        return self.grad_fn is None

    def is_floating_point(self) -> bool:
        """Whether the dtype is a floating type."""
        return self.dtype.is_floating_point

    def is_complex(self) -> bool:
        """Whether the dtype is a complex type (complex64, complex128)."""
        return self.dtype.is_complex

    @property
    def data(self) -> Tensor:
        """A tensor sharing this one's memory, detached from the graph."""
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        if value.shape != self.shape or value.dtype is not self.dtype or value.device is not self.device:
            raise ValueError(
                f".data assignment: expected shape {self.shape}, {self.dtype} on "
                f"{self.device}, got {value.shape}, {value.dtype} on {value.device}"
            )
        self._data = value._data
        self._version[0] += 1

    # -- autograd --------------------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place on a leaf; returns self."""
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use .detach() instead")
        if requires_grad and not self.dtype.is_differentiable:
            raise RuntimeError(
                f"only floating point and complex tensors can require gradients, got {self.dtype}"
            )
        self.requires_grad = requires_grad
        return self

    def detach(self) -> Tensor:
        """A tensor sharing memory with this one, outside the graph."""
        out = _make(self._data, self.shape, self.dtype, self.device)
        out._version = self._version
        out._base = self._base if self._base is not None else self
        out._view_fn = None
        out._view_version = self._version[0]
        return out

    def detach_(self) -> Tensor:
        """Detach in place; returns self."""
        self.grad_fn = None
        self.requires_grad = False
        return self

    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Accumulate the gradient of this tensor into the ``.grad`` of the leaves it depends on.

        ``gradient`` is required for non-scalar tensors (the vector of the vector-Jacobian
        product); ``retain_graph`` keeps the graph for another backward.
        """
        from .autograd.graph import run_backward

        if not self.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn: "
                "call requires_grad_() on the inputs, and don't compute under no_grad()"
            )
        if gradient is None:
            if self.numel() != 1:
                raise RuntimeError(
                    f"backward() on a tensor of shape {self.shape}: grad can be implicitly "
                    "created only for scalar outputs; pass gradient="
                )
            from .ops.creation import ones_like

            gradient = ones_like(self)
        elif gradient.shape != self.shape:
            raise RuntimeError(
                f"backward(): gradient of shape {gradient.shape} for a tensor of shape {self.shape}"
            )
        if retain_graph is None:
            retain_graph = create_graph
        if inputs is not None:
            from .autograd import grad as _grad

            ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
            if not ins:
                raise RuntimeError(
                    "backward: inputs is empty, so no gradient would be computed; pass the tensors "
                    "whose .grad to accumulate into, or inputs=None for every leaf (as in PyTorch)"
                )
            gs = _grad(
                [self],
                ins,
                [gradient],
                retain_graph=retain_graph,
                create_graph=create_graph,
                allow_unused=True,
            )
            for t, g in zip(ins, gs):
                if g is not None:
                    t.grad = g if t.grad is None else t.grad + g
            return
        run_backward([self], [gradient], retain_graph, create_graph)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Any:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle with ``remove()``."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            if self.grad_fn.pre_hooks is None:
                self.grad_fn.pre_hooks = []
            hooks = self.grad_fn.pre_hooks
        else:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> Any:
        """Call ``hook(tensor)`` on this leaf as soon as its ``.grad`` is final in a backward pass
        (every contribution accumulated), while the rest of the backward still runs, as PyTorch
        does; data-parallel training starts communicating a gradient there. Not called by
        ``autograd.grad``. Returns a handle with ``remove()``."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: only leaf tensors accumulate a .grad; register "
                "the hook on the leaf (a parameter), or use register_hook on this non-leaf tensor"
            )
        if not self.requires_grad:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: the tensor does not require grad; call "
                "requires_grad_() first"
            )
        hooks = self._post_accumulate_hooks
        if hooks is None:
            hooks = self._post_accumulate_hooks = []
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if self.grad_fn is None:
            return
        self.grad_fn.retained = weakref.ref(self)

    # -- host conversion -----------------------------------------------------------------------
    def numpy(self, force: bool = False) -> np.ndarray:
        """The values as a numpy array (sharing memory on cpu).

        Raises for tensors that require grad, like PyTorch; use ``.detach().numpy()``.
        """
        if self.requires_grad and not force:
            raise RuntimeError(
                "can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()"
            )
        return self.device.kernels["to_numpy"](self._data)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """numpy's array protocol: ``copy=True`` (``np.array(t)``) gives memory of its own,
        ``copy=None`` (``np.asarray(t)``) shares a cpu tensor's memory when it can, and
        ``copy=False`` raises when a copy cannot be avoided (a dtype change)."""
        a = self.device.kernels["to_numpy"](self._data)
        if dtype is not None and np.dtype(dtype) != a.dtype:
            if copy is False:
                raise ValueError(
                    f"__array__: cannot convert a {self.dtype} tensor to {np.dtype(dtype)} without a "
                    "copy (copy=False); use np.asarray(t, dtype=...) to allow one"
                )
            return a.astype(dtype)
        return a.copy() if copy else a

    def item(self) -> bool | int | float | complex:
        """The value of a one-element tensor as a Python number."""
        if self.numel() != 1:
            raise ValueError(
                f"item(): only one-element tensors can be converted to Python scalars, got shape {self.shape}"
            )
        return self.device.kernels["to_numpy"](self._data).reshape(()).item()

    def tolist(self) -> Any:
        """The values as (nested) Python lists."""
        return self.device.kernels["to_numpy"](self._data).tolist()

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.numel()} elements is ambiguous; use .any() or .all()"
            )
        return bool(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    # -- the array API standard's array object (ember.array_api) --------------------------------
    def __array_namespace__(self, /, *, api_version: str | None = None) -> Any:
        """The Python array API namespace of Ember tensors, :mod:`ember.array_api`.
        ``api_version`` (``"2025.12"`` and earlier years) must be one it implements, else ValueError
        lists them."""
        from . import array_api

        if api_version is not None and api_version not in array_api.SUPPORTED_VERSIONS:
            raise ValueError(
                f"__array_namespace__: api_version {api_version!r} is not supported; ember.array_api "
                f"implements {', '.join(array_api.SUPPORTED_VERSIONS)} (or pass None for "
                f"{array_api.__array_api_version__})"
            )
        return array_api

    def __complex__(self) -> complex:
        """The value of a one-element tensor as a Python complex (the imaginary part is 0 for
        real dtypes), as the array API standard asks of every array."""
        return complex(self.item())

    def to_device(self, device: Any, /, *, stream: Any = None) -> Tensor:
        """This tensor on ``device`` (an Ember device or its name), the array API's spelling of
        ``.to(device)``: the tensor itself when it is already there. ``stream`` must be None
        (Ember orders each device's work itself)."""
        if stream is not None:
            raise ValueError(
                f"to_device: stream={stream!r} is not supported; Ember orders each device's work "
                "itself, so pass stream=None"
            )
        from .device import device as _device

        return self.to(_device(device))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        from .formatting import format_tensor

        return format_tensor(self)

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("ember tensors are not pickled; save them with ember.save(obj, path)")

    def __copy__(self) -> Tensor:
        """``copy.copy``: a new leaf tensor sharing this one's memory (writes show through both), with
        the same ``requires_grad``, as in PyTorch."""
        out = self.detach()
        out.requires_grad = self.requires_grad
        return out

    def __deepcopy__(self, memo: dict) -> Tensor:
        """``copy.deepcopy`` of a leaf tensor: its own memory, ``requires_grad`` and ``grad`` copied."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "deepcopy: only leaf tensors (made by the user, not by an op) can be deep-copied; "
                "use .detach().clone()"
            )
        import copy

        from .autograd.grad_mode import no_grad

        with no_grad():
            out = self.clone()
        out.requires_grad = self.requires_grad
        if self.grad is not None:
            out.grad = copy.deepcopy(self.grad, memo)
        memo[id(self)] = out
        return out


class _HookHandle:
    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        """Unregister the hook."""
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


_new = object.__new__


def _make(data: Any, shape: tuple[int, ...], dtype: DType, device: Any) -> Tensor:
    """Wrap a native buffer in a Tensor (no copy, no checks). The hot path of every op."""
    t = _new(Tensor)
    t._data = data
    t.shape = shape
    t.dtype = dtype
    t.device = device
    t.requires_grad = False
    t.grad = None
    t._view_fn = None
    t.grad_fn = None
    t._version = [0]
    t._base = None
    t._hooks = None
    t._post_accumulate_hooks = None
    return t


def _wrap_dim(dim: int, ndim: int, op: str) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"{op}: dimension {dim} out of range for a tensor with {ndim} dim(s) (expected {-n} .. {n - 1})"
        )
    return dim % n

