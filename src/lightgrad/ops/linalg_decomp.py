"""torch.linalg's decompositions: Cholesky (and cholesky_inverse), eigh, SVD and QR (real
dtypes), and the least-squares solver lstsq built on the SVD, each declared once with its
rule, its vmap rule and its samples.

Decompositions whose signs depend on LAPACK (eigh, svd, qr) are unique only up to a gauge;
their gradients are the usual gauge-invariant formulas (as in torch's FunctionsManual.cpp).
Their samples here are inputs on which NumPy's and torch's LAPACK agree on the signs (the
diagonally dominant matrices of `wide_dom`); tests/optable/linalg.py checks them through
sign-invariant outputs as well."""
import numpy as np

from .._tensor import _make
from .._graph.graph import SavedOutput
from ._batching import expand_to, leading_batch
from ._core import (NP, RESULT as _RESULT, Sample as S, T, _save, defop, ns_def, publish, record,
                    record_multi, with_tangents)
from .linalg import _broadcast_shapes, _out, _tensor, fresh_node
from .linalg_ext import (_LEGACY, LinAlgError, _Out, _batch_prefix, _batches, _check_matrix,
                         _diag_embed, _leg, _pinv_rule, _record_outs, _recording, _unsq, pinv,
                         wide_dom)
from .. import return_types


def _spd(m, x):
    """A sample's input: a symmetric positive-definite matrix built from x (gradcheck stays
    on the manifold)."""
    return x @ x.mT + x.shape[-1] * m.eye(x.shape[-1], dtype=x.dtype)


def _sym(x):
    return x + x.mT


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


@defop(name="linalg.cholesky", nodes=(LinalgCholeskyExBackward0,), batch=leading_batch,
       samples=[S((3, 3), call=lambda m, x: m.linalg.cholesky(_spd(m, x))),
                S((2, 3, 3), call=lambda m, x: m.linalg.cholesky(_spd(m, x), upper=True),
                  id="upper-batch")])
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


@defop(name="linalg.cholesky_ex", nodes=(LinalgCholeskyExBackward0,), batch=leading_batch,
       samples=[S((2, 2), call=lambda m, x: m.linalg.cholesky_ex(_spd(m, x)))])
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


def _cholesky_inverse_rule(ns, g, upper, L, inverse):
    common = inverse @ ((g + ns.mT(g)) @ inverse)
    return (-(L @ common) if upper else -(common @ L),)


CholeskyInverseBackward0 = fresh_node("CholeskyInverseBackward0", _cholesky_inverse_rule,
                                      saved=("self", "result"), meta=("upper",))


# torch's forward-mode formula for cholesky_inverse disagrees with finite differences (torch
# 2.x), so the tangents are checked against the reverse-mode Jacobian only
@defop(nodes=(CholeskyInverseBackward0,), batch=leading_batch, samples=[
    S((3, 3), call=lambda m, x: m.cholesky_inverse(x.tril() + 3 * m.eye(3, dtype=x.dtype)),
      torch_forward_ad=False),
    S((2, 3, 3), call=lambda m, x: (x.triu() + 3 * m.eye(3, dtype=x.dtype)).cholesky_inverse(
        upper=True), torch_forward_ad=False, id="upper-batch")])
def cholesky_inverse(L, upper=False, *, out=None):
    """Inverse of A = L L^T (or U^T U) from its Cholesky factor; only that triangle of L is
    read, as torch's."""
    a = _tensor(L)
    x = a._data
    if x.ndim >= 2 and x.dtype.kind not in "fc":
        raise NotImplementedError(f'"cholesky_inverse_out_cpu" not implemented for '
                                  f"'{_LEGACY.get(x.dtype.name, x.dtype.name)}'")
    _check_matrix("cholesky_inverse", x)
    t = np.triu(x) if upper else np.tril(x)
    for i, m in enumerate(_batches(t)):
        zero = np.flatnonzero(np.diagonal(m) == 0)
        if zero.size:
            raise LinAlgError(f"cholesky_inverse: {_batch_prefix(x, i)}The diagonal element "
                              f"{zero[0] + 1} is zero, the inversion could not be completed "
                              "because the input matrix is singular.")
    tt = np.swapaxes(t, -1, -2)
    data = np.linalg.inv(tt @ t if upper else t @ tt)
    if _recording(a):
        r = record(data, CholeskyInverseBackward0, (a,), (a, _RESULT), upper)
    else:
        r = _make(data)
    return _out(r, out)


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


