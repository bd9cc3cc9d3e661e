"""Binary elementwise ops: arithmetic (``add``, ``sub``, ``mul``, ``div``, ``pow``, ``maximum``,
``minimum``, ``floor_divide``, ``remainder``), comparisons (``eq``, ``lt``, ...), the logical ops and
the bitwise ops and shifts, each forward beside its backward, with their op records. The operands'
promotion and broadcasting and the other helpers the unary ops and ``where`` share are in
:mod:`ember.ops.elementwise`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..dispatch import resolve_missing
from ..dtypes import DType
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
)

# ----------------------------------------------------------------------------------------------
# binary ops
# ----------------------------------------------------------------------------------------------
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
# records (see ember.ops.records): one per op, read by Tensor's methods, the kit and the docs
# ----------------------------------------------------------------------------------------------
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
        unary_samples,
    )

    u, b = _unary_record, _binary_record

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

    def unit_with_sign_of(x: Tensor) -> Tensor:
        from .math_functions import _unit_with_sign_of

        return _unit_with_sign_of(x)

    register(
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
    )


# the shared helpers, where, and the unary ops that div and the backwards use: imported at the end,
# as those modules import this one in turn (the cycle resolves while each module's own definitions
# come first)
from .elementwise import (  # noqa: E402
    _binary_record,
    _broadcast,
    _c,
    _fit,
    _prepare,
    _promote,
    _rg,
    _scalar_for,
    _scalar_or_raise,
    _shape,
    _unary_record,
    refuse_complex,
    where,
    zeros_like_,
)
from .unary import (  # noqa: E402
    log,
    neg,
    trunc,
)

_records()
