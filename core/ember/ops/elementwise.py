"""Elementwise ops: arithmetic, comparisons, logic, activations and ``where``.

Each op's forward and backward sit side by side. Primitive ops call their kernel; composite ops
use the backend's kernel when it has one (with the backward written here) and otherwise their
definition in terms of other ops (whose backwards then compose). The math functions composed from
these ops (``atan``, ``lgamma``, ``erfinv``, ...) are in :mod:`ember.ops.math_functions`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..autograd.graph import needs_input_grad
from ..dispatch import resolve_missing
from ..dtypes import _PROMOTE, DType
from ..layout import broadcast_shapes
from ._core import (
    STATE,
    Tensor,
    _make,
    attach,
    cast_data,
    has_data,
    kernel,
    same_device,
    saved_output,
    sum_to,
)
from .records import OpRecord
from .samples import FLOATS, NUMERIC, Sample, binary_samples, unary_samples

_Scalar = (int, float, bool, complex)


# ----------------------------------------------------------------------------------------------
# binary ops
# ----------------------------------------------------------------------------------------------
def _promote(a: Tensor, b: Tensor) -> DType:
    da, db = a.dtype, b.dtype
    if da is db:
        return da
    # PyTorch: a 0-d tensor does not widen a dimensioned one of the same or higher category
    if (not a.shape) != (not b.shape):
        zero, full = (a, b) if not a.shape else (b, a)
        if zero.dtype._kind <= full.dtype._kind:
            return full.dtype
        if zero.dtype.is_complex and full.dtype.is_floating_point:
            return full.dtype.to_complex()  # float32 with a 0-d complex128: complex64
    return _PROMOTE[da, db]


def _scalar_for(dt: DType, s: Any) -> Any:
    if dt.is_floating_point:
        return float(s)
    if dt.is_complex:
        return complex(s)
    if dt.is_bool:
        return bool(s)
    v = int(s)
    bits = 8 * dt.itemsize
    lo = -(1 << (bits - 1)) if dt.is_signed else 0
    if lo <= v < lo + (1 << bits):
        return v
    # out of the dtype's range: wrap around, as integer tensors do in C
    v &= (1 << bits) - 1
    return v - (1 << bits) if dt.is_signed and v >= 1 << (bits - 1) else v


def _prepare(op: str, a: Any, b: Any) -> tuple[Any, Any, DType, tuple[int, ...], Any]:
    """Promote and broadcast two operands (at least one a Tensor); return buffers/scalars."""
    ta = type(a) is Tensor or isinstance(a, Tensor)
    tb = type(b) is Tensor or isinstance(b, Tensor)
    if ta and tb:
        dev = a.device
        if b.device is not dev:
            same_device(op, a, b)
        dt = _promote(a, b)
        shape = a.shape if a.shape == b.shape else _broadcast(op, a.shape, b.shape)
        return cast_data(a, dt), cast_data(b, dt), dt, shape, dev
    if ta:
        if not isinstance(b, _Scalar):
            b = _scalar_or_raise(op, b)
        dt = _dt.result_type_scalar(a.dtype, b)
        return cast_data(a, dt), _scalar_for(dt, b), dt, a.shape, a.device
    if not isinstance(a, _Scalar):
        a = _scalar_or_raise(op, a)
    dt = _dt.result_type_scalar(b.dtype, a)
    return _scalar_for(dt, a), cast_data(b, dt), dt, b.shape, b.device


def _scalar_or_raise(op: str, v: Any) -> Any:
    import numpy as np

    if isinstance(v, np.generic) and v.shape == ():
        return v.item()
    raise TypeError(
        f"{op}: unsupported operand of type {type(v).__name__}; expected an ember.Tensor or a "
        "Python number (convert arrays with ember.tensor(...))"
    )


def _broadcast(op: str, sa: tuple[int, ...], sb: tuple[int, ...]) -> tuple[int, ...]:
    try:
        return broadcast_shapes(sa, sb)
    except ValueError as exc:
        raise ValueError(f"{op}: {exc}") from None


BinaryGrad = Callable[[Tensor, Any, Any, Tensor], tuple[Any, Any]]


def _saves_both(a: Any, b: Any, out: Tensor) -> tuple:
    return tuple(t for t in (a, b) if isinstance(t, Tensor))


def _saves_none(a: Any, b: Any, out: Tensor) -> tuple:
    return ()


def _saves_other(a: Any, b: Any, out: Tensor) -> tuple:
    # d(a*b)/da needs b and d(a*b)/db needs a
    return tuple(
        t for t, other in ((b, a), (a, b)) if isinstance(t, Tensor) and getattr(other, "requires_grad", False)
    )


def _binary(
    op: str,
    a: Any,
    b: Any,
    grad: BinaryGrad | None,
    out_dtype: DType | None = None,
    float_result: bool = False,
    saves: Callable[[Any, Any, Tensor], tuple] = _saves_both,
    needs_out: bool = False,
) -> Tensor:
    # fast path: two tensors of one dtype on one device (the common case in a training loop)
    if (
        type(a) is Tensor
        and type(b) is Tensor
        and a.dtype is b.dtype
        and a.device is b.device
        and (not float_result or a.dtype._kind >= 2)
    ):
        dev = a.device
        dt = a.dtype
        shape = a.shape if a.shape == b.shape else _broadcast(op, a.shape, b.shape)
        xa = a._data
        xb = b._data
    else:
        xa, xb, dt, shape, dev = _prepare(op, a, b)
        if float_result and dt._kind < 2:  # integers and bools; floating and complex stay
            dt = _dt.get_default_dtype()
            # a scalar converts from its own value, not from the integer dtype it was wrapped into
            xa = cast_data(a, dt) if isinstance(a, Tensor) else float(a)
            xb = cast_data(b, dt) if isinstance(b, Tensor) else float(b)
    k = dev.kernels.get(op)
    if k is None:
        k = resolve_missing(op, dev)
    out = _make(k(xa, xb), shape, out_dtype or dt, dev)
    # requires_grad first: grad mode is thread-local, slower to read than a tensor's own flag
    if (
        grad is not None
        and (getattr(a, "requires_grad", False) or getattr(b, "requires_grad", False))
        and STATE.enabled
    ):
        # the closure holds an alias of the output, not the output itself: no reference cycle
        o = saved_output(out) if needs_out else None
        shapes = (_shape(a), _shape(b))  # as recorded: an in-place squeeze_ may change them later
        attach(out, op, lambda g: _fit(grad(g, a, b, o), shapes), (a, b), saves(a, b, out), out_alias=o)
    return out


#: ``_rg(i)``: whether the backward formula running now must compute the gradient of its op's
#: input ``i`` (the binary ops: 0 is a, 1 is b), as recorded: False for a number, or a tensor that
#: did not require grad when the op ran; True for one that did, even if ``detach_()``-ed since.
#: (A formula returns each gradient in the output's shape; the op's recording reduces it to the
#: input's shape as recorded, see :func:`_fit`.)
_rg = needs_input_grad


def _shape(t: Any) -> tuple[int, ...] | None:
    """An operand's shape (None for a Python number), read when the op is recorded."""
    return t.shape if isinstance(t, Tensor) else None


def _fit(grads: Any, shapes: tuple) -> tuple:
    """Each operand's gradient summed back to the operand's shape as recorded (a broadcast
    operand's gradient has the output's shape): not its shape at backward time, which an
    in-place ``squeeze_``/``unsqueeze_`` may have changed since."""
    if len(grads) == 2:  # the binary ops, spelled out: a generator costs more than the checks
        (ga, gb), (sa, sb) = grads, shapes
        return (
            ga if ga is None or sa is None or ga.shape == sa else sum_to(ga, sa),
            gb if gb is None or sb is None or gb.shape == sb else sum_to(gb, sb),
        )
    return tuple(gi if gi is None or s is None else sum_to(gi, s) for gi, s in zip(grads, shapes))


def _c(v: Any) -> Any:
    """The complex conjugate of a tensor or number (``v`` itself when real): the backward of a
    holomorphic op sends ``g * conj(f'(z))`` (PyTorch's convention, see ``ember.ops.complex``)."""
    if isinstance(v, Tensor):
        if v.dtype._kind == 3:
            from .complex import conj

            return conj(v)
        return v
    return v.conjugate() if isinstance(v, complex) else v


