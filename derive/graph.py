"""Forward formula → computational graph of primitive nodes, in the book's granularity.

Sigmoid ``1/(1 + exp(-x))`` becomes x → ×(−1) → exp → +1 → 1/· → out: four
nodes, not one. ``x @ W + b`` becomes a matrix-product node and an addition node
(b broadcast over the rows), as the book draws Affine. Shared subexpressions become
one node (a DAG), so a value used twice fans out and its gradients add up. Which
SymPy class is which primitive comes from the rule table (:mod:`derive.rules`).

>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> [n.op for n in decompose(1/(1 + sp.exp(-x)), [x]).nodes]
['input', 'neg', 'exp', 'add_const', 'reciprocal']
"""
from __future__ import annotations

import string
from dataclasses import dataclass

import sympy as sp

from .errors import DeriveError, MissingRuleError
from .rules import RULES, STRUCTURAL, UNARY, rule_for
from .tensor import shape_of


@dataclass(frozen=True)
class Node:
    """One node: an input, a constant operand, or a primitive applied to earlier nodes."""

    id: int
    op: str                 # rule name, "input", or "const" (an operand not differentiated)
    args: tuple             # ids of the operand nodes
    const: sp.Expr | None   # the constant of add_const, mul_const, pow, cpow
    expr: sp.Expr           # the node's value in terms of the layer's names
    name: str               # display name: the input's name, a statement's name, a, b, ..., out
    params: tuple = ()      # a structural node's parameters (axes, keepdims, shape)
    statement: bool = False  # named by a statement of the layer's program

    @property
    def rule(self):
        return rule_for(self.op)

    @property
    def shape(self) -> tuple:
        return shape_of(self.expr)

    @property
    def is_leaf(self) -> bool:
        return self.op in ("input", "const")

    def passes_gradient(self, k: int) -> bool:
        """Does a gradient flow back into operand k? Not into a switch's condition (its
        local derivative is 0 off the switching set), nor through a mask."""
        return self.rule.structural or self.rule.local[k] != 0

    def label(self) -> str:
        """Graph label, e.g. 'exp', '+1', '×(−1)', 'dot', 'Σ axis 1'."""
        if self.is_leaf:
            return self.name
        if self.op == "add_const" and self.const.could_extract_minus_sign():
            return "−" + _const_text(-self.const)
        label = self.rule.label.format(c=_const_text(self.const))
        if self.op in ("sum", "mean", "max"):
            axes = self.expr.axes
            if len(axes) < len(shape_of(self.expr.args[0])):
                label += " axis " + ",".join(str(a) for a in axes)
        return label


def _const_text(c) -> str:
    if c is None:
        return ""
    from .render.printers import text as spelled
    shown = spelled(c).replace("-", "−")
    return shown if c.is_Atom else f"({shown})"


@dataclass(frozen=True)
class Graph:
    """Nodes in topological order (inputs first); ``output`` is the id of the result."""

    nodes: tuple
    output: int
    inputs: tuple   # the differentiated input Symbols in declared order

    def node(self, i: int) -> Node:
        return self.nodes[i]

    @property
    def op_nodes(self) -> list:
        return [n for n in self.nodes if not n.is_leaf]

    def value(self, override: dict | None = None) -> sp.Expr:
        """Rebuild the output from the rules; ``override`` maps node ids to stand-ins."""
        override = override or {}
        vals = {}
        for n in self.nodes:
            if n.id in override:
                vals[n.id] = override[n.id]
            elif n.is_leaf:
                vals[n.id] = n.expr
            else:
                vals[n.id] = apply(n, [vals[a] for a in n.args])
        return vals[self.output]

    def to_dict(self) -> dict:
        from .render.printers import text
        return {"output": self.output, "nodes": [
            {"id": n.id, "op": n.op, "label": n.label(), "name": n.name, "args": list(n.args),
             "expr": text(n.expr), "shape": [str(d) for d in n.shape]} for n in self.nodes]}


