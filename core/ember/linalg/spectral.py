"""Spectral linear algebra: the eigen, singular value and QR decompositions (``eigh``,
``eigvalsh``, ``svd``, ``svdvals``, ``qr``) and the 2, -2 and nuclear matrix norms from the
singular values; the pseudo-inverse, rank, least squares and condition number built on them are in
:mod:`ember.linalg.pseudoinverse`.

The three decompositions are optional kernels (``linalg_eigh``, ``linalg_svd``, ``linalg_qr``):
numpy and CuPy run LAPACK-class code (:func:`_array_kernels`); every other device runs core's
composites, built from existing ops and staying on the device:

* ``eigh``: cyclic Jacobi in parallel (round-robin) order, n/2 disjoint rotations per step applied
  as one batched ``G^T A G``, sweeps until the off-diagonal norm is below ``n * eps * |A|_F``;
* ``svd``: one-sided (Hestenes) Jacobi on the columns with the same order, then ``U`` from a
  Householder QR of ``A V`` (which also completes ``U`` for ``full_matrices`` and zero singular
  values);
* ``qr``: Householder reflections with LAPACK's sign convention, one column per step.

Each reads one scalar per sweep (the convergence test) and nothing else from the device. The
gradients are PyTorch's formulas (``eigh``, ``svd`` for distinct eigen/singular values; ``qr``
in reduced mode), each output with its own graph node.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any, NamedTuple

import numpy as np

from .. import dtypes as _dt
from .. import ops as _o
from ..autograd.grad_mode import no_grad
from ..ops._core import attach, has_data, needs_grad, saved_output
from ..tensor import Tensor, _make

__all__ = ["eigh", "eigvalsh", "svd", "svdvals", "qr"]

#: most Jacobi sweeps before giving up (quadratic convergence: about 6-10 are usual)
MAX_SWEEPS = 40


class EighResult(NamedTuple):
    """(eigenvalues, eigenvectors) returned by :func:`eigh`."""

    eigenvalues: Tensor
    eigenvectors: Tensor


class SVDResult(NamedTuple):
    """(U, S, Vh) returned by :func:`svd`."""

    U: Tensor
    S: Tensor
    Vh: Tensor


class QRResult(NamedTuple):
    """(Q, R) returned by :func:`qr`."""

    Q: Tensor
    R: Tensor


# -- checks ------------------------------------------------------------------------------------------
def _check_matrix(op: str, A: Any, square: bool = False, name: str = "A") -> None:
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected a tensor for {name}, got {type(A).__name__}")
    if A.dtype.name not in ("float32", "float64"):
        raise TypeError(
            f"{op}: expected a float32 or float64 tensor for {name}, got {A.dtype.name}; cast it with "
            f"{name}.double() or {name}.float()"
        )
    if A.ndim < 2:
        raise ValueError(
            f"{op}: {name} must have at least 2 dimensions (batches of matrices), got shape {A.shape}"
        )
    if square and A.shape[-1] != A.shape[-2]:
        raise ValueError(
            f"{op}: {name} must be batches of square matrices, but they are {A.shape[-2]} by "
            f"{A.shape[-1]} matrices (shape {A.shape})"
        )


def _eps(dtype: Any) -> float:
    return float(np.finfo(dtype.numpy).eps)


def _const(values: Any, like: Tensor, dtype: Any = None) -> Tensor:
    """A small host-built constant (index list, mask) on ``like``'s device."""
    return _o.tensor(np.asarray(values), dtype=dtype or like.dtype, device=like.device)


def _batch_eye(n: int, like: Tensor, batch: tuple[int, ...]) -> Tensor:
    return _o.eye(n, dtype=like.dtype, device=like.device).expand(batch + (n, n)).contiguous()


def _read_scalar(t: Tensor) -> float | None:
    """One scalar read from the device (None on a device without data)."""
    if not has_data(t):
        return None
    return float(t.item())


# -- the composites ----------------------------------------------------------------------------------
@cache
def _round_robin_perm(n: int) -> tuple[int, ...]:
    """For an even ``n``, the permutation that moves the positions after one step of the round-robin
    (circle) order in which pairs ``(2k, 2k+1)`` rotate: after the step, position ``j`` holds what
    position ``perm[j]`` held. ``n - 1`` steps meet every pair once and bring the order back."""
    half = n // 2
    circle = [0] * n
    for i in range(half):  # the circle whose pairs (c[i], c[n-1-i]) are (2i, 2i+1)
        circle[i], circle[n - 1 - i] = 2 * i, 2 * i + 1

    def order(c: list[int]) -> list[int]:
        o = [0] * n
        for i in range(half):
            o[2 * i], o[2 * i + 1] = c[i], c[n - 1 - i]
        return o

    before = order(circle)
    after = order([circle[0], circle[-1]] + circle[1:-1])
    where_before = {p: j for j, p in enumerate(before)}
    return tuple(where_before[p] for p in after)


#: the error of eigh and svd on NaN or inf (PyTorch raises too; LAPACK does not converge)
_NOT_FINITE = (
    "{op}: the algorithm failed to converge because the input matrix contained non-finite values (NaN or inf)"
)


def _sym_schur2(app: Tensor, aqq: Tensor, apq: Tensor) -> tuple[Tensor, Tensor]:
    """(c, s) of the Jacobi rotation that zeroes ``apq`` of [[app, apq], [apq, aqq]] (Golub and
    Van Loan's symSchur2), elementwise; c = 1, s = 0 exactly where apq is 0."""
    zero = apq == 0
    # clamped where tau * tau would overflow: t is below 1e-19 there, 1 / (2 tau) either way
    big = math.sqrt(float(np.finfo(apq.dtype.numpy).max)) / 2
    tau = _o.clamp((aqq - app) / (2 * _o.where(zero, 1.0, apq)), -big, big)
    t = _o.where(tau >= 0, 1.0, -1.0) / (_o.abs(tau) + _o.sqrt(1 + tau * tau))
    t = _o.where(zero, 0.0, t)
    c = _o.rsqrt(1 + t * t)
    return c, t * c


