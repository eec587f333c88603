"""Elementwise arithmetic, math functions, comparisons and logic, each beside its rule.

Type promotion follows torch (ops._core.binary_operands): dimensioned tensors beat 0-d
tensors beat Python scalars within a category, and bool < int < float across categories.
Functions of a real variable (exp, sin, erf, ...) turn int and bool inputs into the
default float dtype; rounding functions (floor, ...) keep integer inputs as they are.
"""
import math

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _make
from ..autograd import forward_ad
from ..autograd.grad_mode import state as _state
from ._erf import SQRT_PI as _SQRT_PI, TWO_OVER_SQRT_PI as _TWO_OVER_SQRT_PI
from ._erf import np_erf, np_erfc, np_erfinv
from ._core import (RESULT, binary_operands, declare, float_operand, inplace, inplace_method,
                    check_inplace, node_class, ns_def, record, to_out, to_tensor, write_into)

__all__ = []


def _export(*names):
    __all__.extend(names)


def _is_rg(t):
    return isinstance(t, Tensor) and t._rg


def _finish(r, out):
    return r if out is None else to_out(r, out)


def _legacy(np_dtype):
    return _dtype.from_numpy_dtype(np.dtype(np_dtype))._legacy


def _not_implemented(kernel, np_dtype):
    return NotImplementedError(f'"{kernel}" not implemented for \'{_legacy(np_dtype)}\'')


def _want_tensor(fname, other, pos=2):
    """torch's function forms of some binary ops take only a Tensor as `other`."""
    if not isinstance(other, Tensor):
        raise TypeError(f"{fname}(): argument 'other' (position {pos}) must be Tensor, not "
                        f"{type(other).__name__}")


def broadcast_error(*shapes):
    """torch's RuntimeError for shapes that do not broadcast together."""
    nd = max(len(s) for s in shapes)
    padded = [(1,) * (nd - len(s)) + tuple(s) for s in shapes]
    for d in range(nd - 1, -1, -1):
        sizes = [p[d] for p in padded]
        big = [s for s in sizes if s != 1]
        if big and any(s != big[0] for s in big):
            i = next(k for k, s in enumerate(sizes) if s != 1)
            j = next(k for k, s in enumerate(sizes) if s != 1 and s != sizes[i])
            a, b = (i, j) if i < j else (j, i)
            return RuntimeError(f"The size of tensor a ({padded[a][d]}) must match the size of "
                                f"tensor b ({padded[b][d]}) at non-singleton dimension {d}")
    return RuntimeError(f"shapes {[list(s) for s in shapes]} cannot be broadcast")


def _apply(fn, *arrays):
    """fn(*arrays), turning NumPy's broadcasting ValueError into torch's RuntimeError."""
    try:
        return fn(*arrays)
    except ValueError:
        shapes = [np.shape(a) for a in arrays]
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            raise broadcast_error(*shapes) from None
        raise


def _quiet():
    """Silence NumPy's floating-point warnings: torch gives inf/nan without a word."""
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")


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


def _check_sub(a, b, x):
    if x.dtype == np.bool_:
        raise RuntimeError(_SUB_BOOLS)
    if a._data.dtype == np.bool_ or isinstance(b, Tensor) and b._data.dtype == np.bool_ or \
            isinstance(b, (bool, np.bool_)):
        raise RuntimeError(_SUB_BOOL)


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, broadcasting. `lightgrad.add(x, 2)`"""
    a, b, x, y = binary_operands(input, other)
    try:
        data = x + y if alpha == 1 else x + alpha * y
    except ValueError:
        raise broadcast_error(x.shape, np.shape(y)) from None
    if _state.grad_enabled and (a._rg or _is_rg(b)):
        r = record(data, AddBackward0, (a, b), meta=alpha, bcast=True)
    else:
        r = _make(data)
    return r if out is None else to_out(r, out)


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other, broadcasting."""
    a, b, x, y = binary_operands(input, other)
    if x.dtype.kind == "b" or a._data.dtype.kind == "b":
        _check_sub(a, b, x)
    elif isinstance(b, Tensor) and b._data.dtype.kind == "b" or isinstance(b, bool):
        _check_sub(a, b, x)
    try:
        data = x - y if alpha == 1 else x - alpha * y
    except ValueError:
        raise broadcast_error(x.shape, np.shape(y)) from None
    if _state.grad_enabled and (a._rg or _is_rg(b)):
        r = record(data, SubBackward0, (a, b), meta=alpha, bcast=True)
    else:
        r = _make(data)
    return r if out is None else to_out(r, out)


def rsub(input, other, *, alpha=1):
    """other - alpha * input (what `2 - x` calls)."""
    a, b, x, y = binary_operands(input, other)
    if a._data.dtype.kind == "b" or isinstance(other, (bool, np.bool_)):
        raise RuntimeError(_SUB_BOOLS if x.dtype.kind == "b" else _SUB_BOOL)
    data = y - x if alpha == 1 else y - alpha * x
    if isinstance(b, Tensor):     # rsub(Tensor, Tensor): both inputs are differentiable
        if _state.grad_enabled and (a._rg or b._rg):
            return record(data, RsubBackward0, (a, b), meta=alpha, bcast=True)
    elif _state.grad_enabled and a._rg:
        return record(data, RsubBackward1, (a,), meta=alpha, bcast=True)
    return _make(data)


subtract = sub
_export("add", "sub", "subtract", "rsub")


# -- mul / div ---------------------------------------------------------------------------
def _mul_rule(ns, g, meta, self, other):
    return (None if other is None else g * other), (None if self is None else g * self)


MulBackward0 = node_class("MulBackward0", _mul_rule, saved=("self", "other"))


