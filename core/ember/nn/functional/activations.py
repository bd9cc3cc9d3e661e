"""Activation functions (the softmax family is in :mod:`.softmax_family`).

Thin wrappers over the core ops of the same names (their kernels and backwards live in
:mod:`ember.ops`). This module adds PyTorch's argument checks, ``inplace=True`` (the result is
written into the input with :func:`ember.ops.inplace.commit`) and relu6's zero gradient at 0 and 6
(a composite of core ops).
"""

from __future__ import annotations

from typing import Any

from ... import ops as E
from ...autograd.grad_mode import STATE, no_grad
from ...autograd.graph import attach
from ...ops.inplace import commit
from ...tensor import Tensor

__all__ = [
    "relu",
    "relu6",
    "gelu",
    "silu",
    "tanh",
    "sigmoid",
    "leaky_relu",
    "elu",
    "softplus",
    "selu",
    "celu",
    "mish",
    "hardswish",
    "hardsigmoid",
    "hardtanh",
    "logsigmoid",
    "softsign",
    "tanhshrink",
    "threshold",
    "glu",
    "prelu",
    "hardshrink",
    "softshrink",
    "relu_",
    "elu_",
    "leaky_relu_",
    "hardtanh_",
    "threshold_",
    "celu_",
    "selu_",
    "rrelu",
    "rrelu_",
]


def _maybe_inplace(input: Tensor, fn: Any, inplace: bool, op: str, saves_input: bool = True) -> Tensor:
    """``fn(input)``, or with ``inplace`` ``input`` overwritten by it (and returned), as PyTorch's
    ``inplace=True`` activations do; autograd follows the write like any in-place op. When the
    gradient of ``fn`` needs its input (``saves_input``) and the graph is recorded, ``fn`` runs on
    a copy, so the write does not invalidate what backward reads."""
    if not inplace:
        return fn(input)
    src = input.clone() if saves_input and STATE.enabled and input.requires_grad else input
    return commit(input, fn(src), op)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0); ``inplace=True`` writes the result into ``input`` and returns it."""
    return _maybe_inplace(input, E.relu, inplace, "relu_", saves_input=False)  # backward reads the output


def _relu6(x: Tensor) -> Tensor:
    out = E.clamp(x, 0, 6)
    if not (STATE.enabled and x.requires_grad):
        return out
    # PyTorch's relu6 is hardtanh(0, 6): no gradient at the kinks 0 and 6 themselves (clamp passes it)
    inside = E.logical_and(E.gt(x, 0), E.lt(x, 6))
    return E.where(inside, x, out.detach())


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6), with PyTorch's gradient (zero at 0 and 6); ``inplace=True`` writes the
    result into ``input`` and returns it."""
    return _maybe_inplace(input, _relu6, inplace, "relu6_", saves_input=False)  # backward reads a mask


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit (``approximate='tanh'`` for the tanh form)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return E.gelu(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x); ``inplace=True`` writes the result into ``input`` and returns it."""
    return _maybe_inplace(input, E.silu, inplace, "silu_")


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return E.tanh(input)


def sigmoid(input: Tensor) -> Tensor:
    """The logistic function."""
    return E.sigmoid(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope * x otherwise (``inplace=True``: into ``input``)."""
    return _maybe_inplace(input, lambda x: E.leaky_relu(x, negative_slope), inplace, "leaky_relu_")


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise (``inplace=True``: into ``input``)."""
    return _maybe_inplace(input, lambda x: E.elu(x, alpha), inplace, "elu_")


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta."""
    return E.softplus(input, beta, threshold)


