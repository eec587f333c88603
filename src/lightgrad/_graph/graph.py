"""Backward nodes: the objects behind `grad_fn`, `next_functions` and AccumulateGrad.

A node class is made per op name (`MulBackward0`, ...) by `node_class`. An instance holds
- next_functions: one (node, input_nr) edge per differentiable input, (None, 0) otherwise;
- _saved: what the op's rule reads, freed after backward unless retain_graph;
- _meta: small non-tensor facts (shapes, dims) that the rule needs and that are never freed.
"""
import itertools
import weakref
import os
import traceback

from .._tensor import Tensor, _make
from . import tangents
from .anomaly_mode import hint

__all__ = ["Node", "saved_tensors_hooks", "disable_saved_tensors_hooks", "save_on_cpu",
]

BACKWARD_TWICE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")

_seq = itertools.count()
_wrap = _make       # (array, grad_fn, out_nr) -> a Tensor tied to a node
# saved_tensors_hooks: active (pack, unpack) pairs, innermost last. Empty unless a hook
# context is open, so saving costs one truthiness test when hooks are unused.
hook_stack = []
_hooks_disabled = [None]  # the error message while disable_saved_tensors_hooks is active


class RuleNamespace:
    """The functions a backward rule may call (`ns.exp(x)`, `ns.sum_to(g, shape)`, ...).

    A rule is written once over `ns`; the engine runs it over NP (NumPy arrays, the fast
    path), T (Tensors, under create_graph, so the gradient is differentiable again) or B
    (batches of gradients, autograd/batched.py). The op families define the functions
    (ops._core.ns_def); a namespace with a `fallback` builds a missing name from NP's."""

    def __init__(self, name, fallback=None):
        self._name, self._fallback = name, fallback

    def __repr__(self):
        return f"<rule namespace {self._name}>"

    def __getattr__(self, name):
        fallback = self.__dict__.get("_fallback")
        if fallback is None or name.startswith("_"):
            raise AttributeError(f"rule namespace {self._name} has no function {name!r}")
        fn = fallback(getattr(NP, name))
        setattr(self, name, fn)       # resolve each name once
        return fn


NP = RuleNamespace("NP")
T = RuleNamespace("T")


_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def forward_trace():
    """The current stack without lightgrad's own innermost frames (anomaly mode records it
    for every node, to show where a failing node was created)."""
    stack = traceback.extract_stack()
    while stack and stack[-1].filename.startswith(_PKG_DIR):
        stack.pop()
    return stack


class RemovableHandle:
    """Returned by register_hook; `remove()` takes the hook out again."""
    _ids = itertools.count()

    def __init__(self, hooks_dict):
        # a plain dict cannot be weakly referenced; the dict never points back at the handle
        self.hooks_dict = hooks_dict
        self.id = next(RemovableHandle._ids)

    def remove(self):
        self.hooks_dict.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _Hooks:
    __slots__ = ("post", "pre", "retain", "tensor_pre")

    def __init__(self):
        self.pre, self.post = {}, {}
        self.tensor_pre = {}   # output_nr -> {id: fn} from Tensor.register_hook
        self.retain = {}       # output_nr -> weakref of the tensor that retains its grad


class SavedOutput:
    """An op's own output, saved without keeping the output Tensor (which would form the
    cycle output -> node -> output); rebuilt as a Tensor tied to the node when needed."""
    __slots__ = ("data", "nr", "vc", "version", "tangent")

    def __init__(self, tensor):
        self.data, self.vc, self.version, self.nr = tensor._data, tensor._vc, tensor._vc[0], \
            tensor._out_nr
        self.tangent = None     # forward AD: the output's tangent, for double backward
        if hook_stack:   # packed: `data` holds the SavedPacked, version None (see _unpack)
            self.data, self.vc, self.version = pack_saved(tensor, True), _PACKED_VC, None


def _type_str(t):
    """torch's legacy type name in the version error: torch.FloatTensor, torch.DoubleTensor."""
    return f"torch.{t.dtype._legacy}Tensor"


