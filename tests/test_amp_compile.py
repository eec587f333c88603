"""torch.autocast, torch.amp.GradScaler and torch.compile: the same states, warnings, errors,
scale trajectories, skipped steps and module wrappers as torch on a CPU-only build."""
import copy
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

import lightgrad
from lightgrad import nn
from lightgrad.amp import autocast_mode

from .test_layers import GRAPH


def _norm(value):
    """Values comparable across the two libraries: dtypes by name, tuples element-wise."""
    if isinstance(value, tuple):
        return tuple(_norm(v) for v in value)
    if type(value).__name__ == "dtype":
        return str(value).split(".")[-1]
    return value


def _outcome(fn, *args, **kwargs):
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            value = fn(*args, **kwargs)
        return ("ok", _norm(value), [(x.category.__name__, str(x.message)) for x in w])
    except Exception as e:
        return (type(e).__name__, str(e))


@pytest.fixture
def quiet():
    """lightgrad's once-per-process notice that autocast changes nothing, taken as given."""
    old, autocast_mode._warned = autocast_mode._warned, [True]
    yield
    autocast_mode._warned = old


# -- autocast -------------------------------------------------------------------------------
def _autocast_script(m):
    f16, f32 = m.float16, m.float32
    state = lambda d="cpu": (m.is_autocast_enabled(d), m.get_autocast_dtype(d))   # noqa: E731
    out = [state(), m.is_autocast_enabled(), m.get_autocast_dtype("cuda")]
    for call in [lambda: m.autocast("cuda")._enabled,
                 lambda: m.autocast("cuda", dtype=f32)._enabled,
                 lambda: m.autocast("cuda", enabled=False)._enabled,
                 lambda: m.autocast("cpu", dtype=f32)._enabled,
                 lambda: m.autocast("cpu:0", dtype=m.float64)._enabled,
                 lambda: m.autocast("cpu", dtype=f16)._enabled,
                 lambda: m.autocast("cpu", dtype=f32, enabled=False)._enabled,
                 lambda: m.autocast("xpu")._enabled,
                 lambda: m.autocast("tpu"),
                 lambda: m.autocast("cpu:x"),
                 lambda: m.autocast("meta", dtype=f16),
                 lambda: m.autocast("meta"),
                 lambda: m.autocast("cpu", dtype=f16)(3),
                 lambda: m.is_autocast_enabled("tpu"),
                 lambda: m.is_autocast_enabled("meta"),
                 lambda: m.get_autocast_dtype("meta"),
                 lambda: m.is_autocast_enabled(3),
                 lambda: m.get_autocast_dtype(m.device("cpu")),
                 lambda: m.amp.is_autocast_available("cpu"),
                 lambda: m.amp.is_autocast_available("meta")]:
        out.append(_outcome(call))
    out.append(_outcome(m.autocast, m.device("cpu"))[0])    # ValueError (the class differs)
    with m.autocast("cpu", dtype=f16) as ctx:
        out += [ctx.device, ctx.fast_dtype, state(), m.is_autocast_enabled()]
        with m.autocast("cpu", enabled=False):
            out.append(state())
            with m.autocast("cpu", dtype=f32):                  # warns and disables
                out.append(state())
            out.append(state())
        out.append(state())
    out.append(state())
    with m.autocast("xpu"):
        out += [state("xpu"), state("cpu"), m.is_autocast_enabled("cuda")]
    with m.autocast("cuda"):
        out.append(state("cuda"))
    try:
        with m.autocast("cpu", dtype=f16):
            raise KeyError("body")
    except KeyError:
        out.append(state())                                     # restored on an exception

    @m.autocast("cpu", dtype=f16)
    def decorated(x):
        """the doc"""
        return x * 2, m.is_autocast_enabled("cpu")

    value, inside = decorated(m.ones(2))
    out += [decorated.__name__, decorated.__doc__, inside, value.tolist(), value.dtype, state()]
    reused = m.autocast("cpu", dtype=f16)                       # an instance, entered twice
    for _ in range(2):
        with reused:
            out.append(state())
    return [_norm(v) for v in out]


