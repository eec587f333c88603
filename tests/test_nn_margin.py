"""PReLU, the distance modules and the margin / embedding losses against torch: values,
gradients and node names for every reduction and option; reprs and error texts."""

import numpy as np
import pytest

import lightgrad as lg
import lightgrad.nn as lnn
import lightgrad.nn.functional as LF
from lightgrad.autograd.gradcheck import gradcheck, gradgradcheck

from .test_nn_losses import _compare as _compare_losses
from .test_nn_losses import _err

RNG = np.random.default_rng(7)
REDUCTIONS = ["mean", "sum", "none"]
RTOL = 1e-7


def _compare(torch, make, inputs, grads=(0,), kwargs=None, node=True):
    """test_nn_losses' comparison (values, dtype, node name, gradients) at RTOL."""
    _compare_losses(torch, make, inputs, grads, kwargs, rtol=RTOL, node=node)


def _signs(*shape):
    return RNG.choice([-1.0, 1.0], shape)


# -- PReLU -----------------------------------------------------------------------------------
@pytest.mark.parametrize("n, shape", [(1, (4, 3)), (3, (4, 3)), (3, (2, 3, 2, 2)), (1, (5,)),
                                      (1, ()), (2, (3, 2, 4))])
def test_prelu_module(torch, n, shape):
    lm, tm = lnn.PReLU(n, init=0.3), torch.nn.PReLU(n, init=0.3)
    assert repr(lm) == repr(tm)
    assert lm.init == tm.init and lm.num_parameters == tm.num_parameters
    lm.weight.data = lg.tensor(RNG.uniform(-0.5, 0.5, n))
    w = lm.weight.detach().numpy()

    def make(nn, _):
        m = nn.PReLU(n).double()
        with (lg if nn is lnn else torch).no_grad():
            m.weight.copy_((lg if nn is lnn else torch).tensor(w))
        params.append(m.weight)
        return m
    params = []
    _compare(torch, make, [RNG.standard_normal(shape)])
    np.testing.assert_allclose(params[0].grad.numpy(), params[1].grad.numpy(), rtol=RTOL)


def test_prelu_defaults_and_graph(torch):
    m = lnn.PReLU()
    assert m.weight.dtype is lg.float32 and m.weight.tolist() == [0.25]
    assert list(m.state_dict()) == ["weight"]
    assert lnn.PReLU(2, dtype=lg.float64).weight.dtype is lg.float64
    x = lg.randn(2, 3, dtype=lg.float64, requires_grad=True)
    w = lg.rand(3, dtype=lg.float64, requires_grad=True)
    y = LF.prelu(x, w)
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    ty = torch.nn.functional.prelu(tx, torch.tensor(w.detach().numpy(), requires_grad=True))
    names = [type(f).__name__ for f, _ in y.grad_fn.next_functions]
    assert names == [type(f).__name__ for f, _ in ty.grad_fn.next_functions]
    # second derivatives through the rule (create_graph)
    assert gradgradcheck(LF.prelu, [x, w])
    # no grad recorded when nothing requires it
    assert LF.prelu(x.detach(), w.detach()).grad_fn is None


def test_prelu_errors(torch):
    def cases(mod, F):
        x = mod.zeros(4, 3)
        return [
            lambda: F.prelu(mod.zeros(3), mod.ones(3)),
            lambda: F.prelu(x, mod.ones(2)),
            lambda: F.prelu(mod.zeros(()), mod.ones(2)),
            lambda: F.prelu(x, mod.ones(3, 1)),
            lambda: F.prelu(x, mod.ones(3, dtype=mod.float64)),
            lambda: F.prelu(mod.tensor([1, 2]), mod.tensor([1])),
            lambda: F.prelu(x, 0.25),
        ]
    for a, b in zip(cases(lg, LF), cases(torch, torch.nn.functional)):
        assert _err(a) == _err(b)


