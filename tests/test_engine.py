"""Engine properties: iterative walk, dependency counting, freeing saved values, no reference
cycles, execution order, grad/backward target semantics."""
import gc
import threading
import weakref

import numpy as np
import pytest

import lightgrad
from lightgrad.autograd.graph import Node

from . import autograd_helpers
from .autograd_helpers import BACKWARD_TWICE, raises

m = autograd_helpers.m   # the module-under-test fixture: lightgrad, then torch


def test_long_chain_is_iterative():
    x = lightgrad.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
    del y            # freeing a 100,000-node graph must not overflow the C stack either


def test_deep_diamonds_are_counted_not_enumerated(m):
    x = m.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(2000):          # 2**2000 paths: only dependency counting gets through
        y = (y + y) * 0.5
    y.backward()
    assert x.grad.item() == 1.0


def test_shared_node_runs_once_with_summed_gradient(m):
    x = m.tensor([0.5, 1.0], requires_grad=True)
    h = x * 2
    calls = []
    h.grad_fn.register_prehook(lambda gout: calls.append(gout[0].tolist()))
    loss = h.exp().sum() + h.sin().sum() + (h * 3).sum()
    loss.backward()
    hv = np.array([1.0, 2.0])
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], np.exp(hv) + np.cos(hv) + 3, rtol=1e-6)
    np.testing.assert_allclose(x.grad.tolist(), 2 * (np.exp(hv) + np.cos(hv) + 3), rtol=1e-6)


def test_ready_nodes_run_latest_created_first(m):
    x = m.tensor(1.0, requires_grad=True)
    order = []
    a = x * 2
    b = x * 3
    c = x * 4
    for name, t in (("a", a), ("b", b), ("c", c)):
        t.grad_fn.register_prehook(lambda g, name=name: order.append(name))
    (a + c + b).backward()
    assert order == ["c", "b", "a"]


def test_saved_values_released_after_backward():
    x = lightgrad.tensor([1., 2., 3.], requires_grad=True)

    def build():
        h = x * 2                    # h is saved by the mul below, not kept by the caller
        ref = weakref.ref(h)
        return (h * h).sum(), ref

    loss, ref = build()
    assert ref() is not None         # the graph holds h while it may still be needed
    loss.backward(retain_graph=True)
    assert ref() is not None
    loss.backward()
    assert ref() is None             # freed once the pass ran without retain_graph
    assert x.grad.tolist() == [16., 32., 48.]
    with raises(RuntimeError, BACKWARD_TWICE):
        loss.backward()


def test_saved_output_does_not_keep_tensor_alive():
    x = lightgrad.tensor([1., 2.], requires_grad=True)
    y = x.exp()
    ref = weakref.ref(y)
    loss = y.sum()
    del y
    assert ref() is None             # the node keeps the array, not the output Tensor
    loss.backward()
    np.testing.assert_allclose(x.grad.tolist(), np.exp([1., 2.]), rtol=1e-6)


def _training_steps(n):
    rng = np.random.default_rng(0)
    xs = lightgrad.tensor(rng.standard_normal((8, 3)), dtype=lightgrad.float32)
    ys = lightgrad.tensor(rng.standard_normal((8, 1)), dtype=lightgrad.float32)
    w = lightgrad.zeros(3, 1, requires_grad=True)
    b = lightgrad.zeros(1, requires_grad=True)
    for _ in range(n):
        pred = xs.mm(w) + b
        loss = ((pred - ys) ** 2).mean()
        loss.backward()
        with lightgrad.no_grad():
            w -= 0.01 * w.grad
            b -= 0.01 * b.grad
        w.grad = None
        b.grad.zero_()
    return loss.item()


def _live(types):
    # type() rather than isinstance: some proxies in other libraries warn on __class__ access
    return sum(1 for o in gc.get_objects() if issubclass(type(o), types))


