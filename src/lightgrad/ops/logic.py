"""Comparisons, logic, bitwise ops and predicates: never differentiable, so they record no
node (except the in-place comparisons, whose zero-gradient nodes torch records too)."""
import numpy as np

from .._tensor import Tensor, _make
from .._graph.grad_mode import state as _state
from ._core import (ELEMENTWISE, Sample as S, binary_operands, check_inplace, defop, inplace,
                    node_class, ns_def, publish, record, write_into)
from .elementwise import (_apply, _finish, _is_rg, _legacy, _not_implemented, _quiet,
                          _want_tensor, to_tensor_like)

_SCALARS = (bool, int, float, complex, np.generic, list, tuple, np.ndarray)
_PAIR = S((2, 3), (3,))
_BITS = S(make_inputs=lambda r: [r.integers(0, 8, (2, 3)), r.integers(0, 3, (3,))])
_BOOLS = S(make_inputs=lambda r: [r.uniform(-1, 1, (2, 3)) > 0, r.uniform(-1, 1, (3,)) > 0])


def _cmp_operator(fn):
    def op(self, other):
        if not isinstance(other, Tensor) and not isinstance(other, _SCALARS):
            return NotImplemented      # t == None is False, t < None a TypeError
        return fn(self, other)
    op.__name__ = fn.__name__
    return op


def _reflected(fn):
    def op(self, other):
        return fn(to_tensor_like(other, self), self)
    return op


def _zero_rule(ns, g, meta):
    return g * 0, g * 0


def _cmp_inplace(fn, scalar_cls, tensor_cls):
    """`eq_`, `lt_`, ...: torch records <Op>Backward0/1, whose gradients are zeros."""
    def recorded(self, other):
        data = fn(self, other)._data.astype(self._data.dtype)
        if isinstance(other, Tensor):
            return record(data, tensor_cls, (self, other), bcast=True)
        return record(data, scalar_cls, (self,))

    def method(self, other):
        if _state.grad_enabled and (self._rg or _is_rg(other)):
            return inplace(self, recorded, other)
        return inplace(self, fn, other)
    method.__name__ = fn.__name__ + "_"
    return method


def _compare(name, np_fn, stem, dunder, aliases=()):
    scalar_cls, tensor_cls = (node_class(stem + "Backward0", lambda ns, g, meta: (g * 0,)),
                              node_class(stem + "Backward1", _zero_rule))

    def op(input, other, *, out=None):
        a, b, x, y = binary_operands(input, other)
        return _finish(_make(_apply(np_fn, x, y)), out)
    op.__name__ = op.__qualname__ = name
    return defop(op, aliases=aliases, inplace=lambda fn: _cmp_inplace(fn, scalar_cls, tensor_cls),
                 dunders={dunder: _cmp_operator(op)}, kind=ELEMENTWISE, samples=[_PAIR])


eq = _compare("eq", np.equal, "Eq", "__eq__")
ne = _compare("ne", np.not_equal, "Ne", "__ne__", aliases=("not_equal",))
lt = _compare("lt", np.less, "Lt", "__lt__", aliases=("less",))
le = _compare("le", np.less_equal, "Le", "__le__", aliases=("less_equal",))
gt = _compare("gt", np.greater, "Gt", "__gt__", aliases=("greater",))
ge = _compare("ge", np.greater_equal, "Ge", "__ge__", aliases=("greater_equal",))


def _logical_inplace(fn):
    """torch's logical_*_ write the values but leave self's history as it was."""
    def method(self, *args):
        if args and not isinstance(args[0], Tensor):
            raise TypeError(f"{fn.__name__}_(): argument 'other' (position 1) must be Tensor, "
                            f"not {type(args[0]).__name__}")
        check_inplace(self)
        write_into(self, fn(self, *args)._data)
        return self
    method.__name__ = fn.__name__ + "_"
    return method


def _logical(name, np_fn):
    def op(input, other, *, out=None):
        _want_tensor(name, other)
        return _finish(_make(_apply(np_fn, input._data, other._data)), out)
    op.__name__ = op.__qualname__ = name
    return defop(op, inplace=_logical_inplace, kind=ELEMENTWISE, samples=[_BOOLS])


logical_and = _logical("logical_and", np.logical_and)
logical_or = _logical("logical_or", np.logical_or)
logical_xor = _logical("logical_xor", np.logical_xor)


@defop(inplace=_logical_inplace, kind=ELEMENTWISE, samples=[S((2, 3))])
def logical_not(input, *, out=None):
    return _finish(_make(np.logical_not(input._data)), out)


def _bitwise(name, np_fn, kernel, bool_ok=True):
    def op(input, other, *, out=None):
        a, b, x, y = binary_operands(input, other)
        if x.dtype.kind in "fc" or x.dtype.kind == "b" and not bool_ok:
            raise _not_implemented(kernel, x.dtype)
        if not bool_ok:      # shifts past the width give 0 (or -1), as in torch
            bits = x.dtype.itemsize * 8
            big = np.asarray(y) >= bits
            data = _apply(np_fn, x, np.where(big, 0, y).astype(x.dtype))
            if big.any():
                fill = np.where(x < 0, -1, 0) if name.endswith("right_shift") else 0
                data = np.where(big, fill, data).astype(x.dtype)
        else:
            data = _apply(np_fn, x, y)
        return _finish(_make(data), out)
    op.__name__ = op.__qualname__ = name
    return op


