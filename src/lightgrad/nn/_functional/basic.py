"""nn.functional: activations, linear layers, dropout, embedding, distances and losses.

Heavy ops are primitives in ops/nn_loss.py; the rest is written with public tensor ops,
so each function shows the node torch shows for it.

>>> import lightgrad as torch
>>> import lightgrad.nn.functional as F
>>> F.relu(torch.tensor([-1., 2.]))
tensor([0., 2.])
"""
import math
import warnings

import numpy as np

import lightgrad as _lg
from ..._tensor import Tensor
from ..._graph.grad_mode import no_grad
from ...ops import nn_loss as _P
from ...ops._core import inplace as _inplace

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


def _apply(fn, input, inplace, *args):
    """fn(input, *args), or written into input when inplace (torch's `inplace=True`)."""
    if inplace:
        return _inplace(input, fn, *args)
    return fn(input, *args)


def _apply_saving_result(fn, input, inplace, *args):
    """Like _apply; the in-place form records the node that saves the result (torch's
    LeakyReluBackward1, EluBackward1, ...)."""
    if inplace:
        return _inplace(input, fn, *args, _inplace=True)
    return fn(input, *args)


# -- activations ------------------------------------------------------------------------------
def relu(input, inplace=False):
    """max(input, 0)."""
    return input.relu_() if inplace else _lg.relu(input)


def relu_(input):
    return input.relu_()


def relu6(input, inplace=False):
    """min(max(input, 0), 6); torch computes it as hardtanh(input, 0, 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _apply_saving_result(_P.leaky_relu, input, inplace, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, True)


def elu(input, alpha=1.0, inplace=False):
    return _apply_saving_result(_P.elu, input, inplace, alpha)


def elu_(input, alpha=1.0):
    return elu(input, alpha, True)


def selu(input, inplace=False):
    return _apply_saving_result(_P.selu, input, inplace)


def selu_(input):
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    return _apply_saving_result(_P.celu, input, inplace, alpha)


def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


def gelu(input, approximate="none"):
    """x * Phi(x); approximate='tanh' uses the tanh formula."""
    return _P.gelu(input, approximate)


def silu(input, inplace=False):
    """x * sigmoid(x)."""
    return _apply(_P.silu, input, inplace)


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    return _apply(_P.mish, input, inplace)


def sigmoid(input):
    return _lg.sigmoid(input)


def tanh(input):
    return _lg.tanh(input)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, linear above `threshold`."""
    return _P.softplus(input, beta, threshold)


def softsign(input):
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    return _apply(_P.hardtanh, input, inplace, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, True)


def hardswish(input, inplace=False):
    return _apply(_P.hardswish, input, inplace)


def hardsigmoid(input, inplace=False):
    return _apply(_P.hardsigmoid, input, inplace)


def logsigmoid(input):
    """log(sigmoid(x)), computed stably."""
    return _P.logsigmoid(input)


def threshold(input, threshold, value, inplace=False):
    """input where input > threshold, else value."""
    return _apply_saving_result(_P.threshold, input, inplace, threshold, value)


def threshold_(input, threshold, value):
    return _apply_saving_result(_P.threshold, input, True, threshold, value)


def hardshrink(input, lambd=0.5):
    return _P.hardshrink(input, lambd)


def softshrink(input, lambd=0.5):
    return _P.softshrink(input, lambd)


def tanhshrink(input):
    return input - input.tanh()


def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the halves of input along dim."""
    return _P.glu(input, dim)


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
    flat = input.reshape(-1, input.shape[-1])
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
    alpha_p = -_P._SELU_ALPHA * _P._SELU_SCALE
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
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of `weight` at the integer indices `input`."""
    n = weight.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < n, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -n, "Padding_idx must be within num_embeddings"
            padding_idx = n + padding_idx
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    return _P.embedding(input, weight, padding_idx, scale_grad_by_freq)


def _embedding_renorm_(weight, input, max_norm, norm_type):
    """Scale the rows `input` refers to down to norm `max_norm`, in place (no gradient)."""
    with no_grad():
        idx = _lg.tensor(np.unique(input.numpy().reshape(-1)))
        rows = weight[idx]
        norms = rows.norm(p=norm_type, dim=1, keepdim=True)
        scale = _lg.where(norms > max_norm, max_norm / (norms + 1e-7), _lg.ones_like(norms))
        weight[idx] = rows * scale


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
def _legacy_reduction(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else ("sum" if reduce else "none")
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}'"
                  " instead.", stacklevel=3)
    return ret


def _broadcast_pair(input, target):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)
        shape = np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
        input, target = input.expand(shape), target.expand(shape)
    return input, target


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    input, target = _broadcast_pair(input, target)
    if weight is not None:
        d = (input - target) ** 2 * weight
        return _reduce_composite(d, reduction)
    return _P.mse_loss(input, target, reduction)


def _reduce_composite(x, reduction):
    _P.reduction_enum(reduction)
    if reduction == "mean":
        return x.mean()
    if reduction == "sum":
        return x.sum()
    return x


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    input, target = _broadcast_pair(input, target)
    d = (input - target).abs()
    if weight is not None:
        d = d * weight
    return _reduce_composite(d, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Quadratic below beta, linear above (divided by beta)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if beta == 0.0:     # torch computes the beta=0 case as l1_loss
        return l1_loss(input, target, reduction=reduction)
    input, target = _broadcast_pair(input, target)
    return _P.smooth_l1_loss(input, target, reduction, beta)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Quadratic below delta, linear (slope delta) above."""
    input, target = _broadcast_pair(input, target)
    if weight is not None:
        raise NotImplementedError("huber_loss with weight is not supported")
    return _P.huber_loss(input, target, reduction, delta)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log likelihood of log-probabilities `input` at class indices `target`."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _P.nll_loss(input, target, weight, ignore_index, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """log_softmax over the class dimension, then NLL (class indices) or the cross entropy
    with class probabilities (a float target of input's shape)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    red = _P.reduction_enum(reduction)
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
    nll = _P.nll_loss(lsm, target, weight, ignore_index, reduction)
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


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-w (t log x + (1 - t) log(1 - x)), with each log clamped at -100 as torch does."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _P.binary_cross_entropy(input, target, weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target) computed stably; pos_weight weighs the
    positive term."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _P.binary_cross_entropy_with_logits(input, target, weight, reduction, pos_weight)


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

