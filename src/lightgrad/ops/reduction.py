"""Reductions (sum, mean, prod, max, min, ...), each declared once with its rule, and the
helpers the other reduction families (norms.py, scan_sort.py) share.

Rules that route a gradient through indices (max(dim), sort, topk, cummax, ...) use two
namespace functions defined here: `ns.red_scatter` (scatter-add along a dim into zeros) and
`ns.red_gather` (take along a dim); under create_graph each is a differentiable op whose rule
is the other. Other `red_*` helpers give rules constant masks (ties, zeros, NaNs) computed
from values: masks carry no gradient, as in torch.
"""
import builtins

import numpy as np

from .. import _dtype
from .. import return_types as _rt
from .._tensor import Tensor, _make
from .._graph.grad_mode import state as _state
from ._batching import elementwise, reduce_over
from . import binary_math
from ._core import (NP, RESULT, T, Sample as S, defop, emit, new_node, node_class,
                    normalize_dims, publish, to_out, with_tangents)
from ._record import distinct_dims, exact_out
from .arithmetic import DivBackward0, div

_pymax, _pyany = builtins.max, builtins.any   # this module defines max and any


def _rg(t):
    return _state.grad_enabled and t._rg


def _legacy(np_dtype):
    return _dtype.from_numpy_dtype(np_dtype)._legacy