def _bit_op(name, np_fn, kernel, dunder, bool_ok=True):
    op = _bitwise(name, np_fn, kernel, bool_ok)
    r = "__r" + dunder[2:]
    return defop(op, inplace=True, dunders={dunder: op, "__i" + dunder[2:]: None,
                                            r: _reflected(op)},
                 kind=ELEMENTWISE, samples=[_BITS])


bitwise_and = _bit_op("bitwise_and", np.bitwise_and, "bitwise_and_cpu", "__and__")
bitwise_or = _bit_op("bitwise_or", np.bitwise_or, "bitwise_or_cpu", "__or__")
bitwise_xor = _bit_op("bitwise_xor", np.bitwise_xor, "bitwise_xor_cpu", "__xor__")
bitwise_left_shift = _bit_op("bitwise_left_shift", np.left_shift, "lshift_cpu", "__lshift__",
                             False)
bitwise_right_shift = _bit_op("bitwise_right_shift", np.right_shift, "rshift_cpu",
                              "__rshift__", False)


def _invert(self):
    if self._data.dtype.kind in "fc":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return bitwise_not(self)


@defop(inplace=True, dunders={"__invert__": _invert}, kind=ELEMENTWISE, samples=[
    S(make_inputs=lambda r: [r.integers(-4, 4, (2, 3))])])
def bitwise_not(input, *, out=None):
    x = input._data
    if out is not None and out._data.dtype != x.dtype:
        raise RuntimeError(f"Found dtype {out.dtype._legacy} but expected {input.dtype._legacy}")
    if x.dtype.kind in "fc":
        raise _not_implemented("bitwise_not_cpu", x.dtype)
    return _finish(_make(np.logical_not(x) if x.dtype.kind == "b" else np.invert(x)), out)


def _invert(self):
    if self._data.dtype.kind in "fc":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return bitwise_not(self)


def _floaty(fn, default):
    return lambda x: fn(x) if x.dtype.kind in "fc" else np.full(x.shape, default)


def _predicate(name, fn, out=False):
    def op(input, **kw):
        if not out or set(kw) - {"out"}:
            op_plain(input, **kw)          # torch's TypeError for an unknown keyword
        o = kw.get("out")
        if o is not None and o._data.dtype != np.bool_:
            raise RuntimeError(f"{name} does not support non-boolean outputs.")
        return _finish(_make(fn(input._data)), o)

    def op_plain(input):
        return _make(fn(input._data))
    if not out:
        op = op_plain
    op.__name__ = op.__qualname__ = name
    return defop(op, kind=ELEMENTWISE, samples=[S((2, 3))])


isnan = _predicate("isnan", _floaty(np.isnan, False))
isinf = _predicate("isinf", _floaty(np.isinf, False))
isfinite = _predicate("isfinite", _floaty(np.isfinite, True))
isposinf = _predicate("isposinf", _floaty(lambda x: x == np.inf, False))
isneginf = _predicate("isneginf", _floaty(lambda x: x == -np.inf, False))
isreal = _predicate("isreal", lambda x: np.isreal(x) if x.dtype.kind == "c" else
                    np.ones(x.shape, dtype=bool))
signbit = _predicate("signbit", lambda x: np.signbit(x) if x.dtype.kind != "b" else
                     np.zeros(x.shape, dtype=bool), out=True)
ns_def("isfinite", np.isfinite, isfinite)


def _same_dtype(a, b):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{_legacy(a._data.dtype)} did not match {_legacy(b._data.dtype)}")


@defop(kind=ELEMENTWISE, samples=[S((2, 3), (2, 3))])
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False, *, _name="isclose"):
    """|input - other| <= atol + rtol * |other|, elementwise."""
    _want_tensor(_name, other)
    _same_dtype(input, other)
    x, y = input._data, other._data
    if x.dtype.kind not in "fc":
        x, y = x.astype(np.float64), y.astype(np.float64)
    with _quiet():
        close = _apply(lambda p, q: (p == q) | (np.isfinite(p) & np.isfinite(q) & (
            np.abs(p - q) <= atol + rtol * np.abs(q))), x, y)
    if equal_nan:
        close = close | (np.isnan(x) & np.isnan(y))
    return _make(close)


_WHOLE = "it returns one Python bool computed over the whole tensor, not a tensor per example"


@defop(vmap_refused=_WHOLE, samples=[S((2, 3), (2, 3))])
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when isclose holds everywhere."""
    return bool(isclose(input, other, rtol, atol, equal_nan, _name="allclose")._data.all())


@defop(vmap_refused=_WHOLE, samples=[S((2, 3), (2, 3))])
def equal(input, other):
    """True when both have the same shape and the same values."""
    _want_tensor("equal", other)
    x, y = input._data, other._data
    return x.shape == y.shape and bool(np.array_equal(x, y))


# -- non-differentiable queries ------------------------------------------------------------
_VALUE_SHAPED = "its output shape depends on the values"


@defop(vmap_refused=_VALUE_SHAPED, samples=[
    S(make_inputs=lambda r: [np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])])])
def nonzero(input, *, out=None, as_tuple=False):
    x = input._data
    if as_tuple:
        if x.ndim == 0:
            return (_make(np.zeros(1 if x.item() else 0, dtype=np.int64)),)
        return tuple(_make(i.astype(np.int64)) for i in np.nonzero(x))
    if x.ndim == 0:
        return _make(np.zeros((1 if x.item() else 0, 0), dtype=np.int64))
    return _make(np.argwhere(x).astype(np.int64))


__all__ = publish(globals())
