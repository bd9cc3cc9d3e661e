"""Matrix factorizations and the triangular solves they rest on: Cholesky (``cholesky``,
``cholesky_ex``), LU (``lu_factor``, ``lu_factor_ex``, ``lu``, ``lu_solve``) and
``solve_triangular`` (PyTorch's ``torch.linalg`` names, arguments, defaults and result tuples),
with :class:`LinAlgError`, the argument checks and sample builders that :mod:`ember.linalg.solvers`
and :mod:`ember.linalg.products` share, and the array-library kernels. The three are optional
kernels (``linalg_cholesky``, ``linalg_lu_factor``, ``linalg_solve_triangular`` in
:data:`ember.ops.catalog.OPTIONAL_KERNELS`); a device without them runs the composites below, built
from existing ops on the device: Cholesky and LU column by column, triangular solves row by row,
each step one set of ops on the whole batch. Only an error check reads a value back (one scalar, as
PyTorch does to say which batch element is singular). Gradients follow PyTorch's formulas, written
with the differentiable public functions, so higher derivatives work too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from .. import dtypes as _dt
from ..autograd.grad_mode import STATE, no_grad
from ..layout import broadcast_shapes
from ..ops._core import Tensor, _make, attach, has_data, saved_output, sum_to
from ..ops.linalg import matmul

if TYPE_CHECKING:
    import numpy as np

    from ..ops.samples import ErrorSample, Sample

__all__ = [
    "LinAlgError",
    "cholesky",
    "cholesky_ex",
    "lu",
    "lu_factor",
    "lu_factor_ex",
    "lu_solve",
    "solve_triangular",
]


class LinAlgError(RuntimeError):
    """A matrix the operation cannot handle (singular, not positive-definite), as
    ``torch.linalg.LinAlgError``."""


# -- result tuples (PyTorch's field names) ---------------------------------------------------------
class CholeskyEx(NamedTuple):
    """``(L, info)`` of :func:`cholesky_ex`."""

    L: Tensor
    info: Tensor


class LUFactor(NamedTuple):
    """``(LU, pivots)`` of :func:`lu_factor`."""

    LU: Tensor
    pivots: Tensor


class LUFactorEx(NamedTuple):
    """``(LU, pivots, info)`` of :func:`lu_factor_ex`."""

    LU: Tensor
    pivots: Tensor
    info: Tensor


class LU(NamedTuple):
    """``(P, L, U)`` of :func:`lu`."""

    P: Tensor
    L: Tensor
    U: Tensor


# -- argument checks -------------------------------------------------------------------------------
_LINALG_DTYPES = ("float32", "float64")


def _check_dtype(op: str, t: Tensor, name: str) -> None:
    if t.dtype.name not in _LINALG_DTYPES:
        raise TypeError(
            f"{op}: {name} has dtype {t.dtype}, but linalg supports float32 and float64; cast it "
            f"first, e.g. {name}.double() or {name}.to(ember.float32)"
        )


def _check_matrix(op: str, A: Any, name: str = "A", square: bool = True) -> None:
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected {name} to be a tensor, got {type(A).__name__}")
    if A.ndim < 2:
        raise ValueError(
            f"{op}: {name} must be a matrix or a batch of matrices (at least 2 dims), got shape {A.shape}"
        )
    if square and A.shape[-1] != A.shape[-2]:
        raise ValueError(
            f"{op}: {name} must be a batch of square matrices, got shape {A.shape} "
            f"({A.shape[-2]} x {A.shape[-1]} matrices)"
        )
    _check_dtype(op, A, name)


def _check_same_dtype(op: str, A: Tensor, B: Tensor) -> None:
    if A.dtype is not B.dtype:
        raise TypeError(
            f"{op}: A and B must have the same dtype, got {A.dtype} and {B.dtype}; cast one, e.g. "
            f"B.to({A.dtype})"
        )


def _batch(op: str, A: Tensor, B: Tensor) -> tuple[int, ...]:
    try:
        return broadcast_shapes(A.shape[:-2], B.shape[:-2])
    except ValueError:
        raise ValueError(
            f"{op}: the batch dims of A {A.shape[:-2]} and B {B.shape[:-2]} do not broadcast "
            f"(shapes {A.shape} and {B.shape})"
        ) from None


def _first_failure(info: Tensor) -> tuple[int, int] | None:
    """``(batch index, info value)`` of the first non-zero entry of ``info``, or None (reads at
    most three scalars; nothing on a device without data)."""
    if not has_data(info) or info.numel() == 0:
        return None
    if int(info.abs().amax().item()) == 0:
        return None
    flat = info.reshape(-1)
    b = int((flat != 0).to(_dt.int32).argmax().item())
    return b, int(flat[b].item())


def _where_batch(info: Tensor, b: int) -> str:
    if info.ndim == 0:
        return ""
    idx = []
    for n in reversed(info.shape):
        idx.append(b % n)
        b //= n
    pos = tuple(reversed(idx))
    return f" of batch element {pos[0] if len(pos) == 1 else pos}"


def _raise_singular(op: str, info: Tensor) -> None:
    fail = _first_failure(info)
    if fail is not None:
        b, k = fail
        raise LinAlgError(
            f"{op}: the input is singular (pivot {k}{_where_batch(info, b)} is zero: U[{k - 1}, {k - 1}] "
            "of its LU factorization); a singular system has no unique solution, use "
            "linalg.lstsq for a least-squares one"
        )


def _raise_not_pd(op: str, info: Tensor) -> None:
    fail = _first_failure(info)
    if fail is not None:
        b, k = fail
        raise LinAlgError(
            f"{op}: the input is not positive-definite (the leading minor of order {k}"
            f"{_where_batch(info, b)} is not positive-definite); cholesky needs a symmetric "
            "positive-definite matrix"
        )


def _eye(n: int, like: Tensor) -> Tensor:
    from ..ops.creation import eye

    return eye(n, dtype=like.dtype, device=like.device)


def _native(A: Tensor, name: str) -> Any:
    """The device's kernel ``name``, or None (then the composite runs); empty inputs always take
    the composite, which has nothing to do."""
    if A.numel() == 0:
        return None
    return A.device.kernels.get(name)


# -- Cholesky ---------------------------------------------------------------------------------------
def _cholesky_composite(A: Tensor) -> tuple[Tensor, Tensor]:
    """Column-by-column Cholesky of the lower triangle: ``(L, info)``."""
    from ..ops.creation import zeros
    from ..ops.elementwise import logical_not, sqrt, where

    n = A.shape[-1]
    L = zeros(A.shape, dtype=A.dtype, device=A.device)
    info = zeros(A.shape[:-2], dtype=_dt.int32, device=A.device)
    for j in range(n):
        r = L[..., j, :j]
        d = A[..., j, j] - (r * r).sum(-1)
        bad = logical_not(d > 0)  # NaN counts as a failure too
        info = where(bad & (info == 0), j + 1, info)
        ljj = sqrt(d)
        L[..., j, j] = ljj
        if j + 1 < n:
            c = A[..., j + 1 :, j] - matmul(L[..., j + 1 :, :j], r.unsqueeze(-1)).squeeze(-1)
            L[..., j + 1 :, j] = c / ljj.unsqueeze(-1)
    return L, info


def _cholesky_data(A: Tensor) -> tuple[Tensor, Tensor]:
    k = _native(A, "linalg_cholesky")
    if k is None:
        return _cholesky_composite(A)
    L, info = k(A.contiguous()._data)
    return _make(L, A.shape, A.dtype, A.device), _make(info, A.shape[:-2], _dt.int32, A.device)


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> CholeskyEx:
    """Cholesky factorization of symmetric positive-definite matrices (batched): ``(L, info)``
    with ``A = L @ L.mT`` (``U.mT @ U`` with ``upper=True``); only the lower triangle of ``A`` is
    read. ``info`` (int32, one per matrix) is 0, or the order of the first leading minor that is
    not positive-definite (then L is not meaningful); ``check_errors=True`` raises instead."""
    op = "linalg.cholesky_ex"
    _check_matrix(op, A)
    with no_grad():
        L, info = _cholesky_data(A)
    if check_errors:
        _raise_not_pd(op, info)
    if STATE.enabled and A.requires_grad:
        Ls = saved_output(L)

        def grad(gL: Tensor) -> tuple[Tensor]:
            # PyTorch's cholesky_backward: A's gradient, symmetric (A is taken as symmetric)
            gA = matmul(Ls.mT, gL).tril()
            gA = 0.5 * (gA + gA.tril(-1).mT)
            gA = solve_triangular(Ls.mT, gA, upper=True, left=True)
            gA = solve_triangular(Ls, gA, upper=False, left=False)
            return (gA,)

        L = attach(L, "linalg.cholesky", grad, (A,), (L,), out_alias=Ls)
    if upper:
        L = L.mT
    return CholeskyEx(L, info)


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """Cholesky factor ``L`` of symmetric positive-definite matrices, ``A = L @ L.mT`` (``U`` with
    ``A = U.mT @ U`` when ``upper``); a :class:`LinAlgError` names the first leading minor that is
    not positive-definite."""
    op = "linalg.cholesky"
    _check_matrix(op, A)
    L, info = cholesky_ex(A, upper=upper)
    _raise_not_pd(op, info)
    return L


# -- LU ---------------------------------------------------------------------------------------------
def _lu_composite(A: Tensor, pivot: bool) -> tuple[Tensor, Tensor, Tensor]:
    """LU with partial pivoting, column by column: ``(LU, pivots, info)`` in LAPACK's convention
    (1-based row interchanges; info the 1-based index of the first zero pivot)."""
    from ..ops.creation import arange, full, zeros
    from ..ops.elementwise import where
    from ..ops.indexing import gather
    from ..ops.joining import stack
    from ..ops.reduction import argmax

    m, n = A.shape[-2], A.shape[-1]
    batch = A.shape[:-2]
    k = min(m, n)
    LU = A.clone()
    info = zeros(batch, dtype=_dt.int32, device=A.device)
    rows = arange(m, device=A.device)
    pivs = []
    for j in range(k):
        if pivot:
            p = argmax(LU[..., j:, j].abs(), dim=-1) + j  # the first largest, as LAPACK's idamax
            pivs.append(p + 1)
            if m > 1:
                pe = p.unsqueeze(-1)
                src = where(rows == j, pe, where(rows == pe, j, rows))  # rows j and p swapped
                LU = gather(LU, -2, src.unsqueeze(-1).expand(batch + (m, n)))
        else:
            pivs.append(full(batch, j + 1, dtype=_dt.int64, device=A.device))
        d = LU[..., j, j]
        zero = d == 0
        info = where(zero & (info == 0), j + 1, info)
        if j + 1 < m:
            col = LU[..., j + 1 :, j] / where(zero, 1, d).unsqueeze(-1)  # LAPACK leaves a zero column
            LU[..., j + 1 :, j] = col
            if j + 1 < n:
                LU[..., j + 1 :, j + 1 :] = LU[..., j + 1 :, j + 1 :] - col.unsqueeze(-1) * LU[
                    ..., j, j + 1 :
                ].unsqueeze(-2)
    pivots = stack(pivs, -1) if pivs else zeros(batch + (0,), dtype=_dt.int64, device=A.device)
    return LU, pivots, info


def _lu_data(A: Tensor, pivot: bool = True) -> tuple[Tensor, Tensor, Tensor]:
    k = _native(A, "linalg_lu_factor") if pivot else None
    if k is None:
        return _lu_composite(A, pivot)
    LU, piv, info = k(A.contiguous()._data)
    dev = A.device
    return (
        _make(LU, A.shape, A.dtype, dev),
        _make(piv, A.shape[:-2] + (min(A.shape[-2:]),), _dt.int64, dev),
        _make(info, A.shape[:-2], _dt.int32, dev),
    )


def _permutation(pivots: Tensor, m: int, dtype: Any) -> Tensor:
    """The permutation matrix P (..., m, m) of LAPACK row interchanges ``pivots``: ``A = P L U``."""
    from ..ops.creation import arange
    from ..ops.elementwise import where
    from ..ops.indexing import gather

    rows = arange(m, device=pivots.device)
    perm = rows.expand(pivots.shape[:-1] + (m,))
    for i in range(pivots.shape[-1]):
        p = pivots[..., i : i + 1] - 1
        at_i = perm[..., i : i + 1]
        at_p = gather(perm, -1, p)
        perm = where(rows == i, at_p, where(rows == p, at_i, perm))
    # row perm[i] of A is row i of L U: P[r, i] = (r == perm[i])
    return (rows.unsqueeze(-1) == perm.unsqueeze(-2)).to(dtype)


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False) -> LUFactorEx:
    """LU factorization with partial pivoting (batched, any m x n): ``(LU, pivots, info)``, L (unit
    diagonal, not stored) and U packed in ``LU``; ``pivots`` (int64, 1-based, min(m, n) per matrix)
    are LAPACK's row interchanges; ``info`` (int32) is 0 or the 1-based index of the first zero
    pivot. ``pivot=False`` factors without row interchanges."""
    op = "linalg.lu_factor_ex"
    _check_matrix(op, A, square=False)
    with no_grad():
        LU, piv, info = _lu_data(A, pivot)
    if check_errors:
        _raise_singular(op, info)
    if STATE.enabled and A.requires_grad:
        LUs = saved_output(LU)
        m, n = A.shape[-2], A.shape[-1]
        pv = piv.detach()  # an alias whose shape stays as recorded (the caller may squeeze_ piv)

        def grad(gLU: Tensor) -> tuple[Tensor]:
            return (_lu_backward(LUs, pv, gLU, m, n),)

        LU = attach(LU, "linalg.lu_factor", grad, (A,), (LU,), out_alias=LUs)
    return LUFactorEx(LU, piv, info)


def _lu_backward(LU: Tensor, piv: Tensor, gLU: Tensor, m: int, n: int) -> Tensor:
    """PyTorch's linalg_lu_backward on the packed factors (square, wide and tall A = P L U), with
    gL = tril(gLU, -1) and gU = triu(gLU)."""
    from ..ops.joining import cat

    k = min(m, n)
    P = _permutation(piv, m, LU.dtype)
    L = LU[..., :, :k].tril(-1) + _eye(m, LU)[:, :k]
    U = LU[..., :k, :].triu()
    gL = gLU[..., :, :k].tril(-1)
    gU = gLU[..., :k, :].triu()
    if m == n:  # P L^-H [tril(L^H gL, -1) + triu(gU U^H)] U^-H
        gA = matmul(L.mT, gL).tril(-1) + matmul(gU, U.mT).triu()
        gA = solve_triangular(U.mT, gA, upper=False, left=False)
        gA = solve_triangular(L.mT, gA, upper=True, unitriangular=True)
    elif m < n:  # wide, U = [U1 U2]
        gA = (matmul(L.mT, gL) - matmul(gU, U.mT)).tril(-1)
        gA = solve_triangular(U[..., :, :k].mT, gA, upper=False, left=False)
        gA = cat([gA + gU[..., :, :k], gU[..., :, k:]], -1)
        gA = solve_triangular(L.mT, gA, upper=True, unitriangular=True)
    else:  # tall, L = [L1; L2]
        gA = (matmul(gU, U.mT) - matmul(L.mT, gL)).triu()
        gA = solve_triangular(L[..., :k, :].mT, gA, upper=True, unitriangular=True)
        gA = cat([gA + gL[..., :k, :], gL[..., k:, :]], -2)
        gA = solve_triangular(U.mT, gA, upper=False, left=False)
    return matmul(P, gA)


def lu_factor(A: Tensor, *, pivot: bool = True) -> LUFactor:
    """LU factorization with partial pivoting: ``(LU, pivots)`` (see :func:`lu_factor_ex`); a
    singular matrix is factored too (its U has a zero on the diagonal), as in PyTorch."""
    _check_matrix("linalg.lu_factor", A, square=False)
    LU, piv, _ = lu_factor_ex(A, pivot=pivot)
    return LUFactor(LU, piv)


def lu(A: Tensor, *, pivot: bool = True) -> LU:
    """LU decomposition ``A = P @ L @ U`` (batched, m x n): P a permutation matrix, L (m x k) unit
    lower-triangular, U (k x n) upper-triangular, k = min(m, n)."""
    _check_matrix("linalg.lu", A, square=False)
    LU_, piv, _ = lu_factor_ex(A, pivot=pivot)
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    with no_grad():
        P = _permutation(piv, m, A.dtype)
    L = LU_[..., :, :k].tril(-1) + _eye(m, A)[:, :k]
    U = LU_[..., :k, :].triu()
    return LU(P, L, U)


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False) -> Tensor:
    """Solve ``A X = B`` from A's LU factorization ``(LU, pivots)`` of :func:`lu_factor`;
    ``left=False`` solves ``X A = B``, ``adjoint=True`` uses ``A.mT`` (batch dims broadcast)."""
    op = "linalg.lu_solve"
    _check_matrix(op, LU, "LU")
    _check_matrix(op, B, "B", square=False)
    _check_same_dtype(op, LU, B)
    if not isinstance(pivots, Tensor) or pivots.dtype.name not in ("int32", "int64"):
        raise TypeError(f"{op}: pivots must be an integer tensor (from linalg.lu_factor), got {pivots!r}")
    n = LU.shape[-1]
    if pivots.shape != LU.shape[:-2] + (n,):
        raise ValueError(
            f"{op}: pivots of shape {pivots.shape} do not match LU of shape {LU.shape} (expected "
            f"{LU.shape[:-2] + (n,)})"
        )
    rows = B.shape[-2] if left else B.shape[-1]
    if rows != n:
        raise ValueError(
            f"{op}: B of shape {B.shape} does not fit {n} x {n} matrices: its "
            f"{'rows' if left else 'columns'} must number {n}"
        )
    _batch(op, LU, B)
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return lu_solve(LU, pivots, B.mT, left=True, adjoint=not adjoint).mT
    with no_grad():
        P = _permutation(pivots.to(_dt.int64), n, LU.dtype)
    if not adjoint:  # A = P L U: X = U^-1 L^-1 P^T B
        Y = solve_triangular(LU, matmul(P.mT, B), upper=False, unitriangular=True)
        return solve_triangular(LU, Y, upper=True)
    # A^T X = B: U^T L^T P^T X = B
    W = solve_triangular(LU.mT, B, upper=False)
    V = solve_triangular(LU.mT, W, upper=True, unitriangular=True)
    return matmul(P, V)


# -- triangular solve -------------------------------------------------------------------------------
def _trsolve_composite(A: Tensor, B: Tensor, upper: bool, unit: bool) -> Tensor:
    """Row-by-row substitution for ``A X = B`` (A triangular, batch dims already equal)."""
    from ..ops.creation import zeros

    n = A.shape[-1]
    X = zeros(B.shape, dtype=B.dtype, device=B.device)
    for i in range(n - 1, -1, -1) if upper else range(n):
        rhs = B[..., i, :]
        done = slice(i + 1, n) if upper else slice(0, i)
        if (n - i - 1 if upper else i) > 0:
            rhs = rhs - matmul(A[..., i : i + 1, done], X[..., done, :]).squeeze(-2)
        if not unit:
            rhs = rhs / A[..., i, i].unsqueeze(-1)
        X[..., i, :] = rhs
    return X


def _trsolve_data(A: Tensor, B: Tensor, upper: bool, left: bool, unit: bool) -> Tensor:
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return _trsolve_data(A.mT, B.mT, not upper, True, unit).mT
    batch = broadcast_shapes(A.shape[:-2], B.shape[:-2])
    A = A.expand(batch + A.shape[-2:])
    B = B.expand(batch + B.shape[-2:])
    k = _native(B, "linalg_solve_triangular") if A.numel() else None
    if k is None:
        return _trsolve_composite(A, B, upper, unit)
    X = k(A.contiguous()._data, B.contiguous()._data, upper, unit)
    return _make(X, B.shape, B.dtype, B.device)


def solve_triangular(
    A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False
) -> Tensor:
    """Solve ``A X = B`` (``X A = B`` with ``left=False``) for triangular ``A`` (batch dims
    broadcast): only the triangle ``upper`` names is read, and its diagonal is taken as ones with
    ``unitriangular=True``. A zero on the diagonal gives inf/NaN, as in PyTorch."""
    op = "linalg.solve_triangular"
    _check_matrix(op, A)
    _check_matrix(op, B, "B", square=False)
    _check_same_dtype(op, A, B)
    n = A.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise ValueError(
            f"{op}: A of shape {A.shape} and B of shape {B.shape} do not fit: B's "
            f"{'rows' if left else 'columns'} must number {n} (left={left})"
        )
    _batch(op, A, B)
    with no_grad():
        X = _trsolve_data(A, B, upper, left, unitriangular)
    if STATE.enabled and (A.requires_grad or B.requires_grad):
        Xs = saved_output(X)
        a_shape, b_shape = A.shape, B.shape  # as recorded (an in-place squeeze_ may change B's)
        a_grad, b_grad = A.requires_grad, B.requires_grad

        def grad(g: Tensor) -> tuple[Any, Any]:
            gB = solve_triangular(A.mT, g, upper=not upper, left=left, unitriangular=unitriangular)
            gA = None
            if a_grad:
                gA = -matmul(gB, Xs.mT) if left else -matmul(Xs.mT, gB)
                gA = gA.triu(1 if unitriangular else 0) if upper else gA.tril(-1 if unitriangular else 0)
                gA = sum_to(gA, a_shape)
            return gA, (sum_to(gB, b_shape) if b_grad else None)

        X = attach(X, "linalg.solve_triangular", grad, (A, B), (A, X), out_alias=Xs)
    return X


# -- kernels for array-library backends ---------------------------------------------------------------
def _array_kernels(xp: Any) -> dict[str, Any]:
    """The solver kernels on an array namespace ``xp``: Cholesky from ``xp.linalg``, LU and
    triangular solves from SciPy (numpy) or ``cupyx.scipy`` (CuPy) when installed (without them
    the composites run). Each takes and returns ``xp`` arrays, batched over leading dims."""
    import warnings

    import numpy as np

    sla_version = "0.0"  # SciPy's, where it is the library (it batches from 1.15 on)
    try:
        if xp is np:
            import scipy  # type: ignore[import-untyped]
            import scipy.linalg as sla  # type: ignore[import-untyped]

            sla_version = scipy.__version__
        else:
            import cupyx.scipy.linalg as sla  # type: ignore[import-not-found]
    except ImportError:
        sla = None

    def per_matrix(fn: Any, *arrays: Any) -> Any:
        # LAPACK wrappers that take one matrix at a time: loop over the flattened batch
        batch = arrays[0].shape[:-2]
        flat = [a.reshape((-1,) + a.shape[-2:]) for a in arrays]
        outs = [fn(*(f[i] for f in flat)) for i in range(flat[0].shape[0])]
        if isinstance(outs[0], tuple):
            return tuple(xp.stack([o[j] for o in outs]).reshape(batch + outs[0][j].shape) for j in range(2))
        return xp.stack(outs).reshape(batch + outs[0].shape)

    def batched(fn: Any, *arrays: Any) -> Any:
        if arrays[0].ndim == 2:
            return fn(*arrays)
        if xp is np and tuple(int(v) for v in sla_version.split(".")[:2]) >= (1, 15):
            return fn(*arrays)  # SciPy 1.15+ batches its linalg functions
        return per_matrix(fn, *arrays)

    def cholesky_by_columns(a: Any) -> tuple[Any, Any]:
        # the failing case: the column algorithm finds the first minor that is not positive-definite
        n = a.shape[-1]
        L = xp.zeros_like(a)
        info = xp.zeros(a.shape[:-2], dtype=np.int32)
        for j in range(n):
            r = L[..., j, :j]
            d = a[..., j, j] - (r * r).sum(-1)
            info = xp.where(~(d > 0) & (info == 0), j + 1, info).astype(np.int32)
            ljj = xp.sqrt(xp.where(d > 0, d, xp.nan))
            L[..., j, j] = ljj
            c = a[..., j + 1 :, j] - (L[..., j + 1 :, :j] @ r[..., None])[..., 0]
            L[..., j + 1 :, j] = c / ljj[..., None]
        return L, info

    def cholesky(a: Any) -> tuple[Any, Any]:
        try:
            with np.errstate(all="ignore"):
                L = xp.linalg.cholesky(a)
            ok = bool(xp.isfinite(L).all())  # CuPy returns NaN where numpy raises
        except np.linalg.LinAlgError:
            ok = False
        if not ok:
            return cholesky_by_columns(a)
        return L, xp.zeros(a.shape[:-2], dtype=np.int32)

    kernels: dict[str, Any] = {"linalg_cholesky": cholesky}
    if sla is None:
        return kernels

    def lu_one(a: Any) -> tuple[Any, Any]:
        return sla.lu_factor(a, check_finite=False)

    def lu_factor(a: Any) -> tuple[Any, Any, Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the singular-matrix warning: info says it
            LU, piv = batched(lu_one, a)
        zero = xp.diagonal(LU, axis1=-2, axis2=-1) == 0
        info = xp.where(zero.any(-1), zero.argmax(-1) + 1, 0).astype(np.int32)
        return LU, piv.astype(np.int64) + 1, info

    def trsolve(a: Any, b: Any, upper: bool, unit: bool) -> Any:
        def one(a1: Any, b1: Any) -> Any:
            return sla.solve_triangular(a1, b1, lower=not upper, unit_diagonal=unit, check_finite=False)

        try:
            return batched(one, a, b)
        except np.linalg.LinAlgError:  # a zero on the diagonal: substitution gives PyTorch's inf/NaN
            return trsolve_by_rows(a, b, upper, unit)

    def trsolve_by_rows(a: Any, b: Any, upper: bool, unit: bool) -> Any:
        n = a.shape[-1]
        x = xp.zeros_like(b)
        with np.errstate(all="ignore"):
            for i in range(n - 1, -1, -1) if upper else range(n):
                done = slice(i + 1, n) if upper else slice(0, i)
                rhs = b[..., i, :] - (a[..., i : i + 1, done] @ x[..., done, :])[..., 0, :]
                x[..., i, :] = rhs if unit else rhs / a[..., i, i][..., None]
        return x

    kernels["linalg_lu_factor"] = lu_factor
    kernels["linalg_solve_triangular"] = trsolve
    return kernels


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _np_lu(a: Any) -> tuple[Any, Any]:
    """Reference LU with partial pivoting (LAPACK's getrf, one column at a time): (LU, 1-based pivots)."""
    import numpy as np

    lu = np.array(a, dtype=np.float64)
    m, n = lu.shape[-2:]
    k = min(m, n)
    piv = np.zeros(lu.shape[:-2] + (k,), dtype=np.int64)
    for idx in np.ndindex(*lu.shape[:-2]):
        M = lu[idx]
        for j in range(k):
            p = j + int(np.argmax(np.abs(M[j:, j])))
            piv[idx + (j,)] = p + 1
            M[[j, p]] = M[[p, j]]
            if M[j, j] != 0:
                M[j + 1 :, j] /= M[j, j]
            M[j + 1 :, j + 1 :] -= np.outer(M[j + 1 :, j], M[j, j + 1 :])
    return lu.astype(a.dtype), piv


# the sample builders and error samples the linalg records share (solvers' and products' too)
def _well(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    import numpy as np

    from ..ops.samples import rand_array

    # diagonally dominant: invertible and well conditioned
    a = rand_array(rng, shape, dtype, -1, 1)
    return (a + shape[-1] * np.eye(shape[-1], dtype=dtype)).astype(dtype) if shape[-1] else a


def _square_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
    from ..ops.samples import Sample

    return [
        Sample((_well(rng, (3, 3), dtype),)),
        Sample((_well(rng, (2, 4, 4), dtype),)),
        Sample((_well(rng, (1, 1), dtype),)),
        Sample((_well(rng, (2, 1, 3, 3), dtype),), noncontig=True),
        Sample((_well(rng, (0, 3, 3), dtype),), grad=False),
        Sample((_well(rng, (2, 0, 0), dtype),), grad=False),
    ]


def _np_solve(a: np.ndarray, b: np.ndarray, left: bool = True) -> np.ndarray:
    import numpy as np

    vec = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    b2 = b[..., None] if vec else b
    if left:
        x = np.linalg.inv(a) @ b2
    else:
        x = b2 @ np.linalg.inv(a)
    return x[..., 0] if vec else x


_SQ = "must be a batch of square matrices, got shape \\(2, 3\\)"
_AS_INT = "has dtype ember.int64, but linalg supports float32 and float64; cast it first"


def _square_errors(op: str) -> tuple[ErrorSample, ...]:
    import numpy as np

    from ..ops.samples import ErrorSample

    return (
        ErrorSample((np.ones((2, 3)),), {}, ValueError, f"linalg.{op}: A {_SQ}"),
        ErrorSample((np.ones((3, 3), dtype=np.int64),), {}, TypeError, f"linalg.{op}: A {_AS_INT}"),
        ErrorSample((np.ones(3),), {}, ValueError, f"linalg.{op}: A must be a matrix or a batch"),
    )


def _records() -> None:
    import numpy as np

    from ..ops import _install_methods
    from ..ops.records import OpRecord, register
    from ..ops.samples import ErrorSample, Sample, rand_array

    def general_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample((rand_array(rng, (3, 3), dtype, -1, 1),)),
            Sample((rand_array(rng, (2, 4, 4), dtype, -1, 1),)),
            Sample((rand_array(rng, (2, 3, 5), dtype, -1, 1),)),
            Sample((rand_array(rng, (4, 2), dtype, -1, 1),)),
            Sample((rand_array(rng, (1, 1), dtype, -1, 1),)),
            Sample((rand_array(rng, (3, 4, 4), dtype, -1, 1),), noncontig=True),
            Sample((rand_array(rng, (0, 3, 3), dtype, -1, 1),), grad=False),
        ]

    def spd(x: Any) -> Any:  # X X^T + n I: symmetric positive-definite from any square X
        n = x.shape[-1]
        if isinstance(x, np.ndarray):
            return x @ np.swapaxes(x, -1, -2) + n * np.eye(n, dtype=x.dtype)
        return matmul(x, x.mT) + n * _eye(n, x)

    def tri_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def b(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -1, 1)

        return [
            Sample((_well(rng, (3, 3), dtype), b(3, 2)), {"upper": True}),
            Sample((_well(rng, (2, 4, 4), dtype), b(2, 4, 3)), {"upper": False}),
            Sample((_well(rng, (2, 1, 3, 3), dtype), b(4, 3, 2)), {"upper": True, "unitriangular": True}),
            Sample((_well(rng, (3, 3), dtype), b(2, 3)), {"upper": False, "left": False}),
            Sample(
                (_well(rng, (2, 3, 3), dtype), b(2, 1, 3)),
                {"upper": True, "left": False, "unitriangular": True},
            ),
            Sample((_well(rng, (4, 4), dtype), b(4, 2)), {"upper": False}, noncontig=True),
            Sample((_well(rng, (0, 2, 2), dtype), b(0, 2, 1)), {"upper": True}, grad=False),
        ]

    def np_tri(a: np.ndarray, b: np.ndarray, upper: bool, left: bool = True, unitriangular: bool = False):
        t = np.triu(a, 1 if unitriangular else 0) if upper else np.tril(a, -1 if unitriangular else 0)
        if unitriangular:
            t = t + np.eye(a.shape[-1], dtype=a.dtype)
        return np.linalg.inv(t) @ b if left else b @ np.linalg.inv(t)

    def lu_flat(LU: Tensor, piv: Tensor, *rest: Tensor) -> Tensor:
        from ..ops.joining import cat

        parts = [LU.flatten(-2), piv.to(LU.dtype)] + [r.to(LU.dtype).unsqueeze(-1) for r in rest]
        return cat(parts, -1)

    def np_lu_flat(a: np.ndarray, info: bool = False) -> np.ndarray:
        lu, piv = _np_lu(a)
        parts = [lu.reshape(lu.shape[:-2] + (lu.shape[-2] * lu.shape[-1],)), piv.astype(a.dtype)]
        if info:
            parts.append(np.zeros(a.shape[:-2] + (1,), dtype=a.dtype))
        return np.concatenate(parts, -1)

    def lu_solve_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def b(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -1, 1)

        return [
            Sample((_well(rng, (3, 3), dtype), b(3, 2))),
            Sample((_well(rng, (2, 4, 4), dtype), b(2, 4, 3)), {"adjoint": True}),
            Sample((_well(rng, (2, 1, 3, 3), dtype), b(4, 3, 1))),
            Sample((_well(rng, (3, 3), dtype), b(2, 3)), {"left": False}),
            Sample((_well(rng, (2, 3, 3), dtype), b(2, 2, 3)), {"left": False, "adjoint": True}),
            Sample((_well(rng, (1, 1), dtype), b(1, 1))),
            Sample((_well(rng, (4, 4), dtype), b(4, 2)), noncontig=True),
            Sample((_well(rng, (0, 3, 3), dtype), b(0, 3, 2)), grad=False),
        ]

    register(
        OpRecord(
            "linalg.cholesky",
            cholesky,
            _square_samples,
            lambda x, upper=False: (lambda L: np.swapaxes(L, -1, -2) if upper else L)(
                np.linalg.cholesky(spd(x))
            ),
            call=lambda x, upper=False: cholesky(spd(x), upper=upper),
            kernel="linalg_cholesky",
            methods=("cholesky",),
            atol=1e-4,
            errors=_square_errors("cholesky"),
        ),
        OpRecord(
            "linalg.cholesky_ex",
            cholesky_ex,
            _square_samples,
            lambda x: np.linalg.cholesky(spd(x)),
            call=lambda x: (lambda r: r.L + r.info.to(x.dtype).unsqueeze(-1).unsqueeze(-1))(
                cholesky_ex(spd(x))
            ),
            atol=1e-4,
            errors=_square_errors("cholesky_ex"),
        ),
        OpRecord(
            "linalg.lu_factor",
            lu_factor,
            general_samples,
            np_lu_flat,
            call=lambda x: lu_flat(*lu_factor(x)),
            kernel="linalg_lu_factor",
            atol=1e-4,
            errors=(
                ErrorSample((np.ones(3),), {}, ValueError, "linalg.lu_factor: A must be a matrix or a batch"),
                ErrorSample(
                    (np.ones((3, 3), dtype=np.int64),), {}, TypeError, f"linalg.lu_factor: A {_AS_INT}"
                ),
            ),
        ),
        OpRecord(
            "linalg.lu_factor_ex",
            lu_factor_ex,
            general_samples,
            lambda x: np_lu_flat(x, info=True),
            call=lambda x: lu_flat(*lu_factor_ex(x)),
            atol=1e-4,
        ),
        OpRecord(
            "linalg.lu",
            lu,
            general_samples,
            lambda x: x,
            call=lambda x: (lambda r: matmul(matmul(r.P, r.L), r.U))(lu(x)),
            atol=1e-4,
        ),
        OpRecord(
            "linalg.lu_solve",
            lu_solve,
            lu_solve_samples,
            lambda a, b, left=True, adjoint=False: _np_solve(
                np.swapaxes(a, -1, -2) if adjoint else a, b, left
            ),
            call=lambda a, b, **kw: lu_solve(*lu_factor(a), b, **kw),
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones((3, 3)), np.array([1, 2, 3]), np.ones((2, 1))),
                    {},
                    ValueError,
                    "linalg.lu_solve: B of shape \\(2, 1\\) does not fit 3 x 3 matrices",
                ),
            ),
        ),
        OpRecord(
            "linalg.solve_triangular",
            solve_triangular,
            tri_samples,
            np_tri,
            kernel="linalg_solve_triangular",
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones((2, 3, 3)), np.ones((4, 3, 1))),
                    {"upper": True},
                    ValueError,
                    "linalg.solve_triangular: the batch dims of A \\(2,\\) and B \\(4,\\) do not broadcast",
                ),
                ErrorSample(
                    (np.ones((2, 3)), np.ones((2, 1))),
                    {"upper": True},
                    ValueError,
                    f"linalg.solve_triangular: A {_SQ}",
                ),
            ),
        ),
    )
    _install_methods()


_records()
