"""The exported code on random forwards: a derandomized slice of ``bench/fuzz_export.py``,
the checker itself able to say no, and the export bugs it found.

Each forward is exported through ``derive export --expr`` (NumPy backend), its class run,
and out and every gradient compared with the formula evaluated at 50 digits (out) and its
50-digit central differences (gradients), at random points and at ±1000, ±30, ±1e-300, 0.
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import fuzz_export  # noqa: E402
from grammar_strategies import Formula  # noqa: E402

SLICE = 40          # examples; about 10 s on one core


def _examine(text, inputs, tmp_path, index=1):
    (result,) = fuzz_export.examine(Formula(text, inputs), ["numpy"], tmp_path, index)
    return result


def test_the_checker_says_no_to_a_wrong_module(tmp_path):
    """A module whose backward is off by a factor (and one whose forward warns) is flagged:
    the checker compares with the formula, not with what the module computes."""
    import grammar_oracle as O

    from derive.parse import parse

    class Wrong:
        def forward(self, x):
            self.x = x
            with np.errstate(over="warn"):
                return np.tanh(x) + 0 * np.minimum(np.exp(2 * x), 1.0)   # warns at 1000

        def backward(self, dout):
            return 0.5 * dout * (1 - np.tanh(self.x) ** 2)

    module = type(sys)("wrong")
    module.Fz = Wrong
    forward = parse("np.tanh(x)")
    import random
    chosen = fuzz_export._points(forward, O.switches(forward), ("x",), random.Random(0), 4)
    failures, counts = fuzz_export.check(module, forward, ("x",), chosen)
    assert counts["random"] == 4 and counts["extreme"] >= 5
    assert any(f.startswith("d/dx at") for f in failures)
    assert any(f.startswith("warning at x = 1000") for f in failures)
    assert not any(f.startswith("forward at") for f in failures)


def test_a_condition_that_is_a_select_of_conditions_exports(tmp_path):
    """np.minimum(np.fmin(t <= 0, y + t), y): SymPy folds the conditions into an ITE (a
    select of conditions), which the lowering read as a comparison (AttributeError 'lhs',
    surfacing as a TypeError in share_work): now spelt as & | ~ of the comparisons."""
    for text, inputs in (("np.minimum(np.fmin((t <= 0), (y + t)), y)", ("t", "y")),
                         ("np.where(((x < 0) < x), y, x)", ("x", "y")),
                         ("min(np.where((np.e <= t), t, y), (-t))", ("t", "y"))):
        r = _examine(text, inputs, tmp_path)
        assert r.status == "checked", (text, r.status, r.message, r.failures)
        assert r.checked["random"] > 0 and r.checked["extreme"] > 0


def test_a_shared_value_that_is_nan_where_dropped_is_selected_not_blended(tmp_path):
    """max(x, x/x)**x is where(x >= 1, x**x, 1): x**x is shared (cse: t0) with the cached
    factor, and the blend t0*~mask + mask took the name t0 for a finite value; x**x is nan
    for x < 0, so out was nan at x = -0.42 where it is 1 (and x**x warned: it is read
    inside the selects only, so it is computed without warnings). Likewise (t < x)/(t + t):
    its gradient at t = 1e-300 (where the mask is 0) was nan, now 0."""
    r = _examine("(max(x, numpy.true_divide(x, x)) ** x)", ("x",), tmp_path, 2)
    assert not [f for f in r.failures if f.startswith(("forward", "d/d"))], r.failures
    layer = fuzz_export._export("(max(x, numpy.true_divide(x, x)) ** x)", "x", "numpy",
                                tmp_path, 3)[2].Fz()
    x = np.array([-0.42, -3.0, 0.5, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # x**x, read by the selects only, is computed quietly
        out = layer.forward(x)
        layer.backward(np.ones_like(x))
    assert np.array_equal(out, [1.0, 1.0, 1.0, 4.0])
    module = fuzz_export._export("(((t < x) / numpy.add(t, t)) + 1)", "x,t", "numpy", tmp_path, 4)[2]
    layer = module.Fz()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer.forward(np.array([-2.5, 1.0]), np.array([1e-300, 0.5]))
        _, dt = layer.backward(np.ones(2))
    assert dt[0] == 0.0 and dt[1] == -1.0 / (2 * 0.25)


def test_a_derandomized_slice_has_no_traceback_and_no_wrong_number():
    """No traceback, no wrong out or gradient; warnings are reported by the benchmark (the
    dropped branch of a select that overflows is still computed: see the note)."""
    results = fuzz_export.fuzz(SLICE, ["numpy"], derandomize=True)
    assert len(results) == SLICE
    status = {r.status for r in results}
    assert "traceback" not in status, [(r.text, r.message) for r in results if r.status == "traceback"]
    wrong = [(r.text, f) for r in results for f in r.failures if f.startswith(("forward", "d/d"))]
    assert not wrong, wrong
    assert sum(r.checked["random"] for r in results) > 2 * SLICE


def test_a_dropped_branch_that_overflows_does_not_warn(tmp_path):
    """np.where(x < 1, 0.5*x, np.sinh(x)) at x = -1000: sinh overflows in the branch the
    select drops; the result is finite, and NumPy's overflow warning was about nothing.
    Where the branch is taken (x = 1000) the result is inf, as NumPy's is."""
    module = fuzz_export._export("np.where(x < 1, 0.5*x, np.sinh(x))", "x", "numpy", tmp_path, 5)[2]
    layer = module.Fz()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = layer.forward(np.array([-1000.0, 0.5, 3.0]))
        dx = layer.backward(np.ones(3))
    assert np.array_equal(out, [-500.0, 0.25, np.sinh(3.0)])
    assert np.allclose(dx, [0.5, 0.5, np.cosh(3.0)], rtol=1e-15, atol=0)
    with np.errstate(over="ignore"):
        assert np.isposinf(layer.forward(np.array([1000.0]))[0])


