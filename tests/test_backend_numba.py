"""The numba backend (numeric/generated_numba.py, derive export --backend numba): the same
classes and <layer>_backward functions as the NumPy export, agreeing with it and with the
hand-coded reference classes, warning-free at ±1000, dtype- and input-preserving; its
branch-free kernels against math.*; its loops vectorized; a user's own layer end to end."""
from __future__ import annotations

import inspect
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

numba = pytest.importorskip("numba")

from derive import catalogue  # noqa: E402
from derive.cli import main  # noqa: E402
from derive.derivation import derive_spec, is_tensor  # noqa: E402
from derive.codegen.numba_backend import emit_numba_module  # noqa: E402
from numeric import generated as G  # noqa: E402
from numeric import generated_numba as NB  # noqa: E402
from numeric import reference as R  # noqa: E402

from helpers import assert_big_endian_gives_native, layer_classes  # noqa: E402


LAYERS = [n for n in catalogue.names() if not is_tensor(catalogue.get(n))]
SLICE = ["sigmoid", "gelu", "relu", "softplus", "mul", "huber"]   # float32 and shapes


def _inputs(name, shape, rng, extremes=True):
    spec = catalogue.get(name)
    if name == "bce":
        return [rng.uniform(0.01, 0.99, shape), rng.uniform(0.0, 1.0, shape)]
    if name == "log":
        return [rng.uniform(1e-3, 1e3, shape)]
    xs = []
    for _ in spec.input_names:
        x = rng.normal(0.0, 4.0, shape)
        if extremes and x.size >= 8:
            x.flat[:6] = [1000.0, -1000.0, 0.0, 1e-300, -3.0, 30.0]
        xs.append(x)
    return xs


def _import(path, name):
    """A generated module from its file (numba's disk cache needs a file)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tuple(g):
    return g if isinstance(g, tuple) else (g,)


def _close(a, b, rtol):
    """Relative agreement; values from a cancelling formula (1 - out**2, 1 + erf) are
    compared against the size of their terms (~1e-2 and up), as the NumPy code rounds them
    too."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(invalid="ignore"):
        near = np.abs(a - b) <= rtol * np.maximum(np.abs(b), 1e-2)
    return bool(np.all(same | near))


def _run(module, name, xs, dout):
    """(out, class gradients, function gradients) of one layer of module."""
    spec = catalogue.get(name)
    layer = getattr(module, spec.class_name)()
    out = layer.forward(*xs)
    grads = _tuple(layer.backward(dout))
    fn = getattr(module, f"{name}_backward")
    values = {"out": out, **dict(zip(spec.input_names, xs))}
    args = [values[p] for p in inspect.signature(fn).parameters
            if p != "dout" and p not in spec.param_names]
    _run.layer = layer
    return out, grads, _tuple(fn(dout, *args))


@pytest.fixture(scope="module")
def float64_runs():
    """Every layer's numba results in float64 at 64 points (compiles each loop once),
    computed with every warning an error; and the inputs, checked unchanged."""
    rng = np.random.default_rng(13)
    runs = {}
    for name in LAYERS:
        xs = _inputs(name, 64, rng)
        dout = rng.normal(size=64)
        copies = [x.copy() for x in (*xs, dout)]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with np.errstate(all="raise"):
                got = _run(NB, name, xs, dout)
        unchanged = all(np.array_equal(a, b) for a, b in zip((*xs, dout), copies))
        runs[name] = (xs, dout, got, unchanged, _run.layer)
    return runs


@pytest.mark.parametrize("name", LAYERS)
def test_numba_layer_agrees_with_the_numpy_export_in_float64(float64_runs, name):
    xs, dout, (out, grads, fgrads), unchanged, _ = float64_runs[name]
    assert unchanged
    with np.errstate(all="ignore"):
        want_out, want_grads, want_fgrads = _run(G, name, xs, dout)
    assert out.dtype == np.float64 and out.shape == xs[0].shape
    assert _close(out, want_out, 1e-12)
    for got, want in zip(grads + fgrads, want_grads + want_fgrads):
        assert got.dtype == np.float64 and got.shape == want.shape
        assert _close(got, want, 1e-12)
    finite = [out, *grads] if name != "exp" else list(grads[:0])   # exp(1000) is inf
    assert all(np.isfinite(v).all() for v in finite)


