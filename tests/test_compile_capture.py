"""lightgrad.compile's capture and replay: training steps compiled and run step by step
beside the same step run eagerly from the same initial state; every returned value, .grad,
parameter, buffer and optimizer state equal bit for bit (the replay runs the same NumPy
kernels in the same order). Then each refusal: a warning, and eager's results."""
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import lightgrad as lg
import lightgrad.nn.functional as F
from lightgrad import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench import chapter_step_factory, per_op_factory  # noqa: E402

STEPS = 6   # call 1 warms up, calls 2-3 capture, calls 4-6 replay


# -- the workloads: make() -> (step, inputs(i), state()) -----------------------------------
def _chapter():
    step = chapter_step_factory(lg)
    return step, lambda i: (), lambda: _closure_tensors(step)


def _per_op():
    step = per_op_factory(lg)
    return step, lambda i: (), lambda: _closure_tensors(step)


def _closure_tensors(fn):
    out = []
    for cell in fn.__closure__:
        v = cell.cell_contents
        for t in (v if isinstance(v, (tuple, list)) else (v,)):
            if isinstance(t, lg.Tensor):
                out.append(t)
    return {f"t{i}": t for i, t in enumerate(out)}


def _train(model, opt, loss_fn):
    def step(*batch):
        opt.zero_grad()
        loss = loss_fn(model, *batch)
        loss.backward()
        opt.step()
        return loss
    return step


def _state(model, opt):
    def state():
        s = dict(model.state_dict())
        for n, p in model.named_parameters():
            s[n + ".grad"] = p.grad
        for i, st in enumerate(opt.state.values()):
            for k, v in st.items():
                s[f"opt{i}.{k}"] = v
        return s
    return state


def _mlp_adam():
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 10))
    opt = lg.optim.Adam(model.parameters(), lr=1e-2)
    step = _train(model, opt, lambda m, x, y: F.cross_entropy(m(x), y))
    return step, lambda i: (lg.randn(16, 20), lg.randint(0, 10, (16,))), _state(model, opt)


def _cnn():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Dropout(0.3), nn.Flatten(), nn.Linear(64, 10))
    opt = lg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    step = _train(model, opt, lambda m, x, y: F.cross_entropy(m(x), y))
    return step, lambda i: (lg.randn(8, 1, 8, 8), lg.randint(0, 10, (8,))), _state(model, opt)


def _lstm():
    model = nn.ModuleDict({"lstm": nn.LSTM(8, 16, batch_first=True), "head": nn.Linear(16, 1)})
    opt = lg.optim.SGD(model.parameters(), lr=0.1)

    def loss(m, x, y):
        out, _ = m["lstm"](x)
        return F.mse_loss(m["head"](out[:, -1]), y)
    return _train(model, opt, loss), lambda i: (lg.randn(4, 5, 8), lg.randn(4, 1)), \
        _state(model, opt)


def _transformer():
    model = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.1, batch_first=True)
    opt = lg.optim.AdamW(model.parameters(), lr=1e-3)
    step = _train(model, opt, lambda m, x: m(x).pow(2).mean())
    return step, lambda i: (lg.randn(2, 6, 16),), _state(model, opt)


WORKLOADS = {"chapter-net": _chapter, "per-op": _per_op, "mlp-adam": _mlp_adam,
             "cnn-batchnorm-dropout": _cnn, "lstm": _lstm, "transformer-layer": _transformer}


def _same(a, b, where):
    if isinstance(a, lg.Tensor) or isinstance(b, lg.Tensor):
        assert isinstance(a, lg.Tensor) and isinstance(b, lg.Tensor), where
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a.detach().numpy(), b.detach().numpy(), equal_nan=True), where
    else:
        assert a == b, where


