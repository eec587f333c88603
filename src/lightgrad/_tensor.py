"""Tensor: a NumPy array plus what autograd needs (requires_grad, grad, grad_fn, version).

Math methods and operators are attached by the op families in ops/, each beside its rule.
"""
import warnings
import weakref

import numpy as np

from . import _dtype
from ._backend import CPU
from ._graph.grad_mode import state as _grad_state

__all__ = ["Tensor", "Size"]

_warned_float = [False]   # float() of a tensor that requires grad: warned yet?
_NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See "
    "github.com/pytorch/pytorch/pull/30531 for more information.")
_NON_LEAF_FLAG = (
    "you can only change requires_grad flags of leaf variables. If you want to use a computed "
    "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().")


class Size(tuple):
    """torch.Size: a tuple of ints."""

    def __repr__(self):
        return f"lightgrad.Size({list(self)})"

    __str__ = __repr__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))


class Tensor:
    # Hot fields are slots; rarely used state (hooks, retains_grad, inference) lives in _x.
    __slots__ = ("_data", "_rg", "grad_fn", "_vc", "_grad", "_base", "_out_nr", "_acc", "_x",
                 "__weakref__")
    # As torch's Tensor: NumPy's operators defer to ours (np.float32(2) * t is a Tensor), and
    # NumPy's ufuncs take tensors through __array__ and return Tensors (__array_wrap__)
    __array_priority__ = 1000

    def __new__(cls, *args, **kwargs):
        self = object.__new__(cls)
        if cls is Tensor or not kwargs.get("_skip_init"):
            shape = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
            shape = shape if args else (0,)     # torch.Tensor() is an empty 1-d tensor
            _init(self, np.zeros(tuple(shape), _dtype.get_default_dtype().np))
        return self

    def __init__(self, *args, **kwargs):
        pass

    # -- autograd state -----------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._rg is True     # a forward-AD dual records but does not require grad

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if self.grad_fn is not None:
            if not value:
                raise RuntimeError(_NON_LEAF_FLAG)
            return
        if value:
            d = self.dtype
            if not (d.is_floating_point or d.is_complex):
                raise RuntimeError("only Tensors of floating point and complex dtype can "
                                   "require gradients")
            _check_can_require_grad(self)
        self._rg = value

    def requires_grad_(self, requires_grad=True):
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(_NON_LEAF_FLAG)
            return self
        if requires_grad:
            if not self.dtype.is_floating_point and not self.dtype.is_complex:
                raise RuntimeError("only Tensors of floating point dtype can require gradients")
            _check_can_require_grad(self)
        self._rg = bool(requires_grad)
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def grad(self):
        if self._grad is None and self.grad_fn is not None and not self.retains_grad:
            warnings.warn(_NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError("assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value.dtype is not self.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{_dtype_word(value.dtype)}' to "
                    f"a tensor with grad_dtype '{self.dtype._legacy}'. The gradient must match "
                    "the tensor's grad_dtype (defaults to the tensor's dtype). You can set the "
                    "tensor's grad_dtype attribute with a specific dtype, or None to allow any "
                    "dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and its "
                    "gradient may break downstream systems that assume they match.")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor "
                    f"of size '{list(self.shape)}'. Please ensure that the gradient and the tensor "
                    "are the same size")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def retains_grad(self):
        x = self._x
        return bool(x and x.get("retains_grad")) and self.grad_fn is not None

    def retain_grad(self):
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self.retains_grad:
            return
        self._extra()["retains_grad"] = True
        self.grad_fn._get_hooks().retain[self._out_nr] = weakref.ref(self)


    @property
    def output_nr(self):
        return self._out_nr

    @property
    def _version(self):
        return self._vc[0]

    def _extra(self):
        if self._x is None:
            self._x = {}
        return self._x


    def _edge(self):
        return (self.grad_fn, self._out_nr) if self.grad_fn is not None else (self._get_acc(), 0)

    def is_inference(self):
        return bool(self._x and self._x.get("inference"))

    def _is_view(self):
        return self._base is not None

    # -- detaching ----------------------------------------------------------------------
    def detach(self):
        """A new leaf sharing data and version counter, cut from the graph."""
        t = _make(self._data)
        t._vc = self._vc
        return t

    def detach_(self):
        if self._base is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be "
                "called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")
        self.grad_fn = None
        self._rg = False
        self._out_nr = 0
        return self

    @property
    def data(self):
        return _make(self._data)

    @data.setter
    def data(self, value):
        self._data = value._data

    # -- metadata -----------------------------------------------------------------------
    @property
    def dtype(self):
        return _dtype._FROM_NP[self._data.dtype]

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    def dim(self):
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def stride(self, dim=None):
        a = self._data
        if a.size:
            st = tuple(s // a.itemsize for s in a.strides)
        else:   # NumPy gives an empty array zero strides; torch gives contiguous ones
            st, acc = [], 1
            for n in reversed(a.shape):
                st.insert(0, acc)
                acc *= max(n, 1)
            st = tuple(st)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    def is_contiguous(self, memory_format=None):
        return self._data.flags.c_contiguous

    def data_ptr(self):
        return self._data.__array_interface__["data"][0]

    def storage_offset(self):
        if self._base is None:
            return 0
        return (self.data_ptr() - self._base.data_ptr()) // self._data.itemsize

    @property
    def device(self):
        return CPU

    is_cuda = False
    is_sparse = False
    is_quantized = False
    is_meta = False

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def is_complex(self):
        return self._data.dtype.kind == "c"

    def get_device(self):
        return -1

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        from ._backend import array_module, device as _device
        array_module(_device("cuda"))       # raises: lightgrad has no CUDA backend

    # -- conversions to Python and NumPy --------------------------------------------------
    def numpy(self, *, force=False):
        if self._rg and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        if self._rg:
            self.numpy()    # raises torch's error: NumPy can't see a tensor that needs grad
        return self._data if dtype is None else self._data.astype(dtype, copy=False)

    def __array_wrap__(self, array, context=None, return_scalar=False):
        """The Tensor NumPy returns from a ufunc on tensors (np.sin(t), t + ndarray), as
        torch's: a bool result becomes uint8, and 0-d results stay 0-d tensors."""
        if array.dtype == np.bool_:
            array = array.astype(np.uint8)
        _dtype.from_numpy_dtype(array.dtype)       # torch's error for a dtype it lacks
        return _make(array)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """DLPack export, sharing memory (np.from_dlpack, torch.from_dlpack); refused, as
        torch refuses it, for a tensor that requires grad."""
        if self._rg:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        # only the arguments given: NumPy before 2.1 takes `stream` alone
        kwargs = {k: v for k, v in (("max_version", max_version), ("dl_device", dl_device),
                                    ("copy", copy)) if v is not None}
        return self._data.__dlpack__(stream=stream, **kwargs)

    def __dlpack_device__(self):
        return (1, 0)   # (kDLCPU, device 0): lightgrad's memory is NumPy's

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to "
                               "Scalar")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def _scalar(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self._data.item()

    def __float__(self):
        # (torch warns only with grad mode on: under no_grad the conversion is expected)
        if self._rg is True and _grad_state.grad_enabled and not _warned_float[0]:
            _warned_float[0] = True     # torch warns once per process (C++ warn-once)
            warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to "
                          "unexpected behavior.\nConsider using tensor.detach() first.",
                          UserWarning, stacklevel=2)
        return float(self._scalar())

    def __int__(self):
        return int(self._scalar())

    def __complex__(self):
        return complex(self._scalar())

    def __bool__(self):
        if self._data.size != 1:
            many = "more than one value" if self._data.size else "no values"
            raise RuntimeError(f"Boolean value of Tensor with {many} is ambiguous")
        return bool(self._data.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self._data.item())

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self):
        return id(self)

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self._data.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._data, self._rg))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.  If you were "
                               "attempting to deepcopy a module, this may be because of a "
                               "torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        t = type(self).__new__(type(self), _skip_init=True) if type(self) is not Tensor \
            else object.__new__(Tensor)
        _init(t, self._data.copy(), self._rg)
        if self._grad is not None:
            t._grad = _make(self._grad._data.copy())
        memo[id(self)] = t
        return t


