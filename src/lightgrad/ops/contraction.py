"""Contractions and the other tensor products: einsum, tensordot, inner, kron, trace and
cross, each declared once with its rule, its vmap rule and its samples."""
import string
import warnings

import numpy as np

from .._tensor import Tensor, _make
from ._batching import composite, elementwise_along
from ._core import NP, T, Sample as S, binary_operands, defop, emit, publish
from .linalg import _broadcast_shapes, _legacy, _out, _tensor, fresh_node

NP.la_einsum = lambda eq, *ops: _np_einsum(eq, ops)[0]
T.la_einsum = lambda eq, *ops: _einsum_explicit(eq, ops, None)


# -- einsum --------------------------------------------------------------------------------
def _parse_einsum(eq, ndims):
    eq = eq.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(ndims):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                           "equation")
    if len(terms) < len(ndims):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation")
    used = set(c for c in eq if c.isalpha())
    for c in eq:
        if not (c.isalpha() or c in ",.->"):
            raise RuntimeError(f"einsum(): invalid subscript given at index {eq.index(c)} in "
                               f"the equation string, subscripts must be in [a-zA-Z]")
    spare = [c for c in string.ascii_letters if c not in used]
    n_ell = 0
    for t, nd in zip(terms, ndims):
        if "..." in t:
            n_ell = max(n_ell, nd - (len(t) - 3))
    ell = "".join(spare[:n_ell])
    subs = []
    for i, (t, nd) in enumerate(zip(terms, ndims)):
        if "..." in t:
            k = nd - (len(t) - 3)
            if k < 0:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({len(t) - 3}) is more than the number of dimensions "
                                   f"({nd}) for operand {i}")
            t = t.replace("...", ell[n_ell - k:] if k else "")
        elif len(t) != nd:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(t)}) "
                               f"does not match the number of dimensions ({nd}) for operand "
                               f"{i} and no ellipsis was given")
        subs.append(t)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts = {}
        for t in subs:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    return subs, out


def _einsum_rule(ns, g, meta, *ops):
    subs, out, sizes, shapes, needs = meta
    grads = []
    for i, target in enumerate(subs):
        if not needs[i]:
            grads.append(None)
            continue
        others = [(subs[j], ops[j]) for j in range(len(subs)) if j != i]
        uniq = "".join(dict.fromkeys(target))
        avail = set(out).union(*[set(s) for s, _ in others]) if others else set(out)
        keep = "".join(c for c in uniq if c in avail)
        eq = ",".join([out] + [s for s, _ in others]) + "->" + keep
        gi = ns.la_einsum(eq, g, *[o for _, o in others])
        if keep != uniq:        # letters summed only within this operand: broadcast back
            gi = ns.reshape(gi, tuple(sizes[c] if c in keep else 1 for c in uniq))
            gi = ns.broadcast_to(gi, tuple(sizes[c] for c in uniq))
        if uniq != target:      # repeated letters: the grad lives on the diagonal
            spare = [c for c in string.ascii_letters if c not in target and c not in uniq]
            seen, renamed, eyes = set(), [], []
            for c in target:
                if c in seen:
                    f = spare.pop()
                    renamed.append(f)
                    eyes.append(c + f)
                else:
                    seen.add(c)
                    renamed.append(c)
            eq = ",".join([uniq] + eyes) + "->" + "".join(renamed)
            gi = ns.la_einsum(eq, gi, *[ns.la_eye(sizes[e[0]], sizes[e[0]], g) for e in eyes])
        shape = shapes[i]
        full = tuple(sizes[c] for c in target)
        if full != tuple(shape):   # size-1 dims broadcast in the forward
            axes = tuple(d for d, (s, f) in enumerate(zip(shape, full)) if s != f)
            gi = ns.sum(gi, axis=axes, keepdims=True)
        grads.append(gi)
    return tuple(grads)


_EINSUM_NODES = {}


def _einsum_node(name):
    cls = _EINSUM_NODES.get(name)
    if cls is None:
        cls = _EINSUM_NODES[name] = fresh_node(name, _einsum_rule, (), ("equation",))
    return cls