def test_a_rewrite_wrong_for_negative_inputs_is_not_proven():
    """sqrt(x**2 + erf(x >= 0)**2) was "proven" equal to sqrt(x**2 + erf(1)**2) (branch sum):
    the proof read SymPy's x**2.rewrite(exp), exp(2*log(x)), real for x > 0 only, and so
    compared the two forms on x > 0 alone. The stable form now keeps the select."""
    import sympy as sp

    from derive.codegen.stable import stable_form
    from derive.parse import parse
    forward = parse("math.hypot(numpy.erf((0 <= x)), x)")
    stable, applied = stable_form(forward)
    (x,) = forward.free_symbols
    for v in (-2.0, -0.5, 0.5, 2.0):
        assert abs(float(stable.subs(x, v)) - float(forward.subs(x, v))) < 1e-15, (v, stable)
    assert "branch sum" not in applied
    assert sp.Piecewise in {type(a) for a in sp.preorder_traversal(stable)}


def test_masks_shared_by_name_still_guard_an_infinite_factor(tmp_path):
    """where((t > e) & (t <= x), t*log(x), e*x + 2): the gradient's t*[t - x <= 0]*[t > e]/x had
    the mask [t > e] shared (cse) as a name, so only [t - x <= 0] guarded t/x, and at x = 0
    (t < e: the gradient is e) 0*inf gave nan. A comparison of arccos(x) (not real for
    |x| > 1) crashed a select's sampling (TypeError): it exports now."""
    text = "np.where(((~(t <= np.e)) & ((t <= np.e) | (t <= x))), (math.log(x) * t), ((x * np.e) + rint(2.5)))"
    module = fuzz_export._export(text, "x,t", "numpy", tmp_path, 6)[2]
    layer = module.Fz()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer.forward(np.array([0.0, 4.0, 1.0]), np.array([-1.3, 3.0, 5.0]))
        dx, dt = layer.backward(np.ones(3))
    assert np.allclose(dx, [np.e, 3.0 / 4.0, np.e], rtol=1e-15, atol=0)
    assert np.allclose(dt, [0.0, np.log(4.0), 0.0], rtol=1e-15, atol=0)
    r = _examine("fmin(t, fmin(arccos(x), t))", ("x", "t"), tmp_path, 7)
    assert r.status == "checked", (r.status, r.message)


