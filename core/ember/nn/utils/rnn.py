"""Packed sequences, PyTorch's ``torch.nn.utils.rnn``: a batch of sequences of different lengths
stored time step by time step without padding, which :class:`ember.nn.RNN`, :class:`ember.nn.LSTM`
and :class:`ember.nn.GRU` run over each sequence's valid steps only.

A :class:`PackedSequence` holds ``data`` (the valid rows of every time step, step 0 first, each step
holding the sequences still running, longest first), ``batch_sizes`` (how many sequences run at
each step, an int64 tensor on cpu), and, when the batch was not already sorted by decreasing
length, ``sorted_indices`` (the batch order by decreasing length) and ``unsorted_indices`` (its
inverse), on the data's device.

Packing and padding are gathers of rows (``index_select``), so they differentiate through core
ops on every backend; the lengths are host values, as in PyTorch (where they live on the cpu).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from ... import dtypes as _dt
from ... import ops as E
from ...tensor import Tensor

__all__ = [
    "PackedSequence",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pack_sequence",
    "pad_sequence",
    "unpad_sequence",
    "unpack_sequence",
    "invert_permutation",
]


class _PackedFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedFields):
    """A packed batch of variable-length sequences (a named tuple of ``data``, ``batch_sizes``,
    ``sorted_indices``, ``unsorted_indices``, as PyTorch's). Build it with
    :func:`pack_padded_sequence` or :func:`pack_sequence`, not by hand."""

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if batch_sizes is None:
            raise TypeError(
                "PackedSequence: batch_sizes is required; build packed sequences with "
                "pack_padded_sequence or pack_sequence"
            )
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """``data.to(*args, **kwargs)``; the indices follow the data's device, ``batch_sizes``
        stays on the cpu. Returns ``self`` when nothing changes."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        dev = data.device
        move = lambda t: None if t is None else t.to(dev)  # noqa: E731
        out = PackedSequence(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))
        _keep_order(out, _order_of(self, required=False))
        return out

    def cpu(self) -> PackedSequence:
        """The packed sequence on the cpu."""
        return self.to("cpu")

    def double(self) -> PackedSequence:
        """The data as float64."""
        return self.to(dtype=_dt.float64)

    def float(self) -> PackedSequence:
        """The data as float32."""
        return self.to(dtype=_dt.float32)

    @property
    def is_cuda(self) -> bool:
        """Whether the data is on a cuda device."""
        return self.data.device.type == "cuda"


def _keep_order(ps: PackedSequence, order: list[int] | None) -> None:
    # the host copy of sorted_indices: padding needs the order on the host, and a data-less device
    # (meta) has no values to read back
    if order is not None:
        ps.__dict__["_order"] = order


def _order_of(ps: PackedSequence, required: bool = True) -> list[int] | None:
    """The batch order of ``ps`` by decreasing length, on the host (None when already sorted)."""
    if ps.sorted_indices is None:
        return None
    order = ps.__dict__.get("_order")
    if order is None and required:
        order = [int(i) for i in ps.sorted_indices.tolist()]
    return order


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation of ``0..n-1`` (None stays None), on the permutation's device."""
    if permutation is None:
        return None
    n = permutation.shape[0]
    idx = permutation.to(_dt.int64)
    return E.scatter(
        E.zeros((n,), dtype=_dt.int64, device=permutation.device),
        0,
        idx,
        E.arange(n, dtype=_dt.int64, device=permutation.device),
    )


def _lengths_list(op: str, lengths: Any) -> list[int]:
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            raise ValueError(
                f"{op}: lengths must be 1-D (one length per sequence), got shape {tuple(lengths.shape)}"
            )
        return [int(v) for v in lengths.tolist()]
    return [int(v) for v in lengths]


def _batch_sizes(lengths_desc: list[int]) -> list[int]:
    """How many sequences run at each step, from the lengths sorted in decreasing order."""
    return [sum(1 for n in lengths_desc if n > t) for t in range(lengths_desc[0])]