def test_autocast_states_warnings_and_errors_match_torch(torch, quiet):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine, theirs = _autocast_script(lightgrad), _autocast_script(torch)
    # torch's CPU default dtype is bfloat16; lightgrad has none and answers float16
    assert mine[0] == (False, "float16") and theirs[0] == (False, "bfloat16")
    bf16_as_f16 = lambda v: (tuple("float16" if e == "bfloat16" else e for e in v)  # noqa: E731
                             if isinstance(v, tuple) else v)
    assert mine == [bf16_as_f16(v) for v in theirs]


def test_autocast_warnings_and_errors():
    def ac(*args, **kwargs):
        return _outcome(lambda: lightgrad.autocast(*args, **kwargs)._enabled)

    assert ac("cuda") == ("ok", False, [
        ("UserWarning", "CUDA is not available or torch_xla is imported. Disabling autocast.")])
    assert ac("cpu", dtype=lightgrad.float32) == ("ok", False, [(
        "UserWarning", "In CPU autocast, but the target dtype is not supported. Disabling "
        "autocast.\nCPU Autocast only supports dtypes of torch.bfloat16, torch.float16 "
        "currently.")])
    bad = _outcome(lightgrad.autocast, "tpu")
    assert bad[0] == "RuntimeError" and bad[1].startswith("Expected one of cpu, cuda, ipu")
    assert bad[1].endswith("device type at start of device string: tpu")
    with pytest.raises(TypeError, match=r"autocast\(\)\(func\) requires a callable, but got int"):
        lightgrad.autocast("cpu")(3)


def test_autocast_warns_once_that_it_changes_nothing(monkeypatch):
    monkeypatch.setattr(autocast_mode, "_warned", [False])
    x = lightgrad.ones(3, 3)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with lightgrad.autocast("cpu"):
            y, s = x @ x, (x + 1).sum()
        with lightgrad.autocast(device_type="cpu", dtype=lightgrad.float16):
            pass
        lightgrad.autocast("cpu", enabled=False)
    assert [(x.category, x.filename) for x in w] == [(UserWarning, __file__)]
    assert "autocast changes nothing in lightgrad" in str(w[0].message)
    assert "keep their input dtypes" in str(w[0].message)
    assert y.dtype is lightgrad.float32 and s.dtype is lightgrad.float32
    assert y.tolist() == (x @ x).tolist()


def test_autocast_names_and_import_forms():
    import lightgrad.amp
    from lightgrad.amp import GradScaler, autocast
    from lightgrad.cuda.amp import GradScaler as CudaScaler
    assert lightgrad.autocast is autocast is lightgrad.amp.autocast
    assert lightgrad.amp.autocast_mode.autocast is autocast
    assert lightgrad.amp.GradScaler is GradScaler is lightgrad.amp.grad_scaler.GradScaler
    assert lightgrad.cuda.amp.GradScaler is CudaScaler and issubclass(CudaScaler, GradScaler)
    assert issubclass(lightgrad.cpu.amp.autocast, autocast)
    assert lightgrad.is_autocast_enabled is lightgrad.amp.autocast_mode.is_autocast_enabled
    assert lightgrad.get_autocast_dtype("cpu") is lightgrad.float16


def _deprecated_forms(m):
    f16 = m.float16
    return [_outcome(lambda: m.cuda.amp.autocast()._enabled),
            _outcome(lambda: m.cuda.amp.autocast(enabled=False)._enabled),
            _outcome(lambda: (m.cpu.amp.autocast(dtype=f16).device, m.cpu.amp.autocast(
                dtype=f16).fast_dtype)),
            _outcome(lambda: m.cpu.amp.autocast(dtype=m.float32)._enabled),
            _outcome(lambda: m.cuda.amp.GradScaler().is_enabled()),
            _outcome(lambda: m.cuda.amp.GradScaler(enabled=False).is_enabled()),
            _outcome(lambda: m.cpu.amp.GradScaler(init_scale=8.0).get_scale()),
            _outcome(lambda: m.amp.GradScaler().is_enabled()),
            _outcome(lambda: m.amp.GradScaler("cpu").get_scale()),
            _outcome(lambda: (m.cpu.is_available(), m.cpu.device_count(),
                              m.cpu.current_device(), m.cpu.synchronize()))]


