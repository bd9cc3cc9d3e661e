"""Pooling over (N, C, H, W) windows: max and average.

The 1-D forms run the 2-D ones on a height-1 view. max_pool2d and avg_pool2d pad the input and
take its windows with
:func:`~ember.nn.functional.convolution.unfold2d` (the im2col op), then reduce over them with core
ops. max_pool2d's gradient is its own: :func:`_max_first` computes the maximum without recording
and attaches a backward that sends each window's gradient to its first maximum alone, as PyTorch
does. Adaptive pooling (to a fixed output size) is in :mod:`.adaptive_pooling`, which reduces its
windows with the same first-maximum gradient.
"""

from __future__ import annotations

import math
from typing import Any

from ... import dtypes as _dt
from ... import ops as E
from ...autograd.grad_mode import STATE, no_grad
from ...autograd.graph import attach
from ...ops._core import kernel
from ...tensor import Tensor, _make
from .convolution import _Pair, _pair, unfold2d
from .padding import pad

__all__ = [
    "max_pool2d",
    "avg_pool2d",
    "max_pool1d",
    "avg_pool1d",
]


def _pool_args(
    op: str, input: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any = 1
) -> tuple[Tensor, bool, tuple, tuple, tuple, tuple]:
    unbatched = input.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
    if input.ndim != 4:
        raise ValueError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {input.shape}")
    k = _pair(kernel_size, 2, "kernel_size", op)
    s = (
        k
        if stride is None or (not isinstance(stride, int) and len(stride) == 0)
        else _pair(stride, 2, "stride", op)
    )
    p = _pair(padding, 2, "padding", op)
    d = _pair(dilation, 2, "dilation", op)
    if min(k) < 1 or min(s) < 1 or min(d) < 1:
        raise ValueError(
            f"{op}: kernel_size, stride and dilation must be positive, got kernel_size {k}, stride {s}, "
            f"dilation {d}"
        )
    if min(p) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {p}")
    if any(2 * pp > kk for pp, kk in zip(p, k)):
        raise ValueError(f"{op}: padding {p} should be at most half of the kernel size {k}")
    return input, unbatched, k, s, p, d


