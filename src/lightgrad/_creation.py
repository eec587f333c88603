"""Tensor factories, random numbers and generators.

Random streams come from NumPy's PCG64 and are reproducible under `manual_seed` or a seeded
`Generator`, but they are not torch's streams bit for bit. Other modules that need random
numbers (dropout, init) take them from `_rng(generator)`, so `generator=` and `manual_seed`
govern them too.
"""
import builtins
import math
import operator
import os
import struct
import warnings

import numpy as np

from . import _dtype
from ._backend import check_device
from ._tensor import Tensor, _make

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "from_dlpack", "zeros", "ones",
           "full", "empty", "eye", "arange", "linspace", "logspace", "manual_seed", "seed",
           "initial_seed", "Generator",
           "default_generator", "get_rng_state", "set_rng_state", "scalar_tensor", "is_tensor",
           "is_floating_point", "is_complex", "numel", "result_type", "can_cast", "memory_format",
           "contiguous_format", "preserve_format", "channels_last"]


class memory_format:
    """torch's memory-format tokens; NumPy-backed tensors accept them and stay row-major."""

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"lightgrad.{self._name}"


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")

_COPY_WARNING = ("To copy construct from a tensor, it is recommended to use "
                 "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                 "requires_grad_(True), rather than torch.tensor(sourceTensor).")
_REQUIRES_GRAD_DTYPE = ("Only Tensors of floating point and complex dtype can require "
                        "gradients")


def _finish(data, requires_grad=False, device=None):
    """Wrap a fresh array as a leaf, checking device and requires_grad as torch does."""
    if device is not None:
        check_device(device)
    t = _make(data)
    if requires_grad:
        if data.dtype.kind not in "fc":
            raise RuntimeError(_REQUIRES_GRAD_DTYPE)
        t.requires_grad = True   # complex raises NotImplementedError (documented deviation)
    return t


def _out(result, out):
    """Write a factory's result into `out=` (resizing it, as torch does) and return out."""
    if out is None:
        return result
    if out._data.shape == result._data.shape:
        np.copyto(out._data, result._data, casting="unsafe")
    else:
        out._data = result._data.astype(out._data.dtype)
    out._vc[0] += 1
    return out


def _np(dtype):
    return dtype.np if dtype is not None else None


def _unsupported(op, dtype):
    return NotImplementedError(f'"{op}" not implemented for \'{dtype._legacy}\'')


# -- predicates --------------------------------------------------------------------------
def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.is_floating_point()


def is_complex(input):
    return input.is_complex()


def numel(input):
    return input.numel()


def result_type(tensor, other):
    """torch.result_type: the dtype an arithmetic op on `tensor` and `other` returns."""
    return _dtype.result_type(tensor, other)


def can_cast(from_, to):
    """torch.can_cast: whether casting from_ to `to` keeps the category (no float -> int)."""
    return _dtype.can_cast(from_, to)


# -- tensor() from Python data --------------------------------------------------------------
_PY_SCALARS = (builtins.bool, builtins.int, builtins.float, complex)


def _scalar_dtype(x):
    """torch's dtype for one element of Python data."""
    if isinstance(x, np.generic):       # before float: np.float64 subclasses float
        return _dtype.from_numpy_dtype(x.dtype)
    if isinstance(x, builtins.bool):
        return _dtype.bool
    if isinstance(x, builtins.int):
        return _dtype.int64
    if isinstance(x, builtins.float):
        return _dtype.get_default_dtype()
    if isinstance(x, complex):
        return _dtype._defaults.complex
    raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")


def _is_seq(x):
    return isinstance(x, (list, tuple, range)) or (isinstance(x, (Tensor, np.ndarray))
                                                    and x.ndim > 0)


_PY_KINDS = {builtins.bool: lambda: _dtype.bool, builtins.int: lambda: _dtype.int64,
             builtins.float: _dtype.get_default_dtype, complex: lambda: _dtype._defaults.complex}


def _scan(data):
    """(shape, dtype) of nested Python data by torch's rules: floats -> default dtype,
    ints -> int64, bools -> bool, tensors and NumPy values keep theirs; promoted together."""
    shape, x = [], data
    while _is_seq(x):               # the shape follows the first element at each depth
        if isinstance(x, (Tensor, np.ndarray)):
            shape.extend(x.shape)
            break
        shape.append(len(x))
        if not len(x):
            break
        x = x[0]
    if isinstance(x, str):          # torch reads a first str as a sequence: a dim too many
        raise ValueError("too many dimensions 'str'")
    ndim, dts = len(shape), set()

    def walk(x, depth):
        if depth == ndim:
            if _is_seq(x):
                raise TypeError(f"'{type(x).__name__}' object cannot be interpreted as an "
                                "integer")
            if isinstance(x, str):      # a str elsewhere fails torch's dtype inference
                raise TypeError("new(): invalid data type 'str'")
            if isinstance(x, Tensor):
                dts.add(x.dtype)
            elif isinstance(x, np.ndarray):
                dts.add(_dtype.from_numpy_dtype(x.dtype))
            else:
                dts.add(_scalar_dtype(x))
            return
        if not _is_seq(x):
            raise TypeError("new(): invalid data type 'str'" if isinstance(x, str) else
                            "not a sequence")
        if isinstance(x, (Tensor, np.ndarray)):
            for k, n in enumerate(x.shape):
                if depth + k >= ndim or shape[depth + k] != n:
                    want = shape[depth + k] if depth + k < ndim else 0
                    raise ValueError(f"expected sequence of length {want} at dim {depth + k} "
                                     f"(got {n})")
            dts.add(x.dtype if isinstance(x, Tensor) else _dtype.from_numpy_dtype(x.dtype))
            return
        if len(x) != shape[depth]:
            raise ValueError(f"expected sequence of length {shape[depth]} at dim {depth} "
                             f"(got {len(x)})")
        if depth == ndim - 1:
            types = set(map(type, x))
            if types <= _PY_KINDS.keys():       # fast path: a row of Python numbers
                dts.update(_PY_KINDS[t]() for t in types)
                return
        for v in x:
            walk(v, depth + 1)

    walk(data, 0)
    if not dts:
        return tuple(shape), _dtype.get_default_dtype()
    it = iter(dts)
    d = next(it)
    for other in it:
        d = _dtype.promote_types(d, other)
    return tuple(shape), d


def _plain(x):
    """Nested lists NumPy can read: tensors become arrays."""
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


def _has_tensor(x):
    if isinstance(x, Tensor):
        return True
    if isinstance(x, (list, tuple)):
        return builtins.any(_has_tensor(v) for v in x)
    return False


def _checked_cast(src, dt):
    """Python numbers cast to an integer dtype refuse to overflow (torch's checked_convert);
    negative ints may wrap into unsigned types."""
    info = np.iinfo(dt.np)
    if src.dtype.kind == "c":
        raise TypeError("'complex' object cannot be interpreted as an integer")
    if src.size:
        if src.dtype.kind == "f":
            bad = ~np.isfinite(src) | (src < info.min) | (src > info.max)
        elif info.min == 0:
            bad = (src > info.max) | (src < -info.max)
        else:
            bad = (src < info.min) | (src > info.max)
        if bad.any():
            raise RuntimeError(f"value cannot be converted to type {dt.name} without overflow")
    with np.errstate(invalid="ignore", over="ignore"):
        return src.astype(dt.np)


def _from_data(data, dtype):
    """A new array holding `data` (Python scalars, nested sequences, arrays, tensors)."""
    if isinstance(data, Tensor):
        return data._data.astype(_np(dtype) or data._data.dtype, copy=True)
    if isinstance(data, np.ndarray):
        if dtype is None:
            _dtype.from_numpy_dtype(data.dtype)
        return np.array(data, dtype=_np(dtype), copy=True)
    if isinstance(data, np.generic):
        src = _dtype.from_numpy_dtype(data.dtype)
        return np.array(data, dtype=_np(dtype) or src.np)
    if isinstance(data, str):
        raise TypeError("new(): invalid data type 'str'")
    if isinstance(data, _PY_SCALARS):
        shape, inferred = (), _scalar_dtype(data)
    elif isinstance(data, (list, tuple, range)):
        shape, inferred = _scan(data)
        if builtins.any(isinstance(v, np.ndarray) for v in data):
            warnings.warn("Creating a tensor from a list of numpy.ndarrays is extremely slow. "
                          "Please consider converting the list to a single numpy.ndarray with "
                          "numpy.array() before converting to a tensor.", UserWarning,
                          stacklevel=3)
        if _has_tensor(data):
            data = _plain(data)
    else:
        array = _foreign_array(data)
        if array is None:
            raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")
        return _from_data(array, dtype)
    target = dtype or inferred
    try:
        if target.is_complex or target is _dtype.bool or inferred.is_floating_point \
                and target.is_floating_point:
            a = np.array(data, dtype=target.np)
        elif target.is_floating_point:
            if inferred.is_complex:
                raise TypeError("must be real number, not complex")
            a = np.array(data, dtype=target.np)
        else:
            work = np.float64 if inferred.is_floating_point else inferred.np
            a = _checked_cast(np.array(data, dtype=work), target)
    except OverflowError:
        raise ValueError("Overflow when unpacking long long") from None
    if a.shape != shape and a.size:
        a = a.reshape(shape)
    elif a.shape != shape:
        a = np.zeros(shape, target.np)
    return a


def _foreign_array(data):
    """The NumPy array of another library's array or tensor, or None: through DLPack when it
    has `__dlpack__` (memory shared: real torch tensors, array-API arrays), else through
    `__array__` (pandas Series and DataFrames, ...)."""
    if getattr(data, "requires_grad", False) is True and hasattr(data, "detach"):
        data = data.detach()     # the values, as torch.tensor(t) takes them
    if hasattr(data, "__dlpack__") and hasattr(data, "__dlpack_device__"):
        return _from_dlpack_array(data)
    if hasattr(data, "__array__"):
        return np.asarray(data)
    return None


class _Capsule:
    """A bare DLPack capsule (torch.utils.dlpack.to_dlpack) as np.from_dlpack takes it."""
    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)


