"""ember.optim: optimizer updates against hand-computed values (and PyTorch where installed),
parameter groups, state dicts and learning-rate schedules."""

from __future__ import annotations

import math

import ember
import ember.nn as nn
import numpy as np
import pytest
from ember.optim import SGD, Adam, AdamW, RMSprop
from ember.optim import lr_scheduler as S


def param(values, grad=None) -> nn.Parameter:
    p = nn.Parameter(ember.tensor(values, dtype=ember.float64))
    if grad is not None:
        p.grad = ember.tensor(grad, dtype=ember.float64)
    return p


def test_sgd_plain_and_weight_decay():
    p = param([1.0, -2.0], [0.5, 1.0])
    SGD([p], lr=0.1, weight_decay=0.1).step()
    # g = grad + wd * p = [0.6, 0.8]
    np.testing.assert_allclose(p.detach().numpy(), [1 - 0.06, -2 - 0.08])
    assert p.grad_fn is None and p.requires_grad


def test_sgd_momentum_dampening_nesterov():
    g = np.array([1.0, -1.0])
    p = param([0.0, 0.0], g)
    opt = SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    opt.step()  # buf = g
    opt.step()  # buf = 0.9 g + 0.5 g = 1.4 g
    np.testing.assert_allclose(p.detach().numpy(), -0.1 * g - 0.1 * 1.4 * g)
    p = param([0.0, 0.0], g)
    opt = SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    opt.step()  # buf = g, update g + 0.9 buf = 1.9 g
    opt.step()  # buf = 1.9 g, update g + 0.9 * 1.9 g = 2.71 g
    np.testing.assert_allclose(p.detach().numpy(), -0.1 * (1.9 + 2.71) * g)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum > 0 and zero dampening"):
        SGD([p], lr=0.1, nesterov=True)
    p = param([1.0], [1.0])
    SGD([p], lr=0.5, maximize=True).step()
    np.testing.assert_allclose(p.detach().numpy(), [1.5])


def _adam_ref(p, g, steps, lr, b1, b2, eps, wd=0.0, decoupled=False, amsgrad=False):
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    vmax = np.zeros_like(p)
    for t in range(1, steps + 1):
        gg = g.copy()
        if wd and decoupled:
            p = p * (1 - lr * wd)
        elif wd:
            gg = gg + wd * p
        m = b1 * m + (1 - b1) * gg
        v = b2 * v + (1 - b2) * gg * gg
        vhat = v
        if amsgrad:
            vmax = np.maximum(vmax, v)
            vhat = vmax
        denom = np.sqrt(vhat) / math.sqrt(1 - b2**t) + eps
        p = p - lr / (1 - b1**t) * m / denom
    return p


@pytest.mark.parametrize(
    "cls,kw,decoupled",
    [
        (Adam, {}, False),
        (Adam, {"weight_decay": 0.1}, False),
        (AdamW, {}, True),
        (AdamW, {"weight_decay": 0.5, "amsgrad": True}, True),
        (Adam, {"amsgrad": True}, False),
    ],
)
def test_adam_family_matches_reference(cls, kw, decoupled):
    p0, g = np.array([1.0, -0.5, 2.0]), np.array([0.3, -0.2, 0.1])
    p = param(p0, g)
    opt = cls([p], lr=0.01, betas=(0.8, 0.9), eps=1e-6, **kw)
    for _ in range(3):
        opt.step()
    wd = kw.get("weight_decay", 0.01 if cls is AdamW else 0.0)
    ref = _adam_ref(p0, g, 3, 0.01, 0.8, 0.9, 1e-6, wd, decoupled, kw.get("amsgrad", False))
    np.testing.assert_allclose(p.detach().numpy(), ref, rtol=1e-12)
    assert opt.state[p]["step"] == 3


def test_rmsprop_matches_reference():
    p0, g = np.array([1.0, -1.0]), np.array([0.5, 0.25])
    for kw in ({}, {"momentum": 0.9}, {"centered": True, "weight_decay": 0.1}):
        p = param(p0, g)
        opt = RMSprop([p], lr=0.01, alpha=0.9, eps=1e-8, **kw)
        pr, sq, ga, buf = p0.copy(), np.zeros(2), np.zeros(2), np.zeros(2)
        for _ in range(3):
            opt.step()
            gg = g + kw.get("weight_decay", 0) * pr
            sq = 0.9 * sq + 0.1 * gg * gg
            if kw.get("centered"):
                ga = 0.9 * ga + 0.1 * gg
                avg = np.sqrt(sq - ga * ga) + 1e-8
            else:
                avg = np.sqrt(sq) + 1e-8
            if kw.get("momentum"):
                buf = 0.9 * buf + gg / avg
                pr = pr - 0.01 * buf
            else:
                pr = pr - 0.01 * gg / avg
        np.testing.assert_allclose(p.detach().numpy(), pr, rtol=1e-12, err_msg=str(kw))


