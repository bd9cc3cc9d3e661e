"""bfloat16 on the cpu: numpy arrays of ``ml_dtypes.bfloat16``, computed as PyTorch computes them.

numpy has no bfloat16; ``ml_dtypes`` adds it as a numpy dtype with its own ufunc loops, which
compute each element in float32 and round once to nearest even. Measured against PyTorch's
bfloat16 results over all 65,536 values (and 200,000 random pairs), those loops give PyTorch's
bits for the unary math and the tensor-tensor arithmetic and comparisons, so those kernels stay as
they are. Three things differ, and :func:`bfloat16_kernels` wraps the kernels they touch:

* A Python float operand: numpy promotes a bfloat16 array with it to float32 (ml_dtypes takes no
  part in numpy's weak scalars). PyTorch multiplies and divides by the scalar in float32 (a float
  over an array is the array's rounded reciprocal times the float) and rounds the scalar of every
  other binary op to bfloat16 first; the kernels do the same.
* Everything that is not one ufunc per element (sums, products, cumulative sums, matmul, softmax,
  sort, where, erf, scatter_add, the linear algebra): numpy would accumulate in bfloat16 (the sum of
  1,000 ones is 256), sorts NaN out of order, and returns float32 from matmul and float64 from
  scipy's erf. These run on float32 copies and round each floating result to bfloat16 once, as
  PyTorch accumulates bfloat16 reductions in float32.
* ``empty``, ``full``, ``uniform`` and ``normal`` find no bfloat16 in numpy's namespace; uniform
  draws keep the 8 bits a bfloat16 significand holds, so none rounds up to 1.0.

Float32 inputs take the kernels' own paths after one type check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ml_dtypes
import numpy as np
from ember.dtypes import float32 as _ember_float32

BFLOAT16 = np.dtype(ml_dtypes.bfloat16)
_F32 = np.dtype(np.float32)
_ndarray = np.ndarray

#: binary kernels that keep ml_dtypes' loops for two arrays; a Python float operand is rounded to
#: bfloat16 first, as PyTorch does for these ops
_SCALAR_ROUNDED = (
    "add",
    "sub",
    "maximum",
    "minimum",
    "atan2",
    "floor_divide",
    "remainder",
    "eq",
    "ne",
    "lt",
    "le",
)
#: of those, the kernels ml_dtypes' loops raise IEEE "invalid" in (NaN operands)
_QUIET = ("maximum", "minimum", "atan2", "eq", "ne", "lt", "le")
#: kernels computed on float32 copies, each floating result rounded to bfloat16 once
_WIDENED = (
    "erf",
    "signbit",
    "softmax",
    "log_softmax",
    "sum",
    "prod",
    "max",
    "min",
    "argmax",
    "argmin",
    "cumsum",
    "matmul",
    "where",
    "sort",
    "scatter_add",
    "nonzero",
    "linalg_cholesky",
    "linalg_eigh",
    "linalg_lu_factor",
    "linalg_qr",
    "linalg_solve_triangular",
    "linalg_svd",
)


def _narrow(r: Any) -> Any:
    if type(r) is _ndarray:
        return r.astype(BFLOAT16) if r.dtype == _F32 else r
    if type(r) is tuple:
        return tuple(_narrow(e) for e in r)
    if isinstance(r, np.float32):
        return np.asarray(r, dtype=BFLOAT16)
    return r


def widened(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` run on float32 copies of its bfloat16 array arguments, its float32 results rounded
    to bfloat16 once; calls without a bfloat16 array go straight to ``fn``."""

    def run(*args: Any) -> Any:
        for a in args:
            if type(a) is _ndarray and a.dtype is BFLOAT16:
                break
        else:
            return fn(*args)
        wide = [a.astype(_F32) if type(a) is _ndarray and a.dtype is BFLOAT16 else a for a in args]
        return _narrow(fn(*wide))

    run.__name__ = getattr(fn, "__name__", "kernel")
    return run


