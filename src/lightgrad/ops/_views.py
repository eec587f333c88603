"""In-place ops and views: the checks torch makes before a write, the write itself, and the
history of a tensor that an in-place op changed.

An in-place op runs the out-of-place op on a snapshot of self and writes the result into
self, which takes the op's node (`rebase`). On a view it follows torch's rebase_history: the
base takes a `CopySlices` node that wraps the node of the op applied to the view, and every
live view of the base is rebuilt as an `AsStridedBackward0` of the base. A view's place
inside its base is found from the NumPy arrays' byte offsets and strides, so any chain of
views works. Forward AD: the tangents of the base and its views are kept in step the same
way.
"""
import builtins
import itertools
import weakref

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _make
from .._graph import engine, forward_ad
from .._graph.batched import Batched
from .._graph.graph import Node, T, node_class
from .._graph.grad_mode import state as _state
from ._record import new_node, ns_def, record, unwritable


# -- in-place ops --------------------------------------------------------------------------
_LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."
_VIEW_OF_LEAF_INPLACE = ("a view of a leaf Variable that requires grad is being used in an "
                         "in-place operation.")
_INFERENCE_INPLACE = (
    "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a "
    "clone to get a normal tensor before doing inplace update.See "
    "https://github.com/pytorch/rfcs/pull/17 for more details.")
_NOGRAD_VIEW = (
    "A view was created in no_grad mode and is being modified inplace with grad mode enabled. "
    "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify "
    "your code by moving both the view and the inplace either both inside the no_grad block "
    "(if you don't want the inplace to be tracked) or both outside (if you want the inplace to "
    "be tracked).")



def check_inplace(self):
    """The checks every in-place op makes before writing into `self`."""
    x = self._x
    if x:
        if x.get("inference") and not _state.inference:
            raise RuntimeError(_INFERENCE_INPLACE)
        if x.get("multi_view"):
            raise RuntimeError(
                f"Output {self._out_nr} of {x['multi_view']} is a view and is being modified "
                "inplace. This view is the output of a function that returns multiple views. "
                "Such functions do not allow the output views to be modified inplace. You "
                "should replace the inplace operation by an out-of-place one.")
    if _state.grad_enabled:
        base = self._base
        if base is not None:
            if x and x.get("nograd_view"):     # torch checks this before the leaf rule
                raise RuntimeError(_NOGRAD_VIEW)
            if base._rg is True and base.grad_fn is None:
                raise RuntimeError(_VIEW_OF_LEAF_INPLACE)
        elif self._rg is True and self.grad_fn is None:
            raise RuntimeError(_LEAF_INPLACE)


def write_into(self, data):
    """Copy data into self's array in place (torch refuses e.g. float results into ints)."""
    dst = self._data
    if not dst.flags.writeable:     # an expanded view, or a read-only NumPy array's memory
        raise unwritable(dst)
    if data.shape != dst.shape and np.broadcast_shapes(data.shape, dst.shape) != dst.shape:
        raise RuntimeError(f"output with shape {list(dst.shape)} doesn't match the broadcast "
                           f"shape {list(np.broadcast_shapes(data.shape, dst.shape))}")
    if data.dtype != dst.dtype and not np.can_cast(data.dtype, dst.dtype, "same_kind") \
            and data.dtype.kind != dst.dtype.kind:
        raise RuntimeError(f"result type {_dtype.from_numpy_dtype(data.dtype)._legacy} can't be "
                           f"cast to the desired output type {self.dtype._legacy}")
    np.copyto(dst, data, casting="unsafe")
    self._vc[0] += 1


def inplace(self, op, *args, **kwargs):
    """Run the out-of-place `op(self, *args)` and write its result into self, as torch's
    in-place ops do: self keeps its identity and data buffer, its version goes up, and
    (when recording) it takes the op's node as its new grad_fn."""
    check_inplace(self)
    if not self._data.flags.writeable:      # torch checks the overlap before the op runs
        raise unwritable(self._data)
    recording = _state.grad_enabled and (self._rg or any(
        isinstance(a, Tensor) and a._rg for a in itertools.chain(args, kwargs.values())))
    if not recording:
        r = op(self, *args, **kwargs)
        write_into(self, r._data)
        return self
    if self._base is not None:
        if inplace_on_view is None:
            raise NotImplementedError("in-place operations on views under autograd")
        return inplace_on_view(self, op, args, kwargs)
    # the node must see self's value from before the write: give it a snapshot
    old = _make(self._data.copy())
    old.grad_fn, old._rg, old._out_nr, old._acc = self.grad_fn, self._rg, self._out_nr, self._acc
    tangent = forward_ad.tangent_of(self)
    if tangent is not None:
        old._x = {"tangent": tangent}
    r = op(old, *args, **kwargs)
    write_into(self, r._data)
    rebase(self, r.grad_fn, r._out_nr)
    tangent = forward_ad.tangent_of(r)
    if tangent is not None:      # the result's tangent becomes self's, and its views'
        forward_ad.set_tangent(self, tangent)
        refresh_view_tangents(self)
    if self._x and self._x.get("views"):
        refresh_views(self)     # views of self now see the new history (AsStridedBackward0)
    return self


