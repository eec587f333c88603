"""vmap batching rules that op declarations name (`defop(batch=...)`), and the helpers to
write one beside its op.

A rule is `rule(c, args, kwargs)`. `c` is the vmap call (ops/_batched_tensor._Call): `c(...)`
runs the op on physical tensors, `c.batched(x)` tells whether x is batched at this vmap
level, `c.wrap(out)` turns physical results back into this level's batched tensors,
`c.name` is the op's name and `c.size(*xs)` the batch size. A batched tensor `x` shows its
logical shape (one example) and holds the whole batch in dim 0 of `x._p`. A rule rewrites
the call so that it is right for every example at once; it never computes on the batch as
if it were one example, and refuses (raising `vmap_error`) where examples would mix.
These rules know no vmap internals beyond that protocol, so the ops layer can hold them.
"""
import sys

import numpy as np

from .._tensor import Tensor
from ._record import to_tensor


def vmap_error(msg):
    return RuntimeError(f"vmap: {msg}")


# -- helpers for rules -----------------------------------------------------------------------
def ndim(x):
    """Logical number of dims of an argument (0 for scalars)."""
    if isinstance(x, Tensor):
        return x.dim()
    return np.ndim(x) if isinstance(x, (np.ndarray, np.generic)) else 0


def phys(c, x, nd=None):
    """x's physical tensor with dims of size 1 inserted after the batch dim so that it has
    `nd` logical dims (not batched at this level: x itself)."""
    if not c.batched(x):
        return x
    p = x._p
    have = len(p.shape) - 1
    if nd is None or nd <= have:
        return p
    shape = tuple(p.shape)
    return p.reshape(shape[:1] + (1,) * (nd - have) + shape[1:])


def norm_dim(d, nd):
    n = max(nd, 1)
    if not -n <= d < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}],"
                         f" but got {d})")
    return d % n


def shift(d, nd):
    """A logical dim (int or sequence of ints) as the physical one."""
    if isinstance(d, (list, tuple)):
        return type(d)(norm_dim(x, nd) + 1 for x in d)
    return norm_dim(d, nd) + 1


def arg(args, kwargs, pos, name, default=None):
    """The argument at position `pos` or keyword `name`."""
    if name in kwargs:
        return kwargs[name]
    return args[pos] if len(args) > pos else default


def set_arg(args, kwargs, pos, name, value):
    """args, kwargs with argument (pos, name) set to value."""
    if name in kwargs or len(args) <= pos:
        return args, dict(kwargs, **{name: value})
    args = list(args)
    args[pos] = value
    return tuple(args), kwargs


def expand_to(c, x, n):
    """x as a physical batch: batched x as it is, others repeated n times (a view)."""
    if c.batched(x):
        return x._p
    x = to_tensor(x)
    return x.unsqueeze(0).expand((n,) + tuple(x.shape))


def _squeeze_one(out):
    if isinstance(out, tuple):
        return type(out)([o.reshape(-1) for o in out]) if type(out) is not tuple else \
            tuple(o.reshape(-1) for o in out)
    return out.reshape(-1)


# -- rules ---------------------------------------------------------------------------------
def elementwise(c, args, kwargs):
    """Ops that broadcast elementwise: line every operand up on the same logical dims."""
    values = list(args) + list(kwargs.values())
    nd = max((ndim(v) for v in values), default=0)
    args = tuple(phys(c, a, nd) for a in args)
    kwargs = {k: phys(c, v, nd) for k, v in kwargs.items()}
    return c.wrap(c(*args, **kwargs))


def inplace_elementwise(c, args, kwargs):
    """An elementwise op's in-place form on a batched tensor writes into its physical
    tensor."""
    if not c.batched(args[0]):
        raise vmap_error("vmap: inplace arithmetic(self, *extra_args) is not possible because "
                         "there exists a Tensor `other` in extra_args that has more elements "
                         "than `self`.")
    nd = args[0].dim()
    rest = tuple(phys(c, a, nd) for a in args[1:])
    c(args[0]._p, *rest, **kwargs)
    return args[0]


