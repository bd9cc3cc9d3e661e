"""Linear solves built on the LU factorization of :mod:`ember.linalg.factorizations`: ``solve``
and ``solve_ex``, ``inv`` and ``inv_ex``, ``tensorsolve`` and ``tensorinv``, and the determinants
``det``, ``slogdet`` and ``logdet`` (PyTorch's ``torch.linalg`` names, arguments, defaults and
result tuples; ``logdet`` is ``torch.logdet``). ``solve``, ``inv`` and the tensor solves raise
:class:`~ember.linalg.factorizations.LinAlgError` at a singular matrix, naming the zero pivot and
the batch element (the check reads back at most three scalars); the ``_ex`` variants return
``info`` instead. Gradients follow PyTorch's formulas (det's at a singular matrix through the SVD of
:mod:`ember.linalg.spectral`); every backward is written with the differentiable public functions,
so higher derivatives work too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

from .. import dtypes as _dt
from ..autograd.grad_mode import STATE, no_grad
from ..ops._core import Tensor, attach, saved_output, sum_to
from ..ops.linalg import matmul
from .factorizations import (
    _AS_INT,
    _SQ,
    _batch,
    _check_dtype,
    _check_matrix,
    _check_same_dtype,
    _eye,
    _first_failure,
    _lu_data,
    _np_solve,
    _raise_singular,
    _square_errors,
    _square_samples,
    _well,
    lu_solve,
)

__all__ = [
    "det",
    "inv",
    "inv_ex",
    "slogdet",
    "solve",
    "solve_ex",
    "tensorinv",
    "tensorsolve",
]


# -- result tuples (PyTorch's field names) ---------------------------------------------------------
class SolveEx(NamedTuple):
    """``(result, info)`` of :func:`solve_ex`."""

    result: Tensor
    info: Tensor


class InvEx(NamedTuple):
    """``(inverse, info)`` of :func:`inv_ex`."""

    inverse: Tensor
    info: Tensor


class Slogdet(NamedTuple):
    """``(sign, logabsdet)`` of :func:`slogdet`."""

    sign: Tensor
    logabsdet: Tensor


# -- solve, inverse ---------------------------------------------------------------------------------
def _is_vector_rhs(A: Tensor, B: Tensor) -> bool:
    # PyTorch's rule: B is a (batch of) vector(s) when 1-D, or when its shape is A's without the last dim
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])


def _solve(op: str, A: Tensor, B: Tensor, left: bool, check_errors: bool) -> tuple[Tensor, Tensor]:
    """``(X, info)`` of ``A X = B`` (``X A = B``), B already a matrix; errors name ``op``."""
    n = A.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise ValueError(
            f"{op}: A of shape {A.shape} and B of shape {B.shape} do not fit: B's "
            f"{'rows' if left else 'columns'} must number {n} (left={left})"
        )
    _batch(op, A, B)
    with no_grad():
        LU, piv, info = _lu_data(A)
        if check_errors:
            _raise_singular(op, info)
        X = lu_solve(LU, piv, B, left=left)
    if STATE.enabled and (A.requires_grad or B.requires_grad):
        Xs = saved_output(X)
        a_shape, b_shape = A.shape, B.shape  # as recorded (an in-place squeeze_ may change B's)
        a_grad, b_grad = A.requires_grad, B.requires_grad

        def grad(g: Tensor) -> tuple[Any, Any]:
            gB = _solve(op, A.mT, g, left, False)[0]
            gA = None
            if a_grad:
                gA = sum_to(-matmul(gB, Xs.mT) if left else -matmul(Xs.mT, gB), a_shape)
            return gA, (sum_to(gB, b_shape) if b_grad else None)

        X = attach(X, op, grad, (A, B), (A, X), out_alias=Xs)
    return X, info


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False) -> SolveEx:
    """``(result, info)`` of :func:`solve`: ``info`` (int32) is 0, or the 1-based index of the first
    zero pivot of A's LU factorization (A singular; then result holds inf/NaN)."""
    return _solve_public("linalg.solve_ex", A, B, left, check_errors)


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """The solution ``X`` of ``A X = B`` (``X A = B`` with ``left=False``) for square, invertible
    ``A`` (batch dims broadcast; B of shape (*, n) is a batch of vectors); a singular ``A`` raises
    :class:`LinAlgError` naming the zero pivot and the batch element."""
    return _solve_public("linalg.solve", A, B, left, True).result


