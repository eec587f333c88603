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


def _loss(c, args, kwargs):
    """Losses over one example: compute per element (reduction='none'), then reduce each
    example's own elements."""
    reduction = _arg(args, kwargs, _LOSSES[c.name], "reduction", "mean")
    x, target = args[0], args[1]
    # keyword options that are numbers (beta, delta, label smoothing) pass through
    extra = {k: v for k, v in kwargs.items()
             if k != "reduction" and isinstance(v, (int, float)) and not isinstance(v, bool)}
    other = {k: v for k, v in kwargs.items() if k != "reduction" and k not in extra}
    if len(args) > 2 or any(v is not None for v in other.values()) or \
            c.name in _PER_SAMPLE_LOSSES and extra.get("ignore_index", -100) != -100:
        raise _error(f"{c.name} inside vmap supports only (input, target, reduction=...)")
    extra.pop("ignore_index", None)
    if c.name in _PER_SAMPLE_LOSSES:
        # losses over (C,) or (N, C) inputs that give one value per sample: fold the batch
        # into N; the target is a class index per sample, or (multilabel) a row per sample
        if x.dim() > 2:
            raise _error(f"{c.name} with extra (spatial) dims has no batching rule yet")
        n = c.size(x, target)
        xp, tp = _expand_to(c, x, n), _expand_to(c, target, n)
        if x.dim() == 1:                    # one sample of C classes
            per = c(xp, tp, reduction="none", **extra)
        else:
            rows = tp.reshape((-1,) + tuple(tp.shape[2:]))
            per = c(xp.reshape((-1,) + tuple(xp.shape[2:])), rows,
                    reduction="none", **extra).reshape(tuple(xp.shape[:2]))
    else:
        nd = max(x.dim(), target.dim())
        per = c(_phys(c, x, nd), _phys(c, target, nd), reduction="none", **extra)
    dims = tuple(range(1, len(per.shape)))
    if reduction == "none":
        return c.wrap(per)
    if not dims:
        return c.wrap(per)
    return c.wrap(per.sum(dims) if reduction == "sum" else per.mean(dims))


_LOSSES = {"F.mse_loss": 4, "F.l1_loss": 4, "F.cross_entropy": 6, "F.nll_loss": 6,
           "F.smooth_l1_loss": 4, "F.huber_loss": 2, "F.binary_cross_entropy": 5,
           "F.binary_cross_entropy_with_logits": 5, "F.soft_margin_loss": 4,
           "F.kl_div": 4, "F.multi_margin_loss": 7, "F.multilabel_margin_loss": 4}
_PER_SAMPLE_LOSSES = ("F.cross_entropy", "F.nll_loss", "F.multi_margin_loss",
                      "F.multilabel_margin_loss")


def _pad_or_norm_check(c, x, args, kwargs):
    """leading_batch's check for F.pad and F.layer_norm (each example must have the dims the
    op works on, or the batch dim would join them); other ops need 2 dims."""
    if c.name == "F.pad":
        if _arg(args, kwargs, 2, "mode", "constant") != "constant":
            return _pad_mode
        if len(_arg(args, kwargs, 1, "pad")) // 2 > x.dim():
            raise RuntimeError("Padding length should be less than or equal to two times the "
                               "input dimension")
    elif c.name == "F.layer_norm":
        if len(tuple(_arg(args, kwargs, 1, "normalized_shape"))) > x.dim():
            raise RuntimeError("layer_norm: normalized_shape has more dims than the input")
    elif x.dim() < 2:
        raise RuntimeError(f"{c.name}: expected a tensor with 2 or more dimensions, got "
                           f"{x.dim()}")
    return None


_leading_batch = leading_batch_needs(_pad_or_norm_check)


def _pad_mode(c, args, kwargs):
    """reflect/replicate/circular padding: an example is (C, *spatial) or (N, C, *spatial)
    with one spatial dim per pair in `pad`."""
    x = args[0]
    spatial = len(_arg(args, kwargs, 1, "pad")) // 2
    if x.dim() not in (spatial + 1, spatial + 2):
        raise _error(f"F.pad: an example of {x.dim()} dims does not fit {spatial} padded "
                     "dims")
    return _spatial(spatial + 1)(c, args, kwargs)


