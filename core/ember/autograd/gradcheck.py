"""Gradient checking by finite differences (in float64)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["gradcheck", "numerical_jacobian"]


def _as_tuple(x: Any) -> tuple:
    return x if isinstance(x, tuple) else (x,)


def numerical_jacobian(fn: Callable[..., Any], inputs: Sequence[Any], eps: float = 1e-6) -> list[np.ndarray]:
    """Central-difference Jacobians d(sum of flattened outputs)/d(input) for each input that
    requires grad: one (n_out, n_in) array per such input."""
    from ..ops.creation import tensor

    # no no_grad() here: fn may itself call autograd.grad (checking a gradient of a gradient)
    jacobians = []
    for i, x in enumerate(inputs):
        if not getattr(x, "requires_grad", False):
            continue
        base = x.detach().numpy().astype(np.float64)
        cols = []
        for j in range(base.size):
            vals = []
            for sign in (1, -1):
                pert = base.copy()
                pert.reshape(-1)[j] += sign * eps
                args = list(inputs)
                args[i] = tensor(pert, dtype=x.dtype, device=x.device, requires_grad=True)
                outs = _as_tuple(fn(*args))
                vals.append(np.concatenate([o.detach().numpy().astype(np.float64).reshape(-1) for o in outs]))
            cols.append((vals[0] - vals[1]) / (2 * eps))
        jacobians.append(np.stack(cols, axis=1) if cols else np.zeros((0, 0)))
    return jacobians


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare autograd's gradients of ``fn`` with finite differences, input by input.

    Inputs that require grad should be float64. Returns True, or raises (or returns False) with
    the input index and the largest difference.
    """
    from ..ops.creation import tensor
    from . import grad

    inputs = list(inputs)
    diff_inputs = [x for x in inputs if getattr(x, "requires_grad", False)]
    if not diff_inputs:
        raise ValueError("gradcheck: no input requires grad")
    numeric = numerical_jacobian(fn, inputs, eps)
    outs = _as_tuple(fn(*inputs))
    sizes = [o.numel() for o in outs]
    n_out = sum(sizes)
    analytic = [np.zeros((n_out, x.numel())) for x in diff_inputs]
    row = 0
    for o, size in zip(outs, sizes):
        if not o.requires_grad:
            row += size
            continue
        for k in range(size):
            onehot = np.zeros(size)
            onehot[k] = 1
            g = tensor(onehot.reshape(o.shape), dtype=o.dtype, device=o.device)
            gs = grad([o], diff_inputs, [g], retain_graph=True, allow_unused=True)
            for a, gi in zip(analytic, gs):
                if gi is not None:
                    a[row + k] = gi.detach().numpy().astype(np.float64).reshape(-1)
        row += size
    for idx, (a, n) in enumerate(zip(analytic, numeric)):
        if a.shape != n.shape or not np.allclose(a, n, atol=atol, rtol=rtol):
            worst = float(np.max(np.abs(a - n))) if a.shape == n.shape else float("nan")
            msg = (
                f"gradcheck: gradient of differentiable input {idx} does not match finite differences "
                f"(max abs difference {worst:.3g}, atol={atol}, rtol={rtol})\nanalytic:\n{a}\nnumerical:\n{n}"
            )
            if raise_exception:
                raise AssertionError(msg)
            return False
    return True
