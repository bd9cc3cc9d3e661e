"""``ember.array_api.linalg``: the standard's linear algebra extension on :mod:`ember.linalg`.

Each function is Ember's (PyTorch's ``torch.linalg`` names) with the standard's signature:
``axis``/``keepdims`` for ``dim``/``keepdim``, ``rtol`` only for ``matrix_rank`` and ``pinv``,
``solve``'s ``x2`` a vector only when it is 1-D, the standard's type promotion for two arrays.
The decompositions return the standard's named tuples.

Complex arrays: :mod:`ember.linalg` works on real matrices, so ``inv``, ``pinv``, ``solve``,
``matrix_power``, ``svdvals``, ``matrix_rank`` and ``eigvalsh`` of complex matrices go through
the real matrix ``[[B, -C], [C, B]]`` of ``A = B + iC`` (a product-preserving map whose
singular values and Hermitian eigenvalues are ``A``'s, each twice); the norms go through
``abs`` or the singular values; ``cholesky`` (column by column), ``det`` and ``slogdet`` (LU
with partial pivoting) and ``qr`` (Householder reflections) are computed here with Ember's ops.
``svd`` and ``eigh`` of complex matrices are refused by Ember's linalg (no complex SVD or
Hermitian eigenvectors yet).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .. import dtypes as _dt
from .. import linalg as _linalg
from .. import ops as _ops
from ..tensor import Tensor
from ._dtypes import check_dtype, promote
from ._linalg import matmul, matrix_transpose, tensordot, vecdot
from ._manipulation import _axes, broadcast_shapes

__all__ = [
    "cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm",
    "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv", "qr", "slogdet", "solve",
    "svd", "svdvals", "tensordot", "trace", "vecdot", "vector_norm",
]  # fmt: skip


class EighResult(NamedTuple):
    """``eigh``'s result: eigenvalues in ascending order and the eigenvectors as columns."""

    eigenvalues: Tensor
    eigenvectors: Tensor


class QRResult(NamedTuple):
    """``qr``'s result."""

    Q: Tensor
    R: Tensor


class SlogdetResult(NamedTuple):
    """``slogdet``'s result: the sign and the natural log of the absolute determinant."""

    sign: Tensor
    logabsdet: Tensor


class SVDResult(NamedTuple):
    """``svd``'s result: ``x = U @ diag(S) @ Vh``."""

    U: Tensor
    S: Tensor
    Vh: Tensor


def _embed(x: Tensor) -> Tensor:
    """The real ``(2m, 2n)`` matrices ``[[B, -C], [C, B]]`` of complex ``(m, n)`` matrices
    ``B + iC``."""
    b, c = _ops.real(x), _ops.imag(x)
    return _ops.cat([_ops.cat([b, -c], -1), _ops.cat([c, b], -1)], -2)


def _unembed(y: Tensor, m: int, n: int) -> Tensor:
    """The complex ``(m, n)`` matrices whose real form :func:`_embed` gives ``y``."""
    return _ops.complex(y[..., :m, :n], y[..., m:, :n])


def _svdvals_complex(x: Tensor) -> Tensor:
    # every singular value of A appears twice among the real form's (descending): one of each pair
    return _linalg.svdvals(_embed(x))[..., 0::2]


def _cholesky_complex(x: Tensor) -> Tensor:
    """The lower Cholesky factors of Hermitian positive-definite complex matrices, column by
    column (``L[i, j] = (A[i, j] - sum_k L[i, k] conj(L[j, k])) / L[j, j]``); a matrix that is
    not positive-definite gives NaNs from the square root of a negative pivot."""
    n = x.shape[-1]
    rows = _ops.arange(n, device=x.device).reshape(n)
    cols: list[Tensor] = []
    for j in range(n):
        s = x[..., :, j]
        for c in cols:
            s = s - c * _ops.conj(c[..., j : j + 1])
        d = _ops.sqrt(_ops.real(s[..., j : j + 1]))
        cols.append(_ops.where(rows >= j, s / d, 0))
    if not cols:
        return x.clone()
    return _ops.stack(cols, -1)


