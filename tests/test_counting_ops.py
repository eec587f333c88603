"""bincount, histc, histogram, searchsorted, bucketize, cartesian_prod, combinations and
tril/triu_indices against torch, where the op samples cannot say it: errors (class and
message), dtypes, out_int32 / right / side / sorter, density, bins as a tensor, the return
type, what requiring grad gives, and vmap."""
import re

import numpy as np
import pytest

import lightgrad
from lightgrad.func import vmap

from .conftest import require


@pytest.fixture(scope="module")
def torch():
    return require("torch")


def _same(a, b):
    """A lightgrad result equals torch's: shape, dtype and values (NaN as NaN)."""
    assert tuple(a.shape) == tuple(b.shape)
    assert a.dtype.name == str(b.dtype).replace("torch.", "")
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def _both(torch, fn):
    """fn(module) in lightgrad and torch, compared; or the same exception class and message."""
    try:
        want = fn(torch)
    except Exception as e:      # noqa: BLE001 (any of torch's errors is the reference)
        with pytest.raises(type(e)) as got:
            fn(lightgrad)
        # lightgrad cannot tell a positional argument from a keyword one, so its type errors
        # leave out torch's "(position N)"; its invalid-combination errors list no signatures
        ours, ref = (re.sub(r" \(position \d+\)", "", str(x)) for x in (got.value, e))
        assert ours == ref or ref.startswith(ours.rstrip(". ")), (ours, ref)
        return None
    got = fn(lightgrad)
    for a, b in zip(got if isinstance(got, tuple) else (got,),
                    want if isinstance(want, tuple) else (want,)):
        _same(a, b)
    return got


IDX = [1, 2, 2, 5, 0]


# -- bincount ---------------------------------------------------------------------------------
@pytest.mark.parametrize("expr", [
    "m.bincount(m.tensor(IDX))", "m.bincount(m.tensor(IDX), minlength=9)",
    "m.bincount(m.tensor(IDX, dtype=m.uint8))", "m.bincount(m.tensor(IDX, dtype=m.int32), None, 2)",
    "m.tensor(IDX).bincount()",
    "m.bincount(m.tensor(IDX), m.tensor([.5, 1., 2., 3., 4.]))",
    "m.bincount(m.tensor(IDX), m.tensor([.5, 1., 2., 3., 4.], dtype=m.float64))",
    "m.bincount(m.tensor(IDX), m.tensor([1, 2, 3, 4, 5]))",
    "m.bincount(m.tensor(IDX), m.tensor([1., 2, 3, 4, 5], dtype=m.float16))",
    "m.bincount(m.tensor(IDX), m.tensor([True, False, True, True, False]))",
    "m.bincount(m.tensor([], dtype=m.int64))",
    "m.bincount(m.tensor([], dtype=m.int64), m.tensor([]), minlength=3)",
    # errors
    "m.bincount(m.tensor(IDX), minlength=-1)", "m.bincount(m.tensor([-1, 2]))",
    "m.bincount(m.tensor(3))", "m.bincount(m.tensor([[1, 2]]))",
    "m.bincount(m.tensor([1., 2.]))", "m.bincount(m.tensor([True]))",
    "m.bincount(m.tensor(IDX), m.tensor([1., 2.]))", "m.bincount(m.tensor(IDX), minlength=2.0)",
    "m.bincount(m.tensor(IDX), minlength=True)", "m.bincount([1, 2])",
    "m.bincount(m.tensor(IDX), [1, 2, 3, 4, 5])",
])
def test_bincount(torch, expr):
    _both(torch, lambda m: eval(expr, {"m": m, "IDX": IDX}))


def test_bincount_of_weights_that_require_grad_has_no_derivative(torch):
    for m in (torch, lightgrad):
        w = m.tensor([1., 2., 3., 4., 5.], requires_grad=True)
        r = m.bincount(m.tensor(IDX), w)
        assert r.requires_grad and r.grad_fn.name() == "torch::autograd::NotImplemented"
        assert len(r.grad_fn.next_functions) == 1
        with pytest.raises(RuntimeError, match="derivative for aten::bincount is not "
                                               "implemented"):
            r.sum().backward()
        with m.no_grad():
            assert not m.bincount(m.tensor(IDX), w).requires_grad
        # an empty input gives int64 zeros, outside the graph
        assert not m.bincount(m.tensor([], dtype=m.int64), m.tensor([], requires_grad=True),
                              minlength=2).requires_grad


