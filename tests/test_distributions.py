"""lightgrad.distributions against torch.distributions: densities, moments, cdfs and KL
divergences with their gradients, reparameterized sampling, sample shapes and statistics,
validation errors and reprs. Every distribution is built by one function used with both
libraries (`mod` is lightgrad or torch), from the same float64 parameters."""
import math
import warnings

import numpy as np
import pytest

import lightgrad as lg
from lightgrad.autograd import gradcheck
from lightgrad.distributions import _special, constraints, kl

D = lg.distributions
rs = np.random.RandomState(0)


def _cov(mod, a):
    """A positive definite matrix from an unconstrained one."""
    return a @ a.mT + mod.eye(a.shape[-1], dtype=a.dtype)


def _tril(mod, a):
    """A lower Cholesky factor (positive diagonal) from an unconstrained matrix."""
    return mod.tril(a, -1) + mod.diag_embed(a.diagonal(dim1=-2, dim2=-1).exp())


# name: (builder(mod, params), {param: array (unconstrained where the builder maps it)}, value)
POS = rs.uniform(0.5, 3.0, (2, 3))
LOW, WIDTH = rs.randn(3), rs.uniform(1.0, 2.0, 3)
CASES = {
    "Normal": (lambda m, p: m.distributions.Normal(p["loc"], p["scale"]),
               {"loc": rs.randn(2, 3), "scale": POS}, rs.randn(4, 2, 3)),
    "Normal_scalar": (lambda m, p: m.distributions.Normal(p["loc"], 2.0),
                      {"loc": rs.randn(3)}, rs.randn(3)),
    "Bernoulli_probs": (lambda m, p: m.distributions.Bernoulli(probs=p["probs"]),
                        {"probs": rs.uniform(0.1, 0.9, (2, 3))},
                        rs.randint(0, 2, (4, 2, 3)).astype(float)),
    "Bernoulli_logits": (lambda m, p: m.distributions.Bernoulli(logits=p["logits"]),
                         {"logits": np.array([0.0, -1.5, 2.0])}, np.array([1.0, 0.0, 1.0])),
    "Categorical_probs": (lambda m, p: m.distributions.Categorical(probs=p["probs"]),
                          {"probs": rs.uniform(0.1, 1.0, (2, 4))}, rs.randint(0, 4, (3, 2))),
    "Categorical_logits": (lambda m, p: m.distributions.Categorical(logits=p["logits"]),
                           {"logits": rs.randn(2, 4)}, rs.randint(0, 4, (3, 2))),
    "Uniform": (lambda m, p: m.distributions.Uniform(p["low"], p["low"] + p["width"]),
                {"low": LOW, "width": WIDTH}, LOW + rs.uniform(0.0, 1.0, (4, 3)) * WIDTH),
    "Beta": (lambda m, p: m.distributions.Beta(p["c1"], p["c0"]),
             {"c1": POS, "c0": POS[::-1].copy()}, rs.uniform(0.05, 0.95, (2, 3))),
    "Gamma": (lambda m, p: m.distributions.Gamma(p["conc"], p["rate"]),
              {"conc": POS, "rate": rs.uniform(0.5, 2.0, (2, 3))}, rs.uniform(0.1, 4, (5, 2, 3))),
    "Gamma_0d": (lambda m, p: m.distributions.Gamma(p["conc"], p["rate"]),
                 {"conc": np.array(0.8), "rate": np.array(1.3)}, rs.uniform(0.1, 4, 4)),
    "Beta_0d": (lambda m, p: m.distributions.Beta(p["c1"], 2.0), {"c1": np.array(0.6)},
                rs.uniform(0.05, 0.95, 4)),
    "Dirichlet": (lambda m, p: m.distributions.Dirichlet(p["conc"]),
                  {"conc": rs.uniform(0.5, 3.0, (2, 4))}, rs.dirichlet(np.ones(4), (3, 2))),
    "MVN_cov": (lambda m, p: m.distributions.MultivariateNormal(
        p["loc"], covariance_matrix=_cov(m, p["a"])),
        {"loc": rs.randn(2, 3), "a": rs.randn(3, 3)}, rs.randn(4, 2, 3)),
    "MVN_precision": (lambda m, p: m.distributions.MultivariateNormal(
        p["loc"], precision_matrix=_cov(m, p["a"])),
        {"loc": rs.randn(3), "a": rs.randn(2, 3, 3)}, rs.randn(4, 1, 3)),
    "MVN_scale_tril": (lambda m, p: m.distributions.MultivariateNormal(
        p["loc"], scale_tril=_tril(m, p["a"])),
        {"loc": rs.randn(3), "a": rs.randn(3, 3)}, rs.randn(5, 3)),
    "Independent": (lambda m, p: m.distributions.Independent(
        m.distributions.Normal(p["loc"], p["scale"]), 1),
        {"loc": rs.randn(2, 3), "scale": POS}, rs.randn(4, 2, 3)),
}


