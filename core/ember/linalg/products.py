"""Products and powers of matrices and vectors: ``matrix_power`` (repeated squaring; a negative
power inverts through :mod:`ember.linalg.solvers`), ``multi_dot`` (a chain of matmuls in the
cheapest order), ``vecdot``, ``cross`` and ``matmul`` (``torch.linalg``'s names for them), and
``diagonal`` (the view of a batch of matrices' diagonals that ``torch.linalg`` lists alongside);
PyTorch's names, arguments and defaults. Each is built from existing differentiable ops, so
gradients come with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..layout import broadcast_shapes
from ..ops._core import Tensor
from ..ops.linalg import cross as _cross
from ..ops.linalg import matmul
from .factorizations import _SQ, _check_matrix, _eye, _well
from .solvers import _solve

__all__ = [
    "cross",
    "diagonal",
    "matmul",
    "matrix_power",
    "multi_dot",
    "vecdot",
]


# -- products and powers ----------------------------------------------------------------------------
def matrix_power(A: Tensor, n: int) -> Tensor:
    """``A`` multiplied by itself ``n`` times (batched, square); ``n = 0`` gives the identity and a
    negative ``n`` the power of ``inv(A)`` (a singular A raises). Repeated squaring: O(log n)
    matmuls."""
    op = "linalg.matrix_power"
    _check_matrix(op, A)
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{op}: the exponent n must be an int, got {type(n).__name__} {n!r}")
    if n == 0:
        return _eye(A.shape[-1], A).expand(A.shape).clone()
    if n < 0:
        A = _solve(op, A, _eye(A.shape[-1], A).expand(A.shape), True, True)[0]
        n = -n
    result: Tensor | None = None
    base = A
    while True:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if not n:
            break
        base = matmul(base, base)
    assert result is not None
    return result


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """The product of two or more matrices in the cheapest order (dynamic programming over the
    chain, as numpy's multi_dot): the first may be 1-D (a row vector) and the last 1-D (a column
    vector); the others are 2-D."""
    op = "linalg.multi_dot"
    ts = list(tensors)
    if len(ts) < 2:
        raise ValueError(f"{op}: expected at least 2 tensors, got {len(ts)}")
    for i, t in enumerate(ts):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: argument {i} must be a tensor, got {type(t).__name__}")
        first_or_last = i in (0, len(ts) - 1)
        if t.ndim != 2 and not (first_or_last and t.ndim == 1):
            raise ValueError(
                f"{op}: tensor {i} must be 2-D{' or 1-D' if first_or_last else ''} (only the first and last "
                f"may be 1-D), got shape {t.shape}"
            )
        if t.dtype is not ts[0].dtype:
            raise TypeError(
                f"{op}: all tensors must have the same dtype, got {ts[0].dtype} (tensor 0) and "
                f"{t.dtype} (tensor {i}); cast them first"
            )
    row, col = ts[0].ndim == 1, ts[-1].ndim == 1
    mats = [ts[0].unsqueeze(0) if row else ts[0]] + ts[1:-1] + [ts[-1].unsqueeze(-1) if col else ts[-1]]
    for i in range(len(mats) - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise ValueError(
                f"{op}: tensors {i} and {i + 1} cannot be multiplied (shapes {ts[i].shape} and "
                f"{ts[i + 1].shape}: {mats[i].shape[1]} != {mats[i + 1].shape[0]})"
            )
    dims = [m.shape[0] for m in mats] + [mats[-1].shape[1]]
    k = len(mats)
    cost = [[0] * k for _ in range(k)]
    split = [[0] * k for _ in range(k)]
    for length in range(1, k):
        for i in range(k - length):
            j = i + length
            cost[i][j] = -1
            for s in range(i, j):
                c = cost[i][s] + cost[s + 1][j] + dims[i] * dims[s + 1] * dims[j + 1]
                if cost[i][j] < 0 or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, s

    def product(i: int, j: int) -> Tensor:
        if i == j:
            return mats[i]
        s = split[i][j]
        return matmul(product(i, s), product(s + 1, j))

    out = product(0, k - 1)
    if row:
        out = out.squeeze(0)
    if col:
        out = out.squeeze(-1)
    return out


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (default the last); both have the same number of
    dims, which broadcast."""
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(
            f"linalg.cross: expected two tensors, got {type(input).__name__} and {type(other).__name__}"
        )
    if input.ndim != other.ndim:
        raise ValueError(
            f"linalg.cross: input and other must have the same number of dims, got shapes {input.shape} and "
            f"{other.shape}; unsqueeze the smaller one"
        )
    return _cross(input, other, dim)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """Dot product of vectors along ``dim`` (x and y broadcast)."""
    if not isinstance(x, Tensor) or not isinstance(y, Tensor):
        raise TypeError(f"linalg.vecdot: expected two tensors, got {type(x).__name__} and {type(y).__name__}")
    try:
        shape = broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise ValueError(f"linalg.vecdot: shapes {x.shape} and {y.shape} do not broadcast") from None
    if not shape:
        raise ValueError("linalg.vecdot: x and y must have at least one dimension, got 0-d tensors")
    return (x * y).sum(dim)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonals of a batch of matrices (a view), as ``torch.linalg.diagonal``: by default the
    last two dims."""
    from ..ops.rearrange import diagonal as _diag

    return _diag(A, offset, dim1, dim2)


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from ..ops import _install_methods
    from ..ops.records import OpRecord, register
    from ..ops.samples import ErrorSample, Sample, rand_array

    num = ("float32", "float64", "int64")

    def power_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        out = [Sample((_well(rng, (2, 3, 3), dtype) / 3, n)) for n in (1, 2, 3, 5, -1, -2)]
        out.append(Sample((_well(rng, (3, 3), dtype), 0), grad=False))
        out.append(Sample((_well(rng, (3, 3), dtype) / 3, 2), noncontig=True))
        out.append(Sample((_well(rng, (0, 2, 2), dtype), 3), grad=False))
        return out

    def multi_dot_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        # the matrices as separate args (the record's call passes them on as one list), so the
        # kit's gradcheck sees each as an input
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -1, 1)

        return [
            Sample((a(3, 4), a(4, 5))),
            Sample((a(2, 6), a(6, 3), a(3, 5), a(5, 2))),
            Sample((a(4), a(4, 3), a(3, 2), a(2))),
            Sample((a(4), a(4, 3))),
            Sample((a(5, 1), a(1, 5), a(5, 3)), noncontig=True),
        ]

    def pair_samples(*shapes: tuple[tuple[int, ...], tuple[int, ...], dict]) -> Any:
        def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
            out = [
                Sample((rand_array(rng, sa, dtype, -1, 1), rand_array(rng, sb, dtype, -1, 1)), dict(kw))
                for sa, sb, kw in shapes
            ]
            sa, sb, kw = shapes[0]
            out.append(
                Sample(
                    (rand_array(rng, sa, dtype, -1, 1), rand_array(rng, sb, dtype, -1, 1)),
                    dict(kw),
                    noncontig=True,
                )
            )
            return out

        return make

    def diag_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -1, 1)

        return [
            Sample((a(3, 4),)),
            Sample((a(2, 3, 4),), {"offset": 1}),
            Sample((a(2, 3, 4),), {"offset": -1, "dim1": 0, "dim2": 2}),
            Sample((a(4, 3),), noncontig=True),
        ]

    register(
        OpRecord(
            "linalg.matrix_power",
            matrix_power,
            power_samples,
            np.linalg.matrix_power,
            methods=("matrix_power",),
            atol=1e-4,
            errors=(
                ErrorSample((np.ones((2, 3)), 2), {}, ValueError, f"linalg.matrix_power: A {_SQ}"),
                ErrorSample(
                    (np.eye(2), 1.5), {}, TypeError, "linalg.matrix_power: the exponent n must be an int"
                ),
            ),
        ),
        OpRecord(
            "linalg.multi_dot",
            multi_dot,
            multi_dot_samples,
            lambda *ms: np.linalg.multi_dot(ms),
            call=lambda *ts: multi_dot(ts),
            atol=1e-4,
            errors=(
                ErrorSample(
                    ([np.ones((2, 3)), np.ones((4, 2))],),
                    {},
                    ValueError,
                    "linalg.multi_dot: tensors 0 and 1 cannot be multiplied \\(shapes \\(2, 3\\) and ",
                ),
                ErrorSample(
                    ([np.ones((2, 3))],), {}, ValueError, "linalg.multi_dot: expected at least 2 tensors"
                ),
            ),
        ),
        OpRecord(
            "linalg.cross",
            cross,
            pair_samples(((4, 3), (4, 3), {}), ((2, 1, 3), (1, 4, 3), {}), ((3, 2), (3, 2), {"dim": 0})),
            lambda a, b, dim=-1: np.cross(*np.broadcast_arrays(a, b), axis=dim),
            dtypes=num,
            errors=(ErrorSample((np.ones((2, 2)), np.ones((2, 2))), {}, ValueError, "cross: dimension 1"),),
        ),
        OpRecord(
            "linalg.vecdot",
            vecdot,
            pair_samples(((4, 3), (4, 3), {}), ((2, 1, 3), (4, 3), {}), ((3, 2), (3, 2), {"dim": 0})),
            lambda a, b, dim=-1: (a * b).sum(dim),
            dtypes=num,
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones((2, 3)), np.ones((4, 3))), {}, ValueError, "linalg.vecdot: shapes \\(2, 3\\)"
                ),
            ),
        ),
        OpRecord(
            "linalg.matmul",
            matmul,
            pair_samples(((3, 4), (4, 2), {}), ((2, 3, 4), (4, 2), {}), ((4,), (4, 3), {})),
            np.matmul,
            call=lambda a, b: matmul(a, b),  # the same callable as ember.matmul, proved under this name
            dtypes=num,
            atol=1e-4,
        ),
        OpRecord(
            "linalg.diagonal",
            diagonal,
            diag_samples,
            lambda a, offset=0, dim1=-2, dim2=-1: np.diagonal(a, offset, dim1, dim2),
            dtypes=num,
        ),
    )
    _install_methods()


_records()