@pytest.mark.parametrize("name", LAYERS)
def test_numba_layer_agrees_with_the_reference_class(float64_runs, name):
    xs, dout, (out, grads, _), _, _ = float64_runs[name]
    ref = getattr(R, catalogue.get(name).class_name)()
    with np.errstate(all="ignore"):
        want = ref.forward(*xs)
        want_grads = _tuple(ref.backward(dout))
    keep = np.all([np.abs(x) < 100 for x in xs], axis=0)   # the book's forms overflow beyond
    assert _close(out[keep], want[keep], 1e-12)
    for got, w in zip(grads, want_grads):
        assert _close(got[keep], w[keep], 1e-11)


@pytest.mark.parametrize("name", LAYERS)
def test_numba_class_caches_what_the_numpy_class_caches(float64_runs, name):
    xs, dout, _, _, layer = float64_runs[name]
    want = getattr(G, catalogue.get(name).class_name)()
    with np.errstate(all="ignore"):
        want.forward(*xs)
    for attr, value in vars(want).items():
        if isinstance(value, np.ndarray):
            got = getattr(layer, attr)
            assert got.dtype == value.dtype and got.shape == value.shape
            assert _close(got, value, 1e-12)


@pytest.mark.parametrize("name", SLICE)
@pytest.mark.parametrize("shape", [(), (7,), (2, 3, 4)])
def test_float32_any_shape(name, shape):
    rng = np.random.default_rng(len(shape))
    xs = [x.astype(np.float32) for x in _inputs(name, shape, rng, extremes=False)]
    dout = rng.normal(size=shape).astype(np.float32)
    out, grads, fgrads = _run(NB, name, xs, dout)
    want_out, want_grads, _ = _run(G, name, [x.astype(np.float64) for x in xs],
                                   dout.astype(np.float64))
    assert out.dtype == np.float32 and np.shape(out) == shape
    assert _close(out, want_out, 1e-5)
    for got, want in zip(grads + fgrads, want_grads + want_grads):
        assert got.dtype == np.float32 and np.shape(got) == shape
        assert _close(got, want, 1e-5)


def test_two_inputs_broadcast_and_their_gradients_sum_back():
    rng = np.random.default_rng(1)
    x, y, dout = rng.normal(size=(3, 4)), rng.normal(size=(4,)), rng.normal(size=(3, 4))
    layer, ref = NB.MulLayer(), R.MulLayer()
    assert np.allclose(layer.forward(x, y), ref.forward(x, y), rtol=1e-15)
    for got, want in zip(layer.backward(dout), ref.backward(dout)):
        assert got.shape == want.shape and np.allclose(got, want, rtol=1e-13)
    dx, dy = NB.mul_backward(dout, x, y)
    assert dx.shape == (3, 4) and dy.shape == (4,) and np.allclose(dy, (dout * x).sum(0))


def test_parallel_variant_gives_the_same_results():
    x = np.linspace(-50, 50, 1001)
    want = NB.Sigmoid().forward(x)
    NB.PARALLEL = True
    try:
        layer = NB.Sigmoid()
        got = layer.forward(x)
        grad = layer.backward(np.ones_like(x))
    finally:
        NB.PARALLEL = False
    assert np.array_equal(got, want) and np.allclose(grad, want * (1 - want), rtol=1e-15)


