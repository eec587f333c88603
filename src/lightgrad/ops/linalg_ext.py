"""torch.linalg: inverses, determinants, solves, the pseudo-inverse and matrix powers (real
dtypes), each declared once with its rule, its vmap rule and its samples.

Rules work on the last two dims, so batches (..., n, n) work. The checks, rule helpers and
sample domains here are shared with linalg_decomp.py and linalg_norms.py."""
import numpy as np

from .._tensor import Tensor, _make
from .._graph.grad_mode import state as _state
from .._graph.graph import SavedOutput
from ._batching import composite, expand_to, leading_batch, vmap_error
from ._core import (NP, RESULT as _RESULT, Sample as S, T, _save, defop, emit, publish,
                    record_multi, with_tangents)
from .linalg import MmBackward0, _out, _tensor, fresh_node, matmul
from .binary_math import where
from .. import return_types


class LinAlgError(RuntimeError):
    """Raised when a linear-algebra routine fails (singular matrix, not positive-definite)."""


LinAlgError.__module__ = "lightgrad.linalg"

_LEGACY = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
           "bool": "Bool", "float16": "Half", "bfloat16": "BFloat16"}


# -- shared checks -------------------------------------------------------------------------
def _check_matrix(name, x, square=True, arg="A"):
    if x.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {arg} must have at least 2 dimensions.")
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{_LEGACY.get(x.dtype.name, x.dtype.name)}")
    if square and x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{x.shape[-2]} by {x.shape[-1]} matrices")


def _batches(x):
    return x.reshape((-1,) + x.shape[-2:])


def _batch_prefix(x, i):
    return f"(Batch element {i}): " if x.ndim > 2 else ""


def _zero_pivot(a):
    """1-based index of the first zero pivot of LU with partial pivoting (LAPACK getrf's
    info), or 0."""
    a = np.array(a, dtype=np.float64)
    n = min(a.shape)
    for j in range(n):
        p = j + int(np.argmax(np.abs(a[j:, j])))
        if a[p, j] == 0:
            return j + 1
        a[[j, p]] = a[[p, j]]
        a[j + 1:, j] /= a[j, j]
        a[j + 1:, j + 1:] -= np.outer(a[j + 1:, j], a[j, j + 1:])
    return 0


def _singular_error(name, x, text):
    for i, m in enumerate(_batches(x)):
        piv = _zero_pivot(m)
        if piv:
            return LinAlgError(f"{name}: {_batch_prefix(x, i)}" + text.format(piv))
    return LinAlgError(f"{name}: " + text.format(1))


class _Out:
    """Marker in `saved`: the op's output number i (saved without a reference cycle)."""
    __slots__ = ("i",)

    def __init__(self, i):
        self.i = i


def _record_outs(datas, cls, inputs, saved, meta=None, bcast=False):
    outs = record_multi(datas, cls, inputs, (), meta, bcast, tangents=False)
    node = outs[0].grad_fn
    node._saved = tuple(SavedOutput(outs[v.i]) if isinstance(v, _Out) else _save(v)
                        for v in saved)
    return with_tangents(outs, node, inputs)


def _recording(*ts):
    return _state.grad_enabled and any(isinstance(t, Tensor) and t._rg for t in ts)


# -- rule-namespace helpers ----------------------------------------------------------------
def _np_tril(x, k=0):
    return np.tril(x, k)


def _t_tril(x, k=0):
    n, m = x._data.shape[-2:]
    return x * _make(np.tril(np.ones((n, m), dtype=x._data.dtype), k))


def _np_mask_like(cond, like):
    return np.asarray(cond).astype(np.result_type(like))


def _t_mask_like(cond, like):
    return _make(np.asarray(cond._data).astype(like._data.dtype))


def _t_abs(x):
    from .elementwise import abs as _abs
    return _abs(x)


def _diag_embed(ns, v):
    """(..., n) -> (..., n, n) with v on the diagonal, from ops both namespaces have."""
    s = tuple(ns.shape(v))
    return ns.reshape(v, s + (1,)) * ns.la_eye(s[-1], s[-1], v)


