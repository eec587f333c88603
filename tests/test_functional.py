"""autograd.functional (jacobian, hessian, vjp, jvp, hvp, vhp) against torch: values,
structures (Tensor vs tuple), requires_grad, node names, and strict-mode errors; plus
numerical checks by central differences."""
import math

import numpy as np
import pytest

import lightgrad


def run(mod, expr, env=None):
    """Evaluate expr with `torch` bound to mod: ('ok', result) or ('error', type, message)."""
    scope = {"torch": mod, "F": mod.autograd.functional, "np": np, "math": math}
    scope.update(env or {})
    try:
        return ("ok", eval(expr, scope))
    except Exception as e:  # noqa: BLE001 - the error itself is compared
        return ("error", type(e).__name__, str(e).replace("torch.", "lightgrad."))


def describe(r, torch_mod):
    """A comparable picture of a result: nested containers of tensor facts."""
    if isinstance(r, torch_mod.Tensor):
        fn = r.grad_fn
        return ("T", str(r.dtype).split(".")[-1], tuple(r.shape), r.requires_grad,
                type(fn).__name__ if fn is not None else None,
                np.asarray(r.detach().tolist(), dtype=float))
    if isinstance(r, (tuple, list)):
        return (type(r).__name__, [describe(x, torch_mod) for x in r])
    if isinstance(r, dict):
        return ("dict", [(k, describe(v, torch_mod)) for k, v in r.items()])
    return ("v", repr(r))


def assert_same(a, b, path="result", graph=True):
    """graph=False skips requires_grad and node names: with create_graph, those of a
    gradient reflect how each op's rule is written (torch's pow rule keeps x.pow(0), ...)."""
    if isinstance(a, np.ndarray):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6, err_msg=path)
        return
    if isinstance(a, tuple) and a and a[0] == "T":
        n = 5 if graph else 3
        assert a[:n] == b[:n], f"{path}: torch {a[:5]} lightgrad {b[:5]}"
        assert_same(a[5], b[5], path)
        return
    assert type(a) is type(b), f"{path}: {a!r} vs {b!r}"
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b), f"{path}: {a!r} vs {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]", graph)
    else:
        assert a == b, f"{path}: torch {a!r} lightgrad {b!r}"


def same(torch, expr, graph=True):
    """torch and lightgrad give the same outcome for expr (errors included)."""
    t = run(torch, expr)
    g = run(lightgrad, expr)
    if t[0] == "error" or g[0] == "error":
        assert g == t, f"{expr}\n torch:     {t}\n lightgrad: {g}"
        return
    assert_same(describe(t[1], torch), describe(g[1], lightgrad), expr, graph)


X = "torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)"
Y = "torch.tensor([[1.0, 2.0], [-0.5, 0.25]], dtype=torch.float64)"
Z = "torch.tensor(0.7, dtype=torch.float64)"

# functions of one or two tensors, single or tuple outputs
FUNCS = {
    "sin": "lambda x: x.sin() * x",
    "red": "lambda x: (x.exp() * x).sum()",
    "pair_in": "lambda x, y: (x[:2] * y).sum(0) + x.sum()",
    "pair_out": "lambda x: (x ** 2, x.prod())",
    "two_two": "lambda x, y: (x.exp()[:2] @ y, y.sum() * x)",
    "const": "lambda x: torch.ones(2, dtype=torch.float64)",
    "partial": "lambda x, y: x * 2",
    "linear": "lambda x: 3 * x",
}
CALLS = [
    ("sin", X), ("red", X), ("pair_in", f"({X}, {Y})"), ("pair_out", X),
    ("two_two", f"({X}, {Y})"), ("const", X), ("partial", f"({X}, {Y})"), ("linear", Z),
]


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name,inp", CALLS)
def test_jacobian_matches_torch(torch, name, inp, create_graph):
    same(torch, f"F.jacobian({FUNCS[name]}, {inp}, create_graph={create_graph})")


@pytest.mark.parametrize("name,inp", CALLS)
def test_jacobian_vectorize_same_values(torch, name, inp):
    same(torch, f"F.jacobian({FUNCS[name]}, {inp}, vectorize=True)")