_GRID = np.concatenate([np.geomspace(1e-300, 1e-8, 60), np.geomspace(1e-8, 700, 400)])
_KERNELS = [("_k_exp", math.exp, np.concatenate([-_GRID, _GRID[_GRID < 700]])),
            ("_k_expm1", math.expm1, np.concatenate([-_GRID, _GRID[_GRID < 700]])),
            ("_k_log", math.log, np.concatenate([_GRID, 1 / _GRID, 1 + _GRID[:200]])),
            ("_k_log1p", math.log1p, np.concatenate([_GRID, -_GRID[_GRID < 0.9]])),
            ("_k_tanh", math.tanh, np.concatenate([_GRID, -_GRID])),
            ("_k_erf", math.erf, np.concatenate([_GRID[_GRID < 8], -_GRID[_GRID < 8],
                                                 np.linspace(0.9, 1.1, 41)])),
            ("_k_log1p_unit", math.log1p, np.concatenate([_GRID[_GRID <= 1], [0.5, 1.0]])),
            ("_k_tanh_softplus", lambda v: math.tanh(math.log1p(math.exp(v))),
             np.concatenate([_GRID[_GRID < 600], -_GRID[_GRID < 600]]))]


@pytest.mark.parametrize("kernel,ref,grid", _KERNELS, ids=[k for k, _, _ in _KERNELS])
def test_branch_free_kernels_against_math(kernel, ref, grid):
    f = getattr(NB, kernel)
    worst = 0.0
    for v in grid:
        want = ref(float(v))
        if abs(want) > 1e-300:                 # relative error of normal results
            worst = max(worst, abs(f(float(v)) - want) / abs(want))
    assert worst <= 1.2e-15, worst
    if kernel not in ("_k_log1p_unit", "_k_tanh_softplus"):
        assert f(math.inf) == ref(math.inf) if kernel != "_k_log1p" else f(math.inf) == math.inf
        assert math.isnan(f(math.nan))


def test_the_split_ln2_is_ln2():
    import mpmath
    from derive.codegen import numba_kernels as k
    with mpmath.workdps(40):
        assert float(mpmath.log(2) - mpmath.mpf(k._LN2_HI)) == k._LN2_LO
        # every k*hi of the reduction is exact (k up to 1076 in magnitude)
        assert all(mpmath.mpf(j * k._LN2_HI) == j * mpmath.mpf(k._LN2_HI)
                   for j in range(-1100, 1100, 7))


def test_kernels_saturate_without_overflow():
    assert NB._k_exp(1000.0) == math.inf and NB._k_exp(-1000.0) == 0.0
    assert NB._k_expm1(-1000.0) == -1.0 and NB._k_tanh(-1000.0) == -1.0
    assert NB._k_sigmoid(-1000.0) == 0.0 and NB._k_softplus(1000.0) == 1000.0
    assert NB._k_erf(1000.0) == 1.0 and NB._k_log(0.0) == -math.inf
    assert NB._k_log(5e-324) == pytest.approx(math.log(5e-324), rel=1e-15)


def test_exp_kernels_overflow_and_nan_in_a_vectorized_loop():
    """exp, expm1, tanh and 1 + erf have no select for nan or overflow (the arithmetic gives
    them): in a loop LLVM vectorizes, on the doubles around exp's overflow and underflow
    bounds, they are inf, 0 or nan exactly where NumPy's are, and close to it elsewhere."""
    @numba.njit(error_model="numpy")
    def each(f, x, out):
        for i in range(x.size):
            out[i] = f(x[i])

    @numba.njit(error_model="numpy")
    def each_e(f, x, out):
        for i in range(x.size):
            out[i] = f(x[i], math.exp(-x[i] * x[i]))

    def around(v, k=400):
        ups, downs = [v], [v]
        for _ in range(k):
            ups.append(np.nextafter(ups[-1], np.inf))
            downs.append(np.nextafter(downs[-1], -np.inf))
        return downs[::-1] + ups[1:]

    edges = [709.782712893384, 709.8, -745.1332191019412, -708.3964185322641, -745.5]
    x = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, 1e300, -1e300, 1000.0,
                  -1000.0] + [w for v in edges for w in around(v)] + list(np.linspace(-800, 800, 4001)))
    import mpmath
    erfc = np.vectorize(lambda v: v if math.isnan(v) else float(mpmath.erfc(-mpmath.mpf(v)))
                        if abs(v) < 40 else (2.0 if v > 0 else 0.0))      # 1 + erf(v)
    every = (np.isnan, np.isposinf, np.isneginf, lambda a: a == 0.0)
    for kernel, ref, loop, kinds in (("_k_exp", np.exp, each, every),
                                     ("_k_expm1", np.expm1, each, every),
                                     ("_k_tanh", np.tanh, each, every),
                                     ("_k_erf1p_z", erfc, each_e, every[:3])):
        got = np.empty_like(x)
        loop(getattr(NB, kernel), x, got)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            want = ref(x)
        for kind in kinds:
            assert np.array_equal(kind(got), kind(want)), (kernel, x[kind(got) != kind(want)][:5])
        ok = np.isfinite(want) & (np.abs(want) > 1e-300)
        # (the loop's exp(-x*x) for 1 + erf is off by up to x**2 ulp: x*x is rounded)
        rtol = 1e-13 if kernel == "_k_erf1p_z" else 2e-15
        assert np.allclose(got[ok], want[ok], rtol=rtol, atol=0.0), kernel


