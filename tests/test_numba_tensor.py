"""The numba module's fused tensor layers (derive/codegen/numba_tensor*.py): the same
classes, attributes and <layer>_backward functions as the NumPy export
(numeric/matrix_generated.py), agreeing with it (1e-12 float64, 1e-5 float32, relative to
each array's size) on random data and at ±1000, label indices and one-hot rows, volume 1's
and volume 2's API, inputs never written; the kernels' loop structure."""
from __future__ import annotations

import os
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("numba")

from derive import catalogue  # noqa: E402
from derive.cli import main  # noqa: E402
from derive.codegen.numba_tensor import kernel_source  # noqa: E402
from derive.codegen.numba_tensor_class import fusable  # noqa: E402
from derive.derivation import derive_spec  # noqa: E402
from numeric import matrix_generated as M  # noqa: E402

FUSED = ["batchnorm", "layernorm", "softmax_with_loss", "softmax", "mse"]
TOL = {np.float64: 1e-12, np.float32: 1e-5}


def _import(path, name):
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module          # numba's disk cache finds the module by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def nb(tmp_path_factory):
    path = tmp_path_factory.mktemp("nbt") / "numba_tensor_layers.py"
    assert main(["export", *FUSED, "affine", "--backend", "numba", "-o", str(path)]) == 0
    return _import(path, "numba_tensor_layers")


