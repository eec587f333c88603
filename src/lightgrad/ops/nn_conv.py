"""Convolution, pooling and the spatial linear maps (unfold/fold, pixel shuffle, upsampling,
padding), each a fused primitive with a hand-written rule.

Convolution is one bilinear map F(x, w) with two adjoints, Bi (gradient w.r.t. the input,
which is also the transposed convolution) and Bw (gradient w.r.t. the weight):
    <g, F(x, w)> = <x, Bi(g, w)> = <w, Bw(x, g)>.
Each of the three is an op whose rule is written with the other two, so gradients of any
order work. Forward: im2col through a strided view plus one BLAS matmul; Bi accumulates the
columns back (col2im) with a loop over kernel positions only.

The other spatial ops are linear maps; each is declared with its adjoint (`_LinearPair`),
whose rules call each other for the same reason.

Arrays are processed with two spatial dims; 1-d ops pass a unit height.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._tensor import Tensor, _make
from .._graph.grad_mode import state as _state
from ._core import declare, node_class, ns_def, record

__all__ = []


def _rg(t):
    return isinstance(t, Tensor) and t._rg


def _strided(a, shape, strides, writeable=False):
    """A strided view of a; the ndarray constructor is ~10x cheaper than as_strided and
    serves every contiguous (freshly padded) array."""
    if a.flags.c_contiguous:
        v = np.ndarray(shape, a.dtype, a, 0, strides)
        if not writeable:
            v.flags.writeable = False
        return v
    return as_strided(a, shape, strides, writeable=writeable)


# -- array kernels -------------------------------------------------------------------------
def _pad_arr(x, pads, value=0.0):
    """x (..., H, W) padded by pads ((top, bottom), (left, right)) >= 0."""
    (a0, a1), (b0, b1) = pads
    if not (a0 or a1 or b0 or b1):
        return x
    H, W = x.shape[-2:]
    shape = x.shape[:-2] + (H + a0 + a1, W + b0 + b1)
    out = np.zeros(shape, x.dtype) if value == 0 else np.full(shape, value, x.dtype)
    out[..., a0:a0 + H, b0:b0 + W] = x
    return out


def _out_size(n, k, s, d, lo, hi):
    return (n + lo + hi - d * (k - 1) - 1) // s + 1


def _as4(a):
    return a[:, :, None] if a.ndim == 3 else a


def _cols(x, p, kh, kw, Ho, Wo):
    """im2col of x (N, C, H, W): (C*kh*kw, N*Ho*Wo), one copy out of a strided view."""
    (sh, sw), pads, (dh, dw), _ = p
    xp = _pad_arr(x, pads)
    N, C = xp.shape[:2]
    s0, s1, s2, s3 = xp.strides
    win = _strided(xp, (C, kh, kw, N, Ho, Wo), (s1, s2 * dh, s3 * dw, s0, s2 * sh, s3 * sw))
    return win.reshape(C * kh * kw, N * Ho * Wo)


def _conv_geom(x, w, p):
    (sh, sw), ((a0, a1), (b0, b1)), (dh, dw), _ = p
    N, C, H, W = x.shape
    kh, kw = w.shape[-2:]
    Ho = _out_size(H, kh, sh, dh, a0, a1)
    Wo = _out_size(W, kw, sw, dw, b0, b1)
    return N, C, H, W, kh, kw, Ho, Wo


# NOTE: the kernels work channels-last (N, H, W, C) inside: NumPy's strided copies are slow
# when the innermost run is short (a 4x4 feature map), and channels-last makes the innermost
# run a whole (kw, C) block. Inputs and outputs stay contiguous NCHW, as in torch.
def _nhwc_padded(x, pads, step=(1, 1)):
    """x (N, C, H, W) copied channels-last into zeros padded by pads, its pixels `step`
    apart (the zero-dilation a strided convolution's input gradient needs)."""
    (a0, a1), (b0, b1) = pads
    N, C, H, W = x.shape
    Hs, Ws = (H - 1) * step[0] + 1, (W - 1) * step[1] + 1
    xp = np.zeros((N, Hs + a0 + a1, Ws + b0 + b1, C), x.dtype)
    xp[:, a0:a0 + Hs:step[0], b0:b0 + Ws:step[1], :] = x.transpose(0, 2, 3, 1)
    return xp


def _nhwc_cols(xp, G, kh, kw, s, d, Ho, Wo):
    """im2col of channels-last xp: (G, N*Ho*Wo, kh*kw*C/G), one copy of a strided view."""
    N, C = xp.shape[0], xp.shape[3]
    Cg = C // G
    s0, s1, s2, s3 = xp.strides
    v = _strided(xp, (G, N, Ho, Wo, kh, kw, Cg),
                 (Cg * s3, s0, s1 * s[0], s2 * s[1], s1 * d[0], s2 * d[1], s3))
    return v.reshape(G, N * Ho * Wo, kh * kw * Cg)


def _w_mat(w, G):
    """w (Co, C/G, kh, kw) -> (G, kh*kw*C/G, Co/G), rows ordered as the columns."""
    Co, Cg, kh, kw = w.shape
    return w.reshape(G, Co // G, Cg, kh, kw).transpose(0, 3, 4, 2, 1).reshape(G, -1, Co // G)


def _to_nchw(y, G, N, Ho, Wo):
    """(G, N*Ho*Wo, Co/G) -> contiguous (N, Co, Ho, Wo)."""
    Og = y.shape[2]
    if G == 1:
        return np.ascontiguousarray(y[0].reshape(N, Ho, Wo, Og).transpose(0, 3, 1, 2))
    return np.ascontiguousarray(y.reshape(G, N, Ho, Wo, Og).transpose(1, 0, 4, 2, 3)).reshape(
        N, G * Og, Ho, Wo)


def _rows(g, G):
    """g (N, Co, Ho, Wo) -> (G, N*Ho*Wo, Co/G)."""
    N, Co, Ho, Wo = g.shape
    if G == 1:
        return np.ascontiguousarray(g.transpose(0, 2, 3, 1)).reshape(1, -1, Co)
    return np.ascontiguousarray(g.reshape(N, G, Co // G, Ho, Wo).transpose(1, 0, 3, 4, 2)
                                ).reshape(G, -1, Co // G)


def _gemm(a, b):
    return a[0] @ b[0] if a.shape[0] == 1 else np.matmul(a, b)


def _conv_core(xp, w, G, s, d, Ho, Wo, b=None, keep=None):
    N = xp.shape[0]
    kh, kw = w.shape[-2:]
    col = _nhwc_cols(xp, G, kh, kw, s, d, Ho, Wo)
    if keep is not None:
        keep.append(col)
    y = _gemm(col, _w_mat(w, G))
    y = y.reshape((G,) + y.shape[-2:])
    if b is not None:
        y += b.reshape(G, 1, -1)
    return _to_nchw(y, G, N, Ho, Wo)


def conv_np(x, w, p, b=None, keep=None):
    """F(x, w): the convolution of x (N, C, [H,] W) with w (Co, C/groups, [kh,] kw).
    With a list `keep`, the im2col columns are appended to it (for the weight gradient)."""
    if x.ndim == 5:
        return _conv3d().conv3d_np(x, w, p, b, keep)
    sq = x.ndim == 3
    x, w = _as4(x), _as4(w)
    N, C, H, W, kh, kw, Ho, Wo = _conv_geom(x, w, p)
    if Ho <= 0 or Wo <= 0:
        (a0, a1), (b0, b1) = p[1]
        dh, dw = p[2]
        raise RuntimeError(
            f"Calculated padded input size per channel: ({H + a0 + a1} x {W + b0 + b1}). "
            f"Kernel size: ({dh * (kh - 1) + 1} x {dw * (kw - 1) + 1}). Kernel size can't be "
            "greater than actual input size")
    if _nchw_ok(C // p[3], p[3], kw, Wo, p[0], p[2]):
        Co = w.shape[0]
        col = _cols(x, p, kh, kw, Ho, Wo)
        if keep is not None:
            keep.append(col)
        y = w.reshape(Co, -1) @ col
        if b is not None:
            y += b.reshape(Co, 1)
        y = np.ascontiguousarray(y.reshape(Co, N, Ho, Wo).transpose(1, 0, 2, 3))
    else:
        y = _conv_core(_nhwc_padded(x, p[1]), w, p[3], p[0], p[2], Ho, Wo, b, keep)
    return y[:, :, 0] if sq else y


def _nchw_ok(Cg, G, kw, Wo, s, d):
    """Whether channels-first im2col copies longer contiguous runs (output rows) than
    channels-last does (kernel rows times channels): few channels, wide maps."""
    return G == 1 and (Wo if s[1] == 1 else 1) > (kw * Cg if d[1] == 1 else Cg)


def conv_bw_np(x, g, p, wshape, col=None):
    """Bw(x, g): the weight gradient of F at x for output gradient g (col: the forward's
    im2col columns of x, when it kept them)."""
    if g.ndim == 5:
        return _conv3d().conv3d_bw_np(x, g, p, wshape, col)
    sq = g.ndim == 3
    g = _as4(g)
    G = p[3]
    ws = tuple(wshape)
    if sq:
        ws = ws[:2] + (1,) + ws[2:]
    Co, Cg, kh, kw = ws
    Ho, Wo = g.shape[-2:]
    if _nchw_ok(Cg, G, kw, Wo, p[0], p[2]):
        if col is None:
            col = _cols(_as4(x), p, kh, kw, Ho, Wo)
        rows = np.ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(Co, -1)
        return (rows @ col.T).reshape(wshape)
    if col is None:
        col = _nhwc_cols(_nhwc_padded(_as4(x), p[1]), G, kh, kw, p[0], p[2], Ho, Wo)
    rows = _rows(g, G)
    gw = _gemm(col.transpose(0, 2, 1), rows)
    gw = gw.reshape(G, kh, kw, Cg, Co // G).transpose(0, 4, 3, 1, 2)
    return np.ascontiguousarray(gw).reshape(wshape)


def conv_bi_np(g, w, p, xshape):
    """Bi(g, w): the input gradient of F for output gradient g; with the roles of input and
    output swapped, this is the transposed convolution."""
    if g.ndim == 5:
        return _conv3d().conv3d_bi_np(g, w, p, xshape)
    sq = g.ndim == 3
    g, w = _as4(g), _as4(w)
    (sh, sw), ((a0, a1), (b0, b1)), (dh, dw), G = p
    xs = tuple(xshape)
    if sq:
        xs = xs[:2] + (1,) + xs[2:]
    N, C, H, W = xs
    Co, Cg, kh, kw = w.shape
    Og = Co // G
    Ho, Wo = g.shape[-2:]
    eh, ew = dh * (kh - 1), dw * (kw - 1)
    # the rows/cols of x that no window reaches (strided convolutions) get zero gradient
    xh = H + a0 + a1 - eh - 1 - (Ho - 1) * sh
    xw = W + b0 + b1 - ew - 1 - (Wo - 1) * sw
    pads = ((eh - a0, eh - a1 + xh), (ew - b0, ew - b1 + xw))
    if min(pads[0] + pads[1]) >= 0:
        # a stride-1 convolution of the zero-dilated, padded g with the flipped kernel, its
        # in/out channels swapped per group: one more im2col + matmul, no scatter
        wt = w.reshape(G, Og, Cg, kh, kw).transpose(0, 2, 1, 3, 4).reshape(G * Cg, Og, kh, kw)
        wt = wt[:, :, ::-1, ::-1]
        gx = _conv_core(_nhwc_padded(g, pads, (sh, sw)), wt, G, (1, 1), (dh, dw), H, W)
        return gx[:, :, 0] if sq else gx
    # padding wider than the kernel's reach: scatter the columns back (col2im)
    gcol = np.matmul(_rows(g, G), _w_mat(w, G).transpose(0, 2, 1))
    gcol = gcol.reshape(G, N, Ho, Wo, kh, kw, Cg)
    xp = np.zeros((N, H + a0 + a1, W + b0 + b1, G, Cg), gcol.dtype)
    for i in range(kh):       # NOTE: only kernel positions are looped over
        for j in range(kw):
            xp[:, i * dh:i * dh + sh * (Ho - 1) + 1:sh,
               j * dw:j * dw + sw * (Wo - 1) + 1:sw] += gcol[:, :, :, :, i, j].transpose(
                   1, 2, 3, 0, 4)
    gx = xp[:, a0:a0 + H, b0:b0 + W].reshape(N, H, W, C).transpose(0, 3, 1, 2)
    gx = np.ascontiguousarray(gx)
    return gx[:, :, 0] if sq else gx


def _bias_axes(nd):
    return (0,) + tuple(range(2, nd))


# -- the three convolution ops -------------------------------------------------------------
def _conv_fwd_rule(ns, g, meta, x, w, col=None):
    p, xshape, wshape, nx, nw, nb = meta
    gx = ns.conv_bi(g, w, p, xshape) if nx else None
    gw = ns.conv_bw(x, g, p, wshape, col) if nw else None
    gb = ns.sum(g, _bias_axes(len(xshape))) if nb else None
    return gx, gw, gb


def _conv_bi_rule(ns, g, meta, a, w):
    # y = Bi(a, w): <h, Bi(a, w)> = <F(h, w), a> = <w, Bw(h, a)>
    p, xshape, wshape, na, nw, nb = meta
    ga = ns.conv(g, w, p) if na else None
    gw = ns.conv_bw(g, a, p, wshape) if nw else None
    gb = ns.sum(g, _bias_axes(len(xshape))) if nb else None
    return ga, gw, gb


def _conv_bw_rule(ns, h, meta, x, g):
    # y = Bw(x, g): <h, Bw(x, g)> = <F(x, h), g> = <x, Bi(g, h)>
    p, xshape, wshape, nx, ng, _ = meta
    gx = ns.conv_bi(g, h, p, xshape) if nx else None
    gg = ns.conv(x, h, p) if ng else None
    return gx, gg


ConvFwd = node_class("ConvolutionBackward0", _conv_fwd_rule, saved=("input", "weight", "cols"),
                     meta=("args",))
ConvBi = node_class("ConvolutionBackward0", _conv_bi_rule, saved=("input", "weight"),
                    meta=("args",))
ConvBw = node_class("ConvolutionBackwardBackward0", _conv_bw_rule, saved=("input", "grad"),
                    meta=("args",))


def _conv_record(data, cls, a, b, bias, p, xshape, wshape, extra=()):
    na, nb_, nbias = _rg(a), _rg(b), _rg(bias)
    meta = (p, tuple(xshape), tuple(wshape), na, nb_, nbias)
    # save only what the other input's gradient reads
    return record(data, cls, (a, b, bias), (a if nb_ else None, b if na else None) + extra,
                  meta)


def _need(*ts):
    return _state.grad_enabled and any(_rg(t) for t in ts)


def convolution_op(x, w, bias, p):
    """F(x, w) + bias as one op (node ConvolutionBackward0)."""
    if not _need(x, w, bias):
        return _make(conv_np(x._data, w._data, p, None if bias is None else bias._data))
    # keep the im2col columns for the weight gradient (the fast path; freed with the graph)
    keep = [] if w._rg else None
    data = conv_np(x._data, w._data, p, None if bias is None else bias._data, keep)
    return _conv_record(data, ConvFwd, x, w, bias, p, x.shape, w.shape,
                        (keep[0] if keep else None,))


def conv_transpose_op(x, w, bias, p, out_shape):
    """Bi(x, w) + bias: the transposed convolution with output shape out_shape."""
    data = conv_bi_np(x._data, w._data, p, out_shape)
    if bias is not None:
        data = data + bias._data.reshape((-1,) + (1,) * (data.ndim - 2))
    if _need(x, w, bias):
        return _conv_record(data, ConvBi, x, w, bias, p, out_shape, w.shape)
    return _make(data)


def _conv_bw_op(x, g, p, wshape):
    data = conv_bw_np(x._data, g._data, p, wshape)
    if _need(x, g):
        return _conv_record(data, ConvBw, x, g, None, p, x.shape, wshape)
    return _make(data)


ns_def("conv", conv_np, lambda x, w, p: convolution_op(x, w, None, p))
ns_def("conv_bi", conv_bi_np, lambda g, w, p, xs: conv_transpose_op(g, w, None, p, xs))
ns_def("conv_bw", conv_bw_np, lambda x, g, p, wshape, col=None: _conv_bw_op(x, g, p, wshape))

declare("conv1d conv2d conv_transpose1d conv_transpose2d", "ConvolutionBackward0")
declare("conv3d conv_transpose3d", "ConvolutionBackward0")


def _conv3d():
    """The 3-d kernels (ops.nn_conv3d, which builds on this module)."""
    from . import nn_conv3d
    return nn_conv3d


# -- linear maps declared with their adjoints ----------------------------------------------
class _LinearPair:
    """A linear op f(x, args) and its adjoint a(g, args); the rule of each calls the other,
    so both are differentiable to any order."""

    def __init__(self, key, fname, f_np, aname, a_np):
        self.f_np, self.a_np = f_np, a_np
        fk, ak = f"lin_{key}", f"lin_{key}_adj"
        ns_def(fk, f_np, self.f)
        ns_def(ak, a_np, self.a)
        self.fcls = node_class(fname, lambda ns, g, m: (getattr(ns, ak)(g, m),),
                               meta=("args",))
        self.acls = node_class(aname, lambda ns, g, m: (getattr(ns, fk)(g, m),),
                               meta=("args",))

    def f(self, x, args):
        data = self.f_np(x._data, args)
        if _state.grad_enabled and x._rg:
            return record(data, self.fcls, (x,), meta=args)
        return _make(data)

    def a(self, x, args):
        data = self.a_np(x._data, args)
        if _state.grad_enabled and x._rg:
            return record(data, self.acls, (x,), meta=args)
        return _make(data)


# separable maps: y = A_h @ x @ A_w^T over the last two dims (or x @ A^T over the last one);
# three matrices map the last three dims (A_d applied to the flattened (H, W) planes)
def _sep_np(x, mats):
    if len(mats) == 1:
        return np.ascontiguousarray(x @ mats[0].T.astype(x.dtype, copy=False))
    if len(mats) == 3:
        ad = mats[0].astype(x.dtype, copy=False)
        y = _sep_np(x, mats[1:])
        s = y.shape
        y = ad @ y.reshape(s[:-3] + (s[-3], s[-2] * s[-1]))
        return np.ascontiguousarray(y.reshape(s[:-3] + (ad.shape[0],) + s[-2:]))
    ah, aw = (m.astype(x.dtype, copy=False) for m in mats)
    return np.ascontiguousarray(ah @ x @ aw.T)


def _sep_adj_np(g, mats):
    return _sep_np(g, tuple(m.T for m in mats))


_SEP = {}


def sepmap(x, mats, name):
    """x mapped by the matrices `mats` along its last len(mats) dims, as op `name`."""
    pair = _SEP.get(name)
    if pair is None:
        pair = _SEP[name] = _LinearPair(name, name, _sep_np, name.replace(
            "Backward0", "BackwardBackward0"), _sep_adj_np)
    return pair.f(x, tuple(mats))


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
declare("unfold", "Im2ColBackward0")
declare("fold", "Col2ImBackward0")


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
declare("pixel_shuffle", "PixelShuffleBackward0")
declare("pixel_unshuffle", "PixelUnshuffleBackward0")


# -- pooling -------------------------------------------------------------------------------
def pool_out_size(n, k, s, lo, d, ceil):
    """torch's pooling output size (with ceil_mode's rule that the last window starts
    inside the input or the left padding)."""
    num = n + 2 * lo - d * (k - 1) - 1
    o = (-(-num // s) if ceil else num // s) + 1
    if ceil and (o - 1) * s >= n + lo:
        o -= 1
    return o


def _pool_pads(H, W, k, s, p, d, outs):
    """Padding of x (.., H, W) so that every window (ceil_mode included) lies inside."""
    Ho, Wo = outs
    need_h = (Ho - 1) * s[0] + d[0] * (k[0] - 1) + 1
    need_w = (Wo - 1) * s[1] + d[1] * (k[1] - 1) + 1
    return ((p[0], max(0, need_h - H - p[0])), (p[1], max(0, need_w - W - p[1])))


def _win_view(xp, k, s, d, outs, writeable=False):
    """(kh, kw, M, Ho, Wo) view of the windows of xp (M, Hp, Wp)."""
    s0, s1, s2 = xp.strides
    return _strided(xp, (k[0], k[1], xp.shape[0]) + tuple(outs),
                    (s1 * d[0], s2 * d[1], s0, s1 * s[0], s2 * s[1]), writeable)


def maxpool_np(x, k, s, p, d, outs):
    """Max over each window of x (M, H, W), and the kernel position of the (first) max."""
    M, H, W = x.shape
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    xp = _pad_arr(x, _pool_pads(H, W, k, s, p, d, outs), fill)
    # kernel position first, so the max and argmax are a few passes over long rows
    win = _win_view(xp, k, s, d, outs).reshape((k[0] * k[1], M) + tuple(outs))
    K = win.shape[0]
    m = win.max(0)
    am = np.full(m.shape, K - 1, np.int8 if K <= 127 else np.int64)   # small: faster passes
    nan = x.dtype.kind == "f" and np.isnan(m).any()
    for i in range(K - 2, -1, -1):
        hit = win[i] == m
        if nan:                          # NOTE: NaN wins (the first NaN), as in torch
            hit |= win[i] != win[i]
        am = np.where(hit, i, am)
    return m, am


def flat_indices(am, H, W, k, s, p, d):
    """Kernel positions -> flat (H*W) input indices, as torch's return_indices gives."""
    Ho, Wo = am.shape[-2:]
    am = am.astype(np.int64)
    rows = (np.arange(Ho) * s[0] - p[0])[:, None] + (am // k[1]) * d[0]
    cols = (np.arange(Wo) * s[1] - p[1])[None, :] + (am % k[1]) * d[1]
    return rows * W + cols


def _maxpool_bwd_np(g, am, geom):
    """The gradient of the max: g routed to each window's argmax (col2im over positions)."""
    shape, k, s, p, d, overlap = geom
    H, W = shape[-2:]
    outs = g.shape[-2:]
    M = am.size // (outs[0] * outs[1])
    am = am.reshape((M,) + tuple(outs))
    g = g.reshape(am.shape)
    pads = _pool_pads(H, W, k, s, p, d, outs)
    if not (any(pads[0]) or any(pads[1])):
        # every window lies inside x: scatter by flat index (one pass, no strided writes)
        Ho, Wo = outs
        off = ((np.arange(k[0]) * (d[0] * W))[:, None] + np.arange(k[1]) * d[1]).ravel()
        base = (np.arange(Ho) * (s[0] * W))[:, None] + np.arange(Wo) * s[1]
        flat = (off[am] + base + (np.arange(M) * (H * W))[:, None, None]).ravel()
        if overlap:
            out = np.bincount(flat, weights=g.ravel(), minlength=M * H * W).astype(g.dtype)
        else:
            out = np.zeros(M * H * W, g.dtype)
            out[flat] = g.ravel()
        return out.reshape(shape)
    xp = np.zeros((M, H + pads[0][0] + pads[0][1], W + pads[1][0] + pads[1][1]), g.dtype)
    view = _win_view(xp, k, s, d, outs, writeable=True)
    zero = np.zeros((), g.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            gi = np.where(am == i * k[1] + j, g, zero)
            if overlap:
                view[i, j] += gi
            else:                      # windows never share an input: plain writes
                view[i, j] = gi
    out = xp[:, p[0]:p[0] + H, p[1]:p[1] + W]
    return np.ascontiguousarray(out).reshape(shape)


def _maxpool_bwd_t(g, am, geom):
    from .._creation import zeros
    shape, k, s, p, d, _ = geom
    H, W = shape[-2:]
    idx = flat_indices(am, H, W, k, s, p, d)
    M = idx.size // (idx.shape[-1] * idx.shape[-2])
    z = zeros((M, H * W), dtype=g.dtype)
    out = z.scatter_add(1, _make(idx.reshape(M, -1)), g.reshape(M, -1))
    return out.reshape(shape)


ns_def("maxpool_bwd", _maxpool_bwd_np, _maxpool_bwd_t)
# the gradient of the scatter is the gather of the incoming gradient at the same indices
MaxPool2DBackward = node_class(
    "MaxPool2DWithIndicesBackward0",
    lambda ns, g, m: (ns.maxpool_bwd(g, m[0], m[1]),), meta=("positions", "geometry"))


def max_pool2d_op(x, k, s, p, d, ceil):
    """(values, indices) of 2-d max pooling over the last two dims of x."""
    shape = tuple(x.shape)
    H, W = shape[-2:]
    outs = (pool_out_size(H, k[0], s[0], p[0], d[0], ceil),
            pool_out_size(W, k[1], s[1], p[1], d[1], ceil))
    vals, am = maxpool_np(x._data.reshape(-1, H, W), k, s, p, d, outs)
    lead = shape[:-2]
    vals = vals.reshape(lead + outs)
    am = am.reshape(lead + outs)
    idx = _LazyIndices(am, H, W, k, s, p, d)
    if _state.grad_enabled and x._rg:
        overlap = s[0] < d[0] * (k[0] - 1) + 1 or s[1] < d[1] * (k[1] - 1) + 1
        out = record(vals, MaxPool2DBackward, (x,), meta=(am, (shape, k, s, p, d, overlap)))
    else:
        out = _make(vals)
    return out, idx


class _LazyIndices:
    """The indices output, computed only when asked for (max_pool2d rarely returns them)."""
    __slots__ = ("args",)

    def __init__(self, *args):
        self.args = args

    def tensor(self):
        return _make(flat_indices(*self.args))


declare("max_pool1d max_pool2d", "MaxPool2DWithIndicesBackward0")


def _avg_divisor(n, k, s, p, outs, include_pad):
    """Per-output divisors along one dim, as torch computes them."""
    start = np.arange(outs) * s - p
    end = np.minimum(start + k, n + p)
    size = end - start
    start = np.maximum(start, 0)
    end = np.minimum(end, n)
    return size if include_pad else end - start


def _avgpool_np(x, args):
    k, s, p, outs, div, shape = args
    H, W = x.shape[-2:]
    lead = x.shape[:-2]
    x3 = x.reshape(-1, H, W)
    xp = _pad_arr(x3, _pool_pads(H, W, k, s, p, (1, 1), outs))
    win = _win_view(xp, k, s, (1, 1), outs)
    y = win.reshape((k[0] * k[1], x3.shape[0]) + tuple(outs)).sum(0) / div
    return y.astype(x.dtype, copy=False).reshape(lead + tuple(outs))


def _avgpool_adj_np(g, args):
    k, s, p, outs, div, shape = args
    H, W = shape[-2:]
    Ho, Wo = outs
    gd = (g / div).astype(g.dtype, copy=False).reshape(-1, Ho, Wo)
    M = gd.shape[0]
    need_h = max(H + 2 * p[0], (Ho - 1) * s[0] + k[0])
    need_w = max(W + 2 * p[1], (Wo - 1) * s[1] + k[1])
    xp = np.zeros((M, need_h, need_w), g.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            xp[:, i:i + s[0] * (Ho - 1) + 1:s[0], j:j + s[1] * (Wo - 1) + 1:s[1]] += gd
    return np.ascontiguousarray(xp[:, p[0]:p[0] + H, p[1]:p[1] + W]).reshape(
        tuple(g.shape[:-2]) + (H, W))


AVGPOOL = _LinearPair("avgpool", "AvgPool2DBackward0", _avgpool_np,
                      "AvgPool2DBackwardBackward0", _avgpool_adj_np)
declare("avg_pool1d avg_pool2d", "AvgPool2DBackward0")


def avg_pool2d_op(x, k, s, p, ceil, include_pad, divisor_override):
    shape = tuple(x.shape)
    H, W = shape[-2:]
    outs = (pool_out_size(H, k[0], s[0], p[0], 1, ceil),
            pool_out_size(W, k[1], s[1], p[1], 1, ceil))
    if divisor_override:
        div = np.full(outs, float(divisor_override))
    else:
        div = np.outer(_avg_divisor(H, k[0], s[0], p[0], outs[0], include_pad),
                       _avg_divisor(W, k[1], s[1], p[1], outs[1], include_pad)).astype(float)
    return AVGPOOL.f(x, (k, s, p, outs, div, shape))


def adaptive_matrix(n, o):
    """(o, n) averaging matrix of adaptive pooling: window i is [floor(i*n/o), ceil((i+1)*n/o))."""
    m = np.zeros((o, n))
    for i in range(o):
        a, b = (i * n) // o, -(-((i + 1) * n) // o)
        m[i, a:b] = 1.0 / (b - a)
    return m


declare("adaptive_avg_pool1d adaptive_avg_pool2d", "AdaptiveAvgPool2DBackward0")


def adaptive_max_pool2d_op(x, outs):
    """(values, indices) of adaptive max pooling (windows of varying size)."""
    shape = x.shape
    H, W = shape[-2:]
    xd = x._data.reshape(-1, H, W)
    M = xd.shape[0]
    vals = np.empty((M,) + outs, xd.dtype)
    idx = np.empty((M,) + outs, np.int64)
    for i in range(outs[0]):          # loops over output positions only
        a, b = (i * H) // outs[0], -(-((i + 1) * H) // outs[0])
        for j in range(outs[1]):
            c, e = (j * W) // outs[1], -(-((j + 1) * W) // outs[1])
            win = xd[:, a:b, c:e].reshape(M, -1)
            am = win.argmax(-1)
            vals[:, i, j] = win[np.arange(M), am]
            idx[:, i, j] = (a + am // (e - c)) * W + c + am % (e - c)
    lead = tuple(shape[:-2])
    vals, idx = vals.reshape(lead + outs), idx.reshape(lead + outs)
    if _state.grad_enabled and x._rg:
        return record(vals, AdaptiveMaxPool2DBackward0, (x,), meta=(idx, tuple(shape))), \
            _make(idx)
    return _make(vals), _make(idx)


def _np_scatter_flat(g, idx, shape):
    M = idx.size // (idx.shape[-1] * idx.shape[-2])
    HW = shape[-2] * shape[-1]
    flat = (idx.reshape(M, -1) + (np.arange(M) * HW)[:, None]).ravel()
    out = np.bincount(flat, weights=g.ravel(), minlength=M * HW).astype(g.dtype)
    return out.reshape(shape)


def _t_scatter_flat(g, idx, shape):
    from .._creation import zeros
    M = idx.size // (idx.shape[-1] * idx.shape[-2])
    z = zeros((M, shape[-2] * shape[-1]), dtype=g.dtype)
    return z.scatter_add(1, _make(idx.reshape(M, -1)), g.reshape(M, -1)).reshape(shape)


ns_def("scatter_flat", _np_scatter_flat, _t_scatter_flat)
AdaptiveMaxPool2DBackward0 = node_class(
    "AdaptiveMaxPool2DBackward0", lambda ns, g, m: (ns.scatter_flat(g, m[0], m[1]),),
    meta=("indices", "shape"))


declare("adaptive_max_pool2d", "AdaptiveMaxPool2DBackward0")


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


declare("interpolate", "UpsampleNearest1DBackward0", "UpsampleNearest2DBackward0",
        "UpsampleNearestExact1DBackward0", "UpsampleNearestExact2DBackward0",
        "UpsampleLinear1DBackward0", "UpsampleBilinear2DBackward0",
        "UpsampleBicubic2DBackward0", "UpsampleTrilinear3DBackward0",
        "UpsampleNearest3DBackward0", "UpsampleNearestExact3DBackward0",
        "UpsampleBilinear2DAaBackward0", "UpsampleBicubic2DAaBackward0")


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
        if size < 0:
            raise RuntimeError(
                f"The input size {n}, plus negative padding {lo} and {hi} resulted in a "
                f"negative output size, which is invalid. Check dimension {ax} of your input.")
        new[ax] = size
        s0, s1 = max(-lo, 0), n - max(-hi, 0)
        src[ax] = slice(s0, max(s1, s0))
        dst[ax] = slice(max(lo, 0), max(lo, 0) + max(s1 - s0, 0))
    out = np.full(new, value, xd.dtype) if value != 0 else np.zeros(new, xd.dtype)
    out[tuple(dst)] = xd[tuple(src)]
    if _state.grad_enabled and x._rg:
        if all(p >= 0 for p in pad):
            key = tuple(dst)
            return record(out, ConstantPadNdBackward0, (x,), meta=(key, tuple(pad)))
        # with cropping, the gradient is itself a (zero) constant pad with negated amounts
        cls = node_class("ConstantPadNdBackward0", _cpad_neg_rule, meta=("key", "pad"))
        return record(out, cls, (x,), meta=(None, tuple(-p for p in pad)))
    return _make(out)


def _cpad_neg_rule(ns, g, meta):
    return (ns.cpad(g, meta[1]),)


ns_def("cpad", lambda g, pad: constant_pad_op(_make(g), pad, 0)._data,
       lambda g, pad: constant_pad_op(g, pad, 0))
declare("pad", "ConstantPadNdBackward0", "ReflectionPad1DBackward0", "ReflectionPad2DBackward0",
        "ReplicationPad1DBackward0", "ReplicationPad2DBackward0", "CopySlices")
