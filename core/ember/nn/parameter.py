"""``Parameter``: a tensor that a :class:`~ember.nn.Module` registers as one of its weights."""

from __future__ import annotations

from ..tensor import Tensor

__all__ = ["Parameter"]

_new = object.__new__


class Parameter(Tensor):
    """A leaf tensor (``requires_grad=True`` by default) that modules register as a parameter.

    ``Parameter(t)`` shares ``t``'s memory (like ``t.detach()``) and is still an :class:`ember.Tensor`,
    so every op accepts it. Assigning one to a module attribute registers it.

    >>> import ember
    >>> w = ember.nn.Parameter(ember.zeros(2, 3))
    >>> w.requires_grad, isinstance(w, ember.Tensor)
    (True, True)
    """

    __slots__ = ()

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        if data is None:
            from ..ops.creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(
                f"Parameter: expected an ember.Tensor, got {type(data).__name__}; wrap arrays "
                "with ember.tensor(...) first"
            )
        if requires_grad and not data.dtype.is_floating_point:
            raise TypeError(
                f"Parameter: only floating point tensors can require gradients, got "
                f"{data.dtype}; "
                "pass requires_grad=False"
            )
        p = _new(cls)
        p._data = data._data
        p.shape = data.shape
        p.dtype = data.dtype
        p.device = data.device
        p.requires_grad = bool(requires_grad)
        p.grad = None
        p.grad_fn = None
        p._version = data._version
        p._base = None
        p._hooks = None
        p._post_accumulate_hooks = None
        return p

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __deepcopy__(self, memo: dict) -> Parameter:
        """A Parameter with its own copy of the data (and of ``grad``)."""
        t = Tensor.__deepcopy__(self, memo)
        p = Parameter(t, self.requires_grad)
        p.grad = t.grad
        memo[id(self)] = p
        return p


def _set_storage(t: Tensor, src: Tensor) -> None:
    """Point ``t`` at ``src``'s buffer, shape, dtype and device (``Module.to`` keeps Parameter identity)."""
    t._data = src._data
    t.shape = src.shape
    t.dtype = src.dtype
    t.device = src.device
    t._version[0] += 1