def mul(input, other, *, out=None):
    """input * other, broadcasting."""
    a, b, x, y = binary_operands(input, other)
    try:
        data = x * y
    except ValueError:
        raise broadcast_error(x.shape, np.shape(y)) from None
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
    if _state.grad_enabled and (a._rg or _is_rg(b)):
        r = record(data, DivBackward2, (a, b), meta=rounding_mode, bcast=True)
    else:
        r = _make(data)
    return _finish(r, out)


def div(input, other, *, rounding_mode=None, out=None):
    """input / other; rounding_mode 'trunc' or 'floor' rounds the quotient."""
    if rounding_mode is not None:
        return _div_rounding(input, other, rounding_mode, out)
    a, b, x, y = _true_div_operands(input, other)
    with _quiet():
        data = _apply(np.true_divide, x, y)
    if _state.grad_enabled:
        arg, brg = a._rg, _is_rg(b)
        if arg or brg:
            r = record(data, DivBackward0, (a, b), (a if brg else None, b), meta=(arg,),
                       bcast=True)
            return r if out is None else to_out(r, out)
    r = _make(data)
    return r if out is None else to_out(r, out)


divide = div


def true_divide(input, other, *, out=None):
    return div(input, other, out=out)


def floor_divide(input, other, *, out=None):
    """input // other (floor rounding); torch has no derivative for it."""
    a, b, x, y = binary_operands(input, other)
    data = _rounded_div_data(a, b, x, y, "floor")
    if _state.grad_enabled and (a._rg or _is_rg(b)):
        r = record(data, NotImplementedNode, (a, b), meta="floor_divide", bcast=True)
    else:
        r = _make(data)
    return _finish(r, out)


def _rfloordiv(self, other):
    return floor_divide(to_tensor_like(other, self), self)


_export("mul", "multiply", "div", "divide", "true_divide", "floor_divide")


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
        if _state.grad_enabled and b._rg:
            return _finish(record(data, NotImplementedNode, (a, b), meta="remainder",
                                  bcast=True), out)
        return _finish(_make(data), out)
    a, b, x, y = binary_operands(input, other)
    if x.dtype.kind == "b":
        raise _not_implemented(kernel, x.dtype)
    _int_zero_check(x, y)
    with _quiet():
        data = _apply(np_fn, x, y)
    if _state.grad_enabled and (a._rg or _is_rg(b)):
        if isinstance(b, Tensor):
            r = record(data, cls1, (a, b), (a, b), bcast=True)
        else:
            r = record(data, cls0, (a,))
    else:
        r = _make(data)
    return _finish(r, out)


def remainder(input, other, *, out=None):
    """Python's modulus: the result has the sign of `other`. `x % y`"""
    return _mod_op("remainder_cpu", np.remainder, RemainderBackward0, RemainderBackward1,
                   input, other, out)


def fmod(input, other, *, out=None):
    """C's fmod: the result has the sign of `input`."""
    return _mod_op("fmod_cpu", np.fmod, FmodBackward0, FmodBackward1, input, other, out)


