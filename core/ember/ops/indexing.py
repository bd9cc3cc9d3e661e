"""Indexing: ``x[key]`` and ``x[key] = v`` (basic and advanced), and the ops that are forms of them:
masked_select (``x[mask]``), masked_scatter (``x[mask] = source``, out of place), index_put
(``x[indices] = values``, out of place), nonzero (the positions a mask selects), take and put (the
flattened x at positions).

Basic keys (ints, slices, None, Ellipsis) give views (:func:`ember.ops.shape.getitem_basic`);
advanced keys (integer or bool tensors and lists) become one linear index into the indexed dims,
read with index_select (``x[key] = v`` writes with scatter_add and index_select); index_put,
masked_scatter and put write through :func:`ember.ops.gather_scatter._scatter_flat`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..layout import broadcast_shapes
from ._core import STATE, Tensor, _make, has_data, kernel, same_device
from .gather_scatter import _ew, _scatter_flat, index_select, scatter_add
from .gather_scatter import gather as gather  # re-exported: linalg imports it from here
from .shape import getitem_basic, normalize_basic_key


def _key_tuple(key: Any) -> tuple:
    if isinstance(key, tuple):
        return key
    return (key,)


def _is_advanced(k: Any) -> bool:
    return isinstance(k, (Tensor, list, np.ndarray)) or (isinstance(k, bool))


def _to_index_tensor(x: Tensor, k: Any) -> Tensor:
    from .creation import tensor

    if isinstance(k, Tensor):
        if k.device is not x.device:
            k = k.to(x.device)
        return _uint8_as_mask(k)
    if isinstance(k, bool):
        return tensor(k, device=x.device)
    t = tensor(k, device=x.device)
    if t.numel() == 0:
        t = t.to(_dt.int64)
    return _uint8_as_mask(t)


def _uint8_as_mask(t: Tensor) -> Tensor:
    """PyTorch reads a uint8 index as a mask (deprecated there, with a warning), not as positions."""
    if t.dtype is not _dt.uint8:
        return t
    import warnings

    warnings.warn(
        "indexing with a uint8 tensor treats it as a mask, as PyTorch does (deprecated there too); "
        "use a bool mask (idx.bool()) or int64 positions (idx.long())",
        UserWarning,
        stacklevel=4,
    )
    return t.to(_dt.bool_)


def getitem(x: Tensor, key: Any) -> Tensor:
    """``x[key]``: ints, slices, None, Ellipsis give views; integer/bool tensors (or lists) index
    advanced, with numpy/PyTorch placement of the indexed dims."""
    key = _key_tuple(key)
    if not any(_is_advanced(k) for k in key):
        return getitem_basic(x, key)
    # split: apply the basic part first, keeping the advanced indices' positions
    basic: list[Any] = []
    adv: list[tuple[int, Tensor]] = []  # (dim position in the basic view, index tensor)
    dim = 0
    n_consumed = sum(
        (
            _to_index_tensor(x, k).ndim
            if (isinstance(k, (Tensor, list, np.ndarray)) and _to_index_tensor(x, k).dtype.is_bool)
            else 1
        )
        for k in key
        if k is not None and k is not Ellipsis and not isinstance(k, bool)
    )
    for k in key:
        if k is Ellipsis:
            n = x.ndim - n_consumed
            basic.extend([slice(None)] * n)
            dim += n
        elif k is None:
            basic.append(None)
            dim += 1
        elif isinstance(k, int) and not isinstance(k, bool):
            basic.append(k)
        elif isinstance(k, slice):
            basic.append(k)
            dim += 1
        else:
            t = _to_index_tensor(x, k)
            if t.dtype.is_bool:
                if t.ndim == 0:  # x[True] adds a dim of 1, x[False] of 0
                    basic.append(None)
                    adv.append((dim, _bool_scalar_index(t)))
                    dim += 1
                    continue
                start = len([b for b in basic if b is not None])
                for i, (n, m) in enumerate(zip(t.shape, x.shape[start : start + t.ndim])):
                    if n != m:
                        raise IndexError(
                            f"the shape of the mask {t.shape} at index {i} does not match the "
                            f"shape of the indexed tensor {x.shape} at index {start + i}"
                        )
                coords = nonzero(t)
                for j in range(t.ndim):
                    basic.append(slice(None))
                    adv.append((dim, coords[:, j]))
                    dim += 1
            else:
                if t.dtype.is_differentiable:  # floating or complex
                    raise IndexError(
                        f"tensors used as indices must be long, int or bool tensors, got {t.dtype}"
                    )
                basic.append(slice(None))
                adv.append((dim, t))
                dim += 1
    base = getitem_basic(x, tuple(basic))
    return _advanced(base, adv)


def _bool_scalar_index(t: Tensor) -> Tensor:
    from .creation import zeros

    n = 1 if t.item() else 0
    return zeros((n,), dtype=_dt.int64, device=t.device)


def _linear_index(base: Tensor, adv: list[tuple[int, Tensor]], op: str) -> tuple[Tensor, list[int]]:
    """Broadcast the index tensors, wrap negatives, check bounds; return the linear index into the
    advanced dims (moved to the front, row-major) and the list of advanced dims."""
    dims = [d for d, _ in adv]
    if len(set(dims)) != len(dims):
        raise IndexError(f"{op}: a dimension is indexed twice")
    idx_shape = broadcast_shapes(*(t.shape for _, t in adv))
    lin = None
    for d, t in adv:
        size = base.shape[d]
        t = t.to(_dt.int64)
        if t.numel() and not has_data(t):  # shape-only device: wrap without looking
            from .elementwise import lt, where

            t = where(lt(t, 0), t + size, t)
        elif t.numel():
            lo, hi = int(t.min().item()), int(t.max().item())
            if lo < -size or hi >= size:
                bad = lo if lo < -size else hi
                raise IndexError(f"{op}: index {bad} is out of bounds for dimension {d} with size {size}")
            if lo < 0:
                from .elementwise import lt, where

                t = where(lt(t, 0), t + size, t)
        lin = t if lin is None else lin * size + t
    assert lin is not None
    return lin.expand(idx_shape), dims


def _advanced(base: Tensor, adv: list[tuple[int, Tensor]]) -> Tensor:
    lin, dims = _linear_index(base, adv, "index")
    rest = [i for i in range(base.ndim) if i not in dims]
    moved = base.permute(dims + rest)
    flat = moved.reshape((math.prod(base.shape[d] for d in dims),) + tuple(base.shape[i] for i in rest))
    out = index_select(flat, 0, lin.reshape(-1))
    out = out.reshape(lin.shape + flat.shape[1:])
    adjacent = dims == list(range(dims[0], dims[0] + len(dims)))
    if adjacent and dims[0] > 0:
        k = lin.ndim
        n_before = dims[0]
        order = list(range(k, k + n_before)) + list(range(k)) + list(range(k + n_before, out.ndim))
        out = out.permute(order)
    return out


def setitem(x: Tensor, key: Any, value: Any) -> None:
    """``x[key] = value`` in place, value broadcast and cast to x's dtype."""
    from .elementwise import where

    key = _key_tuple(key)
    if STATE.enabled and x.requires_grad and x.grad_fn is None:
        raise RuntimeError(
            f"setitem: a leaf tensor that requires grad (shape {x.shape}) is being used in "
            "an in-place operation; wrap the assignment in ember.no_grad()"
        )
    track = STATE.enabled and (x.requires_grad or getattr(value, "requires_grad", False))
    if track and x._base is not None:
        raise RuntimeError(
            "setitem: in-place assignment into a view of a tensor that requires grad is "
            "not supported; assign into the base tensor or use an out-of-place op"
        )
    v = value if isinstance(value, Tensor) else None
    if v is not None and v.device is not x.device:
        same_device("setitem", x, v)
    advanced = any(_is_advanced(k) for k in key)
    if not track:
        if not advanced:
            target = getitem_basic(x, key)
            _copy_into(target, value)
        elif (
            len(key) == 1
            and isinstance(key[0], Tensor)
            and key[0].dtype.is_bool
            and key[0].shape == x.shape
            and (not isinstance(value, Tensor) or value.numel() == 1)
        ):  # one value for every selected element (x[mask] = values takes them in order, below)
            _copy_into(x, where(key[0], _cast_value(value, x), x))
        else:
            _copy_into(x, _index_put(x, key, value))
        x._version[0] += 1
        return
    # recorded: compute the new value functionally, then adopt its graph
    if not advanced:
        from .creation import ones
        from .shape import _embed

        norm, shape, _, _ = normalize_basic_key(x, key)
        vb = value if isinstance(value, Tensor) else _make_full(shape, value, x)
        vb = vb.to(x.dtype).expand(shape) if vb.shape != shape else vb.to(x.dtype)
        mask = _embed(ones(shape, dtype=_dt.bool_, device=x.device), x.shape, key)
        new = where(mask, _embed(vb, x.shape, key), x)
    else:
        # computed from an alias with its own version counter: the views taken here belong to the
        # old value of x, which the write below replaces on purpose
        old = _make(x._data, x.shape, x.dtype, x.device)
        old.grad_fn, old.requires_grad = x.grad_fn, x.requires_grad
        new = _index_put(old, key, value)
    from .inplace import write_into

    write_into(x, new, "setitem")
    x._version[0] += 1
    x.grad_fn = new.grad_fn
    x.requires_grad = new.requires_grad


