"""Recording an op: the node with its edges and saved values (`new_node`, `record`,
`record_multi`), forward tangents of the outputs, operand promotion, `out=` arguments, and
the array basics every backward rule may use (`ns.sum_to`, `ns.fix`, ...). ops/_core.py
re-exports these for the op families; ops/_views.py builds in-place ops and views on them.
"""
import numpy as np

from .. import _dtype
from .._creation import tensor
from .._tensor import Tensor, _make
from .._graph import forward_ad
from .._graph.grad_mode import state as _state
from .._graph.anomaly_mode import anomaly
from .._graph.graph import NP, T, SavedOutput, _seq, forward_trace, hook_stack, pack_saved

_ndarray = np.ndarray
_fw_active = forward_ad.active   # [True] while a forward-AD level is open
_next = _seq.__next__
_new = object.__new__
RESULT = object()  # marker in `saved`: save the op's own output


def ns_def(name, np_fn, t_fn):
    """Make `ns.<name>` available to rules, for arrays (np_fn) and for Tensors (t_fn)."""
    setattr(NP, name, np_fn)
    setattr(T, name, t_fn)


def grad_on():
    return _state.grad_enabled


def _save(v):
    if type(v) is Tensor or isinstance(v, Tensor):
        x = v._x
        if x and x.get("inference"):
            raise RuntimeError(
                "Inference tensors cannot be saved for backward. Please do not use Tensors "
                "created in inference mode in computation tracked by autograd. To work around "
                "this, you can make a clone to get a normal tensor and use it in autograd, or "
                "use `torch.no_grad()` instead of `torch.inference_mode()`.")
        if hook_stack:      # saved_tensors_hooks active (empty list, one test, otherwise)
            return pack_saved(v)
        return (v, v._vc[0])
    if hook_stack and type(v) is _ndarray:
        return pack_saved(v)
    return v


_NO_EDGE = (None, 0)


def new_node(cls, inputs, saved=(), meta=None, bcast=False):
    """A node of class `cls` with one (node, input_nr) edge per input, (None, 0) for inputs
    that need no gradient; with bcast, also each such input's (shape, dtype) for the engine
    to un-broadcast and cast gradients back."""
    node = _new(cls)
    edges = []
    ins = [] if bcast else None
    for t in inputs:
        if isinstance(t, Tensor) and t._rg:
            gf = t.grad_fn
            if gf is not None:
                edges.append((gf, t._out_nr))
            else:
                acc = t._acc
                edges.append((acc if acc is not None else t._get_acc(), 0))
            if bcast:
                d = t._data
                ins.append((d.shape, d.dtype))
        else:
            edges.append(_NO_EDGE)
            if bcast:
                ins.append(None)
    node.next_functions = tuple(edges)
    node._in = tuple(ins) if bcast else None
    node._saved = tuple([_save(v) for v in saved]) if saved else ()
    node._meta = meta
    node._seq = _next()
    node._hooks = None
    if anomaly[0]:
        node._trace = forward_trace()
    return node


def record(data, cls, inputs, saved=(), meta=None, bcast=False):
    """The op's output Tensor with a new node attached. Call only when recording.
    (This is the hot path of every recorded op, so the output is built inline.)"""
    node = new_node(cls, inputs, (), meta, bcast)
    if type(data) is not _ndarray:
        data = np.asarray(data)
    out = _new(Tensor)
    out._data = data
    out._rg = True
    out.grad_fn = node
    out._vc = [0]
    out._grad = out._base = out._acc = out._x = None
    out._out_nr = 0
    if _state.inference:
        out._x = {"inference": True}
    if saved:
        sv = []
        for v in saved:
            if v is RESULT:
                sv.append(SavedOutput(out))
            elif isinstance(v, Tensor) or hook_stack:
                sv.append(_save(v))
            else:
                sv.append(v)
        node._saved = tuple(sv)
    else:
        node._saved = ()
    if _fw_active[0]:
        forward_ad.propagate([out], node, inputs)
    return out


def emit(data, cls, inputs, saved=(), meta=None, bcast=False, out=None):
    """The one ending of an op: its output Tensor, recorded on a new `cls` node (with
    `saved`, `meta`, `bcast` as for `record`) when grad mode is on and a tensor input
    requires grad, a plain Tensor otherwise; then written into the user's `out=` tensor
    when one is given. Ops end with this instead of checking grad mode themselves."""
    if _state.grad_enabled:
        for t in inputs:
            if isinstance(t, Tensor) and t._rg:
                r = record(data, cls, inputs, saved, meta, bcast)
                return r if out is None else to_out(r, out)
    r = _make(data)
    return r if out is None else to_out(r, out)


def record_multi(datas, cls, inputs, saved=(), meta=None, bcast=False, differentiable=None,
                 tangents=True):
    """Outputs of a multi-output op sharing one node; output i has output_nr i. (An op
    that saves its outputs after this call passes tangents=False and propagates them.)"""
    node = new_node(cls, inputs, saved, meta, bcast)
    outs = []
    for i, d in enumerate(datas):
        if differentiable is None or differentiable[i]:
            outs.append(_make(d, node, i))
        else:
            outs.append(_make(d))
    return with_tangents(outs, node, inputs, differentiable) if tangents else outs


def with_tangents(outs, node, inputs, differentiable=None):
    """outs (built on `node` from `inputs`), given their tangents when a forward-AD level is
    open; for ops that make their multi-output node themselves."""
    if _fw_active[0]:
        forward_ad.propagate(outs, node, inputs, differentiable)
    return outs


def wrap(data):
    return _make(data)


