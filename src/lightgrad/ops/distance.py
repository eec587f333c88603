"""Distances between sets of vectors: torch.cdist (batched, any p >= 0) and torch.pdist,
each declared once with its rule, its vmap rule and its samples. (F.pairwise_distance and
F.cosine_similarity are written with public ops in nn/_functional/basic.py.)

The gradients are torch's `_cdist_backward` formulas, zero where a distance is zero (torch's
subgradient there), with every tie of the inf-norm taking the full gradient. The rules are
written over `ns`, so unlike torch (whose `_cdist_backward` has no derivative) they can be
differentiated again. The masks that pick those cases are piecewise constant, so they are
computed once in the forward and kept in the node's meta."""
import math

import numpy as np

from .. import _dtype
from ._batching import elementwise, vmap_error
from ._core import RESULT, Sample as S, defop, emit, node_class, publish, to_tensor
from .linalg import _broadcast_shapes
from .linalg_ext import _unsq

_MODES = {"use_mm_for_euclid_dist_if_necessary": 0, "use_mm_for_euclid_dist": 1,
          "donot_use_mm_for_euclid_dist": 2}
_CHUNK = 1 << 21     # elements of one (rows, r2, m) difference block in the forward


def _legacy(x):
    return _dtype.from_numpy_dtype(x.dtype)._legacy


# -- the forward kernels -------------------------------------------------------------------
def _pnorm(diff, p):
    """The p-norm of the last axis of `diff`, as torch's cdist kernels compute it."""
    ad = np.abs(diff)
    if p == 0:
        return np.sum(ad != 0, axis=-1).astype(diff.dtype)
    if p == 1:
        return np.sum(ad, axis=-1)
    if p == 2:
        return np.sqrt(np.sum(ad * ad, axis=-1))
    if p == math.inf:
        return np.max(ad, axis=-1) if ad.shape[-1] else np.zeros(ad.shape[:-1], ad.dtype)
    return np.sum(ad ** p, axis=-1) ** (1.0 / p)


