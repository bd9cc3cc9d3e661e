"""Gradient checking by finite differences (in float64, or complex128 for complex tensors).

Complex tensors are checked as PyTorch's gradcheck checks them: each complex input is two real
inputs (its real and imaginary parts, perturbed one at a time) and each complex output two real
outputs. Under PyTorch's convention (see :mod:`ember.ops.complex`) the gradient that backward gives
a complex input, for the output gradient 1 at one element, is ``dRe(y)/dRe(z) + i dRe(y)/dIm(z)``
there; for the output gradient ``1j`` it is ``dIm(y)/dRe(z) + i dIm(y)/dIm(z)``: the rows of the
real Jacobian.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["gradcheck", "numerical_jacobian"]


def _as_tuple(x: Any) -> tuple:
    return x if isinstance(x, tuple) else (x,)


def _real_values(t: Any) -> np.ndarray:
    """A tensor's values as float64, a complex tensor's as its interleaved (real, imaginary) parts."""
    a = t.detach().numpy()
    if a.dtype.kind == "c":
        return np.ascontiguousarray(a, dtype=np.complex128).reshape(-1).view(np.float64)
    return a.astype(np.float64).reshape(-1)


def numerical_jacobian(fn: Callable[..., Any], inputs: Sequence[Any], eps: float = 1e-6) -> list[np.ndarray]:
    """Central-difference Jacobians d(flattened outputs)/d(input) for each input that requires
    grad: one (n_out, n_in) array per such input. A complex output counts as two real ones and a
    complex input as two real ones (real and imaginary parts interleaved)."""
    from ..ops.creation import tensor

    # no no_grad() here: fn may itself call autograd.grad (checking a gradient of a gradient)
    jacobians = []
    for i, x in enumerate(inputs):
        if not getattr(x, "requires_grad", False):
            continue
        is_c = x.dtype.is_complex
        base = x.detach().numpy().astype(np.complex128 if is_c else np.float64)
        steps = (eps, eps * 1j) if is_c else (eps,)
        cols = []
        for j in range(base.size):
            for step in steps:
                vals = []
                for sign in (1, -1):
                    pert = base.copy()
                    pert.reshape(-1)[j] += sign * step
                    args = list(inputs)
                    args[i] = tensor(pert, dtype=x.dtype, device=x.device, requires_grad=True)
                    outs = _as_tuple(fn(*args))
                    vals.append(np.concatenate([_real_values(o) for o in outs]))
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

    Inputs that require grad should be float64 or complex128 (complex inputs and outputs are
    checked part by part, as PyTorch does). Returns True, or raises (or returns False) with the
    input index and the largest difference.
    """
    from ..ops.creation import tensor
    from . import grad

    inputs = list(inputs)
    diff_inputs = [x for x in inputs if getattr(x, "requires_grad", False)]
    if not diff_inputs:
        raise ValueError("gradcheck: no input requires grad")
    numeric = numerical_jacobian(fn, inputs, eps)
    outs = _as_tuple(fn(*inputs))
    # each output's rows: one per element, two for a complex element (real part, imaginary part)
    parts = [(1.0, 1j) if o.dtype.is_complex else (1.0,) for o in outs]
    n_out = sum(o.numel() * len(p) for o, p in zip(outs, parts))
    widths = [x.numel() * (2 if x.dtype.is_complex else 1) for x in diff_inputs]
    analytic = [np.zeros((n_out, w)) for w in widths]
    row = 0
    for o, seeds in zip(outs, parts):
        size = o.numel()
        if not o.requires_grad:
            row += size * len(seeds)
            continue
        for k in range(size):
            for s, seed in enumerate(seeds):
                onehot = np.zeros(size, dtype=np.complex128 if o.dtype.is_complex else np.float64)
                onehot[k] = seed
                g = tensor(onehot.reshape(o.shape), dtype=o.dtype, device=o.device)
                gs = grad([o], diff_inputs, [g], retain_graph=True, allow_unused=True)
                for a, gi in zip(analytic, gs):
                    if gi is not None:
                        a[row + k * len(seeds) + s] = _real_values(gi)
        row += size * len(seeds)
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
