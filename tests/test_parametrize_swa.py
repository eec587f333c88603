"""nn.utils.parametrize, nn.utils.parametrizations (weight_norm, orthogonal, spectral_norm),
the hook-based nn.utils.weight_norm / spectral_norm and optim.swa_utils, against torch:
state dict keys and values, forwards, gradients, a few optimizer steps, reprs and errors."""
import copy
import pickle
import warnings

import numpy as np
import pytest

import lightgrad as lg
import lightgrad.nn as lnn
from lightgrad.nn.utils import parametrizations as LPZ
from lightgrad.nn.utils import parametrize as LP
from lightgrad.optim import swa_utils as lswa


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _lg(t):
    return lg.tensor(_np(t).copy())


def _close(a, b, atol=1e-5, rtol=1e-5):
    np.testing.assert_allclose(_np(a), _np(b), atol=atol, rtol=rtol)


def _load_from(lmod, tmod):
    """Copy torch's state dict into the lightgrad module (same keys)."""
    lmod.load_state_dict({k: _lg(v) for k, v in tmod.state_dict().items()})


def _same_state(lmod, tmod, atol=1e-5):
    ls, ts = lmod.state_dict(), tmod.state_dict()
    assert list(ls) == list(ts)
    for k in ts:
        _close(ls[k], ts[k], atol=atol, rtol=atol)


def _err(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        return type(e).__name__, str(e).replace("torch.", "lightgrad.")
    return None


def _pair(torch, make):
    """make(nn) in torch and lightgrad, with the same initial values."""
    torch.manual_seed(0)
    t = make(torch.nn)
    m = make(lnn)
    _load_from(m, t)
    return m, t


def _steps(torch, m, t, x, n=3, opt="SGD", lr=0.1):
    """n optimizer steps on sum(forward(x) ** 2) in both; returns the last losses."""
    lopt = getattr(lg.optim, opt)(m.parameters(), lr=lr)
    topt = getattr(torch.optim, opt)(t.parameters(), lr=lr)
    xl, xt = _lg(x), torch.tensor(x)
    for _ in range(n):
        lopt.zero_grad()
        topt.zero_grad()
        ll, tl = (m(xl) ** 2).sum(), (t(xt) ** 2).sum()
        ll.backward()
        tl.backward()
        lopt.step()
        topt.step()
    return ll, tl


def _sym(nn):
    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).mT

        def right_inverse(self, A):
            return A.triu()
    return Symmetric()


def _rank_one(nn, lib):
    class RankOne(nn.Module):
        def forward(self, x, y):
            return x.unsqueeze(-1) @ y.unsqueeze(-2)

        def right_inverse(self, Z):
            return Z[:, 0].clone(), lib.ones(Z.shape[1])
    return RankOne()


X = np.random.RandomState(1).randn(6, 4).astype(np.float32)
X5 = np.random.RandomState(9).randn(6, 5).astype(np.float32)


# -- parametrize ---------------------------------------------------------------------------
def test_register_parametrization_class_repr_state_and_values(torch):
    import torch.nn.utils.parametrize as TP
    m, t = _pair(torch, lambda nn: nn.Linear(4, 4))
    LP.register_parametrization(m, "weight", _sym(lnn))
    TP.register_parametrization(t, "weight", _sym(torch.nn))
    assert type(m).__name__ == type(t).__name__ == "ParametrizedLinear"
    assert repr(m) == repr(t)
    assert list(dict(m.named_parameters())) == list(dict(t.named_parameters()))
    _same_state(m, t)
    _close(m.weight, t.weight)
    _close(m.weight, m.weight.mT)
    assert LP.is_parametrized(m) and LP.is_parametrized(m, "weight")
    assert not LP.is_parametrized(m, "bias")
    assert LP.type_before_parametrizations(m) is lnn.Linear
    assert isinstance(m.parametrizations.weight, LP.ParametrizationList)
    ll, tl = _steps(torch, m, t, X)
    _close(ll, tl, atol=1e-4)
    _same_state(m, t)
    # assigning goes through right_inverse
    A = np.random.RandomState(2).randn(4, 4).astype(np.float32)
    A = A + A.T
    m.weight, t.weight = _lg(A), torch.tensor(A)
    _close(m.weight, A)
    _same_state(m, t)


