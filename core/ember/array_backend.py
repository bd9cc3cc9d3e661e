"""``ArrayBackend``: an array library that follows the Python array API standard, as an Ember device.

``array_kernels(xp, ...)`` writes the whole primitive table (see :mod:`ember.backend`) once, with
the standard's names (``permute_dims``, ``concat``, ``pow``, ``astype``, ``take``,
``take_along_axis``, ``cumulative_sum`` ...), against the namespace of the library module ``xp``:
the module itself when it declares ``__array_api_version__`` (numpy 2, ``array_api_strict``),
else ``array_api_compat``'s wrapper of it (PyTorch, CuPy). The cpu backend is this table on
numpy, the cuda backend on CuPy.

What the standard lacks and every device needs has a standard-only default, which a library
that has better replaces through a constructor argument:

* host transfer: ``to_host`` reads through DLPack (``numpy.from_dlpack``), ``from_host`` is
  ``asarray(array, copy=True)``;
* ``erf``: :func:`standard_erf`, a Taylor series and a continued fraction of standard ops
  (5e-15 absolute error in float64);
* random numbers: :func:`numpy_random_bits` on the host, moved with ``from_host`` (so the
  device draws the cpu device's numbers);
* strided views: a namespace whose arrays have no strided views (the standard has none; PyTorch's
  have no negative strides) gets :class:`StridedArray` buffers, an
  :class:`ember.layout.StridedLayout` over a flat array shared by every view of it. Kernels see
  dense arrays (a view is read with one ``take``), and a write (``copy_``) replaces the flat
  array, so no array is ever mutated and nothing depends on the library's copy-or-view rules.

Where numpy (or CuPy) has a faster path than the standard, the table takes it, chosen once at
construction by what the namespace offers, never by its name: numpy-style strided views
(``lib.stride_tricks.as_strided``, byte ``strides``) make the arrays themselves the buffers,
with their own views; ``errstate`` silences IEEE warnings; ``ufunc.at`` scatters; ufuncs that
return scalars for 0-d inputs get their results wrapped back into arrays.

A device on ``array_api_strict`` (the standard and nothing else) is a declaration:

>>> import array_api_strict
>>> from ember.array_backend import ArrayBackend, StridedArray
>>> from ember.backend import PRIMITIVES
>>> class StrictBackend(ArrayBackend):
...     device_type = "strict"
...
...     def __init__(self) -> None:
...         super().__init__(array_api_strict)
>>> backend = StrictBackend()
>>> [name for name in PRIMITIVES if name not in backend.kernels]
[]
>>> x = backend.kernels["from_numpy"](np.arange(3.0), 0)
>>> type(x) is StridedArray, backend.kernels["to_numpy"](backend.kernels["add"](x, 1.0))
(True, array([1., 2., 3.]))

The cpu backend passes numpy and its host transfers (which share memory):
``ArrayBackend(np, to_host, from_host, numpy_erf(), numpy_random_bits)``.
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .backend import Backend
from .layout import StridedBuffer, StridedLayout, contiguous_strides

__all__ = [
    "ArrayBackend",
    "StridedArray",
    "array_kernels",
    "numpy_erf",
    "numpy_random_bits",
    "standard_erf",
    "standard_namespace",
    "has_strided_views",
    "strided_kernels",
]

#: the array API version whose names the kernels use (``cumulative_sum``, ``astype`` ...)
_MIN_API_VERSION = "2023.12"


def standard_namespace(xp: Any) -> Any:
    """The array API namespace of the library module ``xp``: ``xp`` itself when it declares
    ``__array_api_version__`` 2023.12 or later (numpy 2.1+, ``array_api_strict``), else
    ``array_api_compat``'s wrapper of it (PyTorch, CuPy, older numpy)."""
    if getattr(xp, "__array_api_version__", "") >= _MIN_API_VERSION:
        return xp
    name = getattr(xp, "__name__", repr(xp)).split(".")[0]
    try:
        return importlib.import_module(f"array_api_compat.{name}")
    except ImportError as exc:
        raise TypeError(
            f"ArrayBackend: {name} does not declare __array_api_version__ >= {_MIN_API_VERSION} and "
            f"array_api_compat has no wrapper for it ({exc}); pass a namespace that follows the array "
            "API standard, or `pip install array-api-compat` for PyTorch, CuPy and numpy < 2.1"
        ) from exc


