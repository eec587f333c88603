"""Shape operations and basic indexing. Most are views: they share memory and the
version counter with their input."""
import builtins

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _make
from ..autograd.graph import Node
from ..autograd.grad_mode import state as _state
from . import _core
from ._core import (NP, T, declare, new_node, node_class, normalize_dims, ns_def, record,
                    to_tensor, view_of)

__all__ = ["reshape", "t", "transpose", "swapaxes", "swapdims", "permute", "unsqueeze",
           "squeeze", "select", "narrow", "ravel", "unflatten", "movedim", "moveaxis",
           "expand_copy", "repeat_interleave", "tile", "flip", "fliplr", "flipud", "roll",
           "chunk", "split", "tensor_split", "unbind", "cat", "concat", "concatenate", "stack",
           "hstack", "vstack", "dstack", "column_stack", "tril", "triu", "diag", "diagonal",
           "diag_embed", "nonzero", "unique", "meshgrid", "atleast_1d", "atleast_2d",
           "atleast_3d", "narrow_copy"]


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Tensor)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _check_numel(shape, x):
    known = 1
    neg = 0
    for s in shape:
        if s == -1:
            neg += 1
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s}")
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
    """A view when the layout allows one, else a copy. `x.reshape(2, -1)`"""
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
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    n = 1
    for d in x.shape[s:e + 1]:
        n *= d
    return reshape(input, x.shape[:s] + (n,) + x.shape[e + 1:])


def ravel(input):
    if not input._data.flags.c_contiguous:       # torch: contiguous() then view
        from .convert import clone
        input = clone(input)
    return reshape(input, -1)


def unflatten(input, dim, sizes):
    x = input._data
    d = normalize_dims(dim, x.ndim)[0]
    sizes = tuple(int(s) for s in sizes)
    known = 1
    for s in sizes:
        if s != -1:
            known *= s
    if (-1 not in sizes and known != x.shape[d]) or (-1 in sizes and
                                                       (known == 0 or x.shape[d] % known)):
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({x.shape[d]}) in the input tensor")
    return view(input, x.shape[:d] + sizes + x.shape[d + 1:])


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
    return view_of(input, np.swapaxes(x, d0, d1) if x.ndim else x.view(), TransposeBackward0,
                   (d0, d1))


swapaxes = swapdims = transpose


def permute(input, *dims):
    dims = _shape_arg(dims)
    n = input._data.ndim
    if len(dims) != n:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does "
                           "not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {n} is not equal to len(dims) = {len(dims)}")
    dims = normalize_dims(dims, n)
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    inv = tuple(int(i) for i in np.argsort(dims))
    return view_of(input, np.transpose(input._data, dims), PermuteBackward0, inv)


def movedim(input, source, destination):
    n = input._data.ndim
    src = normalize_dims(source, n)
    dst = normalize_dims(destination, n)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    order = [d for d in range(n) if d not in src]
    perm = [None] * n
    for s, d in zip(src, dst):
        perm[d] = s
    it = iter(order)
    perm = [p if p is not None else next(it) for p in perm]
    return permute(input, perm)


moveaxis = movedim

UnsqueezeBackward0 = node_class("UnsqueezeBackward0", lambda ns, g, m: (ns.reshape(g, m[1]),),
                                meta=("dim", "self_sym_sizes"))
SqueezeBackward0 = node_class("SqueezeBackward0", _reshape_rule, meta=("self_sym_sizes",))
SqueezeBackward1 = node_class("SqueezeBackward1", lambda ns, g, m: (ns.reshape(g, m[1]),),
                              meta=("dim", "self_sym_sizes"))
SqueezeBackward2 = node_class("SqueezeBackward2", lambda ns, g, m: (ns.reshape(g, m[1]),),
                              meta=("dim", "self_sym_sizes"))


def unsqueeze(input, dim):
    x = input._data
    d = normalize_dims(dim, x.ndim + 1)[0]
    return view_of(input, np.expand_dims(x, d), UnsqueezeBackward0, (d, x.shape))


