"""Dense layers: the :func:`linear` and :func:`bilinear` maps, and :func:`flatten`, which turns
(N, C, ...) features into the rows they take.

Composites of core ops: they differentiate through the core ops' backwards.
"""

from __future__ import annotations

from ... import ops as E
from ...tensor import Tensor

__all__ = ["linear", "bilinear", "flatten"]


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` with weight of shape (out_features, in_features)."""
    return E.linear(input, weight, bias)


def bilinear(x1: Tensor, x2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_k = x1 @ weight[k] @ x2 + bias_k`` for weight of shape (out, in1, in2)."""
    out = (x1.unsqueeze(-2).unsqueeze(-2) @ weight) @ x2.unsqueeze(-2).unsqueeze(-1)
    out = out.reshape(out.shape[:-2])
    return out + bias if bias is not None else out


def flatten(input: Tensor, start_dim: int = 1, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one."""
    return E.flatten(input, start_dim, end_dim)


# -- op records ---------------------------------------------------------------------------------
# linear is proved by the core record "linear" (ember.ops.linalg), which covers nn.functional.linear.
def _records() -> None:
    import math

    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import Sample, rand_array

    def bilinear_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -1, 1)

        return [
            Sample((a(2, 3), a(2, 2), a(2, 3, 2), a(2))),
            Sample((a(2, 3), a(2, 2), a(3, 3, 2), None)),
            Sample((a(2, 3, 4), a(2, 3, 5), a(3, 4, 5), a(3)), grad=False),
            Sample((a(4), a(3), a(2, 4, 3), a(2))),  # unbatched
            Sample((a(0, 3), a(0, 2), a(2, 3, 2), a(2)), grad=False),
            Sample((a(3, 4), a(3, 5), a(4, 4, 5), a(4)), noncontig=True, grad=False),
            Sample((a(3, 2), a(3, 3), a(2, 2, 3), None), noncontig=True),
        ]

    def bilinear_ref(x1: np.ndarray, x2: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
        out = np.zeros(x1.shape[:-1] + (w.shape[0],), dtype=np.float64)
        for k in range(w.shape[0]):
            for i in range(w.shape[1]):
                for j in range(w.shape[2]):
                    out[..., k] += x1[..., i] * w[k, i, j] * x2[..., j]
        return out if b is None else out + b

    def flatten_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype)

        return [
            Sample((a(2, 3, 4),)),
            Sample((a(2, 3, 4),), {"start_dim": 0}),
            Sample((a(2, 3, 4, 2),), {"start_dim": 1, "end_dim": 2}),
            Sample((a(2, 3, 4, 2),), {"start_dim": -3, "end_dim": -2}),
            Sample((a(3, 4),), {"start_dim": 1}),
            Sample((a(5),), {"start_dim": 0}),
            Sample((a(),), {"start_dim": 0}, grad=False),
            Sample((a(2, 0, 3),), grad=False),
            Sample((a(4, 3, 2),), noncontig=True),
            Sample((a(3, 2, 2),), {"start_dim": 0, "end_dim": 1}, noncontig="flip", grad=False),
        ]

    def flatten_ref(x: np.ndarray, start_dim: int = 1, end_dim: int = -1) -> np.ndarray:
        if x.ndim == 0:
            return x.reshape(1)
        s, e = start_dim % x.ndim, end_dim % x.ndim
        return x.reshape(x.shape[:s] + (math.prod(x.shape[s : e + 1]),) + x.shape[e + 1 :])

    register(
        OpRecord("nn.functional.bilinear", bilinear, bilinear_samples, bilinear_ref, atol=1e-4),
        OpRecord("nn.functional.flatten", flatten, flatten_samples, flatten_ref),
    )


_records()
