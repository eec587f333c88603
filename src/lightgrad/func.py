"""torch.func: composable function transforms (grad, vjp, jacrev, hessian) and
functional_call.

The transforms run on the ordinary reverse-mode engine. Each call differentiates fresh
copies of the chosen arguments; a result keeps a graph only when it depends on tensors from
outside the call (an enclosing transform, or a tensor that requires grad), so transforms
nest: `grad(grad(f))`, `jacrev(jacrev(f))` (which is `hessian`).

jvp and jacfwd run on forward-mode AD (autograd.forward_ad); jacfwd pushes one batch of
basis tangents through the function in a single forward pass, as jacrev pulls one batch of
rows back in a single backward pass. vmap is in lightgrad._vmap.

>>> import lightgrad as torch
>>> from lightgrad.func import grad
>>> grad(lambda x: (x ** 3).sum())(torch.tensor([1., 2.]))
tensor([ 3., 12.])
"""

import numpy as np

import lightgrad as _lg
from ._graph import grad_mode
from ._graph.forward_ad import set_tangent, tangent_of
from .autograd.functional import batched_jacobian
from ._graph.graph import AccumulateGrad, _seq
from ._pytree import tree_flatten, tree_unflatten
from . import _vmap
from ._vmap import vmap

__all__ = ["grad", "grad_and_value", "hessian", "jacrev", "jacfwd", "jvp", "linearize", "vjp",
           "functional_call", "stack_module_state", "vmap"]


def _check_argnums(argnums, nargs):
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        nums = (argnums,)
    elif isinstance(argnums, tuple) and all(isinstance(a, int) for a in argnums):
        if not argnums:
            raise RuntimeError("argnums must be non-empty")
        nums = argnums
    else:
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    for a in nums:
        if not -nargs <= a < nargs:
            raise RuntimeError(f"Got argnum={a}, but only {nargs} positional inputs")
    norm = tuple(a % nargs for a in nums)
    if len(set(norm)) != len(norm):
        raise RuntimeError(f"argnums elements must be unique, got {norm}")
    return norm


class _Scope:
    """One transform call: fresh leaves for the differentiated inputs, and the means to tell
    which results depend on tensors from outside the call."""

    def __init__(self):
        self.start = next(_seq)
        self.inner = set()
        self.keep = []   # holds the fresh leaves, so that their ids stay theirs
        # inside a forward-mode transform (jacfwd of jacrev): the inputs carry tangents, and
        # the backward passes must be built of ops (create_graph) for tangents to flow on
        self.tangents = False

    def fresh(self, t):
        if not isinstance(t, _lg.Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(t)}")
        if type(t) is _vmap.BatchedTensor:     # inside vmap: a fresh physical leaf
            return _vmap._wrap(self.fresh(t._p), t._lvl)
        # an input on an outer graph stays tied to it, so an enclosing transform sees through
        if tangent_of(t) is not None:
            self.tangents = True
            new = t.view_as(t)          # keeps the tangent
            if not new.requires_grad:
                new.requires_grad_()
        else:
            new = t.view_as(t) if t.requires_grad else t.detach().requires_grad_()
        if new.grad_fn is None:
            self.inner.add(id(new))
        self.keep.append(new)
        return new

    def reaches_outside(self, tensors):
        """Whether any of `tensors` depends on a tensor that requires grad and was not made
        by this call (an outer transform's input, a parameter, ...)."""
        seen = set()
        todo = []
        for t in tensors:
            while type(t) is _vmap.BatchedTensor:
                t = t._p
            if t is None or not t.requires_grad:
                continue
            if t.grad_fn is None:
                if id(t) not in self.inner:
                    return True
                continue
            todo.append(t.grad_fn)
        while todo:
            node = todo.pop()
            if isinstance(node, AccumulateGrad):
                var = node.variable
                if var is not None and id(var) not in self.inner:
                    return True
                continue
            if getattr(node, "_seq", self.start) < self.start:
                return True
            for nxt, _ in node.next_functions:
                if nxt is not None and id(nxt) not in seen:
                    seen.add(id(nxt))
                    todo.append(nxt)
        return False

    def escape(self, t):
        """A result as the caller sees it: detached unless it depends on outer tensors."""
        if t is None or not isinstance(t, _lg.Tensor) or not t.requires_grad:
            return t
        if self.reaches_outside((t,)):
            return t
        d = t.detach()
        if self.tangents and tangent_of(t) is not None:
            set_tangent(d, tangent_of(t))
        return d


