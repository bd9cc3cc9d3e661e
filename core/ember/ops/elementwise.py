"""Elementwise ops: what the binary ops (:mod:`ember.ops.binary`) and the unary ops
(:mod:`ember.ops.unary`) share, ``where``, and both modules' ops at their old address. Shared here:
the operands' promotion and broadcasting (``_prepare``), a broadcast operand's gradient summed back
to its shape (``_fit``), the complex conjugate in a backward (``_c``), ``refuse_complex``,
``zeros_like_`` and the record builders of the binary, unary and math-function records; the binary
and unary ops are imported at the end (they import these helpers in turn), so
``from ember.ops.elementwise import exp`` keeps working."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..autograd.graph import needs_input_grad
from ..dtypes import _PROMOTE, DType
from ..layout import broadcast_shapes
from ._core import (
    STATE,
    Tensor,
    _make,
    attach,
    cast_data,
    kernel,
    same_device,
    sum_to,
)
from .records import OpRecord
from .samples import FLOATS, NUMERIC, Sample, binary_samples, unary_samples

_Scalar = (int, float, bool, complex)


# ----------------------------------------------------------------------------------------------
# shared by the binary ops, the unary ops and where
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
# the record builders below serve ember.ops.binary's, ember.ops.unary's, ember.ops.math_functions',
# ember.ops.trigonometric's and ember.ops.special_functions' records too
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

    from .records import OpRecord, register
    from .samples import (
        COMPLEX,
        NUMERIC,
        ErrorSample,
        Sample,
        rand_array,
    )

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

    register(
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
    )


# the binary and unary ops at their old address: imported at the end, as they import this module's
# helpers in turn (Python resolves the cycle while each module's own definitions come first)
from .binary import (  # noqa: E402, F401
    BinaryGrad,
    add,
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    cmath_log,
    div,
    eq,
    floor_divide,
    ge,
    gt,
    le,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    pow,
    remainder,
    sub,
)
from .unary import (  # noqa: E402, F401
    UnaryGrad,
    abs,
    ceil,
    clamp,
    clip,
    cos,
    elu,
    erf,
    exp,
    exp2,
    expm1,
    floor,
    gelu,
    isfinite,
    isinf,
    isnan,
    leaky_relu,
    log,
    log1p,
    log2,
    log10,
    neg,
    reciprocal,
    relu,
    round,
    rsqrt,
    sigmoid,
    sign,
    silu,
    sin,
    softplus,
    sqrt,
    square,
    tanh,
    trunc,
)

_records()
