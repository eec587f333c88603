"""Op-table entries for the elementwise family (ops/elementwise.py) and conversions
(ops/convert.py)."""
import numpy as np

from .entry import Op


def _away_from_int(shape, rng):
    """Values in (-3, 3) at least 0.1 from an integer (rounding ops, floor division)."""
    return np.floor(rng.uniform(-3, 3, shape)) + rng.uniform(0.1, 0.9, shape)


def _distinct_pair(rng):
    """Two arrays that never tie (maximum/minimum are not smooth at ties)."""
    a = rng.uniform(-2, 2, (2, 3))
    b = a + rng.choice([-1.0, 1.0], (2, 3)) * rng.uniform(0.2, 1.0, (2, 3))
    return [a, b]


def _unit(shape, rng):
    return rng.uniform(-0.9, 0.9, shape)


P = (0.5, 2.0)       # positive inputs
U = (0.1, 0.9)       # inside (0, 1)
BC = [(2, 3), (3,)]  # a broadcasting pair

ENTRIES = [
    # arithmetic
    Op("mul", lambda m, x, y: m.mul(x, y), [(), (2, 3)], id="mul-0d"),
    Op("multiply", lambda m, x, y: m.multiply(x, y), BC, np_ref=np.multiply),
    Op("sub", lambda m, x, y: x.sub(y, alpha=2), BC, id="sub-alpha"),
    Op("subtract", lambda m, x, y: m.subtract(x, y), BC, np_ref=np.subtract),
    Op("rsub", lambda m, x, y: m.rsub(x, y, alpha=2), BC, id="rsub-tensors",
       np_ref=lambda x, y: y - 2 * x),
    Op("div", lambda m, x: 2 / x, [(3,)], domain=P, id="div-rtruediv"),
    Op("div", lambda m, x, y: m.div(x, y, rounding_mode="floor"), BC, domain=P,
       id="div-floor"),
    Op("div", lambda m, x, y: m.div(x, y, rounding_mode="trunc"), [(3,), ()], id="div-trunc"),
    Op("divide", lambda m, x, y: m.divide(x, y), BC, domain=P, np_ref=np.divide),
    Op("true_divide", lambda m, x, y: m.true_divide(x, y), [(3,), ()], domain=P),
    Op("floor_divide", lambda m, x, y: x // y, BC, domain=P, grad=False, gradgrad=False,
       np_ref=np.floor_divide),
    Op("remainder", lambda m, x: x % 0.7, [(2, 3)], domain=_away_from_int, id="remainder-scalar"),
    Op("remainder", lambda m, x, y: m.remainder(x, y), BC,
       make_inputs=lambda r: [r.uniform(-3, 3, (2, 3)), np.array([0.7, -1.3, 2.1])],
       np_ref=np.remainder),
    Op("fmod", lambda m, x: m.fmod(x, 0.7), [(2, 3)], domain=_away_from_int, id="fmod-scalar"),
    Op("fmod", lambda m, x, y: x.fmod(y), BC,
       make_inputs=lambda r: [r.uniform(-3, 3, (2, 3)), np.array([0.7, -1.3, 2.1])],
       np_ref=np.fmod),
    Op("pow", lambda m, x: x ** 0.5, [(2, 2)], domain=P, id="pow-sqrt"),
    Op("pow", lambda m, x, y: m.pow(x, y), [(3,), ()], domain=P, id="pow-0d-exponent"),
    Op("square", lambda m, x: x.square(), [(2, 3)], np_ref=np.square),
    Op("neg", lambda m, x: -x, [(2, 3)], np_ref=np.negative),
    Op("negative", lambda m, x: m.negative(x), [()]),
    Op("abs", lambda m, x: abs(x), [(2, 3)], np_ref=np.abs),
    Op("absolute", lambda m, x: m.absolute(x), [(3,)]),
    Op("reciprocal", lambda m, x: x.reciprocal(), [(2, 3)], domain=P, np_ref=np.reciprocal),
    # powers, exponentials, logarithms
    Op("sqrt", lambda m, x: x.sqrt(), [(2, 3)], domain=P, np_ref=np.sqrt),
    Op("rsqrt", lambda m, x: m.rsqrt(x), [(2, 3)], domain=P, np_ref=lambda a: a ** -0.5),
    Op("exp", lambda m, x: m.exp(x), [()], id="exp-0d"),
    Op("exp2", lambda m, x: x.exp2(), [(2, 3)], np_ref=np.exp2),
    Op("expm1", lambda m, x: m.expm1(x), [(2, 3)], np_ref=np.expm1),
    Op("log2", lambda m, x: x.log2(), [(2, 3)], domain=P, np_ref=np.log2),
    Op("log10", lambda m, x: m.log10(x), [(2, 3)], domain=P, np_ref=np.log10),
    Op("log1p", lambda m, x: x.log1p(), [(2, 3)], domain=P, np_ref=np.log1p),
    # trigonometric and hyperbolic
    Op("sin", lambda m, x: x.sin(), [(2, 3)], np_ref=np.sin),
    Op("cos", lambda m, x: m.cos(x), [(2, 3)], np_ref=np.cos),
    Op("tan", lambda m, x: x.tan(), [(2, 3)], domain=(-1.2, 1.2), np_ref=np.tan),
    Op("asin", lambda m, x: x.asin(), [(2, 3)], domain=_unit, np_ref=np.arcsin),
    Op("acos", lambda m, x: m.acos(x), [(2, 3)], domain=_unit, np_ref=np.arccos),
    Op("atan", lambda m, x: x.atan(), [(2, 3)], np_ref=np.arctan),
    Op("sinh", lambda m, x: x.sinh(), [(2, 3)], np_ref=np.sinh),
    Op("cosh", lambda m, x: m.cosh(x), [(2, 3)], np_ref=np.cosh),
    Op("tanh", lambda m, x: x.tanh(), [(2, 3)], np_ref=np.tanh),
    Op("asinh", lambda m, x: x.asinh(), [(2, 3)], np_ref=np.arcsinh),
    Op("acosh", lambda m, x: m.acosh(x), [(2, 3)], domain=(1.2, 3.0), np_ref=np.arccosh),
    Op("atanh", lambda m, x: x.atanh(), [(2, 3)], domain=_unit, np_ref=np.arctanh),
    Op("arcsin", lambda m, x: m.arcsin(x), [(3,)], domain=_unit),
    Op("arccos", lambda m, x: x.arccos(), [(3,)], domain=_unit),
    Op("arctan", lambda m, x: m.arctan(x), [(3,)]),
    Op("arcsinh", lambda m, x: x.arcsinh(), [(3,)]),
    Op("arccosh", lambda m, x: m.arccosh(x), [(3,)], domain=(1.2, 3.0)),
    Op("arctanh", lambda m, x: m.arctanh(x), [(3,)], domain=_unit),
    Op("atan2", lambda m, x, y: m.atan2(x, y), BC, np_ref=np.arctan2),
    Op("arctan2", lambda m, x, y: x.arctan2(y), [(3,), ()]),
    # special functions
    Op("sigmoid", lambda m, x: m.sigmoid(x), [(2, 3)], domain=(-4, 4)),
    Op("logit", lambda m, x: m.logit(x), [(2, 3)], domain=U),
    Op("logit", lambda m, x: x.logit(eps=0.2), [(2, 3)], domain=(0.25, 0.75), id="logit-eps"),
    Op("erf", lambda m, x: m.erf(x), [(2, 3)]),
    Op("erfc", lambda m, x: x.erfc(), [(2, 3)], domain=(-3, 3)),
    Op("erfinv", lambda m, x: m.erfinv(x), [(2, 3)], domain=_unit),
    # piecewise constant (zero gradients) and frac
    Op("sign", lambda m, x: x.sign(), [(2, 3)], domain=_away_from_int, np_ref=np.sign),
    # torch's sgn gradient is a ZeroTensor, which the harness cannot compare; see
    # test_elementwise.py for its node and gradient
    Op("sgn", lambda m, x: m.sgn(x), [(3,)], domain=_away_from_int, grad=False, gradgrad=False),
    Op("relu", lambda m, x: m.relu(x), [(2, 3)], domain=_away_from_int,
       np_ref=lambda a: np.maximum(a, 0)),
    Op("floor", lambda m, x: m.floor(x), [(2, 3)], domain=_away_from_int, np_ref=np.floor),
    Op("ceil", lambda m, x: x.ceil(), [(2, 3)], domain=_away_from_int, np_ref=np.ceil),
    Op("round", lambda m, x: m.round(x), [(2, 3)], domain=_away_from_int, np_ref=np.round),
    Op("round", lambda m, x: x.round(decimals=1), [(3,)], id="round-decimals",
       make_inputs=lambda r: [np.array([0.123, -1.271, 2.349])]),
    Op("trunc", lambda m, x: x.trunc(), [(2, 3)], domain=_away_from_int, np_ref=np.trunc),
    Op("fix", lambda m, x: m.fix(x), [(3,)], domain=_away_from_int),
    Op("frac", lambda m, x: x.frac(), [(2, 3)], domain=_away_from_int),
    # clamping and selection
    Op("clamp", lambda m, x: x.clamp(-0.5, 0.5), [(2, 3)], domain=_away_from_int,
       id="clamp-both"),
    Op("clamp", lambda m, x, lo: m.clamp(x, min=lo), BC, make_inputs=_distinct_pair,
       id="clamp-tensor-min"),
    Op("clamp", lambda m, x, lo, hi: m.clamp(x, lo, hi), [(2, 3), (3,), (2, 1)],
       make_inputs=lambda r: [r.uniform(-2, 2, (2, 3)), np.array([-1.05, -0.35, 0.15]),
                              np.array([[0.55], [1.25]])], id="clamp-tensor-both"),
    Op("clip", lambda m, x: m.clip(x, max=0.3), [(2, 3)], domain=_away_from_int),
    Op("clamp_min", lambda m, x: x.clamp_min(0.5), [(2, 3)], domain=_away_from_int),
    Op("clamp_min", lambda m, x, y: m.clamp_min(x, y), [(2, 3), (2, 3)],
       make_inputs=_distinct_pair, id="clamp_min-tensor"),
    Op("clamp_max", lambda m, x: m.clamp_max(x, 0.5), [(2, 3)], domain=_away_from_int),
    Op("clamp_max", lambda m, x, y: x.clamp_max(y), [(2, 3), (2, 3)],
       make_inputs=_distinct_pair, id="clamp_max-tensor"),
    Op("maximum", lambda m, x, y: m.maximum(x, y), [(2, 3), (2, 3)],
       make_inputs=_distinct_pair, np_ref=np.maximum),
    Op("minimum", lambda m, x, y: x.minimum(y), [(2, 3), (2, 3)],
       make_inputs=_distinct_pair, np_ref=np.minimum),
    Op("fmax", lambda m, x, y: m.fmax(x, y), [(2, 3), (2, 3)], make_inputs=_distinct_pair,
       np_ref=np.fmax),
    Op("fmin", lambda m, x, y: m.fmin(x, y), [(2, 3), (2, 3)], make_inputs=_distinct_pair,
       np_ref=np.fmin),
    Op("hypot", lambda m, x, y: m.hypot(x, y), BC, domain=P, np_ref=np.hypot),
    Op("copysign", lambda m, x, y: m.copysign(x, y), BC, domain=_away_from_int,
       np_ref=np.copysign),
    Op("copysign", lambda m, x: x.copysign(-1.0), [(3,)], domain=_away_from_int,
       id="copysign-scalar"),
    Op("lerp", lambda m, x, y: m.lerp(x, y, 0.3), BC, id="lerp-scalar"),
    Op("lerp", lambda m, x, y, w: x.lerp(y, w), [(2, 3), (3,), (2, 1)],
       make_inputs=lambda r: [r.uniform(-2, 2, (2, 3)), r.uniform(-2, 2, (3,)),
                              np.array([[0.2], [0.8]])], id="lerp-tensor"),
    Op("addcmul", lambda m, x, a, b: m.addcmul(x, a, b, value=0.5), [(2, 3), (3,), (2, 1)]),
    Op("addcdiv", lambda m, x, a, b: x.addcdiv(a, b, value=2), [(2, 3), (3,), (2, 1)],
       domain=P),
    Op("xlogy", lambda m, x, y: m.xlogy(x, y), BC, domain=P),
    Op("xlogy", lambda m, x: m.xlogy(x, 3.0), [(3,)], domain=P, id="xlogy-scalar-other"),
    Op("xlogy", lambda m, y: m.xlogy(2.0, y), [(3,)], domain=P, id="xlogy-scalar-self"),
    Op("where", lambda m, x, y: m.where(x > 0, x, y), BC,
       np_ref=lambda a, b: np.where(a > 0, a, b)),
    Op("where", lambda m, x: m.where(x > 0, x, 0.0), [()], id="where-scalar"),
    Op("nan_to_num", lambda m, x: m.nan_to_num(x, posinf=9.0), [(2, 3)],
       make_inputs=lambda r: [np.array([[1.5, np.inf, -np.inf], [np.nan, 0.5, -2.0]])]),
    # conversions (ops/convert.py)
    Op("to", lambda m, x: x.to(m.float64, copy=True), [(2, 3)]),
    Op("to", lambda m, x: x.to(m.float32), [(2, 3)], grad=False, gradgrad=False,
       id="to-float32"),
    Op("to", lambda m, x: x.to("cpu", m.float16).to(m.float64), [(3,)], grad=False,
       gradgrad=False, torch_atol=1e-3, id="to-device-dtype"),
    Op("float", lambda m, x: x.float(), [(2, 3)], grad=False, gradgrad=False),
    Op("double", lambda m, x: x.float().double(), [(3,)], grad=False, gradgrad=False),
    Op("half", lambda m, x: x.half(), [(3,)], grad=False, gradgrad=False, torch_atol=1e-3),
    Op("long", lambda m, x: (x * 3).long(), [(3,)], grad=False, gradgrad=False),
    Op("int", lambda m, x: x.int(), [(3,)], grad=False, gradgrad=False),
    Op("bool", lambda m, x: x.bool(), [(3,)], grad=False, gradgrad=False),
    Op("type_as", lambda m, x, y: x.float().type_as(y), [(3,), (2,)], nondiff=(1,),
       grad=False, gradgrad=False),
    Op("clone", lambda m, x: m.clone(x), [(2, 3)]),
    Op("contiguous", lambda m, x: x.t().contiguous(), [(2, 3)]),
]
