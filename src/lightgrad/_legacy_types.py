"""The legacy tensor types: `torch.FloatTensor(2, 3)`, `torch.LongTensor([1, 2])`,
`isinstance(x, torch.FloatTensor)`, `x.type(torch.DoubleTensor)`.

Each is a class of the metaclass `tensortype` (torch's name): not a subclass of Tensor, but
`isinstance(t, FloatTensor)` holds for float32 tensors; calling it makes a tensor of its
dtype from sizes, data, or a tensor of that dtype (sharing its memory).
"""
import numpy as np

from . import _dtype
from ._creation import empty, tensor
from ._tensor import Size, Tensor

# the names torch's TensorOptions print for each dtype, in the "expected ..." error
_CPP_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double",
              "int8": "signed char", "int16": "short int", "int32": "int", "int64": "long int",
              "uint8": "unsigned char", "bool": "bool", "complex64": "c10::complex<float>",
              "complex128": "c10::complex<double>"}


def _options(dt):
    return (f"TensorOptions(dtype={_CPP_NAMES[dt.name]}, device=cpu, layout=Strided, "
            "requires_grad=false (default), pinned_memory=false (default), "
            "memory_format=(nullopt))")


class tensortype(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype

    def __repr__(cls):
        return f"<class 'torch.{cls.__name__}'>"

    def __call__(cls, *args, device=None, **kwargs):
        if kwargs:
            raise TypeError(f"new() received an invalid combination of arguments - got "
                            f"unexpected keyword arguments {sorted(kwargs)}")
        if device is not None and str(device) != "cpu":
            raise RuntimeError(f"legacy constructor expects device type: cpu but device type: "
                               f"{device} was passed")
        dt = cls.dtype
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            data = args[0]
            if isinstance(data, Size):
                return empty(*data, dtype=dt)
            if isinstance(data, Tensor):
                if data.dtype is not dt:
                    raise TypeError(f"expected {_options(dt)} (got {_options(data.dtype)})")
                return data.detach()
            if isinstance(data, (str, bytes, float, complex, bool)):
                raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})"
                                if not isinstance(data, (str, bytes)) else
                                f"new(): invalid data type '{type(data).__name__}'")
            return tensor(data, dtype=dt)
        for n in args:
            if not isinstance(n, (int, np.integer)):
                raise TypeError(f"new(): argument 'size' must be tuple of ints, but found "
                                f"element of type {type(n).__name__}")
            if n < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {n}: "
                                   f"{list(args)}")
        return empty(*args, dtype=dt) if args else empty(0, dtype=dt)


def _make_type(dt):
    name = dt._legacy + "Tensor"
    return tensortype(name, (), {"dtype": dt, "is_cuda": False, "is_sparse": False,
                                 "__module__": "torch", "__doc__": f"{dt!r} tensors."})


FloatTensor = _make_type(_dtype.float32)
DoubleTensor = _make_type(_dtype.float64)
HalfTensor = _make_type(_dtype.float16)
LongTensor = _make_type(_dtype.int64)
IntTensor = _make_type(_dtype.int32)
ShortTensor = _make_type(_dtype.int16)
CharTensor = _make_type(_dtype.int8)
ByteTensor = _make_type(_dtype.uint8)
BoolTensor = _make_type(_dtype.bool)

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
           "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]