def inplace_method(fn):
    """The `op_` method of an out-of-place op `fn`: `Tensor.exp_ = inplace_method(exp)`."""
    def method(self, *args, **kwargs):
        return inplace(self, fn, *args, **kwargs)
    method.__name__ = method.__qualname__ = fn.__name__ + "_"
    return method


def rebase(t, node, out_nr=0):
    """Give t a new grad_fn after an in-place op; a retained grad follows the tensor."""
    had_retain = t.retains_grad
    t.grad_fn, t._out_nr, t._rg = node, out_nr, node is not None or t._rg
    if had_retain:
        t._x["retains_grad"] = False
        t.retain_grad()


def view_of(input, data, cls=None, meta=None, saved=()):
    """An output that shares input's memory and version counter (a view), with node `cls`
    attached when recording."""
    base = input._base if input._base is not None else input
    if _state.grad_enabled and input._rg and cls is not None:
        out = record(data, cls, (input,), saved, meta)
        track_view(base, out)   # so an in-place op on the base can rebuild its history
    else:
        out = _make(data)
        if input._rg and not _state.grad_enabled:
            out._extra()["nograd_view"] = True
    out._vc = input._vc
    out._base = base
    return out


# -- in-place on views: CopySlices and AsStridedBackward0 ------------------------------------
def _addr(a):
    return a.__array_interface__["data"][0]


