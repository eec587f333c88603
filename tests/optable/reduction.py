"""Op-table entries for reductions, scans, sorting and softmax beyond their declared samples
(ops/reduction.py, norms.py, scan_sort.py)."""
import numpy as np

from .entry import Op

ENTRIES = [
    # the method forms (the functions are sampled in their declarations)
    Op("sum", lambda m, x: x.sum(), [(2, 3)], np_ref=np.sum, id="sum-method"),
    Op("max", lambda m, x: x.max(0, keepdim=True), [(3, 2)], id="max-method"),
    Op("std", lambda m, x: x.std(0, correction=0), [(3, 2)], id="std-method"),
]
