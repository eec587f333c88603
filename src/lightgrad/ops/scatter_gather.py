"""gather / scatter and the index_* family: ops that read or write along one dim at the
positions an index tensor gives (gather, take_along_dim, scatter, scatter_add,
scatter_reduce, index_select, index_add, index_copy, index_fill), each declared once with
its rule, its vmap rule and its samples."""
import numpy as np

from .._tensor import Tensor, _make
from .._graph.grad_mode import state as _state
from ._batching import along_dim, arg, expand_to, lightgrad, phys, shift, vmap_error
from ._core import (RESULT, Sample as S, defop, emit, float_and, node_class, normalize_dims,
                    ns_def, publish, record, to_tensor)
from .shape import _embed, expand, flatten


def _u(*shape):
    """A Sample's random float input of `shape`, beside its constant index arrays."""
    return lambda rng: rng.uniform(-2.0, 2.0, shape)


def _inputs(*parts):
    """make_inputs from parts: random-input makers (`_u`) and constant arrays."""
    return lambda rng: [p(rng) if callable(p) else np.asarray(p) for p in parts]


# -- vmap rules ------------------------------------------------------------------------------
def _with_index(dim_pos, tensor_pos):
    """gather/scatter-like ops: dim shifts, and the index and source tensors (positions
    `tensor_pos`) become batches too when they are shared by all examples."""
    def rule(c, args, kwargs):
        x = args[0]
        n = c.size(list(args) + list(kwargs.values()))
        nd = x.dim()
        args = list(args)
        args[0] = expand_to(c, x, n)
        args[dim_pos] = shift(args[dim_pos], nd)
        for i in tensor_pos:
            if i < len(args) and isinstance(args[i], Tensor):
                args[i] = expand_to(c, args[i], n)
        kwargs = {k: expand_to(c, v, n) if isinstance(v, Tensor) else v
                  for k, v in kwargs.items()}
        return c.wrap(c(*args, **kwargs))
    return rule


def _index_along(c, args, kwargs):
    """index_add/index_copy/index_fill: a 1-d index along dim; self and source batched."""
    x = args[0]
    n = c.size(list(args) + list(kwargs.values()))
    args = list(args)
    args[0] = expand_to(c, x, n)
    args[1] = shift(args[1], x.dim())
    if c.batched(args[2]) or c.name == "index_fill" and c.batched(args[3]):
        raise vmap_error(f"{c.name} with a batched index or fill value has no batching rule "
                         "yet")
    if len(args) > 3 and isinstance(args[3], Tensor):
        args[3] = phys(c, args[3], x.dim()) if c.batched(args[3]) else args[3]
    return c.wrap(c(*args, **kwargs))


def _take_along_dim_batched(c, args, kwargs):
    x, idx, d = args[0], args[1], arg(args, kwargs, 2, "dim")
    if d is None:
        return lightgrad().take_along_dim(x.reshape(-1), idx.reshape(-1), 0)
    n = c.size(x, idx)
    return c.wrap(c(expand_to(c, x, n), expand_to(c, idx, n), shift(d, x.dim())))


_GATHER_LIKE = _with_index(1, (2,))
_SCATTER_LIKE = _with_index(1, (2, 3))


# -- gather / scatter ----------------------------------------------------------------------
def _dim_key(index, dim):
    """Fancy-index key addressing, for each element of `index`, the position with `index`
    along dim and its own coordinates elsewhere."""
    nd = index.ndim
    key = []
    for a in range(nd):
        if a == dim:
            key.append(index)
        else:
            shape = [1] * nd
            shape[a] = index.shape[a]
            key.append(np.arange(index.shape[a]).reshape(shape))
    return tuple(key)


def _check_index(x, dim, index, name):
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    if index.ndim != x.ndim and not (index.ndim <= 1 and x.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as "
                           f"{'input' if name == 'gather' else 'self'} tensor")
    size = x.shape[dim] if x.ndim else 1
    if index.size and (index.max() >= size or index.min() < -size):
        bad = index.max() if index.max() >= size else index.min()
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {size}")


def _np_gather(x, dim, index):
    if x.ndim == 0:
        return x.reshape(1)[index]
    return x[_dim_key(index, dim)]


