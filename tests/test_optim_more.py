"""Adadelta, Rprop, ASGD and LBFGS against torch.optim: trajectories step for step (with and
without lr schedules), state dicts, resuming from a state dict, errors and printing."""
import pickle

import numpy as np
import pytest

import lightgrad
from lightgrad import optim

from .test_optim import _error, _grad_of, _init_arrays

STEPS = 20
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64],
                                 ids=["float32", "float64"])

# (optimizer name, options, lr schedule as (scheduler name, options) or None)
CASES = [
    ("Adadelta", {}, None),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-4}, None),
    ("Adadelta", {"weight_decay": 0.1, "maximize": True}, None),
    ("Adadelta", {"lr": 0.8}, ("StepLR", {"step_size": 5, "gamma": 0.5})),
    ("Rprop", {}, None),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5)}, None),
    ("Rprop", {"lr": 0.05, "step_sizes": (1e-3, 0.08), "maximize": True}, None),
    ("Rprop", {"lr": 0.1}, ("ExponentialLR", {"gamma": 0.9})),   # lr only seeds step sizes
    ("ASGD", {}, None),
    ("ASGD", {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 5}, None),
    ("ASGD", {"lr": 0.05, "t0": 0, "weight_decay": 0.1, "maximize": True}, None),
    ("ASGD", {"lr": 0.05, "t0": 3, "lambd": 0.1}, ("StepLR", {"step_size": 4, "gamma": 0.5})),
]


def _tol(dtype):
    return dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-7, atol=1e-12)


def _compare_values(lv, tv, tol, where):
    """Equal state values: tensors (same dtype, close values), lists, or plain values."""
    if hasattr(tv, "numpy"):
        assert str(lv.dtype).split(".")[1] == str(tv.dtype).split(".")[1], where
        np.testing.assert_allclose(lv.numpy(), tv.numpy(), **tol, err_msg=where)
    elif isinstance(tv, (list, tuple)):
        assert type(lv) is type(tv) and len(lv) == len(tv), where
        for i, (a, b) in enumerate(zip(lv, tv)):
            _compare_values(a, b, tol, f"{where}[{i}]")
    elif isinstance(tv, float):
        assert isinstance(lv, float), where
        assert lv == pytest.approx(tv, rel=tol["rtol"], abs=tol["atol"]), where
    else:
        assert lv == tv and type(lv) is type(tv), where


def _compare_state(tsd, lsd, tol):
    assert lsd["param_groups"] == tsd["param_groups"]
    assert list(lsd["state"]) == list(tsd["state"])
    for k, tstate in tsd["state"].items():
        assert list(lsd["state"][k]) == list(tstate)   # the same keys, in the same order
        for key, tv in tstate.items():
            _compare_values(lsd["state"][k][key], tv, tol, f"state[{k}][{key!r}]")


def _optimizers(torch, name, kwargs, schedule, tp, lp):
    topt = getattr(torch.optim, name)(tp, **kwargs)
    lopt = getattr(optim, name)(lp, **kwargs)
    scheds = []
    if schedule is not None:
        sname, sargs = schedule
        scheds = [getattr(torch.optim.lr_scheduler, sname)(topt, **sargs),
                  getattr(optim.lr_scheduler, sname)(lopt, **sargs)]
    return topt, lopt, scheds


@DTYPES
@pytest.mark.parametrize("name,kwargs,schedule", CASES,
                         ids=[f"{n}-{'-'.join(list(kw) + ([s[0]] if s else [])) or 'plain'}"
                              for n, kw, s in CASES])
