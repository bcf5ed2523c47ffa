"""Renderers: one walkthrough, laid out once, written in each output format.

:func:`document` turns a :class:`~derive.derivation.Derivation` — any layer, scalar or
tensor — into a list of blocks (headings, paragraphs, displayed equations) whose
mathematics is already spelled by a :class:`~derive.render.printers.Spelling`; each
format module (text, latex, mathml, markdown) only decides how blocks look. JSON is
data, not layout (:mod:`derive.render.json`).

>>> from derive import derive
>>> "graph: x → ×(−1) → exp → +1 → 1/· → y" in derive("sigmoid").to_text()
True
"""
from __future__ import annotations

from dataclasses import dataclass

from ..shapeargs import broadcast_axes, graph_edges, shape_argument
from ..tensor import array, shape_of, show_shape
from .lang import Data, Prose, check_lang, localize
from .spelling import Spelling

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
    """A heading; ``text`` is a key with placeholders when ``args`` are given (filled by
    :func:`~derive.render.lang.localize`). ``kind`` names it for a layout ("graph")."""
    text: str
    level: int = 2
    kind: str = ""
    args: tuple = ()


@dataclass(frozen=True)
class Para:
    """Prose: a tuple of str, :class:`Math` and :class:`Code` parts (once localized; before,
    also :class:`~derive.render.lang.Data` and :class:`~derive.render.lang.Prose` parts,
    or a tuple of clauses). ``kind`` names it for a layout ("proof")."""
    parts: tuple
    kind: str = ""


@dataclass(frozen=True)
class Display:
    """Displayed equations: rows of (left side, right side), aligned at '='."""
    rows: tuple


@dataclass(frozen=True)
class Edges:
    """The graph as its edges, for a format with no picture of its own (text, Markdown):
    ``caption`` is prose parts; ``rows`` are (operands, node label, node name, node shape),
    each operand an :class:`~derive.shapeargs.Edge`. Shapes are tuples of dimensions, the
    label the rule table's graph label (``dot``, ``+``); formats that draw the graph
    (HTML's SVG, LaTeX's figure) leave this block out."""
    caption: tuple
    rows: tuple


def join_parts(parts, math, code, text) -> str:
    """A paragraph's parts in one format: :class:`Math` through ``math``, :class:`Code`
    through ``code``, prose through ``text`` (each a function of the source)."""
    return "".join(math(p.source) if isinstance(p, Math) else
                   code(p.source) if isinstance(p, Code) else text(p) for p in parts)


def render(d, fmt: str, **options) -> str:
    """The walkthrough of ``d`` in ``fmt`` (one of :data:`FORMATS`)."""
    from ..errors import DeriveError
    if fmt not in FORMATS:
        raise DeriveError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if options.get("standalone") and fmt != "latex":
        raise DeriveError("--standalone only applies to --format latex")
    check_lang(options.get("lang", "en"))
    from importlib import import_module
    return import_module(f"derive.render.{fmt}").render(d, **options)


def is_chain(graph) -> bool:
    """True when the graph is one input followed by unary nodes, each feeding the next."""
    ops = graph.op_nodes
    if len(graph.inputs) != 1 or not ops or any(n.op == "const" for n in graph.nodes):
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
        if n.is_leaf:
            syms[n.id] = n.expr
        elif n.id == graph.output:
            syms[n.id] = array("out", n.shape)
        else:
            syms[n.id] = array(n.name, n.shape)
    return syms


def definitions(graph) -> list:
    """(node, value in the names of its argument nodes), in topological order."""
    from ..graph import apply
    syms = node_symbols(graph)
    return [(n, apply(n, [syms[a] for a in n.args])) for n in graph.op_nodes]


def proof_text(proof) -> str:
    """One line: which kind of proof, how, and the numeric cross-check."""
    text = f"{proof.method} ({proof.detail}); numeric cross-check at {proof.points} points"
    return f"{text}; {proof.kink_note}" if proof.kink_note else text


