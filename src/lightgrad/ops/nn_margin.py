"""nn.functional's margin losses that torch computes in one kernel (F.soft_margin_loss,
F.multi_margin_loss, F.multilabel_margin_loss), each one NumPy computation plus one node
with torch's name (SoftMarginLossBackward0, ...), declared once with its rule; the other
margin losses are composites of public ops in nn/_functional/margin.py."""
import numpy as np

from .._tensor import _make
from .._graph.grad_mode import state as _state
from ._batching import per_example_loss
from ._core import Sample as S, defop, emit, node_class, ns_def, publish, record
from .inplace import _copy_shape_error
from .nn_activation import _LEGACY, _F, _float_data, _quiet
from .nn_loss import _ONLY, _reduce, _scale, legacy_reduction, reduction_enum

__all__ = []        # the ops are nn.functional's (F.<name>), imported there by name


def _legacy(dtype):
    return _LEGACY.get(dtype.name, dtype.name)


def _broadcast_shape(a, b):
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        return None


def _not_differentiable(fn, arg):
    raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument "
                       f"'{arg}'. This input cannot have requires_grad True.")


# -- soft_margin_loss ------------------------------------------------------------------------
def _soft_margin_rule(ns, g, m, x, t):
    red, n = m
    return -t * ns.sigmoid(-t * x) * (g * _scale(red, n)), None


SoftMarginLossBackward0 = node_class("SoftMarginLossBackward0", _soft_margin_rule,
                                     saved=("self", "target"), meta=("reduction", "numel"))


def _signs(shape, rng):
    return rng.choice([-1.0, 1.0], shape)


@defop(name="F.soft_margin_loss", nodes=(SoftMarginLossBackward0,), batch=per_example_loss(4),
       samples=[
           S(make_inputs=lambda rng: [rng.standard_normal((2, 3)), _signs((2, 3), rng)],
             nondiff=(1,)),
           S(make_inputs=lambda rng: [rng.standard_normal((2, 3)), _signs((3,), rng)],
             nondiff=(1,), kwargs={"reduction": "none"}, id="none-bcast")])
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)) for targets of +-1, reduced."""
    reduction = legacy_reduction(size_average, reduce, reduction, stacklevel=4)
    red = reduction_enum(reduction)
    x = _float_data(input, "soft_margin_loss")
    y = target._data
    if x.shape != y.shape and _broadcast_shape(x.shape, y.shape) != x.shape:
        raise _copy_shape_error(x.shape, y.shape)   # torch writes into an input-shaped output
    if _state.grad_enabled and target._rg:
        _not_differentiable("soft_margin_loss", "target")
    with _quiet():
        elems = np.log1p(np.exp(-x * y)).astype(x.dtype, copy=False)
    data = _reduce(elems, red)
    return emit(data, SoftMarginLossBackward0, (input, target), (input, target), (red, x.size))


# -- multi_margin_loss, multilabel_margin_loss -------------------------------------------------
def _check_matrix(x):
    """(nframe, dim) of a (N, C), (C,) or 0-d input, as torch's margin kernels take it."""
    nd = x.ndim
    if not (nd == 2 and x.shape[1] != 0 or nd == 1 and x.shape[0] != 0 or nd == 0):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {list(x.shape)}")
    if nd <= 1:
        return 1, x.shape[0] if nd else 1
    return x.shape


def _check_long(t):
    if t.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {_legacy(t.dtype)}")


def _np_margin_grad(g, m):
    coef, gshape, in_shape = m[:3]
    return np.reshape(np.reshape(g, gshape) * coef, in_shape)


def _t_margin_grad(g, m):
    coef, gshape, in_shape = m[:3]
    return (g.reshape(gshape) * _make(coef)).reshape(in_shape)


# the gradient of a loss that is piecewise linear in input: a constant matrix times g
ns_def("margin_grad", _np_margin_grad, _t_margin_grad)


def _multi_margin_rule(ns, g, m, x):
    coef, gshape, in_shape, margin, onehot = m
    if onehot is None:                  # p == 1: piecewise linear
        return ns.margin_grad(g, m), None, None
    xm = ns.reshape(x, coef.shape)
    z = margin - ns.sum(xm * onehot, -1, True) + xm
    d = ns.reshape(g, gshape) * coef * z * 2.0
    return ns.reshape(d - ns.sum(d, -1, True) * onehot, in_shape), None, None


MultiMarginLossBackward0 = node_class("MultiMarginLossBackward0", _multi_margin_rule,
                                      saved=("self",),
                                      meta=("coef", "grad_shape", "self_sym_sizes", "margin",
                                            "onehot"))


def _out(per, red, none_shape):
    if red == 0:
        return per.reshape(none_shape)
    return _reduce(per, red)


def _mm_inputs(rng):
    return [rng.standard_normal((3, 4)), np.array([0, 3, 1])]