def _np_scatter_add(x, dim, index, src):
    r = np.array(x, copy=True)
    if r.ndim == 0:
        np.add.at(r.reshape(1), index, np.asarray(src).reshape(-1)[:index.size])
        return r
    src = np.broadcast_to(src, index.shape) if np.ndim(src) == 0 else \
        src[tuple(slice(0, s) for s in index.shape)]
    np.add.at(r, _dim_key(index, dim), src)
    return r


def _np_scatter(x, dim, index, src):
    r = np.array(x, copy=True)
    if r.ndim == 0:
        r.reshape(1)[index] = np.asarray(src).reshape(-1)[:index.size]
        return r
    src = np.broadcast_to(src, index.shape) if np.ndim(src) == 0 else \
        src[tuple(slice(0, s) for s in index.shape)]
    r[_dim_key(index, dim)] = src
    return r


def _gather_rule(ns, g, meta):
    shape, dim, index = meta
    return (ns.scatter_add(ns.zeros_shaped(shape, g), dim, index, g),)


GatherBackward0 = node_class("GatherBackward0", _gather_rule, meta=("self_sym_sizes", "dim",
                                                                     "index"))


def _as_index(index):
    if isinstance(index, Tensor):
        return index._data
    return np.asarray(index)


@defop(nodes=(GatherBackward0,), batch=_GATHER_LIKE, samples=[
    S(call=lambda m, x, i: m.gather(x, 1, i),
      make_inputs=float_and((3, 2), [[0, 0], [1, 0], [1, 1]]),
      np_ref=lambda x, i: np.take_along_axis(x, i, 1)),
    S(call=lambda m, x, i: x.gather(0, i), make_inputs=float_and((3,), [2, 2, 0, 1]), id="1d")])
def gather(input, dim, index, *, sparse_grad=False, out=None):
    """out[i][j] = input[index[i][j]][j] along `dim`."""
    x = input._data
    idx = _as_index(index)
    d = normalize_dims(dim, x.ndim)[0]
    _check_index(x, d, idx, "gather")
    data = _np_gather(x, d, idx)
    return emit(data, GatherBackward0, (input,), meta=(x.shape, d, idx), out=out)


def _scatter_add_rule(ns, g, meta):
    dim, index, sshape = meta
    gs = ns.gather(g, dim, index)
    if tuple(index.shape) != tuple(sshape):
        gs = ns.pad_to(gs, sshape)
    return g, gs


def _np_pad_to(g, shape):
    z = np.zeros(shape, dtype=np.result_type(g))
    z[tuple(slice(0, s) for s in np.shape(g))] = g
    return z


def _pad_to_t(g, shape):
    return _embed(g, tuple(shape), tuple(slice(0, s) for s in g._data.shape))


ns_def("pad_to", _np_pad_to, _pad_to_t)

ScatterAddBackward0 = node_class("ScatterAddBackward0", _scatter_add_rule,
                                 meta=("dim", "index", "src_sizes"))


def _scatter_rule(ns, g, meta):
    dim, index, sshape = meta
    gself = ns.scatter(g, dim, index, 0.0)
    gs = ns.gather(g, dim, index)
    if tuple(index.shape) != tuple(sshape):
        gs = ns.pad_to(gs, sshape)
    return gself, gs


ScatterBackward0 = node_class("ScatterBackward0", _scatter_rule,
                              meta=("dim", "index", "src_sizes"))
ScatterBackward1 = node_class("ScatterBackward1",
                              lambda ns, g, m: (ns.scatter(g, m[0], m[1], 0.0),),
                              meta=("dim", "index"))


