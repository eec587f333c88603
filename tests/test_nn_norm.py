"""Normalization functions and layers against torch: values, gradients (also second order),
running statistics, train/eval, reprs, state dicts and error texts."""
import numpy as np
import pytest

import lightgrad
import lightgrad.nn as lnn
import lightgrad.nn.functional as LF

from ._compare import check


def _same(a, b, rtol=1e-7, atol=1e-9):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


def _pair(torch, arrays):
    return ([lightgrad.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


CASES = [
    ("batch_norm", (4, 3, 5), lambda F, m, x, w, b: F.batch_norm(x, None, None, w, b,
                                                                 training=True)),
    ("batch_norm", (4, 3), lambda F, m, x, w, b: F.batch_norm(x, None, None, w, b,
                                                              training=True, eps=1e-3)),
    ("batch_norm", (4, 3, 2, 2), lambda F, m, x, w, b: F.batch_norm(
        x, m.tensor([0.1, 0.2, -0.3], dtype=m.float64), m.tensor([1.5, 0.5, 2.0],
                                                                 dtype=m.float64),
        w, b, training=False)),
    ("layer_norm", (3, 4, 5), lambda F, m, x, w, b: F.layer_norm(x, (5,), w, b)),
    ("group_norm", (3, 6, 5, 2), lambda F, m, x, w, b: F.group_norm(x, 3, w, b)),
]


@pytest.mark.parametrize("name,xs,fn", CASES)
def test_norm_values_and_grads(torch, name, xs, fn):
    rng = np.random.default_rng(0)
    C = xs[-1] if name == "layer_norm" else xs[1]
    arrays = [rng.standard_normal(xs) * 2 + 1, rng.standard_normal(C), rng.standard_normal(C)]
    (lx, lw, lb), (tx, tw, tb) = _pair(torch, arrays)
    lo, to = fn(LF, lightgrad, lx, lw, lb), fn(torch.nn.functional, torch, tx, tw, tb)
    _same(lo, to)
    assert type(lo.grad_fn).__name__ == type(to.grad_fn).__name__
    u = rng.standard_normal(xs)
    lg = lightgrad.autograd.grad(lo, (lx, lw, lb), lightgrad.tensor(u), create_graph=True)
    tg = torch.autograd.grad(to, (tx, tw, tb), torch.tensor(u), create_graph=True)
    for a, b in zip(lg, tg):
        _same(a, b)
    v = rng.standard_normal(xs)
    ls = (lg[0] * lightgrad.tensor(v)).sum() + (lg[1] ** 2).sum()
    ts = (tg[0] * torch.tensor(v)).sum() + (tg[1] ** 2).sum()
    for a, b in zip(lightgrad.autograd.grad(ls, (lx, lw)), torch.autograd.grad(ts, (tx, tw))):
        _same(a, b, rtol=1e-6)


def test_layer_norm_float32_and_no_affine(torch):
    x = np.random.default_rng(1).standard_normal((4, 6, 8)).astype(np.float32)
    lo = LF.layer_norm(lightgrad.tensor(x), (6, 8))
    to = torch.nn.functional.layer_norm(torch.tensor(x), (6, 8))
    assert lo.dtype == lightgrad.float32
    _same(lo, to, rtol=1e-5, atol=1e-5)


def test_functional_running_stats(torch):
    x = np.random.default_rng(2).standard_normal((5, 3, 4)).astype(np.float32)
    lrm, lrv = lightgrad.zeros(3), lightgrad.ones(3)
    trm, trv = torch.zeros(3), torch.ones(3)
    v0 = lrm._version
    LF.batch_norm(lightgrad.tensor(x), lrm, lrv, training=True, momentum=0.3)
    torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=0.3)
    _same(lrm, trm, rtol=1e-6)
    _same(lrv, trv, rtol=1e-6)
    assert lrm._version == v0           # torch does not bump the buffers' version


@pytest.mark.parametrize("cls,xs,kw", [
    ("BatchNorm1d", (6, 3), {}), ("BatchNorm1d", (6, 3, 4), dict(momentum=None)),
    ("BatchNorm2d", (4, 3, 2, 3), dict(momentum=0.5, eps=1e-3)),
    ("BatchNorm2d", (4, 3, 2, 3), dict(affine=False)),
    ("BatchNorm2d", (4, 3, 2, 3), dict(track_running_stats=False)),
])
def test_batchnorm_module_train_eval(torch, cls, xs, kw):
    lm, tm = getattr(lnn, cls)(3, **kw), getattr(torch.nn, cls)(3, **kw)
    rng = np.random.default_rng(0)
    if lm.weight is not None:
        w, b = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(
            np.float32)
        with lightgrad.no_grad():
            lm.weight.copy_(lightgrad.tensor(w))
            lm.bias.copy_(lightgrad.tensor(b))
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(w))
            tm.bias.copy_(torch.tensor(b))
    for step in range(3):
        x = (rng.standard_normal(xs) * (step + 1) + step).astype(np.float32)
        (lx,), (tx,) = _pair(torch, [x])
        lo, to = lm(lx), tm(tx)
        _same(lo, to, rtol=1e-5, atol=1e-5)
        lo.sum().backward() if lm.weight is None else (lo * lo).sum().backward()
        to.sum().backward() if tm.weight is None else (to * to).sum().backward()
        _same(lx.grad, tx.grad, rtol=1e-4, atol=1e-4)
    for name, buf in tm.named_buffers():
        mine = dict(lm.named_buffers())[name]
        np.testing.assert_allclose(mine.numpy(), buf.numpy(), rtol=1e-5)
        assert str(mine.dtype).split(".")[-1] == str(buf.dtype).split(".")[-1]
    assert list(lm.state_dict()) == list(tm.state_dict())
    lm.eval()
    tm.eval()
    x = rng.standard_normal(xs).astype(np.float32)
    _same(lm(lightgrad.tensor(x)), tm(torch.tensor(x)), rtol=1e-5, atol=1e-5)


