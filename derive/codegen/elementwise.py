"""One elementwise layer's code: the ``<layer>_backward`` function and the book-style class.

The module-level ``<layer>_backward`` computes everything from the cached values the
derivation names. The class can do better at no cost in memory: the parts of the
backward that do not depend on ``dout`` — a condition such as ``out > 0``, or a product
of transcendental factors such as GELU's ``(x·φ(x)·√2 + erf(x/√2) + 1)/2`` — are
computed once in ``forward`` and cached (a boolean ``mask`` as the book's ReLU keeps, or
a float array ``local``), so ``backward(dout)`` is left with the few operations that
involve ``dout``. The cached values replace what they are computed from when nothing
else needs it.
"""
from __future__ import annotations

import re

import sympy as sp

from ..branches import mask_condition
from ..errors import ProofError
from ..proof import prove_rewrite
from ..rules import diff as rules_diff
from ..steps import dout as dout_sym
from ..steps import out as out_sym
from ..render.printers import text as show
from .blocking import worth_blocking
from .lower import lower, rename
from .negations import negated, share_negations
from .printer import NumpyCodePrinter
from .prologue import prologue, reshaped, returns_summed_back, source_tuple, summed_back
from .runtime import _BLOCK as BLOCK
from .runtime import _BLOCKED_MIN as BLOCKED_MIN
from .runtime import HELPERS
from .share import calls, share_work
from .stable import stable_form

__all__ = ["LayerCode", "layer_code"]


def _float(v) -> str:
    return repr(float(v))


class LayerCode:
    """The generated source of one layer: its backward function and its class."""

    def __init__(self, function: str, cls: str, helpers: set, caches=()):
        self.function, self.cls, self.helpers = function, cls, helpers
        self.caches = list(caches)  # [(attribute, what it holds)] of the class's forward


def layer_code(d, api: str = "book1") -> LayerCode:
    """Backward function and book-style class for one :class:`~derive.derivation.Derivation`
    (``api="book2"``: the class also has volume 2's empty ``params`` and ``grads`` lists)."""
    spec = d.spec
    printer = NumpyCodePrinter({"allow_unknown_functions": False})
    wrt = list(d.wrt)
    needs = [n for n in ("out", *spec.input_names) if any(n in d.needs(w) for w in wrt)]
    params = list(spec.param_names)
    arrays = {dout_sym, out_sym, *spec.inputs}
    taken = {"dout", "out", "np", "shape", "shapes", "ft", *spec.input_names, *params, *HELPERS,
             "erf"}
    stable, notes = [], []
    for w in wrt:
        e, applied = stable_form(d.result[w])
        stable.append(e)
        notes.append(applied)
    grad_names = ["g"] if len(wrt) == 1 else [f"d{w}" for w in wrt]
    minus = negated(stable)
    lines, results, helpers = lower([-stable[minus[j]] if j in minus else e
                                     for j, e in enumerate(stable)], arrays, taken, printer)
    for r, g in zip(results, grad_names):
        if r != g:
            lines = rename(lines, r, g)
    fname = f"{spec.name}_backward"
    sig = ", ".join(["dout", *needs] + [f"{p}={_float(spec.defaults.get(p, 1.0))}"
                                       for p in params])
    doc = [f'    """{spec.title or spec.name} backward: the gradient'
           f'{"s" if len(wrt) > 1 else ""} of the loss w.r.t. {", ".join(wrt)}.', ""]
    for w, e, applied in zip(wrt, stable, notes):
        doc.append(f"    dL/d{w} = {show(d.result[w])}")
        if applied:
            doc.append(f"      computed as {show(e)}  (proven equal; {', '.join(applied)})")
    for j, i in minus.items():
        doc.append(f"    dL/d{wrt[j]} computed as -dL/d{wrt[i]}  (proven equal: one negation pass)")
    blocked = None
    if worth_blocking(lines, len(wrt)):
        blocked = f"_blocked({fname}, {source_tuple(['dout', *needs])}, {source_tuple(params)})"
        doc += ["", f"    Arrays of one shape and dtype, of {BLOCKED_MIN} elements or more, are "
                f"computed in blocks", f"    of {BLOCK} (the same values; the temporaries stay "
                "in the cache)."]
    doc.append('    """')
    body = [f"    # dL/d{w} = {show(d.result[w])}" for w in wrt]
    body += prologue(["dout", *needs], "    ", shapes=len(spec.input_names) > 1,
                     blocked=blocked)
    body += [f"    {line}" for line in lines]
    body += reshaped(grad_names, "    ")
    if len(spec.input_names) > 1:   # an input passed in, broadcast: back to its shape
        names = ["dout", *needs]
        back = [(g, names.index(w)) for g, w in zip(grad_names, wrt) if w in needs]
        body += summed_back([g for g, _ in back], [i for _, i in back], "shapes", "    ")
    body.append(f"    return {', '.join(grad_names)}")
    function = "\n".join([f"def {fname}({sig}):", *doc, *body])

    cls, chelpers, caches = emit_class(d, stable, needs, fname, printer, api)
    used = {h for h in ("_broadcast", "_unbroadcast", "_blocked", "_blocked_forward")
            if f"{h}(" in function + cls}
    if used & {"_blocked", "_blocked_forward"}:     # _blocked_forward runs _blocked
        used |= {"_BLOCK", "_blocked"}
    return LayerCode(function, cls, helpers | chelpers | used | {"_as_arrays"}, caches)




