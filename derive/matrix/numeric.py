"""Numeric cross-checks: index expressions on arrays, random layer inputs, central differences."""
from __future__ import annotations

import itertools
import math

import numpy as np
import sympy as sp
from sympy.tensor.indexed import Indexed

_FUNCS = {sp.exp: math.exp, sp.log: math.log}


def eval_index(e, env: dict, sizes: dict, bind: dict | None = None) -> float:
    """Evaluate an index-form expression; ``bind`` gives the free indices' values."""
    bind = bind or {}

    def ev(e):
        if e.is_Number:
            return float(e)
        if isinstance(e, sp.Symbol):
            if e in bind:
                return bind[e]
            return sizes[e.name] if e.name in sizes else float(env[e.name])
        if isinstance(e, Indexed):
            return float(env[e.base.label.name][tuple(int(ev(i)) for i in e.indices)])
        if isinstance(e, sp.KroneckerDelta):
            return 1.0 if ev(e.args[0]) == ev(e.args[1]) else 0.0
        if e.is_Add:
            return sum(ev(a) for a in e.args)
        if e.is_Mul:
            return math.prod(ev(a) for a in e.args)
        if e.is_Pow:
            return ev(e.args[0]) ** ev(e.args[1])
        if type(e) in _FUNCS:
            return _FUNCS[type(e)](ev(e.args[0]))
        if isinstance(e, sp.Sum):
            (v, lo, hi), rest = e.limits[0], e.limits[1:]
            inner = sp.Sum(e.function, *rest) if rest else e.function
            total = 0.0
            for k in range(int(ev(lo)), int(ev(hi)) + 1):
                bind[v] = k
                total += ev(inner)
            bind.pop(v, None)
            return total
        raise TypeError(f"cannot evaluate {type(e).__name__}")
    return ev(e)


def concrete(shape, sizes):
    return tuple(int(s.subs({sp.Symbol(k, integer=True, positive=True): v for k, v in sizes.items()}))
                 if not isinstance(s, int) else s for s in shape)


def random_env(layer, sizes: dict, rng, extra_shapes: dict | None = None) -> dict:
    """Random inputs for ``layer`` at ``sizes``, its forward values, and upstream gradients."""
    env = dict(sizes)
    for name, shape in {**layer.inputs, **layer.constants}.items():
        shp = concrete(shape, sizes)
        if name == "t":
            t = np.zeros(shp)
            t[np.arange(shp[0]), rng.integers(0, shp[1], shp[0])] = 1.0
            env[name] = t
        elif name == "mask":
            env[name] = (rng.random(shp) > 0.4).astype(float)
        elif name == "eps":
            env[name] = 1e-3
        else:
            env[name] = rng.standard_normal(shp)
    for name, _, expr in layer.nodes:
        env[name] = np.asarray(expr.evaluate(env), dtype=float)
    for name, shape in (extra_shapes or {}).items():
        env[name] = rng.standard_normal(concrete(shape, sizes)) if shape else float(rng.standard_normal())
    return env


def loss(layer, env: dict, dout) -> float:
    e = dict(env)
    for name, _, expr in layer.nodes:
        e[name] = expr.evaluate(e)
    return float(np.sum(dout * e[layer.output]))


def central_difference(layer, env: dict, wrt: str, dout, h=1e-6) -> np.ndarray:
    base = env[wrt]
    grad = np.zeros_like(base)
    for ix in itertools.product(*(range(s) for s in base.shape)):
        old = base[ix]
        base[ix] = old + h
        up = loss(layer, env, dout)
        base[ix] = old - h
        down = loss(layer, env, dout)
        base[ix] = old
        grad[ix] = (up - down) / (2 * h)
    return grad