def test_trajectory_matches_torch(torch, name, kwargs, schedule, dtype):
    arrays = _init_arrays(dtype)
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    lp = [lightgrad.tensor(a.copy(), requires_grad=True) for a in arrays]
    topt, lopt, scheds = _optimizers(torch, name, kwargs, schedule, tp, lp)
    # negated under maximize, so that the trajectory stays bounded
    sign = -1.0 if kwargs.get("maximize") else 1.0
    for step in range(STEPS):
        for i, (t, p) in enumerate(zip(tp, lp)):
            if (step + i) % 7 == 6:
                t.grad = p.grad = None   # a parameter without a gradient is left alone
                continue
            t.grad = torch.from_numpy(_grad_of(t.detach().numpy(), step, i, sign))
            p.grad = lightgrad.tensor(_grad_of(p.detach().numpy(), step, i, sign))
        topt.step()
        lopt.step()
        for sched in scheds:
            sched.step()
        for t, p in zip(tp, lp):
            np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), **_tol(dtype),
                                       err_msg=f"{name} {kwargs} step {step}")
    _compare_state(topt.state_dict(), lopt.state_dict(), _tol(dtype))


def test_asgd_averages_after_t0():
    """'ax' follows the iterate through step t0 + 1 (mu = 1 / max(1, step - t0) is set after
    each step), then becomes the running mean of the iterates from there on."""
    p = lightgrad.tensor([1.0, -1.0], dtype=lightgrad.float64, requires_grad=True)
    opt = optim.ASGD([p], lr=0.1, t0=2, lambd=0.0)
    iterates = []
    for _ in range(6):
        p.grad = p.detach() * 2
        opt.step()
        iterates.append(p.detach().numpy().copy())
    # mu is a float32 scalar state: the mean's weights are rounded to float32
    np.testing.assert_allclose(opt.state[p]["ax"].numpy(), np.mean(iterates[3:], axis=0),
                               rtol=1e-7)
    assert opt.state[p]["mu"].item() == pytest.approx(1 / 4)


# -- LBFGS ------------------------------------------------------------------------------

def _rosenbrock(mod, ps):
    x, unused = ps   # `unused` never gets a gradient: LBFGS treats it as zero
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2 + (x[2:] ** 2).sum()


def _regression(mod, ps):
    w, b, v = ps
    rng = np.random.default_rng(5)
    x = mod.tensor(rng.standard_normal((6, 3)).astype(str(w.dtype).split(".")[1]))
    y = mod.sin(x.sum(1))
    return ((mod.tanh(x @ w + b) @ v - y) ** 2).mean() + 0.01 * (w ** 4).sum()


def _lbfgs_params(mod, problem, dtype):
    rng = np.random.default_rng(2)
    if problem is _rosenbrock:
        shapes = [(4,), (2,)]
        arrays = [np.array([-1.2, 1.0, 0.5, -0.3]), rng.standard_normal(2)]
    else:
        shapes = [(3, 4), (4,), (4,)]
        arrays = [rng.standard_normal(s) for s in shapes]
    return [mod.tensor(a.astype(dtype), requires_grad=True) for a in arrays]


F64, BOTH = ("float64",), ("float32", "float64")

# (problem, options, steps, dtypes). torch's CPU kernels fuse a * x + y into one rounding
# (FMA, e.g. in add(alpha=)) where NumPy rounds twice; LBFGS's many inner iterations amplify
# such last-bit differences, so float32 runs only the well-conditioned problem, with fewer
# inner iterations.
LBFGS_CASES = [
    (_rosenbrock, {}, 2, F64),
    (_rosenbrock, {"line_search_fn": "strong_wolfe"}, 3, F64),
    (_rosenbrock, {"line_search_fn": "strong_wolfe", "history_size": 2, "max_iter": 7}, 4, F64),
    (_rosenbrock, {"lr": 0.5, "max_iter": 3, "history_size": 2}, 6, F64),
    (_rosenbrock, {"max_iter": 4, "line_search_fn": "strong_wolfe"}, 1, BOTH),
    (_regression, {}, 3, F64),
    (_regression, {"line_search_fn": "strong_wolfe", "max_eval": 9}, 3, F64),
    (_regression, {"lr": 0.3, "tolerance_change": 1e-4, "history_size": 3}, 3, F64),
    (_regression, {"line_search_fn": "strong_wolfe", "tolerance_grad": 1e-3}, 3, F64),
    (_regression, {"max_iter": 4, "history_size": 2}, 3, BOTH),
    (_regression, {"max_iter": 8, "line_search_fn": "strong_wolfe"}, 1, BOTH),
]
LBFGS_RUNS = [(p, kw, n, dt) for p, kw, n, dts in LBFGS_CASES for dt in dts]


