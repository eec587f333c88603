"""Capture and replay for lightgrad.compile: one call is run eagerly while its NumPy work is
traced into a flat tape of array kernels; later calls run the tape as generated Python, with
no Tensor, node or engine work at all.

How a call is traced (all of it undone in a `finally`, and only for the capturing thread):
- Tensor's `_data`, `_grad` and `_x` slots are replaced on the class by properties. A tensor
  that existed before the call (a parameter, an input, optimizer state, a grad) is *external*:
  its first `_data` read returns a traced view (`_TArr`) and becomes a tape source, read fresh
  from the tensor at replay; a write of its `_data` or `_grad` becomes an effect replayed on
  the same object; the None-ness of its `_grad` at entry becomes a guard.
- `_TArr` (an ndarray subclass holding the real values) records every ufunc call
  (`__array_ufunc__`), every NumPy function (`__array_function__`) and every ndarray method
  it is called with, on plain arrays, and returns traced results. A plain array met as an
  argument is a constant, or (when it is an exact view of traced memory: `np.asarray(t)`) the
  traced array it aliases; an inexact view of traced memory, or a subclass instance NumPy
  made by itself, poisons the capture.
- Data leaving arrays: `.item()` gives a symbolic scalar (SymFloat / SymInt, a float / int
  subclass recording its Python arithmetic, replayed with the same operations, so Adam's bias
  corrections are bit-identical); `bool()` of a traced array or of a symbolic comparison is a
  guard, checked at replay before anything outside is written (its computation is hoisted to
  the top of the replay) or the capture is refused. `float()`, `int()`, `tolist()`, printing
  and the like refuse.
- The default Generator's NumPy stream is replaced by a proxy recording each draw; replay
  draws from the real stream, so random numbers are fresh and equal to eager's.
- Modules called (`Module.__call__` watched) and optimizers stepped (a global step pre-hook)
  are guarded at replay: training flags, hooks, hyperparameters.

A capture that meets anything it cannot replay keeps running eagerly (its results are
real) and reports the reason; the caller then runs that signature eagerly.
"""
import gc
import math
import operator
import re
import threading
import traceback
import weakref

import numpy as np

from ._tensor import Tensor, _make
from . import _creation
from ._graph import engine as _engine
from .nn.modules.module import Module
from .optim import optimizer as _optim

__all__ = ["capture", "Stale"]

_ndarray = np.ndarray
_get_ident = threading.get_ident
_DATA, _GRAD, _X = (Tensor.__dict__[n] for n in ("_data", "_grad", "_x"))
_MODULE_CALL = Module.__call__
_cur = [None, None]            # (capture, thread id) while a capture runs
_lock = threading.Lock()       # one capture at a time (the class attributes are shared)
_DEBUG = 0                     # stack depth to note where each constant array comes from


class Stale(Exception):
    """Raised by a replay whose guards fail (before it has changed anything)."""


def _active():
    c = _cur[0]
    if c is not None and _cur[1] == _get_ident():
        return c
    return None


# -- traced values ---------------------------------------------------------------------------
class _TArr(np.ndarray):
    """An array traced on the tape: the real values, its variable `_v` and plain twin `_p`."""

    def __array_finalize__(self, obj):
        # made by NumPy itself (a view or copy of a traced array outside the recorded
        # paths): `_c` says which capture's memory it came from, `_v` is unset
        self._v = None
        self._c = getattr(obj, "_c", None)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _function(func, args, kwargs)

    def __bool__(self):
        cap = _active()
        if cap is None:
            return bool(_plain(self))
        return bool(cap.call("call", bool, (self,), {}))

    def __reduce__(self):
        return _plain(self).__reduce__()


def _plain(x):
    """The plain ndarray behind a traced one (x itself otherwise)."""
    if type(x) is _TArr:
        p = x.__dict__.get("_p")
        return p if p is not None else _ndarray.view(x, _ndarray)
    return x


def _real(x):
    """Plain values for a real NumPy call: traced arrays and symbols unwrapped, recursively."""
    t = type(x)
    if t is _TArr:
        return _plain(x)
    if t is SymFloat:
        return float.__float__(x)
    if t is SymInt:
        return int.__int__(x)
    if t is SymBool:
        return x._b
    if t is tuple or t is list:
        return t(_real(i) for i in x)
    if t is dict:
        return {k: _real(v) for k, v in x.items()}
    if t is slice:
        return slice(_real(x.start), _real(x.stop), _real(x.step))
    return x


class _Sym:
    """Shared parts of the symbolic scalars (SymFloat, SymInt)."""
    __slots__ = ()

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _ufunc(ufunc, method, inputs, kwargs)


def _sym_binop(fn, text, reflected=False):
    def op(self, other):
        if not isinstance(other, (int, float)) or isinstance(other, np.generic):
            return NotImplemented       # arrays and tensors take the symbol themselves
        cap = _active()
        a, b = (other, self) if reflected else (self, other)
        r = fn(_real(a), _real(b))
        if cap is None or r is NotImplemented:
            return r
        return cap.pyop(text, (a, b), r)
    return op


def _sym_unop(fn, text):
    def op(self):
        cap = _active()
        r = fn(_real(self))
        return r if cap is None else cap.pyop(text, (self,), r)
    return op


_BINOPS = [("add", operator.add, "+"), ("sub", operator.sub, "-"), ("mul", operator.mul, "*"),
           ("truediv", operator.truediv, "/"), ("floordiv", operator.floordiv, "//"),
           ("mod", operator.mod, "%"), ("pow", operator.pow, "**")]
_CMPS = [("lt", operator.lt, "<"), ("le", operator.le, "<="), ("gt", operator.gt, ">"),
         ("ge", operator.ge, ">="), ("eq", operator.eq, "=="), ("ne", operator.ne, "!=")]


def _escape(name):
    def method(self, *args):
        cap = _active()
        if cap is not None:
            cap.refuse(f"a traced value is converted by {name}() inside the compiled function")
        return getattr(_real(self), name)(*args)
    return method


def _sym_class(name, base):
    ns = {"__array_ufunc__": _Sym.__array_ufunc__,
          "__hash__": base.__hash__}
    for n, fn, text in _BINOPS:
        ns[f"__{n}__"] = _sym_binop(fn, text)
        ns[f"__r{n}__"] = _sym_binop(fn, text, reflected=True)
    for n, fn, text in _CMPS:
        ns[f"__{n}__"] = _sym_binop(fn, text)
    ns["__neg__"] = _sym_unop(operator.neg, "-")
    ns["__pos__"] = _sym_unop(operator.pos, "+")
    ns["__abs__"] = _sym_unop(abs, "abs")
    for n in ("__float__", "__int__", "__index__", "__round__", "__trunc__", "__floor__",
              "__ceil__", "__repr__", "__str__", "__format__", "__complex__"):
        ns[n] = _escape(n)

    def __bool__(self):
        cap = _active()
        r = bool(_real(self))
        if cap is not None:
            cap.guard(cap.pyop("bool", (self,), r))
        return r
    ns["__bool__"] = __bool__

    def __reduce__(self):
        return (base, (_real(self),))
    ns["__reduce__"] = __reduce__
    return type(name, (base,), ns)


