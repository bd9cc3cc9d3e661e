"""Unary elementwise ops: negation and absolute value, exponentials and logarithms, roots, the
trigonometric and activation functions (``sigmoid``, ``relu``, ``gelu``, ...), rounding, the
``isnan`` family and ``clamp``, each forward beside its backward, with their op records. The
composites of these ops are in :mod:`ember.ops.trigonometric` (``atan``, ``sinh``, ...),
:mod:`ember.ops.special_functions` (``erfinv``, ``lgamma``, ...) and :mod:`ember.ops.math_functions`
(``hypot``, ``logaddexp``, ...).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..dispatch import resolve_missing
from ._core import (
    STATE,
    Tensor,
    _make,
    attach,
    cast_data,
    saved_output,
)

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
            f"sign: not supported for complex inputs ({x.dtype}), as in PyTorch; use ember.sgn(x) for x / |x|"
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
# records (see ember.ops.records): one per op, read by Tensor's methods, the kit and the docs
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from .records import OpRecord, register
    from .samples import (
        COMPLEX,
        FLOATS,
        FLOATS16,
        NUMERIC,
        ErrorSample,
        Sample,
        np_erf,
        unary_samples,
    )

    def sigmoid_ref(x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-x))

    u = _unary_record

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

    register(
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
    )


# the shared helpers, where and the binary ops: imported at the end, as those modules import this
# one in turn (the cycle resolves while each module's own definitions come first)
from .binary import (  # noqa: E402
    div,
    eq,
    ge,
    gt,
    le,
    logical_and,
    logical_not,
    logical_or,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    pow,
)
from .elementwise import (  # noqa: E402
    _c,
    _fit,
    _rg,
    _shape,
    _special_values,
    _unary_record,
    refuse_complex,
    where,
    zeros_like_,
)

_records()