def _lu_pivots(x: Tensor) -> tuple[Tensor, Tensor]:
    """The pivots of the LU factorization with partial pivoting of complex square matrices
    (the diagonal of U, ``(..., n)``) and the permutation's sign (``(...)``, +1 or -1), by
    Gaussian elimination, one column at a time."""
    n = x.shape[-1]
    rows = _ops.arange(n, device=x.device)
    sign = _ops.ones(x.shape[:-2], dtype=_dt.int64, device=x.device)
    pivots: list[Tensor] = []
    a = x
    for k in range(n):
        p = _ops.argmax(_ops.abs(a[..., k:, k]), -1) + k  # the largest magnitude in column k
        pk = p[..., None]
        perm = _ops.where(rows == k, pk, _ops.where(rows == pk, k, rows))
        a = _ops.take_along_dim(a, _ops.broadcast_to(perm[..., None], a.shape), -2)
        sign = _ops.where(p == k, sign, -sign)
        piv = a[..., k, k]
        pivots.append(piv)
        safe = _ops.where(piv == 0, 1, piv)[..., None, None]
        below = a[..., k + 1 :, :] - (a[..., k + 1 :, k : k + 1] / safe) * a[..., k : k + 1, :]
        a = _ops.cat([a[..., : k + 1, :], below], -2)
    return _ops.stack(pivots, -1), sign


def _qr_complex(x: Tensor) -> tuple[Tensor, Tensor]:
    """The complete QR factorization of complex matrices by Householder reflections
    ``H = I - 2 v v^H / (v^H v)``, one column at a time (``Q`` of shape ``(..., M, M)``, ``R``
    ``(..., M, N)`` with exact zeros below the diagonal)."""
    m, n = x.shape[-2], x.shape[-1]
    rows = _ops.arange(m, device=x.device)
    eye = (rows.reshape(m, 1) == rows.reshape(1, m)).to(x.dtype)
    q = _ops.broadcast_to(eye, (*x.shape[:-2], m, m))
    r = x
    for k in range(min(m - 1, n)):
        col = _ops.where(rows >= k, r[..., :, k], 0)
        norm = _ops.sqrt(_ops.sum(_ops.real(col * _ops.conj(col)), -1))
        x0 = col[..., k]
        mag = _ops.abs(x0)
        phase = _ops.where(mag == 0, 1, x0 / _ops.where(mag == 0, 1, mag))
        v = col + (phase * norm)[..., None] * (rows == k).to(x.dtype)  # x - alpha e_k, alpha = -phase |x|
        vv = _ops.sum(_ops.real(v * _ops.conj(v)), -1)
        scale = _ops.where(vv == 0, 0, 2 / _ops.where(vv == 0, 1, vv))[..., None, None]
        w = _ops.sum(_ops.conj(v)[..., :, None] * r, -2)  # v^H R
        r = r - scale * v[..., :, None] * w[..., None, :]
        qv = _ops.sum(q * v[..., None, :], -1)  # Q v
        q = q - scale * qv[..., :, None] * _ops.conj(v)[..., None, :]
    cols = _ops.arange(n, device=x.device)
    r = _ops.where(rows.reshape(m, 1) <= cols.reshape(1, n), r, 0)
    return q, r


def cholesky(x: Tensor, /, *, upper: bool = False) -> Tensor:
    """The Cholesky factor of symmetric (complex: Hermitian) positive-definite matrices (lower
    unless ``upper``, the conjugate transpose of the lower one)."""
    if x.dtype.is_complex:
        low = _cholesky_complex(x)
        return _ops.conj(low.mT) if upper else low
    return _linalg.cholesky(x, upper=upper)


def cross(x1: Tensor, x2: Tensor, /, *, axis: int = -1) -> Tensor:
    """The cross product of 3-element vectors along ``axis`` of the broadcast arrays."""
    a, b = promote(x1, x2, "cross")
    shape = broadcast_shapes(a.shape, b.shape)
    if not -len(shape) <= axis < len(shape) or (axis >= 0 and (a.ndim != b.ndim)):
        raise IndexError(f"cross: axis {axis} is out of range for the shapes {a.shape} and {b.shape}")
    if a.shape[axis] != 3 or b.shape[axis] != 3:
        raise ValueError(f"cross: axis {axis} must have size 3, got shapes {a.shape} and {b.shape}")
    return _linalg.cross(_ops.broadcast_to(a, shape), _ops.broadcast_to(b, shape), dim=axis)


