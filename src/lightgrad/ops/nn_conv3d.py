"""3-d pooling (F.max_pool3d, F.max_pool3d_with_indices, F.avg_pool3d,
F.adaptive_avg_pool3d), declared with torch's signature, and the 3-d convolution and
pooling kernels, over (N, C, D, H, W) arrays.

The 3-d convolutions (F.conv3d, F.conv_transpose3d) are the ops of ops.nn_conv: its array
kernels conv_np / conv_bi_np / conv_bw_np hand 5-d arrays to the kernels here, so F, Bi and
Bw (and with them gradients of any order, and the transposed convolution) work in 3-d
unchanged. The kernels work channels-last inside, as the 2-d ones do: im2col through a
strided view plus one BLAS matmul per group.

Pooling: max pooling is a primitive with its own node (the gradient scatters to the flat
argmax indices, which are also what return_indices gives); average and adaptive average
pooling are linear maps declared with their adjoints (_spatial._LinearPair).
"""
import numpy as np

from .._tensor import _make
from ._batching import spatial
from ._core import Sample as S, defop, emit, node_class, ns_def, publish
from ._spatial import (_LinearPair, _avg_divisor, _distinct, _gemm, _out_size, _pool_args,
                       _strided, _tuple, adaptive_matrix, pool_out_size)

