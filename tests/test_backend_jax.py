"""The jax backend: numeric/generated_jax.py, one jax.custom_vjp function per layer.

Each function's backward (the derivation's, in cached form) is checked against
finite differences (``jax.test_util.check_grads``), against JAX's own autodiff of a
plain jnp transcription of the spec's forward (printed from ``spec.forward`` as the spec
states it, no stable forms, no custom_vjp), and against the NumPy export
(numeric/generated.py, numeric/matrix_generated.py), in float64 at 1e-12 relative and
in float32 at 1e-5; finite wherever the NumPy export is at the edges (±1000); the same
under jax.jit and jax.vmap.
"""
from __future__ import annotations

import importlib.util
import inspect
import subprocess
import sys

import mpmath
import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402
from jax.test_util import check_grads  # noqa: E402

from derive import catalogue  # noqa: E402
from derive.codegen.jax_elementwise import plain_elementwise  # noqa: E402
from numeric import generated  # noqa: E402
from numeric.cases import ELEMENTWISE  # noqa: E402

G = pytest.importorskip("numeric.generated_jax")

ELEMENTWISE_NAMES = [n for n in catalogue.names() if n in ELEMENTWISE]


@pytest.fixture(autouse=True, scope="module")
def x64():
    with jax.enable_x64(True):
        yield


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """The spec's forwards as plain jnp functions: what JAX's autodiff differentiates."""
    path = tmp_path_factory.mktemp("plain") / "plain_jax.py"
    src = ["import jax", "import jax.numpy as jnp", ""]
    src += [plain_elementwise(catalogue.get(n)) for n in ELEMENTWISE_NAMES]
    path.write_text("\n\n".join(src))
    return _load(path, "plain_jax")


def _inputs(name, shape=(3, 4), seed=0, dtype=np.float64):
    case = ELEMENTWISE[name]
    rng = np.random.default_rng(seed)
    lo, hi = case.domain
    lo, hi = lo + 0.05 * (hi - lo), hi - 0.05 * (hi - lo)   # clear of the ends (bce: 0, 1)
    out = []
    for n in case.inputs:
        if case.kind(n) == "onehot":      # a label in [0, 1] (bce: soft targets too)
            out.append(rng.uniform(0.0, 1.0, shape))
        else:
            out.append(rng.uniform(lo, hi, shape))
    return [np.asarray(v, dtype=dtype) for v in out]


def _params(name):
    return dict(ELEMENTWISE[name].params)


def _vjp(f, args, dout, **params):
    out, pull = jax.vjp(lambda *a: f(*a, **params), *args)
    return out, pull(dout)


def _close(got, want, rtol):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    scale = max(float(np.max(np.abs(want))), 1e-300) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale)


def test_module_has_every_elementwise_layer_as_a_custom_vjp():
    for n in ELEMENTWISE_NAMES:
        f = getattr(G, n)
        assert isinstance(f, jax.custom_vjp), n
        spec = catalogue.get(n)
        sig = inspect.signature(f.fun)
        assert list(sig.parameters) == [*spec.input_names, *spec.param_names], n


@pytest.mark.parametrize("name", ELEMENTWISE_NAMES)
def test_elementwise_layer(name, plain):
    f, ref = getattr(G, name), getattr(plain, name)
    params = _params(name)
    args = [jnp.asarray(a) for a in _inputs(name)]
    rng = np.random.default_rng(1)
    dout = jnp.asarray(rng.normal(size=args[0].shape))
    # finite differences (check_grads perturbs by 1e-4: keep clear of the kinks)
    check_grads(lambda *a: f(*a, **params), args, order=1, modes=["rev"])
    # JAX's own autodiff of the spec's forward
    out, grads = _vjp(f, args, dout, **params)
    out_ref, grads_ref = _vjp(ref, args, dout, **params)
    _close(out, out_ref, 1e-12)
    for g, r in zip(grads, grads_ref):
        _close(g, r, 1e-12)
    # the NumPy export: forward and backward of its class
    case = ELEMENTWISE[name]
    layer = getattr(generated, case.class_name)(**params)
    np_out = layer.forward(*[np.asarray(a) for a in args])
    np_grads = layer.backward(np.asarray(dout))
    np_grads = np_grads if isinstance(np_grads, tuple) else (np_grads,)
    _close(out, np_out, 1e-12)
    for g, r in zip(grads, np_grads):
        _close(g, r, 1e-12)
    # float32: dtype kept, within 1e-5 of the float64 NumPy export
    args32 = [a.astype(jnp.float32) for a in args]
    out32, grads32 = _vjp(f, args32, dout.astype(jnp.float32), **params)
    assert out32.dtype == jnp.float32 and all(g.dtype == jnp.float32 for g in grads32)
    _close(out32, np_out, 1e-5)
    for g, r in zip(grads32, np_grads):
        _close(g, r, 1e-5)
    # jit and vmap (over the first axis) give the same
    jitted = jax.jit(lambda *a: _vjp(f, a, dout, **params))
    out_j, grads_j = jitted(*args)
    _close(out_j, out, 1e-14)
    for g, r in zip(grads_j, grads):
        _close(g, r, 1e-14)
    mapped = jax.vmap(lambda d, *a: _vjp(f, a, d, **params)[1])(dout, *args)
    for g, r in zip(mapped, grads):
        _close(g, r, 1e-14)


