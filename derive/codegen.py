"""Derivation → NumPy source: backward functions and book-style classes, numpy only.

The pipeline for one layer: the derived gradients (cached form) are made
numerically stable (:mod:`derive.codegen_stable`, every rewrite proven), common
subexpressions are shared (``sympy.cse``), and each expression is lowered to a
chain of NumPy ufunc calls that write into one freshly allocated buffer with
``out=``; the leaves and every operator are printed by :class:`NumpyCodePrinter`,
a subclass of SymPy's ``NumPyPrinter``. Each function carries the derived formula
as a comment. Arrays the function did not allocate (``dout``, cached values) are
only ever read.

>>> src = emit_module(["sigmoid"])
>>> "def sigmoid_backward(dout, out):" in src and "class Sigmoid:" in src
True
"""
from __future__ import annotations

import ast
import inspect
import keyword

import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p
from sympy.printing.numpy import NumPyPrinter

from .codegen_stable import sigmoid, softplus, stable_form
from .errors import DeriveError

__all__ = ["NumpyCodePrinter", "emit_module", "emit_layer", "layer_code"]

_UFUNC1 = {sp.exp: "exp", sp.log: "log", sp.tanh: "tanh", expm1: "expm1", log1p: "log1p",
           sp.Abs: "abs", sp.sign: "sign"}


class NumpyCodePrinter(NumPyPrinter):
    """NumPyPrinter spelling ``np.``, constants as floats, masks as comparisons, helpers by name."""

    printmethod = "_numpycode"

    def _module_format(self, fqn, register=True):
        name = super()._module_format(fqn, register)
        return "np." + name[len("numpy."):] if name.startswith("numpy.") else name

    def _print_Rational(self, e):
        return repr(float(e))

    def _print_Integer(self, e):
        return repr(float(e))

    def _print_Float(self, e):
        return repr(float(e))

    def _print_NumberSymbol(self, e):
        return repr(float(e))

    _print_Pi = _print_Exp1 = _print_NumberSymbol

    def _print_Relational(self, e):
        op = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}[e.rel_op]
        return f"({self._print(e.lhs)} {op} {self._print(e.rhs)})"

    def _print_Piecewise(self, e):
        (a, cond), rest = e.args[0], e.args[1:]
        other = rest[0][0] if len(rest) == 1 else sp.Piecewise(*rest)
        return f"np.where({self._print(cond)}, {self._print(a)}, {self._print(other)})"

    def _print_sigmoid(self, e):
        return f"_sigmoid({self._print(e.args[0])})"

    def _print_softplus(self, e):
        return f"np.logaddexp(0.0, {self._print(e.args[0])})"

    def _print_erf(self, e):
        return f"erf({self._print(e.args[0])})"


class _Operand:
    """A value during lowering: printed text, and whether it is a buffer we allocated."""

    def __init__(self, text: str, owned: bool = False, scalar: bool = False):
        self.text, self.owned, self.scalar = text, owned, scalar