def _grads(scope, outputs, leaves, cotangents=None, create_graph=None, retain_graph=None):
    """d outputs / d leaves against cotangents, zeros where unreached; the graph of the
    gradient is built only when it can matter to an enclosing computation."""
    pairs = [(o, c) for o, c in zip(outputs, cotangents or (None,) * len(outputs))
             if o.requires_grad]
    if create_graph is None:
        create_graph = (scope.tangents or scope.reaches_outside(o for o, _ in pairs)
                        or any(c is not None and c.requires_grad for _, c in pairs))
    if pairs:
        gs = _lg.autograd.grad(tuple(o for o, _ in pairs), tuple(leaves),
                               tuple(c for _, c in pairs), retain_graph=retain_graph,
                               create_graph=create_graph, allow_unused=True)
    else:
        gs = (None,) * len(leaves)
    return [_lg.zeros_like(x) if g is None else g for g, x in zip(gs, leaves)]


def _split_aux(out, has_aux, who):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{who}: output of function f should be a tuple: (output, aux) "
                           "if has_aux is True")
    return out


def _escape_aux(scope, aux):
    leaves, spec = tree_flatten(aux)
    for a in leaves:
        if not isinstance(a, _lg.Tensor):
            raise RuntimeError(f"Expected tensors, got unsupported type {type(a)}")
    return tree_unflatten([scope.escape(a) for a in leaves], spec)


def _fresh_args(scope, args, nums):
    """args with args[i], i in nums, replaced by fresh copies; and per i its leaves/spec."""
    args = list(args)
    parts = []
    # inside vmap, an argument shared by all examples still gets a gradient per example
    batch = _vmap.batch_of(tree_flatten(args)[0]) if _vmap.active() else None
    for i in nums:
        leaves, spec = tree_flatten(args[i])
        if batch is not None:
            leaves = [_vmap.batched_like(x, batch) if isinstance(x, _lg.Tensor) else x
                      for x in leaves]
        new = [scope.fresh(x) for x in leaves]
        args[i] = tree_unflatten(new, spec)
        parts.append((new, spec))
    return args, parts


def _regroup(flat, parts, argnums):
    """Flat per-leaf results back into the structure of the differentiated arguments."""
    out, k = [], 0
    for leaves, spec in parts:
        out.append(tree_unflatten(flat[k:k + len(leaves)], spec))
        k += len(leaves)
    return out[0] if isinstance(argnums, int) else tuple(out)


# -- grad --------------------------------------------------------------------------------

