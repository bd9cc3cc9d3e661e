"""ember.linalg's solvers against torch.linalg: values (float32 and float64, batched, 1x1, empty
batches), gradients in float64 with torch's autograd, result tuples and the errors torch raises
(singular, not positive-definite with the same leading minor, non-square, integer input). Each test
runs twice on cpu: with the backend's LAPACK kernels and with them removed, so core's composites
(what every device without the kernels runs) are compared too. The helpers count what they
compare, and the module's last test checks that a whole run made at least MIN_COMPARISONS."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import ember
import numpy as np
import pytest
from linalg_parity import E, T, comparer, kernel_or_composite
from torch_required import require_torch

torch = require_torch()
LA = ember.linalg

# counted 1,241 (717 values, 487 gradients, 37 errors; the same on every run). Raise it when
# adding comparisons; lower it only when removing some on purpose.
MIN_COMPARISONS = 1_241
COMPARED: Counter[str] = Counter()

SOLVER_KERNELS = ("linalg_cholesky", "linalg_lu_factor", "linalg_solve_triangular")


@pytest.fixture(params=["kernel", "composite"])
def path(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each test with cpu's solver kernels, and again with them removed (the composites run)."""
    yield from kernel_or_composite(request.param, SOLVER_KERNELS, "solver")


same = comparer(COMPARED, check_dtype=False)


def rand(*shape: int, seed: int = 0, dtype: str = "float64") -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(dtype)


def well(*shape: int, seed: int = 0, dtype: str = "float64") -> np.ndarray:
    """Invertible and well conditioned (diagonally dominant)."""
    a = rand(*shape, seed=seed)
    return (a + shape[-1] * np.eye(shape[-1])).astype(dtype)


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
    """torch raises, and ember raises ``ember_error`` with a message matching ``match``; torch's
    message is returned."""
    with pytest.raises(Exception) as te:  # noqa: B017 - torch's own exception types vary
        ft()
    with pytest.raises(ember_error, match=match):
        fe()
    COMPARED["errors"] += 1
    return str(te.value)


def spd_e(x: Any) -> Any:
    return x @ x.mT + x.shape[-1] * ember.eye(x.shape[-1], dtype=x.dtype)


def spd_t(x: Any) -> Any:
    return x @ x.mT + x.shape[-1] * torch.eye(x.shape[-1], dtype=x.dtype)


SQUARE = [(1, 1), (4, 4), (3, 5, 5), (2, 3, 6, 6), (0, 3, 3)]


# -- Cholesky --------------------------------------------------------------------------------------
@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("shape", SQUARE)
def test_cholesky(shape: tuple[int, ...], upper: bool, path: str) -> None:
    x = rand(*shape)
    same(LA.cholesky(spd_e(E(x)), upper=upper), torch.linalg.cholesky(spd_t(T(x)), upper=upper))
    got = LA.cholesky_ex(spd_e(E(x)), upper=upper)
    want = torch.linalg.cholesky_ex(spd_t(T(x)), upper=upper)
    same(got.L, want.L)
    same(got.info, want.info.numpy())
    x32 = x.astype(np.float32)
    same(LA.cholesky(spd_e(E(x32))), torch.linalg.cholesky(spd_t(T(x32))), 1e-4)
    if 0 not in shape:
        grads_match(
            lambda a: LA.cholesky(spd_e(a), upper=upper),
            lambda a: torch.linalg.cholesky(spd_t(a), upper=upper),
            x,
        )


@pytest.mark.parametrize("order", [1, 3, 5])
def test_cholesky_not_positive_definite_names_the_minor(order: int, path: str) -> None:
    a = spd_t(T(rand(2, 3, 5, 5))).numpy()
    a[1, 2, order - 1, order - 1] = -50.0
    got, want = LA.cholesky_ex(E(a)), torch.linalg.cholesky_ex(T(a))
    same(got.info, want.info.numpy())
    msg = both_raise(
        lambda: LA.cholesky(E(a)),
        lambda: torch.linalg.cholesky(T(a)),
        LA.LinAlgError,
        f"linalg.cholesky: the input is not positive-definite \\(the leading minor of order {order} of "
        "batch element \\(1, 2\\)",
    )
    assert f"order {order} " in msg, msg  # torch names the same minor
    with pytest.raises(LA.LinAlgError, match=f"order {order}"):
        LA.cholesky_ex(E(a), check_errors=True)