# -- operands and type promotion ---------------------------------------------------------
def to_tensor(x):
    """A Tensor for x (a Tensor, number, list or array)."""
    if isinstance(x, Tensor):
        return x
    return tensor(x)


def binary_operands(a, b):
    """(Tensor a, Tensor-or-scalar b, array of a, array-or-scalar of b), promoted per torch.

    The fast path is two Tensors of one dtype, or a float Tensor with a Python float; other
    mixes go through dtype.result_type (cached) and a cast."""
    if not isinstance(a, Tensor):
        a = to_tensor(a)
    x = a._data
    if isinstance(b, Tensor):
        y = b._data
        if x.dtype is y.dtype or x.dtype == y.dtype:
            return a, b, x, y
    elif type(b) is float and x.dtype.kind in "fc" or type(b) is int and x.dtype.kind in "fci":
        if type(b) is int and x.dtype.kind in "iu":
            info = np.iinfo(x.dtype)
            if not info.min <= b <= info.max:   # torch wraps around; NumPy would raise
                b = int(np.array(b).astype(x.dtype))
        return a, b, x, b
    elif isinstance(b, (bool, int, float, complex, np.generic)):
        b = b.item() if isinstance(b, np.generic) else b
        y = b
    else:
        b = to_tensor(b)
        y = b._data
    rt = _dtype.result_type(a, b).np
    if x.dtype != rt:
        x = x.astype(rt)
    if isinstance(b, Tensor):
        if y.dtype != rt:
            y = y.astype(rt)
    else:
        y = np.asarray(y, dtype=rt)
    return a, b, x, y


def float_operand(t):
    """Array of t as a floating dtype (ints and bools become the default float)."""
    x = t._data
    if x.dtype.kind in "fc":
        return x
    return x.astype(_dtype.get_default_dtype().np)


def normalize_dims(dim, ndim):
    """dim (int, tuple, list or None) -> a tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        dim = (dim,)
    n = max(ndim, 1)
    out = []
    for d in dim:
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, "
                             f"{n - 1}], but got {d})")
        out.append(d % n)
    return tuple(out)


def to_out(result, out):
    """Write `result` into the user's `out=` tensor, as torch's out= variants do."""
    if out is None:
        return result
    if _state.grad_enabled and (result._rg or out._rg):
        node = getattr(result.grad_fn, "name", lambda: "op")()
        # torch names the op: AddBackward0 -> add, LogSoftmaxBackward0 -> log_softmax
        op = "".join("_" + c.lower() if c.isupper() else c
                     for c in node.split("Backward")[0]).lstrip("_")
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    rk, ok = result._data.dtype.kind, out._data.dtype.kind
    if rk != ok and (rk == "c" or rk == "f" and ok in "iub" or rk in "iu" and ok == "b"):
        raise RuntimeError(f"result type {result.dtype._legacy} can't be cast to the desired "
                           f"output type {out.dtype._legacy}")
    if out._data.shape == result._data.shape:
        np.copyto(out._data, result._data, casting="unsafe")
    else:
        out._data = result._data.astype(out._data.dtype, copy=True)
    out._vc[0] += 1
    return out


# -- the namespace basics every rule may use ----------------------------------------------
_ONES = {}  # (length, dtype) -> read-only ones vector for _np_sum_to


def _np_sum_to(g, shape):
    """Sum g down to `shape` (undo broadcasting)."""
    gs = g.shape
    if gs == shape:
        return g
    if len(gs) == 2 and g.dtype.kind == "f" and shape in ((1, gs[1]), (gs[1],)):
        # the bias pattern (batch, features) -> features: a ones-vector product is ~3x
        # faster than NumPy's axis-0 reduction on small arrays
        key = (gs[0], g.dtype)
        ones = _ONES.get(key)
        if ones is None:
            if len(_ONES) > 64:
                _ONES.clear()
            ones = _ONES[key] = np.ones(gs[0], g.dtype)
            ones.flags.writeable = False
        r = ones @ g
        return r if r.shape == shape else r.reshape(shape)
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape)
                                      if s == 1 and gs[i + lead] != 1)
    r = g.sum(axis=axes, keepdims=True) if axes else g
    return r.reshape(shape)


def _np_fix(g, shape, dtype):
    if g.shape != shape:
        g = _np_sum_to(np.asarray(g), shape)
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


def _np_expand(g, shape):
    """g broadcast to `shape` as a fresh array (np.broadcast_to costs ~3 us in Python)."""
    if not hasattr(g, "dtype"):
        g = np.asarray(g)
    if g.shape == shape:
        return g
    out = np.empty(shape, g.dtype)
    out[...] = g
    return out


def _np_embed(g, shape, key):
    """Zeros of `shape` with g written at the basic-index `key` (select/slice backward)."""
    z = np.zeros(shape, dtype=np.result_type(g))
    z[key] = g
    return z


NP.sum_to = _np_sum_to
NP.fix = _np_fix
NP.embed = _np_embed
NP.reshape = np.reshape
NP.broadcast_to = _np_expand
NP.sum = lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims)
NP.swapaxes = np.swapaxes
NP.transpose = np.transpose
NP.matmul = np.matmul
NP.where = np.where
NP.mT = lambda x: x.swapaxes(-1, -2)  # the method skips np.swapaxes' dispatch
NP.getitem = lambda x, key: x[key]
NP.zeros = lambda shape, like: np.zeros(shape, dtype=np.result_type(like))
NP.shape = np.shape
NP.ndim = np.ndim
NP.cast_like = lambda x, like: np.asarray(x).astype(np.result_type(like), copy=False)