def _pad_square(a: Tensor) -> Tensor:
    """a (..., n, n) with a zero last row and column."""
    batch, n = a.shape[:-2], a.shape[-1]
    z = _o.zeros(batch + (n, 1), dtype=a.dtype, device=a.device)
    a = _o.cat([a, z], -1)
    return _o.cat([a, _o.zeros(batch + (1, n + 1), dtype=a.dtype, device=a.device)], -2)


def _unit_scale(a: Tensor) -> Tensor:
    """Per matrix of ``a`` (..., m, n), shape (..., 1, 1): the power of two that brings its largest
    magnitude into [1, 2) (1 for a zero, empty or non-finite matrix). The Jacobi iterations square
    entries, which overflows or underflows near the dtype's limits as LAPACK's unscaled loops would;
    LAPACK scales too, and a power of two scales exactly."""
    if a.numel() == 0:
        return _o.ones(a.shape[:-2] + (1, 1), dtype=a.dtype, device=a.device)
    big = _o.amax(_o.abs(a), (-2, -1), keepdim=True)
    ok = (big > 0) & _o.isfinite(big)
    limit = float(np.finfo(a.dtype.numpy).maxexp - 2)  # 2**-e stays finite and normal
    e = _o.clamp(_o.where(ok, _o.floor(_o.log2(_o.where(ok, big, 1.0))), 0.0), -limit, limit)
    return _o.exp2(-e)


def _eigh_jacobi(a: Tensor, op: str = "linalg.eigh") -> tuple[Tensor, Tensor]:
    """Eigenvalues (ascending) and eigenvectors of the symmetric ``a`` (..., n, n) by parallel
    cyclic Jacobi, from existing ops on ``a``'s device (no graph); on ``a`` scaled by
    :func:`_unit_scale`, the eigenvalues scaled back."""
    n, batch = a.shape[-1], a.shape[:-2]
    scale = _unit_scale(a)
    a = a * scale
    A = _pad_square(a) if n % 2 else a
    N = A.shape[-1]
    V = _batch_eye(N, A, batch)
    half = N // 2
    perm = _const(_round_robin_perm(N), A, _dt.int64)
    blocks = _o.eye(half, dtype=A.dtype, device=A.device).reshape(half, 1, half, 1)
    tol = (8 * N * _eps(A.dtype)) ** 2  # the rounding floor of G^T A G is a few N eps |A|
    off_diagonal = 1 - _o.eye(N, dtype=A.dtype, device=A.device)
    for sweep in range(MAX_SWEEPS + 1):
        sq = A * A
        total = _o.sum(sq, (-2, -1))
        off = _o.sum(sq * off_diagonal, (-2, -1))  # summed apart: total - diagonal would cancel
        ratio = _read_scalar(_o.amax(off / _o.clamp(total, min=float(np.finfo(A.dtype.numpy).tiny))))
        if ratio is not None and math.isnan(ratio):
            raise RuntimeError(_NOT_FINITE.format(op=op))
        if ratio is not None and ratio <= tol:
            break
        if ratio is None and sweep == 1:
            break  # a device without data: one sweep gives the shapes
        if sweep == MAX_SWEEPS:
            raise RuntimeError(
                f"{op}: the Jacobi iteration did not converge in {MAX_SWEEPS} sweeps (relative "
                f"off-diagonal norm {math.sqrt(ratio):.3g}); the input may hold values near overflow"
            )
        for _ in range(N - 1):
            d = _o.diagonal(A, 0, -2, -1)
            apq = _o.diagonal(A, 1, -2, -1)[..., 0::2]
            c, s = _sym_schur2(d[..., 0::2], d[..., 1::2], apq)
            rot = _o.stack([_o.stack([c, s], -1), _o.stack([-s, c], -1)], -2)  # (..., half, 2, 2)
            J = (rot.unsqueeze(-2) * blocks).reshape(batch + (N, N))  # block diagonal
            G = _o.index_select(J, -1, perm)  # rotate, then move to the next round's pairs
            A = _o.matmul(_o.matmul(G.mT, A), G)
            V = _o.matmul(V, G)
        A = (A + A.mT) * 0.5
    # n - 1 steps per sweep bring the order back: the padding is the last index again
    w = _o.diagonal(A, 0, -2, -1)[..., :n]
    V = V[..., :n, :n]
    w, idx = _o.sort(w / scale.squeeze(-1), -1)
    V = _o.take_along_dim(V, idx.unsqueeze(-2).expand(batch + (n, n)), -1)
    return w, V


def _rotate_pairs(X: Tensor, c: Tensor, s: Tensor, perm: Tensor) -> Tensor:
    """Columns (2k, 2k+1) of X rotated by (c_k, s_k), then moved to the next round's pairs."""
    xe, xo = X[..., 0::2], X[..., 1::2]
    c, s = c.unsqueeze(-2), s.unsqueeze(-2)
    Y = _o.stack([c * xe - s * xo, s * xe + c * xo], -1).reshape(X.shape)
    return _o.index_select(Y, -1, perm)


