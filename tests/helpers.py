"""Small helpers shared by the test modules (no tests here)."""
import ast
import inspect
import textwrap

import numpy as np


def fd(f, x, h=1e-6):
    """Central differences of the scalar ``f()`` with respect to the array ``x`` that ``f``
    reads: each element is nudged in place and restored."""
    g = np.zeros_like(x)
    for ix in np.ndindex(*x.shape):
        old = x[ix]
        x[ix] = old + h
        up = f()
        x[ix] = old - h
        down = f()
        x[ix] = old
        g[ix] = (up - down) / (2 * h)
    return g


def layer_classes(module) -> list:
    """The names of the layer classes a generated module defines."""
    return sorted(n for n, v in vars(module).items()
                  if isinstance(v, type) and hasattr(v, "backward") and v.__module__ == module.__name__)


def assert_big_endian_gives_native(cls):
    """forward on '>f8' inputs, then backward on a '>f8' dout: native float64 results equal
    to those of the same calls on native arrays."""
    import inspect
    arity = sum(1 for p in list(inspect.signature(cls.forward).parameters.values())[1:]
                if p.default is inspect.Parameter.empty)
    rng = np.random.default_rng(3)
    native = [rng.uniform(0.1, 0.9, 6) for _ in range(arity)]
    dout = rng.uniform(-1, 1, 6)
    runs = []
    for cast in (lambda a: a, lambda a: a.astype(">f8")):
        layer = cls()
        out = layer.forward(*[cast(a) for a in native])
        grads = layer.backward(cast(dout) if np.ndim(out) else 1.0)
        runs.append([out] + (list(grads) if isinstance(grads, tuple) else [grads]))
    for want, got in zip(*runs):
        assert got.dtype == np.float64 and got.dtype.isnative, (cls.__name__, got.dtype)
        np.testing.assert_array_equal(got, want)


def statements(fn) -> str:
    """The statements of ``fn``, without its docstring and comments (to look for calls)."""
    node = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
    if ast.get_docstring(node) is not None:
        node.body = node.body[1:]
    return ast.unparse(node)
