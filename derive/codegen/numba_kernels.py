"""Scalar kernels copied into numba modules: branch-free float64 ``exp``, ``expm1``, ``log``,
``log1p``, ``tanh``, ``erf`` (and ``sigmoid``, ``softplus``, ``logaddexp`` from them).

numba's ``math.exp`` is a call into libm that LLVM cannot vectorize (this llvmlite has no
SVML); written as plain arithmetic and selects, a loop over these kernels is vectorized.
Each kernel is a ``@njit(inline="always")`` function with ``error_model="numpy"`` (a
division by zero gives inf, not an exception, so no branch is left in the loop):

* ``_k_exp``: range reduction ``x = k ln2 + r`` by the 1.5·2**52 rounding trick, a
  polynomial of ``expm1(r)/r`` (|r| <= ln2/2) by Estrin's scheme, ``2**k`` built from its
  bits in two factors (so results down to the smallest subnormal are right);
* ``_k_expm1``: the same reduction, ``2**k·expm1(r) + (2**k - 1)`` (exact ``expm1(r)`` for
  small x, no cancellation); ``_k_exp_expm1``: both from one reduction;
* ``_k_log``: exponent and mantissa from the bits (subnormals scaled first), 
  ``log(m) = 2 atanh(s) = 2s + 2s·R(s²)``, ``s = (m-1)/(m+1)``, ``R`` a polynomial;
* ``_k_log1p``: ``log(u)·x/(u - 1)`` with ``u = 1 + x`` (exact rounding compensation);
* ``_k_tanh``: ``-expm1(-2|x|)/(2 + expm1(-2|x|))`` with x's sign (accurate near 0), its
  argument clamped before the reduction (one 2**k factor);
* ``_k_sigmoid_z``, ``_k_softplus_z``, ``_k_tanh_softplus_z``: sigmoid(u), softplus(u) and
  tanh(softplus(u)) given ``z = exp(-|u|)`` (one exp for all of them in a loop), softplus
  with ``log1p(z)`` for ``0 <= z <= 1`` as ``2 atanh(z/(2 + z))`` (``_k_log1p_unit``), tanh of
  softplus as a rational function of z; tuples for :mod:`.numba_pairs`:
  ``_k_logistic_zm`` (sigmoid(±u), softplus(±u) and tanh(u/2), given also m = expm1(-|u|))
  and ``_k_tanh_softplus_sech_z`` (tanh(softplus(u)), sech(softplus(u))**2*sigmoid(u));
* ``_k_erf``: ``x·A(x²)`` for |x| <= 1 and ``1 - exp(-x²)·erfcx(x)`` for 1 < |x| < 6 (erf is
  1 in float64 beyond), ``A`` and ``erfcx`` as polynomials (Estrin's scheme), erfcx's in ``y = (x-3)/(x+3)``.
  Every polynomial is a Chebyshev interpolant (:func:`chebyshev`, in its variable:
  :func:`monomial`, :func:`powers`) computed with mpmath at 40 digits, with fewer terms
  than Taylor's series for the same accuracy (11 for exp's, not 13; 11 for log1p's, not
  18); ``exp(-x²)`` from the exactly split square, or given (``_k_erf_z``: a loop that
  has ``exp(-x²)`` already computes it once); ``_k_erf1p_z``: ``1 + erf(x)`` given
  ``exp(-x²)``, as ``e·erfcx(|x|)`` (x < 0) or ``2 - e·erfcx(|x|)``, erfcx from one
  series for 0 <= |x| <= 28.

>>> src = kernel_source()
>>> "def _k_exp(x):" in src and "def _k_erf(x):" in src and "import math" not in src
True
>>> len(chebyshev("erf_small")), len(chebyshev("erfcx_large"))
(12, 17)
"""
from __future__ import annotations

import functools
import math

__all__ = ["KERNELS", "chebyshev", "kernel_source", "monomial", "powers"]

# the kernels' names in the generated module
KERNELS = tuple("_k" + n for n in ("_exp", "_expm1", "_log", "_log1p", "_tanh", "_erf",
                                   "_sigmoid", "_softplus", "_logaddexp", "_sign", "_where",
                                   "_max", "_min", "_log1p_unit", "_tanh_softplus",
                                   "_sigmoid_z", "_softplus_z", "_tanh_softplus_z", "_erf_z", "_erf1p_z", "_exp_expm1",
                                   "_logistic_zm", "_tanh_softplus_sech_z"))

