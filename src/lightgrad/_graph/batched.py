"""Batched backward passes: every rule runs once on a whole batch of gradients (the rule
namespace B).

`autograd.grad(..., is_grads_batched=True)` (and through it `jacobian(vectorize=True)` and
`func.jacrev`) pushes B upstream gradients through the graph in one pass. The gradients
travel as `Batched` arrays: a NumPy array with the batch along axis 0, which shows rules
its *logical* shape (without the batch). Rules are unchanged: they run over the namespace
`B`, whose functions and the `Batched` operators line the batch dimension up so that each
rule computes what it would for one gradient, for all B at once.

The core of the rule language (arithmetic, matmul, where, reshape, sum, transposes, basic
indexing, ufuncs such as exp or sign, un-broadcasting) is vectorized. Any other namespace
function falls back to a loop over the batch inside that one rule, so every rule works
batched and the pass is still one walk of the graph.
"""
import numpy as np

from .graph import NP, RuleNamespace


class Batched:
    """B arrays of one shape stacked along axis 0; `shape`, `ndim` and `size` are one
    member's (the logical view a rule sees)."""
    __slots__ = ("a",)
    __array_ufunc__ = None  # NumPy must not treat a Batched as a scalar; it defers to us

    def __init__(self, a):
        self.a = a

    shape = property(lambda self: self.a.shape[1:])
    ndim = property(lambda self: self.a.ndim - 1)
    dtype = property(lambda self: self.a.dtype)
    size = property(lambda self: int(np.prod(self.a.shape[1:])))
    T = property(lambda self: transpose(self))
    real = property(lambda self: Batched(self.a.real))
    imag = property(lambda self: Batched(self.a.imag))

    def __repr__(self):
        return f"Batched({self.a.shape[0]} x {self.shape}, {self.dtype})"

    def __bool__(self):
        raise RuntimeError("a rule branched on the value of a batched gradient; this rule "
                           "cannot run batched")

    def __getitem__(self, key):
        return getitem(self, key)

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def reshape(self, *shape):
        return reshape(self, shape[0] if len(shape) == 1 else shape)

    def astype(self, dtype, copy=True):
        return Batched(self.a.astype(dtype, copy=copy))

    def sum(self, axis=None, keepdims=False):
        return bsum(self, axis, keepdims)

    def conj(self):
        return Batched(self.a.conj())

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        # any other array method: run it on each member and stack the results
        return lambda *args, **kwargs: _per_member(
            lambda x, *a, **k: getattr(x, name)(*a, **k), (self,) + args, kwargs)


def _logical_ndim(x):
    return x.ndim if type(x) is Batched else np.ndim(x)


def _aligned(x, nd):
    """x's physical array with dims of size 1 inserted after the batch so that it has `nd`
    logical dims; non-batched values broadcast against it from the right as they are."""
    if type(x) is not Batched:
        return x
    a = x.a
    missing = nd - (a.ndim - 1)
    return a.reshape(a.shape[:1] + (1,) * missing + a.shape[1:]) if missing > 0 else a


def elementwise(fn):
    """fn(*arrays) for a function that broadcasts elementwise (a ufunc, np.where, ...)."""
    def batched(*args, **kwargs):
        if not any(type(x) is Batched for x in args):
            return fn(*args, **kwargs)
        nd = max(_logical_ndim(x) for x in args)
        return Batched(fn(*[_aligned(x, nd) for x in args], **kwargs))
    return batched


def _binary(ufunc, reflected=False):
    if reflected:
        return lambda self, other: Batched(ufunc(*_pair(other, self)))
    return lambda self, other: Batched(ufunc(*_pair(self, other)))


def _pair(x, y):
    nd = max(_logical_ndim(x), _logical_ndim(y))
    return _aligned(x, nd), _aligned(y, nd)


for _name, _uf in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                   ("truediv", np.true_divide), ("floordiv", np.floor_divide),
                   ("mod", np.remainder), ("pow", np.power), ("and", np.logical_and),
                   ("or", np.logical_or), ("xor", np.logical_xor)]:
    setattr(Batched, f"__{_name}__", _binary(_uf))
    setattr(Batched, f"__r{_name}__", _binary(_uf, reflected=True))
for _name, _uf in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                   ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal)]:
    setattr(Batched, f"__{_name}__", _binary(_uf))
