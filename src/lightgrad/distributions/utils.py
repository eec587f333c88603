"""torch.distributions.utils: broadcasting parameters, probs <-> logits, lazy properties."""
import functools

import lightgrad as lg

__all__ = ["broadcast_all", "logits_to_probs", "clamp_probs", "probs_to_logits",
           "lazy_property", "tril_matrix_to_vec", "vec_to_tril_matrix"]

euler_constant = 0.57721566490153286060     # Euler-Mascheroni constant

_Number = (bool, int, float)
_EMPTY = lg.Size()      # the default sample_shape


def broadcast_shapes(*shapes):
    """The broadcast of `shapes`, raising torch's broadcast_tensors error."""
    out = []
    for shape in shapes:
        shape = tuple(shape)
        if len(shape) > len(out):
            out = [1] * (len(shape) - len(out)) + out
        for i in range(1, len(shape) + 1):
            a, b = out[-i], shape[-i]
            if a != b and a != 1 and b != 1:
                raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b "
                                   f"({b}) at non-singleton dimension {len(out) - i}")
            if a == 1:
                out[-i] = b
    return lg.Size(out)


def broadcast_tensors(*tensors):
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t if tuple(t.shape) == shape else t.expand(shape) for t in tensors)


def broadcast_all(*values):
    """Numbers become tensors (of the first tensor's dtype, else the default dtype) and all
    are broadcast to one shape, as torch.distributions.utils.broadcast_all."""
    if not all(isinstance(v, (lg.Tensor, *_Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, torch.Tensor or "
                         "objects implementing __torch_function__.")
    dtype = next((v.dtype for v in values if isinstance(v, lg.Tensor)), None)
    dtype = dtype or lg.get_default_dtype()
    values = [v if isinstance(v, lg.Tensor) else lg.tensor(float(v), dtype=dtype)
              for v in values]
    return broadcast_tensors(*values)


def _standard_normal(shape, dtype, device=None):
    return lg.empty(shape, dtype=dtype).normal_()


def _sum_rightmost(value, dim):
    """Sum out the `dim` rightmost dims of value."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    if is_binary:
        return lg.sigmoid(logits)
    return lg.softmax(logits, dim=-1)


def clamp_probs(probs):
    eps = lg.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return lg.log(ps_clamped) - lg.log1p(-ps_clamped)
    return lg.log(ps_clamped)


class lazy_property:
    """A property computed on first access and then stored on the instance (so a
    Distribution built from `probs` computes `logits` only when asked, and once). It is
    computed with grad enabled, as in torch, so it stays differentiable."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        functools.update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with lg.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """What the class attribute shows: a lazy_property that is also a property (for
    documentation tools and isinstance checks)."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)


def _tril_mask(n, diag):
    arange = lg.arange(n)
    return arange < arange.view(-1, 1) + (diag + 1)


def tril_matrix_to_vec(mat, diag=0):
    """The lower triangle (from diagonal `diag`) of the last two dims, as a vector."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag)]


def vec_to_tril_matrix(vec, diag=0):
    """The inverse of tril_matrix_to_vec."""
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1]
                             + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    eps = lg.finfo(vec.dtype).eps
    if round(n) - n > eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be "
                         "expressed as the lower triangular part of a square D x D matrix.")
    n = round(n)
    mat = vec.new_zeros(tuple(vec.shape[:-1]) + (n, n))
    mat[..., _tril_mask(n, diag)] = vec
    return mat