# -- LU ---------------------------------------------------------------------------------------------
LU_SHAPES = [(1, 1), (4, 4), (3, 5, 5), (3, 6), (6, 3), (2, 3, 4, 7), (2, 7, 4), (0, 3, 3)]


@pytest.mark.parametrize("shape", LU_SHAPES)
def test_lu_factor_and_lu(shape: tuple[int, ...], path: str) -> None:
    x = rand(*shape, seed=3)
    got, want = LA.lu_factor(E(x)), torch.linalg.lu_factor(T(x))
    same(got.LU, want.LU)
    same(got.pivots, want.pivots.numpy().astype(np.int64))
    assert got.pivots.dtype == ember.int64
    ex, tex = LA.lu_factor_ex(E(x)), torch.linalg.lu_factor_ex(T(x))
    same(ex.info, tex.info.numpy())
    P, L, U = LA.lu(E(x))
    tP, tL, tU = torch.linalg.lu(T(x))
    same(P, tP)
    same(L, tL)
    same(U, tU)
    x32 = x.astype(np.float32)
    same(LA.lu_factor(E(x32)).LU, torch.linalg.lu_factor(T(x32)).LU, 1e-4)
    if 0 not in shape:
        grads_match(lambda a: LA.lu_factor(a).LU, lambda a: torch.linalg.lu_factor(a).LU, x)
        grads_match(lambda a: LA.lu(a).L, lambda a: torch.linalg.lu(a).L, x)
        grads_match(lambda a: LA.lu(a).U, lambda a: torch.linalg.lu(a).U, x)


def test_lu_factor_of_a_singular_matrix_reports_the_zero_pivot(path: str) -> None:
    a = np.array([[[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]], [[0.0, 0, 0], [0, 0, 0], [0, 0, 0]]])
    got, want = LA.lu_factor_ex(E(a)), torch.linalg.lu_factor_ex(T(a))
    same(got.LU, want.LU)
    same(got.pivots, want.pivots.numpy().astype(np.int64))
    same(got.info, want.info.numpy())


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
@pytest.mark.parametrize("shapes", [((4, 4), (4, 2)), ((2, 3, 3), (2, 3, 5)), ((2, 1, 3, 3), (4, 3, 3))])
def test_lu_solve(shapes: Any, left: bool, adjoint: bool, path: str) -> None:
    sa, sb = shapes
    a, b = well(*sa, seed=1), rand(*sb, seed=2)
    if not left:
        b = np.swapaxes(b, -1, -2).copy()
    got = LA.lu_solve(*LA.lu_factor(E(a)), E(b), left=left, adjoint=adjoint)
    want = torch.linalg.lu_solve(*torch.linalg.lu_factor(T(a)), T(b), left=left, adjoint=adjoint)
    same(got, want)
    grads_match(
        lambda x, y: LA.lu_solve(*LA.lu_factor(x), y, left=left, adjoint=adjoint),
        lambda x, y: torch.linalg.lu_solve(*torch.linalg.lu_factor(x), y, left=left, adjoint=adjoint),
        a,
        b,
    )


# -- solves -----------------------------------------------------------------------------------------
SOLVE_SHAPES = [
    ((3, 3), (3, 2)),
    ((3, 3), (3,)),  # a vector
    ((2, 4, 4), (2, 4)),  # a batch of vectors
    ((2, 4, 4), (2, 4, 3)),
    ((2, 1, 3, 3), (4, 3, 1)),  # batch dims broadcast
    ((3, 3), (5, 3, 2)),
    ((1, 1), (1, 1)),
    ((0, 3, 3), (0, 3, 2)),
]