_LN2_HI = 6.93147180369123816490e-01   # ln 2 with its last 32 bits zero: k*_LN2_HI is exact
_LN2_LO = 1.9082149292705877e-10      # ln 2 - _LN2_HI to 53 bits (tests: by mpmath)
_MAGIC_BITS = 0x4338000000000000   # the bits of 1.5*2**52: bits(1.5*2**52 + k) - this is k, |k| < 2**51


def _float(v) -> str:
    return repr(float(v))


def _estrin(var: str, coefficients, result: str) -> list:
    """Source lines setting ``result`` to ``sum c_k var**k`` by Estrin's scheme: pairs
    ``c_2i + c_2i+1*var``, then pairs of those with ``var**2``, ``var**4``, ...: a dependency
    chain of log2(n) multiply-adds instead of Horner's n, the same rounding for small var."""
    terms = [f"{_float(coefficients[k])} + {var}*{_float(coefficients[k + 1])}"
             if k + 1 < len(coefficients) else _float(coefficients[k])
             for k in range(0, len(coefficients), 2)]
    lines, power, level = [], var, 0
    while len(terms) > 1:
        level += 1
        lines.append(f"    {result}_p{level} = {power}*{power}")
        power = f"{result}_p{level}"
        names = []
        for i in range(0, len(terms), 2):
            name = f"{result}_{level}_{i // 2}"
            pair = f"({terms[i]}) + {power}*({terms[i + 1]})" if i + 1 < len(terms) else terms[i]
            lines.append(f"    {name} = {pair}")
            names.append(name)
        terms = names
    lines.append(f"    {result} = {terms[0]}")
    return lines


_ERFCX_C = (15, 4)       # the centre c of erfcx's variable (t - c)/(t + c), as p/q

# (function of the mpmath variable, interval as two fractions (p, q), number of terms)
_SERIES = {
    # erf(x) = x*A(x**2) on |x| <= 1, A(z) = erf(sqrt z)/sqrt z
    "erf_small": (lambda mp, z: mp.erf(mp.sqrt(z)) / mp.sqrt(z) if z else 2 / mp.sqrt(mp.pi),
                  ((0, 1), (1, 1)), 12),
    # erfcx(x) = erfc(x)*exp(x**2) on 1 <= x <= 6 in y = (x - 3)/(x + 3), -1/2 <= y <= 1/3:
    # x = 3(1 + y)/(1 - y); erfcx is nearly a rational function of x, so that in y it takes
    # 17 terms for 1e-17 where in 1/x it took 26 (and 34 with a margin)
    "erfcx_large": (lambda mp, y: mp.erfc(3 * (1 + y) / (1 - y)) * mp.exp((3 * (1 + y) / (1 - y)) ** 2),
                    ((-1, 2), (1, 3)), 17),
    # (t + c)*erfcx(t) on 0 <= t <= 28 (erfc(t) = 0 in float64 beyond 27.3) in
    # y = (t - c)/(t + c), -1 <= y <= (28 - c)/(28 + c), c = 15/4: one series for every t, so
    # 1 + erf(x) is e*erfcx(|x|) or 2 - that by x's sign, no select between two polynomials;
    # the factor t + c keeps its values near its coefficients' size (0.6 to 3.8: erfcx(28)
    # is 0.02); 21 terms: 7.2e-16 worst against mpmath and 1 + erf(0) = 1, where c = 7/2 took
    # 22 for 8.3e-16 (20 terms: 1.7e-15, 18: 5e-14; c = 13/4 and 21: 7.1e-16, 1 - 2e-16 at 0)
    "erfcx_all": (lambda mp, y: 2 * _ERFCX_C[0] / _ERFCX_C[1] / (1 - y)
                  * mp.erfc(mp.mpf(_ERFCX_C[0]) / _ERFCX_C[1] * (1 + y) / (1 - y))
                  * mp.exp((mp.mpf(_ERFCX_C[0]) / _ERFCX_C[1] * (1 + y) / (1 - y)) ** 2),
                  ((-1, 1), (28 * _ERFCX_C[1] - _ERFCX_C[0], 28 * _ERFCX_C[1] + _ERFCX_C[0])), 21),
    # expm1(r)/r on |r| <= ln2/2 (exp's reduced argument): 11 terms (tail 3e-17), Taylor 13
    "expm1_small": (lambda mp, r: mp.expm1(r) / r if r else mp.mpf(1),
                    ((-7, 20), (7, 20)), 11),
    # atanh(s)/s in w = s**2 for 0 <= s <= 1/3 (log1p of 0 <= z <= 1): 11 terms, Taylor 18
    "atanh_unit": (lambda mp, w: mp.atanh(mp.sqrt(w)) / mp.sqrt(w) if w else mp.mpf(1),
                   ((0, 1), (1, 9)), 11),
    # (atanh(s)/s - 1)/s**2 in w = s**2 for |s| <= 3 - 2 sqrt 2 (log's mantissa m in
    # [sqrt(1/2), sqrt 2], s = (m - 1)/(m + 1)): 8 terms, Taylor 12
    "atanh_log": (lambda mp, w: (mp.atanh(mp.sqrt(w)) / mp.sqrt(w) - 1) / w if w
                  else mp.mpf(1) / 3, ((0, 1), (3, 100)), 8),
}