# -- piecewise activations: the value and PyTorch's derivative side by side ----------------------
def _pointwise(x: Tensor, name: str, value: Any, derivative: Any) -> Tensor:
    """``value(x)`` computed without recording, with the backward ``g * derivative(x)``: the
    derivative is PyTorch's, kinks included (a composite of ``where``/``clamp`` would pick its own
    side at the kinks). Both are written with Ember ops, so ``create_graph`` differentiates the
    derivative again."""
    with no_grad():
        out = value(x)
    if STATE.enabled and x.requires_grad:
        attach(out, name, lambda g: (g * derivative(x),), (x,), (x,))
    return out


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants (alpha = 1.6733, scale = 1.0507);
    ``inplace=True`` writes the result into ``input``."""
    return _maybe_inplace(input, lambda x: E.elu(x, _SELU_ALPHA) * _SELU_SCALE, inplace, "selu_")


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)); ``inplace=True``: into ``input``."""
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0 (it divides x); pass a non-zero alpha such as 1.0")
    return _maybe_inplace(input, lambda x: E.elu(x / alpha, 1.0) * alpha, inplace, "celu_")


def _mish(x: Tensor) -> Tensor:
    def value(x: Tensor) -> Tensor:
        return x * E.tanh(E.softplus(x, 1.0, 20.0))

    def derivative(x: Tensor) -> Tensor:
        t = E.tanh(E.softplus(x, 1.0, 20.0))
        return t + x * E.sigmoid(x) * (1 - t * t)

    return _pointwise(x, "mish", value, derivative)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)); ``inplace=True`` writes the result into ``input``."""
    return _maybe_inplace(input, _mish, inplace, "mish_")


def _hardswish(x: Tensor) -> Tensor:
    def derivative(x: Tensor) -> Tensor:
        # PyTorch's: 0 up to -3, x / 3 + 1/2 strictly inside (-3, 3), 1 from 3 on
        return E.where(E.le(x, -3.0), 0.0, E.where(E.lt(x, 3.0), x / 3.0 + 0.5, 1.0)).to(x.dtype)

    return _pointwise(x, "hardswish", lambda x: x * E.clamp(x + 3.0, 0.0, 6.0) / 6.0, derivative)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6; ``inplace=True`` writes the result into ``input``."""
    return _maybe_inplace(input, _hardswish, inplace, "hardswish_")