def _svd_jacobi(a: Tensor, full_matrices: bool, op: str = "linalg.svd") -> tuple[Tensor, Tensor, Tensor]:
    """(U, S descending, Vh) of ``a`` (..., m, n) by one-sided Jacobi; U from a Householder QR of
    ``A V`` (no graph)."""
    m, n = a.shape[-2:]
    if m < n:
        U, S, Vh = _svd_jacobi(a.mT, full_matrices, op)
        return Vh.mT, S, U.mT
    batch = a.shape[:-2]
    scale = _unit_scale(a)  # (the singular values are scaled back below)
    a = a * scale
    B = _o.cat([a, _o.zeros(batch + (m, 1), dtype=a.dtype, device=a.device)], -1) if n % 2 else a
    N = B.shape[-1]
    V = _batch_eye(N, B, batch)
    perm = _const(_round_robin_perm(N), B, _dt.int64)
    tol = 4 * max(m, N) * _eps(B.dtype)
    eps2 = _eps(B.dtype) ** 2
    for sweep in range(MAX_SWEEPS + 1):
        worst = None
        for _ in range(N - 1):
            be, bo = B[..., 0::2], B[..., 1::2]
            alpha, beta = _o.sum(be * be, -2), _o.sum(bo * bo, -2)
            gamma = _o.sum(be * bo, -2)
            both = alpha * beta
            # a pair with a column below eps * the largest column counts as converged: its cosine
            # is rounding noise (nearly dependent columns, or entries 1e-30 of the largest), and
            # rotating it further moves no singular value by more than eps * |A| (LAPACK's bound)
            big = _o.maximum(_o.amax(alpha, -1, keepdim=True), _o.amax(beta, -1, keepdim=True))
            live = (both > 0) & (_o.minimum(alpha, beta) > big * eps2)
            rel = _o.amax(_o.where(live, _o.abs(gamma) * _o.rsqrt(_o.where(live, both, 1.0)), 0.0))
            worst = rel if worst is None else _o.maximum(worst, rel)
            c, s = _sym_schur2(alpha, beta, gamma)
            B = _rotate_pairs(B, c, s, perm)
            V = _rotate_pairs(V, c, s, perm)
        # + 0 * (column norms): NaN when the input holds NaN or inf (the cosines skip such columns)
        ratio = _read_scalar(worst + 0 * (_o.sum(alpha) + _o.sum(beta)))  # type: ignore[operator]
        if ratio is not None and math.isnan(ratio):
            raise RuntimeError(_NOT_FINITE.format(op=op))
        if ratio is None or ratio <= tol:
            break
        if sweep == MAX_SWEEPS:
            raise RuntimeError(
                f"{op}: the one-sided Jacobi iteration did not converge in {MAX_SWEEPS} sweeps "
                f"(largest column cosine {ratio:.3g}); the input may hold values near overflow"
            )
    B, V = B[..., :n], V[..., :n, :n]
    S, idx = _o.sort(_o.sqrt(_o.sum(B * B, -2)) / scale.squeeze(-1), -1, descending=True)
    B = _o.take_along_dim(B, idx.unsqueeze(-2).expand(batch + (m, n)), -1)
    V = _o.take_along_dim(V, idx.unsqueeze(-2).expand(batch + (n, n)), -1)
    Q, R = _qr_householder(B, full_matrices)
    sign = _o.where(_o.diagonal(R, 0, -2, -1) < 0, -1.0, 1.0).to(B.dtype).unsqueeze(-2)
    U = _o.cat([Q[..., :n] * sign, Q[..., n:]], -1) if full_matrices and m > n else Q * sign
    return U, S, V.mT


def _qr_householder(a: Tensor, complete: bool) -> tuple[Tensor, Tensor]:
    """(Q, R) of ``a`` (..., m, n) by Householder reflections with LAPACK's signs (R[j, j] =
    -sign(a_jj) |column|; no reflection where the column is zero below the diagonal); no graph."""
    m, n = a.shape[-2:]
    batch = a.shape[:-2]
    R = a
    Q = _batch_eye(m, a, batch)
    rows = np.arange(m)
    for j in range(min(m - 1, n)):
        below = _const((rows > j).astype(np.float64), a)
        unit = _const((rows == j).astype(np.float64), a)
        # the reflection does not depend on v's scale: work on the column divided by its largest
        # entry, so that squares of tiny or huge entries neither underflow nor overflow
        col = R[..., :, j] * (below + unit)
        big = _o.amax(_o.abs(col), -1, keepdim=True)
        col = col / _o.where(big > 0, big, 1.0)
        x0 = col[..., j]
        tail = col * below
        tail2 = _o.sum(tail * tail, -1)
        norm = _o.sqrt(x0 * x0 + tail2)
        v = tail + unit * (x0 + _o.where(x0 >= 0, 1.0, -1.0) * norm).unsqueeze(-1)
        active = tail2 > 0
        scale = _o.where(active, 2 / _o.where(active, _o.sum(v * v, -1), 1.0), 0.0)
        sv = (scale.unsqueeze(-1) * v).unsqueeze(-1)  # (..., m, 1)
        R = R - sv * _o.matmul(v.unsqueeze(-2), R)
        Q = Q - _o.matmul(Q, v.unsqueeze(-1)) * sv.mT
    R = _o.triu(R)
    if not complete:
        k = min(m, n)
        Q, R = Q[..., :, :k], R[..., :k, :]
    return Q, R


# -- the decompositions (kernel or composite, no graph) ---------------------------------------------
def _wrap(buf: Any, like: Tensor) -> Tensor:
    return _make(buf, tuple(int(s) for s in buf.shape), like.dtype, like.device)


def _eigh_raw(A: Tensor, upper: bool) -> tuple[Tensor, Tensor]:
    n, batch = A.shape[-1], A.shape[:-2]
    if A.numel() == 0:
        return (
            _o.zeros(batch + (n,), dtype=A.dtype, device=A.device),
            _o.zeros(batch + (n, n), dtype=A.dtype, device=A.device),
        )
    k = A.device.kernels.get("linalg_eigh")
    if k is not None:
        w, v = k(A.contiguous()._data, upper)
        return _wrap(w, A), _wrap(v, A)
    with no_grad():
        tri = _o.triu(A) if upper else _o.tril(A)
        return _eigh_jacobi(tri + (_o.triu(A, 1) if upper else _o.tril(A, -1)).mT)


