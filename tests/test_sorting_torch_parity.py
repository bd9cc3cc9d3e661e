"""Sorting, selection and scans against PyTorch: values, indices (where PyTorch fixes them), dtypes,
NaN ordering, ties, dim/keepdim, errors and gradients; on cpu with the native ``sort`` kernel and
with the composite core runs on a device without it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ember
import numpy as np
import pytest
from ember.ops import sorting
from torch_required import require_torch

torch = require_torch()

NAN = float("nan")


@pytest.fixture(params=["kernel", "composite"])
def path(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run each test with cpu's sort kernel and again with it removed (the composite runs)."""
    kernels = ember.device("cpu").kernels
    if request.param == "kernel":
        yield "kernel"
        return
    k = kernels.pop("sort")
    try:
        yield "composite"
    finally:
        kernels["sort"] = k


def E(a: Any) -> ember.Tensor:
    return ember.tensor(np.asarray(a))


def T(a: Any) -> Any:
    return torch.from_numpy(np.array(a, copy=True))


def same(e: ember.Tensor, t: Any) -> None:
    got, want = e.numpy(), t.detach().numpy()
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, equal_nan=True)


def inputs() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    ties = rng.integers(-3, 3, size=(4, 9))
    with_nan = rng.standard_normal((3, 7))
    with_nan[0, [1, 4]] = NAN
    with_nan[2, :] = NAN
    return [
        rng.standard_normal((5, 6)).astype(np.float32),
        ties.astype(np.float64),
        ties.astype(np.int64),
        ties.astype(np.int32),
        ties.astype(np.uint8),
        (ties > 0),
        with_nan,
        np.array([0.0, -0.0, 1.0, -0.0]).reshape(1, 4),
    ]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("i", range(8))
def test_sort_matches_torch_stable(i: int, descending: bool, path: str) -> None:
    x = inputs()[i]
    for dim in range(-x.ndim, x.ndim):
        got = ember.sort(E(x), dim, descending, stable=True)
        want = torch.sort(T(x), dim=dim, descending=descending, stable=True)
        same(got.values, want.values)
        same(got.indices, want.indices)
        same(
            ember.argsort(E(x), dim, descending),
            torch.argsort(T(x), dim=dim, descending=descending, stable=True),
        )
    same(E(x).msort(), torch.msort(T(x)))


def test_sort_0d_empty_and_long_rows(path: str) -> None:
    same(ember.sort(E(np.float32(3))).indices, torch.sort(T(np.float32(3))).indices)
    e = np.zeros((0, 4), np.float32)
    same(ember.sort(E(e), 0).values, torch.sort(T(e), 0).values)
    # a row longer than one comparison block of the composite
    x = np.random.default_rng(1).integers(0, 50, size=(2, 2500)).astype(np.float32)
    same(ember.sort(E(x)).indices, torch.sort(T(x), stable=True).indices)


def test_sort_errors_name_the_op() -> None:
    with pytest.raises(IndexError, match="sort: dimension 2 out of range"):
        ember.sort(ember.ones(2, 3), 2)
    with pytest.raises(IndexError, match="argsort: dimension"):
        ember.argsort(ember.ones(2, 3), -3)


def test_topk_kthvalue(path: str) -> None:
    x = np.random.default_rng(2).standard_normal((4, 7))
    x[1, 3] = NAN
    for largest in (True, False):
        got = ember.topk(E(x), 3, 1, largest)
        want = torch.topk(T(x), 3, 1, largest)
        same(got.values, want.values)
        same(got.indices, want.indices)
    xs = np.random.default_rng(3).standard_normal((5, 6))  # distinct values: indices are fixed
    for keepdim in (False, True):
        got = ember.kthvalue(E(xs), 2, 0, keepdim)
        want = torch.kthvalue(T(xs), 2, 0, keepdim)
        same(got.values, want.values)
        same(got.indices, want.indices)
    with pytest.raises(IndexError, match="topk: k \\(8\\) is out of range for dimension 1 of size 7"):
        ember.topk(E(x), 8)
    with pytest.raises(IndexError, match="kthvalue: k \\(0\\)"):
        ember.kthvalue(E(x), 0)
    same(ember.topk(E(x), 0).values, torch.topk(T(x), 0).values)