def _vectorized(loop) -> bool:
    """Whether LLVM vectorized ``loop`` (compiled afresh: numba does not inspect cached code),
    with float64 arrays (bool for masks) and float parameters."""
    fresh = numba.njit(error_model="numpy", fastmath={"contract"})(loop.py_func)
    sig = tuple(numba.float64 if not p.endswith("_") else
                numba.boolean[::1] if p.startswith("mask") else numba.float64[::1]
                for p in inspect.signature(loop.py_func).parameters)
    fresh.compile(sig)
    return "x double>" in fresh.inspect_llvm(sig)


@pytest.mark.parametrize("name", LAYERS)
def test_each_layers_forward_and_backward_loops_are_vectorized(name):
    assert _vectorized(getattr(NB, f"_{name}_forward_loop"))
    assert _vectorized(getattr(NB, f"_{name}_class_backward_loop"))


def _llvm(loop) -> str:
    fresh = numba.njit(error_model="numpy", fastmath={"contract"})(loop.py_func)
    sig = tuple(numba.float64 if not p.endswith("_") else
                numba.boolean[::1] if p.startswith("mask") else numba.float64[::1]
                for p in inspect.signature(loop.py_func).parameters)
    fresh.compile(sig)
    return fresh.inspect_llvm(sig)


@pytest.mark.parametrize("name", ["exp", "sigmoid", "log", "tanh", "softplus", "gelu", "bce",
                                  "elu", "log_cosh"])
def test_kernel_loops_convert_no_float_to_int(name):
    # AVX2 has no vector float64 <-> int64 conversion: a fptosi or sitofp in the vectorized
    # loop is done one element at a time; the kernels take k and e through the bits instead
    ir = _llvm(getattr(NB, f"_{name}_forward_loop"))
    assert "x double>" in ir
    assert "fptosi" not in ir and "sitofp" not in ir


@pytest.mark.parametrize("name", ["gelu", "softplus", "bce", "tanh"])
def test_backward_function_loops_are_vectorized(name):
    assert _vectorized(getattr(NB, f"_{name}_backward_loop"))


def test_export_own_layer_end_to_end(tmp_path):
    path = tmp_path / "mine.py"
    assert main(["export", "--expr", "x*np.tanh(x)", "--name", "xtanh", "--backend", "numba",
                 "-o", str(path)]) == 0
    src = path.read_text()
    assert src.splitlines()[0].startswith("# Written by `derive export`")
    mod = _import(path, "nb_mine")
    cls = next(v for k, v in vars(mod).items() if isinstance(v, type) and hasattr(v, "forward"))
    x = np.linspace(-3, 3, 13)
    layer = cls()
    assert np.allclose(layer.forward(x), x * np.tanh(x), rtol=1e-15)
    want = np.tanh(x) + x * (1 - np.tanh(x) ** 2)
    assert np.allclose(layer.backward(np.ones_like(x)), want, rtol=1e-14, atol=1e-15)


