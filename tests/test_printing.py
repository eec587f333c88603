"""repr(tensor) character for character against torch (spec section 8)."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lightgrad
from lightgrad import _tensor_str

from .conftest import require

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
          "complex64", "complex128"]


@pytest.fixture(autouse=True)
def _reset_printoptions():
    yield
    lightgrad.set_printoptions(profile="default")
    lightgrad.set_default_dtype(lightgrad.float32)
    try:
        import torch
    except ImportError:
        return
    torch.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)


def both(torch, arr, dtype=None, requires_grad=False):
    """The same data as a torch and a lightgrad tensor."""
    arr = np.asarray(arr)
    name = dtype or arr.dtype.name
    a = arr.astype(getattr(np, name) if name != "bool" else np.bool_)
    t = torch.tensor(a, dtype=getattr(torch, name), requires_grad=requires_grad)
    x = lightgrad.tensor(a, dtype=getattr(lightgrad, name), requires_grad=requires_grad)
    return t, x


def same(t, x):
    """Equal reprs. The spec lets dtypes print as `lightgrad.X`; as that name is longer than
    `torch.X` and moves line wrapping, the layout is compared with torch's spelling."""
    real = repr(x)
    assert str(x) == real
    assert real.replace("\n", "").replace(" ", "") == \
        repr(t).replace("torch.", "lightgrad.").replace("\n", "").replace(" ", "")
    orig = lightgrad.dtype.__repr__
    lightgrad.dtype.__repr__ = lambda d: "torch." + d.name
    try:
        got = repr(x)
    finally:
        lightgrad.dtype.__repr__ = orig
    assert got == repr(t), f"\nlightgrad:\n{got}\ntorch:\n{t!r}"


def set_both(torch, **kw):
    torch.set_printoptions(**kw)
    lightgrad.set_printoptions(**kw)


SPEC_FLOATS = [
    1.0, 1.5, -0.0, 0.0, 28.83, [1., 2., 3.], [1.5, 2., 3.], [1.12345, 2.], [1e-5, 1.],
    [1., 1e4], [123456., 1.5], [1., 1000.], [0.001, 1.], [100000.], [1e7, 1.],
    [math.nan, math.inf, -math.inf, 1.5], [math.nan, 1.], [math.nan], [math.inf, -math.inf],
    [0., -0.], [1e8], [1e9, 1.], [1e-4, 1.], [9.99995, 1.], [0.1, 0.2, 0.3], [-1., 1.],
    [[1., 2.], [3., 4.]], [[[1.5, -2.], [3., 4.]], [[5., 6.], [7., 8.]]], [1e-40, 1.],
    [3.4e38, -3.4e38], [12345678.9], [-1e-5], [[[[1.]]]], [2.5, math.nan, -math.inf],
    [[0.5, 1.25], [1e3, 1e-3]], [1e300, 1e-300], [0.99999, 1.0],
]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("case", range(len(SPEC_FLOATS)))
def test_float_cases(torch, case, dtype):
    with np.errstate(over="ignore", under="ignore"):
        same(*both(torch, SPEC_FLOATS[case], dtype))


INT_CASES = [0, 5, -7, [-1, 20, 300], [1, 2, 3], [[1, -2], [30, 4]], [127, -128], [0, 0],
             list(range(30)), [[[1]]], [255, 0]]


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8"])
@pytest.mark.parametrize("case", range(len(INT_CASES)))
def test_int_cases(torch, case, dtype):
    with np.errstate(over="ignore"):
        arr = np.array(INT_CASES[case]).astype(dtype)
    same(*both(torch, arr, dtype))


@pytest.mark.parametrize("data", [True, False, [True, False], [True, True], [[False]] * 3,
                                  [True] * 40])
def test_bool(torch, data):
    same(*both(torch, np.array(data, dtype=bool), "bool"))


COMPLEX_CASES = [1 + 2j, -0.0 - 0.0j, 0j, [1 + 2j, 3 - 4j], [1.5 + 0j, -2.25j], [1e-5 + 1j, 1e5],
                 [complex(math.nan, 1), complex(1, math.inf)], [[1 + 1j, 2], [3, 4 - 0.5j]],
                 [1j * k for k in range(40)], [complex(0, -0.0)], [complex(1, math.nan)]]


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("case", range(len(COMPLEX_CASES)))
def test_complex(torch, case, dtype):
    same(*both(torch, np.array(COMPLEX_CASES[case], dtype=np.complex128), dtype))


@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0), (3, 0, 2), (0, 0)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_empty(torch, shape, dtype):
    same(*both(torch, np.zeros(shape), dtype))


