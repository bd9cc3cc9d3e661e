"""Normalisation: batch, layer, group, RMS, instance and local response norm, and
:func:`normalize` (division by a p-norm).

Composites of core ops; batch_norm in training also updates the running statistics in place.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ... import dtypes as _dt
from ... import ops as E
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor

__all__ = [
    "batch_norm",
    "layer_norm",
    "group_norm",
    "normalize",
    "rms_norm",
    "instance_norm",
    "local_response_norm",
]


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over dim 1 of (N, C, ...). In training, normalise with the batch's mean and
    biased variance and update the running stats in place (unbiased variance, as PyTorch); otherwise
    use the running stats."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected at least a 2-D (N, C, ...) input, got shape {input.shape}")
    c = input.shape[1]
    dims = (0,) + tuple(range(2, input.ndim))
    shape = (1, c) + (1,) * (input.ndim - 2)
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and t.shape != (c,):
            raise ValueError(
                f"batch_norm: {name} has shape {t.shape}, expected ({c},) for an input with {c} channels"
            )
    if training:
        count = input.numel() // c
        if count <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input "
                f"of shape {input.shape}"
            )
        mean = input.mean(dims, keepdim=True)
        var = ((input - mean) ** 2).mean(dims, keepdim=True)
        if running_mean is not None and running_var is not None:
            with no_grad():
                m = momentum
                running_mean.mul_(1 - m).add_(mean.detach().reshape(c) * m)
                running_var.mul_(1 - m).add_(var.detach().reshape(c) * (m * count / (count - 1)))
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are required when training=False")
        mean = running_mean.reshape(shape)
        var = running_var.reshape(shape)
    out = (input - mean) * E.rsqrt(var + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def layer_norm(
    input: Tensor,
    normalized_shape: Sequence[int] | int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dims (biased variance), then scale and shift."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not ns:
        raise ValueError(
            "layer_norm: normalized_shape must have at least one dim (the trailing dims to "
            f"normalise over), got {ns}; pass e.g. normalized_shape=input.shape[-1:]"
        )
    if len(ns) > input.ndim or input.shape[input.ndim - len(ns) :] != ns:
        raise ValueError(
            f"layer_norm: normalized_shape {ns} does not match the trailing dims of input of "
            f"shape {input.shape}"
        )
    dims = tuple(range(input.ndim - len(ns), input.ndim))
    mean = input.mean(dims, keepdim=True)
    xc = input - mean
    var = (xc * xc).mean(dims, keepdim=True)
    out = xc * E.rsqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Group normalisation of (N, C, *): the C channels are split into ``num_groups`` groups and each
    sample's group is normalised by its own mean and biased variance, then ``weight`` and ``bias``
    (shape (C,)) scale and shift each channel, as PyTorch."""
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected at least a 2-D (N, C, ...) input, got shape {input.shape}")
    n, c = input.shape[:2]
    if num_groups < 1 or c % num_groups:
        raise ValueError(
            f"group_norm: the number of channels C={c} must be divisible by num_groups={num_groups}; "
            f"choose num_groups among the divisors of {c}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise ValueError(
                f"group_norm: {name} has shape {t.shape}, expected ({c},) for an input with {c} channels"
            )
    group_size = (c // num_groups) * math.prod(input.shape[2:])
    x = input.reshape(n, num_groups, group_size)
    mean = x.mean(2, keepdim=True)
    xc = x - mean
    var = (xc * xc).mean(2, keepdim=True)
    out = (xc * E.rsqrt(var + eps)).reshape(input.shape)
    shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim``."""
    n = E.norm(input, p, dim, keepdim=True)
    return input / E.clamp(n, eps)


def rms_norm(
    input: Tensor,
    normalized_shape: Sequence[int] | int,
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """``x / sqrt(mean(x^2) + eps)`` over the last ``len(normalized_shape)`` dims, times ``weight``;
    ``eps=None`` is the machine epsilon of the input's dtype, as PyTorch."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not ns or len(ns) > input.ndim or input.shape[input.ndim - len(ns) :] != ns:
        raise ValueError(
            f"rms_norm: normalized_shape {ns} does not match the trailing dims of input of shape "
            f"{tuple(input.shape)}; pass normalized_shape=input.shape[-k:]"
        )
    if weight is not None and tuple(weight.shape) != ns:
        raise ValueError(f"rms_norm: weight has shape {tuple(weight.shape)}, expected normalized_shape {ns}")
    if eps is None:
        eps = float(_dt.finfo(input.dtype).eps)  # numpy.finfo refuses bfloat16
    dims = tuple(range(input.ndim - len(ns), input.ndim))
    out = input * E.rsqrt((input * input).mean(dims, keepdim=True) + eps)
    return out * weight if weight is not None else out


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each sample's channel of (N, C, *) by its own mean and biased variance (or, with
    ``use_input_stats=False``, by the running stats), then scale and shift per channel. With input
    stats and running stats given, these are updated in place with the batch average of the
    per-instance mean and unbiased variance, as PyTorch."""
    if input.ndim < 3:
        raise ValueError(
            f"instance_norm: expected at least a 3-D (N, C, *) input, got shape {tuple(input.shape)}"
        )
    n, c = input.shape[:2]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(
                f"instance_norm: {name} has shape {tuple(t.shape)}, expected ({c},) for an input with "
                f"{c} channels"
            )
    shape = (1, c) + (1,) * (input.ndim - 2)
    dims = tuple(range(2, input.ndim))
    if use_input_stats:
        count = math.prod(input.shape[2:])
        if count <= 1:
            raise ValueError(
                f"instance_norm: expected more than 1 spatial element per channel when using input "
                f"stats, got input of shape {tuple(input.shape)}"
            )
        mean = input.mean(dims, keepdim=True)
        xc = input - mean
        var = (xc * xc).mean(dims, keepdim=True)
        if running_mean is not None and running_var is not None:
            with no_grad():
                m = momentum
                running_mean.mul_(1 - m).add_(mean.detach().reshape(n, c).mean(0) * m)
                running_var.mul_(1 - m).add_(var.detach().reshape(n, c).mean(0) * (m * count / (count - 1)))
        out = xc * E.rsqrt(var + eps)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                "instance_norm: running_mean and running_var are required when use_input_stats=False"
            )
        out = (input - running_mean.reshape(shape)) * E.rsqrt(running_var.reshape(shape) + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """``x / (k + alpha * mean of x^2 over the ``size`` neighbouring channels)^beta`` for (N, C, *),
    the window zero-padded at the channel ends (size // 2 before, (size - 1) // 2 after), as PyTorch."""
    if input.ndim < 3:
        raise ValueError(
            f"local_response_norm: expected at least a 3-D (N, C, *) input, got shape {tuple(input.shape)}"
        )
    if size < 1:
        raise ValueError(f"local_response_norm: size must be a positive int, got {size}")
    c = input.shape[1]
    if c == 0 or input.numel() == 0:
        return input * 1
    sq = input * input
    zeros = E.zeros((input.shape[0], 1) + tuple(input.shape[2:]), dtype=input.dtype, device=input.device)
    before, after = size // 2, (size - 1) // 2
    padded = E.cat([zeros] * before + [sq] + [zeros] * after, 1)
    total = padded.narrow(1, 0, c)
    for i in range(1, size):
        total = total + padded.narrow(1, i, c)
    return input / (total * (alpha / size) + k) ** beta


# -- op records ---------------------------------------------------------------------------------
def _batch_norm_call(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
    stats: bool = False,
) -> Tensor:
    """The conformance kit's call for batch_norm. In training the running stats are updated in
    place, so it passes copies (the sample's tensors stay as they were). It returns the output, or
    with ``stats`` the updated running stats, ``cat([running_mean, running_var])``."""
    if training:
        running_mean = running_mean.detach().clone() if running_mean is not None else None
        running_var = running_var.detach().clone() if running_var is not None else None
    out = batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    if not stats:
        return out
    if running_mean is None or running_var is None:
        raise AssertionError("batch_norm running-stats sample without running stats")
    return E.cat([running_mean, running_var])


def _instance_norm_call(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    *args: Any,
    stats: bool = False,
    **kwargs: Any,
) -> Tensor:
    """The conformance kit's call for instance_norm: with input stats, copies of the running stats
    (updated in place); with ``stats`` it returns ``cat([running_mean, running_var])`` after the call."""
    if kwargs.get("use_input_stats", True):  # else the running stats normalise (differentiable inputs)
        running_mean = running_mean.detach().clone() if running_mean is not None else None
        running_var = running_var.detach().clone() if running_var is not None else None
    out = instance_norm(input, running_mean, running_var, *args, **kwargs)
    if not stats:
        return out
    if running_mean is None or running_var is None:
        raise AssertionError("instance_norm running-stats sample without running stats")
    return E.cat([running_mean, running_var])


def _records() -> None:
    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import ErrorSample, Sample, rand_array

    def batch_norm_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        def var(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, 0.5, 2.0)

        return [
            # eval: the running stats normalise (and are differentiable inputs)
            Sample((a(4, 3), a(3), var(3), a(3), a(3))),
            Sample((a(2, 2, 3), a(2), var(2), None, None), {"eps": 1e-3}),
            Sample((a(2, 3, 2, 2), a(3), var(3), a(3), a(3)), grad=False),
            # training: the batch's mean and biased variance normalise
            Sample((a(4, 2), None, None, a(2), a(2)), {"training": True}),
            Sample((a(3, 2, 2), a(2), var(2), a(2), None), {"training": True, "momentum": 0.3}),
            Sample((a(2, 3, 2, 2), a(3), var(3), a(3), a(3)), {"training": True}, grad=False),
            Sample((a(2, 3, 4), None, None, None, None), {"training": True, "eps": 0.1}, grad=False),
            Sample((a(5, 3), a(3), var(3), a(3), a(3)), {"training": True}, noncontig=True),
            Sample((a(3, 4, 2), a(4), var(4), a(4), a(4)), noncontig=True, grad=False),
            Sample((a(4, 3, 2), a(3), var(3), a(3), a(3)), {"training": True}, noncontig="flip", grad=False),
        ]

    def batch_norm_ref(
        x: np.ndarray,
        running_mean: np.ndarray | None,
        running_var: np.ndarray | None,
        weight: np.ndarray | None = None,
        bias: np.ndarray | None = None,
        training: bool = False,
        momentum: float = 0.1,
        eps: float = 1e-5,
        stats: bool = False,
    ) -> np.ndarray:
        c = x.shape[1]
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, c) + (1,) * (x.ndim - 2)
        x64 = x.astype(np.float64)
        if training:
            mean, var = x64.mean(axis=axes), x64.var(axis=axes)
        else:
            mean, var = running_mean.astype(np.float64), running_var.astype(np.float64)
        if stats:
            count = x.size // c
            return np.concatenate(
                [
                    (1 - momentum) * running_mean + momentum * mean,
                    (1 - momentum) * running_var + momentum * var * count / (count - 1),
                ]
            )
        out = (x64 - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
        if weight is not None:
            out = out * weight.reshape(shape)
        if bias is not None:
            out = out + bias.reshape(shape)
        return out

    def running_stats_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        def var(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, 0.5, 2.0)

        return [
            Sample((a(4, 3), a(3), var(3)), {"training": True, "stats": True}, grad=False),
            Sample((a(2, 3, 2, 2), a(3), var(3), a(3), a(3)), {"training": True, "stats": True}, grad=False),
            Sample(
                (a(3, 2, 5), a(2), var(2)), {"training": True, "momentum": 0.5, "stats": True}, grad=False
            ),
            # eval leaves the running stats as they were
            Sample((a(4, 3), a(3), var(3)), {"stats": True}, grad=False),
        ]

    def running_stats_ref(
        x: np.ndarray, running_mean: np.ndarray, running_var: np.ndarray, *args: Any, **kw: Any
    ) -> np.ndarray:
        if not kw.get("training", False):
            return np.concatenate([running_mean, running_var])
        return batch_norm_ref(x, running_mean, running_var, *args, **kw)

    def layer_norm_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(3, 4), 4, a(4), a(4))),
            Sample((a(2, 2, 3), (2, 3), a(2, 3), a(2, 3))),
            Sample((a(2, 4), (4,), None, None), {"eps": 1e-2}),
            Sample((a(2, 3, 5), [5], a(5), None), grad=False),
            Sample((a(2, 3, 4), (3, 4), None, a(3, 4)), grad=False),
            Sample((a(0, 4), 4, a(4), a(4)), grad=False),
            Sample((a(5, 3), 3, a(3), a(3)), noncontig=True),
            Sample((a(3, 4, 2), (4, 2), a(4, 2), a(4, 2)), noncontig="flip", grad=False),
        ]

    def layer_norm_ref(
        x: np.ndarray,
        normalized_shape: Any,
        weight: np.ndarray | None = None,
        bias: np.ndarray | None = None,
        eps: float = 1e-5,
    ) -> np.ndarray:
        nd = 1 if isinstance(normalized_shape, int) else len(normalized_shape)
        axes = tuple(range(x.ndim - nd, x.ndim))
        x64 = x.astype(np.float64)
        out = (x64 - x64.mean(axis=axes, keepdims=True)) / np.sqrt(x64.var(axis=axes, keepdims=True) + eps)
        if weight is not None:
            out = out * weight
        if bias is not None:
            out = out + bias
        return out

    def group_norm_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(2, 4, 2), 2, a(4), a(4))),
            Sample((a(1, 4, 3), 4, None, None), {"eps": 1e-3}),
            Sample((a(2, 6, 2, 2), 3, a(6), a(6)), grad=False),
            Sample((a(2, 6, 3), 1, a(6), None), grad=False),
            Sample((a(3, 4), 2, a(4), a(4)), grad=False),
            Sample((a(2, 6, 2, 2), 6, None, a(6)), grad=False),
            Sample((a(3, 4, 5), 2, a(4), a(4)), noncontig=True, grad=False),
            Sample((a(2, 4, 2), 2, a(4), a(4)), noncontig=True),
            Sample((a(2, 6, 3, 2), 3, a(6), a(6)), noncontig="flip", grad=False),
        ]

    def group_norm_ref(
        x: np.ndarray,
        num_groups: int,
        weight: np.ndarray | None = None,
        bias: np.ndarray | None = None,
        eps: float = 1e-5,
    ) -> np.ndarray:
        n, c = x.shape[:2]
        shape = (1, c) + (1,) * (x.ndim - 2)
        out = np.zeros(x.shape, dtype=np.float64)
        per = c // num_groups
        for i in range(n):
            for g in range(num_groups):
                part = x[i, g * per : (g + 1) * per].astype(np.float64)
                out[i, g * per : (g + 1) * per] = (part - part.mean()) / np.sqrt(part.var() + eps)
        if weight is not None:
            out = out * weight.reshape(shape)
        if bias is not None:
            out = out + bias.reshape(shape)
        return out

    def normalize_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        zero_row = a(3, 4)
        zero_row[1] = 0  # its norm is below eps: divided by eps (0 / eps = 0)
        return [
            Sample((a(3, 4),)),
            Sample((a(3, 4),), {"p": 1.0, "dim": 0}),
            Sample((a(2, 3, 2),), {"p": 3.0, "dim": -1}),
            Sample((a(2, 3),), {"dim": 1, "eps": 10.0}),  # every norm below eps
            Sample((a(5),), {"dim": 0}),
            Sample((zero_row,), {"dim": 1}, grad=False),
            Sample((a(0, 3),), {"dim": 1}, grad=False),
            Sample((a(4, 3),), {"dim": 0}, noncontig=True),
            Sample((a(3, 4),), {"p": 1.0}, noncontig="flip", grad=False),
        ]

    def normalize_ref(x: np.ndarray, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> np.ndarray:
        x64 = x.astype(np.float64)
        norm = (np.abs(x64) ** p).sum(axis=dim, keepdims=True) ** (1 / p)
        return x64 / np.maximum(norm, eps)

    def rms_norm_ref(
        x: np.ndarray, normalized_shape: Any, weight: np.ndarray | None = None, eps: float | None = None
    ) -> np.ndarray:
        ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        eps = float(np.finfo(x.dtype).eps) if eps is None else eps
        axes = tuple(range(x.ndim - len(ns), x.ndim))
        x64 = x.astype(np.float64)
        out = x64 / np.sqrt((x64 * x64).mean(axis=axes, keepdims=True) + eps)
        return out * weight if weight is not None else out

    def rms_norm_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(3, 4), 4, a(4))),
            Sample((a(2, 3, 4), (3, 4), a(3, 4)), {"eps": 1e-3}),
            Sample((a(2, 5), [5])),
            Sample((a(5), 5, a(5))),
            Sample((a(0, 4), 4, a(4)), grad=False),
            Sample((a(4, 3), 3, a(3)), noncontig=True),
            Sample((a(3, 5), 5), noncontig="flip", grad=False),
        ]

    def instance_norm_ref(
        x: np.ndarray,
        running_mean: np.ndarray | None = None,
        running_var: np.ndarray | None = None,
        weight: np.ndarray | None = None,
        bias: np.ndarray | None = None,
        use_input_stats: bool = True,
        momentum: float = 0.1,
        eps: float = 1e-5,
    ) -> np.ndarray:
        c = x.shape[1]
        shape = (1, c) + (1,) * (x.ndim - 2)
        axes = tuple(range(2, x.ndim))
        x64 = x.astype(np.float64)
        if use_input_stats:
            out = (x64 - x64.mean(axis=axes, keepdims=True)) / np.sqrt(
                x64.var(axis=axes, keepdims=True) + eps
            )
        else:
            out = (x64 - running_mean.reshape(shape)) / np.sqrt(running_var.reshape(shape) + eps)
        if weight is not None:
            out = out * weight.reshape(shape)
        if bias is not None:
            out = out + bias.reshape(shape)
        return out

    def instance_norm_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        def var(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, 0.5, 2.0)

        return [
            Sample((a(2, 3, 4),)),
            Sample((a(2, 3, 4), None, None, a(3), a(3)), {"eps": 1e-3}),
            Sample((a(2, 2, 3, 3), a(2), var(2), a(2), a(2)), {"momentum": 0.3}),
            Sample((a(2, 3, 4), a(3), var(3), a(3), a(3)), {"use_input_stats": False}),
            Sample((a(0, 3, 4),), grad=False),
            Sample((a(3, 2, 5),), noncontig=True),
            Sample((a(2, 3, 4), None, None, a(3), None), noncontig="flip", grad=False),
        ]

    def instance_stats_ref(
        x: np.ndarray,
        running_mean: np.ndarray,
        running_var: np.ndarray,
        weight: Any = None,
        bias: Any = None,
        use_input_stats: bool = True,
        momentum: float = 0.1,
        eps: float = 1e-5,
        stats: bool = True,
    ) -> np.ndarray:
        if not use_input_stats:
            return np.concatenate([running_mean, running_var])
        axes = tuple(range(2, x.ndim))
        count = int(np.prod(x.shape[2:]))
        x64 = x.astype(np.float64)
        mean, var = x64.mean(axis=axes).mean(0), x64.var(axis=axes).mean(0) * count / (count - 1)
        return np.concatenate(
            [(1 - momentum) * running_mean + momentum * mean, (1 - momentum) * running_var + momentum * var]
        )

    def instance_stats_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        def var(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, 0.5, 2.0)

        return [
            Sample((a(4, 3, 5), a(3), var(3)), {"stats": True}, grad=False),
            Sample((a(2, 3, 2, 2), a(3), var(3), a(3), a(3)), {"momentum": 0.5, "stats": True}, grad=False),
            Sample((a(2, 3, 4), a(3), var(3)), {"use_input_stats": False, "stats": True}, grad=False),
        ]

    def lrn_ref(
        x: np.ndarray, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
    ) -> np.ndarray:
        x64 = x.astype(np.float64)
        c = x.shape[1]
        sq = x64 * x64
        div = np.zeros_like(x64)
        for ch in range(c):
            lo, hi = max(0, ch - size // 2), min(c, ch + (size - 1) // 2 + 1)
            div[:, ch] = sq[:, lo:hi].sum(axis=1)
        return x64 / (k + alpha / size * div) ** beta

    def lrn_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(2, 5, 3), 3)),
            Sample((a(2, 4, 2, 3), 2), {"alpha": 0.1, "beta": 0.5, "k": 2.0}),
            Sample((a(1, 6, 2, 2, 2), 4, 0.5)),
            Sample((a(1, 3, 4), 1)),
            Sample((a(0, 3, 4), 3), grad=False),
            Sample((a(2, 5, 3), 5, 0.3), noncontig=True),
        ]

    register(
        OpRecord(
            "nn.functional.batch_norm",
            batch_norm,
            batch_norm_samples,
            batch_norm_ref,
            call=_batch_norm_call,
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones((2, 3)), np.zeros(2), np.ones(2)),
                    {},
                    ValueError,
                    "batch_norm: running_mean has shape \\(2,\\), expected \\(3,\\)",
                ),
                ErrorSample(
                    (np.ones((1, 3)), None, None),
                    {"training": True},
                    ValueError,
                    "batch_norm: expected more than 1 value per channel when training",
                ),
                ErrorSample(
                    (np.ones((2, 3)), None, None),
                    {},
                    ValueError,
                    "batch_norm: running_mean and running_var are required when training=False",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.batch_norm_running_stats",
            batch_norm,
            running_stats_samples,
            running_stats_ref,
            call=_batch_norm_call,
            grad=False,
            covers=("nn.functional.batch_norm",),
            public=False,
        ),
        OpRecord(
            "nn.functional.layer_norm",
            layer_norm,
            layer_norm_samples,
            layer_norm_ref,
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones((2, 3)), (4,)),
                    {},
                    ValueError,
                    "layer_norm: normalized_shape \\(4,\\) does not match the trailing dims",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.group_norm",
            group_norm,
            group_norm_samples,
            group_norm_ref,
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones((2, 6, 3)), 4),
                    {},
                    ValueError,
                    "group_norm: the number of channels C=6 must be divisible by num_groups=4",
                ),
            ),
        ),
        OpRecord("nn.functional.normalize", normalize, normalize_samples, normalize_ref),
        OpRecord(
            "nn.functional.rms_norm",
            rms_norm,
            rms_norm_samples,
            rms_norm_ref,
            errors=(
                ErrorSample(
                    (np.ones((2, 3)), 4), {}, ValueError, "rms_norm: normalized_shape \\(4,\\) does not match"
                ),
                ErrorSample(
                    (np.ones((2, 3)), 3, np.ones(2)), {}, ValueError, "rms_norm: weight has shape \\(2,\\)"
                ),
            ),
        ),
        OpRecord(
            "nn.functional.instance_norm",
            instance_norm,
            instance_norm_samples,
            instance_norm_ref,
            call=_instance_norm_call,
            errors=(
                ErrorSample((np.ones((2, 3)),), {}, ValueError, "instance_norm: expected at least a 3-D"),
                ErrorSample(
                    (np.ones((2, 3, 1)),),
                    {},
                    ValueError,
                    "instance_norm: expected more than 1 spatial element",
                ),
                ErrorSample(
                    (np.ones((2, 3, 4)),),
                    {"use_input_stats": False},
                    ValueError,
                    "instance_norm: running_mean and running_var are required",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.instance_norm_running_stats",
            instance_norm,
            instance_stats_samples,
            instance_stats_ref,
            call=_instance_norm_call,
            grad=False,
            covers=("nn.functional.instance_norm",),
            public=False,
        ),
        OpRecord(
            "nn.functional.local_response_norm",
            local_response_norm,
            lrn_samples,
            lrn_ref,
            errors=(
                ErrorSample(
                    (np.ones((2, 3)), 2), {}, ValueError, "local_response_norm: expected at least a 3-D"
                ),
            ),
        ),
    )


_records()