def to_tensor_like(x, like):
    """A scalar on the left of an operator as a 0-d tensor of the dtype the scalar would
    promote to against `like` (so `2 // t` has the dtype of `t // 2`)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.generic):
        x = x.item()
    return _make(np.asarray(x, dtype=_dtype.result_type(like, x).np))


_export("remainder", "fmod")


# -- unary functions ---------------------------------------------------------------------
_FLOAT, _KEEP, _ROUND = "float", "keep", "round"


def unary(name, np_fn, rule, save="self", node_name=None, floating=True, kind=None,
          reject=None, quiet=False):
    """Declare a one-input elementwise op: `np_fn` forward, `rule(ns, g, meta, saved)`.

    save: "self" (the input), "result" (the output) or None.
    kind: _FLOAT (int and bool inputs become the default float), _KEEP (the dtype stays),
          _ROUND (integer inputs come back as a copy, as floor/round/... do in torch).
    reject: {dtype kind: error maker(np dtype)} for dtypes torch refuses."""
    if kind is None:
        kind = _FLOAT if floating else _KEEP
    cls = node_class(node_name or name.capitalize() + "Backward0", rule,
                     saved=(save,) if save else (), jvp=forward_ad.DIAGONAL)
    to_save = {"self": None, "result": (RESULT,), None: ()}[save]

    def op(input, *, out=None):
        if not isinstance(input, Tensor):
            input = to_tensor(input)
        x = input._data
        k = x.dtype.kind
        if k not in "fc":
            if reject is not None and k in reject:
                raise reject[k](x.dtype)
            if kind == _FLOAT:
                x = x.astype(_dtype.get_default_dtype().np)
            elif kind == _ROUND:
                return _finish(_make(x.copy()), out)
        if quiet:
            with _quiet():
                data = np_fn(x)
        else:
            data = np_fn(x)
        if _state.grad_enabled and input._rg:
            r = record(data, cls, (input,), (input,) if to_save is None else to_save)
        else:
            r = _make(data)
        return r if out is None else to_out(r, out)

    op.__name__ = op.__qualname__ = name
    declare(name, cls.__name__)
    _export(name)
    return op


def _kernel_err(kernel):
    return lambda dt: _not_implemented(kernel, dt)


def _zero_rule(ns, g, m):
    # NOTE: piecewise-constant functions: zero gradient (exact zeros, even for inf/nan grads)
    return (ns.zeros_like(g),)


_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _neg_bool(dt):
    return RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                        "are trying to invert a mask, use the `~` or `logical_not()` operator "
                        "instead.")


neg = unary("neg", np.negative, lambda ns, g, m: (-g,), save=None, floating=False,
            reject={"b": _neg_bool})
negative = neg
_export("negative")
exp = unary("exp", np.exp, lambda ns, g, m, r: (g * r,), save="result", quiet=True)
exp2 = unary("exp2", np.exp2, lambda ns, g, m, r: (g * r * _LN2,), save="result", quiet=True)
expm1 = unary("expm1", np.expm1, lambda ns, g, m, r: (g * (r + 1),), save="result", quiet=True)
log = unary("log", np.log, lambda ns, g, m, x: (g / x,), quiet=True)
log2 = unary("log2", np.log2, lambda ns, g, m, x: (g / (x * _LN2),), quiet=True)
log10 = unary("log10", np.log10, lambda ns, g, m, x: (g / (x * _LN10),), quiet=True)
log1p = unary("log1p", np.log1p, lambda ns, g, m, x: (g / (x + 1),), node_name="Log1PBackward0",
              quiet=True)
sqrt = unary("sqrt", np.sqrt, lambda ns, g, m, r: (g / (2 * r),), save="result", quiet=True)


def _np_rsqrt(x):
    return np.reciprocal(np.sqrt(x))


rsqrt = unary("rsqrt", _np_rsqrt, lambda ns, g, m, r: (g * -0.5 * r * r * r,), save="result",
              quiet=True)
reciprocal = unary("reciprocal", np.reciprocal, lambda ns, g, m, r: (-g * r * r,),
                   save="result", quiet=True)
sin = unary("sin", np.sin, lambda ns, g, m, x: (g * ns.cos(x),))
cos = unary("cos", np.cos, lambda ns, g, m, x: (-g * ns.sin(x),))
tan = unary("tan", np.tan, lambda ns, g, m, r: (g * (r * r + 1),), save="result")
asin = unary("asin", np.arcsin, lambda ns, g, m, x: (g / ns.sqrt(1 - x * x),), quiet=True)
acos = unary("acos", np.arccos, lambda ns, g, m, x: (-g / ns.sqrt(1 - x * x),), quiet=True)
atan = unary("atan", np.arctan, lambda ns, g, m, x: (g / (x * x + 1),))
sinh = unary("sinh", np.sinh, lambda ns, g, m, x: (g * ns.cosh(x),), quiet=True)
cosh = unary("cosh", np.cosh, lambda ns, g, m, x: (g * ns.sinh(x),), quiet=True)
tanh = unary("tanh", np.tanh, lambda ns, g, m, r: (g * (1 - r * r),), save="result")
asinh = unary("asinh", np.arcsinh, lambda ns, g, m, x: (g / ns.sqrt(x * x + 1),))
acosh = unary("acosh", np.arccosh, lambda ns, g, m, x: (g / ns.sqrt(x * x - 1),), quiet=True)
atanh = unary("atanh", np.arctanh, lambda ns, g, m, x: (g / (1 - x * x),), quiet=True)
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
_export("arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh")


def _np_abs(x):
    return np.abs(x)


abs = unary("abs", _np_abs, lambda ns, g, m, x: (g * ns.sign(x),), floating=False,
            reject={"b": _kernel_err("abs_cpu")})
absolute = abs
_export("absolute")
def _np_sign(x):
    if x.dtype.kind == "b":
        return x.copy()
    r = np.sign(x)
    if x.dtype.kind == "f":    # torch's sign(nan) is 0
        r = np.where(r != r, 0, r).astype(x.dtype, copy=False)
    return r


sign = unary("sign", _np_sign, _zero_rule, save=None, floating=False)
sgn = unary("sgn", _np_sign, _zero_rule, save=None, floating=False)
floor = unary("floor", np.floor, _zero_rule, save=None, kind=_ROUND,
              reject={"b": _kernel_err("floor_vml_cpu")})
ceil = unary("ceil", np.ceil, _zero_rule, save=None, kind=_ROUND,
             reject={"b": _kernel_err("ceil_vml_cpu")})
trunc = unary("trunc", np.trunc, _zero_rule, save=None, kind=_ROUND,
              reject={"b": _kernel_err("trunc_vml_cpu")})
fix = trunc
_export("fix")
declare("fix", "TruncBackward0")
_round0 = unary("round", np.rint, _zero_rule, save=None, kind=_ROUND,
                reject={"b": _kernel_err("round_vml_cpu")})
RoundBackward1 = node_class("RoundBackward1", _zero_rule, meta=("decimals",))
declare("round", "RoundBackward1")


def round(input, *, decimals=0, out=None):
    """Round half to even; `decimals` rounds to that many decimal places (may be negative)."""
    if decimals == 0:
        return _round0(input, out=out)
    x = input._data
    if x.dtype.kind not in "fc":
        raise _not_implemented("round_cpu", x.dtype)
    data = np.round(x, decimals)
    if _state.grad_enabled and input._rg:
        return _finish(record(data, RoundBackward1, (input,), meta=decimals), out)
    return _finish(_make(data), out)


def _np_frac(x):
    return x - np.trunc(x)


frac = unary("frac", _np_frac, lambda ns, g, m: (g,), save=None, floating=False,
             reject={k: _kernel_err("frac_cpu") for k in "biu"})


def positive(input):
    """Returns input itself (torch's unary +)."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


_export("positive")


def _np_sigmoid(x):
    # NOTE: split by sign so exp never overflows
    e = np.exp(-np.abs(x))
    r = 1 / (1 + e)                     # sigmoid(|x|)
    return np.where(x >= 0, r, e * r).astype(x.dtype, copy=False)


sigmoid = unary("sigmoid", _np_sigmoid, lambda ns, g, m, r: (g * r * (1 - r),), save="result")


def _relu_rule(ns, g, m, r):
    # NOTE: relu'(0) is taken as 0, as torch does
    return (g * (r > 0),)


_relu_fwd = unary("relu", lambda x: np.maximum(x, 0), _relu_rule, save="result",
                  floating=False)


def relu(input):
    """max(input, 0)."""
    if input._data.dtype == np.bool_:
        raise RuntimeError("Boolean inputs not supported for relu")
    return _relu_fwd(input)


# -- logit ---------------------------------------------------------------------------------
def _logit_rule(ns, g, eps, x):
    if eps is None:
        # NOTE: torch gives nan (not a finite slope) outside [0, 1]
        return (ns.where((x < 0) | (x > 1), math.nan, g / (x * (1 - x))),)
    return (ns.where((x < eps) | (x > 1 - eps), 0.0, g / (x * (1 - x))),)


LogitBackward0 = node_class("LogitBackward0", _logit_rule, saved=("self",), meta=("eps",))


def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)); with eps, p is first clamped to [eps, 1 - eps]."""
    x = float_operand(input)
    z = x if eps is None else np.clip(x, eps, 1 - eps)
    with _quiet():
        data = np.log(z / (1 - z))
    if _state.grad_enabled and input._rg:
        return _finish(record(data, LogitBackward0, (input,), (input,), meta=eps), out)
    return _finish(_make(data), out)


declare("logit", "LogitBackward0")
_export("logit")


# -- erf, erfc, erfinv (kernels in ops/_erf.py) --------------------------------------------

erf = unary("erf", np_erf, lambda ns, g, m, x: (g * _TWO_OVER_SQRT_PI * ns.exp(-x * x),))
erfc = unary("erfc", np_erfc, lambda ns, g, m, x: (g * -_TWO_OVER_SQRT_PI * ns.exp(-x * x),))


def _erfinv_rule(ns, g, m, x):
    r = ns.erfinv(x)
    return (g * (0.5 * _SQRT_PI) * ns.exp(r * r),)


erfinv = unary("erfinv", np_erfinv, _erfinv_rule)


# -- rule namespaces -------------------------------------------------------------------------
def _t_zeros_like(g):
    return _make(np.zeros_like(g._data))


ns_def("exp", np.exp, exp)
ns_def("log", np.log, log)
ns_def("sqrt", np.sqrt, sqrt)
ns_def("sin", np.sin, sin)
ns_def("cos", np.cos, cos)
ns_def("sinh", np.sinh, sinh)
ns_def("cosh", np.cosh, cosh)
ns_def("sign", np.sign, sign)
ns_def("abs", np.abs, abs)
ns_def("floor", np.floor, floor)
ns_def("trunc", np.trunc, trunc)
ns_def("sigmoid", _np_sigmoid, sigmoid)
ns_def("tanh", np.tanh, tanh)
ns_def("erfinv", np_erfinv, erfinv)
ns_def("zeros_like", np.zeros_like, _t_zeros_like)


# -- pow ---------------------------------------------------------------------------------
def _pow0_rule(ns, g, exponent, self):
    if exponent == 0:
        return (g * 0,)
    if exponent == 2:                   # the common square: one op fewer
        return (g * (2 * self),)
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
    """input ** exponent; either may be a scalar."""
    if not isinstance(input, Tensor):          # scalar ** tensor
        return _finish(_rpow(exponent, input), out)
    if isinstance(exponent, Tensor):
        a, b, x, y = binary_operands(input, exponent)
        if x.dtype.kind == "b":
            raise NotImplementedError("\"pow\" not implemented for 'Bool'")
        with _quiet():
            data = _apply(_np_pow, x, y)
        if _state.grad_enabled and (a._rg or b._rg):
            r = record(data, PowBackward1, (a, b), (a, b if a._rg else None,
                                                    RESULT if b._rg else None), bcast=True)
            return r if out is None else to_out(r, out)
        return to_out(_make(data), out)
    if isinstance(exponent, np.generic):
        exponent = exponent.item()
    a, _, x, y = binary_operands(input, exponent)
    if x.dtype.kind == "b":      # only bool ** bool stays bool
        data = x.copy() if exponent else np.ones_like(x)
    else:
        if x.dtype.kind in "iu" and np.asarray(y).dtype.kind in "iu" and y < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        with _quiet():
            data = np.power(x, y)
    if _state.grad_enabled and a._rg:
        r = record(data, PowBackward0, (a,), (a,), meta=exponent)
    else:
        r = _make(data)
    return r if out is None else to_out(r, out)


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
        base = base.item()
    x = b._data if b._data.dtype.kind in "fc" or isinstance(base, int) else float_operand(b)
    if x.dtype.kind == "b":
        if isinstance(base, bool):
            raise NotImplementedError("\"pow\" not implemented for 'Bool'")
        x = x.astype(np.int64)
    with _quiet():
        data = _np_pow(np.asarray(base, dtype=x.dtype), x)
    if _state.grad_enabled and b._rg:
        return record(data, PowBackward2, (b,), (RESULT,), meta=base)
    return _make(data)


def square(input, *, out=None):
    """input ** 2 (PowBackward0, as in torch)."""
    if input._data.dtype.kind == "b":
        return _finish(_make(input._data.astype(np.int64)), out)
    return pow(input, 2, out=out)


_export("pow", "square")


# -- binary math functions ---------------------------------------------------------------
def _float_binary(a, b, x, y):
    if x.dtype.kind not in "fc":
        d = _dtype.get_default_dtype().np
        x = x.astype(d)
        y = np.asarray(y, dtype=d)
    return x, y


def _atan2_rule(ns, g, m, self, other):
    d = self * self + other * other
    return g * other / d, -g * self / d


Atan2Backward0 = node_class("Atan2Backward0", _atan2_rule, saved=("self", "other"))


def atan2(input, other, *, out=None, _name="atan2"):
    """Angle of the point (other, input), in (-pi, pi]."""
    _want_tensor(_name, other)
    a, b, x, y = binary_operands(input, other)
    x, y = _float_binary(a, b, x, y)
    data = _apply(np.arctan2, x, y)
    if _state.grad_enabled and (a._rg or b._rg):
        return _finish(record(data, Atan2Backward0, (a, b), (a, b), bcast=True), out)
    return _finish(_make(data), out)


def arctan2(input, other, *, out=None):
    return atan2(input, other, out=out, _name="arctan2")


def _hypot_rule(ns, g, m, self, other, result):
    return g * self / result, g * other / result


HypotBackward0 = node_class("HypotBackward0", _hypot_rule, saved=("self", "other", "result"))


def hypot(input, other, *, out=None):
    """sqrt(input**2 + other**2) without overflow."""
    _want_tensor("hypot", other)
    a, b, x, y = binary_operands(input, other)
    if x.dtype.kind not in "fc":
        raise _not_implemented("hypot_cpu", x.dtype)
    data = _apply(np.hypot, x, y)
    if _state.grad_enabled and (a._rg or b._rg):
        return _finish(record(data, HypotBackward0, (a, b), (a, b, RESULT), bcast=True), out)
    return _finish(_make(data), out)


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
    if _state.grad_enabled and (a._rg or _is_rg(b)):
        if scalar_self:
            r = record(data, XlogyBackward1, (b,), (b,), meta=input._data.item(), bcast=True)
        elif not isinstance(b, Tensor):
            r = record(data, XlogyBackward2, (a,), (a,), meta=b)
        else:
            r = record(data, XlogyBackward0, (a, b), (a, b), bcast=True)
    else:
        r = _make(data)
    return _finish(r, out)


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
        if _state.grad_enabled and (a._rg or b._rg):
            return _finish(record(data, cls, (a, b), (a, b), bcast=True), out)
        return _finish(_make(data), out)
    op.__name__ = op.__qualname__ = name
    declare(name, cls.__name__)
    _export(name)
    return op


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


def copysign(input, other, *, out=None):
    """|input| with the sign of other; other's gradient is zero."""
    a, b, x, y = binary_operands(input, other)
    x, y = _float_binary(a, b, x, y)
    data = _apply(np.copysign, x, y)
    if _state.grad_enabled and (a._rg or _is_rg(b)):
        if isinstance(b, Tensor):
            r = record(data, CopysignBackward0, (a, b), (a, RESULT), bcast=True)
        else:
            r = record(data, CopysignBackward1, (a,), (a, RESULT))
        return _finish(r, out)
    return _finish(_make(data), out)


