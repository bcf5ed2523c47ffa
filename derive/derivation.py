"""One layer, spec to proven result: the :class:`Derivation` and :func:`derive`.

>>> d = derive("sigmoid")
>>> d.result["x"]
dout*out*(1 - out)
>>> [s.rule for s in d.steps][:5]
['seed', 'reciprocal', 'add_const', 'exp', 'neg']
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from . import catalogue
from .backward import backward_steps
from .cached import candidates, choose
from .errors import DeriveError
from .graph import Graph, decompose
from .steps import Recorder, dout


@dataclass
class Derivation:
    """A proven walkthrough: graph, steps, and the final cached-form gradients."""

    spec: catalogue.LayerSpec
    graph: Graph
    steps: list
    result: dict            # input name -> gradient in cached form (names dout, out, inputs, params)
    chain: dict             # input name -> gradient as the chain rule left it
    cache: dict             # input name -> "out" | "x" | "mixed"
    wrt: tuple = field(default_factory=tuple)

    @property
    def forward(self) -> sp.Expr:
        return self.spec.forward

    def needs(self, name: str) -> tuple:
        """The cached values the backward for ``name`` reads, e.g. ('out',)."""
        free = {s.name for s in self.result[name].free_symbols}
        order = ("out", *self.spec.input_names)
        return tuple(n for n in order if n in free)

    # renderers (imported lazily: a derivation does not need them)
    def to_text(self) -> str:
        from .render import text
        return text.render(self)

    def to_latex(self, standalone: bool = False) -> str:
        from .render import latex
        return latex.render(self, standalone=standalone)

    def to_mathml(self) -> str:
        from .render import mathml
        return mathml.render(self)

    def to_markdown(self) -> str:
        from .render import markdown
        return markdown.render(self)

    def to_dict(self) -> dict:
        from .render import json as json_render
        return json_render.to_dict(self)

    def to_json(self) -> str:
        from .render import json as json_render
        return json_render.render(self)

    # notebook display (derive/notebook.py)
    def _repr_html_(self) -> str:
        from .notebook import html
        return html(self)

    def _repr_latex_(self) -> str:
        from .notebook import latex
        return latex(self)

    def _repr_markdown_(self) -> str:
        from .notebook import markdown
        return markdown(self)


def derive_spec(spec: catalogue.LayerSpec, wrt=None) -> Derivation:
    """Derive the backward pass of ``spec`` for the inputs named in ``wrt`` (default: all)."""
    wanted = _wanted(spec, wrt)
    graph = decompose(spec.forward, spec.inputs)
    rec = Recorder(spec.forward)
    chain = backward_steps(graph, rec, wanted)
    result, cache = {}, {}
    for s in wanted:
        result[s.name], cache[s.name] = _rewrite(rec, spec, s, chain[s.name])
    return Derivation(spec, graph, rec.steps, result, chain, cache, tuple(s.name for s in wanted))


def _wanted(spec, wrt):
    if wrt is None:
        return spec.inputs
    names = [wrt] if isinstance(wrt, str) else list(wrt)
    by_name = {s.name: s for s in spec.inputs}
    for n in names:
        if n not in by_name:
            raise DeriveError(f"--wrt {n}: {spec.name} has inputs {', '.join(by_name)}")
    return tuple(by_name[n] for n in names)


def _rewrite(rec: Recorder, spec, x, g0):
    """Record the moves to the chosen cached form, then prove it against sympy.diff."""
    reference = dout * sp.diff(spec.forward, x)
    best = choose(candidates(g0, spec.forward, x, spec.inputs)) if g0 != 0 else None
    prev = g0
    if best is not None:
        for rule, expr, note in best.moves:
            rec.record("rewrite", rule, "out", x.name, expr, reference=prev, note=note,
                       against="the previous line",
                       allow_kink=False, what=f"rewriting ∂L/∂{x.name} ({rule})")
            prev = expr
    notes = [n for n in spec.notes]
    rec.record("result", "result", "out", x.name, prev, reference=reference,
               against="sympy.diff of the forward formula",
               what=f"∂L/∂{x.name} against sympy.diff of the forward formula",
               note="; ".join(notes))
    return prev, (best.cache if best else "x")


def derive(name: str | None = None, *, expr: str | None = None, wrt=None, var=None):
    """Derive a catalogue layer by name, or a custom formula given as text.

    A matrix layer's name (``affine``, ``softmax`` ... see :mod:`derive.matrix`)
    gives a :class:`~derive.matrix.MatrixDerivation` (same rendering surface).

    ``expr`` is parsed by the safe parser (never evaluated); ``var`` names its
    inputs in order (default: its names in order of appearance).
    """
    if (name is None) == (expr is None):
        raise DeriveError("give a layer name or expr=..., not both")
    if name is not None:
        if catalogue.is_matrix(name):
            if var is not None:
                raise DeriveError("--var applies only to --expr")
            from .matrix import derive_matrix
            return derive_matrix(name, wrt)
        return derive_spec(catalogue.get(name), wrt)
    from .parse import parse_formula
    spec = spec_from_text(expr, var, parse_formula)
    return derive_spec(spec, wrt)


def spec_from_text(text: str, var, parse_formula) -> catalogue.LayerSpec:
    """A custom layer from a formula string; ``dout``/``out`` are reserved names."""
    formula = parse_formula(text)
    reserved = {"dout", "out"} & set(formula.names)
    if reserved:
        raise DeriveError(f"{', '.join(sorted(reserved))} cannot be an input name of a formula")
    symbols = {s.name: s for s in formula.expr.free_symbols}
    order = list(var) if var else [n for n in formula.names if n in symbols]
    for n in order:
        if n not in symbols:
            raise DeriveError(f"--var {n}: the formula has no name {n!r} "
                              f"(it has {', '.join(formula.names) or 'none'})")
    if not order:
        raise DeriveError("the formula has no input: it is a constant")
    params = [symbols[n] for n in formula.names if n in symbols and n not in order]
    if params:
        raise DeriveError(f"--var leaves {', '.join(s.name for s in params)} out; "
                          "name every input with --var")
    return catalogue.from_expr(formula.expr, [symbols[n] for n in order])
