"""Op-table entries for advanced indexing, gather/scatter, masks and setitem."""
import numpy as np

from .entry import Op


def _with(shape, *consts, domain=(-2, 2)):
    """make_inputs: a random float input of `shape`, then constant arrays."""
    def make(rng):
        return [rng.uniform(*domain, shape)] + [np.asarray(c) for c in consts]
    return make


def _two(s1, s2, *consts):
    def make(rng):
        return [rng.uniform(-2, 2, s1), rng.uniform(-2, 2, s2)] + [np.asarray(c) for c in consts]
    return make


def _setitem_basic(m, x, v):
    y = x * 1
    y[0, 1:] = v * 2
    return y


def _setitem_scalar(m, x):
    y = x * 2
    y[1] = 5.0
    return y


def _setitem_adv(m, x, v):
    y = x * 1
    y[[0, 2], 1] = v
    return y


def _setitem_mask(m, x):
    y = x * 1
    y[y > 0] = 0.0
    return y


def _setitem_plain(m, x):
    plain = m.zeros(3, dtype=m.float64)
    plain[0] = x[1] * 3
    plain[1:] = x[:2] ** 2
    return plain


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
    Op("getitem", lambda m, x: x[[0, 2]], [(3, 2)], np_ref=lambda x: x[[0, 2]]),
    Op("getitem", lambda m, x: x[[1, 1, 0]], [(3,)], id="index-repeated"),
    Op("getitem", lambda m, x, i: x[i], [(3, 2)], make_inputs=_with((3, 2), [[0, 1], [2, 2]]),
       id="index-tensor-2d"),
    Op("getitem", lambda m, x: x[x > 0], [(3, 4)], id="index-mask"),
    Op("getitem", lambda m, x: x[:, [0, 2]], [(2, 3)], id="index-slice-list",
       np_ref=lambda x: x[:, [0, 2]]),
    Op("getitem", lambda m, x: x[0, :, [0, 1]], [(2, 3, 4)], id="index-int-slice-list"),
    Op("getitem", lambda m, x: x[[0, 1], :, [1, 0]], [(2, 3, 4)], id="index-separated"),
    Op("getitem", lambda m, x: x[..., [1]], [(2, 3)], id="index-ellipsis"),
    Op("getitem", lambda m, x: x[None, [0, 1], 1:], [(2, 3)], id="index-none"),
    Op("getitem", lambda m, x, mask: x[mask], [(2, 3)],
       make_inputs=_with((2, 3), [True, False]), id="index-mask-partial"),
    Op("setitem", _setitem_basic, [(2, 3), (2,)]),
    Op("setitem", _setitem_scalar, [(3, 2)], id="setitem-scalar"),
    Op("setitem", _setitem_adv, [(3, 2), (2,)], id="setitem-advanced"),
    Op("setitem", _setitem_mask, [(3,)], id="setitem-mask"),
    Op("setitem", _setitem_plain, [(3,)], id="setitem-plain-base"),
    Op("setitem", _view_inplace, [(2, 3), (2,)], id="view-inplace-mul"),
    Op("setitem", _base_inplace, [(2, 3)], id="base-inplace-views"),
    Op("setitem", _chain_inplace, [(2, 3)], id="view-chain-inplace"),
    Op("setitem", _diag_inplace, [(3, 3)], id="diagonal-inplace"),
    Op("index_put", lambda m, x, v: m.index_put(x, (m.tensor([0, 0, 2]),), v, accumulate=True),
       [(3, 2), (2,)], id="index_put-acc"),
    Op("index_put", lambda m, x, v: x.index_put((m.tensor([2, 0]), m.tensor([1, 1])), v),
       [(3, 2), (2,)]),
    Op("gather", lambda m, x, i: m.gather(x, 1, i), [(3, 2)],
       make_inputs=_with((3, 2), [[0, 0], [1, 0], [1, 1]]),
       np_ref=lambda x, i: np.take_along_axis(x, i, 1)),
    Op("gather", lambda m, x, i: x.gather(0, i), [(3,)], make_inputs=_with((3,), [2, 2, 0, 1]),
       id="gather-1d"),
    Op("take_along_dim", lambda m, x, i: m.take_along_dim(x, i, 1), [(2, 3)],
       make_inputs=_with((2, 3), [[0], [2]])),
    Op("take_along_dim", lambda m, x, i: x.take_along_dim(i), [(2, 3)],
       make_inputs=_with((2, 3), [5, 0, 0]), id="take_along_dim-flat"),
    Op("scatter", lambda m, x, i, s: m.scatter(x, 0, i, s), [(3, 2)],
       make_inputs=lambda rng: [rng.uniform(-2, 2, (3, 2)), np.array([[2, 0]]),
                                rng.uniform(-2, 2, (1, 2))]),
    Op("scatter", lambda m, x, i: x.scatter(1, i, 1.5), [(2, 3)],
       make_inputs=_with((2, 3), [[0], [2]]), id="scatter-value"),
    Op("scatter_add", lambda m, x, i, s: m.scatter_add(x, 1, i, s), [(2, 3)],
       make_inputs=lambda rng: [rng.uniform(-2, 2, (2, 3)), np.array([[0, 0], [2, 1]]),
                                rng.uniform(-2, 2, (2, 2))]),
    Op("index_select", lambda m, x, i: m.index_select(x, 1, i), [(2, 3)],
       make_inputs=_with((2, 3), [2, 0, 2]), np_ref=lambda x, i: x[:, i]),
    Op("index_add", lambda m, x, i, s: x.index_add(0, i, s, alpha=2), [(3, 2)],
       make_inputs=lambda rng: [rng.uniform(-2, 2, (3, 2)), np.array([0, 0]),
                                rng.uniform(-2, 2, (2, 2))]),
    Op("index_copy", lambda m, x, i, s: m.index_copy(x, 1, i, s), [(2, 3)],
       make_inputs=lambda rng: [rng.uniform(-2, 2, (2, 3)), np.array([2, 0]),
                                rng.uniform(-2, 2, (2, 2))]),
    Op("index_fill", lambda m, x, i: x.index_fill(1, i, -1.0), [(2, 3)],
       make_inputs=_with((2, 3), [0, 2])),
    Op("index_fill", lambda m, x, i, v: x.index_fill(0, i, v), [(3, 2)],
       make_inputs=lambda rng: [rng.uniform(-2, 2, (3, 2)), np.array([1]),
                                rng.uniform(-2, 2, ())], id="index_fill-tensor"),
    Op("masked_fill", lambda m, x: x.masked_fill(x > 0, 2.0), [(2, 3)]),
    Op("masked_fill", lambda m, x, mask: m.masked_fill(x, mask, 0.5), [(2, 3)],
       make_inputs=_with((2, 3), [True, False, True]), id="masked_fill-bcast-mask"),
    Op("masked_fill", lambda m, x, v: x.masked_fill(x < 0, v), [(2, 3), ()],
       id="masked_fill-tensor"),
    Op("masked_select", lambda m, x: m.masked_select(x, x > 0), [(2, 3)]),
    Op("masked_select", lambda m, x, mask: x.masked_select(mask), [(3,)],
       make_inputs=_with((3,), [[True, False, True], [False, True, True]]),
       id="masked_select-bcast"),
    Op("masked_scatter", lambda m, x, s: x.masked_scatter(x > 0, s), [(2, 3), (7,)]),
    Op("take", lambda m, x, i: m.take(x, i), [(2, 3)], make_inputs=_with((2, 3), [[5, 0], [0, -1]]),
       np_ref=lambda x, i: np.take(x, i)),
]