@pytest.mark.parametrize("shapes", SOLVE_SHAPES)
def test_solve(shapes: Any, path: str) -> None:
    sa, sb = shapes
    a, b = well(*sa, seed=4), rand(*sb, seed=5)
    same(LA.solve(E(a), E(b)), torch.linalg.solve(T(a), T(b)))
    got, want = LA.solve_ex(E(a), E(b)), torch.linalg.solve_ex(T(a), T(b))
    same(got.result, want.result)
    same(got.info, want.info.numpy())
    same(
        LA.solve(E(a.astype("float32")), E(b.astype("float32"))),
        torch.linalg.solve(T(a).float(), T(b).float()),
        1e-4,
    )
    if not (len(sb) == 1 or sb == sa[:-1]):  # a matrix B: the right-hand form too
        bt = np.swapaxes(b, -1, -2).copy()
        same(LA.solve(E(a), E(bt), left=False), torch.linalg.solve(T(a), T(bt), left=False))
        if 0 not in sa:
            grads_match(
                lambda x, y: LA.solve(x, y, left=False),
                lambda x, y: torch.linalg.solve(x, y, left=False),
                a,
                bt,
            )
    if 0 not in sa:
        grads_match(LA.solve, torch.linalg.solve, a, b)


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unitriangular", [False, True])
@pytest.mark.parametrize("shapes", [((4, 4), (4, 3)), ((2, 1, 5, 5), (3, 5, 5)), ((1, 1), (1, 1))])
def test_solve_triangular(shapes: Any, upper: bool, left: bool, unitriangular: bool, path: str) -> None:
    sa, sb = shapes
    a, b = well(*sa, seed=6), rand(*sb, seed=7)
    if not left:
        b = np.swapaxes(b, -1, -2).copy()
    kw = {"upper": upper, "left": left, "unitriangular": unitriangular}
    same(LA.solve_triangular(E(a), E(b), **kw), torch.linalg.solve_triangular(T(a), T(b), **kw))
    grads_match(
        lambda x, y: LA.solve_triangular(x, y, **kw),
        lambda x, y: torch.linalg.solve_triangular(x, y, **kw),
        a,
        b,
    )


def test_solve_triangular_zero_diagonal_gives_inf_nan_as_torch(path: str) -> None:
    a = np.array([[1.0, 2.0], [0.0, 0.0]])
    b = np.array([[1.0], [1.0]])
    same(LA.solve_triangular(E(a), E(b), upper=True), torch.linalg.solve_triangular(T(a), T(b), upper=True))


@pytest.mark.parametrize("shape", SQUARE)
def test_inv_det_slogdet(shape: tuple[int, ...], path: str) -> None:
    a = well(*shape, seed=8) * np.where(np.arange(shape[-1]) % 2, -1, 1)  # some determinants negative
    same(LA.inv(E(a)), torch.linalg.inv(T(a)))
    got, want = LA.inv_ex(E(a)), torch.linalg.inv_ex(T(a))
    same(got.inverse, want.inverse)
    same(got.info, want.info.numpy())
    same(LA.det(E(a)), torch.linalg.det(T(a)))
    s, ld = LA.slogdet(E(a))
    ts = torch.linalg.slogdet(T(a))
    same(s, ts.sign)
    same(ld, ts.logabsdet)
    same(E(a).det(), T(a).det())
    same(E(a).inverse(), T(a).inverse())
    same(E(a).logdet(), T(a).logdet())
    same(LA.det(E(a.astype("float32"))), torch.linalg.det(T(a).float()), 1e-3)
    if 0 not in shape:
        grads_match(LA.inv, torch.linalg.inv, a)
        grads_match(LA.det, torch.linalg.det, a)
        grads_match(lambda x: LA.slogdet(x).logabsdet, lambda x: torch.linalg.slogdet(x).logabsdet, a)