def refuse_complex(op: str, *values: Any, missing: bool = False) -> None:
    """TypeError for an op PyTorch does not define on complex numbers (orderings, rounding,
    integer-style division ...), naming the op and the dtype; ``missing``: PyTorch defines it,
    Ember does not yet (the message says so)."""
    for v in values:
        if isinstance(v, complex) or (isinstance(v, Tensor) and v.dtype._kind == 3):
            what = v.dtype if isinstance(v, Tensor) else f"the Python complex {v!r}"
            if missing:
                raise TypeError(
                    f"{op}: not implemented for complex inputs ({what}) in Ember yet (PyTorch has it); "
                    "compose it from the ops that take complex tensors (exp, log, sqrt, sin, cos, "
                    "tanh, arithmetic), or apply it to x.real and x.imag"
                )
            raise TypeError(
                f"{op}: not supported for complex inputs ({what}), as in PyTorch; apply it to the real "
                "parts (x.real), the imaginary parts (x.imag) or the magnitudes (x.abs())"
            )


# backward formulas of the arithmetic ops, beside their forwards (module-level: no closure per call)
def _add_grad(g: Tensor, a: Any, b: Any, o: Any) -> tuple[Any, Any]:
    return (g if _rg(0) else None), (g if _rg(1) else None)


def _sub_grad(g: Tensor, a: Any, b: Any, o: Any) -> tuple[Any, Any]:
    return (g if _rg(0) else None), (neg(g) if _rg(1) else None)


def _mul_grad(g: Tensor, a: Any, b: Any, o: Any) -> tuple[Any, Any]:
    return (g * _c(b) if _rg(0) else None), (g * _c(a) if _rg(1) else None)


def _div_grad(g: Tensor, a: Any, b: Any, o: Tensor) -> tuple[Any, Any]:
    return (g / _c(b) if _rg(0) else None), (neg(g) * _c(o / b) if _rg(1) else None)


def _operands_dtype(a: Any, b: Any) -> DType:
    """The dtype a binary op on ``a`` and ``b`` (tensors or Python scalars) computes in."""
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        return _promote(a, b)
    if ta:
        return _dt.result_type_scalar(a.dtype, b)
    if tb:
        return _dt.result_type_scalar(b.dtype, a)
    return _dt.result_type(a, b)


def _scale_by_alpha(op: str, a: Any, b: Any, alpha: Any) -> Any:
    """``alpha * b`` for add/sub, with PyTorch's rules: a float alpha needs a floating result, a
    bool alpha a bool result; for bool results alpha counts as its truth value."""
    dt = _operands_dtype(a, b)
    if isinstance(alpha, bool) and not dt.is_bool:
        raise TypeError(f"{op}: a bool alpha ({alpha}) is only supported for bool results, got {dt}")
    if isinstance(alpha, float) and dt._kind < 2:
        raise TypeError(
            f"{op}: for integer or bool inputs ({dt}) alpha must be an integer, got {alpha!r}; "
            "convert the inputs with .float() for a fractional alpha"
        )
    if dt.is_bool:
        alpha = bool(alpha)
    if isinstance(b, Tensor):
        scaled = mul(b, alpha)
        # a bool b times an int alpha is int64: keep the dtype the op computes in (int8 + bool -> int8)
        return scaled.to(dt) if scaled.dtype is not dt and b.dtype.is_bool else scaled
    return b * alpha if not isinstance(b, bool) else (b and alpha)


def add(a: Any, b: Any, alpha: Any = 1) -> Tensor:
    """``a + alpha * b`` with broadcasting and type promotion (integer results need an integer
    ``alpha``, as in PyTorch)."""
    if alpha != 1 or isinstance(alpha, bool):
        b = _scale_by_alpha("add", a, b, alpha)
    return _binary("add", a, b, _add_grad, None, False, _saves_none)


def sub(a: Any, b: Any, alpha: Any = 1) -> Tensor:
    """``a - alpha * b`` (integer results need an integer ``alpha``)."""
    if any(getattr(v, "dtype", None) is _dt.bool_ or isinstance(v, bool) for v in (a, b)):
        raise TypeError(
            "sub: subtraction with a bool tensor is not supported; use logical_xor() or ^ for two "
            "bool tensors, or convert with .int() / .float() first"
        )
    if alpha != 1 or isinstance(alpha, bool):
        b = _scale_by_alpha("sub", a, b, alpha)
    return _binary("sub", a, b, _sub_grad, None, False, _saves_none)


def mul(a: Any, b: Any) -> Tensor:
    """``a * b``."""
    return _binary("mul", a, b, _mul_grad, None, False, _saves_other)


def div(a: Any, b: Any, rounding_mode: str | None = None) -> Tensor:
    """True division ``a / b`` (integers divide as floats); ``rounding_mode`` "floor" or "trunc"."""
    if rounding_mode == "floor":
        return floor_divide(a, b)
    if rounding_mode == "trunc":
        q = floor_divide(a, b)
        if q.dtype.is_floating_point:
            return trunc(div(a, b))
        # integers, exactly: floor rounds a negative inexact quotient one below trunc
        r = remainder(a, b)
        # an operand's sign is that of its value cast (a scalar: wrapped) into q's dtype, as
        # floor_divide used it: a 0-d int8 -3 divides a uint8 tensor as 253
        sa = lt(a.to(q.dtype), 0) if isinstance(a, Tensor) else _scalar_for(q.dtype, a) < 0
        sb = lt(b.to(q.dtype), 0) if isinstance(b, Tensor) else _scalar_for(q.dtype, b) < 0
        neg_q = ne(sa, sb) if isinstance(sa, Tensor) else ne(sb, sa)
        return q + logical_and(ne(r, 0), neg_q).to(q.dtype)
    if rounding_mode is not None:
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
    return _binary("div", a, b, _div_grad, None, True, _saves_both, True)


def _pow_grad(g: Tensor, a: Any, b: Any, o: Tensor) -> tuple[Any, Any]:
    # PyTorch's formulas: no gradient to the base where the exponent is 0 (0 * 0**-1 would be nan),
    # and none to the exponent where the base is 0 and the exponent >= 0 (o * log(0) would be nan)
    ga = gb = None
    # (complex operands: the derivatives conjugated, and "b >= 0" read as "b real and >= 0")
    if _rg(0):
        if isinstance(b, Tensor):
            ga = where(eq(b, 0), 0.0, g * _c(b * pow(a, b - 1)))
        else:
            ga = g * _c(b * pow(a, b - 1)) if b != 0 else zeros_like_(a)
    if _rg(1):
        if b.dtype._kind == 3:
            from .complex import imag, real

            b_nonneg = logical_and(eq(imag(b), 0), ge(real(b), 0))
        else:
            b_nonneg = ge(b, 0)
        if isinstance(a, Tensor):
            dlog = where(logical_and(eq(a, 0), b_nonneg), 0.0, _c(o * log(a)))
        elif a == 0:
            dlog = where(b_nonneg, 0.0, _c(o) * -math.inf)
        elif isinstance(a, complex) or a < 0:
            dlog = _c(o * cmath_log(a)) if isinstance(a, complex) or b.dtype._kind == 3 else o * math.nan
        else:
            dlog = _c(o) * math.log(a)
        gb = g * dlog
    return ga, gb


def cmath_log(v: Any) -> complex:
    """The principal complex logarithm of a Python number."""
    import cmath

    return cmath.log(v)


def pow(a: Any, b: Any) -> Tensor:
    """``a ** b``. Integer tensors to negative integer powers are refused, as in PyTorch."""
    if isinstance(a, Tensor) and a.dtype._kind < 2 and isinstance(b, int) and b < 0:
        raise ValueError(
            f"pow: integer tensor ({a.dtype}) to the negative integer power {b}; use a "
            "float tensor (x.float() ** b)"
        )
    if all(isinstance(v, bool) or (isinstance(v, Tensor) and v.dtype.is_bool) for v in (a, b)):
        return _bool_pow(a, b)
    if (
        isinstance(b, Tensor)
        and b.dtype._kind < 2
        and not (isinstance(a, (float, complex)) or (isinstance(a, Tensor) and a.dtype._kind >= 2))
    ):
        if (
            b.numel() and has_data(b) and not b.dtype.is_bool and int(b.min().item()) < 0
        ):  # a sync, integer powers only
            raise ValueError(
                f"pow: integers to negative integer powers are not supported (exponent tensor of {b.dtype} "
                "holds negative values); use a float base or exponent"
            )
    return _binary("pow", a, b, _pow_grad, needs_out=True)


def _bool_pow(a: Any, b: Any) -> Tensor:
    """``a ** b`` with bool operands only, as PyTorch defines it: a bool tensor to a Python bool
    power is bool (``x ** True`` is x, ``x ** False`` all True); a bool exponent tensor is refused.
    (No kernel sees a bool pow: numpy's would compute in int8.)"""
    if isinstance(a, Tensor) and not isinstance(b, Tensor):
        if b:
            return a.clone()
        ones = kernel(a.device, "full")(a.shape, True, _dt.bool_, a.device.index)
        return _make(ones, a.shape, _dt.bool_, a.device)
    raise TypeError(
        "pow: a bool exponent tensor with a bool base is not supported, as in PyTorch (only a bool "
        "tensor to a Python bool power is); convert with .long() or .float() first"
    )