@pytest.mark.parametrize("name", ELEMENTWISE_NAMES)
def test_elementwise_edges_finite(name):
    """At the domain's edges (±1000, ±50, ±1e-8 ...) out and the gradients are finite
    wherever the NumPy export's are, and agree with it there."""
    f = getattr(G, name)
    params = _params(name)
    case = ELEMENTWISE[name]
    edges = case.edge_values()
    if len(case.inputs) == 1:
        args = [edges]
    else:                          # every pair of edges (x, t); bce's t in [0, 1]
        x, t = np.meshgrid(edges, edges if case.kind("t") != "onehot" else [0.0, 0.3, 1.0])
        args = [x.ravel(), t.ravel()]
    dout = np.ones_like(args[0])
    out, grads = jax.jit(lambda *a: _vjp(f, a, jnp.asarray(dout), **params))(*args)
    layer = getattr(generated, case.class_name)(**params)
    with np.errstate(all="ignore"):
        np_out = layer.forward(*args)
        np_grads = layer.backward(dout)
    np_grads = np_grads if isinstance(np_grads, tuple) else (np_grads,)
    for got, want in [(out, np_out), *zip(grads, np_grads)]:
        got, want = np.asarray(got), np.asarray(want)
        ok = np.isfinite(want)
        assert np.isfinite(got[ok]).all(), (name, args, got, want)
        np.testing.assert_allclose(got[ok], want[ok], rtol=1e-12, atol=1e-13)  # 1e-13: a cancelling sum (log_cosh near 0)


_SELU_ALPHA, _SELU_SCALE = "1.6732632423543772848170429916717", "1.0507009873554804934193349852946"
#: the ELU family in 40 digits (mpmath), with their derivatives: (out, dout/dx) of x
_EXPM1_FAMILY = {
    "elu": lambda x: (mpmath.expm1(x) if x <= 0 else x, mpmath.exp(x) if x <= 0 else 1),
    "celu": lambda x: (mpmath.expm1(x) if x <= 0 else x, mpmath.exp(x) if x <= 0 else 1),
    "selu": lambda x: ((mpmath.mpf(_SELU_SCALE) * mpmath.mpf(_SELU_ALPHA) * mpmath.expm1(x),
                        mpmath.mpf(_SELU_SCALE) * mpmath.mpf(_SELU_ALPHA) * mpmath.exp(x))
                       if x <= 0 else (mpmath.mpf(_SELU_SCALE) * x, mpmath.mpf(_SELU_SCALE))),
}


@pytest.mark.parametrize("name", sorted(_EXPM1_FAMILY))
def test_expm1_forward_relative_everywhere(name):
    """ELU, CELU, SELU (alpha 1): forward and gradient within a few ulps, element by
    element, of 40-digit values from x = -700 to -1e-12 (where expm1(x) + 1 would lose
    digits for exp(x), and exp(x) - 1 for expm1(x)) and a few positive x."""
    mpmath.mp.dps = 40
    x = np.concatenate([-np.logspace(-12, np.log10(700.0), 400), [1e-8, 0.5, 3.0]])
    want = [_EXPM1_FAMILY[name](mpmath.mpf(float(v))) for v in x]
    out, (dx,) = jax.jit(lambda a: _vjp(getattr(G, name), (a,), jnp.ones_like(a)))(x)
    for got, col in ((out, 0), (dx, 1)):
        ref = np.array([float(w[col]) for w in want])
        np.testing.assert_allclose(np.asarray(got), ref, rtol=4e-16 * 8, atol=0)
    x32 = x[x > -80].astype(np.float32)      # exp(-88) is float32's smallest normal
    out32, (dx32,) = _vjp(getattr(G, name), (jnp.asarray(x32),), jnp.ones_like(x32))
    ref32 = [_EXPM1_FAMILY[name](mpmath.mpf(float(v))) for v in x32]
    for got, col in ((out32, 0), (dx32, 1)):
        np.testing.assert_allclose(np.asarray(got, np.float64), [float(w[col]) for w in ref32],
                                   rtol=1e-6, atol=0)


