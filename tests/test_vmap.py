"""func.vmap: every case against a loop over the examples and against torch.func.vmap;
in_dims/out_dims, nesting, randomness, gradients through vmap, per-example gradients, and
the errors (an op without a batching rule is named)."""
import re

import numpy as np
import pytest

import lightgrad
from lightgrad.func import vmap

from .conftest import require

RNG = np.random.default_rng(0)
A = RNG.standard_normal((4, 3))
B = RNG.standard_normal((4, 3))
M = RNG.standard_normal((4, 3, 2))
W = RNG.standard_normal((5, 3))
V = RNG.standard_normal(3)
S = RNG.standard_normal(4)
LABELS = np.array([0, 2, 1, 2])

# (id, function of (module, *tensors), inputs, in_dims)
CASES = [
    ("unary", lambda m, x: x.sin() * 2 + m.exp(x).cos(), [A], 0),
    ("binary-broadcast", lambda m, x, y: x * y + x / (y.abs() + 1) - m.maximum(x, y), [A, B], 0),
    ("scalar-example", lambda m, s: s * 3 + s.sin(), [S], 0),
    ("with-unbatched", lambda m, x, w: w * x, [A, W], (0, None)),
    ("where-clamp", lambda m, x: m.where(x > 0, x, -x).clamp(max=1.0), [A], 0),
    ("sum-all", lambda m, x: x.sum(), [A], 0),
    ("sum-dim", lambda m, x: x.sum(0, keepdim=True) + x.mean(-1, keepdim=True), [M], 0),
    ("reductions", lambda m, x: m.stack([x.amax(), x.amin(), x.prod(), x.std(), x.norm(),
                                         x.logsumexp(0)]), [A], 0),
    ("max-dim", lambda m, x: x.max(1)[0] + x.min(-1).values + x.argmax(-1), [M], 0),
    ("max-all", lambda m, x: x.max() - x.min() + x.argmax(), [M], 0),
    ("softmax", lambda m, x: x.softmax(-1) + m.log_softmax(x, 0), [M], 0),
    ("cumsum", lambda m, x: x.cumsum(0) * x.cumprod(-1), [M], 0),
    ("reshape-view", lambda m, x: x.reshape(2, 3).view(-1).reshape(3, 2).t(), [M], 0),
    ("flatten-unsqueeze", lambda m, x: x.flatten().unsqueeze(0).unsqueeze(-1).squeeze(0), [M], 0),
    ("transpose-permute", lambda m, x: x.transpose(0, 1).permute(1, 0).T.mT, [M], 0),
    ("expand-repeat", lambda m, x: x.unsqueeze(0).expand(2, 3).repeat(2, 1), [A], 0),
    ("cat-stack", lambda m, x, w: m.cat([x, w[0], x], 0) + m.stack([x, x], 1).sum(1).repeat(3),
     [A, W], (0, None)),
    ("split-chunk-unbind", lambda m, x: x.split(2, 0)[1].sum() + x.chunk(3)[0].sum()
     + x.unbind()[2], [A], 0),
    ("index", lambda m, x: x[0] + x[1:, 1].sum() + x[..., -1].sum() + x[[0, 2], 1].sum(), [M], 0),
    ("index-none", lambda m, x: x[None, :, 0], [M], 0),
    ("matmul-vec-mat", lambda m, x, w: x @ w.T, [A, W], (0, None)),
    ("matmul-mat-vec", lambda m, w, x: w @ x, [W, A], (None, 0)),
    ("matmul-both", lambda m, x, y: x @ y, [M, M.transpose(0, 2, 1)], 0),
    ("mm-mv-dot", lambda m, x, y, v: m.mm(x, y).sum() + m.mv(x, v).sum() + m.dot(v, v),
     [M, M.transpose(0, 2, 1), V[:2].copy()], (0, 0, None)),
    ("outer-einsum", lambda m, x, y: m.outer(x, y) + m.einsum("i,j->ij", x, y), [A, B], 0),
    ("linear-relu", lambda m, x, w: m.nn.functional.linear(x, w).relu(), [A, W], (0, None)),
    ("per-example-weights", lambda m, x, w: m.nn.functional.linear(x, w),
     [A, np.stack([W] * 4)], 0),
    ("functional", lambda m, x: m.nn.functional.gelu(x) + m.nn.functional.softmax(x, -1)
     + m.nn.functional.normalize(x, dim=0), [A], 0),
    ("mse", lambda m, x, y: m.nn.functional.mse_loss(x, y), [A, B], 0),
    ("cross-entropy", lambda m, x, t: m.nn.functional.cross_entropy(x, t), [A, LABELS], 0),
    ("in-dim-1", lambda m, x: x.sum(0), [M], 1),
    ("in-dim-neg", lambda m, x, y: x * y, [M, A], (-1, None)),
    ("zeros-like-detach", lambda m, x: m.zeros_like(x) + x.detach().clone() * 2, [A], 0),
    ("comparison", lambda m, x, y: (x > y).float() + (x == x).float(), [A, B], 0),
    ("conv2d-ensemble", lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, padding=1),
     [RNG.standard_normal((2, 3, 5, 5)), RNG.standard_normal((4, 2, 3, 3, 3)),
      RNG.standard_normal((4, 2))], (None, 0, 0)),
    ("conv1d-ensemble-groups", lambda m, x, w: m.nn.functional.conv1d(x, w, groups=2),
     [RNG.standard_normal((4, 4, 6)), RNG.standard_normal((4, 2, 2, 3))], 0),
    ("solve-batched-matrix", lambda m, a, b: m.linalg.solve(a, b),
     [RNG.standard_normal((4, 3, 3)) + 3 * np.eye(3), V], (0, None)),
    ("solve-batched-rhs", lambda m, a, b: m.linalg.solve(a, b),
     [RNG.standard_normal((3, 3)) + 3 * np.eye(3), A], (None, 0)),
]


