"""Combinatorics: cartesian_prod and combinations (composites of indexing and stack, as in
torch, whose graphs end in the same StackBackward0), and the index factories tril_indices and
triu_indices."""
import itertools

import numpy as np

from .. import _dtype
from .._creation import _finish
from .._tensor import Tensor, _make
from ._batching import composite
from ._core import Sample as S, defop, publish
from .joining import StackBackward0, stack


def _want_int(fn, name, v):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{fn}(): argument '{name}' must be int, not {type(v).__name__}")
    return int(v)


def _check_1d(t):
    if t.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")


def _columns(tensors, index, in_vmap):
    """stack([tensors[0][index[0]], tensors[1][index[1]], ...], 1): column j picks from the
    1-d tensors[j] by row j of the (k, n) index table. Public ops only, so the same code runs
    on a vmap's batched tensors (it is these ops' batching rule too, with in_vmap=True)."""
    if in_vmap and index.shape[1] == 0:
        # NOTE: stack's vmap rule drops empty 1-d tensors, as cat's must, and then finds no
        # batched one; an empty result is the same for every example, so vmap repeats it
        return _make(np.empty((0, len(tensors)), tensors[0].dtype.np))
    return stack([t[_make(np.ascontiguousarray(i))] for t, i in zip(tensors, index)], 1)


def _cartesian_prod(tensors, in_vmap=False):
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    for t in tensors:
        _check_1d(t)
    if len(tensors) == 1:           # torch returns the tensor itself
        return tensors[0]
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if any(t.dtype is not tensors[0].dtype for t in tensors):
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    # the rows of the grid in row-major order (torch: meshgrid(indexing="ij"), flattened)
    grid = np.indices([t.shape[0] for t in tensors]).reshape(len(tensors), -1)
    return _columns(tensors, grid, in_vmap)


@defop(nodes=(StackBackward0,), method=False,
       batch=composite(lambda lg, *ts: _cartesian_prod(ts, in_vmap=True)), samples=[
           S((3,), (2,), np_ref=lambda a, b: np.stack(np.meshgrid(a, b, indexing="ij"),
                                                      -1).reshape(-1, 2)),
           S((2,), (2,), (3,), id="three"), S((4,), id="one"), S((0,), (2,), id="empty"),
           S(make_inputs=lambda r: [np.array([1, 2]), np.array([0, 5, 7])], grad=False,
             id="int")])
def cartesian_prod(*tensors):
    """The cartesian product of 1-d tensors: one row per combination of their elements, the
    last tensor's varying fastest. `cartesian_prod(a, b)` is itertools.product(a, b)."""
    return _cartesian_prod(tensors)


def _combinations(input, r=2, with_replacement=False, in_vmap=False):
    if not isinstance(input, Tensor):
        raise TypeError(f"combinations(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    r = _want_int("combinations", "r", r)
    if not isinstance(with_replacement, bool):
        raise TypeError("combinations(): argument 'with_replacement' must be bool, not "
                        f"{type(with_replacement).__name__}")
    _check_1d(input)
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:                          # torch: an empty 1-d tensor, outside the graph
        return _make(np.empty(0, input.dtype.np))
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    # lexicographic order of the index tuples, as torch's masked grid gives them
    index = np.array(list(pick(range(input.shape[0]), r)), np.int64).reshape(-1, r)
    return _columns([input] * r, index.T, in_vmap)


@defop(nodes=(StackBackward0,), method=False,
       batch=composite(lambda lg, *a, **k: _combinations(*a, **k, in_vmap=True)), samples=[
           S((4,)), S((4,), args=(3,), id="r3"), S((4,), args=(1,), id="r1"),
           S((3,), kwargs={"with_replacement": True}, id="with-replacement"),
           S((3,), args=(0,), grad=False, id="r0"), S((2,), args=(3,), id="r-too-big"),
           S((0,), grad=False, id="empty"),
           S(make_inputs=lambda r: [np.array([4, 1, 3])], args=(2, True), grad=False,
             id="int")])
def combinations(input, r=2, with_replacement=False):
    """The length-r combinations of the elements of the 1-d `input`, one per row, as
    itertools.combinations (itertools.combinations_with_replacement with
    with_replacement=True) gives them."""
    return _combinations(input, r, with_replacement)


def _indices(name, np_fn, row, col, offset, dtype, device, requires_grad):
    row, col = _want_int(name, "row", row), _want_int(name, "col", col)
    offset = _want_int(name, "offset", offset)
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    dtype = dtype or _dtype.int64
    if dtype not in (_dtype.int32, _dtype.int64):
        raise NotImplementedError(f"\"{name}\" not implemented for '{dtype._legacy}'")
    data = np.stack(np_fn(row, offset, col)).astype(dtype.np).reshape(2, -1)
    return _finish(data, requires_grad, device)


_SIZES = "its arguments are sizes, not tensors: there is nothing to batch"


@defop(method=False, vmap_refused=_SIZES, samples=[
    S(args=(3, 3), np_ref=lambda: np.stack(np.tril_indices(3)), id="square"),
    S(args=(3, 4, 1), np_ref=lambda: np.stack(np.tril_indices(3, 1, 4)), id="offset"),
    S(args=(4, 3, -1), id="negative-offset"), S(args=(0, 3), id="empty"),
    S(args=(3, 4, -5), id="below-all"),
    S(call=lambda m: m.tril_indices(2, 5, 2, dtype=m.int32), id="int32")])
def tril_indices(row, col, offset=0, *, dtype=None, layout=None, device=None,
                 pin_memory=False, requires_grad=False):
    """The (row, column) indices of the lower triangle of a row x col matrix (on and below
    the diagonal shifted by `offset`), as a (2, N) tensor in row-major order."""
    return _indices("tril_indices", np.tril_indices, row, col, offset, dtype, device,
                    requires_grad)


@defop(method=False, vmap_refused=_SIZES, samples=[
    S(args=(3, 3), np_ref=lambda: np.stack(np.triu_indices(3)), id="square"),
    S(args=(3, 4, 1), np_ref=lambda: np.stack(np.triu_indices(3, 1, 4)), id="offset"),
    S(args=(4, 3, -1), id="negative-offset"), S(args=(3, 0), id="empty"),
    S(args=(3, 4, 10), id="above-all"),
    S(call=lambda m: m.triu_indices(4, 2, dtype=m.int32), id="int32")])
def triu_indices(row, col, offset=0, *, dtype=None, layout=None, device=None,
                 pin_memory=False, requires_grad=False):
    """The (row, column) indices of the upper triangle of a row x col matrix (on and above
    the diagonal shifted by `offset`), as a (2, N) tensor in row-major order."""
    return _indices("triu_indices", np.triu_indices, row, col, offset, dtype, device,
                    requires_grad)


__all__ = publish(globals())