def _params(mod, arrays):
    return {k: mod.tensor(v, dtype=mod.float64, requires_grad=True) for k, v in arrays.items()}


def _both(torch, name):
    build, arrays, value = CASES[name]
    pl, pt = _params(lg, arrays), _params(torch, arrays)
    return build(lg, pl), build(torch, pt), pl, pt, value


def _value(mod, value):
    dtype = mod.int64 if value.dtype.kind == "i" else mod.float64
    return mod.tensor(value, dtype=dtype)


def _close(a, b, rtol=1e-7, atol=1e-9):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


def _grads_match(out_l, out_t, pl, pt, rtol=1e-6, atol=1e-8):
    names = list(pl)
    gl = lg.autograd.grad(out_l.sum(), [pl[k] for k in names], allow_unused=True,
                         retain_graph=True)
    gt = torch_grad(out_t, [pt[k] for k in names])
    for k, a, b in zip(names, gl, gt):
        assert (a is None) == (b is None), k
        if a is not None:
            _close(a, b, rtol, atol)


@pytest.fixture
def torch(torch):
    """torch with argument validation at its default (on unless -O). Importing
    torch._dynamo, as any torch.compile in the suite does, turns it off for the process."""
    was = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(__debug__)
    yield torch
    torch.distributions.Distribution.set_default_validate_args(was)


def torch_grad(out, inputs):
    import torch
    return torch.autograd.grad(out.sum(), inputs, allow_unused=True, retain_graph=True)


def _try(f):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return f()
    except NotImplementedError:
        return None


@pytest.mark.parametrize("name", CASES)
def test_log_prob_entropy_and_moments_match_torch(torch, name):
    dl, dt, pl, pt, value = _both(torch, name)
    assert dl.batch_shape == tuple(dt.batch_shape) and dl.event_shape == tuple(dt.event_shape)
    assert dl.has_rsample == dt.has_rsample and repr(dl) == repr(dt).replace("torch.", "lightgrad.")
    for what in ("log_prob", "entropy", "mean", "variance", "stddev", "mode", "cdf", "icdf",
                 "perplexity"):
        def get(d, mod, what=what):
            if what in ("log_prob", "cdf"):
                return getattr(d, what)(_value(mod, value))
            if what == "icdf":
                return d.icdf(mod.full(tuple(d.batch_shape), 0.3, dtype=mod.float64))
            attr = getattr(d, what)
            return attr() if callable(attr) else attr
        ot, ol = _try(lambda: get(dt, torch)), _try(lambda: get(dl, lg))
        assert (ot is None) == (ol is None), what
        if ot is None:
            continue
        assert tuple(ol.shape) == tuple(ot.shape) and str(ol.dtype)[10:] == str(ot.dtype)[6:]
        _close(ol, ot)
        if ot.requires_grad and ot.dtype == torch.float64 and not ot.isnan().any():
            try:
                torch_grad(ot, list(pt.values()))
            except NotImplementedError as e:    # Gamma's cdf in the concentration
                with pytest.raises(NotImplementedError, match=str(e)):
                    _grads_match(ol, ot, pl, pt)
                continue
            _grads_match(ol, ot, pl, pt)


SPECIAL_X = np.array([1e-3, 0.3, 1.0, 2.5, 7.9, 12.0, 150.0, -0.4, -3.7])


