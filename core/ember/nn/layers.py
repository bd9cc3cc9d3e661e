"""The layers: Linear, convolutions, pooling, normalisation, embeddings, dropout, activations,
attention. Each is a thin :class:`~ember.nn.Module` over :mod:`ember.nn.functional` and initialises
its parameters like PyTorch, from ember's seeded generator."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

from .. import ops as E
from ..dtypes import as_dtype
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = [
    "Identity",
    "Linear",
    "Bilinear",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "Unfold",
    "Fold",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "MaxPool1d",
    "AvgPool1d",
    "AdaptiveAvgPool1d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "LayerNorm",
    "RMSNorm",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "LocalResponseNorm",
    "GroupNorm",
    "Embedding",
    "EmbeddingBag",
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "AlphaDropout",
    "FeatureAlphaDropout",
    "Flatten",
    "ZeroPad1d",
    "ZeroPad2d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "CircularPad1d",
    "CircularPad2d",
    "PixelShuffle",
    "PixelUnshuffle",
    "Upsample",
    "UpsamplingNearest2d",
    "UpsamplingBilinear2d",
    "CosineSimilarity",
    "PairwiseDistance",
    "Unflatten",
    "ReLU",
    "GELU",
    "SiLU",
    "Tanh",
    "Sigmoid",
    "LeakyReLU",
    "RReLU",
    "ELU",
    "Softplus",
    "Softmax",
    "LogSoftmax",
    "ReLU6",
    "SELU",
    "CELU",
    "Mish",
    "Hardswish",
    "Hardsigmoid",
    "Hardtanh",
    "LogSigmoid",
    "Softsign",
    "Tanhshrink",
    "Threshold",
    "GLU",
    "PReLU",
    "Hardshrink",
    "Softshrink",
    "Softmin",
    "Softmax2d",
    "MultiheadAttention",
    "CrossEntropyLoss",
    "NLLLoss",
    "MSELoss",
    "L1Loss",
    "SmoothL1Loss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "HuberLoss",
    "KLDivLoss",
    "SoftMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MarginRankingLoss",
    "TripletMarginLoss",
    "CosineEmbeddingLoss",
    "PoissonNLLLoss",
    "GaussianNLLLoss",
    "CTCLoss",
]


def _empty(shape: tuple[int, ...], device: Any, dtype: Any) -> Parameter:
    return Parameter(E.empty(shape, dtype=as_dtype(dtype) if dtype is not None else None, device=device))


def _reset_fan_in(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's default for Linear and Conv: kaiming_uniform_(a=sqrt(5)) weight, U(+-1/sqrt(fan_in)) bias."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


class Identity(Module):
    """Returns its input."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        """x unchanged."""
        return x


class Linear(Module):
    """``y = x @ W.T + b`` with W of shape (out_features, in_features)."""

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = _empty((out_features, in_features), device, dtype)
        self.bias = _empty((out_features,), device, dtype) if bias else None
        if not bias:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the parameters with PyTorch's default initialisation."""
        _reset_fan_in(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        """The affine map."""
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear: expected input with {self.in_features} features in the last dim, got "
                f"shape {tuple(x.shape)}; check in_features or flatten the input first"
            )
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )


class Bilinear(Module):
    """``y = x1^T A x2 + b`` with ``weight`` (out_features, in1_features, in2_features), both
    parameters drawn from U(-1/sqrt(in1_features), 1/sqrt(in1_features)) as PyTorch."""

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = _empty((out_features, in1_features, in2_features), device, dtype)
        self.bias = _empty((out_features,), device, dtype) if bias else None
        if not bias:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the parameters with PyTorch's default initialisation."""
        bound = 1 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        """The bilinear map."""
        if x1.shape[-1] != self.in1_features or x2.shape[-1] != self.in2_features:
            raise ValueError(
                f"Bilinear: expected inputs with {self.in1_features} and {self.in2_features} features in "
                f"the last dim, got shapes {tuple(x1.shape)} and {tuple(x2.shape)}"
            )
        return F.bilinear(x1, x2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


class _ConvNd(Module):
    _nd = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must be "
                f"divisible by groups ({groups})"
            )
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(
                f"{name}: padding_mode must be 'zeros', 'reflect', 'replicate' or "
                f"'circular', got {padding_mode!r}"
            )
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"{name}: padding must be 'same', 'valid', an int or a tuple, got {padding!r}")
        nd = self._nd
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = F._pair(kernel_size, nd, "kernel_size", name)
        self.stride = F._pair(stride, nd, "stride", name)
        self.padding = padding if isinstance(padding, str) else F._pair(padding, nd, "padding", name)
        self.dilation = F._pair(dilation, nd, "dilation", name)
        if padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
        self.groups = groups
        self.padding_mode = padding_mode
        self.weight = _empty((out_channels, in_channels // groups) + self.kernel_size, device, dtype)
        self.bias = _empty((out_channels,), device, dtype) if bias else None
        if not bias:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the parameters with PyTorch's default initialisation."""
        _reset_fan_in(self.weight, self.bias)

    def _padded(self, x: Tensor) -> tuple[Tensor, Any]:
        """(input, padding for the conv): non-zero padding modes pad here with ``F.pad``."""
        if self.padding_mode == "zeros":
            return x, self.padding
        pads = F._conv_padding(
            type(self).__name__, self.padding, self.kernel_size, self.dilation, self.stride
        )
        return F.pad(x, pads, mode=self.padding_mode), 0

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._nd:
            s += (
                f", padding={self.padding!r}"
                if isinstance(self.padding, str)
                else f", padding={self.padding}"
            )
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode!r}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) inputs."""

    _nd = 1

    def forward(self, x: Tensor) -> Tensor:
        """The convolution."""
        x, padding = self._padded(x)
        return F.conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) inputs (stride, padding incl. 'same', dilation, groups)."""

    _nd = 2

    def forward(self, x: Tensor) -> Tensor:
        """The convolution."""
        x, padding = self._padded(x)
        return F.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W) inputs (stride, padding incl. 'same', dilation, groups)."""

    _nd = 3

    def forward(self, x: Tensor) -> Tensor:
        """The convolution."""
        x, padding = self._padded(x)
        return F.conv3d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class _ConvTransposeNd(Module):
    """Transposed convolution with PyTorch's parameters: ``weight`` (in_channels,
    out_channels // groups, *kernel_size) and ``bias`` (out_channels,)."""

    _nd = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}")
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must be "
                f"divisible by groups ({groups})"
            )
        nd = self._nd
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = F._pair(kernel_size, nd, "kernel_size", name)
        self.stride = F._pair(stride, nd, "stride", name)
        self.padding = F._pair(padding, nd, "padding", name)
        self.output_padding = F._pair(output_padding, nd, "output_padding", name)
        self.dilation = F._pair(dilation, nd, "dilation", name)
        self.padding_mode = padding_mode
        self.weight = _empty((in_channels, out_channels // groups) + self.kernel_size, device, dtype)
        self.bias = _empty((out_channels,), device, dtype) if bias else None
        if not bias:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the parameters with PyTorch's default initialisation."""
        _reset_fan_in(self.weight, self.bias)

    def _output_padding(self, x: Tensor, output_size: Any) -> tuple[int, ...]:
        """``output_padding``, or the one that gives ``output_size`` (its last ``nd`` entries)."""
        if output_size is None:
            return self.output_padding
        nd = self._nd
        size = list(output_size)[-nd:]
        out = []
        for i in range(nd):
            n_in = x.shape[x.ndim - nd + i]
            smallest = (
                (n_in - 1) * self.stride[i]
                - 2 * self.padding[i]
                + self.dilation[i] * (self.kernel_size[i] - 1)
                + 1
            )
            extra, span = int(size[i]) - smallest, max(self.stride[i], self.dilation[i])
            if not 0 <= extra < span:
                raise ValueError(
                    f"{type(self).__name__}: requested an output size of {tuple(size)}, but valid sizes "
                    f"in dim {i} range from {smallest} to {smallest + span - 1}"
                )
            out.append(extra)
        return tuple(out)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        """The transposed convolution (``output_size`` picks the output padding)."""
        fn = F.conv_transpose1d if self._nd == 1 else F.conv_transpose2d
        return fn(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(input, output_size),
            self.groups,
            self.dilation,
        )

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over (N, C_in, L) inputs."""

    _nd = 1


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over (N, C_in, H, W) inputs."""

    _nd = 2


class Unfold(Module):
    """Sliding local blocks as columns (im2col); see :func:`ember.nn.functional.unfold`."""

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, x: Tensor) -> Tensor:
        """The columns."""
        return F.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
            f"stride={self.stride}"
        )


class Fold(Module):
    """Columns of sliding blocks summed back into an image (col2im); see
    :func:`ember.nn.functional.fold`."""

    def __init__(
        self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
    ) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, x: Tensor) -> Tensor:
        """The folded image."""
        return F.fold(x, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
            f"padding={self.padding}, stride={self.stride}"
        )