__all__ = []        # the ops are nn.functional's (F.<name>), imported there by name


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
    v = _strided(xp, (G, N) + tuple(outs) + tuple(k) + (Cg,),
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
    y = _gemm(col, _w_mat(w, G))
    y = y.reshape((G,) + y.shape[-2:])
    if b is not None:
        y += b.reshape(G, 1, -1)
    return _to_ncdhw(y, G, xp.shape[0], outs)


def conv3d_np(x, w, p, b=None, keep=None):
    """F(x, w) for x (N, C, D, H, W), w (Co, C/groups, kd, kh, kw); p as in nn_conv."""
    s, pads, d, G = p
    ins, k = x.shape[2:], w.shape[2:]
    outs = tuple(_out_size(n, ki, si, di, lo, hi)
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
    gw = _gemm(col.transpose(0, 2, 1), _rows(g, G))
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
    v = _strided(xp, tuple(k) + (xp.shape[0],) + tuple(outs),
                    (s1 * d[0], s2 * d[1], s3 * d[2], s0, s1 * s[0], s2 * s[1], s3 * s[2]))
    return v.reshape((int(np.prod(k)), xp.shape[0]) + tuple(outs))


def pool_outs(ins, k, s, p, d, ceil):
    return tuple(pool_out_size(n, ki, si, pi, di, ceil)
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
    return emit(vals, MaxPool3DBackward, (x,), meta=(idx, shape)), _make(idx)




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


AVGPOOL3D = _LinearPair("avgpool3d", "AvgPool3DBackward0", _avgpool3d_np,
                         "AvgPool3DBackwardBackward0", _avgpool3d_adj_np)


def avg_pool3d_op(x, k, s, p, ceil, include_pad, divisor_override):
    ins = tuple(x.shape[-3:])
    outs = pool_outs(ins, k, s, p, (1, 1, 1), ceil)
    if divisor_override:
        div = np.full(outs, float(divisor_override))
    else:
        a, b, c = (_avg_divisor(n, ki, si, pi, o, include_pad).astype(float)
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


ADAPTIVE3D = _LinearPair("adaptive_avg3d", "AdaptiveAvgPool3DBackward0", _sep3_np,
                          "AdaptiveAvgPool3DBackwardBackward0", _sep3_adj_np)


def adaptive_avg_pool3d_op(x, outs):
    mats = tuple(adaptive_matrix(n, o) for n, o in zip(x.shape[-3:], outs))
    return ADAPTIVE3D.f(x, mats)


# -- the public 3-d pools: torch's arguments and checks ------------------------------------
def _bad_len(v, n):
    return isinstance(v, (list, tuple)) and len(v) not in (1, n)


def _check_ndim(input):
    if input.ndim not in (4, 5):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")


def _check_outs(input, outs):
    if any(o <= 0 for o in outs):
        C = input.shape[-4]
        ins = "x".join(str(v) for v in (C,) + tuple(input.shape[-3:]))
        os_ = "x".join(str(v) for v in (C,) + tuple(outs))
        raise RuntimeError(f"Given input size: ({ins}). Calculated output size: ({os_}). "
                           "Output size is too small")


def _max_args(kernel_size, stride, padding, dilation):
    if _bad_len(kernel_size, 3):
        raise RuntimeError("max_pool3d: kernel_size must either be a single int, or a tuple of "
                           "three ints")
    if stride is not None and _bad_len(stride, 3) and len(stride):
        raise RuntimeError("max_pool3d: stride must either be omitted, a single int, or a "
                           "tuple of three ints")
    if _bad_len(padding, 3):
        raise RuntimeError("max_pool3d: padding must either be a single int, or a tuple of "
                           "three ints")
    if _bad_len(dilation, 3):
        raise RuntimeError("max_pool3d: dilation must be either a single int, or a tuple of "
                           "three ints")
    if stride is not None and not isinstance(stride, (list, tuple)) and int(stride) == 0 or \
            isinstance(stride, (list, tuple)) and any(int(v) == 0 for v in stride):
        raise RuntimeError("stride should not be zero")


@defop(name="F.max_pool3d_with_indices", nodes=(MaxPool3DBackward,), batch=spatial(4),
       samples=[S((1, 2, 2, 3, 4), args=((1, 2, 2),), domain=_distinct)])
def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """3-d max pooling and the flat (D*H*W) argmax positions."""
    _max_args(kernel_size, stride, padding, dilation)
    _check_ndim(input)
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, 3)
    outs = pool_outs(tuple(input.shape[-3:]), k, s, p, d, ceil_mode)
    _check_outs(input, outs)
    return max_pool3d_op(input, k, s, p, d, outs)


@defop(name="F.max_pool3d", nodes=(MaxPool3DBackward,), batch=spatial(4), samples=[
    S((1, 2, 4, 4, 4), args=(2,), domain=_distinct),
    S((2, 3, 4, 5), args=(3,), kwargs={"stride": 2, "padding": 1, "ceil_mode": True,
                                       "return_indices": True},
      domain=_distinct, id="unbatched-pad-ceil-indices"),
    S((1, 1, 3, 4, 4), args=((2, 1, 2),), kwargs={"stride": 1, "dilation": 2},
      domain=_distinct, id="dilated-overlap")])
def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """3-d max pooling over (N, C, D, H, W) or (C, D, H, W): `F.max_pool3d(x, 2)`."""
    out, idx = max_pool3d_with_indices(input, kernel_size, stride, padding, dilation,
                                       ceil_mode)
    return (out, idx) if return_indices else out


@defop(name="F.avg_pool3d", nodes=(AVGPOOL3D.fcls,), batch=spatial(4), samples=[
    S((1, 2, 4, 4, 4), args=(2,)),
    S((1, 1, 3, 4, 5), args=(3,), kwargs={"stride": 2, "padding": 1, "ceil_mode": True,
                                          "count_include_pad": False}, id="pad-ceil"),
    S((2, 3, 3, 3), args=(2,), kwargs={"stride": 1, "divisor_override": 3},
      id="unbatched-divisor")])
def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-d average pooling over (N, C, D, H, W) or (C, D, H, W)."""
    if _bad_len(kernel_size, 3):
        raise RuntimeError("avg_pool3d: kernel_size must be a single int, or a tuple of three "
                           "ints")
    if stride is not None and _bad_len(stride, 3) and len(stride):
        raise RuntimeError("avg_pool3d: stride must be omitted, a single int, or a tuple of "
                           "three ints")
    if _bad_len(padding, 3):
        raise RuntimeError("avg_pool3d: padding must be a single int, or a tuple of three ints")
    k = _tuple(kernel_size, 3)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) \
        else _tuple(stride, 3)
    if any(v == 0 for v in s):
        raise RuntimeError("stride should not be zero")
    _check_ndim(input)
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1, 3)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    ins = tuple(input.shape[-3:])
    if any(n < ki for n, ki in zip(ins, k)):
        raise RuntimeError(f"input image (T: {ins[0]} H: {ins[1]} W: {ins[2]}) smaller than "
                           f"kernel size (kT: {k[0]} kH: {k[1]} kW: {k[2]})")
    _check_outs(input, pool_outs(ins, k, s, p, (1, 1, 1), ceil_mode))
    return avg_pool3d_op(input, k, s, p, ceil_mode, count_include_pad, divisor_override)


@defop(name="F.adaptive_avg_pool3d", nodes=(ADAPTIVE3D.fcls,), batch=spatial(4), samples=[
    S((1, 2, 3, 5, 4), args=((2, 3, 2),)),
    S((2, 2, 2, 2, 2), args=(1,), id="global")])
def adaptive_avg_pool3d(input, output_size):
    """Average pooling to a fixed (D, H, W) (torch's windows floor(i*n/o)..ceil); None
    keeps the input's size."""
    if input.ndim not in (4, 5):
        raise RuntimeError(f"adaptive_avg_pool3d(): Expected 4D or 5D tensor, but got "
                           f"{list(input.shape)}")
    outs = output_size if isinstance(output_size, (list, tuple)) else (output_size,) * 3
    if len(outs) != 3:
        raise RuntimeError("adaptive_avg_pool3d: output_size must be 3")
    outs = tuple(input.shape[-3 + i] if o is None else int(o) for i, o in enumerate(outs))
    if any(o < 0 for o in outs):
        raise RuntimeError("adaptive_avg_pool3d: elements of output_size must be greater than "
                           f"or equal to 0 but received {{{outs[0]}, {outs[1]},{outs[2]}}}")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"adaptive_avg_pool3d_cpu\" not implemented for "
                                  f"'{input.dtype._legacy}'")
    if outs == (1, 1, 1):
        return input.mean((-3, -2, -1), keepdim=True)     # as torch: a MeanBackward1 node
    return adaptive_avg_pool3d_op(input, outs)


publish(globals())   # each op here bound to its public function, which dispatches under vmap
