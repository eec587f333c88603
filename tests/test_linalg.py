"""Matrix products and torch.linalg beyond the op table: node names for every matmul case,
error texts, decompositions through invariants, gradients on symmetric inputs vs torch."""
import itertools

import numpy as np
import pytest

import lightgrad
from lightgrad.autograd.gradcheck import gradcheck, gradgradcheck


SHAPES = [(3,), (3, 3), (2, 3, 3), (1, 3, 3), (2, 2, 3, 3), (2, 1, 3, 3)]


def _pair(torch, a, b, dtype="float64"):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(a)
    y = rng.standard_normal(b)
    return ((lightgrad.tensor(x, dtype=getattr(lightgrad, dtype)),
             lightgrad.tensor(y, dtype=getattr(lightgrad, dtype))),
            (torch.tensor(x, dtype=getattr(torch, dtype)),
             torch.tensor(y, dtype=getattr(torch, dtype))))


@pytest.mark.parametrize("sa,sb", list(itertools.product(SHAPES, SHAPES)))
def test_matmul_node_names_and_grads_match_torch(torch, sa, sb):
    for ra, rb in [(True, True), (True, False), (False, True)]:
        (x, y), (tx, ty) = _pair(torch, sa, sb)
        x.requires_grad_(ra), y.requires_grad_(rb)
        tx.requires_grad_(ra), ty.requires_grad_(rb)
        z, tz = x @ y, tx @ ty
        assert tuple(z.shape) == tuple(tz.shape)
        np.testing.assert_allclose(z.detach().numpy(), tz.detach().numpy(), rtol=1e-12)
        assert type(z.grad_fn).__name__ == type(tz.grad_fn).__name__, (sa, sb, ra, rb)
        g = np.random.default_rng(1).standard_normal(tuple(tz.shape))
        z.backward(lightgrad.tensor(g))
        tz.backward(torch.tensor(g))
        for a, b in ((x, tx), (y, ty)):
            if b.grad is None:
                assert a.grad is None
            else:
                np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10)


def test_matmul_2d_by_batch_of_rows_is_transpose_node(torch):
    x = lightgrad.randn(1, 3, requires_grad=True)
    y = lightgrad.randn(2, 3, 4)
    assert type((x @ y).grad_fn).__name__ == "TransposeBackward0"
    assert type((lightgrad.randn(2, 3, requires_grad=True) @ y).grad_fn).__name__ == \
        "CloneBackward0"


def _raises(torch, fn, exc=RuntimeError):
    """fn(module) must raise the same exception text in lightgrad and torch."""
    with pytest.raises(exc) as ours:
        fn(lightgrad)
    with pytest.raises(Exception) as theirs:
        fn(torch)
    assert str(ours.value) == str(theirs.value)


