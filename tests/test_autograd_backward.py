"""Spec section 3: backward() and autograd.grad (each test also runs on torch)."""
import contextlib
import inspect

import numpy as np

import lightgrad

from . import autograd_helpers
from .autograd_helpers import BACKWARD_TWICE, is_lightgrad, raises, warns

m = autograd_helpers.m   # the module-under-test fixture: lightgrad, then torch

CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the "
    "parameter and its gradient which can cause a memory leak. We recommend using "
    "autograd.grad when creating the graph to avoid this. If you have to use this function, "
    "make sure to reset the .grad fields of your parameters to None after use to break the "
    "cycle and avoid the leak.")


def test_signatures():
    def sig(f):
        return str(inspect.signature(f))

    assert sig(lightgrad.Tensor.backward) == \
        "(self, gradient=None, retain_graph=None, create_graph=False, inputs=None)"
    assert sig(lightgrad.autograd.backward) == (
        "(tensors, grad_tensors=None, retain_graph=None, create_graph=False, "
        "grad_variables=None, inputs=None)")
    assert sig(lightgrad.autograd.grad) == (
        "(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, "
        "only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False)")


def test_grad_returns_tuple(m):
    x = m.tensor(2., requires_grad=True)
    r = m.autograd.grad(x * 3, x)
    assert type(r) is tuple and len(r) == 1 and r[0].item() == 3.


def test_implicit_gradient(m):
    x = m.tensor([2.], requires_grad=True)
    (x * 3).backward()                       # shape (1,) is accepted
    assert x.grad.tolist() == [3.]
    y = m.ones(2, requires_grad=True) * 2
    with raises(RuntimeError, "grad can be implicitly created only for scalar outputs"):
        y.backward()
    with raises(RuntimeError, "grad can be implicitly created only for scalar outputs"):
        m.autograd.grad(y, x)
    with raises(RuntimeError, "element 0 of tensors does not require grad and does not have a "
                "grad_fn"):
        m.ones(2).backward()
    with raises(RuntimeError, "element 0 of tensors does not require grad and does not have a "
                "grad_fn"):
        m.autograd.grad(m.ones(2).sum(), x)


def test_implicit_gradient_complex(m):
    t = m.ones(1, dtype=m.complex64)
    if is_lightgrad(m):
        # lightgrad cannot differentiate complex tensors: check the message on the helper
        from lightgrad.autograd import _make_grads
        with raises(RuntimeError, "grad can be implicitly created only for real scalar outputs "
                    "but got torch.complex64"):
            _make_grads([t], [None], False)
        return
    y = t.requires_grad_() * 2
    with raises(RuntimeError, "grad can be implicitly created only for real scalar outputs but "
                "got torch.complex64"):
        y.sum().backward()


def test_explicit_gradient(m):
    x = m.ones(2, 2, requires_grad=True)
    y = x * 2
    with raises(RuntimeError, "Mismatch in shape: grad_output[0] has a shape of torch.Size([3]) "
                "and output[0] has a shape of torch.Size([2, 2])."):
        y.backward(m.ones(3))
    s = (x * 2).sum()
    with raises(RuntimeError, "Mismatch in shape: grad_output[0] has a shape of torch.Size([1]) "
                "and output[0] has a shape of torch.Size([])."):
        s.backward(m.tensor([2.]))
    with raises(TypeError, "gradients can be either Tensors or None, but got float"):
        m.autograd.backward([s], [2.0])
    y.backward(m.tensor([[1., 2.], [3., 4.]], dtype=m.float64))   # dtype mismatch accepted
    assert x.grad.dtype == m.float32 and x.grad.tolist() == [[2., 4.], [6., 8.]]
    z = (x * 3).sum()
    g, = m.autograd.grad([z], [x], [None])                        # None means implicit ones
    assert g.tolist() == [[3., 3.], [3., 3.]]


def test_accumulation_in_place(m):
    x = m.tensor([1., 2.], requires_grad=True)
    (x * 2).sum().backward()
    g = x.grad
    (x * 3).sum().backward()
    assert x.grad is g and g.tolist() == [5., 5.]
    x.grad.zero_()
    (x * 1).sum().backward()
    assert x.grad is g and g.tolist() == [1., 1.]
    x.grad = None
    (x * 4).sum().backward()
    assert x.grad.tolist() == [4., 4.] and x.grad is not g


def test_shared_subexpression_sums(m):
    a = m.tensor(1., requires_grad=True)
    b = a * a
    (b + b).backward()
    assert a.grad.item() == 4.


def test_retain_graph(m):
    x = m.tensor([1., 2.], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4., 8.]
    with raises(RuntimeError, BACKWARD_TWICE):
        y.backward()
    for make in (lambda: x.exp().sum(), lambda: (x * 2).sum()):
        y = make()
        y.backward()
        with raises(RuntimeError, BACKWARD_TWICE):
            y.backward()


def test_graphs_that_save_nothing_run_twice(m):
    x = m.tensor([1., 2.], requires_grad=True)
    for make in (lambda: (x + 1).sum(), lambda: x.view(2, 1).t().sum(), lambda: x.mean()):
        x.grad = None
        y = make()
        y.backward()
        g1 = x.grad.clone()
        y.backward()
        assert x.grad.tolist() == (g1 * 2).tolist()