def _lbfgs_tol(dtype):
    return dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("problem,kwargs,steps,dtype", LBFGS_RUNS,
                         ids=[f"{p.__name__[1:]}-{'-'.join(kw) or 'plain'}-{dt}"
                              for p, kw, _, dt in LBFGS_RUNS])
def test_lbfgs_matches_torch(torch, problem, kwargs, steps, dtype):
    dtype = getattr(np, dtype)
    tp, lp = _lbfgs_params(torch, problem, dtype), _lbfgs_params(lightgrad, problem, dtype)
    topt, lopt = torch.optim.LBFGS(tp, **kwargs), optim.LBFGS(lp, **kwargs)

    def closure(mod, opt, ps, calls):
        def run():
            calls.append(mod.is_grad_enabled())
            opt.zero_grad()
            loss = problem(mod, ps)
            loss.backward()
            return loss
        return run

    tcalls, lcalls = [], []
    for step in range(steps):
        tloss = topt.step(closure(torch, topt, tp, tcalls))
        lloss = lopt.step(closure(lightgrad, lopt, lp, lcalls))
        np.testing.assert_allclose(lloss.item(), tloss.item(), **_lbfgs_tol(dtype))
        assert lcalls == tcalls, f"step {step}: a different number of evaluations"
        for t, p in zip(tp, lp):
            np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(),
                                       **_lbfgs_tol(dtype), err_msg=f"LBFGS {kwargs} step {step}")
    assert all(tcalls)   # the closure always runs with grad enabled
    # the history holds gradient differences, whose cancellation magnifies rounding
    # (float64: values near 1e-4 agree to ~3e-6 relative, which depends on the BLAS build)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-6, atol=1e-9)
    _compare_state(topt.state_dict(), lopt.state_dict(), tol)


def test_lbfgs_stops_at_an_optimum(torch):
    def run(mod, o):
        p = mod.zeros(3, requires_grad=True)
        opt = o.LBFGS([p])
        calls = []

        def closure():
            calls.append(1)
            opt.zero_grad()
            loss = (p ** 2).sum()
            loss.backward()
            return loss

        return opt.step(closure).item(), len(calls), list(opt.state[p])

    assert run(lightgrad, optim) == run(torch, torch.optim) == (0.0, 1, ["func_evals", "n_iter"])


# -- state dicts --------------------------------------------------------------------------

@pytest.mark.parametrize("name,kwargs", [("Adadelta", {"lr": 0.5, "weight_decay": 0.1}),
                                         ("Rprop", {"lr": 0.05}),
                                         ("ASGD", {"lr": 0.05, "t0": 2})])
def test_state_dict_resume_matches_uninterrupted(name, kwargs):
    arrays = _init_arrays(np.float32)

    def run(ps, opt, steps):
        for step in steps:
            for i, p in enumerate(ps):
                p.grad = lightgrad.tensor(_grad_of(p.detach().numpy(), step, i))
            opt.step()

    ref = [lightgrad.tensor(a.copy(), requires_grad=True) for a in arrays]
    run(ref, getattr(optim, name)(ref, **kwargs), range(12))
    ps = [lightgrad.tensor(a.copy(), requires_grad=True) for a in arrays]
    first = getattr(optim, name)(ps, **kwargs)
    run(ps, first, range(5))
    second = getattr(optim, name)(ps, lr=123.0)
    second.load_state_dict(pickle.loads(pickle.dumps(first.state_dict())))
    run(ps, second, range(5, 12))
    for p, r in zip(ps, ref):
        np.testing.assert_array_equal(p.detach().numpy(), r.detach().numpy())


