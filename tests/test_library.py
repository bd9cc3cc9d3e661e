"""Custom ops defined from Python with ember.library.Op."""

from __future__ import annotations

import doctest

import ember
import ember.library
import numpy as np
import pytest
from ember.autograd import gradcheck
from ember.library import Op


def _meta(x: ember.Tensor, scale: float) -> tuple:
    if not x.dtype.is_floating_point:
        raise TypeError(f"mylib.scaled_tanh: expected a floating tensor, got {x.dtype}")
    return x.shape, x.dtype


def make_op(with_kernel: bool = True, with_composite: bool = True) -> Op:
    op = Op(
        "mylib.scaled_tanh",
        meta=_meta,
        composite=(lambda x, scale: ember.tanh(x) * scale) if with_composite else None,
        backward=lambda ctx, g: (g * ctx.params["scale"] * (1 - (ctx.output / ctx.params["scale"]) ** 2),),
    )
    if with_kernel:
        op.register_kernel("cpu", lambda x, scale: np.tanh(x) * scale)
    return op


def test_kernel_and_composite_agree_with_gradients() -> None:
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    with_kernel, composite_only = make_op(True), make_op(False)
    np.testing.assert_allclose(
        with_kernel(x, scale=2.0).detach().numpy(), composite_only(x, scale=2.0).detach().numpy()
    )
    assert with_kernel(x, scale=2.0).grad_fn.name() == "mylib.scaled_tanhBackward"
    gradcheck(lambda t: with_kernel(t, scale=2.0), [x])
    gradcheck(lambda t: composite_only(t, scale=2.0), [x])


def test_meta_validates_and_missing_kernel_is_reported() -> None:
    op = make_op(with_kernel=False, with_composite=False)
    with pytest.raises(TypeError, match="mylib.scaled_tanh: expected a floating tensor, got ember.int64"):
        op(ember.arange(3), scale=1.0)
    with pytest.raises(
        ember.KernelNotFoundError,
        match=r"op 'mylib.scaled_tanh' has no kernel on device type "
        r"'cpu'.*register one with mylib.scaled_tanh.register_kernel\('cpu', fn\)",
    ):
        op(ember.ones(2), scale=1.0)


def test_no_backward_with_grad_is_an_error() -> None:
    op = Op("mylib.double", meta=lambda x: (x.shape, x.dtype), kernels={"cpu": lambda x: x * 2})
    assert op(ember.ones(2)).tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match="mylib.double: an input requires grad but the op has no backward"):
        op(ember.ones(2, requires_grad=True))


def test_module_example_runs() -> None:
    assert doctest.testmod(ember.library).failed == 0


def test_backward_sees_which_inputs_need_a_gradient() -> None:
    """``ctx.needs_input_grad`` is fixed when the op runs (PyTorch's): a backward can skip a
    gradient nobody takes, and an input ``detach_()``-ed after the call still gets its gradient
    through to what it was computed from."""
    seen = []

    def backward(ctx: ember.library.OpContext, g: ember.Tensor) -> tuple:
        seen.append(ctx.needs_input_grad)
        a, b = ctx.inputs
        return (g * b if ctx.needs_input_grad[0] else None, g * a if ctx.needs_input_grad[1] else None)

    op = Op(
        "mylib.mul",
        meta=lambda a, b: (a.shape, a.dtype),
        kernels={"cpu": lambda a, b: a * b},
        backward=backward,
    )
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    a = w * 3
    b = ember.tensor([5.0, 7.0])
    out = op(a, b)
    a.detach_()
    out.sum().backward()
    assert seen == [(True, False)]
    np.testing.assert_array_equal(w.grad.numpy(), [15.0, 21.0])  # 3 * b
