"""Random sampling ops and inference_mode: shapes, dtypes and PyTorch's overloads; distributions
checked with statistical tests at fixed seeds (bounds of about 6 standard errors, chi-square
for category counts), so a run never fails by chance; in-place fills; errors."""

from __future__ import annotations

import math
import threading

import ember
import numpy as np
import pytest


def gen(seed: int = 0) -> ember.Generator:
    return ember.Generator("cpu", seed)


def assert_moments(x: np.ndarray, mean: float, var: float, kurtosis: float = 3.0) -> None:
    """Sample mean and variance within 6 standard errors of the distribution's."""
    n = x.size
    assert abs(x.mean() - mean) < 6 * math.sqrt(var / n), (x.mean(), mean)
    assert abs(x.var() - var) < 6 * math.sqrt((kurtosis - 1) * var * var / n), (x.var(), var)


def chi_square_ok(counts: np.ndarray, probs: np.ndarray) -> None:
    expected = probs * counts.sum()
    keep = expected > 0
    assert not counts[~keep].any(), "a category of weight 0 was drawn"
    stat = float((((counts - expected) ** 2)[keep] / expected[keep]).sum())
    dof = int(keep.sum()) - 1
    assert stat < dof + 6 * math.sqrt(2 * dof) + 10, (stat, dof)


# -- normal --------------------------------------------------------------------------------------------
def test_normal_overloads_shapes_and_dtypes() -> None:
    mean = ember.zeros(3, 4, dtype=ember.float64)
    std = ember.ones(4)
    assert ember.normal(mean, std, generator=gen()).shape == (3, 4)
    assert ember.normal(mean, std, generator=gen()).dtype is ember.float64  # promoted
    assert ember.normal(mean, generator=gen()).shape == (3, 4)
    assert ember.normal(2.0, std, generator=gen()).shape == (4,)
    out = ember.normal(1.0, 2.0, (2, 5), generator=gen(), dtype=ember.float16)
    assert (out.shape, out.dtype) == ((2, 5), ember.float16)
    assert ember.normal(0.0, 1.0, (3,)).dtype is ember.get_default_dtype()
    with pytest.raises(TypeError, match="normal: with a float mean and a float std, pass the size"):
        ember.normal(0.0, 1.0)
    with pytest.raises(ValueError, match="normal: every std must be >= 0, got -1.0"):
        ember.normal(ember.zeros(2), ember.tensor([1.0, -1.0]))
    with pytest.raises(TypeError, match="normal: mean must be a floating tensor"):
        ember.normal(ember.zeros(2, dtype=ember.int64))


def test_normal_moments_per_element() -> None:
    mean = ember.tensor([[-3.0, 0.0, 5.0]], dtype=ember.float64).expand(20000, 3)
    std = ember.tensor([0.5, 1.0, 4.0], dtype=ember.float64)
    x = ember.normal(mean, std, generator=gen(1)).numpy()
    for j, (m, s) in enumerate(((-3.0, 0.5), (0.0, 1.0), (5.0, 4.0))):
        assert_moments(x[:, j], m, s * s)
    assert_moments(ember.normal(1.5, 2.0, (40000,), generator=gen(2), dtype=ember.float64).numpy(), 1.5, 4.0)


def test_same_seed_same_draws_and_manual_seed() -> None:
    a = ember.normal(0.0, 1.0, (100,), generator=gen(5))
    b = ember.normal(0.0, 1.0, (100,), generator=gen(5))
    c = ember.normal(0.0, 1.0, (100,), generator=gen(6))
    assert (a == b).all() and (a != c).any()
    ember.manual_seed(3)
    x = ember.multinomial(ember.ones(10), 5)
    ember.manual_seed(3)
    assert (ember.multinomial(ember.ones(10), 5) == x).all()


# -- bernoulli --------------------------------------------------------------------------------------------
def test_bernoulli() -> None:
    p = ember.tensor([0.0, 0.1, 0.5, 0.9, 1.0], dtype=ember.float64).expand(20000, 5)
    x = ember.bernoulli(p, generator=gen(7))
    assert x.dtype is ember.float64 and x.shape == (20000, 5)
    v = x.numpy()
    assert set(np.unique(v)) <= {0.0, 1.0}
    assert v[:, 0].sum() == 0 and v[:, 4].sum() == 20000
    for j, q in ((1, 0.1), (2, 0.5), (3, 0.9)):
        assert_moments(v[:, j], q, q * (1 - q), kurtosis=1 / (q * (1 - q)) - 3 + 3)
    y = ember.bernoulli(ember.zeros(30000, dtype=ember.float32), 0.3, generator=gen(8)).numpy()
    assert_moments(y, 0.3, 0.21, kurtosis=1 / 0.21)
    assert ember.zeros(3).bernoulli().shape == (3,)
    with pytest.raises(ValueError, match="bernoulli: every probability must be in \\[0, 1\\], got 1.5"):
        ember.bernoulli(ember.tensor([0.5, 1.5]))
    with pytest.raises(TypeError, match="bernoulli: expected a floating tensor"):
        ember.bernoulli(ember.ones(2, dtype=ember.int64))