@pytest.mark.parametrize("make", [
    lambda m: m.arange(1000.), lambda m: m.arange(1001.), lambda m: m.arange(10),
    lambda m: m.arange(2000).reshape(20, 100), lambda m: m.arange(10000.).reshape(10, 10, 100),
    lambda m: m.arange(6000.).reshape(10, 20, 30) / 7, lambda m: m.arange(1200) - 600,
    lambda m: m.arange(100.).reshape(10, 10) * 1e5, lambda m: m.arange(3000).reshape(3, 1000),
    lambda m: (m.arange(2000.) - 1000) / 3, lambda m: m.ones(2, 3, 4, 5),
    lambda m: m.arange(50.) * 1.5 + 0.25, lambda m: m.arange(24).reshape(2, 3, 4),
])
def test_layout_and_summary(torch, make):
    same(make(torch), make(lightgrad))


@pytest.mark.parametrize("kw", [
    dict(precision=2), dict(precision=0), dict(precision=8), dict(threshold=5),
    dict(threshold=5, edgeitems=1), dict(threshold=5, edgeitems=0), dict(edgeitems=0),
    dict(linewidth=40), dict(linewidth=5), dict(linewidth=200), dict(profile="short"),
    dict(profile="full"), dict(sci_mode=True), dict(sci_mode=False),
    dict(profile="short", precision=6), dict(threshold=3, edgeitems=5),
])
@pytest.mark.parametrize("data", [
    [1.5, 2.25, 1e-5], [1., 2., 3.], list(range(30)), [[1.25, 2.], [3., 4e6]], [0., 0.],
    [math.nan, 1.], np.arange(60.).reshape(3, 4, 5) / 3, [1e10, 1.], [[1 + 2j, 3.5 - 1e-5j]],
    [True, False, True, True], [7],
])
def test_options(torch, kw, data):
    set_both(torch, **kw)
    arr = np.array(data)
    if arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    if arr.dtype == np.complex128:
        arr = arr.astype(np.complex64)
    same(*both(torch, arr))


