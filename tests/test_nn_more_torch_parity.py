"""Differential tests against PyTorch of the nn and optim names added for the commonly used surface
(issue 13): activations, losses, distances, recurrent layers, optimizers, schedulers and
utilities. The pattern of ``test_nn_torch_parity.py``: float64 inputs, forward values and input /
parameter gradients (rtol 1e-10), state_dict keys and values with the same weights copied in,
errors where PyTorch raises. The helpers count the comparisons they make, and the module's last
test checks that a whole run made at least MIN_COMPARISONS of them. Without PyTorch the module
fails to collect, unless EMBER_ALLOW_NO_TORCH=1 turns that into a skip."""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest
from torch_required import require_torch

torch = require_torch()
tnn = torch.nn
TF = torch.nn.functional

RTOL, ATOL = 1e-10, 1e-12

# The fewest comparisons with torch a whole run of this module makes (see the last test): a full run
# with torch 2.13.0 counted 3,719 (652 values, 1,986 gradients, 970 state entries, 56 reprs, 36
# errors, 15 init statistics, 3 attributes, 1 checkpoint run), the same on every run. Raise it when
# adding comparisons; lower it only when removing some on purpose.
MIN_COMPARISONS = 3_719
COMPARED: Counter[str] = Counter()


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _r(*shape: int, seed: int = 0) -> np.ndarray:
    return _rng(seed).standard_normal(shape)


def _np(t: Any) -> np.ndarray:
    return t.detach().numpy() if isinstance(t, ember.Tensor | torch.Tensor) else np.asarray(t)


def close(e: Any, t: Any, what: str, rtol: float = RTOL, atol: float = ATOL, kind: str = "values") -> None:
    """Ember's ``e`` equals torch's ``t`` within rtol / atol: one comparison of ``kind``."""
    np.testing.assert_allclose(_np(e), _np(t), rtol=rtol, atol=atol, err_msg=what)
    COMPARED[kind] += 1


def _both(arrays: Sequence[Any], grad: Sequence[int]) -> tuple[list[Any], list[Any]]:
    es, ts = [], []
    for i, a in enumerate(arrays):
        if isinstance(a, np.ndarray):
            es.append(ember.tensor(a).requires_grad_(i in grad))
            ts.append(torch.tensor(a).requires_grad_(i in grad))
        else:
            es.append(a)
            ts.append(a)
    return es, ts


def check(
    fe: Callable[..., Any],
    ft: Callable[..., Any],
    arrays: Sequence[Any],
    grad: Sequence[int] | None = None,
    rtol: float = RTOL,
    atol: float = ATOL,
    params: tuple[Any, Any] | None = None,
) -> None:
    """``fe(*ember inputs)`` equals ``ft(*torch inputs)``, and so do the gradients of
    ``sum(out * g)`` (random g) for the inputs at ``grad`` (default: every float64 array) and, with
    ``params=(ember module, torch module)``, for the modules' parameters. A tuple output compares
    every tensor in it (nested tuples flattened)."""
    grad = (
        [i for i, a in enumerate(arrays) if isinstance(a, np.ndarray) and a.dtype == np.float64]
        if grad is None
        else list(grad)
    )
    es, ts = _both(arrays, grad)
    oe, ot = _flat(fe(*es)), _flat(ft(*ts))
    assert len(oe) == len(ot), (len(oe), len(ot))
    for i, (a, b) in enumerate(zip(oe, ot, strict=True)):
        close(a, b, f"output {i}", rtol, atol)
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], f"ember {a.dtype}, torch {b.dtype}"
    pairs = [(a, b) for a, b in zip(oe, ot, strict=True) if b.requires_grad]
    if not pairs:
        return
    le, lt = 0, 0
    for k, (a, b) in enumerate(pairs):
        g = _rng(99 + k).standard_normal(tuple(b.shape))
        le = le + (a * ember.tensor(g)).sum()
        lt = lt + (b * torch.tensor(g)).sum()
    le.backward()
    lt.backward()
    for i in grad:
        ge, gt = es[i].grad, ts[i].grad
        assert (ge is None) == (gt is None), f"gradient of input {i}: ember {ge}, torch {gt}"
        if gt is not None:
            close(ge, gt, f"grad {i}", rtol, atol, kind="gradients")
    if params is not None:
        pe, pt = dict(params[0].named_parameters()), dict(params[1].named_parameters())
        assert list(pe) == list(pt)
        for name, p in pt.items():
            if p.grad is None:
                assert pe[name].grad is None, name
            else:
                close(pe[name].grad, p.grad, name, rtol, atol, kind="gradients")


def _flat(out: Any) -> list[Any]:
    if isinstance(out, tuple | list):
        return [t for o in out for t in _flat(o)]
    return [out]


def sync(em: nn.Module, tm: Any) -> None:
    """Copy torch module ``tm``'s state into ember module ``em`` (strict: same keys)."""
    em.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})


def assert_same_state(em: nn.Module, tm: Any) -> None:
    se, st = em.state_dict(), tm.state_dict()
    assert list(se) == list(st), (list(se), list(st))
    COMPARED["state"] += 1
    for k, v in st.items():
        close(se[k], v, k, kind="state")


def check_module(em: nn.Module, tm: Any, arrays: Sequence[Any], **kw: Any) -> None:
    """Same state_dict keys; with torch's state copied in, forward, input and parameter gradients
    equal."""
    em.to(ember.float64)
    tm.to(torch.float64)
    assert list(em.state_dict()) == list(tm.state_dict())
    COMPARED["state"] += 1
    sync(em, tm)
    check(em, tm, arrays, params=(em, tm), **kw)
    assert_same_state(em, tm)


def raises_like_torch(fe: Callable[[], Any], ft: Callable[[], Any], match: str) -> None:
    """Both raise; Ember's message matches ``match`` (it names the op and the values)."""
    with pytest.raises(Exception):  # noqa: B017, PT011 - torch's types vary (RuntimeError, ValueError)
        ft()
    with pytest.raises((ValueError, IndexError, TypeError, RuntimeError), match=match):
        fe()
    COMPARED["errors"] += 1


# -- activations ------------------------------------------------------------------------------------
KINKS = np.array([-7.0, -6.0, -3.0, -1.0, -0.5, -0.0, 0.0, 1e-300, 0.5, 1.0, 3.0, 6.0, 7.0, 25.0])


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        ("selu", {}),
        ("celu", {}),
        ("celu", {"alpha": 0.5}),
        ("mish", {}),
        ("hardswish", {}),
        ("hardsigmoid", {}),
        ("hardtanh", {}),
        ("hardtanh", {"min_val": -0.5, "max_val": 3.0}),
        ("logsigmoid", {}),
        ("softsign", {}),
        ("tanhshrink", {}),
        ("threshold", {"threshold": 0.5, "value": -2.0}),
        ("threshold", {"threshold": -1.0, "value": 0.0}),
        ("hardshrink", {}),
        ("hardshrink", {"lambd": 1.0}),
        ("softshrink", {}),
        ("softshrink", {"lambd": 3.0}),
        ("softmin", {"dim": 0}),
    ],
)
def test_activation_values_and_gradients_including_kinks(name: str, kw: dict) -> None:
    x = np.concatenate([_r(20) * 4, KINKS])
    check(lambda a: getattr(F, name)(a, **kw), lambda a: getattr(TF, name)(a, **kw), [x])


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        ("selu", {}),
        ("celu", {"alpha": 2.0}),
        ("mish", {}),
        ("hardswish", {}),
        ("hardsigmoid", {}),
        ("hardtanh", {}),
        ("threshold", {"threshold": 0.5, "value": -2.0}),
    ],
)
def test_inplace_activation_matches_torch(name: str, kw: dict) -> None:
    x = np.concatenate([_r(12) * 4, KINKS])

    def run(fn: Callable, a: Any) -> Any:
        b = a * 1.0  # a non-leaf that may be overwritten
        out = fn(b, inplace=True, **kw)
        assert out is b
        return out

    check(lambda a: run(getattr(F, name), a), lambda a: run(getattr(TF, name), a), [x])


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        ("relu_", {}),
        ("elu_", {"alpha": 0.5}),
        ("leaky_relu_", {"negative_slope": 0.2}),
        ("hardtanh_", {"min_val": -0.5, "max_val": 2.0}),
        ("threshold_", {"threshold": 0.5, "value": -2.0}),
        ("celu_", {"alpha": 2.0}),
        ("selu_", {}),
    ],
)
def test_inplace_functional_forms(name: str, kw: dict) -> None:
    x = np.concatenate([_r(12) * 4, KINKS])

    def run(fn: Callable, a: Any) -> Any:
        b = a * 1.0  # a non-leaf that may be overwritten
        out = fn(b, **kw)
        assert out is b
        return out

    check(lambda a: run(getattr(F, name), a), lambda a: run(getattr(TF, name), a), [x])