@pytest.mark.parametrize("fn", ["lgamma", "digamma", "polygamma1", "polygamma2"])
def test_special_functions_match_torch_with_gradients(torch, fn):
    def call(mod, x):
        if fn.startswith("polygamma"):
            return (_special if mod is lg else torch).polygamma(int(fn[-1]), x)
        return getattr(_special if mod is lg else torch, fn)(x)
    xl = lg.tensor(SPECIAL_X, requires_grad=True)
    xt = torch.tensor(SPECIAL_X, requires_grad=True)
    _close(call(lg, xl), call(torch, xt), rtol=1e-9)
    _grads_match(call(lg, xl), call(torch, xt), {"x": xl}, {"x": xt}, rtol=1e-8)
    pos = lg.tensor([0.4, 1.5, 6.0], dtype=lg.float64, requires_grad=True)
    assert lg.autograd.gradgradcheck(lambda x: call(lg, x), (pos,))
    assert call(lg, lg.tensor([2.0])).dtype == lg.float32


def test_special_function_edges_match_torch(torch):
    edges = [0.0, -0.0, -1.0, -2.0, float("inf"), float("-inf"), float("nan")]
    for name in ("lgamma", "digamma"):
        got = getattr(_special, name)(lg.tensor(edges, dtype=lg.float64)).numpy()
        ref = getattr(torch, name)(torch.tensor(edges, dtype=torch.float64)).numpy()
        np.testing.assert_array_equal(got, ref)
    a = np.array([0.0, 1.0, 2.0, 0.0, -1.0, 1.0, 0.5, 1e3, 30.0])
    x = np.array([1.0, 0.0, np.inf, 0.0, 1.0, -1.0, 0.2, 1010.0, 25.0])
    _close(_special.gammainc(lg.tensor(a), lg.tensor(x)),
           torch.special.gammainc(torch.tensor(a), torch.tensor(x)), rtol=1e-8)


def test_gammainc_gradients_as_torch(torch):
    a = lg.tensor([0.7, 3.0], dtype=lg.float64)
    x = lg.tensor([0.5, 4.0], dtype=lg.float64, requires_grad=True)
    assert gradcheck(lambda x: _special.gammainc(a, x), (x,))
    a.requires_grad_()
    with pytest.raises(NotImplementedError, match="the derivative for 'igamma: input' is not"):
        _special.gammainc(a, x).sum().backward()


# -- KL divergence ----------------------------------------------------------------------------
def _d(m, kind, p, s):
    """A distribution of family `kind` from the params p whose names start with s."""
    D_ = m.distributions
    g = lambda k: p[s + k]                      # noqa: E731
    return {"N": lambda: D_.Normal(g("loc"), g("scale")),
            "B": lambda: D_.Bernoulli(logits=g("logits")),
            "C": lambda: D_.Categorical(logits=g("logits")),
            "U": lambda: D_.Uniform(g("low"), g("low") + g("width")),
            "Be": lambda: D_.Beta(g("c1"), g("c0")),
            "G": lambda: D_.Gamma(g("conc"), g("rate")),
            "Di": lambda: D_.Dirichlet(g("conc")),
            "M": lambda: D_.MultivariateNormal(g("loc"), scale_tril=_tril(m, g("a"))),
            "I": lambda: D_.Independent(D_.Normal(g("loc"), g("scale")), 1)}[kind]()


def _kl_params(kind, s, shift=0.0):
    u = lambda *shape: rs.uniform(0.5, 2.5, shape)     # noqa: E731
    arrays = {"N": {"loc": rs.randn(3), "scale": u(3)}, "B": {"logits": rs.randn(3)},
              "C": {"logits": rs.randn(2, 4)}, "Be": {"c1": u(3), "c0": u(3)},
              "U": {"low": rs.uniform(0.1, 0.3, 3) - shift, "width": rs.uniform(0.2, 0.6, 3)
                    + 2 * shift},
              "G": {"conc": u(3), "rate": u(3)}, "Di": {"conc": u(2, 4)},
              "M": {"loc": rs.randn(2, 3), "a": rs.randn(3, 3)},
              "I": {"loc": rs.randn(2, 3), "scale": u(2, 3)}}[kind]
    return {s + k: v for k, v in arrays.items()}


