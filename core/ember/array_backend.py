"""A reusable backend for array libraries with a numpy-like namespace (numpy, CuPy, ...).

``array_kernels(xp, ...)`` returns the whole primitive table (see :mod:`ember.backend`) written
once against ``xp``; the cpu backend uses it with numpy and the cuda backend with CuPy. A
third-party author with such a library gets a working backend from a few lines: pass the
namespace, the two host transfers, an erf and a counter-based random draw. Here numpy plays the
library (the cuda backend passes ``cupy``, ``cupy.asnumpy``, an upload to device ``index``,
``cupyx.scipy.special.erf`` and a Philox draw on the device):

>>> import numpy as np
>>> from ember.array_backend import ArrayBackend, numpy_erf, numpy_random_bits
>>> from ember.backend import PRIMITIVES
>>> class MyBackend(ArrayBackend):
...     device_type = "mydev"
...
...     def __init__(self) -> None:
...         super().__init__(
...             np,  # the namespace
...             np.asarray,  # to_host(x) -> np.ndarray
...             lambda array, index: np.array(array),  # from_host(array, device_index) -> buffer
...             numpy_erf(),  # erf(x)
...             numpy_random_bits,  # random_bits(kind, shape, np_dtype, device_index, seed, offset)
...         )
>>> backend = MyBackend()
>>> [name for name in PRIMITIVES if name not in backend.kernels]
[]
>>> backend.kernels["add"](np.arange(3.0), 1.0)
array([1., 2., 3.])
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .backend import Backend
from .layout import contiguous_strides

__all__ = ["ArrayBackend", "array_kernels"]


def _reduce_result(xp: Any, r: Any) -> Any:
    return r if isinstance(r, xp.ndarray) else xp.asarray(r)


def array_kernels(
    xp: Any,
    to_host: Callable[[Any], np.ndarray],
    from_host: Callable[[np.ndarray, int], Any],
    erf: Callable[[Any], Any],
    random_bits: Callable[..., Any],
) -> dict[str, Callable[..., Any]]:
    """The primitive kernels (and a few fast composites) written against the namespace ``xp``.

    to_host/from_host move arrays to and from numpy; ``erf`` is the library's error function;
    ``random_bits(kind, shape, np_dtype, device_index, seed, offset)`` draws "uniform" or
    "normal" numbers as a pure function of (seed, offset).
    """
    ndarray = xp.ndarray
    errstate = getattr(xp, "errstate", None)

    def quiet(fn: Callable[..., Any]) -> Callable[..., Any]:
        # IEEE results (inf, nan) without warnings, as PyTorch gives them
        if errstate is None:
            return fn

        def run(*args: Any) -> Any:
            with errstate(all="ignore"):
                return fn(*args)

        return run

    asarray = xp.asarray

    def arr(fn: Callable[..., Any]) -> Callable[..., Any]:
        # ufuncs return scalars for 0-d inputs; buffers must stay arrays
        def run(*args: Any) -> Any:
            r = fn(*args)
            return r if type(r) is ndarray else asarray(r)

        run.__name__ = getattr(fn, "__name__", "kernel")
        return run

    def strides(x: Any) -> tuple[int, ...]:
        if x.size == 0:  # no element is ever addressed: report C-contiguous strides, as PyTorch does
            return contiguous_strides(x.shape)
        isz = x.itemsize
        return tuple(s // isz for s in x.strides)

    def as_strided(x: Any, shape: tuple[int, ...], st: tuple[int, ...], offset: int) -> Any:
        isz = x.itemsize
        if offset:
            # a 1-D window starting at x's first element, then step to the offset; backwards for a
            # negative offset (x itself may be a view with negative strides, its first element last
            # in memory)
            step = isz if offset > 0 else -isz
            x = xp.lib.stride_tricks.as_strided(x, (abs(offset) + 1,), (step,))[abs(offset) :]
        return xp.lib.stride_tricks.as_strided(x, shape, tuple(s * isz for s in st))

    def reshape(x: Any, shape: tuple[int, ...]) -> Any:
        try:
            return xp.reshape(x, shape, copy=False)  # raises instead of copying when no view exists
        except (ValueError, TypeError):
            return None

    def gather(x: Any, dim: int, index: Any) -> Any:
        if index.shape != x.shape:
            sl = tuple(slice(None) if d == dim else slice(0, n) for d, n in enumerate(index.shape))
            x = x[sl]
        return xp.take_along_axis(x, index, axis=dim)

    def scatter_add(x: Any, dim: int, index: Any, src: Any) -> Any:
        out = x.copy()
        # open-mesh coordinates (what np.indices(sparse=True) gives; CuPy lacks the sparse flag)
        nd = index.ndim
        idx = [
            xp.arange(n).reshape(tuple(n if i == d else 1 for i in range(nd)))
            for d, n in enumerate(index.shape)
        ]
        idx[dim] = index
        add_at = xp.add.at if hasattr(xp.add, "at") else None
        if add_at is not None:
            add_at(out, tuple(idx), src)
        else:  # CuPy
            import cupyx  # type: ignore[import-not-found]

            cupyx.scatter_add(out, tuple(idx), src)
        return out

    def bitwise(np_name: str, bool_name: str) -> Callable[[Any, Any], Any]:
        f, fb = getattr(xp, np_name), getattr(xp, bool_name)

        def run(a: Any, b: Any) -> Any:
            dt = a.dtype if isinstance(a, ndarray) else b.dtype
            return fb(a, b) if dt == np.bool_ else f(a, b)

        return run

    def softmax(x: Any, dim: int) -> Any:
        e = xp.exp(x - x.max(axis=dim, keepdims=True))
        e /= e.sum(axis=dim, keepdims=True)
        return e

    def log_softmax(x: Any, dim: int) -> Any:
        s = x - x.max(axis=dim, keepdims=True)
        return s - xp.log(xp.exp(s).sum(axis=dim, keepdims=True))

    def sort(x: Any, dim: int) -> tuple[Any, Any]:
        idx = xp.argsort(x, axis=dim, kind="stable")  # NaN last, as the contract says
        return xp.take_along_axis(x, idx, axis=dim), idx.astype(np.int64, copy=False)

    def sigmoid(x: Any) -> Any:
        e = xp.exp(-xp.abs(x))
        pos = 1 / (1 + e)
        return xp.where(x >= 0, pos, e * pos).astype(x.dtype, copy=False)

    def full(shape: tuple[int, ...], value: Any, dtype: Any, index: int) -> Any:
        return xp.full(shape, value, dtype=dtype.numpy)

    def cast(x: Any, dtype: Any) -> Any:
        with np.errstate(invalid="ignore"):
            return x.astype(dtype.numpy)

    def add_into(dst: Any, src: Any) -> None:
        xp.add(dst, src, out=dst)

    def getitem_basic(x: Any, key: tuple) -> Any:
        return x[key + (Ellipsis,)]  # the Ellipsis keeps an all-int key a 0-d view, not a scalar

    k: dict[str, Callable[..., Any]] = {
        # memory and layout
        "from_numpy": from_host,
        "to_numpy": to_host,
        "empty": lambda shape, dtype, index: xp.empty(shape, dtype=dtype.numpy),
        "full": full,
        "copy_": lambda dst, src: xp.copyto(dst, src),
        "cast": cast,
        "strides": strides,
        "as_strided": as_strided,
        # unary
        "neg": arr(xp.negative),
        "abs": arr(xp.abs),
        "exp": arr(quiet(xp.exp)),
        "log": arr(quiet(xp.log)),
        "sqrt": arr(quiet(xp.sqrt)),
        "sin": arr(xp.sin),
        "cos": arr(xp.cos),
        "tanh": arr(xp.tanh),
        "erf": arr(erf),
        "floor": arr(xp.floor),
        "ceil": arr(xp.ceil),
        "round": arr(xp.round),
        "trunc": arr(xp.trunc),
        # binary
        "add": arr(xp.add),
        "sub": arr(xp.subtract),
        "mul": arr(xp.multiply),
        "div": arr(quiet(xp.true_divide)),
        "pow": arr(quiet(xp.power)),
        "maximum": arr(xp.maximum),
        "minimum": arr(xp.minimum),
        "bitwise_and": arr(bitwise("bitwise_and", "logical_and")),
        "bitwise_or": arr(bitwise("bitwise_or", "logical_or")),
        "bitwise_xor": arr(bitwise("bitwise_xor", "logical_xor")),
        "eq": arr(xp.equal),
        "lt": arr(xp.less),
        "le": arr(xp.less_equal),
        "where": arr(xp.where),
        # reductions
        # dtype=x.dtype: numpy (and CuPy) sum and multiply small integers and bools in int64,
        # while the contract (and the tensor the core records) is x's dtype
        "sum": lambda x, dims, keep: _reduce_result(xp, xp.sum(x, axis=dims, keepdims=keep, dtype=x.dtype)),
        "prod": lambda x, dims, keep: _reduce_result(xp, xp.prod(x, axis=dims, keepdims=keep, dtype=x.dtype)),
        "max": lambda x, dims, keep: _reduce_result(xp, xp.max(x, axis=dims, keepdims=keep)),
        "min": lambda x, dims, keep: _reduce_result(xp, xp.min(x, axis=dims, keepdims=keep)),
        "argmax": lambda x, dim, keep: _reduce_result(xp, xp.argmax(x, axis=dim, keepdims=keep)).astype(
            np.int64, copy=False
        ),
        "argmin": lambda x, dim, keep: _reduce_result(xp, xp.argmin(x, axis=dim, keepdims=keep)).astype(
            np.int64, copy=False
        ),
        "cumsum": lambda x, dim: xp.cumsum(x, axis=dim, dtype=x.dtype),
        # linear algebra, indexing, random
        "matmul": xp.matmul,
        "gather": gather,
        "scatter_add": scatter_add,
        "nonzero": lambda x: xp.argwhere(x).astype(np.int64, copy=False),
        "uniform": lambda shape, dtype, index, seed, offset: random_bits(
            "uniform", shape, dtype.numpy, index, seed, offset
        ),
        "normal": lambda shape, dtype, index, seed, offset: random_bits(
            "normal", shape, dtype.numpy, index, seed, offset
        ),
        # optional fast paths of composite ops
        "reshape": reshape,
        "permute": lambda x, dims: x.transpose(dims),
        "expand": lambda x, shape: xp.broadcast_to(x, shape),
        "getitem_basic": getitem_basic,
        "clone": lambda x: x.copy(),
        "add_": add_into,
        "cat": lambda xs, dim: xp.concatenate(xs, axis=dim),
        "flip": lambda x, dims: xp.flip(x, axis=dims).copy(),
        "index_select": lambda x, dim, idx: xp.take(x, idx, axis=dim),
        "ne": arr(xp.not_equal),
        "signbit": arr(xp.signbit),
        "relu": arr(lambda x: xp.maximum(x, 0)),
        "sigmoid": arr(quiet(sigmoid)),
        "softmax": quiet(softmax),
        "log_softmax": quiet(log_softmax),
        "floor_divide": arr(quiet(xp.floor_divide)),
        "remainder": arr(quiet(xp.remainder)),
        "exp2": arr(quiet(xp.exp2)),
        "expm1": arr(quiet(xp.expm1)),
        "log1p": arr(quiet(xp.log1p)),
        "atan2": arr(getattr(xp, "atan2", None) or xp.arctan2),  # numpy < 2 names it arctan2
        "log2": arr(quiet(xp.log2)),
        "log10": arr(quiet(xp.log10)),
        "sort": sort,
    }
    k.update(importlib.import_module("ember.linalg").array_kernels(xp))  # ember.linalg's decompositions
    k.update(importlib.import_module("ember.ops.complex").complex_array_kernels(xp))  # complex parts
    k.update(importlib.import_module("ember.fft").array_kernels(xp))  # ember.fft's transform
    return k


def numpy_random_bits(
    kind: str, shape: tuple[int, ...], np_dtype: Any, index: int, seed: int, offset: int
) -> np.ndarray:
    """Counter-based numbers on the host: numpy's Philox keyed by the seed, at the block offset."""
    bitgen = np.random.Philox(key=seed & 0xFFFF_FFFF_FFFF_FFFF, counter=offset // 4)
    gen = np.random.Generator(bitgen)
    draw_dtype = np_dtype if np_dtype in (np.float32, np.float64) else np.float32
    if kind == "uniform":
        out = gen.random(shape, dtype=draw_dtype)
        if np.dtype(np_dtype) != out.dtype:
            # a narrower float (float16): keep as many random bits as its significand holds
            # (11), so the cast is exact; rounding a float32 draw would give 1.0 for draws
            # above 1 - 2**-12 (once in 4096)
            scale = float(2 ** (np.finfo(np_dtype).nmant + 1))
            out = np.floor(out * scale) * (1.0 / scale)
    else:
        out = gen.standard_normal(shape, dtype=draw_dtype)
    return out.astype(np_dtype, copy=False)


def numpy_erf() -> Callable[[np.ndarray], np.ndarray]:
    """An erf for numpy arrays: scipy's when installed, else the exact math.erf elementwise."""
    try:
        from scipy.special import erf  # type: ignore[import-untyped]

        return lambda x: erf(x).astype(x.dtype, copy=False)
    except ImportError:
        vec = np.frompyfunc(math.erf, 1, 1)
        return lambda x: np.asarray(vec(x), dtype=x.dtype)


class ArrayBackend(Backend):
    """A backend over an array namespace; subclasses pass the namespace and host transfers."""

    def __init__(
        self,
        xp: Any,
        to_host: Callable[[Any], np.ndarray],
        from_host: Callable[[np.ndarray, int], Any],
        erf: Callable[[Any], Any],
        random_bits: Callable[..., Any],
    ) -> None:
        super().__init__()
        self.xp = xp
        self.kernels = array_kernels(xp, to_host, from_host, erf, random_bits)

    def native_type(self) -> type | None:
        """The namespace's ndarray type."""
        return self.xp.ndarray