def test_activation_second_derivatives() -> None:
    x = np.concatenate([_r(10) * 3, [0.5, -0.5]])
    for name in ("mish", "logsigmoid", "hardswish"):
        e = ember.tensor(x, requires_grad=True)
        t = torch.tensor(x, requires_grad=True)
        (ge,) = ember.autograd.grad(getattr(F, name)(e).sum(), e, create_graph=True)
        (gt,) = torch.autograd.grad(getattr(TF, name)(t).sum(), t, create_graph=True)
        close(ge, gt, f"{name} first derivative", kind="gradients")
        (gge,) = ember.autograd.grad(ge.sum(), e)
        (ggt,) = torch.autograd.grad(gt.sum(), t)
        close(gge, ggt, f"{name} second derivative", kind="gradients")


@pytest.mark.parametrize("dim", [-1, 0, 1, 2])
def test_glu(dim: int) -> None:
    check(lambda a: F.glu(a, dim), lambda a: TF.glu(a, dim), [_r(4, 6, 2)])
    check(nn.GLU(dim), tnn.GLU(dim), [_r(4, 6, 2)])


@pytest.mark.parametrize(
    ("shape", "n"), [((3, 4), 1), ((3, 4), 4), ((2, 3, 5), 3), ((2, 3, 2, 2), 3), ((5,), 1)]
)
def test_prelu(shape: tuple, n: int) -> None:
    w = _rng(1).uniform(-0.5, 0.5, n)
    check(F.prelu, TF.prelu, [np.concatenate([_r(*shape).ravel()]).reshape(shape), w])
    em, tm = nn.PReLU(n, init=0.1), tnn.PReLU(n, init=0.1)
    assert_same_state(em, tm.to(torch.float32))  # the init: every slope is ``init``
    check_module(em, tm, [_r(*shape)])


@pytest.mark.parametrize(
    ("ename", "args"),
    [
        ("ReLU6", ()),
        ("SELU", ()),
        # alpha whose 1 / alpha is a float32 (PyTorch's celu backward rounds 1 / alpha to float32)
        ("CELU", (0.25,)),
        ("Mish", ()),
        ("Hardswish", ()),
        ("Hardsigmoid", ()),
        ("Hardtanh", (-2.0, 0.5)),
        ("LogSigmoid", ()),
        ("Softsign", ()),
        ("Tanhshrink", ()),
        ("Threshold", (0.1, 20.0)),
        ("GLU", (1,)),
        ("Hardshrink", (1.0,)),
        ("Softshrink", ()),
        ("Softmin", (1,)),
        ("Softmax2d", ()),
    ],
)
def test_parameterless_modules(ename: str, args: tuple) -> None:
    check(getattr(nn, ename)(*args), getattr(tnn, ename)(*args), [_r(2, 4, 3) * 3])
    assert repr(getattr(nn, ename)(*args)) == repr(getattr(tnn, ename)(*args))
    COMPARED["repr"] += 1


def test_activation_errors() -> None:
    x, t = ember.tensor(_r(2, 3)), torch.tensor(_r(2, 3))
    raises_like_torch(lambda: F.glu(x), lambda: TF.glu(t), "glu: the halved dimension must be even")
    raises_like_torch(lambda: F.celu(x, 0.0), lambda: TF.celu(t, 0.0), "celu: alpha cannot be 0")
    raises_like_torch(
        lambda: F.prelu(x, ember.ones(2, dtype=ember.float64)),
        lambda: TF.prelu(t, torch.ones(2, dtype=torch.float64)),
        "prelu: weight has shape \\(2,\\).*3 channel",
    )
    raises_like_torch(
        lambda: nn.Hardtanh(1.0, -1.0), lambda: tnn.Hardtanh(1.0, -1.0), "Hardtanh: min_val \\(1.0\\)"
    )


# -- pooling ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("k", "s", "p", "d", "ceil"),
    [(2, None, 0, 1, False), (3, 2, 1, 1, True), (3, 1, 1, 2, False), (2, 3, 0, 1, True)],
)
def test_max_pool1d(k: int, s: Any, p: int, d: int, ceil: bool) -> None:
    x = _r(2, 3, 11)
    check(lambda a: F.max_pool1d(a, k, s, p, d, ceil), lambda a: TF.max_pool1d(a, k, s, p, d, ceil), [x])
    ie = F.max_pool1d(ember.tensor(x), k, s, p, d, ceil, return_indices=True)[1]
    it = TF.max_pool1d(torch.tensor(x), k, s, p, d, ceil, return_indices=True)[1]
    close(ie, it, "indices")
    check(nn.MaxPool1d(k, s, p, d, ceil_mode=ceil), tnn.MaxPool1d(k, s, p, d, ceil_mode=ceil), [x[0]])


@pytest.mark.parametrize(
    ("k", "s", "p", "ceil", "cip"), [(2, None, 0, False, True), (3, 2, 1, True, False), (4, 3, 2, True, True)]
)
def test_avg_pool1d(k: int, s: Any, p: int, ceil: bool, cip: bool) -> None:
    x = _r(2, 3, 10)
    check(lambda a: F.avg_pool1d(a, k, s, p, ceil, cip), lambda a: TF.avg_pool1d(a, k, s, p, ceil, cip), [x])
    check(nn.AvgPool1d(k, s, p, ceil, cip), tnn.AvgPool1d(k, s, p, ceil, cip), [x])


@pytest.mark.parametrize("size", [1, 3, 4, 7, 8, 12])
def test_adaptive_pool1d(size: Any) -> None:
    x = _r(2, 3, 8)
    check(lambda a: F.adaptive_avg_pool1d(a, size), lambda a: TF.adaptive_avg_pool1d(a, size), [x])
    check(nn.AdaptiveMaxPool1d(size, True), tnn.AdaptiveMaxPool1d(size, True), [x])
    check(nn.AdaptiveAvgPool1d(size), tnn.AdaptiveAvgPool1d(size), [x[0]])


@pytest.mark.parametrize("size", [1, 2, (3, 2), (5, 4), (None, 3), (8, 9)])
def test_adaptive_max_pool2d(size: Any) -> None:
    x = _r(2, 3, 6, 8)
    check(
        lambda a: F.adaptive_max_pool2d(a, size, True), lambda a: TF.adaptive_max_pool2d(a, size, True), [x]
    )
    check(nn.AdaptiveMaxPool2d(size), tnn.AdaptiveMaxPool2d(size), [x[0]])


def test_adaptive_max_pool2d_ties_send_the_gradient_to_the_first_maximum() -> None:
    x = np.maximum(_r(1, 2, 6, 6), 0)  # windows of tied zeros
    for size in (2, (4, 5)):
        check(
            lambda a, size=size: F.adaptive_max_pool2d(a, size, True),
            lambda a, size=size: TF.adaptive_max_pool2d(a, size, True),
            [x],
        )


@pytest.mark.parametrize("size", [1, (2, 3), (4, 3)])
def test_adaptive_max_pool2d_nan_windows_as_torch(size: Any) -> None:
    """A window with NaNs: its index and its gradient both go to the last NaN, as PyTorch's (the
    indices once took the first NaN while the gradient went to the last)."""
    x = _r(1, 2, 4, 6)
    x[0, 0, 1, 1] = x[0, 0, 1, 4] = x[0, 1, 3, 0] = x[0, 1, 3, 5] = np.nan
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ve, ie), (vt, it) = F.adaptive_max_pool2d(xe, size, True), TF.adaptive_max_pool2d(xt, size, True)
    assert ie.tolist() == it.tolist()
    ve.sum().backward()
    vt.sum().backward()
    np.testing.assert_array_equal(xe.grad.numpy(), xt.grad.numpy())


def test_pooling_errors() -> None:
    x, t = ember.tensor(_r(2, 3, 4, 5)), torch.tensor(_r(2, 3, 4, 5))
    raises_like_torch(lambda: F.max_pool1d(x, 2), lambda: TF.max_pool1d(t, 2), "max_pool1d: expected a 2-D")
    raises_like_torch(
        lambda: F.adaptive_avg_pool1d(x[0], None),
        lambda: TF.adaptive_avg_pool1d(t[0], None),
        "adaptive_avg_pool1d: output_size must be a positive int or a tuple of 1 positive ints, got None",
    )
    raises_like_torch(
        lambda: F.adaptive_max_pool2d(x[None], 2),
        lambda: TF.adaptive_max_pool2d(t[None], 2),
        "adaptive_max_pool2d: expected a 3-D \\(C, H, W\\) or 4-D",
    )