def along_dim(pos, name="dim", default=None, new_dim=False, full=None, values_only=False):
    """The rule of an op along its `dim` argument (position `pos`, keyword `name`, `default`
    when not given): the dim moves one to the right, past the batch dim. new_dim: the dim
    names a dim of the result that the op inserts (unsqueeze). full="flatten" (a
    reduction): dim=None reduces each whole example, by flattening it first; values_only:
    the whole-tensor form returns the values where the dim form returns (values, indices)."""
    def rule(c, args, kwargs):
        x = args[0]
        if not c.batched(x):      # a batched tensor in another argument (index, ...)
            raise vmap_error(f"the batching rule for {c.name} needs the batched tensor as its "
                             "first argument")
        nd = x.dim()
        p = x._p
        d = arg(args, kwargs, pos, name)
        if isinstance(d, bool):             # std(x, False): the unbiased flag, not a dim
            raise vmap_error(f"{c.name} with a positional unbiased flag has no batching rule; "
                             "pass dim= and correction= instead")
        if isinstance(d, (list, tuple)) and not d and full == "flatten":
            d = None                            # dim=() reduces everything, as torch does
            args, kwargs = set_arg(args, kwargs, pos, name, None)
        if d is None and full == "flatten":
            keep = kwargs.get("keepdim", len(args) > pos + 1 and args[pos + 1])
            flat = p.reshape(p.shape[0], -1) if nd else p.reshape(p.shape[0], 1)
            args, kwargs = set_arg(args, kwargs, pos, name, 1)
            out = c(flat, *args[1:], **kwargs)
            if values_only:
                out = out[0]
            if keep:
                out = out.reshape((p.shape[0],) + (1,) * nd)
            return c.wrap(out)
        if d is None:
            if default is None:
                return c.wrap(c(p, *args[1:], **kwargs))
            d = default
            args, kwargs = set_arg(args, kwargs, pos, name, d)
        if nd == 0 and not new_dim:
            # dim 0 / -1 of a 0-d example: work on a (batch, 1) tensor
            p = p.reshape(p.shape[0], 1)
            d2 = 1 if not isinstance(d, (list, tuple)) else (1,)
            args, kwargs = set_arg(args, kwargs, pos, name, d2)
            out = c(p, *args[1:], **kwargs)
            keep = kwargs.get("keepdim", False)
            return c.wrap(_squeeze_one(out) if not keep else out.reshape(-1))
        args, kwargs = set_arg(args, kwargs, pos, name, shift(d, nd + (1 if new_dim else 0)))
        return c.wrap(c(p, *args[1:], **kwargs))
    rule.__name__ = ("reduce_over" if full else "along_dim") + f"({pos})"
    return rule


def reduce_over(pos, name="dim", values_only=False):
    """The rule of a reduction over its `dim` argument; dim=None reduces each example."""
    return along_dim(pos, name, full="flatten", values_only=values_only)


def softmax_like(c, args, kwargs):
    """softmax and its kin: along an explicit dim (torch's implicit dim would differ)."""
    if arg(args, kwargs, 1, "dim") is None:
        raise vmap_error(f"{c.name} inside vmap needs an explicit dim")
    return _ALONG_DIM1(c, args, kwargs)


_ALONG_DIM1 = along_dim(1)


def lightgrad():
    """The lightgrad package, for rules that call public ops on batched tensors (read from
    sys.modules at call time: lightgrad is loaded by then, and this layer does not import
    the package that imports it)."""
    return sys.modules["lightgrad"]


def composite(fn):
    """The rule of an op written as other ops: `fn(lg, *args, **kwargs)`, where `lg` is the
    lightgrad namespace, whose functions dispatch through their own rules while vmap runs."""
    def rule(c, args, kwargs):
        return fn(lightgrad(), *args, **kwargs)
    rule.__name__ = "composite"
    return rule


