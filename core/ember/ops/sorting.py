"""Sorting: sort, argsort, msort, the kernel they share and its composites.

One optional kernel, ``sort(x, dim) -> (values, indices)``: a stable ascending sort along one dim
with NaN after every number. A descending sort is the ascending sort of the flipped input, flipped
back (which keeps ties in their original order and puts NaN first, as PyTorch does). A device
without the kernel runs a composite: :func:`_sort_composite` (ranks by comparing every pair) for
small inputs, :func:`_sort_bitonic` (a bitonic network on (value, position) keys) for large ones.
The ops composed from the sort live beside it: the order statistics (topk, kthvalue, median,
quantile, mode) in :mod:`ember.ops.order_statistics`, unique and unique_consecutive in
:mod:`ember.ops.unique`, searchsorted and bucketize in :mod:`ember.ops.searching`.

Gradients flow through values only (indices are integers): the sorted values' backward scatters
the gradient back to the positions they came from.
"""

from __future__ import annotations

import builtins
from typing import Any

from .. import dtypes as _dt
from ..autograd.grad_mode import no_grad
from ._core import STATE, Tensor, _make, attach, kernel, wrap_dim
from .reduction import ValuesIndices

__all__ = ["sort", "argsort", "msort"]


#: the most elements one comparison block of the composite sort may hold (rows x n x block)
COMPARE_BUDGET = 1 << 22


# -- the kernel and its composite ------------------------------------------------------------------
def _gathered(x: Tensor, d: int, index: Tensor) -> Tensor:
    """gather(x, d, index) for an int64 index known to be in range: no bounds check (no host
    read), no graph."""
    return _make(kernel(x.device, "gather")(x._data, d, index._data), index.shape, x.dtype, x.device)


def _take(x: Tensor, d: int, index: Tensor) -> Tensor:
    """gather(x, d, index) for an index known to be in range (no bounds check, no host read),
    differentiable in x."""
    out = _gathered(x, d, index)
    if x.requires_grad and STATE.enabled:
        from .creation import zeros
        from .gather_scatter import scatter_add

        shape = x.shape
        idx = index.detach()  # an alias whose shape stays as recorded (the caller may squeeze_ index)
        attach(
            out,
            "gather",
            lambda g: (scatter_add(zeros(shape, dtype=g.dtype, device=g.device), d, idx, g),),
            (x,),
        )
    return out