def test_optimizers_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(4)]
    cases = [
        (SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
        (Adam, torch.optim.Adam, dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
        (AdamW, torch.optim.AdamW, dict(lr=0.01)),
        (RMSprop, torch.optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
    ]
    for ecls, tcls, kw in cases:
        p = param(p0)
        tp = torch.tensor(p0, requires_grad=True)
        eo, to = ecls([p], **kw), tcls([tp], **kw)
        for g in grads:
            p.grad = ember.tensor(g)
            tp.grad = torch.tensor(g)
            eo.step()
            to.step()
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-10, err_msg=ecls.__name__)


def test_param_groups_zero_grad_and_none_grads():
    a, b, c = param([1.0], [1.0]), param([1.0], [1.0]), param([1.0])
    opt = SGD([{"params": [a]}, {"params": [b, c], "lr": 0.5}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    opt.step()  # c has no grad: skipped
    np.testing.assert_allclose([a.item(), b.item(), c.item()], [0.9, 0.5, 1.0])
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and a.grad.item() == 0
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    with pytest.raises(ValueError, match="appear in more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        SGD([a * 2], lr=0.1)
    with pytest.raises(ValueError, match="invalid lr value -1"):
        Adam([a], lr=-1)


def test_closure():
    p = param([3.0])
    opt = SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == pytest.approx(9.0)
    assert p.item() == pytest.approx(3.0 - 0.6)


def test_optimizer_state_dict_round_trip():
    def run(opt_state=None):
        p = param([1.0, 2.0])
        opt = Adam([p], lr=0.1)
        if opt_state is not None:
            opt.load_state_dict(opt_state)
        return p, opt

    p, opt = run()
    for _ in range(2):
        p.grad = ember.tensor([0.1, -0.2], dtype=ember.float64)
        opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0] and sd["state"][0]["step"] == 2
    q, opt2 = run(sd)
    with ember.no_grad():
        q.copy_(p)
    for o, t in ((opt, p), (opt2, q)):
        t.grad = ember.tensor([0.3, 0.3], dtype=ember.float64)
        o.step()
    np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-14)
    assert opt2.state[q]["exp_avg"] is not opt.state[p]["exp_avg"]
    bad = {"state": {}, "param_groups": [{"params": [0, 1], "lr": 0.1}]}
    with pytest.raises(ValueError, match="parameter group 0 has 2 parameter"):
        opt.load_state_dict(bad)


def test_training_loop_decreases_loss():
    ember.manual_seed(0)
    model = nn.Linear(3, 1)
    x = ember.randn(32, 3)
    y = x @ ember.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(100):
        loss = nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 1e-4


# -- schedulers -------------------------------------------------------------------------------------
def _lrs(sched_factory, n=8, lr=1.0):
    opt = SGD([param([0.0])], lr=lr)
    sched = sched_factory(opt)
    out = [opt.param_groups[0]["lr"]]
    for _ in range(n):
        opt.step()
        sched.step()
        out.append(opt.param_groups[0]["lr"])
    assert sched.get_last_lr() == [out[-1]]
    return out


def test_step_and_multistep():
    np.testing.assert_allclose(
        _lrs(lambda o: S.StepLR(o, 3, 0.5)), [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
    )
    np.testing.assert_allclose(
        _lrs(lambda o: S.MultiStepLR(o, [2, 5], 0.1)), [1, 1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.01]
    )
    np.testing.assert_allclose(_lrs(lambda o: S.ExponentialLR(o, 0.5), 3), [1, 0.5, 0.25, 0.125])


def test_cosine_and_linear_warmup():
    ref = [0.1 + 0.9 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(5)]
    np.testing.assert_allclose(_lrs(lambda o: S.CosineAnnealingLR(o, 4, eta_min=0.1), 4), ref)
    np.testing.assert_allclose(_lrs(lambda o: S.LinearLR(o, 0.25, 1.0, 3), 5), [0.25, 0.5, 0.75, 1, 1, 1])
    np.testing.assert_allclose(
        _lrs(lambda o: S.LambdaLR(o, lambda e: 1 / (e + 1)), 3), [1, 1 / 2, 1 / 3, 1 / 4]
    )
    with pytest.raises(ValueError, match="LinearLR: start_factor must be in"):
        S.LinearLR(SGD([param([0.0])], lr=1.0), start_factor=0)


def test_schedulers_match_torch():
    torch = pytest.importorskip("torch")
    tls = torch.optim.lr_scheduler
    for ef, tf in (
        (lambda o: S.CosineAnnealingLR(o, 5), lambda o: tls.CosineAnnealingLR(o, 5)),
        (lambda o: S.LinearLR(o, 0.1, 1.0, 4), lambda o: tls.LinearLR(o, 0.1, 1.0, 4)),
        (lambda o: S.StepLR(o, 2, 0.3), lambda o: tls.StepLR(o, 2, 0.3)),
    ):
        topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
        ts = tf(topt)
        ref = [topt.param_groups[0]["lr"]]
        for _ in range(5):
            topt.step()
            ts.step()
            ref.append(topt.param_groups[0]["lr"])
        np.testing.assert_allclose(_lrs(ef, 5, lr=0.5), ref, rtol=1e-10)


def test_scheduler_state_dict():
    opt = SGD([param([0.0])], lr=1.0)
    s = S.StepLR(opt, 2)
    s.step()
    s.step()
    sd = s.state_dict()
    opt2 = SGD([param([0.0])], lr=1.0)
    s2 = S.StepLR(opt2, 2)
    s2.load_state_dict(sd)
    s2.step()
    s.step()
    assert s2.get_last_lr() == s.get_last_lr() and s2.last_epoch == 3
