"""Resampling of images and signals: :func:`interpolate` (nearest, nearest-exact, linear,
bilinear, bicubic, trilinear, area), :func:`grid_sample` and :func:`pixel_shuffle` /
:func:`pixel_unshuffle`.

Composites of core ops: interpolation is separable, so each spatial dim is resampled in turn by
one ``index_select`` of the source positions (two, blended, for the linear modes; four, weighted
by the cubic convolution kernel, for bicubic), whose backward sums the gradient back into the
source; the pixel shuffles are a reshape and a permute.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ... import dtypes as _dt
from ... import ops as E
from ...tensor import Tensor
from .adaptive_pooling import adaptive_avg_pool1d, adaptive_avg_pool2d

__all__ = ["interpolate", "upsample", "pixel_shuffle", "pixel_unshuffle", "grid_sample"]

_LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_CUBIC_A = -0.75  # PyTorch's (and OpenCV's) cubic convolution coefficient


def _per_dim(op: str, name: str, v: Any, n: int) -> list[Any]:
    if isinstance(v, Sequence) and not isinstance(v, str):
        if len(v) != n:
            raise ValueError(
                f"{op}: {name} has {len(v)} entries, but the input has {n} spatial dims; pass one value "
                f"or {n}"
            )
        return list(v)
    return [v] * n


def _source_positions(
    out_size: int, in_size: int, scale: float | None, align_corners: bool, mode: str, device: Any
) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """For each output position along one dim: the source index, and for the linear modes the next
    index and the blend weight of the next (PyTorch's coordinate rules)."""
    # PyTorch's scale: input / output size, or 1 / scale_factor when one was given (and not recomputed)
    ratio = (1.0 / scale) if scale is not None else in_size / out_size
    dst = [float(i) for i in range(out_size)]
    if mode in ("nearest", "nearest-exact"):
        shift = 0.5 if mode == "nearest-exact" else 0.0
        src = [min(int(math.floor((d + shift) * ratio)), in_size - 1) for d in dst]
        return E.tensor(src, dtype=_dt.int64, device=device), None, None
    if align_corners:
        step = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        pos = [d * step for d in dst]
    else:
        pos = [max((d + 0.5) * ratio - 0.5, 0.0) for d in dst]
    lo = [min(int(math.floor(p)), in_size - 1) for p in pos]
    hi = [min(i + 1, in_size - 1) for i in lo]
    frac = [p - i for p, i in zip(pos, lo)]
    return (
        E.tensor(lo, dtype=_dt.int64, device=device),
        E.tensor(hi, dtype=_dt.int64, device=device),
        E.tensor(frac, dtype=_dt.float64, device=device),
    )


def _cubic_weights(t: float) -> tuple[float, float, float, float]:
    """The cubic convolution weights (Keys, A = -0.75) of the taps at floor - 1 .. floor + 2 for a
    source position ``t`` past its floor, as PyTorch's ``get_cubic_upsample_coefficients``."""
    a = _CUBIC_A

    def near(x: float) -> float:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: float) -> float:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _cubic_taps(
    out_size: int, in_size: int, scale: float | None, align_corners: bool, device: Any
) -> list[tuple[Tensor, Tensor]]:
    """For bicubic along one dim: four (source index, weight) pairs per output position. The
    source position is not clamped at 0 (unlike the linear modes); the taps past either border
    read the border element, as PyTorch's ``upsample_get_value_bounded``."""
    if align_corners:
        step = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        pos = [d * step for d in range(out_size)]
    else:
        ratio = (1.0 / scale) if scale is not None else in_size / out_size
        pos = [(d + 0.5) * ratio - 0.5 for d in range(out_size)]
    floors = [math.floor(p) for p in pos]
    weights = [_cubic_weights(p - f) for p, f in zip(pos, floors)]
    taps = []
    for k in range(4):
        idx = [min(max(f - 1 + k, 0), in_size - 1) for f in floors]
        taps.append(
            (
                E.tensor(idx, dtype=_dt.int64, device=device),
                E.tensor([w[k] for w in weights], dtype=_dt.float64, device=device),
            )
        )
    return taps