def det(x: Tensor, /) -> Tensor:
    """The determinants of square matrices (complex ones by LU with partial pivoting)."""
    if x.dtype.is_complex:
        if x.shape[-1] == 0:
            return _ops.ones(x.shape[:-2], dtype=x.dtype, device=x.device)
        pivots, sign = _lu_pivots(x)
        return _ops.prod(pivots, -1) * sign.to(x.dtype)
    return _linalg.det(x)


def diagonal(x: Tensor, /, *, offset: int = 0) -> Tensor:
    """The diagonals (``offset`` above the main one when positive) of the last two axes."""
    return _linalg.diagonal(x, offset=offset)


def eigh(x: Tensor, /) -> EighResult:
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices."""
    w, v = _linalg.eigh(x)
    return EighResult(w, v)


def eigvalsh(x: Tensor, /) -> Tensor:
    """Eigenvalues (ascending) of symmetric (complex: Hermitian) matrices."""
    if x.dtype.is_complex:
        # the real form of a Hermitian matrix is symmetric, with each eigenvalue twice
        return _linalg.eigvalsh(_embed(x))[..., 0::2]
    return _linalg.eigvalsh(x)


def inv(x: Tensor, /) -> Tensor:
    """The inverses of square matrices."""
    if x.dtype.is_complex:
        return _unembed(_linalg.inv(_embed(x)), x.shape[-2], x.shape[-1])
    return _linalg.inv(x)


def matrix_norm(x: Tensor, /, *, keepdims: bool = False, ord: Any = "fro") -> Tensor:  # noqa: A002
    """Matrix norms over the last two axes: 'fro', 'nuc', 1, -1, 2, -2, inf or -inf (of complex
    matrices: real, from the magnitudes or the singular values)."""
    if not x.dtype.is_complex:
        return _linalg.matrix_norm(x, ord, (-2, -1), keepdims)
    if ord in ("nuc", 2, -2):
        s = _svdvals_complex(x)
        out = _ops.sum(s, -1) if ord == "nuc" else (_ops.amax(s, -1) if ord == 2 else _ops.amin(s, -1))
        return out.reshape(*out.shape, 1, 1) if keepdims else out
    return _linalg.matrix_norm(_ops.abs(x), ord, (-2, -1), keepdims)


def matrix_power(x: Tensor, n: int, /) -> Tensor:
    """Square matrices raised to the integer power ``n`` (negative: of the inverse)."""
    if x.dtype.is_complex:
        return _unembed(_linalg.matrix_power(_embed(x), n), x.shape[-2], x.shape[-1])
    return _linalg.matrix_power(x, n)


def matrix_rank(x: Tensor, /, *, rtol: float | Tensor | None = None) -> Tensor:
    """The numbers of singular values above ``rtol`` times the largest (default
    ``max(M, N) * eps``)."""
    if not x.dtype.is_complex:
        return _linalg.matrix_rank(x, rtol=rtol)
    s = _svdvals_complex(x)
    if rtol is None:
        rtol = max(x.shape[-2], x.shape[-1]) * float(_dt.finfo(x.dtype.to_real()).eps)
    if isinstance(rtol, Tensor):
        rtol = rtol[..., None]
    if s.shape[-1] == 0:
        return _ops.zeros(s.shape[:-1], dtype=_dt.int64, device=x.device)
    return _ops.sum(s > s[..., :1] * rtol, -1)


def outer(x1: Tensor, x2: Tensor, /) -> Tensor:
    """The outer product of two 1-D arrays: each element one product ``x1[i] * x2[j]``."""
    a, b = promote(x1, x2, "outer")
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"outer: expected 1-D arrays, got shapes {a.shape} and {b.shape}")
    return a.reshape(-1, 1) * b.reshape(1, -1)  # one rounding per element, as the standard's x1[i] * x2[j]


def pinv(x: Tensor, /, *, rtol: float | Tensor | None = None) -> Tensor:
    """The Moore-Penrose pseudo-inverses, singular values below ``rtol`` times the largest
    dropped."""
    if x.dtype.is_complex:
        return _unembed(_linalg.pinv(_embed(x), rtol=rtol), x.shape[-1], x.shape[-2])
    return _linalg.pinv(x, rtol=rtol)


def qr(x: Tensor, /, *, mode: str = "reduced") -> QRResult:
    """The QR decompositions (``mode`` 'reduced' or 'complete')."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: mode must be 'reduced' or 'complete', got {mode!r}")
    if x.dtype.is_complex:
        q, r = _qr_complex(x)
        if mode == "reduced":
            k = min(x.shape[-2], x.shape[-1])
            q, r = q[..., :, :k], r[..., :k, :]
        return QRResult(q, r)
    q, r = _linalg.qr(x, mode)
    return QRResult(q, r)


