"""torch.linalg: inverses, determinants, solves, decompositions and norms, each beside its
derivative rule (real dtypes). Rules work on the last two dims, so batches (..., n, n) work.

Decompositions whose signs depend on LAPACK (eigh, svd, qr) are unique only up to a gauge;
their gradients are the usual gauge-invariant formulas (as in torch's FunctionsManual.cpp).
"""
import numpy as np

from .._tensor import Tensor, _make
from .._graph.grad_mode import state as _state
from .._graph.graph import SavedOutput
from ._core import (NP, RESULT as _RESULT, T, _save, declare, record, record_multi,
                    with_tangents)
from .linalg import _out, _tensor, fresh_node, matmul, matmul_general  # noqa: F401
from .. import return_types

__all__ = ["det", "inverse", "slogdet", "logdet", "pinverse", "matrix_power", "svd", "qr",
           "cholesky_inverse"]


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


# -- inv -----------------------------------------------------------------------------------
def _inv_rule(ns, g, meta, r):
    rt = ns.mT(r)
    return (-(rt @ g @ rt),)


LinalgInvExBackward0 = fresh_node("LinalgInvExBackward0", _inv_rule, saved=("inverse",))


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
    if _recording(a):
        r = record(data, LinalgInvExBackward0, (a,), (_RESULT,))
    else:
        r = _make(data)
    return _out(r, out)


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


inverse = inv


def _inv_t(x):
    return inv(x)


T.la_inv = _inv_t


# -- det, slogdet --------------------------------------------------------------------------
def _det_rule(ns, g, meta, A, d):
    gd = _unsq(ns, _unsq(ns, g * d, -1), -1)
    return (gd * ns.mT(ns.la_inv(A)),)


LinalgDetBackward0 = fresh_node("LinalgDetBackward0", _det_rule, saved=("A", "result"))


def det(A, *, out=None):
    """Determinant of a square matrix (or batch)."""
    a = _tensor(A)
    x = a._data
    _check_matrix("linalg.det", x)
    data = np.asarray(np.linalg.det(x))
    if _recording(a):
        r = record(data, LinalgDetBackward0, (a,), (a, _RESULT))
    else:
        r = _make(data)
    return _out(r, out)


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


def linalg_slogdet(A, *, out=None):
    """(sign, logabsdet) of det(A), a named tuple."""
    return _slogdet_impl("linalg.slogdet", A, return_types.linalg_slogdet)


def slogdet(input):
    """torch.slogdet: like linalg.slogdet."""
    return _slogdet_impl("linalg.slogdet", input, return_types.slogdet)


def logdet(input):
    """log(det(A)); nan for a negative determinant."""
    from .elementwise import log
    return log(det(input))


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
    if _recording(a, b):
        r = record(data, LinalgSolveExBackward0, (a, b), (a, _RESULT), (vec, left), bcast=True)
    else:
        r = _make(data)
    return _out(r, out)


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """(result, info) of linalg.solve."""
    r = solve(A, B, left=left)
    info = _make(np.zeros(np.broadcast_shapes(_tensor(A)._data.shape[:-2]), dtype=np.int32))
    return return_types.linalg_solve_ex((r, info))


def _leg(x):
    from .._dtype import from_numpy_dtype
    return from_numpy_dtype(x.dtype)._legacy


T.la_solve = lambda a, b: solve(a, b)


# -- cholesky ------------------------------------------------------------------------------
def _cholesky_rule(ns, g, upper, L):
    if upper:
        L, g = ns.mT(L), ns.mT(g)
    P = ns.la_tril(ns.mT(L) @ g)
    X = (P + ns.mT(ns.la_tril(P, -1))) * 0.5
    Y = ns.la_solve(ns.mT(L), X)
    return (ns.mT(ns.la_solve(ns.mT(L), ns.mT(Y))),)


LinalgCholeskyExBackward0 = fresh_node("LinalgCholeskyExBackward0", _cholesky_rule,
                                       saved=("L",), meta=("upper",))