def _sort_composite(x: Tensor, d: int) -> tuple[Tensor, Tensor]:
    """Stable ascending sort along ``d`` with primitives only: each element's rank is the number of
    elements before it in the order (value, position), NaN greater than every number; the
    permutation is the ranks scattered. O(n^2) comparisons per row, made in blocks of at most
    :data:`COMPARE_BUDGET` elements, so it suits short rows (long ones go to :func:`_sort_bitonic`)."""
    from .creation import arange, zeros
    from .elementwise import eq, isnan, logical_and, logical_not, logical_or, lt
    from .gather_scatter import scatter_add
    from .joining import cat
    from .rearrange import movedim
    from .reduction import sum as _sum
    from .shape import narrow

    xl = movedim(x, d, -1)
    key = xl.to(_dt.uint8) if xl.dtype.is_bool else xl
    n = key.shape[-1]
    rows = key.numel() // n
    pos = arange(n, device=x.device)
    xi = key.unsqueeze(-1)  # (..., n, 1): the element ranked
    pi = pos.unsqueeze(-1)
    block = builtins.max(1, COMPARE_BUDGET // builtins.max(1, rows * n))
    parts = []
    for j0 in range(0, n, block):
        m = builtins.min(block, n - j0)
        xj = narrow(key, -1, j0, m).unsqueeze(-2)  # (..., 1, m): the elements compared with
        pj = narrow(pos, 0, j0, m).unsqueeze(0)
        before = logical_or(lt(xj, xi), logical_and(eq(xj, xi), lt(pj, pi)))
        if key.dtype.is_floating_point:
            nan_i, nan_j = isnan(xi), isnan(xj)
            # a number is before every NaN; NaNs keep their order among themselves
            before = logical_or(
                logical_and(before, logical_not(nan_j)),
                logical_or(
                    logical_and(nan_i, logical_not(nan_j)), logical_and(logical_and(nan_i, nan_j), lt(pj, pi))
                ),
            )
        parts.append(_sum(before, -1, keepdim=True))
    rank = parts[0] if len(parts) == 1 else _sum(cat(parts, -1), -1, keepdim=True)
    rank = rank.squeeze(-1)
    indices = scatter_add(zeros(xl.shape, dtype=_dt.int64, device=x.device), -1, rank, pos.expand(xl.shape))
    values = _gathered(xl, xl.ndim - 1, indices)
    return movedim(values, -1, d), movedim(indices, -1, d)


def _sort_bitonic(x: Tensor, d: int) -> tuple[Tensor, Tensor]:
    """Stable ascending sort along ``d`` by a bitonic network over (class, value, position) keys:
    class 0 for numbers, 1 for NaN, 2 for the padding up to a power of two; the position breaks
    every tie, so the order is total and the result is the stable sort. ``log2(n)^2 / 2`` rounds
    of a few elementwise ops on the whole tensor (``O(n log^2 n)`` work): the composite for long
    rows."""
    from .creation import arange, full, zeros
    from .elementwise import bitwise_and, eq, gt, isnan, logical_and, logical_or, lt, ne, where
    from .joining import cat, stack
    from .rearrange import movedim
    from .shape import select

    xl = movedim(x, d, -1)
    key = xl.to(_dt.uint8) if xl.dtype.is_bool else xl
    n = key.shape[-1]
    size = 1 << (n - 1).bit_length()
    lead = key.shape[:-1]
    dev = x.device
    idx = arange(n, device=dev).expand(key.shape)
    cls = (
        isnan(key).to(_dt.uint8)
        if key.dtype.is_floating_point
        else zeros(key.shape, dtype=_dt.uint8, device=dev)
    )
    val = key
    if size > n:
        pad = lead + (size - n,)
        val = cat([val, zeros(pad, dtype=key.dtype, device=dev)], -1)
        idx = cat([idx, arange(n, size, device=dev).expand(pad)], -1)
        cls = cat([cls, full(pad, 2, dtype=_dt.uint8, device=dev)], -1)

    def before(a: tuple[Tensor, ...], b: tuple[Tensor, ...]) -> Tensor:
        (ca, va, ia), (cb, vb, ib) = a, b
        tie = logical_or(eq(va, vb), gt(ca, 0))  # equal numbers; NaN and padding order by position
        same_class = logical_and(eq(ca, cb), logical_or(lt(va, vb), logical_and(tie, lt(ia, ib))))
        return logical_or(lt(ca, cb), same_class)

    parts = (cls, val, idx)
    k = 2
    while k <= size:
        j = k // 2
        while j >= 1:
            blocks = size // (2 * j)
            # a block of 2j elements pairs i with i + j; it sorts descending where i & k is set
            desc = ne(bitwise_and(arange(blocks, device=dev) * (2 * j), k), 0).reshape(blocks, 1)
            halves = [p.reshape(lead + (blocks, 2, j)) for p in parts]
            a = tuple(select(h, -2, 0) for h in halves)
            b = tuple(select(h, -2, 1) for h in halves)
            swap = ne(before(b, a), desc)
            parts = tuple(
                stack([where(swap, pb, pa), where(swap, pa, pb)], -2).reshape(lead + (size,))
                for pa, pb in zip(a, b)
            )
            j //= 2
        k *= 2
    indices = parts[2][..., :n] if size > n else parts[2]
    indices = indices.contiguous()
    values = _gathered(xl, xl.ndim - 1, indices)
    return movedim(values, -1, d), movedim(indices, -1, d)


def _sort_ascending(x: Tensor, d: int) -> tuple[Tensor, Tensor]:
    """(values, indices) of the stable ascending sort along ``d``, recording nothing."""
    k = x.device.kernels.get("sort")
    if k is not None:
        v, i = k(x._data, d)
        return _make(v, x.shape, x.dtype, x.device), _make(i, x.shape, _dt.int64, x.device)
    with no_grad():
        n = x.shape[d]
        # comparing every pair (a few large ops) while it fits one block of COMPARE_BUDGET;
        # beyond, the bitonic network (many small ops, n log^2 n work): measured on PoCL, the
        # pairs win up to about 8 rows of 1024
        if x.numel() * n <= COMPARE_BUDGET:
            return _sort_composite(x.detach(), d)
        return _sort_bitonic(x.detach(), d)


def _sort(x: Tensor, d: int, descending: bool) -> tuple[Tensor, Tensor]:
    """(values, indices) along ``d`` without graph; x has at least one dim and no empty dim."""
    if not descending:
        return _sort_ascending(x, d)
    from .rearrange import flip

    with no_grad():
        v, i = _sort_ascending(flip(x.detach(), d), d)
        return flip(v, d), (x.shape[d] - 1) - flip(i, d)


def _sorted_values(x: Tensor, d: int, values: Tensor, indices: Tensor) -> Tensor:
    """Attach the backward of a sort to its values: the gradient goes back where each came from."""
    if x.requires_grad and STATE.enabled:
        from .creation import zeros
        from .gather_scatter import scatter_add

        shape = x.shape
        idx = indices.detach()  # an alias whose shape stays as recorded (the caller may squeeze_ indices)
        attach(
            values,
            "sort",
            lambda g: (scatter_add(zeros(shape, dtype=g.dtype, device=g.device), d, idx, g),),
            (x,),
        )
    return values


def _check_tensor(op: str, x: Any) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")


# -- sort, argsort, msort ---------------------------------------------------------------------------
def sort(x: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> ValuesIndices:
    """Sort along ``dim``: (values, int64 indices with ``x.gather(dim, indices) == values``).

    Always stable (equal elements keep their order; ``stable=True`` is accepted for PyTorch's
    signature); NaN sorts after every number ascending and before every number descending, as in
    PyTorch. Differentiable in the values.
    """
    return _sort_op("sort", x, dim, descending)


def _sort_op(op: str, x: Tensor, dim: int, descending: bool) -> ValuesIndices:
    _check_tensor(op, x)
    from .elementwise import refuse_complex

    refuse_complex(op, x)  # complex numbers have no order, as in PyTorch
    d = wrap_dim(dim, x.ndim, op)
    if x.ndim == 0 or x.numel() == 0:
        from .creation import zeros

        return ValuesIndices(x.clone(), zeros(x.shape, dtype=_dt.int64, device=x.device))
    values, indices = _sort(x, d, descending)
    return ValuesIndices(_sorted_values(x, d, values, indices), indices)


def argsort(x: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
    """The indices that sort ``x`` along ``dim`` (:func:`sort`'s indices; stable)."""
    return _sort_op("argsort", x, dim, descending).indices


def msort(x: Tensor) -> Tensor:
    """``x`` sorted along its first dim (values only): ``sort(x, 0).values``."""
    return _sort_op("msort", x, 0, False).values


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def dim_samples(nan: bool = True, empty: bool = True, scalar: bool = True) -> Any:
    """Samples for ops along one dim (``x, dim``): 1-D, 2-D and 3-D, negative dims, a transposed
    and a flipped view, 0-d, an empty tensor and (floats) a row with NaNs."""
    import numpy as np

    from .samples import Sample, rand_array

    def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        out = [
            Sample((a(7), 0)),
            Sample((a(3, 6), 1)),
            Sample((a(2, 3, 4), 0)),
            Sample((a(3, 5), -1), noncontig=True),
            Sample((a(4, 3), 0), noncontig="flip", grad=False),
        ]
        if scalar:
            out.append(Sample((a(), 0), grad=False))
        if empty:
            out.append(Sample((a(0, 3), 0), grad=False))
        if nan and dtype.startswith("float"):
            x = a(3, 6)
            x[0, [1, 4]] = np.nan
            x[2, :] = np.nan
            out.append(Sample((x, 1), grad=False))
        return out

    return make


def np_argsort(x: Any, dim: int, descending: bool = False) -> Any:
    """Stable argsort of a numpy array; descending keeps equal elements in order and puts NaN first."""
    import numpy as np

    if x.ndim == 0:
        return np.zeros((), np.int64)
    if not descending:
        return np.argsort(x, axis=dim, kind="stable")
    n = x.shape[dim]
    flipped = np.argsort(np.flip(x, dim), axis=dim, kind="stable")
    return (n - 1) - np.flip(flipped, dim)


def _records() -> None:
    import numpy as np

    from .records import OpRecord, register
    from .samples import ErrorSample, Sample, rand_array

    ORDERED = ("bool", "uint8", "int32", "int64", "float16", "float32", "float64")
    NUM = ("int32", "int64", "float32", "float64")

    def np_sorted(x: np.ndarray, dim: int, descending: bool = False) -> np.ndarray:
        return x.copy() if x.ndim == 0 else np.take_along_axis(x, np_argsort(x, dim, descending), dim)

    def sort_values(x: Tensor, dim: int = -1, descending: bool = False) -> Tensor:
        return sort(x, dim, descending).values

    def sort_indices(x: Tensor, dim: int = -1, descending: bool = False) -> Tensor:
        return sort(x, dim, descending).indices

    def with_descending(make: Any) -> Any:
        def samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
            out = make(dtype, rng)
            return (
                out
                + [Sample(s.args, {"descending": True}, s.noncontig, s.grad) for s in out[1:5]]
                + [Sample(out[-1].args, {"descending": True}, grad=False)]
            )

        return samples

    def long_row_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        """Rows longer than a device's sorting block (a work-group's local memory holds 1024 to
        4096 items: several blocks, not a power of two) drawn from 12 values, so ties span the
        blocks; floats with NaN of both signs at the row's ends and next to powers of two (block
        edges), -0.0 among +0.0 and infinities; integers with their dtype's extremes. Along the
        last dim, along dim 0 (elements a stride apart) and descending."""
        n = 4500
        x = rand_array(rng, (12,), dtype)[rng.integers(0, 12, size=(2, n))]
        if dtype.startswith("float"):
            edges = [0, 1, 1023, 1024, 2047, 2048, 2049, 4095, 4096, n - 1]
            x[:, edges] = np.array([np.nan, -np.nan] * 5, dtype=dtype)
            for value in (-0.0, 0.0, np.inf, -np.inf):
                x[:, rng.integers(2, n - 1, size=150)] = value
        elif dtype != "bool":
            info = np.iinfo(dtype)
            x[:, rng.integers(0, n, size=150)] = info.max
            x[:, rng.integers(0, n, size=150)] = info.min
        return [
            Sample((x, 1), grad=False),
            Sample((np.ascontiguousarray(x.T), 0), grad=False),
            Sample((x, -1), {"descending": True}, grad=False),
        ]

    def sort_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return with_descending(dim_samples())(dtype, rng) + long_row_samples(dtype, rng)

    def np_msort(x: np.ndarray) -> np.ndarray:
        return np_sorted(x, 0)

    def msort_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [Sample(s.args[:1], {}, s.noncontig, s.grad) for s in dim_samples(scalar=False)(dtype, rng)]

    register(
        OpRecord(
            "sort",
            sort,
            sort_samples,
            lambda x, dim=-1, descending=False: np_sorted(x, dim, descending),
            call=sort_values,
            kernel="sort",
            methods=("sort",),
            dtypes=ORDERED,
            errors=(
                ErrorSample((np.ones((3, 4)), 2), {}, IndexError, "sort: dimension 2 out of range"),
                ErrorSample((np.ones(()), 1), {}, IndexError, "sort: dimension 1 out of range"),
            ),
        ),
        OpRecord(
            "sort_indices",
            sort,
            sort_samples,
            lambda x, dim=-1, descending=False: np_argsort(x, dim, descending),
            call=sort_indices,
            dtypes=ORDERED,
            grad=False,
            public=False,
        ),
        # the two composites themselves, on every device (one with a sort kernel never runs them)
        OpRecord(
            "sort_composite_pairs",
            sort,
            dim_samples(scalar=False, empty=False),
            lambda x, dim: np_argsort(x, dim),
            call=lambda x, dim: _sort_composite(x, wrap_dim(dim, x.ndim, "sort"))[1],
            dtypes=ORDERED,
            grad=False,
            public=False,
        ),
        OpRecord(
            "sort_composite_bitonic",
            sort,
            dim_samples(scalar=False, empty=False),
            lambda x, dim: np_argsort(x, dim),
            call=lambda x, dim: _sort_bitonic(x, wrap_dim(dim, x.ndim, "sort"))[1],
            dtypes=ORDERED,
            grad=False,
            public=False,
        ),
        OpRecord(
            "argsort",
            argsort,
            sort_samples,
            lambda x, dim=-1, descending=False: np_argsort(x, dim, descending),
            methods=("argsort",),
            dtypes=ORDERED,
            grad=False,
            errors=(
                ErrorSample((np.ones((3, 4)), -3), {}, IndexError, "argsort: dimension -3 out of range"),
            ),
        ),
        OpRecord("msort", msort, msort_samples, np_msort, methods=("msort",), dtypes=NUM + ("bool",)),
    )


_records()
