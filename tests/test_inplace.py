"""Spec section 5: in-place ops and version counters (each test also runs on torch)."""
import math

import pytest

from . import autograd_helpers
from .autograd_helpers import raises

m = autograd_helpers.m   # the module-under-test fixture: lightgrad, then torch

HINT = ("Hint: enable anomaly detection to find the operation that failed to compute its "
        "gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")
ANOMALY_HINT = ("Hint: the backtrace further above shows the operation that failed to compute "
                "its gradient. The variable in question was changed in there or anywhere "
                "later. Good luck!")
LEAF = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_OF_LEAF = "a view of a leaf Variable that requires grad is being used in an in-place " \
    "operation."
NOGRAD_VIEW = (
    "A view was created in no_grad mode and is being modified inplace with grad mode enabled. "
    "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify "
    "your code by moving both the view and the inplace either both inside the no_grad block "
    "(if you don't want the inplace to be tracked) or both outside (if you want the inplace to "
    "be tracked).")


def modified(desc, found, expected, hint=HINT):
    return ("one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: {desc} is at version {found}; expected version {expected} "
            f"instead. {hint}")


def test_version_counter_bumps(m):
    t = m.ones(3)
    assert t._version == 0
    t.add_(1)
    t += 1
    t.zero_()
    t.copy_(m.ones(3))
    t.fill_(2.)
    t.mul_(1)
    assert t._version == 6
    try:
        t[0] = 2.
    except TypeError:
        pytest.skip("item assignment not implemented yet")
    assert t._version == 7


def test_views_and_detach_share_counter_data_does_not(m):
    t = m.ones(3)
    v, d, dd = t[1:], t.detach(), t.data
    assert (v._version, d._version, dd._version) == (0, 0, 0)
    d.add_(1)
    assert t._version == 1 and v._version == 1 and dd._version == 0
    assert t.tolist() == [2., 2., 2.]           # detach shares memory too
    dd.add_(1)
    assert t._version == 1 and dd._version == 1 and t.tolist() == [3., 3., 3.]


def test_saved_output_modified(m):
    x = m.ones(3, requires_grad=True)
    y = x.exp()
    y.add_(1)
    with raises(RuntimeError, modified("[torch.FloatTensor [3]], which is output 0 of Exp,",
                                       1, 0)):
        y.sum().backward()


def test_saved_input_modified_names_current_grad_fn(m):
    x = m.ones(3, requires_grad=True)
    p = x * 1
    z = p * p
    p.add_(1)
    with raises(RuntimeError, modified("[torch.FloatTensor [3]], which is output 0 of Add,",
                                       1, 0)):
        z.sum().backward()
    a = m.ones((), dtype=m.float64, requires_grad=True)
    s = a * 1
    r = s * s
    s.mul_(2)
    s.add_(1)
    with raises(RuntimeError, modified("[torch.DoubleTensor []], which is output 0 of Add,",
                                       2, 0)):
        r.backward()


def test_clause_omitted_for_constants_and_leaves(m):
    x = m.ones(3, requires_grad=True)
    c = m.ones(3)
    z = x * c
    c.add_(1)
    with raises(RuntimeError, modified("[torch.FloatTensor [3]]", 1, 0)):
        z.sum().backward()
    w = m.ones(3, 2, requires_grad=True)
    z = (w * 2).sum() + (w * w).sum()
    with m.no_grad():
        w.mul_(2)
    with raises(RuntimeError, modified("[torch.FloatTensor [3, 2]]", 1, 0)):
        z.backward()


def test_anomaly_hint(m):
    x = m.ones(3, requires_grad=True)
    with pytest.warns(UserWarning), m.autograd.set_detect_anomaly(True, check_nan=False):
        y = x.exp()
        y.add_(1)
        with raises(RuntimeError, modified("[torch.FloatTensor [3]], which is output 0 of "
                                           "Exp,", 1, 0, ANOMALY_HINT)):
            y.sum().backward()
    assert not m.is_anomaly_enabled()


def test_only_saved_tensors_are_checked(m):
    a = m.ones(3, requires_grad=True)
    a2 = a * 1
    c = a2 * 2               # saves the scalar, not a2
    a2.mul_(2)
    c.sum().backward()
    assert a.grad.tolist() == [2., 2., 2.]
    b = m.ones(3, requires_grad=True)
    d = b * 2
    b.data.mul_(2)           # .data has its own counter: no error
    d.sum().backward()
    assert b.grad.tolist() == [2., 2., 2.]


@pytest.mark.parametrize("op", [
    lambda w: w.add_(1), lambda w: w.sub_(1), lambda w: w.mul_(2), lambda w: w.zero_(),
    lambda w: w.fill_(1.), lambda w: w.copy_(w.detach() * 2), lambda w: w.__iadd__(1)])
def test_leaf_in_place_error(m, op):
    w = m.ones(3, requires_grad=True)
    with raises(RuntimeError, LEAF):
        op(w)
    assert w._version == 0 and w.tolist() == [1., 1., 1.]


