"""Gradient checking by finite differences (in float64, or complex128 for complex tensors).

Complex tensors are checked as PyTorch's gradcheck checks them: each complex input is two real
inputs (its real and imaginary parts, perturbed one at a time) and each complex output two real
outputs. Under PyTorch's convention (see :mod:`ember.ops.complex`) the gradient that backward gives
a complex input, for the output gradient 1 at one element, is ``dRe(y)/dRe(z) + i dRe(y)/dIm(z)``
there; for the output gradient ``1j`` it is ``dIm(y)/dRe(z) + i dIm(y)/dIm(z)``: the rows of the
real Jacobian.

``fast_mode=True`` checks as PyTorch's fast gradcheck does (its note "Fast Gradcheck and
Gradgradcheck"): instead of whole Jacobians it compares one number per differentiable input and
output, ``v^T J u`` for a random unit direction ``u`` of the input and ``v`` of the output. The
numerical side is the central difference of the outputs along ``u`` (two forwards per input, four
for a complex one: along ``u_r`` and along ``i u_i``), dotted with ``v``; the analytical side is
one backward per output with ``grad_output = v`` (and ``i v`` for a complex output's imaginary
part), whose gradient is dotted with ``u``. For a complex input the two sides are complex numbers,
``v.(dy/dRe z) u_r + i v.(dy/dIm z) u_i`` numerically and ``Re(g).u_r + i Im(g).u_i`` for the
backward's gradient ``g``. The absolute tolerance is scaled as PyTorch scales it, by ``v^T M u``
for the all-ones ``M``: ``atol * sum(u) * sum(v)`` (``sum(u_r) + sum(u_i)`` for a complex input).
The directions are uniform draws in [0, 1), normalised, from a generator seeded with ``seed``.
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
    *,
    fast_mode: bool = False,
    seed: int = 0,
) -> bool:
    """Compare autograd's gradients of ``fn`` with finite differences, input by input.

    Inputs that require grad should be float64 or complex128 (complex inputs and outputs are
    checked part by part, as PyTorch does). Returns True, or raises (or returns False) with the
    input index and the largest difference.

    ``fast_mode=True`` compares ``v^T J u`` for random directions ``u`` (per input) and ``v`` (per
    output) instead of the full Jacobians (see the module's docstring): two forwards per input and
    one backward per output instead of two forwards per input element and one backward per output
    element. ``seed`` seeds its directions. An output that does not require grad must have a zero
    derivative in both modes.
    """
    from ..ops.creation import tensor
    from . import grad

    inputs = list(inputs)
    positions = [i for i, x in enumerate(inputs) if getattr(x, "requires_grad", False)]
    diff_inputs = [inputs[i] for i in positions]
    if not diff_inputs:
        raise ValueError("gradcheck: no input requires grad")
    if fast_mode:
        return _fast_gradcheck(fn, inputs, eps, atol, rtol, raise_exception, seed)
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
                for idx, (a, gi, x) in enumerate(zip(analytic, gs, diff_inputs)):
                    if gi is not None:
                        _check_gradient_shape(gi, x, idx, positions[idx])
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


def _check_gradient_shape(gi: Any, x: Any, k: int, position: int) -> None:
    """Raise unless the gradient ``gi`` that backward gave differentiable input ``k`` (argument
    ``position``) has that input's shape (both modes check it, as PyTorch's "incorrect size")."""
    if tuple(gi.shape) != tuple(x.shape):
        raise AssertionError(
            f"gradcheck: backward gave differentiable input {k} (argument {position}) a "
            f"gradient of shape {tuple(gi.shape)} ({gi.numel()} elements); the input's "
            f"shape is {tuple(x.shape)} ({x.numel()} elements)"
        )


def _unit_direction(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` uniform draws in [0, 1), scaled to unit norm (PyTorch's fast-mode directions)."""
    u = rng.random(n)
    norm = float(np.linalg.norm(u))
    return u / norm if norm > 0 else u


def _values(t: Any) -> np.ndarray:
    """A tensor's values, flattened, as complex128 (complex tensors) or float64 (all others)."""
    a = t.detach().numpy()
    return a.astype(np.complex128 if a.dtype.kind == "c" else np.float64).reshape(-1)


