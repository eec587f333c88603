"""Binary and ternary math functions (atan2, hypot, xlogy, maximum, copysign, ...), clamping
and selection (clamp, lerp, addcmul, addcdiv, where), each declared once with its rule."""
import numpy as np

from .. import _dtype
from .._tensor import Tensor, _make
from ._batching import elementwise, vmap_error
from ._core import (ELEMENTWISE, RESULT, Sample as S, binary_operands, defop, emit,
                    float_operand, node_class, ns_def, publish, scalar_arg, to_tensor)
from .logic import nonzero
from .elementwise import (_apply, _finish, _is_rg, _legacy, _not_implemented, _off_integers,
                          _P, _quiet, _want_tensor, to_tensor_like)

# -- binary math functions ---------------------------------------------------------------
def _float_binary(a, b, x, y):
    if x.dtype.kind not in "fc":
        d = _dtype.get_default_dtype().np
        x = x.astype(d)
        y = np.asarray(y, dtype=d)
    return x, y


def _distinct_pair(rng):
    """Two sample arrays that never tie (maximum/minimum are not smooth at ties)."""
    a = rng.uniform(-2, 2, (2, 3))
    b = a + rng.choice([-1.0, 1.0], (2, 3)) * rng.uniform(0.2, 1.0, (2, 3))
    return [a, b]


def _atan2_rule(ns, g, m, self, other):
    d = self * self + other * other
    return g * other / d, -g * self / d


Atan2Backward0 = node_class("Atan2Backward0", _atan2_rule, saved=("self", "other"))


@defop(nodes=(Atan2Backward0,), inplace=True, kind=ELEMENTWISE,
       samples=[S((2, 3), (3,), np_ref=np.arctan2)])
def atan2(input, other, *, out=None, _name="atan2"):
    """Angle of the point (other, input), in (-pi, pi]."""
    _want_tensor(_name, other)
    a, b, x, y = binary_operands(input, other)
    x, y = _float_binary(a, b, x, y)
    data = _apply(np.arctan2, x, y)
    return emit(data, Atan2Backward0, (a, b), (a, b), bcast=True, out=out)


@defop(nodes=(Atan2Backward0,), inplace=True, kind=ELEMENTWISE, samples=[S((3,), ())])
def arctan2(input, other, *, out=None):
    return atan2(input, other, out=out, _name="arctan2")


def _hypot_rule(ns, g, m, self, other, result):
    return g * self / result, g * other / result


HypotBackward0 = node_class("HypotBackward0", _hypot_rule, saved=("self", "other", "result"))


@defop(nodes=(HypotBackward0,), inplace=True, kind=ELEMENTWISE,
       samples=[S((2, 3), (3,), domain=_P, np_ref=np.hypot)])
def hypot(input, other, *, out=None):
    """sqrt(input**2 + other**2) without overflow."""
    _want_tensor("hypot", other)
    a, b, x, y = binary_operands(input, other)
    if x.dtype.kind not in "fc":
        raise _not_implemented("hypot_cpu", x.dtype)
    data = _apply(np.hypot, x, y)
    return emit(data, HypotBackward0, (a, b), (a, b, RESULT), bcast=True, out=out)


def _np_xlogy(x, y):
    with _quiet():
        r = np.where(x == 0, 0.0, x * np.log(y)).astype(np.result_type(x, y), copy=False)
    return np.where(np.isnan(y), np.nan, r).astype(r.dtype, copy=False)


def _xlogy_self_grad(ns, g, self, other):
    # NOTE: log(other), except 0 where self and other are both 0 (as torch computes it)
    return ns.where((self == 0) & (other == 0), 0.0, g * ns.log(other + 0 * self))


def _xlogy0_rule(ns, g, m, self, other):
    return _xlogy_self_grad(ns, g, self, other), g * self / other


XlogyBackward0 = node_class("XlogyBackward0", _xlogy0_rule, saved=("self", "other"))
XlogyBackward1 = node_class("XlogyBackward1", lambda ns, g, s, other: (g * s / other,),
                            saved=("other",), meta=("self",))
XlogyBackward2 = node_class("XlogyBackward2",
                            lambda ns, g, o, self: (_xlogy_self_grad(ns, g, self, o),),
                            saved=("self",), meta=("other",))


@defop(nodes=(XlogyBackward0, XlogyBackward1, XlogyBackward2), inplace=True,
       kind=ELEMENTWISE, samples=[S((2, 3), (3,), domain=_P),
                                  S((3,), domain=_P, args=(3.0,), id="scalar-other")])
