"""torch.autograd: backward(), grad(), grad modes, Function, gradcheck and anomaly mode."""
import warnings

import numpy as np

from .._tensor import Tensor, _make
from ..ops import _batched_tensor as _batched
from ..ops._core import DECLARED
from .._graph.engine import execute, is_batched
from . import anomaly_mode, forward_ad, grad_mode, graph  # noqa: F401  (torch's submodules)
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .function import Function, NestedIOFunction
from .grad_mode import (enable_grad, enforce_grad_layout_policy, inference_mode, no_grad,
                        set_grad_enabled, set_multithreading_enabled)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["Variable", "Function", "backward", "grad_mode", "NestedIOFunction",
           "detect_anomaly", "enable_grad", "grad", "gradcheck", "gradgradcheck",
           "inference_mode", "no_grad", "set_detect_anomaly", "set_grad_enabled",
           "set_multithreading_enabled", "enforce_grad_layout_policy", "graph", "forward_ad"]

# `autograd.gradcheck` is the function (as in torch); the module stays importable as
# `autograd.gradcheck` through sys.modules, and these let `gradcheck.GradcheckError` work too
gradcheck.gradcheck, gradcheck.gradgradcheck = gradcheck, gradgradcheck
gradcheck.GradcheckError = GradcheckError

_CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the "
    "parameter and its gradient which can cause a memory leak. We recommend using "
    "autograd.grad when creating the graph to avoid this. If you have to use this function, "
    "make sure to reset the .grad fields of your parameters to None after use to break the "
    "cycle and avoid the leak.")


def _as_tuple(x):
    if x is None:
        return None
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _make_grads(outputs, grads, as_tensors):
    """The gradient each output starts with: ones for scalars, else checked user input."""
    out = []
    for i, (t, g) in enumerate(zip(outputs, grads)):
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if t._data.dtype.kind == "c":
                raise RuntimeError("grad can be implicitly created only for real scalar outputs "
                                   f"but got torch.{t.dtype.name}")
            arr = np.ones_like(t._data)
            out.append(_make(arr) if as_tensors else arr)
        elif isinstance(g, Tensor):
            if g._data.shape != t._data.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"torch.Size({list(g.shape)}) and output[{i}] has a shape of "
                                   f"torch.Size({list(t.shape)}).")
            out.append(g if as_tensors else g._data)
        else:
            raise TypeError("gradients can be either Tensors or None, but got "
                            f"{type(g).__name__}")
    return out


def _root_edges(tensors):
    edges = []
    for i, t in enumerate(tensors):
        if not t._rg:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               "a grad_fn")
        edges.append(t._edge())
    return edges


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate into `.grad` of the leaves (or `inputs`) the gradient of `tensors`."""
    tensors = _as_tuple(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    grad_tensors = _as_tuple(grad_tensors) if grad_tensors is not None else (None,) * len(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph:
        warnings.warn(_CREATE_GRAPH_WARNING, UserWarning, stacklevel=3)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if len(inputs) == 0:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    roots = _root_edges(tensors)
    grads = _make_grads(tensors, grad_tensors, create_graph)
    if inputs is None:
        execute(roots, grads, retain_graph, create_graph)
        return
    for t in inputs:
        if t.grad_fn is not None:     # listed non-leaves get .grad, as torch: they retain it
            t.retain_grad()
    execute(roots, grads, retain_graph, create_graph, [t._edge() for t in inputs],
            accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of `outputs` with respect to `inputs`, as a tuple; never touches `.grad`."""
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    if len(inputs) == 0:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if _batched.active():
        gos = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outputs)
        batch = _batched.batch_of(outputs + inputs + gos)
        if batch is not None:     # inside vmap
            return _grad_of_batched(batch, outputs, inputs, gos, retain_graph=retain_graph,
                                    create_graph=create_graph, allow_unused=allow_unused,
                                    is_grads_batched=is_grads_batched,
                                    materialize_grads=materialize_grads)
    if allow_unused is None:
        allow_unused = materialize_grads
    if not allow_unused and materialize_grads:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    grad_outputs = _as_tuple(grad_outputs) if grad_outputs is not None \
        else (None,) * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    for t in inputs:
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    roots = _root_edges(outputs)
    if is_grads_batched:
        grads, batch = _batched_grads(outputs, grad_outputs, create_graph)
    else:
        grads = _make_grads(outputs, grad_outputs, create_graph)
    targets = [t._edge() for t in inputs]
    captured = execute(roots, grads, retain_graph, create_graph, targets, accumulate=False,
                       batched=is_grads_batched)
    if is_grads_batched:
        captured = {e: _unbatch(g, batch, t) for t, e in zip(inputs, targets)
                    if (g := captured.get(e)) is not None}
    result = []
    for i, (t, e) in enumerate(zip(inputs, targets)):
        g = captured.get(e)
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have "
                                   "been used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
            if materialize_grads:
                g = np.zeros((batch,) + t._data.shape if is_grads_batched else t._data.shape,
                             t._data.dtype)
                g = _make(g)
            result.append(g)
            continue
        if not create_graph:
            g = _make(np.array(g, dtype=t._data.dtype))
        elif g.dtype is not t.dtype:
            g = g.to(t.dtype)
        result.append(g)
    return tuple(result)


