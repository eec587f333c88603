"""torch.linalg's norms (vector_norm, matrix_norm, norm) and its chains of products
(multi_dot, vecdot, and torch.chain_matmul), each declared once with its rule, its vmap rule
and its samples."""
import functools

import numpy as np

from .._tensor import _make
from ._batching import along_dim, arg, composite, reduce_over, set_arg
from ._core import RESULT as _RESULT, Sample as S, defop, normalize_dims, publish, record
from ._record import distinct_dims
from .arithmetic import mul
from .convert import clone
from .linalg import _out, _tensor, fresh_node, matmul
from .linalg_decomp import svdvals
from .linalg_ext import _LEGACY, _recording, _unsq, wide_dom
from .norms import no_identity_check
from .reduction import sum as _sum
from .shape import permute, reshape, unsqueeze, view


# -- norms ---------------------------------------------------------------------------------
def _vnorm_rule(ns, g, meta, x, r):
    ord, dims, keepdim = meta
    xs = tuple(ns.shape(x))
    if not keepdim:
        kd = tuple(1 if i in dims else s for i, s in enumerate(xs))
        g, r = ns.reshape(g, kd), ns.reshape(r, kd)
    if ord == 0:
        return (x * 0,)
    if ord == 1:
        return (g * ns.sign(x),)
    if ord == 2:
        return (x * (g / (r + ns.la_mask_like(r == 0, r))),)
    if ord in (float("inf"), -float("inf")):
        mask = ns.la_mask_like(ns.la_abs(x) == r, x)
        count = ns.sum(mask, axis=dims, keepdims=True)
        return (g * ns.sign(x) * mask / count,)
    ax = ns.la_abs(x)
    rs = r + ns.la_mask_like(r == 0, r)
    return (g * ns.sign(x) * ax ** (ord - 1) / rs ** (ord - 1),)


LinalgVectorNormBackward0 = fresh_node("LinalgVectorNormBackward0", _vnorm_rule,
                                       saved=("self", "result"), meta=("ord", "dim", "keepdim"))


def _norm_np(x, ord, dims, keepdim):
    ax = np.abs(x)
    if ord == 2:
        r = np.sqrt(np.sum(ax * ax, axis=dims, keepdims=keepdim))
    elif ord == float("inf"):
        r = np.max(ax, axis=dims, keepdims=keepdim) if x.size else \
            np.zeros_like(np.sum(ax, axis=dims, keepdims=keepdim))
    elif ord == -float("inf"):
        r = np.min(ax, axis=dims, keepdims=keepdim)
    elif ord == 0:
        r = np.sum(ax != 0, axis=dims, keepdims=keepdim).astype(x.dtype)
    elif ord == 1:
        r = np.sum(ax, axis=dims, keepdims=keepdim)
    else:
        r = np.sum(ax ** ord, axis=dims, keepdims=keepdim) ** (1.0 / ord)
    return np.asarray(r, dtype=x.dtype)

@defop(name="linalg.vector_norm", nodes=(LinalgVectorNormBackward0,), batch=reduce_over(2),
       samples=[S((2, 3), np_ref=lambda x: np.sqrt((x * x).sum())),
                S((2, 3), args=(3,), kwargs={"dim": 1, "keepdim": True}, id="3-dim"),
                S((3, 2), args=(float("inf"),), kwargs={"dim": (0,)}, id="inf"),
                S((2, 3), args=(1,), kwargs={"dim": -1}, id="1"),
                S((4,), args=(-float("inf"),), id="neginf"),
                S((4,), args=(0,), gradgrad=False, id="0")])