# -- normalisation ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("shape", "ns", "eps"), [((3, 4), 4, None), ((2, 3, 4), (3, 4), 1e-3), ((2, 5), [5], 0.5)]
)
def test_rms_norm(shape: tuple, ns: Any, eps: Any) -> None:
    tns = (ns,) if isinstance(ns, int) else tuple(ns)  # torch's functional form takes a tuple only
    w = _r(*tns, seed=3)
    check(lambda a, b: F.rms_norm(a, ns, b, eps), lambda a, b: TF.rms_norm(a, tns, b, eps), [_r(*shape), w])
    check(lambda a: F.rms_norm(a, ns, eps=eps), lambda a: TF.rms_norm(a, tns, eps=eps), [_r(*shape)])
    em, tm = nn.RMSNorm(ns, eps), tnn.RMSNorm(ns, eps)
    assert_same_state(em, tm)
    assert repr(em) == repr(tm)
    check_module(em, tm, [_r(*shape)])
    check(nn.RMSNorm(ns, eps, False), tnn.RMSNorm(ns, eps, False), [_r(*shape)])
    x32 = _r(*shape).astype(np.float32)  # eps=None: the float32 epsilon
    close(F.rms_norm(ember.tensor(x32), ns), TF.rms_norm(torch.tensor(x32), tns), "float32", rtol=1e-6)


@pytest.mark.parametrize(
    ("cls", "shape", "kw"),
    [
        ("InstanceNorm1d", (2, 3, 5), {}),
        ("InstanceNorm1d", (3, 5), {"affine": True}),
        ("InstanceNorm2d", (2, 3, 4, 4), {"affine": True, "track_running_stats": True}),
        ("InstanceNorm2d", (3, 4, 5), {"track_running_stats": True, "momentum": 0.3}),
        ("InstanceNorm2d", (2, 3, 2, 3), {"track_running_stats": True, "momentum": None}),
        ("InstanceNorm1d", (2, 3, 4), {"affine": True, "bias": False}),
    ],
)
def test_instance_norm_modules_train_then_eval(cls: str, shape: tuple, kw: dict) -> None:
    em, tm = getattr(nn, cls)(3, **kw), getattr(tnn, cls)(3, **kw)
    assert repr(em) == repr(tm)
    for step in range(2):
        check_module(em, tm, [_r(*shape, seed=step)])
    em.eval()
    tm.eval()
    check_module(em, tm, [_r(*shape, seed=5)])


def test_instance_norm_functional() -> None:
    x, rm, rv = _r(2, 3, 4), _r(3, seed=1), _rng(2).uniform(0.5, 2, 3)
    w, b = _r(3, seed=3), _r(3, seed=4)
    check(F.instance_norm, TF.instance_norm, [x])
    check(F.instance_norm, TF.instance_norm, [x, None, None, w, b])
    check(
        lambda *a: F.instance_norm(*a, use_input_stats=False),
        lambda *a: TF.instance_norm(*a, use_input_stats=False),
        [x, rm, rv, w, b],
        grad=[0, 3, 4],  # torch does not differentiate the running stats
    )
    em, ev, tm, tv = ember.tensor(rm), ember.tensor(rv), torch.tensor(rm), torch.tensor(rv)
    F.instance_norm(ember.tensor(x), em, ev, momentum=0.4)
    TF.instance_norm(torch.tensor(x), tm, tv, momentum=0.4)
    close(em, tm, "running_mean", kind="state")
    close(ev, tv, "running_var", kind="state")


@pytest.mark.parametrize(
    ("shape", "size", "kw"),
    [
        ((2, 5, 3), 3, {}),
        ((2, 4, 3, 3), 2, {"alpha": 0.1, "beta": 0.5, "k": 2.0}),
        ((1, 6, 2, 2, 2), 4, {"alpha": 0.5}),
    ],
)
def test_local_response_norm(shape: tuple, size: int, kw: dict) -> None:
    check(
        lambda a: F.local_response_norm(a, size, **kw),
        lambda a: TF.local_response_norm(a, size, **kw),
        [_r(*shape)],
    )
    check(nn.LocalResponseNorm(size, **kw), tnn.LocalResponseNorm(size, **kw), [_r(*shape)])
    assert repr(nn.LocalResponseNorm(size, **kw)) == repr(tnn.LocalResponseNorm(size, **kw))


def test_normalisation_errors() -> None:
    x, t = ember.tensor(_r(2, 3)), torch.tensor(_r(2, 3))
    raises_like_torch(
        lambda: F.rms_norm(x, 4), lambda: TF.rms_norm(t, 4), "rms_norm: normalized_shape \\(4,\\)"
    )
    raises_like_torch(
        lambda: nn.InstanceNorm1d(3)(x[0]),
        lambda: tnn.InstanceNorm1d(3)(t[0]),
        "InstanceNorm1d: expected a 2-D",
    )
    raises_like_torch(
        lambda: F.local_response_norm(x, 2),
        lambda: TF.local_response_norm(t, 2),
        "local_response_norm: expected at least a 3-D",
    )


@pytest.mark.parametrize(
    ("name", "shape"),
    [("dropout1d", (8, 50, 3)), ("dropout2d", (8, 50, 3, 2)), ("dropout3d", (4, 50, 2, 2, 2))],
)
def test_channel_dropout(name: str, shape: tuple) -> None:
    x = np.abs(_r(*shape)) + 0.1
    module = {"dropout1d": "Dropout1d", "dropout2d": "Dropout2d", "dropout3d": "Dropout3d"}[name]
    em, tm = getattr(nn, module)(0.3), getattr(tnn, module)(0.3)
    assert repr(em) == repr(tm)
    em.eval()
    tm.eval()
    check(em, tm, [x])  # eval: the identity
    for p in (0.0, 1.0):
        check(lambda a, p=p: getattr(F, name)(a, p), lambda a, p=p: getattr(TF, name)(a, p), [x])
    # training: whole channels dropped (about p of them), the rest scaled by 1/(1-p), as torch's
    ember.manual_seed(0)
    out = _np(getattr(F, name)(ember.tensor(x), 0.3))
    ref = _np(getattr(TF, name)(torch.tensor(x), 0.3))
    for o in (out, ref):
        per_channel = o.reshape(shape[0], shape[1], -1)
        dropped = (per_channel == 0).all(-1)
        kept = np.isclose(per_channel, x.reshape(shape[0], shape[1], -1) / 0.7).all(-1)
        assert (dropped | kept).all()
        assert 0.15 < dropped.mean() < 0.45
    COMPARED["values"] += 1


def test_dropout2d_takes_3d_input_as_1d_like_torch() -> None:
    x = np.abs(_r(4, 30, 5)) + 0.1
    with pytest.warns(UserWarning, match="dropout2d: received a 3D input"):
        out = _np(F.dropout2d(ember.tensor(x), 0.5))
    with pytest.warns(UserWarning, match="channel-wise 1D dropout"):
        TF.dropout2d(torch.tensor(x), 0.5)
    per_channel = out.reshape(4, 30, 5)
    assert ((per_channel == 0).all(-1) | np.isclose(per_channel, x * 2).all(-1)).all()
    raises_like_torch(
        lambda: nn.Dropout2d(1.5),
        lambda: tnn.Dropout2d(1.5),
        "Dropout: probability has to be between 0 and 1",
    )


# -- padding, resampling, distances -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "args", "shape"),
    [
        ("ZeroPad1d", (2,), (2, 3, 4)),
        ("ZeroPad2d", (1,), (2, 3, 4, 5)),
        ("ZeroPad2d", ((1, 0, 2, -1),), (3, 4, 5)),
        ("ConstantPad1d", ((1, 3), 2.5), (3, 4)),
        ("ConstantPad2d", (2, -1.0), (1, 2, 3, 3)),
        ("ReflectionPad1d", (2,), (2, 3, 4)),
        ("ReflectionPad2d", ((1, 2, 0, 3),), (2, 2, 4, 5)),
        ("ReplicationPad1d", ((3, 1),), (2, 3, 4)),
        ("ReplicationPad2d", (2,), (2, 2, 3, 3)),
        ("CircularPad1d", (2,), (2, 3, 4)),
        ("CircularPad2d", ((1, 2, 2, 1),), (1, 2, 3, 4)),
    ],
)
def test_padding_modules(name: str, args: tuple, shape: tuple) -> None:
    em, tm = getattr(nn, name)(*args), getattr(tnn, name)(*args)
    check(em, tm, [_r(*shape)])
    assert repr(em) == repr(tm)
    COMPARED["repr"] += 1


