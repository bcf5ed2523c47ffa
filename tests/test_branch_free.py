"""Branch-free forms of the x - t losses (issue 13): smooth L1's and Huber's selects become
clips (``sign clip``, ``clipped select`` in derive.codegen.stable), each proven, with no
loss of accuracy at the tails or near 0, and a wrong candidate is never kept."""
from __future__ import annotations

import inspect
import warnings

import mpmath
import numpy as np
import pytest
import sympy as sp

from derive.codegen.stable import stable_form
from derive.codegen.stable_selects import _clipped_select, _sign_clip
from numeric import generated

from helpers import statements

x, t = sp.Symbol("x", real=True), sp.Symbol("t", real=True)
beta = sp.Symbol("beta", positive=True)


def _huber(z, d):
    a = abs(z)
    return z * z / 2 if a < d else d * (a - d / 2)


def _smooth_l1(z, b):
    a = abs(z)
    return z * z / (2 * b) if a < b else a - b / 2


@pytest.mark.parametrize("name, want, cls", [("huber", _huber, generated.Huber),
                                             ("smooth_l1", _smooth_l1, generated.SmoothL1)])
@pytest.mark.parametrize("k", [1.0, 0.3, 2.5])
def test_losses_are_branch_free_and_accurate(name, want, cls, k):
    fn = getattr(generated, f"{name}_backward")
    for code in (statements(cls.forward), statements(fn)):
        assert "putmask" not in code and "where" not in code and "sign" not in code, code
    rng = np.random.default_rng(1)
    z = np.concatenate([rng.uniform(-4, 4, 200), 10.0 ** rng.uniform(-150, 0, 200)
                        * rng.choice([-1, 1], 200), [k, -k, k * (1 - 2**-52), k * (1 + 2**-52),
                                                     1e3, -1e3, 1e300, -1e300, 0.0]])
    tt = rng.uniform(-1, 1, z.size) * (np.abs(z) > 1e-3)    # tiny z kept exactly
    xx = z + tt
    z = xx - tt                      # the difference the layer sees, exactly
    layer = cls(k)
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        out = layer.forward(xx, tt)
        dx, dt = layer.backward(np.ones_like(z))
        fx, ft = fn(np.ones_like(z), xx, tt, k)
    mpmath.mp.dps = 40
    for got, zi in zip(out, z):
        ref = want(mpmath.mpf(float(zi)), mpmath.mpf(k))
        assert abs(mpmath.mpf(float(got)) - ref) <= 4e-16 * abs(ref), (zi, got, ref)
    slope = np.clip(z, -k, k) / (k if name == "smooth_l1" else 1.0)
    np.testing.assert_allclose(dx, slope, rtol=4e-16, atol=0)
    np.testing.assert_array_equal(dt, -dx)
    np.testing.assert_array_equal(fx, dx)
    np.testing.assert_array_equal(ft, dt)


def test_a_clip_that_is_not_equal_is_not_kept():
    """x below 1, sign(x) above: clip(x, -1, 1) differs for x < -1 (the prover says so)."""
    wrong = sp.Piecewise((x, x < 1), (sp.sign(x), True))
    assert _sign_clip(wrong) != wrong            # the candidate is offered ...
    kept, applied = stable_form(wrong)
    assert kept == wrong and "sign clip" not in applied     # ... and refused


def test_clipped_select_keeps_only_sums_that_cannot_cancel():
    a = sp.Abs(x - t)
    ok = sp.Piecewise(((x - t)**2 / (2 * beta), beta > a), (a - beta / 2, True))
    assert not _clipped_select(ok).has(sp.Piecewise)
    falling = sp.Piecewise(((x - t)**2 / 2, 1 > a), (sp.Rational(3, 2) - a, True))
    assert _clipped_select(falling) == falling       # h1 < 0: the two terms could cancel
    negative = sp.Piecewise((-(x - t)**2, 1 > a), (2 * a - 3, True))
    assert _clipped_select(negative) == negative     # g < 0
    through_x = sp.Piecewise((x * a, 1 > a), (a, True))
    assert _clipped_select(through_x) == through_x   # a branch reads x besides |x - t|


