"""Statistics: var, std, var_mean, std_mean, cov, corrcoef, histc and bincount.

Composites of the reductions in :mod:`ember.ops.reduction` (sum, mean, amin/amax, any), whose
helpers they share: var and std accumulate 16-bit floats in float32 as PyTorch does, std's gradient
is 0 where it is 0, and cov and corrcoef are matrix products of the centred rows. histc and
bincount read the values (their lengths or bins depend on them) and scatter-add counts (or weights).
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable
from typing import Any

from .. import dtypes as _dt
from ._core import Tensor, normalize_dims
from .reduction import (
    _all_if_empty,
    _diagonal_of,
    _in_float32,
    _pair,
    _reduction_record,
    _sqrt_zero_grad,
    amax,
    amin,
    any,
    mean,
    sum,
)


def _correction(op: str, unbiased: Any, correction: Any) -> float:
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: pass either unbiased or correction, not both (unbiased=True is correction=1)")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


def var(
    x: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> Tensor:
    """Variance over ``dim`` (all dims when None or empty), divided by ``N - correction``.

    PyTorch's argument order: ``var(x, dim, unbiased, keepdim)``, and ``var(x, unbiased)`` with a
    bool; ``correction`` is keyword-only (default 1, the unbiased estimate; ``unbiased=False`` is
    ``correction=0``).
    """
    if isinstance(dim, bool):  # var(x, False): PyTorch's var(Tensor, bool unbiased) overload
        if unbiased is not None:
            raise TypeError(
                "var: got a bool dim and unbiased; pass var(x, dim, unbiased) or var(x, unbiased)"
            )
        dim, unbiased = None, dim
    corr = _correction("var", unbiased, correction)
    x32 = _in_float32(x, None)
    if x32 is not None:
        return var(x32, dim, keepdim=keepdim, correction=corr).to(x.dtype)
    dims = normalize_dims(_all_if_empty(dim), x.ndim, "var")
    n = math.prod(x.shape[d] for d in dims) if x.shape else 1
    mu = mean(x, dims, keepdim=True)
    d = x - mu
    if d.dtype._kind == 3:  # |d|^2, real, as PyTorch's variance of complex values
        from .complex import imag, real

        re, im = real(d), imag(d)
        return sum(re * re + im * im, dims, keepdim) / builtins.max(n - corr, 0)
    return sum(d * d, dims, keepdim) / builtins.max(n - corr, 0)


def std(
    x: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> Tensor:
    """Standard deviation over ``dim``: the square root of :func:`var` (same arguments). Where the
    result is 0 the gradient is 0, as in PyTorch (not the inf * 0 of differentiating sqrt at 0)."""
    if isinstance(dim, bool):
        if unbiased is not None:
            raise TypeError(
                "std: got a bool dim and unbiased; pass std(x, dim, unbiased) or std(x, unbiased)"
            )
        dim, unbiased = None, dim
    return _sqrt_zero_grad("std", var(x, dim, unbiased, keepdim, correction=correction))


def _stats_args(op: str, x: Tensor, dim: Any, unbiased: Any) -> tuple[Any, Any]:
    """PyTorch's ``var_mean(x, unbiased)`` overload (a bool second argument) and the dtype check."""
    if isinstance(dim, bool):
        if unbiased is not None:
            raise TypeError(
                f"{op}: got a bool dim and unbiased; pass {op}(x, dim, unbiased) or {op}(x, unbiased)"
            )
        dim, unbiased = None, dim
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating tensor, got {x.dtype}; use x.float()")
    return dim, unbiased


