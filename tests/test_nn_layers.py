"""ember.nn: Module machinery, layers and losses against numpy references (and PyTorch where it is
installed), gradchecks in float64, initialisation and error messages."""

from __future__ import annotations

import math

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest
from ember.autograd import gradcheck

RNG = np.random.default_rng(0)


def t64(*shape: int, requires_grad: bool = True, scale: float = 1.0) -> ember.Tensor:
    return ember.tensor(RNG.standard_normal(shape) * scale, dtype=ember.float64, requires_grad=requires_grad)


def to_np(t: ember.Tensor) -> np.ndarray:
    return t.detach().numpy()


def projected(fn, out_shape_seed: int = 1):
    """fn followed by a fixed random projection to a scalar: one backward per gradcheck."""
    cache = {}

    def wrapped(*args):
        out = fn(*args)
        if "w" not in cache:
            cache["w"] = ember.tensor(
                np.random.default_rng(out_shape_seed).standard_normal(out.shape), dtype=out.dtype
            )
        return (out * cache["w"]).sum()

    return wrapped


# -- numpy references -------------------------------------------------------------------------------
def conv2d_ref(x, w, b, stride, padding, dilation, groups):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1])))
    oh = (x.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (x.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, o, oh, ow))
    og = o // groups
    for g in range(groups):
        for oc in range(g * og, (g + 1) * og):
            for i in range(oh):
                for j in range(ow):
                    patch = x[
                        :,
                        g * cg : (g + 1) * cg,
                        i * stride[0] : i * stride[0] + dilation[0] * (kh - 1) + 1 : dilation[0],
                        j * stride[1] : j * stride[1] + dilation[1] * (kw - 1) + 1 : dilation[1],
                    ]
                    out[:, oc, i, j] = (patch * w[oc]).sum((1, 2, 3))
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def pool_ref(x, k, s, p, fn, pad_value):
    x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=pad_value)
    oh = (x.shape[2] - k) // s + 1
    ow = (x.shape[3] - k) // s + 1
    out = np.zeros(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = fn(x[:, :, i * s : i * s + k, j * s : j * s + k], axis=(2, 3))
    return out


# -- Module machinery -------------------------------------------------------------------------------
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.bn = nn.BatchNorm2d(2)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(2 * 2 * 2, 3))
        self.scale = nn.Parameter(ember.ones(1))
        self.register_buffer("steps", ember.zeros((), dtype="int64"))
        self.register_buffer("scratch", ember.zeros(2), persistent=False)

    def forward(self, x):
        return self.head(self.bn(self.conv(x)).relu()) * self.scale


def test_registration_and_traversal():
    m = Net()
    names = [n for n, _ in m.named_parameters()]
    assert names == [
        "scale",
        "conv.weight",
        "conv.bias",
        "bn.weight",
        "bn.bias",
        "head.1.weight",
        "head.1.bias",
    ]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())
    assert [n for n, _ in m.named_buffers()] == [
        "steps",
        "scratch",
        "bn.running_mean",
        "bn.running_var",
        "bn.num_batches_tracked",
    ]
    assert [n for n, _ in m.named_children()] == ["conv", "bn", "head"]
    assert [n for n, _ in m.named_modules()] == ["", "conv", "bn", "head", "head.0", "head.1"]
    assert len(list(m.modules())) == 6 and len(list(m.children())) == 3
    sd = m.state_dict()
    assert "scratch" not in sd and "steps" in sd and "bn.running_var" in sd
    assert not any(t.requires_grad for t in sd.values())
    assert m.get_submodule("head.1") is m.head[1]


def test_shared_parameters_counted_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2


def test_parameter_is_tensor_and_ops_record_grad():
    p = nn.Parameter(ember.tensor([1.0, 2.0]))
    assert isinstance(p, ember.Tensor) and type(p) is nn.Parameter and p.is_leaf
    assert "Parameter containing" in repr(p)
    (p * 3 + p.exp()).sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), 3 + np.exp([1.0, 2.0]), rtol=1e-6)
    with pytest.raises(TypeError, match="only floating point"):
        nn.Parameter(ember.tensor([1, 2]))