def test_numba_and_jax_guard_an_infinite_factor_and_take_constant_softplus(tmp_path):
    """The same forward on the numba and jax backends, which printed the masks as 0/1
    values (t*[t > e]*[t - x <= 0]/x: nan at x = 0, where the gradient is e); and a
    forward with softplus of a constant (np.logaddexp(0, 1.05)), whose exp(-1.05) has no
    |u| to pair with (StopIteration in the numba pairing)."""
    import pytest
    pytest.importorskip("numba")
    pytest.importorskip("jax")
    for text, inputs in (("np.where(((~(t <= np.e)) & ((t <= np.e) | (t <= x))), "
                          "(math.log(x) * t), ((x * np.e) + rint(2.5)))", ("x", "t")),
                         ("np.where((((x < y) | (y < t)) & (t < 1.5)), ((1.0507009873554805 * y)"
                          " - (x ** 1.5)), (fmin(0, t) + (np.pi <= t)))", ("x", "t", "y")),
                         ("((np.where((y < x), y, 0) - numpy.logaddexp(0, 1.0507009873554805))"
                          " - x)", ("x", "y"))):
        results = fuzz_export.examine(Formula(text, inputs), ["numpy", "numba", "jax"], tmp_path, 8)
        for r in results:
            assert r.status == "checked", (r.backend, text, r.status, r.message, r.failures)
            assert r.checked["random"] > 0 and r.checked["extreme"] > 0


def test_an_operand_read_after_its_buffer_is_reused_keeps_its_value(tmp_path):
    """t + np.logaddexp2(-t, x): the cached factor t0/(t0 + 1), t0 = 2**(t + x), was lowered
    np.add(t0, 1.0, out=t0) then np.divide(t0, t0): the sum counted as t0's last reader,
    but the bare t0 of the quotient is read when the divide runs. Every gradient was 1."""
    module = fuzz_export._export("(t + np.logaddexp2((0 - t), x))", "x,t", "numpy", tmp_path, 9)[2]
    layer = module.Fz()
    x, t = np.array([-0.45, 0.07, 2.9]), np.array([-1.41, 0.28, -0.35])
    layer.forward(x, t)
    dx, dt = layer.backward(np.ones(3))
    want = 2.0 ** (t + x) / (2.0 ** (t + x) + 1)
    assert np.allclose(dx, want, rtol=1e-15, atol=0) and np.allclose(dt, want, rtol=1e-15, atol=0)


def test_a_comparison_that_is_not_real_is_an_error_not_a_traceback(tmp_path):
    """heaviside(arccos(x), x): choosing the cached form compared arccos(2) < 0 (SymPy's
    TypeError, a traceback from derive export); that form is now passed over, and what
    cannot be proven is exit 3 with its message."""
    r = _examine("(heaviside(x, x) + heaviside(arccos(x), x))", ("x",), tmp_path, 10)
    assert r.status in ("checked", "exit 2", "exit 3"), (r.status, r.message, r.failures)
    assert r.status == "checked" or r.message


def test_a_masked_sum_times_an_infinite_factor_inside_a_mask(tmp_path):
    """where((t < 2) & ((x >= 1.67) | (t < x)), log(x) + t, e*x + 2): the gradient's
    ([x >= 1.67] + [x < 1.67]*[t - x < 0])*[t < 2]/x became one select on t < 2 around
    (masked sum)/x, 0*inf = nan at x = 0 (where the gradient is e), on all three backends."""
    import pytest
    text = ("np.where(((~(t >= 2)) & ((1.6732632423543772 <= x) | (t < x))), (math.log(x) + t),"
            " ((x * np.e) + rint(2.5)))")
    backends = ["numpy"] + [b for b in ("numba", "jax") if _importable(b)]
    for r in fuzz_export.examine(Formula(text, ("x", "t")), backends, tmp_path, 11):
        assert not [f for f in r.failures if f.startswith(("forward", "d/d"))], (r.backend, r.failures)
        assert r.status in ("checked", "failed"), (r.backend, r.status, r.message)
    module = fuzz_export._export(text, "x,t", "numpy", tmp_path, 12)[2]
    layer = module.Fz()
    layer.forward(np.array([0.0, 2.0]), np.array([0.38, 1.0]))
    dx, _ = layer.backward(np.ones(2))
    assert dx[0] == pytest.approx(np.e, rel=1e-15) and dx[1] == pytest.approx(0.5, rel=1e-15)