def _dims(dim, ndim):
    """Reduction dims: None or an empty list/tuple means every dim."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    dims = distinct_dims(normalize_dims(dim, ndim))
    return dims if ndim else ()     # a 0-d input takes dim 0 / -1 and has no axis to reduce


def _one_dim(dim, ndim):
    """A single dim, normalized; None for a 0-d input (NumPy has no axis to name)."""
    d = normalize_dims(int(dim), ndim)[0]
    return None if ndim == 0 else d


def _numel(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def _kept_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _restore_dims(ns, g, shape, dims, keepdim):
    """Bring a reduced gradient back to `shape`: re-insert reduced dims, then broadcast."""
    if not keepdim and dims:
        g = ns.reshape(g, _kept_shape(shape, dims))
    return ns.broadcast_to(g, shape)


def _unsqueeze_to(ns, g, shape, dims, keepdim):
    """A reduced gradient or result with the reduced dims kept as size 1 (no broadcast)."""
    if not keepdim and dims:
        return ns.reshape(g, _kept_shape(shape, dims))
    return g


def _finish(r, out):
    return r if out is None else to_out(r, out)


# -- namespace helpers (NP over arrays, T over Tensors) ----------------------------------
def _np_scatter(g, idx, dim, shape):
    """Zeros of `shape` with g added at `idx` along `dim` (idx repeats accumulate)."""
    g = np.asarray(g)
    z = np.zeros(shape, dtype=g.dtype)
    if dim is None:
        return z + g
    key = list(np.indices(idx.shape, sparse=True))
    key[dim] = idx
    np.add.at(z, tuple(key), np.broadcast_to(g, idx.shape))
    return z


def _np_gather(x, idx, dim):
    x = np.asarray(x)
    if dim is None:
        return x
    return np.take_along_axis(x, idx, dim)


def _np_revcumsum(g, dim):
    g = np.asarray(g)
    if dim is None:
        return g
    return np.flip(np.cumsum(np.flip(g, dim), axis=dim), dim)


def _np_cumsum(g, dim):
    g = np.asarray(g)
    return g if dim is None else np.cumsum(g, axis=dim)


def _arr(x):
    return x._data if isinstance(x, Tensor) else x


def _const(fn):
    """A constant-valued helper: NP returns the array, T a Tensor that needs no grad."""
    return fn, lambda *a: _make(fn(*[_arr(v) for v in a]))


def _evenly(x, r, dims):
    """Mask of the elements equal to the (kept-dims) result, divided by their count: how
    max()/amax/median() share a gradient among ties. NaN counts as equal to NaN."""
    x, r = np.asarray(x), np.asarray(r)
    m = (x == r) | (np.isnan(x) & np.isnan(r)) if x.dtype.kind in "fc" else x == r
    m = m.astype(x.dtype)
    return m / np.sum(m, axis=dims, keepdims=True)


def _zeromask(x):
    x = np.asarray(x)
    return (x == 0).astype(x.dtype)


def _notnan(x):
    x = np.asarray(x)
    return (~np.isnan(x)).astype(x.dtype)


def _eye(n, x):
    return np.eye(n, dtype=np.asarray(x).dtype)


def _triu(n, x):
    return np.triu(np.ones((n, n), dtype=np.asarray(x).dtype))


def _amaxc(x, dim):
    """Row maxima (kept dims) of x, with infinities replaced by 0: a safe shift."""
    m = np.max(x, axis=dim, keepdims=True) if np.size(x) else np.zeros_like(x)
    return np.where(np.isfinite(m), m, 0).astype(np.asarray(x).dtype)


for _n, _f in [("red_evenly", _evenly), ("red_zeromask", _zeromask),
               ("red_notnan", _notnan), ("red_eye", _eye), ("red_triu", _triu),
               ("red_amaxc", _amaxc)]:
    _np_f, _t_f = _const(_f)
    setattr(NP, _n, _np_f)
    setattr(T, _n, _t_f)
NP.red_shape = np.shape
T.red_shape = lambda x: x._data.shape
NP.red_anyzero = lambda x: bool(np.any(x == 0))
T.red_anyzero = lambda x: bool(np.any(x._data == 0))
NP.red_scatter, NP.red_gather = _np_scatter, _np_gather
NP.red_revcumsum, NP.red_cumsum = _np_revcumsum, _np_cumsum
NP.red_cumprod = lambda x, dim: np.cumprod(x, axis=dim)
NP.red_prod = lambda x, dim: np.prod(x, axis=dim)

_ScatterIdx = node_class("ScatterIdxBackward0",
                         lambda ns, g, m: (ns.red_gather(g, m[0], m[1]),),
                         meta=("index", "dim", "self_sym_sizes"))
_GatherIdx = node_class("GatherIdxBackward0",
                        lambda ns, g, m: (ns.red_scatter(g, m[0], m[1], m[2]),),
                        meta=("index", "dim", "self_sym_sizes"))
_RevCumsum = node_class("RevCumsumBackward0", lambda ns, g, d: (ns.red_cumsum(g, d),),
                        meta=("dim",))


def _t_scatter(g, idx, dim, shape):
    data = _np_scatter(g._data, idx, dim, shape)
    return emit(data, _ScatterIdx, (g,), meta=(idx, dim, g._data.shape), bcast=True)


def _t_gather(x, idx, dim):
    data = _np_gather(x._data, idx, dim)
    return emit(data, _GatherIdx, (x,), meta=(idx, dim, x._data.shape))


def _t_revcumsum(g, dim):
    data = _np_revcumsum(g._data, dim)
    return emit(data, _RevCumsum, (g,), meta=dim)


T.red_scatter, T.red_gather, T.red_revcumsum = _t_scatter, _t_gather, _t_revcumsum
T.red_prod = lambda x, dim: prod(x, dim)


# -- sum / mean / nansum / nanmean ------------------------------------------------------
def _sum0_rule(ns, g, shape):
    return (ns.broadcast_to(g, shape),)


def _sum1_rule(ns, g, meta):
    shape, dims, keepdim = meta
    return (_restore_dims(ns, g, shape, dims, keepdim),)


SumBackward0 = node_class("SumBackward0", _sum0_rule, meta=("self_sym_sizes",))
SumBackward1 = node_class("SumBackward1", _sum1_rule, meta=("self_sym_sizes", "dim", "keepdim"))
MeanBackward0 = node_class("MeanBackward0", lambda ns, g, m: (ns.broadcast_to(g / m[1], m[0]),),
                           meta=("self_sym_sizes", "self_sym_numel"))
MeanBackward1 = node_class(
    "MeanBackward1", lambda ns, g, m: (_restore_dims(ns, g / m[3], m[0], m[1], m[2]),),
    meta=("self_sym_sizes", "dim", "keepdim", "numel"))


def _float_input(input):
    x = input._data
    if x.dtype.kind in "fc":
        return input
    return input.to(_dtype.get_default_dtype())


def _with(values):
    """Sample inputs with fixed values (zeros, NaNs: cases random inputs never hit)."""
    return lambda rng: [np.array(v, dtype=np.float64) for v in values]


def _nan_input(rng):
    x = rng.uniform(-2, 2, (2, 3))
    x[0, 1] = np.nan
    return [x]


_REDUCE = reduce_over(1)
_REDUCE_VALUES = reduce_over(1, values_only=True)   # max(x) gives values, max(x, d) a pair


def _max_min_batching(c, args, kwargs):
    if len(args) > 1 and isinstance(args[1], Tensor):       # max(a, b): elementwise
        return elementwise(c, args, kwargs)
    return _REDUCE_VALUES(c, args, kwargs)


def _no_int_grad(input, sdt):
    """torch refuses an integer dtype= (sum, prod, cumsum, ...) of an input that requires
    grad: the result's dtype is not differentiable."""
    if sdt is not None and _rg(input) and np.dtype(sdt).kind in "biu":
        raise RuntimeError(f"Autograd not support dtype: {_legacy(np.dtype(sdt))}")