def test_book2_api_has_empty_lists_and_same_results(tmp_path):
    path = tmp_path / "book2.py"
    path.write_text(emit_numba_module([derive_spec(catalogue.get("leaky_relu"))], api="book2"))
    mod = _import(path, "nb_book2")
    layer = mod.LeakyRelu(alpha=0.1)
    assert layer.params == [] and layer.grads == []
    x = np.array([-2.0, 3.0])
    assert np.array_equal(layer.forward(x), [-0.2, 3.0])
    assert np.array_equal(layer.backward(np.ones(2)), [0.1, 1.0])


def test_large_results_reuse_only_memory_nobody_holds():
    n = NB.POOL_MIN_BYTES // 8 + 1
    x = np.linspace(-5.0, 5.0, n)
    layer = NB.Sigmoid()
    a = layer.forward(x)
    view, want = a[10:20], a[10:20].copy()
    del a                                          # still held through the view
    for _ in range(3):
        b = layer.forward(-x)
        layer.backward(b)
    assert np.array_equal(view, want)
    assert np.allclose(b, 1 / (1 + np.exp(x)), rtol=1e-15) and len(NB._POOL) <= NB.POOL_SIZE
    NB.free_buffers()
    assert not NB._POOL and np.array_equal(view, want)


def test_tensor_layers_are_the_numpy_modules_code(tmp_path):
    from numeric import matrix_generated
    path = tmp_path / "affine_nb.py"
    assert main(["export", "affine", "--backend", "numba", "-o", str(path)]) == 0
    mod = _import(path, "nb_affine")
    rng = np.random.default_rng(2)
    W, b, x, dout = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(5, 4)), \
        rng.normal(size=(5, 3))
    got, want = mod.Affine(W, b), matrix_generated.Affine(W, b)
    assert np.array_equal(got.forward(x), want.forward(x))
    assert np.array_equal(got.backward(dout), want.backward(dout))
    assert np.array_equal(got.dW, want.dW) and np.array_equal(got.db, want.db)


def test_committed_numba_module_is_fresh(tmp_path):
    target = tmp_path / "generated_numba.py"
    assert main(["export", "--all", "--elementwise", "--backend", "numba", "-o", str(target)]) == 0
    committed = Path(NB.__file__).read_bytes()
    assert target.read_bytes() == committed, "numeric/generated_numba.py is stale: run derive " \
        "export --all --elementwise --backend numba -o numeric/generated_numba.py --force"


# ---- fewer operations per element (issue 13): Chebyshev kernels, shared exp, fewer buffers

def _worst_against_mpmath(f, ref, grid):
    import mpmath
    with mpmath.workdps(30):
        worst = 0.0
        for v in grid:
            want = ref(mpmath.mpf(float(v)))
            if want and abs(want) > 1e-300:
                worst = max(worst, float(abs((mpmath.mpf(f(float(v))) - want) / want)))
    return worst


_DENSE = [("_k_exp", "exp", np.linspace(-700.0, 700.0, 3001)),
          ("_k_expm1", "expm1", np.linspace(-3.0, 3.0, 3001)),
          ("_k_log", "log", np.concatenate([np.linspace(0.5, 2.0, 2001), np.geomspace(1e-300, 1e300, 601)])),
          ("_k_log1p_unit", "log1p", np.linspace(0.0, 1.0, 2001)),
          ("_k_erf", "erf", np.concatenate([np.linspace(-6.5, 6.5, 4001), np.geomspace(1e-300, 1.0, 301)]))]


@pytest.mark.parametrize("kernel,ref,grid", _DENSE, ids=[k for k, _, _ in _DENSE])
def test_chebyshev_kernels_against_mpmath_on_dense_grids(kernel, ref, grid):
    import mpmath
    assert _worst_against_mpmath(getattr(NB, kernel), getattr(mpmath, ref), grid) <= 1e-15


def test_erf_given_its_exp_is_erf():
    import mpmath
    grid = np.concatenate([np.linspace(-6.5, 6.5, 4001), np.geomspace(1e-300, 1.0, 301)])
    # e as gelu's loop computes it: exp(-0.5*(x*x)) with x = u*sqrt(2), rounded twice
    def erf_z(u):
        x = u * math.sqrt(2.0)
        return NB._k_erf_z(u, NB._k_exp(-0.5 * (x * x)))
    assert _worst_against_mpmath(erf_z, mpmath.erf, grid) <= 1e-15
    assert NB._k_erf_z(1000.0, 0.0) == 1.0 and math.isnan(NB._k_erf_z(math.nan, math.nan))