declare("atan2 arctan2", "Atan2Backward0")
declare("hypot", "HypotBackward0")
declare("xlogy", "XlogyBackward0", "XlogyBackward1", "XlogyBackward2")
declare("copysign", "CopysignBackward0", "CopysignBackward1")
_export("atan2", "arctan2", "hypot", "xlogy", "copysign")


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
        lo = lo.item()
    if isinstance(hi, np.generic):
        hi = hi.item()
    if lo is not None:
        x = np.maximum(x, np.asarray(lo, dtype=x.dtype))
    if hi is not None:
        x = np.minimum(x, np.asarray(hi, dtype=x.dtype))
    return x if x is not input._data else x.copy()


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
        if _state.grad_enabled and any(_is_rg(t) for t in (input, lo, hi)):
            r = record(data, ClampBackward0, (input, lo, hi), (input, lo, hi),
                       meta=(_is_rg(lo), _is_rg(hi)), bcast=True)
            return _finish(r, out)
        return _finish(_make(data), out)
    data = _clamp_scalar_data(input, min, max)
    if _state.grad_enabled and input._rg:
        r = record(data, ClampBackward1, (input,), (input,), meta=(min, max))
    else:
        r = _make(data)
    return _finish(r, out)


clip = clamp


def _clamp_side(name, np_fn, cls0, cls1):
    def op(input, other, *, out=None):
        if isinstance(other, Tensor):
            rt = _dtype.result_type(input, other).np
            data = _apply(np_fn, input._data.astype(rt, copy=False),
                          other._data.astype(rt, copy=False))
            if _state.grad_enabled and (input._rg or other._rg):
                return _finish(record(data, cls1, (input, other), (input, other), bcast=True),
                               out)
            return _finish(_make(data), out)
        data = _clamp_scalar_data(input, *((other, None) if name == "clamp_min" else
                                           (None, other)))
        if _state.grad_enabled and input._rg:
            return _finish(record(data, cls0, (input,), (input,), meta=other), out)
        return _finish(_make(data), out)
    op.__name__ = op.__qualname__ = name
    declare(name, cls0.__name__, cls1.__name__)
    _export(name)
    return op