def _hardsigmoid(x: Tensor) -> Tensor:
    def derivative(x: Tensor) -> Tensor:
        # 1/6 strictly inside (-3, 3), as PyTorch
        return E.where(E.logical_and(E.gt(x, -3.0), E.lt(x, 3.0)), 1.0 / 6.0, 0.0).to(x.dtype)

    return _pointwise(x, "hardsigmoid", lambda x: E.clamp(x / 6.0 + 0.5, 0.0, 1.0), derivative)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6; ``inplace=True`` writes the result into ``input``."""
    return _maybe_inplace(input, _hardsigmoid, inplace, "hardsigmoid_")


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val], with PyTorch's gradient (1 strictly inside, 0 at the ends);
    ``inplace=True`` writes the result into ``input``."""
    if min_val > max_val:
        raise ValueError(
            f"hardtanh: min_val ({min_val}) must be less than or equal to max_val ({max_val}); swap them"
        )

    def derivative(x: Tensor) -> Tensor:
        return E.where(E.logical_and(E.gt(x, min_val), E.lt(x, max_val)), 1.0, 0.0).to(x.dtype)

    def fn(x: Tensor) -> Tensor:
        return _pointwise(x, "hardtanh", lambda x: E.clamp(x, min_val, max_val), derivative)

    return _maybe_inplace(input, fn, inplace, "hardtanh_")


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)), computed stably as min(x, 0) - log1p(exp(-|x|))."""
    return _pointwise(
        input,
        "logsigmoid",
        lambda x: E.clamp(x, max=0.0) - E.log1p(E.exp(-E.abs(x))),
        lambda x: E.sigmoid(-x),
    )


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (E.abs(input) + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return input - E.tanh(input)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else ``value``; ``inplace=True`` writes the result into ``input``."""

    def fn(x: Tensor) -> Tensor:
        return E.where(E.gt(x, threshold), x, E.full_like(x, value))

    return _maybe_inplace(input, fn, inplace, "threshold_", saves_input=False)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: the first half of ``input`` along ``dim`` times the sigmoid of the second."""
    if input.ndim == 0:
        raise ValueError("glu: input must have at least one dimension, got a 0-d tensor")
    if not -input.ndim <= dim < input.ndim:
        raise IndexError(f"glu: dim {dim} is out of range for a {input.ndim}-d input")
    size = input.shape[dim]
    if size % 2:
        raise ValueError(
            f"glu: the halved dimension must be even, but dimension {dim % input.ndim} is of size "
            f"{size}; pad it or pick another dim"
        )
    a, b = E.chunk(input, 2, dim)
    return a * E.sigmoid(b)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x where x > 0, weight * x elsewhere; ``weight`` has one element or one per channel (dim 1;
    inputs with fewer than 2 dims have one channel)."""
    channels = input.shape[1] if input.ndim >= 2 else 1
    n = weight.numel()
    if weight.ndim > 1 or (n != 1 and n != channels):
        raise ValueError(
            f"prelu: weight has shape {tuple(weight.shape)}, but the input of shape "
            f"{tuple(input.shape)} has {channels} channel(s); pass one weight or one per channel"
        )
    w = weight.reshape((-1,) + (1,) * (input.ndim - 2)) if n > 1 else weight.reshape(())
    return E.where(E.gt(input, 0), input, w * input)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0."""
    return E.where(E.gt(E.abs(input), lambd), input, E.zeros_like(input))


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be greater than or equal to 0, got {lambd}")
    shrunk = input - E.sign(input) * lambd
    return E.where(E.gt(E.abs(input), lambd), shrunk, E.zeros_like(input))


_threshold = threshold  # threshold_'s own argument is named threshold, as PyTorch's


# -- PyTorch's in-place functional forms: the activation with inplace=True --------------------------
def relu_(input: Tensor) -> Tensor:
    """:func:`relu` written into ``input`` (returned)."""
    return relu(input, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """:func:`elu` written into ``input`` (returned)."""
    return elu(input, alpha, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """:func:`leaky_relu` written into ``input`` (returned)."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """:func:`hardtanh` written into ``input`` (returned)."""
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """:func:`threshold` written into ``input`` (returned)."""
    return _threshold(input, threshold, value, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """:func:`celu` written into ``input`` (returned)."""
    return celu(input, alpha, inplace=True)


def selu_(input: Tensor) -> Tensor:
    """:func:`selu` written into ``input`` (returned)."""
    return selu(input, inplace=True)


# -- op records ---------------------------------------------------------------------------------
def rrelu(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
    *,
    generator: Any = None,
) -> Tensor:
    """Randomized leaky ReLU: x for x > 0, a * x otherwise. While training, each element draws its
    own slope a from U(lower, upper) with the device's default generator (or ``generator``); in
    eval (``training=False``, the functional default as in PyTorch) a = (lower + upper) / 2. The
    gradient is 1 or the element's slope. ``inplace=True`` writes the result into ``input``."""
    lower, upper = float(lower), float(upper)
    if lower > upper:
        raise RuntimeError(
            f"rrelu: lower ({lower}) must be less than or equal to upper ({upper}); swap them or pass "
            "lower <= upper"
        )
    if not training:
        return _maybe_inplace(input, lambda x: E.leaky_relu(x, (lower + upper) / 2), inplace, "rrelu_")
    if not input.dtype.is_floating_point:
        raise TypeError(
            f"rrelu: training draws random slopes, so it needs a floating input, got {input.dtype}"
        )
    u = E.rand(input.shape, dtype=input.dtype, device=input.device, generator=generator)
    slope = u * (upper - lower) + lower
    # PyTorch takes x <= 0 on the slope side: the gradient at 0 is the drawn slope
    return _maybe_inplace(input, lambda x: E.where(E.gt(x, 0), x, x * slope), inplace, "rrelu_")