def test_load_state_dict_strict_and_messages():
    a, b = Net(), Net()
    b.load_state_dict(a.state_dict())
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), b.state_dict()[k].numpy())
    sd = a.state_dict()
    del sd["conv.bias"]
    sd["extra.weight"] = ember.zeros(1)
    with pytest.raises(
        RuntimeError,
        match=r"(?s)unexpected key\(s\) in state_dict: "
        r"'extra.weight'.*missing key"
        r"\(s\) in state_dict: 'conv.bias'",
    ):
        b.load_state_dict(sd)
    res = b.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["conv.bias"] and res.unexpected_keys == ["extra.weight"]
    sd = a.state_dict()
    sd["head.1.weight"] = ember.zeros(3, 5)
    with pytest.raises(RuntimeError, match=r"size mismatch for 'head.1.weight'.*\(3, 5\).*\(3, 8\)"):
        b.load_state_dict(sd)


def test_train_eval_zero_grad_apply_to():
    m = Net()
    assert m.training and m.bn.training
    m.eval()
    assert not m.training and not m.head[1].training
    m.train()
    m(ember.randn(4, 1, 4, 4)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen[-1] == "Net" and "Linear" in seen
    w = m.conv.weight
    m.to(ember.float64)
    assert m.conv.weight is w and w.dtype is ember.float64 and m.bn.running_mean.dtype is ember.float64
    assert m.steps.dtype is ember.int64  # integer buffers are not cast
    m.to("cpu")
    assert m(ember.randn(2, 1, 4, 4, dtype=ember.float64)).dtype is ember.float64


def test_hooks():
    m = nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    out = m(ember.ones(1, 2))
    np.testing.assert_allclose(out.detach().numpy(), m.bias.detach().numpy()[None] + 1, rtol=1e-6)
    assert calls == [(1, 2)]
    h1.remove()
    h2.remove()
    m(ember.ones(1, 2))
    assert calls == [(1, 2)]


def test_repr_like_pytorch():
    m = nn.Sequential(nn.Conv2d(1, 8, 3, padding="same", bias=False), nn.ReLU(), nn.Linear(4, 2))
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding='same', bias=False)\n"
        "  (1): ReLU()\n"
        "  (2): Linear(in_features=4, out_features=2, bias=True)\n"
        ")"
    )


def test_containers():
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    ml.append(nn.ReLU())
    assert isinstance(ml[-1], nn.ReLU)
    md = nn.ModuleDict({"a": nn.Linear(1, 2), "b": nn.Linear(2, 1)})
    assert list(md.keys()) == ["a", "b"] and "a" in md
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias", "b.weight", "b.bias"]
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2
    with pytest.raises(IndexError, match="index 5 is out of range for 3"):
        seq[5]


def test_module_errors():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ember.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        m.weight = ember.zeros(2, 2)
    with pytest.raises(ValueError, match=r"Linear: expected input with 2 features.*got shape \(3, 5\)"):
        m(ember.zeros(3, 5))
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nope'"):
        m.nope  # noqa: B018


# -- initialisation ---------------------------------------------------------------------------------
def test_init_deterministic_and_bounds():
    ember.manual_seed(123)
    a = nn.Linear(50, 40)
    ember.manual_seed(123)
    b = nn.Linear(50, 40)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    bound = 1 / math.sqrt(50)  # kaiming_uniform(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    w = a.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(a.bias.detach().numpy()).max() <= bound
    c = nn.Conv2d(4, 6, 3)
    assert np.abs(c.weight.detach().numpy()).max() <= 1 / math.sqrt(36)
    assert nn.init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        nn.init.calculate_gain("swish")


def test_init_functions():
    t = ember.empty(200, 300)
    nn.init.xavier_uniform_(t)
    a = math.sqrt(6 / 500)
    assert np.abs(t.numpy()).max() <= a and t.numpy().std() == pytest.approx(a / math.sqrt(3), rel=0.05)
    nn.init.kaiming_normal_(t, nonlinearity="relu")
    assert t.numpy().std() == pytest.approx(math.sqrt(2 / 300), rel=0.05)
    nn.init.normal_(t, 2.0, 0.5)
    assert t.numpy().mean() == pytest.approx(2.0, abs=0.01)
    nn.init.constant_(t, 3.0)
    assert (t.numpy() == 3).all()
    nn.init.trunc_normal_(t, std=1.0, a=-1.0, b=1.0)
    assert np.abs(t.numpy()).max() <= 1.0 and t.numpy().std() == pytest.approx(0.5396, rel=0.05)
    p = nn.Parameter(ember.zeros(3, 3))
    nn.init.eye_(p)
    assert p.requires_grad and p.grad_fn is None and (p.detach().numpy() == np.eye(3)).all()
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(ember.zeros(3))


