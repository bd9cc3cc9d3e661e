"""Optimizers (``ember.optim``): SGD, Adam, AdamW, RMSprop, and ``lr_scheduler``."""

from __future__ import annotations

from . import lr_scheduler
from .optimizer import Optimizer
from .sgd import SGD, Adam, AdamW, RMSprop

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]