def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The ord-norm of x over `dim` (all elements when None), as a vector."""
    if isinstance(ord, str):
        raise TypeError("linalg_vector_norm(): argument 'ord' (position 2) must be Number, "
                        "not str")
    t = _tensor(x)
    if t._data.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_LEGACY.get(t._data.dtype.name, t._data.dtype.name)}")
    if dtype is not None:
        t = t.to(dtype)
    a = t._data
    dims = distinct_dims(normalize_dims(dim, a.ndim)) if a.ndim else ()
    ord = float(ord)
    no_identity_check(a, ord, None if dim is None or not a.ndim else dims)
    if a.ndim:
        data = _norm_np(a, ord, dims if dims else None, keepdim)
    else:                           # a 0-d input: |x|, or for ord=0 whether x is nonzero
        data = (a != 0).astype(a.dtype) if ord == 0 else np.abs(a)
    if _recording(t):
        r = record(np.asarray(data), LinalgVectorNormBackward0, (t,), (t, _RESULT),
                   (ord, dims, keepdim))
    else:
        r = _make(np.asarray(data))
    return _out(r, out)


def _extreme_rule(ns, g, meta, x, r):
    dim, keepdim = meta
    if not keepdim:
        g, r = _unsq(ns, g, dim), _unsq(ns, r, dim)
    m = ns.la_mask_like(x == r, x)
    count = ns.sum(m, axis=dim, keepdims=True)
    return (g * m / count,)


_Amax = fresh_node("AmaxBackward0", _extreme_rule, ("self", "result"), ("dim", "keepdim"))
_Amin = fresh_node("AminBackward0", _extreme_rule, ("self", "result"), ("dim", "keepdim"))


def _extreme(t, dim, keepdim, largest):
    """amax/amin over one dim, ties sharing the gradient evenly (as torch's amax)."""
    x = t._data
    dim = dim % x.ndim
    data = np.asarray(np.max(x, axis=dim, keepdims=keepdim) if largest
                      else np.min(x, axis=dim, keepdims=keepdim))
    if _recording(t):
        return record(data, _Amax if largest else _Amin, (t,), (t, _RESULT), (dim, keepdim))
    return _make(data)


@defop(name="linalg.matrix_norm", nodes=(LinalgVectorNormBackward0, "SumBackward1", _Amax, _Amin),
       batch=along_dim(2, default=(-2, -1)), samples=[
           S((2, 3)), S((3, 2), args=("nuc",), domain=wide_dom, id="nuc"),
           S((2, 3, 2), args=(2,), domain=wide_dom, id="2"),
           S((3, 3), args=(-2,), domain=wide_dom, id="neg2"), S((3, 3), args=(1,), id="1"),
           S((3, 2, 3), args=(-float("inf"),), kwargs={"dim": (0, 2)}, id="neginf-3d"),
           S((3, 2, 2), args=("nuc",), kwargs={"dim": (2, 0), "keepdim": True},
             domain=wide_dom, id="nuc-keepdim")])
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """Matrix norms over the two dims `dim`: 'fro', 'nuc', inf, -inf, 1, -1, 2, -2."""
    t = _tensor(A)
    x = t._data
    if x.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.matrix_norm: Expected a floating point or complex tensor "
                           f"as input. Got {_LEGACY.get(x.dtype.name, x.dtype.name)}")
    if ord not in ("fro", "nuc") and (isinstance(ord, str) or
                                      ord not in (1, -1, 2, -2, float("inf"), -float("inf"))):
        if isinstance(ord, str):
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
        raise RuntimeError(f"linalg.matrix_norm: Order {_fmt(ord)} not supported.")
    d = normalize_dims(tuple(dim), x.ndim)
    if len(d) != 2 or d[0] == d[1]:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, "
                           f"{dim[1]})")
    if dtype is not None:
        t = t.to(dtype)
    if ord == "fro":
        return _out(vector_norm(t, 2, d, keepdim), out)
    if ord in ("nuc", 2, -2):
        rest = [i for i in range(x.ndim) if i not in d]
        perm = tuple(rest) + d
        m = t if perm == tuple(range(x.ndim)) else permute(t, perm)
        if ord == "nuc":
            r = _sum(svdvals(m), -1)
        else:
            r = _extreme(svdvals(m), -1, False, ord == 2)
        if keepdim:
            r = unsqueeze(unsqueeze(r, -1), -1)
            r = permute(r, tuple(int(i) for i in np.argsort(perm)))
        return _out(r, out)
    d0, d1 = d
    if ord in (float("inf"), -float("inf")):
        d0, d1 = d1, d0
    if not keepdim and d0 < d1:
        d1 -= 1
    return _out(_extreme(vector_norm(t, 1, d0, keepdim), d1, keepdim, ord > 0), out)


def _fmt(o):
    return str(int(o)) if float(o).is_integer() else str(o)


def _norm_batching(c, args, kwargs):
    """linalg.norm: an explicit ord without dim is over the whole 1-D or 2-D example."""
    x, ord_, d = args[0], arg(args, kwargs, 1, "ord"), arg(args, kwargs, 2, "dim")
    if d is None and ord_ is not None:
        args, kwargs = set_arg(args, kwargs, 2, "dim", (-2, -1) if x.dim() == 2 else -1)
    return _REDUCE2(c, args, kwargs)