def _tensors(mod, arrays):
    return [mod.tensor(a) for a in arrays]


def _loop(mod, fn, arrays, in_dims):
    """The reference: the function on each example, stacked."""
    dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(arrays)
    n = next(a.shape[d] for a, d in zip(arrays, dims) if d is not None)
    outs = []
    for i in range(n):
        ex = [mod.tensor(a) if d is None else mod.tensor(np.take(a, i, axis=d))
              for a, d in zip(arrays, dims)]
        outs.append(fn(mod, *ex).numpy())
    return np.stack(outs)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_vmap_equals_a_loop_over_examples(case):
    _, fn, arrays, in_dims = case
    out = vmap(lambda *xs: fn(lightgrad, *xs), in_dims=in_dims)(*_tensors(lightgrad, arrays))
    ref = _loop(lightgrad, fn, arrays, in_dims)
    assert tuple(out.shape) == ref.shape
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_vmap_against_torch(case):
    torch = require("torch")
    _, fn, arrays, in_dims = case
    ours = vmap(lambda *xs: fn(lightgrad, *xs), in_dims=in_dims)(*_tensors(lightgrad, arrays))
    ref = torch.func.vmap(lambda *xs: fn(torch, *xs), in_dims=in_dims)(*_tensors(torch, arrays))
    assert tuple(ours.shape) == tuple(ref.shape)
    assert ours.dtype.name == str(ref.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)


def test_public_ops_vmapped_directly():
    x, y = _tensors(lightgrad, [A, B])
    np.testing.assert_allclose(vmap(lightgrad.dot)(x, y).numpy(), (A * B).sum(1))
    np.testing.assert_allclose(vmap(lightgrad.sin)(x).numpy(), np.sin(A))


def test_out_dims_and_pytrees():
    x, y = _tensors(lightgrad, [A, B])
    out = vmap(lambda d: {"s": d["a"] + d["b"][0], "t": (d["a"].sum(), 7)},
               in_dims=({"a": 0, "b": (1,)},), out_dims={"s": 1, "t": (0, None)})(
        {"a": x, "b": (y.T,)})
    np.testing.assert_allclose(out["s"].numpy(), (A + B).T)
    np.testing.assert_allclose(out["t"][0].numpy(), A.sum(1))
    assert out["t"][1] == 7
    # an output that does not depend on the batch is repeated
    c = vmap(lambda a: lightgrad.ones(2))(x)
    assert tuple(c.shape) == (4, 2)


