"""Tensors shaped like another: zeros_like, ones_like, empty_like, full_like (no gradient:
the result is a fresh leaf)."""
import numpy as np

from .._creation import _finish
from .._tensor import Tensor
from ._core import ELEMENTWISE, Sample as S, defop, publish


def _like_dtype(input, dtype):
    return dtype or input.dtype


@defop(kind=ELEMENTWISE, method=False, samples=[S((2, 3), np_ref=np.zeros_like),
       S((3,), call=lambda m, x: m.zeros_like(x, dtype=m.int64), id="dtype")])
def zeros_like(input, *, dtype=None, layout=None, device=None, pin_memory=False,
               requires_grad=False, memory_format=None):
    d = _like_dtype(input, dtype)
    return _finish(np.zeros(input._data.shape, d.np), requires_grad, device)


@defop(kind=ELEMENTWISE, method=False, samples=[S((2, 3), np_ref=np.ones_like)])
def ones_like(input, *, dtype=None, layout=None, device=None, pin_memory=False,
              requires_grad=False, memory_format=None):
    d = _like_dtype(input, dtype)
    return _finish(np.ones(input._data.shape, d.np), requires_grad, device)


@defop(kind=ELEMENTWISE, method=False, samples=[S((2, 3), values=False)])
def empty_like(input, *, dtype=None, layout=None, device=None, pin_memory=False,
               requires_grad=False, memory_format=None):
    d = _like_dtype(input, dtype)
    return _finish(np.empty(input._data.shape, d.np), requires_grad, device)


@defop(kind=ELEMENTWISE, method=False, samples=[
    S((2, 3), args=(1.5,), np_ref=lambda x: np.full_like(x, 1.5)),
    S((2,), call=lambda m, x: m.full_like(x, 7, dtype=m.int64), id="int")])
def full_like(input, fill_value, *, dtype=None, layout=None, device=None, pin_memory=False,
              requires_grad=False, memory_format=None):
    d = _like_dtype(input, dtype)
    v = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    with np.errstate(invalid="ignore"):
        return _finish(np.full(input._data.shape, v).astype(d.np), requires_grad, device)


__all__ = publish(globals())
