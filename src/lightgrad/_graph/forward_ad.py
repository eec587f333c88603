"""Forward-mode AD: dual tensors carry a tangent, and every op computes its output's tangent
(the Jacobian-vector product) as it runs.

    with forward_ad.dual_level():
        x = forward_ad.make_dual(primal, tangent)
        y = f(x)
        jvp = forward_ad.unpack_dual(y).tangent

How it rides on the reverse-mode machinery:
- A dual tensor is marked as recording (`_rg` is FORWARD_ONLY, a true value that is not
  True, when it does not itself require grad), so every op takes its recording path and
  builds its node, with the values its rule needs saved. `requires_grad` reports False for
  it, and nodes give it no backward edge.
- After the node is built, `propagate` computes the output tangents from the input tangents
  with the node class's JVP rule, and drops the node again when no input really requires
  grad.
- An op's JVP rule is, in this order: `jvp=DIAGONAL` for elementwise ops, whose Jacobian is
  diagonal so their backward rule applied to the tangent *is* the JVP (real dtypes); a
  `jvp=` function of its own; otherwise the transpose of its backward rule. A backward rule
  is linear in its upstream gradient u and computes J^H u; running reverse mode through the
  rule itself (it is written over lightgrad ops for double backward) with the tangent as the
  upstream gradient gives J t exactly. So every op with a backward rule, nn.functional's
  included, has a forward-mode rule.

Deviation: tangents propagate while grad mode is on; ops run under no_grad() drop them
(torch keeps them).
"""
import collections
import contextlib

import numpy as np

from .._tensor import Tensor, _make
from . import grad_mode
from .batched import B, Batched, _aligned
from .engine import execute, is_batched
from .graph import NP, T, SavedOutput
from .tangents import FORWARD_ONLY, _duals, active, set_tangent, tangent_of  # noqa: F401

DIAGONAL = "diagonal"  # `jvp=` of elementwise ops: the backward rule is also the JVP rule
_level = [-1]

UnpackedDualTensor = collections.namedtuple("UnpackedDualTensor", ["primal", "tangent"])
UnpackedDualTensor.__module__ = "lightgrad.autograd.forward_ad"


def enter_dual_level():
    """Open a new forward-AD level; returns its index (torch supports one at a time)."""
    if _level[0] >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _level[0] += 1
    active[0] = True
    return _level[0]


def exit_dual_level(*, level=None):
    """Close the level: every tangent made in it is dropped."""
    if level is None:
        level = _level[0]
    if level != _level[0]:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    for ref in _duals:
        t = ref()
        if t is not None and t._x is not None and t._x.pop("tangent", None) is not None:
            if t._rg == FORWARD_ONLY and t._rg is not True:
                t._rg = False
    _duals.clear()
    _level[0] -= 1
    active[0] = False


