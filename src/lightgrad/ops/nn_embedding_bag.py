"""F.embedding_bag: sums, means or maxima of bags of embedding rows, one NumPy computation
plus one node with torch's name (EmbeddingBagBackward0), declared once with its rule and
its vmap rule."""
import inspect
import warnings

import numpy as np

from .._tensor import _make
from ._batched_tensor import BatchedTensor
from ._batching import expand_to, vmap_error
from ._core import Sample as S, defop, emit, node_class, publish
from .nn_activation import _LEGACY, _F
from .nn_loss import _embedding_renorm_

__all__ = []        # the op is nn.functional's (F.embedding_bag), imported there by name

_MODES = {"sum": 0, "mean": 1, "max": 2}
_MAX = 2


# -- backward ---------------------------------------------------------------------------------
def _embedding_bag_rule(ns, g, m, weight, psw):
    """g: (bags, D). The plan `m` says, for each kept (non-padding) input entry, its weight
    row, its bag and its position in the input, with the constant factor of its gradient
    (1 / bag size for mean, 1 / frequency with scale_grad_by_freq); for max, which weight
    element each output element came from."""
    if m[0] == _MAX:
        _, wpos, gpos, wshape = m
        # each output element's gradient goes to the weight element that held the maximum
        return ns.embed_flat(ns.take_flat(g, gpos), wshape, wpos), None
    _, rows, bags, pos, scale, wshape, length = m
    gb = ns.index_select(g, 0, bags)                # (k, D): each entry's bag gradient
    coef = scale if psw is None else ns.reshape(ns.index_select(psw, 0, pos), (-1, 1)) * scale
    gw = ns.index_add(ns.zeros_shaped(wshape, g), 0, rows, gb * coef)
    if psw is None:
        return gw, None
    # d out[bag] / d psw[i] = weight[row i]: one dot product per entry
    gp = ns.sum(gb * ns.index_select(weight, 0, rows), axis=1)
    return gw, ns.index_add(ns.zeros_shaped((length,), g), 0, pos, gp)


EmbeddingBagBackward0 = node_class("EmbeddingBagBackward0", _embedding_bag_rule,
                                   saved=("weight", "per_sample_weights"))


# -- forward ----------------------------------------------------------------------------------
def _check_indices(t, name):
    if t._data.dtype.kind not in "iu":
        legacy = _LEGACY.get(t._data.dtype.name, t._data.dtype.name)
        raise RuntimeError(f"Expected tensor for argument #1 '{name}' to have one of the "
                           f"following scalar types: Long, Int; but got torch.{legacy}Tensor "
                           "instead (while checking arguments for embedding_bag)")


def _check_shapes(input, weight, offsets, psw):
    """torch's errors for the shapes of the arguments (the logical ones, under vmap)."""
    if psw is not None and tuple(input.shape) != tuple(psw.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({psw.shape}) is not None, "
                         f"then it must have the same shape as the input ({input.shape})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            kind = "<class 'torch.Tensor'>" if hasattr(offsets, "dim") else str(type(offsets))
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {kind}")
        if input.shape[1] == 0:
            raise RuntimeError("step must be nonzero")      # torch's arange of the offsets
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.dim()}")


def _bag_of_entries(length, offsets, include_last_offset):
    """(bag of each input entry, number of bags). As torch's CPU kernel does, the last bag
    runs to the end of the input, also with include_last_offset (whose last offset then
    only counts the bags)."""
    off = offsets._data.reshape(-1).astype(np.int64)
    if off.size == 0:
        if length:          # torch's kernel crashes here; say what is wrong instead
            raise RuntimeError("embedding_bag: offsets has to have at least one element")
        return np.zeros(0, np.int64), 0
    if off[0] != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                           f"has to start from position 0. However, got {off[0]}")
    if off[-1] > length:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {length} but "
                           f"got offsets[-1] of {off[-1]}")
    starts = off[:-1] if include_last_offset else off
    bag = np.searchsorted(starts, np.arange(length), side="right") - 1
    return bag, len(starts)


def _max_plan(vals, rows, bags, nbags, wshape):
    """The per-bag maxima of `vals` (entries grouped by bag, in order) and the flat positions
    of the weight elements they came from (the first maximum, as torch picks)."""
    n, d = wshape
    out = np.zeros((nbags, d), vals.dtype)
    if not len(bags):
        return out, (_MAX, np.zeros(0, np.int64), np.zeros(0, np.int64), wshape)
    is_start = np.r_[True, bags[1:] != bags[:-1]]
    starts = np.flatnonzero(is_start)
    seg = np.cumsum(is_start) - 1                   # each entry's segment (non-empty bag)
    mx = np.maximum.reduceat(vals, starts, axis=0)
    k = len(rows)
    at = np.where(vals == mx[seg], np.arange(k)[:, None], k)
    first = np.minimum.reduceat(at, starts, axis=0)    # (segments, D) entry of the maximum
    used = bags[starts]
    out[used] = mx
    cols = np.arange(d)
    wpos = (rows[first] * d + cols).reshape(-1)
    gpos = (used[:, None] * d + cols).reshape(-1)
    return out, (_MAX, wpos, gpos, wshape)


