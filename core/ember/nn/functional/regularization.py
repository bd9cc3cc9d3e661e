"""Dropout, of elements and (dropout1d/2d/3d) of whole channels, and alpha dropout (of elements
and of whole channels), which keeps the mean and variance of SELU networks.

A composite of core ops: a uniform draw from the device's generator, a comparison and a
``where``, so it differentiates through them.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from ... import ops as E
from ...tensor import Tensor
from .activations import _maybe_inplace

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]


def dropout(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, generator: Any = None
) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (identity when not
    training). The mask comes from the device's default generator (or ``generator``), so
    ``ember.manual_seed`` makes it reproducible. ``inplace=True`` writes into ``input``."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _maybe_inplace(input, lambda x: x * 0.0, inplace, "dropout_", saves_input=False)
    u = E.rand(
        input.shape,
        dtype=input.dtype if input.dtype.is_floating_point else None,
        device=input.device,
        generator=generator,
    )
    keep = E.ge(u, p)
    scale = 1.0 / (1.0 - p)
    return _maybe_inplace(
        input, lambda x: E.where(keep, x, 0.0) * scale, inplace, "dropout_", saves_input=False
    )


def _channel_dropout(op: str, input: Tensor, p: float, training: bool, inplace: bool, spatial: int) -> Tensor:
    """Zero whole channels of (N, C, *spatial) (or unbatched (C, *spatial)) with probability ``p``,
    scaling the kept ones by 1/(1-p): one draw per (sample, channel), broadcast over the rest."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(
            f"{op}: expected a {spatial + 1}-D (unbatched) or {spatial + 2}-D (batched) input, got shape "
            f"{tuple(input.shape)}"
        )
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _maybe_inplace(input, lambda x: x * 0.0, inplace, f"{op}_", saves_input=False)
    lead = input.ndim - spatial  # the (N, C) or (C,) dims that get their own draw
    shape = tuple(input.shape[:lead]) + (1,) * spatial
    u = E.rand(shape, dtype=input.dtype if input.dtype.is_floating_point else None, device=input.device)
    keep = E.ge(u, p)
    scale = 1.0 / (1.0 - p)
    return _maybe_inplace(
        input, lambda x: E.where(keep, x, 0.0) * scale, inplace, f"{op}_", saves_input=False
    )


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) with probability ``p`` (the rest scaled by
    1/(1-p)) while training."""
    return _channel_dropout("dropout1d", input, p, training, inplace, 1)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) or (C, H, W) with probability ``p`` while training. As
    PyTorch, a 3-D input is taken as (N, C, L), with a warning (use dropout1d for that)."""
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: received a 3D input; assuming that channel-wise 1D dropout behavior is desired "
            "(the input is taken as (N, C, L)); use dropout1d for such inputs",
            UserWarning,
            stacklevel=2,
        )
        return _channel_dropout("dropout2d", input, p, training, inplace, 1)
    return _channel_dropout("dropout2d", input, p, training, inplace, 2)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability ``p`` while training."""
    return _channel_dropout("dropout3d", input, p, training, inplace, 3)


# SELU's negative saturation, -scale * alpha: where alpha dropout sets a dropped element
_ALPHA_PRIME = 1.7580993408473766


def _alpha_affine(p: float) -> tuple[float, float]:
    """(a, b) of alpha dropout with drop probability ``p``: kept elements become ``a * x + b``,
    dropped ones ``a * (-alpha') + b``, which keeps zero mean and unit variance."""
    a = 1.0 / math.sqrt((_ALPHA_PRIME * _ALPHA_PRIME * p + 1) * (1 - p))
    return a, _ALPHA_PRIME * a * p


def _alpha_dropout(
    op: str, input: Tensor, p: float, training: bool, inplace: bool, feature: bool, generator: Any
) -> Tensor:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    if feature and input.ndim < 2:
        raise RuntimeError(
            f"{op}: Feature dropout requires at least 2 dimensions in the input (N, C, *), got shape "
            f"{tuple(input.shape)}"
        )
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        return _maybe_inplace(input, lambda x: x * 0.0, inplace, f"{op}_", saves_input=False)
    # one draw per element, or per (sample, channel) broadcast over the rest
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2) if feature else tuple(input.shape)
    dtype = input.dtype if input.dtype.is_floating_point else None
    keep = E.ge(E.rand(shape, dtype=dtype, device=input.device, generator=generator), p)
    a, b = _alpha_affine(p)
    dropped = -_ALPHA_PRIME * a + b
    return _maybe_inplace(
        input, lambda x: E.where(keep, x * a + b, dropped), inplace, f"{op}_", saves_input=False
    )


def alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False, *, generator: Any = None
) -> Tensor:
    """Alpha dropout, for self-normalising (SELU) networks: while training, each element is set to
    SELU's saturation ``-alpha'`` with probability ``p`` and then all are mapped by the affine
    ``a * x + b`` that restores zero mean and unit variance. Identity when not training (the
    functional default, as PyTorch's). The mask comes from the device's default generator (or
    ``generator``)."""
    return _alpha_dropout("alpha_dropout", input, p, training, inplace, False, generator)


def feature_alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False, *, generator: Any = None
) -> Tensor:
    """:func:`alpha_dropout` of whole channels of (N, C, *): one draw per (sample, channel)."""
    return _alpha_dropout("feature_alpha_dropout", input, p, training, inplace, True, generator)


# -- op records ---------------------------------------------------------------------------------
def _dropout_checked(
    input: Tensor,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    seed: int | None = None,
) -> Tensor:
    """The conformance kit's call for dropout, whose mask is random: what it checks is what holds
    on any device whatever the draw.

    * ``p == 0`` or ``training=False``: the output itself (it must equal the input);
      ``p == 1``: the output itself (all zeros).
    * ``0 < p < 1``: a bool tensor, True where the output is 0 or exactly ``input / (1 - p)``, which
      must be True everywhere. The mask's distribution is not checked here. With ``seed``, the
      mask comes from a fresh ``Generator(device, seed)``, and the bool also requires that a second
      call with the same seed gives the same output and that the output has both a dropped and a
      kept element (the seeded samples have 1000 elements and p = 0.5: a fair draw drops all or
      none of them with probability 2 * 2**-1000, so this catches a broken draw, not a biased one).

    ``inplace=True`` runs on a clone of the input and checks that the clone is returned.
    """
    from ...ops.random_creation import Generator

    def run() -> Tensor:
        target = input.clone() if inplace else input
        gen = Generator(input.device, seed) if seed is not None else None
        out = dropout(target, p, training, inplace, generator=gen)
        if inplace and training and p > 0 and out is not target:
            raise AssertionError("dropout(inplace=True) returned a new tensor instead of its input")
        return out

    out = run()
    if not training or p in (0.0, 1.0):
        return out
    ok = E.logical_or(E.eq(out, 0.0), E.eq(out, input * (1.0 / (1.0 - p))))
    if seed is not None:
        ok = E.logical_and(ok, E.eq(out, run()))
        dropped = E.eq(out, 0.0)
        ok = E.logical_and(ok, E.logical_and(dropped.any(), E.logical_not(dropped).any()))
    return ok


def _dropout_fixed_mask(input: Tensor, p: float) -> Tensor:
    """dropout with a freshly seeded generator on every call: a deterministic function of
    ``input``, so its gradient (the mask scaled by 1 / (1 - p)) can be checked by finite
    differences."""
    from ...ops.random_creation import Generator

    return dropout(input, p, generator=Generator(input.device, 7))


