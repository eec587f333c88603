"""Elementwise ops beyond the op table: dtypes of int/bool inputs, errors, special-function
accuracy, operators with NumPy scalars, conversions."""
import math
import warnings

import numpy as np
import pytest

import lightgrad


# -- erf, erfc, erfinv: NumPy only, float64 relative error <= 1e-14 ----------------------
def _rel_err(got, want):
    want = np.asarray(want)
    scale = np.where(want == 0, 1.0, np.abs(want))
    return np.max(np.abs(got - want) / scale)


def test_erf_erfc_match_math_to_1e14():
    rng = np.random.default_rng(0)
    xs = np.concatenate([np.linspace(-7, 7, 2801), rng.uniform(-4, 4, 1000),
                         np.logspace(-300, 1.4, 300), -np.logspace(-300, 1.4, 300),
                         [0.0, -0.0, 0.5, 1.0, 1.5, 2.5, 4.0, 8.0, 26.0]])
    t = lightgrad.tensor(xs, dtype=lightgrad.float64)
    assert _rel_err(lightgrad.erf(t).numpy(), [math.erf(v) for v in xs]) <= 1e-14
    ref = np.array([math.erfc(v) for v in xs])
    got = t.erfc().numpy()
    keep = ref > 1e-300   # erfc underflows around x = 26.5
    assert _rel_err(got[keep], ref[keep]) <= 1e-14


def test_erf_special_values_and_dtypes():
    t = lightgrad.tensor([np.inf, -np.inf, np.nan, 30.0])
    np.testing.assert_array_equal(lightgrad.erf(t).numpy(), [1.0, -1.0, np.nan, 1.0])
    np.testing.assert_array_equal(lightgrad.erfc(t).numpy(), [0.0, 2.0, np.nan, 0.0])
    assert lightgrad.erf(t).dtype is lightgrad.float32
    assert lightgrad.erf(lightgrad.tensor([1, 2])).dtype is lightgrad.float32
    assert lightgrad.erfinv(lightgrad.tensor([0.5], dtype=lightgrad.float16)).dtype is \
        lightgrad.float16


def test_erfinv_round_trip():
    ys = np.concatenate([np.linspace(-0.999, 0.999, 2001), 1 - np.logspace(-16, -1, 200),
                         -(1 - np.logspace(-16, -1, 200)), np.logspace(-300, -2, 100)])
    x = lightgrad.erfinv(lightgrad.tensor(ys, dtype=lightgrad.float64)).numpy()
    back = np.array([math.erf(v) for v in x])
    assert np.max(np.abs(back - ys) / np.abs(ys)) <= 1e-14
    # in the tails the round trip through erfc keeps full relative precision
    tail = ys > 0.9
    r = np.array([math.erfc(v) for v in x[tail]])
    assert np.max(np.abs(r - (1 - ys[tail])) / (1 - ys[tail])) <= 1e-13
    edge = lightgrad.erfinv(lightgrad.tensor([1.0, -1.0, 1.5, 0.0, -0.0], dtype=lightgrad.float64))
    np.testing.assert_array_equal(edge.numpy(), [np.inf, -np.inf, np.nan, 0.0, -0.0])


def test_erf_family_gradients():
    x = lightgrad.tensor([0.3, -1.2, 2.0], dtype=lightgrad.float64, requires_grad=True)
    (gx,) = lightgrad.autograd.grad(lightgrad.erf(x).sum(), x)
    np.testing.assert_allclose(gx.numpy(), 2 / math.sqrt(math.pi) * np.exp(-x.detach().numpy()
                                                                          ** 2))
    y = lightgrad.tensor([0.1, -0.7], dtype=lightgrad.float64, requires_grad=True)
    r = lightgrad.erfinv(y)
    (gy,) = lightgrad.autograd.grad(r.sum(), y)
    np.testing.assert_allclose(gy.numpy(), math.sqrt(math.pi) / 2 * np.exp(r.detach().numpy()
                                                                         ** 2))
    assert type(r.grad_fn).__name__ == "ErfinvBackward0"


# -- dtypes, values and errors of int/bool inputs against torch ---------------------------
def _make(m, k):
    return {"i64": lambda: m.tensor([3, -2, 5, 0]),
            "i32": lambda: m.tensor([3, -2, 5, 1], dtype=m.int32),
            "b": lambda: m.tensor([True, False, True, False]),
            "f32": lambda: m.tensor([0.3, -2.5, 5.0, 0.0]),
            "f64_0d": lambda: m.tensor(2.0, dtype=m.float64),
            "i64_0d": lambda: m.tensor(2),
            "s2": lambda: 2, "s2.5": lambda: 2.5, "sTrue": lambda: True}[k]()