SymFloat = _sym_class("SymFloat", float)
SymInt = _sym_class("SymInt", int)


class SymBool:
    """A traced Python bool (a comparison of symbols, bool() of an array): truth is a guard."""
    __slots__ = ("_v", "_b")

    def __bool__(self):
        cap = _active()
        if cap is not None:
            cap.guard(self)
        return self._b

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _ufunc(ufunc, method, inputs, kwargs)

    def __repr__(self):
        return repr(self._b)

    __int__ = __index__ = __float__ = _escape("__int__")


def _ufunc(ufunc, method, inputs, kwargs):
    cap = _active()
    if cap is None:
        return getattr(ufunc, method)(*_real(inputs), **_real(kwargs))
    writes = [w for w in kwargs.get("out", ()) or () if w is not None]
    if method == "at":
        writes.append(inputs[0])
    # ufunc(..., out=v) for one whole output can be hoisted as ufunc(...) (see _Gen._hoist)
    hoistable = method == "__call__" and len(writes) == 1 and len(kwargs["out"]) == 1
    return cap.call("call", ufunc if method == "__call__" else getattr(ufunc, method), inputs,
                    kwargs, writes=writes, inplace=hoistable)


# NumPy functions that read only metadata (never recorded), and those that write an argument
_META = {np.shape, np.ndim, np.size, np.result_type, np.may_share_memory, np.shares_memory,
         np.iscomplexobj, np.isrealobj, np.min_scalar_type, np.can_cast}
_WRITES_FIRST = {np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis}
# data-dependent output shapes: the tape's later shapes would be stale
_DATA_SHAPES = {np.nonzero, np.argwhere, np.flatnonzero, np.unique, np.extract, np.compress,
                np.bincount, np.trim_zeros}


def _function(func, args, kwargs):
    cap = _active()
    if cap is None or func in _META:
        return func(*_real(args), **_real(kwargs))
    if func in _DATA_SHAPES or (func is np.where and len(args) == 1) or (
            func is np.repeat and _has_traced(args[1:])):
        cap.refuse(f"np.{func.__name__} gives an output whose shape depends on the data")
    writes = [args[0]] if func in _WRITES_FIRST else []
    out = kwargs.get("out")
    if out is not None:
        writes += list(out) if isinstance(out, tuple) else [out]
    return cap.call("call", func, args, kwargs, writes=writes)


def _has_traced(x):
    t = type(x)
    if t is _TArr or t is _ndarray or t in _SYMS:
        return True
    if t is tuple or t is list:
        return any(_has_traced(i) for i in x)
    if t is dict:
        return any(_has_traced(i) for i in x.values())
    if t is slice:
        return _has_traced((x.start, x.stop, x.step))
    return False


_SYMS = (SymFloat, SymInt, SymBool)

# ndarray methods: each runs on the plain array and is recorded as a method call
_PURE_METHODS = ("all", "any", "argmax", "argmin", "argpartition", "argsort", "astype", "choose",
                 "clip", "conj", "conjugate", "copy", "cumprod", "cumsum", "diagonal", "dot",
                 "flatten", "max", "mean", "min", "prod", "ravel", "repeat", "reshape", "round",
                 "searchsorted", "squeeze", "std", "sum", "swapaxes", "take", "trace",
                 "transpose", "var", "view", "__copy__", "item", "setflags",
                 "getfield")
_WRITING_METHODS = ("fill", "sort", "put", "partition", "setfield", "byteswap")
_ESCAPES = ("tolist", "tobytes", "tofile", "dump", "dumps", "resize",
            "__repr__", "__str__", "__format__", "__float__", "__int__", "__index__",
            "__complex__", "__contains__", "__setstate__")


def _method(name, writes_self):
    base = getattr(_ndarray, name)

    def method(self, *args, **kwargs):
        cap = _active()
        if cap is None:
            return base(_plain(self), *_real(args), **_real(kwargs))
        if name in ("nonzero", "compress"):
            cap.refuse(f"{name}() gives an output whose shape depends on the data")
        w = [self] if writes_self and not (name == "byteswap" and not (args and args[0])) \
            else []
        if kwargs.get("out") is not None:
            w.append(kwargs["out"])
        return cap.call("method", name, (self,) + args, kwargs, writes=w)
    method.__name__ = name
    return method


for _n in _PURE_METHODS + ("nonzero", "compress"):
    setattr(_TArr, _n, _method(_n, False))
for _n in _WRITING_METHODS:
    setattr(_TArr, _n, _method(_n, True))
for _n in _ESCAPES:
    setattr(_TArr, _n, _escape(_n))


def _deepcopy(self, memo):
    return self.copy()


def _getitem(self, key):
    cap = _active()
    if cap is None:
        return _plain(self)[_real(key)]
    if _bool_key(key):
        cap.refuse("boolean-mask indexing gives a shape that depends on the data")
    return cap.call("getitem", None, (self, key), {})


def _setitem(self, key, value):
    cap = _active()
    if cap is None:
        _plain(self)[_real(key)] = _real(value)
        return
    cap.call("setitem", None, (self, key, value), {}, writes=[self])


def _iter(self):
    for i in range(len(self)):
        yield self[i]


def _bool_key(key):
    keys = key if type(key) is tuple else (key,)
    return any(isinstance(k, _ndarray) and k.dtype == bool for k in keys)


def _attr(name):
    def get(self):
        cap = _active()
        if cap is None:
            return getattr(_plain(self), name)
        return cap.call("attr", name, (self,), {})
    return property(get)


def _poisoned_attr(name):
    def get(self):
        cap = _active()
        if cap is not None:
            cap.refuse(f"the .{name} of a traced array is used")
        return getattr(_plain(self), name)
    return property(get)


def _shape_set(self, value):
    """`a.shape = s` (a view reshaped in place, as lightgrad's view does): both twins."""
    _plain(self).shape = value      # NumPy's AttributeError when no view fits, unchanged
    _ndarray.shape.__set__(self, value)
    cap = _active()
    if cap is not None:
        cap.set_shape(self, value)


_TArr.__deepcopy__ = _deepcopy
_TArr.__getitem__ = _getitem
_TArr.__setitem__ = _setitem
_TArr.__iter__ = _iter
for _n in ("T", "mT", "real", "imag"):
    setattr(_TArr, _n, _attr(_n))