@functools.lru_cache(maxsize=None)
def _chebyshev_mp(name: str) -> tuple:
    import mpmath
    f, (a, b), n = _SERIES[name]
    with mpmath.workdps(40):
        a, b = (mpmath.mpf(p) / q for p, q in (a, b))
        nodes = [mpmath.cos(mpmath.pi * (k + mpmath.mpf(1) / 2) / n) for k in range(n)]
        values = [f(mpmath, (b - a) / 2 * u + (a + b) / 2) for u in nodes]
        return tuple(2 * sum(v * mpmath.cos(mpmath.pi * j * (k + mpmath.mpf(1) / 2) / n)
                             for k, v in enumerate(values)) / n for j in range(n))


def chebyshev(name: str) -> tuple:
    """Chebyshev coefficients c_0..c_{n-1} of a series of :data:`_SERIES` on its interval
    (``f = c_0/2 + sum c_k T_k(u)``), by interpolation at the Chebyshev nodes at 40 digits."""
    return tuple(float(c) for c in _chebyshev_mp(name))


@functools.lru_cache(maxsize=None)
def monomial(name: str) -> tuple:
    """The same series as coefficients of ``u**k`` (converted at 40 digits, then rounded):
    well conditioned here (the sum of their magnitudes is that of the function's values),
    so Estrin's scheme can evaluate them with a short dependency chain.

    >>> abs(sum(monomial("erf_small")) - math.erf(1.0)) < 1e-15     # A(1) = erf(1), u = 1
    True
    """
    import mpmath
    with mpmath.workdps(40):
        c = _chebyshev_mp(name)
        t_prev, t_cur = [mpmath.mpf(1)], [mpmath.mpf(0), mpmath.mpf(1)]   # T_0, T_1
        out = [c[0] / 2] + [mpmath.mpf(0)] * (len(c) - 1)
        for k in range(1, len(c)):
            for j, v in enumerate(t_cur):
                out[j] += c[k] * v
            t_next = [mpmath.mpf(0)] + [2 * v for v in t_cur]            # 2u T_k - T_{k-1}
            for j, v in enumerate(t_prev):
                t_next[j] -= v
            t_prev, t_cur = t_cur, t_next
        return tuple(float(v) for v in out)


@functools.lru_cache(maxsize=None)
def powers(name: str) -> tuple:
    """The series of :func:`monomial` as coefficients of powers of its own variable
    (``u = (2x - a - b)/(b - a)`` substituted at 40 digits), for a short interval near 0
    where they are close to the Taylor coefficients: no affine map per element.

    >>> abs(powers("expm1_small")[1] - 0.5) < 1e-12 and abs(powers("atanh_unit")[1] - 1/3) < 1e-12
    True
    """
    import mpmath
    f, (a, b), n = _SERIES[name]
    with mpmath.workdps(40):
        c = _chebyshev_mp(name)
        a, b = (mpmath.mpf(p) / q for p, q in (a, b))
        # the Chebyshev sum in u by the recurrence, each T_k a polynomial in x
        alpha, beta = 2 / (b - a), -(a + b) / (b - a)
        t_prev, t_cur = [mpmath.mpf(1)], [beta, alpha]                # T_0, T_1 in x
        out = [c[0] / 2] + [mpmath.mpf(0)] * (n - 1)
        for k in range(1, n):
            for j, v in enumerate(t_cur):
                out[j] += c[k] * v
            t_next = [2 * beta * v for v in t_cur] + [mpmath.mpf(0)]   # 2u T_k - T_{k-1}
            for j, v in enumerate(t_cur):
                t_next[j + 1] += 2 * alpha * v
            for j, v in enumerate(t_prev):
                t_next[j] -= v
            t_prev, t_cur = t_cur, t_next
        return tuple(float(v) for v in out)