def _svd_raw(A: Tensor, full_matrices: bool) -> tuple[Tensor, Tensor, Tensor]:
    m, n = A.shape[-2:]
    batch = A.shape[:-2]
    if A.numel() == 0:
        k = min(m, n)
        um, vn = (m, n) if full_matrices else (k, k)
        return (
            _o.eye(m, um, dtype=A.dtype, device=A.device).expand(batch + (m, um)).contiguous(),
            _o.zeros(batch + (k,), dtype=A.dtype, device=A.device),
            _o.eye(vn, n, dtype=A.dtype, device=A.device).expand(batch + (vn, n)).contiguous(),
        )
    k = A.device.kernels.get("linalg_svd")
    if k is not None:
        u, s, vh = k(A.contiguous()._data, full_matrices)
        return _wrap(u, A), _wrap(s, A), _wrap(vh, A)
    with no_grad():
        return _svd_jacobi(A, full_matrices)


def _qr_raw(A: Tensor, complete: bool) -> tuple[Tensor, Tensor]:
    m, n = A.shape[-2:]
    batch = A.shape[:-2]
    if A.numel() == 0:
        k = m if complete else min(m, n)
        return (
            _o.eye(m, k, dtype=A.dtype, device=A.device).expand(batch + (m, k)).contiguous(),
            _o.zeros(batch + (k, n), dtype=A.dtype, device=A.device),
        )
    kern = A.device.kernels.get("linalg_qr")
    if kern is not None:
        q, r = kern(A.contiguous()._data, complete)
        return _wrap(q, A), _wrap(r, A)
    with no_grad():
        return _qr_householder(A, complete)


# -- gradients (PyTorch's formulas; each output has its own node, the input's gradient is their sum) -
def _eye(n: int, like: Tensor) -> Tensor:
    return _o.eye(n, dtype=like.dtype, device=like.device)


def _attach_eigh(A: Tensor, L: Tensor, V: Tensor) -> None:
    """Nodes for eigh's outputs: gA = V diag(gL) V^T and V (skew(V^T gV) / (L_j - L_i)) V^T."""
    La, Va = saved_output(L), saved_output(V)
    n = L.shape[-1]

    def grad_values(gL: Tensor) -> tuple[Tensor]:
        return (_o.matmul(Va, gL.unsqueeze(-1) * Va.mT),)

    def grad_vectors(gV: Tensor) -> tuple[Tensor]:
        VtgV = _o.matmul(Va.mT, gV)
        skew = (VtgV - VtgV.mT) * 0.5
        E = La.unsqueeze(-2) - La.unsqueeze(-1) + _eye(n, La)  # L_j - L_i, 1 on the diagonal
        return (_o.matmul(_o.matmul(Va, skew / E), Va.mT),)

    attach(L, "linalg_eigh", grad_values, (A,), (La, Va))
    attach(V, "linalg_eigh", grad_vectors, (A,), (La, Va))


def _attach_svd(A: Tensor, U: Tensor, S: Tensor, Vh: Tensor) -> None:
    """Nodes for svd's outputs (PyTorch's svd_backward split by output; with full_matrices the
    extra columns of U and rows of Vh get no gradient, as in PyTorch)."""
    m, n = A.shape[-2:]
    k = min(m, n)
    Ua, Sa, Vha = saved_output(U), saved_output(S), saved_output(Vh)

    def parts() -> tuple[Tensor, Tensor, Tensor]:
        S2 = Sa * Sa
        return Ua[..., :, :k], Vha[..., :k, :], S2.unsqueeze(-2) - S2.unsqueeze(-1) + _eye(k, Sa)

    def grad_s(gS: Tensor) -> tuple[Tensor]:
        Uk, Vhk, _ = parts()
        return (_o.matmul(Uk, gS.unsqueeze(-1) * Vhk),)

    def grad_u(gU: Tensor) -> tuple[Tensor]:
        Uk, Vhk, E = parts()
        gU = gU[..., :, :k]
        UtgU = _o.matmul(Uk.mT, gU)
        inner = ((UtgU - UtgU.mT) / E) * Sa.unsqueeze(-2)
        if m > n:
            gUSinv = gU / Sa.unsqueeze(-2)
            X = _o.matmul(Uk, inner) + gUSinv - _o.matmul(Uk, _o.matmul(Uk.mT, gUSinv))
            return (_o.matmul(X, Vhk),)
        return (_o.matmul(_o.matmul(Uk, inner), Vhk),)

    def grad_vh(gVh: Tensor) -> tuple[Tensor]:
        Uk, Vhk, E = parts()
        gVh = gVh[..., :k, :]
        VtgV = _o.matmul(Vhk, gVh.mT)
        inner = Sa.unsqueeze(-1) * ((VtgV - VtgV.mT) / E)
        if m < n:
            SinvgVh = gVh / Sa.unsqueeze(-1)
            X = _o.matmul(inner, Vhk) + SinvgVh - _o.matmul(_o.matmul(SinvgVh, Vhk.mT), Vhk)
            return (_o.matmul(Uk, X),)
        return (_o.matmul(_o.matmul(Uk, inner), Vhk),)

    saved = (Ua, Sa, Vha)
    attach(U, "linalg_svd", grad_u, (A,), saved)
    attach(S, "linalg_svd", grad_s, (A,), saved)
    attach(Vh, "linalg_svd", grad_vh, (A,), saved)