@pytest.mark.parametrize(
    ("shape", "r"), [((1, 8, 2, 3), 2), ((9, 2, 1), 3), ((2, 1, 4, 2, 2), 2), ((1, 4, 3, 3), 1)]
)
def test_pixel_shuffle(shape: tuple, r: int) -> None:
    check(lambda a: F.pixel_shuffle(a, r), lambda a: TF.pixel_shuffle(a, r), [_r(*shape)])
    check(nn.PixelShuffle(r), tnn.PixelShuffle(r), [_r(*shape)])
    up = tuple(shape[:-3]) + (shape[-3] // (r * r), shape[-2] * r, shape[-1] * r)
    check(nn.PixelUnshuffle(r), tnn.PixelUnshuffle(r), [_r(*up)])


@pytest.mark.parametrize(
    ("shape", "kw"),
    [
        ((1, 2, 3, 4), {"scale_factor": 2}),
        ((1, 2, 5, 4), {"size": (3, 7)}),
        ((1, 2, 5, 4), {"size": (3, 7), "mode": "nearest-exact"}),
        ((1, 2, 5, 4), {"scale_factor": 1.7, "mode": "nearest"}),
        ((1, 2, 5, 4), {"scale_factor": 1.7, "mode": "nearest", "recompute_scale_factor": True}),
        ((1, 2, 3, 4), {"size": (5, 6), "mode": "bilinear"}),
        ((1, 2, 3, 4), {"size": (5, 6), "mode": "bilinear", "align_corners": True}),
        ((1, 2, 6, 5), {"scale_factor": 0.5, "mode": "bilinear"}),
        ((1, 2, 6, 5), {"scale_factor": 0.4, "mode": "bilinear", "align_corners": False}),
        ((1, 2, 3, 4), {"scale_factor": (1.5, 2.5), "mode": "bilinear"}),
        ((1, 2, 3, 4), {"scale_factor": 1.7, "mode": "bilinear", "recompute_scale_factor": True}),
        ((2, 3, 5), {"size": 8, "mode": "linear"}),
        ((2, 3, 5), {"size": 3, "mode": "linear", "align_corners": True}),
        ((2, 3, 5), {"scale_factor": 1.5}),
        ((1, 2, 2, 3, 2), {"scale_factor": 2, "mode": "trilinear"}),
        ((1, 2, 2, 3, 2), {"size": (3, 4, 5), "mode": "nearest"}),
        ((1, 2, 6, 6), {"size": (4, 3), "mode": "area"}),
        ((2, 2, 7), {"size": 3, "mode": "area"}),
        ((1, 1, 1, 4), {"size": (1, 1), "mode": "bilinear", "align_corners": True}),
    ],
)
def test_interpolate(shape: tuple, kw: dict) -> None:
    check(lambda a: F.interpolate(a, **kw), lambda a: TF.interpolate(a, **kw), [_r(*shape)])
    if "recompute_scale_factor" not in kw:
        args = (kw.get("size"), kw.get("scale_factor"), kw.get("mode", "nearest"), kw.get("align_corners"))
        em, tm = nn.Upsample(*args), tnn.Upsample(*args)
        check(em, tm, [_r(*shape)])
        assert repr(em) == repr(tm)
        COMPARED["repr"] += 1


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample(mode: str, padding_mode: str, align_corners: bool) -> None:
    grid = _rng(4).uniform(-1.3, 1.3, (2, 4, 6, 2))  # some points outside the image
    check(
        lambda a, g: F.grid_sample(a, g, mode, padding_mode, align_corners),
        lambda a, g: TF.grid_sample(a, g, mode, padding_mode, align_corners),
        [_r(2, 3, 5, 4), grid],
        grad=[0, 1] if mode == "bilinear" else [0],
    )


def test_upsampling_modules() -> None:
    x = _r(1, 2, 3, 4)
    check(nn.UpsamplingNearest2d(scale_factor=2), tnn.UpsamplingNearest2d(scale_factor=2), [x])
    check(nn.UpsamplingBilinear2d((5, 7)), tnn.UpsamplingBilinear2d((5, 7)), [x])


@pytest.mark.parametrize(
    ("s1", "s2", "kw"),
    [
        ((3, 4), (3, 4), {}),
        ((3, 4), (1, 4), {"dim": 1}),
        ((2, 3, 4), (2, 3, 4), {"dim": -1}),
        ((5,), (5,), {"dim": 0}),
        ((4, 3), (4, 3), {"dim": 0, "eps": 0.5}),
    ],
)
def test_cosine_similarity(s1: tuple, s2: tuple, kw: dict) -> None:
    check(
        lambda a, b: F.cosine_similarity(a, b, **kw),
        lambda a, b: TF.cosine_similarity(a, b, **kw),
        [_r(*s1), _r(*s2, seed=1)],
    )
    check(nn.CosineSimilarity(**kw), tnn.CosineSimilarity(**kw), [_r(*s1), _r(*s2, seed=1)])


def test_cosine_similarity_zero_vector() -> None:
    x = _r(3, 4)
    x[1] = 0
    check(F.cosine_similarity, TF.cosine_similarity, [x, _r(3, 4, seed=1)])


@pytest.mark.parametrize(
    ("s1", "s2", "kw"),
    [
        ((3, 4), (3, 4), {}),
        ((3, 4), (1, 4), {"p": 1.0}),
        ((2, 3, 4), (2, 3, 4), {"p": 3.0, "keepdim": True}),
        ((5,), (5,), {"eps": 0.1}),
        ((3, 4), (3, 4), {"p": float("inf")}),
    ],
)
def test_pairwise_distance(s1: tuple, s2: tuple, kw: dict) -> None:
    check(
        lambda a, b: F.pairwise_distance(a, b, **kw),
        lambda a, b: TF.pairwise_distance(a, b, **kw),
        [_r(*s1), _r(*s2, seed=1)],
    )
    check(nn.PairwiseDistance(**kw), tnn.PairwiseDistance(**kw), [_r(*s1), _r(*s2, seed=1)])


def test_resampling_and_distance_errors() -> None:
    x, t = ember.tensor(_r(1, 3, 2, 2)), torch.tensor(_r(1, 3, 2, 2))
    raises_like_torch(
        lambda: F.pixel_shuffle(x, 2), lambda: TF.pixel_shuffle(t, 2), "pixel_shuffle: the channel dim"
    )
    raises_like_torch(
        lambda: F.interpolate(x), lambda: TF.interpolate(t), "interpolate: pass exactly one of size"
    )
    raises_like_torch(
        lambda: F.interpolate(x, size=3, mode="linear"),
        lambda: TF.interpolate(t, size=3, mode="linear"),
        "interpolate: mode 'linear' needs a 3-D",
    )
    raises_like_torch(
        lambda: F.cosine_similarity(x, x[0, :2]),
        lambda: TF.cosine_similarity(t, t[0, :2]),
        "cosine_similarity: x1 of shape",
    )
    raises_like_torch(
        lambda: nn.ReflectionPad2d(2)(x), lambda: tnn.ReflectionPad2d(2)(t), "pad: reflect padding"
    )


# -- transposed convolution -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"stride": 2},
        {"stride": (2, 3), "padding": 1, "output_padding": 1},
        {"stride": 2, "padding": (3, 0)},
        {"groups": 2, "dilation": 2, "padding": 2},
        {"stride": 3, "dilation": (2, 1), "output_padding": (1, 2)},
    ],
)
def test_conv_transpose2d(kw: dict) -> None:
    g = kw.get("groups", 1)
    check(
        lambda *a: F.conv_transpose2d(*a, **kw),
        lambda *a: TF.conv_transpose2d(*a, **kw),
        [_r(2, 4, 5, 3), _r(4, 3, 3, 2, seed=1), _r(3 * g, seed=2)],
    )
    em, tm = nn.ConvTranspose2d(4, 3 * g, (3, 2), **kw), tnn.ConvTranspose2d(4, 3 * g, (3, 2), **kw)
    assert repr(em) == repr(tm)
    check_module(em, tm, [_r(2, 4, 5, 3)])


@pytest.mark.parametrize(
    "kw",
    [{}, {"stride": 2, "padding": 1, "output_padding": 1}, {"groups": 4, "dilation": 3}, {"bias": False}],
)
def test_conv_transpose1d(kw: dict) -> None:
    fkw = {k: v for k, v in kw.items() if k != "bias"}
    check(
        lambda *a: F.conv_transpose1d(*a, **fkw),
        lambda *a: TF.conv_transpose1d(*a, **fkw),
        [_r(2, 4, 6), _r(4, 2, 3, seed=1)],
    )
    em, tm = nn.ConvTranspose1d(4, 8, 3, **kw), tnn.ConvTranspose1d(4, 8, 3, **kw)
    assert repr(em) == repr(tm)
    check_module(em, tm, [_r(2, 4, 6)])
    check_module(em, tm, [_r(4, 6)])  # unbatched