def test_nested_vmap():
    x = lightgrad.tensor(M)
    w = lightgrad.tensor(RNG.standard_normal((2, 5)))
    out = vmap(vmap(lambda r: (r @ w).tanh().sum()))(x)
    np.testing.assert_allclose(out.numpy(), np.tanh(M @ w.numpy()).sum(-1), rtol=1e-12)
    out = vmap(lambda a: vmap(lambda r, b: r * b, in_dims=(0, None))(a, a.sum(0)))(x)
    np.testing.assert_allclose(out.numpy(), M * M.sum(1, keepdims=True), rtol=1e-12)


def test_gradients_flow_through_vmap():
    x = lightgrad.tensor(A, requires_grad=True)
    w = lightgrad.tensor(W, requires_grad=True)
    vmap(lambda r: (w @ r).tanh().sum())(x).sum().backward()
    t = lightgrad.tensor(A, requires_grad=True)
    u = lightgrad.tensor(W, requires_grad=True)
    (t @ u.T).tanh().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), u.grad.numpy(), rtol=1e-12)


def test_randomness_modes():
    x = lightgrad.tensor(A)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda r: lightgrad.rand_like(r))(x)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda r: r + lightgrad.rand(3))(x)
    same = vmap(lambda r: lightgrad.rand_like(r), randomness="same")(x).numpy()
    assert np.all(same == same[0])
    diff = vmap(lambda r: lightgrad.rand_like(r), randomness="different")(x).numpy()
    assert not np.all(diff == diff[0])
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        vmap(lambda r: r, randomness="x")


def _rows_differ(a):
    return not np.all(a == a[:1])


@pytest.mark.parametrize("draw", [
    "lightgrad.rand(2)", "lightgrad.randn(2)", "lightgrad.randint(0, 1000, (2,))",
    "lightgrad.randperm(6)", "lightgrad.normal(0.0, 1.0, (2,))",
    "lightgrad.rand_like(lightgrad.ones(2))", "lightgrad.normal(lightgrad.zeros(2), 1.0)",
    "F.dropout(r)", "r.clone().uniform_()", "r.clone().normal_()"])
def test_random_ops_under_each_randomness(draw):
    """A draw with no batched input (a creation function, or a plain tensor's): one per
    example under "different", one shared under "same", refused under "error"; F.dropout
    (a composite of rand) follows. Nested vmaps: each level's mode decides its own dim."""
    import lightgrad.nn.functional as F

    def f(r):
        return eval(draw, {"lightgrad": lightgrad, "F": F, "r": r})
    x = lightgrad.ones(5, 6)
    lightgrad.manual_seed(0)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(f)(x)
    assert _rows_differ(vmap(f, randomness="different")(x).numpy())
    assert not _rows_differ(vmap(f, randomness="same")(x).numpy())
    y = lightgrad.ones(3, 5, 6)
    outer_same = vmap(vmap(f, randomness="different"), randomness="same")(y).numpy()
    assert _rows_differ(outer_same[0]) and np.all(outer_same == outer_same[:1])
    inner_same = vmap(vmap(f, randomness="same"), randomness="different")(y).numpy()
    assert _rows_differ(inner_same) and np.all(inner_same == inner_same[:, :1])


def test_random_op_errors_under_vmap_as_torch():
    x = lightgrad.rand(3, 2)
    # a draw that depends on a batched tensor's values cannot be shared by the batch
    for f in (lightgrad.bernoulli, lambda r: lightgrad.normal(r, 1.0), lightgrad.poisson):
        with pytest.raises(RuntimeError, match="same randomness with a batched tensor"):
            vmap(f, randomness="same")(x)
    out = vmap(lightgrad.bernoulli, randomness="different")(x * 0 + 1).numpy()
    assert np.all(out == 1)
    # an unbatched tensor cannot hold a different draw per example
    with pytest.raises(RuntimeError, match="different inplace randomness on an unbatched"):
        vmap(lambda r: lightgrad.ones(2).uniform_() + r, randomness="different")(x)


