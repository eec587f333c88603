"""Recurrent layers: RNN, LSTM, GRU and their single-step cells, with torch's weight layout.

Every layer works on the packed layout: a (N, features) matrix of time steps laid one after
another, step t holding the first `batch_sizes[t]` batch rows (a padded (T, B, F) input is the
special case batch_sizes = [B] * T, reshaped to (T*B, F)). So, per layer and direction:
  * the input projection x @ W_ih^T + b is ONE matmul over all time steps;
  * each step is one `addmm` (h @ W_hh^T added to its precomputed slice) plus the gate math;
  * the outputs are joined by one `cat`.
Gradients come from the core autograd through these lightgrad ops.

Gate order in the weight rows is torch's: LSTM (i, f, g, o), GRU (r, z, n).
"""
import math
import warnings

import lightgrad as _lg

from ...ops.nn_rnn import lstm_gates
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .._functional.attention import _dropout
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


# -- one time step per cell type -------------------------------------------------------------
# x_t: the precomputed input projection of this step (for RNN/LSTM it already holds
# b_ih + b_hh; for GRU only b_ih, since b_hn sits inside r * (...)).
def _rnn_tanh_step(x_t, state, w_hh_t, b_hh, w_hr_t):
    return (_lg.tanh(_lg.addmm(x_t, state[0], w_hh_t)),)


def _rnn_relu_step(x_t, state, w_hh_t, b_hh, w_hr_t):
    return (_lg.relu(_lg.addmm(x_t, state[0], w_hh_t)),)


def _lstm_step(x_t, state, w_hh_t, b_hh, w_hr_t):
    h, c = state
    i, f, g, o = _lg.addmm(x_t, h, w_hh_t).chunk(4, 1)
    c = _lg.sigmoid(f) * c + _lg.sigmoid(i) * _lg.tanh(g)
    h = _lg.sigmoid(o) * _lg.tanh(c)
    if w_hr_t is not None:
        h = _lg.mm(h, w_hr_t)
    return h, c


def _lstm_layer_step(x_t, state, w_hh_t, b_hh, w_hr_t):
    """_lstm_step inside nn.LSTM: the gate math as one node (ops/nn_rnn.py), where the
    composite ops' node names are not seen (nn.LSTMCell keeps them)."""
    h, c = state
    out = lstm_gates(_lg.addmm(x_t, h, w_hh_t), c)
    if out is None:                     # under vmap
        return _lstm_step(x_t, state, w_hh_t, b_hh, w_hr_t)
    h, c = out
    if w_hr_t is not None:
        h = _lg.mm(h, w_hr_t)
    return h, c


def _gru_step(x_t, state, w_hh_t, b_hh, w_hr_t):
    h = state[0]
    gh = _lg.mm(h, w_hh_t) if b_hh is None else _lg.addmm(b_hh, h, w_hh_t)
    H = h.shape[-1]
    x_rz, x_n = x_t.split([2 * H, H], 1)
    gh_rz, gh_n = gh.split([2 * H, H], 1)
    r, z = _lg.sigmoid(x_rz + gh_rz).chunk(2, 1)
    n = _lg.tanh(x_n + r * gh_n)
    return (n + z * (h - n),)


_STEPS = {"RNN_TANH": _rnn_tanh_step, "RNN_RELU": _rnn_relu_step, "LSTM": _lstm_step,
          "GRU": _gru_step}
_LAYER_STEPS = dict(_STEPS, LSTM=_lstm_layer_step)


def _input_projection(mode, x, w_ih, b_ih, b_hh):
    """x @ W_ih^T plus the biases that can be folded in, for all time steps at once."""
    if b_ih is None:
        return _lg.mm(x, w_ih.t())
    bias = b_ih if mode == "GRU" else b_ih + b_hh
    return _lg.addmm(bias, x, w_ih.t())


