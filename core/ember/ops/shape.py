"""Views and layout: reshape, view, permute, transpose, expand, squeeze, contiguous, clone,
the in-place ``squeeze_``/``unsqueeze_``, ``atleast_*d`` and basic slicing (``narrow``, ``select``).

Views share memory and the version counter with their base. A backend may give direct kernels
for ``reshape``/``permute``/``expand``/``getitem_basic`` (the cpu backend does); otherwise they
are computed here from the primitives ``strides`` and ``as_strided`` with :mod:`ember.layout`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..layout import broadcast_strides, is_contiguous, view_strides
from ._core import STATE, Tensor, _make, attach, kernel, normalize_dims, wrap_dim


def _as_view(x: Tensor, data: Any, shape: tuple[int, ...], replay: Any = None) -> Tensor:
    """A view of x over ``data``: shares x's version counter and base. ``replay`` (a function
    t -> the same view of a tensor shaped like x) lets an in-place op on the view rebuild the
    base's autograd history (see ``ops.inplace.commit``)."""
    out = _make(data, shape, x.dtype, x.device)
    out._version = x._version
    out._view_version = x._version[0]
    if x._base is None:
        out._base, out._view_fn = x, replay
    else:
        out._base = x._base
        parent = x._view_fn
        if replay is not None and parent is not None:
            out._view_fn = lambda t: replay(parent(t))
    return out