@pytest.mark.parametrize("name,inp", CALLS)
def test_jacobian_forward_mode_matches_torch(torch, name, inp):
    same(torch, f"F.jacobian({FUNCS[name]}, {inp}, vectorize=True, strategy='forward-mode')")


@pytest.mark.parametrize("name,inp", [("red", X), ("pair_in", f"({X}, {Y})")])
def test_hessian_forward_over_reverse_matches_torch(torch, name, inp):
    # (torch's result here keeps a graph it does not need; the values are compared)
    same(torch, f"F.hessian({FUNCS[name]}, {inp}, vectorize=True, "
         "outer_jacobian_strategy='forward-mode')", graph=False)


def test_jacobian_of_input_that_requires_grad(torch):
    # with create_graph the Jacobian stays differentiable with respect to the caller's input
    expr = ("(lambda x: torch.autograd.grad(F.jacobian(lambda a: a ** 3, x, create_graph=True)"
            ".sum(), x))(torch.tensor([1., 2.], requires_grad=True))")
    same(torch, expr)
    # without it, the results are plain tensors
    same(torch, "F.jacobian(lambda a: a ** 3, torch.tensor([1., 2.], requires_grad=True))")


STRICT = [
    "F.jacobian(lambda x, y: x * 2, (torch.ones(2), torch.ones(2)), strict=True)",
    "F.jacobian(lambda x: torch.ones(2), torch.ones(2), strict=True)",
    "F.jacobian(lambda x: x * 2, torch.ones(2), strict=True, create_graph=True)",
    "F.jacobian(lambda x: x * 2, torch.ones(2), strict=True, vectorize=True)",
    "F.jacobian(lambda x: x, torch.ones(2), strategy='sideways')",
    "F.jacobian(lambda x: x, torch.ones(2), strategy='forward-mode', create_graph=True)",
    "F.jacobian(lambda x: x, torch.ones(2), strategy='forward-mode', strict=True)",
    "F.jacobian(lambda x: x, torch.ones(2), strategy='forward-mode')",
    "F.jacobian(lambda x: x, 3.0)",
    "F.jacobian(lambda x: x, (torch.ones(1), 3))",
    "F.jacobian(lambda x: 3, torch.ones(1))",
    "F.hessian(lambda x: x.sum(), torch.ones(2), strict=True)",
    "F.hessian(lambda x: (x ** 2).sum(), torch.ones(2), strict=True)",
    "F.hessian(lambda x: x ** 2, torch.ones(2))",
    "F.hessian(lambda x: (x, x), torch.ones(1))",
    "F.hessian(lambda x: x, torch.ones(1), outer_jacobian_strategy='no')",
    "F.vjp(lambda x: x * 2, torch.ones(2))",
    "F.vjp(lambda x: x * 2, torch.ones(2), torch.ones(3))",
    "F.vjp(lambda x: (x, x), torch.ones(2), (torch.ones(2),))",
    "F.vjp(lambda x: (x, x), torch.ones(2), (torch.ones(2), torch.ones(3)))",
    "F.vjp(lambda x: x, torch.ones(2), (torch.ones(2), torch.ones(2)))",
    "F.vjp(lambda x, y: x * 2, (torch.ones(2), torch.ones(2)), torch.ones(2), strict=True)",
    "F.vjp(lambda x: torch.ones(2), torch.ones(2), torch.ones(2), strict=True)",
    "F.vjp(lambda x: x * 2, torch.ones(2), torch.ones(2), strict=True, create_graph=True)",
    "F.vjp(lambda x: x * 2, torch.ones(2), [torch.ones(2)])",
    "F.jvp(lambda x: x * 2, torch.ones(2))",
    "F.jvp(lambda x: x * 2, torch.ones(2), torch.ones(3))",
    "F.jvp(lambda x: x * 2, (torch.ones(2), torch.ones(2)), (torch.ones(2),))",
    "F.jvp(lambda x: torch.ones(2), torch.ones(2), torch.ones(2), strict=True)",
    "F.jvp(lambda x: x.detach() * x, torch.ones(2), torch.ones(2), strict=True)",
    "F.jvp(lambda x: (x * 2, x.sum() * 0), torch.ones(2), torch.ones(2), strict=True)",
    "F.vhp(lambda x: x * 2, torch.ones(2), torch.ones(2))",
    "F.vhp(lambda x: (x.sum(),), torch.ones(2), torch.ones(2))",
    "F.vhp(lambda x: x.sum(), torch.ones(2), torch.ones(2), strict=True)",
    "F.vhp(lambda x: (x ** 2).sum(), torch.ones(2))",
    "F.vhp(lambda x, y: (x ** 2).sum(), (torch.ones(2), torch.ones(2)), "
    "(torch.ones(2), torch.ones(2)), strict=True)",
    "F.hvp(lambda x: x * 2, torch.ones(2), torch.ones(2))",
    "F.hvp(lambda x: x.sum(), torch.ones(2), torch.ones(2), strict=True)",
    "F.hvp(lambda x: (x ** 2).sum(), torch.ones(2), torch.ones(2), strict=True)",
    "F.hvp(lambda x: (x ** 3).sum(), torch.ones(2), torch.ones(2), strict=True, "
    "create_graph=True)",
    "F.hvp(lambda x, y: (x ** 3).sum(), (torch.ones(2), torch.ones(2)), "
    "(torch.ones(2), torch.ones(2)), strict=True)",
]


