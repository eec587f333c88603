"""Op-table entries for the decompositions whose signs depend on LAPACK (eigh, svd, qr).

They are compared through sign-invariant outputs (squares of the orthogonal factors,
reconstructions), so the forward, gradcheck and the torch comparison all see
gauge-independent quantities. A declaration's Sample calls the op itself (its samples are
inputs on which NumPy's and torch's signs agree); these entries post-process its outputs,
which is test logic, not a call of the op, so they stay here."""
from lightgrad.ops.linalg_ext import wide_dom

from .entry import Op


def _sym(x):
    return x + x.mT


ENTRIES = [
    Op("linalg.eigh", lambda m, x: (lambda r: (r[0], r[1] * r[1]))(m.linalg.eigh(_sym(x))),
       [(3, 3)], id="eigh-squares"),
    Op("linalg.eigh", lambda m, x: (lambda r: (r[1] * r[0].unsqueeze(-2)) @ r[1].mT)(
        m.linalg.eigh(_sym(x))), [(2, 3, 3)], id="eigh-batch-reconstruct"),
    Op("linalg.svd", lambda m, x: (lambda r: (r[0] * r[0], r[1], r[2] * r[2]))(
        m.linalg.svd(x, full_matrices=False)), [(3, 2)], domain=wide_dom, id="svd-squares"),
    # the extra row of a full Vh is any unit vector orthogonal to the rest: torch gives it
    # no gradient, so only the first rows enter the loss
    Op("linalg.svd", lambda m, x: (lambda r: (r[0] * r[0], r[1], r[2][:2] * r[2][:2]))(
        m.linalg.svd(x)), [(2, 3)], domain=wide_dom, id="svd-full-wide"),
    Op("linalg.svd", lambda m, x: (lambda r: (r[0][..., :2] * r[0][..., :2], r[1]))(
        m.linalg.svd(x)), [(2, 3, 2)], domain=wide_dom, id="svd-full-tall-batch"),
    Op("linalg.qr", lambda m, x: (lambda r: (r[0] * r[0], r[1] * r[1]))(m.linalg.qr(x)),
       [(3, 2)], domain=wide_dom, id="qr-squares"),
    Op("linalg.qr", lambda m, x: (lambda r: (r[0] * r[0], r[1] * r[1]))(m.linalg.qr(x)),
       [(2, 3)], domain=wide_dom, id="qr-wide"),
    Op("linalg.qr", lambda m, x: (lambda r: r[0] @ r[1])(m.linalg.qr(x, mode="complete")),
       [(2, 3, 3)], domain=wide_dom, id="qr-complete-batch"),
]