def elementwise_along(pos, name="dim", default=None):
    """The rule of an op of several broadcasting tensors along a dim (cross): the operands
    line up as for `elementwise`, and the dim, counted from the end, names the same dim of
    every example. default: the dim when it is not given (None: vmap needs it given)."""
    def rule(c, args, kwargs):
        d = arg(args, kwargs, pos, name, default)
        if d is None:
            raise vmap_error(f"{c.name} inside vmap needs an explicit dim")
        nd = max(ndim(a) for a in list(args) + list(kwargs.values()))
        args, kwargs = set_arg(args, kwargs, pos, name, norm_dim(d, nd) - nd)   # negative
        return elementwise(c, args, kwargs)
    rule.__name__ = f"elementwise_along({pos})"
    return rule


def sizes_arg(args, kwargs, name):
    """The sizes of view(2, 3), view((2, 3)) or view(shape=(2, 3)) (also permute, expand)."""
    if len(args) > 2 or len(args) == 2 and isinstance(args[1], (int, np.integer)):
        return tuple(args[1:])
    return tuple(args[1] if len(args) > 1 else kwargs[name])


def leading_batch(c, args, kwargs):
    """The rule of an op that already treats leading dims as a batch (linalg on the last two
    dims, tril, layer_norm, constant pad, ...): the physical tensor goes in as it is. Only
    the first argument may be batched, and each example must have the dims the op works
    on (2 by default; `leading_batch_needs(check)` for another check)."""
    return _leading_batch_with(None)(c, args, kwargs)


def leading_batch_needs(check):
    """leading_batch with `check(c, x, args, kwargs)` instead of the 2-dims check (it raises
    or returns a rule to use instead)."""
    return _leading_batch_with(check)


def _leading_batch_with(check):
    def rule(c, args, kwargs):
        x = args[0]
        if any(c.batched(a) for a in list(args[1:]) + list(kwargs.values())):
            raise vmap_error(f"{c.name} with a batched argument other than the first has no "
                             "batching rule yet")
        if check is not None:
            other = check(c, x, args, kwargs)
            if other is not None:
                return other(c, args, kwargs)
        elif x.dim() < 2:
            raise RuntimeError(f"{c.name}: expected a tensor with 2 or more dimensions, got "
                               f"{x.dim()}")
        return c.wrap(c(x._p, *args[1:], **kwargs))
    rule.__name__ = "leading_batch"
    return rule


def refused(reason):
    """The rule of an op vmap cannot run, saying why."""
    def rule(c, args, kwargs):
        raise vmap_error(f"{c.name} has no batching rule: {reason}")
    return rule


