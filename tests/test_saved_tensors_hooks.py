"""autograd.graph.saved_tensors_hooks and disable_saved_tensors_hooks (each test also runs on
torch, so the expectations are checked against the reference)."""
import importlib

import numpy as np

from . import autograd_helpers
from .autograd_helpers import raises

m = autograd_helpers.m


def _graph(m):
    return importlib.import_module(m.__name__ + ".autograd.graph")


def _recorder(calls):
    def pack(t):
        calls.append(("pack", tuple(t.shape), t.requires_grad,
                      None if t.grad_fn is None else t.grad_fn.name()))
        return t

    def unpack(t):
        calls.append(("unpack",))
        return t
    return pack, unpack


def test_pack_sees_every_saved_tensor_and_unpack_runs_in_backward(m):
    g = _graph(m)
    a = m.tensor([0.5, -1.0, 2.0], requires_grad=True)
    calls = []
    with g.saved_tensors_hooks(*_recorder(calls)):
        b = a * 2.0                     # a Python scalar: nothing saved
        c = b.exp()                     # saves its result
        d = (c * a).sin()               # saves c and a; sin saves its input
        e = a.relu() + m.tanh(a)        # both save their results
    assert sorted(calls, key=str) == sorted([
        ("pack", (3,), True, "ExpBackward0"), ("pack", (3,), True, "ExpBackward0"),
        ("pack", (3,), True, None), ("pack", (3,), True, "MulBackward0"),
        ("pack", (3,), True, "ReluBackward0"), ("pack", (3,), True, "TanhBackward0")], key=str)
    calls.clear()
    assert d.grad_fn._saved_self.tolist() == (c * a).tolist()     # goes through unpack
    assert calls == [("unpack",)]
    calls.clear()
    (d.sum() + e.sum()).backward()
    assert calls == [("unpack",)] * 6
    # outside the context nothing is packed
    calls.clear()
    a.exp().sum().backward()
    assert calls == []


def test_offloading_hooks_give_the_same_gradients(m):
    g = _graph(m)
    x = m.tensor([[0.3, -1.2], [2.0, 0.7]], requires_grad=True)
    w = m.tensor([[1.5, -0.5], [0.25, 2.0]], requires_grad=True)

    def f():
        return ((x @ w).tanh() * x).exp().sum()

    f().backward()
    ref = (x.grad.clone(), w.grad.clone())
    x.grad = w.grad = None
    store = []

    def pack(t):                # keep a NumPy copy, hand back an index
        store.append(t.detach().numpy().copy())
        return len(store) - 1

    with g.saved_tensors_hooks(pack, lambda i: m.from_numpy(store[i])):
        y = f()
    y.backward()
    assert len(store) > 0
    assert np.allclose(x.grad.numpy(), ref[0].numpy()) and np.allclose(w.grad.numpy(),
                                                                        ref[1].numpy())


def test_double_backward_through_packed_values(m):
    g = _graph(m)
    a = m.tensor([0.5, -1.0, 2.0], requires_grad=True)
    with g.saved_tensors_hooks(lambda t: t.detach().numpy().copy(),
                               lambda arr: m.from_numpy(arr)):
        y = (a * a * a).sum()
    (ga,) = m.autograd.grad(y, a, create_graph=True)
    assert np.allclose(ga.detach().numpy(), [0.75, 3.0, 12.0])
    (gga,) = m.autograd.grad(ga.sum(), a)
    assert np.allclose(gga.numpy(), [3.0, -6.0, 12.0])
    with g.saved_tensors_hooks(lambda t: t.detach().numpy().copy(),
                               lambda arr: m.from_numpy(arr)):
        z = a.sin()
    s = z.grad_fn._saved_self          # a leaf again, requiring grad, not the same object
    assert s.requires_grad and s.grad_fn is None and s.is_leaf and s is not a


