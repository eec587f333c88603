"""dtype conversions, clone and contiguous, each declared once with its rule."""
import numpy as np

from .. import _dtype
from .._backend import check_device
from .._tensor import Tensor, _make
from ._core import ELEMENTWISE, NP, T, Sample as S, defop, emit, node_class, publish

ToCopyBackward0 = node_class("ToCopyBackward0",
                             lambda ns, g, dt: (ns.astype(g, dt),),
                             meta=("self_dtype",))
CloneBackward0 = node_class("CloneBackward0", lambda ns, g, m: (g,))


def to_dtype(input, np_dtype, copy=False):
    """input converted to `np_dtype` (a NumPy dtype); returns input itself when it already
    has that dtype, as torch does."""
    x = input._data
    if x.dtype == np_dtype and not copy:
        return input
    data = x.astype(np_dtype)
    # NOTE: only float/complex outputs carry gradients; .long() of a float tensor is a leaf
    if data.dtype.kind in "fc":
        return emit(data, ToCopyBackward0, (input,), meta=x.dtype)
    return _make(data)


def _t_astype(g, np_dtype):
    return to_dtype(g, np.dtype(np_dtype))


T.astype = _t_astype
NP.astype = lambda g, dt: np.asarray(g).astype(dt)


@defop(nodes=(CloneBackward0,), batch=ELEMENTWISE, samples=[S((2, 3))])
def clone(input, *, memory_format=None):
    data = input._data.copy()
    return emit(data, CloneBackward0, (input,))


@defop(nodes=(CloneBackward0,), function=False, batch=ELEMENTWISE, samples=[
    S((2, 3), method=True), S(make_inputs=lambda r: [r.uniform(-2, 2, (3, 2)).T], method=True,
                             id="transposed")])
def contiguous(self, memory_format=None):
    if self._data.flags.c_contiguous:
        return self
    return clone(self)


def _parse_to(args, kwargs):
    """(dtype, device, copy) from the three forms of Tensor.to: (dtype, non_blocking, copy),
    (device, dtype, non_blocking, copy) and (other, non_blocking, copy)."""
    dt = kwargs.get("dtype")
    dev = kwargs.get("device")
    copy = kwargs.get("copy", False)
    flags = []
    for a in args:
        if isinstance(a, _dtype.dtype):
            dt = a
        elif isinstance(a, Tensor):
            dt = a.dtype
        elif isinstance(a, bool):
            flags.append(a)          # non_blocking, then copy
        elif a is not None:
            dev = a
    if len(flags) > 1:
        copy = flags[1]
    return dt, dev, copy


_TO = dict(nodes=(ToCopyBackward0,), function=False, batch=ELEMENTWISE)


@defop(**_TO, samples=[S((2, 3), method=True, kwargs={"copy": True}),
                       S((2, 3), method=True, args=("cpu",), id="device")])
def to(self, *args, **kwargs):
    """x.to(dtype), x.to(device), x.to(device, dtype), x.to(other); returns x itself when
    nothing changes and copy is False."""
    dt, dev, copy = _parse_to(args, kwargs)
    if dev is not None:
        check_device(dev)
    return to_dtype(self, (dt or self.dtype).np, copy)


@defop(name="type", **_TO, samples=[S((2, 3), method=True, args=("torch.DoubleTensor",))])
def type_(self, dtype=None, non_blocking=False, **kwargs):
    if dtype is None:
        return f"torch.{self.dtype._legacy}Tensor"
    if isinstance(dtype, str):
        names = {f"torch.{d._legacy}Tensor": d for d in _dtype._ALL}
        if dtype not in names:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = names[dtype]
    elif isinstance(dtype, type):       # a legacy type: x.type(torch.DoubleTensor)
        dtype = dtype.dtype
    return to_dtype(self, dtype.np)


@defop(function=False, batch=ELEMENTWISE, samples=[S((2, 3), method=True)])
def cpu(self, memory_format=None):
    return self


@defop(**_TO, samples=[S((3,), (2,), method=True, nondiff=(1,))])
def type_as(self, other):
    return to_dtype(self, other._data.dtype)


def _dtype_method(name, dt):
    def method(self, memory_format=None):
        return to_dtype(self, dt.np)
    method.__name__ = method.__qualname__ = name
    return method


for _name, _d in [("float", _dtype.float32), ("double", _dtype.float64),
                  ("half", _dtype.float16), ("long", _dtype.int64), ("int", _dtype.int32),
                  ("short", _dtype.int16), ("char", _dtype.int8), ("byte", _dtype.uint8),
                  ("bool", _dtype.bool), ("cfloat", _dtype.complex64),
                  ("cdouble", _dtype.complex128)]:
    # float64 samples: float() and half() lose precision that gradcheck would see
    defop(_dtype_method(_name, _d), **_TO,
          samples=[S((3,), method=True, grad=_name == "double")])

__all__ = publish(globals())
