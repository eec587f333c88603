"""Spatial transformers of nn.functional: F.affine_grid (the sampling grid of a batch of
affine maps) and F.grid_sample (the input read at those grid points), for 2-D (N, C, H, W)
and 3-D (N, C, D, H, W) inputs, declared with torch's signatures and node names.

grid_sample reads, for each output point, a few input pixels (taps: 1 for nearest, 2 per
dim for bilinear, 4 per dim for bicubic) and sums them with weights that are polynomials
of the point's fractional position t. Which pixels, and how t depends on the grid value
(t = a * grid + b, with a the unnormalising scale times the padding's +-1 or 0), are
piecewise constant, so the forward works them out once and keeps them in the node. The
rule is then written over `ns` from a gather of the input at the taps, its adjoint (a
scatter-add) and the polynomial weights, so both gradients (input and grid) can be
differentiated again, as torch's can.

Grid points exactly on a pixel centre or a border (an identity affine grid puts them
there) sit where the taps or the padding's gradient switch; to land on the same side as
torch, the coordinates are computed with the arithmetic of torch's CPU kernels (the
vectorised, FMA-built 2-D kernel, GridSampler.h for 3-D), and affine_grid's base grid with
that of torch's linspace.
"""
import math
import warnings

import numpy as np

from .. import _dtype
from ._batching import expand_to, vmap_error
from ._core import Sample as S, defop, emit, node_class, publish, to_tensor
from ._spatial import _LinearPair
from .linalg_ext import _unsq

__all__ = []        # the ops are nn.functional's (F.<name>), imported there by name

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the "
                  "old behavior is desired. See the documentation of grid_sample for details.")
_MODES = ("bilinear", "nearest", "bicubic")
_PADDINGS = ("zeros", "border", "reflection")
_A = -0.75          # the cubic convolution constant of torch's bicubic modes


def _legacy(x):
    return _dtype.from_numpy_dtype(x.dtype)._legacy


def _sizes(shape):
    return list(shape)


def _fused(a, s, c):
    """a * s + c rounded once, as a fused multiply-add: torch's vectorised CPU kernel is
    built with FMA, and a grid point that should fall exactly on a pixel (an identity
    affine grid) falls on the side that rounding puts it."""
    if a.dtype != np.float64:
        return (a.astype(np.float64) * s + c).astype(a.dtype)    # exact in float64
    p = a * s
    # Dekker's product (a * s = p + e exactly) and Knuth's sum (p + c = q + f exactly)
    split = 134217729.0
    ah = a * split
    ah = ah - (ah - a)
    sh = s * split
    sh = sh - (sh - s)
    al, sl = a - ah, s - sh
    e = ((ah * sh - p) + ah * sl + al * sh) + al * sl
    q = p + c
    b = q - p
    f = (p - (q - b)) + (c - b)
    return q + (f + e)


# -- F.affine_grid -------------------------------------------------------------------------
def _linspace(n, align_corners, dtype):
    """torch's linspace_from_neg_one: n points over [-1, 1], pulled in to the pixel
    centres (by (n - 1) / n) unless align_corners; a single point is 0."""
    if n <= 1:
        return np.zeros(max(n, 0), dtype)
    # torch's linspace kernel, in the dtype: from -1 up to the middle, from 1 down after it,
    # each point one fused multiply-add (so that grid points on pixel centres are the same
    # floats as torch's, and land on the same side of them in grid_sample)
    step = dtype.type(2) / dtype.type(n - 1)
    i = np.arange(n).astype(dtype)
    r = np.where(np.arange(n) < n // 2, _fused(i, step, -1.0),
                 _fused(dtype.type(n - 1) - i, -step, 1.0)).astype(dtype)
    if not align_corners:
        r = r * dtype.type(n - 1) / dtype.type(n)
    return r


