"""nn.Parameter, nn.Module and the containers, against torch: reprs, names, state dicts,
hooks, modes, conversions and error texts."""
import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import lightgrad as lg
import lightgrad.nn as lnn


def _same_repr(a, b):
    # the prefix of dtype names is not binding (lightgrad.float32 vs torch.float32)
    def norm(o):
        return repr(o).replace("torch.", "lightgrad.")
    assert norm(a) == norm(b), f"\n{a!r}\n---\n{b!r}"


def _err(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        return type(e).__name__, str(e).replace("torch.", "lightgrad.")
    return None


def _build(nn):
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 4)
            self.act = nn.ReLU()
            self.register_buffer("count", nn.Parameter(nn.Linear(1, 1).weight.detach()[0],
                                                       requires_grad=False).detach())
            self.register_buffer("tmp", None)
            self.register_buffer("scratch", nn.Linear(2, 2).weight.detach(), persistent=False)

        def forward(self, x):
            return self.act(self.fc(x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.head = nn.Sequential(nn.Linear(4, 2), nn.Tanh(), nn.Linear(2, 1, bias=False))
            self.scale = nn.Parameter(nn.Linear(1, 1).bias.detach().clone())

        def forward(self, x):
            return self.head(self.block(x)) * self.scale
    return Net()


def _copy_weights(lm, tm, torch):
    sd = OrderedDict((k, torch.tensor(v.numpy())) for k, v in lm.state_dict().items())
    tm.load_state_dict(sd)


def test_parameter_repr_and_leaf(torch):
    for data in ([1.0, 2.0], [[1.5]], 3.0):
        _same_repr(lnn.Parameter(lg.tensor(data)), torch.nn.Parameter(torch.tensor(data)))
    _same_repr(lnn.Parameter(lg.tensor([1, 2]), requires_grad=False),
               torch.nn.Parameter(torch.tensor([1, 2]), requires_grad=False))
    _same_repr(lnn.Parameter(lg.tensor([1.0], dtype=lg.float64)),
               torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64)))
    _same_repr(lnn.Parameter(), torch.nn.Parameter())
    x = lg.tensor([1.0, 2.0], requires_grad=True) * 2
    p = lnn.Parameter(x)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None
    assert type(p * 2) is lg.Tensor
    assert _err(lambda: lnn.Parameter(lg.tensor([1, 2]))) == \
        _err(lambda: torch.nn.Parameter(torch.tensor([1, 2])))
    q = copy.deepcopy(p)
    assert type(q) is lnn.Parameter and q.requires_grad and q is not p
    r = pickle.loads(pickle.dumps(p))
    assert type(r) is lnn.Parameter and r.tolist() == p.tolist()


