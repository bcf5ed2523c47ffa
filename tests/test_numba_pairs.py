"""Tuple kernels for calls of one z = exp(-|u|) that repeated work (issue 13, nb17): the
kernels against mpmath, the identities they use proven, mish's rewritten local factor
proven and more accurate, mish's loops without a sigmoid, log_cosh's with one exp range
reduction."""
from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pytest
import sympy as sp

numba = pytest.importorskip("numba")

from derive.codegen.numba_pairs import Item, TanhSoftplusSechZ, sech_sigmoid
from derive.codegen.numba_printer import share_exp
from derive.codegen.stable import sigmoid, softplus
from derive.proof import prove_equal
from numeric import generated_numba as NB

_U = np.concatenate([np.linspace(-40.0, 40.0, 8001), np.geomspace(1e-300, 1.0, 151),
                     -np.geomspace(1e-300, 1.0, 151), [-700.0, -300.0, 300.0, 700.0]])


def _worst(items, refs):
    """The worst relative error of each item of ``items(v, z, m)`` (z = exp(-|v|), m =
    expm1(-|v|), correctly rounded) against ``refs(u)`` at 30 digits, over _U."""
    import mpmath
    worst = [0.0] * len(refs)
    with mpmath.workdps(30):
        for v in _U:
            u = mpmath.mpf(float(v))
            got = items(float(v), float(mpmath.exp(-abs(u))), float(mpmath.expm1(-abs(u))))
            for k, ref in enumerate(refs):
                want = ref(mpmath, u)
                if abs(want) > 1e-300:
                    worst[k] = max(worst[k], float(abs((got[k] - want) / want)))
    return worst


_LOGISTIC = [lambda mp, u: 1 / (1 + mp.exp(-u)), lambda mp, u: 1 / (1 + mp.exp(u)),
             lambda mp, u: mp.log1p(mp.exp(u)), lambda mp, u: mp.log1p(mp.exp(-u)),
             lambda mp, u: mp.tanh(u / 2)]


def test_logistic_items_against_mpmath():
    worst = _worst(lambda v, z, m: NB._k_logistic_zm(v, z, m), _LOGISTIC)
    assert max(worst) <= 1e-15, worst
    for v in _U[::50]:        # the first four: the one-item kernels' values (fma aside)
        z = math.exp(-abs(v))
        got = NB._k_logistic_zm(v, z, math.expm1(-abs(v)))[:4]
        want = (NB._k_sigmoid_z(v, z), NB._k_sigmoid_z(-v, z), NB._k_softplus_z(v, z),
                NB._k_softplus_z(-v, z))
        assert all(math.isclose(a, b, rel_tol=3e-16, abs_tol=1e-300) for a, b in zip(got, want))


def test_tanh_softplus_sech_against_mpmath():
    def sech2_sigmoid(mp, u):
        return mp.sech(mp.log1p(mp.exp(u))) ** 2 / (1 + mp.exp(-u))
    worst = _worst(lambda v, z, m: NB._k_tanh_softplus_sech_z(v, z),
                   [lambda mp, u: mp.tanh(mp.log1p(mp.exp(u))), sech2_sigmoid])
    assert max(worst) <= 1e-15, worst


def test_tuple_kernels_at_the_ends_and_nan():
    assert NB._k_logistic_zm(1000.0, 0.0, -1.0) == (1.0, 0.0, 1000.0, 0.0, 1.0)
    assert NB._k_logistic_zm(-1000.0, 0.0, -1.0) == (0.0, 1.0, 0.0, 1000.0, -1.0)
    assert NB._k_tanh_softplus_sech_z(1000.0, 0.0) == (1.0, 0.0)
    assert NB._k_tanh_softplus_sech_z(-1000.0, 0.0) == (0.0, 0.0)
    assert all(math.isnan(v) for v in NB._k_logistic_zm(math.nan, math.nan, math.nan))
    assert all(math.isnan(v) for v in NB._k_tanh_softplus_sech_z(math.nan, math.nan))