def _make_full(shape: tuple[int, ...], value: Any, x: Tensor) -> Tensor:
    from .creation import full

    return full(shape, value, dtype=x.dtype, device=x.device)


def _cast_value(value: Any, x: Tensor) -> Any:
    if isinstance(value, Tensor):
        return value.to(x.dtype)
    return value


def _copy_into(target: Tensor, value: Any) -> None:
    if isinstance(value, Tensor):
        src = value.to(target.dtype) if value.dtype is not target.dtype else value
        try:
            broadcast_shapes(src.shape, target.shape)
            if broadcast_shapes(src.shape, target.shape) != target.shape:
                raise ValueError
        except ValueError:
            raise ValueError(
                f"setitem: value of shape {value.shape} cannot be broadcast to the indexed "
                f"shape {target.shape}"
            ) from None
        if src.ndim > target.ndim:
            src = src.reshape(src.shape[src.ndim - target.ndim :])
        from .inplace import write_into

        write_into(target, src, "setitem")  # x[1:] = x[:-1] reads the source before writing
    else:
        from .creation import full

        try:
            fill = full((), value, dtype=target.dtype, device=target.device)
        except ValueError as exc:
            raise ValueError(f"setitem: {str(exc).removeprefix('full: ')}") from None
        kernel(target.device, "copy_")(target._data, fill._data)