_REDUCE2 = reduce_over(2)


@defop(name="linalg.norm", nodes=(LinalgVectorNormBackward0, "SumBackward1", _Amax, _Amin),
       batch=_norm_batching, samples=[
           S((2, 2, 2)), S((2, 3), args=(1,), kwargs={"dim": 1}, id="1-dim"),
           S((3, 3), args=(float("inf"),), kwargs={"dim": (1, 0), "keepdim": True},
             id="inf-dims"),
           S((3, 3), args=(-1,), id="matrix-neg1"), S((4,), args=(3,), id="vector-3")])
def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """linalg.norm: a vector norm for 1-D (or one dim), a matrix norm for 2-D (or two dims)."""
    t = _tensor(A)
    x = t._data
    if dim is not None:
        dim = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dim) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                               f"Got {list(dim)}")
    elif ord is not None:
        if x.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                               f"be 1D or 2D. Got {x.ndim}D.")
        dim = tuple(range(x.ndim))
    if ord is None:
        if dim is not None and len(dim) == 2:
            return matrix_norm(t, "fro", dim, keepdim, dtype=dtype, out=out)
        return vector_norm(t, 2, dim, keepdim, dtype=dtype, out=out)
    if len(dim) == 2:
        return matrix_norm(t, ord, dim, keepdim, dtype=dtype, out=out)
    if isinstance(ord, str):
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    return vector_norm(t, ord, dim, keepdim, dtype=dtype, out=out)


@defop(name="linalg.multi_dot", nodes=("ViewBackward0",),
       batch=composite(lambda lg, ts, *, out=None: functools.reduce(lg.matmul, ts)), samples=[
           S((3,), (3, 2), (2, 2), pack=True), S((2, 3), (3, 4), (4,), pack=True, id="column"),
           S((2, 3), (3, 2), pack=True, id="two")])
def multi_dot(tensors, *, out=None):
    """Product of a chain of matrices; the first may be a row and the last a column vector."""
    ts = [_tensor(t) for t in tensors]
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    nd = [t._data.ndim for t in ts]
    if nd[0] not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {nd[0]}D")
    if nd[-1] not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {nd[-1]}D")
    for i in range(1, len(ts) - 1):
        if nd[i] != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {nd[i]}D")
    first = ts[0] if nd[0] == 2 else reshape(ts[0], (1, -1))
    last = ts[-1] if nd[-1] == 2 else reshape(ts[-1], (-1, 1))
    mats = [first] + ts[1:-1] + [last]
    for i in range(len(mats) - 1):
        p, q = mats[i]._data.shape, mats[i + 1]._data.shape
        if p[1] != q[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(ts[i]._data.shape)} and {list(ts[i + 1]._data.shape)} "
                               "cannot be multiplied")
    r = mats[0]
    for m in mats[1:]:
        r = matmul(r, m)
    shape = (tuple(r._data.shape[:1]) if nd[0] == 2 else ()) + \
        (tuple(r._data.shape[1:]) if nd[-1] == 2 else ())
    return _out(view(r, shape), out)


@defop(name="linalg.vecdot", nodes=("SumBackward1",),
       batch=composite(lambda lg, x, y, *, dim=-1, out=None: (x * y).sum(dim)), samples=[
           S((2, 3), (3,), np_ref=lambda x, y: (x * y).sum(-1)),
           S((3, 2), (3, 1), kwargs={"dim": 0}, id="dim")])
def vecdot(x, y, *, dim=-1, out=None):
    """Dot product of vectors along `dim`, broadcasting the others."""
    return _out(_sum(mul(x, y), dim), out)

@defop(nodes=("ViewBackward0", "CloneBackward0"), method=False, batch=composite(
    lambda lg, *ms, out=None: lg.linalg.multi_dot(list(ms)) if len(ms) > 1 else ms[0].clone()),
    samples=[S((2, 3), (3, 4), (4, 2)), S((2, 3), (3, 2), id="two"),
             S((2, 3), id="one")])
def chain_matmul(*matrices, out=None):
    """Deprecated product of 2-D matrices (use linalg.multi_dot)."""
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    if len(matrices) == 1:
        return clone(matrices[0])
    return _out(multi_dot(list(matrices)), out)


__all__ = publish(globals())