def _minmax_grad(is_max: bool) -> BinaryGrad:
    # PyTorch: ties split the gradient evenly, the losing side gets none, and where a NaN makes
    # every comparison false both sides get the whole gradient
    def grad(g: Tensor, a: Any, b: Any, o: Tensor) -> tuple[Any, Any]:
        half = eq(a, b).to(g.dtype) * 0.5
        ga = gb = None
        if _rg(0):
            a_loses = (lt(a, b) if is_max else gt(a, b)).to(g.dtype)
            ga = g * (1 - a_loses - half)
        if _rg(1):
            b_loses = (gt(a, b) if is_max else lt(a, b)).to(g.dtype)
            gb = g * (1 - b_loses - half)
        return ga, gb

    return grad


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum (NaN propagates); ties split the gradient evenly."""
    refuse_complex("maximum", a, b)
    return _binary("maximum", a, b, _minmax_grad(True))


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum (NaN propagates); ties split the gradient evenly."""
    refuse_complex("minimum", a, b)
    return _binary("minimum", a, b, _minmax_grad(False))


def _int_or_bool(op: str, *xs: Any) -> None:
    for x in xs:
        dt = x.dtype if isinstance(x, Tensor) else None
        if (dt is not None and dt._kind >= 2) or isinstance(x, (float, complex)):
            raise TypeError(
                f"{op}: expected integer or bool operands, got {dt if dt is not None else 'a float'}"
            )


def bitwise_and(a: Any, b: Any) -> Tensor:
    """Bitwise (bool: logical) and of integer or bool tensors."""
    _int_or_bool("bitwise_and", a, b)
    return _binary("bitwise_and", a, b, None)


def bitwise_or(a: Any, b: Any) -> Tensor:
    """Bitwise (bool: logical) or."""
    _int_or_bool("bitwise_or", a, b)
    return _binary("bitwise_or", a, b, None)


def bitwise_xor(a: Any, b: Any) -> Tensor:
    """Bitwise (bool: logical) exclusive or."""
    _int_or_bool("bitwise_xor", a, b)
    return _binary("bitwise_xor", a, b, None)


def bitwise_not(x: Tensor) -> Tensor:
    """Bitwise not of an integer tensor; logical not of a bool one."""
    _int_or_bool("bitwise_not", x)
    if x.dtype.is_bool:
        return logical_not(x)
    return bitwise_xor(x, -1 if x.dtype.is_signed else (1 << (8 * x.dtype.itemsize)) - 1)


def _shift_args(op: str, a: Any, b: Any) -> tuple[Tensor, Any, DType, int]:
    """The operands of a shift in their common integer dtype (``a`` as a tensor, ``b`` a tensor or
    a Python int), that dtype and its width in bits; floats and bool results are refused, as in
    PyTorch."""
    a, b = (v if isinstance(v, (Tensor, int, float)) else _scalar_or_raise(op, v) for v in (a, b))
    for v in (a, b):
        if isinstance(v, float) or (isinstance(v, Tensor) and v.dtype.is_floating_point):
            got = v.dtype if isinstance(v, Tensor) else f"the float {v!r}"
            raise TypeError(
                f"{op}: expected integer operands, got {got}; shifts are defined for integer "
                "tensors only (convert with .long(), or multiply by 2 ** n for floats)"
            )
    dt = _operands_dtype(a, b)
    if dt.is_bool:
        raise TypeError(f"{op}: not supported for bool operands, as in PyTorch; convert with .long() first")
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        same_device(op, a, b)
        _broadcast(op, a.shape, b.shape)
    if not isinstance(a, Tensor):
        dev = b.device
        a = _make(kernel(dev, "full")(b.shape, _scalar_for(dt, a), dt, dev.index), b.shape, dt, dev)
    elif a.dtype is not dt:
        a = a.to(dt)
    if isinstance(b, Tensor):
        b = b.to(dt) if b.dtype is not dt else b
    else:
        b = _scalar_for(dt, b)  # as a tensor of dt would hold it (-1 in uint8 is 255)
    return a, b, dt, 8 * dt.itemsize


def _by_powers_of_two(x: Tensor, shift: Any, bits: int, step: Callable[[Tensor, int], Tensor]) -> Tensor:
    """``step`` applied to x with 2**1, 2**2, 2**4 ... for each set bit of ``shift`` (0 <= shift < bits):
    multiplying (or floor dividing) by 2**shift in factors that fit the dtype, with the primitives
    every backend has. A tensor ``shift`` selects per element with ``where``."""
    for i in range(bits.bit_length() - 1):
        if isinstance(shift, Tensor):
            x = where(ne(bitwise_and(shift, 1 << i), 0), step(x, 1 << (1 << i)), x)
        elif shift >> i & 1:
            x = step(x, 1 << (1 << i))
    return x


def bitwise_left_shift(a: Any, b: Any) -> Tensor:
    """``a << b`` for integer tensors (or a Python int on either side), as in PyTorch: bits shifted
    past the dtype's width are lost, and a shift by a negative amount or by the width or more
    gives 0."""
    a, b, dt, bits = _shift_args("bitwise_left_shift", a, b)
    if not isinstance(b, Tensor):
        if not 0 <= b < bits:
            return zeros_like_(a)
        return _binary("mul", a, _scalar_for(dt, 1 << b), None) if b else a.clone()
    # products wrap around in the dtype, as the bits shifted out are lost
    out = _by_powers_of_two(a, b, bits, lambda x, f: _binary("mul", x, f, None))
    return where(logical_or(lt(b, 0), ge(b, bits)), 0, out)


def bitwise_right_shift(a: Any, b: Any) -> Tensor:
    """``a >> b`` for integer tensors (or a Python int on either side), as in PyTorch: an
    arithmetic shift (signed values keep their sign: ``-5 >> 1 == -3``); a shift by a negative
    amount or by the width or more gives the sign (0 or -1; 0 for unsigned dtypes)."""
    a, b, dt, bits = _shift_args("bitwise_right_shift", a, b)

    def floor_div(x: Tensor, f: int) -> Tensor:
        return _binary("floor_divide", x, f, None)  # rounding to -inf is the arithmetic shift

    if not isinstance(b, Tensor):
        if not 0 <= b < bits:
            return lt(a, 0).to(dt) * -1 if dt.is_signed else zeros_like_(a)
        return _by_powers_of_two(a, b, bits, floor_div) if b else a.clone()
    out_of_range = logical_or(lt(b, 0), ge(b, bits))
    if dt.is_signed:
        # a >> (bits - 1) is the sign fill: every shift out of range shifts by bits - 1
        return _by_powers_of_two(a, where(out_of_range, bits - 1, b), bits, floor_div)
    return where(out_of_range, 0, _by_powers_of_two(a, b, bits, floor_div))


def eq(a: Any, b: Any) -> Tensor:
    """``a == b`` as a bool tensor."""
    return _binary("eq", a, b, None, _dt.bool_)


def lt(a: Any, b: Any) -> Tensor:
    """``a < b`` as a bool tensor."""
    refuse_complex("lt", a, b)
    return _binary("lt", a, b, None, _dt.bool_)


def le(a: Any, b: Any) -> Tensor:
    """``a <= b`` as a bool tensor."""
    refuse_complex("le", a, b)
    return _binary("le", a, b, None, _dt.bool_)


def gt(a: Any, b: Any) -> Tensor:
    """``a > b`` as a bool tensor."""
    return lt(b, a)


def ge(a: Any, b: Any) -> Tensor:
    """``a >= b`` as a bool tensor."""
    return le(b, a)


def ne(a: Any, b: Any) -> Tensor:
    """``a != b`` as a bool tensor."""
    dev = (a if isinstance(a, Tensor) else b).device
    if "ne" in dev.kernels:
        return _binary("ne", a, b, None, _dt.bool_)
    return logical_not(eq(a, b))


def _as_bool(x: Any) -> Any:
    if isinstance(x, Tensor):
        return x if x.dtype.is_bool else ne(x, 0)
    return bool(x)


def logical_not(x: Tensor) -> Tensor:
    """Elementwise not, as bool."""
    return eq(_as_bool(x), False)


def logical_and(a: Any, b: Any) -> Tensor:
    """Elementwise and of truth values, as bool."""
    return _binary("bitwise_and", _as_bool(a), _as_bool(b), None)