def test_bincount_of_complex_weights_warns_and_drops_the_imaginary_part():
    with pytest.warns(UserWarning, match="discards the imaginary part"):
        r = lightgrad.bincount(lightgrad.tensor([1]), lightgrad.tensor([1 + 2j]))
    assert r.dtype is lightgrad.float64 and r.tolist() == [0.0, 1.0]


# -- histc ------------------------------------------------------------------------------------
X = [1., 2., 1., 2.5, 4.]


@pytest.mark.parametrize("expr", [
    "m.histc(m.tensor(X), bins=4)", "m.histc(m.tensor(X), 4, 0, 3)",
    "m.histc(m.tensor(X), 4, 1, 1)",
    "m.tensor(X).histc(3)", "m.histc(m.tensor(X, dtype=m.float64), 5, min=0.5, max=3)",
    "m.histc(m.tensor(X, dtype=m.float16), 6)", "m.histc(m.tensor([2., 2.]), 4)",
    "m.histc(m.tensor([]), 4)", "m.histc(m.tensor([]), 4, 2, 2)", "m.histc(m.tensor(3.), 4)",
    "m.histc(m.tensor([[1., 2.], [3., 4.]]), 4)",
    "m.histc(m.tensor([1., 2., float('inf'), float('nan'), -3.]), 4, 0, 3)",
    "m.histc(m.tensor([0.1, 0.2, 0.3, 0.7, 0.9, 1.0]), 10, 0, 1)",    # bins by interpolation
    "m.histc(m.tensor([1.]), 4, 0, 1e-50)", "m.histc(m.tensor([0.]), 4, min=m.tensor(0.), max=2)",
    "m.histc(m.tensor([1., 2.]), 3, out=m.empty(0))",
    # errors
    "m.histc(m.tensor(X), 4, 3, 0)", "m.histc(m.tensor(X), 0)", "m.histc(m.tensor(X), -2)",
    "m.histc(m.tensor([1., float('inf')]), 4)", "m.histc(m.tensor(X), 4, float('nan'), 3)",
    "m.histc(m.tensor(X), 4, 0, float('inf'))", "m.histc(m.tensor([1, 2, 3]), 4)",
    "m.histc(m.tensor([1, 2]), 4, 1, 0)", "m.histc(m.tensor([1., 2.], dtype=m.complex64), 4)",
    "m.histc(m.tensor([1., 2.], dtype=m.complex64), 4, 0, 1)", "m.histc(m.tensor([True]), 4)",
    "m.histc(m.tensor(X), 3.0)", "m.histc(m.tensor(X), 3, min='a')",
    "m.histc(m.tensor(X), 3, min=1 + 1j)", "m.histc([1., 2.])",
    "m.histc(m.tensor([1., 2.]), 3, out=m.empty(0, dtype=m.float64))",
])
def test_histc(torch, expr):
    _both(torch, lambda m: eval(expr, {"m": m, "X": X}))


def test_histc_takes_no_gradient(torch):
    for m in (torch, lightgrad):
        r = m.histc(m.tensor(X, requires_grad=True), 3)
        assert not r.requires_grad and r.grad_fn is None


# -- histogram --------------------------------------------------------------------------------
W = [1., 2., 3., 4., 5.]