def _scatter_checks(x, d, idx, src):
    _check_index(x, d, idx, "scatter")
    if src is not None and src.ndim != idx.ndim and not (src.ndim <= 1 and idx.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")


_REDUCE = {"add": np.add, "sum": np.add, "multiply": np.multiply, "prod": np.multiply}


@defop(nodes=(ScatterBackward0, ScatterBackward1), inplace=True, batch=_SCATTER_LIKE,
       samples=[S(call=lambda m, x, i, s: m.scatter(x, 0, i, s),
                  make_inputs=_inputs(_u(3, 2), [[2, 0]], _u(1, 2))),
                S(call=lambda m, x, i: x.scatter(1, i, 1.5),
                  make_inputs=float_and((2, 3), [[0], [2]]), id="value")])
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    x = input._data
    d = normalize_dims(dim, x.ndim)[0] if x.ndim else 0
    idx = _as_index(index)
    if src is None:
        src = value
    if isinstance(src, Tensor):
        s = src._data.astype(x.dtype, copy=False)
        _scatter_checks(x, d, idx, s)
        if reduce is not None:
            data = np.array(x, copy=True)
            s = s[tuple(slice(0, n) for n in idx.shape)] if s.ndim else s
            _REDUCE[reduce].at(data, _dim_key(idx, d) if x.ndim else idx, s)
            return emit(data, node_class("NotImplemented", _scatter_reduce_missing),
                        (input, src))
        data = _np_scatter(x, d, idx, s)
        return emit(data, ScatterBackward0, (input, src), meta=(d, idx, src._data.shape))
    _scatter_checks(x, d, idx, None)
    if reduce is not None:
        data = np.array(x, copy=True)
        _REDUCE[reduce].at(data, _dim_key(idx, d), np.asarray(src, dtype=x.dtype))
    else:
        data = _np_scatter(x, d, idx, np.asarray(src, dtype=x.dtype))
    return emit(data, ScatterBackward1, (input,), meta=(d, idx))


def _scatter_reduce_missing(ns, g, meta):
    raise RuntimeError("derivative for aten::scatter is not implemented")


@defop(nodes=(ScatterAddBackward0,), inplace=True, batch=_SCATTER_LIKE, samples=[
    S(call=lambda m, x, i, s: m.scatter_add(x, 1, i, s),
      make_inputs=_inputs(_u(2, 3), [[0, 0], [2, 1]], _u(2, 2)))])
def scatter_add(input, dim, index, src):
    x = input._data
    d = normalize_dims(dim, x.ndim)[0] if x.ndim else 0
    idx = _as_index(index)
    src = to_tensor(src)
    s = src._data.astype(x.dtype, copy=False)
    _scatter_checks(x, d, idx, s)
    data = _np_scatter_add(x, d, idx, s)
    return emit(data, ScatterAddBackward0, (input, src), meta=(d, idx, s.shape))


_REDUCE_FILL = {"sum": 0, "prod": 1, "mean": 0, "amax": -np.inf, "amin": np.inf}
_REDUCE_AT = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
              "amin": np.minimum}


def _np_scatter_reduce(x, d, idx, s, reduce, include_self):
    """scatter_reduce on arrays; s already cut to idx's shape."""
    key = _dim_key(idx, d)
    data = np.array(x, copy=True)
    if not include_self:
        data[key] = _REDUCE_FILL[reduce]
    _REDUCE_AT[reduce].at(data, key, s)
    if reduce == "mean":
        cnt = np.full(x.shape, 1 if include_self else 0, dtype=x.dtype)
        np.add.at(cnt, key, 1)
        data = np.where(cnt > 0, data / np.maximum(cnt, 1), data)
    return data.astype(x.dtype, copy=False)


def _scatter_reduce_rule(ns, g, meta, x, s, r):
    """torch's scatter_reduce_backward: the masks and counts are constants from the forward
    (meta); prod divides out each element's own factor, with care for zeros."""
    d, idx, reduce, include_self, cut, src_shape, consts = meta
    s = ns.getitem(s, cut)
    if reduce == "sum":
        gself, gsrc = g, ns.gather(g, d, idx)
    elif reduce == "mean":
        gn = g / consts
        gself, gsrc = gn, ns.gather(gn, d, idx)
    elif reduce in ("amax", "amin"):
        self_is, src_is, n = consts
        gn = g / n
        gself, gsrc = gn * self_is, ns.gather(gn, d, idx) * src_is
    else:
        self_zero, src_zero, src_single_zero = consts
        masked_self = ns.mask_where(self_zero, 1.0, x)
        gself = g * ns.scatter_reduce(masked_self, d, idx, s, reduce, include_self) / \
            masked_self
        masked_src = ns.mask_where(src_single_zero, 1.0, s)
        msr = ns.scatter_reduce(x, d, idx, masked_src, reduce, include_self)
        gsrc = ns.mask_where(src_single_zero, ns.gather(g * msr, d, idx),
                             ns.gather(g * r, d, idx) / ns.mask_where(src_zero, 1.0, s))
    if not include_self:
        gself = ns.scatter(gself, d, idx, 0.0)
    return gself, gsrc if src_shape is None else ns.pad_to(gsrc, src_shape)