def _prelu(c, args, kwargs):
    """prelu's weight runs along dim 1 of an (N, C, ...) example: fold the batch into N;
    a 0-d or 1-d example keeps its own dims behind the batch dim."""
    if args[0].dim() >= 2:
        return _fold_into_batch(2)(c, args, kwargs)
    _check_only_input_batched(c, args, kwargs)
    return c.wrap(c(args[0]._p, *args[1:], **kwargs))


def _check_only_input_batched(c, args, kwargs):
    if not c.batched(args[0]) or any(c.batched(a) for a in list(args[1:]) +
                                     list(kwargs.values())):
        raise _error(f"{c.name} has a batching rule for a batched input only")


def _batch_into_n(c, args, kwargs):
    """Run an op over (N, C, ...) inputs with the vmap batch folded into N, and unfold its
    output(s) again (the examples are independent along N)."""
    p = args[0]._p
    n = p.shape[0]
    out = c(p.reshape((-1,) + tuple(p.shape[2:])), *args[1:], **kwargs)
    if isinstance(out, tuple):
        return c.wrap(type(out)(o.reshape((n, -1) + tuple(o.shape[1:])) for o in out))
    return c.wrap(out.reshape((n, -1) + tuple(out.shape[1:])))


def _batch_norm(c, args, kwargs):
    """batch_norm with running statistics (training=False) normalizes each element alone;
    in training mode its statistics would mix the examples, so it is refused."""
    if _arg(args, kwargs, 5, "training", False):
        raise _error("F.batch_norm in training mode has no batching rule: its batch "
                     "statistics would mix the examples; use the running statistics "
                     "(training=False) or a norm without batch statistics")
    return _fold_into_batch(2)(c, args, kwargs)


def _spatial(unbatched_ndim):
    """conv/pool/interpolate: an example is (C, *spatial) or (N, C, *spatial) (always the
    latter when unbatched_ndim is None); fold the vmap batch into N. Weights must not be
    batched."""
    def rule(c, args, kwargs):
        x = args[0]
        if c.name in ("F.conv1d", "F.conv2d", "F.conv3d") and any(
                c.batched(a) for a in list(args[1:3]) + [kwargs.get("weight"),
                                                         kwargs.get("bias")]):
            return _conv_per_example_weights(c, args, kwargs)
        _check_only_input_batched(c, args, kwargs)
        if unbatched_ndim is not None and x.dim() == unbatched_ndim:
            return c.wrap(c(x._p, *args[1:], **kwargs))
        if x.dim() != (unbatched_ndim or x.dim() - 1) + 1 or x.dim() < 3:
            raise RuntimeError(f"{c.name}: expected an input of {unbatched_ndim} or "
                               f"{(unbatched_ndim or 2) + 1} dims, got {x.dim()}")
        return _batch_into_n(c, args, kwargs)
    return rule


