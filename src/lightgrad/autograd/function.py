"""autograd.Function: user-defined ops with a hand-written backward (spec section 6).

A subclass gets a node class `<Name>Backward` (`_backward_cls`). One instance of it is both
the `ctx` passed to `forward`/`backward` and the output's `grad_fn`, as in torch. The engine
calls `node.apply(grads, as_tensors)` for these nodes (their `_rule` is None).
"""
import functools
import warnings

import numpy as np

from .._graph import forward_ad, grad_mode
from .._tensor import Tensor, _make
from ..ops import _core, _record
from ..ops._core import new_node
from .._graph.anomaly_mode import anomaly
from .._graph.graph import (BACKWARD_TWICE, Node, SavedOutput, _seq, forward_trace,
                            node_class)

__all__ = ["FunctionCtx", "BackwardCFunction", "FunctionMeta", "Function", "once_differentiable",
           "InplaceFunction", "NestedIOFunction"]

_state = grad_mode.state


class FunctionCtx:
    """What `forward` may call on ctx: save tensors, mark outputs dirty or non-differentiable."""

    def save_for_backward(self, *tensors):
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{i} is of type {type(t).__name__}")
        self.to_save = tensors

    def save_for_forward(self, *tensors):
        self.saved_for_forward = tensors

    def mark_dirty(self, *args):
        self.dirty_tensors = args

    def mark_shared_storage(self, *pairs):
        warnings.warn("mark_shared_storage is deprecated. Tensors with shared storages are "
                      "automatically tracked. Note that calls to `set_()` are not tracked",
                      DeprecationWarning, stacklevel=2)

    def mark_non_differentiable(self, *args):
        self.non_differentiable = args

    def set_materialize_grads(self, value):
        self.materialize_grads = value


class BackwardCFunction(Node, FunctionCtx):
    """Base of every `<Name>Backward` node class (no __slots__: ctx takes any attribute)."""
    _forward_cls = None
    materialize_grads = True
    to_save = None
    dirty_tensors = ()
    non_differentiable = ()

    def __repr__(self):
        return f"<torch.autograd.function.{type(self).__name__} object at {hex(id(self))}>"

    @property
    def saved_tensors(self):
        if getattr(self, "_in_jvp", False):      # jvp sees what save_for_forward kept
            return tuple(getattr(self, "saved_for_forward", ()))
        saved = self._saved
        if saved is None:
            raise RuntimeError(BACKWARD_TWICE)
        if not saved:
            return ()
        return tuple(self._unpack(True))

    saved_variables = saved_tensors

    def _release(self):
        if self._saved:
            self._saved = None

    def apply(self, grads, as_tensors):
        """Run the user's backward on the gradients of the outputs (engine entry point)."""
        outs = self._out_meta
        if self._nout == 1:
            grads = [grads]
        gs = []
        slots = iter(grads)
        for meta in outs:
            if meta is None:             # a non-tensor output: its gradient is None
                gs.append(None)
                continue
            shape, dtype = meta
            g = next(slots)
            if g is None:
                if self.materialize_grads:
                    g = _make(np.zeros(shape, dtype))
            elif not as_tensors:
                g = _make(g)
            gs.append(g)
        cls = self._forward_cls
        backward = cls.backward
        if backward is Function.backward and cls.vjp is not Function.vjp:
            backward = cls.vjp
        result = backward(self, *gs)
        if not isinstance(result, tuple):
            result = (result,)
        n_args = len(self.needs_input_grad)
        if len(result) != n_args:
            if len(result) > n_args and all(r is None for r in result[n_args:]):
                result = result[:n_args]
            else:
                raise RuntimeError(f"function {type(self).__name__} returned an incorrect number "
                                   f"of gradients (expected {n_args}, got {len(result)})")
        out = []
        for idx, (pos, shape, dtype) in enumerate(self._in_meta):
            g = result[pos]
            if g is not None:
                if not isinstance(g, Tensor):
                    raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
                g = _fit_grad(self, idx, g, shape, dtype)
                if not as_tensors:
                    g = g._data
            out.append(g)
        return out


def _fit_grad(node, idx, g, shape, dtype):
    """Sum a gradient down to its input's shape and cast it to the input's dtype."""
    gshape = tuple(g._data.shape)
    if gshape != shape:
        lead = len(gshape) - len(shape)
        ok = lead >= 0 and all(s == 1 or s == gs for s, gs in zip(shape, gshape[lead:]))
        if not ok:
            raise RuntimeError(f"Function {type(node).__name__} returned an invalid gradient at "
                               f"index {idx} - got {list(gshape)} but expected shape compatible "
                               f"with {list(shape)}")
        axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape)
                                          if s == 1 and gshape[i + lead] != 1)
        g = g.sum(axes, keepdim=True) if axes else g
        g = g.reshape(shape)
    if g._data.dtype != dtype:
        from .. import _dtype
        g = g.to(_dtype._FROM_NP[np.dtype(dtype)])
    return g


class FunctionMeta(type):
    """Gives every Function subclass its node class `<Name>Backward` as `_backward_cls`."""

    def __init__(cls, name, bases, attrs):
        backward_cls = type(name + "Backward", (BackwardCFunction,), {"_forward_cls": cls})
        backward_cls.__qualname__ = name + "Backward"
        cls._backward_cls = backward_cls
        super().__init__(name, bases, attrs)