def _fast_gradcheck(
    fn: Callable[..., Any],
    inputs: list,
    eps: float,
    atol: float,
    rtol: float,
    raise_exception: bool,
    seed: int,
) -> bool:
    """:func:`gradcheck` with ``fast_mode=True``: ``v^T J u`` per (input, output, part)."""
    from ..ops.creation import tensor
    from . import grad

    positions = [i for i, x in enumerate(inputs) if getattr(x, "requires_grad", False)]
    diff_inputs = [inputs[i] for i in positions]
    rng = np.random.default_rng(seed)
    # drawn in PyTorch's order: the inputs' directions (u_r, then u_i for a complex input), then the outputs'
    us = [
        tuple(_unit_direction(rng, x.numel()) for _ in range(2 if x.dtype.is_complex else 1))
        for x in diff_inputs
    ]
    outs = _as_tuple(fn(*inputs))
    vs = [_unit_direction(rng, o.numel()) for o in outs]
    parts = [("real", "imaginary") if o.dtype.is_complex else ("real",) for o in outs]

    # numerical[k][j][p]: v_j . (d part p of output j along u_k), by central differences
    numerical: list[list[list[complex]]] = []
    for k, (i, x) in enumerate(zip(positions, diff_inputs)):
        base = x.detach().numpy().astype(np.complex128 if x.dtype.is_complex else np.float64)
        steps = list(zip(us[k], (1.0, 1j)))  # (u_r, 1) and, for a complex input, (u_i, i)
        derivs = []  # per step: per output, the directional derivative of its values
        for u, unit in steps:
            delta = (eps * unit) * u.reshape(base.shape)
            vals = []
            for sign in (1, -1):
                args = list(inputs)
                args[i] = tensor(base + sign * delta, dtype=x.dtype, device=x.device, requires_grad=True)
                vals.append([_values(o) for o in _as_tuple(fn(*args))])
            derivs.append([(a - b) / (2 * eps) for a, b in zip(*vals)])
        per_out = []
        for j, v in enumerate(vs):
            per_part = []
            for part in parts[j]:
                take = np.real if part == "real" else np.imag
                # along u_r, plus i times along u_i: the conjugate Wirtinger form of the module's docstring
                per_part.append(sum(unit * float(v @ take(d[j])) for d, (_, unit) in zip(derivs, steps)))
            per_out.append(per_part)
        numerical.append(per_out)

    # analytical[k][j][p]: (backward of output j with grad_output v_j, or i v_j for the imaginary part) . u_k
    analytical = [[[0.0 for _ in parts[j]] for j in range(len(outs))] for _ in diff_inputs]
    for j, (o, v) in enumerate(zip(outs, vs)):
        if not o.requires_grad:
            continue  # its derivative must be zero: the numerical side says whether it is
        for p, seed_value in enumerate((1.0, 1j)[: len(parts[j])]):
            g = tensor((seed_value * v).reshape(o.shape), dtype=o.dtype, device=o.device)
            gs = grad([o], diff_inputs, [g], retain_graph=True, allow_unused=True)
            for k, (x, gi) in enumerate(zip(diff_inputs, gs)):
                if gi is None:
                    continue
                _check_gradient_shape(gi, x, k, positions[k])
                gv = _values(gi)
                if x.dtype.is_complex:
                    analytical[k][j][p] = float(gv.real @ us[k][0]) + 1j * float(gv.imag @ us[k][1])
                elif np.iscomplexobj(gv):
                    raise AssertionError(
                        f"gradcheck: backward gave the real differentiable input {k} (argument "
                        f"{positions[k]}) a complex gradient ({gi.dtype}); a real input's gradient is real"
                    )
                else:
                    analytical[k][j][p] = float(gv @ us[k][0])

    for k in range(len(diff_inputs)):
        sum_u = float(sum(u.sum() for u in us[k]))
        for j in range(len(outs)):
            allowed_atol = atol * sum_u * float(vs[j].sum())
            for p, part in enumerate(parts[j]):
                a, n = analytical[k][j][p], numerical[k][j][p]
                allowed = allowed_atol + rtol * abs(n)
                if abs(a - n) <= allowed:
                    continue
                where = f"the {part} part of complex output {j}" if len(parts[j]) == 2 else f"output {j}"
                msg = (
                    f"gradcheck (fast mode): gradient of differentiable input {k} (argument "
                    f"{positions[k]}) does not match finite differences for {where}: along random "
                    f"directions u of the input and v of the output, numerical v^T J u = {n:.10g}, "
                    f"analytical v^T J u = {a:.10g} (difference {abs(a - n):.3g}, allowed {allowed:.3g}: "
                    f"atol={atol} scaled by sum(u) * sum(v) to {allowed_atol:.3g}, plus rtol={rtol} "
                    "times |numerical|). Re-run with fast_mode=False to see the full Jacobians."
                )
                if raise_exception:
                    raise AssertionError(msg)
                return False
    return True
