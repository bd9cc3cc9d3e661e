"""Post-accumulate-grad hooks and end-of-backward callbacks: the autograd support data-parallel
training overlaps its communication with (a hook fires as soon as a leaf's gradient is final,
while backward still runs; a callback runs once backward has finished)."""

from __future__ import annotations

import ember
import ember.nn as nn
import numpy as np
import pytest
from ember.autograd import queue_callback


def test_a_leaf_hook_fires_once_its_gradient_is_final_while_backward_still_runs() -> None:
    ember.manual_seed(0)
    first, second = nn.Linear(3, 4), nn.Linear(4, 2)
    events: list[str] = []

    def post(name: str):
        def hook(p: ember.Tensor) -> None:
            events.append(f"{name} final, grad {'set' if p.grad is not None else 'missing'}")
            if len(events) == 1:
                queue_callback(lambda: events.append("callback"))

        return hook

    second.weight.register_post_accumulate_grad_hook(post("second.weight"))
    first.weight.register_post_accumulate_grad_hook(post("first.weight"))
    hidden = first(ember.randn(5, 3)).tanh()
    hidden.register_hook(lambda g: events.append("hidden grad computed"))
    second(hidden).sum().backward()
    # the last layer's weight is final before backward reaches the hidden activations, and the
    # first layer's only after; the callback comes after every leaf
    assert events == [
        "second.weight final, grad set",
        "hidden grad computed",
        "first.weight final, grad set",
        "callback",
    ]


def test_a_leaf_used_twice_fires_once_with_the_sum_and_accumulates_across_backwards() -> None:
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    seen: list[list[float]] = []
    w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    ((w * w).sum() + (w * 3).sum()).backward()  # two paths into w: 2w + 3
    assert seen == [[5.0, 7.0]]
    (w * 2).sum().backward()  # accumulates into .grad: the hook sees the total
    assert seen == [[5.0, 7.0], [7.0, 9.0]]
    w.backward(ember.ones(2))  # the leaf itself as the root
    assert seen[-1] == [8.0, 10.0]


def test_post_accumulate_hooks_see_hook_modified_gradients_and_can_be_removed() -> None:
    w = ember.tensor([1.0, 1.0], requires_grad=True)
    w.register_hook(lambda g: g * 10)  # runs before accumulation
    seen: list[list[float]] = []
    handle = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    (w * 2).sum().backward()
    assert seen == [[20.0, 20.0]] and w.grad.tolist() == [20.0, 20.0]
    handle.remove()
    (w * 2).sum().backward()
    assert len(seen) == 1


def test_leaves_whose_op_gives_no_gradient_still_finish_the_others() -> None:
    class HalfGrad(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):  # noqa: ANN001, ANN205
            return a * 2 + b * 0

        @staticmethod
        def backward(ctx, g):  # noqa: ANN001, ANN205
            return g * 2, None  # no gradient for b

    a = ember.ones(2, requires_grad=True)
    b = ember.ones(2, requires_grad=True)
    fired: list[str] = []
    a.register_post_accumulate_grad_hook(lambda p: fired.append("a"))
    b.register_post_accumulate_grad_hook(lambda p: fired.append("b"))
    HalfGrad.apply(a, b).sum().backward()
    assert fired == ["a"] and b.grad is None and a.grad.tolist() == [2.0, 2.0]


def test_callbacks_run_in_order_and_only_inside_backward() -> None:
    with pytest.raises(RuntimeError, match="queue_callback: no backward pass is running in this thread"):
        queue_callback(lambda: None)
    order: list[int] = []
    w = ember.ones(3, requires_grad=True)

    def first(p: ember.Tensor) -> None:
        queue_callback(lambda: (order.append(1), queue_callback(lambda: order.append(3))))
        queue_callback(lambda: order.append(2))

    w.register_post_accumulate_grad_hook(first)
    (w * w).sum().backward()
    assert order == [1, 2, 3]


def test_autograd_grad_calls_no_post_accumulate_hook() -> None:
    w = ember.tensor(np.arange(3.0, dtype=np.float32), requires_grad=True)
    fired: list[int] = []
    w.register_post_accumulate_grad_hook(lambda p: fired.append(1))
    (g,) = ember.autograd.grad((w * w).sum(), [w])
    assert g.tolist() == [0.0, 2.0, 4.0] and fired == [] and w.grad is None
