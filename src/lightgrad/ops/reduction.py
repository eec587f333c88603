"""Reductions: sum, mean, ... each beside its derivative rule."""
import numpy as np

from .. import _dtype
from .._tensor import Tensor, _make
from ..autograd.grad_mode import state as _state
from ._core import NP, T, declare, node_class, normalize_dims, record, to_out

__all__ = ["sum", "mean"]


def _restore_dims(ns, g, shape, dims, keepdim):
    """Bring a reduced gradient back to `shape`: re-insert reduced dims, then broadcast."""
    if not keepdim and dims:
        kept = list(shape)
        for d in dims:
            kept[d] = 1
        g = ns.reshape(g, tuple(kept))
    return ns.broadcast_to(g, shape)


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
    if dim is None:
        data = np.sum(x, dtype=sdt)
        if _state.grad_enabled and input._rg:
            r = record(data, SumBackward0, (input,), meta=x.shape)
        else:
            r = _make(data)
    else:
        dims = normalize_dims(dim, x.ndim)
        data = np.sum(x, axis=dims, keepdims=keepdim, dtype=sdt)
        if _state.grad_enabled and input._rg:
            r = record(data, SumBackward1, (input,), meta=(x.shape, dims, keepdim))
        else:
            r = _make(data)
    return r if out is None else to_out(r, out)


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    x = input._data
    if dtype is not None:
        x = x.astype(dtype.np)
    if x.dtype.kind not in "fc":
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           "floating point or complex dtype. Got: "
                           f"{_dtype.from_numpy_dtype(x.dtype)._legacy}")
    if dim is None:
        data = np.mean(x)
        if _state.grad_enabled and input._rg:
            r = record(data, MeanBackward0, (input,), meta=(x.shape, x.size))
        else:
            r = _make(data)
    else:
        dims = normalize_dims(dim, x.ndim)
        data = np.mean(x, axis=dims, keepdims=keepdim)
        n = 1
        for d in dims:
            n *= x.shape[d]
        if _state.grad_enabled and input._rg:
            r = record(data, MeanBackward1, (input,), meta=(x.shape, dims, keepdim, n))
        else:
            r = _make(data)
    return r if out is None else to_out(r, out)


T.sum = lambda x, axis=None, keepdims=False: sum(x, axis, keepdims)
declare("sum", "SumBackward0", "SumBackward1")
declare("mean", "MeanBackward0", "MeanBackward1")
Tensor.sum = sum
Tensor.mean = mean
