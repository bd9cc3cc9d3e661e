"""Autograd: backward, grad, higher order, modes, hooks, accumulation, custom Function, in-place checks."""

from __future__ import annotations

from typing import Any

import ember
import numpy as np
import pytest
from ember.autograd import Function, gradcheck


def f64(*shape: int) -> ember.Tensor:
    return ember.randn(*shape, dtype=ember.float64, requires_grad=True)


def test_backward_and_accumulation() -> None:
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0, 6.0]
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0, 9.0]
    x.grad = None
    y = x * 2
    y.backward(ember.tensor([1.0, 0.0, -1.0]))
    assert x.grad.tolist() == [2.0, 0.0, -2.0]


def test_backward_on_non_scalar_needs_gradient() -> None:
    with pytest.raises(
        RuntimeError,
        match=r"backward\(\) on a tensor of shape \(3,\): grad can be implicitly "
        r"created only for scalar outputs; pass gradient=",
    ):
        (ember.ones(3, requires_grad=True) * 2).backward()
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        ember.ones(3).sum().backward()


def test_broadcasting_gradients_reduce_to_input_shapes() -> None:
    a = f64(3, 1)
    b = f64(4)
    gradcheck(lambda a, b: a * b + a - b, [a, b])
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)


def test_retain_graph_and_second_backward_error() -> None:
    x = f64(3)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(force=True), 4 * np.exp(x.detach().numpy()))
    z = (x.exp() * 2).sum()
    z.backward()
    with pytest.raises(
        RuntimeError, match="backward through the graph of .* a second time.*retain_graph=True"
    ):
        z.backward()


def test_grad_with_create_graph_gives_second_derivatives() -> None:
    x = ember.tensor([0.5, -1.0, 2.0], dtype=ember.float64, requires_grad=True)
    y = (x**3).sum()
    (g,) = ember.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * x.detach().numpy() ** 2)
    (h,) = ember.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * x.detach().numpy())
    assert x.grad is None  # grad() does not accumulate


def test_second_derivative_of_nonlinear_chain() -> None:
    x = f64(4)

    def first(x: ember.Tensor) -> ember.Tensor:
        (g,) = ember.autograd.grad((x.tanh() * x.sigmoid()).sum(), x, create_graph=True)
        return g

    gradcheck(first, [x])


def test_grad_mode_switches() -> None:
    x = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        y = x * 2
        with ember.enable_grad():
            z = x * 2
    assert not y.requires_grad and z.requires_grad
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()

    @ember.no_grad()
    def f(t: ember.Tensor) -> ember.Tensor:
        return t * 2

    assert not f(x).requires_grad


def test_detach_and_requires_grad_rules() -> None:
    x = ember.ones(2, requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf
    d[0] = 5.0
    assert x[0].item() == 5.0  # shares memory
    with pytest.raises(
        RuntimeError, match="only floating point and complex tensors can require gradients, got ember.int64"
    ):
        ember.arange(3).requires_grad_()


def test_tensor_hooks_and_retain_grad() -> None:
    x = ember.ones(3, requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    y = x * 2
    y.retain_grad()
    handle = y.register_hook(lambda g: g * 10)
    y.sum().backward()
    assert y.grad.tolist() == [10.0, 10.0, 10.0]
    assert seen == [[20.0, 20.0, 20.0]] and x.grad.tolist() == [20.0, 20.0, 20.0]
    handle.remove()


def test_custom_function() -> None:
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x

    x = f64(5)
    gradcheck(Cube.apply, [x])
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward"


def test_in_place_modification_of_saved_tensor_is_detected() -> None:
    x = ember.ones(3, requires_grad=True)
    y = x * 1
    z = y.exp()  # saves its output
    w = y * y  # saves y
    y.add_(1.0)
    with pytest.raises(
        RuntimeError,
        match=r"needed for the gradient of mul \(shape \(3,\), ember.float32\) has "
        r"been modified by an in-place operation: it is at version 1, expected 0",
    ):
        w.sum().backward()
    z.sum().backward()  # exp saved its own output, not y: still fine


def test_in_place_on_leaf_requiring_grad_is_refused() -> None:
    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="add_: a leaf tensor that requires grad .* in-place operation"):
        x.add_(1)
    with ember.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0, 2.0, 2.0]


def test_in_place_on_non_leaf_keeps_the_graph() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.add_(1.0)
    y.mul_(3.0)
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_setitem_on_non_leaf_records_both_sides() -> None:
    x = f64(4)
    v = f64(2)

    def f(x: ember.Tensor, v: ember.Tensor) -> ember.Tensor:
        y = x * 1
        y[1:3] = v * 2
        return y

    gradcheck(f, [x, v])


