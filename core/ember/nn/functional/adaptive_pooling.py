"""Adaptive pooling over (N, C, H, W) and (N, C, L): average and max pooling to a fixed output
size, with PyTorch's window bounds ``floor(i * H / oh) .. ceil((i + 1) * H / oh)``.
adaptive_avg_pool2d is a composite of reshapes, slices and means (one reshape and mean when the
windows are equal); adaptive_max_pool2d reduces the same windows with the first-maximum gradient
of :func:`~ember.nn.functional.pooling._max_first`, and with ``return_indices`` gives each
maximum's position in the input plane. The 1-D forms run the 2-D ones on a height-1 view. The
module ends with their op records.
"""

from __future__ import annotations

from typing import Any

from ... import dtypes as _dt
from ... import ops as E
from ...autograd.grad_mode import STATE, no_grad
from ...tensor import Tensor
from .pooling import _max_first

__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_avg_pool1d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
]


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a fixed (oh, ow) output, with PyTorch's window bounds
    ``floor(i * H / oh) .. ceil((i + 1) * H / oh)``."""
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    if x.ndim != 4:
        raise ValueError(f"adaptive_avg_pool2d: expected a 3-D or 4-D input, got shape {input.shape}")
    n, c, h, w = x.shape
    osz = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    if len(osz) != 2 or any(o is not None and (isinstance(o, bool) or int(o) != o or o < 1) for o in osz):
        raise ValueError(
            f"adaptive_avg_pool2d: output_size must be a positive int or a pair of positive ints "
            f"(None keeps the input size), got {output_size!r}"
        )
    oh, ow = (h if osz[0] is None else int(osz[0])), (w if osz[1] is None else int(osz[1]))
    if h % oh == 0 and w % ow == 0:
        out = x.reshape(n, c, oh, h // oh, ow, w // ow).mean((3, 5))
    else:
        rows = []
        for i in range(oh):
            h0, h1 = (i * h) // oh, -((-(i + 1) * h) // oh)
            cols = []
            for j in range(ow):
                w0, w1 = (j * w) // ow, -((-(j + 1) * w) // ow)
                cols.append(x[:, :, h0:h1, w0:w1].mean((2, 3)))
            rows.append(E.stack(cols, -1))
        out = E.stack(rows, -2)
    return out.squeeze(0) if unbatched else out


def _output_size(op: str, output_size: Any, n: int, sizes: tuple[int, ...]) -> tuple[int, ...]:
    osz = (output_size,) * n if isinstance(output_size, int) or output_size is None else tuple(output_size)
    # None keeps the input size, in 2-D only (PyTorch's 1-D forms refuse it)
    if (
        len(osz) != n
        or (n == 1 and osz[0] is None)
        or any(o is not None and (isinstance(o, bool) or int(o) != o or o < 1) for o in osz)
    ):
        keep = " (None keeps the input size)" if n > 1 else ""
        raise ValueError(
            f"{op}: output_size must be a positive int or a tuple of {n} positive ints{keep}, got "
            f"{output_size!r}"
        )
    return tuple(size if o is None else int(o) for o, size in zip(osz, sizes))


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling of (N, C, L) or (C, L) to ``output_size`` positions (PyTorch's windows)."""
    if input.ndim not in (2, 3):
        raise ValueError(
            f"adaptive_avg_pool1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape "
            f"{tuple(input.shape)}"
        )
    (o,) = _output_size("adaptive_avg_pool1d", output_size, 1, (input.shape[-1],))
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, o)).squeeze(-2)


