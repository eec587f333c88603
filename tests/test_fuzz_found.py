"""Mismatches against torch that the differential fuzzer (tests/test_fuzz_torch.py, other
seeds) found and that are fixed: each case checked against real torch."""
import warnings

import numpy as np
import pytest

import lightgrad


def _outcome(fn):
    """('ok', dtype name, values, requires_grad) or ('err', error class name)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = fn()
    except Exception as e:          # noqa: BLE001 - the class is what is compared
        return ("err", type(e).__name__)
    return ("ok", str(r.dtype).split(".")[-1], np.asarray(r.detach().numpy()).tolist(),
            r.requires_grad)


CASES = {
    "add-bool-alpha": lambda t: t.add(t.tensor([False, True]), True, alpha=2),
    "add-bool-alpha-out": lambda t: t.add(t.tensor(False), True, alpha=2, out=t.empty(0)),
    "add-int-float-alpha": lambda t: t.add(t.tensor([3]), t.zeros(0, dtype=t.int64),
                                           alpha=0.5),
    "add-float-bool-alpha": lambda t: t.add(t.ones(2), t.ones(2), alpha=True),
    "sub-int-float-alpha": lambda t: t.sub(t.tensor([3]), 1, alpha=1.0),
    "sum-int-dtype-grad": lambda t: t.ones(2, dtype=t.float64, requires_grad=True).sum(
        dtype=t.int64),
    "prod-int-dtype-grad": lambda t: t.ones(2, requires_grad=True).prod(dtype=t.int64),
    "cumprod-int-dtype-grad": lambda t: t.ones(2, requires_grad=True).cumprod(
        0, dtype=t.int64),
    "cumsum_-dtype": lambda t: t.ones(2).cumsum_(0, dtype=t.float64),
    "cumprod_-dtype": lambda t: t.ones(2).cumprod_(0, dtype=t.int64),
    "cumsum_-same-dtype": lambda t: t.ones(2).cumsum_(0, dtype=t.float32),
    "clamp-tensor-out-cast": lambda t: t.clamp(t.tensor([1.5, -2.0], dtype=t.float64),
                                               t.tensor(-1.0, dtype=t.float64),
                                               t.tensor(1.0, dtype=t.float64),
                                               out=t.empty(0)),
    "clamp-tensor-out-uncastable": lambda t: t.clamp(t.tensor([1.5]), t.tensor(-1.0),
                                                     t.tensor(1.0),
                                                     out=t.empty(0, dtype=t.int64)),
    "clamp-scalar-out-other-dtype": lambda t: t.clamp(t.tensor([1.5]), -1.0, 1.0,
                                                      out=t.empty(0, dtype=t.float64)),
    "vector_norm-0d-ord0": lambda t: t.linalg.vector_norm(t.tensor(0.25), 0),
    "vector_norm-empty-neginf": lambda t: t.linalg.vector_norm(t.zeros(0, 2), -float("inf")),
    "vector_norm-empty-dim-neg": lambda t: t.linalg.vector_norm(t.zeros(0, 2), -1, dim=0),
    "vector_norm-empty-other-dim": lambda t: t.linalg.vector_norm(t.zeros(0, 2), -1, dim=1),
    "norm-empty-inf": lambda t: t.norm(t.zeros(0), p=float("inf")),
    "norm-empty-inf-dim": lambda t: t.norm(t.zeros(0, 2), p=float("inf"), dim=0),
    "roll-0d-dims": lambda t: t.roll(t.tensor(3), (0,), (0,)),
    "roll-misaligned": lambda t: t.roll(t.zeros(2), (1, 2), (5,)),
    "pad-crop-empty": lambda t: t.nn.functional.pad(t.zeros(0), (1, -1)),
    "pad-crop-too-much": lambda t: t.nn.functional.pad(t.zeros(1), (-2, 1)),
    "pad-crop-to-empty": lambda t: t.nn.functional.pad(t.zeros(1), (1, -1)),
    "index_add-empty-self": lambda t: t.zeros(0, 3).index_add_(0, t.tensor([0]), t.ones(1, 3)),
    "index_add-empty-1d": lambda t: t.zeros(0).index_add_(0, t.tensor([0]), t.ones(1)),
    "index_select-empty-dim": lambda t: t.index_select(t.zeros(0, 3), 0, t.tensor([0])),
    "index_select-empty-1d": lambda t: t.index_select(t.zeros(0), 0, t.tensor([0])),
    "softmax-empty-int": lambda t: t.softmax(t.zeros(0, 2, dtype=t.int64), 0),
    "softmax-int": lambda t: t.softmax(t.zeros(2, dtype=t.int64), 0),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(torch, name):
    assert _outcome(lambda: CASES[name](lightgrad)) == _outcome(lambda: CASES[name](torch))


@pytest.mark.parametrize("dim, correction, g", [
    (None, 2, 0.7), (None, 2, -0.7), (None, 4, 0.7), ((0, 1), 4, 0.7), (1, 2, 0.7),
    (None, 1.5, 0.7)])
def test_var_gradient_without_degrees_of_freedom(torch, dim, correction, g):
    # torch: over every dim (dim=None) with dof <= 0 the gradient is inf (nan at the mean)
    x = [[0.0, 0.5], [0.25, 0.25]]         # the overall mean is 0.25: nan there
    grads = []
    for lib in (torch, lightgrad):
        t = lib.tensor(x, dtype=lib.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = t.var(dim, correction=correction)
        (gr,) = lib.autograd.grad(v, t, lib.full(tuple(v.shape), g, dtype=lib.float64))
        grads.append(gr.detach().numpy())
    np.testing.assert_array_equal(grads[1], grads[0])


def test_var_mean_gradient_without_degrees_of_freedom(torch):
    grads = []
    for lib in (torch, lightgrad):
        t = lib.tensor([0.0, 0.5, 1.0], dtype=lib.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v, _ = lib.var_mean(t, correction=3)
        (gr,) = lib.autograd.grad(v, t, lib.tensor(0.7, dtype=lib.float64))
        grads.append(gr.detach().numpy())
    np.testing.assert_array_equal(grads[1], grads[0])


def test_index_add_into_empty_backward(torch):
    errs = []
    for lib in (torch, lightgrad):
        x = lib.zeros(0, 3, dtype=lib.float64, requires_grad=True)
        v = lib.ones(1, 3, dtype=lib.float64, requires_grad=True)
        r = lib.index_add(x, 0, lib.tensor([0]), v)
        with pytest.raises(RuntimeError) as e:
            lib.autograd.grad(r, (x, v), lib.zeros(0, 3, dtype=lib.float64))
        errs.append(str(e.value))
    assert errs[0] == errs[1]
