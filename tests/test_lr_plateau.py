"""ember.optim.lr_scheduler.ReduceLROnPlateau: lr sequences worked out by hand from PyTorch's rules
(and compared with PyTorch step by step where it is installed), modes, cooldown, min_lr and eps,
Tensor metrics, state dicts and argument errors."""

from __future__ import annotations

import math
import pickle

import ember
import ember.nn as nn
import pytest
from ember.optim import SGD
from ember.optim import lr_scheduler as S
from ember.optim.lr_scheduler import ReduceLROnPlateau


def make_opt(lr: float | list[float] = 1.0) -> SGD:
    """An SGD over a small Linear: one group, or one group per lr (weight, then bias)."""
    lin = nn.Linear(3, 2)
    if not isinstance(lr, list):
        return SGD(lin.parameters(), lr=lr)
    return SGD([{"params": [lin.weight], "lr": lr[0]}, {"params": [lin.bias], "lr": lr[1]}], lr=lr[0])


def run(sched: ReduceLROnPlateau, metrics: list[float]) -> list[list[float]]:
    """Step through ``metrics``; the lrs of every group after each step."""
    out = []
    for m in metrics:
        sched.step(m)
        assert sched.get_last_lr() == [g["lr"] for g in sched.optimizer.param_groups]
        out.append(sched.get_last_lr())
    return out


def first_group(lrs: list[list[float]]) -> list[float]:
    return [x[0] for x in lrs]


def test_construction_leaves_lr_alone():
    opt = make_opt(0.3)
    s = ReduceLROnPlateau(opt)
    assert isinstance(s, S.LRScheduler) and "ReduceLROnPlateau" in S.__all__
    assert opt.param_groups[0]["lr"] == 0.3 and s.get_last_lr() == [0.3]
    assert s.last_epoch == 0 and s.best == math.inf and s.num_bad_epochs == 0 and s.cooldown_counter == 0
    assert ReduceLROnPlateau(make_opt(), mode="max").best == -math.inf
    s.step(1.0)
    assert s.last_epoch == 1 and s.best == 1.0


def test_min_rel_sequence():
    # threshold 0.1 (rel): an improvement must go below 0.9 * best.
    s = ReduceLROnPlateau(make_opt(1.0), factor=0.5, patience=2, threshold=0.1)
    metrics = [10, 9.5, 9.2, 9.1, 8.0, 8.0, 8.0, 8.0, 7.0, 7.0, 7.0, 7.0]
    #          best bad1 bad2 cut  best bad1 bad2 cut  best bad1 bad2 cut
    lrs = first_group(run(s, metrics))
    assert lrs == [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.125]
    assert s.best == 7.0 and s.num_bad_epochs == 0 and s.last_epoch == 12


def test_patience_zero_and_equal_values_are_bad():
    s = ReduceLROnPlateau(make_opt(1.0), factor=0.5, patience=0)
    # a repeated value is not an improvement (it must beat best * (1 - 1e-4))
    assert first_group(run(s, [3.0, 3.0, 2.0, 2.0, 2.0])) == [1, 0.5, 0.5, 0.25, 0.125]


def test_max_abs_sequence():
    # mode max, threshold 0.05 (abs): an improvement must exceed best + 0.05.
    s = ReduceLROnPlateau(make_opt(0.1), mode="max", patience=1, threshold=0.05, threshold_mode="abs")
    metrics = [0.5, 0.6, 0.62, 0.64, 0.70, 0.70, 0.74, 0.76]
    #          best best bad1  cut   best  bad1  cut   best
    lrs = first_group(run(s, metrics))
    assert lrs == pytest.approx([0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001], rel=1e-12)
    assert s.best == 0.76 and s.num_bad_epochs == 0


def test_threshold_rules_per_mode():
    s = ReduceLROnPlateau(make_opt(), mode="max", threshold=0.1)  # rel: must exceed 1.1 * best
    run(s, [0.5, 0.54])
    assert s.best == 0.5 and s.num_bad_epochs == 1
    run(s, [0.56])
    assert s.best == 0.56 and s.num_bad_epochs == 0
    s = ReduceLROnPlateau(make_opt(), mode="min", threshold=0.5, threshold_mode="abs")  # below best - 0.5
    run(s, [2.0, 1.6])
    assert s.best == 2.0 and s.num_bad_epochs == 1
    run(s, [1.4])
    assert s.best == 1.4 and s.num_bad_epochs == 0
    run(s, [math.nan])  # NaN never improves
    assert s.best == 1.4 and s.num_bad_epochs == 1