def squeeze(input, dim=None):
    x = input._data
    if dim is None:
        return view_of(input, np.squeeze(x), SqueezeBackward0, x.shape)
    cls = SqueezeBackward1 if isinstance(dim, (int, np.integer)) else SqueezeBackward2
    dims = tuple(d for d in normalize_dims(dim, x.ndim) if x.ndim and x.shape[d] == 1)
    return view_of(input, np.squeeze(x, dims) if dims else x.view(), cls, (dim, x.shape))


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
    index = int(index)
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(x.shape)} at dimension {d}")
    key = (slice(None),) * d + (index % size, Ellipsis)   # Ellipsis: a view even when 0-d
    return view_of(input, x[key], SelectBackward0, (x.shape, key))


def _select_getitem(input, d, index):
    x = input._data
    size = x.shape[d]
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of bounds for dimension {d} with size {size}")
    key = (slice(None),) * d + (index % size, Ellipsis)   # Ellipsis: a view even when 0-d
    return view_of(input, x[key], SelectBackward0, (x.shape, key))


def slice_dim(input, dim, start, stop, step=1):
    x = input._data
    key = (slice(None),) * dim + (slice(start, stop, step),)
    return view_of(input, x[key], SliceBackward0, (x.shape, key))


def narrow(input, dim, start, length):
    x = input._data
    d = normalize_dims(dim, x.ndim)[0]
    size = x.shape[d]
    start, length = int(start), int(length)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    return slice_dim(input, d, start, start + length)


def narrow_copy(input, dim, start, length):
    from .convert import clone
    return clone(narrow(input, dim, start, length))


def _embed_rule(ns, g, meta):
    shape, key = meta
    return (ns.getitem(g, key),)


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
    n_real = builtins.sum(1 for k in key if k is not None and k is not Ellipsis)
    if n_real > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim}")
    if builtins.sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if key == (Ellipsis,) or key == ():
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
                    if k.step == 0:
                        raise ValueError("slice step cannot be zero")
                    raise ValueError("step must be greater than zero")
                out = slice_dim(out, dim, k.start, k.stop, k.step)
            dim += 1
        else:
            out = _select_getitem(out, dim, int(k))
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


# -- expand ------------------------------------------------------------------------------
ExpandBackward0 = node_class("ExpandBackward0", lambda ns, g, shape: (ns.sum_to(g, shape),),
                             meta=("self_sym_sizes",))


def expand(input, *sizes):
    sizes = _shape_arg(sizes)
    x = input._data
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(f"expand({input.type()}{{{list(x.shape)}}}, size={list(sizes)}): "
                           "the number of sizes provided "
                           f"({len(sizes)}) must be greater or equal to the number of dimensions "
                           f"in the tensor ({x.ndim})")
    for i in range(lead):
        if sizes[i] < 0:
            raise RuntimeError(f"The expanded size of the tensor ({sizes[i]}) isn't allowed in a "
                               f"leading, non-existing dimension {i}")
    target = tuple(x.shape[i - lead] if s == -1 and i >= lead else s
                   for i, s in enumerate(sizes))
    for i, s in enumerate(x.shape):
        if s != 1 and s != target[i + lead]:
            raise RuntimeError(f"The expanded size of the tensor ({target[i + lead]}) must match "
                               f"the existing size ({s}) at non-singleton dimension {i + lead}.  "
                               f"Target sizes: {list(sizes)}.  Tensor sizes: {list(x.shape)}")
    return view_of(input, np.broadcast_to(x, target), ExpandBackward0, x.shape)


def broadcast_to(input, size):
    return expand(input, size)


def expand_copy(input, *sizes):
    from .convert import clone
    return clone(expand(input, *sizes))


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


# -- copies: repeat, flip, roll, tril/triu -----------------------------------------------
def _repeat_rule(ns, g, meta):
    shape, reps = meta
    padded = (1,) * (len(reps) - len(shape)) + tuple(shape)
    inter = []
    for r, s in zip(reps, padded):
        inter += [r, s]
    g = ns.reshape(g, tuple(inter))
    g = ns.sum(g, tuple(range(0, 2 * len(reps), 2)))
    return (ns.reshape(g, shape),)


RepeatBackward0 = node_class("RepeatBackward0", _repeat_rule,
                             meta=("self_sym_sizes", "repeats"))


