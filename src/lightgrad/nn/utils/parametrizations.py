"""torch.nn.utils.parametrizations: weight_norm, orthogonal and spectral_norm, each a
parametrization registered with nn.utils.parametrize.

The linear algebra torch uses here that lightgrad has no op for (matrix_exp,
householder_product, geqrf) is composed below from public ops, so autograd differentiates
it as it does any other composition.

>>> import lightgrad as torch
>>> from lightgrad.nn.utils import parametrizations as P
>>> m = P.weight_norm(torch.nn.Linear(4, 3))
>>> sorted(m.state_dict())
['bias', 'parametrizations.weight.original0', 'parametrizations.weight.original1']
"""
import math
from enum import Enum, auto

import lightgrad as _lg
from ..._tensor import Tensor
from ..._graph.grad_mode import no_grad
from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from ..modules.module import Module
from . import parametrize
from .spectral_norm import _normalize
from .weight_norm import _norm_except_dim, _weight_norm

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# -- linear algebra composed from public ops -----------------------------------------------
def _eye_like(A):
    """The identity of A's matrix size, broadcast over A's batch dims."""
    n = A.shape[-1]
    return _lg.eye(n, dtype=A.dtype).expand(A.shape)


def _matrix_exp(A):
    """exp(A) by scaling and squaring: a Taylor polynomial of degree 18 on A / 2**s, where
    ||A / 2**s||_1 <= 1/2 (its remainder is then below 1e-22), squared s times."""
    with no_grad():
        norm = A.abs().sum(-2).amax(-1).max().item() if A.numel() else 0.0
    s = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0
    X = A / 2.0 ** s
    Id = _eye_like(A)
    E = Id
    for k in range(18, 0, -1):       # Horner: I + X (I + X/2 (I + X/3 (...)))
        E = Id + (X @ E) / k
    for _ in range(s):
        E = E @ E
    return E


def _householder_product(A, tau):
    """linalg.householder_product: the first n columns of H_1 ... H_k, where
    H_i = I - tau_i v_i v_i^H and v_i is column i of A below the diagonal with a 1 on it."""
    m, n = A.shape[-2], A.shape[-1]
    V = A.tril(-1) + _lg.eye(m, n, dtype=A.dtype)
    Q = _lg.eye(m, n, dtype=A.dtype).expand(A.shape)
    for i in reversed(range(tau.shape[-1])):     # H_i (H_{i+1} ... Q)
        v = V[..., :, i:i + 1]
        Q = Q - tau[..., i, None, None] * (v @ (v.mH @ Q))
    return Q


def _geqrf(A):
    """LAPACK's geqrf for real A (..., m, n): R on and above the diagonal, the Householder
    vectors below it (their leading 1 implied), and their scales tau, as torch.geqrf."""
    A = A.clone()
    m, n = A.shape[-2], A.shape[-1]
    taus = []
    for j in range(min(m, n)):
        alpha = A[..., j, j].clone()
        xnorm = _lg.linalg.vector_norm(A[..., j + 1:, j], dim=-1)
        zero = xnorm == 0        # nothing to annihilate: H = I (tau = 0), as dlarfg
        beta = -_lg.where(alpha >= 0, 1.0, -1.0) * (alpha * alpha + xnorm * xnorm).sqrt()
        beta = _lg.where(zero, alpha, beta)
        tau = _lg.where(zero, 0.0, (beta - alpha) / _lg.where(zero, 1.0, beta))
        scale = _lg.where(zero, 0.0, 1.0 / _lg.where(zero, 1.0, alpha - beta))
        v = A[..., j + 1:, j] * scale[..., None]
        A[..., j + 1:, j] = v
        A[..., j, j] = beta
        if j + 1 < n:                # apply H to the remaining columns
            vfull = _lg.cat([_lg.ones_like(alpha)[..., None], v], -1)[..., :, None]
            rest = A[..., j:, j + 1:]
            A[..., j:, j + 1:] = rest - tau[..., None, None] * (vfull @ (vfull.mT @ rest))
        taus.append(tau)
    return A, _lg.stack(taus, -1)


def _is_orthogonal(Q):
    n, k = Q.size(-2), Q.size(-1)
    Id = _lg.eye(k, dtype=Q.dtype)
    eps = 10.0 * n * _lg.finfo(Q.dtype).eps      # torch's tolerance
    return _lg.allclose(Q.mH @ Q, Id, atol=eps)


