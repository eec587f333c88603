"""Normalization of nn.functional: F.batch_norm, F.instance_norm, F.layer_norm and
F.group_norm, fused primitives with hand-written rules, declared with torch's signature.

All three normalize a view of the input over some axes, then scale and shift per parameter:
    xhat = (x - mean) * rstd,  y = xhat * weight + bias.
One rule serves them; the statistics come from `ns.norm_stats`, which returns the forward's
cached arrays on the fast path and recomputes them differentiably under create_graph, so
gradients of gradients flow through the statistics too.
"""
import numbers

import numpy as np

from .._tensor import Tensor, _make
from .._graph.grad_mode import no_grad
from ._batching import arg, fold_into_batch, leading_batch_needs, vmap_error
from .._graph.graph import NP
from ._core import Sample as S, defop, emit, node_class, ns_def, publish

__all__ = []        # the ops are nn.functional's (F.<name>), imported there by name


def _rg(t):
    return isinstance(t, Tensor) and t._rg


def _np_stats(xv, axes, eps, cache):
    return cache


def _t_stats(xv, axes, eps, cache):
    mu = xv.mean(axes, keepdim=True)
    d = xv - mu
    var = (d * d).mean(axes, keepdim=True)
    return mu, (var + eps) ** -0.5


ns_def("norm_stats", _np_stats, _t_stats)
ns_def("nconst", lambda a: a, lambda a: _make(a))


def _norm_rule(ns, g, meta, x, w):
    """meta: view shape, stat axes (in the view), param shape (broadcast against x),
    param-reduction axes (in x), eps, cached (mean, rstd), needs (x, w, b)."""
    vshape, axes, pshape, paxes, eps, cache, (nx, nw, nb), xshape, wshape = meta
    if ns is NP and axes == paxes and vshape == xshape:
        return _batch_norm_grads(g, x, w, cache, axes, pshape, wshape, nx, nw, nb)
    gx = gw = gb = None
    if nb:
        gb = ns.sum(g, paxes)
    if not (nx or nw):
        return gx, gw, gb
    xv = ns.reshape(x, vshape)
    mu, rstd = ns.norm_stats(xv, axes, eps, cache)
    xhat_v = (xv - mu) * rstd
    if nw:
        gw = ns.reshape(ns.sum(g * ns.reshape(xhat_v, xshape), paxes), wshape)
    if nx:
        gxh = g if w is None else g * ns.reshape(w, pshape)
        gv = ns.reshape(gxh, vshape)
        n = 1
        for a in axes:
            n *= vshape[a]
        m1 = ns.sum(gv, axes, True) / n
        m2 = ns.sum(gv * xhat_v, axes, True) / n
        gx = ns.reshape(rstd * (gv - m1 - xhat_v * m2), xshape)
    return gx, gw, gb


def _batch_norm_grads(g, x, w, cache, axes, pshape, wshape, nx, nw, nb):
    """_norm_rule for batch norm on arrays, where the statistics and the parameters share
    their axes: the three gradients from two reductions of g, in place where the
    temporaries allow (about half the passes over the input of the general rule):
    gx = rstd w (g - sum(g) / n - xhat sum(g xhat) / n)."""
    mu, rstd = cache
    gb = g.sum(axes)
    if not (nx or nw):
        return None, None, gb
    xhat = x - mu
    xhat *= rstd
    gw = (g * xhat).sum(axes)
    gx = None
    if nx:
        n = g.size // max(gb.size, 1)
        xhat *= (gw / n).reshape(pshape)
        gx = g - xhat
        gx -= (gb / n).reshape(pshape)
        gx *= rstd if w is None else rstd * w.reshape(pshape)
    return gx, gw.reshape(wshape) if nw else None, gb if nb else None


def _norm_eval_rule(ns, g, meta, x, w):
    """Batch norm with fixed (running) statistics: an affine map of x."""
    pshape, paxes, mean, rstd, (nx, nw, nb), wshape = meta
    gx = gw = gb = None
    if nb:
        gb = ns.sum(g, paxes)
    if nw:
        xhat = (x - ns.nconst(mean)) * ns.nconst(rstd)
        gw = ns.reshape(ns.sum(g * xhat, paxes), wshape)
    if nx:
        s = ns.nconst(rstd) if w is None else ns.reshape(w, pshape) * ns.nconst(rstd)
        gx = g * s
    return gx, gw, gb


_META = ("args",)
BatchNorm = node_class("NativeBatchNormBackward0", _norm_rule, ("input", "weight"), _META)
BatchNormEval = node_class("NativeBatchNormBackward0", _norm_eval_rule, ("input", "weight"),
                           _META)
LayerNorm = node_class("NativeLayerNormBackward0", _norm_rule, ("input", "weight"), _META)
GroupNorm = node_class("NativeGroupNormBackward0", _norm_rule, ("input", "weight"), _META)


