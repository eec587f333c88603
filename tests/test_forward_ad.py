"""Forward-mode AD (autograd.forward_ad): the tangent of every op-table entry against the
reverse-mode Jacobian times the tangent, and against torch's forward AD; the dual-tensor
API's behaviour and errors as torch's."""
import numpy as np
import pytest

import lightgrad
import lightgrad.autograd.forward_ad as fwAD

from .conftest import require
from .test_ops import ENTRIES, _arrays, _as_list, _inputs

GRAD_ENTRIES = [op for op in ENTRIES if op.grad]


def _setup(mod, op):
    """Inputs without grad, which inputs get tangents, and the tangents (float64)."""
    arrays = _arrays(op)
    ins = _inputs(mod, op, arrays, requires_grad=False)
    rng = np.random.default_rng(3)
    diff = [i for i, a in enumerate(arrays) if i not in op.nondiff and a.dtype.kind == "f"]
    tangents = {i: rng.standard_normal(arrays[i].shape) for i in diff}
    return ins, diff, tangents


def _forward_tangents(mod, fw, op):
    ins, diff, tangents = _setup(mod, op)
    with fw.dual_level():
        args = [fw.make_dual(t, mod.tensor(tangents[i], dtype=t.dtype)) if i in tangents
                else t for i, t in enumerate(ins)]
        outs = _as_list(op.fn(mod, *args))
        res = []
        for o in outs:
            if isinstance(o, mod.Tensor) and (o.is_floating_point() or o.is_complex()):
                p, t = fw.unpack_dual(o)
                res.append((p.detach().numpy().copy(), None if t is None else t.numpy().copy()))
    return res


def _of_diff_inputs(op, ins, diff):
    """The entry as a function of its differentiable inputs only, returning its float
    outputs as a tuple."""
    def f(*xs):
        args = list(ins)
        for i, x in zip(diff, xs):
            args[i] = x
        return tuple(o for o in _as_list(op.fn(lightgrad, *args))
                     if isinstance(o, lightgrad.Tensor) and o.is_floating_point())
    return f


def _reverse_jvp(op):
    """J t from the Jacobian that reverse mode gives, output by output."""
    ins, diff, tangents = _setup(lightgrad, op)
    f = _of_diff_inputs(op, ins, diff)
    jac = lightgrad.autograd.functional.jacobian(f, tuple(ins[i] for i in diff))
    out = []
    for row in jac:
        total = 0
        for i, j in zip(diff, row):
            t = tangents[i]
            total = total + np.tensordot(j.numpy(), t, axes=t.ndim)
        out.append(total)
    return out


