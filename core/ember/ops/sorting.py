"""Sorting and selection: sort, argsort, msort, topk, kthvalue, median, nanmedian, quantile, mode,
unique, unique_consecutive, searchsorted, bucketize.

One optional kernel, ``sort(x, dim) -> (values, indices)``: a stable ascending sort along one dim
with NaN after every number. Everything else here is composed from it: a descending sort is the
ascending sort of the flipped input, flipped back (which keeps ties in their original order and
puts NaN first, as PyTorch does), and the selections gather from the sorted values. A device
without the kernel runs a composite: :func:`_sort_composite` (ranks by comparing every pair) for
small inputs, :func:`_sort_bitonic` (a bitonic network on (value, position) keys) for large ones.

Gradients flow through values only (indices are integers): the sorted values' backward scatters
the gradient back to the positions they came from.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

from .. import dtypes as _dt
from ..autograd.grad_mode import no_grad
from ._core import STATE, Tensor, _make, attach, has_data, kernel, same_device, wrap_dim
from .reduction import ValuesIndices

__all__ = [
    "sort",
    "argsort",
    "msort",
    "topk",
    "kthvalue",
    "median",
    "nanmedian",
    "quantile",
    "nanquantile",
    "mode",
    "unique",
    "unique_consecutive",
    "searchsorted",
    "bucketize",
]


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
        from .indexing import scatter_add

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
    from .indexing import scatter_add
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
        from .indexing import scatter_add

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


# -- selections --------------------------------------------------------------------------------------
def _size(x: Tensor, d: int) -> int:
    return x.shape[d] if x.shape else 1


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:
    """The ``k`` largest (``largest=False``: smallest) elements along ``dim`` and their indices, in
    sorted order (``sorted`` is accepted; the result is always sorted). NaN counts as larger than
    every number; of equal elements the first ones are taken. Differentiable in the values."""
    _check_tensor("topk", x)
    d = wrap_dim(dim, x.ndim, "topk")
    n = _size(x, d)
    if not isinstance(k, int) or k < 0 or k > n:
        raise IndexError(
            f"topk: k ({k}) is out of range for dimension {d} of size {n}; expected 0 <= k <= {n}"
        )
    if x.ndim == 0:
        return sort(x)  # k of 0 or 1: PyTorch returns the element either way
    values, indices = sort(x, d, descending=largest)
    # fresh tensors, as PyTorch returns (not views of the whole sort)
    return ValuesIndices(values.narrow(d, 0, k).clone(), indices.narrow(d, 0, k).clone())


def _pick(x: Tensor, d: int, values: Tensor, indices: Tensor, pos: Tensor, keepdim: bool) -> ValuesIndices:
    """values and indices at positions ``pos`` (shape of x with dim d of size 1) of a sort of x."""
    v = _take(values, d, pos)
    i = _gathered(indices, d, pos)
    if not keepdim:
        v, i = v.squeeze(d), i.squeeze(d)
    return ValuesIndices(v, i)


def _position(x: Tensor, d: int, p: int) -> Tensor:
    """An int64 tensor of x's shape with dim d of size 1, filled with ``p``."""
    from .creation import full

    shape = tuple(1 if i == d else s for i, s in enumerate(x.shape))
    return full(shape, p, dtype=_dt.int64, device=x.device)


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """The ``k``-th smallest element (1-based) along ``dim`` and its index (of equal elements, the
    index of one of them). Differentiable in the values."""
    _check_tensor("kthvalue", x)
    d = wrap_dim(dim, x.ndim, "kthvalue")
    n = _size(x, d)
    if not isinstance(k, int) or k < 1 or k > n:
        raise IndexError(
            f"kthvalue: k ({k}) is out of range for dimension {d} of size {n}; expected 1 <= k <= {n}"
        )
    if x.ndim == 0:
        return sort(x)
    values, indices = sort(x, d)
    return _pick(x, d, values, indices, _position(x, d, k - 1), keepdim)


def _nonempty_dim(op: str, x: Tensor, d: int) -> None:
    if x.ndim and x.shape[d] == 0:
        raise IndexError(
            f"{op}: cannot reduce over dimension {d} of size 0 (shape {x.shape}); the {op} of no "
            "elements is undefined"
        )