def test_views_in_graph() -> None:
    x = f64(3, 4)
    gradcheck(lambda x: x.T.reshape(2, 6)[1:, ::2].sum(0), [x])
    gradcheck(lambda x: x.unsqueeze(0).expand(2, 3, 4).permute(2, 0, 1), [x])
    gradcheck(lambda x: ember.cat([x, x * 2], 1).split(3, 1)[1], [x])
    gradcheck(lambda x: x[ember.tensor([2, 0, 2])], [x])


def test_device_transfer_and_cast_in_graph() -> None:
    x = f64(3)
    gradcheck(lambda x: x.to("cpu").to(ember.float64) * 2, [x])
    y = x.float() * 2
    y.sum().backward()
    assert x.grad.dtype is ember.float64


def test_max_and_min_gradients() -> None:
    x = ember.tensor([[1.0, 5.0, 5.0], [2.0, 0.0, 3.0]], dtype=ember.float64, requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]]
    x.grad = None
    x.max(1).values.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


def test_multiple_roots_backward() -> None:
    x = ember.ones(2, requires_grad=True)
    ember.autograd.backward([x * 2, x * 3], [ember.ones(2), ember.ones(2)])
    assert x.grad.tolist() == [5.0, 5.0]


def test_grad_allow_unused() -> None:
    x, y = f64(2), f64(2)
    with pytest.raises(RuntimeError, match=r"input 1 \(shape \(2,\)\) was not used"):
        ember.autograd.grad((x * 2).sum(), [x, y])
    gx, gy = ember.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)
    assert gy is None and gx.tolist() == [2.0, 2.0]


def test_gradcheck_reports_a_wrong_gradient() -> None:
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    with pytest.raises(
        AssertionError, match="gradient of differentiable input 0 does not match finite differences"
    ):
        gradcheck(Wrong.apply, [f64(3)])


def test_view_of_a_base_modified_in_place_follows_the_new_values() -> None:
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    v = y[1:]  # shares memory with y
    y.mul_(3)  # v now holds new values: as in PyTorch its history is rebuilt from y's new one
    v.sum().backward()
    assert x.grad.tolist() == [0.0, 6.0, 6.0]


@pytest.mark.parametrize(
    "chain",
    [
        lambda x: x.clone().unsqueeze_(1),
        lambda x: x.clone().reshape(2, 12).unsqueeze_(0),
        lambda x: x.expand(2, 2, 3, 4).clone().squeeze_(0),
        lambda x: x.reshape(2, 3, 4, 1).clone().squeeze_(3),
    ],
)
def test_backward_after_an_in_place_shape_change(chain: Any) -> None:
    """An in-place squeeze_/unsqueeze_ of a tensor a recorded op read (reshape, expand, gather
    keep the input's shape as it was recorded): the gradient has the input's shape and torch's
    values (it had the changed shape)."""
    torch = pytest.importorskip("torch")
    x = ember.ones(2, 3, 4, requires_grad=True)
    y = chain(x)
    (y * ember.arange(float(y.numel())).reshape(y.shape)).sum().backward()
    tx = torch.ones(2, 3, 4, requires_grad=True)
    ty = chain(tx)
    (ty * torch.arange(float(ty.numel())).reshape(ty.shape)).sum().backward()
    assert x.grad.shape == (2, 3, 4)
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


# each op's backward once read its input's shape (or its ndim) when backward ran; an in-place
# unsqueeze_ of that input between the op and backward then gave a wrong gradient or an error
_SHAPE_READERS = {
    "broadcast-add": (lambda c, L: c + L.zeros(5, 2, 3, 4, dtype=c.dtype), None),
    "where": (lambda c, L: L.where(c > 0, c, 0.0), None),
    "basic-index": (lambda c, L: c[:, 1], None),
    "index_select": (lambda c, L: c.index_select(1, L.tensor([2, 0])), None),
    "diagonal": (lambda c, L: c.diagonal(0, 1, 2), None),
    "matmul": (lambda c, L: c @ L.ones(4, 2, dtype=c.dtype), None),
    "unfold-im2col": (lambda c, L: L.nn.functional.unfold(c, 2), (1, 2, 3, 4)),
    "solve_triangular": (
        lambda c, L: L.linalg.solve_triangular(L.ones(3, 3, dtype=c.dtype).triu(), c, upper=True),
        None,
    ),
}