_INVALID_CAPSULE = ("from_dlpack received an invalid capsule. Note that DLTensor capsules can "
                    "be consumed only once, so you might have already constructed a tensor "
                    "from it once.")


def _from_dlpack_array(ext):
    if not hasattr(ext, "__dlpack__"):
        if type(ext).__name__ != "PyCapsule":
            raise RuntimeError(_INVALID_CAPSULE)
        ext = _Capsule(ext)
    device = ext.__dlpack_device__()
    if int(device[0]) not in (1, 3):     # kDLCPU, kDLCUDAHost: memory NumPy can address
        raise RuntimeError(f"from_dlpack: lightgrad keeps tensors in CPU memory, but this one "
                           f"is on DLPack device {tuple(int(d) for d in device)}; copy it to "
                           "the CPU first (e.g. .cpu())")
    try:
        return np.from_dlpack(ext)
    except ValueError as e:    # NumPy's answer to a capsule that was consumed already
        if isinstance(ext, _Capsule):
            raise RuntimeError(_INVALID_CAPSULE) from e
        raise


def from_dlpack(ext_tensor):
    """A tensor sharing memory with `ext_tensor`: anything with `__dlpack__` (a NumPy array,
    a real torch tensor, a lightgrad tensor, an array-API array) or a DLPack capsule."""
    return from_numpy(_from_dlpack_array(ext_tensor))


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new leaf tensor holding a copy of `data`.

    >>> tensor([1., 2.])
    tensor([1., 2.])
    """
    if isinstance(data, Tensor):
        warnings.warn(_COPY_WARNING, UserWarning, stacklevel=2)
    return _finish(_from_data(data, dtype), requires_grad, device)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False, layout=None,
                  pin_memory=False):
    """A 0-d tensor of the default float dtype (or `dtype`) holding `s`."""
    d = dtype or _dtype.get_default_dtype()
    return _finish(np.array(s, dtype=d.np), requires_grad, device)


def as_tensor(data, dtype=None, device=None, *, _stacklevel=3):
    """Like tensor(), but shares memory with a Tensor or ndarray when no conversion is needed.

    >>> a = np.zeros(2); as_tensor(a)._data is a
    True
    """
    if device is not None:
        check_device(device)
    if isinstance(data, Tensor):
        if dtype is None or data.dtype is dtype:
            return data
        return data.to(dtype)
    if not isinstance(data, (np.ndarray, np.generic, list, tuple)):
        data = _foreign_array(data) if hasattr(data, "__dlpack__") else data
        # (through DLPack: memory shared, as torch.as_tensor shares it)
    if isinstance(data, np.ndarray):
        _warn_read_only(data, _stacklevel)     # torch warns with a dtype conversion too
        if dtype is None or data.dtype == dtype.np:
            return from_numpy(data)
    return _finish(_from_data(data, dtype))


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """torch.asarray: as_tensor with an explicit copy switch."""
    if copy or (isinstance(obj, np.ndarray) and dtype is not None and obj.dtype != dtype.np):
        t = _finish(_from_data(obj, dtype))     # a copy: no read-only warning, as in torch
    else:
        t = as_tensor(obj, dtype, device, _stacklevel=4)
    if requires_grad:
        t.requires_grad_(True)
    return t


def from_numpy(ndarray):
    """A tensor sharing memory with `ndarray`: writes through either show in both.

    >>> a = np.zeros(2); t = from_numpy(a); a[0] = 1; t
    tensor([1., 0.], dtype=lightgrad.float64)
    """
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dtype.from_numpy_dtype(ndarray.dtype)
    _warn_read_only(ndarray, 3)
    return _make(ndarray)


_READ_ONLY_WARNING = (
    "The given NumPy array is not writable, and PyTorch does not support non-writable tensors. "
    "This means writing to this tensor will result in undefined behavior. You may want to copy "
    "the array to protect its data or make it writable before converting it to a tensor. This "
    "type of warning will be suppressed for the rest of this program.")
_read_only_warned = [False]      # torch warns once per process (TORCH_WARN_ONCE)


def _warn_read_only(ndarray, stacklevel):
    """torch's warning for a tensor over a read-only array (an in-place op on it later
    raises lightgrad's read-only error, ops/_record.unwritable)."""
    if not ndarray.flags.writeable and not _read_only_warned[0]:
        _read_only_warned[0] = True
        warnings.warn(_READ_ONLY_WARNING, UserWarning, stacklevel=stacklevel)


