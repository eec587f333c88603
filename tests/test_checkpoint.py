"""utils.checkpoint: gradients equal to the un-checkpointed ones (lightgrad and torch), less
memory kept for backward, same dropout masks on recomputation."""
import importlib
import tracemalloc
import warnings

import numpy as np
import pytest

import lightgrad
from lightgrad.autograd.graph import summary

from . import autograd_helpers
from .autograd_helpers import raises, warns

m = autograd_helpers.m


def _mlp(m, depth=4, width=6):
    rs = np.random.RandomState(0)
    layers = []
    for _ in range(depth):
        lin = m.nn.Linear(width, width)
        with m.no_grad():
            lin.weight.copy_(m.tensor(rs.randn(width, width).astype(np.float32) * 0.5))
            lin.bias.copy_(m.tensor(rs.randn(width).astype(np.float32) * 0.1))
        layers += [lin, m.nn.Tanh()]
    return m.nn.Sequential(*layers)


def _grads(m, model, x, run):
    model.zero_grad()
    x.grad = None
    out = run(model, x)
    (out * out).sum().backward()
    return [out.detach().numpy()] + [x.grad.numpy()] + \
        [p.grad.numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("reentrant", [False, True])
def test_checkpoint_gradients_equal_plain(m, reentrant):
    cp = importlib.import_module(m.__name__ + ".utils.checkpoint")
    model = _mlp(m)
    x = m.tensor(np.random.RandomState(1).randn(3, 6).astype(np.float32), requires_grad=True)
    plain = _grads(m, model, x, lambda mod, v: mod(v))

    def halves(mod, v):
        h = cp.checkpoint(lambda u: mod[1](mod[0](u)), v, use_reentrant=reentrant)
        return cp.checkpoint(lambda u: mod[7](mod[6](mod[5](mod[4](mod[3](mod[2](u)))))), h,
                             use_reentrant=reentrant)
    for run in (halves,
                lambda mod, v: cp.checkpoint_sequential(mod, 3, v, use_reentrant=reentrant),
                lambda mod, v: cp.checkpoint_sequential(list(mod), 8, v,
                                                        use_reentrant=reentrant)):
        got = _grads(m, model, x, run)
        for a, b in zip(plain, got):
            assert np.allclose(a, b, atol=1e-6)


def test_checkpoint_matches_torch(torch):
    ref = []
    for mod in (lightgrad, torch):
        cp = importlib.import_module(mod.__name__ + ".utils.checkpoint")
        model = _mlp(mod)
        x = mod.tensor(np.random.RandomState(1).randn(3, 6).astype(np.float32),
                       requires_grad=True)
        ref.append(_grads(mod, model, x,
                          lambda md, v, cp=cp: cp.checkpoint_sequential(md, 2, v,
                                                                   use_reentrant=False)))
    for a, b in zip(*ref):
        assert np.allclose(a, b, atol=1e-5)


def test_kwargs_and_several_outputs(m):
    cp = importlib.import_module(m.__name__ + ".utils.checkpoint")
    a = m.tensor([0.5, -1.0, 2.0], requires_grad=True)

    def f(x, scale=1.0):
        return (x.exp() * scale).sin(), x.tanh()
    u, v = cp.checkpoint(f, a, scale=2.0, use_reentrant=False)
    (u.sum() + v.sum()).backward()
    x = np.array([0.5, -1.0, 2.0])
    want = np.cos(2 * np.exp(x)) * 2 * np.exp(x) + 1 - np.tanh(x) ** 2
    assert np.allclose(a.grad.numpy(), want, atol=1e-6)
    with raises(ValueError, "Unexpected keyword arguments: scale"):
        cp.checkpoint(f, a, scale=2.0, use_reentrant=True)
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        cp.checkpoint(f, a, foo=1, use_reentrant=False)


def test_retain_graph_recomputes_again(m):
    cp = importlib.import_module(m.__name__ + ".utils.checkpoint")
    a = m.tensor([0.5, -1.0], requires_grad=True)
    y = cp.checkpoint(lambda x: (x * x).exp(), a, use_reentrant=False).sum()
    y.backward(retain_graph=True)
    first = a.grad.clone()
    y.backward()
    assert np.allclose(a.grad.numpy(), 2 * first.numpy())


def test_warnings(m):
    cp = importlib.import_module(m.__name__ + ".utils.checkpoint")
    x = m.tensor([1.0, 2.0], requires_grad=True)
    with warns(UserWarning, "torch.utils.checkpoint: the use_reentrant parameter should be "
               "passed explicitly. Starting in PyTorch 2.9, calling checkpoint without "
               "use_reentrant will raise an exception. use_reentrant=False is recommended, but "
               "if you need to preserve the current default behavior, you can pass "
               "use_reentrant=True. Refer to docs for more details on the differences between "
               "the two variants."):
        cp.checkpoint(lambda v: v.sin(), x)
    with warns(UserWarning, "None of the inputs have requires_grad=True. Gradients will be "
               "None"):
        y = cp.checkpoint(lambda v: v.sin(), m.tensor([1.0]), use_reentrant=True)
    assert not y.requires_grad
    with raises(ValueError, "range() arg 3 must not be zero"):
        cp.checkpoint_sequential([m.nn.Tanh()] * 2, 5, x, use_reentrant=False)


def test_dropout_mask_is_reproduced():
    from lightgrad.utils.checkpoint import checkpoint
    nn = lightgrad.nn
    model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5), nn.Tanh(), nn.Linear(8, 8),
                          nn.Dropout(0.5))
    x = lightgrad.randn(4, 8, requires_grad=True)
    res = []
    for mode in ("plain", False, True):
        model.zero_grad()
        x.grad = None
        lightgrad.manual_seed(7)
        y = model(x) if mode == "plain" else checkpoint(model, x, use_reentrant=mode)
        lightgrad.rand(3)     # RNG moves on before backward: recompute must not see it
        (y * y).sum().backward()
        res.append([y.detach().numpy(), x.grad.numpy()] +
                   [p.grad.numpy().copy() for p in model.parameters()])
    for other in res[1:]:
        for a, b in zip(res[0], other):
            assert np.allclose(a, b, atol=1e-6)
    # without preserve_rng_state the recomputed mask differs, so the gradient does too
    lightgrad.manual_seed(7)
    x.grad = None
    y = checkpoint(model, x, use_reentrant=False, preserve_rng_state=False)
    lightgrad.rand(3)
    (y * y).sum().backward()
    assert not np.allclose(x.grad.numpy(), res[0][1])


