"""Spec section 6: conversions, tensor and node hooks, custom autograd.Function
(each test also runs on torch)."""
import re
import warnings

import pytest

from . import autograd_helpers
from .autograd_helpers import BACKWARD_TWICE, raises, warns

m = autograd_helpers.m   # the module-under-test fixture: lightgrad, then torch


def test_conversions_on_grad_tensors(m):
    x = m.tensor([1., 2., 3.], requires_grad=True)
    with raises(RuntimeError, "Can't call numpy() on Tensor that requires grad. Use "
                "tensor.detach().numpy() instead."):
        x.numpy()
    assert x.detach().numpy().tolist() == [1., 2., 3.]
    assert x[0].item() == 1.0 and x.sum().item() == 6.0
    with raises(RuntimeError, "a Tensor with 3 elements cannot be converted to Scalar"):
        x.item()
    with raises(ValueError, "only one element tensors can be converted to Python scalars"):
        float(x)
    assert float(x.sum()) == 6.0
    with warns(UserWarning, "To copy construct from a tensor, it is recommended to use "
               "sourceTensor.detach().clone() or sourceTensor.detach().clone()"
               ".requires_grad_(True), rather than torch.tensor(sourceTensor)."):
        t = m.tensor(x)
    assert not t.requires_grad and t.tolist() == [1., 2., 3.]


# -- tensor hooks --------------------------------------------------------------------------
def test_tensor_hook_replaces_gradient(m):
    x = m.tensor([1., 2.], requires_grad=True)
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()))         # None: keeps the gradient
    h = y.register_hook(lambda g: g * 2)
    y.register_hook(lambda g: seen.append(g.tolist()))         # sees the replaced one
    (y * y).sum().backward(retain_graph=True)
    assert seen == [[6., 12.], [12., 24.]] and x.grad.tolist() == [36., 72.]
    assert type(h).__name__ == "RemovableHandle"
    h.remove()
    x.grad = None
    (y * y).sum().backward()
    assert x.grad.tolist() == [18., 36.]


def test_tensor_hook_errors(m):
    with raises(RuntimeError, "cannot register a hook on a tensor that doesn't require "
                "gradient"):
        m.ones(2).register_hook(lambda g: g)
    x = m.ones(2, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: m.ones(3))
    with raises(RuntimeError, "hook '<lambda>' has changed the size of value"):
        y.sum().backward()


def test_leaf_hook_runs_before_accumulation(m):
    x = m.tensor(1., requires_grad=True)
    x.grad = m.tensor(100.)
    seen = []

    def hook(g):
        seen.append((g.item(), x.grad.item()))
        return g * 2

    x.register_hook(hook)
    (x * 3).backward()
    assert seen == [(3., 100.)] and x.grad.item() == 106.


def test_post_accumulate_grad_hook(m):
    x = m.tensor([1., 2.], requires_grad=True)
    seen = []
    x.register_post_accumulate_grad_hook(lambda t: seen.append((t is x, t.grad.tolist())))
    (x * 2).sum().backward()
    assert seen == [(True, [2., 2.])]
    with raises(RuntimeError, "post accumulate grad hooks cannot be registered on non-leaf "
                "tensors"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)


def test_node_hooks(m):
    x = m.tensor([1., 2.], requires_grad=True)
    y = x * 3
    calls = []

    def pre(gout):
        calls.append(("pre", [g.tolist() for g in gout]))
        return (gout[0] * 10,)

    def post(gin, gout):
        assert isinstance(gin, tuple) and isinstance(gout, tuple)
        calls.append(("post", [None if g is None else g.tolist() for g in gin],
                      [g.tolist() for g in gout]))
        return (gin[0] + 1, None)

    y.grad_fn.register_hook(post)
    y.grad_fn.register_prehook(pre)
    y.sum().backward()
    assert calls == [("pre", [[1., 1.]]), ("post", [[30., 30.], None], [[10., 10.]])]
    assert x.grad.tolist() == [31., 31.]


def test_node_hook_remove(m):
    x = m.tensor([1., 2.], requires_grad=True)
    y = x * 3
    h = y.grad_fn.register_prehook(lambda gout: (gout[0] * 0,))
    h.remove()
    y.sum().backward()
    assert x.grad.tolist() == [3., 3.]


# -- custom Function -----------------------------------------------------------------------
def _fns(m):
    F = m.autograd.Function

    class MyExp(F):
        @staticmethod
        def forward(ctx, x):
            ctx.grad_on = m.is_grad_enabled()
            r = x.exp()
            ctx.save_for_backward(r)
            return r

        @staticmethod
        def backward(ctx, g):
            ctx.bw_grad_on = m.is_grad_enabled()
            r, = ctx.saved_tensors
            return g * r

    class Mul2(F):
        @staticmethod
        def forward(ctx, a, b, k):
            ctx.k = k
            ctx.nig = ctx.needs_input_grad
            return a * b * k

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None, None

    return MyExp, Mul2