_ones_like = DECLARED["ones_like"].public


def _grad_of_batched(batch, outputs, inputs, grad_outputs, **kwargs):
    """grad() where some tensors are batched (inside vmap): differentiate the physical
    tensors. The examples of a batch never mix, so the gradient of the physical output summed
    over the batch holds each example's own gradient in its own row."""
    lvl = batch[0]
    for t in inputs:
        if not _batched._batch(t, lvl):
            raise _batched._error("autograd.grad inside vmap needs the inputs batched at the "
                                  "current level (func.grad and friends do this for you)")
    phys_out, phys_go = [], []
    for o, g in zip(outputs, grad_outputs):
        if not _batched._batch(o, lvl):
            continue                      # it does not depend on this level's inputs
        if g is None:
            if o.dim() != 0:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = _ones_like(o._p)    # the dispatching op: o._p may be batched at outer levels
        else:
            g = _batched.batched_like(g, batch)._p
        phys_out.append(o._p)
        phys_go.append(g)
    if not phys_out:
        gs = (None,) * len(inputs)
    else:
        gs = grad(phys_out, [t._p for t in inputs], phys_go, **kwargs)
    return tuple(None if g is None else _batched._wrap(g, lvl) for g in gs)


def _batched_grads(outputs, grad_outputs, create_graph):
    """The batched grad_outputs of grad(..., is_grads_batched=True): each one's first
    dimension is the batch, the rest must be its output's shape."""
    from .._graph.batched import Batched
    if create_graph:
        raise NotImplementedError("autograd.grad(..., is_grads_batched=True) with "
                                  "create_graph=True is not supported in lightgrad")
    grads, batch = [], None
    for i, (t, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        if g._data.shape[1:] != t._data.shape or g.dim() == 0:
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each "
                "grad_output as the batch dimension. The sizes of the remaining dimensions are "
                "expected to match the shape of corresponding output, but a mismatch was "
                f"detected: grad_output[{i}] has a shape of torch.Size({list(g.shape[1:])}) "
                f"and output[{i}] has a shape of torch.Size({list(t.shape)}). If you only "
                "want some tensors in `grad_output` to be considered batched, consider using "
                "vmap.")
        if batch is not None and g._data.shape[0] != batch:
            raise RuntimeError("Batched grad_outputs must all have the same batch size, got "
                               f"{batch} and {g._data.shape[0]}")
        batch = g._data.shape[0]
        grads.append(Batched(np.asarray(g._data, dtype=t._data.dtype)))
    return grads, batch


def _unbatch(g, batch, t):
    """The (batch, *t.shape) array of a batched gradient for input t; a rule that ignored
    its gradient may have produced one value for the whole batch."""
    return g.a if is_batched(g) else np.broadcast_to(g, (batch,) + t._data.shape)


def Variable(data, requires_grad=False, volatile=False):
    """Deprecated in torch: returns a plain Tensor leaf."""
    t = data.detach()
    t.requires_grad = requires_grad
    return t


from . import functional  # noqa: E402,F401  (last: it builds on grad() above)


def _tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(self)/d(leaf) into each leaf's .grad (see autograd.backward)."""
    data = self._data
    if (gradient is None and not create_graph and inputs is None and self._rg
            and data.size == 1 and data.dtype.kind == "f"):
        # the common `loss.backward()`: skip the general argument handling
        execute([self._edge()], [np.ones(data.shape, data.dtype)], bool(retain_graph), False)
        return
    backward(self, gradient, retain_graph, create_graph, inputs=inputs)


Tensor.backward = _tensor_backward
