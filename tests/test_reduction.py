"""Reductions, scans and sorting: ties, zeros, NaNs, dispatch, errors and return types.
Expected values were observed on torch 2.13; the `torch` fixture cross-checks some cases."""
import pickle
import warnings

import numpy as np
import pytest

import lightgrad as lg
from lightgrad import return_types


def _grad(f, values, dtype=None):
    x = lg.tensor(values, requires_grad=True) if dtype is None else \
        lg.tensor(values, dtype=dtype, requires_grad=True)
    y = f(x)
    if isinstance(y, tuple):
        y = y[0]
    y.sum().backward()
    return x.grad.tolist() if x.grad is not None else None


# -- gradients at ties, zeros and NaNs ------------------------------------------------
@pytest.mark.parametrize("f, values, expected", [
    (lambda x: x.max(), [1., 3., 3., 2.], [0., .5, .5, 0.]),
    (lambda x: x.min(), [2., 1., 3., 1.], [0., .5, 0., .5]),
    (lambda x: x.amax(), [1., 3., 3., 2.], [0., .5, .5, 0.]),
    (lambda x: x.amax(1), [[1., 3., 3.], [2., 2., 2.]], [[0., .5, .5], [1 / 3] * 3]),
    (lambda x: x.median(), [3., 3., 1., 3.], [1 / 3, 1 / 3, 0., 1 / 3]),
    (lambda x: x.median(), [1., 3., 1., 2.], [.5, 0., .5, 0.]),
    (lambda x: x.norm(p=float("inf")), [3., -3., 1.], [.5, -.5, 0.]),
    (lambda x: x.norm(), [0., 0.], [0., 0.]),
    (lambda x: x.norm(p=3), [0., 0.], [0., 0.]),
    (lambda x: x.norm(p=1), [0., 1.], [0., 1.]),
    (lambda x: x.std(), [1., 1.], [0., 0.]),
    (lambda x: lg.dist(x, lg.zeros(2)), [0., 0.], [0., 0.]),
    (lambda x: x.prod(), [0., 2., 3.], [6., 0., 0.]),
    (lambda x: x.prod(), [0., 2., 0.], [0., 0., 0.]),
    (lambda x: x.prod(1), [[0., 2.], [3., 4.]], [[2., 0.], [4., 3.]]),
    (lambda x: x.cumprod(0), [2., 0., 3., 0., 4.], [1., 8., 0., 0., 0.]),
    (lambda x: x.cummax(0), [1., 3., 3., 2.], [1., 1., 2., 0.]),
    (lambda x: x.cummin(0), [3., 1., 1., 3.], [1., 1., 2., 0.]),
    (lambda x: x.max(0), [1., 3., 3., 1.], [0., 1., 0., 0.]),
    (lambda x: x.nansum(), [1., float("nan"), 2.], [1., 0., 1.]),
])
def test_gradient_rules(f, values, expected):
    np.testing.assert_allclose(_grad(f, values), expected, rtol=1e-6, atol=1e-7)


def test_norm_p0_has_no_gradient():
    assert _grad(lambda x: x.norm(p=0), [0., 2.]) is None


def test_logcumsumexp_gradient():
    np.testing.assert_allclose(_grad(lambda x: x.logcumsumexp(0), [1., 2., 3.]),
                               [1.3590, 0.9758, 0.6652], atol=1e-4)


def test_double_backward_through_prod_with_zero():
    x = lg.tensor([0., 2., 3.], dtype=lg.float64, requires_grad=True)
    (g,) = lg.autograd.grad(x.prod(), x, create_graph=True)
    (h,) = lg.autograd.grad(g.sum(), x)
    # d/dx of (x1*x2, x0*x2, x0*x1) summed: (x1+x2, x0+x2, x0+x1)
    np.testing.assert_allclose(h.numpy(), [5., 3., 2.])


def test_double_backward_through_sort_indices():
    x = lg.tensor([3., 1., 2.], dtype=lg.float64, requires_grad=True)
    v = x.sort().values
    w = lg.tensor([1., 2., 3.], dtype=lg.float64)
    (g,) = lg.autograd.grad((v * v * w).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [2 * 3. * 3, 2 * 1. * 1, 2 * 2. * 2])
    (h,) = lg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [6., 2., 4.])