def test_view_of_leaf_in_place_error(m):
    w = m.ones(3, requires_grad=True)
    with raises(RuntimeError, VIEW_OF_LEAF):
        w[1:].add_(1)
    with raises(RuntimeError, VIEW_OF_LEAF):
        w.view(3).mul_(2)
    try:
        with raises(RuntimeError, VIEW_OF_LEAF):
            w[0] = 1.
    except TypeError:
        pytest.skip("item assignment not implemented yet")


def test_no_grad_sgd_idiom(m):
    w = m.tensor([1., 2., 3.], requires_grad=True)
    (w * w).sum().backward()
    lr = 0.1
    with m.no_grad():
        w -= lr * w.grad
        w.add_(1)
        w[1:].mul_(2)
    assert w._version == 3 and w.is_leaf and w.grad_fn is None and w.requires_grad
    assert [round(v, 5) for v in w.tolist()] == [1.8, 5.2, 6.8]
    w2 = w - lr * w.grad
    assert not w2.is_leaf and type(w2.grad_fn).__name__ == "SubBackward0"


def test_no_grad_view_modified_with_grad(m):
    x = m.ones(3, requires_grad=True)
    a = x * 1
    with m.no_grad():
        v = a[1:]
        lv = x[1:]
    with raises(RuntimeError, NOGRAD_VIEW):
        v.mul_(2)
    with raises(RuntimeError, NOGRAD_VIEW):
        lv.mul_(2)


@pytest.mark.parametrize("split,name", [("unbind", "Unbind"), ("split", "Split")])
def test_multi_view_outputs(m, split, name):
    y = m.ones(2, 2, requires_grad=True) * 1
    if not hasattr(y, split):
        pytest.skip(f"{split} not implemented yet")
    parts = y.unbind() if split == "unbind" else y.split(1)
    with raises(RuntimeError, f"Output 0 of {name} is a view and is being modified inplace. "
                "This view is the output of a function that returns multiple views. Such "
                "functions do not allow the output views to be modified inplace. You should "
                "replace the inplace operation by an out-of-place one."):
        parts[0].mul_(2)


def test_in_place_with_grad_operand_makes_non_leaf(m):
    a = m.tensor([1., 2.], requires_grad=True)
    b = m.zeros(2)
    b.add_(a)
    assert b.requires_grad and not b.is_leaf and type(b.grad_fn).__name__ == "AddBackward0"
    (b * 3).sum().backward()
    assert a.grad.tolist() == [3., 3.]


def test_in_place_on_non_leaf_names_and_grads(m):
    x = m.tensor([1., 2., 3.], requires_grad=True)
    for op, name in ((lambda t: t.mul_(2), "MulBackward0"),
                     (lambda t: t.exp_(), "ExpBackward0"),
                     (lambda t: t.zero_(), "ZeroBackward0"),
                     (lambda t: t.fill_(1.), "FillBackward2"),
                     (lambda t: t.copy_(x * 5), "CopyBackwards")):
        t = x * 1
        before = t._version
        r = op(t)
        assert r is t and t._version == before + 1 and type(t.grad_fn).__name__ == name
    t = x * x
    t.mul_(0.5)                # the rules read the values from before each write
    t.exp_()
    x.grad = None
    t.sum().backward()
    expect = [v * math.exp(0.5 * v * v) for v in (1., 2., 3.)]
    assert x.grad.tolist() == pytest.approx(expect, rel=1e-5)
    t = x * 1
    t.mul_(t)                  # mul saved t itself, which the write then modified
    with raises(RuntimeError, modified("[torch.FloatTensor [3]], which is output 0 of Mul,",
                                       1, 0)):
        t.sum().backward()


def test_fill_copy_zero_gradients(m):
    x = m.tensor([1., 2., 3.], requires_grad=True)
    v = m.tensor(2., requires_grad=True)
    t = x * 1
    t.fill_(v)
    assert type(t.grad_fn).__name__ == "FillBackward3"
    (t * m.tensor([1., 2., 3.])).sum().backward()
    assert x.grad.tolist() == [0., 0., 0.] and v.grad.item() == 6.
    src = m.tensor([4.], requires_grad=True)
    t = x * 1
    t.copy_(src)                                     # broadcasts; grad sums back
    (t * m.tensor([1., 2., 3.])).sum().backward()
    assert src.grad.tolist() == [6.] and x.grad.tolist() == [0., 0., 0.]
    z = m.zeros(3)
    z.copy_(x)
    assert type(z.grad_fn).__name__ == "CopyBackwards"
    assert z.grad_fn.name() == "torch::autograd::CopyBackwards"
    assert z.grad_fn.next_functions[0] == (None, 0)