def grad_and_value(func, argnums=0, has_aux=False):
    """Like `grad`, but the new function returns (gradient, value), or
    (gradient, (value, aux)) with has_aux.

    >>> grad_and_value(lambda x: (x ** 2).sum())(torch.tensor([1., 2.]))
    (tensor([2., 4.]), tensor(5.))
    """
    who = "grad_and_value(f)(*args)"

    def wrapper(*args, **kwargs):
        nums = _check_argnums(argnums, len(args))
        scope = _Scope()
        # NOTE: a transform ignores an enclosing no_grad: the gradient is what was asked for
        with grad_mode.enable_grad():
            args, parts = _fresh_args(scope, args, nums)
            out, aux = _split_aux(func(*args, **kwargs), has_aux, who)
            if not isinstance(out, _lg.Tensor):
                raise RuntimeError(f"{who}: Expected f(*args) to return a Tensor, got "
                                   f"{type(out)}")
            if out.dim() != 0:
                raise RuntimeError(f"{who}: Expected f(*args) to return a scalar Tensor, got "
                                   f"tensor with {out.dim()} dims. Maybe you wanted to use the "
                                   "vjp or jacrev APIs instead?")
            leaves = [x for ls, _ in parts for x in ls]
            gs = _grads(scope, (out,), leaves)
        g = _regroup([scope.escape(x) for x in gs], parts, argnums)
        value = scope.escape(out)
        if has_aux:
            return g, (value, _escape_aux(scope, aux))
        return g, value
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of a scalar function with respect to its argument(s) `argnums`; each
    argument may be a Tensor or a pytree (dict, tuple, list) of Tensors.

    With has_aux, func returns (output, aux) and the new function returns (gradient, aux).

    >>> grad(lambda p, x: (p["w"] * x).sum())({"w": torch.ones(2)}, torch.tensor([3., 4.]))
    {'w': tensor([3., 4.])}
    """
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


# -- vjp ---------------------------------------------------------------------------------

def vjp(func, *primals, has_aux=False):
    """Return (func(*primals), vjp_fn), plus aux with has_aux. vjp_fn(cotangents), with
    cotangents shaped like the output, returns a tuple with one v^T J per primal.

    >>> out, vjp_fn = vjp(lambda x: x ** 2, torch.tensor([1., 2.]))
    >>> vjp_fn(torch.ones(2))
    (tensor([2., 4.]),)
    """
    who = "vjp(f, *primals)"
    scope = _Scope()
    with grad_mode.enable_grad():
        args, parts = _fresh_args(scope, primals, range(len(primals)))
        out, aux = _split_aux(func(*args), has_aux, who)
        outs, out_spec = tree_flatten(out)
        for o in outs:
            if not isinstance(o, _lg.Tensor):
                raise RuntimeError(f"{who}: expected f(*primals) to return only tensors, got "
                                   f"unsupported type {type(o)}")
    leaves = [x for ls, _ in parts for x in ls]

    def vjp_fn(cotangents, *, retain_graph=True, create_graph=None):
        cots, spec = tree_flatten(cotangents)
        if spec != out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as "
                               "pytree structure of outputs to the function. cotangents: "
                               f"{spec}, primal output: {out_spec}")
        with grad_mode.enable_grad():
            gs = _grads(scope, outs, leaves, cots, create_graph, retain_graph)
        gs = [scope.escape(g) for g in gs]
        return tuple(_regroup(gs, parts, tuple(range(len(parts)))))

    value = tree_unflatten([scope.escape(o) for o in outs], out_spec)
    if has_aux:
        return value, vjp_fn, _escape_aux(scope, aux)
    return value, vjp_fn


# -- jvp (forward mode) ------------------------------------------------------------------

def _check_primals(who, primals, tangents):
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{who}: Expected primals to be a tuple. E.g. it should be valid to "
                           "call f(*primals).")
    p_leaves, p_spec = tree_flatten(primals)
    t_leaves, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(f"{who}: Expected primals and tangents to have the same python "
                           "structure. For example, if primals is a tuple of 3 tensors, "
                           "tangents also must be. Got primals with structure "
                           f"{p_spec} and tangents with structure {t_spec}")
    for name, leaves in (("primals", p_leaves), ("tangents", t_leaves)):
        for x in leaves:
            if not isinstance(x, _lg.Tensor):
                raise RuntimeError(f"{who}: Expected {name} to only contain Tensors, got "
                                   f"{type(x)}")
    return p_leaves, t_leaves, p_spec


def _no_forward_mode_in_vmap(leaves):
    if _vmap.active() and _vmap.batch_of(leaves) is not None:
        raise RuntimeError("vmap: forward-mode AD (make_dual, jvp, jacfwd) inside vmap is not "
                           "supported yet")


def _forward(who, func, args, make_duals, has_aux):
    """Run func(*args) in a dual level with the duals `make_duals()` builds; returns the
    output leaves' (primal, tangent) pairs, the output spec and aux."""
    from ._graph import forward_ad
    with forward_ad.dual_level(), grad_mode.enable_grad():
        out, aux = _split_aux(func(*make_duals(args)), has_aux, who)
        outs, spec = tree_flatten(out)
        pairs = []
        for o in outs:
            if not isinstance(o, _lg.Tensor):
                raise RuntimeError(f"{who}: expected f(*primals) to return only tensors, got "
                                   f"unsupported type {type(o)}")
            pairs.append((o, forward_ad.tangent_of(o)))
        if has_aux:
            aux_leaves, aux_spec = tree_flatten(aux)
            for a in aux_leaves:
                if not isinstance(a, _lg.Tensor):
                    raise RuntimeError(f"Expected tensors, got unsupported type {type(a)}")
            aux = tree_unflatten([forward_ad.unpack_dual(a).primal for a in aux_leaves],
                                 aux_spec)
        pairs = [(forward_ad.unpack_dual(o).primal, t) for o, t in pairs]
    return pairs, spec, aux


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J @ tangents): the output and its directional derivative along
    `tangents` (same structure as primals), by forward-mode AD; plus aux with has_aux.

    >>> jvp(lambda x: x ** 2, (torch.tensor([1., 2.]),), (torch.ones(2),))
    (tensor([1., 4.]), tensor([2., 4.]))
    """
    from ._graph import forward_ad
    who = "jvp(f, primals, tangents)"
    if strict:
        raise RuntimeError("jvp(f, primals, tangents): strict is not implemented yet")
    p_leaves, t_leaves, p_spec = _check_primals(who, primals, tangents)
    _no_forward_mode_in_vmap(p_leaves + t_leaves)

    def duals(args):
        return tree_unflatten([forward_ad.make_dual(p, t) for p, t in zip(p_leaves, t_leaves)],
                              p_spec)
    pairs, spec, aux = _forward(who, func, primals, duals, has_aux)
    values = tree_unflatten([p for p, _ in pairs], spec)
    tans = tree_unflatten([_lg.zeros_like(p) if t is None else _lg.tensor(t)
                           for p, t in pairs], spec)
    return (values, tans, aux) if has_aux else (values, tans)


def linearize(func, *primals):
    """(func(*primals), jvp_fn): jvp_fn(*tangents) gives J @ tangents at primals, each call
    one forward-mode pass.

    >>> out, jvp_fn = linearize(torch.sin, torch.tensor([0., 1.]))
    >>> jvp_fn(torch.ones(2))
    tensor([1.0000, 0.5403])
    """
    leaves, spec = tree_flatten(func(*primals))

    def jvp_fn(*tangents):
        return jvp(func, primals, tangents)[1]
    return tree_unflatten([o.detach() if isinstance(o, _lg.Tensor) else o for o in leaves],
                          spec), jvp_fn


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian of func with respect to args[argnums] by forward mode: one forward pass
    carrying a batch of basis tangents (one per input element). Same layout as jacrev:
    output.shape + input.shape per (output, input) pair.

    >>> jacfwd(lambda x: x.sin())(torch.zeros(2))
    tensor([[1., 0.],
            [0., 1.]])
    """
    from ._graph import forward_ad
    from ._graph.batched import Batched
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    who = "jacfwd(f, *args)"

    def wrapper(*args):
        nums = _check_argnums(argnums, len(args))
        parts = [tree_flatten(args[i]) for i in nums]
        leaves = [x for ls, _ in parts for x in ls]
        for x in leaves:
            if not isinstance(x, _lg.Tensor):
                raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
        _no_forward_mode_in_vmap(tree_flatten(args)[0])
        sizes = [x.nelement() for x in leaves]
        total = sum(sizes)

        def duals(args):
            # tangent batch k is the k-th basis vector of all differentiated inputs together
            args = list(args)
            start = 0
            for i, (ls, spec) in zip(nums, parts):
                new = []
                for x in ls:
                    basis = np.zeros((total, x.nelement()), x._data.dtype)
                    basis[start:start + x.nelement()] = np.eye(x.nelement(), dtype=basis.dtype)
                    d = forward_ad.make_dual(x, _lg.zeros_like(x))
                    forward_ad.set_tangent(d, Batched(basis.reshape((total,) + x._data.shape)))
                    new.append(d)
                    start += x.nelement()
                args[i] = tree_unflatten(new, spec)
            return args
        pairs, spec, aux = _forward(who, func, args, duals, has_aux)
        per_out = []
        for p, t in pairs:
            phys = np.zeros((total,) + p._data.shape, p._data.dtype) if t is None else \
                np.broadcast_to(t.a, (total,) + p._data.shape)
            flat = phys.reshape(total, -1)            # (input element, output element)
            jacs, start = [], 0
            for x, n in zip(leaves, sizes):
                block = flat[start:start + n].T.reshape(tuple(p.shape) + tuple(x.shape))
                jacs.append(_lg.tensor(np.array(block)))
                start += n
            per_out.append(_regroup(jacs, [(ls, sp) for ls, sp in parts], argnums))
        jac = tree_unflatten(per_out, spec)
        return (jac, aux) if has_aux else jac
    return wrapper


