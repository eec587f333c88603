"""Ops that rearrange elements into a new tensor (repeat, tile, flip, roll, tril/triu),
diagonals (diagonal is a view), repeat_interleave, meshgrid, and the value-dependent
queries nonzero and unique; each declared once with its rule and vmap rule."""
import builtins

import numpy as np

from .._tensor import Tensor, _make
from ._batching import along_dim, arg, composite, leading_batch, phys, shift, sizes_arg
from ._core import Sample as S, defop, emit, node_class, normalize_dims, ns_def, publish, view_of
from ._record import distinct_dims, exact_out
from .convert import clone
from .logic import _VALUE_SHAPED
from .scatter_gather import index_select
from .shape import ExpandBackward0, _shape_arg, expand, flatten, reshape, unsqueeze, view


def _idx(*arrays):
    """Sample inputs: a float input of shape arrays[0], then constant arrays."""
    def make(rng):
        return [rng.uniform(-2, 2, arrays[0])] + [np.asarray(a) for a in arrays[1:]]
    return make


def _repeat_batching(c, args, kwargs):
    sizes = sizes_arg(args, kwargs, "repeats")
    return c.wrap(c(phys(c, args[0], len(sizes)), (1,) + sizes))


def _tile_batching(c, args, kwargs):
    x = args[0]
    reps = sizes_arg(args, kwargs, "dims")
    reps = (1,) * (x.dim() - len(reps)) + reps
    return c.wrap(c(phys(c, x, len(reps)), (1,) + reps))


def _roll_batching(c, args, kwargs):
    x, shifts, dims = args[0], arg(args, kwargs, 1, "shifts"), arg(args, kwargs, 2, "dims")
    p = x._p
    if dims is None:                      # roll the flattened example
        flat = c(p.reshape(p.shape[0], -1), shifts, 1)
        return c.wrap(flat.reshape(tuple(p.shape)))
    return c.wrap(c(p, shifts, shift(dims, x.dim())))


def _diagonal_batching(c, args, kwargs):
    x = args[0]
    nd = x.dim()
    off = arg(args, kwargs, 1, "offset", 0)
    d1, d2 = arg(args, kwargs, 2, "dim1", 0), arg(args, kwargs, 3, "dim2", 1)
    return c.wrap(c(x._p, off, shift(d1, nd), shift(d2, nd)))


def _diag_embed_batching(c, args, kwargs):
    x = args[0]
    nd = x.dim() + 1
    off = arg(args, kwargs, 1, "offset", 0)
    d1, d2 = arg(args, kwargs, 2, "dim1", -2), arg(args, kwargs, 3, "dim2", -1)
    return c.wrap(c(x._p, off, shift(d1, nd), shift(d2, nd)))


# -- copies: repeat, flip, roll, tril/triu -----------------------------------------------
def _repeat_rule(ns, g, meta):
    shape, reps = meta
    padded = (1,) * (len(reps) - len(shape)) + tuple(shape)
    inter = []
    for r, s in zip(reps, padded):
        inter += [r, s]
    g = ns.reshape(g, tuple(inter))
    g = ns.sum(g, tuple(range(0, 2 * len(reps), 2)))
    return (ns.reshape(g, shape),)


RepeatBackward0 = node_class("RepeatBackward0", _repeat_rule,
                             meta=("self_sym_sizes", "repeats"))


@defop(nodes=(RepeatBackward0,), batch=_repeat_batching, samples=[
    S((2, 3), args=(2, 1, 3), method=True, np_ref=lambda x: np.tile(x, (2, 1, 3))),
    S((), args=(3,), method=True, id="0d")])
def repeat(input, *sizes):
    if not sizes:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    reps = _shape_arg(sizes)
    x = input._data
    if len(reps) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    data = np.tile(x, reps) if reps else x.copy()
    if data.ndim < len(reps):
        data = data.reshape((1,) * (len(reps) - data.ndim) + data.shape)
    return emit(data, RepeatBackward0, (input,), meta=(x.shape, reps))


