"""Learning-rate schedules: StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR
(warm-up), LambdaLR, ConstantLR, MultiplicativeLR, PolynomialLR, CosineAnnealingWarmRestarts, the
per-batch CyclicLR and OneCycleLR (which cycle the momentum too), and the combinators
SequentialLR and ChainedScheduler. Call ``scheduler.step()`` once per epoch (or iteration) after
``optimizer.step()``; each sets every group's ``lr`` from its closed form.

ReduceLROnPlateau is the exception: it has no closed form, and ``scheduler.step(metric)`` takes the
monitored value (e.g. the validation loss) and cuts the lr when it stops improving."""

from __future__ import annotations

import bisect
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer

__all__ = [
    "LRScheduler",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearLR",
    "LambdaLR",
    "ReduceLROnPlateau",
    "ConstantLR",
    "MultiplicativeLR",
    "PolynomialLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "OneCycleLR",
    "SequentialLR",
    "ChainedScheduler",
]


class LRScheduler:
    """Base class: subclasses define :meth:`lr_at` (the lr of a group at an epoch)."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: {type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        for g in optimizer.param_groups:
            g.setdefault("initial_lr", g["lr"])
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The learning rate at ``epoch`` for a group whose initial lr is ``base_lr``."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The lr of each group set by the last :meth:`step`."""
        return list(self._last_lr)

    def step(self) -> None:
        """Advance one epoch and set each group's lr."""
        self.last_epoch += 1
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = self.lr_at(base, self.last_epoch)
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state (everything but the optimizer and callables)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer" and not callable(v)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size)."""

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """base_lr * gamma ** (epoch // step_size)."""
        return base_lr * self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """lr = base_lr * gamma ** (number of milestones reached)."""

    def __init__(
        self, optimizer: Optimizer, milestones: Sequence[int], gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """base_lr * gamma ** bisect_right(milestones, epoch)."""
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """base_lr * gamma ** epoch."""
        return base_lr * self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2."""

    def __init__(
        self,
        optimizer: Optimizer,
        T_max: int,
        eta_min: float = 0.0,  # noqa: N803 - PyTorch's name
        last_epoch: int = -1,
    ) -> None:
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive int, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The cosine schedule (periodic beyond T_max, like PyTorch's closed form)."""
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class LinearLR(LRScheduler):
    """Scale lr linearly from ``start_factor`` to ``end_factor`` over ``total_iters`` steps, then hold
    (a warm-up)."""

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(
                f"LinearLR: start_factor must be in (0, 1] and end_factor in [0, 1], got "
                f"{start_factor} and {end_factor}"
            )
        if total_iters < 1:
            raise ValueError(f"LinearLR: total_iters must be a positive int, got {total_iters}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """base_lr * (start + (end - start) * min(epoch, total_iters) / total_iters)."""
        frac = min(epoch, self.total_iters) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * frac)


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch)."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float], last_epoch: int = -1) -> None:
        self.lr_lambda = lr_lambda
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """base_lr * lr_lambda(epoch)."""
        return base_lr * self.lr_lambda(epoch)


def _is_real(x: Any) -> bool:
    """Whether ``x`` is a real Python/NumPy number (bools excluded)."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _is_count(x: Any) -> bool:
    """Whether ``x`` is a non-negative integer (bools excluded)."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool) and x >= 0


class ReduceLROnPlateau(LRScheduler):
    """Multiply every group's lr by ``factor`` once the monitored metric has not improved for more
    than ``patience`` steps (PyTorch's semantics).

    Call ``scheduler.step(metric)`` once per epoch with the monitored value (a Python number or a
    one-element :class:`~ember.Tensor`). A value is an improvement when it beats ``best`` by the
    threshold: in ``"rel"`` mode ``metric < best * (1 - threshold)`` (``mode="min"``) or
    ``metric > best * (1 + threshold)`` (``mode="max"``); in ``"abs"`` mode ``metric < best -
    threshold`` or ``metric > best + threshold``. Otherwise ``num_bad_epochs`` grows, and when it
    exceeds ``patience`` each group's lr becomes ``max(lr * factor, min_lr)`` (a change of at most
    ``eps`` is skipped), ``num_bad_epochs`` resets and ``cooldown`` steps follow during which bad
    epochs are not counted. The lr is left untouched at construction.

    Args:
        optimizer: the optimizer whose groups' ``lr`` is reduced.
        mode: ``"min"`` (the metric should decrease, e.g. a loss) or ``"max"`` (e.g. an accuracy).
        factor: the multiplier applied on a plateau, in ``[0, 1)``.
        patience: how many non-improving steps are tolerated before a reduction.
        threshold: the margin a value must beat ``best`` by to count as an improvement (``>= 0``).
        threshold_mode: ``"rel"`` (relative margin) or ``"abs"`` (absolute margin).
        cooldown: steps after a reduction during which bad epochs are not counted.
        min_lr: a lower bound on the lr, one for all groups or a list with one per group.
        eps: reductions of at most ``eps`` are skipped.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0,
        eps: float = 1e-8,
    ) -> None:
        # No super().__init__: there is no closed form and construction must not step or touch the lr.
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: {type(optimizer).__name__} is not an Optimizer")
        self._check_mode(mode, threshold, threshold_mode)
        if not _is_real(factor) or not 0 <= factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be a number in [0, 1), got {factor!r}")
        if not _is_count(patience):
            raise ValueError(f"ReduceLROnPlateau: patience must be a non-negative int, got {patience!r}")
        if not _is_count(cooldown):
            raise ValueError(f"ReduceLROnPlateau: cooldown must be a non-negative int, got {cooldown!r}")
        if not _is_real(eps) or not eps >= 0:
            raise ValueError(f"ReduceLROnPlateau: eps must be a non-negative number, got {eps!r}")
        n_groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n_groups:
                raise ValueError(
                    f"ReduceLROnPlateau: min_lr has {len(min_lr)} value(s) but the optimizer has "
                    f"{n_groups} param group(s); pass one number or a list with one per group"
                )
            bad = [v for v in min_lr if not _is_real(v) or not v >= 0]
            if bad:
                raise ValueError(
                    f"ReduceLROnPlateau: min_lr values must be non-negative numbers, got {bad[0]!r}"
                )
            self.default_min_lr: float | None = None
            self.min_lrs = [float(v) for v in min_lr]
        elif _is_real(min_lr) and min_lr >= 0:
            self.default_min_lr = float(min_lr)
            self.min_lrs = [float(min_lr)] * n_groups
        else:
            raise ValueError(
                "ReduceLROnPlateau: min_lr must be a non-negative number or a list of them (one per "
                f"param group), got {min_lr!r}"
            )
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, float(factor), int(patience)
        self.threshold, self.threshold_mode = float(threshold), threshold_mode
        self.cooldown, self.eps = int(cooldown), float(eps)
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = [float(g["lr"]) for g in optimizer.param_groups]

    @staticmethod
    def _check_mode(mode: Any, threshold: Any, threshold_mode: Any) -> None:
        """Validate ``mode``, ``threshold`` and ``threshold_mode``."""
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}"
            )
        if not _is_real(threshold) or not threshold >= 0:
            raise ValueError(f"ReduceLROnPlateau: threshold must be a non-negative number, got {threshold!r}")

    @property
    def in_cooldown(self) -> bool:
        """Whether the scheduler is still cooling down after a reduction."""
        return self.cooldown_counter > 0

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """Not available: the lr depends on the metrics seen, not on the epoch alone."""
        raise TypeError("ReduceLROnPlateau has no closed form; call step(metric) instead")

    def is_better(self, a: float, best: float) -> bool:
        """Whether ``a`` improves on ``best`` by more than the threshold (NaN never does)."""
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return a < best * (1.0 - self.threshold)
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (1.0 + self.threshold)
        return a > best + self.threshold

    @staticmethod
    def _metric_value(metrics: Any) -> float:
        """``metrics`` as a float: a Python/NumPy number or a one-element Tensor."""
        if isinstance(metrics, Tensor):
            if metrics.numel() != 1:
                raise ValueError(
                    "ReduceLROnPlateau.step: the metric must be a number or a one-element Tensor, got a "
                    f"Tensor of shape {tuple(metrics.shape)}"
                )
            return float(metrics.item())
        if not isinstance(metrics, numbers.Real):
            raise TypeError(
                "ReduceLROnPlateau.step: the metric must be a number or a one-element Tensor, got "
                f"{type(metrics).__name__}"
            )
        return float(metrics)

    def step(self, metrics: float | Tensor) -> None:  # type: ignore[override]
        """Record one epoch's ``metrics`` and reduce the lr if it has plateaued."""
        current = self._metric_value(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown are ignored
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        """Set each group's lr to ``max(lr * factor, min_lr)`` unless that changes it by <= eps."""
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"ReduceLROnPlateau: the optimizer now has {len(groups)} param group(s) but min_lr "
                    f"lists {len(self.min_lrs)}; set scheduler.min_lrs to one value per group"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for g, min_lr in zip(groups, self.min_lrs):
            old_lr = float(g["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                g["lr"] = new_lr

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state: counters, ``best``, settings and last lrs (not the optimizer)."""
        return {k: list(v) if isinstance(v, list) else v for k, v in super().state_dict().items()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict` (the settings are validated again)."""
        self._check_mode(
            state_dict.get("mode", self.mode),
            state_dict.get("threshold", self.threshold),
            state_dict.get("threshold_mode", self.threshold_mode),
        )
        self.__dict__.update({k: list(v) if isinstance(v, list) else v for k, v in state_dict.items()})


# -- more schedules ---------------------------------------------------------------------------------
class ConstantLR(LRScheduler):
    """lr = base_lr * factor until ``total_iters`` steps, then base_lr."""

    def __init__(
        self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1
    ) -> None:
        if not 0 <= factor <= 1:
            raise ValueError(f"ConstantLR: factor must be in [0, 1], got {factor}")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """base_lr * (factor if epoch < total_iters else 1)."""
        return base_lr * (self.factor if epoch < self.total_iters else 1.0)


class MultiplicativeLR(LRScheduler):
    """lr = the previous lr * lr_lambda(epoch) from the first step on (base_lr at epoch 0)."""

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, Sequence):
            if len(lr_lambda) != n:
                raise ValueError(
                    f"MultiplicativeLR: expected {n} lr_lambdas (one per group), got {len(lr_lambda)}"
                )
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        super().__init__(optimizer, last_epoch)

    def step(self) -> None:
        """Advance one epoch: each group's lr times its lambda (from epoch 1 on)."""
        self.last_epoch += 1
        if self.last_epoch > 0:
            for g, fn in zip(self.optimizer.param_groups, self.lr_lambdas):
                g["lr"] = g["lr"] * fn(self.last_epoch)
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """base_lr times the product of the first group's lambda over epochs 1..epoch."""
        lr = base_lr
        for e in range(1, epoch + 1):
            lr *= self.lr_lambdas[0](e)
        return lr

    def state_dict(self) -> dict[str, Any]:
        """The state, without the lambdas (callables), as PyTorch."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}


class PolynomialLR(LRScheduler):
    """lr = base_lr * (1 - min(epoch, total_iters) / total_iters) ** power."""

    def __init__(
        self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1
    ) -> None:
        if total_iters < 1:
            raise ValueError(f"PolynomialLR: total_iters must be a positive int, got {total_iters}")
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The polynomial decay, 0 from total_iters on."""
        return base_lr * (1.0 - min(self.total_iters, epoch) / self.total_iters) ** self.power


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing from base_lr to ``eta_min`` over ``T_0`` epochs, then restarting, each
    period ``T_mult`` times the last (SGDR). ``step(epoch)`` also takes a fractional epoch, as
    PyTorch's."""

    def __init__(
        self,
        optimizer: Optimizer,
        T_0: int,  # noqa: N803 - PyTorch's names
        T_mult: int = 1,  # noqa: N803
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"CosineAnnealingWarmRestarts: T_0 must be a positive int, got {T_0!r}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"CosineAnnealingWarmRestarts: T_mult must be an int >= 1, got {T_mult!r}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur: float = last_epoch
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The lr at the current position ``T_cur`` of the current period ``T_i``."""
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2

    def step(self, epoch: float | None = None) -> None:  # type: ignore[override]
        """Advance one epoch, or go to ``epoch`` (may be fractional), and set each group's lr."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur - self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts: epoch must be non-negative, got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = self.lr_at(base, self.last_epoch)
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]


def _momentum_key(name: str, optimizer: Optimizer) -> str:
    """'betas' for Adam-like optimizers (beta1 is cycled), 'momentum' for the others."""
    if "betas" in optimizer.defaults:
        return "betas"
    if "momentum" in optimizer.defaults:
        return "momentum"
    raise ValueError(
        f"{name}: optimizer must support momentum or beta1 with cycle_momentum enabled; pass "
        "cycle_momentum=False"
    )


def _set_momentum(group: dict[str, Any], key: str, value: float) -> None:
    if key == "betas":
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def _per_group(name: str, what: str, value: Any, n: int) -> list[float]:
    if isinstance(value, list | tuple):
        if len(value) != n:
            raise ValueError(f"{name}: expected {n} values of {what} (one per group), got {len(value)}")
        return [float(v) for v in value]
    return [float(value)] * n


class CyclicLR(LRScheduler):
    """The cyclical learning rate of Smith (2017): the lr goes from ``base_lr`` up to ``max_lr`` in
    ``step_size_up`` steps and back in ``step_size_down``, scaled per cycle ('triangular',
    'triangular2', 'exp_range' or ``scale_fn``); with ``cycle_momentum`` the momentum (or Adam's
    beta1) cycles the other way between ``max_momentum`` and ``base_momentum``. Step it after
    every batch."""

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float | list[float],
        max_lr: float | list[float],
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.8,
        max_momentum: float | list[float] = 0.9,
        last_epoch: int = -1,
    ) -> None:
        n = len(optimizer.param_groups)
        base_lrs = _per_group("CyclicLR", "base_lr", base_lr, n)
        if last_epoch == -1:
            for lr, g in zip(base_lrs, optimizer.param_groups):
                g["lr"] = lr
                g["initial_lr"] = lr
        self.max_lrs = _per_group("CyclicLR", "max_lr", max_lr, n)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        if up <= 0 or down <= 0:
            raise ValueError(
                f"CyclicLR: step sizes must be positive, got up={step_size_up}, down={step_size_down}"
            )
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(
                f"CyclicLR: mode must be 'triangular', 'triangular2' or 'exp_range', got {mode!r}"
            )
        self.mode, self.gamma = mode, gamma
        self._scale_fn_custom = scale_fn
        if scale_fn is None:
            self.scale_mode = "iterations" if mode == "exp_range" else "cycle"
        else:
            self.scale_mode = scale_mode
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self._momentum_key = _momentum_key("CyclicLR", optimizer)
            self.base_momentums = _per_group("CyclicLR", "base_momentum", base_momentum, n)
            self.max_momentums = _per_group("CyclicLR", "max_momentum", max_momentum, n)
            if last_epoch == -1:
                for m, g in zip(self.max_momentums, optimizer.param_groups):
                    _set_momentum(g, self._momentum_key, m)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x: float) -> float:
        """The amplitude scale of cycle (or iteration) ``x``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def _position(self, epoch: int) -> tuple[float, float]:
        """(the height fraction within the cycle, the scale argument) at ``epoch``."""
        cycle = math.floor(1 + epoch / self.total_size)
        x = 1.0 + epoch / self.total_size - cycle
        frac = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        return frac, (cycle if self.scale_mode == "cycle" else epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The first group's cycle (see :meth:`step` for every group)."""
        frac, arg = self._position(epoch)
        return base_lr + (self.max_lrs[0] - base_lr) * frac * self.scale_fn(arg)

    def step(self) -> None:
        """Advance one step: each group's lr (and momentum) from its position in the cycle."""
        self.last_epoch += 1
        frac, arg = self._position(self.last_epoch)
        scale = self.scale_fn(arg)
        base_lrs = getattr(self, "base_lrs", [g["lr"] for g in self.optimizer.param_groups])
        for i, g in enumerate(self.optimizer.param_groups):
            g["lr"] = base_lrs[i] + (self.max_lrs[i] - base_lrs[i]) * frac * scale
            if self.cycle_momentum:
                height = (self.max_momentums[i] - self.base_momentums[i]) * frac
                _set_momentum(g, self._momentum_key, self.max_momentums[i] - height * scale)
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """The state, without a custom scale function (a callable), as PyTorch."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_scale_fn_custom")}


class OneCycleLR(LRScheduler):
    """The 1cycle policy: the lr warms up from ``max_lr / div_factor`` to ``max_lr`` over
    ``pct_start`` of ``total_steps`` (or ``epochs * steps_per_epoch``), then anneals ('cos' or
    'linear') to ``initial_lr / final_div_factor`` (``three_phase``: back to the initial lr first);
    with ``cycle_momentum`` the momentum (or beta1) moves the opposite way. Step it after every
    batch; stepping past ``total_steps`` is an error, as PyTorch."""

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        name = "OneCycleLR"
        if total_steps is not None:
            if total_steps <= 0 or not isinstance(total_steps, int):
                raise ValueError(f"{name}: expected a positive integer total_steps, got {total_steps!r}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if epochs <= 0 or steps_per_epoch <= 0:
                raise ValueError(
                    f"{name}: expected positive epochs and steps_per_epoch, got {epochs} and "
                    f"{steps_per_epoch}"
                )
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError(f"{name}: you must define either total_steps OR (epochs AND steps_per_epoch)")
        if not 0 <= pct_start <= 1 or not isinstance(pct_start, float):
            raise ValueError(f"{name}: expected a float between 0 and 1 for pct_start, got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{name}: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        t = float(self.total_steps)
        if three_phase:
            self._phases = [
                (pct_start * t - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (2 * pct_start * t - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                (t - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:
            self._phases = [
                (pct_start * t - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (t - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        n = len(optimizer.param_groups)
        max_lrs = _per_group(name, "max_lr", max_lr, n)
        if last_epoch == -1:
            for lr, g in zip(max_lrs, optimizer.param_groups):
                g["initial_lr"] = lr / div_factor
                g["max_lr"] = lr
                g["min_lr"] = g["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self._momentum_key = _momentum_key(name, optimizer)
            if last_epoch == -1:
                for m_max, m_base, g in zip(
                    _per_group(name, "max_momentum", max_momentum, n),
                    _per_group(name, "base_momentum", base_momentum, n),
                    optimizer.param_groups,
                ):
                    _set_momentum(g, self._momentum_key, m_max)
                    g["max_momentum"], g["base_momentum"] = m_max, m_base
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _at(self, group: dict[str, Any], step: int, lr_or_momentum: int) -> float:
        start = 0.0
        for i, phase in enumerate(self._phases):
            end = phase[0]
            if step <= end or i == len(self._phases) - 1:
                pct = (step - start) / (end - start)
                a, b = phase[1 + 2 * lr_or_momentum], phase[2 + 2 * lr_or_momentum]
                return self._anneal(group[a], group[b], pct)
            start = end
        raise AssertionError("unreachable")

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The first group's lr at ``epoch``."""
        return self._at(self.optimizer.param_groups[0], epoch, 0)

    def step(self) -> None:
        """Advance one step: each group's lr (and momentum) from its phase."""
        self.last_epoch += 1
        if self.last_epoch > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {self.last_epoch} times; the specified number of total steps "
                f"is {self.total_steps}"
            )
        for g in self.optimizer.param_groups:
            g["lr"] = self._at(g, self.last_epoch, 0)
            if self.cycle_momentum:
                _set_momentum(g, self._momentum_key, self._at(g, self.last_epoch, 1))
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]