def test_deprecated_forms_and_cpu_module_match_torch(torch, quiet):
    assert _deprecated_forms(lightgrad) == _deprecated_forms(torch)


def test_deprecated_autocast_warns_at_the_callers_line():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        lightgrad.cuda.amp.autocast()
    assert w[0].category is FutureWarning and w[0].filename == __file__
    assert w[1].category is UserWarning


# -- GradScaler -----------------------------------------------------------------------------
class _CountingOptimizer:
    def __init__(self, params):
        self.param_groups = [{"params": list(params)}]
        self.steps = 0

    def step(self, closure=None):
        self.steps += 1
        return "stepped"


def _disabled_scaler(m):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scaler = m.amp.GradScaler("cuda")
    p = m.ones(2, requires_grad=True)
    opt = _CountingOptimizer([p])
    x = m.ones(2)
    out = [scaler.scale(x) is x, scaler.is_enabled(), scaler.get_scale(), scaler.state_dict(),
           scaler.step(opt), opt.steps, scaler.step(opt, closure=None), opt.steps,
           scaler.unscale_(opt), scaler.update(), scaler.update(8.0),
           scaler.load_state_dict({}), scaler._get_growth_tracker(), p.grad]
    out.append(_outcome(scaler.get_growth_factor)[0])
    return out


def test_disabled_scaler_matches_torch(torch):
    assert _disabled_scaler(lightgrad) == _disabled_scaler(torch)
    s = _disabled_scaler(lightgrad)
    assert s[:8] == [True, False, 1.0, {}, "stepped", 1, "stepped", 2]


def _trajectory(m, steps, dtype, use_unscale, optim_name):
    """A CPU GradScaler on a small model; some steps get an inf or nan gradient."""
    gen = np.random.default_rng(0)
    w0, b0 = gen.standard_normal((3, 4)), gen.standard_normal(3)
    x, y = gen.standard_normal((5, 4)), gen.standard_normal((5, 3))
    dt = getattr(m, dtype)
    lin = m.nn.Linear(4, 3).to(dt)
    with m.no_grad():
        lin.weight.copy_(m.tensor(w0, dtype=dt))
        lin.bias.copy_(m.tensor(b0, dtype=dt))
    opt = (m.optim.SGD(lin.parameters(), lr=0.05, momentum=0.9) if optim_name == "sgd"
           else m.optim.Adam(lin.parameters(), lr=0.01))
    scaler = m.amp.GradScaler("cpu", init_scale=4.0, growth_factor=2.0, backoff_factor=0.5,
                              growth_interval=3)
    xs, ys = m.tensor(x, dtype=dt), m.tensor(y, dtype=dt)
    out = []
    for kind in steps:
        opt.zero_grad()
        loss = ((lin(xs) - ys) ** 2).mean()
        scaled = scaler.scale(loss)
        scaled.backward()
        if kind != "clean":
            with m.no_grad():
                lin.weight.grad[1, 2] = float(kind)
        if use_unscale:
            scaler.unscale_(opt)
            grads = [p.grad.detach().clone().numpy() for p in lin.parameters()]
        before = lin.weight.detach().clone().numpy()
        scaler.step(opt)
        skipped = bool(np.array_equal(before, lin.weight.detach().numpy()))
        scaler.update()
        row = [scaled.item(), scaler.get_scale(), scaler._get_growth_tracker(), skipped,
               [p.detach().clone().numpy() for p in lin.parameters()]]
        if use_unscale:
            row.append(grads)
        out.append(row)
    out.append(scaler.state_dict())
    return out