# -- layers vs numpy --------------------------------------------------------------------------------
def test_linear_forward_and_gradcheck():
    m = nn.Linear(4, 3).double()
    x = t64(5, 4)
    ref = to_np(x) @ to_np(m.weight).T + to_np(m.bias)
    np.testing.assert_allclose(to_np(m(x)), ref, rtol=1e-12)
    assert gradcheck(lambda x, w, b: F.linear(x, w, b), [x, t64(3, 4), t64(3)])


@pytest.mark.parametrize(
    "stride,padding,dilation,groups",
    [
        (1, 0, 1, 1),
        (2, 1, 1, 1),
        (1, 2, 2, 1),
        ((2, 1), (1, 0), 1, 2),
        (1, 1, 1, 4),
    ],
)
def test_conv2d_matches_reference(stride, padding, dilation, groups):
    x = t64(2, 4, 7, 6, requires_grad=False)
    w = t64(8, 4 // groups, 3, 2, requires_grad=False)
    b = t64(8, requires_grad=False)
    out = F.conv2d(x, w, b, stride, padding, dilation, groups)
    pair = lambda v: v if isinstance(v, tuple) else (v, v)  # noqa: E731
    ref = conv2d_ref(to_np(x), to_np(w), to_np(b), pair(stride), pair(padding), pair(dilation), groups)
    np.testing.assert_allclose(to_np(out), ref, rtol=1e-10, atol=1e-12)


def test_conv2d_same_padding_and_module():
    m = nn.Conv2d(2, 3, (3, 4), padding="same", dilation=(1, 2)).double()
    x = t64(1, 2, 5, 9, requires_grad=False)
    out = m(x)
    assert out.shape == (1, 3, 5, 9)
    # 'same' with an even kernel pads the extra element at the end, as PyTorch
    xp = np.pad(to_np(x), ((0, 0), (0, 0), (1, 1), (3, 3)))
    ref = conv2d_ref(xp, to_np(m.weight), to_np(m.bias), (1, 1), (0, 0), (1, 2), 1)
    np.testing.assert_allclose(to_np(out), ref, rtol=1e-10)
    assert m(x[0]).shape == (3, 5, 9)  # unbatched


def test_conv2d_gradcheck():
    x, w, b = t64(2, 2, 5, 5), t64(4, 1, 3, 3), t64(4)
    assert gradcheck(projected(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2)), [x, w, b])
    assert gradcheck(
        projected(
            lambda x, w: F.conv2d(
                x, w[:, :1].expand(4, 2, 3, 3).contiguous(), None, padding="same", dilation=2
            )
        ),
        [x, w],
    )


def test_conv1d_matches_reference_and_gradcheck():
    x, w, b = t64(2, 4, 9), t64(6, 2, 3), t64(6)
    out = F.conv1d(x, w, b, stride=2, padding=1, groups=2)
    ref = conv2d_ref(to_np(x)[:, :, None], to_np(w)[:, :, None], to_np(b), (1, 2), (0, 1), (1, 1), 2)[:, :, 0]
    np.testing.assert_allclose(to_np(out), ref, rtol=1e-10)
    assert nn.Conv1d(4, 6, 3, padding="same")(ember.randn(2, 4, 9)).shape == (2, 6, 9)
    assert gradcheck(projected(lambda x, w, b: F.conv1d(x, w, b, padding=2, dilation=2, groups=2)), [x, w, b])


def test_conv_errors():
    with pytest.raises(
        ValueError,
        match=r"conv2d: input of shape \(1, 3, 5, 5\) has 3 channels but "
        r"weight of "
        r"shape \(2, 2, 3, 3\) expects 2",
    ):
        F.conv2d(ember.zeros(1, 3, 5, 5), ember.zeros(2, 2, 3, 3))
    with pytest.raises(
        ValueError,
        match=r"conv2d: the kernel \(size 3, dilation 1\) is larger than the "
        r"padded "
        r"input",
    ):
        F.conv2d(ember.zeros(1, 1, 2, 2), ember.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        F.conv2d(ember.zeros(1, 1, 5, 5), ember.zeros(1, 1, 3, 3), stride=2, padding="same")


@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 1, 1), (3, 2, 1)])
def test_pools_match_reference(k, s, p):
    x = t64(2, 3, 7, 7, requires_grad=False)
    np.testing.assert_allclose(to_np(F.max_pool2d(x, k, s, p)), pool_ref(to_np(x), k, s, p, np.max, -np.inf))
    np.testing.assert_allclose(
        to_np(F.avg_pool2d(x, k, s, p)), pool_ref(to_np(x), k, s, p, np.mean, 0.0), rtol=1e-12
    )
    assert nn.MaxPool2d(k, s, p)(x).shape == F.max_pool2d(x, k, s, p).shape


