"""Helpers of the spatial op families (nn_conv, nn_conv3d, nn_pool, nn_spatial): strided
window views, padding, torch's size arithmetic and argument tuples, and the linear maps
declared with their adjoints (`_LinearPair`, `sepmap`). No op is declared here; the
families import these, and this module imports none of them.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._tensor import Tensor
from ._core import emit, node_class, ns_def


# -- arrays --------------------------------------------------------------------------------
def _rg(t):
    return isinstance(t, Tensor) and t._rg


def _strided(a, shape, strides, writeable=False):
    """A strided view of a; the ndarray constructor is ~10x cheaper than as_strided and
    serves every contiguous (freshly padded) array."""
    if a.flags.c_contiguous:
        v = np.ndarray(shape, a.dtype, a, 0, strides)
        if type(a) is not np.ndarray:
            v = v.view(type(a))     # an ndarray subclass (lightgrad.compile's trace) stays one
        if not writeable:
            v.flags.writeable = False
        return v
    return as_strided(a, shape, strides, writeable=writeable)


def _pad_arr(x, pads, value=0.0):
    """x (..., H, W) padded by pads ((top, bottom), (left, right)) >= 0."""
    (a0, a1), (b0, b1) = pads
    if not (a0 or a1 or b0 or b1):
        return x
    H, W = x.shape[-2:]
    shape = x.shape[:-2] + (H + a0 + a1, W + b0 + b1)
    out = np.empty_like(x, order="C", shape=shape)    # (like x: compile traces it)
    out.fill(value)
    out[..., a0:a0 + H, b0:b0 + W] = x
    return out


def _out_size(n, k, s, d, lo, hi):
    return (n + lo + hi - d * (k - 1) - 1) // s + 1


def _gemm(a, b):
    return a[0] @ b[0] if a.shape[0] == 1 else np.matmul(a, b)


# -- torch's arguments and sizes ----------------------------------------------------------
def _tuple(v, n):
    """An int or a sequence of them as an n-tuple (a 1-sequence is repeated), as torch."""
    if isinstance(v, (list, tuple)):
        if len(v) == 1 and n > 1:
            return tuple(int(v[0]) for _ in range(n))
        return tuple(int(a) for a in v)
    return (int(v),) * n


def _pool_args(kernel_size, stride, padding, dilation, nd):
    k = _tuple(kernel_size, nd)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) \
        else _tuple(stride, nd)
    p = _tuple(padding, nd)
    d = _tuple(dilation, nd)
    if any(v == 0 for v in s):
        raise RuntimeError("stride should not be zero")
    for ki, pi, di in zip(k, p, d):
        if pi > (di * (ki - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pi}, kernel_size={ki} and dilation={di}")
    return k, s, p, d


def pool_out_size(n, k, s, lo, d, ceil):
    """torch's pooling output size (with ceil_mode's rule that the last window starts
    inside the input or the left padding)."""
    num = n + 2 * lo - d * (k - 1) - 1
    o = (-(-num // s) if ceil else num // s) + 1
    if ceil and (o - 1) * s >= n + lo:
        o -= 1
    return o


def _avg_divisor(n, k, s, p, outs, include_pad):
    """Per-output divisors along one dim, as torch computes them."""
    start = np.arange(outs) * s - p
    end = np.minimum(start + k, n + p)
    size = end - start
    start = np.maximum(start, 0)
    end = np.minimum(end, n)
    return size if include_pad else end - start


def adaptive_matrix(n, o):
    """(o, n) averaging matrix of adaptive pooling: window i is [floor(i*n/o), ceil((i+1)*n/o))."""
    m = np.zeros((o, n))
    for i in range(o):
        a, b = (i * n) // o, -(-((i + 1) * n) // o)
        m[i, a:b] = 1.0 / (b - a)
    return m


def _distinct(shape, rng):
    """Samples' values: well separated, so max pooling's argmax survives gradcheck's
    nudges."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 - n * 0.05).reshape(shape)


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
        return emit(self.f_np(x._data, args), self.fcls, (x,), meta=args)

    def a(self, x, args):
        return emit(self.a_np(x._data, args), self.acls, (x,), meta=args)


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
