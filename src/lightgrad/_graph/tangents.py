"""Where forward-mode tangents live: in the tensor's extra dict, while a dual level is open
(`active`). The graph needs this to restore the tangent of an unpacked saved tensor;
forward_ad.py builds dual levels and the JVP propagation on it."""
import weakref

active = [False]       # read by ops._core on every recorded op: is a dual level open?
FORWARD_ONLY = 2       # `_rg` of a dual tensor that does not require grad itself
_duals = []            # weak references to the tensors given a tangent in the open level
_duals_cap = [1024]    # prune dead references when the list reaches this length

def set_tangent(t, tangent):
    """Give tensor t the array `tangent` in the open level."""
    t._extra()["tangent"] = tangent
    if not t._rg:
        t._rg = FORWARD_ONLY
    _duals.append(weakref.ref(t))
    if len(_duals) >= _duals_cap[0]:     # a long level (a training loop): drop dead entries
        _duals[:] = [r for r in _duals if r() is not None]
        _duals_cap[0] = max(1024, 2 * len(_duals))


def tangent_of(t):
    x = getattr(t, "_x", None)
    return None if x is None else x.get("tangent")
