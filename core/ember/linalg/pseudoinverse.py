"""The pseudo-inverse and what shares its singular-value cutoff: ``pinv``, ``matrix_rank``,
``lstsq`` and ``cond`` (PyTorch's ``torch.linalg`` names, arguments, defaults and result tuples).
All are built on the eigen and singular value decompositions of :mod:`ember.linalg.spectral`
(kernel or composite): ``pinv`` inverts the singular values above ``max(atol, rtol * S_max)``
(the absolute eigenvalues when ``hermitian``), ``matrix_rank`` counts them, ``lstsq`` is the
SVD-based solution of LAPACK's 'gelsd' (``pinv(A) @ B`` with ``rcond``), and ``cond`` is
``S_max / S_min`` or ``norm(A) * norm(inv(A))``. ``pinv`` and ``lstsq`` are differentiable
(PyTorch's pinv_backward), ``cond`` through ``svdvals`` and ``inv``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from .. import dtypes as _dt
from .. import ops as _o
from ..autograd.grad_mode import no_grad
from ..ops._core import attach, has_data, needs_grad, saved_output
from ..tensor import Tensor
from .spectral import _check_matrix, _eigh_raw, _eps, _general, _svd_raw, _symmetric, svdvals

__all__ = ["pinv", "matrix_rank", "lstsq", "cond"]


class LstsqResult(NamedTuple):
    """(solution, residuals, rank, singular_values) returned by :func:`lstsq`."""

    solution: Tensor
    residuals: Tensor
    rank: Tensor
    singular_values: Tensor


def _pinv_grad(g: Tensor, P: Tensor, A: Tensor) -> Tensor:
    """PyTorch's pinv_backward."""
    m, n = A.shape[-2:]
    Pt, gt = P.mT, g.mT
    mm = _o.matmul
    if m <= n:
        K = mm(gt, P)
        KPt = mm(K, Pt)
        return -mm(P, K).mT + KPt - mm(mm(A, P), KPt) + mm(mm(Pt, P), gt - mm(K, A))
    K = mm(P, gt)
    PtK = mm(Pt, K)
    return -mm(K, P).mT + mm(mm(gt - mm(A, K), P), Pt) + PtK - mm(mm(PtK, P), A)


def _tolerance(op: str, A: Tensor, smax: Tensor, atol: Any, rtol: Any) -> Tensor:
    """PyTorch's cutoff ``max(atol, rtol * smax)``: rtol defaults to ``eps * max(m, n)``, and to 0
    when a positive atol is given."""
    for name, v in (("atol", atol), ("rtol", rtol)):
        if v is not None and not isinstance(v, (int, float, Tensor)):
            raise TypeError(f"{op}: {name} must be a float or a tensor, got {type(v).__name__}")
    m, n = A.shape[-2:]
    default = _eps(A.dtype) * max(m, n)
    if rtol is None:
        if atol is None:
            rtol = default
        elif isinstance(atol, Tensor):
            rtol = _o.where(atol > 0, 0.0, default)
        else:
            rtol = 0.0 if atol > 0 else default
    cut = rtol * smax
    if atol is not None:
        cut = _o.maximum(cut, atol if isinstance(atol, Tensor) else _o.full_like(cut, float(atol)))
    return cut


def _pinv(op: str, A: Tensor, atol: Any, rtol: Any, hermitian: bool) -> tuple[Tensor, Tensor]:
    """(pinv(A) with its gradient node, the singular values (absolute eigenvalues when
    hermitian) without graph)."""
    m, n = A.shape[-2:]
    Ad = A.detach()
    if A.numel() == 0:
        P = _o.zeros(A.shape[:-2] + (n, m), dtype=A.dtype, device=A.device)
        S = _o.zeros(A.shape[:-2] + (min(m, n),), dtype=A.dtype, device=A.device)
    else:
        with no_grad():
            if hermitian:
                w, V = _eigh_raw(Ad, False)
                S = _o.abs(w)
                cut = _tolerance(op, Ad, _o.amax(S, -1), atol, rtol).unsqueeze(-1)
                winv = _o.where(S > cut, 1 / _o.where(S > cut, w, 1.0), 0.0)
                P = _o.matmul(V * winv.unsqueeze(-2), V.mT)
                S = _o.sort(S, -1, descending=True)[0]
            else:
                U, S, Vh = _svd_raw(Ad, False)
                cut = _tolerance(op, Ad, S[..., 0], atol, rtol).unsqueeze(-1)
                sinv = _o.where(S > cut, 1 / _o.where(S > cut, S, 1.0), 0.0)
                P = _o.matmul(Vh.mT * sinv.unsqueeze(-2), U.mT)
    if needs_grad(A):
        Pa = saved_output(P)
        attach(P, "linalg_pinv", lambda g: (_pinv_grad(g, Pa, Ad),), (A,), (Pa,))
    return P, S


