"""``inplace=True`` activations and dropout write into their input, as in PyTorch, and autograd
follows the write (values and gradients checked by hand; float64 gradcheck)."""

from __future__ import annotations

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest


@pytest.mark.parametrize(
    ("fn", "ref", "dref"),
    [
        (lambda x: F.relu(x, inplace=True), lambda v: np.maximum(v, 0), lambda v: (v > 0) * 1.0),
        (
            lambda x: F.leaky_relu(x, 0.1, inplace=True),
            lambda v: np.where(v > 0, v, 0.1 * v),
            lambda v: np.where(v > 0, 1.0, 0.1),
        ),
        (
            lambda x: F.elu(x, 1.0, inplace=True),
            lambda v: np.where(v > 0, v, np.expm1(v)),
            lambda v: np.where(v > 0, 1.0, np.exp(v)),
        ),
        (
            lambda x: F.silu(x, inplace=True),
            lambda v: v / (1 + np.exp(-v)),
            lambda v: (1 / (1 + np.exp(-v))) * (1 + v * (1 - 1 / (1 + np.exp(-v)))),
        ),
    ],
)
def test_inplace_activation_writes_input_and_keeps_gradient(fn, ref, dref):
    v = np.array([-2.0, -0.5, 0.5, 3.0])
    w = ember.tensor(v, dtype=ember.float64, requires_grad=True)
    h = w * 1.0  # a non-leaf: in-place is allowed
    out = fn(h)
    assert out is h
    np.testing.assert_allclose(h.detach().numpy(), ref(v), rtol=1e-12)
    (h * 2.0).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * dref(v), rtol=1e-10)
    x = ember.tensor(np.linspace(-2, 2, 8), dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: fn(t * 1.0), (x,))


def test_inplace_on_a_leaf_that_requires_grad_is_refused():
    w = ember.tensor([1.0, -1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"relu_: a leaf tensor that requires grad .* in-place"):
        F.relu(w, inplace=True)


def test_modules_pass_inplace_on():
    x = ember.tensor([-1.0, 2.0])
    assert nn.ReLU(inplace=True)(x) is x and x.tolist() == [0.0, 2.0]
    y = ember.tensor([-1.0, 2.0])
    assert nn.ReLU()(y) is not y and y.tolist() == [-1.0, 2.0]
    z = ember.tensor([-1.0, 2.0])
    nn.LeakyReLU(0.5, inplace=True)(z)
    assert z.tolist() == [-0.5, 2.0]
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)" and repr(nn.ReLU()) == "ReLU()"
    with pytest.raises(TypeError, match=r"Tanh.__init__\(\) takes 1 positional argument"):
        nn.Tanh(3)


def test_dropout_inplace():
    ember.manual_seed(0)
    x = ember.ones(1000)
    d = nn.Dropout(0.5, inplace=True)
    assert d(x) is x
    vals = set(np.unique(x.numpy()).tolist())
    assert vals == {0.0, 2.0}
    d.eval()
    y = ember.ones(3)
    assert d(y) is y and y.tolist() == [1.0, 1.0, 1.0]
    assert repr(d) == "Dropout(p=0.5, inplace=True)"


def test_layer_norm_needs_a_normalized_shape():
    x = ember.ones(2, 3)
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape must have at least one dim"):
        F.layer_norm(x, ())
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(2, 2, 3\) does not match"):
        F.layer_norm(x, (2, 2, 3))
