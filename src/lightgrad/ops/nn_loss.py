"""Primitives behind nn.functional's activations, losses and embedding.

Each op is one NumPy computation plus one node with torch's name (GeluBackward0,
NllLossBackward0, ...) and a hand-written rule over the rule namespace, so gradients of
gradients work (see ops/_core.py). Composite functions (softsign, kl_div, label smoothing)
live in nn/_functional/basic.py and use only public ops.
"""
import math

import numpy as np

from .._tensor import _make
from ..autograd import forward_ad
from ..autograd.grad_mode import state as _state
from ._core import RESULT, declare, node_class, ns_def, record
from ._erf import np_erf
from .elementwise import erf as _t_erf

__all__ = []

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_K_TANH = math.sqrt(2.0 / math.pi)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946

_LEGACY = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
           "bool": "Bool", "float16": "Half", "float32": "Float", "float64": "Double"}


def _float_data(input, kernel):
    x = input._data
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_LEGACY.get(x.dtype.name, x.dtype.name)}'")
    return x


def _unary(input, data, cls, meta=None, save=None):
    """The output of a one-input activation, recorded with `cls` when input needs grad."""
    if _state.grad_enabled and input._rg:
        return record(data, cls, (input,), (input,) if save is None else save, meta)
    return _make(data)


def _quiet():
    return np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore")


# -- leaky_relu, elu, celu, selu -----------------------------------------------------------
LeakyReluBackward0 = node_class(
    "LeakyReluBackward0", lambda ns, g, slope, x: (ns.where(x > 0, g, g * slope),),
    saved=("self",), meta=("negative_slope",))


# the in-place forms (leaky_relu_, elu_, ...) save their result instead: torch's *Backward1
LeakyReluBackward1 = node_class(
    "LeakyReluBackward1", lambda ns, g, slope, r: (ns.where(r > 0, g, g * slope),),
    saved=("result",), meta=("negative_slope",))


def leaky_relu(input, negative_slope=0.01, _inplace=False):
    x = _float_data(input, "leaky_relu_cpu")
    data = np.where(x > 0, x, x * negative_slope).astype(x.dtype, copy=False)
    if _inplace:
        return _unary(input, data, LeakyReluBackward1, negative_slope, (RESULT,))
    return _unary(input, data, LeakyReluBackward0, negative_slope)


def _elu_rule(ns, g, m, x):
    alpha, scale, input_scale = m
    # NOTE: exp of the clamped input, so large positive x cannot overflow in the dead branch
    neg = ns.exp(ns.where(x > 0, 0.0, x) * input_scale) * (alpha * scale * input_scale)
    return (ns.where(x > 0, g * scale, g * neg),)


EluBackward0 = node_class("EluBackward0", _elu_rule, saved=("self",),
                          meta=("alpha", "scale", "input_scale"))
CeluBackward0 = node_class("CeluBackward0", _elu_rule, saved=("self",),
                           meta=("alpha", "scale", "input_scale"))


def _elu_result_rule(ns, g, m, r):
    alpha, scale, input_scale = m
    return (ns.where(r > 0, g * scale, g * ((r + alpha * scale) * input_scale)),)


EluBackward1 = node_class("EluBackward1", _elu_result_rule, saved=("result",),
                          meta=("alpha", "scale", "input_scale"))
CeluBackward1 = node_class("CeluBackward1", _elu_result_rule, saved=("result",),
                           meta=("alpha", "scale", "input_scale"))
_ELU_INPLACE = {EluBackward0: EluBackward1, CeluBackward0: CeluBackward1}


def _elu_data(x, alpha, scale, input_scale):
    with _quiet():
        neg = np.expm1(np.minimum(x, 0) * input_scale) * (alpha * scale)
    return np.where(x > 0, x * scale, neg).astype(x.dtype, copy=False)