def test_function_basics(m):
    MyExp, _ = _fns(m)
    x = m.tensor([0., 1.], requires_grad=True)
    y = MyExp.apply(x)
    node = y.grad_fn
    assert type(node).__name__ == "MyExpBackward" and node.name() == "MyExpBackward"
    assert type(node).__mro__[1] is m.autograd.function.BackwardCFunction
    assert isinstance(node, m.autograd.graph.Node)
    assert MyExp._backward_cls.__name__ == "MyExpBackward" and type(node) is MyExp._backward_cls
    assert re.fullmatch(r"<torch\.autograd\.function\.MyExpBackward object at 0x[0-9a-f]+>",
                        repr(node))
    assert "grad_fn=<MyExpBackward>" in repr(y)
    assert node.grad_on is False                      # forward runs with grad disabled
    assert node.next_functions[0][0].variable is x
    assert node.needs_input_grad == (True,)
    s1, s2 = node.saved_tensors, node.saved_tensors   # readable repeatedly
    assert isinstance(s1, tuple) and s1[0].tolist() == y.tolist() and s2[0].tolist() == y.tolist()
    y.sum().backward()
    assert node.bw_grad_on is False
    assert x.grad.tolist() == pytest.approx([1., 2.718281828])
    with raises(RuntimeError, BACKWARD_TWICE):
        node.saved_tensors


def test_function_next_functions_and_needs_input_grad(m):
    _, Mul2 = _fns(m)
    a = m.tensor([1., 2.], requires_grad=True)
    b = m.tensor([3., 4.])
    y = Mul2.apply(a, b, 2.0)
    assert len(y.grad_fn.next_functions) == 2
    assert y.grad_fn.next_functions[0][0].variable is a and y.grad_fn.next_functions[1] == (None, 0)
    assert y.grad_fn.nig == (True, False, False)
    y.sum().backward()
    assert a.grad.tolist() == [2., 2.]
    with m.no_grad():
        y = Mul2.apply(a, b, 2.0)
    assert y.grad_fn is None and not y.requires_grad
    y = Mul2.apply(b, b, 2.0)
    assert y.grad_fn is None and not y.requires_grad