@pytest.mark.parametrize(
    "kw",
    [
        {"kernel_size": 2},
        {"kernel_size": (3, 2), "dilation": (1, 2), "padding": 1, "stride": (2, 1)},
        {"kernel_size": 2, "stride": 2},
    ],
)
def test_unfold_and_fold(kw: dict) -> None:
    x = _r(2, 3, 6, 4)
    check(lambda a: F.unfold(a, **kw), lambda a: TF.unfold(a, **kw), [x])
    check(nn.Unfold(**kw), tnn.Unfold(**kw), [x[0]])
    cols = _np(TF.unfold(torch.tensor(x), **kw))
    check(lambda a: F.fold(a, (6, 4), **kw), lambda a: TF.fold(a, (6, 4), **kw), [cols])
    em, tm = nn.Fold((6, 4), **kw), tnn.Fold((6, 4), **kw)
    assert repr(em) == repr(tm) and repr(nn.Unfold(**kw)) == repr(tnn.Unfold(**kw))
    check(em, tm, [cols[0]])
    raises_like_torch(
        lambda: F.fold(ember.tensor(cols[:, :, :-1]), (6, 4), **kw),
        lambda: TF.fold(torch.tensor(cols[:, :, :-1]), (6, 4), **kw),
        "fold: the input's last dim",
    )


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"stride": (2, 1, 2), "padding": 1},
        {"groups": 2, "dilation": (2, 1, 1), "bias": False},
        {"padding": "same", "padding_mode": "reflect"},
    ],
)
def test_conv3d(kw: dict) -> None:
    fkw = {k: v for k, v in kw.items() if k not in ("bias", "padding_mode")}
    w = _r(4, 4 // kw.get("groups", 1), 2, 3, 2, seed=1)
    if "padding_mode" not in kw:
        check(lambda a, b: F.conv3d(a, b, **fkw), lambda a, b: TF.conv3d(a, b, **fkw), [_r(2, 4, 5, 5, 4), w])
    em, tm = nn.Conv3d(4, 4, (2, 3, 2), **kw), tnn.Conv3d(4, 4, (2, 3, 2), **kw)
    if "padding_mode" not in kw:  # Ember's conv repr quotes string arguments ('same', 'reflect')
        assert repr(em) == repr(tm)
    check_module(em, tm, [_r(2, 4, 5, 5, 4)])
    check_module(em, tm, [_r(4, 5, 5, 4)])  # unbatched


def test_conv_transpose_output_size_and_init() -> None:
    em, tm = nn.ConvTranspose2d(3, 2, 3, stride=2), tnn.ConvTranspose2d(3, 2, 3, stride=2)
    em.to(ember.float64)
    tm.to(torch.float64)
    sync(em, tm)
    x = _r(1, 3, 4, 4)
    for size in ((9, 9), (10, 10), [1, 2, 10, 9]):
        check(lambda a, s=size: em(a, output_size=s), lambda a, s=size: tm(a, output_size=s), [x])
    raises_like_torch(
        lambda: em(ember.tensor(x), output_size=(12, 12)),
        lambda: tm(torch.tensor(x), output_size=(12, 12)),
        "ConvTranspose2d: requested an output size of \\(12, 12\\)",
    )
    # the default initialisation draws from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) like torch's
    big_e, big_t = nn.ConvTranspose2d(64, 32, 3), tnn.ConvTranspose2d(64, 32, 3)
    e, t = _np(big_e.weight), _np(big_t.weight)
    close(np.abs(e).max(), np.abs(t).max(), "weight bound", rtol=0.01, kind="init")
    close(e.std(), t.std(), "weight std", rtol=0.05, kind="init")
    bound = 1 / math.sqrt(32 * 9)  # fan_in = weight.shape[1] * kernel area, as torch counts it
    assert np.abs(_np(big_e.bias)).max() <= bound and np.abs(_np(big_t.bias)).max() <= bound
    raises_like_torch(
        lambda: F.conv_transpose2d(ember.tensor(x), ember.ones(4, 2, 3, 3, dtype=ember.float64)),
        lambda: TF.conv_transpose2d(torch.tensor(x), torch.ones(4, 2, 3, 3, dtype=torch.float64)),
        "conv_transpose2d: input of shape \\(1, 3, 4, 4\\) has 3 channels",
    )


# -- Bilinear, EmbeddingBag, parameter containers ---------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_module(bias: bool) -> None:
    em, tm = nn.Bilinear(3, 4, 5, bias), tnn.Bilinear(3, 4, 5, bias)
    assert repr(em) == repr(tm)
    check_module(em, tm, [_r(2, 3), _r(2, 4, seed=1)])
    check_module(em, tm, [_r(2, 6, 3), _r(2, 6, 4, seed=1)])
    big_e, big_t = nn.Bilinear(40, 10, 20), tnn.Bilinear(40, 10, 20)
    e, t = _np(big_e.weight), _np(big_t.weight)
    close(np.abs(e).max(), np.abs(t).max(), "weight bound", rtol=0.01, kind="init")
    close(e.std(), t.std(), "weight std", rtol=0.05, kind="init")


@pytest.mark.parametrize(
    ("mode", "kw"),
    [
        ("sum", {}),
        ("mean", {}),
        ("max", {}),
        ("mean", {"padding_idx": 2}),
        ("max", {"padding_idx": 2}),
        ("sum", {"include_last_offset": True}),
        ("mean", {"include_last_offset": True, "padding_idx": 0}),
    ],
)
def test_embedding_bag(mode: str, kw: dict) -> None:
    em, tm = nn.EmbeddingBag(7, 3, mode=mode, **kw), tnn.EmbeddingBag(7, 3, mode=mode, **kw)
    assert repr(em) == repr(tm)
    em.to(ember.float64)
    tm.to(torch.float64)
    sync(em, tm)
    x2d = _rng(1).integers(0, 7, (4, 5))
    x2d[0, :2] = 2  # padding entries, where padding_idx=2
    flat = _rng(2).integers(0, 7, 12)
    offsets = np.array([0, 3, 3, 8])  # an empty bag
    calls = [((x2d,), {})] if not kw.get("include_last_offset") else []
    calls.append(((flat, offsets), {}))
    for args, _ in calls:
        check(
            lambda args=args: em(*[ember.tensor(v) for v in args]),
            lambda args=args: tm(*[torch.tensor(v) for v in args]),
            [],
            params=(em, tm),
        )
        em.zero_grad()
        tm.zero_grad()
    if mode == "sum":
        w = _r(4, 5, seed=3)
        check(
            lambda p: F.embedding_bag(ember.tensor(x2d), em.weight, mode="sum", per_sample_weights=p),
            lambda p: TF.embedding_bag(torch.tensor(x2d), tm.weight, mode="sum", per_sample_weights=p),
            [w],
        )


def test_embedding_bag_errors() -> None:
    w, tw = ember.ones(5, 2), torch.ones(5, 2)
    x, tx = ember.tensor(np.zeros(3, dtype=np.int64)), torch.zeros(3, dtype=torch.int64)
    raises_like_torch(
        lambda: F.embedding_bag(x, w), lambda: TF.embedding_bag(tx, tw), "embedding_bag: a 1-D input needs"
    )
    raises_like_torch(
        lambda: F.embedding_bag(x.reshape(1, 3), w, mode="max", per_sample_weights=ember.ones(1, 3)),
        lambda: TF.embedding_bag(tx.reshape(1, 3), tw, mode="max", per_sample_weights=torch.ones(1, 3)),
        "embedding_bag: per_sample_weights is only supported for mode='sum'",
    )


def test_parameter_list_and_dict() -> None:
    shapes = [(2, 3), (4,), (1, 2, 2)]
    el = nn.ParameterList([ember.ones(*s) for s in shapes[:2]])
    tl = tnn.ParameterList([torch.ones(*s) for s in shapes[:2]])
    el.append(ember.zeros(*shapes[2]))
    tl.append(torch.zeros(*shapes[2]))
    assert [n for n, _ in el.named_parameters()] == [n for n, _ in tl.named_parameters()]
    assert len(el) == len(tl) == 3 and isinstance(el[-1], nn.Parameter) and el[-1].requires_grad
    assert_same_state(el, tl)
    ed = nn.ParameterDict({"b": ember.ones(2), "a": nn.Parameter(ember.zeros(3))})
    td = tnn.ParameterDict({"b": torch.ones(2), "a": tnn.Parameter(torch.zeros(3))})
    ed["c"] = ember.full((2, 2), 3.0)
    td["c"] = torch.full((2, 2), 3.0)
    assert list(ed.keys()) == list(td.keys()) and "a" in ed and "z" not in ed
    assert_same_state(ed, td)
    ed.pop("b")
    td.pop("b")
    assert_same_state(ed, td)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ws = nn.ParameterList([ember.ones(2, 2), ember.ones(2, 2)])
            self.bs = nn.ParameterDict({"x": ember.zeros(2)})

    class TNet(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ws = tnn.ParameterList([torch.ones(2, 2), torch.ones(2, 2)])
            self.bs = tnn.ParameterDict({"x": torch.zeros(2)})

    assert_same_state(Net(), TNet())
    with pytest.raises(TypeError, match="ParameterList: entries must be"):
        el.append(3.0)
    with pytest.raises(IndexError, match="ParameterList: index 5 is out of range for 3"):
        el[5]


# -- losses -----------------------------------------------------------------------------------------
REDUCTIONS = ["mean", "sum", "none"]


def _signs(*shape: int, seed: int = 7) -> np.ndarray:
    return np.where(_rng(seed).random(shape) > 0.5, 1.0, -1.0)


def _probs(*shape: int, seed: int = 5) -> np.ndarray:
    e = _rng(seed).random(shape) + 0.1
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction: str, log_target: bool) -> None:
    x = np.log(_probs(3, 4, seed=1))
    t = np.log(_probs(3, 4)) if log_target else _probs(3, 4)
    if not log_target:
        t[0, 1] = 0.0  # a zero target contributes 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reduction='mean' warns in both
        check(
            lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
            lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target),
            [x, t],
            grad=[0] if not log_target else None,
        )
        check(
            nn.KLDivLoss(reduction=reduction, log_target=log_target),
            tnn.KLDivLoss(reduction=reduction, log_target=log_target),
            [x, t],
            grad=[0],
        )
    if reduction == "mean":
        with pytest.warns(UserWarning, match="batchmean"):
            F.kl_div(ember.tensor(x), ember.tensor(t))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_and_logistic_losses(reduction: str) -> None:
    x, y = _r(4, 3) * 2, _signs(4, 3)
    check(
        lambda a, b: F.soft_margin_loss(a, b, reduction=reduction),
        lambda a, b: TF.soft_margin_loss(a, b, reduction=reduction),
        [x, y],
        grad=[0],  # torch's soft_margin_loss does not differentiate the target
    )
    check(nn.SoftMarginLoss(reduction=reduction), tnn.SoftMarginLoss(reduction=reduction), [x, y], grad=[0])
    labels = (_rng(3).random((4, 3)) > 0.5).astype(np.float64)
    w = _rng(4).uniform(0.5, 2, 3)
    check(
        lambda a, b, c: F.multilabel_soft_margin_loss(a, b, c, reduction=reduction),
        lambda a, b, c: TF.multilabel_soft_margin_loss(a, b, c, reduction=reduction),
        [x, labels, w],
    )
    em, tm = (
        nn.MultiLabelSoftMarginLoss(ember.tensor(w), reduction=reduction),
        tnn.MultiLabelSoftMarginLoss(torch.tensor(w), reduction=reduction),
    )
    assert_same_state(em, tm)
    check(em, tm, [x, labels])
    x1, x2, y1 = _r(6), _r(6, seed=1), _signs(6)
    for margin in (0.0, 0.7):
        check(
            lambda a, b, c, m=margin: F.margin_ranking_loss(a, b, c, m, reduction=reduction),
            lambda a, b, c, m=margin: TF.margin_ranking_loss(a, b, c, m, reduction=reduction),
            [x1, x2, y1],
        )
        check(
            nn.MarginRankingLoss(margin, reduction=reduction),
            tnn.MarginRankingLoss(margin, reduction=reduction),
            [x1, x2, y1],
        )
    a, pos, neg = _r(5, 3), _r(5, 3, seed=1), _r(5, 3, seed=2)
    for kw in ({}, {"margin": 2.0, "p": 1.0}, {"margin": 1.5, "swap": True}, {"p": 3.0, "eps": 0.1}):
        check(
            lambda *t, kw=kw: F.triplet_margin_loss(*t, **kw, reduction=reduction),
            lambda *t, kw=kw: TF.triplet_margin_loss(*t, **kw, reduction=reduction),
            [a, pos, neg],
        )
        check(
            nn.TripletMarginLoss(**kw, reduction=reduction),
            tnn.TripletMarginLoss(**kw, reduction=reduction),
            [a, pos, neg],
        )
    for margin in (0.0, -0.3, 0.4):
        check(
            lambda p, q, t, m=margin: F.cosine_embedding_loss(p, q, t, m, reduction=reduction),
            lambda p, q, t, m=margin: TF.cosine_embedding_loss(p, q, t, m, reduction=reduction),
            [a, pos, _signs(5)],
        )
        check(
            nn.CosineEmbeddingLoss(margin, reduction=reduction),
            tnn.CosineEmbeddingLoss(margin, reduction=reduction),
            [a, pos, _signs(5)],
        )
    check(
        lambda p, q, t: F.cosine_embedding_loss(p, q, t, reduction=reduction),
        lambda p, q, t: TF.cosine_embedding_loss(p, q, t, reduction=reduction),
        [_r(4), _r(4, seed=1), np.asarray(-1.0)],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("log_input", "full"), [(True, False), (True, True), (False, False), (False, True)])
