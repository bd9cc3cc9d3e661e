"""Recurrent layers with PyTorch's names, parameters and semantics: :class:`RNN`, :class:`LSTM`,
:class:`GRU` (``num_layers``, ``bidirectional``, ``batch_first``, ``dropout`` between layers) and
their cells :class:`RNNCell`, :class:`LSTMCell`, :class:`GRUCell`.

Each step is a small function below (the gate arithmetic of PyTorch's documentation, composed of
core ops, so autograd and every backend follow). A layer projects the whole input sequence with
``W_ih`` in one matmul, then runs the steps with ``h @ W_hh^T``.

The layers also take a :class:`ember.nn.utils.rnn.PackedSequence`, as PyTorch's: step ``t`` runs
the ``batch_sizes[t]`` sequences still going, so a sequence's final state is its state at its last
valid step, the reverse direction starts each sequence at its own last step, and the output is a
PackedSequence with the input's order.
"""

from __future__ import annotations

import math
from typing import Any

from .. import ops as E
from ..dtypes import as_dtype
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# -- one step of each cell: gi = x W_ih^T + b_ih (precomputed), h and c the state -------------------
def _rnn_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, relu: bool) -> Tensor:
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu."""
    pre = gi + F.linear(h, w_hh, b_hh)
    return E.relu(pre) if relu else E.tanh(pre)


def _lstm_step(gi: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> tuple[Tensor, Tensor]:
    """Gates i, f, g, o = chunks of gi + h W_hh^T + b_hh; c' = f c + i g; h' = o tanh(c')."""
    i, f, g, o = E.chunk(gi + F.linear(h, w_hh, b_hh), 4, -1)
    c = E.sigmoid(f) * c + E.sigmoid(i) * E.tanh(g)
    return E.sigmoid(o) * E.tanh(c), c


def _gru_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """r, z from the sums of the input and hidden parts; n = tanh(gi_n + r (h W_hn^T + b_hn));
    h' = (1 - z) n + z h."""
    gh = F.linear(h, w_hh, b_hh)
    i_r, i_z, i_n = E.chunk(gi, 3, -1)
    h_r, h_z, h_n = E.chunk(gh, 3, -1)
    r = E.sigmoid(i_r + h_r)
    z = E.sigmoid(i_z + h_z)
    n = E.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def _empty(shape: tuple[int, ...], device: Any, dtype: Any) -> Parameter:
    return Parameter(E.empty(shape, dtype=as_dtype(dtype) if dtype is not None else None, device=device))


class RNNBase(Module):
    """The layers shared by :class:`RNN`, :class:`LSTM` and :class:`GRU`: parameters
    ``weight_ih_l{k}[_reverse]`` (gates * hidden, input), ``weight_hh_l{k}[_reverse]``
    (gates * hidden, hidden) and, with ``bias``, ``bias_ih_l{k}``, ``bias_hh_l{k}``, all drawn from
    U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) as PyTorch."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        if mode not in _GATES:
            raise ValueError(f"{name}: unknown mode {mode!r}; use 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'")
        if isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        if hidden_size <= 0 or num_layers <= 0:
            raise ValueError(
                f"{name}: hidden_size and num_layers must be positive, got hidden_size={hidden_size}, "
                f"num_layers={num_layers}"
            )
        if proj_size:
            raise ValueError(f"{name}: proj_size is not supported; pass proj_size=0")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        gates = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            for d in range(dirs):
                suffix = f"_l{layer}" + ("_reverse" if d else "")
                layer_in = input_size if layer == 0 else hidden_size * dirs
                params = {
                    f"weight_ih{suffix}": _empty((gates, layer_in), device, dtype),
                    f"weight_hh{suffix}": _empty((gates, hidden_size), device, dtype),
                }
                if bias:
                    params[f"bias_ih{suffix}"] = _empty((gates,), device, dtype)
                    params[f"bias_hh{suffix}"] = _empty((gates,), device, dtype)
                for pname, p in params.items():
                    self.register_parameter(pname, p)
                    self._flat_weights_names.append(pname)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def flatten_parameters(self) -> None:
        """A no-op, for code written for cuDNN's packed weights."""

    def _layer_params(self, layer: int, d: int) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        suffix = f"_l{layer}" + ("_reverse" if d else "")
        get = self._parameters.get
        return (
            get(f"weight_ih{suffix}"),
            get(f"weight_hh{suffix}"),
            get(f"bias_ih{suffix}"),
            get(f"bias_hh{suffix}"),
        )  # type: ignore[return-value]

    def _check_input(self, input: Tensor) -> bool:
        """Whether ``input`` is batched; errors name the layer and the expected shapes."""
        name = type(self).__name__
        if input.ndim not in (2, 3):
            raise ValueError(
                f"{name}: expected a 2-D (L, H_in) or 3-D input ((L, N, H_in), or (N, L, H_in) with "
                f"batch_first=True), got shape {tuple(input.shape)}"
            )
        if input.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: expected input with {self.input_size} features in the last dim (input_size), got "
                f"shape {tuple(input.shape)}"
            )
        return input.ndim == 3

    def _initial_state(self, hx: Tensor | None, x: Tensor, what: str = "hx") -> Tensor:
        dirs = 2 if self.bidirectional else 1
        n = x.shape[1]
        shape = (self.num_layers * dirs, n, self.hidden_size)
        if hx is None:
            return E.zeros(shape, dtype=x.dtype, device=x.device)
        if tuple(hx.shape) != shape:
            raise ValueError(
                f"{type(self).__name__}: expected {what} of shape {shape} (num_layers * num_directions, "
                f"batch, hidden_size), got {tuple(hx.shape)}"
            )
        return hx

    def _step(self, gi: Tensor, state: list[Tensor], w_hh: Tensor, b_hh: Tensor | None) -> list[Tensor]:
        """One step of this layer's cell from the state list (h, and c for LSTM)."""
        if self.mode == "LSTM":
            return list(_lstm_step(gi, state[0], state[1], w_hh, b_hh))
        if self.mode == "GRU":
            return [_gru_step(gi, state[0], w_hh, b_hh)]
        return [_rnn_step(gi, state[0], w_hh, b_hh, self.mode == "RNN_RELU")]

    def _run_packed(
        self, data: Tensor, sizes: list[int], states: list[Tensor]
    ) -> tuple[Tensor, list[Tensor]]:
        """All layers over packed ``data`` (sum(sizes), H_in), step ``t`` holding the first
        ``sizes[t]`` sequences (sorted by decreasing length); ``states`` as in :meth:`_run`, in the
        sorted order. The forward direction drops a sequence's state from the running batch when
        it ends (that is its final state); the reverse direction runs from the last step down and
        takes each sequence in, from its initial state, at its own last step."""
        dirs = 2 if self.bidirectional else 1
        offsets = [0]
        for n in sizes:
            offsets.append(offsets[-1] + n)
        finals: list[list[Tensor]] = [[] for _ in states]
        x = data
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                w_ih, w_hh, b_ih, b_hh = self._layer_params(layer, d)
                gi_all = F.linear(x, w_ih, b_ih)  # (sum(sizes), gates * H)
                init_state = [s[layer * dirs + d] for s in states]
                seq: list[Tensor] = [None] * len(sizes)  # type: ignore[list-item]
                if d == 0:
                    state, running, ended = init_state, sizes[0], []
                    for t, n in enumerate(sizes):
                        if n < running:  # sequences n..running-1 ended at step t - 1
                            ended.append([s[n:running] for s in state])
                            state, running = [s[:n] for s in state], n
                        state = self._step(gi_all[offsets[t] : offsets[t + 1]], state, w_hh, b_hh)
                        seq[t] = state[0]
                    ended.append(state)
                    last = [E.cat([piece[k] for piece in reversed(ended)], 0) for k in range(len(state))]
                else:
                    state, running = [s[:0] for s in init_state], 0
                    for t in range(len(sizes) - 1, -1, -1):
                        n = sizes[t]
                        if n > running:  # sequences running..n-1 start here, at their last step
                            state = [E.cat([s, s0[running:n]], 0) for s, s0 in zip(state, init_state)]
                            running = n
                        state = self._step(gi_all[offsets[t] : offsets[t + 1]], state, w_hh, b_hh)
                        seq[t] = state[0]
                    last = state
                outs.append(E.cat(seq, 0))
                for k, s in enumerate(last):
                    finals[k].append(s)
            x = outs[0] if dirs == 1 else E.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, [E.stack(f, 0) for f in finals]

    def _forward_packed(self, packed: PackedSequence, hx: Any) -> tuple[PackedSequence, Any]:
        """The layer over a PackedSequence: initial states permuted into the sorted order, final
        states back into the original one, as PyTorch's ``permute_hidden``."""
        name = type(self).__name__
        data = packed.data
        if data.ndim != 2 or data.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: expected packed data of shape (sum of lengths, {self.input_size}) (input_size), "
                f"got {tuple(data.shape)}"
            )
        sizes = [int(v) for v in packed.batch_sizes.tolist()]
        dirs = 2 if self.bidirectional else 1
        shape = (self.num_layers * dirs, sizes[0], self.hidden_size)

        def initial(h: Tensor | None, what: str) -> Tensor:
            if h is None:
                return E.zeros(shape, dtype=data.dtype, device=data.device)
            if tuple(h.shape) != shape:
                raise ValueError(
                    f"{name}: expected {what} of shape {shape} (num_layers * num_directions, batch, "
                    f"hidden_size), got {tuple(h.shape)}"
                )
            return h if packed.sorted_indices is None else E.index_select(h, 1, packed.sorted_indices)

        if self.mode == "LSTM":
            if hx is not None and (not isinstance(hx, tuple | list) or len(hx) != 2):
                raise ValueError("LSTM: hx must be a tuple (h_0, c_0) or None")
            h0, c0 = (None, None) if hx is None else hx
            states = [initial(h0, "h_0"), initial(c0, "c_0")]
        else:
            states = [initial(hx, "hx")]
        out, finals = self._run_packed(data, sizes, states)
        if packed.unsorted_indices is not None:
            finals = [E.index_select(f, 1, packed.unsorted_indices) for f in finals]
        result = PackedSequence(out, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
        order = packed.__dict__.get("_order")
        if order is not None:
            result.__dict__["_order"] = order
        return result, (tuple(finals) if self.mode == "LSTM" else finals[0])

    def _run(self, x: Tensor, states: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
        """All layers over ``x`` (L, N, H_in) from ``states`` (one (layers * dirs, N, H) tensor per
        state: h, and c for LSTM); returns the last layer's outputs and the final states."""
        dirs = 2 if self.bidirectional else 1
        length = x.shape[0]
        finals: list[list[Tensor]] = [[] for _ in states]
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                w_ih, w_hh, b_ih, b_hh = self._layer_params(layer, d)
                gi_all = F.linear(x, w_ih, b_ih)  # (L, N, gates * H): the input part of every step
                state = [s[layer * dirs + d] for s in states]
                steps = range(length - 1, -1, -1) if d else range(length)
                seq: list[Tensor] = [None] * length  # type: ignore[list-item]
                for t in steps:
                    state = self._step(gi_all[t], state, w_hh, b_hh)
                    seq[t] = state[0]
                empty = E.zeros((0,) + tuple(state[0].shape), dtype=x.dtype, device=x.device)
                outs.append(E.stack(seq, 0) if length else empty)
                for k, s in enumerate(state):
                    finals[k].append(s)
            x = outs[0] if dirs == 1 else E.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, [E.stack(f, 0) for f in finals]

    def _forward(self, input: Tensor | PackedSequence, hx: Any) -> tuple[Any, Any]:
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        batched = self._check_input(input)
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        if self.mode == "LSTM":
            if hx is not None and (not isinstance(hx, tuple | list) or len(hx) != 2):
                raise ValueError("LSTM: hx must be a tuple (h_0, c_0) or None")
            h0, c0 = (None, None) if hx is None else hx
            if not batched and h0 is not None:
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
            states = [self._initial_state(h0, x, "h_0"), self._initial_state(c0, x, "c_0")]
        else:
            h0 = hx.unsqueeze(1) if (hx is not None and not batched) else hx
            states = [self._initial_state(h0, x)]
        out, finals = self._run(x, states)
        if batched and self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(1)
            finals = [f.squeeze(1) for f in finals]
        return out, (tuple(finals) if self.mode == "LSTM" else finals[0])

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or relu with
    ``nonlinearity='relu'``). ``forward(input, hx=None)`` returns ``(output, h_n)``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode,
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            0,
            device,
            dtype,
        )

    def forward(self, input: Tensor | PackedSequence, hx: Tensor | None = None) -> tuple[Any, Tensor]:
        """``(output, h_n)``: output (L, N, D * H) (batch first with ``batch_first``), h_n
        (num_layers * D, N, H); for a PackedSequence input the output is a PackedSequence and h_n
        holds each sequence's state at its last valid step."""
        return self._forward(input, hx)