@pytest.mark.parametrize("expr", [
    "m.histogram(m.tensor(X), 4)", "m.histogram(m.tensor(X))", "m.tensor(X).histogram(3)",
    "m.histogram(m.tensor(X), bins=4, range=(0., 3.))", "m.histogram(m.tensor(X), 4, range=[0, 3])",
    "m.histogram(m.tensor(X), 4, range=(1, 1))", "m.histogram(m.tensor(X), 4, density=True)",
    "m.histogram(m.tensor(X), 4, weight=m.tensor(W))",
    "m.histogram(m.tensor(X), 4, weight=m.tensor(W), density=True)",
    "m.histogram(m.tensor(X, dtype=m.float64), 3, weight=m.tensor(W, dtype=m.float64))",
    "m.histogram(m.tensor(X), m.tensor([0., 1, 3, 5]))",
    "m.histogram(m.tensor(X), m.tensor([0., 1, 3, 5]), density=True)",
    "m.histogram(m.tensor(X), m.tensor([3., 1, 0, 5]))",    # unsorted edges: torch's search
    "m.histogram(m.tensor(X), bins=m.tensor([0., 2.5]), weight=m.tensor(W))",
    "m.histogram(m.tensor(X, dtype=m.float16), m.tensor([0., 1, 2], dtype=m.float16))",
    "m.histogram(m.tensor([]), 4)", "m.histogram(m.tensor([]), 4, density=True)",
    "m.histogram(m.tensor(2.), 4)", "m.histogram(m.tensor(1.), 2, weight=m.tensor(1.))",
    "m.histogram(m.tensor([[1., 2.], [3., 4.]]), 4, weight=m.tensor([1., 2, 3, 4]))",
    "m.histogram(m.tensor([1., float('nan'), float('inf')]), 4, range=(0, 2))",
    "m.histogram(m.tensor([0.1, 0.2, 0.3, 0.7, 0.9]), 10, range=(0., 1.))",
    "m.histogram(m.tensor([1., 2.]), 3, out=(m.empty(0), m.empty(0)))",
    # errors
    "m.histogram(m.tensor(X), 4, range=(3, 0))", "m.histogram(m.tensor(X), 4, range=(0,))",
    "m.histogram(m.tensor(X), 4, range=(0, float('inf')))", "m.histogram(m.tensor(X), 0)",
    "m.histogram(m.tensor([1., float('nan')]), 4)",
    "m.histogram(m.tensor(X), 4, weight=m.tensor([1., 2, 3, 4]))",
    "m.histogram(m.tensor(X), 4, weight=m.tensor([1, 2, 3, 4, 5]))",
    "m.histogram(m.tensor(X), 4, weight=m.tensor(W, dtype=m.float64))",
    "m.histogram(m.tensor(X), m.tensor([0., 1], dtype=m.float64))",
    "m.histogram(m.tensor(X), m.tensor([0, 1]))", "m.histogram(m.tensor(X), m.tensor([0.]))",
    "m.histogram(m.tensor(X), m.tensor([]))", "m.histogram(m.tensor(X), m.tensor([[0., 1]]))",
    "m.histogram(m.tensor(X), m.tensor(1.))", "m.histogram(m.tensor([1, 2]), 4)",
    "m.histogram(m.tensor([1, 2]), 4, range=(0, 1))",
    "m.histogram(m.tensor([1., 2], dtype=m.float16), 4)",
    "m.histogram(m.tensor(X), 4.0)", "m.histogram(m.tensor(X), [0., 1.])",
    "m.histogram(m.tensor(X), m.tensor([0., 1.]), range=(0, 1))",
    "m.histogram(m.tensor([1., 2.]), 3, out=(m.empty(0), m.empty(0, dtype=m.float64)))",
])
def test_histogram(torch, expr):
    _both(torch, lambda m: eval(expr, {"m": m, "X": X, "W": W}))


def test_histogram_returns_its_named_fields():
    r = lightgrad.histogram(lightgrad.tensor(X), 3)
    assert type(r).__name__ == "histogram" and r._fields == ("hist", "bin_edges")
    hist, edges = r
    assert hist is r.hist and edges is r.bin_edges and r[0] is hist
    assert repr(r).startswith("torch.return_types.histogram(\nhist=tensor(")


def test_histogram_requiring_grad_records_not_implemented(torch):
    for m in (torch, lightgrad):
        x, b = m.tensor([1., 2.], requires_grad=True), m.tensor([0., 1, 2], requires_grad=True)
        w = m.tensor([1., 2.], requires_grad=True)
        r = m.histogram(x, b, weight=w)
        node = r.hist.grad_fn
        assert node.name() == "torch::autograd::NotImplemented"
        assert r.bin_edges.grad_fn is node and r.bin_edges.output_nr == 1
        assert len(node.next_functions) == 3
        assert len(m.histogram(x.detach(), 3, weight=w).hist.grad_fn.next_functions) == 1
        with pytest.raises(RuntimeError, match="derivative for aten::histogram is not "
                                               "implemented"):
            r.hist.sum().backward()
        assert not m.histogram(x.detach(), b.detach()).bin_edges.requires_grad


# -- searchsorted / bucketize -----------------------------------------------------------------
SEQ = [1., 3., 5., 7., 9.]
V = [[3., 6., 9.], [3., 6., 9.]]


