"""Op-table entries for the in-place ops without an out-of-place twin (zero_, fill_, copy_).

In-place on a leaf that requires grad is an error, so each entry writes into a clone."""
import numpy as np

from .entry import Op

ENTRIES = [
    Op("zero_", lambda m, x: x.clone().zero_(), [(2, 3)], np_ref=np.zeros_like),
    Op("zero_", lambda m, x: (x * 2).zero_(), [()], id="zero_-0d"),
    Op("fill_", lambda m, x: x.clone().fill_(1.5), [(2, 3)],
       np_ref=lambda x: np.full_like(x, 1.5)),
    Op("fill_", lambda m, x, v: x.clone().fill_(v), [(2, 3), ()], id="fill_-tensor",
       np_ref=lambda x, v: np.broadcast_to(v, x.shape)),
    Op("fill_", lambda m, x, v: (x * v).fill_(v) * x, [(3,), ()], id="fill_-tensor-mixed"),
    Op("copy_", lambda m, x, y: x.clone().copy_(y), [(2, 3), (2, 3)],
       np_ref=lambda x, y: y),
    Op("copy_", lambda m, x, y: x.clone().copy_(y), [(2, 3), (3,)], id="copy_-broadcast",
       np_ref=lambda x, y: np.broadcast_to(y, x.shape)),
    Op("copy_", lambda m, x, y: (x * y).copy_(y * 3) * x, [(2, 2), (1, 2)], id="copy_-mixed"),
    Op("copy_", lambda m, y: m.zeros(3, dtype=m.float64).copy_(y), [(3,)],
       id="copy_-into-constant", np_ref=lambda y: y),
]