def _unsq(ns, x, dim):
    s = list(ns.shape(x))
    s.insert(len(s) + 1 + dim if dim < 0 else dim, 1)
    return ns.reshape(x, tuple(s))


NP.la_inv = np.linalg.inv
NP.la_solve = np.linalg.solve
NP.la_tril = _np_tril
T.la_tril = _t_tril
NP.la_mask_like = _np_mask_like
T.la_mask_like = _t_mask_like
NP.la_abs = np.abs
T.la_abs = _t_abs

# -- sample inputs -------------------------------------------------------------------------
def wellcond(shape, rng):
    """A Sample's domain: random square matrices (batches) safely away from singular."""
    a = rng.uniform(-1, 1, shape)
    if len(shape) >= 2 and shape[-1] == shape[-2]:
        a = a + 3 * np.eye(shape[-1])
    return a


def wide_dom(shape, rng):
    """A Sample's domain: distinct, well-separated singular values (svd / pinv stay
    smooth)."""
    a = rng.uniform(-1, 1, shape)
    k = min(shape[-2:])
    a[..., range(k), range(k)] += np.arange(1, k + 1) * 2.0
    return a


# -- inv -----------------------------------------------------------------------------------
def _inv_rule(ns, g, meta, r):
    rt = ns.mT(r)
    return (-(rt @ g @ rt),)


LinalgInvExBackward0 = fresh_node("LinalgInvExBackward0", _inv_rule, saved=("inverse",))


@defop(name="linalg.inv", aliases=("inverse",), nodes=(LinalgInvExBackward0,),
       batch=leading_batch, samples=[
           S((3, 3), domain=wellcond, np_ref=np.linalg.inv),
           S((2, 2, 2), domain=wellcond, id="batch"),
           S((3, 3), domain=wellcond, call=lambda m, x: x.inverse(), id="inverse")])
def inv(A, *, out=None):
    """Inverse of a square matrix (or a batch of them)."""
    a = _tensor(A)
    x = a._data
    _check_matrix("linalg.inv", x)
    try:
        data = np.linalg.inv(x)
    except np.linalg.LinAlgError:
        raise _singular_error("linalg.inv", x, "The diagonal element {} is zero, the inversion "
                              "could not be completed because the input matrix is "
                              "singular.") from None
    return emit(data, LinalgInvExBackward0, (a,), (_RESULT,), out=out)


@defop(name="linalg.inv_ex", nodes=(LinalgInvExBackward0,), batch=leading_batch,
       samples=[S((2, 2), domain=wellcond)])
def inv_ex(A, *, check_errors=False, out=None):
    """(inverse, info): info is 0, or the index of a zero pivot when A is singular."""
    x = _tensor(A)._data
    try:
        r = inv(A)
        info = np.zeros(x.shape[:-2], dtype=np.int32)
    except LinAlgError:
        if check_errors:
            raise
        info = np.array([_zero_pivot(m) for m in _batches(x)], dtype=np.int32)
        info = info.reshape(x.shape[:-2])
        r = _make(np.full(x.shape, np.nan, dtype=x.dtype))
    return return_types.linalg_inv_ex((r, _make(info)))



def _inv_t(x):
    return inv(x)


T.la_inv = _inv_t


# -- det, slogdet --------------------------------------------------------------------------
def _det_rule(ns, g, meta, A, d):
    gd = _unsq(ns, _unsq(ns, g * d, -1), -1)
    return (gd * ns.mT(ns.la_inv(A)),)


LinalgDetBackward0 = fresh_node("LinalgDetBackward0", _det_rule, saved=("A", "result"))

@defop(name="linalg.det", aliases=("det",), nodes=(LinalgDetBackward0,), batch=leading_batch,
       samples=[S((3, 3), np_ref=np.linalg.det), S((2, 2, 2), domain=wellcond, id="batch"),
                S((2, 2), call=lambda m, x: x.det(), id="method")])