def _compare(make, steps=STEPS):
    """Run the workload eagerly and compiled from the same seed, comparing after each step;
    returns the compiled step."""
    lg.manual_seed(0)
    eager, inputs, state_e = make()
    lg.manual_seed(0)
    step, _, state_c = make()
    compiled = lg.compile(step)
    for i in range(steps):
        lg.manual_seed(100 + i)         # both draw the inputs and dropout masks from here
        out_e = eager(*inputs(i))
        lg.manual_seed(100 + i)
        out_c = compiled(*inputs(i))
        _same(out_e, out_c, f"step {i}: result")
        se, sc = state_e(), state_c()
        assert list(se) == list(sc)
        for k in se:
            if se[k] is None or sc[k] is None:
                assert se[k] is None and sc[k] is None, f"step {i}: {k}"
            else:
                _same(se[k], sc[k], f"step {i}: {k}")
    return compiled


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_compiled_steps_equal_eager_bit_for_bit(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no fallback warning: it really replays
        compiled = _compare(WORKLOADS[name])
    stats = compiled.compile_stats
    assert (stats.eager, stats.captures, stats.replays) == (1, 2, STEPS - 3), stats.reasons


# -- refusals and re-captures ------------------------------------------------------------------
def _calls(fn, inputs, n=STEPS):
    """fn compiled and eager on the same inputs; the compiled outputs, eager outputs, stats
    and the warnings the compiled calls gave."""
    compiled = lg.compile(fn)
    got, want = [], []
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for i in range(n):
            args = inputs(i)
            got.append(compiled(*[a.clone() if isinstance(a, lg.Tensor) else a for a in args]))
    for i in range(n):
        want.append(fn(*inputs(i)))
    return got, want, compiled.compile_stats, [str(x.message) for x in w
                                               if "lightgrad.compile" in str(x.message)]


def _assert_same_lists(got, want):
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        _same(a, b, f"call {i}")


def _fixed(*shapes):
    """Inputs that are the same each call (seeded by the shapes)."""
    def inputs(i):
        r = np.random.default_rng(len(shapes))
        return tuple(lg.tensor(r.standard_normal(s).astype(np.float32)) for s in shapes)
    return inputs


def _varying(*shapes, sign=None):
    def inputs(i):
        r = np.random.default_rng(i)
        out = tuple(lg.tensor(np.abs(r.standard_normal(s)).astype(np.float32)) for s in shapes)
        if sign is not None:
            out = tuple(t * sign(i) for t in out)
        return out
    return inputs


def test_item_in_control_flow_is_a_guard_checked_before_anything_changes():
    def f(x):
        return x * 2 if x.sum().item() > 0 else x * 3
    got, want, stats, warned = _calls(f, _varying((3,), sign=lambda i: 1 if i < 5 else -1), 8)
    _assert_same_lists(got, want)
    assert stats.replays >= 2 and stats.guard_failures >= 1 and not warned


def test_bool_of_a_tensor_is_a_guard():
    def f(x):
        return x + 1 if (x > 0).all() else x - 1
    got, want, stats, warned = _calls(f, _varying((4,), sign=lambda i: 1 if i != 6 else -1), 8)
    _assert_same_lists(got, want)
    assert stats.replays >= 3 and stats.guard_failures >= 1 and not warned


@pytest.mark.parametrize("case", ["print", "float", "tolist", "tensor hook", "retain_grad",
                                  "module hook", "escaping attribute", "returns grad_fn"])
def test_refusals_warn_once_and_give_eager_results(case, capsys):
    lin = nn.Linear(3, 2)
    kept = {}
    if case == "module hook":
        lin.register_forward_hook(lambda m, a, o: None)

    def f(x):
        lin.zero_grad()
        y = lin(x)
        if case == "print":
            print(y)
        elif case == "float":
            y = y * float(y.sum())
        elif case == "tolist":
            y = y + len(y.tolist())
        elif case == "tensor hook":
            y.register_hook(lambda g: g * 2)
        elif case == "retain_grad":
            y.retain_grad()
        elif case == "escaping attribute":
            kept["y"] = y * 1
        if case == "returns grad_fn":
            return y.sum()
        y.sum().backward()
        return lin.weight.grad.clone()
    lg.manual_seed(0)
    got, want, stats, warned = _calls(f, _fixed((4, 3)))
    assert len(warned) == 1 and "runs eagerly" in warned[0], warned
    assert stats.replays == 0 and stats.captures == 1
    _assert_same_lists(got, want)
    if case == "returns grad_fn":
        assert all(g.requires_grad and g.grad_fn is not None for g in got)


@pytest.mark.parametrize("mode", ["anomaly", "saved_tensors_hooks"])
def test_modes_it_cannot_replay_run_eagerly(mode):
    w = lg.randn(3, requires_grad=True)

    def f(x):
        (w * x).sum().backward()
        return w.grad.clone()
    ctx = lg.autograd.detect_anomaly() if mode == "anomaly" else \
        lg.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t)
    compiled = lg.compile(f)
    with warnings.catch_warnings(record=True) as rec, ctx:
        warnings.simplefilter("always")
        out = [compiled(lg.ones(3)) for _ in range(4)]
    assert compiled.compile_stats.eager == 4
    assert [x.tolist() for x in out] == [[1.0] * 3, [2.0] * 3, [3.0] * 3, [4.0] * 3]
    assert any("runs eagerly" in str(x.message) for x in rec)


def test_in_place_update_of_an_input_is_replayed_exactly():
    def f(x, acc):
        with lg.no_grad():
            acc.add_(x * 2)
            x.mul_(0.5)
        return acc.sum()
    acc_c, acc_e = lg.zeros(3), lg.zeros(3)
    compiled = lg.compile(f)
    for i in range(STEPS):
        x = lg.arange(3.0) + i
        xc, xe = x.clone(), x.clone()
        _same(compiled(xc, acc_c), f(xe, acc_e), f"call {i}")
        _same(xc, xe, "x")
        _same(acc_c, acc_e, "acc")
    assert compiled.compile_stats.replays == STEPS - 3


def test_a_new_shape_captures_again():
    def f(x):
        return (x * x).sum(0)
    shapes = [(2, 3)] * 5 + [(4, 3)] * 5
    compiled = lg.compile(f)
    for i, s in enumerate(shapes):
        x = lg.randn(*s)
        _same(compiled(x), f(x), f"call {i}")
    st = compiled.compile_stats
    assert (st.eager, st.captures, st.replays) == (2, 4, 4)