def _einsum_explicit(eq, tensors, name):
    """einsum over explicit subscripts (no ellipsis); name=None picks torch's usual node."""
    tensors = [_tensor(t) for t in tensors]
    arrays = [t._data for t in tensors]
    subs, out = _parse_einsum(eq, [a.ndim for a in arrays])
    dt = arrays[0].dtype
    for a in arrays[1:]:
        if a.dtype != dt:
            raise RuntimeError(f"expected scalar type {_legacy(arrays[0])} but found "
                               f"{_legacy(a)}")
    data, sizes = _np_einsum(eq, arrays, subs, out)
    if name is None:
        if len(subs) == 1:
            name = "SumBackward1" if set(subs[0]) - set(out) else "PermuteBackward0"
        else:
            summed = set("".join(subs)) - set(out)
            name = "ViewBackward0" if summed else "MulBackward0"
    needs = tuple(t._rg for t in tensors)
    return emit(data, _einsum_node(name), tensors, tuple(tensors),
                (tuple(subs), out, sizes, tuple(a.shape for a in arrays), needs))


def _np_einsum(eq, arrays, subs=None, out=None):
    """np.einsum that also broadcasts size-1 dims of named subscripts, as torch does."""
    if subs is None:
        subs, out = _parse_einsum(eq, [np.ndim(a) for a in arrays])
    arrays = [np.asarray(a) for a in arrays]
    dt = np.result_type(*arrays)
    sizes = {}
    for i, (s, a) in enumerate(zip(subs, arrays)):
        for c, n in zip(s, a.shape):
            old = sizes.get(c)
            if old is None or old == 1:
                sizes[c] = n
            elif n != old and n != 1:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which "
                                   f"does not broadcast with previously seen size {old}")
    full = []
    for s, a in zip(subs, arrays):
        shape = tuple(sizes[c] for c in s)
        full.append(a if a.shape == shape else np.broadcast_to(a, shape))
    data = np.asarray(np.einsum(",".join(subs) + "->" + out, *full, optimize=len(full) > 2))
    if data.dtype != dt:
        data = data.astype(dt)
    return data, sizes


def _einsum_batching(c, args, kwargs):
    """einsum: each batched operand gets a fresh subscript for its batch dim, which leads
    the output."""
    eq = args[0]
    ops = list(args[1] if len(args) == 2 and isinstance(args[1], (list, tuple)) else args[1:])
    lhs, arrow, rhs = eq.replace(" ", "").partition("->")
    terms = lhs.split(",")
    if not arrow:
        letters = sorted(ch for ch in set(lhs.replace(",", "")) if lhs.count(ch) == 1
                         and ch.isalpha())
        rhs = ("..." if "." in lhs else "") + "".join(letters)
    free = next(ch for ch in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba"
                if ch not in eq)
    new_terms = [free + t if c.batched(o) else t for t, o in zip(terms, ops)]
    phys = [o._p if c.batched(o) else o for o in ops]
    return c.wrap(c(f"{','.join(new_terms)}->{free}{rhs}", *phys))


def _eq(equation):
    """A sample's call: einsum(equation, *tensors)."""
    return lambda m, *xs: m.einsum(equation, *xs)


@defop(nodes=("ViewBackward0", "MulBackward0", "SumBackward1", "PermuteBackward0"),
       method=False, batch=_einsum_batching, samples=[
           S((2, 3), (3, 2), call=_eq("ij,jk->ik"), np_ref=lambda x, y: x @ y),
           S((3, 3), call=_eq("ii"), np_ref=np.trace, id="trace"),
           S((3, 3), call=_eq("ii->i"), np_ref=np.diagonal, id="diag"),
           S((2, 3), call=_eq("ij->ji"), id="transpose"),
           S((2, 3), call=_eq("ij->i"), id="sum"),
           S((2,), (3,), call=_eq("i,j->ij"), id="outer"),
           S((2, 2, 3), (2, 3, 2), call=_eq("bij,bjk->bik"), id="bmm"),
           S((2, 2, 3), (3, 2), call=_eq("...ij,...jk"), id="ellipsis"),
           S((2, 3), (2, 2, 3), call=_eq("...j,...j->..."), id="ellipsis-explicit"),
           S((2, 3), (3, 2), (2,), call=_eq("ij,jk,k->i"), id="three"),
           S((3, 3), (3,), call=_eq("ii,i->i"), id="diag-mul"),
           S((2, 3), (2,), call=_eq("ij,k->ik"), id="sum-out")])