@defop(nodes=(RepeatBackward0,), batch=_tile_batching, samples=[
    S((2, 3), args=((2,),), np_ref=lambda x: np.tile(x, (2,)))])
def tile(input, *dims):
    """`torch.tile(x, (2, 1))`; the method also takes `x.tile(2, 1)`."""
    dims = _shape_arg(dims)
    n = input._data.ndim
    if len(dims) < n:
        dims = (1,) * (n - len(dims)) + tuple(dims)
    return repeat(input, dims)


FlipBackward0 = node_class("FlipBackward0", lambda ns, g, dims: (ns.flip(g, dims),),
                           meta=("dims",))


@defop(nodes=(FlipBackward0,), batch=along_dim(1, name="dims"), samples=[
    S((2, 3, 2), args=((0, 2),), np_ref=lambda x: np.flip(x, (0, 2)))])
def flip(input, *dims):
    x = input._data
    dims = distinct_dims(normalize_dims(_shape_arg(dims), x.ndim))
    dims = dims if x.ndim else ()      # a 0-d input takes dims 0 / -1: nothing to flip
    data = np.flip(x, dims).copy() if dims else x.copy()
    return emit(data, FlipBackward0, (input,), meta=dims)


@defop(nodes=(FlipBackward0,), batch=composite(lambda lg, x: lg.flip(x, (1,))),
       samples=[S((2, 3), np_ref=np.fliplr)])
def fliplr(input):
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


@defop(nodes=(FlipBackward0,), batch=composite(lambda lg, x: lg.flip(x, (0,))),
       samples=[S((2, 3), np_ref=np.flipud)])
def flipud(input):
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


def _roll_rule(ns, g, meta):
    shifts, dims = meta
    return (ns.roll(g, tuple(-s for s in shifts), dims),)


RollBackward0 = node_class("RollBackward0", _roll_rule, meta=("shifts", "dims"))


def _np_roll(x, shifts, dims):
    if dims is None:
        return np.roll(x, shifts[0])
    return np.roll(x, shifts, dims)


@defop(nodes=(RollBackward0,), batch=_roll_batching, samples=[
    S((2, 3), args=(1,), np_ref=lambda x: np.roll(x, 1)),
    S((2, 3), args=((1, -1), (0, 1)), id="dims", np_ref=lambda x: np.roll(x, (1, -1), (0, 1)))])
def roll(input, shifts, dims=None):
    x = input._data
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if dims is not None:
        given = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
        if len(shifts) != len(given):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                               f"dims:{len(given)}")
        if x.ndim == 0 and given:
            raise IndexError(f"Dimension specified as {given[0]} but tensor has no dimensions")
        dims = normalize_dims(dims, x.ndim)
    elif len(shifts) != 1:
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
    data = _np_roll(x, shifts, dims)
    return emit(data, RollBackward0, (input,), meta=(shifts, dims))


TrilBackward0 = node_class("TrilBackward0", lambda ns, g, k: (ns.tril(g, k),),
                           meta=("diagonal",))
TriuBackward0 = node_class("TriuBackward0", lambda ns, g, k: (ns.triu(g, k),),
                           meta=("diagonal",))


def _tri(name, np_fn, cls):
    def op(input, diagonal=0, *, out=None):
        x = input._data
        if x.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        data = np_fn(x, diagonal)
        return exact_out(emit(data, cls, (input,), meta=diagonal), out)
    op.__name__ = name
    return op


tril = defop(_tri("tril", np.tril, TrilBackward0), nodes=(TrilBackward0,), inplace=True,
             batch=leading_batch, samples=[S((3, 3), np_ref=np.tril),
                                           S((2, 3, 4), args=(-1,), id="batch")])
triu = defop(_tri("triu", np.triu, TriuBackward0), nodes=(TriuBackward0,), inplace=True,
             batch=leading_batch, samples=[S((3, 4), args=(1,), np_ref=lambda x: np.triu(x, 1))])


