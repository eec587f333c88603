"""Convolutions (F.conv1d / conv2d / conv3d and the transposed F.conv_transpose1d / 2d /
3d), each one fused primitive with a hand-written rule, declared with torch's signature.

Convolution is one bilinear map F(x, w) with two adjoints, Bi (gradient w.r.t. the input,
which is also the transposed convolution) and Bw (gradient w.r.t. the weight):
    <g, F(x, w)> = <x, Bi(g, w)> = <w, Bw(x, g)>.
Each of the three is an op whose rule is written with the other two, so gradients of any
order work. Forward: im2col through a strided view plus one BLAS matmul; Bi accumulates the
columns back (col2im) with a loop over kernel positions only. Arrays are processed with two
spatial dims (1-d convolutions pass a unit height); 5-d arrays go to the kernels of
ops.nn_conv3d.
"""
import warnings

import numpy as np

from .._tensor import _make
from .._graph.grad_mode import state as _state
from . import nn_conv3d as _k3
from ._batching import arg, expand_to, spatial
from ._core import Sample as S, defop, emit, node_class, ns_def, publish
from ._spatial import _gemm, _out_size, _pad_arr, _rg, _strided, _tuple

__all__ = []        # the ops are nn.functional's (F.<name>), imported there by name


# -- array kernels -------------------------------------------------------------------------
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
        return _k3.conv3d_np(x, w, p, b, keep)
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
        return _k3.conv3d_bw_np(x, g, p, wshape, col)
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
        return _k3.conv3d_bi_np(g, w, p, xshape)
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
    return emit(data, cls, (a, b, bias), (a if nb_ else None, b if na else None) + extra, meta)


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
    return _conv_record(data, ConvBi, x, w, bias, p, out_shape, w.shape)


def _conv_bw_op(x, g, p, wshape):
    data = conv_bw_np(x._data, g._data, p, wshape)
    return _conv_record(data, ConvBw, x, g, None, p, x.shape, wshape)


ns_def("conv", conv_np, lambda x, w, p: convolution_op(x, w, None, p))
ns_def("conv_bi", conv_bi_np, lambda g, w, p, xs: conv_transpose_op(g, w, None, p, xs))
ns_def("conv_bw", conv_bw_np, lambda x, g, p, wshape, col=None: _conv_bw_op(x, g, p, wshape))


# -- torch's arguments ---------------------------------------------------------------------
def _conv_checks(name, x, w, bias, groups, nd):
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {list(x.shape)}")
    return x.ndim == nd + 1


def _conv_params(x, w, stride, padding, dilation, groups, nd):
    s = _tuple(stride, nd)
    d = _tuple(dilation, nd)
    if any(v <= 0 for v in s):
        raise RuntimeError("non-positive stride is not supported")
    k = tuple(w.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if any(v != 1 for v in s):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = []
            for ki, di in zip(k, d):
                total = di * (ki - 1)
                pads.append((total // 2, total - total // 2))
            pads = tuple(pads)
            if any(lo != hi for lo, hi in pads):
                # the frames: here, _conv, F.conv<n>d, its public (dispatching) function
                warnings.warn("Using padding='same' with even kernel lengths and odd dilation "
                              "may require a zero-padded copy of the input be created",
                              UserWarning, stacklevel=5)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        pv = _tuple(padding, nd)
        if any(v < 0 for v in pv):
            raise RuntimeError("negative padding is not supported")
        pads = tuple((v, v) for v in pv)
    if nd == 1:
        return ((1, s[0]), ((0, 0), pads[0]), (1, d[0]), groups)
    return (s, pads, d, groups)


def _check_dtypes(x, w, bias):
    if x.dtype != w.dtype:
        raise RuntimeError(f"expected scalar type {x.dtype._legacy} but found "
                           f"{w.dtype._legacy}")
    if bias is not None and bias.dtype != x.dtype:
        raise RuntimeError(f"Input type ({x.dtype._legacy.lower()}) and bias type "
                           f"({bias.dtype._legacy.lower()}) should be the same")


def _check_channels(x, w, bias, groups, batched):
    _check_dtypes(x, w, bias)
    C = x.shape[1] if batched else x.shape[0]
    if C != w.shape[1] * groups:
        xs = list(x.shape) if batched else [1] + list(x.shape)
        raise RuntimeError(f"Given groups={groups}, weight of size {list(w.shape)}, expected "
                           f"input{xs} to have {w.shape[1] * groups} channels, but got {C} "
                           "channels instead")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != w.shape[0]):
        raise RuntimeError(f"Given weight of size {list(w.shape)}, expected bias to be "
                           f"1-dimensional with {w.shape[0]} elements, but got bias of size "
                           f"{list(bias.shape)} instead")


def _conv3d_checks(name, input, weight, stride, padding, dilation, groups):
    if input.ndim not in (4, 5):
        raise RuntimeError(f"Expected 4D (unbatched) or 5D (batched) input to {name}, but got "
                           f"input of size: {list(input.shape)}")
    k = weight.ndim - 2
    named = (("stride", stride), ("padding", padding), ("dilation", dilation))
    for what, v in named:
        if isinstance(v, str):
            continue
        vs = list(v) if isinstance(v, (list, tuple)) else [v] * 3
        if len(vs) != k and not (len(vs) == 1 and k >= 1):
            raise RuntimeError(f"expected {what} to be a single integer value or a list of {k} "
                               f"values to match the convolution dimensions, but got "
                               f"{what}={vs}")
    if name == "conv3d" and weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{list(weight.shape)}] "
                           "instead")


