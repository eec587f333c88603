"""Variance, standard deviation, logsumexp and norms, each declared once with its rule."""
import warnings

import numpy as np

from .._tensor import Tensor, _make
from ._batching import composite, reduce_over
from ._core import (RESULT, Sample as S, binary_operands, defop, emit, new_node, node_class,
                    publish, to_tensor, with_tangents)
from .reduction import (_MISSING, _dims, _float_input, _kept_shape, _legacy, _numel, _pymax,
                        _restore_dims, _rg, _unsqueeze_to)

INF = float("inf")
_REDUCE = reduce_over(1)


# -- var / std -----------------------------------------------------------------------------
def _centered(ns, x, dims, n):
    return x - ns.sum(x, dims, keepdims=True) / n


def _every_dim(dim, x):
    """dim=None (var(x, unbiased) too) or a 0-d input: torch's var backward for dof 0 differs."""
    return dim is None or isinstance(dim, bool) or x.ndim == 0


def _var_grad(ns, g, x, meta, full=False):
    shape, dims, keepdim, n, dof = meta
    k = 2.0 / dof if dof else float("inf")      # dof 0: inf * 0 deviations = nan, as torch
    c = _centered(ns, x, dims, n)
    if full and not dof:    # torch, over every dim (dim=None): inf, nan where x is the mean
        with np.errstate(invalid="ignore", divide="ignore"):
            return _restore_dims(ns, g, shape, dims, keepdim) * (c / c) * k
    return _restore_dims(ns, g, shape, dims, keepdim) * k * c


def _std_grad(ns, g, x, r, meta):
    shape, dims, keepdim, n, dof = meta
    rr = _restore_dims(ns, r, shape, dims, keepdim)
    # NOTE: where std is 0 all deviations are 0 too; the mask only avoids 0/0 (torch gives 0)
    return _restore_dims(ns, g, shape, dims, keepdim) * _centered(ns, x, dims, n) / \
        ((rr + ns.red_zeromask(rr)) * dof)


_var_meta = ("self_sym_sizes", "dim", "keepdim", "numel", "correction")
# (a 6th meta entry, unnamed: whether dim was None, see _var_grad)
VarBackward0 = node_class("VarBackward0", lambda ns, g, m, x: (_var_grad(ns, g, x, m[:5], m[5]),),
                          saved=("self",), meta=_var_meta)
StdBackward0 = node_class("StdBackward0", lambda ns, g, m, x, r: (_std_grad(ns, g, x, r, m),),
                          saved=("self", "result"), meta=_var_meta)


def _var_mean_rule(ns, g, meta, x):
    shape, dims, keepdim, n, dof, is_std = meta[:6]
    gv, gm = g
    out = None
    if gv is not None:
        if is_std:
            r = ns.sqrt(ns.sum(_centered(ns, x, dims, n) ** 2, dims, keepdims=True) / dof)
            gk = _unsqueeze_to(ns, gv, shape, dims, keepdim)
            out = _std_grad(ns, gk, x, r, (shape, dims, True, n, dof))
        else:
            out = _var_grad(ns, gv, x, meta[:5], meta[6])
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


@defop(nodes=(VarBackward0,), batch=_REDUCE, samples=[
    S((2, 3), np_ref=lambda x: x.var(ddof=1)),
    S((3, 2), args=(0,), kwargs={"unbiased": False}, id="biased"),
    S((2, 3), args=((0, 1),), kwargs={"correction": 2}, id="correction")])
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Variance with Bessel's correction by default; `correction=0` for the population one."""
    x, dims, n, dof, c, v = _var_args("var", input, dim, unbiased, keepdim, correction)
    return emit(v, VarBackward0, (input,), (input,),
                meta=(x.shape, dims, keepdim, n, dof, _every_dim(dim, x)), out=out)


