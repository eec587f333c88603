"""nn.functional's losses that torch computes in one kernel (F.mse_loss, F.smooth_l1_loss,
F.huber_loss, F.binary_cross_entropy(_with_logits), F.nll_loss) and F.embedding, each one
NumPy computation plus one node with torch's name (MseLossBackward0, NllLossBackward0, ...),
declared once with its rule; the reduction helpers here also serve the composite losses of
nn/_functional (l1_loss, cross_entropy, kl_div, the margin losses)."""
import warnings

import numpy as np

from .._tensor import _make
from .._graph.grad_mode import no_grad, state as _state
from ._batching import lightgrad, per_example_loss, vmap_error
from ._core import Sample as S, defop, emit, node_class, ns_def, publish, record
from .nn_activation import _LEGACY, _F, _np_softplus, _quiet

__all__ = []        # the ops are nn.functional's (F.<name>), imported there by name


# -- losses: shared reduction handling --------------------------------------------------------
_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


def reduction_enum(reduction):
    r = _REDUCTIONS.get(reduction)
    if r is None:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return r


def legacy_reduction(size_average, reduce, reduction, stacklevel=3):
    """The reduction of the deprecated size_average / reduce arguments (with torch's
    warning), else `reduction`. stacklevel: the warning's, pointing at the caller's caller
    (4 for a declared op: its public function is one frame more)."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else ("sum" if reduce else "none")
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}'"
                  " instead.", stacklevel=stacklevel)
    return ret


def broadcast_pair(input, target, stacklevel=3):
    """input and target expanded to their broadcast shape, with torch's warning when the
    shapes differ."""
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.",
                      stacklevel=stacklevel)
        shape = np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
        input, target = input.expand(shape), target.expand(shape)
    return input, target


def reduce_composite(x, reduction):
    """A loss computed per element with public ops, reduced with public ops."""
    reduction_enum(reduction)
    if reduction == "mean":
        return x.mean()
    if reduction == "sum":
        return x.sum()
    return x


def _reduce(elems, red):
    if red == 1:
        return np.asarray(elems.mean())
    if red == 2:
        return np.asarray(elems.sum())
    return elems


def _scale(red, n):
    """What the upstream gradient of a reduced loss is multiplied by, per element."""
    return 1.0 / n if red == 1 and n else 1.0


def _pair(input, target):
    """Arrays of input and target in input's float dtype (torch promotes; shapes must
    broadcast)."""
    x = input._data
    y = target._data
    if y.dtype != x.dtype:
        y = y.astype(np.result_type(x.dtype, y.dtype))
        if x.dtype != y.dtype:
            x = x.astype(y.dtype)
    return x, y


_ONLY = "supports only (input, target, reduction=...)"     # vmap refuses other arguments


# -- mse, smooth_l1, huber ------------------------------------------------------------------
def _mse_rule(ns, g, m, x, t):
    red, n = m
    gx = (x - t) * (g * (2.0 * _scale(red, n)))
    return gx, -gx


MseLossBackward0 = node_class("MseLossBackward0", _mse_rule, saved=("self", "target"),
                              meta=("reduction", "numel"))


@defop(name="F.mse_loss", nodes=(MseLossBackward0,), batch=per_example_loss(4), samples=[
    S((2, 3), (2, 3)), S((2, 3), (2, 3), kwargs={"reduction": "sum"}, id="sum"),
    S((2, 3), (2, 3), kwargs={"reduction": "none"}, id="none"), S((), (), id="0d")])
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error."""
    reduction = legacy_reduction(size_average, reduce, reduction, stacklevel=4)
    input, target = broadcast_pair(input, target, stacklevel=4)
    if weight is not None:
        return reduce_composite((input - target) ** 2 * weight, reduction)
    red = reduction_enum(reduction)
    x, y = _pair(input, target)
    d = x - y
    data = _reduce(d * d, red)
    return emit(data, MseLossBackward0, (input, target), (input, target), (red, d.size))


def _smooth_l1_rule(ns, g, m, x, t):
    red, n, beta = m
    d = x - t
    if beta == 0:
        gx = ns.sign(d) * (g * _scale(red, n))
    else:
        gx = ns.where(ns.abs(d) < beta, d / beta, ns.sign(d)) * (g * _scale(red, n))
    return gx, -gx


