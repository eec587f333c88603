"""Recording an op: the node with its edges and saved values (`new_node`, `record`,
`record_multi`), forward tangents of the outputs, operand promotion, `out=` arguments, and
the array basics every backward rule may use (`ns.sum_to`, `ns.fix`, ...). ops/_core.py
re-exports these for the op families; ops/_views.py builds in-place ops and views on them.
"""
import operator
import sys

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


def scalar_arg(x):
    """A NumPy scalar as torch's argument parser reads a Scalar: integers as int, float64 and
    complex128 (subclasses of Python's float and complex) as those, any other (bool_,
    float16/32, complex64, longdouble) through float(): np.bool_(True) is 1.0, and a
    complex64 drops its imaginary part with NumPy's ComplexWarning, as in torch."""
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, complex):
        return complex(x)
    return float(x)


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
    elif isinstance(b, (int, float)) and not isinstance(b, (bool, np.generic)) \
            and x.dtype.kind in "fc":
        return a, b, x, b   # an int or float subclass (lightgrad.compile's traced scalars)
    elif isinstance(b, (bool, int, float, complex, np.generic)):
        b = scalar_arg(b) if isinstance(b, np.generic) else b
        y = b
    elif isinstance(b, np.ndarray):
        b = to_tensor(b)
        y = b._data
    else:       # torch's argument parser refuses lists, strings, None, ...
        f = sys._getframe(1)             # the text names the op calling (add, mul, ...),
        while f.f_code.co_name.startswith("_") and f.f_back is not None:
            f = f.f_back                 # above its private helpers
        op = f.f_code.co_name
        raise TypeError(f"{op}(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(b).__name__}")
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


def _dim_index(d):
    try:
        return operator.index(d)
    except TypeError:       # NOTE: torch lists the op's overloads here (docs/deviations.md)
        raise TypeError(f"argument 'dim' must be int or tuple of ints, not "
                        f"{type(d).__name__}") from None


def normalize_dims(dim, ndim):
    """dim (int, tuple, list or None) -> a tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer, float, str, Tensor)):
        dim = (dim,)            # (a 0-d integer tensor is an index, as in torch)
    n = max(ndim, 1)
    out = []
    for d in dim:
        if d.__class__ is not int:
            d = _dim_index(d)
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, "
                             f"{n - 1}], but got {d})")
        out.append(d % n)
    return tuple(out)


_C_NAMES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
            "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool", "float16": "c10::Half", "complex64": "c10::complex<float>",
            "complex128": "c10::complex<double>"}


def exact_out(result, out):
    """to_out for the ops whose out= must have the result's dtype (matmul, tril, ...)."""
    if out is not None and out._data.dtype != result._data.dtype:
        raise RuntimeError(f"Expected out tensor to have dtype "
                           f"{_C_NAMES.get(result._data.dtype.name, result._data.dtype.name)}, "
                           f"but got {_C_NAMES.get(out._data.dtype.name, out._data.dtype.name)} "
                           "instead")
    return to_out(result, out)


def distinct_dims(dims):
    """dims (normalized) unchanged, or torch's error for a dim named twice."""
    if len(set(dims)) < len(dims):
        d = next(d for i, d in enumerate(dims) if d in dims[:i])
        raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return dims


_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation.")
_READONLY = ("unsupported operation: the written-to tensor's memory belongs to a read-only "
             "NumPy array (from_numpy/as_tensor of an array whose flags.writeable is False), "
             "which lightgrad cannot write into. Copy the array, or make it writable, before "
             "converting it to a tensor.")


def unwritable(arr):
    """The RuntimeError for a write into the read-only array `arr`. NumPy marks two kinds of
    array read-only: views whose elements overlap (expand, unfold), for which torch's
    overlap error is right, and memory that is read-only at its root (a read-only NumPy
    array given to from_numpy), which torch writes into (undefined behaviour) and lightgrad
    cannot."""
    root = arr
    while isinstance(root.base, np.ndarray):
        root = root.base
    return RuntimeError(_READONLY if not root.flags.writeable else _OVERLAP)


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
        if not out._data.flags.writeable:
            raise unwritable(out._data)
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
        g = _np_sum_to(np.asanyarray(g), shape)   # (asanyarray: compile traces subclasses)
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


def _np_expand(g, shape):
    """g broadcast to `shape` as a fresh array (np.broadcast_to costs ~3 us in Python)."""
    if not hasattr(g, "dtype"):
        g = np.asarray(g)
    if g.shape == shape:
        return g
    out = np.empty_like(g, order="C", shape=shape)    # (like g: compile traces it)
    out[...] = g
    return out


def _np_embed(g, shape, key):
    """Zeros of `shape` with g written at the basic-index `key` (select/slice backward)."""
    z = np.empty_like(g, order="C", shape=shape)      # (like g: compile traces it)
    z.fill(0)
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
NP.cast_like = lambda x, like: np.asanyarray(x).astype(np.result_type(like), copy=False)
