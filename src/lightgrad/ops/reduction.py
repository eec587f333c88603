"""Reductions, scans, sorting and softmax, each beside its derivative rule.

Rules that route a gradient through indices (max(dim), sort, topk, cummax, ...) use two
namespace functions defined here: `ns.red_scatter` (scatter-add along a dim into zeros) and
`ns.red_gather` (take along a dim); under create_graph each is a differentiable op whose rule
is the other. Other `red_*` helpers give rules constant masks (ties, zeros, NaNs) computed
from values: masks carry no gradient, as in torch.
"""
import builtins
import warnings

import numpy as np

from .. import _dtype
from .. import return_types as _rt
from .._tensor import Tensor, _make
from ..autograd.grad_mode import state as _state
from ._core import NP, RESULT, T, declare, node_class, normalize_dims, record, to_out, \
    to_tensor, with_tangents

__all__ = ["sum", "mean", "prod", "nansum", "nanmean", "max", "min", "amax", "amin", "aminmax",
           "argmax", "argmin", "std", "var", "var_mean", "std_mean", "logsumexp", "norm",
           "dist", "softmax", "log_softmax", "cumsum", "cumprod", "cummax", "cummin",
           "logcumsumexp", "sort", "argsort", "msort", "topk", "kthvalue", "median",
           "nanmedian", "mode", "any", "all", "count_nonzero"]

_pymax, _pyany = builtins.max, builtins.any   # this module defines max and any


def _rg(t):
    return _state.grad_enabled and t._rg


def _legacy(np_dtype):
    return _dtype.from_numpy_dtype(np_dtype)._legacy


def _dims(dim, ndim):
    """Reduction dims: None or an empty list/tuple means every dim."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    dims = normalize_dims(dim, ndim)
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
    if _rg(g):
        return record(data, _ScatterIdx, (g,), meta=(idx, dim, g._data.shape), bcast=True)
    return _make(data)


def _t_gather(x, idx, dim):
    data = _np_gather(x._data, idx, dim)
    if _rg(x):
        return record(data, _GatherIdx, (x,), meta=(idx, dim, x._data.shape))
    return _make(data)


def _t_revcumsum(g, dim):
    data = _np_revcumsum(g._data, dim)
    if _rg(g):
        return record(data, _RevCumsum, (g,), meta=dim)
    return _make(data)


T.red_scatter, T.red_gather, T.red_revcumsum = _t_scatter, _t_gather, _t_revcumsum
T.red_cumsum = lambda x, dim: x if dim is None else cumsum(x, dim)
T.red_cumprod = lambda x, dim: cumprod(x, dim)
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


def _sum_dtype(x, dtype):
    if dtype is not None:
        return dtype.np
    if x.dtype.kind in "biu":
        return np.int64
    return None


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of all elements, or over `dim` (int or tuple). `x.sum()`, `x.sum(1, keepdim=True)`"""
    x = input._data
    sdt = _sum_dtype(x, dtype)
    bc = sdt is not None and x.dtype != sdt
    if dim is None:
        data = x.sum(dtype=sdt)  # the method: np.sum adds ~1 us of Python dispatch
        if _state.grad_enabled and input._rg:
            r = record(data, SumBackward0, (input,), meta=x.shape, bcast=bc)
        else:
            r = _make(data)
    else:
        dims = _dims(dim, x.ndim)
        data = x.sum(axis=dims, keepdims=keepdim, dtype=sdt)
        if _state.grad_enabled and input._rg:
            r = record(data, SumBackward1, (input,), meta=(x.shape, dims, keepdim), bcast=bc)
        else:
            r = _make(data)
    return r if out is None else to_out(r, out)


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
        if _state.grad_enabled and input._rg:
            r = record(data, MeanBackward0, (input,), meta=(x.shape, x.size), bcast=bc)
        else:
            r = _make(data)
    else:
        dims = _dims(dim, x.ndim)
        data = np.mean(x, axis=dims, keepdims=keepdim)
        n = _numel(x.shape, dims)
        if _state.grad_enabled and input._rg:
            r = record(data, MeanBackward1, (input,), meta=(x.shape, dims, keepdim, n),
                       bcast=bc)
        else:
            r = _make(data)
    return r if out is None else to_out(r, out)


NansumBackward0 = node_class(
    "NansumBackward0",
    lambda ns, g, m, x: (_restore_dims(ns, g, m[0], m[1], m[2]) * ns.red_notnan(x),),
    saved=("self",), meta=("self_sym_sizes", "dim", "keepdim"))


