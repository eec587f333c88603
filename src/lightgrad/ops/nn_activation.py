"""nn.functional's activations (F.leaky_relu, F.elu, F.gelu, F.softplus, F.hardtanh, F.glu,
F.prelu, ...) and their in-place forms, each one NumPy computation plus one node with
torch's name (LeakyReluBackward0, GeluBackward0, ...; the in-place forms of leaky_relu,
elu, selu, celu and threshold save their result, torch's *Backward1), declared once with
its rule; F.relu, F.sigmoid, F.tanh, F.softsign and F.tanhshrink are composites in
nn/_functional/basic.py."""
import math

import numpy as np

from .._tensor import Tensor
from ._batching import along_dim, inplace_elementwise, vmap_error
from ._core import (ELEMENTWISE, RESULT, Sample as S, defop, emit, inplace as _inplace,
                    node_class, ns_def, publish)
from ._erf import np_erf
from .elementwise import erf as _t_erf

__all__ = []        # the ops are nn.functional's (F.<name>), imported there by name

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
    return emit(data, cls, (input,), (input,) if save is None else save, meta)


def _quiet():
    return np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore")


def _apply(kernel, input, inplace, *args):
    """kernel(input, *args), or written into input when inplace (torch's `inplace=True`)."""
    if inplace:
        return _inplace(input, kernel, *args)
    return kernel(input, *args)


def _apply_saving_result(kernel, input, inplace, *args):
    """Like _apply; the in-place form records the node that saves the result (torch's
    LeakyReluBackward1, EluBackward1, ...)."""
    if inplace:
        return _inplace(input, kernel, *args, _inplace=True)
    return kernel(input, *args)


def _F(m):
    return m.nn.functional


def _on_copy(fn):
    """A Sample's call of an in-place form: on a non-leaf copy (a leaf that requires grad
    cannot be written in place)."""
    return lambda m, x: fn(_F(m), x * 1)


_INPLACE = inplace_elementwise      # the rule of the in-place forms F.<name>_


# -- leaky_relu, elu, celu, selu -----------------------------------------------------------
LeakyReluBackward0 = node_class(
    "LeakyReluBackward0", lambda ns, g, slope, x: (ns.where(x > 0, g, g * slope),),
    saved=("self",), meta=("negative_slope",))


# the in-place forms (leaky_relu_, elu_, ...) save their result instead: torch's *Backward1
LeakyReluBackward1 = node_class(
    "LeakyReluBackward1", lambda ns, g, slope, r: (ns.where(r > 0, g, g * slope),),
    saved=("result",), meta=("negative_slope",))


def _leaky_relu(input, negative_slope=0.01, _inplace=False):
    x = _float_data(input, "leaky_relu_cpu")
    data = np.where(x > 0, x, x * negative_slope).astype(x.dtype, copy=False)
    if _inplace:
        return _unary(input, data, LeakyReluBackward1, negative_slope, (RESULT,))
    return _unary(input, data, LeakyReluBackward0, negative_slope)


@defop(name="F.leaky_relu", nodes=(LeakyReluBackward0, LeakyReluBackward1), kind=ELEMENTWISE,
       samples=[S((2, 3), args=(0.2,)),
                S((2, 3), call=_on_copy(lambda F, x: F.leaky_relu(x, 0.2, inplace=True)),
                  id="inplace")])
def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, else negative_slope * x."""
    return _apply_saving_result(_leaky_relu, input, inplace, negative_slope)


@defop(name="F.leaky_relu_", nodes=(LeakyReluBackward1,), kind=ELEMENTWISE, batch=_INPLACE,
       samples=[S((2, 3), call=_on_copy(lambda F, x: F.leaky_relu_(x, 0.2)))])
def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, True)


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


def _elu(input, alpha=1.0, scale=1.0, input_scale=1.0, _cls=EluBackward0, _inplace=False):
    x = _float_data(input, "elu_cpu")
    m = (alpha, scale, input_scale)
    if _inplace:
        return _unary(input, _elu_data(x, *m), _ELU_INPLACE[_cls], m, (RESULT,))
    return _unary(input, _elu_data(x, *m), _cls, m)


def _selu(input, _inplace=False):
    return _elu(input, _SELU_ALPHA, _SELU_SCALE, 1.0, _inplace=_inplace)


def _celu(input, alpha=1.0, _inplace=False):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _elu(input, alpha, 1.0, 1.0 / alpha, _cls=CeluBackward0, _inplace=_inplace)


@defop(name="F.elu", nodes=(EluBackward0, EluBackward1), kind=ELEMENTWISE, samples=[
    S((2, 3), args=(0.7,)),
    S((2, 3), call=_on_copy(lambda F, x: F.elu(x, 0.7, inplace=True)), id="inplace")])
def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha * (exp(x) - 1)."""
    return _apply_saving_result(_elu, input, inplace, alpha)


