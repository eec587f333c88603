"""lightgrad.optim against torch.optim: trajectories step for step, state dicts, param
groups, errors, zero_grad, hooks and printing."""
import pickle
import warnings

import numpy as np
import pytest

import lightgrad
from lightgrad import optim

SHAPES = [(3, 4), (4,), ()]
STEPS = 22

# (optimizer name, options): each option of each optimizer, and combinations of them
CASES = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1, "nesterov": True,
             "maximize": True}),
    ("SGD", {"lr": 0.05, "weight_decay": 0.2, "dampening": 0.5, "momentum": 0.8}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "maximize": True}),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "maximize": True, "betas": (0.5, 0.9)}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "lr_decay": 0.01, "maximize": True}),
    ("Adamax", {"lr": 0.05}),
    ("Adamax", {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    ("Adamax", {"lr": 0.05, "eps": 1e-4, "maximize": True}),
    ("NAdam", {"lr": 0.05}),
    ("NAdam", {"lr": 0.05, "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True,
               "maximize": True}),
    ("RAdam", {"lr": 0.05}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.05, "betas": (0.9, 0.9), "maximize": True}),  # rectified early
]


def _init_arrays(dtype):
    rng = np.random.default_rng(1)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def _grad_of(a, step, i, sign=1.0):
    """A deterministic gradient field: non-convex, with signs that change over time."""
    g = sign * (a ** 3 - 0.5 * a + 0.3 * np.cos(3.0 * a + step + i))
    return np.asarray(g, dtype=a.dtype).reshape(a.shape)


def _tol(dtype):
    return dict(rtol=1e-4, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-7, atol=1e-12)


def _run_both(torch, name, kwargs, dtype, steps=STEPS, skip=None):
    arrays = _init_arrays(dtype)
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    lp = [lightgrad.tensor(a.copy(), requires_grad=True) for a in arrays]
    topt = getattr(torch.optim, name)(tp, **kwargs)
    lopt = getattr(optim, name)(lp, **kwargs)
    sign = -1.0 if kwargs.get("maximize") else 1.0
    for step in range(steps):
        for i, (t, p) in enumerate(zip(tp, lp)):
            if skip is not None and skip(step, i):
                t.grad = p.grad = None   # a parameter without a gradient is left alone
                continue
            # each library's gradient comes from its own current parameters (negated
            # under maximize, so that the trajectory stays bounded)
            t.grad = torch.from_numpy(_grad_of(t.detach().numpy(), step, i, sign))
            p.grad = lightgrad.tensor(_grad_of(p.detach().numpy(), step, i, sign))
        topt.step()
        lopt.step()
        for t, p in zip(tp, lp):
            assert p.dtype == getattr(lightgrad, str(t.dtype).split(".")[1])
            np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), **_tol(dtype),
                                       err_msg=f"{name} {kwargs} step {step}")
    return topt, lopt


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,kwargs", CASES,
                         ids=[f"{n}-{'-'.join(k for k in kw if k != 'lr') or 'plain'}"
                              for n, kw in CASES])
def test_trajectory_matches_torch(torch, name, kwargs, dtype):
    topt, lopt = _run_both(torch, name, kwargs, dtype)
    _compare_state(topt.state_dict(), lopt.state_dict(), dtype)


def _compare_state(tsd, lsd, dtype):
    assert lsd["param_groups"] == tsd["param_groups"]
    assert sorted(lsd["state"]) == sorted(tsd["state"])
    for k, tstate in tsd["state"].items():
        lstate = lsd["state"][k]
        assert list(lstate) == list(tstate)
        for key, tv in tstate.items():
            lv = lstate[key]
            if hasattr(tv, "numpy"):
                assert str(lv.dtype).split(".")[1] == str(tv.dtype).split(".")[1], key
                np.testing.assert_allclose(lv.numpy(), tv.numpy(), **_tol(dtype))
            else:
                assert lv == tv


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "NAdam"])
def test_missing_gradients_are_skipped(torch, name):
    kwargs = {"lr": 0.05, "momentum": 0.9} if name in ("SGD", "RMSprop") else {"lr": 0.05}
    _run_both(torch, name, kwargs, np.float64, steps=8, skip=lambda s, i: (s + i) % 3 == 0)