def _index_put(x: Tensor, key: tuple, value: Any) -> Tensor:
    """A copy of x with ``value`` written at the advanced ``key`` (differentiable)."""
    # positions: index an arange of x's size with the same key
    from .creation import arange, ones_like, tensor, zeros
    from .elementwise import where

    pos = getitem(arange(x.numel(), device=x.device).reshape(x.shape), key)
    flat = x.reshape(-1)
    work_dt = _dt.uint8 if x.dtype.is_bool else x.dtype
    flat_w = flat.to(work_dt)
    if isinstance(value, Tensor):
        v = value.to(work_dt)
        try:
            v = v.expand(pos.shape) if v.shape != pos.shape else v
        except ValueError:
            raise ValueError(
                f"setitem: value of shape {value.shape} cannot be broadcast to the indexed shape {pos.shape}"
            ) from None
    else:
        from .creation import full

        v = full(pos.shape, value, dtype=work_dt, device=x.device)
    p = pos.reshape(-1)
    vf = v.reshape(-1)
    if p.numel():
        # a position written twice keeps the last value, as in PyTorch (adding deltas would sum them)
        host = np.asarray(kernel(x.device, "to_numpy")(p._data))
        _, last = np.unique(host[::-1], return_index=True)
        if len(last) != len(host):
            keep = tensor(np.sort(len(host) - 1 - last), device=x.device)
            p, vf = index_select(p, 0, keep), index_select(vf, 0, keep)
        # copy the values (exact: no arithmetic on them), each position from its single writer
        n = flat_w.shape[0]
        writer = scatter_add(
            zeros(n, dtype=_dt.int64, device=x.device), 0, p, arange(p.shape[0], device=x.device)
        )
        written = scatter_add(zeros(n, dtype=_dt.int64, device=x.device), 0, p, ones_like(p))
        flat_w = where(written.bool(), index_select(vf, 0, writer), flat_w)
    out = flat_w.reshape(x.shape)
    return out.to(x.dtype) if work_dt is not x.dtype else out