@pytest.mark.parametrize("expr", STRICT)
def test_errors_and_strict_mode_match_torch(torch, expr):
    same(torch, expr)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("fn,inp", [
    ("lambda x: (x.sin() * x ** 2).sum()", X),
    ("lambda x, y: (x[:2] @ y).exp().sum() + (x ** 3).sum()", f"({X}, {Y})"),
    ("lambda x: (x * x).reshape(())", Z),
    ("lambda x, y: (x ** 2).sum() + 0 * y.sum()", f"({X}, {Y})"),
])
def test_hessian_matches_torch(torch, fn, inp, create_graph):
    same(torch, f"F.hessian({fn}, {inp}, create_graph={create_graph})", graph="0 *" not in fn)


V_OUT = {X: "torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)",
         Y: "torch.tensor([[0.3, -1.0], [2.0, 1.0]], dtype=torch.float64)",
         Z: "torch.tensor(1.5, dtype=torch.float64)"}


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("expr", [
    f"F.vjp(lambda x: x.sin() * x, {X}, {V_OUT[X]})",
    f"F.vjp(lambda x: (x ** 2).sum(), {X})",
    f"F.vjp(lambda x, y: (x.exp(), y * 2), ({X}, {Y}), ({V_OUT[X]}, {V_OUT[Y]}))",
    f"F.vjp(lambda x, y: x * 2, ({X}, {Y}), {V_OUT[X]})",
    f"F.jvp(lambda x: x.sin() * x, {X}, {V_OUT[X]})",
    f"F.jvp(lambda x: x * x, {Z})",
    f"F.jvp(lambda x, y: (x[:2] @ y, y.sum()), ({X}, {Y}), ({V_OUT[X]}, {V_OUT[Y]}))",
    f"F.jvp(lambda x: (x * 2, torch.ones(2, dtype=torch.float64)), {X}, {V_OUT[X]})",
    f"F.vhp(lambda x: (x.sin() * x ** 2).sum(), {X}, {V_OUT[X]})",
    f"F.vhp(lambda x, y: (x[:2] @ y).exp().sum(), ({X}, {Y}), ({V_OUT[X]}, {V_OUT[Y]}))",
    f"F.hvp(lambda x: (x.sin() * x ** 2).sum(), {X}, {V_OUT[X]})",
    f"F.hvp(lambda x, y: (x[:2] @ y).exp().sum(), ({X}, {Y}), ({V_OUT[X]}, {V_OUT[Y]}))",
    f"F.hvp(lambda x, y: (x ** 2).sum() + 0 * y.sum(), ({X}, {Y}), ({V_OUT[X]}, {V_OUT[Y]}))",
    f"F.hvp(lambda x: x ** 3, {Z})",
])
def test_products_match_torch(torch, expr, create_graph):
    graph = "0 *" not in expr and "y.sum())" not in expr
    same(torch, expr[:-1] + f", create_graph={create_graph})", graph)


def test_products_keep_graph_to_caller_inputs(torch):
    # create_graph=True: results can be differentiated again w.r.t. the caller's tensors
    for fn in ("vjp", "jvp", "hvp", "vhp"):
        expr = (f"(lambda x: torch.autograd.grad(F.{fn}(lambda a: (a ** 3).sum() if '{fn}' in "
                "('hvp', 'vhp') else a ** 3, x, torch.ones(2), create_graph=True)[1].sum(), x))"
                "(torch.tensor([1., 2.], requires_grad=True))")
        same(torch, expr)