def _positions(base, v):
    """Flat (C-order) positions in `base` of every element of the view `v`."""
    isz = base.itemsize
    off = _addr(v) - _addr(base)
    if base.flags.c_contiguous and off % isz == 0 and all(s % isz == 0 for s in v.strides):
        idx = np.arange(base.size, dtype=np.intp)
        st = tuple(s // isz * idx.itemsize for s in v.strides)
        return np.lib.stride_tricks.as_strided(idx[off // isz:] if v.size else idx, v.shape,
                                               st).copy()
    # general layouts: match byte addresses
    bidx = np.indices(base.shape).reshape(base.ndim, -1)
    baddr = (np.asarray(base.strides, dtype=np.intp)[:, None] * bidx).sum(0) if base.ndim \
        else np.zeros(1, np.intp)
    vidx = np.indices(v.shape).reshape(v.ndim, -1)
    vaddr = off + ((np.asarray(v.strides, dtype=np.intp)[:, None] * vidx).sum(0) if v.ndim
                   else np.zeros(1, np.intp))
    order = np.argsort(baddr, kind="stable")
    return order[np.searchsorted(baddr[order], vaddr)].reshape(v.shape)


def _np_take_flat(x, pos):
    return np.reshape(x, -1)[pos]


def _np_embed_flat(g, shape, pos):
    n = int(np.prod(shape))
    g = np.asarray(g)
    if g.dtype.kind == "f":
        z = np.bincount(np.reshape(pos, -1), weights=np.reshape(g, -1).astype(np.float64),
                        minlength=n).astype(g.dtype)
    else:
        z = np.zeros(n, dtype=g.dtype)
        np.add.at(z, np.reshape(pos, -1), np.reshape(g, -1))
    return z.reshape(shape)


def _np_put_flat(g, pos, v):
    r = np.array(g, copy=True)
    r.reshape(-1)[np.reshape(pos, -1)] = np.reshape(np.broadcast_to(v, np.shape(pos)), -1)
    return r


TakeFlatBackward = node_class("TakeBackward0",
                              lambda ns, g, m: (ns.embed_flat(g, m[0], m[1]),),
                              meta=("self_sym_sizes", "index"))
EmbedFlatBackward = node_class("AsStridedBackwardBackward0",
                               lambda ns, g, m: (ns.take_flat(g, m),), meta=("index",))


def _take_flat_t(x, pos):
    data = _np_take_flat(x._data, pos)
    if _state.grad_enabled and x._rg:
        return record(data, TakeFlatBackward, (x,), meta=(x._data.shape, pos))
    return _make(data)


def _embed_flat_t(g, shape, pos):
    data = _np_embed_flat(g._data, shape, pos)
    if _state.grad_enabled and g._rg:
        return record(data, EmbedFlatBackward, (g,), meta=pos)
    return _make(data)


def _put_flat_t(g, pos, v):
    keep = np.ones(g._data.size, dtype=g._data.dtype)
    keep[np.reshape(pos, -1)] = 0
    return g * _make(keep.reshape(g._data.shape)) + _embed_flat_t(v, g._data.shape, pos)


ns_def("take_flat", _np_take_flat, _take_flat_t)
ns_def("embed_flat", _np_embed_flat, _embed_flat_t)
ns_def("put_flat", _np_put_flat, _put_flat_t)

AsStridedBackward0 = node_class("AsStridedBackward0",
                                lambda ns, g, m: (ns.embed_flat(g, m[0], m[1]),),
                                meta=("self_geometry", "positions"))


def _copy_slices_rule(ns, g, meta):
    inner, pos, vshape = meta
    gv = ns.take_flat(g, pos)
    res = engine._run_rule(inner, gv, ns, ns is T)
    g0 = res[0]
    if g0 is None:
        g0 = ns.zeros_shaped(vshape, g)
    return (ns.put_flat(g, pos, g0),) + tuple(res[1:])


class CopySlices(Node):
    """The base's node after an in-place op on one of its views: runs the op's own node on
    the view's part of the gradient and passes the rest through."""
    __slots__ = ()
    _rule = staticmethod(_copy_slices_rule)
    _meta_names = ()

    def name(self):
        return "torch::autograd::CopySlices"

    def _release(self):
        self._meta[0]._release()


CopySlices.__module__ = "builtins"


def _base_edge(base):
    if base.grad_fn is not None:
        return (base.grad_fn, base._out_nr)
    if base._rg is True:
        return (base._get_acc(), 0)
    return (None, 0)


def _live_views(base):
    x = base._x
    refs = x.get("views") if x else None
    if not refs:
        return []
    live = [v for v in (r() for r in refs) if v is not None]
    x["views"] = [weakref.ref(v) for v in live]
    return live


def refresh_views(base, extra=()):
    """After an in-place op changed base's history, give each live view of base an
    AsStridedBackward0 node on base's new history (torch regenerates them the same way)."""
    views = _live_views(base)
    for v in extra:
        if all(v is not w for w in views):
            views.append(v)
            base._extra().setdefault("views", []).append(weakref.ref(v))
    if not views:
        return
    edge = _base_edge(base)
    if edge[0] is None:
        return
    bdata = base._data
    for v in views:
        if v._base is not base:
            continue
        node = new_node(AsStridedBackward0, ())
        node.next_functions = (edge,)
        node._meta = (bdata.shape, _positions(bdata, v._data))
        x = v._x
        if x and x.get("retains_grad"):
            rebase(v, node)
        else:
            v.grad_fn, v._out_nr, v._rg = node, 0, True


def inplace_on_view(view, op, args, kwargs):
    """The recorded in-place op on a view: base gets CopySlices, views get AsStrided."""
    base = view._base
    old = _make(view._data.copy())
    old.grad_fn, old._rg, old._out_nr, old._acc = view.grad_fn, view._rg, view._out_nr, \
        view._acc
    tangent = forward_ad.tangent_of(view)
    if tangent is not None:
        old._x = {"tangent": tangent}
    r = op(old, *args, **kwargs)
    if not view._data.flags.writeable:
        raise unwritable(view._data)
    write_into(view, r._data)
    if forward_ad.active[0]:
        _write_view_tangent(base, view, forward_ad.tangent_of(r))
    inner = r.grad_fn
    if inner is None:
        return view
    bdata = base._data
    pos = _positions(bdata, view._data)
    node = new_node(CopySlices, ())
    node.next_functions = (_base_edge(base),) + tuple(inner.next_functions[1:])
    node._meta = (inner, pos, view._data.shape)
    rebase(base, node)
    refresh_views(base, (view,))
    return view


def _write_view_tangent(base, view, tangent):
    """Forward AD: an in-place op on a view writes its tangent into the base's tangent."""
    old = forward_ad.tangent_of(base)
    if tangent is None and old is None:
        return
    batch = forward_ad._batch_size([old, tangent])
    lead = () if batch is None else (batch,)
    new = np.zeros(lead + base._data.shape, base._data.dtype) if old is None else \
        np.array(np.broadcast_to(_physical(old), lead + base._data.shape))
    pos = _positions(base._data, view._data).reshape(-1)
    new.reshape(lead + (-1,))[..., pos] = 0 if tangent is None else np.broadcast_to(
        _physical(tangent), lead + view._data.shape).reshape(lead + (-1,))
    forward_ad.set_tangent(base, new if batch is None else Batched(new))
    refresh_view_tangents(base, (view,))


def _physical(t):
    """A tangent's array (with the batch first for a batch of tangents)."""
    return t if type(t) is np.ndarray else t.a


def refresh_view_tangents(base, extra=()):
    """Forward AD: each live view of base reads its part of base's (new) tangent."""
    t = forward_ad.tangent_of(base)
    if t is None:
        return
    batched = type(t) is not np.ndarray
    a = _physical(t)
    flat = a.reshape(a.shape[:1] + (-1,)) if batched else a.reshape(-1)
    for v in _live_views(base) + [v for v in extra if v._base is base]:
        part = flat[..., _positions(base._data, v._data)]
        forward_ad.set_tangent(v, type(t)(part) if batched else part)


def track_view(base, view):
    """Remember `view` as a live view of `base` (weakly), for refresh_views."""
    x = base._extra()
    refs = x.get("views")
    if refs is None:
        x["views"] = [weakref.ref(view)]
        return
    refs.append(weakref.ref(view))
    if len(refs) >= x.get("vcap", 16):          # amortized pruning of dead views
        x["views"] = refs = [r for r in refs if r() is not None]
        x["vcap"] = builtins.max(16, 2 * len(refs))
