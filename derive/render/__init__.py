"""Renderers: one walkthrough, laid out once, written in each output format.

:func:`document` turns a :class:`~derive.derivation.Derivation` into a list of
blocks (headings, paragraphs, displayed equations) whose mathematics is already
spelled by a :class:`~derive.render.printers.Spelling`; each format module
(text, latex, mathml, markdown) only decides how blocks look. JSON is data,
not layout (:mod:`derive.render.json`).

>>> from derive import derive
>>> "graph: x → ×(−1) → exp → +1 → 1/· → out" in derive("sigmoid").to_text()
True
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..steps import out
from .printers import Spelling

FORMATS = ("text", "latex", "mathml", "markdown", "json")


@dataclass(frozen=True)
class Math:
    """Inline mathematics, already spelled for the target language."""
    source: str


@dataclass(frozen=True)
class Code:
    """A name from the code or the rule table, e.g. ``reciprocal``."""
    source: str


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Para:
    """Prose: a tuple of str, :class:`Math` and :class:`Code` parts."""
    parts: tuple


@dataclass(frozen=True)
class Display:
    """Displayed equations: rows of (left side, right side), aligned at '='."""
    rows: tuple


def render(d, fmt: str, **options) -> str:
    """The walkthrough of ``d`` in ``fmt`` (one of :data:`FORMATS`)."""
    from ..errors import DeriveError
    if fmt not in FORMATS:
        raise DeriveError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if is_matrix(d):
        if options.get("standalone") and fmt != "latex":
            raise DeriveError("--standalone only applies to --format latex")
        if fmt == "latex":
            return d.to_latex(standalone=bool(options.get("standalone")))
        if fmt == "json":
            return d.to_json() + "\n"
        return {"text": d.to_text, "mathml": d.to_mathml, "markdown": d.to_markdown}[fmt]()
    from importlib import import_module
    return import_module(f"derive.render.{fmt}").render(d, **options)


def is_matrix(d) -> bool:
    """True for a :class:`~derive.matrix.MatrixDerivation` (no elementwise graph)."""
    from ..matrix import MatrixDerivation
    return isinstance(d, MatrixDerivation)


def is_chain(graph) -> bool:
    """True when the graph is one input followed by unary nodes, each feeding the next."""
    ops = graph.op_nodes
    if len(graph.inputs) != 1 or not ops:
        return False
    prev = 0
    for n in ops:
        if n.args != (prev,):
            return False
        prev = n.id
    return prev == graph.output


def node_symbols(graph) -> dict:
    """Node id -> the Symbol a definition like ``b = exp(a)`` uses for it."""
    syms = {}
    for n in graph.nodes:
        if n.op == "input":
            syms[n.id] = n.expr
        elif n.id == graph.output:
            syms[n.id] = out
        else:
            syms[n.id] = sp.Symbol(n.name, real=True)
    return syms


def definitions(graph) -> list:
    """(node, value in the names of its argument nodes), in topological order."""
    syms = node_symbols(graph)
    return [(n, n.rule.value_at([syms[a] for a in n.args], n.const)) for n in graph.op_nodes]


def proof_text(proof) -> str:
    """One line: which kind of proof, how, and the numeric cross-check."""
    text = f"{proof.method} ({proof.detail}); numeric cross-check at {proof.points} points"
    return f"{text}; {proof.kink_note}" if proof.kink_note else text


def document(d, s: Spelling) -> list:
    """The blocks of a walkthrough, with mathematics spelled by ``s``."""
    spec, g = d.spec, d.graph
    blocks = [Heading(f"{spec.title}: layer {spec.name}", 1)]
    blocks += _about(spec, s)
    blocks.append(Display(((s.name("out"), s.expr(spec.forward)),)))
    blocks.append(Heading("Computational graph"))
    if is_chain(g):
        chain = s.arrow.join(s.label(n) for n in g.nodes) + s.arrow + s.name("out")
        blocks.append(Para(("graph: ", Math(chain))))
    else:
        blocks.append(Para(("The graph is not a single chain; its nodes in order:",)))
    blocks.append(Display(tuple((s.name(n.name), s.expr(v)) for n, v in definitions(g))))
    blocks.append(Heading("Backward, node by node"))
    arriving = Math(s.grad("out")) if s.is_latex else Math(f"{s.grad('out')} = dout")
    blocks.append(Para((arriving, " is the gradient arriving from the layer above. Each node "
                        "multiplies the gradient arriving at it by its local derivative.")))
    for step in d.steps:
        if step.kind in ("chain", "sum"):
            blocks += _step(step, g, s)
    for name in d.wrt:
        blocks += _cached(d, name, s)
    return blocks


def _about(spec, s) -> list:
    inputs = ", ".join(s.name(n) for n in spec.input_names)
    parts = ["inputs: ", Math(inputs)]
    if spec.params:
        params = ", ".join(f"{s.name(p)} = {spec.defaults[p]}" if p in spec.defaults
                           else s.name(p) for p in spec.param_names)
        parts += ["; parameters (constants, not differentiated): ", Math(params)]
    return [Para(tuple(parts) + ("; forward:",))]


def _node_by_name(g, name):
    return next(n for n in g.nodes if n.name == name)


def _step(step, g, s) -> list:
    if step.kind == "sum":
        head = ("sum at ", Math(s.name(step.node)), f": {step.note}")
        rows = ((s.grad(step.node), s.expr(step.expr)),)
        return [Para(head), Display(rows), Para(("proof: " + proof_text(step.proof),))]
    node = _node_by_name(g, step.node)
    head = ["node ", Math(s.name(step.node)), " (", Math(s.label(node)), "), rule ",
            Code(step.rule), ": the gradient to ", Math(s.name(step.target))]
    if not step.complete:
        head.append(" (one branch; the branches are added below)")
    product = f"{s.factor(step.upstream)}{s.times}{s.factor(step.local)}"
    rhs = f"{s.grad(step.node)}{s.times}{s.partial(step.node, step.target)} = {product} = " \
          f"{s.expr(step.expr)}"
    tail = ["proof: " + proof_text(step.proof)]
    if step.note and step.note != step.proof.kink_note:
        tail.append(f". Note: {step.note}")
    return [Para(tuple(head)), Display(((s.grad(step.target), rhs),)), Para(tuple(tail))]


def _cached(d, name, s) -> list:
    blocks = [Heading(f"Cached form of the gradient to {name}")]
    for step in d.steps:
        if step.target != name or step.kind not in ("rewrite", "result"):
            continue
        if step.kind == "rewrite":
            head = ("rewrite ", Code(step.rule) , f": {step.note}" if step.note else "")
        else:
            head = ("result, proven against sympy.diff of the forward formula",
                    f". Note: {step.note}" if step.note else "")
        blocks += [Para(head), Display(((s.grad(name), s.expr(step.expr)),)),
                   Para(("proof: " + proof_text(step.proof),))]
    needs = d.needs(name)
    cached = ", ".join(s.name(n) for n in needs)
    blocks.append(Para((f"the backward for {name} reads the cached values: ",
                        Math(cached) if needs else "none (only dout)",
                        f" (cached form: {d.cache[name]})")))
    return blocks