def test_singular_matrices_raise_like_torch(path: str) -> None:
    a = well(2, 3, 4, 4, seed=9)
    a[1, 2, :, 1] = 0.0  # column 1 zero: U[1, 1] is the first zero pivot
    b = rand(2, 3, 4, 2)
    pattern = "the input is singular \\(pivot 2 of batch element \\(1, 2\\) is zero"
    both_raise(
        lambda: LA.solve(E(a), E(b)),
        lambda: torch.linalg.solve(T(a), T(b)),
        LA.LinAlgError,
        f"linalg.solve: {pattern}",
    )
    both_raise(lambda: LA.inv(E(a)), lambda: torch.linalg.inv(T(a)), LA.LinAlgError, f"linalg.inv: {pattern}")
    both_raise(
        lambda: LA.matrix_power(E(a), -1),
        lambda: torch.linalg.matrix_power(T(a), -1),
        LA.LinAlgError,
        "linalg.matrix_power: the input is singular",
    )
    got, want = LA.solve_ex(E(a), E(b)), torch.linalg.solve_ex(T(a), T(b))
    same(got.info, want.info.numpy())
    got, want = LA.inv_ex(E(a)), torch.linalg.inv_ex(T(a))
    same(got.info, want.info.numpy())
    same(LA.det(E(a)), torch.linalg.det(T(a)))
    s, ld = LA.slogdet(E(a))
    same(s, torch.linalg.slogdet(T(a)).sign)
    same(ld, torch.linalg.slogdet(T(a)).logabsdet)


def test_det_gradient_of_singular_matrices_is_the_cofactor_matrix(path: str) -> None:
    """Where torch's LU-based det gradient gives 0 for an exactly singular matrix (its triangular
    solve skips zero right-hand sides), Ember gives the cofactor matrix, the derivative of the
    polynomial det: checked with finite differences."""
    a = np.array(
        [
            [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]],
            [[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 2.0]],
        ]
    )
    assert ember.autograd.gradcheck(LA.det, [E(a, True)])
    e = E(a, True)
    LA.det(e).sum().backward()
    cof = np.array([[4.0, 4.0, -4.0], [-2.0, -2.0, 2.0], [0.0, 0.0, 0.0]])
    same(e.grad[0], cof, 1e-10, "cofactors of a rank-2 matrix")
    COMPARED["values"] -= 1


def test_argument_errors_like_torch() -> None:
    sq = E(np.ones((2, 3)))
    for name in ("cholesky", "inv", "det", "slogdet"):
        both_raise(
            lambda n=name: getattr(LA, n)(sq),
            lambda n=name: getattr(torch.linalg, n)(T(np.ones((2, 3)))),
            ValueError,
            f"linalg.{name}: A must be a batch of square matrices, got shape \\(2, 3\\)",
        )
        both_raise(
            lambda n=name: getattr(LA, n)(E(np.eye(3, dtype=np.int64))),
            lambda n=name: getattr(torch.linalg, n)(T(np.eye(3, dtype=np.int64))),
            TypeError,
            f"linalg.{name}: A has dtype ember.int64, but linalg supports float32 and float64; cast it first",
        )
    both_raise(
        lambda: LA.solve(E(np.eye(3).reshape(1, 3, 3).repeat(2, 0)), E(np.ones((3, 3, 1)))),
        lambda: torch.linalg.solve(T(np.eye(3).reshape(1, 3, 3).repeat(2, 0)), T(np.ones((3, 3, 1)))),
        ValueError,
        "linalg.solve: the batch dims of A \\(2,\\) and B \\(3,\\) do not broadcast",
    )
    both_raise(
        lambda: LA.solve(E(np.eye(3)), E(np.ones((2, 1)))),
        lambda: torch.linalg.solve(T(np.eye(3)), T(np.ones((2, 1)))),
        ValueError,
        "linalg.solve: A of shape \\(3, 3\\) and B of shape \\(2, 1\\) do not fit",
    )
    both_raise(
        lambda: LA.multi_dot([E(np.ones((2, 3))), E(np.ones((4, 2)))]),
        lambda: torch.linalg.multi_dot([T(np.ones((2, 3))), T(np.ones((4, 2)))]),
        ValueError,
        "linalg.multi_dot: tensors 0 and 1 cannot be multiplied",
    )
    both_raise(
        lambda: LA.vector_norm(E(np.ones(3, dtype=np.int64))),
        lambda: torch.linalg.vector_norm(T(np.ones(3, dtype=np.int64))),
        TypeError,
        "linalg.vector_norm: expected a floating tensor, got ember.int64",
    )
    both_raise(
        lambda: LA.norm(E(np.ones((2, 2, 2))), 1),
        lambda: torch.linalg.norm(T(np.ones((2, 2, 2))), 1),
        ValueError,
        "linalg.norm: with ord=1 and dim=None, A must be 1-D or 2-D",
    )


