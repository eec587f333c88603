"""The backward engine: walks the graph of nodes from the roots and runs each node's rule.

1. An iterative walk from the roots counts, for every node, how many edges point at it.
2. Gradients wait in `pending`, one entry per node; a node runs once every node that feeds
   it has run (its count reaches zero). Ready nodes run latest-created first.
3. Unless retain_graph, each node's saved values are released right after it runs.

On the fast path gradients are NumPy arrays and rules run over NumPy (namespace NP); with
create_graph they are Tensors and rules run over lightgrad ops with grad mode on (namespace
T), so the gradient is itself differentiable.
"""
import heapq
import sys
import traceback
import warnings

import numpy as np

from .._tensor import _make as wrap   # array -> Tensor without grad
from . import grad_mode
from .batched import B, Batched
from .anomaly_mode import anomaly
from .graph import NP, T, AccumulateGrad

_ndarray = np.ndarray
_getrefcount = sys.getrefcount


def _sole_reference_count():
    """What sys.getrefcount reports for an array held by one local variable only (the
    interpreter's own references differ between Python versions, so measure it)."""
    a = np.empty(1)
    return _getrefcount(a)


_SOLE = _sole_reference_count()

# Callables run with the root edges at the start of every backward pass: an explicit hook
# point, empty unless lightgrad.compile is capturing a call (it notes that backward ran).
backward_observers = []



def is_batched(g):
    """Whether g is a batch of gradients or tangents."""
    return type(g) is Batched


def _call_tensor_hooks(hooks, g, as_tensors):
    if is_batched(g):     # a batch of gradients: each hook sees one gradient at a time
        rows = [_call_tensor_hooks(hooks, g.a[i], as_tensors) for i in range(g.a.shape[0])]
        return type(g)(np.stack(rows))
    for fn in list(hooks.values()):
        r = fn(g if as_tensors else wrap(g))
        if r is not None:
            if tuple(r.shape) != tuple(np.shape(g)):
                raise RuntimeError(f"hook '{getattr(fn, '__name__', fn)}' has changed the size "
                                   "of value")
            g = r if as_tensors else r._data
    return g


def accumulate_into(t, g, as_tensors):
    """Add gradient g into t.grad; the first gradient is copied so the buffer is t's own."""
    if as_tensors:
        if g.dtype is not t.dtype:
            g = g.to(t.dtype)
        old = t._grad
        if old is None:
            if g.requires_grad:
                # as torch: the first grad is a copy into fresh zeros (grad_fn CopyBackwards)
                with grad_mode.enable_grad():
                    t._grad = wrap(np.zeros_like(t._data)).copy_(g)
            else:
                t._grad = g.detach().clone()
        elif old.requires_grad or g.requires_grad:
            with grad_mode.enable_grad():
                t._grad = old + g
        else:
            old._data += g._data
        return
    dt = t._data.dtype
    old = t._grad
    if old is None:
        # C layout, like the parameter (astype: a traced array under compile stays traced)
        t._grad = wrap(g.astype(dt, order="C") if isinstance(g, _ndarray)
                       else np.array(g, dtype=dt, order="C"))
    elif old._rg:
        with grad_mode.enable_grad():
            t._grad = old + wrap(np.asarray(g, dtype=dt))
    else:
        old._data += g


def _retain_into(t, g, as_tensors):
    """A retained non-leaf grad: torch replaces it by `old + g` (a new object), not in place.
    (A batched pass retains nothing: .grad has no room for a batch of gradients.)"""
    if is_batched(g):
        return
    old = t._grad
    if old is None or old._rg or (as_tensors and g.requires_grad):
        accumulate_into(t, g, as_tensors)
    elif as_tensors:
        t._grad = wrap(old._data + g.to(t.dtype)._data)
    else:
        t._grad = wrap(old._data + np.asarray(g, dtype=t._data.dtype))


def _check_nan(node, grads):
    for i, gi in enumerate(grads):
        if gi is not None:
            arr = gi._data if hasattr(gi, "_data") else gi
            if np.isnan(arr).any():
                raise RuntimeError(f"Function '{node.name()}' returned nan values in its "
                                   f"{i}th output.")


def _run_rule(node, g, ns, as_tensors):
    if node._rule is None:               # autograd.Function nodes bring their own apply
        return node.apply(g, as_tensors)
    grads = node._rule(ns, g, node._meta, *node._unpack(as_tensors))
    ins = node._in
    if ins is not None:                  # un-broadcast and cast back, once for every op
        fix = ns.fix
        grads = [gi if gi is None or m is None else fix(gi, m[0], m[1])
                 for gi, m in zip(grads, ins)]
    return grads