Batched.__hash__ = None
Batched.__neg__ = lambda self: Batched(-self.a)
Batched.__pos__ = lambda self: self
Batched.__abs__ = lambda self: Batched(np.abs(self.a))
Batched.__invert__ = lambda self: Batched(~self.a)


def _member_args(args, i):
    """args with every Batched (also inside lists and tuples) replaced by its i-th member."""
    out = []
    for x in args:
        if type(x) is Batched:
            out.append(x.a[i])
        elif isinstance(x, (list, tuple)) and any(type(y) is Batched for y in x):
            out.append(type(x)(_member_args(x, i)))
        else:
            out.append(x)
    return out


def _batch_size(args):
    for x in args:
        if type(x) is Batched:
            return x.a.shape[0]
        if isinstance(x, (list, tuple)):
            n = _batch_size(x)
            if n is not None:
                return n
    return None


def _stack(results):
    first = results[0]
    if isinstance(first, (tuple, list)):
        return type(first)(_stack([r[k] for r in results]) for k in range(len(first)))
    if isinstance(first, (np.ndarray, np.generic)):
        return Batched(np.stack(results))
    return first        # shapes, dtypes and other values that do not depend on the member


def _per_member(fn, args, kwargs):
    """The fallback: fn on each member of the batch in turn, results stacked."""
    n = _batch_size(args)
    if n is None:
        return fn(*args, **kwargs)
    return _stack([fn(*_member_args(args, i), **kwargs) for i in range(n)])


# -- the vectorized core of the rule language ---------------------------------------------
def matmul(x, y):
    """x @ y with torch's/NumPy's rules for 1-D operands, on logical shapes."""
    if type(x) is not Batched and type(y) is not Batched:
        return np.matmul(x, y)
    # a batch times one matrix is one BLAS product, not one per member (NumPy's stacked
    # matmul loops over the stack)
    if type(y) is not Batched and np.ndim(y) == 2 and x.ndim <= 2:
        a = x.a
        flat = a.reshape(-1, a.shape[-1]) @ y
        return Batched(flat.reshape(a.shape[:-1] + (y.shape[-1],)))
    if type(x) is not Batched and np.ndim(x) == 2 and y.ndim == 1:
        return Batched(y.a @ np.swapaxes(x, 0, 1))
    if type(x) is not Batched and np.ndim(x) == 2 and y.ndim == 2:
        b = y.a                                    # (batch, k, m) -> one (n, k) @ (k, batch*m)
        n, (k, m) = b.shape[0], b.shape[1:]
        flat = x @ b.transpose(1, 0, 2).reshape(k, n * m)
        return Batched(flat.reshape(-1, n, m).transpose(1, 0, 2))
    xv, yv = _logical_ndim(x) == 1, _logical_ndim(y) == 1
    if xv:                        # a vector on the left is a row: (n,) -> (1, n)
        x = Batched(x.a[:, None, :]) if type(x) is Batched else x[None, :]
    if yv:                        # a vector on the right is a column: (n,) -> (n, 1)
        y = Batched(y.a[..., None]) if type(y) is Batched else y[:, None]
    r = np.matmul(*_pair(x, y))
    if yv:
        r = r[..., 0]
    if xv:
        r = r[..., 0, :] if not yv else r[..., 0]
    return Batched(r)


def _axis(d, nd):
    return (d % max(nd, 1)) + 1


def reshape(x, shape):
    if type(x) is not Batched:
        return np.reshape(x, shape)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return Batched(x.a.reshape(x.a.shape[:1] + shape))


def bsum(x, axis=None, keepdims=False):
    if type(x) is not Batched:
        return NP.sum(x, axis, keepdims)
    nd = x.ndim
    if axis is None:
        axis = tuple(range(nd))
    elif isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return Batched(np.sum(x.a, axis=tuple(_axis(d, nd) for d in axis), keepdims=keepdims))


def swapaxes(x, d1, d2):
    if type(x) is not Batched:
        return np.swapaxes(x, d1, d2)
    return Batched(np.swapaxes(x.a, _axis(d1, x.ndim), _axis(d2, x.ndim)))