def proof_clauses(proof) -> tuple:
    """:func:`proof_text` after "proof: ", as clauses of a paragraph (see :mod:`.lang`)."""
    out = (("proof: ", Prose(proof.method), " (", Prose(proof.detail),
            "); numeric cross-check at ", Data(str(proof.points)), " points"),)
    return out + (("; ", Prose(proof.kink_note)),) if proof.kink_note else out


def _proof(proof, note: str = "") -> "Para":
    tail = ((". Note: ", Prose(note)),) if note else ()
    return Para(proof_clauses(proof) + tail, "proof")


def spelling(d, latex: bool) -> Spelling:
    from ..backward import gradient_names
    from .spelling import layer_names
    grads, taken = gradient_names(d.graph), layer_names(d)
    return (Spelling.for_latex if latex else Spelling.for_text)(d.spec, grads, taken)


def forward_rows(d, s) -> list:
    """(name, value) of each statement and of the output, spelled by ``s``."""
    spec = d.spec
    return [(s.name(sym.name), s.expr(v)) for sym, v in spec.program] + [
        (s.name("out"), s.expr(spec.output_in_names))]


def document(d, s: Spelling, lang: str = "en") -> list:
    """The blocks of a walkthrough, with mathematics spelled by ``s`` and prose in ``lang``."""
    return localize(_blocks(d, s), lang)


def _blocks(d, s) -> list:
    spec, g = d.spec, d.graph
    blocks = [Heading("{0}: layer {1}", 1, args=(Prose(spec.title), spec.name))]
    blocks += _about(spec, s)
    blocks.append(Display(tuple(forward_rows(d, s))))
    blocks.append(Heading("Computational graph", kind="graph"))
    if is_chain(g):
        chain = s.arrow.join(s.label(n) for n in g.nodes) + s.arrow + s.name("out")
        blocks.append(Para(("graph: ", Math(chain))))
    else:
        blocks.append(Para(("The graph is not a single chain; its nodes in order:",)))
    blocks.append(Display(tuple((s.name(n.name), s.expr(v)) for n, v in definitions(g))))
    if not is_chain(g):
        blocks.append(edges_block(g, s))
    blocks.append(Heading("Backward, node by node"))
    y = Math(s.name("out"))
    code = [" (", Code("dout"), " in the exported code, where ", y, " is ", Code("out"), ")"] \
        if s.is_latex else [" (in the exported code, ", y, " is ", Code("out"), ")"]
    intro = [(Math(s.grad("out") if s.is_latex else f"{s.grad('out')} = dout"),
              " is the gradient arriving from the layer above", *code, ". Each node "
              "multiplies the gradient arriving at it by its local derivative.")]
    if d.tensor:
        intro.append((" A structural node (a matrix product, a sum over an axis, a transpose) "
                      "passes back its vector-Jacobian product instead; its index form is "
                      "shown, and each such step is proven for every size of every dimension.",))
    blocks.append(Para(tuple(intro)))
    for step in d.steps:
        if step.kind in ("chain", "sum", "fact"):
            blocks += _step(step, g, s)
        elif step.kind == "rewrite" and step.target not in d.wrt:
            blocks += _boundary(step, s)
    for name in d.wrt:
        blocks += _cached(d, name, s)
    from ..check_names import names_text
    blocks.append(Para(("Names you may use in derive check: ", Code(names_text(d)),
                        "; check a node's gradient with ", Code("--node NAME"), ".")))
    return blocks


def _shaped(spec, s, names) -> str:
    table = spec.symbols()
    out = []
    for n in names:
        sym = table[n]
        shape = f" {show_shape(shape_of(sym))}" if shape_of(sym) else ""
        default = f" = {_default(spec.defaults[n], s)}" if n in spec.defaults else ""
        out.append(f"{s.name(n)}{shape}{default}" if not s.is_latex else
                   f"{s.name(n)}{default}" + (r"\ \in \mathbb{R}^{%s}" % r" \times ".join(
                       s.expr(dim) for dim in shape_of(sym)) if shape_of(sym) else ""))
    return ", ".join(out)


