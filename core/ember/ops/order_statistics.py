"""Order statistics: topk, kthvalue, median, nanmedian, quantile, nanquantile and mode.

Each is read off a sort (:func:`ember.ops.sorting.sort`, stable, NaN last): topk takes the first
``k`` of a sort in the asked direction, kthvalue, median and nanmedian pick one position of the
ascending sort, quantile and nanquantile interpolate between two, and mode finds the longest run of
equal sorted values. Differentiable in the values, whose backward scatters the gradient back to the
positions they came from.
"""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes as _dt
from ..autograd.grad_mode import no_grad
from ._core import Tensor, has_data, same_device, wrap_dim
from .reduction import ValuesIndices
from .sorting import _check_tensor, _gathered, _take, sort

__all__ = ["topk", "kthvalue", "median", "nanmedian", "quantile", "nanquantile", "mode"]


def _size(x: Tensor, d: int) -> int:
    return x.shape[d] if x.shape else 1


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:
    """The ``k`` largest (``largest=False``: smallest) elements along ``dim`` and their indices, in
    sorted order (``sorted`` is accepted; the result is always sorted). NaN counts as larger than
    every number; of equal elements the first ones are taken. Differentiable in the values."""
    _check_tensor("topk", x)
    d = wrap_dim(dim, x.ndim, "topk")
    n = _size(x, d)
    if not isinstance(k, int) or k < 0 or k > n:
        raise IndexError(
            f"topk: k ({k}) is out of range for dimension {d} of size {n}; expected 0 <= k <= {n}"
        )
    if x.ndim == 0:
        return sort(x)  # k of 0 or 1: PyTorch returns the element either way
    values, indices = sort(x, d, descending=largest)
    # fresh tensors, as PyTorch returns (not views of the whole sort)
    return ValuesIndices(values.narrow(d, 0, k).clone(), indices.narrow(d, 0, k).clone())


def _pick(x: Tensor, d: int, values: Tensor, indices: Tensor, pos: Tensor, keepdim: bool) -> ValuesIndices:
    """values and indices at positions ``pos`` (shape of x with dim d of size 1) of a sort of x."""
    v = _take(values, d, pos)
    i = _gathered(indices, d, pos)
    if not keepdim:
        v, i = v.squeeze(d), i.squeeze(d)
    return ValuesIndices(v, i)


def _position(x: Tensor, d: int, p: int) -> Tensor:
    """An int64 tensor of x's shape with dim d of size 1, filled with ``p``."""
    from .creation import full

    shape = tuple(1 if i == d else s for i, s in enumerate(x.shape))
    return full(shape, p, dtype=_dt.int64, device=x.device)


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """The ``k``-th smallest element (1-based) along ``dim`` and its index (of equal elements, the
    index of one of them). Differentiable in the values."""
    _check_tensor("kthvalue", x)
    d = wrap_dim(dim, x.ndim, "kthvalue")
    n = _size(x, d)
    if not isinstance(k, int) or k < 1 or k > n:
        raise IndexError(
            f"kthvalue: k ({k}) is out of range for dimension {d} of size {n}; expected 1 <= k <= {n}"
        )
    if x.ndim == 0:
        return sort(x)
    values, indices = sort(x, d)
    return _pick(x, d, values, indices, _position(x, d, k - 1), keepdim)


def _nonempty_dim(op: str, x: Tensor, d: int) -> None:
    if x.ndim and x.shape[d] == 0:
        raise IndexError(
            f"{op}: cannot reduce over dimension {d} of size 0 (shape {x.shape}); the {op} of no "
            "elements is undefined"
        )


