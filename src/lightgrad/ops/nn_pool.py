"""Pooling over one or two spatial dims: F.max_pool1d / 2d (also with indices),
F.avg_pool1d / 2d and the adaptive F.adaptive_avg_pool1d / 2d and F.adaptive_max_pool1d /
2d, each one primitive with torch's node, declared with torch's signature.

Max pooling records one node whose gradient scatters to the argmax positions (kernel
positions internally, flat H*W indices when returned); average pooling is a linear map
declared with its adjoint (_spatial._LinearPair), adaptive average pooling a separable
one (_spatial.sepmap). Arrays are pooled with two spatial dims; 1-d ops pass a unit
height. The 3-d pools are in nn_conv3d.
"""
import numpy as np

from .._tensor import _make
from ._batching import spatial
from ._core import Sample as S, defop, emit, node_class, ns_def, publish
from ._spatial import (_LinearPair, _avg_divisor, _distinct, _pad_arr, _pool_args, _strided,
                       adaptive_matrix, pool_out_size, sepmap)

__all__ = []        # the ops are nn.functional's (F.<name>), imported there by name


# -- kernels -------------------------------------------------------------------------------
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
    overlap = s[0] < d[0] * (k[0] - 1) + 1 or s[1] < d[1] * (k[1] - 1) + 1
    return emit(vals, MaxPool2DBackward, (x,), meta=(am, (shape, k, s, p, d, overlap))), idx


class _LazyIndices:
    """The indices output, computed only when asked for (max_pool2d rarely returns them)."""
    __slots__ = ("args",)

    def __init__(self, *args):
        self.args = args

    def tensor(self):
        return _make(flat_indices(*self.args))




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
    return emit(vals, AdaptiveMaxPool2DBackward0, (x,), meta=(idx, tuple(shape))), _make(idx)


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


# -- torch's arguments and checks ----------------------------------------------------------
def _check_out(x, outs):
    if any(o <= 0 for o in outs):
        C = x.shape[-3] if x.ndim >= 3 else 1
        ins = "x".join(str(v) for v in (C,) + tuple(x.shape[-2:]))
        os_ = "x".join(str(v) for v in (C,) + tuple(outs))
        raise RuntimeError(f"Given input size: ({ins}). Calculated output size: ({os_}). Output "
                           "size is too small")


def _pool2d_out(x, k, s, p, d, ceil):
    H, W = x.shape[-2:]
    outs = (pool_out_size(H, k[0], s[0], p[0], d[0], ceil),
            pool_out_size(W, k[1], s[1], p[1], d[1], ceil))
    _check_out(x, outs)


def _adaptive_size(output_size, shape, nd):
    outs = output_size if isinstance(output_size, (list, tuple)) else (output_size,) * nd
    return tuple(shape[-nd + i] if o is None else int(o) for i, o in enumerate(outs))


# -- the public pools ----------------------------------------------------------------------
@defop(name="F.max_pool2d_with_indices", nodes=(MaxPool2DBackward,), batch=spatial(3),
       samples=[S((1, 2, 4, 4), args=(2,), domain=_distinct),
                S((2, 5, 4), args=(3,), kwargs={"stride": 2, "padding": 1},
                  domain=_distinct, id="unbatched-pad")])
def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """2-d max pooling and the flat (H*W) argmax positions."""
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, 2)
    if input.ndim not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    _pool2d_out(input, k, s, p, d, ceil_mode)
    out, idx = max_pool2d_op(input, k, s, p, d, ceil_mode)
    return out, idx.tensor()


