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


def _reverse_jvp(op):
    """J t from the Jacobian that reverse mode gives, output by output."""
    ins, diff, tangents = _setup(lightgrad, op)

    def f(*xs):
        args = list(ins)
        for i, x in zip(diff, xs):
            args[i] = x
        return tuple(o for o in _as_list(op.fn(lightgrad, *args))
                     if isinstance(o, lightgrad.Tensor) and o.is_floating_point())
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
