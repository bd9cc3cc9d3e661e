"""In-place ops on views of tensors that require grad, with PyTorch's semantics: the base's
history is rebuilt (gradient inside the view goes to the written values, outside it to the old
history), and other views of the base follow the base's new values."""

from __future__ import annotations

import ember
import numpy as np
import pytest
from ember.autograd import gradcheck


def f64(*values):
    return ember.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def test_in_place_on_a_view_then_use_the_base():
    w = f64(1.0, 2.0, 3.0)
    h = w * 1.0
    h[1:].mul_(3.0)
    (h * h).sum().backward()
    assert w.grad.tolist() == [2.0, 36.0, 54.0]  # d/dw of w0^2 + 9 w1^2 + 9 w2^2


def test_in_place_on_a_view_through_reshape_and_permute():
    w = ember.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    h = w * 2.0
    h.t()[1].add_(10.0)  # column 1 of h
    h.reshape(6)[0:2].mul_(w.reshape(6)[4:6])  # h[0, 0:2] *= w[1, 1:3]
    h.sum().backward()
    # h = [[2 w00 w11, (2 w01 + 10) w12, 2 w02], [2 w10, 2 w11 + 10, 2 w12]] with w = arange(6)
    expected = np.array([[2 * 4.0, 2 * 5.0, 2.0], [2.0, 2 * 0.0 + 2, (2 * 1.0 + 10) + 2]])
    np.testing.assert_allclose(w.grad.numpy(), expected)


def test_writing_constants_into_a_view_cuts_the_gradient_there():
    w = f64(1.0, 2.0, 3.0, 4.0)
    h = w * 5.0
    h[1:3].fill_(0.0)
    h[3:].copy_(ember.tensor([7.0], dtype=ember.float64))
    h.sum().backward()
    assert w.grad.tolist() == [5.0, 0.0, 0.0, 0.0]


def test_other_views_follow_the_base_after_an_in_place_write():
    w = f64(1.0, 2.0, 3.0)
    h = w * 2.0
    first, rest = h[:1], h[1:]
    rest.mul_(w[1:])  # h[1:] = 2 w[1:] * w[1:]
    (first + h[2:]).sum().backward()
    assert w.grad.tolist() == [2.0, 0.0, 12.0]  # 2 w0 + 2 w2^2


def test_gradcheck_through_in_place_view_updates():
    def f(w, u):
        h = w * 1.0
        h[1:3].mul_(u)
        h[::2].add_(u.sum())
        col = h.reshape(2, 2).t()[0]
        col.sub_(h[3] * 0.5)
        return (h * h).sum()

    assert gradcheck(f, (f64(1.0, -2.0, 3.0, 0.5), f64(0.3, -1.5)))


def test_views_of_leaves_and_unreplayable_views_are_refused():
    w = f64(1.0, 2.0)
    with pytest.raises(RuntimeError, match=r"mul_: a view of a leaf tensor that requires grad .* in-place"):
        w[0:1].mul_(2.0)
    h = w * 1.0
    alias = h.detach()
    alias.add_(1.0)  # not tracked: allowed, no gradient flows through it
    assert h.tolist() == [2.0, 3.0]
