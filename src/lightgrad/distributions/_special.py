"""The special functions the distributions need and lightgrad's ops lack: lgamma, digamma,
polygamma, the regularized lower incomplete gamma function (gammainc), Gamma sampling and
the implicit reparameterization gradient of a Gamma sample.

Each is a custom autograd.Function: the forward is a NumPy kernel (computed in float64 and
cast back), the backward is written with lightgrad ops, so lgamma -> digamma -> polygamma(1)
-> polygamma(2) ... can be differentiated to any order. lgamma, digamma and polygamma follow
the Cephes algorithms torch uses and agree with torch's to float64 rounding; gammainc uses
its series and continued fraction (it is within 1e-14 of the exact values, torch's within
about 1e-9); the Gamma sample gradient is torch's approximation, ported.
"""
import math

import numpy as np

import lightgrad as lg
from .._creation import _rng
from ..autograd.function import Function, once_differentiable

__all__ = ["lgamma", "digamma", "polygamma", "gammainc", "standard_gamma",
           "standard_gamma_grad"]


def _f64(t):
    return t.detach().numpy().astype(np.float64)


def _out(data, like):
    """A float64 result back in the dtype of `like`."""
    return lg.from_numpy(np.array(data, dtype=like.detach().numpy().dtype))   # keeps 0-d


# -- NumPy kernels ----------------------------------------------------------------------------
_math_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def _lgamma_np(x):
    x = np.asarray(x, np.float64)
    pole = (x <= 0) & (x == np.floor(x))        # 0, the negative integers and -inf: +inf
    safe = np.where(pole, 1.0, x)               # math.lgamma raises at the poles
    return np.where(pole, np.inf, np.asarray(_math_lgamma(safe), dtype=np.float64))


# The asymptotic series of digamma (Cephes psi)
_PSI_A = (8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
          -4.16666666666666666667E-3, 3.96825396825396825397E-3, -8.33333333333333333333E-3,
          8.33333333333333333333E-2)


def _digamma_np(x):
    x = np.array(x, np.float64)
    with np.errstate(all="ignore"):
        neg = x < 0
        # reflection psi(x) = psi(1 - x) - pi / tan(pi * x), with the fractional part of x
        # in tan (more accurate than pi * x for |x| > 1, as torch does)
        reflect = np.where(neg, -np.pi / np.tan(np.pi * np.fmod(x, 1.0)), 0.0)
        y = np.where(neg, 1.0 - x, x)
        result = np.zeros_like(y)
        small = y < 10
        while small.any():                      # recurrence psi(y) = psi(y + 1) - 1 / y
            result[small] -= 1.0 / y[small]
            y[small] += 1.0
            small = y < 10
        z = 1.0 / (y * y)
        poly = 0.0
        for a in _PSI_A:
            poly = poly * z + a
        tail = np.where(y < 1e17, z * poly, 0.0)
        out = result + np.log(y) - 0.5 / y - tail + reflect
        out = np.where(x == 0, np.copysign(np.inf, -x), out)    # psi(+0) = -inf, psi(-0) = inf
        return np.where(neg & (x == np.floor(x)), np.nan, out)  # the negative integers


# Euler-Maclaurin coefficients of the Hurwitz zeta function (Cephes zeta)
_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
           7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
           -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18)


def _zeta_np(s, q):
    """Hurwitz zeta(s, q) = sum_k (q + k)^-s for an integer s >= 2."""
    q = np.asarray(q, np.float64)
    with np.errstate(all="ignore"):
        total = np.zeros_like(q)
        a = q.copy()
        k = 0
        # sum the first terms directly until q + k > 9, then the Euler-Maclaurin tail
        while k < 10 or (a <= 9).any():
            total += np.where((k < 10) | (a <= 9), a ** -s, 0.0)
            a = np.where((k < 10) | (a <= 9), a + 1, a)
            k += 1
        b = a ** -s                             # the first term left out: the tail from a on
        total += b * a / (s - 1) + 0.5 * b
        fac, j = 1.0, 0.0
        for coef in _ZETA_A:
            fac *= s + j
            b = b / a
            total += fac * b / coef
            j += 1
            fac *= s + j
            b = b / a
            j += 1
        return np.where((q <= 0) & (q == np.floor(q)), np.inf, total)