def _median(op: str, x: Tensor, dim: Any, keepdim: bool, ignore_nan: bool) -> Any:
    from .elementwise import eq, isnan, where
    from .reduction import sum as _sum

    _check_tensor(op, x)
    if dim is None:
        if keepdim:
            raise TypeError(f"{op}: keepdim=True needs a dim; {op}(x) returns a 0-d tensor")
        if x.numel() == 0:
            if not x.dtype.is_floating_point:
                raise IndexError(f"{op}: the input is empty (shape {x.shape}) and has no {op}")
            from .creation import full

            return full((), math.nan, dtype=x.dtype, device=x.device)
        return _median(op, x.reshape(-1), 0, False, ignore_nan).values
    d = wrap_dim(dim, x.ndim, op)
    _nonempty_dim(op, x, d)
    if x.ndim == 0:
        return sort(x)
    n = x.shape[d]
    values, indices = sort(x, d)
    if not x.dtype.is_floating_point:
        return _pick(x, d, values, indices, _position(x, d, (n - 1) // 2), keepdim)
    with no_grad():
        nans = _sum(isnan(x), d, keepdim=True)  # NaNs sort last
        valid = n - nans
        if ignore_nan:  # the lower median of the numbers; of a row of NaNs, its middle
            pos = where(eq(valid, 0), (n - 1) // 2, (valid - 1) // 2)
        else:  # a row with a NaN has median NaN: the first NaN
            pos = where(eq(nans, 0), (n - 1) // 2, valid)
    return _pick(x, d, values, indices, pos, keepdim)


def median(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The lower median (of two middle elements, the smaller): of all elements as a 0-d tensor, or
    (values, indices) along ``dim``. NaN propagates: a row holding NaN has median NaN (the index
    of its first NaN), as in PyTorch. Differentiable in the values."""
    return _median("median", x, dim, keepdim, ignore_nan=False)


def nanmedian(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """:func:`median` ignoring NaN (NaN only where every element is NaN)."""
    return _median("nanmedian", x, dim, keepdim, ignore_nan=True)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(
    x: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *, interpolation: str = "linear"
) -> Tensor:
    """The ``q``-quantiles of ``x`` along ``dim`` (of all elements when None).

    ``q`` is a float or a 0-d/1-D tensor of x's dtype, in [0, 1]; with a 1-D ``q`` the result has
    a leading dim of ``len(q)``. ``interpolation`` between the two nearest sorted elements:
    ``linear`` (default), ``lower``, ``higher``, ``midpoint`` or ``nearest`` (half to even). A row
    holding NaN gives NaN; x must be float32 or float64. Differentiable in x.
    """
    return _quantile("quantile", x, q, dim, keepdim, interpolation, ignore_nan=False)


def nanquantile(
    x: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *, interpolation: str = "linear"
) -> Tensor:
    """:func:`quantile` of the numbers only (NaN ignored; NaN where a row holds nothing else)."""
    return _quantile("nanquantile", x, q, dim, keepdim, interpolation, ignore_nan=True)


def _quantile(
    op: str, x: Tensor, q: Any, dim: Any, keepdim: bool, interpolation: str, ignore_nan: bool
) -> Tensor:
    from .creation import full, tensor
    from .elementwise import ceil, clamp, eq, floor, isnan, round, where
    from .reduction import any as _any
    from .reduction import sum as _sum

    _check_tensor(op, x)
    if x.dtype not in (_dt.float32, _dt.float64):
        raise TypeError(f"{op}: input must be float32 or float64, got {x.dtype}; use x.float() or x.double()")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{op}: interpolation {interpolation!r} is not one of {', '.join(_INTERPOLATIONS)}")
    scalar_q = not isinstance(q, Tensor)
    if scalar_q:
        if not 0 <= q <= 1:
            raise ValueError(f"{op}: q must be in [0, 1], got {q}")
        qt = tensor([float(q)], dtype=x.dtype, device=x.device)
    else:
        same_device(op, x, q)
        if q.ndim > 1:
            raise ValueError(f"{op}: q must be a scalar or a 1-D tensor, got shape {q.shape}")
        if q.dtype is not x.dtype:
            raise TypeError(f"{op}: q ({q.dtype}) must have the input's dtype ({x.dtype}); use q.to(x.dtype)")
        if q.numel() and has_data(q):
            outside = ~((q >= 0) & (q <= 1))  # NaN included
            if bool(outside.any().item()):
                raise ValueError(f"{op}: q must be in [0, 1], got {q[outside].reshape(-1)[0].item()}")
        scalar_q = q.ndim == 0
        qt = q.reshape(-1)
    src = x.reshape(-1) if dim is None else x
    d = 0 if dim is None else wrap_dim(dim, x.ndim, op)
    src = src.reshape(1) if src.ndim == 0 else src
    xl = src.movedim(d, -1)  # (..., n)
    n = xl.shape[-1]
    m = qt.shape[0]
    lead = xl.shape[:-1]
    if n == 0:
        out = full(lead + (m,), math.nan, dtype=x.dtype, device=x.device)
    else:
        values = sort(xl, -1).values  # NaN last
        with no_grad():
            if ignore_nan:  # positions among each row's numbers (NaN sort last)
                valid = n - _sum(isnan(xl), -1, keepdim=True)
                pos = clamp(qt * (valid - 1), min=0)
            else:
                pos = qt * (n - 1)
            lo_f, hi_f = floor(pos), ceil(pos)
            if interpolation == "lower":
                hi_f = lo_f
            elif interpolation == "higher":
                lo_f = hi_f
            elif interpolation == "nearest":
                lo_f = hi_f = round(pos)
            lo = lo_f.long().expand(lead + (m,)).contiguous()
            hi = hi_f.long().expand(lead + (m,)).contiguous()
            w = (pos - lo_f).expand(lead + (m,))
        a = _take(values, values.ndim - 1, lo)
        b = _take(values, values.ndim - 1, hi)
        if interpolation == "linear":
            out = a + (b - a) * w
        elif interpolation == "midpoint":
            out = a + (b - a) * 0.5
        else:
            out = a
        with no_grad():
            undefined = eq(valid, 0) if ignore_nan else _any(isnan(xl), -1, keepdim=True)
        out = where(undefined, math.nan, out)
    out = out.movedim(-1, 0)  # (m, ...)
    if keepdim:
        kept = (1,) * x.ndim if dim is None else tuple(1 if i == d else s for i, s in enumerate(x.shape))
        out = out.reshape((m,) + kept)
    elif dim is None:
        out = out.reshape((m,))
    return out.squeeze(0) if scalar_q else out


def mode(x: Tensor, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """The most frequent value along ``dim`` (of several, the smallest) and the index of its last
    occurrence, as in PyTorch. NaNs never equal one another, so each counts once.
    Differentiable in the values."""
    from .creation import arange
    from .elementwise import ne, where
    from .joining import cat
    from .reduction import argmax
    from .scans import cummax
    from .shape import narrow

    _check_tensor("mode", x)
    d = wrap_dim(dim, x.ndim, "mode")
    _nonempty_dim("mode", x, d)
    if x.ndim == 0:
        return sort(x)
    values, indices = sort(x, d)
    n = x.shape[d]
    with no_grad():
        pos = arange(n, device=x.device).reshape(tuple(n if i == d else 1 for i in range(x.ndim)))
        first = _position(x, d, 1).bool()
        starts = (
            cat([first, ne(narrow(values, d, 1, n - 1), narrow(values, d, 0, n - 1))], d) if n > 1 else first
        )
        run_start = cummax(where(starts, pos, 0), d).values
        best = argmax(pos - run_start, d, keepdim=True)  # the first longest run: the smallest value
    return _pick(x, d, values, indices, best, keepdim)


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    import warnings

    import numpy as np

    from .records import OpRecord, register
    from .samples import FLOATS, ErrorSample, Sample, rand_array
    from .sorting import np_argsort

    NUM = ("int32", "int64", "float32", "float64")

    def k_samples(first: int) -> Any:
        def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
            def a(*s: int) -> np.ndarray:
                return rand_array(rng, s, dtype)

            out = [
                Sample((a(7), 3)),
                Sample((a(3, 6), 2, 1)),
                Sample((a(2, 3, 4), 1, 0)),
                Sample((a(3, 5), 5, -1), noncontig=True),
                Sample((a(4, 3), 2, 0), noncontig="flip", grad=False),
                Sample((a(), 1), grad=False),
            ]
            if first == 0:
                out += [
                    Sample((a(3, 4), 2, 1), {"largest": False}),
                    Sample((a(3, 4), 0, 1), grad=False),
                    Sample((a(0, 3), 2, 1), grad=False),
                ]
            else:
                out.append(Sample((a(2, 5), 2, 1), {"keepdim": True}))
            if dtype.startswith("float"):
                x = a(3, 6)
                x[0, [1, 4]] = np.nan
                out.append(Sample((x, 2, 1), grad=False))
            return out

        return make

    def np_topk(
        x: np.ndarray, k: int, dim: int = -1, largest: bool = True, indices: bool = False
    ) -> np.ndarray:
        if x.ndim == 0:
            return np.zeros((), np.int64) if indices else x.copy()
        idx = np.take(np_argsort(x, dim, largest), np.arange(k), axis=dim)
        return idx if indices else np.take_along_axis(x, idx, dim)

    def np_kth(
        x: np.ndarray, k: int, dim: int = -1, keepdim: bool = False, indices: bool = False
    ) -> np.ndarray:
        if x.ndim == 0:
            return np.zeros((), np.int64) if indices else x.copy()
        idx = np.take(np_argsort(x, dim), [k - 1], axis=dim)
        out = idx if indices else np.take_along_axis(x, idx, dim)
        return out if keepdim else np.squeeze(out, dim)

    def np_median(
        x: np.ndarray, dim: Any = None, keepdim: bool = False, nan: bool = False, indices: bool = False
    ) -> np.ndarray:
        if dim is None:
            flat = x.reshape(-1)
            if flat.size == 0:
                return np.asarray(np.nan, x.dtype)
            return np_median(flat, 0, False, nan)
        if x.ndim == 0:
            return np.zeros((), np.int64) if indices else x.copy()
        order = np_argsort(x, dim)
        n = x.shape[dim]
        isnan = np.isnan(x) if x.dtype.kind == "f" else np.zeros(x.shape, bool)
        nans = isnan.sum(dim, keepdims=True)
        valid = n - nans
        if nan:
            pos = np.where(valid == 0, (n - 1) // 2, (valid - 1) // 2)
        else:
            pos = np.where(nans == 0, (n - 1) // 2, valid)
        idx = np.take_along_axis(order, pos, dim)
        out = idx if indices else np.take_along_axis(x, idx, dim)
        return out if keepdim else np.squeeze(out, dim)

    def median_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        out = [
            Sample((a(7),)),
            Sample((a(3, 4),)),
            Sample((a(3, 6), 1)),
            Sample((a(2, 3, 4), 0)),
            Sample((a(2, 5), 1, True)),
            Sample((a(3, 5), -1), noncontig=True),
            Sample((a(4, 3), 0), noncontig="flip", grad=False),
            Sample((a(), 0), grad=False),
        ]
        if dtype.startswith("float"):
            out.append(Sample((a(0, 3),), grad=False))  # NaN (an integer input raises)
            x = a(3, 6)
            x[0, [1, 4]] = np.nan
            x[2, :] = np.nan
            out += [Sample((x, 1), grad=False), Sample((x,), grad=False)]
        return out

    def values_call(f: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Tensor:
            out = f(*args, **kwargs)
            return out if isinstance(out, Tensor) else out.values

        return call

    def indices_call(f: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Tensor:
            return f(*args, **kwargs).indices

        return call

    def quantile_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        q = np.asarray([0.0, 0.25, 0.5, 0.9, 1.0], dtype=dtype)
        x = a(3, 6)
        x[0, 2] = np.nan
        out = [
            Sample((a(7), 0.3)),
            Sample((a(3, 4), q), grad=False),
            Sample((a(3, 6), q, 1), grad=False),
            Sample((a(3, 6), 0.4, 1)),
            Sample((a(2, 3, 4), 0.5, 0, True)),
            Sample((a(3, 4), q), {"keepdim": True}, grad=False),
            Sample((a(3, 5), q, -1), noncontig=True, grad=False),
            Sample((a(4, 3), 0.75, 0), noncontig="flip", grad=False),
            Sample((a(), np.asarray(0.5, dtype=dtype)), grad=False),
            Sample((a(0, 3), 0.5, 0), grad=False),
            Sample((x, q, 1), grad=False),
        ]
        for method in ("lower", "higher", "midpoint", "nearest"):
            out.append(Sample((a(3, 6), q, 1), {"interpolation": method}, grad=False))
            out.append(Sample((a(3, 6), 0.3, 1), {"interpolation": method}))
        return out

    def np_quantile(
        x: np.ndarray, q: Any, dim: Any = None, keepdim: bool = False, interpolation: str = "linear"
    ) -> np.ndarray:
        if x.shape and dim is not None and x.shape[dim] == 0:
            shape = (
                tuple(1 if i == dim else s for i, s in enumerate(x.shape))
                if keepdim
                else tuple(s for i, s in enumerate(x.shape) if i != dim)
            )
            return np.full(np.shape(q) + shape, np.nan)
        return np.quantile(x, q, axis=dim, keepdims=keepdim, method=interpolation)

    def np_nanquantile(x: np.ndarray, q: Any, *args: Any, **kwargs: Any) -> np.ndarray:
        with warnings.catch_warnings():  # all-NaN rows: NaN, with a warning numpy gives
            warnings.simplefilter("ignore", RuntimeWarning)
            if x.size == 0:
                return np_quantile(x, q, *args, **kwargs)
            kwargs = {("method" if k == "interpolation" else k): v for k, v in kwargs.items()}
            dim = args[0] if args else kwargs.pop("dim", None)
            keepdim = args[1] if len(args) > 1 else kwargs.pop("keepdim", False)
            return np.nanquantile(x, q, axis=dim, keepdims=keepdim, **kwargs)

    def nan_quantile_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        out = quantile_samples(dtype, rng)
        x = rand_array(rng, (4, 6), dtype)
        x[0, [1, 3]] = np.nan
        x[2, :] = np.nan
        q = np.asarray([0.0, 0.3, 0.5, 1.0], dtype=dtype)
        return out + [Sample((x, q, 1), grad=False), Sample((x, 0.5), grad=False)]

    def np_mode(x: np.ndarray, dim: int = -1, keepdim: bool = False, indices: bool = False) -> np.ndarray:
        if x.ndim == 0:
            return np.zeros((), np.int64) if indices else x.copy()
        moved = np.moveaxis(x, dim, -1)
        vals = np.empty(moved.shape[:-1], x.dtype)
        idx = np.empty(moved.shape[:-1], np.int64)
        for pos in np.ndindex(*moved.shape[:-1]):
            row = moved[pos]
            best = None
            for v in sorted(set(row.tolist()), key=lambda v: (v != v, v)):
                c = int(np.sum(row == v))  # NaN counts once each (NaN != NaN)
                c = max(c, 1)
                if best is None or c > best[1]:
                    best = (v, c)
            vals[pos] = best[0]
            hits = np.nonzero((row == best[0]) | ((row != row) & (best[0] != best[0])))[0]
            idx[pos] = hits[-1] if best[0] == best[0] else hits[0]
        out = idx if indices else vals
        return np.expand_dims(out, dim) if keepdim else out

    def mode_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return (
                rand_array(rng, s, dtype)
                if dtype.startswith("float")
                else rand_array(rng, s, dtype, -0.5, 0.5)
            )

        def f(*s: int) -> np.ndarray:  # floats with repeats: a few distinct values
            return np.asarray(rng.integers(-2, 2, size=s), dtype=dtype)

        out = [
            Sample((f(7), 0), grad=False),
            Sample((f(3, 6), 1), grad=False),
            Sample((f(2, 3, 4), 0), grad=False),
            Sample((f(2, 5), 1, True), grad=False),
            Sample((f(3, 5), -1), noncontig=True, grad=False),
            Sample((f(4, 3), 0), noncontig="flip", grad=False),
            Sample((a(), 0), grad=False),
            Sample((a(4, 5), 1)),
        ]
        return out

    register(
        OpRecord(
            "topk",
            topk,
            k_samples(0),
            np_topk,
            call=values_call(topk),
            methods=("topk",),
            dtypes=NUM,
            errors=(
                ErrorSample(
                    (np.ones(3), 4),
                    {},
                    IndexError,
                    "topk: k \\(4\\) is out of range for dimension 0 of size 3; expected 0 <= k <= 3",
                ),
                ErrorSample((np.ones(3), -1), {}, IndexError, "topk: k \\(-1\\) is out of range"),
            ),
        ),
        OpRecord(
            "topk_indices",
            topk,
            k_samples(0),
            lambda *a, **k: np_topk(*a, indices=True, **k),
            call=indices_call(topk),
            dtypes=NUM,
            grad=False,
            public=False,
        ),
        OpRecord(
            "kthvalue",
            kthvalue,
            k_samples(1),
            np_kth,
            call=values_call(kthvalue),
            methods=("kthvalue",),
            dtypes=NUM,
            errors=(
                ErrorSample(
                    (np.ones((2, 3)), 0, 1),
                    {},
                    IndexError,
                    "kthvalue: k \\(0\\) is out of range for dimension 1 of size 3; expected 1 <= k <= 3",
                ),
            ),
        ),
        OpRecord(
            "kthvalue_indices",
            kthvalue,
            k_samples(1),
            lambda *a, **k: np_kth(*a, indices=True, **k),
            call=indices_call(kthvalue),
            dtypes=NUM,
            grad=False,
            public=False,
        ),
        OpRecord(
            "median",
            median,
            median_samples,
            np_median,
            call=values_call(median),
            methods=("median",),
            dtypes=NUM,
            errors=(
                ErrorSample(
                    (np.ones((0, 3)), 0), {}, IndexError, "median: cannot reduce over dimension 0 of size 0"
                ),
                ErrorSample((np.ones(3),), {"keepdim": True}, TypeError, "median: keepdim=True needs a dim"),
            ),
        ),
        OpRecord(
            "median_indices",
            median,
            lambda dt, rng: [s for s in median_samples(dt, rng) if len(s.args) > 1],
            lambda *a, **k: np_median(*a, indices=True, **k),
            call=indices_call(median),
            dtypes=NUM,
            grad=False,
            public=False,
        ),
        OpRecord(
            "nanmedian",
            nanmedian,
            median_samples,
            lambda *a, **k: np_median(*a, nan=True, **k),
            call=values_call(nanmedian),
            methods=("nanmedian",),
            dtypes=NUM,
            errors=(
                ErrorSample(
                    (np.ones((2, 0)), 1),
                    {},
                    IndexError,
                    "nanmedian: cannot reduce over dimension 1 of size 0",
                ),
            ),
        ),
        OpRecord(
            "quantile",
            quantile,
            quantile_samples,
            np_quantile,
            methods=("quantile",),
            dtypes=FLOATS,
            errors=(
                ErrorSample((np.ones(3), 1.5), {}, ValueError, "quantile: q must be in \\[0, 1\\], got 1.5"),
                ErrorSample(
                    (np.ones(3), 0.5),
                    {"interpolation": "cubic"},
                    ValueError,
                    "quantile: interpolation 'cubic'",
                ),
                ErrorSample(
                    (np.ones(3, np.int64), 0.5),
                    {},
                    TypeError,
                    "quantile: input must be float32 or float64, got ember.int64",
                ),
            ),
        ),
        OpRecord(
            "nanquantile",
            nanquantile,
            nan_quantile_samples,
            np_nanquantile,
            methods=("nanquantile",),
            dtypes=FLOATS,
            errors=(
                ErrorSample(
                    (np.ones(3), 2.0), {}, ValueError, "nanquantile: q must be in \\[0, 1\\], got 2.0"
                ),
            ),
        ),
        OpRecord(
            "mode",
            mode,
            mode_samples,
            np_mode,
            call=values_call(mode),
            methods=("mode",),
            dtypes=NUM,
            errors=(
                ErrorSample(
                    (np.ones((0, 3)), 0), {}, IndexError, "mode: cannot reduce over dimension 0 of size 0"
                ),
            ),
        ),
        OpRecord(
            "mode_indices",
            mode,
            mode_samples,
            lambda *a, **k: np_mode(*a, indices=True, **k),
            call=indices_call(mode),
            dtypes=NUM,
            grad=False,
            public=False,
        ),
    )


_records()