def repeat(input, *sizes):
    reps = _shape_arg(sizes)
    x = input._data
    if len(reps) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    data = np.tile(x, reps) if reps else x.copy()
    if data.ndim < len(reps):
        data = data.reshape((1,) * (len(reps) - data.ndim) + data.shape)
    if _state.grad_enabled and input._rg:
        return record(data, RepeatBackward0, (input,), meta=(x.shape, reps))
    return _make(data)


def tile(input, *dims):
    """`torch.tile(x, (2, 1))`; the method also takes `x.tile(2, 1)`."""
    dims = _shape_arg(dims)
    n = input._data.ndim
    if len(dims) < n:
        dims = (1,) * (n - len(dims)) + tuple(dims)
    return repeat(input, dims)


FlipBackward0 = node_class("FlipBackward0", lambda ns, g, dims: (ns.flip(g, dims),),
                           meta=("dims",))


def flip(input, *dims):
    x = input._data
    dims = normalize_dims(_shape_arg(dims), x.ndim)
    data = np.flip(x, dims).copy() if dims else x.copy()
    if _state.grad_enabled and input._rg:
        return record(data, FlipBackward0, (input,), meta=dims)
    return _make(data)


def fliplr(input):
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


def flipud(input):
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


def _roll_rule(ns, g, meta):
    shifts, dims = meta
    return (ns.roll(g, tuple(-s for s in shifts), dims),)


RollBackward0 = node_class("RollBackward0", _roll_rule, meta=("shifts", "dims"))


def _np_roll(x, shifts, dims):
    if dims is None:
        return np.roll(x, shifts[0])
    return np.roll(x, shifts, dims)


def roll(input, shifts, dims=None):
    x = input._data
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    if dims is not None:
        dims = normalize_dims(dims, x.ndim)
        if len(shifts) != len(dims):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                               f"dims:{len(dims)}")
    elif len(shifts) != 1:
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
    data = _np_roll(x, shifts, dims)
    if _state.grad_enabled and input._rg:
        return record(data, RollBackward0, (input,), meta=(shifts, dims))
    return _make(data)


TrilBackward0 = node_class("TrilBackward0", lambda ns, g, k: (ns.tril(g, k),),
                           meta=("diagonal",))
TriuBackward0 = node_class("TriuBackward0", lambda ns, g, k: (ns.triu(g, k),),
                           meta=("diagonal",))


def _tri(name, np_fn, cls):
    def op(input, diagonal=0, *, out=None):
        x = input._data
        if x.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        data = np_fn(x, diagonal)
        if _state.grad_enabled and input._rg:
            r = record(data, cls, (input,), meta=diagonal)
        else:
            r = _make(data)
        if out is not None:
            from ._core import to_out
            return to_out(r, out)
        return r
    op.__name__ = name
    return op


tril = _tri("tril", np.tril, TrilBackward0)
triu = _tri("triu", np.triu, TriuBackward0)


# -- diagonals ---------------------------------------------------------------------------
def _diag_view(x, offset, d1, d2):
    """A writable view of the diagonal of x over dims d1, d2 (appended as the last dim)."""
    m = np.moveaxis(x, (d1, d2), (-2, -1))
    r, c = m.shape[-2:]
    if offset >= 0:
        n = builtins.max(0, builtins.min(r, c - offset))
        start = m[..., :, offset:] if n else m[..., :0, :0]
    else:
        n = builtins.max(0, builtins.min(r + offset, c))
        start = m[..., -offset:, :] if n else m[..., :0, :0]
    s = m.strides
    return np.lib.stride_tricks.as_strided(start, m.shape[:-2] + (n,), s[:-2] + (s[-2] + s[-1],),
                                           writeable=x.flags.writeable)


def _np_diagonal(x, offset=0, d1=0, d2=1):
    return _diag_view(x, offset, d1, d2)


def _np_diag_embed(g, shape, offset, d1, d2):
    """Zeros of `shape` with g (diagonal as its last dim) on the diagonal (offset, d1, d2)."""
    z = np.zeros(shape, dtype=np.result_type(g))
    _diag_view(z, offset, d1, d2)[...] = g
    return z


def _diagonal_rule(ns, g, meta):
    shape, offset, d1, d2 = meta
    return (ns.diag_scatter(g, shape, offset, d1, d2),)


DiagonalBackward0 = node_class("DiagonalBackward0", _diagonal_rule,
                               meta=("self_sym_sizes", "offset", "dim1", "dim2"))
