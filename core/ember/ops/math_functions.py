"""Math functions composed from the elementwise primitives: ``hypot``, ``copysign``, ``fmod``,
``frac``, ``lerp``, ``logaddexp``, ``logit``, ``xlogy``, ``sgn``, ``signbit``, and the comparisons
and updates built the same way (``isclose``, ``allclose``, ``equal``, ``nan_to_num``, ``heaviside``,
``addcmul`` ...), with the helpers the other composed math modules share (``_poly``,
``_float_operands``, ``_with_backward``, ``_signbit_float``, and the record builders ``_also`` and
``_shape_error``). The trigonometric and hyperbolic functions and their inverses are in
:mod:`ember.ops.trigonometric`; ``erfc``, ``erfinv``, ``lgamma`` and ``digamma`` in
:mod:`ember.ops.special_functions`.

Each is a composite of those primitives, accurate to the dtype's rounding on every backend; where
a backend has a kernel for the op (``signbit``: an optional kernel) that kernel runs instead. A
composite with its own backward (``_with_backward``) runs as one autograd node.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..dtypes import DType
from ._core import Tensor, _make, attach, kernel, needs_grad, same_device, saved_output
from .binary import (
    _check_int_divisor,
    _no_bool_division,
    _operands_dtype,
)
from .elementwise import (
    _broadcast,
    _fit,
    _rg,
    _Scalar,
    _scalar_or_raise,
    _shape,
    abs,
    add,
    clamp,
    div,
    eq,
    exp,
    gt,
    isfinite,
    isnan,
    le,
    log,
    log1p,
    logical_and,
    logical_or,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    refuse_complex,
    remainder,
    sign,
    sqrt,
    trunc,
    where,
    zeros_like_,
)
from .records import OpRecord
from .samples import ErrorSample

# ----------------------------------------------------------------------------------------------
# math functions: composites of the primitives, accurate to the dtype's rounding on every backend
# ----------------------------------------------------------------------------------------------
_LN2 = math.log(2.0)


def _poly(z: Tensor, coeffs: tuple[float, ...]) -> Tensor:
    """coeffs[0] * z**(n-1) + ... + coeffs[-1] (Horner)."""
    p = z * coeffs[0] + coeffs[1]
    for c in coeffs[2:]:
        p = p * z + c
    return p


def _float_operands(op: str, a: Any, b: Any) -> tuple[Tensor, Tensor, DType]:
    """Two operands (at least one a tensor, the other may be a Python number) as tensors on one
    device, and the dtype of the result: their common floating dtype (PyTorch's promotion, integer
    and bool results in the default float dtype). The tensors are in that dtype, or in float32 when
    it is float16 or bfloat16 (the composite then rounds once, at the end); shapes must broadcast."""
    for v in (a, b):
        if not isinstance(v, (Tensor, *_Scalar)):
            _scalar_or_raise(op, v)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}: expected at least one ember.Tensor operand, got two Python numbers")
    refuse_complex(op, a, b)
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        same_device(op, a, b)
        _broadcast(op, a.shape, b.shape)
    dt = _operands_dtype(a, b)
    if not dt.is_floating_point:
        dt = _dt.get_default_dtype()
    dev = (a if isinstance(a, Tensor) else b).device
    ct = _dt.float32 if dt is _dt.float16 or dt is _dt.bfloat16 else dt

    def conv(v: Any) -> Tensor:
        if isinstance(v, Tensor):
            return v if v.dtype is ct else v.to(ct)
        return _make(kernel(dev, "full")((), float(v), ct, dev.index), (), ct, dev)

    return conv(a), conv(b), dt


def _with_backward(
    op: str,
    inputs: tuple[Any, ...],
    forward: Callable[[], Tensor],
    grad: Callable[[Tensor, Tensor], tuple],
    dtype: DType | None = None,
) -> Tensor:
    """``forward()`` (cast to ``dtype`` when given) with ``grad(g, out) -> one gradient per input``
    as its backward, each gradient in its input's dtype: the pieces of the composite record
    nothing, so the op saves what its own formula needs and runs as one node."""

    def run() -> Tensor:
        out = forward()
        return out.to(dtype) if dtype is not None and out.dtype is not dtype else out

    if not needs_grad(*inputs):
        return run()
    from ..autograd.grad_mode import no_grad

    with no_grad():
        out = run()
    o = saved_output(out)
    saved = tuple(t for t in inputs if isinstance(t, Tensor))
    # the inputs' shapes and dtypes as recorded (an in-place squeeze_ may change a shape later)
    shapes = tuple(_shape(t) for t in inputs)
    dtypes = tuple(t.dtype if isinstance(t, Tensor) else None for t in inputs)

    def backward(g: Tensor) -> tuple:
        return tuple(
            r.to(dt) if isinstance(r, Tensor) and dt is not None and r.dtype is not dt else r
            for r, dt in zip(_fit(grad(g, o), shapes), dtypes)
        )

    attach(out, op, backward, inputs, saved + (o,), out_alias=o)
    return out


def _signbit_float(x: Tensor) -> Tensor:
    """True where a floating x has its sign bit set (-0.0 included: 1 / -0.0 is -inf)."""
    return logical_or(lt(x, 0), logical_and(eq(x, 0), lt(div(1.0, x), 0)))


def hypot(input: Any, other: Any) -> Tensor:
    """sqrt(input**2 + other**2) without overflow or underflow in the squares (inf if either is
    inf, even against NaN, as C's hypot)."""
    a, b, dt = _float_operands("hypot", input, other)

    def forward() -> Tensor:
        aa, ab = abs(a), abs(b)
        hi, lo = maximum(aa, ab), minimum(aa, ab)
        r = lo / where(eq(hi, 0), 1.0, hi)
        out = hi * sqrt(r * r + 1)
        return where(logical_or(eq(aa, math.inf), eq(ab, math.inf)), math.inf, out)

    def grad(g: Tensor, o: Tensor) -> tuple[Any, Any]:
        return (g * a / o if _rg(0) else None), (g * b / o if _rg(1) else None)

    return _with_backward("hypot", (input, other), forward, grad, dt)


def _unit_with_sign_of(x: Tensor) -> Tensor:
    """+-1 with the sign bit of each element of ``x`` (so a kit record can see a zero's sign)."""
    return copysign(x * 0 + 1, x)


def copysign(input: Any, other: Any) -> Tensor:
    """|input| with the sign of other (the sign bit: -0.0 counts as negative), as a float tensor."""
    a, b, dt = _float_operands("copysign", input, other)

    def forward() -> Tensor:
        m = abs(a)
        return where(_signbit_float(b), neg(m), m)

    def grad(g: Tensor, o: Tensor) -> tuple[Any, Any]:
        # PyTorch: d/da is out / a (0 where a is 0); the sign carries no gradient
        ga = g * where(eq(a, 0), 0.0, o / where(eq(a, 0), 1.0, a)) if _rg(0) else None
        gb = zeros_like_(g) if _rg(1) else None
        return ga, gb

    return _with_backward("copysign", (input, other), forward, grad, dt)


def fmod(input: Any, other: Any) -> Tensor:
    """C's remainder: ``input - trunc(input / other) * other``, with the sign of ``input`` (exact;
    :func:`remainder` takes the sign of ``other``). Integer division by zero raises, as in PyTorch."""
    _no_bool_division("fmod", input, other)
    _check_int_divisor("fmod", input, other)
    dt = _operands_dtype(input, other)

    def forward() -> Tensor:
        if dt.is_floating_point:
            # the remainder of two non-negative operands is exact; the sign is then input's
            def mag(v: Any) -> Any:
                return abs(v.to(dt)) if isinstance(v, Tensor) else (v if v >= 0 else -v)

            r = remainder(mag(input), mag(other))
            if not isinstance(r, Tensor) or r.dtype is not dt:
                r = r.to(dt)
            if isinstance(input, Tensor):
                return where(_signbit_float(input.to(dt)), neg(r), r)
            return neg(r) if math.copysign(1.0, input) < 0 else r
        # integers: remainder has other's sign; move it to input's (exact in integer arithmetic)
        r = remainder(input, other)
        flip = logical_and(ne(r, 0), ne(lt(r, 0), lt(input, 0) if isinstance(input, Tensor) else input < 0))
        return where(flip, r - other, r)

    def grad(g: Tensor, o: Tensor) -> tuple[Any, Any]:
        ga = g if _rg(0) else None
        gb = neg(g) * div(input, other, rounding_mode="trunc") if _rg(1) else None
        return ga, gb

    return _with_backward("fmod", (input, other), forward, grad)


def frac(x: Tensor) -> Tensor:
    """The fractional part ``x - trunc(x)`` (the sign of x), for floating tensors."""
    if not x.dtype.is_floating_point:
        raise TypeError(
            f"frac: expected a floating tensor, got {x.dtype} (as in PyTorch, an integer has no fractional "
            "part); use x.float().frac()"
        )
    return x - trunc(x)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """Linear interpolation ``input + weight * (end - input)`` (weight a number or a tensor; all
    broadcast), computed as PyTorch does: from ``end`` backwards when weight >= 0.5, so that
    weight 1 gives ``end`` exactly. Floating tensors of one dtype."""
    for name, v in (("input", input), ("end", end), ("weight", weight)):
        if isinstance(v, Tensor) and v.dtype is not input.dtype:
            raise TypeError(
                f"lerp: expected {name} of dtype {input.dtype} (the input's), got {v.dtype}; convert "
                f"with .to({input.dtype})"
            )
    if not input.dtype.is_floating_point:
        raise TypeError(f"lerp: expected floating tensors, got {input.dtype}; use x.float()")
    if not isinstance(end, Tensor):
        raise TypeError(f"lerp: end must be a tensor, got {type(end).__name__}")
    diff = end - input
    if isinstance(weight, Tensor):
        low = lt(abs(weight), 0.5)
        return where(low, input + weight * diff, end - diff * (1 - weight))
    return input + diff * weight if -0.5 < weight < 0.5 else end - diff * (1 - weight)


def logaddexp(input: Any, other: Any) -> Tensor:
    """log(exp(input) + exp(other)), without overflow."""
    a, b, dt = _float_operands("logaddexp", input, other)

    def forward() -> Tensor:
        m = maximum(a, b)
        soft = m + log1p(exp(neg(abs(a - b))))
        return where(eq(a, b), a + _LN2, soft)  # equal infinities: a - b would be NaN

    def grad(g: Tensor, o: Tensor) -> tuple[Any, Any]:
        return (g * exp(a - o) if _rg(0) else None), (g * exp(b - o) if _rg(1) else None)

    return _with_backward("logaddexp", (input, other), forward, grad, dt)


def logit(x: Tensor, eps: float | None = None) -> Tensor:
    """log(x / (1 - x)); with ``eps``, x is first clamped to [eps, 1 - eps] (its gradient is then 0
    outside that range, as in PyTorch)."""
    if not x.dtype.is_floating_point:
        x = x.to(_dt.get_default_dtype())
    if eps is not None:
        x = clamp(x, eps, 1 - eps)
    return log(x / (1 - x))


def xlogy(input: Any, other: Any) -> Tensor:
    """``input * log(other)``, 0 where input is 0 (unless other is NaN), as in PyTorch."""
    a, b, dt = _float_operands("xlogy", input, other)

    def forward() -> Tensor:
        return where(isnan(b), math.nan, where(eq(a, 0), 0.0, a * log(b)))

    def grad(g: Tensor, o: Tensor) -> tuple[Any, Any]:
        ga = gb = None
        if _rg(0):
            ga = g * where(isnan(b), math.nan, where(eq(a, 0), 0.0, log(b)))
        if _rg(1):
            gb = g * a / b
        return ga, gb

    return _with_backward("xlogy", (input, other), forward, grad, dt)


def sgn(x: Tensor) -> Tensor:
    """The sign of each element: :func:`sign` for real tensors, ``x / |x|`` (0 at 0) for complex
    ones, as in PyTorch."""
    if isinstance(x, Tensor) and x.dtype._kind == 3:
        from .complex import complex_sgn

        return complex_sgn(x)
    return sign(x)


def signbit(x: Tensor) -> Tensor:
    """True where the sign bit is set: negative values, -0.0 and a NaN with its sign bit set (read
    by the device's optional ``signbit`` kernel; without one, a NaN counts as clear)."""
    if x.dtype.is_floating_point:
        k = x.device.kernels.get("signbit")
        if k is None:
            return _signbit_float(x)
        return _make(k(x._data), x.shape, _dt.bool_, x.device)
    if x.dtype.is_bool or not x.dtype.is_signed:
        return zeros_like_(x, _dt.bool_)
    return lt(x, 0)


def nan_to_num(
    x: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Tensor:
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default 0, the dtype's
    largest and its lowest finite value); integer and bool tensors are returned as a copy."""
    if not x.dtype.is_floating_point:
        return x.clone()
    info = _dt.finfo(x.dtype)
    hi = float(info.max) if posinf is None else posinf
    lo = float(info.min) if neginf is None else neginf
    return where(isnan(x), nan, where(eq(x, math.inf), hi, where(eq(x, -math.inf), lo, x)))


def clamp_min(x: Tensor, min: Any) -> Tensor:
    """max(x, min): :func:`clamp` with a lower bound only."""
    return clamp(x, min=min)


def clamp_max(x: Tensor, max: Any) -> Tensor:
    """min(x, max): :func:`clamp` with an upper bound only."""
    return clamp(x, max=max)


def isclose(
    input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (or equal, infinities included;
    NaNs equal each other only with ``equal_nan``), as a bool tensor. Both tensors of one dtype."""
    for name, v in (("input", input), ("other", other)):
        if not isinstance(v, Tensor):
            raise TypeError(f"isclose: {name} must be a tensor, got {type(v).__name__}")
    if input.dtype is not other.dtype:
        raise TypeError(
            f"isclose: input and other must have one dtype, got {input.dtype} and {other.dtype}; "
            f"convert one with .to({input.dtype})"
        )
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: rtol and atol must be >= 0, got rtol={rtol}, atol={atol}")
    close = eq(input, other)
    if equal_nan and input.dtype._kind >= 2:
        close = logical_or(close, logical_and(isnan(input), isnan(other)))
    if rtol == 0 and atol == 0:
        return close
    a, b = (
        (input, other) if input.dtype._kind >= 2 else (v.to(_dt.get_default_dtype()) for v in (input, other))
    )
    diff = abs(a - b)
    within = logical_and(isfinite(diff), le(diff, abs(b) * rtol + atol))
    return logical_or(close, within)


def allclose(
    input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """Whether :func:`isclose` holds for every element (a Python bool; reads the values)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all().item())


def equal(input: Tensor, other: Tensor) -> bool:
    """Whether both tensors have the same shape and the same values (a Python bool; NaN is unequal
    to itself; dtypes may differ, as in PyTorch)."""
    for name, v in (("input", input), ("other", other)):
        if not isinstance(v, Tensor):
            raise TypeError(f"equal: {name} must be a tensor, got {type(v).__name__}")
    same_device("equal", input, other)
    if input.shape != other.shape:
        return False
    return bool(eq(input, other).all().item())


def isposinf(x: Tensor) -> Tensor:
    """True where x is +inf."""
    if not x.dtype.is_floating_point:
        return zeros_like_(x, _dt.bool_)
    return eq(x, math.inf)


def isneginf(x: Tensor) -> Tensor:
    """True where x is -inf."""
    if not x.dtype.is_floating_point:
        return zeros_like_(x, _dt.bool_)
    return eq(x, -math.inf)


def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """The step function: 0 where input < 0, ``values`` where input == 0, 1 where input > 0 (NaN
    gives 0, as in PyTorch). Both tensors of one dtype; not differentiable."""
    if not isinstance(values, Tensor):
        raise TypeError(
            f"heaviside: values must be a tensor, got {type(values).__name__} (as in PyTorch); use "
            "ember.tensor(v, dtype=input.dtype)"
        )
    if input.dtype is not values.dtype:
        raise TypeError(
            f"heaviside: input and values must have one dtype, got {input.dtype} and {values.dtype}; "
            f"convert values with .to({input.dtype})"
        )
    from ..autograd.grad_mode import no_grad

    with no_grad():
        return where(eq(input, 0), values, gt(input, 0).to(input.dtype))


def addcmul(input: Tensor, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
    """``input + value * tensor1 * tensor2`` (all broadcast)."""
    prod = mul(tensor1, tensor2)
    _integer_value_only("addcmul", input, prod, value)
    return add(input, prod, alpha=value) if value != 1 else add(input, prod)


def addcdiv(input: Tensor, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
    """``input + value * tensor1 / tensor2`` (true division; all broadcast)."""
    if all(isinstance(t, Tensor) and not t.dtype.is_floating_point for t in (tensor1, tensor2)):
        raise TypeError(
            f"addcdiv: integer division of tensor1 and tensor2 ({tensor1.dtype}, {tensor2.dtype}) is not "
            "supported, as in PyTorch; convert them with .float() for a true division, or use "
            "addcmul with floor_divide(tensor1, tensor2) for an integer one"
        )
    quot = div(tensor1, tensor2)
    _integer_value_only("addcdiv", input, quot, value)
    return add(input, quot, alpha=value) if value != 1 else add(input, quot)


def _integer_value_only(op: str, a: Any, b: Any, value: Any) -> None:
    dt = _operands_dtype(a, b)
    if isinstance(value, float) and not dt.is_floating_point:
        raise TypeError(
            f"{op}: for integer inputs ({dt}) value must be an integer, got {value!r}; convert the "
            "inputs with .float() for a fractional value"
        )


# ----------------------------------------------------------------------------------------------
# record builders shared with ember.ops.trigonometric's and ember.ops.special_functions' records
# ----------------------------------------------------------------------------------------------
def _also(rec: OpRecord, *aliases: str, inplace: bool = True) -> OpRecord:
    """``rec`` with numpy-style aliases (``arcsin`` for ``asin``) as methods and public names."""
    methods = tuple(rec.methods) + aliases
    inpl = tuple(rec.inplace) + (tuple(a + "_" for a in aliases) if inplace else ())
    return dataclasses.replace(rec, methods=methods, inplace=inpl, covers=tuple(rec.covers) + aliases)


def _shape_error(op: str) -> tuple[ErrorSample, ...]:
    return (
        ErrorSample(
            (np.ones((3, 4)), np.ones(5)),
            {},
            ValueError,
            f"{op}: shapes \\(3, 4\\) and \\(5,\\) cannot be broadcast together",
        ),
    )


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records): one per op, read by Tensor's methods, the kit and the docs
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    from .elementwise import _binary_record, _special_values, _unary_record
    from .records import register
    from .samples import (
        COMPLEX,
        FLOATS,
        NUMERIC,
        Sample,
        complex_specials,
        rand_array,
        unary_samples,
    )

    u, b, special_values = _unary_record, _binary_record, _special_values

    def specials(dtype: str, rng: np.random.Generator) -> list[Sample]:
        out = unary_samples()(dtype, rng)
        if dtype.startswith("float"):
            out += [Sample(s.args, grad=False) for s in special_values(dtype, rng)]
        return out

    def close_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        a = rand_array(rng, (3, 4), dtype)
        far = rand_array(rng, (3, 4), dtype)
        out = [
            Sample((a, far)),
            Sample((a, a.copy())),
            Sample((a, rand_array(rng, (4,), dtype)), {"rtol": 0.5, "atol": 0.5}),
            Sample((a[:2].T.copy(), a[:2].T.copy()), noncontig=True),
        ]
        if dtype.startswith("float"):
            near = (a * (1 + 1e-6)).astype(dtype)
            nans = np.array([math.nan, math.inf, -math.inf, 1.0, 0.0], dtype=dtype)
            other = np.array([math.nan, math.inf, math.inf, 1.0 + 1e-9, 1e-9], dtype=dtype)
            out += [
                Sample((a, near)),
                Sample((a, near), {"rtol": 0.0, "atol": 0.0}),
                Sample((nans, other)),
                Sample((nans, other), {"equal_nan": True}),
            ]
        if dtype.startswith("complex"):
            sp = complex_specials(dtype)
            swapped = np.ascontiguousarray(sp[:, ::-1])
            out += [Sample((sp, sp.copy())), Sample((sp, swapped), {"equal_nan": True})]
        return out

    def lerp_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(3, 4), a(3, 4), 0.3)),
            Sample((a(3, 4), a(4), 0.8)),
            Sample((a(3, 4), a(3, 4), rand_array(rng, (3, 4), dtype, -0.5, 1.5))),
            Sample((a(2, 1, 4), a(3, 1), rand_array(rng, (4,), dtype, 0, 1))),
            Sample((a(), a(), 1.0)),
            Sample((a(0, 3), a(3), 0.5), grad=False),
            Sample((a(4, 3), a(4, 3), a(4, 3)), noncontig=True),
            Sample((a(3, 4), a(3, 4), a(3, 4)), noncontig="flip", grad=False),
        ]

    def lerp_ref(x: np.ndarray, e: Any, w: Any) -> np.ndarray:
        return np.where(np.abs(w) < 0.5, x + w * (e - x), e - (e - x) * (1 - w))

    def addc_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int, low: float = -2.0) -> np.ndarray:
            return rand_array(rng, s, dtype, low, 2.0)

        value = 0.5 if dtype.startswith("float") else 3
        return [
            Sample((a(3, 4), a(3, 4), a(3, 4, low=0.5))),
            Sample((a(3, 4), a(4), a(3, 1, low=0.5)), {"value": value}),
            Sample((a(), a(2, 3), a(2, 3, low=0.5)), {"value": value}),
            Sample((a(0, 3), a(3), a(3, low=0.5)), grad=False),
            Sample((a(4, 3), a(4, 3), a(4, 3, low=0.5)), noncontig=True),
            Sample((a(3, 4), a(3, 4), a(3, 4, low=0.5)), noncontig="flip", grad=False),
        ]

    def heaviside_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        x = rand_array(rng, (3, 4), dtype)
        x[0, :2] = 0
        return [
            Sample((x, rand_array(rng, (3, 4), dtype))),
            Sample((x, rand_array(rng, (), dtype))),
            Sample((x.T.copy(), rand_array(rng, (3,), dtype)), noncontig=True),
            Sample((rand_array(rng, (0,), dtype), rand_array(rng, (), dtype))),
        ]

    def on_device_of(f: Callable[..., Any]) -> Callable[..., Any]:
        """``f`` (which returns a Python bool) as a 0-d bool tensor on the inputs' device."""

        def call(a: Any, b_: Any, **kw: Any) -> Any:
            from .creation import full

            return full((), f(a, b_, **kw), dtype=_dt.bool_, device=a.device)

        return call

    def equal_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        a = rand_array(rng, (3, 4), dtype)
        b_ = a.copy()
        b_[1, 2] = b_[1, 2] + 1 if dtype != "bool" else not b_[1, 2]
        return [
            Sample((a, a.copy())),
            Sample((a, b_)),
            Sample((a, a[:2].copy())),
            Sample((a, a.T.copy()), noncontig=True),
            Sample((a[:0], a[:0].copy())),
        ]

    def nan_to_num_ref(x: np.ndarray, **kw: Any) -> np.ndarray:
        return np.nan_to_num(x, **kw) if x.dtype.kind == "f" else x.copy()

    def fmod_errors() -> tuple[ErrorSample, ...]:
        return (
            ErrorSample(
                (np.array([1, 2]), np.array([1, 0])), {}, ZeroDivisionError, "fmod: integer division by zero"
            ),
        )

    def no_inplace(rec: OpRecord) -> OpRecord:
        return dataclasses.replace(rec, inplace=())

    MATH_FLOATS = FLOATS  # integer inputs compute in float32: the parity tests compare them with torch
    register(
        u(
            "frac",
            frac,
            lambda x: x - np.trunc(x),
            FLOATS,
            low=-3.0,
            high=3.0,
            errors=(
                ErrorSample(
                    (np.array([1, 2]),), {}, TypeError, "frac: expected a floating tensor, got ember.int64"
                ),
            ),
        ),
        u("logit", logit, lambda x: np.log(x / (1 - x)), FLOATS, low=0.05, high=0.95),
        OpRecord(
            "logit_eps",
            logit,
            unary_samples(-0.2, 1.2, eps=0.1),
            lambda x, eps: (lambda c: np.log(c / (1 - c)))(np.clip(x, eps, 1 - eps)),
            dtypes=FLOATS,
            covers=("logit",),
            public=False,
        ),
        u("sgn", sgn, np.sign, NUMERIC + COMPLEX, grad=False),
        u(
            "signbit",
            signbit,
            np.signbit,
            ("float32", "float64", "int32", "uint8"),
            inplace=False,
            grad=False,
            kernel="signbit",
        ),
        OpRecord(
            "signbit_special",
            signbit,
            special_values,
            np.signbit,
            grad=False,
            kernel="signbit",
            covers=("signbit",),
            public=False,
        ),
        OpRecord(
            "nan_to_num",
            nan_to_num,
            specials,
            nan_to_num_ref,
            methods=("nan_to_num",),
            inplace=("nan_to_num_",),
            dtypes=FLOATS + ("int32",),
        ),
        OpRecord(
            "nan_to_num_values",
            nan_to_num,
            lambda dtype, rng: [
                Sample(s.args, {"nan": 1.5, "posinf": 9.0, "neginf": -7.0}, grad=False)
                for s in special_values(dtype, rng)
            ],
            nan_to_num_ref,
            grad=False,
            covers=("nan_to_num",),
            public=False,
        ),
        OpRecord(
            "clamp_min",
            clamp_min,
            unary_samples(min=-0.5),
            lambda x, min: np.maximum(x, min),
            methods=("clamp_min",),
            inplace=("clamp_min_",),
            dtypes=NUMERIC,
        ),
        OpRecord(
            "clamp_max",
            clamp_max,
            unary_samples(max=0.7),
            lambda x, max: np.minimum(x, max),
            methods=("clamp_max",),
            inplace=("clamp_max_",),
            dtypes=NUMERIC,
        ),
        u("isposinf", isposinf, np.isposinf, FLOATS + ("int64",), inplace=False, grad=False),
        OpRecord(
            "isposinf_special",
            isposinf,
            special_values,
            np.isposinf,
            grad=False,
            covers=("isposinf",),
            public=False,
        ),
        u("isneginf", isneginf, np.isneginf, FLOATS + ("int64",), inplace=False, grad=False),
        OpRecord(
            "isneginf_special",
            isneginf,
            special_values,
            np.isneginf,
            grad=False,
            covers=("isneginf",),
            public=False,
        ),
        OpRecord(
            "isclose",
            isclose,
            close_samples,
            lambda a, b_, **kw: np.isclose(a, b_, **kw),
            methods=("isclose",),
            dtypes=("float32", "float64", "int64", "bool") + COMPLEX,
            grad=False,
            errors=(
                ErrorSample(
                    (np.ones(3), np.ones(3, dtype=np.float32)),
                    {},
                    TypeError,
                    "isclose: input and other must have one dtype, got ember.float64 and ember.float32",
                ),
                ErrorSample(
                    (np.ones(3), np.ones(3)),
                    {"rtol": -1.0},
                    ValueError,
                    "isclose: rtol and atol must be >= 0",
                ),
            ),
        ),
        OpRecord(
            "allclose",
            allclose,
            close_samples,
            lambda a, b_, **kw: np.asarray(np.allclose(a, b_, **kw)),
            call=on_device_of(allclose),
            methods=("allclose",),
            dtypes=("float32", "float64", "int64"),
            grad=False,
            reads_values=True,
        ),
        OpRecord(
            "equal",
            equal,
            equal_samples,
            lambda a, b_: np.asarray(a.shape == b_.shape and bool(np.all(a == b_))),
            call=on_device_of(equal),
            methods=("equal",),
            dtypes=("float32", "int64", "bool"),
            grad=False,
            reads_values=True,
        ),
        OpRecord(
            "heaviside",
            heaviside,
            heaviside_samples,
            lambda x, v: np.heaviside(x, v).astype(x.dtype),
            methods=("heaviside",),
            inplace=("heaviside_",),
            dtypes=("float32", "float64", "int64"),
            grad=False,
            errors=(
                ErrorSample(
                    (np.ones(3), np.ones(3, dtype=np.float32)),
                    {},
                    TypeError,
                    "heaviside: input and values must have one dtype, got ember.float64 and ember.float32",
                ),
                ErrorSample(
                    (np.ones(3), 0.5), {}, TypeError, "heaviside: values must be a tensor, got float"
                ),
            ),
        ),
        OpRecord(
            "lerp",
            lerp,
            lerp_samples,
            lerp_ref,
            methods=("lerp",),
            inplace=("lerp_",),
            dtypes=FLOATS,
            errors=(
                ErrorSample(
                    (np.ones(3), np.ones(3, dtype=np.float32), 0.5),
                    {},
                    TypeError,
                    "lerp: expected end of dtype ember.float64 \\(the input's\\), got ember.float32",
                ),
                ErrorSample(
                    (np.array([1, 2]), np.array([3, 4]), 0.5),
                    {},
                    TypeError,
                    "lerp: expected floating tensors",
                ),
            ),
        ),
        OpRecord(
            "addcmul",
            addcmul,
            addc_samples,
            lambda x, a, b_, value=1: x + value * a * b_,
            methods=("addcmul",),
            inplace=("addcmul_",),
            dtypes=NUMERIC,
            errors=(
                ErrorSample(
                    (np.array([1, 2]), np.array([1, 2]), np.array([1, 2])),
                    {"value": 0.5},
                    TypeError,
                    "addcmul: for integer inputs \\(ember.int64\\) value must be an integer, got 0.5",
                ),
            ),
        ),
        OpRecord(
            "addcdiv",
            addcdiv,
            addc_samples,
            lambda x, a, b_, value=1: x + value * (a / b_),
            methods=("addcdiv",),
            inplace=("addcdiv_",),
            dtypes=FLOATS,
            errors=(
                ErrorSample(
                    (np.ones(2), np.array([1, 2]), np.array([1, 2])),
                    {},
                    TypeError,
                    "addcdiv: integer division of tensor1 and tensor2 \\(ember.int64, ember.int64\\)",
                ),
            ),
        ),
        b("hypot", hypot, np.hypot, FLOATS, errors=_shape_error("hypot")),
        b("copysign", copysign, np.copysign, MATH_FLOATS, low=-2.0, high=2.0),
        b("fmod", fmod, np.fmod, NUMERIC, rhs_low=0.5, rhs_high=3.0, errors=fmod_errors()),
        no_inplace(b("logaddexp", logaddexp, np.logaddexp, FLOATS, errors=_shape_error("logaddexp"))),
        b(
            "xlogy",
            xlogy,
            lambda a, b_: np.where(
                np.asarray(a) == 0, 0.0, np.asarray(a) * np.log(np.asarray(b_, dtype=np.float64))
            ),
            MATH_FLOATS,
            rhs_low=0.1,
            rhs_high=3.0,
        ),
    )


_records()
