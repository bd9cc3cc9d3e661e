"""Searching a sorted sequence: searchsorted and bucketize.

searchsorted runs a binary search with primitives only, every value at once (one step of gather and
compare per bit of n), with PyTorch's NaN rule: a NaN is larger than every number. bucketize is
searchsorted with the arguments swapped. Not differentiable (the results are indices).
"""

from __future__ import annotations

from typing import Any

from .. import dtypes as _dt
from ..autograd.grad_mode import no_grad
from ._core import Tensor, same_device
from .sorting import _check_tensor, _gathered, argsort

__all__ = ["searchsorted", "bucketize"]


def searchsorted(
    sorted_sequence: Tensor,
    input: Any,
    *,
    out_int32: bool = False,
    right: bool = False,
    side: str | None = None,
    sorter: Tensor | None = None,
) -> Tensor:
    """For each value of ``input``, the index in ``sorted_sequence`` (sorted along its last dim)
    where it would be inserted to keep the order: before equal elements (``right=False`` /
    ``side="left"``) or after them. A 1-D sequence serves every value; an N-D one must match
    ``input``'s leading dims. ``sorter`` holds indices that sort an unsorted sequence. NaN is
    larger than every number, as in PyTorch. int64 (int32 with ``out_int32``) of input's shape;
    a Python number gives a 0-d result."""
    from .creation import full, tensor
    from .elementwise import ge, gt, logical_and, logical_not, minimum, where

    _check_tensor("searchsorted", sorted_sequence)
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise ValueError(
                "searchsorted: side='left' and right=True contradict each other; pass one of them"
            )
        right = side == "right"
    seq = sorted_sequence
    if not isinstance(input, Tensor):
        input = tensor(input, device=seq.device)
    same_device("searchsorted", seq, input)
    if seq.ndim == 0:
        raise ValueError("searchsorted: sorted_sequence must have at least one dim, got a 0-d tensor")
    if seq.ndim > 1 and (input.ndim != seq.ndim or input.shape[:-1] != seq.shape[:-1]):
        raise ValueError(
            f"searchsorted: a {seq.ndim}-D sorted_sequence (shape {seq.shape}) needs values with the "
            f"same leading dims {seq.shape[:-1]}, got shape {input.shape}; use a 1-D sequence to "
            "search every value in one"
        )
    out_dt = _dt.int32 if out_int32 else _dt.int64
    with no_grad():
        seq = seq.detach()
        if sorter is not None:
            same_device("searchsorted", seq, sorter)
            if sorter.shape != seq.shape:
                raise ValueError(
                    f"searchsorted: sorter (shape {sorter.shape}) must have the sequence's shape {seq.shape}"
                )
            seq = _gathered(seq, seq.ndim - 1, sorter.long())
        n = seq.shape[-1]
        vals = input.detach()
        shape = vals.shape
        if seq.ndim == 1:
            vals = vals.reshape(1, -1)
            seq = seq.reshape(1, n)
        lo = full(vals.shape, 0, dtype=_dt.int64, device=seq.device)
        if n:
            hi = full(vals.shape, n, dtype=_dt.int64, device=seq.device)
            go_right = gt if right else ge
            for _ in range(n.bit_length()):
                mid = (lo + hi) // 2
                idx = minimum(mid, n - 1)
                at = _gathered(seq, seq.ndim - 1, idx)
                # PyTorch's test: move right unless the middle element is >= (right: >) the value,
                # which sends NaN values past every element and treats NaN elements as largest
                step = logical_and(lo < hi, logical_not(go_right(at, vals)))
                lo, hi = where(step, mid + 1, lo), where(step, hi, where(lo < hi, mid, hi))
        return lo.reshape(shape).to(out_dt)


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each value of ``input`` among the sorted 1-D ``boundaries``: i with
    ``boundaries[i-1] < v <= boundaries[i]`` (``right=True``: ``boundaries[i-1] <= v <
    boundaries[i]``), as in PyTorch; :func:`searchsorted` with the arguments swapped."""
    _check_tensor("bucketize", boundaries)
    if boundaries.ndim != 1:
        raise ValueError(
            f"bucketize: boundaries must be a 1-D tensor, got shape {boundaries.shape}; use "
            "searchsorted for a batch of sequences"
        )
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from .records import OpRecord, register
    from .samples import ErrorSample, Sample, rand_array

    NUM = ("int32", "int64", "float32", "float64")

    def search_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        seq = np.sort(a(8))
        seq2 = np.sort(a(3, 6), axis=-1)
        out = [
            Sample((seq, a(5))),
            Sample((seq, a(3, 4)), {"right": True}),
            Sample((seq, a(3, 4)), {"side": "right"}),
            Sample((seq2, a(3, 4))),
            Sample((seq2, a(3, 5)), {"right": True}),
            Sample((seq, seq)),
            Sample((seq, seq), {"right": True}),
            Sample((seq, a())),
            Sample((seq, a(0))),
            Sample((seq[:0], a(4))),
            Sample((seq, a(6)), {"out_int32": True}),
            Sample((seq2.T.copy().T, a(3, 4)), noncontig=True),
        ]
        if dtype.startswith("float"):
            s = seq.copy()
            s[-2:] = np.nan
            v = a(6)
            v[[0, 3]] = np.nan
            out += [Sample((s, v)), Sample((s, v), {"right": True})]
        return out

    def np_searchsorted(
        seq: np.ndarray, v: Any, out_int32: bool = False, right: bool = False, side: str | None = None
    ) -> np.ndarray:
        # PyTorch's binary search, element by element: a NaN in the sequence counts as larger than
        # every value, but the search only sees the NaNs it lands on (numpy sorts NaN last instead)
        right = side == "right" if side else right
        v = np.asarray(v)

        def one(row: np.ndarray, val: Any) -> int:
            lo, hi = 0, row.shape[0]
            while lo < hi:
                mid = (lo + hi) // 2
                if not (row[mid] > val if right else row[mid] >= val):
                    lo = mid + 1
                else:
                    hi = mid
            return lo

        rows = seq.reshape(-1, seq.shape[-1]) if seq.ndim > 1 else None
        out = np.zeros(v.shape, np.int64)
        for pos in np.ndindex(*v.shape):
            out[pos] = one(seq if rows is None else seq[pos[:-1]], v[pos])
        return np.asarray(out, np.int32 if out_int32 else np.int64)

    def bucket_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample((s.args[1], s.args[0]), s.kwargs, s.noncontig)
            for s in search_samples(dtype, rng)
            if s.args[0].ndim == 1 and "side" not in s.kwargs
        ]

    def np_bucketize(
        v: Any, boundaries: np.ndarray, out_int32: bool = False, right: bool = False
    ) -> np.ndarray:
        return np_searchsorted(boundaries, v, out_int32, right)

    def scalar_search(seq: Tensor, v: Any, **kw: Any) -> Tensor:
        return searchsorted(seq, v, **kw)

    def sorter_call(seq: Tensor, v: Tensor, **kw: Any) -> Tensor:
        # the sequence shuffled, with the sorter that puts it back in order
        from .creation import arange

        n = seq.shape[-1]
        perm = (arange(n, device=seq.device) * 3) % n if n % 3 else arange(n, device=seq.device).flip(0)
        shuffled = seq.index_select(seq.ndim - 1, perm)
        return searchsorted(shuffled, v, sorter=argsort(perm).expand(seq.shape).contiguous(), **kw)

    def sorter_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [s for s in search_samples(dtype, rng)[:5]]

    register(
        OpRecord(
            "searchsorted",
            searchsorted,
            search_samples,
            np_searchsorted,
            dtypes=NUM,
            grad=False,
            errors=(
                ErrorSample(
                    (np.ones(3), np.ones(2)),
                    {"side": "left", "right": True},
                    ValueError,
                    "searchsorted: side='left' and right=True contradict each other",
                ),
                ErrorSample(
                    (np.ones((2, 3)), np.ones((3, 3))), {}, ValueError, "searchsorted: a 2-D sorted_sequence"
                ),
            ),
        ),
        OpRecord(
            "searchsorted_scalar",
            searchsorted,
            lambda dt, rng: [
                Sample((np.sort(rand_array(rng, (6,), dt)), 1)),
                Sample((np.sort(rand_array(rng, (6,), dt)), 0), {"right": True}),
            ],
            lambda seq, v, **k: np_searchsorted(seq, np.asarray(v), **k),
            call=scalar_search,
            dtypes=NUM,
            grad=False,
            public=False,
        ),
        OpRecord(
            "searchsorted_sorter",
            searchsorted,
            sorter_samples,
            np_searchsorted,
            call=sorter_call,
            dtypes=NUM,
            grad=False,
            public=False,
        ),
        OpRecord(
            "bucketize",
            bucketize,
            bucket_samples,
            np_bucketize,
            dtypes=NUM,
            grad=False,
            errors=(
                ErrorSample(
                    (np.ones(3), np.ones((2, 3))),
                    {},
                    ValueError,
                    "bucketize: boundaries must be a 1-D tensor",
                ),
            ),
        ),
    )


_records()
