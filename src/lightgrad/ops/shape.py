"""Views that change the shape (view, reshape, transpose, permute, squeeze, expand, ...)
and basic indexing (select, narrow, x[key]), each declared once with its rule and vmap
rule. They share memory and the version counter with their input (reshape copies when the
layout needs it). rearrange.py and joining.py hold the ops that copy.
"""
import builtins
import operator

import numpy as np

from .._tensor import Tensor, _make
from ._batching import along_dim, arg, composite, phys, shift, sizes_arg
from ._core import (
    NP,
    T,
    check_inplace,
    defop,
    emit,
    new_node,
    node_class,
    normalize_dims,
    publish,
    rebase,
    view_of,
)
from ._core import Sample as S
from ._record import distinct_dims
from .convert import clone, to_dtype
from .reduction import sum as _sum


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Tensor)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _sizes_arg(shape, name, argname):
    """view/reshape sizes, refused as torch's argument parser refuses them (floats, strs,
    None; int-valued tensors and NumPy ints are indices and pass)."""
    seq = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list, Tensor)) \
        else shape
    out = []
    for i, s in enumerate(seq):
        try:
            out.append(operator.index(s))
        except TypeError:
            kind = type(s).__name__
            if len(shape) == 1 and seq is shape:
                raise TypeError(f"{name}(): argument '{argname}' (position 1) must be tuple of "
                                f"ints, not {kind}") from None
            if i == 0:
                raise TypeError(f"{name}(): argument '{argname}' (position 1) must be tuple of "
                                f"ints, but found element of type {kind} at pos 0") from None
            raise TypeError(f"{name}(): argument '{argname}' failed to unpack the object at pos "
                            f"{i + 1} with error \"type must be tuple of ints,but got {kind}\"")\
                from None
    return tuple(out)


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


# -- vmap rules of the shape ops (ops/_batching.py has the protocol) -----------------------
def _reshape_batching(c, args, kwargs):
    x = args[0]
    return c.wrap(c(x._p, (x._p.shape[0],) + sizes_arg(args, kwargs, "shape")))


def _flatten_batching(c, args, kwargs):
    x = args[0]
    nd = x.dim()
    start, end = arg(args, kwargs, 1, "start_dim", 0), arg(args, kwargs, 2, "end_dim", -1)
    if nd == 0:
        return c.wrap(x._p.reshape(x._p.shape[0], 1))
    return c.wrap(c(x._p, shift(start, nd), shift(end, nd)))


def _squeeze_batching(c, args, kwargs):
    x = args[0]
    d = arg(args, kwargs, 1, "dim")
    if d is None:
        dims = tuple(i + 1 for i, s in enumerate(x.shape) if s == 1)
        return c.wrap(c(x._p, dims) if dims else x._p)
    return c.wrap(c(x._p, shift(d, x.dim())))


def _two_dims_batching(first, second):
    """Ops taking two dims after the tensor (transpose, movedim): both move one right."""
    def rule(c, args, kwargs):
        x = args[0]
        nd = x.dim()
        d0, d1 = arg(args, kwargs, 1, first), arg(args, kwargs, 2, second)
        return c.wrap(c(x._p, shift(d0, nd), shift(d1, nd)))
    return rule


def _t_batching(c, args, kwargs):
    x = args[0]
    if x.dim() > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{x.dim()}D")
    return x if x.dim() < 2 else c.wrap(x._p.transpose(1, 2))


def _permute_batching(c, args, kwargs):
    x = args[0]
    return c.wrap(c(x._p, (0,) + shift(sizes_arg(args, kwargs, "dims"), x.dim())))


def _expand_batching(c, args, kwargs):
    sizes = sizes_arg(args, kwargs, "size")
    p = phys(c, args[0], len(sizes))
    return c.wrap(c(p, (p.shape[0],) + sizes))


_ALONG_DIM1 = along_dim(1)