def _solve_right_upper_t(G: Tensor, R: Tensor) -> Tensor:
    """X with ``X @ R^T = G`` for upper-triangular R (..., n, n): back substitution, one column
    of X per step (differentiable ops)."""
    n = R.shape[-1]
    cols: list[Tensor] = [None] * n  # type: ignore[list-item]
    for j in range(n - 1, -1, -1):
        acc = G[..., :, j]
        if j < n - 1:
            done = _o.stack(cols[j + 1 :], -1)  # (..., m, n-j-1)
            acc = acc - _o.matmul(done, R[..., j, j + 1 :].unsqueeze(-1)).squeeze(-1)
        cols[j] = acc / R[..., j, j].unsqueeze(-1)
    return _o.stack(cols, -1)


def _qr_grad_tall(gQ: Tensor | None, gR: Tensor | None, Q: Tensor, R: Tensor) -> Tensor:
    """PyTorch's linalg_qr_backward for m >= n (reduced): gA = [gQ + Q sym(triu(gR R^T - Q^T gQ))] R^-T."""
    M = None
    if gR is not None:
        M = _o.matmul(gR, R.mT)
    if gQ is not None:
        QtgQ = _o.matmul(Q.mT, gQ)
        M = -QtgQ if M is None else M - QtgQ
    Mu = _o.triu(M)  # type: ignore[arg-type]
    sym = Mu + Mu.mT - _o.diag_embed(_o.diagonal(Mu, 0, -2, -1))
    gA = _o.matmul(Q, sym)
    if gQ is not None:
        gA = gA + gQ
    return _solve_right_upper_t(gA, R)


def _qr_grad(A: Tensor, gQ: Tensor | None, gR: Tensor | None, Q: Tensor, R: Tensor) -> Tensor:
    m, n = A.shape[-2:]
    if m >= n:
        return _qr_grad_tall(gQ, gR, Q, R)
    # wide: A = [X | Y], R = [U | W] with X = Q U; Y = Q W
    Y, U = A[..., :, m:], R[..., :, :m]
    gX_q = gQ
    gY = None
    if gR is not None:
        gW = gR[..., :, m:]
        gY = _o.matmul(Q, gW)
        YgW = _o.matmul(Y, gW.mT)
        gX_q = YgW if gX_q is None else gX_q + YgW
    gX = _qr_grad_tall(gX_q, None if gR is None else gR[..., :, :m], Q, U)
    if gY is None:
        gY = _o.zeros(A.shape[:-1] + (n - m,), dtype=A.dtype, device=A.device)
    return _o.cat([gX, gY], -1)


def _attach_qr(A: Tensor, Q: Tensor, R: Tensor, mode: str) -> None:
    m, n = A.shape[-2:]
    Qa, Ra = saved_output(Q), saved_output(R)
    Ad = A.detach()

    def refuse() -> None:
        if mode == "r":
            raise RuntimeError(
                "linalg.qr: the derivative of linalg.qr depends on Q, which is not computed when "
                "mode='r'. Use linalg.qr(A, mode='reduced') to differentiate through linalg.qr"
            )
        if mode == "complete" and m > n:
            raise RuntimeError(
                f"linalg.qr: the QR decomposition is not differentiable when mode='complete' and nrows > "
                f"ncols (A is {m} by {n}); use mode='reduced'"
            )

    def grad_q(gQ: Tensor) -> tuple[Tensor]:
        refuse()
        return (_qr_grad(Ad, gQ, None, Qa, Ra),)

    def grad_r(gR: Tensor) -> tuple[Tensor]:
        refuse()
        return (_qr_grad(Ad, None, gR, Qa, Ra),)

    if mode != "r":
        attach(Q, "linalg_qr", grad_q, (A,), (Qa, Ra))
    attach(R, "linalg_qr", grad_r, (A,), (Qa, Ra))


# -- public functions ---------------------------------------------------------------------------------
def _upper(op: str, UPLO: Any) -> bool:
    if UPLO not in ("L", "U"):
        raise ValueError(f"{op}: UPLO must be 'L' or 'U', got {UPLO!r}")
    return UPLO == "U"


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and orthonormal eigenvectors (the columns) of the symmetric
    matrices ``A`` (..., n, n), reading only the lower (``UPLO='L'``) or upper triangle.

    Differentiable (PyTorch's formula; the eigenvector gradient divides by eigenvalue gaps, so it
    is defined for distinct eigenvalues and for losses that do not depend on the eigenvectors'
    signs)."""
    op = "linalg.eigh"
    upper = _upper(op, UPLO)
    _check_matrix(op, A, square=True)
    L, V = _eigh_raw(A.detach(), upper)
    if needs_grad(A):
        _attach_eigh(A, L, V)
    return EighResult(L, V)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """Eigenvalues (ascending) of the symmetric matrices ``A`` (..., n, n); differentiable
    (gradient ``V diag(g) V^T``)."""
    op = "linalg.eigvalsh"
    upper = _upper(op, UPLO)
    _check_matrix(op, A, square=True)
    L, V = _eigh_raw(A.detach(), upper)
    if needs_grad(A):
        _attach_eigh(A, L, V)
    return L


def svd(A: Tensor, full_matrices: bool = True) -> SVDResult:
    """Singular value decomposition ``A = U diag(S) Vh`` of ``A`` (..., m, n): S descending; with
    ``full_matrices`` U is (..., m, m) and Vh (..., n, n), else (..., m, k) and (..., k, n) with
    k = min(m, n).

    Differentiable (PyTorch's formula: U and Vh for distinct singular values, and losses that do
    not depend on the singular vectors' signs; S always)."""
    op = "linalg.svd"
    _check_matrix(op, A)
    U, S, Vh = _svd_raw(A.detach(), bool(full_matrices))
    if needs_grad(A):
        _attach_svd(A, U, S, Vh)
    return SVDResult(U, S, Vh)


def svdvals(A: Tensor) -> Tensor:
    """Singular values (descending) of ``A`` (..., m, n); differentiable (``U diag(g) Vh``)."""
    _check_matrix("linalg.svdvals", A)
    U, S, Vh = _svd_raw(A.detach(), False)
    if needs_grad(A):
        _attach_svd(A, U, S, Vh)
    return S


def qr(A: Tensor, mode: str = "reduced") -> QRResult:
    """QR decomposition ``A = Q R`` of ``A`` (..., m, n) by Householder reflections, R's diagonal
    signs as LAPACK gives them. ``mode``: ``'reduced'`` (Q (..., m, k), R (..., k, n), k =
    min(m, n)), ``'complete'`` (Q (..., m, m), R (..., m, n)) or ``'r'`` (R only; Q is an empty
    tensor).

    Differentiable (PyTorch's formula) in modes 'reduced', and 'complete' when m <= n."""
    op = "linalg.qr"
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"{op}: mode must be 'reduced' (default), 'complete' or 'r', got {mode!r}")
    _check_matrix(op, A)
    Q, R = _qr_raw(A.detach(), mode == "complete")
    if mode == "r":
        Q = _o.zeros((0,), dtype=A.dtype, device=A.device)
    if needs_grad(A):
        _attach_qr(A, Q, R, mode)
    return QRResult(Q, R)