_DEAR = (sp.exp, sp.log, sp.tanh, sp.erf, sp.Function)  # transcendental, or a helper call


def _dear(e) -> bool:
    return any(isinstance(a, _DEAR) for a in sp.preorder_traversal(e))


def _dout_factor(e):
    """F with ``e = dout*F`` read off the expression (each Piecewise branch), or None."""
    def factor(v):
        if v == dout_sym:
            return sp.Integer(1)
        if v == 0:
            return sp.Integer(0)
        # dout*F, or dout inside a sum: exp(x)*(dout*[c1] + dout*[c2]) is
        # dout*(exp(x)*([c1] + [c2])) (the caller proves it), so the masks are cached with
        # the factor, not left to multiply a cached exp(x) = inf in backward (inf*0)
        if v.is_Mul and v.xreplace({dout_sym: 0}) == 0:
            part = v.xreplace({dout_sym: 1})
            if dout_sym not in part.free_symbols:
                return part
        return None
    if isinstance(e, sp.Piecewise):
        pairs = [(factor(v), c) for v, c in e.args]
        if any(f is None for f, _ in pairs):
            return None
        return sp.Piecewise(*pairs)
    return factor(e)


def _worth_caching(f, arrays) -> bool:
    """A factor is cached whole unless it is a single cached array, its reciprocal or a constant.

    (``dout*out`` and ``dout/x`` are already one pass; caching ``1/x`` would only move a
    divide into forward and round twice.)
    """
    if not (f.free_symbols & arrays) or f.is_Symbol:
        return False
    return not (f.is_Pow and f.base.is_Symbol and f.exp == -1)


def local_factor(e, arrays):
    """``(F, proof)`` when ``e = dout*F`` (proven) and caching F makes backward one multiply."""
    f = _dout_factor(e)
    if f is None or dout_sym in f.free_symbols or not _worth_caching(f, arrays):
        return None
    try:
        proof = prove_rewrite(e, dout_sym * f, what="backward as dout times a cached factor")
    except ProofError:
        return None
    return f, proof