class MaxPool2d(Module):
    """Max over windows of (N, C, H, W); see :func:`ember.nn.functional.max_pool2d`. With
    ``return_indices`` the forward returns (values, indices), indices being flat positions
    ``h * W + w`` within each input plane."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.dilation = (
            kernel_size,
            stride if stride is not None else kernel_size,
            padding,
            dilation,
        )
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        """The pooling."""
        return F.max_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    """Mean over windows of (N, C, H, W); see :func:`ember.nn.functional.avg_pool2d`."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = stride if stride is not None else kernel_size
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, x: Tensor) -> Tensor:
        """The pooling."""
        return F.avg_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            ceil_mode=self.ceil_mode,
            count_include_pad=self.count_include_pad,
            divisor_override=self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        """The pooling."""
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class MaxPool1d(MaxPool2d):
    """Max over windows of (N, C, L); see :func:`ember.nn.functional.max_pool1d`. With
    ``return_indices`` the forward returns (values, indices along L)."""

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        """The pooling."""
        return F.max_pool1d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )


class AvgPool1d(Module):
    """Mean over windows of (N, C, L); see :func:`ember.nn.functional.avg_pool1d`."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = stride if stride is not None else kernel_size
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        """The pooling."""
        return F.avg_pool1d(
            x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average pooling of (N, C, L) to a fixed output length."""

    def forward(self, x: Tensor) -> Tensor:
        """The pooling."""
        return F.adaptive_avg_pool1d(x, self.output_size)


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed output size (with ``return_indices``: (values, indices))."""

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, x: Tensor) -> Any:
        """The pooling."""
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """Max pooling of (N, C, L) to a fixed output length (with ``return_indices``: (values, indices))."""

    def forward(self, x: Tensor) -> Any:
        """The pooling."""
        return F.adaptive_max_pool1d(x, self.output_size, self.return_indices)


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


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim`` (N(0, 1) init; the
    ``padding_idx`` row starts at zero and gets no gradient)."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} must be within num_embeddings ({num_embeddings})"
                )
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.weight = _empty((num_embeddings, embedding_dim), device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """N(0, 1), with the padding row zeroed."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            from ..autograd.grad_mode import no_grad

            with no_grad():
                self.weight[self.padding_idx] = 0.0

    @classmethod
    def from_pretrained(
        cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None
    ) -> Embedding:
        """An Embedding whose weight is ``embeddings`` (num_embeddings, embedding_dim), sharing its
        memory, trained only with ``freeze=False``. As PyTorch, the ``padding_idx`` row keeps its
        values (it is not zeroed) but gets no gradient."""
        if embeddings.ndim != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be 2-D (num_embeddings, embedding_dim), "
                f"got shape {tuple(embeddings.shape)}"
            )
        rows, cols = embeddings.shape
        emb = cls(rows, cols, padding_idx=padding_idx, device=embeddings.device, dtype=embeddings.dtype)
        emb.weight = Parameter(embeddings, requires_grad=not freeze)
        return emb

    def forward(self, idx: Tensor) -> Tensor:
        """The rows at ``idx``."""
        return F.embedding(idx, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings (see :func:`ember.nn.functional.embedding_bag`),
    with a ``weight`` (num_embeddings, embedding_dim) drawn from N(0, 1), the ``padding_idx`` row
    zeroed."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight: Tensor | None = None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"EmbeddingBag: padding_idx {padding_idx} must be within num_embeddings "
                    f"({num_embeddings})"
                )
            padding_idx %= num_embeddings
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = _empty((num_embeddings, embedding_dim), device, dtype)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"EmbeddingBag: _weight has shape {tuple(_weight.shape)}, expected "
                    f"({num_embeddings}, {embedding_dim})"
                )
            self.weight = Parameter(_weight)

    def reset_parameters(self) -> None:
        """N(0, 1), with the padding row zeroed."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            from ..autograd.grad_mode import no_grad

            with no_grad():
                self.weight[self.padding_idx] = 0.0

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
    ) -> EmbeddingBag:
        """An EmbeddingBag whose weight is ``embeddings``, trained only with ``freeze=False``."""
        if embeddings.ndim != 2:
            raise ValueError(
                f"EmbeddingBag.from_pretrained: embeddings must be 2-D, got shape {tuple(embeddings.shape)}"
            )
        rows, cols = embeddings.shape
        bag = cls(
            rows,
            cols,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            mode,
            sparse,
            embeddings,
            include_last_offset,
            padding_idx,
        )
        bag.weight.requires_grad_(not freeze)
        return bag

    def forward(
        self, input: Tensor, offsets: Tensor | None = None, per_sample_weights: Tensor | None = None
    ) -> Tensor:
        """The bags' reductions."""
        return F.embedding_bag(
            input,
            self.weight,
            offsets,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.mode,
            self.sparse,
            per_sample_weights,
            self.include_last_offset,
            self.padding_idx,
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s


class Dropout(Module):
    """Zero elements with probability ``p`` while training (scaling the rest by 1/(1-p))."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        """Dropout in training, identity in eval."""
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """Zero whole channels of (N, C, L) with probability ``p`` while training."""

    def forward(self, x: Tensor) -> Tensor:
        """Channel dropout in training, identity in eval."""
        return F.dropout1d(x, self.p, self.training, self.inplace)


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) with probability ``p`` while training."""

    def forward(self, x: Tensor) -> Tensor:
        """Channel dropout in training, identity in eval."""
        return F.dropout2d(x, self.p, self.training, self.inplace)


class Dropout3d(Dropout):
    """Zero whole channels of (N, C, D, H, W) with probability ``p`` while training."""

    def forward(self, x: Tensor) -> Tensor:
        """Channel dropout in training, identity in eval."""
        return F.dropout3d(x, self.p, self.training, self.inplace)


class AlphaDropout(Dropout):
    """Alpha dropout while training (SELU networks keep zero mean and unit variance), identity in
    eval."""

    def forward(self, x: Tensor) -> Tensor:
        """Alpha dropout in training, identity in eval."""
        return F.alpha_dropout(x, self.p, self.training, self.inplace)


class FeatureAlphaDropout(Dropout):
    """Alpha dropout of whole channels of (N, C, *) while training, identity in eval."""

    def forward(self, x: Tensor) -> Tensor:
        """Channel alpha dropout in training, identity in eval."""
        return F.feature_alpha_dropout(x, self.p, self.training, self.inplace)


class Flatten(Module):
    """Merge dims ``start_dim..end_dim`` (default: all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        """The flattened tensor."""
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``sizes``."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        """The reshaped tensor."""
        return x.unflatten(self.dim, self.unflattened_size)


# -- padding, resampling, distances ------------------------------------------------------------------
class _PadNd(Module):
    """Padding of the last ``_n`` dims by ``padding`` (an int for every side, or PyTorch's
    (left, right, top, bottom) tuple) in ``_mode``."""

    _n = 1
    _mode = "constant"

    def __init__(self, padding: int | Sequence[int], value: float = 0.0) -> None:
        super().__init__()
        name = type(self).__name__
        pads = (padding,) * (2 * self._n) if isinstance(padding, int) else tuple(int(p) for p in padding)
        if len(pads) != 2 * self._n:
            raise ValueError(
                f"{name}: padding must be an int or a tuple of {2 * self._n} ints, got {padding!r}"
            )
        self.padding, self.value = pads, value

    def forward(self, x: Tensor) -> Tensor:
        """The padded input."""
        if x.ndim not in (self._n + 1, self._n + 2):
            raise ValueError(
                f"{type(self).__name__}: expected a {self._n + 1}-D or {self._n + 2}-D input, got shape "
                f"{tuple(x.shape)}"
            )
        if self._mode == "constant":
            return F.pad(x, self.padding, "constant", self.value)
        return F.pad(x, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPad(_PadNd):
    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


def _pad_module(name: str, n: int, mode: str, doc: str, base: type = _PadNd, value: bool = False) -> type:
    if value:

        def __init__(self: Module, padding: int | Sequence[int], value: float) -> None:
            _PadNd.__init__(self, padding, value)
    else:

        def __init__(self: Module, padding: int | Sequence[int]) -> None:  # type: ignore[misc]
            _PadNd.__init__(self, padding)

    __init__.__qualname__ = f"{name}.__init__"
    return type(name, (base,), {"_n": n, "_mode": mode, "__doc__": doc, "__init__": __init__})


ZeroPad1d = _pad_module("ZeroPad1d", 1, "constant", "Zero padding of the last dim.")
ZeroPad2d = _pad_module("ZeroPad2d", 2, "constant", "Zero padding of the last two dims.")
ConstantPad1d = _pad_module(
    "ConstantPad1d", 1, "constant", "Padding of the last dim with ``value``.", _ConstantPad, True
)
ConstantPad2d = _pad_module(
    "ConstantPad2d", 2, "constant", "Padding of the last two dims with ``value``.", _ConstantPad, True
)
ReflectionPad1d = _pad_module("ReflectionPad1d", 1, "reflect", "Reflection padding of the last dim.")
ReflectionPad2d = _pad_module("ReflectionPad2d", 2, "reflect", "Reflection padding of the last two dims.")
ReplicationPad1d = _pad_module(
    "ReplicationPad1d", 1, "replicate", "Edge-replicating padding of the last dim."
)
ReplicationPad2d = _pad_module(
    "ReplicationPad2d", 2, "replicate", "Edge-replicating padding of the last two dims."
)
CircularPad1d = _pad_module("CircularPad1d", 1, "circular", "Circular (wrap-around) padding of the last dim.")
CircularPad2d = _pad_module(
    "CircularPad2d", 2, "circular", "Circular (wrap-around) padding of the last two dims."
)


class PixelShuffle(Module):
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r)."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, x: Tensor) -> Tensor:
        """The rearranged input."""
        return F.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W)."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, x: Tensor) -> Tensor:
        """The rearranged input."""
        return F.pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class Upsample(Module):
    """:func:`ember.nn.functional.interpolate` as a module."""

    def __init__(
        self,
        size: Any = None,
        scale_factor: Any = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size, self.mode, self.align_corners = size, mode, align_corners
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, int | float) else scale_factor
        if isinstance(scale_factor, tuple | list):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x: Tensor) -> Tensor:
        """The resampled input."""
        return F.interpolate(
            x, self.size, self.scale_factor, self.mode, self.align_corners, self.recompute_scale_factor
        )

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of (N, C, H, W)."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling of (N, C, H, W) with ``align_corners=True``, as PyTorch."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class CosineSimilarity(Module):
    """:func:`ember.nn.functional.cosine_similarity` along ``dim``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        """The cosine similarity."""
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """:func:`ember.nn.functional.pairwise_distance`: the ``p``-norm of ``x1 - x2 + eps``."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        """The distance."""
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


def _activation(name: str, fn: Any, doc: str, inplace: bool = False) -> type[Module]:
    """A parameterless activation module applying ``fn``; with ``inplace`` its constructor takes
    PyTorch's ``inplace=False`` flag and passes it on."""
    if inplace:

        def init(self: Module, inplace: bool = False) -> None:
            Module.__init__(self)
            self.inplace = inplace

        def forward(self: Module, x: Tensor) -> Tensor:
            return fn(x, inplace=self.inplace)

        def extra_repr(self: Module) -> str:
            return "inplace=True" if self.inplace else ""

        body = {"__init__": init, "forward": forward, "extra_repr": extra_repr}
    else:

        def init(self: Module) -> None:
            Module.__init__(self)

        def forward(self: Module, x: Tensor) -> Tensor:
            return fn(x)

        body = {"__init__": init, "forward": forward}
    forward.__doc__ = "Apply the activation."
    for attr, fn_ in body.items():
        fn_.__name__, fn_.__qualname__ = attr, f"{name}.{attr}"
    return type(name, (Module,), {**body, "__doc__": doc})


ReLU = _activation("ReLU", F.relu, "max(x, 0).", inplace=True)
Tanh = _activation("Tanh", F.tanh, "Hyperbolic tangent.")
Sigmoid = _activation("Sigmoid", F.sigmoid, "The logistic function.")
SiLU = _activation("SiLU", F.silu, "x * sigmoid(x).", inplace=True)
ReLU6 = _activation("ReLU6", F.relu6, "min(max(x, 0), 6).", inplace=True)
SELU = _activation("SELU", F.selu, "scale * elu(x, alpha), self-normalising.", inplace=True)
Mish = _activation("Mish", F.mish, "x * tanh(softplus(x)).", inplace=True)
Hardswish = _activation("Hardswish", F.hardswish, "x * relu6(x + 3) / 6.", inplace=True)
Hardsigmoid = _activation("Hardsigmoid", F.hardsigmoid, "relu6(x + 3) / 6.", inplace=True)
LogSigmoid = _activation("LogSigmoid", F.logsigmoid, "log(sigmoid(x)), computed stably.")
Softsign = _activation("Softsign", F.softsign, "x / (1 + |x|).")
Tanhshrink = _activation("Tanhshrink", F.tanhshrink, "x - tanh(x).")


class CELU(Module):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.celu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Hardtanh(Module):
    """x clamped to [min_val, max_val]."""

    def __init__(
        self,
        min_val: float = -1.0,
        max_val: float = 1.0,
        inplace: bool = False,
        min_value: float | None = None,
        max_value: float | None = None,
    ) -> None:
        super().__init__()
        if min_value is not None or max_value is not None:
            warnings.warn(
                "Hardtanh: keyword arguments min_value and max_value are deprecated; use min_val and max_val",
                DeprecationWarning,
                stacklevel=2,
            )
            min_val = min_val if min_value is None else min_value
            max_val = max_val if max_value is None else max_value
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val ({max_val}); swap them")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class Threshold(Module):
    """x where x > threshold, else ``value``."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.threshold(x, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class GLU(Module):
    """Gated linear unit along ``dim``: first half times the sigmoid of the second."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        """Apply the gate."""
        return F.glu(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class PReLU(Module):
    """x where x > 0, a * x elsewhere, with a learned ``weight`` of ``num_parameters`` slopes (1, or
    one per channel), all starting at ``init``."""

    def __init__(
        self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = _empty((num_parameters,), device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Set every slope to ``init``, as PyTorch."""
        init.constant_(self.weight, self.init)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class GELU(Module):
    """Gaussian error linear unit (``approximate='tanh'`` for the tanh form)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class RReLU(Module):
    """Randomized leaky ReLU: x for x > 0, a * x otherwise, a drawn per element from
    U(lower, upper) while training and (lower + upper) / 2 in eval."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False) -> None:
        super().__init__()
        if lower > upper:
            raise ValueError(
                f"RReLU: lower ({lower}) must be less than or equal to upper ({upper}); swap them or pass "
                "lower <= upper"
            )
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation (random slopes in training)."""
        return F.rrelu(x, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.elu(x, self.alpha, self.inplace)


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.softplus(x, self.beta, self.threshold)


class Softmax(Module):
    """Softmax along ``dim`` (None: PyTorch's deprecated implicit choice, see
    :func:`ember.nn.functional.softmax`)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        """Apply softmax."""
        return F.softmax(x, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably (None: PyTorch's deprecated implicit choice,
    see :func:`ember.nn.functional.softmax`)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        """Apply log-softmax."""
        return F.log_softmax(x, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class MultiheadAttention(Module):
    """Multi-head attention with PyTorch's parameters and layout: ``in_proj_weight`` (3E, E), or
    ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim) and ``v_proj_weight`` (E, vdim) when
    ``kdim`` or ``vdim`` differ from E; ``in_proj_bias`` (3E,); ``out_proj``; with ``add_bias_kv``
    learned ``bias_k`` and ``bias_v`` (1, 1, E) appended to the keys and values; with
    ``add_zero_attn`` a zero key and value appended after them. Inputs (L, N, E), (N, L, E) with
    ``batch_first=True``, or unbatched (L, E). Returns ``(output, attention weights or None)``."""

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                f"embed_dim={embed_dim} and num_heads={num_heads}"
            )
        if embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})"
            )
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if self._qkv_same_embed_dim:
            self.in_proj_weight = _empty((3 * embed_dim, embed_dim), device, dtype)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = _empty((embed_dim, embed_dim), device, dtype)
            self.k_proj_weight = _empty((embed_dim, self.kdim), device, dtype)
            self.v_proj_weight = _empty((embed_dim, self.vdim), device, dtype)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = _empty((3 * embed_dim,), device, dtype)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = _empty((1, 1, embed_dim), device, dtype)
            self.bias_v = _empty((1, 1, embed_dim), device, dtype)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's initialisation: Xavier-uniform projections, zero biases, Xavier-normal bias_k/v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _additive_mask(self, mask: Tensor | None, name: str, dtype: Any) -> Tensor | None:
        """A bool mask (True: not attended) as 0 / -inf in ``dtype``; a float one is added as is."""
        if mask is None:
            return None
        if mask.dtype.is_bool:
            return E.masked_fill(E.zeros(mask.shape, dtype=dtype, device=mask.device), mask, -math.inf)
        if not mask.dtype.is_floating_point:
            raise TypeError(
                f"MultiheadAttention: {name} must be a bool or floating tensor, got {mask.dtype}; "
                f"cast it with .bool()"
            )
        return mask

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """Attend from ``query`` to ``key``/``value``, as PyTorch. ``key_padding_mask`` (N, S) and
        ``attn_mask`` (L, S) or (N * num_heads, L, S) are bool (True: not attended) or float (added
        to the scores). ``is_causal`` masks the future (with an ``attn_mask`` as well, both apply).
        The weights returned (with ``need_weights``) are those applied, after dropout, averaged
        over the heads unless ``average_attn_weights=False``."""
        name = "MultiheadAttention"
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(
                f"{name}: expected query, key and value all 3-D (batched) or all 2-D (unbatched), "
                f"got shapes {tuple(query.shape)}, {tuple(key.shape)} and {tuple(value.shape)}"
            )
        if not batched:
            query, key, value = (t.unsqueeze(0) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        n, lq, e = query.shape
        s = key.shape[1]
        h, hd = self.num_heads, self.head_dim
        if e != self.embed_dim or key.shape[-1] != self.kdim or value.shape[-1] != self.vdim:
            raise ValueError(
                f"{name}: expected query, key and value with {self.embed_dim}, {self.kdim} and "
                f"{self.vdim} features, got shapes {tuple(query.shape)}, {tuple(key.shape)} and "
                f"{tuple(value.shape)}"
            )
        if key.shape[:2] != value.shape[:2]:
            raise ValueError(
                f"{name}: key of shape {tuple(key.shape)} and value of shape {tuple(value.shape)} "
                "must have the same batch and sequence sizes"
            )
        # the mask added to the (N, H, L, S) scores
        mask = self._additive_mask(attn_mask, "attn_mask", query.dtype)
        if mask is not None:
            if mask.ndim == 2 and mask.shape == (lq, s):
                mask = mask.reshape(1, 1, lq, s)
            elif mask.ndim == 3 and mask.shape == (n * h, lq, s):
                mask = mask.reshape(n, h, lq, s)
            else:
                raise ValueError(
                    f"{name}: attn_mask must have shape ({lq}, {s}) or ({n * h}, {lq}, {s}) "
                    f"(N * num_heads, L, S), got {tuple(mask.shape)}"
                )
        kpm = self._additive_mask(key_padding_mask, "key_padding_mask", query.dtype)
        if kpm is not None:
            if kpm.shape != (n, s):
                raise ValueError(
                    f"{name}: key_padding_mask must have shape ({n}, {s}) (batch, source length), "
                    f"got {tuple(key_padding_mask.shape)}"  # type: ignore[union-attr]
                )
            kpm = kpm.reshape(n, 1, 1, s)
            mask = kpm if mask is None else mask + kpm
        if is_causal:
            future = E.triu(E.ones((lq, s), dtype="bool", device=query.device), 1)
            causal = self._additive_mask(future, "is_causal", query.dtype)
            mask = causal if mask is None else mask + causal
        b = self.in_proj_bias
        bq, bk, bv = (b[:e], b[e : 2 * e], b[2 * e :]) if b is not None else (None, None, None)
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            wq, wk, wv = w[:e], w[e : 2 * e], w[2 * e :]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        q = F.linear(query, wq, bq)
        k = F.linear(key, wk, bk)
        v = F.linear(value, wv, bv)
        extra = 0  # key/value positions appended after the source
        if self.bias_k is not None:
            k = E.cat([k, self.bias_k.expand(n, 1, e)], 1)
            v = E.cat([v, self.bias_v.expand(n, 1, e)], 1)
            extra += 1
        q = q.reshape(n, lq, h, hd).transpose(1, 2)
        k = k.reshape(n, s + extra, h, hd).transpose(1, 2)
        v = v.reshape(n, s + extra, h, hd).transpose(1, 2)
        if self.add_zero_attn:
            zeros = E.zeros((n, h, 1, hd), dtype=k.dtype, device=k.device)
            k, v = E.cat([k, zeros], 2), E.cat([v, zeros], 2)
            extra += 1
        if mask is not None and extra:
            mask = F.pad(mask, (0, extra))  # the appended positions are always attended
        scores = (q @ k.mT) * (1.0 / math.sqrt(hd))  # (N, H, L, S + extra)
        if mask is not None:
            scores = scores + mask
        # PyTorch computes the weights it returns with a plain softmax (a query row whose keys
        # are all masked is NaN) and, without need_weights, with scaled_dot_product_attention,
        # where such a row is zero
        attn = F.softmax(scores, -1) if need_weights or mask is None else F._safe_softmax(scores)
        if self.dropout > 0 and self.training:
            attn = F.dropout(attn, self.dropout, True)
        out = (attn @ v).transpose(1, 2).reshape(n, lq, e)
        out = self.out_proj(out)
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        weights = attn.mean(1) if average_attn_weights else attn
        return out, weights.squeeze(0) if not batched else weights


# -- losses as modules -------------------------------------------------------------------------------
class CrossEntropyLoss(Module):
    """:func:`ember.nn.functional.cross_entropy` as a module."""

    def __init__(
        self,
        weight: Tensor | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        self.register_buffer("weight", weight)  # a buffer, as PyTorch: in state_dict, moved by to()
        self.ignore_index, self.reduction = ignore_index, reduction
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The loss."""
        return F.cross_entropy(
            input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing
        )


class NLLLoss(Module):
    """:func:`ember.nn.functional.nll_loss` as a module."""

    def __init__(
        self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean"
    ) -> None:
        super().__init__()
        self.register_buffer("weight", weight)  # a buffer, as PyTorch: in state_dict, moved by to()
        self.ignore_index, self.reduction = ignore_index, reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The loss."""
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class _SimpleLoss(Module):
    _fn: Any = None

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The loss."""
        return type(self)._fn(input, target, reduction=self.reduction)


class MSELoss(_SimpleLoss):
    """Mean squared error."""

    _fn = staticmethod(F.mse_loss)


class L1Loss(_SimpleLoss):
    """Mean absolute error."""

    _fn = staticmethod(F.l1_loss)


class SmoothL1Loss(Module):
    """:func:`ember.nn.functional.smooth_l1_loss` as a module."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__()
        self.reduction, self.beta = reduction, beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The loss."""
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class BCELoss(Module):
    """Binary cross entropy of probabilities."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__()
        self.register_buffer("weight", weight)  # a buffer, as PyTorch: in state_dict, moved by to()
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The loss."""
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(Module):
    """Binary cross entropy of logits (stable)."""

    def __init__(
        self, weight: Tensor | None = None, reduction: str = "mean", pos_weight: Tensor | None = None
    ) -> None:
        super().__init__()
        self.register_buffer("weight", weight)  # buffers, as PyTorch: in state_dict, moved by to()
        self.register_buffer("pos_weight", pos_weight)
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The loss."""
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)


class Hardshrink(Module):
    """x where |x| > lambd, else 0."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.hardshrink(x, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.softshrink(x, self.lambd)


class Softmin(Module):
    """softmax(-x) along ``dim``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        """Apply softmin."""
        return F.softmin(x, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W) (dim -3)."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply softmax over the channels."""
        if x.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected a 3-D or 4-D input, got shape {tuple(x.shape)}")
        return F.softmax(x, -3)


class HuberLoss(Module):
    """:func:`ember.nn.functional.huber_loss` as a module."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__()
        self.reduction, self.delta = reduction, delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The loss."""
        return F.huber_loss(input, target, self.reduction, self.delta)


def _reduction(name: str, size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """A loss module's reduction from PyTorch's deprecated flags (with the warning) or ``reduction``."""
    return F.losses._legacy_reduction(name, size_average, reduce, reduction)


class KLDivLoss(Module):
    """:func:`ember.nn.functional.kl_div` as a module (``reduction='batchmean'`` for the true KL)."""

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        log_target: bool = False,
    ) -> None:
        super().__init__()
        self.reduction = _reduction("KLDivLoss", size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The loss."""
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class SoftMarginLoss(Module):
    """:func:`ember.nn.functional.soft_margin_loss` as a module."""

    def __init__(
        self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__()
        self.reduction = _reduction("SoftMarginLoss", size_average, reduce, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The loss."""
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(Module):
    """:func:`ember.nn.functional.multilabel_soft_margin_loss` as a module (``weight`` a buffer)."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.reduction = _reduction("MultiLabelSoftMarginLoss", size_average, reduce, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The loss."""
        return F.multilabel_soft_margin_loss(input, target, self.weight, reduction=self.reduction)


class MarginRankingLoss(Module):
    """:func:`ember.nn.functional.margin_ranking_loss` as a module."""

    def __init__(
        self,
        margin: float = 0.0,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        self.margin = margin
        self.reduction = _reduction("MarginRankingLoss", size_average, reduce, reduction)

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        """The loss."""
        return F.margin_ranking_loss(input1, input2, target, self.margin, reduction=self.reduction)


class TripletMarginLoss(Module):
    """:func:`ember.nn.functional.triplet_margin_loss` as a module."""

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap
        self.reduction = _reduction("TripletMarginLoss", size_average, reduce, reduction)

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        """The loss."""
        return F.triplet_margin_loss(
            anchor, positive, negative, self.margin, self.p, self.eps, self.swap, reduction=self.reduction
        )


class CosineEmbeddingLoss(Module):
    """:func:`ember.nn.functional.cosine_embedding_loss` as a module."""

    def __init__(
        self,
        margin: float = 0.0,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        self.margin = margin
        self.reduction = _reduction("CosineEmbeddingLoss", size_average, reduce, reduction)

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        """The loss."""
        return F.cosine_embedding_loss(input1, input2, target, self.margin, reduction=self.reduction)


class PoissonNLLLoss(Module):
    """:func:`ember.nn.functional.poisson_nll_loss` as a module."""

    def __init__(
        self,
        log_input: bool = True,
        full: bool = False,
        size_average: bool | None = None,
        eps: float = 1e-8,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        self.log_input, self.full, self.eps = log_input, full, eps
        self.reduction = _reduction("PoissonNLLLoss", size_average, reduce, reduction)

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        """The loss."""
        return F.poisson_nll_loss(
            log_input, target, self.log_input, self.full, eps=self.eps, reduction=self.reduction
        )


class GaussianNLLLoss(Module):
    """:func:`ember.nn.functional.gaussian_nll_loss` as a module."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__()
        self.full, self.eps, self.reduction = full, eps, reduction

    def forward(self, input: Tensor, target: Tensor, var: Tensor | float) -> Tensor:
        """The loss."""
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class CTCLoss(Module):
    """:func:`ember.nn.functional.ctc_loss` as a module."""

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> None:
        super().__init__()
        self.blank, self.reduction, self.zero_infinity = blank, reduction, zero_infinity

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any) -> Tensor:
        """The loss."""
        return F.ctc_loss(
            log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction, self.zero_infinity
        )