ScatterReduceBackward0 = node_class("ScatterReduceBackward0", _scatter_reduce_rule,
                                    saved=("self", "src", "result"),
                                    meta=("dim", "index", "reduce", "include_self",
                                          "src_cut", "src_sizes", "constants"))


def _reduce_consts(x, d, idx, s, r, reduce, include_self):
    """The constants scatter_reduce's backward needs for `reduce`."""
    if reduce == "mean":
        n = np.full(x.shape, 1 if include_self else 0, dtype=x.dtype)
        np.add.at(n, _dim_key(idx, d), 1)
        return np.maximum(n, 1)
    if reduce in ("amax", "amin"):
        self_is = (x == r).astype(x.dtype)
        src_is = (s == _np_gather(r, d, idx)).astype(x.dtype)
        return self_is, src_is, _np_scatter_add(self_is, d, idx, src_is)
    if reduce == "prod":
        src_zero = s == 0
        zeros = _np_gather(_np_scatter_add(np.zeros_like(x), d, idx, src_zero.astype(x.dtype)),
                           d, idx)
        return x == 0, src_zero, src_zero & (zeros == 1)
    return None


@defop(nodes=(ScatterReduceBackward0,), inplace=True, batch=_SCATTER_LIKE, samples=[
    S(call=lambda m, x, i, s: m.scatter_reduce(x, 1, i, s, "sum"),
      make_inputs=_inputs(_u(2, 3), [[0, 0], [2, 1]], _u(2, 2)), id="sum"),
    S(call=lambda m, x, i, s: m.scatter_reduce(x, 0, i, s, "amax", include_self=False),
      make_inputs=_inputs(_u(3, 2), [[2, 0], [2, 2]], _u(2, 2)), id="amax"),
    S(call=lambda m, x, i, s: m.scatter_reduce(x, 0, i, s, "amin"),
      make_inputs=_inputs(_u(3, 2), [[2, 0], [2, 2]], _u(2, 2)), id="amin"),
    S(call=lambda m, x, i, s: m.scatter_reduce(x, 1, i, s, "mean", include_self=False),
      make_inputs=_inputs(_u(2, 3), [[0, 0], [2, 1]], _u(2, 2)), id="mean"),
    # torch 2.13 gives prod no forward-mode tangent (and fails the backward of a src larger
    # than the index); lightgrad computes both
    S(call=lambda m, x, i, s: m.scatter_reduce(x, 0, i, s, "prod"), torch_forward_ad=False,
      make_inputs=_inputs(_u(3, 2), [[2, 0], [2, 2]], _u(2, 2)), id="prod"),
    S(call=lambda m, x, i, s: m.scatter_reduce(x, 0, i, s * (i > 1), "prod"), gradgrad=False,
      make_inputs=_inputs(_u(3, 2), [[2, 0], [1, 2]], _u(2, 2)), id="prod-zeros",
      torch_forward_ad=False)])
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduce src into input at the index positions along dim (sum, prod, mean, amax, amin),
    with or without input's own values."""
    if reduce not in _REDUCE_AT:
        raise RuntimeError("reduce argument must be either sum, prod, mean, amax or amin, "
                           f"got {reduce}")
    x = input._data
    d = normalize_dims(dim, x.ndim)[0]
    idx = _as_index(index)
    src = to_tensor(src)
    full = src._data.astype(x.dtype, copy=False)
    cut = tuple(slice(0, n) for n in idx.shape)
    s = full[cut]
    data = _np_scatter_reduce(x, d, idx, s, reduce, include_self)
    if _state.grad_enabled and (input._rg or src._rg):
        consts = _reduce_consts(x, d, idx, s, data, reduce, include_self)
        padded = full.shape if s.shape != full.shape else None
        return record(data, ScatterReduceBackward0, (input, src), (input, src, RESULT),
                      meta=(d, idx, reduce, include_self, cut, padded, consts))
    return _make(data)


ns_def("gather", _np_gather, lambda g, d, idx: gather(g, d, _make(idx)))
ns_def("scatter_add", _np_scatter_add, lambda x, d, idx, s: scatter_add(x, d, _make(idx), s))
ns_def("scatter", _np_scatter, lambda x, d, idx, s: scatter(x, d, _make(idx), value=s))
ns_def("scatter_reduce", _np_scatter_reduce,
       lambda x, d, idx, s, r, inc: scatter_reduce(x, d, _make(idx), s, r, include_self=inc))


