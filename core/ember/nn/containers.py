"""Containers of parameters: :class:`ParameterList` and :class:`ParameterDict` (PyTorch's names).

Each entry is registered as a parameter of the container (keys ``"0"``, ``"1"``, ... or the dict's
keys), so ``parameters()``, ``state_dict()``, ``to()`` and optimizers see them. A plain tensor put
in is wrapped as a :class:`Parameter`, as PyTorch does; other values are refused.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..tensor import Tensor
from .module import Module
from .parameter import Parameter

__all__ = ["ParameterList", "ParameterDict"]


def _as_parameter(owner: str, value: Any) -> Parameter:
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(
        f"{owner}: entries must be ember.nn.Parameter or ember.Tensor (wrapped as a Parameter), got "
        f"{type(value).__name__}"
    )


def _describe(p: Parameter) -> str:
    size = "x".join(map(str, p.shape))
    return f"Parameter containing: [ember.{p.dtype.name} of size {size}]"


class ParameterList(Module):
    """A list of parameters, registered under their positions ``"0"``, ``"1"``, ..."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def _key(self, idx: int) -> str:
        n = len(self._parameters)
        if not -n <= idx < n:
            raise IndexError(f"ParameterList: index {idx} is out of range for {n} parameter(s)")
        return str(idx % n)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return ParameterList(list(self._parameters.values())[idx])
        return self._parameters[self._key(idx)]

    def __setitem__(self, idx: int, value: Any) -> None:
        self.register_parameter(self._key(idx), _as_parameter("ParameterList", value))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._parameters.values())  # type: ignore[arg-type]

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def append(self, value: Any) -> ParameterList:
        """Add ``value`` (a Parameter, or a tensor wrapped as one) at the end; returns self."""
        self.register_parameter(str(len(self._parameters)), _as_parameter("ParameterList", value))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Append each of ``values``; returns self."""
        if isinstance(values, Tensor) or not isinstance(values, Iterable):
            raise TypeError(
                f"ParameterList.extend: expected an iterable of parameters, got {type(values).__name__}"
            )
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        return "\n".join(f"({k}): {_describe(p)}" for k, p in self._parameters.items() if p is not None)

    def forward(self, *args: Any) -> Any:
        """A ParameterList has no forward of its own."""
        raise NotImplementedError("ParameterList has no forward(); index it or iterate over it")


class ParameterDict(Module):
    """An ordered dict of parameters, registered under their keys."""

    def __init__(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Parameter:
        if key not in self._parameters:
            raise KeyError(f"ParameterDict: no parameter named {key!r}; keys are {list(self._parameters)}")
        return self._parameters[key]  # type: ignore[return-value]

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: keys must be strings, got {type(key).__name__}")
        self.register_parameter(key, _as_parameter("ParameterDict", value))

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def __contains__(self, key: object) -> bool:
        return key in self._parameters

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def keys(self) -> Iterable[str]:
        """The keys, in insertion order."""
        return self._parameters.keys()

    def values(self) -> Iterable[Parameter]:
        """The parameters, in insertion order."""
        return self._parameters.values()  # type: ignore[return-value]

    def items(self) -> Iterable[tuple[str, Parameter]]:
        """(key, parameter) pairs, in insertion order."""
        return self._parameters.items()  # type: ignore[return-value]

    def get(self, key: str, default: Any = None) -> Any:
        """The parameter at ``key``, or ``default``."""
        return self._parameters.get(key, default)

    def pop(self, key: str) -> Parameter:
        """Remove the parameter at ``key`` and return it."""
        value = self[key]
        del self._parameters[key]
        return value

    def clear(self) -> None:
        """Remove every parameter."""
        self._parameters.clear()

    def update(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add or replace entries from a mapping or an iterable of (key, value) pairs. As PyTorch,
        a plain mapping's entries go in sorted by key; an OrderedDict, a ParameterDict or pairs
        keep their order."""
        if isinstance(parameters, OrderedDict | ParameterDict):
            items: Iterable[tuple[str, Any]] = parameters.items()
        elif isinstance(parameters, Mapping):
            items = sorted(parameters.items())
        else:
            items = parameters
        for key, value in items:
            self[key] = value

    def extra_repr(self) -> str:
        return "\n".join(f"({k}): {_describe(p)}" for k, p in self._parameters.items() if p is not None)

    def forward(self, *args: Any) -> Any:
        """A ParameterDict has no forward of its own."""
        raise NotImplementedError("ParameterDict has no forward(); index it by key")
