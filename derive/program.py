"""The front door: a layer's NumPy forward, as text, into a typed :class:`~derive.spec.LayerSpec`.

Two spellings, parsed (never executed, never imported):

* ``--expr``: one expression, or statements separated by ``;`` or newlines; the last
  assignment (or a final bare expression) is the output;
* ``--file``: a Python ``def`` of the forward. Its arguments are the layer's names;
  annotations give shapes and roles (``x: "N, D"``, ``W: weight("D", "M")``,
  ``t: const("N", "C")``, ``alpha: param = 0.01``, ``x: positive``), and its docstring
  the title and the optional lines ``class:``, ``note:``, ``assume:`` (e.g.
  ``assume: np.sum(t, axis=1) == 1``), ``flatten:``, ``running:``, ``dropout:``,
  ``labels:`` (class features of the exported code).

Shapes (``--shape x=N,D``) name dimensions by identifiers (results hold for every size)
or integers; a name without a shape is a scalar that broadcasts.

>>> spec = layer_from_text("np.tanh(x @ W + b)", shapes={"x": "N,D", "W": "D,M", "b": "M"},
...                        weights=["W", "b"])
>>> spec.forward, spec.out_shape
(tanh(b + MatProd(x, W)), (N, M))
>>> layer_from_text("x*y", var=["y", "x", "x"])
Traceback (most recent call last):
...
derive.errors.DeriveError: --var names x twice
"""
from __future__ import annotations

import ast

import sympy as sp

from .errors import DeriveError
from .parse import _MODULES, _Parser
from .parse_limits import read_tree
from .program_meta import (ROLES as _ROLES, _annotation, _assumption, _docstring, _features,
                           _literal_number, _metadata)
from .spec import LayerSpec, camel
from .tensor import array, dim, shape_of

__all__ = ["layer_from_text", "layer_from_def", "parse_shape"]

RESERVED = ("dout", "out")
MAX_PROGRAM_CHARS = 20000
MAX_PROGRAM_NODES = 4000


def parse_shape(text, where: str = "--shape") -> tuple:
    """``"N,D"``, ``("N", "D")`` or ``"3, D"`` -> a shape of dimension symbols and integers;
    ``"4*H"`` is a multiple of a dimension (LSTM's four gates packed along one axis).

    >>> parse_shape("N, D"), parse_shape(("3",)), parse_shape(""), parse_shape("D, 4*H")
    ((N, D), (3,), (), (D, 4*H))
    """
    items = [t.strip() for t in text.split(",")] if isinstance(text, str) else [
        str(t).strip() for t in text]
    items = [t for t in items if t]
    out = []
    for t in items:
        if t.isdigit() and int(t) > 0:
            out.append(sp.Integer(int(t)))
        elif t.isidentifier() and not t.startswith("_"):
            out.append(dim(t))
        elif t.count("*") == 1 and t.split("*")[0].strip().isdigit() and int(
                t.split("*")[0]) > 0 and t.split("*")[1].strip().isidentifier() and not t.split(
                "*")[1].strip().startswith("_"):
            out.append(int(t.split("*")[0]) * dim(t.split("*")[1].strip()))
        else:
            raise DeriveError(f"{where}: {t!r} is not a dimension (an identifier such as N, "
                              "a positive integer, or a multiple such as 4*H)")
    return tuple(out)


class _Program(_Parser):
    by_line = True


# ---- reading the statements -------------------------------------------------------------