def _message(fn):
    try:
        fn()
    except Exception as e:      # noqa: BLE001
        return type(e).__name__, str(e)
    return None


ERRORS = [
    "vmap(m.add)(m.ones(3, 2), m.ones(2, 2))",
    "vmap(m.sin, in_dims=2)(m.ones(3, 2))",
    "vmap(m.sin, in_dims='a')(m.ones(3))",
    "vmap(lambda a: a.item())(m.ones(3))",
    "vmap(lambda a: 1 if a.sum() > 0 else 0)(m.ones(3))",
    "vmap(lambda a: 3)(m.ones(3))",
    "vmap(m.sin)(3.0)",
    "vmap(m.sin)()",
    "vmap(m.sin, in_dims=None)(m.ones(3))",
]


@pytest.mark.parametrize("expr", ERRORS)
def test_errors_match_torch(expr):
    torch = require("torch")
    ours = _message(lambda: eval(expr, {"vmap": vmap, "m": lightgrad}))
    ref = _message(lambda: eval(expr, {"vmap": torch.func.vmap, "m": torch}))
    assert ours == ref


def test_missing_batching_rule_names_the_op():
    x = lightgrad.tensor(A)
    # a declared refusal gives its reason, as a function and as a method
    with pytest.raises(RuntimeError, match="nonzero has no batching rule: its output shape "
                                           "depends on the values"):
        vmap(lambda r: lightgrad.nonzero(r))(x)
    with pytest.raises(RuntimeError, match="nonzero has no batching rule"):
        vmap(lambda r: r.nonzero())(x)
    # a method without a rule, and a function not declared with defop, are named
    with pytest.raises(RuntimeError, match="no batching rule for Tensor.cumsum_"):
        vmap(lambda r: r.cumsum_(0))(x)

    # a function written with public ops needs no rule; one that reaches into the tensor's
    # array is stopped there, never computing on the whole batch as one example
    def composite(t):
        return t * 2
    np.testing.assert_array_equal(vmap(composite)(x).numpy(), A * 2)

    def raw(t):
        return lightgrad.tensor(t._data * 2)
    with pytest.raises(RuntimeError, match="reached for the tensor's _data"):
        vmap(raw)(x)


def _per_example_grads(mod):
    rng = np.random.default_rng(5)
    x = mod.tensor(rng.standard_normal((6, 3)))
    y = mod.tensor(rng.integers(0, 4, 6))
    mod.manual_seed(0)
    model = mod.nn.Linear(3, 4).double()
    params = {k: mod.tensor(v.detach().numpy() * 0 + rng.standard_normal(tuple(v.shape)))
              for k, v in model.named_parameters()}

    def loss(p, xi, yi):
        out = mod.func.functional_call(model, p, (xi.unsqueeze(0),))
        return mod.nn.functional.cross_entropy(out, yi.unsqueeze(0))
    return loss, params, x, y


def test_per_example_gradients_of_a_model():
    """vmap(grad(loss)): a gradient per example, also for the parameters that all share."""
    loss, params, x, y = _per_example_grads(lightgrad)
    g = vmap(lightgrad.func.grad(loss), in_dims=(None, 0, 0))(params, x, y)
    for i in range(6):
        gi = lightgrad.func.grad(loss)(params, x[i], y[i])
        for k in gi:
            np.testing.assert_allclose(g[k][i].numpy(), gi[k].numpy(), rtol=1e-12)
    torch = require("torch")
    tloss, tparams, tx, ty = _per_example_grads(torch)
    tg = torch.func.vmap(torch.func.grad(tloss), in_dims=(None, 0, 0))(tparams, tx, ty)
    for k in tg:
        np.testing.assert_allclose(g[k].numpy(), tg[k].numpy(), rtol=1e-10)


