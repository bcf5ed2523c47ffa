"""Vectorised ``erf`` and ``erfc`` for float64 arrays (NumPy has neither).

``erf`` is one Taylor polynomial around the nearest of a fine grid of centres (step 1/256,
``|h| <= 1/512``, five terms: 3.5e-16 relative against ``math.erf``) on ``|x|`` clipped at 6,
where erf is 1 in float64 (``erfc(6)`` is 2e-17): no masks, no second regime, 22 passes,
in place; the six table look-ups are ``take(mode="clip")`` of indices in range. ``erfc``, which must stay accurate where it is tiny, keeps two regimes, both
accurate to about 1e-15 relative error:

* ``|x| < 4``: a Taylor expansion around the nearest grid centre ``a`` (grid step
  1/16, so ``|h| = |x - a| <= 1/32``). The derivatives of erf are Hermite
  polynomials times a Gaussian,

      d^n/dx^n erf(x) = (2/sqrt(pi)) * (-1)**(n-1) * H_{n-1}(x) * exp(-x**2),

  so ``erf(a + h) = erf(a) + S`` and ``erfc(a + h) = erfc(a) - S`` with
  ``S = (2/sqrt(pi)) exp(-a**2) sum_n (-1)**(n-1) H_{n-1}(a) h**n / n!``.
  The 65 anchor values erf(a), erfc(a) come from the standard library once, at
  import; computing ``S`` directly (not as a difference) keeps erfc accurate too.
* ``|x| >= 4``: Laplace's continued fraction

      erfc(x) = exp(-x**2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))

  evaluated bottom-up to a fixed depth. ``exp(-x**2)`` is split as
  ``exp(-xh**2) * exp(-(x - xh)(x + xh))`` with ``xh`` = x rounded down to 1/16:
  ``xh**2`` is exact, so the rounding of ``x**2`` (about 1e-13 relative at x = 26)
  does not reach the result.

Negative arguments use ``erf(-x) = -erf(x)`` and ``erfc(-x) = 2 - erfc(x)``.
erfc underflows to 0 (quietly, NumPy's default for underflow) beyond x ~ 27.3.

>>> float(erf(np.float64(0.5)))
0.5204998778130465
>>> print(f"{float(erfc(10.0)):.12e}")
2.088487583763e-45
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["erf", "erfc"]

_STEP = 1.0 / 16.0
_SWITCH = 4.0          # Taylor below, continued fraction at and above
_TAYLOR_TERMS = 16     # |h| <= 1/32 and a < 4: terms fall below 1e-17 well before 16
_CF_DEPTH = 40         # at x >= 4 the fraction has converged to rounding after ~20 levels
_BIG = 28.0            # erfc(28) is below the smallest subnormal: clip here to stay finite
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

_CENTRES = np.arange(0, int(_SWITCH / _STEP) + 2) * _STEP
_ERFC_AT = np.array([math.erfc(a) for a in _CENTRES])


def _taylor_table(a: np.ndarray, terms: int) -> np.ndarray:
    """Row n-1, column j: the n-th Taylor coefficient of erf at the grid centre a_j,
    (2/sqrt(pi)) exp(-a_j**2) (-1)**(n-1) H_{n-1}(a_j) / n!, so that
    erf(a_j + h) - erf(a_j) = sum_n row[n-1][j] * h**n (by Horner's rule, in float64)."""
    h_prev, h_cur = np.zeros_like(a), np.ones_like(a)  # H_{-1} = 0, H_0 = 1
    rows, factorial = [], 1.0
    for n in range(1, terms + 1):
        factorial *= n
        rows.append((-1.0) ** (n - 1) * h_cur / factorial)
        # Hermite recurrence: H_n = 2a H_{n-1} - 2(n-1) H_{n-2}
        h_prev, h_cur = h_cur, 2.0 * a * h_cur - 2.0 * (n - 1) * h_prev
    return _TWO_OVER_SQRT_PI * np.exp(-a * a) * np.array(rows)


_COEFFICIENTS = _taylor_table(_CENTRES, _TAYLOR_TERMS)

_ERF_GRID = 256.0      # erf's centres k/256, k = 0 .. 1536 (|x| clipped at _ERF_TOP)
_ERF_TOP = 6.0         # erf(x) rounds to 1 in float64 for x >= 5.87
_ERF_LAST = _ERF_TOP * _ERF_GRID
# erf's Horner rows, highest power first, the constant erf(a_k) last
_ERF_ROWS = (*_taylor_table(np.arange(0, _ERF_LAST + 1) / _ERF_GRID, 5)[::-1],
             np.array([math.erf(k / _ERF_GRID) for k in range(int(_ERF_LAST) + 1)]))


def _taylor_increment(ax: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grid index k and S = erf(ax) - erf(k * step), for 0 <= ax < _SWITCH: the Taylor
    polynomial in h = ax - a_k by Horner's rule, three passes per term, in place."""
    k = np.rint(ax / _STEP).astype(np.intp)
    h = ax - _CENTRES[k]
    total = _COEFFICIENTS[-1][k]
    term = np.empty_like(total)
    for row in _COEFFICIENTS[-2::-1]:
        total *= h
        np.take(row, k, out=term)
        total += term
    total *= h
    return k, total


def _gauss(ax: np.ndarray) -> np.ndarray:
    """exp(-ax**2) without the rounding error of forming ax**2 directly."""
    xh = np.floor(ax * 16.0) / 16.0
    return np.exp(-xh * xh) * np.exp(-(ax - xh) * (ax + xh))


def _erfc_tail(ax: np.ndarray) -> np.ndarray:
    """erfc(ax) for ax >= _SWITCH by the continued fraction."""
    denom = ax.copy()
    for k in range(_CF_DEPTH, 0, -1):
        denom = ax + (0.5 * k) / denom
    return _gauss(ax) / (math.sqrt(math.pi) * denom)


def _split(x) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flatten x to float64 and return (x, |x| clipped, near mask, nan mask)."""
    x = np.asarray(x, dtype=np.float64)
    isnan = np.isnan(x)
    ax = np.minimum(np.abs(np.where(isnan, 0.0, x)), _BIG)
    return x, ax, ax < _SWITCH, isnan


def _erfc_positive(ax: np.ndarray, near: np.ndarray) -> np.ndarray:
    out = np.empty_like(ax)
    k, inc = _taylor_increment(ax[near])
    out[near] = _ERFC_AT[k] - inc
    out[~near] = _erfc_tail(ax[~near])
    return out


def erf(x) -> np.ndarray:
    """The error function, elementwise, in float64.

    >>> erf(np.array([-1.0, 0.0, 1.0, 30.0, np.inf])).tolist()
    [-0.8427007929497149, 0.0, 0.8427007929497149, 1.0, 1.0]
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:
        return erf(x.reshape(1))[0]
    ax = np.abs(x)
    np.minimum(ax, _ERF_TOP, out=ax)             # nan stays nan, and so does h below
    h = ax * _ERF_GRID
    np.fmin(h, _ERF_LAST, out=h)                 # a nan's index is the last: any valid one
    np.rint(h, out=h)
    k = h.astype(np.intp)
    h *= 1.0 / _ERF_GRID                         # the centre, exactly
    np.subtract(ax, h, out=h)                    # |h| <= 1/512
    # k is in range by construction: mode="clip" skips take's bounds check and its
    # error path (~1.8x faster a take at 1e5, NumPy 2.4; the same values)
    out = _ERF_ROWS[0].take(k, mode="clip")
    term = ax
    for row in _ERF_ROWS[1:]:
        out *= h
        row.take(k, out=term, mode="clip")
        out += term
    np.copysign(out, x, out=out)
    return out


def erfc(x) -> np.ndarray:
    """The complementary error function 1 - erf(x), accurate also where it is tiny.

    >>> [f"{v:.12e}" for v in erfc(np.array([-np.inf, 0.0, 5.0]))]
    ['2.000000000000e+00', '1.000000000000e+00', '1.537459794428e-12']
    """
    x, ax, near, isnan = _split(x)
    pos = _erfc_positive(ax, near)
    out = np.where(isnan, np.nan, np.where(x < 0, 2.0 - pos, pos))
    return out[()] if out.ndim == 0 else out
