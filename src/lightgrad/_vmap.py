"""vmap: run a function written for one example over a batch of them, op by op.

Inside `vmap(f)(x)`, f sees BatchedTensors: each wraps a *physical* tensor holding the
whole batch in dim 0 and shows the rest as its *logical* shape (one example). Each op has
a batching rule (in _vmap_rules.py) that rewrites the call onto the physical tensors (shift
`dim` arguments by one, line up the dims of operands, flatten for a full reduction, ...),
so f runs once, over the whole batch, with the ordinary ops; gradients flow through it as
through any op.

How a call reaches its rule: while a vmap runs, the public functions of lightgrad,
lightgrad.nn.functional and lightgrad.linalg are replaced by dispatchers (and restored
after), and BatchedTensor's methods and operators dispatch the same way. An op without a
rule raises an error that names it; it never computes on the physical tensor as if it
were one example. Nested vmaps nest BatchedTensors: a physical tensor may itself be the
BatchedTensor of an enclosing vmap, and each dispatch peels one level.

Not supported: ops whose output shape depends on values (nonzero, masked_select, ...),
.item() and data-dependent control flow (as in torch), and calls through a function
reference taken before the vmap began (`from lightgrad import sin`), which reach the op
unbatched and fail with an error.
"""
import functools
import operator

from ._pytree import tree_flatten, tree_unflatten
from ._tensor import Tensor
from .ops._batched_tensor import (RULES, BatchedTensor, _batch, _dispatch,  # noqa: F401
                                  _error, _wrap, setup_methods, state as _state)
from .ops._core import DECLARED

_state.setdefault("installed", {})


# -- swapping the public functions in and out --------------------------------------------
def _namespaces():
    import lightgrad
    import lightgrad.nn.functional as F
    return [(lightgrad, ""), (F, "F."), (lightgrad.linalg, "linalg.")]


_SKIP = {"tensor", "as_tensor", "from_numpy", "is_tensor", "is_grad_enabled", "manual_seed",
         "set_default_dtype", "get_default_dtype", "set_printoptions", "no_grad",
         "enable_grad", "set_grad_enabled", "inference_mode", "save", "load", "vmap"}


def _dispatcher(qualified, fn):
    @functools.wraps(fn)
    def dispatch(*args, **kwargs):
        return _dispatch(qualified, fn, args, kwargs)
    return dispatch


@functools.lru_cache(maxsize=1)
def _public_names():
    """id of each public function -> its rule name (vmap(torch.sin) gets the original)."""
    names = {}
    for mod, prefix in _namespaces():
        for name, fn in vars(mod).items():
            if callable(fn) and not name.startswith("_") and not isinstance(fn, type):
                names.setdefault(id(fn), prefix + name)
    return names


_wrapped = {}   # module -> (its namespace size, originals, dispatchers), built once


def _dispatchers(mod, prefix):
    """(originals, dispatchers) for a module's public functions; rebuilt only when the
    namespace changed since (a name added, or a function replaced)."""
    d = vars(mod)
    hit = _wrapped.get(mod)
    if hit is not None and hit[0] == len(d) and all(
            map(operator.is_, map(d.get, hit[1]), hit[1].values())):
        return hit[1], hit[2]
    originals, dispatchers = {}, {}
    for name, fn in list(d.items()):
        if name.startswith("_") or name in _SKIP or isinstance(fn, type) or \
                not callable(fn) or type(fn).__name__ == "module" or \
                getattr(fn, "_dispatches", False):     # a declared op dispatches itself
            continue
        originals[name] = fn
        dispatchers[name] = _dispatcher(prefix + name, fn)
    _wrapped[mod] = (len(d), originals, dispatchers)
    return originals, dispatchers


def _install():
    """Swap the public functions for dispatchers (first vmap level only)."""
    if _state["depth"] == 0:
        saved = {}
        for mod, prefix in _namespaces():
            originals, dispatchers = _dispatchers(mod, prefix)
            vars(mod).update(dispatchers)
            saved[mod] = originals
        _state["installed"] = saved
    _state["depth"] += 1


def _uninstall():
    _state["depth"] -= 1
    if _state["depth"] == 0:
        for mod, originals in _state["installed"].items():
            vars(mod).update(originals)
        _state["installed"] = {}