KL_PAIRS = ["N-N", "B-B", "C-C", "U-U", "Be-Be", "G-G", "Di-Di", "M-M", "I-I", "Be-G", "Be-N",
            "Be-U", "G-N", "G-Be", "G-U", "N-Be", "N-G", "N-U", "U-Be", "U-G", "U-N"]


@pytest.mark.parametrize("pair", KL_PAIRS)
def test_kl_divergence_matches_torch_with_gradients(torch, pair):
    kp, kq = pair.split("-")
    arrays = {**_kl_params(kp, "p_"), **_kl_params(kq, "q_", shift=0.5 if kq == "U" else 0.0)}
    if kp == "U" and kq == "Be":
        arrays["q_c1"] = arrays["q_c1"][:3]
    pl, pt = _params(lg, arrays), _params(torch, arrays)
    out_l = D.kl_divergence(_d(lg, kp, pl, "p_"), _d(lg, kq, pl, "q_"))
    out_t = torch.distributions.kl_divergence(_d(torch, kp, pt, "p_"), _d(torch, kq, pt, "q_"))
    assert tuple(out_l.shape) == tuple(out_t.shape)
    _close(out_l, out_t)
    if out_t.isfinite().all() and out_t.requires_grad:
        _grads_match(out_l, out_t, pl, pt)


def test_kl_infinite_where_the_support_is_not_covered(torch):
    cases = [("U", dict(low=[0.0, 0.0], high=[1.0, 1.0]), dict(low=[0.5, -1.0], high=[2.0, 2.0])),
             ("B", dict(probs=[0.0, 0.3, 1.0]), dict(probs=[0.5, 0.0, 1.0])),
             ("C", dict(probs=[[0.5, 0.5, 0.0]]), dict(probs=[[0.0, 0.5, 0.5]]))]
    for kind, p, q in cases:
        name = {"U": "Uniform", "B": "Bernoulli", "C": "Categorical"}[kind]
        make = lambda m, a, name=name: getattr(m.distributions, name)(     # noqa: E731
            **{k: m.tensor(v, dtype=m.float64) for k, v in a.items()})
        _close(D.kl_divergence(make(lg, p), make(lg, q)),
               torch.distributions.kl_divergence(make(torch, p), make(torch, q)))


def test_kl_dispatch_registration_and_errors(torch):
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p "
                                                  "type Normal and q type Categorical"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Categorical(lg.ones(3)))
    with pytest.raises(NotImplementedError):   # Independent pairs must reinterpret alike
        D.kl_divergence(D.Independent(D.Normal(lg.zeros(2, 3), 1.0), 1),
                        D.Independent(D.Normal(lg.zeros(2, 3), 1.0), 2))

    class MyNormal(D.Normal):
        pass

    p, q = MyNormal(0.0, 1.0), D.Normal(1.0, 2.0)
    _close(D.kl_divergence(p, q), D.kl_divergence(D.Normal(0.0, 1.0), q))   # falls back
    try:
        D.register_kl(MyNormal, D.Normal)(lambda p, q: lg.tensor(42.0))
        assert D.kl_divergence(p, q).item() == 42.0
    finally:
        del kl._KL_REGISTRY[MyNormal, D.Normal]
        kl._KL_MEMOIZE.clear()
    # the Bregman divergence of exponential families agrees with the closed forms
    for a, b in [(D.Normal(lg.tensor([0.3]), lg.tensor([1.2])), D.Normal(-1.0, 0.7)),
                 (D.Gamma(lg.tensor([2.0]), 1.5), D.Gamma(lg.tensor([0.7]), 0.4)),
                 (D.Beta(lg.tensor([2.0]), 1.5), D.Beta(lg.tensor([0.7]), 3.0))]:
        _close(kl._kl_expfamily_expfamily(a, b), D.kl_divergence(a, b), rtol=1e-5)
        if not isinstance(a, D.Beta):   # Beta has no carrier measure (nor has torch's)
            _close(a.entropy(), D.ExponentialFamily.entropy(a), rtol=1e-5)


