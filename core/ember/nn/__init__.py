"""Neural networks: :class:`Module`, :class:`Parameter`, layers, losses, ``functional``, ``init``,
``utils`` and ``parallel`` (PyTorch's ``torch.nn`` API)."""

from __future__ import annotations

from . import functional, init, parallel, utils
from .layers import *  # noqa: F403
from .layers import __all__ as _layers_all
from .module import IncompatibleKeys, Module, ModuleDict, ModuleList, Sequential
from .parameter import Parameter

__all__ = [
    "Module",
    "Parameter",
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "IncompatibleKeys",
    "functional",
    "init",
    "parallel",
    "utils",
    *_layers_all,
]
