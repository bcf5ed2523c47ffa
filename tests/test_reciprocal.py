"""Several negative powers of one value share one division (derive/codegen/reciprocal.py)."""
from __future__ import annotations

import inspect

import numpy as np
import sympy as sp

from derive import derive
from derive.codegen import code_for
from derive.codegen.reciprocal import shared_reciprocals
from numeric import generated
from numeric.reference import REFERENCE

x, u, r = sp.symbols("x u r", real=True)


def test_two_negative_powers_of_one_value_become_one_reciprocal_and_its_powers():
    repl, reduced = shared_reciprocals([(u, sp.exp(x) + 1)], [x / u, u**-2, u**-3 + x],
                                       iter([r]))
    assert repl == [(u, sp.exp(x) + 1), (r, 1 / u)]
    assert reduced == [r * x, r**2, r**3 + x]
    # the divisions left: one, in r's definition
    assert sum(1 for e in [v for _, v in repl] + reduced for a in sp.preorder_traversal(e)
               if a.is_Pow and a.exp.is_negative) == 1


def test_an_input_raised_to_two_negative_powers_gets_its_reciprocal_first():
    repl, reduced = shared_reciprocals([], [1 / x, x**-2], iter([r]))
    assert repl == [(r, 1 / x)] and reduced == [r, r**2]


def test_one_negative_power_is_left_alone():
    repl, reduced = shared_reciprocals([(u, x + 1)], [x / u, 3 / u], iter([r]))
    assert repl == [(u, x + 1)] and reduced == [x / u, 3 / u]


def _forward_source(name):
    cls = code_for(derive(name)).cls
    return cls[cls.index("def forward"):cls.index("def backward")]


def test_softsign_forward_divides_once_and_matches_the_book():
    src = _forward_source("softsign")
    assert src.count("np.divide(") == 1, src
    xs = np.linspace(-1000, 1000, 20001)
    mine, book = generated.Softsign(), REFERENCE["softsign"]()
    np.testing.assert_allclose(mine.forward(xs), book.forward(xs), rtol=4e-16, atol=0)
    dout = np.cos(xs)
    np.testing.assert_allclose(mine.backward(dout), book.backward(dout), rtol=1e-15, atol=0)


def test_softsign_numba_forward_loop_divides_once():
    from derive.codegen.numba_backend import layer_source
    src = layer_source(derive("softsign"))
    start = src.index("def _softsign_forward_loop(")
    loop = src[start:src.index("\n\n", start)]
    assert loop.count("/") == 1, loop