def test_function_instantiation_and_legacy_call(m):
    MyExp, _ = _fns(m)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        inst = MyExp()
    texts = [str(w.message) for w in rec if w.category is DeprecationWarning]
    assert texts and texts[0].startswith(f"{MyExp} should not be instantiated. Methods on "
                                         "autograd functions are all static")
    with raises(RuntimeError, (
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")):
        inst(m.ones(1))


def test_function_gradient_count_and_shape_errors(m):
    F = m.autograd.Function

    class Bad(F):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g

    class Bad3(F):
        @staticmethod
        def forward(ctx, k, a):
            return a * k

        @staticmethod
        def backward(ctx, g):
            return None, m.ones(5)

    class Extra(F):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, None              # extra trailing None is accepted

    class Wide(F):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return m.ones(3, 2, dtype=m.float64)   # summed down to the input, cast back

    class NotTensor(F):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return 3

    class NoBackward(F):
        @staticmethod
        def forward(ctx, a):
            return a * 2

    a = m.ones(2, requires_grad=True)
    with raises(RuntimeError, "function BadBackward returned an incorrect number of gradients "
                "(expected 2, got 1)"):
        Bad.apply(a, a).sum().backward()
    with raises(RuntimeError, "Function Bad3Backward returned an invalid gradient at index 0 - "
                "got [5] but expected shape compatible with [2]"):
        Bad3.apply(2., a).sum().backward()
    Extra.apply(a).sum().backward()
    assert a.grad.tolist() == [2., 2.]
    a.grad = None
    Wide.apply(a).sum().backward()
    assert a.grad.tolist() == [3., 3.] and a.grad.dtype == m.float32
    with raises(RuntimeError, "expected Variable or None (got int)"):
        NotTensor.apply(a).sum().backward()
    with raises(NotImplementedError, "You must implement either the backward or vjp method for "
                "your custom autograd.Function to use it with backward mode AD."):
        NoBackward.apply(a).sum().backward()

    class NoForward(F):
        pass

    with raises(NotImplementedError, "You must implement the forward function for custom "
                "autograd.Function."):
        NoForward.apply(a)


def test_save_for_backward_type_error(m):
    class S(m.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a, None, 3)
            return a * 1

    with raises(TypeError, "save_for_backward can only save variables, but argument 2 is of type "
                "int"):
        S.apply(m.ones(1, requires_grad=True))


def test_function_saved_input_identity_and_version_check(m):
    class Cube(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * g

    x = m.tensor(2., requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn.saved_tensors[0] is x
    g, = m.autograd.grad(y, x, create_graph=True)     # backward runs with grad on here
    assert g.item() == 12. and g.requires_grad
    g2, = m.autograd.grad(g, x)
    assert g2.item() == 12.
    p = x * 1
    y = Cube.apply(p)
    p.add_(1)
    with raises(RuntimeError, "one of the variables needed for gradient computation has been "
                "modified by an inplace operation: [torch.FloatTensor []], which is output 0 of "
                "Add, is at version 1; expected version 0 instead. Hint:", prefix=True):
        y.backward()


def test_function_graph_without_saved_runs_twice(m):
    class E(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = m.tensor(3., requires_grad=True)
    y = E.apply(x)
    y.backward()
    y.backward()
    assert x.grad.item() == 4.


def test_mark_dirty(m):
    class Dirty(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    a = m.ones(2, requires_grad=True)
    x = a * 1
    r = Dirty.apply(x)
    assert r is x and type(x.grad_fn).__name__ == "DirtyBackward" and x._version == 2
    r.sum().backward()
    assert a.grad.tolist() == [2., 2.]
    with raises(RuntimeError, "a leaf Variable that requires grad has been used in an in-place "
                "operation."):
        Dirty.apply(a)


def test_mark_non_differentiable_and_materialize(m):
    seen = []

    class Two(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            o = x * 2
            ctx.mark_non_differentiable(o)
            return x * 3, o

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1.tolist(), g2.tolist()))
            return g1 * 3

    class Lazy(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 3, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1.tolist(), g2))
            return g1 * 3

    a = m.ones(2, requires_grad=True)
    p, q = Two.apply(a)
    assert p.grad_fn is not None and q.requires_grad is False and q.grad_fn is None
    assert p.output_nr == 0
    p.sum().backward()
    p, q = Lazy.apply(a)
    assert p.grad_fn is q.grad_fn and q.output_nr == 1     # outputs share one node
    p.sum().backward()
    assert seen == [([1., 1.], [0., 0.]), ([1., 1.], None)]


def test_function_returns_input_as_view(m):
    class Id(m.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a

        @staticmethod
        def backward(ctx, g):
            return g

    a = m.ones(2, requires_grad=True)
    r = Id.apply(a)
    assert r is not a and r._base is a and type(r.grad_fn).__name__ == "IdBackward"
    r.sum().backward()
    assert a.grad.tolist() == [1., 1.]
    c = m.ones(2)
    r = Id.apply(c)
    assert r is not c and r._base is c and r.grad_fn is None


def test_non_tensor_outputs_get_none_grads(m):
    class R(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, 5

        @staticmethod
        def backward(ctx, g, g2):
            assert g2 is None
            return g * 2

    x = m.tensor(1., requires_grad=True)
    y, five = R.apply(x)
    assert five == 5
    y.backward()
    assert x.grad.item() == 2.


def test_setup_context_style(m):
    class SC(m.autograd.Function):
        @staticmethod
        def forward(x, k):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.k = inputs[1]
            ctx.out_rg = output.requires_grad

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None

    a = m.ones(2, requires_grad=True)
    y = SC.apply(a, 3.)
    assert y.grad_fn.out_rg is False
    y.sum().backward()
    assert a.grad.tolist() == [3., 3.] and SC._backward_cls.__name__ == "SCBackward"


def test_once_differentiable(m):
    from importlib import import_module
    once_differentiable = import_module(m.__name__ + ".autograd.function").once_differentiable
    state = {}

    class Once(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            state["grad_on"] = m.is_grad_enabled()
            x, = ctx.saved_tensors
            return 2 * x * g

    x = m.tensor(3., requires_grad=True)
    Once.apply(x).backward()
    assert x.grad.item() == 6. and state["grad_on"] is False
    g, = m.autograd.grad(Once.apply(x) * x, x, create_graph=True)
    assert state["grad_on"] is False and g.item() == 27.
    with raises(RuntimeError, "trying to differentiate twice a function that was marked with "
                "@once_differentiable"):
        g.backward()


def test_function_hooks_and_anomaly_name(m):
    class NanF(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    x = m.tensor(1., requires_grad=True)
    y = NanF.apply(x)
    seen = []
    y.grad_fn.register_prehook(lambda gout: seen.append("pre"))
    y.grad_fn.register_hook(lambda gin, gout: seen.append("post"))
    y.backward()
    assert seen == ["pre", "post"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with m.autograd.detect_anomaly():
            with raises(RuntimeError, "Function 'NanFBackward' returned nan values in its 0th "
                        "output."):
                NanF.apply(x).backward()


def test_function_gradcheck_and_double_backward(m):
    class MyExp(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            r = x.exp()
            ctx.save_for_backward(r)        # a saved output: differentiable under create_graph
            return r

        @staticmethod
        def backward(ctx, g):
            r, = ctx.saved_tensors
            return g * r

    class Two(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y, x + y

        @staticmethod
        def backward(ctx, g1, g2):
            x, y = ctx.saved_tensors
            return g1 * y + g2, g1 * x + g2

    x = m.tensor([0.5, 1.0], dtype=m.float64, requires_grad=True)
    y = m.tensor([0.3, 2.0], dtype=m.float64, requires_grad=True)
    assert m.autograd.gradcheck(MyExp.apply, x) and m.autograd.gradgradcheck(MyExp.apply, x)
    assert m.autograd.gradcheck(Two.apply, (x, y)) and m.autograd.gradgradcheck(Two.apply, (x, y))