def _outcome(m, fn, ks):
    try:
        r = fn(m, *[_make(m, k) for k in ks])
    except Exception as e:  # noqa: BLE001 - the error itself is compared
        return ("error", type(e).__name__, str(e).split(" (Triggered")[0])
    if isinstance(r, (bool, int, float)):
        return ("value", r)
    return ("tensor", str(r.dtype).split(".")[-1], tuple(r.shape),
            np.asarray(r.detach().numpy(), dtype=np.float64))


def _compare(torch, fn, ks):
    a, b = _outcome(lightgrad, fn, ks), _outcome(torch, fn, ks)
    assert a[:3] == b[:3], (ks, a, b)
    if a[0] == "tensor":
        np.testing.assert_allclose(a[3], b[3], rtol=1e-6, atol=1e-6, equal_nan=True)


UNARY = ("neg abs reciprocal square sqrt rsqrt exp exp2 expm1 log log2 log10 log1p sin cos tan "
         "asin atan sinh tanh asinh acosh atanh sigmoid logit erf erfc erfinv sign sgn floor "
         "ceil round trunc frac isnan isinf isfinite isposinf isneginf signbit logical_not "
         "bitwise_not nan_to_num relu positive").split()
BINARY = ("add sub mul div floor_divide remainder fmod pow atan2 maximum fmin hypot xlogy eq "
          "lt ge logical_and logical_xor bitwise_and bitwise_or bitwise_left_shift "
          "bitwise_right_shift isclose copysign equal").split()
TENSORS = ["i64", "i32", "b", "f32", "f64_0d", "i64_0d"]
SCALARS = ["s2", "s2.5", "sTrue"]


@pytest.mark.parametrize("name", UNARY)
def test_unary_dtypes_and_errors_match_torch(torch, name):
    for k in TENSORS:
        _compare(torch, lambda m, x: getattr(m, name)(x), [k])


@pytest.mark.parametrize("name", BINARY)
def test_binary_dtypes_and_errors_match_torch(torch, name):
    for k1 in TENSORS:
        for k2 in TENSORS + SCALARS:
            _compare(torch, lambda m, x, y: getattr(m, name)(x, y), [k1, k2])


OPERATORS = {
    "+": lambda m, x, y: x + y, "-": lambda m, x, y: x - y, "*": lambda m, x, y: x * y,
    "/": lambda m, x, y: x / y, "//": lambda m, x, y: x // y, "%": lambda m, x, y: x % y,
    "**": lambda m, x, y: x ** y, "==": lambda m, x, y: x == y, "!=": lambda m, x, y: x != y,
    "<": lambda m, x, y: x < y, "<=": lambda m, x, y: x <= y, ">": lambda m, x, y: x > y,
    ">=": lambda m, x, y: x >= y, "&": lambda m, x, y: x & y, "|": lambda m, x, y: x | y,
    "^": lambda m, x, y: x ^ y, "<<": lambda m, x, y: x << y, ">>": lambda m, x, y: x >> y}


@pytest.mark.parametrize("op", list(OPERATORS))
def test_operators_match_torch(torch, op):
    for k1 in TENSORS + SCALARS:
        for k2 in TENSORS + SCALARS:
            if k1[0] != "s" or k2[0] != "s":
                _compare(torch, OPERATORS[op], [k1, k2])


def test_other_ops_with_int_and_bool_inputs_match_torch(torch):
    cases = [
        lambda m, x: ~x, lambda m, x: -x, lambda m, x: +x, lambda m, x: abs(x),
        lambda m, x: m.round(x, decimals=2), lambda m, x: m.clamp(x, 0, 1),
        lambda m, x: m.clamp(x, 0.5, 1.5), lambda m, x: x.clamp_min(1),
        lambda m, x: m.clamp_max(x, 0.5), lambda m, x: m.logit(x, eps=0.2),
        lambda m, x: m.where(x > 0, x, 2.5), lambda m, x: m.where(x > 0, 1, x),
        lambda m, x: m.div(x, 2, rounding_mode="trunc"),
        lambda m, x: m.div(x, -2, rounding_mode="floor"), lambda m, x: 2 ** x,
        lambda m, x: m.xlogy(2, x), lambda m, x: m.remainder(5, x),
    ]
    for fn in cases:
        for k in TENSORS:
            _compare(torch, fn, [k])
    for k1 in TENSORS:
        for k2 in TENSORS:
            for fn in [lambda m, x, y: m.clamp(x, min=y), lambda m, x, y: m.lerp(x, y, 0.3),
                       lambda m, x, y: m.lerp(x, y, y), lambda m, x, y: m.addcmul(x, y, y),
                       lambda m, x, y: m.addcdiv(x, y, y + 3, value=0.5),
                       lambda m, x, y: m.where(x > 1, x, y),
                       lambda m, x, y: m.div(x, y, rounding_mode="floor")]:
                _compare(torch, fn, [k1, k2])