def test_autograd_loss_with_param_groups(torch):
    """Gradients from each library's own backward pass, two groups with their own options."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 3))
    w0, b0, w1 = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(4)

    def build(mod):
        w = mod.tensor(w0.copy(), requires_grad=True)
        b = mod.tensor(b0.copy(), requires_grad=True)
        v = mod.tensor(w1.copy(), requires_grad=True)
        return [w, b, v]

    def loss(mod, ps):
        w, b, v = ps
        return (mod.tanh(mod.tensor(x) @ w + b) @ v).pow(2).mean()

    for name, opts in [("Adam", {"lr": 0.02, "amsgrad": True}),
                       ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True})]:
        tp, lp = build(torch), build(lightgrad)
        topt = getattr(torch.optim, name)([{"params": tp[:2]}, {"params": tp[2:], "lr": 0.01}],
                                          **opts)
        lopt = getattr(optim, name)([{"params": lp[:2]}, {"params": lp[2:], "lr": 0.01}],
                                    **opts)
        for _ in range(25):
            for opt, mod, ps in ((topt, torch, tp), (lopt, lightgrad, lp)):
                opt.zero_grad()
                loss(mod, ps).backward()
                opt.step()
        for t, p in zip(tp, lp):
            np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), rtol=1e-7)
        assert lopt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]


def _closure_run(mod, opt_mod):
    p = mod.tensor([1.0, -2.0], requires_grad=True)
    opt = opt_mod.SGD([p], lr=0.1)
    calls = []

    def closure():
        calls.append(mod.is_grad_enabled())
        opt.zero_grad()
        loss = (p ** 2).sum()
        loss.backward()
        return loss

    with mod.no_grad():
        out = opt.step(closure)
    return calls, float(out.detach()), p.tolist()


def test_closure(torch):
    """The closure runs with grad enabled even when step() is called under no_grad."""
    expected = _closure_run(torch, torch.optim)
    assert expected[:2] == ([True], 5.0)
    got = _closure_run(lightgrad, optim)
    assert got[:2] == expected[:2]
    assert got[2] == pytest.approx(expected[2])


def test_step_runs_without_grad_tracking():
    p = lightgrad.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    assert p.grad_fn is None and p.is_leaf and p.requires_grad
    assert opt.state[p]["exp_avg"].requires_grad is False


# -- param groups and construction -------------------------------------------------------

def _error(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - the error is what is compared
            return type(e).__name__, str(e).replace("torch.", "lightgrad.")
    return None


ERROR_CASES = [
    lambda m, o, p: o.SGD(p[0], lr=0.1),
    lambda m, o, p: o.SGD([], lr=0.1),
    lambda m, o, p: o.SGD([p[0], 3], lr=0.1),
    lambda m, o, p: o.SGD([p[0] * 2], lr=0.1),
    lambda m, o, p: o.SGD({p[0]}, lr=0.1),
    lambda m, o, p: o.SGD([{"params": [p[0]]}, {"params": [p[0], p[1]]}], lr=0.1),
    lambda m, o, p: o.SGD([("a", p[0]), p[1]], lr=0.1),
    lambda m, o, p: o.SGD([p[0]], lr=-1.0),
    lambda m, o, p: o.SGD([p[0]], lr=0.1, momentum=-0.5),
    lambda m, o, p: o.SGD([p[0]], lr=0.1, weight_decay=-1),
    lambda m, o, p: o.SGD([p[0]], lr=0.1, nesterov=True),
    lambda m, o, p: o.SGD([p[0]], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
    lambda m, o, p: o.SGD([p[0]], lr=0.1).add_param_group([p[1]]),
    lambda m, o, p: o.SGD([p[0]], lr=0.1).add_param_group({"params": p[0]}),
    lambda m, o, p: o.Adam([p[0]], eps=-1.0),
    lambda m, o, p: o.Adam([p[0]], betas=(1.0, 0.9)),
    lambda m, o, p: o.Adam([p[0]], betas=(0.9, -0.1)),
    lambda m, o, p: o.Adam([p[0]], betas=(0, 0.9)),
    lambda m, o, p: o.Adam([p[0]], weight_decay=-0.1),
    lambda m, o, p: o.AdamW([p[0]], lr=-0.1),
    lambda m, o, p: o.RMSprop([p[0]], alpha=-0.1),
    lambda m, o, p: o.RMSprop([p[0]], momentum=-0.1),
    lambda m, o, p: o.RMSprop([p[0]], eps=-0.1),
    lambda m, o, p: o.Adagrad([p[0]], lr_decay=-0.1),
    lambda m, o, p: o.Adagrad([p[0]], initial_accumulator_value=-0.1),
    lambda m, o, p: o.Adamax([p[0]], betas=(0.9, 1.5)),
    lambda m, o, p: o.NAdam([p[0]], momentum_decay=-1.0),
    lambda m, o, p: o.RAdam([p[0]], eps=-1.0),
    lambda m, o, p: o.Optimizer([p[0]], {"lr": 0.1}).step(),
]


@pytest.mark.parametrize("case", range(len(ERROR_CASES)))
def test_errors_match_torch(torch, case):
    fn = ERROR_CASES[case]

    def params(mod):
        return [mod.ones(2, requires_grad=True), mod.ones(3, requires_grad=True)]

    expected = _error(lambda: fn(torch, torch.optim, params(torch)))
    got = _error(lambda: fn(lightgrad, optim, params(lightgrad)))
    assert got == expected


def test_required_default_and_duplicate_warning():
    from lightgrad.optim.optimizer import required

    class Plain(optim.Optimizer):
        def __init__(self, params, lr=required):
            super().__init__(params, {"lr": lr})

    p = lightgrad.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="didn't specify a value of required optimization "
                                         "parameter lr"):
        Plain([p])
    assert Plain([{"params": [p], "lr": 0.5}]).param_groups[0]["lr"] == 0.5
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)


def test_param_groups_and_named_params(torch):
    for mod, o in ((torch, torch.optim), (lightgrad, optim)):
        a, b, c = (mod.ones(2, requires_grad=True) for _ in range(3))
        opt = o.Adam([{"params": [a], "lr": 0.1}, {"params": b, "weight_decay": 0.5}])
        opt.add_param_group({"params": [c], "amsgrad": True})
        groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
        if mod is torch:
            expected = groups
        else:
            assert groups == expected
            assert [g["params"] for g in opt.param_groups] == [[a], [b], [c]]
        named = o.SGD([("w", a), ("b", b)], lr=0.1)
        assert named.param_groups[0]["param_names"] == ["w", "b"]
        assert named.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


def test_plain_leaf_with_retain_grad_is_allowed():
    x = lightgrad.ones(2, requires_grad=True)
    y = x * 2
    y.retain_grad()
    opt = optim.SGD([y], lr=0.1)
    assert opt.param_groups[0]["params"][0] is y


# -- zero_grad -----------------------------------------------------------------------------

def test_zero_grad():
    p = lightgrad.tensor([1.0, 2.0], requires_grad=True)
    q = lightgrad.tensor([3.0], requires_grad=True)
    opt = optim.SGD([p, q], lr=0.1)
    (p.sum() * 3).backward()
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0] and q.grad is None
    g = p.grad
    (p.sum() * 2).backward()
    assert p.grad is g and g.tolist() == [2.0, 2.0]
    opt.zero_grad()
    assert p.grad is None


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_zero_grad_detaches_a_graph_grad():
    p = lightgrad.tensor([1.0, 2.0], requires_grad=True)
    (p ** 3).sum().backward(create_graph=True)
    assert p.grad.grad_fn is not None
    optim.SGD([p], lr=0.1).zero_grad(set_to_none=False)
    assert p.grad.grad_fn is None and not p.grad.requires_grad
    assert p.grad.tolist() == [0.0, 0.0]


# -- state dicts --------------------------------------------------------------------------

@pytest.mark.parametrize("name,kwargs", [("SGD", {"lr": 0.05, "momentum": 0.9}),
                                         ("Adam", {"lr": 0.05, "amsgrad": True}),
                                         ("RMSprop", {"lr": 0.01, "centered": True,
                                                      "momentum": 0.5}),
                                         ("Adagrad", {"lr": 0.1}),
                                         ("Adamax", {"lr": 0.05}),
                                         ("NAdam", {"lr": 0.05}),
                                         ("RAdam", {"lr": 0.05})])
def test_state_dict_resume_matches_uninterrupted(name, kwargs):
    """Stop after 5 steps, load the state into a fresh optimizer, carry on: same result.
    (float32: load_state_dict casts every state tensor but 'step' to the parameter's dtype,
    NAdam's float32 'mu_product' included, as torch does.)"""
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
    sd = pickle.loads(pickle.dumps(first.state_dict()))
    second = getattr(optim, name)(ps, lr=123.0)
    second.load_state_dict(sd)
    assert second.param_groups[0]["lr"] == kwargs["lr"]
    assert second.param_groups[0]["params"] == ps
    run(ps, second, range(5, 12))
    for p, r in zip(ps, ref):
        np.testing.assert_array_equal(p.detach().numpy(), r.detach().numpy())


def test_state_dict_format_matches_torch(torch):
    tp = [torch.ones(2, requires_grad=True), torch.ones(3, requires_grad=True)]
    lp = [lightgrad.ones(2, requires_grad=True), lightgrad.ones(3, requires_grad=True)]
    tsd = lsd = None
    for mod, o, ps in ((torch, torch.optim, tp), (lightgrad, optim, lp)):
        opt = o.Adam([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.5}], amsgrad=True)
        ps[1].grad = mod.ones(3)
        opt.step()
        if mod is torch:
            tsd = opt.state_dict()
        else:
            lsd = opt.state_dict()
    _compare_state(tsd, lsd, np.float32)
    assert list(lsd["state"]) == [1]
    assert lsd["param_groups"][1]["params"] == [1]