def nonzero(x: Tensor, as_tuple: bool = False) -> Any:
    """Coordinates of nonzero elements: an (n, ndim) int64 tensor, or a tuple of 1-D tensors."""
    n_dim = max(x.ndim, 1)
    data = kernel(x.device, "nonzero")(x._data if x.ndim else x.reshape(1)._data)
    # nonzero is data-dependent: the only way to know n is to ask the device
    n = kernel(x.device, "to_numpy")(data).shape[0] if not hasattr(data, "shape") else data.shape[0]
    out = _make(data, (n, n_dim), _dt.int64, x.device)
    if as_tuple:
        return tuple(out[:, i] for i in range(n_dim))
    if not x.ndim:  # a 0-d input has no coordinates: (n, 0), as in PyTorch (as_tuple gives (1-D,))
        return out[:, :0]
    return out


def masked_select(x: Tensor, mask: Tensor) -> Tensor:
    """The elements of x where ``mask`` (bool, broadcastable with x) is true, as a 1-D tensor."""
    if not isinstance(mask, Tensor) or not mask.dtype.is_bool:
        raise TypeError(
            f"masked_select: mask must be a bool tensor, got {getattr(mask, 'dtype', type(mask).__name__)} "
            "(an integer tensor would index by position); use mask.bool()"
        )
    shape = broadcast_shapes(x.shape, mask.shape)
    return getitem(x.expand(shape), (mask.expand(shape),))


def take(x: Tensor, index: Tensor) -> Tensor:
    """Elements of the flattened x at ``index`` (negative indices count from the end)."""
    from .elementwise import lt, where

    if not isinstance(index, Tensor) or not index.dtype.is_integer:
        got = index.dtype if isinstance(index, Tensor) else type(index).__name__
        raise TypeError(f"take: index must be an integer tensor, got {got}")
    flat = index.reshape(-1)
    n = x.numel()
    if flat.numel() and has_data(flat):
        lo, hi = int(flat.min().item()), int(flat.max().item())
        if lo < -n or hi >= n:
            raise IndexError(
                f"take: index {lo if lo < -n else hi} is out of range for a tensor of {n} elements "
                f"(valid: {-n} .. {n - 1})"
            )
    if flat.numel():
        flat = where(lt(flat, 0), flat + n, flat)
    return index_select(x.reshape(-1), 0, flat).reshape(index.shape)