@defop(nodes=(StdBackward0,), batch=_REDUCE, samples=[
    S((2, 3), np_ref=lambda x: x.std(ddof=1)),
    S((2, 3), args=(1,), kwargs={"keepdim": True}, id="dim"),
    S((3, 2), args=(0,), kwargs={"correction": 0}, id="correction")])
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Standard deviation; same arguments as var."""
    x, dims, n, dof, c, v = _var_args("std", input, dim, unbiased, keepdim, correction)
    s = np.sqrt(v)
    return emit(s, StdBackward0, (input,), (input, RESULT),
                meta=(x.shape, dims, keepdim, n, dof), out=out)


def _var_mean(name, is_std, cls):
    def fn(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
        x, dims, n, dof, c, v = _var_args(name.split("_")[0], input, dim, unbiased, keepdim,
                                          correction)
        m = np.mean(x, axis=dims, keepdims=keepdim) if n else \
            np.full(v.shape, np.nan, dtype=x.dtype)
        first = np.sqrt(v) if is_std else v
        if _rg(input):
            node = new_node(cls, (input,), (input,), meta=(x.shape, dims, keepdim, n, dof,
                                                           is_std, _every_dim(dim, x)))
            return with_tangents((_make(first, node, 0), _make(m, node, 1)), node, (input,))
        return (_make(first), _make(m))
    fn.__name__ = fn.__qualname__ = name
    return fn


var_mean = defop(_var_mean("var_mean", False, VarMeanBackward0), nodes=(VarMeanBackward0,),
                 batch=_REDUCE, samples=[S((2, 3), args=(1,))])
std_mean = defop(_var_mean("std_mean", True, StdMeanBackward0), nodes=(StdMeanBackward0,),
                 batch=_REDUCE, samples=[S((3, 2), args=(0,), kwargs={"keepdim": True}),
                                         S((2, 3), id="all")])


# -- logsumexp / norm / dist ------------------------------------------------------------
def _lse_rule(ns, g, meta, x, r):
    shape, dims, keepdim = meta
    rr = _restore_dims(ns, r, shape, dims, keepdim)
    return (_restore_dims(ns, g, shape, dims, keepdim) * ns.exp(x - rr),)


LogsumexpBackward0 = node_class("LogsumexpBackward0", _lse_rule, saved=("self", "result"),
                                meta=("self_sym_sizes", "dim", "keepdim"))


@defop(nodes=(LogsumexpBackward0,), batch=_REDUCE, samples=[
    S((2, 3), args=(1,), np_ref=lambda x: np.log(np.exp(x).sum(1))),
    S((2, 3), args=((0, 1),), kwargs={"keepdim": True}, id="all")])
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
    return emit(data, LogsumexpBackward0, (input,), (input, RESULT),
                meta=(x.shape, dims, keepdim), out=out)


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


def no_identity_check(a, ord, dims):
    """torch's error for a min/max-like norm (ord < 0 or inf) over an empty tensor (dims
    None: every dim) or an empty dim of `dims`."""
    if a.size or not (ord < 0 or ord == float("inf")):
        return
    for d in (None,) if dims is None else dims:
        if d is None or a.shape[d] == 0:
            where = ("on an empty tensor because the operation" if d is None else
                     f"on the dimension {d}because this dimension is empty and the operation")
            raise RuntimeError(f"linalg.vector_norm cannot compute the {float(ord):g} norm "
                               f"{where} does not have an identity")


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


@defop(nodes=(LinalgVectorNormBackward0,), batch=reduce_over(2), samples=[
    S((2, 3), np_ref=lambda x: np.sqrt((x * x).sum())), S((2, 3), kwargs={"dim": 1}, id="dim"),
    S((3, 2), kwargs={"p": 1, "dim": 0, "keepdim": True}, id="p1"),
    S((2, 3), kwargs={"p": 3}, id="p3"), S((2, 3), kwargs={"p": INF, "dim": 1}, id="inf")])
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
    no_identity_check(x, p, None if dim is None or not x.ndim else dims)
    data = _np_vector_norm(x, p, dims, keepdim)
    return emit(data, LinalgVectorNormBackward0, (input,), (input, RESULT),
                meta=(x.shape, dims, keepdim, p), out=out)


def _dist_rule(ns, g, p, a, b, r):
    d = a - b
    shape = ns.red_shape(d)
    gd = _norm_grad(ns, g, d, r, shape, tuple(range(len(shape))), False, p)
    if gd is None:
        return None, None
    return gd, -gd


DistBackward0 = node_class("DistBackward0", _dist_rule, saved=("self", "other", "result"),
                           meta=("p",))


@defop(nodes=(DistBackward0,), batch=composite(lambda lg, a, b, p=2: (a - b).norm(p)),
       samples=[S((2, 3), (3,), np_ref=lambda x, y: np.sqrt(((x - y) ** 2).sum())),
                S((2, 1), (1, 3), args=(3,), id="p3")])
def dist(input, other, p=2):
    """The p-norm of input - other (broadcast)."""
    a, b, x, y = binary_operands(input, other)
    b = to_tensor(b) if not isinstance(b, Tensor) else b
    diff = x - y
    if diff.dtype.kind not in "fc":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_legacy(diff.dtype)}")
    p = float(p) if not isinstance(p, int) else p
    data = _np_vector_norm(diff, p, tuple(range(diff.ndim)), False)
    return emit(data, DistBackward0, (a, b), (a, b, RESULT), meta=p, bcast=True)


__all__ = publish(globals())