# -- multinomial ----------------------------------------------------------------------------------------
def test_multinomial_with_replacement_chi_square() -> None:
    w = np.array([0.0, 1.0, 2.0, 3.0, 0.5, 0.0, 4.0])
    draws = ember.multinomial(ember.tensor(w), 30000, True, generator=gen(9))
    assert draws.dtype is ember.int64 and draws.shape == (30000,)
    chi_square_ok(np.bincount(draws.numpy(), minlength=7), w / w.sum())
    rows = ember.tensor(np.stack([w, w[::-1].copy()]))
    d2 = ember.multinomial(rows, 20000, replacement=True, generator=gen(10)).numpy()
    assert d2.shape == (2, 20000)
    chi_square_ok(np.bincount(d2[1], minlength=7), w[::-1] / w.sum())


def test_multinomial_without_replacement() -> None:
    w = np.array([5.0, 1.0, 0.0, 2.0, 2.0])
    d = ember.multinomial(ember.tensor(w).expand(20000, 5), 4, generator=gen(11)).numpy()
    assert all(len(set(r)) == 4 for r in d[:200].tolist())
    assert (d != 2).all()
    # the first draw follows the weights; the second, given the first, the renormalised rest
    chi_square_ok(np.bincount(d[:, 0], minlength=5), w / w.sum())
    first_is_0 = d[:, 0] == 0
    rest = w.copy()
    rest[0] = 0
    chi_square_ok(np.bincount(d[first_is_0, 1], minlength=5), rest / rest.sum())
    full = ember.multinomial(ember.tensor([1.0, 2.0, 3.0]), 3, generator=gen(12)).numpy()
    assert sorted(full.tolist()) == [0, 1, 2]


def test_multinomial_errors() -> None:
    with pytest.raises(ValueError, match="cannot draw 4 samples from 3 categories without replacement"):
        ember.multinomial(ember.ones(3), 4)
    with pytest.raises(ValueError, match="fewer than 2 categories with nonzero weight"):
        ember.multinomial(ember.tensor([1.0, 0.0, 0.0]), 2)
    with pytest.raises(ValueError, match="finite and >= 0"):
        ember.multinomial(ember.tensor([1.0, math.nan]), 1)
    with pytest.raises(ValueError, match="positive sum"):
        ember.multinomial(ember.zeros(2, 3), 1, True)
    with pytest.raises(ValueError, match="num_samples must be a positive int, got 0"):
        ember.multinomial(ember.ones(3), 0)


# -- poisson -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rate", [0.0, 0.3, 3.0, 40.0, 800.0])
def test_poisson_moments(rate: float) -> None:
    x = ember.poisson(ember.full((20000,), rate, dtype=ember.float64), gen(13)).numpy()
    assert (x == np.floor(x)).all() and (x >= 0).all()
    if rate == 0:
        assert (x == 0).all()
    else:
        assert_moments(x, rate, rate, kurtosis=3 + 1 / rate)


def test_poisson_mixed_rates_and_errors() -> None:
    rates = ember.tensor([[0.5, 10.0, 0.0]], dtype=ember.float32).expand(20000, 3)
    x = ember.poisson(rates, gen(14))
    assert x.dtype is ember.float32 and x.shape == (20000, 3)
    v = x.numpy()
    assert_moments(v[:, 0], 0.5, 0.5, kurtosis=5)
    assert_moments(v[:, 1], 10.0, 10.0, kurtosis=3.1)
    assert (v[:, 2] == 0).all()
    with pytest.raises(ValueError, match="poisson: every rate must be >= 0 and not NaN, got -1.0"):
        ember.poisson(ember.tensor([1.0, -1.0]))


# -- in-place fills -------------------------------------------------------------------------------------
def test_inplace_fills_return_self_and_follow_their_distribution() -> None:
    x = ember.empty(40000, dtype=ember.float64)
    assert x.uniform_(-1.0, 3.0, generator=gen(15)) is x
    v = x.numpy()
    assert ((v >= -1) & (v < 3)).all()
    assert_moments(v, 1.0, 16 / 12, kurtosis=1.8)
    assert_moments(x.normal_(2.0, 0.5, generator=gen(16)).numpy(), 2.0, 0.25)
    assert_moments(x.exponential_(4.0, generator=gen(17)).numpy(), 0.25, 1 / 16, kurtosis=9)
    assert_moments(x.bernoulli_(0.2, generator=gen(18)).numpy(), 0.2, 0.16, kurtosis=1 / 0.16)
    r = x.random_(3, 9, generator=gen(19)).numpy()
    assert set(np.unique(r).tolist()) == set(range(3, 9))
    chi_square_ok(np.bincount(r.astype(int), minlength=9), np.array([0, 0, 0] + [1 / 6] * 6))
    assert set(np.unique(x.random_(3, generator=gen(20)).numpy()).tolist()) == {0.0, 1.0, 2.0}