def _default(value, s) -> str:
    """A parameter's default as the maths writes a decimal (10^{-6}, not 1e-06 in LaTeX)."""
    import sympy as sp
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return s.expr(sp.Rational(repr(value)))
    return str(value)


def _about(spec, s) -> list:
    clauses = [("inputs: ", Math(_shaped(spec, s, spec.input_names)))] if spec.inputs else []
    if spec.weights:
        clauses.append(("; " if clauses else "", "weights (differentiated, given to the "
                        "constructor): ", Math(_shaped(spec, s, spec.weight_names))))
    if spec.consts:
        clauses.append(("; data (not differentiated, given to forward): ",
                        Math(_shaped(spec, s, spec.const_names))))
    if spec.params:
        clauses.append(("; parameters (constants, not differentiated): ",
                        Math(_shaped(spec, s, spec.param_names))))
    blocks = [Para(tuple(clauses) + (("; forward:",),))]
    for *_, text in spec.assume:
        blocks.append(Para(("assumption: ", Code(text)),))
    return blocks


def _node_by_name(g, name):
    return next(n for n in g.nodes if n.name == name)


def _step(step, g, s) -> list:
    if step.kind == "sum":
        head = ("sum at ", Math(s.name(step.node)), ": ", Prose(step.note))
        rows = ((s.grad(step.node), s.expr(step.expr)),)
        return [Para(head), Display(rows), _proof(step.proof)]
    if step.kind == "fact":
        head = ("a fact used below, from the definition of ", Math(s.name(step.node)), ":")
        return [Para(head), Display(((s.expr(step.local), s.expr(step.expr)),)),
                _proof(step.proof)]
    node = _node_by_name(g, step.node)
    head = [("node ", Math(s.name(step.node)), " (", Math(s.label(node)), "), rule ",
             Code(step.rule), ": the gradient to ", Math(s.name(step.target)))]
    if step.shape:
        head.append((", of shape ", Math(spell_shape(step.shape, s))))
    if not step.complete:
        head.append((" (one branch; the branches are added below)",))
    if node.rule.structural:
        shown = s.expr(step.expr) if step.local == step.expr else \
            f"{s.expr(step.local)} = {s.expr(step.expr)}"
        rows = [(s.grad(step.target), shown)]
    else:
        product = f"{s.factor(step.upstream)}{s.times}{s.factor(step.local)}"
        if step.raw is not None:     # the rule's local derivative, then in cached values
            product = f"{s.factor(step.upstream)}{s.times}{s.factor(step.raw)} = {product}"
        rhs = f"{s.grad(step.node)}{s.times}{s.partial(step.node, step.target)} = {product}"
        if step.index:
            head.append(tuple(_repeated(node, _node_by_name(g, step.target), s)))
        rows = [(s.grad(step.target), f"{rhs} = {s.expr(step.expr)}")]
    if step.index:
        rows.append((s.expr(step.index[0]), s.expr(step.index[1])))
    note = step.note if step.note and step.note != step.proof.kink_note else ""
    blocks = [Para(tuple(head)), Display(tuple(rows))]
    argument = shape_argument(g, step)
    if argument is not None:
        blocks.append(Para(_shape_parts(argument, s)))
    return blocks + [_proof(step.proof, note)]


