"""Learning-rate schedules: StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR
(warm-up) and LambdaLR. Call ``scheduler.step()`` once per epoch (or iteration) after
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