# -- sampling ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CASES)
def test_sample_shapes_dtypes_and_support(torch, name):
    dl, dt, _, _, _ = _both(torch, name)
    for shape in ((), (5,), (2, 3)):
        s = dl.sample(shape)
        expected = dt.sample(shape)
        assert tuple(s.shape) == tuple(expected.shape) and str(s.dtype)[10:] == \
            str(expected.dtype)[6:]
        assert not s.requires_grad
        assert bool(dl.support.check(s).all())
        if dl.has_rsample:
            r = dl.rsample(shape)
            assert tuple(r.shape) == tuple(expected.shape) and r.requires_grad
    if not dl.has_rsample:
        with pytest.raises(NotImplementedError):
            dl.rsample()
    assert D.Normal(lg.zeros(2, dtype=lg.float32), 1.0).sample().dtype == lg.float32
    assert D.Gamma(lg.ones(2, dtype=lg.float32), 1.0).rsample().dtype == lg.float32


@pytest.mark.parametrize("name", CASES)
def test_sample_statistics_match_the_moments(name):
    build, arrays, _ = CASES[name]
    d = build(lg, {k: lg.tensor(v) for k, v in arrays.items()})
    lg.manual_seed(1)
    s = d.sample((40000,)).double()
    if name.startswith("Categorical"):
        freq = lg.stack([(s == k).double().mean(0) for k in range(4)], -1)
        _close(freq, d.probs, atol=0.01)
        return
    _close(s.mean(0), d.mean, rtol=0, atol=0.03 * float(d.stddev.max()))
    _close(s.var(0), d.variance, rtol=0.05, atol=1e-3)


def test_sampling_is_seeded_by_manual_seed():
    for d in (D.Normal(0.0, 1.0), D.Gamma(lg.tensor([0.3, 4.0]), 1.0), D.Categorical(lg.ones(5)),
              D.Dirichlet(lg.ones(3)), D.Bernoulli(0.4), D.Beta(2.0, 3.0)):
        lg.manual_seed(7)
        a = d.sample((10,))
        lg.manual_seed(7)
        assert lg.equal(a, d.sample((10,)))


@pytest.mark.parametrize("name", ["Normal", "Uniform", "MVN_scale_tril", "MVN_cov",
                                  "Independent"])
def test_rsample_gradcheck(name):
    build, arrays, _ = CASES[name]
    names = list(arrays)
    params = [lg.tensor(arrays[k], requires_grad=True) for k in names]

    def draw(*ps):
        lg.manual_seed(3)       # the same noise at each evaluation
        return build(lg, dict(zip(names, ps))).rsample((3,))
    assert gradcheck(draw, tuple(params))


def test_gamma_rsample_gradient_is_torchs_implicit_gradient(torch):
    alpha = lg.tensor([0.05, 0.4, 1.0, 3.0, 9.5, 30.0, 300.0], dtype=lg.float64,
                      requires_grad=True)
    rate = lg.tensor(1.7, dtype=lg.float64, requires_grad=True)
    x = D.Gamma(alpha, rate).rsample((200,))
    x.sum().backward()
    std = (x * rate).detach()                   # the standard Gamma draws
    ref = torch._standard_gamma_grad(torch.tensor(alpha.detach().numpy()).expand(200, 7),
                                     torch.tensor(std.numpy()))
    _close(alpha.grad, (ref / 1.7).sum(0), rtol=1e-10)
    _close(rate.grad, (-std / 1.7 ** 2).sum(), rtol=1e-10)
    # it is the implicit derivative -dP(alpha, x)/dalpha / pdf(x): check it by finite
    # differences of the CDF at the draw
    a = alpha.detach().expand(200, 7)
    h = 1e-6 * a
    dcdf = (_special.gammainc(a + h, std) - _special.gammainc(a - h, std)) / (2 * h)
    pdf = lg.exp(lg.xlogy(a - 1, std) - std - _special.lgamma(a))
    implicit = -dcdf / pdf
    ok = (pdf > 1e-8) & (std > 1e-30)
    _close(_special.standard_gamma_grad(a, std)[ok], implicit[ok], rtol=5e-3, atol=1e-6)


