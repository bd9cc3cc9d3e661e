"""The ``meta`` backend: every primitive kernel of :data:`ember.backend.PRIMITIVES`, on data-less
:class:`~ember_meta.array.MetaArray` buffers.

Each kernel computes only what its contract says about the result's shape and dtype (numpy
broadcasting for elementwise ops, ``dims``/``keepdim`` for reductions, batch broadcasting for
matmul ...). Kernels that must return host data (``to_numpy``, ``nonzero``) raise
:class:`~ember_meta.array.MetaDataError`. Nothing is allocated, so a model of any size can be
built and run forward on ``meta`` to learn its output shapes and parameter counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from ember.backend import PRIMITIVES, Backend
from ember.dtypes import get_default_dtype
from ember.layout import broadcast_shapes, broadcast_strides

from .array import MetaArray, no_data_error

__all__ = ["MetaBackend", "meta_kernels"]

Buffer = MetaArray | bool | int | float


def _shape(v: Buffer) -> tuple[int, ...]:
    return v.shape if isinstance(v, MetaArray) else ()


def _dtype(*values: Buffer) -> np.dtype:
    """The dtype of the first buffer among ``values``; for Python scalars only, their kind's dtype."""
    for v in values:
        if isinstance(v, MetaArray):
            return v.dtype
    v = values[0]
    if isinstance(v, bool):
        return np.dtype(np.bool_)
    if isinstance(v, int):
        return np.dtype(np.int64)
    return np.dtype(get_default_dtype().numpy)


def _broadcast(*values: Buffer) -> tuple[int, ...]:
    shapes = [_shape(v) for v in values]
    return shapes[0] if all(s == shapes[0] for s in shapes) else broadcast_shapes(*shapes)