def _dist_np(x1, x2, p):
    """(..., r1, r2) distances between the rows of x1 (..., r1, m) and x2 (..., r2, m), the
    batch dims broadcast; the (r1, r2, m) differences are formed a block of rows at a time,
    so memory stays bounded on large inputs."""
    batch = np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    r1, r2, m = x1.shape[-2], x2.shape[-2], x1.shape[-1]
    out = np.empty(batch + (r1, r2), dtype=x1.dtype)
    step = max(1, _CHUNK // max(1, r2 * m * max(1, int(np.prod(batch)))))
    for i in range(0, r1, step):
        a = x1[..., i:i + step, None, :]
        out[..., i:i + step, :] = _pnorm(a - x2[..., None, :, :], p)
    return out


def _euclid_np(x1, x2):
    """torch's _euclidean_dist: |a|^2 + |b|^2 - 2 a.b through one product, clamped at 0."""
    n1 = np.sum(x1 * x1, axis=-1)[..., :, None]
    n2 = np.sum(x2 * x2, axis=-1)[..., None, :]
    d2 = (-2 * x1) @ np.swapaxes(x2, -1, -2) + n1 + n2
    return np.sqrt(np.maximum(d2, 0))


def _masks(x1, x2, p, dist):
    """The constant masks of the rule: where a distance is zero, and for the inf-norm the
    elements that attain it (p < 1: the zero differences, whose power would be inf)."""
    zero = (dist == 0).astype(dist.dtype)
    extra = None
    if p == math.inf or 0 < p < 1:
        diff = x1[..., :, None, :] - x2[..., None, :, :]
        if p == math.inf:
            extra = (np.abs(diff) == dist[..., None]).astype(dist.dtype)
        else:
            extra = (diff == 0).astype(dist.dtype)
    return zero, extra


# -- the gradients -------------------------------------------------------------------------
def _cdist_grads(ns, g, p, x1, x2, dist, zero, extra):
    """(d/dx1, d/dx2) of cdist for the upstream gradient g (..., r1, r2), at the broadcast
    batch shape (the engine sums each back to its input's shape)."""
    if p == 0:
        return x1 * 0, x2 * 0
    keep = 1 - zero                          # a zero distance takes no gradient
    if p == 2:
        # sum_j coef_ij (x1_i - x2_j) without forming the differences
        coef = g / (dist + zero) * keep
        g1 = x1 * _unsq(ns, ns.sum(coef, axis=-1), -1) - coef @ x2
        g2 = x2 * _unsq(ns, ns.sum(coef, axis=-2), -1) - ns.mT(coef) @ x1
        return g1, g2
    diff = _unsq(ns, x1, -2) - _unsq(ns, x2, -3)        # (..., r1, r2, m)
    gg = _unsq(ns, g, -1)
    if p == 1:
        w = gg * ns.sign(diff)
    elif p == math.inf:
        w = gg * ns.sign(diff) * extra
    else:
        ad = ns.abs(diff)
        if p < 1:
            ad = ad + extra                      # 0 ** (p - 1) is inf; masked below
        scale = (dist + zero) ** (1 - p) * keep     # 1 / dist^(p-1), 0 at a zero distance
        w = gg * ns.sign(diff) * ad ** (p - 1) * _unsq(ns, scale, -1)
        if p < 1:
            w = w * (1 - extra)
    return ns.sum(w, axis=-2), -ns.sum(w, axis=-3)


def _cdist_rule(ns, g, meta, x1, x2, dist):
    p, zero, extra = meta
    return _cdist_grads(ns, g, p, x1, x2, dist, zero, extra)


CdistBackward0 = node_class("CdistBackward0", _cdist_rule, saved=("x1", "x2", "result"),
                            meta=("p", "zero", "extra"))
EuclideanDistBackward0 = node_class("EuclideanDistBackward0", _cdist_rule,
                                    saved=("x1", "x2", "result"), meta=("p", "zero", "extra"))


# -- cdist ---------------------------------------------------------------------------------
def _check_float(name, x, which):
    if x.dtype.kind != "f":
        raise RuntimeError(f"{name} only supports floating-point dtypes, {which}got: "
                           f"{_legacy(x)}")
    if x.dtype == np.float16:
        raise NotImplementedError(f'"{name}" not implemented for \'{_legacy(x)}\'')


def _inputs(x1, x2):
    """A Sample's make_inputs: random rows, the first row of x2 equal to x1's (an exact
    zero distance, where the gradient is torch's zero)."""
    def make(rng):
        a = rng.uniform(-2, 2, x1)
        b = rng.uniform(-2, 2, x2)
        b[..., 0, :] = a[..., 0, :]                 # a zero distance
        return [a, b]
    return make


@defop(nodes=(CdistBackward0, "ViewBackward0"), method=False, batch=elementwise, samples=[
    S((3, 4), (5, 4), torch_forward_ad=False),
    S((2, 3, 4), (2, 5, 4), kwargs={"p": 1.0}, id="p1-batch", torch_forward_ad=False),
    S((3, 2), (4, 2), kwargs={"p": 0.0}, id="p0", gradgrad=False, torch_forward_ad=False),
    S((2, 1, 3, 3), (4, 2, 3), kwargs={"p": float("inf")}, id="inf-broadcast",
      torch_forward_ad=False),
    S((3, 3), (2, 3), kwargs={"p": 3.0}, id="p3", torch_forward_ad=False),
    S((3, 3), (2, 3), kwargs={"p": 1.5}, id="p1.5", torch_forward_ad=False),
    S((2, 3), (2, 3), kwargs={"p": 0.5}, id="p0.5", torch_forward_ad=False),
    # at a zero distance the gradient jumps, so only first derivatives are checked there
    S(make_inputs=_inputs((2, 3, 3), (2, 4, 3)), id="zero-distance", gradgrad=False,
      torch_forward_ad=False),
    S(make_inputs=_inputs((3, 3), (4, 3)), kwargs={"p": 0.5}, id="zero-distance-p0.5",
      gradgrad=False, torch_forward_ad=False),
    S((30, 3), (4, 3), id="mm-if-necessary", torch_forward_ad=False),
    S((2, 3, 2), (3, 2), kwargs={"compute_mode": "use_mm_for_euclid_dist"}, id="mm",
      torch_forward_ad=False),
    S((30, 2), (3, 2), kwargs={"compute_mode": "donot_use_mm_for_euclid_dist"}, id="no-mm",
      torch_forward_ad=False)])
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between each row of x1 (..., r1, m) and each row of x2
    (..., r2, m): (..., r1, r2), the batch dims broadcast. For p = 2 torch's matrix-product
    formula is used when compute_mode asks for it (or, by default, when r1 or r2 > 25)."""
    if compute_mode not in _MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    a, b = to_tensor(x1), to_tensor(x2)
    x, y = a._data, b._data
    for t, which in ((x, "X1"), (y, "X2")):
        if t.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {which} got: "
                               f"{t.ndim}D")
    if x.shape[-1] != y.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x.shape[-1]} X2: {y.shape[-1]}")
    _check_float("cdist", x, "X1 ")
    _check_float("cdist", y, "X2 ")
    p = float(p)
    if not p >= 0:
        raise RuntimeError("cdist only supports non-negative p values")
    batch = _broadcast_shapes(x.shape[:-2], y.shape[:-2])
    if x.dtype != y.dtype:
        raise RuntimeError(f"expected scalar type {_legacy(x)} but found {_legacy(y)}")
    r1, r2 = x.shape[-2], y.shape[-2]
    mode = _MODES[compute_mode]
    use_mm = x.size and y.size and p == 2 and (mode == 1 or mode == 0 and (r1 > 25 or r2 > 25))
    recording = a._rg or b._rg
    if use_mm:
        data = _euclid_np(x, y)
        zero, extra = _masks(x, y, p, data) if recording else (None, None)
        r = emit(data, EuclideanDistBackward0, (a, b), (a, b, RESULT), (p, zero, extra),
                 bcast=True)
        # torch views _euclidean_dist's result into the output shape: its node is a view
        return r.view(tuple(batch) + (r1, r2)) if r._rg else r
    if x.shape[-1] == 0:
        data = np.zeros(tuple(batch) + (r1, r2), dtype=x.dtype)
    else:
        data = _dist_np(x, y, p)
    zero, extra = _masks(x, y, p, data) if recording else (None, None)
    return emit(data, CdistBackward0, (a, b), (a, b, RESULT), (p, zero, extra), bcast=True)


# -- pdist ---------------------------------------------------------------------------------
def _pdist_rule(ns, g, meta, x, result):
    """pdist's gradient is cdist(x, x)'s for the upstream gradient placed at (i, j), i < j
    (zero elsewhere, so the rest of the distance matrix is never read)."""
    p, n, pos, zero, extra = meta
    shape = tuple(ns.shape(x))[:-2] + (n, n)
    G = ns.embed_flat(g, shape, pos)
    D = ns.embed_flat(result, shape, pos)
    g1, g2 = _cdist_grads(ns, G, p, x, x, D, zero, extra)
    return (g1 + g2,)


PdistBackward0 = node_class("PdistBackward0", _pdist_rule, saved=("self", "result"),
                            meta=("p", "n", "positions", "zero", "extra"))


def _pdist(t, p):
    """pdist of x (..., N, M): the distances of rows i < j, in row-major order."""
    x = t._data
    n = x.shape[-2]
    i, j = np.triu_indices(n, 1)
    if n < 2 or x.shape[-1] == 0:
        data = np.zeros(x.shape[:-2] + (i.size,), dtype=x.dtype)
    else:
        data = _pnorm(x[..., i, :] - x[..., j, :], p)
    if not t._rg:
        return emit(data, PdistBackward0, (t,))
    # the flat positions of (i, j) in each (N, N) matrix of the batch
    nb = int(np.prod(x.shape[:-2]))
    pos = (np.arange(nb)[:, None] * n * n + (i * n + j)[None, :]).reshape(x.shape[:-2] +
                                                                          (i.size,))
    D = np.zeros(x.shape[:-2] + (n, n), dtype=x.dtype)
    D.reshape(-1)[pos.reshape(-1)] = data.reshape(-1)
    mask = np.zeros((n, n), dtype=bool)
    mask[i, j] = True
    zero, extra = _masks(x, x, p, D)
    zero = np.where(mask, zero, 1).astype(x.dtype)  # only (i, j), i < j, takes a gradient
    return emit(data, PdistBackward0, (t,), (t, RESULT), (p, n, pos, zero, extra))


def _pdist_batch(c, args, kwargs):
    """vmap of pdist: the kernel treats leading dims as a batch, so the physical tensor goes
    in as it is (torch has no batching rule and loops)."""
    x = args[0]
    if not c.batched(x) or any(c.batched(v) for v in list(args[1:]) + list(kwargs.values())):
        raise vmap_error("pdist has a batching rule for a batched input only")
    if x.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x.dim()}D")
    p = kwargs.get("p", args[1] if len(args) > 1 else 2)
    _pdist_checks(x._p._data, p)
    return c.wrap(_pdist(x._p, float(p)))


def _pdist_checks(x, p):
    if x.dtype.kind != "f":
        raise RuntimeError("pdist only supports floating-point dtypes")
    if x.dtype == np.float16:
        raise NotImplementedError(f'"pdist" not implemented for \'{_legacy(x)}\'')
    if not float(p) >= 0:
        raise RuntimeError("pdist only supports non-negative p values")


@defop(nodes=(PdistBackward0,), method=False, batch=_pdist_batch, samples=[
    S((4, 3), torch_forward_ad=False),
    S((3, 2), args=(1.0,), id="p1", torch_forward_ad=False),
    S((4, 2), kwargs={"p": float("inf")}, id="inf", torch_forward_ad=False),
    S((3, 3), kwargs={"p": 3.0}, id="p3", torch_forward_ad=False),
    S((3, 2), kwargs={"p": 0.0}, id="p0", gradgrad=False, torch_forward_ad=False),
    S(make_inputs=lambda rng: [np.concatenate([rng.uniform(-2, 2, (1, 3))] * 2 + [
        rng.uniform(-2, 2, (2, 3))])], id="zero-distance", gradgrad=False,
      torch_forward_ad=False)])
def pdist(input, p=2):
    """The p-norm distances between the rows of input (N, M), for each pair i < j:
    N * (N - 1) / 2 values, row-major (the upper triangle of cdist(input, input))."""
    t = to_tensor(input)
    x = t._data
    if x.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x.ndim}D")
    _pdist_checks(x, p)
    return _pdist(t, float(p))


__all__ = publish(globals())