def _pool_out_size(op: str, size: int, k: int, s: int, d: int, p: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size. With ``ceil_mode`` the division rounds up, but the last window
    must start inside the input or the left padding (one starting in the right padding is dropped)."""
    span = d * (k - 1) + 1
    o = (size + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (o - 1) * s >= size + p:
        o -= 1
    if o <= 0:
        raise ValueError(
            f"{op}: the kernel (size {k}, dilation {d}) is larger than the padded input "
            f"(size {size} + padding {2 * p}); use a smaller kernel or more padding"
        )
    return o


def _pool_out_hw(op: str, x: Tensor, k: _Pair, s: _Pair, d: _Pair, p: _Pair, ceil_mode: bool) -> _Pair:
    """The pooling output size (oh, ow) of (N, C, H, W) ``x``."""
    h, w = x.shape[-2:]
    return (
        _pool_out_size(op, h, k[0], s[0], d[0], p[0], ceil_mode),
        _pool_out_size(op, w, k[1], s[1], d[1], p[1], ceil_mode),
    )


def _pool_pad(
    op: str, x: Tensor, k: _Pair, s: _Pair, d: _Pair, p: _Pair, ceil_mode: bool, value: float
) -> tuple[Tensor, int, int]:
    """``x`` padded by ``p`` on each side, plus (with ``ceil_mode``) enough extra at the bottom and
    right for the last, partial windows to fit, and the output size (oh, ow)."""
    h, w = x.shape[-2:]
    oh, ow = _pool_out_hw(op, x, k, s, d, p, ceil_mode)
    # the padded size the (oh, ow) windows need, beyond the symmetric padding: 0 unless ceil_mode
    eh = max(0, (oh - 1) * s[0] + d[0] * (k[0] - 1) + 1 - (h + 2 * p[0]))
    ew = max(0, (ow - 1) * s[1] + d[1] * (k[1] - 1) + 1 - (w + 2 * p[1]))
    if any(p) or eh or ew:
        x = pad(x, [p[1], p[1] + ew, p[0], p[0] + eh], value=value)
    return x, oh, ow


def max_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Max over ``kernel_size`` windows of (N, C, H, W) (stride defaults to the kernel size; padding
    is -inf). ``ceil_mode`` rounds the output size up as PyTorch does (the last window must start
    inside the input or the left padding). With ``return_indices`` also returns the int64 position
    ``h * W + w`` of each maximum within its input plane (the first one on ties). As in PyTorch, the
    gradient of each window goes to that first maximum alone, not shared among tied ones."""
    return _max_pool2d("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _max_pool2d(
    op: str,
    input: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
    return_indices: bool,
) -> Tensor | tuple[Tensor, Tensor]:
    x, unbatched, k, s, p, d = _pool_args(op, input, kernel_size, stride, padding, dilation)
    if x.device.kernels.get("max_pool2d") is not None and x.dtype.is_floating_point:
        out, indices = _max_pool_op(x, k, s, p, d, _pool_out_hw(op, x, k, s, d, p, ceil_mode))
        if unbatched:
            out, indices = out.squeeze(0), indices.squeeze(0)
        return (out, indices) if return_indices else out
    h, w = x.shape[-2:]  # the unpadded input size, for the indices and the padding's positions
    x, oh, ow = _pool_pad(op, x, k, s, d, p, ceil_mode, -math.inf)
    n, c = x.shape[:2]
    # the windows copied once into (N, C, kh, kw, oh, ow): reducing over the leading window dims
    # is a few contiguous elementwise passes, much faster than reducing interleaved strided dims
    patches, _, _ = unfold2d(x, k, s, d, op)
    needs_grad = STATE.enabled and patches.requires_grad
    if not (needs_grad or return_indices):
        out = patches.amax((2, 3))
        return out.squeeze(0) if unbatched else out
    flat = patches.reshape(n, c, k[0] * k[1], oh, ow)
    # each window element's row and column in the input (padding outside [0, h) x [0, w))
    rows = [[oi * s[0] - p[0] + i * d[0] for oi in range(oh)] for i in range(k[0])]
    cols = [[oj * s[1] - p[1] + j * d[1] for oj in range(ow)] for j in range(k[1])]
    valid = None
    if any(r < 0 or r >= h for rr in rows for r in rr) or any(q < 0 or q >= w for qq in cols for q in qq):
        valid = E.logical_and(
            E.tensor([[[[0 <= r < h] for r in rr]] for rr in rows], dtype=_dt.bool_, device=x.device),
            E.tensor([[[[0 <= q < w for q in qq]] for qq in cols]], dtype=_dt.bool_, device=x.device),
        ).reshape(k[0] * k[1], oh, ow)
    out, mask = _max_first(flat, valid)
    if not return_indices:
        return out.squeeze(0) if unbatched else out
    with no_grad():  # the position h * W + w of each window's maximum, by its one-hot mask
        at = E.add(
            E.tensor([[[[r * w] for r in rr]] for rr in rows], dtype=_dt.int64, device=x.device),
            E.tensor([[[list(qq)] for qq in cols]], dtype=_dt.int64, device=x.device),
        ).reshape(k[0] * k[1], oh, ow)
        indices = (mask.to(_dt.int64) * at).sum(2)
        if valid is not None:  # a window of padding alone (dilation can skip the input): -1
            indices = E.where(mask.any(2), indices, -1)
    if unbatched:
        return out.squeeze(0), indices.squeeze(0)
    return out, indices


def _max_pool_op(x: Tensor, k: _Pair, s: _Pair, p: _Pair, d: _Pair, out_hw: _Pair) -> tuple[Tensor, Tensor]:
    """max_pool2d through the device's optional ``max_pool2d`` kernel: (values, int64 indices); the
    gradient goes to each window's maximum at its index (``max_pool2d_backward``)."""
    dev = x.device
    values, idx = kernel(dev, "max_pool2d")(x._data, k, s, p, d, out_hw)
    shape = (x.shape[0], x.shape[1], *out_hw)
    out, indices = _make(values, shape, x.dtype, dev), _make(idx, shape, _dt.int64, dev)
    if STATE.enabled and x.requires_grad:
        input_hw = (x.shape[2], x.shape[3])  # as recorded
        attach(out, "max_pool2d", lambda g: (_max_pool_backward_op(g, indices, input_hw),), (x,))
    return out, indices


def _max_pool_backward_op(g: Tensor, indices: Tensor, input_hw: _Pair) -> Tensor:
    """Each window's gradient added at its maximum's index: the device's ``max_pool2d_backward``
    kernel, or a scatter_add over the flattened planes. Its own gradient (create_graph) gathers.
    Index -1 (a window of padding alone) sends and takes nothing."""
    n, c, oh, ow = g.shape
    h, w = input_hw
    at = indices.reshape(n, c, oh * ow)

    def some() -> tuple[Tensor, Tensor]:
        """Where an index is a position, and the indices with -1 made 0 (for scatter and gather)."""
        with no_grad():
            hit = at >= 0
            return hit, E.where(hit, at, 0)

    k = g.device.kernels.get("max_pool2d_backward")
    if k is not None:
        out = _make(k(g._data, indices._data, input_hw), (n, c, h, w), g.dtype, g.device)
    else:
        hit, pos = some()
        with no_grad():
            src = E.where(hit, g.reshape(n, c, oh * ow), 0.0)
            out = E.zeros((n, c, h * w), dtype=g.dtype, device=g.device).scatter_add(2, pos, src)
            out = out.reshape(n, c, h, w)
    if STATE.enabled and g.requires_grad:

        def grad(gg: Tensor) -> tuple[Tensor]:
            hit, pos = some()
            taken = E.gather(gg.reshape(n, c, h * w), 2, pos)
            return (E.where(hit, taken, 0.0).reshape(n, c, oh, ow),)

        attach(out, "max_pool2d_backward", grad, (g,))
    return out


def _max_first(flat: Tensor, valid: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """amax of (N, C, K, oh, ow) ``flat`` over dim 2 and its bool one-hot mask of the maximum that
    gets the gradient, PyTorch's rule: the first maximum in window order (plain amax would share
    the gradient among ties, common after a ReLU), the last NaN in a window with NaNs, never an
    element outside ``valid`` (a (K, oh, ow) bool, the padding's complement). The mask comes from
    an equality test and a "seen" flag carried along the (short) window dim, forward for the
    maxima and backward for the NaNs: a few elementwise ops per window position."""
    with no_grad():
        out = flat.amax(2)
        hit = E.eq(flat, out.unsqueeze(2))
        if valid is not None:
            hit = hit & valid
        mask = _first_along_2(hit, reverse=False)
        if flat.dtype.is_floating_point:
            mask = mask | _first_along_2(E.isnan(flat), reverse=True)
    if STATE.enabled and flat.requires_grad:
        weights = mask.to(flat.dtype)
        out = attach(out, "max_pool2d", lambda g: (g.unsqueeze(2) * weights,), (flat,))
    return out, mask


def _first_along_2(hit: Tensor, reverse: bool) -> Tensor:
    """The first True of bool ``hit`` along dim 2 (the last with ``reverse``), as a one-hot mask."""
    order = range(hit.shape[2] - 1, -1, -1) if reverse else range(hit.shape[2])
    firsts: dict[int, Tensor] = {}
    seen = None
    for q in order:
        h = hit[:, :, q]
        firsts[q] = h if seen is None else h & ~seen
        seen = h if seen is None else seen | h
    return E.stack([firsts[q] for q in range(hit.shape[2])], 2)


def _avg_divisors(size: int, k: int, s: int, p: int, o: int, count_include_pad: bool) -> list[int]:
    """PyTorch's avg_pool divisor for each of the ``o`` windows along one dim: the window's elements
    inside input + padding (``count_include_pad``) or inside the input alone."""
    out = []
    for i in range(o):
        start = i * s - p
        end = min(start + k, size + p)
        if not count_include_pad:
            start, end = max(start, 0), min(end, size)
        out.append(end - start)
    return out


def avg_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over ``kernel_size`` windows of (N, C, H, W) (stride defaults to the kernel size; zero
    padding counted unless ``count_include_pad=False``). ``ceil_mode`` rounds the output size up as
    PyTorch does; a last window that runs past the padded input is divided by its number of
    elements inside input + padding (inside the input alone with ``count_include_pad=False``).
    Integer inputs keep their dtype: the window sums (in int64) are divided rounding toward zero,
    as PyTorch does for int64; bool inputs are refused, as there."""
    return _avg_pool2d(
        "avg_pool2d", input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def _avg_pool2d(
    op: str,
    input: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: int | None,
) -> Tensor:
    if isinstance(input, Tensor) and input.dtype.is_bool:
        raise TypeError(
            f"{op}: bool inputs are not supported, as in PyTorch; convert with .float() (or "
            ".long() for truncated integer averages) first"
        )
    x, unbatched, k, s, p, d = _pool_args(op, input, kernel_size, stride, padding)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"{op}: divisor_override must be non-zero, got 0; pass None for the default")
    h, w = x.shape[-2:]
    x, oh, ow = _pool_pad(op, x, k, s, d, p, ceil_mode, 0)
    patches, _, _ = unfold2d(x, k, s, d, op)
    total = patches.sum((2, 3))
    if divisor_override is not None:
        div: Any = divisor_override
    else:
        rows = _avg_divisors(h, k[0], s[0], p[0], oh, count_include_pad)
        cols = _avg_divisors(w, k[1], s[1], p[1], ow, count_include_pad)
        if len(set(rows)) == 1 and len(set(cols)) == 1:
            div = rows[0] * cols[0]
        else:
            div = E.tensor([[r * c for c in cols] for r in rows], dtype=total.dtype, device=total.device)
    if total.dtype.is_floating_point:
        out = total / div
    else:
        out = E.div(total, div, rounding_mode="trunc").to(x.dtype)
    return out.squeeze(0) if unbatched else out


# -- 1-D pooling: the 2-D ops on a height-1 view ---------------------------------------------------
def _as_2d(op: str, input: Tensor, **params: Any) -> tuple[Tensor, dict[str, Any]]:
    """``input`` (C, L) or (N, C, L) as (C, 1, L) or (N, C, 1, L), and each 1-D parameter (an int or
    a 1-tuple; None and the empty tuple pass through) as its 2-D pair ``(1 or 0, v)``."""
    if input.ndim not in (2, 3):
        raise ValueError(
            f"{op}: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape {tuple(input.shape)}"
        )
    out: dict[str, Any] = {}
    for name, v in params.items():
        if v is None or (not isinstance(v, int) and len(v) == 0):
            out[name] = v
            continue
        (v1,) = _pair(v, 1, name, op)
        out[name] = (0 if name == "padding" else 1, v1)
    return input.unsqueeze(-2), out


def max_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Max over ``kernel_size`` windows of (N, C, L) or (C, L), as :func:`max_pool2d` (first-maximum
    gradient; with ``return_indices`` the int64 position of each maximum along L)."""
    x, p = _as_2d(
        "max_pool1d", input, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation
    )
    out = _max_pool2d("max_pool1d", x, **p, ceil_mode=ceil_mode, return_indices=return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Mean over ``kernel_size`` windows of (N, C, L) or (C, L), as :func:`avg_pool2d`."""
    x, p = _as_2d("avg_pool1d", input, kernel_size=kernel_size, stride=stride, padding=padding)
    return _avg_pool2d(
        "avg_pool1d", x, **p, ceil_mode=ceil_mode, count_include_pad=count_include_pad, divisor_override=None
    ).squeeze(-2)


# -- op records ---------------------------------------------------------------------------------
def _max_pool_part(part: int) -> Any:
    """The conformance kit's call for max_pool2d: its values (``part=0``) or, with
    ``return_indices=True``, its indices (``part=1``); the values record also runs
    ``return_indices=True`` samples (another code path) and checks their values."""

    def call(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        out = max_pool2d(input, *args, **kwargs)
        if isinstance(out, tuple):
            return out[part]
        if part:
            raise AssertionError(f"max_pool2d(return_indices=True) returned {type(out).__name__}, not a pair")
        return out

    return call


def _np_pool_out(size: int, k: int, s: int, d: int, p: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size: floor (or ceil) of (size + 2p - d(k-1) - 1) / s, plus one; with
    ceil_mode a last window that would start in the right padding is dropped."""
    num = size + 2 * p - d * (k - 1) - 1
    o = (-(-num // s) if ceil_mode else num // s) + 1
    if ceil_mode and (o - 1) * s >= size + p:
        o -= 1
    return o


def _np_pool_params(kernel_size: Any, stride: Any, padding: Any, dilation: Any = 1) -> tuple:
    def two(v: Any) -> tuple[int, int]:
        return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))

    k = two(kernel_size)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else two(stride)
    return k, s, two(padding), two(dilation)


def _np_max_pool(
    x: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
    indices: bool = False,
) -> Any:
    """Reference max_pool2d by loops over the output positions: the max of the window's elements
    inside the input (the -inf padding never wins), or with ``indices`` the position h * W + w of
    the first maximum in the window's row-major order (of the last NaN where there are NaNs)."""
    import numpy as np

    unbatched = x.ndim == 3
    x = x[None] if unbatched else x
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = _np_pool_params(kernel_size, stride, padding, dilation)
    n, c, h, w = x.shape
    oh, ow = _np_pool_out(h, kh, sh, dh, ph, ceil_mode), _np_pool_out(w, kw, sw, dw, pw, ceil_mode)
    out = np.zeros((n, c, oh, ow), dtype=np.int64 if indices else x.dtype)
    for oi in range(oh):
        rows = [r for r in (oi * sh - ph + i * dh for i in range(kh)) if 0 <= r < h]
        for oj in range(ow):
            cols = [q for q in (oj * sw - pw + j * dw for j in range(kw)) if 0 <= q < w]
            # every window holds at least one input element (padding is at most half the kernel)
            win = x[:, :, rows][:, :, :, cols].reshape(n, c, len(rows) * len(cols))
            if indices:  # PyTorch's: the first maximum, or the last NaN
                first = win.argmax(-1)
                nans = np.isnan(win)
                last_nan = win.shape[-1] - 1 - nans[..., ::-1].argmax(-1)
                first = np.where(nans.any(-1), last_nan, first)
                out[:, :, oi, oj] = (
                    np.asarray(rows)[first // len(cols)] * w + np.asarray(cols)[first % len(cols)]
                )
            else:
                out[:, :, oi, oj] = win.max(-1)
    return out[0] if unbatched else out


def _records() -> None:
    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import ErrorSample, Sample, rand_array

    def max_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        ties = np.maximum(a(2, 3, 6, 6), 0).astype(dtype)  # after a ReLU: windows of tied zeros
        odd = a(2, 3, 7, 7)  # NaNs (the last one of a window wins) and an all -inf row by the padding
        odd[0, 0, 1, 1] = odd[0, 0, 2, 2] = odd[1, 2, 6, 6] = np.nan
        odd[1, 1, 0, :] = -np.inf
        return [
            Sample((a(1, 2, 4, 4), 2)),
            Sample((a(1, 1, 5, 5), 3, 2, 1)),
            Sample((a(1, 1, 5, 5), 2), {"ceil_mode": True}),
            Sample((a(1, 1, 5, 5), 2, 2, 1), {"ceil_mode": True}),  # a last window in the padding is dropped
            Sample((a(1, 1, 5, 6), (2, 3), (1, 2)), {"dilation": (2, 1)}),
            Sample((a(1, 1, 4, 4), 2), {"stride": 1, "return_indices": True}),
            Sample((a(2, 3, 7, 7), 3, 2, 1), {"ceil_mode": True}, grad=False),
            Sample((a(2, 3, 8, 7), (3, 2), (2, 1), (1, 0)), {"dilation": 2}, grad=False),
            Sample((a(2, 3, 6, 6), 2), {"stride": ()}, grad=False),  # an empty stride: the kernel size
            Sample((a(2, 6, 5), 3, 1, 1), grad=False),  # unbatched
            Sample((ties, 3, 2, 1), {"return_indices": True}, grad=False),
            Sample((ties, 2), grad=False),
            Sample((odd, 3, 2, 1), {"ceil_mode": True, "return_indices": True}, grad=False),
            Sample((odd, 2, 1, 1), grad=False),
            Sample((a(0, 2, 4, 4), 2), grad=False),
            Sample((a(2, 3, 6, 5), 2, 1), noncontig=True, grad=False),
            Sample((a(1, 2, 4, 3), 2, 1, 1), noncontig=True),
            Sample((a(2, 3, 6, 6), 3, 2, 1), {"ceil_mode": True}, noncontig="flip", grad=False),
        ]

    def index_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        out = []
        for s in max_samples(dtype, rng):
            out.append(Sample(s.args, dict(s.kwargs, return_indices=True), s.noncontig, grad=False))
        return out

    def index_ref(x: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
        return _np_max_pool(x, *args, indices=True, **kwargs)

    def avg_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(1, 2, 4, 4), 2)),
            Sample((a(1, 1, 5, 5), 3, 2, 1)),
            Sample((a(1, 1, 5, 5), 3, 2, 1), {"count_include_pad": False}),
            Sample((a(1, 1, 5, 5), 2, 2, 1), {"ceil_mode": True}),
            Sample((a(1, 1, 4, 5), 2, 2, 1), {"ceil_mode": True, "count_include_pad": False}),
            Sample((a(1, 1, 4, 4), 3, 1, 1), {"divisor_override": 4}),
            Sample((a(2, 3, 7, 7), 3, 2, 1), {"ceil_mode": True}, grad=False),
            Sample((a(2, 3, 7, 6), (3, 2), (2, 1), (1, 1)), {"count_include_pad": False}, grad=False),
            Sample((a(2, 3, 8, 8), 3, 3, 1), {"ceil_mode": True, "count_include_pad": False}, grad=False),
            Sample((a(2, 2, 6, 6), (2, 3)), {"divisor_override": 5}, grad=False),
            Sample((a(2, 6, 5), 2, 1), grad=False),  # unbatched
            Sample((a(0, 2, 4, 4), 2), grad=False),
            Sample((a(2, 3, 6, 5), 2, 1, 1), {"count_include_pad": False}, noncontig=True, grad=False),
            Sample((a(1, 2, 4, 3), 2, 1), noncontig=True),
            Sample((a(2, 3, 6, 6), 3, 2, 1), {"ceil_mode": True}, noncontig="flip", grad=False),
        ]

    def avg_ref(
        x: np.ndarray,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> np.ndarray:
        # PyTorch's definition: the window [start, start + k) is cut at the padded input's end; its
        # divisor counts the padding (count_include_pad) or only what lies inside the input
        unbatched = x.ndim == 3
        x = x[None] if unbatched else x
        (kh, kw), (sh, sw), (ph, pw), _ = _np_pool_params(kernel_size, stride, padding)
        n, c, h, w = x.shape
        oh, ow = _np_pool_out(h, kh, sh, 1, ph, ceil_mode), _np_pool_out(w, kw, sw, 1, pw, ceil_mode)
        out = np.zeros((n, c, oh, ow), dtype=np.float64)
        for oi in range(oh):
            h0 = oi * sh - ph
            h1 = min(h0 + kh, h + ph)
            for oj in range(ow):
                w0 = oj * sw - pw
                w1 = min(w0 + kw, w + pw)
                padded_count = (h1 - h0) * (w1 - w0)
                r0, r1, c0, c1 = max(h0, 0), min(h1, h), max(w0, 0), min(w1, w)
                total = x[:, :, r0:r1, c0:c1].astype(np.float64).sum((2, 3))
                if divisor_override is not None:
                    div = divisor_override
                elif count_include_pad:
                    div = padded_count
                else:
                    div = (r1 - r0) * (c1 - c0)
                out[:, :, oi, oj] = total / div
        if x.dtype.kind in "iu":  # integers: the window sum divided rounding toward zero
            out = np.trunc(out).astype(x.dtype)
        return out[0] if unbatched else out

    def one_d(v: Any, pad: bool = False) -> Any:
        if v is None or (not isinstance(v, int) and len(v) == 0):
            return v
        v1 = v if isinstance(v, int) else v[0]
        return (0 if pad else 1, v1)

    def values(fn: Any) -> Any:
        """The kit's call: the values of ``fn`` (the first of a pair with ``return_indices``)."""

        def call(*args: Any, **kwargs: Any) -> Tensor:
            out = fn(*args, **kwargs)
            return out[0] if isinstance(out, tuple) else out

        return call

    def max1d_ref(
        x: np.ndarray,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        ceil_mode: bool = False,
        return_indices: bool = False,
    ) -> np.ndarray:
        out = _np_max_pool(
            x[..., None, :],
            one_d(kernel_size),
            one_d(stride),
            one_d(padding, True),
            one_d(dilation),
            ceil_mode,
        )
        return out[..., 0, :]

    def avg1d_ref(
        x: np.ndarray,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> np.ndarray:
        out = avg_ref(
            x[..., None, :],
            one_d(kernel_size),
            one_d(stride),
            one_d(padding, True),
            ceil_mode,
            count_include_pad,
        )
        return out[..., 0, :]

    def pool1d_samples(avg: bool) -> Any:
        def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
            def a(*s: int) -> np.ndarray:
                return rand_array(rng, s, dtype)

            extra = {"count_include_pad": False} if avg else {"dilation": 2}
            return [
                Sample((a(2, 3, 8), 2)),
                Sample((a(1, 2, 7), 3, 2, 1)),
                Sample((a(1, 2, 7), 3, 2, 1), extra),
                Sample((a(1, 2, 7), 2), {"ceil_mode": True}),
                Sample((a(3, 6), (3,), (1,))),  # unbatched, 1-tuples
                Sample((a(2, 3, 9), 3, 2, 1), {"ceil_mode": True}, grad=False),
                Sample((a(0, 2, 4), 2), grad=False),
                Sample((a(3, 8), 2, 1), noncontig=True),
                Sample((a(2, 3, 6), 2), noncontig="flip", grad=False),
            ]

        return make

    register(
        OpRecord(
            "nn.functional.max_pool2d",
            max_pool2d,
            max_samples,
            _np_max_pool,
            call=_max_pool_part(0),
            kernel="max_pool2d",
            errors=(
                ErrorSample(
                    (np.ones((1, 1, 4, 4)), 2, 2, 2),
                    {},
                    ValueError,
                    "max_pool2d: padding \\(2, 2\\) should be at most half of the kernel size",
                ),
                ErrorSample(
                    (np.ones((4, 4)), 2), {}, ValueError, "max_pool2d: expected a 3-D \\(C, H, W\\) or 4-D"
                ),
                ErrorSample(
                    (np.ones((1, 1, 4, 4)), 2, 0),
                    {},
                    ValueError,
                    "max_pool2d: kernel_size, stride and dilation",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.max_pool2d_indices",
            max_pool2d,
            index_samples,
            index_ref,
            call=_max_pool_part(1),
            grad=False,
            covers=("nn.functional.max_pool2d",),
            public=False,
        ),
        OpRecord(
            "nn.functional.avg_pool2d",
            avg_pool2d,
            avg_samples,
            avg_ref,
            dtypes=("float32", "float64", "int64", "int32"),
            errors=(
                ErrorSample(
                    (np.ones((1, 1, 4, 4), dtype=bool), 2),
                    {},
                    TypeError,
                    "avg_pool2d: bool inputs are not supported",
                ),
                ErrorSample(
                    (np.ones((1, 1, 4, 4)), 2),
                    {"divisor_override": 0},
                    ValueError,
                    "avg_pool2d: divisor_override must be non-zero",
                ),
                ErrorSample(
                    (np.ones((1, 1, 4, 4)), 3, 1, 2),
                    {},
                    ValueError,
                    "avg_pool2d: padding \\(2, 2\\) should be at most half of the kernel size",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.max_pool1d",
            max_pool1d,
            pool1d_samples(avg=False),
            max1d_ref,
            call=values(max_pool1d),
            errors=(
                ErrorSample(
                    (np.ones((2, 3, 4, 4)), 2), {}, ValueError, "max_pool1d: expected a 2-D \\(C, L\\) or 3-D"
                ),
                ErrorSample(
                    (np.ones((2, 3, 4)), (2, 2)),
                    {},
                    ValueError,
                    "max_pool1d: kernel_size must be an int or a tuple of 1",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.avg_pool1d",
            avg_pool1d,
            pool1d_samples(avg=True),
            avg1d_ref,
            errors=(
                ErrorSample(
                    (np.ones((4,)), 2), {}, ValueError, "avg_pool1d: expected a 2-D \\(C, L\\) or 3-D"
                ),
            ),
        ),
    )


_records()