def _base_grid(spatial, align_corners, dtype):
    """(prod(spatial), nd + 1) rows (x, y[, z], 1): x runs along the last (W) dim."""
    nd = len(spatial)
    axes = [_linspace(n, align_corners, dtype) for n in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")             # one per dim, in (D,) H, W order
    cols = [mesh[nd - 1 - c] for c in range(nd)] + [np.ones(tuple(spatial), dtype)]
    return np.stack(cols, axis=-1).reshape(-1, nd + 1)


def _affine_rule(ns, g, meta):
    base, shape = meta
    n, nd = shape[0], shape[-1]
    g3 = ns.reshape(g, (n, base.shape[0], nd))
    return (ns.matmul(ns.mT(g3), base),)            # (N, nd, nd + 1): g^T base


AffineGridGeneratorBackward0 = node_class("AffineGridGeneratorBackward0", _affine_rule,
                                          meta=("base", "size"))


def _affine_batch(c, args, kwargs):
    """vmap of affine_grid: the batch of theta (N, nd, nd + 1) joins N."""
    theta, size = args[0], list(args[1] if len(args) > 1 else kwargs["size"])
    if not c.batched(theta):
        raise vmap_error("affine_grid has a batching rule for a batched theta only")
    p = theta._p
    b = p.shape[0]
    rest = {k: v for k, v in kwargs.items() if k != "size"}
    out = c(p.reshape((-1,) + tuple(p.shape[2:])), [b * size[0]] + size[1:], *args[2:], **rest)
    return c.wrap(out.reshape((b, -1) + tuple(out.shape[1:])))


@defop(name="F.affine_grid", nodes=(AffineGridGeneratorBackward0,), batch=_affine_batch,
       samples=[
    S((2, 2, 3), args=((2, 3, 4, 5),), kwargs={"align_corners": False}),
    S((1, 2, 3), args=((1, 1, 3, 2),), kwargs={"align_corners": True}, id="corners"),
    S((2, 3, 4), args=((2, 1, 2, 3, 4),), kwargs={"align_corners": False}, id="3d"),
    S((1, 3, 4), args=((1, 2, 3, 2, 2),), kwargs={"align_corners": True}, id="3d-corners")])
def affine_grid(theta, size, align_corners=None):
    """The (N, H, W, 2) (or (N, D, H, W, 3)) grid of theta (N, 2, 3) (or (N, 3, 4)) applied
    to the normalised coordinates of an output of `size` (N, C, H, W) (or (N, C, D, H, W))."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=3)   # this frame, the public function, caller
        align_corners = False
    t = to_tensor(theta)
    x = t._data
    if x.dtype.kind != "f":
        raise ValueError(f"Expected theta to have floating point type, but got {t.dtype}")
    if len(size) in (4, 5):
        nd = len(size) - 2
        if x.ndim != 3 or x.shape[-2:] != (nd, nd + 1):
            raise ValueError(f"Expected a batch of {nd}D affine matrices of shape Nx{nd}x"
                             f"{nd + 1} for size {size}. Got {t.shape}.")
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    spatial = tuple(int(s) for s in size[2:])
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      stacklevel=3)
    elif min(int(s) for s in size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    n = int(size[0])
    if x.shape[0] != n:      # torch's bmm of the base grid with theta^T says so
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{n}, {nd + 1}] but got: [{x.shape[0]}, {nd + 1}].")
    base = _base_grid(spatial, align_corners, x.dtype)
    data = (base @ np.swapaxes(x, -1, -2)).reshape((n,) + spatial + (nd,))
    return emit(data, AffineGridGeneratorBackward0, (t,), meta=(base, data.shape))


# -- grid_sample: the taps -----------------------------------------------------------------
def _unnormalize(g, n, align_corners, vec):
    """Grid values in [-1, 1] as pixel coordinates, and d(coordinate)/d(grid). `vec`: the
    arithmetic of torch's vectorised 2-D CPU kernel ((g + 1) * scale - 0.5, fused), else
    GridSampler.h's (the 3-D kernel), so that points exactly on a pixel centre land on the
    same side as in torch."""
    if align_corners:
        scale = (n - 1) / 2
        return ((g + 1) * scale if vec else (g + 1) / 2 * (n - 1)), scale
    return (_fused(g + 1, n / 2, -0.5) if vec else ((g + 1) * n - 1) / 2), n / 2


def _clip(c, n):
    """Coordinates clipped to [0, n - 1]; the gradient is 0 at and beyond the borders."""
    grad = ((c > 0) & (c < n - 1)).astype(c.dtype)
    return np.clip(c, 0, n - 1), grad


def _reflect(c, n, align_corners, vec):
    """c reflected into [0, n - 1] (align_corners) or [-0.5, n - 0.5], and the gradient
    factor +-1: the vectorised 2-D kernel's formula (one fold over twice the span) or
    GridSampler.h's reflect_coordinates_set_grad (count the flips); they differ only at
    the fold points themselves."""
    low, span = (0.0, n - 1) if align_corners else (-0.5, n)
    if span <= 0:
        return np.zeros_like(c), np.zeros_like(c)
    d = c - low
    neg = d < 0
    d = np.abs(d)
    if vec:
        extra = d - np.trunc(d / (2 * span)) * (2 * span)
        flip = extra > 2 * span - extra
        out = np.where(flip, 2 * span - extra, extra)
    else:
        extra = np.fmod(d, span)
        flip = np.floor(d / span) % 2 == 1
        out = np.where(flip, span - extra, extra)
    return (out + low).astype(c.dtype), np.where(flip ^ neg, -1.0, 1.0).astype(c.dtype)


def _pad_coords(c, n, padding, align_corners, vec):
    """torch's compute_coordinates (border / reflection), with its gradient factor."""
    if padding == "zeros":
        return c, np.ones_like(c)
    grad = np.ones_like(c)
    if padding == "reflection":
        c, grad = _reflect(c, n, align_corners, vec)
    c, gclip = _clip(c, n)
    return c, grad * gclip


def _dim_taps(g, n, mode, padding, align_corners, vec):
    """Along one dim of size n, for the grid values g: [(index, valid)] for each tap, and
    (a, b) with t = a * g + b the fractional position (None for nearest)."""
    c, scale = _unnormalize(g, n, align_corners, vec)
    if mode == "bicubic":
        # the taps are padded one by one; t is the raw position's fraction
        i0 = np.floor(c)
        taps = []
        for k in range(-1, 3):
            p, _ = _pad_coords(i0 + k, n, padding, align_corners, vec)
            # as torch's int cast (truncation); out-of-range values are masked anyway
            i = np.trunc(np.where(np.isfinite(p), p, -1)).astype(np.int64)
            taps.append((i, (i >= 0) & (i < n)))
        a = np.full_like(g, scale)
        return taps, (a, (c - i0 - a * g).astype(g.dtype))
    c, grad = _pad_coords(c, n, padding, align_corners, vec)
    if mode == "nearest":
        i = np.rint(np.where(np.isfinite(c), c, -1)).astype(np.int64)   # half to even
        return [(i, (i >= 0) & (i < n))], None
    i0 = np.floor(np.where(np.isfinite(c), c, -1)).astype(np.int64)
    a = grad * scale
    return [(i0, (i0 >= 0) & (i0 < n)), (i0 + 1, (i0 + 1 >= 0) & (i0 + 1 < n))], \
        (a, (c - i0 - a * g).astype(g.dtype))


def _taps(grid, in_sizes, mode, padding, align_corners):
    """Every tap of the grid points: (flat spatial index, valid as 0/1, its tap number along
    each grid coordinate), and each coordinate's (a, b); grid is (N, P, nd)."""
    nd = len(in_sizes)
    per = []
    lin = []
    for k in range(nd):                     # grid coordinate k indexes input dim nd - 1 - k
        taps, ab = _dim_taps(grid[..., k], in_sizes[nd - 1 - k], mode, padding, align_corners,
                             nd == 2)
        per.append(taps)
        lin.append(ab)
    strides = [int(np.prod(in_sizes[nd - k:])) for k in range(nd)]   # x: 1, y: W, z: H * W
    out = []
    for combo in np.ndindex(*[len(t) for t in per]):
        flat, valid = 0, True
        for k, j in enumerate(combo):
            i, ok = per[k][j]
            flat = flat + np.where(ok, i, 0) * strides[k]
            valid = valid & ok
        out.append((np.asarray(flat, np.int64), valid.astype(grid.dtype), combo))
    return out, lin


# the gather of the input (N, C, S) at the taps (N, P) and its adjoint, a scatter-add
def _gather_np(x, args):
    idx, _ = args
    return np.take_along_axis(x, idx[:, None, :], axis=-1)


def _scatter_np(g, args):
    idx, s = args
    n, c, p = g.shape
    pos = (np.arange(n * c).reshape(n, c, 1) * s + idx[:, None, :]).reshape(-1)
    out = np.bincount(pos, weights=g.reshape(-1).astype(np.float64), minlength=n * c * s)
    return out.astype(g.dtype).reshape(n, c, s)


# (defines ns.lin_grid_taps and ns.lin_grid_taps_adj, each the other's gradient)
_TAPS = _LinearPair("grid_taps", "GatherBackward0", _gather_np, "ScatterAddBackward0",
                    _scatter_np)


def _near(x):          # torch's cubic_convolution1, |x| <= 1, and its derivative
    return ((_A + 2) * x - (_A + 3)) * x * x + 1, (3 * (_A + 2) * x - 2 * (_A + 3)) * x


def _far(x):           # cubic_convolution2, 1 < |x| < 2, and its derivative
    return ((_A * x - 5 * _A) * x + 8 * _A) * x - 4 * _A, (3 * _A * x - 10 * _A) * x + 8 * _A


def _weights(mode, t):
    """[(w, dw/dt)] of each tap along one dim, for the fractional positions t."""
    if mode == "bilinear":
        return [(1 - t, -1.0), (t, 1.0)]
    w0, d0 = _far(t + 1)
    w1, d1 = _near(t)
    w2, d2 = _near(1 - t)
    w3, d3 = _far(2 - t)
    return [(w0, d0), (w1, d1), (w2, d2 * -1), (w3, d3 * -1)]


def _grid_rule(ns, g, meta, input, grid):
    """input: the taps' weighted scatter-add of g; grid: through each dim's t = a g + b,
    the sum over taps and channels of g * (tap value) * d(weight)/dt * a."""
    mode, taps, lin, shape = meta
    n, ch = shape[0], shape[1]
    s = int(np.prod(shape[2:]))
    gs = tuple(ns.shape(grid))
    nd, p = gs[-1], int(np.prod(gs[1:-1]))
    g3 = ns.reshape(g, (n, ch, p))
    x3 = ns.reshape(input, (n, ch, s))
    gin, gks = None, [None] * nd
    if mode == "nearest":               # one tap of weight 1: no gradient for the grid
        idx, valid, _ = taps[0]
        gin = ns.lin_grid_taps_adj(g3 * valid[:, None, :], (idx, s))
        return ns.reshape(gin, shape), grid * 0
    ts = [ns.reshape(ns.getitem(grid, (Ellipsis, k)), (n, p)) * lin[k][0] + lin[k][1]
          for k in range(nd)]
    ws = [_weights(mode, t) for t in ts]
    for idx, valid, combo in taps:
        parts = [ws[k][j][0] for k, j in enumerate(combo)]
        w = parts[0]
        for q in parts[1:]:
            w = w * q
        contrib = ns.lin_grid_taps_adj(g3 * _unsq(ns, w * valid, 1), (idx, s))
        gin = contrib if gin is None else gin + contrib
        # d out / d t_k: the other dims' weights times this dim's derivative
        v = ns.sum(g3 * ns.lin_grid_taps(x3, (idx, s)), axis=1) * valid
        for k in range(nd):
            d = v * ws[k][combo[k]][1]
            for q, part in enumerate(parts):
                if q != k:
                    d = d * part
            gks[k] = d if gks[k] is None else gks[k] + d
    gg = None
    for k in range(nd):
        onehot = np.eye(nd, dtype=lin[k][0].dtype)[k]
        term = ns.reshape(gks[k] * lin[k][0], gs[:-1] + (1,)) * onehot
        gg = term if gg is None else gg + term
    return ns.reshape(gin, shape), gg


GridSampler2DBackward0 = node_class("GridSampler2DBackward0", _grid_rule,
                                    saved=("input", "grid"), meta=("interpolation_mode",
                                                                   "taps", "coords", "shape"))
GridSampler3DBackward0 = node_class("GridSampler3DBackward0", _grid_rule,
                                    saved=("input", "grid"), meta=("interpolation_mode",
                                                                   "taps", "coords", "shape"))


def _grid_checks(x, y, mode):
    """torch's grid_sampler checks, in its order."""
    pre = "grid_sampler(): "
    if x.shape[0] != y.shape[0]:
        raise RuntimeError(pre + f"expected grid and input to have same batch size, but got "
                           f"input with sizes {_sizes(x.shape)} and grid with sizes "
                           f"{_sizes(y.shape)}")
    if y.shape[-1] != x.ndim - 2:
        raise RuntimeError(pre + f"expected grid to have size {x.ndim - 2} in last dimension, "
                           f"but got grid with sizes {_sizes(y.shape)}")
    for i in range(2, x.ndim):
        if x.shape[i] <= 0:
            raise RuntimeError(pre + f"expected input to have non-empty spatial dimensions, "
                               f"but input has sizes {_sizes(x.shape)} with dimension {i} "
                               "being empty")
    nd = 4 if x.ndim == 4 else 5
    if x.ndim != nd or y.ndim != nd:
        raise RuntimeError(pre + f"expected {nd}D input and grid with same number of "
                           f"dimensions, but got input with sizes {_sizes(x.shape)} and grid "
                           f"with sizes {_sizes(y.shape)}")
    if nd == 5 and mode == "bicubic":
        raise RuntimeError(pre + "bicubic interpolation only supports 4D input")
    if x.dtype.kind != "f":
        kernel = "grid_sampler_2d_cpu_kernel_impl" if nd == 4 else "grid_sampler3d_cpu"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_legacy(x)}\'')
    if x.dtype != y.dtype:
        raise RuntimeError(f"expected scalar type {_legacy(x)} but found {_legacy(y)}")


