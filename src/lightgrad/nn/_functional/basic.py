"""nn.functional: activations, linear layers, dropout, embedding, distances and losses.

The ops torch computes in one kernel are declared in ops/nn_activation.py and
ops/nn_loss.py and imported here; the rest is written with public tensor ops, so each
function shows the node torch shows for it.

>>> import lightgrad as torch
>>> import lightgrad.nn.functional as F
>>> F.relu(torch.tensor([-1., 2.]))
tensor([0., 2.])
"""
import math
import warnings

import lightgrad as _lg
from ..._tensor import Tensor
from ..._graph.grad_mode import no_grad
from ...ops.nn_activation import (_SELU_ALPHA, _SELU_SCALE, celu, celu_, elu, elu_, gelu,
                                  glu, hardshrink, hardsigmoid, hardswish, hardtanh, hardtanh_,
                                  leaky_relu, leaky_relu_, logsigmoid, mish, relu6, selu, selu_,
                                  silu, softplus, softshrink, threshold, threshold_)
from ...ops.nn_loss import (binary_cross_entropy, binary_cross_entropy_with_logits,
                            broadcast_pair as _broadcast_pair, embedding, huber_loss,
                            legacy_reduction as _legacy_reduction, mse_loss, nll_loss,
                            reduce_composite as _reduce_composite,
                            reduction_enum as _reduction_enum, smooth_l1_loss)

__all__ = [
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_",
    "celu", "celu_", "gelu", "silu", "mish", "sigmoid", "tanh", "softplus", "softsign",
    "hardtanh", "hardtanh_", "hardswish", "hardsigmoid", "logsigmoid", "softmax",
    "log_softmax", "softmin", "glu", "threshold", "threshold_", "hardshrink", "softshrink",
    "tanhshrink",
    "linear", "bilinear", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
    "embedding", "one_hot", "normalize", "cosine_similarity", "pairwise_distance",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
]


# -- activations ------------------------------------------------------------------------------
def relu(input, inplace=False):
    """max(input, 0)."""
    return input.relu_() if inplace else _lg.relu(input)


def relu_(input):
    return input.relu_()


def sigmoid(input):
    return _lg.sigmoid(input)


def tanh(input):
    return _lg.tanh(input)


def softsign(input):
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - input.tanh()


def _softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  "include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmax", input.dim(), _stacklevel)
    return _lg.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim(), _stacklevel)
    return _lg.log_softmax(input, dim, dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmin", input.dim(), _stacklevel)
    return _lg.softmax(-input, dim, dtype=dtype)


# -- linear ---------------------------------------------------------------------------------
def linear(input, weight, bias=None):
    """input @ weight.T + bias. 2-D inputs give one addmm, others go through a 2-D view (as
    torch does, so the node names match)."""
    wt = weight.t()
    if input.dim() == 2:
        return input.mm(wt) if bias is None else _lg.addmm(bias, input, wt)
    if bias is None:
        return input.matmul(wt)
    lead = tuple(input.shape[:-1])
    n = 1
    for s in lead:
        n *= s
    flat = input.reshape(n, input.shape[-1])    # n, not -1: an empty input has no -1
    return _lg.addmm(bias, flat, wt).view(lead + (weight.shape[0],))


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j] + b[o]."""
    out, in1, in2 = weight.shape
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    # one matmul over (in1) -> (out * in2), then a reduction over in2
    w = weight.permute(1, 0, 2).reshape(in1, out * in2)
    y = ((x1 @ w).view(-1, out, in2) * x2.unsqueeze(1)).sum(-1).view(lead + (out,))
    return y if bias is None else y + bias


# -- dropout --------------------------------------------------------------------------------
def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(shape, p, like):
    """A mask of 1/(1-p) (kept) and 0 (dropped) in like's dtype; all zeros when p == 1."""
    if p == 1.0:
        return _lg.zeros(shape, dtype=like.dtype)
    keep = _lg.rand(shape, dtype=like.dtype if like.is_floating_point() else None) >= p
    return keep.to(like.dtype) * (1.0 / (1.0 - p))


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only)."""
    _check_p(p)
    if not training or (p == 0.0 and input.requires_grad):
        return input
    mask = _keep_mask(tuple(input.shape), p, input)
    if inplace:
        return input.mul_(mask)
    return input * mask


def _channel_dropout(input, p, training, inplace, name, batched_dim):
    _check_p(p)
    if not training or p == 0.0:
        return input
    nd = input.dim()
    if nd not in (batched_dim, batched_dim - 1):
        warnings.warn(f"{name}: Received a {nd}-D input to {name}, which is deprecated and will "
                      f"result in an error in a future release.", stacklevel=3)
    shape = tuple(input.shape[:-(batched_dim - 2)]) + (1,) * (batched_dim - 2) \
        if nd == batched_dim else tuple(input.shape[:1]) + (1,) * (nd - 1)
    mask = _keep_mask(shape, p, input)
    return input.mul_(mask) if inplace else input * mask


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) inputs."""
    if input.dim() not in (2, 3):
        raise RuntimeError("dropout1d: Expected 2D or 3D input, but received a "
                           f"{input.dim()}D input. Note that dropout1d exists to provide "
                           "channel-wise dropout on inputs with 1 spatial dimension, a channel "
                           "dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _channel_dropout(input, p, training, inplace, "dropout1d", 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) inputs."""
    return _channel_dropout(input, p, training, inplace, "dropout2d", 4)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) inputs."""
    return _channel_dropout(input, p, training, inplace, "dropout3d", 5)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's self-normalizing mean and variance."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    alpha_p = -_SELU_ALPHA * _SELU_SCALE
    a = 1.0 / math.sqrt((alpha_p * alpha_p * p + 1) * (1 - p))
    keep = (_lg.rand(tuple(input.shape), dtype=input.dtype) >= p).to(input.dtype)
    b = (keep - 1) * (alpha_p * a) + alpha_p * a * p
    out = input * (keep * a) + b
    if inplace:
        with no_grad():
            input.copy_(out)
        return input
    return out


# -- embedding ------------------------------------------------------------------------------
def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding along a new last dimension."""
    if not isinstance(tensor, Tensor) or tensor.dtype is not _lg.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    x = tensor.numpy()
    if x.size and x.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        if x.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(x.max()) + 1
    elif x.size and x.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return (tensor.unsqueeze(-1) == _lg.arange(num_classes)).long()


