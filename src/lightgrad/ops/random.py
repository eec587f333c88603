"""Random numbers: rand, randn, randint, randperm, normal, bernoulli, poisson, multinomial,
the *_like draws and the in-place fills nn.init uses (uniform_, normal_, ...). Sampling is
not reparameterised (as in torch): the nodes pass zero gradients. The generator state is in
_creation.py. Under vmap, randomness="error" refuses a draw, "same" draws once for the
whole batch and "different" once per example."""
import builtins
import math
import operator

import numpy as np

from .. import _dtype
from .._creation import (_factory_dtype, _finish, _float_dtype, _number, _out, _rng, _shape,
                         _tuple_size, _unsupported)
from .._tensor import Tensor, _make
from ._batched_tensor import batched_like, per_example_draw, randomness_of, state as _vmap_state
from ._batching import elementwise, vmap_error as _vmap_error
from ._core import Sample as S, defop, emit, inplace, node_class, publish

_RANDOM_REFUSED = "randomness error mode"   # vmap's default randomness="error" refuses these


_SAME_BATCHED = ("Vmap does not currently support same randomness with a batched tensor input. "
                 "Please file an issue with functorch")


def _every_level(rule):
    """A random op's rule runs at every vmap level, batched argument or not (see _dispatch):
    each level's randomness mode decides the draw."""
    rule.every_level = True
    return rule


def _random_batched(shape_only=False):
    """The vmap rule of a random op on tensors: randomness="different" draws for every
    example (an unbatched tensor is repeated per example first); "same" draws once for the
    batch, from a batched tensor only when the op uses its shape alone (as in torch)."""
    @_every_level
    def rule(c, args, kwargs):
        if not any(isinstance(a, Tensor) for a in (*args, *kwargs.values())):
            return c.op(*args, **kwargs)    # a creation draw: per_example_draw does all levels
        n = _vmap_state["sizes"][c.lvl]
        if randomness_of(c.lvl) == "different":
            def per_example(a):
                return batched_like(a, (c.lvl, n)) if isinstance(a, Tensor) else a
            args = tuple(map(per_example, args))
            kwargs = {k: per_example(v) for k, v in kwargs.items()}
            return elementwise(c, args, kwargs)
        if not any(c.batched(a) for a in (*args, *kwargs.values())):
            return c(*args, **kwargs)
        if not shape_only:
            raise RuntimeError(_SAME_BATCHED)
        r = c(args[0]._p[0], *args[1:], **kwargs)
        return c.wrap(r.unsqueeze(0).expand((n,) + tuple(r.shape)))
    return rule


@_every_level
def _random_fill_batched(c, args, kwargs):
    """The vmap rule of an in-place random fill: "different" fills each example of a batched
    tensor with its own draw, "same" fills all with one; an unbatched tensor cannot hold
    different draws."""
    x = args[0]
    mode = randomness_of(c.lvl)
    if not c.batched(x):
        if mode == "different":
            raise _vmap_error("Cannot ask for different inplace randomness on an unbatched "
                              "tensor. This will appear like same randomness. If this is "
                              "necessary for your usage, please file an issue with functorch.")
        return c(*args, **kwargs)
    if mode == "different":
        c(x._p, *args[1:], **kwargs)
    else:
        one = c(x._p[0].clone(), *args[1:], **kwargs)
        x._p.copy_(one.expand(tuple(x._p.shape)))
    return x


def _uniform(rng, shape, np_type):
    """U[0, 1) in np_type, never rounding up to 1."""
    if np_type == np.float16:
        return (rng.integers(0, 2 ** 11, shape) * 2.0 ** -11).astype(np.float16)
    return rng.random(shape, dtype=np_type)


def _random_floats(kind, rng, shape, d, op):
    if not (d.is_floating_point or d.is_complex):
        raise _unsupported(op, d)
    real = d.to_real().np
    work = real if real != np.float16 else np.float32
    if kind == "uniform":
        gen = lambda: _uniform(rng, shape, real)  # noqa: E731
    else:
        gen = lambda: rng.standard_normal(shape, dtype=work).astype(real)  # noqa: E731
    if d.is_complex:
        scale = 1.0 if kind == "uniform" else math.sqrt(0.5)  # complex normal: unit variance
        return (gen() * scale + 1j * (gen() * scale)).astype(d.np)
    return gen()


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         pin_memory=False, requires_grad=False, **kw):
    """Uniform samples on [0, 1)."""
    shape = _shape(size, "rand", kw.get("size"))
    d = _factory_dtype("rand", shape, _float_dtype(dtype))
    return _out(per_example_draw(lambda s: _finish(
        _random_floats("uniform", _rng(generator), s, d, "check_uniform_bounds"),
        requires_grad, device), shape), out)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          pin_memory=False, requires_grad=False, **kw):
    """Standard normal samples."""
    shape = _shape(size, "randn", kw.get("size"))
    d = _factory_dtype("randn", shape, _float_dtype(dtype))
    return _out(per_example_draw(lambda s: _finish(
        _random_floats("normal", _rng(generator), s, d, "normal_kernel_cpu"),
        requires_grad, device), shape), out)