def _grid_sample_batch(c, args, kwargs):
    """vmap of grid_sample: input and grid lined up on the batch, which joins N."""
    x, grid = args[0], args[1]
    n = c.size(x, grid)
    if any(c.batched(v) for v in list(args[2:]) + list(kwargs.values())):
        raise vmap_error("grid_sample has a batching rule for batched input and grid only")

    def fold(t):
        p = expand_to(c, t, n)
        return p.reshape((-1,) + tuple(p.shape[2:]))
    out = c(fold(x), fold(grid), *args[2:], **kwargs)
    return c.wrap(out.reshape((n, -1) + tuple(out.shape[1:])))


def _sample(in_shape, out_points, align, spread=1.0):
    """make_inputs of a grid_sample Sample: a random input, and grid points up to `spread`
    pixels outside it at fractions 0.2 .. 0.4 or 0.6 .. 0.8 of a pixel, away from the
    integers and half-integers where the taps, nearest's rounding, the clipping and the
    reflection switch (a reflected safe fraction stays safe), so that gradcheck's nudges
    stay inside one piece of the piecewise-polynomial map."""
    nd = len(in_shape) - 2

    def make(rng):
        x = rng.uniform(-2, 2, in_shape)
        pts = np.empty((in_shape[0],) + tuple(out_points) + (nd,))
        for k in range(nd):
            size = in_shape[-1 - k]
            lo, hi = (0, size - 1) if align else (-0.5, size - 0.5)
            whole = rng.integers(math.floor(lo - spread), math.ceil(hi + spread),
                                 pts.shape[:-1])
            frac = rng.uniform(0.2, 0.4, pts.shape[:-1]) + 0.4 * rng.integers(0, 2,
                                                                              pts.shape[:-1])
            c = whole + frac                     # a pixel position; back to [-1, 1] units
            pts[..., k] = (c * 2 / (size - 1) - 1) if align else ((2 * c + 1) / size - 1)
        return [x, pts]
    return make