def elu(input, alpha=1.0, scale=1.0, input_scale=1.0, _cls=EluBackward0, _inplace=False):
    x = _float_data(input, "elu_cpu")
    m = (alpha, scale, input_scale)
    if _inplace:
        return _unary(input, _elu_data(x, *m), _ELU_INPLACE[_cls], m, (RESULT,))
    return _unary(input, _elu_data(x, *m), _cls, m)


def selu(input, _inplace=False):
    return elu(input, _SELU_ALPHA, _SELU_SCALE, 1.0, _inplace=_inplace)


def celu(input, alpha=1.0, _inplace=False):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return elu(input, alpha, 1.0, 1.0 / alpha, _cls=CeluBackward0, _inplace=_inplace)


# -- gelu ------------------------------------------------------------------------------------
ns_def("erf", np_erf, _t_erf)


def _gelu_rule(ns, g, approximate, x):
    if approximate == "tanh":
        x2 = x * x
        t = ns.tanh((x + x2 * x * 0.044715) * _K_TANH)
        d = (t + 1) * 0.5 + x * (1 - t * t) * ((x2 * (3 * 0.044715) + 1) * (0.5 * _K_TANH))
        return (g * d,)
    cdf = (ns.erf(x * (1 / _SQRT2)) + 1) * 0.5
    pdf = ns.exp(x * x * -0.5) * _INV_SQRT_2PI
    return (g * (cdf + x * pdf),)


GeluBackward0 = node_class("GeluBackward0", _gelu_rule, saved=("self",), meta=("approximate",))


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    x = _float_data(input, "GeluKernelImpl")
    if approximate == "tanh":
        data = 0.5 * x * (1 + np.tanh(_K_TANH * (x + 0.044715 * x * x * x)))
    else:
        data = 0.5 * x * (1 + np_erf(x * (1 / _SQRT2)))
    return _unary(input, data.astype(x.dtype, copy=False), GeluBackward0, approximate)


# -- silu, mish, softplus, logsigmoid ---------------------------------------------------------
def _np_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _silu_rule(ns, g, m, x):
    s = ns.sigmoid(x)
    return (g * s * (x * (1 - s) + 1),)


SiluBackward0 = node_class("SiluBackward0", _silu_rule, saved=("self",))


def silu(input):
    x = _float_data(input, "silu_cpu")
    return _unary(input, x * _np_sigmoid(x), SiluBackward0)


def _np_softplus(x):
    return np.logaddexp(0, x).astype(x.dtype, copy=False)


def _softplus_rule(ns, g, m, x):
    beta, threshold = m
    z = x * beta
    return (ns.where(z > threshold, g, g * ns.sigmoid(z)),)


SoftplusBackward0 = node_class("SoftplusBackward0", _softplus_rule, saved=("self",),
                               meta=("beta", "threshold"))


def softplus(input, beta=1.0, threshold=20.0):
    x = _float_data(input, "softplus_cpu")
    z = x * beta
    data = np.where(z > threshold, x, _np_softplus(z) / beta).astype(x.dtype, copy=False)
    return _unary(input, data, SoftplusBackward0, (beta, threshold))


ns_def("softplus", _np_softplus, lambda x: softplus(x))


def _mish_rule(ns, g, m, x):
    t = ns.tanh(ns.softplus(x))
    return (g * (t + x * (1 - t * t) * ns.sigmoid(x)),)


MishBackward0 = node_class("MishBackward0", _mish_rule, saved=("self",))


def mish(input):
    x = _float_data(input, "mish_cpu")
    return _unary(input, x * np.tanh(_np_softplus(x)), MishBackward0)


LogSigmoidBackward0 = node_class("LogSigmoidBackward0",
                                 lambda ns, g, m, x: (g * ns.sigmoid(-x),), saved=("self",))


def logsigmoid(input):
    x = _float_data(input, "log_sigmoid_cpu")
    data = (np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))).astype(x.dtype, copy=False)
    return _unary(input, data, LogSigmoidBackward0)