def test_parameters_are_static_and_broadcasting_sums_back():
    x = jnp.linspace(-2.0, 2.0, 9)
    g = jax.jit(jax.grad(lambda x: G.leaky_relu(x, 0.2).sum()))(x)
    np.testing.assert_array_equal(np.asarray(g), np.where(np.asarray(x) > 0, 1.0, 0.2))
    out = jax.jit(G.leaky_relu, static_argnums=1)(x, 0.2)      # as the module docstring says
    np.testing.assert_array_equal(np.asarray(out), np.where(np.asarray(x) > 0, x, 0.2 * x))
    # one input, no _fit: a Python scalar's and a float32 scalar's gradient keep their type
    assert float(jax.grad(G.elu)(-1.0)) == pytest.approx(np.exp(-1.0), rel=1e-15)
    g32 = jax.grad(G.sigmoid)(jnp.float32(0.5))
    assert g32.shape == () and g32.dtype == jnp.float32
    # mul(x, scalar) and mul(row, column): cotangents summed back, in the input's dtype
    y = jnp.float32(3.0)
    dx, dy = jax.grad(lambda x, y: G.mul(x, y).sum(), argnums=(0, 1))(x.astype(jnp.float32), y)
    assert dy.shape == () and dy.dtype == jnp.float32
    np.testing.assert_allclose(float(dy), float(jnp.sum(x)), rtol=1e-6, atol=1e-6)
    a, b = jnp.arange(3.0).reshape(3, 1), jnp.arange(4.0).reshape(1, 4)
    da, db = jax.grad(lambda a, b: G.mul(a, b).sum(), argnums=(0, 1))(a, b)
    assert da.shape == (3, 1) and db.shape == (1, 4)
    np.testing.assert_allclose(np.asarray(da).ravel(), [6.0] * 3)


def test_export_of_a_users_layer_imports_and_runs(tmp_path):
    path = tmp_path / "mine.py"
    subprocess.run([sys.executable, "-m", "derive", "export", "--expr", "x*np.tanh(x)",
                    "--name", "xtanh", "--backend", "jax", "-o", str(path)], check=True,
                   capture_output=True)
    mine = _load(path, "mine")
    x = jnp.linspace(-3.0, 3.0, 7)
    check_grads(mine.xtanh, (x,), order=1, modes=["rev"])
    g = jax.jit(jax.grad(lambda x: mine.xtanh(x).sum()))(x)
    want = np.tanh(np.asarray(x)) + np.asarray(x) / np.cosh(np.asarray(x)) ** 2
    np.testing.assert_allclose(np.asarray(g), want, rtol=1e-12)


# --- tensor layers ---------------------------------------------------------------------

from numeric import matrix_generated  # noqa: E402
from numeric.cases import LOOPS, MATRIX  # noqa: E402
from numeric.layercase import input_sets  # noqa: E402

TENSOR_NAMES = [n for n in catalogue.names() if n in MATRIX and n not in LOOPS]
_INT_PARAMS = ("stride", "pad", "pool_h", "pool_w")


@pytest.fixture(scope="module")
def plain_tensor(tmp_path_factory):
    from derive.codegen.jax_backend import plain_module
    path = tmp_path_factory.mktemp("plain") / "plain_tensor_jax.py"
    path.write_text(plain_module([catalogue.get(n) for n in TENSOR_NAMES]))
    return _load(path, "plain_tensor_jax")


def _param_sets(case):
    for ps in case.param_sets or ({},):
        params = {**case.params, **ps}
        yield {k: int(v) if k in _INT_PARAMS else v for k, v in params.items()}