def det(A, *, out=None):
    """Determinant of a square matrix (or batch)."""
    a = _tensor(A)
    x = a._data
    _check_matrix("linalg.det", x)
    data = np.asarray(np.linalg.det(x))
    return emit(data, LinalgDetBackward0, (a,), (a, _RESULT), out=out)


def _slogdet_rule(ns, g, meta, A):
    gl = g[1]
    if gl is None:
        return (None,)
    return (_unsq(ns, _unsq(ns, gl, -1), -1) * ns.mT(ns.la_inv(A)),)


LinalgSlogdetBackward0 = fresh_node("LinalgSlogdetBackward0", _slogdet_rule, saved=("A",),
                                    nout=2)


def _slogdet_impl(name, A, kind):
    a = _tensor(A)
    x = a._data
    _check_matrix(name, x)
    sign, logabs = np.linalg.slogdet(x)
    datas = (np.asarray(sign, dtype=x.dtype), np.asarray(logabs, dtype=x.dtype))
    if _recording(a):
        outs = record_multi(datas, LinalgSlogdetBackward0, (a,), (a,))
    else:
        outs = [_make(d) for d in datas]
    return kind(tuple(outs))


@defop(name="linalg.slogdet", nodes=(LinalgSlogdetBackward0,), batch=leading_batch,
       samples=[S((3, 3), domain=wellcond)])
def linalg_slogdet(A, *, out=None):
    """(sign, logabsdet) of det(A), a named tuple."""
    return _slogdet_impl("linalg.slogdet", A, return_types.linalg_slogdet)


@defop(nodes=(LinalgSlogdetBackward0,), batch=leading_batch, samples=[
    S((2, 3, 3), domain=wellcond), S((2, 2), domain=wellcond, method=True, id="method")])
def slogdet(input):
    """torch.slogdet: like linalg.slogdet."""
    return _slogdet_impl("linalg.slogdet", input, return_types.slogdet)


@defop(nodes=("WhereBackward0", LinalgSlogdetBackward0), batch=leading_batch, samples=[
    S((3, 3), domain=wellcond), S((2, 2, 2), domain=wellcond, method=True, id="method"),
    S(make_inputs=lambda rng: [np.array([[1.0, 2.0], [3.0, 4.0]])], grad=False, id="negative")])
def logdet(input):
    """log(det(A)): slogdet's log|det|, nan where the determinant is negative (torch's
    where(sign == -1, nan, logabsdet))."""
    sign, logabs = _slogdet_impl("logdet", input, tuple)
    return where(sign == -1, float("nan"), logabs)


# -- solve ---------------------------------------------------------------------------------
def _solve_rule(ns, g, meta, A, X):
    vec, left = meta
    if not left:
        gB = ns.mT(ns.la_solve(A, ns.mT(g)))
        return -(ns.mT(X) @ gB), gB
    if vec:
        gB = ns.la_solve(ns.mT(A), _unsq(ns, g, -1))
        gA = -(gB @ ns.mT(_unsq(ns, X, -1)))
        s = tuple(ns.shape(gB))
        return gA, ns.reshape(gB, s[:-1])
    gB = ns.la_solve(ns.mT(A), g)
    return -(gB @ ns.mT(X)), gB


LinalgSolveExBackward0 = fresh_node("LinalgSolveExBackward0", _solve_rule, saved=("A", "result"),
                                    meta=("vector", "left"))


def _solve_batching(c, args, kwargs):
    """linalg.solve(A, B): B is a vector (batch) when its shape is A's without the last dim;
    make vectors explicit columns, line the batch dims up, solve, and drop the column."""
    a, b = args[0], args[1]
    left = kwargs.get("left", True)
    vec = b.dim() == 1 or tuple(b.shape) == tuple(a.shape)[:-1]
    if vec and not left:
        raise vmap_error("linalg.solve(left=False) with a vector right side has no batching "
                         "rule")
    b2 = b.unsqueeze(-1) if vec else b
    n = c.size(a, b)
    nd = max(a.dim(), b2.dim())

    def lined_up(t):        # (batch, 1, ..., 1, *t's dims) with nd dims after the batch
        p = expand_to(c, t, n)
        return p.reshape((n,) + (1,) * (nd - t.dim()) + tuple(p.shape[1:]))
    x = c(lined_up(a), lined_up(b2), **kwargs)
    return c.wrap(x[..., 0] if vec else x)