def _statements(body, parser) -> list:
    """[(target or None, value node, statement node)]: assignments, then the output."""
    out = []
    for k, st in enumerate(body):
        last = k == len(body) - 1
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
            out.append((st.targets[0].id, st.value, st))
        elif isinstance(st, ast.Return) and last and st.value is not None:
            out.append((None, st.value, st))
        elif isinstance(st, ast.Expr) and last:
            out.append((None, st.value, st))
        elif isinstance(st, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            raise parser.error("only plain assignments 'name = expression' are allowed", st)
        else:
            what = type(st).__name__.lower()
            raise parser.error(f"a {what} statement is not allowed: a forward is assignments "
                               "'name = expression' and a final expression or return", st)
    if not out:
        raise parser.error("the forward has no statements", column=1)
    return out


def _free_names(statements, parser) -> list:
    """Names read before they are assigned, in order of first appearance."""
    assigned, found = set(), {}
    for target, value, _ in statements:
        calls, attrs = set(), set()
        for node in ast.walk(value):
            if isinstance(node, ast.Call):
                calls.add(id(node.func))
            if isinstance(node, ast.Attribute):
                attrs.add(id(node.value))
        for node in ast.walk(value):
            if isinstance(node, ast.Name) and id(node) not in calls and node.id not in assigned:
                module_prefix = id(node) in attrs and node.id in _MODULES
                if not module_prefix:
                    found.setdefault(node.id, (node.lineno, node.col_offset))
        if target is not None:
            assigned.add(target)
    from .parse import CONSTANTS, FUNCTIONS
    return [n for n in sorted(found, key=found.get) if n not in CONSTANTS and n not in FUNCTIONS]


def _check_names(statements, declared, parser) -> None:
    seen = set()
    for k, (target, _, st) in enumerate(statements):
        if target is None:
            continue
        if target in seen:
            raise parser.error(f"{target} is assigned twice; give each value its own name", st)
        if target in declared:
            raise parser.error(f"{target} is an input of the layer; give the statement "
                               "another name", st)
        if target == "dout" or (target == "out" and k != len(statements) - 1):
            raise parser.error(f"{target} is reserved (dout is the upstream gradient, out the "
                               "output: only the last statement may be 'out = ...')", st)
        seen.add(target)


# ---- building the spec --------------------------------------------------------------------

def _outputs(node, parser, table):
    """``return h_next, c_next``: several outputs, each a named statement of one shape."""
    from .errors import ShapeError
    from .outputs import Outputs
    for e in node.elts:
        if not isinstance(e, ast.Name) or e.id not in table or e.id in RESERVED:
            raise parser.error("a layer with several outputs returns statement names "
                               "(return h_next, c_next)", e)
    if len({e.id for e in node.elts}) != len(node.elts):
        raise parser.error("an output is returned twice", node)
    try:
        return Outputs(*[parser.value(e) for e in node.elts])
    except ShapeError as exc:
        raise parser.error(str(exc), node) from None


def _sign(value) -> dict:
    """Assumptions a statement's name may carry: positive or nonnegative, by SymPy's own
    reasoning, or because an even root is nonnegative wherever the forward is real."""
    if value.is_positive:
        return {"positive": True}
    if value.is_nonnegative or (value.is_Pow and value.exp.is_Rational
                                and value.exp.q % 2 == 0):
        return {"nonnegative": True}
    return {}


def _number(value, where) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DeriveError(f"{where}: a default must be a number, not {value!r}")
    return float(value)


def _build(source, statements, parser, *, shapes, roles, defaults, positive, var, name, title,
           integers=(),
           class_name, notes, assume, features, aliases) -> LayerSpec:
    names_used = _free_names(statements, parser)
    dims = {d.name: d for shape in shapes.values() for s in shape
            for d in sp.sympify(s).free_symbols}         # 4*H names the dimension H
    for n in RESERVED:
        if n in names_used:
            raise DeriveError(f"{n} cannot be an input name of a formula")
    for n in [*shapes, *roles]:
        if n not in names_used and n not in dims:
            raise DeriveError(f"{n} is declared but the forward does not use it "
                              f"(it uses {', '.join(names_used) or 'no names'})")
    free = [n for n in names_used if n not in dims and n not in roles]
    if var is not None:
        if len(set(var)) != len(var):
            twice = next(v for v in var if var.count(v) > 1)
            raise DeriveError(f"--var names {twice} twice")
        for v in var:
            if v not in free:
                raise DeriveError(f"--var {v}: the formula has no name {v!r} "
                                  f"(it has {', '.join(free) or 'none'})")
        left = [n for n in free if n not in var]
        if left:
            raise DeriveError(f"the forward uses {', '.join(left)}, which "
                              f"{'is' if len(left) == 1 else 'are'} not among its inputs "
                              f"({', '.join(var)}): name every input (a def's parameters, or "
                              "--var)")
        free = list(var)
    symbols = {}
    for n in [*free, *roles]:
        flags = {"positive": True} if n in positive else {}
        if n in integers:      # a stride, a pad: an integer, symbolic in the proofs
            flags = {"integer": True, "nonnegative": True, **flags}
        if roles.get(n) == "index":            # row numbers: integers >= 0, never differentiated
            if not shapes.get(n):
                raise DeriveError(f"index {n} needs a shape, e.g. {n}: index(\"N\")")
            flags = {"integer": True, "nonnegative": True}
        symbols[n] = array(n, shapes.get(n, ()), **flags)
    groups = {role: tuple(symbols[n] for n in roles if roles[n] == role) for role in _ROLES}
    groups["const"] += groups["index"]
    inputs = tuple(symbols[n] for n in free) + groups["input"]
    if not inputs and not groups["weight"]:
        raise DeriveError("the formula has no input: it is a constant")
    table = {**symbols, **dims}
    parser.names = table
    written, inlined = [], {}
    _check_names(statements, set(table), parser)
    features = dict(features)
    for k, (target, node, _) in enumerate(statements):
        if isinstance(node, ast.Tuple) and target is None and k == len(statements) - 1:
            value = _outputs(node, parser, table)
            features["outputs"] = tuple(e.id for e in node.elts)
        else:
            value = parser.value(node)
        full = value.xreplace(inlined) if inlined else value
        if target is not None:
            sign = _sign(value)
            name_symbol = array(target, shape_of(value), **sign)
            table[target] = name_symbol
            inlined[name_symbol] = full
            written.append((name_symbol, value, full))
    output, forward = value, full
    if not (forward.free_symbols & set(inputs + groups["weight"])):
        raise DeriveError("the output does not depend on any input: it is a constant")
    output_name = statements[-1][0]
    if output_name is None and written and output == written[-1][0]:
        output_name = written[-1][0].name          # "return y": the statement y is the output
        output = written[-1][1]
    if output_name is not None:
        written.pop()
    program = tuple((n, v) for n, v, _ in written)
    named = tuple((n.name, f) for n, _, f in written)
    aliases = dict(aliases)
    if output_name not in (None, "out"):
        aliases.setdefault(output_name, "out")
    notes = tuple(dict.fromkeys([*notes, *parser.conventions]))
    return LayerSpec(name, forward, inputs, groups["param"], dict(defaults), title or name,
                     class_name or camel(name), notes, groups["weight"], groups["const"],
                     named, tuple(assume), features, aliases, source, program, output)


def layer_from_text(text: str, *, shapes=None, weights=(), consts=None, params=None,
                    positive=(), var=None, name: str = "expr", title: str = "",
                    class_name: str = "", notes=(), assume=(), features=None) -> LayerSpec:
    """A layer from ``--expr`` text: one expression, or statements.

    ``shapes``: name -> "N,D"; ``weights``: names; ``consts``/``params``: name -> default
    value (or None for no default).
    """
    parser = _Program(text, {})
    parser.by_line = "\n" in text.strip()
    tree = read_tree(text, parser, mode="exec", max_chars=MAX_PROGRAM_CHARS,
                     max_nodes=MAX_PROGRAM_NODES)
    statements = _statements(tree.body, parser)
    shapes = {n: parse_shape(s, f"--shape {n}") for n, s in (shapes or {}).items()}
    roles, defaults = {}, {}
    for n in weights:
        roles[n] = "weight"
    for role, given in (("const", consts), ("param", params)):
        for n, v in (given or {}).items():
            if n in roles:
                raise DeriveError(f"{n} is declared both as {roles[n]} and as {role}")
            roles[n] = role
            if v is not None:
                defaults[n] = _number(v, f"--{role} {n}")
    return _build(text, statements, parser, shapes=shapes, roles=roles, defaults=defaults,
                  positive=set(positive), var=list(var) if var is not None else None,
                  name=name, title=title or "custom formula", class_name=class_name,
                  notes=notes, assume=assume, features=features or {}, aliases={})


# ---- def files (their declarations: derive/program_meta.py) ---------------------------------

def function_names(source: str) -> list:
    """The names of the top-level ``def`` s of a file (parsed with the limits, never run)."""
    parser = _Program(source, {})
    module = read_tree(source, parser, mode="exec", max_chars=MAX_PROGRAM_CHARS * 5,
                       max_nodes=MAX_PROGRAM_NODES * 5)
    return [n.name for n in module.body if isinstance(n, ast.FunctionDef)]


def layer_from_def(source: str, *, fn: str | None = None, shapes=None, name: str | None = None,
                   positive=()) -> LayerSpec:
    """A layer from the source of a Python ``def`` (parsed from its AST, never imported)."""
    parser = _Program(source, {})
    module = read_tree(source, parser, mode="exec", max_chars=MAX_PROGRAM_CHARS * 5,
                       max_nodes=MAX_PROGRAM_NODES * 5)
    defs = [n for n in module.body if isinstance(n, ast.FunctionDef)]
    if fn is not None:
        defs = [d for d in defs if d.name == fn]
        if not defs:
            raise DeriveError(f"--fn {fn}: the file has no function {fn}")
    if len(defs) != 1:
        found = ", ".join(d.name for d in module.body if isinstance(d, ast.FunctionDef))
        raise DeriveError("the file must define one forward function, or choose one with --fn"
                          + (f" (it defines {found})" if found else " (it defines none)"))
    d = defs[0]
    a = d.args
    if a.vararg or a.kwarg or a.posonlyargs:
        raise parser.error("*args, **kwargs and positional-only arguments are not supported", d)
    args = a.args + a.kwonlyargs
    defaults = dict(zip([x.arg for x in a.args[len(a.args) - len(a.defaults):]], a.defaults))
    defaults.update({x.arg: v for x, v in zip(a.kwonlyargs, a.kw_defaults) if v is not None})
    doc, body = _docstring(d.body)
    meta = _metadata(doc)
    roles, values, shape_text, pos = {}, {}, dict(shapes or {}), set(positive)
    integers = set()
    for arg in args:
        role, shape, positive_arg, integer_arg = _annotation(arg.annotation, parser)
        if integer_arg:
            integers.add(arg.arg)
        if arg.arg in defaults:
            values[arg.arg] = _literal_number(defaults[arg.arg], parser)
            role = "const" if role == "input" else role
        if role != "input":
            roles[arg.arg] = role
        if shape:
            shape_text.setdefault(arg.arg, shape)
        if positive_arg:
            pos.add(arg.arg)
    statements = _statements(body, parser)
    shapes = {n: parse_shape(s, f"the shape of {n}") for n, s in shape_text.items()}
    inputs = [arg.arg for arg in args if arg.arg not in roles]
    layer = name or d.name
    for n in integers:
        if n in values and (values[n] != int(values[n]) or values[n] < 0):
            raise DeriveError(f"{n}: an integer parameter needs a nonnegative integer default")
    spec = _build(source, statements, parser, shapes=shapes, roles=roles, defaults=values,
                  positive=pos, integers=integers, var=inputs, name=layer, title=meta["title"] or layer,
                  class_name=meta.get("class", ""), notes=meta["note"], assume=(),
                  features=_features(meta), aliases={})
    names = {s.name for s in (*spec.differentiable, *spec.consts)} | {n for n, _ in spec.statements}
    assume = tuple(_assumption(t, names) for t in meta["assume"])
    from dataclasses import replace
    return replace(spec, assume=assume)