def _run_direction(mode, xw, batch_sizes, state0, w_hh, b_hh, w_hr, reverse):
    """Run one direction of one layer over the packed projection `xw`.

    Returns (output rows in packed order, final state tuple with all batch rows)."""
    step = _LAYER_STEPS[mode]
    w_hh_t = w_hh.t()
    w_hr_t = None if w_hr is None else w_hr.t()
    steps = xw.split(batch_sizes, 0) if len(batch_sizes) > 1 else (xw,)
    T = len(batch_sizes)
    outs = [None] * T
    if not reverse:
        cur = batch_sizes[0]
        state = tuple(s if s.shape[0] == cur else s[:cur] for s in state0)
        finals = []       # row blocks whose sequences ended, last rows first
        for t in range(T):
            n = batch_sizes[t]
            if n != cur:
                finals.append(tuple(s[n:] for s in state))
                state = tuple(s[:n] for s in state)
                cur = n
            state = step(steps[t], state, w_hh_t, b_hh, w_hr_t)
            outs[t] = state[0]
        if finals:
            finals.append(state)
            finals.reverse()
            state = tuple(_lg.cat(parts, 0) for parts in zip(*finals))
    else:
        cur = batch_sizes[-1]
        state = tuple(s[:cur] for s in state0) if cur != state0[0].shape[0] else state0
        for t in range(T - 1, -1, -1):
            n = batch_sizes[t]
            if n != cur:
                # sequences that start (from their end) at this step join with their h0
                state = tuple(_lg.cat([s, s0[cur:n]], 0) for s, s0 in zip(state, state0))
                cur = n
            state = step(steps[t], state, w_hh_t, b_hh, w_hr_t)
            outs[t] = state[0]
    out = outs[0] if T == 1 else _lg.cat(outs, 0)
    return out, state


def _check_hidden(h, expected, msg):
    if tuple(h.shape) != tuple(expected):
        raise RuntimeError(f"{msg} {tuple(expected)}, got {list(h.shape)}")


