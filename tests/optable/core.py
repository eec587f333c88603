"""Entries for the first ops of each family; the family modules extend the table."""
import numpy as np

from .entry import Op

ENTRIES = [
    Op("add", lambda m, x, y: m.add(x, y), [(3, 1), (1, 4)], np_ref=np.add),
    Op("add", lambda m, x, y: x.add(y, alpha=2), [(2, 3), (3,)], id="add-alpha"),
    Op("sub", lambda m, x, y: x - y, [(2, 3), (2, 3)], np_ref=np.subtract),
    Op("rsub", lambda m, x: 2 - x, [(3,)]),
    Op("mul", lambda m, x, y: x * y, [(3, 1), (1, 4)], np_ref=np.multiply),
    Op("mul", lambda m, x: x * 3, [(2, 2)], id="mul-scalar"),
    Op("div", lambda m, x, y: x / y, [(2, 3), (3,)], domain=(0.5, 2.0), np_ref=np.divide),
    Op("pow", lambda m, x: x ** 3, [(2, 3)]),
    Op("pow", lambda m, x, y: x ** y, [(2, 3), (3,)], domain=(0.5, 2.0), id="pow-tensor"),
    Op("pow", lambda m, x: 2 ** x, [(2, 3)], id="pow-scalar-base"),
    Op("exp", lambda m, x: x.exp(), [(2, 3)], np_ref=np.exp),
    Op("log", lambda m, x: m.log(x), [(2, 3)], domain=(0.5, 2.0), np_ref=np.log),
    Op("sum", lambda m, x: x.sum(), [(2, 3)], np_ref=np.sum),
    Op("sum", lambda m, x: x.sum(1, keepdim=True), [(2, 3)], id="sum-dim"),
    Op("mean", lambda m, x: x.mean((0, 2)), [(2, 3, 4)]),
    Op("mm", lambda m, x, y: x.mm(y), [(2, 3), (3, 4)], np_ref=np.matmul),
    Op("clamp", lambda m, x: x.clamp(min=0), [(3, 4)]),
    Op("view", lambda m, x: x.view(6, 2), [(3, 4)]),
    Op("unsqueeze", lambda m, x: x.unsqueeze(1), [(3, 4)]),
    Op("select", lambda m, x: x[:, 1], [(3, 4)]),
]
