"""nn.init against torch: gains, bounds and statistics of each scheme, and error texts."""
import math
import warnings

import numpy as np
import pytest

import lightgrad as lg
from lightgrad.nn import init


def _err(fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        return type(e).__name__, str(e)
    return None


def test_calculate_gain_matches_torch(torch):
    names = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
             "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]
    for n in names:
        assert init.calculate_gain(n) == torch.nn.init.calculate_gain(n)
    for p in (0.2, 1, 0, 3.5):
        assert init.calculate_gain("leaky_relu", p) == torch.nn.init.calculate_gain(
            "leaky_relu", p)
    for args in [("foo",), ("leaky_relu", "x"), ("leaky_relu", True)]:
        assert _err(lambda a=args: init.calculate_gain(*a)) == _err(
            lambda a=args: torch.nn.init.calculate_gain(*a))


def test_errors_match_torch(torch):
    def cases(mod, ini):
        return [lambda: ini.xavier_uniform_(mod.zeros(3)),
                lambda: ini.kaiming_uniform_(mod.zeros(3, 2), mode="x"),
                lambda: ini.kaiming_normal_(mod.zeros(3)),
                lambda: ini.eye_(mod.zeros(3)),
                lambda: ini.orthogonal_(mod.zeros(3)),
                lambda: ini.dirac_(mod.zeros(3, 3))]
    for a, b in zip(cases(lg, init), cases(torch, torch.nn.init)):
        assert _err(a) == _err(b)


def _fill(fn, shape, *args, **kw):
    t = lg.empty(*shape, requires_grad=True)
    out = fn(t, *args, **kw)
    assert out is t and t.is_leaf and t.requires_grad    # in place, untracked
    return t.detach().numpy().astype(np.float64)


def test_uniform_normal_constant():
    lg.manual_seed(0)
    u = _fill(init.uniform_, (200, 100), -2.0, 3.0)
    assert u.min() >= -2 and u.max() < 3 and abs(u.mean() - 0.5) < 0.05
    n = _fill(init.normal_, (200, 100), 1.0, 2.0)
    assert abs(n.mean() - 1) < 0.05 and abs(n.std() - 2) < 0.05
    assert (_fill(init.constant_, (2, 3), 1.5) == 1.5).all()
    assert (_fill(init.ones_, (2, 3)) == 1).all() and (_fill(init.zeros_, (4,)) == 0).all()
    assert (_fill(init.eye_, (3, 4)) == np.eye(3, 4)).all()


def test_fan_based_schemes():
    lg.manual_seed(1)
    shape = (300, 200)
    fan_in, fan_out = 200, 300
    xb = math.sqrt(6 / (fan_in + fan_out))
    x = _fill(init.xavier_uniform_, shape, gain=2.0)
    assert np.abs(x).max() <= 2 * xb and np.abs(x).max() > 1.95 * xb
    x = _fill(init.xavier_normal_, shape)
    assert abs(x.std() / math.sqrt(2 / (fan_in + fan_out)) - 1) < 0.02
    kb = math.sqrt(2) * math.sqrt(3 / fan_in)
    k = _fill(init.kaiming_uniform_, shape, nonlinearity="relu")
    assert np.abs(k).max() <= kb and np.abs(k).max() > 0.99 * kb
    k = _fill(init.kaiming_uniform_, shape, a=math.sqrt(5))
    assert np.abs(k).max() <= 1 / math.sqrt(fan_in)
    k = _fill(init.kaiming_normal_, shape, mode="fan_out", nonlinearity="relu")
    assert abs(k.std() / math.sqrt(2 / fan_out) - 1) < 0.02
    # conv weights: fans include the receptive field
    k = _fill(init.kaiming_uniform_, (8, 4, 3, 3), a=math.sqrt(5))
    assert np.abs(k).max() <= 1 / math.sqrt(4 * 9)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_uniform_(lg.empty(0, 3))


def test_orthogonal_trunc_normal_dirac():
    lg.manual_seed(2)
    for shape in [(4, 6), (6, 4), (3, 2, 2)]:
        q = _fill(init.orthogonal_, shape, gain=2.0).reshape(shape[0], -1)
        small = min(q.shape)
        prod = q @ q.T if q.shape[0] == small else q.T @ q
        np.testing.assert_allclose(prod, 4 * np.eye(small), atol=1e-5)
    t = _fill(init.trunc_normal_, (20000,), mean=0.5, std=1.0, a=-1.0, b=1.5)
    assert t.min() >= -1.0 and t.max() <= 1.5
    # the mean of N(0.5, 1) truncated to [-1, 1.5]
    from math import erf, exp, pi, sqrt
    al, be = -1.5, 1.0
    phi = lambda z: exp(-z * z / 2) / sqrt(2 * pi)  # noqa: E731
    cdf = lambda z: (1 + erf(z / sqrt(2))) / 2  # noqa: E731
    expected = 0.5 + (phi(al) - phi(be)) / (cdf(be) - cdf(al))
    assert abs(t.mean() - expected) < 0.02
    d = _fill(init.dirac_, (4, 2, 3))
    assert d.sum() == 2 and d[0, 0, 1] == 1 and d[1, 1, 1] == 1
    s = _fill(init.sparse_, (10, 4), 0.3)
    assert ((s == 0).sum(0) >= 3).all()


def test_generator_makes_init_reproducible():
    g = lg.Generator().manual_seed(7)
    a = init.normal_(lg.empty(5), generator=g).tolist()
    g.manual_seed(7)
    assert init.normal_(lg.empty(5), generator=g).tolist() == a