def test_cooldown():
    s = ReduceLROnPlateau(make_opt(1.0), factor=0.5, patience=1, cooldown=2)
    lrs = first_group(run(s, [5.0] * 3))
    assert lrs == [1, 1, 0.5] and s.in_cooldown and s.cooldown_counter == 2
    # two cooldown steps (bad epochs ignored), then two bad epochs before the next cut
    lrs += first_group(run(s, [5.0]))
    assert s.cooldown_counter == 1 and s.num_bad_epochs == 0
    lrs += first_group(run(s, [5.0] * 7))
    assert lrs == [1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.125]
    # without cooldown the cuts come every second step
    s = ReduceLROnPlateau(make_opt(1.0), factor=0.5, patience=1)
    assert first_group(run(s, [5.0] * 7)) == [1, 1, 0.5, 0.5, 0.25, 0.25, 0.125]


def test_cooldown_still_tracks_best():
    s = ReduceLROnPlateau(make_opt(1.0), factor=0.5, patience=0, cooldown=1)
    run(s, [1.0, 1.0])  # cut, cooldown 1
    assert s.get_last_lr() == [0.5] and s.cooldown_counter == 1
    run(s, [0.5])  # improvement during cooldown is recorded
    assert s.best == 0.5 and s.cooldown_counter == 0 and s.get_last_lr() == [0.5]


def test_min_lr_per_group_and_eps():
    opt = make_opt([1.0, 0.1])
    s = ReduceLROnPlateau(opt, factor=0.1, patience=0, min_lr=[0.05, 0.0], eps=1e-3)
    lrs = run(s, [1.0] * 5)
    # group 0 stops at its floor 0.05; group 1's cut 0.001 -> 0.0001 (0.0009 <= eps) is skipped
    expected = [[1.0, 0.1], [0.1, 0.01], [0.05, 0.001], [0.05, 0.001], [0.05, 0.001]]
    for got, want in zip(lrs, expected):
        assert got == pytest.approx(want, rel=1e-12)


def test_min_lr_scalar_and_default_eps():
    s = ReduceLROnPlateau(make_opt([1.0, 0.5]), factor=0.1, patience=0, min_lr=0.02)
    lrs = run(s, [1.0] * 4)
    assert lrs[1:] == [pytest.approx([0.1, 0.05]), [0.02, 0.02], [0.02, 0.02]]
    # a cut of 1e-8 -> 1e-9 changes the lr by 9e-9 <= eps = 1e-8: skipped
    s = ReduceLROnPlateau(make_opt(1e-8), patience=0)
    assert first_group(run(s, [1.0, 1.0, 1.0])) == [1e-8] * 3


def test_added_param_group():
    opt = make_opt(1.0)
    s = ReduceLROnPlateau(opt, factor=0.5, patience=0, min_lr=0.1)
    opt.add_param_group({"params": [nn.Parameter(ember.zeros(2))], "lr": 0.15})
    run(s, [1.0, 1.0])
    assert s.get_last_lr() == [0.5, 0.1] and s.min_lrs == [0.1, 0.1]
    opt = make_opt(1.0)
    s = ReduceLROnPlateau(opt, patience=0, min_lr=[0.0])
    opt.add_param_group({"params": [nn.Parameter(ember.zeros(2))]})
    s.step(1.0)
    with pytest.raises(RuntimeError, match=r"ReduceLROnPlateau: the optimizer now has 2 param group\(s\)"):
        s.step(1.0)


def test_tensor_metrics():
    lin = nn.Linear(2, 1)
    opt = SGD(lin.parameters(), lr=1.0)
    s = ReduceLROnPlateau(opt, factor=0.5, patience=0)
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    loss = (lin(x) ** 2).mean()  # 0-d, requires grad
    s.step(loss)
    assert s.best == pytest.approx(float(loss)) and isinstance(s.best, float)
    s.step(ember.tensor([float(loss) + 1.0]))  # one-element 1-d
    assert s.get_last_lr() == [0.5]
    s.step(ember.tensor([[0.0]], dtype=ember.float64))
    assert s.best == 0.0
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau.step: the metric must be a number or a "):
        s.step(ember.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"ReduceLROnPlateau.step: .* got str"):
        s.step("1.0")
    with pytest.raises(TypeError, match=r"ReduceLROnPlateau.step: .* got NoneType"):
        s.step(None)
    assert s.last_epoch == 3  # failed steps change nothing


def test_state_dict_round_trip():
    metrics = [4.0, 3.0, 3.0, 3.0, 2.9, 2.9, 2.9, 1.0, 1.0, 1.0, 1.0, 1.0]
    opt = make_opt([1.0, 0.2])
    s = ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=[0.1, 0.05])
    run(s, metrics[:6])
    sd = s.state_dict()
    assert "optimizer" not in sd and not any(isinstance(v, ember.optim.Optimizer) for v in sd.values())
    assert sd["best"] == 2.9 and sd["mode"] == "min" and sd["last_epoch"] == 6
    sd = pickle.loads(pickle.dumps(sd))

    opt2 = make_opt([1.0, 0.2])
    opt2.load_state_dict(opt.state_dict())
    s2 = ReduceLROnPlateau(opt2, mode="max", factor=0.9, patience=7)  # settings come from the state
    s2.load_state_dict(sd)
    assert s2.optimizer is opt2 and s2.get_last_lr() == s.get_last_lr()
    for m in metrics[6:]:
        s.step(m)
        s2.step(m)
        assert s2.get_last_lr() == s.get_last_lr()
        assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]
        assert (s2.best, s2.num_bad_epochs, s2.cooldown_counter, s2.last_epoch) == (
            s.best,
            s.num_bad_epochs,
            s.cooldown_counter,
            s.last_epoch,
        )
    assert s.get_last_lr() == [0.125, 0.05]

    # the state is a copy: mutating it (or the scheduler) does not leak across
    sd = s.state_dict()
    sd["min_lrs"].append(1.0)
    assert s.min_lrs == [0.1, 0.05]
    with pytest.raises(ValueError, match="ReduceLROnPlateau: mode must be 'min' or 'max', got 'up'"):
        s2.load_state_dict(dict(sd, mode="up"))


