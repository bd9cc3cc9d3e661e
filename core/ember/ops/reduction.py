"""Reductions: sum, mean, prod, max/min (values and indices), amax/amin/aminmax, argmax/argmin,
all/any, count_nonzero, nansum/nanmean, cumsum, norm and trace.

The helpers that the reductions built on these share live here too (output shapes, ``_unreduce``,
float32 accumulation for 16-bit floats, the square root whose gradient is 0 at 0, and the record
builders ``_reduction_record``, ``_along_dim`` and ``_pair``): the statistics (var, std, var_mean,
std_mean, cov, corrcoef, histc, bincount) are in :mod:`ember.ops.statistics`, and logsumexp,
softmax and log_softmax in :mod:`ember.ops.log_sum_exp`.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .. import dtypes as _dt
from ..dtypes import DType
from ._core import STATE, Tensor, _make, attach, cast_data, kernel, normalize_dims, saved_output, wrap_dim
from .records import OpRecord
from .samples import FLOATS, Sample, rand_array, reduction_samples


class ValuesIndices(NamedTuple):
    """(values, indices) returned by max/min/sort-like reductions with a ``dim``."""

    values: Tensor
    indices: Tensor


def _out_shape(shape: tuple[int, ...], dims: tuple[int, ...], keepdim: bool) -> tuple[int, ...]:
    if keepdim:
        return tuple(1 if i in dims else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in dims)


def _all_if_empty(dim: Any) -> Any:
    """``dim`` for the reductions where PyTorch reads an empty ``dim`` (``()`` or ``[]``) as "every
    dim" (sum, mean, amax, amin, var, std, norm): None for an empty sequence, else ``dim``."""
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        return None
    return dim


def _unreduce(g: Tensor, shape: tuple[int, ...], dims: tuple[int, ...], keepdim: bool) -> Tensor:
    """Broadcast a reduced gradient back to ``shape``."""
    if not keepdim and dims:
        kshape = tuple(1 if i in dims else n for i, n in enumerate(shape))
        g = g.reshape(kshape)
    return g.expand(shape)


#: the most bytes the widening cast before an integer sum or product (uint8 -> int64: 8 bytes per
#: element) may take at once; a larger input is reduced in pieces, each cast on its own
CAST_BUDGET_BYTES = 64 << 20


def _reduce(op: str, x: Tensor, dims: tuple[int, ...], keepdim: bool, dtype: DType) -> Tensor:
    shape = _out_shape(x.shape, dims, keepdim)
    if not x.shape:  # 0-d: the reduction is the identity
        return _make(cast_data(x, dtype), (), dtype, x.device) if dtype is not x.dtype else x.clone().detach()
    if (dtype is _dt.float16 or dtype is _dt.bfloat16) and op in ("sum", "prod"):
        # 16-bit floats accumulate in float32, as in PyTorch (a float16 running sum stalls at 2048)
        data = kernel(x.device, op)(cast_data(_cast_value(x, dtype), _dt.float32), dims, keepdim)
        return _make(kernel(x.device, "cast")(data, dtype), shape, dtype, x.device)
    if (
        dtype is not x.dtype
        and op in _COMBINE
        and not dtype.is_floating_point
        and x.numel() * dtype.itemsize > CAST_BUDGET_BYTES
    ):
        return _reduce_in_pieces(op, x, dims, keepdim, dtype)
    data = cast_data(x, dtype)
    return _make(kernel(x.device, op)(data, dims, keepdim), shape, dtype, x.device)


#: how partial results of a reduction combine
_COMBINE = {"sum": "add", "prod": "mul"}