class SequentialLR(LRScheduler):
    """Runs ``schedulers`` one after another, switching at each of ``milestones`` (the next one
    starts from its epoch 0), as PyTorch."""

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: Sequence[LRScheduler],
        milestones: Sequence[int],
        last_epoch: int = -1,
    ) -> None:
        if len(schedulers) < 1:
            raise ValueError("SequentialLR: expects at least one scheduler")
        for i, s in enumerate(schedulers):
            if getattr(s, "optimizer", None) is not optimizer:
                raise ValueError(
                    f"SequentialLR: expects all schedulers to belong to the same optimizer, but "
                    f"scheduler {i} has a different one"
                )
            if isinstance(s, ReduceLROnPlateau):
                raise ValueError("SequentialLR: does not support ReduceLROnPlateau")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR: expects {len(schedulers) - 1} milestones (one fewer than schedulers), got "
                f"{len(milestones)}"
            )
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        # undo the steps the schedulers took at construction, as PyTorch: back to the initial lrs
        for g in optimizer.param_groups:
            g["lr"] = g["initial_lr"]
        for s in self._schedulers:
            s.last_epoch -= 1
        self.optimizer = optimizer
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch + 1
        self._schedulers[0].step()  # the first scheduler's epoch 0
        self._last_lr = self._schedulers[0].get_last_lr()

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The active scheduler's lr at its own epoch."""
        idx = bisect.bisect_right(self._milestones, epoch)
        start = self._milestones[idx - 1] if idx else 0
        return self._schedulers[idx].lr_at(base_lr, epoch - start)

    def step(self) -> None:
        """Advance one epoch: the active scheduler steps (a new one starts at its epoch 0)."""
        self.last_epoch += 1
        idx = bisect.bisect_right(self._milestones, self.last_epoch)
        s = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            s.last_epoch = -1  # restart it: its step() below is its epoch 0
        s.step()
        self._last_lr = s.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        """This scheduler's state and each wrapped scheduler's."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        state = dict(state_dict)
        for s, sd in zip(self._schedulers, state.pop("_schedulers")):
            s.load_state_dict(sd)
        self.__dict__.update(state)


class ChainedScheduler(LRScheduler):
    """Steps every scheduler of ``schedulers`` at once, each scaling what the others set: the lr is
    base_lr times the product of each scheduler's factor (its lr over its base lr), which is
    PyTorch's chaining for multiplicative schedules."""

    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None) -> None:
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler: expects at least one scheduler to be chained")
        optimizer = optimizer if optimizer is not None else schedulers[0].optimizer
        for i, s in enumerate(schedulers):
            if isinstance(s, ReduceLROnPlateau):
                raise ValueError("ChainedScheduler: does not support ReduceLROnPlateau")
            if s.optimizer is not optimizer:
                raise ValueError(
                    f"ChainedScheduler: expects all schedulers to belong to the same optimizer, but "
                    f"scheduler {i} has a different one"
                )
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = max(s.last_epoch for s in schedulers)
        self._apply()

    def _apply(self) -> None:
        for i, (g, base) in enumerate(zip(self.optimizer.param_groups, self.base_lrs)):
            lr = base
            for s in self._schedulers:
                own = s.base_lrs[i]
                lr *= s.lr_at(own, s.last_epoch) / own if own else 0.0
            g["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """base_lr times each scheduler's factor at ``epoch``."""
        lr = base_lr
        for s in self._schedulers:
            lr *= s.lr_at(base_lr, epoch) / base_lr if base_lr else 0.0
        return lr

    def step(self) -> None:
        """Advance every scheduler one epoch and set each group's lr."""
        for s in self._schedulers:
            s.last_epoch += 1
        self.last_epoch += 1
        self._apply()

    def state_dict(self) -> dict[str, Any]:
        """This scheduler's state and each wrapped scheduler's."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        state = dict(state_dict)
        for s, sd in zip(self._schedulers, state.pop("_schedulers")):
            s.load_state_dict(sd)
        self.__dict__.update(state)