def test_gelu_loops_compute_one_exp_for_erf_and_the_local_factor():
    for loop in (NB._gelu_forward_loop, NB._gelu_backward_loop):
        src = inspect.getsource(loop.py_func)
        assert src.count("_k_exp(") == 1 and "_k_erf1p_z(" in src and "_k_erf(" not in src
        assert "/1.77" not in src and "0.5641895835477563*" in src      # 1/sqrt(pi): a multiply


def test_chebyshev_series_are_shorter_than_taylor():
    from derive.codegen.numba_kernels import powers
    assert len(powers("expm1_small")) < 13 and len(powers("atanh_unit")) < 18
    import re
    constants = re.findall(r"\d\.\d+(?:e[-+]?\d+)?", inspect.getsource(NB._k_erf.py_func))
    assert len(constants) <= 50        # 12 + 17 coefficients and the rest (16 + 34 had 68)


def test_forward_reuses_the_previous_cache_memory():
    """Forward + backward over and over, results dropped: two pooled buffers (out, then
    the gradient, in one; the cache in the other), not three."""
    n = NB.POOL_MIN_BYTES // 8 + 1
    x, dout = np.linspace(-5.0, 5.0, n), np.linspace(1.0, 2.0, n)
    NB.free_buffers()
    layer = NB.Tanh()
    for _ in range(4):
        layer.forward(x)
        g = layer.backward(dout)
        del g
    assert len(NB._POOL) == 2
    assert np.allclose(layer.backward(dout), dout * (1 - np.tanh(x) ** 2), rtol=1e-13)
    NB.free_buffers()


# ---- fewer operations per element (issue 13, nb16): 1 + erf from one series, exp and expm1
# from one reduction

def _erfc_grid():
    """Gelu's arguments u = x/sqrt 2 down to where erfc underflows, both signs, the tails."""
    u = np.concatenate([np.linspace(-28.0, 28.0, 5601), np.geomspace(1e-300, 1.0, 201),
                        -np.geomspace(1e-300, 1.0, 201), [-26.5, -27.0788, -27.2, -27.3]])
    return u


def test_one_plus_erf_given_its_exp_against_mpmath():
    """1 + erf(u) relative to itself, also where it is erfc(|u|) of 1e-300 (no cancellation:
    the NumPy code's 1 + erf is 0 there), given e = exp(-u**2) correctly rounded."""
    import mpmath
    worst, worst_sub = 0.0, 0
    with mpmath.workdps(40):
        for u in _erfc_grid():
            want = mpmath.erfc(-mpmath.mpf(float(u)))
            got = NB._k_erf1p_z(float(u), float(mpmath.exp(-mpmath.mpf(float(u)) ** 2)))
            if want > 2.3e-308:
                worst = max(worst, float(abs((got - want) / want)))
            else:                                 # subnormal results: in units of 5e-324
                worst_sub = max(worst_sub, float(abs(got - want)) / 5e-324)
    assert worst <= 1e-15 and worst_sub <= 2, (worst, worst_sub)


def test_one_plus_erf_series_has_21_terms():
    """erfcx in (t - 15/4)/(t + 15/4): 21 Chebyshev terms for 7e-16 (in 7/2's variable it
    took 22 for 8e-16, the accuracy test above); gelu's forward loop 3% faster."""
    import re

    from derive.codegen.numba_kernels import monomial
    assert len(monomial("erfcx_all")) == 21
    src = inspect.getsource(NB._k_erf1p_z.py_func)
    assert len(re.findall(r"\d\.\d+(?:e[-+]?\d+)?", src)) == 21 + 10   # and 10 others


def test_one_plus_erf_tails_and_nan():
    assert NB._k_erf1p_z(1000.0, 0.0) == 2.0 and NB._k_erf1p_z(-1000.0, 0.0) == 0.0
    assert NB._k_erf1p_z(40.0, 0.0) == 2.0 and NB._k_erf1p_z(-40.0, 0.0) == 0.0
    assert NB._k_erf1p_z(0.0, 1.0) == 1.0
    assert math.isnan(NB._k_erf1p_z(math.nan, math.nan))