def slogdet(x: Tensor, /) -> SlogdetResult:
    """The signs and the logs of the absolute determinants (for complex matrices the sign is
    the determinant's phase ``det / |det|``, 0 with a logabsdet of -inf for a singular one)."""
    if x.dtype.is_complex:
        if x.shape[-1] == 0:
            one = _ops.ones(x.shape[:-2], dtype=x.dtype, device=x.device)
            return SlogdetResult(one, _ops.zeros(x.shape[:-2], dtype=x.dtype.to_real(), device=x.device))
        pivots, sign = _lu_pivots(x)
        mag = _ops.abs(pivots)
        phase = _ops.prod(_ops.where(mag == 0, 0, pivots / _ops.where(mag == 0, 1, mag)), -1)
        return SlogdetResult(phase * sign.to(x.dtype), _ops.sum(_ops.log(mag), -1))
    s, la = _linalg.slogdet(x)
    return SlogdetResult(s, la)


def solve(x1: Tensor, x2: Tensor, /) -> Tensor:
    """The solutions ``X`` of ``x1 @ X = x2``; ``x2`` is a vector only when it is 1-D, otherwise
    a stack of matrices broadcasting with ``x1``."""
    a, b = promote(x1, x2, "solve")
    if b.ndim == 1:
        if a.shape[-1] != b.shape[0]:
            raise ValueError(f"solve: x1 of shape {a.shape} and the vector x2 of shape {b.shape}")
        return solve(a, _ops.broadcast_to(b, (*a.shape[:-2], b.shape[0]))[..., None])[..., 0]
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = _ops.broadcast_to(a, (*batch, *a.shape[-2:]))
    b = _ops.broadcast_to(b, (*batch, *b.shape[-2:]))
    if a.dtype.is_complex:
        return _unembed(_linalg.solve(_embed(a), _embed(b)), a.shape[-1], b.shape[-1])
    return _linalg.solve(a, b)


def svd(x: Tensor, /, *, full_matrices: bool = True) -> SVDResult:
    """The singular value decompositions ``x = U @ diag(S) @ Vh`` (S descending)."""
    u, s, vh = _linalg.svd(x, full_matrices)
    return SVDResult(u, s, vh)


def svdvals(x: Tensor, /) -> Tensor:
    """The singular values (descending; real for complex matrices)."""
    if x.dtype.is_complex:
        return _svdvals_complex(x)
    return _linalg.svdvals(x)


def trace(x: Tensor, /, *, offset: int = 0, dtype: Any = None) -> Tensor:
    """The sums of the diagonals (``offset``) of the last two axes; integers sum in int64 unless
    ``dtype`` says otherwise."""
    if x.ndim < 2:
        raise ValueError(f"trace: expected at least 2 dimensions, got shape {x.shape}")
    d = (
        check_dtype(dtype, "trace")
        if dtype is not None
        else (x.dtype if x.dtype.is_floating_point or x.dtype.is_complex else _dt.int64)
    )
    return _ops.sum(_linalg.diagonal(x, offset=offset), -1, dtype=d)


def vector_norm(x: Tensor, /, *, axis: Any = None, keepdims: bool = False, ord: float = 2) -> Tensor:  # noqa: A002
    """Vector norms over ``axis`` (every axis when None, as one flattened vector); those of a
    complex array are its magnitudes' (real)."""
    if x.dtype.is_complex:
        x = _ops.abs(x)
    if not x.dtype.is_floating_point:
        raise TypeError(f"vector_norm: expected a floating array, got {x.dtype}")
    axes = _axes(axis, x.ndim, "vector_norm")
    if axis is not None and not axes:
        return _ops.abs(x) if ord != 0 else (x != 0).to(x.dtype)
    return _linalg.vector_norm(x, ord, axes if axis is not None else None, keepdims)