def _spectral_matrix_norm(
    x: Tensor, ord: Any, dim: tuple[int, int] = (-2, -1), keepdim: bool = False
) -> Tensor:
    """The matrix norms from the singular values, for ``matrix_norm``: ord 2 (the largest), -2
    (the smallest) or 'nuc' (their sum), over the two dims ``dim``; differentiable."""
    if ord not in (2, -2, "nuc"):
        raise ValueError(f"linalg.matrix_norm: _spectral_matrix_norm takes ord 2, -2 or 'nuc', got {ord!r}")
    from ..ops._core import wrap_dim

    d0, d1 = (wrap_dim(d, x.ndim, "linalg.matrix_norm") for d in dim)
    if d0 == d1:
        raise ValueError(f"linalg.matrix_norm: dim must name two different dimensions, got {tuple(dim)}")
    S = svdvals(_o.movedim(x, (d0, d1), (-2, -1)))
    out = S[..., 0] if ord == 2 else S[..., -1] if ord == -2 else _o.sum(S, -1)
    if keepdim:
        out = out.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
    return out


# -- kernels for array libraries ------------------------------------------------------------------------
def _array_kernels(xp: Any) -> dict[str, Any]:
    """The decompositions for array-library backends (numpy, CuPy): LAPACK (cuSOLVER) through
    ``xp.linalg``, batched over leading dims, results in the input's dtype."""

    def same(a: Any, *outs: Any) -> tuple[Any, ...]:
        return tuple(o if o.dtype == a.dtype else o.astype(a.dtype) for o in outs)

    def linalg_eigh(a: Any, upper: bool) -> tuple[Any, Any]:
        try:
            return same(a, *xp.linalg.eigh(a, UPLO="U" if upper else "L"))
        except xp.linalg.LinAlgError:  # syevd fails on NaN and inf only
            raise RuntimeError(_NOT_FINITE.format(op="linalg.eigh")) from None

    def linalg_svd(a: Any, full_matrices: bool) -> tuple[Any, Any, Any]:
        # gesdd may never return on inf (OpenBLAS): refuse non-finite input first (one bool read)
        if not bool(xp.isfinite(a).all()):
            raise RuntimeError(_NOT_FINITE.format(op="linalg.svd"))
        return same(a, *xp.linalg.svd(a, full_matrices=full_matrices))

    def linalg_qr(a: Any, complete: bool) -> tuple[Any, Any]:
        return same(a, *xp.linalg.qr(a, mode="complete" if complete else "reduced"))

    return {"linalg_eigh": linalg_eigh, "linalg_svd": linalg_svd, "linalg_qr": linalg_qr}


# -- matrices for the records (shared with ember.linalg.pseudoinverse's) ---------------------------
def _orth(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)


def _spaced(rng: np.random.Generator, k: int) -> np.ndarray:
    """k values at least 0.5 apart, in [-3, 3] (eigen/singular value gaps for stable vectors)."""
    return rng.permutation(np.linspace(-0.25 * k, 0.25 * k, k) + rng.uniform(-0.1, 0.1, k))


def _symmetric(rng: np.random.Generator, dtype: str, batch: tuple[int, ...], n: int) -> np.ndarray:
    out = np.empty(batch + (n, n))
    for idx in np.ndindex(*batch):
        q = _orth(rng, n)
        out[idx] = (q * _spaced(rng, n)) @ q.T
    return ((out + np.swapaxes(out, -1, -2)) / 2).astype(dtype)