# -- losses ----------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_ranking_and_hinge(torch, reduction):
    x1, x2, y = RNG.standard_normal(5), RNG.standard_normal(5), _signs(5)
    for kw in [{}, {"margin": 0.4}]:
        _compare(torch, lambda nn, k: nn.MarginRankingLoss(reduction=reduction, **k),
                 [x1, x2, y], grads=(0, 1, 2), kwargs=kw)
    x, y2 = RNG.standard_normal((3, 4)), _signs(3, 4)
    y2[0, 0] = 0.5          # neither +1 nor -1: contributes both terms, as in torch
    for kw in [{}, {"margin": 0.3}]:
        _compare(torch, lambda nn, k: nn.HingeEmbeddingLoss(reduction=reduction, **k),
                 [x, y2], kwargs=kw)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin_losses(torch, reduction):
    x, y = RNG.standard_normal((3, 4)) * 2, _signs(3, 4)
    _compare(torch, lambda nn, k: nn.SoftMarginLoss(reduction=reduction), [x, y])
    _compare(torch, lambda nn, k: nn.SoftMarginLoss(reduction=reduction),
             [x, _signs(4)])      # the target broadcasts against the input
    p = RNG.uniform(0, 1, (3, 4))
    w = RNG.uniform(0.5, 2, 4)
    for kw in [{}, {"weight": w}]:
        _compare(torch, lambda nn, k: nn.MultiLabelSoftMarginLoss(reduction=reduction, **k),
                 [x, p], grads=(0, 1), kwargs=kw)
    _compare(torch, lambda nn, k: nn.MultiLabelSoftMarginLoss(reduction=reduction),
             [RNG.standard_normal(4), p[0]], grads=(0, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multi_margin(torch, reduction):
    x, t = RNG.standard_normal((5, 4)), np.array([0, 3, 1, 1, 2])
    w = RNG.uniform(0.5, 2, 4)
    for kw in [{}, {"p": 2}, {"margin": 0.5}, {"weight": w}, {"p": 2, "margin": 1.5,
                                                               "weight": w}]:
        _compare(torch, lambda nn, k: nn.MultiMarginLoss(reduction=reduction, **k), [x, t],
                 kwargs=kw)
    # one sample: (C,) input with a 0-d or a one-element target; a 0-d input
    for xs, ts in [(x[0], np.array(2)), (x[0], np.array([2])), (np.array(0.3), np.array(0))]:
        _compare(torch, lambda nn, k: nn.MultiMarginLoss(reduction=reduction, p=2), [xs, ts])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin(torch, reduction):
    x = RNG.standard_normal((4, 5))
    t = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 0, 4], [4, 4, -1, 0, 0], [-1, 1, 2, 3, 4]])
    _compare(torch, lambda nn, k: nn.MultiLabelMarginLoss(reduction=reduction), [x, t])
    _compare(torch, lambda nn, k: nn.MultiLabelMarginLoss(reduction=reduction),
             [x[0], np.array([2, 0, -1, 4, 4])])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_embedding(torch, reduction):
    a, b, y = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3)), _signs(4)
    for kw in [{}, {"margin": -0.2}, {"margin": 0.3}]:
        _compare(torch, lambda nn, k: nn.CosineEmbeddingLoss(reduction=reduction, **k),
                 [a, b, y], grads=(0, 1), kwargs=kw)
    _compare(torch, lambda nn, k: nn.CosineEmbeddingLoss(reduction=reduction),
             [a[0], b[0], np.array(-1.0)], grads=(0, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet(torch, reduction):
    a, p, n = (RNG.standard_normal((4, 3)) for _ in range(3))
    for kw in [{}, {"margin": 2.0, "p": 1.0}, {"swap": True}, {"p": 3.0, "eps": 1e-3},
               {"margin": 0.5, "swap": True, "p": 1.5}]:
        _compare(torch, lambda nn, k: nn.TripletMarginLoss(reduction=reduction, **k),
                 [a, p, n], grads=(0, 1, 2), kwargs=kw)
    _compare(torch, lambda nn, k: nn.TripletMarginLoss(reduction=reduction),
             [a[0], p[0], n[0]], grads=(0, 1, 2))
    for kw in [{}, {"swap": True, "margin": 0.5}]:
        _compare(torch, lambda nn, k: nn.TripletMarginWithDistanceLoss(
            reduction=reduction, **k), [a, p, n], grads=(0, 1, 2), kwargs=kw)

    def cos_dist(nn, k):
        return nn.TripletMarginWithDistanceLoss(
            distance_function=lambda u, v: 1.0 - nn.functional.cosine_similarity(u, v),
            reduction=reduction, swap=True)
    _compare(torch, cos_dist, [a, p, n], grads=(0, 1, 2))


def test_distance_modules(torch):
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    for kw in [{}, {"p": 1.0, "eps": 0.0, "keepdim": True}, {"p": 3.0}]:
        _compare(torch, lambda nn, k: nn.PairwiseDistance(**k), [a, b], grads=(0, 1),
                 kwargs=kw, node=False)     # torch's norm node is NormBackward1
        assert repr(lnn.PairwiseDistance(**kw)) == repr(torch.nn.PairwiseDistance(**kw))
    for kw in [{}, {"dim": 0}, {"dim": -1, "eps": 1e-3}]:
        _compare(torch, lambda nn, k: nn.CosineSimilarity(**k), [a, b], grads=(0, 1),
                 kwargs=kw)
        assert repr(lnn.CosineSimilarity(**kw)) == repr(torch.nn.CosineSimilarity(**kw))
    assert lnn.PairwiseDistance(p=1.0).norm == 1.0


def test_legacy_reduction_args(torch):
    x1, x2, y = RNG.standard_normal(4), RNG.standard_normal(4), _signs(4)
    cases = [("margin_ranking_loss", [x1, x2, y]), ("hinge_embedding_loss", [x1, y]),
             ("soft_margin_loss", [x1, y]),
             ("multi_margin_loss", [RNG.standard_normal((3, 4)), np.array([0, 1, 3])]),
             ("multilabel_margin_loss", [RNG.standard_normal((2, 3)),
                                         np.array([[2, -1, 0], [0, 1, -1]])]),
             ("multilabel_soft_margin_loss", [RNG.standard_normal((2, 3)),
                                              RNG.uniform(0, 1, (2, 3))]),
             ("cosine_embedding_loss", [RNG.standard_normal((4, 3)),
                                        RNG.standard_normal((4, 3)), y]),
             ("triplet_margin_loss", [RNG.standard_normal((2, 3)) for _ in range(3)])]
    for name, ins in cases:
        for legacy in [{"size_average": False}, {"reduce": False}, {"size_average": True}]:
            _compare(torch, lambda nn, k, name=name: lambda *a: getattr(nn.functional, name)(
                *a, **k), ins, kwargs=legacy)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        assert lnn.SoftMarginLoss(size_average=False).reduction == "sum"
    assert lnn.TripletMarginLoss(reduce=False).reduction == "none"


def test_module_reprs_and_attributes(torch):
    for name, kw in [("MarginRankingLoss", {}), ("HingeEmbeddingLoss", {"margin": 2.0}),
                     ("SoftMarginLoss", {}), ("MultiLabelMarginLoss", {}),
                     ("MultiMarginLoss", {"p": 2, "margin": 0.5}),
                     ("MultiLabelSoftMarginLoss", {}), ("CosineEmbeddingLoss", {}),
                     ("TripletMarginLoss", {"swap": True}),
                     ("TripletMarginWithDistanceLoss", {}),
                     ("TripletMarginWithDistanceLoss", {"distance_function": abs}),
                     ("PReLU", {"num_parameters": 4, "init": 0.1})]:
        lm, tm = getattr(lnn, name)(**kw), getattr(torch.nn, name)(**kw)
        assert repr(lm) == repr(tm)
        for attr in ("reduction", "margin", "p", "eps", "swap"):
            assert getattr(lm, attr, None) == getattr(tm, attr, None)
    m = lnn.MultiMarginLoss(weight=lg.ones(3))
    tm = torch.nn.MultiMarginLoss(weight=torch.ones(3))
    assert list(m.state_dict()) == list(tm.state_dict()) == ["weight"]
    assert isinstance(lnn.TripletMarginWithDistanceLoss().distance_function,
                      lnn.PairwiseDistance)


def test_gradcheck_composites():
    def t(*shape):
        return lg.tensor(RNG.standard_normal(shape), dtype=lg.float64, requires_grad=True)
    y = lg.tensor(_signs(4), dtype=lg.float64)
    assert gradcheck(lambda a, b: LF.cosine_embedding_loss(a, b, y, margin=-0.5),
                     [t(4, 3), t(4, 3)])
    assert gradcheck(lambda a, p, n: LF.triplet_margin_loss(a, p, n, swap=True,
                                                            reduction="none"),
                     [t(4, 3), t(4, 3), t(4, 3)])
    assert gradgradcheck(lambda x, p: LF.multilabel_soft_margin_loss(x, p), [t(2, 3), t(2, 3)])
    assert gradcheck(lambda a, b: LF.margin_ranking_loss(a, b, y, margin=0.1, reduction="sum"),
                     [t(4), t(4)])


def test_errors_match(torch):
    def cases(mod, F):
        r = mod.zeros
        t = mod.tensor
        return [
            lambda: F.margin_ranking_loss(r(4), r(4), r(4, 1)),
            lambda: F.margin_ranking_loss(r(4), r(3), r(4)),
            lambda: F.margin_ranking_loss(r(4), r(4), r(4), reduction="bad"),
            lambda: F.hinge_embedding_loss(r(4), r(3)),
            lambda: F.hinge_embedding_loss(r(4), r(4), reduction="x"),
            lambda: F.soft_margin_loss(r(4), r(3)),
            lambda: F.soft_margin_loss(r(4, 1), r(3)),
            lambda: F.soft_margin_loss(r(4), r(4), reduction="x"),
            lambda: F.soft_margin_loss(r(4, requires_grad=True), r(4, requires_grad=True)),
            lambda: F.multi_margin_loss(r(2, 4), t([0, 4])),
            lambda: F.multi_margin_loss(r(2, 4), t([0, 1, 2])),
            lambda: F.multi_margin_loss(r(4), t([0, 1])),
            lambda: F.multi_margin_loss(r(2, 4), t([0, 1]), p=3),
            lambda: F.multi_margin_loss(r(2, 4), t([0, 1]), weight=r(3)),
            lambda: F.multi_margin_loss(r(2, 4), t([0, 1]), weight=r(2, 2)),
            lambda: F.multi_margin_loss(r(2, 4), t([0.0, 1.0])),
            lambda: F.multi_margin_loss(r(2, 0), t([0, 1])),
            lambda: F.multi_margin_loss(r(2, 3, 4), t([0, 1])),
            lambda: F.multi_margin_loss(r(2, 4), t([0, 1]), reduction="x"),
            lambda: F.multi_margin_loss(r(2, 4, requires_grad=True), t([0, 1]),
                                        weight=r(4, requires_grad=True)),
            lambda: F.multilabel_margin_loss(r(2, 4), t([[0, 4, -1, 0], [1, -1, 0, 0]])),
            lambda: F.multilabel_margin_loss(r(2, 4), t([[0, -1, 7, 0], [1, -1, 0, 0]])),
            lambda: F.multilabel_margin_loss(r(2, 4), t([[0, 1, -1, 0]])),
            lambda: F.multilabel_margin_loss(r(2, 4), t([[0, 1.0, -1, 0], [1, -1, 0, 0]])),
            lambda: F.multilabel_margin_loss(r(2, 3, 4), t([[0, 1, -1, 0], [1, -1, 0, 0]])),
            lambda: F.multilabel_soft_margin_loss(r(2, 4), r(2, 4), reduction="x"),
            lambda: F.cosine_embedding_loss(r(2, 4), r(2, 4), r(2, 1)),
            lambda: F.cosine_embedding_loss(r(2, 4), r(4), r(2)),
            lambda: F.cosine_embedding_loss(r(2, 4), r(2, 4), r(())),
            lambda: F.triplet_margin_loss(r(2, 4), r(2, 4), r(4)),
            lambda: F.triplet_margin_loss(r(2, 4), r(2, 4), r(2, 4), margin=0),
            lambda: F.triplet_margin_with_distance_loss(r(2, 4), r(2, 4), r(4)),
            lambda: F.triplet_margin_with_distance_loss(r(2, 4), r(2, 4), r(2, 4),
                                                        reduction="x"),
            lambda: F.triplet_margin_with_distance_loss(r(2, 4), r(2, 4), r(2, 4), margin=-1),
            lambda: mod.nn.MultiMarginLoss(p=3),
            lambda: mod.nn.MultiMarginLoss(weight=r(2, 2)),
            lambda: mod.nn.TripletMarginLoss(margin=0.0),
            lambda: mod.nn.TripletMarginWithDistanceLoss(margin=-1.0),
        ]
    for a, b in zip(cases(lg, LF), cases(torch, torch.nn.functional)):
        assert _err(a) == _err(b)


def test_jacobians_through_primitives(torch):
    """The primitives' rules also run batched (jacrev) and give forward-mode tangents."""
    x = RNG.standard_normal((3, 4))
    w = RNG.uniform(0.1, 0.5, 4)
    fns = [
        lambda m, a: m.nn.functional.prelu(a, m.tensor(w)),
        lambda m, a: m.nn.functional.soft_margin_loss(a, m.tensor(np.sign(x)),
                                                      reduction="none"),
        lambda m, a: m.nn.functional.multi_margin_loss(a, m.tensor([0, 1, 3]), p=2,
                                                       reduction="none"),
        lambda m, a: m.nn.functional.multilabel_margin_loss(
            a, m.tensor([[0, 2, -1, 0], [3, -1, 1, 1], [1, 2, 3, 0]]))]
    for fn in fns:
        got = lg.func.jacrev(lambda a, fn=fn: fn(lg, a))(lg.tensor(x))
        want = torch.func.jacrev(lambda a, fn=fn: fn(torch, a))(torch.tensor(x))
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=RTOL, atol=1e-12)
    tangent = RNG.standard_normal((3, 4))
    _, got = lg.func.jvp(lambda a: fns[0](lg, a), (lg.tensor(x),), (lg.tensor(tangent),))
    _, want = torch.func.jvp(lambda a: fns[0](torch, a), (torch.tensor(x),),
                             (torch.tensor(tangent),))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=RTOL)