@defop(nodes=(ViewBackward0,), batch=_reshape_batching, samples=[
    S((2, 3), args=(-1, 2), method=True, np_ref=lambda x: x.reshape(-1, 2)),
    S((1,), args=((),), method=True, id="0d")])
def view(self, *shape):
    """A view with a new shape; fails when the memory layout does not allow one."""
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)) and \
            hasattr(shape[0], "np"):
        return _make(self._data.view(shape[0].np))  # view(dtype)
    shape = _sizes_arg(shape, "view", "size")
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


@defop(nodes=(ViewBackward0, UnsafeViewBackward0), batch=_reshape_batching, samples=[
    S((2, 3), args=((3, 2),), np_ref=lambda x: x.reshape(3, 2))])
def reshape(input, *shape):
    """A view when the layout allows one, else a copy. `x.reshape(2, -1)`"""
    shape = _sizes_arg(shape, "reshape", "shape")
    x = input._data
    _check_numel(shape, x)
    data = x.view()
    try:
        data.shape = shape
    except AttributeError:          # needs a copy: torch's clone + _unsafe_view
        data = x.reshape(shape)
        return emit(data, UnsafeViewBackward0, (input,), meta=x.shape)
    return view_of(input, data, ViewBackward0, x.shape)


@defop(nodes=(ViewBackward0,), batch=_flatten_batching, samples=[
    S((2, 3, 2), args=(1,), np_ref=lambda x: x.reshape(2, 6)), S((), id="0d")])
def flatten(input, start_dim=0, end_dim=-1):
    x = input._data
    if x.ndim == 0:
        normalize_dims((start_dim, end_dim), 0)     # torch checks the dims of a 0-d input too
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


@defop(nodes=(ViewBackward0,), batch=composite(lambda lg, x: x.reshape(-1)),
       samples=[S((2, 3), np_ref=np.ravel)])
def ravel(input):
    if not input._data.flags.c_contiguous:       # torch: contiguous() then view
        input = clone(input)
    return reshape(input, -1)


@defop(nodes=(ViewBackward0,), batch=_ALONG_DIM1, samples=[
    S((3, 4), args=(1, (2, 2)), np_ref=lambda x: x.reshape(3, 2, 2))])
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
                                lambda ns, g, m: (ns.swapaxes(g, m[0], m[1]) if m[0] != m[1]
                                                  else g,),
                                meta=("dim0", "dim1"))
PermuteBackward0 = node_class("PermuteBackward0",
                              lambda ns, g, inv: (ns.transpose(g, inv),), meta=("dims",))


def _inplace_view_op(node_name):
    """t_, unsqueeze_, squeeze_, transpose_: change self's shape in place; torch names the
    node `node_name(args, kwargs)`."""
    def factory(fn):
        def method(self, *args, **kwargs):
            check_inplace(self)
            r = fn(self, *args, **kwargs)
            self._data = r._data
            self._vc[0] += 1
            if r.grad_fn is not None:
                cls = node_class(node_name(args, kwargs), type(r.grad_fn)._rule,
                                 meta=type(r.grad_fn)._meta_names)
                node = new_node(cls, (), meta=r.grad_fn._meta)
                node.next_functions = r.grad_fn.next_functions
                rebase(self, node)
            return self
        method.__name__ = fn.__name__ + "_"
        return method
    return factory


@defop(nodes=(TBackward0,), inplace=_inplace_view_op(lambda a, k: "TBackward1"),
       batch=_t_batching, samples=[S((2, 3), np_ref=np.transpose), S((3,), id="1d")])
def t(input):
    x = input._data
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return view_of(input, x.T, TBackward0, x.ndim)


@defop(aliases=("swapaxes", "swapdims"), nodes=(TransposeBackward0,),
       inplace=_inplace_view_op(lambda a, k: "TransposeBackward1"),
       batch=_two_dims_batching("dim0", "dim1"), samples=[
           S((2, 3, 4), args=(0, -1), np_ref=lambda x: np.swapaxes(x, 0, -1)),
           S((2, 3), args=(0, 1), id="2d")])
