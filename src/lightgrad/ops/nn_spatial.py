"""Spatial linear maps of nn.functional: F.interpolate (upsampling and resizing), F.pad,
F.unfold / F.fold and F.pixel_shuffle / F.pixel_unshuffle, each declared with torch's
signature and recorded as one node with torch's name.

Each is a linear map declared with its adjoint (`_LinearPair`, ops/_spatial.py), whose
rules call each other so that gradients of any order work: unfold and fold are each
other's adjoints, as are pixel shuffle and unshuffle; interpolation and reflect /
replicate padding are separable maps (`sepmap`: one matrix per spatial dim). Constant
padding is a slice copy whose gradient is the slice (or, when it crops, a constant pad
again).
"""
import math
import numbers

import numpy as np

from .._tensor import _make
from ._batching import arg, fold_into_batch, leading_batch, leading_batch_needs, spatial, \
    vmap_error
from ._core import Sample as S, defop, emit, node_class, ns_def, publish
from ._spatial import _LinearPair, _out_size, _tuple, sepmap
from .nn_conv import _cols
from .nn_pool import adaptive_avg_pool1d, adaptive_avg_pool2d

__all__ = []        # the ops are nn.functional's (F.<name>), imported there by name


# unfold (im2col) and fold (col2im): adjoints of each other
def _unfold_np(x, args):
    k, d, pads, s, _ = args
    sq = x.ndim == 3
    x = x[None] if sq else x
    N, C, H, W = x.shape
    p = (s, pads, d, 1)
    Ho = _out_size(H, k[0], s[0], d[0], *pads[0])
    Wo = _out_size(W, k[1], s[1], d[1], *pads[1])
    col = _cols(x, p, k[0], k[1], Ho, Wo).reshape(C * k[0] * k[1], N, Ho * Wo)
    out = np.ascontiguousarray(col.transpose(1, 0, 2))
    return out[0] if sq else out


