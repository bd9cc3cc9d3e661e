"""The padding layers of the last one or two dims, made by ``_pad_module`` over ``_PadNd``: zero
(:class:`ZeroPad1d`, :class:`ZeroPad2d`), constant, reflection, replication and circular padding, each
over :func:`ember.nn.functional.pad`."""

from __future__ import annotations

from collections.abc import Sequence

from ...tensor import Tensor
from .. import functional as F
from ..module import Module


class _PadNd(Module):
    """Padding of the last ``_n`` dims by ``padding`` (an int for every side, or PyTorch's
    (left, right, top, bottom) tuple) in ``_mode``."""

    _n = 1
    _mode = "constant"

    def __init__(self, padding: int | Sequence[int], value: float = 0.0) -> None:
        super().__init__()
        name = type(self).__name__
        pads = (padding,) * (2 * self._n) if isinstance(padding, int) else tuple(int(p) for p in padding)
        if len(pads) != 2 * self._n:
            raise ValueError(
                f"{name}: padding must be an int or a tuple of {2 * self._n} ints, got {padding!r}"
            )
        self.padding, self.value = pads, value

    def forward(self, x: Tensor) -> Tensor:
        """The padded input."""
        if x.ndim not in (self._n + 1, self._n + 2):
            raise ValueError(
                f"{type(self).__name__}: expected a {self._n + 1}-D or {self._n + 2}-D input, got shape "
                f"{tuple(x.shape)}"
            )
        if self._mode == "constant":
            return F.pad(x, self.padding, "constant", self.value)
        return F.pad(x, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPad(_PadNd):
    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


def _pad_module(name: str, n: int, mode: str, doc: str, base: type = _PadNd, value: bool = False) -> type:
    if value:

        def __init__(self: Module, padding: int | Sequence[int], value: float) -> None:
            _PadNd.__init__(self, padding, value)
    else:

        def __init__(self: Module, padding: int | Sequence[int]) -> None:  # type: ignore[misc]
            _PadNd.__init__(self, padding)

    __init__.__qualname__ = f"{name}.__init__"
    return type(name, (base,), {"_n": n, "_mode": mode, "__doc__": doc, "__init__": __init__})


ZeroPad1d = _pad_module("ZeroPad1d", 1, "constant", "Zero padding of the last dim.")
ZeroPad2d = _pad_module("ZeroPad2d", 2, "constant", "Zero padding of the last two dims.")
ConstantPad1d = _pad_module(
    "ConstantPad1d", 1, "constant", "Padding of the last dim with ``value``.", _ConstantPad, True
)
ConstantPad2d = _pad_module(
    "ConstantPad2d", 2, "constant", "Padding of the last two dims with ``value``.", _ConstantPad, True
)
ReflectionPad1d = _pad_module("ReflectionPad1d", 1, "reflect", "Reflection padding of the last dim.")
ReflectionPad2d = _pad_module("ReflectionPad2d", 2, "reflect", "Reflection padding of the last two dims.")
ReplicationPad1d = _pad_module(
    "ReplicationPad1d", 1, "replicate", "Edge-replicating padding of the last dim."
)
ReplicationPad2d = _pad_module(
    "ReplicationPad2d", 2, "replicate", "Edge-replicating padding of the last two dims."
)
CircularPad1d = _pad_module("CircularPad1d", 1, "circular", "Circular (wrap-around) padding of the last dim.")
CircularPad2d = _pad_module(
    "CircularPad2d", 2, "circular", "Circular (wrap-around) padding of the last two dims."
)