def version_error(t_dtype_str, shape, clause, found, expected):
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [{t_dtype_str} [{', '.join(map(str, shape))}]]{clause} is at "
        f"version {found}; expected version {expected} instead. {hint()}")


def op_name(node):
    """'MulBackward0' -> 'Mul', as torch names ops in the version error."""
    name = type(node).__name__
    i = name.rfind("Backward")
    return name[:i] if i > 0 else name


class Node:
    """Base of every backward node. `isinstance(t.grad_fn, autograd.graph.Node)` holds."""
    __slots__ = (
        "__weakref__",
        "_hooks",
        "_in",
        "_meta",
        "_metadata",
        "_saved",
        "_seq",
        "_trace",
        "next_functions",
    )
    _nout = 1            # number of forward outputs this node differentiates
    _saved_names = ()    # names of _saved entries, shown as _saved_<name>
    _meta_names = ()     # names of _meta entries, shown as _saved_<name>
    _rule = None         # rule(ns, grad, meta, *saved) -> one gradient per input
    _jvp = None          # forward-mode rule (filled in by forward-mode AD)

    def name(self):
        return type(self).__name__

    @property
    def metadata(self):
        try:
            return self._metadata
        except AttributeError:
            self._metadata = {}
            return self._metadata

    @property
    def requires_grad(self):
        return True

    def _get_hooks(self):
        try:
            h = self._hooks
        except AttributeError:
            h = None
        if h is None:
            h = self._hooks = _Hooks()
        return h

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) runs after the node; a returned tuple replaces
        grad_inputs."""
        h = self._get_hooks().post
        handle = RemovableHandle(h)
        h[handle.id] = fn
        return handle

    def register_prehook(self, fn):
        """fn(grad_outputs) runs before the node; a returned tuple replaces grad_outputs."""
        h = self._get_hooks().pre
        handle = RemovableHandle(h)
        h[handle.id] = fn
        return handle

    def __repr__(self):
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    # -- saved values -------------------------------------------------------------------
    def _unpack(self, as_tensors):
        """Saved values for the rule: arrays on the fast path, Tensors under create_graph.
        Checks each saved tensor's version, as torch's SavedVariable does."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(BACKWARD_TWICE)
        out = []
        for v in saved:
            tv = type(v)
            if tv is tuple:                            # (input Tensor, its version when saved)
                tensor, version = v
                if tensor._vc[0] != version:
                    if version is None:                # packed by saved_tensors_hooks
                        out.append(tensor.unpack(as_tensors))
                        continue
                    gf = tensor.grad_fn
                    clause = "" if gf is None else f", which is output {tensor._out_nr} of " \
                        f"{op_name(gf)},"
                    raise version_error(_type_str(tensor), tensor.shape, clause,
                                        tensor._vc[0], version)
                out.append(tensor if as_tensors else tensor._data)
            elif tv is SavedOutput:
                if v.vc[0] != v.version:
                    if v.version is None:              # packed by saved_tensors_hooks
                        out.append(v.data.unpack(as_tensors, self, v.nr))
                        continue
                    raise version_error(_type_str(_wrap(v.data, None, 0)), v.data.shape,
                                        f", which is output {v.nr} of {op_name(self)},",
                                        v.vc[0], v.version)
                if not as_tensors:
                    out.append(v.data)
                    continue
                t = _wrap(v.data, self, v.nr)
                if v.tangent is not None and tangents.active[0]:
                    tangents.set_tangent(t, v.tangent)
                out.append(t)
            else:
                out.append(v)
        return out

    def _release(self):
        if self._saved:
            self._saved = None

    def __getattr__(self, attr):
        # _saved_<name>: torch's view of what a node saved
        if attr.startswith("_saved_"):
            key = attr[7:]
            cls = type(self)
            if key in cls._saved_names:
                saved = object.__getattribute__(self, "_saved")
                if saved is None:
                    raise RuntimeError(BACKWARD_TWICE)
                v = saved[cls._saved_names.index(key)]
                if type(v) is SavedOutput:
                    if v.version is None:
                        return v.data.unpack(True, self, v.nr)
                    return _wrap(v.data, self, v.nr)
                if type(v) is tuple:
                    return v[0] if v[1] is not None else v[0].unpack(True)
                if v is None:
                    return v
                if hasattr(v, "shape"):
                    return _wrap(v, None, 0)
                if isinstance(v, (bool, int, float, complex)):
                    # torch saves a wrapped Python scalar as a 0-d tensor (int64, float64)
                    import numpy as np
                    return _wrap(np.asarray(v), None, 0)
                return v
            if key in cls._meta_names:
                m = object.__getattribute__(self, "_meta")
                return m if len(cls._meta_names) == 1 else m[cls._meta_names.index(key)]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{attr}'")