def _sum_dtype(x, dtype):
    if dtype is not None:
        return dtype.np
    if x.dtype.kind in "biu":
        return np.int64
    return None


@defop(nodes=(SumBackward0, SumBackward1), batch=_REDUCE, samples=[
    S((2, 3), np_ref=np.sum), S((2, 3), args=(1,), kwargs={"keepdim": True}, id="dim"),
    S((2, 3), args=([],), np_ref=np.sum, id="empty-dims")])
def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of all elements, or over `dim` (int or tuple). `x.sum()`, `x.sum(1, keepdim=True)`"""
    x = input._data
    if dtype is not None and out is not None:
        exact_out(_make(np.empty(0, dtype.np)), out)
    dtype = dtype or (out.dtype if out is not None else None)   # torch sums in out's dtype
    sdt = _sum_dtype(x, dtype)
    _no_int_grad(input, sdt)
    bc = sdt is not None and x.dtype != sdt
    if dim is None:
        data = x.sum(dtype=sdt)  # the method: np.sum adds ~1 us of Python dispatch
        return emit(data, SumBackward0, (input,), meta=x.shape, bcast=bc, out=out)
    dims = _dims(dim, x.ndim)
    data = x.sum(axis=dims, keepdims=keepdim, dtype=sdt)
    return emit(data, SumBackward1, (input,), meta=(x.shape, dims, keepdim), bcast=bc, out=out)


@defop(nodes=(MeanBackward0, MeanBackward1), batch=_REDUCE, samples=[
    S((2, 3, 4), args=((0, 2),)),
    S((2, 3), args=(-1,), kwargs={"keepdim": True}, id="keepdim",
      np_ref=lambda x: x.mean(-1, keepdims=True))])
def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean of all elements, or over `dim`. `x.mean()`, `x.mean((0, 1))`"""
    x = input._data
    bc = False
    if dtype is not None and x.dtype != dtype.np:
        x, bc = x.astype(dtype.np), True
    if x.dtype.kind not in "fc":
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           "floating point or complex dtype. Got: "
                           f"{_dtype.from_numpy_dtype(x.dtype)._legacy}")
    if dim is None:
        # NOTE: float16 means go through np.mean, which accumulates in float32 as torch does
        data = x.sum() / x.size if x.dtype.itemsize >= 4 and x.size else np.mean(x)
        return emit(data, MeanBackward0, (input,), meta=(x.shape, x.size), bcast=bc, out=out)
    dims = _dims(dim, x.ndim)
    data = np.mean(x, axis=dims, keepdims=keepdim)
    n = _numel(x.shape, dims)
    return emit(data, MeanBackward1, (input,), meta=(x.shape, dims, keepdim, n), bcast=bc,
                out=out)


