"""lightgrad.func (grad, grad_and_value, vjp, jacrev, hessian, functional_call) against
torch.func: values, pytree structures, requires_grad, errors; nesting; nn modules."""
import numpy as np
import pytest

import lightgrad

from .test_functional import assert_same, describe, run


def same(torch, expr, graph=True):
    t = run(torch, expr, {"func": torch.func})
    g = run(lightgrad, expr, {"func": lightgrad.func})
    if t[0] == "error" or g[0] == "error":
        assert g == t, f"{expr}\n torch:     {t}\n lightgrad: {g}"
        return
    assert_same(describe(t[1], torch), describe(g[1], lightgrad), expr, graph)


X = "torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)"
Y = "torch.tensor([[1.0, 2.0], [-0.5, 0.25]], dtype=torch.float64)"

VALUES = [
    f"func.grad(lambda x: (x.sin() * x).sum())({X})",
    f"func.grad(lambda x, y: (x[:2] @ y).sum(), argnums=1)({X}, {Y})",
    f"func.grad(lambda x, y: (x[:2] @ y).sum(), argnums=(0, 1))({X}, {Y})",
    f"func.grad(lambda x, y: (x[:2] @ y).sum(), argnums=-1)({X}, {Y})",
    f"func.grad(lambda p, x: (p['w'] * x).sum() + p['b'][0] ** 2)("
    f"{{'w': {X}, 'b': ({X}, [{Y}])}}, {X})",
    f"func.grad(lambda p: p[0].sum() * p[1][0].prod())([{X}, [{Y}]])",
    f"func.grad(lambda x: ((x ** 2).sum(), {{'a': x * 2, 'b': [x.sum()]}}), has_aux=True)({X})",
    f"func.grad_and_value(lambda x: (x.exp()).sum())({X})",
    f"func.grad_and_value(lambda x: ((x.exp()).sum(), x.max()), has_aux=True)({X})",
    f"func.grad(lambda x: torch.tensor(1.))({X})",
    f"func.grad(lambda x, y: y.sum())({X}, {X})",
    f"func.grad(lambda x, *, k: (x * k).sum())({X}, k=3.0)",
    "func.grad(lambda x: (x * 2).sum())(torch.tensor([1., 2.], requires_grad=True))",
    f"func.jacrev(lambda x: x.sin() * x)({X})",
    f"func.jacrev(lambda x, y: (x[:2] @ y, y.sum()), argnums=(0, 1))({X}, {Y})",
    f"func.jacrev(lambda x: {{'a': x * 2, 'b': (x.sum(),)}})({X})",
    f"func.jacrev(lambda p: p['w'].exp() * p['v'].sum())({{'w': {X}, 'v': {Y}}})",
    f"func.jacrev(lambda x: (x.sin(), x.cos()), has_aux=True)({X})",
    f"func.jacrev(lambda x, y: y)({X}, {X})",
    f"func.jacrev(lambda x: x.sum())({X})",
    f"func.hessian(lambda x: (x ** 3).prod())({X})",
    f"func.hessian(lambda x, y: (x[:2] @ y).exp().sum(), argnums=(0, 1))({X}, {Y})",
    f"func.hessian(lambda x, y: (x[:2] @ y).exp().sum(), argnums=1)({X}, {Y})",
    f"func.vjp(lambda x: x.sin() * x, {X})[1]({X})",
    f"func.vjp(lambda x: x.sin() * x, {X})[0]",
    f"func.vjp(lambda x, y: {{'a': x[:2] @ y, 'b': [y * 2]}}, {X}, {Y})[1]("
    f"{{'a': torch.ones(2, dtype=torch.float64), 'b': [{Y}]}})",
    f"func.vjp(lambda x: (x * 2, x.sum()), {X}, has_aux=False)[1]((torch.ones(3, "
    "dtype=torch.float64), torch.tensor(2., dtype=torch.float64)))",
    f"func.vjp(lambda x: (x * 2, {{'m': x.max()}}), {X}, has_aux=True)[2]",
    f"func.vjp(lambda p: p['w'] * 3, {{'w': {X}}})[1]({X})",
    # forward mode
    f"func.jvp(lambda x: x.sin() * x, ({X},), (torch.ones(3, dtype=torch.float64),))",
    f"func.jvp(lambda x, y: (x[:2] @ y, y.sum()), ({X}, {Y}), ({X} * 2, {Y} - 1))",
    f"func.jvp(lambda p: {{'a': p['w'].exp(), 'b': [p['w'].sum()]}}, ({{'w': {X}}},), "
    f"({{'w': {X}}},))",
    f"func.jvp(lambda x: (x * 2, {{'m': x.max()}}), ({X},), ({X},), has_aux=True)",
    f"func.jvp(lambda x, y: y * 2, ({X}, {X}), ({X}, {X}))",
    f"func.jvp(lambda x: torch.tensor(3.), ({X},), ({X},))",
    f"func.jacfwd(lambda x: x.sin() * x)({X})",
    f"func.jacfwd(lambda x, y: (x[:2] @ y, y.sum()), argnums=(0, 1))({X}, {Y})",
    f"func.jacfwd(lambda x: {{'a': x * 2, 'b': (x.sum(),)}})({X})",
    f"func.jacfwd(lambda p: p['w'].exp() * p['v'].sum())({{'w': {X}, 'v': {Y}}})",
    f"func.jacfwd(lambda x: (x.sin(), x.cos()), has_aux=True)({X})",
    f"func.jacfwd(lambda x: x.softmax(0).log().cumsum(0))({X})",
    f"func.jacfwd(func.jacrev(lambda x: (x ** 3).prod()))({X})",
    f"func.linearize(lambda x: x.sin() * x, {X})[0]",
    f"func.linearize(lambda x: x.sin() * x, {X})[1]({X})",
    f"func.linearize(lambda x, y: (x[:2] @ y, y.exp()), {X}, {Y})[1]({X}, {Y})",
    "func.stack_module_state([torch.nn.Linear(2, 3) for _ in range(4)])[0]['weight'].shape",
    "func.stack_module_state([torch.nn.BatchNorm1d(2) for _ in range(3)])[1]['running_mean']",
    # nesting: the inner result keeps the outer graph exactly where it depends on it
    f"func.grad(lambda x: func.grad(lambda y: (x * y ** 2).sum())(x).sum())({X})",
    f"func.grad(lambda x: func.grad(lambda y: (y ** 3).sum())(x).sum())({X})",
    f"func.jacrev(func.jacrev(lambda x: x.sin() * x.sum()))({X})",
    f"func.grad(lambda x: func.vjp(lambda y: y * x, x)[1](x)[0].sum())({X})",
    # a tensor that requires grad outside the transform keeps its graph through it
    "func.grad(lambda x: (w * x * x).sum())(torch.tensor([1., 2.]))",
    "(lambda g: torch.autograd.grad(g.sum(), w))(func.grad(lambda x: (w * x * x).sum())("
    "torch.tensor([1., 2.])))",
    "func.grad(lambda x: (x * x).sum() + w.sum())(torch.tensor([1., 2.]))",
    "func.grad_and_value(lambda x: (x * x).sum() + w.sum())(torch.tensor([1., 2.]))",
    # an enclosing no_grad does not stop a transform
    f"(lambda: [torch.set_grad_enabled(False), func.grad(lambda x: (x ** 2).sum())({X}), "
    "torch.set_grad_enabled(True)][1])()",
]