def test_recomputation_must_match():
    from lightgrad.utils.checkpoint import CheckpointError, checkpoint
    calls = []

    def f(x):
        calls.append(1)
        return x.exp() if len(calls) == 1 else x[:1].exp()
    a = lightgrad.tensor([1.0, 2.0], requires_grad=True)
    y = checkpoint(f, a, use_reentrant=False)
    with pytest.raises(CheckpointError, match="different metadata"):
        y.sum().backward()


def _deep(width=128, depth=12):
    lightgrad.manual_seed(0)
    nn = lightgrad.nn
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.Tanh()]
    return nn.Sequential(*layers)


def test_checkpoint_lowers_saved_and_peak_memory():
    from lightgrad.utils.checkpoint import checkpoint_sequential
    model = _deep()
    x = lightgrad.randn(1024, 128)
    results = {}
    for name, run in (("plain", lambda: model(x)),
                      ("checkpointed", lambda: checkpoint_sequential(model, 4, x,
                                                                     use_reentrant=False))):
        model.zero_grad(set_to_none=True)
        tracemalloc.start()
        loss = run().pow(2).mean()
        saved = summary(loss).activation_bytes
        loss.backward()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        results[name] = (saved, peak, [p.grad.numpy().copy() for p in model.parameters()])
    (s0, p0, g0), (s1, p1, g1) = results["plain"], results["checkpointed"]
    # 12 layers in 4 segments: only the last segment (and the segment inputs) stay saved
    assert s1 < s0 / 2, (s0, s1)
    assert p1 < 0.75 * p0, (p0, p1)
    for a, b in zip(g0, g1):
        assert np.allclose(a, b, atol=1e-6)


def test_no_warning_when_use_reentrant_given():
    from lightgrad.utils.checkpoint import checkpoint
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checkpoint(lambda v: v.sin(), lightgrad.ones(2, requires_grad=True),
                   use_reentrant=False).sum().backward()