class dual_level(contextlib.ContextDecorator):
    """Context manager for a forward-AD level: dual tensors made inside lose their tangents
    when it exits."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()


def _check_level(level, what):
    if _level[0] < 0:
        raise RuntimeError(f"Trying to {what} for forward AD but no level exists, make sure "
                           "to enter_dual_level() first.")
    if level is not None and level != _level[0]:
        raise RuntimeError(f"Trying to {what} for forward AD at level {level} but the current "
                           f"level is {_level[0]}.")




def make_dual(tensor, tangent, *, level=None):
    """A view of `tensor` carrying `tangent` as its forward gradient."""
    _check_level(level, "create a dual Tensor")
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError("Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype}")
    if tensor.is_complex():
        raise NotImplementedError("lightgrad does not differentiate complex tensors yet: "
                                  "make_dual needs a real floating point dtype")
    if not isinstance(tangent, Tensor) or not (tangent.is_floating_point()
                                               or tangent.is_complex()):
        raise ValueError("Expected tangent to be floating point or complex, but got: "
                         f"{getattr(tangent, 'dtype', type(tangent).__name__)}")
    if tangent._data.shape != tensor._data.shape:
        raise RuntimeError("Trying to set a forward gradient that has a different size than "
                           "that of the original Tensor, this is not supported. Tensor is of "
                           f"size {list(tensor.shape)} while the given forward gradient is of "
                           f"size {list(tangent.shape)}.")
    active[0] = False           # the view itself is not an op on a dual
    try:
        dual = tensor.view_as(tensor)
    finally:
        active[0] = True
    if dual._x is not None:
        dual._x.pop("tangent", None)
    set_tangent(dual, np.asarray(tangent._data, dtype=tensor._data.dtype))
    return dual


def unpack_dual(tensor, *, level=None):
    """(primal, tangent): a view of `tensor` without its tangent, and the tangent (None
    when it has none in the current level)."""
    t = tangent_of(tensor) if _level[0] >= 0 else None
    if t is None:
        return UnpackedDualTensor(tensor, None)
    was, active[0] = active[0], False
    try:
        primal = tensor.view_as(tensor)
    finally:
        active[0] = was
    if primal._x:
        primal._x.pop("tangent", None)
    if tensor._rg is not True:
        primal._rg, primal.grad_fn = False, None
    return UnpackedDualTensor(primal, _make(t))


# -- propagation through ops --------------------------------------------------------------
# A tangent is an array of its tensor's shape, or (inside jacfwd) a Batched (batched.py):
# several tangents at once, pushed through each op in one go.


def propagate(outs, node, inputs, differentiable=None):
    """Give the outputs `outs` of the op that built `node` from `inputs` their tangents
    (those marked differentiable, when the op says which)."""
    tangents = [tangent_of(t) for t in inputs]
    if not any(t is not None for t in tangents):
        return
    batch = _batch_size(tangents)
    if batch is not None:   # line every tangent up as a batch
        tangents = [t if t is None or type(t) is Batched
                    else Batched(np.broadcast_to(t, (batch,) + t.shape)) for t in tangents]
    rule = type(node)._jvp
    if rule == DIAGONAL and all(o._data.dtype.kind == "f" for o in outs):
        results = [_diagonal_jvp(node, tangents, outs[0]._data, batch is not None)]
    elif rule is not None and rule != DIAGONAL:
        r = rule(NP, tangents, node._meta, *node._unpack(False))
        results = list(r) if isinstance(r, (list, tuple)) else [r]
    else:
        results = _transposed_jvp(node, tangents, [o._data for o in outs], batch)
    really_recording = any(getattr(t, "_rg", False) is True for t in inputs)
    for i, (o, r) in enumerate(zip(outs, results)):
        if differentiable is not None and not differentiable[i]:
            continue
        t = _conform(r, o._data, batch)
        set_tangent(o, t)
        for v in node._saved or ():
            if type(v) is SavedOutput and v.nr == i:   # the rule's saved output
                v.tangent = t
        if not really_recording:
            o._rg, o.grad_fn = FORWARD_ONLY, None


def _batch_size(tangents):
    for t in tangents:
        if is_batched(t):
            return t.a.shape[0]
    return None


def _conform(r, d, batch):
    """Tangent r as an array of d's shape and dtype (a batch of them when batch is set)."""
    if batch is None:
        if r is None:
            return np.zeros_like(d)
        if r.shape != d.shape or r.dtype != d.dtype:
            return np.broadcast_to(r, d.shape).astype(d.dtype)
        return r
    if r is None:
        return Batched(np.zeros((batch,) + d.shape, d.dtype))
    a = _aligned(r, d.ndim) if type(r) is Batched else r
    if np.shape(a) != (batch,) + d.shape or a.dtype != d.dtype:
        a = np.broadcast_to(a, (batch,) + d.shape).astype(d.dtype)
    return Batched(a)


def _diagonal_jvp(node, tangents, out, batched):
    """An elementwise op's JVP: its backward rule applied to each input's tangent, summed
    (the Jacobian of each input is diagonal, so it equals its transpose)."""
    ns = B if batched else NP
    saved = node._unpack(False)
    total = None
    for i, t in enumerate(tangents):
        if t is None:
            continue
        g = ns.broadcast_to(t, out.shape) if t.shape != out.shape else t
        part = node._rule(ns, g, node._meta, *saved)[i]
        if part is not None:
            total = part if total is None else total + part
    return total


def _transposed_jvp(node, tangents, outs, batch):
    """J t for each output, by reverse mode through the node's backward rule u -> J^H u
    (a batched backward pass for a batch of tangents)."""
    saved = [_make(v._data) if isinstance(v, Tensor) else v for v in node._unpack(True)]
    us = [_make(np.zeros_like(d)).requires_grad_() for d in outs]
    active[0] = False
    try:
        with grad_mode.enable_grad():
            gin = node._rule(T, us[0] if len(us) == 1 else list(us), node._meta, *saved)
            if node._in is not None:
                gin = [g if g is None or m is None else T.fix(g, m[0], m[1])
                       for g, m in zip(gin, node._in)]
            pairs = [(g, t) for g, t in zip(gin, tangents)
                     if t is not None and isinstance(g, Tensor) and g.requires_grad]
            if not pairs:
                return [None] * len(outs)
            # the engine itself, as autograd.grad runs it: the rule's gradients are the roots
            targets = [u._edge() for u in us]
            got = execute([g._edge() for g, _ in pairs], [t for _, t in pairs], False, False,
                          targets, accumulate=False, batched=batch is not None)
    finally:
        active[0] = True
    res = [got.get(e) for e in targets]
    return [None if r is None else np.asarray(r, d.dtype) if batch is None else r
            for r, d in zip(res, outs)]