# -- filled tensors -------------------------------------------------------------------------
def _shape(size, name, kw_size=None):
    """Normalise factory sizes: f(2, 3), f((2, 3)), f([2, 3]), f(Size), f(size=...)."""
    if kw_size is not None:
        if size:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        size = (kw_size,)
    if not size:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = []
    for s in size:
        try:
            out.append(operator.index(s))
        except TypeError:
            raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, "
                            f"not {type(s).__name__}") from None
    for s in out:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {out}")
    return tuple(out)


def _machine_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 1 << 62


_MEMORY = _machine_memory()


def _factory_dtype(name, shape, dt):
    """The dtype of a new `shape` tensor, checked as torch's argument parser and allocator
    check it. A request over the machine's RAM raises torch's allocator error before
    NumPy tries to allocate it (torch's malloc fails there too, under Linux's overcommit
    heuristic, when there is no swap to count)."""
    if not isinstance(dt, _dtype.dtype):
        raise TypeError(f"{name}(): argument 'dtype' must be torch.dtype, not "
                        f"{type(dt).__name__}")
    nbytes = math.prod(shape) * dt.itemsize
    if nbytes >= 1 << 63:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)}")
    if nbytes > _MEMORY:
        raise RuntimeError(f"DefaultCPUAllocator: can't allocate memory: you tried to allocate "
                           f"{nbytes} bytes. Error code 12 (Cannot allocate memory)")
    return dt