@pytest.mark.parametrize("op", ["median", "nanmedian"])
def test_median(op: str, path: str) -> None:
    x = np.random.default_rng(4).standard_normal((4, 6))
    x[0, [1, 3]] = NAN
    x[3, :] = NAN
    same(getattr(ember, op)(E(x)), getattr(torch, op)(T(x)))
    same(getattr(ember, op)(E(x[1:3])), getattr(torch, op)(T(x[1:3])))
    for dim in (0, 1):
        for keepdim in (False, True):
            got = getattr(ember, op)(E(x), dim, keepdim)
            want = getattr(torch, op)(T(x), dim, keepdim)
            same(got.values, want.values)
            if op == "median" or dim == 0:  # nanmedian of an all-NaN row: PyTorch's index is its own
                same(got.indices, want.indices)
    xi = np.random.default_rng(5).integers(0, 9, size=(3, 8))
    same(ember.median(E(xi), 1).values, torch.median(T(xi), 1).values)
    same(ember.median(E(np.zeros(0, np.float32))), torch.median(T(np.zeros(0, np.float32))))
    with pytest.raises(IndexError, match=f"{op}: cannot reduce over dimension 0 of size 0"):
        getattr(ember, op)(ember.zeros(0, 3), 0)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile(interpolation: str, path: str) -> None:
    x = np.random.default_rng(6).standard_normal((4, 7))
    q = np.array([0.0, 0.1, 0.5, 0.75, 1.0])
    for dim, keepdim in ((None, False), (None, True), (0, False), (1, True), (-1, False)):
        for qq in (0.3, q, np.float64(0.5)):
            got = ember.quantile(
                E(x),
                E(qq) if isinstance(qq, np.ndarray) else float(qq),
                dim,
                keepdim,
                interpolation=interpolation,
            )
            want = torch.quantile(
                T(x),
                T(qq) if isinstance(qq, np.ndarray) else float(qq),
                dim,
                keepdim,
                interpolation=interpolation,
            )
            same(got, want)
    xn = x.copy()
    xn[1, 2] = NAN
    same(ember.quantile(E(xn), E(q), 1), torch.quantile(T(xn), T(q), 1))
    with pytest.raises(ValueError, match="quantile: q must be in \\[0, 1\\], got -0.5"):
        ember.quantile(E(x), -0.5)
    with pytest.raises(TypeError, match="quantile: input must be float32 or float64"):
        ember.quantile(ember.ones(3, dtype=ember.int64), 0.5)


def test_mode(path: str) -> None:
    rng = np.random.default_rng(7)
    for x in (
        rng.integers(-2, 3, size=(5, 9)),
        rng.integers(0, 3, size=(6, 4)).astype(np.float32),
        np.array([[1.0, NAN, NAN, 2.0]]),
    ):
        for dim in (0, -1):
            for keepdim in (False, True):
                got = ember.mode(E(x), dim, keepdim)
                want = torch.mode(T(x), dim, keepdim)
                same(got.values, want.values)
                same(got.indices, want.indices)


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_unique(dim: Any, path: str) -> None:
    x = np.random.default_rng(8).integers(-2, 2, size=(6, 3))
    x[3] = x[1]
    for sorted_ in (True,):
        got = ember.unique(E(x), sorted_, True, True, dim)
        want = torch.unique(T(x), sorted_, True, True, dim)
        for g, w in zip(got, want):
            same(g, w)
        got = ember.unique_consecutive(E(x), True, True, dim)
        want = torch.unique_consecutive(T(x), True, True, dim)
        for g, w in zip(got, want):
            same(g, w)
    f = np.array([NAN, 1.0, NAN, 1.0, 0.5])
    same(ember.unique(E(f)), torch.unique(T(f)))
    same(ember.unique(E(np.array([True, False, True]))), torch.unique(T(np.array([True, False, True]))))


def test_searchsorted_bucketize(path: str) -> None:
    rng = np.random.default_rng(9)
    seq = np.sort(rng.standard_normal(9))
    seq_nan = seq.copy()
    seq_nan[-2:] = NAN
    v = rng.standard_normal((3, 4)) * 2
    v[0, 0] = NAN
    v[1, 1] = seq[3]
    for s in (seq, seq_nan):
        for right in (False, True):
            same(ember.searchsorted(E(s), E(v), right=right), torch.searchsorted(T(s), T(v), right=right))
            same(ember.bucketize(E(v), E(s), right=right), torch.bucketize(T(v), T(s), right=right))
    seq2 = np.sort(rng.standard_normal((3, 5)), -1)
    same(
        ember.searchsorted(E(seq2), E(v), side="right", out_int32=True),
        torch.searchsorted(T(seq2), T(v), side="right", out_int32=True),
    )
    same(ember.searchsorted(E(seq), 0.25), torch.searchsorted(T(seq), 0.25))
    perm = rng.permutation(9)
    sorter = np.argsort(seq[perm])
    same(
        ember.searchsorted(E(seq[perm]), E(v), sorter=E(sorter)),
        torch.searchsorted(T(seq[perm]), T(v), sorter=T(sorter)),
    )
    same(ember.searchsorted(E(seq[:0]), E(v)), torch.searchsorted(T(seq[:0]), T(v)))
    with pytest.raises(ValueError, match="searchsorted: side='left' and right=True contradict"):
        ember.searchsorted(E(seq), E(v), right=True, side="left")
    with pytest.raises(ValueError, match="bucketize: boundaries must be a 1-D tensor"):
        ember.bucketize(E(v), E(seq2))


def scan_inputs() -> list[np.ndarray]:
    rng = np.random.default_rng(10)
    x = rng.standard_normal((3, 9))
    x[1, [2, 5]] = NAN
    ties = rng.integers(-2, 3, size=(4, 7))
    return [x, ties, ties.astype(np.float32), ties > 0, ties.astype(np.uint8)]