def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum treating NaN as zero."""
    x = input._data
    sdt = _sum_dtype(x, dtype)
    dims = _dims(dim, x.ndim)
    data = np.nansum(x, axis=dims, keepdims=keepdim, dtype=sdt)
    if _rg(input):
        r = record(data, NansumBackward0, (input,), (input,), meta=(x.shape, dims, keepdim),
                   bcast=sdt is not None and x.dtype != sdt)
    else:
        r = _make(data)
    return _finish(r, out)


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean over the non-NaN elements: nansum / count, as torch composes it."""
    x = input._data
    if dtype is not None:
        x = x.astype(dtype.np)
        input = input.to(dtype)
    if x.dtype.kind not in "fc":
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {_legacy(x.dtype)}")
    from .arithmetic import div
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


def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Product of all elements, or along one `dim`. `x.prod()`, `x.prod(1)`"""
    x = input._data
    sdt = _sum_dtype(x, dtype)
    if sdt is not None and x.dtype != sdt:
        input = input.to(_dtype.from_numpy_dtype(np.dtype(sdt)))
        x = input._data
    if dim is None:
        data = np.prod(x)
        if _rg(input):
            return _finish(record(data, ProdBackward0, (input,), (input, RESULT),
                                  meta=x.shape), out)
    else:
        d = _one_dim(dim, x.ndim)
        data = np.prod(x, axis=d, keepdims=keepdim) if d is not None else x.copy()
        if _rg(input):
            return _finish(record(data, ProdBackward1, (input,), (input, RESULT),
                                  meta=(x.shape, d, keepdim)), out)
    return _finish(_make(data), out)


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
    if _rg(input):
        return record(data, cls, (input,), (input, RESULT),
                      meta=(x.shape, tuple(range(x.ndim)), False))
    return _make(data)


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
    if _rg(input):
        v = record(values, cls, (input,), meta=(x.shape, d, keepdim, idx_k))
    else:
        v = _make(values)
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
            from . import binary_math
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


max = _extreme("max", True, MaxBackward1, MaxBackward0, "maximum")
min = _extreme("min", False, MinBackward1, MinBackward0, "minimum")


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
        data = np_fn(x, axis=dims, keepdims=keepdim)
        if _rg(input):
            r = record(data, cls, (input,), (input, RESULT), meta=(x.shape, dims, keepdim))
        else:
            r = _make(data)
        return _finish(r, out)
    fn.__name__ = fn.__qualname__ = name
    return fn


amax = _amax_amin("amax", np.max, AmaxBackward0)
amin = _amax_amin("amin", np.min, AminBackward0)


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


def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) in one call, as a named tuple."""
    x = input._data
    dims = _dims(dim, x.ndim)
    if x.size == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    mn, mx = np.min(x, axis=dims, keepdims=keepdim), np.max(x, axis=dims, keepdims=keepdim)
    if _rg(input):
        from ._core import new_node
        node = new_node(AminmaxBackward0, (input,), (input, _make(mn), _make(mx)),
                        meta=(x.shape, dims, keepdim))
        return _rt.aminmax(with_tangents((_make(mn, node, 0), _make(mx, node, 1)), node,
                                         (input,)))
    return _rt.aminmax((_make(mn), _make(mx)))


def _argfn(name, largest):
    def fn(input, dim=None, keepdim=False, *, out=None):
        x = input._data
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


argmax = _argfn("argmax", True)
argmin = _argfn("argmin", False)


# -- var / std -----------------------------------------------------------------------------
def _centered(ns, x, dims, n):
    return x - ns.sum(x, dims, keepdims=True) / n


def _var_grad(ns, g, x, meta):
    shape, dims, keepdim, n, dof = meta
    k = 2.0 / dof if dof else float("inf")      # dof 0: inf * 0 deviations = nan, as torch
    return _restore_dims(ns, g, shape, dims, keepdim) * k * _centered(ns, x, dims, n)


def _std_grad(ns, g, x, r, meta):
    shape, dims, keepdim, n, dof = meta
    rr = _restore_dims(ns, r, shape, dims, keepdim)
    # NOTE: where std is 0 all deviations are 0 too; the mask only avoids 0/0 (torch gives 0)
    return _restore_dims(ns, g, shape, dims, keepdim) * _centered(ns, x, dims, n) / \
        ((rr + ns.red_zeromask(rr)) * dof)


_var_meta = ("self_sym_sizes", "dim", "keepdim", "numel", "correction")
VarBackward0 = node_class("VarBackward0", lambda ns, g, m, x: (_var_grad(ns, g, x, m),),
                          saved=("self",), meta=_var_meta)
