"""Shape operations and basic indexing. Most are views: they share memory and the
version counter with their input."""
import numpy as np

from .._tensor import Tensor, _make
from ..autograd.grad_mode import state as _state
from ._core import NP, T, declare, node_class, normalize_dims, record, view_of

__all__ = ["reshape", "t", "transpose", "permute", "unsqueeze", "squeeze", "select", "narrow"]


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _check_numel(shape, x):
    known = 1
    neg = 0
    for s in shape:
        if s == -1:
            neg += 1
        else:
            known *= s
    if neg > 1:
        raise RuntimeError("only one dimension can be inferred")
    if (neg == 0 and known != x.size) or (neg == 1 and (known == 0 or x.size % known)):
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {x.size}")


def _reshape_rule(ns, g, in_shape):
    return (ns.reshape(g, in_shape),)


ViewBackward0 = node_class("ViewBackward0", _reshape_rule, meta=("self_sym_sizes",))
UnsafeViewBackward0 = node_class("UnsafeViewBackward0", _reshape_rule,
                                 meta=("self_sym_sizes",))


def view(self, *shape):
    """A view with a new shape; fails when the memory layout does not allow one."""
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)) and \
            hasattr(shape[0], "np"):
        return _make(self._data.view(shape[0].np))  # view(dtype)
    shape = _shape_arg(shape)
    x = self._data
    _check_numel(shape, x)
    data = x.view()
    try:
        data.shape = shape
    except AttributeError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.") from None
    return view_of(self, data, ViewBackward0, x.shape)


def reshape(input, *shape):
    shape = _shape_arg(shape)
    x = input._data
    _check_numel(shape, x)
    data = x.view()
    try:
        data.shape = shape
    except AttributeError:          # needs a copy: torch's clone + _unsafe_view
        data = x.reshape(shape)
        if _state.grad_enabled and input._rg:
            return record(data, UnsafeViewBackward0, (input,), meta=x.shape)
        return _make(data)
    return view_of(input, data, ViewBackward0, x.shape)


def flatten(input, start_dim=0, end_dim=-1):
    x = input._data
    if x.ndim == 0:
        return reshape(input, 1)
    s, e = normalize_dims((start_dim, end_dim), x.ndim)
    if s == e:
        return input
    n = 1
    for d in x.shape[s:e + 1]:
        n *= d
    return reshape(input, x.shape[:s] + (n,) + x.shape[e + 1:])


TBackward0 = node_class("TBackward0", lambda ns, g, m: (ns.mT(g) if m >= 2 else g,),
                        meta=("ndim",))
TransposeBackward0 = node_class("TransposeBackward0",
                                lambda ns, g, m: (ns.swapaxes(g, m[0], m[1]),),
                                meta=("dim0", "dim1"))
PermuteBackward0 = node_class("PermuteBackward0",
                              lambda ns, g, inv: (ns.transpose(g, inv),), meta=("dims",))


def t(input):
    x = input._data
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return view_of(input, x.T, TBackward0, x.ndim)


def transpose(input, dim0, dim1):
    x = input._data
    d0, d1 = normalize_dims((dim0, dim1), x.ndim)
    return view_of(input, np.swapaxes(x, d0, d1), TransposeBackward0, (d0, d1))


def permute(input, *dims):
    dims = normalize_dims(_shape_arg(dims), input._data.ndim)
    if sorted(dims) != list(range(input._data.ndim)):
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does "
                           "not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {input._data.ndim} is not equal to len(dims) = "
                           f"{len(dims)}")
    inv = tuple(np.argsort(dims))
    return view_of(input, np.transpose(input._data, dims), PermuteBackward0, inv)


UnsqueezeBackward0 = node_class("UnsqueezeBackward0", lambda ns, g, m: (ns.reshape(g, m[1]),),
                                meta=("dim", "self_sym_sizes"))