ERRORS = {
    "mm-shape": lambda m: m.mm(m.ones(2, 3), m.ones(2, 3)),
    "mm-dtype": lambda m: m.mm(m.ones(2, 3), m.ones(3, 2, dtype=m.float64)),
    "mm-1d": lambda m: m.mm(m.ones(3), m.ones(3, 2)),
    "matmul-0d": lambda m: m.matmul(m.tensor(1.), m.ones(3)),
    "matmul-1d": lambda m: m.ones(3) @ m.ones(4),
    "matmul-mv": lambda m: m.ones(2, 3) @ m.ones(4),
    "matmul-vm": lambda m: m.ones(3) @ m.ones(4, 2),
    "matmul-3d2d": lambda m: m.ones(2, 2, 3) @ m.ones(4, 2),
    "matmul-3d3d": lambda m: m.ones(2, 2, 3) @ m.ones(2, 4, 2),
    "matmul-batch": lambda m: m.ones(2, 2, 3) @ m.ones(3, 3, 2),
    "matmul-3d1d": lambda m: m.ones(2, 2, 3) @ m.ones(4),
    "matmul-dot-dtype": lambda m: m.ones(3) @ m.ones(3, dtype=m.float64),
    "bmm-2d": lambda m: m.bmm(m.ones(2, 3), m.ones(3, 2)),
    "bmm-shape": lambda m: m.bmm(m.ones(2, 2, 3), m.ones(3, 3, 2)),
    "bmm-dtype": lambda m: m.bmm(m.ones(2, 2, 3), m.ones(2, 3, 2, dtype=m.float64)),
    "mv-shape": lambda m: m.mv(m.ones(2, 3), m.ones(4)),
    "mv-dim": lambda m: m.mv(m.ones(2, 3), m.ones(3, 1)),
    "dot-shape": lambda m: m.dot(m.ones(3), m.ones(4)),
    "dot-dim": lambda m: m.dot(m.ones(3, 1), m.ones(3)),
    "outer-2d": lambda m: m.outer(m.ones(3, 1), m.ones(3)),
    "addmm-bias": lambda m: m.addmm(m.ones(3), m.ones(2, 3), m.ones(3, 2)),
    "baddbmm-bias": lambda m: m.baddbmm(m.ones(3), m.ones(2, 2, 3), m.ones(2, 3, 2)),
    "trace-1d": lambda m: m.trace(m.ones(3)),
    "addmm-dtype": lambda m: m.addmm(m.ones(3, dtype=m.float64), m.ones(2, 3), m.ones(3, 3)),
    "matmul-2d3d-dtype": lambda m: m.ones(2, 3) @ m.ones(2, 3, 2, dtype=m.float64),
    "matmul-3d2d-dtype": lambda m: m.ones(2, 2, 3) @ m.ones(3, 2, dtype=m.float64),
    "cross-dtype": lambda m: m.linalg.cross(m.ones(3), m.ones(3, dtype=m.float64)),
    "cross-len": lambda m: m.linalg.cross(m.ones(2, 4), m.ones(2, 4)),
    "cross-ndim": lambda m: m.linalg.cross(m.ones(2, 1, 3), m.ones(4, 3)),
    "inv-singular": lambda m: m.linalg.inv(m.zeros(2, 2)),
    "inv-batch-singular": lambda m: m.linalg.inv(m.stack([m.eye(2), m.zeros(2, 2)])
                                                 if hasattr(m, "stack") else
                                                 m.tensor([[[1., 0.], [0., 1.]],
                                                           [[0., 0.], [0., 0.]]])),
    "inv-rect": lambda m: m.linalg.inv(m.ones(2, 3)),
    "inv-1d": lambda m: m.linalg.inv(m.ones(3)),
    "inv-int": lambda m: m.linalg.inv(m.ones(2, 2, dtype=m.long)),
    "det-rect": lambda m: m.linalg.det(m.ones(2, 3)),
    "solve-singular": lambda m: m.linalg.solve(m.zeros(2, 2), m.ones(2)),
    "solve-shape": lambda m: m.linalg.solve(m.eye(2), m.ones(3)),
    "solve-shape2": lambda m: m.linalg.solve(m.eye(2), m.ones(3, 2)),
    "solve-dtype": lambda m: m.linalg.solve(m.eye(2), m.ones(2, dtype=m.float64)),
    "cholesky-not-pd": lambda m: m.linalg.cholesky(-m.eye(2)),
    "cholesky-batch": lambda m: m.linalg.cholesky(m.tensor([[[1., 0.], [0., 1.]],
                                                            [[1., 2.], [2., 1.]]])),
    "eigh-rect": lambda m: m.linalg.eigh(m.ones(2, 3)),
    "qr-mode": lambda m: m.linalg.qr(m.ones(3, 3), mode="foo"),
    "svd-1d": lambda m: m.linalg.svd(m.ones(3)),
    "norm-str-1d": lambda m: m.linalg.norm(m.ones(3), "fro"),
    "norm-order": lambda m: m.linalg.norm(m.ones(3, 3), 3),
    "norm-3d-ord": lambda m: m.linalg.norm(m.ones(2, 2, 2), 2),
    "norm-dims": lambda m: m.linalg.norm(m.ones(2, 2, 2), dim=(0, 1, 2)),
    "vnorm-int": lambda m: m.linalg.vector_norm(m.ones(3, dtype=m.long)),
    "mnorm-1d": lambda m: m.linalg.matrix_norm(m.ones(3)),
    "einsum-size": lambda m: m.einsum("ij,jk->ik", m.ones(2, 3), m.ones(2, 3)),
    "einsum-few": lambda m: m.einsum("ij,jk->ik", m.ones(2, 3)),
    "einsum-dims": lambda m: m.einsum("ijk,jk->ik", m.ones(2, 3), m.ones(3, 2)),
    "tensordot": lambda m: m.tensordot(m.ones(2, 3), m.ones(2, 3), dims=1),
    "matrix_power": lambda m: m.linalg.matrix_power(m.ones(2, 3), 2),
    "multi_dot-1": lambda m: m.linalg.multi_dot([m.ones(2, 3)]),
    "multi_dot-3d": lambda m: m.linalg.multi_dot([m.ones(2, 3), m.ones(2, 3, 2)]),
    "multi_dot-shape": lambda m: m.linalg.multi_dot([m.ones(2, 3), m.ones(2, 3)]),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_error_texts_match_torch(torch, name):
    _raises(torch, ERRORS[name])


def test_trace_of_bool_is_not_implemented(torch):
    _raises(torch, lambda m: m.trace(m.ones(2, 2, dtype=m.bool)), NotImplementedError)


def test_linalg_error_is_runtime_error():
    with pytest.raises(lightgrad.linalg.LinAlgError):
        lightgrad.linalg.inv(lightgrad.zeros(3, 3))
    assert issubclass(lightgrad.linalg.LinAlgError, RuntimeError)


def test_vector_norm_rejects_string_order():
    with pytest.raises(TypeError, match="must be Number, not str"):
        lightgrad.linalg.vector_norm(lightgrad.ones(3), "fro")


# -- decompositions through invariants ---------------------------------------------------
def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def test_eigh_reconstructs_and_is_orthonormal():
    a = _rand(2, 4, 4)
    a = a + np.swapaxes(a, -1, -2)
    w, V = lightgrad.linalg.eigh(lightgrad.tensor(a))
    v, wv = V.numpy(), w.numpy()
    np.testing.assert_allclose((v * wv[..., None, :]) @ np.swapaxes(v, -1, -2), a, atol=1e-12)
    np.testing.assert_allclose(np.swapaxes(v, -1, -2) @ v, np.broadcast_to(np.eye(4), a.shape),
                               atol=1e-12)
    assert np.all(np.diff(wv, axis=-1) > 0)


def test_svd_qr_cholesky_reconstruct():
    a = _rand(2, 4, 3)
    U, S, Vh = lightgrad.linalg.svd(lightgrad.tensor(a), full_matrices=False)
    np.testing.assert_allclose((U.numpy() * S.numpy()[..., None, :]) @ Vh.numpy(), a,
                               atol=1e-12)
    U, S, Vh = lightgrad.linalg.svd(lightgrad.tensor(a))
    assert tuple(U.shape) == (2, 4, 4) and tuple(Vh.shape) == (2, 3, 3)
    Q, R = lightgrad.linalg.qr(lightgrad.tensor(a))
    np.testing.assert_allclose(Q.numpy() @ R.numpy(), a, atol=1e-12)
    assert np.allclose(np.tril(R.numpy(), -1), 0)
    spd = a @ np.swapaxes(a, -1, -2) + np.eye(4)
    L = lightgrad.linalg.cholesky(lightgrad.tensor(spd)).numpy()
    np.testing.assert_allclose(L @ np.swapaxes(L, -1, -2), spd, atol=1e-12)
    Uc = lightgrad.linalg.cholesky(lightgrad.tensor(spd), upper=True).numpy()
    np.testing.assert_allclose(Uc, np.swapaxes(L, -1, -2), atol=1e-12)


def test_named_tuples_and_nodes(torch):
    a = lightgrad.tensor(_rand(3, 3) + 3 * np.eye(3), requires_grad=True)
    r = lightgrad.linalg.slogdet(a)
    assert r.sign is r[0] and r.logabsdet is r[1]
    assert type(r).__name__ == "linalg_slogdet"
    assert type(r.sign.grad_fn).__name__ == "LinalgSlogdetBackward0"
    assert r.sign.grad_fn is r.logabsdet.grad_fn
    w, V = lightgrad.linalg.eigh(a + a.mT)
    assert w.grad_fn is V.grad_fn and V.grad_fn.next_functions[0][0] is not None
    assert type(lightgrad.linalg.svd(a).Vh.grad_fn).__name__ == "LinalgSvdBackward0"
    assert type(lightgrad.linalg.eigvalsh(a).grad_fn).__name__ == "LinalgEighBackward0"
    assert type(lightgrad.linalg.svdvals(a).grad_fn).__name__ == "LinalgSvdBackward0"
    U, S, V = lightgrad.svd(a)
    np.testing.assert_allclose((U.detach().numpy() * S.detach().numpy()) @ V.detach().numpy().T,
                               a.detach().numpy(),
                               atol=1e-12)


def test_no_grad_outputs_are_plain():
    a = lightgrad.tensor(_rand(3, 3) + 3 * np.eye(3), requires_grad=True)
    with lightgrad.no_grad():
        for out in (lightgrad.linalg.inv(a), lightgrad.linalg.det(a),
                    lightgrad.linalg.eigvalsh(a), lightgrad.linalg.svdvals(a), a @ a,
                    lightgrad.linalg.norm(a, "nuc")):
            assert out.grad_fn is None and not out.requires_grad


def test_qr_mode_r_backward_raises():
    a = lightgrad.tensor(_rand(3, 2), requires_grad=True)
    Q, R = lightgrad.linalg.qr(a, mode="r")
    assert tuple(Q.shape) == (0,)
    with pytest.raises(RuntimeError, match="mode='r'"):
        R.sum().backward()


def test_qr_complete_tall_backward_raises():
    a = lightgrad.tensor(_rand(3, 2), requires_grad=True)
    Q, R = lightgrad.linalg.qr(a, mode="complete")
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete'"):
        R.sum().backward()


# -- gradients on symmetric leaves: torch's conventions ---------------------------------
@pytest.mark.parametrize("which", ["eigh-vals", "eigh-vecs", "cholesky", "cholesky-upper"])
def test_symmetric_input_gradients_match_torch(torch, which):
    a = _rand(3, 3)
    a = a @ a.T + 3 * np.eye(3)
    x = lightgrad.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)

    def f(m, t):
        if which == "eigh-vals":
            return m.linalg.eigh(t)[0] * m.tensor([1., 2., 3.], dtype=t.dtype)
        if which == "eigh-vecs":
            V = m.linalg.eigh(t)[1]
            return V * V * m.tensor([[1., 2., 3.]], dtype=t.dtype)
        return m.linalg.cholesky(t, upper=which == "cholesky-upper")

    y, ty = f(lightgrad, x), f(torch, tx)
    g = _rand(*ty.shape, seed=2)
    y.backward(lightgrad.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_gauge_invariant_svd_gradient_matches_torch(torch):
    a = _rand(4, 3)
    x = lightgrad.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    for m, t in ((lightgrad, x), (torch, tx)):
        U, S, Vh = m.linalg.svd(t, full_matrices=False)
        # |U diag(S) Vh|^2-weighted loss: invariant under the column sign flips
        ((U * S.unsqueeze(-2)) @ Vh * t).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("fn", [
    lambda m, x: m.linalg.det(x) * m.linalg.inv(x).sum(),
    lambda m, x: m.linalg.solve(x, x.sum(-1)).sum(),
    lambda m, x: m.linalg.pinv(x[..., :2]).sum(),
])
def test_create_graph_through_linalg(fn):
    x = lightgrad.tensor(_rand(2, 3, 3) + 3 * np.eye(3), requires_grad=True)
    assert gradgradcheck(lambda t: fn(lightgrad, t), (x,))
    assert gradcheck(lambda t: fn(lightgrad, t), (x,))


def test_inplace_addmm_and_methods(torch):
    a = _rand(2, 3)
    b, c = _rand(2, 4), _rand(4, 3)
    x = lightgrad.tensor(a)
    x.addmm_(lightgrad.tensor(b), lightgrad.tensor(c), alpha=2)
    np.testing.assert_allclose(x.numpy(), a + 2 * b @ c)
    v = lightgrad.tensor(_rand(3))
    np.testing.assert_allclose(lightgrad.tensor(c).mv(v).numpy(), c @ v.numpy())
    np.testing.assert_allclose(v.dot(v).item(), v.numpy() @ v.numpy())
    np.testing.assert_allclose(v.outer(v).numpy(), np.outer(v.numpy(), v.numpy()))
    s = lightgrad.tensor(_rand(3, 3) + 3 * np.eye(3))
    np.testing.assert_allclose(s.inverse().numpy(), np.linalg.inv(s.numpy()))
    np.testing.assert_allclose(s.det().item(), np.linalg.det(s.numpy()))
    np.testing.assert_allclose(s.trace().item(), np.trace(s.numpy()))


def test_int_matmul_and_trace_keep_integer_dtype(torch):
    x = lightgrad.ones(2, 3, dtype=lightgrad.long)
    assert (x @ x.t()).dtype == lightgrad.int64
    assert x.trace().dtype == lightgrad.int64
    assert x.trace().item() == 2


def test_matrix_norm_values_match_numpy():
    a = _rand(3, 4)
    for ord in ("fro", "nuc", 2, -2, 1, -1, float("inf"), -float("inf")):
        np.testing.assert_allclose(
            lightgrad.linalg.matrix_norm(lightgrad.tensor(a), ord).item(),
            np.linalg.norm(a, ord), rtol=1e-12)
    for ord in (2, 1, 3, 0.5, float("inf"), -float("inf"), 0):
        np.testing.assert_allclose(
            lightgrad.linalg.vector_norm(lightgrad.tensor(a[0]), ord).item(),
            np.linalg.norm(a[0], ord), rtol=1e-12)


def test_einsum_list_operands_and_implicit_output(torch):
    (x, y), (tx, ty) = _pair(torch, (2, 3), (3, 4))
    np.testing.assert_allclose(lightgrad.einsum("ij,jk", [x, y]).numpy(),
                               torch.einsum("ij,jk", [tx, ty]).numpy())
    np.testing.assert_allclose(lightgrad.einsum("ba", x).numpy(),
                               torch.einsum("ba", tx).numpy())


@pytest.mark.parametrize("bias", [True, False])
def test_linear_weight_gradient_arrives_contiguous(torch, bias):
    """F.linear multiplies by weight.t(); the weight's gradient is computed in the weight's
    own layout, so it reaches the leaf C-contiguous (no transposing copy into .grad)."""
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    grads, layouts = [], []
    for m in (lightgrad, torch):
        wt = m.tensor(w, requires_grad=True)
        if m is lightgrad:
            wt.register_hook(lambda g: layouts.append(g._data.flags.c_contiguous))
        bt = m.tensor(b, requires_grad=True) if bias else None
        xt = m.tensor(x, requires_grad=True)
        (m.nn.functional.linear(xt, wt, bt) ** 2).sum().backward()
        grads.append((wt.grad.numpy(), xt.grad.numpy()))
    assert layouts == [True]
    for a, r in zip(grads[0], grads[1]):
        np.testing.assert_allclose(a, r, rtol=1e-12)


def test_inplace_add_with_alpha_under_no_grad(torch):
    out = []
    for m in (lightgrad, torch):
        p = m.tensor([1.0, 2.0, 3.0])
        q = m.tensor([1, 2, 3])
        with m.no_grad():
            p.add_(m.tensor([0.5, 0.5, 0.5]), alpha=-0.1)
            p.sub_(m.tensor([1.0, 1.0, 1.0]), alpha=2)
            p.add_(2.0, alpha=3)
            q.add_(m.tensor([1, 1, 1]), alpha=2)
        out.append((p.numpy().copy(), q.numpy().copy(), p._version))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-7)
    np.testing.assert_array_equal(out[0][1], out[1][1])
    assert out[0][2] == out[1][2]
