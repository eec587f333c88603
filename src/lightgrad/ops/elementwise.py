"""Elementwise functions of one tensor (exp, sin, erf, floor, ...), each declared once with
its rule, and the helpers the other elementwise families (arithmetic.py, binary_math.py,
logic.py) share.

Type promotion follows torch (ops._core.binary_operands): dimensioned tensors beat 0-d
tensors beat Python scalars within a category, and bool < int < float across categories.
Functions of a real variable (exp, sin, erf, ...) turn int and bool inputs into the
default float dtype; rounding functions (floor, ...) keep integer inputs as they are.
"""
import math

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _make
from .._graph import forward_ad
from ._erf import SQRT_PI as _SQRT_PI, TWO_OVER_SQRT_PI as _TWO_OVER_SQRT_PI
from ._erf import np_erf, np_erfc, np_erfinv
from ._core import (ELEMENTWISE, RESULT, Sample, defop, emit, float_operand, inplace, node_class,
                    ns_def, publish, scalar_arg, to_out, to_tensor)


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


def to_tensor_like(x, like):
    """A scalar on the left of an operator as a 0-d tensor of the dtype the scalar would
    promote to against `like` (so `2 // t` has the dtype of `t // 2`)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.generic):
        x = scalar_arg(x)
    return _make(np.asarray(x, dtype=_dtype.result_type(like, x).np))


# -- unary functions ---------------------------------------------------------------------
_FLOAT, _KEEP, _ROUND = "float", "keep", "round"


def unary(name, np_fn, rule, save="self", node_name=None, floating=True, kind=None,
          reject=None, quiet=False, aliases=(), dunders=(), inplace=True, public=True,
          samples=()):
    """Declare a one-input elementwise op: `np_fn` forward, `rule(ns, g, meta, saved)`;
    a Tensor method with an in-place variant (`inplace`, as for defop), its own JVP and
    vmap rule by the elementwise shorthand. public=False: a building block that a public op
    (declared with defop) wraps; the node class is the function's `node`.

    save: "self" (the input), "result" (the output) or None.
    kind: _FLOAT (int and bool inputs become the default float), _KEEP (the dtype stays),
          _ROUND (integer inputs come back as a copy, as floor/round/... do in torch).
    reject: {dtype kind: error maker(np dtype)} for dtypes torch refuses."""
    if kind is None:
        kind = _FLOAT if floating else _KEEP
    cls = node_class(node_name or name.capitalize() + "Backward0", rule,
                     saved=(save,) if save else ())
    to_save = {"self": None, "result": (RESULT,), None: ()}[save]

    def op(input, *, out=None):
        if not isinstance(input, Tensor):
            input = to_tensor(input)
        x = input._data
        k = x.dtype.kind
        if out is not None and kind != _FLOAT and out._data.dtype != x.dtype:
            # ops that keep the dtype want an out= of that dtype (torch casts for the others)
            raise RuntimeError(f"Found dtype {out.dtype._legacy} but expected "
                               f"{input.dtype._legacy}")
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
        return emit(data, cls, (input,), (input,) if to_save is None else to_save, out=out)

    op.__name__ = op.__qualname__ = name
    op.node = cls
    if public:
        defop(op, aliases=aliases, nodes=(cls,), inplace=inplace, dunders=dunders,
              kind=ELEMENTWISE, samples=samples)
    else:
        cls._jvp = forward_ad.DIAGONAL
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


def _off_integers(shape, rng):
    """Sample inputs in (-3, 3) at least 0.1 from an integer (rounding ops' kinks)."""
    return np.floor(rng.uniform(-3, 3, shape)) + rng.uniform(0.1, 0.9, shape)


_P, _UNIT = (0.5, 2.0), (-0.9, 0.9)     # sample domains: positive, inside (-1, 1)


def _renamed_inplace(node_name):
    """asinh_/acosh_/atanh_: torch records <Op>Backward1, whose backward is not implemented."""
    def factory(fn):
        cls = None

        def rule(ns, g, meta, *saved):
            raise NotImplementedError(f"the derivative for 'inplace version of {fn.__name__}' "
                                      "is not implemented.")

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
    return factory


S = Sample
neg = unary("neg", np.negative, lambda ns, g, m: (-g,), save=None, floating=False,
            reject={"b": _neg_bool}, aliases=("negative",), dunders=("__neg__",),
            samples=[S((2, 3), np_ref=np.negative), S((), id="0d")])
exp = unary("exp", np.exp, lambda ns, g, m, r: (g * r,), save="result", quiet=True,
            samples=[S((2, 3), np_ref=np.exp), S((), id="0d")])
exp2 = unary("exp2", np.exp2, lambda ns, g, m, r: (g * r * _LN2,), save="result", quiet=True,
             samples=[S((2, 3), np_ref=np.exp2)])
expm1 = unary("expm1", np.expm1, lambda ns, g, m, r: (g * (r + 1),), save="result", quiet=True,
              samples=[S((2, 3), np_ref=np.expm1)])
log = unary("log", np.log, lambda ns, g, m, x: (g / x,), quiet=True,
            samples=[S((2, 3), domain=_P, np_ref=np.log)])
log2 = unary("log2", np.log2, lambda ns, g, m, x: (g / (x * _LN2),), quiet=True,
             samples=[S((2, 3), domain=_P, np_ref=np.log2)])
log10 = unary("log10", np.log10, lambda ns, g, m, x: (g / (x * _LN10),), quiet=True,
              samples=[S((2, 3), domain=_P, np_ref=np.log10)])
log1p = unary("log1p", np.log1p, lambda ns, g, m, x: (g / (x + 1),), node_name="Log1PBackward0",
              quiet=True, samples=[S((2, 3), domain=_P, np_ref=np.log1p)])
sqrt = unary("sqrt", np.sqrt, lambda ns, g, m, r: (g / (2 * r),), save="result", quiet=True,
             samples=[S((2, 3), domain=_P, np_ref=np.sqrt)])


def _np_rsqrt(x):
    return np.reciprocal(np.sqrt(x))


rsqrt = unary("rsqrt", _np_rsqrt, lambda ns, g, m, r: (g * -0.5 * r * r * r,), save="result",
              quiet=True, samples=[S((2, 3), domain=_P, np_ref=lambda a: a ** -0.5)])
reciprocal = unary("reciprocal", np.reciprocal, lambda ns, g, m, r: (-g * r * r,),
                   save="result", quiet=True,
                   samples=[S((2, 3), domain=_P, np_ref=np.reciprocal)])
sin = unary("sin", np.sin, lambda ns, g, m, x: (g * ns.cos(x),),
            samples=[S((2, 3), np_ref=np.sin)])
cos = unary("cos", np.cos, lambda ns, g, m, x: (-g * ns.sin(x),),
            samples=[S((2, 3), np_ref=np.cos)])
tan = unary("tan", np.tan, lambda ns, g, m, r: (g * (r * r + 1),), save="result",
            samples=[S((2, 3), domain=(-1.2, 1.2), np_ref=np.tan)])
asin = unary("asin", np.arcsin, lambda ns, g, m, x: (g / ns.sqrt(1 - x * x),), quiet=True,
             aliases=("arcsin",), samples=[S((2, 3), domain=_UNIT, np_ref=np.arcsin)])
acos = unary("acos", np.arccos, lambda ns, g, m, x: (-g / ns.sqrt(1 - x * x),), quiet=True,
             aliases=("arccos",), samples=[S((2, 3), domain=_UNIT, np_ref=np.arccos)])
atan = unary("atan", np.arctan, lambda ns, g, m, x: (g / (x * x + 1),), aliases=("arctan",),
             samples=[S((2, 3), np_ref=np.arctan)])
sinh = unary("sinh", np.sinh, lambda ns, g, m, x: (g * ns.cosh(x),), quiet=True,
             samples=[S((2, 3), np_ref=np.sinh)])
cosh = unary("cosh", np.cosh, lambda ns, g, m, x: (g * ns.sinh(x),), quiet=True,
             samples=[S((2, 3), np_ref=np.cosh)])
tanh = unary("tanh", np.tanh, lambda ns, g, m, r: (g * (1 - r * r),), save="result",
             samples=[S((2, 3), np_ref=np.tanh)])
asinh = unary("asinh", np.arcsinh, lambda ns, g, m, x: (g / ns.sqrt(x * x + 1),),
              aliases=("arcsinh",), inplace=_renamed_inplace("AsinhBackward1"),
              samples=[S((2, 3), np_ref=np.arcsinh)])
acosh = unary("acosh", np.arccosh, lambda ns, g, m, x: (g / ns.sqrt(x * x - 1),), quiet=True,
              aliases=("arccosh",), inplace=_renamed_inplace("AcoshBackward1"),
              samples=[S((2, 3), domain=(1.2, 3.0), np_ref=np.arccosh)])
atanh = unary("atanh", np.arctanh, lambda ns, g, m, x: (g / (1 - x * x),), quiet=True,
              aliases=("arctanh",), inplace=_renamed_inplace("AtanhBackward1"),
              samples=[S((2, 3), domain=_UNIT, np_ref=np.arctanh)])


def _np_abs(x):
    return np.abs(x)


abs = unary("abs", _np_abs, lambda ns, g, m, x: (g * ns.sign(x),), floating=False,
            reject={"b": _kernel_err("abs_cpu")}, aliases=("absolute",), dunders=("__abs__",),
            samples=[S((2, 3), np_ref=np.abs)])


def _np_sign(x):
    if x.dtype.kind == "b":
        return x.copy()
    r = np.sign(x)
    if x.dtype.kind == "f":    # torch's sign(nan) is 0
        r = np.where(r != r, 0, r).astype(x.dtype, copy=False)
    return r


sign = unary("sign", _np_sign, _zero_rule, save=None, floating=False,
             samples=[S((2, 3), domain=_off_integers, np_ref=np.sign)])
# torch's sgn gradient is a ZeroTensor, which the harness cannot compare; see
# test_elementwise.py for its node and gradient
sgn = unary("sgn", _np_sign, _zero_rule, save=None, floating=False,
            samples=[S((3,), domain=_off_integers, grad=False)])
floor = unary("floor", np.floor, _zero_rule, save=None, kind=_ROUND,
              reject={"b": _kernel_err("floor_vml_cpu")},
              samples=[S((2, 3), domain=_off_integers, np_ref=np.floor)])
ceil = unary("ceil", np.ceil, _zero_rule, save=None, kind=_ROUND,
             reject={"b": _kernel_err("ceil_vml_cpu")},
             samples=[S((2, 3), domain=_off_integers, np_ref=np.ceil)])
trunc = unary("trunc", np.trunc, _zero_rule, save=None, kind=_ROUND,
              reject={"b": _kernel_err("trunc_vml_cpu")}, aliases=("fix",),
              samples=[S((2, 3), domain=_off_integers, np_ref=np.trunc)])
_round0 = unary("round", np.rint, _zero_rule, save=None, kind=_ROUND,
                reject={"b": _kernel_err("round_vml_cpu")}, public=False)
RoundBackward1 = node_class("RoundBackward1", _zero_rule, meta=("decimals",))


@defop(nodes=(_round0.node, RoundBackward1), inplace=True, kind=ELEMENTWISE, samples=[
    S((2, 3), domain=_off_integers, np_ref=np.round),
    S(make_inputs=lambda r: [np.array([0.123, -1.271, 2.349])], kwargs={"decimals": 1},
      id="decimals")])
def round(input, *, decimals=None, out=None):
    """Round half to even; `decimals` rounds to that many decimal places (may be negative)."""
    if decimals is None or decimals == 0 and input._data.dtype.kind in "fc":
        return _round0(input, out=out)
    if decimals == 0:       # torch takes an explicit decimals=0 to its float kernel
        raise _kernel_err("round_vml_cpu")(input._data.dtype)
    if out is not None and out._data.dtype != input._data.dtype:
        raise RuntimeError(f"Found dtype {out.dtype._legacy} but expected "
                           f"{input.dtype._legacy}")
    x = input._data
    if x.dtype.kind not in "fc":
        raise _not_implemented("round_cpu", x.dtype)
    data = np.round(x, decimals)
    return emit(data, RoundBackward1, (input,), meta=decimals, out=out)


def _np_frac(x):
    return x - np.trunc(x)


frac = unary("frac", _np_frac, lambda ns, g, m: (g,), save=None, floating=False,
             reject={k: _kernel_err("frac_cpu") for k in "biu"},
             samples=[S((2, 3), domain=_off_integers)])


@defop(dunders=("__pos__",), kind=ELEMENTWISE, samples=[S((2, 3))])
def positive(input):
    """Returns input itself (torch's unary +)."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def _np_sigmoid(x):
    # 1 / (1 + e^-x) in three passes, as torch's kernel computes it; e^-x overflows to inf
    # for very negative x, which gives the right limit 0, so that warning is silenced
    with np.errstate(over="ignore"):
        e = np.exp(-x)
    e += 1
    # (a 0-d input gives a NumPy scalar, which cannot be written into)
    return np.reciprocal(e, out=e) if isinstance(e, np.ndarray) else np.reciprocal(e)


sigmoid = unary("sigmoid", _np_sigmoid, lambda ns, g, m, r: (g * r * (1 - r),), save="result",
                samples=[S((2, 3), domain=(-4, 4))])


def _relu_rule(ns, g, m, r):
    # NOTE: relu'(0) is taken as 0, as torch does
    return (g * (r > 0),)


_relu_fwd = unary("relu", lambda x: np.maximum(x, 0), _relu_rule, save="result",
                  floating=False, public=False)


@defop(nodes=(_relu_fwd.node,), inplace=True, kind=ELEMENTWISE, samples=[
    S((2, 3), domain=_off_integers, np_ref=lambda a: np.maximum(a, 0))])
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


@defop(nodes=(LogitBackward0,), inplace=True, kind=ELEMENTWISE, samples=[
    S((2, 3), domain=(0.1, 0.9)), S((2, 3), domain=(0.25, 0.75), kwargs={"eps": 0.2}, id="eps")])
def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)); with eps, p is first clamped to [eps, 1 - eps]."""
    x = float_operand(input)
    z = x if eps is None else np.clip(x, eps, 1 - eps)
    with _quiet():
        data = np.log(z / (1 - z))
    return emit(data, LogitBackward0, (input,), (input,), meta=eps, out=out)


# -- erf, erfc, erfinv (kernels in ops/_erf.py) --------------------------------------------
erf = unary("erf", np_erf, lambda ns, g, m, x: (g * _TWO_OVER_SQRT_PI * ns.exp(-x * x),),
            samples=[S((2, 3))])
erfc = unary("erfc", np_erfc, lambda ns, g, m, x: (g * -_TWO_OVER_SQRT_PI * ns.exp(-x * x),),
             samples=[S((2, 3), domain=(-3, 3))])


def _erfinv_rule(ns, g, m, x):
    r = ns.erfinv(x)
    return (g * (0.5 * _SQRT_PI) * ns.exp(r * r),)


erfinv = unary("erfinv", np_erfinv, _erfinv_rule, samples=[S((2, 3), domain=_UNIT)])


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


NanToNumBackward0 = node_class("NanToNumBackward0",
                               lambda ns, g, m, x: (ns.where(ns.isfinite(x), g, 0.0),),
                               saved=("self",))


@defop(nodes=(NanToNumBackward0,), inplace=True, kind=ELEMENTWISE, samples=[
    S(make_inputs=lambda r: [np.array([[1.5, np.inf, -np.inf], [np.nan, 0.5, -2.0]])],
      kwargs={"posinf": 9.0})])
def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """nan -> `nan`, +inf -> `posinf` (default: the dtype's max), -inf -> `neginf`."""
    x = input._data
    if out is not None and out._data.dtype != x.dtype:
        raise RuntimeError(f"nan_to_num: dtype of out: {out.dtype._legacy} should be same as "
                           f"input: {input.dtype._legacy}")
    if x.dtype.kind not in "fc":
        return _finish(_make(x.copy()), out)
    data = np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)
    return emit(data, NanToNumBackward0, (input,), (input,), out=out)


# -- complex parts: complex tensors never require grad here, so these are plain views -------
def real(input):
    return input if input._data.dtype.kind != "c" else _make(input._data.real)


def imag(input):
    if input._data.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _make(input._data.imag)


def conj(input):
    return input if input._data.dtype.kind != "c" else _make(np.conj(input._data))


_COMPLEX = "lightgrad has no batching rule for complex parts yet"
_COMPLEX_SAMPLE = S(make_inputs=lambda r: [r.uniform(-1, 1, (2, 3)) + 1j * r.uniform(-1, 1, 3)])
defop(real, method=property(real), vmap_refused=_COMPLEX, samples=[S((2, 3)), _COMPLEX_SAMPLE])
defop(imag, method=property(imag), vmap_refused=_COMPLEX, samples=[_COMPLEX_SAMPLE])
defop(conj, kind=ELEMENTWISE, samples=[S((2, 3)), _COMPLEX_SAMPLE])
__all__ = publish(globals())