def _channel_dropout_checked(fn: Any, spatial: int) -> Any:
    """The kit's call for a channel dropout: where training with 0 < p < 1, a bool tensor that is
    True where the output is 0 or ``input / (1 - p)`` and each channel was dropped or kept whole;
    otherwise the output itself."""

    def call(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
        target = input.clone() if inplace else input
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(target, p, training, inplace)
        if inplace and training and p > 0 and out is not target:
            raise AssertionError(f"{fn.__name__}(inplace=True) returned a new tensor instead of its input")
        if not training or p in (0.0, 1.0):
            return out
        # dropout2d takes a 3-D input as (N, C, L), as PyTorch: one spatial dim then
        n_spatial = 1 if (fn is dropout2d and input.ndim == 3) else spatial
        dims = tuple(range(input.ndim - n_spatial, input.ndim))
        dropped = E.eq(out, 0.0)
        kept = E.eq(out, input * (1.0 / (1.0 - p)))
        whole = E.logical_or(dropped.all(dims, keepdim=True), kept.all(dims, keepdim=True))
        return E.logical_and(E.logical_or(dropped, kept), E.broadcast_to(whole, out.shape))

    return call


def _alpha_dropout_checked(fn: Any, feature: bool) -> Any:
    """The kit's call for an alpha dropout: where training with 0 < p < 1, a bool tensor, True
    where the output is ``a * x + b`` (kept) or ``a * (-alpha') + b`` (dropped), within a float
    tolerance, and (feature) each channel was kept or dropped whole; with ``seed`` a second call
    with the same seed gives the same output and something was kept and something dropped.
    Otherwise the output itself. ``inplace=True`` runs on a clone and checks it is returned."""
    from ...ops.random_creation import Generator

    def call(
        input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False, seed: int | None = None
    ) -> Tensor:
        def run() -> Tensor:
            target = input.clone() if inplace else input
            gen = Generator(input.device, seed) if seed is not None else None
            out = fn(target, p, training, inplace, generator=gen)
            if inplace and training and 0 < p and out is not target:
                raise AssertionError(
                    f"{fn.__name__}(inplace=True) returned a new tensor instead of its input"
                )
            return out

        out = run()
        if not training or p in (0.0, 1.0):
            return out
        a, b = _alpha_affine(p)
        # bfloat16 (2 bytes): a device may round a * x + b once or twice, 2**-8 of |values| < 4 apart
        tol = 1e-9 if input.dtype.itemsize >= 8 else (1e-4 if input.dtype.itemsize >= 4 else 4e-2)
        kept = E.le(E.abs(out - (input * a + b)), tol)
        dropped = E.le(E.abs(out - (-_ALPHA_PRIME * a + b)), tol)
        ok = E.logical_or(kept, dropped)
        if feature:
            dims = tuple(range(2, input.ndim))
            if dims:
                whole = E.logical_or(dropped.all(dims, keepdim=True), kept.all(dims, keepdim=True))
                ok = E.logical_and(ok, E.broadcast_to(whole, out.shape))
        if seed is not None:
            ok = E.logical_and(ok, E.eq(out, run()))
            ok = E.logical_and(ok, E.logical_and(kept.any(), E.logical_not(kept).any()))
        return ok

    return call


def _alpha_dropout_fixed_mask(fn: Any) -> Any:
    """An alpha dropout with a freshly seeded generator on every call (a deterministic function of
    the input, so its gradient, ``a`` where kept and 0 where dropped, can be gradchecked)."""
    from ...ops.random_creation import Generator

    def call(input: Tensor, p: float) -> Tensor:
        return fn(input, p, True, generator=Generator(input.device, 7))

    return call


def _alpha_records() -> None:
    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import ErrorSample, Sample, rand_array

    def samples(feature: bool) -> Any:
        def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
            def a(*s: int) -> np.ndarray:
                return rand_array(rng, s, dtype, -2.0, 2.0)

            out = [
                Sample((a(3, 4),), {"p": 0.5}),
                Sample((a(3, 4),), {"p": 0.0, "training": True}),
                Sample((a(2, 3),), {"p": 1.0, "training": True}),
                Sample((a(2, 3),), {"p": 1.0, "training": True, "inplace": True}),
                Sample((a(6, 7),), {"p": 0.5, "training": True}, grad=False),
                Sample((a(6, 7),), {"p": 0.2, "training": True, "inplace": True}, grad=False),
                Sample((a(5, 4),), {"p": 0.5, "training": True}, noncontig=True, grad=False),
                Sample((a(0, 3),), {"p": 0.5, "training": True}, grad=False),
                Sample((a(20, 50),), {"p": 0.5, "training": True, "seed": 3}, grad=False),
            ]
            if feature:
                out += [
                    Sample((a(4, 6, 3, 2),), {"p": 0.5, "training": True}, grad=False),
                    Sample((a(3, 5, 4),), {"p": 0.3, "training": True}, noncontig=True, grad=False),
                ]
            else:
                out += [Sample((a(),), {"p": 0.5, "training": True}, grad=False)]
            return out

        return make

    def ref(
        x: np.ndarray, p: float = 0.5, training: bool = False, inplace: bool = False, seed: int | None = None
    ) -> np.ndarray:
        if not training or p == 0.0 or x.size == 0:
            return x
        if p == 1.0:
            return np.zeros_like(x)
        return np.ones(x.shape, dtype=bool)

    def fixed_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample((rand_array(rng, (3, 4), dtype, -2.0, 2.0), 0.5)),
            Sample((rand_array(rng, (4, 3, 2), dtype, -2.0, 2.0), 0.3), noncontig=True),
        ]

    register(
        OpRecord(
            "nn.functional.alpha_dropout",
            alpha_dropout,
            samples(False),
            ref,
            call=_alpha_dropout_checked(alpha_dropout, False),
            errors=(
                ErrorSample(
                    (np.ones(3),),
                    {"p": 1.5},
                    ValueError,
                    "alpha_dropout: dropout probability has to be between 0 and 1, but got 1.5",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.alpha_dropout_fixed_mask",
            alpha_dropout,
            fixed_samples,
            None,
            call=_alpha_dropout_fixed_mask(alpha_dropout),
            covers=("nn.functional.alpha_dropout",),
            public=False,
        ),
        OpRecord(
            "nn.functional.feature_alpha_dropout",
            feature_alpha_dropout,
            samples(True),
            ref,
            call=_alpha_dropout_checked(feature_alpha_dropout, True),
            errors=(
                ErrorSample(
                    (np.ones(3),),
                    {"p": -0.1},
                    ValueError,
                    "feature_alpha_dropout: dropout probability has to be between 0 and 1, but got -0.1",
                ),
                ErrorSample(
                    (np.ones(3),),
                    {"p": 0.5, "training": True},
                    RuntimeError,
                    "feature_alpha_dropout: Feature dropout requires at least 2 dimensions",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.feature_alpha_dropout_fixed_mask",
            feature_alpha_dropout,
            fixed_samples,
            None,
            call=_alpha_dropout_fixed_mask(feature_alpha_dropout),
            covers=("nn.functional.feature_alpha_dropout",),
            public=False,
        ),
    )


def _records() -> None:
    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import ErrorSample, Sample, rand_array

    # nonzero inputs (0.1 .. 2 in magnitude): a kept element is never mistaken for a dropped one
    def nonzero(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
        mag = rand_array(rng, shape, dtype, 0.1, 2.0)
        return np.where(rng.random(shape) < 0.5, -mag, mag).astype(dtype)

    def samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return nonzero(rng, s, dtype)

        return [
            Sample((a(3, 4),), {"p": 0.0}),
            Sample((a(3, 4),), {"training": False}),
            Sample((a(3, 4),), {"p": 0.9, "training": False}),
            Sample((a(2, 3),), {"p": 1.0}),
            Sample((a(2, 3),), {"p": 1.0, "inplace": True}),
            Sample((a(4, 3),), {"p": 0.0}, noncontig=True),
            Sample((a(6, 7),), {"p": 0.5}, grad=False),
            Sample((a(6, 7),), {"p": 0.25, "inplace": True}, grad=False),
            Sample((a(5, 4),), {"p": 0.5}, noncontig=True, grad=False),
            Sample((a(4, 5),), {"p": 0.5}, noncontig="flip", grad=False),
            Sample((a(),), {"p": 0.5}, grad=False),
            Sample((a(0, 3),), {"p": 0.5}, grad=False),
            Sample((a(1000),), {"p": 0.5, "seed": 3}, grad=False),
            Sample((a(10, 100),), {"p": 0.5, "seed": 11, "inplace": True}, grad=False),
        ]

    def ref(
        x: np.ndarray, p: float = 0.5, training: bool = True, inplace: bool = False, seed: int | None = None
    ) -> np.ndarray:
        if not training or p == 0.0:
            return x
        if p == 1.0:
            return np.zeros_like(x)
        return np.ones(x.shape, dtype=bool)

    def fixed_mask_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample((nonzero(rng, (3, 4), dtype), 0.5)),
            Sample((nonzero(rng, (6,), dtype), 0.3)),
            Sample((nonzero(rng, (4, 3), dtype), 0.5), noncontig=True),
        ]

    def channel_samples(spatial: int) -> Any:
        def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
            def a(*s: int) -> np.ndarray:
                return nonzero(rng, s, dtype)

            sp = (4, 3, 2)[:spatial]
            return [
                Sample((a(2, 3, *sp),), {"p": 0.0}),
                Sample((a(2, 3, *sp),), {"training": False}),
                Sample((a(2, 3, *sp),), {"p": 1.0}),
                Sample((a(3, *sp),), {"p": 1.0, "inplace": True}),
                Sample((a(4, 6, *sp),), {"p": 0.5}, grad=False),
                Sample((a(6, *sp),), {"p": 0.3, "inplace": True}, grad=False),
                Sample((a(3, 4, *sp),), {"p": 0.5}, noncontig=True, grad=False),
            ]

        return make

    def channel_ref(
        x: np.ndarray, p: float = 0.5, training: bool = True, inplace: bool = False
    ) -> np.ndarray:
        if not training or p == 0.0:
            return x
        if p == 1.0:
            return np.zeros_like(x)
        return np.ones(x.shape, dtype=bool)

    register(
        OpRecord("nn.functional.dropout", dropout, samples, ref, call=_dropout_checked),
        # no numpy reference (the mask is the device's draw): the kit gradchecks this record only
        OpRecord(
            "nn.functional.dropout_fixed_mask",
            dropout,
            fixed_mask_samples,
            None,
            call=_dropout_fixed_mask,
            covers=("nn.functional.dropout",),
            public=False,
        ),
        OpRecord(
            "nn.functional.dropout1d",
            dropout1d,
            channel_samples(1),
            channel_ref,
            call=_channel_dropout_checked(dropout1d, 1),
            errors=(
                ErrorSample(
                    (np.ones((2, 3, 4, 5)),), {}, ValueError, "dropout1d: expected a 2-D \\(unbatched\\)"
                ),
            ),
        ),
        OpRecord(
            "nn.functional.dropout2d",
            dropout2d,
            channel_samples(2),
            channel_ref,
            call=_channel_dropout_checked(dropout2d, 2),
            errors=(
                ErrorSample((np.ones((2, 3)),), {}, ValueError, "dropout2d: expected a 3-D \\(unbatched\\)"),
            ),
        ),
        OpRecord(
            "nn.functional.dropout3d",
            dropout3d,
            channel_samples(3),
            channel_ref,
            call=_channel_dropout_checked(dropout3d, 3),
            errors=(
                ErrorSample(
                    (np.ones((2, 3)),), {"p": 1.5}, ValueError, "dropout3d: probability has to be between"
                ),
            ),
        ),
    )


_records()
_alpha_records()