def test_no_grad_outside_is_respected_for_results(torch):
    same(torch, "(lambda: [torch.set_grad_enabled(False), "
                "F.vjp(lambda x: x * 2, torch.ones(2), torch.ones(2), create_graph=True), "
                "torch.set_grad_enabled(True)][1])()")


def _numeric_jacobian(f, xs, eps=1e-6):
    """Central differences: J[i][j] = d f(xs)[i] / d xs[j] as arrays."""
    xs = [np.array(x, dtype=float) for x in xs]
    outs = f(*[lightgrad.tensor(x) for x in xs])
    outs = outs if isinstance(outs, tuple) else (outs,)
    jac = [[np.zeros(o.shape + x.shape) for x in xs] for o in outs]
    for j, x in enumerate(xs):
        for k in np.ndindex(x.shape):
            plus = [a.copy() for a in xs]
            minus = [a.copy() for a in xs]
            plus[j][k] += eps
            minus[j][k] -= eps
            fp = f(*[lightgrad.tensor(a) for a in plus])
            fm = f(*[lightgrad.tensor(a) for a in minus])
            fp = fp if isinstance(fp, tuple) else (fp,)
            fm = fm if isinstance(fm, tuple) else (fm,)
            for i in range(len(outs)):
                d = (fp[i].detach().numpy() - fm[i].detach().numpy()) / (2 * eps)
                jac[i][j][(Ellipsis,) + k] = d
    return jac


def test_jacobian_and_hessian_match_finite_differences():
    F = lightgrad.autograd.functional
    rng = np.random.default_rng(1)
    x = rng.normal(size=3)
    y = rng.normal(size=(2, 3))

    def f(a, b):
        return (b @ a).tanh(), (a * a).sum() * b

    jac = F.jacobian(f, (lightgrad.tensor(x), lightgrad.tensor(y)))
    num = _numeric_jacobian(f, [x, y])
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(jac[i][j].numpy(), num[i][j], rtol=1e-6, atol=1e-7)

    def s(a):
        return (a.sin() * a.exp()).sum()

    def g(a):
        return F.jacobian(s, a, create_graph=True)

    hess = F.hessian(s, lightgrad.tensor(x))
    np.testing.assert_allclose(hess.numpy(), _numeric_jacobian(g, [x])[0][0], rtol=1e-6,
                               atol=1e-7)
    v = lightgrad.tensor(rng.normal(size=3))
    np.testing.assert_allclose(F.hvp(s, lightgrad.tensor(x), v)[1].numpy(),
                               hess.numpy() @ v.numpy(), rtol=1e-10)
    b = lightgrad.tensor(y)
    np.testing.assert_allclose(F.jvp(lambda a: (b @ a).tanh(), lightgrad.tensor(x), v)[1]
                               .numpy(), jac[0][0].numpy() @ v.numpy(), rtol=1e-10)


def test_jvp_and_hvp_are_gradcheckable():
    F = lightgrad.autograd.functional
    x = lightgrad.tensor([0.3, -0.7, 1.1], dtype=lightgrad.float64, requires_grad=True)
    v = lightgrad.tensor([1.0, 0.5, -2.0], dtype=lightgrad.float64)

    def jv(a):
        return F.jvp(lambda t: t.exp() * t.sin(), a, v, create_graph=True)[1]

    def hv(a):
        return F.hvp(lambda t: (t.exp() * t.sin()).sum(), a, v, create_graph=True)[1]

    assert lightgrad.autograd.gradcheck(jv, (x,))
    assert lightgrad.autograd.gradcheck(hv, (x,))


def test_inputs_are_not_modified_and_closures_are_separate():
    F = lightgrad.autograd.functional
    x = lightgrad.tensor([1.0, 2.0])
    # func closes over x itself: only the passed-in copy is differentiated, as in torch
    jac = F.jacobian(lambda a: a * x, x)
    np.testing.assert_allclose(jac.numpy(), np.diag([1.0, 2.0]))
    assert not x.requires_grad and x.grad is None
