"""Op-table entries for shape operations and basic indexing beyond their declared samples
(ops/shape.py, rearrange.py, joining.py): indexing syntax, properties and usage patterns."""
from .entry import Op

ENTRIES = [
    Op("reshape", lambda m, x: x.t().reshape(6), [(2, 3)], id="reshape-copy"),
    Op("ravel", lambda m, x: m.ravel(x.t()), [(2, 3)], id="ravel-noncontiguous"),
    Op("permute", lambda m, x: x.T, [(2, 3)], id="permute-T"),
    Op("select", lambda m, x: x[1, 2], [(2, 3)], id="select-0d"),
    Op("select", lambda m, x: x[:, 1], [(3, 4)], id="select-getitem"),
    Op("narrow", lambda m, x: x[1:, ::2], [(3, 4)], id="slice-step"),
    Op("narrow", lambda m, x: x[..., None, 1:], [(2, 3)], id="slice-ellipsis-none"),
    Op("chunk", lambda m, x: x.chunk(3)[1], [(4,)], id="chunk-one-used"),
    Op("unbind", lambda m, x: m.unbind(x)[0], [(3, 2)], id="unbind-one-used"),
]