@defop(name="linalg.eigh", nodes=(LinalgEighBackward0,), batch=leading_batch, samples=[
    S((3, 3), domain=wide_dom, call=lambda m, x: m.linalg.eigh(_sym(x))),
    S((2, 3, 3), domain=wide_dom, call=lambda m, x: m.linalg.eigh(_sym(x), UPLO="U"),
      id="upper-batch")])
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


@defop(name="linalg.eigvalsh", nodes=(LinalgEighBackward0,), batch=leading_batch, samples=[
    S((3, 3), call=lambda m, x: m.linalg.eigvalsh(_sym(x))),
    S((2, 2, 2), call=lambda m, x: m.linalg.eigvalsh(_sym(x), UPLO="U"), id="upper-batch")])
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


@defop(name="linalg.svd", nodes=(LinalgSvdBackward0,), batch=leading_batch, samples=[
    S((3, 3), domain=wide_dom),
    S((3, 2), domain=wide_dom, kwargs={"full_matrices": False}, id="reduced")])
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


@defop(name="linalg.svdvals", nodes=(LinalgSvdBackward0,), batch=leading_batch,
       samples=[S((3, 3), domain=wide_dom), S((2, 3, 2), domain=wide_dom, id="batch")])
def svdvals(A, *, driver=None, out=None):
    """Singular values of A, descending."""
    a = _tensor(A)
    if not _recording(a):
        x = a._data
        _check_matrix("linalg.svdvals", x, square=False)
        return _out(_make(np.linalg.svd(x, compute_uv=False).astype(x.dtype, copy=False)), out)
    return _out(linalg_svd(a, full_matrices=False)[1], out)


@defop(name="svd", nodes=(LinalgSvdBackward0, "TransposeBackward0"), batch=leading_batch,
       samples=[S((3, 2), domain=wide_dom), S((3, 3), domain=wide_dom, method=True,
                                                id="method")])
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


@defop(name="linalg.qr", nodes=(LinalgQrBackward0,), batch=leading_batch, samples=[
    S((3, 2), domain=wide_dom), S((2, 3), domain=wide_dom, id="wide"),
    S((2, 3, 3), domain=wide_dom, kwargs={"mode": "complete"}, id="complete-batch")])
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


@defop(name="qr", nodes=(LinalgQrBackward0,), batch=leading_batch, samples=[
    S((3, 2), domain=wide_dom), S((3, 3), domain=wide_dom, method=True, id="method")])
def torch_qr(input, some=True, *, out=None):
    """torch.qr: (Q, R), some=False gives the complete factorization."""
    Q, R = linalg_qr(input, "reduced" if some else "complete")
    return return_types.qr((Q, R))


# -- lstsq ---------------------------------------------------------------------------------
def _lstsq_rule(ns, g, meta, A, B, X):
    """torch's linalg_lstsq_backward: the solution is pinv(A) B, so its gradient is pinv's
    (and pinv(A)^T gX for B); the residuals |A X - B|^2 add 2 r gL X^T and -2 r gL (X is
    the minimiser, so X's own change drops out)."""
    vec, has_res = meta
    gX, gL = g
    if vec:                              # a vector right side: work with one column
        B, X = _unsq(ns, B, -1), _unsq(ns, X, -1)
        gX = None if gX is None else _unsq(ns, gX, -1)
    gA = gB = None
    if gX is not None:
        P = ns.la_pinv(A)
        gA = _pinv_rule(ns, gX @ ns.mT(B), None, A, P)[0]
        gB = ns.mT(P) @ gX
    if has_res and gL is not None:
        rg = (A @ X - B) * _unsq(ns, gL, -2)
        dA, dB = (rg @ ns.mT(X)) * 2, rg * -2
        gA = dA if gA is None else gA + dA
        gB = dB if gB is None else gB + dB
    if vec and gB is not None:
        gB = ns.reshape(gB, tuple(ns.shape(gB))[:-1])
    return gA, gB