def execute(roots, grads, retain_graph, create_graph, targets=None, accumulate=True,
            batched=False):
    """Backpropagate `grads` from the edges `roots`. Returns {target edge: gradient} for
    `targets`; when targets are given only the nodes leading to them run. With `batched`
    the grads are autograd.batched.Batched arrays and the rules run over its namespace."""
    if backward_observers:
        for fn in backward_observers:
            fn(roots)
    # 1. count dependencies over everything reachable from the roots
    deps = {}
    root_nodes = [roots[0][0]] if len(roots) == 1 else \
        list(dict.fromkeys(n for n, _ in roots if n is not None))
    stack = list(root_nodes)
    seen = set(stack)
    while stack:
        for child, _ in stack.pop().next_functions:
            if child is not None:
                if child in deps:
                    deps[child] += 1
                else:
                    deps[child] = 1
                    if child not in seen:
                        seen.add(child)
                        stack.append(child)
    needed = runs = None
    if targets is not None:
        needed, runs = _prune(root_nodes, deps, {n for n, _ in targets})
    target_set = set(targets) if targets is not None else ()

    # 2. run nodes in dependency order
    pending = {}
    for (node, nr), g in zip(roots, grads):
        if node is not None:
            _add_pending(pending, node, nr, g)
    heap = [(-n._seq, n) for n in root_nodes if n not in deps]
    heapq.heapify(heap)
    heappop, heappush = heapq.heappop, heapq.heappush
    ns = B if batched else T if create_graph else NP
    captured = {}
    anomaly_on = anomaly[0]
    # the common case (no targets, hooks or anomaly mode) runs inline below; everything
    # else goes through _run_node, which handles every feature
    plain = targets is None and not anomaly_on and accumulate
    pending_pop, pending_get = pending.pop, pending.get
    prev_mode = grad_mode.state.grad_enabled
    grad_mode.state.grad_enabled = create_graph
    # rules compute inf/nan silently, as torch's kernels do (x.log() at 0 has a gradient
    # of inf; NumPy would print a RuntimeWarning for it)
    quiet = np.errstate(divide="ignore", invalid="ignore", over="ignore")
    quiet.__enter__()
    try:
        while heap:
            node = heappop(heap)[1]
            g = pending_pop(node, None)
            out = gi = None     # drop last round's references: .grad may take g's buffer
            if g is None:
                pass
            elif not plain or node._hooks is not None or node._nout != 1:
                if anomaly_on:
                    out = _run_node_with_anomaly(node, g, ns, create_graph, retain_graph,
                                                 target_set, captured, accumulate, runs)
                else:
                    out = _run_node(node, g, ns, create_graph, retain_graph, target_set,
                                    captured, accumulate, runs)
            elif node._rule is not None:
                saved = node._saved
                if saved:
                    out = node._rule(ns, g, node._meta, *node._unpack(create_graph))
                    if not retain_graph:
                        node._saved = None
                elif saved is None:
                    node._unpack(create_graph)   # freed: raises the backward-twice error
                else:
                    out = node._rule(ns, g, node._meta)
                ins = node._in
                if ins is not None:          # un-broadcast and cast back, once for every op
                    fix = ns.fix
                    if create_graph:
                        out = [gi if gi is None or m is None else fix(gi, m[0], m[1])
                               for gi, m in zip(out, ins)]
                    else:
                        for gi, m in zip(out, ins):
                            if m is not None and gi is not None and (
                                    gi.shape != m[0] or gi.dtype != m[1]):
                                out = [gi if gi is None or m is None else fix(gi, m[0], m[1])
                                       for gi, m in zip(out, ins)]
                                break
            elif type(node) is AccumulateGrad:
                var = node._var()
                if var is None:
                    continue
                old = var._grad
                if var._x is not None or create_graph or old is not None and old._rg:
                    _run_node(node, g, ns, create_graph, retain_graph, target_set, captured,
                              accumulate, runs)
                elif old is not None:
                    old._data += g          # the steady state of a training loop
                elif (type(g) is _ndarray and g.base is None and _getrefcount(g) == _SOLE
                      and g.dtype == var._data.dtype and g.flags.c_contiguous):
                    # nothing else holds this fresh gradient array: it becomes .grad as it
                    # is, as torch steals the buffer (a training loop that sets .grad to None
                    # each step saves a copy of every parameter's gradient)
                    var._grad = wrap(g)
                else:
                    accumulate_into(var, g, False)
                continue
            else:
                out = _run_node(node, g, ns, create_graph, retain_graph, target_set,
                                captured, accumulate, runs)
            if out is None:
                for child, _ in node.next_functions:
                    if child is not None:
                        c = deps[child] - 1
                        deps[child] = c
                        if c == 0:
                            heappush(heap, (-child._seq, child))
                continue
            for (child, nr), gi in zip(node.next_functions, out):
                if child is None:
                    continue
                if gi is not None and (needed is None or child in needed):
                    if child._nout == 1:
                        old = pending_get(child)
                        pending[child] = gi if old is None else old + gi
                    else:
                        _add_pending(pending, child, nr, gi)
                c = deps[child] - 1
                deps[child] = c
                if c == 0:
                    heappush(heap, (-child._seq, child))
    finally:
        grad_mode.state.grad_enabled = prev_mode
        quiet.__exit__(None, None, None)
    return captured


