"""Matrix products and linear algebra, each beside its derivative rule."""
import numpy as np

from .._tensor import Tensor, _make
from ..autograd.grad_mode import state as _state
from ._core import NP, T, binary_operands, declare, node_class, record

__all__ = ["mm", "matmul"]


def _mm_rule(ns, g, meta, self, mat2):
    return (None if mat2 is None else g @ ns.mT(mat2),
            None if self is None else ns.mT(self) @ g)


MmBackward0 = node_class("MmBackward0", _mm_rule, saved=("self", "mat2"))


def _mm_check(x, y):
    if x.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if y.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if x.shape[1] != y.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({x.shape[0]}x{x.shape[1]} "
                           f"and {y.shape[0]}x{y.shape[1]})")


def mm(input, mat2, *, out=None):
    """Matrix product of two 2-D tensors."""
    a, b, x, y = binary_operands(input, mat2)
    _mm_check(x, y)
    data = x @ y
    if _state.grad_enabled and (a._rg or b._rg):
        return record(data, MmBackward0, (a, b), (a if b._rg else None, b if a._rg else None))
    return _make(data)


def matmul(input, other, *, out=None):
    """torch.matmul over every broadcasting case; 2-D @ 2-D is mm."""
    if input._data.ndim == 2 and other._data.ndim == 2:
        return mm(input, other)
    from .linalg_ext import matmul_general
    return matmul_general(input, other)


T.matmul = matmul
declare("mm", "MmBackward0")
declare("matmul", "MmBackward0")
Tensor.mm = mm
Tensor.matmul = matmul
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)