@pytest.mark.parametrize("op", ["cummax", "cummin"])
@pytest.mark.parametrize("i", range(5))
def test_cummax_cummin(op: str, i: int) -> None:
    x = scan_inputs()[i]
    for dim in (0, 1, -1):
        got = getattr(ember, op)(E(x), dim)
        want = getattr(torch, op)(T(x), dim)
        same(got.values, want.values)
        same(got.indices, want.indices)


@pytest.mark.parametrize("i", range(5))
def test_cumprod_diff(i: int) -> None:
    x = scan_inputs()[i]
    for dim in (0, 1):
        same(ember.cumprod(E(x), dim), torch.cumprod(T(x), dim))
        for n in (0, 1, 2, 9):
            same(ember.diff(E(x), n, dim), torch.diff(T(x), n, dim))
    if x.dtype.kind == "f":
        same(ember.logcumsumexp(E(x), 1), torch.logcumsumexp(T(x), 1))
    p, a = x[:, :2], x[:, :1]
    same(ember.diff(E(x), 1, -1, E(p), E(a)), torch.diff(T(x), 1, -1, T(p), T(a)))


def test_logcumsumexp_extremes() -> None:
    x = np.array([[-np.inf, -np.inf, 0.0, -1000.0, 1000.0, np.inf]])
    same(ember.logcumsumexp(E(x), 1), torch.logcumsumexp(T(x), 1))


def grads(fe: Any, ft: Any, x: np.ndarray) -> None:
    xe = ember.tensor(x, requires_grad=True)
    xt = T(x).clone().requires_grad_(True)
    ye, yt = fe(xe), ft(xt)
    w = np.random.default_rng(11).standard_normal(yt.shape)
    (ye * E(w)).sum().backward()
    (yt * T(w)).sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-9)


def test_gradients_match_torch(path: str) -> None:
    x = np.random.default_rng(12).standard_normal((4, 6))
    z = x.copy()
    z[0, 2] = 0.0
    z[1, [1, 4]] = 0.0
    grads(lambda t: ember.sort(t, 1, True).values, lambda t: torch.sort(t, 1, True).values, x)
    grads(lambda t: ember.topk(t, 2, 0).values, lambda t: torch.topk(t, 2, 0).values, x)
    grads(lambda t: ember.kthvalue(t, 3, 1).values, lambda t: torch.kthvalue(t, 3, 1).values, x)
    grads(lambda t: ember.median(t, 1).values, lambda t: torch.median(t, 1).values, x)
    grads(ember.median, torch.median, x)
    grads(
        lambda t: ember.quantile(t, E(np.array([0.2, 0.9])), 1),
        lambda t: torch.quantile(t, T(np.array([0.2, 0.9])), 1),
        x,
    )
    grads(lambda t: ember.cumprod(t, 1), lambda t: torch.cumprod(t, 1), z)
    grads(lambda t: ember.cummax(t, 1).values, lambda t: torch.cummax(t, 1).values, x)
    grads(lambda t: ember.logcumsumexp(t, 0), lambda t: torch.logcumsumexp(t, 0), x)
    grads(lambda t: ember.diff(t, 2, 1), lambda t: torch.diff(t, 2, 1), x)
    grads(lambda t: ember.mode(t, 1).values, lambda t: torch.mode(t, 1).values, x)
    grads(ember.msort, torch.msort, x)


@pytest.mark.parametrize("composite", [sorting._sort_composite, sorting._sort_bitonic])
def test_composite_sorts_every_dtype(composite: Any) -> None:
    """Both composites directly (what a device without a sort kernel runs, such as the
    meta example): bool,
    unsigned, ties, NaN rows, rows not a power of two long, along either dim."""
    rng = np.random.default_rng(13)
    extra = [rng.integers(0, 4, size=(3, 37)).astype(np.float32), rng.standard_normal((2, 100))]
    extra[0][1, [2, 9, 30]] = NAN
    for x in inputs() + extra:
        want = torch.sort(T(x), dim=1, stable=True)
        for dim, xx in ((1, x), (0, x.T.copy())):
            v, i = composite(E(xx), dim)
            same(v if dim == 1 else v.t(), want.values)
            same(i if dim == 1 else i.t(), want.indices)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_nanquantile(interpolation: str, path: str) -> None:
    x = np.random.default_rng(14).standard_normal((4, 7))
    x[0, [1, 3, 4]] = NAN
    x[2, :] = NAN
    q = np.array([0.0, 0.2, 0.5, 0.9, 1.0])
    for dim, keepdim in ((None, False), (1, False), (1, True), (0, False)):
        got = ember.nanquantile(E(x), E(q), dim, keepdim, interpolation=interpolation)
        want = torch.nanquantile(T(x), T(q), dim, keepdim, interpolation=interpolation)
        same(got, want)
    grads(
        lambda t: ember.nanquantile(t, 0.3, 1),
        lambda t: torch.nanquantile(t, 0.3, 1),
        np.where(np.isnan(x), 0.0, x),
    )
