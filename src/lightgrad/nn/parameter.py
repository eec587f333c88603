"""nn.Parameter: a leaf Tensor that a Module registers as a learnable weight.

>>> import lightgrad as torch
>>> torch.nn.Parameter(torch.tensor([1., 2.]))
Parameter containing:
tensor([1., 2.], requires_grad=True)
"""
from .._tensor import Tensor, _init

__all__ = ["Parameter", "Buffer"]


def _leaf_of(cls, data, requires_grad):
    """A new `cls` leaf sharing `data`'s array and version counter (like `data.detach()`)."""
    if data is None:
        from .._creation import empty
        data = empty(0)
    if not isinstance(data, Tensor):
        raise TypeError(f"{cls.__name__}() expected a Tensor as data, got "
                        f"{type(data).__name__}")
    t = Tensor.__new__(cls, _skip_init=True)
    _init(t, data._data)
    t._vc = data._vc
    if requires_grad:
        kind = data._data.dtype.kind
        if kind not in "fc":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        t._rg = True
    return t


class Parameter(Tensor):
    """A Tensor that is a module parameter: a leaf with requires_grad=True by default."""

    _print_plain = True     # torch prints the contents as `tensor(...)` under a header

    def __new__(cls, data=None, requires_grad=True):
        return _leaf_of(cls, data, requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._data, self._rg))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        t = type(self)(_plain(self._data.copy()), self._rg)
        if self._grad is not None:
            t._grad = _plain(self._grad._data.copy())
        memo[id(self)] = t
        return t


class Buffer(Tensor):
    """Marks a Tensor to be registered as a module buffer when assigned to a Module."""

    _print_plain = True

    def __new__(cls, data=None, *, persistent=True):
        t = _leaf_of(cls, data, False)
        t.persistent = persistent
        return t


def _plain(data):
    from .._tensor import _make
    return _make(data)


def _rebuild_parameter(data, requires_grad):
    return Parameter(_plain(data), requires_grad)