class LSTM(RNNBase):
    """Long short-term memory. ``forward(input, (h_0, c_0)=None)`` returns
    ``(output, (h_n, c_n))``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
        )

    def forward(
        self, input: Tensor | PackedSequence, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Any, tuple[Tensor, Tensor]]:
        """``(output, (h_n, c_n))``; a PackedSequence input gives a PackedSequence output."""
        return self._forward(input, hx)


class GRU(RNNBase):
    """Gated recurrent unit. ``forward(input, hx=None)`` returns ``(output, h_n)``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            0,
            device,
            dtype,
        )

    def forward(self, input: Tensor | PackedSequence, hx: Tensor | None = None) -> tuple[Any, Tensor]:
        """``(output, h_n)``; a PackedSequence input gives a PackedSequence output."""
        return self._forward(input, hx)


# -- cells ------------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """One step: parameters ``weight_ih`` (gates * hidden, input), ``weight_hh``, ``bias_ih``,
    ``bias_hh``, drawn from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""

    _gates = 1

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        g = self._gates * hidden_size
        self.weight_ih = _empty((g, input_size), device, dtype)
        self.weight_hh = _empty((g, hidden_size), device, dtype)
        if bias:
            self.bias_ih = _empty((g,), device, dtype)
            self.bias_hh = _empty((g,), device, dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _check(self, input: Tensor, hx: Tensor | None) -> tuple[Tensor, Tensor, bool]:
        name = type(self).__name__
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: expected input of shape (N, {self.input_size}) or ({self.input_size},), got "
                f"{tuple(input.shape)}"
            )
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            return x, E.zeros((x.shape[0], self.hidden_size), dtype=x.dtype, device=x.device), batched
        h = hx if batched else hx.unsqueeze(0)
        if tuple(h.shape) != (x.shape[0], self.hidden_size):
            raise ValueError(
                f"{name}: expected a hidden state of shape {(x.shape[0], self.hidden_size)}"
                f"{'' if batched else ' (unbatched: (hidden_size,))'}, got {tuple(hx.shape)}"
            )
        return x, h, batched

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """One Elman RNN step: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or relu)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """The next hidden state."""
        x, h, batched = self._check(input, hx)
        out = _rnn_step(
            F.linear(x, self.weight_ih, self.bias_ih),
            h,
            self.weight_hh,
            self.bias_hh,
            self.nonlinearity == "relu",
        )
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: ``forward(input, (h, c)=None)`` returns ``(h', c')``."""

    _gates = 4

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        """The next (hidden, cell) state."""
        x, h, batched = self._check(input, None if hx is None else hx[0])
        c = h if hx is None else (hx[1] if batched else hx[1].unsqueeze(0))
        h, c = _lstm_step(F.linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step."""

    _gates = 3

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """The next hidden state."""
        x, h, batched = self._check(input, hx)
        out = _gru_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return out if batched else out.squeeze(0)
