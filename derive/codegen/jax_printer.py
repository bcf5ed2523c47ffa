"""The JAX printer of generated code: the NumPy code printer speaking ``jnp``.

:class:`JaxCodePrinter` is :class:`~derive.codegen.printer.NumpyCodePrinter` (SymPy's
``NumPyPrinter`` with derive's structural values) with every ``np.`` call spelled
``jnp.``, and the few functions that differ in JAX: the logistic function is
``jax.nn.sigmoid``, ``erf`` is ``jax.lax.erf``, ``min``/``max`` of two values are
``jnp.minimum``/``jnp.maximum``, conditions joined with ``&``/``|``. The window
helpers (``_windows``, ``_fold``, ``_first_max``...) and ``_scatter_add``/``_place`` keep
their names; the JAX module carries JAX versions of them (:mod:`.jax_runtime`).

>>> import sympy as sp
>>> from derive.codegen.stable import sigmoid
>>> x = sp.Symbol("x", real=True)
>>> p = JaxCodePrinter()
>>> p.doprint(sp.Piecewise((x, x > 0), (sp.Rational(1, 100)*x, True)))
'jnp.where((x > 0.0), x, (0.01)*x)'
>>> p.doprint(x*sigmoid(-x) + sp.exp(x) + sp.Max(0, x))
'x*jax.nn.sigmoid(-x) + jnp.exp(x) + jnp.maximum(0.0, x)'
>>> p.doprint(x**2 + 1/x + sp.sqrt(x))
'jnp.sqrt(x) + x**2 + 1/x'
>>> p.doprint(sp.erf(x/2))
'jax.lax.erf((0.5)*x)'
"""
from __future__ import annotations

import re

from .printer import NumpyCodePrinter

__all__ = ["JaxCodePrinter", "to_jnp"]

_NP = re.compile(r"(?<![\w.])np\.")


def to_jnp(text: str) -> str:
    """NumPy code as JAX code: each ``np.`` call spelled ``jnp.``.

    >>> to_jnp("np.sum(np.exp(x), axis=1) + numpy_np.x")
    'jnp.sum(jnp.exp(x), axis=1) + numpy_np.x'
    """
    return _NP.sub("jnp.", text)


class JaxCodePrinter(NumpyCodePrinter):
    """:class:`NumpyCodePrinter` spelling ``jnp.`` (``jax.nn.sigmoid``, ``jax.lax.erf``)."""

    buffers = False      # JAX arrays are immutable: statements are expressions, never out=

    def __init__(self, settings=None):
        super().__init__({"allow_unknown_functions": False, **(settings or {})})

    def doprint(self, expr, assign_to=None):
        return to_jnp(super().doprint(expr, assign_to))

    def _module_format(self, fqn, register=True):
        return to_jnp(super()._module_format(fqn, register))

    def _print_sigmoid(self, e):
        return f"jax.nn.sigmoid({self._print(e.args[0])})"

    def _print_softplus(self, e):
        return f"jnp.logaddexp(0.0, {self._print(e.args[0])})"

    def _print_logaddexp(self, e):
        return f"jnp.logaddexp({self._print(e.args[0])}, {self._print(e.args[1])})"

    def _print_erf(self, e):
        return f"jax.lax.erf({self._print(e.args[0])})"

    def _print_Pow(self, e, rational=False):
        """An integer power as ``x**2`` (JAX's integer_pow: multiplies), ``1/x``."""
        from sympy.printing.precedence import PRECEDENCE
        base, ex = e.args
        if ex.is_Integer and abs(int(ex)) <= 16:
            b = self.parenthesize(base, PRECEDENCE["Pow"], strict=True)
            return f"1/{b}" if ex == -1 else f"{b}**{int(ex)}"
        return super()._print_Pow(e, rational=rational)

    def _print_Abs(self, e):
        return f"jnp.abs({self._print(e.args[0])})"

    def _pairwise(self, e, fn):
        args = list(e.args)
        text = self._print(args[0])
        for a in args[1:]:
            text = f"jnp.{fn}({text}, {self._print(a)})"
        return text

    def _print_Min(self, e):
        return self._pairwise(e, "minimum")

    def _print_Max(self, e):
        return self._pairwise(e, "maximum")

    def _print_And(self, e):
        return "(" + " & ".join(self._print(a) for a in e.args) + ")"

    def _print_Or(self, e):
        return "(" + " | ".join(self._print(a) for a in e.args) + ")"

    def _print_Not(self, e):
        return f"(~{self._print(e.args[0])})"
