"""Advanced indexing, setitem, gather/scatter and friends (in-place ops on views are in
ops/_views.py)."""
import builtins

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _make
from ..autograd.grad_mode import state as _state
from ._core import (check_inplace, declare, inplace, inplace_method, node_class,
                    normalize_dims, ns_def, record, to_tensor)
from ._views import _OVERLAP, TakeFlatBackward, _np_take_flat
from .rearrange import nonzero
from .shape import _is_basic_key, basic_index

__all__ = ["gather", "scatter", "scatter_add", "index_select", "index_add", "index_copy",
           "index_fill", "masked_fill", "masked_select", "masked_scatter", "take",
           "take_along_dim", "index_put", "scatter_reduce", "argwhere"]


# -- keys ------------------------------------------------------------------------------------
def _bad_index():
    return IndexError("tensors used as indices must be long, int, byte or bool tensors")


def _key_item(k):
    """One element of a user key as what NumPy indexes with (arrays for tensors and lists)."""
    if isinstance(k, Tensor):
        a = k._data
        if a.dtype.kind not in "iub":
            raise _bad_index()
        if a.dtype == np.uint8:
            a = a.astype(bool)
        if a.ndim == 0 and a.dtype.kind in "iu":
            return int(a)
        return a
    if isinstance(k, (list, tuple)):
        a = np.asarray([_key_item(v) if isinstance(v, Tensor) else v for v in k])
        if a.dtype.kind not in "iub":
            if a.size == 0:
                return a.astype(np.int64)
            raise _bad_index()
        return a
    if isinstance(k, (bool, np.bool_)):
        return np.asarray(bool(k))
    if isinstance(k, (slice, int, np.integer)) or k is None or k is Ellipsis:
        return k
    if isinstance(k, np.ndarray):
        return k
    raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                     "Variables are valid indices (got " + type(k).__name__ + ")")


def _normalize_key(key):
    if isinstance(key, list) and any(isinstance(k, (list, tuple, slice, Tensor)) or k is None
                                     or k is Ellipsis for k in key):
        key = tuple(key)          # torch's deprecated sequence-as-tuple rule
    if not isinstance(key, tuple):
        key = (key,)
    return tuple(_key_item(k) for k in key)


def _split_key(shape, key):
    """torch applies ints, slices and None first (as views), then the tensor indices:
    returns (basic key, advanced key over the result)."""
    ndim = len(shape)
    consumed = builtins.sum(k.ndim if isinstance(k, np.ndarray) and k.dtype == bool else
                            0 if k is None or k is Ellipsis else 1 for k in key)
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    k1, k2, dim = [], [], 0
    for k in key:
        if k is Ellipsis:
            n = ndim - consumed
            k1.append(Ellipsis)
            k2.append(Ellipsis)
            dim += n
        elif k is None:
            k1.append(None)
            k2.append(slice(None))
        elif isinstance(k, slice):
            k1.append(k)
            k2.append(slice(None))
            dim += 1
        elif isinstance(k, (int, np.integer)):
            k1.append(int(k))
            dim += 1
        else:
            if k.dtype == bool:
                for j in range(k.ndim):
                    if k.shape[j] != shape[dim + j]:
                        raise IndexError(f"The shape of the mask {list(k.shape)} at index {j} "
                                         "does not match the shape of the indexed tensor "
                                         f"{list(shape)} at index {dim + j}")
                k1 += [slice(None)] * k.ndim
                dim += k.ndim
            else:
                size = shape[dim]
                if k.size and (k.max() >= size or k.min() < -size):
                    bad = k.max() if k.max() >= size else k.min()
                    raise IndexError(f"index {bad} is out of bounds for dimension {dim} with "
                                     f"size {size}")
                k1.append(slice(None))
                dim += 1
            k2.append(k)
    arrays = [k for k in k2 if isinstance(k, np.ndarray) and k.dtype != bool]
    if len(arrays) > 1:
        try:
            np.broadcast_shapes(*[a.shape for a in arrays])
        except ValueError:
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together "
                             "with shapes " + ", ".join(str(list(a.shape)) for a in arrays)) \
                from None
    return tuple(k1), tuple(k2)