SmoothL1LossBackward0 = node_class("SmoothL1LossBackward0", _smooth_l1_rule,
                                   saved=("self", "target"), meta=("reduction", "numel", "beta"))


@defop(name="F.smooth_l1_loss", nodes=(SmoothL1LossBackward0,), batch=per_example_loss(4),
       samples=[S((2, 3), (2, 3), kwargs={"beta": 0.5}),
                S((2, 3), (2, 3), kwargs={"reduction": "none"}, id="none"),
                S((2, 3), (2, 3), kwargs={"beta": 0.0}, id="beta0")])
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Quadratic below beta, linear above (divided by beta)."""
    reduction = legacy_reduction(size_average, reduce, reduction, stacklevel=4)
    input, target = broadcast_pair(input, target, stacklevel=4)
    if beta == 0.0:     # torch computes the beta=0 case as l1_loss
        return reduce_composite((input - target).abs(), reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    red = reduction_enum(reduction)
    x, y = _pair(input, target)
    d = x - y
    a = np.abs(d)
    elems = np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta).astype(d.dtype, copy=False)
    data = _reduce(elems, red)
    return emit(data, SmoothL1LossBackward0, (input, target), (input, target),
                (red, d.size, beta))


def _huber_rule(ns, g, m, x, t):
    red, n, delta = m
    d = x - t
    gx = ns.where(ns.abs(d) < delta, d, ns.sign(d) * delta) * (g * _scale(red, n))
    return gx, -gx


HuberLossBackward0 = node_class("HuberLossBackward0", _huber_rule, saved=("self", "target"),
                                meta=("reduction", "numel", "delta"))


@defop(name="F.huber_loss", nodes=(HuberLossBackward0,), batch=per_example_loss(2), samples=[
    S((2, 3), (2, 3), kwargs={"delta": 0.7}),
    S((2, 3), (2, 3), kwargs={"reduction": "sum"}, id="sum")])
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Quadratic below delta, linear (slope delta) above."""
    input, target = broadcast_pair(input, target, stacklevel=4)
    if weight is not None:
        raise NotImplementedError("huber_loss with weight is not supported")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    red = reduction_enum(reduction)
    x, y = _pair(input, target)
    d = x - y
    a = np.abs(d)
    elems = np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta)).astype(d.dtype,
                                                                            copy=False)
    data = _reduce(elems, red)
    return emit(data, HuberLossBackward0, (input, target), (input, target),
                (red, d.size, delta))


# -- binary cross entropy --------------------------------------------------------------------
ns_def("clamp_min", lambda x, lo: np.maximum(x, lo), lambda x, lo: x.clamp(min=lo))


def _bce_rule(ns, g, m, x, t, w):
    red, n = m
    s = g * _scale(red, n)
    if w is not None:
        s = s * w
    gx = (x - t) / ns.clamp_min((1 - x) * x, 1e-12) * s
    gt = (ns.clamp_min(ns.log(1 - x), -100.0) - ns.clamp_min(ns.log(x), -100.0)) * s
    return gx, gt, None


BinaryCrossEntropyBackward0 = node_class("BinaryCrossEntropyBackward0", _bce_rule,
                                         saved=("self", "target", "weight"),
                                         meta=("reduction", "numel"))


def _probs(shape, rng):
    return rng.uniform(0.05, 0.95, shape)