def test_recompile_limit_falls_back_to_eager_with_one_warning():
    compiled = lg.compile(lambda x: x + 1, recompile_limit=2)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        for n in range(1, 8):
            for _ in range(3):
                x = lg.randn(n)
                _same(compiled(x), x + 1, f"n={n}")
    msgs = [str(x.message) for x in rec if "lightgrad.compile" in str(x.message)]
    assert len(msgs) == 1 and "recompile_limit (2)" in msgs[0]


def test_lr_scheduler_change_captures_again_and_matches_eager():
    def make():
        model = nn.Linear(4, 1)
        opt = lg.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
        sched = lg.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
        step = _train(model, opt, lambda m, x: m(x).pow(2).mean())
        return step, model, sched
    lg.manual_seed(0)
    step_e, model_e, sched_e = make()
    lg.manual_seed(0)
    step_c, model_c, sched_c = make()
    compiled = lg.compile(step_c)
    for i in range(12):
        x = lg.randn(3, 4)
        _same(compiled(x), step_e(x), f"step {i}")
        for a, b in zip(model_c.parameters(), model_e.parameters()):
            _same(a, b, f"step {i}: param")
        sched_c.step()
        sched_e.step()
    st = compiled.compile_stats
    assert st.replays >= 4 and st.guard_failures >= 1 and st.captures >= 4


def test_train_and_eval_get_their_own_programs():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    compiled = lg.compile(model)
    x = lg.randn(2, 4)
    with lg.no_grad():
        for mode in ["train", "eval"] * 2:
            getattr(model, mode)()
            for i in range(5):
                lg.manual_seed(i)
                y = compiled(x)
                lg.manual_seed(i)
                _same(y, model(x), f"{mode} {i}")
    st = compiled.forward.compile_stats
    assert st.replays >= 8 and st.guard_failures >= 1


def test_random_numbers_inside_are_fresh_and_equal_eager():
    def f(x):
        return x + lg.randn(3) + lg.rand(3)
    compiled = lg.compile(f)
    x = lg.zeros(3)
    outs = []
    for i in range(STEPS):
        lg.manual_seed(i)
        y = compiled(x)
        lg.manual_seed(i)
        _same(y, f(x), f"call {i}")
        outs.append(y)
    assert not lg.equal(outs[-1], outs[-2])
    assert compiled.compile_stats.replays == STEPS - 3


def test_compiled_module_keeps_working_and_replays_inference():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    c = lg.compile(model)
    assert isinstance(c, lg._compile.OptimizedModule) and c._orig_mod is model
    with lg.no_grad():
        for i in range(STEPS):
            x = lg.randn(3, 4)
            _same(c(x), model(x), f"call {i}")
    assert c.forward.compile_stats.replays == STEPS - 3
    with lg.no_grad():
        model[0].weight.mul_(2)          # parameters read fresh at replay
        x = lg.randn(3, 4)
        _same(c(x), model(x), "after an in-place update")
        model[0].weight = nn.Parameter(lg.randn(8, 4))   # a new object: the guard sees it
        _same(c(x), model(x), "after a new parameter")


def test_replay_results_deviate_where_documented():
    """docs/deviations.md: a returned tensor whose graph backward consumed inside comes
    back detached at replay, and Python side effects run at warm-up and capture only."""
    w = lg.randn(3, requires_grad=True)
    log = []

    def f(x):
        log.append(1)
        loss = (w * x).sum()
        loss.backward()
        return loss
    compiled = lg.compile(f)
    outs = [compiled(lg.ones(3)) for _ in range(STEPS)]
    assert [o.requires_grad for o in outs] == [True] * 3 + [False] * (STEPS - 3)
    assert len(log) == 3
    assert lg.equal(w.grad, lg.ones(3) * STEPS)      # the work itself happened every call
    # replays do not advance version counters
    acc = lg.zeros(2)
    add = lg.compile(lambda a: a.add_(1))
    versions = []
    for _ in range(STEPS):
        add(acc)
        versions.append(acc._version)
    assert versions == [1, 2, 3, 3, 3, 3] and acc.tolist() == [6.0, 6.0]


def test_a_hoisted_check_runs_its_computation_once():
    """max-pool's NaN test is a data check; after the step has written outside memory (batch
    norm's running statistics) it moves to the top of the replay with the statements it
    needs, which then run there only (not once per check and again in place): each pool's
    max appears once in the program."""
    lg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.MaxPool2d(2),
                          nn.Conv2d(2, 2, 3), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2, 1))
    opt = lg.optim.SGD(model.parameters(), lr=0.1)
    x = lg.randn(4, 1, 10, 10)

    def step():
        opt.zero_grad()
        loss = model(x).square().mean()
        loss.backward()
        opt.step()
        return loss.detach()
    compiled = lg.compile(step)
    for _ in range(STEPS):
        compiled()
    assert compiled.compile_stats.replays == STEPS - 3
    runner = next(c.cell_contents for c in compiled.__closure__
                  if type(c.cell_contents).__name__ == "_Runner")
    (sig,) = runner.sigs.values()
    (tape,) = sig.tapes
    assert tape.source.count(".max(0") == 2, tape.source
