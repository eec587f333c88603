"""dtype objects and torch's type-promotion rules (spec section 7)."""
import numpy as np

__all__ = ["dtype", "float16", "float32", "float64", "int8", "int16", "int32", "int64",
           "uint8", "bool", "complex64", "complex128", "half", "float", "double", "short",
           "int", "long", "cfloat", "cdouble", "get_default_dtype", "set_default_dtype",
           "promote_types", "result_type", "can_cast", "finfo", "iinfo"]

_builtin_bool, _builtin_float, _builtin_int = bool, float, int


class dtype:
    """A tensor element type. Compares by identity: there is one object per type."""
    __slots__ = ("name", "np", "is_floating_point", "is_complex", "is_signed", "itemsize",
                 "_legacy", "_kind")

    def __init__(self, name, np_type, legacy):
        self.name = name
        self.np = np.dtype(np_type)
        self.is_complex = self.np.kind == "c"
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "fic"
        self.itemsize = self.np.itemsize
        self._legacy = legacy  # name used in error texts, e.g. 'Float' in torch.FloatTensor
        # category order used by promotion: bool < int < float < complex
        self._kind = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}[self.np.kind]

    def __repr__(self):
        return "lightgrad." + self.name

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_real(self):
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    def to_complex(self):
        return {"float64": complex128, "float16": complex64}.get(self.name, complex64) \
            if not self.is_complex else self


float16 = dtype("float16", np.float16, "Half")
float32 = dtype("float32", np.float32, "Float")
float64 = dtype("float64", np.float64, "Double")
int8 = dtype("int8", np.int8, "Char")
int16 = dtype("int16", np.int16, "Short")
int32 = dtype("int32", np.int32, "Int")
int64 = dtype("int64", np.int64, "Long")
uint8 = dtype("uint8", np.uint8, "Byte")
bool = dtype("bool", np.bool_, "Bool")
complex64 = dtype("complex64", np.complex64, "ComplexFloat")
complex128 = dtype("complex128", np.complex128, "ComplexDouble")
half, float, double, short, int, long = float16, float32, float64, int16, int32, int64
cfloat, cdouble = complex64, complex128

_ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, bool, complex64, complex128)
_FROM_NP = {d.np: d for d in _ALL}


def _by_name(name):
    return {d.name: d for d in _ALL}[name]


def from_numpy_dtype(np_dtype):
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        t = np.dtype(np_dtype).type
        raise TypeError(f"can't convert np.ndarray of type {t.__module__}.{t.__name__}. The only "
                        "supported types "
                        "are: float64, float32, float16, complex64, complex128, int64, int32, "
                        "int16, int8, uint8, and bool.") from None


class _Defaults:
    float = float32
    complex = complex64


_defaults = _Defaults()


def get_default_dtype():
    return _defaults.float


def set_default_dtype(d):
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _defaults.float = d
    _defaults.complex = complex128 if d is float64 else complex64
    _promotion_cache.clear()


def promote_types(a, b):
    """torch.promote_types: the smallest dtype both a and b convert to."""
    if a is b:
        return a
    if a._kind != b._kind:
        hi, lo = (a, b) if a._kind > b._kind else (b, a)
        if hi.is_complex and lo is float64:
            return complex128
        return hi  # NOTE: float16 + int64 stays float16 in torch (NumPy would give float64)
    return _FROM_NP[np.promote_types(a.np, b.np)]


def _combine(higher, lower):
    # torch's combine_categories: a higher-priority operand wins unless a lower one is of
    # a higher category (e.g. int tensor + float scalar)
    if higher is None:
        return lower
    if lower is None or higher.is_complex:
        return higher
    if lower.is_complex:
        return higher.to_complex() if higher.is_floating_point else lower
    if higher.is_floating_point:
        return higher
    if higher is bool or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def _scalar_dtype(x):
    if isinstance(x, _builtin_bool):
        return bool
    if isinstance(x, _builtin_int):
        return int64
    if isinstance(x, _builtin_float):
        return _defaults.float
    if isinstance(x, complex):
        return _defaults.complex
    if isinstance(x, np.generic):
        return _scalar_dtype(x.item())
    raise TypeError(f"unsupported operand type: {type(x).__name__}")


_promotion_cache = {}


def result_type(*operands):
    """Result dtype of an op over Tensors and Python scalars, by torch's three tiers:
    dimensioned tensors > 0-d tensors > scalars, with a higher category always winning."""
    key = tuple((o.dtype, o._data.ndim != 0) if hasattr(o, "_data") else _scalar_dtype(o)
                for o in operands)
    r = _promotion_cache.get(key)
    if r is None:
        tiers = [None, None, None]
        for k in key:
            d, tier = (k[0], 0 if k[1] else 1) if isinstance(k, tuple) else (k, 2)
            tiers[tier] = d if tiers[tier] is None else promote_types(tiers[tier], d)
        r = _promotion_cache[key] = _combine(tiers[0], _combine(tiers[1], tiers[2]))
    return r


def can_cast(from_, to):
    return from_._kind <= to._kind or (from_ is bool)


class finfo:
    def __init__(self, type=None):
        type = type or _defaults.float
        fi = np.finfo(type.np)
        self.bits, self.eps, self.max, self.min = fi.bits, _builtin_float(fi.eps), \
            _builtin_float(fi.max), _builtin_float(fi.min)
        self.tiny = self.smallest_normal = _builtin_float(fi.tiny)
        self.resolution, self.dtype = _builtin_float(fi.resolution), type.name


class iinfo:
    def __init__(self, type):
        ii = np.iinfo(type.np)
        self.bits, self.max, self.min, self.dtype = ii.bits, ii.max, ii.min, type.name