def test_poisson_nll_loss(reduction: str, log_input: bool, full: bool) -> None:
    x = _r(3, 4) if log_input else _rng(1).uniform(0.2, 3, (3, 4))
    t = _rng(2).integers(0, 5, (3, 4)).astype(np.float64) + 0.25
    kw = {"log_input": log_input, "full": full, "reduction": reduction}
    check(lambda a, b: F.poisson_nll_loss(a, b, **kw), lambda a, b: TF.poisson_nll_loss(a, b, **kw), [x, t])
    check(nn.PoissonNLLLoss(**kw), tnn.PoissonNLLLoss(**kw), [x, t])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("vshape", "kw"), [((3, 4), {}), ((3,), {"full": True}), ((3, 1), {}), ((3, 4), {"eps": 0.5})]
)
def test_gaussian_nll_loss(reduction: str, vshape: tuple, kw: dict) -> None:
    v = _rng(3).uniform(0.2, 2, vshape)
    check(
        lambda a, b, c: F.gaussian_nll_loss(a, b, c, **kw, reduction=reduction),
        lambda a, b, c: TF.gaussian_nll_loss(a, b, c, **kw, reduction=reduction),
        [_r(3, 4), _r(3, 4, seed=1), v],
    )
    check(
        nn.GaussianNLLLoss(**kw, reduction=reduction),
        tnn.GaussianNLLLoss(**kw, reduction=reduction),
        [_r(3, 4), _r(3, 4, seed=1), v],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("layout", ["padded", "concatenated"])
def test_ctc_loss(reduction: str, layout: str) -> None:
    # torch's ctc_loss returns the logits' gradient for log_probs, so the gradients are compared
    # through the log_softmax that produces them (Ember's ctc_loss differentiates log_probs exactly)
    x = _r(8, 3, 5)
    padded = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [4, 4, 4, 4]])
    lengths_in, lengths_tg = np.array([8, 6, 8]), np.array([3, 2, 4])
    tg = padded if layout == "padded" else np.concatenate([padded[i, :k] for i, k in enumerate(lengths_tg)])
    for blank in (0, 4):
        tgb = np.where(tg == 4, 0, tg) if blank == 4 else tg  # no target label is the blank
        check(
            lambda a, blank=blank, tgb=tgb: F.ctc_loss(
                a.log_softmax(-1),
                ember.tensor(tgb),
                ember.tensor(lengths_in),
                ember.tensor(lengths_tg),
                blank,
                reduction,
            ),
            lambda a, blank=blank, tgb=tgb: TF.ctc_loss(
                a.log_softmax(-1),
                torch.tensor(tgb),
                torch.tensor(lengths_in),
                torch.tensor(lengths_tg),
                blank,
                reduction,
            ),
            [x],
        )
    em, tm = (
        nn.CTCLoss(reduction=reduction, zero_infinity=True),
        tnn.CTCLoss(reduction=reduction, zero_infinity=True),
    )
    short = np.array([8, 2, 8])  # the second input is too short for its target: a zero loss
    check(
        lambda a: em(a.log_softmax(-1), ember.tensor(tg), ember.tensor(short), ember.tensor(lengths_tg)),
        lambda a: tm(a.log_softmax(-1), torch.tensor(tg), torch.tensor(short), torch.tensor(lengths_tg)),
        [x],
    )
    if reduction == "none":
        le = F.ctc_loss(
            ember.tensor(x).log_softmax(-1),
            ember.tensor(tg),
            ember.tensor(short),
            ember.tensor(lengths_tg),
            reduction="none",
        )
        lt = TF.ctc_loss(
            torch.tensor(x).log_softmax(-1),
            torch.tensor(tg),
            torch.tensor(short),
            torch.tensor(lengths_tg),
            reduction="none",
        )
        close(le, lt, "an impossible alignment is inf")


def test_huber_loss_module() -> None:
    for delta in (1.0, 0.3, 2.5):
        check(nn.HuberLoss(delta=delta), tnn.HuberLoss(delta=delta), [_r(4, 3) * 2, _r(4, 3, seed=1)])
        check(nn.HuberLoss("sum", delta), tnn.HuberLoss("sum", delta), [_r(4, 3) * 2, _r(4, 3, seed=1)])