def plan_cache(exprs, arrays):
    """(exprs with dout-free parts replaced by symbols, [(symbol, expr)] to compute in forward).

    First choice: the whole local factor. A gradient ``dout*F`` (``F`` per branch for a
    Piecewise) is rewritten to ``dout*local`` with ``F`` computed in forward, once
    ``dout*F`` is proven equal to the gradient; a 0/1 ``F`` is cached as a boolean
    ``mask`` (1 byte per element), so backward is one ``np.multiply``. Otherwise the
    conditions and transcendental dout-free factors are cached, as before.
    """
    cached: dict = {}

    def name_for(e, boolean):
        if e not in cached:
            stem = "mask" if boolean else "local"
            k = sum(1 for s in cached.values() if s.name.startswith(stem))
            cached[e] = sp.Symbol(stem if k == 0 else f"{stem}{k}", real=not boolean)
        return cached[e]

    def free_of_dout(e):
        return dout_sym not in e.free_symbols and bool(e.free_symbols & arrays)

    def walk(e):
        whole = local_factor(e, arrays)
        if whole is not None:
            f = whole[0]
            cond = mask_condition(f)
            return dout_sym * (name_for(cond, True) if cond is not None else name_for(f, False))
        if isinstance(e, sp.Piecewise):
            pairs = []
            for val, cond in e.args:
                if cond != sp.true and free_of_dout(cond):
                    cond = name_for(cond, True)
                pairs.append((walk(val), cond))
            return sp.Piecewise(*pairs)
        if e.is_Mul and dout_sym in e.free_symbols:
            part = sp.Mul(*[a for a in e.args if dout_sym not in a.free_symbols])
            rest = [walk(a) for a in e.args if dout_sym in a.free_symbols]
            if free_of_dout(part) and _dear(part):
                return sp.Mul(name_for(part, False), *rest)
            return sp.Mul(part, *rest)
        if free_of_dout(e) and _dear(e):
            return name_for(e, False)
        return e
    new = [walk(e) for e in exprs]
    return share_negations(new, cached)


def input_form(f, spec, better, value=None, what="local factor computed from the input"):
    """A factor ``f`` written in ``out`` as the derivative of the forward in its one input,
    made stable and proven equal, when ``better(fx)`` says that form is worth it (each
    backend has its own measure of cost); else ``f`` itself. ``value``: what ``out``
    stands for in the proof (default: the forward as written)."""
    if len(spec.inputs) != 1 or out_sym not in f.free_symbols or not isinstance(f, sp.Expr):
        return f        # (a cached mask's entry is its condition: not a factor)
    (x,) = spec.inputs
    fx, _ = stable_form(rules_diff(spec.forward, x))
    if not better(fx):
        return f
    try:
        prove_rewrite(f.xreplace({out_sym: spec.forward if value is None else value}), fx,
                      what=what)
    except ProofError:
        return f
    return fx


def _from_inputs(f, spec, arrays):
    """A local factor written in ``out`` that cancels (``alpha + out`` where out -> -alpha)
    is computed in forward from the input instead, when that form (the derivative, made
    stable and proven equal) needs no sum and no more function calls than the forward.

    ELU: ``alpha + out`` loses every digit of ``alpha*exp(x)`` for x << 0;
    ``alpha*exp(min(x, 0))`` keeps them at the same cost.
    """
    if not any(a.is_Add and a.has(out_sym) for a in sp.preorder_traversal(f)):
        return f

    def better(fx):
        branches = [v for v, _ in fx.args] if isinstance(fx, sp.Piecewise) else [fx]
        return not any(a.is_Add for b in branches for a in sp.preorder_traversal(b)) \
            and calls(fx) <= calls(spec.forward) and bool(fx.free_symbols & arrays)
    return input_form(f, spec, better)