def _adaptive_max(x: Tensor, oh: int, ow: int, return_indices: bool) -> Any:
    """Max of (N, C, H, W) over PyTorch's adaptive windows, the gradient to each window's first
    maximum; with ``return_indices`` also its position ``h * W + w`` in the input plane."""
    n, c, h, w = x.shape
    needs_grad = STATE.enabled and x.requires_grad

    def reduce(flat: Tensor) -> tuple[Tensor, Tensor | None]:
        """The maximum over the window dim (its gradient to PyTorch's maximum) and, with
        ``return_indices``, that maximum's offset in the window (from the same one-hot mask)."""
        if not (needs_grad or return_indices):
            return flat.amax(2), None
        out, mask = _max_first(flat)
        if not return_indices:
            return out, None
        with no_grad():
            offsets = E.arange(flat.shape[2], dtype=_dt.int64, device=flat.device).reshape(1, 1, -1, 1, 1)
            return out, (mask.to(_dt.int64) * offsets).sum(2)

    def position(q: Tensor, h0: Any, w0: Any, width: int) -> Tensor:
        """Window offset ``q`` (row-major in a window ``width`` wide at (h0, w0)) as h * W + w."""
        return (E.div(q, width, rounding_mode="floor") + h0) * w + E.remainder(q, width) + w0

    if h % oh == 0 and w % ow == 0:  # equal windows: one (N, C, kh * kw, oh, ow) reduction
        kh, kw = h // oh, w // ow
        flat = x.reshape(n, c, oh, kh, ow, kw).permute(0, 1, 3, 5, 2, 4).reshape(n, c, kh * kw, oh, ow)
        out, q = reduce(flat)
        if q is None:
            return out
        with no_grad():
            rows = E.arange(oh, dtype=_dt.int64, device=x.device).reshape(oh, 1) * kh
            cols = E.arange(ow, dtype=_dt.int64, device=x.device).reshape(1, ow) * kw
            return out, position(q, rows, cols, kw)
    outs, idxs = [], []
    for i in range(oh):
        h0, h1 = (i * h) // oh, -((-(i + 1) * h) // oh)
        row_out, row_idx = [], []
        for j in range(ow):
            w0, w1 = (j * w) // ow, -((-(j + 1) * w) // ow)
            win = x[:, :, h0:h1, w0:w1].reshape(n, c, (h1 - h0) * (w1 - w0), 1, 1)
            m, q = reduce(win)
            row_out.append(m.reshape(n, c))
            if q is not None:
                with no_grad():
                    row_idx.append(position(q.reshape(n, c), h0, w0, w1 - w0))
        outs.append(E.stack(row_out, -1))
        if return_indices:
            idxs.append(E.stack(row_idx, -1))
    out = E.stack(outs, -2)
    return (out, E.stack(idxs, -2)) if return_indices else out


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling of (N, C, H, W) or (C, H, W) to ``output_size`` with PyTorch's window bounds
    ``floor(i * H / oh) .. ceil((i + 1) * H / oh)``; the gradient goes to each window's first
    maximum; with ``return_indices`` also the int64 position ``h * W + w`` of each maximum."""
    if input.ndim not in (3, 4):
        raise ValueError(
            f"adaptive_max_pool2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape "
            f"{tuple(input.shape)}"
        )
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    oh, ow = _output_size("adaptive_max_pool2d", output_size, 2, tuple(x.shape[-2:]))
    out = _adaptive_max(x, oh, ow, return_indices)
    if not unbatched:
        return out
    return (out[0].squeeze(0), out[1].squeeze(0)) if return_indices else out.squeeze(0)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling of (N, C, L) or (C, L) to ``output_size`` positions, as :func:`adaptive_max_pool2d`."""
    if input.ndim not in (2, 3):
        raise ValueError(
            f"adaptive_max_pool1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape "
            f"{tuple(input.shape)}"
        )
    (o,) = _output_size("adaptive_max_pool1d", output_size, 1, (input.shape[-1],))
    out = adaptive_max_pool2d(input.unsqueeze(-2), (1, o), return_indices)
    return (out[0].squeeze(-2), out[1].squeeze(-2)) if return_indices else out.squeeze(-2)