def test_nested_repr_names_and_state_dict_keys(torch):
    lm, tm = _build(lnn), _build(torch.nn)
    _same_repr(lm, tm)
    assert [n for n, _ in lm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert [n for n, _ in lm.named_buffers()] == [n for n, _ in tm.named_buffers()]
    assert [n for n, _ in lm.named_modules()] == [n for n, _ in tm.named_modules()]
    assert [n for n, _ in lm.named_children()] == [n for n, _ in tm.named_children()]
    assert list(lm.state_dict()) == list(tm.state_dict())
    assert list(lm.state_dict(prefix="m.")) == list(tm.state_dict(prefix="m."))
    assert list(lm.state_dict()._metadata) == list(tm.state_dict()._metadata)
    assert len(list(lm.parameters())) == len(list(tm.parameters()))
    assert len(list(lm.modules())) == len(list(tm.modules()))
    assert [type(m).__name__ for m in lm.children()] == [type(m).__name__ for m in tm.children()]
    # state_dict values are detached; keep_vars keeps the Parameters
    sd = lm.state_dict()
    assert not sd["block.fc.weight"].requires_grad
    assert lm.state_dict(keep_vars=True)["block.fc.weight"] is lm.block.fc.weight


def test_forward_and_backward_match_with_copied_weights(torch):
    lm, tm = _build(lnn).double(), _build(torch.nn).double()
    _copy_weights(lm, tm, torch)
    x = np.random.default_rng(0).standard_normal((5, 3))
    ly, ty = lm(lg.tensor(x)), tm(torch.tensor(x))
    np.testing.assert_allclose(ly.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    ly.sum().backward()
    ty.sum().backward()
    for (n, p), (_, q) in zip(lm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, err_msg=n)


def test_load_state_dict_reports(torch):
    lm, tm = _build(lnn), _build(torch.nn)
    sd_l, sd_t = lm.state_dict(), tm.state_dict()
    for drop, extra in [(["head.0.bias"], {}), ([], {"bogus": 1.0, "block.nope.w": 2.0}),
                        (["scale", "block.count"], {"head.9.weight": 0.0})]:
        dl = OrderedDict((k, v) for k, v in sd_l.items() if k not in drop)
        dt = OrderedDict((k, v) for k, v in sd_t.items() if k not in drop)
        for k, v in extra.items():
            dl[k], dt[k] = lg.tensor(v), torch.tensor(v)
        assert _err(lambda a=dl: lm.load_state_dict(a)) == \
            _err(lambda a=dt: tm.load_state_dict(a))
        rl, rt = lm.load_state_dict(dl, strict=False), tm.load_state_dict(dt, strict=False)
        assert repr(rl) == repr(rt)
        assert rl.missing_keys == rt.missing_keys and rl.unexpected_keys == rt.unexpected_keys
    assert repr(lm.load_state_dict(sd_l)) == repr(tm.load_state_dict(sd_t)) == \
        "<All keys matched successfully>"
    # a shape mismatch
    bad_l = dict(sd_l, **{"head.0.weight": lg.zeros(3, 3)})
    bad_t = dict(sd_t, **{"head.0.weight": torch.zeros(3, 3)})
    assert _err(lambda: lm.load_state_dict(bad_l)) == _err(lambda: tm.load_state_dict(bad_t))
    assert _err(lambda: lm.load_state_dict([1])) == _err(lambda: tm.load_state_dict([1]))


def test_load_state_dict_copies_values_in_place():
    a, b = lnn.Linear(3, 2), lnn.Linear(3, 2)
    w = b.weight
    b.load_state_dict(a.state_dict())
    assert b.weight is w
    assert np.array_equal(b.weight.detach().numpy(), a.weight.detach().numpy())
    assert b.weight.requires_grad
    c = lnn.Linear(3, 2)
    c.load_state_dict(a.state_dict(), assign=True)
    assert np.array_equal(c.weight.detach().numpy(), a.weight.detach().numpy())
    assert isinstance(c.weight, lnn.Parameter)


def test_registration_errors_match(torch):
    def cases(nn, t):
        m = nn.Linear(2, 2)
        return [
            lambda: setattr(m, "weight", t.zeros(2, 2)),
            lambda: m.register_parameter("a.b", None),
            lambda: m.register_parameter("", None),
            lambda: m.register_parameter("x", t.zeros(2)),
            lambda: m.register_parameter("training", None),
            lambda: m.register_parameter(3, None),
            lambda: m.register_buffer("a.b", None),
            lambda: m.register_buffer("weight", t.zeros(1)),
            lambda: m.register_buffer("b", 3),
            lambda: m.add_module("x", 3),
            lambda: m.add_module("a.b", nn.ReLU()),
            lambda: m.add_module("", nn.ReLU()),
            lambda: m.register_parameter(
                "w2", nn.Parameter(t.zeros(2, requires_grad=True) * 2)),
            lambda: m.nothing,
            lambda: m.get_submodule("a.b"),
            lambda: m.get_submodule("weight"),
            lambda: m.train("yes"),
            lambda: nn.Module().forward(1),
            lambda: m.to(t.int64),
        ]
    for a, b in zip(cases(lnn, lg), cases(torch.nn, torch)):
        assert _err(a) == _err(b)

    class Early(lnn.Module):
        def __init__(self):
            self.w = lnn.Parameter(lg.zeros(1))
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_setattr_moves_between_registries():
    m = lnn.Module()
    m.x = lnn.Parameter(lg.zeros(1))
    assert "x" in m._parameters
    m.x = None
    assert m._parameters["x"] is None and m.x is None
    m.y = lnn.ReLU()
    assert "y" in m._modules
    del m.y
    assert "y" not in m._modules
    m.register_buffer("b", lg.zeros(2))
    m.b = lg.ones(2)
    assert m._buffers["b"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError):
        m.b = 3
    m.c = lnn.Buffer(lg.zeros(1), persistent=False)
    assert "c" in m._buffers and "c" in m._non_persistent_buffers_set
    assert "c" not in m.state_dict()
    d = dir(lnn.Sequential(lnn.Linear(1, 1)))
    assert "0" not in d and "forward" in d
    assert "weight" in dir(lnn.Linear(1, 1))


def test_hooks():
    m = lnn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    y = m(lg.ones(3, 2))
    expected = (m.bias + 1).detach().expand(3, 2).numpy()
    np.testing.assert_allclose(y.detach().numpy(), expected)
    assert calls == [lg.Size([3, 2])]
    h1.remove()
    h2.remove()
    np.testing.assert_allclose(m(lg.ones(1, 2)).detach().numpy(),
                               (lg.ones(1, 2) @ m.weight.t() + m.bias).detach().numpy())
    order = []
    m.register_forward_pre_hook(lambda mod, a: order.append("a"))
    m.register_forward_pre_hook(lambda mod, a: order.append("b"), prepend=True)
    m.register_forward_hook(lambda mod, a, kw, o: order.append(sorted(kw)), with_kwargs=True)
    m(input=lg.ones(1, 2))
    assert order == ["b", "a", ["input"]]


def test_modes_grads_apply_and_conversions(torch):
    m = lnn.Sequential(lnn.Linear(2, 3), lnn.Dropout(), lnn.Sequential(lnn.ReLU()))
    assert all(x.training for x in m.modules())
    assert m.eval() is m and not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    m(lg.ones(4, 2)).sum().backward()
    assert m[0].weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert m[0].weight.grad.abs().sum().item() == 0
    m.zero_grad()
    assert m[0].weight.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "Dropout", "ReLU", "Sequential", "Sequential"]
    w = m[0].weight
    assert m.double() is m and m[0].weight is w and w.dtype is lg.float64
    m.float()
    assert w.dtype is lg.float32
    m.to(lg.float64)
    assert w.dtype is lg.float64 and w.requires_grad and w.is_leaf
    m.half()
    assert w.dtype is lg.float16
    m.to("cpu").to(device="cpu", dtype=lg.float32).cpu()
    assert w.dtype is lg.float32
    bn = lnn.Module()
    bn.register_buffer("n", lg.tensor(3))
    bn.double()
    assert bn.n.dtype is lg.int64
    bn.type(lg.float64)
    assert bn.n.dtype is lg.float64


def test_deepcopy_and_pickle_module():
    m = lnn.Sequential(lnn.Linear(2, 3), lnn.ReLU())
    c = copy.deepcopy(m)
    assert c[0].weight is not m[0].weight
    assert np.array_equal(c[0].weight.detach().numpy(), m[0].weight.detach().numpy())
    assert isinstance(c[0].weight, lnn.Parameter)
    p = pickle.loads(pickle.dumps(m))
    assert repr(p) == repr(m)
    x = lg.ones(1, 2)
    np.testing.assert_allclose(p(x).detach().numpy(), m(x).detach().numpy())


def test_shared_parameters_counted_once(torch):
    for nn in (lnn, torch.nn):
        lin = nn.Linear(2, 2)
        s = nn.Sequential(lin, lin)
        assert len(list(s.parameters())) == 2
        assert [n for n, _ in s.named_modules()] == ["", "0"]
        assert len(list(s.named_parameters(remove_duplicate=False))) == 4
        assert list(s.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_sequential_behaviour(torch):
    def make(nn):
        return nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3), nn.Tanh())
    ls, ts = make(lnn), make(torch.nn)
    _same_repr(ls[1:3], ts[1:3])
    _same_repr(ls[::2], ts[::2])
    _same_repr(ls[-1], ts[-1])
    assert type(ls[1:]) is lnn.Sequential and len(ls) == 4
    assert _err(lambda: ls[9]) == _err(lambda: ts[9])
    for s, nn in ((ls, lnn), (ts, torch.nn)):
        s.append(nn.Sigmoid())
        del s[0]
        s.insert(1, nn.Identity())
        s[0] = nn.ELU()
    _same_repr(ls, ts)
    _same_repr(ls + lnn.Sequential(lnn.ReLU()), ts + torch.nn.Sequential(torch.nn.ReLU()))
    _same_repr(lnn.Sequential(OrderedDict(a=lnn.ReLU(), b=lnn.Linear(1, 2))),
               torch.nn.Sequential(OrderedDict(a=torch.nn.ReLU(), b=torch.nn.Linear(1, 2))))
    _same_repr(lnn.Sequential(), torch.nn.Sequential())
    assert [type(m).__name__ for m in ls] == [type(m).__name__ for m in ts]
    assert _err(lambda: lnn.Sequential(3)) == _err(lambda: torch.nn.Sequential(3))


