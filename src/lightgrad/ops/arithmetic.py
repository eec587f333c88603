"""Arithmetic: add, sub, mul, div, remainder, pow and their operators, each declared once
with its rule.

Promotion follows torch (ops._core.binary_operands). The in-place forms add_/sub_/mul_/div_
have a fast path for the optimizer's update: under no_grad, on float tensors, the NumPy ufunc
writes straight into the tensor (`_ufunc_inplace`).
"""
import numpy as np

from .. import _dtype
from .._tensor import Tensor, _make
from .._graph.grad_mode import state as _state
from ._core import (ELEMENTWISE, RESULT, Sample as S, binary_operands, defop, emit,
                    float_operand, inplace, node_class, publish, scalar_arg, to_tensor)
from .elementwise import (_apply, _finish, _is_rg, _not_implemented, _off_integers, _P,
                          _quiet, broadcast_error, reciprocal, to_tensor_like)

def _scalar(v):
    """A Scalar argument (alpha=): a one-element tensor or a NumPy scalar as a number."""
    if isinstance(v, Tensor):
        return v.item()
    return scalar_arg(v) if isinstance(v, np.generic) else v


def _rtruediv(self, other):
    if isinstance(other, np.generic):
        other = scalar_arg(other)
    if isinstance(other, np.ndarray):   # torch's `self.reciprocal() * other` gives NumPy the
        return np.multiply(reciprocal(self), other)     # product (Tensor.__array_wrap__)
    return mul(reciprocal(self), other)


def _rsub_op(self, other):
    if isinstance(other, np.generic):
        other = scalar_arg(other)
    return rsub(self, other)


def _rmod(self, other):
    return remainder(scalar_arg(other) if isinstance(other, np.generic) else other, self)


def _reflected(fn):
    def op(self, other):
        return fn(to_tensor_like(other, self), self)
    return op


def _ufunc_inplace(ufunc):
    """A factory for defop(inplace=...): `op_` with the ufunc fast path below."""
    return lambda fn: _method_inplace_ufunc(fn, ufunc)


def _method_inplace_ufunc(fn, ufunc):
    """add_/sub_/mul_/div_ (add_/sub_ also with alpha): under no_grad on float tensors (the
    optimizer's update) the NumPy ufunc writes straight into the tensor; every other case
    takes inplace()."""
    takes_alpha = ufunc in (np.add, np.subtract)

    def method(self, other, *args, **kwargs):
        x = self._data
        alpha = kwargs.get("alpha", 1) if takes_alpha and len(kwargs) == 1 else None
        if not _state.grad_enabled and not args and (not kwargs or alpha is not None) \
                and self._x is None and x.dtype.kind == "f" and x.flags.writeable:
            if isinstance(other, Tensor):
                y = other._data
                ok = y.dtype == x.dtype
            else:
                y = other
                ok = type(other) is float or type(other) is int
            if alpha is not None and alpha != 1:    # p.add_(buf, alpha=-lr): one temporary
                ok = ok and (type(alpha) is float or type(alpha) is int)
                y = y * alpha if ok else y
            if ok:
                try:
                    ufunc(x, y, out=x)
                except ValueError:   # not broadcastable into self: inplace() gives the error
                    pass
                else:
                    self._vc[0] += 1
                    return self
        return inplace(self, fn, other, *args, **kwargs)
    method.__name__ = fn.__name__ + "_"
    return method



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
RsubBackward0 = node_class("RsubBackward0", lambda ns, g, alpha: (
    -g if alpha == 1 else g * -alpha, g), meta=("alpha",))