def xlogy(input, other, *, out=None):
    """input * log(other), and 0 where input == 0 (unless other is nan)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"xlogy() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(other).__name__}), but expected one "
                        "of:\n * (Tensor input, Tensor other, *, Tensor out = None)\n * (Number "
                        "self, Tensor other, *, Tensor out = None)\n * (Tensor input, Number "
                        "other, *, Tensor out = None)\n")
    scalar_self = not isinstance(input, Tensor)
    if scalar_self:
        input = to_tensor_like(input, other)
    a, b, x, y = binary_operands(input, other)
    x, y = _float_binary(a, b, x, y)
    x = np.asarray(x, dtype=np.result_type(x, y))
    data = _apply(_np_xlogy, x, y)
    if scalar_self:
        return emit(data, XlogyBackward1, (b,), (b,), meta=input._data.item(), bcast=True,
                    out=out)
    if not isinstance(b, Tensor):
        return emit(data, XlogyBackward2, (a,), (a,), meta=b, out=out)
    return emit(data, XlogyBackward0, (a, b), (a, b), bcast=True, out=out)


def _t_xlogy(x, y):
    return xlogy(x, y)


ns_def("xlogy", _np_xlogy, _t_xlogy)


def _maximum_rule(ns, g, m, self, other):
    # NOTE: ties split the gradient evenly, as torch does
    half = ns.where(self == other, g * 0.5, g)
    return ns.where(self < other, 0.0, half), ns.where(self > other, 0.0, half)


def _minimum_rule(ns, g, m, self, other):
    half = ns.where(self == other, g * 0.5, g)
    return ns.where(self > other, 0.0, half), ns.where(self < other, 0.0, half)


def _fmax_rule(ns, g, m, self, other):
    # NOTE: fmax ignores nan: the gradient goes to the operand that was chosen; ties to self
    pick = (self >= other) | (other != other)
    return ns.where(pick, g, 0.0), ns.where(pick, 0.0, g)


def _fmin_rule(ns, g, m, self, other):
    pick = (self <= other) | (other != other)
    return ns.where(pick, g, 0.0), ns.where(pick, 0.0, g)


MaximumBackward0 = node_class("MaximumBackward0", _maximum_rule, saved=("self", "other"))
MinimumBackward0 = node_class("MinimumBackward0", _minimum_rule, saved=("self", "other"))
FmaxBackward0 = node_class("FmaxBackward0", _fmax_rule, saved=("self", "other"))
FminBackward0 = node_class("FminBackward0", _fmin_rule, saved=("self", "other"))


def _minmax(name, np_fn, cls):
    def op(input, other, *, out=None):
        _want_tensor(name, other)
        a, b, x, y = binary_operands(input, other)
        data = _apply(np_fn, x, y)
        return emit(data, cls, (a, b), (a, b), bcast=True, out=out)
    op.__name__ = op.__qualname__ = name
    return defop(op, nodes=(cls,), kind=ELEMENTWISE,
                 samples=[S(make_inputs=_distinct_pair, np_ref=np_fn)])


maximum = _minmax("maximum", np.maximum, MaximumBackward0)
minimum = _minmax("minimum", np.minimum, MinimumBackward0)
fmax = _minmax("fmax", np.fmax, FmaxBackward0)
fmin = _minmax("fmin", np.fmin, FminBackward0)


def _copysign_rule(ns, g, m, self, result):
    # NOTE: d/dx copysign(x, y) = sign(x) * sign(result); 0 where x == 0, as in torch
    return (ns.where(self == 0, 0.0, g * ns.sign(self) * ns.sign(result)),)


def _copysign0_rule(ns, g, m, self, result):
    return _copysign_rule(ns, g, m, self, result) + (ns.zeros_like(g),)


CopysignBackward0 = node_class("CopysignBackward0", _copysign0_rule, saved=("self", "result"))
CopysignBackward1 = node_class("CopysignBackward1", _copysign_rule, saved=("self", "result"))


@defop(nodes=(CopysignBackward0, CopysignBackward1), inplace=True, kind=ELEMENTWISE,
       samples=[S((2, 3), (3,), domain=_off_integers, np_ref=np.copysign),
                S((3,), domain=_off_integers, args=(-1.0,), id="scalar")])
def copysign(input, other, *, out=None):
    """|input| with the sign of other; other's gradient is zero."""
    a, b, x, y = binary_operands(input, other)
    x, y = _float_binary(a, b, x, y)
    data = _apply(np.copysign, x, y)
    if isinstance(b, Tensor):
        return emit(data, CopysignBackward0, (a, b), (a, RESULT), bcast=True, out=out)
    return emit(data, CopysignBackward1, (a,), (a, RESULT), out=out)