@defop(name="F.elu_", nodes=(EluBackward1,), kind=ELEMENTWISE, batch=_INPLACE,
       samples=[S((2, 3), call=_on_copy(lambda F, x: F.elu_(x, 0.7)))])
def elu_(input, alpha=1.0):
    return elu(input, alpha, True)


@defop(name="F.selu", nodes=(EluBackward0, EluBackward1), kind=ELEMENTWISE, samples=[
    S((2, 3)), S((), id="0d"),
    S((2, 3), call=_on_copy(lambda F, x: F.selu(x, inplace=True)), id="inplace")])
def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalizing constants."""
    return _apply_saving_result(_selu, input, inplace)


@defop(name="F.selu_", nodes=(EluBackward1,), kind=ELEMENTWISE, batch=_INPLACE,
       samples=[S((2, 3), call=_on_copy(lambda F, x: F.selu_(x)))])
def selu_(input):
    return selu(input, True)


@defop(name="F.celu", nodes=(CeluBackward0, CeluBackward1), kind=ELEMENTWISE, samples=[
    S((2, 3), args=(1.3,)),
    S((2, 3), call=_on_copy(lambda F, x: F.celu(x, 1.5, inplace=True)), id="inplace")])
def celu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha * (exp(x / alpha) - 1)."""
    return _apply_saving_result(_celu, input, inplace, alpha)


@defop(name="F.celu_", nodes=(CeluBackward1,), kind=ELEMENTWISE, batch=_INPLACE,
       samples=[S((2, 3), call=_on_copy(lambda F, x: F.celu_(x, 1.5)))])
def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


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


@defop(name="F.gelu", nodes=(GeluBackward0,), kind=ELEMENTWISE, samples=[
    S((2, 3)), S((2, 3), kwargs={"approximate": "tanh"}, id="tanh")])
def gelu(input, approximate="none"):
    """x * Phi(x); approximate='tanh' uses the tanh formula."""
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


def _silu(input):
    x = _float_data(input, "silu_cpu")
    return _unary(input, x * _np_sigmoid(x), SiluBackward0)


@defop(name="F.silu", nodes=(SiluBackward0,), kind=ELEMENTWISE, samples=[
    S((2, 3)), S((2, 3), call=_on_copy(lambda F, x: F.silu(x, inplace=True)), id="inplace")])
def silu(input, inplace=False):
    """x * sigmoid(x)."""
    return _apply(_silu, input, inplace)


def _np_softplus(x):
    return np.logaddexp(0, x).astype(x.dtype, copy=False)


def _softplus_rule(ns, g, m, x):
    beta, threshold = m
    z = x * beta
    return (ns.where(z > threshold, g, g * ns.sigmoid(z)),)


SoftplusBackward0 = node_class("SoftplusBackward0", _softplus_rule, saved=("self",),
                               meta=("beta", "threshold"))


@defop(name="F.softplus", nodes=(SoftplusBackward0,), kind=ELEMENTWISE, samples=[
    S((2, 3)), S((2, 3), kwargs={"beta": 2.0, "threshold": 1.5}, id="beta-threshold")])
