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
    # the operators (the functions themselves are sampled in their declarations)
    Op("sub", lambda m, x, y: x - y, [(2, 3), (2, 3)], np_ref=np.subtract, id="sub-operator"),
    Op("rsub", lambda m, x: 2 - x, [(3,)], id="rsub-operator"),
    Op("mul", lambda m, x: x * 3, [(2, 2)], id="mul-operator"),
    Op("div", lambda m, x, y: x / y, [(2, 3), (3,)], domain=P, id="div-operator"),
    Op("div", lambda m, x: 2 / x, [(3,)], domain=P, id="div-rtruediv"),
    Op("floor_divide", lambda m, x, y: x // y, BC, domain=P, grad=False, gradgrad=False,
       np_ref=np.floor_divide, id="floor_divide-operator"),
    Op("remainder", lambda m, x: x % 0.7, [(2, 3)], domain=_away_from_int, id="remainder-operator"),
    Op("pow", lambda m, x: x ** 3, [(2, 3)], id="pow-operator"),
    Op("pow", lambda m, x, y: x ** y, [(2, 3), (3,)], domain=P, id="pow-tensor-operator"),
    Op("pow", lambda m, x: 2 ** x, [(2, 3)], id="pow-scalar-base"),
    Op("neg", lambda m, x: -x, [(2, 3)], np_ref=np.negative, id="neg-operator"),
    Op("abs", lambda m, x: abs(x), [(2, 3)], np_ref=np.abs, id="abs-operator"),
    Op("xlogy", lambda m, y: m.xlogy(2.0, y), [(3,)], domain=P, id="xlogy-scalar-self"),
    # conversions (ops/convert.py)
    Op("to", lambda m, x: x.to(m.float64, copy=True), [(2, 3)], id="to-dtype-copy"),
    Op("to", lambda m, x: x.to(m.float32), [(2, 3)], grad=False, gradgrad=False,
       id="to-float32"),
    Op("to", lambda m, x: x.to("cpu", m.float16).to(m.float64), [(3,)], grad=False,
       gradgrad=False, torch_atol=1e-3, id="to-device-dtype"),
    Op("float", lambda m, x: x.float(), [(2, 3)], grad=False, gradgrad=False, id="float-2d"),
    Op("half", lambda m, x: x.half(), [(3,)], grad=False, gradgrad=False, torch_atol=1e-3,
       id="half-tolerance"),
    Op("long", lambda m, x: (x * 3).long(), [(3,)], grad=False, gradgrad=False,
       id="long-truncates"),
]