def _tensor_sets(name, params, seed=0):
    """(jax argument values in call order, the NumPy values by name) per size set."""
    spec, case = catalogue.get(name), MATRIX[name]
    rng = np.random.default_rng(seed)
    order = [*spec.input_names, *spec.weight_names, *spec.const_names]
    for label, vals in input_sets(case, rng, params=params):
        if "flattened" in label:
            continue
        if case.mask_attr:                    # dropout: the mask is an argument here
            vals[case.mask_attr] = rng.random(vals[order[0]].shape) > 0.5
        yield [vals[n] for n in order], vals


def _numpy_export(name, vals, params, douts):
    """out and {name: gradient} of the NumPy export's class (numeric/matrix_generated.py)."""
    spec, case = catalogue.get(name), MATRIX[name]
    layer = getattr(matrix_generated, case.class_name)(*[vals[w] for w in case.weights],
                                                      **params)
    if case.mask_attr:
        layer.forward(vals[spec.input_names[0]])
        setattr(layer, case.mask_attr, vals[case.mask_attr])      # the mask we drew
        out = vals[spec.input_names[0]] * vals[case.mask_attr]
    else:
        out = layer.forward(*[vals[n] for n in (*case.inputs, *case.consts)])
    got = layer.backward(*douts)
    got = got if isinstance(got, tuple) else (got,)
    grads = dict(zip(spec.input_names, got))
    grads.update({w: getattr(layer, "d" + w) for w in spec.weight_names})
    return out, grads


@pytest.mark.parametrize("name", TENSOR_NAMES)
def test_tensor_layer(name, plain_tensor):
    spec = catalogue.get(name)
    f, ref = getattr(G, name), getattr(plain_tensor, name)
    assert isinstance(f, jax.custom_vjp)
    k = len(spec.input_names) + len(spec.weight_names)
    diff = [*spec.input_names, *spec.weight_names]
    rng = np.random.default_rng(2)
    for params in _param_sets(MATRIX[name]):
        for values, vals in list(_tensor_sets(name, params))[-1:]:  # the larger size set
            args = [jnp.asarray(v) for v in values]
            consts = args[k:]

            def ours(*a, f=f, consts=consts, params=params):
                return f(*a, *consts, **params)

            def plain(*a, consts=consts, params=params):
                return ref(*a, *consts, **params)
            check_grads(jax.jit(ours), args[:k], order=1, modes=["rev"])
            shapes = jax.tree_util.tree_leaves(jax.eval_shape(ours, *args[:k]))
            douts = [np.asarray(rng.uniform(0.5, 2.0, o.shape) * rng.choice([-1, 1], o.shape))
                     for o in shapes]
            dout = tuple(map(jnp.asarray, douts)) if len(douts) > 1 else jnp.asarray(douts[0])
            # every computation under one jit each: eager dispatch compiles per primitive
            run, run_ref = _vjp_jit(ours), _vjp_jit(plain)
            out, grads = run(dout, *args[:k])
            for got, want in zip(jax.tree_util.tree_leaves((out, grads)),
                                 jax.tree_util.tree_leaves(run_ref(dout, *args[:k]))):
                _close(got, want, 1e-12)
            np_out, np_grads = _numpy_export(name, vals, params, douts)
            for got, want in zip(jax.tree_util.tree_leaves(out), jax.tree_util.tree_leaves(np_out)):
                _close(got, want, 1e-12)
            for w, g in zip(diff, grads):
                _close(g, np_grads[w], 1e-12)
            # float32 in, float32 out, within 1e-5 of the float64 NumPy export
            args32 = [a.astype(jnp.float32) if jnp.issubdtype(a.dtype, jnp.floating) else a
                      for a in args]

            def ours32(*a, f=f, consts=args32[k:], params=params):
                return f(*a, *consts, **params)
            dout32 = jax.tree_util.tree_map(lambda d: d.astype(jnp.float32), dout)
            out32, grads32 = _vjp_jit(ours32)(dout32, *args32[:k])
            assert all(v.dtype == jnp.float32 for v in jax.tree_util.tree_leaves((out32, grads32)))
            for w, g in zip(diff, grads32):
                _close(g, np_grads[w], 1e-5)
            # vmap over a batch of two argument sets gives each set's gradients
            other = [a[::-1] if a.ndim else a for a in args[:k]] + consts

            def grads_of(d, *a, f=f, params=params):
                return jax.vjp(lambda *w: f(*w, *a[k:], **params), *a[:k])[1](d)
            mapped = jax.jit(jax.vmap(grads_of))(
                jax.tree_util.tree_map(lambda d: jnp.stack([d, d]), dout),
                *[jnp.stack([a, b]) for a, b in zip(args, other)])
            for i, which in enumerate((args, other)):
                one = run(dout, *which[:k])[1]
                for got, want in zip(mapped, one):
                    _close(got[i], want, 1e-12)