SqueezeBackward0 = node_class("SqueezeBackward0", _reshape_rule, meta=("self_sym_sizes",))
SqueezeBackward1 = node_class("SqueezeBackward1", lambda ns, g, m: (ns.reshape(g, m[1]),),
                              meta=("dim", "self_sym_sizes"))


def unsqueeze(input, dim):
    x = input._data
    d = normalize_dims(dim, x.ndim + 1)[0]
    return view_of(input, np.expand_dims(x, d), UnsqueezeBackward0, (d, x.shape))


def squeeze(input, dim=None):
    x = input._data
    if dim is None:
        return view_of(input, np.squeeze(x), SqueezeBackward0, x.shape)
    dims = tuple(d for d in normalize_dims(dim, x.ndim) if x.ndim and x.shape[d] == 1)
    return view_of(input, np.squeeze(x, dims) if dims else x.view(), SqueezeBackward1,
                   (dim, x.shape))


# -- basic indexing: select and slice ----------------------------------------------------
def _index_rule(ns, g, meta):
    shape, key = meta
    return (ns.embed(g, shape, key),)


SelectBackward0 = node_class("SelectBackward0", _index_rule, meta=("self_sym_sizes", "key"))
SliceBackward0 = node_class("SliceBackward0", _index_rule, meta=("self_sym_sizes", "key"))
AliasBackward0 = node_class("AliasBackward0", lambda ns, g, m: (g,))


def select(input, dim, index):
    x = input._data
    d = normalize_dims(dim, x.ndim)[0]
    size = x.shape[d]
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of bounds for dimension {d} with size {size}")
    key = (slice(None),) * d + (int(index) % size,)
    return view_of(input, x[key], SelectBackward0, (x.shape, key))


def slice_dim(input, dim, start, stop, step=1):
    x = input._data
    key = (slice(None),) * dim + (slice(start, stop, step),)
    return view_of(input, x[key], SliceBackward0, (x.shape, key))


def narrow(input, dim, start, length):
    d = normalize_dims(dim, input._data.ndim)[0]
    start = int(start) % input._data.shape[d] if start < 0 else int(start)
    return slice_dim(input, d, start, start + length)


def _embed_rule(ns, g, meta):
    shape, key = meta
    return (g[key] if False else ns.getitem(g, key),)


EmbedBackward = node_class("SliceBackwardBackward0", _embed_rule, meta=("shape", "key"))


def _embed(g, shape, key):
    """Zeros of `shape` with g at `key`: select/slice backward, itself differentiable."""
    data = NP.embed(g._data, shape, key)
    if _state.grad_enabled and g._rg:
        return record(data, EmbedBackward, (g,), meta=(shape, key))
    return _make(data)


def basic_index(input, key):
    """x[key] for keys of ints, slices, None and Ellipsis: a chain of select, slice and
    unsqueeze views, as torch builds it."""
    if not isinstance(key, tuple):
        key = (key,)
    x = input._data
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
    if n_real > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim}")
    if key == (Ellipsis,):
        return view_of(input, x.view(), AliasBackward0)
    if key == (slice(None),):
        return slice_dim(input, 0, None, None)
    out, dim = input, 0
    for k in key:
        if k is Ellipsis:
            dim += x.ndim - n_real
        elif k is None:
            out = unsqueeze(out, dim)
            dim += 1
        elif isinstance(k, slice):
            if k != slice(None):
                if k.step is not None and k.step <= 0:
                    raise ValueError("step must be greater than zero")
                out = slice_dim(out, dim, k.start, k.stop, k.step)
            dim += 1
        else:
            out = select(out, dim, int(k))
    return out if out is not input else view_of(input, x.view(), AliasBackward0)


def _getitem_np(x, key):
    return x[key]


def _getitem_t(x, key):
    return _index_t(x, key)


IndexBasicBackward = node_class("SliceBackward0", _index_rule, meta=("self_sym_sizes", "key"))


def _index_t(x, key):
    """Differentiable x[key] for an arbitrary basic key in one node (used by rules)."""
    data = x._data[key]
    if _state.grad_enabled and x._rg:
        return record(data, IndexBasicBackward, (x,), meta=(x._data.shape, key))
    return _make(data)