_node_classes = {}


def node_class(name, rule, saved=(), meta=(), nout=1, jvp=None):
    """The node class named `name` (torch's name, e.g. 'MulBackward0') whose backward is
    `rule(ns, grad, meta, *saved)`. Classes are keyed by name *and* rule: ops that share a
    torch name but not a rule (a fused matmul's 'UnsafeViewBackward0' and reshape's) get
    separate classes, and declaring the same op twice gives the same class.
    `jvp` is the op's forward-mode rule: forward_ad.DIAGONAL for elementwise ops, a function
    `jvp(ns, tangents, meta, *saved)`, or None (the transpose of `rule` is used)."""
    key = (name, rule, tuple(saved), tuple(meta), nout, jvp)
    cls = _node_classes.get(key)
    if cls is None:
        cls = type(name, (Node,), {"__slots__": (), "_rule": staticmethod(rule),
                                   "_saved_names": tuple(saved), "_meta_names": tuple(meta),
                                   "_nout": nout,
                                   "_jvp": None if jvp is None else staticmethod(jvp)})
        cls.__module__ = "builtins"
        _node_classes[key] = cls
    return cls


class AccumulateGrad(Node):
    """The node every leaf that requires grad ends in; it adds gradients into `.grad`.

    The leaf holds its AccumulateGrad (one per leaf, created at first use) and the node holds
    the leaf weakly, so there is no cycle, and a training loop does not build a new node for
    every parameter at every step. A leaf that died can no longer be observed, so a gradient
    that reaches a dead leaf is dropped."""
    __slots__ = ("_var",)
    next_functions = ()

    def __init__(self, variable):
        self._var = weakref.ref(variable)
        self._saved = ()
        self._seq = next(_seq)
        self._hooks = None

    @property
    def variable(self):
        return self._var()

    def name(self):
        return "torch::autograd::AccumulateGrad"


AccumulateGrad.__module__ = "builtins"


# -- saved tensors hooks -----------------------------------------------------------------
_PACKED_VC = (-1,)   # version counter of packed entries: never matches, so _unpack's
                     # slow branch (which knows about packing) handles them
_PACK_INPLACE = (
    "A saved tensor pack hook is modifying its input in place. Tensors provided as input to "
    "pack hook cannot be modified by in-place operations as this can lead to unexpected "
    "side-effects. Please open an issue if you need to perform in-place operations on the "
    "input to a pack hook.")


class SavedPacked:
    """A saved value that went through a pack hook: the packed object, the unpack hook, and
    the autograd facts needed to rebuild the tensor (its grad edge) when it is unpacked.
    In `_saved` it appears as `(SavedPacked, None)` for inputs and as a SavedOutput whose
    `data` is the SavedPacked for an op's own output."""
    __slots__ = ("packed", "unpack_hook", "grad_fn", "nr", "acc", "rg", "is_array", "_vc",
                 "shape", "dtype", "nbytes")

    def unpack(self, as_tensors, node=None, nr=0):
        t = self.unpack_hook(self.packed)
        if not hasattr(t, "_data") or not hasattr(t, "grad_fn"):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got "
                            f"result of type {type(t).__name__}")
        data = t._data
        if self.is_array or not as_tensors:
            return data
        if node is not None:                  # the op's own output: tied to the op's node
            return _wrap(data, node, nr)
        if self.grad_fn is not None:
            return _wrap(data, self.grad_fn, self.nr)
        out = _wrap(data, None, 0)
        if self.rg:                           # a leaf: gradients reach the same AccumulateGrad
            out._rg, out._acc = True, self.acc
        return out