for _n in ("flat", "ctypes", "data"):
    setattr(_TArr, _n, _poisoned_attr(_n))
_TArr.shape = property(_ndarray.shape.__get__, _shape_set)


# -- NumPy's converters and factories ----------------------------------------------------------
# np.asarray(t), np.ascontiguousarray(t), ... of a traced array return plain arrays (NumPy
# has no hook for them), and arrays made by np.zeros(...) then filled with `z[k] = t` would
# hide traced values too. While a capture runs (and only for its thread) these names in the
# numpy module are wrapped: a call given traced values, and every factory call, is recorded.
_CONVERTERS = ("asarray", "asanyarray", "ascontiguousarray", "asfortranarray", "require",
               "asarray_chkfinite")
_FACTORIES = ("array", "zeros", "ones", "empty", "full", "arange", "eye", "identity",
              "linspace", "indices")
_NP_ORIG = {n: getattr(np, n) for n in _CONVERTERS + _FACTORIES}
_asarray = _NP_ORIG["asarray"]


def _has_live(x):
    t = type(x)
    if t is _TArr or t in _SYMS:
        return True
    if t is tuple or t is list:
        return any(_has_live(i) for i in x)
    return False


def _np_wrapper(name):
    orig = _NP_ORIG[name]
    factory = name in _FACTORIES

    def wrapper(*args, **kwargs):
        cap = _active()
        if cap is None or cap.busy or not (
                factory or _has_live(args[:1]) or (args and not isinstance(args[0], _ndarray))):
            return orig(*args, **kwargs)
        return cap.call("call", orig, args, kwargs)
    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__wrapped__ = orig
    return wrapper


_NP_WRAPPED = {n: _np_wrapper(n) for n in _NP_ORIG}


# -- the random stream -------------------------------------------------------------------------
_DRAWS = {"random", "standard_normal", "normal", "uniform", "integers", "binomial", "poisson",
          "exponential", "standard_exponential", "standard_gamma", "gamma", "beta", "choice",
          "permutation", "multinomial", "geometric", "laplace", "logistic", "lognormal",
          "chisquare", "standard_cauchy", "standard_t", "dirichlet", "multivariate_normal",
          "bytes", "shuffle", "permuted", "weibull", "pareto", "power", "rayleigh", "vonmises",
          "wald", "triangular", "zipf", "hypergeometric", "negative_binomial", "logseries",
          "noncentral_chisquare", "noncentral_f", "f", "gumbel"}


class _RngProxy:
    """Stands for a Generator's NumPy stream while capturing: each draw is a tape source."""

    def __init__(self, cap, gen, real):
        self._cap, self._gen, self._rng = cap, gen, real

    def __getattr__(self, name):
        real = getattr(self._rng, name)
        cap = _active()
        if cap is None:
            return real
        if name not in _DRAWS:
            cap.refuse(f"the random stream's {name} is used")
            return real

        def draw(*args, **kwargs):
            if _active() is not cap:
                return real(*_real(args), **_real(kwargs))
            w = [args[0]] if name == "shuffle" else []
            return cap.call("rng", (self._gen, name), args, kwargs, writes=w)
        return draw


# -- the capture ------------------------------------------------------------------------------
class _Entry:
    """One tape statement: `tgt = expr` (tgt may be empty), with parts holding strings and
    variable numbers; reads and writes are variable numbers."""
    __slots__ = ("tgt", "expr", "reads", "writes", "kind", "outs", "inplace_out", "expected")

    def __init__(self, kind, tgt, expr, reads, writes, outs):
        self.kind, self.tgt, self.expr = kind, tgt, expr
        self.reads, self.writes, self.outs = reads, writes, outs
        self.inplace_out = None