def transpose(x, axes=None):
    if type(x) is not Batched:
        return np.transpose(x, axes)
    nd = x.ndim
    axes = range(nd - 1, -1, -1) if axes is None else axes
    return Batched(np.transpose(x.a, (0,) + tuple(_axis(d, nd) for d in axes)))


def _is_basic(k):
    return k is None or k is Ellipsis or isinstance(k, (int, np.integer, slice))


def getitem(x, key):
    if type(x) is not Batched:
        return NP.getitem(x, key)
    key = key if isinstance(key, tuple) else (key,)
    advanced = [k for k in key if not _is_basic(k)]
    # one advanced index keeps its place after the batch slice; more may move dims around
    if len(advanced) <= 1:
        k = advanced[0] if advanced else None
        if k is None or not hasattr(k, "_data"):      # a lightgrad Tensor goes per member
            return Batched(x.a[(slice(None),) + key])
    return _per_member(NP.getitem, (x, key), {})


def broadcast_to(g, shape):
    if type(g) is not Batched:
        return NP.broadcast_to(g, shape)
    shape = tuple(shape)
    a = _aligned(g, len(shape))
    out = np.empty(a.shape[:1] + shape, a.dtype)
    out[...] = a
    return Batched(out)


def sum_to(g, shape):
    """Sum the batched g down to the logical `shape` (undo broadcasting), batch kept."""
    if type(g) is not Batched:
        return NP.sum_to(g, shape)
    gs = g.shape
    if gs == tuple(shape):
        return g
    lead = len(gs) - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape)
                                      if s == 1 and gs[i + lead] != 1)
    a = g.a.sum(axis=tuple(d + 1 for d in axes), keepdims=True) if axes else g.a
    return Batched(a.reshape(a.shape[:1] + tuple(shape)))


def fix(g, shape, dtype):
    if type(g) is not Batched:
        return NP.fix(g, shape, dtype)
    if g.shape != shape:
        g = sum_to(g, shape)
    return g if g.dtype == dtype else Batched(g.a.astype(dtype))


def embed(g, shape, key):
    if type(g) is not Batched:
        return NP.embed(g, shape, key)
    key = key if isinstance(key, tuple) else (key,)
    if not all(_is_basic(k) for k in key):
        return _per_member(NP.embed, (g, shape, key), {})
    z = np.zeros(g.a.shape[:1] + tuple(shape), dtype=g.dtype)
    z[(slice(None),) + key] = g.a
    return Batched(z)


def cast_like(x, like):
    dt = like.dtype if type(like) is Batched else np.result_type(like)
    if type(x) is Batched:
        return x.astype(dt, copy=False)
    return np.asarray(x).astype(dt, copy=False)


def along_dim(name):
    """NP.<name>(x, dim, ...) for a function that works along one dim of x, which can be
    None (cumsum and its reverse): the same dim of every member. (Looked up when called:
    the ops define NP's functions after this module loads.)"""
    def batched(x, dim, *rest):
        fn = getattr(NP, name)
        if type(x) is not Batched:
            return fn(x, dim, *rest)
        if dim is None:
            return x
        return Batched(fn(x.a, _axis(dim, x.ndim), *rest))
    return batched


def _shape(x):
    return x.shape if type(x) is Batched else np.shape(x)


def _ndim(x):
    return _logical_ndim(x)


def _batched_fallback(fn):
    """B's version of an NP function it does not define: ufuncs broadcast elementwise over
    the batch, anything else runs member by member."""
    if isinstance(fn, np.ufunc):
        return elementwise(fn)

    def batched(*args, **kwargs):
        return _per_member(fn, args, kwargs)
    return batched


B = RuleNamespace("B", fallback=_batched_fallback)
for _name, _fn in [("matmul", matmul), ("reshape", reshape), ("sum", bsum),
                   ("swapaxes", swapaxes), ("transpose", transpose), ("getitem", getitem),
                   ("broadcast_to", broadcast_to), ("sum_to", sum_to), ("fix", fix),
                   ("embed", embed), ("cast_like", cast_like), ("shape", _shape),
                   ("ndim", _ndim), ("where", elementwise(np.where)),
                   ("mask_where", elementwise(np.where)),
                   ("red_cumsum", along_dim("red_cumsum")),
                   ("red_revcumsum", along_dim("red_revcumsum"))]:
    setattr(B, _name, _fn)
B.mT = lambda x: swapaxes(x, -1, -2)