def cholesky(A, *, upper=False, out=None):
    """Lower (or upper) Cholesky factor of a symmetric positive-definite matrix."""
    a = _tensor(A)
    x = a._data
    _check_matrix("linalg.cholesky", x)
    try:
        data = np.linalg.cholesky(x)
    except np.linalg.LinAlgError:
        for i, m in enumerate(_batches(x)):
            for k in range(1, m.shape[0] + 1):
                try:
                    np.linalg.cholesky(m[:k, :k])
                except np.linalg.LinAlgError:
                    raise LinAlgError(
                        f"linalg.cholesky: {_batch_prefix(x, i)}The factorization could not be "
                        f"completed because the input is not positive-definite (the leading "
                        f"minor of order {k} is not positive-definite).") from None
        raise
    if upper:
        data = np.swapaxes(data, -1, -2).copy()
    if _recording(a):
        r = record(data, LinalgCholeskyExBackward0, (a,), (_RESULT,), upper)
    else:
        r = _make(data)
    return _out(r, out)


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """(L, info) of linalg.cholesky."""
    x = _tensor(A)._data
    try:
        r = cholesky(A, upper=upper)
        info = np.zeros(x.shape[:-2], dtype=np.int32)
    except LinAlgError:
        if check_errors:
            raise
        r = _make(np.full(x.shape, np.nan, dtype=x.dtype))
        info = np.ones(x.shape[:-2], dtype=np.int32)
    return return_types.linalg_cholesky_ex((r, _make(info)))


def cholesky_inverse(L, upper=False, *, out=None):
    """Inverse of A from its Cholesky factor."""
    Lt = _tensor(L)
    A = matmul(Lt.mT, Lt) if upper else matmul(Lt, Lt.mT)
    return _out(inv(A), out)


# -- eigh ----------------------------------------------------------------------------------
def _eigh_rule(ns, g, meta, w, V):
    gw, gV = g
    Vt = ns.mT(V)
    if gV is None:
        return (V @ (_unsq(ns, gw, -1) * Vt),)
    n = ns.shape(w)[-1]
    eye = ns.la_eye(n, n, w)
    E = _unsq(ns, w, -2) - _unsq(ns, w, -1) + eye
    VhgV = Vt @ gV
    # only the skew part is seen by an orthogonal V; this makes gA symmetric, as torch's
    F = (VhgV - ns.mT(VhgV)) * 0.5 / E * (1 - eye)
    if gw is not None:
        F = F + _diag_embed(ns, gw)
    return (V @ F @ Vt,)


LinalgEighBackward0 = fresh_node("LinalgEighBackward0", _eigh_rule,
                                 saved=("eigenvalues", "eigenvectors"), nout=2)