def rrelu_(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    *,
    generator: Any = None,
) -> Tensor:
    """:func:`rrelu` written into ``input`` (returned)."""
    return rrelu(input, lower, upper, training, inplace=True, generator=generator)


def _inplace_checked(fn: Any, name: str) -> Any:
    """The conformance kit's call for an activation with ``inplace``: with ``inplace=True`` it runs
    on a clone of the input (so the sample's tensor is left as it was) and checks that the clone
    itself was written (its version counter moved) and returned."""

    def call(input: Tensor, *args: Any, inplace: bool = False, **kwargs: Any) -> Tensor:
        if not inplace:
            return fn(input, *args, **kwargs)
        target = input.clone()
        version = target._version[0]
        out = fn(target, *args, inplace=True, **kwargs)
        if out is not target:
            raise AssertionError(f"{name}(inplace=True) returned a new tensor instead of its input")
        if target._version[0] == version:
            raise AssertionError(f"{name}(inplace=True) did not write into its input (version unchanged)")
        return out

    return call


def _inplace_form_checked(fn: Any, name: str) -> Any:
    """The kit's call for an in-place form (``relu_``): it runs on a clone of the input and checks
    that the clone was written (its version moved) and returned."""

    def call(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        target = input.clone()
        version = target._version[0]
        out = fn(target, *args, **kwargs)
        if out is not target:
            raise AssertionError(f"{name} returned a new tensor instead of its input")
        if target._version[0] == version and target.numel():
            raise AssertionError(f"{name} did not write into its input (version unchanged)")
        return out

    return call


def _records() -> None:
    import math

    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import FLOATS16, ErrorSample, Sample, SampleFn, np_erf, rand_array, unary_samples

    def samples(low: float = -2.0, high: float = 2.0, inplace: bool = False, **kw: Any) -> SampleFn:
        """The unary samples with ``kw`` and, for ops with ``inplace``, in-place calls too."""
        base = unary_samples(low, high, **kw)

        def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
            out = base(dtype, rng)
            if inplace:
                k = dict(kw, inplace=True)
                out += [
                    Sample((rand_array(rng, (3, 4), dtype, low, high),), k),
                    Sample((rand_array(rng, (), dtype, low, high),), dict(k), grad=False),
                    Sample((rand_array(rng, (4, 3), dtype, low, high),), dict(k), noncontig=True),
                    Sample(
                        (rand_array(rng, (3, 5), dtype, low, high),), dict(k), noncontig="flip", grad=False
                    ),
                ]
            return out

        return make

    def joined(*fns: SampleFn) -> SampleFn:
        return lambda dtype, rng: [s for f in fns for s in f(dtype, rng)]

    def relu_ref(x: np.ndarray, inplace: bool = False) -> np.ndarray:
        return np.where(x > 0, x, 0).astype(x.dtype)

    def relu6_ref(x: np.ndarray, inplace: bool = False) -> np.ndarray:
        return np.minimum(np.maximum(x, 0), 6).astype(x.dtype)

    def gelu_ref(x: np.ndarray, approximate: str = "none") -> np.ndarray:
        if approximate == "tanh":
            return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
        return 0.5 * x * (1 + np_erf(x / math.sqrt(2)))

    def sigmoid_ref(x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-x))

    def silu_ref(x: np.ndarray, inplace: bool = False) -> np.ndarray:
        return x / (1 + np.exp(-x))

    def leaky_relu_ref(x: np.ndarray, negative_slope: float = 0.01, inplace: bool = False) -> np.ndarray:
        return np.where(x > 0, x, negative_slope * x)

    def elu_ref(x: np.ndarray, alpha: float = 1.0, inplace: bool = False) -> np.ndarray:
        return np.where(x > 0, x, alpha * np.expm1(x))

    def softplus_ref(x: np.ndarray, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
        return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)

    def np_sigmoid(x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-x))

    def selu_ref(x: np.ndarray, inplace: bool = False) -> np.ndarray:
        return _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(x))

    def celu_ref(x: np.ndarray, alpha: float = 1.0, inplace: bool = False) -> np.ndarray:
        return np.where(x > 0, x, alpha * np.expm1(x / alpha))

    def mish_ref(x: np.ndarray, inplace: bool = False) -> np.ndarray:
        return x * np.tanh(np.log1p(np.exp(x)))

    def hardswish_ref(x: np.ndarray, inplace: bool = False) -> np.ndarray:
        return x * np.clip(x + 3, 0, 6) / 6

    def hardsigmoid_ref(x: np.ndarray, inplace: bool = False) -> np.ndarray:
        return np.clip(x / 6 + 0.5, 0, 1)

    def hardtanh_ref(
        x: np.ndarray, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
    ) -> np.ndarray:
        return np.clip(x, min_val, max_val)

    def logsigmoid_ref(x: np.ndarray) -> np.ndarray:
        return np.log(np_sigmoid(x))

    def softsign_ref(x: np.ndarray) -> np.ndarray:
        return x / (1 + np.abs(x))

    def tanhshrink_ref(x: np.ndarray) -> np.ndarray:
        return x - np.tanh(x)

    def threshold_ref(x: np.ndarray, threshold: float, value: float, inplace: bool = False) -> np.ndarray:
        return np.where(x > threshold, x, value).astype(x.dtype)

    def glu_ref(x: np.ndarray, dim: int = -1) -> np.ndarray:
        a, b = np.split(x, 2, axis=dim)
        return a * np_sigmoid(b)

    def prelu_ref(x: np.ndarray, w: np.ndarray) -> np.ndarray:
        w = w.reshape((-1,) + (1,) * (x.ndim - 2)) if w.size > 1 else w.reshape(())
        return np.where(x > 0, x, w * x)

    def glu_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(3, 4),)),
            Sample((a(4, 3),), {"dim": 0}),
            Sample((a(2, 6, 3),), {"dim": 1}),
            Sample((a(6),)),
            Sample((a(0, 4),), grad=False),
            Sample((a(4, 6),), noncontig=True),
            Sample((a(3, 4),), {"dim": 1}, noncontig="flip", grad=False),
        ]

    def prelu_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(3, 4), rand_array(rng, (1,), dtype, 0.1, 0.5))),
            Sample((a(2, 3, 4), rand_array(rng, (3,), dtype, 0.1, 0.5))),
            Sample((a(2, 3, 2, 2), rand_array(rng, (3,), dtype, -0.5, 0.5))),
            Sample((a(5), rand_array(rng, (1,), dtype, 0.1, 0.5))),
            Sample((a(), rand_array(rng, (1,), dtype, 0.1, 0.5))),
            Sample((a(0, 3), rand_array(rng, (3,), dtype, 0.1, 0.5)), grad=False),
            Sample((a(4, 3), rand_array(rng, (3,), dtype, 0.1, 0.5)), noncontig=True),
        ]

    def hardshrink_ref(x: np.ndarray, lambd: float = 0.5) -> np.ndarray:
        return np.where(np.abs(x) > lambd, x, 0).astype(x.dtype)

    def softshrink_ref(x: np.ndarray, lambd: float = 0.5) -> np.ndarray:
        return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0)).astype(x.dtype)

    register(
        OpRecord(
            "nn.functional.relu",
            relu,
            samples(inplace=True),
            relu_ref,
            call=_inplace_checked(relu, "relu"),
            dtypes=FLOATS16,
        ),
        OpRecord(
            "nn.functional.relu6",
            relu6,
            samples(-3.0, 8.0, inplace=True),  # both kinks: below 0 and above 6
            relu6_ref,
            call=_inplace_checked(relu6, "relu6"),
            dtypes=FLOATS16,
        ),
        OpRecord(
            "nn.functional.gelu",
            gelu,
            joined(samples(-3.0, 3.0), samples(-3.0, 3.0, approximate="tanh")),
            gelu_ref,
        ),
        OpRecord(
            "nn.functional.silu",
            silu,
            samples(-4.0, 4.0, inplace=True),
            silu_ref,
            call=_inplace_checked(silu, "silu"),
        ),
        OpRecord("nn.functional.tanh", tanh, samples(-3.0, 3.0), np.tanh, dtypes=FLOATS16),
        OpRecord("nn.functional.sigmoid", sigmoid, samples(-4.0, 4.0), sigmoid_ref, dtypes=FLOATS16),
        OpRecord(
            "nn.functional.leaky_relu",
            leaky_relu,
            joined(samples(inplace=True), samples(inplace=True, negative_slope=0.2)),
            leaky_relu_ref,
            call=_inplace_checked(leaky_relu, "leaky_relu"),
        ),
        OpRecord(
            "nn.functional.elu",
            elu,
            joined(samples(-3.0, 2.0, inplace=True), samples(-3.0, 2.0, inplace=True, alpha=1.5)),
            elu_ref,
            call=_inplace_checked(elu, "elu"),
        ),
        OpRecord(
            "nn.functional.softplus",
            softplus,
            # beta * x > threshold takes the linear branch: threshold=1 with beta=2 puts it at x = 0.5
            joined(samples(-4.0, 4.0), samples(-2.0, 2.0, beta=2.0, threshold=1.0)),
            softplus_ref,
        ),
        OpRecord(
            "nn.functional.selu",
            selu,
            samples(-3.0, 2.0, inplace=True),
            selu_ref,
            call=_inplace_checked(selu, "selu"),
        ),
        OpRecord(
            "nn.functional.celu",
            celu,
            joined(samples(-3.0, 2.0, inplace=True), samples(-3.0, 2.0, alpha=0.5)),
            celu_ref,
            call=_inplace_checked(celu, "celu"),
            errors=(ErrorSample((np.ones(3),), {"alpha": 0.0}, ValueError, "celu: alpha cannot be 0"),),
        ),
        OpRecord(
            "nn.functional.mish",
            mish,
            samples(-4.0, 4.0, inplace=True),
            mish_ref,
            call=_inplace_checked(mish, "mish"),
        ),
        OpRecord(
            "nn.functional.hardswish",
            hardswish,
            samples(-4.5, 4.5, inplace=True),  # both kinks, -3 and 3
            hardswish_ref,
            call=_inplace_checked(hardswish, "hardswish"),
        ),
        OpRecord(
            "nn.functional.hardsigmoid",
            hardsigmoid,
            samples(-4.5, 4.5, inplace=True),
            hardsigmoid_ref,
            call=_inplace_checked(hardsigmoid, "hardsigmoid"),
        ),
        OpRecord(
            "nn.functional.hardtanh",
            hardtanh,
            joined(samples(inplace=True), samples(-3.0, 3.0, min_val=-0.5, max_val=2.0)),
            hardtanh_ref,
            call=_inplace_checked(hardtanh, "hardtanh"),
            errors=(
                ErrorSample(
                    (np.ones(3),), {"min_val": 2.0, "max_val": 1.0}, ValueError, "hardtanh: min_val \\(2.0\\)"
                ),
            ),
        ),
        OpRecord("nn.functional.logsigmoid", logsigmoid, samples(-6.0, 6.0), logsigmoid_ref),
        OpRecord("nn.functional.softsign", softsign, samples(-3.0, 3.0), softsign_ref),
        OpRecord("nn.functional.tanhshrink", tanhshrink, samples(-3.0, 3.0), tanhshrink_ref),
        OpRecord(
            "nn.functional.threshold",
            threshold,
            joined(
                samples(inplace=True, threshold=0.3, value=-1.5),
                samples(threshold=-0.5, value=0.0),
            ),
            threshold_ref,
            call=_inplace_checked(threshold, "threshold"),
        ),
        OpRecord(
            "nn.functional.glu",
            glu,
            glu_samples,
            glu_ref,
            errors=(
                ErrorSample((np.ones((2, 3)),), {}, ValueError, "glu: the halved dimension must be even"),
                ErrorSample((np.ones((2, 4)),), {"dim": 2}, IndexError, "glu: dim 2 is out of range"),
            ),
        ),
        OpRecord(
            "nn.functional.prelu",
            prelu,
            prelu_samples,
            prelu_ref,
            errors=(
                ErrorSample(
                    (np.ones((2, 3)), np.ones(2)), {}, ValueError, "prelu: weight has shape \\(2,\\)"
                ),
            ),
        ),
        OpRecord(
            "nn.functional.hardshrink",
            hardshrink,
            joined(samples(), samples(-3.0, 3.0, lambd=1.5)),
            hardshrink_ref,
            dtypes=FLOATS16,
        ),
        OpRecord(
            "nn.functional.softshrink",
            softshrink,
            joined(samples(), samples(-3.0, 3.0, lambd=1.5)),
            softshrink_ref,
            errors=(
                ErrorSample(
                    (np.ones(3),),
                    {"lambd": -1.0},
                    ValueError,
                    "softshrink: lambd must be greater than or equal to 0",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.relu_", relu_, samples(), relu_ref, call=_inplace_form_checked(relu_, "relu_")
        ),
        OpRecord(
            "nn.functional.elu_",
            elu_,
            samples(-3.0, 2.0, alpha=1.5),
            elu_ref,
            call=_inplace_form_checked(elu_, "elu_"),
        ),
        OpRecord(
            "nn.functional.leaky_relu_",
            leaky_relu_,
            samples(negative_slope=0.2),
            leaky_relu_ref,
            call=_inplace_form_checked(leaky_relu_, "leaky_relu_"),
        ),
        OpRecord(
            "nn.functional.hardtanh_",
            hardtanh_,
            samples(-3.0, 3.0, min_val=-0.5, max_val=2.0),
            hardtanh_ref,
            call=_inplace_form_checked(hardtanh_, "hardtanh_"),
        ),
        OpRecord(
            "nn.functional.threshold_",
            threshold_,
            samples(threshold=0.3, value=-1.5),
            threshold_ref,
            call=_inplace_form_checked(threshold_, "threshold_"),
        ),
        OpRecord(
            "nn.functional.celu_",
            celu_,
            samples(-3.0, 2.0, alpha=0.5),
            celu_ref,
            call=_inplace_form_checked(celu_, "celu_"),
        ),
        OpRecord(
            "nn.functional.selu_",
            selu_,
            samples(-3.0, 2.0),
            selu_ref,
            call=_inplace_form_checked(selu_, "selu_"),
        ),
    )


def _rrelu_checked(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
    seed: int | None = None,
) -> Tensor:
    """The kit's call for rrelu, whose training slopes are random. In eval: the output itself
    (leaky_relu with the mean slope). Training: a bool tensor, True where a positive element is
    unchanged and a negative one was scaled by a slope in [lower, upper] (the inputs have no
    zeros); with ``seed`` (a fresh ``Generator(device, seed)``) a second call must give the same
    output, and the slopes must not all be one value. ``inplace=True`` runs on a clone and checks
    that the clone is returned."""
    from ...ops.random_creation import Generator

    def run() -> Tensor:
        target = input.clone() if inplace else input
        gen = Generator(input.device, seed) if seed is not None else None
        out = rrelu(target, lower, upper, training, inplace, generator=gen)
        if inplace and out is not target:
            raise AssertionError("rrelu(inplace=True) returned a new tensor instead of its input")
        return out

    out = run()
    if not training:
        return out
    # bfloat16 (2 bytes): the output's rounding moves the ratio by up to 2**-8 of it
    slack = 1e-5 if input.dtype.itemsize >= 8 else (1e-3 if input.dtype.itemsize >= 4 else 1e-2)
    ratio = out / input
    in_range = E.logical_and(E.ge(ratio, lower - slack), E.le(ratio, upper + slack))
    ok = E.where(E.gt(input, 0), E.eq(out, input), in_range)
    if seed is not None:
        ok = E.logical_and(ok, E.eq(out, run()))
        neg = E.lt(input, 0)
        mid = (lower + upper) / 2
        spread = E.logical_and(
            E.logical_and(neg, E.lt(ratio, mid)).any(), E.logical_and(neg, E.gt(ratio, mid)).any()
        )
        ok = E.logical_and(ok, spread)
    return ok


def _rrelu_fixed_slopes(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3) -> Tensor:
    """rrelu in training with a freshly seeded generator on every call: a deterministic function of
    ``input``, so its gradient (1 or each element's slope) can be checked by finite differences."""
    from ...ops.random_creation import Generator

    return rrelu(input, lower, upper, True, generator=Generator(input.device, 5))


def _rrelu_records() -> None:
    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import ErrorSample, Sample, rand_array

    def nonzero(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
        mag = rand_array(rng, shape, dtype, 0.1, 2.0)
        return np.where(rng.random(shape) < 0.5, -mag, mag).astype(dtype)

    def samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return nonzero(rng, s, dtype)

        return [
            Sample((a(3, 4),)),
            Sample((a(3, 4),), {"lower": 0.1, "upper": 0.5}),
            Sample((a(2, 3),), {"inplace": True}),
            Sample((a(4, 3),), {}, noncontig=True),
            Sample((a(),), {}),
            Sample((a(0, 3),), {}, grad=False),
            Sample((a(6, 7),), {"training": True}, grad=False),
            Sample((a(6, 7),), {"training": True, "lower": 0.2, "upper": 0.2}, grad=False),
            Sample((a(5, 4),), {"training": True, "inplace": True}, noncontig=True, grad=False),
            Sample((a(4, 5),), {"training": True}, noncontig="flip", grad=False),
            Sample((a(400),), {"training": True, "seed": 3}, grad=False),
        ]

    def ref(
        x: np.ndarray,
        lower: float = 1.0 / 8,
        upper: float = 1.0 / 3,
        training: bool = False,
        inplace: bool = False,
        seed: int | None = None,
    ) -> np.ndarray:
        if training:
            return np.ones(x.shape, dtype=bool)
        return np.where(x > 0, x, x * ((lower + upper) / 2))

    def fixed_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample((nonzero(rng, (3, 4), dtype),)),
            Sample((nonzero(rng, (5,), dtype), 0.05, 0.6)),
            Sample((nonzero(rng, (4, 3), dtype),), noncontig=True),
        ]

    def inplace_form_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample((nonzero(rng, (3, 4), dtype),)),
            Sample((nonzero(rng, (4, 3), dtype), 0.1, 0.5), noncontig=True),
        ]

    def inplace_form_ref(x: np.ndarray, lower: float = 1.0 / 8, upper: float = 1.0 / 3) -> np.ndarray:
        return np.where(x > 0, x, x * ((lower + upper) / 2))

    register(
        OpRecord(
            "nn.functional.rrelu",
            rrelu,
            samples,
            ref,
            call=_rrelu_checked,
            errors=(
                ErrorSample(
                    (np.ones(3),),
                    {"lower": 0.5, "upper": 0.2},
                    RuntimeError,
                    "rrelu: lower \\(0.5\\) must be",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.rrelu_fixed_slopes",
            rrelu,
            fixed_samples,
            None,
            call=_rrelu_fixed_slopes,
            covers=("nn.functional.rrelu",),
            public=False,
        ),
        OpRecord(
            "nn.functional.rrelu_",
            rrelu_,
            inplace_form_samples,
            inplace_form_ref,
            call=_inplace_form_checked(rrelu_, "rrelu_"),
        ),
    )


_records()
_rrelu_records()
