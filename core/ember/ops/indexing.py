"""Indexing: ``x[key]`` and ``x[key] = v`` (basic and advanced), gather, scatter_add,
index_select, masked_fill, nonzero."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..layout import broadcast_shapes
from ._core import STATE, Tensor, _make, attach, has_data, kernel, same_device, wrap_dim
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
                if t.dtype.is_floating_point:
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
        if index.dtype.is_floating_point or index.dtype.is_bool:
            raise TypeError(f"{op}: index must be an integer tensor, got {index.dtype}")
        index = index.to(_dt.int64)
    same_device(op, x, index)
    d = wrap_dim(dim, x.ndim, op)
    if index.ndim != x.ndim and not (x.ndim == 0 and index.ndim <= 1):
        raise ValueError(f"{op}: index has {index.ndim} dims, but the input has {x.ndim}; they must match")
    if index.numel() and has_data(index):
        lo, hi = int(index.min().item()), int(index.max().item())
        size = x.shape[d] if x.shape else 1
        if lo < 0 or hi >= size:
            raise IndexError(
                f"{op}: index {lo if lo < 0 else hi} is out of bounds for dimension {d} with size {size}"
            )
    return d


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j] = x[index[i][j]][j]`` for dim 0 (PyTorch's gather)."""
    d = _check_index("gather", x, dim, index)
    _check_index_shape("gather", x, d, index)
    index = index.to(_dt.int64)
    out = _make(kernel(x.device, "gather")(x._data, d, index._data), index.shape, x.dtype, x.device)
    if x.requires_grad and STATE.enabled:
        from .creation import zeros

        attach(
            out,
            "gather",
            lambda g: (scatter_add(zeros(x.shape, dtype=g.dtype, device=g.device), d, index, g),),
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
        attach(
            out,
            "scatter_add",
            lambda g: (g if x.requires_grad else None, gather(g, d, index) if src.requires_grad else None),
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
    if index.dtype.is_floating_point or index.dtype.is_bool:
        raise TypeError(f"index_select: index must be an integer tensor, got {index.dtype}")
    same_device("index_select", x, index)
    size = x.shape[d] if x.shape else 1
    k = x.device.kernels.get("index_select")
    if index.numel() and has_data(index):
        lo, hi = int(index.min().item()), int(index.max().item())
        if lo < 0 or hi >= size:
            raise IndexError(
                f"index_select: index {lo if lo < 0 else hi} is out of bounds for dimension {d} "
                f"with size {size}"
            )
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

        def grad(g: Tensor) -> tuple[Tensor]:
            view = [1] * x.ndim
            view[d] = index.shape[0]
            full_idx = index.reshape(tuple(view)).expand(shape)
            return (scatter_add(zeros(x.shape, dtype=g.dtype, device=g.device), d, full_idx, g),)

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

    if not isinstance(index, Tensor) or index.dtype.is_floating_point or index.dtype.is_bool:
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


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    from .records import OpRecord, register
    from .samples import ALL, FLOATS, NUMERIC, ErrorSample, Sample, rand_array, unary_samples

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


def _tensor_on(values: list, device: Any) -> Tensor:
    """An int64 tensor of ``values`` on ``device`` (for index samples)."""
    from .creation import tensor

    return tensor(values, device=device)


_records()