@pytest.mark.parametrize("expr", VALUES)
def test_values_and_structures_match_torch(torch, expr):
    if "w" in expr.split("lambda")[-1] or "(w" in expr:
        expr = f"(lambda w: {expr})(torch.tensor([3., 4.], requires_grad=True))"
    same(torch, expr)


ERRORS = [
    "func.jvp(torch.sin, torch.ones(3), (torch.ones(3),))",
    "func.jvp(torch.sin, (torch.ones(3),), (torch.ones(2),))",
    "func.jvp(torch.sin, (1.0,), (1.0,))",
    "func.jvp(lambda x: x * 2, (torch.ones(3),), (torch.ones(3),), has_aux=True)",
    "func.jvp(lambda x: 3, (torch.ones(3),), (torch.ones(3),))",
    "func.jacfwd(lambda x: x * 2, randomness='bad')(torch.ones(3))",
    "func.grad(lambda x: x)(torch.ones(3))",
    "func.grad(lambda x: (x, x))(torch.ones(3))",
    "func.grad(lambda x: x.sum(), has_aux=True)(torch.ones(3))",
    "func.grad(lambda x: (x.sum(), 1, 2), has_aux=True)(torch.ones(3))",
    "func.grad(lambda x: (x.sum(), 1), has_aux=True)(torch.ones(3))",
    "func.grad(lambda x: x.sum(), argnums=1)(torch.ones(3))",
    "func.grad(lambda x: x.sum(), argnums=-2)(torch.ones(3))",
    "func.grad(lambda x: x.sum(), argnums=(0, 0))(torch.ones(3))",
    "func.grad(lambda x, y: x.sum(), argnums=(0, -2))(torch.ones(3), torch.ones(3))",
    "func.grad(lambda x: x.sum(), argnums=1.0)(torch.ones(3))",
    "func.grad(lambda x: x.sum(), argnums=[0])(torch.ones(3))",
    "func.grad(lambda x: x.sum(), argnums=())(torch.ones(3))",
    "func.grad(lambda x: x.sum())()",
    "func.grad(lambda x: x.sum())(3.0)",
    "func.grad(lambda x: x['a'].sum())({'a': torch.ones(3), 'b': 3})",
    "func.grad(lambda x: x[0].sum())([torch.ones(3), None])",
    "func.grad(lambda x: x.sum())(torch.arange(3))",
    "func.grad(lambda x: x.sum().reshape(1))(torch.ones(3))",
    "func.vjp(lambda x: x * 2, torch.ones(3))[1](torch.ones(2))",
    "func.vjp(lambda x: (x * 2, x), torch.ones(3))[1](torch.ones(3))",
    "func.vjp(lambda x: (x * 2, x), torch.ones(3))[1]((torch.ones(3),))",
    "func.vjp(lambda x: x * 2, torch.ones(3))[1]((torch.ones(3),))",
    "func.vjp(lambda x: x * 2, torch.ones(3))[1]([torch.ones(3)])",
    "func.vjp(lambda x: x * 2, torch.ones(3))[1]({'a': torch.ones(3), 'b': [1]})",
    "func.vjp(lambda x: x * 2, torch.ones(3), has_aux=True)",
    "func.vjp(lambda x: 3, torch.ones(3))",
    "func.vjp(lambda x: x * 2, 3.0)",
    "func.vjp(lambda x: x.sum() * 2, torch.ones(3))[1](torch.ones(1))",
    "func.jacrev(lambda x: x)(3.0)",
    "func.jacrev(lambda x: 3)(torch.ones(3))",
    "func.jacrev(lambda x: x * 2)(torch.arange(3))",
    "func.jacrev(lambda x: x, argnums=2)(torch.ones(3))",
    "func.jacrev(lambda x: x, chunk_size=0)",
    "func.jacrev(lambda x: x, has_aux=True)(torch.ones(3))",
    "func.jacrev(lambda x: (x, 2), has_aux=True)(torch.ones(3))",
]