# -- index_select / index_add / index_copy / index_fill ---------------------------------------
def _index_vec(index, name):
    idx = _as_index(index)
    if idx.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    return idx.reshape(-1)


def _dkey(d, idx):
    return (slice(None),) * d + (idx,)


def _np_index_select(x, d, idx):
    if x.ndim > 1 and x.shape[d] == 0 and np.size(idx):   # (index_add's backward into empty)
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    return x[_dkey(d, idx)] if x.ndim else x.reshape(1)[idx].reshape(())


def _index_bounds(x, d, idx, name):
    """torch's IndexError for an index_add/index_copy/index_fill index out of the dim
    (index_fill alone takes negative indices)."""
    size = x.shape[d] if x.ndim else 1
    low = -size if name == "index_fill" else 0
    if idx.size and (idx.max() >= size or idx.min() < low):
        if name == "index_add":
            raise IndexError("index out of range in self")
        bad = idx.max() if idx.max() >= size else idx.min()
        prefix = "index_copy_(): " if name == "index_copy" else ""
        raise IndexError(f"{prefix}index {bad} is out of bounds for dimension {d} with size "
                         f"{size}")


def _np_index_add(x, d, idx, src, alpha=1):
    r = np.array(x, copy=True)
    s = src if alpha == 1 else src * alpha
    if r.ndim == 0:
        r += np.sum(s)
        return r
    np.add.at(r, _dkey(d, idx), s)
    return r


def _index_select_rule(ns, g, meta):
    shape, d, idx = meta
    return (ns.index_add(ns.zeros_shaped(shape, g), d, idx, g),)


IndexSelectBackward0 = node_class("IndexSelectBackward0", _index_select_rule,
                                  meta=("self_sym_sizes", "dim", "index"))


@defop(nodes=(IndexSelectBackward0,), batch=along_dim(1), samples=[
    S(call=lambda m, x, i: m.index_select(x, 1, i), make_inputs=float_and((2, 3), [2, 0, 2]),
      np_ref=lambda x, i: x[:, i])])
def index_select(input, dim, index, *, out=None):
    x = input._data
    d = normalize_dims(dim, x.ndim)[0]
    idx = _index_vec(index, "index_select")
    size = x.shape[d] if x.ndim else 1
    if idx.size and size == 0 and x.ndim > 1:
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    if idx.size and (idx.max() >= size or idx.min() < -size):
        raise IndexError("index out of range in self")
    data = _np_index_select(x, d, idx)
    return emit(data, IndexSelectBackward0, (input,), meta=(x.shape, d, idx), out=out)


def _index_add_rule(ns, g, meta):
    d, idx, alpha, sshape = meta
    gs = ns.index_select(g, d, idx)
    if alpha != 1:
        gs = gs * alpha
    return g, ns.reshape(gs, sshape)


IndexAddBackward0 = node_class("IndexAddBackward0", _index_add_rule,
                               meta=("dim", "index", "alpha", "source_sizes"))


@defop(nodes=(IndexAddBackward0,), inplace=True, batch=_index_along, samples=[
    S(call=lambda m, x, i, s: x.index_add(0, i, s, alpha=2),
      make_inputs=_inputs(_u(3, 2), [0, 0], _u(2, 2)))])
def index_add(input, dim, index, source, *, alpha=1):
    x = input._data
    d = normalize_dims(dim, x.ndim)[0]
    idx = _index_vec(index, "index_add")
    empty = x.size == 0 and x.ndim > 1  # torch adds nothing into it, not checking the index
    if not empty:
        _index_bounds(x, d, idx, "index_add")
    source = to_tensor(source)
    s = source._data.astype(x.dtype, copy=False)
    data = x.copy() if empty else _np_index_add(x, d, idx, s, alpha)
    return emit(data, IndexAddBackward0, (input, source), meta=(d, idx, alpha, s.shape))


def _np_index_fill(x, d, idx, value):
    r = np.array(x, copy=True)
    if r.ndim == 0:
        r[...] = value
        return r
    r[_dkey(d, idx)] = value
    return r