@pytest.mark.parametrize("expr", [
    "m.searchsorted(m.tensor(SEQ), m.tensor(V))",
    "m.searchsorted(m.tensor(SEQ), m.tensor(V), right=True)",
    "m.searchsorted(m.tensor(SEQ), m.tensor(V), side='right')",
    "m.searchsorted(m.tensor(SEQ), m.tensor(V), side='left')",
    "m.searchsorted(m.tensor(SEQ), m.tensor(V), side='right', right=False)",
    "m.searchsorted(m.tensor(SEQ), m.tensor(V), out_int32=True)",
    "m.searchsorted(m.tensor(SEQ), 6)", "m.searchsorted(m.tensor(SEQ), 6.5, out_int32=True)",
    "m.searchsorted(m.tensor(SEQ), m.tensor(6.))", "m.searchsorted(m.tensor(SEQ), True)",
    "m.searchsorted(m.tensor([[1., 3, 5], [2, 4, 6]]), m.tensor([[3., 4], [3, 4]]))",
    "m.searchsorted(m.tensor(SEQ), m.tensor([3, 4]))",
    "m.searchsorted(m.tensor([1, 3, 5]), m.tensor([3., 4]))",
    "m.searchsorted(m.tensor([1, 3, 5]), 3.5)",
    "m.searchsorted(m.tensor([1, 2], dtype=m.uint8), -1)",    # a wrapped scalar: 255
    "m.searchsorted(m.tensor([1, 2], dtype=m.uint8), m.tensor([3], dtype=m.int8))",
    "m.searchsorted(m.tensor([True, False]), m.tensor([1.]))",
    "m.searchsorted(m.tensor([1., 2], dtype=m.float16), m.tensor([1.5], dtype=m.float16))",
    "m.searchsorted(m.tensor(SEQ), m.tensor([]))", "m.searchsorted(m.tensor([]), m.tensor([1.]))",
    "m.searchsorted(m.zeros(2, 0), m.tensor([[1., 2], [1, 1]]))",
    "m.searchsorted(m.zeros(0, 3), m.zeros(0, 2))",
    "m.searchsorted(m.tensor(SEQ), m.tensor([float('nan'), float('inf'), -float('inf')]))",
    "m.searchsorted(m.tensor([1., float('nan')]), m.tensor([float('nan'), 2.]))",
    "m.searchsorted(m.tensor([3., 1, 2]), m.tensor([2.]), sorter=m.tensor([1, 2, 0]))",
    "m.searchsorted(m.tensor([3., 1, 2]), m.tensor([2.]), sorter=m.tensor([1, 2, 0]), "
    "right=True)",
    "m.searchsorted(m.tensor([[3., 1, 2], [0, 5, 4]]), m.tensor([[2.5], [4.]]), "
    "sorter=m.tensor([[1, 2, 0], [0, 2, 1]]), side='right')",
    "m.searchsorted(m.tensor(SEQ), m.tensor([2.]), out=m.empty(3, dtype=m.int64))",
    # errors
    "m.searchsorted(m.tensor(SEQ), m.tensor(V), side='left', right=True)",
    "m.searchsorted(m.tensor(SEQ), m.tensor(V), side='middle')",
    "m.searchsorted(m.tensor([[1., 3, 5], [2, 4, 6]]), m.tensor([[3., 4]]))",
    "m.searchsorted(m.tensor([[1., 3, 5], [2, 4, 6]]), m.tensor([3., 4]))",
    "m.searchsorted(m.tensor([[1., 3, 5], [2, 4, 6]]), 3)",
    "m.searchsorted(m.tensor(1.), m.tensor([3., 4]))", "m.searchsorted(m.tensor(1.), m.tensor(1.))",
    "m.searchsorted(m.tensor([True, False]), m.tensor([True]))",
    "m.searchsorted(m.tensor([1. + 0j, 2]), m.tensor([3. + 1j]))",
    "m.searchsorted(m.tensor([3., 1, 2]), m.tensor([2.]), sorter=m.tensor([1, 2, 0], "
    "dtype=m.int32))",
    "m.searchsorted(m.tensor([3., 1, 2]), m.tensor([2.]), sorter=m.tensor([1., 2, 0]))",
    "m.searchsorted(m.tensor([3., 1, 2]), m.tensor([2.]), sorter=m.tensor([1, 2]))",
    "m.searchsorted(m.tensor([3., 1, 2]), m.tensor([2.]), sorter=m.tensor([1, 2, 5]))",
    "m.searchsorted(m.tensor([3., 1, 2]), m.tensor([]), sorter=m.tensor([1, 2, -1]))",
    "m.searchsorted(m.tensor(SEQ), m.tensor([1.]), out_int32=True, "
    "out=m.empty(1, dtype=m.int64))",
    "m.searchsorted(m.tensor(SEQ), m.tensor([1.]), out=m.empty(1))",
    "m.searchsorted([1., 2.], m.tensor([1.]))", "m.searchsorted(m.tensor(SEQ), [1.])",
])
def test_searchsorted(torch, expr):
    _both(torch, lambda m: eval(expr, {"m": m, "SEQ": SEQ, "V": V}))