def test_gelu_is_accurate_where_its_output_is_tiny():
    """x*Phi(x) at x = -10 .. -38 (1e-23 .. 1e-314) against mpmath: the numba class computes
    Phi as e*erfcx, relative to itself; its local factor Phi + x*phi too, in the tail."""
    import mpmath
    x = np.concatenate([np.linspace(-38.0, -6.0, 321), np.linspace(-6.0, 6.0, 241)])
    layer = NB.Gelu()
    out = layer.forward(x)
    local = layer.local
    with mpmath.workdps(40):
        for xi, o, l in zip(x, out, local):
            v = mpmath.mpf(float(xi))
            phi_ = mpmath.ncdf(v)
            want_o, want_l = v * phi_, phi_ + v * mpmath.npdf(v)
            # e = exp(-x*x/2) from a rounded square: x**2*eps/2 relative at most (5e-14)
            tol = 1e-15 + float(v * v) * 2.0 ** -53
            # Phi subnormal (x < -37.5): its spacing 5e-324, times |x|
            assert abs(o - want_o) <= tol * abs(want_o) + abs(xi) * 1e-323, (xi, o, want_o)
            if xi <= -3.0 and abs(want_l) > 2.3e-308:      # (it cancels near its zero, -0.75)
                assert abs(l - want_l) <= 4 * tol * abs(want_l), (xi, l, want_l)


def test_exp_and_expm1_of_one_argument_come_from_one_call():
    """elu/selu/celu's forward: out needs expm1(min(0, x)), the local factor exp(min(0, x));
    one kernel gives both (LLVM did not merge the two calls' reductions)."""
    for name in ("elu", "selu", "celu"):
        src = inspect.getsource(getattr(NB, f"_{name}_forward_loop").py_func)
        assert src.count("_k_exp_expm1(") == 1 and "_k_exp(" not in src and "_k_expm1(" not in src


@pytest.mark.parametrize("which,ref", [(0, "exp"), (1, "expm1")])
def test_exp_expm1_pair_is_each_kernel(which, ref):
    import mpmath
    grid = np.concatenate([np.linspace(-745.0, 709.0, 3001), np.linspace(-3.0, 3.0, 3001),
                           -np.geomspace(1e-300, 1.0, 101), np.geomspace(1e-300, 1.0, 101)])
    assert _worst_against_mpmath(lambda v: NB._k_exp_expm1(v)[which], getattr(mpmath, ref),
                                 grid) <= 1e-15
    for v in (-1000.0, -745.5, -40.0, 0.0, 40.0, 709.0, 710.0, 1000.0, math.inf, -math.inf):
        assert NB._k_exp_expm1(v) == (NB._k_exp(v), NB._k_expm1(v)), v
    assert all(math.isnan(p) for p in NB._k_exp_expm1(math.nan))


def test_a_division_by_a_parameter_is_one_reciprocal_before_the_loop():
    for loop in (NB._celu_forward_loop, NB._celu_backward_loop, NB._smooth_l1_backward_loop):
        body = inspect.getsource(loop.py_func).split("for i in")
        assert "/alpha" not in body[1] and "/beta" not in body[1]
        assert "= 1.0/alpha" in body[0] or "= 1.0/beta" in body[0]
    layer = NB.Celu(alpha=0.3)
    x = np.linspace(-200.0, 5.0, 4001)
    want = np.where(x > 0, x, 0.3 * np.expm1(np.minimum(x, 0) / 0.3))
    assert np.allclose(layer.forward(x), want, rtol=1e-13, atol=0)



@pytest.mark.parametrize("name", layer_classes(NB))
def test_big_endian_inputs_give_native_results_as_the_numpy_module_does(name):
    """'>f8' forward inputs and dout: native float64 results (the one ``_floating`` of
    derive/codegen/runtime.py), equal to those of the same call on native arrays."""
    assert_big_endian_gives_native(getattr(NB, name))