def pack_padded_sequence(
    input: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Pack a padded batch ``input`` (T, B, *) (or (B, T, *) with ``batch_first``) whose sequence
    ``b`` has ``lengths[b]`` valid steps. With ``enforce_sorted=True`` the lengths must decrease
    along the batch; ``enforce_sorted=False`` sorts them and records the order
    (``sorted_indices``), which :func:`pad_packed_sequence` and the recurrent layers restore."""
    op = "pack_padded_sequence"
    if input.ndim < 2:
        raise ValueError(
            f"{op}: expected an input with at least 2 dims (T, B, *), got shape {tuple(input.shape)}"
        )
    lens = _lengths_list(op, lengths)
    t_dim, b_dim = (1, 0) if batch_first else (0, 1)
    steps, batch = input.shape[t_dim], input.shape[b_dim]
    if len(lens) != batch:
        raise RuntimeError(
            f"{op}: Expected `len(lengths)` to be equal to batch_size, but got {len(lens)} "
            f"(batch_size={batch})"
        )
    if batch == 0:
        raise RuntimeError(
            f"{op}: the batch is empty (input shape {tuple(input.shape)}); pack at least one sequence"
        )
    if min(lens) <= 0:
        raise RuntimeError(
            f"{op}: Length of all samples has to be greater than 0, but found an element in 'lengths' "
            f"that is <= 0 (lengths {lens}); drop the empty sequences before packing"
        )
    if max(lens) > steps:
        raise RuntimeError(
            f"{op}: lengths {lens} has a length {max(lens)} longer than the input's {steps} time steps "
            f"(input shape {tuple(input.shape)}, batch_first={batch_first}); the lengths must be at "
            "most the padded length"
        )
    if enforce_sorted:
        if any(a < b for a, b in zip(lens, lens[1:])):
            raise RuntimeError(
                f"{op}: `lengths` array must be sorted in decreasing order when `enforce_sorted` is True, "
                f"got {lens}. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX exportability."
            )
        order = list(range(batch))
    else:
        order = sorted(range(batch), key=lambda b: -lens[b])
    sizes = _batch_sizes([lens[b] for b in order])
    rest = tuple(input.shape[2:])
    # the rows of every step, longest sequence first: one gather from the flattened (steps, batch)
    if batch_first:
        rows = [order[b] * steps + t for t, n in enumerate(sizes) for b in range(n)]
    else:
        rows = [t * batch + order[b] for t, n in enumerate(sizes) for b in range(n)]
    flat = input.reshape((steps * batch,) + rest)
    data = E.index_select(flat, 0, E.tensor(rows, dtype=_dt.int64, device=input.device))
    batch_sizes = E.tensor(sizes, dtype=_dt.int64, device="cpu")
    if enforce_sorted:
        return PackedSequence(data, batch_sizes, None, None)
    sorted_indices = E.tensor(order, dtype=_dt.int64, device=input.device)
    unsorted = [0] * batch
    for pos, b in enumerate(order):
        unsorted[b] = pos
    out = PackedSequence(
        data, batch_sizes, sorted_indices, E.tensor(unsorted, dtype=_dt.int64, device=input.device)
    )
    _keep_order(out, order)
    return out


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """The inverse of :func:`pack_padded_sequence`: ``(padded, lengths)``, padded (T, B, *) (or
    (B, T, *) with ``batch_first``) in the batch's original order, filled with ``padding_value``
    past each sequence's end, T the longest length or ``total_length``; lengths an int64 cpu
    tensor."""
    op = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{op}: expected a PackedSequence, got {type(sequence).__name__}")
    data = sequence.data
    sizes = [int(v) for v in sequence.batch_sizes.tolist()]
    steps, batch = len(sizes), sizes[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                f"{op}: Expected total_length to be at least the length of the longest sequence in input, "
                f"but got total_length={total_length} and max sequence length being {steps}"
            )
        steps_out = int(total_length)
    else:
        steps_out = steps
    offsets = [0]
    for n in sizes:
        offsets.append(offsets[-1] + n)
    lens_sorted = [sum(1 for n in sizes if n > b) for b in range(batch)]
    order = _order_of(sequence) or list(range(batch))
    position = [0] * batch  # original batch index -> its row among the sorted sequences
    for pos, b in enumerate(order):
        position[b] = pos
    pad_row = offsets[-1]

    def row(t: int, b: int) -> int:
        p = position[b]
        return offsets[t] + p if t < lens_sorted[p] else pad_row

    if batch_first:
        rows = [row(t, b) for b in range(batch) for t in range(steps_out)]
        shape = (batch, steps_out)
    else:
        rows = [row(t, b) for t in range(steps_out) for b in range(batch)]
        shape = (steps_out, batch)
    rest = tuple(data.shape[1:])
    filler = E.full((1,) + rest, padding_value, dtype=data.dtype, device=data.device)
    source = E.cat([data, filler], 0)
    padded = E.index_select(source, 0, E.tensor(rows, dtype=_dt.int64, device=data.device)).reshape(
        shape + rest
    )
    lengths = E.tensor([lens_sorted[position[b]] for b in range(batch)], dtype=_dt.int64, device="cpu")
    return padded, lengths


def pad_sequence(
    sequences: Tensor | Iterable[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences of shapes (L_i, *) into one (T, B, *) tensor (or (B, T, *) with
    ``batch_first``), T the longest L_i, padded with ``padding_value`` after each sequence
    (``padding_side='right'``) or before it (``'left'``)."""
    op = "pad_sequence"
    if padding_side not in ("left", "right"):
        raise ValueError(f"{op}: Expected padding_side to be one of left or right, but got {padding_side}.")
    seqs = list(sequences.unbind(0)) if isinstance(sequences, Tensor) else list(sequences)
    if not seqs:
        raise ValueError(f"{op}: received an empty list of sequences; pass at least one tensor")
    rest = tuple(seqs[0].shape[1:])
    for i, s in enumerate(seqs):
        if s.ndim == 0 or tuple(s.shape[1:]) != rest:
            raise ValueError(
                f"{op}: every sequence must have shape (L, *{rest}) like the first, but sequence {i} has "
                f"shape {tuple(s.shape)}"
            )
    longest = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        gap = longest - s.shape[0]
        if gap:
            fill = E.full((gap,) + rest, padding_value, dtype=s.dtype, device=s.device)
            s = E.cat([s, fill] if padding_side == "right" else [fill, s], 0)
        padded.append(s)
    return E.stack(padded, 0 if batch_first else 1)


def unpad_sequence(
    padded_sequences: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False
) -> list[Tensor]:
    """The list of sequences in a padded batch (T, B, *) (or (B, T, *)): sequence ``b`` is its
    first ``lengths[b]`` steps."""
    lens = _lengths_list("unpad_sequence", lengths)
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    if len(lens) != x.shape[0]:
        raise ValueError(
            f"unpad_sequence: got {len(lens)} lengths for a batch of {x.shape[0]} sequences (padded shape "
            f"{tuple(padded_sequences.shape)}, batch_first={batch_first})"
        )
    return [x[b, :n] for b, n in enumerate(lens)]


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences of shapes (L_i, *): :func:`pad_sequence` then
    :func:`pack_padded_sequence` with the sequences' lengths."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences a :class:`PackedSequence` holds, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


# -- op records ---------------------------------------------------------------------------------
# The records are not public=True: tests/test_op_records.py resolves record names as attributes of
# ``ember`` or ``ember.nn.functional`` only, and these live in ``ember.nn.utils.rnn``. The kit runs
# them all the same (forward against numpy, gradcheck, error contracts on every device).
def _records() -> None:
    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import ErrorSample, Sample, rand_array

    def np_pack(
        x: np.ndarray, lengths: list[int], batch_first: bool = False, enforce_sorted: bool = True
    ) -> Any:
        xs = np.swapaxes(x, 0, 1) if batch_first else x
        order = sorted(range(len(lengths)), key=lambda b: -lengths[b])  # stable, as the op
        return np.concatenate([xs[t, [b for b in order if lengths[b] > t]] for t in range(max(lengths))], 0)

    def pack_call(
        input: Tensor, lengths: list[int], batch_first: bool = False, enforce_sorted: bool = True
    ) -> Tensor:
        return pack_padded_sequence(input, lengths, batch_first, enforce_sorted).data

    def roundtrip_call(
        input: Tensor,
        lengths: list[int],
        batch_first: bool = False,
        enforce_sorted: bool = True,
        padding_value: float = 0.0,
        total_length: int | None = None,
    ) -> Tensor:
        packed = pack_padded_sequence(input, lengths, batch_first, enforce_sorted)
        return pad_packed_sequence(packed, batch_first, padding_value, total_length)[0]

    def roundtrip_ref(
        x: np.ndarray,
        lengths: list[int],
        batch_first: bool = False,
        enforce_sorted: bool = True,
        padding_value: float = 0.0,
        total_length: int | None = None,
    ) -> np.ndarray:
        xs = np.swapaxes(x, 0, 1) if batch_first else x
        steps = total_length or max(lengths)
        out = np.full((steps,) + xs.shape[1:], padding_value, dtype=np.float64)
        for b, n in enumerate(lengths):
            out[:n, b] = xs[:n, b]
        return np.swapaxes(out, 0, 1) if batch_first else out

    def pack_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(4, 3, 2), [4, 2, 1])),
            Sample((a(3, 5, 2), [3, 3, 1]), {"batch_first": True}),
            Sample((a(4, 3), [2, 4, 1]), {"enforce_sorted": False}),
            Sample((a(3, 5, 2, 2), [1, 5, 3]), {"batch_first": True, "enforce_sorted": False}),
            Sample((a(5, 2, 3), [3, 3])),  # the trailing padding steps are dropped
            Sample((a(4, 3, 2), [4, 1, 3]), {"enforce_sorted": False}, noncontig=True),
        ]

    def roundtrip_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(4, 3, 2), [4, 2, 1])),
            Sample((a(4, 3, 2), [2, 4, 1]), {"enforce_sorted": False, "padding_value": -1.5}),
            Sample(
                (a(3, 4, 2), [1, 3, 2]), {"batch_first": True, "enforce_sorted": False, "total_length": 5}
            ),
            Sample((a(3, 2), [3, 1]), {"total_length": 3}, noncontig=True),
        ]

    def pad_call(
        *seqs: Tensor, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"
    ) -> Tensor:
        return pad_sequence(list(seqs), batch_first, padding_value, padding_side)

    def pad_ref(
        *seqs: np.ndarray, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"
    ) -> np.ndarray:
        longest = max(s.shape[0] for s in seqs)
        out = np.full((longest, len(seqs)) + seqs[0].shape[1:], padding_value, dtype=np.float64)
        for b, s in enumerate(seqs):
            if padding_side == "right":
                out[: s.shape[0], b] = s
            else:
                out[longest - s.shape[0] :, b] = s
        return np.swapaxes(out, 0, 1) if batch_first else out

    def pad_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(3, 2), a(1, 2), a(4, 2))),
            Sample((a(2), a(5)), {"batch_first": True, "padding_value": 2.0}),
            Sample((a(3, 2, 2), a(1, 2, 2)), {"padding_side": "left"}),
            Sample((a(2, 3), a(4, 3)), {"batch_first": True, "padding_side": "left", "padding_value": -1.0}),
            Sample((a(0, 2), a(2, 2)), grad=False),
            Sample((a(3, 2), a(2, 2)), noncontig=True),
        ]

    def unpad_call(padded: Tensor, lengths: list[int], batch_first: bool = False) -> Tensor:
        return E.cat([s.reshape(-1) for s in unpad_sequence(padded, lengths, batch_first)])

    def unpad_ref(x: np.ndarray, lengths: list[int], batch_first: bool = False) -> np.ndarray:
        xs = x if batch_first else np.swapaxes(x, 0, 1)
        return np.concatenate([xs[b, :n].reshape(-1) for b, n in enumerate(lengths)])

    def unpad_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(4, 3, 2), [4, 1, 2])),
            Sample((a(3, 4), [0, 4, 2]), {"batch_first": True}),
            Sample((a(3, 3, 2), [3, 2, 1]), noncontig=True),
        ]

    ones = np.ones((3, 2, 2))
    register(
        OpRecord(
            "nn.utils.rnn.pack_padded_sequence",
            pack_padded_sequence,
            pack_samples,
            np_pack,
            call=pack_call,
            public=False,
            dtypes=("float32", "float64", "int64"),
            errors=(
                ErrorSample(
                    (ones, [2, 3]),
                    {},
                    RuntimeError,
                    "pack_padded_sequence: `lengths` array must be sorted in decreasing order when "
                    "`enforce_sorted` is True, got \\[2, 3\\]",
                ),
                ErrorSample(
                    (ones, [3, 0]),
                    {},
                    RuntimeError,
                    "pack_padded_sequence: Length of all samples has to be greater than 0",
                ),
                ErrorSample(
                    (ones, [4, 2]),
                    {},
                    RuntimeError,
                    "pack_padded_sequence: lengths \\[4, 2\\] has a length 4 longer",
                ),
                ErrorSample(
                    (ones, [3, 2, 1]),
                    {},
                    RuntimeError,
                    "pack_padded_sequence: Expected `len\\(lengths\\)` to be equal",
                ),
            ),
        ),
        OpRecord(
            "nn.utils.rnn.pad_packed_sequence",
            pad_packed_sequence,
            roundtrip_samples,
            roundtrip_ref,
            call=roundtrip_call,
            public=False,
        ),
        OpRecord(
            "nn.utils.rnn.pad_sequence",
            pad_sequence,
            pad_samples,
            pad_ref,
            call=pad_call,
            public=False,
            dtypes=("float32", "float64", "int64"),
            errors=(
                ErrorSample(
                    ([np.ones(2)],),
                    {"padding_side": "mid"},
                    ValueError,
                    "pad_sequence: Expected padding_side to be one of",
                ),
            ),
        ),
        OpRecord(
            "nn.utils.rnn.unpad_sequence",
            unpad_sequence,
            unpad_samples,
            unpad_ref,
            call=unpad_call,
            public=False,
            dtypes=("float32", "float64", "int64"),
        ),
    )


_records()