def test_integer_division_by_zero():
    for expr in [lambda: lightgrad.tensor([5]) // 0,
                 lambda: lightgrad.tensor([5]) % lightgrad.tensor([0]),
                 lambda: lightgrad.fmod(lightgrad.tensor([5]), 0)]:
        with pytest.raises(RuntimeError, match="^ZeroDivisionError$"):
            expr()
    r = lightgrad.tensor([5.0, -5.0]) // 0.0
    np.testing.assert_array_equal(r.numpy(), [np.inf, -np.inf])


def test_shape_mismatch_error_text():
    a, b = lightgrad.ones(2), lightgrad.ones(3)
    for fn in [lambda: a + b, lambda: a * b, lambda: a / b, lambda: a == b,
               lambda: lightgrad.maximum(a, b)]:
        with pytest.raises(RuntimeError, match=r"^The size of tensor a \(2\) must match the "
                           r"size of tensor b \(3\) at non-singleton dimension 0$"):
            fn()
    with pytest.raises(RuntimeError, match=r"tensor a \(4\) must match the size of tensor b "
                       r"\(3\) at non-singleton dimension 1"):
        lightgrad.ones(2, 4) - lightgrad.ones(3)


def test_rounding_mode_error_and_values():
    with pytest.raises(RuntimeError, match="^div expected rounding_mode to be one of None, "
                       "'trunc', or 'floor' but found 'foo'$"):
        lightgrad.div(lightgrad.ones(2), 2, rounding_mode="foo")
    x = lightgrad.tensor([-7, 7])
    assert lightgrad.div(x, 2, rounding_mode="trunc").tolist() == [-3, 3]
    assert lightgrad.div(x, 2, rounding_mode="floor").tolist() == [-4, 3]
    assert lightgrad.remainder(x, lightgrad.tensor([3, -3])).tolist() == [2, -2]
    assert lightgrad.fmod(x, lightgrad.tensor([3, -3])).tolist() == [-1, 1]


# -- NumPy scalars on the left, hashing, comparisons with other objects ------------------
def test_numpy_scalars_on_the_left(torch):
    cases = [lambda m, t: np.float32(0.1) * t, lambda m, t: np.float64(2) + t,
             lambda m, t: np.float64(2) - t, lambda m, t: np.float64(2) / t,
             lambda m, t: np.float64(2) ** t, lambda m, t: np.int64(2) * t,
             lambda m, t: np.float64(2) // t, lambda m, t: np.float64(2) % t,
             lambda m, t: np.float64(1.5) > t, lambda m, t: np.float64(1) == t,
             lambda m, t: t * np.float64(2.5), lambda m, t: np.int32(3) & t.long()]
    for make in [lambda m: m.tensor([1.0, 2.0]), lambda m: m.tensor([1, 2]),
                 lambda m: m.tensor([1.5], dtype=m.float64)]:
        for fn in cases:
            a, b = fn(lightgrad, make(lightgrad)), fn(torch, make(torch))
            assert isinstance(a, lightgrad.Tensor)
            assert a.dtype.name == str(b.dtype).split(".")[-1]
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_numpy_scalar_keeps_graph():
    x = lightgrad.tensor([1.0, 2.0], requires_grad=True)
    y = np.float32(3.0) * x
    assert type(y.grad_fn).__name__ == "MulBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_eq_is_elementwise_and_tensors_stay_hashable():
    a = lightgrad.tensor([1.0, 2.0])
    b = lightgrad.tensor([1.0, 3.0])
    assert (a == b).tolist() == [True, False]
    assert (a != b).tolist() == [False, True]
    assert len({a, b, a}) == 2 and {a: 1}[a] == 1
    assert (a == None) is False and (a != None) is True  # noqa: E711
    assert (a == "x") is False
    with pytest.raises(TypeError):
        a < None  # noqa: B015
    assert a.equal(a.clone()) and not lightgrad.equal(a, b)
    assert lightgrad.equal(a, lightgrad.tensor([1, 2]))


