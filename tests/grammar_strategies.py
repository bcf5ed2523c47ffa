"""Hypothesis strategies over derive's whole elementwise formula grammar, drawn as text.

The function vocabulary is read from the rule table at run time
(:data:`derive.rules.SPELLINGS`), so a primitive added there joins the fuzz with no edit
here: every elementwise spelling (``np.exp``, ``exp``, ``math.exp``...), with its arity and
the positions that take a condition (``np.where``'s first). Structural entries (matrix
products, reductions ``np.sum``/``np.mean``/``np.max``, reshapes) are left out.

The rest of the grammar is the parser's: ``+ - * / **`` (small constant exponents,
constant bases such as ``2 ** x``, now and then an expression as exponent), unary minus,
comparisons between expressions, ``&``, ``|`` and ``~`` of conditions, a condition used as
a 0/1 mask, integer and decimal constants. Every operation is parenthesized, so the text
means what the tree means.

The numeric oracle that checks what derive makes of them is :mod:`grammar_oracle`.

>>> where = next(f for f in functions() if f.name == "where")
>>> where.arity, where.conditions, "np.where" in where.spellings
(3, (0,), True)
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from hypothesis import strategies as st

INPUTS = ("x", "t", "y")
CONSTANTS = ("0", "1", "2", "3", "0.5", "0.01", "1.5", "2.5", "0.044715",
             "1.0507009873554805", "1.6732632423543772", "np.pi", "np.e")
EXPONENTS = ("2", "3", "4", "(-1)", "(-2)", "0.5", "1.5", "(-0.5)")
BASES = ("2", "3", "10", "0.5", "np.e")
COMPARISONS = ("<", "<=", ">", ">=")
_WORD = re.compile(r"(?<![\w.])([A-Za-z_]\w*)(?![\w.(])")


@dataclass(frozen=True)
class Function:
    """One elementwise entry of the rule table, as the parser spells it."""

    name: str
    spellings: tuple            # every accepted spelling, e.g. ("exp", "np.exp", ...)
    arity: int
    conditions: tuple = ()      # argument positions that take a condition
    logical: bool = False       # its value is a condition (np.logical_and...)


@dataclass(frozen=True)
class Formula:
    """A drawn forward: its text and the inputs it reads, in the order x, t, y."""

    text: str
    inputs: tuple

    @property
    def var(self) -> str:
        return ",".join(self.inputs)


def functions() -> tuple:
    """Every elementwise function of the rule table (read now, not at import)."""
    from sympy.core.relational import Relational
    from sympy.logic.boolalg import BooleanFunction

    from derive import rules
    found: dict = {}
    for spelled, entry in rules.SPELLINGS.items():
        if getattr(entry, "structural", False):
            continue
        found.setdefault(entry.name, (entry, []))[1].append(spelled)
    out = []
    for name, (entry, spellings) in sorted(found.items()):
        value = getattr(entry, "template", None)
        if value is None:
            value = getattr(entry, "value", None)
        out.append(Function(name, tuple(sorted(spellings)), entry.arity,
                            tuple(getattr(entry, "conditions", ()) or ()),
                            isinstance(value, (Relational, BooleanFunction))))
    return tuple(out)


def inputs_of(text: str) -> tuple:
    """The inputs a formula's text reads, in the order x, t, y.

    >>> inputs_of("np.where(y > 0, np.exp(x), 2)")
    ('x', 'y')
    """
    used = set(_WORD.findall(text))
    return tuple(n for n in INPUTS if n in used)


_VALUE_KINDS = ("input", "input", "input", "constant", "unary", "unary", "call", "binary",
                "binary", "binary", "negative", "power", "where", "mask")
_CONDITION_KINDS = ("compare", "compare", "compare", "compare", "and", "or", "not", "logical")


@lru_cache(maxsize=None)
def _vocabulary():
    table = functions()
    values = [f for f in table if not f.logical]
    return ([f for f in values if f.arity == 1], [f for f in values if f.arity != 1],
            [f for f in table if f.logical])


@st.composite
def expressions(draw, names=INPUTS, depth=3, leaf=True):
    """A number-valued formula in ``names``, nested at most ``depth`` deep (``leaf``
    False: not a bare input, constant or condition)."""
    unary, calls, _ = _vocabulary()
    kinds = _VALUE_KINDS if depth > 0 else ("input", "input", "constant")
    if not leaf and depth > 0:
        kinds = tuple(k for k in kinds if k not in ("input", "constant", "mask"))
    kind = draw(st.sampled_from(kinds))
    sub = expressions(names, depth - 1) if depth > 0 else None
    if kind == "input":
        return draw(st.sampled_from(names))
    if kind == "constant":
        return draw(st.sampled_from(CONSTANTS))
    if kind == "negative":
        return f"(-{draw(sub)})"
    if kind == "binary":
        op = draw(st.sampled_from("+-*/"))
        return f"({draw(sub)} {op} {draw(sub)})"
    if kind == "power":
        how = draw(st.sampled_from(("exponent", "exponent", "base", "both")))
        if how == "exponent":
            return f"({draw(sub)} ** {draw(st.sampled_from(EXPONENTS))})"
        if how == "base":
            return f"({draw(st.sampled_from(BASES))} ** {draw(sub)})"
        return f"({draw(sub)} ** {draw(sub)})"
    if kind == "mask":
        return draw(conditions(names, depth - 1))
    if kind == "where":
        return f"np.where({draw(conditions(names, depth - 1))}, {draw(sub)}, {draw(sub)})"
    table = unary if kind == "unary" or not calls else calls
    return draw(_call(st.sampled_from(table), names, depth - 1))


@st.composite
def _call(draw, function, names, depth):
    f = draw(function)
    spelled = draw(st.sampled_from(f.spellings))
    args = [draw(conditions(names, depth)) if i in f.conditions else
            draw(expressions(names, depth)) for i in range(f.arity)]
    return f"{spelled}({', '.join(args)})"


@st.composite
def conditions(draw, names=INPUTS, depth=2):
    """A condition: a comparison between expressions, or &, |, ~ of conditions."""
    _, _, logical = _vocabulary()
    kind = draw(st.sampled_from(_CONDITION_KINDS if depth > 0 else ("compare",)))
    if kind == "logical" and not logical:
        kind = "and"
    side = expressions(names, min(max(depth - 1, 0), 1))
    if kind == "compare":    # two different sides, not both constant: not x < x, not 2 > 1
        left, right = draw(st.tuples(side, side).filter(
            lambda p: p[0] != p[1] and (inputs_of(p[0]) or inputs_of(p[1]))))
        return f"({left} {draw(st.sampled_from(COMPARISONS))} {right})"
    if kind == "not":
        return f"(~{draw(conditions(names, depth - 1))})"
    if kind == "logical":
        return draw(_call(st.sampled_from(logical), names, depth - 1))
    op = "&" if kind == "and" else "|"
    return f"({draw(conditions(names, depth - 1))} {op} {draw(conditions(names, depth - 1))})"


@st.composite
def formulas(draw, depth=3):
    """A forward in 1-3 of the inputs x, t, y that reads at least one of them."""
    count = draw(st.integers(1, len(INPUTS)))
    names = INPUTS[:count] if count < len(INPUTS) else INPUTS
    if count == 2:
        names = draw(st.sampled_from((("x", "t"), ("x", "y"), ("t", "y"))))
    text = draw(expressions(names, depth, leaf=False).filter(lambda s: inputs_of(s)))
    return Formula(text, inputs_of(text))


def each_formula(examples: int, each, *, seed: int | None = 0, derandomize: bool = False,
                 depth: int = 3) -> None:
    """Call ``each(formula, k)`` for k = 1..``examples`` forwards drawn by hypothesis (from
    ``seed``, or derandomized): the draw the fuzz scripts share."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as with_seed
    drawn = [0]

    @settings(max_examples=examples, deadline=None, derandomize=derandomize, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(formulas(depth=depth))
    def body(formula):
        if drawn[0] >= examples:
            return
        drawn[0] += 1
        each(formula, drawn[0])

    if not derandomize:
        body = with_seed(seed)(body)
    body()