def _median(op: str, x: Tensor, dim: Any, keepdim: bool, ignore_nan: bool) -> Any:
    from .elementwise import eq, isnan, where
    from .reduction import sum as _sum

    _check_tensor(op, x)
    if dim is None:
        if keepdim:
            raise TypeError(f"{op}: keepdim=True needs a dim; {op}(x) returns a 0-d tensor")
        if x.numel() == 0:
            if not x.dtype.is_floating_point:
                raise IndexError(f"{op}: the input is empty (shape {x.shape}) and has no {op}")
            from .creation import full

            return full((), math.nan, dtype=x.dtype, device=x.device)
        return _median(op, x.reshape(-1), 0, False, ignore_nan).values
    d = wrap_dim(dim, x.ndim, op)
    _nonempty_dim(op, x, d)
    if x.ndim == 0:
        return sort(x)
    n = x.shape[d]
    values, indices = sort(x, d)
    if not x.dtype.is_floating_point:
        return _pick(x, d, values, indices, _position(x, d, (n - 1) // 2), keepdim)
    with no_grad():
        nans = _sum(isnan(x), d, keepdim=True)  # NaNs sort last
        valid = n - nans
        if ignore_nan:  # the lower median of the numbers; of a row of NaNs, its middle
            pos = where(eq(valid, 0), (n - 1) // 2, (valid - 1) // 2)
        else:  # a row with a NaN has median NaN: the first NaN
            pos = where(eq(nans, 0), (n - 1) // 2, valid)
    return _pick(x, d, values, indices, pos, keepdim)


def median(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The lower median (of two middle elements, the smaller): of all elements as a 0-d tensor, or
    (values, indices) along ``dim``. NaN propagates: a row holding NaN has median NaN (the index
    of its first NaN), as in PyTorch. Differentiable in the values."""
    return _median("median", x, dim, keepdim, ignore_nan=False)


def nanmedian(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """:func:`median` ignoring NaN (NaN only where every element is NaN)."""
    return _median("nanmedian", x, dim, keepdim, ignore_nan=True)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(
    x: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *, interpolation: str = "linear"
) -> Tensor:
    """The ``q``-quantiles of ``x`` along ``dim`` (of all elements when None).

    ``q`` is a float or a 0-d/1-D tensor of x's dtype, in [0, 1]; with a 1-D ``q`` the result has
    a leading dim of ``len(q)``. ``interpolation`` between the two nearest sorted elements:
    ``linear`` (default), ``lower``, ``higher``, ``midpoint`` or ``nearest`` (half to even). A row
    holding NaN gives NaN; x must be float32 or float64. Differentiable in x.
    """
    return _quantile("quantile", x, q, dim, keepdim, interpolation, ignore_nan=False)


def nanquantile(
    x: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *, interpolation: str = "linear"
) -> Tensor:
    """:func:`quantile` of the numbers only (NaN ignored; NaN where a row holds nothing else)."""
    return _quantile("nanquantile", x, q, dim, keepdim, interpolation, ignore_nan=True)


def _quantile(
    op: str, x: Tensor, q: Any, dim: Any, keepdim: bool, interpolation: str, ignore_nan: bool
) -> Tensor:
    from .creation import full, tensor
    from .elementwise import ceil, clamp, eq, floor, isnan, round, where
    from .reduction import any as _any
    from .reduction import sum as _sum

    _check_tensor(op, x)
    if x.dtype not in (_dt.float32, _dt.float64):
        raise TypeError(f"{op}: input must be float32 or float64, got {x.dtype}; use x.float() or x.double()")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{op}: interpolation {interpolation!r} is not one of {', '.join(_INTERPOLATIONS)}")
    scalar_q = not isinstance(q, Tensor)
    if scalar_q:
        if not 0 <= q <= 1:
            raise ValueError(f"{op}: q must be in [0, 1], got {q}")
        qt = tensor([float(q)], dtype=x.dtype, device=x.device)
    else:
        same_device(op, x, q)
        if q.ndim > 1:
            raise ValueError(f"{op}: q must be a scalar or a 1-D tensor, got shape {q.shape}")
        if q.dtype is not x.dtype:
            raise TypeError(f"{op}: q ({q.dtype}) must have the input's dtype ({x.dtype}); use q.to(x.dtype)")
        if q.numel() and has_data(q):
            outside = ~((q >= 0) & (q <= 1))  # NaN included
            if bool(outside.any().item()):
                raise ValueError(f"{op}: q must be in [0, 1], got {q[outside].reshape(-1)[0].item()}")
        scalar_q = q.ndim == 0
        qt = q.reshape(-1)
    src = x.reshape(-1) if dim is None else x
    d = 0 if dim is None else wrap_dim(dim, x.ndim, op)
    src = src.reshape(1) if src.ndim == 0 else src
    xl = src.movedim(d, -1)  # (..., n)
    n = xl.shape[-1]
    m = qt.shape[0]
    lead = xl.shape[:-1]
    if n == 0:
        out = full(lead + (m,), math.nan, dtype=x.dtype, device=x.device)
    else:
        values = sort(xl, -1).values  # NaN last
        with no_grad():
            if ignore_nan:  # positions among each row's numbers (NaN sort last)
                valid = n - _sum(isnan(xl), -1, keepdim=True)
                pos = clamp(qt * (valid - 1), min=0)
            else:
                pos = qt * (n - 1)
            lo_f, hi_f = floor(pos), ceil(pos)
            if interpolation == "lower":
                hi_f = lo_f
            elif interpolation == "higher":
                lo_f = hi_f
            elif interpolation == "nearest":
                lo_f = hi_f = round(pos)
            lo = lo_f.long().expand(lead + (m,)).contiguous()
            hi = hi_f.long().expand(lead + (m,)).contiguous()
            w = (pos - lo_f).expand(lead + (m,))
        a = _take(values, values.ndim - 1, lo)
        b = _take(values, values.ndim - 1, hi)
        if interpolation == "linear":
            out = a + (b - a) * w
        elif interpolation == "midpoint":
            out = a + (b - a) * 0.5
        else:
            out = a
        with no_grad():
            undefined = eq(valid, 0) if ignore_nan else _any(isnan(xl), -1, keepdim=True)
        out = where(undefined, math.nan, out)
    out = out.movedim(-1, 0)  # (m, ...)
    if keepdim:
        kept = (1,) * x.ndim if dim is None else tuple(1 if i == d else s for i, s in enumerate(x.shape))
        out = out.reshape((m,) + kept)
    elif dim is None:
        out = out.reshape((m,))
    return out.squeeze(0) if scalar_q else out


def mode(x: Tensor, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """The most frequent value along ``dim`` (of several, the smallest) and the index of its last
    occurrence, as in PyTorch. NaNs never equal one another, so each counts once.
    Differentiable in the values."""
    from .creation import arange
    from .elementwise import ne, where
    from .joining import cat
    from .reduction import argmax
    from .scans import cummax
    from .shape import narrow

    _check_tensor("mode", x)
    d = wrap_dim(dim, x.ndim, "mode")
    _nonempty_dim("mode", x, d)
    if x.ndim == 0:
        return sort(x)
    values, indices = sort(x, d)
    n = x.shape[d]
    with no_grad():
        pos = arange(n, device=x.device).reshape(tuple(n if i == d else 1 for i in range(x.ndim)))
        first = _position(x, d, 1).bool()
        starts = (
            cat([first, ne(narrow(values, d, 1, n - 1), narrow(values, d, 0, n - 1))], d) if n > 1 else first
        )
        run_start = cummax(where(starts, pos, 0), d).values
        best = argmax(pos - run_start, d, keepdim=True)  # the first longest run: the smallest value
    return _pick(x, d, values, indices, best, keepdim)


# -- unique -----------------------------------------------------------------------------------------
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
    from .indexing import masked_select, scatter_add
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


# -- searchsorted, bucketize -----------------------------------------------------------------------
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


def _records() -> None:
    import warnings

    import numpy as np

    from .records import OpRecord, register
    from .samples import FLOATS, INTS, ErrorSample, Sample, rand_array

    ORDERED = ("bool", "uint8", "int32", "int64", "float16", "float32", "float64")
    NUM = ("int32", "int64", "float32", "float64")

    def np_argsort(x: np.ndarray, dim: int, descending: bool = False) -> np.ndarray:
        """Stable argsort; descending keeps equal elements in order and puts NaN first."""
        if x.ndim == 0:
            return np.zeros((), np.int64)
        if not descending:
            return np.argsort(x, axis=dim, kind="stable")
        n = x.shape[dim]
        flipped = np.argsort(np.flip(x, dim), axis=dim, kind="stable")
        return (n - 1) - np.flip(flipped, dim)

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


    def k_samples(first: int) -> Any:
        def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
            def a(*s: int) -> np.ndarray:
                return rand_array(rng, s, dtype)

            out = [
                Sample((a(7), 3)),
                Sample((a(3, 6), 2, 1)),
                Sample((a(2, 3, 4), 1, 0)),
                Sample((a(3, 5), 5, -1), noncontig=True),
                Sample((a(4, 3), 2, 0), noncontig="flip", grad=False),
                Sample((a(), 1), grad=False),
            ]
            if first == 0:
                out += [
                    Sample((a(3, 4), 2, 1), {"largest": False}),
                    Sample((a(3, 4), 0, 1), grad=False),
                    Sample((a(0, 3), 2, 1), grad=False),
                ]
            else:
                out.append(Sample((a(2, 5), 2, 1), {"keepdim": True}))
            if dtype.startswith("float"):
                x = a(3, 6)
                x[0, [1, 4]] = np.nan
                out.append(Sample((x, 2, 1), grad=False))
            return out

        return make

    def np_topk(
        x: np.ndarray, k: int, dim: int = -1, largest: bool = True, indices: bool = False
    ) -> np.ndarray:
        if x.ndim == 0:
            return np.zeros((), np.int64) if indices else x.copy()
        idx = np.take(np_argsort(x, dim, largest), np.arange(k), axis=dim)
        return idx if indices else np.take_along_axis(x, idx, dim)

    def np_kth(
        x: np.ndarray, k: int, dim: int = -1, keepdim: bool = False, indices: bool = False
    ) -> np.ndarray:
        if x.ndim == 0:
            return np.zeros((), np.int64) if indices else x.copy()
        idx = np.take(np_argsort(x, dim), [k - 1], axis=dim)
        out = idx if indices else np.take_along_axis(x, idx, dim)
        return out if keepdim else np.squeeze(out, dim)

    def np_median(
        x: np.ndarray, dim: Any = None, keepdim: bool = False, nan: bool = False, indices: bool = False
    ) -> np.ndarray:
        if dim is None:
            flat = x.reshape(-1)
            if flat.size == 0:
                return np.asarray(np.nan, x.dtype)
            return np_median(flat, 0, False, nan)
        if x.ndim == 0:
            return np.zeros((), np.int64) if indices else x.copy()
        order = np_argsort(x, dim)
        n = x.shape[dim]
        isnan = np.isnan(x) if x.dtype.kind == "f" else np.zeros(x.shape, bool)
        nans = isnan.sum(dim, keepdims=True)
        valid = n - nans
        if nan:
            pos = np.where(valid == 0, (n - 1) // 2, (valid - 1) // 2)
        else:
            pos = np.where(nans == 0, (n - 1) // 2, valid)
        idx = np.take_along_axis(order, pos, dim)
        out = idx if indices else np.take_along_axis(x, idx, dim)
        return out if keepdim else np.squeeze(out, dim)

    def median_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        out = [
            Sample((a(7),)),
            Sample((a(3, 4),)),
            Sample((a(3, 6), 1)),
            Sample((a(2, 3, 4), 0)),
            Sample((a(2, 5), 1, True)),
            Sample((a(3, 5), -1), noncontig=True),
            Sample((a(4, 3), 0), noncontig="flip", grad=False),
            Sample((a(), 0), grad=False),
        ]
        if dtype.startswith("float"):
            out.append(Sample((a(0, 3),), grad=False))  # NaN (an integer input raises)
            x = a(3, 6)
            x[0, [1, 4]] = np.nan
            x[2, :] = np.nan
            out += [Sample((x, 1), grad=False), Sample((x,), grad=False)]
        return out

    def values_call(f: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Tensor:
            out = f(*args, **kwargs)
            return out if isinstance(out, Tensor) else out.values

        return call

    def indices_call(f: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Tensor:
            return f(*args, **kwargs).indices

        return call

    def quantile_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        q = np.asarray([0.0, 0.25, 0.5, 0.9, 1.0], dtype=dtype)
        x = a(3, 6)
        x[0, 2] = np.nan
        out = [
            Sample((a(7), 0.3)),
            Sample((a(3, 4), q), grad=False),
            Sample((a(3, 6), q, 1), grad=False),
            Sample((a(3, 6), 0.4, 1)),
            Sample((a(2, 3, 4), 0.5, 0, True)),
            Sample((a(3, 4), q), {"keepdim": True}, grad=False),
            Sample((a(3, 5), q, -1), noncontig=True, grad=False),
            Sample((a(4, 3), 0.75, 0), noncontig="flip", grad=False),
            Sample((a(), np.asarray(0.5, dtype=dtype)), grad=False),
            Sample((a(0, 3), 0.5, 0), grad=False),
            Sample((x, q, 1), grad=False),
        ]
        for method in ("lower", "higher", "midpoint", "nearest"):
            out.append(Sample((a(3, 6), q, 1), {"interpolation": method}, grad=False))
            out.append(Sample((a(3, 6), 0.3, 1), {"interpolation": method}))
        return out

    def np_quantile(
        x: np.ndarray, q: Any, dim: Any = None, keepdim: bool = False, interpolation: str = "linear"
    ) -> np.ndarray:
        if x.shape and dim is not None and x.shape[dim] == 0:
            shape = (
                tuple(1 if i == dim else s for i, s in enumerate(x.shape))
                if keepdim
                else tuple(s for i, s in enumerate(x.shape) if i != dim)
            )
            return np.full(np.shape(q) + shape, np.nan)
        return np.quantile(x, q, axis=dim, keepdims=keepdim, method=interpolation)

    def np_nanquantile(x: np.ndarray, q: Any, *args: Any, **kwargs: Any) -> np.ndarray:
        with warnings.catch_warnings():  # all-NaN rows: NaN, with a warning numpy gives
            warnings.simplefilter("ignore", RuntimeWarning)
            if x.size == 0:
                return np_quantile(x, q, *args, **kwargs)
            kwargs = {("method" if k == "interpolation" else k): v for k, v in kwargs.items()}
            dim = args[0] if args else kwargs.pop("dim", None)
            keepdim = args[1] if len(args) > 1 else kwargs.pop("keepdim", False)
            return np.nanquantile(x, q, axis=dim, keepdims=keepdim, **kwargs)

    def nan_quantile_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        out = quantile_samples(dtype, rng)
        x = rand_array(rng, (4, 6), dtype)
        x[0, [1, 3]] = np.nan
        x[2, :] = np.nan
        q = np.asarray([0.0, 0.3, 0.5, 1.0], dtype=dtype)
        return out + [Sample((x, q, 1), grad=False), Sample((x, 0.5), grad=False)]

    def np_mode(x: np.ndarray, dim: int = -1, keepdim: bool = False, indices: bool = False) -> np.ndarray:
        if x.ndim == 0:
            return np.zeros((), np.int64) if indices else x.copy()
        moved = np.moveaxis(x, dim, -1)
        vals = np.empty(moved.shape[:-1], x.dtype)
        idx = np.empty(moved.shape[:-1], np.int64)
        for pos in np.ndindex(*moved.shape[:-1]):
            row = moved[pos]
            best = None
            for v in sorted(set(row.tolist()), key=lambda v: (v != v, v)):
                c = int(np.sum(row == v))  # NaN counts once each (NaN != NaN)
                c = max(c, 1)
                if best is None or c > best[1]:
                    best = (v, c)
            vals[pos] = best[0]
            hits = np.nonzero((row == best[0]) | ((row != row) & (best[0] != best[0])))[0]
            idx[pos] = hits[-1] if best[0] == best[0] else hits[0]
        out = idx if indices else vals
        return np.expand_dims(out, dim) if keepdim else out

    def mode_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return (
                rand_array(rng, s, dtype)
                if dtype.startswith("float")
                else rand_array(rng, s, dtype, -0.5, 0.5)
            )

        def f(*s: int) -> np.ndarray:  # floats with repeats: a few distinct values
            return np.asarray(rng.integers(-2, 2, size=s), dtype=dtype)

        out = [
            Sample((f(7), 0), grad=False),
            Sample((f(3, 6), 1), grad=False),
            Sample((f(2, 3, 4), 0), grad=False),
            Sample((f(2, 5), 1, True), grad=False),
            Sample((f(3, 5), -1), noncontig=True, grad=False),
            Sample((f(4, 3), 0), noncontig="flip", grad=False),
            Sample((a(), 0), grad=False),
            Sample((a(4, 5), 1)),
        ]
        return out

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

    def consecutive_parts(x: Tensor, **kwargs: Any) -> Tensor:
        from .joining import cat

        parts = unique_consecutive(x, return_inverse=True, return_counts=True, **kwargs)[1:]
        return cat([t.reshape(-1) for t in parts])

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
        OpRecord(
            "topk",
            topk,
            k_samples(0),
            np_topk,
            call=values_call(topk),
            methods=("topk",),
            dtypes=NUM,
            errors=(
                ErrorSample(
                    (np.ones(3), 4),
                    {},
                    IndexError,
                    "topk: k \\(4\\) is out of range for dimension 0 of size 3; expected 0 <= k <= 3",
                ),
                ErrorSample((np.ones(3), -1), {}, IndexError, "topk: k \\(-1\\) is out of range"),
            ),
        ),
        OpRecord(
            "topk_indices",
            topk,
            k_samples(0),
            lambda *a, **k: np_topk(*a, indices=True, **k),
            call=indices_call(topk),
            dtypes=NUM,
            grad=False,
            public=False,
        ),
        OpRecord(
            "kthvalue",
            kthvalue,
            k_samples(1),
            np_kth,
            call=values_call(kthvalue),
            methods=("kthvalue",),
            dtypes=NUM,
            errors=(
                ErrorSample(
                    (np.ones((2, 3)), 0, 1),
                    {},
                    IndexError,
                    "kthvalue: k \\(0\\) is out of range for dimension 1 of size 3; expected 1 <= k <= 3",
                ),
            ),
        ),
        OpRecord(
            "kthvalue_indices",
            kthvalue,
            k_samples(1),
            lambda *a, **k: np_kth(*a, indices=True, **k),
            call=indices_call(kthvalue),
            dtypes=NUM,
            grad=False,
            public=False,
        ),
        OpRecord(
            "median",
            median,
            median_samples,
            np_median,
            call=values_call(median),
            methods=("median",),
            dtypes=NUM,
            errors=(
                ErrorSample(
                    (np.ones((0, 3)), 0), {}, IndexError, "median: cannot reduce over dimension 0 of size 0"
                ),
                ErrorSample((np.ones(3),), {"keepdim": True}, TypeError, "median: keepdim=True needs a dim"),
            ),
        ),
        OpRecord(
            "median_indices",
            median,
            lambda dt, rng: [s for s in median_samples(dt, rng) if len(s.args) > 1],
            lambda *a, **k: np_median(*a, indices=True, **k),
            call=indices_call(median),
            dtypes=NUM,
            grad=False,
            public=False,
        ),
        OpRecord(
            "nanmedian",
            nanmedian,
            median_samples,
            lambda *a, **k: np_median(*a, nan=True, **k),
            call=values_call(nanmedian),
            methods=("nanmedian",),
            dtypes=NUM,
            errors=(
                ErrorSample(
                    (np.ones((2, 0)), 1),
                    {},
                    IndexError,
                    "nanmedian: cannot reduce over dimension 1 of size 0",
                ),
            ),
        ),
        OpRecord(
            "quantile",
            quantile,
            quantile_samples,
            np_quantile,
            methods=("quantile",),
            dtypes=FLOATS,
            errors=(
                ErrorSample((np.ones(3), 1.5), {}, ValueError, "quantile: q must be in \\[0, 1\\], got 1.5"),
                ErrorSample(
                    (np.ones(3), 0.5),
                    {"interpolation": "cubic"},
                    ValueError,
                    "quantile: interpolation 'cubic'",
                ),
                ErrorSample(
                    (np.ones(3, np.int64), 0.5),
                    {},
                    TypeError,
                    "quantile: input must be float32 or float64, got ember.int64",
                ),
            ),
        ),
        OpRecord(
            "nanquantile",
            nanquantile,
            nan_quantile_samples,
            np_nanquantile,
            methods=("nanquantile",),
            dtypes=FLOATS,
            errors=(
                ErrorSample(
                    (np.ones(3), 2.0), {}, ValueError, "nanquantile: q must be in \\[0, 1\\], got 2.0"
                ),
            ),
        ),
        OpRecord(
            "mode",
            mode,
            mode_samples,
            np_mode,
            call=values_call(mode),
            methods=("mode",),
            dtypes=NUM,
            errors=(
                ErrorSample(
                    (np.ones((0, 3)), 0), {}, IndexError, "mode: cannot reduce over dimension 0 of size 0"
                ),
            ),
        ),
        OpRecord(
            "mode_indices",
            mode,
            mode_samples,
            lambda *a, **k: np_mode(*a, indices=True, **k),
            call=indices_call(mode),
            dtypes=NUM,
            grad=False,
            public=False,
        ),
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
    del INTS


_records()