# -- Jacobians ---------------------------------------------------------------------------

def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of func with respect to args[argnums], by reverse mode: for each output
    leaf, a Tensor of shape output.shape + input.shape (per input leaf, in the structure of
    the differentiated arguments).

    All rows come from one batched backward pass (`chunk_size` rows per pass if given);
    when the Jacobian must itself be differentiable (jacrev inside another transform) the
    rows take one pass each.

    >>> jacrev(lambda x: x.sin())(torch.zeros(2))
    tensor([[1., 0.],
            [0., 1.]])
    """
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")
    who = "vjp(f, *primals)"

    def wrapper(*args, **kwargs):
        nums = _check_argnums(argnums, len(args))
        scope = _Scope()
        with grad_mode.enable_grad():
            args, parts = _fresh_args(scope, args, nums)
            out, aux = _split_aux(func(*args, **kwargs), has_aux, who)
            outs, out_spec = tree_flatten(out)
            for o in outs:
                if not isinstance(o, _lg.Tensor):
                    raise RuntimeError(f"{who}: expected f(*primals) to return only tensors, "
                                       f"got unsupported type {type(o)}")
            leaves = [x for ls, _ in parts for x in ls]
            create_graph = scope.tangents or scope.reaches_outside(outs)
            jacs = [_jacobian_of(scope, o, leaves, create_graph, chunk_size) for o in outs]
        per_out = [_regroup([scope.escape(j) for j in js], parts, argnums) for js in jacs]
        jac = tree_unflatten(per_out, out_spec)
        if has_aux:
            return jac, _escape_aux(scope, aux)
        return jac
    return wrapper


def _jacobian_of(scope, out, leaves, create_graph, chunk_size=None):
    """d out / d leaf for each leaf, shaped out.shape + leaf.shape: one batched pass, or
    one pass per element when the result needs a graph."""
    if not create_graph and type(out) is not _vmap.BatchedTensor:
        return list(batched_jacobian(out, leaves, chunk_size))
    flat = out.reshape(-1)
    rows = [[] for _ in leaves]
    if out.requires_grad:
        for k in range(flat.shape[0]):
            gs = _grads(scope, (flat[k],), leaves, create_graph=create_graph,
                        retain_graph=True)
            for r, g in zip(rows, gs):
                r.append(g)
    res = []
    for r, x in zip(rows, leaves):
        shape = tuple(out.shape) + tuple(x.shape)
        res.append(_lg.stack(r).reshape(shape) if r else x.new_zeros(shape))
    return res


def hessian(func, argnums=0):
    """The Hessian of a scalar function: the Jacobian of its gradient (jacrev of jacrev
    here; torch uses forward mode for the outer one, with the same result).

    >>> hessian(lambda x: (x ** 3).sum())(torch.tensor([1., 2.]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    return jacrev(jacrev(func, argnums), argnums)


# -- functional_call ---------------------------------------------------------------------

_MISSING = object()


def _merge_dicts(dicts):
    if isinstance(dicts, dict):
        return dict(dicts)
    if not isinstance(dicts, (list, tuple)) or not all(isinstance(d, dict) for d in dicts):
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
                         f"dicts, but got {type(dicts)}")
    merged, seen, dup = {}, set(), set()
    for d in dicts:
        dup |= seen & set(d)
        seen |= set(d)
        merged.update(d)
    if dup:
        raise ValueError(f"{sorted(dup)} appeared in multiple dictionaries; behavior of "
                         "functional call is ambiguous")
    return merged


def _tie(module, values):
    """Give every name tied to a given name (one tensor under several names) the same value."""
    names_of = {}
    for named in (module.named_parameters(remove_duplicate=False),
                  module.named_buffers(remove_duplicate=False)):
        for name, t in named:
            names_of.setdefault(id(t), set()).add(name)
    out = dict(values)
    for names in names_of.values():
        given = [n for n in names if n in values]
        if len(names) < 2 or not given:
            continue
        if len({id(values[n]) for n in given}) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(names)}, "
                             "which are tied. Consider using tie_weights=False")
        for n in names:
            out[n] = values[given[0]]
    return out