class _Lowering:
    """Expression → ufunc calls into owned buffers (``out=``), never writing a caller's array."""

    def __init__(self, printer, arrays, taken, alloc=None):
        self.p = printer
        # alloc: source text of a fresh float64 buffer of the result's shape (e.g.
        # "np.empty_like(dout, dtype=np.float64)"); every allocating ufunc writes into one,
        # so 0-d results stay arrays (in-place steps work) and no reshape is needed
        self.alloc = alloc
        self.arrays = set(arrays)
        self.lines: list = []
        self.taken = taken if isinstance(taken, set) else set(taken)
        self.helpers: set = set()
        self.count = 0

    def fresh(self, stem="tmp") -> str:
        name = stem
        while name in self.taken or keyword.iskeyword(name):
            self.count += 1
            name = f"{stem}{self.count}"
        self.taken.add(name)
        return name

    def is_array(self, e) -> bool:
        return bool(e.free_symbols & self.arrays)

    # emission ---------------------------------------------------------------------------
    def ufunc(self, name: str, *args: _Operand) -> _Operand:
        """np.<name>(args), into the first owned array argument when there is one."""
        text = ", ".join(a.text for a in args)
        target = next((a for a in args if a.owned), None)
        if target is not None:
            self.lines.append(f"np.{name}({text}, out={target.text})")
            return target
        new = self.fresh()
        if self.alloc is not None:
            self.lines.append(f"{new} = np.{name}({text}, out={self.alloc})")
        else:
            self.lines.append(f"{new} = np.{name}({text})")
        return _Operand(new, owned=True)

    def call(self, helper: str, *args: _Operand) -> _Operand:
        self.helpers.add(helper)
        new = self.fresh()
        self.lines.append(f"{new} = {helper}({', '.join(a.text for a in args)})")
        return _Operand(new, owned=True)

    # lowering ---------------------------------------------------------------------------
    def value(self, e) -> _Operand:
        if not self.is_array(e):
            text = repr(float(e)) if e.is_number else self.p.doprint(e)
            return _Operand(text, scalar=True)
        if e.is_Symbol:
            return _Operand(self.p.doprint(e))
        if e.is_Add:
            return self._add(e)
        if e.is_Mul:
            return self._mul(e)
        if e.is_Pow:
            return self._pow(e)
        if isinstance(e, sp.Piecewise):
            return self._piecewise(e)
        if isinstance(e, sp.core.relational.Relational):
            new = self.fresh("mask")
            self.lines.append(f"{new} = {self._condition(e)}")
            return _Operand(new, owned=True)
        if isinstance(e, (sp.Min, sp.Max)) and len(e.args) == 2:
            a, b = sorted(e.args, key=lambda q: not self.is_array(q))
            name = "minimum" if isinstance(e, sp.Min) else "maximum"
            return self.ufunc(name, self.value(a), self.value(b))
        if isinstance(e, softplus):
            return self.ufunc("logaddexp", _Operand("0.0", scalar=True), self.value(e.args[0]))
        if isinstance(e, sigmoid):
            return self.call("_sigmoid", self.value(e.args[0]))
        if isinstance(e, sp.erf):
            return self.call("erf", self.value(e.args[0]))
        for fn, name in _UFUNC1.items():
            if isinstance(e, fn):
                return self.ufunc(name, self.value(e.args[0]))
        raise DeriveError(f"code generation has no NumPy spelling for {type(e).__name__} in {e}")

    def _ordered(self, terms):
        """Compound terms first (the first one allocates the buffer), then leaves."""
        return sorted(terms, key=lambda q: (q.is_Symbol or not self.is_array(q),))

    def _add(self, e):
        scalar = sp.Add(*[a for a in e.args if not self.is_array(a)])
        terms = []
        for a in self._ordered([a for a in e.args if self.is_array(a)]):
            neg = a.could_extract_minus_sign()
            terms.append((-1 if neg else 1, -a if neg else a))
        terms.sort(key=lambda st: (st[1].is_Symbol, st[0] < 0))
        if scalar != 0:
            neg = scalar.could_extract_minus_sign()
            terms.append((-1 if neg else 1, -scalar if neg else scalar))
        sign, acc = terms[0][0], self.value(terms[0][1])
        for s, term in terms[1:]:
            v = self.value(term)
            if sign > 0:
                acc = self.ufunc("add" if s > 0 else "subtract", acc, v)
            elif s > 0:
                acc, sign = self.ufunc("subtract", v, acc), 1
            else:
                acc = self.ufunc("add", acc, v)
        return self.ufunc("negative", acc) if sign < 0 else acc

    def _mul(self, e):
        coeff = sp.Mul(*[a for a in e.args if not self.is_array(a)])
        num, den = [], []
        for a in e.args:
            if not self.is_array(a):
                continue
            if a.is_Pow and a.exp.is_number and a.exp < 0:
                den.append(a.base ** -a.exp)
            else:
                num.append(a)
        num, den = self._ordered(num), self._ordered(den)
        negate = coeff.could_extract_minus_sign()
        coeff = -coeff if negate else coeff
        adds = [i for i, f in enumerate(num) if f.is_Add]
        if negate and adds:  # -(a - 1) is 1 - a: no separate negation pass
            flip = max(adds, key=lambda i: sum(t.could_extract_minus_sign()
                                               for t in num[i].args))
            num[flip], negate = -num[flip], False
        elif negate and coeff != 1:  # one multiply by the negative constant
            coeff, negate = -coeff, False
        if num and coeff != 1 and (num[0].is_Symbol or not negate):
            # scale the first factor before the array-array products (measured faster)
            acc = self.ufunc("multiply", self.value(num[0]), self.value(coeff))
            rest, coeff = num[1:], sp.Integer(1)
        elif num:
            acc = self.value(num[0])
            rest = num[1:]
        else:
            acc = self.ufunc("divide", self.value(coeff), self.value(den[0]))
            rest, den, coeff = [], den[1:], sp.Integer(1)
        for f in rest:
            acc = self.ufunc("multiply", acc, self.value(f))
        for d in den:
            acc = self.ufunc("divide", acc, self.value(d))
        if coeff != 1:
            acc = self.ufunc("multiply", acc, self.value(coeff))
        return self.ufunc("negative", acc) if negate else acc

    def _pow(self, e):
        base, ex = e.args
        if not self.is_array(base):
            return self.ufunc("power", self.value(base), self.value(ex))
        if ex == 2:
            return self.ufunc("square", self.value(base))
        if ex == 3:  # x*x**2: two multiplies, not a call to pow
            b = self.value(base)
            return self.ufunc("multiply", self.ufunc("square", b), b)
        if ex == sp.Rational(1, 2):
            return self.ufunc("sqrt", self.value(base))
        if ex == -1:
            return self.ufunc("divide", _Operand("1.0", scalar=True), self.value(base))
        return self.ufunc("power", self.value(base), self.value(ex))

    def _condition(self, cond) -> str:
        """A comparison whose array side is lowered to a name first if it is compound."""
        if cond.is_Symbol:  # a cached boolean mask
            return cond.name
        if isinstance(cond, sp.Not) and cond.args[0].is_Symbol:
            return f"~{cond.args[0].name}"
        lhs, rhs = cond.lhs, cond.rhs
        lt, rt = self.value(lhs).text, self.value(rhs).text
        return f"({lt} {cond.rel_op} {rt})"

    def _piecewise(self, e):
        (a, cond), rest = e.args[0], e.args[1:]
        other = rest[0][0] if len(rest) == 1 and rest[0][1] == sp.true else sp.Piecewise(*rest)
        c = self._condition(cond)
        if other == 0:  # a 0/1 mask
            va = self.value(a)
            if va.owned:
                return self.ufunc("multiply", va, _Operand(c))
            new = self.fresh()
            self.lines.append(f"{new} = np.where({c}, {va.text}, 0.0)")
            return _Operand(new, owned=True)
        vb = self.value(other)
        va = self.value(a)
        if vb.owned:
            self.lines.append(f"np.copyto({vb.text}, {va.text}, where={c})")
            return vb
        if va.owned:
            notc = self._condition(cond.negated)
            self.lines.append(f"np.copyto({va.text}, {vb.text}, where={notc})")
            return va
        new = self.fresh()
        self.lines.append(f"{new} = np.where({c}, {va.text}, {vb.text})")
        return _Operand(new, owned=True)


