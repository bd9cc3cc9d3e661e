"""Rearrangements: ops that reorder, repeat or pick out the elements of one tensor: ``flip``,
``roll``, ``rot90``, ``repeat``, ``tile``, ``repeat_interleave``, ``movedim`` (``moveaxis``),
``swapaxes`` (``swapdims``), ``diagonal``, ``diag``, ``diag_embed``, ``tril``/``triu`` and their
indices, ``unfold`` and ``meshgrid``.

They compose the views of :mod:`ember.ops.shape` and ``cat`` of :mod:`ember.ops.joining`; only
``flip`` has a kernel of its own (optional: without it, a copy of a negatively strided view).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._core import STATE, Tensor, _make, attach, kernel, normalize_dims, same_device, wrap_dim
from .joining import cat, stack
from .shape import (
    _as_view,
    _shape_arg,
    _strided_view,
    clone,
    contiguous,
    expand,
    narrow,
    permute,
    reshape,
    strides_of,
    transpose,
    unsqueeze,
)


def flip(x: Tensor, dims: Any) -> Tensor:
    """A copy with the order of elements reversed along ``dims``."""
    ds = normalize_dims(dims, x.ndim, "flip")
    k = x.device.kernels.get("flip")
    if k is not None:
        data = k(x._data, ds)
    else:
        st = list(strides_of(x))
        offset = 0
        for d in ds:
            if x.shape[d] > 0:
                offset += (x.shape[d] - 1) * st[d]
            st[d] = -st[d]
        view_data = _strided_view(x, x.shape, tuple(st), offset)
        data = kernel(x.device, "empty")(x.shape, x.dtype, x.device.index)
        kernel(x.device, "copy_")(data, view_data)
    out = _make(data, x.shape, x.dtype, x.device)
    if x.requires_grad and STATE.enabled:
        attach(out, "flip", lambda g: (flip(g, ds),), (x,))
    return out


def repeat(x: Tensor, *sizes: Any) -> Tensor:
    """Tile x: ``repeat(2, 3)`` doubles dim -2 and triples dim -1 (a copy)."""
    sizes = _shape_arg("repeat", sizes)
    if any(r < 0 for r in sizes):
        raise ValueError(
            f"repeat: repeats must be non-negative, got {sizes} (a repeat of 0 gives an empty dim)"
        )
    if len(sizes) < x.ndim:
        raise ValueError(
            f"repeat: number of repeat dims ({len(sizes)}) can not be smaller than the "
            f"number of tensor dims ({x.ndim})"
        )
    xs = (1,) * (len(sizes) - x.ndim) + x.shape
    inter = []
    exp = []
    for r, n in zip(sizes, xs):
        inter += [1, n]
        exp += [r, n]
    y = expand(reshape(x, tuple(inter)), tuple(exp))
    return reshape(contiguous(y), tuple(r * n for r, n in zip(sizes, xs)))


def movedim(x: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """Move dims to new positions (a view): ``source`` and ``destination`` are both ints or both
    sequences of as many distinct dims; the other dims keep their order, as in PyTorch."""
    one = isinstance(source, int), isinstance(destination, int)
    if one[0] != one[1]:
        raise TypeError(
            f"movedim: source and destination must both be ints or both be sequences of ints, got "
            f"{source!r} and {destination!r}"
        )
    src = (source,) if one[0] else tuple(source)
    dst = (destination,) if one[1] else tuple(destination)
    if len(src) != len(dst):
        raise ValueError(
            f"movedim: source {src} and destination {dst} must name as many dims ({len(src)} and {len(dst)})"
        )
    src = tuple(wrap_dim(s, x.ndim, "movedim") for s in src)
    dst = tuple(wrap_dim(d, x.ndim, "movedim") for d in dst)
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise ValueError(f"movedim: repeated dim in {name} {dims}")
    order = [-1] * x.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(x.ndim) if i not in src)
    return permute(x, [o if o >= 0 else next(rest) for o in order])


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """Lower triangle of the last two dims (the rest zeroed)."""
    return _tri(x, diagonal, lower=True)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """Upper triangle of the last two dims (the rest zeroed)."""
    return _tri(x, diagonal, lower=False)


def _tri(x: Tensor, diagonal: int, lower: bool) -> Tensor:
    from .creation import arange
    from .elementwise import ge, le, where

    if x.ndim < 2:
        raise ValueError(
            f"{'tril' if lower else 'triu'}: expected a tensor with at least 2 dims, got {x.shape}"
        )
    n, m = x.shape[-2], x.shape[-1]
    rows = reshape(arange(n, device=x.device), (n, 1))
    cols = reshape(arange(m, device=x.device), (1, m))
    mask = le(cols - rows, diagonal) if lower else ge(cols - rows, diagonal)
    return where(mask, x, False if x.dtype.is_bool else 0)  # a weak scalar: x's dtype is kept


# -- more shape ops (PyTorch's names) --------------------------------------------------------------
def swapaxes(x: Tensor, axis0: int, axis1: int) -> Tensor:
    """``transpose`` under numpy's name (a view with two dims swapped); also ``swapdims``."""
    return transpose(x, axis0, axis1)


