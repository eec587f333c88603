"""vmap: run a function written for one example over a batch of them, op by op.

Inside `vmap(f)(x)`, f sees BatchedTensors: each wraps a *physical* tensor holding the
whole batch in dim 0 and shows the rest as its *logical* shape (one example). Each declared
op has a batching rule (declared with it; the common ones are in ops/_batching.py) that
rewrites the call onto the physical tensors (shift `dim` arguments by one, line up the dims
of operands, flatten for a full reduction, ...), so f runs once, over the whole batch, with
the ordinary ops; gradients flow through it as through any op.

How a call reaches its rule: the public function of a declared op, and BatchedTensor's
methods and operators, look for a batched argument where they are called
(ops/_batched_tensor.py), so a function reference taken before the vmap works and nothing
is swapped. A function written with public ops (most of nn.functional) needs no rule of its
own. An op without a rule raises an error that names it; it never computes on the physical
tensor as if it were one example. Nested vmaps nest BatchedTensors: a physical tensor may
itself be the BatchedTensor of an enclosing vmap, and each dispatch peels one level.

Not supported: ops whose output shape depends on values (nonzero, masked_select, ...),
.item() and data-dependent control flow (as in torch).
"""
import functools

from ._pytree import tree_flatten, tree_unflatten
from ._tensor import Tensor
from .ops._batched_tensor import (BatchedTensor, _wrap, setup_methods,
                                  state as _state)
from .ops._core import DECLARED


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
        _state["depth"] += 1
        _state["randomness"].append(randomness)
        _state["sizes"].append(sizes[0])
        try:
            batched = [x if d is None else _wrap(x.movedim(d, 0) if d else x, lvl)
                       for x, d in zip(leaves, dims)]
            out = func(*tree_unflatten(batched, spec), **kwargs)
        finally:
            _state["depth"] -= 1
            _state["randomness"].pop()
            _state["sizes"].pop()
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


setup_methods(DECLARED)