@pytest.mark.parametrize("expr", [
    "m.bucketize(m.tensor([3., 6, 9]), m.tensor(SEQ))",
    "m.bucketize(m.tensor([3., 6, 9]), m.tensor(SEQ), right=True)",
    "m.bucketize(m.tensor([[3., 6], [9, 0]]), m.tensor(SEQ), out_int32=True)",
    "m.bucketize(3, m.tensor(SEQ))", "m.bucketize(3.5, m.tensor(SEQ))",
    "m.bucketize(m.tensor(3.), m.tensor(SEQ))", "m.bucketize(m.tensor([3, 6]), m.tensor(SEQ))",
    "m.bucketize(m.tensor([3., 6]), m.tensor([]))",
    "m.bucketize(m.tensor([1.]), m.tensor(SEQ), out=m.empty(1, dtype=m.int64))",
    # errors
    "m.bucketize(m.tensor([3., 6]), m.tensor([[1., 3], [5, 7]]))",
    "m.bucketize(m.tensor([3., 6]), m.tensor(1.))",
    "m.bucketize(m.tensor([3. + 1j]), m.tensor([1., 5]))",
    "m.bucketize(m.tensor([1.]), m.tensor(SEQ), out=m.empty(1, dtype=m.int32))",
    "m.bucketize(m.tensor([1.]), [1., 2.])",
])
def test_bucketize(torch, expr):
    _both(torch, lambda m: eval(expr, {"m": m, "SEQ": SEQ}))


def test_search_ops_take_no_gradient_and_are_functions_only(torch):
    for m in (torch, lightgrad):
        s, v = m.tensor(SEQ, requires_grad=True), m.tensor([3., 4.], requires_grad=True)
        assert not m.searchsorted(s, v).requires_grad
        assert not m.bucketize(v, s).requires_grad
        for name in ("searchsorted", "bucketize", "cartesian_prod", "combinations",
                     "tril_indices", "triu_indices"):
            assert not hasattr(m.Tensor, name), name
        for name in ("bincount", "histc", "histogram"):
            assert hasattr(m.Tensor, name), name


# -- cartesian_prod / combinations -----------------------------------------------------------
@pytest.mark.parametrize("expr", [
    "m.cartesian_prod(m.tensor([1, 2]), m.tensor([3, 4, 5]))",
    "m.cartesian_prod(m.tensor([True, False]), m.tensor([False]))",
    "m.cartesian_prod(m.tensor([1., 2]), m.tensor([0.]), m.tensor([3., 4]))",
    "m.cartesian_prod(m.tensor([1., 2]))", "m.cartesian_prod(m.tensor([]), m.tensor([1., 2]))",
    "m.combinations(m.tensor([1, 2, 3, 4]))", "m.combinations(m.tensor([1, 2, 3, 4]), 3)",
    "m.combinations(m.tensor([1, 2, 3]), 2, True)", "m.combinations(m.tensor([1., 2]), 1)",
    "m.combinations(m.tensor([1., 2]), 0)", "m.combinations(m.tensor([1., 2]), 3)",
    "m.combinations(m.tensor([1., 2]), 3, with_replacement=True)",
    "m.combinations(m.tensor([], dtype=m.int64))", "m.combinations(m.tensor([True, False]))",
    # errors
    "m.cartesian_prod(m.tensor(1.))", "m.cartesian_prod(m.ones(2, 2))",
    "m.cartesian_prod(m.tensor([1, 2]), m.tensor([1., 2.]))", "m.cartesian_prod()",
    "m.cartesian_prod(m.tensor([1., 2]), [1., 2.])",
    "m.combinations(m.tensor(1.))", "m.combinations(m.ones(2, 2))",
    "m.combinations(m.arange(3), -1)", "m.combinations(m.arange(3), 2.0)",
    "m.combinations(m.arange(3), True)", "m.combinations(m.arange(3), 2, 1)",
])
def test_cartesian_prod_and_combinations(torch, expr):
    _both(torch, lambda m: eval(expr, {"m": m}))