def test_retain_graph_defaults_to_create_graph(m):
    x = m.tensor(2., requires_grad=True)
    y = x ** 3
    g, = m.autograd.grad(y, x, create_graph=True)
    g2, = m.autograd.grad(y, x)        # the graph was retained
    assert g.item() == g2.item() == 12.


def test_backward_inputs(m):
    x = m.tensor([1., 2.], requires_grad=True)
    p = m.tensor([3., 4.], requires_grad=True)
    h = x * p
    out = (h * h).sum()
    out.backward(inputs=[p], retain_graph=True)
    assert x.grad is None and p.grad.tolist() == [6., 32.]
    out.backward(inputs=[h], retain_graph=True)          # a non-leaf gets .grad
    assert h.grad.tolist() == [6., 16.]
    assert p.grad.tolist() == [6., 32.]
    m.autograd.backward([out], inputs=[x, p])
    assert x.grad.tolist() == [18., 64.] and p.grad.tolist() == [12., 64.]
    with raises(RuntimeError, "`inputs` argument to `backward()` cannot be empty."):
        (x * 2).sum().backward(inputs=[])
    with raises(RuntimeError, "`inputs` argument to `grad()` cannot be empty."):
        m.autograd.grad((x * 2).sum(), [])


def test_grad_specifics(m):
    x = m.tensor([1., 2.], requires_grad=True)
    u = m.tensor([1., 1.], requires_grad=True)
    c = (x * 2).sum()
    assert m.autograd.grad(c, c, retain_graph=True)[0].item() == 1.
    g, = m.autograd.grad(c, x)
    assert x.grad is None and g.tolist() == [2., 2.]
    with raises(RuntimeError, "One of the differentiated Tensors does not require grad"):
        m.autograd.grad((x * 2).sum(), [x, m.ones(2)])
    y = (x * 2).sum()
    unused = u * 3                        # a non-leaf that is not on the path
    with raises(RuntimeError, "The differentiated Tensor at index 1 appears to not have been "
                "used in the graph. Set allow_unused=True if this is the desired behavior."):
        m.autograd.grad(y, [x, unused], retain_graph=True)
    r = m.autograd.grad(y, [x, u], allow_unused=True, retain_graph=True)
    assert r[0].tolist() == [2., 2.] and r[1] is None
    r = m.autograd.grad(y, [x, u], materialize_grads=True)
    assert r[1].tolist() == [0., 0.] and r[1].dtype == m.float32


def test_grad_multiple_outputs_weighted(m):
    x = m.tensor([1., 2.], requires_grad=True)
    g, = m.autograd.grad([x * 2, x * x], [x], [m.ones(2), m.tensor([10., 1.])])
    assert g.tolist() == [22., 6.]


def test_higher_order(m):
    x = m.tensor(2., requires_grad=True)
    g, = m.autograd.grad(x ** 3, x, create_graph=True)
    assert g.item() == 12. and type(g.grad_fn).__name__ == "MulBackward0" and g.requires_grad
    g2, = m.autograd.grad(g, x)
    assert g2.item() == 12.
    g, = m.autograd.grad(x ** 3, x)
    assert g.requires_grad is False
    g, = m.autograd.grad(x * 3, x, create_graph=True)
    assert g.requires_grad is False and g.item() == 3.


def test_backward_create_graph(m):
    x = m.tensor(2., requires_grad=True)
    # torch warns once per process (C++ warn-once), lightgrad per call site: check lightgrad
    ctx = (lambda: warns(UserWarning, CREATE_GRAPH_WARNING)) if is_lightgrad(m) else \
        contextlib.nullcontext
    with ctx():
        (x ** 3).backward(create_graph=True)
    assert "grad_fn=<CopyBackwards>" in repr(x.grad) and x.grad.item() == 12.
    assert x.grad.grad_fn.next_functions[0] == (None, 0)
    with ctx():
        (x ** 3).backward(create_graph=True)
    assert "grad_fn=<AddBackward0>" in repr(x.grad) and x.grad.item() == 24.
    assert type(x.grad.grad_fn.next_functions[0][0]).__name__ == "CopyBackwards"
    x.grad = None
    with ctx():
        (x ** 3).backward(create_graph=True)
    gx = x.grad
    x.grad = None
    gx.backward()
    assert x.grad.item() == 12. and x.grad.grad_fn is None


def test_grad_of_leaf_dtype_after_float64_grad_output(m):
    x = m.tensor([1., 2.], requires_grad=True)
    g, = m.autograd.grad(x * 2, x, m.ones(2, dtype=m.float64))
    assert g.dtype == m.float32


def test_grads_batched_gives_one_gradient_per_batch_row():
    x = lightgrad.ones(2, requires_grad=True)
    (g,) = lightgrad.autograd.grad((x * x).sum(), x, lightgrad.tensor([1.0, 2.0, 3.0]),
                                   is_grads_batched=True)
    assert g.shape == (3, 2)
    np.testing.assert_array_equal(g.numpy(), [[2, 2], [4, 4], [6, 6]])