@pytest.mark.parametrize("op", GRAD_ENTRIES, ids=[op.label() for op in GRAD_ENTRIES])
def test_tangent_equals_reverse_mode_jacobian_times_tangent(op):
    fwd = _forward_tangents(lightgrad, fwAD, op)
    ref = _reverse_jvp(op)
    assert len(fwd) == len(ref)
    for (_, t), r in zip(fwd, ref):
        t = np.zeros_like(r) if t is None else t
        np.testing.assert_allclose(t, r, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("op", GRAD_ENTRIES, ids=[op.label() for op in GRAD_ENTRIES])
def test_tangent_against_torch(op):
    torch = require("torch")
    if not op.extra.get("torch_forward_ad", True):
        pytest.skip("torch computes no tangent here (checked against reverse mode instead)")
    import torch.autograd.forward_ad as tfw
    try:
        ref = _forward_tangents(torch, tfw, op)
    except (NotImplementedError, RuntimeError) as e:
        pytest.skip(f"torch has no forward AD here: {str(e)[:80]}")
    ours = _forward_tangents(lightgrad, fwAD, op)
    assert len(ours) == len(ref)
    for (p, t), (rp, rt) in zip(ours, ref):
        np.testing.assert_allclose(p, rp, rtol=1e-6, atol=op.torch_atol, equal_nan=True)
        if rt is None:
            assert t is None or not np.any(t)
        else:
            np.testing.assert_allclose(t, rt, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("op", GRAD_ENTRIES, ids=[op.label() for op in GRAD_ENTRIES])
def test_jacfwd_one_batched_forward_pass_equals_reverse_jacobian(op):
    """jacfwd pushes all basis tangents through each op at once (batched tangents)."""
    ins, diff, _ = _setup(lightgrad, op)
    f = _of_diff_inputs(op, ins, diff)
    xs = tuple(ins[i] for i in diff)
    fwd = lightgrad.func.jacfwd(f, argnums=tuple(range(len(xs))))(*xs)
    rev = lightgrad.autograd.functional.jacobian(f, xs)
    for row_f, row_r in zip(fwd, rev):
        for a, b in zip(row_f, row_r):
            assert tuple(a.shape) == tuple(b.shape)
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-7, atol=1e-9)


GG_ENTRIES = [op for op in ENTRIES if op.gradgrad]


@pytest.mark.parametrize("op", GG_ENTRIES, ids=[op.label() for op in GG_ENTRIES])
def test_forward_over_reverse_hessian_equals_reverse_over_reverse(op):
    """Tangents flow through backward passes built with create_graph (the rules run on
    lightgrad ops), so hessian(outer_jacobian_strategy="forward-mode") works for each op."""
    ins, diff, _ = _setup(lightgrad, op)
    rng = np.random.default_rng(4)
    outputs = _of_diff_inputs(op, ins, diff)

    def f(*xs):
        total = 0
        for o in outputs(*xs):
            total = total + (o * lightgrad.tensor(rng.standard_normal(tuple(o.shape)))).sum()
        return total
    xs = tuple(ins[i] for i in diff)
    fwd_state = rng.bit_generator.state
    fwd = lightgrad.autograd.functional.hessian(f, xs, outer_jacobian_strategy="forward-mode",
                                                vectorize=True)
    rng.bit_generator.state = fwd_state
    rev = lightgrad.autograd.functional.hessian(f, xs)
    for row_f, row_r in zip(fwd, rev):
        for a, b in zip(row_f, row_r):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-8)


# -- the dual-tensor API, side by side with torch ------------------------------------------
def _api_story(mod, fw):
    """A run through the API; returns what a user would observe, as plain values."""
    seen = []
    x = mod.tensor([0.5, -1.0, 2.0], dtype=mod.float64)
    t = mod.tensor([1.0, 2.0, 3.0], dtype=mod.float64)
    w = mod.tensor([3.0, 4.0, 5.0], dtype=mod.float64, requires_grad=True)
    with fw.dual_level():
        d = fw.make_dual(x, t)
        seen += [d.requires_grad, d.grad_fn is None, d._base is x, d.is_leaf]
        y = d.exp() * w                       # mixes a dual and a tensor that requires grad
        p, tan = fw.unpack_dual(y)
        seen += [y.requires_grad, type(y.grad_fn).__name__, tan.tolist(), p.tolist()]
        z = d.sin()
        seen += [z.requires_grad, z.grad_fn is None, fw.unpack_dual(z).tangent.tolist()]
        seen.append(fw.unpack_dual(x).tangent is None)
        e = d * 1
        e.mul_(d)                             # in place on a dual
        seen.append(fw.unpack_dual(e).tangent.tolist())
        v = e[1:]
        v.add_(d[:2])                         # in place on a view: the base's tangent follows
        seen.append(fw.unpack_dual(e).tangent.tolist())
        y.sum().backward()                    # reverse mode still works beside it
        seen.append(w.grad.tolist())
        dr = fw.make_dual(w * 1, t)
        seen += [dr.requires_grad, type(dr.grad_fn).__name__]
    seen.append(fw.unpack_dual(y).tangent is None)   # tangents end with the level
    seen.append(fw.unpack_dual(d).tangent is None)
    return seen


def test_dual_tensor_api_matches_torch():
    torch = require("torch")
    import torch.autograd.forward_ad as tfw
    ours, ref = _api_story(lightgrad, fwAD), _api_story(torch, tfw)
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        if isinstance(b, list):
            np.testing.assert_allclose(a, b, rtol=1e-12)
        else:
            assert a == b


def _error(fn):
    try:
        fn()
    except Exception as e:      # noqa: BLE001  (the error itself is what we compare)
        return type(e).__name__, str(e)
    return None