def emit_class(d, stable, needs, fname, printer, api="book1"):
    """Source of the class of ``d.spec`` and the helpers its code calls."""
    spec = d.spec
    params = list(spec.param_names)
    wrt = list(d.wrt)
    arrays = {out_sym, *spec.inputs}
    new, cached = plan_cache(stable, arrays)
    cached = [(sym, _from_inputs(e, spec, arrays)) for sym, e in cached]
    keep = [n for n in needs if any(n in {s.name for s in e.free_symbols} for e in new)]
    cache_names = [s.name for s, _ in cached]
    taken = {"out", "dout", "np", "self", "shape", "shapes", "ft", *spec.input_names, *params,
             *HELPERS, "erf",
             *cache_names}

    fwd, fwd_notes = stable_form(spec.forward)
    fwd, cached, flines, helpers = share_work(fwd, cached, spec, arrays, taken, printer)

    doc = f'    """{spec.title or spec.name}: out = {show(spec.forward)}'
    if fwd_notes:
        doc += f"\n\n    forward computed as {show(fwd)} (proven equal; {', '.join(fwd_notes)})"
    for sym, e in cached:
        doc += f"\n    forward caches {sym.name} = {show(e)}"
    stored = keep + cache_names
    blocked = None
    if worth_blocking(flines, 1 + len(stored)):
        blocked = (f"_blocked_forward({spec.class_name}.forward, self, "
                   f"{source_tuple(list(spec.input_names))}, {source_tuple([repr(n) for n in stored])})")
        doc += (f"\n    forward in blocks of {BLOCK} from {BLOCKED_MIN} elements (the same values "
                "and cache)")
    doc += f'\n    backward: as :func:`{fname}`."""'
    cls = [f"class {spec.class_name}:", doc, ""]
    if params or api == "book2":
        cls.append(f"    def __init__(self"
                   f"{''.join(', ' + p + '=' + _float(spec.defaults.get(p, 1.0)) for p in params)}):")
        if api == "book2":      # volume 2: no weights, empty lists for the optimizer
            cls.append("        self.params, self.grads = [], []")
        cls += [f"        self.{p} = float({p})" for p in params]
        cls.append("")
    ins = ", ".join(spec.input_names)
    cls.append(f"    def forward(self, {ins}):")
    cls += prologue(list(spec.input_names), "        ", blocked=blocked)
    cls += [f"        {p} = self.{p}" for p in params]
    cls += [f"        {line}" for line in flines]
    cls += reshaped(["out", *[n for n in stored if n != "out"]], "        ")
    if stored:
        cls.append("        # the cache holds its own arrays, in the input's shape: later changes to the")
        cls.append("        # caller's arrays (or to the returned out) cannot reach backward")
    for n in stored:
        cls.append(f"        self.{n} = {n}.copy()" if n in spec.input_names else
                   f"        self.{n} = {n}")
    several = len(spec.input_names) > 1
    if several:     # the inputs' own shapes, when they were broadcast: for backward
        cls.append("        self.shapes = shapes")
    cls.append("        return out" + (".copy()" if "out" in keep else ""))
    cls.append("")
    start = len(cls)
    cls.append("    def backward(self, dout):")
    for w, e in zip(wrt, new):
        cls.append(f"        # dL/d{w} = {show(e)}")
    barrays = {dout_sym, *[s for s, _ in cached], *[sp.Symbol(n, real=True) for n in keep],
               out_sym, *spec.inputs}
    # every buffer is allocated in dout's shape and floating dtype: no reshape, no _as_arrays
    blines, results, h = lower(new, barrays, taken, printer, alloc=_ALLOC)
    helpers |= h
    grads = ["g"] if len(wrt) == 1 else [f"d{w}" for w in wrt]
    for r, g in zip(results, grads):
        if r != g:
            blines = rename(blines, r, g)
    reads = [n for n in stored + params
             if any(re.search(rf"\b{n}\b", line) for line in blines)]
    if any(not _INTO_BUFFER.match(line) for line in blines):
        # a step that does not write into a buffer (np.where, a helper) needs a floating
        # dout; ufuncs with out= cast on the fly
        cls.append("        dout = np.asarray(dout, dtype=_floating(dout))")
    one = _ONE_STEP.match(blines[0]) if len(blines) == 1 and len(grads) == 1 else None
    bools = {s.name for s, _ in cached if not s.is_real}
    if one is not None and one.group(2) in stored:
        # dout (op) one cached array: a float dout of that array's shape (and, for a float
        # cache, dtype) needs no buffer of its own making, NumPy's result is that buffer
        op, n = one.groups()
        same = 'dout.dtype.kind == "f"' if n in bools else f"dout.dtype is {n}.dtype"
        cls.append(f"        {n} = self.{n}")
        cls.append(f"        if type(dout) is np.ndarray and {same} and dout.shape == {n}.shape:")
        cls.append(f"            return np.{op}(dout, {n})")
        cls.append(f"        return np.{op}(dout, {n}, out={_ALLOC})")
    elif len(blines) == 1 and len(grads) == 1 and blines[0].startswith("g = "):
        line = blines[0][len("g = "):]
        for n in reads:
            line = re.sub(rf"(?<![\w.]){n}\b(?!=)", f"self.{n}", line)
        cls.append(f"        return {line}")
    else:
        fast = _fast_steps(blines, [n for n in reads if n not in bools and n not in params])
        if fast is not None:
            # a float dout of the float caches' shape and dtype: each ufunc's own result is
            # the buffer (dtype and shape of its float array operands), no empty_like
            cls += [f"        {n} = self.{n}" for n in reads]
            same = " is ".join(["dout.dtype", *[f"{n}.dtype" for n in reads]]) + " and " + \
                " == ".join(["dout.shape", *[f"{n}.shape" for n in reads]])
            cls.append(f"        if type(dout) is np.ndarray and dout.ndim and {same}:")
            cls += [f"            {line}" for line in fast]
            cls.append(f"            return {', '.join(grads)}")
            reads = []
        if sum(line.count(_ALLOC) for line in blines) > 1:   # one dtype look-up, not one a buffer
            cls.append("        ft = _floating(dout)")
            blines = [line.replace(_ALLOC, "np.empty_like(dout, dtype=ft)") for line in blines]
        cls += [f"        {n} = self.{n}" for n in reads]
        cls += [f"        {line}" for line in blines]
        cls.append(f"        return {', '.join(grads)}")
    if several:
        cls[start:] = returns_summed_back(cls[start:], [spec.input_names.index(w) for w in wrt])
    caches = [(n, "input copy" if n in spec.input_names else "forward output") for n in keep]
    caches += [(sym.name, f"{'bool' if not sym.is_real else 'float'}"
                          + (f" = {show(e)}" if len(show(e)) <= 60 else ", see the class docstring"))
               for sym, e in cached]
    return "\n".join(cls), helpers, caches