def test_inplace_fills_dtypes_views_and_autograd() -> None:
    i = ember.zeros(5000, dtype=ember.int64).random_(generator=gen(21))
    assert i.dtype is ember.int64 and (i.numpy() >= 0).all()
    b = ember.zeros(5000, dtype=ember.bool).random_(generator=gen(22))
    assert 0 < b.numpy().sum() < 5000
    u = ember.zeros(2000, dtype=ember.uint8).random_(generator=gen(23)).numpy()
    assert u.max() > 200
    assert ember.zeros(100, dtype=ember.int32).bernoulli_(0.5).dtype is ember.int32
    p = ember.tensor([0.0, 1.0])
    assert ember.zeros(2).bernoulli_(p).tolist() == [0.0, 1.0]
    m = ember.zeros(4, 3)
    m[:, 1].uniform_(5.0, 6.0)  # a view: only its column changes
    v = m.numpy()
    assert (v[:, [0, 2]] == 0).all() and ((v[:, 1] >= 5) & (v[:, 1] < 6)).all()
    w = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="uniform_: a leaf tensor that requires grad"):
        w.uniform_()
    with ember.no_grad():
        w.normal_()
    assert w.requires_grad and w.grad_fn is None
    with pytest.raises(ValueError, match="uniform_: expected from <= to, got from=2.0 > to=1.0"):
        ember.zeros(2).uniform_(2.0, 1.0)
    with pytest.raises(ValueError, match="exponential_: lambd must be > 0, got -1.0"):
        ember.zeros(2).exponential_(-1.0)
    with pytest.raises(ValueError, match="random_: the range \\[-1, 3\\) does not fit ember.uint8"):
        ember.zeros(2, dtype=ember.uint8).random_(-1, 3)
    with pytest.raises(TypeError, match="normal_: expected a floating tensor"):
        ember.zeros(2, dtype=ember.int64).normal_()


# -- inference_mode ------------------------------------------------------------------------------------
def test_inference_mode_context_and_decorators() -> None:
    x = ember.ones(2, requires_grad=True)
    with ember.inference_mode():
        assert not ember.is_grad_enabled() and ember.autograd.is_inference_mode_enabled()
        assert not (x * 2).requires_grad
        with ember.enable_grad():
            assert (x * 2).requires_grad
        assert not ember.is_grad_enabled()
    assert ember.is_grad_enabled() and not ember.autograd.is_inference_mode_enabled()
    with ember.inference_mode(False):
        assert (x * 2).requires_grad and not ember.autograd.is_inference_mode_enabled()
    with ember.no_grad(), ember.inference_mode(False):
        assert not ember.is_grad_enabled()  # inference_mode(False) changes nothing

    @ember.inference_mode
    def bare(t: ember.Tensor) -> ember.Tensor:
        return t * 3

    @ember.inference_mode()
    def called(t: ember.Tensor) -> ember.Tensor:
        return t * 3

    assert not bare(x).requires_grad and not called(x).requires_grad
    assert (x * 3).requires_grad
    assert bare.__name__ == "bare"


def test_inference_mode_is_per_thread() -> None:
    seen: dict[str, bool] = {}
    entered, release = threading.Event(), threading.Event()

    def other() -> None:
        entered.wait(5)
        seen["other"] = ember.is_grad_enabled()
        seen["other_inference"] = ember.autograd.is_inference_mode_enabled()
        release.set()

    t = threading.Thread(target=other)
    t.start()
    with ember.inference_mode():
        entered.set()
        release.wait(5)
        seen["main"] = ember.is_grad_enabled()
    t.join(5)
    assert seen == {"other": True, "other_inference": False, "main": False}


def test_samples_from_parameters_that_require_grad_have_zero_gradients() -> None:
    """PyTorch's rule: the sample requires grad, and its gradient to the parameters is zero."""
    mean = ember.zeros(3, requires_grad=True)
    std = ember.ones(3, requires_grad=True)
    p = ember.full((3,), 0.5, requires_grad=True)
    draws = [
        ember.normal(mean, std),
        ember.normal(mean),
        ember.normal(1.0, std),
        ember.bernoulli(p),
        ember.poisson(p),
    ]
    assert all(d.requires_grad for d in draws)
    sum(d.sum() for d in draws).backward()
    for t in (mean, std, p):
        assert t.grad is not None and (t.grad == 0).all()
    with ember.no_grad():
        assert not ember.normal(mean, std).requires_grad
    assert not ember.bernoulli(ember.full((3,), 0.5)).requires_grad


def test_generator_keeps_its_old_module_path() -> None:
    """``Generator`` and the random factories moved to ``ember.ops.random_creation``; the old
    ``ember.ops.creation`` path still resolves them, so a pickle that names it loads."""
    import pickle

    import ember.ops.creation as creation

    assert creation.Generator is ember.Generator and creation.randn is ember.randn
    # protocol 2 names the class with a text GLOBAL opcode, so the module path can be rewritten
    new = pickle.dumps(ember.Generator("cpu", seed=5), protocol=2)
    old = new.replace(b"ember.ops.random_creation\n", b"ember.ops.creation\n")
    assert old != new
    g = pickle.loads(old)
    assert isinstance(g, ember.Generator)
    assert (
        ember.randn(3, generator=g).tolist()
        == ember.randn(3, generator=ember.Generator("cpu", seed=5)).tolist()
    )
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        creation.nope  # noqa: B018