def test_sci_mode_reset_by_every_call(torch):
    lightgrad.set_printoptions(sci_mode=True)
    assert repr(lightgrad.tensor([1.5])) == "tensor([1.5000e+00])"
    lightgrad.set_printoptions(precision=4)   # sci_mode omitted: back to automatic
    assert repr(lightgrad.tensor([1.5])) == "tensor([1.5000])"
    assert _tensor_str.get_printoptions() == {
        "precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def test_printoptions_context_manager(torch):
    x = lightgrad.tensor([1.12345, 2.])
    with _tensor_str.printoptions(precision=2, sci_mode=True):
        with torch._tensor_str.printoptions(precision=2, sci_mode=True):
            same(torch.tensor([1.12345, 2.]), x)
            assert repr(x) == "tensor([1.12e+00, 2.00e+00])"
    assert repr(x) == "tensor([1.1235, 2.0000])"
    assert _tensor_str.get_printoptions()["precision"] == 4
    assert lightgrad._tensor_str.printoptions is _tensor_str.printoptions


def test_spec_examples():
    T = lightgrad.tensor
    assert repr(T(1.)) == "tensor(1.)"
    assert repr(T(1)) == "tensor(1)"
    assert repr(T(-0.)) == "tensor(-0.)"
    assert repr(T([])) == "tensor([])"
    assert repr(lightgrad.zeros(0, 3)) == "tensor([], size=(0, 3))"
    assert repr(T([1, 2]).float().new_zeros(0, dtype=lightgrad.int64)) == \
        "tensor([], dtype=lightgrad.int64)"
    assert repr(T([-1, 20, 300])) == "tensor([ -1,  20, 300])"
    assert repr(T([True, False])) == "tensor([ True, False])"
    assert repr(T([math.nan, math.inf, -math.inf, 1.5])) == \
        "tensor([   nan,    inf,   -inf, 1.5000])"
    assert repr(T([1., 1000.])) == "tensor([   1., 1000.])"
    assert repr(lightgrad.arange(10000)) == "tensor([   0,    1,    2,  ..., 9997, 9998, 9999])"
    assert repr(T([1.], dtype=lightgrad.float64)) == "tensor([1.], dtype=lightgrad.float64)"
    assert repr(T([1 + 2j])) == "tensor([1.+2.j])"


def test_dtype_suffix_follows_default_dtype(torch):
    lightgrad.set_default_dtype(lightgrad.float64)
    torch.set_default_dtype(torch.float64)
    for name in ["float32", "float64", "complex64", "complex128", "int64"]:
        same(*both(torch, [1.5, 2], name))
    same(torch.zeros(0), lightgrad.zeros(0))
    same(torch.zeros(0, dtype=torch.float32), lightgrad.zeros(0, dtype=lightgrad.float32))


def test_autograd_suffixes(torch):
    for shape in [(), (3,), (2, 2), (14,), (30,), (100, 2)]:
        a = np.arange(float(np.prod(shape))).reshape(shape) / 3
        t, x = both(torch, a, "float32", requires_grad=True)
        same(t, x)
        same(t * 2, x * 2)
        same((t * 2).sum(), (x * 2).sum())
        t, x = both(torch, a, "float64", requires_grad=True)
        same(t, x)
        same(t + 1, x + 1)


@pytest.mark.parametrize("n", range(1, 16))
def test_suffix_wraps_at_linewidth(torch, n):
    # lengths around the 80-column boundary, with one and two suffixes
    a = np.arange(n, dtype=np.float64) + 0.5
    same(*both(torch, a, "float64", requires_grad=True))
    same(*both(torch, a, "float16"))
    t, x = both(torch, a, "float64", requires_grad=True)
    same(t * 3, x * 3)
    same(*both(torch, np.arange(n * 2 + 10) * 10 ** (n % 5), "int32"))


def test_subclass_prefix_and_plain_hook():
    class MyTensor(lightgrad.Tensor):
        pass

    class Plain(lightgrad.Tensor):
        _print_plain = True

    base = lightgrad.tensor([1., 2.])
    for cls, prefix in [(MyTensor, "MyTensor("), (Plain, "tensor(")]:
        x = cls.__new__(cls, _skip_init=True)
        x._data, x._rg, x.grad_fn, x._vc = base._data, True, None, [0]
        x._grad = x._base = x._acc = x._x = None
        x._out_nr = 0
        assert repr(x) == prefix + "[1., 2.], requires_grad=True)"


def test_tensor_contents_argument():
    x = lightgrad.tensor([1., 2.], dtype=lightgrad.float64)
    assert x.__repr__(tensor_contents="[...]") == "tensor([...], dtype=lightgrad.float64)"


def test_format_of_0d_tensor():
    assert f"{lightgrad.tensor(1.23456):.2f}" == "1.23"


# -- random data against torch -----------------------------------------------------------
_magnitudes = st.sampled_from([1e-8, 1e-4, 1e-2, 1., 3., 1e3, 1e5, 1e9])


@st.composite
def float_arrays(draw):
    shape = tuple(draw(st.lists(st.integers(0, 5), min_size=0, max_size=4)))
    n = int(np.prod(shape))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    scale = draw(_magnitudes)
    kind = draw(st.sampled_from(["normal", "ints", "mixed", "specials"]))
    a = rng.normal(size=n) * scale
    if kind == "ints":
        a = np.round(a)
    elif kind == "mixed":
        a = np.where(rng.random(n) < 0.5, np.round(a), a * 1e-3)
    elif kind == "specials":
        a = np.where(rng.random(n) < 0.3, rng.choice([np.nan, np.inf, -np.inf, 0., -0.], n), a)
    return a.reshape(shape)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(a=float_arrays(), dtype=st.sampled_from(["float16", "float32", "float64", "complex64"]),
       opts=st.fixed_dictionaries({}, optional={
           "precision": st.integers(0, 6), "threshold": st.sampled_from([4, 10, 50]),
           "edgeitems": st.integers(0, 3), "linewidth": st.integers(10, 120),
           "sci_mode": st.sampled_from([True, False])}))
def test_random_floats_against_torch(a, dtype, opts):
    torch = require("torch")
    set_both(torch, **opts)
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            if dtype == "complex64":
                a = a + 1j * np.roll(a, 1)
            same(*both(torch, a, dtype))
    finally:
        set_both(torch, profile="default")


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(shape=st.lists(st.integers(0, 6), min_size=0, max_size=4),
       dtype=st.sampled_from(["int8", "int16", "int32", "int64", "uint8", "bool"]),
       seed=st.integers(0, 2 ** 32 - 1), threshold=st.sampled_from([1000, 7]))
def test_random_ints_against_torch(shape, dtype, seed, threshold):
    torch = require("torch")
    set_both(torch, threshold=threshold)
    try:
        rng = np.random.default_rng(seed)
        info = np.iinfo(dtype) if dtype != "bool" else np.iinfo(np.uint8)
        a = rng.integers(info.min, int(info.max) + 1, size=shape)
        a = a // (10 ** rng.integers(0, 4))
        same(*both(torch, a.astype(dtype), dtype))
    finally:
        set_both(torch, profile="default")