# -- forward values and dispatch -------------------------------------------------------
def test_max_forms():
    x = lg.tensor([[1., 3., 3.], [2., 0., 2.]], requires_grad=True)
    assert type(x.max().grad_fn).__name__ == "MaxBackward1"
    r = x.max(1)
    assert isinstance(r, return_types.max) and isinstance(r, tuple)
    assert r.values.tolist() == [3., 2.] and r.indices.tolist() == [1, 0]
    assert type(r.values.grad_fn).__name__ == "MaxBackward0"
    assert not r.indices.requires_grad and r.indices.dtype == lg.int64
    values, indices = lg.max(x, dim=1, keepdim=True)
    assert values.shape == (2, 1) and indices.tolist() == [[1], [0]]
    assert x.min(1, True).indices.tolist() == [[0], [1]]


def test_max_with_other_uses_maximum():
    if not hasattr(lg, "maximum"):
        pytest.skip("maximum is not available yet")
    x = lg.tensor([1., 3., 4.])
    assert lg.max(x, lg.tensor(3.)).tolist() == [3., 3., 4.]
    assert x.min(lg.tensor([2., 2., 2.])).tolist() == [1., 2., 2.]


def test_return_type_printing_and_tuple_behaviour():
    x = lg.tensor([[1., 3.], [5., 2.]], requires_grad=True)
    r = x.max(1)
    assert repr(r) == ("torch.return_types.max(\nvalues=tensor([3., 5.], "
                       "grad_fn=<MaxBackward0>),\nindices=tensor([1, 0]))")
    assert str(r) == repr(r)
    assert len(r) == 2 and r[1] is r.indices and r[-2] is r.values
    assert type(r[:1]) is tuple
    assert return_types.max((1, 2)) == (1, 2)
    assert pickle.loads(pickle.dumps(return_types.sort((1, 2)))).indices == 2
    with pytest.raises(TypeError, match=r"takes a 2-sequence \(1-sequence given\)"):
        return_types.max((1,))
    assert repr(return_types.aminmax((0, 1))) == "torch.return_types.aminmax(\nmin=0,\nmax=1)"


def test_nan_propagation():
    nan = float("nan")
    x = lg.tensor([1., 3., nan, 3., 1.])
    assert np.isnan(x.max().item()) and x.argmax().item() == 2
    assert x.max(0).indices.item() == 2
    assert x.sort().indices.tolist() == [0, 4, 1, 3, 2]
    assert x.sort(descending=True).indices.tolist() == [2, 1, 3, 0, 4]
    assert x.cummax(0).indices.tolist() == [0, 1, 2, 2, 2]
    assert np.isnan(x.median().item()) and x.nanmedian().item() == 1.


def test_ties_and_order_statistics():
    x = lg.tensor([1., 3., 3., 1.])
    assert x.argmax().item() == 1 and x.argmin().item() == 0
    assert x.topk(2).indices.tolist() == [1, 2]
    assert x.sort(descending=True).indices.tolist() == [1, 2, 0, 3]
    assert x.cummax(0).indices.tolist() == [0, 1, 2, 2]
    assert lg.tensor([1., 2., 3., 4.]).median().item() == 2.   # the lower middle
    m = lg.tensor([3., 1., 3., 1., 2., 1., 3.]).mode()
    assert m.values.item() == 1. and m.indices.item() == 5
    assert lg.tensor([3., 1., 3., 1., 2.]).mode().indices.item() == 3


def test_sort_node_names_follow_the_overload():
    x = lg.tensor([2., 1.], requires_grad=True)
    assert type(x.sort().values.grad_fn).__name__ == "SortBackward0"
    assert type(x.sort(stable=False).values.grad_fn).__name__ == "SortBackward1"
    assert type(lg.sort(x, stable=True, dim=0).values.grad_fn).__name__ == "SortBackward1"


