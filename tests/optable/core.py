"""Entries for the first ops of some families; the family modules extend the table (and the
ops declared with defop carry their own samples)."""
import numpy as np

from .entry import Op

ENTRIES = [
    Op("mm", lambda m, x, y: x.mm(y), [(2, 3), (3, 4)], np_ref=np.matmul),
    Op("view", lambda m, x: x.view(6, 2), [(3, 4)]),
    Op("unsqueeze", lambda m, x: x.unsqueeze(1), [(3, 4)]),
    Op("select", lambda m, x: x[:, 1], [(3, 4)]),
]