def apply(n: Node, args) -> sp.Expr:
    """Node ``n``'s operation applied to ``args`` (its operands' values)."""
    rule = n.rule
    if rule.structural:
        return rule.sympy(*args, *n.params)
    return rule.value_at(args, n.const)


_HINT = ("write it with the primitives of the rule table: +, -, *, /, ** (constant "
         "exponents), exp, log, tanh, sinh, cosh, erf, abs, np.maximum(0, ·), np.where with "
         "comparisons, @, np.sum/np.mean over axes, .T")


class _Builder:
    def __init__(self, inputs):
        self.inputs = tuple(inputs)
        self.input_set = set(self.inputs)
        self.nodes: list[Node] = []
        self.memo: dict = {}
        self.named: dict = {}           # node id -> statement name
        for s in self.inputs:
            self.nodes.append(Node(len(self.nodes), "input", (), None, s, s.name))
            self.memo[("expr", s)] = len(self.nodes) - 1

    def _add(self, op, args, const, expr, params=()) -> int:
        key = (op, tuple(args), const, params, expr if op in ("input", "const") else None)
        if key in self.memo:
            return self.memo[key]
        node = Node(len(self.nodes), op, tuple(args), const, expr, "", tuple(params))
        self.nodes.append(node)
        self.memo[key] = node.id
        self.memo.setdefault(("expr", expr), node.id)
        return node.id

    def is_const(self, e) -> bool:
        return not (e.free_symbols & self.input_set)

    def statement(self, symbol, value) -> None:
        """A named statement: its node, reachable from later statements by its name."""
        if self.is_const(value):
            return                          # a constant: it stays a name in the formulas
        node = self.build(value) if not isinstance(value, sp.Symbol) else _input_id(self, value)
        self.memo[("expr", symbol)] = node
        self.named.setdefault(node, symbol.name)
        self.input_set.add(symbol)

    def operand(self, e) -> int:
        """A node for an operand of a structural node; a constant one is a ``const`` leaf."""
        if self.is_const(e):
            return self._add("const", (), None, e)
        return self.build(e)

    def build(self, e: sp.Expr) -> int:
        if ("expr", e) in self.memo:
            return self.memo[("expr", e)]
        if self.is_const(e):
            raise DeriveError(f"the formula has a constant part {e} where a node was expected")
        if isinstance(e, sp.Symbol):
            raise DeriveError(f"{e} is not an input of this layer")
        if type(e) in STRUCTURAL:
            op = STRUCTURAL[type(e)]
            arity = RULES[op].arity or len(e.args)       # 0: every argument (outputs)
            ids = [self.operand(a) for a in e.args[:arity]]
            return self._add(op, ids, None, e, e.args[arity:])
        if e.is_Add:
            return self._nary(e, sp.Add, "add", "add_const", 0)
        if e.is_Mul:
            return self._mul(e)
        if e.is_Pow:
            return self._pow(e)
        if isinstance(e, (sp.Max, sp.Min)):
            return self._max(e)
        if isinstance(e, sp.Piecewise):
            return self._piecewise(e)
        if type(e) in UNARY:
            return self._add(UNARY[type(e)], (self.build(e.args[0]),), None, e)
        raise MissingRuleError(f"no rule for {type(e).__name__} (in {e}); {_HINT}")

    def _nary(self, e, cls, op, const_op, unit):
        const = cls(*[a for a in e.args if self.is_const(a)])
        terms = [a for a in e.args if not self.is_const(a)]
        ids = [self.build(t) for t in terms]
        acc, acc_expr = ids[0], terms[0]
        for i, t in zip(ids[1:], terms[1:]):
            acc_expr = cls(acc_expr, t)
            acc = self._add(op, (acc, i), None, acc_expr)
        if const != unit:
            acc = self._add(const_op, (acc,), const, cls(acc_expr, const))
        return acc

    def _mul(self, e):
        coeff = sp.Mul(*[a for a in e.args if self.is_const(a)])
        rest = sp.Mul(*[a for a in e.args if not self.is_const(a)])
        factors = [a for a in e.args if not self.is_const(a)]
        if coeff == 1:
            return self._nary(e, sp.Mul, "mul", "mul_const", 1)
        inner = self.build(rest) if len(factors) > 1 else self.build(factors[0])
        if coeff == -1:
            return self._add("neg", (inner,), None, e)
        return self._add("mul_const", (inner,), coeff, e)

    def _pow(self, e):
        base, ex = e.args
        if self.is_const(ex):
            if ex == -1:
                return self._add("reciprocal", (self.build(base),), None, e)
            return self._add("pow", (self.build(base),), ex, e)
        if self.is_const(base):
            if base == sp.E:
                return self._add("exp", (self.build(ex),), None, e)
            return self._add("cpow", (self.build(ex),), base, e)
        return self._add("powv", (self.build(base), self.build(ex)), None, e)

    def _max(self, e):
        args = list(e.args)
        if len(args) == 2 and 0 in args:
            other = args[1] if args[0] == 0 else args[0]
            if isinstance(e, sp.Max):
                return self._add("relu", (self.build(other),), None, e)
            return self.build(-sp.Max(0, -other))
        raise MissingRuleError(f"no rule for {e}: only max(0, ·) (ReLU) is a primitive; "
                               "write other maxima with np.where")

    def _piecewise(self, e):
        (then, cond), *rest = e.args
        other = sp.Piecewise(*rest) if rest and rest[0][1] != sp.true else (
            rest[0][0] if rest else None)
        if other is None:
            raise DeriveError(f"{e} has no otherwise-branch")
        if isinstance(cond, _COMPOUND):
            return self.build(split_condition(cond, then, other))
        op, arg, const = self._condition(cond)
        if then == 1 and other == 0:
            return self._add(f"mask_{op}", (arg,), const, e)
        parts = [self.operand(then), self.operand(other)]     # a constant branch is a leaf
        return self._add(f"where_{op}", (arg, *parts), const, e)

    def _condition(self, cond):
        """A relational → (op, id of the node compared, the constant c it is compared with):
        ``a <= 6`` is (le, a, 6); ``x < y`` compares ``x - y`` with 0."""
        if not isinstance(cond, sp.core.relational.Relational) or isinstance(
                cond, (sp.Eq, sp.Ne)):
            raise MissingRuleError(f"no rule for the condition {cond}; use comparisons "
                                   "(<, <=, >, >=, ==, !=) joined by &, | and ~")
        lhs, rhs = cond.lhs, cond.rhs
        op = _OPS[type(cond)]
        if self.is_const(lhs) and not self.is_const(rhs):     # 6 >= a is a <= 6
            lhs, rhs, op = rhs, lhs, _FLIP[op]
        if not self.is_const(rhs):
            lhs, rhs = lhs - rhs, sp.Integer(0)
        if op in ("lt", "le") and rhs == 0:      # a sign test reads as the book's x > 0
            lhs, op = -lhs, _FLIP[op]
        return op, self.build(lhs), rhs