def test_var_std_arguments():
    x = lg.tensor([[1., 3., 3.], [2., 0., 2.]])
    np.testing.assert_allclose(x.std(0, False).numpy(), [0.5, 1.5, 0.5])
    np.testing.assert_allclose(x.std(False).item(), 1.0672, atol=1e-4)
    np.testing.assert_allclose(x.std(unbiased=False).item(), 1.0672, atol=1e-4)
    np.testing.assert_allclose(x.std(correction=0).item(), 1.0672, atol=1e-4)
    np.testing.assert_allclose(x.var(1, keepdim=True, correction=2).numpy(),
                               [[8 / 3], [8 / 3]], rtol=1e-6)
    v, m = lg.var_mean(x, 1)
    assert type(v.grad_fn) is type(None) and m.tolist() == pytest.approx([7 / 3, 4 / 3])
    with pytest.warns(UserWarning, match=r"std\(\): degrees of freedom is <= 0"):
        assert np.isnan(lg.tensor([1.]).std().item())


def test_var_mean_shares_one_node():
    x = lg.tensor([1., 2., 4.], requires_grad=True)
    v, m = lg.var_mean(x)
    assert v.grad_fn is m.grad_fn and type(v.grad_fn).__name__ == "VarMeanBackward0"
    assert type(lg.std_mean(x)).__name__ == "tuple"


def test_dtypes():
    i = lg.tensor([[1, 2], [3, 4]])
    assert i.sum().dtype == lg.int64 and i.prod().item() == 24
    assert i.cumsum(0).tolist() == [[1, 2], [4, 6]] and i.cumsum(0).dtype == lg.int64
    assert lg.tensor([True, False]).cumsum(0).tolist() == [1, 1]
    assert lg.tensor([True, True]).prod().dtype == lg.int64
    assert i.prod(dtype=lg.float32).dtype == lg.float32
    assert i.logsumexp(0).dtype == lg.float32
    assert i.max().dtype == lg.int64 and i.median().item() == 2
    assert i.count_nonzero(0).tolist() == [2, 2]
    assert i.any().dtype == lg.bool and i.all(0).tolist() == [True, True]
    x = lg.tensor([[1., 3.]])
    assert x.mean(dtype=lg.float64).dtype == lg.float64
    assert x.softmax(1, dtype=lg.float64).dtype == lg.float64
    assert x.sum([]).item() == 4. and x.amax([]).item() == 3.


def test_zero_dim_inputs():
    x = lg.tensor(3.)
    r = x.max(0)
    assert r.values.item() == 3. and r.indices.item() == 0
    assert x.sort().indices.item() == 0 and x.topk(1).values.item() == 3.
    assert x.cumsum(0).item() == 3. and x.softmax(0).item() == 1.


def test_norm_forms():
    x = lg.tensor([[1., 3., 3.], [2., 0., 2.]])
    np.testing.assert_allclose(x.norm(p=3, dim=1).numpy(), [3.8030, 2.5198], atol=1e-4)
    assert x.norm(1).item() == 11. and x.norm(p=0).item() == 5.
    np.testing.assert_allclose(x.norm(p="fro", dim=(0, 1)).item(), 5.1962, atol=1e-4)
    assert lg.tensor([3., -3., 1.]).norm(p=-float("inf")).item() == 1.
    assert lg.tensor([[3., -3., 1.]]).norm(dim=1, dtype=lg.float64).dtype == lg.float64


def test_out_argument():
    x = lg.tensor([[1., 5.], [4., 2.]])
    out = lg.empty(2)
    assert lg.sum(x, 1, out=out) is out and out.tolist() == [6., 6.]
    v, i = lg.empty(2), lg.empty(2, dtype=lg.int64)
    r = lg.max(x, 1, out=(v, i))
    assert r.values is v and i.tolist() == [1, 0]


def test_argmax_keepdim_without_dim():
    x = lg.tensor([[1., 5.], [4., 2.]])
    assert x.argmax(keepdim=True).tolist() == [[1]]
    assert x.argmax(1, keepdim=True).tolist() == [[1], [0]]