def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, linear above `threshold`."""
    x = _float_data(input, "softplus_cpu")
    z = x * beta
    data = np.where(z > threshold, x, _np_softplus(z) / beta).astype(x.dtype, copy=False)
    return _unary(input, data, SoftplusBackward0, (beta, threshold))


ns_def("softplus", _np_softplus, lambda x: softplus(x))


def _mish_rule(ns, g, m, x):
    t = ns.tanh(ns.softplus(x))
    return (g * (t + x * (1 - t * t) * ns.sigmoid(x)),)


MishBackward0 = node_class("MishBackward0", _mish_rule, saved=("self",))


def _mish(input):
    x = _float_data(input, "mish_cpu")
    return _unary(input, x * np.tanh(_np_softplus(x)), MishBackward0)


@defop(name="F.mish", nodes=(MishBackward0,), kind=ELEMENTWISE, samples=[
    S((2, 3)), S((2, 3), call=_on_copy(lambda F, x: F.mish(x, inplace=True)), id="inplace")])
def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    return _apply(_mish, input, inplace)


LogSigmoidBackward0 = node_class("LogSigmoidBackward0",
                                 lambda ns, g, m, x: (g * ns.sigmoid(-x),), saved=("self",))


@defop(name="F.logsigmoid", nodes=(LogSigmoidBackward0,), kind=ELEMENTWISE,
       samples=[S((2, 3))])
def logsigmoid(input):
    """log(sigmoid(x)), computed stably."""
    x = _float_data(input, "log_sigmoid_cpu")
    data = (np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))).astype(x.dtype, copy=False)
    return _unary(input, data, LogSigmoidBackward0)


# -- piecewise linear: hardtanh, hardswish, hardsigmoid, threshold, shrinks -----------------
HardtanhBackward0 = node_class(
    "HardtanhBackward0",
    lambda ns, g, m, x: (ns.where((x > m[0]) & (x < m[1]), g, 0.0),),
    saved=("self",), meta=("min_val", "max_val"))


def _hardtanh(input, min_val=-1.0, max_val=1.0):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    x = _float_data(input, "hardtanh_cpu") if input._data.dtype.kind != "i" else input._data
    lo, hi = (int(min_val), int(max_val)) if x.dtype.kind == "i" else (min_val, max_val)
    return _unary(input, np.clip(x, lo, hi), HardtanhBackward0, (min_val, max_val))


@defop(name="F.hardtanh", nodes=(HardtanhBackward0,), kind=ELEMENTWISE, samples=[
    S((2, 3), args=(-0.5, 1.2)),
    S((2, 3), call=_on_copy(lambda F, x: F.hardtanh(x, -0.5, 1.2, inplace=True)),
      id="inplace")])
def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """input clamped to [min_val, max_val]."""
    return _apply(_hardtanh, input, inplace, min_val, max_val)


@defop(name="F.hardtanh_", nodes=(HardtanhBackward0,), kind=ELEMENTWISE, batch=_INPLACE,
       samples=[S((2, 3), call=_on_copy(lambda F, x: F.hardtanh_(x, -0.5, 1.2)))])
def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, True)


@defop(name="F.relu6", nodes=(HardtanhBackward0,), kind=ELEMENTWISE, samples=[
    S((2, 3), domain=(-8.0, 8.0)),
    S((2, 3), domain=(-8.0, 8.0), call=_on_copy(lambda F, x: F.relu6(x, inplace=True)),
      id="inplace")])
def relu6(input, inplace=False):
    """min(max(input, 0), 6); torch computes it as hardtanh(input, 0, 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


HardswishBackward0 = node_class(
    "HardswishBackward0",
    lambda ns, g, m, x: (ns.where(x <= -3, 0.0, ns.where(x < 3, g * (x / 3 + 0.5), g)),),
    saved=("self",))


def _hardswish(input):
    x = _float_data(input, "hardswish_cpu")
    return _unary(input, x * np.clip(x + 3, 0, 6) / 6, HardswishBackward0)


@defop(name="F.hardswish", nodes=(HardswishBackward0,), kind=ELEMENTWISE, samples=[
    S((2, 3), domain=(-6.0, 6.0)),
    S((2, 3), domain=(-6.0, 6.0), call=_on_copy(lambda F, x: F.hardswish(x, inplace=True)),
      id="inplace")])
def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    return _apply(_hardswish, input, inplace)


HardsigmoidBackward0 = node_class(
    "HardsigmoidBackward0",
    lambda ns, g, m, x: (ns.where((x > -3) & (x < 3), g / 6, 0.0),), saved=("self",))


def _hardsigmoid(input):
    x = _float_data(input, "hardsigmoid_cpu")
    return _unary(input, np.clip(x + 3, 0, 6) / 6, HardsigmoidBackward0)


@defop(name="F.hardsigmoid", nodes=(HardsigmoidBackward0,), kind=ELEMENTWISE, samples=[
    S((2, 3), domain=(-6.0, 6.0)),
    S((2, 3), domain=(-6.0, 6.0), call=_on_copy(lambda F, x: F.hardsigmoid(x, inplace=True)),
      id="inplace")])
def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6."""
    return _apply(_hardsigmoid, input, inplace)


ThresholdBackward0 = node_class("ThresholdBackward0",
                                lambda ns, g, th, x: (ns.where(x > th, g, 0.0),),
                                saved=("self",), meta=("threshold",))


ThresholdBackward1 = node_class("ThresholdBackward1",
                                lambda ns, g, th, r: (ns.where(r > th, g, 0.0),),
                                saved=("result",), meta=("threshold",))


def _threshold(input, threshold, value, _inplace=False):
    x = input._data
    data = np.where(x > threshold, x, value).astype(x.dtype, copy=False)
    if _inplace:
        return _unary(input, data, ThresholdBackward1, threshold, (RESULT,))
    return _unary(input, data, ThresholdBackward0, threshold)


@defop(name="F.threshold", nodes=(ThresholdBackward0, ThresholdBackward1), kind=ELEMENTWISE,
       samples=[S((2, 3), args=(0.3, -2.0)),
                S((2, 3), call=_on_copy(lambda F, x: F.threshold(x, 0.3, -2.0, inplace=True)),
                  id="inplace")])
def threshold(input, threshold, value, inplace=False):
    """input where input > threshold, else value."""
    return _apply_saving_result(_threshold, input, inplace, threshold, value)


@defop(name="F.threshold_", nodes=(ThresholdBackward1,), kind=ELEMENTWISE, batch=_INPLACE,
       samples=[S((2, 3), call=_on_copy(lambda F, x: F.threshold_(x, 0.3, -2.0)))])
def threshold_(input, threshold, value):
    return _apply_saving_result(_threshold, input, True, threshold, value)


HardshrinkBackward0 = node_class(
    "HardshrinkBackward0", lambda ns, g, lambd, x: (ns.where((x > lambd) | (x < -lambd), g, 0.0),),
    saved=("self",), meta=("lambd",))
SoftshrinkBackward0 = node_class(
    "SoftshrinkBackward0", lambda ns, g, lambd, x: (ns.where((x > lambd) | (x < -lambd), g, 0.0),),
    saved=("self",), meta=("lambd",))


@defop(name="F.hardshrink", nodes=(HardshrinkBackward0,), kind=ELEMENTWISE,
       samples=[S((2, 3), args=(0.4,))])
def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    x = _float_data(input, "hardshrink_cpu")
    data = np.where((x > lambd) | (x < -lambd), x, 0).astype(x.dtype, copy=False)
    return _unary(input, data, HardshrinkBackward0, lambd)


@defop(name="F.softshrink", nodes=(SoftshrinkBackward0,), kind=ELEMENTWISE,
       samples=[S((2, 3), args=(0.4,))])
def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, else 0."""
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


@defop(name="F.glu", nodes=(GluBackward0,), batch=along_dim(1, default=-1), samples=[
    S((2, 4)), S((4, 3), args=(0,), id="dim0")])
def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the halves of input along dim."""
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


# -- prelu -----------------------------------------------------------------------------------
def _prelu_rule(ns, g, m, x, w):
    pos = x > 0
    return ns.where(pos, g, g * w), ns.where(pos, 0.0, g * x)


PreluKernelBackward0 = node_class("PreluKernelBackward0", _prelu_rule, saved=("self", "weight"))


def _prelu_kernel(input, weight):
    """max(0, x) + weight * min(0, x); `weight` already has a shape that broadcasts against
    input (F.prelu reshapes it, as torch does before its kernel)."""
    x = _float_data(input, "prelu_cpu")
    w = weight._data
    data = np.where(x > 0, x, x * w).astype(np.result_type(x, w), copy=False)
    return emit(data, PreluKernelBackward0, (input, weight), (input, weight), bcast=True)


def _prelu_batch(c, args, kwargs):
    """vmap: prelu's weight runs along dim 1 of an (N, C, ...) example, so the batch joins
    N; a 0-d or 1-d example keeps its own dims behind the batch dim. Only the input may be
    batched."""
    x = args[0]
    if not c.batched(x) or any(c.batched(a) for a in list(args[1:]) + list(kwargs.values())):
        raise vmap_error(f"{c.name} has a batching rule for a batched input only")
    p = x._p
    if x.dim() < 2:
        return c.wrap(c(p, *args[1:], **kwargs))
    n = p.shape[0]
    out = c(p.reshape((-1,) + tuple(p.shape[2:])), *args[1:], **kwargs)
    return c.wrap(out.reshape((n, -1) + tuple(out.shape[1:])))


_WEIGHT_BATCHED = "has a batching rule for a batched input only"   # the samples batch weight


@defop(name="F.prelu", nodes=(PreluKernelBackward0,), batch=_prelu_batch, samples=[
    S((2, 3, 2), (3,), vmap_refused=_WEIGHT_BATCHED),
    S((2, 3), (1,), id="shared", vmap_refused=_WEIGHT_BATCHED),
    S((3,), (), id="1d", vmap_refused=_WEIGHT_BATCHED),
    S((), (1,), id="0d", vmap_refused=_WEIGHT_BATCHED),
    S((2, 3, 2), (3,), nondiff=(1,), id="input-batched")])
def prelu(input, weight):
    """max(0, x) + weight * min(0, x), with one weight per channel (dim 1) or one shared."""
    if not isinstance(weight, Tensor):
        raise TypeError("prelu(): argument 'weight' (position 2) must be Tensor, not "
                        f"{type(weight).__name__}")
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {input.dtype._legacy} "
                           f"and {weight.dtype._legacy}")
    nd = input.dim()
    n = weight.numel()
    if n != 1:
        if nd == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input.shape[1] if nd > 1 else 1
        if channels != n:
            raise RuntimeError("Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {n} and channel size = {channels}.")
    if weight.dim() > 1:
        raise RuntimeError("prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.dim()}")
    if nd != weight.dim():
        # one weight per channel, broadcast over dim 1 (a view, as torch makes)
        shape = [1] * nd
        if nd > 1:
            shape[1] = n
        weight = weight.reshape(shape)
    return _prelu_kernel(input, weight)


publish(globals())   # each op here bound to its public function, which dispatches under vmap