def pinv(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """Moore-Penrose pseudo-inverse of ``A`` (..., m, n) -> (..., n, m), through the SVD (the
    eigendecomposition when ``hermitian``): singular values at most ``max(atol, rtol * S_max)``
    count as zero; ``rtol`` defaults to ``eps * max(m, n)`` (0 when a positive ``atol`` is given).
    ``atol``/``rtol`` are floats or tensors broadcasting with the batch. Differentiable
    (PyTorch's formula, exact where the rank does not change)."""
    _check_matrix("linalg.pinv", A, square=hermitian)
    return _pinv("linalg.pinv", A, atol, rtol, hermitian)[0]


def matrix_rank(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """Numerical rank of ``A`` (..., m, n), int64 (...,): the number of singular values (absolute
    eigenvalues when ``hermitian``) above ``max(atol, rtol * S_max)``, with :func:`pinv`'s
    defaults."""
    op = "linalg.matrix_rank"
    _check_matrix(op, A, square=hermitian)
    Ad = A.detach()
    if A.numel() == 0:
        return _o.zeros(A.shape[:-2], dtype=_dt.int64, device=A.device)
    with no_grad():
        S = _o.abs(_eigh_raw(Ad, False)[0]) if hermitian else _svd_raw(Ad, False)[1]
        cut = _tolerance(op, Ad, _o.amax(S, -1), atol, rtol).unsqueeze(-1)
        return _o.sum(S > cut, -1).to(_dt.int64)


_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None) -> LstsqResult:
    """Least-squares solution of ``A X = B`` (A (..., m, n), B (..., m, k) or (..., m); batch
    dims broadcast), SVD-based like LAPACK's 'gelsd' (the only driver implemented; ``driver=None``
    means it, and 'gelss' gives the same results): singular values at most ``rcond * S_max``
    count as zero (``rcond`` defaults to ``eps * max(m, n)``).

    Returns (solution, residuals, rank, singular_values) as PyTorch's 'gelsd' does: residuals are
    the squared residual norms of each column when m > n and every matrix has full rank, else an
    empty tensor. Differentiable in the solution (through the pseudo-inverse)."""
    op = "linalg.lstsq"
    if driver is not None and driver not in _LSTSQ_DRIVERS:
        raise ValueError(f"{op}: driver must be one of {_LSTSQ_DRIVERS} or None, got {driver!r}")
    if driver in ("gels", "gelsy"):
        raise ValueError(
            f"{op}: driver {driver!r} is not implemented; Ember's lstsq is SVD-based: use driver=None, "
            "'gelsd' or 'gelss'"
        )
    _check_matrix(op, A)
    if not isinstance(B, Tensor):
        raise TypeError(f"{op}: expected a tensor for B, got {type(B).__name__}")
    if B.dtype is not A.dtype:
        raise TypeError(f"{op}: A and B must have the same dtype, got {A.dtype.name} and {B.dtype.name}")
    vector = B.ndim == A.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.ndim < 2:
        raise ValueError(f"{op}: B must have at least 1 dimension, got shape {B.shape}")
    m, n = A.shape[-2:]
    if Bm.shape[-2] != m:
        raise ValueError(
            f"{op}: A has {m} rows but B has {Bm.shape[-2]} (A.shape[-2] must equal B.shape[-2]; "
            f"shapes {A.shape} and {B.shape})"
        )
    from ..layout import broadcast_shapes

    try:
        batch = broadcast_shapes(A.shape[:-2], Bm.shape[:-2])
    except ValueError:
        raise ValueError(f"{op}: the batch dims of A {A.shape} and B {B.shape} do not broadcast") from None
    Ab = A.expand(batch + (m, n))
    Bb = Bm.expand(batch + Bm.shape[-2:])
    if rcond is None:
        rcond = _eps(A.dtype) * max(m, n)
    P, S = _pinv(op, Ab, 0.0, float(rcond), False)
    X = _o.matmul(P, Bb)
    with no_grad():
        if A.numel() == 0:
            rank = _o.zeros(batch, dtype=_dt.int64, device=A.device)
        else:
            rank = _o.sum(S > float(rcond) * S[..., :1], -1).to(_dt.int64)
        full = m > n
        if full and has_data(rank):
            full = bool(_o.all(rank == n).item())
    if full:
        r = _o.matmul(Ab, X) - Bb
        residuals = _o.sum(r * r, -2)
    else:
        residuals = _o.zeros((0,), dtype=A.dtype, device=A.device)
    return LstsqResult(X.squeeze(-1) if vector else X, residuals, rank, S)


_COND_ORDS = (None, 2, -2, "fro", "nuc", math.inf, -math.inf, 1, -1)


def cond(A: Tensor, p: Any = None) -> Tensor:
    """Condition number of ``A`` (..., m, n) in the norm ``p``: None or 2 (``S_max / S_min``, any
    shape), -2 (``S_min / S_max``), or 'fro', 'nuc', inf, -inf, 1, -1 (``norm(A) * norm(inv(A))``,
    square matrices only; inf for a singular matrix, as in PyTorch). Differentiable."""
    op = "linalg.cond"
    if p not in _COND_ORDS or isinstance(p, bool):
        raise ValueError(
            f"{op}: got an invalid norm type {p!r}; p must be one of None, 2, -2, 'fro', 'nuc', inf, "
            "-inf, 1, -1"
        )
    _check_matrix(op, A, square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        S = svdvals(A)
        big, small = S[..., 0], S[..., -1]
        return small / big if p == -2 else big / small
    from . import solvers

    inverse, info = solvers.inv_ex(A)
    singular = info > 0
    inverse = _o.where(singular.unsqueeze(-1).unsqueeze(-1), 0.0, inverse)
    return _o.where(singular, math.inf, _cond_norm(A, p) * _cond_norm(inverse, p))


def _cond_norm(x: Tensor, p: Any) -> Tensor:
    """The matrix norms of :func:`cond` other than 2 and -2, over the last two dims."""
    if p == "fro":
        return _o.sqrt(_o.sum(x * x, (-2, -1)))
    if p == "nuc":
        return _o.sum(svdvals(x), -1)
    # 1 and -1: the largest and smallest column sum of |x|; inf and -inf: the same over rows
    sums = _o.sum(_o.abs(x), -2 if abs(p) == 1 else -1)
    return _o.amax(sums, -1) if p > 0 else _o.amin(sums, -1)


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    """Register the op records of this module's public functions (the matrices come from
    :mod:`ember.linalg.spectral`'s record helpers: distinct singular values well apart)."""
    from ..ops.records import OpRecord, register
    from ..ops.samples import ErrorSample, Sample

    # -- pinv, matrix_rank ------------------------------------------------------------------------
    def np_cutoff(S: np.ndarray, m: int, n: int, dtype: Any, atol: Any, rtol: Any) -> np.ndarray:
        default = np.finfo(dtype).eps * max(m, n)
        if rtol is None:
            rtol = default if atol is None else (0.0 if atol > 0 else default)
        smax = S.max(-1, keepdims=True) if S.shape[-1] else np.zeros(S.shape[:-1] + (1,))
        return np.maximum(0.0 if atol is None else atol, rtol * smax)

    def deficient(rng: np.random.Generator, dtype: str, m: int, n: int, r: int) -> np.ndarray:
        return (rng.standard_normal((m, r)) @ rng.standard_normal((r, n))).astype(dtype)

    def pinv_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def g(*shape: int) -> np.ndarray:
            return _general(rng, dtype, shape[:-2], shape[-2], shape[-1])

        return [
            Sample((g(3, 3),)),
            Sample((g(4, 2),)),
            Sample((g(2, 2, 4),)),
            Sample((g(1, 1),)),
            Sample((deficient(rng, dtype, 4, 4, 2),), grad=False),
            Sample((deficient(rng, dtype, 5, 3, 1),), {"rtol": 1e-3}, grad=False),
            Sample((g(3, 4),), {"atol": 1.2}, grad=False),  # drops the singular value 1.0
            Sample((g(3, 4),), {"atol": 0.5, "rtol": 0.5}, grad=False),
            Sample((_symmetric(rng, dtype, (2,), 4),), {"hermitian": True}, grad=False),
            Sample((g(0, 3, 2),), grad=False),
            Sample((g(4, 3),), noncontig=True),
        ]

    def pinv_ref(a: np.ndarray, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> np.ndarray:
        m, n = a.shape[-2:]
        if a.size == 0:
            return np.zeros(a.shape[:-2] + (n, m), a.dtype)
        U, S, Vh = np.linalg.svd(a.astype(np.float64), full_matrices=False)
        cut = np_cutoff(S, m, n, a.dtype, atol, rtol)
        sinv = np.where(S > cut, 1 / np.where(S > cut, S, 1), 0)
        return (np.swapaxes(Vh, -1, -2) * sinv[..., None, :]) @ np.swapaxes(U, -1, -2)

    def rank_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            *(s for s in pinv_samples(dtype, rng)),
            Sample((np.zeros((2, 3, 3), dtype),)),
            Sample((deficient(rng, dtype, 4, 4, 3),), {"hermitian": False, "atol": 0.0}),
        ]

    def rank_ref(a: np.ndarray, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> np.ndarray:
        m, n = a.shape[-2:]
        if a.size == 0:
            return np.zeros(a.shape[:-2], np.int64)
        S = np.abs(np.linalg.eigvalsh(a)) if hermitian else np.linalg.svd(a, compute_uv=False)
        return np.sum(S > np_cutoff(S, m, n, a.dtype, atol, rtol), -1).astype(np.int64)

    # -- lstsq ------------------------------------------------------------------------------------
    def lstsq_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def g(*shape: int) -> np.ndarray:
            return _general(rng, dtype, shape[:-2], shape[-2], shape[-1])

        def b(*shape: int) -> np.ndarray:
            return rng.uniform(-1, 1, shape).astype(dtype)

        return [
            Sample((g(5, 3), b(5, 2))),  # tall, full rank: residuals
            Sample((g(3, 3), b(3, 1))),
            Sample((g(3, 5), b(3, 2))),  # wide: minimum-norm solution, no residuals
            Sample((g(2, 5, 3), b(1, 5, 2)), grad=False),  # batch dims broadcast
            Sample(
                (
                    g(4, 2),
                    b(
                        4,
                    ),
                )
            ),  # a vector right-hand side
            Sample((deficient(rng, dtype, 5, 3, 2), b(5, 2)), grad=False),  # rank 2: no residuals
            Sample((g(4, 3), b(4, 2)), {"rcond": 0.6}, grad=False),  # drops the singular value 1.0
            Sample((g(4, 3), b(4, 2)), {"driver": "gelsd"}, noncontig=True),
        ]

    def lstsq_call(a: Tensor, b: Tensor, rcond: Any = None, driver: Any = None) -> Tensor:
        X, res, rank, S = lstsq(a, b, rcond, driver=driver)
        parts = [X.reshape(-1), res.reshape(-1), rank.to(a.dtype).reshape(-1)]
        if not (a.requires_grad or b.requires_grad):  # singular_values have no gradient (as in PyTorch)
            parts.append(S.reshape(-1))
        return _o.cat(parts)

    def lstsq_ref(a: np.ndarray, b: np.ndarray, rcond: Any = None, driver: Any = None) -> np.ndarray:
        vector = b.ndim == a.ndim - 1
        bm = b[..., None] if vector else b
        batch = np.broadcast_shapes(a.shape[:-2], bm.shape[:-2])
        m, n = a.shape[-2:]
        A = np.broadcast_to(a, batch + (m, n)).astype(np.float64)
        Bb = np.broadcast_to(bm, batch + bm.shape[-2:]).astype(np.float64)
        rc = np.finfo(a.dtype).eps * max(m, n) if rcond is None else rcond
        xs, ress, ranks, ss = [], [], [], []
        for idx in np.ndindex(*batch):
            x, res, rank, s = np.linalg.lstsq(A[idx], Bb[idx], rcond=rc)
            xs.append(x), ress.append(res), ranks.append(rank), ss.append(s)
        X = np.stack(xs).reshape(batch + (n, Bb.shape[-1]))
        full = m > n and all(r == n for r in ranks)
        res = np.stack(ress).reshape(batch + (Bb.shape[-1],)) if full else np.zeros(0)
        X = X[..., 0] if vector else X
        return np.concatenate(
            [X.reshape(-1), res.reshape(-1), np.asarray(ranks, float), np.stack(ss).reshape(-1)]
        )

    # -- cond ---------------------------------------------------------------------------------------
    def cond_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def g(*shape: int) -> np.ndarray:
            return _general(rng, dtype, shape[:-2], shape[-2], shape[-1])

        return [
            Sample((g(3, 3),)),
            Sample((g(2, 4, 4),), {"p": 2}),
            Sample((g(4, 2),), {"p": -2}),
            Sample((g(2, 5),)),
            Sample((g(3, 3),), noncontig=True),
        ]

    def cond_ref(a: np.ndarray, p: Any = None) -> np.ndarray:
        return np.linalg.cond(a, p)

    register(
        OpRecord(
            "linalg.pinv",
            pinv,
            pinv_samples,
            pinv_ref,
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones((3, 3), dtype=np.int64),),
                    {},
                    TypeError,
                    "linalg.pinv: expected a float32 or float64",
                ),
                ErrorSample(
                    (np.ones((3, 4)),),
                    {"hermitian": True},
                    ValueError,
                    "linalg.pinv: A must be batches of square matrices, but they are 3 by 4",
                ),
            ),
        ),
        OpRecord(
            "linalg.matrix_rank",
            matrix_rank,
            rank_samples,
            rank_ref,
            grad=False,
            errors=(
                ErrorSample(
                    (np.ones(4),), {}, ValueError, "linalg.matrix_rank: A must have at least 2 dimensions"
                ),
            ),
        ),
        OpRecord(
            "linalg.lstsq",
            lstsq,
            lstsq_samples,
            lstsq_ref,
            call=lstsq_call,
            atol=1e-4,
            reads_values=True,  # residuals are empty unless every matrix has full rank
            errors=(
                ErrorSample(
                    (np.ones((3, 3)), np.ones((4, 2))),
                    {},
                    ValueError,
                    "linalg.lstsq: A has 3 rows but B has 4",
                ),
                ErrorSample(
                    (np.ones((3, 3)), np.ones((3, 2))),
                    {"driver": "gelsy"},
                    ValueError,
                    "linalg.lstsq: driver 'gelsy' is not implemented",
                ),
                ErrorSample(
                    (np.ones((2, 3, 3)), np.ones((3, 3, 2))),
                    {},
                    ValueError,
                    "linalg.lstsq: the batch dims of A \\(2, 3, 3\\) and B \\(3, 3, 2\\) do not broadcast",
                ),
            ),
        ),
        OpRecord(
            "linalg.cond",
            cond,
            cond_samples,
            cond_ref,
            atol=1e-4,
            errors=(
                ErrorSample((np.eye(3), 3), {}, ValueError, "linalg.cond: got an invalid norm type 3"),
                ErrorSample(
                    (np.ones((2, 3)), "fro"),
                    {},
                    ValueError,
                    "linalg.cond: A must be batches of square matrices, but they are 2 by 3",
                ),
            ),
        ),
    )


_records()
