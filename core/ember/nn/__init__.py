"""Neural networks: :class:`Module`, :class:`Parameter`, layers, losses, ``functional``, ``init``,
``utils`` and ``parallel`` (PyTorch's ``torch.nn`` API)."""

from __future__ import annotations

from . import functional, init, parallel, utils
from .containers import ParameterDict, ParameterList
from .layers import *  # noqa: F403
from .layers import __all__ as _layers_all
from .module import IncompatibleKeys, Module, ModuleDict, ModuleList, Sequential
from .parameter import Parameter
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = [
    "Module",
    "Parameter",
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "ParameterList",
    "ParameterDict",
    "IncompatibleKeys",
    "RNN",
    "LSTM",
    "GRU",
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "TransformerEncoderLayer",
    "TransformerEncoder",
    "TransformerDecoderLayer",
    "TransformerDecoder",
    "Transformer",
    "functional",
    "init",
    "parallel",
    "utils",
    *_layers_all,
]
