"""Entries for the first ops of some families; the family modules extend the table (and the
ops declared with defop carry their own samples)."""
import numpy as np

from .entry import Op

ENTRIES = [
    Op("sum", lambda m, x: x.sum(), [(2, 3)], np_ref=np.sum),
    Op("sum", lambda m, x: x.sum(1, keepdim=True), [(2, 3)], id="sum-dim"),
    Op("mean", lambda m, x: x.mean((0, 2)), [(2, 3, 4)]),
    Op("mm", lambda m, x, y: x.mm(y), [(2, 3), (3, 4)], np_ref=np.matmul),
    Op("view", lambda m, x: x.view(6, 2), [(3, 4)]),
    Op("unsqueeze", lambda m, x: x.unsqueeze(1), [(3, 4)]),
    Op("select", lambda m, x: x[:, 1], [(3, 4)]),
]