def _inline_cheap(repl, reduced, arrays):
    """Undo sharing of ``c*x``: recomputing it costs one pass, keeping it costs a buffer and one."""
    keep, subs = [], {}
    for sym, e in repl:
        e = e.xreplace(subs)
        leaves = [a for a in sp.Mul.make_args(e) if a.free_symbols & set(arrays)]
        if e.is_Mul and len(leaves) == 1 and leaves[0].is_Symbol:
            subs[sym] = e
        else:
            keep.append((sym, e))
    return keep, [r.xreplace(subs) for r in reduced]


def _lower(exprs, arrays, taken, printer, alloc=None):
    """Lower several expressions (sharing subexpressions) → (lines, result names, helpers)."""
    low = _Lowering(printer, arrays, taken, alloc)
    names = sp.numbered_symbols("t")
    repl, reduced = sp.cse(list(exprs), symbols=(s for s in names if s.name not in taken))
    repl, reduced = _inline_cheap(repl, reduced, arrays)
    for sym, sub in repl:
        low.taken.add(sym.name)
        v = low.value(sub)
        if v.scalar:
            low.lines.append(f"{sym.name} = {v.text}")
        else:
            low.lines.append(f"{sym.name} = {v.text}") if v.text != sym.name else None
            low.arrays.add(sym)
    results, seen = [], set()
    for e in reduced:
        v = low.value(e)
        if v.scalar:
            if alloc is not None:
                new = low.fresh()
                low.lines.append(f"{new} = {alloc}")
                low.lines.append(f"{new}.fill({v.text})")
                v = _Operand(new, owned=True)
            else:
                v = low.ufunc("full_like", _Operand("dout"), v)
        elif not v.owned or v.text in seen or any(v.text == s.name for s, _ in repl):
            new = low.fresh()
            low.lines.append(f"{new} = np.array({v.text}, dtype=np.float64)" if alloc is not None
                             else f"{new} = np.copy({v.text})")
            v = _Operand(new, owned=True)
        seen.add(v.text)
        results.append(v.text)
    return [line for line in low.lines if line], results, low.helpers