def _solve_np(name, x, y, vec, left=True):
    try:
        if not left:
            return np.swapaxes(np.linalg.solve(np.swapaxes(x, -1, -2), np.swapaxes(y, -1, -2)),
                               -1, -2)
        if vec:
            return np.linalg.solve(x, y[..., None])[..., 0]
        return np.linalg.solve(x, y)
    except np.linalg.LinAlgError:
        for i, m in enumerate(_batches(x)):
            if _zero_pivot(m):
                raise LinAlgError(f"{name}: {_batch_prefix(x, i)}The solver failed because the "
                                  "input matrix is singular.") from None
        raise LinAlgError(f"{name}: The solver failed because the input matrix is "
                          "singular.") from None


@defop(name="linalg.solve", nodes=(LinalgSolveExBackward0,), batch=_solve_batching, samples=[
    S((3, 3), (3, 2), domain=wellcond, np_ref=np.linalg.solve),
    S((3, 3), (3,), domain=wellcond, id="vector"),
    S((2, 3, 3), (3, 2), domain=wellcond, id="broadcast"),
    S((3, 3), (2, 3), domain=wellcond, kwargs={"left": False}, id="right")])
def solve(A, B, *, left=True, out=None):
    """X with A @ X = B (left=True) or X @ A = B; B may be a vector (batch)."""
    a, b = _tensor(A), _tensor(B)
    x, y = a._data, b._data
    _check_matrix("linalg.solve", x)
    if x.dtype != y.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A "
                           f"of type {_leg(x)} and B of type {_leg(y)} instead")
    vec = left and (y.ndim == 1 or (y.ndim == x.ndim - 1 and y.shape == x.shape[:-1]))
    n = x.shape[-1]
    if vec:
        if y.shape[-1] != n:
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                               f"AX = B ({n}x{n} and {y.shape[-1]}x1)")
    else:
        if y.ndim < 2:
            raise RuntimeError("linalg.solve: The input tensor B must have at least 2 "
                               "dimensions.")
        k = y.shape[-2] if left else y.shape[-1]
        if k != n:
            eq = "AX = B" if left else "XA = B"
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                               f"{eq} ({n}x{n} and {y.shape[-2]}x{y.shape[-1]})")
    data = _solve_np("torch.linalg.solve", x, y, vec, left)
    return emit(data, LinalgSolveExBackward0, (a, b), (a, _RESULT), (vec, left), bcast=True,
                out=out)


def _solve_ex_batching(lg, A, B, *, left=True, check_errors=False, out=None):
    info = lg.zeros(tuple(A.shape[:-2]), dtype=lg.int32)
    return return_types.linalg_solve_ex((lg.linalg.solve(A, B, left=left), info))


@defop(name="linalg.solve_ex", nodes=(LinalgSolveExBackward0,),
       batch=composite(_solve_ex_batching), samples=[S((2, 2), (2, 2), domain=wellcond)])
def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """(result, info) of linalg.solve."""
    r = solve(A, B, left=left)
    info = _make(np.zeros(np.broadcast_shapes(_tensor(A)._data.shape[:-2]), dtype=np.int32))
    return return_types.linalg_solve_ex((r, info))


def _leg(x):
    from .._dtype import from_numpy_dtype
    return from_numpy_dtype(x.dtype)._legacy


T.la_solve = lambda a, b: solve(a, b)