def einsum(equation, *operands):
    """Einstein summation, e.g. `einsum('ij,jk->ik', a, b)`; '...' broadcasts batch dims."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return _einsum_explicit(equation, operands, None)


# -- tensordot -----------------------------------------------------------------------------
def _tensordot_equation(sa, sb, dims):
    """The einsum equation of tensordot over shapes sa and sb (checked as torch does)."""
    na, nb = len(sa), len(sb)
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da = list(range(na - dims, na))
        db = list(range(dims))
        shown_a = [d - na for d in da]
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
        if len(da) != len(db):
            raise RuntimeError("both dimension lists should have same length")
        shown_a = da
    for p, q, s in zip(da, db, shown_a):
        if sa[p] != sb[q]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{sa[p]} in dim {s} and second has size {sb[q]} in "
                               f"dim {q}")
    letters = iter(string.ascii_letters)
    la = [next(letters) for _ in range(na)]
    lb = [next(letters) for _ in range(nb)]
    for p, q in zip(da, db):
        lb[q % nb] = la[p % na]
    contracted = {la[p % na] for p in da}
    outl = [c for c in la if c not in contracted] + [c for c in lb if c not in contracted]
    return "".join(la) + "," + "".join(lb) + "->" + "".join(outl)


@defop(nodes=("ViewBackward0",), method=False, batch=composite(
    lambda lg, a, b, dims=2, out=None: lg.einsum(
        _tensordot_equation(tuple(a.shape), tuple(b.shape), dims), a, b)), samples=[
    S((3, 2, 2), (2, 2, 3), kwargs={"dims": ([1, 0], [0, 2])}),
    S((2, 3), (3, 2), kwargs={"dims": 1}, np_ref=lambda x, y: np.tensordot(x, y, 1), id="int")])
def tensordot(a, b, dims=2, out=None):
    """Contract dims of a with dims of b: an int n (last n of a, first n of b) or two lists."""
    a, b = _tensor(a), _tensor(b)
    eq = _tensordot_equation(a._data.shape, b._data.shape, dims)
    return _out(_einsum_explicit(eq, (a, b), "ViewBackward0"), out)


# -- inner ---------------------------------------------------------------------------------
@defop(nodes=("ViewBackward0",), batch=composite(
    lambda lg, a, b, *, out=None: (a * b).sum(-1) if a.dim() <= 1 and b.dim() <= 1
    else lg.tensordot(a, b, ([-1], [-1]))),
    samples=[S((2, 3), (4, 3), np_ref=np.inner), S((3,), (3,), method=True, id="1d")])
def inner(input, other, *, out=None):
    """Sum product over the last dims (a scalar factor with a 0-d input)."""
    a, b = _tensor(input), _tensor(other)
    if a._data.ndim == 0 or b._data.ndim == 0:
        from .arithmetic import mul
        return _out(mul(a, b), out)
    if a._data.shape[-1] != b._data.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(a._data.shape)} and {list(b._data.shape)}")
    la = string.ascii_letters[:a._data.ndim - 1]
    lb = string.ascii_letters[26:26 + b._data.ndim - 1]
    return _out(_einsum_explicit(f"{la}z,{lb}z->{la}{lb}", (a, b), "ViewBackward0"), out)



# -- trace ---------------------------------------------------------------------------------
def _trace_rule(ns, g, shape):
    return (g * ns.la_eye(shape[0], shape[1], g),)


TraceBackward0 = fresh_node("TraceBackward0", _trace_rule, meta=("self_sym_sizes",))


@defop(nodes=(TraceBackward0,), batch=composite(lambda lg, x: lg.diagonal(x).sum(-1)),
       samples=[S((3, 3), method=True, np_ref=np.trace),
                S((2, 3), np_ref=np.trace, id="rect")])
def trace(input):
    """Sum of the main diagonal of a 2-D tensor."""
    x = input._data
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    if x.dtype == np.bool_:
        raise NotImplementedError('"trace" not implemented for \'Bool\'')
    data = np.asarray(np.trace(x))
    if x.dtype.kind in "biu":
        data = data.astype(np.int64)
    return emit(data, TraceBackward0, (input,), meta=x.shape)


# -- cross ---------------------------------------------------------------------------------
def _cross_rule(ns, g, dim, self, other):
    return (None if other is None else ns.la_cross(other, g, dim),
            None if self is None else ns.la_cross(g, self, dim))


LinalgCrossBackward0 = fresh_node("LinalgCrossBackward0", _cross_rule, saved=("self", "other"),
                                  meta=("dim",))


@defop(name="linalg.cross", nodes=(LinalgCrossBackward0,),
       batch=elementwise_along(2, default=-1),
       samples=[S((2, 1, 3), (1, 2, 3), np_ref=np.cross),
                S((3, 2), (3, 1), kwargs={"dim": 0}, id="dim0")])
def linalg_cross(input, other, *, dim=-1, out=None):
    """Cross product of 3-vectors along `dim`, broadcasting the other dims."""
    a, b = _tensor(input), _tensor(other)
    x, y = a._data, b._data
    if x.ndim != y.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if x.dtype != y.dtype:
        raise RuntimeError(f"expected scalar type {_legacy(x)} but found {_legacy(y)}")
    nd = max(x.ndim, 1)
    if not -nd <= dim < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, "
                         f"{nd - 1}], but got {dim})")
    if x.shape[dim] != 3 or y.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{x.shape[dim]} and {y.shape[dim]}")
    _broadcast_shapes(x.shape, y.shape)
    data = np.cross(x, y, axis=dim)
    sx = None if not b._rg else (a if a._data.dtype == data.dtype else _make(x))
    sy = None if not a._rg else (b if b._data.dtype == data.dtype else _make(y))
    return emit(data, LinalgCrossBackward0, (a, b), (sx, sy), dim, bcast=True, out=out)


@defop(nodes=(LinalgCrossBackward0,), batch=elementwise_along(2), samples=[
    S((2, 3), (2, 3), kwargs={"dim": 1}, np_ref=lambda x, y: np.cross(x, y, axis=1)),
    S((3, 2), (3, 2), args=(0,), method=True, id="method")])
def cross(input, other, dim=None, *, out=None):
    """torch.cross: like linalg.cross, but dim defaults to the first dim of size 3."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\n"
                      "Please either pass the dim explicitly or simply use torch.linalg.cross."
                      "\nThe default value of dim will change to agree with that of "
                      "linalg.cross in a future release.", UserWarning, stacklevel=2)
        shape = _tensor(input)._data.shape
        dim = next((i for i, s in enumerate(shape) if s == 3), -1)
    return linalg_cross(input, other, dim=dim, out=out)