def transpose(input, dim0, dim1):
    x = input._data
    d0, d1 = normalize_dims((dim0, dim1), x.ndim)
    return view_of(input, np.swapaxes(x, d0, d1) if x.ndim else x.view(), TransposeBackward0,
                   (d0, d1))


@defop(nodes=(PermuteBackward0,), batch=_permute_batching, samples=[
    S((2, 3, 4), args=(2, 0, 1), method=True, np_ref=lambda x: np.transpose(x, (2, 0, 1))),
    S((2, 3, 4), args=((1, 2, 0),), id="tuple")])
def permute(input, *dims):
    if not dims:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
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


@defop(aliases=("moveaxis",), nodes=(PermuteBackward0,),
       batch=_two_dims_batching("source", "destination"), samples=[
           S((2, 3, 4), args=(0, 2), np_ref=lambda x: np.moveaxis(x, 0, 2)),
           S((2, 3, 4), args=((0, 1), (2, 0)), id="dims",
             np_ref=lambda x: np.moveaxis(x, (0, 1), (2, 0)))])
def movedim(input, source, destination):
    n = input._data.ndim
    src = normalize_dims(source, n)
    dst = normalize_dims(destination, n)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    if n == 0:          # a 0-d tensor takes dims 0 / -1 and has nothing to move
        return permute(input, ())
    order = [d for d in range(n) if d not in src]
    perm = [None] * n
    for s, d in zip(src, dst):
        perm[d] = s
    it = iter(order)
    perm = [p if p is not None else next(it) for p in perm]
    return permute(input, perm)


UnsqueezeBackward0 = node_class("UnsqueezeBackward0", lambda ns, g, m: (ns.reshape(g, m[1]),),
                                meta=("dim", "self_sym_sizes"))
SqueezeBackward0 = node_class("SqueezeBackward0", _reshape_rule, meta=("self_sym_sizes",))
SqueezeBackward1 = node_class("SqueezeBackward1", lambda ns, g, m: (ns.reshape(g, m[1]),),
                              meta=("dim", "self_sym_sizes"))
SqueezeBackward2 = node_class("SqueezeBackward2", lambda ns, g, m: (ns.reshape(g, m[1]),),
                              meta=("dim", "self_sym_sizes"))


@defop(nodes=(UnsqueezeBackward0,), inplace=_inplace_view_op(lambda a, k: "UnsqueezeBackward1"),
       batch=along_dim(1, new_dim=True), samples=[S((2, 3), args=(-1,)),
                                                  S((), args=(0,), id="0d")])
def unsqueeze(input, dim):
    x = input._data
    d = normalize_dims(dim, x.ndim + 1)[0]
    return view_of(input, np.expand_dims(x, d), UnsqueezeBackward0, (d, x.shape))


@defop(nodes=(SqueezeBackward0, SqueezeBackward1, SqueezeBackward2),
       inplace=_inplace_view_op(lambda a, k: "SqueezeBackward4" if a or k else
                                "SqueezeBackward3"),
       batch=_squeeze_batching, samples=[
           S((2, 1, 3, 1), np_ref=np.squeeze), S((2, 1, 3), args=(1,), id="dim"),
           S((1, 3, 1), args=((0, 2),), id="dims")])
def squeeze(input, dim=None):
    x = input._data
    if dim is None:
        return view_of(input, np.squeeze(x), SqueezeBackward0, x.shape)
    cls = SqueezeBackward1 if isinstance(dim, (int, np.integer)) else SqueezeBackward2
    dims = tuple(d for d in distinct_dims(normalize_dims(dim, x.ndim))
                 if x.ndim and x.shape[d] == 1)
    return view_of(input, np.squeeze(x, dims) if dims else x.view(), cls, (dim, x.shape))


# -- basic indexing: select and slice ----------------------------------------------------
def _index_rule(ns, g, meta):
    shape, key = meta
    return (ns.embed(g, shape, key),)