def _vjp_jit(f):
    """jax.jit of (out, the cotangents of f's arguments for dout)."""
    def run(dout, *args):
        out, pull = jax.vjp(f, *args)
        return out, pull(dout)
    return jax.jit(run)


def test_softmax_with_loss_takes_label_indices():
    rng = np.random.default_rng(3)
    x = jnp.asarray(rng.normal(size=(5, 4)))
    labels = jnp.asarray(rng.integers(0, 4, 5))
    onehot = jax.nn.one_hot(labels, 4, dtype=x.dtype)
    g1 = jax.jit(jax.grad(G.softmax_with_loss))(x, labels)
    g2 = jax.grad(G.softmax_with_loss)(x, onehot)
    np.testing.assert_allclose(np.asarray(g1), np.asarray(g2), rtol=1e-15)
    sm = np.exp(np.asarray(x)) / np.exp(np.asarray(x)).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(g1), (sm - np.asarray(onehot)) / 5, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(LOOPS))
def test_time_loop_against_the_numpy_export(name):
    """time_rnn/time_lstm/time_gru: the cell's custom_vjp over lax.scan, against the NumPy
    export's Time class (forward hs, backward dxs and the summed weight gradients)."""
    case = MATRIX[name]
    rng = np.random.default_rng(4)
    for _, vals in input_sets(case, rng):
        xs, weights = vals["xs"], [vals[w] for w in case.weights]
        layer = getattr(matrix_generated, case.class_name)(*weights)
        hs = layer.forward(xs)
        dhs = rng.normal(size=hs.shape)
        dxs = layer.backward(dhs)
        f = getattr(G, name)
        out, pull = jax.vjp(lambda *a: f(*a), jnp.asarray(xs), *map(jnp.asarray, weights))
        _close(out, hs, 1e-12)
        grads = jax.jit(pull)(jnp.asarray(dhs))
        _close(grads[0], dxs, 1e-12)
        for w, g in zip(case.weights, grads[1:]):
            _close(g, getattr(layer, "d" + w), 1e-12)


def test_export_of_a_users_tensor_layer_imports_and_runs(tmp_path):
    path = tmp_path / "dense.py"
    subprocess.run([sys.executable, "-m", "derive", "export", "--expr", "np.tanh(x @ W + b)",
                    "--shape", "x=N,D", "--shape", "W=D,M", "--shape", "b=M", "--weight", "W,b",
                    "--name", "dense", "--backend", "jax", "-o", str(path)], check=True,
                   capture_output=True)
    mine = _load(path, "dense")
    rng = np.random.default_rng(5)
    x, W, b = (jnp.asarray(rng.normal(size=s)) for s in ((4, 3), (3, 5), (5,)))
    check_grads(jax.jit(mine.dense), (x, W, b), order=1, modes=["rev"])
    dx, dW, db = jax.jit(jax.grad(lambda *a: mine.dense(*a).sum(), argnums=(0, 1, 2)))(x, W, b)
    local = 1 - np.tanh(np.asarray(x) @ np.asarray(W) + np.asarray(b)) ** 2
    np.testing.assert_allclose(np.asarray(dx), local @ np.asarray(W).T, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(dW), np.asarray(x).T @ local, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(db), local.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("name", ["softmax", "softmax_with_loss", "sigmoid_with_loss",
                                  "time_softmax_with_loss", "attention_weight", "layernorm"])
def test_tensor_layer_finite_at_1000(name):
    """Inputs of size ±1000: out and gradients finite (the max-subtracted softmax, the
    softplus forms), as the NumPy export's."""
    values, vals = next(_tensor_sets(name, {}))
    spec = catalogue.get(name)
    k = len(spec.input_names) + len(spec.weight_names)
    big = [jnp.asarray(v) * (1000.0 if i < len(spec.input_names) else 1.0)
           for i, v in enumerate(values)]
    f = getattr(G, name)
    out, grads = _vjp_jit(lambda *a: f(*a, *big[k:]))(jnp.ones(jax.eval_shape(
        lambda *a: f(*a, *big[k:]), *big[:k]).shape), *big[:k])
    assert all(np.isfinite(np.asarray(v)).all() for v in jax.tree_util.tree_leaves((out, grads)))