clamp_min = _clamp_side("clamp_min", np.maximum, ClampMinBackward0, ClampMinBackward1)
clamp_max = _clamp_side("clamp_max", np.minimum, ClampMaxBackward0, ClampMaxBackward1)
declare("clamp clip", "ClampBackward0", "ClampBackward1")
_export("clamp", "clip")


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
        if _state.grad_enabled and (input._rg or end._rg or weight._rg):
            r = record(data, LerpBackward1, (input, end, weight), (input, end, weight),
                       bcast=True)
            return _finish(r, out)
    elif _state.grad_enabled and (input._rg or end._rg):
        return _finish(record(data, LerpBackward0, (input, end), meta=weight, bcast=True), out)
    return _finish(_make(data), out)


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


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 * tensor2."""
    rt, value = _addc_operands(input, tensor1, tensor2, value)
    if rt.kind == "b":
        raise _not_implemented("addcmul_cpu_out", rt)
    x, p, q = (t._data.astype(rt, copy=False) for t in (input, tensor1, tensor2))
    data = _apply(lambda a, b, c: a + value * b * c if value != 1 else a + b * c, x, p, q)
    data = np.asarray(data, dtype=rt)
    if _state.grad_enabled and (input._rg or tensor1._rg or tensor2._rg):
        r = record(data, AddcmulBackward0, (input, tensor1, tensor2),
                   (tensor1 if tensor2._rg else None, tensor2 if tensor1._rg else None),
                   meta=value, bcast=True)
        return _finish(r, out)
    return _finish(_make(data), out)


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
    if _state.grad_enabled and (input._rg or tensor1._rg or tensor2._rg):
        r = record(data, AddcdivBackward0, (input, tensor1, tensor2),
                   (tensor1 if tensor2._rg else None, tensor2), meta=value, bcast=True)
        return _finish(r, out)
    return _finish(_make(data), out)


def _where_rule(ns, g, m, cond):
    return ns.where(cond, g, 0.0), ns.where(cond, 0.0, g)


WhereBackward0 = node_class("WhereBackward0", _where_rule, saved=("condition",))


def where(condition, input=None, other=None, *, out=None):
    """Elements of input where condition holds, else of other; `where(cond)` gives the
    indices of the True elements, as nonzero(as_tuple=True) does."""
    c = condition._data
    if input is None and other is None:
        from .shape import nonzero     # handles 0-d conditions and int64 indices
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
    if _state.grad_enabled and (_is_rg(a) or _is_rg(b)):
        cond = condition if condition._data.dtype == np.bool_ else _make(c)
        return _finish(record(data, WhereBackward0, (a, b), (cond,), bcast=True), out)
    return _finish(_make(data), out)


def _t_where(cond, x, y):
    return where(cond, x, y)


ns_def("where", np.where, _t_where)

NanToNumBackward0 = node_class("NanToNumBackward0",
                               lambda ns, g, m, x: (ns.where(ns.isfinite(x), g, 0.0),),
                               saved=("self",))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """nan -> `nan`, +inf -> `posinf` (default: the dtype's max), -inf -> `neginf`."""
    x = input._data
    if x.dtype.kind not in "fc":
        return _finish(_make(x.copy()), out)
    data = np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)
    if _state.grad_enabled and input._rg:
        return _finish(record(data, NanToNumBackward0, (input,), (input,)), out)
    return _finish(_make(data), out)