@defop(name="F.binary_cross_entropy", nodes=(BinaryCrossEntropyBackward0,),
       batch=per_example_loss(5), samples=[
           S((2, 3), (2, 3), domain=_probs),
           S((2, 3), (2, 3), (3,), domain=_probs, nondiff=(2,), kwargs={"reduction": "none"},
             id="weight", vmap_refused=_ONLY)])
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-w (t log x + (1 - t) log(1 - x)), with each log clamped at -100 as torch does."""
    reduction = legacy_reduction(size_average, reduce, reduction, stacklevel=4)
    red = reduction_enum(reduction)
    x, y = _pair(input, target)
    if x.shape != y.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the "
                         "same size.")
    if ((x < 0) | (x > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    with _quiet():
        lx = np.maximum(np.log(x), -100.0)
        l1x = np.maximum(np.log1p(-x), -100.0)
    elems = -(y * lx + (1 - y) * l1x)
    wd = None
    if weight is not None:
        wd = weight._data
        elems = elems * wd
    data = _reduce(elems.astype(x.dtype, copy=False), red)
    return emit(data, BinaryCrossEntropyBackward0, (input, target, weight),
                (input, target, weight), (red, x.size), bcast=weight is not None)


def _bce_logits_rule(ns, g, m, x, t, w, pw):
    red, n = m
    s = g * _scale(red, n)
    if w is not None:
        s = s * w
    sig = ns.sigmoid(x)
    if pw is None:
        return (sig - t) * s, -x * s, None, None
    # d/dx of -[pw t log(sig) + (1-t) log(1-sig)] = sig (1 + (pw-1) t) - pw t
    gx = (sig * ((pw - 1) * t + 1) - pw * t) * s
    gt = ((pw - 1) * ns.softplus(-x) - x) * s
    return gx, gt, None, None


BinaryCrossEntropyWithLogitsBackward0 = node_class(
    "BinaryCrossEntropyWithLogitsBackward0", _bce_logits_rule,
    saved=("self", "target", "weight", "pos_weight"), meta=("reduction", "numel"))


@defop(name="F.binary_cross_entropy_with_logits",
       nodes=(BinaryCrossEntropyWithLogitsBackward0,), batch=per_example_loss(5), samples=[
           S((2, 3), (2, 3)),
           S((2, 3), (2, 3), (2, 1), (3,), domain=(0.2, 2.0), nondiff=(2, 3),
             call=lambda m, x, y, w, pw: _F(m).binary_cross_entropy_with_logits(
                 x, y, weight=w, pos_weight=pw, reduction="sum"),
             id="weights", vmap_refused=_ONLY)])
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target) computed stably; pos_weight weighs the
    positive term."""
    reduction = legacy_reduction(size_average, reduce, reduction, stacklevel=4)
    red = reduction_enum(reduction)
    x, y = _pair(input, target)
    if x.shape != y.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    sp = _np_softplus(-x)       # -log(sigmoid(x)), computed stably
    if pos_weight is None:
        elems = (1 - y) * x + sp
    else:
        elems = (1 - y) * x + ((pos_weight._data - 1) * y + 1) * sp
    if weight is not None:
        elems = elems * weight._data
    data = _reduce(np.asarray(elems).astype(x.dtype, copy=False), red)
    ins = (input, target, weight, pos_weight)
    # NOTE: weight and pos_weight get no gradient (torch does not differentiate them)
    bc = weight is not None or pos_weight is not None
    return emit(data, BinaryCrossEntropyWithLogitsBackward0, ins, ins, (red, x.size), bcast=bc)


# -- nll_loss --------------------------------------------------------------------------------
def _np_nll_grad(g, m):
    shape, tsafe, coef, red, in_shape = m
    if red == 0:
        g = np.reshape(g, coef.shape) * coef
    else:
        g = coef * g
    z = np.zeros(shape, dtype=np.result_type(g))
    np.put_along_axis(z, tsafe[:, None], np.expand_dims(g, 1), axis=1)
    return z.reshape(in_shape)


def _t_nll_grad(g, m):
    shape, tsafe, coef, red, in_shape = m
    mat = np.zeros(shape, dtype=g._data.dtype)
    np.put_along_axis(mat, tsafe[:, None], np.expand_dims(coef, 1).astype(mat.dtype), axis=1)
    if red == 0:
        g = g.reshape(coef.shape).unsqueeze(1)
    return (g * _make(mat)).reshape(in_shape)


ns_def("nll_grad", _np_nll_grad, _t_nll_grad)


def _nll_rule(ns, g, m, *saved):
    return ns.nll_grad(g, m), None, None


NllLossBackward0 = node_class("NllLossBackward0", _nll_rule,
                              meta=("reduction", "ignore_index"))
NllLoss2DBackward0 = node_class("NllLoss2DBackward0", _nll_rule,
                                meta=("reduction", "ignore_index"))


