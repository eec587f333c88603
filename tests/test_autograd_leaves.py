"""Spec section 1: leaves, requires_grad, .grad (each test also runs on torch)."""
import numpy as np
import pytest

from . import autograd_helpers
from .autograd_helpers import is_lightgrad, no_warnings, raises, warns

m = autograd_helpers.m   # the module-under-test fixture: lightgrad, then torch

NON_LEAF_FLAG = (
    "you can only change requires_grad flags of leaf variables. If you want to use a computed "
    "variable in a subgraph that doesn't require differentiation use var_no_grad = "
    "var.detach().")
NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If "
    "you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. "
    "See github.com/pytorch/pytorch/pull/30531 for more information.")


@pytest.mark.parametrize("make", [
    lambda m, **k: m.ones(2, **k), lambda m, **k: m.tensor([1., 2.], **k),
    lambda m, **k: m.randn(3, **k), lambda m, **k: m.zeros_like(m.ones(2), **k),
    lambda m, **k: m.zeros(2, 3, **k)])
def test_factories_make_leaves(m, make):
    t = make(m)
    assert t.is_leaf and t.grad_fn is None and t.requires_grad is False
    t = make(m, requires_grad=True)
    assert t.is_leaf and t.grad_fn is None and t.requires_grad is True
    with m.no_grad():
        t = make(m, requires_grad=True)
    assert t.is_leaf and t.requires_grad is True and t.grad_fn is None


def test_untracked_results_are_leaves(m):
    t = m.ones(2) * 2
    assert t.is_leaf and t.grad_fn is None and not t.requires_grad


def test_any_input_requiring_grad_makes_non_leaf(m):
    x = m.ones(2, requires_grad=True)
    c = m.ones(2)
    for y in (x * c, c * x, c + x, x.exp(), (c * 2) - x):
        assert y.requires_grad and not y.is_leaf and y.grad_fn is not None


def test_never_differentiable_outputs(m):
    x = m.tensor([1., 3., 2.], requires_grad=True)
    for y in ((x > 1), x.argmax(), x.long(), x.max(0)[1]):
        assert y.requires_grad is False and y.grad_fn is None and y.is_leaf
    for y, name in ((x.floor(), "FloorBackward0"), (x.round(), "RoundBackward0"),
                    (x.sign(), "SignBackward0")):
        assert y.requires_grad and type(y.grad_fn).__name__ == name


def test_grad_mode_off_results(m):
    x = m.ones(2, requires_grad=True)
    for ctx in (m.no_grad, m.inference_mode):
        with ctx():
            y = x * 2
        assert y.requires_grad is False and y.is_leaf and y.grad_fn is None


def test_requires_grad_on_untracked_result(m):
    t = (m.ones(2) * 2)
    r = t.requires_grad_()
    assert r is t and t.requires_grad and t.is_leaf
    assert t.requires_grad_(False) is t and not t.requires_grad


def test_changing_flag_of_non_leaf(m):
    y = m.ones(2, requires_grad=True) * 2
    with raises(RuntimeError, NON_LEAF_FLAG):
        y.requires_grad_(False)
    with raises(RuntimeError, NON_LEAF_FLAG):
        y.requires_grad = False
    assert y.requires_grad_() is y and y.requires_grad   # True on a non-leaf is a no-op


def test_dtype_restriction_texts(m):
    with raises(RuntimeError, "Only Tensors of floating point and complex dtype can require "
                "gradients"):
        m.ones(2, dtype=m.long, requires_grad=True)
    with raises(RuntimeError, "Only Tensors of floating point and complex dtype can require "
                "gradients"):
        m.tensor([1, 2, 3], requires_grad=True)
    t = m.tensor([1, 2])
    with raises(RuntimeError, "only Tensors of floating point and complex dtype can require "
                "gradients"):
        t.requires_grad = True
    for t in (m.tensor([1, 2]), m.tensor([True])):
        with raises(RuntimeError, "only Tensors of floating point dtype can require gradients"):
            t.requires_grad_()
    t.requires_grad = False       # allowed on any dtype
    assert not t.requires_grad


def test_complex_can_require_grad(m):
    if is_lightgrad(m):
        pytest.skip("lightgrad does not differentiate complex tensors yet (documented)")
    t = m.ones(2, dtype=m.complex64, requires_grad=True)
    assert t.requires_grad