def _trivial(k1):
    return all(k is Ellipsis or (isinstance(k, slice) and k == slice(None)) for k in k1)


def _np_index_embed(g, shape, key):
    """Zeros of `shape` with g added at the advanced `key` (repeated indices accumulate)."""
    z = np.zeros(shape, dtype=np.result_type(g))
    np.add.at(z, key, g)
    return z


def _index_rule(ns, g, meta):
    shape, key = meta
    return (ns.index_embed(g, shape, key),)


IndexBackward0 = node_class("IndexBackward0", _index_rule, meta=("self_sym_sizes", "indices"))
IndexEmbedBackward = node_class("IndexBackwardBackward0",
                                lambda ns, g, m: (None, ns.index(g, m)), meta=("indices",))


def _index_np_key(x, key):
    return x[key]


def _index_t(x, key):
    data = x._data[key]
    if _state.grad_enabled and x._rg:
        return record(data, IndexBackward0, (x,), meta=(x._data.shape, key))
    return _make(data)


def _index_embed_t(g, shape, key):
    data = _np_index_embed(g._data, shape, key)
    if _state.grad_enabled and g._rg:
        # torch: zeros().index_put_(indices, grad, accumulate=True); edge 0 is the zeros
        return record(data, IndexEmbedBackward, (None, g), meta=key)
    return _make(data)


ns_def("index", _index_np_key, _index_t)
ns_def("index_embed", _np_index_embed, _index_embed_t)


def advanced_index(t, key):
    """x[key] for keys with tensors, lists or bools (called by Tensor.__getitem__)."""
    key = _normalize_key(key)
    if all(not isinstance(k, np.ndarray) for k in key):
        return basic_index(t, key)
    k1, k2 = _split_key(t._data.shape, key)
    if not _trivial(k1):
        t = basic_index(t, k1)
    return _index_t(t, k2)


# -- index_put -------------------------------------------------------------------------------
def _index_put_rule(ns, g, meta):
    key, accumulate, vshape = meta
    gs = g if accumulate else ns.index_fill_key(g, key)
    return gs, ns.index(g, key)


IndexPutBackward0 = node_class("IndexPutBackward0", _index_put_rule,
                               meta=("indices", "accumulate", "values_sizes"))


def _np_index_fill_key(g, key):
    r = np.array(g, copy=True)
    r[key] = 0
    return r


def _index_fill_key_t(g, key):
    keep = np.ones(g._data.shape, dtype=g._data.dtype)
    keep[key] = 0
    return g * _make(keep)


ns_def("index_fill_key", _np_index_fill_key, _index_fill_key_t)


def _index_put(input, key, values, accumulate=False):
    """Out-of-place index_put over an already normalized advanced key."""
    values = to_tensor(values) if not isinstance(values, Tensor) else values
    x = input._data
    data = x.copy()
    v = values._data
    if v.dtype != x.dtype:
        v = v.astype(x.dtype)
    try:
        if accumulate:
            np.add.at(data, key, v)
        else:
            data[key] = v
    except ValueError:
        target = x[key].shape
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(v.shape)} cannot be "
                           f"broadcast to indexing result of shape {list(target)}") from None
    if _state.grad_enabled and (input._rg or values._rg):
        return record(data, IndexPutBackward0, (input, values),
                      meta=(key, accumulate, v.shape), bcast=True)
    return _make(data)


def _indices_key(indices):
    key = tuple(_key_item(i) for i in indices)
    return key


def index_put(input, indices, values, accumulate=False):
    key = _indices_key(indices)
    _, k2 = _split_key(input._data.shape, key)
    return _index_put(input, k2, values, accumulate)


