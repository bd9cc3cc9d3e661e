"""Convolution, and the im2col window op under it and under pooling.

:func:`unfold2d` is an op of its own, not a composite: its forward and backward drive the device's
raw kernels directly (``as_strided``, ``empty``, ``copy_``, and ``add`` or the optional in-place
``add_``). The forward copies one strided view of the (padded) input into a contiguous patch
tensor; the backward (fold) sums the window gradients back, one add per kernel position. Fold and
unfold are each other's backward, so higher-order gradients work. A kernel missing on a device
resolves as for any core op (the CPU fallback where enabled, else an error naming the op).

:func:`conv2d` and :func:`conv1d` are composites: pad, unfold2d, then one matrix product.
"""

from __future__ import annotations

from typing import Any

from ... import ops as E
from ...autograd.grad_mode import STATE, no_grad
from ...autograd.graph import attach
from ...ops._core import kernel
from ...ops.shape import strides_of
from ...tensor import Tensor, _make
from .padding import pad

__all__ = ["unfold2d", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold", "conv3d"]


def _pair(v: Any, n: int, name: str, op: str) -> tuple[int, ...]:
    if isinstance(v, int):
        return (v,) * n
    t = tuple(int(x) for x in v)
    if len(t) != n:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    return t


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
    fold = dev.kernels.get("fold2d")  # optional: the whole fold in one kernel (real dtypes)
    if fold is not None and not batch_inner and not g.dtype.is_complex and not g.dtype.is_bool:
        return _make(fold(g._data, src_shape, out_hw, k, s, d), src_shape, g.dtype, dev)
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
        src_shape = src.shape  # as recorded (an in-place squeeze_/unsqueeze_ may change src's later)
        attach(out, "unfold", lambda g: (_fold_op(g, src_shape, out_hw, k, s, d, batch_inner),), (src,))
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
    # (N, C, kh, kw, oh, ow), contiguous: the reshapes below are views. One (C_out, K) @ (K, oh*ow)
    # product per sample (a batched matmul, the weight broadcast) gives the (N, C_out, oh*ow) output
    # in place, with no transposing copy of it or of its gradient; the BLAS calls stay small enough
    # to run from cache (on one core, 1.6-1.8x faster than one (C_out, K) @ (K, N*oh*ow) product
    # over all samples, for a digits CNN's 32 x 144 x 4096 convolution; the weight's gradient is the
    # per-sample products summed, which the matmul's backward does for the broadcast weight).
    patches, oh, ow = unfold2d(x, (kh, kw), s, d, "conv2d")
    if groups == 1:
        cols = patches.reshape(n, c * kh * kw, oh * ow)
        out = weight.reshape(cout, c * kh * kw) @ cols  # (N, C_out, oh*ow)
    else:
        cols = patches.reshape(n, groups, cin_g * kh * kw, oh * ow)
        out = weight.reshape(groups, cout // groups, cin_g * kh * kw) @ cols  # (N, G, C_out/G, oh*ow)
    out = out.reshape(n, cout, oh, ow)
    if bias is not None:
        out = out + bias.reshape(1, cout, 1, 1)
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


def _dilate(x: Tensor, dim: int, s: int) -> Tensor:
    """``s - 1`` zeros inserted between neighbours along ``dim``: a stack with zeros and a reshape."""
    if s == 1 or x.shape[dim] == 0:
        return x
    n = x.shape[dim]
    z = E.zeros(x.shape, dtype=x.dtype, device=x.device)
    y = E.stack([x] + [z] * (s - 1), dim + 1)
    y = y.reshape(x.shape[:dim] + (n * s,) + x.shape[dim + 1 :])
    return E.narrow(y, dim, 0, (n - 1) * s + 1)


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """2-D transposed convolution (the gradient of :func:`conv2d` with respect to its input) of
    (N, C_in, H, W) with weight (C_in, C_out // groups, kh, kw); the output is
    ``(H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1`` high (and so wide).
    Computed as a conv2d of the stride-dilated, padded input with the flipped, transposed kernel."""
    op = "conv_transpose2d"
    unbatched = input.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
    if input.ndim != 4 or weight.ndim != 4:
        raise ValueError(
            f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input and a 4-D weight, got input of "
            f"shape {tuple(input.shape)} and weight of shape {tuple(weight.shape)}"
        )
    c, cout_g = weight.shape[0], weight.shape[1]
    kh, kw = weight.shape[2:]
    if groups < 1 or c % groups:
        raise ValueError(f"{op}: the weight's {c} input channels must be divisible by groups ({groups})")
    if input.shape[1] != c:
        raise ValueError(
            f"{op}: input of shape {tuple(input.shape)} has {input.shape[1]} channels but weight of shape "
            f"{tuple(weight.shape)} expects {c}; check in_channels"
        )
    if bias is not None and tuple(bias.shape) != (cout_g * groups,):
        raise ValueError(
            f"{op}: bias has shape {tuple(bias.shape)}, expected ({cout_g * groups},) (the output channels)"
        )
    s = _pair(stride, 2, "stride", op)
    d = _pair(dilation, 2, "dilation", op)
    p = _pair(padding, 2, "padding", op)
    op_ = _pair(output_padding, 2, "output_padding", op)
    if min(s) < 1 or min(d) < 1:
        raise ValueError(f"{op}: stride and dilation must be positive, got stride {s}, dilation {d}")
    if min(p) < 0 or min(op_) < 0:
        raise ValueError(f"{op}: padding and output_padding must be non-negative, got {p} and {op_}")
    if any(o >= max(ss, dd) for o, ss, dd in zip(op_, s, d)):
        raise ValueError(f"{op}: output_padding {op_} must be smaller than either stride {s} or dilation {d}")
    x = _dilate(_dilate(input, 2, s[0]), 3, s[1])
    # each side: dilation * (k - 1) - padding of zeros (a crop where negative), output_padding more at the end
    q = [d[0] * (kh - 1) - p[0], d[1] * (kw - 1) - p[1]]
    x = pad(x, [q[1], q[1] + op_[1], q[0], q[0] + op_[0]])
    # (C_in, C_out/G, kh, kw) -> (C_out, C_in/G, kh, kw), flipped in space
    cin_g = c // groups
    w = weight.reshape(groups, cin_g, cout_g, kh, kw).transpose(1, 2).reshape(groups * cout_g, cin_g, kh, kw)
    w = E.flip(w, (2, 3))
    out = conv2d(x, w, bias, 1, 0, d, groups)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """1-D transposed convolution of (N, C_in, L) with weight (C_in, C_out // groups, k), as a
    :func:`conv_transpose2d` with a height-1 kernel."""
    op = "conv_transpose1d"
    unbatched = input.ndim == 2
    if unbatched:
        input = input.unsqueeze(0)
    if input.ndim != 3 or weight.ndim != 3:
        raise ValueError(
            f"{op}: expected a 2-D (C, L) or 3-D (N, C, L) input and a 3-D weight, got input of shape "
            f"{tuple(input.shape)} and weight of shape {tuple(weight.shape)}"
        )
    s, p, o, d = (
        _pair(v, 1, name, op)[0]
        for name, v in (
            ("stride", stride),
            ("padding", padding),
            ("output_padding", output_padding),
            ("dilation", dilation),
        )
    )
    out = conv_transpose2d(
        input.unsqueeze(2), weight.unsqueeze(2), bias, (1, s), (0, p), (0, o), groups, (1, d)
    ).squeeze(2)
    return out.squeeze(0) if unbatched else out


def _im2col_args(op: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> tuple[_Pair, ...]:
    k, d = _pair(kernel_size, 2, "kernel_size", op), _pair(dilation, 2, "dilation", op)
    p, s = _pair(padding, 2, "padding", op), _pair(stride, 2, "stride", op)
    if min(k) < 1 or min(d) < 1 or min(s) < 1 or min(p) < 0:
        raise ValueError(
            f"{op}: kernel_size, dilation and stride must be positive and padding non-negative, got "
            f"kernel_size={k}, dilation={d}, padding={p}, stride={s}"
        )
    return k, d, p, s  # type: ignore[return-value]


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """The sliding local blocks of (N, C, H, W) (or (C, H, W)) as columns: (N, C * kh * kw, L), L the
    number of block positions (im2col), as PyTorch's ``unfold``."""
    op = "unfold"
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    if x.ndim != 4:
        raise ValueError(
            f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {tuple(input.shape)}"
        )
    k, d, p, s = _im2col_args(op, kernel_size, dilation, padding, stride)
    if any(p):
        x = pad(x, [p[1], p[1], p[0], p[0]])
    patches, oh, ow = unfold2d(x, k, s, d, op)
    n, c = x.shape[:2]
    out = patches.reshape(n, c * k[0] * k[1], oh * ow)
    return out.squeeze(0) if unbatched else out


def fold(
    input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
) -> Tensor:
    """Sums columns of sliding local blocks (N, C * kh * kw, L) (or unbatched) back into an
    (N, C, *output_size) tensor (col2im, the adjoint of :func:`unfold`), as PyTorch's ``fold``."""
    op = "fold"
    unbatched = input.ndim == 2
    cols = input.unsqueeze(0) if unbatched else input
    if cols.ndim != 3:
        raise ValueError(
            f"{op}: expected a 2-D or 3-D (N, C * kh * kw, L) input, got shape {tuple(input.shape)}"
        )
    k, d, p, s = _im2col_args(op, kernel_size, dilation, padding, stride)
    out_hw = _pair(output_size, 2, "output_size", op)
    n, ck, length = cols.shape
    if ck % (k[0] * k[1]):
        raise ValueError(
            f"{op}: expected the size of dim 1 of input ({ck}) to be divisible by the product of kernel_size "
            f"({k[0] * k[1]})"
        )
    h, w = out_hw[0] + 2 * p[0], out_hw[1] + 2 * p[1]
    oh, ow = _out_size(op, h, k[0], s[0], d[0], 0), _out_size(op, w, k[1], s[1], d[1], 0)
    if oh * ow != length:
        raise ValueError(
            f"{op}: the input's last dim ({length}) must be the number of sliding blocks, {oh} * {ow} = "
            f"{oh * ow} for output_size {out_hw}, kernel_size {k}, dilation {d}, padding {p}, stride {s}"
        )
    c = ck // (k[0] * k[1])
    blocks = cols.reshape(n, c, k[0], k[1], oh, ow)
    out = _fold_op(blocks, (n, c, h, w), (oh, ow), k, s, d, False)
    if any(p):
        out = out[:, :, p[0] : p[0] + out_hw[0], p[1] : p[1] + out_hw[1]]
    return out.squeeze(0) if unbatched else out


def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """3-D convolution of (N, C_in, D, H, W) (or unbatched) with weight (C_out, C_in // groups, kd,
    kh, kw): the sum over the kernel's depth offsets of 2-D convolutions of the matching depth
    slices (each a :func:`conv2d` over all output depths at once). ``padding`` is an int, a
    triple, 'same' or 'valid'."""
    op = "conv3d"
    unbatched = input.ndim == 4
    x = input.unsqueeze(0) if unbatched else input
    if x.ndim != 5 or weight.ndim != 5:
        raise ValueError(
            f"{op}: expected a 4-D (C, D, H, W) or 5-D (N, C, D, H, W) input and a 5-D weight, got input of "
            f"shape {tuple(input.shape)} and weight of shape {tuple(weight.shape)}"
        )
    n, c = x.shape[:2]
    cout, cin_g, kd, kh, kw = weight.shape
    if groups < 1 or c % groups or cout % groups or cin_g * groups != c:
        raise ValueError(
            f"{op}: input of shape {tuple(input.shape)} has {c} channels but weight of shape "
            f"{tuple(weight.shape)} expects {cin_g * groups} (= {cin_g} per group x {groups} groups), and "
            "both channel counts must be divisible by groups; check in_channels and groups"
        )
    s = _pair(stride, 3, "stride", op)
    d = _pair(dilation, 3, "dilation", op)
    if min(s) < 1 or min(d) < 1:
        raise ValueError(f"{op}: stride and dilation must be positive, got stride {s}, dilation {d}")
    p = _conv_padding(op, padding, (kd, kh, kw), d, s)
    x = pad(x, p) if any(p) else x
    depth = x.shape[2]
    od = _out_size(op, depth, kd, s[0], d[0], 0)
    total = None
    for i in range(kd):
        start = i * d[0]
        slab = x[:, :, start : start + s[0] * (od - 1) + 1 : s[0]]  # (N, C, od, H, W)
        slab = slab.permute(0, 2, 1, 3, 4).reshape(n * od, c, x.shape[3], x.shape[4])
        part = conv2d(slab, weight[:, :, i], None, s[1:], 0, d[1:], groups)
        total = part if total is None else total + part
    oh, ow = total.shape[-2:]
    out = total.reshape(n, od, cout, oh, ow).permute(0, 2, 1, 3, 4)
    if bias is not None:
        out = out + bias.reshape(1, cout, 1, 1, 1)
    else:
        out = out.contiguous()
    return out.squeeze(0) if unbatched else out


# -- op records ---------------------------------------------------------------------------------
def _np_conv(
    x: Any,
    w: Any,
    b: Any,
    stride: tuple[int, ...],
    pads: list[tuple[int, int]],
    dil: tuple[int, ...],
    groups: int,
) -> Any:
    """Reference N-d convolution (cross-correlation) of batched (N, C, *spatial) numpy arrays: a sum
    over the kernel offsets of strided slices of the zero-padded input times the weight."""
    import itertools

    import numpy as np

    xp = np.pad(x.astype(np.float64), [(0, 0), (0, 0)] + pads)
    n, c = x.shape[:2]
    cout, cin_g = w.shape[:2]
    ks = w.shape[2:]
    outs = tuple((xp.shape[2 + i] - dil[i] * (ks[i] - 1) - 1) // stride[i] + 1 for i in range(len(ks)))
    out = np.zeros((n, cout) + outs)
    per_group = cout // groups
    for offs in itertools.product(*(range(k) for k in ks)):
        window = (slice(None), slice(None)) + tuple(
            slice(o * d, o * d + s * (m - 1) + 1, s) for o, d, s, m in zip(offs, dil, stride, outs)
        )
        patch = xp[window]  # (N, C, *outs)
        for g in range(groups):
            wg = w[g * per_group : (g + 1) * per_group, :, *offs].astype(np.float64)  # (per_group, cin_g)
            xg = patch[:, g * cin_g : (g + 1) * cin_g]
            out[:, g * per_group : (g + 1) * per_group] += np.einsum("oc,nc...->no...", wg, xg)
    if b is not None:
        out += b.reshape((1, cout) + (1,) * len(ks))
    return out


def _np_conv_args(
    x: Any, w: Any, b: Any, stride: Any, padding: Any, dilation: Any, groups: int, nd: int
) -> Any:
    """The reference for conv1d (nd=1) / conv2d (nd=2) with PyTorch's argument forms."""

    def tup(v: Any) -> tuple[int, ...]:
        return (v,) * nd if isinstance(v, int) else tuple(v)

    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x[None]
    s, d = tup(stride), tup(dilation)
    ks = w.shape[2:]
    if padding == "valid":
        pads = [(0, 0)] * nd
    elif padding == "same":
        pads = [(d[i] * (ks[i] - 1) // 2, d[i] * (ks[i] - 1) - d[i] * (ks[i] - 1) // 2) for i in range(nd)]
    else:
        pads = [(p, p) for p in tup(padding)]
    out = _np_conv(x, w, b, s, pads, d, groups)
    return out[0] if unbatched else out


def _np_conv_transpose(
    x: Any,
    w: Any,
    b: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Any:
    """Reference transposed convolution by its definition: every input element scatters its
    products with the kernel into the full output at ``i * stride + k * dilation``, which is then
    cropped by ``padding`` (and extended by ``output_padding``)."""
    import itertools

    import numpy as np

    nd = w.ndim - 2
    unbatched = x.ndim == nd + 1
    x = x[None] if unbatched else x

    def tup(v: Any) -> tuple[int, ...]:
        return (v,) * nd if isinstance(v, int) else tuple(v)

    s, p, o, d = tup(stride), tup(padding), tup(output_padding), tup(dilation)
    n, c = x.shape[:2]
    cin_g, cout_g = c // groups, w.shape[1]
    ks, ins = w.shape[2:], x.shape[2:]
    full = tuple((i - 1) * ss + dd * (k - 1) + 1 + oo for i, ss, dd, k, oo in zip(ins, s, d, ks, o))
    out = np.zeros((n, cout_g * groups) + full)
    for offs in itertools.product(*(range(k) for k in ks)):
        dst = (slice(None), slice(None)) + tuple(
            slice(k * dd, k * dd + (i - 1) * ss + 1, ss) for k, dd, ss, i in zip(offs, d, s, ins)
        )
        for g in range(groups):
            wg = w[g * cin_g : (g + 1) * cin_g, :, *offs].astype(np.float64)  # (cin_g, cout_g)
            xg = x[:, g * cin_g : (g + 1) * cin_g].astype(np.float64)
            contrib = np.einsum("co,nc...->no...", wg, xg)
            out[(slice(None), slice(g * cout_g, (g + 1) * cout_g)) + dst[2:]] += contrib
    crop = (slice(None), slice(None)) + tuple(slice(pp, f - pp) for pp, f in zip(p, full))
    out = out[crop]
    if b is not None:
        out = out + b.reshape((1, -1) + (1,) * nd)
    return out[0] if unbatched else out


def _unfold_call(
    x: Tensor, kernel_size: _Pair, stride: _Pair, dilation: _Pair, batch_inner: bool = False
) -> Tensor:
    """unfold2d's patches (it returns (patches, oh, ow)); checks that (oh, ow) are the patches'
    last two dims."""
    patches, oh, ow = unfold2d(x, kernel_size, stride, dilation, batch_inner=batch_inner)
    if patches.shape[-2:] != (oh, ow):
        raise AssertionError(f"unfold2d: returned (oh, ow) = {(oh, ow)} for patches of shape {patches.shape}")
    return patches


def _records() -> None:
    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import ErrorSample, Sample, rand_array

    def conv2d_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -1, 1)

        return [
            Sample((a(1, 2, 3, 3), a(2, 2, 2, 2), a(2))),
            Sample((a(1, 2, 4, 4), a(2, 2, 2, 2), None), {"stride": 2, "padding": 1}),
            Sample((a(1, 2, 4, 3), a(4, 1, 2, 2), a(4)), {"groups": 2}),
            Sample((a(1, 1, 5, 4), a(1, 1, 2, 2), None), {"dilation": (2, 1), "padding": "same"}),
            Sample((a(2, 3, 5, 5), a(4, 3, 3, 3), a(4)), grad=False),
            Sample((a(2, 3, 6, 5), a(4, 3, 3, 2), a(4)), {"stride": (2, 1), "padding": (1, 0)}, grad=False),
            Sample((a(1, 2, 7, 7), a(3, 2, 3, 3), a(3)), {"dilation": 2, "padding": 2}, grad=False),
            Sample(
                (a(2, 4, 6, 6), a(6, 2, 3, 2), None),
                {"stride": (1, 2), "padding": (2, 1), "dilation": (1, 2), "groups": 2},
                grad=False,
            ),
            Sample((a(1, 3, 4, 4), a(3, 1, 2, 2), a(3)), {"groups": 3}, grad=False),  # depthwise
            Sample((a(1, 2, 5, 6), a(3, 2, 4, 3), a(3)), {"padding": "same"}, grad=False),  # even kernel
            Sample((a(1, 2, 5, 6), a(3, 2, 2, 3), a(3)), {"padding": "valid"}, grad=False),
            Sample((a(2, 3, 4, 4), a(5, 3, 1, 1), a(5)), grad=False),  # 1x1
            Sample((a(3, 5, 5), a(2, 3, 3, 3), a(2)), {"padding": 1}, grad=False),  # unbatched
            Sample((a(0, 2, 4, 4), a(3, 2, 2, 2), a(3)), grad=False),
            Sample(
                (a(2, 3, 5, 4), a(4, 3, 3, 2), a(4)), {"stride": 2, "padding": 1}, noncontig=True, grad=False
            ),
            Sample((a(1, 2, 3, 3), a(2, 2, 2, 2), a(2)), {"padding": 1}, noncontig=True),
            Sample((a(2, 2, 5, 5), a(4, 1, 3, 3), a(4)), {"groups": 2}, noncontig="flip", grad=False),
        ]

    def conv2d_ref(
        x: np.ndarray,
        w: np.ndarray,
        b: np.ndarray | None,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
    ) -> np.ndarray:
        return _np_conv_args(x, w, b, stride, padding, dilation, groups, 2)

    def conv1d_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -1, 1)

        return [
            Sample((a(1, 2, 5), a(2, 2, 3), a(2))),
            Sample((a(2, 2, 6), a(2, 2, 2), None), {"stride": 2, "padding": 1}),
            Sample((a(1, 4, 5), a(2, 2, 2), a(2)), {"groups": 2, "dilation": 2}),
            Sample((a(1, 2, 6), a(2, 2, 2), a(2)), {"dilation": 3, "padding": "same"}),
            Sample((a(3, 4), a(2, 3, 3), a(2)), {"padding": 1}),  # unbatched
            Sample(
                (a(2, 3, 9), a(4, 3, 3), a(4)), {"stride": 3, "padding": (2,), "dilation": (2,)}, grad=False
            ),
            Sample((a(2, 6, 8), a(6, 1, 3), None), {"groups": 6, "padding": "valid"}, grad=False),
            Sample((a(2, 3, 8), a(4, 3, 4), a(4)), {"padding": "same"}, grad=False),
            Sample((a(0, 3, 8), a(4, 3, 4), a(4)), grad=False),
            Sample((a(2, 3, 7), a(4, 3, 3), a(4)), {"padding": 1}, noncontig=True, grad=False),
            Sample((a(2, 3, 7), a(4, 3, 3), a(4)), {"stride": 2}, noncontig="flip", grad=False),
        ]

    def conv1d_ref(
        x: np.ndarray,
        w: np.ndarray,
        b: np.ndarray | None,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
    ) -> np.ndarray:
        return _np_conv_args(x, w, b, stride, padding, dilation, groups, 1)

    def unfold_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(1, 2, 3, 3), (2, 2), (1, 1), (1, 1))),  # overlapping windows
            Sample((a(1, 1, 4, 4), (2, 2), (2, 2), (1, 1))),  # windows tile the input
            Sample((a(1, 1, 4, 5), (2, 2), (1, 2), (2, 1)), {"batch_inner": True}),
            Sample((a(2, 3, 5, 6), (3, 2), (1, 1), (1, 1)), grad=False),
            Sample((a(2, 3, 6, 6), (2, 3), (2, 1), (2, 2)), {"batch_inner": True}, grad=False),
            Sample((a(2, 2, 6, 4), (3, 2), (3, 2), (1, 1)), {"batch_inner": True}, grad=False),
            Sample((a(0, 2, 4, 4), (2, 2), (1, 1), (1, 1)), grad=False),
            Sample((a(2, 2, 4, 5), (2, 2), (1, 2), (1, 1)), noncontig=True, grad=False),
            Sample((a(1, 2, 3, 3), (2, 2), (1, 1), (1, 1)), {"batch_inner": True}, noncontig=True),
            Sample((a(2, 2, 5, 4), (2, 3), (2, 1), (1, 1)), noncontig="flip", grad=False),
        ]

    def unfold_ref(
        x: np.ndarray, kernel_size: tuple, stride: tuple, dilation: tuple, batch_inner: bool = False
    ) -> np.ndarray:
        n, c, h, w = x.shape
        (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
        oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
        out = np.zeros((n, c, kh, kw, oh, ow), dtype=x.dtype)
        for i in range(kh):
            for j in range(kw):
                for oi in range(oh):
                    for oj in range(ow):
                        out[:, :, i, j, oi, oj] = x[:, :, oi * sh + i * dh, oj * sw + j * dw]
        return out.transpose(1, 2, 3, 0, 4, 5) if batch_inner else out

    def conv_transpose_samples(nd: int) -> Any:
        def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
            def a(*sh: int) -> np.ndarray:
                return rand_array(rng, sh, dtype)

            sp = (4, 3)[:nd] if nd == 2 else (5,)
            k = (3, 2) if nd == 2 else (3,)
            return [
                Sample((a(2, 4, *sp), a(4, 3, *k), a(3))),
                Sample((a(1, 4, *sp), a(4, 3, *k)), {"stride": 2}),
                Sample((a(1, 4, *sp), a(4, 3, *k), a(3)), {"stride": 2, "padding": 1, "output_padding": 1}),
                Sample((a(1, 4, *sp), a(4, 2, *k), a(4)), {"groups": 2, "dilation": 2}),
                Sample((a(4, *sp), a(4, 3, *k), a(3)), {"stride": 3, "padding": 2}),  # unbatched
                Sample((a(2, 4, *sp), a(4, 1, *k)), {"groups": 4, "stride": 2}, grad=False),
                Sample((a(0, 4, *sp), a(4, 3, *k), a(3)), grad=False),
                Sample((a(2, 4, *sp), a(4, 3, *k), a(3)), {"stride": 2}, noncontig=True),
            ]

        return make

    def two(v: Any) -> tuple[int, int]:
        return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))

    def np_unfold(
        x: np.ndarray, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
    ) -> np.ndarray:
        unbatched = x.ndim == 3
        x = x[None] if unbatched else x
        (kh, kw), (dh, dw), (ph, pw), (sh, sw) = two(kernel_size), two(dilation), two(padding), two(stride)
        xp = np.pad(x.astype(np.float64), [(0, 0), (0, 0), (ph, ph), (pw, pw)])
        n, c, h, w = xp.shape
        oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
        out = np.zeros((n, c, kh, kw, oh, ow))
        for i in range(kh):
            for j in range(kw):
                out[:, :, i, j] = xp[
                    :, :, i * dh : i * dh + sh * (oh - 1) + 1 : sh, j * dw : j * dw + sw * (ow - 1) + 1 : sw
                ]
        out = out.reshape(n, c * kh * kw, oh * ow)
        return out[0] if unbatched else out

    def np_fold(
        cols: np.ndarray,
        output_size: Any,
        kernel_size: Any,
        dilation: Any = 1,
        padding: Any = 0,
        stride: Any = 1,
    ) -> np.ndarray:
        unbatched = cols.ndim == 2
        cols = cols[None] if unbatched else cols
        (kh, kw), (dh, dw), (ph, pw), (sh, sw) = two(kernel_size), two(dilation), two(padding), two(stride)
        (h0, w0) = two(output_size)
        h, w = h0 + 2 * ph, w0 + 2 * pw
        oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
        n = cols.shape[0]
        c = cols.shape[1] // (kh * kw)
        blocks = cols.astype(np.float64).reshape(n, c, kh, kw, oh, ow)
        out = np.zeros((n, c, h, w))
        for i in range(kh):
            for j in range(kw):
                out[
                    :, :, i * dh : i * dh + sh * (oh - 1) + 1 : sh, j * dw : j * dw + sw * (ow - 1) + 1 : sw
                ] += blocks[:, :, i, j]
        out = out[:, :, ph : ph + h0, pw : pw + w0]
        return out[0] if unbatched else out

    def im2col_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*sh: int) -> np.ndarray:
            return rand_array(rng, sh, dtype)

        return [
            Sample((a(2, 3, 4, 5), 2)),
            Sample((a(1, 2, 6, 5), (3, 2)), {"dilation": (1, 2), "padding": 1, "stride": (2, 1)}),
            Sample((a(3, 4, 4), 3), {"padding": 1}),  # unbatched
            Sample((a(0, 2, 4, 4), 2), grad=False),
            Sample((a(2, 2, 5, 4), 2), {"stride": 2}, noncontig=True),
        ]

    def fold_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*sh: int) -> np.ndarray:
            return rand_array(rng, sh, dtype)

        return [
            Sample((a(2, 12, 12), (4, 5), 2)),  # 3 channels, 3 x 4 blocks
            Sample((a(1, 12, 15), (6, 5), (3, 2)), {"dilation": (1, 2), "padding": 1, "stride": (2, 1)}),
            Sample((a(27, 16), (4, 4), 3), {"padding": 1}),  # unbatched
            Sample((a(2, 8, 4), (4, 4), 2), {"stride": 2}),  # blocks that tile the output
            Sample((a(2, 12, 12), (4, 5), 2), noncontig=True),
        ]

    def conv3d_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*sh: int) -> np.ndarray:
            return rand_array(rng, sh, dtype)

        return [
            Sample((a(2, 2, 4, 4, 3), a(3, 2, 2, 2, 2), a(3))),
            Sample((a(1, 2, 5, 4, 4), a(2, 2, 3, 2, 2)), {"stride": (2, 1, 2), "padding": 1}),
            Sample((a(1, 4, 5, 5, 4), a(4, 2, 2, 3, 2), a(4)), {"groups": 2, "dilation": (2, 1, 1)}),
            Sample((a(2, 4, 3, 3), a(3, 2, 2, 2, 2)), {"padding": "same"}),  # unbatched
            Sample((a(1, 2, 3, 4, 3), a(2, 2, 1, 2, 2)), {"padding": "valid"}, grad=False),
            Sample((a(2, 2, 4, 3, 3), a(3, 2, 2, 2, 2), a(3)), noncontig=True, grad=False),
        ]

    def conv3d_ref(
        x: np.ndarray,
        w: np.ndarray,
        b: Any = None,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
    ) -> np.ndarray:
        return _np_conv_args(x, w, b, stride, padding, dilation, groups, 3)

    register(
        OpRecord(
            "nn.functional.conv2d",
            conv2d,
            conv2d_samples,
            conv2d_ref,
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones((1, 4, 5, 5)), np.ones((2, 3, 3, 3))),
                    {},
                    ValueError,
                    "conv2d: input of shape \\(1, 4, 5, 5\\) has 4 channels",
                ),
                ErrorSample(
                    (np.ones((1, 4, 5, 5)), np.ones((3, 2, 3, 3))),
                    {"groups": 2},
                    ValueError,
                    "conv2d: in_channels \\(4\\) and out_channels \\(3\\) must both be divisible by groups",
                ),
                ErrorSample(
                    (np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3))),
                    {"stride": 2, "padding": "same"},
                    ValueError,
                    "conv2d: padding='same' is not supported for strided convolutions",
                ),
                ErrorSample(
                    (np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3))),
                    {},
                    ValueError,
                    "conv2d: the kernel \\(size 3, dilation 1\\) is larger than the padded input",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.conv1d",
            conv1d,
            conv1d_samples,
            conv1d_ref,
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones((1, 2, 5, 5)), np.ones((2, 2, 3))),
                    {},
                    ValueError,
                    "conv1d: expected a 2-D \\(C, L\\) or 3-D \\(N, C, L\\) input",
                ),
                ErrorSample(
                    (np.ones((1, 2, 5)), np.ones((2, 2, 3))),
                    {"stride": 2, "padding": "same"},
                    ValueError,
                    "conv1d: padding='same' is not supported for strided convolutions",
                ),
            ),
        ),
        OpRecord("nn.functional.unfold2d", unfold2d, unfold_samples, unfold_ref, call=_unfold_call),
        OpRecord(
            "nn.functional.conv_transpose2d",
            conv_transpose2d,
            conv_transpose_samples(2),
            _np_conv_transpose,
            errors=(
                ErrorSample(
                    (np.ones((1, 3, 4, 4)), np.ones((4, 2, 3, 3))),
                    {},
                    ValueError,
                    "conv_transpose2d: input of shape \\(1, 3, 4, 4\\) has 3 channels",
                ),
                ErrorSample(
                    (np.ones((1, 4, 4, 4)), np.ones((4, 2, 3, 3))),
                    {"stride": 2, "output_padding": 2},
                    ValueError,
                    "conv_transpose2d: output_padding \\(2, 2\\) must be smaller than either stride",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.conv_transpose1d",
            conv_transpose1d,
            conv_transpose_samples(1),
            _np_conv_transpose,
            errors=(
                ErrorSample(
                    (np.ones((1, 4, 4, 4)), np.ones((4, 2, 3))),
                    {},
                    ValueError,
                    "conv_transpose1d: expected a 2-D \\(C, L\\) or 3-D",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.unfold",
            unfold,
            im2col_samples,
            np_unfold,
            errors=(
                ErrorSample(
                    (np.ones((4, 4)), 2), {}, ValueError, "unfold: expected a 3-D \\(C, H, W\\) or 4-D"
                ),
            ),
        ),
        OpRecord(
            "nn.functional.fold",
            fold,
            fold_samples,
            np_fold,
            errors=(
                ErrorSample(
                    (np.ones((1, 12, 10)), (4, 5), 2),
                    {},
                    ValueError,
                    "fold: the input's last dim \\(10\\) must be",
                ),
                ErrorSample(
                    (np.ones((1, 10, 12)), (4, 5), 2),
                    {},
                    ValueError,
                    "fold: expected the size of dim 1 of input",
                ),
            ),
        ),
        OpRecord(
            "nn.functional.conv3d",
            conv3d,
            conv3d_samples,
            conv3d_ref,
            errors=(
                ErrorSample(
                    (np.ones((1, 3, 4, 4, 4)), np.ones((2, 2, 2, 2, 2))),
                    {},
                    ValueError,
                    "conv3d: input of shape \\(1, 3, 4, 4, 4\\) has 3 channels",
                ),
                ErrorSample(
                    (np.ones((4, 4, 4)), np.ones((2, 2, 2, 2, 2))), {}, ValueError, "conv3d: expected a 4-D"
                ),
            ),
        ),
    )


_records()
