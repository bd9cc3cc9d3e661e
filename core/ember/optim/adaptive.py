"""Adaptive-rate optimizers: Adagrad, Adamax, NAdam and RAdam, with ``torch.optim``'s update rules,
arguments and state names (so state dicts carry over). Updates run under ``no_grad`` and write
into the parameters in place, so they work on any device."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from .. import ops as E
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer
from .sgd import _check, _params_with_grad

__all__ = ["Adagrad", "Adamax", "NAdam", "RAdam"]


def _check_betas(name: str, betas: tuple[float, float]) -> None:
    if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
        raise ValueError(f"{name}: invalid betas {tuple(betas)} (each must be in [0, 1))")


class Adagrad(Optimizer):
    """Adagrad: ``sum += g^2``, ``p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(sum) + eps)``, with
    optional L2 weight decay, as ``torch.optim.Adagrad`` (state ``step``, ``sum``)."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        _check(
            "Adagrad",
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )
        super().__init__(
            params,
            dict(
                lr=lr,
                lr_decay=lr_decay,
                weight_decay=weight_decay,
                initial_accumulator_value=initial_accumulator_value,
                eps=eps,
                foreach=foreach,
                maximize=maximize,
                differentiable=differentiable,
                fused=fused,
            ),
        )
        # PyTorch creates the state at construction
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = {
                    "step": 0,
                    "sum": E.full_like(p.detach(), group["initial_accumulator_value"]),
                }

    _replayed_hyper = ("lr",)
    _replayed_state = ("step",)

    def _host_scalars(self, group: dict[str, Any], state: dict[str, Any]) -> tuple[float, ...]:
        """Count the step; return (decayed lr,)."""
        state["step"] += 1
        return (group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"]),)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss, if any."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                wd, eps = group["weight_decay"], group["eps"]
                for p, g in _params_with_grad(group):
                    state = self.state.setdefault(p, {"step": 0, "sum": E.full_like(p.detach(), 0.0)})
                    (clr,) = self._host_scalars(group, state)
                    if wd:
                        g = g + p.detach() * wd
                    state["sum"].add_(g * g)
                    p.sub_(g / (E.sqrt(state["sum"]) + eps) * clr)
        return loss


class Adamax(Optimizer):
    """Adamax (Adam with the infinity norm): ``u = max(beta2 u, |g| + eps)``,
    ``p -= lr / (1 - beta1^t) * m / u``, as ``torch.optim.Adamax`` (state ``exp_avg``,
    ``exp_inf``)."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check("Adamax", lr=lr, eps=eps, weight_decay=weight_decay)
        _check_betas("Adamax", betas)
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=tuple(betas),
                eps=eps,
                weight_decay=weight_decay,
                foreach=foreach,
                maximize=maximize,
                differentiable=differentiable,
                capturable=capturable,
            ),
        )

    _replayed_hyper = ("lr",)
    _replayed_state = ("step",)

    def _host_scalars(self, group: dict[str, Any], state: dict[str, Any]) -> tuple[float, ...]:
        """Count the step; return (step size ``lr / (1 - beta1^t)``,)."""
        state["step"] += 1
        return (group["lr"] / (1 - group["betas"][0] ** state["step"]),)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss, if any."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                (b1, b2), eps, wd = group["betas"], group["eps"], group["weight_decay"]
                for p, g in _params_with_grad(group):
                    state = self.state.setdefault(p, {})
                    if not state:
                        state.update(
                            step=0, exp_avg=E.zeros_like(p.detach()), exp_inf=E.zeros_like(p.detach())
                        )
                    (step_size,) = self._host_scalars(group, state)
                    if wd:
                        g = g + p.detach() * wd
                    m, u = state["exp_avg"], state["exp_inf"]
                    m.add_((g - m) * (1 - b1))  # lerp towards g
                    u.copy_(E.maximum(u * b2, E.abs(g) + eps))
                    p.sub_(m / u * step_size)
        return loss


class NAdam(Optimizer):
    """Adam with Nesterov momentum and PyTorch's momentum schedule
    ``mu_t = beta1 (1 - 0.5 * 0.96^(t * momentum_decay))``; L2 or (``decoupled_weight_decay``)
    decoupled weight decay, as ``torch.optim.NAdam`` (state ``step``, ``mu_product``, ``exp_avg``,
    ``exp_avg_sq``)."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check("NAdam", lr=lr, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay)
        _check_betas("NAdam", betas)
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=tuple(betas),
                eps=eps,
                weight_decay=weight_decay,
                momentum_decay=momentum_decay,
                decoupled_weight_decay=decoupled_weight_decay,
                foreach=foreach,
                maximize=maximize,
                capturable=capturable,
                differentiable=differentiable,
            ),
        )

    _replayed_hyper = ("lr",)
    _replayed_state = ("step", "mu_product")

    def _host_scalars(self, group: dict[str, Any], state: dict[str, Any]) -> tuple[float, ...]:
        """Count the step and the momentum product; return (decoupled decay ``1 - lr wd``,
        ``1 - beta2^t``, the gradient's and the momentum's step sizes)."""
        lr, (b1, b2), wd, psi = group["lr"], group["betas"], group["weight_decay"], group["momentum_decay"]
        state["step"] += 1
        t = state["step"]
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] *= mu
        mu_product = state["mu_product"]
        return (
            1 - lr * wd,
            1 - b2**t,
            -lr * (1.0 - mu) / (1.0 - mu_product),
            (-lr * mu_next) / (1.0 - mu_product * mu_next),
        )

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss, if any."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                (b1, b2), eps, wd = group["betas"], group["eps"], group["weight_decay"]
                for p, g in _params_with_grad(group):
                    state = self.state.setdefault(p, {})
                    if not state:
                        state.update(
                            step=0,
                            mu_product=1.0,
                            exp_avg=E.zeros_like(p.detach()),
                            exp_avg_sq=E.zeros_like(p.detach()),
                        )
                    decay, bc2, g_step, m_step = self._host_scalars(group, state)
                    if wd:
                        if group["decoupled_weight_decay"]:
                            p.mul_(decay)
                        else:
                            g = g + p.detach() * wd
                    m, v = state["exp_avg"], state["exp_avg_sq"]
                    m.add_((g - m) * (1 - b1))
                    v.mul_(b2).add_(g * g * (1 - b2))
                    denom = E.sqrt(v / bc2) + eps
                    p.add_(g / denom * g_step)
                    p.add_(m / denom * m_step)
        return loss