# -- diagonals ---------------------------------------------------------------------------
def _diag_view(x, offset, d1, d2):
    """A writable view of the diagonal of x over dims d1, d2 (appended as the last dim)."""
    m = np.moveaxis(x, (d1, d2), (-2, -1))
    r, c = m.shape[-2:]
    if offset >= 0:
        n = builtins.max(0, builtins.min(r, c - offset))
        start = m[..., :, offset:] if n else m[..., :0, :0]
    else:
        n = builtins.max(0, builtins.min(r + offset, c))
        start = m[..., -offset:, :] if n else m[..., :0, :0]
    s = m.strides
    return np.lib.stride_tricks.as_strided(start, m.shape[:-2] + (n,), s[:-2] + (s[-2] + s[-1],),
                                           writeable=x.flags.writeable)


def _np_diagonal(x, offset=0, d1=0, d2=1):
    return _diag_view(x, offset, d1, d2)


def _np_diag_embed(g, shape, offset, d1, d2):
    """Zeros of `shape` with g (diagonal as its last dim) on the diagonal (offset, d1, d2)."""
    z = np.zeros(shape, dtype=np.result_type(g))
    _diag_view(z, offset, d1, d2)[...] = g
    return z


def _diagonal_rule(ns, g, meta):
    shape, offset, d1, d2 = meta
    return (ns.diag_scatter(g, shape, offset, d1, d2),)


DiagonalBackward0 = node_class("DiagonalBackward0", _diagonal_rule,
                               meta=("self_sym_sizes", "offset", "dim1", "dim2"))
DiagonalBackward0_copy = node_class("DiagonalBackward0_copy", _diagonal_rule,
                                    meta=("self_sym_sizes", "offset", "dim1", "dim2"))
DiagonalBackwardBackward0 = node_class(
    "DiagonalBackwardBackward0", lambda ns, g, m: (ns.diagonal(g, m[0], m[1], m[2]),),
    meta=("offset", "dim1", "dim2"))
DiagEmbedBackward0 = node_class(
    "DiagEmbedBackward0", lambda ns, g, m: (ns.diagonal(g, m[0], m[1], m[2]),),
    meta=("offset", "dim1", "dim2"))


@defop(nodes=(DiagonalBackward0,), batch=_diagonal_batching, samples=[
    S((3, 3), np_ref=np.diagonal),
    S((3, 2, 4), args=(-1, 0, 2), id="dims", np_ref=lambda x: np.diagonal(x, -1, 0, 2))])