@defop(name="F.max_pool2d", nodes=(MaxPool2DBackward,), batch=spatial(3), samples=[
    S((1, 2, 4, 4), args=(2,), domain=_distinct),
    S((2, 5, 4), args=(3,), kwargs={"stride": 2, "padding": 1, "ceil_mode": True,
                                    "return_indices": True},
      domain=_distinct, id="pad-ceil-indices"),
    S((1, 1, 4, 5), args=((2, 2),), kwargs={"stride": 1, "dilation": 2}, domain=_distinct,
      id="dilated-overlap")])
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-d max pooling; with return_indices also the flat (H*W) argmax positions."""
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, 2)
    if input.ndim not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    _pool2d_out(input, k, s, p, d, ceil_mode)
    out, idx = max_pool2d_op(input, k, s, p, d, ceil_mode)
    return (out, idx.tensor()) if return_indices else out


@defop(name="F.max_pool1d_with_indices", nodes=(MaxPool2DBackward,), batch=spatial(2),
       samples=[S((2, 2, 5), args=(2,), kwargs={"stride": 1}, domain=_distinct)])
def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """1-d max pooling over the last dim and the argmax positions."""
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, 1)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"max_pool1d() Expected 2D or 3D input tensor, but got "
                           f"{list(input.shape)}")
    x = input.unsqueeze(-2)
    _pool2d_out(x, (1,) + k, (1,) + s, (0,) + p, (1,) + d, ceil_mode)
    out, idx = max_pool2d_op(x, (1,) + k, (1,) + s, (0,) + p, (1,) + d, ceil_mode)
    return out.squeeze(-2), idx.tensor().squeeze(-2)


@defop(name="F.max_pool1d", nodes=(MaxPool2DBackward,), batch=spatial(2), samples=[
    S((2, 2, 5), args=(2,), kwargs={"stride": 1}, domain=_distinct)])
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-d max pooling over the last dim."""
    out, idx = max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, idx) if return_indices else out


@defop(name="F.avg_pool2d", nodes=(AVGPOOL.fcls,), batch=spatial(3), samples=[
    S((1, 2, 4, 4), args=(2,)),
    S((1, 2, 4, 5), args=(3,), kwargs={"stride": 2, "padding": 1, "ceil_mode": True,
                                       "count_include_pad": False}, id="pad-ceil"),
    S((2, 3, 3), args=(2,), kwargs={"stride": 1, "divisor_override": 3}, id="divisor")])
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-d average pooling."""
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1, 2)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    _pool2d_out(input, k, s, p, (1, 1), ceil_mode)
    return avg_pool2d_op(input, k, s, p, ceil_mode, count_include_pad, divisor_override)


@defop(name="F.avg_pool1d", nodes=(AVGPOOL.fcls,), batch=spatial(2), samples=[
    S((2, 2, 5), args=(3,), kwargs={"stride": 2, "padding": 1})])
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-d average pooling over the last dim."""
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1, 1)
    x = input.unsqueeze(-2)
    out = avg_pool2d_op(x, (1,) + k, (1,) + s, (0,) + p, ceil_mode, count_include_pad, None)
    return out.squeeze(-2)


@defop(name="F.adaptive_avg_pool2d", nodes=("AdaptiveAvgPool2DBackward0",), batch=spatial(3),
       samples=[S((1, 2, 5, 4), args=((2, 3),)),
                S((2, 2, 3, 3), args=(1,), id="global")])
def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (torch's windows floor(i*n/o)..ceil)."""
    outs = _adaptive_size(output_size, input.shape, 2)
    if outs == (1, 1):
        return input.mean((-2, -1), keepdim=True)      # as torch: a MeanBackward1 node
    H, W = input.shape[-2:]
    return sepmap(input, (adaptive_matrix(H, outs[0]), adaptive_matrix(W, outs[1])),
                  "AdaptiveAvgPool2DBackward0")


@defop(name="F.adaptive_avg_pool1d", nodes=("AdaptiveAvgPool2DBackward0",), batch=spatial(2),
       samples=[S((2, 2, 5), args=(3,))])
def adaptive_avg_pool1d(input, output_size):
    """Average pooling over the last dim to a fixed size."""
    o = _adaptive_size(output_size, input.shape, 1)
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1,) + o).squeeze(-2)


@defop(name="F.adaptive_max_pool2d", nodes=(AdaptiveMaxPool2DBackward0,), batch=spatial(3),
       samples=[S((1, 2, 5, 3), args=((2, 2),), domain=_distinct)])
def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size."""
    outs = _adaptive_size(output_size, input.shape, 2)
    out, idx = adaptive_max_pool2d_op(input, outs)
    return (out, idx) if return_indices else out


@defop(name="F.adaptive_max_pool1d", nodes=(AdaptiveMaxPool2DBackward0,), batch=spatial(2),
       samples=[S((2, 2, 5), args=(3,), domain=_distinct),
                S((2, 5), args=(2,), kwargs={"return_indices": True}, domain=_distinct,
                  id="unbatched-indices")])
def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling over the last dim to a fixed size."""
    o = _adaptive_size(output_size, input.shape, 1)
    out, idx = adaptive_max_pool2d_op(input.unsqueeze(-2), (1,) + o)
    out, idx = out.squeeze(-2), idx.squeeze(-2)
    return (out, idx) if return_indices else out


publish(globals())   # each op here bound to its public function, which dispatches under vmap
