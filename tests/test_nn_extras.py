"""GroupNorm and the pooling extras (ceil_mode, return_indices, divisors) against numpy references
written here (and PyTorch where it is installed), float64 gradchecks, and error messages; each
test that computes runs on cpu and on opencl (skipped where a device is unusable)."""

from __future__ import annotations

import math

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest
from ember.autograd import gradcheck

DEVICES = ["cpu", "opencl"]


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> ember.Device:
    """Each in-tree data device, skipped with the backend's reason when it cannot be used here."""
    try:
        dev = ember.device(request.param)
    except ember.BackendError as exc:
        pytest.skip(f"device {request.param!r} unusable: {exc}")
    if not dev.backend.supports_dtype(ember.float64, dev.index):
        pytest.skip(f"device {request.param!r} has no float64")
    return dev


def t64(rng: np.random.Generator, *shape: int, device: ember.Device, requires_grad: bool = False):
    return ember.tensor(
        rng.standard_normal(shape), dtype=ember.float64, device=device, requires_grad=requires_grad
    )


def distinct(rng: np.random.Generator, *shape: int, device: ember.Device, requires_grad: bool = False):
    """Distinct values (no ties in a max, so its gradient is well defined)."""
    vals = rng.permutation(math.prod(shape)).reshape(shape) * 0.1
    return ember.tensor(vals, dtype=ember.float64, device=device, requires_grad=requires_grad)


def to_np(t: ember.Tensor) -> np.ndarray:
    return t.detach().numpy()


def projected(fn, seed: int = 1):
    """fn followed by a fixed random projection to a scalar: one backward per gradcheck."""
    cache = {}

    def wrapped(*args):
        out = fn(*args)
        if "w" not in cache:
            w = np.random.default_rng(seed).standard_normal(out.shape)
            cache["w"] = ember.tensor(w, dtype=out.dtype, device=out.device)
        return (out * cache["w"]).sum()

    return wrapped


# -- numpy references (written after PyTorch's CPU kernels) ----------------------------------------
def group_norm_ref(x, g, w, b, eps):
    n, c = x.shape[:2]
    xg = x.reshape(n, g, -1)
    mu = xg.mean(2, keepdims=True)
    var = ((xg - mu) ** 2).mean(2, keepdims=True)
    out = ((xg - mu) / np.sqrt(var + eps)).reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    if w is not None:
        out = out * w.reshape(shape)
    if b is not None:
        out = out + b.reshape(shape)
    return out