DiagonalBackward0_copy = node_class("DiagonalBackward0_copy", _diagonal_rule,
                                    meta=("self_sym_sizes", "offset", "dim1", "dim2"))
DiagonalBackwardBackward0 = node_class(
    "DiagonalBackwardBackward0", lambda ns, g, m: (ns.diagonal(g, m[0], m[1], m[2]),),
    meta=("offset", "dim1", "dim2"))
DiagEmbedBackward0 = node_class(
    "DiagEmbedBackward0", lambda ns, g, m: (ns.diagonal(g, m[0], m[1], m[2]),),
    meta=("offset", "dim1", "dim2"))


def diagonal(input, offset=0, dim1=0, dim2=1):
    x = input._data
    d1, d2 = normalize_dims((dim1, dim2), x.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return view_of(input, _diag_view(x, offset, d1, d2), DiagonalBackward0,
                   (x.shape, offset, d1, d2))


def _diag_scatter_t(g, shape, offset, d1, d2):
    data = _np_diag_embed(g._data, shape, offset, d1, d2)
    if _state.grad_enabled and g._rg:
        return record(data, DiagonalBackwardBackward0, (g,), meta=(offset, d1, d2))
    return _make(data)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    x = input._data
    n = x.shape[-1] + builtins.abs(offset)
    nd = x.ndim + 1
    d1, d2 = normalize_dims((dim1, dim2), nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rest = list(x.shape[:-1])
    shape = [0] * nd
    it = iter(rest)
    for i in range(nd):
        shape[i] = n if i in (d1, d2) else next(it)
    data = _np_diag_embed(x, tuple(shape), offset, d1, d2)
    if _state.grad_enabled and input._rg:
        return record(data, DiagEmbedBackward0, (input,), meta=(offset, d1, d2))
    return _make(data)


def diag(input, diagonal=0):
    x = input._data
    if x.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if x.ndim != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")
    data = _diag_view(x, diagonal, 0, 1).copy()
    if _state.grad_enabled and input._rg:
        return record(data, DiagonalBackward0_copy, (input,), meta=(x.shape, diagonal, 0, 1))
    return _make(data)


ns_def("diagonal", lambda g, o, a, b: _np_diagonal(g, o, a, b), diagonal)
ns_def("diag_scatter", _np_diag_embed, _diag_scatter_t)
ns_def("flip", lambda g, dims: np.flip(g, dims), lambda g, dims: flip(g, dims))
ns_def("roll", _np_roll, lambda g, s, d: roll(g, s, d))
ns_def("tril", np.tril, tril)
ns_def("triu", np.triu, triu)


# -- joining: cat and stack --------------------------------------------------------------
def _cat_rule(ns, g, meta):
    dim, sizes = meta
    out, start = [], 0
    for s in sizes:
        if s is None:                 # a skipped legacy empty input
            out.append(ns.zeros_shaped((0,), g))
            continue
        out.append(ns.getitem(g, (slice(None),) * dim + (slice(start, start + s),)))
        start += s
    return tuple(out)


def _stack_rule(ns, g, meta):
    dim, n = meta
    return tuple(ns.getitem(g, (slice(None),) * dim + (i,)) for i in range(n))


CatBackward0 = node_class("CatBackward0", _cat_rule, meta=("dim", "sizes"))
StackBackward0 = node_class("StackBackward0", _stack_rule, meta=("dim", "n"))


def _tensor_list(tensors, name):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        "not Tensor")
    return [to_tensor(t) for t in tensors]


def cat(tensors, dim=0, *, out=None):
    """Concatenate along an existing dim. `lightgrad.cat([a, b], 1)`"""
    ts = _tensor_list(tensors, "cat")
    if not ts:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    # NOTE: legacy behaviour: 1-D empty tensors are skipped whatever the other shapes
    live = [t for t in ts if not (t._data.ndim == 1 and t._data.shape[0] == 0)]
    ref = live[0]._data if live else ts[0]._data
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = normalize_dims(dim, ref.ndim)[0]
    for i, t in enumerate(ts):
        x = t._data
        if x.ndim == 1 and x.shape[0] == 0 and live:
            continue
        if x.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated")
        if x.ndim != ref.ndim:
            raise RuntimeError("Tensors must have same number of dimensions: got "
                               f"{ref.ndim} and {x.ndim}")
        for k in range(ref.ndim):
            if k != d and x.shape[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref.shape[k]} but got size {x.shape[k]} "
                                   f"for tensor number {i} in the list.")
    rt = _dtype.result_type(*ts).np if len(ts) > 1 else ts[0]._data.dtype
    arrays = [t._data for t in (live or ts[:1])]
    data = np.concatenate(arrays, axis=d).astype(rt, copy=False) if len(arrays) > 1 \
        else arrays[0].astype(rt, copy=True)
    if _state.grad_enabled and any(t._rg for t in ts):
        sizes = tuple(None if (t._data.ndim == 1 and t._data.shape[0] == 0 and live)
                      else t._data.shape[d] for t in ts)
        r = record(data, CatBackward0, ts, meta=(d, sizes), bcast=True)
    else:
        r = _make(data)
    if out is not None:
        from ._core import to_out
        return to_out(r, out)
    return r


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    ts = _tensor_list(tensors, "stack")
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = ts[0]._data.shape
    for i, t in enumerate(ts):
        if t._data.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(shape)} at entry 0 and {list(t._data.shape)} at entry {i}")
    d = normalize_dims(dim, len(shape) + 1)[0]
    rt = _dtype.result_type(*ts).np if len(ts) > 1 else ts[0]._data.dtype
    data = np.stack([t._data for t in ts], axis=d).astype(rt, copy=False)
    if _state.grad_enabled and any(t._rg for t in ts):
        r = record(data, StackBackward0, ts, meta=(d, len(ts)), bcast=True)
    else:
        r = _make(data)
    if out is not None:
        from ._core import to_out
        return to_out(r, out)
    return r


