"""erf, erfc and erfinv as NumPy kernels (NumPy has none), accurate to double precision.

Computed in float64 and cast back: a series for |x| < 1, Laplace's continued fraction in
the tails, and Halley steps from a closed-form start for erfinv.
"""
import math

import numpy as np

__all__ = ["np_erf", "np_erfc", "np_erfinv", "TWO_OVER_SQRT_PI", "SQRT_PI"]

SQRT_PI = 1.7724538509055160273
TWO_OVER_SQRT_PI = 1.1283791670955125739


def _exp_neg_sq(x):
    """exp(-x*x) for x >= 0 without the error of rounding x*x: x = hi + lo with hi on a
    1/65536 grid, so hi*hi is exact and the small rest goes through its own exp."""
    hi = np.floor(x * 65536.0) / 65536.0
    lo = x - hi
    return np.exp(-hi * hi) * np.exp(-lo * (x + hi))


def _erf_series(x):
    """erf for |x| < 1: 2x/sqrt(pi) e^(-x^2) sum_n (2x^2)^n / (2n+1)!!; all terms are
    positive, so the sum has no cancellation."""
    a = 2.0 * x * x
    term = np.ones_like(x)
    s = np.ones_like(x)
    for n in range(1, 28):
        term = term * a / (2 * n + 1)
        s = s + term
    return TWO_OVER_SQRT_PI * x * _exp_neg_sq(np.abs(x)) * s


# (from this x on, the continued fraction reaches double precision with that many terms)
_CF_TERMS = ((1.0, 240), (1.5, 120), (2.5, 60), (4.0, 30), (8.0, 12))


def _erfc_cf(x):
    """erfc for x >= 1 by Laplace's continued fraction
    erfc(x) = e^(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))),
    evaluated from the tail, with the number of terms picked per range of x."""
    out = np.zeros_like(x)
    for i, (lo, n) in enumerate(_CF_TERMS):
        hi = _CF_TERMS[i + 1][0] if i + 1 < len(_CF_TERMS) else np.inf
        m = (x >= lo) & (x < hi)
        if not m.any():
            continue
        xs = x[m]
        f = xs.copy()
        for k in range(n, 0, -1):
            f = xs + (0.5 * k) / f
        out[m] = _exp_neg_sq(xs) / (SQRT_PI * f)
    return out


def _erf64(x):
    ax = np.abs(x)
    out = np.empty_like(x)
    small = ax < 1.0
    out[small] = _erf_series(x[small])
    big = ~small
    out[big] = np.copysign(1.0 - _erfc_cf(ax[big]), x[big])
    out[np.isnan(x)] = np.nan
    return out


def _erfc64(x):
    out = np.empty_like(x)
    small = np.abs(x) < 1.0
    out[small] = 1.0 - _erf_series(x[small])
    pos = x >= 1.0
    out[pos] = _erfc_cf(x[pos])
    neg = x <= -1.0
    out[neg] = 2.0 - _erfc_cf(-x[neg])
    out[np.isnan(x)] = np.nan
    return out


def _erfinv64(y):
    a = np.abs(y)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # start from Winitzki's closed form (relative error about 1e-3) ...
        lg = np.log((1.0 - a) * (1.0 + a))
        b = 2.0 / (math.pi * 0.147) + 0.5 * lg
        x = np.sqrt(np.sqrt(b * b - lg / 0.147) - b)
        x = np.where(a < 1e-3, 0.5 * SQRT_PI * a, x)
        # ... then Halley steps on erf(x) = a; in the tails on erfc(x) = 1 - a, which is
        # exact there and keeps full relative precision
        tail = a > 0.5
        r = 1.0 - a
        for _ in range(3):
            x = np.where(np.isfinite(x), x, 0.0)
            d = TWO_OVER_SQRT_PI * _exp_neg_sq(x)
            f = np.where(tail, r - _erfc64(x), _erf64(x) - a)
            u = f / d
            x = x - u / (1.0 + x * u)
    x = np.where(a == 1.0, np.inf, x)
    x = np.where((a > 1.0) | np.isnan(a), np.nan, x)
    return np.copysign(x, y)


def _in_float64(fn):
    def f(x):
        x = np.asarray(x)
        r = fn(np.asarray(x, dtype=np.float64).reshape(-1)).reshape(x.shape)
        return r.astype(x.dtype, copy=False) if x.dtype.kind == "f" else r
    return f


np_erf, np_erfc, np_erfinv = _in_float64(_erf64), _in_float64(_erfc64), _in_float64(_erfinv64)