def _nll_forward(input, target, weight, ignore_index, red, cls):
    """NLL of (N, C, ...) log-probabilities at class indices `target` (N, ...): the kernel
    of nll_loss."""
    x, t = input._data, target._data
    in_shape = x.shape
    if x.ndim == 1:             # one sample: (C,) with a 0-d target
        x, t = x[None], t.reshape(1)
    n_cls = x.shape[1]
    mask = t != ignore_index
    tsafe = np.where(mask, t, 0)
    if tsafe.size and (tsafe.min() < 0 or tsafe.max() >= n_cls):
        bad = tsafe[(tsafe < 0) | (tsafe >= n_cls)].flat[0]
        raise IndexError(f"Target {bad} is out of bounds.")
    if weight is not None:
        coef = weight._data.astype(x.dtype, copy=False)[tsafe]
        coef = np.where(mask, coef, 0)
    else:
        coef = mask.astype(x.dtype)
    picked = np.take_along_axis(x, tsafe[:, None], axis=1)[:, 0]
    elems = -(picked * coef)
    if red == 0:
        data = elems.reshape(t.shape if len(in_shape) > 1 else ())
    elif red == 2:
        data = np.asarray(elems.sum())
    else:
        total = coef.sum()
        with _quiet():
            data = np.asarray(elems.sum() / total)
        coef = coef / total if total else coef * np.nan
    data = data.astype(x.dtype, copy=False)
    if _state.grad_enabled and input._rg:
        return record(data, cls, (input, target, weight), (),
                      (x.shape, tsafe, -coef, red, in_shape))
    return _make(data)


def _check_nll(input, target, weight):
    td = target._data.dtype
    if td.kind not in "iu" or td.name not in ("int64", "uint8"):
        raise RuntimeError("expected target dtype to be Long or Byte, but got "
                           f"{_LEGACY.get(td.name, td.name)}")
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if input.dim() >= 2 and input.shape[0] != (target.shape[0] if target.dim() else 1) or \
            input.dim() == 1 and target.dim() != 0:
        tb = target.shape[0] if target.dim() else 1
        ib = input.shape[0] if input.dim() >= 2 else 1
        raise ValueError(f"Expected input batch_size ({ib}) to match target batch_size ({tb}).")
    if weight is not None:
        n_cls = input.shape[1] if input.dim() >= 2 else input.shape[0]
        if weight.dim() != 1 or weight.numel() != n_cls:
            raise RuntimeError(f"weight tensor should be defined either for all {n_cls} classes "
                               f"or no classes but got weight tensor of shape: "
                               f"{list(weight.shape)}")


def _cls_inputs(shape, n_cls, target_shape):
    def make(rng):
        return [rng.standard_normal(shape), rng.integers(0, n_cls, target_shape)]
    return make


_SPATIAL = "with extra (spatial) dims has no batching rule yet"


@defop(name="F.nll_loss", nodes=(NllLossBackward0, NllLoss2DBackward0),
       batch=per_example_loss(6, per_sample=True), samples=[
           S(make_inputs=_cls_inputs((4, 3), 3, (4,))),
           S(make_inputs=lambda rng: [rng.standard_normal((4, 3)), rng.integers(0, 3, (4,)),
                                      rng.uniform(0.5, 2.0, (3,))],
             nondiff=(2,), kwargs={"reduction": "none"}, id="weight-none", vmap_refused=_ONLY),
           S(make_inputs=lambda rng: [rng.standard_normal((4, 3)), np.array([0, 2, -100, 1])],
             kwargs={"reduction": "sum"}, id="ignore-sum"),
           S(make_inputs=_cls_inputs((2, 3, 2, 2), 3, (2, 2, 2)), id="2d",
             vmap_refused=_SPATIAL),
           S(make_inputs=_cls_inputs((2, 3, 4), 3, (2, 4)), kwargs={"reduction": "none"},
             id="1d-spatial", vmap_refused=_SPATIAL),
           # cross_entropy (nn/_functional) is log_softmax then this op
           S(make_inputs=_cls_inputs((4, 5), 5, (4,)), id="cross_entropy",
             call=lambda m, x, t: _F(m).cross_entropy(x, t))])
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """The negative log likelihood of log-probabilities `input` at class indices `target`."""
    reduction = legacy_reduction(size_average, reduce, reduction, stacklevel=4)
    red = reduction_enum(reduction)
    _check_nll(input, target, weight)
    nd = input.dim()
    if nd <= 2:
        return _nll_forward(input, target, weight, ignore_index, red, NllLossBackward0)
    expect = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expect:
        raise RuntimeError(f"Expected target size {list(expect)}, got {list(target.shape)}")
    if nd == 4:
        return _nll_forward(input, target, weight, ignore_index, red, NllLoss2DBackward0)
    # other ranks go through the 2-d kernel on views, as torch does
    n, c = input.shape[0], input.shape[1]
    out = _nll_forward(input.view(n, c, 1, -1), target.view(n, 1, -1), weight,
                       ignore_index, red, NllLoss2DBackward0)
    return out.view(expect) if red == 0 else out