# ---- helpers copied into the generated module (by inspect.getsource), numpy only ------------

def _as_arrays(*values):
    """float64 arrays of at least one dimension; views where possible, never written to."""
    return [v if type(v) is np.ndarray and v.dtype == np.float64 and v.ndim else
            np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in values]


def _sigmoid(u):
    """1/(1 + exp(-u)) without overflow: exp is only taken of -|u| <= 0."""
    z = np.abs(u)
    np.negative(z, out=z)
    np.exp(z, out=z)                  # exp(-|u|), in (0, 1]
    s = np.add(z, 1.0)
    np.divide(1.0, s, out=s)          # sigmoid(|u|)
    np.multiply(z, s, out=z)          # sigmoid(-|u|) = exp(-|u|)/(1 + exp(-|u|))
    np.copyto(s, z, where=u < 0)
    return s


_HELPERS = {"_as_arrays": _as_arrays, "_sigmoid": _sigmoid}


def _erf_source() -> str:
    """``numeric.special.erf`` and exactly the module-level names it uses, in file order."""
    from numeric import special
    source = inspect.getsource(special)
    tree = ast.parse(source)
    defs = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.Assign)):
            targets = [node.name] if isinstance(node, ast.FunctionDef) else [
                t.id for t in node.targets if isinstance(t, ast.Name)]
            for t in targets:
                defs[t] = node
    needed, todo = set(), ["erf"]
    while todo:
        name = todo.pop()
        if name in needed or name not in defs:
            continue
        needed.add(name)
        todo.extend(n.id for n in ast.walk(defs[name]) if isinstance(n, ast.Name))
    keep = [n for n in tree.body if any(defs.get(k) is n for k in needed)]
    return "\n\n".join(ast.get_source_segment(source, n) for n in keep)


# ---- one layer ------------------------------------------------------------------------------

def _rename(lines, old: str, new: str):
    import re
    pat = re.compile(rf"\b{re.escape(old)}\b")
    return [pat.sub(new, line) for line in lines]


def _targets(names) -> str:
    names = list(names)
    return f"{names[0]}," if len(names) == 1 else ", ".join(names)


def _float(v) -> str:
    return repr(float(v))


class LayerCode:
    """The generated source of one layer: its backward function and its class."""

    def __init__(self, function: str, cls: str, helpers: set, caches=()):
        self.function, self.cls, self.helpers = function, cls, helpers
        self.caches = list(caches)  # [(attribute, what it holds)] of the class's forward


def layer_code(d) -> LayerCode:
    """Backward function and book-style class for one :class:`~derive.derivation.Derivation`."""
    spec = d.spec
    from .steps import dout as dout_sym, out as out_sym
    printer = NumpyCodePrinter({"allow_unknown_functions": False})
    wrt = list(d.wrt)
    needs = [n for n in ("out", *spec.input_names) if any(n in d.needs(w) for w in wrt)]
    params = list(spec.param_names)
    arrays = {dout_sym, out_sym, *spec.inputs}
    taken = {"dout", "out", "np", "shape", *spec.input_names, *params, *_HELPERS, "erf"}
    stable, notes = [], []
    for w in wrt:
        e, applied = stable_form(d.result[w])
        stable.append(e)
        notes.append(applied)
    lines, results, helpers = _lower(stable, arrays, taken, printer)
    grad_names = ["g"] if len(wrt) == 1 else [f"d{w}" for w in wrt]
    for r, g in zip(results, grad_names):
        if r != g:
            lines = _rename(lines, r, g)
    fname = f"{spec.name}_backward"
    sig = ", ".join(["dout", *needs] + [f"{p}={_float(spec.defaults.get(p, 1.0))}"
                                       for p in params])
    doc = [f'    """{spec.title or spec.name} backward: the gradient'
           f'{"s" if len(wrt) > 1 else ""} of the loss w.r.t. {", ".join(wrt)}.', ""]
    for w, e, applied in zip(wrt, stable, notes):
        doc.append(f"    dL/d{w} = {d.result[w]}")
        if applied:
            doc.append(f"      computed as {e}  (proven equal; {', '.join(applied)})")
    doc.append('    """')
    body = [f"    # dL/d{w} = {d.result[w]}" for w in wrt]
    body.append("    shape = np.shape(dout)")
    body.append(f"    {_targets(['dout', *needs])} = _as_arrays({', '.join(['dout', *needs])})")
    body += [f"    {line}" for line in lines]
    rets = [f"{g}.reshape(shape)" for g in grad_names]
    body.append(f"    return {', '.join(rets)}")
    function = "\n".join([f"def {fname}({sig}):", *doc, *body])

    from .codegen_class import emit_class
    cls, chelpers, caches = emit_class(d, stable, needs, fname, printer)
    return LayerCode(function, cls, helpers | chelpers | {"_as_arrays"}, caches)