StdBackward0 = node_class("StdBackward0", lambda ns, g, m, x, r: (_std_grad(ns, g, x, r, m),),
                          saved=("self", "result"), meta=_var_meta)


def _var_mean_rule(ns, g, meta, x):
    shape, dims, keepdim, n, dof, is_std = meta
    gv, gm = g
    out = None
    if gv is not None:
        if is_std:
            r = ns.sqrt(ns.sum(_centered(ns, x, dims, n) ** 2, dims, keepdims=True) / dof)
            gk = _unsqueeze_to(ns, gv, shape, dims, keepdim)
            out = _std_grad(ns, gk, x, r, (shape, dims, True, n, dof))
        else:
            out = _var_grad(ns, gv, x, meta[:5])
    if gm is not None:
        t = _restore_dims(ns, gm, shape, dims, keepdim) / n
        out = t if out is None else out + t
    return (out,)


VarMeanBackward0 = node_class("VarMeanBackward0", _var_mean_rule, saved=("self",),
                              meta=_var_meta + ("is_std",), nout=2)
StdMeanBackward0 = node_class("StdMeanBackward0", _var_mean_rule, saved=("self",),
                              meta=_var_meta + ("is_std",), nout=2)


def _var_args(name, input, dim, unbiased, keepdim, correction):
    x = input._data
    if x.dtype.kind not in "fc":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    if isinstance(dim, bool):          # var(input, unbiased)
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    dims = _dims(dim, x.ndim)
    n = _numel(x.shape, dims)
    dof = _pymax(0, n - correction)
    if dof <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly "
                      "less than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=3)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = x - np.mean(x, axis=dims, keepdims=True) if n else x
        sq = (c * np.conj(c)).real if x.dtype.kind == "c" else c * c
        v = np.sum(sq, axis=dims, keepdims=keepdim) / np.asarray(dof, dtype=sq.dtype)
    return x, dims, n, dof, correction, v.astype(sq.dtype, copy=False)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Variance with Bessel's correction by default; `correction=0` for the population one."""
    x, dims, n, dof, c, v = _var_args("var", input, dim, unbiased, keepdim, correction)
    if _rg(input):
        return _finish(record(v, VarBackward0, (input,), (input,),
                              meta=(x.shape, dims, keepdim, n, dof)), out)
    return _finish(_make(v), out)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Standard deviation; same arguments as var."""
    x, dims, n, dof, c, v = _var_args("std", input, dim, unbiased, keepdim, correction)
    s = np.sqrt(v)
    if _rg(input):
        return _finish(record(s, StdBackward0, (input,), (input, RESULT),
                              meta=(x.shape, dims, keepdim, n, dof)), out)
    return _finish(_make(s), out)


def _var_mean(name, is_std, cls):
    def fn(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
        x, dims, n, dof, c, v = _var_args(name.split("_")[0], input, dim, unbiased, keepdim,
                                          correction)
        m = np.mean(x, axis=dims, keepdims=keepdim) if n else \
            np.full(v.shape, np.nan, dtype=x.dtype)
        first = np.sqrt(v) if is_std else v
        if _rg(input):
            from ._core import new_node
            node = new_node(cls, (input,), (input,), meta=(x.shape, dims, keepdim, n, dof,
                                                           is_std))
            return with_tangents((_make(first, node, 0), _make(m, node, 1)), node, (input,))
        return (_make(first), _make(m))
    fn.__name__ = fn.__qualname__ = name
    return fn


var_mean = _var_mean("var_mean", False, VarMeanBackward0)
std_mean = _var_mean("std_mean", True, StdMeanBackward0)


# -- logsumexp / norm / dist ------------------------------------------------------------
def _lse_rule(ns, g, meta, x, r):
    shape, dims, keepdim = meta
    rr = _restore_dims(ns, r, shape, dims, keepdim)
    return (_restore_dims(ns, g, shape, dims, keepdim) * ns.exp(x - rr),)


LogsumexpBackward0 = node_class("LogsumexpBackward0", _lse_rule, saved=("self", "result"),
                                meta=("self_sym_sizes", "dim", "keepdim"))


def _float_input(input):
    x = input._data
    if x.dtype.kind in "fc":
        return input
    return input.to(_dtype.get_default_dtype())


def logsumexp(input, dim=_MISSING, keepdim=False, *, out=None):
    """log(sum(exp(x))) over `dim`, computed with the max shifted out (no overflow)."""
    if dim is _MISSING:
        raise TypeError('logsumexp() missing 1 required positional arguments: "dim"')
    input = _float_input(input)
    x = input._data
    dims = _dims(dim, x.ndim)
    if x.size:
        m = np.max(x, axis=dims, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
    else:
        m = np.zeros(_kept_shape(x.shape, dims), x.dtype)
    with np.errstate(divide="ignore"):
        data = np.log(np.sum(np.exp(x - m), axis=dims, keepdims=True)) + m
    if not keepdim:
        data = data.reshape([s for i, s in enumerate(x.shape) if i not in dims])
    data = data.astype(x.dtype, copy=False)
    if _rg(input):
        return _finish(record(data, LogsumexpBackward0, (input,), (input, RESULT),
                              meta=(x.shape, dims, keepdim)), out)
    return _finish(_make(data), out)


def _norm_grad(ns, g, x, r, shape, dims, keepdim, p):
    """Gradient of the vector p-norm of x over dims; g and r are reduced."""
    if p == 0:
        return None
    gr = _restore_dims(ns, g, shape, dims, keepdim)
    if p == 1:
        return gr * ns.sign(x)
    rr = _restore_dims(ns, r, shape, dims, keepdim)
    if p == 2:
        return gr * x / (rr + ns.red_zeromask(rr))
    sgn = ns.sign(x)
    if p == float("inf") or p == -float("inf"):
        share = ns.red_evenly(x * sgn, _unsqueeze_to(ns, r, shape, dims, keepdim), dims)
        return gr * sgn * share
    return gr * sgn * (x * sgn) ** (p - 1) / (rr + ns.red_zeromask(rr)) ** (p - 1)


def _norm_rule(ns, g, meta, x, r):
    shape, dims, keepdim, p = meta
    return (_norm_grad(ns, g, x, r, shape, dims, keepdim, p),)


LinalgVectorNormBackward0 = node_class("LinalgVectorNormBackward0", _norm_rule,
                                       saved=("self", "result"),
                                       meta=("self_sym_sizes", "dim", "keepdim", "ord"))


def _np_vector_norm(x, p, dims, keepdim):
    a = np.abs(x)
    if p == float("inf"):
        return np.max(a, axis=dims, keepdims=keepdim) if a.size else \
            np.zeros(np.sum(a, axis=dims, keepdims=keepdim).shape, a.dtype)
    if p == -float("inf"):
        return np.min(a, axis=dims, keepdims=keepdim)
    if p == 0:
        return np.sum(a != 0, axis=dims, keepdims=keepdim).astype(a.dtype)
    if p == 1:
        return np.sum(a, axis=dims, keepdims=keepdim)
    if p == 2:
        return np.sqrt(np.sum(a * a, axis=dims, keepdims=keepdim))
    return np.power(np.sum(np.power(a, p), axis=dims, keepdims=keepdim), 1.0 / p)


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """Vector p-norm over `dim` (all elements by default); 'fro' is the 2-norm."""
    x = input._data
    if x.dtype.kind not in "fc":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_legacy(x.dtype)}")
    if p is None or p == "fro":
        p = 2
    elif isinstance(p, str):
        raise NotImplementedError(f"norm(p={p!r}) is not supported by lightgrad")
    if dtype is not None and x.dtype != dtype.np:
        input = input.to(dtype)
        x = input._data
    p = float(p) if not isinstance(p, int) else p
    dims = _dims(dim, x.ndim)
    data = _np_vector_norm(x, p, dims, keepdim)
    if _rg(input):
        return _finish(record(data, LinalgVectorNormBackward0, (input,), (input, RESULT),
                              meta=(x.shape, dims, keepdim, p)), out)
    return _finish(_make(data), out)


def _dist_rule(ns, g, p, a, b, r):
    d = a - b
    shape = ns.red_shape(d)
    gd = _norm_grad(ns, g, d, r, shape, tuple(range(len(shape))), False, p)
    if gd is None:
        return None, None
    return gd, -gd


DistBackward0 = node_class("DistBackward0", _dist_rule, saved=("self", "other", "result"),
                           meta=("p",))


def dist(input, other, p=2):
    """The p-norm of input - other (broadcast)."""
    from ._core import binary_operands
    a, b, x, y = binary_operands(input, other)
    b = to_tensor(b) if not isinstance(b, Tensor) else b
    diff = x - y
    if diff.dtype.kind not in "fc":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_legacy(diff.dtype)}")
    p = float(p) if not isinstance(p, int) else p
    data = _np_vector_norm(diff, p, tuple(range(diff.ndim)), False)
    if _state.grad_enabled and (a._rg or b._rg):
        return record(data, DistBackward0, (a, b), (a, b, RESULT), meta=p, bcast=True)
    return _make(data)


# -- softmax / log_softmax --------------------------------------------------------------
def _softmax_rule(ns, g, d, y):
    gy = g * y
    return (gy - y * ns.sum(gy, d, keepdims=True),)


def _log_softmax_rule(ns, g, d, y):
    return (g - ns.exp(y) * ns.sum(g, d, keepdims=True),)


SoftmaxBackward0 = node_class("SoftmaxBackward0", _softmax_rule, saved=("result",),
                              meta=("dim",))
LogSoftmaxBackward0 = node_class("LogSoftmaxBackward0", _log_softmax_rule, saved=("result",),
                                 meta=("dim",))


def _softmax_input(input, dim, dtype, kernel):
    if dtype is not None and input._data.dtype != dtype.np:
        input = input.to(dtype)
    x = input._data
    if x.dtype.kind not in "fc":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_legacy(x.dtype)}\'')
    if dim is None:
        raise TypeError("softmax() missing required argument 'dim'")
    return input, x, _one_dim(dim, x.ndim)


def softmax(input, dim=None, dtype=None):
    """exp(x) / sum(exp(x)) along `dim`, with the row max shifted out."""
    input, x, d = _softmax_input(input, dim, dtype, "softmax_kernel_impl")
    if x.size:
        e = np.exp(x - np.max(x, axis=d, keepdims=True))
        data = e / np.sum(e, axis=d, keepdims=True)
    else:
        data = x.copy()
    if _rg(input):
        return record(data, SoftmaxBackward0, (input,), (RESULT,), meta=d)
    return _make(data)


def log_softmax(input, dim=None, dtype=None):
    """x - logsumexp(x) along `dim`, computed stably."""
    input, x, d = _softmax_input(input, dim, dtype, "log_softmax_kernel_impl")
    if x.size:
        s = x - np.max(x, axis=d, keepdims=True)
        data = s - np.log(np.sum(np.exp(s), axis=d, keepdims=True))
    else:
        data = x.copy()
    if _rg(input):
        return record(data, LogSoftmaxBackward0, (input,), (RESULT,), meta=d)
    return _make(data)


# -- scans: cumsum / cumprod / cummax / cummin / logcumsumexp ---------------------------
CumsumBackward0 = node_class("CumsumBackward0", lambda ns, g, d: (ns.red_revcumsum(g, d),),
                             meta=("dim",))


def cumsum(input, dim, *, dtype=None, out=None):
    """Running sum along `dim`. Integer and bool inputs give int64."""
    x = input._data
    sdt = _sum_dtype(x, dtype)
    bc = sdt is not None and x.dtype != sdt
    d = _one_dim(dim, x.ndim)
    data = np.cumsum(x, axis=d, dtype=sdt) if d is not None else x.astype(sdt or x.dtype)
    data = data.reshape(x.shape)
    if _rg(input):
        return _finish(record(data, CumsumBackward0, (input,), meta=d, bcast=bc), out)
    return _finish(_make(data), out)


def _cumprod_rule(ns, g, d, x, y):
    if d is None:
        return (g,)
    if not ns.red_anyzero(x):
        return (ns.red_revcumsum(g * y, d) / x,)
    # NOTE: with zeros, y/x is undefined: for each k recompute the running products with
    # x_k := 1 (row k of an (n, n) stack) and sum g_i over i >= k. O(n^2), exact.
    n = ns.red_shape(x)[d]
    xs, gs = ns.swapaxes(x, d, -1), ns.swapaxes(g, d, -1)
    s = ns.red_shape(xs)
    eye = ns.red_eye(n, x)
    rows = ns.reshape(xs, s[:-1] + (1, n)) * (1 - eye) + eye
    prods = ns.red_cumprod(rows, -1) * ns.red_triu(n, x)
    gk = ns.sum(ns.reshape(gs, s[:-1] + (1, n)) * prods, -1)
    return (ns.swapaxes(gk, d, -1),)


CumprodBackward0 = node_class("CumprodBackward0", _cumprod_rule, saved=("self", "result"),
                              meta=("dim",))


def cumprod(input, dim, *, dtype=None, out=None):
    """Running product along `dim`; its gradient is exact with zeros in the input."""
    x = input._data
    sdt = _sum_dtype(x, dtype)
    if sdt is not None and x.dtype != sdt:
        input = input.to(_dtype.from_numpy_dtype(np.dtype(sdt)))
        x = input._data
    d = _one_dim(dim, x.ndim)
    data = np.cumprod(x, axis=d) if d is not None else x.copy()
    if _rg(input):
        return _finish(record(data, CumprodBackward0, (input,), (input, RESULT), meta=d), out)
    return _finish(_make(data), out)


def _scan_rule(ns, g, meta):
    shape, d, idx = meta
    return (ns.red_scatter(g, idx, d, shape),)


CummaxBackward0 = node_class("CummaxBackward0", _scan_rule,
                             meta=("self_sym_sizes", "dim", "indices"))
CumminBackward0 = node_class("CumminBackward0", _scan_rule,
                             meta=("self_sym_sizes", "dim", "indices"))


def _cum_extreme(name, largest, cls):
    def fn(input, dim, *, out=None):
        x = input._data
        d = _one_dim(dim, x.ndim)
        if d is None:
            values, idx = x.copy(), np.zeros((), np.int64)
        else:
            xs = np.moveaxis(x, d, 0)
            vals = np.empty_like(xs)
            ids = np.zeros(xs.shape, np.int64)
            isf = x.dtype.kind in "fc"
            if xs.shape[0]:
                cur, cur_i = xs[0].copy(), np.zeros(xs.shape[1:], np.int64)
                vals[0], ids[0] = cur, cur_i
                for i in range(1, xs.shape[0]):
                    v = xs[i]
                    take = v >= cur if largest else v <= cur
                    if isf:      # NaN takes over and then stays
                        take = (take & ~np.isnan(cur)) | (np.isnan(v) & ~np.isnan(cur))
                    cur = np.where(take, v, cur)
                    cur_i = np.where(take, i, cur_i)
                    vals[i], ids[i] = cur, cur_i
            values, idx = np.moveaxis(vals, 0, d), np.moveaxis(ids, 0, d)
        if _rg(input):
            v = record(values, cls, (input,), meta=(x.shape, d, idx))
        else:
            v = _make(values)
        r = getattr(_rt, name)((v, _make(idx)))
        if out is not None:
            to_out(r[0], out[0])
            to_out(r[1], out[1])
            return getattr(_rt, name)((out[0], out[1]))
        return r
    fn.__name__ = fn.__qualname__ = name
    return fn


cummax = _cum_extreme("cummax", True, CummaxBackward0)
cummin = _cum_extreme("cummin", False, CumminBackward0)


def _lcse_rule(ns, g, d, x, y):
    if d is None:
        return (g,)
    # d x_k = sum_{i >= k} g_i exp(x_k - y_i); a per-row constant shift keeps exp in range
    c = ns.red_amaxc(x, d)
    return (ns.exp(x - c) * ns.red_revcumsum(g * ns.exp(c - y), d),)


LogcumsumexpBackward0 = node_class("LogcumsumexpBackward0", _lcse_rule,
                                   saved=("self", "result"), meta=("dim",))


def logcumsumexp(input, dim, *, out=None):
    """log(cumsum(exp(x))) along `dim`, computed stably."""
    input = _float_input(input)
    x = input._data
    d = _one_dim(dim, x.ndim)
    if d is None or x.size == 0:
        data = x.copy()
    else:
        data = np.logaddexp.accumulate(x, axis=d)
    if _rg(input):
        return _finish(record(data, LogcumsumexpBackward0, (input,), (input, RESULT),
                              meta=d), out)
    return _finish(_make(data), out)


# -- sort / argsort / topk / kthvalue / median / mode ----------------------------------
SortBackward0 = node_class("SortBackward0", _select_rule, meta=_sel_meta)
SortBackward1 = node_class("SortBackward1", _select_rule, meta=_sel_meta)
TopkBackward0 = node_class("TopkBackward0", _select_rule, meta=_sel_meta)
KthvalueBackward0 = node_class("KthvalueBackward0", _select_rule, meta=_sel_meta)
MedianBackward1 = node_class("MedianBackward1", _select_rule, meta=_sel_meta)
NanmedianBackward1 = node_class("NanmedianBackward1", _select_rule, meta=_sel_meta)
ModeBackward0 = node_class("ModeBackward0", _select_rule, meta=_sel_meta)
MedianBackward0 = node_class("MedianBackward0", _evenly_rule, saved=("self", "result"),
                             meta=_even_meta)
NanmedianBackward0 = node_class("NanmedianBackward0", _evenly_rule, saved=("self", "result"),
                                meta=_even_meta)


def _argsort_np(x, d, descending):
    """Stable sort order along d; NaN sorts as the largest value, as in torch."""
    if d is None:
        return np.zeros((), np.int64)
    if x.dtype == np.bool_ or x.dtype.kind == "u":
        x = x.astype(np.int64)
    if not descending:
        return np.argsort(x, axis=d, kind="stable").astype(np.int64)
    if x.dtype.kind == "f":
        # primary key: NaN first; secondary: larger first (stable)
        xs = np.moveaxis(x, d, -1)
        order = np.lexsort((-xs, ~np.isnan(xs)), axis=-1)
        return np.moveaxis(order, -1, d).astype(np.int64)
    # for ints: reverse-stable via sorting the negation (bounded above by int64 max)
    return np.argsort(-x.astype(np.int64) if x.dtype != np.int64 else
                      np.where(x == np.iinfo(np.int64).min, np.iinfo(np.int64).max, -x),
                      axis=d, kind="stable").astype(np.int64)


def _select_result(name, input, idx_k, d, keepdim, cls, x=None):
    """Named tuple (values picked by idx_k along d, indices); the node scatters back."""
    x = input._data if x is None else x
    values = _np_gather(x, idx_k, d)
    indices = idx_k
    if not keepdim and d is not None and idx_k.ndim == x.ndim and idx_k.shape[d] == 1:
        values, indices = np.squeeze(values, d), np.squeeze(idx_k, d)
    if d is None:
        values = x.copy()
    if _rg(input):
        v = record(values, cls, (input,), meta=(x.shape, d, keepdim, idx_k))
    else:
        v = _make(values)
    return getattr(_rt, name)((v, _make(indices)))


def _out_pair(r, out, name):
    if out is None:
        return r
    to_out(r[0], out[0])
    to_out(r[1], out[1])
    return getattr(_rt, name)((out[0], out[1]))


def sort(input, dim=-1, descending=False, *, stable=None, out=None):
    """Sorted values and their indices along `dim` (stable)."""
    x = input._data
    d = _one_dim(dim, x.ndim)
    idx = _argsort_np(x, d, descending)
    cls = SortBackward0 if stable is None else SortBackward1
    return _out_pair(_select_result("sort", input, idx, d, True, cls), out, "sort")


def argsort(input, dim=-1, descending=False, *, stable=False):
    x = input._data
    return _make(_argsort_np(x, _one_dim(dim, x.ndim), descending))


def msort(input, *, out=None):
    r = sort(input, 0)[0]
    return _finish(r, out)


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """The k largest (or smallest) elements along `dim` and their indices."""
    x = input._data
    d = _one_dim(dim, x.ndim)
    n = x.shape[d] if d is not None else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    idx = _argsort_np(x, d, largest)
    if d is not None:
        idx = np.take(idx, np.arange(k), axis=d)
    elif k == 0:
        raise RuntimeError("selected index k out of range")
    return _out_pair(_select_result("topk", input, idx, d, True, TopkBackward0), out, "topk")


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The k-th smallest element along `dim` and its index."""
    x = input._data
    d = _one_dim(dim, x.ndim)
    n = x.shape[d] if d is not None else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension "
                           f"{d if d is not None else 0}")
    idx = _argsort_np(x, d, False)
    if d is not None:
        idx = np.take(idx, [k - 1], axis=d)
    return _out_pair(_select_result("kthvalue", input, idx, d, keepdim, KthvalueBackward0),
                     out, "kthvalue")