def interpolate(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resample the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size`` or by
    ``scale_factor`` (exactly one of them), with PyTorch's modes and coordinate rules: 'nearest'
    (source ``floor(dst * scale)``), 'nearest-exact' (``floor((dst + 0.5) * scale)``), 'linear' /
    'bilinear' / 'trilinear' (half-pixel centres, or corner-aligned with ``align_corners=True``),
    'bicubic' (4-D inputs: cubic convolution with A = -0.75 over the 4 x 4 nearest source pixels,
    border pixels repeated; values may overshoot the input's range, as in PyTorch) and 'area'
    (adaptive average pooling)."""
    op = "interpolate"
    if mode not in _MODES:
        raise ValueError(f"{op}: mode {mode!r} is not supported; use one of {', '.join(map(repr, _MODES))}")
    if antialias:
        raise ValueError(f"{op}: antialias=True is not supported; pass antialias=False")
    if input.ndim not in (3, 4, 5):
        raise ValueError(
            f"{op}: expected a 3-D, 4-D or 5-D (N, C, *spatial) input, got shape {tuple(input.shape)}"
        )
    n_sp = input.ndim - 2
    if mode in _LINEAR and input.ndim != _LINEAR[mode]:
        raise ValueError(
            f"{op}: mode {mode!r} needs a {_LINEAR[mode]}-D input, got shape {tuple(input.shape)}; use "
            f"{[k for k, v in _LINEAR.items() if v == input.ndim][0]!r} for {input.ndim}-D inputs"
        )
    if mode == "bicubic" and input.ndim != 4:
        raise ValueError(
            f"{op}: mode 'bicubic' needs a 4-D (N, C, H, W) input, got shape {tuple(input.shape)}; use "
            f"{[k for k, v in _LINEAR.items() if v == input.ndim][0]!r} for {input.ndim}-D inputs"
        )
    if align_corners is not None and mode not in _LINEAR and mode != "bicubic":
        raise ValueError(
            f"{op}: align_corners only applies to the linear modes (linear, bilinear, trilinear) and "
            f"bicubic, not {mode!r}; leave it None"
        )
    if (size is None) == (scale_factor is None):
        raise ValueError(
            f"{op}: pass exactly one of size and scale_factor, got size={size!r}, "
            f"scale_factor={scale_factor!r}"
        )
    in_sizes = list(input.shape[2:])
    if size is not None:
        out_sizes = [int(s) for s in _per_dim(op, "size", size, n_sp)]
        scales: list[float | None] = [None] * n_sp
    else:
        factors = [float(f) for f in _per_dim(op, "scale_factor", scale_factor, n_sp)]
        if any(f <= 0 for f in factors):
            raise ValueError(f"{op}: scale_factor must be positive, got {scale_factor!r}")
        out_sizes = [int(math.floor(i * f)) for i, f in zip(in_sizes, factors)]
        scales = [None] * n_sp if recompute_scale_factor else list(factors)
    if any(o < 1 for o in out_sizes):
        raise ValueError(f"{op}: the output size {tuple(out_sizes)} must be positive in every spatial dim")
    if mode == "area":
        if n_sp == 1:
            return adaptive_avg_pool1d(input, out_sizes[0])
        if n_sp == 2:
            return adaptive_avg_pool2d(input, tuple(out_sizes))
        raise ValueError(f"{op}: mode 'area' supports 3-D and 4-D inputs, got shape {tuple(input.shape)}")
    out = input
    for k in range(n_sp):
        d = 2 + k
        if out_sizes[k] == in_sizes[k] and (scales[k] in (None, 1.0)):
            continue  # the identity along this dim, whatever the mode
        if mode == "bicubic":
            shape = (-1,) + (1,) * (out.ndim - 1 - d)
            taps = _cubic_taps(out_sizes[k], in_sizes[k], scales[k], bool(align_corners), input.device)
            parts = [E.index_select(out, d, idx) * w.to(out.dtype).reshape(shape) for idx, w in taps]
            out = parts[0] + parts[1] + parts[2] + parts[3]
            continue
        lo, hi, frac = _source_positions(
            out_sizes[k], in_sizes[k], scales[k], bool(align_corners), mode, input.device
        )
        a = E.index_select(out, d, lo)
        if hi is None:
            out = a
            continue
        w = frac.to(out.dtype).reshape((-1,) + (1,) * (out.ndim - 1 - d))
        out = a + (E.index_select(out, d, hi) - a) * w
    return out if out is not input else input * 1


def upsample(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """PyTorch's deprecated name for :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r), as PyTorch."""
    r = int(upscale_factor)
    if input.ndim < 3:
        raise ValueError(
            f"pixel_shuffle: expected at least a 3-D (*, C, H, W) input, got shape {tuple(input.shape)}"
        )
    if r < 1:
        raise ValueError(f"pixel_shuffle: upscale_factor must be positive, got {upscale_factor}")
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise ValueError(
            f"pixel_shuffle: the channel dim ({c}) must be divisible by upscale_factor squared ({r * r})"
        )
    nb = len(batch)
    x = input.reshape(*batch, c // (r * r), r, r, h, w)
    perm = list(range(nb)) + [nb, nb + 3, nb + 1, nb + 4, nb + 2]
    return x.permute(*perm).reshape(*batch, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W), the inverse of :func:`pixel_shuffle`."""
    r = int(downscale_factor)
    if input.ndim < 3:
        raise ValueError(
            f"pixel_unshuffle: expected at least a 3-D (*, C, H, W) input, got shape {tuple(input.shape)}"
        )
    if r < 1:
        raise ValueError(f"pixel_unshuffle: downscale_factor must be positive, got {downscale_factor}")
    *batch, c, h, w = input.shape
    if h % r or w % r:
        raise ValueError(
            f"pixel_unshuffle: the height ({h}) and width ({w}) must be divisible by downscale_factor ({r})"
        )
    nb = len(batch)
    x = input.reshape(*batch, c, h // r, r, w // r, r)
    perm = list(range(nb)) + [nb, nb + 2, nb + 4, nb + 1, nb + 3]
    return x.permute(*perm).reshape(*batch, c * r * r, h // r, w // r)


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """PyTorch's reflect_coordinates: ``coord`` reflected at the bounds low and high (given doubled)."""
    if twice_low == twice_high:
        return E.zeros_like(coord)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    c = E.abs(coord - low)
    extra = E.remainder(c, span)
    flips = E.floor(c / span)
    even = E.eq(E.remainder(flips, 2), 0)
    return E.where(even, extra + low, span - extra + low)


def _source_coord(g: Tensor, size: int, align_corners: bool, padding_mode: str) -> Tensor:
    """Normalised grid coordinates in [-1, 1] mapped to pixel coordinates along a dim of ``size``."""
    x = (g + 1) / 2 * (size - 1) if align_corners else ((g + 1) * size - 1) / 2
    if padding_mode == "border":
        x = E.clamp(x, 0, size - 1)
    elif padding_mode == "reflection":
        x = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
        x = E.clamp(x, 0, size - 1)
    return x


def grid_sample(
    input: Tensor,
    grid: Tensor,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
    align_corners: bool | None = None,
) -> Tensor:
    """Samples (N, C, H, W) at the normalised (x, y) locations of ``grid`` (N, Ho, Wo, 2), -1 and 1
    being the edges (pixel centres with ``align_corners=True``), with 'bilinear' or 'nearest'
    interpolation and 'zeros', 'border' or 'reflection' padding, as PyTorch (4-D inputs).
    Differentiable in ``input`` and, for 'bilinear', in ``grid``."""
    op = "grid_sample"
    if mode not in ("bilinear", "nearest"):
        raise ValueError(
            f"{op}: mode must be 'bilinear' or 'nearest' (bicubic is not supported), got {mode!r}"
        )
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(
            f"{op}: padding_mode must be 'zeros', 'border' or 'reflection', got {padding_mode!r}"
        )
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise ValueError(
            f"{op}: expected a 4-D input (N, C, H, W) and a grid (N, H_out, W_out, 2) with the same N, got "
            f"shapes {tuple(input.shape)} and {tuple(grid.shape)}"
        )
    n, c, h, w = input.shape
    ho, wo = grid.shape[1:3]
    align = bool(align_corners)
    gx = _source_coord(grid[..., 0], w, align, padding_mode)  # (N, Ho, Wo)
    gy = _source_coord(grid[..., 1], h, align, padding_mode)
    flat = input.reshape(n, c, h * w)

    def tap(ix: Tensor, iy: Tensor) -> tuple[Tensor, Tensor]:
        """Values at integer pixel (ix, iy) (0 outside the image) and the inside mask."""
        inside = E.logical_and(
            E.logical_and(E.ge(ix, 0), E.le(ix, w - 1)), E.logical_and(E.ge(iy, 0), E.le(iy, h - 1))
        )
        ixc = E.clamp(ix, 0, w - 1).to(_dt.int64)
        iyc = E.clamp(iy, 0, h - 1).to(_dt.int64)
        idx = (iyc * w + ixc).reshape(n, 1, ho * wo)
        vals = E.gather(flat, 2, E.broadcast_to(idx, (n, c, ho * wo)).contiguous()).reshape(n, c, ho, wo)
        return E.where(inside.unsqueeze(1), vals, 0.0), inside

    if mode == "nearest":
        # PyTorch rounds half to even (nearbyint)
        ix, iy = E.round(gx.detach()), E.round(gy.detach())
        return tap(ix, iy)[0]
    x0, y0 = E.floor(gx.detach()), E.floor(gy.detach())
    wx1, wy1 = (gx - x0).unsqueeze(1), (gy - y0).unsqueeze(1)
    wx0, wy0 = 1 - wx1, 1 - wy1
    v00, v01 = tap(x0, y0)[0], tap(x0 + 1, y0)[0]
    v10, v11 = tap(x0, y0 + 1)[0], tap(x0 + 1, y0 + 1)[0]
    return v00 * wx0 * wy0 + v01 * wx1 * wy0 + v10 * wx0 * wy1 + v11 * wx1 * wy1


# -- op records ---------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import ErrorSample, Sample, rand_array

    def positions(o: int, i: int, scale: float | None, align: bool, mode: str) -> Any:
        ratio = 1.0 / scale if scale is not None else i / o
        d = np.arange(o, dtype=np.float64)
        if mode.startswith("nearest"):
            shift = 0.5 if mode == "nearest-exact" else 0.0
            return np.minimum(np.floor((d + shift) * ratio).astype(np.int64), i - 1), None, None
        pos = d * ((i - 1) / (o - 1) if o > 1 else 0.0) if align else np.maximum((d + 0.5) * ratio - 0.5, 0.0)
        lo = np.minimum(np.floor(pos).astype(np.int64), i - 1)
        return lo, np.minimum(lo + 1, i - 1), pos - lo

    def cubic_along(x: np.ndarray, axis: int, o: int, i: int, scale: float | None, align: bool) -> np.ndarray:
        # Keys' cubic convolution, A = -0.75, written from the kernel's definition:
        # W(s) = (A+2)|s|^3 - (A+3)|s|^2 + 1 for |s| <= 1, A|s|^3 - 5A|s|^2 + 8A|s| - 4A for 1 < |s| < 2
        a = -0.75
        d = np.arange(o, dtype=np.float64)
        if align:
            pos = d * ((i - 1) / (o - 1) if o > 1 else 0.0)
        else:
            pos = (d + 0.5) * (1.0 / scale if scale is not None else i / o) - 0.5
        base = np.floor(pos)
        res = 0.0
        for k in range(-1, 3):
            s = np.abs(pos - (base + k))
            w = np.where(
                s <= 1, (a + 2) * s**3 - (a + 3) * s**2 + 1, a * s**3 - 5 * a * s**2 + 8 * a * s - 4 * a
            )
            idx = np.clip(base + k, 0, i - 1).astype(np.int64)
            res = res + np.take(x, idx, axis=axis) * w.reshape((-1,) + (1,) * (x.ndim - 1 - axis))
        return res

    def interpolate_ref(
        x: np.ndarray,
        size: Any = None,
        scale_factor: Any = None,
        mode: str = "nearest",
        align_corners: Any = None,
        recompute_scale_factor: Any = None,
        antialias: bool = False,
    ) -> np.ndarray:
        n_sp = x.ndim - 2
        ins = x.shape[2:]
        if size is not None:
            outs = list(size) if isinstance(size, tuple | list) else [size] * n_sp
            scales: list[Any] = [None] * n_sp
        else:
            f = list(scale_factor) if isinstance(scale_factor, tuple | list) else [scale_factor] * n_sp
            outs = [int(np.floor(i * s)) for i, s in zip(ins, f)]
            scales = [None] * n_sp if recompute_scale_factor else f
        out = x.astype(np.float64)
        if mode == "area":
            res = np.zeros(out.shape[:2] + tuple(outs))
            for idx in np.ndindex(*outs):
                sl = tuple(slice((j * i) // o, -(-((j + 1) * i) // o)) for j, i, o in zip(idx, ins, outs))
                res[(..., *idx)] = out[(..., *sl)].mean(axis=tuple(range(2, x.ndim)))
            return res
        for k in range(n_sp):
            if mode == "bicubic":
                out = cubic_along(out, 2 + k, outs[k], ins[k], scales[k], bool(align_corners))
                continue
            lo, hi, frac = positions(outs[k], ins[k], scales[k], bool(align_corners), mode)
            a = np.take(out, lo, axis=2 + k)
            if hi is None:
                out = a
            else:
                w = frac.reshape((-1,) + (1,) * (n_sp - 1 - k))
                out = a + (np.take(out, hi, axis=2 + k) - a) * w
        return out

    def interpolate_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(1, 2, 3, 4),), {"scale_factor": 2}),
            Sample((a(1, 2, 5, 4),), {"size": (3, 7)}),
            Sample((a(1, 2, 5, 4),), {"size": (3, 7), "mode": "nearest-exact"}),
            Sample((a(1, 2, 3, 4),), {"size": (5, 6), "mode": "bilinear"}),
            Sample((a(1, 2, 3, 4),), {"size": (5, 6), "mode": "bilinear", "align_corners": True}),
            Sample((a(1, 2, 6, 5),), {"scale_factor": 0.5, "mode": "bilinear"}),
            Sample((a(1, 2, 3, 4),), {"scale_factor": (1.5, 2.5), "mode": "bilinear"}),
            Sample(
                (a(1, 2, 3, 4),), {"scale_factor": 1.7, "mode": "bilinear", "recompute_scale_factor": True}
            ),
            Sample((a(2, 3, 5),), {"size": 8, "mode": "linear"}),
            Sample((a(2, 3, 5),), {"scale_factor": 1.5}),
            Sample((a(1, 2, 2, 3, 2),), {"scale_factor": 2, "mode": "trilinear"}, grad=False),
            Sample((a(1, 2, 6, 6),), {"size": (4, 3), "mode": "area"}),
            Sample((a(1, 1, 1, 4),), {"size": (1, 1), "mode": "bilinear", "align_corners": True}),
            Sample((a(0, 2, 3, 3),), {"scale_factor": 2, "mode": "bilinear"}, grad=False),
            Sample((a(1, 2, 4, 3),), {"size": (6, 5), "mode": "bilinear"}, noncontig=True),
            Sample((a(1, 2, 4, 3),), {"scale_factor": 3}, noncontig="flip", grad=False),
            Sample((a(1, 2, 3, 4),), {"size": (5, 7), "mode": "bicubic"}),
            Sample((a(2, 1, 4, 3),), {"size": (6, 5), "mode": "bicubic", "align_corners": True}),
            Sample((a(1, 2, 7, 6),), {"size": (3, 4), "mode": "bicubic"}),
            Sample((a(1, 1, 5, 6),), {"scale_factor": (1.7, 0.6), "mode": "bicubic"}),
            Sample((a(1, 1, 2, 3),), {"scale_factor": 2, "mode": "bicubic", "align_corners": True}),
            Sample((a(1, 2, 4, 3),), {"size": (5, 4), "mode": "bicubic"}, noncontig=True),
        ]

    def pixel_shuffle_ref(x: np.ndarray, r: int) -> np.ndarray:
        *b, c, h, w = x.shape
        y = x.reshape(*b, c // (r * r), r, r, h, w)
        nb = len(b)
        return y.transpose(*range(nb), nb, nb + 3, nb + 1, nb + 4, nb + 2).reshape(
            *b, c // (r * r), h * r, w * r
        )

    def pixel_unshuffle_ref(x: np.ndarray, r: int) -> np.ndarray:
        *b, c, h, w = x.shape
        y = x.reshape(*b, c, h // r, r, w // r, r)
        nb = len(b)
        return y.transpose(*range(nb), nb, nb + 2, nb + 4, nb + 1, nb + 3).reshape(
            *b, c * r * r, h // r, w // r
        )

    def shuffle_samples(unshuffle: bool) -> Any:
        def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
            def a(*s: int) -> np.ndarray:
                return rand_array(rng, s, dtype)

            if unshuffle:
                return [
                    Sample((a(1, 2, 4, 6), 2)),
                    Sample((a(3, 6, 3), 3)),
                    Sample((a(2, 1, 2, 4, 4), 2)),
                    Sample((a(0, 1, 2, 2), 2), grad=False),
                    Sample((a(1, 2, 4, 4), 2), noncontig=True),
                ]
            return [
                Sample((a(1, 8, 2, 3), 2)),
                Sample((a(9, 2, 1), 3)),
                Sample((a(2, 1, 4, 2, 2), 2)),
                Sample((a(0, 4, 2, 2), 2), grad=False),
                Sample((a(1, 4, 3, 3), 1)),
                Sample((a(1, 4, 3, 3), 2), noncontig=True),
            ]

        return make

    def np_reflect(c: np.ndarray, tl: int, th: int) -> np.ndarray:
        if tl == th:
            return np.zeros_like(c)
        low, span = tl / 2, (th - tl) / 2
        c = np.abs(c - low)
        extra, flips = np.mod(c, span), np.floor(c / span)
        return np.where(np.mod(flips, 2) == 0, extra + low, span - extra + low)

    def np_coord(g: np.ndarray, size: int, align: bool, pm: str) -> np.ndarray:
        x = (g + 1) / 2 * (size - 1) if align else ((g + 1) * size - 1) / 2
        if pm == "border":
            x = np.clip(x, 0, size - 1)
        elif pm == "reflection":
            x = np_reflect(x, 0, 2 * (size - 1)) if align else np_reflect(x, -1, 2 * size - 1)
            x = np.clip(x, 0, size - 1)
        return x

    def grid_sample_ref(
        x: np.ndarray,
        grid: np.ndarray,
        mode: str = "bilinear",
        padding_mode: str = "zeros",
        align_corners: Any = None,
    ) -> np.ndarray:
        n, c, h, w = x.shape
        gx = np_coord(grid[..., 0].astype(np.float64), w, bool(align_corners), padding_mode)
        gy = np_coord(grid[..., 1].astype(np.float64), h, bool(align_corners), padding_mode)
        x64 = x.astype(np.float64)

        def tap(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
            inside = (ix >= 0) & (ix <= w - 1) & (iy >= 0) & (iy <= h - 1)
            ixc, iyc = np.clip(ix, 0, w - 1).astype(int), np.clip(iy, 0, h - 1).astype(int)
            vals = np.stack([x64[b][:, iyc[b], ixc[b]] for b in range(n)])  # (N, C, Ho, Wo)
            return np.where(inside[:, None], vals, 0.0)

        if mode == "nearest":
            return tap(np.round(gx), np.round(gy))
        x0, y0 = np.floor(gx), np.floor(gy)
        wx, wy = (gx - x0)[:, None], (gy - y0)[:, None]
        return (
            tap(x0, y0) * (1 - wx) * (1 - wy)
            + tap(x0 + 1, y0) * wx * (1 - wy)
            + tap(x0, y0 + 1) * (1 - wx) * wy
            + tap(x0 + 1, y0 + 1) * wx * wy
        )

    def grid_sample_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*sh: int) -> np.ndarray:
            return rand_array(rng, sh, dtype)

        def g(*sh: int) -> np.ndarray:
            return rand_array(rng, sh, dtype, -1.2, 1.2)

        return [
            Sample((a(2, 3, 5, 4), g(2, 4, 3, 2))),
            Sample((a(1, 2, 4, 4), g(1, 3, 5, 2)), {"align_corners": True}),
            Sample((a(1, 2, 4, 5), g(1, 3, 3, 2)), {"padding_mode": "border"}),
            Sample((a(1, 2, 4, 5), g(1, 3, 3, 2)), {"padding_mode": "reflection", "align_corners": True}),
            Sample((a(1, 2, 4, 5), g(1, 3, 3, 2)), {"padding_mode": "reflection"}),
            Sample((a(2, 2, 4, 4), g(2, 3, 3, 2)), {"mode": "nearest"}, grad=False),
            Sample((a(2, 3, 5, 4), g(2, 4, 3, 2)), noncontig=True, grad=False),
        ]

    register(
        OpRecord(
            "nn.functional.interpolate",
            interpolate,
            interpolate_samples,
            interpolate_ref,
            covers=("nn.functional.upsample",),
            errors=(
                ErrorSample(
                    (np.ones((1, 1, 2, 2)),), {}, ValueError, "interpolate: pass exactly one of size"
                ),
                ErrorSample(
                    (np.ones((1, 1, 2)),),
                    {"size": 3, "mode": "bilinear"},
                    ValueError,
                    "interpolate: mode 'bilinear' needs a 4-D input",
                ),
                ErrorSample(
                    (np.ones((1, 1, 2, 2)),),
                    {"size": 3, "align_corners": True},
                    ValueError,
                    "interpolate: align_corners only applies to the linear modes",
                ),
                ErrorSample(
                    (np.ones((1, 1, 2)),),
                    {"size": 3, "mode": "bicubic"},
                    ValueError,
                    "interpolate: mode 'bicubic' needs a 4-D \\(N, C, H, W\\) input, got shape \\(1, 1, 2\\)",
                ),
                ErrorSample(
                    (np.ones((1, 1, 2, 2)),),
                    {"size": 3, "mode": "cubic"},
                    ValueError,
                    "interpolate: mode 'cubic'",
                ),
                ErrorSample(
                    (np.ones((1, 1, 2, 2)),),
                    {"size": (3, 3, 3)},
                    ValueError,
                    "interpolate: size has 3 entries, but the input has 2 spatial dims",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.pixel_shuffle",
            pixel_shuffle,
            shuffle_samples(False),
            pixel_shuffle_ref,
            dtypes=("float32", "float64", "int64"),
            errors=(
                ErrorSample(
                    (np.ones((1, 3, 2, 2)), 2),
                    {},
                    ValueError,
                    "pixel_shuffle: the channel dim \\(3\\) must be divisible by upscale_factor squared",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.pixel_unshuffle",
            pixel_unshuffle,
            shuffle_samples(True),
            pixel_unshuffle_ref,
            dtypes=("float32", "float64", "int64"),
            errors=(
                ErrorSample(
                    (np.ones((1, 1, 3, 4)), 2),
                    {},
                    ValueError,
                    "pixel_unshuffle: the height \\(3\\) and width \\(4\\) must be divisible",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.grid_sample",
            grid_sample,
            grid_sample_samples,
            grid_sample_ref,
            errors=(
                ErrorSample(
                    (np.ones((1, 1, 3, 3)), np.zeros((1, 2, 2, 3))),
                    {},
                    ValueError,
                    "grid_sample: expected a 4-D input",
                ),
                ErrorSample(
                    (np.ones((1, 1, 3, 3)), np.zeros((1, 2, 2, 2))),
                    {"mode": "bicubic"},
                    ValueError,
                    "grid_sample: mode must be 'bilinear' or 'nearest'",
                ),
            ),
        ),
    )


_records()
