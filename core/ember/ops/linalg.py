"""Matrix products: matmul (batched, broadcasting, 1-D rules of numpy/PyTorch), mm, bmm, dot,
outer, and linear."""

from __future__ import annotations

from typing import Any

from ..layout import broadcast_shapes
from ._core import STATE, Tensor, _make, attach, cast_data, kernel, same_device, sum_to
from .elementwise import _promote


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with numpy's rules: 1-D operands are promoted and the added dim removed,
    batch dims broadcast."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"matmul: expected two tensors, got {type(a).__name__} and {type(b).__name__}")
    dev = same_device("matmul", a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both arguments need at least 1 dim, got shapes {a.shape} and {b.shape}")
    dt = _promote(a, b)
    if dt.is_bool:
        raise TypeError("matmul: bool tensors are not supported; cast to an integer or float dtype")
    a2 = a.unsqueeze(0) if a.ndim == 1 else a
    b2 = b.unsqueeze(-1) if b.ndim == 1 else b
    n, k = a2.shape[-2], a2.shape[-1]
    k2, m = b2.shape[-2], b2.shape[-1]
    if k != k2:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied ({k} != {k2}: the "
            "last dim of the first must equal the second-to-last of the second)"
        )
    try:
        batch = broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dims of {a.shape} and {b.shape} do not broadcast") from None
    data = kernel(dev, "matmul")(cast_data(a2, dt), cast_data(b2, dt))
    shape = batch + (n, m)
    out = _make(data, shape, dt, dev)
    if a.ndim == 1 and b.ndim == 1:
        final: tuple[int, ...] = batch
    elif a.ndim == 1:
        final = batch + (m,)
    elif b.ndim == 1:
        final = batch + (n,)
    else:
        final = shape
    if STATE.enabled and (a.requires_grad or b.requires_grad):

        def grad(g: Tensor) -> tuple[Any, Any]:
            g2 = g.reshape(shape)
            ga = gb = None
            if a.requires_grad:
                ga = sum_to(matmul(g2, b2.mT), a2.shape).reshape(a.shape)
            if b.requires_grad:
                gb = sum_to(matmul(a2.mT, g2), b2.shape).reshape(b.shape)
            return ga, gb

        out = attach(out, "matmul", grad, (a, b), (a, b))
        if final != shape:
            # the graph node is on the full-shape product; expose the squeezed view
            out = out.reshape(final)
        return out
    return out.reshape(final) if final != shape else out


def mm(a: Tensor, b: Tensor) -> Tensor:
    """Product of two 2-D matrices."""
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"mm: expected 2-D tensors, got shapes {a.shape} and {b.shape}")
    return matmul(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched product of (B, n, k) and (B, k, m) tensors (no broadcasting)."""
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise ValueError(
            f"bmm: expected 3-D tensors with equal batch size, got shapes {a.shape} and {b.shape}"
        )
    return matmul(a, b)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of the same length."""
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ValueError(
            f"dot: expected two 1-D tensors of the same size, got shapes {a.shape} and {b.shape}"
        )
    return matmul(a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """Outer product of two 1-D tensors."""
    return a.reshape(-1, 1) * b.reshape(1, -1)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` (PyTorch's layout: weight is (out_features, in_features))."""
    if x.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"linear: input has {x.shape[-1]} features (shape {x.shape}) but weight expects "
            f"{weight.shape[-1]} (weight shape {weight.shape})"
        )
    out = matmul(x, weight.mT)
    return out + bias if bias is not None else out