class Function(FunctionCtx, metaclass=FunctionMeta):
    """Base class for user ops: subclass with staticmethods `forward(ctx, *args)` and
    `backward(ctx, *grads)`, then call `MyFn.apply(*args)`.

    >>> class Exp(Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         r = x.exp(); ctx.save_for_backward(r); return r
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         r, = ctx.saved_tensors; return g * r
    """

    def __init__(self, *args, **kwargs):
        warnings.warn(f"{self.__class__} should not be instantiated. Methods on autograd "
                      "functions are all static, so you should invoke them on the class itself. "
                      "Instantiating an autograd function will raise an error in a future "
                      "version of PyTorch.", DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    generate_vmap_rule = False

    @staticmethod
    def forward(*args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        return _apply(cls, args, kwargs)


def _apply(cls, args, kwargs):
    node = cls._backward_cls.__new__(cls._backward_cls)
    edges, in_meta, needs = [], [], []
    grad_on = _state.grad_enabled
    for pos, a in enumerate(args):
        if isinstance(a, Tensor):
            rg = a._rg is True          # (a forward-AD dual records nothing backward)
            if rg and grad_on:
                gf = a.grad_fn
                edges.append((gf, a._out_nr) if gf is not None else (a._get_acc(), 0))
            else:
                edges.append((None, 0))
            in_meta.append((pos, a._data.shape, a._data.dtype))
            needs.append(rg)
        else:
            needs.append(False)
    node.needs_input_grad = tuple(needs)
    recording = grad_on and any(needs)
    custom_setup = cls.setup_context is not Function.setup_context
    with grad_mode.no_grad():
        if custom_setup:
            output = cls.forward(*args, **kwargs)
            cls.setup_context(node, args, output)
        else:
            output = cls.forward(node, *args, **kwargs)
    single = not isinstance(output, tuple)
    outputs = (output,) if single else output
    dirty = node.dirty_tensors
    arg_ids = {id(a) for a in args if isinstance(a, Tensor)}
    result = []
    for o in outputs:
        if isinstance(o, Tensor) and id(o) in arg_ids and not any(o is d for d in dirty):
            o = _view_of(o)      # an input returned unchanged comes back as a view of it
        result.append(o)
    for d in dirty:
        d._vc[0] += 1        # torch bumps the version of tensors marked dirty
    if recording:
        _attach(node, result, args, edges, in_meta, dirty)
    else:
        node._saved = ()
    if forward_ad.active[0]:
        tangents = [forward_ad.tangent_of(a) if isinstance(a, Tensor) else None for a in args]
        if any(t is not None for t in tangents):
            _forward_tangents(cls, node, tangents, result)
    return result[0] if single else tuple(result)


def _forward_tangents(cls, node, tangents, result):
    """Forward AD through a Function: its `jvp(ctx, *input_tangents)` gives the output
    tangents (ctx.saved_tensors there holds what forward passed to save_for_forward)."""
    if cls.jvp is Function.jvp:
        Function.jvp(node)          # raises torch's "You must implement the jvp function"
    node._in_jvp = True
    try:
        with grad_mode.no_grad():
            out = cls.jvp(node, *[None if t is None else _make(t) for t in tangents])
    finally:
        node._in_jvp = False
    outs = [r for r in result if isinstance(r, Tensor)]
    for o, t in zip(outs, out if isinstance(out, tuple) else (out,)):
        if t is not None:
            forward_ad.set_tangent(o, np.asarray(t._data, dtype=o._data.dtype))


def _view_of(t):
    v = _make(t._data)
    v._vc = t._vc
    v._base = t._base if t._base is not None else t
    return v


def _attach(node, outputs, args, edges, in_meta, dirty):
    """Make `node` the grad_fn of the differentiable outputs and finish its state."""
    for d in dirty:
        if d._rg and d.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad has been used in an in-place "
                               "operation.")
    node.next_functions = tuple(edges)
    node._in_meta = tuple(in_meta)
    node._meta = None
    node._in = None
    node._seq = next(_seq)
    node._hooks = None
    if anomaly[0]:
        node._trace = forward_trace()
    nondiff = node.non_differentiable
    out_meta = []
    nr = 0
    for o in outputs:
        if not isinstance(o, Tensor):
            out_meta.append(None)
            continue
        out_meta.append((o._data.shape, o._data.dtype))
        differentiable = o._data.dtype.kind in "fc" and not any(o is n for n in nondiff)
        if differentiable:
            if any(o is d for d in dirty):
                _core.rebase(o, node, nr)
            else:
                o.grad_fn, o._out_nr, o._rg = node, nr, True
                if o._x:
                    o._x.pop("nograd_view", None)
        else:
            o._rg = False
        nr += 1
    node._out_meta = tuple(out_meta)
    node._nout = max(nr, 1)
    to_save = node.to_save
    if to_save:
        # outputs are saved without the Tensor itself (no output -> node -> output cycle)
        by_id = {id(o): o for o in outputs if isinstance(o, Tensor) and o.grad_fn is node}
        node._saved = tuple(None if t is None else SavedOutput(t) if id(t) in by_id
                            else _record._save(t) for t in to_save)
        del node.to_save
    else:
        node._saved = ()


def _raise_twice(ns, g, meta):
    raise RuntimeError("trying to differentiate twice a function that was marked with "
                       "@once_differentiable")


_ErrorNode = node_class("Error", _raise_twice)


def once_differentiable(fn):
    """Decorator for `backward`: runs it without recording, and makes any attempt to
    differentiate its result raise (it has no derivative of its own)."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with grad_mode.no_grad():
            outputs = fn(ctx, *args)
        if not _state.grad_enabled:
            return outputs
        grads_in = [a for a in args if isinstance(a, Tensor) and a._rg]
        if not grads_in:
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        wrapped = []
        for o in outs:
            if isinstance(o, Tensor):
                node = new_node(_ErrorNode, grads_in)
                t = _make(o._data, node)
                wrapped.append(t)
            else:
                wrapped.append(o)
        return wrapped[0] if single else tuple(wrapped)

    return wrapper


class InplaceFunction(Function):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


class NestedIOFunction(Function):
    """Legacy torch class; kept for the name only."""