def _importable(name):
    import importlib.util
    return importlib.util.find_spec(name) is not None


def test_a_logistic_factor_inside_a_select_is_written_with_sigmoids(tmp_path):
    """t**where(pi >= t, sigmoid(y), -t): d/dy's factor out*exp(y)*log(t)/(exp(y) + 1)**2 sits
    in a branch, where the sigmoid rewrite (which looks at a whole expression) did not see it:
    inf/inf = nan at y = 1000, where the gradient is 0, on all three backends. Each branch of
    a select is now rewritten as a whole expression is."""
    text = "(t ** np.where((np.pi >= t), sigmoid(y), (-t)))"
    backends = ["numpy"] + [b for b in ("numba", "jax") if _importable(b)]
    for r in fuzz_export.examine(Formula(text, ("t", "y")), backends, tmp_path, 13):
        assert r.status == "checked", (r.backend, r.status, r.message, r.failures)
    module = fuzz_export._export(text, "t,y", "numpy", tmp_path, 14)[2]
    layer = module.Fz()
    t, y = np.array([1.67, 1.67, 2.0]), np.array([1000.0, -1000.0, 0.0])
    layer.forward(t, y)
    _, dy = layer.backward(np.ones(3))
    assert dy[0] == 0.0 and dy[1] == 0.0
    assert abs(dy[2] - 2.0 ** 0.5 * np.log(2.0) / 4) <= 1e-15


def test_a_value_read_only_by_a_branch_through_another_shared_value_is_quiet(tmp_path):
    """Two forwards whose NumPy code warned where the value was right: sqrt(x) shared by a
    branch and by a mask product (the gradient's [x > e]/(2 sqrt x)), and 1/t read only by
    t2 = 2**(-t)/t**2, which only a branch reads; both are computed quietly now. And the
    checker does not compare a derivative with differences at a switch (x = t = 1000 of
    1/clip(max(t, 0.01), t, x))."""
    for text, inputs in (("np.where(np.logical_or((~(x <= np.e)), (~(y >= np.e))), (sqrt(x) - 2.5),"
                          " (np.where((y <= x), x, np.pi) - x))", ("x", "y")),
                         ("np.where(((1.6732632423543772 < t) | np.logical_not((t <= y))), t,"
                          " numpy.divide((0.5 ** t), (t * t)))", ("t", "y")),
                         ("np.reciprocal(clip(numpy.clip(t, 0.01, t), t, x))", ("x", "t"))):
        r = _examine(text, inputs, tmp_path, 15)
        assert r.status == "checked", (text, r.status, r.message, r.failures)
        assert r.checked["extreme"] > 0
    module = fuzz_export._export("np.where(x > 1, np.sqrt(x), 0.5*x + 0.5)", "x", "numpy", tmp_path, 16)[2]
    layer = module.Fz()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = layer.forward(np.array([-4.0, 4.0]))
        dx = layer.backward(np.ones(2))
    assert out.tolist() == [-1.5, 2.0] and dx.tolist() == [0.5, 0.25]


def test_quiet_blocks_next_to_each_other_are_one(tmp_path):
    """Two shared values computed quietly one after the other (2**(-t), then 2**(-t)/t**2)
    share one np.errstate block (~1 us each): no block follows another with only names
    given to values (t1 = tmp1) between them."""
    import re
    path = fuzz_export._export("np.where(((1.6732632423543772 < t) | np.logical_not((t <= y))), t,"
                               " numpy.divide((0.5 ** t), (t * t)))", "t,y", "numpy", tmp_path, 17)[2].__file__
    lines = Path(path).read_text().splitlines()
    header = re.compile(r"(\s*)with _np_errstate\(all=\"ignore\"\):")
    blocks = 0
    for i, line in enumerate(lines):
        m = header.fullmatch(line)
        if not m:
            continue
        blocks += 1
        j = i + 1
        while lines[j].startswith(m.group(1) + "    "):
            j += 1
        while re.fullmatch(re.escape(m.group(1)) + r"\w+ = \w+", lines[j]):
            j += 1
        assert not header.fullmatch(lines[j]), (i, lines[i:j + 1])
    assert blocks >= 2
    # a quiet value inside another's computation (sqrt(x) under a logaddexp, in a select):
    # the inner one is covered by the outer block, not joined to an earlier one (that
    # re-indented lines already in a block: an IndentationError in the written module)
    text = "((numpy.clip(np.e, y, t) - (1.6732632423543772 ** (-1))) * np.logaddexp(numpy.sqrt(x), y))"
    backends = ["numpy"] + [b for b in ("numba", "jax") if _importable(b)]
    for r in fuzz_export.examine(Formula(text, ("x", "t", "y")), backends, tmp_path, 22):
        assert r.status == "checked", (r.backend, r.status, r.message, r.failures)


