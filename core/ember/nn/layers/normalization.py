"""The normalisation layers: batch norm (:class:`BatchNorm1d`, :class:`BatchNorm2d`, with running
statistics), instance norm (:class:`InstanceNorm1d`, :class:`InstanceNorm2d`), :class:`LayerNorm`,
:class:`RMSNorm`, :class:`GroupNorm` and :class:`LocalResponseNorm`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ... import ops as E
from ...dtypes import as_dtype
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter


class _BatchNorm(Module):
    _dims: tuple[int, ...] = (2,)

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dt = as_dtype(dtype) if dtype is not None else None
        if affine:
            self.weight = Parameter(E.ones(num_features, dtype=dt, device=device))
            self.bias = Parameter(E.zeros(num_features, dtype=dt, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", E.zeros(num_features, dtype=dt, device=device))
            self.register_buffer("running_var", E.ones(num_features, dtype=dt, device=device))
            self.register_buffer("num_batches_tracked", E.zeros((), dtype="int64", device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.zero_()

    def forward(self, x: Tensor) -> Tensor:
        """Normalise with batch stats (training) or running stats (eval)."""
        name = type(self).__name__
        if x.ndim not in self._dims:
            raise ValueError(
                f"{name}: expected a {' or '.join(f'{d}-D' for d in self._dims)} input, got "
                f"shape "
                f"{tuple(x.shape)}"
            )
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{name}: expected {self.num_features} channels in dim 1, got input of shape {tuple(x.shape)}"
            )
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        momentum = self.momentum
        if momentum is None:  # cumulative moving average, as PyTorch
            tracked = self.track_running_stats and self.num_batches_tracked is not None
            momentum = 1.0 / max(int(self.num_batches_tracked.item()), 1) if tracked else 0.0
        # the running stats are updated only while they are tracked (track_running_stats may be
        # switched off after construction: then training uses batch stats and leaves them alone)
        update = not self.training or self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean if update else None,
            self.running_var if update else None,
            self.weight,
            self.bias,
            use_batch,
            momentum,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L)."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W)."""

    _dims = (4,)


class _InstanceNorm(_BatchNorm):
    """Instance normalisation: each sample's channel normalised by its own statistics; running
    stats (with ``track_running_stats``) are used in eval, as PyTorch."""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        if affine and not bias:
            self.register_parameter("bias", None)

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )

    def forward(self, x: Tensor) -> Tensor:
        """Normalise with the instance's stats (training, or without running stats) or the running stats."""
        name = type(self).__name__
        batched = self._dims[-1]
        if x.ndim not in self._dims:
            raise ValueError(
                f"{name}: expected a {batched - 1}-D (unbatched) or {batched}-D input, got shape "
                f"{tuple(x.shape)}"
            )
        unbatched = x.ndim == batched - 1
        xb = x.unsqueeze(0) if unbatched else x
        if self.affine and xb.shape[1] != self.num_features:
            raise ValueError(
                f"{name}: expected {self.num_features} channels in dim {0 if unbatched else 1}, got input of "
                f"shape {tuple(x.shape)}"
            )
        out = F.instance_norm(
            xb,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            self.momentum if self.momentum is not None else 0.0,
            self.eps,
        )
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L)."""

    _dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W)."""

    _dims = (3, 4)


class LayerNorm(Module):
    """Normalisation over the trailing ``normalized_shape`` dims, with an elementwise affine."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = ns, eps, elementwise_affine
        dt = as_dtype(dtype) if dtype is not None else None
        if elementwise_affine:
            self.weight = Parameter(E.ones(ns, dtype=dt, device=device))
            if bias:
                self.bias = Parameter(E.zeros(ns, dtype=dt, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        """The normalisation."""
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class RMSNorm(Module):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` dims, with an
    elementwise ``weight`` (ones); ``eps=None`` is the input dtype's machine epsilon."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float | None = None,
        elementwise_affine: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = ns, eps, elementwise_affine
        dt = as_dtype(dtype) if dtype is not None else None
        if elementwise_affine:
            self.weight = Parameter(E.ones(ns, dtype=dt, device=device))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self) -> None:
        """The weight back to ones."""
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        """The normalisation."""
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class LocalResponseNorm(Module):
    """:func:`ember.nn.functional.local_response_norm` over the channels of (N, C, *)."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x: Tensor) -> Tensor:
        """The normalisation."""
        return F.local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class GroupNorm(Module):
    """Group normalisation of (N, C, *): ``num_channels`` split into ``num_groups`` groups, each
    normalised per sample, then a per-channel affine (weight ones, bias zeros, as PyTorch)."""

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels={num_channels} must be divisible by num_groups={num_groups}; "
                f"choose num_groups among the divisors of {num_channels}"
            )
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        dt = as_dtype(dtype) if dtype is not None else None
        if affine:
            self.weight = Parameter(E.ones(num_channels, dtype=dt, device=device))
            self.bias = Parameter(E.zeros(num_channels, dtype=dt, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """Weight ones, bias zeros."""
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        """The normalisation."""
        if x.ndim >= 2 and x.shape[1] != self.num_channels:
            raise ValueError(
                f"GroupNorm: expected {self.num_channels} channels in dim 1, got input of shape "
                f"{tuple(x.shape)}"
            )
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