def _swap(module, path, value):
    """Put value at the dotted path; return what was there (_MISSING if nothing)."""
    prefix, _, name = path.rpartition(".")
    mod = module.get_submodule(prefix)
    if value is not _MISSING and value is not None and not isinstance(value, _lg.Tensor):
        raise TypeError(f"{value} is not an instance of torch.Tensor")
    for store in (mod._parameters, mod._buffers):
        if name in store:
            old = store[name]
            if value is _MISSING:
                del store[name]
            else:
                store[name] = value
            return old
    old = mod.__dict__.get(name, _MISSING)
    if value is _MISSING:
        mod.__dict__.pop(name, None)
    else:
        mod.__dict__[name] = value   # a plain attribute, as torch sets for unknown names
    return old


def stack_module_state(models):
    """(params, buffers): dicts of every model's parameters (and buffers) stacked along a
    new first dim, for running an ensemble as one model with vmap and functional_call.
    The stacked parameters are new leaves that require grad.

    >>> params, buffers = stack_module_state([torch.nn.Linear(2, 3) for _ in range(4)])
    >>> params["weight"].shape
    lightgrad.Size([4, 3, 2])
    """
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or not any(m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    if any(type(m) is not type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(named, leaf):
        names = [n for n, _ in named(models[0])]
        out = {}
        for name in names:
            t = _lg.stack([dict(named(m))[name].detach() for m in models])
            out[name] = t.requires_grad_() if leaf else t
        return out
    return (stacked(lambda m: m.named_parameters(), True),
            stacked(lambda m: m.named_buffers(), False))


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """Call module with its parameters and buffers replaced by the given tensors (by dotted
    name); the module's own are put back afterwards, also when the call raises.

    >>> lin = torch.nn.Linear(2, 1)
    >>> params = {"weight": torch.ones(1, 2), "bias": torch.zeros(1)}
    >>> functional_call(lin, params, (torch.tensor([1., 2.]),))
    tensor([3.])
    """
    values = _merge_dicts(parameter_and_buffer_dicts)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    kwargs = {} if kwargs is None else kwargs
    if tie_weights:
        values = _tie(module, values)
    if strict:
        valid = {n for n, _ in module.named_parameters(remove_duplicate=False)}
        valid |= {n for n, _ in module.named_buffers(remove_duplicate=False)}
        missing, unexpected = sorted(valid - set(values)), sorted(set(values) - valid)
        msgs = []
        if unexpected:
            msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if msgs:
            raise RuntimeError(f"Error(s) in reparametrizing for {module._get_name()}:\n\t"
                               + "\n\t".join(msgs))
    originals = {}
    try:
        for path, value in values.items():
            originals[path] = _swap(module, path, value)
        return module(*args, **kwargs)
    finally:
        # restore in reverse, so a name swapped twice (tied) ends with its first original
        for path, old in reversed(list(originals.items())):
            _swap(module, path, old)