def test_a_rewrite_undefined_where_the_select_is_zero_is_refused(tmp_path):
    """float_power(x**(x < 0), y): d/dy = where(x < 0, out*log(x), 0) was rewritten by
    *branch sum* to out*log(min(x, 0)), "proven" because the prover compares where both
    sides are defined: -inf at every x >= 0, where the gradient is 0. A rewrite that needs
    a condition (min(x, 0) > 0) the expression before does not is now refused."""
    module = fuzz_export._export("numpy.float_power((x ** (x < 0)), y)", "x,y", "numpy", tmp_path, 18)[2]
    layer = module.Fz()
    layer.forward(np.array([2.0, 1000.0, -2.0]), np.array([0.7, 0.7, 2.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # (-2)**(2 - 1)... is real; log(-2) is not
        _, dy = layer.backward(np.ones(3))
    assert dy[0] == 0.0 and dy[1] == 0.0


def test_products_of_powers_and_logs_of_products_stay_finite(tmp_path):
    """Three forwards with inf*0 or log(0) at the extremes where the exact values are
    finite, found by the export fuzz (seed 22): where(c, exp(x), 2**1.5) cached exp(x)
    alone and multiplied it by masks in backward (inf*0 = nan at x = 1000 where the
    select is the constant: d/dx is 0); x**(x/x**x) multiplied x**x by x**(-x - 1) on
    numba; log(0.01/3**t) was log(0) at t = 1000. Each now checks on every backend."""
    backends = ["numpy"] + [b for b in ("numba", "jax") if _importable(b)]
    for text, inputs in (("np.where((((1.0507009873554805 < y) | (y > x)) & (2.5 < t)),"
                          " numpy.exp(x), ((2 ** 0.5) ** 3))", ("x", "t", "y")),
                         ("np.power(x, (x / numpy.power(x, x)))", ("x",)),
                         ("log((np.where((t >= 0.01), 0.01, y) / (3 ** t)))", ("t", "y"))):
        for r in fuzz_export.examine(Formula(text, inputs), backends, tmp_path, 19):
            assert r.status == "checked", (r.backend, text, r.status, r.message, r.failures)
            assert r.checked["extreme"] > 0
    module = fuzz_export._export("log((np.where((t >= 0.01), 0.01, y) / (3 ** t)))", "t,y",
                                 "numpy", tmp_path, 20)[2]
    out = module.Fz().forward(np.array([1000.0]), np.array([1.0]))
    assert abs(out[0] - (np.log(0.01) - 1000.0 * np.log(3.0))) <= 1e-12 * abs(out[0])


def test_a_mask_read_on_out_is_not_rewritten_as_a_factor(tmp_path):
    """heaviside(e + x, x): the cached mask's entry is a condition on out, which the
    from-the-input rewrite took for a factor and sent to the prover (TypeError:
    Piecewise - And, a traceback from derive export on every backend)."""
    backends = ["numpy"] + [b for b in ("numba", "jax") if _importable(b)]
    for r in fuzz_export.examine(Formula("np.heaviside((np.e + x), float(x))", ("x",)),
                                 backends, tmp_path, 21):
        assert r.status == "checked", (r.backend, r.status, r.message, r.failures)


def test_an_infinite_result_is_not_close_to_a_finite_one():
    """inf - 0 <= rtol*(inf + 0) is True: the checker passed every infinite gradient (and
    every NaN-free infinite forward) until an infinity matched only itself."""
    assert not fuzz_export._close(float("inf"), 0.0, 1e-7, 1e-12)
    assert not fuzz_export._close(float("-inf"), float("inf"), 1e-7, 1e-12)
    assert not fuzz_export._close(float("nan"), 1.0, 1e-7, 1e-12)
    assert fuzz_export._close(float("inf"), float("inf"), 1e-7, 1e-12)
    assert fuzz_export._close(1.0, 1.0 + 1e-9, 1e-7, 1e-12)


def test_a_branch_sum_that_divides_by_zero_where_the_select_is_zero_is_refused(tmp_path):
    """where(x < 0, 0, log(x)): d/dx = where(x >= 0, dout/x, 0) was written dout/max(0, x)
    (*branch sum*), inf at every x < 0 where the gradient is 0, "proven" because the
    cross-check skipped the points where one side divides by zero. Such a point now
    refutes (found once the checker stopped calling inf close to 0)."""
    module = fuzz_export._export("np.where(x < 0, 0, np.log(x))", "x", "numpy", tmp_path, 22)[2]
    layer = module.Fz()
    x = np.array([-1000.0, -1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(divide="warn", invalid="warn", over="warn"):
            layer.forward(x)
            dx = layer.backward(np.ones(3))
            dx_fn = module.fz_backward(np.ones(3), x)
    assert list(dx[:2]) == [0.0, 0.0] and abs(dx[2] - 0.5) <= 1e-15
    assert list(dx_fn[:2]) == [0.0, 0.0] and abs(dx_fn[2] - 0.5) <= 1e-15
    assert _examine("np.where(x < 0, 0, np.log(x))", ("x",), tmp_path, 23).status == "checked"


def test_a_select_is_not_turned_into_a_product_with_an_infinite_factor(tmp_path):
    """where(x < 0, 0, x*exp(y)): *clipped select* wrote the forward exp(y)*max(x, 0) and
    *branch sum* d/dy dout*exp(y)*max(0, x): inf*0 = nan at x < 0, y = 1000, where the
    select is 0 (forward and gradients nan on numpy; found once the fuzz put the other
    inputs at the mirror image of its random point too). Those rules now multiply the
    clamped 0 only by factors finite by their form."""
    backends = ["numpy"] + [b for b in ("numba", "jax") if _importable(b)]
    for text in ("np.where(x < 0, 0, x*np.exp(y))", "np.where(x > 0, 0, x*np.exp(-y))"):
        for r in fuzz_export.examine(Formula(text, ("x", "y")), backends, tmp_path, 24):
            assert r.status == "checked", (r.backend, text, r.status, r.message, r.failures)
    module = fuzz_export._export("np.where(x < 0, 0, x*np.exp(y))", "x,y", "numpy", tmp_path, 25)[2]
    layer = module.Fz()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="warn", invalid="warn"):
            out = layer.forward(np.array([-1.0, 1.0]), np.array([1000.0, 2.0]))
            dx, dy = layer.backward(np.ones(2))
    assert out[0] == 0.0 and dx[0] == 0.0 and dy[0] == 0.0
    assert abs(out[1] - np.exp(2.0)) <= 1e-15 * out[1] and abs(dy[1] - np.exp(2.0)) <= 1e-15 * out[1]


def test_expm1_is_not_introduced_for_an_exp_that_is_not_there(tmp_path):
    """2*x + erfc(x): d/dx = 2 - 2*exp(-x**2)/sqrt(pi) came out of SymPy's expm1 optimizer
    as 2*(sqrt(pi)*expm1(x**2) + sqrt(pi) - 1)*exp(-x**2)/sqrt(pi), equal but inf*0 = nan
    from |x| = 27 on, on every backend (export fuzz, seed 26). expm1(u) is now kept only
    for an exp(u) - 1 that is there (ELU's, exp(x) - 1's)."""
    backends = ["numpy"] + [b for b in ("numba", "jax") if _importable(b)]
    for r in fuzz_export.examine(Formula("(x + (scipy.special.erfc(x) + (0 + x)))", ("x",)),
                                 backends, tmp_path, 26):
        assert r.status == "checked", (r.backend, r.status, r.message, r.failures)
        assert r.checked["extreme"] >= 4
    module = fuzz_export._export("np.exp(x) - 1", "x", "numpy", tmp_path, 27)[2]
    out = module.Fz().forward(np.array([1e-20]))
    assert out[0] == 1e-20          # expm1 still: exp(1e-20) - 1 is 0 in float64


def test_rewrites_keep_a_mask_guarding_a_factor_that_is_not_real(tmp_path):
    """Three forwards from the export fuzz (seeds 27, 28), on every backend:
    sqrt(max(0, x)): *branch sum* dropped the mask of dout*[x > 0]/(2*sqrt(max(0, x))),
    which SymPy reads as 0*(1/0), undefined, like the rewrite: inf at x < 0 where it is 0
    (masks are now read as the selects the code makes of them); where((3 <= x) > -x,
    -sqrt(x), 2.5): [x > 0]*[x < 3] became [x < 3] in front of 1/sqrt(x), nan at x < 0,
    "proven" because complex values never refute (a rewrite may not turn a real value
    into nan: crosscheck.real_lost); where(x <= y, x, 0.044715) was 0.044715*(22.36*x*c
    + ~c), which is not x (forward 4e284 for (that - x)/t at t = 1e-300)."""
    backends = ["numpy"] + [b for b in ("numba", "jax") if _importable(b)]
    for text, inputs in (("(max((x - x), min(x, x)) ** 0.5)", ("x",)),
                         ("np.where(((3 <= x) > (-x)), (-(x ** 0.5)), 2.5)", ("x",)),
                         ("((np.where((x <= y), x, 0.044715) - x) / t)", ("x", "t", "y"))):
        for r in fuzz_export.examine(Formula(text, inputs), backends, tmp_path, 28):
            assert r.status == "checked", (r.backend, text, r.status, r.message, r.failures)
    module = fuzz_export._export("np.where(((3 <= x) > (-x)), (-(x ** 0.5)), 2.5)", "x",
                                 "numpy", tmp_path, 29)[2]
    layer = module.Fz()
    layer.forward(np.array([-2.0, 4.0]))
    dx = layer.backward(np.ones(2))
    assert dx[0] == 0.0 and abs(dx[1] + 0.25) <= 1e-15


def test_cached_form_does_not_pair_an_exp_with_its_inverse(tmp_path):
    """hypot(hypot(x, 1), erf(x)): simplify made the cached d/dx (sqrt(pi)*x*exp(x**2)
    + 2*erf(x))*exp(-x**2)/..., equal but inf*0 = nan from |x| = 27 on, on every backend
    (export fuzz, seed 29). A simplification that brings in exp(u) beside exp(-u) is now
    passed over unless the gradient had such a pair already."""
    backends = ["numpy"] + [b for b in ("numba", "jax") if _importable(b)]
    text = "(np.hypot(math.hypot(x, 1), math.erf(x)) / (np.where((y <= np.e), y, np.e) ** (-1)))"
    for r in fuzz_export.examine(Formula(text, ("x", "y")), backends, tmp_path, 30):
        assert r.status == "checked", (r.backend, r.status, r.message, r.failures)
        assert r.checked["extreme"] >= 4
    layer = fuzz_export._export("np.hypot(math.hypot(x, 1), math.erf(x))", "x", "numpy",
                                tmp_path, 31)[2].Fz()
    layer.forward(np.array([1000.0, -30.0]))
    dx = layer.backward(np.ones(2))
    assert np.all(np.isfinite(dx)) and abs(dx[0] - 1000 / np.sqrt(1000**2 + 2)) <= 1e-15


def test_opposed_exps_are_read_from_the_gradient_not_its_held_form():
    """tidy holds exp(p/q*x) with a 30-digit q as a symbol; the pair exp(x/q), exp(-x/q)
    already in the gradient must keep the gradient itself among the options (read on
    the held form, every option was dropped: min() of an empty list)."""
    import sympy as sp

    from derive.cached import tidy
    x = sp.Symbol("x", real=True)
    q = sp.Rational(1, 10**30 + 7)
    e = sp.exp(q*x) * (1 + x*sp.exp(-q*x))
    assert sp.simplify(tidy(e) - e) == 0
