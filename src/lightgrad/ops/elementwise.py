"""Elementwise arithmetic and math functions, each beside its derivative rule."""
import numpy as np

from .. import _dtype
from .._tensor import Tensor, _make
from ..autograd.grad_mode import state as _state
from ._core import (NP, RESULT, T, binary_operands, declare, float_operand, inplace, node_class,
                    ns_def, record, to_out, to_tensor)

__all__ = ["add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide",
           "neg", "negative", "pow", "exp", "log", "sqrt", "relu", "clamp", "clip",
           "reciprocal", "square", "sin", "cos", "tanh", "sigmoid", "abs"]


def _is_rg(t):
    return isinstance(t, Tensor) and t._rg


# -- add / sub ---------------------------------------------------------------------------
def _add_rule(ns, g, alpha):
    return g, (g if alpha == 1 else g * alpha)


def _sub_rule(ns, g, alpha):
    return g, (-g if alpha == 1 else g * -alpha)


AddBackward0 = node_class("AddBackward0", _add_rule, meta=("alpha",))
SubBackward0 = node_class("SubBackward0", _sub_rule, meta=("alpha",))
RsubBackward1 = node_class("RsubBackward1", lambda ns, g, alpha: (-g if alpha == 1 else
                                                                   g * -alpha,),
                           meta=("alpha",))


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, broadcasting. `lightgrad.add(x, 2)`"""
    a, b, x, y = binary_operands(input, other)
    data = x + y if alpha == 1 else x + alpha * y
    if _state.grad_enabled and (a._rg or _is_rg(b)):
        r = record(data, AddBackward0, (a, b), meta=alpha, bcast=True)
    else:
        r = _make(data)
    return r if out is None else to_out(r, out)


def sub(input, other, *, alpha=1, out=None):
    a, b, x, y = binary_operands(input, other)
    if x.dtype == np.bool_:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    data = x - y if alpha == 1 else x - alpha * y
    if _state.grad_enabled and (a._rg or _is_rg(b)):
        r = record(data, SubBackward0, (a, b), meta=alpha, bcast=True)
    else:
        r = _make(data)
    return r if out is None else to_out(r, out)


def rsub(input, other, *, alpha=1):
    """other - alpha * input (what `2 - x` calls)."""
    a, b, x, y = binary_operands(input, other)
    data = y - x if alpha == 1 else y - alpha * x
    if _state.grad_enabled and a._rg:
        return record(data, RsubBackward1, (a,), meta=alpha, bcast=True)
    return _make(data)


subtract = sub


# -- mul / div ---------------------------------------------------------------------------
def _mul_rule(ns, g, meta, self, other):
    return (None if other is None else g * other), (None if self is None else g * self)


MulBackward0 = node_class("MulBackward0", _mul_rule, saved=("self", "other"))


def mul(input, other, *, out=None):
    a, b, x, y = binary_operands(input, other)
    data = x * y
    if _state.grad_enabled:
        arg = a._rg
        brg = isinstance(b, Tensor) and b._rg
        if arg or brg:
            # save only what the other input's gradient reads, as torch does
            r = record(data, MulBackward0, (a, b), (a if brg else None, b if arg else None),
                       bcast=True)
            return r if out is None else to_out(r, out)
    r = _make(data)
    return r if out is None else to_out(r, out)


multiply = mul


def _div_rule(ns, g, meta, self, other):
    ga = None if meta[0] is False else g / other
    gb = None if self is None else -g * self / (other * other)
    return ga, gb


DivBackward0 = node_class("DivBackward0", _div_rule, saved=("self", "other"))


def _true_div_operands(input, other):
    a, b, x, y = binary_operands(input, other)
    if x.dtype.kind in "biu":   # int / int is a float division in torch
        d = _dtype.get_default_dtype().np
        x = x.astype(d)
        y = np.asarray(y).astype(d) if not isinstance(y, float) else y
    return a, b, x, y


def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode is not None:
        from .arith import div_rounding
        return div_rounding(input, other, rounding_mode, out)
    a, b, x, y = _true_div_operands(input, other)
    data = x / y
    if _state.grad_enabled:
        arg, brg = a._rg, _is_rg(b)
        if arg or brg:
            r = record(data, DivBackward0, (a, b), (a if brg else None, b), meta=(arg,),
                       bcast=True)
            return r if out is None else to_out(r, out)
    r = _make(data)
    return r if out is None else to_out(r, out)


divide = true_divide = div


# -- unary functions ---------------------------------------------------------------------
def unary(name, np_fn, rule, save="self", node_name=None, floating=True):
    """Declare a one-input elementwise op: `np_fn` forward, `rule(ns, g, meta, saved)`.
    save is "self" (the input), "result" (the output) or None."""
    cls = node_class(node_name or name.capitalize() + "Backward0", rule,
                     saved=(save,) if save else ())
    to_save = {"self": None, "result": (RESULT,), None: ()}[save]

    def op(input, *, out=None):
        if not isinstance(input, Tensor):
            input = to_tensor(input)
        x = float_operand(input) if floating else input._data
        data = np_fn(x)
        if _state.grad_enabled and input._rg:
            r = record(data, cls, (input,), (input,) if to_save is None else to_save)
        else:
            r = _make(data)
        return r if out is None else to_out(r, out)

    op.__name__ = op.__qualname__ = name
    declare(name, cls.__name__)
    return op


neg = unary("neg", np.negative, lambda ns, g, m: (-g,), save=None, floating=False)
negative = neg
exp = unary("exp", np.exp, lambda ns, g, m, r: (g * r,), save="result")
log = unary("log", np.log, lambda ns, g, m, x: (g / x,))
sqrt = unary("sqrt", np.sqrt, lambda ns, g, m, r: (g / (2 * r),), save="result")
reciprocal = unary("reciprocal", np.reciprocal, lambda ns, g, m, r: (-g * r * r,),
                   save="result")
sin = unary("sin", np.sin, lambda ns, g, m, x: (g * ns.cos(x),))
cos = unary("cos", np.cos, lambda ns, g, m, x: (-g * ns.sin(x),))
tanh = unary("tanh", np.tanh, lambda ns, g, m, r: (g * (1 - r * r),), save="result")
abs = unary("abs", np.abs, lambda ns, g, m, x: (g * ns.sign(x),), floating=False)
sign = unary("sign", np.sign, lambda ns, g, m: (g * 0,), save=None, floating=False)


def _np_sigmoid(x):
    # NOTE: split by sign so exp never overflows
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) /
                    (1 + np.exp(-np.abs(x)))).astype(x.dtype, copy=False)


sigmoid = unary("sigmoid", _np_sigmoid, lambda ns, g, m, r: (g * r * (1 - r),), save="result")


def _relu_rule(ns, g, m, r):
    # NOTE: relu'(0) is taken as 0, as torch does
    return (g * (r > 0),)


_relu_fwd = unary("relu", lambda x: np.maximum(x, 0), _relu_rule, save="result",
                  floating=False)


def relu(input):
    if input._data.dtype == np.bool_:
        raise RuntimeError('"clamp_min_cpu" not implemented for \'Bool\'')
    return _relu_fwd(input)


ns_def("exp", np.exp, exp)
ns_def("log", np.log, log)
ns_def("sqrt", np.sqrt, sqrt)
ns_def("sin", np.sin, sin)
ns_def("cos", np.cos, cos)
ns_def("sign", np.sign, sign)
ns_def("sigmoid", _np_sigmoid, sigmoid)
ns_def("tanh", np.tanh, tanh)


# -- pow ---------------------------------------------------------------------------------
def _pow0_rule(ns, g, exponent, self):
    if exponent == 0:
        return (g * 0,)
    return (g * exponent * self ** (exponent - 1),)


def _pow1_rule(ns, g, meta, self, exponent, result):
    ga = None if self is None else g * exponent * self ** (exponent - 1)
    gb = None if exponent is None or result is None else \
        g * result * ns.log(ns.where(self > 0, self, self * 0 + 1)) * (self > 0)
    return ga, gb


def _pow2_rule(ns, g, base, result):
    # d/dx base**x = base**x * log(base)
    return (g * result * float(np.log(base)),)


PowBackward0 = node_class("PowBackward0", _pow0_rule, saved=("self",), meta=("exponent",))
PowBackward1 = node_class("PowBackward1", _pow1_rule, saved=("self", "exponent", "result"))
PowBackward2 = node_class("PowBackward2", _pow2_rule, saved=("result",), meta=("self",))


def pow(input, exponent, *, out=None):
    if not isinstance(input, Tensor):          # scalar ** tensor
        return _rpow(exponent, input)
    if isinstance(exponent, Tensor):
        a, b, x, y = binary_operands(input, exponent)
        _check_int_pow(x, y)
        data = np.power(x, y)
        if _state.grad_enabled and (a._rg or b._rg):
            r = record(data, PowBackward1, (a, b), (a, b if a._rg else None,
                                                    RESULT if b._rg else None), bcast=True)
            return r if out is None else to_out(r, out)
        return to_out(_make(data), out)
    a, _, x, y = binary_operands(input, exponent)
    _check_int_pow(x, y)
    data = np.power(x, y)
    if _state.grad_enabled and a._rg:
        r = record(data, PowBackward0, (a,), (a,), meta=exponent)
    else:
        r = _make(data)
    return r if out is None else to_out(r, out)


def _check_int_pow(x, y):
    if x.dtype.kind in "iu" and np.asarray(y).dtype.kind in "iu" and np.any(np.asarray(y) < 0):
        raise RuntimeError("Integers to negative integer powers are not allowed.")


def _rpow(self, base):
    """base ** self for a scalar base."""
    b = to_tensor(self)
    x = b._data if b._data.dtype.kind in "fc" or isinstance(base, int) else float_operand(b)
    data = np.power(np.asarray(base, dtype=x.dtype), x)
    if _state.grad_enabled and b._rg:
        return record(data, PowBackward2, (b,), (RESULT,), meta=base)
    return _make(data)


def square(input):
    return pow(input, 2)


# -- clamp -------------------------------------------------------------------------------
def _clamp1_rule(ns, g, meta, self):
    lo, hi = meta
    mask = True
    if lo is not None:
        mask = self >= lo
    if hi is not None:
        mask = (self <= hi) if lo is None else mask * (self <= hi)
    return (g * mask,)


def _clamp0_rule(ns, g, meta, self, lo, hi):
    inside = 1
    if lo is not None:
        inside = self >= lo
    if hi is not None:
        inside = (self <= hi) if lo is None else inside * (self <= hi)
    gs = g * inside
    glo = None if lo is None or not meta[0] else g * (self < lo)
    ghi = None if hi is None or not meta[1] else g * (self > hi) * (1 if lo is None else
                                                                    (self >= lo))
    return gs, glo, ghi


ClampBackward1 = node_class("ClampBackward1", _clamp1_rule, saved=("self",),
                            meta=("min", "max"))
ClampBackward0 = node_class("ClampBackward0", _clamp0_rule, saved=("self", "min", "max"))


def clamp(input, min=None, max=None, *, out=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        lo = None if min is None else to_tensor(min)
        hi = None if max is None else to_tensor(max)
        x = input._data
        data = x
        if lo is not None:
            data = np.maximum(data, lo._data)
        if hi is not None:
            data = np.minimum(data, hi._data)
        data = data.astype(_dtype.result_type(*[t for t in (input, lo, hi) if t is not None]).np,
                           copy=False)
        if _state.grad_enabled and any(_is_rg(t) for t in (input, lo, hi)):
            r = record(data, ClampBackward0, (input, lo, hi), (input, lo, hi),
                       meta=(_is_rg(lo), _is_rg(hi)), bcast=True)
            return r if out is None else to_out(r, out)
        return to_out(_make(data), out)
    x = input._data
    if isinstance(min, float) or isinstance(max, float):
        x = float_operand(input)
    data = np.clip(x, min, max) if x.dtype.kind != "b" else np.clip(x.astype(np.int64), min, max)
    if _state.grad_enabled and input._rg:
        r = record(data, ClampBackward1, (input,), (input,), meta=(min, max))
    else:
        r = _make(data)
    return r if out is None else to_out(r, out)


clip = clamp

declare("add", "AddBackward0")
declare("sub subtract", "SubBackward0")
declare("rsub", "RsubBackward1")
declare("mul multiply", "MulBackward0")
declare("div divide true_divide", "DivBackward0")
declare("pow", "PowBackward0", "PowBackward1", "PowBackward2")
declare("clamp clip", "ClampBackward0", "ClampBackward1")
declare("square", "PowBackward0")


# -- Tensor methods and operators ----------------------------------------------------------
def _rtruediv(self, other):
    return mul(reciprocal(self), other)


def _rsub_op(self, other):
    return rsub(self, other)


def _method_inplace(fn):
    def method(self, *args, **kwargs):
        return inplace(self, fn, *args, **kwargs)
    method.__name__ = fn.__name__ + "_"
    return method


for _name in ["add", "sub", "mul", "div", "pow", "exp", "log", "sqrt", "relu", "clamp", "neg",
              "reciprocal", "square", "sin", "cos", "tanh", "sigmoid", "abs", "sign",
              "subtract", "multiply", "divide", "true_divide", "negative", "clip"]:
    _fn = globals()[_name]
    setattr(Tensor, _name, _fn)
    setattr(Tensor, _name + "_", _method_inplace(_fn))

Tensor.__add__ = Tensor.__radd__ = add
Tensor.__iadd__ = Tensor.add_
Tensor.__sub__ = sub
Tensor.__rsub__ = _rsub_op
Tensor.__isub__ = Tensor.sub_
Tensor.__mul__ = Tensor.__rmul__ = mul
Tensor.__imul__ = Tensor.mul_
Tensor.__truediv__ = div
Tensor.__rtruediv__ = _rtruediv
Tensor.__itruediv__ = Tensor.div_
Tensor.__pow__ = pow
Tensor.__rpow__ = _rpow
Tensor.__ipow__ = Tensor.pow_
Tensor.__neg__ = neg
Tensor.__abs__ = abs
Tensor.__pos__ = lambda self: self
Tensor.clamp_min = lambda self, min: clamp(self, min=min)
Tensor.clamp_max = lambda self, max: clamp(self, max=max)