# -- vmap ----------------------------------------------------------------------------------
def _conv_per_example_weights(c, args, kwargs):
    """conv1d/2d/3d with a weight per example (model ensembles): one grouped convolution
    over all examples, example b's channels forming groups of their own."""
    x, w = args[0], arg(args, kwargs, 1, "weight")
    bias = arg(args, kwargs, 2, "bias")
    stride, padding = arg(args, kwargs, 3, "stride", 1), arg(args, kwargs, 4, "padding", 0)
    dilation, groups = arg(args, kwargs, 5, "dilation", 1), arg(args, kwargs, 6, "groups", 1)
    n = c.size(x, w, bias)
    single = x.dim() == w.dim() - 1               # an example is (C, *spatial)
    xp = expand_to(c, x, n)
    if single:
        xp = xp.unsqueeze(1)
    xp = xp.transpose(0, 1)                       # (N, batch, C, *spatial)
    shape = tuple(xp.shape)
    xp = xp.reshape((shape[0], shape[1] * shape[2]) + shape[3:])
    wp = expand_to(c, w, n)
    wp = wp.reshape((-1,) + tuple(wp.shape[2:]))  # (batch * O, C / groups, *k)
    bp = None if bias is None else expand_to(c, bias, n).reshape(-1)
    out = c(xp, wp, bp, stride, padding, dilation, groups * n)
    o = tuple(out.shape)
    out = out.reshape((o[0], n, o[1] // n) + o[2:]).transpose(0, 1)
    return c.wrap(out[:, 0] if single else out)


def _conv_rule(nd):
    """vmap of an nd-d convolution: the batch folded into N (spatial), or with batched
    weights, one grouped convolution over all examples."""
    plain = spatial(nd + 1)

    def rule(c, args, kwargs):
        if any(c.batched(a) for a in list(args[1:3]) + [kwargs.get("weight"),
                                                        kwargs.get("bias")]):
            return _conv_per_example_weights(c, args, kwargs)
        return plain(c, args, kwargs)
    rule.__name__ = f"spatial({nd + 1}) or per-example weights"
    return rule


# the samples batch every float input, weights too: the transposed convolutions refuse that
_WEIGHT_BATCHED = "has a batching rule for a batched input only"


# -- the public convolutions ---------------------------------------------------------------
def _conv(name, nd, input, weight, bias, stride, padding, dilation, groups):
    unbatched = _conv_checks(name, input, weight, bias, groups, nd)
    x = input.unsqueeze(0) if unbatched else input
    _check_channels(x, weight, bias, groups, True)
    p = _conv_params(x, weight, stride, padding, dilation, groups, nd)
    y = convolution_op(x, weight, bias, p)
    return y.squeeze(0) if unbatched else y


@defop(name="F.conv1d", nodes=(ConvFwd,), batch=_conv_rule(1), samples=[
    S((2, 2, 5), (3, 2, 3), (3,), kwargs={"stride": 2, "padding": 1})])
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution over (N, C, L) or (C, L): `F.conv1d(x, w, padding=1)`."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


@defop(name="F.conv2d", nodes=(ConvFwd,), batch=_conv_rule(2), samples=[
    S((2, 2, 4, 3), (3, 2, 2, 2), (3,)),
    S((1, 4, 5, 5), (2, 2, 2, 2), (2,), kwargs={"stride": 2, "padding": (1, 0),
                                                "dilation": (1, 2), "groups": 2},
      id="strided-groups"),
    S((1, 1, 3, 4), (2, 1, 2, 3), kwargs={"padding": "same"}, id="same"),
    S((2, 3, 3), (1, 2, 1, 2), kwargs={"padding": 2}, id="unbatched-widepad")])
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution over (N, C, H, W) or (C, H, W): `F.conv2d(x, w, padding='same')`."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


@defop(name="F.conv3d", nodes=(ConvFwd,), batch=_conv_rule(3), samples=[
    S((1, 2, 3, 3, 3), (2, 2, 2, 2, 2), (2,)),
    S((1, 4, 3, 4, 4), (2, 2, 2, 2, 1), kwargs={"stride": (2, 1, 2), "padding": (1, 0, 1),
                                                "dilation": (1, 2, 1), "groups": 2},
      id="strided-groups"),
    S((2, 3, 3, 3), (1, 2, 2, 1, 3), kwargs={"padding": "same"}, id="unbatched-same"),
    S((1, 1, 2, 2, 3), (2, 1, 2, 2, 2), kwargs={"padding": 2, "stride": 2}, id="widepad")])
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution over (N, C, D, H, W) or (C, D, H, W): `F.conv3d(x, w, padding=1)`."""
    _conv3d_checks("conv3d", input, weight, stride, padding, dilation, groups)
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_t(name, nd, input, weight, bias, stride, padding, output_padding, groups, dilation):
    unbatched = _conv_checks(name, input, weight, bias, groups, nd)
    x = input.unsqueeze(0) if unbatched else input
    _check_dtypes(x, weight, bias)
    if x.shape[1] != weight.shape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(x.shape)} to have {weight.shape[0]} channels, but got "
                           f"{x.shape[1]} channels instead")
    if isinstance(padding, str):
        raise RuntimeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    p = _conv_params(x, weight, stride, padding, dilation, groups, nd)
    op = _tuple(output_padding, nd)
    s, d, pv = _tuple(stride, nd), _tuple(dilation, nd), _tuple(padding, nd)
    for o, si, di in zip(op, s, d):
        if o >= si and o >= di:
            raise RuntimeError("output padding must be smaller than either stride or dilation,"
                               f" but got output_padding_height: {op[0]} output_padding_width: "
                               f"{op[-1]} stride_height: {s[0]} stride_width: {s[-1]} "
                               f"dilation_height: {d[0]} dilation_width: {d[-1]}")
    k = weight.shape[2:]
    spatial_out = tuple((n - 1) * si - 2 * pi + di * (ki - 1) + oi + 1
                        for n, si, pi, di, ki, oi in zip(x.shape[2:], s, pv, d, k, op))
    out_shape = (x.shape[0], weight.shape[1] * groups) + spatial_out
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_shape[1]):
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"bias to be 1-dimensional with {out_shape[1]} elements, but got "
                           f"bias of size {list(bias.shape)} instead")
    y = conv_transpose_op(x, weight, bias, p, out_shape)
    return y.squeeze(0) if unbatched else y


@defop(name="F.conv_transpose1d", nodes=(ConvBi,), batch=spatial(2), samples=[
    S((2, 2, 3), (2, 1, 2), (1,), kwargs={"stride": 3}, vmap_refused=_WEIGHT_BATCHED),
    S((2, 2, 3), (2, 1, 2), (1,), kwargs={"stride": 3}, nondiff=(1, 2), id="input-batched")])
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-d transposed convolution; weight is (C_in, C_out / groups, k)."""
    return _conv_t("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding,
                   groups, dilation)


@defop(name="F.conv_transpose2d", nodes=(ConvBi,), batch=spatial(3), samples=[
    S((1, 2, 2, 3), (2, 3, 3, 2), (3,), kwargs={"stride": 2, "padding": 1,
                                                "output_padding": 1},
      vmap_refused=_WEIGHT_BATCHED),
    S((1, 4, 2, 2), (4, 1, 2, 2), kwargs={"groups": 2, "dilation": 2}, id="groups",
      vmap_refused=_WEIGHT_BATCHED),
    S((2, 3, 2), (2, 3, 3, 2), kwargs={"stride": (1, 2), "output_padding": (0, 1)},
      nondiff=(1,), id="unbatched-input-batched")])
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-d transposed convolution; weight is (C_in, C_out / groups, kh, kw)."""
    return _conv_t("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding,
                   groups, dilation)


@defop(name="F.conv_transpose3d", nodes=(ConvBi,), batch=spatial(4), samples=[
    S((1, 2, 2, 2, 2), (2, 2, 2, 2, 2), (2,), kwargs={"stride": 2, "padding": 1,
                                                      "output_padding": 1},
      vmap_refused=_WEIGHT_BATCHED),
    S((1, 2, 2, 2, 2), (2, 2, 2, 2, 2), (2,), kwargs={"stride": 2, "padding": 1,
                                                      "output_padding": 1},
      nondiff=(1, 2), id="input-batched")])
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-d transposed convolution; weight is (C_in, C_out / groups, kd, kh, kw)."""
    _conv3d_checks("conv_transpose3d", input, weight, stride, padding, dilation, groups)
    op, s, d = (_tuple(v, 3) for v in (output_padding, stride, dilation))
    if len(op) == len(s) == len(d) == 3 and any(o >= si and o >= di
                                                for o, si, di in zip(op, s, d)):
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation, but got "
            f"output_padding_depth: {op[0]} output_padding_height: {op[1]} "
            f"output_padding_width: {op[2]} stride_depth: {s[0]} stride_height: {s[1]} "
            f"stride_width: {s[2]} dilation_depth: {d[0]} dilation_height: {d[1]} "
            f"dilation_width: {d[2]}")
    return _conv_t("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding,
                   groups, dilation)


publish(globals())   # each op here bound to its public function, which dispatches under vmap