_ALLOC = "np.empty_like(dout, dtype=_floating(dout))"
_FLOAT_STEP = re.compile(r"^(\w+) = np\.(\w+)\(([\w, ]+), out=" + re.escape(_ALLOC) + r"\)$")
_RENAME = re.compile(r"^(\w+) = (\w+)$")
_INTO_KNOWN = re.compile(r"^np\.(\w+)\(([\w, ]+), out=(\w+)\)$")


def _fast_steps(blines, floats):
    """The steps without their buffers, when every step is a ufunc of float arrays only
    (dout, the float caches ``floats``, earlier results) writing into a fresh buffer or
    one an earlier step made, or a renaming; None otherwise (a constant, a bool cache, a helper keeps its buffer)."""
    known, fast = {"dout", *floats}, []
    if not floats:
        return None
    for line in blines:
        step, same, into = _FLOAT_STEP.match(line), _RENAME.match(line), _INTO_KNOWN.match(line)
        if step and all(a.strip() in known for a in step.group(3).split(",")):
            fast.append(f"{step.group(1)} = np.{step.group(2)}({step.group(3)})")
            known.add(step.group(1))
        elif into and into.group(3) in known - {"dout", *floats} and all(
                a.strip() in known for a in into.group(2).split(",")):
            fast.append(line)       # into a buffer an earlier step made (in place, or dead)
        elif same and same.group(2) in known:
            fast.append(line)
            known.add(same.group(1))
        else:
            return None
    return fast
_ONE_STEP = re.compile(r"^g = np\.(multiply|divide)\(dout, (\w+), out=" + re.escape(_ALLOC) + r"\)$")
# a lowered line that only writes into an allocated buffer: a ufunc with out=, copyto, putmask
_INTO_BUFFER = re.compile(r"^(\w+ = )?np\.\w+\(.*out=[\w.(), =]+\)$|^np\.(copyto|putmask)\("
                          r"|^\w+ = np\.array\((\w+), dtype=_floating\(\2\)\)$"
                          r"|^\w+ = np\.empty_like\(dout, dtype=_floating\(dout\)\)$|^\w+\.fill\("
                          r"|^\w+ = \w+$")