def _grad_after_unsqueeze_(lib: Any, op: Any, shape: Any) -> Any:
    """x's gradient through ``op(c)`` where c (x's copy) is unsqueeze_d after the op ran."""
    x = lib.tensor(np.arange(24.0).reshape(2, 3, 4) - 7.5, dtype=lib.float64).requires_grad_(True)
    c = (x if shape is None else x.reshape(shape)).clone()
    y = op(c, lib)
    c.unsqueeze_(0)
    (y * lib.arange(float(y.numel()), dtype=y.dtype).reshape(y.shape)).sum().backward()
    return x.grad


@pytest.mark.parametrize("case", list(_SHAPE_READERS), ids=list(_SHAPE_READERS))
def test_backward_keeps_the_input_shape_it_recorded(case: str) -> None:
    """Backward formulas read an input's shape as recorded, not as an in-place unsqueeze_ left it
    (PyTorch saves sizes at record time): broadcasting binary ops, where, indexing, diagonal,
    matmul, im2col (conv and pooling) and triangular solves give torch's gradient."""
    torch = pytest.importorskip("torch")
    op, shape = _SHAPE_READERS[case]
    g = _grad_after_unsqueeze_(ember, op, shape)
    tg = _grad_after_unsqueeze_(torch, op, shape)
    assert g.shape == (2, 3, 4)
    np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-12)


def test_a_saved_tensor_whose_shape_changed_in_place_is_reported() -> None:
    """A tensor the backward reads (saved) that squeeze_/unsqueeze_ reshaped is an error naming
    both shapes, as PyTorch refuses it (it counts the change as an in-place modification)."""
    torch = pytest.importorskip("torch")
    messages = {
        torch: r"modified by an inplace operation",
        ember: r"gradient of sin .*had shape \(2, 3\) when it was saved and has shape \(1, 2, 3\) now",
    }
    for lib, message in messages.items():
        c = lib.ones(2, 3, dtype=lib.float64, requires_grad=True).clone()
        y = c.sin()
        c.unsqueeze_(0)
        with pytest.raises(RuntimeError, match=message):
            y.sum().backward()


@pytest.mark.parametrize(
    "op",
    [
        lambda x, L: x.max(1),
        lambda x, L: x.sort(2),
        lambda x, L: (lambda i: (x.gather(2, i), i))(L.zeros(2, 3, 2, dtype=L.int64)),
    ],
    ids=["max-indices", "sort-indices", "gather-index"],
)
def test_indices_reshaped_in_place_after_the_op(op: Any) -> None:
    """The indices a backward scatters with (returned by max/sort, given to gather) keep their
    recorded shape when the caller unsqueeze_s them: the gradient is torch's without the change
    (torch refuses the change: it saves them)."""
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(np.arange(24.0).reshape(2, 3, 4) % 7, dtype=lib.float64).requires_grad_(True)
        y, idx = op(x, lib)
        if lib is ember:
            idx.unsqueeze_(0)
        (y * lib.arange(float(y.numel()), dtype=y.dtype).reshape(y.shape)).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


# x = w * 1 is an intermediate each op reads; x.detach_() after the op must not drop the gradient
# through x, which the op recorded while x required grad. (The elementwise formulas, where, clamp,
# the composites with their own backward and binary_cross_entropy once asked x.requires_grad when
# backward ran; the others guard the same contract.)
_DETACHED_AFTER_USE = {
    "mul": lambda x, w, L: x * L.full((2, 2), 1.5, dtype=x.dtype),
    "div-by-x": lambda x, w, L: w / x,
    "pow": lambda x, w, L: x**3,
    "clamp": lambda x, w, L: L.clamp(x, 0.3, 0.8),
    "where": lambda x, w, L: L.where(w > 0.5, x, w),
    "hypot": lambda x, w, L: L.hypot(x, w),
    "exp": lambda x, w, L: x.exp(),
    "matmul": lambda x, w, L: x @ w,
    "sum": lambda x, w, L: x.sum(0),
    "binary_cross_entropy": lambda x, w, L: L.nn.functional.binary_cross_entropy(x, w.detach() * 0.5),
    "linalg.solve": lambda x, w, L: L.linalg.solve(x, w),
    "checkpoint": lambda x, w, L: _checkpoint(L)(lambda t: t.sin() * w, x, use_reentrant=False),
}


def _checkpoint(lib: Any) -> Any:
    if lib is ember:
        from ember.utils.checkpoint import checkpoint

        return checkpoint
    # the reference: the plain call, whose gradient a checkpoint gives (torch's own checkpoint
    # costs a second to import)
    return lambda fn, *args, use_reentrant: fn(*args)