class RAdam(Optimizer):
    """Rectified Adam: plain momentum SGD while the variance estimate is unreliable (rho_t <= 5),
    the rectified Adam step after; L2 or (``decoupled_weight_decay``) decoupled weight decay, as
    ``torch.optim.RAdam`` (state ``step``, ``exp_avg``, ``exp_avg_sq``)."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check("RAdam", lr=lr, eps=eps, weight_decay=weight_decay)
        _check_betas("RAdam", betas)
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=tuple(betas),
                eps=eps,
                weight_decay=weight_decay,
                decoupled_weight_decay=decoupled_weight_decay,
                foreach=foreach,
                maximize=maximize,
                capturable=capturable,
                differentiable=differentiable,
            ),
        )

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss, if any."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
                rho_inf = 2 / (1 - b2) - 1
                for p, g in _params_with_grad(group):
                    state = self.state.setdefault(p, {})
                    if not state:
                        state.update(
                            step=0, exp_avg=E.zeros_like(p.detach()), exp_avg_sq=E.zeros_like(p.detach())
                        )
                    state["step"] += 1
                    t = state["step"]
                    if wd:
                        if group["decoupled_weight_decay"]:
                            p.mul_(1 - lr * wd)
                        else:
                            g = g + p.detach() * wd
                    m, v = state["exp_avg"], state["exp_avg_sq"]
                    m.add_((g - m) * (1 - b1))
                    v.mul_(b2).add_(g * g * (1 - b2))
                    bc1, bc2 = 1 - b1**t, 1 - b2**t
                    corrected = m / bc1
                    rho_t = rho_inf - 2 * t * (b2**t) / bc2
                    if rho_t > 5.0:
                        rect = math.sqrt(
                            (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
                        )
                        adaptive = math.sqrt(bc2) / (E.sqrt(v) + eps)
                        p.sub_(corrected * lr * adaptive * rect)
                    else:
                        p.sub_(corrected * lr)
        return loss