def _solve_public(op: str, A: Tensor, B: Tensor, left: bool, check_errors: bool) -> SolveEx:
    _check_matrix(op, A)
    if not isinstance(B, Tensor):
        raise TypeError(f"{op}: expected B to be a tensor, got {type(B).__name__}")
    _check_dtype(op, B, "B")
    _check_same_dtype(op, A, B)
    vec = _is_vector_rhs(A, B)
    X, info = _solve(op, A, B.unsqueeze(-1) if vec else B, left, check_errors)
    return SolveEx(X.squeeze(-1) if vec else X, info)


def inv_ex(A: Tensor, *, check_errors: bool = False) -> InvEx:
    """``(inverse, info)`` of :func:`inv` (info as in :func:`solve_ex`)."""
    op = "linalg.inv_ex"
    _check_matrix(op, A)
    X, info = _solve(op, A, _eye(A.shape[-1], A).expand(A.shape), True, check_errors)
    return InvEx(X, info)


def inv(A: Tensor) -> Tensor:
    """The inverse of square matrices (batched); a singular matrix raises :class:`LinAlgError`
    naming the zero pivot and the batch element."""
    op = "linalg.inv"
    _check_matrix(op, A)
    return _solve(op, A, _eye(A.shape[-1], A).expand(A.shape), True, True)[0]


# -- determinants ------------------------------------------------------------------------------------
def _lu_diag_and_sign(A: Tensor) -> tuple[Tensor, Tensor]:
    """The diagonal of U and the sign of P (+1 or -1) of A's LU factorization (no graph)."""
    from ..ops.creation import arange
    from ..ops.rearrange import diagonal as _diag

    LU, piv, _ = _lu_data(A)
    n = A.shape[-1]
    swaps = (piv != arange(1, n + 1, device=A.device)).to(_dt.int64).sum(-1)
    parity = 1 - 2 * (swaps % 2).to(A.dtype)
    return _diag(LU, 0, -2, -1), parity


def _cofactors_by_svd(A: Tensor) -> Tensor:
    """The cofactor matrix of A, defined for singular A too: with A = U diag(S) Vh,
    det(U) det(Vh) U diag(prod of the other singular values) Vh (PyTorch's singular-case det
    gradient)."""
    from ..ops.creation import ones
    from ..ops.joining import cat
    from ..ops.scans import cumprod
    from .spectral import svd

    U, S, Vh = svd(A)
    n = S.shape[-1]
    one = ones(S.shape[:-1] + (1,), dtype=S.dtype, device=S.device)
    before = cumprod(cat([one, S[..., : n - 1]], -1), -1)  # products of the values before each
    after = cumprod(cat([one, S.flip(-1)[..., : n - 1]], -1), -1).flip(-1)  # ... and after it
    return (det(U) * det(Vh)).unsqueeze(-1).unsqueeze(-1) * matmul(U * (before * after).unsqueeze(-2), Vh)


def det(A: Tensor) -> Tensor:
    """Determinant of square matrices (batched), from the LU factorization. Its gradient is
    ``g * det(A) * inv(A).mT`` for invertible A and, where a matrix of the batch is singular, the
    cofactor matrix from its SVD (PyTorch's formulas)."""
    op = "linalg.det"
    _check_matrix(op, A)
    with no_grad():
        d, parity = _lu_diag_and_sign(A)
        out = d.prod(-1) * parity
    if STATE.enabled and A.requires_grad:
        outs = saved_output(out)

        def grad(g: Tensor) -> tuple[Tensor]:
            from ..ops.elementwise import where

            gl = g.unsqueeze(-1).unsqueeze(-1)
            inverse, info = inv_ex(A)
            gA = gl * outs.unsqueeze(-1).unsqueeze(-1) * inverse.mT
            if _first_failure(info) is not None:  # some matrix is singular: one scalar read
                singular = (info != 0).unsqueeze(-1).unsqueeze(-1)
                gA = where(singular, gl * _cofactors_by_svd(A), gA)
            return (gA,)

        out = attach(out, op, grad, (A,), (A, out), out_alias=outs)
    return out


