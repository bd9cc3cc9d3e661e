"""Reductions: sum, mean, prod, max/min (values and indices), argmax/argmin, var/std, logsumexp,
all/any, cumsum, norm, and softmax/log_softmax (composites a backend may fuse)."""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable
from typing import Any, NamedTuple

from .. import dtypes as _dt
from ..dtypes import DType
from ._core import STATE, Tensor, _make, attach, cast_data, kernel, normalize_dims, saved_output, wrap_dim


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


def logsumexp(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim`` (all dims when None or empty), computed stably; -inf over an
    empty dim."""
    from .elementwise import exp, isinf, log, where

    if x.dtype._kind < 2:  # integers and bools: in the default float dtype, as PyTorch
        x = x.to(_dt.get_default_dtype())
    dims = normalize_dims(_all_if_empty(dim), x.ndim, "logsumexp")
    if x.ndim == 0:  # dim 0 / -1 of a 0-d tensor names the tensor itself: log(exp(x)) is x
        return x.clone()
    if builtins.any(x.shape[d] == 0 for d in dims):  # an empty sum: log(0) = -inf, as in PyTorch
        out = log(sum(exp(x), dims, keepdim=True))
        return out if keepdim else out.squeeze(dims)
    # complex x: the largest real part is the shift (|exp(z)| = exp(Re z)), as in PyTorch
    from .complex import real

    m = amax(real(x), dims, keepdim=True).detach()
    m = where(isinf(m), 0.0, m)
    out = log(sum(exp(x - m), dims, keepdim=True)) + m
    return out if keepdim else out.squeeze(dims) if dims else out


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


def _fused_along_dim(op: str, x: Tensor, d: int, grad: Any) -> Tensor | None:
    """``op`` through the backend's optional fused kernel, if it has one, with ``grad(g, out)``
    as the backward; None when the device has no such kernel (the caller composes it)."""
    k = x.device.kernels.get(op)
    if k is None or not x.dtype.is_floating_point:
        return None
    out = _make(k(x._data, d), x.shape, x.dtype, x.device)
    if x.requires_grad and STATE.enabled:
        o = saved_output(out)
        attach(out, op, lambda g: (grad(g, o),), (x,), (o,), out_alias=o)
    return out


def softmax(x: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, stable (the max is subtracted first)."""
    from .elementwise import exp

    if dtype is not None:
        x = x.to(dtype)
    _refuse_complex("softmax", x)
    d = wrap_dim(dim, x.ndim, "softmax")
    if not x.numel():  # nothing to normalise (a fused kernel may not take an empty reduction)
        return exp(x)
    out = _fused_along_dim("softmax", x, d, lambda g, o: o * (g - sum(g * o, d, keepdim=True)))
    if out is not None:
        return out
    e = exp(x - amax(x, d, keepdim=True).detach())
    return e / sum(e, d, keepdim=True)


def log_softmax(x: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along ``dim``, stable."""
    from .elementwise import exp

    if dtype is not None:
        x = x.to(dtype)
    _refuse_complex("log_softmax", x)
    d = wrap_dim(dim, x.ndim, "log_softmax")
    if not x.numel():
        return x * 1.0
    out = _fused_along_dim("log_softmax", x, d, lambda g, o: g - exp(o) * sum(g, d, keepdim=True))
    if out is not None:
        return out
    return x - logsumexp(x, d, keepdim=True)


# ----------------------------------------------------------------------------------------------
# NaN-aware reductions, counts, statistics (composites)
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
    from .samples import FLOATS, NUMERIC, ErrorSample, Sample, np_kw, rand_array, reduction_samples

    def int_sum(x: np.ndarray, **kw: Any) -> np.ndarray:
        return np.sum(x, dtype=None if x.dtype.kind in "fc" else np.int64, **np_kw(kw))

    def values_of(f: Callable[..., Any]) -> Callable[..., Any]:
        # max(x, dim) / min(x, dim) return (values, indices); the record checks the values
        def call(x: Any, dim: Any = None, keepdim: bool = False) -> Any:
            return f(x) if dim is None else f(x, dim, keepdim).values

        return call

    def logsumexp_ref(x: np.ndarray, dim: Any = None, keepdim: bool = False) -> np.ndarray:
        m = np.max(x, axis=dim, keepdims=True) if x.size else 0
        r = np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True)) + m
        return r if keepdim else np.squeeze(r, axis=dim) if dim is not None else r.reshape(())

    def softmax_ref(x: np.ndarray, dim: int) -> np.ndarray:
        e = np.exp(x - x.max(axis=dim, keepdims=True))
        return e / e.sum(axis=dim, keepdims=True)

    def along_dim(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(3, 5), 1)),
            Sample((a(2, 3, 4), 0)),
            Sample((a(4, 3), -1), noncontig=True),
            Sample((a(3, 4), 0), noncontig="flip", grad=False),
            Sample((a(), 0), grad=False),
        ]

    def r(
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

    register(
        r(
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
        r(
            "mean",
            mean,
            lambda x, **k: np.mean(x, **np_kw(k)),
            ("float32", "float64", "complex64", "complex128"),
            allow_empty=False,
        ),
        r(
            "prod",
            prod,
            lambda x, **k: np.prod(x, **np_kw(k)),
            ("float32", "float64", "complex64", "complex128"),
            kernel="prod",
            multi=False,
        ),
        r("amax", amax, lambda x, **k: np.max(x, **np_kw(k)), NUMERIC, allow_empty=False),
        r("amin", amin, lambda x, **k: np.min(x, **np_kw(k)), NUMERIC, allow_empty=False),
        r(
            "max",
            max,
            lambda x, dim=None, keepdim=False: np.max(x, axis=dim, keepdims=keepdim),
            NUMERIC,
            kernel="max",
            call=values_of(max),
            multi=False,
            allow_empty=False,
        ),
        r(
            "min",
            min,
            lambda x, dim=None, keepdim=False: np.min(x, axis=dim, keepdims=keepdim),
            NUMERIC,
            kernel="min",
            call=values_of(min),
            multi=False,
            allow_empty=False,
        ),
        r(
            "argmax",
            argmax,
            lambda x, dim=None, keepdim=False: np.argmax(x, axis=dim, keepdims=keepdim),
            NUMERIC,
            kernel="argmax",
            grad=False,
            multi=False,
            allow_empty=False,
        ),
        r(
            "argmin",
            argmin,
            lambda x, dim=None, keepdim=False: np.argmin(x, axis=dim, keepdims=keepdim),
            NUMERIC,
            kernel="argmin",
            grad=False,
            multi=False,
            allow_empty=False,
        ),
        r("var", var, lambda x, **k: np.var(x, ddof=1, **np_kw(k)), allow_empty=False),
        r("std", std, lambda x, **k: np.std(x, ddof=1, **np_kw(k)), allow_empty=False),
        r("logsumexp", logsumexp, logsumexp_ref, allow_empty=False),
        r(
            "norm",
            norm,
            lambda x, dim=None, keepdim=False: np.sqrt(np.sum(x * x, axis=dim, keepdims=keepdim)),
            call=lambda x, dim=None, keepdim=False: norm(x, 2, dim, keepdim),
        ),
        r(
            "any",
            any,
            lambda x, **k: np.any(x, **np_kw(k)),
            ("bool", "float32", "int64"),
            kernel="any",
            grad=False,
        ),
        r("all", all, lambda x, **k: np.all(x, **np_kw(k)), ("bool", "float32", "int64"), grad=False),
        OpRecord(
            "cumsum",
            cumsum,
            along_dim,
            lambda x, dim: np.cumsum(x, axis=dim, dtype=None if x.dtype.kind == "f" else np.int64).reshape(
                x.shape
            ),
            kernel="cumsum",
            methods=("cumsum",),
            inplace=("cumsum_",),
            dtypes=NUMERIC,
            errors=(ErrorSample((np.ones((3, 4)), 3), {}, IndexError, "cumsum: dimension 3 out of range"),),
        ),
        OpRecord(
            "softmax",
            softmax,
            along_dim,
            softmax_ref,
            kernel="softmax",
            methods=("softmax",),
            errors=(
                ErrorSample((np.ones((3, 4)), -3), {}, IndexError, "softmax: dimension -3 out of range"),
            ),
        ),
        OpRecord(
            "log_softmax",
            log_softmax,
            along_dim,
            lambda x, dim: np.log(softmax_ref(x, dim)),
            kernel="log_softmax",
            methods=("log_softmax",),
        ),
    )

    # -- NaN-aware reductions, counts and statistics ------------------------------------------
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

    def pair(f: Callable[..., Any]) -> Callable[..., Any]:
        """A call returning two tensors (aminmax, var_mean) as one stacked tensor for the kit."""

        def call(*args: Any, **kw: Any) -> Any:
            from .joining import stack

            return stack(list(f(*args, **kw)))

        return call

    def aminmax_ref(x: np.ndarray, dim: Any = None, keepdim: bool = False) -> np.ndarray:
        return np.stack([np.min(x, axis=dim, keepdims=keepdim), np.max(x, axis=dim, keepdims=keepdim)])

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
            call=pair(aminmax),
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
            "var_mean",
            var_mean,
            reduction_samples(allow_empty=False),
            stat_mean_ref(np.var),
            call=pair(var_mean),
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
            call=pair(std_mean),
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