def logical_or(a: Any, b: Any) -> Tensor:
    """Elementwise or of truth values, as bool."""
    return _binary("bitwise_or", _as_bool(a), _as_bool(b), None)


def logical_xor(a: Any, b: Any) -> Tensor:
    """Elementwise exclusive or of truth values, as bool."""
    return _binary("bitwise_xor", _as_bool(a), _as_bool(b), None)


def _check_int_divisor(op: str, a: Any, b: Any) -> None:
    """Integer division by zero has no result: raise, as PyTorch does (float division gives inf)."""
    if isinstance(b, Tensor):
        if b.dtype.is_floating_point or (isinstance(a, Tensor) and a.dtype.is_floating_point):
            return
        if not has_data(b):
            return
        if isinstance(a, float) or not bool(eq(b, 0).any()):
            return
    elif isinstance(b, float) or b != 0 or (isinstance(a, Tensor) and a.dtype.is_floating_point):
        return
    raise ZeroDivisionError(
        f"{op}: integer division by zero (the divisor has a zero element); use float tensors "
        "(x.float()) for IEEE inf/nan results"
    )


def _no_bool_division(op: str, a: Any, b: Any) -> None:
    """Floor division and remainder of bools only are refused, as in PyTorch (numpy's kernels
    would compute them in int8, under a bool result)."""
    if all(isinstance(v, bool) or (isinstance(v, Tensor) and v.dtype.is_bool) for v in (a, b)):
        raise TypeError(f"{op}: not supported for bool operands, as in PyTorch; convert with .long() first")


def floor_divide(a: Any, b: Any) -> Tensor:
    """``a // b``, rounding toward negative infinity (integer division for integer inputs)."""
    refuse_complex("floor_divide", a, b)
    _no_bool_division("floor_divide", a, b)
    _check_int_divisor("floor_divide", a, b)
    return _binary("floor_divide", a, b, None)


def _remainder_grad(g: Tensor, a: Any, b: Any, o: Any) -> tuple[Any, Any]:
    return (g if _rg(0) else None), (neg(g) * floor_divide(a, b) if _rg(1) else None)


def remainder(a: Any, b: Any) -> Tensor:
    """Python-style modulus: the result has the sign of ``b``."""
    refuse_complex("remainder", a, b)
    _no_bool_division("remainder", a, b)
    _check_int_divisor("remainder", a, b)
    return _binary("remainder", a, b, _remainder_grad)


# ----------------------------------------------------------------------------------------------
# unary ops
# ----------------------------------------------------------------------------------------------
UnaryGrad = Callable[[Tensor, Tensor, Tensor], Any]


def _unary(
    op: str,
    x: Tensor,
    grad: UnaryGrad | None,
    saves: str = "x",
    float_op: bool = True,
    composite: Callable[[Tensor], Tensor] | None = None,
) -> Tensor:
    if type(x) is not Tensor and not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected an ember.Tensor, got {type(x).__name__}")
    if x.dtype._kind == 3 and op not in _COMPLEX_UNARY:
        from .complex import COMPLEX_COMPOSITES

        if op in COMPLEX_COMPOSITES:
            return COMPLEX_COMPOSITES[op](x)
        refuse_complex(op, x, missing=op not in _NO_COMPLEX_IN_TORCH)
    k = x.device.kernels.get(op)
    if k is None:
        if composite is not None:
            if x.dtype is _dt.bfloat16:  # in float32, rounded once, as PyTorch computes bfloat16 math
                composite = _half_in_float32(composite)
            if float_op and x.dtype._kind < 2:
                # as on the kernel path: integer and bool inputs compute in the default float dtype
                # (the composite's pieces may not take bools: abs and neg refuse them)
                x = x.to(_dt.get_default_dtype())
            if grad is None or not (STATE.enabled and x.requires_grad):
                return composite(x)
            # the composite's pieces record nothing: the op's own backward is attached, as on the
            # kernel path, so it saves what that backward needs (sigmoid: its output alone, not
            # the input that abs and where would save) and runs one closure instead of several
            from ..autograd.grad_mode import no_grad

            with no_grad():
                out = composite(x)
            _record_unary(op, out, x, grad, saves)
            return out
        k = resolve_missing(op, x.device)
    dt = x.dtype
    data = x._data
    if float_op and dt._kind < 2:
        dt = _dt.get_default_dtype()
        data = cast_data(x, dt)
    out = _make(k(data), x.shape, dt, x.device)
    if grad is not None and x.requires_grad and STATE.enabled:
        _record_unary(op, out, x, grad, saves)
    return out


#: the unary ops defined on complex tensors, with backwards that conjugate (the rest refuse them)
_COMPLEX_UNARY = frozenset(("neg", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "rsqrt"))
#: the unary ops PyTorch itself refuses for complex tensors (the others are Ember's gaps)
_NO_COMPLEX_IN_TORCH = frozenset(
    ("floor", "ceil", "round", "trunc", "relu", "sign", "erf", "erfc", "erfinv", "lgamma", "digamma", "gelu")
)


def _record_unary(op: str, out: Tensor, x: Tensor, grad: UnaryGrad, saves: str) -> None:
    """Attach unary op ``op``'s backward to ``out``, saving x (``saves="x"``), the output
    (``"out"``) or nothing (``""``)."""
    if saves == "out":
        o = saved_output(out)  # an alias: the node must not keep its own output alive
        attach(out, op, lambda g: (grad(g, x, o),), (x,), (o,), out_alias=o)
    else:
        attach(out, op, lambda g: (grad(g, x, None),), (x,), (x,) if saves == "x" else ())


def neg(x: Tensor) -> Tensor:
    """``-x``."""
    if x.dtype.is_bool:
        raise TypeError("neg: negation of a bool tensor is not supported; use logical_not() or ~x")
    return _unary("neg", x, lambda g, x, o: neg(g), "", float_op=False)


def abs(x: Tensor) -> Tensor:
    """Absolute value (not defined for bool tensors, as in PyTorch)."""
    if isinstance(x, Tensor) and x.dtype.is_bool:
        raise TypeError(
            "abs: absolute value of a bool tensor is not supported, as in PyTorch; a truth value is "
            "its own magnitude (use x itself), or convert first with x.int() / x.float()"
        )
    if x.dtype._kind == 3:
        from .complex import complex_abs

        return complex_abs(x)  # real magnitudes
    return _unary("abs", x, lambda g, x, o: g * sign(x), float_op=False)


def exp(x: Tensor) -> Tensor:
    """e ** x."""
    return _unary("exp", x, lambda g, x, o: g * _c(o), "out")


def log(x: Tensor) -> Tensor:
    """Natural logarithm (NaN below 0, -inf at 0)."""
    return _unary("log", x, lambda g, x, o: g / _c(x))


def sqrt(x: Tensor) -> Tensor:
    """Square root."""
    return _unary("sqrt", x, lambda g, x, o: g / _c(o * 2), "out")


def sin(x: Tensor) -> Tensor:
    """Sine."""
    return _unary("sin", x, lambda g, x, o: g * _c(cos(x)))


def cos(x: Tensor) -> Tensor:
    """Cosine."""
    return _unary("cos", x, lambda g, x, o: neg(g * _c(sin(x))))


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return _unary("tanh", x, lambda g, x, o: g * _c(1 - o * o), "out")


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def erf(x: Tensor) -> Tensor:
    """The error function."""
    return _unary("erf", x, lambda g, x, o: g * (exp(neg(x * x)) * _TWO_OVER_SQRT_PI))


def _zero_grad(g: Tensor, x: Tensor, o: Tensor) -> Tensor:
    return zeros_like_(g)


def floor(x: Tensor) -> Tensor:
    """Round down (integers unchanged)."""
    refuse_complex("floor", x)
    if not x.dtype.is_floating_point:
        return x.clone()
    return _unary("floor", x, _zero_grad, "")


def ceil(x: Tensor) -> Tensor:
    """Round up."""
    refuse_complex("ceil", x)
    if not x.dtype.is_floating_point:
        return x.clone()
    return _unary("ceil", x, _zero_grad, "")


def round(x: Tensor, decimals: int = 0) -> Tensor:
    """Round half to even, optionally to ``decimals`` places (negative: tens, hundreds ...),
    computed as PyTorch does: ``round(x * 10**d) / 10**d``, or ``round(x / 10**-d) * 10**-d``."""
    refuse_complex("round", x)
    if not x.dtype.is_floating_point:
        if decimals:
            raise TypeError(
                f"round: decimals={decimals} needs a floating tensor, got {x.dtype} (as in PyTorch); "
                "use x.float().round(decimals=...)"
            )
        return x.clone()
    if decimals > 0:
        s = 10.0**decimals
        return _unary("round", x * s, _zero_grad, "") / s
    if decimals < 0:
        s = 10.0**-decimals
        return _unary("round", x / s, _zero_grad, "") * s
    return _unary("round", x, _zero_grad, "")