def _fold_np(g, args):
    k, d, pads, s, size = args
    sq = g.ndim == 2
    g = g[None] if sq else g
    N, CK, L = g.shape
    C = CK // (k[0] * k[1])
    Ho = _out_size(size[0], k[0], s[0], d[0], *pads[0])
    Wo = _out_size(size[1], k[1], s[1], d[1], *pads[1])
    # fold = Bi of a grouped identity-kernel convolution; do it directly
    cols = g.reshape(N, C, k[0], k[1], Ho, Wo)
    (a0, a1), (b0, b1) = pads
    xp = np.zeros((N, C, size[0] + a0 + a1, size[1] + b0 + b1), g.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            xp[:, :, i * d[0]:i * d[0] + s[0] * (Ho - 1) + 1:s[0],
               j * d[1]:j * d[1] + s[1] * (Wo - 1) + 1:s[1]] += cols[:, :, i, j]
    out = np.ascontiguousarray(xp[:, :, a0:a0 + size[0], b0:b0 + size[1]])
    return out[0] if sq else out


UNFOLD = _LinearPair("unfold", "Im2ColBackward0", _unfold_np, "Col2ImBackward0", _fold_np)


# pixel shuffle / unshuffle: permutations, adjoints (and inverses) of each other
def _shuffle_np(x, r):
    *lead, C, H, W = x.shape
    y = x.reshape(*lead, C // (r * r), r, r, H, W)
    n = len(lead)
    y = y.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return np.ascontiguousarray(y).reshape(*lead, C // (r * r), H * r, W * r)


def _unshuffle_np(x, r):
    *lead, C, H, W = x.shape
    y = x.reshape(*lead, C, H // r, r, W // r, r)
    n = len(lead)
    y = y.transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return np.ascontiguousarray(y).reshape(*lead, C * r * r, H // r, W // r)


SHUFFLE = _LinearPair("shuffle", "PixelShuffleBackward0", _shuffle_np,
                      "PixelUnshuffleBackward0", _unshuffle_np)


# -- interpolation matrices ----------------------------------------------------------------
def nearest_matrix(n, o, scale, exact):
    """(o, n) selection matrix of nearest upsampling; scale maps output to input coords."""
    sc = n / o if scale is None else 1.0 / scale
    dst = np.arange(o)
    src = np.floor((dst + 0.5) * sc) if exact else np.floor(dst * sc)
    src = np.minimum(src.astype(np.int64), n - 1)
    m = np.zeros((o, n))
    m[dst, src] = 1.0
    return m


def linear_matrix(n, o, scale, align_corners):
    """(o, n) weights of linear interpolation, as torch's upsample_linear/bilinear."""
    dst = np.arange(o, dtype=np.float64)
    if align_corners:
        src = dst * ((n - 1) / (o - 1) if o > 1 else 0.0)
    else:
        sc = n / o if scale is None else 1.0 / scale
        src = np.maximum((dst + 0.5) * sc - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    lam = src - i0
    m = np.zeros((o, n))
    np.add.at(m, (np.arange(o), i0), 1.0 - lam)
    np.add.at(m, (np.arange(o), i1), lam)
    return m


def cubic_matrix(n, o, scale, align_corners):
    """(o, n) weights of torch's upsample_bicubic2d along one dim: Keys' cubic convolution
    with A = -0.75 over the 4 neighbours floor(src) - 1 .. floor(src) + 2, border-replicated."""
    A = -0.75
    dst = np.arange(o, dtype=np.float64)
    if align_corners:
        src = dst * ((n - 1) / (o - 1) if o > 1 else 0.0)
    else:
        sc = n / o if scale is None else 1.0 / scale
        src = (dst + 0.5) * sc - 0.5   # unlike linear, not clamped at 0
    i0 = np.floor(src)
    t = src - i0

    def near(x):   # |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):    # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    m = np.zeros((o, n))
    rows = np.arange(o)
    for k, w in enumerate((far(t + 1), near(t), near(1 - t), far(2 - t))):
        np.add.at(m, (rows, np.clip(i0.astype(np.int64) + (k - 1), 0, n - 1)), w)
    return m


def antialias_matrix(n, o, scale, align_corners, cubic):
    """(o, n) weights of torch's antialiased bilinear / bicubic resize along one dim: the
    triangle or the cubic filter (A = -0.5) stretched by the scale when downsampling,
    normalised per output; a dim that keeps its size is copied, as torch does."""
    if n == o:
        return np.eye(n)
    if align_corners:
        sc = (n - 1) / (o - 1) if o > 1 else 0.0
    else:
        sc = n / o if scale is None else 1.0 / scale
    half = 2.0 if cubic else 1.0
    support = half * sc if sc >= 1.0 else half
    inv = 1.0 / sc if sc >= 1.0 else 1.0
    m = np.zeros((o, n))
    for i in range(o):
        c = sc * (i + 0.5)
        lo, hi = max(int(c - support + 0.5), 0), min(int(c + support + 0.5), n)
        x = np.abs((np.arange(lo, hi) - c + 0.5) * inv)
        if cubic:
            w = np.where(x < 1, (1.5 * x - 2.5) * x * x + 1,
                         np.where(x < 2, (((x - 5) * x + 8) * x - 4) * -0.5, 0.0))
        else:
            w = np.maximum(1.0 - x, 0.0)
        tot = w.sum()
        m[i, lo:hi] = w / tot if tot != 0 else w
    return m


def pad_matrix(n, lo, hi, mode):
    """(n+lo+hi, n) selection matrix of reflect / replicate padding along one dim."""
    j = np.arange(-lo, n + hi)
    if mode == "reflect":
        period = 2 * (n - 1)
        j = np.abs(j) % period if period else np.zeros_like(j)
        j = np.where(j >= n, period - j, j)
    elif mode == "replicate":
        j = np.clip(j, 0, n - 1)
    else:
        j = j % n
    m = np.zeros((len(j), n))
    m[np.arange(len(j)), j] = 1.0
    return m




# -- constant padding ----------------------------------------------------------------------
def _cpad_rule(ns, g, meta):
    return (ns.getitem(g, meta[0]),)


ConstantPadNdBackward0 = node_class("ConstantPadNdBackward0", _cpad_rule, meta=("key", "pad"))


def constant_pad_op(x, pad, value):
    """x padded by pad (pairs from the last dim backwards, negatives crop) with value."""
    nd = len(pad) // 2
    xd = x._data
    shape = xd.shape
    if nd > xd.ndim:
        raise RuntimeError(f"Length of pad should be no more than twice the number of "
                           f"dimensions of the input. Pad length is {len(pad)} while the input "
                           f"has {xd.ndim} dimensions.")
    src, dst, new = [slice(None)] * xd.ndim, [slice(None)] * xd.ndim, list(shape)
    for i in range(nd):
        ax = xd.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        n = shape[ax]
        size = n + lo + hi
        if n + min(lo, 0) + min(hi, 0) < 0:     # torch crops (narrows) before padding
            raise RuntimeError("narrow(): length must be non-negative.")
        new[ax] = size
        s0, s1 = max(-lo, 0), n - max(-hi, 0)
        src[ax] = slice(s0, max(s1, s0))
        dst[ax] = slice(max(lo, 0), max(lo, 0) + max(s1 - s0, 0))
    out = np.full(new, value, xd.dtype) if value != 0 else np.zeros(new, xd.dtype)
    out[tuple(dst)] = xd[tuple(src)]
    if all(p >= 0 for p in pad):
        return emit(out, ConstantPadNdBackward0, (x,), meta=(tuple(dst), tuple(pad)))
    # with cropping, the gradient is itself a (zero) constant pad with negated amounts
    cls = node_class("ConstantPadNdBackward0", _cpad_neg_rule, meta=("key", "pad"))
    return emit(out, cls, (x,), meta=(None, tuple(-p for p in pad)))


def _cpad_neg_rule(ns, g, meta):
    return (ns.cpad(g, meta[1]),)


ns_def("cpad", lambda g, pad: constant_pad_op(_make(g), pad, 0)._data,
       lambda g, pad: constant_pad_op(g, pad, 0))


# -- F.pad ---------------------------------------------------------------------------------
def _pad_check(c, x, args, kwargs):
    """vmap of F.pad: constant padding treats leading dims as a batch, but each example must
    have the dims it pads (or the batch dim would join them); the other modes pad an
    (N, C, *spatial) example, so they fold the batch into N."""
    if arg(args, kwargs, 2, "mode", "constant") != "constant":
        return _pad_mode
    if len(arg(args, kwargs, 1, "pad")) // 2 > x.dim():
        raise RuntimeError("Padding length should be less than or equal to two times the "
                           "input dimension")
    return None


def _pad_mode(c, args, kwargs):
    """reflect/replicate/circular padding: an example is (C, *spatial) or (N, C, *spatial)
    with one spatial dim per pair in `pad`."""
    x = args[0]
    nd = len(arg(args, kwargs, 1, "pad")) // 2
    if x.dim() not in (nd + 1, nd + 2):
        raise vmap_error(f"F.pad: an example of {x.dim()} dims does not fit {nd} padded "
                         "dims")
    return spatial(nd + 1)(c, args, kwargs)


_PAD_RULE = leading_batch_needs(_pad_check)
_PAD_RULE.__name__ = "leading_batch (constant) or spatial (other modes)"
_PAD_NAMES = {"reflect": "ReflectionPad{}DBackward0", "replicate": "ReplicationPad{}DBackward0"}


@defop(name="F.pad", nodes=(
        "ConstantPadNdBackward0", "ReflectionPad1DBackward0", "ReflectionPad2DBackward0",
        "ReplicationPad1DBackward0", "ReplicationPad2DBackward0", "CopySlices",
        "ReflectionPad3DBackward0", "ReplicationPad3DBackward0"), batch=_PAD_RULE, samples=[
    S((2, 3), args=((1, 2),)),
    S((2, 3, 3), args=((1, -1, 0, 2),), kwargs={"value": 1.5}, id="constant-crop"),
    S((1, 2, 3, 4), args=((2, 1, 1, 2),), kwargs={"mode": "reflect"}, id="reflect"),
    S((2, 3), args=((1, 2),), kwargs={"mode": "replicate"}, id="replicate"),
    S((1, 1, 3, 3), args=((1, 1, 2, 0),), kwargs={"mode": "circular"}, id="circular"),
    S((1, 2, 3, 2, 3), args=((1, 2, 0, 1, 2, 1),), kwargs={"mode": "reflect"},
      id="reflect3d"),
    S((2, 2, 2, 3), args=((1, 0, 2, 1, 0, 1),), kwargs={"mode": "replicate"},
      id="replicate3d-unbatched"),
    S((1, 1, 2, 2, 3), args=((1, 1, 0, 1, 1, 0),), kwargs={"mode": "circular"},
      id="circular3d")])
def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad)//2 dims; pad lists (left, right) pairs from the last dim."""
    pad = [int(v) for v in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if mode == "constant":
        return constant_pad_op(input, pad, 0.0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument.")
    nd = len(pad) // 2
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if not (nd in (1, 2, 3) and input.ndim in (nd + 1, nd + 2)):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    dims = list(range(input.ndim - nd, input.ndim))   # in order: [.., H, W]
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(nd)][::-1]
    if mode == "circular":
        return _pad_circular(input, pairs)
    mats = []
    for ax, (lo, hi) in zip(dims, pairs):
        n = input.shape[ax]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({lo}, {hi}) "
                               f"at dimension {ax} of input {list(input.shape)}")
        mats.append(pad_matrix(n, lo, hi, mode))
    return sepmap(input, mats, _PAD_NAMES[mode].format(nd))


def _pad_circular(x, pairs):
    """torch's circular padding: copy x into the middle, then wrap slices around (so the
    result's node is CopySlices, as in torch)."""
    from .._creation import zeros
    nd = len(pairs)
    lead = tuple(x.shape[:-nd])
    sizes = tuple(x.shape[-nd:])
    new = tuple(n + lo + hi for n, (lo, hi) in zip(sizes, pairs))
    for n, (lo, hi) in zip(sizes, pairs):
        if lo > n or hi > n:
            raise RuntimeError("Padding value causes wrapping around more than once.")
    out = zeros(lead + new, dtype=x.dtype)
    mid = (Ellipsis,) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(sizes, pairs))
    out[mid] = x
    for i in range(nd - 1, -1, -1):
        lo, hi = pairs[i]
        n_out = new[i]
        # index along dim i counted from the end: dims after it are full slices
        tail = (slice(None),) * (nd - 1 - i)
        if lo > 0:
            out[(Ellipsis, slice(0, lo)) + tail] = \
                out[(Ellipsis, slice(n_out - hi - lo, n_out - hi)) + tail]
        if hi > 0:
            out[(Ellipsis, slice(n_out - hi, n_out)) + tail] = \
                out[(Ellipsis, slice(lo, lo + hi)) + tail]
    return out


# -- F.interpolate -------------------------------------------------------------------------
_INTERP = {("nearest", 1): "UpsampleNearest1DBackward0", ("nearest", 2):
           "UpsampleNearest2DBackward0", ("nearest", 3): "UpsampleNearest3DBackward0",
           ("nearest-exact", 1): "UpsampleNearestExact1DBackward0",
           ("nearest-exact", 2): "UpsampleNearestExact2DBackward0",
           ("nearest-exact", 3): "UpsampleNearestExact3DBackward0",
           ("linear", 1): "UpsampleLinear1DBackward0", ("bilinear", 2):
           "UpsampleBilinear2DBackward0", ("trilinear", 3): "UpsampleTrilinear3DBackward0",
           ("bicubic", 2): "UpsampleBicubic2DBackward0"}
_INTERP_DIMS = {"linear": 1, "bilinear": 2, "trilinear": 3}


# mode='area': adaptive average pooling (of 1 or 2 spatial dims)
_AREA = {1: adaptive_avg_pool1d, 2: adaptive_avg_pool2d}


@defop(name="F.interpolate", nodes=tuple(_INTERP.values()) + (
        "UpsampleBilinear2DAaBackward0", "UpsampleBicubic2DAaBackward0"), batch=spatial(None),
       samples=[
    S((1, 1, 2, 3), kwargs={"scale_factor": 2}),
    S((1, 2, 2, 3), kwargs={"size": (3, 5), "mode": "bilinear"}, id="bilinear"),
    S((1, 2, 3), kwargs={"size": 4, "mode": "linear", "align_corners": True},
      id="linear-corners"),
    S((1, 2, 3, 3), kwargs={"size": (4, 2), "mode": "bicubic"}, id="bicubic"),
    S((2, 1, 2, 4), kwargs={"scale_factor": (1.5, 0.7), "mode": "bicubic",
                            "align_corners": True}, id="bicubic-corners"),
    S((1, 1, 3, 2), kwargs={"scale_factor": 1.7, "mode": "bicubic"}, id="bicubic-scale"),
    S((1, 1, 5, 2), kwargs={"scale_factor": (0.5, 1.5), "mode": "bicubic", "antialias": True},
      id="bicubic-antialias"),
    S((1, 2, 2, 2, 3), kwargs={"scale_factor": (2, 1.5, 0.5), "mode": "trilinear"},
      id="trilinear"),
    S((1, 1, 2, 3, 2), kwargs={"size": (3, 2, 2), "mode": "trilinear", "align_corners": True},
      id="trilinear-corners"),
    S((1, 1, 2, 2, 3), kwargs={"scale_factor": 1.5}, id="nearest3d")])
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims: nearest, nearest-exact, area, linear (3-D), bilinear and
    bicubic (4-D), trilinear (5-D); each a separable map with one matrix per dim."""
    nd = input.ndim - 2
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != nd:
                raise ValueError(f"Input and output must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{list(input.shape[2:])} and output size of {size}. Please "
                                 "provide input tensor in (N, C, d1, d2, ...,dK) format and "
                                 "output size in (o1, o2, ...,oK) format.")
            if not all(isinstance(v, numbers.Integral) for v in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, "
                                "int] or Tuple[int, int, int], but got size with types "
                                f"{[type(v) for v in size]}")
        outs = _tuple(size, nd)
        scales = (None,) * nd
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != nd:
                raise ValueError(f"Input and scale_factor must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{list(input.shape[2:])} and scale_factor of shape "
                                 f"{scale_factor}. Please provide input tensor in (N, C, d1, "
                                 "d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) "
                                 "format.")
            sf = tuple(float(v) for v in scale_factor)
        else:
            sf = (float(scale_factor),) * nd
        outs = tuple(int(math.floor(n * f)) for n, f in zip(input.shape[2:], sf))
        scales = (None,) * nd if recompute_scale_factor else sf
    else:
        raise ValueError("either size or scale_factor should be defined")
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    name = _INTERP.get((mode, nd))
    if name is None:
        pool = _AREA.get(nd) if mode == "area" else None
        if pool is not None:
            return pool(input, outs)
        want = _INTERP_DIMS.get(mode)
        if want is not None and 1 <= nd <= 3:
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                      f"{want + 2}D input")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | lanczos | area | "
                                  f"nearest-exact (got {mode})")
    if antialias:
        name = name.replace("2DBackward0", "2DAaBackward0")
    if min(outs) <= 0 or min(input.shape[2:]) <= 0:
        dims = "DHW"[3 - nd:]
        ins = ", ".join(f"{d}: {n}" for d, n in zip(dims, input.shape[2:]))
        got = ", ".join(f"{d}: {n}" for d, n in zip(dims, outs))
        sep = " and" if nd == 1 else ""
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({ins}){sep} output ({got})")
    mats = []
    for n, o, sc in zip(input.shape[2:], outs, scales):
        sc = None if align_corners else sc
        if mode.startswith("nearest"):
            mats.append(nearest_matrix(n, o, sc, mode == "nearest-exact"))
        elif antialias:
            mats.append(antialias_matrix(n, o, sc, align_corners, mode == "bicubic"))
        elif mode == "bicubic":
            mats.append(cubic_matrix(n, o, sc, align_corners))
        else:
            mats.append(linear_matrix(n, o, sc, align_corners))
    return sepmap(input, mats, name)


# -- F.unfold / F.fold, F.pixel_shuffle / F.pixel_unshuffle --------------------------------
def _fold_args(kernel_size, dilation, padding, stride):
    k, d, p, s = (_tuple(v, 2) for v in (kernel_size, dilation, padding, stride))
    return k, d, tuple((v, v) for v in p), s


@defop(name="F.unfold", nodes=(UNFOLD.fcls,), batch=fold_into_batch(4), samples=[
    S((1, 2, 3, 3), args=(2,), kwargs={"padding": 1, "stride": 2})])
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of (N, C, H, W) as columns: (N, C*kh*kw, L)."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got "
                           f"{input.ndim}D)")
    k, d, p, s = _fold_args(kernel_size, dilation, padding, stride)
    return UNFOLD.f(input, (k, d, p, s, tuple(input.shape[-2:])))


@defop(name="F.fold", nodes=(UNFOLD.acls,), batch=fold_into_batch(2), samples=[
    S((1, 4, 6), args=((3, 4), 2))])
def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum columns (N, C*kh*kw, L) back into (N, C, H, W): the adjoint of unfold."""
    k, d, p, s = _fold_args(kernel_size, dilation, padding, stride)
    size = _tuple(output_size, 2)
    CK = input.shape[-2]
    if CK % (k[0] * k[1]):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={CK} and "
                           f"kernel_size={k}.")
    blocks = [(n + 2 * pi - di * (ki - 1) - 1) // si + 1
              for n, ki, di, (pi, _), si in zip(size, k, d, p, s)]
    L = blocks[0] * blocks[1]
    if input.shape[-1] != L:
        raise RuntimeError(f"Given output_size={size}, kernel_size={k}, dilation={d}, "
                           f"padding={tuple(v for v, _ in p)}, stride={s}, expected size of "
                           f"input's dimension 2 to match the calculated number of sliding "
                           f"blocks {blocks[0]} * {blocks[1]} = {L}, but got "
                           f"input.size(2)={input.shape[-1]}.")
    return UNFOLD.a(input, (k, d, p, s, size))


@defop(name="F.pixel_shuffle", nodes=(SHUFFLE.fcls,), batch=leading_batch, samples=[
    S((1, 4, 2, 3), args=(2,))])
def pixel_shuffle(input, upscale_factor):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    r = int(upscale_factor)
    C = input.shape[-3]
    if C % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={C} "
                           f"is not divisible by {r * r}")
    return SHUFFLE.f(input, r)


@defop(name="F.pixel_unshuffle", nodes=(SHUFFLE.acls,), batch=leading_batch, samples=[
    S((1, 1, 4, 2), args=(2,))])
def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    r = int(downscale_factor)
    H, W = input.shape[-2:]
    if H % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by "
                           f"downscale_factor, but input.size(-2)={H} is not divisible by {r}")
    if W % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by "
                           f"downscale_factor, but input.size(-1)={W} is not divisible by {r}")
    return SHUFFLE.a(input, r)


publish(globals())   # each op here bound to its public function, which dispatches under vmap
