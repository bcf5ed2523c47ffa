"""The primitive rule table: one entry per primitive, and everything reads it.

An entry (:class:`Rule`) says, for one primitive,

* how the parser spells it (``spell``: ``np.tanh``, ``tanh``...) — the parser's
  whitelist is built from these, so the parser accepts exactly what the engine can do;
* which SymPy class a graph node of it is (``sympy``) and its value in the placeholders
  ``u0, u1, ...`` and the constant ``c`` (``value``);
* its local derivative per input as SymPy data (``local``; may use ``y``, the node's own
  output, as the book does for ``1/x`` → ``-y**2``), or — for a structural primitive
  (matrix product, sums over axes, transpose ...) — its vector-Jacobian product, given in
  :mod:`derive.vjp` and proven in index form;
* the inverse ``u0 = inverse(y)`` used by the cached-form rewrite, the convention at a
  kink (``note``), its graph label and LaTeX, its NumPy spelling and a cost weight.

Parser-only entries (:class:`Sugar`: ``log1p``, ``sigmoid``, ``np.where``...) are
definitions in other primitives. Adding a primitive is one entry here.

>>> RULES["exp"].local
(y,)
>>> rule_for("reciprocal").label.format(c="")
'1/·'
>>> sorted(SPELLINGS)[:4]
['abs', 'absolute', 'add', 'arccos']
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .errors import MissingRuleError
from .functions import cbrt, rint
from .gather import Gather, ScatterAdd
from .outputs import Outputs, Part
from .slices import Concat, Place, Slice
from .tensor import AxisMax, AxisMean, AxisSum, BroadcastTo, ExpandDims, MatProd, Reshape, \
    Transposed
from .windows import Einsum, FirstMax, Fold, Windows

u0, u1, u2 = sp.symbols("u0 u1 u2", real=True)
y = sp.Symbol("y", real=True)
c = sp.Symbol("c", real=True)

NP = ("", "np.", "numpy.")
NP_MATH = NP + ("math.",)


def _mask(cond) -> sp.Expr:
    """The 0/1 indicator of a condition, as SymPy data."""
    return sp.Piecewise((1, cond), (0, True))


@dataclass(frozen=True)
class Rule:
    """One primitive: its spellings, value, local derivatives (or VJP) and costs."""

    name: str
    value: sp.Expr | None          # in u0.., c (elementwise); None for structural
    local: tuple                   # d value / d u_i, in u0.., c, y (elementwise)
    label: str                     # graph-node label; "{c}" is the constant
    latex: str                     # LaTeX of the node operation; "{c}" is the constant
    numpy: str                     # NumPy spelling: np.<numpy>
    inverse: sp.Expr | None = None  # u0 in terms of y (and c), unary rules only
    note: str = ""                 # what a reader should know (conventions at kinks)
    sympy: type | None = None      # the SymPy class of this node (unary functions, structural)
    spell: tuple = ()              # parser spellings: prefixes ("", "np.") or full names
    cost: float = 1.0              # relative price per element (a multiply is 1)
    structural: bool = False       # VJP in index form (derive.vjp) instead of ``local``
    arity: int = 0                 # number of array operands (structural rules)
    helper: bool = False           # emitted as a helper function, not a NumPy ufunc

    def __post_init__(self):
        if not self.structural:
            object.__setattr__(self, "arity", len(self.local))

    @property
    def kind(self) -> str:
        return "structural" if self.structural else "elementwise"

    def local_at(self, args, out, const=None) -> tuple:
        """Local derivatives with placeholders replaced by concrete values."""
        return tuple(self._subs(d, args, out, const) for d in self.local)

    def value_at(self, args, const=None) -> sp.Expr:
        return self._subs(self.value, args, None, const)

    def inverse_at(self, out, const=None) -> sp.Expr | None:
        if self.inverse is None:
            return None
        return self._subs(self.inverse, (), out, const)

    @staticmethod
    def _subs(e, args, out, const):
        repl = dict(zip((u0, u1, u2), args))
        if out is not None:
            repl[y] = out
        if const is not None:
            repl[c] = const
        return e.xreplace(repl)


@dataclass(frozen=True)
class Sugar:
    """A parser function defined through primitives, e.g. ``log1p(u) = log(1 + u)``.

    ``template`` is in the placeholders; ``conditions`` are the argument positions that
    must be comparisons (``np.where``'s first).
    """

    name: str
    template: sp.Expr
    arity: int
    spell: tuple = NP
    conditions: tuple = ()
    note: str = ""                 # its convention at ties and kinks, stated on the page


_STEP = "a step function: its derivative is 0 away from the steps, where it is undefined"
_KINK = "not differentiable at 0; the gradient there is taken as 0 (the book's ReLU convention)"
_MASK = "a 0/1 mask: its derivative is 0 except at the step, where it is undefined"
_BRANCH = "the gradient flows into the branch that was taken"
_TIE_MAX = ("np.maximum(a, b) is np.where(a >= b, a, b): at a tie the gradient flows into a, "
            "the first argument (TensorFlow's convention); np.maximum(0, x) and "
            "np.maximum(x, 0) are the ReLU, 0 at x = 0 as in the book")
_TIE_MIN = ("np.minimum(a, b) is np.where(a <= b, a, b): at a tie the gradient flows into a, "
            "the first argument; with a 0 argument it is -ReLU(-x), 0 at the tie")
_TIE_AXIS_MAX = ("np.max over axes passes the gradient to the first maximum of each window in "
                 "window order (np.argmax's convention): at a tie that one entry takes the whole "
                 "gradient, the others 0, as the book's Pooling; a maximum the layer only "
                 "shifts by (a stable softmax) passes nothing, its gradient is proven 0")
_MAXIMUM = sp.Piecewise((u0, u0 >= u1), (u1, True))
_MINIMUM = sp.Piecewise((u0, u0 <= u1), (u1, True))


def _unary(name, fn, local, latex, *, inverse=None, cost=8.0, spell=NP_MATH, note="",
           numpy=None, helper=False) -> Rule:
    return Rule(name, fn(u0), (local,), name, latex, numpy or name, inverse, note, fn, spell,
                cost, helper=helper)


def _structural(name, cls, label, latex, numpy, arity=1, spell=NP, cost=1.0, note="",
                helper=False) -> Rule:
    return Rule(name, None, (), label, latex, numpy, None, note, cls, spell, cost,
                structural=True, arity=arity, helper=helper)


#: a switch compares its operand with a constant c (0 unless the formula says otherwise)
_RELATIONS = {"gt": (sp.StrictGreaterThan, ">", ">"), "ge": (sp.GreaterThan, "≥", r"\ge "),
              "lt": (sp.StrictLessThan, "<", "<"), "le": (sp.LessThan, "≤", r"\le ")}


def _compare(op):
    """``mask_<op>``, the 0/1 indicator ``[u0 op c]``, and ``where_<op>``, the select
    ``where(u0 op c, u1, u2)``, for op in gt, ge, lt, le."""
    rel, sym, tex = _RELATIONS[op]
    cond = rel(u0, c)
    mask = Rule(f"mask_{op}", _mask(cond), (sp.Integer(0),), f"[·{sym}{{c}}]",
                fr"[\cdot{tex}{{c}}]", {"gt": "greater", "ge": "greater_equal",
                                          "lt": "less", "le": "less_equal"}[op], note=_MASK)
    where = Rule(f"where_{op}", sp.Piecewise((u1, cond), (u2, True)),
                 (sp.Integer(0), _mask(cond), _mask(sp.Not(cond))), f"where(·{sym}{{c}})",
                 fr"\mathrm{{{{where}}}}_{{{{\cdot{tex}{{c}}}}}}", "where", note=_BRANCH, cost=2)
    return mask, where


_TABLE = [
    Rule("add", u0 + u1, (sp.Integer(1), sp.Integer(1)), "+", "+", "add"),
    Rule("mul", u0 * u1, (u1, u0), "×", r"\times", "multiply"),
    Rule("add_const", u0 + c, (sp.Integer(1),), "+{c}", "+{c}", "add", inverse=y - c),
    Rule("mul_const", c * u0, (c,), "×{c}", r"\times {c}", "multiply", inverse=y / c),
    Rule("neg", -u0, (sp.Integer(-1),), "×(−1)", r"\times(-1)", "negative", inverse=-y),
    Rule("reciprocal", 1 / u0, (-y**2,), "1/·", "1/", "reciprocal", inverse=1 / y, cost=2,
         spell=NP),
    Rule("pow", u0**c, (c * u0**(c - 1),), "^{c}", "{{}}^{{{c}}}", "power", inverse=y**(1 / c),
         cost=2),
    Rule("cpow", c**u0, (sp.log(c) * y,), "{c}^·", "{c}^{{\\cdot}}", "power",
         inverse=sp.log(y) / sp.log(c), cost=8),
    Rule("powv", u0**u1, (u1 * u0**(u1 - 1), y * sp.log(u0)), "pow", r"\mathrm{{pow}}", "power",
         cost=8),
    _unary("exp", sp.exp, y, r"\exp", inverse=sp.log(y), cost=8),
    _unary("log", sp.log, 1 / u0, r"\log", inverse=sp.exp(y), cost=8),
    _unary("tanh", sp.tanh, 1 - y**2, r"\tanh", inverse=sp.atanh(y), cost=8),
    _unary("sinh", sp.sinh, sp.cosh(u0), r"\sinh", inverse=sp.asinh(y), cost=8),
    _unary("cosh", sp.cosh, sp.sinh(u0), r"\cosh", cost=8),
    _unary("erf", sp.erf, 2 / sp.sqrt(sp.pi) * sp.exp(-u0**2), r"\operatorname{{erf}}",
           cost=12, spell=NP_MATH + ("scipy.special.", "special."), helper=True),
    _unary("abs", sp.Abs, sp.sign(u0), r"\lvert\cdot\rvert", cost=1, spell=NP,
           note="not differentiable at 0; sign(0) = 0 is used there"),
    Rule("relu", sp.Max(0, u0), (_mask(u0 > 0),), "max(0,·)", r"\max(0,\cdot)", "maximum",
         note=_KINK),
    *(rule for op in _RELATIONS for rule in _compare(op)),
    _unary("sign", sp.sign, sp.Integer(0), r"\operatorname{{sign}}", cost=1, spell=NP,
           note=_STEP + " (at 0)"),
    _unary("floor", sp.floor, sp.Integer(0), r"\lfloor\cdot\rfloor", cost=1,
           note=_STEP + " (at the integers)"),
    _unary("ceil", sp.ceiling, sp.Integer(0), r"\lceil\cdot\rceil", cost=1,
           spell=NP + ("math.ceil",), note=_STEP + " (at the integers)"),
    _unary("rint", rint, sp.Integer(0), r"\operatorname{{rint}}", cost=1, spell=NP,
           note=_STEP + " (at the half-integers; halves round to even)"),
    _unary("cbrt", cbrt, 1 / (3 * y**2), r"\sqrt[3]{{\cdot}}", inverse=y**3, cost=8, spell=NP,
           note="not differentiable at 0 (the slope is infinite there)"),
    _unary("sin", sp.sin, sp.cos(u0), r"\sin"),
    _unary("cos", sp.cos, -sp.sin(u0), r"\cos"),
    _unary("tan", sp.tan, 1 + y**2, r"\tan", note="undefined at odd multiples of π/2"),
    _unary("arcsin", sp.asin, 1 / sp.sqrt(1 - u0**2), r"\arcsin", inverse=sp.sin(y),
           spell=NP + ("math.asin",), note="defined for -1 ≤ x ≤ 1, differentiable inside"),
    _unary("arccos", sp.acos, -1 / sp.sqrt(1 - u0**2), r"\arccos", inverse=sp.cos(y),
           spell=NP + ("math.acos",), note="defined for -1 ≤ x ≤ 1, differentiable inside"),
    _unary("arctan", sp.atan, 1 / (1 + u0**2), r"\arctan", inverse=sp.tan(y),
           spell=NP + ("math.atan",)),
    _unary("arcsinh", sp.asinh, 1 / sp.sqrt(u0**2 + 1), r"\operatorname{{arsinh}}",
           inverse=sp.sinh(y), spell=NP + ("math.asinh",)),
    _unary("arccosh", sp.acosh, 1 / sp.sqrt(u0**2 - 1), r"\operatorname{{arcosh}}",
           inverse=sp.cosh(y), spell=NP + ("math.acosh",),
           note="defined for x ≥ 1, differentiable for x > 1"),
    _unary("arctanh", sp.atanh, 1 / (1 - u0**2), r"\operatorname{{artanh}}",
           inverse=sp.tanh(y), spell=NP + ("math.atanh",), note="defined for -1 < x < 1"),
    # structural primitives: their vector-Jacobian products are in derive.vjp
    _structural("matmul", MatProd, "dot", r"\mathrm{{dot}}", "matmul", arity=2,
                spell=("np.dot", "numpy.dot", "np.matmul", "numpy.matmul", "dot", "matmul"),
                cost=2.0),
    _structural("transpose", Transposed, "ᵀ", r"{{}}^{{\top}}", "transpose",
                spell=("np.transpose", "numpy.transpose"), cost=0.0),
    _structural("sum", AxisSum, "Σ", r"\sum", "sum", spell=("np.sum", "numpy.sum")),
    _structural("mean", AxisMean, "mean", r"\mathrm{{mean}}", "mean",
                spell=("np.mean", "numpy.mean")),
    _structural("max", AxisMax, "max", r"\max", "max", spell=("np.max", "numpy.max",
                                                              "np.amax", "numpy.amax"),
                note=_TIE_AXIS_MAX),
    _structural("broadcast", BroadcastTo, "repeat", r"\mathrm{{repeat}}", "broadcast_to",
                spell=("np.broadcast_to", "numpy.broadcast_to"), cost=0.0),
    _structural("expand_dims", ExpandDims, "expand", r"\mathrm{{expand}}", "expand_dims",
                spell=("np.expand_dims", "numpy.expand_dims"), cost=0.0),
    _structural("windows", Windows, "windows", r"\mathrm{{windows}}", "windows",
                spell=("windows", "im2col"), cost=0.5,
                note="windows(x, FH, FW, stride, pad): element [n, c, p, q, i, j] is "
                     "x[n, c, i·stride + p − pad, j·stride + q − pad], 0 outside x (zero padding)", helper=True),
    _structural("fold", Fold, "fold", r"\mathrm{{fold}}", "fold", spell=("fold", "col2im"),
                cost=1.0, note="fold (col2im) adds each window back where it was read; "
                               "overlapping windows add up", helper=True),
    _structural("einsum", Einsum, "einsum", r"\sum", "einsum", arity=2,
                spell=("np.einsum", "numpy.einsum"), cost=2.0),
    _structural("first_max", FirstMax, "argmax", r"\mathrm{{argmax}}", "first_max",
                spell=("first_max",), cost=1.0, note=_TIE_AXIS_MAX, helper=True),
    _structural("reshape", Reshape, "reshape", r"\mathrm{{reshape}}", "reshape",
                spell=("np.reshape", "numpy.reshape"), cost=0.0),
    _structural("gather", Gather, "[idx]", r"\mathrm{{rows}}", "take", arity=2, spell=(),
                note="W[idx] picks rows of W; an index array is not differentiated"),
    _structural("scatter_add", ScatterAdd, "scatter+", r"\mathrm{{scatter}}", "add.at",
                arity=2, spell=("scatter_add",), note="rows of G added at rows idx of zeros: repeated "
                "indices accumulate (np.add.at)", helper=True),
    _structural("slice", Slice, "[a:b]", r"\mathrm{{slice}}", "take", spell=(), cost=0.0,
                note="a[:, a:b] along one axis; its gradient is placed back into zeros"),
    _structural("place", Place, "place", r"\mathrm{{place}}", "place", spell=(), cost=1.0,
                helper=True),
    _structural("outputs", Outputs, "outputs", r"\mathrm{{outputs}}", "stack", arity=0,
                spell=(), cost=0.0, note="the layer's outputs, each with its own upstream "
                "gradient d<output>"),
    _structural("part", Part, "part", r"\mathrm{{part}}", "take", spell=(), cost=0.0),
    _structural("concatenate", Concat, "concat", r"\mathrm{{concat}}", "concatenate",
                spell=("np.concatenate", "numpy.concatenate", "np.hstack"), cost=1.0),
]

RULES: dict[str, Rule] = {r.name: r for r in _TABLE}

SUGAR: dict[str, Sugar] = {s.name: s for s in [
    Sugar("log1p", sp.log(1 + u0), 1, NP_MATH),
    Sugar("expm1", sp.exp(u0) - 1, 1, NP_MATH),
    Sugar("sqrt", sp.sqrt(u0), 1, NP_MATH),
    Sugar("square", u0**2, 1),
    Sugar("absolute", sp.Abs(u0), 1),
    Sugar("fabs", sp.Abs(u0), 1, NP_MATH),
    Sugar("sigmoid", 1 / (1 + sp.exp(-u0)), 1, ("",)),
    Sugar("maximum", _MAXIMUM, 2, note=_TIE_MAX),
    Sugar("minimum", _MINIMUM, 2, note=_TIE_MIN),
    Sugar("fmax", _MAXIMUM, 2, note=_TIE_MAX),
    Sugar("fmin", _MINIMUM, 2, note=_TIE_MIN),
    Sugar("max", _MAXIMUM, 2, ("",), note=_TIE_MAX),   # the builtin; np.max is a reduction
    Sugar("min", _MINIMUM, 2, ("",), note=_TIE_MIN),
    Sugar("clip", sp.Piecewise((u1, u0 < u1), (u2, u0 > u2), (u0, True)), 3,
          note="np.clip(x, lo, hi): the gradient flows into x for lo ≤ x ≤ hi (ends included, "
               "as PyTorch's clamp), into lo below and hi above"),
    Sugar("power", u0**u1, 2),
    Sugar("float_power", u0**u1, 2),
    Sugar("exp2", 2**u0, 1),
    Sugar("log2", sp.log(u0) / sp.log(2), 1, NP_MATH),
    Sugar("log10", sp.log(u0) / sp.log(10), 1, NP_MATH),
    Sugar("logaddexp", sp.log(sp.exp(u0) + sp.exp(u1)), 2),
    Sugar("logaddexp2", sp.log(2**u0 + 2**u1) / sp.log(2), 2),
    Sugar("hypot", sp.sqrt(u0**2 + u1**2), 2, NP_MATH),
    Sugar("erfc", 1 - sp.erf(u0), 1, NP_MATH + ("scipy.special.", "special.")),
    Sugar("heaviside", sp.Piecewise((1, u0 > 0), (0, u0 < 0), (u1, True)), 2,
          note="np.heaviside(x, h0) is h0 at x = 0; its derivative is 0 away from 0"),
    Sugar("add", u0 + u1, 2),
    Sugar("subtract", u0 - u1, 2),
    Sugar("multiply", u0 * u1, 2),
    Sugar("divide", u0 / u1, 2),
    Sugar("true_divide", u0 / u1, 2),
    Sugar("negative", -u0, 1),
    Sugar("positive", u0, 1),
    # casts to float64, as a pasted forward writes them (np.float64(2)*x, float(alpha)): the
    # value itself; float32 is left out, its rounding is not the identity
    Sugar("float64", u0, 1),
    Sugar("float", u0, 1, ("",)),
    Sugar("where", sp.Piecewise((u1, u0), (u2, True)), 3, conditions=(0,), note=_BRANCH),
    Sugar("logical_and", sp.And(u0, u1), 2, conditions=(0, 1)),
    Sugar("logical_or", sp.Or(u0, u1), 2, conditions=(0, 1)),
    Sugar("logical_not", sp.Not(u0), 1, conditions=(0,)),
]}

#: the functions whose derivative is 0 away from their steps (SymPy leaves it unevaluated)
STEPS = (sp.floor, sp.ceiling, rint)


def diff(e: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """``sympy.diff``, with the step functions' derivatives 0 (they are, off the steps).

    >>> x = sp.Symbol("x", real=True)
    >>> diff(x * sp.floor(x), x)
    floor(x)
    >>> diff(x * sp.floor(2*x), x)          # the chain rule's Subs(0, _xi, 2*x) is 0 too
    floor(2*x)
    """
    d = sp.diff(e, x)
    if not d.has(sp.Derivative):
        return d
    d = d.replace(lambda a: isinstance(a, sp.Derivative) and isinstance(a.expr, STEPS),
                  lambda a: sp.Integer(0))
    return d.replace(lambda a: isinstance(a, sp.Subs) and not a.expr.has(sp.Derivative),
                     lambda a: a.doit()) if d.has(sp.Subs) else d


def _spellings() -> dict:
    """Every spelling the parser accepts -> the entry it means (a Rule or a Sugar)."""
    out = {}
    for entry in [*(r for r in _TABLE if r.spell), *SUGAR.values()]:
        for s in entry.spell:
            out[s if s and not s.endswith(".") else s + entry.name] = entry
    return out


SPELLINGS: dict = _spellings()

#: unary elementwise SymPy classes -> rule name (how graph.py and codegen recognise them)
UNARY: dict = {r.sympy: r.name for r in _TABLE if r.sympy is not None and not r.structural}
#: structural SymPy classes -> rule name
STRUCTURAL: dict = {r.sympy: r.name for r in _TABLE if r.structural}


def rule_for(name: str) -> Rule:
    """Look a primitive up; a missing one is an error that names it.

    >>> rule_for("lgamma")
    Traceback (most recent call last):
    ...
    derive.errors.MissingRuleError: no rule for primitive 'lgamma'; known primitives: abs, add, ...
    """
    try:
        return RULES[name]
    except KeyError:
        known = ", ".join(sorted(RULES))
        raise MissingRuleError(f"no rule for primitive {name!r}; known primitives: {known}") from None


#: weights of the arithmetic SymPy's ``count_ops`` names; functions weigh their rule's cost
ARITHMETIC = {"ADD": 1, "SUB": 1, "MUL": 1, "NEG": 1, "DIV": 2, "POW": 2, "MAX": 1, "MIN": 1,
              "PIECEWISE": 2, "GT": 1, "GE": 1, "LT": 1, "LE": 1, "SQRT": 4, "ATANH": 10}


_BY_CLASS = {cls.__name__.upper(): RULES[name] for cls, name in {**UNARY, **STRUCTURAL}.items()}


def weight(op_name: str) -> float:
    """The weight of one ``count_ops`` operation name (EXP, MUL, AXISSUM...); unknown ones 4."""
    if op_name in ARITHMETIC:
        return ARITHMETIC[op_name]
    rule = _BY_CLASS.get(op_name) or RULES.get(op_name.lower())
    return rule.cost if rule is not None else 4


def cost(e) -> float:
    """A rough price of evaluating ``e`` elementwise (transcendentals are dear).

    >>> x = sp.Symbol("x", real=True)
    >>> cost(x * (1 - x)), cost(sp.exp(-x)) > cost(x**2)
    (2, True)
    """
    ops = sp.count_ops(e, visual=True)
    if ops == 0:
        return 0
    return ops.xreplace({s: weight(s.name) for s in ops.free_symbols})