def test_no_reference_cycles_in_training_loop():
    types = (lightgrad.Tensor, Node)
    _training_steps(10)
    gc.collect()
    before = _live(types)
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)   # unreachable objects go to gc.garbage: inspect them
    try:
        gc.collect()
        del gc.garbage[:]
        first = _training_steps(100)
        last = _training_steps(10_000)
        gc.collect()
        cyclic = [o for o in gc.garbage if issubclass(type(o), types)]
        after = _live(types)
    finally:
        gc.set_debug(0)
        del gc.garbage[:]
        if was_enabled:
            gc.enable()
    assert cyclic == []               # reference counting alone frees every step's graph
    assert after <= before + 5        # nothing accumulates across steps
    assert last < first


def test_create_graph_grad_is_differentiable_twice(m):
    x = m.tensor([1., 2.], requires_grad=True)
    y = (x ** 4).sum()
    g, = m.autograd.grad(y, x, create_graph=True)
    h, = m.autograd.grad(g.sum(), x, create_graph=True)
    k, = m.autograd.grad(h.sum(), x)
    assert g.tolist() == [4., 32.] and h.tolist() == [12., 48.] and k.tolist() == [24., 48.]


def test_grad_wrt_intermediate_and_leaf(m):
    x = m.tensor([1., 2.], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    gh, gx = m.autograd.grad(y, [h, x])
    assert gh.tolist() == [6., 12.] and gx.tolist() == [18., 36.]
    assert x.grad is None


def test_grad_only_runs_needed_nodes(m):
    x = m.tensor([1., 2.], requires_grad=True)
    u = m.tensor([3., 4.], requires_grad=True)
    a = x * 2
    b = u.exp()
    ran = []
    b.grad_fn.register_prehook(lambda g: ran.append("exp"))
    g, = m.autograd.grad((a + b).sum(), x)
    assert g.tolist() == [2., 2.] and ran == [] and u.grad is None


def test_backward_inputs_leaf_not_on_path(m):
    x = m.tensor([1., 2.], requires_grad=True)
    u = m.tensor([3., 4.], requires_grad=True)
    (x * 2).sum().backward(inputs=[x, u])
    assert x.grad.tolist() == [2., 2.] and u.grad is None


def test_multi_output_partial_gradients(m):
    x = m.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    if not hasattr(x, "unbind"):
        pytest.skip("unbind not implemented yet")
    a, b = x.unbind()
    (a * 2).sum().backward()
    assert x.grad.tolist() == [[2., 2.], [0., 0.]]


def test_backward_in_another_thread(m):
    out = {}

    def work():
        x = m.tensor([1., 2.], requires_grad=True)
        (x * x).sum().backward()
        out["g"] = x.grad.tolist()

    with m.no_grad():                 # the main thread's mode does not leak into the worker
        th = threading.Thread(target=work)
        th.start()
        th.join()
    assert out["g"] == [2., 4.]


def test_grad_mode_restored_after_failed_backward(m):
    x = m.tensor([1., 2.], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError):
        y.backward()
    assert m.is_grad_enabled()
    with m.no_grad():
        z = x * 2
    assert not z.requires_grad
    with pytest.raises(RuntimeError):
        m.autograd.grad((x * x).sum(), x, create_graph=False, grad_outputs=m.ones(3))
    assert m.is_grad_enabled()


def test_grad_accumulates_float64_into_float32_leaf(m):
    x = m.tensor([1., 2.], requires_grad=True)
    (x.double() * 2).sum().backward()
    assert x.grad.dtype == m.float32 and x.grad.tolist() == [2., 2.]


def test_backward_through_inf_and_nan_is_silent_as_in_torch():
    import warnings
    x = lightgrad.tensor([0.0, 1.0, -1.0], requires_grad=True)
    y = lightgrad.tensor([0.0, 2.0, 3.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x.log() + x.sqrt() + lightgrad.xlogy(x, y) + x / y).sum().backward()
    assert np.isinf(x.grad.numpy()[0]) or np.isnan(x.grad.numpy()[0])
