"""Indexing: `x[key]` (basic keys make views, others advanced indexing), `x[key] = v`,
index_put, masks (masked_fill, masked_select, masked_scatter), take and argwhere, each
declared once with its rule, its vmap rule and its samples. (In-place ops on views are in
ops/_views.py; gather/scatter and the index_* ops in ops/scatter_gather.py.)"""
import builtins

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _dtype_word, _make
from .._graph.grad_mode import state as _state
from ._batching import composite, elementwise, lightgrad, phys, vmap_error
from ._core import (Sample as S, check_inplace, defop, emit, float_and, inplace, node_class,
                    ns_def, publish, to_tensor)
from ._record import unwritable
from ._views import CopySlices, TakeFlatBackward, _np_take_flat
from .binary_math import where
from .elementwise import broadcast_error
from .inplace import copy_
from .logic import _VALUE_SHAPED, nonzero
from .scatter_gather import _as_index
from .shape import _is_basic_key, basic_index

_DYNAMIC = ("We do not support batching operators that can output dynamic shape. Attempted "
            "to vmap over boolean-mask indexing.")


# -- vmap rules ------------------------------------------------------------------------------
_NO_BATCHED_INDEX = "indexing with a batched tensor as the index has no batching rule yet"
# an in-place op on an unbatched tensor given a batched value: an error, as in torch
_INTO_UNBATCHED = "received a batched tensor"


def _batched_key(c, key):
    """The key with the batch dim in front, or the reason vmap refuses it."""
    key = key if isinstance(key, tuple) else (key,)
    advanced = [i for i, k in enumerate(key) if not (
        k is None or k is Ellipsis or isinstance(k, (int, np.integer, slice)))]
    for i in advanced:
        k = key[i]
        if getattr(k, "dtype", None) is not None and str(k.dtype).endswith("bool") or \
                isinstance(k, bool):
            raise vmap_error(_DYNAMIC)
        if c.batched(k):
            raise vmap_error(_NO_BATCHED_INDEX)
    if advanced and advanced[-1] - advanced[0] + 1 != len(advanced):
        raise vmap_error("indexing with advanced indices that are not next to each other has "
                         "no batching rule yet")
    return (slice(None),) + key


def _getitem_batched(c, args, kwargs):
    x, key = args[0], args[1]
    if not c.batched(x):
        raise vmap_error(_NO_BATCHED_INDEX)
    return c.wrap(x._p[_batched_key(c, key)])


def _setitem_batched(c, args, kwargs):
    x, key, value = args
    if not c.batched(x):
        raise vmap_error("vmap: inplace arithmetic(self, *extra_args) is not possible because "
                         "there exists a Tensor `other` in extra_args that has more elements "
                         "than `self`.")
    key = _batched_key(c, key)[1:]
    if c.batched(value):
        target = x._p[(slice(None),) + key]
        value = phys(c, value, target.dim() - 1)
    x._p[(slice(None),) + key] = value
    return None


def _index_put_batched(c, args, kwargs):
    x, indices, values = args[:3]
    if len(args) > 3 and args[3] or kwargs.get("accumulate"):
        raise vmap_error("index_put with accumulate=True has no batching rule yet")
    out = x.clone()
    out[tuple(indices)] = values     # through the batched setitem
    return out


def _masked_fill_batched(c, args, kwargs):
    x, mask = args[0], args[1]
    value = args[2] if len(args) > 2 else kwargs["value"]
    if not c.batched(value):
        return elementwise(c, args, kwargs)
    return lightgrad().where(mask, value, x).to(x.dtype)       # a value per example


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
    return emit(data, IndexBackward0, (x,), meta=(x._data.shape, key))


def _index_embed_t(g, shape, key):
    data = _np_index_embed(g._data, shape, key)
    # torch: zeros().index_put_(indices, grad, accumulate=True); edge 0 is the zeros
    return emit(data, IndexEmbedBackward, (None, g), meta=key)


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


@defop(name="__getitem__", nodes=(IndexBackward0,), function=False, method=False,
       dunders=("__getitem__",), batch=_getitem_batched, samples=[
           S((3, 2), call=lambda m, x: x[[0, 2]], np_ref=lambda x: x[[0, 2]]),
           S((3,), call=lambda m, x: x[[1, 1, 0]], id="repeated"),
           S(call=lambda m, x, i: x[i], make_inputs=float_and((3, 2), [[0, 1], [2, 2]]),
             id="tensor-2d"),
           S((3, 4), call=lambda m, x: x[x > 0], id="mask", vmap_refused=_DYNAMIC),
           S((2, 3), call=lambda m, x: x[:, [0, 2]], np_ref=lambda x: x[:, [0, 2]],
             id="slice-list"),
           S((2, 3, 4), call=lambda m, x: x[0, :, [0, 1]], id="int-slice-list"),
           S((2, 3, 4), call=lambda m, x: x[[0, 1], :, [1, 0]], id="separated",
             vmap_refused="not next to each other"),
           S((2, 3), call=lambda m, x: x[..., [1]], id="ellipsis"),
           S((2, 3), call=lambda m, x: x[None, [0, 1], 1:], id="none"),
           S(call=lambda m, x, mask: x[mask], make_inputs=float_and((2, 3), [True, False]),
             id="mask-partial", vmap_refused=_DYNAMIC)])