def _general(rng: np.random.Generator, dtype: str, batch: tuple[int, ...], m: int, n: int) -> np.ndarray:
    """Matrices with distinct singular values well apart (1, 1.5, 2, ...)."""
    k = min(m, n)
    out = np.empty(batch + (m, n))
    for idx in np.ndindex(*batch):
        s = 1 + 0.5 * rng.permutation(k)
        out[idx] = (_orth(rng, m)[:, :k] * s) @ _orth(rng, n)[:, :k].T
    return out.astype(dtype)


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    """Register the op records of this module's public functions (and of the three composites,
    called directly so that devices with the kernels check them too). Eigenvectors, singular
    vectors and Q are compared through sign-free quantities (squares, products)."""
    from ..ops.records import OpRecord, register
    from ..ops.samples import ErrorSample, Sample

    def flat(nb: int, *parts: Any) -> Any:
        """Concatenate the parts (tensors or numpy arrays), each flattened after its ``nb`` batch dims."""
        flats = [p.reshape(tuple(p.shape[:nb]) + (math.prod(p.shape[nb:]),)) for p in parts]
        return _o.cat(flats, -1) if isinstance(parts[0], Tensor) else np.concatenate(flats, -1)

    def sym(a: Tensor) -> Tensor:  # gradchecks perturb one entry: read both triangles
        return (a + a.mT) * 0.5

    # -- eigh, eigvalsh -------------------------------------------------------------------------
    def eigh_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def s(*shape: int) -> np.ndarray:
            return _symmetric(rng, dtype, shape[:-1], shape[-1])

        tri = np.tril(s(4, 4)) + np.triu(rng.uniform(-5, 5, (4, 4)), 1).astype(dtype)  # junk above
        return [
            Sample((s(3, 3),)),
            # (batched gradients are compared with torch's by tests/test_linalg_spectral_torch_parity.py
            # on the kernel and the composite; finite differences through a device's Jacobi
            # composite took most of a minute of the opencl kit)
            Sample((s(2, 4, 4),), grad=False),
            Sample((s(1, 1),)),
            Sample((s(2, 1, 5, 5),), grad=False),
            Sample((s(0, 3, 3),), grad=False),
            Sample((s(0, 0),), grad=False),
            Sample((s(4, 4),), noncontig=True),
            Sample((s(6, 6),), grad=False),
            Sample((tri,), {"symmetrize": False}, grad=False),
            Sample((np.ascontiguousarray(tri.T),), {"UPLO": "U", "symmetrize": False}, grad=False),
        ]

    def eigh_call(a: Tensor, UPLO: str = "L", symmetrize: bool = True) -> Tensor:
        w, V = eigh(sym(a) if symmetrize else a, UPLO)
        return flat(w.ndim - 1, w, V * V)

    def eigh_ref(a: np.ndarray, UPLO: str = "L", symmetrize: bool = True) -> np.ndarray:
        if a.shape[-1] == 0:
            return np.zeros(a.shape[:-1], a.dtype)
        w, V = np.linalg.eigh(a, UPLO=UPLO)
        return flat(w.ndim - 1, w, V * V)

    def eigvalsh_call(a: Tensor, UPLO: str = "L", symmetrize: bool = True) -> Tensor:
        return eigvalsh(sym(a) if symmetrize else a, UPLO)

    def eigvalsh_ref(a: np.ndarray, UPLO: str = "L", symmetrize: bool = True) -> np.ndarray:
        return np.linalg.eigvalsh(a, UPLO=UPLO) if a.shape[-1] else np.zeros(a.shape[:-1], a.dtype)

    def eigh_composite_call(a: Tensor) -> Tensor:
        w, V = _eigh_jacobi(sym(a))
        return flat(w.ndim - 1, w, V * V)

    def square_errors(op: str, fn_args: tuple = ()) -> tuple[ErrorSample, ...]:
        return (
            ErrorSample(
                (np.ones((3, 4)), *fn_args),
                {},
                ValueError,
                f"{op}: A must be batches of square matrices, but they are 3 by 4 matrices",
            ),
            ErrorSample(
                (np.ones((3, 3), dtype=np.int64), *fn_args),
                {},
                TypeError,
                f"{op}: expected a float32 or float64 tensor for A, got int64; cast it with A.double",
            ),
            ErrorSample((np.ones(3), *fn_args), {}, ValueError, f"{op}: A must have at least 2 dimensions"),
        )

    # -- svd, svdvals ---------------------------------------------------------------------------
    def svd_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def g(*shape: int) -> np.ndarray:
            return _general(rng, dtype, shape[:-2], shape[-2], shape[-1])

        return [
            Sample((g(4, 3),), {"full_matrices": False}),
            Sample((g(3, 5),), {"full_matrices": False}),
            Sample((g(2, 4, 4),), {"full_matrices": False}, grad=False),  # (batched: as eigh's)
            Sample((g(1, 1),), {"full_matrices": False}),
            Sample((g(5, 3),), grad=False),  # full_matrices=True: U's last columns are any completion
            Sample((g(2, 3, 4),), {"full_matrices": True}, grad=False),
            Sample((g(0, 3, 2),), grad=False),
            Sample((g(3, 0),), {"full_matrices": False}, grad=False),
            Sample((g(4, 5),), {"full_matrices": False}, noncontig=True),
            Sample((g(6, 6),), {"full_matrices": False}, noncontig="flip", grad=False),
        ]

    def svd_parts(U: Any, S: Any, Vh: Any, mod: Any) -> Any:
        k = S.shape[-1]
        Uk, Vhk = U[..., :, :k], Vh[..., :k, :]
        if isinstance(U, Tensor):
            eu, ev = _eye(U.shape[-1], U), _eye(Vh.shape[-2], Vh)
        else:
            eu, ev = np.eye(U.shape[-1]), np.eye(Vh.shape[-2])
        return flat(
            S.ndim - 1,
            S,
            Uk * Uk,
            Vhk * Vhk,
            mod.matmul(U.mT if isinstance(U, Tensor) else np.swapaxes(U, -1, -2), U) - eu,
            mod.matmul(Vh, Vh.mT if isinstance(Vh, Tensor) else np.swapaxes(Vh, -1, -2)) - ev,
        )

    def svd_call(a: Tensor, full_matrices: bool = True) -> Tensor:
        return svd_parts(*svd(a, full_matrices), _o)

    def svd_ref(a: np.ndarray, full_matrices: bool = True) -> np.ndarray:
        m, n = a.shape[-2:]
        if 0 in a.shape:
            k = min(m, n)
            um, vn = (m, n) if full_matrices else (k, k)
            U = np.broadcast_to(np.eye(m, um), a.shape[:-2] + (m, um))
            Vh = np.broadcast_to(np.eye(vn, n), a.shape[:-2] + (vn, n))
            return svd_parts(U, np.zeros(a.shape[:-2] + (k,)), Vh, np).astype(a.dtype)
        return svd_parts(*np.linalg.svd(a, full_matrices=full_matrices), np)

    def svd_composite_call(a: Tensor, full_matrices: bool = True) -> Tensor:
        return svd_parts(*_svd_jacobi(a, full_matrices), _o)

    def svdvals_ref(a: np.ndarray, **_: Any) -> np.ndarray:
        if 0 in a.shape:
            return np.zeros(a.shape[:-2] + (min(a.shape[-2:]),), a.dtype)
        return np.linalg.svd(a, compute_uv=False)

    def svdvals_call(a: Tensor, full_matrices: bool = True) -> Tensor:
        return svdvals(a)

    # -- qr ---------------------------------------------------------------------------------------
    def qr_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def g(*shape: int) -> np.ndarray:
            return _general(rng, dtype, shape[:-2], shape[-2], shape[-1])

        return [
            Sample((g(4, 3),)),
            Sample((g(2, 3, 3),)),
            Sample((g(3, 5),)),
            Sample((g(1, 1),)),
            Sample((g(5, 3),), {"mode": "complete"}, grad=False),
            Sample((g(3, 4),), {"mode": "complete"}),
            Sample((g(2, 4, 3),), {"mode": "r"}, grad=False),
            Sample((g(0, 3, 2),), grad=False),
            Sample((g(3, 0),), grad=False),
            Sample((g(5, 4),), noncontig=True),
            Sample((g(4, 4),), noncontig="flip", grad=False),
        ]

    def qr_parts(Q: Any, R: Any, mode: str, mod: Any) -> Any:
        if mode == "r":
            return flat(R.ndim - 2, R * R)
        Qt = Q.mT if isinstance(Q, Tensor) else np.swapaxes(Q, -1, -2)
        eq = _eye(Q.shape[-1], Q) if isinstance(Q, Tensor) else np.eye(Q.shape[-1])
        return flat(R.ndim - 2, mod.matmul(Q, R), mod.matmul(Qt, Q) - eq, R * R)

    def qr_call(a: Tensor, mode: str = "reduced") -> Tensor:
        return qr_parts(*qr(a, mode), mode, _o)

    def qr_ref(a: np.ndarray, mode: str = "reduced") -> np.ndarray:
        m, n = a.shape[-2:]
        if 0 in a.shape:
            k = m if mode == "complete" else min(m, n)
            Q = np.broadcast_to(np.eye(m, k), a.shape[:-2] + (m, k))
            return qr_parts(Q, np.zeros(a.shape[:-2] + (k, n)), mode, np).astype(a.dtype)
        Q, R = np.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
        return qr_parts(Q, R, mode, np)

    def qr_composite_call(a: Tensor, mode: str = "reduced") -> Tensor:
        if 0 in a.shape:
            return qr_call(a, mode)
        return qr_parts(*_qr_householder(a, mode == "complete"), mode, _o)

    register(
        OpRecord(
            "linalg.eigh",
            eigh,
            eigh_samples,
            eigh_ref,
            call=eigh_call,
            kernel="linalg_eigh",
            errors=square_errors("linalg.eigh")
            + (
                ErrorSample(
                    (np.eye(2), "X"), {}, ValueError, "linalg.eigh: UPLO must be 'L' or 'U', got 'X'"
                ),
            ),
        ),
        OpRecord(
            "linalg.eigvalsh",
            eigvalsh,
            eigh_samples,
            eigvalsh_ref,
            call=eigvalsh_call,
            errors=square_errors("linalg.eigvalsh"),
        ),
        OpRecord(
            "linalg.eigh_composite",
            eigh,
            lambda dtype, rng: [s for s in eigh_samples(dtype, rng)[:8] if 0 not in s.args[0].shape],
            eigh_ref,
            call=eigh_composite_call,
            grad=False,  # the gradient formulas do not depend on the path; linalg.eigh checks them
            public=False,
        ),
        OpRecord(
            "linalg.svd",
            svd,
            svd_samples,
            svd_ref,
            call=svd_call,
            kernel="linalg_svd",
            errors=(
                ErrorSample((np.ones(3),), {}, ValueError, "linalg.svd: A must have at least 2 dimensions"),
                ErrorSample(
                    (np.ones((2, 2), dtype=np.int32),),
                    {},
                    TypeError,
                    "linalg.svd: expected a float32 or float64 tensor for A, got int32",
                ),
            ),
        ),
        OpRecord(
            "linalg.svd_composite",
            svd,
            lambda dtype, rng: [s for s in svd_samples(dtype, rng) if 0 not in s.args[0].shape],
            svd_ref,
            call=svd_composite_call,
            grad=False,
            public=False,
        ),
        OpRecord(
            "linalg.svdvals",
            svdvals,
            svd_samples,
            svdvals_ref,
            call=svdvals_call,
            errors=(
                ErrorSample(
                    (np.ones(3),), {}, ValueError, "linalg.svdvals: A must have at least 2 dimensions"
                ),
            ),
        ),
        OpRecord(
            "linalg.qr",
            qr,
            qr_samples,
            qr_ref,
            call=qr_call,
            kernel="linalg_qr",
            errors=(
                ErrorSample(
                    (np.ones((3, 3)), "x"),
                    {},
                    ValueError,
                    "linalg.qr: mode must be 'reduced' \\(default\\), 'complete' or 'r', got 'x'",
                ),
                ErrorSample(
                    (np.ones((2, 2), dtype=np.int64),),
                    {},
                    TypeError,
                    "linalg.qr: expected a float32 or float64",
                ),
            ),
        ),
        OpRecord(
            "linalg.qr_composite",
            qr,
            qr_samples,
            qr_ref,
            call=qr_composite_call,
            grad=False,
            public=False,
        ),
    )


_records()