def test_their_gradients_end_in_stack_as_in_torch(torch):
    for m in (torch, lightgrad):
        a = m.tensor([1., 2., 3.], requires_grad=True)
        b = m.tensor([4., 5.], requires_grad=True)
        out = m.cartesian_prod(a, b)
        assert type(out.grad_fn).__name__ == "StackBackward0"
        assert len(out.grad_fn.next_functions) == 2
        assert m.cartesian_prod(a) is a
        c = m.combinations(a, 2, with_replacement=True)
        assert type(c.grad_fn).__name__ == "StackBackward0"
        (c[:, 0] * c[:, 1]).sum().backward()
        e = m.combinations(m.tensor([], requires_grad=True))
        assert tuple(e.shape) == (0, 2) and type(e.grad_fn).__name__ == "StackBackward0"
        z = m.combinations(a, 0)
        assert tuple(z.shape) == (0,) and not z.requires_grad
    # the gradient of sum_{i <= j} a_i a_j: a_i + sum_j a_j
    np.testing.assert_allclose(a.grad.numpy(), [7., 8., 9.])


# -- tril_indices / triu_indices ------------------------------------------------------------
@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("call", [
    "(3, 3)", "(3, 4, 1)", "(3, 4, -1)", "(3, 4, -5)", "(3, 4, 10)", "(0, 4)", "(3, 0)",
    "(1, 1)", "(5, 2, 2)", "(3, 3, dtype=m.int32)", "(row=3, col=3, offset=1)",
    "(3, 3, device='cpu')",
    # errors
    "(-1, 4)", "(3, -4)", "(-1, 3, dtype=m.float32)", "(3, 3, dtype=m.int16)",
    "(3, 3, dtype=m.float32)", "(3, 3, dtype=m.uint8)", "(3, 3, dtype=m.bool)",
    "(3, 3, dtype=m.float16)", "(3, 3, dtype=m.complex64)", "(3, 3, requires_grad=True)",
    "(3.0, 3)", "(3, 3, 1.0)", "(True, 3)",
])
def test_tri_indices(torch, name, call):
    _both(torch, lambda m: eval(f"m.{name}{call}", {"m": m}))


# -- vmap ------------------------------------------------------------------------------------
RNG = np.random.default_rng(0)
A = RNG.uniform(-2, 2, (4, 6))


@pytest.mark.parametrize("fn", [
    lambda m, x: m.histc(x, 5),                     # each example's own range
    lambda m, x: m.histogram(x, 3, density=True).hist,
    lambda m, x: m.histogram(x, 3).bin_edges,
    lambda m, x: m.bucketize(x, m.tensor([-1., 0., 1.], dtype=m.float64)),
    lambda m, x: m.searchsorted(m.tensor([-1., 0., 1.], dtype=m.float64), x, right=True),
    lambda m, x: m.searchsorted(x.sort().values, m.tensor([0.5, -0.5], dtype=m.float64)),
    lambda m, x: m.bincount(m.tensor([0, 2, 2, 1, 0, 3]), x),
    lambda m, x: m.cartesian_prod(x[:2], x[2:4]),
    lambda m, x: m.combinations(x[:4], 3),
])
def test_vmap_matches_torch(torch, fn):
    ours = vmap(lambda x: fn(lightgrad, x))(lightgrad.tensor(A))
    ref = torch.func.vmap(lambda x: fn(torch, x))(torch.tensor(A))
    _same(ours, ref)


def test_vmap_of_bincount_with_example_lengths_that_differ_fails_as_torch(torch):
    x = np.array([[1, 2], [0, 0]])
    for m in (torch, lightgrad):
        f = m.func.vmap if m is torch else vmap
        with pytest.raises(RuntimeError, match=re.escape(
                "stack expects each tensor to be equal size, but got [3] at entry 0 and [1] "
                "at entry 1")):
            f(lambda r, m=m: m.bincount(r))(m.tensor(x))