def test_jacobians_per_example():
    x = lightgrad.tensor(A)
    f = (lambda r: r.sin() * r.sum())
    jac = vmap(lightgrad.func.jacrev(f))(x)
    for i in range(4):
        np.testing.assert_allclose(jac[i].numpy(), lightgrad.func.jacrev(f)(x[i]).numpy(),
                                   rtol=1e-12)
    with pytest.raises(RuntimeError, match="forward-mode AD .* inside vmap is not supported"):
        vmap(lightgrad.func.jacfwd(f))(x)


# -- every op-table entry: vmap gives the loop's answer, or says which op has no rule -------
from lightgrad.ops._core import DECLARED  # noqa: E402

from .test_ops import ENTRIES, _as_list  # noqa: E402


def _entry_batches(op, n=3):
    from .test_ops import _arrays
    draws = [_arrays(op, seed=s) for s in range(n)]
    arrays, dims = [], []
    for i, a in enumerate(draws[0]):
        if a.dtype.kind == "f" and i not in op.nondiff:
            arrays.append(np.stack([d[i] for d in draws]))
            dims.append(0)
        else:
            arrays.append(a)
            dims.append(None)
    return arrays, tuple(dims)


def _to(mod, a):
    return mod.tensor(a) if a.dtype.kind != "f" else mod.tensor(a, dtype=mod.float64)


BATCHED_OK = []


@pytest.mark.parametrize("op", ENTRIES, ids=[op.label() for op in ENTRIES])
def test_op_table_under_vmap(op):
    arrays, dims = _entry_batches(op)
    if all(d is None for d in dims):
        pytest.skip("no float input to map over")

    def f(*xs):
        return tuple(o for o in _as_list(op.fn(lightgrad, *xs))
                     if isinstance(o, lightgrad.Tensor))
    decl = DECLARED.get(op.name)
    refusal = op.extra.get("vmap_refused")
    if refusal is not None:
        # a declared refusal (of the op, or of this sample): vmap says so, with the reason
        with pytest.raises(RuntimeError, match=re.escape(refusal)):
            vmap(f, in_dims=dims)(*[_to(lightgrad, a) for a in arrays])
        return
    try:
        out = vmap(f, in_dims=dims)(*[_to(lightgrad, a) for a in arrays])
    except RuntimeError as e:
        assert str(e).startswith("vmap:"), str(e)
        # only ops not yet declared with defop may lack a rule; a declared op has its rule
        assert decl is None, f"{op.name} is declared with a batching rule, but: {e}"
        return
    for i in range(3):
        ex = [_to(lightgrad, a[i] if d == 0 else a) for a, d in zip(arrays, dims)]
        ref = f(*ex)
        assert len(ref) == len(out)
        for o, r in zip(out, ref):
            if not op.extra.get("values", True):    # arbitrary values: the shape only
                assert tuple(o[i].shape) == tuple(r.shape)
                continue
            np.testing.assert_allclose(o[i].numpy(), r.numpy(), rtol=1e-10, atol=1e-12,
                                       equal_nan=True)
    BATCHED_OK.append(op.name)


def test_batching_rules_cover_most_of_the_op_table():
    """A guard against losing rules: at least 80% of the op-table entries run batched."""
    ran = refused = 0
    for op in ENTRIES:
        arrays, dims = _entry_batches(op)
        if all(d is None for d in dims):
            continue

        def f(*xs, op=op):
            return tuple(o for o in _as_list(op.fn(lightgrad, *xs))
                         if isinstance(o, lightgrad.Tensor))
        try:
            vmap(f, in_dims=dims)(*[_to(lightgrad, a) for a in arrays])
            ran += 1
        except RuntimeError:
            refused += 1
    assert ran / (ran + refused) >= 0.8, (ran, refused)