def _polygamma_np(n, x):
    if n == 0:
        return _digamma_np(x)
    return (-1.0) ** (n + 1) * math.factorial(n) * _zeta_np(n + 1, x)


def _gammainc_series(a, x):
    """P(a, x) = x^a e^-x / Gamma(a + 1) * sum_n x^n / ((a + 1) ... (a + n)), for x < a + 1."""
    term = np.ones_like(x)
    total = np.ones_like(x)
    ap = a.copy()
    for _ in range(5000):       # about sqrt(a) terms matter
        ap = ap + 1
        term = term * x / ap
        total = total + term
        if not (np.abs(term) > np.abs(total) * 1e-17).any():
            break
    return total * np.exp(a * np.log(x) - x - _lgamma_np(a + 1))


def _gammainc_cf(a, x):
    """1 - Q(a, x), with Q's continued fraction by Lentz's method, for x >= a + 1."""
    tiny = 1e-300
    b = x + 1 - a
    c = np.full_like(x, 1 / tiny)
    d = 1 / np.where(np.abs(b) < tiny, tiny, b)
    h = d.copy()
    for i in range(1, 5000):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = 1 / np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        h = h * d * c
        if not (np.abs(d * c - 1) > 1e-16).any():
            break
    return 1 - np.exp(a * np.log(x) - x - _lgamma_np(a)) * h