def spell_shape(shape, s) -> str:
    """``(N, D)`` with each dimension through the printer; ``(M,)`` keeps its comma."""
    dims = [s.expr(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _repeated(node, operand, s) -> list:
    """Why a broadcast operand's gradient is a sum: it was repeated to the node's shape."""
    axes = broadcast_axes(node.shape, operand.shape)
    copies = 1
    for a in axes:
        copies *= node.shape[a]
    return ["; ", Math(s.name(operand.name)), " is repeated along axis " if len(axes) == 1
            else " is repeated along axes ", Math(", ".join(str(a) for a in axes)), " (",
            Math(s.expr(copies)), " copies) to the shape ", Math(spell_shape(node.shape, s)),
            " of ", Math(s.name(node.name)), ", so its gradient is the sum of the copies"]


def _shape_parts(argument, s) -> tuple:
    """The step's shape argument as paragraph parts: ``shapes: (N, M)·(M, D) = (N, D)``."""
    shown = [spell_shape(sh, s) for sh in argument.shapes]
    result = spell_shape(argument.result, s)
    if argument.kind == "product":
        dot = r" \cdot " if s.is_latex else "·"
        return ("shapes: ", Math(dot.join(shown) + " = " + result))
    if argument.kind == "einsum":
        return ("shapes: ", Code(argument.subscripts.replace("→", "->")), ": ",
                Math(", ".join(shown) + s.arrow + result))
    ops = []
    for i, op in enumerate(argument.ops):
        ops += [", " if i else "", Code(op)]
    return ("shapes: ", Math(s.arrow.join(shown + [result])), " (", *ops, ")")


def edges_block(g, s) -> Edges:
    """The graph's edges with their shapes (see :class:`Edges`), the output named as the
    maths names it."""
    rows = tuple((tuple(edges), n.label(), s.name(n.name), tuple(n.shape))
                 for n, edges in graph_edges(g))
    return Edges(("edges, each operand with its shape, into its node:",), rows)


def _boundary(step, s) -> list:
    """A gradient put into cached values before its node passes it back (a boundary)."""
    head = [("rewrite ", Math(s.grad(step.target)), " ", Prose(step.rule), " before node ",
             Math(s.name(step.target)), " passes it back (its operands are summed or "
             "broadcast)")]
    if step.note:
        head.append((": ", Prose(step.note)))
    if step.using:
        head.append(_using(step, s))
    return [Para(tuple(head)), Display(((s.grad(step.target), s.expr(step.expr)),)),
            _proof(step.proof)]


def _using(step, s) -> tuple:
    """The identity a rewrite uses, as mathematics after its note."""
    if not step.using:
        return ()
    return (": " if not step.note else ", ", Math(
        f"{s.expr(step.using[0])} = {s.expr(step.using[1])}"))


def _cached(d, name, s) -> list:
    blocks = [Heading("Cached form of the gradient to {0}", args=(name,))]
    for step in d.steps:
        if step.target != name or step.kind not in ("rewrite", "result"):
            continue
        if step.kind == "rewrite":
            head = [("rewrite: ", Prose(step.rule))]
            if step.note:
                head.append((": ", Prose(step.note)))
            if step.using:
                head.append(_using(step, s))
        else:
            against = "sympy.diff of the forward formula" if not d.tensor else \
                "the derivative of the whole forward"
            head = [(f"result, proven against {against}",)]
            if step.note:
                head.append((". Note: ", Prose(step.note)))
        blocks += [Para(tuple(head)), Display(((s.grad(name), s.expr(step.expr)),)),
                   _proof(step.proof)]
    blocks.append(Para(_reads(d, name, s)))
    return blocks


#: how each cached form (Derivation.form's values) was reached, for a reader
FORMS = {"out": "the gradient written in the output", "x": "the gradient written in the inputs",
         "mixed": "the chain rule's result, simplified",
         "index": "the gradient rewritten through the values the forward keeps"}


def _reads(d, name, s) -> tuple:
    """Which values the backward for ``name`` reads, besides the gradient arriving (as
    clauses of a paragraph)."""
    needs = d.needs(name)
    form = FORMS.get(d.form.get(name), "")
    if not needs:
        return (("the backward for ", Data(name), " reads only the gradient arriving, ",
                 Math(s.grad("out")), "."),)
    clauses = [("the backward for ", Data(name), " reads, besides ", Math(s.grad("out")), ": ",
                Math(", ".join(s.name(n) for n in needs)))]
    if form:
        clauses.append((" (", Prose(form), ")"))
    return tuple(clauses) + ((".",),)