def _tuple_size(size, name, position=1):
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"{name}(): argument 'size' (position {position}) must be tuple of "
                        f"ints, not {type(size).__name__}")
    return _shape((size,), name)


def _float_dtype(dtype):
    return dtype or _dtype.get_default_dtype()


def zeros(*size, out=None, dtype=None, layout=None, device=None, pin_memory=False,
          requires_grad=False, **kw):
    """A tensor of zeros: `zeros(2, 3)` or `zeros((2, 3))`."""
    try:
        shape = _shape(size, "zeros", kw.get("size"))
    except RuntimeError:
        raise RuntimeError("zeros: Dimension size must be non-negative.") from None
    d = _factory_dtype("zeros", shape,
                       dtype or (out.dtype if out is not None else _dtype.get_default_dtype()))
    return _out(_finish(np.zeros(shape, d.np), requires_grad, device), out)


def ones(*size, out=None, dtype=None, layout=None, device=None, pin_memory=False,
         requires_grad=False, **kw):
    """A tensor of ones: `ones(2, 3)` or `ones((2, 3))`."""
    shape = _shape(size, "ones", kw.get("size"))
    d = _factory_dtype("ones", shape,
                       dtype or (out.dtype if out is not None else _dtype.get_default_dtype()))
    return _out(_finish(np.ones(shape, d.np), requires_grad, device), out)


