"""The op-declaration mechanism shared by every op family.

An op is a Python function over Tensors that
1. computes its result with one array call on `t._data` (NumPy today);
2. when grad mode is on and an input requires grad, attaches a node of the class made by
   `autograd.graph.node_class(name, rule, ...)`, recording via `record` (`view_of` for
   views, `record_multi` for ops with several outputs). `node_class` also takes an explicit
   forward-mode rule (`jvp=`); without one the JVP comes from the backward rule.

A rule has the signature `rule(ns, grad, meta, *saved) -> one gradient per input` and is
written once over the small namespace `ns`: NumPy arrays on the fast path (`NP`), lightgrad
Tensors under create_graph (`T`), so gradients of gradients work for every op. Rules use
Python operators (+ - * / ** @ unary -, comparisons) and `ns.<fn>` calls, never methods,
so the same code serves both. Un-broadcasting and casting back to an input's dtype happen
once, in the engine, for nodes recorded with `bcast=True`. The same rules also run on a
batch of gradients at once (namespace `B` in autograd/batched.py, for is_grads_batched and
vectorized Jacobians), and forward-mode AD derives each op's JVP from its rule
(autograd/forward_ad.py).

Each public op is declared once, with `defop` beside its function: its names, node
classes, Tensor methods / in-place / operator forms, its forward-mode and vmap rules (or
the shorthand `kind=ELEMENTWISE` for both) and its test samples. `publish` at the end of a
family file attaches the declared methods and returns the family's `__all__`; `OPS` maps
every public differentiable op to its node names; the tests check that each one is
sampled. (Families not yet moved onto `defop` still name their ops with `declare`.)
"""
import itertools

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _make
from ..autograd import forward_ad
from ..autograd.grad_mode import state as _state
from ..autograd.graph import (NP, T, Node, SavedOutput, _seq, anomaly,  # noqa: F401
                              forward_trace, hook_stack, node_class, pack_saved)

_ndarray = np.ndarray
_fw_active = forward_ad.active   # [True] while a forward-AD level is open
_next = _seq.__next__
_new = object.__new__
OPS = {}          # public op name -> tuple of node class names it can produce
RESULT = object()  # marker in `saved`: save the op's own output




def ns_def(name, np_fn, t_fn):
    """Make `ns.<name>` available to rules, for arrays (np_fn) and for Tensors (t_fn)."""
    setattr(NP, name, np_fn)
    setattr(T, name, t_fn)


def declare(public_names, *node_names):
    """Record that the public ops `public_names` produce nodes `node_names` (op table check)."""
    for n in public_names.split():
        OPS[n] = OPS.get(n, ()) + node_names



# -- op declarations -----------------------------------------------------------------------
ELEMENTWISE = "elementwise"   # kind: each output element depends on the same input elements


class Sample:
    """One test input set of an op: one shape per tensor input, the range of the uniform
    random values (or a callable (shape, rng) -> array), and the extra arguments. The op
    tests call `op(*tensors, *args, **kwargs)` in lightgrad and in torch, with gradcheck,
    gradgradcheck, forward mode, batched backward and vmap.
    make_inputs: callable(rng) -> arrays, instead of shapes and domain;
    nondiff: positions of tensor inputs that take no gradient; grad / gradgrad: whether the
    op is differentiable (twice) at these inputs; np_ref: NumPy's answer, when it has one;
    pack: the tensors go in as one list (`cat([x, y], ...)`); method: the op is called as a
    method of the first tensor (`x.view_as(y)`); atol / rtol: gradcheck's tolerances,
    torch_atol: the tolerance against torch's values."""
    __slots__ = ("shapes", "domain", "args", "kwargs", "id", "grad", "gradgrad", "nondiff",
                 "make_inputs", "np_ref", "atol", "rtol", "torch_atol", "pack", "method")

    def __init__(self, *shapes, domain=(-2.0, 2.0), args=(), kwargs=None, id="", grad=True,
                 gradgrad=None, nondiff=(), make_inputs=None, np_ref=None, atol=1e-5,
                 rtol=1e-3, torch_atol=1e-6, pack=False, method=False):
        self.shapes, self.domain, self.args, self.kwargs = list(shapes), domain, args, \
            kwargs or {}
        self.pack, self.method = pack, method
        self.id, self.grad, self.gradgrad = id, grad, grad if gradgrad is None else gradgrad
        self.nondiff, self.make_inputs, self.np_ref = nondiff, make_inputs, np_ref
        self.atol, self.rtol, self.torch_atol = atol, rtol, torch_atol


class OpDecl:
    """Everything known about one public op (see `defop`)."""
    __slots__ = ("name", "fn", "module", "aliases", "nodes", "methods", "dunders", "kind",
                 "batch", "vmap_refused", "samples", "function")

    def __repr__(self):
        return f"<op {self.name}>"

    def names(self):
        return (self.name,) + self.aliases