@pytest.mark.parametrize("family", ["Gamma", "Beta", "Dirichlet"])
def test_implicit_rsample_gradients_are_unbiased(family):
    """d/dtheta of the mean of many rsample draws ~ d/dtheta of the exact mean."""
    lg.manual_seed(0)
    if family == "Dirichlet":
        theta = [lg.tensor([0.6, 2.0, 3.5], requires_grad=True)]
        make = lambda c: D.Dirichlet(c)             # noqa: E731
    else:
        theta = [lg.tensor([0.7, 2.5], requires_grad=True),
                 lg.tensor([1.5, 0.8], requires_grad=True)]
        make = getattr(D, family)
    d = make(*theta)
    x = d.rsample((100000,))
    got = lg.autograd.grad((x + x ** 2).mean(0).sum(), theta)
    exact = lg.autograd.grad((d.mean + d.variance + d.mean ** 2).sum(), theta)
    for g, e in zip(got, exact):
        _close(g, e, rtol=0.03, atol=0.01)


# -- construction, validation, reprs ----------------------------------------------------------
ERRORS = [
    "D.Normal(T([0., 0.]), T([1., -1.]))",
    "D.Normal(0., 1.).log_prob(1.)",
    "D.Normal(T([0., 0.]), T([1., 1.])).log_prob(torch.zeros(3))",
    "D.Gamma(T([1., 2.]), 1.).log_prob(T([-1., 2.]))",
    "D.Uniform(0., 1.).log_prob(T(2.))",
    "D.Uniform(T([0., 1.]), T([1., 0.5]))",
    "D.Bernoulli(probs=0.3, logits=0.1)",
    "D.Bernoulli(T([0.5, 2.]))",
    "D.Bernoulli(T([0.5, 0.2])).log_prob(T([0.5, 1.]))",
    "D.Categorical(T([0.5, -0.5]))",
    "D.Categorical(T(1.))",
    "D.Categorical(logits=T([0., 1.])).log_prob(T([3]))",
    "D.Dirichlet(T(1.))",
    "D.Dirichlet(T([1., 2.])).log_prob(T([0.5, 0.6]))",
    "D.Beta(T([1., -2.]), 1.)",
    "D.MultivariateNormal(torch.zeros(2), torch.eye(2) * -1)",
    "D.MultivariateNormal(torch.zeros(2), scale_tril=T([[1., 1.], [0., 1.]]))",
    "D.MultivariateNormal(torch.zeros(2))",
    "D.MultivariateNormal(T(0.), torch.eye(2))",
    "D.MultivariateNormal(torch.zeros(2), precision_matrix=T([1.]))",
    "D.MultivariateNormal(torch.zeros(2), torch.eye(2)).log_prob(torch.zeros(3))",
    "D.Independent(D.Normal(torch.zeros(2), 1.), 2)",
    "D.Normal('a', 1.)",
    "D.Normal(torch.ones(2), torch.ones(3))",
    "D.Normal(0., 1.).mode",
    "D.Uniform(0., 1.).expand((2,)).mode",
    "D.Normal(0., T(-1.), validate_args=False).scale",
]


@pytest.mark.parametrize("expr", ERRORS)
def test_errors_and_messages_match_torch(torch, expr):
    def run(mod):
        env = {"D": mod.distributions, "torch": mod,
               "T": lambda v: mod.tensor(v, dtype=mod.float32)}
        try:
            return ("value", repr(eval(expr, env)))
        except Exception as e:  # noqa: BLE001 - the error is what is compared
            return (type(e).__name__, str(e))
    got, want = run(lg), run(torch)
    assert got == (want[0], want[1].replace("torch.Size", "lightgrad.Size")), expr


def test_default_validation_can_be_turned_off(torch):
    assert D.Distribution._validate_args is __debug__
    assert D.Distribution._validate_args is torch.distributions.Distribution._validate_args
    D.Distribution.set_default_validate_args(False)
    try:
        assert D.Normal(0.0, -1.0).scale.item() == -1.0
        assert D.Uniform(0.0, 1.0).log_prob(lg.tensor(2.0)).item() == -math.inf
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args(1.5)
    assert not D.Normal(0.0, 1.0, validate_args=False)._validate_args