def test_load_state_dict_casts_to_param_dtype_and_validates(torch):
    p32 = lightgrad.ones(2, requires_grad=True)
    p64 = lightgrad.ones(2, dtype=lightgrad.float64, requires_grad=True)
    opt = optim.Adam([p64])
    p64.grad = lightgrad.ones(2, dtype=lightgrad.float64)
    opt.step()
    sd = opt.state_dict()
    other = optim.Adam([p32])
    other.load_state_dict(sd)
    st = other.state[p32]
    assert st["exp_avg"].dtype == lightgrad.float32
    assert st["exp_avg_sq"].dtype == lightgrad.float32
    assert st["step"].dtype == lightgrad.float32 and st["step"].item() == 1.0

    # the same checks in torch and lightgrad
    def errors(mod, o):
        a, b = mod.ones(2, requires_grad=True), mod.ones(3, requires_grad=True)
        src = o.SGD([a, b], lr=0.1).state_dict()
        two = o.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
        one = o.SGD([a], lr=0.1)
        return [_error(lambda: two.load_state_dict(src)), _error(lambda: one.load_state_dict(src))]

    assert errors(lightgrad, optim) == errors(torch, torch.optim)


def test_adagrad_state_exists_before_the_first_step(torch):
    for mod, o in ((torch, torch.optim), (lightgrad, optim)):
        p = mod.ones(2, requires_grad=True)
        opt = o.Adagrad([p], initial_accumulator_value=0.25)
        keys = sorted(opt.state_dict()["state"][0])
        vals = opt.state[p]["sum"].tolist()
        if mod is torch:
            expected = (keys, vals)
        else:
            assert (keys, vals) == expected