def _assert_same_trajectory(a, b, rtol):
    assert a[-1] == b[-1]                                       # the final state_dicts
    for ra, rb in zip(a[:-1], b[:-1], strict=True):
        assert ra[1:4] == rb[1:4]                               # scale, tracker, skipped
        np.testing.assert_allclose(ra[0], rb[0], rtol=rtol)
        for arrays_a, arrays_b in zip(ra[4:], rb[4:]):
            for u, v in zip(arrays_a, arrays_b, strict=True):
                np.testing.assert_allclose(u, v, rtol=rtol, atol=rtol)


STEPS = ["clean", "clean", "clean", "inf", "clean", "nan", "clean", "clean", "clean", "clean",
         "clean", "clean", "inf", "inf", "clean"]


@pytest.mark.parametrize("dtype, use_unscale, optim_name, rtol", [
    ("float64", False, "sgd", 1e-12), ("float64", True, "adam", 1e-12),
    ("float32", True, "sgd", 1e-5)])
def test_cpu_scaler_trajectory_matches_torch(torch, dtype, use_unscale, optim_name, rtol):
    mine = _trajectory(lightgrad, STEPS, dtype, use_unscale, optim_name)
    theirs = _trajectory(torch, STEPS, dtype, use_unscale, optim_name)
    _assert_same_trajectory(mine, theirs, rtol)
    skipped = [row[3] for row in mine[:-1]]
    assert skipped == [k != "clean" for k in STEPS]
    # growth after 3 clean steps, backoff on each inf/nan
    assert [row[1] for row in mine[:5]] == [4.0, 4.0, 8.0, 4.0, 4.0]


def test_cpu_scaler_unscales_by_the_float32_reciprocal():
    scaler = lightgrad.amp.GradScaler("cpu", init_scale=3.0)
    p = nn.Parameter(lightgrad.ones(2, dtype=lightgrad.float64))
    scaler.scale(p.sum()).backward()
    grad = p.grad
    scaler.unscale_(_CountingOptimizer([p]))
    assert p.grad is grad                                       # unscaled in place
    assert p.grad.tolist() == [3.0 * float(np.float32(1 / 3.0))] * 2


def _scale_forms(m):
    scaler = m.amp.GradScaler("cpu", init_scale=2.0)
    a, b = m.ones(2), m.full((1,), 3.0, dtype=m.float64)
    out = [scaler.get_scale(), scaler.state_dict()]
    lst = scaler.scale([a, (b, a)])
    out += [type(lst).__name__, type(lst[1]).__name__, lst[0].tolist(), lst[1][0].tolist(),
            lst[1][0].dtype, lst[0].dtype]
    gen = scaler.scale(iter([a]))
    out += [type(gen).__name__, [t.tolist() for t in gen]]
    out.append(_outcome(scaler.scale, [1.0])[0])
    out.append(scaler.scale(m.ones(1, dtype=m.float16)).dtype)
    out.append(scaler._scale.dtype)
    return [_norm(v) for v in out]


def test_scale_of_lists_and_tuples_matches_torch(torch):
    assert _scale_forms(lightgrad) == _scale_forms(torch)


