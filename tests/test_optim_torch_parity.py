"""Differential tests of the optimizers Adagrad, Adamax, NAdam, RAdam and the schedulers added for
the commonly used surface (issue 13) against PyTorch, step by step: parameters after every
update (float64, rtol 1e-10), optimizer state names, and every group's lr (and momentum or beta1
where a schedule cycles it) after every scheduler step. Without PyTorch the module fails to
collect, unless EMBER_ALLOW_NO_TORCH=1 turns that into a skip."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import ember
import ember.nn as nn
import numpy as np
import pytest
from ember import optim
from ember.optim import lr_scheduler as S
from torch_required import require_torch

torch = require_torch()
TS = torch.optim.lr_scheduler


def _pair(p0: np.ndarray) -> tuple[nn.Parameter, Any]:
    return nn.Parameter(ember.tensor(p0.copy())), torch.tensor(p0.copy(), requires_grad=True)


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        ("Adagrad", {}),
        ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
        ("Adagrad", {"eps": 1e-3, "maximize": True}),
        ("Adamax", {}),
        ("Adamax", {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.1}),
        ("Adamax", {"maximize": True, "eps": 1e-3}),
        ("NAdam", {}),
        ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "momentum_decay": 0.01}),
        ("NAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}),
        ("RAdam", {}),
        ("RAdam", {"lr": 0.05, "weight_decay": 0.1}),
        ("RAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True, "betas": (0.9, 0.9)}),
    ],
)
def test_optimizer_steps_match_torch(name: str, kw: dict) -> None:
    rng = np.random.default_rng(0)
    (a, ta), (b, tb) = _pair(rng.standard_normal((3, 2))), _pair(rng.standard_normal(4))
    eo = getattr(optim, name)([{"params": [a]}, {"params": [b], "lr": 0.02}], **kw)
    to = getattr(torch.optim, name)([{"params": [ta]}, {"params": [tb], "lr": 0.02}], **kw)
    # torch keeps NAdam's step and mu_product as float32 scalars (its momentum schedule is float32
    # arithmetic), Ember as Python floats: the updates agree to float32 precision
    rtol = 1e-7 if name == "NAdam" else 1e-10
    for step in range(12):  # RAdam switches to the rectified step after a few steps
        for e, t in ((a, ta), (b, tb)):
            g = rng.standard_normal(tuple(t.shape))
            e.grad, t.grad = ember.tensor(g), torch.tensor(g)
        eo.step()
        to.step()
        for e, t in ((a, ta), (b, tb)):
            np.testing.assert_allclose(
                e.detach().numpy(), t.detach().numpy(), rtol=rtol, err_msg=f"step {step}"
            )
    es, ts = eo.state_dict(), to.state_dict()
    assert sorted(es["state"][0]) == sorted(ts["state"][0])
    for key, value in ts["state"][0].items():
        # torch's scalar state (step, mu_product) is float32
        tol = 1e-6 if isinstance(value, torch.Tensor) and value.dtype == torch.float32 else rtol
        np.testing.assert_allclose(np.asarray(_num(es["state"][0][key])), np.asarray(_num(value)), rtol=tol)
    assert set(es["param_groups"][0]) == set(ts["param_groups"][0])


def _num(v: Any) -> Any:
    if isinstance(v, ember.Tensor):
        return v.numpy()
    if isinstance(v, torch.Tensor):
        return v.numpy()
    return v


def test_optimizer_argument_errors() -> None:
    p = nn.Parameter(ember.zeros(2))
    for name, kw, match in (
        ("Adagrad", {"lr_decay": -1.0}, "Adagrad: invalid lr_decay value -1.0"),
        ("Adamax", {"betas": (1.0, 0.9)}, "Adamax: invalid betas"),
        ("NAdam", {"momentum_decay": -0.1}, "NAdam: invalid momentum_decay"),
        ("RAdam", {"eps": -1.0}, "RAdam: invalid eps"),
    ):
        with pytest.raises(ValueError):
            getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kw)
        with pytest.raises(ValueError, match=match):
            getattr(optim, name)([p], **kw)


def test_optimizers_train_a_model() -> None:
    ember.manual_seed(0)
    x = ember.randn(64, 3)
    y = x @ ember.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    for name, lr in (("Adagrad", 0.3), ("Adamax", 0.05), ("NAdam", 0.05), ("RAdam", 0.05)):
        model = nn.Linear(3, 1)
        opt = getattr(optim, name)(model.parameters(), lr=lr)
        first = None
        for _ in range(150):
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            first = first if first is not None else loss.item()
        assert loss.item() < 0.05 * first, name


# -- schedulers -------------------------------------------------------------------------------------
def _run(
    make: Callable[[Any], Any], opt_cls: Any, params: list, steps: int, lrs: tuple[float, float], **okw: Any
) -> tuple[list, list]:
    """lr and momentum-or-beta1 of every group at construction and after every step."""
    opt = opt_cls([{"params": [params[0]], "lr": lrs[0]}, {"params": [params[1]], "lr": lrs[1]}], **okw)
    sched = make(opt)
    lr_seq, mom_seq = [], []

    def record() -> None:
        lr_seq.append([g["lr"] for g in opt.param_groups])
        mom_seq.append([g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups])

    record()
    for _ in range(steps):
        opt.step()
        sched.step()
        record()
    assert sched.get_last_lr() == lr_seq[-1]
    return lr_seq, mom_seq


SCHEDULES: list[tuple[str, Callable[[Any], Any], Callable[[Any], Any], int]] = [
    ("LambdaLR", lambda o: S.LambdaLR(o, lambda e: 0.9**e), lambda o: TS.LambdaLR(o, lambda e: 0.9**e), 6),
    (
        "MultiplicativeLR",
        lambda o: S.MultiplicativeLR(o, lambda e: 0.95),
        lambda o: TS.MultiplicativeLR(o, lambda e: 0.95),
        6,
    ),
    (
        "MultiplicativeLR per group",
        lambda o: S.MultiplicativeLR(o, [lambda e: 0.9, lambda e: 1 - 0.01 * e]),
        lambda o: TS.MultiplicativeLR(o, [lambda e: 0.9, lambda e: 1 - 0.01 * e]),
        6,
    ),
    ("ConstantLR", lambda o: S.ConstantLR(o, 0.5, 3), lambda o: TS.ConstantLR(o, 0.5, 3), 6),
    ("LinearLR", lambda o: S.LinearLR(o, 0.2, 0.9, 4), lambda o: TS.LinearLR(o, 0.2, 0.9, 4), 7),
    ("PolynomialLR", lambda o: S.PolynomialLR(o, 4, 2.0), lambda o: TS.PolynomialLR(o, 4, 2.0), 7),
    ("PolynomialLR default", lambda o: S.PolynomialLR(o), lambda o: TS.PolynomialLR(o), 7),
    (
        "CosineAnnealingWarmRestarts",
        lambda o: S.CosineAnnealingWarmRestarts(o, 3, eta_min=0.01),
        lambda o: TS.CosineAnnealingWarmRestarts(o, 3, eta_min=0.01),
        10,
    ),
    (
        "CosineAnnealingWarmRestarts T_mult",
        lambda o: S.CosineAnnealingWarmRestarts(o, 2, T_mult=2),
        lambda o: TS.CosineAnnealingWarmRestarts(o, 2, T_mult=2),
        15,
    ),
    (
        "SequentialLR",
        lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.1, 1.0, 3), S.ExponentialLR(o, 0.9)], [3]),
        lambda o: TS.SequentialLR(o, [TS.LinearLR(o, 0.1, 1.0, 3), TS.ExponentialLR(o, 0.9)], [3]),
        8,
    ),
    (
        "SequentialLR three",
        lambda o: S.SequentialLR(
            o, [S.ConstantLR(o, 0.1, 2), S.StepLR(o, 2, 0.5), S.CosineAnnealingLR(o, 4)], [2, 5]
        ),
        lambda o: TS.SequentialLR(
            o, [TS.ConstantLR(o, 0.1, 2), TS.StepLR(o, 2, 0.5), TS.CosineAnnealingLR(o, 4)], [2, 5]
        ),
        10,
    ),
    (
        "ChainedScheduler",
        lambda o: S.ChainedScheduler([S.ConstantLR(o, 0.5, 3), S.ExponentialLR(o, 0.9)]),
        lambda o: TS.ChainedScheduler([TS.ConstantLR(o, 0.5, 3), TS.ExponentialLR(o, 0.9)]),
        7,
    ),
    (
        "ChainedScheduler warm-up and steps",
        lambda o: S.ChainedScheduler([S.LinearLR(o, 0.25, 1.0, 3), S.StepLR(o, 2, 0.5)]),
        lambda o: TS.ChainedScheduler([TS.LinearLR(o, 0.25, 1.0, 3), TS.StepLR(o, 2, 0.5)]),
        7,
    ),
]


@pytest.mark.parametrize(("label", "make_e", "make_t", "steps"), SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_schedulers_step_by_step(label: str, make_e: Callable, make_t: Callable, steps: int) -> None:
    ep = [nn.Parameter(ember.zeros(1)), nn.Parameter(ember.zeros(1))]
    tp = [torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)]
    e_lr, _ = _run(make_e, optim.SGD, ep, steps, (0.5, 0.1))
    t_lr, _ = _run(make_t, torch.optim.SGD, tp, steps, (0.5, 0.1))
    np.testing.assert_allclose(e_lr, t_lr, rtol=1e-10, err_msg=label)


@pytest.mark.parametrize(
    ("kw", "opt"),
    [
        ({"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3}, "SGD"),
        (
            {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 2, "step_size_down": 4, "mode": "triangular2"},
            "SGD",
        ),
        (
            {"base_lr": [0.01, 0.02], "max_lr": 0.1, "step_size_up": 3, "mode": "exp_range", "gamma": 0.9},
            "SGD",
        ),
        ({"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 2, "scale_fn": lambda x: 0.5**x}, "SGD"),
        ({"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 3, "base_momentum": 0.7}, "Adam"),
        ({"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "cycle_momentum": False}, "SGD"),
    ],
)
def test_cyclic_lr(kw: dict, opt: str) -> None:
    okw = {"momentum": 0.9} if opt == "SGD" else {}
    ep = [nn.Parameter(ember.zeros(1)), nn.Parameter(ember.zeros(1))]
    tp = [torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)]
    e = _run(lambda o: S.CyclicLR(o, **kw), getattr(optim, opt), ep, 14, (0.5, 0.1), **okw)
    t = _run(lambda o: TS.CyclicLR(o, **kw), getattr(torch.optim, opt), tp, 14, (0.5, 0.1), **okw)
    np.testing.assert_allclose(e[0], t[0], rtol=1e-10)
    np.testing.assert_allclose(np.asarray(e[1], dtype=float), np.asarray(t[1], dtype=float), rtol=1e-10)


@pytest.mark.parametrize(
    ("kw", "opt"),
    [
        ({"max_lr": 0.1, "total_steps": 12}, "SGD"),
        ({"max_lr": [0.1, 0.05], "epochs": 3, "steps_per_epoch": 4, "anneal_strategy": "linear"}, "SGD"),
        ({"max_lr": 0.1, "total_steps": 15, "three_phase": True, "pct_start": 0.25}, "SGD"),
        ({"max_lr": 0.01, "total_steps": 12, "div_factor": 10.0, "final_div_factor": 100.0}, "AdamW"),
        ({"max_lr": 0.1, "total_steps": 12, "cycle_momentum": False}, "SGD"),
    ],
)
def test_one_cycle_lr(kw: dict, opt: str) -> None:
    okw = {"momentum": 0.9} if opt == "SGD" else {}
    ep = [nn.Parameter(ember.zeros(1)), nn.Parameter(ember.zeros(1))]
    tp = [torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)]
    steps = kw.get("total_steps") or kw["epochs"] * kw["steps_per_epoch"]
    e = _run(lambda o: S.OneCycleLR(o, **kw), getattr(optim, opt), ep, steps - 1, (0.5, 0.1), **okw)
    t = _run(lambda o: TS.OneCycleLR(o, **kw), getattr(torch.optim, opt), tp, steps - 1, (0.5, 0.1), **okw)
    np.testing.assert_allclose(e[0], t[0], rtol=1e-10)
    np.testing.assert_allclose(np.asarray(e[1], dtype=float), np.asarray(t[1], dtype=float), rtol=1e-10)


def test_scheduler_errors_and_state() -> None:
    opt = optim.SGD([nn.Parameter(ember.zeros(1))], lr=0.1, momentum=0.9)
    sched = S.OneCycleLR(opt, 0.1, total_steps=2)
    sched.step()
    sched.step()
    with pytest.raises(
        ValueError, match="OneCycleLR: tried to step 3 times; the specified number of total steps is 2"
    ):
        sched.step()
    with pytest.raises(ValueError, match="you must define either total_steps OR"):
        S.OneCycleLR(opt, 0.1)
    plain = optim.Adagrad([nn.Parameter(ember.zeros(1))])
    with pytest.raises(ValueError, match="CyclicLR: optimizer must support momentum or beta1"):
        S.CyclicLR(plain, 0.01, 0.1)
    with pytest.raises(ValueError, match="SequentialLR: expects 1 milestones"):
        S.SequentialLR(opt, [S.ConstantLR(opt), S.ConstantLR(opt)], [1, 2])
    with pytest.raises(ValueError, match="CosineAnnealingWarmRestarts: T_0 must be a positive int"):
        S.CosineAnnealingWarmRestarts(opt, 0)
    # state dicts carry the position; a restored scheduler continues the same sequence
    o1 = optim.SGD([nn.Parameter(ember.zeros(1))], lr=1.0)
    s1 = S.CosineAnnealingWarmRestarts(o1, 3, 2)
    for _ in range(4):
        s1.step()
    o2 = optim.SGD([nn.Parameter(ember.zeros(1))], lr=1.0)
    s2 = S.CosineAnnealingWarmRestarts(o2, 3, 2)
    s2.load_state_dict(s1.state_dict())
    s1.step()
    s2.step()
    assert math.isclose(s1.get_last_lr()[0], s2.get_last_lr()[0])


# -- LBFGS ------------------------------------------------------------------------------------------
def _lbfgs_run(lib: Any, opt_cls: Any, p: Any, ls: str | None, steps: int = 4) -> tuple[np.ndarray, Any]:
    rng = np.random.default_rng(0)
    x, y = lib.tensor(rng.standard_normal((40, 5))), lib.tensor((rng.random(40) > 0.5).astype(float))
    opt = opt_cls([p], lr=0.8, max_iter=6, history_size=3, line_search_fn=ls)

    def closure() -> Any:
        opt.zero_grad()
        z = x @ p
        loss = (lib.nn.functional.softplus(z) - y * z).mean() + 0.01 * (p * p).sum()
        loss.backward()
        return loss

    out = []
    for _ in range(steps):
        opt.step(closure)
        out.append(p.detach().numpy().copy())
    return np.array(out), opt


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_matches_torch(line_search_fn: str | None) -> None:
    e, eo = _lbfgs_run(ember, optim.LBFGS, nn.Parameter(ember.tensor(np.zeros(5))), line_search_fn)
    t, to = _lbfgs_run(
        torch, torch.optim.LBFGS, torch.zeros(5, dtype=torch.float64, requires_grad=True), line_search_fn
    )
    np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-14)
    es, ts = next(iter(eo.state.values())), next(iter(to.state.values()))
    assert (es["func_evals"], es["n_iter"]) == (ts["func_evals"], ts["n_iter"])


def test_lbfgs_minimises_rosenbrock_and_refuses_groups() -> None:
    p = nn.Parameter(ember.tensor([-1.5, 2.0]))
    opt = optim.LBFGS([p], lr=1, max_iter=100, line_search_fn="strong_wolfe")

    def closure() -> Any:
        opt.zero_grad()
        loss = (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    np.testing.assert_allclose(p.detach().numpy(), [1.0, 1.0], atol=1e-5)
    a, b = nn.Parameter(ember.zeros(1)), nn.Parameter(ember.zeros(1))
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        optim.LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(ValueError, match="LBFGS: line_search_fn must be None or 'strong_wolfe'"):
        optim.LBFGS([a], line_search_fn="armijo")
