"""Functional forms of the layers and losses (``ember.nn.functional``, usually imported as ``F``).

Everything here composes from core ops, so it runs (and differentiates) on any backend. Convolution
and pooling use im2col: the (padded) input is cut into ``kh * kw`` strided slices that are stacked
into patches, then convolution is one matrix product.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

from .. import dtypes as _dt
from .. import ops as E
from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import attach
from ..ops._core import has_data, kernel
from ..ops.inplace import commit
from ..ops.shape import strides_of
from ..tensor import Tensor, _make

__all__ = [
    "linear",
    "bilinear",
    "relu",
    "relu6",
    "gelu",
    "silu",
    "tanh",
    "sigmoid",
    "leaky_relu",
    "elu",
    "softplus",
    "softmax",
    "log_softmax",
    "dropout",
    "pad",
    "conv1d",
    "conv2d",
    "max_pool2d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
    "batch_norm",
    "layer_norm",
    "group_norm",
    "embedding",
    "one_hot",
    "normalize",
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "unfold2d",
    "scaled_dot_product_attention",
    "flatten",
]

_REDUCTIONS = ("mean", "sum", "none")


def _pair(v: Any, n: int, name: str, op: str) -> tuple[int, ...]:
    if isinstance(v, int):
        return (v,) * n
    t = tuple(int(x) for x in v)
    if len(t) != n:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    return t


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# -- activations -------------------------------------------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` with weight of shape (out_features, in_features)."""
    return E.linear(input, weight, bias)


def bilinear(x1: Tensor, x2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_k = x1 @ weight[k] @ x2 + bias_k`` for weight of shape (out, in1, in2)."""
    out = (x1.unsqueeze(-2).unsqueeze(-2) @ weight) @ x2.unsqueeze(-2).unsqueeze(-1)
    out = out.reshape(out.shape[:-2])
    return out + bias if bias is not None else out


def _maybe_inplace(input: Tensor, fn: Any, inplace: bool, op: str, saves_input: bool = True) -> Tensor:
    """``fn(input)``, or with ``inplace`` ``input`` overwritten by it (and returned), as PyTorch's
    ``inplace=True`` activations do; autograd follows the write like any in-place op. When the
    gradient of ``fn`` needs its input (``saves_input``) and the graph is recorded, ``fn`` runs on
    a copy, so the write does not invalidate what backward reads."""
    if not inplace:
        return fn(input)
    src = input.clone() if saves_input and STATE.enabled and input.requires_grad else input
    return commit(input, fn(src), op)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0); ``inplace=True`` writes the result into ``input`` and returns it."""
    return _maybe_inplace(input, E.relu, inplace, "relu_", saves_input=False)  # backward reads the output


def _relu6(x: Tensor) -> Tensor:
    out = E.clamp(x, 0, 6)
    if not (STATE.enabled and x.requires_grad):
        return out
    # PyTorch's relu6 is hardtanh(0, 6): no gradient at the kinks 0 and 6 themselves (clamp passes it)
    inside = E.logical_and(E.gt(x, 0), E.lt(x, 6))
    return E.where(inside, x, out.detach())


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6), with PyTorch's gradient (zero at 0 and 6); ``inplace=True`` writes the
    result into ``input`` and returns it."""
    return _maybe_inplace(input, _relu6, inplace, "relu6_", saves_input=False)  # backward reads a mask


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit (``approximate='tanh'`` for the tanh form)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return E.gelu(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x); ``inplace=True`` writes the result into ``input`` and returns it."""
    return _maybe_inplace(input, E.silu, inplace, "silu_")


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return E.tanh(input)


