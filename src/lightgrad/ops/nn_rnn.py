"""The LSTM layer's gate math as one node: nn.LSTM runs it once per time step.

Composed of public ops, one LSTM step records eleven nodes (a chunk, three sigmoids, two
tanh, three products and a sum besides the matmul), and a sequence of 32 steps spends most of
its time building and walking them. Here the step after the matmul is one NumPy
computation and one node with one rule. torch's CPU LSTM records its steps as composite
ops too, so the node inside the graph has no torch name to match; it only ever sits behind
the layer's `cat` and `stack` (nn.LSTMCell keeps the composite ops, whose `grad_fn` names
are torch's). Not a public op: under vmap, where a batched tensor arrives, nn.LSTM uses the
composite ops instead (`lstm_gates` returns None).
"""
import numpy as np

from .._graph.graph import T
from ._batched_tensor import BatchedTensor
from ._core import grad_on, node_class, record_multi
from .._tensor import _make
from .elementwise import _np_sigmoid


def _gates(ns, pre, H):
    """The four gate activations (i, f, g, o) of the pre-activations (N, 4H)."""
    s = ns.sigmoid(pre)
    return s[:, :H], s[:, H:2 * H], ns.tanh(pre[:, 2 * H:3 * H]), s[:, 3 * H:]


def _lstm_gates_rule(ns, grads, meta, pre, c):
    """c' = f c + i g, h' = o tanh(c'). From the NumPy forward, the activations come from
    the node (meta); for a differentiable gradient (create_graph) they are recomputed from
    the saved inputs, so that the second derivative sees them depend on the inputs."""
    gh, gc = grads
    H, acts = meta
    if ns is T:
        i, f, g, o = _gates(ns, pre, H)
        tc = ns.tanh(f * c + i * g)
    else:
        i, f, g, o, tc = acts
    if gh is not None:      # through h' = o tanh(c') into the cell state
        dc = gh * o * (1 - tc * tc)
        gc = dc if gc is None else gc + dc
    d_o = 0.0 * gc if gh is None else gh * tc * o * (1 - o)
    d_i = gc * g * i * (1 - i)
    d_f = gc * c * f * (1 - f)
    d_g = gc * i * (1 - g * g)
    return ns.cat([d_i, d_f, d_g, d_o], 1), gc * f


LstmGatesBackward = node_class("LstmGatesBackward", _lstm_gates_rule, saved=("gates", "cx"),
                               nout=2)


def lstm_gates(pre, c):
    """(h', c') of one LSTM step from its gate pre-activations `pre` (N, 4H: x W_ih^T +
    h W_hh^T + biases, torch's gate order i, f, g, o) and its cell state `c` (N, H); None
    under vmap (a batched argument), where the caller composes public ops instead."""
    if type(pre) is BatchedTensor or type(c) is BatchedTensor:
        return None
    p, cx = pre._data, c._data
    H = cx.shape[-1]
    s = _np_sigmoid(p)
    i, f, o = s[:, :H], s[:, H:2 * H], s[:, 3 * H:]
    g = np.tanh(p[:, 2 * H:3 * H])
    c2 = f * cx
    c2 += i * g
    tc = np.tanh(c2)
    h2 = o * tc
    if grad_on() and (pre._rg or c._rg):
        return tuple(record_multi((h2, c2), LstmGatesBackward, (pre, c), (pre, c),
                                  (H, (i, f, g, o, tc))))
    return _make(h2), _make(c2)