class Capture:
    """The state of one capture: variables, tape, sources, effects, guards, refusals."""

    def __init__(self, leaves):
        self.refused = None
        self.arrs = []            # var -> traced array (or None for symbols)
        self.kind = []            # var -> "ext", "const", "op", "rng", "sym"
        self.root = []            # var -> var of the memory's first owner (arrays)
        self.owners = {}          # id(owner array) -> (owner, root var)
        self.alias = {}           # (id(owner), address, shape, strides, dtype) -> var
        self.tape = []
        self.consts = []          # constant values (bound as C0, C1, ...)
        self.const_var = {}       # id(plain constant) -> var
        self.ext = {}             # id(tensor) -> [tensor, original array or None, var or None]
        self.ext_order = []       # tensors in the order first seen
        self.src = {}             # var -> ("data", id(tensor)) for external reads
        self.arg_ids = {id(t): i for i, t in enumerate(leaves) if isinstance(t, Tensor)}
        self.grad_of = {}         # id(grad tensor) -> id(tensor whose _grad it was at entry)
        self.grad_entry = {}      # id(tensor) -> _grad was None at entry (a guard)
        self.grad_set = {}        # id(tensor) -> tensor: its _grad is written
        self.data_set = {}        # id(tensor) -> tensor: its _data is rebound
        self.new = {}             # id(tensor made in the call) -> weakref
        self.x_set = []           # tensors whose _x was set (hooks, retain_grad show there)
        self.modules = {}         # id -> module called
        self.optimizers = {}      # id -> optimizer stepped
        self.generators = {}      # id -> (generator, real stream)
        self.guards = []          # (tape position, var, expected bool)
        self.backward_ran = False
        self._keep = []           # objects whose ids are used as keys
        self.id = next(_ids)
        self.busy = 0             # > 0 while a recorded call runs
        self.const_where = {}      # with _DEBUG: constant index -> where it was made

    def refuse(self, reason):
        if self.refused is None:
            self.refused = reason

    # -- variables ----------------------------------------------------------------------
    def _new_var(self, kind, arr=None):
        v = len(self.kind)
        self.kind.append(kind)
        self.arrs.append(arr)
        self.root.append(v)
        return v

    def wrap(self, plain, kind):
        """A new traced array for `plain` (a plain ndarray), registered as a variable."""
        t = plain.view(_TArr)
        v = self._new_var(kind, t)
        t._v, t._p, t._c = v, plain, self.id
        owner = _owner(plain)
        o = self.owners.get(id(owner))
        if o is None:
            self.owners[id(owner)] = (owner, v)
        else:
            self.root[v] = o[1]
        self.alias.setdefault(_layout(owner, plain), v)
        return t

    def var_of(self, x):
        """The variable for a traced array, symbol, or plain array met as an argument."""
        t = type(x)
        if t is _TArr:
            v = x._v
            if v is not None and x._c == self.id and self.arrs[v] is x:
                return v
            # made by NumPy itself (or left from another capture): known by its memory
            return self.plain_var(_ndarray.view(x, _ndarray), derived=x._c == self.id)
        if t in _SYMS:
            return x._v
        return self.plain_var(x)

    def plain_var(self, a, derived=False):
        """A plain array met in the capture: a view of traced memory is that variable (or
        the same view of its memory); any other array is a constant, unless it is `derived`
        from traced values by NumPy itself (a copy the trace did not see: refused)."""
        v = self.const_var.get(id(a))
        if v is not None:
            return v
        owner = _owner(a)
        o = self.owners.get(id(owner))
        if o is not None:
            v = self.alias.get(_layout(owner, a))
            return v if v is not None else self.raw_view(a, o[1])
        if derived:
            self.refuse("an array computed from traced values outside the trace is used")
        t = self.wrap(a, "const")
        v = t._v
        if _DEBUG:
            self.const_where[len(self.consts)] = traceback.format_stack(limit=_DEBUG)
        self.const_var[id(a)] = v
        self._keep.append(a)
        self.consts.append(a.copy())        # its value now: the tape may write into it
        self.src[v] = ("const", len(self.consts) - 1)
        return v

    def raw_view(self, a, root):
        """A view of traced memory made by a path NumPy does not dispatch (the ndarray
        constructor on a buffer, as_strided): recorded as the same constructor call on the
        root variable's memory."""
        base = self.arrs[root]._p
        off = a.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        span = (a.size and sum((n - 1) * s for n, s in zip(a.shape, a.strides)))
        if not base.flags.c_contiguous or off < 0 or off + span + a.itemsize > base.nbytes \
                or min(a.strides, default=0) < 0:
            if _DEBUG:
                traceback.print_stack(limit=_DEBUG)
                print("raw view", base.flags.c_contiguous, off, span, a.strides, base.nbytes)
            self.refuse("a view of traced memory was made outside the trace")
            return self.plain_var(a.copy())
        expr, reads = [self.const(_ndarray), "(", self.const(a.shape), ", ",
                       self.const(a.dtype), ", ", root, f", {off}, ", self.const(a.strides),
                       ")"], {root}
        t = self.wrap(a, "op")
        self.tape.append(_Entry("op", [t._v], expr, reads, set(), [t._v]))
        return t._v

    # -- arguments and results ----------------------------------------------------------
    def render(self, x, parts, reads):
        """Append the expression parts that rebuild argument x at replay."""
        t = type(x)
        if t is _TArr or t is _ndarray or t in _SYMS:
            v = self.var_of(x)
            parts.append(v)
            reads.add(v)
        elif x is None or t is bool or t is int or t is str:
            parts.append(repr(x))
        elif t is float and math.isfinite(x):
            parts.append(repr(x))
        elif (t is tuple or t is list) and _has_traced(x):
            parts.append("(" if t is tuple else "[")
            for i in x:
                self.render(i, parts, reads)
                parts.append(", ")
            parts.append(")" if t is tuple else "]")
        elif t is dict and _has_traced(x):
            parts.append("{")
            for k, v in x.items():
                self.render(k, parts, reads)
                parts.append(": ")
                self.render(v, parts, reads)
                parts.append(", ")
            parts.append("}")
        elif t is slice and _has_traced(x):
            parts.append("slice(")
            for i in (x.start, x.stop, x.step):
                self.render(i, parts, reads)
                parts.append(", ")
            parts.append(")")
        elif isinstance(x, Tensor):
            self.refuse("a Tensor is passed to a NumPy function")
            parts.append(self.const(x))
        else:
            parts.append(self.const(x))

    def const(self, value):
        self.consts.append(value)
        return f"C{len(self.consts) - 1}"

    def result(self, r, passed, tgt):
        """The traced twin of a real result r, appending its assignment target parts."""
        t = type(r)
        if t is _ndarray:
            v = passed.get(id(r))
            if v is not None:             # the function returned an argument itself
                tgt.append(v)
                return self.arrs[v], [v]
            a = self.wrap(r, "op")
            tgt.append(a._v)
            return a, [a._v]
        if isinstance(r, np.generic) and not isinstance(r, (np.void, np.str_, np.bytes_)):
            a = self.wrap(_asarray(r), "op")
            tgt.append(a._v)
            return a, [a._v]
        if t is float or t is int or t is bool:
            s = self.sym(r)
            tgt.append(s._v)
            return s, [s._v]
        if isinstance(r, (tuple, list)) and any(
                isinstance(i, (_ndarray, np.generic, float, int)) for i in r):
            tgt.append("(")
            items, outs = [], []
            for i in r:
                a, o = self.result(i, passed, tgt) if i is not None else (None, [])
                if i is None:
                    tgt.append("_")
                tgt.append(", ")
                items.append(a)
                outs += o
            tgt.append(")")
            if t is tuple or t is list:
                return t(items), outs
            return (t(*items) if hasattr(t, "_fields") else t(items)), outs
        return r, []

    def sym(self, value):
        if type(value) is bool:
            s = SymBool()
            s._b = value
        else:
            s = (SymFloat if type(value) is float else SymInt)(value)
        s._v = self._new_var("sym")
        return s

    def call(self, kind, fn, args, kwargs, writes=(), inplace=False):
        """Record fn on args, run it on plain values, and return traced results. (The
        arguments are named first: a constant's value is taken before the call writes it.)"""
        reads, expr = set(), []
        if kind == "call":
            expr += [self.const(fn), "("]
            self._args(args, kwargs, expr, reads)
            expr.append(")")
        elif kind == "rng":
            expr += [self.const(fn[0]), f".rng.{fn[1]}("]
            self._args(args, kwargs, expr, reads)
            expr.append(")")
        elif kind == "method":
            self.render(args[0], expr, reads)
            expr.append(f".{fn}(")
            self._args(args[1:], kwargs, expr, reads)
            expr.append(")")
        elif kind == "attr":
            self.render(args[0], expr, reads)
            expr.append(f".{fn}")
        else:
            self.render(args[0], expr, reads)
            expr.append("[")
            self.render(args[1], expr, reads)
            expr.append("]")
            if kind == "setitem":
                expr.append(" = ")
                self.render(args[2], expr, reads)
        w = {self.var_of(x) for x in writes if type(x) is _TArr or type(x) is _ndarray}
        pargs, pkw = _real(args), _real(kwargs)
        passed = {}
        for x, p in zip(_flat(args, kwargs), _flat(pargs, pkw), strict=True):
            if type(p) is _ndarray and (type(x) is _TArr or type(x) is _ndarray):
                passed[id(p)] = self.var_of(x)
        self.busy += 1          # NumPy's own calls inside are not recorded
        try:
            if kind == "call":
                r = fn(*pargs, **pkw)
            elif kind == "method":
                r = getattr(pargs[0], fn)(*pargs[1:], **pkw)
            elif kind == "attr":
                r = getattr(pargs[0], fn)
            elif kind == "getitem":
                r = pargs[0][pargs[1]]
            elif kind == "setitem":
                pargs[0][pargs[1]] = pargs[2]
                r = None
            else:   # "rng": fn is (generator, method name)
                r = getattr(self.generators[id(fn[0])][1], fn[1])(*pargs, **pkw)
        finally:
            self.busy -= 1
        tgt = []
        out, outs = self.result(r, passed, tgt) if kind != "setitem" else (None, [])
        if kind in ("call", "method", "attr", "getitem") and not w and outs and \
                set(outs) <= set(passed.values()):
            return out          # it returned its argument itself: nothing to replay
        e = _Entry("rng" if kind == "rng" else "stmt" if kind == "setitem" else "op",
                   tgt, expr, reads, w, outs)
        if inplace and len(w) == 1:
            e.inplace_out = next(iter(w))     # fn(..., out=v): hoistable as fn(...)
        self.tape.append(e)
        return out

    def _args(self, args, kwargs, expr, reads):
        for a in args:
            self.render(a, expr, reads)
            expr.append(", ")
        for k, v in kwargs.items():
            expr.append(f"{k}=")
            self.render(v, expr, reads)
            expr.append(", ")

    def set_shape(self, a, value):
        v = self.var_of(a)
        reads, expr = {v}, [v, " .shape = "]
        self.render(value, expr, reads)
        self.tape.append(_Entry("stmt", [], expr, reads, set(), [v]))   # (it remakes v)
        self.alias.setdefault(_layout(_owner(a._p), a._p), v)

    def pyop(self, text, operands, r):
        """Record Python arithmetic on symbols; r is the real result."""
        reads, expr = set(), []
        if len(operands) == 1:
            expr.append(f"{text}(" if text in ("abs", "bool") else f"({text}")
            self.render(operands[0], expr, reads)
            expr.append(")")
        else:
            expr.append("(")
            self.render(operands[0], expr, reads)
            expr.append(f" {text} ")
            self.render(operands[1], expr, reads)
            expr.append(")")
        if type(r) not in (float, int, bool):
            self.refuse(f"a symbolic scalar gives a {type(r).__name__}")
            return r
        s = self.sym(r)
        self.tape.append(_Entry("op", [s._v], expr, reads, set(), [s._v]))
        return s

    def guard(self, s):
        if type(s) is not SymBool:
            return
        self.guards.append((len(self.tape), s._v, s._b))
        e = _Entry("guard", [], [s._v], {s._v}, set(), [])
        e.expected = s._b
        self.tape.append(e)

    # -- tensors ------------------------------------------------------------------------
    def touch(self, t):
        """Register an external tensor at its first use."""
        e = self.ext.get(id(t))
        if e is None:
            e = self.ext[id(t)] = [t, None, None, t._rg, t.grad_fn, _X.__get__(t)]
            self.ext_order.append(t)
            x = e[5]
            if t.grad_fn is not None:
                self.refuse("a tensor with a grad_fn made outside is used inside")
            if x and (x.get("hooks") or x.get("post_hooks") or x.get("retains_grad")
                      or x.get("tangent") is not None):
                self.refuse("a tensor used inside has hooks (or retains its grad)")
        return e

    def read_data(self, t, a):
        if id(t) in self.new or not isinstance(a, _ndarray):
            return a
        if type(a) is not _ndarray:
            self.refuse(f"a tensor holds a {type(a).__name__} (an ndarray subclass)")
            return a
        e = self.touch(t)
        w = self.wrap(a, "ext")
        e[1], e[2] = a, w._v
        self.src[w._v] = ("data", id(t))
        _DATA.__set__(t, w)
        return w

    def write_data(self, t, v):
        try:
            _DATA.__get__(t)
        except AttributeError:      # a tensor being made (its id may be a dead one's)
            self.new[id(t)] = weakref.ref(t)
        else:
            if id(t) not in self.new:
                self.touch(t)
                self.data_set[id(t)] = t
        if type(v) is _ndarray:
            v = self.arrs[self.plain_var(v)]
        _DATA.__set__(t, v)

    def read_grad(self, t, g):
        if id(t) not in self.new and id(t) not in self.grad_entry and id(t) not in \
                self.grad_set:
            self.touch(t)
            self.grad_entry[id(t)] = g is None
            if g is not None:
                self.touch(g)
                self.grad_of[id(g)] = id(t)
        return g

    def write_grad(self, t, g):
        if id(t) not in self.new:
            self.touch(t)
            self.grad_set[id(t)] = t