@pytest.fixture(scope="module")
def book2(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nbt2")
    mods = []
    for backend in ("numba", "numpy"):
        path = folder / f"{backend}_book2.py"
        extra = ["--backend", "numba"] if backend == "numba" else []
        assert main(["export", "batchnorm", "layernorm", *extra, "--api", "book2",
                     "-o", str(path)]) == 0
        mods.append(_import(path, f"book2_{backend}"))
    return mods


def _close(got, want, dtype, scale=None):
    """Agreement relative to the array's size (or ``scale``, the size of the terms of a
    value that cancels: batchnorm's dx over two rows is 0 in exact arithmetic)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape
    scale = max(np.max(np.abs(want)), scale or 0.0, 1e-300)
    assert np.all(np.isfinite(got))
    assert np.max(np.abs(got - want)) <= TOL[dtype] * scale, np.max(np.abs(got - want)) / scale


def _data(shape, dtype, scale, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, scale, shape)
    x.flat[:2] = [scale, -scale]
    return (x.astype(dtype), rng.normal(size=shape).astype(dtype),
            rng.normal(size=shape[-1]).astype(dtype), rng.normal(size=shape[-1]).astype(dtype))


def test_the_layers_of_rows_are_fused_and_affine_is_numpy_code(nb):
    assert [n for n in FUSED if fusable(derive_spec(catalogue.get(n)))] == FUSED
    assert not fusable(derive_spec(catalogue.get("affine")))
    import inspect
    for fn in (nb.batchnorm_backward, nb.layernorm_backward, nb.softmax_with_loss_backward):
        src = inspect.getsource(fn)
        assert "_backward_kernel" in src and "np.sum" not in src.split('"""')[-1]
    assert "dout @ W.T" in inspect.getsource(nb.affine_backward)     # BLAS


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scale", [1.0, 1000.0])
@pytest.mark.parametrize("cls", ["BatchNormalization", "LayerNorm"])
@pytest.mark.parametrize("shape", [(7, 5), (1, 9), (33, 64)])
def test_norms_agree_with_the_numpy_export(nb, cls, dtype, scale, shape):
    x, dout, gamma, beta = _data(shape, dtype, scale)
    if cls == "BatchNormalization" and shape[0] == 1:
        shape = (2, shape[1])
        x, dout, gamma, beta = _data(shape, dtype, scale)
    kept = [a.copy() for a in (x, dout, gamma, beta)]
    got, want = getattr(nb, cls)(gamma, beta), getattr(M, cls)(gamma, beta)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outs = got.forward(x), want.forward(x)
        assert outs[0].dtype == dtype
        _close(*outs, dtype)
        for attr in ("std", "xn"):
            _close(getattr(got, attr), getattr(want, attr), dtype)
        grads = got.backward(dout), want.backward(dout)
        assert grads[0].dtype == dtype
        terms = np.max(np.abs(dout * gamma / want.std))
        _close(*grads, dtype, terms)
        for attr in ("dgamma", "dbeta"):
            _close(getattr(got, attr), getattr(want, attr), dtype)
        if cls == "BatchNormalization":
            for attr in ("running_mean", "running_var"):
                _close(getattr(got, attr), getattr(want, attr), dtype)
            _close(got.forward(x, train_flg=False), want.forward(x, train_flg=False), dtype)
        # the functions alone, on the NumPy class's cache
        _close(nb.__dict__[f"{'batchnorm' if cls[0] == 'B' else 'layernorm'}_backward"](
            dout, want.std, want.xn, gamma)[0], grads[1], dtype, terms)
    for a, b in zip((x, dout, gamma, beta), kept):
        assert np.array_equal(a, b)


def test_batchnorm_flattens_a_4d_input_as_the_book_does(nb):
    rng = np.random.default_rng(3)
    x, dout = rng.normal(size=(4, 3, 2, 2)), rng.normal(size=(4, 3, 2, 2))
    gamma, beta = rng.normal(size=12), rng.normal(size=12)
    got, want = nb.BatchNormalization(gamma, beta), M.BatchNormalization(gamma, beta)
    _close(got.forward(x), want.forward(x), np.float64)
    dx = got.backward(dout)
    assert dx.shape == x.shape
    _close(dx, want.backward(dout), np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scale", [1.0, 1000.0])
@pytest.mark.parametrize("form", ["labels", "one-hot"])
def test_softmax_with_loss_agrees_for_both_forms_of_t(nb, dtype, scale, form):
    x, _, _, _ = _data((9, 6), dtype, scale, seed=4)
    labels = np.random.default_rng(5).integers(0, 6, 9)
    t = labels if form == "labels" else np.eye(6, dtype=dtype)[labels]
    kept = x.copy(), t.copy()
    got, want = nb.SoftmaxWithLoss(), M.SoftmaxWithLoss()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = got.forward(x, t), want.forward(x, t)
        assert np.isfinite(loss[0]) and np.asarray(loss[0]).dtype == dtype
        _close(*loss, dtype)
        _close(got.y, want.y, dtype)
        for dout in (1.0, 0.5):
            _close(got.backward(dout), want.backward(dout), dtype)
        _close(nb.softmax_with_loss_backward(2.0, want.y, t),
               M.softmax_with_loss_backward(2.0, want.y, t), dtype)
    assert got.t is t
    assert np.array_equal(x, kept[0]) and np.array_equal(t, kept[1])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_softmax_and_mse_agree(nb, dtype, scale):
    x, dout, _, _ = _data((8, 11), dtype, scale, seed=6)
    t = np.random.default_rng(7).normal(size=x.shape).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got, want = nb.Softmax(), M.Softmax()
        out = got.forward(x)
        assert out.dtype == dtype
        _close(out, want.forward(x), dtype)
        _close(got.backward(dout), want.backward(dout), dtype)
        got, want = nb.MSE(), M.MSE()
        loss = got.forward(x, t)
        assert np.asarray(loss).dtype == dtype
        _close(loss, want.forward(x, t), dtype)
        dx = got.backward()
        assert dx.dtype == dtype
        _close(dx, want.backward(), dtype)


def _float_types(kernel, args):
    """The float scalar variables of ``kernel`` (compiled afresh, without the disk cache,
    for its type annotations) at ``args``: (name, numba type name) of each version."""
    import numba
    fresh = numba.njit(kernel.py_func)
    fresh(*args)
    typemap = next(iter(fresh.overloads.values())).type_annotation.typemap
    return {(n.split(".")[0], str(t)) for n, t in typemap.items()
            if str(t) in ("float32", "float64") and not n.startswith(("$", "_", "arg."))}


def test_float32_kernels_compute_in_float32(nb):
    """float32 in: every value of an element, a row or a column is a float32 variable;
    float64 are only the sizes for the means, the scalar arguments as passed and a loss's
    accumulator (the column accumulators are float64 arrays)."""
    x, _, gamma, beta = _data((6, 5), np.float32, 1.0)
    t = np.eye(5, dtype=np.float32)[[0, 1, 2, 3, 4, 0]]
    empty = [np.empty(s, np.float32) for s in ((6, 5), 5, (6, 5), 5, 5)]
    for kernel, args, wide, some in (
            (nb._batchnorm_forward_kernel, (x, gamma, beta, 1e-6, *empty),
             {"f_rows", "f_cols", "eps_"}, {"x", "gamma", "beta", "eps", "N", "r0", "r1", "h0",
                                            "c0", "c2"}),
            (nb._softmax_with_loss_forward_kernel,
             (x, t, np.empty(1, np.float32), np.empty_like(x)),
             {"f_rows", "f_cols", "r2"}, {"x", "t", "r0", "r1", "h1", "row1"})):
        types = _float_types(kernel, args)
        assert {n for n, k in types if k == "float64"} == wide
        assert some <= {n for n, k in types if k == "float32"} - wide


def _all_layers(nb, dtype, shape, seed=11):
    """Every fused layer's forward and backward results (and the weights' gradients) at
    data of ``shape``, both forms of t."""
    x, dout, gamma, beta = _data(shape, dtype, 1000.0, seed)
    labels = np.random.default_rng(seed).integers(0, shape[1], shape[0])
    res = {}
    for cls in ("BatchNormalization", "LayerNorm"):
        layer = getattr(nb, cls)(gamma, beta)
        res[cls] = [layer.forward(x), layer.backward(dout), layer.dgamma, layer.dbeta,
                    layer.forward(x, False) if cls[0] == "B" else x, layer.std]
    for form, t in (("labels", labels), ("one-hot", np.eye(shape[1], dtype=dtype)[labels])):
        layer = nb.SoftmaxWithLoss()
        res[form] = [np.asarray(layer.forward(x, t)), layer.backward(0.5)]
    layer = nb.Softmax()
    res["Softmax"] = [layer.forward(x), layer.backward(dout)]
    layer = nb.MSE()
    res["MSE"] = [np.asarray(layer.forward(x, dout)), layer.backward()]
    return res


# float64 in the suite: compiling the 13 prange kernels costs ~22 s per dtype, and the
# float32 variants are the same templates; DERIVE_SLOW_TESTS=1 checks float32 too
@pytest.mark.parametrize("dtype", [np.float64] + ([np.float32] if os.environ.get(
    "DERIVE_SLOW_TESTS") else []))
@pytest.mark.parametrize("shape", [(5, 3), (70, 300), (40, 600)])
def test_parallel_kernels_run_and_agree_with_the_serial_ones(nb, dtype, shape):
    """PARALLEL = True: every layer runs its prange kernels (and not the serial ones) with
    the serial results: bit for bit where no sum runs along columns (softmax, the losses,
    layernorm's forward and dx), to 1e-12 (float64) where one does (batchnorm's
    statistics and what they give, layernorm's dgamma and dbeta: parts of the rows summed
    apart, then added)."""
    import numba
    kernels = [k for k in dir(nb) if k.endswith("_kernel") or k.endswith("_kernel_labels")]
    assert len(kernels) == 13
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        serial = _all_layers(nb, dtype, shape)
        counts = {k: len(getattr(nb, k).signatures) for k in kernels}
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        nb.PARALLEL = True
        try:
            parallel = _all_layers(nb, dtype, shape)
        finally:
            nb.PARALLEL = False
    assert {k: len(getattr(nb, k).signatures) for k in kernels} == counts
    assert all(getattr(nb, k + "_p").signatures for k in kernels)
    _, dout, gamma, _ = _data(shape, dtype, 1000.0, 11)
    terms = np.max(np.abs(dout * gamma / serial["BatchNormalization"][5]))   # dx's terms
    for name, values in serial.items():
        for k, (a, b) in enumerate(zip(values, parallel[name])):
            assert a.dtype == b.dtype == dtype
            if name == "BatchNormalization" or (name == "LayerNorm" and k in (2, 3)):
                _close(b, a, dtype, terms if (name, k) == ("BatchNormalization", 1) else None)
            else:
                assert np.array_equal(a, b), (name, k)


def test_parallel_sweeps_loop_over_rows_or_parts_of_the_rows():
    """The prange variant: layernorm's one sweep over chunks of rows; batchnorm's column
    sums over parts of the rows (each with its own sums, added after the loop), its xn
    and out over chunks of rows; so is layernorm's backward (it sums along rows and
    columns)."""
    def source(name, targets, parallel, inputs=("x", "gamma", "beta")):
        full = derive_spec(catalogue.get(name)).layer.named()
        return kernel_source("_k", [(n, "col" if n in ("gamma", "beta") else "full")
                                    for n in inputs], ["eps"],
                             [(n, full[n]) for n in targets], {"N": "rows", "D": "cols"},
                             parallel=parallel)
    ln, bn = source("layernorm", ["out", "xn"], True), source("batchnorm", ["out", "xn"], True)
    assert ln.count("for c in prange((n_rows + 15) // 16):") == 1 and "prange(8)" not in ln
    assert bn.count("for c in prange(8):") == 2 and "r0p_[c, j] += x" in bn
    assert bn.count("for c in prange((n_rows + 15) // 16):") == 1
    for src in (ln, bn):        # every sweep over the rows is a prange
        assert "parallel=True" in src and "    for i in range(n_rows):" not in src
    d = derive_spec(catalogue.get("layernorm"))
    back = kernel_source("_k", [("dout", "full"), ("std", "row"), ("xn", "full"),
                                ("gamma", "col")], [],
                         [(f"d{w}", d.result[w]) for w in d.wrt], {"N": "rows", "D": "cols"},
                         parallel=True)
    assert "for c in prange(8):" in back and "r2p_[c, j] += dout*xn" in back
    serial = source("batchnorm", ["out", "xn"], False)
    assert "prange" not in serial and "parallel=True" not in serial


def test_kernels_allocate_only_buffers_they_read(nb):
    """Every buffer a kernel allocates is read after it is written (the planner leaves
    out a row statistic no later sweep reads and the row buffer of a reduction read
    straight from an input or at the label)."""
    import inspect
    import re
    names = [k for k in dir(nb) if re.search(r"_kernel(_labels)?(_p)?$", k)]
    assert len(names) == 26
    allocated = 0
    for k in names:
        lines = inspect.getsource(getattr(nb, k).py_func).splitlines()
        for line in lines:
            m = re.match(r"\s*(\w+_) = np\.(empty|full)\(", line)
            if m:
                allocated += 1
                name = m.group(1)
                reads = [x for x in lines if x is not line and re.search(rf"\b{name}\b", x)
                         and not re.match(rf"\s*{name}\[[^]]*\] (=|\+=) ", x)]
                assert reads, (k, name)
    assert allocated > 40


def test_book2_api_writes_the_grads_in_place(book2):
    nbm, npm = book2
    x, dout, gamma, beta = _data((6, 4), np.float64, 1.0, seed=8)
    for cls in ("BatchNormalization", "LayerNorm"):
        got, want = getattr(nbm, cls)(gamma, beta), getattr(npm, cls)(gamma, beta)
        held = got.grads[0]
        _close(got.forward(x), want.forward(x), np.float64)
        _close(got.backward(dout), want.backward(dout), np.float64)
        assert got.grads[0] is held and got.params[0] is gamma
        for g, h in zip(got.grads, want.grads):
            _close(g, h, np.float64)


def test_row_values_take_one_sweep_and_column_values_one_sweep_each():
    """layernorm's mean, variance and xn: one sweep over the rows (three passes per row);
    batchnorm's: three sweeps (each column statistic needs every row first)."""
    sweeps = {}
    for name, dims in (("layernorm", {"N": "rows", "D": "cols"}),
                       ("batchnorm", {"N": "rows", "D": "cols"})):
        full = derive_spec(catalogue.get(name)).layer.named()
        src = kernel_source("_k", [("x", "full"), ("gamma", "col"), ("beta", "col")], ["eps"],
                            [("out", full["out"]), ("xn", full["xn"])], dims)
        sweeps[name] = src.count("for i in range(n_rows):")
        assert "np.empty((" not in src          # no full-size temporary in the kernel
    assert sweeps == {"layernorm": 1, "batchnorm": 3}


def test_float32_exp_is_within_two_ulp_and_keeps_the_limits(nb):
    """_k_exp_w on float32 (the kernels' exp, float32's own kernel) against exp in float64:
    2.4e-7 relative where the result is a normal float32 (two units in the last place),
    within a subnormal's spacing below that, inf above 88.72284, nan for nan; float64
    takes the module's float64 kernel (1e-15)."""
    import numba
    exp = nb._k_exp_w

    @numba.njit
    def exp_w(x_, y_):
        for i in range(x_.shape[0]):
            y_[i] = exp(x_[i])
    x = np.concatenate([np.linspace(-110.0, 95.0, 400_001),
                        [-np.inf, np.inf, np.nan, -1000.0, 1000.0, 0.0, 88.72283, 88.72284]])
    for dtype, tol in ((np.float32, 2.4e-7), (np.float64, 1e-15)):
        xs = x.astype(dtype)
        y = np.empty_like(xs)
        exp_w(xs, y)
        assert y.dtype == dtype
        with np.errstate(over="ignore"):
            want = np.exp(xs.astype(np.float64))
        info = np.finfo(dtype)
        normal = (want >= info.tiny) & (want <= info.max)
        assert np.max(np.abs(y[normal] - want[normal]) / want[normal]) <= tol
        small = want < info.tiny
        assert np.max(np.abs(y[small] - want[small])) <= info.smallest_subnormal
        assert np.array_equal(np.isnan(y), np.isnan(xs))
        assert np.all(np.isposinf(y[want > info.max]))


def test_float32_loops_vectorize_in_float32(nb):
    """The float32 kernels' loops run on vectors of float32 (LLVM's ``x float>``):
    softmax_with_loss's exp and sums, batchnorm's element loops."""
    import numba
    x = np.zeros((4, 8), np.float32)
    for kernel, args in ((nb._softmax_with_loss_forward_kernel,
                          (x, x, np.empty(1, np.float32), x.copy())),
                         (nb._batchnorm_backward_kernel,
                          (x, x[0], x, x[0], x.copy(), x[0].copy(), x[0].copy()))):
        fresh = numba.njit(error_model="numpy", fastmath={"contract"})(kernel.py_func)
        fresh(*args)
        llvm = "".join(fresh.inspect_llvm().values())
        assert "x float>" in llvm, kernel.__name__
