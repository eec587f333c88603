"""Every op-table entry: forward against NumPy and torch, gradcheck and gradgradcheck in
float64, gradients and node names against torch."""
import importlib
import pkgutil

import numpy as np
import pytest

import lightgrad
import lightgrad.nn  # noqa: F401  (declares the nn primitives, so the coverage check sees them)
from lightgrad.autograd.gradcheck import gradcheck, gradgradcheck
from lightgrad.ops._core import DECLARED

from . import optable
from .conftest import require
from .optable.entry import Op

DECLS = list(dict.fromkeys(DECLARED.values()))   # each declared op once, in order


_SUBMODULES = {"": lambda m: m, "linalg": lambda m: m.linalg, "F": lambda m: m.nn.functional}


def _sample_entry(decl, sample):
    """An op-table entry for one Sample of a declared op: `op(*tensors, *args, **kwargs)`,
    the op looked up in lightgrad or torch (`F.x`: in nn.functional, `linalg.x`: in linalg)."""
    args, kwargs = sample.args, sample.kwargs
    submodule, _, name = decl.name.rpartition(".")
    lookup = _SUBMODULES[submodule]
    differentiable = bool(decl.nodes)       # an op that records no node has no gradient
    if sample.call is not None:
        call = sample.call
    elif sample.method:
        def call(m, *xs):
            return getattr(xs[0], name)(*xs[1:], *args, **kwargs)
    elif sample.pack:
        def call(m, *xs):
            return getattr(lookup(m), name)(list(xs), *args, **kwargs)
    else:
        def call(m, *xs):
            return getattr(lookup(m), name)(*xs, *args, **kwargs)
    return Op(decl.name, call, sample.shapes,
              domain=sample.domain, np_ref=sample.np_ref, grad=sample.grad and differentiable,
              gradgrad=sample.gradgrad and differentiable, nondiff=sample.nondiff,
              make_inputs=sample.make_inputs, atol=sample.atol, rtol=sample.rtol,
              torch_atol=sample.torch_atol,
              extra={"vmap_refused": sample.vmap_refused or decl.vmap_refused,
                     "torch_forward_ad": sample.torch_forward_ad, "values": sample.values},
              id=f"{decl.name}-{sample.id}" if sample.id else "")


ENTRIES = [_sample_entry(d, smp) for d in DECLS for smp in d.samples]
for _m in pkgutil.iter_modules(optable.__path__):
    if _m.name != "entry":
        ENTRIES += importlib.import_module(f"tests.optable.{_m.name}").ENTRIES


def _arrays(op, seed=0):
    rng = np.random.default_rng(seed)
    if op.make_inputs is not None:
        return [np.asarray(a) for a in op.make_inputs(rng)]
    out = []
    for shape in op.shapes:
        if callable(op.domain):
            out.append(np.asarray(op.domain(shape, rng), dtype=np.float64))
        else:
            lo, hi = op.domain
            out.append(rng.uniform(lo, hi, shape))
    return out


def _inputs(mod, op, arrays, requires_grad=True):
    ins = []
    for i, a in enumerate(arrays):
        t = mod.tensor(a) if a.dtype.kind != "f" else mod.tensor(a, dtype=mod.float64)
        if requires_grad and i not in op.nondiff and a.dtype.kind == "f":
            t.requires_grad_()
        ins.append(t)
    return ins


def _as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


ids = [op.label() for op in ENTRIES]


@pytest.mark.parametrize("op", ENTRIES, ids=ids)
def test_forward_numpy(op):
    if op.np_ref is None:
        pytest.skip("no NumPy reference for this entry")
    arrays = _arrays(op)
    out = op.fn(lightgrad, *_inputs(lightgrad, op, arrays, requires_grad=False))
    np.testing.assert_allclose(_as_list(out)[0].numpy(), op.np_ref(*arrays), rtol=1e-7,
                               atol=1e-10)


@pytest.mark.parametrize("op", [op for op in ENTRIES if op.grad], ids=[
    op.label() for op in ENTRIES if op.grad])
def test_gradcheck(op):
    ins = _inputs(lightgrad, op, _arrays(op))
    assert gradcheck(lambda *xs: op.fn(lightgrad, *xs), ins, atol=op.atol, rtol=op.rtol)


@pytest.mark.parametrize("op", [op for op in ENTRIES if op.gradgrad], ids=[
    op.label() for op in ENTRIES if op.gradgrad])
def test_gradgradcheck(op):
    ins = _inputs(lightgrad, op, _arrays(op))
    assert gradgradcheck(lambda *xs: op.fn(lightgrad, *xs), ins, atol=op.atol, rtol=op.rtol)


@pytest.mark.parametrize("op", ENTRIES, ids=ids)
def test_against_torch(op):
    torch = require("torch")
    arrays = _arrays(op)
    lg_in = _inputs(lightgrad, op, arrays, requires_grad=op.grad)
    th_in = _inputs(torch, op, arrays, requires_grad=op.grad)
    lg_out, th_out = _as_list(op.fn(lightgrad, *lg_in)), _as_list(op.fn(torch, *th_in))
    assert len(lg_out) == len(th_out)
    for a, b in zip(lg_out, th_out):
        if not isinstance(b, torch.Tensor):
            assert a == b
            continue
        assert tuple(a.shape) == tuple(b.shape)
        b = b.resolve_conj()        # torch's lazy conjugate (conj of a complex tensor)
        assert a.dtype.name == str(b.dtype).replace("torch.", "")
        if op.extra.get("values", True):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6,
                                       atol=op.torch_atol, equal_nan=True)
        assert a.requires_grad == b.requires_grad
        if b.grad_fn is not None:
            assert type(a.grad_fn).__name__ == type(b.grad_fn).__name__
    if not op.grad:
        return
    # gradients for a random upstream gradient of every differentiable output
    rng = np.random.default_rng(1)
    lg_pairs = [(a, b) for a, b in zip(lg_out, th_out)
                if isinstance(b, torch.Tensor) and b.requires_grad]
    if not lg_pairs:
        return
    ups = [rng.standard_normal(tuple(b.shape)) for _, b in lg_pairs]
    lg_diff = [t for t in lg_in if t.requires_grad]
    th_diff = [t for t in th_in if t.requires_grad]
    lg_g = lightgrad.autograd.grad([a for a, _ in lg_pairs], lg_diff,
                                   [lightgrad.tensor(u, dtype=a.dtype) for (a, _), u in
                                    zip(lg_pairs, ups)], allow_unused=True)
    th_g = torch.autograd.grad([b for _, b in lg_pairs], th_diff,
                               [torch.tensor(u, dtype=b.dtype) for (_, b), u in
                                zip(lg_pairs, ups)], allow_unused=True)
    for a, b in zip(lg_g, th_g):
        if b is None:
            assert a is None or not np.any(a.numpy())
            continue
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)


def test_every_declared_op_has_samples():
    missing = [d.name for d in DECLS if not d.samples]
    assert not missing, f"declared ops without samples: {missing}"


def test_declared_samples_have_distinct_ids():
    labels = [op.label() for op in ENTRIES]
    assert len(labels) == len(set(labels)), sorted(x for x in labels if labels.count(x) > 1)
