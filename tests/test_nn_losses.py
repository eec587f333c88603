"""Loss modules and functions against torch: values, gradients and node names for every
reduction and option; error texts."""
import warnings

import numpy as np
import pytest

import lightgrad as lg
import lightgrad.nn as lnn

RNG = np.random.default_rng(0)
REDUCTIONS = ["mean", "sum", "none"]


def _t(mod, a, grad=False):
    if a is None:
        return None
    a = np.asarray(a)
    if a.dtype.kind == "f":
        t = mod.tensor(a, dtype=mod.float64)
        return t.requires_grad_() if grad else t
    return mod.tensor(a)


def _compare(torch, make, inputs, grads=(0,), kwargs=None, rtol=1e-10, node=True):
    """make(nn_module_namespace, torch_like_module) -> loss module; the loss of `inputs`
    (arrays; indices in `grads` require grad) must match torch's, with its gradients."""
    kwargs = kwargs or {}
    outs = []
    for mod, nn in ((lg, lnn), (torch, torch.nn)):
        ins = [_t(mod, a, i in grads) for i, a in enumerate(inputs)]
        kw = {k: _t(mod, v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loss = make(nn, kw)(*ins)
        outs.append((loss, ins))
    (ly, lins), (ty, tins) = outs
    np.testing.assert_allclose(ly.detach().numpy(), ty.detach().numpy(), rtol=rtol, atol=1e-12)
    assert tuple(ly.shape) == tuple(ty.shape)
    assert ly.dtype.name == str(ty.dtype).replace("torch.", "")
    if not grads:
        return
    if node:
        assert ly.grad_fn.name() == ty.grad_fn.name()
    up = RNG.standard_normal(tuple(ty.shape))
    ly.backward(lg.tensor(up))
    ty.backward(torch.tensor(up))
    for i in grads:
        np.testing.assert_allclose(lins[i].grad.numpy(), tins[i].grad.numpy(), rtol=rtol,
                                   atol=1e-12)


def _err(fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        return type(e).__name__, str(e).replace("torch.Size", "lightgrad.Size")
    return None


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(torch, reduction):
    x, y = RNG.standard_normal((4, 3)) * 2, RNG.standard_normal((4, 3))
    for name, kw in [("MSELoss", {}), ("L1Loss", {}), ("SmoothL1Loss", {}),
                     ("SmoothL1Loss", {"beta": 0.3}), ("SmoothL1Loss", {"beta": 0.0}),
                     ("HuberLoss", {}), ("HuberLoss", {"delta": 0.4})]:
        def make(nn, _, name=name, kw=kw):
            return getattr(nn, name)(reduction=reduction, **kw)
        _compare(torch, make, [x, y], grads=(0, 1))
        assert repr(make(lnn, None)) == repr(make(torch.nn, None))


def test_regression_broadcast_warns(torch):
    x = lg.zeros(3, 2, requires_grad=True)
    with pytest.warns(UserWarning, match="Using a target size"):
        lnn.functional.mse_loss(x, lg.ones(2))
    _compare(torch, lambda nn, _: nn.MSELoss(), [RNG.standard_normal((3, 2)),
                                                 RNG.standard_normal(2)], grads=(0, 1))
    _compare(torch, lambda nn, _: nn.L1Loss(), [RNG.standard_normal((3, 1)),
                                                RNG.standard_normal(2)], grads=(0,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_class_indices(torch, reduction):
    x = RNG.standard_normal((5, 4))
    t = np.array([0, 3, 1, 3, 2])
    w = RNG.uniform(0.5, 2, 4)
    for kw in [{}, {"weight": w}, {"ignore_index": 3}, {"weight": w, "ignore_index": 1},
               {"label_smoothing": 0.2}, {"label_smoothing": 0.1, "weight": w},
               {"label_smoothing": 0.3, "ignore_index": 3},
               {"label_smoothing": 0.3, "ignore_index": 0, "weight": w}]:
        def make(nn, k):
            return nn.CrossEntropyLoss(reduction=reduction, **k)
        _compare(torch, make, [x, t], kwargs=kw)
        _compare(torch, lambda nn, k: nn.NLLLoss(reduction=reduction, **{
            a: b for a, b in k.items() if a != "label_smoothing"}), [x, t], kwargs=kw)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial_and_unbatched(torch, reduction):
    w = RNG.uniform(0.5, 2, 3)
    for shape, tshape in [((2, 3, 4), (2, 4)), ((2, 3, 2, 2), (2, 2, 2)),
                          ((2, 3, 2, 1, 2), (2, 2, 1, 2))]:
        x, t = RNG.standard_normal(shape), RNG.integers(0, 3, tshape)
        for kw in [{}, {"weight": w, "ignore_index": 1}, {"label_smoothing": 0.2}]:
            _compare(torch, lambda nn, k: nn.CrossEntropyLoss(reduction=reduction, **k),
                     [x, t], kwargs=kw)
        _compare(torch, lambda nn, k: nn.NLLLoss(reduction=reduction), [x, t])
    # one sample: input (C,), target a 0-d index
    _compare(torch, lambda nn, k: nn.CrossEntropyLoss(reduction=reduction),
             [RNG.standard_normal(4), np.array(2)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets(torch, reduction):
    x = RNG.standard_normal((4, 3))
    p = RNG.dirichlet(np.ones(3), 4)
    w = RNG.uniform(0.5, 2, 3)
    for kw in [{}, {"weight": w}, {"label_smoothing": 0.25}]:
        # NOTE: torch divides by a Python number in C++ (DivBackward1); lightgrad's division
        # node is DivBackward0, so only the values and gradients are compared for 'mean'
        _compare(torch, lambda nn, k: nn.CrossEntropyLoss(reduction=reduction, **k), [x, p],
                 grads=(0, 1), kwargs=kw, node=reduction != "mean")
    x4 = RNG.standard_normal((2, 3, 2, 2))
    p4 = np.moveaxis(RNG.dirichlet(np.ones(3), (2, 2, 2)), -1, 1)
    _compare(torch, lambda nn, k: nn.CrossEntropyLoss(reduction=reduction), [x4, p4],
             grads=(0, 1), node=reduction != "mean")


def test_cross_entropy_graph_matches_torch(torch):
    x = lg.zeros(3, 4, requires_grad=True)
    y = lnn.functional.cross_entropy(x, lg.tensor([0, 1, 2]))
    assert y.grad_fn.name() == "NllLossBackward0"
    assert y.grad_fn.next_functions[0][0].name() == "LogSoftmaxBackward0"
    y = lnn.functional.cross_entropy(x.view(1, 3, 2, 2), lg.tensor([[[0, 1], [2, 1]]]))
    assert y.grad_fn.name() == "NllLoss2DBackward0"
    # a second derivative through cross entropy (create_graph) matches torch
    for mod in (lg, torch):
        xs = mod.tensor(RNG.standard_normal((3, 4)) if mod is lg else RNG.standard_normal(
            (3, 4)), dtype=mod.float64, requires_grad=True)
    xa = RNG.standard_normal((3, 4))
    res = []
    for mod, F in ((lg, lnn.functional), (torch, torch.nn.functional)):
        xs = mod.tensor(xa, dtype=mod.float64, requires_grad=True)
        loss = F.cross_entropy(xs, mod.tensor([0, 3, 1]))
        (g,) = mod.autograd.grad(loss, xs, create_graph=True)
        (gg,) = mod.autograd.grad((g * g).sum(), xs)
        res.append((g.detach().numpy(), gg.numpy()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-10)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-9)


def test_nll_errors_match(torch):
    def cases(mod, F):
        x = mod.zeros(3, 4)
        x3 = mod.zeros(2, 4, 3)
        return [
            lambda: F.nll_loss(x, mod.tensor([0, 1, 5])),
            lambda: F.cross_entropy(x, mod.tensor([0, 1, -3])),
            lambda: F.nll_loss(x, mod.tensor([0, 1])),
            lambda: F.nll_loss(x, mod.tensor([0.0, 1.0, 2.0])),
            lambda: F.cross_entropy(x3, mod.tensor([[0, 1, 2, 3], [0, 1, 2, 3]])),
            lambda: F.nll_loss(x, mod.tensor([0, 1, 2]), weight=mod.ones(3)),
            lambda: F.cross_entropy(x, mod.tensor([0, 1, 2]), reduction="bad"),
            lambda: F.binary_cross_entropy(mod.tensor([0.5, 1.5]), mod.tensor([0.0, 1.0])),
            lambda: F.binary_cross_entropy(mod.tensor([0.5, 0.5]), mod.tensor([0.0])),
            lambda: F.binary_cross_entropy_with_logits(mod.zeros(2), mod.zeros(3)),
        ]
    for a, b in zip(cases(lg, lnn.functional), cases(torch, torch.nn.functional)):
        assert _err(a) == _err(b)


def test_nll_all_ignored_mean_is_nan(torch):
    x = lg.zeros(2, 3, requires_grad=True)
    y = lnn.functional.nll_loss(x, lg.tensor([1, 1]), ignore_index=1)
    ty = torch.nn.functional.nll_loss(torch.zeros(2, 3), torch.tensor([1, 1]), ignore_index=1)
    assert np.isnan(y.item()) and np.isnan(ty.item())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(torch, reduction):
    x = RNG.uniform(0.02, 0.98, (4, 3))
    t = RNG.uniform(0, 1, (4, 3))
    w = RNG.uniform(0.5, 2, (4, 3))
    for kw in [{}, {"weight": w}, {"weight": w[0]}]:
        _compare(torch, lambda nn, k: nn.BCELoss(reduction=reduction, **k), [x, t],
                 grads=(0, 1), kwargs=kw)
    # log is clamped at -100 at the ends
    _compare(torch, lambda nn, k: nn.BCELoss(reduction=reduction),
             [np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 1.0])], grads=())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits(torch, reduction):
    x = RNG.standard_normal((4, 3)) * 4
    t = RNG.uniform(0, 1, (4, 3))
    w = RNG.uniform(0.5, 2, (4, 3))
    pw = RNG.uniform(0.5, 3, 3)
    for kw in [{}, {"weight": w}, {"pos_weight": pw}, {"weight": w[:1], "pos_weight": pw}]:
        _compare(torch, lambda nn, k: nn.BCEWithLogitsLoss(reduction=reduction, **k), [x, t],
                 grads=(0, 1), kwargs=kw)
    big = np.array([-800.0, 800.0, 0.0])
    _compare(torch, lambda nn, k: nn.BCEWithLogitsLoss(reduction=reduction),
             [big, np.array([1.0, 0.0, 0.5])], grads=(0,))


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(torch, reduction, log_target):
    x = np.log(RNG.dirichlet(np.ones(4), 3))
    t = RNG.dirichlet(np.ones(4), 3)
    t[0, 1] = 0.0                               # 0 * log 0 counts as 0
    if log_target:
        t = np.log(t + 0.1)
    _compare(torch, lambda nn, k: nn.KLDivLoss(reduction=reduction, log_target=log_target),
             [x, t], grads=(0, 1))


def test_kl_div_mean_warns():
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        lnn.functional.kl_div(lg.zeros(2, 2), lg.zeros(2, 2))


def test_loss_module_reprs_and_buffers(torch):
    for name in ["L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss", "CrossEntropyLoss",
                 "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss"]:
        assert repr(getattr(lnn, name)()) == repr(getattr(torch.nn, name)())
    m, tm = lnn.CrossEntropyLoss(weight=lg.ones(3)), torch.nn.CrossEntropyLoss(
        weight=torch.ones(3))
    assert list(m.state_dict()) == list(tm.state_dict()) == ["weight"]
    m = lnn.BCEWithLogitsLoss(pos_weight=lg.ones(2))
    tm = torch.nn.BCEWithLogitsLoss(pos_weight=torch.ones(2))
    assert list(m.state_dict()) == list(tm.state_dict())
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        assert lnn.MSELoss(size_average=False).reduction == "sum"
    assert lnn.MSELoss(reduce=False).reduction == torch.nn.MSELoss(reduce=False).reduction


def test_float32_cross_entropy_and_grad_dtype(torch):
    x = RNG.standard_normal((8, 5)).astype(np.float32)
    t = RNG.integers(0, 5, 8)
    lx = lg.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    ly = lnn.functional.cross_entropy(lx, lg.tensor(t))
    ty = torch.nn.functional.cross_entropy(tx, torch.tensor(t))
    assert ly.dtype is lg.float32
    np.testing.assert_allclose(ly.item(), ty.item(), rtol=1e-6)
    ly.backward()
    ty.backward()
    assert lx.grad.dtype is lg.float32
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-7)