SelectBackward0 = node_class("SelectBackward0", _index_rule, meta=("self_sym_sizes", "key"))
SliceBackward0 = node_class("SliceBackward0", _index_rule, meta=("self_sym_sizes", "key"))
AliasBackward0 = node_class("AliasBackward0", lambda ns, g, m: (g,))


@defop(nodes=(SelectBackward0,), batch=_ALONG_DIM1, samples=[
    S((2, 3), args=(1, -1), np_ref=lambda x: x[:, -1])])
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


def _select_getitem(input, d, index, pos=None):
    x = input._data
    size = x.shape[d]
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of bounds for dimension {d if pos is None else pos}"
                         f" with size {size}")
    key = (slice(None),) * d + (index % size, Ellipsis)   # Ellipsis: a view even when 0-d
    return view_of(input, x[key], SelectBackward0, (x.shape, key))


def slice_dim(input, dim, start, stop, step=1):
    x = input._data
    key = (slice(None),) * dim + (slice(start, stop, step),)
    return view_of(input, x[key], SliceBackward0, (x.shape, key))


def _narrow_bounds(x, dim, start, length):
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
    return d, start, start + length


@defop(nodes=(SliceBackward0,), batch=_ALONG_DIM1, samples=[
    S((2, 4), args=(1, 1, 2), np_ref=lambda x: x[:, 1:3])])
def narrow(input, dim, start, length):
    d, start, stop = _narrow_bounds(input._data, dim, start, length)
    return slice_dim(input, d, start, stop)


NarrowCopyBackward0 = node_class("NarrowCopyBackward0", _index_rule,
                                 meta=("self_sym_sizes", "key"))


@defop(nodes=(NarrowCopyBackward0,), batch=_ALONG_DIM1,
       samples=[S((2, 4), args=(1, 1, 2), np_ref=lambda x: x[:, 1:3])])
def narrow_copy(input, dim, start, length):
    """narrow's slice as a new tensor."""
    x = input._data
    d, start, stop = _narrow_bounds(x, dim, start, length)
    key = (slice(None),) * d + (slice(start, stop),)
    data = x[key].copy()
    return emit(data, NarrowCopyBackward0, (input,), meta=(x.shape, key))


def _embed_rule(ns, g, meta):
    shape, key = meta
    return (ns.getitem(g, key),)


EmbedBackward = node_class("SliceBackwardBackward0", _embed_rule, meta=("shape", "key"))


def _embed(g, shape, key):
    """Zeros of `shape` with g at `key`: select/slice backward, itself differentiable."""
    data = NP.embed(g._data, shape, key)
    return emit(data, EmbedBackward, (g,), meta=(shape, key))


def basic_index(input, key):
    """x[key] for keys of ints, slices, None and Ellipsis: a chain of select, slice and
    unsqueeze views, as torch builds it."""
    if not isinstance(key, tuple):
        key = (key,)
    x = input._data
    n_real = builtins.sum(1 for k in key if k is not None and k is not Ellipsis)
    if x.ndim == 0 and len(key) == 1 and n_real:
        raise IndexError("slice() cannot be applied to a 0-dim tensor." if isinstance(
            key[0], slice) else "invalid index of a 0-dim tensor. Use `tensor.item()` in Python "
            "or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    if n_real > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim}")
    if builtins.sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if key == (Ellipsis,) or key == ():
        return view_of(input, x.view(), AliasBackward0)
    if key == (slice(None),):
        return slice_dim(input, 0, None, None)
    out, dim = input, 0
    for pos, k in enumerate(key):   # torch's message names the position in the key
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
            out = _select_getitem(out, dim, int(k), pos)
    return out if out is not input else view_of(input, x.view(), AliasBackward0)


def _getitem_np(x, key):
    return x[key]


def _getitem_t(x, key):
    return _index_t(x, key)


IndexBasicBackward = node_class("SliceBackward0", _index_rule, meta=("self_sym_sizes", "key"))