def empty(*size, out=None, dtype=None, layout=None, device=None, pin_memory=False,
          requires_grad=False, memory_format=None, **kw):
    """An uninitialised tensor."""
    shape = _shape(size, "empty", kw.get("size"))
    d = _factory_dtype("empty", shape,
                       dtype or (out.dtype if out is not None else _dtype.get_default_dtype()))
    return _out(_finish(np.empty(shape, d.np), requires_grad, device), out)


def _fill_dtype(fill_value):
    if isinstance(fill_value, Tensor):
        return _dtype.result_type(fill_value.item())  # a 0-d tensor acts as its Python value
    return _dtype.result_type(fill_value)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         pin_memory=False, requires_grad=False):
    """A tensor filled with `fill_value`; its dtype follows the value (1 -> int64)."""
    shape = _tuple_size(size, "full")
    if not isinstance(fill_value, (builtins.bool, builtins.int, builtins.float, complex,
                                   np.generic, Tensor)):
        raise TypeError("full(): argument 'fill_value' (position 2) must be Number, not "
                        f"{type(fill_value).__name__}")
    d = _factory_dtype("full", shape, dtype or _fill_dtype(fill_value))
    v = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    return _out(_finish(np.full(shape, v, d.np), requires_grad, device), out)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, pin_memory=False,
        requires_grad=False):
    """The n x m identity matrix."""
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    data = np.eye(n, m, dtype=_float_dtype(dtype).np)
    return _out(_finish(data, requires_grad, device), out)


# -- ranges ---------------------------------------------------------------------------------
def _number(v):
    if isinstance(v, Tensor):
        return v.item()
    if isinstance(v, np.generic):
        return v.item()
    return v


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           pin_memory=False, requires_grad=False):
    """Values from start (inclusive) to end (exclusive) by step, as torch computes them.

    >>> arange(3)
    tensor([0, 1, 2])
    """
    if end is None:
        start, end = 0, start
    raw = (start, end, step)
    s, e, st = (_number(v) for v in raw)
    if dtype is None:
        floaty = builtins.any(isinstance(v, builtins.float) or isinstance(v, np.floating) or
                              (isinstance(v, Tensor) and v.dtype.is_floating_point)
                              for v in raw)
        dtype = _dtype.get_default_dtype() if floaty else _dtype.int64
    if dtype is _dtype.bool or dtype.is_complex:
        raise _unsupported("arange_cpu", dtype)
    if st == 0:
        raise RuntimeError("step must be nonzero")
    if not dtype.is_floating_point:
        # NOTE: integer ranges cast their bounds and step first, as torch does
        s, e, st = builtins.int(s), builtins.int(e), builtins.int(st)
        if st == 0:
            raise ValueError("step must be nonzero")
    if not (math.isfinite(s) and math.isfinite(e)):
        raise RuntimeError(f"unsupported range: {s} -> {e}")
    if (st > 0 and e < s) or (st < 0 and e > s):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype.is_floating_point:
        n = builtins.int(math.ceil((e - s) / st))
        _factory_dtype("arange", (n,), dtype)
        # NOTE: torch computes start + i*step in double with a fused multiply-add; extended
        # precision stands in for the FMA (values can still differ in the last bit)
        data = _fma(np.arange(n, dtype=np.float64), st, s).astype(dtype.np)
    else:
        _factory_dtype("arange", (len(range(s, e, st)),), dtype)
        data = np.arange(s, e, st, dtype=np.int64).astype(dtype.np)
    return _out(_finish(data, requires_grad, device), out)