def test_gradients_flow_to_the_original(torch):
    import torch.nn.utils.parametrize as TP
    m, t = _pair(torch, lambda nn: nn.Linear(4, 4))
    LP.register_parametrization(m, "weight", _sym(lnn))
    TP.register_parametrization(t, "weight", _sym(torch.nn))
    (m(_lg(X)) ** 2).sum().backward()
    (t(torch.tensor(X)) ** 2).sum().backward()
    _close(m.parametrizations.weight.original.grad, t.parametrizations.weight.original.grad,
           atol=1e-4)


def test_stacked_parametrizations_and_remove(torch):
    import torch.nn.utils.parametrize as TP

    def double(nn):
        class Double(nn.Module):
            def forward(self, X):
                return 2 * X

            def right_inverse(self, X):
                return X / 2
        return Double()

    for leave in (True, False):
        m, t = _pair(torch, lambda nn: nn.Linear(4, 4))
        for mod, nn, P in ((m, lnn, LP), (t, torch.nn, TP)):
            P.register_parametrization(mod, "weight", _sym(nn))
            P.register_parametrization(mod, "weight", double(nn))
        assert repr(m) == repr(t)
        _close(m.weight, t.weight)
        original = m.parametrizations.weight.original
        LP.remove_parametrizations(m, "weight", leave_parametrized=leave)
        TP.remove_parametrizations(t, "weight", leave_parametrized=leave)
        assert type(m) is lnn.Linear and not hasattr(m, "parametrizations")
        assert m.weight is original        # the same Parameter (an optimizer holds it)
        assert isinstance(m.weight, lnn.Parameter)
        _same_state(m, t)