# -- vmap ------------------------------------------------------------------------------------
def _fname(func):
    return getattr(func, "__name__", repr(func))


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """func mapped over dim `in_dims` of its inputs; outputs stacked along `out_dims`.

    in_dims: an int, None (not mapped), or a (nested) tuple matching the arguments;
    out_dims likewise for the outputs. randomness: "error" (random ops refuse), "different"
    (each example draws its own) or "same" (one draw shared by the batch).

    >>> vmap(torch.dot)(torch.ones(3, 2), torch.ones(3, 2))
    tensor([2., 2., 2.])
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError("Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got "
                         f"{chunk_size})")
    name = _fname(func)
    public = _public_names().get(id(func)) if _state["depth"] == 0 else None
    # vmap(torch.sin): a public op taken before any swap (a declared op dispatches itself,
    # with its own rule: an nn.functional op may be declared after RULES was filled)
    if public is not None and not getattr(func, "_dispatches", False):
        func = _dispatcher(public, func)

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        where = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>)"
        if not args:
            raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add "
                             "inputs, or you are trying to vmap over a function with no "
                             "inputs. The latter is unsupported.")
        leaves, spec = tree_flatten(args)
        if isinstance(in_dims, int) and not isinstance(in_dims, bool):
            dims = [in_dims] * len(leaves)
        elif isinstance(in_dims, tuple):
            dims = _broadcast_dims(in_dims, args, where)
        else:
            raise ValueError(f"{where}: expected `in_dims` to be int or a (potentially nested) "
                             f"tuple matching the structure of inputs, got: {type(in_dims)}.")
        sizes = []
        for x, d in zip(leaves, dims):
            if d is None:
                continue
            if not isinstance(x, Tensor):
                raise ValueError(f"{where}: Got in_dim={d} for an input but the input is of "
                                 f"type {type(x)}. We cannot vmap over non-Tensor arguments, "
                                 "please use None as the respective in_dim")
            nd = x.dim()
            if not -nd <= d < nd:
                raise ValueError(f"{where}: Got in_dim={d} for some input, but that input is "
                                 f"a Tensor of dimensionality {nd} so expected in_dim to "
                                 f"satisfy {-nd} <= in_dim < {nd}.")
            sizes.append(x.shape[d])
        if not sizes:
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): at least one "
                             "input must be vmapped over (got in_dims with only None)")
        if any(s != sizes[0] for s in sizes):
            raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                             f"dimension, got sizes {sizes} for the mapped dimension")
        lvl = _state["depth"]
        _install()
        _state["randomness"].append(randomness)
        try:
            batched = [x if d is None else _wrap(x.movedim(d, 0) if d else x, lvl)
                       for x, d in zip(leaves, dims)]
            out = func(*tree_unflatten(batched, spec), **kwargs)
        finally:
            _state["randomness"].pop()
            _uninstall()
        return _unbatch_outputs(out, out_dims, lvl, sizes[0], name)
    return wrapped


def _broadcast_dims(in_dims, args, where):
    """Per-leaf in_dims from a (nested) tuple matching args; an int covers a subtree."""
    if len(in_dims) != len(args):
        raise ValueError(f"{where}: in_dims is not compatible with the structure of `inputs`. "
                         f"in_dims has {len(in_dims)} entries but inputs has {len(args)}.")
    dims = []
    for d, a in zip(in_dims, args):
        leaves, _ = tree_flatten(a)
        if d is None or isinstance(d, int):
            dims += [d] * len(leaves)
        elif isinstance(d, (tuple, list)) and isinstance(a, (tuple, list)):
            dims += _broadcast_dims(tuple(d), tuple(a), where)
        elif isinstance(d, dict) and isinstance(a, dict):
            for k in a:
                sub_leaves, _ = tree_flatten(a[k])
                sub = d.get(k)
                dims += ([sub] * len(sub_leaves) if sub is None or isinstance(sub, int)
                         else _broadcast_dims((sub,), (a[k],), where))
        else:
            raise ValueError(f"{where}: in_dims is not compatible with the structure of "
                             "`inputs`.")
    return dims


def _unbatch_outputs(out, out_dims, lvl, n, name):
    leaves, spec = tree_flatten(out)
    if isinstance(out_dims, int) or out_dims is None:
        dims = [out_dims] * len(leaves)
    else:
        dleaves, dspec = tree_flatten(out_dims)
        if len(dleaves) != len(leaves):
            raise ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is "
                             "not compatible with the structure of `outputs`. out_dims has "
                             f"structure {dspec} but outputs has structure {spec}.")
        dims = dleaves
    res = []
    for o, d in zip(leaves, dims):
        if not isinstance(o, Tensor):
            if d is None:
                res.append(o)
                continue
            raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                             f"{type(o)}. Did you mean to set out_dims= to None for output?")
        if type(o) is BatchedTensor and o._lvl == lvl:
            p = o._p
        elif d is None:
            res.append(o)
            continue
        else:       # not batched: every example gave the same value
            p = o.unsqueeze(0).expand((n,) + tuple(o.shape))
        if d is None:
            raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when "
                             "out_dim is None")
        nd = len(p.shape)
        if not -nd <= d < nd:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, "
                             f"{nd - 1}], but got {d})")
        res.append(p.movedim(0, d) if d % nd else p)
    return tree_unflatten(res, spec)


# -- autograd inside vmap: ops/_batched_tensor.py and autograd.grad -----------------------
from .ops._batched_tensor import active, batch_of, batched_like  # noqa: E402,F401


from . import _vmap_rules  # noqa: E402,F401  (last: registers the rules into RULES)

setup_methods(DECLARED)