def _gammainc_np(a, x):
    """The regularized lower incomplete gamma function P(a, x): its series for x < a + 1,
    the continued fraction of 1 - P otherwise (each converges fast on its side)."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = np.full(a.shape, np.nan)
    with np.errstate(all="ignore"):
        ok = (a > 0) & (x > 0) & np.isfinite(x)
        series = ok & (x < a + 1)
        cf = ok & ~series
        out[series] = _gammainc_series(a[series], x[series])
        out[cf] = _gammainc_cf(a[cf], x[cf])
    out[(a > 0) & (x == 0)] = 0.0
    out[(a >= 0) & np.isposinf(x)] = 1.0
    out[(a == 0) & (x > 0)] = 1.0       # P(0, x) = 1, as torch; a < 0 or x < 0: nan
    return out


# The bivariate rational approximation of the Gamma reparameterized gradient (torch's
# standard_gamma_grad_one, from Jankowiak and Obermeyer, "Pathwise Derivatives Beyond the
# Reparameterization Trick", 2018)
_GAMMA_GRAD_UV = np.array([
    [0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089,
     0.0014179084],
    [0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113,
     -0.0035938915, -0.00058392623],
    [0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642, -0.0021309326,
     0.00085092367, -1.5247877e-07]])


def _standard_gamma_grad_np(alpha, x):
    """d x / d alpha of a standard Gamma(alpha) sample x, holding its CDF level fixed:
    -(d/dalpha cdf(x; alpha)) / pdf(x; alpha), approximated as torch does."""
    alpha, x = np.broadcast_arrays(np.asarray(alpha, np.float64), np.asarray(x, np.float64))
    with np.errstate(all="ignore"):
        # small x: a Taylor series of the CDF
        numer, denom = np.ones_like(x), alpha.copy()
        series1, series2 = numer / denom, numer / (denom * denom)
        for i in range(1, 6):
            numer = numer * -x / i
            denom = denom + 1
            series1 = series1 + numer / denom
            series2 = series2 + numer / (denom * denom)
        pow_x_alpha = x ** alpha
        pdf = x ** (alpha - 1) * np.exp(-x)
        cdf_alpha = (np.log(x) - _digamma_np(alpha)) * pow_x_alpha * series1 - \
            pow_x_alpha * series2
        small = -cdf_alpha / pdf
        small = np.where(np.isnan(small), 0.0, small)
        # large alpha: Rice's saddle point expansion, with a polynomial near x = alpha
        near = (1 + 24 * alpha * (1 + 12 * alpha)) * (
            1440 * alpha * alpha + 6 * x * (53 - 120 * x) - 65 * x * x / alpha
            + alpha * (107 + 3600 * x)) / (1244160 * alpha ** 4)
        sq = np.sqrt(8 * alpha)
        term3 = (x - alpha - alpha * np.log(x / alpha)) ** -1.5
        term23 = np.where(x < alpha, sq / (alpha - x) - term3, sq / (alpha - x) + term3)
        term1 = np.log(x / alpha) * term23 - np.sqrt(2 / alpha) * (alpha + x) / (alpha - x) ** 2
        stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha))
        far = -stirling * x * term1 / sq
        large = np.where((0.9 * alpha <= x) & (x <= 1.1 * alpha), near, far)
        # otherwise: the rational approximation in u = log(x / alpha), v = log(alpha)
        u, v = np.log(x / alpha), np.log(alpha)
        c = [_GAMMA_GRAD_UV[0, i] + u * (_GAMMA_GRAD_UV[1, i] + u * _GAMMA_GRAD_UV[2, i])
             for i in range(8)]
        p = c[0] + v * (c[1] + v * (c[2] + v * c[3]))
        q = c[4] + v * (c[5] + v * (c[6] + v * c[7]))
        mid = np.exp(p / q)
        return np.where(x < 0.8, small, np.where(alpha > 8.0, large, mid))


# -- differentiable functions -----------------------------------------------------------------
class _Polygamma(Function):
    @staticmethod
    def forward(ctx, n, x):
        ctx.n = n
        ctx.save_for_backward(x)
        return _out(_polygamma_np(n, _f64(x)), x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return None, grad * _Polygamma.apply(ctx.n + 1, x)


class _Lgamma(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _out(_lgamma_np(_f64(x)), x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * _Polygamma.apply(0, x)


def _float(x):
    x = lg.as_tensor(x)
    return x if x.is_floating_point() else x.to(lg.get_default_dtype())


def lgamma(x):
    """torch.lgamma: log |Gamma(x)|."""
    return _Lgamma.apply(_float(x))


def digamma(x):
    """torch.digamma: d/dx lgamma(x)."""
    return _Polygamma.apply(0, _float(x))


def polygamma(n, x):
    """torch.polygamma: the n-th derivative of digamma."""
    return _Polygamma.apply(int(n), _float(x))


class _Gammainc(Function):
    @staticmethod
    def forward(ctx, a, x):
        ctx.save_for_backward(a, x)
        return _out(_gammainc_np(_f64(a), _f64(x)), x)

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:     # as in torch: no derivative in the shape parameter
            raise NotImplementedError("the derivative for 'igamma: input' is not implemented.")
        # d/dx P(a, x) is the Gamma(a, 1) density
        return None, grad * lg.exp(lg.xlogy(a - 1, x) - x - lgamma(a))


def gammainc(a, x):
    """torch.special.gammainc: the regularized lower incomplete gamma function."""
    a, x = _float(a), _float(x)
    shape = np.broadcast_shapes(tuple(a.shape), tuple(x.shape))
    return _Gammainc.apply(a.expand(shape), x.expand(shape))


def standard_gamma_grad(alpha, x):
    """torch._standard_gamma_grad: the reparameterized gradient of Gamma(alpha, 1) samples x
    (a constant: torch does not differentiate it either)."""
    return _out(_standard_gamma_grad_np(_f64(alpha), _f64(x)), x)


class _StandardGamma(Function):
    """A Gamma(alpha, 1) draw whose gradient in alpha is the implicit reparameterization
    gradient: the sample moves with alpha at a fixed CDF level, as torch's _standard_gamma."""

    @staticmethod
    def forward(ctx, alpha):
        # NumPy's Marsaglia-Tsang sampler (the algorithm torch's own is adapted from), on
        # lightgrad's generator, so lightgrad.manual_seed controls it
        a = _f64(alpha)
        draw = np.zeros_like(a)
        ok = a > 0                  # torch: alpha == 0 gives 0
        draw[ok] = _rng().standard_gamma(a[ok])
        x = _out(draw, alpha)
        # a draw that underflows stays positive (torch's Dirichlet sampler clamps so too);
        # done here because x is saved for backward and must not change afterwards
        x = lg.where((alpha > 0) & (x == 0), lg.finfo(x.dtype).tiny, x)
        ctx.save_for_backward(alpha, x)
        return x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        alpha, x = ctx.saved_tensors
        return grad * standard_gamma_grad(alpha, x)


def standard_gamma(alpha):
    """torch._standard_gamma: Gamma(alpha, 1) samples, reparameterized."""
    return _StandardGamma.apply(alpha)