declare("lerp", "LerpBackward0", "LerpBackward1")
declare("addcmul", "AddcmulBackward0")
declare("addcdiv", "AddcdivBackward0")
declare("where", "WhereBackward0")
declare("nan_to_num", "NanToNumBackward0")
_export("lerp", "addcmul", "addcdiv", "where", "nan_to_num")


# -- comparisons, logic, bits, predicates (never differentiable) -------------------------
def _compare(name, np_fn):
    def op(input, other, *, out=None):
        a, b, x, y = binary_operands(input, other)
        return _finish(_make(_apply(np_fn, x, y)), out)
    op.__name__ = op.__qualname__ = name
    _export(name)
    return op


eq = _compare("eq", np.equal)
ne = _compare("ne", np.not_equal)
lt = _compare("lt", np.less)
le = _compare("le", np.less_equal)
gt = _compare("gt", np.greater)
ge = _compare("ge", np.greater_equal)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
_export("greater", "greater_equal", "less", "less_equal", "not_equal")


def _logical(name, np_fn):
    def op(input, other, *, out=None):
        _want_tensor(name, other)
        return _finish(_make(_apply(np_fn, input._data, other._data)), out)
    op.__name__ = op.__qualname__ = name
    _export(name)
    return op


logical_and = _logical("logical_and", np.logical_and)
logical_or = _logical("logical_or", np.logical_or)
logical_xor = _logical("logical_xor", np.logical_xor)


def logical_not(input, *, out=None):
    return _finish(_make(np.logical_not(input._data)), out)


def _bitwise(name, np_fn, kernel, bool_ok=True):
    def op(input, other, *, out=None):
        a, b, x, y = binary_operands(input, other)
        if x.dtype.kind in "fc" or x.dtype.kind == "b" and not bool_ok:
            raise _not_implemented(kernel, x.dtype)
        if not bool_ok:      # shifts past the width give 0 (or -1), as in torch
            bits = x.dtype.itemsize * 8
            big = np.asarray(y) >= bits
            data = _apply(np_fn, x, np.where(big, 0, y).astype(x.dtype))
            if big.any():
                fill = np.where(x < 0, -1, 0) if name.endswith("right_shift") else 0
                data = np.where(big, fill, data).astype(x.dtype)
        else:
            data = _apply(np_fn, x, y)
        return _finish(_make(data), out)
    op.__name__ = op.__qualname__ = name
    _export(name)
    return op


bitwise_and = _bitwise("bitwise_and", np.bitwise_and, "bitwise_and_cpu")
bitwise_or = _bitwise("bitwise_or", np.bitwise_or, "bitwise_or_cpu")
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor, "bitwise_xor_cpu")
bitwise_left_shift = _bitwise("bitwise_left_shift", np.left_shift, "lshift_cpu", False)
bitwise_right_shift = _bitwise("bitwise_right_shift", np.right_shift, "rshift_cpu", False)


def bitwise_not(input, *, out=None):
    x = input._data
    if x.dtype.kind in "fc":
        raise _not_implemented("bitwise_not_cpu", x.dtype)
    return _finish(_make(np.logical_not(x) if x.dtype.kind == "b" else np.invert(x)), out)


def _invert(self):
    if self._data.dtype.kind in "fc":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return bitwise_not(self)


def _predicate(name, fn):
    def op(input):
        return _make(fn(input._data))
    op.__name__ = op.__qualname__ = name
    _export(name)
    return op


def _floaty(fn, default):
    return lambda x: fn(x) if x.dtype.kind in "fc" else np.full(x.shape, default)