def _randint_data(rng, low, high, shape, d):
    low, high = builtins.int(low), builtins.int(high)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    return rng.integers(low, high, shape, dtype=np.int64).astype(d.np)


def randint(*args, generator=None, out=None, dtype=None, layout=None, device=None,
            pin_memory=False, requires_grad=False, low=None, high=None, size=None):
    """Integers on [low, high): `randint(high, size)` or `randint(low, high, size)`."""
    pos = list(args)
    if size is None:
        if not pos:
            raise TypeError('randint() missing required argument "size"')
        size = pos.pop()
    if high is None:
        if not pos:
            raise TypeError('randint() missing required argument "high"')
        high = pos.pop()
    if low is None:
        low = pos.pop() if pos else 0
    for v in (low, high):
        if not isinstance(v, (builtins.int, np.integer, Tensor)):
            raise TypeError(f"randint() received an invalid combination of arguments - got "
                            f"{type(v).__name__} bounds, but expected int low and int high")
    shape = _tuple_size(size, "randint", 2 if len(args) == 2 else 3)
    d = _factory_dtype("randint", shape, dtype or _dtype.int64)
    low, high = _number(low), _number(high)
    return _out(per_example_draw(lambda s: _finish(
        _randint_data(_rng(generator), low, high, s, d), requires_grad, device), shape), out)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             pin_memory=False, requires_grad=False):
    """A random permutation of 0..n-1 (under vmap(randomness="different"), one per
    example)."""
    n = operator.index(n)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    np_type = (dtype or _dtype.int64).np

    def draw(shape):
        rng = _rng(generator)
        if len(shape) == 1:
            return _finish(rng.permutation(n).astype(np_type), requires_grad, device)
        rows = np.broadcast_to(np.arange(n), shape)
        return _finish(rng.permuted(rows, axis=-1).astype(np_type), requires_grad, device)
    return _out(per_example_draw(draw, (n,)), out)


def _check_like_float(input, dtype, op):
    d = dtype or input.dtype
    if not (d.is_floating_point or d.is_complex):
        raise _unsupported(op, d)
    return d


@defop(batch=_random_batched(shape_only=True), method=False, samples=[
    S((2, 3), grad=False, values=False, vmap_refused=_RANDOM_REFUSED)])
def rand_like(input, *, dtype=None, layout=None, device=None, pin_memory=False,
              requires_grad=False, memory_format=None, generator=None):
    d = _check_like_float(input, dtype, "check_uniform_bounds")
    data = _random_floats("uniform", _rng(generator), input._data.shape, d, "")
    return _finish(data, requires_grad, device)


@defop(batch=_random_batched(shape_only=True), method=False, samples=[
    S((2, 3), grad=False, values=False, vmap_refused=_RANDOM_REFUSED)])
def randn_like(input, *, dtype=None, layout=None, device=None, pin_memory=False,
               requires_grad=False, memory_format=None, generator=None):
    d = _check_like_float(input, dtype, "normal_kernel_cpu")
    data = _random_floats("normal", _rng(generator), input._data.shape, d, "")
    return _finish(data, requires_grad, device)


@defop(batch=_random_batched(shape_only=True), method=False, samples=[
    S((2, 3), args=(5,), grad=False, values=False, vmap_refused=_RANDOM_REFUSED)])
def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None,
                 pin_memory=False, requires_grad=False, memory_format=None, generator=None):
    if high is None:
        low, high = 0, low
    d = dtype or input.dtype
    data = _randint_data(_rng(generator), _number(low), _number(high), input._data.shape, d)
    return _finish(data, requires_grad, device)


def _zero_rule(ns, g, meta):
    return (g * 0,)


def _zero_rule2(ns, g, meta):
    return (g * 0, g * 0)


def _node(name, two=False):
    return node_class(name, _zero_rule2 if two else _zero_rule)


