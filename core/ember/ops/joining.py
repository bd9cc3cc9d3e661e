"""Joining and splitting: ``cat`` (``concat``), ``stack``, ``hstack``, ``vstack`` (``row_stack``),
``dstack`` and ``column_stack`` join tensors into a new one; ``split``, ``chunk`` and ``unbind``
cut one tensor into views along a dim.

``cat`` is an optional kernel (``Backend`` may give ``cat``); without it the pieces are copied into
narrowed views of one empty result. The other joins compose ``cat`` with the views of
:mod:`ember.ops.shape`; the splits are ``narrow`` and ``select`` views.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._core import STATE, Tensor, _make, attach, kernel, same_device, wrap_dim
from .shape import atleast_1d, atleast_2d, atleast_3d, narrow, reshape, select, unsqueeze


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenate along an existing dim (shapes must match elsewhere)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    tensors = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    ref = tensors[0]
    dev = same_device("cat", *tensors)
    d = wrap_dim(dim, ref.ndim, "cat")
    from ..dtypes import result_type

    dt = result_type(*tensors)
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim or any(a != b for j, (a, b) in enumerate(zip(t.shape, ref.shape)) if j != d):
            raise ValueError(
                f"cat: tensor {i} has shape {t.shape}, incompatible with {ref.shape} "
                f"(all dims but {d} must match)"
            )
    sizes = [t.shape[d] for t in tensors]
    shape = ref.shape[:d] + (sum(sizes),) + ref.shape[d + 1 :]
    datas = [t._data if t.dtype is dt else t.to(dt)._data for t in tensors]
    k = dev.kernels.get("cat")
    if k is not None:
        data = k(datas, d)
    else:
        data = kernel(dev, "empty")(shape, dt, dev.index)
        outview = _make(data, shape, dt, dev)
        pos = 0
        copy_ = kernel(dev, "copy_")
        for src, n in zip(datas, sizes):
            if n:
                copy_(narrow(outview, d, pos, n)._data, src)
            pos += n
    out = _make(data, shape, dt, dev)
    if STATE.enabled and any(t.requires_grad for t in tensors):

        def grad(g: Tensor) -> tuple[Tensor, ...]:
            res, pos = [], 0
            for n in sizes:
                res.append(narrow(g, d, pos, n))
                pos += n
            return tuple(res)

        attach(out, "cat", grad, tensors)
    return out


concat = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join along a new dim (all shapes equal)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(
                f"stack: expects each tensor to be equal size, but got {tensors[0].shape} at "
                f"entry 0 and {t.shape} at entry {i}"
            )
    d = wrap_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


def split(x: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into pieces of a size (last may be smaller) or of given sizes: views."""
    d = wrap_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s <= 0:
            raise ValueError(f"split: split_size must be positive, got {s}")
        sizes = [min(s, n - i) for i in range(0, n, s)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} sum to {sum(sizes)}, but dimension {d} has size {n}")
    out, pos = [], 0
    for s in sizes:
        out.append(narrow(x, d, pos, s))
        pos += s
    return tuple(out)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into ``chunks`` nearly equal pieces (views)."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    d = wrap_dim(dim, x.ndim, "chunk")
    size = -(-x.shape[d] // chunks) if x.shape[d] else 1
    return split(x, size, d)


def unbind(x: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """All slices along ``dim`` (that dim removed)."""
    d = wrap_dim(dim, x.ndim, "unbind")
    return tuple(select(x, d, i) for i in range(x.shape[d]))


def _some(op: str, tensors: Sequence[Tensor]) -> list[Tensor]:
    ts = list(tensors)
    if not ts or not all(isinstance(t, Tensor) for t in ts):
        raise ValueError(f"{op}: expected a non-empty sequence of tensors, got {tensors!r}")
    return ts


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenate along dim 1 (dim 0 for 1-D tensors)."""
    ts = [atleast_1d(t) for t in _some("hstack", tensors)]
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenate along dim 0, 1-D tensors as rows (``row_stack``)."""
    return cat([atleast_2d(t) for t in _some("vstack", tensors)], 0)


row_stack = vstack


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenate along dim 2 (depth), after :func:`atleast_3d`."""
    return cat([atleast_3d(t) for t in _some("dstack", tensors)], 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """1-D (and 0-d) tensors as columns, 2-D ones as they are, concatenated along dim 1."""
    ts = _some("column_stack", tensors)
    return cat([reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in ts], 1)


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from .records import OpRecord, register
    from .samples import ALL, NUMERIC, ErrorSample, Sample, block_samples, rand_array

    def seq(*fns: Any) -> tuple[Any, Any]:
        # one callable for ember tensors and numpy arrays alike: fns[0] on tensors, fns[1] on arrays
        def call(*xs: Any, **kw: Any) -> Any:
            return fns[0](*xs, **kw) if isinstance(xs[0], Tensor) else fns[1](*xs, **kw)

        return call, call

    def cat_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(2, 3), a(4, 3)), {"dim": 0}),
            Sample((a(2, 3), a(2, 1), a(2, 2)), {"dim": 1}),
            Sample((a(3, 2), a(3, 2)), {"dim": -1}, noncontig=True),
            Sample((a(3, 2), a(0, 2)), {"dim": 0}, grad=False),
        ]

    def stack_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample((rand_array(rng, (2, 3), dtype), rand_array(rng, (2, 3), dtype)), {"dim": 0}),
            Sample((rand_array(rng, (2, 3), dtype), rand_array(rng, (2, 3), dtype)), {"dim": 2}),
        ]

    def join_samples(*shapes: tuple[tuple[int, ...], ...]) -> Any:
        def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
            return [Sample(tuple(rand_array(rng, s, dtype) for s in pair)) for pair in shapes]

        return make

    def joined(fn: Any, np_fn: Any) -> tuple[Any, Any]:
        return (lambda *xs: fn(list(xs))), (lambda *xs: np_fn(xs))

    def split_record(name: str, fn: Any, call: Any, ref: Any) -> OpRecord:
        # the pieces are views of one tensor: checked one at a time, on the inputs of the views
        return OpRecord(name, fn, block_samples, ref, call=call, methods=(name,), dtypes=ALL)

    cat_call, cat_ref = seq(lambda *xs, dim: cat(list(xs), dim), lambda *xs, dim: np.concatenate(xs, dim))
    stack_call, stack_ref = seq(lambda *xs, dim: stack(list(xs), dim), lambda *xs, dim: np.stack(xs, dim))
    hstack_call, hstack_ref = joined(hstack, np.hstack)
    vstack_call, vstack_ref = joined(vstack, np.vstack)
    dstack_call, dstack_ref = joined(dstack, np.dstack)
    cstack_call, cstack_ref = joined(column_stack, np.column_stack)
    register(
        split_record("split", split, lambda x: split(x, 1, 0)[-1], lambda x: x[-1:]),
        split_record("chunk", chunk, lambda x: chunk(x, 2, -1)[0], lambda x: np.array_split(x, 2, -1)[0]),
        split_record("unbind", unbind, lambda x: unbind(x, 1)[1], lambda x: x[:, 1]),
        OpRecord(
            "cat",
            cat,
            cat_samples,
            cat_ref,
            call=cat_call,
            kernel="cat",
            covers=("concat",),
            dtypes=NUMERIC + ("bool",),
            errors=(
                ErrorSample(
                    ([np.ones((3, 4)), np.ones((3, 5))],),
                    {"dim": 0},
                    ValueError,
                    "cat: tensor 1 has shape \\(3, 5\\), incompatible with \\(3, 4\\)",
                ),
            ),
        ),
        OpRecord(
            "stack",
            stack,
            stack_samples,
            stack_ref,
            call=stack_call,
            dtypes=NUMERIC,
            errors=(
                ErrorSample(
                    ([np.ones((3, 4)), np.ones(5)],),
                    {"dim": 0},
                    ValueError,
                    "stack: expects each tensor to be equal size, but got \\(3, 4\\) at entry 0 and "
                    "\\(5,\\) at entry 1",
                ),
            ),
        ),
        OpRecord(
            "hstack",
            hstack,
            join_samples(((3,), (2,)), ((2, 3), (2, 1)), ((), ())),
            hstack_ref,
            call=hstack_call,
            dtypes=ALL,
            errors=(ErrorSample(([],), {}, ValueError, "hstack: expected a non-empty sequence of tensors"),),
        ),
        OpRecord(
            "vstack",
            vstack,
            join_samples(((3,), (3,)), ((2, 3), (1, 3)), ((), ())),
            vstack_ref,
            call=vstack_call,
            dtypes=ALL,
            covers=("row_stack",),
        ),
        OpRecord(
            "dstack",
            dstack,
            join_samples(((3,), (3,)), ((2, 3), (2, 3)), ((2, 3, 1), (2, 3, 2))),
            dstack_ref,
            call=dstack_call,
            dtypes=ALL,
        ),
        OpRecord(
            "column_stack",
            column_stack,
            join_samples(((3,), (3,)), ((3,), (3, 2)), ((), ())),
            cstack_ref,
            call=cstack_call,
            dtypes=ALL,
        ),
    )


_records()
