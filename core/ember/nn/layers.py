"""The layers: Linear, convolutions, pooling, normalisation, embeddings, dropout, activations,
attention. Each is a thin :class:`~ember.nn.Module` over :mod:`ember.nn.functional` and initialises
its parameters like PyTorch, from ember's seeded generator."""

from __future__ import annotations

import math
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
    "Conv1d",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "LayerNorm",
    "GroupNorm",
    "Embedding",
    "Dropout",
    "Flatten",
    "Unflatten",
    "ReLU",
    "GELU",
    "SiLU",
    "Tanh",
    "Sigmoid",
    "LeakyReLU",
    "ELU",
    "Softplus",
    "Softmax",
    "LogSoftmax",
    "MultiheadAttention",
    "CrossEntropyLoss",
    "NLLLoss",
    "MSELoss",
    "L1Loss",
    "SmoothL1Loss",
    "BCELoss",
    "BCEWithLogitsLoss",
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
            stride or kernel_size,
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
        self.kernel_size, self.stride, self.padding = kernel_size, stride or kernel_size, padding
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
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
        use_batch = self.training or self.running_mean is None
        momentum = self.momentum
        if momentum is None:  # cumulative moving average, as PyTorch
            momentum = 1.0 / max(int(self.num_batches_tracked.item()), 1) if self.track_running_stats else 0.0
        return F.batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, use_batch, momentum, self.eps
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

    def forward(self, idx: Tensor) -> Tensor:
        """The rows at ``idx``."""
        return F.embedding(idx, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")


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
    """Softmax along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        """Apply softmax."""
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        """Apply log-softmax."""
        return F.log_softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class MultiheadAttention(Module):
    """Multi-head attention with PyTorch's parameter layout (``in_proj_weight`` (3E, E),
    ``in_proj_bias``, ``out_proj``); inputs (L, N, E), or (N, L, E) with ``batch_first=True``.
    Returns ``(output, averaged attention weights or None)``."""

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})"
            )
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = (
            embed_dim,
            num_heads,
            dropout,
            batch_first,
        )
        self.head_dim = embed_dim // num_heads
        self.in_proj_weight = _empty((3 * embed_dim, embed_dim), device, dtype)
        if bias:
            self.in_proj_bias = Parameter(
                E.zeros(3 * embed_dim, dtype=self.in_proj_weight.dtype, device=device)
            )
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        init.xavier_uniform_(self.in_proj_weight)
        if bias:
            init.zeros_(self.out_proj.bias)

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
        """Attend from ``query`` to ``key``/``value``. ``key_padding_mask`` (N, S) and a bool
        ``attn_mask`` (L, S) mark positions to ignore with True, as in PyTorch."""
        if not self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        n, lq, e = query.shape
        s = key.shape[1]
        h, hd = self.num_heads, self.head_dim
        w = self.in_proj_weight
        b = self.in_proj_bias
        wq, wk, wv = w[:e], w[e : 2 * e], w[2 * e :]
        bq, bk, bv = (b[:e], b[e : 2 * e], b[2 * e :]) if b is not None else (None, None, None)
        q = F.linear(query, wq, bq).reshape(n, lq, h, hd).transpose(1, 2)
        k = F.linear(key, wk, bk).reshape(n, s, h, hd).transpose(1, 2)
        v = F.linear(value, wv, bv).reshape(n, s, h, hd).transpose(1, 2)
        scores = (q @ k.mT) * (1.0 / math.sqrt(hd))  # (N, H, L, S)
        if attn_mask is not None:
            if attn_mask.dtype.is_bool:
                scores = E.masked_fill(scores, attn_mask, -math.inf)
            else:
                scores = scores + attn_mask
        if is_causal:
            causal = E.triu(E.ones((lq, s), dtype="bool", device=query.device), 1)
            scores = E.masked_fill(scores, causal, -math.inf)
        if key_padding_mask is not None:
            scores = E.masked_fill(scores, key_padding_mask.reshape(n, 1, 1, s), -math.inf)
        attn = F.softmax(scores, -1)
        attn_d = F.dropout(attn, self.dropout, self.training) if self.dropout > 0 else attn
        out = (attn_d @ v).transpose(1, 2).reshape(n, lq, e)
        out = self.out_proj(out)
        if not self.batch_first:
            out = out.transpose(0, 1)
        weights = None
        if need_weights:
            weights = attn.mean(1) if average_attn_weights else attn
        return out, weights


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
        self.weight, self.ignore_index, self.reduction = weight, ignore_index, reduction
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
        self.weight, self.ignore_index, self.reduction = weight, ignore_index, reduction

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
        self.weight, self.reduction = weight, reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The loss."""
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(Module):
    """Binary cross entropy of logits (stable)."""

    def __init__(
        self, weight: Tensor | None = None, reduction: str = "mean", pos_weight: Tensor | None = None
    ) -> None:
        super().__init__()
        self.weight, self.reduction, self.pos_weight = weight, reduction, pos_weight

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The loss."""
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)