# -- clamp -------------------------------------------------------------------------------
def _clamp1_rule(ns, g, meta, self):
    lo, hi = meta
    if lo is not None and hi is not None:
        mask = (self >= lo) & (self <= hi)
    elif lo is not None:
        mask = self >= lo
    else:
        mask = self <= hi
    return (ns.where(mask, g, 0.0),)


def _clamp0_rule(ns, g, meta, self, lo, hi):
    zero = 0.0
    if lo is not None and hi is not None:
        gs = ns.where((self >= lo) & (self <= hi), g, zero)
        glo = None if not meta[0] else ns.where((self < lo) & (lo < hi), g, zero)
        ghi = None if not meta[1] else ns.where((self > hi) | (hi < lo), g, zero)
    elif lo is not None:
        gs, glo, ghi = ns.where(self >= lo, g, zero), ns.where(self < lo, g, zero), None
    else:
        gs, glo, ghi = ns.where(self <= hi, g, zero), None, ns.where(self > hi, g, zero)
    return gs, (glo if meta[0] else None), (ghi if meta[1] else None)


ClampBackward1 = node_class("ClampBackward1", _clamp1_rule, saved=("self",),
                            meta=("min", "max"))
ClampBackward0 = node_class("ClampBackward0", _clamp0_rule, saved=("self", "min", "max"))
ClampMinBackward0 = node_class("ClampMinBackward0",
                               lambda ns, g, lo, self: (ns.where(self >= lo, g, 0.0),),
                               saved=("self",), meta=("min",))
ClampMaxBackward0 = node_class("ClampMaxBackward0",
                               lambda ns, g, hi, self: (ns.where(self <= hi, g, 0.0),),
                               saved=("self",), meta=("max",))


def _clamp_min1_rule(ns, g, m, self, lo):
    return ns.where(self >= lo, g, 0.0), ns.where(self < lo, g, 0.0)


def _clamp_max1_rule(ns, g, m, self, hi):
    return ns.where(self <= hi, g, 0.0), ns.where(self > hi, g, 0.0)


ClampMinBackward1 = node_class("ClampMinBackward1", _clamp_min1_rule, saved=("self", "min"))
ClampMaxBackward1 = node_class("ClampMaxBackward1", _clamp_max1_rule, saved=("self", "max"))


def _clamp_scalar_data(input, lo, hi):
    x = input._data
    if isinstance(lo, float) or isinstance(hi, float):
        x = float_operand(input)
    elif x.dtype.kind == "b":
        x = x.astype(np.int64)
    if isinstance(lo, np.generic):
        lo = scalar_arg(lo)
    if isinstance(hi, np.generic):
        hi = scalar_arg(hi)
    if lo is not None:
        x = np.maximum(x, np.asarray(lo, dtype=x.dtype))
    if hi is not None:
        x = np.minimum(x, np.asarray(hi, dtype=x.dtype))
    return x if x is not input._data else x.copy()


@defop(aliases=("clip",), nodes=(ClampBackward0, ClampBackward1), inplace=True,
       kind=ELEMENTWISE, samples=[
           S((2, 3), domain=_off_integers, args=(-0.5, 0.5), id="both"),
           S((2, 3), domain=_off_integers, kwargs={"max": 0.3}, id="max"),
           S(make_inputs=_distinct_pair, kwargs={}, id="tensor-min"),
           S(make_inputs=lambda r: [r.uniform(-2, 2, (2, 3)), np.array([-1.05, -0.35, 0.15]),
                                    np.array([[0.55], [1.25]])], id="tensor-both")])
