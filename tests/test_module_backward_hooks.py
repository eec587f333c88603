"""nn.Module full backward hooks (register_full_backward_hook / _pre_hook), side by side
with torch: what the hooks see, in which order, what their return values change."""
import warnings

import numpy as np

import lightgrad

from .conftest import require


def _story(m):
    m.manual_seed(0)
    seen = []
    lin = m.nn.Linear(3, 2)
    lin.register_full_backward_pre_hook(
        lambda mod, go: seen.append(("pre", [tuple(g.shape) for g in go])))
    lin.register_full_backward_hook(lambda mod, gi, go: seen.append(
        ("full", [None if g is None else tuple(g.shape) for g in gi],
         [tuple(g.shape) for g in go])))
    x = m.randn(4, 3, requires_grad=True)
    y = lin(x)
    seen.append(type(y.grad_fn).__name__)
    y.sum().backward()
    with warnings.catch_warnings(record=True) as caught:     # no input requires grad
        warnings.simplefilter("always")
        lin(m.randn(4, 3)).sum().backward()
    seen.append(sum("Full backward hook is firing" in str(w.message) for w in caught))
    # a hook's return value replaces grad_input / grad_output
    zero = m.nn.Linear(3, 2)
    zero.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0,))
    x2 = m.randn(4, 3, requires_grad=True)
    zero(x2).sum().backward()
    seen.append(float(x2.grad.abs().sum()))
    double = m.nn.Linear(3, 2)
    double.register_full_backward_pre_hook(lambda mod, go: (go[0] * 2,))
    x3 = m.ones(1, 3, requires_grad=True)
    double(x3).sum().backward()
    seen.append(double.weight.grad.tolist())
    # two tensor inputs, one without grad; nested modules fire innermost-last-layer first
    bil = m.nn.Bilinear(3, 2, 4)
    bil.register_full_backward_hook(
        lambda mod, gi, go: seen.append([None if g is None else tuple(g.shape) for g in gi]))
    bil(m.randn(5, 3, requires_grad=True), m.randn(5, 2)).sum().backward()
    seq = m.nn.Sequential(m.nn.Linear(3, 3), m.nn.ReLU(), m.nn.Linear(3, 1))
    order = []
    for i, sub in enumerate(seq):
        sub.register_full_backward_hook(lambda mod, gi, go, i=i: order.append(i))
    handle = seq.register_full_backward_hook(lambda mod, gi, go: order.append("seq"))
    xs = m.randn(2, 3, requires_grad=True)
    seq(xs).sum().backward()
    handle.remove()
    seq(xs).sum().backward()
    seen.append(order)
    with m.no_grad():                       # no graph, no hooks
        seen.append(lin(m.randn(1, 3)).grad_fn is None)
    return seen


def test_full_backward_hooks_match_torch():
    torch = require("torch")
    ours, ref = _story(lightgrad), _story(torch)
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        if isinstance(b, list) and b and isinstance(b[0], list):
            np.testing.assert_allclose(a, b, rtol=1e-6)
        else:
            assert a == b


def test_hook_gradients_equal_autograd():
    lin = lightgrad.nn.Linear(3, 2)
    got = {}
    lin.register_full_backward_hook(lambda mod, gi, go: got.update(gi=gi[0], go=go[0]))
    x = lightgrad.randn(4, 3, requires_grad=True)
    y = lin(x)
    (y ** 2).sum().backward()
    np.testing.assert_allclose(got["go"].numpy(), 2 * y.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(got["gi"].numpy(), x.grad.numpy(), rtol=1e-6)
