"""Gather and scatter: reading and writing at integer indices along a dim.

The reads: gather, take_along_dim and index_select (a 1-D index selecting whole slices). The
writes, each returning a copy: scatter_add (a kernel; index_add adds through it), scatter,
scatter_reduce and index_copy (through one helper, :func:`_scatter_flat`, which index_put,
masked_scatter and put in :mod:`ember.ops.indexing` use too), and index_fill (through
masked_fill, here too). The index checks (:func:`_check_index`, :func:`_check_in_bounds`) read values
only to raise errors, so ``ember.compile`` runs them again on each replay.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..layout import broadcast_shapes
from ._core import STATE, Tensor, _make, attach, has_data, kernel, same_device, wrap_dim
from .shape import getitem_basic


# -- gather / scatter ----------------------------------------------------------------------------
def _check_index_shape(op: str, x: Tensor, d: int, index: Tensor, src: Tensor | None = None) -> None:
    """PyTorch's shape rule for gather/scatter: index may not be larger than the input in any dim
    but ``d`` (nor than ``src`` in any dim); a smaller index uses the leading part."""
    for i, n in enumerate(index.shape):
        if (i != d and x.ndim and n > x.shape[i]) or (
            src is not None and src.ndim == index.ndim and n > src.shape[i]
        ):
            what = f"self {x.shape} apart from dimension {d}" + (
                f" and src {src.shape}" if src is not None else ""
            )
            raise ValueError(
                f"{op}: index of shape {index.shape} is larger than {what} (dimension {i}); the index "
                "must be no larger than the input in every other dimension"
            )


def _check_index(op: str, x: Tensor, dim: int, index: Tensor) -> int:
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}: index must be an int64 tensor, got {type(index).__name__}")
    if index.dtype is not _dt.int64:
        if not index.dtype.is_integer:
            raise TypeError(f"{op}: index must be an integer tensor, got {index.dtype}")
        index = index.to(_dt.int64)
    same_device(op, x, index)
    d = wrap_dim(dim, x.ndim, op)
    if index.ndim != x.ndim and not (x.ndim == 0 and index.ndim <= 1):
        raise ValueError(f"{op}: index has {index.ndim} dims, but the input has {x.ndim}; they must match")
    _check_in_bounds(op, index, d, x.shape[d] if x.shape else 1)
    return d


def _check_in_bounds(op: str, index: Tensor, d: int, size: int) -> None:
    """IndexError naming the first bad index unless every index is in [0, size) (a value check:
    ``ember.compile`` runs it again on each replay's indices)."""
    if index.numel() and has_data(index):
        lo, hi = int(index.min().item()), int(index.max().item())
        if lo < 0 or hi >= size:
            raise IndexError(
                f"{op}: index {lo if lo < 0 else hi} is out of bounds for dimension {d} with size {size}"
            )


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j] = x[index[i][j]][j]`` for dim 0 (PyTorch's gather)."""
    d = _check_index("gather", x, dim, index)
    _check_index_shape("gather", x, d, index)
    index = index.to(_dt.int64)
    out = _make(kernel(x.device, "gather")(x._data, d, index._data), index.shape, x.dtype, x.device)
    if x.requires_grad and STATE.enabled:
        from .creation import zeros

        in_shape = x.shape  # as recorded (an in-place squeeze_/unsqueeze_ may change x's later)
        idx = index.detach()  # an alias whose shape stays as recorded (the index's may change)
        attach(
            out,
            "gather",
            lambda g: (scatter_add(zeros(in_shape, dtype=g.dtype, device=g.device), d, idx, g),),
            (x,),
        )
    return out


def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of x with ``src`` added at ``index`` along ``dim`` (out of place)."""
    d = _check_index("scatter_add", x, dim, index)
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add: src must be a tensor, got {type(src).__name__}")
    if src.ndim != index.ndim and not (src.ndim <= 1 and index.ndim <= 1):
        raise ValueError(f"scatter_add: src has {src.ndim} dims but index has {index.ndim}; they must match")
    _check_index_shape("scatter_add", x, d, index, src)
    index = index.to(_dt.int64)
    if src.shape != index.shape:  # PyTorch uses the leading part of a larger src
        if src.ndim == index.ndim:
            src = getitem_basic(src, tuple(slice(0, n) for n in index.shape))
        elif src.numel() >= index.numel():  # a 0-d and a 1-element 1-D operand
            src = src.reshape(-1)[: index.numel()].reshape(index.shape)
        else:
            raise ValueError(f"scatter_add: src of shape {src.shape} is smaller than index {index.shape}")
    same_device("scatter_add", x, src)
    sd = src._data if src.dtype is x.dtype else src.to(x.dtype)._data
    out = _make(kernel(x.device, "scatter_add")(x._data, d, index._data, sd), x.shape, x.dtype, x.device)
    if STATE.enabled and (x.requires_grad or src.requires_grad):
        # as recorded: an in-place squeeze_/unsqueeze_ of the index may change its shape later
        idx, gx, gsrc = index.detach(), x.requires_grad, src.requires_grad
        attach(
            out,
            "scatter_add",
            lambda g: (g if gx else None, gather(g, d, idx) if gsrc else None),
            (x, src),
        )
    return out


def index_select(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of x at ``index`` (1-D int) along ``dim``."""
    if not isinstance(index, Tensor) or index.ndim > 1:
        raise ValueError(
            f"index_select: index must be a 1-D integer tensor, got "
            f"{getattr(index, 'shape', type(index).__name__)}"
        )
    d = wrap_dim(dim, x.ndim, "index_select")
    index = index.reshape(-1)
    if not index.dtype.is_integer:
        raise TypeError(f"index_select: index must be an integer tensor, got {index.dtype}")
    same_device("index_select", x, index)
    size = x.shape[d] if x.shape else 1
    k = x.device.kernels.get("index_select")
    _check_in_bounds("index_select", index, d, size)
    index = index.to(_dt.int64)
    shape = x.shape[:d] + (index.shape[0],) + x.shape[d + 1 :]
    if k is not None:
        data = k(x._data, d, index._data)
    else:
        view = [1] * x.ndim
        view[d] = index.shape[0]
        full_idx = index.reshape(tuple(view)).expand(shape)
        data = kernel(x.device, "gather")(x._data, d, full_idx._data)
    out = _make(data, shape, x.dtype, x.device)
    if x.requires_grad and STATE.enabled:
        from .creation import zeros

        in_shape = x.shape  # as recorded (an in-place squeeze_/unsqueeze_ may change x's later)

        def grad(g: Tensor) -> tuple[Tensor]:
            view = [1] * len(in_shape)
            view[d] = index.shape[0]
            full_idx = index.reshape(tuple(view)).expand(shape)
            return (scatter_add(zeros(in_shape, dtype=g.dtype, device=g.device), d, full_idx, g),)

        attach(out, "index_select", grad, (x,))
    return out


def masked_fill(x: Tensor, mask: Tensor, value: Any) -> Tensor:
    """x with ``value`` where ``mask`` (bool, broadcastable) is true."""
    from .elementwise import where

    if not isinstance(mask, Tensor) or not mask.dtype.is_bool:
        raise TypeError(
            f"masked_fill: mask must be a bool tensor, got {getattr(mask, 'dtype', type(mask).__name__)}"
        )
    if isinstance(value, Tensor):
        if value.ndim:
            raise ValueError(f"masked_fill: value must be a 0-d tensor or a number, got shape {value.shape}")
        value = value.to(x.dtype)
    elif x.dtype.is_integer and isinstance(value, int) and not isinstance(value, bool):
        from .creation import _int_fits

        if not _int_fits(value, x.dtype):
            raise ValueError(
                f"masked_fill: value {value!r} cannot be converted to {x.dtype} without overflow"
            )
    out = where(mask, value, x)
    if out.shape != x.shape:
        raise ValueError(f"masked_fill: mask of shape {mask.shape} does not broadcast to {x.shape}")
    return out.to(x.dtype) if out.dtype is not x.dtype else out


# -- scatter family: every write goes through one helper -------------------------------------------
def _flat_positions(x: Tensor, d: int, index: Tensor) -> Tensor:
    """For scatter along dim ``d``: the position in ``x.reshape(-1)`` each element of ``index``
    writes to (index along d, its own coordinate along the other dims)."""
    from .creation import arange

    strides = [1] * x.ndim
    for i in range(x.ndim - 2, -1, -1):
        strides[i] = strides[i + 1] * x.shape[i + 1]
    lin = index.to(_dt.int64) * (strides[d] if x.ndim else 1)
    for k in range(index.ndim):
        if k != d and index.shape[k] > 1:
            shape = [1] * index.ndim
            shape[k] = index.shape[k]
            lin = lin + (arange(index.shape[k], device=x.device) * strides[k]).reshape(tuple(shape))
    return lin.expand(index.shape)


_COMBINE = {
    "sum": lambda a, b: a + b,
    "mean": lambda a, b: a + b,
    "prod": lambda a, b: a * b,
    "amax": lambda a, b: _ew().maximum(a, b),
    "amin": lambda a, b: _ew().minimum(a, b),
}


def _ew() -> Any:
    from . import elementwise

    return elementwise


def _scatter_flat(x: Tensor, pos: Tensor, values: Tensor, reduce: str, include_self: bool = True) -> Tensor:
    """A copy of x with ``values`` written at the flat positions ``pos`` (int64, in range, same
    shape as values), combined by ``reduce``: ``"set"`` (the last writer in order wins), ``"sum"``,
    ``"prod"``, ``"mean"``, ``"amax"``, ``"amin"``, with x's own value taking part when
    ``include_self``. Differentiable in x and values: every step is an Ember op.

    The positions are grouped on the host (as ``x[idx] = v`` does); each group is then reduced on
    the device by a segmented scan in log2(largest group) steps, so no dense (positions x writes)
    intermediate is ever made."""
    from .creation import arange, tensor, zeros
    from .elementwise import where
    from .joining import cat
    from .shape import clone

    p = pos.reshape(-1)
    v = values.reshape(-1)
    if v.dtype is not x.dtype:
        v = v.to(x.dtype)
    work = _dt.uint8 if x.dtype.is_bool else x.dtype  # gathers and where on a numeric dtype
    flat = x.reshape(-1).to(work) if work is not x.dtype else x.reshape(-1)
    v = v.to(work) if work is not v.dtype else v
    if p.numel() == 0:
        return clone(x)
    if reduce == "sum" and include_self:
        return scatter_add(flat, 0, p, v).reshape(x.shape).to(x.dtype)
    dev = x.device
    host = np.asarray(kernel(dev, "to_numpy")(p._data)).astype(np.int64)
    order = np.argsort(host, kind="stable")
    ps = host[order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
    ends = np.r_[starts[1:], len(ps)] - 1
    counts = ends - starts + 1
    unique = tensor(ps[starts], device=dev)
    if reduce == "set":
        vals = index_select(v, 0, tensor(order[ends], device=dev))
    else:
        combine = _COMBINE[reduce]
        vs = index_select(v, 0, tensor(order, device=dev))
        rank = np.arange(len(ps)) - np.repeat(starts, counts)
        s = 1
        while s < counts.max():  # segmented inclusive scan (Hillis-Steele)
            prev = cat([vs[:s], vs[:-s]])
            vs = where(tensor(rank >= s, device=dev), combine(vs, prev), vs)
            s *= 2
        vals = index_select(vs, 0, tensor(ends, device=dev))
        if include_self:
            vals = combine(index_select(flat, 0, unique), vals)
        if reduce == "mean":
            n = tensor(counts + (1 if include_self else 0), device=dev)
            vals = vals / n if work.is_floating_point else _ew().floor_divide(vals, n).to(work)
    # each written position takes its group's value (exact: a copy through index_select)
    k = unique.shape[0]
    writer = scatter_add(zeros(flat.shape[0], dtype=_dt.int64, device=dev), 0, unique, arange(k, device=dev))
    ones = zeros(k, dtype=_dt.uint8, device=dev) + 1
    mask = scatter_add(zeros(flat.shape[0], dtype=_dt.uint8, device=dev), 0, unique, ones).bool()
    out = where(mask, index_select(vals, 0, writer), flat)
    return out.reshape(x.shape).to(x.dtype) if work is not x.dtype else out.reshape(x.shape)


def _scatter_src(op: str, x: Tensor, index: Tensor, src: Any) -> Tensor:
    """``src`` as a tensor of index's shape and x's dtype (a number fills it; a larger tensor
    gives its leading part, as in PyTorch)."""
    from .creation import full

    if not isinstance(src, Tensor):
        return full(index.shape, src, dtype=x.dtype, device=x.device)
    same_device(op, x, src)
    if src.ndim != index.ndim and not (src.ndim <= 1 and index.ndim <= 1):
        raise ValueError(f"{op}: src has {src.ndim} dims but index has {index.ndim}; they must match")
    if src.shape != index.shape:
        if src.ndim == index.ndim:
            src = getitem_basic(src, tuple(slice(0, n) for n in index.shape))
        else:
            src = src.reshape(-1)[: index.numel()].reshape(index.shape)
    return src


def scatter(
    x: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None, reduce: str | None = None
) -> Tensor:
    """A copy of x with ``src`` (a tensor, or a number: ``value``) written at ``index`` along
    ``dim``: ``out[index[i][j]][j] = src[i][j]`` for dim 0. ``reduce="add"`` or ``"multiply"``
    combines with what is there instead. Where index repeats a position, the last write wins."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter: expected src (a tensor) or value (a number)")
    modes = {None: "set", "add": "sum", "multiply": "prod"}
    if reduce not in modes:
        raise ValueError(f"scatter: reduce must be 'add' or 'multiply' (or None), got {reduce!r}")
    d = _check_index("scatter", x, dim, index)
    _check_index_shape("scatter", x, d, index, src if isinstance(src, Tensor) else None)
    src = _scatter_src("scatter", x, index, src)
    return _scatter_flat(x, _flat_positions(x, d, index), src, modes[reduce])


def scatter_reduce(
    x: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """A copy of x with the ``src`` values at each ``index`` position along ``dim`` reduced into it:
    ``reduce`` is ``"sum"``, ``"prod"``, ``"mean"``, ``"amax"`` or ``"amin"``; ``include_self``
    says whether x's own value takes part at the positions written to."""
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # PyTorch accepts these too
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise ValueError(
            f"scatter_reduce: reduce must be one of 'sum', 'prod', 'mean', 'amax', 'amin', got {reduce!r}"
        )
    d = _check_index("scatter_reduce", x, dim, index)
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce: src must be a tensor, got {type(src).__name__}")
    _check_index_shape("scatter_reduce", x, d, index, src)
    src = _scatter_src("scatter_reduce", x, index, src)
    return _scatter_flat(x, _flat_positions(x, d, index), src, reduce, include_self)


def _index_1d(op: str, x: Tensor, dim: int, index: Any) -> tuple[int, Tensor]:
    """(dim, index) checked for the index_* ops: a 0-d or 1-D integer tensor in range of the dim."""
    if not isinstance(index, Tensor) or index.ndim > 1:
        raise ValueError(
            f"{op}: index must be a 0-d or 1-D integer tensor, got "
            f"{getattr(index, 'shape', type(index).__name__)}"
        )
    if not index.dtype.is_integer:
        raise TypeError(f"{op}: index must be an integer tensor, got {index.dtype}")
    same_device(op, x, index)
    d = wrap_dim(dim, x.ndim, op)
    size = x.shape[d] if x.ndim else 1
    if x.ndim == 0 and index.numel() > 1:
        raise ValueError(f"{op}: a 0-d tensor takes at most one index, got {index.numel()}")
    index = index.reshape(-1).to(_dt.int64)
    if index.numel() and has_data(index):
        lo, hi = int(index.min().item()), int(index.max().item())
        if lo < -size or hi >= size:
            raise IndexError(
                f"{op}: index {lo if lo < -size else hi} is out of bounds for dimension {d} with size {size}"
            )
        if lo < 0:
            index = _ew().where(index < 0, index + size, index)
    return d, index


def _index_source(op: str, x: Tensor, d: int, index: Tensor, source: Tensor) -> tuple[Tensor, Tensor]:
    """(source, index expanded to source's shape) for index_add / index_copy."""
    if not isinstance(source, Tensor):
        raise TypeError(f"{op}: source must be a tensor, got {type(source).__name__}")
    same_device(op, x, source)
    shape = (x.shape[:d] + (index.shape[0],) + x.shape[d + 1 :]) if x.ndim else (index.shape[0],)
    if source.ndim == 0 and x.ndim <= 1:
        source = source.reshape(1)
    if source.shape != shape:
        raise ValueError(
            f"{op}: source of shape {source.shape} does not match: dimension {d} must have the "
            f"index's length {index.shape[0]} and the other dims those of self {x.shape}, so {shape}"
        )
    view = [1] * len(shape)
    view[d] = index.shape[0]
    return source, index.reshape(tuple(view)).expand(shape)


def index_add(x: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """A copy of x with ``alpha * source`` added at the slices ``index`` of ``dim`` (repeated
    indices accumulate)."""
    d, idx = _index_1d("index_add", x, dim, index)
    source, full_idx = _index_source("index_add", x, d, idx, source)
    if alpha != 1:
        source = source * alpha
    flat_x = x.reshape(-1) if x.ndim == 0 else x
    return scatter_add(flat_x, d, full_idx, source).reshape(x.shape)


def index_copy(x: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of x with the slices ``index`` of ``dim`` replaced by those of ``source``."""
    d, idx = _index_1d("index_copy", x, dim, index)
    source, full_idx = _index_source("index_copy", x, d, idx, source)
    xx = x.reshape(-1) if x.ndim == 0 else x
    return _scatter_flat(x, _flat_positions(xx, d, full_idx), source, "set")


def index_fill(x: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """A copy of x with the slices ``index`` of ``dim`` set to ``value`` (a number or a 0-d tensor)."""
    from .creation import zeros

    d, idx = _index_1d("index_fill", x, dim, index)
    if isinstance(value, Tensor) and value.ndim:
        raise ValueError(f"index_fill: value must be a number or a 0-d tensor, got shape {value.shape}")
    n = x.shape[d] if x.ndim else 1
    hit = scatter_add(
        zeros(n, dtype=_dt.int64, device=x.device),
        0,
        idx,
        zeros(idx.shape, dtype=_dt.int64, device=x.device) + 1,
    )
    view = [1] * x.ndim
    if x.ndim:
        view[d] = n
    return masked_fill(x, hit.bool().reshape(tuple(view)), value)


def _wrap_negative(index: Tensor, size: int) -> Tensor:
    """Negative positions counted from the end (PyTorch's take_along_dim wraps them; gather does not)."""
    if index.numel() and (not has_data(index) or int(index.min().item()) < 0):
        return _ew().where(index < 0, index + size, index)
    return index


def take_along_dim(x: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """The values of x at ``indices`` along ``dim`` (x and indices broadcast in the other dims); no
    ``dim``: both flattened."""
    if not isinstance(indices, Tensor) or not indices.dtype.is_integer:
        got = indices.dtype if isinstance(indices, Tensor) else type(indices).__name__
        raise TypeError(f"take_along_dim: indices must be an integer tensor, got {got}")
    if dim is None:
        return gather(x.reshape(-1), 0, _wrap_negative(indices.reshape(-1), x.numel()))
    d = wrap_dim(dim, x.ndim, "take_along_dim")
    indices = _wrap_negative(indices, x.shape[d] if x.ndim else 1)
    if indices.ndim != x.ndim:
        raise ValueError(
            f"take_along_dim: input and indices must have the same number of dims, got {x.ndim} and "
            f"{indices.ndim}"
        )
    try:
        rest = broadcast_shapes(
            tuple(n for i, n in enumerate(x.shape) if i != d),
            tuple(n for i, n in enumerate(indices.shape) if i != d),
        )
    except ValueError:
        raise ValueError(
            f"take_along_dim: input {x.shape} and indices {indices.shape} do not broadcast apart from dim {d}"
        ) from None
    xs = rest[:d] + (x.shape[d],) + rest[d:]
    ishape = rest[:d] + (indices.shape[d],) + rest[d:]
    return gather(x.expand(xs), d, indices.expand(ishape))


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    from .records import OpRecord, register
    from .samples import NUMERIC, ErrorSample, Sample, rand_array, unary_samples

    def gather_ref(x: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
        sl = tuple(slice(None) if d == dim else slice(0, n) for d, n in enumerate(index.shape))
        return np.take_along_axis(x[sl], index, axis=dim)

    def scatter_add_ref(x: np.ndarray, dim: int, index: np.ndarray, src: np.ndarray) -> np.ndarray:
        out = x.copy()
        idx = list(np.indices(index.shape, sparse=True))
        idx[dim] = index
        np.add.at(out, tuple(idx), src)
        return out

    def gather_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        x = rand_array(rng, (4, 5), dtype)
        return [
            Sample((x, 0, rng.integers(0, 4, size=(3, 5)).astype(np.int64))),
            Sample((x, 1, rng.integers(0, 5, size=(4, 2)).astype(np.int64))),
            Sample((rand_array(rng, (3, 4), dtype), 1, rng.integers(0, 4, size=(2, 3)).astype(np.int64))),
        ]

    def scatter_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(4, 5), 0, rng.integers(0, 4, size=(3, 5)).astype(np.int64), a(3, 5))),
            Sample((a(4, 5), 1, rng.integers(0, 5, size=(4, 3)).astype(np.int64), a(4, 3))),
        ]

    def index_select_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample((rand_array(rng, (4, 5), dtype), 1, np.array([0, 4, 4, 1]))),
            Sample((rand_array(rng, (4, 5), dtype), 0, np.array([3, 0]))),
        ]

    register(
        OpRecord(
            "gather",
            gather,
            gather_samples,
            gather_ref,
            kernel="gather",
            methods=("gather",),
            dtypes=NUMERIC,
            errors=(
                ErrorSample(
                    (np.ones((3, 4)), 0, np.array([[7]])),
                    {},
                    IndexError,
                    "gather: index 7 is out of bounds for dimension 0 with size 3",
                ),
            ),
        ),
        OpRecord(
            "scatter_add",
            scatter_add,
            scatter_samples,
            scatter_add_ref,
            kernel="scatter_add",
            methods=("scatter_add",),
            inplace=("scatter_add_",),
            dtypes=NUMERIC,
        ),
        OpRecord(
            "index_select",
            index_select,
            index_select_samples,
            lambda x, d, i: np.take(x, i, d),
            kernel="index_select",
            methods=("index_select",),
            dtypes=NUMERIC,
            errors=(
                ErrorSample(
                    (np.ones((3, 4)), 0, np.array([3])),
                    {},
                    IndexError,
                    "index_select: index 3 is out of bounds for dimension 0 with size 3",
                ),
            ),
        ),
        OpRecord(
            "masked_fill",
            masked_fill,
            unary_samples(),
            lambda x: np.where(x > 0.5, -1.0, x).astype(x.dtype),
            call=lambda x: masked_fill(x, x > 0.5, -1.0),
            methods=("masked_fill",),
            inplace=("masked_fill_",),
            errors=(
                ErrorSample(
                    (np.ones((3, 4)), np.ones((3, 4)), 1.0),
                    {},
                    TypeError,
                    "masked_fill: mask must be a bool tensor, got ember.float64",
                ),
            ),
        ),
    )
    _scatter_records()


def _scatter_records() -> None:
    """Records of the scatter family, take_along_dim, index_add, index_copy and index_fill."""
    from .records import OpRecord, register
    from .samples import NUMERIC, ErrorSample, Sample, rand_array

    def ints(rng: np.random.Generator, hi: int, *shape: int) -> np.ndarray:
        return rng.integers(0, hi, size=shape).astype(np.int64)

    def coords(index: np.ndarray, dim: int) -> tuple:
        idx = list(np.indices(index.shape, sparse=True))
        idx[dim] = index
        return tuple(idx)

    def lead(src: Any, index: np.ndarray) -> Any:
        if not isinstance(src, np.ndarray):
            return np.full(index.shape, src)
        return src[tuple(slice(0, n) for n in index.shape)]

    def scatter_ref(
        x: np.ndarray, dim: int, index: np.ndarray, src: Any, reduce: str | None = None
    ) -> np.ndarray:
        out = x.copy()
        v = lead(src, index).astype(x.dtype)
        if reduce is None:
            # numpy's fancy assignment writes in order: the last write to a position wins
            out[coords(index, dim)] = v
        else:
            (np.add if reduce == "add" else np.multiply).at(out, coords(index, dim), v)
        return out

    def scatter_reduce_ref(
        x: np.ndarray, dim: int, index: np.ndarray, src: np.ndarray, reduce: str, include_self: bool = True
    ) -> np.ndarray:
        out = x.copy()
        at = coords(index, dim)
        v = lead(src, index)
        hit = np.zeros(x.shape, dtype=bool)
        hit[at] = True
        if not include_self:
            ident = {"sum": 0, "mean": 0, "prod": 1}.get(reduce)
            if ident is None:
                info = np.finfo(x.dtype) if x.dtype.kind == "f" else np.iinfo(x.dtype)
                ident = info.min if reduce == "amax" else info.max
            out[hit] = ident
        ufunc = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}
        ufunc[reduce].at(out, at, v)
        if reduce == "mean":
            n = np.zeros(x.shape, dtype=np.int64)
            np.add.at(n, at, 1)
            n = n + (1 if include_self else 0)
            n[~hit] = 1
            out = out / n if x.dtype.kind == "f" else out // n
        return out.astype(x.dtype)

    def scatter_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        # unique positions per column (dim 0) / row (dim 1): the order of repeated writes is PyTorch's
        # implementation detail
        col = np.stack([rng.permutation(4)[:3] for _ in range(5)], axis=1)
        return [
            Sample((a(4, 5), 0, col, a(3, 5))),
            Sample((a(4, 5), 1, np.stack([rng.permutation(5)[:2] for _ in range(4)]), a(4, 3))),
            Sample((a(4, 5), 0, col[:, :2], 2)),  # a number
            Sample((a(4, 5), 0, ints(rng, 4, 3, 5), a(3, 5)), {"reduce": "add"}, grad=False),
            Sample((a(4, 5), -1, ints(rng, 5, 4, 4), a(4, 4)), {"reduce": "multiply"}),
            Sample((a(4, 5), 0, col, a(5, 5)), noncontig=True, grad=False),
        ]

    def scatter_reduce_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        out = []
        for i, reduce in enumerate(("sum", "prod", "mean", "amax", "amin")):
            for include_self in (True, False):
                dim = i % 2
                index = ints(rng, 4, 6, 3) if dim == 0 else ints(rng, 3, 4, 6)
                # gradchecks of half of them (alternating include_self) keep the kit quick
                out.append(
                    Sample(
                        (a(4, 3), dim, index, a(*index.shape)),
                        {"reduce": reduce, "include_self": include_self},
                        grad=include_self == (i % 2 == 0),
                    )
                )
        out.append(
            Sample((a(5, 4), 0, ints(rng, 5, 3, 4), a(3, 4)), {"reduce": "amax"}, noncontig=True, grad=False)
        )
        return out

    def tad_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        x = rand_array(rng, (3, 4), dtype)
        return [
            Sample((x, ints(rng, 3, 2, 4)), {"dim": 0}),
            Sample((x, ints(rng, 4, 1, 2)), {"dim": 1}),  # broadcast in dim 0
            Sample((x, ints(rng, 12, 5))),  # no dim: the flattened x
            Sample((rand_array(rng, (4, 3), dtype), ints(rng, 3, 4, 2)), {"dim": -1}, noncontig=True),
        ]

    def tad_ref(x: np.ndarray, index: np.ndarray, dim: int | None = None) -> np.ndarray:
        if dim is None:
            return np.take(x.reshape(-1), index.reshape(-1))
        return np.take_along_axis(x, index, axis=dim)

    def index_samples(unique: bool, with_value: bool) -> Any:
        def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
            def a(*s: int) -> np.ndarray:
                return rand_array(rng, s, dtype)

            i0 = np.array([3, 0, 2]) if unique else np.array([3, 0, 3])
            i1 = np.array([4, 1]) if unique else np.array([1, 1])

            def last(x: np.ndarray, d: int, i: np.ndarray) -> Any:
                if with_value:
                    return -1.5 if dtype.startswith("float") else 7
                shape = list(x.shape)
                shape[d] = len(i)
                return a(*shape)

            x = a(4, 5)
            return [
                Sample((x, 0, i0, last(x, 0, i0))),
                Sample((x, 1, i1, last(x, 1, i1))),
                Sample((x, -1, np.array([2]), last(x, 1, np.array([2])))),
                Sample((a(5, 4), 1, i1 % 4, last(a(5, 4), 1, i1)), noncontig=True),
            ]

        return make

    def moved(x: np.ndarray, d: int) -> np.ndarray:
        return np.moveaxis(x, d, 0)

    def index_add_ref(x: np.ndarray, d: int, i: np.ndarray, s: np.ndarray, alpha: Any = 1) -> np.ndarray:
        out = x.copy()
        np.add.at(moved(out, d), i, moved(s, d) * alpha)
        return out

    def index_copy_ref(x: np.ndarray, d: int, i: np.ndarray, s: np.ndarray) -> np.ndarray:
        out = x.copy()
        moved(out, d)[i] = moved(s, d)
        return out

    def index_fill_ref(x: np.ndarray, d: int, i: np.ndarray, v: Any) -> np.ndarray:
        out = x.copy()
        moved(out, d)[i] = v
        return out

    register(
        OpRecord(
            "scatter",
            scatter,
            scatter_samples,
            scatter_ref,
            methods=("scatter",),
            inplace=("scatter_",),
            dtypes=NUMERIC,
            reads_values=True,
            errors=(
                ErrorSample(
                    (np.ones((3, 4)), 0, np.array([[3]]), np.ones((1, 1))),
                    {},
                    IndexError,
                    "scatter: index 3 is out of bounds for dimension 0 with size 3",
                ),
                ErrorSample(
                    (np.ones((3, 4)), 0, np.array([[0]]), np.ones((1, 1))),
                    {"reduce": "max"},
                    ValueError,
                    "scatter: reduce must be 'add' or 'multiply'",
                ),
            ),
        ),
        OpRecord(
            "scatter_reduce",
            scatter_reduce,
            scatter_reduce_samples,
            scatter_reduce_ref,
            methods=("scatter_reduce",),
            inplace=("scatter_reduce_",),
            dtypes=NUMERIC,
            reads_values=True,
            errors=(
                ErrorSample(
                    (np.ones((3, 4)), 0, np.array([[0]]), np.ones((1, 1)), "maximum"),
                    {},
                    ValueError,
                    "scatter_reduce: reduce must be one of 'sum', 'prod', 'mean', 'amax', 'amin', "
                    "got 'maximum'",
                ),
                ErrorSample(
                    (np.ones((3, 4)), 0, np.array([[0, 1, 2, 0, 0]]), np.ones((1, 5)), "sum"),
                    {},
                    ValueError,
                    "scatter_reduce: index of shape \\(1, 5\\) is larger than",
                ),
            ),
        ),
        OpRecord(
            "take_along_dim",
            take_along_dim,
            tad_samples,
            tad_ref,
            methods=("take_along_dim",),
            dtypes=NUMERIC,
            errors=(
                ErrorSample(
                    (np.ones((3, 4)), np.array([[0.5]])),
                    {},
                    TypeError,
                    "take_along_dim: indices must be an integer tensor, got ember.float64",
                ),
            ),
        ),
        OpRecord(
            "index_add",
            index_add,
            index_samples(False, False),
            index_add_ref,
            methods=("index_add",),
            inplace=("index_add_",),
            dtypes=NUMERIC,
            errors=(
                ErrorSample(
                    (np.ones((3, 4)), 0, np.array([0, 1]), np.ones((3, 4))),
                    {},
                    ValueError,
                    "index_add: source of shape \\(3, 4\\) does not match",
                ),
                ErrorSample(
                    (np.ones((3, 4)), 1, np.array([4]), np.ones((3, 1))),
                    {},
                    IndexError,
                    "index_add: index 4 is out of bounds for dimension 1 with size 4",
                ),
            ),
        ),
        OpRecord(
            "index_add_alpha",
            lambda x, d, i, s: index_add(x, d, i, s, alpha=2),
            index_samples(False, False),
            lambda x, d, i, s: index_add_ref(x, d, i, s, 2),
            dtypes=NUMERIC,
            public=False,
        ),
        OpRecord(
            "index_copy",
            index_copy,
            index_samples(True, False),
            index_copy_ref,
            methods=("index_copy",),
            inplace=("index_copy_",),
            dtypes=NUMERIC,
            reads_values=True,
        ),
        OpRecord(
            "index_fill",
            index_fill,
            index_samples(False, True),
            index_fill_ref,
            methods=("index_fill",),
            inplace=("index_fill_",),
            dtypes=NUMERIC,
            errors=(
                ErrorSample(
                    (np.ones((3, 4)), 0, np.array([[0]]), 1.0),
                    {},
                    ValueError,
                    "index_fill: index must be a 0-d or 1-D integer tensor",
                ),
            ),
        ),
    )


_records()