def _index_t(x, key):
    """Differentiable x[key] for an arbitrary basic key in one node (used by rules)."""
    data = x._data[key]
    return emit(data, IndexBasicBackward, (x,), meta=(x._data.shape, key))


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


@defop(nodes=(ExpandBackward0,), batch=_expand_batching, samples=[
    S((3, 1), args=(2, 3, -1), method=True, np_ref=lambda x: np.broadcast_to(x, (2, 3, 1))),
    S((), args=(4,), method=True, id="0d")])
def expand(input, *sizes):
    if not sizes:
        raise TypeError('expand() missing 1 required positional arguments: "size"')
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
    v = np.broadcast_to(x, target)
    if x.flags.writeable and (v.size == 0 or all(st or n <= 1 for st, n in zip(v.strides,
                                                                             v.shape))):
        # NumPy marks every broadcast read-only; torch writes where no element repeats
        v = np.lib.stride_tricks.as_strided(x, v.shape, v.strides)
    return view_of(input, v, ExpandBackward0, x.shape)


@defop(nodes=(ExpandBackward0,), batch=_expand_batching, samples=[S((3,), args=((2, 3),))])
def broadcast_to(input, size):
    return expand(input, size)


ExpandCopyBackward0 = node_class("ExpandBackward0_copy",
                                 lambda ns, g, shape: (ns.sum_to(g, shape),),
                                 meta=("self_sym_sizes",))


@defop(nodes=(ExpandCopyBackward0,), method=False, batch=_expand_batching,
       samples=[S((3, 1), args=((2, 3, 2),))])
def expand_copy(input, *sizes):
    """expand's result as a new tensor."""
    x = input._data
    data = np.array(expand(_make(x), *sizes)._data)       # expand checks the sizes
    return emit(data, ExpandCopyBackward0, (input,), meta=x.shape)


def _t_sum_to(g, shape):
    gs = g._data.shape
    if gs == shape:
        return g
    lead = len(gs) - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape)
                                      if s == 1 and gs[i + lead] != 1)
    return reshape(_sum(g, axes, True), shape) if axes else reshape(g, shape)


def _t_fix(g, shape, dtype):
    if g._data.shape != shape:
        g = _t_sum_to(g, shape)
    if g._data.dtype != dtype:
        g = to_dtype(g, dtype)
    return g


T.broadcast_to = lambda x, shape: expand(x, shape)
T.sum_to = _t_sum_to
T.fix = _t_fix



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


Tensor.T = property(lambda self: permute(self, tuple(range(self._data.ndim - 1, -1, -1))))
Tensor.mT = property(lambda self: _matrix_t(self, "mT", True))
Tensor.mH = property(lambda self: _matrix_t(self, "mH", True))
Tensor.H = property(lambda self: _matrix_t(self, "H", False))


@defop(nodes=(ViewBackward0,), function=False,
       batch=composite(lambda lg, x, other: x.reshape(tuple(other.shape))),
       samples=[S((2, 3), (3, 2), nondiff=(1,), method=True)])
def view_as(self, other):
    return view(self, other._data.shape)


@defop(nodes=(ViewBackward0, UnsafeViewBackward0), function=False,
       batch=composite(lambda lg, x, other: x.reshape(tuple(other.shape))),
       samples=[S((2, 3), (6,), nondiff=(1,), method=True)])
def reshape_as(self, other):
    return reshape(self, other._data.shape)


@defop(nodes=(ExpandBackward0,), function=False,
       batch=composite(lambda lg, x, other: x.expand(*other.shape)),
       samples=[S((3, 1), (2, 3, 4), nondiff=(1,), method=True)])
def expand_as(self, other):
    return expand(self, other._data.shape)


def _is_basic_key(key):
    items = key if isinstance(key, tuple) else (key,)
    for k in items:
        if not (k is None or k is Ellipsis or isinstance(k, (slice, int, np.integer))
                and not isinstance(k, (bool, np.bool_))):
            return False
    return True


__all__ = publish(globals())