def _grad_through_detached(lib: Any, op: Any, detach: bool) -> Any:
    w = lib.tensor([[0.2, 0.7], [0.4, 0.9]], dtype=lib.float64, requires_grad=True)
    x = w * 1
    y = op(x, w, lib)
    if detach:
        x.detach_()
    (y * lib.arange(1.0, y.numel() + 1.0, dtype=y.dtype).reshape(y.shape)).sum().backward()
    return w.grad


@pytest.mark.parametrize("case", list(_DETACHED_AFTER_USE), ids=list(_DETACHED_AFTER_USE))
def test_detach_of_an_input_after_use_keeps_the_recorded_gradient(case: str) -> None:
    """Backward follows the edges recorded when the op ran: the gradient through x after
    x.detach_() is torch's for the same graph. (torch gives it where it kept no copy of x, and
    refuses the detach_ of a saved tensor; Ember gives it in both cases.)"""
    torch = pytest.importorskip("torch")
    op = _DETACHED_AFTER_USE[case]
    g = _grad_through_detached(ember, op, detach=True)
    assert g is not None, f"{case}: no gradient reached w through the detached x"
    np.testing.assert_allclose(g.numpy(), _grad_through_detached(torch, op, detach=False).numpy(), rtol=1e-12)


def test_requires_grad_false_on_a_leaf_after_recording() -> None:
    """A leaf that stops requiring grad between the op and backward takes no gradient (PyTorch's
    AccumulateGrad reads the flag), its tensor hooks still see the gradient, and the other
    inputs get theirs: through mul (whose formula answers as recorded) and exp (which has no
    flag to read)."""
    torch = pytest.importorskip("torch")
    out = {}
    for lib in (ember, torch):
        w = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        c = lib.tensor([2.0, 3.0], dtype=lib.float64, requires_grad=True)
        seen = []
        w.register_hook(lambda g, seen=seen: seen.append(g.numpy().copy()))
        y = (w.exp() * c + w * c).sum()
        w.requires_grad_(False)
        y.backward()
        out[lib] = (w.grad, c.grad.numpy(), seen)
    assert out[ember][0] is None and out[torch][0] is None
    np.testing.assert_allclose(out[ember][1], out[torch][1], rtol=1e-12)
    assert len(out[ember][2]) == len(out[torch][2]) == 1
    np.testing.assert_allclose(out[ember][2][0], out[torch][2][0], rtol=1e-12)


def test_requires_grad_true_after_recording_takes_no_gradient() -> None:
    """A tensor that starts requiring grad after an op read it gets no gradient from that op (as
    in PyTorch: the op recorded no edge to it), and the backward does the work of the graph as
    recorded, no product for its gradient (one mul, as when its flag stays False)."""
    from ember.profiler import profile

    torch = pytest.importorskip("torch")
    for lib in (ember, torch):
        w = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        c = lib.tensor([2.0, 3.0], dtype=lib.float64)
        y = (w * c).sum()
        c.requires_grad_(True)
        y.backward()
        assert c.grad is None
        np.testing.assert_array_equal(w.grad.numpy(), [2.0, 3.0])
    muls = []
    for flip in (False, True):
        w = ember.tensor([0.5, -1.0], dtype=ember.float64, requires_grad=True)
        c = ember.tensor([2.0, 3.0], dtype=ember.float64)
        y = (w * c).sum()
        c.requires_grad_(flip)
        with profile() as prof:
            y.backward()
        muls.append(sum(e.name == "mul" for e in prof.events()))
    assert muls[0] == muls[1] > 0


def test_create_graph_through_a_tensor_detached_after_use_is_refused() -> None:
    """With create_graph the formulas' graph would stop at a saved tensor detach_()-ed since the
    op used it and miss the second-order terms through its history: refused, naming the op and
    the remedy (PyTorch refuses the detach_ of a saved tensor in first-order backward too; there
    Ember gives the gradient, which needs only the values)."""
    w = ember.tensor([0.5, 1.5], dtype=ember.float64, requires_grad=True)
    x = w * 1
    y = (x * x * w).sum()
    x.detach_()
    with pytest.raises(RuntimeError, match=r"gradient of mul .*detached in place.*\.detach\(\)"):
        ember.autograd.grad(y, w, create_graph=True)
    (g,) = ember.autograd.grad(y, w)
    np.testing.assert_allclose(g.numpy(), [0.75, 6.75], rtol=1e-12)  # 3 w**2