def _kernel(weight, idx, bag, nbags, mode, psw, scale_grad_by_freq, padding_idx):
    """The bags' sums / means / maxima of weight rows (idx, bag: one entry per index)."""
    w = weight._data
    n, d = w.shape
    keep = np.ones(len(idx), bool) if padding_idx is None else idx != padding_idx
    pos = np.flatnonzero(keep)
    rows, bags = idx[pos], bag[pos]
    vals = w[rows]
    if mode == _MAX:
        data, plan = _max_plan(vals, rows, bags, nbags, w.shape)
    else:
        if psw is not None:
            vals = vals * psw._data[pos][:, None]
        data = np.zeros((nbags, d), w.dtype)
        np.add.at(data, bags, vals)
        scale = np.ones(len(rows), w.dtype)
        if mode == 1:
            count = np.bincount(bags, minlength=nbags)
            data /= np.maximum(count, 1)[:, None].astype(w.dtype)
            scale = scale / count[bags]
        if scale_grad_by_freq:
            # the frequency of each row's index in the whole mini-batch (torch's CPU kernel
            # divides by the count of another index here: pytorch/pytorch#190063)
            scale = scale / np.bincount(idx, minlength=n)[rows]
        plan = (mode, rows, bags, pos, scale.astype(w.dtype)[:, None], w.shape, len(idx))
    saved_weight = weight if psw is not None else None   # only psw's gradient reads it
    return emit(data, EmbeddingBagBackward0, (weight, psw), (saved_weight, psw), plan)


# -- vmap -------------------------------------------------------------------------------------
def _bound(args, kwargs):
    """The call's arguments by name, defaults filled in (the rule rewrites some of them)."""
    b = _SIGNATURE.bind(*args, **kwargs)
    b.apply_defaults()
    return dict(b.arguments)


def _embedding_bag_batch(c, args, kwargs):
    """vmap: a batched weight alone folds the batch into its columns (bags and modes work per
    column); otherwise the examples' bags run as one call with 1-D input: each example's
    indices, offsets and per_sample_weights one after the other, and a batched weight
    stacked into one table, example b's rows from b * num_embeddings on."""
    a = _bound(args, kwargs)
    inp, w, off, psw = a["input"], a["weight"], a["offsets"], a["per_sample_weights"]
    if any(isinstance(x, BatchedTensor) and not c.batched(x) for x in (inp, off)):
        raise vmap_error("F.embedding_bag with indices batched by an outer vmap has no "
                         "batching rule")
    wb = c.batched(w)
    if wb and a["max_norm"] is not None:
        raise vmap_error("F.embedding_bag with max_norm renormalizes the weight in place, "
                         "which a batched weight cannot take")
    if wb and not any(c.batched(x) for x in (inp, off, psw)):
        p = w._p                                    # (B, n, D) -> (n, B * D)
        nb, n, d = p.shape
        a["weight"] = p.permute(1, 0, 2).reshape(n, nb * d)
        out = c(**a)
        return c.wrap(out.reshape(out.shape[0], nb, d).permute(1, 0, 2))
    if a["scale_grad_by_freq"] and not wb:
        raise vmap_error("F.embedding_bag with scale_grad_by_freq counts the indices of each "
                         "example, which one shared weight cannot tell apart")
    _check_shapes(inp, w, off, psw)
    nb = c.size(inp, w, off, psw)
    if inp.dim() == 2:
        starts = np.arange(0, inp.numel(), inp.shape[1])[None].repeat(nb, 0)
    else:
        starts = expand_to(c, off, nb).numpy().astype(np.int64)
        if a["include_last_offset"]:
            starts = starts[:, :-1]                 # the last bag runs to the end anyway
        if starts.size and (starts[:, 0] != 0).any():
            bad = starts[:, 0][starts[:, 0] != 0][0]
            raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the "
                               f"mini-batch has to start from position 0. However, got {bad}")
    idx = expand_to(c, inp, nb).reshape(nb, -1).numpy().astype(np.int64)
    length, nbags = idx.shape[1], starts.shape[1]
    starts = starts + (np.arange(nb) * length)[:, None]     # into the examples' joined input
    flat = idx.reshape(-1)
    psw_all = None if psw is None else expand_to(c, psw, nb).reshape(-1)
    pad = a["padding_idx"]
    if wb:
        n = w.shape[0]
        if pad is not None and not -n <= pad < n:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, {-n} "
                               f"through {n - 1}, but got {pad}")
        if flat.size and (flat.min() < 0 or flat.max() >= n):
            bad = flat[(flat < 0) | (flat >= n)][0]
            raise RuntimeError("embedding_bag: Expected idx >= 0 && idx < num_embeddings but "
                               f"found idx to be {bad}")
        a["weight"] = w._p.reshape(nb * n, w.shape[1])
        flat = (idx + (np.arange(nb) * n)[:, None]).reshape(-1)
        if pad is not None:
            # each example's padding row has its own number in the joined table: leave the
            # padding entries out (they add nothing and count in no bag)
            keep = idx.reshape(-1) != (pad + n if pad < 0 else pad)
            starts = np.r_[0, np.cumsum(keep)][starts]
            flat, pad = flat[keep], None
            if psw_all is not None:
                psw_all = psw_all.index_select(0, _make(np.flatnonzero(keep)))
    a.update(input=_make(flat), offsets=_make(starts.reshape(-1)), per_sample_weights=psw_all,
             include_last_offset=False, padding_idx=pad)
    out = c(**a)
    return c.wrap(out.reshape(nb, nbags, out.shape[-1]))