def trunc(x: Tensor) -> Tensor:
    """Round toward zero."""
    refuse_complex("trunc", x)
    if not x.dtype.is_floating_point:
        return x.clone()
    return _unary("trunc", x, _zero_grad, "")


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of each element (0 for zero and NaN), in x's dtype."""
    if x.dtype.is_bool:
        return x.clone()  # the sign of a truth value is itself (no backend has a bool kernel)
    if x.dtype._kind == 3:
        raise TypeError(
            f"sign: not supported for complex inputs ({x.dtype}), as in PyTorch; use ember.sgn(x) "
            "for x / |x|"
        )
    # the result requires grad (with a zero gradient) as in PyTorch, on the composite path too
    return _unary(
        "sign",
        x,
        _zero_grad,
        "",
        float_op=False,
        composite=lambda x: gt(x, 0).to(x.dtype) - lt(x, 0).to(x.dtype),
    )


def square(x: Tensor) -> Tensor:
    """x * x (a bool tensor squares to int64, as ``x ** 2`` does in PyTorch)."""
    if x.dtype.is_bool:
        return pow(x, 2)
    return mul(x, x)


def reciprocal(x: Tensor) -> Tensor:
    """1 / x."""
    return div(1.0, x)


def rsqrt(x: Tensor) -> Tensor:
    """1 / sqrt(x)."""
    return _unary(
        "rsqrt", x, lambda g, x, o: g * _c(o * o * o * -0.5), "out", composite=lambda x: reciprocal(sqrt(x))
    )


def exp2(x: Tensor) -> Tensor:
    """2 ** x (integers compute in the default float dtype)."""
    return _unary(
        "exp2", x, lambda g, x, o: g * o * math.log(2), "out", composite=lambda x: exp(x * math.log(2))
    )


def expm1(x: Tensor) -> Tensor:
    """exp(x) - 1, accurate near 0."""
    return _unary("expm1", x, lambda g, x, o: g * (o + 1), "out", composite=lambda x: _expm1_composite(x))


def log1p(x: Tensor) -> Tensor:
    """log(1 + x), accurate near 0."""
    return _unary("log1p", x, lambda g, x, o: g / (x + 1), composite=lambda x: _log1p_composite(x))


def log2(x: Tensor) -> Tensor:
    """Base-2 logarithm."""
    return _unary(
        "log2", x, lambda g, x, o: g / (x * math.log(2)), composite=lambda x: log(x) * (1 / math.log(2))
    )


def log10(x: Tensor) -> Tensor:
    """Base-10 logarithm."""
    return _unary(
        "log10", x, lambda g, x, o: g / (x * math.log(10)), composite=lambda x: log(x) * (1 / math.log(10))
    )


def sigmoid(x: Tensor) -> Tensor:
    """The logistic function 1 / (1 + exp(-x)), stable for large |x|."""

    def composite(x: Tensor) -> Tensor:
        # exp of a non-positive argument only: no overflow for either sign of x
        e = exp(neg(abs(x)))
        pos = reciprocal(e + 1)
        return where(ge(x, 0), pos, e * pos)

    if x.dtype._kind == 3:  # no sign to split on: the definition, as PyTorch computes it
        return reciprocal(exp(neg(x)) + 1)
    return _unary("sigmoid", x, lambda g, x, o: g * o * (1 - o), "out", composite=composite)