def clamp(input, min=None, max=None, *, out=None):
    """Clamp into [min, max]; min and max may be scalars or tensors (broadcasting)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        lo = None if min is None else to_tensor(min)
        hi = None if max is None else to_tensor(max)
        rt = _dtype.result_type(*[t for t in (input, lo, hi) if t is not None]).np
        data = input._data.astype(rt, copy=False)
        if lo is not None:
            data = _apply(np.maximum, data, lo._data.astype(rt, copy=False))
        if hi is not None:
            data = _apply(np.minimum, data, hi._data.astype(rt, copy=False))
        if data is input._data:
            data = data.copy()
        # (tensor bounds: out= casts as for any binary op; scalar bounds: _clamp_out)
        return emit(data, ClampBackward0, (input, lo, hi), (input, lo, hi),
                    meta=(_is_rg(lo), _is_rg(hi)), bcast=True, out=out)
    data = _clamp_scalar_data(input, min, max)
    _clamp_out(data, out)
    return emit(data, ClampBackward1, (input,), (input,), meta=(min, max), out=out)


def _clamp_out(data, out):
    """torch's clamp with scalar bounds wants an out= of the result's dtype."""
    if out is not None and out._data.dtype != data.dtype:
        raise RuntimeError(f"Found dtype {out.dtype._legacy} but expected "
                           f"{_dtype.from_numpy_dtype(data.dtype)._legacy}")


def _clamp_side(name, np_fn, cls0, cls1):
    def op(input, other, *, out=None):
        if isinstance(other, Tensor):
            rt = _dtype.result_type(input, other).np
            data = _apply(np_fn, input._data.astype(rt, copy=False),
                          other._data.astype(rt, copy=False))
            return emit(data, cls1, (input, other), (input, other), bcast=True, out=out)
        data = _clamp_scalar_data(input, *((other, None) if name == "clamp_min" else
                                           (None, other)))
        return emit(data, cls0, (input,), (input,), meta=other, out=out)
    op.__name__ = op.__qualname__ = name
    return defop(op, nodes=(cls0, cls1), inplace=True, kind=ELEMENTWISE, samples=[
        S((2, 3), domain=_off_integers, args=(0.5,)), S(make_inputs=_distinct_pair, id="tensor")])


clamp_min = _clamp_side("clamp_min", np.maximum, ClampMinBackward0, ClampMinBackward1)
clamp_max = _clamp_side("clamp_max", np.minimum, ClampMaxBackward0, ClampMaxBackward1)


# -- lerp, addcmul, addcdiv, where, nan_to_num ------------------------------------------
LerpBackward0 = node_class("LerpBackward0", lambda ns, g, w: (g * (1 - w), g * w),
                           meta=("weight",))


def _lerp1_rule(ns, g, m, self, end, weight):
    return g * (1 - weight), g * weight, g * (end - self)


LerpBackward1 = node_class("LerpBackward1", _lerp1_rule, saved=("self", "end", "weight"))


def _dtype_word(np_dtype):
    return {"float64": "double", "float32": "float", "float16": "c10::Half",
            "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
            "uint8": "unsigned char", "bool": "bool"}[np.dtype(np_dtype).name]


@defop(nodes=(LerpBackward0, LerpBackward1), inplace=True, kind=ELEMENTWISE, samples=[
    S((2, 3), (3,), args=(0.3,), id="scalar"),
    S(make_inputs=lambda r: [r.uniform(-2, 2, (2, 3)), r.uniform(-2, 2, (3,)),
                             np.array([[0.2], [0.8]])], id="tensor")])
def lerp(input, end, weight, *, out=None):
    """input + weight * (end - input); weight is a scalar or a tensor."""
    x, e = input._data, end._data
    if e.dtype != x.dtype:
        raise RuntimeError(f"expected dtype {_dtype_word(x.dtype)} for `end` but got dtype "
                           f"{_dtype_word(e.dtype)}")
    if isinstance(weight, Tensor):
        w = weight._data
        if w.dtype != x.dtype and w.ndim > 0:
            raise RuntimeError(f"expected dtype {_dtype_word(x.dtype)} for `weight` but got "
                               f"dtype {_dtype_word(w.dtype)}")
        if x.dtype.kind not in "fc":
            raise _not_implemented("lerp_kernel_tensor", x.dtype)
        w = w.astype(x.dtype, copy=False)
    else:
        if x.dtype.kind not in "fc":
            raise _not_implemented("lerp_kernel_scalar", x.dtype)
        w = np.asarray(weight, dtype=x.dtype)
    # the same two-sided formula as torch, exact at both ends
    data = _apply(lambda a, b, c: np.where(np.abs(c) < 0.5, a + c * (b - a),
                                           b - (b - a) * (1 - c)), x, e, w).astype(x.dtype,
                                                                                   copy=False)
    if isinstance(weight, Tensor):
        return emit(data, LerpBackward1, (input, end, weight), (input, end, weight),
                    bcast=True, out=out)
    return emit(data, LerpBackward0, (input, end), meta=weight, bcast=True, out=out)


def _addcmul_rule(ns, g, value, t1, t2):
    return (g, None if t2 is None else g * t2 * value, None if t1 is None else g * t1 * value)


def _addcdiv_rule(ns, g, value, t1, t2):
    return g, g * value / t2, None if t1 is None else -g * value * t1 / (t2 * t2)


AddcmulBackward0 = node_class("AddcmulBackward0", _addcmul_rule, saved=("tensor1", "tensor2"),
                              meta=("value",))
AddcdivBackward0 = node_class("AddcdivBackward0", _addcdiv_rule, saved=("tensor1", "tensor2"),
                              meta=("value",))


def _addc_operands(input, t1, t2, value):
    rt = _dtype.result_type(input, t1, t2).np
    if isinstance(value, Tensor):
        value = value.item()
    if rt.kind in "iub":
        value = int(value)
    return rt, value


@defop(nodes=(AddcmulBackward0,), inplace=True, kind=ELEMENTWISE,
       samples=[S((2, 3), (3,), (2, 1), kwargs={"value": 0.5})])
def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 * tensor2."""
    rt, value = _addc_operands(input, tensor1, tensor2, value)
    if rt.kind == "b":
        raise _not_implemented("addcmul_cpu_out", rt)
    x, p, q = (t._data.astype(rt, copy=False) for t in (input, tensor1, tensor2))
    data = _apply(lambda a, b, c: a + value * b * c if value != 1 else a + b * c, x, p, q)
    data = np.asarray(data, dtype=rt)
    saved = (tensor1 if tensor2._rg else None, tensor2 if tensor1._rg else None)
    return emit(data, AddcmulBackward0, (input, tensor1, tensor2), saved, meta=value,
                bcast=True, out=out)