_BITS = '''
@intrinsic
def _from_bits(typingctx, bits):
    """The float64 whose bits are the int64 ``bits``."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))
    return sig, codegen


@intrinsic
def _to_bits(typingctx, value):
    """The int64 bits of the float64 ``value``."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))
    return sig, codegen
'''


def _kernel(name: str, args: str, doc: str, lines) -> str:
    name = "_k" + name
    body = "\n".join(lines)
    return (f'@njit(inline="always", error_model="numpy", cache=True, fastmath={{"contract"}})\n'
            f'def {name}({args}):\n'
            f'    """{doc}"""\n{body}\n')


def kernel_source() -> str:
    """The source of the kernels (after ``import numpy as np`` and the numba imports)."""
    # k from the bits of the rounded sum (AVX2 has no vector float64 -> int64 conversion:
    # np.int64(kf) made LLVM convert each element with a scalar instruction)
    ln2 = (f"    kb = xc*{_float(1 / math.log(2))} + 6755399441055744.0",
           "    kf = kb - 6755399441055744.0",
           f"    r = (xc - kf*{_float(_LN2_HI)}) - kf*{_float(_LN2_LO)}",
           f"    k = _to_bits(kb) - {_MAGIC_BITS}",
           "    k1 = k >> 1",
           "    s1 = _from_bits((k1 + 1023) << 52)",
           "    s2 = _from_bits((k - k1 + 1023) << 52)")
    parts = [_BITS.strip() + "\n"]
    parts.append(_kernel("_where", "c, a, b", "a where c else b (both evaluated: a select)",
                         ["    return a if c else b"]))
    parts.append(_kernel("_max", "a, b", "np.maximum of two floats (nan propagates)",
                         ["    return a if (a > b or a != a) else b"]))
    parts.append(_kernel("_min", "a, b", "np.minimum of two floats (nan propagates)",
                         ["    return a if (a < b or a != a) else b"]))
    parts.append(_kernel("_sign", "x", "np.sign", [
        "    s = 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)",
        "    return s if x == x else x"]))
    # exp and expm1 share every line up to q = expm1(r): LLVM computes them once where a
    # loop needs both of the same argument (elu's out and local). No select for nan or
    # overflow: a nan passes the clamp and makes r, q and the result nan; from 709.79 up
    # (709.8 once clamped) 2**k is 2**1024 in two factors and the product is inf. Bitwise
    # the results of the two selects these kernels had (tests: a sweep of both bounds),
    # 9% less time for exp in a loop (0.88 -> 0.80 ns per element, AMD EPYC, AVX-512)
    shared = ("    xc = -745.5 if x < -745.5 else (709.8 if x > 709.8 else x)", *ln2,
              *_estrin("r", powers("expm1_small"), "q"), "    q = r*q")
    parts.append(_kernel("_exp", "x", "exp(x); inf above 709.78, 0 below -745.2", [
        *shared,
        "    return ((1.0 + q)*s1)*s2"]))
    parts.append(_kernel("_expm1", "x", "exp(x) - 1, accurate near 0", [
        *shared,
        "    s = s1*s2",
        "    return s1*(s2*(q + 1.0)) if kf > 1000.0 else s*q + (s - 1.0)"]))
    # both from one reduction: written as two calls, LLVM simplifies their clamps of the
    # same argument differently (selu's min(0, x) folds one bound in one of them) and
    # computes the reduction and the series twice
    parts.append(_kernel("_exp_expm1", "x", "(exp(x), expm1(x)) as _k_exp and _k_expm1 give "
                         "them, from one range reduction and one series", [
        *shared,
        "    y = ((1.0 + q)*s1)*s2",
        "    s = s1*s2",
        "    m = s1*(s2*(q + 1.0)) if kf > 1000.0 else s*q + (s - 1.0)",
        "    return (y, m)"]))
    parts.append(_kernel("_log", "x", "natural log; -inf at 0, nan below", [
        "    small = x < 2.2250738585072014e-308",
        "    xs = x*18014398509481984.0 if small else x",
        "    bits = _to_bits(xs)",
        "    e = ((bits >> 52) & 2047) - (1077 if small else 1023)",
        "    m = _from_bits((bits & 4503599627370495) | 4607182418800017408)",
        "    big = m > 1.4142135623730951",
        "    m = m*0.5 if big else m",
        # the float64 of the int64 e without a conversion instruction (none in AVX2)
        f"    ef = _from_bits((e + 1 if big else e) + {_MAGIC_BITS}) - 6755399441055744.0",
        "    f = m - 1.0",
        "    s = f/(2.0 + f)",
        "    z = s*s",
        *_estrin("z", powers("atanh_log"), "R"),
        "    R = z*R",
        f"    y = ef*{_float(_LN2_HI)} + (2.0*s + (2.0*s*R + ef*{_float(_LN2_LO)}))",
        "    y = np.inf if x == np.inf else y",
        "    y = -np.inf if x == 0.0 else y",
        "    return np.nan if (x < 0.0 or x != x) else y"]))
    parts.append(_kernel("_log1p", "x", "log(1 + x), accurate near 0", [
        "    u = 1.0 + x",
        "    d = u - 1.0",
        "    y = x if d == 0.0 else _k_log(u)*(x/d)",
        "    return np.inf if x == np.inf else y"]))
    parts.append(_kernel("_tanh", "x", "tanh(x), accurate near 0: -e/(2 + e) with x's sign, "
                         "e = expm1(-2|x|) for |x| <= 20 (tanh is 1 beyond)", [
        "    a = abs(x)",
        "    xc = -2.0*(20.0 if a > 20.0 else a)",
        *ln2[:4],
        "    s = _from_bits((k + 1023) << 52)",          # k >= -58: one normal factor
        *_estrin("r", powers("expm1_small"), "q"),
        "    q = r*q",
        "    e = s*q + (s - 1.0)",                       # nan: nan (so is the result)
        "    return math.copysign(-e/(2.0 + e), x)"]))
    parts.append(_kernel("_sigmoid", "u", "1/(1 + exp(-u)) without overflow", [
        "    return _k_sigmoid_z(u, _k_exp(-abs(u)))"]))
    atanh = ("    w = s*s", *_estrin("w", powers("atanh_unit"), "p"))
    parts.append(_kernel("_log1p_unit", "z", "log(1 + z) for 0 <= z <= 1: 2 atanh(s), "
                         "s = z/(2 + z) <= 1/3, by its series (one division, no cancellation)", [
        "    s = z/(2.0 + z)", *atanh,
        "    return 2.0*s*p"]))
    # log_cosh's softplus(2v) and tanh(v) from one exp(-2|v|) and its expm1 (one range
    # reduction where _k_tanh had its own). Two divisions, 1/(1 + z) and z/(2 + z): one
    # reciprocal of (1 + z)(2 + z) and four multiplies ran 7-9% slower in these loops
    # (bound by the multiply-add ports, not the divider)
    parts.append(_kernel("_logistic_zm", "u, z, m", "(sigmoid(u), sigmoid(-u), softplus(u), "
                         "softplus(-u), tanh(u/2)) given z = exp(-|u|) and m = expm1(-|u|): "
                         "tanh(|u|/2) = -m/(1 + z)", [
        "    q = 1.0/(1.0 + z)",
        "    s = z/(2.0 + z)", *atanh,
        "    lz = 2.0*s*p",
        "    big = u >= 0.0",
        "    sp = ((u if big else 0.0) + lz) if u == u else u",
        "    sn = ((0.0 if big else -u) + lz) if u == u else u",
        "    return (q if big else z*q, z*q if big else q, sp, sn, math.copysign(-m*q, u))"]))
    parts.append(_kernel("_sigmoid_z", "u, z", "sigmoid(u) given z = exp(-|u|)", [
        "    s = 1.0/(1.0 + z)",
        "    return s if u >= 0.0 else z*s"]))
    parts.append(_kernel("_softplus_z", "u, z", "softplus(u) given z = exp(-|u|)", [
        "    y = (u if u > 0.0 else 0.0) + _k_log1p_unit(z)",
        "    return y if u == u else u"]))
    parts.append(_kernel("_softplus", "u", "log(1 + exp(u)) without overflow", [
        "    return _k_softplus_z(u, _k_exp(-abs(u)))"]))
    parts.append(_kernel("_tanh_softplus_z", "u, z", "tanh(softplus(u)) = ((1 + w)**2 - 1)/((1 + "
                         "w)**2 + 1), w = exp(u): in z = exp(-|u|) (1 + 2z)/(1 + 2z + 2z**2) for "
                         "u >= 0, z(z + 2)/(z(z + 2) + 2) below (no cancellation, one division)", [
        "    big = u >= 0.0",
        "    num = 1.0 + 2.0*z if big else z*(z + 2.0)",
        "    den = num + 2.0*z*z if big else num + 2.0",
        "    return num/den"]))
    # mish's local factor t + u*(1 - t**2)*sigmoid(u), t = tanh(softplus(u)), with the product
    # as 4z**2(1 + z)/den**2 (u >= 0) or 4z(1 + z)/den**2: no 1 - t**2 (it cancelled), no
    # sigmoid of its own; two divisions (a reciprocal of den and two multiplies ran 2% slower)
    parts.append(_kernel("_tanh_softplus_sech_z", "u, z", "(tanh(softplus(u)), "
                         "sech(softplus(u))**2*sigmoid(u)) given z = exp(-|u|)", [
        "    big = u >= 0.0",
        "    num = 1.0 + 2.0*z if big else z*(z + 2.0)",
        "    den = num + 2.0*z*z if big else num + 2.0",
        "    c = 4.0*((z*z if big else z)*(1.0 + z))",
        "    return (num/den, c/(den*den))"]))
    parts.append(_kernel("_tanh_softplus", "u", "tanh(softplus(u))", [
        "    return _k_tanh_softplus_z(u, _k_exp(-abs(u)))"]))
    parts.append(_kernel("_logaddexp", "a, b", "log(exp(a) + exp(b)) without overflow", [
        "    m = a if a > b else b",
        "    y = m + _k_log1p_unit(_k_exp(-abs(a - b)))",
        f"    return a + {_float(math.log(2))} if a == b else y"]))
    y0, y1 = -1 / 2, 1 / 3
    erf = ["    ax = abs(x)",
           "    z = ax*ax if ax < 1.0 else 1.0",
           "    u = 2.0*z - 1.0", *_estrin("u", monomial("erf_small"), "near"),
           "    near = ax*near",
           "    a = 1.0 if ax < 1.0 else (6.0 if ax > 6.0 else ax)",   # nan: 1
           "    y = (a - 3.0)/(a + 3.0)",
           f"    v = (2.0*y - {_float(y0 + y1)})*{_float(1 / (y1 - y0))}",
           *_estrin("v", monomial("erfcx_large"), "g"),
           # a*a = hi + lo exactly: ah keeps a's top 26 bits, so every product below is exact
           # (also when LLVM contracts a product and a sum into one fma)
           "    ah = _from_bits(_to_bits(a) & -134217728)",
           "    al = a - ah",
           "    hi = a*a",
           "    lo = ((ah*ah - hi) + 2.0*ah*al) + al*al",
           "    far = 1.0 - (_k_exp(-hi)*(1.0 - lo))*g",
           "    y = near if ax <= 1.0 else (far if ax < 6.0 else 1.0)",
           "    y = math.copysign(y, x)",
           "    return y if x == x else x"]
    parts.append(_kernel("_erf", "x", "the error function", erf))
    # the same given e = exp(-x**2) from the loop (gelu's local factor has it): no exp of
    # its own; e's relative error x**2*eps (x*x rounded) is at most 1e-15*erfc(x) in erf
    split = erf.index("    ah = _from_bits(_to_bits(a) & -134217728)")
    far = erf.index("    far = 1.0 - (_k_exp(-hi)*(1.0 - lo))*g")
    parts.append(_kernel("_erf_z", "x, e", "erf(x) given e = exp(-x**2)",
                         erf[:split] + ["    far = 1.0 - e*g"] + erf[far + 1:]))
    c = _ERFCX_C[0] / _ERFCX_C[1]
    y0, y1 = -1, (28 - c) / (28 + c)
    parts.append(_kernel("_erf1p_z", "x, e", "1 + erf(x) given e = exp(-x**2): erfc(|x|) = "
                         "e*erfcx(|x|) for x < 0 (no cancellation), 2 - that from 0 up", [
        "    ax = abs(x)",
        "    a = 28.0 if ax > 28.0 else ax",                    # nan: nan, so is the result
        f"    d = 1.0/(a + {_float(c)})",
        f"    y = (a - {_float(c)})*d",
        f"    v = (2.0*y - {_float(y0 + y1)})*{_float(1 / (y1 - y0))}",
        *_estrin("v", monomial("erfcx_all"), "g"),
        "    c = e*(g*d)",
        "    return c if x < 0.0 else 2.0 - c"]))
    return "\n\n".join(parts)