def test_detach(m):
    x = m.ones(3, requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d._version == y._version == 0
    d.add_(1)
    assert y._version == 1 and y.tolist() == [3., 3., 3.]
    d2 = x.detach()
    d2.add_(1)
    assert x._version == 1 and x.tolist() == [2., 2., 2.]


def test_detach_(m):
    x = m.ones(3, requires_grad=True)
    y = x * 2
    assert y.detach_() is y
    assert y.is_leaf and not y.requires_grad and y.grad_fn is None
    v = (x * 2)[1:]
    with raises(RuntimeError, (
            "Can't detach views in-place. Use detach() instead. If you are using "
            "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as "
            "True, gradients are views of DDP buckets, and hence detach_() cannot be called on "
            "these gradients. To fix this error, please refer to the Optimizer.zero_grad() "
            "function in torch/optim/optimizer.py as the solution.")):
        v.detach_()
    w = m.ones(3, requires_grad=True)
    w.detach_()                                      # a leaf: allowed
    assert not w.requires_grad


def test_data(m):
    x = m.tensor([1., 2., 3.], requires_grad=True)
    y = x * 2
    dt = y.data
    assert dt.is_leaf and not dt.requires_grad and dt._version == 0
    dt.add_(1)
    assert y._version == 0 and y.tolist() == [3., 5., 7.]
    x.data = m.zeros(3)
    assert x.tolist() == [0., 0., 0.] and x.requires_grad and x.is_leaf
    x.data = m.zeros(2)                              # another shape is accepted
    assert tuple(x.shape) == (2,)


def test_clone_is_differentiable(m):
    x = m.tensor([1., 2.], requires_grad=True)
    c = x.clone()
    assert not c.is_leaf and type(c.grad_fn).__name__ == "CloneBackward0"
    c.add_(1)
    assert x.tolist() == [1., 2.]
    (c * c).sum().backward()
    assert x.grad.tolist() == [4., 6.]


@pytest.mark.parametrize("dst,src", [((2, 3), (2,)), ((2, 3), (4, 3)), ((3,), (2, 3)),
                                     ((2, 3), (3, 2))])
def test_copy_shape_errors(m, dst, src):
    with pytest.raises(RuntimeError) as lg:
        m.zeros(*dst).copy_(m.ones(*src))
    expected = {((2, 3), (2,)): "The size of tensor a (3) must match the size of tensor b (2) at "
                                "non-singleton dimension 1",
                ((2, 3), (4, 3)): "The size of tensor a (2) must match the size of tensor b (4) "
                                  "at non-singleton dimension 0",
                ((3,), (2, 3)): "output with shape [3] doesn't match the broadcast shape [2, 3]",
                ((2, 3), (3, 2)): "The size of tensor a (3) must match the size of tensor b (2) "
                                  "at non-singleton dimension 1"}[(dst, src)]
    assert str(lg.value) == expected


# -- audit regressions: node names and histories of less common in-place ops --------------
@pytest.mark.parametrize("op,node", [("eq_", "EqBackward"), ("ge_", "GeBackward"),
                                     ("less_", "LtBackward"), ("not_equal_", "NeBackward")])
def test_comparison_inplace_records_zero_grad_node(m, op, node):
    x = m.ones(3, requires_grad=True)
    y = x * 1
    getattr(y, op)(0.)
    assert y.grad_fn.name() == node + "0" and y.dtype == m.float32
    z = x * 1
    getattr(z, op)(x)
    assert z.grad_fn.name() == node + "1" and len(z.grad_fn.next_functions) == 2
    (y + z).sum().backward()
    assert x.grad.tolist() == [0., 0., 0.]


def test_logical_inplace_keeps_history(m):
    x = m.ones(3, requires_grad=True)
    y = x * 2
    y.logical_not_()
    assert y.grad_fn.name() == "MulBackward0" and y.tolist() == [0., 0., 0.]
    with raises(TypeError, "logical_and_(): argument 'other' (position 1) must be Tensor, "
                "not float"):
        y.logical_and_(0.)


@pytest.mark.parametrize("op,name", [("asinh_", "asinh"), ("arccosh_", "acosh"),
                                     ("atanh_", "atanh")])
def test_inverse_hyperbolic_inplace_node_is_backward1(m, op, name):
    x = m.tensor([0.5, 0.25], requires_grad=True)
    y = x * 4 if name == "acosh" else x * 1
    getattr(y, op)()
    assert y.grad_fn.name() == name.capitalize() + "Backward1"
    with raises(NotImplementedError,
                f"the derivative for 'inplace version of {name}' is not implemented."):
        y.sum().backward()


def test_tril_triu_swapaxes_inplace(m):
    x = m.ones(3, 3, requires_grad=True)
    y = x * 1
    y.tril_()
    assert y.grad_fn.name() == "TrilBackward0" and y.sum().item() == 6.
    z = (x * 1).triu_(1)
    assert z.sum().item() == 3.
    w = m.ones(2, 3).swapaxes_(0, 1)
    assert tuple(w.shape) == (3, 2)
