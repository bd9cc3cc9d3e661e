"""ember.linalg's spectral family against torch.linalg: eigh, eigvalsh, svd, svdvals, qr, pinv,
matrix_rank, lstsq (driver 'gelsd'), cond and the 2/-2/'nuc' matrix norms. Values in float64 and
float32 (batched, 1x1, empty batches; eigenvectors and singular vectors compared after fixing each
one's sign), gradients in float64 with torch's autograd on sign-free functions of the outputs
(distinct eigen/singular values), result tuples, and the errors torch raises. Each test runs twice
on cpu: with the backend's LAPACK kernels and with them removed, so core's composites (what every
device without the kernels runs) are compared too. The helpers count what they compare, and the
module's last test checks that a whole run made at least MIN_COMPARISONS."""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import ember
import numpy as np
import pytest
from ember.linalg import spectral
from linalg_parity import E, T, comparer, kernel_or_composite
from torch_required import require_torch

torch = require_torch()
LA = ember.linalg

# counted 1,430 (1,135 values, 258 gradients, 37 errors; the same on every run). Raise it when
# adding comparisons; lower it only when removing some on purpose.
MIN_COMPARISONS = 1_430
COMPARED: Counter[str] = Counter()

SPECTRAL_KERNELS = ("linalg_eigh", "linalg_svd", "linalg_qr")