def _reduce_in_pieces(op: str, x: Tensor, dims: tuple[int, ...], keepdim: bool, dtype: DType) -> Tensor:
    """``op`` over ``dims`` of x in ``dtype``, cast piece by piece so the cast's temporary stays
    near :data:`CAST_BUDGET_BYTES` (a 2 GB uint8 tensor would otherwise need 16 GB of int64).

    x is cut along its largest dim; partial results of a reduced dim combine with ``add`` / ``mul``
    (exact: integer arithmetic), those of a kept dim are joined with ``cat``. A piece still over
    the budget is cut again along its own largest dim. Nothing is recorded: the caller attaches
    the op's backward."""
    from .joining import cat
    from .shape import narrow

    x = x.detach()
    d = builtins.max(range(x.ndim), key=lambda i: x.shape[i])
    n = x.shape[d]
    pieces = builtins.min(n, -(-x.numel() * dtype.itemsize // CAST_BUDGET_BYTES))
    step = -(-n // pieces)
    parts = [
        _reduce(op, narrow(x, d, i, builtins.min(step, n - i)), dims, True, dtype) for i in range(0, n, step)
    ]
    if d in dims:
        combine = kernel(x.device, _COMBINE[op])
        data = parts[0]._data
        for part in parts[1:]:
            data = combine(data, part._data)
        out = _make(data, parts[0].shape, dtype, x.device)
    else:
        out = cat(parts, d)
    return out if keepdim else out.reshape(_out_shape(x.shape, dims, False))


def _cast_value(x: Tensor, dtype: DType) -> Tensor:
    """x with its values rounded to ``dtype`` (no graph): the input of a reduction in ``dtype``."""
    return x if x.dtype is dtype else _make(cast_data(x, dtype), x.shape, dtype, x.device)


def _in_float32(x: Tensor, dtype: DType | None) -> Tensor | None:
    """For a float16 or bfloat16 computation (x's dtype, or ``dtype`` when given): x in float32,
    after rounding it to that type first, so a composite reduction (mean, var, cumsum, norm) can
    accumulate and divide in float32 as PyTorch does (n = 100000 itself overflows float16); None
    otherwise. The caller rounds the float32 result back to the 16-bit type once."""
    half = dtype or x.dtype
    if half is not _dt.float16 and half is not _dt.bfloat16:
        return None
    return x.to(half).to(_dt.float32)


def _refuse_complex(op: str, x: Any) -> None:
    from .elementwise import refuse_complex

    refuse_complex(op, x)


def sum(x: Tensor, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """Sum over ``dim`` (all dims when None or empty, as in PyTorch). Integer and bool inputs sum
    in int64 unless ``dtype`` is given (the input is cast to ``dtype`` first)."""
    dims = normalize_dims(_all_if_empty(dim), x.ndim, "sum")
    if dtype is not None:
        dt = _dt.as_dtype(dtype)
    else:
        dt = x.dtype if x.dtype._kind >= 2 else _dt.int64
    out = _reduce("sum", x, dims, keepdim, dt)
    if x.requires_grad and STATE.enabled:
        shape, in_dt = x.shape, x.dtype  # as recorded (an in-place squeeze_ may change x's shape)
        attach(out, "sum", lambda g: (_unreduce(g, shape, dims, keepdim).to(in_dt),), (x,))
    return out


def mean(x: Tensor, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """Mean over ``dim`` (all dims when None or empty); floating inputs, or any input with a
    floating ``dtype`` (the input is cast to it first), as in PyTorch."""
    dt = _dt.as_dtype(dtype) if dtype is not None else x.dtype
    if dt._kind < 2:
        raise TypeError(
            f"mean: could not infer output dtype; input dtype must be floating point or complex, got "
            f"{x.dtype} (use x.float().mean() or dtype=ember.float32)"
        )
    x32 = _in_float32(x, dt)
    if x32 is not None:
        return mean(x32, dim, keepdim).to(dt)
    dims = normalize_dims(_all_if_empty(dim), x.ndim, "mean")
    n = math.prod(x.shape[d] for d in dims) if x.shape else 1
    s = sum(x.to(dt) if dt is not x.dtype else x, dims, keepdim)
    return s / n if n else s * math.nan


def prod(x: Tensor, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """Product over ``dim`` (int/bool inputs in int64)."""
    if dim is not None and not isinstance(dim, int):
        raise TypeError("prod: dim must be an int or None")
    dims = normalize_dims(dim, x.ndim, "prod")
    dt = _dt.as_dtype(dtype) if dtype is not None else (x.dtype if x.dtype._kind >= 2 else _dt.int64)
    out = _reduce("prod", x, dims, keepdim, dt)
    if x.requires_grad and STATE.enabled:
        from .elementwise import _c, eq, where

        o = saved_output(out)

        def grad(g: Tensor) -> tuple[Tensor]:
            # out / x, with zeros handled by recomputing the product of the others (complex:
            # conjugated, g * conj(out / x))
            gx = _unreduce(g * _c(o), x.shape, dims, keepdim)
            safe = where(eq(x, 0), 1.0, x)
            others = _unreduce(_c(prod(safe, dim, keepdim)), x.shape, dims, keepdim)
            nz = _unreduce(sum(eq(x, 0).to(x.dtype), dims, keepdim), x.shape, dims, keepdim)
            zero_grad = where(eq(nz, 1), others, 0.0) * _unreduce(g, x.shape, dims, keepdim)
            return (where(eq(x, 0), zero_grad, gx / _c(safe)),)

        attach(out, "prod", grad, (x,), (x,), out_alias=o)
    return out


def _check_nonempty(op: str, x: Tensor, dims: tuple[int, ...]) -> None:
    for d in dims:
        if x.shape and x.shape[d] == 0:
            raise ValueError(
                f"{op}: cannot reduce over dimension {d} of size 0 (shape {x.shape}): "
                "the operation has no identity"
            )


def _extreme(op: str, x: Tensor, dim: Any, keepdim: bool) -> Any:
    _refuse_complex(op, x)
    if dim is None:
        if keepdim:
            raise TypeError(
                f"{op}: keepdim=True needs a dim (max/min over all elements return a 0-d tensor, "
                f"as in PyTorch); use ember.a{op}(x, keepdim=True) to keep every dim as size 1"
            )
        dims = tuple(range(x.ndim))
        _check_nonempty(op, x, dims)
        if x.numel() == 0:
            raise ValueError(f"{op}: the input is empty (shape {x.shape}) and {op} has no identity")
        out = _reduce(op, x, dims, False, x.dtype)
        if x.requires_grad and STATE.enabled:
            from .elementwise import eq, isnan, logical_and, logical_or

            o = saved_output(out)

            def grad(g: Tensor) -> tuple[Tensor]:
                # ties share the gradient evenly; a NaN result shares it among the NaNs (PyTorch)
                hit = logical_or(eq(x, o), logical_and(isnan(x), isnan(o)))
                mask = hit.to(g.dtype)
                return (mask * (g / sum(mask)),)

            attach(out, op, grad, (x,), (x,), out_alias=o)
        return out
    d = wrap_dim(dim, x.ndim, op)
    _check_nonempty(op, x, (d,))
    values = _reduce(op, x, (d,), keepdim, x.dtype)
    indices = (argmax if op == "max" else argmin)(x, d, keepdim)
    if x.requires_grad and STATE.enabled:
        shape = x.shape
        # an alias of the returned indices whose shape stays as recorded (the caller may squeeze_ them)
        idx = indices.detach()

        def grad_v(g: Tensor) -> tuple[Tensor]:
            from .creation import zeros
            from .gather_scatter import scatter_add

            gi = idx if keepdim else idx.unsqueeze(d)
            gg = g if keepdim else g.unsqueeze(d)
            return (scatter_add(zeros(shape, dtype=g.dtype, device=g.device), d, gi, gg),)

        attach(values, op, grad_v, (x,))
    return ValuesIndices(values, indices)


def max(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """Maximum of all elements, or (values, indices) along ``dim``.

    ``max(a, b)`` with a second tensor is the elementwise :func:`ember.maximum`.
    """
    if isinstance(dim, Tensor):
        from .elementwise import maximum

        return maximum(x, dim)
    return _extreme("max", x, dim, keepdim)


def min(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """Minimum of all elements, or (values, indices) along ``dim``."""
    if isinstance(dim, Tensor):
        from .elementwise import minimum

        return minimum(x, dim)
    return _extreme("min", x, dim, keepdim)


def amax(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Maximum over one or more dims (all when None or empty; values only); ties share the gradient."""
    return _amax_amin("amax", "max", x, dim, keepdim)


def amin(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Minimum over one or more dims (all when None or empty; values only); ties share the gradient."""
    # not -amax(-x): negation wraps around for unsigned and most-negative integers, and bool has none
    return _amax_amin("amin", "min", x, dim, keepdim)


def _amax_amin(name: str, op: str, x: Tensor, dim: Any, keepdim: bool) -> Tensor:
    _refuse_complex(name, x)
    dims = normalize_dims(_all_if_empty(dim), x.ndim, name)
    _check_nonempty(name, x, dims)
    out = _reduce(op, x, dims, keepdim, x.dtype)
    if x.requires_grad and STATE.enabled:
        from .elementwise import eq

        o = saved_output(out)

        def grad(g: Tensor) -> tuple[Tensor]:
            mask = eq(x, _unreduce(o, x.shape, dims, keepdim)).to(g.dtype)
            cnt = _unreduce(sum(mask, dims, keepdim), x.shape, dims, keepdim)
            return (mask * _unreduce(g, x.shape, dims, keepdim) / cnt,)

        attach(out, name, grad, (x,), (x,), out_alias=o)
    return out


def _arg(op: str, x: Tensor, dim: Any, keepdim: bool) -> Tensor:
    _refuse_complex(op, x)
    if dim is None:
        if x.numel() == 0:
            raise ValueError(f"{op}: the input is empty (shape {x.shape})")
        flat = x.reshape(-1)
        return (
            _make(kernel(x.device, op)(flat._data, 0, False), (), _dt.int64, x.device)
            if not keepdim
            else _make(kernel(x.device, op)(flat._data, 0, False), (), _dt.int64, x.device).reshape(
                (1,) * x.ndim
            )
        )
    d = wrap_dim(dim, x.ndim, op)
    _check_nonempty(op, x, (d,))
    if not x.shape:
        return _make(kernel(x.device, "full")((), 0, _dt.int64, x.device.index), (), _dt.int64, x.device)
    return _make(
        kernel(x.device, op)(x._data, d, keepdim), _out_shape(x.shape, (d,), keepdim), _dt.int64, x.device
    )


def argmax(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Index of the first maximum (of the flattened tensor when dim is None)."""
    return _arg("argmax", x, dim, keepdim)


def argmin(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Index of the first minimum."""
    return _arg("argmin", x, dim, keepdim)


def _sqrt_zero_grad(op: str, v: Tensor) -> Tensor:
    """sqrt(v) whose gradient is 0 (not inf) where the result is 0: PyTorch's rule for std and
    the 2-norm, whose minimum is at 0."""
    from ..autograd.grad_mode import no_grad
    from .elementwise import eq, sqrt, where

    with no_grad():
        out = sqrt(v)
    if v.requires_grad and STATE.enabled:
        o = saved_output(out)
        attach(out, op, lambda g: (where(eq(o, 0), 0.0, g / (o * 2)),), (v,), (o,), out_alias=o)
    return out


def all(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """True where every element over ``dim`` is nonzero (bool; uint8 for a uint8 input, as in
    PyTorch). An empty ``dim`` reduces nothing."""
    from .elementwise import logical_not

    out = logical_not(any(logical_not(x), dim, keepdim))
    return out.to(_dt.uint8) if x.dtype is _dt.uint8 else out


def any(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """True where some element over ``dim`` is nonzero (bool; uint8 for a uint8 input, as in
    PyTorch). An empty ``dim`` reduces nothing."""
    from .elementwise import gt, ne

    xb = x if x.dtype.is_bool else ne(x, 0)
    dims = normalize_dims(dim, x.ndim, "any")
    if not dims and x.ndim:  # an empty dim reduces nothing here (not "all", as sum reads it)
        out = xb.clone() if xb is x else xb
    elif "any" in x.device.kernels:
        out = _reduce("any", xb, dims, keepdim, _dt.bool_)
    else:
        out = gt(sum(xb, dims, keepdim), 0)
    return out.to(_dt.uint8) if x.dtype is _dt.uint8 else out


def cumsum(x: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Cumulative sum along ``dim`` (int/bool inputs in int64)."""
    d = wrap_dim(dim, x.ndim, "cumsum")
    dt = _dt.as_dtype(dtype) if dtype is not None else (x.dtype if x.dtype._kind >= 2 else _dt.int64)
    if dt.is_bool:
        raise TypeError(
            "cumsum: a bool result (dtype=ember.bool) is not supported, as in PyTorch; leave dtype "
            "unset for an int64 running count (x.cumsum(dim) > 0 is the running 'any')"
        )
    x32 = _in_float32(x, dt) if x.shape else None
    if x32 is not None:  # a float16 running sum stalls at 2048: accumulate in float32
        return cumsum(x32, d).to(dt)
    if not x.shape:
        return x.to(dt).clone()
    out = _make(kernel(x.device, "cumsum")(cast_data(x, dt), d), x.shape, dt, x.device)
    if x.requires_grad and STATE.enabled:
        attach(out, "cumsum", lambda g: (cumsum(g.flip(d), d).flip(d),), (x,))
    return out


def norm(x: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """Vector p-norm over ``dim`` (all dims when None or empty): p = 2 ("fro"), 1, inf, -inf, 0 or
    any other number; ``dtype`` casts the input first. Gradients follow PyTorch: 0 where a 2-norm
    (or p-norm, p > 1) is 0, shared evenly among the ties of an inf-norm."""
    from ..autograd.grad_mode import no_grad
    from .creation import zeros_like
    from .elementwise import abs, eq, ne, pow, sign, where

    if dtype is not None:
        x = x.to(dtype)
    if isinstance(p, str):
        if p != "fro":
            raise ValueError(
                f"norm: p={p!r} is not supported; use 'fro' or a number (the vector p-norm of the "
                "flattened dims, which is the Frobenius norm for p=2)"
            )
        p = 2
    if p is None:
        p = 2
    if x.dtype._kind == 3:  # the norm of the magnitudes, a real tensor, as PyTorch
        from .complex import complex_abs

        return norm(complex_abs(x), p, dim, keepdim)
    if not x.dtype.is_floating_point:
        raise TypeError(
            f"norm: expected a floating tensor, got {x.dtype}; use x.float().norm() or dtype=ember.float32"
        )
    dim = _all_if_empty(dim)
    x32 = _in_float32(x, None)
    if x32 is not None:  # float16 squares overflow past 256: compute in float32, as PyTorch
        return norm(x32, p, dim, keepdim).to(x.dtype)
    if p == 2:
        return _sqrt_zero_grad("norm", sum(x * x, dim, keepdim))
    if p == 1:
        return sum(abs(x), dim, keepdim)
    if p == math.inf:
        return amax(abs(x), dim, keepdim)
    if p == -math.inf:
        return amin(abs(x), dim, keepdim)
    with no_grad():
        if p == 0:
            out = sum(ne(x, 0).to(x.dtype), dim, keepdim)
        else:
            out = pow(sum(pow(abs(x), p), dim, keepdim), 1.0 / p)
    if x.requires_grad and STATE.enabled:
        dims = normalize_dims(dim, x.ndim, "norm")
        o = saved_output(out)

        def grad(g: Tensor) -> tuple[Tensor]:
            if p == 0:
                return (zeros_like(x),)  # the count of nonzeros is flat
            n = _unreduce(o, x.shape, dims, keepdim)
            gg = _unreduce(g, x.shape, dims, keepdim)
            ax = abs(x)
            if p < 1:  # PyTorch: |x|^(p-1) is taken as 0 at x = 0
                return (sign(x) * where(eq(x, 0), 0.0, pow(ax, p - 1)) * gg * pow(n, 1 - p),)
            scaled = sign(x) * pow(ax, p - 1) if p < 2 else x * pow(ax, p - 2)
            return (scaled * where(eq(n, 0), 0.0, gg / pow(n, p - 1)),)

        attach(out, "norm", grad, (x,), (x,), out_alias=o)
    return out


# ----------------------------------------------------------------------------------------------
# NaN-aware reductions, counts, aminmax and trace (composites)
# ----------------------------------------------------------------------------------------------
def _nan_as_zero(x: Tensor) -> Tensor:
    from .elementwise import isnan, where

    return where(isnan(x), 0.0, x) if x.dtype.is_floating_point else x


def nansum(x: Tensor, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """:func:`sum` with NaN counted as 0 (their gradient is 0)."""
    return sum(_nan_as_zero(x), dim, keepdim, dtype=dtype)


def nanmean(x: Tensor, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """:func:`mean` of the elements that are not NaN (NaN where every element is NaN or none is
    left); floating inputs, or a floating ``dtype``."""
    from .elementwise import isnan, logical_not

    if dtype is not None:
        x = x.to(dtype)
    if not x.dtype.is_floating_point:
        raise TypeError(
            f"nanmean: expected a floating tensor, got {x.dtype} (an integer tensor holds no NaN: use "
            "mean(x.float()), or pass dtype=ember.float32)"
        )
    x32 = _in_float32(x, None)
    if x32 is not None:
        return nanmean(x32, dim, keepdim).to(x.dtype)
    count = sum(logical_not(isnan(x)), _all_if_empty(dim), keepdim)
    return nansum(x, dim, keepdim) / count.to(x.dtype)


def count_nonzero(x: Tensor, dim: Any = None) -> Tensor:
    """How many elements over ``dim`` (an int, a tuple, or None for all) are not zero, as int64."""
    from .elementwise import ne

    return sum(x if x.dtype.is_bool else ne(x, 0), _none_if_empty_tuple(dim), dtype=_dt.int64)


def _none_if_empty_tuple(dim: Any) -> Any:
    return None if isinstance(dim, (tuple, list)) and not dim else dim


class MinMax(NamedTuple):
    """(min, max) returned by :func:`aminmax`."""

    min: Tensor
    max: Tensor


def aminmax(x: Tensor, *, dim: int | None = None, keepdim: bool = False) -> MinMax:
    """``(amin(x, dim), amax(x, dim))`` in one call: over all elements when ``dim`` is None, else
    over the one dim ``dim``; refuses an empty reduction, as it has no identity."""
    if dim is not None and not isinstance(dim, int):
        raise TypeError(f"aminmax: dim must be an int or None, got {type(dim).__name__} {dim!r}")
    dims = normalize_dims(dim, x.ndim, "aminmax")
    if x.numel() == 0 and (dim is None or x.shape[dims[0]] == 0):
        raise ValueError(
            f"aminmax: cannot reduce an empty {'input' if dim is None else f'dim {dim}'} (shape {x.shape}): "
            "the operation has no identity"
        )
    return MinMax(amin(x, dims if x.ndim else None, keepdim), amax(x, dims if x.ndim else None, keepdim))


def _diagonal_of(x: Tensor) -> Tensor:
    """The main diagonal of the 2-D x, as a 1-D tensor (every (cols + 1)-th element)."""
    m, n = x.shape
    k = builtins.min(m, n)
    return x.reshape(-1)[:: n + 1][:k] if k else x.reshape(-1)[:0]


def trace(x: Tensor) -> Tensor:
    """The sum of the main diagonal of a 2-D tensor (integers sum in int64, as :func:`sum`)."""
    if x.ndim != 2:
        raise ValueError(f"trace: expected a 2-D tensor (a matrix), got shape {x.shape}")
    if x.dtype.is_bool:
        raise TypeError("trace: not supported for bool tensors, as in PyTorch; convert with x.long() first")
    return sum(_diagonal_of(x))


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _along_dim(dtype: str, rng: np.random.Generator) -> list[Sample]:
    """Samples ``(x, dim)`` of an op along one dim (cumsum, softmax, log_softmax)."""

    def a(*s: int) -> np.ndarray:
        return rand_array(rng, s, dtype)

    return [
        Sample((a(3, 5), 1)),
        Sample((a(2, 3, 4), 0)),
        Sample((a(4, 3), -1), noncontig=True),
        Sample((a(3, 4), 0), noncontig="flip", grad=False),
        Sample((a(), 0), grad=False),
    ]


def _reduction_record(
    name: str,
    fn: Callable[..., Any],
    ref: Callable[..., Any],
    dtypes: tuple = FLOATS,
    *,
    kernel: str | None = None,
    grad: bool = True,
    call: Callable[..., Any] | None = None,
    errors: tuple = (),
    **kw: Any,
) -> OpRecord:
    """The record of a reduction over ``dim`` / ``keepdim`` (samples:
    :func:`~ember.ops.samples.reduction_samples` of ``kw``), its method named ``name``."""
    return OpRecord(
        name,
        fn,
        reduction_samples(**kw),
        ref,
        call=call,
        kernel=kernel,
        methods=(name,),
        dtypes=dtypes,
        grad=grad,
        errors=errors,
    )


def _pair(f: Callable[..., Any]) -> Callable[..., Any]:
    """A call returning two tensors (aminmax, var_mean) as one stacked tensor for the kit."""

    def call(*args: Any, **kw: Any) -> Any:
        from .joining import stack

        return stack(list(f(*args, **kw)))

    return call


def _records() -> None:
    from .records import register
    from .samples import NUMERIC, ErrorSample, np_kw

    def int_sum(x: np.ndarray, **kw: Any) -> np.ndarray:
        return np.sum(x, dtype=None if x.dtype.kind in "fc" else np.int64, **np_kw(kw))

    def values_of(f: Callable[..., Any]) -> Callable[..., Any]:
        # max(x, dim) / min(x, dim) return (values, indices); the record checks the values
        def call(x: Any, dim: Any = None, keepdim: bool = False) -> Any:
            return f(x) if dim is None else f(x, dim, keepdim).values

        return call

    register(
        _reduction_record(
            "sum",
            sum,
            int_sum,
            ("float32", "float64", "int32", "int64", "bool", "complex64", "complex128"),
            kernel="sum",
            errors=(
                ErrorSample(
                    (np.ones((3, 4)),),
                    {"dim": 2},
                    IndexError,
                    "sum: dimension 2 out of range for a tensor with 2 dim\\(s\\) \\(expected -2 \\.\\. 1\\)",
                ),
            ),
        ),
        _reduction_record(
            "mean",
            mean,
            lambda x, **k: np.mean(x, **np_kw(k)),
            ("float32", "float64", "complex64", "complex128"),
            allow_empty=False,
        ),
        _reduction_record(
            "prod",
            prod,
            lambda x, **k: np.prod(x, **np_kw(k)),
            ("float32", "float64", "complex64", "complex128"),
            kernel="prod",
            multi=False,
        ),
        _reduction_record("amax", amax, lambda x, **k: np.max(x, **np_kw(k)), NUMERIC, allow_empty=False),
        _reduction_record("amin", amin, lambda x, **k: np.min(x, **np_kw(k)), NUMERIC, allow_empty=False),
        _reduction_record(
            "max",
            max,
            lambda x, dim=None, keepdim=False: np.max(x, axis=dim, keepdims=keepdim),
            NUMERIC,
            kernel="max",
            call=values_of(max),
            multi=False,
            allow_empty=False,
        ),
        _reduction_record(
            "min",
            min,
            lambda x, dim=None, keepdim=False: np.min(x, axis=dim, keepdims=keepdim),
            NUMERIC,
            kernel="min",
            call=values_of(min),
            multi=False,
            allow_empty=False,
        ),
        _reduction_record(
            "argmax",
            argmax,
            lambda x, dim=None, keepdim=False: np.argmax(x, axis=dim, keepdims=keepdim),
            NUMERIC,
            kernel="argmax",
            grad=False,
            multi=False,
            allow_empty=False,
        ),
        _reduction_record(
            "argmin",
            argmin,
            lambda x, dim=None, keepdim=False: np.argmin(x, axis=dim, keepdims=keepdim),
            NUMERIC,
            kernel="argmin",
            grad=False,
            multi=False,
            allow_empty=False,
        ),
        _reduction_record(
            "norm",
            norm,
            lambda x, dim=None, keepdim=False: np.sqrt(np.sum(x * x, axis=dim, keepdims=keepdim)),
            call=lambda x, dim=None, keepdim=False: norm(x, 2, dim, keepdim),
        ),
        _reduction_record(
            "any",
            any,
            lambda x, **k: np.any(x, **np_kw(k)),
            ("bool", "float32", "int64"),
            kernel="any",
            grad=False,
        ),
        _reduction_record(
            "all", all, lambda x, **k: np.all(x, **np_kw(k)), ("bool", "float32", "int64"), grad=False
        ),
        OpRecord(
            "cumsum",
            cumsum,
            _along_dim,
            lambda x, dim: np.cumsum(x, axis=dim, dtype=None if x.dtype.kind == "f" else np.int64).reshape(
                x.shape
            ),
            kernel="cumsum",
            methods=("cumsum",),
            inplace=("cumsum_",),
            dtypes=NUMERIC,
            errors=(ErrorSample((np.ones((3, 4)), 3), {}, IndexError, "cumsum: dimension 3 out of range"),),
        ),
    )

    # -- NaN-aware reductions, counts, aminmax and trace -------------------------------------
    def with_nans(base: Any) -> Any:
        """``base``'s samples with a few NaNs in the floating inputs."""

        def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
            out = base(dtype, rng)
            if dtype.startswith("float"):
                for s in out:
                    a = s.args[0]
                    if a.size > 2:
                        a.reshape(-1)[::5] = np.nan
            return out

        return make

    def with_zeros(dtype: str, rng: np.random.Generator) -> list[Sample]:
        out = [s for s in reduction_samples(keepdim=False)(dtype, rng)]
        for s in out:
            a = s.args[0]
            if a.size > 2:
                a.reshape(-1)[::3] = 0
        return out

    def int_nansum(x: np.ndarray, **kw: Any) -> np.ndarray:
        return np.nansum(x, dtype=None if x.dtype.kind == "f" else np.int64, **np_kw(kw))

    def aminmax_ref(x: np.ndarray, dim: Any = None, keepdim: bool = False) -> np.ndarray:
        return np.stack([np.min(x, axis=dim, keepdims=keepdim), np.max(x, axis=dim, keepdims=keepdim)])

    def trace_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(4, 4),)),
            Sample((a(3, 5),)),
            Sample((a(5, 2),)),
            Sample((a(0, 3),), grad=False),
            Sample((a(4, 3),), noncontig=True),
            Sample((a(3, 3),), noncontig="flip", grad=False),
        ]

    register(
        OpRecord(
            "nansum",
            nansum,
            with_nans(reduction_samples()),
            int_nansum,
            methods=("nansum",),
            dtypes=("float32", "float64", "int32", "int64"),
        ),
        OpRecord(
            "nanmean",
            nanmean,
            with_nans(reduction_samples(allow_empty=False)),
            lambda x, **k: np.nanmean(x, **np_kw(k)),
            methods=("nanmean",),
            errors=(
                ErrorSample(
                    (np.array([1, 2]),), {}, TypeError, "nanmean: expected a floating tensor, got ember.int64"
                ),
            ),
        ),
        OpRecord(
            "count_nonzero",
            count_nonzero,
            with_zeros,
            lambda x, dim=None: np.asarray(np.count_nonzero(x, axis=dim), dtype=np.int64),
            methods=("count_nonzero",),
            dtypes=("float32", "int64", "bool"),
            grad=False,
        ),
        OpRecord(
            "aminmax",
            aminmax,
            reduction_samples(multi=False),
            aminmax_ref,
            call=_pair(aminmax),
            methods=("aminmax",),
            dtypes=NUMERIC,
            errors=(
                ErrorSample(
                    (np.ones((0,)),),
                    {},
                    ValueError,
                    "aminmax: cannot reduce an empty input \\(shape \\(0,\\)\\)",
                ),
                ErrorSample(
                    (np.ones((3, 4)),), {"dim": (0, 1)}, TypeError, "aminmax: dim must be an int or None"
                ),
            ),
        ),
        OpRecord(
            "trace",
            trace,
            trace_samples,
            lambda x: np.asarray(np.trace(x), dtype=x.dtype if x.dtype.kind == "f" else np.int64),
            methods=("trace",),
            dtypes=NUMERIC,
            errors=(
                ErrorSample(
                    (np.ones(3),),
                    {},
                    ValueError,
                    "trace: expected a 2-D tensor \\(a matrix\\), got shape \\(3,\\)",
                ),
            ),
        ),
    )


_records()