def test_innermost_hooks_apply(m):
    g = _graph(m)
    calls = []
    a = m.tensor([1.0, 2.0], requires_grad=True)
    with g.saved_tensors_hooks(*_recorder(calls)):
        with g.saved_tensors_hooks(lambda t: (calls.append("p2"), t)[1],
                                   lambda t: (calls.append("u2"), t)[1]):
            c = a.sin()
        d = a.cos()
    (c + d).sum().backward()
    assert calls[0] == "p2" and calls[1][0] == "pack" and sorted(map(str, calls[2:])) == \
        sorted(["u2", "('unpack',)"])


def test_unpack_must_return_a_tensor(m):
    g = _graph(m)
    a = m.tensor([1.0, 2.0], requires_grad=True)
    with g.saved_tensors_hooks(lambda t: t, lambda t: 3):
        c = a.sin()
    with raises(TypeError, "Output of saved tensor unpack_hook expected to be a Tensor but got "
                "result of type int"):
        c.sum().backward()


def test_pack_hook_must_not_modify_its_input(m):
    g = _graph(m)
    a = m.tensor([1.0, 2.0], requires_grad=True)
    b = m.tensor([3.0, 4.0])

    def pack(t):
        if not t.requires_grad:
            t.add_(1)
        return t
    with g.saved_tensors_hooks(pack, lambda t: t):
        with raises(RuntimeError, "A saved tensor pack hook is modifying its input in place. "
                    "Tensors provided as input to pack hook cannot be modified by in-place "
                    "operations as this can lead to unexpected side-effects. Please open an "
                    "issue if you need to perform in-place operations on the input to a pack "
                    "hook."):
            a * b


def test_no_version_check_for_packed_values(m):
    g = _graph(m)
    a = m.tensor([1.0, 2.0], requires_grad=True)
    with g.saved_tensors_hooks(lambda t: t, lambda t: t):
        b = a * 1
        c = b.sin()
    b.add_(1)                       # the hook owns the value: torch does not check versions
    c.sum().backward()
    assert a.grad is not None


def test_hooks_inside_pack_are_off(m):
    g = _graph(m)
    a = m.tensor([1.0, 2.0], requires_grad=True)
    n = []

    def pack(t):
        n.append(1)
        return t.sin()             # saves t again: must not call pack recursively
    with g.saved_tensors_hooks(pack, lambda t: t):
        a.cos()
    assert len(n) == 1


def test_disable_saved_tensors_hooks(m):
    g = _graph(m)
    pair = (lambda t: t, lambda t: t)
    with g.disable_saved_tensors_hooks("no hooks please"):
        with raises(RuntimeError, "no hooks please"):
            with g.saved_tensors_hooks(*pair):
                pass
        with g.disable_saved_tensors_hooks("inner"):
            with raises(RuntimeError, "inner"):
                with g.saved_tensors_hooks(*pair):
                    pass
        with raises(RuntimeError, "no hooks please"):      # the outer message is back
            with g.saved_tensors_hooks(*pair):
                pass
    with g.saved_tensors_hooks(*pair):                     # enabled again
        with raises(RuntimeError, "nope"):                 # hooks already active
            with g.disable_saved_tensors_hooks("nope"):
                pass
    with g.saved_tensors_hooks(*pair):
        pass


def test_save_on_cpu_keeps_gradients(m):
    g = _graph(m)
    a = m.tensor([0.5, -1.0, 2.0], requires_grad=True)
    with g.save_on_cpu():
        y = (a.exp() * a).sum()
    y.backward()
    assert np.allclose(a.grad.numpy(), (np.exp([0.5, -1.0, 2.0]) * ([0.5, -1.0, 2.0])
                                        + np.exp([0.5, -1.0, 2.0])))


def test_hook_stack_is_empty_after_an_error():
    import lightgrad
    from lightgrad._graph import graph
    try:
        with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            raise ValueError
    except ValueError:
        pass
    assert graph.hook_stack == []
    x = lightgrad.tensor([1.0], requires_grad=True)
    assert type(x.sin().grad_fn._saved[0]) is tuple      # the plain, unpacked form
