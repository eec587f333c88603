"""Batched backward passes (autograd.grad(..., is_grads_batched=True)): every op-table entry
gives, in one pass, the gradients that one pass per upstream gradient gives; and the
Jacobian tools use that one pass."""
import numpy as np
import pytest

import lightgrad
from lightgrad._graph import engine

from .conftest import require
from .test_ops import ENTRIES, _arrays, _as_list, _inputs

GRAD_ENTRIES = [op for op in ENTRIES if op.grad]


def _count_passes(monkeypatch):
    """A list that gets one item per backward pass the engine runs."""
    calls = []
    real = engine.execute

    def counting(*args, **kwargs):
        calls.append(kwargs.get("batched", False))
        return real(*args, **kwargs)
    monkeypatch.setattr(engine, "execute", counting)
    import lightgrad.autograd as ag
    monkeypatch.setattr(ag, "execute", counting)
    return calls


@pytest.mark.parametrize("op", GRAD_ENTRIES, ids=[op.label() for op in GRAD_ENTRIES])
def test_batched_pass_equals_one_pass_per_gradient(op):
    ins = _inputs(lightgrad, op, _arrays(op))
    diff = [t for t in ins if t.requires_grad]
    outs = [o for o in _as_list(op.fn(lightgrad, *ins))
            if isinstance(o, lightgrad.Tensor) and o.requires_grad]
    if not outs or not diff:
        pytest.skip("nothing differentiable")
    rng = np.random.default_rng(2)
    n = 3
    ups = [rng.standard_normal((n,) + tuple(o.shape)) for o in outs]
    batched = lightgrad.autograd.grad(
        outs, diff, [lightgrad.tensor(u, dtype=o.dtype) for o, u in zip(outs, ups)],
        retain_graph=True, allow_unused=True, is_grads_batched=True)
    for k in range(n):
        one = lightgrad.autograd.grad(
            outs, diff, [lightgrad.tensor(u[k], dtype=o.dtype) for o, u in zip(outs, ups)],
            retain_graph=True, allow_unused=True)
        for b, g in zip(batched, one):
            if g is None:
                assert b is None or not np.any(b[k].numpy())
                continue
            assert tuple(b.shape) == (n,) + tuple(g.shape)
            np.testing.assert_allclose(b[k].numpy(), g.numpy(), rtol=1e-10, atol=1e-12)


def _r200():
    rng = np.random.default_rng(0)
    w = lightgrad.tensor(rng.standard_normal((200, 200)) / 14)
    x = lightgrad.tensor(rng.standard_normal(200))
    return (lambda v: lightgrad.tanh(w @ v) * v + v.sin().cumsum(0)), x


def test_vectorized_jacobian_is_one_batched_pass_instead_of_200(monkeypatch):
    f, x = _r200()
    calls = _count_passes(monkeypatch)
    loop = lightgrad.autograd.functional.jacobian(f, x)
    assert calls == [False] * 200
    calls.clear()
    vec = lightgrad.autograd.functional.jacobian(f, x, vectorize=True)
    assert calls == [True]
    calls.clear()
    rev = lightgrad.func.jacrev(f)(x)
    assert calls == [True]
    assert vec.shape == rev.shape == (200, 200)
    np.testing.assert_allclose(vec.numpy(), loop.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rev.numpy(), loop.numpy(), rtol=1e-12, atol=1e-14)


def test_jacrev_chunk_size_splits_the_batch(monkeypatch):
    f, x = _r200()
    calls = _count_passes(monkeypatch)
    rev = lightgrad.func.jacrev(f, chunk_size=64)(x)
    assert calls == [True] * 4          # 64 + 64 + 64 + 8 rows
    np.testing.assert_allclose(rev.numpy(), lightgrad.func.jacrev(f)(x).numpy(), rtol=1e-12)


def test_vectorized_jacobian_matches_torch():
    torch = require("torch")
    f, x = _r200()
    tw = torch.tensor(np.random.default_rng(0).standard_normal((200, 200)) / 14)
    tf = (lambda v: torch.tanh(tw @ v) * v + v.sin().cumsum(0))
    ours = lightgrad.autograd.functional.jacobian(f, x, vectorize=True)
    ref = torch.autograd.functional.jacobian(tf, torch.tensor(x.numpy()), vectorize=True)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)


def test_is_grads_batched_errors_as_torch():
    x = lightgrad.randn(3, requires_grad=True)
    y = x.sin()
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        lightgrad.autograd.grad(y, x, None, is_grads_batched=True, retain_graph=True)
    with pytest.raises(RuntimeError, match=r"interpret the first dimension of each grad_output "
                       r"as the batch dimension.*grad_output\[0\] has a shape of "
                       r"torch.Size\(\[2\]\) and output\[0\] has a shape of torch.Size\(\[3\]\)"):
        lightgrad.autograd.grad(y, x, lightgrad.ones(4, 2), is_grads_batched=True)


def test_unused_and_constant_gradients_are_batched():
    x = lightgrad.randn(3, requires_grad=True)
    z = lightgrad.randn(2, requires_grad=True)
    y = x.sign() * 0 + x.floor()          # rules that ignore their upstream gradient
    gx, gz = lightgrad.autograd.grad(y, (x, z), lightgrad.ones(5, 3), is_grads_batched=True,
                                     allow_unused=True, materialize_grads=True)
    assert gx.shape == (5, 3) and not gx.numpy().any()
    assert gz.shape == (5, 2) and not gz.numpy().any()


def test_tensor_hooks_see_one_gradient_at_a_time():
    seen = []
    x = lightgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x.register_hook(lambda g: seen.append(tuple(g.shape)) or g * 2)
    h = x.sin()
    h.retain_grad()
    (g,) = lightgrad.autograd.grad(h * 1, x, lightgrad.eye(3), is_grads_batched=True)
    assert seen == [(3,)] * 3
    np.testing.assert_allclose(g.numpy(), np.diag(2 * np.cos([1.0, 2.0, 3.0])), rtol=1e-6)
    assert h.grad is None           # nothing is retained from a batched pass
    h.grad_fn.register_hook(lambda gi, go: None)
    with pytest.raises(NotImplementedError, match="hooks registered on grad_fn"):
        lightgrad.autograd.grad(h * 1, x, lightgrad.eye(3), is_grads_batched=True)
