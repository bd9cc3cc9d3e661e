"""Distinct elements: unique and unique_consecutive, with their optional inverse and counts.

Both find the runs of equal elements (or slices along a dim): unique of the sorted input
(:func:`ember.ops.sorting._sort`; the slices in lexicographic order), unique_consecutive of the
input as it is. Not differentiable.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

from .. import dtypes as _dt
from ..autograd.grad_mode import no_grad
from ._core import Tensor, wrap_dim
from .sorting import _check_tensor, _sort

__all__ = ["unique", "unique_consecutive"]


def _runs_of(flat: Tensor) -> Tensor:
    """A bool per element of a 1-D tensor: True where a run of equal elements starts."""
    from .creation import ones
    from .elementwise import ne
    from .joining import cat

    n = flat.shape[0]
    first = ones((builtins.min(n, 1),), dtype=_dt.bool_, device=flat.device)
    if n <= 1:
        return first
    return cat([first, ne(flat[1:], flat[:-1])])


def _rows_runs(rows: Tensor) -> Tensor:
    """Like :func:`_runs_of` for the rows of a 2-D tensor (a row starts a run when it differs)."""
    from .creation import ones, zeros
    from .elementwise import ne
    from .joining import cat
    from .reduction import any as _any

    n = rows.shape[0]
    first = ones((builtins.min(n, 1),), dtype=_dt.bool_, device=rows.device)
    if n <= 1 or rows.shape[1] == 0:
        return cat([first, zeros((n - 1,), dtype=_dt.bool_, device=rows.device)]) if n > 1 else first
    return cat([first, _any(ne(rows[1:], rows[:-1]), 1)])


def _group(
    keys: Tensor, perm: Tensor | None, starts: Tensor, return_inverse: bool, return_counts: bool
) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """From runs over (sorted) keys: the index of each run's first element in ``keys``, the inverse
    (the run of every original element) and the counts."""
    from .creation import arange, ones, zeros
    from .gather_scatter import scatter_add
    from .indexing import masked_select
    from .reduction import cumsum

    n = starts.shape[0]
    group = cumsum(starts, 0) - 1  # the run of each sorted position
    firsts = masked_select(arange(n, device=keys.device), starts)
    k = firsts.shape[0]
    inverse = counts = None
    if return_inverse:
        inverse = (
            group
            if perm is None
            else scatter_add(zeros((n,), dtype=_dt.int64, device=keys.device), 0, perm, group)
        )
    if return_counts:
        counts = scatter_add(
            zeros((k,), dtype=_dt.int64, device=keys.device),
            0,
            group,
            ones((n,), dtype=_dt.int64, device=keys.device),
        )
    return firsts, inverse, counts


def _unique(
    op: str, x: Tensor, sort_first: bool, return_inverse: bool, return_counts: bool, dim: int | None
) -> Any:
    _check_tensor(op, x)
    with no_grad():
        x = x.detach()
        if dim is None:
            flat = x.reshape(-1)
            perm = None
            if sort_first and flat.numel():
                flat, perm = _sort(flat, 0, False)
            starts = _runs_of(flat)
            firsts, inverse, counts = _group(flat, perm, starts, return_inverse, return_counts)
            out = flat[firsts]
            if inverse is not None:
                inverse = inverse.reshape(x.shape)
        else:
            d = wrap_dim(dim, x.ndim, op)
            moved = x.movedim(d, 0)
            rows = (
                moved.reshape(moved.shape[0], -1)
                if moved.shape[0]
                else moved.reshape(0, max(1, math.prod(moved.shape[1:])))
            )
            perm = None
            if sort_first and rows.shape[0] > 1:
                # lexicographic order of the rows: stable sorts from the last column to the first
                from .creation import arange

                perm = arange(rows.shape[0], device=x.device)
                for c in reversed(range(rows.shape[1])):
                    _, order = _sort(rows[:, c][perm], 0, False)
                    perm = perm[order]
                rows = rows[perm]
                moved = moved[perm]
            starts = _rows_runs(rows)
            firsts, inverse, counts = _group(rows, perm, starts, return_inverse, return_counts)
            out = moved[firsts].movedim(0, d)
    result = (out,)
    if return_inverse:
        result += (inverse,)
    if return_counts:
        result += (counts,)
    return result[0] if len(result) == 1 else result


def unique(
    x: Tensor,
    sorted: bool = True,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Any:
    """The distinct elements of ``x`` (with ``dim``: the distinct slices along ``dim``), in
    ascending order, and optionally the index of each input element's value in the output
    (``return_inverse``, x's shape, or ``x.shape[dim]`` with ``dim``) and how often each occurs
    (``return_counts``); int64 both. Returns a tensor, or a tuple when either flag is set.
    NaNs are all distinct, as in PyTorch. The output is always sorted (``sorted=False`` lets
    PyTorch choose any order; sorted is one of them). Not differentiable."""
    return _unique("unique", x, True, return_inverse, return_counts, dim)


def unique_consecutive(
    x: Tensor, return_inverse: bool = False, return_counts: bool = False, dim: int | None = None
) -> Any:
    """Collapse each run of equal consecutive elements (slices along ``dim``) to one; the same
    optional inverse and counts as :func:`unique`."""
    return _unique("unique_consecutive", x, False, return_inverse, return_counts, dim)


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from .records import OpRecord, register
    from .samples import ErrorSample, Sample, rand_array

    ORDERED = ("bool", "uint8", "int32", "int64", "float16", "float32", "float64")

    def unique_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            if dtype.startswith("float"):
                return np.asarray(rng.integers(-3, 3, size=s), dtype=dtype)
            return rand_array(rng, s, dtype, -0.5, 0.5)

        out = [
            Sample((a(9),)),
            Sample((a(3, 4),)),
            Sample((a(4, 3),), noncontig=True),
            Sample((a(3, 5),), noncontig="flip"),
            Sample((a(),)),
            Sample((a(0, 3),)),
            Sample((a(5, 2),), {"dim": 0}),
            Sample((a(2, 6),), {"dim": 1}),
        ]
        if dtype.startswith("float"):
            x = a(8)
            x[[1, 5]] = np.nan
            out.append(Sample((x,)))
        return out

    def part(f: Any, i: int, **flags: bool) -> Any:
        def call(x: Any, **kwargs: Any) -> Any:
            out = f(x, **flags, **kwargs)
            return out[i] if i >= 0 else out

        return call

    def np_unique(x: np.ndarray, dim: Any = None, which: int = 0, consecutive: bool = False) -> np.ndarray:
        if dim is None:
            flat = x.reshape(-1)
            if consecutive:
                starts = np.concatenate([[True], flat[1:] != flat[:-1]]) if flat.size else np.zeros(0, bool)
                out = flat[starts]
                inverse = np.cumsum(starts) - 1
                counts = np.diff(np.append(np.nonzero(starts)[0], flat.size))
            else:
                out, inverse, counts = np.unique(
                    flat, return_inverse=True, return_counts=True, equal_nan=False
                )
            return (out, inverse.reshape(x.shape), counts)[which]
        moved = np.moveaxis(x, dim, 0)
        if consecutive:
            rows = moved.reshape(moved.shape[0], -1)
            starts = np.concatenate([[True], (rows[1:] != rows[:-1]).any(1)])
            res = (
                np.moveaxis(moved[starts], 0, dim),
                np.cumsum(starts) - 1,
                np.diff(np.append(np.nonzero(starts)[0], len(rows))),
            )
            return res[which]
        out, inverse, counts = np.unique(x, return_inverse=True, return_counts=True, axis=dim)
        return (out, inverse.reshape(-1), counts)[which]

    def consecutive_parts(x: Tensor, **kwargs: Any) -> Tensor:
        from .joining import cat

        parts = unique_consecutive(x, return_inverse=True, return_counts=True, **kwargs)[1:]
        return cat([t.reshape(-1) for t in parts])

    register(
        OpRecord(
            "unique",
            unique,
            unique_samples,
            np_unique,
            methods=("unique",),
            dtypes=ORDERED,
            grad=False,
            reads_values=True,
            errors=(
                ErrorSample((np.ones((3, 4)),), {"dim": 2}, IndexError, "unique: dimension 2 out of range"),
            ),
        ),
        OpRecord(
            "unique_inverse",
            unique,
            unique_samples,
            lambda x, **k: np_unique(x, which=1, **k),
            call=part(unique, 1, return_inverse=True),
            dtypes=ORDERED,
            grad=False,
            reads_values=True,
            public=False,
        ),
        OpRecord(
            "unique_counts",
            unique,
            unique_samples,
            lambda x, **k: np_unique(x, which=2, **k),
            call=part(unique, 2, return_inverse=True, return_counts=True),
            dtypes=ORDERED,
            grad=False,
            reads_values=True,
            public=False,
        ),
        OpRecord(
            "unique_consecutive",
            unique_consecutive,
            unique_samples,
            lambda x, **k: np_unique(x, consecutive=True, **k),
            methods=("unique_consecutive",),
            dtypes=ORDERED,
            grad=False,
            reads_values=True,
        ),
        OpRecord(
            "unique_consecutive_parts",
            unique_consecutive,
            unique_samples,
            lambda x, **k: np.concatenate(
                [
                    np_unique(x, which=1, consecutive=True, **k).reshape(-1),
                    np_unique(x, which=2, consecutive=True, **k),
                ]
            ),
            call=consecutive_parts,
            dtypes=ORDERED,
            grad=False,
            reads_values=True,
            public=False,
        ),
    )


_records()