def test_functions_without_a_kernel_are_numbas_scalar_ufuncs(tmp_path):
    """sin, arccos, sinh, arctanh, floor, erfc... have no branch-free kernel: the numba export
    calls numba's scalar np.* for them (KeyError 'floor' and 'acos' before, from SymPy's
    printer; NotImplementedError for cbrt) and agrees with the NumPy export, nan outside
    the domain as NumPy. A constant that is not real (np.arctanh(1.05): a TypeError in
    the derivation) is refused with a message by either backend."""
    for backend in ("numpy", "numba"):
        assert main(["export", "--expr", "np.where(x > 9, x*np.arctanh(1.05), np.tan(x/3))",
                     "--name", "notreal", "--backend", backend,
                     "-o", str(tmp_path / f"notreal_{backend}.py")]) == 2
    forms = {"trig": "np.sin(x)*np.arccos(x/4) + np.sinh(x/2) - np.arctanh(x/5)",
             "rounding": "np.floor(x)*x + np.ceil(x/2) + np.cbrt(x)*np.erfc(x)",
             "tangent": "np.where(x > 9, x*np.arctanh(0.5), np.tan(x/3))"}
    x = np.array([-3.7, -1.2, -0.3, 0.05, 0.4, 1.9, 3.2, 4.5])   # (not 0: cbrt's slope is inf)
    for name, expr in forms.items():
        modules = {}
        for backend in ("numpy", "numba"):
            target = tmp_path / f"{name}_{backend}.py"
            assert main(["export", "--expr", expr, "--name", name, "--backend", backend,
                         "-o", str(target)]) == 0, (name, backend)
            modules[backend] = _import(target, f"{name}_{backend}")
        cls = name.capitalize()
        outs = {}
        for backend, m in modules.items():
            layer = getattr(m, cls)()
            with np.errstate(invalid="ignore"):
                out = layer.forward(x)
                outs[backend] = (out, layer.backward(np.ones_like(x)))
        for a, b in zip(outs["numpy"], outs["numba"]):
            assert np.array_equal(np.isnan(a), np.isnan(b)), name
            assert np.allclose(a, b, rtol=1e-13, atol=1e-15, equal_nan=True), name


def test_a_compound_exponent_keeps_its_parentheses(tmp_path):
    """3**(x*y) was printed 3.0**x*y, which Python reads (3**x)*y: every user layer with a
    power of a compound exponent computed wrong numbers on the numba backend (found by
    bench/fuzz_export.py). Against the formula itself and against the NumPy export."""
    x = np.array([-0.68, 0.23, 1.02, 1.75, 2.99])
    y = np.array([-1.49, 1.2, 1.91, 2.43, 0.49])
    for expr in ("1.5 - 3**(y*x)", "np.float_power(x, (y*2) - np.where(3 < x, x, 1.5))",
                 "x**(-y/2) + 2**(x - 1)"):
        outs = []
        for backend in ("numpy", "numba"):
            target = tmp_path / f"pw_{backend}.py"
            assert main(["export", "--expr", expr, "--var", "x,y", "--name", "pw", "--backend",
                         backend, "-o", str(target), "--force"]) == 0
            layer = _import(target, f"pw_{backend}_{len(outs)}_{abs(hash(expr))}").Pw()
            outs.append((layer.forward(np.abs(x) + 0.1, y), *layer.backward(np.ones_like(x))))
        base = np.abs(x) + 0.1
        want = {"1.5 - 3**(y*x)": 1.5 - 3.0 ** (y * base),
                "np.float_power(x, (y*2) - np.where(3 < x, x, 1.5))":
                    np.float_power(base, y * 2 - np.where(3 < base, base, 1.5)),
                "x**(-y/2) + 2**(x - 1)": base ** (-y / 2) + 2.0 ** (base - 1)}[expr]
        assert np.allclose(outs[1][0], want, rtol=1e-14, atol=0), expr
        for a, b in zip(outs[0], outs[1]):
            assert np.allclose(a, b, rtol=1e-13, atol=0), expr