def test_avg_pool_count_include_pad_false():
    x = ember.ones(1, 1, 4, 4)
    out = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
    np.testing.assert_allclose(out.numpy(), np.ones((1, 1, 4, 4)), rtol=1e-6)
    assert F.avg_pool2d(x, 3, 1, 1).numpy()[0, 0, 0, 0] == pytest.approx(4 / 9)


def test_pool_gradchecks():
    x = ember.tensor(
        RNG.permutation(2 * 2 * 6 * 6).reshape(2, 2, 6, 6) * 0.1, dtype=ember.float64, requires_grad=True
    )  # distinct values: no ties in max
    assert gradcheck(projected(lambda x: F.max_pool2d(x, 2)), [x])
    assert gradcheck(projected(lambda x: F.max_pool2d(x, 3, 2, 1)), [x])
    assert gradcheck(projected(lambda x: F.avg_pool2d(x, 3, 2, 1)), [x])
    assert gradcheck(projected(lambda x: F.adaptive_avg_pool2d(x, (4, 3))), [x])


def test_adaptive_avg_pool():
    x = t64(1, 2, 5, 7, requires_grad=False)
    out = nn.AdaptiveAvgPool2d((2, 3))(x)
    xn = to_np(x)
    ref = np.zeros((1, 2, 2, 3))
    for i in range(2):
        for j in range(3):
            h0, h1 = (i * 5) // 2, -(-(i + 1) * 5 // 2)
            w0, w1 = (j * 7) // 3, -(-(j + 1) * 7 // 3)
            ref[:, :, i, j] = xn[:, :, h0:h1, w0:w1].mean((2, 3))
    np.testing.assert_allclose(to_np(out), ref, rtol=1e-12)
    np.testing.assert_allclose(to_np(F.adaptive_avg_pool2d(x, 1)), xn.mean((2, 3), keepdims=True), rtol=1e-12)