swapdims = swapaxes


def moveaxis(x: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """``movedim`` under numpy's name (a view)."""
    return movedim(x, source, destination)


def roll(x: Tensor, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> Tensor:
    """Elements shifted cyclically by ``shifts`` along ``dims`` (a copy); without ``dims`` the
    flattened tensor is rolled and the shape restored."""
    sh = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is None:
        if len(sh) != 1:
            raise ValueError(
                f"roll: without dims, shifts must be one int, got {sh}; give as many dims as shifts"
            )
        return reshape(roll(reshape(x, -1), sh[0], 0), x.shape)
    ds = (dims,) if isinstance(dims, int) else tuple(dims)
    if x.ndim == 0:
        raise IndexError(f"roll: dims {ds} given for a 0-d tensor, which has no dims; leave dims out")
    if len(sh) != len(ds) or not sh:
        raise ValueError(f"roll: shifts {sh} and dims {ds} must have the same (nonzero) length")
    out = x
    for s, dim in zip(sh, ds):
        d = wrap_dim(dim, x.ndim, "roll")
        n = x.shape[d] if x.ndim else 1
        k = s % n if n else 0
        if k:
            out = cat([narrow(out, d, n - k, k), narrow(out, d, 0, n - k)], d)
    return out if out is not x else clone(x)


def _diag_layout(
    x: Tensor, offset: int, dim1: int, dim2: int, op: str
) -> tuple[int, int, tuple[int, ...], tuple[int, ...]]:
    """(d1, d2, shape, rest) of the diagonal view: the other dims (``rest``, in order) keep their
    sizes and the diagonal's length is appended last."""
    d1, d2 = wrap_dim(dim1, x.ndim, op), wrap_dim(dim2, x.ndim, op)
    if d1 == d2:
        raise ValueError(f"{op}: dim1 and dim2 cannot be the same dimension, got {dim1} and {dim2}")
    n1, n2 = x.shape[d1], x.shape[d2]
    n = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    rest = tuple(i for i in range(x.ndim) if i not in (d1, d2))
    return d1, d2, tuple(x.shape[i] for i in rest) + (n,), rest


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the (dim1, dim2) planes, ``offset`` above (>0) or below (<0) the main one,
    as a view whose last dim is the diagonal (PyTorch's ``diagonal``)."""
    if x.ndim < 2:
        raise ValueError(f"diagonal: expected a tensor with at least 2 dims, got shape {x.shape}")
    d1, d2, shape, rest = _diag_layout(x, offset, dim1, dim2, "diagonal")
    st = strides_of(x)
    start = (offset * st[d2] if offset >= 0 else -offset * st[d1]) if shape[-1] else 0
    data = _strided_view(x, shape, tuple(st[i] for i in rest) + (st[d1] + st[d2],), start)
    out = _as_view(x, data, shape, lambda t: diagonal(t, offset, dim1, dim2))
    if x.requires_grad and STATE.enabled:
        in_shape = x.shape  # as recorded (an in-place squeeze_/unsqueeze_ may change x's later)
        attach(out, "diagonal", lambda g: (_diag_scatter(g, in_shape, offset, d1, d2),), (x,))
    return out


_diagonal_view = diagonal  # diag's argument is named ``diagonal``, as in PyTorch


def _diag_scatter(g: Tensor, shape: tuple[int, ...], offset: int, d1: int, d2: int) -> Tensor:
    """Zeros of ``shape`` with ``g`` (whose last dim is the diagonal) on the ``offset`` diagonal of
    dims (d1, d2): the adjoint of :func:`diagonal`, made of differentiable ops."""
    from .creation import arange, zeros
    from .gather_scatter import scatter_add

    n1, n2 = shape[d1], shape[d2]
    n = g.shape[-1]
    batch = g.shape[:-1]
    flat = zeros(batch + (n1 * n2,), dtype=g.dtype, device=g.device)
    if n:
        k = arange(n, device=g.device)
        lin = (k - min(offset, 0)) * n2 + (k + max(offset, 0))
        flat = scatter_add(flat, -1, lin.reshape((1,) * len(batch) + (n,)).expand(g.shape), g)
    plane = reshape(flat, batch + (n1, n2))
    # the batch dims were the other dims in order: put d1 and d2 back where they belong
    return movedim(plane, (-2, -1), (d1, d2))


def diag_embed(x: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Square matrices (in dims ``dim1``, ``dim2`` of the result) with the last dim of x on their
    ``offset`` diagonal, zeros elsewhere."""
    nd = x.ndim + 1
    d1, d2 = wrap_dim(dim1, nd, "diag_embed"), wrap_dim(dim2, nd, "diag_embed")
    if d1 == d2:
        raise ValueError(f"diag_embed: dim1 and dim2 cannot be the same dimension, got {dim1} and {dim2}")
    if x.ndim == 0:
        x = reshape(x, (1,))
    m = x.shape[-1] + abs(offset)
    batch = iter(x.shape[:-1])  # the other dims of the result, in order
    shape = tuple(m if i in (d1, d2) else next(batch) for i in range(nd))
    return _diag_scatter(x, shape, offset, d1, d2)


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """1-D x: a square matrix with x on its ``diagonal``; 2-D x: that diagonal of x (a copy)."""
    if x.ndim == 1:
        return diag_embed(x, diagonal, 0, 1)
    if x.ndim == 2:
        return clone(_diagonal_view(x, diagonal))
    raise ValueError(f"diag: expected a 1-D or 2-D tensor, got shape {x.shape}; use diagonal or diag_embed")


def tile(x: Tensor, dims: Sequence[int]) -> Tensor:
    """x repeated ``dims[i]`` times along each dim; fewer dims than x has are padded with 1s in front
    (numpy's ``tile``; ``repeat`` with the padding)."""
    reps = _shape_arg("tile", (dims,) if isinstance(dims, int) else tuple(dims))
    reps = (1,) * (x.ndim - len(reps)) + reps
    return repeat(x, reps)


def repeat_interleave(
    x: Tensor, repeats: Any = None, dim: int | None = None, *, output_size: int | None = None
) -> Tensor:
    """Each element (or slice along ``dim``) repeated ``repeats`` times in place; without ``dim``
    the flattened tensor. ``repeats``: an int or a 1-D tensor of one count per element.
    ``repeat_interleave(counts)`` alone gives ``0`` counts[0] times, ``1`` counts[1] times ..."""
    import numpy as np

    from .creation import arange, tensor
    from .gather_scatter import index_select

    if repeats is None:  # repeat_interleave(repeats_tensor)
        counts = x
        if counts.ndim > 1 or not counts.dtype.is_integer:
            raise ValueError(f"repeat_interleave: repeats must be a 1-D integer tensor, got {counts.shape}")
        idx = arange(counts.numel(), dtype=counts.dtype, device=x.device)
        return repeat_interleave(idx, counts, 0, output_size=output_size)
    if dim is None:
        x, d = reshape(x, -1), 0
    elif x.ndim == 0:  # as PyTorch, which counts the dims of the result-to-be
        raise IndexError(f"repeat_interleave: dim {dim} given for a 0-d tensor; leave dim out (None)")
    else:
        d = wrap_dim(dim, x.ndim, "repeat_interleave")
    n = x.shape[d] if x.ndim else 1
    if x.ndim == 0:
        x = reshape(x, (1,))
    if isinstance(repeats, Tensor) and repeats.numel() == 1 and repeats.ndim <= 1:
        repeats = int(repeats.item())
    if isinstance(repeats, int):
        if repeats < 0:
            raise ValueError(f"repeat_interleave: repeats must be non-negative, got {repeats}")
        shape = x.shape[: d + 1] + (repeats,) + x.shape[d + 1 :]
        out = expand(unsqueeze(x, d + 1), shape)
        return reshape(contiguous(out), x.shape[:d] + (n * repeats,) + x.shape[d + 1 :])
    if isinstance(repeats, Tensor) and not repeats.dtype.is_integer:
        raise ValueError(f"repeat_interleave: repeats must be integers, got {repeats.dtype}")
    n_counts = repeats.numel() if isinstance(repeats, Tensor) else len(repeats)
    if n_counts != n:
        raise ValueError(
            f"repeat_interleave: repeats has {n_counts} counts but dimension {d} has size {n}; "
            "give one count per element (or one int)"
        )
    counts = np.asarray(
        kernel(repeats.device, "to_numpy")(repeats._data) if isinstance(repeats, Tensor) else repeats
    ).reshape(-1)
    if counts.dtype.kind not in "iu":
        raise ValueError(f"repeat_interleave: repeats must be integers, got {counts.dtype}")
    if counts.shape[0] != n:
        raise ValueError(
            f"repeat_interleave: repeats has {counts.shape[0]} counts but dimension {d} has size {n}; "
            "give one count per element (or one int)"
        )
    if (counts < 0).any():
        raise ValueError(f"repeat_interleave: repeats must be non-negative, got {counts.tolist()}")
    idx = np.repeat(np.arange(n, dtype=np.int64), counts)
    if output_size is not None and output_size != idx.shape[0]:
        raise ValueError(
            f"repeat_interleave: output_size {output_size} does not match the repeats' sum {idx.shape[0]}"
        )
    return index_select(x, d, tensor(idx, device=x.device))


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids of 0-d or 1-D tensors: with ``indexing="ij"`` (the default, as PyTorch's)
    grid i varies along dim i; ``"xy"`` swaps the first two dims (numpy's default). Views."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if not tensors:
        raise ValueError("meshgrid: expected at least one tensor")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor) or t.ndim > 1:
            raise ValueError(
                f"meshgrid: expects 0-d or 1-D tensors, got {getattr(t, 'shape', type(t).__name__)} at {i}"
            )
    same_device("meshgrid", *tensors)
    for i, t in enumerate(tensors):
        if t.dtype is not tensors[0].dtype:
            raise TypeError(
                f"meshgrid: expects all tensors to have one dtype, got {tensors[0].dtype} at 0 and "
                f"{t.dtype} at {i}; convert them with .to(dtype)"
            )
    ts = [reshape(t, -1) for t in tensors]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.shape[0] for t in ts)
    k = len(ts)
    grids = [expand(reshape(t, (1,) * i + (-1,) + (1,) * (k - i - 1)), shape) for i, t in enumerate(ts)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def rot90(x: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """x rotated by 90 degrees ``k`` times in the plane of ``dims``, from the first towards the
    second (a copy)."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise ValueError(f"rot90: dims must name 2 dims, got {dims}")
    if x.ndim < 2:
        raise ValueError(f"rot90: expected a tensor with at least 2 dims, got shape {x.shape}")
    d0, d1 = wrap_dim(dims[0], x.ndim, "rot90"), wrap_dim(dims[1], x.ndim, "rot90")
    if d0 == d1:
        raise ValueError(f"rot90: dims must be different, got {dims}")
    k %= 4
    if k == 1:
        return transpose(flip(x, d1), d0, d1)
    if k == 2:
        return flip(x, (d0, d1))
    if k == 3:
        return flip(transpose(x, d0, d1), d1)
    return clone(x)


def unfold(x: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """``Tensor.unfold``: every slice of ``size`` elements along ``dimension``, ``step`` apart, as a
    view whose dim ``dimension`` counts the slices and whose new last dim holds each one."""
    d = wrap_dim(dimension, x.ndim, "unfold")
    n = x.shape[d] if x.ndim else 1
    if step <= 0:
        raise ValueError(f"unfold: step must be positive, got {step}")
    if size < 0 or size > n:
        raise ValueError(f"unfold: size {size} must be between 0 and the size of dimension {d} ({n})")
    count = (n - size) // step + 1
    st = strides_of(x)
    if x.ndim == 0:
        shape, strides = (size,), (1,)
    else:
        shape = x.shape[:d] + (count,) + x.shape[d + 1 :] + (size,)
        strides = st[:d] + (st[d] * step,) + st[d + 1 :] + (st[d],)
    out = _as_view(x, _strided_view(x, shape, strides, 0), shape, lambda t: unfold(t, dimension, size, step))
    if x.requires_grad and STATE.enabled:
        scalar = x.ndim == 0  # as recorded (an in-place unsqueeze_ may change x's later)

        def grad(g: Tensor) -> tuple[Tensor]:
            from .creation import arange, zeros
            from .gather_scatter import index_add

            if scalar:
                return (reshape(g, ()),)
            # window w, element s came from position w * step + s of dim d
            pos = reshape(arange(count, device=g.device) * step, (-1, 1)) + arange(size, device=g.device)
            gm = movedim(g, (d, -1), (0, 1))  # (count, size, rest...)
            gm = reshape(gm, (count * size,) + gm.shape[2:])
            acc = zeros((n,) + gm.shape[1:], dtype=g.dtype, device=g.device)
            return (movedim(index_add(acc, 0, reshape(pos, -1), gm), 0, d),)

        attach(out, "unfold", grad, (x,))
    return out


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None) -> Tensor:
    """The (2, N) coordinates of the lower triangle of a row x col matrix, row by row."""
    return _tri_indices(row, col, offset, dtype, device, lower=True)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None) -> Tensor:
    """The (2, N) coordinates of the upper triangle of a row x col matrix, row by row."""
    return _tri_indices(row, col, offset, dtype, device, lower=False)


def _tri_indices(row: int, col: int, offset: int, dtype: Any, device: Any, lower: bool) -> Tensor:
    import numpy as np

    from .. import dtypes as _dt
    from .creation import tensor

    op = "tril_indices" if lower else "triu_indices"
    if row < 0 or col < 0:
        raise ValueError(f"{op}: row and col must be non-negative, got {row} and {col}")
    dt = _dt.int64 if dtype is None else _dt.as_dtype(dtype)
    if not dt.is_integer:
        raise TypeError(f"{op}: dtype must be an integer dtype, got {dt}")
    r, c = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
    return tensor(np.stack([r, c]).astype(np.int64).reshape(2, -1), dtype=dt, device=device)


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from .. import dtypes as _dt
    from .records import OpRecord, register, view_record
    from .samples import ALL, DEVICE, FLOATS, INTS, NUMERIC, ErrorSample, Sample, block_samples, rand_array

    def r(rng: np.random.Generator, dtype: str) -> Any:
        return lambda *s: rand_array(rng, s, dtype)

    def roll_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        a = r(rng, dtype)
        return [
            Sample((a(3, 4),), {"shifts": 1, "dims": 0}),
            Sample((a(3, 4),), {"shifts": (1, -6), "dims": (0, 1)}),
            Sample((a(2, 3, 2),), {"shifts": 5}),
            Sample((a(),), {"shifts": 2}),
            Sample((a(0, 3),), {"shifts": 1, "dims": 0}, grad=False),
            Sample((a(4, 3),), {"shifts": -1, "dims": -1}, noncontig=True),
            Sample((a(3, 5),), {"shifts": 2, "dims": 1}, noncontig="flip", grad=False),
        ]

    def roll_ref(x: np.ndarray, shifts: Any, dims: Any = None) -> np.ndarray:
        return np.roll(x, shifts, dims)

    def diagonal_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        a = r(rng, dtype)
        return [
            Sample((a(3, 4),)),
            Sample((a(3, 4),), {"offset": 2}),
            Sample((a(3, 4),), {"offset": -1}),
            Sample((a(3, 4),), {"offset": 5}, grad=False),  # past the matrix: empty
            Sample((a(2, 3, 4),), {"offset": -1, "dim1": 2, "dim2": 0}),
            Sample((a(4, 3),), {"offset": 1}, noncontig=True),
            Sample((a(3, 5),), noncontig="flip", grad=False),
        ]

    def diag_embed_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        a = r(rng, dtype)
        return [
            Sample((a(3),)),
            Sample((a(2, 3),), {"offset": 1}),
            Sample((a(2, 3),), {"offset": -2, "dim1": 0, "dim2": 2}),
            Sample((a(0),), grad=False),
            Sample((a(3, 2),), noncontig=True),
        ]

    def diag_embed_ref(x: np.ndarray, offset: int = 0, dim1: int = -2, dim2: int = -1) -> np.ndarray:
        n = x.shape[-1]
        m = n + abs(offset)
        out = np.zeros(x.shape[:-1] + (m, m), dtype=x.dtype)
        k = np.arange(n)
        out[..., k - min(offset, 0), k + max(offset, 0)] = x
        return np.moveaxis(out, (-2, -1), (dim1, dim2))

    def diag_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        a = r(rng, dtype)
        return [
            Sample((a(3),)),
            Sample((a(3),), {"diagonal": -2}),
            Sample((a(3, 4),)),
            Sample((a(3, 4),), {"diagonal": 1}),
            Sample((a(4, 3),), {"diagonal": -1}, noncontig=True),
        ]

    def tile_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        a = r(rng, dtype)
        return [
            Sample((a(2, 3), (2, 1))),
            Sample((a(2, 3), (2,))),  # fewer reps than dims: padded with 1s in front
            Sample((a(3), (2, 2))),
            Sample((a(), (3,))),
            Sample((a(0, 2), (2, 2)), grad=False),
            Sample((a(3, 2), (1, 3)), noncontig=True),
        ]

    def ri_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        a = r(rng, dtype)
        return [
            Sample((a(2, 3), 2)),
            Sample((a(2, 3), 3), {"dim": 1}),
            Sample((a(2, 3), 2), {"dim": -2}),
            Sample((a(), 3)),
            Sample((a(0, 2), 2), {"dim": 0}, grad=False),
            Sample((a(3, 2), 2), {"dim": 1}, noncontig=True),
        ]

    def ri_tensor_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        a = r(rng, dtype)
        return [
            Sample((a(3, 2), np.array([1, 0, 2])), {"dim": 0}),
            Sample((a(3, 2), np.array([2, 1])), {"dim": 1}),
            Sample((a(2, 2), np.array([1, 3, 0, 1]))),
        ]

    def ri_ref(x: np.ndarray, repeats: Any, dim: int | None = None) -> np.ndarray:
        return np.repeat(x, repeats, axis=dim)

    def meshgrid_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        a = r(rng, dtype)
        return [
            Sample((a(3), a(4)), {"indexing": "ij"}),
            Sample((a(3), a(4)), {"indexing": "xy"}),
            Sample((a(2), a(), a(3)), {"indexing": "ij"}),
            Sample((a(2), a(3), a(2)), {"indexing": "xy"}),
            Sample((a(0), a(2)), {"indexing": "ij"}, grad=False),
        ]

    def rot90_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        a = r(rng, dtype)
        return [
            Sample((a(3, 4),)),
            Sample((a(3, 4),), {"k": 2}),
            Sample((a(3, 4),), {"k": -1}),
            Sample((a(2, 3, 4),), {"k": 3, "dims": (2, 0)}),
            Sample((a(3, 4),), {"k": 4}),
            Sample((a(4, 3),), {"k": 1}, noncontig=True),
        ]

    def rot90_ref(x: np.ndarray, k: int = 1, dims: tuple = (0, 1)) -> np.ndarray:
        return np.rot90(x, k, axes=dims)

    def unfold_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        a = r(rng, dtype)
        return [
            Sample((a(7), 0, 3, 2)),
            Sample((a(3, 5), 1, 2, 1)),
            Sample((a(4, 3), 0, 4, 3)),
            Sample((a(4, 3), -1, 0, 1), grad=False),
            Sample((a(), 0, 1, 1)),
            Sample((a(5, 4), 0, 2, 2), noncontig=True),
        ]

    def unfold_ref(x: np.ndarray, d: int, size: int, step: int) -> np.ndarray:
        if x.ndim == 0:
            return x.reshape(1)
        d %= x.ndim
        count = (x.shape[d] - size) // step + 1
        parts = [np.take(x, np.arange(i * step, i * step + size), axis=d) for i in range(count)]
        return np.moveaxis(np.stack(parts, axis=d), d + 1, -1)

    def tri_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        kw = {"dtype": _dt.as_dtype(dtype), "device": DEVICE}
        return [
            Sample((3, 4), dict(kw)),
            Sample((4, 3, 1), dict(kw)),
            Sample((4, 4, -2), dict(kw)),
            Sample((0, 3), dict(kw)),
            Sample((3, 3, 5), dict(kw)),
        ]

    def tri_ref(lower: bool) -> Any:
        def ref(row: int, col: int, offset: int = 0, dtype: Any = None, device: Any = None) -> np.ndarray:
            i, j = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
            return np.stack([i, j]).reshape(2, -1).astype(dtype.numpy)

        return ref

    register(
        view_record(
            "flip",
            flip,
            lambda x: flip(x, 0),
            lambda x: np.flip(x, 0),
            NUMERIC,
            kernel="flip",
            errors=(ErrorSample((np.ones((3, 4)), 2), {}, IndexError, "flip: dimension 2 out of range"),),
        ),
        view_record(
            "repeat",
            repeat,
            lambda x: repeat(x, 2, *([1] * (x.ndim - 1))),
            lambda x: np.tile(x, (2,) + (1,) * (x.ndim - 1)),
            NUMERIC,
            errors=(
                ErrorSample(
                    (np.ones(2), -1, 2),
                    {},
                    ValueError,
                    "repeat: repeats must be non-negative, got \\(-1, 2\\)",
                ),
            ),
        ),
        view_record(
            "movedim",
            movedim,
            lambda x: movedim(x, 0, -1),
            lambda x: np.moveaxis(x, 0, -1),
            errors=(
                ErrorSample(
                    (np.ones((2, 3, 4)), (0, 1), (1,)),
                    {},
                    ValueError,
                    "movedim: source \\(0, 1\\) and destination \\(1,\\) must name as many dims",
                ),
                ErrorSample(
                    (np.ones((2, 3, 4)), (0, -3), (1, 2)), {}, ValueError, "movedim: repeated dim in source"
                ),
            ),
        ),
        # several dims at once, as sequences (lists or tuples)
        view_record(
            "movedim_sequences",
            movedim,
            lambda x: movedim(x, (0, -1), [-1, 0]),
            lambda x: np.moveaxis(x, (0, -1), (-1, 0)),
            public=False,
            methods=(),
            covers=("movedim",),
        ),
        view_record(
            "tril", tril, lambda x: tril(x, -1), lambda x: np.tril(x, -1), FLOATS, inplace=("tril_",)
        ),
        view_record("triu", triu, lambda x: triu(x, 1), lambda x: np.triu(x, 1), FLOATS, inplace=("triu_",)),
        OpRecord(
            "roll",
            roll,
            roll_samples,
            roll_ref,
            methods=("roll",),
            dtypes=ALL,
            errors=(
                ErrorSample(
                    (np.ones((3, 4)), (1, 2), (0,)),
                    {},
                    ValueError,
                    "roll: shifts \\(1, 2\\) and dims \\(0,\\) must have the same",
                ),
            ),
        ),
        OpRecord(
            "diagonal",
            diagonal,
            diagonal_samples,
            lambda x, offset=0, dim1=0, dim2=1: np.diagonal(x, offset, dim1, dim2),
            methods=("diagonal",),
            dtypes=ALL,
            errors=(
                ErrorSample(
                    (np.ones(3),), {}, ValueError, "diagonal: expected a tensor with at least 2 dims"
                ),
                ErrorSample(
                    (np.ones((3, 3)),),
                    {"dim1": 1, "dim2": -1},
                    ValueError,
                    "diagonal: dim1 and dim2 cannot be",
                ),
            ),
        ),
        OpRecord(
            "diag_embed",
            diag_embed,
            diag_embed_samples,
            diag_embed_ref,
            methods=("diag_embed",),
            dtypes=NUMERIC,
        ),
        OpRecord(
            "diag",
            diag,
            diag_samples,
            lambda x, diagonal=0: np.diag(x, diagonal),
            methods=("diag",),
            dtypes=NUMERIC,
            errors=(
                ErrorSample(
                    (np.ones((2, 2, 2)),), {}, ValueError, "diag: expected a 1-D or 2-D tensor, got shape"
                ),
            ),
        ),
        OpRecord(
            "tile",
            tile,
            tile_samples,
            np.tile,
            methods=("tile",),
            dtypes=NUMERIC,
            errors=(
                ErrorSample((np.ones(2), (-1,)), {}, ValueError, "repeat: repeats must be non-negative"),
            ),
        ),
        OpRecord(
            "repeat_interleave",
            repeat_interleave,
            ri_samples,
            ri_ref,
            methods=("repeat_interleave",),
            dtypes=NUMERIC,
            errors=(
                ErrorSample(
                    (np.ones((3, 2)), np.array([1, 2])),
                    {"dim": 0},
                    ValueError,
                    "repeat_interleave: repeats has 2 counts but dimension 0 has size 3",
                ),
            ),
        ),
        OpRecord(
            "repeat_interleave_tensor",
            repeat_interleave,
            ri_tensor_samples,
            ri_ref,
            dtypes=NUMERIC,
            public=False,
            reads_values=True,
            covers=("repeat_interleave",),
        ),
        OpRecord(
            "repeat_interleave_counts",
            repeat_interleave,
            lambda dtype, rng: [Sample((np.array([2, 0, 3, 1]),)), Sample((np.array([1]),))],
            lambda c: np.repeat(np.arange(len(c)), c),
            dtypes=("int64",),
            grad=False,
            public=False,
            reads_values=True,
            covers=("repeat_interleave",),
        ),
        OpRecord(
            "meshgrid",
            meshgrid,
            meshgrid_samples,
            lambda *xs, indexing: np.stack(np.meshgrid(*xs, indexing=indexing)),
            call=lambda *xs, indexing: stack(list(meshgrid(*xs, indexing=indexing))),
            dtypes=ALL,
            errors=(
                ErrorSample(
                    (np.ones((2, 2)), np.ones(2)), {}, ValueError, "meshgrid: expects 0-d or 1-D tensors"
                ),
                ErrorSample(
                    (np.ones(2),), {"indexing": "ji"}, ValueError, "meshgrid: indexing must be 'ij' or 'xy'"
                ),
            ),
        ),
        OpRecord(
            "rot90",
            rot90,
            rot90_samples,
            rot90_ref,
            methods=("rot90",),
            dtypes=NUMERIC,
            errors=(
                ErrorSample(
                    (np.ones((2, 2)),), {"dims": (0, 0)}, ValueError, "rot90: dims must be different"
                ),
            ),
        ),
        OpRecord(
            "swapaxes",
            swapaxes,
            block_samples,
            lambda x: np.swapaxes(x, 0, -1),
            call=lambda x: swapaxes(x, 0, -1),
            methods=("swapaxes", "swapdims"),
            covers=("swapdims",),
            dtypes=ALL,
        ),
        OpRecord(
            "moveaxis",
            moveaxis,
            block_samples,
            lambda x: np.moveaxis(x, (0, 1), (-1, 0)),
            call=lambda x: moveaxis(x, (0, 1), (-1, 0)),
            methods=("moveaxis",),
            dtypes=ALL,
        ),
        OpRecord(
            "unfold",
            unfold,
            unfold_samples,
            unfold_ref,
            methods=("unfold",),
            dtypes=ALL,
            public=False,
            errors=(
                ErrorSample((np.ones(3), 0, 4, 1), {}, ValueError, "unfold: size 4 must be between 0 and"),
                ErrorSample((np.ones(3), 0, 2, 0), {}, ValueError, "unfold: step must be positive, got 0"),
            ),
        ),
        OpRecord(
            "tril_indices",
            tril_indices,
            tri_samples,
            tri_ref(True),
            dtypes=INTS,
            grad=False,
            errors=(ErrorSample((-1, 3), {}, ValueError, "tril_indices: row and col must be non-negative"),),
        ),
        OpRecord("triu_indices", triu_indices, tri_samples, tri_ref(False), dtypes=INTS, grad=False),
    )


_records()