# -- piecewise linear: hardtanh, hardswish, hardsigmoid, threshold, shrinks -----------------
HardtanhBackward0 = node_class(
    "HardtanhBackward0",
    lambda ns, g, m, x: (ns.where((x > m[0]) & (x < m[1]), g, 0.0),),
    saved=("self",), meta=("min_val", "max_val"))


def hardtanh(input, min_val=-1.0, max_val=1.0):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    x = _float_data(input, "hardtanh_cpu") if input._data.dtype.kind != "i" else input._data
    return _unary(input, np.clip(x, min_val, max_val), HardtanhBackward0, (min_val, max_val))


HardswishBackward0 = node_class(
    "HardswishBackward0",
    lambda ns, g, m, x: (ns.where(x <= -3, 0.0, ns.where(x < 3, g * (x / 3 + 0.5), g)),),
    saved=("self",))


def hardswish(input):
    x = _float_data(input, "hardswish_cpu")
    return _unary(input, x * np.clip(x + 3, 0, 6) / 6, HardswishBackward0)


HardsigmoidBackward0 = node_class(
    "HardsigmoidBackward0",
    lambda ns, g, m, x: (ns.where((x > -3) & (x < 3), g / 6, 0.0),), saved=("self",))


def hardsigmoid(input):
    x = _float_data(input, "hardsigmoid_cpu")
    return _unary(input, np.clip(x + 3, 0, 6) / 6, HardsigmoidBackward0)


ThresholdBackward0 = node_class("ThresholdBackward0",
                                lambda ns, g, th, x: (ns.where(x > th, g, 0.0),),
                                saved=("self",), meta=("threshold",))


ThresholdBackward1 = node_class("ThresholdBackward1",
                                lambda ns, g, th, r: (ns.where(r > th, g, 0.0),),
                                saved=("result",), meta=("threshold",))


def threshold(input, threshold, value, _inplace=False):
    x = input._data
    data = np.where(x > threshold, x, value).astype(x.dtype, copy=False)
    if _inplace:
        return _unary(input, data, ThresholdBackward1, threshold, (RESULT,))
    return _unary(input, data, ThresholdBackward0, threshold)


HardshrinkBackward0 = node_class(
    "HardshrinkBackward0", lambda ns, g, lambd, x: (ns.where((x > lambd) | (x < -lambd), g, 0.0),),
    saved=("self",), meta=("lambd",))
SoftshrinkBackward0 = node_class(
    "SoftshrinkBackward0", lambda ns, g, lambd, x: (ns.where((x > lambd) | (x < -lambd), g, 0.0),),
    saved=("self",), meta=("lambd",))


def hardshrink(input, lambd=0.5):
    x = _float_data(input, "hardshrink_cpu")
    data = np.where((x > lambd) | (x < -lambd), x, 0).astype(x.dtype, copy=False)
    return _unary(input, data, HardshrinkBackward0, lambd)


def softshrink(input, lambd=0.5):
    if lambd < 0:
        raise RuntimeError("lambda must be greater or equal to 0, but found to be "
                           f"{float(lambd)}.")
    x = _float_data(input, "softshrink_cpu")
    data = np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0))
    return _unary(input, data.astype(x.dtype, copy=False), SoftshrinkBackward0, lambd)


# -- glu -------------------------------------------------------------------------------------
def _glu_rule(ns, g, m, x):
    d, ka, kb = m
    a, b = ns.getitem(x, ka), ns.getitem(x, kb)
    s = ns.sigmoid(b)
    ga = g * s
    return (ns.cat([ga, ga * a * (1 - s)], d),)


GluBackward0 = node_class("GluBackward0", _glu_rule, saved=("self",), meta=("dim",))