# -- pinv ----------------------------------------------------------------------------------
def _pinv_rule(ns, g, meta, A, P):
    Pt, gt = ns.mT(P), ns.mT(g)
    PPt = P @ Pt
    PtP = Pt @ P
    AP = A @ P
    PA = P @ A
    return (-(Pt @ g @ Pt) + gt @ PPt - AP @ (gt @ PPt) + PtP @ gt - (PtP @ gt) @ PA,)


LinalgPinvBackward0 = fresh_node("LinalgPinvBackward0", _pinv_rule, saved=("self", "result"))


@defop(name="linalg.pinv", nodes=(LinalgPinvBackward0,), batch=leading_batch, samples=[
    S((3, 2), domain=wide_dom, np_ref=np.linalg.pinv), S((2, 3), domain=wide_dom, id="wide"),
    S((3, 3), domain=wide_dom, kwargs={"rtol": 0.1}, id="rtol")])
def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """Moore-Penrose pseudo-inverse; singular values below max(atol, rtol * s_max) are
    dropped (default rtol: eps * max(m, n))."""
    a = _tensor(A)
    x = a._data
    if x.ndim < 2 or x.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.pinv({_leg(x)}{{{list(x.shape)}}}): expected a tensor with "
                           "2 or more dimensions of float, double, cfloat or cdouble types")
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    smax = s.max(axis=-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,))
    if atol is None and rtol is None:
        rtol = np.finfo(x.dtype).eps * max(x.shape[-2:])
    cut = np.maximum(0.0 if atol is None else _num(atol), (0.0 if rtol is None else _num(rtol))
                     * smax)
    with np.errstate(divide="ignore"):
        sinv = np.where(s > cut, 1.0 / np.where(s > cut, s, 1.0), 0.0)
    data = (np.swapaxes(vh, -1, -2) * sinv[..., None, :]) @ np.swapaxes(u, -1, -2)
    data = data.astype(x.dtype, copy=False)
    return emit(data, LinalgPinvBackward0, (a,), (a, _RESULT), out=out)


def _num(v):
    v = v._data if isinstance(v, Tensor) else v
    return np.asarray(v)[..., None] if np.ndim(v) else v


@defop(nodes=(LinalgPinvBackward0,), batch=leading_batch,
       samples=[S((2, 2, 3), domain=wide_dom, method=True)])
def pinverse(input, rcond=1e-15):
    """torch.pinverse: pinv with a relative cutoff `rcond`."""
    return pinv(input, rtol=rcond)


# -- matrix_power --------------------------------------------------------------------------
_CopyBackwards = fresh_node("CopyBackwards", lambda ns, g, m: (g * 0,))
_CopyBackwards.name = lambda self: "torch::autograd::CopyBackwards"


@defop(name="linalg.matrix_power", aliases=("matrix_power",),
       nodes=(MmBackward0, LinalgInvExBackward0, _CopyBackwards, "CloneBackward0"),
       batch=leading_batch, samples=[
           S((3, 3), args=(3,)),
           S((2, 2), domain=wellcond, call=lambda m, x: x.matrix_power(-2), id="neg"),
           S((2, 3, 3), args=(0,), id="zero"), S((3, 3), args=(1,), id="one")])
def matrix_power(A, n, *, out=None):
    """A @ A @ ... (n times); n = 0 gives the identity, n < 0 powers of the inverse."""
    a = _tensor(A)
    x = a._data
    if x.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 "
                           "dimensions.")
    if x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but "
                           f"they are {x.shape[-2]} by {x.shape[-1]} matrices")
    if n == 0:
        data = np.broadcast_to(np.eye(x.shape[-1], dtype=x.dtype), x.shape).copy()
        return emit(data, _CopyBackwards, (a,), out=out)
    if n == 1:
        from .convert import clone
        return _out(clone(a), out)
    if n < 0:
        a = inv(a)
        n = -n
        if n == 1:
            return _out(a, out)
    result, z = None, a
    while n:
        if n & 1:
            result = z if result is None else matmul(result, z)
        n >>= 1
        if n:
            z = matmul(z, z)
    return _out(result, out)



__all__ = publish(globals())
