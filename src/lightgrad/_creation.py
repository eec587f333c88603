"""Tensor factories, random numbers and generators."""
import warnings

import numpy as np

from . import _dtype
from ._backend import check_device
from ._tensor import Tensor, _make

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "zeros_like",
           "ones_like", "full_like", "empty_like", "eye", "arange", "linspace", "logspace",
           "rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial",
           "rand_like", "randn_like", "randint_like", "manual_seed", "seed", "initial_seed",
           "Generator", "get_rng_state", "set_rng_state"]


def _finish(data, dtype, requires_grad, device, capital=True):
    if device is not None:
        check_device(device)
    t = _make(data)
    if requires_grad:
        if data.dtype.kind not in "fc":
            raise RuntimeError(("Only" if capital else "only") + " Tensors of floating point and "
                               "complex dtype can require gradients")
        t.requires_grad = True
    return t


def _infer_np_dtype(data):
    """NumPy dtype for Python data by torch's rules: floats -> default float, ints -> int64."""
    kinds = set()

    def walk(x):
        if isinstance(x, Tensor):
            kinds.add(x._data.dtype.kind if x._data.dtype.kind != "f" else "f")
            if x._data.dtype.kind in "fc":
                kinds.add(("dt", x._data.dtype))
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)
        elif isinstance(x, (bool, np.bool_)):
            kinds.add("b")
        elif isinstance(x, (int, np.integer)):
            kinds.add("i")
        elif isinstance(x, (float, np.floating)):
            kinds.add("f")
        elif isinstance(x, (complex, np.complexfloating)):
            kinds.add("c")
        else:
            raise TypeError(f"Could not infer dtype of {type(x).__name__}")
    walk(data)
    if "c" in kinds:
        return _dtype._defaults.complex.np
    if "f" in kinds:
        return _dtype.get_default_dtype().np
    if "i" in kinds or "u" in kinds:
        return np.dtype(np.int64)
    if "b" in kinds:
        return np.dtype(np.bool_)
    return _dtype.get_default_dtype().np  # empty list


def _to_array(data, dtype):
    if isinstance(data, Tensor):
        return data._data.astype(dtype.np if dtype else data._data.dtype, copy=True)
    if isinstance(data, np.ndarray):
        a = np.array(data, dtype=dtype.np if dtype else None, copy=True)
        if dtype is None and a.dtype not in _dtype._FROM_NP:
            _dtype.from_numpy_dtype(a.dtype)
        return a
    if isinstance(data, np.generic):
        return np.array(data, dtype=dtype.np if dtype else data.dtype)
    np_dtype = dtype.np if dtype is not None else _infer_np_dtype(data)
    if isinstance(data, (list, tuple)):
        data = _unwrap_tensors(data)
    return np.array(data, dtype=np_dtype)


def _unwrap_tensors(x):
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, (list, tuple)):
        return [_unwrap_tensors(v) for v in x]
    return x


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new leaf tensor holding a copy of `data`. `lightgrad.tensor([1., 2.])`"""
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or "
                      "sourceTensor.detach().clone().requires_grad_(True), rather than "
                      "torch.tensor(sourceTensor).", UserWarning, stacklevel=2)
    return _finish(_to_array(data, dtype), dtype, requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    """Like tensor(), but shares memory with a Tensor or ndarray of matching dtype."""
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype is dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == dtype.np):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray):
    """A tensor sharing memory with `ndarray`."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dtype.from_numpy_dtype(ndarray.dtype)
    return _make(ndarray)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(s) for s in size)


def _float_np(dtype):
    return (dtype or _dtype.get_default_dtype()).np


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None,
          pin_memory=False):
    return _finish(np.zeros(_size(size), _float_np(dtype)), dtype, requires_grad, device)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None,
         pin_memory=False):
    return _finish(np.ones(_size(size), _float_np(dtype)), dtype, requires_grad, device)


def empty(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None,
          pin_memory=False, memory_format=None):
    return _finish(np.empty(_size(size), _float_np(dtype)), dtype, requires_grad, device)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None,
         layout=None, pin_memory=False):
    if dtype is None:
        dtype = _dtype.result_type(fill_value) if not isinstance(fill_value, Tensor) \
            else fill_value.dtype
    return _finish(np.full(_size((size,)), fill_value, dtype.np), dtype, requires_grad, device)


def _like(fn):
    def like(input, *, dtype=None, device=None, requires_grad=False, layout=None,
             memory_format=None, pin_memory=False):
        return fn(input._data.shape, dtype=dtype or input.dtype, device=device,
                  requires_grad=requires_grad)
    like.__name__ = fn.__name__ + "_like"
    return like