# -- what the standard lacks: erf, random numbers ---------------------------------------------------

# erf(x) = x * P(x**2) for |x| < 2.5 (Taylor series, 45 terms: the last is below 1e-21 there)
_ERF_TAYLOR = [2 / math.sqrt(math.pi) * (-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(45)]
_ERF_SPLIT = 2.5


def standard_erf(xp: Any) -> Callable[[Any], Any]:
    """An erf written with the standard's operations only, for namespaces without one: the Taylor
    series below 2.5 and the continued fraction of erfc above (40 levels), 5e-15 absolute error
    in float64 and 3e-6 in float32; float16 is computed in float32."""
    ns = standard_namespace(xp)
    rsqrt_pi = 1 / math.sqrt(math.pi)

    def erf(x: Any) -> Any:
        half = x.dtype == getattr(ns, "float16", None)
        if half:
            x = ns.astype(x, ns.float32)
        ax = ns.abs(x)
        small = ns.clip(x, -_ERF_SPLIT, _ERF_SPLIT)  # each branch sees only finite inputs it converges on
        z = small * small
        p = ns.full_like(x, _ERF_TAYLOR[-1])
        for c in reversed(_ERF_TAYLOR[:-1]):
            p = p * z + c
        big = ns.maximum(ax, _ERF_SPLIT)
        f = big
        for n in range(40, 0, -1):
            f = big + (n / 2) / f
        erfc = ns.exp(-(big * big)) * rsqrt_pi / f
        out = ns.where(ax < _ERF_SPLIT, small * p, ns.where(x < 0, erfc - 1, 1 - erfc))
        return ns.astype(out, ns.float16) if half else out

    return erf


def numpy_erf() -> Callable[[np.ndarray], np.ndarray]:
    """An erf for numpy arrays: scipy's when installed, else the exact math.erf elementwise."""
    try:
        from scipy.special import erf  # type: ignore[import-untyped]

        return lambda x: erf(x).astype(x.dtype, copy=False)
    except ImportError:
        vec = np.frompyfunc(math.erf, 1, 1)
        return lambda x: np.asarray(vec(x), dtype=x.dtype)


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


def _dlpack_to_host(x: Any) -> np.ndarray:
    # a host copy: the array may share memory with a buffer that views still read
    try:
        return np.from_dlpack(x, device="cpu", copy=True)
    except (TypeError, BufferError, ValueError):  # producers without DLPack 1.0's keywords
        return np.from_dlpack(x).copy()


# -- the kernels -----------------------------------------------------------------------------------


def array_kernels(
    xp: Any,
    to_host: Callable[[Any], np.ndarray] | None = None,
    from_host: Callable[[np.ndarray, int], Any] | None = None,
    erf: Callable[[Any], Any] | None = None,
    random_bits: Callable[..., Any] | None = None,
) -> dict[str, Callable[..., Any]]:
    """The primitive kernels (and fast composites) written against the library module ``xp``.

    ``to_host(x) -> np.ndarray`` and ``from_host(array, device_index) -> array`` move arrays to and
    from numpy; ``erf`` is the library's error function; ``random_bits(kind, shape, np_dtype,
    device_index, seed, offset)`` draws "uniform" or "normal" numbers as a pure function of
    (seed, offset). Each left out takes its standard-only default (see the module's docstring).
    The kernels work on ``xp``'s arrays when they have numpy-style strided views, else on
    :class:`StridedArray` buffers.
    """
    ns = standard_namespace(xp)
    probe = ns.asarray([1.0, 2.0])
    ndarray = type(probe)
    dtypes = {name: getattr(ns, name, None) for name in _DTYPE_NAMES}
    int64 = ns.int64
    to_host = to_host or _dlpack_to_host
    # (order="C": a copy of a view with negative strides, which DLPack and buffers refuse; 0-d stays 0-d)
    from_host = from_host or (lambda array, index: ns.asarray(np.asarray(array, order="C"), copy=True))
    erf = erf or standard_erf(ns)
    if random_bits is None:

        def random_bits(kind: str, shape: tuple, np_dtype: Any, index: int, seed: int, offset: int) -> Any:
            return from_host(numpy_random_bits(kind, shape, np_dtype, index, seed, offset), index)

    # -- fast paths, chosen by what the namespace offers ------------------------------------------
    native_views = has_strided_views(xp)
    errstate = getattr(xp, "errstate", None)
    scalar_results = type(ns.negative(probe[0])) is not ndarray  # numpy's ufuncs on 0-d input
    add_at = getattr(getattr(xp, "add", None), "at", None)
    # a zero remainder takes the divisor's sign (Python's %, numpy's, the standard's special cases);
    # PyTorch's gives +0: such a namespace's remainder gets the sign put back
    remainder_keeps_zero_sign = bool(ns.signbit(ns.remainder(ns.asarray([0.0]), ns.asarray([-2.0])))[0])

    def remainder_with_zero_sign(a: Any, b: Any) -> Any:
        r = ns.remainder(a, b)
        if not ns.isdtype(r.dtype, "real floating"):
            return r
        if not hasattr(b, "dtype"):  # a Python scalar divisor
            b = ns.asarray(b, dtype=r.dtype, device=r.device)
        return ns.where(r == 0, ns.copysign(r, b), r)

    def quiet(fn: Callable[..., Any]) -> Callable[..., Any]:
        # IEEE results (inf, nan) without warnings, as PyTorch gives them
        if errstate is None:
            return fn

        def run(*args: Any) -> Any:
            with errstate(all="ignore"):
                return fn(*args)

        return run

    asarray = ns.asarray

    def arr(fn: Callable[..., Any]) -> Callable[..., Any]:
        # numpy's ufuncs return scalars for 0-d inputs; buffers must stay arrays
        if not scalar_results:
            return fn

        def run(*args: Any) -> Any:
            r = fn(*args)
            return r if type(r) is ndarray else asarray(r)

        run.__name__ = getattr(fn, "__name__", "kernel")
        return run

    def copy_of(x: Any) -> Any:
        return ns.asarray(x, copy=True)

    def gather(x: Any, dim: int, index: Any) -> Any:
        if index.shape != x.shape:
            sl = tuple(slice(None) if d == dim else slice(0, n) for d, n in enumerate(index.shape))
            x = x[sl]
        return ns.take_along_axis(x, index, axis=dim)

    def scatter_add_at(x: Any, dim: int, index: Any, src: Any) -> Any:
        out = copy_of(x)
        nd = index.ndim  # open-mesh coordinates, index's along dim
        idx = [
            ns.reshape(ns.arange(n), tuple(n if i == d else 1 for i in range(nd)))
            for d, n in enumerate(index.shape)
        ]
        idx[dim] = index
        add_at(out, tuple(idx), src)
        return out

    def scatter_add_sorted(x: Any, dim: int, index: Any, src: Any) -> Any:
        # the standard has no scatter: sort the flat target positions, sum each run of equal
        # positions with a segmented Hillis-Steele scan (log2 steps), and add each run's total
        # (found by a binary search of every position of x) with where
        is_bool = x.dtype == ns.bool
        acc = int64 if is_bool else x.dtype
        xs = contiguous_strides(tuple(x.shape))
        pos = ns.zeros(index.shape, dtype=int64)
        for d, n in enumerate(index.shape):
            trailing = (1,) * (index.ndim - d - 1)
            coord = index if d == dim else ns.reshape(ns.arange(n, dtype=int64), (n,) + trailing)
            pos = pos + coord * xs[d]
        pos = ns.reshape(pos, (-1,))
        m = pos.shape[0]
        if m == 0:
            return copy_of(x)
        order = ns.argsort(pos, stable=True)
        pos = ns.take(pos, order)
        v = ns.take(ns.reshape(ns.astype(src, acc), (-1,)), order)
        step = 1
        while step < m:
            same = pos[step:] == pos[:-step]
            v = ns.concat([v[:step], ns.where(same, v[step:] + v[:-step], v[step:])])
            step *= 2
        flat = ns.reshape(x, (-1,))
        at = ns.arange(flat.shape[0], dtype=int64)
        last = ns.searchsorted(pos, at, side="right") - 1  # the run's last element holds its total
        safe = ns.clip(last, 0, m - 1)
        hit = (last >= 0) & (ns.take(pos, safe) == at)
        total = ns.take(v, safe)
        if is_bool:
            out = flat | (hit & (total != 0))
        else:
            out = ns.where(hit, flat + total, flat)
        return ns.reshape(out, tuple(x.shape))

    def nonzero(x: Any) -> Any:
        if x.ndim == 0:
            return ns.zeros((1 if bool(x) else 0, 0), dtype=int64)
        return ns.astype(ns.stack(ns.nonzero(x), axis=1), int64, copy=False)

    def as_array(r: Any) -> Any:
        return r if type(r) is ndarray else asarray(r)

    def reduction(fn: Callable[..., Any], with_dtype: bool) -> Callable[..., Any]:
        # dtype=x.dtype: the standard sums and multiplies small integers in a wider type, while
        # the contract (and the tensor the core records) is x's dtype
        if with_dtype:
            return lambda x, dims, keep: as_array(fn(x, axis=dims, keepdims=keep, dtype=x.dtype))
        return lambda x, dims, keep: as_array(fn(x, axis=dims, keepdims=keep))

    def arg_reduction(fn: Callable[..., Any]) -> Callable[..., Any]:
        return lambda x, dim, keep: ns.astype(as_array(fn(x, axis=dim, keepdims=keep)), int64, copy=False)

    def softmax(x: Any, dim: int) -> Any:
        e = ns.exp(x - ns.max(x, axis=dim, keepdims=True))
        e /= ns.sum(e, axis=dim, keepdims=True)  # e is fresh (and becomes e / sum where immutable)
        return e

    def log_softmax(x: Any, dim: int) -> Any:
        s = x - ns.max(x, axis=dim, keepdims=True)
        return s - ns.log(ns.sum(ns.exp(s), axis=dim, keepdims=True))

    def sort(x: Any, dim: int) -> tuple[Any, Any]:
        keys = ns.astype(x, ns.uint8) if x.dtype == ns.bool else x  # the standard sorts numbers only
        idx = ns.argsort(keys, axis=dim, stable=True)  # NaN last, as the contract says
        return ns.take_along_axis(x, idx, axis=dim), ns.astype(idx, int64, copy=False)

    def sigmoid(x: Any) -> Any:
        e = ns.exp(-ns.abs(x))
        pos = 1 / (1 + e)
        return ns.astype(ns.where(x >= 0, pos, e * pos), x.dtype, copy=False)  # (ml_dtypes promote)

    # numpy-family arrays take any numpy dtype (ml_dtypes' too); other namespaces their own dtypes
    native_dtype = (lambda dtype: dtype.numpy) if native_views else (lambda dtype: dtypes[dtype.name])

    def full(shape: tuple[int, ...], value: Any, dtype: Any, index: int) -> Any:
        return ns.full(shape, value, dtype=native_dtype(dtype))

    def empty(shape: tuple[int, ...], dtype: Any, index: int) -> Any:
        return ns.empty(shape, dtype=native_dtype(dtype))

    def copy_(dst: Any, src: Any) -> None:
        dst[...] = src

    def cumsum(x: Any, dim: int) -> Any:
        return ns.cumulative_sum(x, axis=dim, dtype=x.dtype)

    k: dict[str, Callable[..., Any]] = {
        # memory and layout
        "from_numpy": from_host,
        "to_numpy": to_host,
        "empty": empty,
        "full": full,
        "copy_": copy_,
        "cast": quiet(lambda x, dtype: ns.astype(x, native_dtype(dtype))),
        # unary
        "neg": arr(ns.negative),
        "abs": arr(ns.abs),
        "exp": arr(quiet(ns.exp)),
        "log": arr(quiet(ns.log)),
        "sqrt": arr(quiet(ns.sqrt)),
        "sin": arr(ns.sin),
        "cos": arr(ns.cos),
        "tanh": arr(ns.tanh),
        "erf": arr(erf),
        "floor": arr(ns.floor),
        "ceil": arr(ns.ceil),
        "round": arr(ns.round),
        "trunc": arr(ns.trunc),
        # binary
        "add": arr(ns.add),
        "sub": arr(ns.subtract),
        "mul": arr(ns.multiply),
        "div": arr(quiet(ns.divide)),
        "pow": arr(quiet(ns.pow)),
        "maximum": arr(ns.maximum),
        "minimum": arr(ns.minimum),
        "bitwise_and": arr(ns.bitwise_and),  # bool operands: logical and, as the standard says
        "bitwise_or": arr(ns.bitwise_or),
        "bitwise_xor": arr(ns.bitwise_xor),
        "floor_divide": arr(quiet(ns.floor_divide)),
        "remainder": arr(quiet(ns.remainder if remainder_keeps_zero_sign else remainder_with_zero_sign)),
        "eq": arr(ns.equal),
        "lt": arr(ns.less),
        "le": arr(ns.less_equal),
        "where": arr(ns.where),
        # reductions
        "sum": reduction(ns.sum, True),
        "prod": reduction(ns.prod, True),
        "max": reduction(ns.max, False),
        "min": reduction(ns.min, False),
        "argmax": arg_reduction(ns.argmax),
        "argmin": arg_reduction(ns.argmin),
        "cumsum": cumsum,
        # linear algebra, indexing, random
        "matmul": ns.matmul,
        "gather": gather,
        "scatter_add": scatter_add_at if add_at is not None else scatter_add_sorted,
        "nonzero": nonzero,
        "uniform": lambda shape, dtype, index, seed, offset: random_bits(
            "uniform", shape, dtype.numpy, index, seed, offset
        ),
        "normal": lambda shape, dtype, index, seed, offset: random_bits(
            "normal", shape, dtype.numpy, index, seed, offset
        ),
        # optional fast paths of composite ops
        "clone": copy_of,
        "cat": lambda xs, dim: ns.concat(xs, axis=dim),
        "flip": lambda x, dims: copy_of(ns.flip(x, axis=dims)),
        "index_select": lambda x, dim, idx: ns.take(x, idx, axis=dim),
        "ne": arr(ns.not_equal),
        "signbit": arr(ns.signbit),
        "relu": arr(lambda x: ns.maximum(x, 0)),
        "sigmoid": arr(quiet(sigmoid)),
        "softmax": quiet(softmax),
        "log_softmax": quiet(log_softmax),
        "expm1": arr(quiet(ns.expm1)),
        "log1p": arr(quiet(ns.log1p)),
        "atan2": arr(ns.atan2),
        "log2": arr(quiet(ns.log2)),
        "log10": arr(quiet(ns.log10)),
        "sort": sort,
    }
    if hasattr(xp, "exp2"):  # not in the standard
        k["exp2"] = arr(quiet(xp.exp2))
    k.update(_standard_linalg(ns))
    complex_xp = xp if native_views else ns  # numpy-family part views, or the standard's abs only
    k.update(importlib.import_module("ember.ops.complex").complex_array_kernels(complex_xp))  # complex parts
    _bool_forms(k, ns)
    if not native_views:
        return strided_kernels(k, ns, ndarray, from_host, to_host)

    # numpy-style arrays are the buffers: their own strided views, numpy's faster paths
    as_strided_ = xp.lib.stride_tricks.as_strided

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
            x = as_strided_(x, (abs(offset) + 1,), (step,))[abs(offset) :]
        return as_strided_(x, shape, tuple(s * isz for s in st))

    def reshape(x: Any, shape: tuple[int, ...]) -> Any:
        try:
            return ns.reshape(x, shape, copy=False)  # raises instead of copying when no view exists
        except (ValueError, TypeError, AttributeError):
            return None

    def add_(dst: Any, src: Any) -> None:
        dst += src  # numpy: add(dst, src, out=dst)

    def arg_method(name: str) -> Callable[..., Any]:
        fn = getattr(ns, name)
        return lambda x, dim, keep: as_array(fn(x, axis=dim, keepdims=keep)).astype(np.int64, copy=False)

    k.update(
        # numpy-family arrays: dtypes and conversions as their methods (a call less than the
        # standard's functions on the per-op path)
        empty=lambda shape, dtype, index: ns.empty(shape, dtype=dtype.numpy),
        full=lambda shape, value, dtype, index: ns.full(shape, value, dtype=dtype.numpy),
        argmax=arg_method("argmax"),
        argmin=arg_method("argmin"),
        nonzero=lambda x: xp.argwhere(x).astype(np.int64, copy=False),
        strides=strides,
        as_strided=as_strided,
        reshape=reshape,
        permute=lambda x, dims: x.transpose(dims),
        expand=ns.broadcast_to,
        getitem_basic=lambda x, key: x[key + (Ellipsis,)],  # Ellipsis: an all-int key gives a 0-d view
        clone=lambda x: x.copy(),  # C order
        flip=lambda x, dims: ns.flip(x, axis=dims).copy(),
        add_=add_,
    )
    if hasattr(probe, "flags"):
        k["is_contiguous"] = lambda x: x.flags.c_contiguous
    k["cast"] = quiet(lambda x, dtype: x.astype(dtype.numpy))  # keeps a permuted input's layout
    # numpy's and CuPy's LAPACK-class kernels and other numpy-family extras
    k.update(importlib.import_module("ember.linalg").array_kernels(xp))  # ember.linalg's decompositions
    k.update(importlib.import_module("ember.fft").array_kernels(xp))  # ember.fft's transform
    return k


def _standard_linalg(ns: Any) -> dict[str, Callable[..., Any]]:
    """ember.linalg's decompositions through the standard's ``linalg`` extension, where the
    namespace has it (numpy and CuPy get ember.linalg's own kernels instead)."""
    la = getattr(ns, "linalg", None)
    if la is None or not all(hasattr(la, f) for f in ("eigh", "svd", "qr")):
        return {}
    from .linalg.spectral import _NOT_FINITE

    def finite(op: str, a: Any) -> None:  # LAPACK may never return on inf: refuse it, as torch does
        if not bool(ns.all(ns.isfinite(a))):
            raise RuntimeError(_NOT_FINITE.format(op=op))

    def linalg_eigh(a: Any, upper: bool) -> tuple[Any, Any]:
        finite("linalg.eigh", a)
        i = ns.arange(a.shape[-1])
        keep = (i[:, None] <= i[None, :]) if upper else (i[:, None] >= i[None, :])
        w, v = la.eigh(ns.where(keep, a, ns.matrix_transpose(a)))  # the chosen triangle, mirrored
        return w, v

    def linalg_svd(a: Any, full_matrices: bool) -> tuple[Any, Any, Any]:
        finite("linalg.svd", a)
        u, s, vh = la.svd(a, full_matrices=full_matrices)
        return u, s, vh

    def linalg_qr(a: Any, complete: bool) -> tuple[Any, Any]:
        q, r = la.qr(a, mode="complete" if complete else "reduced")
        return q, r

    return {"linalg_eigh": linalg_eigh, "linalg_svd": linalg_svd, "linalg_qr": linalg_qr}


def _bool_forms(k: dict[str, Callable[..., Any]], ns: Any) -> None:
    """Bool operands for the kernels whose standard function takes numbers only (numpy accepts
    bool for all of them, so it keeps its kernels): each is probed once, and one that refuses
    bools gets their logical form (add is or, mul is and, sum is any ...)."""
    b = ns.asarray([True, False])
    uint8, int64 = ns.uint8, ns.int64

    def as_bool(v: Any) -> Any:
        return v if hasattr(v, "dtype") else ns.asarray(v, dtype=ns.bool)

    def count(x: Any) -> Any:
        return ns.astype(x, uint8)

    forms: dict[str, tuple[Callable[..., Any], tuple]] = {
        "add": (lambda a, c: ns.logical_or(as_bool(a), as_bool(c)), (b, b)),
        "mul": (lambda a, c: ns.logical_and(as_bool(a), as_bool(c)), (b, b)),
        "maximum": (lambda a, c: ns.logical_or(as_bool(a), as_bool(c)), (b, b)),
        "minimum": (lambda a, c: ns.logical_and(as_bool(a), as_bool(c)), (b, b)),
        "lt": (lambda a, c: ns.logical_and(ns.logical_not(as_bool(a)), as_bool(c)), (b, b)),
        "le": (lambda a, c: ns.logical_or(ns.logical_not(as_bool(a)), as_bool(c)), (b, b)),
        "sum": (lambda x, dims, keep: ns.any(x, axis=dims, keepdims=keep), (b, (0,), False)),
        "prod": (lambda x, dims, keep: ns.all(x, axis=dims, keepdims=keep), (b, (0,), False)),
        "max": (lambda x, dims, keep: ns.any(x, axis=dims, keepdims=keep), (b, (0,), False)),
        "min": (lambda x, dims, keep: ns.all(x, axis=dims, keepdims=keep), (b, (0,), False)),
        "argmax": (lambda x, dim, keep: k_argmax(count(x), dim, keep), (b, 0, False)),
        "argmin": (lambda x, dim, keep: k_argmin(count(x), dim, keep), (b, 0, False)),
        "cumsum": (lambda x, dim: ns.cumulative_sum(ns.astype(x, int64), axis=dim) > 0, (b, 0)),
    }
    k_argmax, k_argmin = k["argmax"], k["argmin"]
    for name, (bool_fn, probe) in forms.items():
        try:
            k[name](*probe)
        except Exception:  # the namespace refuses bools here
            k[name] = _on_bool(k[name], bool_fn)


def _on_bool(fn: Callable[..., Any], bool_fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        for a in args:
            if hasattr(a, "dtype"):
                return bool_fn(*args) if str(a.dtype).endswith("bool") else fn(*args)
        return fn(*args)

    run.__name__ = getattr(fn, "__name__", "kernel")
    return run


def has_strided_views(xp: Any) -> bool:
    """Whether the library module ``xp`` has numpy-style strided views (``lib.stride_tricks.as_strided``
    over arrays with byte ``strides``: numpy, CuPy); without them ArrayBackend's buffers are
    :class:`StridedArray`."""
    stride_tricks = getattr(getattr(xp, "lib", None), "stride_tricks", None)
    return hasattr(stride_tricks, "as_strided") and hasattr(getattr(xp, "ndarray", None), "strides")


_DTYPE_NAMES = (
    "bool",
    "uint8",
    "int8",
    "int16",
    "int32",
    "int64",
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
)


# -- buffers for namespaces without strided views ----------------------------------------------------


class _Storage:
    """The flat array every view of one allocation reads; a write replaces it."""

    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        self.array = array


class StridedArray(StridedBuffer):
    """The buffer of an :class:`ArrayBackend` whose namespace has no strided views: a
    :class:`ember.layout.StridedLayout` (shape, strides and offset in elements) over a flat,
    1-D array of the namespace that every view of the same allocation shares."""

    __slots__ = ("storage", "layout")

    def __init__(self, storage: _Storage, layout: StridedLayout) -> None:
        self.storage = storage
        self.layout = layout

    @property
    def dtype(self) -> Any:
        """The namespace's dtype of the elements."""
        return self.storage.array.dtype

    def __repr__(self) -> str:
        return (
            f"StridedArray(shape={self.shape}, strides={self.strides}, offset={self.offset}, "
            f"dtype={self.dtype})"
        )


# layout-only kernels: the core composes these views from strides and as_strided
_VIEW_KERNELS = ("reshape", "permute", "expand", "getitem_basic", "is_contiguous", "add_")


def strided_kernels(
    dense: dict[str, Callable[..., Any]],
    ns: Any,
    ndarray: type,
    from_host: Callable[[np.ndarray, int], Any],
    to_host: Callable[[Any], np.ndarray],
) -> dict[str, Callable[..., Any]]:
    """The table on :class:`StridedArray` buffers: the layout kernels (``strides``, ``as_strided``,
    ``copy_``, host transfer) on the layouts, every other kernel of ``dense`` given dense arrays
    of the namespace ``ns`` (arrays of type ``ndarray``) and its results wrapped as fresh buffers."""
    int64 = ns.int64

    def fresh(a: Any) -> StridedArray:
        shape = tuple(a.shape)
        return StridedArray(_Storage(ns.reshape(a, (-1,))), StridedLayout.contiguous(shape))

    @functools.lru_cache(maxsize=256)
    def positions(layout: StridedLayout) -> Any:
        # the flat positions of a layout's elements, in C order
        pos = ns.full(layout.shape, layout.offset, dtype=int64)
        nd = len(layout.shape)
        for d, (n, s) in enumerate(zip(layout.shape, layout.strides)):
            if s and n > 1:
                pos = pos + ns.reshape(ns.arange(n, dtype=int64) * s, (n,) + (1,) * (nd - d - 1))
        return ns.reshape(pos, (-1,))

    def read(x: StridedArray) -> Any:
        layout, flat = x.layout, x.storage.array
        if layout.is_contiguous:
            n = layout.numel
            if not (layout.offset == 0 and n == flat.shape[0]):
                start = layout.offset if n else 0  # (the standard leaves slices past the end undefined)
                flat = flat[start : start + n]
            return ns.reshape(flat, layout.shape)
        return ns.reshape(ns.take(flat, positions(layout), axis=0), layout.shape)

    def write(dst: StridedArray, values: Any) -> None:
        layout, flat = dst.layout, dst.storage.array
        n = layout.numel
        if n == 0:
            return
        v = ns.reshape(ns.broadcast_to(values, layout.shape), (-1,))
        if layout.is_contiguous:
            lo, hi = layout.offset, layout.offset + n
            new = v
        else:  # each position of the span takes its value, found by a binary search of the sorted positions
            pos = positions(layout)
            order = ns.argsort(pos)
            pos, v = ns.take(pos, order), ns.take(v, order)
            lo, hi = layout.span()
            at = ns.arange(lo, hi, dtype=int64)
            j = ns.clip(ns.searchsorted(pos, at), 0, n - 1)
            new = ns.where(ns.take(pos, j) == at, ns.take(v, j), flat[lo:hi])
        size = flat.shape[0]
        parts = ([flat[:lo]] if lo > 0 else []) + [new] + ([flat[hi:]] if hi < size else [])
        dst.storage.array = parts[0] if len(parts) == 1 else ns.concat(parts)

    def unwrap(a: Any) -> Any:
        if type(a) is StridedArray:
            return read(a)
        if type(a) in (list, tuple) and a and type(a[0]) is StridedArray:
            return [read(b) for b in a]
        return a

    def wrap(r: Any) -> Any:
        if type(r) is tuple:
            return tuple(wrap(e) for e in r)
        return fresh(r) if isinstance(r, ndarray) else r

    def lift(fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any) -> Any:
            return wrap(fn(*[unwrap(a) for a in args]))

        run.__name__ = getattr(fn, "__name__", "kernel")
        return run

    def from_numpy(array: np.ndarray, index: int) -> StridedArray:
        return StridedArray(
            _Storage(from_host(np.ascontiguousarray(array).reshape(-1), index)),
            StridedLayout.contiguous(tuple(array.shape)),
        )

    k = {name: lift(fn) for name, fn in dense.items() if name not in _VIEW_KERNELS}
    k.update(
        from_numpy=from_numpy,
        to_numpy=lambda x: to_host(read(x)).reshape(x.shape),
        copy_=lambda dst, src: write(dst, read(src)),
        strides=lambda x: x.layout.strides,
        as_strided=lambda x, shape, st, off: StridedArray(x.storage, x.layout.as_strided(shape, st, off)),
        is_contiguous=lambda x: x.layout.is_contiguous,
    )
    return k


class ArrayBackend(Backend):
    """A backend over an array library that follows the array API standard (see the module's
    docstring): subclasses set ``device_type`` and pass the library, and where the library has
    them, its host transfers, erf and random numbers."""

    def __init__(
        self,
        xp: Any,
        to_host: Callable[[Any], np.ndarray] | None = None,
        from_host: Callable[[np.ndarray, int], Any] | None = None,
        erf: Callable[[Any], Any] | None = None,
        random_bits: Callable[..., Any] | None = None,
    ) -> None:
        super().__init__()
        self.xp = xp
        self.namespace = standard_namespace(xp)
        self.kernels = array_kernels(xp, to_host, from_host, erf, random_bits)
        self._buffer_type = xp.ndarray if has_strided_views(xp) else StridedArray

    def native_type(self) -> type | None:
        """The buffers' type: the library's array type (numpy, CuPy), else :class:`StridedArray`."""
        return self._buffer_type

    def memory_stats(self, index: int) -> dict[str, int]:
        """The library manages its memory; Ember caches none, so all zeros (a backend whose library
        reports its pool, as CuPy does, overrides this)."""
        return {"in_use": 0, "cached": 0, "peak": 0}

    def supports_dtype(self, dtype: Any, index: int) -> bool:
        """Every dtype but bfloat16 on numpy-family arrays (bfloat16 is no array-library dtype: a
        backend that stores it, as cpu does through ml_dtypes, says so itself); else whether
        ``dtype`` is one of the standard's dtypes or float16 and the namespace has it
        (``array_api_strict`` has no float16)."""
        if self._buffer_type is not StridedArray:
            return dtype.name != "bfloat16"
        return dtype.name in _DTYPE_NAMES and getattr(self.namespace, dtype.name, None) is not None