isnan = _predicate("isnan", _floaty(np.isnan, False))
isinf = _predicate("isinf", _floaty(np.isinf, False))
isfinite = _predicate("isfinite", _floaty(np.isfinite, True))
isposinf = _predicate("isposinf", _floaty(lambda x: x == np.inf, False))
isneginf = _predicate("isneginf", _floaty(lambda x: x == -np.inf, False))
isreal = _predicate("isreal", lambda x: np.isreal(x) if x.dtype.kind == "c" else
                    np.ones(x.shape, dtype=bool))
signbit = _predicate("signbit", lambda x: np.signbit(x) if x.dtype.kind != "b" else
                     np.zeros(x.shape, dtype=bool))
ns_def("isfinite", np.isfinite, isfinite)


def _same_dtype(a, b):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{_legacy(a._data.dtype)} did not match {_legacy(b._data.dtype)}")


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False, *, _name="isclose"):
    """|input - other| <= atol + rtol * |other|, elementwise."""
    _want_tensor(_name, other)
    _same_dtype(input, other)
    x, y = input._data, other._data
    if x.dtype.kind not in "fc":
        x, y = x.astype(np.float64), y.astype(np.float64)
    with _quiet():
        close = _apply(lambda p, q: (p == q) | (np.isfinite(p) & np.isfinite(q) & (
            np.abs(p - q) <= atol + rtol * np.abs(q))), x, y)
    if equal_nan:
        close = close | (np.isnan(x) & np.isnan(y))
    return _make(close)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when isclose holds everywhere."""
    return bool(isclose(input, other, rtol, atol, equal_nan, _name="allclose")._data.all())


def equal(input, other):
    """True when both have the same shape and the same values."""
    _want_tensor("equal", other)
    x, y = input._data, other._data
    return x.shape == y.shape and bool(np.array_equal(x, y))


_export("logical_not", "bitwise_not", "isclose", "allclose", "equal")


# -- Tensor methods and operators ----------------------------------------------------------
def _rtruediv(self, other):
    if isinstance(other, np.generic):
        other = other.item()
    return mul(reciprocal(self), other)


def _rsub_op(self, other):
    if isinstance(other, np.generic):
        other = other.item()
    return rsub(self, other)


def _rmod(self, other):
    return remainder(other.item() if isinstance(other, np.generic) else other, self)


def _reflected(fn):
    def op(self, other):
        return fn(to_tensor_like(other, self), self)
    return op


_SCALARS = (bool, int, float, complex, np.generic, list, tuple, np.ndarray)


def _cmp_operator(fn):
    def op(self, other):
        if not isinstance(other, Tensor) and not isinstance(other, _SCALARS):
            return NotImplemented      # t == None is False, t < None a TypeError
        return fn(self, other)
    op.__name__ = fn.__name__
    return op


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


_METHODS = """add sub mul div pow exp exp2 expm1 log log2 log10 log1p sqrt rsqrt relu clamp clip
clamp_min clamp_max neg negative reciprocal square sin cos tan asin acos atan sinh cosh tanh
asinh acosh atanh arcsin arccos arctan arcsinh arccosh arctanh sigmoid logit erf erfc erfinv
abs absolute sign sgn floor ceil round trunc fix frac subtract multiply divide true_divide
floor_divide remainder fmod atan2 arctan2 hypot xlogy copysign lerp addcmul addcdiv
nan_to_num eq ne lt le gt ge greater greater_equal less less_equal not_equal
logical_and logical_or logical_xor logical_not bitwise_and bitwise_or bitwise_xor
bitwise_not bitwise_left_shift bitwise_right_shift""".split()

for _name in _METHODS:
    _fn = globals()[_name]
    setattr(Tensor, _name, _fn)
    setattr(Tensor, _name + "_", inplace_method(_fn))
for _name, _ufunc in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                      ("div", np.true_divide)]:
    setattr(Tensor, _name + "_", _method_inplace_ufunc(globals()[_name], _ufunc))



def _zero_rule(ns, g, meta):
    return g * 0, g * 0


_CMP_NODES = {}
for _stem in ("Eq", "Ne", "Lt", "Le", "Gt", "Ge"):
    _CMP_NODES[_stem] = (node_class(_stem + "Backward0", lambda ns, g, meta: (g * 0,)),
                         node_class(_stem + "Backward1", _zero_rule))


def _cmp_inplace(fn, stem):
    """`eq_`, `lt_`, ...: torch records <Op>Backward0/1, whose gradients are zeros."""
    scalar_cls, tensor_cls = _CMP_NODES[stem]

    def recorded(self, other):
        data = fn(self, other)._data.astype(self._data.dtype)
        if isinstance(other, Tensor):
            return record(data, tensor_cls, (self, other), bcast=True)
        return record(data, scalar_cls, (self,))

    def method(self, other):
        if _state.grad_enabled and (self._rg or _is_rg(other)):
            return inplace(self, recorded, other)
        return inplace(self, fn, other)
    method.__name__ = fn.__name__ + "_"
    return method


def _logical_inplace(fn):
    """torch's logical_*_ write the values but leave self's history as it was."""
    def method(self, *args):
        if args and not isinstance(args[0], Tensor):
            raise TypeError(f"{fn.__name__}_(): argument 'other' (position 1) must be Tensor, "
                            f"not {type(args[0]).__name__}")
        check_inplace(self)
        write_into(self, fn(self, *args)._data)
        return self
    method.__name__ = fn.__name__ + "_"
    return method


for _name, _stem in [("eq", "Eq"), ("ne", "Ne"), ("lt", "Lt"), ("le", "Le"), ("gt", "Gt"),
                     ("ge", "Ge"), ("greater", "Gt"), ("greater_equal", "Ge"), ("less", "Lt"),
                     ("less_equal", "Le"), ("not_equal", "Ne")]:
    setattr(Tensor, _name + "_", _cmp_inplace(globals()[_name], _stem))
for _name in ("logical_and", "logical_or", "logical_xor", "logical_not"):
    setattr(Tensor, _name + "_", _logical_inplace(globals()[_name]))


def _renamed_inplace(fn, node_name):
    """asinh_/acosh_/atanh_: torch records <Op>Backward1, whose backward is not implemented."""
    cls = None

    def rule(ns, g, meta, *saved):
        raise NotImplementedError(f"the derivative for 'inplace version of {fn.__name__}' is "
                                  "not implemented.")

    def method(self):
        nonlocal cls
        inplace(self, fn)
        node = self.grad_fn
        if node is not None and self._base is None:
            if cls is None:
                c0 = type(node)
                cls = node_class(node_name, rule, saved=c0._saved_names,
                                 meta=c0._meta_names, jvp=c0._jvp)
            node.__class__ = cls
        return self
    method.__name__ = fn.__name__ + "_"
    return method


for _name in ("asinh", "acosh", "atanh"):
    _m = _renamed_inplace(globals()[_name], _name.capitalize() + "Backward1")
    setattr(Tensor, _name + "_", _m)
    setattr(Tensor, "arc" + _name[1:] + "_", _m)

for _name in ["maximum", "minimum", "fmax", "fmin", "isnan", "isinf", "isfinite", "isposinf",
              "isneginf", "isreal", "signbit", "isclose", "allclose", "equal", "positive"]:
    setattr(Tensor, _name, globals()[_name])


def _where_method(self, condition, other):
    return where(condition, self, other)


Tensor.where = _where_method

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
Tensor.__floordiv__ = floor_divide
Tensor.__rfloordiv__ = _rfloordiv
Tensor.__ifloordiv__ = Tensor.floor_divide_
Tensor.__mod__ = remainder
Tensor.__rmod__ = _rmod
Tensor.__imod__ = Tensor.remainder_
Tensor.__pow__ = pow
Tensor.__rpow__ = _rpow
Tensor.__ipow__ = Tensor.pow_
Tensor.__neg__ = neg
Tensor.__abs__ = abs
Tensor.__pos__ = positive
Tensor.__eq__ = _cmp_operator(eq)
Tensor.__ne__ = _cmp_operator(ne)
Tensor.__lt__ = _cmp_operator(lt)
Tensor.__le__ = _cmp_operator(le)
Tensor.__gt__ = _cmp_operator(gt)
Tensor.__ge__ = _cmp_operator(ge)
Tensor.__and__ = bitwise_and
Tensor.__or__ = bitwise_or
Tensor.__xor__ = bitwise_xor
Tensor.__rand__ = _reflected(bitwise_and)
Tensor.__ror__ = _reflected(bitwise_or)
Tensor.__rxor__ = _reflected(bitwise_xor)
Tensor.__iand__ = Tensor.bitwise_and_
Tensor.__ior__ = Tensor.bitwise_or_
Tensor.__ixor__ = Tensor.bitwise_xor_
Tensor.__lshift__ = bitwise_left_shift
Tensor.__rshift__ = bitwise_right_shift
Tensor.__rlshift__ = _reflected(bitwise_left_shift)
Tensor.__rrshift__ = _reflected(bitwise_right_shift)
Tensor.__ilshift__ = Tensor.bitwise_left_shift_
Tensor.__irshift__ = Tensor.bitwise_right_shift_
Tensor.__invert__ = _invert

declare("add", "AddBackward0")
declare("sub subtract", "SubBackward0")
declare("rsub", "RsubBackward0", "RsubBackward1")
declare("mul multiply", "MulBackward0")
declare("div divide true_divide", "DivBackward0", "DivBackward2")
declare("floor_divide", "NotImplemented")
declare("remainder", "RemainderBackward0", "RemainderBackward1")
declare("fmod", "FmodBackward0", "FmodBackward1")
declare("pow", "PowBackward0", "PowBackward1", "PowBackward2")
declare("square", "PowBackward0")
declare("negative", "NegBackward0")
declare("absolute", "AbsBackward0")
declare("arcsin", "AsinBackward0")
declare("arccos", "AcosBackward0")
declare("arctan", "AtanBackward0")
declare("arcsinh", "AsinhBackward0")
declare("arccosh", "AcoshBackward0")
declare("arctanh", "AtanhBackward0")


# -- complex parts: complex tensors never require grad here, so these are plain views -------
def real(input):
    return input if input._data.dtype.kind != "c" else _make(input._data.real)


def imag(input):
    if input._data.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _make(input._data.imag)


def conj(input):
    return input if input._data.dtype.kind != "c" else _make(np.conj(input._data))


_export("real", "imag", "conj")
Tensor.real = property(real)
Tensor.imag = property(imag)
Tensor.conj = conj

# elementwise ops: each output element depends on the same element of each input only
forward_ad.mark_diagonal(
    AddBackward0, SubBackward0, RsubBackward0, RsubBackward1, MulBackward0, DivBackward0,
    RemainderBackward0, RemainderBackward1, FmodBackward0, FmodBackward1, LogitBackward0,
    PowBackward0, PowBackward1, PowBackward2, Atan2Backward0, HypotBackward0, XlogyBackward0,
    XlogyBackward1, XlogyBackward2, MaximumBackward0, MinimumBackward0, FmaxBackward0,
    FminBackward0, CopysignBackward0, CopysignBackward1, ClampBackward0, ClampBackward1,
    ClampMinBackward0, ClampMaxBackward0, ClampMinBackward1, ClampMaxBackward1, LerpBackward0,
    LerpBackward1, AddcmulBackward0, AddcdivBackward0, WhereBackward0, NanToNumBackward0)