def test_comparisons_are_not_differentiable():
    x = lightgrad.tensor([1.0, -1.0], requires_grad=True)
    for r in [x > 0, x.eq(1), lightgrad.isnan(x), x.logical_not(), lightgrad.isclose(x, x)]:
        assert r.dtype is lightgrad.bool and not r.requires_grad and r.grad_fn is None


def test_isclose_allclose(torch):
    for m in (lightgrad, torch):
        a = m.tensor([1.0, float("nan"), float("inf"), 1e-9])
        b = m.tensor([1.0 + 1e-7, float("nan"), float("inf"), 0.0])
        assert m.isclose(a, b).tolist() == [True, False, True, True]
        assert m.isclose(a, b, equal_nan=True).tolist() == [True, True, True, True]
        assert m.allclose(a, b, equal_nan=True) is True
        assert m.allclose(a, b) is False
    with pytest.raises(RuntimeError, match="^Float did not match Long$"):
        lightgrad.isclose(lightgrad.ones(2), lightgrad.ones(2, dtype=lightgrad.long))


def test_aliases():
    x = lightgrad.tensor([0.3, -0.2])
    for a, b in [("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"),
                 ("arcsinh", "asinh"), ("arctanh", "atanh"), ("absolute", "abs"),
                 ("negative", "neg"), ("fix", "trunc"), ("clip", "clamp"),
                 ("greater", "gt"), ("greater_equal", "ge"), ("less", "lt"),
                 ("less_equal", "le"), ("not_equal", "ne"), ("multiply", "mul"),
                 ("divide", "div"), ("subtract", "sub")]:
        args = (x,) if a not in ("clip",) else (x, -0.1, 0.1)
        if a in ("greater", "greater_equal", "less", "less_equal", "not_equal", "multiply",
                 "divide", "subtract"):
            args = (x, 0.25)
        assert getattr(lightgrad, a)(*args).tolist() == getattr(lightgrad, b)(*args).tolist()
    assert lightgrad.arctan2(x, x).tolist() == lightgrad.atan2(x, x).tolist()


# -- nodes, gradients and special cases vs torch ---------------------------------------------
def _node_and_grads(m, fn, values):
    xs = [m.tensor(v, dtype=m.float64, requires_grad=True) for v in values]
    y = fn(m, *xs)
    gs = m.autograd.grad(y.sum(), xs, allow_unused=True)
    return type(y.grad_fn).__name__, [None if g is None else g.detach().numpy(force=True)
                                      for g in gs]


@pytest.mark.parametrize("fn,values", [
    (lambda m, x, y: m.maximum(x, y), [[1.0, 2.0, 3.0], [1.0, 5.0, 0.0]]),      # tie splits
    (lambda m, x, y: m.minimum(x, y), [[1.0, 2.0, 3.0], [1.0, 5.0, 0.0]]),
    (lambda m, x, y: m.fmax(x, y), [[1.0, float("nan"), 3.0], [1.0, 5.0, float("nan")]]),
    (lambda m, x, y: m.fmin(x, y), [[1.0, float("nan"), 3.0], [1.0, 5.0, float("nan")]]),
    (lambda m, x, lo, hi: m.clamp(x, lo, hi), [[0.0, 2.0, 5.0], [1.0, 3.0, 1.0],
                                                [4.0, 1.0, 4.0]]),               # min > max
    (lambda m, x: x.clamp(1.0, 2.0), [[1.0, 1.5, 2.0, 3.0]]),                  # boundaries
    (lambda m, x: m.sgn(x), [[1.0, -2.0]]),
    (lambda m, x: m.sign(x), [[1.0, -2.0]]),
    (lambda m, x: m.logit(x), [[-0.5, 0.5, 1.5]]),
    (lambda m, x: m.logit(x, eps=0.1), [[0.05, 0.5, 0.95]]),
    (lambda m, x, y: m.div(x, y, rounding_mode="floor"), [[1.5, -2.5], [0.7, 2.0]]),
    (lambda m, x, y: x % y, [[1.5, -2.5], [0.7, 2.0]]),
    (lambda m, x, y: m.copysign(x, y), [[1.5, -2.5, 0.0], [-1.0, 2.0, 3.0]]),
    (lambda m, x: m.nan_to_num(x), [[1.0, float("nan"), float("inf")]]),
    (lambda m, x, y: m.where(x > 0, x, y), [[1.0, -1.0], [[2.0], [3.0]]]),
    (lambda m, x: m.round(x, decimals=1), [[0.26, -1.34]]),
    (lambda m, x: x.frac(), [[1.25, -2.5]]),
    (lambda m, x, y: m.xlogy(x, y), [[0.0, 2.0], [0.5, 3.0]]),
    (lambda m, x: x.clamp_min(0.5), [[0.2, 0.7]]),
    (lambda m, x: x.double(), [[0.2, 0.7]]),
    (lambda m, x: x.to(m.float32), [[0.2, 0.7]]),
    (lambda m, x: x.to(m.float16).float(), [[0.2, 0.7]]),
    (lambda m, x: x.float().type_as(x), [[0.2, 0.7]]),
    (lambda m, x: x.t().contiguous(), [[[0.2, 0.7]]]),
])
def test_nodes_and_gradients_match_torch(torch, fn, values):
    name, grads = _node_and_grads(lightgrad, fn, values)
    tname, tgrads = _node_and_grads(torch, fn, values)
    assert name == tname
    for a, b in zip(grads, tgrads):
        if b is None:
            assert a is None or not np.any(a)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7, equal_nan=True)