def test_grad_none_until_backward_and_leaf_only(m):
    x = m.tensor([1., 2.], requires_grad=True)
    c = m.tensor([3., 4.])
    y = x * c
    assert x.grad is None
    y.sum().backward()
    assert x.grad.tolist() == [3., 4.]
    assert c.grad is None
    assert x.grad.is_leaf and x.grad.requires_grad is False and x.grad.grad_fn is None
    with warns(UserWarning, NON_LEAF_GRAD):
        assert y.grad is None


def test_non_leaf_grad_warning_cases(m):
    x = m.ones(2, requires_grad=True)
    with no_warnings():
        x.grad
        m.ones(2).grad
        (m.ones(2) * 2).grad
        y = x * 2
        y.retain_grad()
        y.grad
    z = x * 3
    with warns(UserWarning, NON_LEAF_GRAD):
        z.grad
    z.grad = m.ones(2)                   # a grad set by hand: no warning either
    with no_warnings():
        assert z.grad.tolist() == [1., 1.]
    h = x * 4
    h.sum().backward(inputs=[h])         # listing a non-leaf in inputs= retains its grad
    with no_warnings():
        assert h.retains_grad and h.grad.tolist() == [1., 1.]


def test_retain_grad(m):
    x = m.tensor([1., 2.], requires_grad=True)
    x.retain_grad()
    assert x.retains_grad is False
    y = x * 2
    assert y.retains_grad is False
    y.retain_grad()
    assert y.retains_grad is True
    with raises(RuntimeError, "can't retain_grad on Tensor that has requires_grad=False"):
        m.ones(2).retain_grad()
    (y * y).sum().backward(retain_graph=True)
    assert y.grad.tolist() == [4., 8.]
    (y * y).sum().backward()
    assert y.grad.tolist() == [8., 16.]   # accumulates across backward calls


@pytest.mark.parametrize("order", ["retain_first", "hook_first"])
def test_retained_grad_is_after_hooks(m, order):
    x = m.tensor([1., 2.], requires_grad=True)
    y = x * 1
    if order == "retain_first":
        y.retain_grad()
        y.register_hook(lambda g: g * 10)
    else:
        y.register_hook(lambda g: g * 10)
        y.retain_grad()
    y.sum().backward()
    assert y.grad.tolist() == [10., 10.]
    assert x.grad.tolist() == [10., 10.]


def test_set_grad_by_hand(m):
    x = m.ones(3, requires_grad=True)
    with raises(RuntimeError, "attempting to assign a gradient of size '[2]' to a tensor of size "
                "'[3]'. Please ensure that the gradient and the tensor are the same size"):
        x.grad = m.ones(2)
    with raises(RuntimeError, "attempting to assign a gradient with dtype 'double' to a tensor "
                "with grad_dtype 'Float'. The gradient must match the tensor's grad_dtype "
                "(defaults to the tensor's dtype). ", prefix=True):
        x.grad = m.ones(3, dtype=m.float64)
    with raises(TypeError, "assigned grad expected to be a Tensor or None but got grad of type "
                "list"):
        x.grad = [1., 2., 3.]
    g = m.full((3,), 5.)
    x.grad = g
    assert x.grad is g
    x.grad = None
    assert x.grad is None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2., 2., 2.]


def test_variable_returns_plain_leaf(m):
    t = m.autograd.Variable(m.ones(2), requires_grad=True)
    assert type(t) is m.Tensor and t.is_leaf and t.requires_grad
    v = m.autograd.Variable(m.ones(2))
    assert not v.requires_grad


def test_grad_keeps_leaf_dtype_shape(m):
    x = m.tensor(np.arange(3.0), requires_grad=True)      # float64
    (x.float() * 2).sum().backward()
    assert x.grad.dtype == m.float64 and x.grad.tolist() == [2., 2., 2.]


def test_retained_grad_accumulates_into_a_new_tensor(m):
    # unlike a leaf's .grad, a retained grad is replaced by `old + new` on accumulation
    x = m.ones(3, requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 10)
    y.sum().backward(retain_graph=True)
    first = y.grad
    y.sum().backward()
    assert first is not y.grad and first.tolist() == [10.] * 3 and y.grad.tolist() == [20.] * 3