def _api_errors(mod, fw):
    x = mod.tensor([1.0, 2.0, 3.0])
    out = [_error(lambda: fw.make_dual(x, mod.ones(3)))]     # no level
    with fw.dual_level():
        out.append(_error(lambda: fw.make_dual(x, mod.ones(2))))
        out.append(_error(lambda: fw.make_dual(mod.arange(3), mod.ones(3))))
        out.append(_error(lambda: fw.enter_dual_level()))
    return out


def test_api_errors_match_torch():
    torch = require("torch")
    import torch.autograd.forward_ad as tfw
    ours = [e and (e[0], e[1].replace("lightgrad.", "torch.")) for e in
            _api_errors(lightgrad, fwAD)]
    assert ours == _api_errors(torch, tfw)


def test_dual_prints_its_tangent():
    with fwAD.dual_level():
        d = fwAD.make_dual(lightgrad.zeros(2), lightgrad.ones(2))
        assert repr(d) == "tensor([0., 0.], tangent=tensor([1., 1.]))"
        y = d * lightgrad.tensor([1.0, 2.0], requires_grad=True)
        assert repr(y) == ("tensor([0., 0.], grad_fn=<MulBackward0>, "
                           "tangent=tensor([1., 2.]))")


def test_complex_duals_are_refused_clearly():
    # lightgrad does not differentiate complex tensors (reverse mode refuses them too)
    with fwAD.dual_level():
        with pytest.raises(NotImplementedError, match="complex"):
            fwAD.make_dual(lightgrad.tensor([1 + 1j]), lightgrad.tensor([1 + 0j]))


def _function_story(mod, fw):
    class Cube(mod.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctx.save_for_forward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * g

        @staticmethod
        def jvp(ctx, t):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * t

    class NoJvp(mod.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2
    x = mod.tensor([1.0, -2.0, 0.5], dtype=mod.float64)
    with fw.dual_level():
        d = fw.make_dual(x, mod.ones(3, dtype=mod.float64))
        y = Cube.apply(d.sin())
        out = [fw.unpack_dual(y).tangent.tolist(), y.requires_grad]
        out.append(_error(lambda: NoJvp.apply(d)))
    return out


def test_function_jvp_matches_torch():
    torch = require("torch")
    import torch.autograd.forward_ad as tfw
    ours, ref = _function_story(lightgrad, fwAD), _function_story(torch, tfw)
    np.testing.assert_allclose(ours[0], ref[0], rtol=1e-12)
    assert ours[1:] == ref[1:]


@pytest.mark.parametrize("op", GRAD_ENTRIES, ids=[op.label() for op in GRAD_ENTRIES])
def test_tangent_equals_finite_differences(op):
    """(f(x + eps t) - f(x - eps t)) / 2 eps, in float64, as gradcheck does."""
    fwd = _forward_tangents(lightgrad, fwAD, op)
    ins, diff, tangents = _setup(lightgrad, op)
    eps = 1e-6

    def at(sign):
        args = [lightgrad.tensor(t.numpy() + sign * eps * tangents[i]) if i in tangents
                else t for i, t in enumerate(ins)]
        return [o.numpy() for o in _as_list(op.fn(lightgrad, *args))
                if isinstance(o, lightgrad.Tensor) and o.is_floating_point()]
    for (_, t), hi, lo in zip(fwd, at(1), at(-1)):
        t = np.zeros_like(hi) if t is None else t
        np.testing.assert_allclose(t, (hi - lo) / (2 * eps), rtol=op.rtol, atol=op.atol)


def test_a_long_dual_level_does_not_keep_dead_tensors():
    with fwAD.dual_level():
        x = fwAD.make_dual(lightgrad.ones(3, dtype=lightgrad.float64),
                           lightgrad.ones(3, dtype=lightgrad.float64))
        for _ in range(5000):
            x = x * 1.0001
        assert len(lightgrad._graph.tangents._duals) < 3000
        np.testing.assert_allclose(fwAD.unpack_dual(x).tangent.numpy(), 1.0001 ** 5000,
                                   rtol=1e-9)