def test_conversions_return_self_or_copy(torch):
    x = lightgrad.rand(2, 3, requires_grad=True)
    assert x.float() is x and x.to(lightgrad.float32) is x and x.to("cpu") is x
    assert x.contiguous() is x and x.type_as(x) is x and x.type(lightgrad.float32) is x
    assert type(x.to(lightgrad.float32, copy=True).grad_fn).__name__ == "ToCopyBackward0"
    assert type(x.to("cpu", copy=True).grad_fn).__name__ == "ToCopyBackward0"
    assert type(x.to(lightgrad.float64, False, True).grad_fn).__name__ == "ToCopyBackward0"
    assert type(x.clone().grad_fn).__name__ == "CloneBackward0"
    for f in ("long", "int", "bool", "short", "byte", "char"):
        r = getattr(x, f)()
        assert not r.requires_grad and r.grad_fn is None
    assert x.type() == "torch.FloatTensor"
    assert x.type("torch.DoubleTensor").dtype is lightgrad.float64
    d = x.double()
    d.sum().backward()
    assert x.grad.dtype is lightgrad.float32


def test_floor_divide_has_no_derivative():
    x = lightgrad.tensor([1.5, -2.5], requires_grad=True)
    for y, op in [(x // 2, "floor_divide"), (2 % x, "remainder")]:
        assert type(y.grad_fn).__name__ == "NotImplemented"
        assert y.grad_fn.name() == "torch::autograd::NotImplemented"
        with pytest.raises(RuntimeError, match=f"^derivative for aten::{op} is not "
                           "implemented$"):
            y.sum().backward()


def test_where_variants(torch):
    c = lightgrad.tensor([True, False])
    assert [t.tolist() for t in lightgrad.where(lightgrad.tensor([[0, 1], [1, 0]]) > 0)] == \
        [[0, 1], [1, 0]]
    assert lightgrad.where(c, 1.0, 0).dtype is lightgrad.float32
    assert lightgrad.where(c, 1, 0).dtype is lightgrad.int64
    with pytest.raises(RuntimeError, match="^where expected condition to be a boolean tensor, "
                       "but got a tensor with dtype Long$"):
        lightgrad.where(lightgrad.tensor([1, 0]), c, c)
    x = lightgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x.where(c, 0.0)
    assert type(y.grad_fn).__name__ == "WhereBackward0"
    assert y.grad_fn.next_functions[1] == (None, 0)


def test_inplace_and_out():
    a = lightgrad.tensor([1.0, 4.0])
    assert a.sqrt_() is a and a.tolist() == [1.0, 2.0] and a._version == 1
    a //= 2
    assert a.tolist() == [0.0, 1.0]
    i = lightgrad.tensor([3, 4])
    with pytest.raises(RuntimeError, match="^result type Float can't be cast to the desired "
                       "output type Long$"):
        i.exp_()
    b = lightgrad.tensor([True, False])
    b &= lightgrad.tensor([True, True])
    assert b.tolist() == [True, False]
    x = lightgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y.clamp_(max=1.5)
    assert type(y.grad_fn).__name__ == "ClampBackward1"
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0]
    out = lightgrad.empty(2)
    r = lightgrad.exp(lightgrad.tensor([0.0, 1.0]), out=out)
    assert r is out and np.allclose(out.numpy(), [1.0, np.e])
    with pytest.raises(RuntimeError, match="don.t support automatic differentiation"):
        lightgrad.exp(x, out=lightgrad.empty(2))


def test_error_texts():
    b = lightgrad.tensor([True, False])
    f = lightgrad.tensor([1.0, 2.0])
    cases = [
        (lambda: -b, RuntimeError, "Negation, the `-` operator, on a bool tensor"),
        (lambda: b - 1, RuntimeError, "Subtraction, the `-` operator, with a bool tensor"),
        (lambda: b - b, RuntimeError, "Subtraction, the `-` operator, with two bool tensors"),
        (lambda: ~f, TypeError, r"~ \(operator.invert\) is only implemented on integer"),
        (lambda: f & f, NotImplementedError, "\"bitwise_and_cpu\" not implemented for 'Float'"),
        (lambda: b.relu(), RuntimeError, "Boolean inputs not supported for relu"),
        (lambda: lightgrad.tensor([2]).frac(), NotImplementedError,
         "\"frac_cpu\" not implemented for 'Long'"),
        (lambda: lightgrad.clamp(f), RuntimeError, "At least one of 'min' or 'max'"),
        (lambda: lightgrad.maximum(f, 2), TypeError,
         r"maximum\(\): argument 'other' \(position 2\) must be Tensor, not int"),
        (lambda: lightgrad.lerp(f, f.double(), 0.5), RuntimeError,
         "expected dtype float for `end` but got dtype double"),
        (lambda: lightgrad.hypot(lightgrad.tensor([1]), lightgrad.tensor([1])),
         NotImplementedError, "\"hypot_cpu\" not implemented for 'Long'"),
        (lambda: lightgrad.tensor([2]) ** -1, RuntimeError,
         "Integers to negative integer powers are not allowed."),
        (lambda: lightgrad.addcdiv(f, lightgrad.tensor([1]), lightgrad.tensor([1])),
         RuntimeError, "Integer division with addcdiv is no longer supported"),
    ]
    for fn, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            fn()


def test_no_numpy_warnings_for_inf_and_nan():
    x = lightgrad.tensor([0.0, -1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lightgrad.log(x), lightgrad.sqrt(x), x.reciprocal(), x / 0, lightgrad.logit(x)
        lightgrad.acosh(x), lightgrad.atanh(x + 1), lightgrad.tensor([1e30]).exp()


def test_rsub_of_two_tensors_differentiates_both():
    a = lightgrad.ones(2, requires_grad=True)
    b = lightgrad.tensor(3., requires_grad=True)
    y = lightgrad.rsub(a, b, alpha=2)
    assert type(y.grad_fn).__name__ == "RsubBackward0" and y.tolist() == [1., 1.]
    y.sum().backward()
    assert a.grad.tolist() == [-2., -2.] and b.grad.item() == 2.
    assert type((2 - a).grad_fn).__name__ == "RsubBackward1"


def test_out_argument_errors():
    a = lightgrad.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^add\(\): functions with out=\.\.\. arguments"):
        lightgrad.add(a, a, out=lightgrad.empty(2))
    with pytest.raises(RuntimeError, match="^result type Float can't be cast to the desired "
                       "output type Long$"):
        lightgrad.mul(a.detach(), 2, out=lightgrad.empty(2, dtype=lightgrad.int64))


def test_complex_parts():
    c = lightgrad.tensor([1 + 2j])
    assert c.real.tolist() == [1.] and c.imag.tolist() == [2.] and c.conj().tolist() == [1 - 2j]
    x = lightgrad.ones(2)
    assert x.real is x and x.conj() is x
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex"):
        x.imag


def test_float_of_tensor_requiring_grad_warns_once():
    from lightgrad import _tensor
    _tensor._warned_float[0] = False
    x = lightgrad.ones(1, requires_grad=True)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        float(x)
        float(x)
    msgs = [str(w.message) for w in rec]
    assert msgs == ["Converting a tensor with requires_grad=True to a scalar may lead to "
                    "unexpected behavior.\nConsider using tensor.detach() first."]


def test_float_of_tensor_requiring_grad_is_quiet_under_no_grad():
    from lightgrad import _tensor
    _tensor._warned_float[0] = False
    x = lightgrad.ones(1, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with lightgrad.no_grad():
            assert float(x) == 1.0
    assert _tensor._warned_float[0] is False     # the one warning is still to come
