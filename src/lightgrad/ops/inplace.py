"""In-place ops that have no out-of-place twin: zero_, fill_, copy_."""
import numpy as np

from .._tensor import Tensor, _make
from ..autograd.grad_mode import state as _state
from ..autograd.graph import node_class as _node_class
from ._core import check_inplace, declare, inplace, node_class, record, to_tensor

ZeroBackward0 = node_class("ZeroBackward0", lambda ns, g, m: (g * 0,))
FillBackward2 = node_class("FillBackward2", lambda ns, g, m: (g * 0,))
FillBackward3 = node_class("FillBackward3", lambda ns, g, m: (g * 0, ns.sum(g)))


def _copy_rule(ns, g, meta):
    return g * 0, g


CopyBackwards = _node_class("CopyBackwards", _copy_rule)
CopyBackwards.name = lambda self: "torch::autograd::CopyBackwards"


def _filled(self, value):
    """Out-of-place twin of fill_: a tensor like self holding `value` everywhere."""
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        data = np.broadcast_to(value._data, self._data.shape).astype(self._data.dtype)
        if _state.grad_enabled and (self._rg or value._rg):
            return record(data, FillBackward3, (self, value), bcast=True)
        return _make(data)
    data = np.full(self._data.shape, value, dtype=self._data.dtype)
    if _state.grad_enabled and self._rg:
        return record(data, FillBackward2, (self,))
    return _make(data)


def _zeros(self):
    data = np.zeros_like(self._data)
    if _state.grad_enabled and self._rg:
        return record(data, ZeroBackward0, (self,))
    return _make(data)


def _copy_shape_error(dst, src):
    """torch's message when src cannot be broadcast into dst's shape."""
    n = max(len(dst), len(src))
    for i in range(1, n + 1):
        a = dst[-i] if i <= len(dst) else 1
        b = src[-i] if i <= len(src) else 1
        if a != b and a != 1 and b != 1:
            return RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b "
                                f"({b}) at non-singleton dimension {n - i}")
    return RuntimeError(f"output with shape {list(dst)} doesn't match the broadcast shape "
                        f"{list(np.broadcast_shapes(dst, src))}")


def _copied(self, src):
    src = to_tensor(src)
    try:
        data = np.broadcast_to(src._data, self._data.shape).astype(self._data.dtype)
    except ValueError:
        raise _copy_shape_error(self._data.shape, src._data.shape) from None
    if _state.grad_enabled and (self._rg or src._rg):
        return record(data, CopyBackwards, (self, src), bcast=True)
    return _make(data)


def zero_(self):
    if not _state.grad_enabled or not self._rg and self._base is None:
        check_inplace(self)
        self._data[...] = 0        # fast path: the optimizer's p.grad.zero_()
        self._vc[0] += 1
        return self
    return inplace(self, _zeros)


def fill_(self, value):
    return inplace(self, _filled, value)


def copy_(self, src, non_blocking=False):
    return inplace(self, _copied, src)


declare("zero_", "ZeroBackward0")
declare("fill_", "FillBackward2", "FillBackward3")
declare("copy_", "CopyBackwards")
Tensor.zero_ = zero_
Tensor.fill_ = fill_
Tensor.copy_ = copy_