def _scaler_errors(m):
    p = m.nn.Parameter(m.ones(2))
    opt = _CountingOptimizer([p])
    scaler = m.amp.GradScaler("cpu")
    out = [_outcome(scaler.step, opt), _outcome(scaler.unscale_, opt),
           _outcome(scaler.update)]
    scaler.scale(p.sum()).backward()
    out += [_outcome(scaler.unscale_, opt), _outcome(scaler.unscale_, opt),
            _outcome(scaler.step, opt), _outcome(scaler.step, opt),
            _outcome(scaler.unscale_, opt), _outcome(scaler.step, opt, closure=lambda: 0),
            opt.steps, _outcome(scaler.update), scaler.get_scale()]
    empty = _CountingOptimizer([m.nn.Parameter(m.ones(2))])    # no gradients at all
    out += [_outcome(scaler.step, empty), _outcome(scaler.update)]
    out += [_outcome(scaler.load_state_dict, {}),
            _outcome(m.amp.GradScaler, "cpu", growth_factor=1.0),
            _outcome(m.amp.GradScaler, "cpu", backoff_factor=1.0),
            _outcome(lambda: m.amp.GradScaler("cpu", growth_factor=1.0,
                                              enabled=False).is_enabled())]
    half = m.nn.Parameter(m.zeros(2, dtype=m.float16))
    half.grad = m.ones(2, dtype=m.float16)
    fresh = m.amp.GradScaler("cpu")
    fresh.scale(m.ones(1))
    out.append(_outcome(fresh.unscale_, _CountingOptimizer([half])))
    out += [_outcome(fresh.update, 4), _outcome(fresh.update, m.ones(2)),
            _outcome(fresh.update, m.ones(1, requires_grad=True)),
            _outcome(fresh.update, m.full((), 8.0)), fresh.get_scale(),
            _outcome(fresh.update, 2.0), fresh.get_scale()]
    return out


def test_scaler_errors_match_torch(torch):
    mine, theirs = _scaler_errors(lightgrad), _scaler_errors(torch)
    assert mine == theirs
    assert mine[4] == ("RuntimeError", "unscale_() has already been called on this optimizer "
                                       "since the last update().")
    assert mine[6] == ("RuntimeError", "step() has already been called since the last "
                                       "update().")
    assert mine[7] == ("RuntimeError", "unscale_() is being called after step().")
    assert mine[8][1] == "Closure use is not currently supported if GradScaler is enabled."


def _state_round_trip(m):
    scaler = m.amp.GradScaler("cpu", init_scale=16.0, growth_interval=2)
    p = m.nn.Parameter(m.ones(2))
    opt = _CountingOptimizer([p])
    for _ in range(3):
        scaler.scale(p.sum()).backward()
        scaler.step(opt)
        scaler.update()
    state = scaler.state_dict()
    other = m.amp.GradScaler("cpu")
    other.load_state_dict(state)
    restored = pickle.loads(pickle.dumps(scaler))
    return [state, other.state_dict(), other.get_scale(), restored.state_dict(),
            type(restored._per_optimizer_states).__name__]


def test_state_dict_and_pickle_match_torch(torch):
    mine = _state_round_trip(lightgrad)
    assert mine == _state_round_trip(torch)
    assert mine[0] == {"scale": 32.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                       "growth_interval": 2, "_growth_tracker": 1}


# -- compile --------------------------------------------------------------------------------
def _compiled_module(m):
    m.manual_seed(0)
    model = m.nn.Sequential(m.nn.Linear(2, 3), m.nn.ReLU(), m.nn.Linear(3, 1))
    c = m.compile(model)
    out = [type(c).__name__, isinstance(c, m.nn.Module), repr(c), str(c) == repr(c),
           list(c.state_dict()), _outcome(lambda: c[0])[0],
           c._orig_mod is model, list(c._modules), len(c),
           [p is q for p, q in zip(c.parameters(), model.parameters(), strict=True)],
           [n for n, _ in c.named_modules()], c.training]
    c.eval()
    out += [c.training, model.training, model[0].training]
    model.train()
    out.append(c.training)
    c.extra = 5
    out += [model.extra, "extra" in c.__dict__, _outcome(lambda: c.missing)]
    del c.extra
    out.append(hasattr(model, "extra"))
    lin = m.nn.Linear(2, 2)
    cl = m.compile(lin)
    out += [cl.weight is lin.weight, cl.in_features, _outcome(len, cl),
            _outcome(cl.load_state_dict, lin.state_dict()),
            str(cl.load_state_dict(cl.state_dict())), type(copy.deepcopy(cl)).__name__,
            m.compile(lin, disable=True) is lin]
    return out


