"""nn.functional: prelu and the margin / embedding losses.

prelu, soft_margin_loss, multi_margin_loss and multilabel_margin_loss are declared in
ops/nn_activation.py and ops/nn_margin.py (one kernel each, as torch's) and imported here;
the other losses are composed of public ops the way torch composes them, so they show the
same nodes.

>>> import lightgrad as torch
>>> import lightgrad.nn.functional as F
>>> F.margin_ranking_loss(torch.tensor([1., 2.]), torch.tensor([2., 1.]),
...                       torch.tensor([1., 1.]))
tensor(0.5000)
"""
import lightgrad as _lg
from ...ops.nn_activation import prelu
from ...ops.nn_loss import reduction_enum as _reduction_enum
from ...ops.nn_margin import multi_margin_loss, multilabel_margin_loss, soft_margin_loss
from .basic import _legacy_reduction, _reduce_composite, logsigmoid, pairwise_distance

__all__ = [
    "prelu", "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
    "multilabel_margin_loss", "multi_margin_loss", "multilabel_soft_margin_loss",
    "cosine_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
]

_EPSILON = 1e-12    # what torch adds to the squared norms in cosine_embedding_loss


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -target * (input1 - input2) + margin)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _reduction_enum(reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError("margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.size()}, input2: {input2.size()}, "
                           f"target: {target.size()} ")
    out = (-target * (input1 - input2) + margin).clamp_min(0)
    return _reduce_composite(out, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """input where target == 1, max(0, margin - input) where target == -1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _reduction_enum(reduction)
    zeros = _lg.zeros_like(input)
    margin_clamp = (margin - input).clamp_min(0)
    out = _lg.where(target != 1, margin_clamp, zeros) + _lg.where(target != -1, input, zeros)
    return _reduce_composite(out, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Binary cross entropy of sigmoid(input) per class, averaged over the classes."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(dim=class_dim) / input.size(class_dim)
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(reduction + " is not valid")


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(input1, input2) where target == 1, max(0, cos - margin) where target == -1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _reduction_enum(reduction)
    tdim = target.dim()
    if tdim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    want = 2 if tdim == 1 else 1
    if input1.dim() != want or input2.dim() != want:
        raise RuntimeError(f"{tdim}D target tensor expects {want}D input tensors, but found "
                           f"inputs with sizes {list(input1.shape)} and {list(input2.shape)}.")
    prod_sum = (input1 * input2).sum(tdim)
    mag_square1 = (input1 * input1).sum(tdim) + _EPSILON
    mag_square2 = (input2 * input2).sum(tdim) + _EPSILON
    cos = prod_sum / (mag_square1 * mag_square2).sqrt()
    zeros = _lg.zeros_like(cos)
    pos = 1 - cos
    neg = (cos - margin).clamp_min(0)
    out = _lg.where(target == 1, pos, zeros) + _lg.where(target == -1, neg, zeros)
    return _reduce_composite(out, reduction)


def _check_triplet_dims(anchor, positive, negative):
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == p and p == n):
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {a}D, positive {p}D, "
                           f"and negative {n}D inputs")


def _triplet(dist, anchor, positive, negative, margin, swap, reduction):
    dist_pos = dist(anchor, positive)
    dist_neg = dist(anchor, negative)
    if swap:    # use the positive as anchor when it is closer to the negative
        dist_neg = _lg.minimum(dist_neg, dist(positive, negative))
    return _reduce_composite((margin + dist_pos - dist_neg).clamp_min(0), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(0, margin + d(a, p) - d(a, n)) with the p-norm pairwise distance."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _reduction_enum(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    return _triplet(lambda a, b: pairwise_distance(a, b, p, eps), anchor, positive, negative,
                    margin, swap, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """triplet_margin_loss with any distance function (pairwise_distance by default)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    dist = pairwise_distance if distance_function is None else distance_function
    return _triplet(dist, anchor, positive, negative, margin, swap, reduction)