# NOTE: sampling is not reparameterised in torch: these nodes pass zero gradients
NormalBackward1, NormalBackward2 = _node("NormalBackward1"), _node("NormalBackward2")
NormalBackward3, BernoulliBackward0 = _node("NormalBackward3", True), _node("BernoulliBackward0")


def _check_std(std):
    if isinstance(std, Tensor):
        if (std._data < 0).any():
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")


def _broadcast_shape(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b "
                               f"({y}) at non-singleton dimension {i}")
    return tuple(max(x, y) if 0 not in (x, y) else 0 for x, y in zip(a, b))


_NORMAL_SIGNATURES = (
    " * (Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (float mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (float mean, float std, tuple of ints size, *, torch.Generator generator = None, "
    "Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, torch.device "
    "device = None, bool pin_memory = False, bool requires_grad = False)\n")


@defop(nodes=(NormalBackward1, NormalBackward2, NormalBackward3), method=False,
       batch=_random_batched(), samples=[
           S((2, 3), (2, 3), domain=(0.5, 1.0), grad=False, values=False,
             vmap_refused=_RANDOM_REFUSED),
           S((3,), grad=False, values=False, id="mean", vmap_refused=_RANDOM_REFUSED)])
def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None,
           layout=None, device=None, pin_memory=False, requires_grad=False):
    """Normal samples: normal(mean_tensor, std_tensor), normal(mean_tensor, std=1.),
    normal(mean, std_tensor), normal(mean, std, size)."""
    tm, ts = isinstance(mean, Tensor), isinstance(std, Tensor)
    rng = _rng(generator)
    if not tm and not ts:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments - got "
                            f"({type(mean).__name__}, {type(std).__name__}), but expected one "
                            "of:\n" + _NORMAL_SIGNATURES)
        _check_std(std)
        shape = _tuple_size(size, "normal")
        d = _float_dtype(dtype)
        return _out(per_example_draw(lambda s: _finish(
            (_random_floats("normal", rng, s, d, "normal_kernel_cpu") * std + mean)
            .astype(d.np), requires_grad, device), shape), out)
    d = mean.dtype if tm else std.dtype
    if tm and ts:
        d = _dtype.promote_types(mean.dtype, std.dtype)
    if not (d.is_floating_point or d.is_complex):
        raise _unsupported("normal_kernel_cpu", d)
    _check_std(std)
    m = mean._data if tm else mean
    s = std._data if ts else std
    shape = _broadcast_shape(np.shape(m), np.shape(s))
    data = (m + s * _random_floats("normal", rng, shape, d, "normal_kernel_cpu")).astype(d.np)
    if tm and ts:
        r = emit(data, NormalBackward3, (mean, std), bcast=True)
    elif tm:
        r = emit(data, NormalBackward1, (mean,))
    else:
        r = emit(data, NormalBackward2, (std,))
    return _out(r, out)


@defop(nodes=(BernoulliBackward0,), batch=_random_batched(), samples=[
    S((2, 3), domain=(0.0, 1.0), grad=False, values=False, vmap_refused=_RANDOM_REFUSED)])
def bernoulli(input, p=None, *, generator=None, out=None):
    """Samples 1 with probability `input` (or `p`), else 0, in input's dtype."""
    d = input.dtype
    if not (d.is_floating_point or d.is_complex):
        raise _unsupported("bernoulli_tensor_cpu_p_" if p is None else "bernoulli_scalar_cpu_",
                           d)
    probs = input._data if p is None else p
    if p is None and ((input._data < 0) | (input._data > 1) | np.isnan(input._data)).any():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could "
                           "this error message be improved?  If so, please report an "
                           "enhancement request to PyTorch.)")
    data = (_uniform(_rng(generator), input._data.shape, np.float64) < probs).astype(d.np)
    if p is None:
        return _out(emit(data, BernoulliBackward0, (input,)), out)
    return _out(_make(data), out)


@defop(batch=_random_batched(), method=False, samples=[
    S((2, 3), domain=(0.5, 3.0), grad=False, values=False, vmap_refused=_RANDOM_REFUSED)])
def poisson(input, generator=None):
    """Poisson samples with rates `input`."""
    data = _rng(generator).poisson(input._data).astype(input._data.dtype)
    return _make(data)