def _reduced(shape: tuple[int, ...], dims: Any, keepdim: bool) -> tuple[int, ...]:
    if dims is None:
        dims = range(len(shape))
    elif isinstance(dims, int):
        dims = (dims,)
    axes = {d for d in dims if 0 <= d < len(shape)}
    if keepdim:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """numpy.matmul's result shape (1-D operands promoted, then the added dim removed)."""
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ValueError(f"matmul: shapes {a} and {b} cannot be multiplied ({a2[-1]} != {b2[-2]})")
    out = broadcast_shapes(a2[:-2], b2[:-2]) + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def meta_kernels() -> dict[str, Callable[..., Any]]:
    """Op name -> kernel for every primitive (and a few cheap optional kernels) on MetaArrays."""
    new = MetaArray.like

    # -- memory and layout -------------------------------------------------------------------
    def from_numpy(array: np.ndarray, device_index: int) -> MetaArray:
        return new(array.shape, array.dtype)

    def to_numpy(x: MetaArray) -> np.ndarray:
        raise no_data_error("to_numpy", x)

    def empty(shape: tuple[int, ...], dtype: Any, device_index: int) -> MetaArray:
        return new(shape, dtype.numpy)

    def full(shape: tuple[int, ...], value: Any, dtype: Any, device_index: int) -> MetaArray:
        return new(shape, dtype.numpy)

    def copy_(dst: MetaArray, src: Buffer) -> None:
        # nothing to write; still refuse what a real device would refuse
        if isinstance(src, MetaArray):
            broadcast_strides(src.shape, src.strides, dst.shape)

    def cast(x: MetaArray, dtype: Any) -> MetaArray:
        return new(x.shape, dtype.numpy)

    def strides(x: MetaArray) -> tuple[int, ...]:
        return x.strides

    def as_strided(x: MetaArray, shape: tuple[int, ...], st: tuple[int, ...], offset: int) -> MetaArray:
        return MetaArray(shape, x.dtype, x.layout.as_strided(tuple(shape), tuple(st), offset))

    # -- elementwise ---------------------------------------------------------------------------
    def unary(x: MetaArray) -> MetaArray:
        return new(x.shape, x.dtype)

    def binary(a: Buffer, b: Buffer) -> MetaArray:
        return new(_broadcast(a, b), _dtype(a, b))

    def compare(a: Buffer, b: Buffer) -> MetaArray:
        return new(_broadcast(a, b), np.bool_)

    def where(cond: MetaArray, a: Buffer, b: Buffer) -> MetaArray:
        return new(_broadcast(cond, a, b), _dtype(a, b))

    # -- reductions ----------------------------------------------------------------------------
    def reduce(x: MetaArray, dims: tuple[int, ...], keepdim: bool) -> MetaArray:
        return new(_reduced(x.shape, dims, keepdim), x.dtype)

    def arg_reduce(x: MetaArray, dim: int | None, keepdim: bool) -> MetaArray:
        return new(_reduced(x.shape, dim, keepdim), np.int64)

    def cumsum(x: MetaArray, dim: int) -> MetaArray:
        return new(x.shape, x.dtype)

    # -- linear algebra, indexing, random ------------------------------------------------------
    def matmul(a: MetaArray, b: MetaArray) -> MetaArray:
        return new(_matmul_shape(a.shape, b.shape), a.dtype)

    def gather(x: MetaArray, dim: int, index: MetaArray) -> MetaArray:
        return new(index.shape, x.dtype)

    def scatter_add(x: MetaArray, dim: int, index: MetaArray, src: MetaArray) -> MetaArray:
        return new(x.shape, x.dtype)

    def nonzero(x: MetaArray) -> MetaArray:
        raise no_data_error("nonzero", x)

    def random(shape: tuple[int, ...], dtype: Any, device_index: int, seed: int, offset: int) -> MetaArray:
        return new(shape, dtype.numpy)

    # -- optional kernels: cheap, and they keep moves to meta from copying through the host ----
    def from_device(buffer: Any, source_device: Any, target_index: int = 0) -> MetaArray | None:
        try:
            return new(tuple(buffer.shape), np.dtype(buffer.dtype))
        except (AttributeError, TypeError):
            return None  # an unknown buffer type: go through the host

    kernels: dict[str, Callable[..., Any]] = {
        "from_numpy": from_numpy,
        "to_numpy": to_numpy,
        "empty": empty,
        "full": full,
        "copy_": copy_,
        "cast": cast,
        "strides": strides,
        "as_strided": as_strided,
        "where": where,
        "cumsum": cumsum,
        "matmul": matmul,
        "gather": gather,
        "scatter_add": scatter_add,
        "nonzero": nonzero,
        "uniform": random,
        "normal": random,
        "from_device": from_device,
        "is_contiguous": lambda x: x.is_contiguous,
        "clone": lambda x: new(x.shape, x.dtype),
        # the optional sort kernel: values like x, int64 indices (the composite works too, slower)
        "sort": lambda x, dim: (new(x.shape, x.dtype), new(x.shape, np.int64)),
    }
    # the elementwise families come from the kernel contract itself
    unary_ops = [n for n, (family, _) in PRIMITIVES.items() if family == "unary"]
    binary_ops = [n for n, (family, _) in PRIMITIVES.items() if family == "binary"]
    for name in unary_ops:
        kernels[name] = unary
    for name in binary_ops:
        kernels[name] = binary
    for name in ("eq", "lt", "le"):
        kernels[name] = compare
    for name in ("sum", "prod", "max", "min"):
        kernels[name] = reduce
    for name in ("argmax", "argmin"):
        kernels[name] = arg_reduce
    return kernels


class MetaBackend(Backend):
    """The ``meta`` device type: one device, ``meta:0``; shapes and dtypes only, no memory used."""

    device_type = "meta"
    #: no values live on this device (read by a proposed core change: repr and value checks)
    has_data = False

    def __init__(self) -> None:
        super().__init__()
        self.kernels = meta_kernels()

    def device_properties(self, index: int) -> dict[str, Any]:
        """A name saying what the device is."""
        return {"name": "meta (shapes and dtypes only)"}

    def supports_dtype(self, dtype: Any, index: int) -> bool:
        """Every dtype, bfloat16 included: a meta tensor holds no values to compute with."""
        return True

    def memory_stats(self, index: int) -> dict[str, int]:
        """Nothing is ever allocated."""
        return {"in_use": 0, "cached": 0, "peak": 0}

    def native_type(self) -> type | None:
        """Buffers are :class:`~ember_meta.array.MetaArray`."""
        return MetaArray