def slogdet(A: Tensor) -> Slogdet:
    """``(sign, logabsdet)`` of square matrices (batched): ``det(A) = sign * exp(logabsdet)``,
    computed without overflow; sign 0 and logabsdet -inf for a singular matrix. Only logabsdet
    is differentiable (gradient ``g * inv(A).mT``)."""
    from ..ops.elementwise import log, sign

    op = "linalg.slogdet"
    _check_matrix(op, A)
    with no_grad():
        d, parity = _lu_diag_and_sign(A)
        sgn = sign(d).prod(-1) * parity
        logabs = log(d.abs()).sum(-1)
    if STATE.enabled and A.requires_grad:

        def grad(g: Tensor) -> tuple[Tensor]:
            return (g.unsqueeze(-1).unsqueeze(-1) * inv_ex(A)[0].mT,)

        logabs = attach(logabs, op, grad, (A,), (A,))
    return Slogdet(sgn, logabs)


def logdet(A: Tensor) -> Tensor:
    """``log(det(A))`` (``torch.logdet``): NaN where the determinant is negative, -inf where it is 0."""
    from ..ops.elementwise import where

    _check_matrix("logdet", A)
    sgn, logabs = slogdet(A)
    return where(sgn < 0, math.nan, logabs)


# -- tensor solves ---------------------------------------------------------------------------------
def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The inverse of ``A`` for :func:`tensordot` over its first ``ind`` dims: A's first ``ind``
    dims and the rest, each flattened, make a square matrix; the result has shape
    ``A.shape[ind:] + A.shape[:ind]``."""
    op = "linalg.tensorinv"
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected a tensor, got {type(A).__name__}")
    if isinstance(ind, bool) or not isinstance(ind, int) or ind <= 0:
        raise ValueError(f"{op}: ind must be a positive int, got {ind!r}")
    rows, cols = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if rows != cols:
        raise ValueError(
            f"{op}: the product of the first {ind} dims of shape {A.shape} ({rows}) must equal the product "
            f"of the rest ({cols})"
        )
    _check_dtype(op, A, "A")
    return _solve(op, A.reshape(rows, cols), _eye(rows, A), True, True)[0].reshape(
        A.shape[ind:] + A.shape[:ind]
    )


def tensorsolve(A: Tensor, B: Tensor, dims: Sequence[int] | None = None) -> Tensor:
    """The X with ``tensordot(A, X, X.ndim) == B``: X has shape ``A.shape[B.ndim:]``; ``dims`` (of
    A) are moved to the end first."""
    op = "linalg.tensorsolve"
    if not isinstance(A, Tensor) or not isinstance(B, Tensor):
        raise TypeError(f"{op}: expected two tensors, got {type(A).__name__} and {type(B).__name__}")
    if dims is not None:
        from ..ops._core import wrap_dim

        moved = [wrap_dim(d, A.ndim, op) for d in dims]
        A = A.permute([i for i in range(A.ndim) if i not in moved] + moved)
    if A.shape[: B.ndim] != B.shape:
        raise ValueError(f"{op}: A's leading dims {A.shape[: B.ndim]} must equal B's shape {B.shape}")
    rows, cols = math.prod(B.shape), math.prod(A.shape[B.ndim :])
    if rows != cols:
        raise ValueError(
            f"{op}: B has {rows} elements but the solution would have {cols} (A's trailing dims "
            f"{A.shape[B.ndim :]}); the flattened system must be square"
        )
    _check_dtype(op, A, "A")
    _check_same_dtype(op, A, B)
    x = _solve(op, A.reshape(rows, cols), B.reshape(rows, 1), True, True)[0]
    return x.reshape(A.shape[B.ndim :])


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from ..ops import _install_methods
    from ..ops.records import OpRecord, register
    from ..ops.samples import ErrorSample, Sample, rand_array

    def rhs_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def b(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -1, 1)

        return [
            Sample((_well(rng, (3, 3), dtype), b(3, 2))),
            Sample((_well(rng, (2, 4, 4), dtype), b(2, 4, 3))),
            Sample((_well(rng, (2, 1, 3, 3), dtype), b(4, 3, 1))),  # batch dims broadcast
            Sample((_well(rng, (3, 3), dtype), b(3))),  # a vector
            Sample((_well(rng, (2, 3, 3), dtype), b(2, 3))),  # a batch of vectors
            Sample((_well(rng, (3, 3), dtype), b(2, 3)), {"left": False}),
            Sample((_well(rng, (1, 1), dtype), b(1, 1))),
            Sample((_well(rng, (4, 4), dtype), b(4, 2)), noncontig=True),
            Sample((_well(rng, (0, 3, 3), dtype), b(0, 3, 2)), grad=False),
        ]

    def np_slogdet(a: np.ndarray) -> np.ndarray:
        s, ld = np.linalg.slogdet(a)
        return np.stack([s, ld], -1)

    def solve_errors(op: str) -> tuple[ErrorSample, ...]:
        return (
            ErrorSample((np.ones((2, 3)), np.ones((2, 1))), {}, ValueError, f"linalg.{op}: A {_SQ}"),
            ErrorSample(
                (np.ones((2, 3, 3)), np.ones((4, 3, 1))),
                {},
                ValueError,
                f"linalg.{op}: the batch dims of A \\(2,\\) and B \\(4,\\) do not broadcast",
            ),
            ErrorSample(
                (np.ones((3, 3), dtype=np.int64), np.ones((3, 1))), {}, TypeError, f"linalg.{op}: A {_AS_INT}"
            ),
            ErrorSample(
                (np.ones((3, 3)), np.ones((2, 1))),
                {},
                ValueError,
                f"linalg.{op}: A of shape \\(3, 3\\) and B of shape \\(2, 1\\) do not fit",
            ),
        )

    def solve_ex_call(A: Tensor, B: Tensor, left: bool = True) -> Tensor:
        r = solve_ex(A, B, left=left)
        return r.result + r.info.sum().to(A.dtype)  # info is 0 for these invertible samples

    register(
        OpRecord("linalg.solve", solve, rhs_samples, _np_solve, atol=1e-4, errors=solve_errors("solve")),
        OpRecord(
            "linalg.solve_ex",
            solve_ex,
            rhs_samples,
            _np_solve,
            call=solve_ex_call,
            atol=1e-4,
            errors=solve_errors("solve_ex"),
        ),
        OpRecord(
            "linalg.inv",
            inv,
            _square_samples,
            np.linalg.inv,
            methods=("inverse",),
            atol=1e-4,
            errors=_square_errors("inv"),
        ),
        OpRecord(
            "linalg.inv_ex",
            inv_ex,
            _square_samples,
            np.linalg.inv,
            call=lambda x: (lambda r: r.inverse + r.info.to(x.dtype).unsqueeze(-1).unsqueeze(-1))(inv_ex(x)),
            atol=1e-4,
            errors=_square_errors("inv_ex"),
        ),
        OpRecord(
            "linalg.det",
            det,
            _square_samples,
            np.linalg.det,
            methods=("det",),
            atol=1e-4,
            errors=_square_errors("det"),
        ),
        OpRecord(
            "linalg.slogdet",
            slogdet,
            _square_samples,
            np_slogdet,
            call=lambda x: (lambda r: __import__("ember").stack([r.sign, r.logabsdet], -1))(slogdet(x)),
            methods=("slogdet",),
            atol=1e-4,
            errors=_square_errors("slogdet"),
        ),
        OpRecord(
            "linalg.tensorinv",
            tensorinv,
            lambda dtype, rng: [
                Sample((_well(rng, (6, 6), dtype).reshape(2, 3, 6),)),
                Sample((_well(rng, (4, 4), dtype).reshape(4, 2, 2),), {"ind": 1}),
                Sample((_well(rng, (6, 6), dtype).reshape(6, 3, 2),), {"ind": 1}, noncontig=True),
            ],
            lambda a, ind=2: np.linalg.tensorinv(a, ind),
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones((2, 3, 4)),),
                    {"ind": 1},
                    ValueError,
                    "linalg.tensorinv: the product of the first 1",
                ),
            ),
        ),
        OpRecord(
            "linalg.tensorsolve",
            tensorsolve,
            lambda dtype, rng: [
                Sample((_well(rng, (6, 6), dtype).reshape(2, 3, 6), rand_array(rng, (2, 3), dtype, -1, 1))),
                Sample(
                    (_well(rng, (6, 6), dtype).reshape(6, 2, 3), rand_array(rng, (2, 3), dtype, -1, 1)),
                    {"dims": (0,)},
                ),
            ],
            lambda a, b, dims=None: np.linalg.tensorsolve(a, b, dims),
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones((2, 3, 4)), np.ones((3, 2))),
                    {},
                    ValueError,
                    "linalg.tensorsolve: A's leading dims \\(2, 3\\) must equal B's shape \\(3, 2\\)",
                ),
            ),
        ),
        OpRecord(
            "logdet",
            logdet,
            _square_samples,
            lambda a: np.log(np.linalg.det(a)),
            methods=("logdet",),
            public=False,
            atol=1e-4,
        ),
    )
    _install_methods()


_records()