@defop(vmap_refused="multinomial has no batching rule yet", samples=[
    S((2, 4), args=(2,), domain=(0.1, 1.0), grad=False, values=False)])
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Category indices drawn in proportion to the (unnormalised) weights of each row."""
    if not input.dtype.is_floating_point:
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{input.dtype._legacy}")
    a = input._data
    if a.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > a.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    probs = a.astype(np.float64)
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = probs.reshape(-1, probs.shape[-1])
    if (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = _rng(generator)
    u = rng.random((rows.shape[0], num_samples if replacement else rows.shape[1]))
    if replacement:
        cdf = np.cumsum(rows, axis=1)
        cdf /= cdf[:, -1:]
        idx = np.stack([np.searchsorted(c, r, side="right") for c, r in zip(cdf, u)])
        idx = np.minimum(idx, rows.shape[1] - 1)
    else:
        # NOTE: Gumbel top-k: the k largest log(u)/p draw without replacement in proportion
        # to the weights; zero weights come last, as in torch
        with np.errstate(divide="ignore"):
            keys = np.log(u) / np.where(rows > 0, rows, 0.0)
        keys = np.where(rows > 0, keys, -np.inf)
        idx = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    data = idx.astype(np.int64).reshape(a.shape[:-1] + (num_samples,))
    return _out(_make(data), out)


# -- in-place random fills (nn.init uses these) -----------------------------------------
def _inplace_random(name, node_name, sample, *args):
    """Tensor.<name>(...): fill self with samples; under autograd the node passes zero."""
    cls = _node(node_name)

    def method(self, *args, generator=None, **kwargs):
        data = sample(self, _rng(generator), *args, **kwargs)

        def op(t):
            return emit(data.astype(t._data.dtype), cls, (t,))
        return inplace(self, op)
    method.__name__ = method.__qualname__ = name
    defop(method, name=name, nodes=(cls,), function=False, samples=[
        S((2, 3), call=lambda m, x: getattr(x.clone(), name)(*args), grad=False,
          values=False, vmap_refused=_RANDOM_REFUSED)],
        batch=_random_fill_batched)
    return cls


def _s_uniform(t, rng, a=0.0, b=1.0):
    d = t.dtype
    if not (d.is_floating_point or d.is_complex):
        raise _unsupported("check_uniform_bounds", d)
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g}"
                           f" > to={b:g}")
    return a + (b - a) * _random_floats("uniform", rng, t._data.shape, d, "")


def _s_normal(t, rng, mean=0.0, std=1.0):
    _check_std(std)
    return mean + std * _random_floats("normal", rng, t._data.shape, t.dtype,
                                       "normal_kernel_cpu")


def _s_bernoulli(t, rng, p=0.5):
    probs = p._data if isinstance(p, Tensor) else p
    return _uniform(rng, t._data.shape, np.float64) < probs


def _s_exponential(t, rng, lambd=1.0):
    return rng.exponential(1.0 / lambd, t._data.shape)


def _s_cauchy(t, rng, median=0.0, sigma=1.0):
    return median + sigma * rng.standard_cauchy(t._data.shape)


def _s_log_normal(t, rng, mean=1.0, std=2.0):
    return rng.lognormal(mean, std, t._data.shape)


def _s_geometric(t, rng, p):
    return rng.geometric(p, t._data.shape)


def _s_random(t, rng, *args, **kw):
    lo, hi = 0, None
    if len(args) == 1:
        hi = args[0]
    elif len(args) == 2:
        lo, hi = args
    lo, hi = kw.get("from", lo), kw.get("to", hi)
    if hi is None:      # [0, 2**mantissa] for floats, the dtype's range for ints
        d = t._data.dtype
        hi = (2 ** (np.finfo(d).nmant + 1) + 1) if d.kind == "f" else \
            (2 if d.kind == "b" else builtins.int(np.iinfo(d).max) + 1)
    return _randint_data(rng, lo, hi, t._data.shape, _dtype.int64)


UniformBackward0 = _inplace_random("uniform_", "UniformBackward0", _s_uniform)
NormalBackward0 = _inplace_random("normal_", "NormalBackward0", _s_normal)
BernoulliBackward2 = _inplace_random("bernoulli_", "BernoulliBackward2", _s_bernoulli)
ExponentialBackward0 = _inplace_random("exponential_", "ExponentialBackward0", _s_exponential)
CauchyBackward0 = _inplace_random("cauchy_", "CauchyBackward0", _s_cauchy)
LogNormalBackward0 = _inplace_random("log_normal_", "LogNormalBackward0", _s_log_normal)
GeometricBackward0 = _inplace_random("geometric_", "GeometricBackward0", _s_geometric, 0.5)
RandomBackward0 = _inplace_random("random_", "RandomBackward0", _s_random)


# the draws that take no tensor are creation functions, not ops (nothing to dispatch on)
__all__ = publish(globals()) + ["rand", "randn", "randint", "randperm"]