def test_batchnorm_training_eval_and_running_stats():
    bn = nn.BatchNorm2d(3, momentum=0.2).double()
    x = t64(4, 3, 2, 2, requires_grad=False) * 2 + 1
    out = bn(x)
    xn = to_np(x)
    mean, var = xn.mean((0, 2, 3)), xn.var((0, 2, 3))
    ref = (xn - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(to_np(out), ref, rtol=1e-10)
    np.testing.assert_allclose(to_np(bn.running_mean), 0.2 * mean, rtol=1e-10)
    np.testing.assert_allclose(to_np(bn.running_var), 0.8 + 0.2 * xn.var((0, 2, 3), ddof=1), rtol=1e-10)
    assert int(bn.num_batches_tracked.item()) == 1
    bn.eval()
    out = bn(x)
    rm, rv = to_np(bn.running_mean), to_np(bn.running_var)
    ref = (xn - rm[None, :, None, None]) / np.sqrt(rv[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(to_np(out), ref, rtol=1e-10)
    assert int(bn.num_batches_tracked.item()) == 1
    bn1 = nn.BatchNorm1d(3)
    assert bn1(ember.randn(5, 3)).shape == (5, 3)
    with pytest.raises(
        ValueError,
        match=r"BatchNorm1d: expected 3 channels in dim 1, got input of shape "
        r"\(5, 4\)",
    ):
        bn1(ember.randn(5, 4))
    with pytest.raises(ValueError, match="expected more than 1 value per channel"):
        bn1(ember.randn(1, 3))


def test_batchnorm_and_layernorm_gradcheck():
    x, w, b = t64(3, 2, 2, 2), t64(2), t64(2)
    assert gradcheck(projected(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)), [x, w, b])
    x, w, b = t64(3, 2, 4), t64(2, 4), t64(2, 4)
    assert gradcheck(projected(lambda x, w, b: F.layer_norm(x, (2, 4), w, b)), [x, w, b])


def test_layernorm_forward():
    ln = nn.LayerNorm(4).double()
    x = t64(3, 4, requires_grad=False)
    xn = to_np(x)
    ref = (xn - xn.mean(-1, keepdims=True)) / np.sqrt(xn.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(to_np(ln(x)), ref, rtol=1e-10)
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(4,\) does not match"):
        ln(ember.zeros(2, 3))


def test_embedding_padding_idx():
    emb = nn.Embedding(5, 3, padding_idx=0)
    assert (emb.weight.detach().numpy()[0] == 0).all()
    idx = ember.tensor([[0, 2], [2, 4]])
    out = emb(idx)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.detach().numpy()[1, 0], emb.weight.detach().numpy()[2])
    out.sum().backward()
    g = emb.weight.grad.numpy()
    np.testing.assert_array_equal(g[:, 0], [0, 0, 2, 0, 1])
    with pytest.raises(IndexError, match=r"embedding: index 5 is out of range for an embedding with 5 rows"):
        emb(ember.tensor([5]))
    w = t64(4, 3)
    assert gradcheck(lambda w: F.embedding(ember.tensor([1, 3, 1]), w), [w])


def test_dropout_train_eval_and_determinism():
    d = nn.Dropout(0.5)
    x = ember.ones(1000)
    ember.manual_seed(7)
    a = d(x).numpy()
    ember.manual_seed(7)
    b = d(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, 2.0} and 400 < (a == 0).sum() < 600
    d.eval()
    assert d(x) is x
    with pytest.raises(ValueError, match="probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


@pytest.mark.parametrize(
    "name,fn,ref",
    [
        ("ReLU", nn.ReLU(), lambda x: np.maximum(x, 0)),
        ("Tanh", nn.Tanh(), np.tanh),
        ("Sigmoid", nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
        ("SiLU", nn.SiLU(), lambda x: x / (1 + np.exp(-x))),
        ("GELU", nn.GELU(), lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
        ("Softmax", nn.Softmax(1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
        ("LogSoftmax", nn.LogSoftmax(1), lambda x: x - np.log(np.exp(x).sum(1, keepdims=True))),
        ("Flatten", nn.Flatten(), lambda x: x.reshape(x.shape[0], -1)),
        ("Identity", nn.Identity(), lambda x: x),
    ],
)
def test_activations(name, fn, ref):
    x = t64(3, 4)
    np.testing.assert_allclose(to_np(fn(x)), ref(to_np(x)), rtol=1e-7, atol=1e-12)
    assert gradcheck(projected(fn), [x])


def test_log_softmax_is_stable():
    x = ember.tensor([[1000.0, 0.0, -1000.0]])
    out = F.log_softmax(x, -1).numpy()
    assert np.isfinite(out).all() and out[0, 0] == pytest.approx(0.0)


def test_pad_modes():
    x = ember.tensor(np.arange(6.0).reshape(1, 2, 3))
    xn = x.numpy()
    np.testing.assert_array_equal(
        F.pad(x, (1, 2), value=-1).numpy(), np.pad(xn, ((0, 0), (0, 0), (1, 2)), constant_values=-1)
    )
    np.testing.assert_array_equal(F.pad(x, (1, 1, 1, 0)).numpy(), np.pad(xn, ((0, 0), (1, 0), (1, 1))))
    np.testing.assert_array_equal(
        F.pad(x, (2, 1), mode="reflect").numpy(), np.pad(xn, ((0, 0), (0, 0), (2, 1)), mode="reflect")
    )
    np.testing.assert_array_equal(
        F.pad(x, (2, 1), mode="replicate").numpy(), np.pad(xn, ((0, 0), (0, 0), (2, 1)), mode="edge")
    )
    np.testing.assert_array_equal(
        F.pad(x, (1, 2), mode="circular").numpy(), np.pad(xn, ((0, 0), (0, 0), (1, 2)), mode="wrap")
    )
    np.testing.assert_array_equal(F.pad(x, (-1, 0)).numpy(), xn[:, :, 1:])
    with pytest.raises(ValueError, match="pad: padding length must be even"):
        F.pad(x, (1,))
    assert gradcheck(projected(lambda x: F.pad(x, (1, 2, 0, 1))), [t64(2, 3)])


def test_one_hot_and_normalize():
    oh = F.one_hot(ember.tensor([0, 2, 1]), 4)
    assert oh.dtype is ember.int64
    np.testing.assert_array_equal(oh.numpy(), np.eye(4, dtype=np.int64)[[0, 2, 1]])
    assert F.one_hot(ember.tensor([3, 1])).shape == (2, 4)
    with pytest.raises(ValueError, match=r"one_hot: class values must be in \[0, 3\), got 3"):
        F.one_hot(ember.tensor([3]), 3)
    x = t64(3, 4)
    ref = to_np(x) / np.linalg.norm(to_np(x), axis=1, keepdims=True)
    np.testing.assert_allclose(to_np(F.normalize(x)), ref)
    assert gradcheck(projected(lambda x: F.normalize(x, dim=1)), [x])


def test_multihead_attention_shapes_and_grad():
    ember.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=True).double()
    x = t64(2, 5, 8)
    out, w = mha(x, x, x)
    assert out.shape == (2, 5, 8) and w.shape == (2, 5, 5)
    np.testing.assert_allclose(to_np(w).sum(-1), 1.0, rtol=1e-10)
    mask = ember.tensor([[False] * 4 + [True]] * 2)
    _, w = mha(x, x, x, key_padding_mask=mask)
    assert np.abs(to_np(w)[:, :, 4]).max() == 0
    out.sum().backward()
    assert mha.in_proj_weight.grad is not None


# -- losses -----------------------------------------------------------------------------------------
def _log_softmax_np(x):
    m = x.max(1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(1, keepdims=True))


def test_cross_entropy_indices_matches_numpy():
    x = t64(6, 5, requires_grad=False)
    y = ember.tensor([0, 4, 2, 2, 1, 3])
    lp = _log_softmax_np(to_np(x))
    nll = -lp[np.arange(6), y.numpy()]
    assert F.cross_entropy(x, y).item() == pytest.approx(nll.mean())
    assert F.cross_entropy(x, y, reduction="sum").item() == pytest.approx(nll.sum())
    np.testing.assert_allclose(to_np(F.cross_entropy(x, y, reduction="none")), nll)
    yi = ember.tensor([0, -100, 2, 2, -100, 3])
    keep = yi.numpy() != -100
    assert F.cross_entropy(x, yi).item() == pytest.approx(nll[keep].mean())
    w = ember.tensor([1.0, 2.0, 0.5, 1.5, 3.0], dtype=ember.float64)
    wn = w.numpy()[y.numpy()]
    assert F.cross_entropy(x, y, weight=w).item() == pytest.approx((nll * wn).sum() / wn.sum())


def test_cross_entropy_label_smoothing_and_probabilities():
    x = t64(4, 3, requires_grad=False)
    y = ember.tensor([0, 2, 1, 1])
    lp = _log_softmax_np(to_np(x))
    eps = 0.1
    q = np.full((4, 3), eps / 3) + (1 - eps) * np.eye(3)[y.numpy()]
    assert F.cross_entropy(x, y, label_smoothing=eps).item() == pytest.approx(-(q * lp).sum(1).mean())
    probs = ember.tensor(np.random.default_rng(1).dirichlet(np.ones(3), 4))
    ref = -(probs.numpy() * lp).sum(1).mean()
    assert F.cross_entropy(x, probs).item() == pytest.approx(ref)
    # spatial (N, C, d) inputs
    xs = t64(2, 3, 4, requires_grad=False)
    ys = ember.tensor([[0, 1, 2, 1], [2, 2, 0, 1]])
    lps = _log_softmax_np(to_np(xs))
    ref = -np.take_along_axis(lps, ys.numpy()[:, None], 1).mean()
    assert F.cross_entropy(xs, ys).item() == pytest.approx(ref)


def test_cross_entropy_vs_torch():
    torch = pytest.importorskip("torch")
    x = t64(5, 4, requires_grad=False)
    y = ember.tensor([0, 3, -100, 1, 1])
    w = ember.tensor([0.5, 1.0, 2.0, 1.5], dtype=ember.float64)
    for kw in (
        {},
        {"label_smoothing": 0.2},
        {"weight": w, "label_smoothing": 0.3},
        {"reduction": "none"},
        {"weight": w, "reduction": "sum", "label_smoothing": 0.1},
    ):
        tkw = {k: (torch.tensor(v.numpy()) if isinstance(v, ember.Tensor) else v) for k, v in kw.items()}
        ref = torch.nn.functional.cross_entropy(torch.tensor(to_np(x)), torch.tensor(y.numpy()), **tkw)
        ref = ref.numpy()
        np.testing.assert_allclose(to_np(F.cross_entropy(x, y, **kw)), ref, rtol=1e-10, err_msg=str(kw))


def test_loss_gradchecks():
    x = t64(4, 3)
    y = ember.tensor([0, 2, -100, 1])
    w = ember.tensor([1.0, 2.0, 0.5], dtype=ember.float64)
    assert gradcheck(lambda x: F.cross_entropy(x, y, weight=w, label_smoothing=0.1), [x])
    probs = ember.tensor(np.random.default_rng(2).dirichlet(np.ones(3), 4))
    assert gradcheck(lambda x: F.cross_entropy(x, probs), [x])
    assert gradcheck(lambda x: F.nll_loss(F.log_softmax(x, 1), y), [x])
    t = t64(4, 3, requires_grad=False)
    assert gradcheck(lambda x: F.mse_loss(x, t), [x])
    assert gradcheck(lambda x: F.l1_loss(x, t), [x])
    assert gradcheck(lambda x: F.smooth_l1_loss(x, t, beta=0.5), [x])
    tb = ember.tensor(RNG.uniform(0, 1, (4, 3)))
    assert gradcheck(lambda x: F.binary_cross_entropy(x.sigmoid(), tb), [x])
    assert gradcheck(lambda x: F.binary_cross_entropy_with_logits(x, tb, pos_weight=w), [x])


def test_regression_losses_values():
    x = ember.tensor([0.0, 2.0, -3.0])
    y = ember.tensor([0.5, 0.0, 0.0])
    assert F.mse_loss(x, y).item() == pytest.approx((0.25 + 4 + 9) / 3)
    assert F.l1_loss(x, y, reduction="sum").item() == pytest.approx(5.5)
    np.testing.assert_allclose(F.smooth_l1_loss(x, y, reduction="none").numpy(), [0.125, 1.5, 2.5])
    np.testing.assert_allclose(F.huber_loss(x, y, reduction="none", delta=2.0).numpy(), [0.125, 2.0, 4.0])
    with pytest.raises(
        ValueError,
        match=r"mse_loss: input of shape \(3,\) and target of shape \(3, 1\) "
        r"differ",
    ):
        F.mse_loss(x, y.reshape(3, 1))
    with pytest.raises(ValueError, match="reduction must be one of 'mean', 'sum' or 'none', got 'avg'"):
        F.l1_loss(x, y, reduction="avg")


def test_bce_values_and_stability():
    logits = ember.tensor([-100.0, 0.0, 50.0])
    t = ember.tensor([1.0, 0.5, 0.0])
    x = logits.numpy().astype(np.float64)
    ref = np.maximum(x, 0) - x * t.numpy() + np.log1p(np.exp(-np.abs(x)))
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(logits, t, reduction="none").numpy(), ref, rtol=1e-5
    )
    p = ember.tensor([0.0, 0.5, 1.0])
    out = F.binary_cross_entropy(p, ember.tensor([1.0, 1.0, 1.0]), reduction="none").numpy()
    np.testing.assert_allclose(out, [100.0, math.log(2), 0.0], rtol=1e-5)
    with pytest.raises(ValueError, match="input values must be probabilities in"):
        F.binary_cross_entropy(ember.tensor([1.5]), ember.tensor([1.0]))


def test_cross_entropy_errors():
    x = ember.zeros(3, 4)
    with pytest.raises(IndexError, match=r"cross_entropy: target 4 is out of bounds for 4 classes"):
        F.cross_entropy(x, ember.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match=r"expected target of shape \(3,\)"):
        F.cross_entropy(x, ember.tensor([0, 1]))
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, ember.tensor([0, 1, 1]), label_smoothing=2.0)


def test_loss_modules():
    x = t64(3, 4, requires_grad=False)
    y = ember.tensor([1, 0, 3])
    assert nn.CrossEntropyLoss()(x, y).item() == pytest.approx(F.cross_entropy(x, y).item())
    assert nn.MSELoss(reduction="sum")(x, x * 0).item() == pytest.approx((to_np(x) ** 2).sum())


def test_clip_grad_norm_and_value():
    a = nn.Parameter(ember.zeros(2))
    b = nn.Parameter(ember.zeros(2))
    a.grad = ember.tensor([3.0, 0.0])
    b.grad = ember.tensor([0.0, 4.0])
    total = nn.utils.clip_grad_norm_([a, b], 1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad.numpy(), [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 0.8], rtol=1e-5)
    total = nn.utils.clip_grad_norm_([a, b], 10.0)
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 0.8], rtol=1e-5)  # no scaling when under the limit
    a.grad = ember.tensor([3.0, -7.0])
    assert nn.utils.clip_grad_norm_(a, 1.0, norm_type="inf").item() == pytest.approx(7.0)
    a.grad = ember.tensor([float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(a, 1.0, error_if_nonfinite=True)
    a.grad = ember.tensor([3.0, -7.0])
    nn.utils.clip_grad_value_([a], 2.0)
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, -2.0])


def test_layers_vs_torch():
    torch = pytest.importorskip("torch")
    ember.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=1, groups=1).double()
    tconv = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1).double()
    with torch.no_grad():
        tconv.weight.copy_(torch.tensor(to_np(conv.weight)))
        tconv.bias.copy_(torch.tensor(to_np(conv.bias)))
    x = t64(2, 3, 7, 7, requires_grad=False)
    np.testing.assert_allclose(to_np(conv(x)), tconv(torch.tensor(to_np(x))).detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(
        to_np(F.gelu(x, "tanh")),
        torch.nn.functional.gelu(torch.tensor(to_np(x)), approximate="tanh").numpy(),
        rtol=1e-10,
    )


def test_deepcopy_module():
    import copy

    m = Net()
    m(ember.randn(2, 1, 4, 4)).sum().backward()
    c = copy.deepcopy(m)
    assert c.conv.weight is not m.conv.weight and isinstance(c.conv.weight, nn.Parameter)
    np.testing.assert_array_equal(c.conv.weight.detach().numpy(), m.conv.weight.detach().numpy())
    np.testing.assert_array_equal(c.conv.weight.grad.numpy(), m.conv.weight.grad.numpy())
    with ember.no_grad():
        c.conv.weight.add_(1.0)
        c.bn.running_mean.add_(1.0)
    assert float((c.conv.weight - m.conv.weight).abs().min()) == pytest.approx(1.0)
    assert float(m.bn.running_mean.abs().max()) < 1.0
    shared = nn.Linear(2, 2)
    c2 = copy.deepcopy(nn.Sequential(shared, shared))
    assert c2[0] is c2[1] and len(list(c2.parameters())) == 2


def test_multihead_attention_vs_torch():
    torch = pytest.importorskip("torch")
    ember.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2).double()
    tm = torch.nn.MultiheadAttention(8, 2).double()
    with torch.no_grad():
        tm.in_proj_weight.copy_(torch.tensor(to_np(mha.in_proj_weight)))
        tm.in_proj_bias.copy_(torch.tensor(RNG.standard_normal(24)))
        tm.out_proj.weight.copy_(torch.tensor(to_np(mha.out_proj.weight)))
        tm.out_proj.bias.copy_(torch.tensor(RNG.standard_normal(8)))
    with ember.no_grad():
        mha.in_proj_bias.copy_(ember.tensor(tm.in_proj_bias.detach().numpy()))
        mha.out_proj.bias.copy_(ember.tensor(tm.out_proj.bias.detach().numpy()))
    q, k = t64(4, 3, 8, requires_grad=False), t64(6, 3, 8, requires_grad=False)
    mask = ember.tensor(RNG.uniform(size=(3, 6)) < 0.3)
    mask[:, 0] = False
    out, w = mha(q, k, k, key_padding_mask=mask)
    tout, tw = tm(*(torch.tensor(to_np(t)) for t in (q, k, k)), key_padding_mask=torch.tensor(mask.numpy()))
    np.testing.assert_allclose(to_np(out), tout.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(to_np(w), tw.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_dropout_and_attention_gradcheck():
    x = t64(4, 5)
    assert gradcheck(lambda x: F.dropout(x, 0.4, generator=ember.Generator(seed=1)) * 1.0, [x])
    ember.manual_seed(1)
    mha = nn.MultiheadAttention(4, 2, batch_first=True).double()
    q = t64(1, 3, 4)
    assert gradcheck(
        projected(lambda q, w: F.scaled_dot_product_attention(q, q * w, q, is_causal=True)), [q, t64(1, 3, 4)]
    )
    assert gradcheck(projected(lambda q: mha(q, q, q)[0]), [q])


def test_conv_padding_modes_and_cumulative_batchnorm():
    m = nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect", bias=False).double()
    x = t64(1, 1, 4, 5, requires_grad=False)
    xp = np.pad(to_np(x), ((0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect")
    ref = conv2d_ref(xp, to_np(m.weight), None, (1, 1), (0, 0), (1, 1), 1)
    np.testing.assert_allclose(to_np(m(x)), ref, rtol=1e-10)
    assert "padding_mode='reflect'" in repr(m)
    c1 = nn.Conv1d(2, 2, 3, padding="same", padding_mode="circular")
    assert c1(ember.randn(1, 2, 6)).shape == (1, 2, 6)
    with pytest.raises(ValueError, match="padding_mode must be 'zeros', 'reflect'"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    bn = nn.BatchNorm1d(2, momentum=None).double()
    xs = [t64(8, 2, requires_grad=False) for _ in range(3)]
    for xb in xs:
        bn(xb)
    ref = np.mean([to_np(xb).mean(0) for xb in xs], 0)
    np.testing.assert_allclose(to_np(bn.running_mean), ref, rtol=1e-10)
