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


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from .records import OpRecord, register
    from .samples import ErrorSample, Sample, rand_array

    def matmul_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -1, 1)

        return [
            Sample((a(3, 4), a(4, 5))),
            Sample((a(2, 3, 4), a(4, 2))),
            Sample((a(2, 1, 3, 4), a(3, 4, 2))),
            Sample((a(4), a(4, 3))),
            Sample((a(3, 4), a(4))),
            Sample((a(4), a(4))),
            Sample((a(0, 4), a(4, 3)), grad=False),
            Sample((a(3, 0), a(0, 2)), grad=False),
            Sample((a(5, 3), a(3, 5)), noncontig=True),
            Sample((a(4, 3), a(3, 4)), noncontig="flip", grad=False),
            Sample((a(17, 33), a(33, 65)), grad=False),
        ]

    def reflected(op: Any) -> Any:
        return lambda self, other: op(other, self)

    def pairs(*shapes: tuple[tuple[int, ...], tuple[int, ...]]) -> Any:
        def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
            out = [
                Sample(
                    (rand_array(rng, sa, dtype, -1, 1), rand_array(rng, sb, dtype, -1, 1)),
                    grad=0 not in sa + sb,
                )
                for sa, sb in shapes
            ]
            sa, sb = shapes[0]
            out.append(
                Sample((rand_array(rng, sa, dtype, -1, 1), rand_array(rng, sb, dtype, -1, 1)), noncontig=True)
            )
            return out

        return make

    def linear_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -1, 1)

        return [
            Sample((a(5, 4), a(3, 4), a(3))),
            Sample((a(2, 5, 4), a(3, 4), None)),
            Sample(
                (
                    a(
                        4,
                    ),
                    a(3, 4),
                    a(3),
                )
            ),
        ]

    def linear_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
        return x @ w.T + (0 if b is None else b)

    register(
        OpRecord(
            "mm",
            mm,
            pairs(((3, 4), (4, 5)), ((0, 4), (4, 2))),
            np.matmul,
            methods=("mm",),
            dtypes=("float32", "float64", "int64"),
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones(3), np.ones(3)),
                    {},
                    ValueError,
                    "mm: expected 2-D tensors, got shapes \\(3,\\) and \\(3,\\)",
                ),
            ),
        ),
        OpRecord(
            "bmm",
            bmm,
            pairs(((2, 3, 4), (2, 4, 5)), ((1, 2, 3), (1, 3, 1))),
            np.matmul,
            methods=("bmm",),
            dtypes=("float32", "float64", "int64"),
            atol=1e-4,
        ),
        OpRecord(
            "dot",
            dot,
            pairs(((5,), (5,)), ((0,), (0,))),
            np.dot,
            methods=("dot",),
            dtypes=("float32", "float64", "int64"),
            atol=1e-4,
        ),
        OpRecord(
            "outer",
            outer,
            pairs(((3,), (4,)), ((0,), (2,))),
            np.outer,
            methods=("outer",),
            dtypes=("float32", "float64", "int64"),
        ),
        OpRecord("linear", linear, linear_samples, linear_ref, atol=1e-4, covers=("nn.functional.linear",)),
        OpRecord(
            "matmul",
            matmul,
            matmul_samples,
            np.matmul,
            kernel="matmul",
            methods={"matmul": matmul, "__matmul__": matmul, "__rmatmul__": reflected(matmul)},
            dtypes=("float32", "float64", "int64"),
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones((3, 4)), np.ones((5, 2))),
                    {},
                    ValueError,
                    "matmul: shapes \\(3, 4\\) and \\(5, 2\\) cannot be multiplied",
                ),
            ),
        ),
    )


_records()
