"""Joining and splitting: cat, stack, the *stack helpers and atleast_*d; split, chunk,
unbind and tensor_split (multi-output views); each declared once with its rule and vmap
rule."""
import builtins

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _make
from .._graph.graph import Node
from .._graph.grad_mode import state as _state
from ._batching import along_dim, arg, composite, expand_to, shift
from ._core import (Sample as S, defop, emit, new_node, node_class, normalize_dims, ns_def,
                    publish, to_tensor, with_tangents)
from ._views import track_view
from .shape import ViewBackward0, reshape, slice_dim, unsqueeze


def _join_batching(new_dim):
    """cat (new_dim=False) and stack: every tensor becomes a physical batch (shared ones
    repeated), and the dim moves one right."""
    def rule(c, args, kwargs):
        tensors = list(arg(args, kwargs, 0, "tensors"))
        if not new_dim:     # torch.cat skips legacy empty 1-d tensors (stack keeps them)
            kept = [t for t in tensors if not (t.dim() == 1 and t.shape[0] == 0)]
            if any(c.batched(t) for t in kept):
                tensors = kept
        d = arg(args, kwargs, 1, "dim", 0)
        n = c.size(tensors)
        nd = next(t.dim() for t in tensors if c.batched(t))
        return c.wrap(c([expand_to(c, t, n) for t in tensors], shift(d, nd + new_dim)))
    rule.__name__ = "stack_batching" if new_dim else "cat_batching"
    return rule


def _atleast_batching(n):
    """atleast_{n}d over logical shapes (the op reads its input's array, which a batched
    tensor does not have)."""
    def make(lg, *ts):
        one = len(ts) == 1 and not isinstance(ts[0], (list, tuple))
        ts = ts[0] if len(ts) == 1 and isinstance(ts[0], (list, tuple)) else ts
        out = []
        for t in ts:
            shape = tuple(t.shape)
            if len(shape) < n:      # torch: 0-d -> (1,), (1, 1), (1, 1, 1); 1-d -> (1, k)
                shape = ((1,) * (n - len(shape)) + shape if n < 3 or len(shape) != 2
                         else shape + (1,))
                if n == 3 and len(t.shape) == 1:
                    shape = (1,) + tuple(t.shape) + (1,)
                t = t.reshape(shape)
            out.append(t)
        return out[0] if one else tuple(out)
    return composite(make)


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


@defop(aliases=("concat", "concatenate"), nodes=(CatBackward0,), method=False,
       batch=_join_batching(False), samples=[
           S((2, 3), (2, 1), args=(1,), pack=True,
             np_ref=lambda x, y: np.concatenate([x, y], 1)),
           S(make_inputs=lambda r: [r.uniform(-2, 2, (2,)), np.array([1, 2])], pack=True,
             id="mixed-dtype"),
           S((2, 2), (0,), pack=True, id="legacy-empty"),
           S((2, 1), (2, 2), args=(-1,), pack=True, id="last-dim")])
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
    sizes = tuple(None if (t._data.ndim == 1 and t._data.shape[0] == 0 and live)
                  else t._data.shape[d] for t in ts)
    return emit(data, CatBackward0, ts, meta=(d, sizes), bcast=True, out=out)


@defop(nodes=(StackBackward0,), method=False, batch=_join_batching(True), samples=[
    S((2, 3), (2, 3), args=(1,), pack=True, np_ref=lambda x, y: np.stack([x, y], 1)),
    S((), (), pack=True, id="0d")])
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
    return emit(data, StackBackward0, ts, meta=(d, len(ts)), bcast=True, out=out)