def diagonal(input, offset=0, dim1=0, dim2=1):
    x = input._data
    d1, d2 = normalize_dims((dim1, dim2), x.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return view_of(input, _diag_view(x, offset, d1, d2), DiagonalBackward0,
                   (x.shape, offset, d1, d2))


def _diag_scatter_t(g, shape, offset, d1, d2):
    data = _np_diag_embed(g._data, shape, offset, d1, d2)
    return emit(data, DiagonalBackwardBackward0, (g,), meta=(offset, d1, d2))


@defop(nodes=(DiagEmbedBackward0,), batch=_diag_embed_batching, samples=[
    S((2, 3)), S((2, 3), args=(1, 0, 2), id="dims")])
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    x = input._data
    n = x.shape[-1] + builtins.abs(offset)
    nd = x.ndim + 1
    d1, d2 = normalize_dims((dim1, dim2), nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rest = list(x.shape[:-1])
    shape = [0] * nd
    it = iter(rest)
    for i in range(nd):
        shape[i] = n if i in (d1, d2) else next(it)
    data = _np_diag_embed(x, tuple(shape), offset, d1, d2)
    return emit(data, DiagEmbedBackward0, (input,), meta=(offset, d1, d2))


def _diag_batching(c, args, kwargs):
    x, off = args[0], arg(args, kwargs, 1, "diagonal", 0)
    return x.diag_embed(off) if x.dim() == 1 else x.diagonal(off)


@defop(nodes=(DiagonalBackward0_copy, DiagEmbedBackward0), batch=_diag_batching, samples=[
    S((3, 4), np_ref=np.diag), S((3,), args=(1,), id="1d", np_ref=lambda x: np.diag(x, 1))])
def diag(input, diagonal=0):
    x = input._data
    if x.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if x.ndim != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")
    data = _diag_view(x, diagonal, 0, 1).copy()
    return emit(data, DiagonalBackward0_copy, (input,), meta=(x.shape, diagonal, 0, 1))


ns_def("diagonal", lambda g, o, a, b: _np_diagonal(g, o, a, b), diagonal)
ns_def("diag_scatter", _np_diag_embed, _diag_scatter_t)
ns_def("flip", lambda g, dims: np.flip(g, dims), lambda g, dims: flip(g, dims))
ns_def("roll", _np_roll, lambda g, s, d: roll(g, s, d))
ns_def("tril", np.tril, tril)
ns_def("triu", np.triu, triu)


# -- non-differentiable queries ------------------------------------------------------------
def _unique_rule(ns, g, meta):
    raise NotImplementedError("the derivative for '_unique2' is not implemented.")


@defop(nodes=("Unique2Backward0", "UniqueDimBackward0"), vmap_refused=_VALUE_SHAPED,
       samples=[S(make_inputs=lambda r: [np.array([2.0, 1.0, 2.0, 3.0, 1.0])], grad=False,
                  kwargs={"return_inverse": True, "return_counts": True})])
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Unique values (always sorted, as torch on CPU), optionally inverse and counts."""
    x = input._data
    if dim is None:
        res = np.unique(x, return_inverse=True, return_counts=True)
        vals, inv, cnt = res
        inv = inv.reshape(x.shape)
        node = "Unique2Backward0"
    else:
        d = normalize_dims(dim, x.ndim)[0]
        vals, inv, cnt = np.unique(x, return_inverse=True, return_counts=True, axis=d)
        inv = inv.reshape(-1)
        node = "UniqueDimBackward0"
    out = [emit(vals, node_class(node, _unique_rule), (input,))]
    if return_inverse:
        out.append(_make(inv.astype(np.int64)))
    if return_counts:
        out.append(_make(cnt.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


# -- composites ------------------------------------------------------------------------------
@defop(nodes=("ViewBackward0", "IndexSelectBackward0"), batch=along_dim(2, full="flatten"),
       samples=[S((2, 2), args=(2,), np_ref=lambda x: np.repeat(x, 2)),
                S(make_inputs=_idx((3, 2), [1, 0, 2]), kwargs={"dim": 0}, id="tensor")])
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    if repeats is None:                      # repeat_interleave(repeats_tensor)
        r = input._data.astype(np.int64)
        return _make(np.repeat(np.arange(r.shape[0], dtype=np.int64), r))
    if dim is None:
        input = flatten(input)
        dim = 0
    x = input._data
    d = normalize_dims(dim, x.ndim)[0]
    if isinstance(repeats, Tensor) and repeats._data.ndim > 0 and repeats._data.size != 1:
        r = repeats._data.astype(np.int64)
        if r.shape[0] != x.shape[d]:
            raise RuntimeError("repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {r.shape[0]} and input.size({d}) = "
                               f"{x.shape[d]}")
        idx = np.repeat(np.arange(x.shape[d], dtype=np.int64), r)
        return index_select(input, d, _make(idx))
    n = int(repeats)
    e = unsqueeze(input, d + 1)
    shape = list(e._data.shape)
    shape[d + 1] = n
    out = clone(expand(e, shape))
    return reshape(out, x.shape[:d] + (x.shape[d] * n,) + x.shape[d + 1:])


@defop(nodes=(ExpandBackward0,), method=False,
       vmap_refused="lightgrad has no batching rule for meshgrid yet", samples=[
           S((2,), (3,), kwargs={"indexing": "ij"}), S((2,), (3,), kwargs={"indexing": "xy"},
                                                      id="xy")])
def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    ts = list(tensors)
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    sizes = [t._data.size for t in ts]
    n = len(ts)
    outs = []
    for i, t in enumerate(ts):
        shape = [1] * n
        shape[i] = -1
        outs.append(expand(view(t, shape), sizes))
    if swap:
        outs[0], outs[1] = outs[1], outs[0]
    return tuple(outs)


__all__ = publish(globals())