@defop(nodes=(AddcdivBackward0,), inplace=True, kind=ELEMENTWISE,
       samples=[S((2, 3), (3,), (2, 1), domain=_P, kwargs={"value": 2})])
def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 / tensor2."""
    if tensor1._data.dtype.kind in "iub" and tensor2._data.dtype.kind in "iub":
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))"
            ".to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for "
            "float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes.")
    rt, value = _addc_operands(input, tensor1, tensor2, value)
    x, p, q = (t._data.astype(rt, copy=False) for t in (input, tensor1, tensor2))
    with _quiet():
        data = _apply(lambda a, b, c: a + value * (b / c) if value != 1 else a + b / c, x, p, q)
    data = np.asarray(data, dtype=rt)
    saved = (tensor1 if tensor2._rg else None, tensor2)
    return emit(data, AddcdivBackward0, (input, tensor1, tensor2), saved, meta=value,
                bcast=True, out=out)


def _where_rule(ns, g, m, cond):
    return ns.where(cond, g, 0.0), ns.where(cond, 0.0, g)


WhereBackward0 = node_class("WhereBackward0", _where_rule, saved=("condition",))


def _where_method(self, condition, other):
    return where(condition, self, other)


def _where_sample(r):
    x = r.uniform(-2, 2, (2, 3))
    return [x > 0, x, r.uniform(-2, 2, (3,))]


def _where_batching(c, args, kwargs):
    if len(args) + len(kwargs) == 1:
        raise vmap_error("We do not support batching operators that can output dynamic shape. "
                         "Attempted to vmap over where(condition) (nonzero).")
    return elementwise(c, args, kwargs)


@defop(nodes=(WhereBackward0,), method=_where_method, kind=ELEMENTWISE, batch=_where_batching,
       samples=[S(make_inputs=_where_sample, np_ref=np.where),
                S(make_inputs=lambda r: [np.array(True), r.uniform(-2, 2, ())], args=(0.0,),
                  id="scalar")])
def where(condition, input=None, other=None, *, out=None):
    """Elements of input where condition holds, else of other; `where(cond)` gives the
    indices of the True elements, as nonzero(as_tuple=True) does."""
    c = condition._data
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if c.dtype != np.bool_:
        if c.dtype == np.uint8:
            c = c.astype(np.bool_)
        else:
            raise RuntimeError("where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {_legacy(c.dtype)}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        rt = _dtype.result_type(input, other).np
        x, y = np.asarray(input, dtype=rt), np.asarray(other, dtype=rt)
        return _finish(_make(np.where(c, x, y)), out)
    if isinstance(input, Tensor):
        a, b, x, y = binary_operands(input, other)
    else:
        b, a, y, x = binary_operands(other, input)
    data = _apply(np.where, c, x, y)
    if data.dtype != np.result_type(x, y):
        data = data.astype(np.result_type(x, y))
    cond = condition if condition._data.dtype == np.bool_ else _make(c)
    return emit(data, WhereBackward0, (a, b), (cond,), bcast=True, out=out)


def _t_where(cond, x, y):
    return where(cond, x, y)


ns_def("where", np.where, _t_where)

__all__ = publish(globals())
