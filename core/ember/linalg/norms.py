"""Vector and matrix norms: ``torch.linalg``'s ``vector_norm``, ``matrix_norm`` and ``norm``
(PyTorch's names, arguments and defaults). ``dtype`` casts the input first and never narrows it;
vector norms reduce with :func:`ember.ops.reduction.norm`; the matrix norms 'fro' (the vector
2-norm over both dims), 1 / -1 and inf / -inf (the max / min column or row sum of |A|) are built
from reductions, 'nuc' and 2 / -2 from the singular values of :mod:`ember.linalg.spectral`. Each is
built from differentiable ops, so gradients come with them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .. import dtypes as _dt
from ..ops._core import Tensor

__all__ = [
    "matrix_norm",
    "norm",
    "vector_norm",
]


# -- norms -------------------------------------------------------------------------------------------
def _norm_input(op: str, x: Any, dtype: Any) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")
    if dtype is not None:
        target = _dt.as_dtype(dtype)
        if x.dtype.is_floating_point and target.itemsize < x.dtype.itemsize:
            raise TypeError(
                f"{op}: dtype={target} would narrow the input's {x.dtype}; pass a dtype at least as wide, "
                f"or cast the input first (x.to({target}))"
            )
        x = x.to(target)
    if not x.dtype.is_floating_point:
        raise TypeError(
            f"{op}: expected a floating tensor, got {x.dtype}; cast it first (x.float()) or pass "
            "dtype=ember.float32"
        )
    return x


def vector_norm(
    x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    """Vector ``ord``-norm over ``dim`` (all elements when None): any number, ``inf`` (max |x|),
    ``-inf`` (min |x|) or 0 (the count of non-zeros); ``dtype`` casts the input first."""
    from ..ops.reduction import norm as _norm

    op = "linalg.vector_norm"
    x = _norm_input(op, x, dtype)
    if isinstance(ord, (str, bool)) or not isinstance(ord, (int, float)):
        raise TypeError(f"{op}: ord must be a number (or inf, -inf), got {ord!r}")
    if isinstance(dim, Sequence) and len(dim) == 0:
        dim = None
    return _norm(x, ord, dim, keepdim)


def matrix_norm(
    A: Tensor, ord: Any = "fro", dim: tuple[int, int] = (-2, -1), keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    """Matrix norm over the two dims ``dim``: 'fro', 'nuc', inf / -inf (max / min row sum of
    |A|), 1 / -1 (max / min column sum), 2 / -2 (largest / smallest singular value)."""
    from ..ops._core import wrap_dim
    from ..ops.reduction import amax, amin

    op = "linalg.matrix_norm"
    A = _norm_input(op, A, dtype)
    if A.ndim < 2:
        raise ValueError(f"{op}: A must have at least 2 dims, got shape {A.shape}")
    if not isinstance(dim, Sequence) or len(dim) != 2:
        raise ValueError(f"{op}: dim must be a pair of dims, got {dim!r}")
    d0, d1 = (wrap_dim(d, A.ndim, op) for d in dim)
    if d0 == d1:
        raise ValueError(f"{op}: dim {tuple(dim)} names the same dimension twice")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        from .spectral import _spectral_matrix_norm

        return _spectral_matrix_norm(A, ord, (d0, d1), keepdim)
    if ord in (1, -1, math.inf, -math.inf) and not isinstance(ord, bool):
        # 1: the largest column sum (sum over rows d0, then the max over columns); inf: rows
        inner, outer = (d0, d1) if ord in (1, -1) else (d1, d0)
        reduce = amax if ord > 0 else amin
        out = reduce(A.abs().sum(inner, keepdim=True), outer, keepdim=True)
        return out if keepdim else out.squeeze(max(d0, d1)).squeeze(min(d0, d1))
    raise ValueError(f"{op}: ord={ord!r} is not a matrix norm; use 'fro', 'nuc', inf, -inf, 1, -1, 2 or -2")


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """``torch.linalg.norm``: a vector norm when ``dim`` is an int (or ``ord`` is None and ``dim`` is
    None: the 2-norm of all elements), a matrix norm when ``dim`` is a pair; with ``dim=None`` and
    an ``ord``, A must be 1-D (vector norm) or 2-D (matrix norm)."""
    op = "linalg.norm"
    A = _norm_input(op, A, dtype)
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        dim = tuple(dim)
        if len(dim) == 1:
            return vector_norm(A, 2 if ord is None else ord, dim, keepdim)
        if len(dim) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim)
        raise ValueError(f"{op}: dim must name 1 or 2 dims, got {dim}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim)
    raise ValueError(
        f"{op}: with ord={ord!r} and dim=None, A must be 1-D or 2-D, got shape {A.shape}; give dim"
    )


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from ..ops.records import OpRecord, register
    from ..ops.samples import ErrorSample, Sample, rand_array

    def vnorm_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, 0.1, 2) * np.where(rng.random(s) < 0.5, -1, 1).astype(dtype)

        return [
            Sample((a(3, 4),)),
            Sample((a(3, 4),), {"ord": 1, "dim": 1}),
            Sample((a(2, 3, 4),), {"ord": math.inf, "dim": (0, 2), "keepdim": True}),
            Sample((a(2, 3, 4),), {"ord": -math.inf, "dim": -1}),
            Sample((a(3, 4),), {"ord": 0}, grad=False),
            Sample((a(3, 4),), {"ord": 3.5, "dim": 0}),
            Sample((a(3, 4),), {"ord": -1.5, "dim": 1}),
            Sample((a(5),), {"ord": 2, "keepdim": True}),
            Sample((a(4, 3),), {"dim": 1}, noncontig=True),
        ]

    def np_vnorm(x: np.ndarray, ord: float = 2, dim: Any = None, keepdim: bool = False) -> np.ndarray:
        ax = tuple(range(x.ndim)) if dim is None else dim
        if ord == math.inf:
            return np.abs(x).max(ax, keepdims=keepdim)
        if ord == -math.inf:
            return np.abs(x).min(ax, keepdims=keepdim)
        if ord == 0:
            return (x != 0).sum(ax, keepdims=keepdim).astype(x.dtype)
        return (np.abs(x) ** ord).sum(ax, keepdims=keepdim) ** (1 / ord)

    def mnorm_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -2, 2)

        return [
            Sample((a(3, 4),)),
            Sample((a(2, 3, 4),), {"ord": 1}),
            Sample((a(2, 3, 4),), {"ord": -1, "keepdim": True}),
            Sample((a(2, 3, 4),), {"ord": math.inf, "dim": (0, 2)}),
            Sample((a(3, 2, 4),), {"ord": -math.inf, "dim": (2, 0), "keepdim": True}),
            Sample((a(4, 3),), {"ord": "fro"}, noncontig=True),
        ]

    def np_mnorm(x: np.ndarray, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False) -> np.ndarray:
        return np.asarray(np.linalg.norm(x, ord, axis=tuple(dim), keepdims=keepdim), dtype=x.dtype)

    def norm_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -2, 2)

        return [
            Sample((a(2, 3, 4),)),
            Sample((a(5),), {"ord": 1}),
            Sample((a(3, 4),), {"ord": math.inf}),
            Sample((a(3, 4),), {"ord": 3.0, "dim": 1}),
            Sample((a(2, 3, 4),), {"ord": -1, "dim": (1, 2), "keepdim": True}),
            Sample((a(4, 3),), {"dim": (0, 1)}, noncontig=True),
        ]

    def np_norm(x: np.ndarray, ord: Any = None, dim: Any = None, keepdim: bool = False) -> np.ndarray:
        if ord is None and dim is None:
            return np.asarray(np.sqrt((x.astype(np.float64) ** 2).sum()), dtype=x.dtype)
        return np.asarray(np.linalg.norm(x, ord, axis=dim, keepdims=keepdim), dtype=x.dtype)

    register(
        OpRecord(
            "linalg.vector_norm",
            vector_norm,
            vnorm_samples,
            np_vnorm,
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones(3, dtype=np.int64),), {}, TypeError, "linalg.vector_norm: expected a floating"
                ),
            ),
        ),
        OpRecord(
            "linalg.matrix_norm",
            matrix_norm,
            mnorm_samples,
            np_mnorm,
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones((2, 2)),),
                    {"ord": 3},
                    ValueError,
                    "linalg.matrix_norm: ord=3 is not a matrix norm",
                ),
                ErrorSample((np.ones(3),), {}, ValueError, "linalg.matrix_norm: A must have at least 2 dims"),
            ),
        ),
        OpRecord(
            "linalg.norm",
            norm,
            norm_samples,
            np_norm,
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones((2, 2, 2)),),
                    {"ord": 1},
                    ValueError,
                    "linalg.norm: with ord=1 and dim=None, A must be",
                ),
            ),
        ),
    )


_records()
