"""3-d convolution and pooling kernels, over (N, C, D, H, W) arrays.

The convolution ops, their rules and node classes are those of ops.nn_conv: its array
kernels conv_np / conv_bi_np / conv_bw_np hand 5-d arrays to the kernels here, so F, Bi and
Bw (and with them gradients of any order, and the transposed convolution) work in 3-d
unchanged. The kernels work channels-last inside, as the 2-d ones do: im2col through a
strided view plus one BLAS matmul per group.

Pooling: max pooling is a primitive with its own node (the gradient scatters to the flat
argmax indices, which are also what return_indices gives); average and adaptive average
pooling are linear maps declared with their adjoints (nn_conv._LinearPair).
"""
import numpy as np

from .._graph.grad_mode import state as _state
from . import nn_conv as _c
from .._tensor import _make
from ._core import declare, node_class, ns_def, record

__all__ = []


# -- convolution kernels -------------------------------------------------------------------
def _padded_cl(x, pads, step=(1, 1, 1)):
    """x (N, C, D, H, W) copied channels-last into zeros padded by pads (three (lo, hi)
    pairs), its elements `step` apart (the zero-dilation a strided conv's Bi needs)."""
    N, C = x.shape[:2]
    sizes = [(n - 1) * st + 1 for n, st in zip(x.shape[2:], step)]
    xp = np.zeros((N,) + tuple(n + lo + hi for n, (lo, hi) in zip(sizes, pads)) + (C,),
                  x.dtype)
    key = tuple(slice(lo, lo + n, st) for n, (lo, _), st in zip(sizes, pads, step))
    xp[(slice(None),) + key] = x.transpose(0, 2, 3, 4, 1)
    return xp


def _cols_cl(xp, G, k, s, d, outs):
    """im2col of channels-last xp: (G, N*Do*Ho*Wo, kd*kh*kw*C/G), one copy of a view."""
    N, C = xp.shape[0], xp.shape[-1]
    Cg = C // G
    s0, s1, s2, s3, s4 = xp.strides
    v = _c._strided(xp, (G, N) + tuple(outs) + tuple(k) + (Cg,),
                    (Cg * s4, s0, s1 * s[0], s2 * s[1], s3 * s[2], s1 * d[0], s2 * d[1],
                     s3 * d[2], s4))
    return v.reshape(G, N * int(np.prod(outs)), -1)