def glu(input, dim=-1):
    x = _float_data(input, "glu")
    if x.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim % x.ndim if -x.ndim <= dim < x.ndim else None
    if d is None:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-x.ndim}, "
                         f"{x.ndim - 1}], but got {dim})")
    n = x.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    ka = (slice(None),) * d + (slice(0, n // 2),)
    kb = (slice(None),) * d + (slice(n // 2, n),)
    data = x[ka] * _np_sigmoid(x[kb])
    return _unary(input, data, GluBackward0, (d, ka, kb))


declare("leaky_relu", "LeakyReluBackward0")
declare("leaky_relu_", "LeakyReluBackward1")
declare("elu selu", "EluBackward0")
declare("elu_ selu_", "EluBackward1")
declare("celu", "CeluBackward0")
declare("celu_", "CeluBackward1")
declare("threshold_", "ThresholdBackward1")
declare("gelu", "GeluBackward0")
declare("silu", "SiluBackward0")
declare("mish", "MishBackward0")
declare("softplus", "SoftplusBackward0")
declare("logsigmoid", "LogSigmoidBackward0")
declare("hardtanh relu6", "HardtanhBackward0")
declare("hardswish", "HardswishBackward0")
declare("hardsigmoid", "HardsigmoidBackward0")
declare("threshold", "ThresholdBackward0")
declare("hardshrink", "HardshrinkBackward0")
declare("softshrink", "SoftshrinkBackward0")
declare("glu", "GluBackward0")


# -- losses: shared reduction handling --------------------------------------------------------
_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


def reduction_enum(reduction):
    r = _REDUCTIONS.get(reduction)
    if r is None:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return r


def _reduce(elems, red):
    if red == 1:
        return np.asarray(elems.mean())
    if red == 2:
        return np.asarray(elems.sum())
    return elems


def _scale(red, n):
    """What the upstream gradient of a reduced loss is multiplied by, per element."""
    return 1.0 / n if red == 1 and n else 1.0


def _pair(input, target):
    """Arrays of input and target in input's float dtype (torch promotes; shapes must
    broadcast)."""
    x = input._data
    y = target._data
    if y.dtype != x.dtype:
        y = y.astype(np.result_type(x.dtype, y.dtype))
        if x.dtype != y.dtype:
            x = x.astype(y.dtype)
    return x, y


def _rg2(a, b):
    return _state.grad_enabled and (a._rg or b._rg)


# -- mse, smooth_l1, huber ------------------------------------------------------------------
def _mse_rule(ns, g, m, x, t):
    red, n = m
    gx = (x - t) * (g * (2.0 * _scale(red, n)))
    return gx, -gx


MseLossBackward0 = node_class("MseLossBackward0", _mse_rule, saved=("self", "target"),
                              meta=("reduction", "numel"))


def mse_loss(input, target, reduction="mean"):
    red = reduction_enum(reduction)
    x, y = _pair(input, target)
    d = x - y
    data = _reduce(d * d, red)
    if _rg2(input, target):
        return record(data, MseLossBackward0, (input, target), (input, target), (red, d.size))
    return _make(data)


def _smooth_l1_rule(ns, g, m, x, t):
    red, n, beta = m
    d = x - t
    if beta == 0:
        gx = ns.sign(d) * (g * _scale(red, n))
    else:
        gx = ns.where(ns.abs(d) < beta, d / beta, ns.sign(d)) * (g * _scale(red, n))
    return gx, -gx


SmoothL1LossBackward0 = node_class("SmoothL1LossBackward0", _smooth_l1_rule,
                                   saved=("self", "target"), meta=("reduction", "numel", "beta"))


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    red = reduction_enum(reduction)
    x, y = _pair(input, target)
    d = x - y
    a = np.abs(d)
    if beta == 0:
        elems = a
    else:
        elems = np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta).astype(d.dtype, copy=False)
    data = _reduce(elems, red)
    if _rg2(input, target):
        return record(data, SmoothL1LossBackward0, (input, target), (input, target),
                      (red, d.size, beta))
    return _make(data)


def _huber_rule(ns, g, m, x, t):
    red, n, delta = m
    d = x - t
    gx = ns.where(ns.abs(d) < delta, d, ns.sign(d) * delta) * (g * _scale(red, n))
    return gx, -gx


HuberLossBackward0 = node_class("HuberLossBackward0", _huber_rule, saved=("self", "target"),
                                meta=("reduction", "numel", "delta"))


def huber_loss(input, target, reduction="mean", delta=1.0):
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    red = reduction_enum(reduction)
    x, y = _pair(input, target)
    d = x - y
    a = np.abs(d)
    elems = np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta)).astype(d.dtype,
                                                                            copy=False)
    data = _reduce(elems, red)
    if _rg2(input, target):
        return record(data, HuberLossBackward0, (input, target), (input, target),
                      (red, d.size, delta))
    return _make(data)


# -- binary cross entropy --------------------------------------------------------------------
ns_def("clamp_min", lambda x, lo: np.maximum(x, lo), lambda x, lo: x.clamp(min=lo))


def _bce_rule(ns, g, m, x, t, w):
    red, n = m
    s = g * _scale(red, n)
    if w is not None:
        s = s * w
    gx = (x - t) / ns.clamp_min((1 - x) * x, 1e-12) * s
    gt = (ns.clamp_min(ns.log(1 - x), -100.0) - ns.clamp_min(ns.log(x), -100.0)) * s
    return gx, gt, None


BinaryCrossEntropyBackward0 = node_class("BinaryCrossEntropyBackward0", _bce_rule,
                                         saved=("self", "target", "weight"),
                                         meta=("reduction", "numel"))


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    red = reduction_enum(reduction)
    x, y = _pair(input, target)
    if x.shape != y.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the "
                         "same size.")
    if ((x < 0) | (x > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    with _quiet():
        lx = np.maximum(np.log(x), -100.0)
        l1x = np.maximum(np.log1p(-x), -100.0)
    elems = -(y * lx + (1 - y) * l1x)
    wd = None
    if weight is not None:
        wd = weight._data
        elems = elems * wd
    data = _reduce(elems.astype(x.dtype, copy=False), red)
    if _state.grad_enabled and (input._rg or target._rg or weight is not None and weight._rg):
        return record(data, BinaryCrossEntropyBackward0, (input, target, weight),
                      (input, target, weight), (red, x.size), bcast=weight is not None)
    return _make(data)


def _bce_logits_rule(ns, g, m, x, t, w, pw):
    red, n = m
    s = g * _scale(red, n)
    if w is not None:
        s = s * w
    sig = ns.sigmoid(x)
    if pw is None:
        return (sig - t) * s, -x * s, None, None
    # d/dx of -[pw t log(sig) + (1-t) log(1-sig)] = sig (1 + (pw-1) t) - pw t
    gx = (sig * ((pw - 1) * t + 1) - pw * t) * s
    gt = ((pw - 1) * ns.softplus(-x) - x) * s
    return gx, gt, None, None


BinaryCrossEntropyWithLogitsBackward0 = node_class(
    "BinaryCrossEntropyWithLogitsBackward0", _bce_logits_rule,
    saved=("self", "target", "weight", "pos_weight"), meta=("reduction", "numel"))


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    red = reduction_enum(reduction)
    x, y = _pair(input, target)
    if x.shape != y.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    sp = _np_softplus(-x)       # -log(sigmoid(x)), computed stably
    if pos_weight is None:
        elems = (1 - y) * x + sp
    else:
        elems = (1 - y) * x + ((pos_weight._data - 1) * y + 1) * sp
    if weight is not None:
        elems = elems * weight._data
    data = _reduce(np.asarray(elems).astype(x.dtype, copy=False), red)
    ins = (input, target, weight, pos_weight)
    if _state.grad_enabled and any(t is not None and t._rg for t in ins):
        # NOTE: weight and pos_weight get no gradient (torch does not differentiate them)
        bc = weight is not None or pos_weight is not None
        return record(data, BinaryCrossEntropyWithLogitsBackward0, ins, ins, (red, x.size),
                      bcast=bc)
    return _make(data)


# -- nll_loss --------------------------------------------------------------------------------
def _np_nll_grad(g, m):
    shape, tsafe, coef, red, in_shape = m
    if red == 0:
        g = np.reshape(g, coef.shape) * coef
    else:
        g = coef * g
    z = np.zeros(shape, dtype=np.result_type(g))
    np.put_along_axis(z, tsafe[:, None], np.expand_dims(g, 1), axis=1)
    return z.reshape(in_shape)


def _t_nll_grad(g, m):
    shape, tsafe, coef, red, in_shape = m
    mat = np.zeros(shape, dtype=g._data.dtype)
    np.put_along_axis(mat, tsafe[:, None], np.expand_dims(coef, 1).astype(mat.dtype), axis=1)
    if red == 0:
        g = g.reshape(coef.shape).unsqueeze(1)
    return (g * _make(mat)).reshape(in_shape)


ns_def("nll_grad", _np_nll_grad, _t_nll_grad)


def _nll_rule(ns, g, m, *saved):
    return ns.nll_grad(g, m), None, None


NllLossBackward0 = node_class("NllLossBackward0", _nll_rule,
                              meta=("reduction", "ignore_index"))
NllLoss2DBackward0 = node_class("NllLoss2DBackward0", _nll_rule,
                                meta=("reduction", "ignore_index"))


def nll_loss_forward(input, target, weight, ignore_index, red, cls):
    """NLL of (N, C, ...) log-probabilities at class indices `target` (N, ...); the core
    of nll_loss and cross_entropy."""
    x, t = input._data, target._data
    in_shape = x.shape
    if x.ndim == 1:             # one sample: (C,) with a 0-d target
        x, t = x[None], t.reshape(1)
    n_cls = x.shape[1]
    mask = t != ignore_index
    tsafe = np.where(mask, t, 0)
    if tsafe.size and (tsafe.min() < 0 or tsafe.max() >= n_cls):
        bad = tsafe[(tsafe < 0) | (tsafe >= n_cls)].flat[0]
        raise IndexError(f"Target {bad} is out of bounds.")
    if weight is not None:
        coef = weight._data.astype(x.dtype, copy=False)[tsafe]
        coef = np.where(mask, coef, 0)
    else:
        coef = mask.astype(x.dtype)
    picked = np.take_along_axis(x, tsafe[:, None], axis=1)[:, 0]
    elems = -(picked * coef)
    if red == 0:
        data = elems.reshape(t.shape if len(in_shape) > 1 else ())
    elif red == 2:
        data = np.asarray(elems.sum())
    else:
        total = coef.sum()
        with _quiet():
            data = np.asarray(elems.sum() / total)
        coef = coef / total if total else coef * np.nan
    data = data.astype(x.dtype, copy=False)
    if _state.grad_enabled and input._rg:
        return record(data, cls, (input, target, weight), (),
                      (x.shape, tsafe, -coef, red, in_shape))
    return _make(data)


def _check_nll(input, target, weight):
    td = target._data.dtype
    if td.kind not in "iu" or td.name not in ("int64", "uint8"):
        raise RuntimeError("expected target dtype to be Long or Byte, but got "
                           f"{_LEGACY.get(td.name, td.name)}")
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if input.dim() >= 2 and input.shape[0] != (target.shape[0] if target.dim() else 1) or \
            input.dim() == 1 and target.dim() != 0:
        tb = target.shape[0] if target.dim() else 1
        ib = input.shape[0] if input.dim() >= 2 else 1
        raise ValueError(f"Expected input batch_size ({ib}) to match target batch_size ({tb}).")
    if weight is not None:
        n_cls = input.shape[1] if input.dim() >= 2 else input.shape[0]
        if weight.dim() != 1 or weight.numel() != n_cls:
            raise RuntimeError(f"weight tensor should be defined either for all {n_cls} classes "
                               f"or no classes but got weight tensor of shape: "
                               f"{list(weight.shape)}")


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """The negative log likelihood of log-probabilities `input` at class indices `target`."""
    red = reduction_enum(reduction)
    _check_nll(input, target, weight)
    nd = input.dim()
    if nd <= 2:
        return nll_loss_forward(input, target, weight, ignore_index, red, NllLossBackward0)
    expect = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expect:
        raise RuntimeError(f"Expected target size {list(expect)}, got {list(target.shape)}")
    if nd == 4:
        return nll_loss_forward(input, target, weight, ignore_index, red, NllLoss2DBackward0)
    # other ranks go through the 2-d kernel on views, as torch does
    n, c = input.shape[0], input.shape[1]
    out = nll_loss_forward(input.view(n, c, 1, -1), target.view(n, 1, -1), weight,
                           ignore_index, red, NllLoss2DBackward0)
    return out.view(expect) if red == 0 else out


declare("nll_loss", "NllLossBackward0", "NllLoss2DBackward0")
declare("mse_loss", "MseLossBackward0")
declare("smooth_l1_loss", "SmoothL1LossBackward0")
declare("huber_loss", "HuberLossBackward0")
declare("binary_cross_entropy", "BinaryCrossEntropyBackward0")
declare("binary_cross_entropy_with_logits", "BinaryCrossEntropyWithLogitsBackward0")


# -- embedding --------------------------------------------------------------------------------
def _np_embedding_grad(g, m):
    shape, idx, padding_idx, counts = m
    d = shape[-1]
    flat = idx.reshape(-1)
    gf = np.reshape(g, (-1, d))
    if counts is not None:
        gf = gf / counts[flat][:, None]
    z = np.zeros(shape, dtype=gf.dtype)
    np.add.at(z, flat, gf)
    if padding_idx is not None:
        z[padding_idx] = 0
    return z


def _t_embedding_grad(g, m):
    shape, idx, padding_idx, counts = m
    from .._creation import zeros
    flat = idx.reshape(-1)
    gf = g.reshape(-1, shape[-1])
    if counts is not None:
        gf = gf / _make(counts[flat][:, None].astype(gf._data.dtype))
    if padding_idx is not None:
        keep = (flat != padding_idx).astype(gf._data.dtype)[:, None]
        gf = gf * _make(keep)
    return zeros(shape, dtype=g.dtype).index_add(0, _make(flat), gf)


ns_def("embedding_grad", _np_embedding_grad, _t_embedding_grad)
EmbeddingBackward0 = node_class("EmbeddingBackward0",
                                lambda ns, g, m: (ns.embedding_grad(g, m), None),
                                meta=("weight_argsize_0", "indices", "padding_idx",
                                      "scale_grad_by_freq"))


def embedding(input, weight, padding_idx=None, scale_grad_by_freq=False):
    """Rows of `weight` at integer `input` (any shape)."""
    idx = input._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           "following scalar types: Long, Int; but got "
                           f"torch.{_LEGACY.get(idx.dtype.name, idx.dtype.name)}Tensor instead "
                           "(while checking arguments for embedding)")
    w = weight._data
    n = w.shape[0]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError("index out of range in self")
    data = w[idx]
    if _state.grad_enabled and weight._rg:
        counts = None
        if scale_grad_by_freq:
            counts = np.bincount((idx % n).reshape(-1), minlength=n).astype(w.dtype)
        return record(data, EmbeddingBackward0, (weight, input), (),
                      (w.shape, idx % n, padding_idx, counts))
    return _make(data)


declare("embedding", "EmbeddingBackward0")

# elementwise activations: the backward rule is also the forward-mode rule
forward_ad.mark_diagonal(
    LeakyReluBackward0, LeakyReluBackward1, EluBackward0, CeluBackward0, EluBackward1,
    CeluBackward1, GeluBackward0, SiluBackward0, SoftplusBackward0, MishBackward0,
    LogSigmoidBackward0, HardtanhBackward0, HardswishBackward0, HardsigmoidBackward0,
    ThresholdBackward0, ThresholdBackward1, HardshrinkBackward0, SoftshrinkBackward0)
