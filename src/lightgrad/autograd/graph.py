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

__all__ = ["Node", "saved_tensors_hooks"]

BACKWARD_TWICE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")

_seq = itertools.count()
_wrap = None        # set by _tensor: (array, grad_fn, out_nr) -> Tensor tied to a node
anomaly = [False, True]  # [enabled, check_nan]; read on the hot path, so a plain list


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
    __slots__ = ("data", "nr", "vc", "version")

    def __init__(self, tensor):
        self.data, self.vc, self.version, self.nr = tensor._data, tensor._vc, tensor._vc[0], \
            tensor._out_nr


def _type_str(t):
    """torch's legacy type name in the version error: torch.FloatTensor, torch.DoubleTensor."""
    return f"torch.{t.dtype._legacy}Tensor"


def version_error(t_dtype_str, shape, clause, found, expected):
    from .anomaly_mode import hint
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
                    gf = tensor.grad_fn
                    clause = "" if gf is None else f", which is output {tensor._out_nr} of " \
                        f"{op_name(gf)},"
                    raise version_error(_type_str(tensor), tensor.shape, clause,
                                        tensor._vc[0], version)
                out.append(tensor if as_tensors else tensor._data)
            elif tv is SavedOutput:
                if v.vc[0] != v.version:
                    raise version_error(_type_str(_wrap(v.data, None, 0)), v.data.shape,
                                        f", which is output {v.nr} of {op_name(self)},",
                                        v.vc[0], v.version)
                out.append(_wrap(v.data, self, v.nr) if as_tensors else v.data)
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
                    return _wrap(v.data, self, v.nr)
                if type(v) is tuple:
                    return v[0]
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
    `jvp` is the slot for the op's forward-mode rule, which forward-mode AD will read."""
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


class saved_tensors_hooks:
    """Placeholder context for torch's pack/unpack hooks; the toolkit issue fills it in."""

    def __init__(self, pack_hook, unpack_hook):
        raise NotImplementedError("saved_tensors_hooks is not implemented yet")