@defop(name="F.grid_sample", nodes=(GridSampler2DBackward0, GridSampler3DBackward0),
       batch=_grid_sample_batch, samples=[
    S(make_inputs=_sample((1, 2, 3, 4), (2, 3), False),
      kwargs={"align_corners": False}, torch_forward_ad=False),
    S(make_inputs=_sample((2, 1, 3, 3), (2, 2), True),
      kwargs={"padding_mode": "border", "align_corners": True}, id="border-corners",
      torch_forward_ad=False),
    S(make_inputs=_sample((1, 2, 3, 4), (3, 2), False, spread=2.0),
      kwargs={"padding_mode": "reflection", "align_corners": False}, id="reflection",
      torch_forward_ad=False),
    S(make_inputs=_sample((1, 1, 4, 3), (2, 2), True, spread=2.0),
      kwargs={"padding_mode": "reflection", "align_corners": True},
      id="reflection-corners", torch_forward_ad=False),
    S(make_inputs=_sample((1, 2, 3, 4), (2, 3), False, spread=0.5),
      kwargs={"mode": "nearest", "align_corners": False}, id="nearest",
      torch_forward_ad=False),
    S(make_inputs=_sample((1, 1, 3, 3), (2, 2), True, spread=1.5),
      kwargs={"mode": "nearest", "padding_mode": "reflection", "align_corners": True},
      id="nearest-reflection", torch_forward_ad=False),
    S(make_inputs=_sample((1, 2, 4, 4), (2, 2), False),
      kwargs={"mode": "bicubic", "align_corners": False}, id="bicubic",
      torch_forward_ad=False),
    S(make_inputs=_sample((1, 1, 4, 3), (2, 2), True, spread=1.5),
      kwargs={"mode": "bicubic", "padding_mode": "border", "align_corners": True},
      id="bicubic-border", torch_forward_ad=False),
    S(make_inputs=_sample((1, 1, 3, 4), (2, 2), False, spread=1.5),
      kwargs={"mode": "bicubic", "padding_mode": "reflection", "align_corners": False},
      id="bicubic-reflection", torch_forward_ad=False),
    S(make_inputs=_sample((1, 2, 2, 3, 3), (2, 1, 2), False),
      kwargs={"align_corners": False}, id="3d", torch_forward_ad=False),
    S(make_inputs=_sample((1, 1, 2, 2, 3), (1, 2, 2), True),
      kwargs={"padding_mode": "border", "align_corners": True}, id="3d-border",
      torch_forward_ad=False),
    S(make_inputs=_sample((1, 1, 3, 2, 2), (2, 1, 1), False),
      kwargs={"mode": "nearest", "padding_mode": "reflection", "align_corners": False},
      id="3d-nearest", torch_forward_ad=False)])