def _add_pending(pending, node, nr, g):
    if node._nout == 1:
        old = pending.get(node)
        pending[node] = g if old is None else old + g
    else:
        slots = pending.get(node)
        if slots is None:
            slots = pending[node] = [None] * node._nout
        slots[nr] = g if slots[nr] is None else slots[nr] + g


def _prune(root_nodes, deps, target_nodes):
    """Nodes on a path to a target (needed) and those whose rule must run (runs)."""
    left = dict(deps)
    order, queue = [], [n for n in root_nodes if n not in deps]
    while queue:
        n = queue.pop()
        order.append(n)
        for c, _ in n.next_functions:
            if c is not None:
                left[c] -= 1
                if left[c] == 0:
                    queue.append(c)
    needed, runs = set(), set()
    for n in reversed(order):
        if any(c in needed for c, _ in n.next_functions if c is not None):
            runs.add(n)
            needed.add(n)
        elif n in target_nodes:
            needed.add(n)
    return needed, runs


def _run_node(node, g, ns, as_tensors, retain_graph, targets, captured, accumulate, runs):
    if type(node) is AccumulateGrad:
        var = node.variable
        if var is None:                  # the leaf is gone: nobody can see its gradient
            return None
        x = var._x
        if x is not None and x.get("hooks"):
            g = _call_tensor_hooks(x["hooks"], g, as_tensors)
        if targets:
            if (node, 0) in targets:
                captured[(node, 0)] = g
        if accumulate:
            accumulate_into(var, g, as_tensors)
            if x is not None and x.get("post_hooks"):
                for fn in list(x["post_hooks"].values()):
                    fn(var)
        return None
    h = node._hooks
    if h is not None:
        if (h.pre or h.post) and any(is_batched(x) for x in (g if isinstance(g, list) else [g])):
            raise NotImplementedError("autograd.grad(..., is_grads_batched=True) does not run "
                                      "hooks registered on grad_fn nodes; tensor hooks work")
        g = _pre_hooks(node, h, g, as_tensors)
    if targets:
        for nr in range(node._nout):
            if (node, nr) in targets:
                captured[(node, nr)] = g if node._nout == 1 else g[nr]
        if node not in runs:
            return None
    if node._nout > 1:
        g = list(g)
    out = _run_rule(node, g, ns, as_tensors)
    if h is not None and h.post:
        gin, gout = tuple(_as_t(x, as_tensors) for x in out), _as_tuple(g, as_tensors)
        for fn in list(h.post.values()):
            r = fn(gin, gout)
            if r is not None:
                gin = tuple(r)
        out = [None if x is None else (x if as_tensors else x._data) for x in gin]
    if not retain_graph:
        node._release()
    return out


def _as_t(x, as_tensors):
    return x if (x is None or as_tensors) else wrap(np.asanyarray(x))


def _as_tuple(g, as_tensors):
    return tuple(_as_t(x, as_tensors) for x in g) if isinstance(g, list) \
        else (_as_t(g, as_tensors),)


def _pre_hooks(node, h, g, as_tensors):
    if node._nout == 1:
        hooks = h.tensor_pre.get(0)
        if hooks:
            g = _call_tensor_hooks(hooks, g, as_tensors)
        ref = h.retain.get(0)
        if ref is not None and ref() is not None:
            _retain_into(ref(), g, as_tensors)
    else:
        g = list(g)
        for nr, hooks in h.tensor_pre.items():
            if hooks and g[nr] is not None:
                g[nr] = _call_tensor_hooks(hooks, g[nr], as_tensors)
        for nr, ref in h.retain.items():
            if ref() is not None and g[nr] is not None:
                _retain_into(ref(), g[nr], as_tensors)
    if h.pre:
        gout = _as_tuple(g, as_tensors)
        for fn in list(h.pre.values()):
            r = fn(gout)
            if r is not None:
                gout = tuple(r)
        g = [None if x is None else (x if as_tensors else x._data) for x in gout]
        if node._nout == 1:
            g = g[0]
    return g


def _run_node_with_anomaly(node, g, ns, as_tensors, *rest):
    try:
        out = _run_node(node, g, ns, as_tensors, *rest)
    except Exception:
        trace = getattr(node, "_trace", None)
        if trace:
            warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that "
                          f"caused the error:\n{''.join(traceback.format_list(trace))}",
                          stacklevel=2)
        raise
    if out is not None and anomaly[1]:
        _check_nan(node, out)
    return out