# -- products and powers ----------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 2, 3, 6, -1, -3])
def test_matrix_power(n: int, path: str) -> None:
    a = well(2, 3, 3, seed=10) / 3
    same(LA.matrix_power(E(a), n), torch.linalg.matrix_power(T(a), n))
    same(E(a).matrix_power(n), T(a).matrix_power(n))
    if n:
        grads_match(lambda x: LA.matrix_power(x, n), lambda x: torch.linalg.matrix_power(x, n), a)


@pytest.mark.parametrize(
    "shapes",
    [
        [(3, 4), (4, 5)],
        [(2, 9), (9, 3), (3, 8), (8, 2)],
        [(6,), (6, 3), (3, 2), (2,)],
        [(6,), (6, 3)],
        [(5, 1), (1, 5), (5, 3), (3, 4), (4,)],
    ],
)
def test_multi_dot(shapes: list[tuple[int, ...]]) -> None:
    ms = [rand(*s, seed=i) for i, s in enumerate(shapes)]
    same(LA.multi_dot([E(m) for m in ms]), torch.linalg.multi_dot([T(m) for m in ms]), 1e-12)
    grads_match(lambda *xs: LA.multi_dot(list(xs)), lambda *xs: torch.linalg.multi_dot(list(xs)), *ms)


# -- norms ------------------------------------------------------------------------------------------
VECTOR_ORDS = [2, 1, 3.5, 0.5, -1, -2.5, math.inf, -math.inf, 0]
VECTOR_DIMS: list[Any] = [None, 0, -1, (0, 2), (2, 1)]


@pytest.mark.parametrize("ord", VECTOR_ORDS)
def test_vector_norm(ord: float) -> None:
    x = rand(2, 3, 4, seed=11)
    for dim in VECTOR_DIMS:
        for keepdim in (False, True):
            got = LA.vector_norm(E(x), ord, dim, keepdim)
            want = torch.linalg.vector_norm(T(x), ord, dim, keepdim)
            same(got, want)
            if ord != 0:
                grads_match(
                    lambda t, d=dim, k=keepdim: LA.vector_norm(t, ord, d, k),
                    lambda t, d=dim, k=keepdim: torch.linalg.vector_norm(t, ord, d, k),
                    x,
                )
    same(LA.vector_norm(E(x.astype("float32")), ord), torch.linalg.vector_norm(T(x).float(), ord), 1e-5)
    same(
        LA.vector_norm(E(x.astype("float32")), ord, dtype=ember.float64),
        torch.linalg.vector_norm(T(x).float(), ord, dtype=torch.float64),
        1e-6,
    )
    both_raise(
        lambda: LA.vector_norm(E(x), ord, dtype=ember.float32),
        lambda: torch.linalg.vector_norm(T(x), ord, dtype=torch.float32),
        TypeError,
        "linalg.vector_norm: dtype=ember.float32 would narrow the input's ember.float64",
    )


@pytest.mark.parametrize("ord", ["fro", 1, -1, math.inf, -math.inf, 2, -2, "nuc"])
def test_matrix_norm(ord: Any) -> None:
    x = rand(2, 3, 4, seed=12)
    for dim in [(-2, -1), (0, 2), (2, 0), (1, 0)]:
        for keepdim in (False, True):
            same(LA.matrix_norm(E(x), ord, dim, keepdim), torch.linalg.matrix_norm(T(x), ord, dim, keepdim))
            grads_match(
                lambda t, d=dim, k=keepdim: LA.matrix_norm(t, ord, d, k),
                lambda t, d=dim, k=keepdim: torch.linalg.matrix_norm(t, ord, d, k),
                x,
            )