def test_legacy_size_average_and_reduce() -> None:
    x, y = _r(4, 3), _signs(4, 3)
    for size_average, reduce in ((False, None), (None, False), (True, True)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check(
                lambda a, b, s=size_average, r=reduce: F.soft_margin_loss(a, b, s, r),
                lambda a, b, s=size_average, r=reduce: TF.soft_margin_loss(a, b, s, r),
                [x, y],
                grad=[0],
            )
            em, tm = nn.SoftMarginLoss(size_average, reduce), tnn.SoftMarginLoss(size_average, reduce)
            assert em.reduction == tm.reduction
            COMPARED["attributes"] += 1


def test_loss_errors() -> None:
    x, t = ember.tensor(_r(2, 3)), torch.tensor(_r(2, 3))
    raises_like_torch(
        lambda: F.kl_div(x, x, reduction="avg"),
        lambda: TF.kl_div(t, t, reduction="avg"),
        "kl_div: reduction must be one of",
    )
    raises_like_torch(
        lambda: F.soft_margin_loss(x, x[0]),
        lambda: TF.soft_margin_loss(t, t[0].expand(3, 2)),
        "soft_margin_loss: input of shape",
    )
    raises_like_torch(
        lambda: F.margin_ranking_loss(x, x, x[0]),
        lambda: TF.margin_ranking_loss(t, t, t[0]),
        "margin_ranking_loss: all inputs must have the same number of dims",
    )
    raises_like_torch(
        lambda: F.gaussian_nll_loss(x, x, x.t()),
        lambda: TF.gaussian_nll_loss(t, t, t.t()),
        "gaussian_nll_loss: var of shape \\(3, 2\\)",
    )
    raises_like_torch(
        lambda: F.gaussian_nll_loss(x, x, -x.abs()),
        lambda: TF.gaussian_nll_loss(t, t, -t.abs()),
        "gaussian_nll_loss: var has negative entries",
    )
    raises_like_torch(
        lambda: nn.TripletMarginLoss(margin=0.0)(x, x, x),
        lambda: tnn.TripletMarginLoss(margin=0.0)(t, t, t),
        "TripletMarginLoss: margin must be greater than 0",
    )
    raises_like_torch(
        lambda: F.cosine_embedding_loss(x, x, x),
        lambda: TF.cosine_embedding_loss(t, t, t),
        "cosine_embedding_loss: expected a 1-D target",
    )


# -- recurrent layers -------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"num_layers": 2, "bidirectional": True},
        {"batch_first": True, "bias": False},
        {"num_layers": 3, "batch_first": True, "bidirectional": True},
    ],
)
def test_recurrent_layers(cls: str, kw: dict) -> None:
    em, tm = getattr(nn, cls)(3, 4, **kw), getattr(tnn, cls)(3, 4, **kw)
    assert repr(em) == repr(tm)
    COMPARED["repr"] += 1
    check_module(em, tm, [_r(5, 2, 3)])
    # given initial states, and unbatched
    d = 2 if kw.get("bidirectional") else 1
    layers = kw.get("num_layers", 1)
    h0, c0 = _r(layers * d, 2, 4, seed=1), _r(layers * d, 2, 4, seed=2)
    x = _r(2, 5, 3) if kw.get("batch_first") else _r(5, 2, 3)  # a batch of 2
    if cls == "LSTM":
        check(lambda x, h, c: em(x, (h, c)), lambda x, h, c: tm(x, (h, c)), [x, h0, c0], params=(em, tm))
        check(lambda x, h, c: em(x, (h, c)), lambda x, h, c: tm(x, (h, c)), [_r(4, 3), h0[:, 0], c0[:, 0]])
    else:
        check(lambda x, h: em(x, h), lambda x, h: tm(x, h), [x, h0], params=(em, tm))
        check(lambda x, h: em(x, h), lambda x, h: tm(x, h), [_r(4, 3), h0[:, 0]])


def test_rnn_relu_and_dropout_between_layers() -> None:
    em, tm = nn.RNN(3, 4, 2, nonlinearity="relu"), tnn.RNN(3, 4, 2, nonlinearity="relu")
    check_module(em, tm, [_r(6, 2, 3)])
    # dropout: only between layers, only in training; eval equals torch
    em, tm = nn.GRU(3, 4, 3, dropout=0.5), tnn.GRU(3, 4, 3, dropout=0.5)
    em.eval()
    tm.eval()
    check_module(em, tm, [_r(5, 2, 3)])
    em.train()
    ember.manual_seed(0)
    a = em(ember.tensor(_r(5, 2, 3)))[0]
    ember.manual_seed(1)
    b = em(ember.tensor(_r(5, 2, 3)))[0]
    assert not np.allclose(_np(a), _np(b))  # dropout drew different masks


@pytest.mark.parametrize(
    ("cls", "kw"),
    [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}), ("GRUCell", {"bias": False})],
)
def test_recurrent_cells(cls: str, kw: dict) -> None:
    em, tm = getattr(nn, cls)(3, 4, **kw), getattr(tnn, cls)(3, 4, **kw)
    assert repr(em) == repr(tm)
    check_module(em, tm, [_r(2, 3)])
    if cls == "LSTMCell":
        check(
            lambda x, h, c: em(x, (h, c)),
            lambda x, h, c: tm(x, (h, c)),
            [_r(2, 3), _r(2, 4, seed=1), _r(2, 4, seed=2)],
            params=(em, tm),
        )
        check(
            lambda x, h, c: em(x, (h, c)),
            lambda x, h, c: tm(x, (h, c)),
            [_r(3), _r(4, seed=1), _r(4, seed=2)],
        )
    else:
        check(lambda x, h: em(x, h), lambda x, h: tm(x, h), [_r(2, 3), _r(2, 4, seed=1)], params=(em, tm))
        check(em, tm, [_r(3)])


def test_recurrent_init_and_errors() -> None:
    em, tm = nn.LSTM(10, 50, 2), tnn.LSTM(10, 50, 2)
    for (ne, pe), (nt, pt) in zip(em.named_parameters(), tm.named_parameters(), strict=True):
        assert ne == nt and tuple(pe.shape) == tuple(pt.shape)
        bound = 1 / math.sqrt(50)
        assert np.abs(_np(pe)).max() <= bound and np.abs(_np(pe)).max() > 0.9 * bound
        COMPARED["init"] += 1
    x, t = ember.tensor(_r(5, 2, 3)), torch.tensor(_r(5, 2, 3))
    raises_like_torch(
        lambda: nn.GRU(4, 4)(x), lambda: tnn.GRU(4, 4).double()(t), "GRU: expected input with 4 features"
    )
    raises_like_torch(
        lambda: nn.RNN(3, 4)(x, ember.zeros(2, 2, 4, dtype=ember.float64)),
        lambda: tnn.RNN(3, 4).double()(t, torch.zeros(2, 2, 4, dtype=torch.float64)),
        "RNN: expected hx of shape \\(1, 2, 4\\)",
    )
    raises_like_torch(
        lambda: nn.RNN(3, 4, nonlinearity="gelu"),
        lambda: tnn.RNN(3, 4, nonlinearity="gelu"),
        "RNN: nonlinearity must be",
    )