# -- distances ------------------------------------------------------------------------------
def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p along dim, eps)."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is None:
        return input / denom
    return _lg.div(input, denom, out=out)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between x1 and x2 along dim (each norm clamped to eps)."""
    n1 = (x1 * x1).sum(dim, keepdim=True).sqrt().clamp_min(eps)
    n2 = (x2 * x2).sum(dim, keepdim=True).sqrt().clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p along the last dimension."""
    nd = max(x1.dim(), x2.dim())
    d = x1 - x2 + eps
    return _lg.linalg.vector_norm(d, p, dim=nd - 1 if nd else None, keepdim=keepdim)


# -- losses ---------------------------------------------------------------------------------
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    input, target = _broadcast_pair(input, target)
    d = (input - target).abs()
    if weight is not None:
        d = d * weight
    return _reduce_composite(d, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """log_softmax over the class dimension, then NLL (class indices) or the cross entropy
    with class probabilities (a float target of input's shape)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    red = _reduction_enum(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    cdim = 1 if input.dim() >= 2 else 0
    n_cls = input.shape[cdim]
    lsm = _lg.log_softmax(input, cdim)
    wshape = [1] * input.dim()
    if weight is not None:
        wshape[cdim] = n_cls
    if target.is_floating_point() and tuple(target.shape) == tuple(input.shape):
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / n_cls
        prod = lsm * target
        if weight is not None:
            prod = prod * weight.view(wshape)
        if red == 1:
            return -prod.sum() / (input.numel() / n_cls)
        if red == 2:
            return -prod.sum()
        return -prod.sum(cdim)
    nll = nll_loss(lsm, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing <= 0:
        return nll
    ignore = target == ignore_index
    if weight is not None:
        smooth = -(lsm * weight.view(wshape)).sum(cdim)
    else:
        smooth = -lsm.sum(cdim)
    smooth = smooth.masked_fill(ignore, 0.0)
    if red == 1:
        if weight is not None:
            kept = target[~ignore]
            ret = smooth.sum() / weight.gather(0, kept.reshape(-1)).sum()
        else:
            ret = smooth.sum() / (~ignore).sum()
    elif red == 2:
        ret = smooth.sum()
    else:
        ret = smooth
    return nll * (1 - label_smoothing) + ret * (label_smoothing / n_cls)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)), pointwise then reduced; 'batchmean' divides by the batch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    if reduction not in ("mean", "sum", "none", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        pointwise = target.exp() * (target - input)
    else:
        pointwise = _lg.xlogy(target, target) - target * input
    if reduction == "batchmean":
        s = pointwise.sum()
        return s / input.shape[0] if input.dim() != 0 else s
    return _reduce_composite(pointwise, reduction)