@pytest.fixture(params=["kernel", "composite"])
def path(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each test with cpu's spectral kernels, and again with them removed (the composites run)."""
    yield from kernel_or_composite(request.param, SPECTRAL_KERNELS, "spectral")


same = comparer(COMPARED, check_dtype=True)


def rand(*shape: int, seed: int = 0, dtype: str = "float64") -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(dtype)


def sym(x: np.ndarray) -> np.ndarray:
    return (x + np.swapaxes(x, -1, -2)) / 2


def signs_fixed(V: np.ndarray, axis: int) -> np.ndarray:
    """V with each vector (along ``axis``: -2 for columns, -1 for rows) multiplied by the sign
    that makes its largest-magnitude entry positive."""
    if V.size == 0:
        return V
    idx = np.argmax(np.abs(V), axis=axis)
    pick = np.take_along_axis(V, np.expand_dims(idx, axis), axis)
    return V * np.where(pick < 0, -1.0, 1.0).astype(V.dtype)


def grads_match(
    fe: Callable[..., Any], ft: Callable[..., Any], *arrays: np.ndarray, tol: float = 1e-8
) -> None:
    """The gradients of ``sum(f(*inputs) * w)`` (fixed random w) agree in every input."""
    es = [E(a, True) for a in arrays]
    ts = [T(a, True) for a in arrays]
    oe, ot = fe(*es), ft(*ts)
    w = rand(*ot.shape, seed=7)
    (oe * E(w)).sum().backward()
    (ot * T(w)).sum().backward()
    for i, (e, t) in enumerate(zip(es, ts)):
        assert e.grad is not None, f"input {i} got no gradient"
        same(e.grad, t.grad, tol, f"gradient of input {i}")
        COMPARED["values"] -= 1
        COMPARED["gradients"] += 1


def both_raise(fe: Callable[[], Any], ft: Callable[[], Any], ember_error: type, match: str) -> str:
    """torch raises, and ember raises ``ember_error`` with a message matching ``match``."""
    with pytest.raises(Exception) as te:  # noqa: B017 - torch's own exception types vary
        ft()
    with pytest.raises(ember_error, match=match):
        fe()
    COMPARED["errors"] += 1
    return str(te.value)


def cat_e(*parts: Any) -> Any:
    return ember.cat([p.reshape(-1) for p in parts])


def cat_t(*parts: Any) -> Any:
    return torch.cat([p.reshape(-1) for p in parts])


SQUARE = [(1, 1), (4, 4), (3, 5, 5), (2, 3, 6, 6), (0, 3, 3), (16, 16)]
RECT = [(5, 3), (3, 5), (2, 4, 6), (3, 6, 4), (1, 1), (0, 4, 2), (20, 12)]


# -- eigh, eigvalsh ---------------------------------------------------------------------------------
@pytest.mark.parametrize("UPLO", ["L", "U"])
@pytest.mark.parametrize("shape", SQUARE)
def test_eigh(shape: tuple[int, ...], UPLO: str, path: str) -> None:
    x = rand(*shape)  # not symmetric: only the UPLO triangle counts
    got, want = LA.eigh(E(x), UPLO=UPLO), torch.linalg.eigh(T(x), UPLO=UPLO)
    assert type(got).__name__ == "EighResult" and got._fields == ("eigenvalues", "eigenvectors")
    same(got.eigenvalues, want.eigenvalues)
    same(signs_fixed(got.eigenvectors.numpy(), -2), signs_fixed(want.eigenvectors.numpy(), -2), 1e-8)
    same(LA.eigvalsh(E(x), UPLO), torch.linalg.eigvalsh(T(x), UPLO))
    x32 = x.astype(np.float32)
    same(LA.eigvalsh(E(x32), UPLO), torch.linalg.eigvalsh(T(x32), UPLO), 1e-4)
    V32 = LA.eigh(E(x32), UPLO).eigenvectors.numpy()
    np.testing.assert_allclose(
        np.swapaxes(V32, -1, -2) @ V32, np.broadcast_to(np.eye(shape[-1]), V32.shape), atol=1e-5
    )
    if 0 not in shape and shape[-1] <= 6:

        def fe(a: Any) -> Any:
            w, V = LA.eigh(a + a.mT, UPLO)
            return cat_e(w, V * V)

        def ft(a: Any) -> Any:
            w, V = torch.linalg.eigh(a + a.mT, UPLO)
            return cat_t(w, V * V)

        grads_match(fe, ft, x)
        grads_match(lambda a: LA.eigvalsh(a, UPLO), lambda a: torch.linalg.eigvalsh(a, UPLO), x)


def test_eigh_degenerate_values_and_value_gradient(path: str) -> None:
    """Repeated eigenvalues: the values are right and eigvalsh's gradient (no division by gaps)
    stays finite and equal to torch's."""
    q = np.linalg.qr(rand(5, 5, seed=3))[0]
    a = (q * np.array([1.0, 1.0, 2.0, 2.0, 2.0])) @ q.T
    same(LA.eigvalsh(E(a)), torch.linalg.eigvalsh(T(a)), 1e-12)
    # the gradient is defined for weights constant on each eigenspace
    c = np.array([0.5, 0.5, 2.0, 2.0, 2.0])
    grads_match(
        lambda x: (LA.eigvalsh(x) * E(c)).sum(),
        lambda x: (torch.linalg.eigvalsh(x) * T(c)).sum(),
        a,
        tol=1e-7,
    )


# -- svd, svdvals -------------------------------------------------------------------------------------
@pytest.mark.parametrize("full_matrices", [False, True])
@pytest.mark.parametrize("shape", RECT + [(4, 4)])
def test_svd(shape: tuple[int, ...], full_matrices: bool, path: str) -> None:
    x = rand(*shape, seed=1)
    got, want = LA.svd(E(x), full_matrices=full_matrices), torch.linalg.svd(T(x), full_matrices=full_matrices)
    assert got._fields == ("U", "S", "Vh")
    same(got.S, want.S)
    k = min(shape[-2:])
    gU, wU = got.U.numpy(), want.U.numpy()
    assert gU.shape == wU.shape and got.Vh.shape == tuple(want.Vh.shape)
    # the singular vectors up to a common sign per pair
    idx = np.argmax(np.abs(wU[..., :, :k]), axis=-2)[..., None, :]
    sg = np.sign(np.take_along_axis(gU[..., :, :k], idx, -2)) * np.sign(
        np.take_along_axis(wU[..., :, :k], idx, -2)
    )
    same(gU[..., :, :k] * sg, wU[..., :, :k], 1e-8)
    same(got.Vh.numpy()[..., :k, :] * np.swapaxes(sg, -1, -2), want.Vh.numpy()[..., :k, :], 1e-8)
    # the completions: orthonormal, and the same projector
    same(np.swapaxes(gU, -1, -2) @ gU, np.swapaxes(wU, -1, -2) @ wU)
    gV, wV = got.Vh.numpy(), want.Vh.numpy()
    same(np.swapaxes(gV, -1, -2) @ gV, np.swapaxes(wV, -1, -2) @ wV)
    same(LA.svdvals(E(x)), torch.linalg.svdvals(T(x)))
    x32 = x.astype(np.float32)
    same(LA.svdvals(E(x32)), torch.linalg.svdvals(T(x32)), 1e-5)
    if 0 not in shape and max(shape[-2:]) <= 6:

        def fe(a: Any) -> Any:
            U, S, Vh = LA.svd(a, full_matrices=full_matrices)
            Uk, Vhk = U[..., :, :k], Vh[..., :k, :]
            w = ember.arange(1, k + 1, dtype=a.dtype) * 0.7
            return cat_e(S, Uk * Uk, Vhk * Vhk, ember.matmul(Uk * w, Vhk))

        def ft(a: Any) -> Any:
            U, S, Vh = torch.linalg.svd(a, full_matrices=full_matrices)
            Uk, Vhk = U[..., :, :k], Vh[..., :k, :]
            w = torch.arange(1, k + 1, dtype=a.dtype) * 0.7
            return cat_t(S, Uk * Uk, Vhk * Vhk, (Uk * w) @ Vhk)

        grads_match(fe, ft, x)
        grads_match(LA.svdvals, torch.linalg.svdvals, x)


def test_svd_rank_deficient(path: str) -> None:
    """Zero singular values: U and Vh still orthonormal, A = U diag(S) Vh, S as torch's."""
    a = rand(6, 2, seed=4) @ rand(2, 5, seed=5)
    U, S, Vh = LA.svd(E(a))
    same(S.numpy()[:2], torch.linalg.svdvals(T(a)).numpy()[:2], 1e-12)
    np.testing.assert_allclose(S.numpy()[2:], 0, atol=1e-12)
    Un, Vn = U.numpy(), Vh.numpy()
    same(Un.T @ Un, np.eye(6), 1e-12)
    same(Vn @ Vn.T, np.eye(5), 1e-12)
    same((Un[:, :5] * S.numpy()) @ Vn, a, 1e-12)


# -- qr --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
@pytest.mark.parametrize("shape", RECT + [(4, 4), (3, 0)])
def test_qr(shape: tuple[int, ...], mode: str, path: str) -> None:
    x = rand(*shape, seed=2)
    got, want = LA.qr(E(x), mode=mode), torch.linalg.qr(T(x), mode=mode)
    assert got._fields == ("Q", "R")
    same(got.Q, want.Q, 1e-10)  # LAPACK's signs, on the composite path too
    same(got.R, want.R, 1e-10)
    x32 = x.astype(np.float32)
    same(LA.qr(E(x32), mode=mode).R, torch.linalg.qr(T(x32), mode=mode).R, 1e-4)
    m, n = shape[-2:]
    if 0 not in shape and max(m, n) <= 6 and mode != "r" and (mode == "reduced" or m <= n):
        grads_match(lambda a: cat_e(*LA.qr(a, mode)), lambda a: cat_t(*torch.linalg.qr(a, mode)), x)
        grads_match(lambda a: LA.qr(a, mode).R, lambda a: torch.linalg.qr(a, mode).R, x)


def test_qr_not_differentiable_where_torch_is_not() -> None:
    x = rand(5, 3, seed=6)
    for mode in ("r", "complete"):
        a, t = E(x, True), T(x, True)
        both_raise(
            lambda a=a, mode=mode: LA.qr(a, mode).R.sum().backward(),
            lambda t=t, mode=mode: torch.linalg.qr(t, mode).R.sum().backward(),
            RuntimeError,
            "mode='r'" if mode == "r" else "mode='complete' and nrows > ncols",
        )


# -- pinv, matrix_rank ---------------------------------------------------------------------------------
def deficient(m: int, n: int, r: int, seed: int = 0) -> np.ndarray:
    return rand(m, r, seed=seed) @ rand(r, n, seed=seed + 1)


TOLERANCES = [{}, {"atol": 0.3}, {"rtol": 0.2}, {"atol": 0.05, "rtol": 0.5}, {"atol": 0.0}]


@pytest.mark.parametrize(
    "kw", TOLERANCES, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "default"
)
@pytest.mark.parametrize("shape", RECT + [(4, 4)])
def test_pinv_and_matrix_rank(shape: tuple[int, ...], kw: dict, path: str) -> None:
    x = rand(*shape, seed=3)
    same(LA.pinv(E(x), **kw), torch.linalg.pinv(T(x), **kw), 1e-8)
    same(LA.matrix_rank(E(x), **kw), torch.linalg.matrix_rank(T(x), **kw))
    s = sym(rand(*shape[:-1], shape[-2], seed=4))
    same(LA.pinv(E(s), hermitian=True, **kw), torch.linalg.pinv(T(s), hermitian=True, **kw), 1e-8)
    same(LA.matrix_rank(E(s), hermitian=True, **kw), torch.linalg.matrix_rank(T(s), hermitian=True, **kw))
    if not kw and 0 not in shape and max(shape[-2:]) <= 6:
        grads_match(LA.pinv, torch.linalg.pinv, x)
        x32 = x.astype(np.float32)
        same(LA.pinv(E(x32)), torch.linalg.pinv(T(x32)), 1e-3)


def test_pinv_rank_deficient_and_tensor_tolerances(path: str) -> None:
    a = np.stack([deficient(5, 4, 2, seed=8), deficient(5, 4, 3, seed=9)])
    same(LA.pinv(E(a)), torch.linalg.pinv(T(a)), 1e-8)
    same(LA.matrix_rank(E(a)), torch.linalg.matrix_rank(T(a)))
    atol = np.array([0.5, 1e-3])
    same(LA.pinv(E(a), atol=E(atol)), torch.linalg.pinv(T(a), atol=T(atol)), 1e-8)
    same(LA.matrix_rank(E(a), atol=E(atol)), torch.linalg.matrix_rank(T(a), atol=T(atol)))


# -- lstsq ------------------------------------------------------------------------------------------------
LSTSQ = [
    ((5, 3), (5, 2)),
    ((3, 3), (3, 1)),
    ((3, 5), (3, 2)),
    ((2, 5, 3), (1, 5, 2)),
    ((4, 2), (4,)),
    ((2, 4, 2), (2, 4)),
    ((1, 1), (1, 3)),
    ((0, 4, 3), (0, 4, 2)),
    ((12, 7), (12, 3)),
]


@pytest.mark.parametrize("shapes", LSTSQ, ids=str)
def test_lstsq(shapes: tuple, path: str) -> None:
    sa, sb = shapes
    a, b = rand(*sa, seed=10), rand(*sb, seed=11)
    for rcond in (None, 0.4):
        got = LA.lstsq(E(a), E(b), rcond, driver="gelsd")
        want = torch.linalg.lstsq(T(a), T(b), rcond, driver="gelsd")
        assert got._fields == ("solution", "residuals", "rank", "singular_values")
        for g, w, name in zip(got, want, got._fields):
            same(g, w, 1e-8, name)
    same(LA.lstsq(E(a), E(b)).solution, torch.linalg.lstsq(T(a), T(b), driver="gelsd").solution, 1e-8)
    m, n = sa[-2:]
    if 0 not in sa:
        grads_match(
            lambda x, y: LA.lstsq(x, y).solution,
            lambda x, y: torch.linalg.lstsq(x, y, driver="gelsd").solution,
            a,
            b,
        )
        if m > n:
            grads_match(
                lambda x, y: LA.lstsq(x, y).residuals,
                lambda x, y: torch.linalg.lstsq(x, y, driver="gelsd").residuals,
                a,
                b,
            )


def test_lstsq_rank_deficient_has_no_residuals(path: str) -> None:
    a, b = deficient(6, 3, 2, seed=12), rand(6, 2, seed=13)
    got, want = LA.lstsq(E(a), E(b), driver="gelsd"), torch.linalg.lstsq(T(a), T(b), driver="gelsd")
    for g, w, name in zip(got, want, got._fields):
        same(g, w, 1e-8, name)


# -- cond and the spectral matrix norms ------------------------------------------------------------------
@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", math.inf, -math.inf, 1, -1])
@pytest.mark.parametrize("shape", [(4, 4), (3, 5, 5), (1, 1)])
def test_cond(shape: tuple[int, ...], p: Any, path: str) -> None:
    x = rand(*shape, seed=14) + 2 * np.eye(shape[-1])
    same(LA.cond(E(x), p), torch.linalg.cond(T(x), p), 1e-8)
    if p in (None, 2, -2):
        grads_match(lambda a: LA.cond(a, p), lambda a: torch.linalg.cond(a, p), x, tol=1e-6)
    else:  # torch's cond has no gradient for these norms (an in-place fill): compare with its formula

        def ft(a: Any) -> Any:
            return torch.linalg.matrix_norm(a, p) * torch.linalg.matrix_norm(torch.linalg.inv(a), p)

        grads_match(lambda a: LA.cond(a, p), ft, x, tol=1e-6)
    if p in (None, 2, -2):
        r = rand(3, 5, seed=15)
        same(LA.cond(E(r), p), torch.linalg.cond(T(r), p), 1e-8)


def test_cond_of_singular_is_inf() -> None:
    z = np.zeros((2, 3, 3))
    z[0] = rand(3, 3, seed=16)
    for p in ("fro", math.inf, 1):
        same(LA.cond(E(z), p), torch.linalg.cond(T(z), p))


@pytest.mark.parametrize("ord", [2, -2, "nuc"])
@pytest.mark.parametrize("dim,keepdim", [((-2, -1), False), ((0, 2), True), ((2, 0), False)])
def test_spectral_matrix_norm(ord: Any, dim: tuple[int, int], keepdim: bool, path: str) -> None:
    x = rand(3, 4, 5, seed=17)
    want = torch.linalg.matrix_norm(T(x), ord, dim, keepdim)
    same(spectral._spectral_matrix_norm(E(x), ord, dim, keepdim), want)
    if hasattr(LA, "matrix_norm"):
        same(LA.matrix_norm(E(x), ord, dim, keepdim), want)
    grads_match(
        lambda a: spectral._spectral_matrix_norm(a, ord, dim, keepdim),
        lambda a: torch.linalg.matrix_norm(a, ord, dim, keepdim),
        x,
    )


# -- errors -------------------------------------------------------------------------------------------------
def test_errors() -> None:
    sq, rect, ints, vec = rand(3, 3), rand(3, 4), np.ones((3, 3), dtype=np.int64), rand(3)
    for name in ("eigh", "eigvalsh"):
        fe, ft = getattr(LA, name), getattr(torch.linalg, name)
        both_raise(
            lambda fe=fe: fe(E(rect)),
            lambda ft=ft: ft(T(rect)),
            ValueError,
            f"linalg.{name}: A must be batches of square",
        )
        both_raise(
            lambda fe=fe: fe(E(vec)),
            lambda ft=ft: ft(T(vec)),
            ValueError,
            f"linalg.{name}: A must have at least 2",
        )
        both_raise(
            lambda fe=fe: fe(E(ints)),
            lambda ft=ft: ft(T(ints)),
            TypeError,
            f"linalg.{name}: expected a float32 or float64",
        )
        both_raise(
            lambda fe=fe: fe(E(sq), "X"),
            lambda ft=ft: ft(T(sq), "X"),
            ValueError,
            "UPLO must be 'L' or 'U', got 'X'",
        )
    for name in ("svd", "svdvals", "pinv", "matrix_rank"):
        fe, ft = getattr(LA, name), getattr(torch.linalg, name)
        both_raise(
            lambda fe=fe: fe(E(vec)),
            lambda ft=ft: ft(T(vec)),
            ValueError,
            f"linalg.{name}: A must have at least 2",
        )
    both_raise(
        lambda: LA.svd(E(ints)),
        lambda: torch.linalg.svd(T(ints)),
        TypeError,
        "linalg.svd: expected a float32",
    )
    both_raise(
        lambda: LA.qr(E(sq), "x"), lambda: torch.linalg.qr(T(sq), "x"), ValueError, "linalg.qr: mode must be"
    )
    both_raise(
        lambda: LA.qr(E(ints)), lambda: torch.linalg.qr(T(ints)), TypeError, "linalg.qr: expected a float32"
    )
    both_raise(
        lambda: LA.pinv(E(rect), hermitian=True),
        lambda: torch.linalg.pinv(T(rect), hermitian=True),
        ValueError,
        "linalg.pinv: A must be batches of square matrices, but they are 3 by 4",
    )
    both_raise(
        lambda: LA.lstsq(E(sq), E(rand(4, 2))),
        lambda: torch.linalg.lstsq(T(sq), T(rand(4, 2))),
        ValueError,
        "linalg.lstsq: A has 3 rows but B has 4",
    )
    both_raise(
        lambda: LA.lstsq(E(sq), E(sq), driver="foo"),
        lambda: torch.linalg.lstsq(T(sq), T(sq), driver="foo"),
        ValueError,
        "linalg.lstsq: driver must be one of",
    )
    both_raise(
        lambda: LA.lstsq(E(sq), E(sq.astype(np.float32))),
        lambda: torch.linalg.lstsq(T(sq), T(sq.astype(np.float32))),
        TypeError,
        "linalg.lstsq: A and B must have the same dtype, got float64 and float32",
    )
    both_raise(
        lambda: LA.cond(E(sq), 3), lambda: torch.linalg.cond(T(sq), 3), ValueError, "invalid norm type 3"
    )
    both_raise(
        lambda: LA.cond(E(rect), "fro"),
        lambda: torch.linalg.cond(T(rect), "fro"),
        ValueError,
        "linalg.cond: A must be batches of square matrices, but they are 3 by 4",
    )
    # torch implements these drivers; Ember says which one it has
    with pytest.raises(ValueError, match="driver 'gelsy' is not implemented; .* use driver=None, 'gelsd'"):
        LA.lstsq(E(sq), E(sq), driver="gelsy")


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_input_raises(bad: float, path: str) -> None:
    """eigh and svd on NaN or inf raise, as in torch (LAPACK does not converge)."""
    a = rand(2, 4, 4, seed=22)
    a[1, 2, 0] = a[1, 0, 2] = bad
    for name, op in (("svd", "svd"), ("svdvals", "svd"), ("eigh", "eigh"), ("eigvalsh", "eigh")):
        if name == "svdvals" and bad == math.inf:
            continue  # torch's svdvals returns NaN there (its svd raises)
        fe, ft = getattr(LA, name), getattr(torch.linalg, name)
        both_raise(
            lambda fe=fe: fe(E(a)),
            lambda ft=ft: ft(T(a)),
            RuntimeError,
            f"linalg.{op}: the algorithm failed to converge because the input matrix contained non-finite",
        )


@pytest.mark.parametrize(
    "dtype,magnitude", [("float32", 1e37), ("float32", 1e-30), ("float64", 1e300), ("float64", 1e-300)]
)
def test_composites_converge_near_overflow_and_underflow(dtype: str, magnitude: float, path: str) -> None:
    """Entries near the dtype's limits (their squares overflow or underflow): eigh's and svd's
    values equal torch's relative to the largest, on both paths (the composites scale each matrix
    by a power of two first, as LAPACK does)."""
    a = rand(2, 5, 4, seed=23, dtype=dtype) * np.asarray(magnitude, dtype=dtype)
    s = sym(a[:, :4, :4])
    tol = 1e-5 if dtype == "float32" else 1e-13
    for got, want in (
        (LA.svdvals(E(a)), torch.linalg.svdvals(T(a).double())),
        (LA.eigvalsh(E(s)), torch.linalg.eigvalsh(T(s).double())),
    ):
        top = float(want.abs().max())
        same(got.numpy().astype(np.float64) / top, want / top, tol, f"{dtype} x {magnitude:g}")


def test_composites_converge_on_wide_ranges_and_dependent_columns(path: str) -> None:
    """float32 matrices mixing 3.4e37 with 1e-20 and with nearly or exactly dependent columns:
    the column cosines of the negligible columns are rounding noise (once stuck at 0.707 and 1.01
    for 40 sweeps), and the Householder step of a near-zero column once divided by an underflowed
    square. Singular values and the reconstruction within 1e-5 of the largest singular value."""
    mats = [
        [[6.5504e4, 3.4e37, 1.0], [0.0, 1e-20, 3.4e37], [1e10, 6.5504e4, 1e-5], [6.5504e4, 0.0, 1.0]],
        [[3.4e37, -3.4e37, 3.4e37, 3e5], [1.5, -1.5, 3e5, 1e10], [2.0, -2.0, 1.0, -7e3],
         [1e-20, -1e-20, -7e3, 1e10]],
        [[1.0, 1.0, 0.0], [0.0, 0.0, 1e-20], [1e10, 1e10, -1.0]],
        [[1.0, 1.0000001, 2.0], [3.0, 3.0000002, -1.0], [0.5, 0.5, 4.0]],
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no inf * 0 inside
        for m in mats:
            a = np.asarray(m, dtype=np.float32)
            U, S, Vh = LA.svd(E(a), full_matrices=False)
            want = torch.linalg.svdvals(T(a).double())
            top = float(want.max())
            same(S.numpy().astype(np.float64) / top, want / top, 1e-5, str(m))
            rebuilt = (U.numpy().astype(np.float64) * S.numpy()) @ Vh.numpy()
            same(rebuilt / top, a.astype(np.float64) / top, 1e-5, str(m))


def test_composites_stay_on_device_and_converge_for_n_64() -> None:
    """The composites at the size the design targets: batched 64 x 64, accurate, on cpu without
    the kernels (the path of every device without them)."""
    a = rand(3, 64, 64, seed=21)
    s = sym(a)
    w, V = spectral._eigh_jacobi(E(s))
    same(w, torch.linalg.eigvalsh(T(s)), 1e-10)
    Vn = V.numpy()
    same((Vn * w.numpy()[:, None, :]) @ np.swapaxes(Vn, -1, -2), s, 1e-10)
    U, S, Vh = spectral._svd_jacobi(E(a), False)
    same(S, torch.linalg.svdvals(T(a)), 1e-10)
    same((U.numpy() * S.numpy()[:, None, :]) @ Vh.numpy(), a, 1e-10)
    Q, R = spectral._qr_householder(E(a), False)
    want = torch.linalg.qr(T(a))
    same(Q, want.Q, 1e-10)
    same(R, want.R, 1e-10)


def test_comparison_count(incomplete_module_run: str | None) -> None:
    """Written last, so that it runs last: a sweep that compares nothing passes, so the helpers
    count what they compare and a whole run must reach MIN_COMPARISONS."""
    if incomplete_module_run:
        pytest.skip(f"the comparison count is checked on whole runs of this module: {incomplete_module_run}")
    made = sum(COMPARED.values())
    detail = ", ".join(f"{n} {kind}" for kind, n in sorted(COMPARED.items()))
    assert made >= MIN_COMPARISONS, (
        f"{__name__}: a whole run compared Ember with torch {made} times ({detail}), fewer than "
        f"MIN_COMPARISONS = {MIN_COMPARISONS}; find the test that compares less, or lower the floor "
        "if comparisons were removed on purpose"
    )
    assert "gradients" in detail and "errors" in detail, detail