def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """input (N, C, H, W) (or (N, C, D, H, W)) read at the grid (N, Ho, Wo, 2) (or
    (N, Do, Ho, Wo, 3)) of normalised (x, y[, z]) positions in [-1, 1]: (N, C, Ho, Wo)."""
    if mode not in _MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in _PADDINGS:
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=3)   # this frame, the public function, caller
        align_corners = False
    a, b = to_tensor(input), to_tensor(grid)
    x, y = a._data, b._data
    _grid_checks(x, y, mode)
    n, ch = x.shape[:2]
    out_sp = y.shape[1:-1]
    p = int(np.prod(out_sp))
    y3 = y.reshape(n, p, y.shape[-1])      # (explicit sizes: any of them may be 0)
    taps, lin = _taps(y3, x.shape[2:], mode, padding_mode, align_corners)
    x3 = x.reshape(n, ch, int(np.prod(x.shape[2:])))
    data = np.zeros((n, ch, p), x.dtype)
    if mode != "nearest":   # each dim's tap weights, from t = a * grid + b as the rule has it
        ws = [_weights(mode, y3[..., k] * a + b_) for k, (a, b_) in enumerate(lin)]
    for idx, valid, combo in taps:
        w = valid
        if mode != "nearest":
            for k, j in enumerate(combo):
                w = w * ws[k][j][0]
        data += w[:, None, :].astype(x.dtype) * _gather_np(x3, (idx, None))
    cls = GridSampler2DBackward0 if x.ndim == 4 else GridSampler3DBackward0
    return emit(data.reshape((n, ch) + out_sp), cls, (a, b), (a, b),
                (mode, taps, lin, x.shape))


publish(globals())   # each op here bound to its public function, which dispatches under vmap