def test_celu_caches_one_exp_without_a_select():
    """where(x > 0, 1, exp(min(x, 0)/alpha)) is exp(min(x, 0)/alpha) (proven, boundary too)."""
    code = statements(generated.Celu.forward)
    assert "putmask" not in code and "mask" not in code and code.count("_np_exp(") == 1, code
    x = np.array([-1000.0, -3.0, -1e-300, 0.0, 5e-324, 2.0, 1000.0])
    for alpha in (1.0, 0.5, 3.0):
        layer = generated.Celu(alpha)
        with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
            warnings.simplefilter("error")
            layer.forward(x)
            g = layer.backward(np.ones_like(x))
        want = [1.0 if v > 0 else float(mpmath.exp(mpmath.mpf(v) / alpha)) for v in x]
        # x*(1/alpha): exp's argument off by |x|*1e-16 (1.9e-14 relative at -1000/3)
        np.testing.assert_allclose(g, want, rtol=1e-13, atol=0)


# where(c, f*a, f*b) lowered as f*(b/f*~c + c) (derive.codegen.lower_select._factored):
# the select of each backward, written out with np.where, and how far apart they may be
_FACTORED = {
    "leaky_relu": (lambda dout, v: np.where(v > 0, dout, 0.01 * dout), 0.0),
    "elu": (lambda dout, v: np.where(v > 0, dout, dout * (1.0 + v)), 0.0),
    # the scale moved out of scale*alpha: one more rounding
    "selu": (lambda dout, v: np.where(v > 0, 1.0507009873554805 * dout,
                                      1.7580993408473768 * np.exp(np.minimum(v, 0.0)) * dout),
             4.5e-16),
}


@pytest.mark.parametrize("name", sorted(_FACTORED))
def test_factored_selects_are_branch_free_and_keep_the_values(name):
    fn = getattr(generated, f"{name}_backward")
    code = statements(fn)
    assert "putmask" not in code and "where(" not in code and "mask" in code
    select, rtol = _FACTORED[name]
    x = np.concatenate([np.linspace(-8.0, 8.0, 4001), [0.0, -0.0, 1e-300, -1e-300, 700.0,
                                                         -700.0]])
    dout = np.random.default_rng(3).uniform(-2.0, 2.0, x.size)
    dout[:4] = [np.inf, -np.inf, 0.0, -0.0]         # at x = -8: both branches take dout's inf
    # at +-1e-300 and 700 (at -700 ELU's factor is 0 and inf*0 nan, select or not)
    dout[-4:-1] = [np.inf, -np.inf, np.inf]
    layer = next(c for c in vars(generated).values() if isinstance(c, type)
                 and f":func:`{name}_backward`" in (c.__doc__ or ""))()
    out = layer.forward(x)
    v = out if "out" in inspect.signature(fn).parameters else x
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        got = fn(dout, v)
    want = select(dout, v)
    finite = np.isfinite(want)
    assert np.array_equal(got[~finite], want[~finite])
    np.testing.assert_allclose(got[finite], want[finite], rtol=rtol, atol=0)
    # the class caches its factor from x (ELU's alpha*exp(x), not out + alpha): it agrees
    # within the function's rounding of out + alpha (0 for x < -37, where out is -alpha)
    np.testing.assert_allclose(layer.backward(dout)[finite], want[finite], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("alpha", [1.0, 0.25, 3.0])
def test_celu_backward_clamps_instead_of_selecting(alpha):
    """``where(out > 0, dout, dout*(1 + out/alpha))`` as ``dout*(1 + min(out, 0)/alpha)``
    (clamp select): no select in the code, and bit for bit the select's values (on
    out > 0 it is dout*(1 + 0), dout exactly), at ±1000 and at the kink too."""
    code = statements(generated.celu_backward)
    assert "putmask" not in code and "where" not in code, code
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.uniform(-6, 6, 300), [-1000.0, 1000.0, 0.0, -0.0, 1e-300, -1e-300]])
    out = generated.Celu(alpha).forward(x)
    dout = rng.standard_normal(x.size)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = generated.celu_backward(dout, out, alpha)
    want = np.where(out > 0, dout, dout * (1 + out * alpha**-1.0))
    assert got.tobytes() == want.tobytes()