def _float(x):
    d = x._data
    if d.dtype.kind not in "fc":
        raise RuntimeError(f"expected scalar type Float but found {x.dtype._legacy}")
    return d


def _normalize(x, w, b, vshape, axes, pshape, paxes, eps, cls):
    xd = _float(x)
    xv = xd.reshape(vshape)
    vshape = xv.shape
    mu = xv.mean(axes, keepdims=True)
    d = xv - mu
    var = (d * d).mean(axes, keepdims=True)
    rstd = 1.0 / np.sqrt(var + eps)
    y = np.multiply(d, rstd, out=d).reshape(xd.shape)   # d is fresh: scale it in place
    if w is not None:
        y *= w._data.reshape(pshape)
    if b is not None:
        y += b._data.reshape(pshape)
    needs = (x._rg, _rg(w), _rg(b))
    meta = (vshape, axes, pshape, paxes, eps, (mu, rstd), needs, xd.shape,
            None if w is None else tuple(w.shape))
    saved = (x if needs[0] or needs[1] else None, w if needs[0] else None)
    return emit(y, cls, (x, w, b), saved, meta), mu, var


def _finish(r):
    return r[0]


def _check_param(name, t, C):
    if t is not None and t.numel() != C:
        raise RuntimeError(f"{name} should contain {C} elements not {t.numel()}")


# -- vmap ----------------------------------------------------------------------------------
def _batch_norm_rule(c, args, kwargs):
    """batch_norm with running statistics (training=False) normalizes each element alone;
    in training mode its statistics would mix the examples, so it is refused."""
    if arg(args, kwargs, 5, "training", False):
        raise vmap_error("F.batch_norm in training mode has no batching rule: its batch "
                         "statistics would mix the examples; use the running statistics "
                         "(training=False) or a norm without batch statistics")
    return _FOLD(c, args, kwargs)


def _layer_norm_check(c, x, args, kwargs):
    """layer_norm treats leading dims as a batch, but each example must have the dims it
    normalizes over (or the batch dim would join them)."""
    if len(tuple(arg(args, kwargs, 1, "normalized_shape"))) > x.dim():
        raise RuntimeError("layer_norm: normalized_shape has more dims than the input")


_FOLD = fold_into_batch(2)
_LEADING = leading_batch_needs(_layer_norm_check)


def _bn_eval(m, x, w, b):
    rm = m.tensor([0.1, -0.2], dtype=m.float64)
    rv = m.tensor([0.5, 2.0], dtype=m.float64)
    return m.nn.functional.batch_norm(x, rm, rv, w, b, training=False)


_TRAINING = "in training mode has no batching rule"
_AFFINE = "has a batching rule for a batched input only"    # the samples batch weight, bias


# -- the public ops ------------------------------------------------------------------------
@defop(name="F.batch_norm", nodes=(BatchNorm,), batch=_batch_norm_rule, samples=[
    S((3, 2, 2), (2,), (2,), call=lambda m, x, w, b: m.nn.functional.batch_norm(
        x, None, None, w, b, training=True), vmap_refused=_TRAINING),
    S((4, 3), call=lambda m, x: m.nn.functional.batch_norm(x, None, None, training=True),
      id="2d-noaffine", vmap_refused=_TRAINING),
    S((2, 2, 3), (2,), (2,), call=_bn_eval, id="eval", vmap_refused=_AFFINE),
    S((2, 2, 3), (2,), (2,), call=_bn_eval, nondiff=(1, 2), id="eval-input-batched")])
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-05):
    """Batch normalization over all dims but the channel dim (1); in training, the running
    statistics are updated in place with `momentum` (the variance unbiased, as torch)."""
    x = input
    if x.ndim < 2:
        raise ValueError(f"Expected 2D or 3D input (got {x.ndim}D input)")
    C = x.shape[1]
    _check_param("running_mean", running_mean, C)
    _check_param("running_var", running_var, C)
    _check_param("weight", weight, C)
    _check_param("bias", bias, C)
    axes = (0,) + tuple(range(2, x.ndim))
    pshape = (1, C) + (1,) * (x.ndim - 2)
    shape = tuple(x.shape)
    if training:
        n = x.numel() // C
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got "
                             f"input size {x.shape}")
        r = _normalize(x, weight, bias, shape, axes, pshape, axes, eps, BatchNorm)
        if running_mean is not None or running_var is not None:
            _, mu, var = r
            m = 0.0 if momentum is None else momentum
            # NOTE: torch writes the running statistics without bumping their version
            if running_mean is not None:
                rm = running_mean._data
                rm[...] = (1 - m) * rm + m * mu.reshape(C)
            if running_var is not None:
                rv = running_var._data
                rv[...] = (1 - m) * rv + m * var.reshape(C) * (n / (n - 1))
        return _finish(r)
    if running_mean is None or running_var is None:
        raise RuntimeError("running_mean must be defined in evaluation mode")
    xd = _float(x)
    mean = running_mean._data.reshape(pshape).astype(xd.dtype, copy=False)
    rstd = (1.0 / np.sqrt(running_var._data + eps)).reshape(pshape).astype(xd.dtype,
                                                                           copy=False)
    scale = rstd if weight is None else rstd * weight._data.reshape(pshape)
    y = (xd - mean) * scale
    if bias is not None:
        y = y + bias._data.reshape(pshape)
    y = y.astype(xd.dtype, copy=False)
    needs = (x._rg, _rg(weight), _rg(bias))
    return emit(y, BatchNormEval, (x, weight, bias),
                (x if needs[1] else None, weight if needs[0] else None),
                (pshape, axes, mean, rstd, needs, None if weight is None else tuple(weight.shape)))