def _shape_arg(op: str, shape: Sequence[Any]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    try:
        return tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: shape must be ints, got {tuple(shape)!r}") from None


#: the largest byte extent a tensor may span (what a 64-bit size, numpy's included, can count)
_MAX_BYTES = (1 << 63) - 1


def _check_extent(op: str, shape: tuple[int, ...], itemsize: int) -> None:
    """Refuse a shape whose elements, zero-sized dims aside, could not be counted in 64 bits: an
    empty tensor of shape (2**62, 2**62, 0) has no storage, but its strides overflow (PyTorch
    refuses it too), and every later use of it would fail somewhere else."""
    extent = itemsize
    for s in shape:
        extent *= s or 1
    if extent > _MAX_BYTES:
        raise ValueError(
            f"{op}: shape {shape} is too large: its sizes (zero-sized dims aside) times the element "
            f"size ({itemsize} bytes) exceed 2**63 - 1 bytes, so its strides cannot be represented; "
            "use smaller sizes"
        )


def _infer_shape(op: str, x: Tensor, shape: tuple[int, ...]) -> tuple[int, ...]:
    n = math.prod(x.shape)
    if shape.count(-1) > 1:
        raise ValueError(f"{op}: only one dimension can be -1, got {shape}")
    if -1 in shape:
        rest = math.prod(s for s in shape if s != -1)
        if rest == 0 or n % rest:
            raise ValueError(f"{op}: shape {shape} is invalid for input of size {n} (shape {x.shape})")
        shape = tuple(n // rest if s == -1 else s for s in shape)
    if any(s < 0 for s in shape) or math.prod(shape) != n:
        raise ValueError(f"{op}: shape {shape} is invalid for input of size {n} (shape {x.shape})")
    if n == 0:  # a non-empty shape's size is x's own, which fits
        _check_extent(op, shape, x.dtype.itemsize)
    return shape


def _strided_view(x: Tensor, shape: tuple[int, ...], strides: tuple[int, ...], offset: int) -> Any:
    return kernel(x.device, "as_strided")(x._data, shape, strides, offset)


def strides_of(x: Tensor) -> tuple[int, ...]:
    """Strides of x in elements (``x.stride()``)."""
    return tuple(kernel(x.device, "strides")(x._data))


def is_contiguous_(x: Tensor) -> bool:
    """Whether x is C-contiguous."""
    return is_contiguous(x.shape, strides_of(x))


def _view_data(x: Tensor, shape: tuple[int, ...]) -> Any | None:
    st = view_strides(x.shape, strides_of(x), shape)
    return None if st is None else _strided_view(x, shape, st, 0)


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """x with a new shape: a view when the memory allows, else a copy (one -1 is inferred)."""
    shape = _infer_shape("reshape", x, _shape_arg("reshape", shape))
    if shape == x.shape:
        return (
            _as_view(x, x._data, shape, lambda t: t.reshape(shape))
            if not (x.requires_grad and STATE.enabled)
            else _reshape_node(x, x._data, shape, True)
        )
    # the optional "reshape" kernel returns a view, or None when the memory cannot be viewed so
    k = x.device.kernels.get("reshape")
    data = k(x._data, shape) if k is not None else _view_data(x, shape)
    view = data is not None
    if data is None:
        c = clone(x.detach())
        data = k(c._data, shape) if k is not None else _view_data(c, shape)
    if x.requires_grad and STATE.enabled:
        return _reshape_node(x, data, shape, view)
    return (
        _as_view(x, data, shape, lambda t: t.reshape(shape))
        if view
        else _make(data, shape, x.dtype, x.device)
    )


def _reshape_node(x: Tensor, data: Any, shape: tuple[int, ...], view: bool) -> Tensor:
    # a copy (the memory could not be viewed) is a tensor of its own, not a view of x
    out = (
        _as_view(x, data, shape, lambda t: t.reshape(shape))
        if view
        else _make(data, shape, x.dtype, x.device)
    )
    # the input's shape as it is now: an in-place squeeze_/unsqueeze_ may change x's later
    in_shape = x.shape
    return attach(out, "reshape", lambda g: (g.reshape(in_shape),), (x,))


def view(x: Tensor, *shape: Any) -> Tensor:
    """A view of x with a new shape; an error when the memory layout cannot be viewed so."""
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)):
        raise TypeError(
            f"view: reinterpreting the bits of a {x.dtype} tensor as {shape[0]!r} is not supported; "
            "use .to(dtype) to convert the values"
        )
    shape = _infer_shape("view", x, _shape_arg("view", shape))
    if view_strides(x.shape, strides_of(x), shape) is None:
        raise RuntimeError(
            f"view: shape {shape} is not compatible with the input's size and stride "
            f"(shape {x.shape}, strides {strides_of(x)}); use .reshape(...) instead"
        )
    return reshape(x, shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one."""
    if not x.shape:
        return reshape(x, (1,))
    s, e = wrap_dim(start_dim, x.ndim, "flatten"), wrap_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:s] + (math.prod(x.shape[s : e + 1]),) + x.shape[e + 1 :]
    return reshape(x, shape)


def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dim into ``sizes``."""
    d = wrap_dim(dim, x.ndim, "unflatten")
    return reshape(x, x.shape[:d] + tuple(sizes) + x.shape[d + 1 :])


def permute(x: Tensor, *dims: Any) -> Tensor:
    """A view with dims reordered."""
    dims = _shape_arg("permute", dims)
    if len(dims) != x.ndim:
        raise ValueError(f"permute: got {len(dims)} dims {dims} for a tensor with {x.ndim} dims")
    dims = tuple(wrap_dim(d, x.ndim, "permute") for d in dims)
    if len(set(dims)) != len(dims):
        raise ValueError(f"permute: repeated dim in {dims}")
    shape = tuple(x.shape[d] for d in dims)
    k = x.device.kernels.get("permute")
    if k is not None:
        data = k(x._data, dims)
    else:
        st = strides_of(x)
        data = _strided_view(x, shape, tuple(st[d] for d in dims), 0)
    out = _as_view(x, data, shape, lambda t: t.permute(dims))
    if x.requires_grad and STATE.enabled:
        inv = tuple(sorted(range(len(dims)), key=lambda i: dims[i]))
        attach(out, "permute", lambda g: (permute(g, inv),), (x,))
    return out


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """A view with two dims swapped."""
    if x.ndim < 2 and not x.shape:
        return x
    d0, d1 = wrap_dim(dim0, x.ndim, "transpose"), wrap_dim(dim1, x.ndim, "transpose")
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(x, dims)


def t(x: Tensor) -> Tensor:
    """Transpose of a 2-D tensor (1-D and 0-D unchanged)."""
    if x.ndim > 2:
        raise ValueError(f"t: expects a tensor with <= 2 dims, got {x.ndim}; use transpose or .mT")
    return transpose(x, 0, 1) if x.ndim == 2 else x


def expand(x: Tensor, *shape: Any) -> Tensor:
    """A view with size-1 dims repeated (stride 0) to ``shape``; -1 keeps a dim."""
    shape = _shape_arg("expand", shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ValueError(
            f"expand: the number of sizes ({len(shape)}) must be >= the number of dims "
            f"({x.ndim}) of shape {x.shape}"
        )
    if any(s == -1 for s in shape[:lead]):
        raise ValueError(
            f"expand: -1 is not allowed for the new leading dims of {shape} (input shape {x.shape})"
        )
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape))
    for i, n in enumerate(x.shape):
        if n != 1 and n != shape[i + lead]:
            raise ValueError(
                f"expand: shape {x.shape} cannot be expanded to {shape} (dim {i + lead}: "
                f"{n} vs {shape[i + lead]}; only size-1 dims expand)"
            )
    if shape == x.shape:
        return x
    k = x.device.kernels.get("expand")
    if k is not None:
        data = k(x._data, shape)
    else:
        data = _strided_view(x, shape, broadcast_strides(x.shape, strides_of(x), shape), 0)
    out = _as_view(x, data, shape, lambda t: t.expand(shape))
    if x.requires_grad and STATE.enabled:
        from ._core import sum_to

        in_shape = x.shape  # as recorded (an in-place squeeze_/unsqueeze_ may change x's later)
        attach(out, "expand", lambda g: (sum_to(g, in_shape),), (x,))
    return out


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    """``expand`` to a broadcast-compatible shape."""
    return expand(x, tuple(shape))


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    """Remove size-1 dims (all, or those in ``dim``)."""
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        dims = normalize_dims(dim, x.ndim, "squeeze")
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1))
    return reshape(x, shape)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at ``dim``."""
    d = wrap_dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def contiguous(x: Tensor) -> Tensor:
    """x itself when C-contiguous, else a C-contiguous copy."""
    k = x.device.kernels.get("is_contiguous")
    if k(x._data) if k is not None else is_contiguous_(x):
        return x
    return clone(x)


def clone(x: Tensor) -> Tensor:
    """A copy with its own memory."""
    dev = x.device
    k = dev.kernels.get("clone")
    if k is not None:
        data = k(x._data)
    else:
        data = kernel(dev, "empty")(x.shape, x.dtype, dev.index)
        kernel(dev, "copy_")(data, x._data)
    out = _make(data, x.shape, x.dtype, dev)
    if x.requires_grad and STATE.enabled:
        attach(out, "clone", lambda g: (g,), (x,))
    return out


# -- basic indexing --------------------------------------------------------------------------------
def normalize_basic_key(x: Tensor, key: tuple) -> tuple[tuple, tuple[int, ...], tuple[int, ...], int]:
    """Resolve a key of ints/slices/None/Ellipsis against x: (normalised key, shape, strides, offset)
    where strides and offset describe the view relative to x's layout."""
    n_index = sum(1 for k in key if k is not None and k is not Ellipsis)
    if n_index > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim}: {n_index} given")
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    expanded: list[Any] = []
    for k in key:
        if k is Ellipsis:
            expanded.extend([slice(None)] * (x.ndim - n_index))
        else:
            expanded.append(k)
    expanded.extend([slice(None)] * (x.ndim - sum(1 for k in expanded if k is not None)))
    st = strides_of(x) if x.device.kernels.get("getitem_basic") is None else (0,) * x.ndim
    shape: list[int] = []
    strides: list[int] = []
    offset = 0
    d = 0
    norm: list[Any] = []
    for k in expanded:
        if k is None:
            shape.append(1)
            strides.append(0)
            norm.append(None)
            continue
        size = x.shape[d]
        if isinstance(k, slice):
            if k.step is not None and k.step <= 0:
                raise ValueError(f"index: slice step must be positive, got {k.step} (use .flip() to reverse)")
            start, stop, step = k.indices(size)
            n = max(0, (stop - start + step - 1) // step)
            shape.append(n)
            strides.append(st[d] * step)
            offset += start * st[d] if n else 0
            norm.append(slice(start, stop, step))
        else:
            i = int(k)
            if not -size <= i < size:
                raise IndexError(f"index {i} is out of bounds for dimension {d} with size {size}")
            i %= size
            offset += i * st[d]
            norm.append(i)
        d += 1
    return tuple(norm), tuple(shape), tuple(strides), offset


def getitem_basic(x: Tensor, key: tuple) -> Tensor:
    """x[key] for ints, slices (positive steps), None and Ellipsis: a view."""
    norm, shape, strides, offset = normalize_basic_key(x, key)
    k = x.device.kernels.get("getitem_basic")
    data = k(x._data, norm) if k is not None else _strided_view(x, shape, strides, offset)
    out = _as_view(x, data, shape, lambda t: getitem_basic(t, key))
    if x.requires_grad and STATE.enabled:
        in_shape = x.shape  # as recorded (an in-place squeeze_/unsqueeze_ may change x's later)
        attach(out, "select", lambda g: (_embed(g, in_shape, key),), (x,))
    return out


def _embed(g: Tensor, shape: tuple[int, ...], key: tuple) -> Tensor:
    """Zeros of ``shape`` with g written at ``key`` (the backward of basic indexing)."""
    from .creation import zeros

    with _no_grad():
        out = zeros(shape, dtype=g.dtype, device=g.device)
        target = getitem_basic(out, key)
        kernel(g.device, "copy_")(target._data, g._data)
    if g.requires_grad and STATE.enabled:
        attach(out, "embed", lambda gg: (getitem_basic(gg, key),), (g,))
    return out


def _no_grad() -> Any:
    from ..autograd.grad_mode import no_grad

    return no_grad()


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """A view of ``length`` elements of dim ``dim`` from ``start``."""
    d = wrap_dim(dim, x.ndim, "narrow")
    if start < 0:
        start += x.shape[d]
    if not (0 <= start and length >= 0 and start + length <= x.shape[d]):
        raise IndexError(
            f"narrow: start {start} + length {length} exceeds dimension {d} of size {x.shape[d]}"
        )
    return getitem_basic(x, (slice(None),) * d + (slice(start, start + length),))


def select(x: Tensor, dim: int, index: int) -> Tensor:
    """The view at ``index`` of dim ``dim`` (that dim removed)."""
    d = wrap_dim(dim, x.ndim, "select")
    return getitem_basic(x, (slice(None),) * d + (index,))


def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least 1 dim (a 0-d one becomes shape (1,)); one tensor in, one out."""
    return _atleast(tensors, 1)


def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least 2 dims: (n,) -> (1, n)."""
    return _atleast(tensors, 2)


def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least 3 dims: (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    return _atleast(tensors, 3)


def _atleast(tensors: tuple, k: int) -> Any:
    one = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    ts = tensors if not (len(tensors) == 1 and isinstance(tensors[0], (list, tuple))) else tuple(tensors[0])
    out = []
    for t in ts:
        if t.ndim >= k:
            out.append(t)
        elif k == 3 and t.ndim == 2:
            out.append(unsqueeze(t, -1))
        elif k == 3:
            out.append(reshape(t, (1, t.numel(), 1)))
        else:
            out.append(reshape(t, (1,) * (k - t.ndim) + t.shape))
    return out[0] if one else tuple(out)


def squeeze_(x: Tensor, dim: Any = None) -> Tensor:
    """In-place ``squeeze``: x becomes the squeezed view of itself; returns x."""
    return _reshape_in_place(x, squeeze(x, dim), "squeeze_")


def unsqueeze_(x: Tensor, dim: int) -> Tensor:
    """In-place ``unsqueeze``: x becomes the unsqueezed view of itself; returns x."""
    return _reshape_in_place(x, unsqueeze(x, dim), "unsqueeze_")


def _reshape_in_place(x: Tensor, y: Tensor, op: str) -> Tensor:
    """x takes y's shape and buffer (y is a view of x with the same elements): only the metadata
    changes, as in PyTorch; a leaf that requires grad keeps being that leaf only if nothing recorded."""
    if STATE.enabled and x.requires_grad and x.grad_fn is None and y.grad_fn is not None:
        raise RuntimeError(
            f"{op}: a leaf tensor that requires grad (shape {x.shape}) cannot change its shape in "
            "place; use the out-of-place op or do it under ember.no_grad()"
        )
    x._data, x.shape = y._data, y.shape
    if x._base is not None:
        x._view_fn = y._view_fn
    if y.grad_fn is not None:
        x.grad_fn = y.grad_fn
    return x


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from .records import register, view_record
    from .samples import ErrorSample

    register(
        view_record(
            "reshape",
            reshape,
            lambda x: reshape(x, -1, 2),
            lambda x: x.reshape(-1, 2),
            kernel="reshape",
            errors=(
                ErrorSample(
                    (np.ones((3, 4)), 5, -1),
                    {},
                    ValueError,
                    "reshape: shape \\(5, -1\\) is invalid for input of size 12",
                ),
                ErrorSample(
                    (np.ones(0), 2**62, 2**62, 0),
                    {},
                    ValueError,
                    "reshape: shape \\(4611686018427387904, 4611686018427387904, 0\\) is too large",
                ),
            ),
        ),
        view_record("view", view, lambda x: view(x.contiguous(), 2, -1), lambda x: x.reshape(2, -1)),
        view_record("flatten", flatten, lambda x: flatten(x, 1), lambda x: x.reshape(x.shape[0], -1)),
        view_record(
            "unflatten",
            unflatten,
            lambda x: unflatten(x, -1, (2, -1)),
            lambda x: x.reshape(x.shape[:-1] + (2, -1)),
        ),
        view_record(
            "permute",
            permute,
            lambda x: permute(x, *reversed(range(x.ndim))),
            lambda x: x.transpose(),
            kernel="permute",
            errors=(
                ErrorSample((np.ones((3, 4)), 0, 0), {}, ValueError, "permute: repeated dim in \\(0, 0\\)"),
            ),
        ),
        view_record(
            "transpose",
            transpose,
            lambda x: transpose(x, 0, -1),
            lambda x: np.swapaxes(x, 0, -1),
            errors=(
                ErrorSample((np.ones((3, 4)), 0, 3), {}, IndexError, "transpose: dimension 3 out of range"),
            ),
        ),
        view_record("t", t, lambda x: t(x[0] if x.ndim > 2 else x), lambda x: (x[0] if x.ndim > 2 else x).T),
        view_record(
            "expand",
            expand,
            lambda x: expand(x[None], 3, *x.shape),
            lambda x: np.broadcast_to(x, (3,) + x.shape),
            kernel="expand",
            errors=(
                ErrorSample(
                    (np.ones((3, 4)), 2, 3),
                    {},
                    ValueError,
                    "expand: shape \\(3, 4\\) cannot be expanded to \\(2, 3\\)",
                ),
            ),
        ),
        view_record(
            "broadcast_to",
            broadcast_to,
            lambda x: broadcast_to(x, (2,) + x.shape),
            lambda x: np.broadcast_to(x, (2,) + x.shape),
        ),
        view_record(
            "squeeze",
            squeeze,
            lambda x: squeeze(x[:, None], 1),
            lambda x: x,
            errors=(ErrorSample((np.ones((3, 4)), 4), {}, IndexError, "squeeze: dimension 4 out of range"),),
        ),
        view_record("unsqueeze", unsqueeze, lambda x: unsqueeze(x, -1), lambda x: x[..., None]),
        view_record("contiguous", contiguous, contiguous, lambda x: x, kernel="is_contiguous"),
        view_record("clone", clone, clone, lambda x: x.copy(), kernel="clone"),
        view_record(
            "narrow",
            narrow,
            lambda x: narrow(x, 1, 1, 2),
            lambda x: x[:, 1:3],
            errors=(
                ErrorSample(
                    (np.ones((3, 4)), 0, 2, 5),
                    {},
                    IndexError,
                    "narrow: start 2 \\+ length 5 exceeds dimension 0 of size 3",
                ),
            ),
        ),
        view_record("select", select, lambda x: select(x, -1, 1), lambda x: x[..., 1]),
        view_record(
            "transpose_contiguous",
            contiguous,
            lambda x: transpose(x, 0, 1).contiguous(),
            lambda x: np.swapaxes(x, 0, 1),
            public=False,
            methods=(),
        ),
        view_record(
            "expand_as",
            expand,
            lambda x: x[None].expand_as(expand(x[None], 2, *x.shape)),
            lambda x: np.broadcast_to(x, (2,) + x.shape),
            public=False,
            methods={"expand_as": lambda self, o: expand(self, o.shape)},
        ),
        view_record(
            "view_as",
            view,
            lambda x: x.contiguous().view_as(x.contiguous().reshape(-1)),
            lambda x: x.reshape(-1),
            public=False,
            methods={"view_as": lambda self, o: view(self, o.shape)},
        ),
        view_record(
            "reshape_as",
            reshape,
            lambda x: x.reshape_as(x.reshape(-1)),
            lambda x: x.reshape(-1),
            public=False,
            methods={"reshape_as": lambda self, o: reshape(self, o.shape)},
        ),
        view_record(
            "T", permute, lambda x: x.T, lambda x: x.T, public=False, methods=(), covers=("Tensor.T",)
        ),
        view_record(
            "mT",
            transpose,
            lambda x: x.mT,
            lambda x: np.swapaxes(x, -2, -1),
            public=False,
            methods=(),
            covers=("Tensor.mT",),
        ),
    )

    _more_records()


def _more_records() -> None:
    """Records of ``atleast_1d``/``2d``/``3d`` and of the in-place ``squeeze_``/``unsqueeze_``."""
    import numpy as np

    from .joining import cat  # the atleast_several record joins its results
    from .records import OpRecord, register
    from .samples import ALL, FLOATS, NUMERIC, Sample, block_samples, rand_array

    def r(rng: np.random.Generator, dtype: str) -> Any:
        return lambda *s: rand_array(rng, s, dtype)

    def atleast_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        a = r(rng, dtype)
        return [
            Sample((a(),)),
            Sample((a(3),)),
            Sample((a(2, 3),)),
            Sample((a(2, 3, 2),)),
            Sample((a(3, 2),), noncontig=True),
        ]

    def join_samples(*shapes: tuple[tuple[int, ...], ...]) -> Any:
        def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
            a = r(rng, dtype)
            return [Sample(tuple(a(*s) for s in pair)) for pair in shapes]

        return make

    def fresh(x: Any) -> Any:
        return x.clone() if isinstance(x, Tensor) else x.copy()

    register(
        OpRecord("atleast_1d", atleast_1d, atleast_samples, np.atleast_1d, dtypes=ALL),
        OpRecord("atleast_2d", atleast_2d, atleast_samples, np.atleast_2d, dtypes=ALL),
        OpRecord("atleast_3d", atleast_3d, atleast_samples, np.atleast_3d, dtypes=ALL),
        OpRecord(
            "atleast_several",
            atleast_2d,
            join_samples(((), (3,), (2, 2))),
            lambda *xs: np.concatenate(
                [a.reshape(-1) for a in np.atleast_2d(*xs)]
                + [np.array(np.atleast_2d(*xs)[1].shape, dtype=xs[0].dtype)]
            ),
            call=lambda *xs: cat(
                [t.reshape(-1) for t in atleast_2d(*xs)] + [_shape_tensor(atleast_2d(*xs)[1], xs[0])]
            ),
            dtypes=NUMERIC,
            grad=False,
            public=False,
            covers=("atleast_1d", "atleast_3d"),
        ),
        OpRecord(
            "squeeze_",
            squeeze_,
            block_samples,
            lambda x: x,
            call=lambda x: squeeze_(unsqueeze(fresh(x), 1), 1),
            methods={"squeeze_": squeeze_},
            dtypes=ALL,
            public=False,
        ),
        OpRecord(
            "unsqueeze_",
            unsqueeze_,
            block_samples,
            lambda x: x[:, None],
            call=lambda x: unsqueeze_(fresh(x), 1),
            methods={"unsqueeze_": unsqueeze_},
            dtypes=FLOATS + ("int64", "bool"),
            public=False,
        ),
    )


def _shape_tensor(t: Tensor, like: Tensor) -> Tensor:
    """t's shape as a 1-D tensor of like's dtype and device (for a record that checks shapes)."""
    from .creation import tensor

    return tensor(list(t.shape), dtype=like.dtype, device=like.device)


_records()