def test_the_kernels_identities_in_z():
    """The forms the kernels compute, with z = exp(-|u|) on each side of 0."""
    u = sp.Symbol("u", positive=True)
    for w, z in ((sp.exp(u), sp.exp(-u)), (sp.exp(-u), sp.exp(-u))):       # u > 0, then -u
        above = w == sp.exp(u)
        sig, tanh_sp = w / (1 + w), ((1 + w) ** 2 - 1) / ((1 + w) ** 2 + 1)
        sech2_sig = (1 - tanh_sp ** 2) * sig
        den = 1 + 2 * z + 2 * z ** 2 if above else z * (z + 2) + 2
        assert sp.simplify(sech2_sig - 4 * z ** (2 if above else 1) * (1 + z) / den ** 2) == 0
        assert sp.simplify(tanh_sp - ((1 + 2 * z) if above else z * (z + 2)) / den) == 0
    # tanh(u/2) = -m/(1 + z), m = expm1(-u) = z - 1
    z = sp.exp(-u)
    assert sp.simplify((-(z - 1) / (1 + z) - sp.tanh(u / 2)).rewrite(sp.exp)) == 0


def test_mish_local_factor_rewrite_is_proven():
    x = sp.Symbol("x", real=True)
    t, s = sp.tanh(softplus(x)), sigmoid(x)
    local = -t ** 2 * (x * s) + t + x * s                     # mish's cache, as planned
    out, new = sech_sigmoid(share_exp([t * x, local]))
    kernel = TanhSoftplusSechZ(x, sp.exp(-sp.Abs(x)))
    assert new == Item(0, kernel) + x * Item(1, kernel) and out == x * Item(0, kernel)
    back = {Item(0, kernel): t, Item(1, kernel): (1 - t ** 2) * s}
    assert prove_equal(new.xreplace(back), local)
    # a polynomial where sigmoid is left over is not rewritten (no division less)
    other = share_exp([t ** 2 * s + t])
    assert sech_sigmoid(other) == other


def test_mish_local_factor_is_accurate_where_it_cancelled():
    """t + x(1 - t**2)s had 1 - t**2 and t**2*x*s - x*s cancelling: 5.5e-15 at x = 18;
    relative to the size of its terms (it is 0 near x = -1.19)."""
    import mpmath
    x = np.concatenate([np.linspace(-40.0, 40.0, 4001), np.linspace(-700.0, 700.0, 141)])
    layer = NB.Mish()
    layer.forward(x)
    worst = 0.0
    with mpmath.workdps(30):
        for xi, got in zip(x, layer.local):
            v = mpmath.mpf(float(xi))
            sp_ = mpmath.log1p(mpmath.exp(v))
            t, term = mpmath.tanh(sp_), v * mpmath.sech(sp_) ** 2 / (1 + mpmath.exp(-v))
            worst = max(worst, float(abs(got - (t + term)) / max(abs(t + term), abs(t), abs(term))))
    assert worst <= 1.5e-15, worst


def test_mish_loops_compute_no_sigmoid():
    """t + x*p from one kernel: no _k_sigmoid_z (its division) nor a second tanh(softplus)."""
    for loop in (NB._mish_forward_loop, NB._mish_backward_loop):
        src = inspect.getsource(loop.py_func)
        assert src.count("_k_tanh_softplus_sech_z(") == 1 and src.count("_k_exp(") == 1
        assert "_k_sigmoid_z(" not in src and "_k_tanh_softplus_z(" not in src


def test_log_cosh_forward_computes_one_exp_reduction():
    """softplus(2(t - x)) and tanh(t - x) from exp(-2|t - x|) and its expm1, one call."""
    src = inspect.getsource(NB._log_cosh_forward_loop.py_func)
    assert src.count("_k_exp_expm1(") == 1 and src.count("_k_logistic_zm(") == 1
    assert "_k_tanh(" not in src and "_k_exp(" not in src


@pytest.mark.parametrize("name", ["Mish", "LogCosh"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_changed_layers_are_finite_and_quiet_at_the_ends(name, dtype):
    x = np.array([-1000.0, -745.5, -40.0, -1e-300, 0.0, 1e-300, 40.0, 709.0, 1000.0], dtype)
    cls = getattr(NB, name)
    xs = [x] if name == "Mish" else [x, x[::-1].copy()]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            layer = cls()
            out = layer.forward(*xs)
            grads = layer.backward(np.ones_like(x))
    grads = grads if isinstance(grads, tuple) else (grads,)
    assert out.dtype == dtype and all(g.dtype == dtype for g in grads)
    assert np.isfinite(out).all() and all(np.isfinite(g).all() for g in grads)
