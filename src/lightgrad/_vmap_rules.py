"""vmap's batching rules: how each op runs on BatchedTensors (see _vmap.py).

A rule is `rule(c, args, kwargs)`: `c` (a _vmap._Call) knows the op's name and the vmap
level, calls the op on physical tensors (`c(...)`), tells which arguments are batched at
this level (`c.batched(x)`) and wraps results back (`c.wrap(out)`). A rule rewrites the
call so that it is right for every example at once: dims move one to the right past the
batch dim, operands are lined up on the same logical dims, whole-example reductions flatten
the example first, ops whose examples would mix are refused. RULES maps each op name
(methods bare, "F.x" for nn.functional, "linalg.x") to its rule.
"""
import functools


from ._vmap import RULES, _state
from .ops._batching import (along_dim, arg, elementwise, expand_to, inplace_elementwise,
                            leading_batch_needs, ndim, norm_dim, phys, set_arg, shift,
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




def _matmul(c, args, kwargs):
    """matmul's rules for 1-D operands, on logical shapes (also mm, mv, bmm, dot)."""
    a, b = args[0], args[1]
    name = c.name
    if name in ("mm", "bmm") or name == "mv":
        want = {"mm": (2, 2), "bmm": (3, 3), "mv": (2, 1)}[name]
        if (a.dim(), b.dim()) != want:
            raise RuntimeError(f"{name}: expected {want[0]}-D and {want[1]}-D tensors, got "
                               f"{a.dim()}-D and {b.dim()}-D")
    if name == "dot":
        if a.dim() != 1 or b.dim() != 1:
            raise RuntimeError(f"1D tensors expected, but got {a.dim()}D and {b.dim()}D "
                               "tensors")
        return (a * b).sum(-1)
    av, bv = a.dim() == 1, b.dim() == 1
    a2 = a.unsqueeze(0) if av else a          # these go through the batching rules
    b2 = b.unsqueeze(-1) if bv else b
    nd = max(a2.dim(), b2.dim())
    mm = _lg().matmul
    r = c.wrap(mm(_phys(c, a2, nd), _phys(c, b2, nd)))
    if bv:
        r = r.squeeze(-1)
    if av:
        r = r.squeeze(-2 if not bv else -1)
    return r


def _outer(c, args, kwargs):
    a, b = args[0], args[1]
    return a.unsqueeze(-1) * b.unsqueeze(0)


def _linear(c, args, kwargs):
    x, w = args[0], args[1]
    b = _arg(args, kwargs, 2, "bias")
    if c.batched(w) or c.batched(b):       # a weight per example: as matmul
        y = _lg().matmul(x, w.mT)
        return y if b is None else y + b
    if x.dim() == 0:
        raise RuntimeError("linear: the input must have at least one dimension")
    return c.wrap(c(x._p, w, b))


def _einsum(c, args, kwargs):
    eq = args[0]
    ops = list(args[1] if len(args) == 2 and isinstance(args[1], (list, tuple)) else args[1:])
    lhs, arrow, rhs = eq.replace(" ", "").partition("->")
    terms = lhs.split(",")
    if not arrow:
        letters = sorted(ch for ch in set(lhs.replace(",", "")) if lhs.count(ch) == 1
                         and ch.isalpha())
        rhs = "".join(letters)
    if "." in lhs:
        raise _error("einsum with '...' has no batching rule yet")
    free = next(ch for ch in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba"
                if ch not in eq)
    new_terms = [free + t if c.batched(o) else t for t, o in zip(terms, ops)]
    phys = [o._p if c.batched(o) else o for o in ops]
    return c.wrap(c(f"{','.join(new_terms)}->{free}{rhs}", *phys))


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


_leading_batch = leading_batch_needs(None)     # each example has 2 or more dims


def _linalg_norm(c, args, kwargs):
    x, ord_, d = args[0], _arg(args, kwargs, 1, "ord"), _arg(args, kwargs, 2, "dim")
    if d is None and ord_ is not None:
        args, kwargs = _set(args, kwargs, 2, "dim", (-2, -1) if x.dim() == 2 else -1)
    return along_dim(2, full="flatten")(c, args, kwargs)


def _trace(c, args, kwargs):
    return _lg().diagonal(args[0]).sum(-1)


def _elementwise_dim(pos, name="dim"):
    """Ops of several same-shaped tensors along a dim (cross): line up, then shift dim."""
    def rule(c, args, kwargs):
        d = _arg(args, kwargs, pos, name)
        if d is None:
            raise _error(f"{c.name} inside vmap needs an explicit dim")
        nd = max(_ndim(a) for a in list(args) + list(kwargs.values()))
        args, kwargs = _set(args, kwargs, pos, name, _norm_dim(d, nd) - nd)   # negative
        return elementwise(c, args, kwargs)
    return rule


def _solve(c, args, kwargs):
    """linalg.solve(A, B): B is a vector (batch) when its shape is A's without the last dim;
    make vectors explicit columns, line the batch dims up, solve, and drop the column."""
    a, b = args[0], args[1]
    left = kwargs.get("left", True)
    vec = b.dim() == 1 or tuple(b.shape) == tuple(a.shape)[:-1]
    if vec and not left:
        raise _error("linalg.solve(left=False) with a vector right side has no batching rule")
    b2 = b.unsqueeze(-1) if vec else b
    n = c.size(a, b)
    nd = max(a.dim(), b2.dim())

    def lined_up(t):        # (batch, 1, ..., 1, *t's dims) with nd dims after the batch
        p = _expand_to(c, t, n)
        return p.reshape((n,) + (1,) * (nd - t.dim()) + tuple(p.shape[1:]))
    x = c(lined_up(a), lined_up(b2), **kwargs)
    return c.wrap(x[..., 0] if vec else x)


def _composite(fn):
    """Ops written as other batched ops (each goes through its own rule)."""
    return lambda c, args, kwargs: fn(_lg(), *args, **kwargs)


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
    RULES.update(matmul=_matmul, mm=_matmul,
                 bmm=_matmul, mv=_matmul, dot=_matmul, outer=_outer,
                 ger=_outer, einsum=_einsum)
    RULES["F.linear"] = _linear
    RULES.update(_LOSSES)
    for n in _RANDOM.split():
        RULES[n] = _random
    for n in ("linalg.inv", "linalg.det", "linalg.slogdet", "linalg.cholesky",
              "linalg.eigh", "linalg.eigvalsh", "linalg.svd", "linalg.svdvals", "linalg.qr",
              "linalg.pinv", "linalg.matrix_power", "linalg.inv_ex", "linalg.cholesky_ex",
              "linalg.matrix_exp", "inverse", "det", "logdet", "slogdet", "pinverse",
              "matrix_power", "matrix_exp"):
        RULES[n] = _leading_batch
    RULES["linalg.vector_norm"] = along_dim(2, full="flatten")
    RULES["linalg.matrix_norm"] = along_dim(2, default=(-2, -1))
    RULES["linalg.norm"] = _linalg_norm
    RULES.update(trace=_trace)
    RULES["linalg.solve"] = _solve
    for n in ("linalg.cross", "cross"):
        RULES[n] = _elementwise_dim(2)
    RULES.update({
        "addmm": _composite(lambda lg, i, a, b, *, beta=1, alpha=1: beta * i + alpha * (a @ b)),
        "addmv": _composite(lambda lg, i, a, v, *, beta=1, alpha=1: beta * i + alpha * (a @ v)),
        "baddbmm": _composite(lambda lg, i, a, b, *, beta=1, alpha=1:
                              beta * i + alpha * (a @ b)),
        "addbmm": _composite(lambda lg, i, a, b, *, beta=1, alpha=1:
                             beta * i + alpha * (a @ b).sum(0)),
        "addr": _composite(lambda lg, i, a, b, *, beta=1, alpha=1:
                           beta * i + alpha * lg.outer(a, b)),
        "inner": _composite(lambda lg, a, b: (a * b).sum(-1) if a.dim() <= 1 and b.dim() <= 1
                            else lg.tensordot(a, b, ([-1], [-1]))),
        "vdot": _composite(lambda lg, a, b: (a * b).sum(-1)),
        "linalg.multi_dot": _composite(lambda lg, ts: functools.reduce(lg.matmul, ts)),
    })


_register()