def _conv_per_example_weights(c, args, kwargs):
    """conv1d/conv2d with a weight per example (model ensembles): one grouped convolution
    over all examples, example b's channels forming groups of their own."""
    x, w = args[0], _arg(args, kwargs, 1, "weight")
    bias = _arg(args, kwargs, 2, "bias")
    stride, padding = _arg(args, kwargs, 3, "stride", 1), _arg(args, kwargs, 4, "padding", 0)
    dilation, groups = _arg(args, kwargs, 5, "dilation", 1), _arg(args, kwargs, 6, "groups", 1)
    n = c.size(x, w, bias)
    spatial = w.dim() - 2
    single = x.dim() == spatial + 1               # an example is (C, *spatial)
    xp = _expand_to(c, x, n)
    if single:
        xp = xp.unsqueeze(1)
    xp = xp.transpose(0, 1)                       # (N, batch, C, *spatial)
    shape = tuple(xp.shape)
    xp = xp.reshape((shape[0], shape[1] * shape[2]) + shape[3:])
    wp = _expand_to(c, w, n)
    wp = wp.reshape((-1,) + tuple(wp.shape[2:]))  # (batch * O, C / groups, *k)
    bp = None if bias is None else _expand_to(c, bias, n).reshape(-1)
    out = c(xp, wp, bp, stride, padding, dilation, groups * n)
    o = tuple(out.shape)
    out = out.reshape((o[0], n, o[1] // n) + o[2:]).transpose(0, 1)
    return c.wrap(out[:, 0] if single else out)


def _linalg_norm(c, args, kwargs):
    x, ord_, d = args[0], _arg(args, kwargs, 1, "ord"), _arg(args, kwargs, 2, "dim")
    if d is None and ord_ is not None:
        args, kwargs = _set(args, kwargs, 2, "dim", (-2, -1) if x.dim() == 2 else -1)
    return along_dim(2, full="flatten")(c, args, kwargs)


def _trace(c, args, kwargs):
    return _lg().diagonal(args[0]).sum(-1)


def _embedding(c, args, kwargs):
    idx, w = args[0], args[1]
    if c.batched(w):
        if len(args) > 2 or any(v is not None for v in kwargs.values()):
            raise _error("F.embedding with batched weights supports (input, weight) only")
        return w[idx]
    return c.wrap(c(idx._p, *args[1:], **kwargs))


def _fold_into_batch(min_ndim):
    """group_norm, instance_norm, unfold, fold: ops over (N, C, ...) inputs whose examples
    are independent along N: the vmap batch joins N. Other arguments must not be batched."""
    def rule(c, args, kwargs):
        _check_only_input_batched(c, args, kwargs)
        if args[0].dim() < min_ndim:
            raise RuntimeError(f"{c.name}: expected an input with at least {min_ndim} dims, "
                               f"got {args[0].dim()}")
        return _batch_into_n(c, args, kwargs)
    return rule


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
detach cuda
F.relu F.relu6 F.gelu F.silu F.elu F.selu F.celu F.leaky_relu F.softplus F.softsign F.mish
F.sigmoid F.tanh F.hardtanh F.hardswish F.hardsigmoid F.logsigmoid F.tanhshrink
F.softshrink F.hardshrink F.threshold
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
    for n in _LOSSES:
        RULES[n] = _loss
    for n in _RANDOM.split():
        RULES[n] = _random
    for n in ("linalg.inv", "linalg.det", "linalg.slogdet", "linalg.cholesky",
              "linalg.eigh", "linalg.eigvalsh", "linalg.svd", "linalg.svdvals", "linalg.qr",
              "linalg.pinv", "linalg.matrix_power", "linalg.inv_ex", "linalg.cholesky_ex",
              "linalg.matrix_exp", "inverse", "det", "logdet", "slogdet", "pinverse",
              "matrix_power", "matrix_exp", "F.layer_norm", "F.pad"):
        RULES[n] = _leading_batch
    for n in ("F.conv2d", "F.conv_transpose2d", "F.max_pool2d", "F.avg_pool2d",
              "F.adaptive_avg_pool2d", "F.adaptive_max_pool2d", "F.max_pool2d_with_indices"):
        RULES[n] = _spatial(3)
    RULES["F.interpolate"] = _spatial(None)
    for n in ("F.conv3d", "F.conv_transpose3d", "F.max_pool3d", "F.avg_pool3d",
              "F.adaptive_avg_pool3d", "F.max_pool3d_with_indices"):
        RULES[n] = _spatial(4)
    for n in ("F.conv1d", "F.conv_transpose1d", "F.max_pool1d", "F.avg_pool1d"):
        RULES[n] = _spatial(2)
    RULES["linalg.vector_norm"] = along_dim(2, full="flatten")
    RULES["linalg.matrix_norm"] = along_dim(2, default=(-2, -1))
    RULES["linalg.norm"] = _linalg_norm
    RULES["F.glu"] = along_dim(1, default=-1)
    RULES.update(trace=_trace)
    RULES["F.embedding"] = _embedding
    for n, min_nd in (("F.group_norm", 2), ("F.instance_norm", 2), ("F.unfold", 4),
                      ("F.fold", 2)):
        RULES[n] = _fold_into_batch(min_nd)
    for n in ("F.pixel_shuffle", "F.pixel_unshuffle"):
        RULES[n] = _leading_batch
    RULES["F.batch_norm"] = _batch_norm
    RULES["F.prelu"] = _prelu
    RULES["linalg.solve"] = _solve
    RULES["F.adaptive_avg_pool1d"] = _spatial(2)
    RULES["F.adaptive_max_pool1d"] = _spatial(2)
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