# -- errors ----------------------------------------------------------------------------
@pytest.mark.parametrize("f, exc, text", [
    (lambda: lg.zeros(0, 3).max(), RuntimeError,
     "max(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
     "reduction dim with the 'dim' argument."),
    (lambda: lg.zeros(0, 3).max(0), IndexError,
     "max(): Expected reduction dim 0 to have non-zero size."),
    (lambda: lg.zeros(0, 3).amax(), RuntimeError,
     "amax(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
     "reduction dim with the 'dim' argument."),
    (lambda: lg.zeros(0, 3).argmax(), IndexError,
     "argmax(): Expected reduction dim to be specified for input.numel() == 0."),
    (lambda: lg.ones(2, 3).topk(4), RuntimeError, "selected index k out of range"),
    (lambda: lg.ones(2, 3).kthvalue(4), RuntimeError,
     "kthvalue(): selected number k out of range for dimension 1"),
    (lambda: lg.tensor([[1, 2]]).softmax(0), NotImplementedError,
     "\"softmax_kernel_impl\" not implemented for 'Long'"),
    (lambda: lg.tensor([[1, 2]]).log_softmax(0), NotImplementedError,
     "\"log_softmax_kernel_impl\" not implemented for 'Long'"),
    (lambda: lg.tensor([1, 2]).std(), RuntimeError,
     "std and var only support floating point and complex dtypes"),
    (lambda: lg.tensor([1, 2]).norm(), RuntimeError,
     "linalg.vector_norm: Expected a floating point or complex tensor as input. Got Long"),
    (lambda: lg.tensor([1, 2]).nanmean(), RuntimeError,
     "nanmean(): expected input to have floating point or complex dtype but got Long"),
    (lambda: lg.ones(2).logsumexp(), TypeError,
     'logsumexp() missing 1 required positional arguments: "dim"'),
    (lambda: lg.ones(2, 3).max(5), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 5)"),
])
def test_errors(f, exc, text):
    with pytest.raises(exc) as info:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f()
    assert str(info.value) == text


# -- cross-checks against torch --------------------------------------------------------
_CASES = [
    ("max", lambda m, x: x.max(1)), ("min0", lambda m, x: m.min(x, 0)),
    ("median", lambda m, x: x.median()), ("amin", lambda m, x: x.amin(0)),
    ("cummax", lambda m, x: x.cummax(1)), ("cummin", lambda m, x: x.cummin(0)),
    ("prod", lambda m, x: x.prod(0)), ("prod_all", lambda m, x: x.prod()),
    ("cumprod", lambda m, x: x.cumprod(1)), ("norm_inf", lambda m, x: x.norm(p=float("inf"))),
    ("std", lambda m, x: x.std(1)), ("softmax", lambda m, x: x.softmax(0)),
]


@pytest.mark.parametrize("name, f", _CASES, ids=[c[0] for c in _CASES])
def test_ties_and_zeros_against_torch(torch, name, f):
    data = [[1., 0., 3.], [3., 3., 0.], [1., 2., 3.]]     # ties and zeros everywhere
    a = lg.tensor(data, requires_grad=True)
    b = torch.tensor(data, requires_grad=True)
    ya, yb = f(lg, a), f(torch, b)
    ya, yb = (ya[0], yb[0]) if isinstance(yb, tuple) else (ya, yb)
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-6)
    assert type(ya.grad_fn).__name__ == type(yb.grad_fn).__name__
    w = np.arange(1., 1. + ya.numel()).reshape(tuple(ya.shape))
    (ya * lg.tensor(w, dtype=lg.float32)).sum().backward()
    (yb * torch.tensor(w, dtype=torch.float32)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_zero_dim_reductions_accept_dim_0_and_minus_1():
    s = lg.tensor(0.7, dtype=lg.float64, requires_grad=True)
    for y in (s.sum(0), s.sum(-1, keepdim=True), lg.logsumexp(s, 0), s.mean(0)):
        assert y.shape == () and abs(y.item() - 0.7) < 1e-12
        g, = lg.autograd.grad(y, s)
        assert g.item() == 1.
    with pytest.raises(IndexError):
        s.sum(1)


def test_var_of_one_element_gives_nan_gradient():
    for shape in [(), (1,)]:
        x = lg.ones(shape, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = x.var(0) if shape else x.var()
            y.backward()
        assert np.isnan(y.item()) and np.isnan(x.grad.numpy()).all()