@pytest.mark.parametrize(
    "shape,ord,dim",
    [
        ((2, 3, 4), None, None),
        ((5,), None, None),
        ((5,), 1, None),
        ((5,), math.inf, None),
        ((5,), 0, None),
        ((3, 4), None, None),
        ((3, 4), "fro", None),
        ((3, 4), 1, None),
        ((3, 4), -math.inf, None),
        ((2, 3, 4), 3.0, 1),
        ((2, 3, 4), None, (0, 2)),
        ((2, 3, 4), -1, (2, 1)),
        ((2, 3, 4), 2, (1,)),
        ((3, 4), 2, None),
        ((3, 4), "nuc", None),
        ((2, 3, 4), -2, (0, 2)),
    ],
)
def test_norm_dispatch(shape: tuple[int, ...], ord: Any, dim: Any) -> None:
    x = rand(*shape, seed=13)
    for keepdim in (False, True):
        same(LA.norm(E(x), ord, dim, keepdim), torch.linalg.norm(T(x), ord, dim, keepdim))
        if ord != 0:
            grads_match(
                lambda t, k=keepdim: LA.norm(t, ord, dim, k),
                lambda t, k=keepdim: torch.linalg.norm(t, ord, dim, k),
                x,
            )


def test_tensorinv_tensorsolve(path: str) -> None:
    a = well(6, 6, seed=21).reshape(2, 3, 6)
    same(LA.tensorinv(E(a)), torch.linalg.tensorinv(T(a)))
    grads_match(LA.tensorinv, torch.linalg.tensorinv, a)
    a1 = well(4, 4, seed=22).reshape(4, 2, 2)
    same(LA.tensorinv(E(a1), ind=1), torch.linalg.tensorinv(T(a1), ind=1))
    b = rand(2, 3, seed=23)
    same(LA.tensorsolve(E(a), E(b)), torch.linalg.tensorsolve(T(a), T(b)))
    grads_match(LA.tensorsolve, torch.linalg.tensorsolve, a, b)
    a2 = well(6, 6, seed=24).reshape(6, 2, 3)
    same(LA.tensorsolve(E(a2), E(b), dims=(0,)), torch.linalg.tensorsolve(T(a2), T(b), dims=(0,)))
    both_raise(
        lambda: LA.tensorinv(E(np.ones((2, 3, 4))), ind=1),
        lambda: torch.linalg.tensorinv(T(np.ones((2, 3, 4))), ind=1),
        ValueError,
        "linalg.tensorinv: the product of the first 1 dims of shape \\(2, 3, 4\\) \\(2\\) must equal",
    )


def test_cross_vecdot_diagonal_matmul() -> None:
    a, b = rand(4, 3, seed=14), rand(2, 1, 3, seed=15)
    both_raise(
        lambda: LA.cross(E(a), E(b)),
        lambda: torch.linalg.cross(T(a), T(b)),
        ValueError,
        "linalg.cross: input and other must have the same number of dims",
    )
    a = a[None]
    same(LA.cross(E(a), E(b)), torch.linalg.cross(T(a), T(b)))
    grads_match(LA.cross, torch.linalg.cross, a, b)
    c, d = rand(3, 5, seed=16), rand(3, 5, seed=17)
    same(LA.cross(E(c), E(d), dim=0), torch.linalg.cross(T(c), T(d), dim=0))
    same(LA.vecdot(E(c), E(d)), torch.linalg.vecdot(T(c), T(d)))
    same(LA.vecdot(E(c), E(d), dim=0), torch.linalg.vecdot(T(c), T(d), dim=0))
    grads_match(LA.vecdot, torch.linalg.vecdot, c, d)
    x = rand(2, 3, 4, seed=18)
    for kw in ({}, {"offset": 1}, {"offset": -1, "dim1": 0, "dim2": 2}):
        same(LA.diagonal(E(x), **kw), torch.linalg.diagonal(T(x), **kw))
    m, n = rand(2, 3, 4, seed=19), rand(4, 5, seed=20)
    same(LA.matmul(E(m), E(n)), torch.linalg.matmul(T(m), T(n)), 1e-12)
    assert LA.matmul is ember.matmul


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
    assert re.search(r"gradients", detail) and re.search(r"errors", detail), detail