# -- transformer ------------------------------------------------------------------------------------
def _causal(n: int) -> tuple[Any, Any]:
    return (
        nn.Transformer.generate_square_subsequent_mask(n, dtype=ember.float64),
        tnn.Transformer.generate_square_subsequent_mask(n, dtype=torch.float64),
    )


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"norm_first": True, "activation": "gelu"},
        {"batch_first": True, "bias": False},
        {"activation": "relu", "layer_norm_eps": 1e-3},
    ],
)
def test_transformer_encoder_layer_and_encoder(kw: dict) -> None:
    em = nn.TransformerEncoderLayer(8, 2, 16, 0.0, **kw)
    tm = tnn.TransformerEncoderLayer(8, 2, 16, 0.0, **kw)
    x = _r(3, 5, 8)
    check_module(em, tm, [x])
    me, mt = _causal(5 if not kw.get("batch_first") else 5)
    check_module(em, tm, [_r(5, 5, 8)])
    em.to(ember.float64)
    tm.to(torch.float64)
    check(
        lambda a: em(a, me, is_causal=True),
        lambda a: tm(a, mt, is_causal=True),
        [_r(5, 5, 8)],
        params=(em, tm),
    )
    pad = np.zeros((5, 5), dtype=bool)
    pad[:, -1] = True  # the last position is padding in every sequence
    check(
        lambda a: em(a, src_key_padding_mask=ember.tensor(pad)),
        lambda a: tm(a, src_key_padding_mask=torch.tensor(pad)),
        [_r(5, 5, 8)],
    )
    em.zero_grad()  # the copies start without gradients
    tm.zero_grad()
    ee = nn.TransformerEncoder(em, 2, nn.LayerNorm(8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's nested-tensor note
        te = tnn.TransformerEncoder(tm, 2, tnn.LayerNorm(8))
    check_module(ee, te, [_r(5, 5, 8)])
    ee.to(ember.float64)
    te.to(torch.float64)
    check(lambda a: ee(a, me), lambda a: te(a, mt), [_r(5, 5, 8)])


@pytest.mark.parametrize("kw", [{}, {"norm_first": True, "activation": "gelu"}, {"batch_first": True}])
def test_transformer_decoder_and_transformer(kw: dict) -> None:
    em = nn.TransformerDecoderLayer(8, 2, 16, 0.0, **kw)
    tm = tnn.TransformerDecoderLayer(8, 2, 16, 0.0, **kw)
    tgt, mem = _r(4, 3, 8), _r(6, 3, 8, seed=1)
    if kw.get("batch_first"):
        tgt, mem = _r(3, 4, 8), _r(3, 6, 8, seed=1)
    check_module(em, tm, [tgt, mem])
    me, mt = _causal(4)
    check(
        lambda a, b: em(a, b, tgt_mask=me, tgt_is_causal=True),
        lambda a, b: tm(a, b, tgt_mask=mt, tgt_is_causal=True),
        [tgt, mem],
        params=(em, tm),
    )
    em.zero_grad()
    tm.zero_grad()
    ed, td = nn.TransformerDecoder(em, 2), tnn.TransformerDecoder(tm, 2)
    check_module(ed, td, [tgt, mem])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tt = tnn.Transformer(8, 2, 2, 1, 16, 0.0, **kw)
    et = nn.Transformer(8, 2, 2, 1, 16, 0.0, **kw)
    check_module(et, tt, [mem, tgt])
    et.to(ember.float64)
    tt.to(torch.float64)
    check(lambda a, b: et(a, b, tgt_mask=me), lambda a, b: tt(a, b, tgt_mask=mt), [mem, tgt], params=(et, tt))


def test_transformer_init_mask_and_errors() -> None:
    et, tt = (
        nn.Transformer(16, 4, 1, 1, 32, batch_first=True),
        tnn.Transformer(16, 4, 1, 1, 32, batch_first=True),
    )
    e, t = _np(et.encoder.layers[0].linear1.weight), _np(tt.encoder.layers[0].linear1.weight)
    close(np.abs(e).max(), np.abs(t).max(), "xavier bound", rtol=0.02, kind="init")
    me, mt = _causal(4)
    close(me, mt, "causal mask", atol=0)
    raises_like_torch(
        lambda: et(ember.randn(5, 2, 16), ember.randn(4, 3, 16)),
        lambda: tt(torch.randn(5, 2, 16), torch.randn(4, 3, 16)),
        "Transformer: the batch size of src",
    )
    raises_like_torch(
        lambda: nn.TransformerEncoderLayer(8, 2, activation="swish"),
        lambda: tnn.TransformerEncoderLayer(8, 2, activation="swish"),
        "TransformerEncoderLayer: activation must be 'relu', 'gelu' or a callable",
    )


# -- utilities: vectors of parameters, clipping, activation checkpointing ---------------------------
def test_parameters_vector_round_trip_and_clip_value() -> None:
    em, tm = (
        nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)),
        tnn.Sequential(tnn.Linear(3, 4), tnn.Tanh(), tnn.Linear(4, 2)),
    )
    sync(em, tm)
    ve, vt = nn.utils.parameters_to_vector(em.parameters()), tnn.utils.parameters_to_vector(tm.parameters())
    close(ve, vt, "parameters_to_vector", rtol=1e-6)
    new = _r(vt.numel()).astype(np.float32)
    nn.utils.vector_to_parameters(ember.tensor(new), em.parameters())
    tnn.utils.vector_to_parameters(torch.tensor(new), tm.parameters())
    assert_same_state(em, tm)
    with pytest.raises(
        ValueError, match="vector_to_parameters: vec has shape \\(3,\\), but the parameters hold 26"
    ):
        nn.utils.vector_to_parameters(ember.zeros(3), em.parameters())
    raises_like_torch(
        lambda: nn.utils.vector_to_parameters(new, em.parameters()),
        lambda: tnn.utils.vector_to_parameters(new, tm.parameters()),
        "vector_to_parameters: expected an ember.Tensor, but got ndarray",
    )
    for p_e, p_t in zip(em.parameters(), tm.parameters(), strict=True):
        g = _r(*p_t.shape).astype(np.float32) * 3
        p_e.grad, p_t.grad = ember.tensor(g), torch.tensor(g)
    nn.utils.clip_grad_value_(em.parameters(), 0.7)
    tnn.utils.clip_grad_value_(tm.parameters(), 0.7)
    for p_e, p_t in zip(em.parameters(), tm.parameters(), strict=True):
        close(p_e.grad, p_t.grad, "clipped grad", kind="gradients")


class _Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin1, self.lin2 = nn.Linear(4, 8), nn.Linear(8, 4)
        self.drop = nn.Dropout(0.3)

    def forward(self, x: Any) -> Any:
        return self.lin2(self.drop(F.gelu(self.lin1(x)))) + x


def test_checkpoint_gradients_equal_the_plain_call() -> None:
    from ember.utils.checkpoint import checkpoint, checkpoint_sequential

    ember.manual_seed(0)
    block = _Block().to(ember.float64)
    x = ember.tensor(_r(5, 4), requires_grad=True)

    def run(use_checkpoint: bool) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        block.zero_grad()
        x.grad = None
        ember.manual_seed(7)  # the same dropout masks in both runs
        h = checkpoint(block, x, use_reentrant=False) if use_checkpoint else block(x)
        out = checkpoint(lambda t: block(t).tanh(), h) if use_checkpoint else block(h).tanh()
        (out * ember.tensor(_r(5, 4, seed=9))).sum().backward()
        return _np(out), [_np(p.grad) for p in block.parameters()], _np(x.grad)

    plain, ckpt = run(False), run(True)
    np.testing.assert_allclose(ckpt[0], plain[0], rtol=1e-12)
    for a, b in zip(ckpt[1], plain[1], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(ckpt[2], plain[2], rtol=1e-12)
    # autograd.grad through a checkpoint, a tuple result, a closure over a parameter
    w = ember.tensor(_r(4), requires_grad=True)
    xx = ember.tensor(_r(3, 4), requires_grad=True)
    a, b = checkpoint(lambda t: (t * w, (t * t).sum(1)), xx)
    gx, gw = ember.autograd.grad((a.sum() + b.sum()), [xx, w])
    tx, tw = torch.tensor(_np(xx), requires_grad=True), torch.tensor(_np(w), requires_grad=True)
    ta, tb = torch.utils.checkpoint.checkpoint(lambda t: (t * tw, (t * t).sum(1)), tx, use_reentrant=False)
    rx, rw = torch.autograd.grad(ta.sum() + tb.sum(), [tx, tw])
    close(gx, rx, "checkpoint grad x", kind="gradients")
    close(gw, rw, "checkpoint grad w", kind="gradients")
    # checkpoint_sequential equals the plain Sequential (no dropout here)
    seq = nn.Sequential(*[nn.Linear(4, 4) for _ in range(5)]).to(ember.float64)
    y1 = seq(x)
    y1.sum().backward()
    g1 = [_np(p.grad) for p in seq.parameters()]
    seq.zero_grad()
    y2 = checkpoint_sequential(seq, 2, x, use_reentrant=False)
    y2.sum().backward()
    np.testing.assert_allclose(_np(y2), _np(y1), rtol=1e-12)
    for a_, b_ in zip([_np(p.grad) for p in seq.parameters()], g1, strict=True):
        np.testing.assert_allclose(a_, b_, rtol=1e-12)
    COMPARED["checkpoint"] += 1
    with pytest.raises(TypeError, match="checkpoint: the checkpointed function must return a Tensor"):
        checkpoint(lambda t: 3, x)


# -- last: the count ---------------------------------------------------------------------------------
def test_the_whole_module_compared_with_torch(incomplete_module_run: str | None) -> None:
    """Written last, so that it runs last: a test that compares nothing passes, so the helpers count
    what they compare and a whole run must reach MIN_COMPARISONS."""
    if incomplete_module_run:
        pytest.skip(f"the comparison count is checked on whole runs of this module: {incomplete_module_run}")
    made = sum(COMPARED.values())
    detail = ", ".join(f"{n} {kind}" for kind, n in sorted(COMPARED.items()))
    assert made >= MIN_COMPARISONS, (
        f"{__name__}: a whole run compared Ember with torch {made} times ({detail or 'nothing'}), fewer than "
        f"MIN_COMPARISONS = {MIN_COMPARISONS}; find the test that lost comparisons and restore them, or "
        "lower MIN_COMPARISONS if they were removed on purpose"
    )


@pytest.mark.parametrize("change", ["values", "shape"])
def test_checkpoint_refuses_an_input_changed_in_place_before_backward(change: str) -> None:
    """The recomputation reads the arguments: one changed in place between the call and backward
    is reported naming checkpoint (torch.utils.checkpoint refuses the same: "modified by an
    inplace operation"), not recomputed from its new values (which gave another gradient
    silently)."""
    from ember.utils.checkpoint import checkpoint

    w = ember.ones(3, requires_grad=True)
    x = ember.tensor([1.0, 2.0, 3.0])
    y = checkpoint(lambda t: (t * w).sin(), x)
    if change == "values":
        x.mul_(10)
        match = r"gradient of checkpoint \(shape \(3,\), ember.float32\) has been modified by an in-place"
    else:
        x.unsqueeze_(0)
        match = r"checkpoint \(ember.float32\) had shape \(3,\) when it was saved and has shape \(1, 3\)"
    with pytest.raises(RuntimeError, match=match):
        y.sum().backward()