@pytest.mark.parametrize("name", CASES)
def test_expand(torch, name):
    dl, dt, _, _, value = _both(torch, name)
    el, et = dl.expand((5,) + tuple(dl.batch_shape)), dt.expand((5,) + tuple(dt.batch_shape))
    assert type(el) is type(dl) and el.batch_shape == tuple(et.batch_shape)
    assert el.event_shape == tuple(et.event_shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _close(el.log_prob(_value(lg, value[:1] if value.ndim else value)),
               et.log_prob(_value(torch, value[:1] if value.ndim else value)))
    assert tuple(el.sample((2,)).shape) == tuple(et.sample((2,)).shape)


def test_module_layout_and_constraints(torch):
    from lightgrad.distributions import Categorical, Normal
    from lightgrad.distributions.kl import kl_divergence
    from lightgrad.distributions.normal import Normal as Normal2
    assert Normal is Normal2 and Categorical is D.categorical.Categorical
    assert kl_divergence is D.kl_divergence and lg.distributions.constraints is constraints
    for name in ("real", "positive", "simplex", "unit_interval", "real_vector", "boolean",
                 "lower_cholesky", "positive_definite", "nonnegative_integer", "symmetric"):
        assert repr(getattr(constraints, name)) == repr(getattr(torch.distributions.constraints,
                                                                 name))
    assert repr(D.Uniform.support) == repr(torch.distributions.Uniform.support)
    assert repr(D.Categorical(lg.ones(3)).support) == "IntegerInterval(lower_bound=0, " \
                                                       "upper_bound=2)"
    assert constraints.is_dependent(D.Categorical.support)
    checks = {"positive": [1.0, 0.0, -1.0], "nonnegative": [1.0, 0.0, -1.0],
              "unit_interval": [0.5, 1.0, 1.5], "boolean": [0.0, 1.0, 0.5],
              "nonnegative_integer": [2.0, 0.5, -1.0], "real": [1.0, math.nan, math.inf]}
    for name, values in checks.items():
        got = getattr(constraints, name).check(lg.tensor(values)).tolist()
        assert got == getattr(torch.distributions.constraints, name).check(
            torch.tensor(values)).tolist()
    m = [[[1.0, 0.0], [0.5, 2.0]], [[1.0, 2.0], [0.0, 1.0]], [[-1.0, 0.0], [0.0, 1.0]]]
    for name in ("lower_cholesky", "lower_triangular", "positive_definite", "symmetric",
                 "square", "positive_semidefinite"):
        got = getattr(constraints, name).check(lg.tensor(m)).tolist()
        assert got == getattr(torch.distributions.constraints, name).check(
            torch.tensor(m)).tolist(), name
    simplex = [[0.2, 0.8], [0.5, 0.6], [-0.1, 1.1]]
    assert constraints.simplex.check(lg.tensor(simplex)).tolist() == [True, False, False]


def test_lazy_parameters_and_enumerate_support(torch):
    logits = lg.tensor([0.3, -1.0], requires_grad=True)
    b = D.Bernoulli(logits=logits)
    assert "probs" not in b.__dict__
    p = b.probs
    assert b.probs is p and p.requires_grad          # computed once, differentiable
    p.sum().backward()
    _close(logits.grad, lg.sigmoid(logits) * (1 - lg.sigmoid(logits)))
    for d, t in [(D.Bernoulli(lg.tensor([0.2, 0.5])),
                  torch.distributions.Bernoulli(torch.tensor([0.2, 0.5]))),
                 (D.Categorical(lg.ones(2, 3)), torch.distributions.Categorical(torch.ones(2, 3)))]:
        for expand in (True, False):
            got, want = d.enumerate_support(expand), t.enumerate_support(expand)
            assert got.tolist() == want.tolist() and tuple(got.shape) == tuple(want.shape)
    with pytest.warns(FutureWarning, match="`sample_n\\(n\\)` will be deprecated"):
        assert tuple(D.Normal(lg.zeros(2), 1.0).sample_n(3).shape) == (3, 2)