def _index_put_(self, indices, values, accumulate=False):
    key = _indices_key(indices)
    _, k2 = _split_key(self._data.shape, key)
    return inplace(self, _index_put, k2, values, accumulate)


# -- setitem ---------------------------------------------------------------------------------
def setitem(self, key, value):
    """x[key] = value: basic keys copy into a view (CopySlices), others use index_put_."""
    vt = isinstance(value, Tensor)
    if not (_state.grad_enabled and (self._rg or vt and value._rg)):
        check_inplace(self)
        v = value._data if vt else value
        if _is_basic_key(key):
            _assign(self._data, key, v)
        else:
            nkey = _normalize_key(key)
            if all(not isinstance(k, np.ndarray) for k in nkey):
                _assign(self._data, nkey, v)
            else:
                k1, k2 = _split_key(self._data.shape, nkey)
                _assign(self._data[k1] if not _trivial(k1) else self._data, k2, v)
        self._vc[0] += 1
        return
    from .inplace import copy_
    if _is_basic_key(key):
        copy_(basic_index(self, key), value)
        return
    nkey = _normalize_key(key)
    if all(not isinstance(k, np.ndarray) for k in nkey):
        copy_(basic_index(self, nkey), value)
        return
    k1, k2 = _split_key(self._data.shape, nkey)
    target = self if _trivial(k1) else basic_index(self, k1)
    inplace(target, _index_put, k2, value, False)


def _assign(dst, key, v):
    if isinstance(v, np.ndarray) and v.ndim > 0:
        try:
            dst[key] = v
        except ValueError:
            shape = dst[key].shape
            if not dst.flags.writeable:
                raise RuntimeError(_OVERLAP) from None
            raise RuntimeError(f"The expanded size of the tensor ({shape[-1] if shape else 1}) "
                               f"must match the existing size ({v.shape[-1]}) at non-singleton "
                               f"dimension {len(shape) - 1}.  Target sizes: {list(shape)}.  "
                               f"Tensor sizes: {list(v.shape)}") from None
    else:
        if not dst.flags.writeable:
            raise RuntimeError(_OVERLAP)
        dst[key] = v


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


def gather(input, dim, index, *, sparse_grad=False, out=None):
    """out[i][j] = input[index[i][j]][j] along `dim`."""
    x = input._data
    idx = _as_index(index)
    d = normalize_dims(dim, x.ndim)[0]
    _check_index(x, d, idx, "gather")
    data = _np_gather(x, d, idx)
    if _state.grad_enabled and input._rg:
        return record(data, GatherBackward0, (input,), meta=(x.shape, d, idx))
    return _make(data)


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
    from .shape import _embed
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
            if _state.grad_enabled and (input._rg or src._rg):
                return record(data, node_class("NotImplemented", _scatter_reduce_missing),
                              (input, src))
            return _make(data)
        data = _np_scatter(x, d, idx, s)
        if _state.grad_enabled and (input._rg or src._rg):
            return record(data, ScatterBackward0, (input, src),
                          meta=(d, idx, src._data.shape))
        return _make(data)
    _scatter_checks(x, d, idx, None)
    if reduce is not None:
        data = np.array(x, copy=True)
        _REDUCE[reduce].at(data, _dim_key(idx, d), np.asarray(src, dtype=x.dtype))
    else:
        data = _np_scatter(x, d, idx, np.asarray(src, dtype=x.dtype))
    if _state.grad_enabled and input._rg:
        return record(data, ScatterBackward1, (input,), meta=(d, idx))
    return _make(data)


def _scatter_reduce_missing(ns, g, meta):
    raise RuntimeError("derivative for aten::scatter is not implemented")