@defop(nodes=(ViewBackward0,), method=False, batch=_atleast_batching(1), samples=[S(())])
def atleast_1d(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(atleast_1d(t) for t in tensors[0])
    if len(tensors) > 1:
        return tuple(atleast_1d(t) for t in tensors)
    t = tensors[0]
    return reshape(t, (1,)) if t._data.ndim == 0 else t


@defop(nodes=(ViewBackward0,), method=False, batch=_atleast_batching(2), samples=[S((3,))])
def atleast_2d(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(atleast_2d(t) for t in tensors[0])
    if len(tensors) > 1:
        return tuple(atleast_2d(t) for t in tensors)
    t = tensors[0]
    n = t._data.ndim
    return reshape(t, (1, 1)) if n == 0 else unsqueeze(t, 0) if n == 1 else t


@defop(nodes=(ViewBackward0,), method=False, batch=_atleast_batching(3),
       samples=[S((2, 3))])
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


@defop(nodes=(CatBackward0,), method=False,
       batch=composite(lambda lg, ts: lg.cat(ts, 1 if ts[0].dim() > 1 else 0)), samples=[
           S((2,), (3,), pack=True, np_ref=lambda x, y: np.hstack([x, y])),
           S((2, 1), (2, 2), pack=True, id="2d")])
def hstack(tensors, *, out=None):
    ts = atleast_1d(*_tensor_list(tensors, "hstack"))
    ts = ts if isinstance(ts, tuple) else (ts,)
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1, out=out)


@defop(nodes=(CatBackward0,), method=False,
       batch=composite(lambda lg, ts: lg.cat(lg.atleast_2d(*ts), 0)),
       samples=[S((3,), (2, 3), pack=True, np_ref=lambda x, y: np.vstack([x, y]))])
def vstack(tensors, *, out=None):
    ts = atleast_2d(*_tensor_list(tensors, "vstack"))
    ts = ts if isinstance(ts, tuple) else (ts,)
    return cat(ts, 0, out=out)


@defop(nodes=(CatBackward0,), method=False,
       batch=composite(lambda lg, ts: lg.cat(lg.atleast_3d(*ts), 2)),
       samples=[S((2,), (2,), pack=True, np_ref=lambda x, y: np.dstack([x, y]))])
def dstack(tensors, *, out=None):
    ts = atleast_3d(*_tensor_list(tensors, "dstack"))
    ts = ts if isinstance(ts, tuple) else (ts,)
    return cat(ts, 2, out=out)


@defop(nodes=(CatBackward0,), method=False, batch=composite(lambda lg, ts: lg.cat(
    [t.reshape(-1, 1) if t.dim() <= 1 else t for t in ts], 1)),
       samples=[S((3,), (3, 2), pack=True, np_ref=lambda x, y: np.column_stack([x, y]))])
def column_stack(tensors, *, out=None):
    ts = [reshape(t, (-1, 1)) if t._data.ndim <= 1 else t
          for t in _tensor_list(tensors, "column_stack")]
    return cat(ts, 1, out=out)


# -- splitting: multi-output views ---------------------------------------------------------
_multi_classes = {}


def _pad_grads(ns, gs, shapes):
    """Gradients of a multi-output op with None (unused outputs) replaced by zeros."""
    if len(shapes) == 1:        # a node with one output is handed its gradient alone
        return [gs]
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
            track_view(base, o)
            outs.append(o)
        with_tangents(outs, node, (input,))
    else:
        outs = [_make(d) for d in datas]
        if input._rg:
            for o in outs:
                o._extra()["nograd_view"] = True
    for o in outs:
        o._vc = input._vc
        o._base = base
    return tuple(outs)


_ALONG_DIM2 = along_dim(2, default=0)


@defop(nodes=("SplitBackward0", "SplitWithSizesBackward0"), batch=_ALONG_DIM2, samples=[
    S((5, 2), args=(2,)), S((2, 4), args=([1, 3], 1), id="sizes")])
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


@defop(nodes=("SplitWithSizesBackward0",), batch=_ALONG_DIM2,
       samples=[S((2, 4), args=([1, 3], 1))])
def split_with_sizes(tensor, split_sizes, dim=0):
    return split(tensor, list(split_sizes), dim)


@defop(nodes=("SplitBackward0", "SplitWithSizesBackward0"), batch=_ALONG_DIM2,
       samples=[S((2, 5), args=(2, 1))])
def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    x = input._data
    d = normalize_dims(dim, x.ndim)[0]
    size = x.shape[d]
    # an empty dim gives `chunks` empty chunks, as in torch
    return split(input, builtins.max(1, -(-size // chunks)), d) if size else \
        split(input, [0] * chunks, d)


@defop(nodes=("UnbindBackward0",), batch=along_dim(1, default=0), samples=[
    S((2, 3), args=(1,))])
def unbind(input, dim=0):
    x = input._data
    if x.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = normalize_dims(dim, x.ndim)[0]
    pre = (slice(None),) * d
    datas = [x[pre + (i, Ellipsis)] for i in range(x.shape[d])]
    return _multi_view(input, datas, "UnbindBackward0", d)


@defop(nodes=("SliceBackward0",), batch=_ALONG_DIM2, samples=[
    S((2, 4), args=(3, 1)), S((4, 2), args=([1, 3],), id="indices")])
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


__all__ = publish(globals())
