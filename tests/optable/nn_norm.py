"""Op-table entries for batch, layer, group and instance normalization (small shapes)."""
from .entry import Op


def F(m):
    return m.nn.functional


def _bn_eval(m, x, w, b):
    rm = m.tensor([0.1, -0.2], dtype=m.float64)
    rv = m.tensor([0.5, 2.0], dtype=m.float64)
    return F(m).batch_norm(x, rm, rv, w, b, training=False)


ENTRIES = [
    Op("batch_norm", lambda m, x, w, b: F(m).batch_norm(x, None, None, w, b, training=True),
       [(3, 2, 2), (2,), (2,)]),
    Op("batch_norm", lambda m, x: F(m).batch_norm(x, None, None, training=True), [(4, 3)],
       id="batch_norm-2d-noaffine"),
    Op("batch_norm", _bn_eval, [(2, 2, 3), (2,), (2,)], id="batch_norm-eval"),
    Op("layer_norm", lambda m, x, w, b: F(m).layer_norm(x, (3,), w, b), [(2, 3), (3,), (3,)]),
    Op("layer_norm", lambda m, x: F(m).layer_norm(x, (2, 3)), [(2, 2, 3)],
       id="layer_norm-2dims"),
    Op("group_norm", lambda m, x, w, b: F(m).group_norm(x, 2, w, b),
       [(2, 4, 3), (4,), (4,)]),
    Op("instance_norm", lambda m, x: F(m).instance_norm(x), [(2, 2, 4)]),
]