def test_batchnorm_load_state_dict_and_reset(torch):
    m = lnn.BatchNorm2d(2)
    m(lightgrad.randn(4, 2, 3, 3))
    assert int(m.num_batches_tracked) == 1
    sd = m.state_dict()
    m2 = lnn.BatchNorm2d(2)
    m2.load_state_dict(sd)
    np.testing.assert_array_equal(m2.running_mean.numpy(), m.running_mean.numpy())
    m2.reset_running_stats()
    assert int(m2.num_batches_tracked) == 0 and float(m2.running_var.sum()) == 2.0


@pytest.mark.parametrize("expr,xs", [
    ("LayerNorm(5)", (2, 3, 5)), ("LayerNorm((3, 5), elementwise_affine=False)", (2, 3, 5)),
    ("LayerNorm(5, bias=False)", (2, 5)), ("GroupNorm(2, 4)", (3, 4, 5)),
    ("GroupNorm(1, 4, affine=False)", (3, 4, 2, 2)), ("InstanceNorm1d(3)", (2, 3, 5)),
    ("InstanceNorm2d(3, affine=True)", (2, 3, 4, 4)),
])
def test_norm_modules(torch, expr, xs):
    lm, tm = eval(expr, {}, vars(lnn)), eval(expr, {}, vars(torch.nn))
    assert repr(lm) == repr(tm)
    assert [n for n, _ in lm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    rng = np.random.default_rng(0)
    for p1, p2 in zip(lm.parameters(), tm.parameters()):
        v = rng.standard_normal(tuple(p2.shape)).astype(np.float32)
        with lightgrad.no_grad():
            p1.copy_(lightgrad.tensor(v))
        with torch.no_grad():
            p2.copy_(torch.tensor(v))
    x = rng.standard_normal(xs).astype(np.float32)
    (lx,), (tx,) = _pair(torch, [x])
    lo, to = lm(lx), tm(tx)
    _same(lo, to, rtol=1e-5, atol=1e-5)
    (lo * lo).sum().backward()
    (to * to).sum().backward()
    _same(lx.grad, tx.grad, rtol=1e-4, atol=1e-4)
    for p1, p2 in zip(lm.parameters(), tm.parameters()):
        _same(p1.grad, p2.grad, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("expr", [
    "nn.BatchNorm1d(4)", "nn.BatchNorm2d(4, momentum=None, affine=False, "
    "track_running_stats=False)", "nn.LayerNorm(10)",
    "nn.LayerNorm((3, 4), elementwise_affine=False, bias=False)", "nn.GroupNorm(2, 4)",
    "nn.InstanceNorm2d(3)"])
def test_reprs(torch, expr):
    assert repr(eval(expr, {"nn": lnn})) == repr(eval(expr, {"nn": torch.nn}))


@pytest.mark.parametrize("expr", [
    "torch.nn.functional.batch_norm(torch.ones(2, 4, 3), torch.zeros(3), torch.ones(3))",
    "torch.nn.functional.batch_norm(torch.ones(1, 4), None, None, training=True)",
    "torch.nn.functional.batch_norm(torch.ones(2, 3, 4), None, None, training=False)",
    "torch.nn.functional.batch_norm(torch.ones(2, 3), torch.zeros(3), torch.ones(3), "
    "torch.ones(4))",
    "torch.nn.functional.group_norm(torch.ones(2, 4, 3), 3)",
    "torch.nn.functional.group_norm(torch.ones(2, 3, 4), 3, torch.ones(4))",
    "torch.nn.functional.layer_norm(torch.ones(2, 4, 6), (5,))",
    "torch.nn.functional.layer_norm(torch.ones(2, 3, 4), (4,), torch.ones(3))",
    "torch.nn.BatchNorm2d(3)(torch.ones(2, 3))",
    "torch.nn.BatchNorm1d(3)(torch.ones(2, 3, 4, 4))",
    "torch.nn.GroupNorm(3, 4)",
])
def test_errors_match_torch(torch, expr):
    check(torch, expr, values=False)