def test_right_inverse_returning_a_tuple(torch):
    import torch.nn.utils.parametrize as TP
    m, t = _pair(torch, lambda nn: nn.Linear(3, 4))
    LP.register_parametrization(m, "weight", _rank_one(lnn, lg))
    TP.register_parametrization(t, "weight", _rank_one(torch.nn, torch))
    assert list(m.state_dict()) == list(t.state_dict()) == [
        "bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    _same_state(m, t)
    _close(m.weight, t.weight)
    X3 = X[:, :3].copy()
    _steps(torch, m, t, X3)
    _same_state(m, t, atol=1e-4)
    assert _err(lambda: LP.remove_parametrizations(m, "weight", leave_parametrized=False)) \
        == _err(lambda: TP.remove_parametrizations(t, "weight", leave_parametrized=False))
    LP.remove_parametrizations(m, "weight")
    TP.remove_parametrizations(t, "weight")
    _same_state(m, t, atol=1e-4)


def test_parametrize_a_buffer_and_cached(torch):
    calls = []

    class Count(lnn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 3

    m = lnn.BatchNorm1d(3)
    LP.register_parametrization(m, "running_var", Count())
    assert "parametrizations.running_var.original" in m.state_dict()
    assert dict(m.parametrizations.running_var.named_buffers()) \
        and not list(m.parametrizations.running_var.parameters())
    calls.clear()
    with LP.cached():
        a, b = m.running_var, m.running_var
        with LP.cached():
            assert m.running_var is a
        assert m.running_var is a
    assert a is b and len(calls) == 1
    m.running_var
    assert len(calls) == 2


def test_deepcopy_and_pickle_of_a_parametrized_module(torch):
    m = LP.register_parametrization(lnn.Linear(4, 4), "weight", _sym(lnn))
    c = copy.deepcopy(m)
    assert type(c).__name__ == "ParametrizedLinear"
    _close(c.weight, m.weight)
    assert c.parametrizations.weight.original is not m.parametrizations.weight.original
    t = torch.nn.utils.parametrize.register_parametrization(torch.nn.Linear(4, 4), "weight",
                                                            _sym(torch.nn))
    assert _err(lambda: pickle.dumps(m)) == _err(lambda: pickle.dumps(t))


def test_parametrize_errors(torch):
    import torch.nn.utils.parametrize as TP
    m, t = _pair(torch, lambda nn: nn.Linear(3, 4))
    assert _err(lambda: LP.register_parametrization(m, "nope", _sym(lnn))) \
        == _err(lambda: TP.register_parametrization(t, "nope", _sym(torch.nn)))
    assert _err(lambda: LP.remove_parametrizations(m, "weight")) \
        == _err(lambda: TP.remove_parametrizations(t, "weight"))
    # a transpose changes the 4x3 weight's shape: refused unless unsafe
    def transpose(nn):
        class Transpose(nn.Module):
            def forward(self, X):
                return X.mT
        return Transpose()

    e = _err(lambda: LP.register_parametrization(m, "weight", transpose(lnn)))
    assert e == _err(lambda: TP.register_parametrization(t, "weight", transpose(torch.nn)))
    assert e[0] == "ValueError" and "may not change the shape" in e[1]
    assert not LP.is_parametrized(m) and type(m) is lnn.Linear
    LP.register_parametrization(m, "weight", transpose(lnn), unsafe=True)
    TP.register_parametrization(t, "weight", transpose(torch.nn), unsafe=True)
    _close(m.weight, t.weight)
    LP.remove_parametrizations(m, "weight", leave_parametrized=False)
    TP.remove_parametrizations(t, "weight", leave_parametrized=False)

    class NoInverse(lnn.Module):
        def forward(self, X):
            return X

    LP.register_parametrization(m, "weight", NoInverse())
    e = _err(lambda: setattr(m, "weight", lg.zeros(4, 3)))
    assert e == ("RuntimeError", "parametrization NoInverse does not implement right_inverse.")


# -- parametrizations.weight_norm ----------------------------------------------------------
@pytest.mark.parametrize("make, dim", [
    (lambda nn: nn.Linear(4, 3), 0), (lambda nn: nn.Linear(4, 3), 1),
    (lambda nn: nn.Linear(4, 3), None), (lambda nn: nn.Conv2d(2, 3, 2), 0),
    (lambda nn: nn.Conv2d(2, 3, 2), 2)])
def test_weight_norm_parametrization(torch, make, dim):
    m, t = _pair(torch, make)
    LPZ.weight_norm(m, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(t, dim=dim)
    assert repr(m) == repr(t)
    _same_state(m, t)
    _close(m.weight, t.weight)
    x = np.random.RandomState(3).randn(2, 2, 3, 3).astype(np.float32) \
        if isinstance(m, lnn.Conv2d) else X
    ll, tl = _steps(torch, m, t, x, opt="Adam", lr=0.05)
    _close(ll, tl, atol=1e-3, rtol=1e-4)
    _same_state(m, t, atol=1e-4)


def test_weight_norm_parametrization_loads_an_old_state_dict(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old = torch.nn.utils.weight_norm(torch.nn.Linear(4, 3))
    m = LPZ.weight_norm(lnn.Linear(4, 3))
    m.load_state_dict({k: _lg(v) for k, v in old.state_dict().items()})
    _close(m.weight, old.weight)


# -- parametrizations.orthogonal -----------------------------------------------------------
def _orthonormal_rows_or_cols(W, atol=1e-5):
    W = _np(W)
    G = W @ W.T if W.shape[0] <= W.shape[1] else W.T @ W
    np.testing.assert_allclose(G, np.eye(G.shape[0]), atol=atol)


def test_linalg_helpers_against_torch(torch):
    from lightgrad.nn.utils.parametrizations import _geqrf, _householder_product, _matrix_exp
    rs = np.random.RandomState(4)
    for scale in (0.1, 1.0, 6.0):
        A = (rs.randn(2, 5, 5) * scale).astype(np.float64)
        _close(_matrix_exp(_lg(A)), torch.matrix_exp(torch.tensor(A)), atol=1e-10, rtol=1e-10)
    A = rs.randn(6, 4)
    a, tau = _geqrf(_lg(A))
    ta, ttau = torch.geqrf(torch.tensor(A))
    _close(a, ta, atol=1e-12)
    _close(tau, ttau, atol=1e-12)
    _close(_householder_product(a, tau), torch.linalg.householder_product(ta, ttau),
           atol=1e-12)
    # the gradient of the composition matches torch's matrix_exp backward
    A = lg.tensor(rs.randn(4, 4) * 2, requires_grad=True)
    tA = torch.tensor(_np(A), requires_grad=True)
    (_matrix_exp(A) ** 2).sum().backward()
    (torch.matrix_exp(tA) ** 2).sum().backward()
    _close(A.grad, tA.grad, atol=1e-8, rtol=1e-8)


@pytest.mark.parametrize("shape, orth_map, triv", [
    ((4, 4), None, True), ((4, 4), "cayley", True), ((4, 4), "householder", True),
    ((4, 4), None, False), ((4, 4), "householder", False), ((3, 4), None, False),
    ((4, 6), "householder", False), ((6, 4), "cayley", False)])
def test_orthogonal_without_randomness_matches_torch(torch, shape, orth_map, triv):
    # square weights, or no trivialization: no random completion, nothing to copy
    m, t = _pair(torch, lambda nn: nn.Linear(shape[1], shape[0]))
    LPZ.orthogonal(m, orthogonal_map=orth_map, use_trivialization=triv)
    torch.nn.utils.parametrizations.orthogonal(t, orthogonal_map=orth_map,
                                               use_trivialization=triv)
    assert repr(m) == repr(t)
    _same_state(m, t, atol=1e-5)
    _close(m.weight, t.weight)
    _orthonormal_rows_or_cols(m.weight)
    x = X[:, :shape[1]].copy() if shape[1] <= 4 else np.tile(X, 2)[:, :shape[1]].copy()
    _steps(torch, m, t, x, n=4, lr=0.02)
    _same_state(m, t, atol=1e-4)
    _close(m.weight, t.weight, atol=1e-4)
    _orthonormal_rows_or_cols(m.weight)


@pytest.mark.parametrize("shape, orth_map", [((3, 5), None), ((5, 3), "matrix_exp"),
                                             ((2, 4), "cayley")])
def test_orthogonal_rectangular_with_trivialization(torch, shape, orth_map):
    # the random completion of `base` differs: start lightgrad from torch's state
    torch.manual_seed(0)
    t = torch.nn.utils.parametrizations.orthogonal(torch.nn.Linear(shape[1], shape[0]),
                                                   orthogonal_map=orth_map)
    m = LPZ.orthogonal(lnn.Linear(shape[1], shape[0]), orthogonal_map=orth_map)
    _orthonormal_rows_or_cols(m.weight)
    assert list(m.state_dict()) == list(t.state_dict())
    _load_from(m, t)
    _close(m.weight, t.weight)
    x = np.tile(X, 2)[:, :shape[1]].copy()
    _steps(torch, m, t, x, n=4, lr=0.02)
    _same_state(m, t, atol=1e-4)
    _orthonormal_rows_or_cols(m.weight)


def test_orthogonal_assign_and_errors(torch):
    m, t = _pair(torch, lambda nn: nn.Linear(4, 4))
    LPZ.orthogonal(m)
    torch.nn.utils.parametrizations.orthogonal(t)
    Q = np.linalg.qr(np.random.RandomState(5).randn(4, 4))[0].astype(np.float32)
    m.weight, t.weight = _lg(Q), torch.tensor(Q)
    _close(m.weight, Q)
    _same_state(m, t)
    a, b = lnn.Linear(4, 4), torch.nn.Linear(4, 4)
    assert _err(lambda: LPZ.orthogonal(a, "bias")) \
        == _err(lambda: torch.nn.utils.parametrizations.orthogonal(b, "bias"))
    assert _err(lambda: LPZ.orthogonal(a, "nope")) \
        == _err(lambda: torch.nn.utils.parametrizations.orthogonal(b, "nope"))
    assert _err(lambda: LPZ.orthogonal(a, orthogonal_map="qr")) \
        == _err(lambda: torch.nn.utils.parametrizations.orthogonal(b, orthogonal_map="qr"))


# -- parametrizations.spectral_norm --------------------------------------------------------
@pytest.mark.parametrize("make", [lambda nn: nn.Linear(5, 3),
                                  lambda nn: nn.ConvTranspose2d(3, 2, 2)])
def test_spectral_norm_parametrization(torch, make):
    torch.manual_seed(0)
    t = torch.nn.utils.parametrizations.spectral_norm(make(torch.nn))
    m = LPZ.spectral_norm(make(lnn))
    assert repr(m) == repr(t)
    assert list(m.state_dict()) == list(t.state_dict())
    _load_from(m, t)            # the same weight and starting u, v
    _close(m.weight, t.weight)  # train mode: one more power step in each
    _same_state(m, t)
    for _ in range(3):
        _close(m.weight, t.weight)
    _same_state(m, t)
    u = m.parametrizations.weight[0]._u.clone()
    m.eval()
    t.eval()
    _close(m.weight, t.weight)
    _close(m.parametrizations.weight[0]._u, u, atol=0)     # eval: no power step
    m.train()
    t.train()
    x = X5 if isinstance(m, lnn.Linear) else \
        np.random.RandomState(6).randn(2, 3, 3, 3).astype(np.float32)
    _steps(torch, m, t, x, n=3)
    _same_state(m, t, atol=1e-4)
    sigma = np.linalg.norm(_np(m.weight).reshape(_np(m.weight).shape[0], -1), 2)
    assert sigma < 1.2


def test_spectral_norm_of_a_vector_and_errors(torch):
    m, t = _pair(torch, lambda nn: nn.Linear(5, 3))
    LPZ.spectral_norm(m, "bias")
    torch.nn.utils.parametrizations.spectral_norm(t, "bias")
    _close(m.bias, t.bias)
    assert list(m.state_dict()) == list(t.state_dict())
    a, b = lnn.Linear(5, 3), torch.nn.Linear(5, 3)
    assert _err(lambda: LPZ.spectral_norm(a, "nope")) \
        == _err(lambda: torch.nn.utils.parametrizations.spectral_norm(b, "nope"))
    assert _err(lambda: LPZ.spectral_norm(a, n_power_iterations=0)) \
        == _err(lambda: torch.nn.utils.parametrizations.spectral_norm(b, n_power_iterations=0))
    assert _err(lambda: LPZ.spectral_norm(a, dim=2)) \
        == _err(lambda: torch.nn.utils.parametrizations.spectral_norm(b, dim=2))


# -- the hook-based weight_norm and spectral_norm ------------------------------------------
def test_old_weight_norm(torch):
    m, t = _pair(torch, lambda nn: nn.Linear(4, 3))
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        lnn.utils.weight_norm(m)
    with pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(t)
    _same_state(m, t)
    assert list(dict(m.named_parameters())) == list(dict(t.named_parameters()))
    _close(m.weight, t.weight)
    ll, tl = _steps(torch, m, t, X, opt="Adam", lr=0.05)
    _close(ll, tl, atol=1e-3, rtol=1e-4)
    _same_state(m, t, atol=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _err(lambda: lnn.utils.weight_norm(m)) \
            == _err(lambda: torch.nn.utils.weight_norm(t))
    lnn.utils.remove_weight_norm(m)
    torch.nn.utils.remove_weight_norm(t)
    _same_state(m, t, atol=1e-4)
    assert isinstance(m.weight, lnn.Parameter)
    assert _err(lambda: lnn.utils.remove_weight_norm(m)) \
        == _err(lambda: torch.nn.utils.remove_weight_norm(t))


def test_old_spectral_norm(torch):
    torch.manual_seed(0)
    t = torch.nn.utils.spectral_norm(torch.nn.Linear(5, 3))
    m = lnn.utils.spectral_norm(lnn.Linear(5, 3))
    assert list(m.state_dict()) == list(t.state_dict()) == [
        "bias", "weight_orig", "weight_u", "weight_v"]
    _load_from(m, t)
    for _ in range(3):      # train mode: a power step before each forward
        _close(m(_lg(X5)), t(torch.tensor(X5)))
        _same_state(m, t)
    m.eval()
    t.eval()
    _close(m(_lg(X5)), t(torch.tensor(X5)))
    _same_state(m, t)
    m.train()
    t.train()
    _steps(torch, m, t, X5)
    _same_state(m, t, atol=1e-4)
    assert _err(lambda: lnn.utils.spectral_norm(m)) == _err(lambda: torch.nn.utils.spectral_norm(t))
    lnn.utils.remove_spectral_norm(m)
    torch.nn.utils.remove_spectral_norm(t)
    _same_state(m, t, atol=1e-4)
    assert not m._state_dict_hooks and not m._load_state_dict_pre_hooks
    assert _err(lambda: lnn.utils.remove_spectral_norm(m)) \
        == _err(lambda: torch.nn.utils.remove_spectral_norm(t))


# -- optim.swa_utils -----------------------------------------------------------------------
def _bn_net(nn):
    return nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))


@pytest.mark.parametrize("kind", ["swa", "ema_multi", "ema_avg", "ema_buffers"])
def test_averaged_model(torch, kind):
    m, t = _pair(torch, _bn_net)

    def averaged(swa, model):
        kw = {"swa": {}, "ema_multi": {"multi_avg_fn": swa.get_ema_multi_avg_fn(0.9)},
              "ema_avg": {"avg_fn": swa.get_ema_avg_fn(0.8)},
              "ema_buffers": {"multi_avg_fn": swa.get_ema_multi_avg_fn(0.7),
                              "use_buffers": True}}[kind]
        return swa.AveragedModel(model, **kw)

    am, at = averaged(lswa, m), averaged(torch.optim.swa_utils, t)
    assert list(am.state_dict()) == list(at.state_dict())
    assert am.state_dict()["n_averaged"].dtype == lg.int64
    lopt, topt = lg.optim.SGD(m.parameters(), lr=0.1), torch.optim.SGD(t.parameters(), lr=0.1)
    rs = np.random.RandomState(7)
    for _ in range(4):
        x = rs.randn(8, 4).astype(np.float32)
        for mod, opt, xx in ((m, lopt, _lg(x)), (t, topt, torch.tensor(x))):
            opt.zero_grad()
            (mod(xx) ** 2).mean().backward()
            opt.step()
        am.update_parameters(m)
        at.update_parameters(t)
        _same_state(am, at, atol=1e-5)
    assert int(am.n_averaged) == 4
    x = rs.randn(3, 4).astype(np.float32)
    am.eval()
    at.eval()
    _close(am(_lg(x)), at(torch.tensor(x)), atol=1e-5)


def test_avg_fns_and_errors(torch):
    for name in ("get_ema_avg_fn", "get_ema_multi_avg_fn"):
        for d in (-0.1, 1.5):
            assert _err(lambda d=d, n=name: getattr(lswa, n)(d)) \
                == _err(lambda d=d, n=name: getattr(torch.optim.swa_utils, n)(d))
    a, b = np.float32([1., 2.]), np.float32([3., 6.])
    _close(lswa.get_swa_avg_fn()(_lg(a), _lg(b), 3),
           torch.optim.swa_utils.get_swa_avg_fn()(torch.tensor(a), torch.tensor(b), 3))
    la, ta = [_lg(a)], [torch.tensor(a)]
    lswa.get_swa_multi_avg_fn()(la, [_lg(b)], lg.tensor(2))
    torch.optim.swa_utils.get_swa_multi_avg_fn()(ta, [torch.tensor(b)], torch.tensor(2))
    _close(la[0], ta[0])
    def int_errors(lib, swa):       # torch refuses integer tensors in the SWA multi update
        fn = swa.get_swa_multi_avg_fn()
        return [_err(lambda n=n: fn([lib.tensor([4, 8])], [lib.tensor([8, 0])], n))
                for n in (1, lib.tensor(1))]

    errors = int_errors(lg, lswa)
    assert errors == int_errors(torch, torch.optim.swa_utils)
    assert errors[0][0] == "RuntimeError"
    li, ti = [lg.tensor([4, 8])], [torch.tensor([4, 8])]
    lswa.get_ema_multi_avg_fn(0.5)(li, [lg.tensor([8, 0])], 1)
    torch.optim.swa_utils.get_ema_multi_avg_fn(0.5)(ti, [torch.tensor([8, 0])], 1)
    _close(li[0], ti[0])
    assert _err(lambda: lswa.AveragedModel(lnn.Linear(1, 1), avg_fn=lswa.get_swa_avg_fn(),
                                           multi_avg_fn=lswa.get_swa_multi_avg_fn())) \
        == ("AssertionError", "Only one of avg_fn and multi_avg_fn should be provided")


@pytest.mark.parametrize("strategy, anneal", [("cos", 3), ("linear", 4), ("cos", 0),
                                              ("linear", 1)])
def test_swalr_trajectory(torch, strategy, anneal):
    def run(lib, nn):
        model = nn.Linear(2, 2)
        opt = lib.optim.SGD([{"params": [model.weight]}, {"params": [model.bias], "lr": 0.3}],
                            lr=0.5)
        sched = lib.optim.lr_scheduler.StepLR(opt, 3, 0.5)
        swa = lib.optim.swa_utils.SWALR(opt, swa_lr=[0.05, 0.01], anneal_epochs=anneal,
                                        anneal_strategy=strategy)
        lrs = []
        for epoch in range(8):
            opt.step()
            (swa if epoch >= 2 else sched).step()
            lrs.append(swa.get_last_lr() if epoch >= 2 else sched.get_last_lr())
        return lrs, swa

    llrs, lsched = run(lg, lnn)
    tlrs, tsched = run(torch, torch.nn)
    np.testing.assert_allclose(llrs, tlrs, rtol=1e-12)
    sd = lsched.state_dict()
    assert set(sd) == set(tsched.state_dict())
    assert "anneal_func" not in sd
    lsched.load_state_dict(sd)
    expected = lsched._cosine_anneal if strategy == "cos" else lsched._linear_anneal
    assert lsched.anneal_func is expected


def test_swalr_errors(torch):
    def make(lib):
        return lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.1)

    for kw in ({"anneal_strategy": "exp"}, {"anneal_epochs": -1}, {"anneal_epochs": 1.5}):
        assert _err(lambda kw=kw: lswa.SWALR(make(lg), 0.01, **kw)) \
            == _err(lambda kw=kw: torch.optim.swa_utils.SWALR(make(torch), 0.01, **kw))
    assert _err(lambda: lswa.SWALR(make(lg), [0.1, 0.2]))[0] == "ValueError"


def test_update_bn(torch):
    m, t = _pair(torch, _bn_net)
    rs = np.random.RandomState(8)
    data = [rs.randn(5, 4).astype(np.float32) for _ in range(3)]
    m.eval()
    t.eval()
    lswa.update_bn([(_lg(x), 0) for x in data], m)
    torch.optim.swa_utils.update_bn([(torch.tensor(x), 0) for x in data], t)
    _same_state(m, t, atol=1e-5)
    assert not m.training and m[1].momentum == 0.1
    assert int(m[1].num_batches_tracked) == 3
    # the cumulative average of the batch statistics
    h = [_np(m[0](_lg(x))) for x in data]
    _close(m[1].running_mean, np.mean([a.mean(0) for a in h], 0), atol=1e-5)
    am = lswa.AveragedModel(m)
    lswa.update_bn([_lg(x) for x in data], am)
    _close(am.module[1].running_mean, m[1].running_mean, atol=1e-6)
    lswa.update_bn([_lg(x) for x in data], lnn.Linear(4, 2))     # no BatchNorm: a no-op


def test_exports(torch):
    assert lnn.utils.weight_norm.__name__ == torch.nn.utils.weight_norm.__name__
    for name in ("weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"):
        assert callable(getattr(lnn.utils, name))
    assert lg.optim.swa_utils is lswa
    assert lnn.utils.parametrize is LP and lnn.utils.parametrizations is LPZ
    assert set(lswa.__all__) == set(torch.optim.swa_utils.__all__)
    assert set(LPZ.__all__) == set(torch.nn.utils.parametrizations.__all__)
    assert set(LP.__all__) == set(torch.nn.utils.parametrize.__all__)