def getitem(self, key):
    """x[key]: basic keys make views (select/slice chains); others go to advanced indexing."""
    if _is_basic_key(key):
        return basic_index(self, key)
    return advanced_index(self, key)


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
    return emit(data, IndexPutBackward0, (input, values), meta=(key, accumulate, v.shape),
                bcast=True)


def _indices_key(indices):
    key = tuple(_key_item(i) for i in indices)
    return key


def _index_put_(self, indices, values, accumulate=False):
    key = _indices_key(indices)
    _, k2 = _split_key(self._data.shape, key)
    return inplace(self, _index_put, k2, values, accumulate)



@defop(nodes=(IndexPutBackward0,), inplace=lambda fn: _index_put_, batch=_index_put_batched,
       samples=[S((3, 2), (2,), id="acc", vmap_refused="accumulate=True",
                  call=lambda m, x, v: m.index_put(x, (m.tensor([0, 0, 2]),), v,
                                                   accumulate=True)),
                S((3, 2), (2,),
                  call=lambda m, x, v: x.index_put((m.tensor([2, 0]), m.tensor([1, 1])), v))])
def index_put(input, indices, values, accumulate=False):
    key = _indices_key(indices)
    _, k2 = _split_key(input._data.shape, key)
    return _index_put(input, k2, values, accumulate)



# -- setitem ---------------------------------------------------------------------------------
def _setitem_basic(m, x, v):
    y = x * 1
    y[0, 1:] = v * 2
    return y


def _setitem_scalar(m, x):
    y = x * 2
    y[1] = 5.0
    return y


def _setitem_advanced(m, x, v):
    y = x * 1
    y[[0, 2], 1] = v
    return y


def _setitem_mask(m, x):
    y = x * 1
    y[y > 0] = 0.0
    return y


def _setitem_plain(m, x):
    plain = m.zeros(3, dtype=m.float64)
    plain[0] = x[1] * 3
    plain[1:] = x[:2] ** 2
    return plain


@defop(name="__setitem__", nodes=(CopySlices, IndexPutBackward0), function=False, method=False,
       dunders=("__setitem__",), batch=_setitem_batched, samples=[
           S((2, 3), (2,), call=_setitem_basic), S((3, 2), call=_setitem_scalar, id="scalar"),
           S((3, 2), (2,), call=_setitem_advanced, id="advanced"),
           S((3,), call=_setitem_mask, id="mask", vmap_refused=_DYNAMIC),
           S((3,), call=_setitem_plain, id="plain-base", vmap_refused=_INTO_UNBATCHED)])
def setitem(self, key, value):
    """x[key] = value: basic keys copy into a view (CopySlices), others use index_put_."""
    vt = isinstance(value, Tensor)
    if not (_state.grad_enabled and (self._rg or vt and value._rg)):
        check_inplace(self)
        v = value._data if vt else value
        if _is_basic_key(key):
            try:
                _assign(self._data, key, v)
            except IndexError:
                basic_index(self, key)      # raises torch's IndexError (NumPy says "axis")
                raise
        else:
            nkey = _normalize_key(key)
            if all(not isinstance(k, np.ndarray) for k in nkey):
                _assign(self._data, nkey, v)
            else:
                k1, k2 = _split_key(self._data.shape, nkey)
                _assign(self._data[k1] if not _trivial(k1) else self._data, k2, v)
        self._vc[0] += 1
        return
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
                raise unwritable(dst) from None
            raise RuntimeError(f"The expanded size of the tensor ({shape[-1] if shape else 1}) "
                               f"must match the existing size ({v.shape[-1]}) at non-singleton "
                               f"dimension {len(shape) - 1}.  Target sizes: {list(shape)}.  "
                               f"Tensor sizes: {list(v.shape)}") from None
    else:
        if not dst.flags.writeable:
            raise unwritable(dst)
        dst[key] = v


# -- masks -------------------------------------------------------------------------------------
def _mask_arr(mask, name):
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        if m.dtype == np.uint8:
            return m.astype(bool)
        raise RuntimeError(f"{name}_ only supports boolean masks, but got mask with dtype "
                           f"{_dtype_word(_dtype.from_numpy_dtype(m.dtype))}")
    return m