def pool_out_size(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling_output_shape."""
    num = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    o = math.floor(num / s) + 1
    if ceil_mode and (o - 1) * s >= size + p:
        o -= 1
    return o


def max_pool_ref(x, k, s, p, d, ceil_mode):
    """(values, indices): for each window, the first strict maximum in row-major order."""
    n, c, h, w = x.shape
    oh, ow = (
        pool_out_size(h, k[0], s[0], p[0], d[0], ceil_mode),
        pool_out_size(w, k[1], s[1], p[1], d[1], ceil_mode),
    )
    vals = np.full((n, c, oh, ow), -np.inf)
    idx = np.full((n, c, oh, ow), -1, dtype=np.int64)
    for b in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    for a in range(k[0]):
                        for e in range(k[1]):
                            hh, ww = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + e * d[1]
                            if 0 <= hh < h and 0 <= ww < w and x[b, ch, hh, ww] > vals[b, ch, i, j]:
                                vals[b, ch, i, j] = x[b, ch, hh, ww]
                                idx[b, ch, i, j] = hh * w + ww
    return vals, idx


def avg_pool_ref(x, k, s, p, ceil_mode, count_include_pad, divisor_override=None):
    n, c, h, w = x.shape
    oh, ow = (
        pool_out_size(h, k[0], s[0], p[0], 1, ceil_mode),
        pool_out_size(w, k[1], s[1], p[1], 1, ceil_mode),
    )
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * s[0] - p[0], j * s[1] - p[1]
            h1, w1 = min(h0 + k[0], h + p[0]), min(w0 + k[1], w + p[1])
            pool_size = (h1 - h0) * (w1 - w0)
            h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, h), min(w1, w)
            total = x[:, :, h0:h1, w0:w1].sum((2, 3))
            if divisor_override is not None:
                div = divisor_override
            elif count_include_pad:
                div = pool_size
            else:
                div = (h1 - h0) * (w1 - w0)
            out[:, :, i, j] = total / div
    return out


# -- GroupNorm -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shape,groups",
    [((2, 6, 5), 3), ((3, 4, 3, 5), 2), ((2, 4), 2), ((1, 6, 2, 3, 2), 1), ((2, 5, 3, 3), 5)],
)
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_matches_reference(device, shape, groups, affine):
    rng = np.random.default_rng(0)
    x = t64(rng, *shape, device=device)
    w = t64(rng, shape[1], device=device) if affine else None
    b = t64(rng, shape[1], device=device) if affine else None
    out = F.group_norm(x, groups, w, b, eps=1e-3)
    assert out.shape == x.shape and out.device == device
    ref = group_norm_ref(
        to_np(x), groups, None if w is None else to_np(w), None if b is None else to_np(b), 1e-3
    )
    np.testing.assert_allclose(to_np(out), ref, rtol=1e-10, atol=1e-12)


def test_group_norm_float32(device):
    rng = np.random.default_rng(1)
    xn = rng.standard_normal((2, 6, 4, 3)).astype(np.float32) * 3 + 1
    out = F.group_norm(ember.tensor(xn, device=device), 3)
    assert out.dtype == ember.float32
    np.testing.assert_allclose(
        to_np(out), group_norm_ref(xn.astype(np.float64), 3, None, None, 1e-5), atol=1e-5
    )


def test_group_norm_gradcheck(device):
    rng = np.random.default_rng(2)
    x = t64(rng, 2, 4, 3, device=device, requires_grad=True)
    w = t64(rng, 4, device=device, requires_grad=True)
    b = t64(rng, 4, device=device, requires_grad=True)
    assert gradcheck(projected(lambda x, w, b: F.group_norm(x, 2, w, b)), [x, w, b])
    x4 = t64(rng, 1, 6, 2, 2, device=device, requires_grad=True)
    assert gradcheck(projected(lambda x: F.group_norm(x, 3)), [x4])


def test_group_norm_layer(device):
    m = nn.GroupNorm(2, 6, eps=1e-4, device=device, dtype=ember.float64)
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    np.testing.assert_array_equal(to_np(m.weight), np.ones(6))
    np.testing.assert_array_equal(to_np(m.bias), np.zeros(6))
    assert m.weight.dtype == ember.float64 and m.weight.device == device
    assert repr(m) == "GroupNorm(2, 6, eps=0.0001, affine=True)"
    rng = np.random.default_rng(3)
    x = t64(rng, 3, 6, 4, device=device)
    with ember.no_grad():
        m.weight.copy_(t64(rng, 6, device=device))
        m.bias.copy_(t64(rng, 6, device=device))
    ref = group_norm_ref(to_np(x), 2, to_np(m.weight), to_np(m.bias), 1e-4)
    np.testing.assert_allclose(to_np(m(x)), ref, rtol=1e-10, atol=1e-12)
    m(x).sum().backward()
    assert m.weight.grad is not None and m.weight.grad.shape == (6,)
    plain = nn.GroupNorm(3, 6, affine=False)
    assert list(plain.parameters()) == [] and plain.weight is None and plain.bias is None
    x32 = ember.tensor(to_np(x).astype(np.float32), device=device)
    np.testing.assert_allclose(
        to_np(plain.to(device)(x32)), group_norm_ref(to_np(x), 3, None, None, 1e-5), atol=1e-5
    )


def test_group_norm_errors():
    x = ember.zeros(2, 6, 3)
    with pytest.raises(ValueError, match=r"group_norm: .*C=6 must be divisible by num_groups=4"):
        F.group_norm(x, 4)
    with pytest.raises(ValueError, match=r"group_norm: .*C=6 must be divisible by num_groups=0"):
        F.group_norm(x, 0)
    with pytest.raises(
        ValueError, match=r"group_norm: expected at least a 2-D \(N, C, \.\.\.\) input, got shape \(6,\)"
    ):
        F.group_norm(ember.zeros(6), 2)
    with pytest.raises(ValueError, match=r"group_norm: weight has shape \(3,\), expected \(6,\)"):
        F.group_norm(x, 3, weight=ember.ones(3))
    with pytest.raises(ValueError, match=r"GroupNorm: num_channels=6 must be divisible by num_groups=4"):
        nn.GroupNorm(4, 6)
    with pytest.raises(
        ValueError, match=r"GroupNorm: expected 6 channels in dim 1, got input of shape \(2, 4, 3\)"
    ):
        nn.GroupNorm(3, 6)(ember.zeros(2, 4, 3))


# -- pooling: output sizes ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "size,k,s,p,d,floor_out,ceil_out",
    [
        (5, 2, 2, 0, 1, 2, 3),  # the partial last window is kept
        (6, 3, 2, 0, 1, 2, 3),
        (7, 3, 2, 1, 1, 4, 4),  # exact: ceil changes nothing
        (5, 3, 3, 1, 1, 2, 2),  # ceil would add a window starting in the right padding: dropped
        (5, 2, 2, 1, 1, 3, 3),  # likewise
        (9, 3, 4, 0, 1, 2, 3),  # stride > kernel
        (8, 3, 2, 1, 2, 3, 4),  # dilation
    ],
)
def test_pool_output_sizes(size, k, s, p, d, floor_out, ceil_out):
    assert pool_out_size(size, k, s, p, d, False) == floor_out
    assert pool_out_size(size, k, s, p, d, True) == ceil_out
    x = ember.zeros(1, 1, size, size + 1)
    for ceil_mode, o in ((False, floor_out), (True, ceil_out)):
        ow = pool_out_size(size + 1, k, s, p, d, ceil_mode)
        assert F.max_pool2d(x, k, s, p, d, ceil_mode=ceil_mode).shape == (1, 1, o, ow)
        if d == 1:
            assert F.avg_pool2d(x, k, s, p, ceil_mode=ceil_mode).shape == (1, 1, o, ow)


# -- max_pool2d ------------------------------------------------------------------------------------
MAX_CASES = [
    # (H, W), kernel, stride, padding, dilation, ceil_mode
    ((7, 7), (2, 2), (2, 2), (0, 0), (1, 1), False),
    ((7, 5), (2, 2), (2, 2), (0, 0), (1, 1), True),
    ((5, 5), (3, 3), (3, 3), (1, 1), (1, 1), True),  # last window dropped by the "must start inside" rule
    ((6, 9), (3, 2), (2, 3), (1, 1), (1, 1), True),
    ((9, 8), (3, 3), (4, 2), (1, 0), (1, 1), True),  # stride > kernel along H
    ((8, 7), (3, 2), (2, 1), (1, 1), (2, 3), False),  # dilation
    ((8, 7), (3, 2), (2, 2), (1, 1), (2, 2), True),  # dilation with ceil_mode
    ((6, 6), (3, 3), (1, 1), (1, 1), (1, 1), True),  # stride 1: ceil changes nothing
    ((1, 3), (1, 2), (1, 2), (0, 1), (1, 1), True),
    ((4, 5), (7, 6), (7, 6), (0, 0), (1, 1), True),  # kernel beyond the input: one window, as PyTorch
]


@pytest.mark.parametrize("hw,k,s,p,d,ceil_mode", MAX_CASES)
def test_max_pool2d_matches_reference(device, hw, k, s, p, d, ceil_mode):
    rng = np.random.default_rng(4)
    x = t64(rng, 2, 3, *hw, device=device)
    vals, idx = F.max_pool2d(x, k, s, p, d, ceil_mode=ceil_mode, return_indices=True)
    ref_vals, ref_idx = max_pool_ref(to_np(x), k, s, p, d, ceil_mode)
    assert vals.shape == ref_vals.shape and idx.shape == ref_idx.shape
    assert idx.dtype == ember.int64 and idx.device == device and not idx.requires_grad
    np.testing.assert_array_equal(to_np(vals), ref_vals)
    np.testing.assert_array_equal(idx.numpy(), ref_idx)
    np.testing.assert_array_equal(to_np(F.max_pool2d(x, k, s, p, d, ceil_mode)), ref_vals)
    # every index points at its value in the input plane
    flat = to_np(x).reshape(2, 3, -1)
    np.testing.assert_array_equal(
        np.take_along_axis(flat, idx.numpy().reshape(2, 3, -1), 2), ref_vals.reshape(2, 3, -1)
    )


def test_max_pool2d_indices_ties_unbatched_and_layer(device):
    x = ember.tensor([[[1.0, 3.0, 3.0], [0.0, 3.0, 2.0], [5.0, 5.0, -1.0]]], device=device)  # (C, H, W)
    vals, idx = F.max_pool2d(x, 2, 1, return_indices=True)
    np.testing.assert_array_equal(vals.numpy(), [[[3.0, 3.0], [5.0, 5.0]]])
    np.testing.assert_array_equal(idx.numpy(), [[[1, 1], [6, 7]]])  # first maximum in row-major order
    vals, idx = F.max_pool2d(x, 2, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(vals.numpy(), [[[3.0, 3.0], [5.0, -1.0]]])
    np.testing.assert_array_equal(idx.numpy(), [[[1, 2], [6, 8]]])
    m = nn.MaxPool2d(2, ceil_mode=True, return_indices=True)
    out, ind = m(x.unsqueeze(0))
    np.testing.assert_array_equal(out.numpy(), [[[[3.0, 3.0], [5.0, -1.0]]]])
    np.testing.assert_array_equal(ind.numpy(), [[[[1, 2], [6, 8]]]])
    assert repr(m) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=True)"
    assert nn.MaxPool2d(2)(x.unsqueeze(0)).shape == (1, 1, 1, 1)


def test_max_pool2d_gradcheck(device):
    rng = np.random.default_rng(5)
    x = distinct(rng, 1, 2, 5, 7, device=device, requires_grad=True)
    assert gradcheck(projected(lambda x: F.max_pool2d(x, 2, ceil_mode=True)), [x])
    assert gradcheck(projected(lambda x: F.max_pool2d(x, 3, (2, 3), 1, ceil_mode=True)), [x])
    assert gradcheck(projected(lambda x: F.max_pool2d(x, (2, 3), 2, 1, (2, 1), ceil_mode=True)), [x])
    assert gradcheck(projected(lambda x: F.max_pool2d(x, 3, 2, 1, return_indices=True)[0]), [x])
    y = F.max_pool2d(x, 2, ceil_mode=True)
    y.sum().backward()
    # each window's maximum gets its window's gradient; windows do not overlap here
    _, idx = F.max_pool2d(x, 2, ceil_mode=True, return_indices=True)
    expected = np.zeros((1, 2, 35))
    np.put_along_axis(expected, idx.numpy().reshape(1, 2, -1), 1.0, 2)
    np.testing.assert_array_equal(x.grad.numpy(), expected.reshape(1, 2, 5, 7))


# -- avg_pool2d ------------------------------------------------------------------------------------
AVG_CASES = [
    # (H, W), kernel, stride, padding, ceil_mode
    ((7, 7), (2, 2), (2, 2), (0, 0), False),
    ((7, 5), (2, 2), (2, 2), (0, 0), True),
    ((5, 5), (3, 3), (3, 3), (1, 1), True),  # last window dropped by the "must start inside" rule
    ((4, 4), (3, 3), (2, 2), (1, 1), True),  # last window runs past the padding
    ((6, 9), (3, 2), (2, 3), (1, 1), True),
    ((9, 8), (3, 3), (4, 2), (1, 0), True),  # stride > kernel along H
    ((7, 6), (3, 3), (1, 2), (1, 1), False),
    ((1, 3), (1, 2), (1, 2), (0, 1), True),
    ((4, 5), (7, 6), (7, 6), (0, 0), True),  # kernel beyond the input: a global average, as PyTorch
]


@pytest.mark.parametrize("hw,k,s,p,ceil_mode", AVG_CASES)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_matches_reference(device, hw, k, s, p, ceil_mode, count_include_pad):
    rng = np.random.default_rng(6)
    x = t64(rng, 2, 3, *hw, device=device)
    out = F.avg_pool2d(x, k, s, p, ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    ref = avg_pool_ref(to_np(x), k, s, p, ceil_mode, count_include_pad)
    assert out.shape == ref.shape and out.device == device
    np.testing.assert_allclose(to_np(out), ref, rtol=1e-12, atol=1e-14)
    layer = nn.AvgPool2d(k, s, p, ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    np.testing.assert_allclose(to_np(layer(x)), ref, rtol=1e-12, atol=1e-14)


def test_avg_pool2d_ceil_mode_divisors(device):
    ones = ember.ones(1, 1, 4, 4, device=device)
    # windows start at -1, 1, 3 and end at 2, 4, 5 (clipped at H + padding): 3, 3 and 2 elements
    out = F.avg_pool2d(ones, 3, 2, 1, ceil_mode=True)
    per_dim = np.array([2 / 3, 1.0, 1 / 2])
    np.testing.assert_allclose(out.numpy()[0, 0], np.outer(per_dim, per_dim), rtol=1e-6)
    out = F.avg_pool2d(ones, 3, 2, 1, ceil_mode=True, count_include_pad=False)
    np.testing.assert_allclose(out.numpy(), np.ones((1, 1, 3, 3)), rtol=1e-6)
    # no padding: the partial last window is divided by its elements inside the input
    np.testing.assert_allclose(
        F.avg_pool2d(ember.ones(1, 5, 5, device=device), 2, ceil_mode=True).numpy(), np.ones((1, 3, 3))
    )
    rng = np.random.default_rng(7)
    x = t64(rng, 1, 2, 5, 6, device=device)
    out = F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, divisor_override=4)
    np.testing.assert_allclose(
        to_np(out), avg_pool_ref(to_np(x), (3, 3), (2, 2), (1, 1), True, True, 4), rtol=1e-12
    )
    m = nn.AvgPool2d(3, 2, 1, ceil_mode=True, divisor_override=4)
    np.testing.assert_allclose(to_np(m(x)), to_np(out), rtol=1e-12)


def test_avg_pool2d_gradcheck(device):
    rng = np.random.default_rng(8)
    x = t64(rng, 1, 2, 5, 7, device=device, requires_grad=True)
    assert gradcheck(projected(lambda x: F.avg_pool2d(x, 2, ceil_mode=True)), [x])
    assert gradcheck(projected(lambda x: F.avg_pool2d(x, 3, (2, 3), 1, ceil_mode=True)), [x])
    assert gradcheck(
        projected(lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)), [x]
    )
    assert gradcheck(
        projected(lambda x: F.avg_pool2d(x, (3, 2), (1, 3), (1, 0), count_include_pad=False)), [x]
    )


# -- pooling errors --------------------------------------------------------------------------------
def test_pool_errors():
    x = ember.zeros(1, 1, 4, 4)
    # floor mode: a kernel beyond the padded input has no window; ceil mode keeps the one starting at 0
    with pytest.raises(ValueError, match=r"max_pool2d: the kernel \(size 7, dilation 1\) is larger than"):
        F.max_pool2d(x, 7)
    assert F.max_pool2d(x, 7, ceil_mode=True).shape == (1, 1, 1, 1)
    with pytest.raises(ValueError, match=r"avg_pool2d: the kernel \(size 4, dilation 1\) is larger than"):
        F.avg_pool2d(ember.zeros(1, 1, 1, 1), 4, 1, ceil_mode=True)
    with pytest.raises(ValueError, match=r"max_pool2d: .*\(size 4, dilation 2\).*\(size 4 \+ padding 2\)"):
        F.max_pool2d(x, 4, 1, 1, 2, ceil_mode=True)
    with pytest.raises(
        ValueError, match=r"max_pool2d: padding \(2, 2\) should be at most half of the kernel"
    ):
        F.max_pool2d(x, 3, padding=2, ceil_mode=True)
    with pytest.raises(
        ValueError, match=r"max_pool2d: kernel_size, stride and dilation must be positive, got"
    ):
        F.max_pool2d(x, 2, (0, 1))
    with pytest.raises(ValueError, match=r"avg_pool2d: padding must be non-negative, got \(-1, -1\)"):
        F.avg_pool2d(x, 2, padding=-1)
    with pytest.raises(ValueError, match="avg_pool2d: divisor_override must be non-zero"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(
        ValueError, match=r"max_pool2d: expected a 3-D \(C, H, W\) or 4-D .* got shape \(4, 4\)"
    ):
        F.max_pool2d(ember.zeros(4, 4), 2, return_indices=True)


# -- PyTorch, where it is installed ------------------------------------------------------------------
def test_extras_vs_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(9)
    xn = rng.standard_normal((2, 6, 9, 8))
    x, xt = ember.tensor(xn), torch.tensor(xn)
    w, b = rng.standard_normal(6), rng.standard_normal(6)
    np.testing.assert_allclose(
        to_np(F.group_norm(x, 3, ember.tensor(w), ember.tensor(b))),
        tf.group_norm(xt, 3, torch.tensor(w), torch.tensor(b)).numpy(),
        rtol=1e-10,
        atol=1e-12,
    )
    for k, s, p, d in [(2, 2, 0, 1), (3, 3, 1, 1), (3, (4, 2), (1, 0), 1), ((3, 2), 2, 1, (2, 2))]:
        for ceil_mode in (False, True):
            v, i = F.max_pool2d(x, k, s, p, d, ceil_mode=ceil_mode, return_indices=True)
            tv, ti = tf.max_pool2d(xt, k, s, p, d, ceil_mode=ceil_mode, return_indices=True)
            np.testing.assert_array_equal(to_np(v), tv.numpy())
            np.testing.assert_array_equal(i.numpy(), ti.numpy())
            if d == 1:
                for cip in (True, False):
                    np.testing.assert_allclose(
                        to_np(F.avg_pool2d(x, k, s, p, ceil_mode, cip)),
                        tf.avg_pool2d(xt, k, s, p, ceil_mode, cip).numpy(),
                        rtol=1e-12,
                    )