@pytest.mark.parametrize("expr", ERRORS)
def test_errors_match_torch(torch, expr):
    same(torch, expr)


def test_vjp_fn_can_be_called_twice_and_with_create_graph():
    x = lightgrad.tensor([1.0, 2.0])
    _, fn = lightgrad.func.vjp(lambda a: a ** 3, x)
    first = fn(lightgrad.ones(2))[0]
    np.testing.assert_allclose(fn(lightgrad.ones(2))[0].numpy(), first.numpy())
    np.testing.assert_allclose(first.numpy(), [3.0, 12.0])
    assert not first.requires_grad
    # as in torch.func, a result tied only to the transform's own inputs comes back plain,
    # even with create_graph=True; one tied to an outer tensor keeps its graph
    assert not fn(lightgrad.ones(2), create_graph=True)[0].requires_grad
    c = lightgrad.ones(2, requires_grad=True)
    g = fn(c)[0]
    assert g.requires_grad
    (gc,) = lightgrad.autograd.grad(g.sum(), c)
    np.testing.assert_allclose(gc.numpy(), [3.0, 12.0])


def test_hessian_and_jacrev_match_finite_differences():
    rng = np.random.default_rng(2)
    xs = rng.normal(size=4)

    def f(x):
        return (x.sin() * x.exp()).sum() + (x[:2] * x[2:]).prod()

    def num_grad(fn, a, eps=1e-6):
        out = []
        for k in range(a.size):
            p, m = a.copy(), a.copy()
            p[k] += eps
            m[k] -= eps
            out.append((fn(p) - fn(m)) / (2 * eps))
        return np.stack(out, axis=-1)

    grad_np = lambda a: lightgrad.func.grad(f)(lightgrad.tensor(a)).numpy()  # noqa: E731
    hess = lightgrad.func.hessian(f)(lightgrad.tensor(xs)).numpy()
    np.testing.assert_allclose(hess, num_grad(grad_np, xs), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(hess, hess.T, rtol=1e-12)
    jac = lightgrad.func.jacrev(lambda x: x.tanh() * x.sum())(lightgrad.tensor(xs)).numpy()
    num = num_grad(lambda a: np.tanh(a) * a.sum(), xs)
    np.testing.assert_allclose(jac, num, rtol=1e-6, atol=1e-7)


def test_grad_is_gradcheckable_when_nested():
    x = lightgrad.tensor([0.3, -0.7, 1.1], dtype=lightgrad.float64, requires_grad=True)
    g = lightgrad.func.grad(lambda a: (a.exp() * a.sin()).sum())
    assert lightgrad.autograd.gradcheck(g, (x,))


# -- functional_call ---------------------------------------------------------------------

def _mlp(nn, torch):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def test_functional_call_mlp_matches_torch_and_restores(torch):
    lg = lightgrad
    tm, lm = _mlp(torch.nn, torch), _mlp(lg.nn, lg)
    rng = np.random.default_rng(3)
    arrays = {n: rng.normal(size=tuple(p.shape)) for n, p in tm.named_parameters()}
    x = rng.normal(size=(5, 3))
    t_params = {n: torch.tensor(a, dtype=torch.float32) for n, a in arrays.items()}
    l_params = {n: lg.tensor(a, dtype=lg.float32) for n, a in arrays.items()}
    before = {n: p.detach().numpy().copy() for n, p in lm.named_parameters()}

    t_out = torch.func.functional_call(tm, t_params, (torch.tensor(x, dtype=torch.float32),))
    l_out = lg.func.functional_call(lm, l_params, lg.tensor(x, dtype=lg.float32))
    np.testing.assert_allclose(l_out.numpy(), t_out.numpy(), rtol=1e-5, atol=1e-6)
    assert not l_out.requires_grad
    # the module's own parameters are back, still Parameters, unchanged
    for n, p in lm.named_parameters():
        assert isinstance(p, lg.nn.Parameter)
        np.testing.assert_array_equal(p.detach().numpy(), before[n])

    # gradients with respect to the given tensors, through func.grad
    def loss_of(mod, model):
        return lambda params, inp: mod.func.functional_call(model, params, inp).pow(2).sum()

    grads = {
        "torch": torch.func.grad(loss_of(torch, tm))(t_params, torch.tensor(x).float()),
        "lightgrad": lg.func.grad(loss_of(lg, lm))(l_params, lg.tensor(x).float()),
    }
    for n in arrays:
        np.testing.assert_allclose(grads["lightgrad"][n].numpy(), grads["torch"][n].numpy(),
                                   rtol=1e-4, atol=1e-5)
    assert all(p.grad is None for p in lm.parameters())


def test_functional_call_restores_after_error_and_buffers():
    lg = lightgrad
    m = lg.nn.Linear(2, 2)
    w = m.weight
    with pytest.raises(RuntimeError):
        lg.func.functional_call(m, {"weight": lg.ones(3, 3)}, lg.ones(2))
    assert m.weight is w
    bn = lg.nn.BatchNorm1d(2)
    mean = bn.running_mean
    new_mean = lg.zeros(2) + 5
    bn.train()
    lg.func.functional_call(bn, {"running_mean": new_mean}, lg.tensor([[1., 2.], [3., 5.]]))
    assert bn.running_mean is mean
    np.testing.assert_array_equal(mean.numpy(), [0.0, 0.0])


FC_ERRORS = [
    "func.stack_module_state([])",
    "func.stack_module_state([torch.nn.Linear(2, 3), torch.nn.ReLU()])",
    "func.functional_call(m, ({'weight': torch.ones(2, 2)}, {'weight': torch.ones(2, 2)}), x)",
    "func.functional_call(m, 3, x)",
    "func.functional_call(m, [{'weight': torch.ones(2, 2)}], x)",
    "func.functional_call(m, {'weight': torch.ones(2, 2)}, x, strict=True)",
    "func.functional_call(m, {'weight': torch.ones(2, 2), 'bias': torch.ones(2), "
    "'foo': torch.ones(1)}, x, strict=True)",
    "func.functional_call(m, {'foo': torch.ones(1)}, x, strict=True)",
    "func.functional_call(m, {'weight': torch.ones(2, 2), 'foo': torch.ones(1)}, (x,))",
    "func.functional_call(m, {'weight': 3}, x)",
    "func.functional_call(s, {'0.weight': torch.zeros(2, 2)}, x)",
    "func.functional_call(s, {'0.weight': torch.zeros(2, 2), '1.weight': torch.ones(2, 2)}, x)",
    "func.functional_call(s, {'0.weight': torch.zeros(2, 2), '1.weight': torch.ones(2, 2)}, "
    "x, tie_weights=False)",
    "func.functional_call(s, {'0.weight': torch.zeros(2, 2)}, x, tie_weights=False)",
    "func.functional_call(s, {'0.weight': torch.zeros(2, 2), '1.bias': None}, x)",
    "func.functional_call(s, {'2.weight': torch.zeros(2, 2)}, x)",
    "func.functional_call(s, {'0.foo.bar': torch.zeros(2, 2)}, x)",
    "func.functional_call(m, {'weight': torch.ones(2, 2)}, (x,), {'foo': 1})",
    "func.functional_call(m, {'weight': torch.ones(2, 2)}, kwargs={'input': x})",
    "[func.functional_call(m, {'foo': torch.ones(1)}, x), hasattr(m, 'foo')][1]",
]


@pytest.mark.parametrize("expr", FC_ERRORS)
def test_functional_call_matches_torch(torch, expr):
    setup = ("(lambda m, s, x: {expr})(*(lambda m, s: [m, s, torch.tensor([1.0, -2.0])])("
             "torch.nn.Linear(2, 2), (lambda s: [setattr(s[1], 'weight', s[0].weight), s][1])("
             "torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)))))")
    # the modules' own random weights differ between libraries: fix them first
    fixed = setup.format(expr=expr).replace(
        "torch.nn.Linear(2, 2)", "fix(torch.nn.Linear(2, 2))")
    t = run(torch, fixed, {"func": torch.func, "fix": _fixer(torch)})
    g = run(lightgrad, fixed, {"func": lightgrad.func, "fix": _fixer(lightgrad)})
    if t[0] == "error" or g[0] == "error":
        assert g == t, f"{expr}\n torch:     {t}\n lightgrad: {g}"
        return
    assert_same(describe(t[1], torch), describe(g[1], lightgrad), expr)


def _fixer(mod):
    counter = iter(range(100))

    def fix(layer):
        k = next(counter)
        with mod.no_grad():
            layer.weight.copy_(mod.tensor([[0.5, -1.0], [2.0, 0.25]]) * (k + 1))
            layer.bias.copy_(mod.tensor([0.1, -0.2]) * (k + 1))
        return layer
    return fix
