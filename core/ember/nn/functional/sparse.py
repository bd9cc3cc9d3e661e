"""Index-based encodings: :func:`embedding` lookup, :func:`embedding_bag` (the lookup reduced
per bag) and :func:`one_hot`.

Composites of core ops (``index_select``, ``eq``). Index bounds are checked on the values where
the device holds them (not on shape-only devices such as ``meta``).
"""

from __future__ import annotations

import math

from ... import dtypes as _dt
from ... import ops as E
from ...autograd.grad_mode import STATE, no_grad
from ...ops._core import has_data
from ...tensor import Tensor

__all__ = ["embedding", "embedding_bag", "one_hot"]


def _check_embedding_indices(flat: Tensor, num: int) -> None:
    """IndexError naming the first bad index unless every index of ``flat`` is in [0, num) (a value
    check: ``ember.compile`` runs it again on each replay's indices)."""
    if flat.numel() and has_data(flat):
        lo, hi = int(flat.min().item()), int(flat.max().item())
        if lo < 0 or hi >= num:
            bad = lo if lo < 0 else hi
            raise IndexError(
                f"embedding: index {bad} is out of range for an embedding with {num} rows "
                f"(valid: 0 .. {num - 1})"
            )


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) at the integer indices ``input``; rows at
    ``padding_idx`` get no gradient. With ``max_norm``, each looked-up row whose ``norm_type``-norm
    exceeds it is first rescaled in place to norm ``max_norm`` (``weight`` itself changes, as in
    PyTorch)."""
    if input.dtype.is_floating_point or input.dtype.is_bool:
        raise TypeError(f"embedding: expected integer indices, got {input.dtype}; cast with .long()")
    if weight.ndim != 2:
        raise ValueError(
            f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {weight.shape}; "
            "for one value per index use weight.unsqueeze(1)"
        )
    num = weight.shape[0]
    if padding_idx is not None and not -num <= padding_idx < num:
        raise ValueError(
            f"embedding: padding_idx {padding_idx} must be within num_embeddings ({num}), i.e. in "
            f"[{-num}, {num - 1}]; or pass None"
        )
    flat = input.reshape(-1)
    _check_embedding_indices(flat, num)
    if max_norm is not None:
        _renorm_rows_(weight, flat, max_norm, norm_type)
    out = E.index_select(weight, 0, flat)
    if padding_idx is not None and weight.requires_grad and STATE.enabled:
        if padding_idx < 0:
            padding_idx += num
        keep = E.ne(flat, padding_idx).unsqueeze(-1)
        out = E.where(keep, out, out.detach())
    return out.reshape(tuple(input.shape) + (weight.shape[1],))


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """The rows of ``weight`` at ``input``, reduced per bag by ``mode`` ('sum', 'mean' or 'max')
    without materialising the (bag, position) lookup per bag: a 2-D input (B, L) is B bags of L
    indices; a 1-D input is cut into bags at ``offsets`` (each bag's start; with
    ``include_last_offset`` the last entry is the end of the last bag). Entries equal to
    ``padding_idx`` are left out (an empty bag gives zeros), ``per_sample_weights`` (mode 'sum'
    only) scale each looked-up row. The bag bounds are read on the host."""
    op = "embedding_bag"
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{op}: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    if scale_grad_by_freq or sparse:
        raise ValueError(
            f"{op}: scale_grad_by_freq=True and sparse=True are not supported; pass False (gradients "
            "are dense)"
        )
    if per_sample_weights is not None and mode != "sum":
        raise ValueError(f"{op}: per_sample_weights is only supported for mode='sum', got mode={mode!r}")
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ValueError(
            f"{op}: per_sample_weights has shape {tuple(per_sample_weights.shape)}, expected the input's "
            f"shape {tuple(input.shape)}"
        )
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: offsets must be None for a 2-D input (each row is a bag), got a tensor")
        b, length = input.shape
        starts = [i * length for i in range(b)]
        ends = [(i + 1) * length for i in range(b)]
    elif input.ndim == 1:
        if offsets is None or offsets.ndim != 1:
            raise ValueError(f"{op}: a 1-D input needs 1-D offsets (the start of each bag), got {offsets!r}")
        bounds = [int(v) for v in offsets.tolist()]
        n = input.shape[0]
        if bounds and bounds[0] != 0:
            raise ValueError(f"{op}: offsets[0] must be 0, got {bounds[0]}")
        if any(a > c for a, c in zip(bounds, bounds[1:])) or any(v > n for v in bounds):
            raise ValueError(
                f"{op}: offsets must be non-decreasing and at most the input's length {n}, got {bounds}"
            )
        if include_last_offset:  # as PyTorch: the last bag still runs to the end of the input
            starts, ends = bounds[:-1], bounds[1:-1] + [n]
        else:
            starts, ends = bounds, bounds[1:] + [n]
    else:
        raise ValueError(f"{op}: expected a 1-D (with offsets) or 2-D input, got shape {tuple(input.shape)}")
    flat = input.reshape(-1)
    rows = embedding(flat, weight, None, max_norm, norm_type)  # (n, D)
    num, dim = weight.shape
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(
                f"{op}: padding_idx {padding_idx} must be within num_embeddings ({num}), or None"
            )
        padding_idx %= num
    keep = E.ne(flat, padding_idx) if padding_idx is not None else None
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1, 1).to(rows.dtype)
    nbags = len(starts)
    if mode == "max":
        kept = [i for i, v in enumerate(flat.tolist()) if v != padding_idx]
        out_rows = []
        zero = E.zeros((dim,), dtype=weight.dtype, device=weight.device)
        for s0, e0 in zip(starts, ends):
            pos = [i for i in kept if s0 <= i < e0] if padding_idx is not None else list(range(s0, e0))
            if not pos:
                out_rows.append(zero)
                continue
            idx = E.tensor(pos, dtype=_dt.int64, device=weight.device)
            out_rows.append(E.index_select(rows, 0, idx).amax(0))
        return (
            E.stack(out_rows, 0) if out_rows else E.zeros((0, dim), dtype=weight.dtype, device=weight.device)
        )
    if keep is not None:
        rows = E.where(keep.unsqueeze(1), rows, 0.0)
    n_in = flat.shape[0]
    bag_of = [0] * n_in  # every element lies in one bag: the bags tile [0, n) from offsets[0] = 0
    for i, (s0, e0) in enumerate(zip(starts, ends)):
        bag_of[s0:e0] = [i] * (e0 - s0)
    index = E.tensor(bag_of, dtype=_dt.int64, device=weight.device).reshape(-1, 1)
    index = E.broadcast_to(index, (n_in, dim)).contiguous()
    out = E.scatter_add(E.zeros((nbags, dim), dtype=rows.dtype, device=rows.device), 0, index, rows)
    if mode == "sum":
        return out
    ones = keep.to(rows.dtype) if keep is not None else E.ones((n_in,), dtype=rows.dtype, device=rows.device)
    counts = E.scatter_add(
        E.zeros((nbags,), dtype=rows.dtype, device=rows.device),
        0,
        E.tensor(bag_of, dtype=_dt.int64, device=weight.device),
        ones,
    )
    return out / E.clamp(counts, 1.0).reshape(-1, 1)


def _renorm_rows_(weight: Tensor, rows: Tensor, max_norm: float, norm_type: float) -> None:
    """Rescale, in place and unrecorded, the rows of ``weight`` at the indices ``rows`` whose
    ``norm_type``-norm exceeds ``max_norm`` by ``max_norm / (norm + 1e-7)`` (PyTorch's
    ``embedding_renorm_``). A row named twice is written twice with the same values."""
    if not weight.dtype.is_floating_point:
        raise TypeError(f"embedding: max_norm needs a floating weight, got {weight.dtype}")
    if max_norm < 0:
        raise ValueError(f"embedding: max_norm must be non-negative, got {max_norm}")
    if not rows.numel():
        return
    with no_grad():
        picked = E.index_select(weight, 0, rows)
        norms = E.norm(picked, norm_type, dim=1, keepdim=True)
        scale = E.where(E.gt(norms, max_norm), max_norm / (norms + 1e-7), 1.0)
        weight[rows] = picked * scale


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """(…, num_classes) int64 tensor with a 1 at each index (num_classes=-1: max index + 1)."""
    if tensor.dtype.is_floating_point or tensor.dtype.is_bool:
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got {tensor.dtype}")
    if num_classes < 0:
        num_classes = int(tensor.max().item()) + 1 if tensor.numel() else 0  # needs values
    if tensor.numel() and has_data(tensor):
        lo, hi = int(tensor.min().item()), int(tensor.max().item())
        if lo < 0 or hi >= num_classes:
            bad = lo if lo < 0 else hi
            raise ValueError(f"one_hot: class values must be in [0, {num_classes}), got {bad}")
    classes = E.arange(num_classes, dtype=tensor.dtype, device=tensor.device)
    return E.eq(tensor.unsqueeze(-1), classes).to(_dt.int64)


# -- op records ---------------------------------------------------------------------------------
def _embedding_weight_grad(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """The gradient of ``embedding(input, weight, padding_idx).sum()`` with respect to ``weight``:
    each row's number of uses, with no gradient for the ``padding_idx`` row. (Finite differences
    cannot check padding_idx: its row still takes part in the forward.)"""
    from ...autograd import grad

    w = weight.detach().requires_grad_(True)
    (g,) = grad([embedding(input, w, padding_idx).sum()], [w])
    return g


def _embedding_with_max_norm(
    input: Tensor, weight: Tensor, max_norm: float, norm_type: float = 2.0
) -> Tensor:
    """For the kit: ``embedding(..., max_norm=...)`` on a copy of ``weight`` (the op rescales the
    looked-up rows in place), returning the output and the rescaled weight, flattened and joined."""
    w = weight.clone()
    out = embedding(input, w, max_norm=max_norm, norm_type=norm_type)
    return E.cat([out.reshape(-1), w.reshape(-1)])


def _records() -> None:
    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import INTS, ErrorSample, Sample, rand_array

    def idx(rng: np.random.Generator, shape: tuple[int, ...], num: int, dtype: str = "int64") -> np.ndarray:
        return rng.integers(0, num, size=shape).astype(dtype)

    def embedding_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def w(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((idx(rng, (4,), 3), w(3, 2))),
            Sample((idx(rng, (2, 3), 4), w(4, 2))),
            Sample((np.asarray(1, dtype=np.int64), w(3, 2))),  # a 0-d index: one row
            Sample((idx(rng, (2, 5), 6), w(6, 3)), {"padding_idx": 0}, grad=False),
            Sample((idx(rng, (3, 4), 5), w(5, 4)), {"padding_idx": -1}, grad=False),
            Sample((idx(rng, (2, 2, 3), 7), w(7, 3)), grad=False),
            Sample((np.zeros((0,), dtype=np.int64), w(4, 3)), grad=False),
            Sample((idx(rng, (3, 4), 5), w(5, 3)), noncontig=True, grad=False),
            Sample((idx(rng, (2, 3), 3), w(3, 2)), noncontig=True),
            Sample((idx(rng, (3, 4), 6), w(6, 3)), noncontig="flip", grad=False),
        ]

    def embedding_ref(indices: np.ndarray, weight: np.ndarray, padding_idx: int | None = None) -> np.ndarray:
        return weight[indices]

    def max_norm_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def w(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((idx(rng, (4,), 5), w(5, 3), 1.0), grad=False),
            Sample((idx(rng, (2, 6), 4), w(4, 2), 0.5, 1.0), grad=False),  # rows named twice
            Sample((idx(rng, (3,), 6), w(6, 4), 1.5, math.inf), grad=False),
            Sample((idx(rng, (5,), 3), w(3, 3), 2.0, 3.0), noncontig=True, grad=False),
            Sample((np.zeros((0,), dtype=np.int64), w(3, 2), 1.0), grad=False),
        ]

    def max_norm_ref(
        indices: np.ndarray, weight: np.ndarray, max_norm: float, norm_type: float = 2.0
    ) -> np.ndarray:
        # PyTorch's embedding_renorm_: each distinct looked-up row above max_norm is scaled by
        # max_norm / (norm + 1e-7), then the rows are looked up
        w = weight.astype(np.float64)
        for i in np.unique(indices):
            n = np.linalg.norm(w[i], ord=norm_type)
            if n > max_norm:
                w[i] *= max_norm / (n + 1e-7)
        return np.concatenate([w[indices].reshape(-1), w.reshape(-1)])

    def padding_grad_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def w(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((idx(rng, (10,), 4), w(4, 3)), {"padding_idx": 0}, grad=False),
            Sample((idx(rng, (3, 5), 5), w(5, 2)), {"padding_idx": -2}, grad=False),
            Sample((idx(rng, (3, 5), 5), w(5, 2)), grad=False),
            Sample((idx(rng, (4, 3), 6), w(6, 2)), {"padding_idx": 2}, noncontig=True, grad=False),
        ]

    def padding_grad_ref(
        indices: np.ndarray, weight: np.ndarray, padding_idx: int | None = None
    ) -> np.ndarray:
        num = weight.shape[0]
        counts = np.zeros(num)
        for i in indices.reshape(-1):
            counts[i] += 1
        if padding_idx is not None:
            counts[padding_idx % num] = 0
        return np.repeat(counts[:, None], weight.shape[1], axis=1)

    def one_hot_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample((idx(rng, (5,), 4, dtype), 4), grad=False),
            Sample((idx(rng, (2, 3), 3, dtype), 6), grad=False),
            Sample((np.asarray(2, dtype=dtype), 3), grad=False),
            Sample((np.zeros((0,), dtype=dtype), 3), grad=False),
            Sample((idx(rng, (4, 3), 5, dtype), 5), noncontig=True, grad=False),
            Sample((idx(rng, (3, 4), 5, dtype), 5), noncontig="flip", grad=False),
        ]

    def one_hot_inferred_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample((idx(rng, (6,), 4, dtype),), grad=False),
            Sample((idx(rng, (2, 3), 5, dtype), -1), grad=False),
            Sample((np.asarray(0, dtype=dtype),), grad=False),
        ]

    def one_hot_ref(t: np.ndarray, num_classes: int = -1) -> np.ndarray:
        n = int(t.max()) + 1 if num_classes < 0 else num_classes
        out = np.zeros(t.shape + (n,), dtype=np.int64)
        for pos in np.ndindex(t.shape):
            out[pos + (int(t[pos]),)] = 1
        return out

    def bag_ref(
        input: np.ndarray,
        weight: np.ndarray,
        offsets: np.ndarray | None = None,
        max_norm: float | None = None,
        norm_type: float = 2,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        per_sample_weights: np.ndarray | None = None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
    ) -> np.ndarray:
        if input.ndim == 2:
            bags = [list(r) for r in input]
            psw = [list(r) for r in per_sample_weights] if per_sample_weights is not None else None
        else:
            b = list(offsets[:-1]) if include_last_offset else list(offsets)
            ends = b[1:] + [len(input)]
            bags = [list(input[s0:e0]) for s0, e0 in zip(b, ends)]
            psw = (
                [list(per_sample_weights[s0:e0]) for s0, e0 in zip(b, ends)]
                if per_sample_weights is not None
                else None
            )
        out = np.zeros((len(bags), weight.shape[1]))
        pad = padding_idx % weight.shape[0] if padding_idx is not None else None
        for i, bag in enumerate(bags):
            rows = [
                weight[j].astype(np.float64) * (psw[i][k] if psw else 1.0)
                for k, j in enumerate(bag)
                if j != pad
            ]
            if rows:
                out[i] = {"sum": np.sum, "mean": np.mean, "max": np.max}[mode](rows, axis=0)
        return out

    def bag_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def w(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        flat = idx(rng, (9,), 6)
        return [
            Sample((idx(rng, (3, 4), 6), w(6, 3)), {"mode": "sum"}),
            Sample((idx(rng, (3, 4), 6), w(6, 3))),
            Sample((idx(rng, (3, 4), 6), w(6, 3)), {"mode": "max"}),
            Sample((flat, w(6, 2), np.array([0, 2, 2, 5])), {"mode": "mean"}),  # an empty bag
            Sample((flat, w(6, 2), np.array([0, 4, 9])), {"mode": "sum", "include_last_offset": True}),
            Sample((flat, w(6, 2), np.array([0, 3])), {"mode": "max", "padding_idx": int(flat[0])}),
            Sample((idx(rng, (2, 5), 6), w(6, 3)), {"mode": "mean", "padding_idx": 2}),
            # per_sample_weights positionally: the kit makes tensors of positional arrays only
            Sample((idx(rng, (2, 3), 5), w(5, 2), None, None, 2, False, "sum", False, w(2, 3))),
            Sample((idx(rng, (3, 4), 6), w(6, 3)), {"mode": "sum"}, noncontig=True),
        ]

    register(
        OpRecord(
            "nn.functional.embedding",
            embedding,
            embedding_samples,
            embedding_ref,
            errors=(
                ErrorSample(
                    (np.array([0, 3], dtype=np.int64), np.ones((3, 2))),
                    {},
                    IndexError,
                    "embedding: index 3 is out of range for an embedding with 3 rows",
                ),
                ErrorSample(
                    (np.array([0.0, 1.0]), np.ones((3, 2))),
                    {},
                    TypeError,
                    "embedding: expected integer indices, got ember.float64",
                ),
                ErrorSample(
                    (np.array([0, 1], dtype=np.int64), np.ones((3, 2))),
                    {"padding_idx": 3},
                    ValueError,
                    "embedding: padding_idx 3 must be within num_embeddings \\(3\\)",
                ),
                ErrorSample(
                    (np.array([0, 1], dtype=np.int64), np.ones(3)),
                    {},
                    ValueError,
                    "embedding: weight must be 2-D \\(num_embeddings, embedding_dim\\), got shape \\(3,\\)",
                ),
                ErrorSample(
                    (np.array([0, 1], dtype=np.int64), np.ones((3, 2))),
                    {"max_norm": -1.0},
                    ValueError,
                    "embedding: max_norm must be non-negative, got -1.0",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.embedding_max_norm",
            embedding,
            max_norm_samples,
            max_norm_ref,
            call=_embedding_with_max_norm,
            grad=False,
            covers=("nn.functional.embedding",),
            public=False,
            reads_values=True,
        ),
        OpRecord(
            "nn.functional.embedding_padding_grad",
            embedding,
            padding_grad_samples,
            padding_grad_ref,
            call=_embedding_weight_grad,
            grad=False,
            covers=("nn.functional.embedding",),
            public=False,
        ),
        OpRecord(
            "nn.functional.one_hot",
            one_hot,
            one_hot_samples,
            one_hot_ref,
            dtypes=INTS,
            grad=False,
            errors=(
                ErrorSample(
                    (np.array([0.0, 1.0]), 2),
                    {},
                    TypeError,
                    "one_hot: expected an integer tensor of class indices, got ember.float64",
                ),
            ),
        ),
        # num_classes=-1 (the default) takes max index + 1: the output's shape depends on the
        # values, so a device without data (meta) cannot run this record
        OpRecord(
            "nn.functional.one_hot_inferred",
            one_hot,
            one_hot_inferred_samples,
            one_hot_ref,
            dtypes=INTS,
            grad=False,
            covers=("nn.functional.one_hot",),
            public=False,
            reads_values=True,
        ),
        OpRecord(
            "nn.functional.embedding_bag",
            embedding_bag,
            bag_samples,
            bag_ref,
            reads_values=True,  # the bag bounds (and, for 'max', the padding entries) are read on the host
            errors=(
                ErrorSample(
                    (np.zeros((2, 3), dtype=np.int64), np.ones((4, 2))),
                    {"mode": "median"},
                    ValueError,
                    "embedding_bag: mode must be 'sum', 'mean' or 'max'",
                ),
                ErrorSample(
                    (
                        np.zeros((2, 3), dtype=np.int64),
                        np.ones((4, 2)),
                        None,
                        None,
                        2,
                        False,
                        "mean",
                        False,
                        np.ones((2, 3)),
                    ),
                    {},
                    ValueError,
                    "embedding_bag: per_sample_weights is only supported for mode='sum'",
                ),
                ErrorSample(
                    (np.zeros((3,), dtype=np.int64), np.ones((4, 2))),
                    {},
                    ValueError,
                    "embedding_bag: a 1-D input needs 1-D offsets",
                ),
            ),
        ),
    )


_records()