# -- embedding --------------------------------------------------------------------------------
def _np_embedding_grad(g, m):
    shape, idx, padding_idx, counts = m
    d = shape[-1]
    flat = idx.reshape(-1)
    gf = np.reshape(g, (-1, d))
    if counts is not None:
        gf = gf / counts[flat][:, None]
    z = np.zeros(shape, dtype=gf.dtype)
    np.add.at(z, flat, gf)
    if padding_idx is not None:
        z[padding_idx] = 0
    return z


def _t_embedding_grad(g, m):
    shape, idx, padding_idx, counts = m
    from .._creation import zeros
    flat = idx.reshape(-1)
    gf = g.reshape(-1, shape[-1])
    if counts is not None:
        gf = gf / _make(counts[flat][:, None].astype(gf._data.dtype))
    if padding_idx is not None:
        keep = (flat != padding_idx).astype(gf._data.dtype)[:, None]
        gf = gf * _make(keep)
    return zeros(shape, dtype=g.dtype).index_add(0, _make(flat), gf)


ns_def("embedding_grad", _np_embedding_grad, _t_embedding_grad)
EmbeddingBackward0 = node_class("EmbeddingBackward0",
                                lambda ns, g, m: (ns.embedding_grad(g, m), None),
                                meta=("weight_argsize_0", "indices", "padding_idx",
                                      "scale_grad_by_freq"))


def _embedding_kernel(input, weight, padding_idx=None, scale_grad_by_freq=False):
    """Rows of `weight` at integer `input` (any shape)."""
    idx = input._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           "following scalar types: Long, Int; but got "
                           f"torch.{_LEGACY.get(idx.dtype.name, idx.dtype.name)}Tensor instead "
                           "(while checking arguments for embedding)")
    w = weight._data
    n = w.shape[0]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError("index out of range in self")
    data = w[idx]
    if _state.grad_enabled and weight._rg:
        counts = None
        if scale_grad_by_freq:
            counts = np.bincount((idx % n).reshape(-1), minlength=n).astype(w.dtype)
        return record(data, EmbeddingBackward0, (weight, input), (),
                      (w.shape, idx % n, padding_idx, counts))
    return _make(data)


def _embedding_renorm_(weight, input, max_norm, norm_type):
    """Scale the rows `input` refers to down to norm `max_norm`, in place (no gradient)."""
    lg = lightgrad()
    with no_grad():
        idx = lg.tensor(np.unique(input.numpy().reshape(-1)))
        rows = weight[idx]
        norms = rows.norm(p=norm_type, dim=1, keepdim=True)
        scale = lg.where(norms > max_norm, max_norm / (norms + 1e-7), lg.ones_like(norms))
        weight[idx] = rows * scale


def _embedding_batch(c, args, kwargs):
    """vmap: batched indices are looked up as they are; batched weights (one table per
    example) are indexed as weight[indices], which vmap batches."""
    idx, w = args[0], args[1]
    if c.batched(w):
        if len(args) > 2 or any(v is not None for v in kwargs.values()):
            raise vmap_error("F.embedding with batched weights supports (input, weight) only")
        return w[idx]
    return c.wrap(c(idx._p, *args[1:], **kwargs))


def _table(*indices):
    return lambda rng: [rng.standard_normal((5, 3)), np.array(indices)]


def _lookup(**kwargs):
    return lambda m, w, i: _F(m).embedding(i, w, **kwargs)


_PER_TABLE = "with batched weights supports (input, weight) only"


@defop(name="F.embedding", nodes=(EmbeddingBackward0,), batch=_embedding_batch, samples=[
    S(make_inputs=_table([0, 2], [4, 2]), call=_lookup()),
    # the gradients of these two are in test_nn_layers
    S(make_inputs=_table(0, 2, 4, 2), call=_lookup(padding_idx=2), grad=False,
      id="padding", vmap_refused=_PER_TABLE),
    S(make_inputs=_table(0, 2, 4, 2), call=_lookup(scale_grad_by_freq=True), grad=False,
      id="freq", vmap_refused=_PER_TABLE)])
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
    return _embedding_kernel(input, weight, padding_idx, scale_grad_by_freq)


publish(globals())   # each op here bound to its public function, which dispatches under vmap