def _index_copy_rule(ns, g, meta):
    d, idx, sshape = meta
    return ns.index_fill(g, d, idx, 0.0), ns.reshape(ns.index_select(g, d, idx), sshape)


IndexCopyBackward0 = node_class("IndexCopyBackward0", _index_copy_rule,
                                meta=("dim", "index", "source_sizes"))


@defop(nodes=(IndexCopyBackward0,), inplace=True, batch=_index_along, samples=[
    S(call=lambda m, x, i, s: m.index_copy(x, 1, i, s),
      make_inputs=_inputs(_u(2, 3), [2, 0], _u(2, 2)))])
def index_copy(input, dim, index, source):
    x = input._data
    d = normalize_dims(dim, x.ndim)[0]
    idx = _index_vec(index, "index_copy")
    _index_bounds(x, d, idx, "index_copy")
    source = to_tensor(source)
    s = source._data.astype(x.dtype, copy=False)
    data = np.array(x, copy=True)
    if data.ndim == 0:
        data[...] = s
    else:
        data[_dkey(d, idx)] = s
    return emit(data, IndexCopyBackward0, (input, source), meta=(d, idx, s.shape))


IndexFillBackward0 = node_class("IndexFillBackward0",
                                lambda ns, g, m: (ns.index_fill(g, m[0], m[1], 0.0),),
                                meta=("dim", "index"))
IndexFillBackward1 = node_class(
    "IndexFillBackward1",
    lambda ns, g, m: (ns.index_fill(g, m[0], m[1], 0.0),
                      ns.sum(ns.index_select(g, m[0], m[1]))), meta=("dim", "index"))


@defop(nodes=(IndexFillBackward0, IndexFillBackward1), inplace=True, batch=_index_along,
       samples=[S(call=lambda m, x, i: x.index_fill(1, i, -1.0),
                  make_inputs=float_and((2, 3), [0, 2])),
                S(call=lambda m, x, i, v: x.index_fill(0, i, v), vmap_refused="fill value",
                  make_inputs=_inputs(_u(3, 2), [1], _u()), id="tensor")])
def index_fill(input, dim, index, value):
    x = input._data
    d = normalize_dims(dim, x.ndim)[0]
    idx = _index_vec(index, "index_fill")
    _index_bounds(x, d, idx, "index_fill")
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._data.ndim} dimension(s).")
        data = _np_index_fill(x, d, idx, value._data)
        return emit(data, IndexFillBackward1, (input, value), meta=(d, idx), bcast=True)
    data = _np_index_fill(x, d, idx, value)
    return emit(data, IndexFillBackward0, (input,), meta=(d, idx))


ns_def("index_select", _np_index_select, lambda g, d, idx: index_select(g, d, _make(idx)))
ns_def("index_add", _np_index_add, lambda x, d, idx, s: index_add(x, d, _make(idx), s))
ns_def("index_fill", _np_index_fill, lambda g, d, idx, v: index_fill(g, d, _make(idx), v))


@defop(nodes=(GatherBackward0,), batch=_take_along_dim_batched, samples=[
    S(call=lambda m, x, i: m.take_along_dim(x, i, 1), make_inputs=float_and((2, 3), [[0], [2]])),
    S(call=lambda m, x, i: x.take_along_dim(i), make_inputs=float_and((2, 3), [5, 0, 0]),
      id="flat")])
def take_along_dim(input, indices, dim=None):
    idx = _as_index(indices)
    if dim is None:
        return gather(flatten(input), 0, _make(idx.reshape(-1)))
    x = input._data
    d = normalize_dims(dim, x.ndim)[0]
    if idx.ndim != x.ndim:
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {x.ndim} dimensions for input, and "
                           f"{idx.ndim} dimensions for indices")
    shp = list(np.broadcast_shapes(tuple(1 if i == d else s for i, s in enumerate(x.shape)),
                                   tuple(1 if i == d else s for i, s in enumerate(idx.shape))))
    xs, ishape = list(shp), list(shp)
    xs[d], ishape[d] = x.shape[d], idx.shape[d]
    if tuple(xs) != x.shape:
        input = expand(input, xs)
    idx = np.broadcast_to(idx, ishape)
    return gather(input, d, _make(np.ascontiguousarray(idx)))


__all__ = publish(globals())