zeros_like, ones_like, empty_like = _like(zeros), _like(ones), _like(empty)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
              memory_format=None, pin_memory=False):
    return full(input._data.shape, fill_value, dtype=dtype or input.dtype, device=device,
                requires_grad=requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None):
    return _finish(np.eye(n, m, dtype=_float_np(dtype)), dtype, requires_grad, device)


def arange(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False,
           out=None, layout=None, pin_memory=False):
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        dtype = _dtype.get_default_dtype() if any(isinstance(v, float) for v in vals) \
            else _dtype.int64
    # NOTE: computed in float64 then cast, so float32 ranges hold exact integers as torch's do
    n = int(np.ceil((vals[1] - vals[0]) / vals[2]))
    data = (vals[0] + np.arange(max(n, 0), dtype=np.float64) * vals[2]) \
        if dtype.is_floating_point else np.arange(vals[0], vals[1], vals[2])
    return _finish(data.astype(dtype.np), dtype, requires_grad, device)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, out=None):
    return _finish(np.linspace(start, end, steps).astype(_float_np(dtype)), dtype, requires_grad,
                   device)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False,
             out=None):
    return _finish(np.logspace(start, end, steps, base=base).astype(_float_np(dtype)), dtype,
                   requires_grad, device)


# -- random numbers ----------------------------------------------------------------------
class Generator:
    """A random stream (NumPy's PCG64); streams differ from torch's bit for bit."""

    def __init__(self, device="cpu"):
        self.device = check_device(device)
        self._seed = 67280421310721
        self.rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed):
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy) % (2 ** 63)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        from ._creation import tensor as _t
        import pickle
        return _make(np.frombuffer(pickle.dumps(self.rng.bit_generator.state), dtype=np.uint8)
                     .copy())

    def set_state(self, state):
        import pickle
        self.rng.bit_generator.state = pickle.loads(state._data.tobytes())
        return self


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator (lightgrad's streams are not torch's)."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def _rng(generator):
    return (generator or default_generator).rng


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    data = _rng(generator).random(_size(size)).astype(_float_np(dtype))
    return _finish(data, dtype, requires_grad, device)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    data = _rng(generator).standard_normal(_size(size)).astype(_float_np(dtype))
    return _finish(data, dtype, requires_grad, device)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False, out=None):
    if size is None:        # randint(high, size)
        low, high, size = 0, low, high
    data = _rng(generator).integers(low, high, _size((size,))).astype(
        (dtype or _dtype.int64).np)
    return _finish(data, dtype, requires_grad, device)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    data = _rng(generator).permutation(n).astype((dtype or _dtype.int64).np)
    return _finish(data, dtype, requires_grad, device)


def rand_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return rand(input._data.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return randn(input._data.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False,
                 memory_format=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, input._data.shape, dtype=dtype or input.dtype)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None,
           device=None, requires_grad=False):
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    shape = _size((size,)) if size is not None else np.broadcast(np.asarray(m),
                                                                 np.asarray(s)).shape
    if dtype is None:
        dtype = mean.dtype if isinstance(mean, Tensor) else std.dtype \
            if isinstance(std, Tensor) else _dtype.get_default_dtype()
    data = (m + s * _rng(generator).standard_normal(shape)).astype(dtype.np)
    return _finish(data, dtype, requires_grad, device)


def bernoulli(input, p=None, *, generator=None, out=None):
    probs = input._data if p is None else np.full(input._data.shape, p)
    data = (_rng(generator).random(input._data.shape) < probs).astype(input._data.dtype)
    return _make(data)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    probs = input._data.astype(np.float64)
    rng = _rng(generator)
    rows = probs.reshape(-1, probs.shape[-1])
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    out_rows = []
    for row in rows:
        p = row / row.sum()
        if replacement:
            out_rows.append(rng.choice(len(p), num_samples, replace=True, p=p))
        else:
            # Gumbel top-k draws without replacement in proportion to the weights
            keys = np.log(rng.random(len(p))) / np.where(p > 0, p, 1e-300)
            out_rows.append(np.argsort(-keys)[:num_samples])
    data = np.array(out_rows, dtype=np.int64).reshape(probs.shape[:-1] + (num_samples,))
    return _make(data)


def _new_factory(fn):
    def method(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        return fn(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)
    return method


Tensor.new_zeros = _new_factory(zeros)
Tensor.new_ones = _new_factory(ones)
Tensor.new_empty = _new_factory(empty)
Tensor.new_full = lambda self, size, fill_value, dtype=None, device=None, requires_grad=False: \
    full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)
Tensor.new_tensor = lambda self, data, dtype=None, device=None, requires_grad=False: \
    tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)