def _rebuild(data, requires_grad):
    return _make(data, requires_grad=requires_grad)


def _dtype_word(d):
    return {"float64": "double", "float32": "float", "float16": "c10::Half", "int64": "long int",
            "int32": "int"}.get(d.name, d.name)


def _check_can_require_grad(t):
    if t._data.dtype.kind == "c":
        raise NotImplementedError("lightgrad does not differentiate complex tensors yet: "
                                  "requires_grad=True needs a real floating point dtype")
    if t._x and t._x.get("inference") and not _grad_state.inference:
        raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                           "InferenceMode is not allowed.")


def _wrap_dim(dim, ndim):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


def _init(t, data, requires_grad=False, grad_fn=None, out_nr=0):
    t._data = data
    t._rg = requires_grad
    t.grad_fn = grad_fn
    t._vc = [0]
    t._grad = t._base = t._acc = t._x = None
    t._out_nr = out_nr
    if _grad_state.inference:
        t._x = {"inference": True}


_ndarray = np.ndarray
_new = object.__new__


def _make(data, grad_fn=None, out_nr=0, requires_grad=False):
    """The fast Tensor constructor used by every op: no argument parsing."""
    if type(data) is not _ndarray:
        data = np.asarray(data)
    t = _new(Tensor)
    t._data = data
    t._rg = requires_grad or grad_fn is not None
    t.grad_fn = grad_fn
    t._vc = [0]
    t._grad = t._base = t._acc = t._x = None
    t._out_nr = out_nr
    if _grad_state.inference:
        t._x = {"inference": True}
    return t


def typename(obj):
    """torch.typename: 'torch.FloatTensor' for tensors, 'module.QualName' otherwise."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if qualname is None:
        module = type(obj).__module__ or ""
        qualname = type(obj).__qualname__
    if module in ("", "builtins"):
        return qualname
    return f"{module}.{qualname}"