def _median_index(x, d, ignore_nan):
    """Index (kept dim) of the lower median along d. NaN: torch's median returns the first
    NaN; nanmedian skips NaNs (all-NaN slices give a NaN)."""
    order = _argsort_np(x, d, False)               # NaNs last, stable
    n = x.shape[d]
    if x.dtype.kind == "f":
        nans = np.sum(np.isnan(x), axis=d, keepdims=True)
    else:
        nans = np.zeros(_kept_shape(x.shape, (d,)), np.int64)
    valid = n - nans
    if ignore_nan:
        pos = np.where(valid > 0, (valid - 1) // 2, 0)
    else:
        pos = np.where(nans > 0, valid, (n - 1) // 2)
    return np.take_along_axis(order, pos, d)


def _median(name, ignore_nan, full_cls, dim_cls):
    def fn(input, dim=None, keepdim=False, *, out=None):
        x = input._data
        if dim is None:
            if x.size == 0:
                data = np.array(np.nan, dtype=x.dtype) if x.dtype.kind == "f" else None
                if data is None:
                    raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                                     "input.numel() == 0.")
            else:
                flat = x.reshape(-1)
                data = flat[_median_index(flat, 0, ignore_nan)[0]]
            if _rg(input):
                return record(data, full_cls, (input,), (input, RESULT),
                              meta=(x.shape, tuple(range(x.ndim)), False))
            return _make(data)
        d = _one_dim(dim, x.ndim)
        _check_nonempty_dim(name, x, d)
        idx = _median_index(x, d, ignore_nan) if d is not None else np.zeros((), np.int64)
        return _out_pair(_select_result(name, input, idx, d, keepdim, dim_cls), out, name)
    fn.__name__ = fn.__qualname__ = name
    return fn


median = _median("median", False, MedianBackward0, MedianBackward1)
nanmedian = _median("nanmedian", True, NanmedianBackward0, NanmedianBackward1)


def mode(input, dim=-1, keepdim=False, *, out=None):
    """The most frequent value along `dim` (the smallest among equally frequent ones) and
    the index of its last occurrence, as torch reports it."""
    x = input._data
    d = _one_dim(dim, x.ndim)
    if d is None:
        idx = np.zeros((), np.int64)
    else:
        _check_nonempty_dim("mode", x, d)
        xs = np.moveaxis(x, d, -1)
        rows = xs.reshape(-1, xs.shape[-1])
        best = np.zeros(rows.shape[0], np.int64)
        for r, row in enumerate(rows):
            vals, counts = np.unique(row, return_counts=True)
            v = vals[np.argmax(counts)]                 # first max count = smallest value
            best[r] = np.flatnonzero((row == v) | (np.isnan(row) & np.isnan(v))
                                     if row.dtype.kind == "f" else row == v)[-1]
        idx = np.expand_dims(best.reshape(xs.shape[:-1]), d)
    return _out_pair(_select_result("mode", input, idx, d, keepdim, ModeBackward0), out,
                     "mode")


# -- any / all / count_nonzero ---------------------------------------------------------
def _logical(name, np_fn):
    def fn(input, dim=None, keepdim=False, *, out=None):
        x = input._data
        dims = _dims(dim, x.ndim)
        data = np_fn(x, axis=dims, keepdims=keepdim)
        if x.dtype == np.uint8:       # torch keeps uint8 for uint8 inputs
            data = np.asarray(data).astype(np.uint8)
        return _finish(_make(data), out)
    fn.__name__ = fn.__qualname__ = name
    return fn


any = _logical("any", np.any)
all = _logical("all", np.all)


def count_nonzero(input, dim=None):
    x = input._data
    dims = _dims(dim, x.ndim)
    return _make(np.asarray(np.count_nonzero(x, axis=dims)).astype(np.int64))


# -- registration ----------------------------------------------------------------------
T.sum = lambda x, axis=None, keepdims=False: sum(x, axis, keepdims)
declare("sum", "SumBackward0", "SumBackward1")
declare("mean", "MeanBackward0", "MeanBackward1")
declare("prod", "ProdBackward0", "ProdBackward1")
declare("nansum", "NansumBackward0")
declare("nanmean", "DivBackward0")
declare("max", "MaxBackward1", "MaxBackward0")
declare("min", "MinBackward1", "MinBackward0")
declare("amax", "AmaxBackward0")
declare("amin", "AminBackward0")
declare("aminmax", "AminmaxBackward0")
declare("var", "VarBackward0")
declare("std", "StdBackward0")
declare("var_mean", "VarMeanBackward0")
declare("std_mean", "StdMeanBackward0")
declare("logsumexp", "LogsumexpBackward0")
declare("norm", "LinalgVectorNormBackward0")
declare("dist", "DistBackward0")
declare("softmax", "SoftmaxBackward0")
declare("log_softmax", "LogSoftmaxBackward0")
declare("cumsum", "CumsumBackward0")
declare("cumprod", "CumprodBackward0")
declare("cummax", "CummaxBackward0")
declare("cummin", "CumminBackward0")
declare("logcumsumexp", "LogcumsumexpBackward0")
declare("sort msort", "SortBackward0", "SortBackward1")
declare("topk", "TopkBackward0")
declare("kthvalue", "KthvalueBackward0")
declare("median", "MedianBackward0", "MedianBackward1")
declare("nanmedian", "NanmedianBackward0", "NanmedianBackward1")
declare("mode", "ModeBackward0")

for _name in __all__:
    setattr(Tensor, _name, globals()[_name])
del _name


def _cumsum_(self, dim, *, dtype=None):
    from ._core import inplace
    return inplace(self, cumsum, dim, dtype=dtype)


def _cumprod_(self, dim, *, dtype=None):
    from ._core import inplace
    return inplace(self, cumprod, dim, dtype=dtype)


Tensor.cumsum_ = _cumsum_
Tensor.cumprod_ = _cumprod_