def _flat(args, kwargs):
    out = []
    for a in list(args) + list(kwargs.values()):
        if type(a) is tuple or type(a) is list:
            out += a
        else:
            out.append(a)
    return out


def _owner(a):
    """The object at the end of a's chain of bases (the memory's owner)."""
    while True:
        b = getattr(a, "base", None)
        if b is None:
            return a
        a = b


def _layout(owner, a):
    return (id(owner), a.__array_interface__["data"][0], a.shape, a.strides, a.dtype)


_ids = iter(range(1, 1 << 62))


# -- the slot properties --------------------------------------------------------------------
def _data_get(t):
    a = _DATA.__get__(t)
    cap = _active()
    if cap is None or type(a) is _TArr:
        return a
    return cap.read_data(t, a)


def _data_set(t, v):
    cap = _active()
    if cap is None:
        _DATA.__set__(t, v)
    else:
        cap.write_data(t, v)


def _grad_get(t):
    g = _GRAD.__get__(t)
    cap = _active()
    return g if cap is None else cap.read_grad(t, g)


def _grad_set(t, g):
    cap = _active()
    if cap is not None:
        cap.write_grad(t, g)
    _GRAD.__set__(t, g)


def _x_set(t, x):
    cap = _active()
    if cap is not None and x is not None:
        if id(t) not in cap.new:
            cap.touch(t)
        cap.x_set.append(t)
    _X.__set__(t, x)


def _watch_call(self, *args, **kwargs):
    cap = _active()
    if cap is not None:
        saw_module(cap, self)
    return _MODULE_CALL(self, *args, **kwargs)


def saw_module(cap, m):
    if id(m) not in cap.modules:
        cap.modules[id(m)] = m
        if m._forward_pre_hooks or m._forward_hooks or m._backward_hooks or \
                m._backward_pre_hooks:
            cap.refuse(f"the module {type(m).__name__} has hooks")


def _watch_step(opt, args, kwargs):
    cap = _active()
    if cap is not None and id(opt) not in cap.optimizers:
        cap.optimizers[id(opt)] = opt
        if opt._optimizer_step_pre_hooks or opt._optimizer_step_post_hooks or \
                len(_optim._global_optimizer_pre_hooks) > 1 or \
                _optim._global_optimizer_post_hooks:
            cap.refuse(f"the optimizer {type(opt).__name__} has step hooks")