NansumBackward0 = node_class(
    "NansumBackward0",
    lambda ns, g, m, x: (_restore_dims(ns, g, m[0], m[1], m[2]) * ns.red_notnan(x),),
    saved=("self",), meta=("self_sym_sizes", "dim", "keepdim"))


@defop(nodes=(NansumBackward0,), batch=_REDUCE, samples=[
    S(make_inputs=_nan_input, np_ref=np.nansum), S((2, 3), args=(1,), id="dim")])
def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum treating NaN as zero."""
    x = input._data
    sdt = _sum_dtype(x, dtype)
    _no_int_grad(input, sdt)
    dims = _dims(dim, x.ndim)
    data = np.nansum(x, axis=dims, keepdims=keepdim, dtype=sdt)
    return emit(data, NansumBackward0, (input,), (input,), meta=(x.shape, dims, keepdim),
                bcast=sdt is not None and x.dtype != sdt, out=out)


@defop(nodes=(DivBackward0,), batch=_REDUCE, samples=[
    S(make_inputs=_nan_input, args=(1,), np_ref=lambda x: np.nanmean(x, 1))])
def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean over the non-NaN elements: nansum / count, as torch composes it."""
    x = input._data
    if dtype is not None:
        x = x.astype(dtype.np)
        input = input.to(dtype)
    if x.dtype.kind not in "fc":
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {_legacy(x.dtype)}")
    dims = _dims(dim, x.ndim)
    count = np.sum(~np.isnan(x), axis=dims, keepdims=keepdim).astype(x.dtype)
    return _finish(div(nansum(input, dim, keepdim), _make(count)), out)


# -- prod ---------------------------------------------------------------------------------
def _prod_others(ns, x, d):
    """For each position along dim d: the product of the other elements of its slice.
    O(n^2) but exact with zeros; used only when x has zeros."""
    n = ns.red_shape(x)[d]
    xs = ns.swapaxes(x, d, -1)
    s = ns.red_shape(xs)
    eye = ns.red_eye(n, x)
    rows = ns.reshape(xs, s[:-1] + (1, n)) * (1 - eye) + eye   # row k has x_k := 1
    return ns.swapaxes(ns.red_prod(rows, -1), d, -1)


def _prod_grad(ns, g, x, r, d):
    """g, r already broadcast to x's shape; d the reduced dim (x is 1-D for prod())."""
    if not ns.red_anyzero(x):
        return g * r / x
    return g * _prod_others(ns, x, d)


def _prod0_rule(ns, g, shape, x, r):
    if len(shape) == 0:
        return (g,)
    n = 1
    for s in shape:
        n *= s
    flat = ns.reshape(x, (n,))
    gr = ns.broadcast_to(g, (n,))
    rr = ns.broadcast_to(r, (n,))
    return (ns.reshape(_prod_grad(ns, gr, flat, rr, 0), shape),)


def _prod1_rule(ns, g, meta, x, r):
    shape, d, keepdim = meta
    if d is None:
        return (g,)
    dims = (d,)
    return (_prod_grad(ns, _restore_dims(ns, g, shape, dims, keepdim), x,
                       _restore_dims(ns, r, shape, dims, keepdim), d),)


ProdBackward0 = node_class("ProdBackward0", _prod0_rule, saved=("self", "result"),
                           meta=("self_sym_sizes",))
ProdBackward1 = node_class("ProdBackward1", _prod1_rule, saved=("self", "result"),
                           meta=("self_sym_sizes", "dim", "keepdim"))


@defop(nodes=(ProdBackward0, ProdBackward1), batch=_REDUCE, samples=[
    S((2, 3), np_ref=np.prod), S((2, 3), args=(1,), np_ref=lambda x: x.prod(1), id="dim"),
    S((3, 2), args=(0,), kwargs={"keepdim": True}, id="keepdim"), S((), id="0d"),
    S(make_inputs=_with([[[1.5, 0.0], [2.0, -1.0]]]), id="one-zero"),
    S(make_inputs=_with([[[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]]]), args=(1,), id="dim-zeros")])