def scatter_add(input, dim, index, src):
    x = input._data
    d = normalize_dims(dim, x.ndim)[0] if x.ndim else 0
    idx = _as_index(index)
    src = to_tensor(src)
    s = src._data.astype(x.dtype, copy=False)
    _scatter_checks(x, d, idx, s)
    data = _np_scatter_add(x, d, idx, s)
    if _state.grad_enabled and (input._rg or src._rg):
        return record(data, ScatterAddBackward0, (input, src), meta=(d, idx, s.shape))
    return _make(data)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Forward only for amax/amin/mean; sum/prod differentiate (sum via scatter_add)."""
    if reduce == "sum" and include_self:
        return scatter_add(input, dim, index, src)
    x = input._data
    d = normalize_dims(dim, x.ndim)[0]
    idx = _as_index(index)
    s = src._data.astype(x.dtype, copy=False)[tuple(slice(0, n) for n in idx.shape)]
    key = _dim_key(idx, d)
    data = np.array(x, copy=True)
    if not include_self:
        fill = {"sum": 0, "prod": 1, "mean": 0, "amax": -np.inf, "amin": np.inf}[reduce]
        data[key] = fill
    if reduce in ("sum", "mean"):
        np.add.at(data, key, s)
        if reduce == "mean":
            cnt = np.full(x.shape, 1 if include_self else 0, dtype=x.dtype)
            np.add.at(cnt, key, 1)
            data = np.where(cnt > 0, data / np.maximum(cnt, 1), data)
            if x.dtype.kind in "iu":
                data = data.astype(x.dtype)
    elif reduce == "prod":
        np.multiply.at(data, key, s)
    elif reduce == "amax":
        np.maximum.at(data, key, s)
    elif reduce == "amin":
        np.minimum.at(data, key, s)
    else:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, "
                           f"got {reduce}")
    return _make(data.astype(x.dtype, copy=False))


ns_def("gather", _np_gather, lambda g, d, idx: gather(g, d, _make(idx)))
ns_def("scatter_add", _np_scatter_add, lambda x, d, idx, s: scatter_add(x, d, _make(idx), s))
ns_def("scatter", _np_scatter, lambda x, d, idx, s: scatter(x, d, _make(idx), value=s))


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
    return x[_dkey(d, idx)] if x.ndim else x.reshape(1)[idx].reshape(())


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


def index_select(input, dim, index, *, out=None):
    x = input._data
    d = normalize_dims(dim, x.ndim)[0]
    idx = _index_vec(index, "index_select")
    size = x.shape[d] if x.ndim else 1
    if idx.size and (idx.max() >= size or idx.min() < -size):
        raise IndexError("index out of range in self")
    data = _np_index_select(x, d, idx)
    if _state.grad_enabled and input._rg:
        r = record(data, IndexSelectBackward0, (input,), meta=(x.shape, d, idx))
    else:
        r = _make(data)
    if out is not None:
        from ._core import to_out
        return to_out(r, out)
    return r


def _index_add_rule(ns, g, meta):
    d, idx, alpha, sshape = meta
    gs = ns.index_select(g, d, idx)
    if alpha != 1:
        gs = gs * alpha
    return g, ns.reshape(gs, sshape)


IndexAddBackward0 = node_class("IndexAddBackward0", _index_add_rule,
                               meta=("dim", "index", "alpha", "source_sizes"))


def index_add(input, dim, index, source, *, alpha=1):
    x = input._data
    d = normalize_dims(dim, x.ndim)[0]
    idx = _index_vec(index, "index_add")
    source = to_tensor(source)
    s = source._data.astype(x.dtype, copy=False)
    data = _np_index_add(x, d, idx, s, alpha)
    if _state.grad_enabled and (input._rg or source._rg):
        return record(data, IndexAddBackward0, (input, source), meta=(d, idx, alpha, s.shape))
    return _make(data)


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


def index_copy(input, dim, index, source):
    x = input._data
    d = normalize_dims(dim, x.ndim)[0]
    idx = _index_vec(index, "index_copy")
    source = to_tensor(source)
    s = source._data.astype(x.dtype, copy=False)
    data = np.array(x, copy=True)
    if data.ndim == 0:
        data[...] = s
    else:
        data[_dkey(d, idx)] = s
    if _state.grad_enabled and (input._rg or source._rg):
        return record(data, IndexCopyBackward0, (input, source), meta=(d, idx, s.shape))
    return _make(data)


IndexFillBackward0 = node_class("IndexFillBackward0",
                                lambda ns, g, m: (ns.index_fill(g, m[0], m[1], 0.0),),
                                meta=("dim", "index"))
IndexFillBackward1 = node_class(
    "IndexFillBackward1",
    lambda ns, g, m: (ns.index_fill(g, m[0], m[1], 0.0),
                      ns.sum(ns.index_select(g, m[0], m[1]))), meta=("dim", "index"))


def index_fill(input, dim, index, value):
    x = input._data
    d = normalize_dims(dim, x.ndim)[0]
    idx = _index_vec(index, "index_fill")
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._data.ndim} dimension(s).")
        data = _np_index_fill(x, d, idx, value._data)
        if _state.grad_enabled and (input._rg or value._rg):
            return record(data, IndexFillBackward1, (input, value), meta=(d, idx), bcast=True)
        return _make(data)
    data = _np_index_fill(x, d, idx, value)
    if _state.grad_enabled and input._rg:
        return record(data, IndexFillBackward0, (input,), meta=(d, idx))
    return _make(data)


ns_def("index_select", _np_index_select, lambda g, d, idx: index_select(g, d, _make(idx)))
ns_def("index_add", _np_index_add, lambda x, d, idx, s: index_add(x, d, _make(idx), s))
ns_def("index_fill", _np_index_fill, lambda g, d, idx, v: index_fill(g, d, _make(idx), v))


# -- masks -------------------------------------------------------------------------------------
def _mask_arr(mask, name):
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        if m.dtype == np.uint8:
            return m.astype(bool)
        from .._tensor import _dtype_word
        raise RuntimeError(f"{name}_ only supports boolean masks, but got mask with dtype "
                           f"{_dtype_word(_dtype.from_numpy_dtype(m.dtype))}")
    return m


MaskedFillBackward0 = node_class("MaskedFillBackward0",
                                 lambda ns, g, m: (ns.mask_where(m, g * 0, g),), meta=("mask",))
MaskedFillBackward1 = node_class(
    "MaskedFillBackward1",
    lambda ns, g, m: (ns.mask_where(m, g * 0, g), ns.sum(ns.mask_where(m, g, g * 0))),
    meta=("mask",))


def masked_fill(input, mask, value):
    x = input._data
    m = _mask_arr(mask, "masked_fill")
    try:
        mb = np.broadcast_to(m, x.shape)
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor ({x.shape[-1]}) must match the "
                           f"existing size ({m.shape[-1]}) at non-singleton dimension "
                           f"{x.ndim - 1}.  Target sizes: {list(x.shape)}.  Tensor sizes: "
                           f"{list(m.shape)}") from None
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value._data.ndim} dimension(s).")
        data = np.where(mb, value._data.astype(x.dtype), x)
        if _state.grad_enabled and (input._rg or value._rg):
            return record(data, MaskedFillBackward1, (input, value), meta=mb, bcast=True)
        return _make(data)
    data = np.where(mb, np.asarray(value).astype(x.dtype), x)
    if _state.grad_enabled and input._rg:
        return record(data, MaskedFillBackward0, (input,), meta=mb)
    return _make(data)


MaskedSelectBackward0 = node_class("MaskedSelectBackward0",
                                   lambda ns, g, m: (ns.index_embed(g, m[0], (m[1],)),),
                                   meta=("self_sym_sizes", "mask"))


def masked_select(input, mask, *, out=None):
    m = _mask_arr(mask, "masked_select")
    x = input._data
    shape = np.broadcast_shapes(x.shape, m.shape)
    mb = np.broadcast_to(m, shape)
    data = np.broadcast_to(x, shape)[mb]
    if _state.grad_enabled and input._rg:
        return record(data, MaskedSelectBackward0, (input,), meta=(shape, mb), bcast=True)
    return _make(data)


def _masked_scatter_rule(ns, g, meta):
    mb, sshape = meta
    n = int(np.prod(sshape))
    sel = ns.index(g, (mb,))
    k = int(mb.sum())
    gs = ns.reshape(ns.pad_to(sel, (n,)) if k < n else sel, sshape)
    return ns.mask_where(mb, g * 0, g), gs


MaskedScatterBackward0 = node_class("MaskedScatterBackward0", _masked_scatter_rule,
                                    meta=("mask", "source_sizes"))


def masked_scatter(input, mask, source):
    x = input._data
    m = _mask_arr(mask, "masked_scatter")
    mb = np.broadcast_to(m, x.shape)
    k = int(mb.sum())
    s = source._data.reshape(-1)
    if s.size < k:
        raise RuntimeError("masked_scatter: expected source to have at least as many "
                           "elements as ones in mask")
    data = np.array(x, copy=True)
    data[mb] = s[:k].astype(x.dtype, copy=False)
    if _state.grad_enabled and (input._rg or source._rg):
        return record(data, MaskedScatterBackward0, (input, source),
                      meta=(mb, source._data.shape))
    return _make(data)


# -- take ------------------------------------------------------------------------------------
def take(input, index):
    x = input._data
    idx = _as_index(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError("take(): Expected a long tensor for index, but got "
                           f"{_dtype.from_numpy_dtype(idx.dtype)}")
    n = x.size
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         "elements.")
    idx = np.where(idx < 0, idx + n, idx)
    data = _np_take_flat(x, idx)
    if _state.grad_enabled and input._rg:
        return record(data, TakeFlatBackward, (input,), meta=(x.shape, idx))
    return _make(data)


def take_along_dim(input, indices, dim=None):
    from .shape import expand, flatten
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


def argwhere(input):
    return nonzero(input)


def _t_mask_where(c, a, b):
    """where() for rules: c is a constant bool array, a and b Tensors."""
    from .binary_math import where
    return where(_make(np.asarray(c)), a, b)


ns_def("mask_where", np.where, _t_mask_where)


# -- registration ------------------------------------------------------------------------------
declare("gather take_along_dim", "GatherBackward0")
declare("scatter", "ScatterBackward0", "ScatterBackward1")
declare("scatter_add", "ScatterAddBackward0")
declare("index_select", "IndexSelectBackward0")
declare("index_add", "IndexAddBackward0")
declare("index_copy", "IndexCopyBackward0")
declare("index_fill", "IndexFillBackward0", "IndexFillBackward1")
declare("masked_fill", "MaskedFillBackward0", "MaskedFillBackward1")
declare("masked_select", "MaskedSelectBackward0")
declare("masked_scatter", "MaskedScatterBackward0")
declare("take", "TakeBackward0")
declare("index_put", "IndexPutBackward0")
declare("getitem", "IndexBackward0")
declare("setitem", "CopySlices", "IndexPutBackward0")

for _name in ["gather", "scatter", "scatter_add", "index_select", "index_add", "index_copy",
              "index_fill", "masked_fill", "masked_select", "masked_scatter", "take",
              "take_along_dim", "index_put", "scatter_reduce", "argwhere"]:
    setattr(Tensor, _name, globals()[_name])
for _name in ["scatter", "scatter_add", "index_add", "index_copy", "index_fill", "masked_fill",
              "masked_scatter", "scatter_reduce"]:
    setattr(Tensor, _name + "_", inplace_method(globals()[_name]))
Tensor.index_put_ = _index_put_
Tensor.__setitem__ = setitem