def _watch_backward(roots):
    """At each backward pass inside the capture: note it, and refuse hooks on the nodes
    it will run (tensor hooks on non-leaves and retain_grad live there)."""
    cap = _active()
    if cap is None:
        return
    cap.backward_ran = True
    stack = [n for n, _ in roots if n is not None]
    seen = set()
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if getattr(n, "_hooks", None) is not None:
            cap.refuse("a hook (or retain_grad) on the graph runs in backward")
            return
        stack += [c for c, _ in n.next_functions if c is not None]


# -- running a capture ------------------------------------------------------------------------
def capture(fn, args, kwargs, leaves, modules=()):
    """Run fn(*args, **kwargs) eagerly while tracing it. Returns (result, tape or None,
    reason): the tape (a `Tape`) when the call can be replayed, else the reason why not."""
    with _lock:
        cap = Capture(leaves)
        for m in modules:
            saw_module(cap, m)
        gens = [_creation.default_generator] + [x for x in leaves
                                                if isinstance(x, _creation.Generator)]
        saved_streams = []
        for g in gens:
            if id(g) not in cap.generators:
                cap.generators[id(g)] = (g, g.rng)
                saved_streams.append((g, g.rng))
                g.rng = _RngProxy(cap, g, g.rng)
        handle = _optim.register_optimizer_step_pre_hook(_watch_step)
        _engine.backward_observers.append(_watch_backward)
        Tensor._data = property(_data_get, _data_set)
        Tensor._grad = property(_grad_get, _grad_set)
        Tensor._x = property(_X.__get__, _x_set)
        Module.__call__ = _watch_call
        for n, w in _NP_WRAPPED.items():
            setattr(np, n, w)
        _cur[0], _cur[1] = cap, _get_ident()
        try:
            result = fn(*args, **kwargs)
        finally:
            _cur[0] = _cur[1] = None
            for n, orig in _NP_ORIG.items():
                setattr(np, n, orig)
            Module.__call__ = _MODULE_CALL
            Tensor._data, Tensor._grad, Tensor._x = _DATA, _GRAD, _X
            _engine.backward_observers.remove(_watch_backward)
            handle.remove()
            for g, stream in saved_streams:
                g.rng = stream
            finals = _untrace(cap)
        try:
            tape = _finish(cap, result, finals)
        except _Refused as e:
            cap.refuse(str(e))
            tape = None
        if cap.refused is not None:
            return _plain_result(result), None, cap.refused
        return _plain_result(result), tape, None


class _Refused(Exception):
    pass


def _untrace(cap):
    """Put plain arrays back in every slot the capture filled; return each touched
    external tensor's final _data variable (None: unchanged)."""
    finals = {}
    for tid, e in cap.ext.items():
        t = e[0]
        try:
            cur = _DATA.__get__(t)
        except AttributeError:
            continue
        if type(cur) is _TArr:
            if e[2] is not None and cur is cap.arrs[e[2]]:   # (`t._data += x` rebinds it)
                _DATA.__set__(t, e[1])
            else:
                finals[tid] = cur._v
                _DATA.__set__(t, _plain(cur))
    for ref in cap.new.values():
        t = ref()
        if t is not None:
            cur = _DATA.__get__(t)
            if type(cur) is _TArr:
                _DATA.__set__(t, _plain(cur))
    return finals


def _plain_result(r):
    t = type(r)
    if t is _TArr:
        return _plain(r)
    if t in _SYMS:
        return _real(r)
    if t is tuple or t is list:
        return t(_plain_result(i) for i in r)
    if t is dict:
        return {k: _plain_result(v) for k, v in r.items()}
    if isinstance(r, tuple) and hasattr(t, "_fields"):
        return t(*(_plain_result(i) for i in r))
    return r


# -- from tape to replay ----------------------------------------------------------------------
def _finish(cap, result, finals):
    """Check what the capture left behind and generate the replay."""
    if cap.refused is not None:
        return None
    g = _Gen(cap)
    for t in list(cap.ext_order):      # named in the order first used: the same program
        g.tname(t)                      # gets the same source
    out_expr = g.output(result)
    # tensors made inside that outlive the call must be reachable from the result or the
    # effects: anything else (a module attribute, a list) would hold capture-time values
    for t in cap.x_set:
        x = _X.__get__(t)
        if x and (x.get("hooks") or x.get("post_hooks") or x.get("retains_grad")):
            raise _Refused("a tensor hook or retain_grad is used inside")
    cap.x_set = []
    for e in cap.ext.values():
        t = e[0]
        if t._rg is not e[3] or t.grad_fn is not e[4]:
            raise _Refused("the autograd state (requires_grad, grad_fn) of a tensor from "
                           "outside changes inside (an in-place op recorded for autograd)")
    effects = g.effects(finals)
    del result
    gc.collect()
    for tid, ref in cap.new.items():
        t = ref()
        if t is not None and tid not in g.allowed:
            raise _Refused("a tensor made inside is kept outside other than through the "
                           "result or .grad (an attribute, a list or a global): its value "
                           "would be stale at replay")
    return g.source(out_expr, effects)


