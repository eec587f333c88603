"""vmap's batching rules: how each op runs on BatchedTensors (see _vmap.py).

A rule is `rule(c, args, kwargs)`: `c` (a _vmap._Call) knows the op's name and the vmap
level, calls the op on physical tensors (`c(...)`), tells which arguments are batched at
this level (`c.batched(x)`) and wraps results back (`c.wrap(out)`). A rule rewrites the
call so that it is right for every example at once: dims move one to the right past the
batch dim, operands are lined up on the same logical dims, whole-example reductions flatten
the example first, ops whose examples would mix are refused. RULES maps each op name
(methods bare, "F.x" for nn.functional, "linalg.x") to its rule.
"""

from ._vmap import RULES, _state
from .ops._batching import (along_dim, arg, elementwise, expand_to, inplace_elementwise,
                            ndim, norm_dim, phys, set_arg, shift,
                            softmax_like, vmap_error)
from .ops._batching import per_example_loss
from .ops._batched_tensor import rule_of
from .ops._core import DECLARED, ELEMENTWISE

# -- helpers for rules (ops/_batching.py has the common rules and helpers) ----------------
_ndim, _phys, _norm_dim, _shift, _arg, _set = ndim, phys, norm_dim, shift, arg, set_arg
_error = vmap_error


_expand_to = expand_to


def _lg():
    import lightgrad
    return lightgrad


def _arg(args, kwargs, pos, name, default=None):
    if name in kwargs:
        return kwargs[name]
    return args[pos] if len(args) > pos else default


def _set(args, kwargs, pos, name, value):
    """args, kwargs with argument (pos, name) set to value."""
    if name in kwargs or len(args) <= pos:
        return args, dict(kwargs, **{name: value})
    args = list(args)
    args[pos] = value
    return tuple(args), kwargs


# -- rules ---------------------------------------------------------------------------------




def _linear(c, args, kwargs):
    x, w = args[0], args[1]
    b = _arg(args, kwargs, 2, "bias")
    if c.batched(w) or c.batched(b):       # a weight per example: as matmul
        y = _lg().matmul(x, w.mT)
        return y if b is None else y + b
    if x.dim() == 0:
        raise RuntimeError("linear: the input must have at least one dimension")
    return c.wrap(c(x._p, w, b))


def _random(c, args, kwargs):
    mode = _state["randomness"][-1] if _state["randomness"] else "error"
    if mode == "error":
        raise _error("called random operation while in randomness error mode. Please either "
                     "use the 'same' or 'different' randomness flags on vmap or perform the "
                     "randomness operation out of vmap")
    x = args[0]
    if mode == "same":                     # one draw for the whole batch
        one = x._p[0] if c.batched(x) else x
        r = c(one, *args[1:], **kwargs)
        return c.wrap(r.unsqueeze(0).expand((x._p.shape[0],) + tuple(r.shape)))
    return elementwise(c, args, kwargs)


# the losses not yet declared (composites of public ops); the declared ones give their rule
_LOSSES = {"F.l1_loss": per_example_loss(4), "F.kl_div": per_example_loss(4),
           "F.cross_entropy": per_example_loss(6, per_sample=True)}


# ops not yet declared with defop (whose declarations carry their rule)
_ELEMENTWISE = """
F.relu F.softsign F.sigmoid F.tanh F.tanhshrink
"""
_RANDOM = "F.dropout dropout"


def _register_declared():
    """The rules of the ops declared with defop: each declaration names its rule (a
    shorthand) or why vmap refuses it; elementwise ops' in-place forms write into the
    physical tensor."""
    for name, d in DECLARED.items():
        RULES[name] = rule_of(d)
        if d.kind == ELEMENTWISE and name + "_" in d.methods:
            RULES[name + "_"] = inplace_elementwise


def _register():
    _register_declared()
    declared = dict(RULES)
    _register_legacy()
    # an op declared with defop carries its rule: the names below must not override one
    overridden = sorted(n for n, rule in declared.items() if RULES[n] is not rule)
    assert not overridden, f"vmap rules of declared ops given again: {overridden}"


def _register_legacy():
    for n in _ELEMENTWISE.split():
        RULES[n] = elementwise
    for n in ("F.softmax", "F.log_softmax", "F.softmin"):
        RULES[n] = softmax_like
    RULES["F.normalize"] = along_dim(2, default=1)
    RULES["numel"] = lambda c, args, kwargs: args[0].numel()
    RULES["is_floating_point"] = lambda c, args, kwargs: args[0].is_floating_point()
    RULES["is_complex"] = lambda c, args, kwargs: args[0].is_complex()
    RULES["F.linear"] = _linear
    RULES.update(_LOSSES)
    for n in _RANDOM.split():
        RULES[n] = _random


_register()