_COMPOUND = (sp.And, sp.Or, sp.Not, sp.Eq, sp.Ne, sp.ITE)
_OPS = {sp.StrictGreaterThan: "gt", sp.GreaterThan: "ge", sp.StrictLessThan: "lt",
        sp.LessThan: "le"}
_FLIP = {"gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}


def split_condition(cond, then, other) -> sp.Piecewise:
    """``where(cond, then, other)`` with one comparison per ``where``, equal everywhere.

    ``a & b`` nests (the inner where decides only where a holds), ``a | b`` too, ``~a``
    swaps the branches, ``a == b`` is ``(a >= b) & (a <= b)`` and ``a != b`` its negation.

    >>> x, t = sp.symbols("x t", real=True)
    >>> split_condition(sp.And(x > 0, t > 0), x, 0)
    Piecewise((Piecewise((x, x > 0), (0, True)), t > 0), (0, True))
    >>> split_condition(sp.Ne(x, t), 1, 0)
    Piecewise((Piecewise((0, t >= x), (1, True)), t <= x), (1, True))
    """
    where = sp.Piecewise
    if isinstance(cond, sp.ITE):          # SymPy's form of a comparison with a where inside
        a, b, c = cond.args
        return where((where((then, b), (other, True)), a), (where((then, c), (other, True)), True))
    if isinstance(cond, sp.Not):
        return where((other, cond.args[0]), (then, True))
    if isinstance(cond, (sp.Eq, sp.Ne)):
        lhs, rhs = cond.args
        yes, no = (then, other) if isinstance(cond, sp.Eq) else (other, then)
        return where((where((yes, lhs <= rhs), (no, True)), lhs >= rhs), (no, True))
    first, *more = cond.args
    rest = cond.func(*more)
    if isinstance(cond, sp.And):
        return where((where((then, rest), (other, True)), first), (other, True))
    return where((then, first), (where((then, rest), (other, True)), True))


def decompose(forward: sp.Expr, inputs, program=(), reserved=()) -> Graph:
    """Decompose ``forward`` into a :class:`Graph` over ``inputs`` (Symbols, in order).

    ``program`` holds a layer's named statements, ``(symbol, value)`` in order, each value
    written in the earlier names (``xn = xc/std``); ``forward`` may use them too. Their
    nodes keep the names (``ms``, ``xn``), the others are named a, b, c, ... avoiding
    ``reserved`` (the layer's other names: dimensions, aliases) and every dimension.
    """
    forward = sp.sympify(forward)
    b = _Builder(inputs)
    for symbol, value in program:
        b.statement(symbol, value)
    out = b.memo.get(("expr", forward))
    if out is None:
        out = b.build(forward) if not isinstance(forward, sp.Symbol) else _input_id(b, forward)
    reached = _reachable(b.nodes, out)
    names = {b.nodes[i].expr: name for i, name in b.named.items()}
    return Graph(tuple(_name(b.nodes, out, reached, inputs, names, b.named, reserved)), out,
                 tuple(inputs))


def _input_id(b, s):
    if s not in b.inputs:
        raise DeriveError(f"{s} is not an input of this layer")
    return b.inputs.index(s)


def _reachable(nodes, out) -> set:
    seen, todo = set(), [out]
    while todo:
        i = todo.pop()
        if i not in seen:
            seen.add(i)
            todo.extend(nodes[i].args)
    return seen


def _name(nodes, out, reached, inputs, names, by_id=None, reserved=()):
    """Renumber kept nodes in topological order; name them a, b, c, ... and out."""
    taken = {str(s) for s in inputs} | {"out", "dout", "y"} | set(names.values()) | {
        str(s) for n in nodes for s in n.expr.free_symbols} | set(reserved) | {
        str(s) for n in nodes for d in shape_of(n.expr) for s in sp.sympify(d).free_symbols}
    letters = (ch for ch in string.ascii_lowercase + string.ascii_uppercase if ch not in taken
               and ch not in "EyzL")    # E reads as Euler's number; the pages spell the output
    #                                     y (or z) and the loss L
    keep = [n for n in nodes if n.id in reached or n.op == "input"]
    new_id = {n.id: k for k, n in enumerate(keep)}
    named = []
    for n in keep:
        statement = bool(by_id and n.id in by_id and n.id != out)
        if n.op == "input":
            name = n.name or str(n.expr)
        elif n.op == "const":
            name = str(n.expr)
        elif n.id == out:
            name = "out"
        elif by_id and n.id in by_id:
            name = by_id[n.id]
        elif n.expr in names:
            name = names[n.expr]
        else:
            name = next(letters, f"v{new_id[n.id]}")
        named.append(Node(new_id[n.id], n.op, tuple(new_id[a] for a in n.args), n.const, n.expr,
                          name, n.params, statement and n.op not in ("input", "const")))
    return named