NP.getitem = _getitem_np
T.getitem = _getitem_t
T.embed = _embed
T.reshape = lambda x, shape: reshape(x, shape)
T.swapaxes = lambda x, a, b: transpose(x, a, b)
T.transpose = lambda x, axes: permute(x, axes)
T.mT = lambda x: transpose(x, -2, -1)

declare("view reshape flatten", "ViewBackward0", "UnsafeViewBackward0")
declare("t", "TBackward0")
declare("transpose", "TransposeBackward0")
declare("permute", "PermuteBackward0")
declare("unsqueeze", "UnsqueezeBackward0")
declare("squeeze", "SqueezeBackward0", "SqueezeBackward1")
declare("select", "SelectBackward0")
declare("narrow", "SliceBackward0")

Tensor.view = view
Tensor.reshape = reshape
Tensor.flatten = flatten
Tensor.t = t
Tensor.transpose = transpose
Tensor.permute = permute
Tensor.unsqueeze = unsqueeze
Tensor.squeeze = squeeze
Tensor.select = select
Tensor.narrow = narrow
Tensor.T = property(lambda self: permute(self, tuple(range(self._data.ndim - 1, -1, -1))))
Tensor.mT = property(lambda self: transpose(self, -2, -1))
Tensor.view_as = lambda self, other: view(self, other._data.shape)
Tensor.reshape_as = lambda self, other: reshape(self, other._data.shape)


# -- expand ------------------------------------------------------------------------------
ExpandBackward0 = node_class("ExpandBackward0", lambda ns, g, shape: (ns.sum_to(g, shape),),
                             meta=("self_sym_sizes",))


def expand(input, *sizes):
    sizes = _shape_arg(sizes)
    x = input._data
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(x.shape)}}}, size={list(sizes)}): "
                           "the number of sizes provided "
                           f"({len(sizes)}) must be greater or equal to the number of dimensions "
                           f"in the tensor ({x.ndim})")
    target = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    for i, s in enumerate(x.shape):
        if s != 1 and s != target[i + lead]:
            raise RuntimeError(f"The expanded size of the tensor ({target[i + lead]}) must match "
                               f"the existing size ({s}) at non-singleton dimension {i + lead}.  "
                               f"Target sizes: {list(sizes)}.  Tensor sizes: {list(x.shape)}")
    return view_of(input, np.broadcast_to(x, target), ExpandBackward0, x.shape)


def broadcast_to(input, size):
    return expand(input, size)


def _t_sum_to(g, shape):
    gs = g._data.shape
    if gs == shape:
        return g
    lead = len(gs) - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape)
                                      if s == 1 and gs[i + lead] != 1)
    from .reduction import sum as _sum
    return reshape(_sum(g, axes, True), shape) if axes else reshape(g, shape)


def _t_fix(g, shape, dtype):
    if g._data.shape != shape:
        g = _t_sum_to(g, shape)
    if g._data.dtype != dtype:
        from .convert import to_dtype
        g = to_dtype(g, dtype)
    return g


T.broadcast_to = lambda x, shape: expand(x, shape)
T.sum_to = _t_sum_to
T.fix = _t_fix
declare("expand expand_as broadcast_to", "ExpandBackward0")
Tensor.expand = expand
Tensor.expand_as = lambda self, other: expand(self, other._data.shape)
Tensor.broadcast_to = broadcast_to


def _is_basic_key(key):
    items = key if isinstance(key, tuple) else (key,)
    for k in items:
        if not (k is None or k is Ellipsis or isinstance(k, (slice, int, np.integer))
                and not isinstance(k, (bool, np.bool_))):
            return False
    return True


def getitem(self, key):
    """x[key]: basic keys make views (select/slice chains); others go to advanced indexing."""
    if _is_basic_key(key):
        return basic_index(self, key)
    from .indexing import advanced_index
    return advanced_index(self, key)


Tensor.__getitem__ = getitem