def test_module_list_and_dict(torch):
    def make(nn):
        ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
        ml.append(nn.ReLU())
        ml.extend([nn.ReLU(), nn.Tanh()])
        ml.insert(0, nn.Sigmoid())
        md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Linear(1, 2)})
        md["c"] = nn.Tanh()
        return ml, md
    (lml, lmd), (tml, tmd) = make(lnn), make(torch.nn)
    _same_repr(lml, tml)
    _same_repr(lml[1:3], tml[1:3])
    _same_repr(lmd, tmd)
    assert list(lmd.keys()) == list(tmd.keys()) and len(lmd) == len(tmd) == 3
    assert "a" in lmd and lmd.pop("a") is not None and "a" not in lmd
    assert _err(lambda: lml[10]) == _err(lambda: tml[10])
    assert list(lml.state_dict()) == list(tml.state_dict())
    _same_repr(lnn.ModuleList(), torch.nn.ModuleList())
    del lml[0]
    assert type(lml[0]).__name__ == "Linear"


def test_parameter_list_and_dict(torch):
    def make(nn, t):
        pl = nn.ParameterList([t.zeros(2, 3), nn.Parameter(t.zeros(2, dtype=t.float64))])
        pl.append(t.ones(1))
        pd = nn.ParameterDict({"b": t.zeros(2, 3), "a": nn.Parameter(t.zeros(2))})
        pd["c"] = t.ones(4)
        return pl, pd
    (lpl, lpd), (tpl, tpd) = make(lnn, lg), make(torch.nn, torch)
    _same_repr(lpl, tpl)
    _same_repr(lpd, tpd)
    assert isinstance(lpl[0], lnn.Parameter) and isinstance(lpd["c"], lnn.Parameter)
    assert list(lpl.state_dict()) == list(tpl.state_dict())
    assert list(lpd.state_dict()) == list(tpd.state_dict())
    assert list(lpd.keys()) == list(tpd.keys())
    assert len(lpl) == 3 and len(list(lpl.parameters())) == 3
    _same_repr(lnn.ParameterList(), torch.nn.ParameterList())
    _same_repr(lnn.ParameterDict(), torch.nn.ParameterDict())


def test_state_dict_hooks():
    m = lnn.Linear(2, 2)
    seen = []
    m.register_state_dict_pre_hook(lambda mod, prefix, keep: seen.append(prefix))
    m.register_load_state_dict_post_hook(lambda mod, keys: seen.append(tuple(keys)))
    m.load_state_dict(m.state_dict(prefix=""))
    assert seen == ["", ([], [])]