_HEADER = '''"""NumPy layers generated by derive from proven derivations: {names}.

Each ``<layer>_backward(dout, ...)`` takes the upstream gradient and the cached
values it needs and returns the input gradient (a tuple in input order for
several inputs); each class has the book's API (``forward`` caches, ``backward``
returns the gradients). Only numpy is imported. Arrays passed in are never
written to. Regenerate with ``derive export {cmd}``; do not edit.

What each class's ``forward`` caches for ``backward`` (arrays in the input's shape;
a bool mask takes 1 byte per element, a float64 array 8). Where the gradient is
``dout`` times a dout-free factor, the whole factor is computed in forward (proven
equal), so ``backward`` is one ``np.multiply`` into a fresh float64 array:
{caches}
"""
'''


def _cache_lines(parts, names) -> str:
    import textwrap
    lines = []
    for code, name in zip(parts, names):
        cls = code.cls.split(":", 1)[0][len("class "):]
        held = "; ".join(f"{a} ({what})" for a, what in code.caches) or "nothing (shapes only)"
        lines += textwrap.wrap(f"* {cls}: {held}", 88, subsequent_indent="  ",
                               break_long_words=False, break_on_hyphens=False)
    return "\n".join(lines)


_MATRIX_NOTE = '''
The matrix layers ({matrix}) follow the book's classes: forward caches what
backward needs, backward returns dx and stores parameter gradients as
attributes (dW, db; dgamma, dbeta); x of shape (N, D) (Affine and
BatchNormalization flatten higher ranks).
"""
'''


def emit_module(names, cmd: str | None = None, matrix=()) -> str:
    """The source of a module with the layers ``names`` (catalogue order kept as given).

    ``matrix``: matrix layers (:mod:`derive.matrix`) appended after the elementwise ones,
    in one module (one ``import numpy as np``; the helper names do not collide).
    """
    from .derivation import derive
    from .matrix.codegen import section
    parts, helpers = [], set()
    for name in names:
        code = layer_code(derive(name))
        parts.append(code)
        helpers |= code.helpers
    names, matrix = list(names), list(matrix)
    cmd = cmd or " ".join(names + matrix)
    out = [_HEADER.format(names=", ".join(names + matrix), cmd=cmd,
                          caches=_cache_lines(parts, names))]
    if matrix:
        out[0] = out[0].rstrip()[:-3].rstrip() + "\n" + _MATRIX_NOTE.format(matrix=", ".join(matrix))
    out.append("import math\n" if "erf" in helpers else "")
    out.append("import numpy as np\n\n")
    for h in ("_as_arrays", "_sigmoid"):
        if h in helpers:
            out.append(inspect.getsource(_HELPERS[h]) + "\n\n")
    if "erf" in helpers:
        out.append("# erf: numeric/special.py, copied\n" + _erf_source() + "\n\n\n")
    for code in parts:
        out.append(code.function + "\n\n\n" + code.cls + "\n\n\n")
    if matrix:
        out.append("# ---- matrix layers (derive.matrix: generic shapes N, D, M) ----\n"
                   + section(matrix).lstrip("\n") + "\n")
    return "".join(out).rstrip() + "\n"