class _Gen:
    """Writes the replay function's source."""

    def __init__(self, cap):
        self.cap = cap
        self.allowed = set()       # ids of tensors made inside that may outlive the call
        self.tensor_names = {}     # id(external tensor) -> expression
        self.lines_top = []
        self.used = set()          # vars the outputs and effects need

    def tname(self, t):
        """The replay expression of an external tensor."""
        n = self.tensor_names.get(id(t))
        if n is not None:
            return n
        cap = self.cap
        i = cap.arg_ids.get(id(t))
        if i is not None:
            n = f"A[{i}]"
        elif id(t) in cap.grad_of:
            parent = cap.ext[cap.grad_of[id(t)]][0]
            n = f"{self.tname(parent)}_g"
            self.lines_top.append(f"{n} = {self.tname(parent)}._grad")
        else:
            n = cap.const(t)
        self.tensor_names[id(t)] = n
        return n

    def var(self, v):
        self.used.add(v)
        return f"v{v}"

    def output(self, r):
        t = type(r)
        cap = self.cap
        if t is tuple or t is list:
            inner = "".join(self.output(i) + ", " for i in r)
            return f"({inner})" if t is tuple else f"[{inner}]"
        if t is dict:
            return "{" + "".join(f"{cap.const(k)}: {self.output(v)}, "
                                 for k, v in r.items()) + "}"
        if isinstance(r, tuple) and hasattr(t, "_fields"):
            return f"{cap.const(t)}(" + "".join(self.output(i) + ", " for i in r) + ")"
        if isinstance(r, Tensor):
            return self.tensor_out(r)
        if t in _SYMS:
            return self.var(r._v)
        if t is _TArr or t is _ndarray:
            raise _Refused("the function returns a NumPy array")
        if r is None or t in (bool, int, str) or t is float and math.isfinite(r):
            return repr(r)
        return cap.const(r)

    def tensor_out(self, t):
        """The expression giving tensor t (made inside, or external) at replay."""
        cap = self.cap
        if id(t) not in cap.new:
            cap.touch(t)
            return self.tname(t)
        self.allowed.add(id(t))
        if t.grad_fn is not None and not cap.backward_ran:
            raise _Refused("the function returns a tensor that requires grad without "
                           "calling backward inside")
        x = _X.__get__(t)
        if x and (x.get("hooks") or x.get("retains_grad")):
            raise _Refused("a returned tensor has hooks")
        d = _DATA.__get__(t)
        v = self._var_of_plain(d)
        rg = ", requires_grad=True" if t.grad_fn is None and t._rg else ""
        return f"_make({self.var(v)}{rg})"

    def _var_of_plain(self, d):
        cap = self.cap
        v = cap.const_var.get(id(d))
        if v is None:
            for i, a in enumerate(cap.arrs):
                if a is not None and a.__dict__.get("_p") is d:
                    v = i
                    break
        if v is None:
            v = cap.plain_var(d)
        return v

    def effects(self, finals):
        """Statements run after the tape: external _data and _grad bindings."""
        cap = self.cap
        out = []
        for tid, v in finals.items():
            t = cap.ext[tid][0]
            out.append(f"{self.tname(t)}._data = {self.var(v)}")
        for t in cap.grad_set.values():
            g = _GRAD.__get__(t)
            if g is None:
                val = "None"
            elif id(g) in cap.new:
                self.allowed.add(id(g))
                if g.grad_fn is not None or g._rg or _X.__get__(g):
                    raise _Refused("a gradient made inside requires grad or has hooks")
                val = f"_make({self.var(self._var_of_plain(_DATA.__get__(g)))})"
            else:
                val = self.tname(g)
            out.append(f"{self.tname(t)}._grad = {val}")
        return out

    def source(self, out_expr, effects):
        cap = self.cap
        tape = cap.tape
        n = len(tape)
        guard_terms = self._entry_guards()      # names every external tensor
        # roots of external memory: writes to them (and RNG draws) are seen outside
        ext_roots = {cap.root[v] for v, k in enumerate(cap.kind) if k == "ext"}
        first_outside_write = n
        for i, e in enumerate(tape):
            if e.kind == "rng" or any(cap.root[w] in ext_roots for w in e.writes):
                first_outside_write = i
                break
        # a guard stays in place when nothing outside is written before it, else it moves to
        # the top: with its computation where that can run first unchanged (then it runs
        # once, there), else with a copy of it (or the capture refuses)
        hoisted, hoisted_at, moved, top_checks = [], set(), set(), []
        for pos, v, expected in cap.guards:
            if pos > first_outside_write:
                chosen = set(self._slice(pos, v))
                if self._can_move(chosen | moved, ext_roots):
                    moved |= chosen
                    top_checks += [f"if bool(v{v}) is not {expected}:", "    raise Stale"]
                else:
                    hoisted += self._hoist(pos, v, expected, len(hoisted_at))
                hoisted_at.add(pos)
        # dead code goes: keep what the outputs, effects, writes and guards need
        needed = set(self.used)
        keep = [False] * n
        for i in range(n - 1, -1, -1):
            e = tape[i]
            if e.kind == "guard":
                keep[i] = i not in hoisted_at
            else:
                keep[i] = i in moved or e.kind in ("rng", "stmt") or bool(e.writes) or any(
                    o in needed for o in e.outs)
            if keep[i]:
                needed |= e.reads
                needed |= e.writes
                needed |= {cap.root[w] for w in e.writes}
        for line in hoisted:
            needed |= {int(t[1:]) for t in _names(line) if t[0] == "v"}
        # a constant that is written or leaves the call is copied for each replay
        written = set()
        for i, e in enumerate(tape):
            if keep[i]:
                written |= {cap.root[w] for w in e.writes}
        escaping = {cap.root[v] for v in self.used}
        src_lines = []
        for v, (kind, ref) in sorted(cap.src.items()):
            if v not in needed:
                continue
            if kind == "data":
                src_lines.append(f"v{v} = {self.tname(cap.ext[ref][0])}._data")
                continue
            copy = isinstance(cap.consts[ref], _ndarray) and cap.root[v] in (written | escaping)
            if copy and cap.root[v] != v:
                raise _Refused("two constants share memory and one is written")
            src_lines.append(f"v{v} = C{ref}" + (".copy()" if copy else ""))
        body = []
        for ln in self.lines_top:           # the grads read at entry: not None, as captured
            body += [ln, f"if {ln.split(' = ')[0]} is None:", "    raise Stale"]
        if guard_terms:
            body.append("if not (" + "\n            and ".join(guard_terms) + "):")
            body.append("    raise Stale")
        body += src_lines
        body += [self._line(tape[i]) for i in sorted(moved)] + top_checks + hoisted
        for i, e in enumerate(tape):
            if not keep[i] or i in moved:
                continue
            if e.kind == "guard":
                body += [f"if bool(v{e.expr[0]}) is not {e.expected}:", "    raise Stale"]
                continue
            body.append(self._line(e))
        body += effects
        body.append(f"return {out_expr}")
        src = "def replay(A):\n" + "".join(f"    {x}\n" for x in _free_dead(body))
        ns = {"Stale": Stale, "_make": _make, "_ok_x": _ok_x}
        ns.update({f"C{i}": c for i, c in enumerate(cap.consts)})
        exec(compile(src, "<lightgrad.compile replay>", "exec"), ns)
        return Tape(ns["replay"], src, list(cap.consts), cap.const_where)

    def _entry_guards(self):
        """Conditions on the state at entry: external tensors, modules, optimizers."""
        cap = self.cap
        terms = []
        for t in list(cap.ext_order):
            e = cap.ext[id(t)]
            n = self.tname(t)
            terms.append(f"{n}._rg is {e[3]!r}")
            terms.append(f"{n}.grad_fn is None")
            terms.append(f"({n}._x is None or _ok_x({n}._x))")
            if cap.grad_entry.get(id(t)) is True:
                terms.append(f"{n}._grad is None")
        for m in cap.modules.values():
            n = cap.const(m)
            terms.append(f"{n}.training is {m.training!r}")
            # the same parameters, buffers and children (a new object was never traced)
            for d in ("_parameters", "_buffers", "_modules"):
                items = getattr(m, d)
                terms.append(f"len({n}.{d}) == {len(items)}")
                terms += [f"{n}.{d}.get({k!r}) is {cap.const(v)}" for k, v in items.items()]
            terms.append(f"not ({n}._forward_pre_hooks or {n}._forward_hooks or "
                         f"{n}._backward_hooks or {n}._backward_pre_hooks)")
        for o in cap.optimizers.values():
            n = cap.const(o)
            terms.append(f"{n}.state is {cap.const(o.state)}")
            terms.append(f"len({n}.param_groups) == {len(o.param_groups)}")
            terms.append(f"not ({n}._optimizer_step_pre_hooks or "
                         f"{n}._optimizer_step_post_hooks)")
            for i, group in enumerate(o.param_groups):
                terms.append(f"len({n}.param_groups[{i}]['params']) == {len(group['params'])}")
                for k, val in group.items():
                    if k == "params" or _has_tensor(val):
                        continue
                    terms.append(f"{n}.param_groups[{i}][{k!r}] == {cap.const(val)}")
        if cap.optimizers:
            terms.append(f"len({cap.const(_optim._global_optimizer_pre_hooks)}) == 0")
            terms.append(f"len({cap.const(_optim._global_optimizer_post_hooks)}) == 0")
        return terms

    @staticmethod
    def _line(e):
        tgt = _join(e.tgt)
        return (tgt + " = " if tgt else "") + _join(e.expr)

    def _can_move(self, chosen, ext_roots):
        """Whether the statements `chosen` (tape positions) can all run first, before every
        other statement, with the same results: none writes memory from outside, and none
        meets memory that an earlier statement left in place writes (or, for its writes,
        reads) on the way."""
        cap, tape = self.cap, self.cap.tape
        roots = lambda vs: {cap.root[v] for v in vs}     # noqa: E731
        written, touched = set(), set()       # by the statements that stay, so far
        for i, e in enumerate(tape):
            if i in chosen:
                w = roots(e.writes)
                if w & ext_roots or w & touched or roots(e.reads) & written:
                    return False
            else:
                written |= roots(e.writes)
                touched |= roots(e.writes) | roots(e.reads)
        return True

    def _slice(self, pos, gv):
        """The tape positions whose statements compute guard variable gv (in order)."""
        cap = self.cap
        tape = cap.tape
        need_vars, need_roots = {gv}, set()
        chosen = []
        for i in range(pos - 1, -1, -1):
            e = tape[i]
            hit = any(o in need_vars for o in e.outs) or any(
                cap.root[w] in need_roots or w in need_vars for w in e.writes)
            if not hit:
                continue
            if e.kind in ("rng", "guard"):
                raise _Refused("a data-dependent branch depends on random numbers")
            chosen.append(i)
            need_vars |= e.reads
            need_roots |= {cap.root[r] for r in e.reads}
        chosen.reverse()
        return chosen

    def _hoist(self, pos, gv, expected, k):
        """Statements computing guard variable gv, copied to the top of the replay (under
        new names). Arrays the copy makes itself may be written in place; a whole array from
        outside written by a ufunc's out= is computed out of place instead; any other write
        (or a random draw) refuses."""
        cap = self.cap
        tape = cap.tape
        chosen = self._slice(pos, gv)
        if _DEBUG:
            print("guard slice:", *[_join(tape[i].tgt) + " = " + _join(tape[i].expr)
                                    for i in chosen], sep="\n  ")
        made = set()        # arrays the copied statements make (not those they write into)
        for i in chosen:
            e = tape[i]
            if e.kind == "op":
                made |= set(e.outs) - e.reads - e.writes
        rename, lines, copied = {}, [], set()

        def name(v):
            if v not in rename and cap.root[v] in copied:
                raise _Refused("a data-dependent branch reads a view of memory written in "
                               "place")
            return rename.get(v, f"v{v}")
        for i in chosen:
            e = tape[i]
            outside = [w for w in e.writes if cap.root[w] not in made]
            expr = _join([p if type(p) is str else name(p) for p in e.expr])
            if outside:
                w = e.inplace_out
                if outside != [w] or cap.root[w] != w:
                    raise _Refused("a data-dependent branch depends on values written in "
                                   "place (it cannot be checked before the step changes "
                                   "anything)")
                expr = expr.replace(f"out=({name(w)}, ), ", "")
                rename[w] = f"h{k}_{w}"
                copied.add(w)
                lines.append(f"{rename[w]} = {expr}")
                continue
            if e.kind == "op":
                for o in e.outs:
                    rename[o] = f"h{k}_{o}"
            tgt = _join([p if type(p) is str else name(p) for p in e.tgt])
            lines.append((tgt + " = " if tgt else "") + expr)
        lines += [f"if bool({name(gv)}) is not {expected}:", "    raise Stale"]
        return lines