def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Product of all elements, or along one `dim`. `x.prod()`, `x.prod(1)`"""
    x = input._data
    dtype = dtype or (out.dtype if out is not None else None)   # torch multiplies in out's
    sdt = _sum_dtype(x, dtype)
    _no_int_grad(input, sdt)
    if sdt is not None and x.dtype != sdt:
        input = input.to(_dtype.from_numpy_dtype(np.dtype(sdt)))
        x = input._data
    if dim is None:
        data = np.prod(x)
        return emit(data, ProdBackward0, (input,), (input, RESULT), meta=x.shape, out=out)
    d = _one_dim(dim, x.ndim)
    data = np.prod(x, axis=d, keepdims=keepdim) if d is not None else x.copy()
    return emit(data, ProdBackward1, (input,), (input, RESULT), meta=(x.shape, d, keepdim),
                out=out)


# -- max / min / amax / amin / argmax / argmin ------------------------------------------
def _evenly_rule(ns, g, meta, x, r):
    shape, dims, keepdim = meta
    share = ns.red_evenly(x, _unsqueeze_to(ns, r, shape, dims, keepdim), dims)
    return (_restore_dims(ns, g, shape, dims, keepdim) * share,)


def _select_rule(ns, g, meta):
    """Gradient of a value picked by index along one dim (max(dim), kthvalue, ...)."""
    shape, d, keepdim, idx = meta
    if not keepdim and d is not None:
        g = ns.reshape(g, idx.shape)
    return (ns.red_scatter(g, idx, d, shape),)


_even_meta = ("self_sym_sizes", "dim", "keepdim")
_sel_meta = ("self_sym_sizes", "dim", "keepdim", "indices")
MaxBackward1 = node_class("MaxBackward1", _evenly_rule, saved=("self", "result"),
                          meta=_even_meta)
MinBackward1 = node_class("MinBackward1", _evenly_rule, saved=("self", "result"),
                          meta=_even_meta)
AmaxBackward0 = node_class("AmaxBackward0", _evenly_rule, saved=("self", "result"),
                           meta=_even_meta)
AminBackward0 = node_class("AminBackward0", _evenly_rule, saved=("self", "result"),
                           meta=_even_meta)
MaxBackward0 = node_class("MaxBackward0", _select_rule, meta=_sel_meta)
MinBackward0 = node_class("MinBackward0", _select_rule, meta=_sel_meta)


def _full_extreme(input, name, np_fn, cls):
    x = input._data
    if x.size == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() "
                           "== 0. Specify the reduction dim with the 'dim' argument.")
    data = np_fn(x)
    return emit(data, cls, (input,), (input, RESULT), meta=(x.shape, tuple(range(x.ndim)), False))


def _arg_extreme(x, d, largest, keepdim=True):
    """Indices of the first max (or min) along d; NaN wins, like torch."""
    if d is None:
        return np.zeros((), dtype=np.int64)
    fn = np.argmax if largest else np.argmin
    return fn(x, axis=d, keepdims=keepdim).astype(np.int64)


def _check_nonempty_dim(name, x, d):
    if x.ndim and x.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _dim_extreme(input, dim, keepdim, name, largest, cls):
    x = input._data
    d = _one_dim(dim, x.ndim)
    _check_nonempty_dim(name, x, d)
    if d is not None and x.size == 0:     # an empty other dim: empty results
        shape = _kept_shape(x.shape, (d,)) if keepdim else x.shape[:d] + x.shape[d + 1:]
        idx_k = np.zeros(_kept_shape(x.shape, (d,)), dtype=np.int64)
        values, indices = np.empty(shape, x.dtype), np.empty(shape, np.int64)
    else:
        return _select_result(name, input, _arg_extreme(x, d, largest), d, keepdim, cls, x)
    v = emit(values, cls, (input,), meta=(x.shape, d, keepdim, idx_k))
    return getattr(_rt, name)((v, _make(indices)))


def _select_result(name, input, idx_k, d, keepdim, cls, x=None):
    """Named tuple (values picked by idx_k along d, indices); the node scatters back."""
    x = input._data if x is None else x
    values = _np_gather(x, idx_k, d)
    indices = idx_k
    if not keepdim and d is not None and idx_k.ndim == x.ndim and idx_k.shape[d] == 1:
        values, indices = np.squeeze(values, d), np.squeeze(idx_k, d)
    if d is None:
        values = x.copy()
    v = emit(values, cls, (input,), meta=(x.shape, d, keepdim, idx_k))
    return getattr(_rt, name)((v, _make(indices)))


_MISSING = object()


def _extreme(name, largest, full_cls, dim_cls, binary):
    def fn(input, dim=_MISSING, keepdim=False, *, other=None, out=None):
        if other is not None:
            dim = other
        if dim is _MISSING or dim is None:
            if dim is None and keepdim:
                raise TypeError(f"{name}() received an invalid combination of arguments")
            return _finish(_full_extreme(input, name, np.max if largest else np.min,
                                         full_cls), out)
        if isinstance(dim, Tensor):
            op = getattr(binary_math, binary, None)
            if op is None:
                raise NotImplementedError(f"{name}(input, other) needs "
                                          f"lightgrad.{binary}, which is not available")
            return op(input, dim) if out is None else op(input, dim, out=out)
        r = _dim_extreme(input, dim, keepdim, name, largest, dim_cls)
        if out is not None:
            to_out(r[0], out[0])
            to_out(r[1], out[1])
            return getattr(_rt, name)((out[0], out[1]))
        return r
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"{name}(input) -> Tensor; {name}(input, dim, keepdim=False) -> "
                  f"(values, indices); {name}(input, other) -> {binary}(input, other).")
    return fn


max = defop(_extreme("max", True, MaxBackward1, MaxBackward0, "maximum"),
            nodes=(MaxBackward1, MaxBackward0), batch=_max_min_batching, samples=[
                S((2, 3), np_ref=np.max), S((2, 3), args=(1,), id="dim",
                                            np_ref=lambda x: x.max(1)),
                S((3, 2), args=(0,), kwargs={"keepdim": True}, id="keepdim"),
                S((), args=(0,), id="0d")])
min = defop(_extreme("min", False, MinBackward1, MinBackward0, "minimum"),
            nodes=(MinBackward1, MinBackward0), batch=_max_min_batching, samples=[
                S((2, 3), np_ref=np.min), S((2, 3), kwargs={"dim": -1}, id="dim")])


def _amax_amin(name, np_fn, cls):
    def fn(input, dim=(), keepdim=False, *, out=None):
        x = input._data
        dims = _dims(dim, x.ndim)
        if x.size == 0 and (not dims or _pyany(x.shape[d] == 0 for d in dims)):
            if not isinstance(dim, int) and len(dim) == 0:
                raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                                   "input.numel() == 0. Specify the reduction dim with the "
                                   "'dim' argument.")
            d = [d for d in dims if x.shape[d] == 0][0]
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        if out is not None and out._data.dtype != x.dtype:
            raise RuntimeError(f"Expected the dtype for input and out to match, but got "
                               f"{input.dtype._legacy} for input's dtype and "
                               f"{out.dtype._legacy} for out's dtype.")
        data = np_fn(x, axis=dims, keepdims=keepdim)
        return emit(data, cls, (input,), (input, RESULT), meta=(x.shape, dims, keepdim), out=out)
    fn.__name__ = fn.__qualname__ = name
    return fn


amax = defop(_amax_amin("amax", np.max, AmaxBackward0), nodes=(AmaxBackward0,), batch=_REDUCE,
             samples=[S((2, 3), args=(1,), np_ref=lambda x: x.max(1)), S((2, 3), id="all")])
amin = defop(_amax_amin("amin", np.min, AminBackward0), nodes=(AminBackward0,), batch=_REDUCE,
             samples=[S((2, 3, 2), args=((0, 2),), kwargs={"keepdim": True})])


def _aminmax_rule(ns, g, meta, x, mn, mx):
    shape, dims, keepdim = meta
    out = None
    for gi, r in zip(g, (mn, mx)):
        if gi is not None:
            share = ns.red_evenly(x, _unsqueeze_to(ns, r, shape, dims, keepdim), dims)
            t = _restore_dims(ns, gi, shape, dims, keepdim) * share
            out = t if out is None else out + t
    return (out,)


AminmaxBackward0 = node_class("AminmaxBackward0", _aminmax_rule, saved=("self", "min", "max"),
                              meta=_even_meta, nout=2)


@defop(nodes=(AminmaxBackward0,), batch=_REDUCE, samples=[S((3, 2), kwargs={"dim": 0})])
def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) in one call, as a named tuple."""
    x = input._data
    dims = _dims(dim, x.ndim)
    if x.size == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    mn, mx = np.min(x, axis=dims, keepdims=keepdim), np.max(x, axis=dims, keepdims=keepdim)
    if _rg(input):
        node = new_node(AminmaxBackward0, (input,), (input, _make(mn), _make(mx)),
                        meta=(x.shape, dims, keepdim))
        return _rt.aminmax(with_tangents((_make(mn, node, 0), _make(mx, node, 1)), node,
                                         (input,)))
    return _rt.aminmax((_make(mn), _make(mx)))