def _fma(a, b, c):
    """a*b + c with one rounding (as the fused multiply-add torch's kernels compile to),
    in float64 arrays, by error-free transformations (Dekker's product, Knuth's sum)."""
    a, b, c = (np.asarray(v, dtype=np.float64) for v in (a, b, c))
    with np.errstate(over="ignore", invalid="ignore"):
        p = a * b
        a1 = a * 134217729.0            # 2**27 + 1 splits a double into two halves
        ahi = a1 - (a1 - a)
        alo = a - ahi
        b1 = b * 134217729.0
        bhi = b1 - (b1 - b)
        blo = b - bhi
        e = ((ahi * bhi - p) + ahi * blo + alo * bhi) + alo * blo
        s = p + c
        bb = s - p
        t = (p - (s - bb)) + (c - bb)
        r = s + (t + e)
        return np.where(np.isfinite(r), r, p + c)


class _Fused:
    """Marks the float64 linspace arithmetic: products fused with the adds."""


# the precision torch's linspace kernel effectively works in
_LIN_ACC = {np.dtype(np.float16): np.float16, np.dtype(np.float32): np.float64,
            np.dtype(np.float64): _Fused}


def _lin_values(s, e, steps, np_type, acc=None):
    """torch's linspace: the first half counts up from start, the second half down from
    end, so both endpoints are exact. `np_type` is the arithmetic type of the step."""
    if steps == 1:
        return np.full(1, s, np_type)
    s, e = np_type(s), np_type(e)
    step = (e - s) / np_type(steps - 1)
    acc = acc or np_type
    i = np.arange(steps)
    half = steps // 2
    with np.errstate(invalid="ignore", over="ignore"):
        if acc is _Fused:
            up, down = _fma(i, step, s), _fma(-step, steps - 1 - i, e)
        else:
            up = acc(s) + acc(step) * i.astype(acc)
            down = acc(e) - acc(step) * (steps - 1 - i).astype(acc)
        return np.where(i < half, up, down).astype(np_type)


def _steps(steps, name):
    if isinstance(steps, Tensor):
        steps = steps.item()
    if not isinstance(steps, (builtins.int, np.integer)) or isinstance(steps, builtins.bool):
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"steps of type {type(steps).__name__}, but expected int steps")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return builtins.int(steps)


def _range_dtype(start, end, dtype):
    if dtype is not None:
        return dtype
    if builtins.any(isinstance(v, complex) or isinstance(v, np.complexfloating) or
                    (isinstance(v, Tensor) and v.dtype.is_complex) for v in (start, end)):
        return _dtype._defaults.complex
    return _dtype.get_default_dtype()


def _lin_core(s, e, steps, d):
    if d.is_floating_point:
        # NOTE: ranges are computed in the output's own float type, as torch's kernel does
        return _lin_values(s, e, steps, d.np.type, _LIN_ACC[d.np])
    if d.is_complex:
        return _lin_values(complex(s), complex(e), steps, d.np.type)
    vals = _lin_values(builtins.float(s), builtins.float(e), steps, np.float64)
    with np.errstate(invalid="ignore"):
        return vals.astype(d.np)


