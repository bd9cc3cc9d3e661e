"""Optimizers: SGD, Adam, AdamW and RMSprop, with PyTorch's update rules. Updates run under
``no_grad`` and write into the parameters in place, so they work on any device."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from .. import ops as E
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .optimizer import Optimizer

__all__ = ["SGD", "Adam", "AdamW", "RMSprop"]


def _check(name: str, **values: float) -> None:
    for k, v in values.items():
        if v < 0:
            raise ValueError(f"{name}: invalid {k} value {v} (must be >= 0)")


def _params_with_grad(group: dict[str, Any]) -> Iterable[tuple[Tensor, Tensor]]:
    """(parameter, gradient to descend) for each parameter of ``group`` that has a gradient: the
    gradient detached, and negated when the group maximizes."""
    for p in group["params"]:
        if p.grad is not None:
            g = p.grad.detach()
            yield p, (-g if group["maximize"] else g)


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight
    decay (L2 added to the gradient), as ``torch.optim.SGD``."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        maximize: bool = False,
    ) -> None:
        _check("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss, if any."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                lr, mom, damp = group["lr"], group["momentum"], group["dampening"]
                wd, nesterov = group["weight_decay"], group["nesterov"]
                for p, g in _params_with_grad(group):
                    if wd:
                        g = g + p.detach() * wd
                    if mom:
                        state = self.state.setdefault(p, {})
                        buf = state.get("momentum_buffer")
                        if buf is None:
                            buf = state["momentum_buffer"] = g.clone()
                        else:
                            buf.mul_(mom).add_(g, alpha=1 - damp)
                        g = g + buf * mom if nesterov else buf
                    p.sub_(g * lr)
        return loss


class Adam(Optimizer):
    """Adam (Kingma & Ba), with optional L2 weight decay and AMSGrad, as ``torch.optim.Adam``."""

    _decoupled = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        name = type(self).__name__
        _check(name, lr=lr, eps=eps, weight_decay=weight_decay)
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"{name}: invalid betas {tuple(betas)} (each must be in [0, 1))")
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=tuple(betas),
                eps=eps,
                weight_decay=weight_decay,
                amsgrad=amsgrad,
                maximize=maximize,
            ),
        )

    _replayed_hyper = ("lr",)
    _replayed_state = ("step",)

    def _host_scalars(self, group: dict[str, Any], state: dict[str, Any]) -> tuple[float, ...]:
        """Count the step; return (decoupled decay ``1 - lr wd``, ``1 / sqrt(1 - beta2^t)``, step size
        ``lr / (1 - beta1^t)``)."""
        state["step"] += 1
        t = state["step"]
        lr, (b1, b2), wd = group["lr"], group["betas"], group["weight_decay"]
        bc1, bc2 = 1 - b1**t, 1 - b2**t
        return 1 - lr * wd, 1 / math.sqrt(bc2), lr / bc1

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss, if any."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                (b1, b2), eps = group["betas"], group["eps"]
                wd, amsgrad = group["weight_decay"], group["amsgrad"]
                for p, g in _params_with_grad(group):
                    state = self.state.setdefault(p, {})
                    if not state:
                        state["step"] = 0
                        state["exp_avg"] = E.zeros_like(p)
                        state["exp_avg_sq"] = E.zeros_like(p)
                        if amsgrad:
                            state["max_exp_avg_sq"] = E.zeros_like(p)
                    decay, inv_sqrt_bc2, step_size = self._host_scalars(group, state)
                    if wd:
                        if self._decoupled:
                            p.mul_(decay)
                        else:
                            g = g + p.detach() * wd
                    m, v = state["exp_avg"], state["exp_avg_sq"]
                    m.mul_(b1).add_(g * (1 - b1))
                    v.mul_(b2).add_(g * g * (1 - b2))
                    if amsgrad:
                        vmax = state["max_exp_avg_sq"]
                        vmax.maximum_(v)
                        v = vmax
                    denom = E.sqrt(v) * inv_sqrt_bc2 + eps
                    p.sub_(m / denom * step_size)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (``p *= 1 - lr * weight_decay`` before the Adam step), as
    ``torch.optim.AdamW`` (default weight_decay 0.01)."""

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)


class RMSprop(Optimizer):
    """RMSprop with optional momentum, centering and weight decay, as ``torch.optim.RMSprop``."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        maximize: bool = False,
    ) -> None:
        _check("RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)
        super().__init__(
            params,
            dict(
                lr=lr,
                alpha=alpha,
                eps=eps,
                weight_decay=weight_decay,
                momentum=momentum,
                centered=centered,
                maximize=maximize,
            ),
        )

    _replayed_hyper = ("lr",)
    _replayed_state = ("step",)

    def _host_scalars(self, group: dict[str, Any], state: dict[str, Any]) -> tuple[float, ...]:
        """Count the step; return (lr,)."""
        state["step"] += 1
        # a float object of its own (equal to lr): a capture tells host scalars by identity
        return (group["lr"] * 1.0,)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss, if any."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                alpha, eps = group["alpha"], group["eps"]
                wd, mom, centered = group["weight_decay"], group["momentum"], group["centered"]
                for p, g in _params_with_grad(group):
                    state = self.state.setdefault(p, {})
                    if not state:
                        state["step"] = 0
                        state["square_avg"] = E.zeros_like(p)
                        if mom > 0:
                            state["momentum_buffer"] = E.zeros_like(p)
                        if centered:
                            state["grad_avg"] = E.zeros_like(p)
                    (lr,) = self._host_scalars(group, state)
                    if wd:
                        g = g + p.detach() * wd
                    sq = state["square_avg"]
                    sq.mul_(alpha).add_(g * g * (1 - alpha))
                    if centered:
                        ga = state["grad_avg"]
                        ga.mul_(alpha).add_(g * (1 - alpha))
                        avg = E.sqrt(sq - ga * ga) + eps
                    else:
                        avg = E.sqrt(sq) + eps
                    if mom > 0:
                        buf = state["momentum_buffer"]
                        buf.mul_(mom).add_(g / avg)
                        p.sub_(buf * lr)
                    else:
                        p.sub_(g / avg * lr)
        return loss