def var_mean(
    x: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> tuple[Tensor, Tensor]:
    """``(var(x, ...), mean(x, ...))`` over the same dims (the arguments of :func:`var`)."""
    dim, unbiased = _stats_args("var_mean", x, dim, unbiased)
    return var(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def std_mean(
    x: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> tuple[Tensor, Tensor]:
    """``(std(x, ...), mean(x, ...))`` over the same dims (the arguments of :func:`std`)."""
    dim, unbiased = _stats_args("std_mean", x, dim, unbiased)
    return std(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def bincount(x: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ... occurs in the 1-D non-negative integer tensor x (the
    length is ``max(x) + 1``, at least ``minlength``); with ``weights``, their sums instead (in
    float32 for float32 weights, float64 for any other). Reads the values (the length
    depends on them)."""
    from .creation import zeros
    from .gather_scatter import scatter_add

    if x.ndim != 1 or not x.dtype.is_integer:
        raise ValueError(
            f"bincount: expected a 1-D tensor of integers, got shape {x.shape} and {x.dtype}; "
            "flatten it (x.reshape(-1)) or convert it (x.long())"
        )
    if minlength < 0:
        raise ValueError(f"bincount: minlength must be >= 0, got {minlength}")
    if weights is not None and (weights.ndim != 1 or weights.shape[0] != x.shape[0]):
        raise ValueError(
            f"bincount: weights must be 1-D, as long as the input ({x.shape[0]}), got shape {weights.shape}"
        )
    n = minlength
    if x.numel():
        lo, hi = int(amin(x).item()), int(amax(x).item())
        if lo < 0:
            raise ValueError(f"bincount: the input must be non-negative, got the value {lo}")
        n = builtins.max(n, hi + 1)
    if weights is None:
        out_dt = _dt.int64
        src = zeros(x.shape, dtype=out_dt, device=x.device) + 1
    else:
        out_dt = _dt.float32 if weights.dtype is _dt.float32 else _dt.float64  # PyTorch's rule
        src = weights.to(out_dt)
    return scatter_add(zeros((n,), dtype=out_dt, device=x.device), 0, x.to(_dt.int64), src)


def histc(x: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """A histogram of x in ``bins`` equal bins over [min, max] (elements outside are ignored;
    min == max takes the data's range, widened by 1 on each side if that is one value), in x's
    floating dtype. Not differentiable, as in PyTorch."""
    from ..autograd.grad_mode import no_grad
    from .creation import zeros
    from .elementwise import clamp, floor, ge, le, logical_and, where
    from .gather_scatter import scatter_add

    if not x.dtype.is_floating_point:
        raise TypeError(f"histc: expected a floating tensor, got {x.dtype}; use x.float()")
    if not isinstance(bins, int) or bins <= 0:
        raise ValueError(f"histc: bins must be a positive int, got {bins!r}")
    lo, hi = float(min), float(max)
    if lo > hi:
        raise ValueError(f"histc: max must be larger than min, got min={min} and max={max}")
    with no_grad():
        if lo == hi and x.numel():
            lo, hi = float(amin(x).item()), float(amax(x).item())
        if lo == hi:
            lo, hi = lo - 1, hi + 1
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"histc: the range [{lo}, {hi}] is not finite; pass finite min and max")
        flat = x.reshape(-1)
        inside = logical_and(ge(flat, lo), le(flat, hi))  # NaN is outside
        # PyTorch's bin: (x - min) / (max - min) * bins, rounded down; max itself in the last bin
        pos = floor((where(inside, flat, lo) - lo) / (hi - lo) * bins)
        pos = clamp(pos, 0, bins - 1).to(_dt.int64)
        return scatter_add(zeros((bins,), dtype=x.dtype, device=x.device), 0, pos, inside.to(x.dtype))


def cov(
    x: Tensor, *, correction: int = 1, fweights: Tensor | None = None, aweights: Tensor | None = None
) -> Tensor:
    """The covariance matrix of the variables in the rows of x (observations in the columns; a
    1-D x is one variable, giving a 0-d result), divided by ``N - correction``; ``fweights``
    (integer repeat counts) and ``aweights`` (observation weights) weigh the observations, as in
    PyTorch and numpy."""
    from .elementwise import lt
    from .linalg import mm

    if x.ndim > 2:
        raise ValueError(f"cov: expected a tensor with at most 2 dims, got shape {x.shape}")
    if not x.dtype.is_floating_point:
        x = x.to(_dt.get_default_dtype())
    obs = x.reshape(1, -1) if x.ndim < 2 else x
    n = obs.shape[1]
    w = None
    for name, wt in (("fweights", fweights), ("aweights", aweights)):
        if wt is None:
            continue
        if wt.ndim > 1 or wt.numel() != n:
            raise ValueError(
                f"cov: {name} must be 1-D with one weight per observation ({n}), got shape {wt.shape}"
            )
        if name == "fweights" and wt.dtype.is_floating_point:
            raise TypeError(f"cov: fweights must be integers (repeat counts), got {wt.dtype}")
        if name == "aweights" and not wt.dtype.is_floating_point:
            raise TypeError(f"cov: aweights must be floating, got {wt.dtype}")
        if wt.numel() and bool(any(lt(wt, 0)).item()):
            raise ValueError(f"cov: {name} cannot be negative")
        wt = wt.reshape(-1)  # promotes with x, as in PyTorch: float64 aweights give a float64 result
        w = wt if w is None else w * wt
    if w is None:
        avg = mean(obs, 1, keepdim=True) if n else sum(obs, 1, keepdim=True) * math.nan
        w_sum: Any = n
        norm: Any = n - correction
    else:
        w_sum = sum(w)
        avg = sum(obs * w, 1, keepdim=True) / w_sum
        if correction == 0:
            norm = w_sum
        elif aweights is None:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * sum(w * aweights.reshape(-1)) / w_sum
    if isinstance(norm, Tensor):
        from .math_functions import clamp_min

        norm = clamp_min(norm, 0)
    else:
        norm = builtins.max(norm, 0)
    xm = obs - avg
    c = mm(xm * w if w is not None else xm, xm.t()) / norm
    return c.reshape(()) if c.shape == (1, 1) else c  # one variable: 0-d, as PyTorch's squeeze gives


def corrcoef(x: Tensor) -> Tensor:
    """Pearson's correlation coefficients of the variables in the rows of x (see :func:`cov`),
    clipped to [-1, 1]."""
    from .elementwise import clamp, sqrt

    c = cov(x)
    if c.ndim == 0:
        return c / c
    sd = sqrt(_diagonal_of(c))
    c = c / sd.reshape(-1, 1)
    c = c / sd.reshape(1, -1)
    return clamp(c, -1, 1)


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from .records import OpRecord, register
    from .samples import ErrorSample, Sample, np_kw, rand_array, reduction_samples

    def stat_mean_ref(stat: Callable[..., Any]) -> Callable[..., Any]:
        def ref(x: np.ndarray, **kw: Any) -> np.ndarray:
            k = np_kw(kw)
            return np.stack([stat(x, ddof=1, **k), np.mean(x, **k)])

        return ref

    def bincount_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        x = rng.integers(0, 6, size=10).astype(dtype)
        return [
            Sample((x,)),
            Sample((x,), {"minlength": 9}),
            Sample((x[:0],), {"minlength": 3}),
            Sample((x[:0],)),
            Sample((x, rng.uniform(-1, 1, 10))),
            Sample((x, rng.uniform(-1, 1, 10).astype(np.float32))),
            Sample((x, rng.integers(0, 5, 10))),
            Sample((x[:6],), noncontig=True),
        ]

    def bincount_ref(x: np.ndarray, weights: Any = None, minlength: int = 0) -> np.ndarray:
        out = np.bincount(x.astype(np.int64), weights, minlength)
        if weights is None:
            return out.astype(np.int64)
        return out.astype(np.float32 if weights.dtype == np.float32 else np.float64)

    def histc_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        x = rand_array(rng, (4, 5), dtype, -2, 2)
        return [
            Sample((x,), {"bins": 7}),
            Sample((x,), {"bins": 4, "min": -1, "max": 1}),
            Sample(
                (np.array([0.0, 1.0, 2.0, 3.0, 3.0, -1.0, 5.0], dtype=dtype),),
                {"bins": 3, "min": 0, "max": 3},
            ),
            Sample((np.full((3,), 1.5, dtype=dtype),), {"bins": 4}),
            Sample((x[:0],), {"bins": 2}),
            Sample((x,), {"bins": 5}, noncontig=True),
        ]

    def histc_ref(x: np.ndarray, bins: int = 100, min: float = 0, max: float = 0) -> np.ndarray:
        lo, hi = float(min), float(max)
        if lo == hi and x.size:
            lo, hi = float(x.min()), float(x.max())
        if lo == hi:
            lo, hi = lo - 1, hi + 1
        v = x.reshape(-1)
        v = v[(v >= lo) & (v <= hi)]
        pos = np.clip(np.floor((v - x.dtype.type(lo)) / x.dtype.type(hi - lo) * bins), 0, bins - 1).astype(
            np.int64
        )
        return np.bincount(pos, minlength=bins).astype(x.dtype)

    def cov_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(3, 5),)),
            Sample((a(6),)),
            Sample((a(2, 4),), {"correction": 0}),
            Sample((a(3, 5),), {"fweights": rng.integers(1, 4, 5)}),
            Sample((a(3, 5),), {"aweights": rng.uniform(0.5, 2, 5)}),
            Sample(
                (a(3, 5),),
                {"fweights": rng.integers(1, 4, 5), "aweights": rng.uniform(0.5, 2, 5), "correction": 2},
            ),
            Sample((a(5, 4),), noncontig=True),
        ]

    def cov_ref(x: np.ndarray, correction: int = 1, fweights: Any = None, aweights: Any = None) -> np.ndarray:
        return np.asarray(np.cov(x, ddof=correction, fweights=fweights, aweights=aweights))

    def weights_on_device(f: Callable[..., Any]) -> Callable[..., Any]:
        """``f`` with its numpy keyword arguments (cov's weights) as tensors on x's device."""

        def call(x: Any, **kw: Any) -> Any:
            from .creation import tensor

            kw = {k: tensor(v, device=x.device) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
            return f(x, **kw)

        return call

    register(
        _reduction_record("var", var, lambda x, **k: np.var(x, ddof=1, **np_kw(k)), allow_empty=False),
        _reduction_record("std", std, lambda x, **k: np.std(x, ddof=1, **np_kw(k)), allow_empty=False),
        OpRecord(
            "var_mean",
            var_mean,
            reduction_samples(allow_empty=False),
            stat_mean_ref(np.var),
            call=_pair(var_mean),
            errors=(
                ErrorSample(
                    (np.array([1, 2]),),
                    {},
                    TypeError,
                    "var_mean: expected a floating tensor, got ember.int64",
                ),
            ),
        ),
        OpRecord(
            "std_mean",
            std_mean,
            reduction_samples(allow_empty=False),
            stat_mean_ref(np.std),
            call=_pair(std_mean),
        ),
        OpRecord(
            "bincount",
            bincount,
            bincount_samples,
            bincount_ref,
            methods=("bincount",),
            dtypes=("uint8", "int32", "int64"),
            grad=False,
            reads_values=True,
            errors=(
                ErrorSample(
                    (np.ones((2, 2), dtype=np.int64),),
                    {},
                    ValueError,
                    "bincount: expected a 1-D tensor of integers",
                ),
                ErrorSample(
                    (np.array([1, 2]),),
                    {"minlength": -1},
                    ValueError,
                    "bincount: minlength must be >= 0, got -1",
                ),
            ),
        ),
        OpRecord(
            "histc",
            histc,
            histc_samples,
            histc_ref,
            methods=("histc",),
            grad=False,
            reads_values=True,
            errors=(
                ErrorSample(
                    (np.ones(3),), {"bins": 0}, ValueError, "histc: bins must be a positive int, got 0"
                ),
                ErrorSample(
                    (np.ones(3),),
                    {"min": 3, "max": 1},
                    ValueError,
                    "histc: max must be larger than min, got min=3 and max=1",
                ),
                ErrorSample(
                    (np.array([1, 2]),), {}, TypeError, "histc: expected a floating tensor, got ember.int64"
                ),
            ),
        ),
        OpRecord(
            "cov",
            cov,
            cov_samples,
            cov_ref,
            call=weights_on_device(cov),
            methods=("cov",),
            errors=(
                ErrorSample(
                    (np.ones((2, 2, 2)),),
                    {},
                    ValueError,
                    "cov: expected a tensor with at most 2 dims, got shape",
                ),
            ),
            reads_values=True,
        ),
        OpRecord(
            "corrcoef",
            corrcoef,
            lambda dtype, rng: [s for s in cov_samples(dtype, rng) if not s.kwargs],
            lambda x: np.asarray(np.clip(np.corrcoef(x), -1, 1)),
            methods=("corrcoef",),
        ),
    )


_records()