class RNNBase(Module):
    """Base class of RNN, LSTM and GRU: parameters, checks and the layer loop."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        if (not isinstance(dropout, (int, float)) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: "
                            f"{type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_in = input_size if layer == 0 else real_hidden * num_directions
                shapes = [("weight_ih", (gate_size, layer_in)),
                          ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                suffix = "_reverse" if direction == 1 else ""
                names = []
                for base, shape in shapes:
                    name = f"{base}_l{layer}{suffix}"
                    setattr(self, name, Parameter(_lg.empty(shape, dtype=dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        with _lg.no_grad():
            for weight in self.parameters():
                weight.uniform_(-stdv, stdv)

    def flatten_parameters(self):
        """No-op: there is no cuDNN weight buffer to compact."""

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    def _layer_weights(self, layer, direction):
        sfx = f"_l{layer}" + ("_reverse" if direction else "")
        g = self._parameters.get
        return (g("weight_ih" + sfx), g("weight_hh" + sfx), g("bias_ih" + sfx),
                g("bias_hh" + sfx), g("weight_hr" + sfx))

    def forward(self, input, hx=None):
        mode = self.mode
        name = "RNN" if mode.startswith("RNN") else mode
        is_lstm = mode == "LSTM"
        D = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        packed = isinstance(input, PackedSequence)
        if packed:
            data, bsz, sorted_idx, unsorted_idx = input
            batch_sizes = [int(v) for v in bsz.tolist()]
            B = batch_sizes[0]
            x = data
            batched = True
        else:
            if input.dim() not in (2, 3):
                extra = "" if is_lstm else " tensor"
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got "
                                 f"{input.dim()}D{extra} instead")
            batched = input.dim() == 3
            if not batched:
                input = input.unsqueeze(1)
            elif self.batch_first:
                input = input.transpose(0, 1)
            T, B = input.shape[0], input.shape[1]
            batch_sizes = [B] * T
            x = input.reshape(T * B, input.shape[2]) if T else input.reshape(0, input.shape[2])
            sorted_idx = unsorted_idx = None
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]}")
        w0 = self.weight_ih_l0
        if x.dtype != w0.dtype:
            raise ValueError(f"{name} input dtype ({x.dtype}) does not match weight dtype "
                             f"({w0.dtype}). Convert input: input.to({w0.dtype}), or convert "
                             f"model: model.to({x.dtype})")

        # -- initial states: (L*D, B, H) each, in the sorted batch order for packed input
        LD = self.num_layers * D
        h_shape = (LD, B, real_hidden)
        c_shape = (LD, B, self.hidden_size)
        if hx is None:
            states = [_lg.zeros(h_shape, dtype=x.dtype)]
            if is_lstm:
                states.append(_lg.zeros(c_shape, dtype=x.dtype))
        else:
            states = list(hx) if is_lstm else [hx]
            if not batched:
                if any(s.dim() != 2 for s in states):
                    if is_lstm:
                        raise RuntimeError(
                            "For unbatched 2-D input, hx and cx should also be 2-D but got "
                            f"({states[0].dim()}-D, {states[1].dim()}-D) tensors")
                    raise RuntimeError("For unbatched 2-D input, hx should also be 2-D but got "
                                       f"{states[0].dim()}-D tensor")
                states = [s.unsqueeze(1) for s in states]
            elif not packed and any(s.dim() != 3 for s in states):
                if is_lstm:
                    raise RuntimeError(
                        "For batched 3-D input, hx and cx should also be 3-D but got "
                        f"({states[0].dim()}-D, {states[1].dim()}-D) tensors")
                raise RuntimeError("For batched 3-D input, hx should also be 3-D but got "
                                   f"{states[0].dim()}-D tensor")
            if sorted_idx is not None:
                states = [s.index_select(1, sorted_idx) for s in states]
            if is_lstm:
                _check_hidden(states[0], h_shape, "Expected hidden[0] size")
                _check_hidden(states[1], c_shape, "Expected hidden[1] size")
            else:
                _check_hidden(states[0], h_shape, "Expected hidden size")

        finals = []
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_weights(layer, d)
                xw = _input_projection(mode, layer_in, w_ih, b_ih, b_hh)
                k = layer * D + d
                s0 = tuple(s[k] for s in states)
                out, state = _run_direction(mode, xw, batch_sizes, s0, w_hh,
                                            b_hh if mode == "GRU" else None, w_hr, d == 1)
                outs.append(out)
                finals.append(state)
            layer_in = outs[0] if D == 1 else _lg.cat(outs, 1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = _dropout(layer_in, self.dropout)
        h_n = [_lg.stack([f[i] for f in finals], 0) for i in range(len(states))]
        if unsorted_idx is not None:
            h_n = [h.index_select(1, unsorted_idx) for h in h_n]

        if packed:
            output = PackedSequence(layer_in, bsz, sorted_idx, unsorted_idx)
        else:
            output = layer_in.reshape(len(batch_sizes), B, layer_in.shape[-1])
            if not batched:
                output = output.squeeze(1)
                h_n = [h.squeeze(1) for h in h_n]
            elif self.batch_first:
                output = output.transpose(0, 1)
        return output, (tuple(h_n) if is_lstm else h_n[0])


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu).

    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
        batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None)
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory layer(s); returns (output, (h_n, c_n)).

    >>> import lightgrad as torch
    >>> lstm = torch.nn.LSTM(3, 4, num_layers=2)
    >>> out, (h, c) = lstm(torch.randn(5, 2, 3))
    >>> tuple(out.shape), tuple(h.shape)
    ((5, 2, 4), (2, 2, 4))
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit layer(s); returns (output, h_n)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# -- cells -----------------------------------------------------------------------------------
class RNNCellBase(Module):
    """Base of the single-step cells: weight_ih (G*H, I), weight_hh (G*H, H), biases."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        G = num_chunks * hidden_size
        self.weight_ih = Parameter(_lg.empty((G, input_size), dtype=dtype))
        self.weight_hh = Parameter(_lg.empty((G, hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(_lg.empty(G, dtype=dtype))
            self.bias_hh = Parameter(_lg.empty(G, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        with _lg.no_grad():
            for weight in self.parameters():
                weight.uniform_(-stdv, stdv)

    def _prepare(self, input, hx, n_states):
        """Checks, batch dim for 1-D input, zero states; returns (x, states, batched)."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             "instead")
        if hx is not None:
            hs = list(hx) if n_states == 2 else [hx]
            for i, h in enumerate(hs):
                if h.dim() not in (1, 2):
                    which = f"hx[{i}]" if n_states == 2 else "hidden"
                    raise ValueError(f"{name}: Expected {which} to be 1D or 2D, got "
                                     f"{h.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} "
                               f"expected {self.input_size}")
        B = input.shape[0]
        if hx is None:
            hs = [_lg.zeros((B, self.hidden_size), dtype=input.dtype) for _ in range(n_states)]
        else:
            hs = [h if batched else h.unsqueeze(0) for h in hs]
            for i, h in enumerate(hs):
                if h.shape[0] != B:
                    raise RuntimeError(f"Input batch size {B} doesn't match hidden{i} batch "
                                       f"size {h.shape[0]}")
                if h.shape[1] != self.hidden_size:
                    raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got "
                                       f"{h.shape[1]}, expected {self.hidden_size}")
        return input, tuple(hs), batched

    def _step(self, mode, input, hx, n_states):
        x, state, batched = self._prepare(input, hx, n_states)
        xw = _input_projection(mode, x, self.weight_ih, self.bias_ih, self.bias_hh)
        out = _STEPS[mode](xw, state, self.weight_hh.t(),
                           self.bias_hh if mode == "GRU" else None, None)
        if not batched:
            out = tuple(o.squeeze(0) for o in out)
        return out


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return self._step(mode, input, hx, 1)[0]


class LSTMCell(RNNCellBase):
    """One LSTM step; returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        return self._step("LSTM", input, hx, 2)


class GRUCell(RNNCellBase):
    """One GRU step; returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        return self._step("GRU", input, hx, 1)[0]