MaskedFillBackward0 = node_class("MaskedFillBackward0",
                                 lambda ns, g, m: (ns.mask_where(m, g * 0, g),), meta=("mask",))
MaskedFillBackward1 = node_class(
    "MaskedFillBackward1",
    lambda ns, g, m: (ns.mask_where(m, g * 0, g), ns.sum(ns.mask_where(m, g, g * 0))),
    meta=("mask",))


@defop(nodes=(MaskedFillBackward0, MaskedFillBackward1), inplace=True,
       batch=_masked_fill_batched, samples=[
           S((2, 3), call=lambda m, x: x.masked_fill(x > 0, 2.0)),
           S(call=lambda m, x, mask: m.masked_fill(x, mask, 0.5),
             make_inputs=float_and((2, 3), [True, False, True]), id="bcast-mask"),
           S((2, 3), (), call=lambda m, x, v: x.masked_fill(x < 0, v), id="tensor")])
def masked_fill(input, mask, value):
    x = input._data
    m = _mask_arr(mask, "masked_fill")
    try:    # torch broadcasts self and mask together (the out-of-place order)
        shape = np.broadcast_shapes(m.shape, x.shape)
        mb = np.broadcast_to(m, shape)
    except ValueError:
        raise broadcast_error(m.shape, x.shape) from None
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value._data.ndim} dimension(s).")
        data = np.where(mb, value._data.astype(x.dtype), x)
        return emit(data, MaskedFillBackward1, (input, value), meta=mb, bcast=True)
    data = np.where(mb, np.asarray(value).astype(x.dtype), x)
    return emit(data, MaskedFillBackward0, (input,), meta=mb, bcast=shape != x.shape)


MaskedSelectBackward0 = node_class("MaskedSelectBackward0",
                                   lambda ns, g, m: (ns.index_embed(g, m[0], (m[1],)),),
                                   meta=("self_sym_sizes", "mask"))


@defop(nodes=(MaskedSelectBackward0,), vmap_refused=_VALUE_SHAPED, samples=[
    S((2, 3), call=lambda m, x: m.masked_select(x, x > 0)),
    S(call=lambda m, x, mask: x.masked_select(mask), id="bcast",
      make_inputs=float_and((3,), [[True, False, True], [False, True, True]]))])
def masked_select(input, mask, *, out=None):
    m = _mask_arr(mask, "masked_select")
    x = input._data
    shape = np.broadcast_shapes(x.shape, m.shape)
    mb = np.broadcast_to(m, shape)
    data = np.broadcast_to(x, shape)[mb]
    return emit(data, MaskedSelectBackward0, (input,), meta=(shape, mb), bcast=True, out=out)


def _masked_scatter_rule(ns, g, meta):
    mb, sshape = meta
    n = int(np.prod(sshape))
    sel = ns.index(g, (mb,))
    k = int(mb.sum())
    gs = ns.reshape(ns.pad_to(sel, (n,)) if k < n else sel, sshape)
    return ns.mask_where(mb, g * 0, g), gs


MaskedScatterBackward0 = node_class("MaskedScatterBackward0", _masked_scatter_rule,
                                    meta=("mask", "source_sizes"))


@defop(nodes=(MaskedScatterBackward0,), inplace=True,
       vmap_refused="masked_scatter takes the source's elements in order over the whole "
                    "tensor; it has no batching rule yet",
       samples=[S((2, 3), (7,), call=lambda m, x, s: x.masked_scatter(x > 0, s))])
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
    return emit(data, MaskedScatterBackward0, (input, source), meta=(mb, source._data.shape))


# -- take ------------------------------------------------------------------------------------
@defop(nodes=(TakeFlatBackward,), samples=[
    S(call=lambda m, x, i: m.take(x, i), make_inputs=float_and((2, 3), [[5, 0], [0, -1]]),
      np_ref=lambda x, i: np.take(x, i))],
    batch=composite(lambda lg, x, i: lg.take_along_dim(
        x.reshape(-1), (i % x.numel()).reshape(-1), 0).reshape(i.shape)))
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
    return emit(data, TakeFlatBackward, (input,), meta=(x.shape, idx))


@defop(vmap_refused=_VALUE_SHAPED, samples=[S((2, 3), np_ref=np.argwhere)])
def argwhere(input):
    return nonzero(input)


def _t_mask_where(c, a, b):
    """where() for rules: c is a constant bool array, a and b Tensors."""
    return where(_make(np.asarray(c)), a, b)


ns_def("mask_where", np.where, _t_mask_where)


__all__ = publish(globals())