def test_compiled_module_matches_torch(torch):
    mine = _compiled_module(lightgrad)
    assert mine == _compiled_module(torch)
    assert mine[2] == ("OptimizedModule(\n  (_orig_mod): Sequential(\n"
                       "    (0): Linear(in_features=2, out_features=3, bias=True)\n"
                       "    (1): ReLU()\n    (2): Linear(in_features=3, out_features=1, "
                       "bias=True)\n  )\n)")
    assert mine[4] == ["_orig_mod.0.weight", "_orig_mod.0.bias", "_orig_mod.2.weight",
                       "_orig_mod.2.bias"]


def test_compiled_module_computes_as_the_module():
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    c = lightgrad.compile(model, mode="max-autotune")
    x = lightgrad.randn(5, 4)
    calls = []
    model.register_forward_hook(lambda mod, args, out: calls.append(out.shape))
    y = c(x)
    assert calls == [(5, 2)]                     # the wrapped module's hooks run
    y.sum().backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model(x).sum().backward()
    assert lightgrad.equal(y, model(x))
    assert all(lightgrad.equal(g, p.grad) for g, p in zip(grads, model.parameters()))
    copied = copy.deepcopy(c)
    assert copied._orig_mod is not model and lightgrad.equal(copied(x), y)


def _compile_functions(m):
    def f(x, k=2):
        """doubles"""
        return x * k

    @m.compile
    def g(x):
        return x + 1

    @m.compile(mode="max-autotune", fullgraph=True, dynamic=False)
    def h(x):
        return x - 1

    cf = m.compile(f, backend="eager")
    x = m.tensor([1.0, 2.0])
    out = [cf.__name__, cf.__doc__, cf.__wrapped__ is f, g.__name__, h.__name__,
           type(cf).__name__, m.compile(f, disable=True) is f]
    if m is lightgrad:                           # torch would compile these calls: slow
        out += [cf(x, k=3).tolist(), g(x).tolist(), h(x).tolist()]
    for call in [lambda: m.compile(f, mode="max-autotune", options={}),
                 lambda: m.compile(f, mode="bogus"),
                 lambda: m.compile(f, backend="bogus"),
                 lambda: m.compile(3),
                 lambda: m.compile(3, disable=True),
                 lambda: m.compile(f, mode="bogus", disable=True),
                 lambda: m.compile()(None),
                 lambda: type(m.compile(mode="reduce-overhead")).__name__,
                 lambda: m.compile(f, backend="eager", mode="bogus") is f]:
        r = _outcome(call)
        out.append(r[:2] if r[0] == "ok" else r)
    return out


def test_compile_on_functions_matches_torch(torch):
    mine, theirs = _compile_functions(lightgrad), _compile_functions(torch)
    assert mine[10:] == theirs[7:]
    assert mine[:7] == theirs[:7]
    assert mine[7:10] == [[3.0, 6.0], [2.0, 3.0], [0.0, 1.0]]
    assert mine[12] == ("InvalidBackend", "Invalid backend: 'bogus', see "
                        "`torch._dynamo.list_backends()` for available backends.")


# -- layers ---------------------------------------------------------------------------------
def test_nothing_below_imports_amp_or_compile():
    top = ("lightgrad.amp", "lightgrad.cpu", "lightgrad.cuda.amp", "lightgrad._compile")
    mine = lambda name: any(name == t or name.startswith(t + ".") for t in top)  # noqa: E731
    bad = {name: sorted(i for i in imports if mine(i)) for name, imports in GRAPH.items()
           if name != "lightgrad" and not mine(name)}
    assert not {k: v for k, v in bad.items() if v}
    assert not any(i.startswith("lightgrad.nn") for name in GRAPH if name.startswith(
        ("lightgrad.amp", "lightgrad.cpu", "lightgrad.cuda")) for i in GRAPH[name])


def test_import_lightgrad_loads_amp_but_not_nn():
    code = ("import sys, lightgrad; print('lightgrad.nn' in sys.modules, "
            "'lightgrad.amp' in sys.modules, lightgrad.compile.__module__, "
            "'lightgrad.nn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True", "lightgrad._compile", "True"]