def index_put(x: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """A copy of x with ``x[indices] = values`` (``accumulate``: ``x[indices] += values``, repeated
    positions summed). ``indices`` is a tuple of index tensors (integer or bool), one per dim."""
    from .creation import arange

    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put: indices must be a tuple of tensors, got {type(indices).__name__}")
    key = tuple(indices)
    pos = getitem(arange(x.numel(), device=x.device).reshape(x.shape), key)
    if isinstance(values, Tensor):
        same_device("index_put", x, values)
        try:
            v = values.expand(pos.shape) if values.shape != pos.shape else values
        except ValueError:
            raise ValueError(
                f"index_put: values of shape {values.shape} cannot be broadcast to the indexed shape "
                f"{pos.shape}"
            ) from None
    else:
        from .creation import full

        v = full(pos.shape, values, dtype=x.dtype, device=x.device)
    return _scatter_flat(x, pos, v, "sum" if accumulate else "set")


def masked_scatter(x: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of x with the elements where ``mask`` is true replaced, in row-major order, by the
    first elements of ``source``."""
    from .creation import arange

    if not isinstance(mask, Tensor) or not mask.dtype.is_bool:
        raise TypeError(
            f"masked_scatter: mask must be a bool tensor, got {getattr(mask, 'dtype', type(mask).__name__)}"
        )
    shape = broadcast_shapes(x.shape, mask.shape)
    if shape != x.shape:
        x = x.expand(shape)
    pos = masked_select(arange(x.numel(), device=x.device).reshape(x.shape), mask.expand(shape))
    k = pos.shape[0]
    if source.numel() < k:
        raise ValueError(
            f"masked_scatter: source has {source.numel()} elements, fewer than the {k} the mask selects"
        )
    return _scatter_flat(x, pos, source.reshape(-1)[:k], "set")


def put(x: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of x with ``source`` written at the positions ``index`` of the flattened x (negative
    positions count from the end); ``accumulate`` adds instead."""
    n = x.numel()
    if not isinstance(index, Tensor) or not index.dtype.is_integer:
        got = index.dtype if isinstance(index, Tensor) else type(index).__name__
        raise TypeError(f"put: index must be an integer tensor, got {got}")
    flat = index.reshape(-1).to(_dt.int64)
    if flat.numel() and has_data(flat):
        lo, hi = int(flat.min().item()), int(flat.max().item())
        if lo < -n or hi >= n:
            raise IndexError(
                f"put: index {lo if lo < -n else hi} is out of range for a tensor of {n} elements "
                f"(valid: {-n} .. {n - 1})"
            )
        if lo < 0:
            flat = _ew().where(flat < 0, flat + n, flat)
    if not isinstance(source, Tensor) or source.numel() != flat.numel():
        raise ValueError(
            f"put: source must be a tensor with as many elements as index ({flat.numel()}), got "
            f"{getattr(source, 'shape', type(source).__name__)}"
        )
    return _scatter_flat(x, flat, source.reshape(-1), "sum" if accumulate else "set")


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    from .records import OpRecord, register
    from .samples import ALL, FLOATS, NUMERIC, ErrorSample, Sample, rand_array, unary_samples

    def cube(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample((rand_array(rng, (4, 5, 3), dtype),)),
            Sample((rand_array(rng, (5, 4, 3), dtype),), noncontig=True),
            Sample((rand_array(rng, (4, 5, 3), dtype),), noncontig="flip", grad=False),
        ]

    def on(x: Any, values: list) -> Any:
        # an index tensor on the device of x (numpy arrays index themselves)
        return np.array(values) if isinstance(x, np.ndarray) else _tensor_on(values, x.device)

    def set_shifted(x: Any) -> Any:
        # source and destination overlap: the result is as if the source were copied first
        y = x.clone() if not isinstance(x, np.ndarray) else x.copy()
        y[1:] = y[:-1]
        y[:, :-1] = y[:, 1:]
        return y

    def index_put_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(4, 5), [np.array([0, 3, 1]), np.array([4, 0, 2])], a(3))),
            Sample((a(4, 5), [np.array([2, 0])], a(5))),  # whole rows, values broadcast
            Sample((a(4, 5), [np.array([1, 1, 2]), np.array([0, 0, 3])], a(3)), {"accumulate": True}),
            Sample((a(4, 5), [rng.random((4, 5)) > 0.5], a(1))),
        ]

    def index_put_ref(
        x: np.ndarray, indices: list, values: np.ndarray, accumulate: bool = False
    ) -> np.ndarray:
        out = x.copy()
        if accumulate:
            np.add.at(out, tuple(indices), values)
        else:
            out[tuple(indices)] = values
        return out

    def masked_scatter_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(3, 4), rng.random((3, 4)) > 0.5, a(12))),
            Sample((a(3, 4), rng.random(4) > 0.5, a(4, 4))),  # the mask broadcasts; a larger source
            Sample((a(4, 3), rng.random((4, 3)) > 0.5, a(3, 4)), noncontig=True),
        ]

    def masked_scatter_ref(x: np.ndarray, mask: np.ndarray, source: np.ndarray) -> np.ndarray:
        out = x.copy()
        m = np.broadcast_to(mask, x.shape)
        out[m] = source.reshape(-1)[: int(m.sum())]
        return out

    def put_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(3, 4), np.array([0, 11, -1, 5]), a(4))),
            Sample((a(3, 4), np.array([[1, 1], [2, 1]]), a(2, 2)), {"accumulate": True}),
            Sample((a(4, 3), np.array([7, 2]), a(2)), noncontig=True),
        ]

    def put_ref(x: np.ndarray, index: np.ndarray, source: np.ndarray, accumulate: bool = False) -> np.ndarray:
        out = x.copy()
        flat = out.reshape(-1)
        if accumulate:
            np.add.at(flat, index.reshape(-1) % flat.size, source.reshape(-1))
        else:
            flat[index.reshape(-1)] = source.reshape(-1)
        return flat.reshape(x.shape)

    register(
        OpRecord(
            "getitem_basic",
            getitem,
            cube,
            lambda x: x[1:, None, ::2, -1],
            call=lambda x: x[1:, None, ::2, -1],
            kernel="getitem_basic",
            dtypes=ALL,
            public=False,
            methods={"__getitem__": getitem},
        ),
        OpRecord(
            "getitem_int_tensor",
            getitem,
            cube,
            lambda x: x[on(x, [0, 2, -1])],
            call=lambda x: x[on(x, [0, 2, -1])],
            dtypes=NUMERIC,
            public=False,
        ),
        OpRecord(
            "getitem_two_tensors",
            getitem,
            cube,
            lambda x: x[:, on(x, [0, 2]), on(x, [1, 0])],
            call=lambda x: x[:, on(x, [0, 2]), on(x, [1, 0])],
            dtypes=NUMERIC,
            public=False,
        ),
        OpRecord(
            "getitem_mask",
            getitem,
            cube,
            lambda x: x[x > 0],
            call=lambda x: x[x > 0],
            dtypes=FLOATS,
            public=False,
            reads_values=True,
        ),
        OpRecord(
            "setitem_overlapping",
            setitem,
            cube,
            set_shifted,
            call=set_shifted,
            dtypes=ALL,
            public=False,
            methods={"__setitem__": setitem},
        ),
        OpRecord(
            "masked_select",
            masked_select,
            unary_samples(),
            lambda x: x[x > 0.5],
            call=lambda x: masked_select(x, x > 0.5),
            methods=("masked_select",),
            dtypes=FLOATS,
            reads_values=True,
        ),
        OpRecord(
            "nonzero",
            nonzero,
            unary_samples(),
            lambda x: np.argwhere(x),
            kernel="nonzero",
            methods=("nonzero",),
            dtypes=ALL,
            grad=False,
            reads_values=True,
        ),
        OpRecord(
            "take",
            take,
            cube,
            lambda x: np.take(x, np.array([0, 5, -1, 7])),
            call=lambda x: take(x, on(x, [0, 5, -1, 7])),
            methods=("take",),
            dtypes=NUMERIC,
            errors=(
                ErrorSample(
                    (np.ones((3, 4)), np.array([12])),
                    {},
                    IndexError,
                    "take: index 12 is out of range for a tensor of 12 elements \\(valid: -12 \\.\\. 11\\)",
                ),
            ),
        ),
        OpRecord(
            "index_put",
            index_put,
            index_put_samples,
            index_put_ref,
            methods=("index_put",),
            inplace=("index_put_",),
            dtypes=NUMERIC,
            reads_values=True,
        ),
        OpRecord(
            "masked_scatter",
            masked_scatter,
            masked_scatter_samples,
            masked_scatter_ref,
            methods=("masked_scatter",),
            inplace=("masked_scatter_",),
            dtypes=NUMERIC,
            reads_values=True,
            errors=(
                ErrorSample(
                    (np.ones((3, 4)), np.ones((3, 4)), np.ones(12)),
                    {},
                    TypeError,
                    "masked_scatter: mask must be a bool tensor, got ember.float64",
                ),
            ),
        ),
        OpRecord(
            "put",
            put,
            put_samples,
            put_ref,
            methods=("put",),
            inplace=("put_",),
            dtypes=NUMERIC,
            reads_values=True,
            errors=(
                ErrorSample(
                    (np.ones((3, 4)), np.array([12]), np.ones(1)),
                    {},
                    IndexError,
                    "put: index 12 is out of range for a tensor of 12 elements",
                ),
            ),
        ),
    )


def _tensor_on(values: list, device: Any) -> Tensor:
    """An int64 tensor of ``values`` on ``device`` (for index samples)."""
    from .creation import tensor

    return tensor(values, device=device)


_records()