def _make_orthogonal(A):
    """The Q of A's QR decomposition with diag(R) made positive (unique for full-rank A);
    torch's geqrf + householder_product + sign correction, here through linalg.qr."""
    Q, R = _lg.linalg.qr(A)
    return Q * R.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


# -- orthogonal ----------------------------------------------------------------------------
class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        # complex reflectors cannot carry a unitary's n^2 real parameters (torch's note)
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex "
                             "tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.size(-2), X.size(-1)
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        # X is now tall (n >= k)
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()        # n*k - k(k-1)/2 parameters are enough
            if n != k:          # embed into a square matrix
                X = _lg.cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH        # skew-symmetric (skew-hermitian)
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = _matrix_exp(A)
            else:               # the Cayley retraction (I + A/2)(I - A/2)^{-1}
                Id = _lg.eye(n, dtype=A.dtype)
                Q = _lg.linalg.solve(_lg.add(Id, A, alpha=-0.5), _lg.add(Id, A, alpha=0.5))
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            # the diagonal of X holds the signs (+-1); cast to int so that it gets no
            # gradient and the optimizer leaves it alone
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q):
        with no_grad():
            return self._right_inverse(Q)

    def _right_inverse(self, Q):
        if Q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {Q.shape}.")
        Q_init = Q
        n, k = Q.size(-2), Q.size(-1)
        transpose = n < k
        if transpose:
            Q = Q.mT
            n, k = k, n
        if not hasattr(self, "base"):
            if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                raise NotImplementedError("It is not possible to assign to the matrix "
                                          "exponential or the Cayley parametrizations when "
                                          "use_trivialization=False.")
            # householder: the reflectors of Q's QR decomposition, with the signs of diag(R)
            # on the diagonal (flipped where LAPACK used no reflection, tau == 0)
            A, tau = _geqrf(Q)
            sign = A.diagonal(dim1=-2, dim2=-1).sign()
            sign = _lg.where(tau == 0.0, -sign, sign)
            E = _lg.eye(n, k, dtype=A.dtype)
            A = A * (1 - E) + E * sign.unsqueeze(-2)
            return A.mT if transpose else A
        if n == k:
            Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
        else:       # complete Q into a full n x n orthogonal matrix
            N = _lg.randn(*(Q.size()[:-2] + (n, n - k)), dtype=Q.dtype)
            Q = _make_orthogonal(_lg.cat([Q, N], dim=-1))
        self.base = Q
        # -Id, so that the householder map of it is the identity as well
        neg_Id = _lg.zeros_like(Q_init)
        E = _lg.eye(Q_init.size(-2), Q_init.size(-1), dtype=Q_init.dtype)
        return neg_Id - E


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Constrain `module.<name>` to be orthogonal (or unitary): matrix_exp (the default for
    square or complex matrices), cayley or householder (the default otherwise)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError("Expected a matrix or batch of matrices. "
                         f"Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = ("matrix_exp" if weight.size(-2) == weight.size(-1)
                          or weight.is_complex() else "householder")
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


# -- weight norm ---------------------------------------------------------------------------
class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrize `module.<name>` as g * v / ||v|| (original0 = g, original1 = v)."""
    register = parametrize.register_parametrization
    register(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(module, state_dict, prefix, local_metadata, strict,
                                 missing_keys, unexpected_keys, error_msgs):
        # loads a checkpoint of the older nn.utils.weight_norm (name_g, name_v)
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module.register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


# -- spectral norm -------------------------------------------------------------------------
class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but "
                             f"got n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:        # a vector needs no approximation (see forward)
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.size()
            u = weight_mat.new_empty(h).normal_(0, 1)
            v = weight_mat.new_empty(w).normal_(0, 1)
            self.register_buffer("_u", _normalize(u, self.eps))
            self.register_buffer("_v", _normalize(v, self.eps))
            # start from reasonable u, v
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:       # dim to the front
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat, n_power_iterations):
        # u and v are updated in place, as torch does (module replicas share the buffers)
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(_normalize(_lg.mv(weight_mat, self._v), self.eps))
                self._v.copy_(_normalize(_lg.mv(weight_mat.mH, self._u), self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return _normalize(weight, self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        # clones: a later forward's in-place update must not change what this graph saved
        u, v = self._u.clone(), self._v.clone()
        sigma = _lg.vdot(u, _lg.mv(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide `module.<name>` by its spectral norm, estimated by power iteration (one step
    per training-mode access; buffers _u and _v)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        transposed = (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)
        dim = 1 if isinstance(module, transposed) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