def relu(x: Tensor) -> Tensor:
    """max(x, 0) (not defined for bool tensors, as in PyTorch)."""
    if isinstance(x, Tensor) and x.dtype.is_bool:
        # numpy's maximum(bool, 0) is int64: a kernel would return a buffer the result's dtype denies
        raise TypeError(
            "relu: bool inputs are not supported, as in PyTorch (a truth value is already >= 0); "
            "use x itself, or convert with x.float() first"
        )

    # PyTorch's gradient: g except where the output is <= 0, so a NaN (whose output is NaN) passes it
    return _unary(
        "relu",
        x,
        lambda g, x, o: where(le(o, 0), 0, g),
        "out",
        float_op=False,
        composite=lambda x: maximum(x, 0),
    )


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit; ``approximate="tanh"`` for the tanh form."""
    if approximate == "tanh":
        c = math.sqrt(2 / math.pi)
        return 0.5 * x * (1 + tanh(c * (x + 0.044715 * x * x * x)))
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")

    def grad(g: Tensor, x: Tensor, o: Tensor) -> Tensor:
        cdf = (erf(x * (1 / math.sqrt(2))) + 1) * 0.5
        pdf = exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi))
        return g * (cdf + x * pdf)

    return _unary("gelu", x, grad, composite=lambda x: x * (erf(x * (1 / math.sqrt(2))) + 1) * 0.5)


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x)."""

    def grad(g: Tensor, x: Tensor, o: Tensor) -> Tensor:
        s = sigmoid(x)
        return g * s * (1 + x * (1 - s))

    return _unary("silu", x, grad, composite=lambda x: x * sigmoid(x))


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta*x)) / beta, linear above ``threshold``."""
    bx = x * beta
    soft = (maximum(bx, 0) + log1p(exp(neg(abs(bx))))) / beta
    return where(gt(bx, threshold), x, soft)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    return where(gt(x, 0), x, x * negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    # where(), not minimum(x, 0): at x = 0 minimum would split the gradient with the constant,
    # and PyTorch's gradient there is alpha
    pos = gt(x, 0)
    return where(pos, x, expm1(where(pos, 0.0, x)) * alpha)


def isnan(x: Tensor) -> Tensor:
    """True where x is NaN (complex: where either part is)."""
    if x.dtype._kind < 2:
        return zeros_like_(x, _dt.bool_)
    return ne(x, x)


def isinf(x: Tensor) -> Tensor:
    """True where x is +-inf (complex: where either part is)."""
    if x.dtype._kind < 2:
        return zeros_like_(x, _dt.bool_)
    return eq(abs(x), math.inf)


def isfinite(x: Tensor) -> Tensor:
    """True where x is neither NaN nor +-inf (complex: where both parts are finite)."""
    if x.dtype._kind < 2:
        return logical_not(zeros_like_(x, _dt.bool_))
    return lt(abs(x), math.inf)


def clamp(x: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """Limit x to [min, max] (either may be None, a number or a tensor; NaN propagates from x and
    from the bounds). min > max gives max everywhere, as in PyTorch. Gradient (PyTorch's rule): x
    gets it where min <= x <= max (not at NaN), a tensor min where x < min < max, a tensor max
    where x > max or max < min."""
    refuse_complex("clamp", x, min, max)
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    from ..autograd.grad_mode import no_grad

    with no_grad():
        out = x
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
    if STATE.enabled and any(isinstance(t, Tensor) and t.requires_grad for t in (x, min, max)):

        def grad(g: Tensor) -> tuple[Any, Any, Any]:
            gx = gmin = gmax = None
            if _rg(0):
                if min is not None and max is not None:
                    keep = logical_and(ge(x, min), le(x, max))
                else:
                    keep = ge(x, min) if min is not None else le(x, max)
                gx = where(keep, g, 0.0)
            if _rg(1):
                below = lt(x, min) if max is None else logical_and(lt(x, min), lt(min, max))
                gmin = where(below, g, 0.0)
            if _rg(2):
                above = gt(x, max) if min is None else logical_or(gt(x, max), lt(max, min))
                gmax = where(above, g, 0.0)
            return gx, gmin, gmax

        saved = tuple(t for t in (x, min, max) if isinstance(t, Tensor))
        shapes = (_shape(x), _shape(min), _shape(max))  # as recorded
        attach(out, "clamp", lambda g: _fit(grad(g), shapes), (x, min, max), saved)
    return out


clip = clamp


def _log1p_composite(x: Tensor) -> Tensor:
    """log(1 + x) from ``log`` alone, accurate near 0 (Kahan: log(u) * x / (u - 1) with u = 1 + x
    cancels the rounding of u)."""
    u = x + 1
    d = u - 1
    return where(eq(d, 0), x, where(eq(u, math.inf), u, log(u) * (x / d)))


def _expm1_composite(x: Tensor) -> Tensor:
    """exp(x) - 1 from ``exp`` and ``log``, accurate near 0 (Kahan: (u - 1) * x / log(u))."""
    u = exp(x)
    d = u - 1
    return where(eq(u, 1), x, where(logical_or(eq(d, -1), eq(u, math.inf)), d, d * (x / log(u))))


def _half_in_float32(fn: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    """``fn`` computed in float32 for a float16 or bfloat16 x, rounded back once (as PyTorch
    computes 16-bit float math: a chain of 16-bit roundings would lose digits in the longer
    composites)."""

    def composite(x: Tensor) -> Tensor:
        if x.dtype is _dt.float16 or x.dtype is _dt.bfloat16:
            return fn(x.to(_dt.float32)).to(x.dtype)
        return fn(x)

    return composite


# ----------------------------------------------------------------------------------------------
# where
# ----------------------------------------------------------------------------------------------
_NOT_GIVEN: Any = object()


def where(cond: Tensor, a: Any = _NOT_GIVEN, b: Any = _NOT_GIVEN) -> Tensor | tuple[Tensor, ...]:
    """``a`` where ``cond`` is true, else ``b``; all three broadcast; a and b promote.

    ``where(cond)`` alone is ``nonzero(cond, as_tuple=True)``: a tuple of index tensors, one per dim.
    """
    if a is _NOT_GIVEN or b is _NOT_GIVEN:
        if a is not b:
            raise TypeError(
                "where: expected both values a and b (where(cond, a, b)), or neither "
                "(where(cond) is nonzero(cond, as_tuple=True)); got only one"
            )
        if not isinstance(cond, Tensor):
            raise TypeError(f"where: condition must be a tensor, got {type(cond).__name__}")
        from .indexing import nonzero

        return nonzero(cond, as_tuple=True)
    if not isinstance(cond, Tensor):
        raise TypeError(f"where: condition must be a bool tensor, got {type(cond).__name__}")
    if not cond.dtype.is_bool:
        cond = ne(cond, 0)
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        xa, xb, dt, shape, dev = _prepare("where", a, b)
        if dt.is_integer:
            _check_int_fits("where", dt, a, b)
    else:
        # two Python scalars: PyTorch's dtype (the default float dtype for floats, int64 for ints,
        # bool for bools), given to the kernel as a 0-d buffer of that dtype: from two bare
        # scalars a kernel could only guess it (numpy's where picks float64)
        dt = _dt.result_type(a, b)
        if dt.is_integer:
            _check_int_fits("where", dt, a, b)
        shape, dev = cond.shape, cond.device
        xa = kernel(dev, "full")((), _scalar_for(dt, a), dt, dev.index)
        xb = _scalar_for(dt, b)
    if cond.device is not dev:
        same_device("where", cond, a if isinstance(a, Tensor) else b)
    if cond.shape != shape:
        shape = _broadcast("where", cond.shape, shape)
    out = _make(kernel(dev, "where")(cond._data, xa, xb), shape, dt, dev)
    if STATE.enabled and (getattr(a, "requires_grad", False) or getattr(b, "requires_grad", False)):

        def grad(g: Tensor) -> tuple[Any, Any, Any]:
            ga = where(cond, g, 0) if _rg(1) else None
            gb = where(cond, 0, g) if _rg(2) else None
            return None, ga, gb

        shapes = (None, _shape(a), _shape(b))  # as recorded
        attach(out, "where", lambda g: _fit(grad(g), shapes), (cond, a, b), (cond,))
    return out


def _check_int_fits(op: str, dt: DType, *values: Any) -> None:
    """A Python int operand that the integer result type cannot hold is an error (PyTorch's), not
    a silent wrap-around; as there, an unsigned type takes negatives down to -max (two's complement)."""
    for v in values:
        if not isinstance(v, int) or isinstance(v, bool):
            continue
        hi = (1 << (8 * dt.itemsize - (1 if dt.is_signed else 0))) - 1
        lo = -hi - 1 if dt.is_signed else -hi
        if not lo <= v <= hi:
            raise ValueError(
                f"{op}: value {v} cannot be converted to {dt} without overflow; use a wider dtype "
                "(x.long()) for the tensor"
            )


def _stack_indices(indices: tuple[Tensor, ...]) -> Tensor:
    """The index tensors of ``where(cond)`` as one (ndim, n) tensor, for the kit's comparison."""
    from .joining import stack

    return stack(list(indices))


def zeros_like_(x: Tensor, dtype: DType | None = None) -> Tensor:
    """Zeros of x's shape and device (internal helper shared with creation)."""
    dt = dtype or x.dtype
    return _make(
        kernel(x.device, "full")(x.shape, _scalar_for(dt, 0), dt, x.device.index), x.shape, dt, x.device
    )


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records): one per op, read by Tensor's methods, the kit and the docs
# ----------------------------------------------------------------------------------------------
# the record builders below serve ember.ops.math_functions' records too
def _unary_record(
    name: str,
    fn: Callable[..., Any],
    ref: Callable[..., Any],
    dtypes: tuple = FLOATS,
    *,
    low: float = -2.0,
    high: float = 2.0,
    inplace: bool = True,
    method: bool = True,
    kernel: str | None = None,
    **kw: Any,
) -> OpRecord:
    """The record of a unary op whose method and in-place variant carry its name."""
    return OpRecord(
        name,
        fn,
        unary_samples(low, high),
        ref,
        kernel=kernel,
        methods=(name,) if method else (),
        inplace=(name + "_",) if inplace else (),
        dtypes=dtypes,
        **kw,
    )


def _binary_record(
    name: str,
    fn: Callable[..., Any],
    ref: Callable[..., Any],
    dtypes: tuple = NUMERIC,
    *,
    methods: tuple | dict = (),
    inplace: tuple | dict = (),
    grad: bool = True,
    kernel: str | None = None,
    covers: tuple = (),
    errors: tuple = (),
    **kw: Any,
) -> OpRecord:
    """The record of a binary op (methods and in-place variants default to its name)."""
    return OpRecord(
        name,
        fn,
        binary_samples(**kw),
        ref,
        kernel=kernel,
        methods=methods or (name,),
        inplace=inplace or (name + "_",),
        covers=covers,
        dtypes=dtypes,
        grad=grad,
        errors=errors,
    )


def _special_values(dtype: str, rng: np.random.Generator) -> list[Sample]:
    """NaN, both infinities, both zeros and finite values of either sign."""
    vals = np.array([math.nan, -math.inf, -1.5, -0.0, 0.0, 0.5, math.inf], dtype=dtype)
    return [Sample((vals,)), Sample((vals.reshape(1, 7),), noncontig="flip")]


def _records() -> None:
    import numpy as np

    from .records import OpRecord, reflected, register
    from .samples import (
        ALL,
        ALL_INT,
        COMPLEX,
        FLOATS,
        FLOATS16,
        NUMERIC,
        SIGNED,
        ErrorSample,
        Sample,
        np_erf,
        rand_array,
        unary_samples,
    )

    def sigmoid_ref(x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-x))

    u, b = _unary_record, _binary_record

    def where_ref(c: Any, a: Any, b_: Any) -> Any:
        return np.where(c, a, b_)

    def where_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def r(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        scalar = 1.5 if dtype.startswith("float") else (True if dtype == "bool" else 3)
        if dtype.startswith("complex"):
            scalar = complex(1.5, -2.0)
        return [
            Sample((rng.random((3, 4)) > 0.5, r(3, 4), r(3, 4))),
            Sample((rng.random((3, 1)) > 0.5, r(1, 4), r(3, 4))),
            Sample((rng.random((4, 3)) > 0.5, r(4, 3), r(4, 3)), noncontig=True),
            Sample((rng.random((3, 4)) > 0.5, r(3, 4), scalar)),
            Sample((rng.random((3, 4)) > 0.5, scalar, r(3, 4))),
            Sample((np.asarray(rng.random(()) > 0.5), r(2, 3), r(2, 3))),
        ]

    clamp_samples = unary_samples(min=-0.5, max=0.7)

    special_values = _special_values

    def relu_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        out = unary_samples()(dtype, rng)
        if dtype.startswith("float"):
            out += [Sample(s.args, grad=False) for s in special_values(dtype, rng)]
        return out

    def grad_of(fn: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
        """The gradient of ``fn(x).sum()`` at x (for points where finite differences cannot check it)."""

        def call(x: Tensor) -> Tensor:
            from ..autograd import grad

            w = x.detach().requires_grad_(True)
            return grad([fn(w).sum()], [w])[0]

        return call

    def grad_after_input_modified(fn: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
        """The gradient of ``fn(y).sum()`` at y = x, with y changed in place after the forward."""

        def call(x: Tensor) -> Tensor:
            from ..autograd import grad

            w = x.detach().requires_grad_(True)
            y = w * 1
            out = fn(y)
            y.mul_(2)
            return grad([out.sum()], [w])[0]

        return call

    def shift_ref(left: bool) -> Callable[..., np.ndarray]:
        """PyTorch's shifts: in the operands' dtype, with shifts out of [0, bits) giving 0 (left),
        the sign fill (right, signed) or 0 (right, unsigned)."""

        def ref(a: Any, b_: Any) -> np.ndarray:
            dt = np.result_type(a, b_)
            bits = 8 * dt.itemsize
            x = np.asarray(a).astype(dt).astype(np.int64)
            n = np.asarray(b_).astype(dt).astype(np.int64)
            ok = (n >= 0) & (n < bits)
            if left:
                out = x.astype(np.uint64) << np.where(ok, n, 0).astype(np.uint64)
                return np.where(ok, out, 0).astype(dt)
            out = x >> np.where(ok, n, bits - 1)
            return (out if dt.kind == "i" else np.where(ok, out, 0)).astype(dt)

        return ref

    def shift_errors(op: str) -> tuple[ErrorSample, ...]:
        return (
            ErrorSample(
                (np.ones(3), 1), {}, TypeError, f"{op}: expected integer operands, got ember.float64"
            ),
            ErrorSample(
                (np.array([1, 2]), 1.5), {}, TypeError, f"{op}: expected integer operands, got the float 1.5"
            ),
            ErrorSample(
                (np.array([True]), np.array([True])), {}, TypeError, f"{op}: not supported for bool operands"
            ),
        )

    def where_nonzero_ref(c: np.ndarray) -> np.ndarray:
        return np.stack(np.nonzero(c)) if c.ndim else np.zeros((1, int(c != 0)), dtype=np.int64)

    def where_nonzero_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample((rand_array(rng, (3, 4), dtype),)),
            Sample((rand_array(rng, (5,), dtype),)),
            Sample((rand_array(rng, (2, 3, 2), dtype),), noncontig=True),
            Sample((rand_array(rng, (0, 3), dtype),)),
            Sample((np.asarray(rand_array(rng, (), dtype)),)),
        ]

    def unit_with_sign_of(x: Tensor) -> Tensor:
        from .math_functions import _unit_with_sign_of

        return _unit_with_sign_of(x)

    register(
        # -- unary ---------------------------------------------------------------------------
        OpRecord(
            "neg",
            neg,
            unary_samples(),
            np.negative,
            kernel="neg",
            methods=("neg", "__neg__", "negative"),
            inplace=("neg_", "negative_"),
            covers=("negative",),
            dtypes=NUMERIC + ("int8",) + COMPLEX,
            errors=(
                ErrorSample(
                    (np.array([True, False]),),
                    {},
                    TypeError,
                    "neg: negation of a bool tensor is not supported; use logical_not\\(\\)",
                ),
            ),
        ),
        OpRecord(
            "abs",
            abs,
            unary_samples(),
            np.abs,
            kernel="abs",
            methods=("abs", "__abs__"),
            inplace=("abs_",),
            dtypes=NUMERIC + ("int8",) + COMPLEX,
        ),
        u("exp", exp, np.exp, FLOATS16 + COMPLEX, kernel="exp"),
        u("exp2", exp2, np.exp2, kernel="exp2"),
        u("expm1", expm1, np.expm1, kernel="expm1"),
        u("log", log, np.log, FLOATS + COMPLEX, low=0.1, high=3.0, kernel="log"),
        u("log1p", log1p, np.log1p, low=-0.5, high=3.0, kernel="log1p"),
        u("log2", log2, np.log2, low=0.1, high=3.0, kernel="log2"),
        u("log10", log10, np.log10, low=0.1, high=3.0, kernel="log10"),
        u("sqrt", sqrt, np.sqrt, FLOATS16 + COMPLEX, low=0.1, high=3.0, kernel="sqrt"),
        u("rsqrt", rsqrt, lambda x: 1 / np.sqrt(x), FLOATS + COMPLEX, low=0.1, high=3.0, kernel="rsqrt"),
        u("sin", sin, np.sin, FLOATS + COMPLEX, kernel="sin"),
        u("cos", cos, np.cos, FLOATS + COMPLEX, kernel="cos"),
        u("tanh", tanh, np.tanh, FLOATS + COMPLEX, kernel="tanh"),
        u("sigmoid", sigmoid, sigmoid_ref, FLOATS + COMPLEX, kernel="sigmoid"),
        # the backward reads the output alone, on the kernel path and on the composite path: an
        # in-place change of the input after the forward does not invalidate it (as in PyTorch)
        OpRecord(
            "sigmoid_input_modified",
            sigmoid,
            unary_samples(),
            lambda x: sigmoid_ref(x) * (1 - sigmoid_ref(x)),
            call=grad_after_input_modified(sigmoid),
            grad=False,
            covers=("sigmoid",),
            public=False,
        ),
        # the sign of a zero remainder is the divisor's (Python's, numpy's and PyTorch's %; the array
        # API's special cases), which value comparisons cannot see: copysign(1, r) turns it into +-1
        OpRecord(
            "remainder_zero_sign",
            remainder,
            lambda dtype, rng: [
                Sample(
                    (
                        np.array([0.0, -0.0, 2.0, -2.0, 4.0, -4.0, 0.0, -0.0, 3.0], dtype=dtype),
                        np.array([-2.0, 2.0, -2.0, 2.0, 2.0, -2.0, 3.0, -3.0, 1.5], dtype=dtype),
                    )
                ),
                Sample((np.array([0.0, -0.0, 6.0, -6.0], dtype=dtype), -2.0)),
            ],
            lambda a, b: np.copysign(1.0, np.remainder(a, b)).astype(a.dtype),
            call=lambda a, b: unit_with_sign_of(remainder(a, b)),
            dtypes=("float32", "float64"),
            grad=False,
            covers=("remainder",),
            public=False,
        ),
        OpRecord(
            "exp2_input_modified",
            exp2,
            unary_samples(),
            lambda x: np.exp2(x) * math.log(2),
            call=grad_after_input_modified(exp2),
            grad=False,
            covers=("exp2",),
            public=False,
        ),
        u("erf", erf, np_erf, kernel="erf"),
        OpRecord(
            "relu",
            relu,
            relu_samples,
            lambda x: np.maximum(x, 0).astype(x.dtype),
            kernel="relu",
            methods=("relu",),
            inplace=("relu_",),
            dtypes=NUMERIC,
        ),
        OpRecord(
            "relu_grad",
            relu,
            special_values,
            lambda x: np.where(x <= 0, 0, 1).astype(x.dtype),
            call=grad_of(relu),
            grad=False,
            covers=("relu",),
            public=False,
        ),
        u(
            "gelu",
            gelu,
            lambda x: (0.5 * x * (1 + np_erf(x / math.sqrt(2)))).astype(x.dtype),
            inplace=False,
            method=False,
            kernel="gelu",
        ),
        u("silu", silu, lambda x: x * sigmoid_ref(x), inplace=False, method=False, kernel="silu"),
        OpRecord("softplus", softplus, unary_samples(), lambda x: np.logaddexp(0, x).astype(x.dtype)),
        OpRecord(
            "leaky_relu", leaky_relu, unary_samples(), lambda x: np.where(x > 0, x, x * 0.01).astype(x.dtype)
        ),
        OpRecord("elu", elu, unary_samples(), lambda x: np.where(x > 0, x, np.expm1(x)).astype(x.dtype)),
        u("floor", floor, np.floor, NUMERIC, grad=False, kernel="floor"),
        u("ceil", ceil, np.ceil, NUMERIC, grad=False, kernel="ceil"),
        u("round", round, np.round, NUMERIC, grad=False, kernel="round"),
        u("trunc", trunc, np.trunc, NUMERIC, grad=False, kernel="trunc"),
        u("sign", sign, np.sign, NUMERIC, grad=False, kernel="sign"),
        u("reciprocal", reciprocal, lambda x: 1 / x, FLOATS + COMPLEX, low=0.5, high=3.0),
        u("square", square, np.square, NUMERIC),
        u("isnan", isnan, np.isnan, FLOATS + ("int64",) + COMPLEX, inplace=False, grad=False),
        u("isinf", isinf, np.isinf, FLOATS + ("int64",) + COMPLEX, inplace=False, grad=False),
        u("isfinite", isfinite, np.isfinite, FLOATS + ("int64",) + COMPLEX, inplace=False, grad=False),
        u("logical_not", logical_not, np.logical_not, ("bool", "int32", "float32"), grad=False),
        OpRecord(
            "bitwise_not",
            bitwise_not,
            unary_samples(),
            np.invert,
            methods=("bitwise_not", "__invert__"),
            inplace=("bitwise_not_",),
            dtypes=("bool", "int32", "int64", "uint8"),
            grad=False,
        ),
        OpRecord(
            "clamp",
            clamp,
            clamp_samples,
            lambda x, min, max: np.clip(x, min, max),
            methods=("clamp", "clip"),
            inplace=("clamp_", "clip_"),
            covers=("clip",),
            dtypes=NUMERIC,
            errors=(
                ErrorSample(
                    (np.ones(3),),
                    {"min": None, "max": None},
                    ValueError,
                    "clamp: at least one of min and max must be given",
                ),
            ),
        ),
        # -- binary --------------------------------------------------------------------------
        b(
            "add",
            add,
            np.add,
            ALL_INT + FLOATS16 + COMPLEX,
            kernel="add",
            methods={"add": add, "__add__": add, "__radd__": reflected(add)},
            inplace={"add_": add, "__iadd__": add},
            errors=(
                ErrorSample(
                    (np.ones((3, 4)), np.ones(5)),
                    {},
                    ValueError,
                    "add: shapes \\(3, 4\\) and \\(5,\\) cannot be broadcast together",
                ),
            ),
        ),
        b(
            "sub",
            sub,
            np.subtract,
            SIGNED + FLOATS + COMPLEX,
            kernel="sub",
            covers=("subtract",),
            methods={"sub": sub, "__sub__": sub, "__rsub__": reflected(sub)},
            inplace={"sub_": sub, "__isub__": sub},
        ),
        b(
            "mul",
            mul,
            np.multiply,
            ALL_INT + FLOATS16 + COMPLEX,
            kernel="mul",
            covers=("multiply",),
            methods={"mul": mul, "__mul__": mul, "__rmul__": reflected(mul)},
            inplace={"mul_": mul, "__imul__": mul},
        ),
        b(
            "div",
            div,
            np.true_divide,
            FLOATS + COMPLEX,
            kernel="div",
            rhs_low=0.5,
            rhs_high=2.0,
            covers=("true_divide",),
            methods={"div": div, "__truediv__": div, "__rtruediv__": reflected(div)},
            inplace={"div_": div, "__itruediv__": div},
        ),
        b(
            "pow",
            pow,
            np.power,
            FLOATS + COMPLEX,
            kernel="pow",
            low=0.5,
            high=2.0,
            methods={"pow": pow, "__pow__": pow, "__rpow__": reflected(pow)},
            inplace={"pow_": pow, "__ipow__": pow},
        ),
        b("maximum", maximum, np.maximum, kernel="maximum"),
        b("minimum", minimum, np.minimum, kernel="minimum"),
        b("eq", eq, np.equal, ALL + COMPLEX, grad=False, kernel="eq", methods={"eq": eq, "__eq__": eq}),
        b(
            "ne",
            ne,
            np.not_equal,
            NUMERIC + COMPLEX,
            grad=False,
            kernel="ne",
            methods={"ne": ne, "__ne__": ne},
        ),
        b(
            "lt",
            lt,
            np.less,
            NUMERIC,
            grad=False,
            kernel="lt",
            methods={"lt": lt, "__lt__": lt},
            covers=("less",),
        ),
        b("le", le, np.less_equal, NUMERIC, grad=False, kernel="le", methods={"le": le, "__le__": le}),
        b("gt", gt, np.greater, NUMERIC, grad=False, methods={"gt": gt, "__gt__": gt}, covers=("greater",)),
        b("ge", ge, np.greater_equal, NUMERIC, grad=False, methods={"ge": ge, "__ge__": ge}),
        b(
            "bitwise_and",
            bitwise_and,
            np.bitwise_and,
            ("bool", "uint8", "int32", "int64"),
            grad=False,
            kernel="bitwise_and",
            methods={"bitwise_and": bitwise_and, "__and__": bitwise_and, "__rand__": reflected(bitwise_and)},
            inplace={"bitwise_and_": bitwise_and, "__iand__": bitwise_and},
            errors=(
                ErrorSample(
                    (np.ones(3), np.ones(3)),
                    {},
                    TypeError,
                    "bitwise_and: expected integer or bool operands, got ember.float64",
                ),
            ),
        ),
        b(
            "bitwise_or",
            bitwise_or,
            np.bitwise_or,
            ("bool", "int32", "int64"),
            grad=False,
            kernel="bitwise_or",
            methods={"bitwise_or": bitwise_or, "__or__": bitwise_or, "__ror__": reflected(bitwise_or)},
            inplace={"bitwise_or_": bitwise_or, "__ior__": bitwise_or},
        ),
        b(
            "bitwise_xor",
            bitwise_xor,
            np.bitwise_xor,
            ("bool", "int32", "int64"),
            grad=False,
            kernel="bitwise_xor",
            methods={"bitwise_xor": bitwise_xor, "__xor__": bitwise_xor, "__rxor__": reflected(bitwise_xor)},
            inplace={"bitwise_xor_": bitwise_xor, "__ixor__": bitwise_xor},
        ),
        b("logical_and", logical_and, np.logical_and, ("bool", "float32", "int64"), grad=False),
        b("logical_or", logical_or, np.logical_or, ("bool", "float32", "int64"), grad=False),
        b("logical_xor", logical_xor, np.logical_xor, ("bool", "float32", "int64"), grad=False),
        b(
            "floor_divide",
            floor_divide,
            np.floor_divide,
            ("int32", "int64", "float32", "float64"),
            grad=False,
            kernel="floor_divide",
            rhs_low=0.5,
            rhs_high=3.0,
            methods={
                "floor_divide": floor_divide,
                "__floordiv__": floor_divide,
                "__rfloordiv__": reflected(floor_divide),
            },
            inplace={"floor_divide_": floor_divide, "__ifloordiv__": floor_divide},
            errors=(
                ErrorSample(
                    (np.array([1, 2]), np.array([1, 0])),
                    {},
                    ZeroDivisionError,
                    "floor_divide: integer division by zero",
                ),
            ),
        ),
        b(
            "remainder",
            remainder,
            np.remainder,
            ("int32", "int64", "float32", "float64"),
            grad=False,
            kernel="remainder",
            rhs_low=0.5,
            rhs_high=3.0,
            methods={"remainder": remainder, "__mod__": remainder, "__rmod__": reflected(remainder)},
            inplace={"remainder_": remainder, "__imod__": remainder},
            errors=(
                ErrorSample(
                    (np.array([1, 2]), np.array([0, 1])),
                    {},
                    ZeroDivisionError,
                    "remainder: integer division by zero",
                ),
            ),
        ),
        OpRecord(
            "where",
            where,
            where_samples,
            where_ref,
            kernel="where",
            methods={"where": lambda self, cond, other: where(cond, self, other)},
            dtypes=NUMERIC + ("bool",) + COMPLEX,
            errors=(
                ErrorSample(
                    (np.array([True, False]), np.ones(2)),
                    {},
                    TypeError,
                    "where: expected both values a and b",
                ),
            ),
        ),
        # where(cond) alone: the indices of the nonzero elements, one tensor per dim (stacked here)
        OpRecord(
            "where_nonzero",
            where,
            where_nonzero_samples,
            where_nonzero_ref,
            call=lambda c: _stack_indices(where(c)),
            dtypes=NUMERIC + ("bool",),
            grad=False,
            covers=("where",),
            public=False,
            reads_values=True,
        ),
        b(
            "bitwise_left_shift",
            bitwise_left_shift,
            shift_ref(True),
            ALL_INT,
            grad=False,
            high=30.0,
            rhs_low=-0.5,
            rhs_high=18.0,
            methods={
                "bitwise_left_shift": bitwise_left_shift,
                "__lshift__": bitwise_left_shift,
                "__rlshift__": reflected(bitwise_left_shift),
            },
            inplace={"bitwise_left_shift_": bitwise_left_shift, "__ilshift__": bitwise_left_shift},
            errors=shift_errors("bitwise_left_shift"),
        ),
        b(
            "bitwise_right_shift",
            bitwise_right_shift,
            shift_ref(False),
            ALL_INT,
            grad=False,
            high=30.0,
            rhs_low=-0.5,
            rhs_high=18.0,
            methods={
                "bitwise_right_shift": bitwise_right_shift,
                "__rshift__": bitwise_right_shift,
                "__rrshift__": reflected(bitwise_right_shift),
            },
            inplace={"bitwise_right_shift_": bitwise_right_shift, "__irshift__": bitwise_right_shift},
            errors=shift_errors("bitwise_right_shift"),
        ),
    )


_records()
