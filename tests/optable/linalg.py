"""Op-table entries for matrix products and torch.linalg.

Decompositions whose signs depend on LAPACK (eigh, svd, qr) are compared through
sign-invariant outputs (squares of the orthogonal factors, reconstructions), so the
forward, gradcheck and the torch comparison all see gauge-independent quantities."""
import numpy as np

from .entry import Op


def _wellcond(shape, rng):
    """Random square matrices (batches) safely away from singular."""
    a = rng.uniform(-1, 1, shape)
    if len(shape) >= 2 and shape[-1] == shape[-2]:
        a = a + 3 * np.eye(shape[-1])
    return a


def _spd(m, x):
    """A symmetric positive-definite matrix built from x (keeps gradcheck on the manifold)."""
    return x @ x.mT + x.shape[-1] * m.eye(x.shape[-1], dtype=x.dtype)


def _sym(x):
    return x + x.mT


def _wide_dom(shape, rng):
    """Distinct, well-separated singular values (svd/pinv stay smooth)."""
    a = rng.uniform(-1, 1, shape)
    k = min(shape[-2:])
    a[..., range(k), range(k)] += np.arange(1, k + 1) * 2.0
    return a


ENTRIES = [
    # -- products ----------------------------------------------------------------------
    Op("mm", lambda m, x, y: m.mm(x, y), [(2, 3), (3, 4)], np_ref=np.matmul, id="mm-2x3x4"),
    Op("matmul", lambda m, x, y: x @ y, [(3,), (3,)], np_ref=np.matmul),
    Op("matmul", lambda m, x, y: x @ y, [(2, 3), (3,)], np_ref=np.matmul),
    Op("matmul", lambda m, x, y: x @ y, [(3,), (3, 2)], np_ref=np.matmul),
    Op("matmul", lambda m, x, y: m.matmul(x, y), [(2, 3), (3, 2)], np_ref=np.matmul),
    Op("matmul", lambda m, x, y: x @ y, [(2, 2, 3), (3, 2)], np_ref=np.matmul),
    Op("matmul", lambda m, x, y: x @ y, [(2, 3), (2, 3, 2)], np_ref=np.matmul),
    Op("matmul", lambda m, x, y: x @ y, [(1, 3), (2, 3, 1)], np_ref=np.matmul),
    Op("matmul", lambda m, x, y: x @ y, [(2, 2, 3), (2, 3, 2)], np_ref=np.matmul),
    Op("matmul", lambda m, x, y: x @ y, [(2, 1, 2, 3), (3, 3, 2)], np_ref=np.matmul),
    Op("matmul", lambda m, x, y: x @ y, [(1, 2, 3), (2, 3, 2)], np_ref=np.matmul),
    Op("matmul", lambda m, x, y: x @ y, [(2, 2, 3), (1, 3, 2)], np_ref=np.matmul),
    Op("matmul", lambda m, x, y: x @ y, [(2, 2, 3), (3,)], np_ref=np.matmul),
    Op("matmul", lambda m, x, y: x @ y, [(3,), (2, 3, 2)], np_ref=np.matmul),
    Op("matmul", lambda m, x, y: x @ y, [(2, 2, 3), (2, 2, 3, 1)], np_ref=np.matmul),
    Op("matmul", lambda m, x, y: x.__rmatmul__(y), [(3, 2), (2, 3)], id="rmatmul"),
    Op("bmm", lambda m, x, y: m.bmm(x, y), [(2, 2, 3), (2, 3, 2)], np_ref=np.matmul),
    Op("mv", lambda m, x, y: x.mv(y), [(2, 3), (3,)], np_ref=np.matmul),
    Op("dot", lambda m, x, y: m.dot(x, y), [(3,), (3,)], np_ref=np.dot),
    Op("vdot", lambda m, x, y: x.vdot(y), [(3,), (3,)], np_ref=np.vdot),
    Op("inner", lambda m, x, y: m.inner(x, y), [(2, 3), (4, 3)], np_ref=np.inner),
    Op("outer", lambda m, x, y: m.outer(x, y), [(3,), (2,)], np_ref=np.outer),
    Op("ger", lambda m, x, y: x.ger(y), [(2,), (3,)], np_ref=np.outer),
    Op("addmm", lambda m, b, x, y: m.addmm(b, x, y), [(3,), (2, 4), (4, 3)],
       np_ref=lambda b, x, y: b + x @ y),
    Op("addmm", lambda m, b, x, y: b.addmm(x, y, beta=0.5, alpha=2), [(2, 1), (2, 4), (4, 3)],
       id="addmm-beta-alpha"),
    Op("addmv", lambda m, b, x, y: m.addmv(b, x, y, alpha=3), [(2,), (2, 3), (3,)]),
    Op("addbmm", lambda m, b, x, y: m.addbmm(b, x, y, beta=2), [(2, 2), (3, 2, 3), (3, 3, 2)],
       np_ref=lambda b, x, y: 2 * b + (x @ y).sum(0)),
    Op("baddbmm", lambda m, b, x, y: m.baddbmm(b, x, y, alpha=0.5), [(2, 1, 2), (2, 2, 3),
                                                                    (2, 3, 2)]),
    Op("addr", lambda m, b, x, y: m.addr(b, x, y), [(2, 3), (2,), (3,)],
       np_ref=lambda b, x, y: b + np.outer(x, y)),
    Op("einsum", lambda m, x, y: m.einsum("ij,jk->ik", x, y), [(2, 3), (3, 2)],
       np_ref=lambda x, y: x @ y),
    Op("einsum", lambda m, x: m.einsum("ii", x), [(3, 3)], np_ref=np.trace, id="einsum-trace"),
    Op("einsum", lambda m, x: m.einsum("ii->i", x), [(3, 3)], np_ref=np.diagonal,
       id="einsum-diag"),
    Op("einsum", lambda m, x: m.einsum("ij->ji", x), [(2, 3)], id="einsum-transpose"),
    Op("einsum", lambda m, x: m.einsum("ij->i", x), [(2, 3)], id="einsum-sum"),
    Op("einsum", lambda m, x, y: m.einsum("i,j->ij", x, y), [(2,), (3,)], id="einsum-outer"),
    Op("einsum", lambda m, x, y: m.einsum("bij,bjk->bik", x, y), [(2, 2, 3), (2, 3, 2)],
       id="einsum-bmm"),
    Op("einsum", lambda m, x, y: m.einsum("...ij,...jk", x, y), [(2, 2, 3), (3, 2)],
       id="einsum-ellipsis"),
    Op("einsum", lambda m, x, y, z: m.einsum("ij,jk,k->i", x, y, z), [(2, 3), (3, 2), (2,)],
       id="einsum-three"),
    Op("einsum", lambda m, x, y: m.einsum("ii,i->i", x, y), [(3, 3), (3,)], id="einsum-diag-mul"),
    Op("einsum", lambda m, x, y: m.einsum("ij,k->ik", x, y), [(2, 3), (2,)], id="einsum-sum-out"),
    Op("tensordot", lambda m, x, y: m.tensordot(x, y, dims=([1, 0], [0, 2])),
       [(3, 2, 2), (2, 2, 3)]),
    Op("tensordot", lambda m, x, y: m.tensordot(x, y, dims=1), [(2, 3), (3, 2)],
       np_ref=lambda x, y: np.tensordot(x, y, 1), id="tensordot-int"),
    Op("trace", lambda m, x: x.trace(), [(3, 3)], np_ref=np.trace),
    Op("trace", lambda m, x: m.trace(x), [(2, 3)], np_ref=np.trace, id="trace-rect"),
    Op("kron", lambda m, x, y: m.kron(x, y), [(2, 3), (2, 2)], np_ref=np.kron),
    Op("kron", lambda m, x, y: m.kron(x, y), [(2,), (2, 2)], np_ref=np.kron, id="kron-pad"),
    Op("cross", lambda m, x, y: m.cross(x, y, dim=1), [(2, 3), (2, 3)],
       np_ref=lambda x, y: np.cross(x, y, axis=1)),
    Op("linalg.cross", lambda m, x, y: m.linalg.cross(x, y), [(2, 1, 3), (1, 2, 3)],
       np_ref=np.cross),
    # -- inverses, determinants, solves ----------------------------------------------------
    Op("linalg.inv", lambda m, x: m.linalg.inv(x), [(3, 3)], domain=_wellcond,
       np_ref=np.linalg.inv),
    Op("linalg.inv", lambda m, x: m.linalg.inv(x), [(2, 2, 2)], domain=_wellcond,
       id="inv-batch"),
    Op("linalg.inv_ex", lambda m, x: m.linalg.inv_ex(x)[0], [(2, 2)], domain=_wellcond),
    Op("inverse", lambda m, x: x.inverse(), [(3, 3)], domain=_wellcond),
    Op("linalg.det", lambda m, x: m.linalg.det(x), [(3, 3)], np_ref=np.linalg.det),
    Op("linalg.det", lambda m, x: m.linalg.det(x), [(2, 2, 2)], domain=_wellcond,
       id="det-batch"),
    Op("det", lambda m, x: x.det(), [(2, 2)]),
    Op("linalg.slogdet", lambda m, x: m.linalg.slogdet(x), [(3, 3)], domain=_wellcond),
    Op("slogdet", lambda m, x: m.slogdet(x)[1], [(2, 3, 3)], domain=_wellcond),
    Op("linalg.solve", lambda m, a, b: m.linalg.solve(a, b), [(3, 3), (3, 2)],
       domain=_wellcond, np_ref=np.linalg.solve),
    Op("linalg.solve", lambda m, a, b: m.linalg.solve(a, b), [(3, 3), (3,)],
       domain=_wellcond, id="solve-vector"),
    Op("linalg.solve", lambda m, a, b: m.linalg.solve(a, b), [(2, 3, 3), (3, 2)],
       domain=_wellcond, id="solve-broadcast"),
    Op("linalg.solve", lambda m, a, b: m.linalg.solve(a, b, left=False), [(3, 3), (2, 3)],
       domain=_wellcond, id="solve-right"),
    Op("linalg.solve_ex", lambda m, a, b: m.linalg.solve_ex(a, b)[0], [(2, 2), (2, 2)],
       domain=_wellcond),
    Op("linalg.pinv", lambda m, x: m.linalg.pinv(x), [(3, 2)], domain=_wide_dom,
       np_ref=np.linalg.pinv),
    Op("linalg.pinv", lambda m, x: m.linalg.pinv(x), [(2, 3)], domain=_wide_dom,
       id="pinv-wide"),
    Op("pinverse", lambda m, x: x.pinverse(), [(2, 2, 3)], domain=_wide_dom),
    Op("matrix_power", lambda m, x: m.linalg.matrix_power(x, 3), [(3, 3)]),
    Op("matrix_power", lambda m, x: x.matrix_power(-2), [(2, 2)], domain=_wellcond,
       id="matrix_power-neg"),
    Op("linalg.multi_dot", lambda m, x, y, z: m.linalg.multi_dot([x, y, z]),
       [(3,), (3, 2), (2, 2)]),
    # -- decompositions ------------------------------------------------------------------
    Op("linalg.cholesky", lambda m, x: m.linalg.cholesky(_spd(m, x)), [(3, 3)]),
    Op("linalg.cholesky", lambda m, x: m.linalg.cholesky(_spd(m, x), upper=True), [(2, 3, 3)],
       id="cholesky-upper-batch"),
    Op("linalg.cholesky_ex", lambda m, x: m.linalg.cholesky_ex(_spd(m, x))[0], [(2, 2)]),
    Op("linalg.eigh", lambda m, x: (lambda r: (r[0], r[1] * r[1]))(m.linalg.eigh(_sym(x))),
       [(3, 3)]),
    Op("linalg.eigh", lambda m, x: (lambda r: (r[1] * r[0].unsqueeze(-2)) @ r[1].mT)(
        m.linalg.eigh(_sym(x))), [(2, 3, 3)], id="eigh-batch-reconstruct"),
    Op("linalg.eigvalsh", lambda m, x: m.linalg.eigvalsh(_sym(x)), [(3, 3)]),
    Op("linalg.svd", lambda m, x: (lambda r: (r[0] * r[0], r[1], r[2] * r[2]))(
        m.linalg.svd(x, full_matrices=False)), [(3, 2)], domain=_wide_dom),
    # the extra row of a full Vh is any unit vector orthogonal to the rest: torch gives it
    # no gradient, so only the first rows enter the loss
    Op("linalg.svd", lambda m, x: (lambda r: (r[0] * r[0], r[1], r[2][:2] * r[2][:2]))(
        m.linalg.svd(x)), [(2, 3)], domain=_wide_dom, id="svd-full-wide"),
    Op("linalg.svd", lambda m, x: (lambda r: (r[0][..., :2] * r[0][..., :2], r[1]))(
        m.linalg.svd(x)), [(2, 3, 2)], domain=_wide_dom, id="svd-full-tall-batch"),
    Op("linalg.svdvals", lambda m, x: m.linalg.svdvals(x), [(3, 3)], domain=_wide_dom),
    Op("linalg.qr", lambda m, x: (lambda r: (r[0] * r[0], r[1] * r[1]))(m.linalg.qr(x)),
       [(3, 2)], domain=_wide_dom),
    Op("linalg.qr", lambda m, x: (lambda r: (r[0] * r[0], r[1] * r[1]))(m.linalg.qr(x)),
       [(2, 3)], domain=_wide_dom, id="qr-wide"),
    Op("linalg.qr", lambda m, x: (lambda r: r[0] @ r[1])(m.linalg.qr(x, mode="complete")),
       [(2, 3, 3)], domain=_wide_dom, id="qr-complete-batch"),
    # -- norms ---------------------------------------------------------------------------
    Op("linalg.vector_norm", lambda m, x: m.linalg.vector_norm(x), [(2, 3)],
       np_ref=lambda x: np.sqrt((x * x).sum())),
    Op("linalg.vector_norm", lambda m, x: m.linalg.vector_norm(x, 3, dim=1, keepdim=True),
       [(2, 3)], id="vnorm-3-dim"),
    Op("linalg.vector_norm", lambda m, x: m.linalg.vector_norm(x, float("inf"), dim=(0,)),
       [(3, 2)], id="vnorm-inf"),
    Op("linalg.vector_norm", lambda m, x: m.linalg.vector_norm(x, 1, dim=-1), [(2, 3)],
       id="vnorm-1"),
    Op("linalg.vector_norm", lambda m, x: m.linalg.vector_norm(x, -float("inf")), [(4,)],
       id="vnorm-neginf"),
    Op("linalg.vector_norm", lambda m, x: m.linalg.vector_norm(x, 0), [(4,)], gradgrad=False,
       id="vnorm-0"),
    Op("linalg.norm", lambda m, x: m.linalg.norm(x), [(2, 2, 2)]),
    Op("linalg.norm", lambda m, x: m.linalg.norm(x, 1, dim=1), [(2, 3)], id="norm-1-dim"),
    Op("linalg.matrix_norm", lambda m, x: m.linalg.matrix_norm(x), [(2, 3)]),
    Op("linalg.matrix_norm", lambda m, x: m.linalg.matrix_norm(x, "nuc"), [(3, 2)],
       domain=_wide_dom, id="mnorm-nuc"),
    Op("linalg.matrix_norm", lambda m, x: m.linalg.matrix_norm(x, 2), [(2, 3, 2)],
       domain=_wide_dom, id="mnorm-2"),
    Op("linalg.matrix_norm", lambda m, x: m.linalg.matrix_norm(x, -2), [(3, 3)],
       domain=_wide_dom, id="mnorm-neg2"),
    Op("linalg.matrix_norm", lambda m, x: m.linalg.matrix_norm(x, 1), [(3, 3)], id="mnorm-1"),
    Op("linalg.matrix_norm", lambda m, x: m.linalg.norm(x, float("inf"), dim=(1, 0),
                                                        keepdim=True), [(3, 3)],
       id="mnorm-inf-dims"),
    Op("linalg.matrix_norm", lambda m, x: m.linalg.norm(x, -1), [(3, 3)], id="mnorm-neg1"),
    Op("linalg.matrix_norm", lambda m, x: m.linalg.matrix_norm(x, -float("inf"), dim=(0, 2)),
       [(3, 2, 3)], id="mnorm-neginf-3d"),
    Op("linalg.matrix_norm", lambda m, x: m.linalg.matrix_norm(x, "nuc", dim=(2, 0),
                                                               keepdim=True),
       [(3, 2, 2)], domain=_wide_dom, id="mnorm-nuc-keepdim"),
]