def eigh(A, UPLO="L", *, out=None):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix."""
    a = _tensor(A)
    x = a._data
    _check_matrix("linalg.eigh", x)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    w, V = np.linalg.eigh(x, UPLO=UPLO)
    datas = (w.astype(x.dtype, copy=False), V.astype(x.dtype, copy=False))
    if _recording(a):
        outs = _record_outs(datas, LinalgEighBackward0, (a,), (_Out(0), _Out(1)))
    else:
        outs = [_make(d) for d in datas]
    return return_types.linalg_eigh(tuple(outs))


def eigvalsh(A, UPLO="L", *, out=None):
    """Eigenvalues of a symmetric matrix, ascending."""
    if not _recording(_tensor(A)):
        x = _tensor(A)._data
        _check_matrix("linalg.eigvalsh", x)
        return _out(_make(np.linalg.eigvalsh(x, UPLO=UPLO).astype(x.dtype, copy=False)), out)
    return _out(eigh(A, UPLO)[0], out)


# -- svd -----------------------------------------------------------------------------------
def _svd_rule(ns, g, meta, U, S, Vh):
    full, m, n = meta
    gU, gS, gVh = g
    k = min(m, n)
    if full and m != n:          # the extra columns of U or rows of Vh get no gradient
        if m > n:
            U = ns.getitem(U, (Ellipsis, slice(None), slice(0, k)))
            gU = None if gU is None else ns.getitem(gU, (Ellipsis, slice(None), slice(0, k)))
        else:
            Vh = ns.getitem(Vh, (Ellipsis, slice(0, k), slice(None)))
            gVh = None if gVh is None else ns.getitem(gVh, (Ellipsis, slice(0, k),
                                                            slice(None)))
    if gU is None and gS is None and gVh is None:
        return (None,)
    V = ns.mT(Vh)
    gV = None if gVh is None else ns.mT(gVh)
    Sr, Sc = _unsq(ns, S, -2), _unsq(ns, S, -1)
    if gU is None and gV is None:
        return (U @ (_unsq(ns, gS, -1) * Vh),)
    S2 = S * S
    eye = ns.la_eye(k, k, S)
    E = _unsq(ns, S2, -2) - _unsq(ns, S2, -1) + eye
    if gU is not None:
        UhgU = ns.mT(U) @ gU
        UhgU = UhgU - ns.mT(UhgU)
    if gV is not None:
        VhgV = Vh @ gV
        VhgV = VhgV - ns.mT(VhgV)
    if gU is not None and gV is not None:
        gA = (UhgU * Sr + Sc * VhgV) / E
    elif gU is not None:
        gA = UhgU / E * Sr
    else:
        gA = Sc * (VhgV / E)
    if gS is not None:
        gA = gA + _diag_embed(ns, gS)
    if m > n and gU is not None:
        gA = U @ gA
        gUSinv = gU / Sr
        gA = gA + gUSinv - U @ (ns.mT(U) @ gUSinv)
        gA = gA @ Vh
    elif m < n and gV is not None:
        gA = gA @ Vh
        gVSinv = gV / Sr
        gA = gA + ns.mT(gVSinv) - (ns.mT(gVSinv) @ V) @ Vh
        gA = U @ gA
    else:
        gA = U @ (gA @ Vh)
    return (gA,)


LinalgSvdBackward0 = fresh_node("LinalgSvdBackward0", _svd_rule, saved=("U", "S", "Vh"),
                                meta=("full_matrices", "m", "n"), nout=3)


def linalg_svd(A, full_matrices=True, *, driver=None, out=None):
    """A = U diag(S) Vh, S descending; a named tuple (U, S, Vh)."""
    a = _tensor(A)
    x = a._data
    _check_matrix("linalg.svd", x, square=False)
    U, S, Vh = np.linalg.svd(x, full_matrices=full_matrices)
    datas = tuple(d.astype(x.dtype, copy=False) for d in (U, S, Vh))
    if _recording(a):
        outs = _record_outs(datas, LinalgSvdBackward0, (a,), (_Out(0), _Out(1), _Out(2)),
                            (full_matrices, x.shape[-2], x.shape[-1]))
    else:
        outs = [_make(d) for d in datas]
    return return_types.linalg_svd(tuple(outs))


def svdvals(A, *, driver=None, out=None):
    """Singular values of A, descending."""
    a = _tensor(A)
    if not _recording(a):
        x = a._data
        _check_matrix("linalg.svdvals", x, square=False)
        return _out(_make(np.linalg.svd(x, compute_uv=False).astype(x.dtype, copy=False)), out)
    return _out(linalg_svd(a, full_matrices=False)[1], out)


def torch_svd(input, some=True, compute_uv=True, *, out=None):
    """torch.svd: (U, S, V) with V = Vh^T."""
    U, S, Vh = linalg_svd(input, full_matrices=not some)
    return return_types.svd((U, S, Vh.mT))


# -- qr ------------------------------------------------------------------------------------
def _qr_square_rule(ns, gQ, gR, Q, R):
    """m >= n (reduced): gA = (gQ + Q copyltu(M)) R^{-T}, M = R gR^T - gQ^T Q."""
    M = None
    if gR is not None:
        M = R @ ns.mT(gR)
    if gQ is not None:
        M = -(ns.mT(gQ) @ Q) if M is None else M - ns.mT(gQ) @ Q
    low = ns.la_tril(M, -1)
    sym = low + ns.mT(low) + ns.la_tril(M) - low
    b = Q @ sym
    if gQ is not None:
        b = b + gQ
    return ns.mT(ns.la_solve(R, ns.mT(b)))


def _qr_rule(ns, g, meta, Q, R):
    mode, m, n = meta
    gQ, gR = g
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                           "when mode='r'. Please use linalg.qr(A, mode='reduced') if you are "
                           "going to differentiate through linalg.qr.")
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                           "and nrows > ncols.")
    if m >= n:
        return (_qr_square_rule(ns, gQ, gR, Q, R),)
    # wide A = [X | Y] = Q [U | V]: X = Q U is square, Y = Q V
    U = ns.getitem(R, (Ellipsis, slice(None), slice(0, m)))
    gU = gV = None
    if gR is not None:
        gU = ns.getitem(gR, (Ellipsis, slice(None), slice(0, m)))
        gV = ns.getitem(gR, (Ellipsis, slice(None), slice(m, None)))
    Y = None
    gQ2 = gQ
    if gV is not None:
        Yv = ns.getitem(R, (Ellipsis, slice(None), slice(m, None)))
        Y = Q @ Yv
        gQ2 = Y @ ns.mT(gV) if gQ is None else gQ + Y @ ns.mT(gV)
    gX = _qr_square_rule(ns, gQ2, gU, Q, U)
    if gV is None:
        gY = ns.la_eye(m, n - m, Q) * 0
        s = tuple(ns.shape(gX))
        gY = ns.broadcast_to(gY, s[:-1] + (n - m,))
    else:
        gY = Q @ gV
    return (ns.la_cat_last(gX, gY),)


LinalgQrBackward0 = fresh_node("LinalgQrBackward0", _qr_rule, saved=("Q", "R"),
                               meta=("mode", "m", "n"), nout=2)


def _t_cat_last(a, b):
    n1 = a._data.shape[-1]
    n2 = b._data.shape[-1]
    ea = _make(np.eye(n1, n1 + n2, dtype=a._data.dtype))
    eb = _make(np.eye(n2, n1 + n2, n1, dtype=b._data.dtype))
    return a @ ea + b @ eb


NP.la_cat_last = lambda a, b: np.concatenate([a, b], axis=-1)
T.la_cat_last = _t_cat_last


def linalg_qr(A, mode="reduced", *, out=None):
    """A = Q R with orthonormal Q and upper-triangular R; mode 'reduced', 'complete' or 'r'."""
    a = _tensor(A)
    x = a._data
    _check_matrix("linalg.qr", x, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    Q, R = np.linalg.qr(x, mode="complete" if mode == "complete" else "reduced")
    if mode == "r":
        Q = np.zeros((0,), dtype=x.dtype)
    datas = (Q.astype(x.dtype, copy=False), R.astype(x.dtype, copy=False))
    if _recording(a):
        outs = _record_outs(datas, LinalgQrBackward0, (a,), (_Out(0), _Out(1)),
                            (mode, x.shape[-2], x.shape[-1]))
    else:
        outs = [_make(d) for d in datas]
    return return_types.linalg_qr(tuple(outs))


def torch_qr(input, some=True, *, out=None):
    """torch.qr: (Q, R), some=False gives the complete factorization."""
    Q, R = linalg_qr(input, "reduced" if some else "complete")
    return return_types.qr((Q, R))


# -- pinv ----------------------------------------------------------------------------------
def _pinv_rule(ns, g, meta, A, P):
    Pt, gt = ns.mT(P), ns.mT(g)
    PPt = P @ Pt
    PtP = Pt @ P
    AP = A @ P
    PA = P @ A
    return (-(Pt @ g @ Pt) + gt @ PPt - AP @ (gt @ PPt) + PtP @ gt - (PtP @ gt) @ PA,)


LinalgPinvBackward0 = fresh_node("LinalgPinvBackward0", _pinv_rule, saved=("self", "result"))


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
    if _recording(a):
        r = record(data, LinalgPinvBackward0, (a,), (a, _RESULT))
    else:
        r = _make(data)
    return _out(r, out)


def _num(v):
    v = v._data if isinstance(v, Tensor) else v
    return np.asarray(v)[..., None] if np.ndim(v) else v


def pinverse(input, rcond=1e-15):
    """torch.pinverse: pinv with a relative cutoff `rcond`."""
    return pinv(input, rtol=rcond)


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
    from ._core import normalize_dims
    dims = normalize_dims(dim, a.ndim) if a.ndim else ()
    ord = float(ord)
    data = _norm_np(a, ord, dims if dims else None, keepdim) if a.ndim else np.abs(a)
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
    from ._core import normalize_dims
    d = normalize_dims(tuple(dim), x.ndim)
    if len(d) != 2 or d[0] == d[1]:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, "
                           f"{dim[1]})")
    if dtype is not None:
        t = t.to(dtype)
    if ord == "fro":
        return _out(vector_norm(t, 2, d, keepdim), out)
    if ord in ("nuc", 2, -2):
        from .shape import permute, unsqueeze
        rest = [i for i in range(x.ndim) if i not in d]
        perm = tuple(rest) + d
        m = t if perm == tuple(range(x.ndim)) else permute(t, perm)
        if ord == "nuc":
            from .reduction import sum as _sum
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


# -- matrix_power, multi_dot, cross, vecdot ------------------------------------------------
_CopyBackwards = fresh_node("CopyBackwards", lambda ns, g, m: (g * 0,))
_CopyBackwards.name = lambda self: "torch::autograd::CopyBackwards"


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
        r = record(data, _CopyBackwards, (a,)) if _recording(a) else _make(data)
        return _out(r, out)
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
    from .shape import reshape
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
    from .shape import view
    return _out(view(r, shape), out)


def vecdot(x, y, *, dim=-1, out=None):
    """Dot product of vectors along `dim`, broadcasting the others."""
    from .arithmetic import mul
    from .reduction import sum as _sum
    return _out(_sum(mul(x, y), dim), out)


declare("det", "LinalgDetBackward0")
declare("inverse", "LinalgInvExBackward0")
declare("slogdet", "LinalgSlogdetBackward0")
declare("pinverse", "LinalgPinvBackward0")
declare("matrix_power", "MmBackward0", "LinalgInvExBackward0")
declare("linalg.inv linalg.inv_ex", "LinalgInvExBackward0")
declare("linalg.det", "LinalgDetBackward0")
declare("linalg.slogdet", "LinalgSlogdetBackward0")
declare("linalg.solve linalg.solve_ex", "LinalgSolveExBackward0")
declare("linalg.cholesky linalg.cholesky_ex", "LinalgCholeskyExBackward0")
declare("linalg.qr", "LinalgQrBackward0")
declare("linalg.eigh linalg.eigvalsh", "LinalgEighBackward0")
declare("linalg.svd linalg.svdvals", "LinalgSvdBackward0")
declare("linalg.pinv", "LinalgPinvBackward0")
declare("linalg.vector_norm linalg.norm", "LinalgVectorNormBackward0")
declare("linalg.matrix_norm", "LinalgVectorNormBackward0", "SumBackward1", "AmaxBackward0",
        "AminBackward0")
declare("linalg.cross", "LinalgCrossBackward0")
declare("linalg.multi_dot", "ViewBackward0")

svd = torch_svd
qr = torch_qr
Tensor.det = det
Tensor.svd = torch_svd
Tensor.qr = torch_qr
Tensor.inverse = inverse
Tensor.slogdet = slogdet
Tensor.logdet = logdet
Tensor.pinverse = pinverse
Tensor.matrix_power = matrix_power
Tensor.cholesky_inverse = cholesky_inverse