@defop(name="F.multi_margin_loss", nodes=(MultiMarginLossBackward0,),
       batch=per_example_loss(7, per_sample=True), samples=[
           S(make_inputs=_mm_inputs),
           S(make_inputs=lambda rng: _mm_inputs(rng) + [rng.uniform(0.5, 2.0, 4)],
             call=lambda m, x, t, w: _F(m).multi_margin_loss(x, t, p=2, margin=0.8, weight=w,
                                                             reduction="none"),
             nondiff=(2,), id="p2-weight-none", vmap_refused=_ONLY),
           S(make_inputs=lambda rng: [rng.standard_normal(4), np.array(2)],
             kwargs={"reduction": "sum"}, id="1d-sum")])
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """Multi-class hinge loss: sum over i != y of w[y] max(0, margin - x[y] + x[i]) ** p / C,
    per sample."""
    reduction = legacy_reduction(size_average, reduce, reduction, stacklevel=4)
    red = reduction_enum(reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    x = _float_data(input, "multi_margin_loss_cpu_kernel")
    nframe, dim = _check_matrix(x)
    t = target._data
    if t.ndim > 1 or t.size != nframe:
        raise RuntimeError("multi_margin_loss: target tensor should be 1-D with size equal to the "
                           "number of input samples (batch size). Expected target size "
                           f"[{nframe}], but got {list(t.shape)}. Input has shape "
                           f"{list(x.shape)}.")
    _check_long(t)
    if weight is not None:
        w = weight._data
        if w.ndim > 1 or w.size != dim:
            raise RuntimeError(f"inconsistent weight size, expected {dim} but got "
                               f"{list(w.shape)}")
        if w.dtype != x.dtype:
            raise RuntimeError(f"expected scalar type {_legacy(x.dtype)} but found "
                               f"{_legacy(w.dtype)}")
        if _state.grad_enabled and weight._rg:
            _not_differentiable("multi_margin_loss", "weight")
    ts = t.reshape(nframe)
    if ts.size and (ts.min() < 0 or ts.max() >= dim):
        raise RuntimeError("target out of range")
    xm = x.reshape(nframe, dim)
    rows = np.arange(nframe)
    onehot = np.zeros((nframe, dim), x.dtype)
    onehot[rows, ts] = 1
    z = margin - xm[rows, ts][:, None] + xm
    act = (z > 0) & (onehot == 0)
    coef = act.astype(x.dtype) / dim
    if weight is not None:
        coef = coef * w[ts][:, None]
    per = (coef * (z if p == 1 else z * z)).sum(1)
    data = _out(per, red, (nframe,) if x.ndim == 2 else t.shape).astype(x.dtype, copy=False)
    if _state.grad_enabled and input._rg:
        if red == 1:
            coef = coef / nframe
        gshape = (nframe, 1) if red == 0 else ()
        if p == 1:      # the whole gradient per unit of g: +coef at i, -sum at the target
            meta = (coef - coef.sum(1, keepdims=True) * onehot, gshape, x.shape, margin, None)
        else:
            meta = (coef, gshape, x.shape, margin, onehot)
        return record(data, MultiMarginLossBackward0, (input, target, weight), (input,), meta)
    return _make(data)


MultilabelMarginLossBackward0 = node_class(
    "MultilabelMarginLossBackward0", lambda ns, g, m: (ns.margin_grad(g, m), None),
    meta=("coef", "grad_shape", "self_sym_sizes"))


def _mlm_inputs(rng):
    return [rng.standard_normal((3, 4)), np.array([[3, 0, -1, 1], [1, 2, 3, 0], [2, -1, 0, 0]])]


@defop(name="F.multilabel_margin_loss", nodes=(MultilabelMarginLossBackward0,),
       batch=per_example_loss(4, per_sample=True), samples=[
           S(make_inputs=_mlm_inputs),
           S(make_inputs=_mlm_inputs, kwargs={"reduction": "none"}, id="none"),
           S(make_inputs=lambda rng: [rng.standard_normal(4), np.array([2, 0, -1, 3])],
             kwargs={"reduction": "sum"}, id="1d-sum")])
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Hinge loss between each target class (listed in `target` up to the first -1) and each
    other class: for each sample, the sum over its target classes j and the classes i that
    are no target of max(0, 1 - x[j] + x[i]), divided by C."""
    reduction = legacy_reduction(size_average, reduce, reduction, stacklevel=4)
    red = reduction_enum(reduction)
    x = _float_data(input, "multilabel_margin_loss_forward_out_frame")
    nframe, dim = _check_matrix(x)
    t = target._data
    if x.ndim <= 1:
        ok = t.ndim <= 1 and t.size == dim
    else:
        ok = t.ndim == 2 and t.shape == x.shape
    if not ok:
        raise RuntimeError(f"inconsistent target size: {list(t.shape)} for input of size: "
                           f"{list(x.shape)}")
    _check_long(t)
    if t.size and (t.min() < -1 or t.max() >= dim):
        raise RuntimeError("argument #2 'target' is out of range")
    xm = x.reshape(nframe, dim)
    tm = t.reshape(nframe, dim)
    valid = np.cumsum(tm < 0, axis=1) == 0      # the targets before the first -1
    tsafe = np.where(valid, tm, 0)
    is_target = np.zeros((nframe, dim), bool)
    is_target[np.nonzero(valid)[0], tm[valid]] = True
    xt = np.take_along_axis(xm, tsafe, 1)
    z = 1 - xt[:, :, None] + xm[:, None, :]    # (sample, target slot, class)
    act = (z > 0) & valid[:, :, None] & ~is_target[:, None, :]
    per = np.where(act, z, 0).sum((1, 2)) / dim
    data = _out(per, red, (nframe,) if x.ndim == 2 else ()).astype(x.dtype, copy=False)
    if _state.grad_enabled and input._rg:
        # d loss / d x[i] = #active pairs with class i, minus #active pairs with target x[i]
        pairs = act.sum(2).astype(x.dtype)
        coef = act.sum(1).astype(x.dtype)
        np.add.at(coef, (np.nonzero(valid)[0], tm[valid]), -pairs[valid])
        coef = coef / (dim * (nframe if red == 1 else 1))
        gshape = (nframe, 1) if red == 0 else ()
        return record(data, MultilabelMarginLossBackward0, (input, target), (),
                      (coef, gshape, x.shape))
    return _make(data)


publish(globals())   # each op here bound to its public function, which dispatches under vmap