def _w_mat(w, G):
    """w (Co, C/G, kd, kh, kw) -> (G, kd*kh*kw*C/G, Co/G), rows ordered as the columns."""
    Co, Cg = w.shape[:2]
    return w.reshape((G, Co // G, Cg) + w.shape[2:]).transpose(0, 3, 4, 5, 2, 1).reshape(
        G, -1, Co // G)


def _rows(g, G):
    """g (N, Co, Do, Ho, Wo) -> (G, N*Do*Ho*Wo, Co/G)."""
    N, Co = g.shape[:2]
    gr = g.reshape((N, G, Co // G) + g.shape[2:]).transpose(1, 0, 3, 4, 5, 2)
    return np.ascontiguousarray(gr).reshape(G, -1, Co // G)


def _to_ncdhw(y, G, N, outs):
    """(G, N*Do*Ho*Wo, Co/G) -> contiguous (N, Co, Do, Ho, Wo)."""
    Og = y.shape[2]
    y = y.reshape((G, N) + tuple(outs) + (Og,)).transpose(1, 0, 5, 2, 3, 4)
    return np.ascontiguousarray(y).reshape((N, G * Og) + tuple(outs))


def _core(xp, w, G, s, d, outs, b=None, keep=None):
    col = _cols_cl(xp, G, w.shape[2:], s, d, outs)
    if keep is not None:
        keep.append(col)
    y = _c._gemm(col, _w_mat(w, G))
    y = y.reshape((G,) + y.shape[-2:])
    if b is not None:
        y += b.reshape(G, 1, -1)
    return _to_ncdhw(y, G, xp.shape[0], outs)


def conv3d_np(x, w, p, b=None, keep=None):
    """F(x, w) for x (N, C, D, H, W), w (Co, C/groups, kd, kh, kw); p as in nn_conv."""
    s, pads, d, G = p
    ins, k = x.shape[2:], w.shape[2:]
    outs = tuple(_c._out_size(n, ki, si, di, lo, hi)
                 for n, ki, si, di, (lo, hi) in zip(ins, k, s, d, pads))
    if min(outs) <= 0:
        padded = " x ".join(str(n + lo + hi) for n, (lo, hi) in zip(ins, pads))
        ks = " x ".join(str(di * (ki - 1) + 1) for ki, di in zip(k, d))
        raise RuntimeError(f"Calculated padded input size per channel: ({padded}). Kernel "
                           f"size: ({ks}). Kernel size can't be greater than actual input size")
    return _core(_padded_cl(x, pads), w, G, s, d, outs, b, keep)


def conv3d_bw_np(x, g, p, wshape, col=None):
    """Bw(x, g): the weight gradient (col: the forward's im2col columns, when kept)."""
    s, pads, d, G = p
    Co, Cg = wshape[:2]
    k = tuple(wshape[2:])
    if col is None:
        col = _cols_cl(_padded_cl(x, pads), G, k, s, d, g.shape[2:])
    gw = _c._gemm(col.transpose(0, 2, 1), _rows(g, G))
    gw = gw.reshape((G,) + k + (Cg, Co // G)).transpose(0, 5, 4, 1, 2, 3)
    return np.ascontiguousarray(gw).reshape(wshape)


def conv3d_bi_np(g, w, p, xshape):
    """Bi(g, w): the input gradient (and the transposed convolution). It is a stride-1
    convolution of the zero-dilated g with the flipped kernel, in/out channels swapped per
    group; computed for the padded input, then cropped (so any padding works)."""
    s, pads, d, G = p
    N, C = xshape[:2]
    Co, Cg = w.shape[:2]
    k = w.shape[2:]
    Og = Co // G
    outs, ins = g.shape[2:], tuple(xshape[2:])
    full = tuple(n + lo + hi for n, (lo, hi) in zip(ins, pads))
    gpads = []
    for n, o, ki, si, di in zip(full, outs, k, s, d):
        e = di * (ki - 1)
        # the tail of the padded input that no window reaches gets zero gradient
        gpads.append((e, e + n - e - 1 - (o - 1) * si))
    wt = w.reshape((G, Og, Cg) + k).transpose(0, 2, 1, 3, 4, 5).reshape((G * Cg, Og) + k)
    wt = wt[:, :, ::-1, ::-1, ::-1]
    gx = _core(_padded_cl(g, gpads, s), wt, G, (1, 1, 1), d, full)
    key = (slice(None), slice(None)) + tuple(slice(lo, lo + n) for n, (lo, _) in
                                             zip(ins, pads))
    return np.ascontiguousarray(gx[key])


# -- max pooling ---------------------------------------------------------------------------
def _pool_pads(ins, k, s, p, d, outs):
    """Padding of x (.., D, H, W) so that every window (ceil_mode included) lies inside."""
    return tuple((pi, max(0, (o - 1) * si + di * (ki - 1) + 1 - n - pi))
                 for n, ki, si, pi, di, o in zip(ins, k, s, p, d, outs))


def _pad3(x, pads, value=0.0):
    """x (M, D, H, W) padded by three (lo, hi) pairs with value."""
    if not any(lo or hi for lo, hi in pads):
        return x
    shape = x.shape[:1] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[1:], pads))
    out = np.full(shape, value, x.dtype)
    out[(slice(None),) + tuple(slice(lo, lo + n) for n, (lo, _) in
                               zip(x.shape[1:], pads))] = x
    return out


def _windows(xp, k, s, d, outs):
    """(kd*kh*kw, M, Do, Ho, Wo) view of the windows of xp (M, Dp, Hp, Wp)."""
    s0, s1, s2, s3 = xp.strides
    v = _c._strided(xp, tuple(k) + (xp.shape[0],) + tuple(outs),
                    (s1 * d[0], s2 * d[1], s3 * d[2], s0, s1 * s[0], s2 * s[1], s3 * s[2]))
    return v.reshape((int(np.prod(k)), xp.shape[0]) + tuple(outs))


def pool_outs(ins, k, s, p, d, ceil):
    return tuple(_c.pool_out_size(n, ki, si, pi, di, ceil)
                 for n, ki, si, pi, di in zip(ins, k, s, p, d))


def maxpool3d_np(x, k, s, p, d, outs):
    """Max over each window of x (M, D, H, W), and the flat (D*H*W) index of its (first)
    max; a NaN wins, as in torch."""
    ins = x.shape[1:]
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    win = _windows(_pad3(x, _pool_pads(ins, k, s, p, d, outs), fill), k, s, d, outs)
    K = win.shape[0]
    m = win.max(0)
    am = np.full(m.shape, K - 1, np.int64)
    nan = x.dtype.kind == "f" and np.isnan(m).any()
    for i in range(K - 2, -1, -1):       # kernel positions only
        hit = win[i] == m
        if nan:
            hit |= win[i] != win[i]
        am = np.where(hit, i, am)
    # kernel position -> input coordinates -> flat index
    kd, kh, kw = np.unravel_index(am, k)
    grids = np.meshgrid(*(np.arange(o) for o in outs), indexing="ij")
    coords = [gr * si - pi + kk * di for gr, si, pi, kk, di in zip(grids, s, p, (kd, kh, kw), d)]
    flat = (coords[0] * ins[1] + coords[1]) * ins[2] + coords[2]
    return m, flat


def _scatter3_np(g, idx, shape):
    """g (.., Do, Ho, Wo) summed into zeros of `shape` at the flat (D*H*W) indices idx."""
    n = int(np.prod(shape[-3:]))
    M = idx.size // int(np.prod(idx.shape[-3:])) if idx.size else 0
    flat = (idx.reshape(M, -1) + (np.arange(M) * n)[:, None]).ravel()
    out = np.bincount(flat, weights=np.asarray(g).ravel(), minlength=M * n)
    return out.astype(g.dtype, copy=False).reshape(shape)


def _scatter3_t(g, idx, shape):
    from .._creation import zeros
    n = int(np.prod(shape[-3:]))
    M = int(np.prod(shape[:-3]))
    z = zeros((M, n), dtype=g.dtype)
    return z.scatter_add(1, _make(idx.reshape(M, -1)), g.reshape(M, -1)).reshape(shape)


ns_def("scatter3", _scatter3_np, _scatter3_t)
# the gradient of the scatter is the gather of the incoming gradient at the same indices
MaxPool3DBackward = node_class(
    "MaxPool3DWithIndicesBackward0", lambda ns, g, m: (ns.scatter3(g, m[0], m[1]),),
    meta=("indices", "shape"))


def max_pool3d_op(x, k, s, p, d, outs):
    """(values, indices) of 3-d max pooling over the last three dims of x."""
    shape = tuple(x.shape)
    vals, idx = maxpool3d_np(x._data.reshape((-1,) + shape[-3:]), k, s, p, d, outs)
    lead = shape[:-3]
    vals, idx = vals.reshape(lead + outs), idx.reshape(lead + outs)
    if _state.grad_enabled and x._rg:
        return record(vals, MaxPool3DBackward, (x,), meta=(idx, shape)), _make(idx)
    return _make(vals), _make(idx)


declare("max_pool3d max_pool3d_with_indices", "MaxPool3DWithIndicesBackward0")


# -- average pooling -----------------------------------------------------------------------
def _avgpool3d_np(x, args):
    k, s, p, outs, div, shape = args
    ins = x.shape[-3:]
    x4 = x.reshape((-1,) + ins)
    win = _windows(_pad3(x4, _pool_pads(ins, k, s, p, (1, 1, 1), outs)), k, s, (1, 1, 1), outs)
    y = win.sum(0) / div
    return y.astype(x.dtype, copy=False).reshape(x.shape[:-3] + tuple(outs))


def _avgpool3d_adj_np(g, args):
    k, s, p, outs, div, shape = args
    ins = tuple(shape[-3:])
    gd = (g / div).astype(g.dtype, copy=False).reshape((-1,) + tuple(outs))
    full = tuple(max(n + 2 * pi, (o - 1) * si + ki) for n, pi, o, si, ki in
                 zip(ins, p, outs, s, k))
    xp = np.zeros((gd.shape[0],) + full, g.dtype)
    for pos in np.ndindex(*k):          # kernel positions only
        xp[(slice(None),) + tuple(slice(i, i + si * (o - 1) + 1, si)
                                  for i, si, o in zip(pos, s, outs))] += gd
    out = xp[:, p[0]:p[0] + ins[0], p[1]:p[1] + ins[1], p[2]:p[2] + ins[2]]
    return np.ascontiguousarray(out).reshape(tuple(g.shape[:-3]) + ins)


AVGPOOL3D = _c._LinearPair("avgpool3d", "AvgPool3DBackward0", _avgpool3d_np,
                           "AvgPool3DBackwardBackward0", _avgpool3d_adj_np)
declare("avg_pool3d", "AvgPool3DBackward0")


def avg_pool3d_op(x, k, s, p, ceil, include_pad, divisor_override):
    ins = tuple(x.shape[-3:])
    outs = pool_outs(ins, k, s, p, (1, 1, 1), ceil)
    if divisor_override:
        div = np.full(outs, float(divisor_override))
    else:
        a, b, c = (_c._avg_divisor(n, ki, si, pi, o, include_pad).astype(float)
                   for n, ki, si, pi, o in zip(ins, k, s, p, outs))
        div = a[:, None, None] * b[None, :, None] * c[None, None, :]
    return AVGPOOL3D.f(x, (k, s, p, outs, div, tuple(x.shape)))


# -- adaptive average pooling: y = x averaged by one (o, n) matrix per spatial dim ----------
def _sep3_np(x, mats):
    a, b, c = (m.astype(x.dtype, copy=False) for m in mats)
    y = np.einsum("...dhw,ed,fh,gw->...efg", x, a, b, c, optimize=True)
    return np.ascontiguousarray(y)


def _sep3_adj_np(g, mats):
    return _sep3_np(g, tuple(m.T for m in mats))


ADAPTIVE3D = _c._LinearPair("adaptive_avg3d", "AdaptiveAvgPool3DBackward0", _sep3_np,
                            "AdaptiveAvgPool3DBackwardBackward0", _sep3_adj_np)
declare("adaptive_avg_pool3d", "AdaptiveAvgPool3DBackward0")
# F.pad over three dims: nn_conv.sepmap with one selection matrix per dim
declare("pad", "ReflectionPad3DBackward0", "ReplicationPad3DBackward0")


def adaptive_avg_pool3d_op(x, outs):
    mats = tuple(_c.adaptive_matrix(n, o) for n, o in zip(x.shape[-3:], outs))
    return ADAPTIVE3D.f(x, mats)