def test_lbfgs_state_dict_resume_matches_uninterrupted():
    def run(ps, opt, steps):
        for _ in range(steps):
            def closure():
                opt.zero_grad()
                loss = _regression(lightgrad, ps)
                loss.backward()
                return loss
            opt.step(closure)

    kwargs = {"max_iter": 4, "history_size": 3, "line_search_fn": "strong_wolfe"}
    ref = _lbfgs_params(lightgrad, _regression, np.float64)
    run(ref, optim.LBFGS(ref, **kwargs), 4)
    ps = _lbfgs_params(lightgrad, _regression, np.float64)
    first = optim.LBFGS(ps, **kwargs)
    run(ps, first, 2)
    second = optim.LBFGS(ps, **kwargs)
    second.load_state_dict(pickle.loads(pickle.dumps(first.state_dict())))
    run(ps, second, 2)
    for p, r in zip(ps, ref):
        np.testing.assert_array_equal(p.detach().numpy(), r.detach().numpy())


# -- errors and printing ------------------------------------------------------------------

ERROR_CASES = [
    lambda m, o, p: o.Adadelta([p[0]], lr=-0.1),
    lambda m, o, p: o.Adadelta([p[0]], rho=1.5),
    lambda m, o, p: o.Adadelta([p[0]], rho=-0.1),
    lambda m, o, p: o.Adadelta([p[0]], eps=-1.0),
    lambda m, o, p: o.Adadelta([p[0]], weight_decay=-1.0),
    lambda m, o, p: o.Adadelta([p[0]], lr=m.tensor([0.1, 0.2])),
    lambda m, o, p: o.Rprop([p[0]], lr=-0.1),
    lambda m, o, p: o.Rprop([p[0]], etas=(1.5, 2.0)),
    lambda m, o, p: o.Rprop([p[0]], etas=(0.5, 0.9)),
    lambda m, o, p: o.Rprop([p[0]], etas=(0.0, 1.2)),
    lambda m, o, p: o.Rprop([], lr=0.1),
    lambda m, o, p: o.ASGD([p[0]], lr=-0.1),
    lambda m, o, p: o.ASGD([p[0]], weight_decay=-0.1),
    lambda m, o, p: o.LBFGS([p[0]], lr=-1.0),
    lambda m, o, p: o.LBFGS([{"params": [p[0]]}, {"params": [p[1]], "lr": 0.1}]),
    lambda m, o, p: o.LBFGS(p).step(),
    lambda m, o, p: o.LBFGS(p, line_search_fn="backtracking").step(_closure(p)),
]


def _closure(ps):
    def closure():
        loss = sum((q ** 2).sum() for q in ps)
        loss.backward()
        return loss
    return closure


@pytest.mark.parametrize("case", range(len(ERROR_CASES)))
def test_errors_match_torch(torch, case):
    fn = ERROR_CASES[case]

    def params(mod):
        return [mod.ones(2, requires_grad=True), mod.ones(3, requires_grad=True)]

    expected = _error(lambda: fn(torch, torch.optim, params(torch)))
    assert expected is not None
    assert _error(lambda: fn(lightgrad, optim, params(lightgrad))) == expected


@pytest.mark.parametrize("name", ["Adadelta", "Rprop", "ASGD", "LBFGS"])
def test_repr_and_defaults_match_torch(torch, name):
    def build(mod, o):
        a, b = mod.ones(2, requires_grad=True), mod.ones(1, requires_grad=True)
        if name == "LBFGS":
            return o.LBFGS([a, b], history_size=5, line_search_fn="strong_wolfe")
        return getattr(o, name)([{"params": [a]}, {"params": [b], "lr": 0.5}])

    t, lg = build(torch, torch.optim), build(lightgrad, optim)
    assert repr(lg) == repr(t)
    assert lg.defaults == t.defaults


def test_namespace():
    assert {"Adadelta", "Rprop", "ASGD", "LBFGS"} <= set(optim.__all__)
    for name in ("Adadelta", "Rprop", "ASGD", "LBFGS"):
        assert issubclass(getattr(optim, name), optim.Optimizer)
