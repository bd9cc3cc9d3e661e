"""The meta device's buffer: :class:`MetaArray`, a shape, a dtype and a strided layout, no data.

Reading values from a meta buffer is impossible; every such attempt raises
:class:`MetaDataError`, whose message names the user-level operation that asked for data
(``repr()``, ``.item()``, ``.numpy()``, ``.to('cpu')`` ...) and what to do instead.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from ember.errors import EmberError
from ember.layout import StridedBuffer, StridedLayout

__all__ = ["MetaArray", "MetaDataError", "no_data_error"]


class MetaDataError(EmberError, RuntimeError):
    """An operation needed the values of a meta tensor, which has none."""


class MetaArray(StridedBuffer):
    """A data-less buffer: shape, numpy dtype and a :class:`~ember.layout.StridedLayout`.

    Views (``as_strided``) share nothing but describe their layout faithfully, so
    ``Tensor.stride()``, ``is_contiguous()`` and view/copy decisions behave as on a real device.
    """

    __slots__ = ("layout", "dtype")

    def __init__(self, shape: tuple[int, ...], dtype: Any, layout: StridedLayout | None = None) -> None:
        shape = tuple(int(n) for n in shape)
        self.layout = StridedLayout.contiguous(shape) if layout is None else layout
        self.dtype = np.dtype(dtype)

    @classmethod
    def like(cls, shape: tuple[int, ...], dtype: Any) -> MetaArray:
        """A fresh C-contiguous MetaArray (what every computing kernel returns)."""
        return cls(shape, dtype)

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes this buffer would occupy on a real device (numel * itemsize)."""
        return self.size * self.dtype.itemsize

    @property
    def is_contiguous(self) -> bool:
        """Whether the layout is C-contiguous."""
        return self.layout.is_contiguous

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise no_data_error("numpy.asarray", self)

    def __repr__(self) -> str:
        extra = "" if self.layout.is_contiguous and not self.offset else f", strides={self.strides}"
        extra += f", offset={self.offset}" if self.offset else ""
        return f"MetaArray(shape={self.shape}, dtype={self.dtype.name}{extra})"


# user-facing description of the core function that asked for data
_ENTRY_POINTS = {
    "format_tensor": "repr()/print() of a tensor",
    "__repr__": "repr()/print() of a tensor",
    "numpy": "Tensor.numpy()",
    "__array__": "numpy.asarray(tensor)",
    "tolist": "Tensor.tolist()",
    "item": "Tensor.item()",
    "__bool__": "bool(tensor) (e.g. `if tensor:`)",
    "__int__": "int(tensor)",
    "__float__": "float(tensor)",
    "__index__": "using a tensor as an index",
    "_move": "Tensor.to(<another device>)",
    "nonzero": "nonzero() (also behind boolean-mask indexing x[mask] and masked_select)",
    "gradcheck": "ember.autograd.gradcheck",
}


#: entries that read values on behalf of someone else: name the ember function that asked
_VALUE_READS = {
    "numpy",
    "__array__",
    "tolist",
    "item",
    "__bool__",
    "__int__",
    "__float__",
    "__index__",
    "nonzero",
}


def _caller() -> tuple[str | None, str | None]:
    """(user-facing operation, internal ember function behind it) of the current request for data."""
    frame = sys._getframe(1)
    found: str | None = None
    via: str | None = None
    tracking = False
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("ember_meta"):
            frame = frame.f_back
            continue
        if not module.startswith("ember."):
            break  # user code: the traceback shows it
        name = frame.f_code.co_name
        if name in _ENTRY_POINTS:
            found, via, tracking = _ENTRY_POINTS[name], None, name in _VALUE_READS
        elif tracking and via is None and module != "ember.tensor":
            via = f"{module}.{name}"  # e.g. an index bounds check in ember.ops.gather_scatter
        frame = frame.f_back
    return found, via


def no_data_error(kernel: str, x: Any) -> MetaDataError:
    """The error raised when kernel ``kernel`` would need the values of meta buffer ``x``."""
    what, via = _caller()
    what = what or kernel
    desc = f"shape {tuple(x.shape)}, {x.dtype}" if isinstance(x, MetaArray) else "a meta buffer"
    msg = (
        f"{what}: meta tensors have no data, only a shape and a dtype (this one: {desc}), "
        f"so there are no values to read (kernel {kernel!r} on device 'meta')"
    )
    if via is not None:
        msg += f"; it was needed by {via}, which looks at values"
    msg += (
        ". Moving it with .to('cpu') is impossible too: there is nothing to copy. Materialise it on a "
        "real device instead: create the tensor or model there (device='cpu'), or use "
        "ember.empty(t.shape, dtype=t.dtype, device='cpu') and initialise it. Use t.shape, t.dtype, "
        "t.numel() and t.stride() to inspect a meta tensor."
    )
    return MetaDataError(msg)