def _names(line):
    return re.findall(r"\bv\d+\b", line)


def _free_dead(body):
    """The replay's lines with `del` after each variable's last use: a replay then holds no
    more arrays at once than eager, which frees a step's intermediates as backward goes
    (on large tensors, keeping them all alive costs fresh memory, page faults, on every
    call). A line and the indented lines under it are one unit."""
    units = []
    for ln in body:
        if units and ln.startswith(" "):
            units[-1].append(ln)
        else:
            units.append([ln])
    names = [set(_names("\n".join(u))) for u in units]
    last = {}
    for i, ns in enumerate(names):
        for n in ns:
            last[n] = i
    out = []
    for i, u in enumerate(units):
        out += u
        dead = sorted(n for n in names[i] if last[n] == i)
        if dead and not u[0].startswith("return"):
            out.append("del " + ", ".join(dead))
    return out


def _has_tensor(x):
    if isinstance(x, (tuple, list)):
        return any(_has_tensor(i) for i in x)
    return isinstance(x, Tensor)


def _join(parts):
    return "".join(p if type(p) is str else f"v{p}" for p in parts)


def _ok_x(x):
    """An external tensor's extra state at replay: no hooks, no retained grad."""
    return not (x.get("hooks") or x.get("post_hooks") or x.get("retains_grad")
                or x.get("tangent") is not None)


class Tape:
    """A captured call: the replay function, its source (for reading) and its constants."""

    def __init__(self, fn, source, consts, where=None):
        self.run, self.source, self.consts, self.where = fn, source, consts, where

    def same_as(self, other):
        """Whether two captures of one signature recorded the same program: the same source
        and equal constants. Returns True, or 'values' when only constants differ (values
        computed from data leaked into the tape), or False."""
        if self.source != other.source or len(self.consts) != len(other.consts):
            return False
        for a, b in zip(self.consts, other.consts):
            if not _same_const(a, b):
                return "values"
        return True


def _same_const(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, _ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, np.generic):
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    try:
        return a is b or bool(a == b)
    except Exception:
        return False