def test_argument_errors():
    opt = make_opt()
    cases = [
        ({"mode": "mid"}, r"ReduceLROnPlateau: mode must be 'min' or 'max', got 'mid'"),
        ({"threshold_mode": "relative"}, r"threshold_mode must be 'rel' or 'abs', got 'relative'"),
        ({"factor": 1.0}, r"ReduceLROnPlateau: factor must be a number in \[0, 1\), got 1.0"),
        ({"factor": 2}, r"factor must be a number in \[0, 1\), got 2"),
        ({"factor": -0.5}, r"factor must be a number in \[0, 1\), got -0.5"),
        ({"patience": -1}, r"ReduceLROnPlateau: patience must be a non-negative int, got -1"),
        ({"patience": 1.5}, r"patience must be a non-negative int, got 1.5"),
        ({"cooldown": -2}, r"ReduceLROnPlateau: cooldown must be a non-negative int, got -2"),
        ({"threshold": -1e-4}, r"ReduceLROnPlateau: threshold must be a non-negative number, got -0.0001"),
        ({"eps": -1.0}, r"ReduceLROnPlateau: eps must be a non-negative number, got -1.0"),
        ({"min_lr": -0.1}, r"ReduceLROnPlateau: min_lr must be a non-negative number .* got -0.1"),
        ({"min_lr": [0.0, 0.1]}, r"ReduceLROnPlateau: min_lr has 2 value\(s\) but the optimizer has 1"),
        ({"min_lr": [-1.0]}, r"ReduceLROnPlateau: min_lr values must be non-negative numbers, got -1.0"),
    ]
    for kwargs, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            ReduceLROnPlateau(opt, **kwargs)
    with pytest.raises(TypeError, match="ReduceLROnPlateau: list is not an Optimizer"):
        ReduceLROnPlateau([], patience=1)
    with pytest.raises(TypeError, match="ReduceLROnPlateau has no closed form"):
        ReduceLROnPlateau(opt).lr_at(1.0, 3)
    # a factor of 0 is allowed (as in PyTorch): it drops the lr straight to min_lr
    s = ReduceLROnPlateau(make_opt(1.0), factor=0, patience=0, min_lr=0.01)
    assert first_group(run(s, [1.0, 1.0])) == [1.0, 0.01]


CONFIGS = [
    {},
    {"mode": "max", "factor": 0.5, "patience": 2, "threshold": 0.01},
    {"factor": 0.3, "patience": 1, "threshold": 0.05, "threshold_mode": "abs", "cooldown": 2},
    {"mode": "max", "factor": 0.2, "patience": 0, "threshold_mode": "abs", "cooldown": 1, "min_lr": 0.003},
    {"factor": 0.5, "patience": 1, "min_lr": [0.02, 0.001], "eps": 1e-3},
]


@pytest.mark.parametrize("kw", CONFIGS)
def test_matches_torch(kw):
    torch = pytest.importorskip("torch")
    # plateaus, small wiggles, improvements, repeated values and negatives
    metrics = [1.0, 0.9, 0.95, 0.9, 0.9, 0.89, 0.8, 0.8, 0.81, 0.7, 0.7, 0.7, 0.7, 0.69]
    metrics += [0.72, 0.5, 0.5, 0.49, 0.5, 0.1, -0.2, -0.2, -0.19, -0.21, -0.3, -0.3, -0.3, -0.3]
    metrics += [m + 0.01 * (i % 3) for i, m in enumerate(metrics)]
    tp = [torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)]
    topt = torch.optim.SGD([{"params": [tp[0]], "lr": 0.5}, {"params": [tp[1]], "lr": 0.05}], lr=0.5)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw)
    s = ReduceLROnPlateau(make_opt([0.5, 0.05]), **kw)
    for m in metrics:
        ts.step(m)
        s.step(m)
        assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
        assert (s.best, s.num_bad_epochs, s.cooldown_counter, s.last_epoch) == (
            ts.best,
            ts.num_bad_epochs,
            ts.cooldown_counter,
            ts.last_epoch,
        )