# -- op records ---------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import ErrorSample, Sample, rand_array

    def adaptive_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(1, 2, 4, 4), 2)),
            Sample((a(1, 1, 5, 4), (3, 2))),
            Sample((a(1, 1, 2, 3), (3, 4))),  # more outputs than inputs: overlapping windows
            Sample((a(2, 3, 5, 7), (3, 4)), grad=False),
            Sample((a(2, 3, 6, 5), (None, 2)), grad=False),
            Sample((a(2, 3, 5, 5), 1), grad=False),
            Sample((a(3, 7, 6), 3), grad=False),  # unbatched
            Sample((a(0, 2, 4, 4), 2), grad=False),
            Sample((a(2, 3, 7, 5), (2, 3)), noncontig=True, grad=False),
            Sample((a(1, 2, 3, 4), 2), noncontig=True),
            Sample((a(2, 3, 6, 6), (4, 3)), noncontig="flip", grad=False),
        ]

    def adaptive_ref(x: np.ndarray, output_size: Any) -> np.ndarray:
        unbatched = x.ndim == 3
        x = x[None] if unbatched else x
        n, c, h, w = x.shape
        osz = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
        oh, ow = (h if osz[0] is None else osz[0]), (w if osz[1] is None else osz[1])
        out = np.zeros((n, c, oh, ow), dtype=np.float64)
        for i in range(oh):
            h0, h1 = (i * h) // oh, -(-((i + 1) * h) // oh)
            for j in range(ow):
                w0, w1 = (j * w) // ow, -(-((j + 1) * w) // ow)
                out[:, :, i, j] = x[:, :, h0:h1, w0:w1].astype(np.float64).mean((2, 3))
        return out[0] if unbatched else out

    def values(fn: Any) -> Any:
        """The kit's call: the values of ``fn`` (the first of a pair with ``return_indices``)."""

        def call(*args: Any, **kwargs: Any) -> Tensor:
            out = fn(*args, **kwargs)
            return out[0] if isinstance(out, tuple) else out

        return call

    def adaptive_max_ref(x: np.ndarray, output_size: Any, return_indices: bool = False) -> np.ndarray:
        unbatched = x.ndim == 3
        x = x[None] if unbatched else x
        n, c, h, w = x.shape
        osz = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
        oh, ow = (h if osz[0] is None else osz[0]), (w if osz[1] is None else osz[1])
        out = np.zeros((n, c, oh, ow), dtype=x.dtype)
        for i in range(oh):
            h0, h1 = (i * h) // oh, -(-((i + 1) * h) // oh)
            for j in range(ow):
                w0, w1 = (j * w) // ow, -(-((j + 1) * w) // ow)
                out[:, :, i, j] = x[:, :, h0:h1, w0:w1].max((2, 3))
        return out[0] if unbatched else out

    def adaptive_max_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(1, 2, 4, 4), 2)),
            Sample((a(1, 1, 5, 4), (3, 2))),
            Sample((a(1, 1, 2, 3), (3, 4))),  # more outputs than inputs: overlapping windows
            Sample((a(2, 3, 5, 7), (3, 4)), {"return_indices": True}, grad=False),
            Sample((a(2, 3, 6, 4), (None, 2)), {"return_indices": True}, grad=False),
            Sample((a(3, 7, 6), 3), grad=False),  # unbatched
            Sample((a(0, 2, 4, 4), 2), grad=False),
            Sample((a(1, 2, 3, 4), 2), noncontig=True),
            Sample((a(2, 3, 6, 6), (4, 3)), noncontig="flip", grad=False),
        ]

    def adaptive1d_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(2, 3, 8), 4)),
            Sample((a(1, 2, 7), 3)),
            Sample((a(1, 2, 3), 5)),
            Sample((a(3, 7), (2,))),  # unbatched
            Sample((a(2, 3, 7), 7), grad=False),
            Sample((a(0, 2, 4), 2), grad=False),
            Sample((a(3, 8), 3), noncontig=True),
        ]

    def adaptive_indices_ref(x: np.ndarray, output_size: Any, return_indices: bool = True) -> np.ndarray:
        unbatched = x.ndim == 3
        x = x[None] if unbatched else x
        n, c, h, w = x.shape
        osz = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
        oh, ow = (h if osz[0] is None else osz[0]), (w if osz[1] is None else osz[1])
        out = np.zeros((n, c, oh, ow), dtype=np.int64)
        for i in range(oh):
            h0, h1 = (i * h) // oh, -(-((i + 1) * h) // oh)
            for j in range(ow):
                w0, w1 = (j * w) // ow, -(-((j + 1) * w) // ow)
                q = x[:, :, h0:h1, w0:w1].reshape(n, c, (h1 - h0) * (w1 - w0)).argmax(-1)
                out[:, :, i, j] = (q // (w1 - w0) + h0) * w + q % (w1 - w0) + w0
        return out[0] if unbatched else out

    def indices_of(fn: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Tensor:
            return fn(*args, **dict(kwargs, return_indices=True))[1]

        return call

    register(
        OpRecord(
            "nn.functional.adaptive_avg_pool2d",
            adaptive_avg_pool2d,
            adaptive_samples,
            adaptive_ref,
            errors=(
                ErrorSample(
                    (np.ones((1, 1, 4, 4)), (2, 0)),
                    {},
                    ValueError,
                    "adaptive_avg_pool2d: output_size must be a positive int",
                ),
                ErrorSample(
                    (np.ones((4, 4)), 2), {}, ValueError, "adaptive_avg_pool2d: expected a 3-D or 4-D input"
                ),
            ),
        ),
        OpRecord(
            "nn.functional.adaptive_avg_pool1d",
            adaptive_avg_pool1d,
            adaptive1d_samples,
            lambda x, output_size: adaptive_ref(
                x[..., None, :], (1, output_size if not isinstance(output_size, tuple) else output_size[0])
            )[..., 0, :],
            errors=(
                ErrorSample(
                    (np.ones((2, 3, 4)), 0),
                    {},
                    ValueError,
                    "adaptive_avg_pool1d: output_size must be a positive int",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.adaptive_max_pool2d",
            adaptive_max_pool2d,
            adaptive_max_samples,
            adaptive_max_ref,
            call=values(adaptive_max_pool2d),
            errors=(
                ErrorSample(
                    (np.ones((4, 4)), 2), {}, ValueError, "adaptive_max_pool2d: expected a 3-D \\(C, H, W\\)"
                ),
                ErrorSample(
                    (np.ones((1, 1, 4, 4)), (2, 0)),
                    {},
                    ValueError,
                    "adaptive_max_pool2d: output_size must be",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.adaptive_max_pool2d_indices",
            adaptive_max_pool2d,
            adaptive_max_samples,
            adaptive_indices_ref,
            call=indices_of(adaptive_max_pool2d),
            grad=False,
            covers=("nn.functional.adaptive_max_pool2d",),
            public=False,
        ),
        OpRecord(
            "nn.functional.adaptive_max_pool1d",
            adaptive_max_pool1d,
            adaptive1d_samples,
            lambda x, output_size, return_indices=False: adaptive_max_ref(
                x[..., None, :], (1, output_size if not isinstance(output_size, tuple) else output_size[0])
            )[..., 0, :],
            call=values(adaptive_max_pool1d),
        ),
    )


_records()
