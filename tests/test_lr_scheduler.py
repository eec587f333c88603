"""lightgrad.optim.lr_scheduler against torch: the same learning-rate (and momentum)
sequences, step for step, including the chainable forms, closed forms and state dicts."""
import math
import warnings

import pytest

import lightgrad
from lightgrad import optim
from lightgrad.optim import lr_scheduler as lrs

STEPS = 35


def _optimizer(mod, name="SGD", groups=2, **kw):
    params = [mod.ones(2, requires_grad=True) for _ in range(groups)]
    opt_cls = getattr(mod.optim, name)
    return opt_cls([{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)], **kw)


def _sequence(mod, make, steps=STEPS, metrics=None, opt_name="SGD", opt_kw=None):
    """Learning rates (and momenta/betas) after building the scheduler and each step."""
    opt = _optimizer(mod, opt_name, **(opt_kw or {"lr": 0.1}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = make(mod, opt)
        seq = []
        for i in range(steps):
            seq.append((sched.get_last_lr(), [g["lr"] for g in opt.param_groups],
                        [g.get("momentum", g.get("betas")) for g in opt.param_groups]))
            opt.step()
            if metrics is None:
                sched.step()
            else:
                sched.step(metrics[i])
    return seq


def _compare(torch, make, **kw):
    expected = _sequence(torch, make, **kw)
    got = _sequence(lightgrad, make, **kw)
    assert len(got) == len(expected)
    for i, (g, e) in enumerate(zip(got, expected)):
        assert g == e, f"step {i}: {g} != {e}"   # exactly the same floats


def L(name):
    """The scheduler class `name` of whichever library `mod` is."""
    return lambda mod: getattr(mod.optim.lr_scheduler, name)


SCHEDULES = {
    "StepLR": lambda m, o: L("StepLR")(m)(o, step_size=4, gamma=0.5),
    "StepLR-default-gamma": lambda m, o: L("StepLR")(m)(o, 7),
    "MultiStepLR": lambda m, o: L("MultiStepLR")(m)(o, milestones=[3, 8, 8, 20], gamma=0.3),
    "ExponentialLR": lambda m, o: L("ExponentialLR")(m)(o, gamma=0.9),
    "CosineAnnealingLR": lambda m, o: L("CosineAnnealingLR")(m)(o, T_max=10),
    "CosineAnnealingLR-eta_min": lambda m, o: L("CosineAnnealingLR")(m)(o, T_max=7,
                                                                       eta_min=0.01),
    "LambdaLR": lambda m, o: L("LambdaLR")(m)(o, lr_lambda=lambda e: 0.95 ** e),
    "LambdaLR-list": lambda m, o: L("LambdaLR")(m)(o, [lambda e: 1 / (e + 1),
                                                        lambda e: e // 3]),
    "MultiplicativeLR": lambda m, o: L("MultiplicativeLR")(m)(o, lambda e: 0.97),
    "LinearLR": lambda m, o: L("LinearLR")(m)(o),
    "LinearLR-args": lambda m, o: L("LinearLR")(m)(o, start_factor=0.2, end_factor=0.7,
                                                   total_iters=12),
    "ConstantLR": lambda m, o: L("ConstantLR")(m)(o, factor=0.25, total_iters=6),
    "PolynomialLR": lambda m, o: L("PolynomialLR")(m)(o, total_iters=20, power=2.0),
    "OneCycleLR-cos": lambda m, o: L("OneCycleLR")(m)(o, max_lr=1.0, total_steps=STEPS + 1),
    "OneCycleLR-linear": lambda m, o: L("OneCycleLR")(m)(
        o, max_lr=[0.5, 2.0], epochs=6, steps_per_epoch=6, anneal_strategy="linear",
        pct_start=0.25, base_momentum=0.8, max_momentum=0.9),
    "OneCycleLR-three-phase": lambda m, o: L("OneCycleLR")(m)(
        o, max_lr=0.3, total_steps=STEPS, three_phase=True, div_factor=10.0,
        final_div_factor=100.0),
    "OneCycleLR-no-momentum": lambda m, o: L("OneCycleLR")(m)(
        o, max_lr=0.3, total_steps=STEPS, cycle_momentum=False),
    "SequentialLR": lambda m, o: L("SequentialLR")(m)(
        o, schedulers=[L("LinearLR")(m)(o, start_factor=0.1, total_iters=5),
                       L("ExponentialLR")(m)(o, gamma=0.9)], milestones=[5]),
    "SequentialLR-three": lambda m, o: L("SequentialLR")(m)(
        o, schedulers=[L("ConstantLR")(m)(o, factor=0.5, total_iters=4),
                       L("CosineAnnealingLR")(m)(o, T_max=8),
                       L("StepLR")(m)(o, step_size=3, gamma=0.5)], milestones=[6, 14]),
    "ChainedScheduler": lambda m, o: L("ChainedScheduler")(m)(
        [L("ConstantLR")(m)(o, factor=0.1, total_iters=2),
         L("ExponentialLR")(m)(o, gamma=0.9)]),
    "chained-by-hand": lambda m, o: _two_at_once(m, o),
    "CyclicLR": lambda m, o: L("CyclicLR")(m)(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    "CyclicLR-triangular2": lambda m, o: L("CyclicLR")(m)(
        o, base_lr=[0.01, 0.02], max_lr=0.2, step_size_up=3, step_size_down=5,
        mode="triangular2"),
    "CyclicLR-exp_range": lambda m, o: L("CyclicLR")(m)(
        o, base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range", gamma=0.9,
        cycle_momentum=False),
    "CosineAnnealingWarmRestarts": lambda m, o: L("CosineAnnealingWarmRestarts")(m)(o, 5),
    "CosineAnnealingWarmRestarts-mult": lambda m, o: L("CosineAnnealingWarmRestarts")(m)(
        o, T_0=3, T_mult=2, eta_min=0.001),
}


class _two_at_once:
    """Two schedulers stepping the same optimizer: torch's chainable form composes them."""

    def __init__(self, m, o):
        self.a = L("MultiStepLR")(m)(o, milestones=[5, 9], gamma=0.5)
        self.b = L("CosineAnnealingLR")(m)(o, T_max=6)

    def step(self):
        self.a.step()
        self.b.step()

    def get_last_lr(self):
        return self.b.get_last_lr()


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_lr_sequence_matches_torch(torch, name):
    _compare(torch, SCHEDULES[name], opt_kw={"lr": 0.1, "momentum": 0.9})


@pytest.mark.parametrize("opt_name,opt_kw", [("Adam", {"lr": 0.1}), ("AdamW", {"lr": 0.1}),
                                             ("SGD", {"lr": 0.1, "momentum": 0.9}),
                                             ("RMSprop", {"lr": 0.1, "momentum": 0.5})])
def test_one_cycle_cycles_momentum_or_beta1(torch, opt_name, opt_kw):
    _compare(torch, SCHEDULES["OneCycleLR-cos"], opt_name=opt_name, opt_kw=opt_kw)


def test_one_cycle_errors(torch):
    def err(mod, **kw):
        opt = _optimizer(mod, "Adagrad", lr=0.1)
        try:
            mod.optim.lr_scheduler.OneCycleLR(opt, **kw)
        except (ValueError, TypeError) as e:
            return type(e).__name__, str(e)

    for kw in [dict(max_lr=1.0), dict(max_lr=1.0, total_steps=0),
               dict(max_lr=1.0, epochs=2), dict(max_lr=1.0, total_steps=5, pct_start=2),
               dict(max_lr=1.0, total_steps=5, anneal_strategy="exp", cycle_momentum=False),
               dict(max_lr=[1.0], total_steps=5, cycle_momentum=False),
               dict(max_lr=1.0, total_steps=5)]:
        assert err(lightgrad, **kw) == err(torch, **kw)
    for mod in (torch, lightgrad):
        opt = _optimizer(mod, "SGD", lr=0.1)
        sched = mod.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
        with pytest.raises(ValueError, match="Tried to step 4 times. The specified number "
                                             "of total steps is 3"):
            for _ in range(4):
                opt.step()
                sched.step()


PLATEAU = {
    "min-rel": dict(),
    "min-abs-cooldown": dict(threshold_mode="abs", threshold=0.05, patience=2, cooldown=3,
                             factor=0.5),
    "max-rel": dict(mode="max", patience=1, factor=0.3, min_lr=[0.02, 0.05]),
    "max-abs-min_lr": dict(mode="max", threshold_mode="abs", patience=0, min_lr=0.01,
                           factor=0.5),
    "eps": dict(patience=0, factor=0.9, eps=0.02),
}
METRICS = [1.0, 0.9, 0.95, 0.95, 0.96, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8,
           0.8, 0.81, 0.82, 0.83, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.71,
           0.72, 0.5, 0.5, 0.5, 0.5]


@pytest.mark.parametrize("name", list(PLATEAU))
def test_reduce_lr_on_plateau_matches_torch(torch, name):
    kw = PLATEAU[name]
    metrics = METRICS if kw.get("mode") != "max" else [2 - m for m in METRICS]
    make = lambda m, o: L("ReduceLROnPlateau")(m)(o, **kw)  # noqa: E731
    _compare(torch, make, metrics=metrics)
    # the whole internal state follows torch's too
    states = []
    for mod in (torch, lightgrad):
        opt = _optimizer(mod, "SGD", lr=0.1)
        sched = make(mod, opt)
        for v in metrics[:17]:
            sched.step(v)
        states.append({k: v for k, v in sched.state_dict().items()})
    assert states[1] == states[0]


def test_reduce_lr_on_plateau_errors(torch):
    for kw in [dict(factor=1.0), dict(mode="avg"), dict(threshold_mode="x"),
               dict(min_lr=[0.1])]:
        got = expected = None
        for mod in (torch, lightgrad):
            try:
                mod.optim.lr_scheduler.ReduceLROnPlateau(_optimizer(mod, lr=0.1), **kw)
            except ValueError as e:
                if mod is torch:
                    expected = str(e)
                else:
                    got = str(e)
        assert got == expected and got is not None


def test_closed_form_with_epoch_argument(torch):
    """step(epoch) uses the closed form (with torch's deprecation warning)."""
    for name, make in [("StepLR", lambda m, o: L("StepLR")(m)(o, 3, 0.5)),
                       ("MultiStepLR", lambda m, o: L("MultiStepLR")(m)(o, [2, 5, 5])),
                       ("ExponentialLR", lambda m, o: L("ExponentialLR")(m)(o, 0.8)),
                       ("CosineAnnealingLR", lambda m, o: L("CosineAnnealingLR")(m)(o, 9)),
                       ("LinearLR", lambda m, o: L("LinearLR")(m)(o, 0.25, 1.0, 6)),
                       ("ConstantLR", lambda m, o: L("ConstantLR")(m)(o, 0.5, 4)),
                       ("PolynomialLR", lambda m, o: L("PolynomialLR")(m)(o, 8, 0.5)),
                       ("LambdaLR", lambda m, o: L("LambdaLR")(m)(o, lambda e: e + 1))]:
        out = []
        for mod in (torch, lightgrad):
            opt = _optimizer(mod, lr=0.1)
            sched = make(mod, opt)
            seq = []
            for epoch in [4, 1, 7, 7, 12, 0, 3]:
                opt.step()
                with pytest.warns(UserWarning, match="The epoch parameter"):
                    sched.step(epoch)
                seq.append(sched.get_last_lr())
            out.append(seq)
        assert out[1] == out[0], name


def test_cosine_resumes_from_last_epoch(torch):
    """The _step_count == 1 branch: a scheduler built with last_epoch > 0."""
    seqs = []
    for mod in (torch, lightgrad):
        opt = _optimizer(mod, lr=0.1)
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"]
        sched = mod.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=4)
        seq = [sched.get_last_lr()]
        for _ in range(12):
            opt.step()
            sched.step()
            seq.append(sched.get_last_lr())
        seqs.append(seq)
    assert seqs[1] == seqs[0]


def test_resume_without_initial_lr_raises():
    opt = _optimizer(lightgrad, lr=0.1)
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in "
                                       r"param_groups\[0\]"):
        lrs.StepLR(opt, 3, last_epoch=5)


def test_state_dict_round_trip(torch):
    def run(mod, split):
        opt = _optimizer(mod, lr=0.1)
        sched = mod.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        lrs_seen, sd = [], None
        for i in range(12):
            if i == split:
                sd = sched.state_dict()
                opt_sd = opt.state_dict()
                opt = _optimizer(mod, lr=0.1)
                opt.load_state_dict(opt_sd)
                sched = mod.optim.lr_scheduler.StepLR(opt, step_size=99)
                sched.load_state_dict(sd)
            opt.step()
            sched.step()
            lrs_seen.append(sched.get_last_lr())
        return lrs_seen, sd

    (t_seq, t_sd), (l_seq, l_sd) = run(torch, 5), run(lightgrad, 5)
    assert l_seq == t_seq == run(lightgrad, 99)[0]
    assert l_sd == t_sd


def test_nested_and_lambda_state_dicts(torch):
    class Factor:
        def __init__(self, f):
            self.f = f

        def __call__(self, e):
            return self.f ** e

    dicts = []
    for mod in (torch, lightgrad):
        opt = _optimizer(mod, lr=0.1)
        seq = mod.optim.lr_scheduler.SequentialLR(
            opt, [mod.optim.lr_scheduler.LambdaLR(opt, [Factor(0.5), lambda e: 1.0]),
                  mod.optim.lr_scheduler.ExponentialLR(opt, 0.5)], milestones=[3])
        for _ in range(5):
            opt.step()
            seq.step()
        dicts.append(seq.state_dict())
    assert dicts[1] == dicts[0]
    assert dicts[1]["_schedulers"][0]["lr_lambdas"] == [{"f": 0.5}, None]

    opt = _optimizer(lightgrad, lr=0.1)
    lam = lrs.LambdaLR(opt, [Factor(0.9), lambda e: 1.0])
    lam.load_state_dict(dicts[1]["_schedulers"][0])
    assert lam.lr_lambdas[0].f == 0.5 and lam.last_epoch == dicts[1]["_schedulers"][0][
        "last_epoch"]


def test_warnings_like_torch():
    opt = _optimizer(lightgrad, lr=0.1)
    sched = lrs.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="Detected call of `lr_scheduler.step\\(\\)` before "
                                         "`optimizer.step\\(\\)`"):
        sched.step()
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()
    opt = _optimizer(lightgrad, lr=0.1)
    sched = lrs.ExponentialLR(opt, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()
    assert opt._opt_called


def test_scheduler_type_and_sequential_errors(torch):
    def errs(mod):
        out = []
        opt = _optimizer(mod, lr=0.1)
        other = _optimizer(mod, lr=0.1)
        attempts = [
            lambda: mod.optim.lr_scheduler.StepLR(object(), 3),
            lambda: mod.optim.lr_scheduler.SequentialLR(opt, [], []),
            lambda: mod.optim.lr_scheduler.SequentialLR(
                opt, [mod.optim.lr_scheduler.StepLR(opt, 2)], [3]),
            lambda: mod.optim.lr_scheduler.SequentialLR(
                opt, [mod.optim.lr_scheduler.ReduceLROnPlateau(opt)], []),
            lambda: mod.optim.lr_scheduler.ChainedScheduler([]),
            lambda: mod.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1.0]),
            lambda: mod.optim.lr_scheduler.LinearLR(opt, start_factor=0),
            lambda: mod.optim.lr_scheduler.LinearLR(opt, end_factor=2),
            lambda: mod.optim.lr_scheduler.ConstantLR(opt, factor=2),
        ]
        for fn in attempts:
            try:
                fn()
                out.append(None)
            except (TypeError, ValueError) as e:
                out.append((type(e).__name__, str(e)))
        try:
            mod.optim.lr_scheduler.SequentialLR(opt, [mod.optim.lr_scheduler.StepLR(other, 2)],
                                                [])
        except ValueError as e:
            out.append(str(e).split(" has ")[0])
        return out

    assert errs(lightgrad) == errs(torch)


def test_tensor_lr_is_updated_in_place():
    p = lightgrad.ones(2, requires_grad=True)
    lr = lightgrad.tensor(0.5)
    opt = optim.SGD([p], lr=lr)
    sched = lrs.StepLR(opt, 1, gamma=0.5)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] is lr and math.isclose(lr.item(), 0.25)
    assert math.isclose(float(sched.get_last_lr()[0]), 0.25)
    p.grad = lightgrad.ones(2)
    opt.step()
    assert p.tolist() == [0.75, 0.75]


def test_warm_restarts_with_fractional_epochs(torch):
    seqs = []
    for mod in (torch, lightgrad):
        opt = _optimizer(mod, lr=0.1)
        sched = mod.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=3)
        seq = []
        for epoch in [0.5, 1.0, 1.7, 2.0, 3.25, 7.9, 8.0, 20.5, 0.1]:
            opt.step()
            sched.step(epoch)
            seq.append((sched.get_last_lr(), sched.T_i, sched.T_cur, sched.last_epoch))
        seqs.append(seq)
    assert seqs[1] == seqs[0]


def test_cyclic_cycles_beta1_with_adam(torch):
    _compare(torch, SCHEDULES["CyclicLR"], opt_name="Adam", opt_kw={"lr": 0.1})