def _sigmoid32(x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        w = x.astype(_F32)
        return np.asarray(np.float32(1) / (np.float32(1) + np.exp(-w)), dtype=BFLOAT16)  # 0-d: an array


def _on_bfloat16(fn: Callable[[Any], Any], bf: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A unary kernel that runs ``bf`` for a bfloat16 array and ``fn`` otherwise."""

    def run(x: Any) -> Any:
        return bf(x) if x.dtype is BFLOAT16 else fn(x)

    run.__name__ = getattr(fn, "__name__", "kernel")
    return run


def _round32(w: np.ndarray) -> np.ndarray:
    return w.astype(BFLOAT16).astype(_F32)


#: PyTorch's own forms of x ** s for these exponents (x * x rounded to bfloat16 before the
#: third factor or the reciprocal); other exponents are powf, rounded once
_POW_FORMS: dict[float, Callable[[np.ndarray], np.ndarray]] = {
    3.0: lambda w: _round32(w * w) * w,
    -2.0: lambda w: np.float32(1) / _round32(w * w),
    0.5: np.sqrt,
    -0.5: lambda w: np.float32(1) / np.sqrt(w),
}


def _rounded(v: Any) -> Any:
    return ml_dtypes.bfloat16(v) if type(v) is float else v


def _binary(fn: Callable[[Any, Any], Any], scalar: str, quiet: bool = False) -> Callable[[Any, Any], Any]:
    """``fn`` with PyTorch's handling of a Python float operand beside a bfloat16 array: rounded
    to bfloat16 first (``scalar="rounded"``), kept in float32 (``"float32"``), or for div kept in
    float32 with a float over an array computed as the array's reciprocal, rounded, times the float
    (``"div"``, as PyTorch's ``__rtruediv__``), or for pow rounded except for the exponents
    PyTorch computes in forms of their own (``"pow"``).
    ``quiet``: no IEEE warnings for bfloat16 arrays (ml_dtypes' comparison loops raise "invalid"
    on NaN, numpy's float32 loops do not)."""

    def with_scalar(a: Any, b: Any) -> Any:
        if scalar == "pow" and type(b) is float and b in _POW_FORMS:
            with np.errstate(all="ignore"):
                return np.asarray(_POW_FORMS[b](a.astype(_F32)), dtype=BFLOAT16)
        if scalar == "rounded" or scalar == "pow":
            return fn(_rounded(a), _rounded(b))
        with np.errstate(all="ignore"):
            if scalar == "div" and type(a) is float:  # a float over an array: reciprocal(b) * a
                a, b = np.float32(a), (np.float32(1) / b.astype(_F32)).astype(BFLOAT16)
                return _narrow(np.asarray(np.multiply(a, b.astype(_F32))))
            wa = a.astype(_F32) if type(a) is _ndarray else np.float32(a)
            wb = b.astype(_F32) if type(b) is _ndarray else np.float32(b)
            return _narrow(np.asarray(fn(wa, wb)))

    def run(a: Any, b: Any) -> Any:
        if type(b) is float:
            if type(a) is _ndarray and a.dtype is BFLOAT16:
                return with_scalar(a, b)
        elif type(a) is float:
            if type(b) is _ndarray and b.dtype is BFLOAT16:
                return with_scalar(a, b)
        elif quiet and type(a) is _ndarray and a.dtype is BFLOAT16:
            with np.errstate(all="ignore"):
                return fn(a, b)
        return fn(a, b)

    run.__name__ = getattr(fn, "__name__", "kernel")
    return run


def bfloat16_kernels(kernels: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """The kernels of a numpy table (``ArrayBackend`` on numpy) that bfloat16 arrays need in place
    of the table's own (see the module's docstring); update the table with them."""
    out: dict[str, Callable[..., Any]] = {}
    for name in _SCALAR_ROUNDED:
        if name in kernels:
            out[name] = _binary(kernels[name], "rounded", name in _QUIET)
    out["pow"] = _binary(kernels["pow"], "pow")
    out["mul"] = _binary(kernels["mul"], "float32")
    out["div"] = _binary(kernels["div"], "div")
    # PyTorch's formula, 1 / (1 + exp(-x)) in float32: the table's overflow-safe form rounds
    # differently for 9 of the 65,536 inputs
    sigmoid = kernels.get("sigmoid")
    if sigmoid is not None:
        out["sigmoid"] = _on_bfloat16(sigmoid, _sigmoid32)
    for name in _WIDENED:
        if name in kernels:
            out[name] = widened(kernels[name])

    empty, full = kernels["empty"], kernels["full"]
    uniform, normal = kernels["uniform"], kernels["normal"]

    def empty_(shape: tuple[int, ...], dtype: Any, index: int) -> np.ndarray:
        if dtype.numpy is BFLOAT16:
            return np.empty(shape, dtype=BFLOAT16)
        return empty(shape, dtype, index)

    def full_(shape: tuple[int, ...], value: Any, dtype: Any, index: int) -> np.ndarray:
        if dtype.numpy is BFLOAT16:
            # through float32, as PyTorch converts a Python float (float64 -> float32 -> bfloat16)
            return np.full(shape, np.float32(value), dtype=_F32).astype(BFLOAT16)
        return full(shape, value, dtype, index)

    def uniform_(shape: tuple[int, ...], dtype: Any, index: int, seed: int, offset: int) -> np.ndarray:
        if dtype.numpy is not BFLOAT16:
            return uniform(shape, dtype, index, seed, offset)
        draws = uniform(shape, _ember_float32, index, seed, offset)
        # the top 8 bits of each float32 draw: exact in bfloat16, never 1.0
        return np.asarray(np.floor(draws * np.float32(256)) * np.float32(1 / 256), dtype=BFLOAT16)

    def normal_(shape: tuple[int, ...], dtype: Any, index: int, seed: int, offset: int) -> np.ndarray:
        if dtype.numpy is not BFLOAT16:
            return normal(shape, dtype, index, seed, offset)
        return normal(shape, _ember_float32, index, seed, offset).astype(BFLOAT16)

    out.update(empty=empty_, full=full_, uniform=uniform_, normal=normal_)
    return out