def _pow(b, x):
    try:
        return math.pow(b, x)
    except OverflowError:
        return math.inf
    except ValueError:
        return math.nan


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             pin_memory=False, requires_grad=False):
    """`steps` evenly spaced values from start to end inclusive.

    >>> linspace(0, 1, 5)
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    n = _steps(steps, "linspace")
    d = _range_dtype(start, end, dtype)
    data = _lin_core(_number(start), _number(end), n, d)
    return _out(_finish(data, requires_grad, device), out)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             pin_memory=False, requires_grad=False):
    """base ** linspace(start, end, steps)."""
    n = _steps(steps, "logspace")
    d = _range_dtype(start, end, dtype)
    s, e = _number(start), _number(end)
    if d.is_complex:
        exps = _lin_values(complex(s), complex(e), n, np.complex128)
        data = np.power(complex(base), exps).astype(d.np)
    else:
        exps = _lin_values(builtins.float(s), builtins.float(e), n, np.float64)
        # NOTE: libm's pow (math.pow), not NumPy's, reproduces torch's float64 values
        data = np.array([_pow(builtins.float(base), x) for x in exps.tolist()])
        with np.errstate(over="ignore", invalid="ignore"):
            data = data.astype(d.np)
    return _out(_finish(data, requires_grad, device), out)


# -- random numbers -------------------------------------------------------------------------
_DEFAULT_SEED = 67280421310721


class Generator:
    """A random stream (NumPy's PCG64). Reproducible, but not torch's stream bit for bit."""

    def __init__(self, device="cpu"):
        self.device = check_device(device)
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed):
        seed = builtins.int(seed)
        if not -2 ** 63 <= seed < 2 ** 64:
            raise ValueError("Overflow when unpacking long long")
        self._seed = seed % 2 ** 64        # negative seeds wrap, as in torch
        self.rng = np.random.default_rng(self._seed)
        return self

    def seed(self):
        s = builtins.int(np.random.SeedSequence().entropy) % 2 ** 63
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The stream's state as a uint8 tensor of 5056 bytes (set_state takes it back): plain
        little-endian integers in the layout described above `_STATE_MAGIC`, no pickle."""
        st = self.rng.bit_generator.state
        blob = bytearray(_STATE_SIZE)
        _STATE_HEAD.pack_into(blob, 0, _STATE_MAGIC, _STATE_VERSION, st["has_uint32"],
                              self._seed, st["uinteger"])
        blob[_STATE_HEAD.size:_STATE_WORDS_END] = (st["state"]["state"].to_bytes(16, "little")
                                                   + st["state"]["inc"].to_bytes(16, "little"))
        return _make(np.frombuffer(bytes(blob), dtype=np.uint8).copy())

    def set_state(self, new_state):
        """Restore a state from get_state; torch's errors for a non-ByteTensor, a
        non-contiguous or wrongly sized one, a RuntimeError for any other bad content."""
        seed, state = _parse_state(new_state)
        self.rng.bit_generator.state = state   # in place: the stream object stays the same
        self._seed = seed
        return self


# The generator state (Generator.get_state / get_rng_state), little-endian, 5056 bytes (the
# size of torch's CPU state, so torch's size check and message apply unchanged):
#   0..7    magic b"LGPCG64\0"         8..11   layout version (uint32, 1)
#   12..15  has_uint32 (uint32, 0 or 1)  16..23  the initial seed (uint64)
#   24..27  uinteger (uint32)            28..43  PCG64 state (uint128)
#   44..59  PCG64 increment (uint128, odd) 60..5055 zero
_STATE_MAGIC, _STATE_VERSION, _STATE_SIZE = b"LGPCG64\0", 1, 5056
_STATE_HEAD = struct.Struct("<8sIIQI")
_STATE_WORDS_END = _STATE_HEAD.size + 32


def _type_name(x):
    """The type's name as CPython's tp_name spells it (`int`, `numpy.ndarray`, `Foo`)."""
    t = type(x)
    if t.__module__ == "builtins" or t.__flags__ & (1 << 9):     # Py_TPFLAGS_HEAPTYPE
        return t.__name__
    return f"{t.__module__}.{t.__qualname__}"


def _parse_state(new_state):
    """(seed, numpy bit-generator state) from a state tensor, checked field by field."""
    if not isinstance(new_state, Tensor):
        raise TypeError(f"expected a torch.ByteTensor, but got {_type_name(new_state)}")
    data = new_state._data
    if data.dtype != np.uint8:
        raise TypeError("RNG state must be a torch.ByteTensor")
    if not data.flags.c_contiguous:
        raise RuntimeError("RNG state must be contiguous")
    if data.size != _STATE_SIZE:
        raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE_SIZE} but found "
                           f"the input RNG state size to be {data.size}")
    blob = data.tobytes()
    magic, version, has_uint32, seed, uinteger = _STATE_HEAD.unpack_from(blob)
    if magic != _STATE_MAGIC:
        raise RuntimeError("Invalid RNG state: not a lightgrad generator state (no "
                           "b'LGPCG64' header; torch's own mt19937 state cannot be restored "
                           "into lightgrad's PCG64 generator)")
    if version != _STATE_VERSION:
        raise RuntimeError(f"Invalid RNG state: layout version {version}, lightgrad reads "
                           f"version {_STATE_VERSION}")
    state = int.from_bytes(blob[_STATE_HEAD.size:_STATE_HEAD.size + 16], "little")
    inc = int.from_bytes(blob[_STATE_HEAD.size + 16:_STATE_WORDS_END], "little")
    if has_uint32 not in (0, 1) or inc % 2 == 0 or any(blob[_STATE_WORDS_END:]):
        raise RuntimeError("Invalid RNG state: corrupt PCG64 fields (has_uint32 must be 0 or "
                           "1, the increment odd, the padding zero)")
    return seed, {"bit_generator": "PCG64", "state": {"state": state, "inc": inc},
                  "has_uint32": has_uint32, "uinteger": uinteger}


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator; returns it.

    >>> _ = manual_seed(0); a = rand(2); _ = manual_seed(0); bool((a == rand(2)).all())
    True
    """
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


def _rng(generator=None):
    """The NumPy Generator behind `generator` (the default one when None)."""
    return (generator or default_generator).rng


# -- Tensor.new_* ---------------------------------------------------------------------------
def _new_dtype(self, dtype):
    return dtype or self.dtype


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None,
                pin_memory=False):
    if isinstance(data, Tensor):
        warnings.warn(_COPY_WARNING, UserWarning, stacklevel=2)
    return tensor(data, dtype=_new_dtype(self, dtype), device=device,
                  requires_grad=requires_grad)


def _new_filled(fn, name):
    def method(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
               pin_memory=False, **kw):
        shape = _shape(size, name, kw.get("size"))
        d = _factory_dtype(name, shape, _new_dtype(self, dtype))
        return _finish(fn(shape, d.np), requires_grad, device)
    method.__name__ = name
    return method


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False,
              layout=None, pin_memory=False):
    shape = _tuple_size(size, "new_full")
    v = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    with np.errstate(invalid="ignore"):
        data = np.full(shape, v).astype(_new_dtype(self, dtype).np)
    return _finish(data, requires_grad, device)


Tensor.new_tensor = _new_tensor
Tensor.new_zeros = _new_filled(np.zeros, "new_zeros")
Tensor.new_ones = _new_filled(np.ones, "new_ones")
Tensor.new_empty = _new_filled(np.empty, "new_empty")
Tensor.new_full = _new_full


_plain_new = Tensor.__new__


def _tensor_new(cls, *args, **kwargs):
    """Tensor(data) builds a float tensor from data, as torch does; Tensor(*sizes) zeros."""
    if cls is Tensor and args and not isinstance(args[0], (int, np.integer)):
        return tensor(args[0], dtype=_dtype.get_default_dtype())
    return _plain_new(cls, *args, **kwargs)


Tensor.__new__ = staticmethod(_tensor_new)
