"""gradcheck's fast mode (PyTorch's ``fast_mode=True``): ``v^T J u`` along random directions passes
correct gradients, real and complex, and catches wrong ones, as the full Jacobians do."""

from __future__ import annotations

import re

import ember
import numpy as np
import pytest
from ember.autograd import Function, gradcheck
from torch_required import require_torch

pytest_plugins = ["pytester"]


def f64(*shape: int, seed: int = 0) -> ember.Tensor:
    rng = np.random.default_rng(seed)
    return ember.tensor(rng.standard_normal(shape), dtype=ember.float64, requires_grad=True)


def c128(*shape: int, seed: int = 0) -> ember.Tensor:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return ember.tensor(z, dtype=ember.complex128, requires_grad=True)


def test_fast_mode_passes_correct_gradients() -> None:
    """Several inputs and outputs (one of them an integer output), real and complex, an argument
    that is no tensor, a tensor that does not require grad, an output that does not require grad."""
    a, b, z = f64(3, 4), f64(4, 2, seed=1), c128(2, 3, seed=2)
    const = ember.tensor(np.arange(3.0))  # requires no grad

    def fn(a, scale, b, const, z):
        ab = (a @ b).tanh() * scale
        return ab, (a * const.reshape(3, 1)).sum(0), const * 2, (z * z.conj()).real, z.exp() @ a, a.argmax(1)

    assert gradcheck(fn, [a, 0.5, b, const, z], fast_mode=True)
    assert gradcheck(lambda z: (z * z).abs() + z.angle(), [c128(5)], fast_mode=True)  # C -> R
    assert gradcheck(lambda x: x * (2 - 3j), [f64(4)], fast_mode=True)  # R -> C
    assert gradcheck(lambda x: x[1:].sum(), [f64(0, 3)], fast_mode=True)  # an empty input


class _Scaled(Function):
    """y = 2 x, whose backward is ``g * factor`` (right for factor 2)."""

    factor: float = 2.0

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @classmethod
    def backward(cls, ctx, g):
        return g * cls.factor


class _Off(_Scaled):
    factor = 2.1


class _OneElementWrong(Function):
    """y = x ** 2 with the gradient of element 4 alone wrong (by 0.05 g there)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        bump = np.zeros(tuple(x.shape))
        bump.reshape(-1)[4] = 0.05
        return g * 2 * x + ember.tensor(bump) * g


class _ImagWrong(Function):
    """y = z (2 + 3i), whose gradient is g (2 - 3i): this backward gets its imaginary part wrong."""

    @staticmethod
    def forward(ctx, z):
        return z * (2 + 3j)

    @staticmethod
    def backward(ctx, g):
        return g * (2 - 2j)


class _WrongForImagOutputPart(Function):
    """y = x (1 + 2i) for a real x, whose gradient is Re(g (1 - 2i)); this backward gives Re(g), right
    only for the output's real part."""

    @staticmethod
    def forward(ctx, x):
        return x * (1 + 2j)

    @staticmethod
    def backward(ctx, g):
        return g.real


@pytest.mark.parametrize(
    "fn,x,where",
    [
        (_Off.apply, f64(3, 2), "output 0"),
        (lambda x, y: (y * 3, _OneElementWrong.apply(x)), [f64(3, 3), f64(2, seed=1)], "output 1"),
        (_ImagWrong.apply, c128(4), "the real part of complex output 0"),
        (_WrongForImagOutputPart.apply, f64(4), "the imaginary part of complex output 0"),
    ],
    ids=["off-by-a-factor", "one-element", "imaginary-part-of-gradient", "imaginary-part-of-output"],
)
def test_fast_mode_reports_wrong_gradients(fn, x, where) -> None:
    """Each wrong backward fails in both modes; fast mode names the input and output, gives both
    projections, and says how to see the whole Jacobians."""
    inputs = x if isinstance(x, list) else [x]
    with pytest.raises(AssertionError, match="does not match finite differences"):
        gradcheck(fn, inputs)
    with pytest.raises(AssertionError) as info:
        gradcheck(fn, inputs, fast_mode=True)
    msg = str(info.value)
    assert msg.startswith(
        "gradcheck (fast mode): gradient of differentiable input 0 (argument 0) does not match finite "
        f"differences for {where}: along random directions u of the input and v of the output, "
        "numerical v^T J u = "
    ), msg
    assert msg.endswith("Re-run with fast_mode=False to see the full Jacobians."), msg
    num, ana = re.search(r"numerical v\^T J u = (\S+), analytical v\^T J u = (\S+) ", msg).groups()
    assert abs(complex(num) - complex(ana)) > 1e-4, msg
    assert gradcheck(fn, inputs, fast_mode=True, raise_exception=False) is False


def test_fast_mode_is_seeded() -> None:
    """The same seed draws the same directions (the same numbers in the message), another seed others."""

    def message(seed: int) -> str:
        with pytest.raises(AssertionError) as info:
            gradcheck(_Off.apply, [f64(5)], fast_mode=True, seed=seed)
        return str(info.value)

    np.random.seed(1)  # the global generators play no part
    first = message(0)
    np.random.seed(2)
    assert message(0) == first
    assert message(1) != first


def test_fast_mode_agrees_with_torch_at_the_tolerance() -> None:
    """A backward off by a relative 3e-4 (inside rtol 1e-3) passes PyTorch's fast gradcheck and this
    one; off by 3e-2, both fail; an error of 1e-6 g in one element (inside atol 1e-5) passes
    both, one of 2 g fails both."""
    torch = require_torch()

    def make(rel: float, abs_err: float):
        # d(x^3)/dx = 3 x^2, scaled by 1 + rel, plus abs_err at element 2 (times g, as PyTorch checks)
        class E(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x * x

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 3 * x * x * (1 + rel) + ember.tensor(_bump(x, abs_err)) * g

        class T(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x * x

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 3 * x * x * (1 + rel) + torch.from_numpy(_bump(x, abs_err)) * g

        return E.apply, T.apply

    x = np.random.default_rng(3).standard_normal((3, 4))
    for rel, abs_err, ok in [(3e-4, 0.0, True), (3e-2, 0.0, False), (0.0, 1e-6, True), (0.0, 2.0, False)]:
        ours, theirs = make(rel, abs_err)
        theirs_ok = torch.autograd.gradcheck(
            theirs,
            (torch.tensor(x, requires_grad=True),),
            fast_mode=True,
            raise_exception=False,
            check_undefined_grad=False,  # an undefined g reaches this backward as None
        )
        got = gradcheck(ours, [ember.tensor(x, requires_grad=True)], fast_mode=True, raise_exception=False)
        assert (got, theirs_ok) == (ok, ok), (rel, abs_err)


def _bump(x, value: float) -> np.ndarray:
    b = np.zeros(tuple(x.shape))
    b.reshape(-1)[2] = value
    return b


def test_kit_option_picks_the_mode(pytester: pytest.Pytester) -> None:
    """``--ember-gradcheck`` takes full (fast, the default, runs everywhere else) and no other mode."""
    kit = ["--pyargs", "ember.testing", "--ember-device=cpu", "-p", "no:cacheprovider"]
    full = pytester.runpytest(*kit, "-k", "test_gradcheck and exp2", "--ember-gradcheck=full")
    full.assert_outcomes(passed=1)
    bad = pytester.runpytest(*kit, "--ember-gradcheck=slow")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--ember-gradcheck: invalid choice: 'slow' (choose from*fast*full*"])