def sigmoid(input: Tensor) -> Tensor:
    """The logistic function."""
    return E.sigmoid(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope * x otherwise (``inplace=True``: into ``input``)."""
    return _maybe_inplace(input, lambda x: E.leaky_relu(x, negative_slope), inplace, "leaky_relu_")


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise (``inplace=True``: into ``input``)."""
    return _maybe_inplace(input, lambda x: E.elu(x, alpha), inplace, "elu_")


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta."""
    return E.softplus(input, beta, threshold)


def _softmax_dim(op: str, input: Tensor, dim: int | None, stacklevel: Any) -> int:
    """``dim``, or when it is None PyTorch's deprecated implicit choice (0 for 0-, 1- and 3-D
    inputs, else 1) with PyTorch's warning."""
    if isinstance(stacklevel, bool) or not isinstance(stacklevel, int):
        raise TypeError(
            f"{op}: the third positional argument is _stacklevel (an int, as in PyTorch), got "
            f"{stacklevel!r}; pass the dtype by keyword: {op}(x, dim, dtype=...)"
        )
    if dim is not None:
        return dim
    warnings.warn(
        f"Implicit dimension choice for {op} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return 0 if input.ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """Softmax along ``dim`` (stable: the max is subtracted first), computed in ``dtype`` if given.
    Without ``dim``, PyTorch's deprecated implicit choice (dim 0 for 0-, 1- and 3-D inputs, else 1)
    with a warning."""
    return E.softmax(input, _softmax_dim("softmax", input, dim, _stacklevel), dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """log(softmax(x)) along ``dim``, computed stably as x - logsumexp(x) (in ``dtype`` if given).
    Without ``dim``, PyTorch's deprecated implicit choice, as :func:`softmax`."""
    return E.log_softmax(input, _softmax_dim("log_softmax", input, dim, _stacklevel), dtype)


def flatten(input: Tensor, start_dim: int = 1, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one."""
    return E.flatten(input, start_dim, end_dim)


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


# -- padding and patches -----------------------------------------------------------------------------
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


def _out_size(op: str, size: int, k: int, s: int, d: int, p_total: int) -> int:
    o = (size + p_total - d * (k - 1) - 1) // s + 1
    if o <= 0:
        raise ValueError(
            f"{op}: the kernel (size {k}, dilation {d}) is larger than the padded input "
            f"(size {size} + padding {p_total}); use a smaller kernel or more padding"
        )
    return o


_Pair = tuple[int, int]


def _window_layout(
    shape: tuple[int, ...],
    strides: tuple[int, ...],
    out_hw: _Pair,
    kernel_size: _Pair,
    stride: _Pair,
    dilation: _Pair,
    batch_inner: bool,
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, int]]:
    """The sliding-window view of an (N, C, H, W) layout: its shape, strides, and where its two
    kernel dims are. Ordered (N, C, kh, kw, oh, ow), or (C, kh, kw, N, oh, ow) with ``batch_inner``
    (so a convolution is one (C_out, K) @ (K, N*oh*ow) product). Output positions are innermost,
    so copying the windows reads the source in runs along W."""
    (oh, ow), (kh, kw), (sh, sw), (dh, dw) = out_hw, kernel_size, stride, dilation
    n, c, _, _ = shape
    s0, s1, s2, s3 = strides
    if batch_inner:
        return (c, kh, kw, n, oh, ow), (s1, s2 * dh, s3 * dw, s0, s2 * sh, s3 * sw), (1, 2)
    return (n, c, kh, kw, oh, ow), (s0, s1, s2 * dh, s3 * dw, s2 * sh, s3 * sw), (2, 3)


def _unfold_raw(src: Tensor, out_hw: _Pair, k: _Pair, s: _Pair, d: _Pair, batch_inner: bool) -> Tensor:
    """The windows of ``src`` copied into a fresh contiguous tensor: one strided view, one copy."""
    shape, strides, _ = _window_layout(src.shape, strides_of(src), out_hw, k, s, d, batch_inner)
    dev = src.device
    view = kernel(dev, "as_strided")(src._data, shape, strides, 0)
    data = kernel(dev, "empty")(shape, src.dtype, dev.index)
    kernel(dev, "copy_")(data, view)
    return _make(data, shape, src.dtype, dev)


def _fold_raw(
    g: Tensor, src_shape: tuple[int, ...], out_hw: _Pair, k: _Pair, s: _Pair, d: _Pair, batch_inner: bool
) -> Tensor:
    """The adjoint of :func:`_unfold_raw`: window gradients summed back into a ``src_shape`` tensor.
    One add per kernel position: the windows at one position never overlap each other."""
    dev = g.device
    n, c, h, w = src_shape
    if k == s and d == (1, 1) and h == out_hw[0] * k[0] and w == out_hw[1] * k[1]:
        # the windows tile the input exactly: folding is a permutation, one copy
        order = (3, 0, 4, 1, 5, 2) if batch_inner else (0, 1, 4, 2, 5, 3)
        with no_grad():
            return g.permute(order).reshape(src_shape).contiguous()
    out = E.zeros(src_shape, dtype=g.dtype, device=dev)
    shape, strides, (ki, kj) = _window_layout(src_shape, strides_of(out), out_hw, k, s, d, batch_inner)
    gst = strides_of(g)
    keep = [i for i in range(6) if i not in (ki, kj)]
    sub_shape = tuple(shape[i] for i in keep)
    sub_strides, g_sub = tuple(strides[i] for i in keep), tuple(gst[i] for i in keep)
    as_strided = kernel(dev, "as_strided")
    add_into = dev.kernels.get("add_")  # optional in-place kernel: one pass instead of add + copy
    add, copy_ = kernel(dev, "add"), kernel(dev, "copy_")
    for i in range(k[0]):
        for j in range(k[1]):
            target = as_strided(out._data, sub_shape, sub_strides, i * strides[ki] + j * strides[kj])
            part = as_strided(g._data, sub_shape, g_sub, i * gst[ki] + j * gst[kj])
            if add_into is not None:
                add_into(target, part)
            else:
                copy_(target, add(target, part))
    return out


def _unfold_op(src: Tensor, out_hw: _Pair, k: _Pair, s: _Pair, d: _Pair, batch_inner: bool) -> Tensor:
    out = _unfold_raw(src, out_hw, k, s, d, batch_inner)
    if STATE.enabled and src.requires_grad:
        attach(out, "unfold", lambda g: (_fold_op(g, src.shape, out_hw, k, s, d, batch_inner),), (src,))
    return out


def _fold_op(
    g: Tensor, src_shape: tuple[int, ...], out_hw: _Pair, k: _Pair, s: _Pair, d: _Pair, batch_inner: bool
) -> Tensor:
    out = _fold_raw(g.contiguous(), src_shape, out_hw, k, s, d, batch_inner)
    if STATE.enabled and g.requires_grad:  # create_graph: fold and unfold are each other's adjoint
        attach(out, "fold", lambda gg: (_unfold_op(gg, out_hw, k, s, d, batch_inner),), (g,))
    return out


def unfold2d(
    x: Tensor,
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    op: str = "unfold",
    batch_inner: bool = False,
) -> tuple[Tensor, int, int]:
    """Patches of an already padded (N, C, H, W) input as a contiguous (N, C, kh, kw, oh, ow) tensor,
    or (C, kh, kw, N, oh, ow) with ``batch_inner`` (im2col: one strided view copied once; the
    backward sums the windows back, one add per kernel position), and the output size (oh, ow)."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    oh = _out_size(op, h, kh, sh, dh, 0)
    ow = _out_size(op, w, kw, sw, dw, 0)
    return _unfold_op(x, (oh, ow), (kh, kw), (sh, sw), (dh, dw), batch_inner), oh, ow


def _conv_padding(
    op: str, padding: Any, k: tuple[int, ...], dil: tuple[int, ...], stride: tuple[int, ...]
) -> list[int]:
    """``F.pad`` argument (last dim first) for a conv's ``padding``."""
    nd = len(k)
    if isinstance(padding, str):
        if padding == "valid":
            return [0] * (2 * nd)
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(
                f"{op}: padding='same' is not supported for strided convolutions (stride "
                f"{stride}); give the padding explicitly"
            )
        out: list[int] = []
        for kk, dd in reversed(list(zip(k, dil))):
            total = dd * (kk - 1)
            out += [total // 2, total - total // 2]
        return out
    p = _pair(padding, nd, "padding", op)
    if any(v < 0 for v in p):
        raise ValueError(f"{op}: padding must be non-negative, got {padding!r}")
    out = []
    for v in reversed(p):
        out += [v, v]
    return out


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation, as in PyTorch) of (N, C_in, H, W) with weight
    (C_out, C_in // groups, kh, kw); returns (N, C_out, oh, ow). ``padding`` is an int, a pair,
    'same' or 'valid'."""
    unbatched = input.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
    if input.ndim != 4 or weight.ndim != 4:
        raise ValueError(
            f"conv2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input and a 4-D weight, got "
            f"input of shape {input.shape} and weight of shape {weight.shape}"
        )
    n, c, h, w = input.shape
    cout, cin_g, kh, kw = weight.shape
    if groups < 1 or c % groups or cout % groups:
        raise ValueError(
            f"conv2d: in_channels ({c}) and out_channels ({cout}) must both be divisible by groups ({groups})"
        )
    if cin_g * groups != c:
        raise ValueError(
            f"conv2d: input of shape {input.shape} has {c} channels but weight of shape "
            f"{weight.shape} expects {cin_g * groups} (= {cin_g} per group x {groups} groups); "
            "check in_channels"
        )
    s = _pair(stride, 2, "stride", "conv2d")
    d = _pair(dilation, 2, "dilation", "conv2d")
    if min(s) < 1 or min(d) < 1:
        raise ValueError(f"conv2d: stride and dilation must be positive, got stride {s}, dilation {d}")
    p = _conv_padding("conv2d", padding, (kh, kw), d, s)
    x = pad(input, p) if any(p) else input
    # (N, oh, ow, C, kh*kw), contiguous: the reshapes below are views
    patches, oh, ow = unfold2d(x, (kh, kw), s, d, "conv2d", batch_inner=True)  # (C, kh, kw, N, oh, ow)
    if groups == 1:
        cols = patches.reshape(c * kh * kw, n * oh * ow)
        out = weight.reshape(cout, c * kh * kw) @ cols  # one (C_out, K) @ (K, N*oh*ow) product
    else:
        cols = patches.reshape(groups, cin_g * kh * kw, n * oh * ow)
        out = weight.reshape(groups, cout // groups, cin_g * kh * kw) @ cols  # (G, C_out/G, N*oh*ow)
    out = out.reshape(cout, n, oh, ow).permute(1, 0, 2, 3)
    if bias is not None:
        out = out + bias.reshape(1, cout, 1, 1)
    else:
        out = out.contiguous()
    return out.squeeze(0) if unbatched else out


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution of (N, C_in, L) with weight (C_out, C_in // groups, k); computed as a conv2d
    with a height-1 kernel."""
    unbatched = input.ndim == 2
    if unbatched:
        input = input.unsqueeze(0)
    if input.ndim != 3 or weight.ndim != 3:
        raise ValueError(
            f"conv1d: expected a 2-D (C, L) or 3-D (N, C, L) input and a 3-D weight, got input "
            f"of shape {input.shape} and weight of shape {weight.shape}"
        )
    s = _pair(stride, 1, "stride", "conv1d")[0]
    d = _pair(dilation, 1, "dilation", "conv1d")[0]
    if isinstance(padding, str):
        if padding == "same" and s != 1:
            raise ValueError(
                f"conv1d: padding='same' is not supported for strided convolutions (stride "
                f"{s}); "
                "give the padding explicitly"
            )
        p2: Any = padding
    else:
        p2 = (0, _pair(padding, 1, "padding", "conv1d")[0])
    out = conv2d(input.unsqueeze(2), weight.unsqueeze(2), bias, (1, s), p2, (1, d), groups)
    out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


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


def _pool_pad(
    op: str, x: Tensor, k: _Pair, s: _Pair, d: _Pair, p: _Pair, ceil_mode: bool, value: float
) -> tuple[Tensor, int, int]:
    """``x`` padded by ``p`` on each side, plus (with ``ceil_mode``) enough extra at the bottom and
    right for the last, partial windows to fit, and the output size (oh, ow)."""
    h, w = x.shape[-2:]
    oh = _pool_out_size(op, h, k[0], s[0], d[0], p[0], ceil_mode)
    ow = _pool_out_size(op, w, k[1], s[1], d[1], p[1], ceil_mode)
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
    x, unbatched, k, s, p, d = _pool_args("max_pool2d", input, kernel_size, stride, padding, dilation)
    h, w = x.shape[-2:]
    x, oh, ow = _pool_pad("max_pool2d", x, k, s, d, p, ceil_mode, -math.inf)
    n, c = x.shape[:2]
    # the windows copied once into (N, C, kh, kw, oh, ow): reducing over the leading window dims
    # is a few contiguous elementwise passes, much faster than reducing interleaved strided dims
    patches, _, _ = unfold2d(x, k, s, d, "max_pool2d")
    needs_grad = STATE.enabled and patches.requires_grad
    if not (needs_grad or return_indices):
        out = patches.amax((2, 3))
        return out.squeeze(0) if unbatched else out
    flat = patches.reshape(n, c, k[0] * k[1], oh, ow)
    if needs_grad:
        out = _max_first(flat)
    else:
        out = flat.amax(2)
    if not return_indices:
        return out.squeeze(0) if unbatched else out
    # position q = i * kw + j of the first maximum inside each window
    q = flat.detach().argmax(2, keepdim=True)
    with no_grad():
        # q mapped to the input plane: the window's top-left corner (oi * sh - ph) * W + (oj * sw - pw)
        # plus the offset of (i, j)
        q = q.squeeze(2)
        offsets = [i * d[0] * w + j * d[1] for i in range(k[0]) for j in range(k[1])]
        corners = [[(oi * s[0] - p[0]) * w + oj * s[1] - p[1] for oj in range(ow)] for oi in range(oh)]
        table = E.tensor(offsets, dtype=_dt.int64, device=x.device)
        base = E.tensor(corners, dtype=_dt.int64, device=x.device)
        indices = E.index_select(table, 0, q.reshape(-1)).reshape(q.shape) + base
    if unbatched:
        return out.squeeze(0), indices.squeeze(0)
    return out, indices


def _max_first(flat: Tensor) -> Tensor:
    """amax over dim 2 whose gradient goes to the first maximum of each window alone, as PyTorch's
    max_pool2d (plain amax shares it among ties, which are common after a ReLU). The first-maximum
    mask comes from an equality test and an "already seen" flag carried across the (short) window
    dim, a few elementwise ops per window position: cheaper than an argmax or a cumsum over a
    middle dim plus a gather; a NaN is its window's maximum."""
    with no_grad():
        out = flat.amax(2)
        top = out.unsqueeze(2)
        hit = E.eq(flat, top) | (E.isnan(flat) & E.isnan(top))
        seen = hit[:, :, 0]
        firsts = [seen]
        for q in range(1, flat.shape[2]):
            h = hit[:, :, q]
            firsts.append(h & ~seen)
            seen = seen | h
        mask = E.stack(firsts, 2).to(flat.dtype)
    return attach(out, "max_pool2d", lambda g: (g.unsqueeze(2) * mask,), (flat,))


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
    elements inside input + padding (inside the input alone with ``count_include_pad=False``)."""
    x, unbatched, k, s, p, d = _pool_args("avg_pool2d", input, kernel_size, stride, padding)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError("avg_pool2d: divisor_override must be non-zero, got 0; pass None for the default")
    h, w = x.shape[-2:]
    x, oh, ow = _pool_pad("avg_pool2d", x, k, s, d, p, ceil_mode, 0.0)
    patches, _, _ = unfold2d(x, k, s, d, "avg_pool2d")
    total = patches.sum((2, 3))
    if divisor_override is not None:
        out = total / divisor_override
    else:
        rows = _avg_divisors(h, k[0], s[0], p[0], oh, count_include_pad)
        cols = _avg_divisors(w, k[1], s[1], p[1], ow, count_include_pad)
        if len(set(rows)) == 1 and len(set(cols)) == 1:
            out = total / (rows[0] * cols[0])
        else:
            div = E.tensor([[r * c for c in cols] for r in rows], dtype=total.dtype, device=total.device)
            out = total / div
    return out.squeeze(0) if unbatched else out


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


# -- normalisation -----------------------------------------------------------------------------------
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


# -- embeddings --------------------------------------------------------------------------------------
def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) at the integer indices ``input``; rows at
    ``padding_idx`` get no gradient."""
    if input.dtype.is_floating_point or input.dtype.is_bool:
        raise TypeError(f"embedding: expected integer indices, got {input.dtype}; cast with .long()")
    num = weight.shape[0]
    if padding_idx is not None and not -num <= padding_idx < num:
        raise ValueError(
            f"embedding: padding_idx {padding_idx} must be within num_embeddings ({num}), i.e. in "
            f"[{-num}, {num - 1}]; or pass None"
        )
    flat = input.reshape(-1)
    if flat.numel() and has_data(flat):
        lo, hi = int(flat.min().item()), int(flat.max().item())
        if lo < 0 or hi >= num:
            bad = lo if lo < 0 else hi
            raise IndexError(
                f"embedding: index {bad} is out of range for an embedding with {num} rows "
                f"(valid: 0 .. {num - 1})"
            )
    out = E.index_select(weight, 0, flat)
    if padding_idx is not None and weight.requires_grad and STATE.enabled:
        if padding_idx < 0:
            padding_idx += num
        keep = E.ne(flat, padding_idx).unsqueeze(-1)
        out = E.where(keep, out, out.detach())
    return out.reshape(tuple(input.shape) + (weight.shape[1],))


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """(…, num_classes) int64 tensor with a 1 at each index (num_classes=-1: max index + 1)."""
    if tensor.dtype.is_floating_point or tensor.dtype.is_bool:
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got {tensor.dtype}")
    if num_classes < 0:
        num_classes = int(tensor.max().item()) + 1 if tensor.numel() else 0  # needs values
    if tensor.numel() and has_data(tensor):
        lo, hi = int(tensor.min().item()), int(tensor.max().item())
        if lo < 0 or hi >= num_classes:
            bad = lo if lo < 0 else hi
            raise ValueError(f"one_hot: class values must be in [0, {num_classes}), got {bad}")
    classes = E.arange(num_classes, dtype=tensor.dtype, device=tensor.device)
    return E.eq(tensor.unsqueeze(-1), classes).to(_dt.int64)


# -- losses ------------------------------------------------------------------------------------------
def _class_last(x: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N * d1 * ..., C)."""
    if x.ndim <= 2:
        return x if x.ndim == 2 else x.unsqueeze(0)
    return E.movedim(x, 1, -1).reshape(-1, x.shape[1])


def _check_targets(op: str, target: Tensor, c: int, ignore_index: int) -> None:
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
        raise TypeError(
            f"{op}: ignore_index must be an int, got {ignore_index!r}; PyTorch's legacy size_average "
            "and reduce arguments are not supported (pass reduction= by keyword)"
        )
    if target.numel() == 0 or not has_data(target):
        return
    valid = E.ne(target, ignore_index)
    if not bool(valid.any()):
        return
    t = E.where(valid, target, 0)
    lo, hi = int(t.min().item()), int(t.max().item())
    if lo < 0 or hi >= c:
        bad = lo if lo < 0 else hi
        raise IndexError(
            f"{op}: target {bad} is out of bounds for {c} classes (valid: 0 .. {c - 1}, or "
            f"ignore_index={ignore_index})"
        )


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices ``target`` under log-probabilities ``input``
    ((N, C) or (N, C, d1, ...); target (N,) or (N, d1, ...)). With ``reduction='mean'`` the result is
    divided by the total weight of the non-ignored targets."""
    _check_reduction("nll_loss", reduction)
    if target.dtype.is_floating_point:
        raise TypeError(
            f"nll_loss: expected integer class indices as target, got {target.dtype}; for class "
            "probabilities use cross_entropy"
        )
    c = input.shape[1] if input.ndim >= 2 else input.shape[0]
    expect = (input.shape[0],) + input.shape[2:] if input.ndim >= 2 else ()
    if tuple(target.shape) != expect:
        raise ValueError(
            f"nll_loss: expected target of shape {expect} for input of shape {input.shape}, got "
            f"{target.shape}"
        )
    _check_targets("nll_loss", target, c, ignore_index)
    logp = _class_last(input)
    t = target.reshape(-1)
    valid = E.ne(t, ignore_index)
    safe = E.where(valid, t, 0)
    picked = E.gather(logp, 1, safe.unsqueeze(1)).squeeze(1)
    w = valid.to(input.dtype)
    if weight is not None:
        if weight.shape != (c,):
            raise ValueError(f"nll_loss: weight has shape {weight.shape}, expected ({c},) (one per class)")
        w = w * E.index_select(weight, 0, safe)
    loss = -picked * w
    if reduction == "none":
        return loss.reshape(target.shape)
    if reduction == "sum":
        return loss.sum()
    return _weighted_mean(loss, w.sum())


def _weighted_mean(loss: Tensor, total: Tensor) -> Tensor:
    """``loss.sum() / total``; when every target is ignored (``total`` 0) the result is NaN but the
    gradient zero, as in PyTorch, rather than a NaN gradient (0 * inf) that poisons the parameters."""
    empty = E.eq(total, 0)
    return E.where(empty, math.nan, (loss / E.where(empty, 1.0, total)).sum())


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross entropy between logits ``input`` ((N, C) or (N, C, d1, ...)) and ``target``: class
    indices ((N,) or (N, d1, ...), integer) or class probabilities (same shape as input, float).
    Matches PyTorch, including ``ignore_index``, ``weight`` and ``label_smoothing``."""
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    if input.ndim == 0:
        raise ValueError("cross_entropy: expected input of shape (N, C) or (C,), got a 0-d tensor")
    unbatched = input.ndim == 1
    if unbatched:
        input = input.unsqueeze(0)
        target = target.unsqueeze(0)
    c = input.shape[1]
    logp = E.log_softmax(input, 1)
    if target.dtype.is_floating_point:
        if target.shape != input.shape:
            raise ValueError(
                f"cross_entropy: class-probability target must have the input's shape "
                f"{tuple(input.shape)}, got {tuple(target.shape)}"
            )
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / c
        wshape = (1, c) + (1,) * (input.ndim - 2)
        prod = logp * target
        if weight is not None:
            prod = prod * weight.reshape(wshape)
        loss = -prod.sum(1)
        if unbatched:
            loss = loss.squeeze(0)
        if reduction == "mean":
            return loss.sum() / (input.numel() // c)
        return _reduce(loss, reduction)
    if target.ndim != input.ndim - 1:
        raise ValueError(
            f"cross_entropy: expected target of shape {(input.shape[0],) + input.shape[2:]} "
            f"(class indices) or {tuple(input.shape)} (probabilities) for input of shape "
            f"{tuple(input.shape)}, got {tuple(target.shape)}"
        )
    _check_targets("cross_entropy", target, c, ignore_index)
    nll = nll_loss(logp, target, weight, ignore_index, reduction)
    if label_smoothing > 0:
        lp = _class_last(logp)
        t = target.reshape(-1)
        valid = E.ne(t, ignore_index)
        smooth = -(lp * weight).sum(1) if weight is not None else -lp.sum(1)
        smooth = E.where(valid, smooth, 0.0)
        if reduction == "mean":
            if weight is not None:
                denom = (E.index_select(weight, 0, E.where(valid, t, 0)) * valid.to(weight.dtype)).sum()
            else:
                denom = valid.to(input.dtype).sum()
            sm = _weighted_mean(smooth, denom)
        elif reduction == "sum":
            sm = smooth.sum()
        else:
            sm = smooth.reshape(target.shape)
        nll = nll * (1 - label_smoothing) + sm * (label_smoothing / c)
    if unbatched and reduction == "none":
        nll = nll.squeeze(0)
    return nll


def _check_same_shape(op: str, input: Tensor, target: Tensor) -> None:
    if input.shape != target.shape:
        raise ValueError(
            f"{op}: input of shape {tuple(input.shape)} and target of shape "
            f"{tuple(target.shape)} "
            "differ; make them the same shape (e.g. target.reshape(input.shape))"
        )


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error."""
    _check_reduction("mse_loss", reduction)
    _check_same_shape("mse_loss", input, target)
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean absolute error."""
    _check_reduction("l1_loss", reduction)
    _check_same_shape("l1_loss", input, target)
    return _reduce(E.abs(input - target), reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 * d^2 / beta where |d| < beta, |d| - 0.5 * beta elsewhere."""
    _check_reduction("smooth_l1_loss", reduction)
    _check_same_shape("smooth_l1_loss", input, target)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    d = E.abs(input - target)
    if beta == 0:
        return _reduce(d, reduction)
    loss = E.where(E.lt(d, beta), d * d * (0.5 / beta), d - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5 * d^2 where |d| < delta, delta * (|d| - 0.5 * delta) elsewhere."""
    return smooth_l1_loss(input, target, reduction, delta) * delta


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) for probabilities ``input`` (logs clamped at -100, as PyTorch)."""
    _check_reduction("binary_cross_entropy", reduction)
    _check_same_shape("binary_cross_entropy", input, target)
    if input.numel() and has_data(input):
        with no_grad():
            lo, hi = float(input.min().item()), float(input.max().item())
        if lo < 0 or hi > 1:
            raise ValueError(
                f"binary_cross_entropy: input values must be probabilities in [0, 1], got "
                f"values "
                f"in [{lo}, {hi}]; for logits use binary_cross_entropy_with_logits"
            )
    loss = _bce(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


_BCE_EPS = 9.999999960041972e-13  # PyTorch's EPSILON in the BCE backward: 1e-12 as a float32


def _bce(input: Tensor, target: Tensor) -> Tensor:
    """Elementwise -(t log p + (1 - t) log(1 - p)) (logs clamped at -100) with PyTorch's gradients:
    (p - t) / max(p (1 - p), 1e-12) for p and -logit(p) (unclamped) for t. (The composite's
    gradient would be NaN at p = 0 or 1, where the clamped log has 0 * inf.)"""
    with no_grad():
        logp, log1mp = E.clamp(E.log(input), -100), E.clamp(E.log(1 - input), -100)
        loss = -(target * logp + (1 - target) * log1mp)
    if STATE.enabled and (input.requires_grad or target.requires_grad):

        def backward(g: Tensor) -> tuple[Tensor | None, Tensor | None]:
            gi = gt = None
            if input.requires_grad:
                gi = g * (input - target) / E.clamp(input * (1 - input), _BCE_EPS)
            if target.requires_grad:
                gt = -g * E.log(input / (1 - input))
            return gi, gt

        attach(loss, "binary_cross_entropy", backward, (input, target), (input, target))
    return loss


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross entropy of ``sigmoid(input)``, computed stably from the logits."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    _check_same_shape("binary_cross_entropy_with_logits", input, target)
    # log(1 + exp(-|x|)) + max(-x, 0) == -log(sigmoid(x)), without overflow
    log_sig_neg = E.log1p(E.exp(-E.abs(input))) + E.clamp(-input, 0)
    if pos_weight is not None:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * log_sig_neg
    else:
        loss = (1 - target) * input + log_sig_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# -- attention ---------------------------------------------------------------------------------------
def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    training: bool = True,
) -> Tensor:
    """softmax(q @ k^T * scale + mask) @ v over (..., L, E) tensors. A bool ``attn_mask`` marks the
    positions that may be attended; a float one is added to the scores. A query whose keys are all
    masked gets zeros (and no gradient), as in PyTorch, not NaN."""
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.mT) * scale
    if is_causal:
        lq, lk = query.shape[-2], key.shape[-2]
        causal = E.tril(E.ones((lq, lk), dtype=_dt.bool_, device=query.device))
        scores = E.masked_fill(scores, E.logical_not(causal), -math.inf)
    if attn_mask is not None:
        if attn_mask.dtype.is_bool:
            scores = E.masked_fill(scores, E.logical_not(attn_mask), -math.inf)
        else:
            scores = scores + attn_mask
    attn = _safe_softmax(scores) if is_causal or attn_mask is not None else E.softmax(scores, -1)
    if dropout_p > 0:
        attn = dropout(attn, dropout_p, training)
    return attn @ value


def _safe_softmax(scores: Tensor) -> Tensor:
    """Softmax over the last dim, with rows that are entirely -inf (every key masked) giving zeros
    and a zero gradient, as PyTorch's attention, instead of NaN."""
    with no_grad():
        dead = E.eq(scores.amax(-1, keepdim=True), -math.inf)
    return E.where(dead, 0.0, E.softmax(E.where(dead, 0.0, scores), -1))