LinalgLstsqBackward0 = fresh_node("LinalgLstsqBackward0", _lstsq_rule,
                                  saved=("self", "b", "solution"), meta=("vector", "residuals"),
                                  nout=2)
ns_def("la_pinv", np.linalg.pinv, lambda a: pinv(a))
_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _lstsq_dom(shape, rng):
    """Samples' values: matrices with well-separated singular values, plain vectors."""
    return wide_dom(shape, rng) if len(shape) >= 2 else rng.uniform(-1, 1, shape)


def _lstsq_batching(c, args, kwargs):
    """vmap of lstsq: the right side's vector form made an explicit column, both operands
    lined up on a full batch (as linalg.solve's rule), one call; the outputs that torch
    leaves empty (0,) become (batch, 0), as torch's vmap gives them."""
    a, b = args[0], args[1]
    vec = b.dim() == 1 or b.dim() == a.dim() - 1 and tuple(b.shape) == tuple(a.shape)[:-1]
    b2 = b.unsqueeze(-1) if vec else b
    n = c.size(a, b)
    nd = max(a.dim(), b2.dim())

    def lined_up(t):        # (batch, 1, ..., 1, *t's dims) with nd dims after the batch
        p = expand_to(c, t, n)
        return p.reshape((n,) + (1,) * (nd - t.dim()) + tuple(p.shape[1:]))
    out = c(lined_up(a), lined_up(b2), *args[2:], **kwargs)
    sol = out[0][..., 0] if vec else out[0]
    rest = [o.reshape(n, 0) if o.dim() == 1 and o.shape[0] == 0 else o for o in out[1:]]
    return c.wrap(return_types.linalg_lstsq([sol] + rest))


def _lstsq_checks(x, y, driver):
    """torch's argument checks, in its order; returns (vector right side, driver)."""
    pre = "torch.linalg.lstsq: "
    if x.ndim < 2:
        raise RuntimeError(pre + "input must have at least 2 dimensions.")
    if y.ndim < 1:
        raise RuntimeError(pre + "other must have at least 1 dimension.")
    if x.dtype != y.dtype:
        raise RuntimeError(pre + f"Expected input and other to have the same dtype, but got "
                           f"input's dtype {_leg(x)} and other's dtype {_leg(y)}")
    if not 0 <= x.ndim - y.ndim <= 1:
        raise RuntimeError(pre + "input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    vec = y.ndim == 1 or y.ndim == x.ndim - 1 and y.shape == x.shape[:-1]
    if x.shape[-2] != (y.shape[-1] if vec else y.shape[-2]):
        raise RuntimeError(pre + f"input.size(-2) should match other.size({-1 if vec else -2})")
    if x.ndim - y.ndim == 1 and not vec:
        # B of one dim fewer that is not a vector batch: torch lines A's batch up with all
        # of B's leading dims (and fails if they do not broadcast)
        _broadcast_shapes(x.shape[:-2], y.shape[:-1])
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise RuntimeError(pre + "parameter `driver` should be one of (gels, gelsy, gelsd, "
                           "gelss)")
    if x.dtype not in (np.float32, np.float64):
        raise RuntimeError("This function doesn't handle types other than float and double")
    return vec, driver


def _lstsq_np(x, y, rcond, driver):
    """(solution, rank, singular values) from the SVD of each matrix of A: the minimum-norm
    least-squares solution, singular values at most rcond * s_max dropped (as gelsd / gelss
    do; gelsy's rank-revealing QR finds the same rank when the values are well separated,
    and gels, which assumes full rank, drops none)."""
    m, n = x.shape[-2:]
    batch = _broadcast_shapes(x.shape[:-2], y.shape[:-2])
    k = y.shape[-1]
    if min(m, n, k) == 0:       # LAPACK returns at once: zeros (and rank 0)
        return (np.zeros(batch + (n, k), x.dtype), np.zeros(x.shape[:-2], np.int64),
                np.zeros(x.shape[:-2] + (min(m, n),), x.dtype))
    U, s, Vh = np.linalg.svd(x, full_matrices=False)
    if rcond is None:
        rcond = np.finfo(x.dtype).eps * max(m, n)
    cut = 0.0 if driver == "gels" else float(rcond) * s[..., :1]
    keep = s > cut
    sinv = np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0).astype(x.dtype)
    X = np.swapaxes(Vh, -1, -2) @ (sinv[..., None] * (np.swapaxes(U, -1, -2) @ y))
    return (np.broadcast_to(X, batch + (n, k)).astype(x.dtype),
            keep.sum(-1).astype(np.int64), s.astype(x.dtype))