NP.la_cross = lambda a, b, dim: np.cross(a, b, axis=dim)
T.la_cross = lambda a, b, dim: linalg_cross(a, b, dim=dim)


# -- kron ----------------------------------------------------------------------------------
def _kron_rule(ns, g, meta, self, other):
    sa, sb = meta
    n = len(sa)
    inter = []
    for p, q in zip(sa, sb):
        inter += [p, q]
    g4 = ns.reshape(g, tuple(inter))
    ga = gb = None
    if other is not None:
        bshape = []
        for q in sb:
            bshape += [1, q]
        ga = ns.sum(g4 * ns.reshape(other, tuple(bshape)), axis=tuple(range(1, 2 * n, 2)))
    if self is not None:
        ashape = []
        for p in sa:
            ashape += [p, 1]
        gb = ns.sum(g4 * ns.reshape(self, tuple(ashape)), axis=tuple(range(0, 2 * n, 2)))
    return ga, gb


def _kron_rule_outer(ns, g, meta, self, other):
    sa, sb, shape_a, shape_b = meta
    ga, gb = _kron_rule(ns, g, (sa, sb), None if self is None else ns.reshape(self, sa),
                        None if other is None else ns.reshape(other, sb))
    return (None if ga is None else ns.reshape(ga, shape_a),
            None if gb is None else ns.reshape(gb, shape_b))


_KronUnsafeView = fresh_node("UnsafeViewBackward0", _kron_rule_outer, ("self", "other"),
                             ("meta",))


def _kron_batching(lg, a, b, *, out=None):
    """kron over logical shapes: the product of a and b interleaved, then merged."""
    n = max(a.dim(), b.dim())
    sa = (1,) * (n - a.dim()) + tuple(a.shape)
    sb = (1,) * (n - b.dim()) + tuple(b.shape)
    ai = a.reshape(sum(((p, 1) for p in sa), ()))
    bi = b.reshape(sum(((1, q) for q in sb), ()))
    return (ai * bi).reshape(tuple(p * q for p, q in zip(sa, sb)))


@defop(nodes=(_KronUnsafeView,), batch=composite(_kron_batching), samples=[
    S((2, 3), (2, 2), np_ref=np.kron), S((2,), (2, 2), np_ref=np.kron, id="pad"),
    S((3,), (2,), method=True, id="method")])
def kron(input, other, *, out=None):
    """Kronecker product; the shorter shape is padded with leading ones."""
    a, b, x, y = binary_operands(_tensor(input), _tensor(other))
    data = np.kron(x, y)
    n = max(x.ndim, y.ndim)
    sa = (1,) * (n - x.ndim) + x.shape
    sb = (1,) * (n - y.ndim) + y.shape
    sx = None if not b._rg else (a if a._data.dtype == data.dtype else _make(x))
    sy = None if not a._rg else (b if b._data.dtype == data.dtype else _make(y))
    return emit(data, _KronUnsafeView, (a, b), (sx, sy), (sa, sb, x.shape, y.shape),
                bcast=True, out=out)



__all__ = publish(globals())
