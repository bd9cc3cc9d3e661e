"""Padding (:func:`pad`): constant, replicate, reflect and circular.

Constant padding fills the padded tensor and copies the input into its interior (raw kernels,
its own backward: the interior's slice); the other modes gather with ``index_select``, and
negative padding narrows (then concatenates filled blocks where it also pads).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ... import dtypes as _dt
from ... import ops as E
from ...autograd.grad_mode import STATE, no_grad
from ...autograd.graph import attach
from ...ops._core import kernel
from ...ops.shape import strides_of
from ...tensor import Tensor

__all__ = ["pad"]


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims: ``pad = (left, right, top, bottom, ...)`` starting from the
    last dim, as in PyTorch. Modes: 'constant' (``value``, default 0), 'replicate', 'reflect',
    'circular' (these take no ``value``). Negative padding crops."""
    pad = [int(p) for p in pad]
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(
            f"pad: padding length must be even and at most 2 * ndim ({2 * input.ndim}), got "
            f"{len(pad)} for input of shape {input.shape}"
        )
    if mode not in ("constant", "replicate", "reflect", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'replicate', 'reflect' or 'circular', got {mode!r}")
    if mode != "constant" and value:
        raise ValueError(
            f"pad: padding mode {mode!r} doesn't take a value argument (got value={value!r}); "
            "drop value, or use mode='constant'"
        )
    value = 0.0 if value is None else value
    if mode == "constant" and min(pad) >= 0 and any(pad):
        return _constant_pad(input, pad, value)
    out = input
    for i in range(len(pad) // 2):
        d = input.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        if lo < 0:
            out = E.narrow(out, d, -lo, out.shape[d] + lo)
            lo = 0
        if hi < 0:
            out = E.narrow(out, d, 0, out.shape[d] + hi)
            hi = 0
        if lo == 0 and hi == 0:
            continue
        n = out.shape[d]
        parts = []
        if mode == "constant":
            if lo:
                parts.append(
                    E.full(
                        out.shape[:d] + (lo,) + out.shape[d + 1 :], value, dtype=out.dtype, device=out.device
                    )
                )
            parts.append(out)
            if hi:
                parts.append(
                    E.full(
                        out.shape[:d] + (hi,) + out.shape[d + 1 :], value, dtype=out.dtype, device=out.device
                    )
                )
        else:
            if mode == "reflect" and (lo >= n or hi >= n):
                raise ValueError(f"pad: reflect padding ({lo}, {hi}) must be smaller than the dim size {n}")
            if mode == "circular" and (lo > n or hi > n):
                raise ValueError(f"pad: circular padding ({lo}, {hi}) must be at most the dim size {n}")
            if mode == "replicate":
                idx_lo, idx_hi = [0] * lo, [n - 1] * hi
            elif mode == "reflect":
                idx_lo, idx_hi = list(range(lo, 0, -1)), list(range(n - 2, n - 2 - hi, -1))
            else:
                idx_lo, idx_hi = list(range(n - lo, n)), list(range(hi))
            idx = E.tensor(idx_lo + list(range(n)) + idx_hi, dtype=_dt.int64, device=out.device)
            parts = [E.index_select(out, d, idx)]
        out = E.cat(parts, d) if len(parts) > 1 else parts[0]
    return out


def _constant_pad(x: Tensor, pad: list[int], value: Any) -> Tensor:
    """Non-negative constant padding: the padded tensor filled with ``value``, then ``x`` copied
    into its interior (one strided view, one copy: two kernels, where concatenating filled blocks
    takes a fill and a concatenation per padded dim). The gradient is the interior's slice."""
    nd = x.ndim
    lows, highs = [0] * nd, [0] * nd
    for i in range(len(pad) // 2):
        lows[nd - 1 - i], highs[nd - 1 - i] = pad[2 * i], pad[2 * i + 1]
    shape = tuple(n + lo + hi for n, lo, hi in zip(x.shape, lows, highs))
    with no_grad():
        out = E.full(shape, value, dtype=x.dtype, device=x.device)
    dev = x.device
    strides = strides_of(out)
    offset = sum(lo * s for lo, s in zip(lows, strides))
    interior = kernel(dev, "as_strided")(out._data, x.shape, strides, offset)
    kernel(dev, "copy_")(interior, x._data)
    if STATE.enabled and x.requires_grad:
        window = tuple(slice(lo, lo + n) for lo, n in zip(lows, x.shape))
        attach(out, "constant_pad", lambda g: (g[window],), (x,))
    return out


# -- op records ---------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import ErrorSample, Sample, rand_array

    def samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(2, 3), (1, 2))),
            Sample((a(2, 3), (1, 0, 2, 1)), {"value": 1.5}),
            Sample((a(2, 2, 3), (0, 1, 1, 0, 2, 1)), {"value": -0.5}, grad=False),
            Sample((a(3, 4), (-1, 2, 1, -2))),  # negative padding crops
            Sample((a(2, 4), (2, 1)), {"mode": "replicate"}),
            Sample((a(1, 3, 4), (1, 2, 2, 1)), {"mode": "replicate"}),
            Sample((a(2, 4), (2, 3)), {"mode": "reflect"}),
            Sample((a(1, 3, 4), (3, 1, 2, 2)), {"mode": "reflect"}),
            Sample((a(2, 4), (4, 2)), {"mode": "circular"}),
            Sample((a(1, 3, 4), (1, 2, 3, 1)), {"mode": "circular"}),
            Sample((a(3), (1, 1)), {"value": 2.0}),
            Sample((a(0, 3), (1, 1)), grad=False),
            Sample((a(4, 3), (1, 2, 0, 1)), noncontig=True),
            Sample((a(4, 3), (1, 2, 1, 1)), {"mode": "reflect"}, noncontig=True),
            Sample((a(3, 4), (2, 1, 1, 2)), {"mode": "circular"}, noncontig="flip", grad=False),
            Sample((a(3, 4), (2, 2)), {"mode": "replicate"}, noncontig="flip", grad=False),
        ]

    def ref(
        x: np.ndarray, pad: tuple[int, ...], mode: str = "constant", value: float | None = None
    ) -> np.ndarray:
        # widths per dim, first dim first; negative widths crop before padding
        widths = [(0, 0)] * x.ndim
        for i in range(len(pad) // 2):
            widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
        crop = tuple(slice(max(-lo, 0), x.shape[d] - max(-hi, 0)) for d, (lo, hi) in enumerate(widths))
        x = x[crop]
        pos = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
        if mode == "constant":
            return np.pad(x, pos, mode="constant", constant_values=0.0 if value is None else value)
        np_mode = {"replicate": "edge", "reflect": "reflect", "circular": "wrap"}[mode]
        return np.pad(x, pos, mode=np_mode)

    register(
        OpRecord(
            "nn.functional.pad",
            pad,
            samples,
            ref,
            errors=(
                ErrorSample((np.ones((2, 3)), (1,)), {}, ValueError, "pad: padding length must be even"),
                ErrorSample(
                    (np.ones((2, 3)), (3, 0)), {"mode": "reflect"}, ValueError, "pad: reflect padding"
                ),
                ErrorSample(
                    (np.ones((2, 3)), (1, 1)), {"mode": "wrap"}, ValueError, "pad: mode must be 'constant'"
                ),
            ),
        ),
    )


_records()