@defop(name="linalg.lstsq", nodes=(LinalgLstsqBackward0,), batch=_lstsq_batching, samples=[
    S((5, 3), (5, 2), domain=_lstsq_dom),
    S((3, 5), (3, 2), domain=_lstsq_dom, id="wide"),
    S((4, 2), (4,), domain=_lstsq_dom, kwargs={"driver": "gels"}, id="gels-vector"),
    # gradcheck reads every float output, so these keep the differentiable ones (singular
    # values are compared in tests/test_grid_distance_ops.py)
    S((2, 4, 3), (2, 4, 2), domain=_lstsq_dom, id="gelsd-batch",
      call=lambda m, a, b: m.linalg.lstsq(a, b, driver="gelsd")[:2]),
    S((1, 4, 3), (2, 4, 1), domain=_lstsq_dom, id="gelss-broadcast",
      call=lambda m, a, b: m.linalg.lstsq(a, b, driver="gelss")[:2]),
    S((4, 3), (4, 2), domain=_lstsq_dom, id="rcond",
      call=lambda m, a, b: m.linalg.lstsq(a, b, 0.05, driver="gelsd")[:3])])
def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X of A X = B (the minimum-norm one where A is wide or rank
    deficient): torch.return_types.linalg_lstsq(solution, residuals, rank,
    singular_values), filled as torch fills them on the CPU for each driver: residuals for
    tall A with gels (or gelsd / gelss at full rank), rank except for gels, singular
    values for gelsd / gelss; the others empty."""
    a, b = _tensor(A), _tensor(B)
    x, y = a._data, b._data
    vec, driver = _lstsq_checks(x, y, driver)
    y2 = y[..., None] if vec else y
    X, rank, s = _lstsq_np(x, y2, rcond, driver)
    m, n = x.shape[-2:]
    if x.ndim - y.ndim == 1 and not vec:
        # ... and then gives the solutions of B (as one matrix) over that batch, as torch
        batch = _broadcast_shapes(x.shape[:-2], y.shape[:-1])
        try:
            X = np.ascontiguousarray(np.broadcast_to(X, batch + X.shape[-2:]))
        except ValueError:
            pass
    empty = np.zeros((0,), x.dtype)
    has_res = m > n and driver != "gelsy" and (driver == "gels" or bool(np.all(rank == n)))
    if not has_res:
        res = empty
    elif X.size == 0 and driver == "gels":      # gels returns at once, zeroing B
        res = np.zeros(np.broadcast_shapes(x.shape[:-2], y2.shape[:-2]) + y2.shape[-1:], x.dtype)
    else:
        res = np.sum((x @ X - y2) ** 2, axis=-2)
    datas = (X[..., 0] if vec else X, res,
             np.zeros((0,), np.int64) if driver == "gels" else rank,
             s if driver in ("gelsd", "gelss") else empty)
    if not _recording(a, b):
        return return_types.linalg_lstsq([_make(d) for d in datas])
    # solution and residuals are differentiable (the residuals even when empty, as torch's)
    outs = record_multi(datas, LinalgLstsqBackward0, (a, b), (), (vec, has_res), bcast=True,
                        differentiable=(True, True, False, False), tangents=False)
    node = outs[0].grad_fn
    node._saved = (_save(a), _save(b), SavedOutput(outs[0]))
    with_tangents(outs[:2], node, (a, b))
    return return_types.linalg_lstsq(outs)


__all__ = publish(globals())
