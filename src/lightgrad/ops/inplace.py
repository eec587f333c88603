"""In-place ops that have no out-of-place twin: zero_, fill_, copy_ (Tensor methods).

In-place on a leaf that requires grad is an error, so each sample writes into a product or
a clone."""
import numpy as np

from .._tensor import Tensor
from .._graph.grad_mode import state as _state
from .._graph.graph import node_class as _node_class
from ._batching import arg, inplace_elementwise, phys
from ._core import Sample as S, check_inplace, defop, emit, inplace, node_class, to_tensor
from ._record import unwritable

# an in-place op on an unbatched tensor given a batched value: an error, as in torch
_INTO_UNBATCHED = "received a batched tensor"

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
        return emit(data, FillBackward3, (self, value), bcast=True)
    data = np.full(self._data.shape, value, dtype=self._data.dtype)
    return emit(data, FillBackward2, (self,))


def _zeros(self):
    return emit(np.zeros_like(self._data), ZeroBackward0, (self,))


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
    return emit(data, CopyBackwards, (self, src), bcast=True)


@defop(nodes=(ZeroBackward0,), function=False, batch=inplace_elementwise, samples=[
    S((2, 3), call=lambda m, x: x.clone().zero_(), np_ref=np.zeros_like),
    S((), call=lambda m, x: (x * 2).zero_(), id="0d")])
def zero_(self):
    if not _state.grad_enabled or not self._rg and self._base is None:
        check_inplace(self)
        if not self._data.flags.writeable:
            raise unwritable(self._data)
        self._data[...] = 0        # fast path: the optimizer's p.grad.zero_()
        self._vc[0] += 1
        return self
    return inplace(self, _zeros)


def _fill_batched(c, args, kwargs):
    x, value = args[0], arg(args, kwargs, 1, "value")
    if not c.batched(x):
        return inplace_elementwise(c, args, kwargs)  # raises: unbatched self
    x._p.copy_(phys(c, value, x.dim()) if c.batched(value) else
               to_tensor(value).to(x.dtype).expand(tuple(x._p.shape)))
    return x


@defop(nodes=(FillBackward2, FillBackward3), function=False, batch=_fill_batched, samples=[
    S((2, 3), call=lambda m, x: x.clone().fill_(1.5), np_ref=lambda x: np.full_like(x, 1.5)),
    S((2, 3), (), call=lambda m, x, v: x.clone().fill_(v), id="tensor",
      np_ref=lambda x, v: np.broadcast_to(v, x.shape)),
    S((3,), (), call=lambda m, x, v: (x * v).fill_(v) * x, id="tensor-mixed")])
def fill_(self, value):
    return inplace(self, _filled, value)


@defop(nodes=(CopyBackwards,), function=False, batch=inplace_elementwise, samples=[
    S((2, 3), (2, 3), call=lambda m, x, y: x.clone().copy_(y), np_ref=lambda x, y: y),
    S((2, 3), (3,), call=lambda m, x, y: x.clone().copy_(y), id="broadcast",
      np_ref=lambda x, y: np.broadcast_to(y, x.shape)),
    S((2, 2), (1, 2), call=lambda m, x, y: (x * y).copy_(y * 3) * x, id="mixed"),
    S((3,), call=lambda m, y: m.zeros(3, dtype=m.float64).copy_(y), id="into-constant",
      np_ref=lambda y: y, vmap_refused=_INTO_UNBATCHED)])
def copy_(self, src, non_blocking=False):
    return inplace(self, _copied, src)