def pack_saved(v, is_output=False):
    """Run the innermost pack hook on a Tensor (or a saved array) being saved for backward.
    Inputs return `(SavedPacked, None)` (the tuple form `_unpack` expects); outputs return
    the SavedPacked for SavedOutput to hold."""
    pack, unpack = hook_stack[-1]
    h = SavedPacked()
    h.is_array = not hasattr(v, "_data")
    t = _wrap(v, None, 0) if h.is_array else v
    d = t._data
    h.shape, h.dtype, h.nbytes = d.shape, d.dtype, d.nbytes
    h.unpack_hook, h._vc, h.nr = unpack, _PACKED_VC, t._out_nr
    h.grad_fn = None if is_output else t.grad_fn
    h.rg = t._rg
    h.acc = None
    if h.rg and h.grad_fn is None and not is_output:
        h.acc = t._acc if t._acc is not None else t._get_acc()
    version = t._vc[0]
    # no hooks while the pack hook runs: ops inside it must not pack again (as torch)
    saved_stack = hook_stack[:]
    hook_stack.clear()
    try:
        h.packed = pack(t)
    finally:
        hook_stack[:] = saved_stack
    if t._vc[0] != version:
        raise RuntimeError(_PACK_INPLACE)
    return h if is_output else (h, None)


class saved_tensors_hooks:
    """Context manager: tensors saved for backward by ops run inside it go through
    `pack_hook(tensor) -> anything`; backward gets them back through `unpack_hook(packed)
    -> Tensor`. Contexts nest; the innermost pair applies."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _hooks_disabled[0] is not None:
            raise RuntimeError(_hooks_disabled[0])
        hook_stack.append((self.pack_hook, self.unpack_hook))

    def __exit__(self, *args):
        hook_stack.pop()


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are kept on the CPU (every lightgrad tensor already is): the hooks
    store a detached copy, as torch's save_on_cpu does for tensors already on the CPU."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack_to_cpu(tensor):
            return (tensor.device, tensor.detach())

        def unpack_from_cpu(packed):
            return packed[1]

        super().__init__(pack_to_cpu, unpack_from_cpu)


class disable_saved_tensors_hooks:
    """Context manager in which using saved_tensors_hooks raises RuntimeError(error_message);
    entering it while hooks are active raises too, as in torch."""

    def __init__(self, error_message):
        self.error_message = error_message

    def __enter__(self):
        self.prev = _hooks_disabled[0]
        if hook_stack:
            raise RuntimeError(self.error_message)
        _hooks_disabled[0] = self.error_message

    def __exit__(self, *args):
        _hooks_disabled[0] = self.prev

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with disable_saved_tensors_hooks(self.error_message):
                return fn(*args, **kwargs)
        return wrapper


# -- summary: what a graph keeps alive for backward ----------------------------------------


# what a graph keeps alive: the summary lives beside, for readers of this file's core


# -- the graph methods of Tensor (the tensor core below knows no node) ---------------------
def _get_acc(self):
    """The leaf's AccumulateGrad, shared by every use of the leaf."""
    acc = self._acc
    if acc is None:
        acc = self._acc = AccumulateGrad(self)
    return acc


def register_hook(self, hook):
    """hook(grad) -> Tensor or None runs when the gradient for this tensor is computed."""
    if not self._rg:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is None:
        hooks = self._extra().setdefault("hooks", {})
    else:
        hooks = self.grad_fn._get_hooks().tensor_pre.setdefault(self._out_nr, {})
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle

def register_post_accumulate_grad_hook(self, hook):
    """hook(tensor) runs after the gradient has been accumulated into this leaf's .grad."""
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                           "tensors")
    if not self._rg:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    hooks = self._extra().setdefault("post_hooks", {})
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


Tensor._get_acc = _get_acc
Tensor.register_hook = register_hook
Tensor.register_post_accumulate_grad_hook = register_post_accumulate_grad_hook