def _argfn(name, largest):
    def fn(input, dim=None, keepdim=False, *, out=None):
        x = input._data
        if x.dtype == np.bool_:
            raise RuntimeError(f"{name}(): does not support bool input")
        if dim is None:
            if x.size == 0:
                raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                                 "input.numel() == 0.")
            data = _arg_extreme(x.reshape(-1), 0, largest, keepdim=False)
            if keepdim:
                data = data.reshape((1,) * x.ndim)
        else:
            d = _one_dim(dim, x.ndim)
            _check_nonempty_dim(name, x, d)
            data = _arg_extreme(x, d, largest, keepdim)
        return _finish(_make(data), out)
    fn.__name__ = fn.__qualname__ = name
    return fn


argmax = defop(_argfn("argmax", True), batch=_REDUCE,
               samples=[S((2, 3), args=(1,), np_ref=lambda x: x.argmax(1))])
argmin = defop(_argfn("argmin", False), batch=_REDUCE, samples=[S((2, 3))])


# -- any / all / count_nonzero ---------------------------------------------------------
def _logical(name, np_fn):
    def fn(input, dim=None, keepdim=False, *, out=None):
        x = input._data
        # an empty dim list reduces nothing (not everything, as sum's does)
        dims = () if isinstance(dim, (tuple, list)) and not dim else _dims(dim, x.ndim)
        if out is not None and out._data.dtype not in (np.bool_, np.uint8):
            raise RuntimeError(f"{name} only supports bool tensor for result, got: "
                               f"{out.dtype._legacy}")
        data = np_fn(x, axis=dims, keepdims=keepdim)
        if x.dtype == np.uint8:       # torch keeps uint8 for uint8 inputs
            data = np.asarray(data).astype(np.uint8)
        return _finish(_make(data), out)
    fn.__name__ = fn.__qualname__ = name
    return fn


any = defop(_logical("any", np.any), batch=_REDUCE, samples=[
    S(make_inputs=lambda rng: [rng.uniform(size=(2, 3)) > 0.5], args=(1,),
      np_ref=lambda x: x.any(1))])
all = defop(_logical("all", np.all), batch=_REDUCE, samples=[
    S(make_inputs=lambda rng: [rng.uniform(size=(2, 3)) > 0.1])])


@defop(batch=_REDUCE, samples=[
    S(make_inputs=lambda rng: [np.array([[0, 2, 0], [1, 3, 0]])], args=(0,))])
def count_nonzero(input, dim=None):
    x = input._data
    dims = _dims(dim, x.ndim)
    return _make(np.asarray(np.count_nonzero(x, axis=dims)).astype(np.int64))


T.sum = lambda x, axis=None, keepdims=False: sum(x, axis, keepdims)

__all__ = publish(globals())