DECLARED = {}   # public name (and each alias) -> OpDecl


def _inplace_dunder(name):
    return name.startswith("__i") and name != "__invert__"


def defop(fn=None, *, name=None, aliases=(), nodes=(), method=True, inplace=False,
          dunders=(), kind=None, batch=None, vmap_refused=None, samples=(), function=True):
    """Declare the public op `fn` (as a decorator, or called on a function made by a family
    helper); returns fn unchanged, so the call path stays the function itself.

    name / aliases: its public names (name defaults to fn.__name__): `lightgrad.<name>`, or
        in a submodule when qualified: "linalg.inv" (lightgrad.linalg), "F.mse_loss"
        (lightgrad.nn.functional); function=False: a Tensor method only, not a
        `lightgrad.<name>` function; nodes: the node classes it records
        (or their names, for classes made per call); method: also a Tensor method under each
        name (or a method function to use instead of fn); inplace: also `Tensor.<name>_`
        (True: the generic in-place variant, or a factory fn -> method for a faster or
        different one); dunders: Tensor
        operators that are this op: names (the op itself; `__i*__` the in-place method) or
        a {name: function} mapping for reflected forms.
    kind=ELEMENTWISE: forward mode applies the backward rule to the tangents (the Jacobian is
        diagonal) and vmap lines operands up on the same logical dims; `batch=` is another
        vmap rule (ops/_batching.py has the common ones, or write one beside the op), or
        `vmap_refused=` says why vmap cannot run it. One of kind, batch and vmap_refused is
        required.
    samples: the `Sample`s the op tests run."""
    if fn is None:
        return lambda f: defop(f, name=name, aliases=aliases, nodes=nodes, method=method,
                               inplace=inplace, dunders=dunders, kind=kind, batch=batch,
                               vmap_refused=vmap_refused, samples=samples, function=function)
    d = OpDecl()
    d.name, d.fn, d.module = name or fn.__name__, fn, fn.__module__
    d.aliases, d.nodes, d.kind = tuple(aliases), tuple(nodes), kind
    d.batch = batch if batch is not None else kind
    d.vmap_refused, d.samples, d.function = vmap_refused, tuple(samples), function
    if d.batch is None and vmap_refused is None:
        raise TypeError(f"defop({d.name}): give its vmap rule (kind= or batch=) or the reason "
                        "vmap refuses it (vmap_refused=)")
    for n in d.names():
        if n in DECLARED:
            raise ValueError(f"op {n} is declared twice")
        DECLARED[n] = d
        if d.nodes:
            OPS[n] = OPS.get(n, ()) + tuple(c if isinstance(c, str) else c.__name__
                                            for c in d.nodes)
    if kind == ELEMENTWISE:
        for cls in d.nodes:
            if cls._jvp is None:
                cls._jvp = forward_ad.DIAGONAL
    d.methods = ()
    tensor_names = tuple(n for n in d.names() if "." not in n)
    if method:
        m = fn if method is True else method
        d.methods = tensor_names
        for n in d.methods:
            setattr(Tensor, n, m)
    if inplace:
        m = inplace_method(fn) if inplace is True else inplace(fn)
        for n in tensor_names:
            setattr(Tensor, n + "_", m)
        d.methods += tuple(n + "_" for n in tensor_names)
    items = dunders.items() if isinstance(dunders, dict) else [(n, None) for n in dunders]
    d.dunders = tuple(n for n, _ in items)
    for dunder, f in items:
        if f is None:
            f = getattr(Tensor, d.name + "_") if _inplace_dunder(dunder) else fn
        setattr(Tensor, dunder, f)
    return fn


def publish(namespace):
    """The `__all__` of the family module whose globals are `namespace`: every op declared
    there under an unqualified name, its aliases bound in the module too (the submodules,
    lightgrad.linalg and nn.functional, import their qualified ops by name)."""
    mod = namespace["__name__"]
    names = []
    for n, d in DECLARED.items():
        if d.module == mod and d.function and "." not in n:
            namespace.setdefault(n, d.fn)
            names.append(n)
    return names


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
    from .._creation import tensor
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


# -- in-place ops --------------------------------------------------------------------------
_LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."
_VIEW_OF_LEAF_INPLACE = ("a view of a leaf Variable that requires grad is being used in an "
                         "in-place operation.")
_INFERENCE_INPLACE = (
    "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a "
    "clone to get a normal tensor before doing inplace update.See "
    "https://github.com/pytorch/rfcs/pull/17 for more details.")
_NOGRAD_VIEW = (
    "A view was created in no_grad mode and is being modified inplace with grad mode enabled. "
    "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify "
    "your code by moving both the view and the inplace either both inside the no_grad block "
    "(if you don't want the inplace to be tracked) or both outside (if you want the inplace to "
    "be tracked).")