# -- hooks and printing -------------------------------------------------------------------

def test_step_hooks():
    p = lightgrad.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    events = []

    def pre(o, args, kwargs):
        events.append(("pre", p.tolist()))

    def post(o, args, kwargs):
        events.append(("post", p.tolist()))

    h1 = opt.register_step_pre_hook(pre)
    h2 = opt.register_step_post_hook(post)
    p.grad = lightgrad.ones(2)
    opt.step()
    assert events == [("pre", [1.0, 1.0]), ("post", [0.0, 0.0])]
    h1.remove()
    h2.remove()
    opt.step()
    assert len(events) == 2
    g = optim.optimizer.register_optimizer_step_post_hook(lambda o, a, k: events.append("g"))
    try:
        opt.step()
    finally:
        g.remove()
    assert events[-1] == "g"


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax",
                                  "NAdam", "RAdam"])
def test_repr_and_defaults_match_torch(torch, name):
    def build(mod, o):
        a, b = mod.ones(2, requires_grad=True), mod.ones(1, requires_grad=True)
        return getattr(o, name)([{"params": [a]}, {"params": [b], "lr": 0.5}])

    t, lg = build(torch, torch.optim), build(lightgrad, optim)
    assert repr(lg) == repr(t)
    assert lg.defaults == t.defaults


def test_namespaces():
    import lightgrad.optim.lr_scheduler as lrs
    assert lightgrad.optim.SGD is optim.SGD
    assert lightgrad.optim.lr_scheduler.StepLR is lrs.StepLR
    assert issubclass(optim.AdamW, optim.Adam)
    assert issubclass(optim.SGD, lightgrad.optim.Optimizer)