@defop(name="F.instance_norm", nodes=(BatchNorm,), batch=_FOLD, samples=[S((2, 2, 4))])
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-05):
    """Normalization of each (sample, channel) plane over its spatial dims."""
    N, C = input.shape[:2]
    x = input.reshape(1, N * C, *input.shape[2:])
    rm = None if running_mean is None else running_mean.repeat(N)
    rv = None if running_var is None else running_var.repeat(N)
    w = None if weight is None else weight.repeat(N)
    b = None if bias is None else bias.repeat(N)
    y = batch_norm(x, rm, rv, w, b, use_input_stats, momentum, eps)
    if use_input_stats and running_mean is not None:
        with no_grad():
            running_mean.copy_(rm.reshape(N, C).mean(0))
            running_var.copy_(rv.reshape(N, C).mean(0))
    return y.view(input.shape)


@defop(name="F.layer_norm", nodes=(LayerNorm,), batch=_LEADING, samples=[
    S((2, 3), (3,), (3,), call=lambda m, x, w, b: m.nn.functional.layer_norm(x, (3,), w, b),
      vmap_refused="with a batched argument other than the first has no batching rule"),
    S((2, 2, 3), args=((2, 3),), id="2dims"),
    S((2, 3), (3,), (3,), call=lambda m, x, w, b: m.nn.functional.layer_norm(x, (3,), w, b),
      nondiff=(1, 2), id="input-batched")])
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """Normalization over the last len(normalized_shape) dims."""
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    x = input
    k = len(normalized_shape)
    if tuple(x.shape[x.ndim - k:]) != tuple(normalized_shape) or k > x.ndim:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input "
                           f"with shape [*, {', '.join(map(str, normalized_shape))}], but got "
                           f"input of size{list(x.shape)}")
    for t, what in ((weight, "weight"), (bias, "bias")):
        if t is not None and tuple(t.shape) != tuple(normalized_shape):
            raise RuntimeError(f"Expected {what} to be of same shape as normalized_shape, but "
                               f"got {what} of shape {list(t.shape)} and normalized_shape = "
                               f"{list(normalized_shape)}")
    shape = tuple(x.shape)
    axes = tuple(range(x.ndim - k, x.ndim))
    paxes = tuple(range(x.ndim - k))
    return _finish(_normalize(x, weight, bias, shape, axes, tuple(normalized_shape), paxes,
                              eps, LayerNorm))


@defop(name="F.group_norm", nodes=(GroupNorm,), batch=_FOLD, samples=[
    S((2, 4, 3), (4,), (4,), call=lambda m, x, w, b: m.nn.functional.group_norm(x, 2, w, b),
      vmap_refused=_AFFINE),
    S((2, 4, 3), (4,), (4,), call=lambda m, x, w, b: m.nn.functional.group_norm(x, 2, w, b),
      nondiff=(1, 2), id="input-batched")])
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """Normalization over groups of channels (and all spatial dims)."""
    x, G = input, num_groups
    if x.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{x.ndim}")
    N, C = x.shape[:2]
    if C % G:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(x.shape)} and "
                           f"num_groups={G}")
    for t, what in ((weight, "weight"), (bias, "bias")):
        if t is not None and (t.ndim != 1 or t.numel() != C):
            raise RuntimeError(f"Expected {what} to be a vector of size equal to the number "
                               f"of channels in input, but got {what} of shape "
                               f"{list(t.shape)} and input of shape {list(x.shape)}")
    pshape = (1, C) + (1,) * (x.ndim - 2)
    paxes = (0,) + tuple(range(2, x.ndim))
    return _finish(_normalize(x, weight, bias, (N, G, -1), (2,), pshape, paxes, eps,
                              GroupNorm))


publish(globals())   # each op here bound to its public function, which dispatches under vmap