_SUB_BOOL = ("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
             "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
_SUB_BOOLS = ("Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
              "`^` or `logical_xor()` operator instead.")


def _alpha_check(dtype, alpha):
    """torch's checks of alpha= against the result dtype (add/sub)."""
    if isinstance(alpha, (bool, np.bool_)) and dtype != np.bool_:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if dtype.kind in "biu" and isinstance(alpha, (float, np.floating)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a "
                           "floating point number.")


def _check_sub(a, b, x):
    if x.dtype == np.bool_:
        raise RuntimeError(_SUB_BOOLS)
    if a._data.dtype == np.bool_ or isinstance(b, Tensor) and b._data.dtype == np.bool_ or \
            isinstance(b, (bool, np.bool_)):
        raise RuntimeError(_SUB_BOOL)


@defop(nodes=(AddBackward0,), inplace=_ufunc_inplace(np.add), kind=ELEMENTWISE,
       dunders=("__add__", "__radd__", "__iadd__"), samples=[
           S((3, 1), (1, 4), np_ref=np.add), S((2, 3), (3,), kwargs={"alpha": 2}, id="alpha")])
def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, broadcasting. `lightgrad.add(x, 2)`"""
    alpha = _scalar(alpha)
    a, b, x, y = binary_operands(input, other)
    if alpha != 1 or type(alpha) is not int:
        rt = np.result_type(x, y)
        _alpha_check(rt, alpha)
        if x.dtype == np.bool_ and rt == np.bool_:
            alpha = bool(alpha)         # torch computes in bool: alpha is True or False
            y = y if alpha else np.zeros_like(y)
            alpha = 1
    try:
        data = x + y if alpha == 1 else x + alpha * y
    except ValueError:
        raise broadcast_error(x.shape, np.shape(y)) from None
    return emit(data, AddBackward0, (a, b), meta=alpha, bcast=True, out=out)


@defop(aliases=("subtract",), nodes=(SubBackward0,), inplace=_ufunc_inplace(np.subtract),
       kind=ELEMENTWISE, dunders={"__sub__": None, "__isub__": None, "__rsub__": _rsub_op},
       samples=[S((2, 3), (2, 3), np_ref=np.subtract),
                S((2, 3), (3,), kwargs={"alpha": 2}, id="alpha")])
def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other, broadcasting."""
    alpha = _scalar(alpha)
    a, b, x, y = binary_operands(input, other)
    if x.dtype.kind == "b" or a._data.dtype.kind == "b":
        _check_sub(a, b, x)
    elif isinstance(b, Tensor) and b._data.dtype.kind == "b" or isinstance(b, bool):
        _check_sub(a, b, x)
    if alpha != 1 or type(alpha) is not int:
        _alpha_check(np.result_type(x, y), alpha)
    try:
        data = x - y if alpha == 1 else x - alpha * y
    except ValueError:
        raise broadcast_error(x.shape, np.shape(y)) from None
    return emit(data, SubBackward0, (a, b), meta=alpha, bcast=True, out=out)


@defop(nodes=(RsubBackward0, RsubBackward1), method=False, kind=ELEMENTWISE, samples=[
    S((2, 3), (3,), kwargs={"alpha": 2}, np_ref=lambda x, y: y - 2 * x),
    S((3,), args=(2,), id="scalar")])
def rsub(input, other, *, alpha=1):
    """other - alpha * input (what `2 - x` calls)."""
    alpha = _scalar(alpha)
    a, b, x, y = binary_operands(input, other)
    if a._data.dtype.kind == "b" or isinstance(other, (bool, np.bool_)):
        raise RuntimeError(_SUB_BOOLS if x.dtype.kind == "b" else _SUB_BOOL)
    data = y - x if alpha == 1 else y - alpha * x
    if isinstance(b, Tensor):     # rsub(Tensor, Tensor): both inputs are differentiable
        return emit(data, RsubBackward0, (a, b), meta=alpha, bcast=True)
    return emit(data, RsubBackward1, (a,), meta=alpha, bcast=True)




# -- mul / div ---------------------------------------------------------------------------
def _mul_rule(ns, g, meta, self, other):
    return (None if other is None else g * other), (None if self is None else g * self)


MulBackward0 = node_class("MulBackward0", _mul_rule, saved=("self", "other"))


@defop(aliases=("multiply",), nodes=(MulBackward0,), inplace=_ufunc_inplace(np.multiply),
       kind=ELEMENTWISE, dunders=("__mul__", "__rmul__", "__imul__"), samples=[
           S((3, 1), (1, 4), np_ref=np.multiply), S((), (2, 3), id="0d"),
           S((2, 2), args=(3,), id="scalar")])
def mul(input, other, *, out=None):
    """input * other, broadcasting."""
    a, b, x, y = binary_operands(input, other)
    try:
        data = x * y
    except ValueError:
        raise broadcast_error(x.shape, np.shape(y)) from None
    # save only what the other input's gradient reads, as torch does
    arg, brg = a._rg, _is_rg(b)
    return emit(data, MulBackward0, (a, b), (a if brg else None, b if arg else None),
                bcast=True, out=out)



def _div_rule(ns, g, meta, self, other):
    ga = None if meta[0] is False else g / other
    gb = None if self is None else -g * self / (other * other)
    return ga, gb


DivBackward0 = node_class("DivBackward0", _div_rule, saved=("self", "other"))
DivBackward2 = node_class("DivBackward2", lambda ns, g, m: (ns.zeros_like(g), ns.zeros_like(g)),
                          meta=("rounding_mode",))


def _not_implemented_rule(ns, g, op_name):
    raise RuntimeError(f"derivative for aten::{op_name} is not implemented")


# torch attaches this node where an op has no derivative formula; backward through it fails
NotImplementedNode = node_class("NotImplemented", _not_implemented_rule, meta=("op",))
NotImplementedNode.name = lambda self: "torch::autograd::NotImplemented"


def _true_div_operands(input, other):
    a, b, x, y = binary_operands(input, other)
    if x.dtype.kind in "biu":   # int / int is a float division in torch
        d = _dtype.get_default_dtype().np
        x = x.astype(d)
        y = np.asarray(y).astype(d) if not isinstance(y, float) else y
    return a, b, x, y


def _int_zero_check(x, y):
    if x.dtype.kind in "iub" and np.any(np.asarray(y) == 0):
        raise RuntimeError("ZeroDivisionError")


def _trunc_divide(x, y):
    if x.dtype.kind == "f":
        return np.trunc(x / y)
    q = np.floor_divide(x, y)
    # C division rounds toward zero: undo the floor where the exact quotient is negative
    return q + ((q < 0) & (q * y != x))


def _rounded_div_data(a, b, x, y, mode):
    kernel = {"trunc": "div_trunc_cpu", "floor": "div_floor_cpu"}[mode]
    if x.dtype.kind == "b":
        raise _not_implemented(kernel, x.dtype)
    _int_zero_check(x, y)
    with _quiet():
        return _apply(_trunc_divide if mode == "trunc" else np.floor_divide, x, y)


def _div_rounding(input, other, rounding_mode, out):
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found '{rounding_mode}'")
    a, b, x, y = binary_operands(input, other)
    data = _rounded_div_data(a, b, x, y, rounding_mode)
    return emit(data, DivBackward2, (a, b), meta=rounding_mode, bcast=True, out=out)


@defop(aliases=("divide",), nodes=(DivBackward0, DivBackward2),
       inplace=_ufunc_inplace(np.true_divide), kind=ELEMENTWISE,
       dunders={"__truediv__": None, "__itruediv__": None, "__rtruediv__": _rtruediv},
       samples=[S((2, 3), (3,), domain=_P, np_ref=np.divide),
                S((2, 3), (3,), domain=_P, kwargs={"rounding_mode": "floor"}, id="floor"),
                S((3,), (), kwargs={"rounding_mode": "trunc"}, id="trunc")])
def div(input, other, *, rounding_mode=None, out=None):
    """input / other; rounding_mode 'trunc' or 'floor' rounds the quotient."""
    if rounding_mode is not None:
        return _div_rounding(input, other, rounding_mode, out)
    a, b, x, y = _true_div_operands(input, other)
    with _quiet():
        data = _apply(np.true_divide, x, y)
    arg = a._rg
    return emit(data, DivBackward0, (a, b), (a if _is_rg(b) else None, b), meta=(arg,),
                bcast=True, out=out)


@defop(nodes=(DivBackward0,), inplace=True, kind=ELEMENTWISE,
       samples=[S((3,), (), domain=_P, np_ref=np.divide)])
def true_divide(input, other, *, out=None):
    return div(input, other, out=out)


def _rfloordiv(self, other):
    return floor_divide(to_tensor_like(other, self), self)


@defop(nodes=(NotImplementedNode,), inplace=True, kind=ELEMENTWISE,
       dunders={"__floordiv__": None, "__ifloordiv__": None, "__rfloordiv__": _rfloordiv},
       samples=[S((2, 3), (3,), domain=_P, grad=False, np_ref=np.floor_divide)])
def floor_divide(input, other, *, out=None):
    """input // other (floor rounding); torch has no derivative for it."""
    a, b, x, y = binary_operands(input, other)
    data = _rounded_div_data(a, b, x, y, "floor")
    return emit(data, NotImplementedNode, (a, b), meta="floor_divide", bcast=True, out=out)


# -- remainder / fmod -------------------------------------------------------------------
RemainderBackward0 = node_class("RemainderBackward0", lambda ns, g, m: (g,))
RemainderBackward1 = node_class(
    "RemainderBackward1", lambda ns, g, m, self, other: (g, -g * ns.floor(self / other)),
    saved=("self", "other"))
FmodBackward0 = node_class("FmodBackward0", lambda ns, g, m: (g,))
FmodBackward1 = node_class(
    "FmodBackward1", lambda ns, g, m, self, other: (g, -g * ns.trunc(self / other)),
    saved=("self", "other"))


def _mod_op(kernel, np_fn, cls0, cls1, input, other, out):
    if not isinstance(input, Tensor):         # scalar % tensor: no derivative in torch
        b = to_tensor(other)
        a, _, x, y = binary_operands(to_tensor_like(input, b), b)
        if x.dtype.kind == "b":
            raise _not_implemented(kernel, x.dtype)
        _int_zero_check(x, y)
        with _quiet():
            data = np_fn(x, y)
        return emit(data, NotImplementedNode, (a, b), meta="remainder", bcast=True, out=out)
    a, b, x, y = binary_operands(input, other)
    if x.dtype.kind == "b":
        raise _not_implemented(kernel, x.dtype)
    _int_zero_check(x, y)
    with _quiet():
        data = _apply(np_fn, x, y)
    if isinstance(b, Tensor):
        return emit(data, cls1, (a, b), (a, b), bcast=True, out=out)
    return emit(data, cls0, (a,), out=out)


def _mod_sample(rng):
    """Dividends away from the jumps of remainder/fmod at multiples of the divisors."""
    return [rng.uniform(-3, 3, (2, 3)), np.array([0.7, -1.3, 2.1])]


@defop(nodes=(RemainderBackward0, RemainderBackward1), inplace=True, kind=ELEMENTWISE,
       dunders={"__mod__": None, "__imod__": None, "__rmod__": _rmod}, samples=[
           S(make_inputs=_mod_sample, np_ref=np.remainder),
           S((2, 3), domain=_off_integers, args=(0.7,), id="scalar")])
def remainder(input, other, *, out=None):
    """Python's modulus: the result has the sign of `other`. `x % y`"""
    return _mod_op("remainder_cpu", np.remainder, RemainderBackward0, RemainderBackward1,
                   input, other, out)


@defop(nodes=(FmodBackward0, FmodBackward1), inplace=True, kind=ELEMENTWISE, samples=[
    S(make_inputs=_mod_sample, np_ref=np.fmod),
    S((2, 3), domain=_off_integers, args=(0.7,), id="scalar")])
def fmod(input, other, *, out=None):
    """C's fmod: the result has the sign of `input`."""
    return _mod_op("fmod_cpu", np.fmod, FmodBackward0, FmodBackward1, input, other, out)




# -- pow ---------------------------------------------------------------------------------
def _pow0_rule(ns, g, exponent, self):
    if exponent == 0:
        return (g * 0,)
    if exponent == 2:                   # the common square: one op fewer
        return (g * (2 * self),)
    return (g * exponent * self ** (exponent - 1),)


def _pow1_rule(ns, g, meta, self, exponent, result):
    # exponent is saved when self requires grad, result when exponent does
    ga = None if exponent is None else g * exponent * self ** (exponent - 1)
    gb = None if result is None else \
        g * result * ns.log(ns.where(self > 0, self, self * 0 + 1)) * (self > 0)
    return ga, gb


def _pow2_rule(ns, g, base, result):
    # d/dx base**x = base**x * log(base)
    return (g * result * float(np.log(base)),)


PowBackward0 = node_class("PowBackward0", _pow0_rule, saved=("self",), meta=("exponent",))
PowBackward1 = node_class("PowBackward1", _pow1_rule, saved=("self", "exponent", "result"))
PowBackward2 = node_class("PowBackward2", _pow2_rule, saved=("result",), meta=("self",))


def _np_pow(x, y):
    """np.power, with torch's integer results for negative integer exponents (which NumPy
    refuses): 1 ** -n = 1, (-1) ** -n = +-1, anything else ** -n = 0."""
    if x.dtype.kind not in "iu":
        return np.power(x, y)
    y = np.asarray(y)
    neg = y < 0
    if not neg.any():
        return np.power(x, y)
    r = np.power(x, np.where(neg, 0, y).astype(y.dtype))
    odd = (y % 2) != 0
    alt = np.where(x == 1, 1, np.where(x == -1, np.where(odd, -1, 1), 0))
    return np.where(neg, alt, r).astype(r.dtype)


def _rpow(self, base):
    """base ** self for a scalar base."""
    b = to_tensor(self)
    if isinstance(base, np.generic):
        base = scalar_arg(base)
    x = b._data if b._data.dtype.kind in "fc" or isinstance(base, int) else float_operand(b)
    if x.dtype.kind == "b":
        if isinstance(base, bool):
            raise NotImplementedError("\"pow\" not implemented for 'Bool'")
        x = x.astype(np.int64)
    with _quiet():
        data = _np_pow(np.asarray(base, dtype=x.dtype), x)
    return emit(data, PowBackward2, (b,), (RESULT,), meta=base)


@defop(nodes=(PowBackward0, PowBackward1, PowBackward2), inplace=True, kind=ELEMENTWISE,
       dunders={"__pow__": None, "__ipow__": None, "__rpow__": _rpow}, samples=[
           S((2, 3), args=(3,)), S((2, 2), domain=_P, args=(0.5,), id="sqrt"),
           S((2, 3), (3,), domain=_P, id="tensor"), S((3,), (), domain=_P, id="0d-exponent")])
def pow(input, exponent, *, out=None):
    """input ** exponent; either may be a scalar."""
    if not isinstance(input, Tensor):          # scalar ** tensor
        return _finish(_rpow(exponent, input), out)
    if isinstance(exponent, Tensor):
        a, b, x, y = binary_operands(input, exponent)
        if x.dtype.kind == "b":
            raise NotImplementedError("\"pow\" not implemented for 'Bool'")
        with _quiet():
            data = _apply(_np_pow, x, y)
        return emit(data, PowBackward1, (a, b), (a, b if a._rg else None,
                                                 RESULT if b._rg else None),
                    bcast=True, out=out)
    if isinstance(exponent, np.generic):
        exponent = scalar_arg(exponent)
    a, _, x, y = binary_operands(input, exponent)
    if x.dtype.kind == "b":      # only bool ** bool stays bool
        data = x.copy() if exponent else np.ones_like(x)
    else:
        if x.dtype.kind in "iu" and np.asarray(y).dtype.kind in "iu" and y < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        with _quiet():
            data = np.power(x, y)
    return emit(data, PowBackward0, (a,), (a,), meta=exponent, out=out)


@defop(nodes=(PowBackward0,), inplace=True, kind=ELEMENTWISE,
       samples=[S((2, 3), np_ref=np.square)])
def square(input, *, out=None):
    """input ** 2 (PowBackward0, as in torch)."""
    if input._data.dtype.kind == "b":
        return _finish(_make(input._data.astype(np.int64)), out)
    return pow(input, 2, out=out)



__all__ = publish(globals())