@pytest.mark.parametrize("expr", [
    "lightgrad.where(r > 0)",
    "r.std(False)",
    "lightgrad.tril(r)",
    "lightgrad.nn.functional.pad(r, (1, 1, 1, 1))",
    "lightgrad.nn.functional.layer_norm(r, (4, 3))",
    "lightgrad.nn.functional.conv2d(r, lightgrad.ones(1, 1, 1, 1, dtype=lightgrad.float64))",
    "lightgrad.equal(r, r)",
    "r.requires_grad_()",
    "lightgrad.nn.functional.batch_norm(r[None], None, None, training=True)",
])
def test_no_silent_batch_mixing(expr):
    """Where the batch dim could be mistaken for an example's dim, vmap refuses."""
    x = lightgrad.tensor(A)
    with pytest.raises(RuntimeError):
        vmap(lambda r: eval(expr, {"lightgrad": lightgrad, "r": r}))(x)


def test_vmap_leaves_the_namespace_alone_and_a_patch_is_called(monkeypatch):
    x = lightgrad.tensor(A)
    before = dict(vars(lightgrad))
    vmap(lightgrad.sin)(x)
    assert dict(vars(lightgrad)) == before       # nothing swapped in or out
    original = lightgrad.sin

    def patched(t):
        return original(t) * 0 + 7
    monkeypatch.setattr(lightgrad, "sin", patched)
    out = vmap(lambda r: lightgrad.sin(r))(x)    # a user's patch is what runs
    np.testing.assert_array_equal(out.numpy(), np.full(A.shape, 7.0))
    assert lightgrad.sin is patched


def test_model_ensemble_with_stack_module_state():
    """An ensemble of 4 models run as one: stacked parameters, vmap over functional_call."""
    lightgrad.manual_seed(0)
    models = [lightgrad.nn.Sequential(lightgrad.nn.Linear(3, 5), lightgrad.nn.Tanh(),
                                      lightgrad.nn.Linear(5, 2)) for _ in range(4)]
    params, buffers = lightgrad.func.stack_module_state(models)
    x = lightgrad.tensor(RNG.standard_normal((6, 3)), dtype=lightgrad.float32)

    def run(p, b, xb):
        return lightgrad.func.functional_call(models[0], (p, b), (xb,))
    out = vmap(run, in_dims=(0, 0, None))(params, buffers, x)
    assert tuple(out.shape) == (4, 6, 2)
    for i, m in enumerate(models):
        np.testing.assert_allclose(out[i].detach().numpy(), m(x).detach().numpy(), rtol=1e-5)
    out.sum().backward()                    # the stacked parameters are leaves with grads
    assert tuple(params["0.weight"].grad.shape) == (4, 5, 3)


def test_a_declared_op_dispatches_at_the_call_from_any_reference():
    """A declared op sees a batched argument where it is applied: a function reference taken
    before vmap (or kept by another module) works, and nothing is swapped."""
    from lightgrad import mul, sin
    from lightgrad.nn.functional import relu
    x = lightgrad.tensor(A)
    out = vmap(lambda r: mul(sin(r), 2) + relu(r))(x)
    ref = mul(sin(x), 2) + relu(x)
    np.testing.assert_allclose(out.numpy(), ref.numpy())
    assert lightgrad.sin is sin


def test_plain_calls_on_another_thread_while_a_vmap_runs():
    import threading
    x = lightgrad.tensor(A)
    started, release, seen = threading.Event(), threading.Event(), []

    def slow(r):
        started.set()
        release.wait(5)
        return lightgrad.sin(r)

    def other():
        started.wait(5)
        seen.append(lightgrad.sin(lightgrad.ones(2)).numpy())   # plain tensors: plain op
        release.set()
    t = threading.Thread(target=other)
    t.start()
    out = vmap(slow)(x)
    t.join()
    np.testing.assert_allclose(seen[0], np.sin(np.ones(2)))
    np.testing.assert_allclose(out.numpy(), np.sin(A))


def test_stack_of_empty_tensors_under_vmap():
    # cat skips legacy empty 1-d tensors; stack keeps them (its rule once dropped them)
    out = vmap(lambda t: lightgrad.stack([t, t]))(lightgrad.zeros(3, 0))
    assert out.shape == (3, 2, 0)
    out = vmap(lambda t: lightgrad.cat([t, lightgrad.zeros(0), t]))(lightgrad.ones(3, 2))
    assert out.shape == (3, 4)