# -- the op -----------------------------------------------------------------------------------
def _bags_sample(*indices, offsets=None, psw=False, **kwargs):
    """A Sample: a (6, 3) table, integer indices (and offsets), per_sample_weights when psw."""
    def make(rng):
        arrays = [rng.standard_normal((6, 3)), np.array(indices)]
        if offsets is not None:
            arrays.append(np.array(offsets))
        if psw:
            arrays.append(rng.uniform(0.5, 2.0, np.shape(indices)))
        return arrays

    def call(m, w, i, *rest):
        o = rest[0] if offsets is not None else None
        p = rest[-1] if psw else None
        return _F(m).embedding_bag(i, w, o, per_sample_weights=p, **kwargs)
    return dict(make_inputs=make, call=call, torch_forward_ad=False)


@defop(name="F.embedding_bag", nodes=(EmbeddingBagBackward0,), batch=_embedding_bag_batch,
       samples=[
           S(**_bags_sample(0, 2, 4, 2, 1, 5, offsets=[0, 2, 2, 4]), id="mean"),
           S(**_bags_sample(0, 2, 4, 2, 1, 5, offsets=[0, 3], psw=True, mode="sum"),
             id="sum-weights"),
           S(**_bags_sample(0, 2, 4, 2, 1, 5, offsets=[0, 2, 2], mode="max"), id="max"),
           S(**_bags_sample([0, 2, 1], [3, 2, 5], mode="sum", padding_idx=2), id="2d-padding"),
           S(**_bags_sample(0, 2, 4, 5, 1, offsets=[0, 2, 5], include_last_offset=True,
                            padding_idx=-1), id="last-offset"),
           S(**_bags_sample(0, 2, 4, 2, 1, 2, offsets=[0, 3], psw=True, mode="sum",
                            padding_idx=4), id="weights-padding"),
           # not the derivative (gradcheck would fail): its gradients are in
           # test_nn_embedding_bag, with torch's CPU bug there
           S(**_bags_sample(0, 1, 1, 1, 3, offsets=[0, 2], scale_grad_by_freq=True),
             grad=False, id="freq"),
           S(**_bags_sample([1, 4], [4, 4], mode="max", padding_idx=1), id="2d-max")])
def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """The sum, mean or maximum of each bag of rows of `weight`: the rows of a 2-D `input`,
    or the slices of a 1-D `input` that `offsets` start. (sparse=True gives the dense
    gradient: lightgrad has no sparse tensors.)"""
    if weight._data.dtype.kind in "iu" and input._data.dtype.kind == "f":
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage "
                      "`embedding_bag(weight, input, ...)` is deprecated, and should now be "
                      "`embedding_bag(input, weight, ...)`.", stacklevel=3)
        weight, input = input, weight
    psw = per_sample_weights
    _check_shapes(input, weight, offsets, psw)
    if input.dim() == 2:
        offsets = _make(np.arange(0, input.numel(), input.shape[1]))
        include_last_offset = False
        input = input.reshape(-1)
        if psw is not None:
            psw = psw.reshape(-1)
    m = _MODES.get(mode)
    if m is None:
        raise ValueError("mode has to be one of sum, mean or max")
    if m == _MAX and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if m == _MAX and sparse:
        raise ValueError("max mode does not support sparse weights")
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    if psw is not None and m != 0:
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub.")
    _check_indices(input, "indices")
    _check_indices(offsets, "indices")      # torch names the offsets 'indices' here too
    if psw is not None and psw._data.dtype != weight._data.dtype:
        raise RuntimeError(
            "Expected tensor for argument #1 'weight' to have the same type as tensor for "
            f"argument #1 'per_sample_weights'; but type torch.{weight.dtype._legacy}Tensor "
            f"does not equal torch.{psw.dtype._legacy}Tensor (while checking arguments for "
            "embedding_bag)")
    n = weight.shape[0]
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, {-n} "
                               f"through {n - 1}, but got {padding_idx}")
        padding_idx %= n
    idx = input._data.reshape(-1).astype(np.int64)
    bag, nbags = _bag_of_entries(len(idx), offsets, include_last_offset)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)][0]
        raise RuntimeError("embedding_bag: Expected idx >= 0 && idx < num_embeddings but found "
                           f"idx to be {bad}")
    return _kernel(weight, idx, bag, nbags, m, psw, scale_grad_by_freq, padding_idx)


_SIGNATURE = inspect.signature(embedding_bag)
publish(globals())   # the op bound to its public function, which dispatches under vmap
