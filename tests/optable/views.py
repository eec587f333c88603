"""Op-table entries for in-place ops on views (ops/_views.py: CopySlices for the base,
AsStridedBackward0 for the other views): scenarios over several ops, not one op's samples."""
from .entry import Op


def _view_inplace(m, x, w):
    a = x * 1
    v = a[:, 1]
    u = a[1:]
    v.mul_(w)
    return a, v * 1, u + 0


def _base_inplace(m, x):
    a = x * 1
    v = a.t()[0]
    a.exp_()
    return v * v, a


def _chain_inplace(m, x):
    a = x * 1
    v = a.view(6)[1::2].unsqueeze(0)
    v.mul_(x[0] * 1)
    return a


def _diag_inplace(m, x):
    a = x * 1
    a.diagonal().mul_(3)
    return a


ENTRIES = [
    Op("inplace-on-view", _view_inplace, [(2, 3), (2,)], id="view-inplace-mul"),
    Op("inplace-on-view", _base_inplace, [(2, 3)], id="base-inplace-views"),
    Op("inplace-on-view", _chain_inplace, [(2, 3)], id="view-chain-inplace"),
    Op("inplace-on-view", _diag_inplace, [(3, 3)], id="diagonal-inplace"),
]