def atleast_1d(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(atleast_1d(t) for t in tensors[0])
    if len(tensors) > 1:
        return tuple(atleast_1d(t) for t in tensors)
    t = tensors[0]
    return reshape(t, (1,)) if t._data.ndim == 0 else t


def atleast_2d(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(atleast_2d(t) for t in tensors[0])
    if len(tensors) > 1:
        return tuple(atleast_2d(t) for t in tensors)
    t = tensors[0]
    n = t._data.ndim
    return reshape(t, (1, 1)) if n == 0 else unsqueeze(t, 0) if n == 1 else t


def atleast_3d(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(atleast_3d(t) for t in tensors[0])
    if len(tensors) > 1:
        return tuple(atleast_3d(t) for t in tensors)
    t = tensors[0]
    n = t._data.ndim
    if n == 0:
        return reshape(t, (1, 1, 1))
    if n == 1:
        return unsqueeze(unsqueeze(t, 0), -1)
    if n == 2:
        return unsqueeze(t, -1)
    return t


def hstack(tensors, *, out=None):
    ts = atleast_1d(*_tensor_list(tensors, "hstack"))
    ts = ts if isinstance(ts, tuple) else (ts,)
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    ts = atleast_2d(*_tensor_list(tensors, "vstack"))
    ts = ts if isinstance(ts, tuple) else (ts,)
    return cat(ts, 0, out=out)


def dstack(tensors, *, out=None):
    ts = atleast_3d(*_tensor_list(tensors, "dstack"))
    ts = ts if isinstance(ts, tuple) else (ts,)
    return cat(ts, 2, out=out)


def column_stack(tensors, *, out=None):
    ts = [reshape(t, (-1, 1)) if t._data.ndim <= 1 else t
          for t in _tensor_list(tensors, "column_stack")]
    return cat(ts, 1, out=out)


# -- splitting: multi-output views ---------------------------------------------------------
_multi_classes = {}


def _pad_grads(ns, gs, shapes):
    """Gradients of a multi-output op with None (unused outputs) replaced by zeros."""
    like = next(g for g in gs if g is not None)
    return [ns.zeros_shaped(s, like) if g is None else g for g, s in zip(gs, shapes)]


def _split_rule(ns, gs, meta):
    dim, shapes = meta
    return (ns.cat(_pad_grads(ns, gs, shapes), dim),)


def _unbind_rule(ns, gs, meta):
    dim, shapes = meta
    return (ns.stack(_pad_grads(ns, gs, shapes), dim),)


def _multi_class(name, rule, n):
    cls = _multi_classes.get((name, n))
    if cls is None:
        cls = type(name, (Node,), {"__slots__": (), "_rule": staticmethod(rule),
                                   "_saved_names": (), "_meta_names": ("dim", "sizes"),
                                   "_nout": n})
        cls.__module__ = "builtins"
        _multi_classes[(name, n)] = cls
    return cls


_MULTI = {"SplitBackward0": ("Split", _split_rule),
          "SplitWithSizesBackward0": ("SplitWithSizes", _split_rule),
          "UnbindBackward0": ("Unbind", _unbind_rule)}


def _multi_view(input, datas, name, dim):
    """Views of input sharing one node (split, chunk, unbind); in-place on them is refused."""
    base = input._base if input._base is not None else input
    if _state.grad_enabled and input._rg:
        flag, rule = _MULTI[name]
        cls = _multi_class(name, rule, len(datas))
        node = new_node(cls, (input,), meta=(dim, tuple(d.shape for d in datas)))
        outs = []
        for i, d in enumerate(datas):
            o = _make(d, node, i)
            o._x = {"multi_view": flag} if o._x is None else dict(o._x, multi_view=flag)
            _core.track_view(base, o)
            outs.append(o)
        _core.with_tangents(outs, node, (input,))
    else:
        outs = [_make(d) for d in datas]
        if input._rg:
            for o in outs:
                o._extra()["nograd_view"] = True
    for o in outs:
        o._vc = input._vc
        o._base = base
    return tuple(outs)


def split(tensor, split_size_or_sections, dim=0):
    x = tensor._data
    d = normalize_dims(dim, x.ndim)[0]
    size = x.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        s = int(split_size_or_sections)
        if s < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={s}")
        if s == 0 and size != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {size}")
        n = builtins.max(1, -(-size // s)) if s else 1
        bounds = [(i * s, builtins.min((i + 1) * s, size)) for i in range(n)]
        name = "SplitBackward0"
    else:
        sizes = [int(v) for v in split_size_or_sections]
        if builtins.sum(sizes) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
        bounds, start = [], 0
        for v in sizes:
            bounds.append((start, start + v))
            start += v
        name = "SplitWithSizesBackward0"
    pre = (slice(None),) * d
    return _multi_view(tensor, [x[pre + (slice(a, b),)] for a, b in bounds], name, d)


def split_with_sizes(tensor, split_sizes, dim=0):
    return split(tensor, list(split_sizes), dim)


def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    x = input._data
    d = normalize_dims(dim, x.ndim)[0]
    size = x.shape[d]
    return split(input, builtins.max(1, -(-size // chunks)) if size else 0, d) \
        if size else split(input, 0, d)


def unbind(input, dim=0):
    x = input._data
    if x.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = normalize_dims(dim, x.ndim)[0]
    pre = (slice(None),) * d
    datas = [x[pre + (i, Ellipsis)] for i in range(x.shape[d])]
    return _multi_view(input, datas, "UnbindBackward0", d)


def tensor_split(input, indices_or_sections, dim=0):
    x = input._data
    d = normalize_dims(dim, x.ndim)[0]
    size = x.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (int, np.integer)):
        n = int(indices_or_sections)
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        q, r = divmod(size, n)
        bounds, start = [], 0
        for i in range(n):
            step = q + (1 if i < r else 0)
            bounds.append((start, start + step))
            start += step
    else:
        idx = [int(i) for i in indices_or_sections]
        edges = [0] + idx + [size]
        bounds = [(builtins.min(a, size), builtins.max(builtins.min(b, size),
                                                       builtins.min(a, size)))
                  for a, b in zip(edges[:-1], edges[1:])]
    return tuple(slice_dim(input, d, a, b) for a, b in bounds)


def _t_zeros_shaped(shape, like):
    return _make(np.zeros(shape, dtype=like._data.dtype))


ns_def("zeros_shaped", lambda shape, like: np.zeros(shape, dtype=np.result_type(like)),
       _t_zeros_shaped)
ns_def("cat", lambda gs, dim: np.concatenate(gs, axis=dim), cat)
ns_def("stack", lambda gs, dim: np.stack(gs, axis=dim), stack)


# -- non-differentiable queries ------------------------------------------------------------
def nonzero(input, *, out=None, as_tuple=False):
    x = input._data
    if as_tuple:
        if x.ndim == 0:
            return (_make(np.zeros(1 if x.item() else 0, dtype=np.int64)),)
        return tuple(_make(i.astype(np.int64)) for i in np.nonzero(x))
    if x.ndim == 0:
        return _make(np.zeros((1 if x.item() else 0, 0), dtype=np.int64))
    return _make(np.argwhere(x).astype(np.int64))


def _unique_rule(ns, g, meta):
    raise NotImplementedError("the derivative for '_unique2' is not implemented.")


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Unique values (always sorted, as torch on CPU), optionally inverse and counts."""
    x = input._data
    if dim is None:
        res = np.unique(x, return_inverse=True, return_counts=True)
        vals, inv, cnt = res
        inv = inv.reshape(x.shape)
        node = "Unique2Backward0"
    else:
        d = normalize_dims(dim, x.ndim)[0]
        vals, inv, cnt = np.unique(x, return_inverse=True, return_counts=True, axis=d)
        inv = inv.reshape(-1)
        node = "UniqueDimBackward0"
    if _state.grad_enabled and input._rg:
        cls = node_class(node, _unique_rule)
        v = record(vals, cls, (input,))
    else:
        v = _make(vals)
    out = [v]
    if return_inverse:
        out.append(_make(inv.astype(np.int64)))
    if return_counts:
        out.append(_make(cnt.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


# -- composites ------------------------------------------------------------------------------
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    from .indexing import index_select
    if repeats is None:                      # repeat_interleave(repeats_tensor)
        r = input._data.astype(np.int64)
        return _make(np.repeat(np.arange(r.shape[0], dtype=np.int64), r))
    if dim is None:
        input = flatten(input)
        dim = 0
    x = input._data
    d = normalize_dims(dim, x.ndim)[0]
    if isinstance(repeats, Tensor) and repeats._data.ndim > 0 and repeats._data.size != 1:
        r = repeats._data.astype(np.int64)
        if r.shape[0] != x.shape[d]:
            raise RuntimeError("repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {r.shape[0]} and input.size({d}) = "
                               f"{x.shape[d]}")
        idx = np.repeat(np.arange(x.shape[d], dtype=np.int64), r)
        return index_select(input, d, _make(idx))
    n = int(repeats)
    from .convert import clone
    e = unsqueeze(input, d + 1)
    shape = list(e._data.shape)
    shape[d + 1] = n
    out = clone(expand(e, shape))
    return reshape(out, x.shape[:d] + (x.shape[d] * n,) + x.shape[d + 1:])


def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    ts = list(tensors)
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    sizes = [t._data.size for t in ts]
    n = len(ts)
    outs = []
    for i, t in enumerate(ts):
        shape = [1] * n
        shape[i] = -1
        outs.append(expand(view(t, shape), sizes))
    if swap:
        outs[0], outs[1] = outs[1], outs[0]
    return tuple(outs)


# -- registration ----------------------------------------------------------------------------
declare("view reshape flatten ravel unflatten view_as reshape_as atleast_1d atleast_2d "
        "atleast_3d", "ViewBackward0", "UnsafeViewBackward0")
declare("t", "TBackward0")
declare("transpose swapaxes swapdims", "TransposeBackward0")
declare("permute movedim moveaxis", "PermuteBackward0")
declare("unsqueeze", "UnsqueezeBackward0")
declare("squeeze", "SqueezeBackward0", "SqueezeBackward1", "SqueezeBackward2")
declare("select", "SelectBackward0")
declare("narrow tensor_split", "SliceBackward0")
declare("expand expand_as broadcast_to meshgrid", "ExpandBackward0")
declare("repeat tile", "RepeatBackward0")
declare("flip fliplr flipud", "FlipBackward0")
declare("roll", "RollBackward0")
declare("tril", "TrilBackward0")
declare("triu", "TriuBackward0")
declare("diagonal", "DiagonalBackward0")
declare("diag", "DiagonalBackward0_copy", "DiagEmbedBackward0")
declare("diag_embed", "DiagEmbedBackward0")
declare("cat concat concatenate hstack vstack dstack column_stack", "CatBackward0")
declare("stack", "StackBackward0")
declare("split chunk", "SplitBackward0", "SplitWithSizesBackward0")
declare("unbind", "UnbindBackward0")
declare("repeat_interleave", "ViewBackward0", "IndexSelectBackward0")

Tensor.view = view
Tensor.reshape = reshape
Tensor.flatten = flatten
Tensor.ravel = ravel
Tensor.unflatten = unflatten
Tensor.t = t
Tensor.transpose = transpose
Tensor.swapaxes = Tensor.swapdims = transpose
Tensor.permute = permute
Tensor.movedim = Tensor.moveaxis = movedim
Tensor.unsqueeze = unsqueeze
Tensor.squeeze = squeeze
Tensor.select = select
Tensor.narrow = narrow
Tensor.narrow_copy = narrow_copy
Tensor.T = property(lambda self: permute(self, tuple(range(self._data.ndim - 1, -1, -1))))


def _matrix_t(self, attr, batched):
    """`.mT`/`.mH`/`.H`: a transpose of the last two dims (conjugated for mH/H)."""
    nd = self._data.ndim
    if nd == 0:
        return self     # torch: deprecated identity on 0-d tensors
    if nd < 2 or (nd > 2 and not batched):
        what = "matrices or batches of matrices" if batched else "matrices (2-D tensors)"
        hint = " For batches of matrices, consider using tensor.mH" if nd > 2 else ""
        raise RuntimeError(f"tensor.{attr} is only supported on {what}. Got {nd}-D tensor.{hint}")
    out = transpose(self, -2, -1)
    if attr != "mT" and out._data.dtype.kind == "c":    # complex never requires grad here
        return _make(out._data.conj())
    return out


Tensor.mT = property(lambda self: _matrix_t(self, "mT", True))
Tensor.mH = property(lambda self: _matrix_t(self, "mH", True))
Tensor.H = property(lambda self: _matrix_t(self, "H", False))
Tensor.view_as = lambda self, other: view(self, other._data.shape)
Tensor.reshape_as = lambda self, other: reshape(self, other._data.shape)
Tensor.expand = expand
Tensor.expand_as = lambda self, other: expand(self, other._data.shape)
Tensor.broadcast_to = broadcast_to
Tensor.repeat = repeat
Tensor.tile = tile
Tensor.flip = flip
Tensor.fliplr = fliplr
Tensor.flipud = flipud
Tensor.roll = roll
Tensor.tril = tril
Tensor.triu = triu
Tensor.diag = diag
Tensor.diagonal = diagonal
Tensor.diag_embed = diag_embed
Tensor.split = split
Tensor.split_with_sizes = split_with_sizes
Tensor.chunk = chunk
Tensor.unbind = unbind
Tensor.tensor_split = tensor_split
Tensor.nonzero = nonzero
Tensor.unique = unique
Tensor.repeat_interleave = repeat_interleave


def _inplace_view_op(fn):
    """t_, unsqueeze_, squeeze_, transpose_: change self's shape in place."""
    def method(self, *args, **kwargs):
        from ._core import check_inplace, rebase
        check_inplace(self)
        r = fn(self, *args, **kwargs)
        self._data = r._data
        self._vc[0] += 1
        if r.grad_fn is not None:
            node_name = {"t": "TBackward1", "unsqueeze": "UnsqueezeBackward1",
                         "squeeze": "SqueezeBackward3" if not args and not kwargs
                         else "SqueezeBackward4", "transpose": "TransposeBackward1"}[
                fn.__name__]
            cls = node_class(node_name, type(r.grad_fn)._rule, meta=type(r.grad_fn)._meta_names)
            node = new_node(cls, (), meta=r.grad_fn._meta)
            node.next_functions = r.grad_fn.next_functions
            rebase(self, node)
        return self
    method.__name__ = fn.__name__ + "_"
    return method


for _f in (t, unsqueeze, squeeze, transpose):
    setattr(Tensor, _f.__name__ + "_", _inplace_view_op(_f))
Tensor.swapaxes_ = Tensor.swapdims_ = Tensor.transpose_
Tensor.tril_ = _core.inplace_method(tril)
Tensor.triu_ = _core.inplace_method(triu)


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