inplace_on_view = None  # set by ops.indexing: CopySlices for in-place ops on views
track_view = refresh_views = None  # set by ops.indexing: views of a base whose history changes
refresh_view_tangents = None  # set by ops.indexing: forward AD, views of a base that changed


def check_inplace(self):
    """The checks every in-place op makes before writing into `self`."""
    x = self._x
    if x:
        if x.get("inference") and not _state.inference:
            raise RuntimeError(_INFERENCE_INPLACE)
        if x.get("multi_view"):
            raise RuntimeError(
                f"Output {self._out_nr} of {x['multi_view']} is a view and is being modified "
                "inplace. This view is the output of a function that returns multiple views. "
                "Such functions do not allow the output views to be modified inplace. You "
                "should replace the inplace operation by an out-of-place one.")
    if _state.grad_enabled:
        base = self._base
        if base is not None:
            if x and x.get("nograd_view"):     # torch checks this before the leaf rule
                raise RuntimeError(_NOGRAD_VIEW)
            if base._rg is True and base.grad_fn is None:
                raise RuntimeError(_VIEW_OF_LEAF_INPLACE)
        elif self._rg is True and self.grad_fn is None:
            raise RuntimeError(_LEAF_INPLACE)


def write_into(self, data):
    """Copy data into self's array in place (torch refuses e.g. float results into ints)."""
    dst = self._data
    if not dst.flags.writeable:     # NumPy marks broadcast (expanded) views read-only
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the "
                           "tensor before performing the operation.")
    if data.dtype != dst.dtype and not np.can_cast(data.dtype, dst.dtype, "same_kind") \
            and data.dtype.kind != dst.dtype.kind:
        raise RuntimeError(f"result type {_dtype.from_numpy_dtype(data.dtype)._legacy} can't be "
                           f"cast to the desired output type {self.dtype._legacy}")
    np.copyto(dst, data, casting="unsafe")
    self._vc[0] += 1


def inplace(self, op, *args, **kwargs):
    """Run the out-of-place `op(self, *args)` and write its result into self, as torch's
    in-place ops do: self keeps its identity and data buffer, its version goes up, and
    (when recording) it takes the op's node as its new grad_fn."""
    check_inplace(self)
    recording = _state.grad_enabled and (self._rg or any(
        isinstance(a, Tensor) and a._rg for a in itertools.chain(args, kwargs.values())))
    if not recording:
        r = op(self, *args, **kwargs)
        write_into(self, r._data)
        return self
    if self._base is not None:
        if inplace_on_view is None:
            raise NotImplementedError("in-place operations on views under autograd")
        return inplace_on_view(self, op, args, kwargs)
    # the node must see self's value from before the write: give it a snapshot
    old = _make(self._data.copy())
    old.grad_fn, old._rg, old._out_nr, old._acc = self.grad_fn, self._rg, self._out_nr, self._acc
    tangent = forward_ad.tangent_of(self)
    if tangent is not None:
        old._x = {"tangent": tangent}
    r = op(old, *args, **kwargs)
    write_into(self, r._data)
    rebase(self, r.grad_fn, r._out_nr)
    tangent = forward_ad.tangent_of(r)
    if tangent is not None:      # the result's tangent becomes self's, and its views'
        forward_ad.set_tangent(self, tangent)
        refresh_view_tangents(self)
    if self._x and self._x.get("views"):
        refresh_views(self)     # views of self now see the new history (AsStridedBackward0)
    return self


def inplace_method(fn):
    """The `op_` method of an out-of-place op `fn`: `Tensor.exp_ = inplace_method(exp)`."""
    def method(self, *args, **kwargs):
        return inplace(self, fn, *args, **kwargs)
    method.__name__ = method.__qualname__ = fn.__name__ + "_"
    return method


def rebase(t, node, out_nr=0):
    """Give t a new grad_fn after an in-place op; a retained grad follows the tensor."""
    had_retain = t.retains_grad
    t.grad_fn, t._out_nr, t._rg = node, out_nr, node is not None or t._rg
    if had_retain:
        t._x["retains_grad"] = False
        t.retain_grad()


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


def view_of(input, data, cls=None, meta=None, saved=()):
    """An output that shares input's memory and version counter (a view), with node `cls`
    attached when recording."""
    base = input._base if input._base is not None else input
    if _state.grad_enabled and input._rg and cls is not None:
        out = record(data, cls, (input,), saved, meta)
        track_view(base, out)   # so an in-place op on the base can rebuild its history
    else:
        out = _make(data)
        if input._rg and not _state.grad_enabled:
            out._extra()["nograd_view"] = True
    out._vc = input._vc
    out._base = base
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