def per_example_loss(reduction_pos, per_sample=False):
    """The rule of a loss over one example, called as (input, target, reduction=...)
    (`reduction_pos`: the position of its reduction argument): the loss per element
    (reduction='none'), then each example's own elements reduced. Numeric keyword options
    (beta, delta, margin, ...) pass through. per_sample: a loss over (C,) or (N, C) inputs
    with one value per sample (nll_loss, the margin losses): the batch joins N."""
    def rule(c, args, kwargs):
        reduction = arg(args, kwargs, reduction_pos, "reduction", "mean")
        x, target = args[0], args[1]
        extra = {k: v for k, v in kwargs.items()
                 if k != "reduction" and isinstance(v, (int, float)) and not isinstance(v, bool)}
        other = {k: v for k, v in kwargs.items() if k != "reduction" and k not in extra}
        given = [a for i, a in enumerate(args[2:], 2) if i != reduction_pos and a is not None]
        if given or any(v is not None for v in other.values()) or \
                per_sample and extra.get("ignore_index", -100) != -100:
            raise vmap_error(f"{c.name} inside vmap supports only (input, target, "
                             "reduction=...)")
        extra.pop("ignore_index", None)
        if per_sample:
            # the target is a class index per sample, or (multilabel) a row per sample
            if x.dim() > 2:
                raise vmap_error(f"{c.name} with extra (spatial) dims has no batching rule yet")
            n = c.size(x, target)
            xp, tp = expand_to(c, x, n), expand_to(c, target, n)
            if x.dim() == 1:                    # one sample of C classes
                per = c(xp, tp, reduction="none", **extra)
            else:
                rows = tp.reshape((-1,) + tuple(tp.shape[2:]))
                per = c(xp.reshape((-1,) + tuple(xp.shape[2:])), rows,
                        reduction="none", **extra).reshape(tuple(xp.shape[:2]))
        else:
            nd = max(x.dim(), target.dim())
            per = c(phys(c, x, nd), phys(c, target, nd), reduction="none", **extra)
        dims = tuple(range(1, len(per.shape)))
        if reduction == "none" or not dims:
            return c.wrap(per)
        if reduction == "batchmean":        # kl_div: the sum over input's first dim's size
            return c.wrap(per.sum(dims) / (x.shape[0] if x.dim() else 1))
        return c.wrap(per.sum(dims) if reduction == "sum" else per.mean(dims))
    rule.__name__ = "per_example_loss"
    return rule


# -- ops over (N, C, *spatial) inputs: convolution, pooling, normalization, ... ------------
def check_only_input_batched(c, args, kwargs):
    """Refuse a call in which an argument other than the first (weights, ...) is batched."""
    if not c.batched(args[0]) or any(c.batched(a) for a in list(args[1:]) +
                                     list(kwargs.values())):
        raise vmap_error(f"{c.name} has a batching rule for a batched input only")


def batch_into_n(c, args, kwargs):
    """Run an op over (N, C, ...) inputs with the vmap batch folded into N, and unfold its
    output(s) again (the examples are independent along N)."""
    p = args[0]._p
    n = p.shape[0]
    out = c(p.reshape((-1,) + tuple(p.shape[2:])), *args[1:], **kwargs)
    if isinstance(out, tuple):
        return c.wrap(type(out)(o.reshape((n, -1) + tuple(o.shape[1:])) for o in out))
    return c.wrap(out.reshape((n, -1) + tuple(out.shape[1:])))


def fold_into_batch(min_ndim):
    """The rule of an op over (N, C, ...) inputs whose examples are independent along N
    (group_norm, unfold, ...): the vmap batch joins N. Each example needs `min_ndim` dims;
    other arguments must not be batched."""
    def rule(c, args, kwargs):
        check_only_input_batched(c, args, kwargs)
        if args[0].dim() < min_ndim:
            raise RuntimeError(f"{c.name}: expected an input with at least {min_ndim} dims, "
                               f"got {args[0].dim()}")
        return batch_into_n(c, args, kwargs)
    rule.__name__ = f"fold_into_batch({min_ndim})"
    return rule


def spatial(unbatched_ndim):
    """The rule of conv / pool / interpolate: an example is (C, *spatial), with
    `unbatched_ndim` dims, or (N, C, *spatial) (always the latter when unbatched_ndim is
    None); the vmap batch is folded into N. Weights must not be batched."""
    def rule(c, args, kwargs):
        x = args[0]
        check_only_input_batched(c, args, kwargs)
        if unbatched_ndim is not None and x.dim() == unbatched_ndim:
            return c.wrap(c(x._p, *args[1:], **kwargs))
        if x.dim() != (unbatched_ndim or x.dim() - 1) + 1 or x.dim() < 3:
            raise RuntimeError(f"{c.name}: expected an input of {unbatched_ndim} or "
                               f"{(unbatched_ndim or 2) + 1} dims, got {x.dim()}")
        return batch_into_n(c, args, kwargs)
    rule.__name__ = f"spatial({unbatched_ndim})" if unbatched_ndim else "spatial"
    return rule
