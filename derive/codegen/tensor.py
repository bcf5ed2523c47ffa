"""One tensor layer's code: ``<layer>_backward`` and the book-style class, from its Derivation.

The backward lines are the derivation's proven results in cached form, printed in
NumPy syntax after two rearrangements for speed (each an identity): a sum that appears
with and without ``keepdims`` is computed once, and in a product the factors smaller
than the result (per-feature vectors, scalars) are combined first, so the big arrays
are touched once (``gamma*(...)/(N*std)`` becomes ``(...)*(gamma/(N*std))``).

The forward is the layer's own program, statement by statement, computing only what
the output and the cache need; a value with a stable form (softmax, log-softmax: the
maximum subtracted first, proven equal) is computed in that form instead.

The class (:mod:`.tensor_class`) follows the book, volume 1 or volume 2.
"""
from __future__ import annotations

import re

import sympy as sp

from ..tensor import AxisSum, Structural, array, shape_of
from .elementwise import LayerCode
from .printer import NumpyCodePrinter, TensorCodePrinter
from .stable_tensor import tensor_stable
from .tensor_dtypes import note_floats
from .tensor_keepdims import leading_keepdims, share_keepdims
from .tensor_products import name_pair, shared_pair

__all__ = ["tensor_layer_code"]


def _small_first(e, lines, printer, fresh, named=None):
    """``big*(small factors)``: the factors smaller than the result combined first (named
    once: ``named`` maps each combined value to its name, for the other branch to reuse)."""
    if not e.is_Mul or not shape_of(e):
        return e
    full = shape_of(e)
    from .tensor_lower import _TensorLowering
    # N*dout in the sum divided out first (as the lowering would): N then cancels in the
    # small factors (gamma/std, not N*(gamma/(N*std)): two small operations fewer)
    e = _TensorLowering._scale_out(e, full) or e
    num, den = sp.fraction(e)
    small = [f for f in sp.Mul.make_args(num) if shape_of(f) != full]
    big = [f for f in sp.Mul.make_args(num) if shape_of(f) == full]
    if len(big) != 1 or any(shape_of(f) == full for f in sp.Mul.make_args(den)) or (
            den == 1 and len(small) < 2):
        return e
    value = sp.Mul(*small) / den
    named = {} if named is None else named
    if value not in named:
        name = fresh()
        lines.append(f"{name} = {printer.doprint(value)}")
        named[value] = sp.Symbol(name, real=True)
    return sp.Mul(big[0], named[value], evaluate=False)


def _worth(e) -> bool:
    """A subexpression worth a name of its own when it appears twice."""
    if e.is_Atom or not e.args or isinstance(e, sp.Tuple):    # an einsum's letters
        return False
    if e.is_integer:                  # a size or a slice bound (3*H): stays an integer
        return False
    if e.is_Mul and len(e.args) == 2 and e.args[0] == -1 and e.args[1].is_Atom:
        return False
    return not (e.is_Pow and e.base.is_Atom and e.exp.is_Integer and e.exp < 0)


def tensor_cse(exprs, fresh) -> tuple:
    """Shared subexpressions as named arrays of the right shape, each before its readers.

    (SymPy's ``cse`` names them with scalar symbols, which a shape-checked structural
    value refuses; here each name is an :class:`~derive.tensor.Arr` of its value's shape.)
    """
    from collections import Counter
    repl = []
    exprs = list(exprs)
    while True:
        counts = Counter(sub for e in exprs for sub in sp.preorder_traversal(e) if _worth(sub))
        for _, v in repl:
            counts.update(sub for sub in sp.preorder_traversal(v) if _worth(sub))
        shared = [q for q, c in counts.items() if c >= 2]
        if shared:
            # a shared sum first: the product it sums then stays inside it, where it prints
            # as one einsum (no temporary), instead of being named as a full-size array
            sub = min(shared, key=lambda q: (not isinstance(q, AxisSum), sp.count_ops(q),
                                             sp.default_sort_key(q)))
            sym = array(fresh(), shape_of(sub))

            def rewrite(v, sub=sub, sym=sym):
                return v.xreplace({sub: sym})
        else:            # then a pair of factors several flattened products hold
            pair = shared_pair(exprs + [v for _, v in repl])
            if pair is None:
                return repl, exprs
            sub = sp.Mul(*pair)
            sym = array(fresh(), shape_of(sub))

            def rewrite(v, pair=pair, sym=sym):
                return name_pair(v, pair, sym)
        repl = [(k, rewrite(v)) for k, v in repl]
        at = next((i for i, (_, v) in enumerate(repl) if v.has(sym)), len(repl))
        repl.insert(at, (sym, sub))          # defined before its first reader
        exprs = [rewrite(e) for e in exprs]


def lower_tensor(exprs, names, printer, taken, labels=None) -> list:
    """Lines computing ``exprs`` into ``names`` (shared subexpressions as t0, t1...).

    ``labels``: a one-hot const that may arrive as label indices; a result that reads it
    gets a branch for indices (:mod:`.labels`) when it has such a form.
    """
    counter = iter(range(10**6))

    def fresh():
        while True:
            n = f"t{next(counter)}"
            if n not in taken:
                taken.add(n)
                return n
    exprs = share_keepdims(leading_keepdims(list(exprs)))
    repl, reduced = tensor_cse(exprs, fresh)
    note_floats(printer, repl)          # floating values: np.reciprocal for them
    note_floats(printer, zip(map(sp.Symbol, names), reduced))
    reads: dict = {}
    for v in [v for _, v in repl] + list(reduced):
        for a in sp.preorder_traversal(v):
            if a.is_Symbol:
                reads[a.name] = reads.get(a.name, 0) + 1
    lines, made = [], set()      # made: shared values held in buffers made here

    def last(v):
        """The shared values no statement after this one reads: their buffers are free."""
        here: dict = {}
        for a in sp.preorder_traversal(v):
            if a.is_Symbol:
                here[a.name] = here.get(a.name, 0) + 1
        free = {n for n, k in here.items() if n in made and reads[n] == k}
        for n, k in here.items():
            reads[n] -= k
        return free
    for s, v in repl:
        more, fresh_buffer = _statement(v, s.name, printer, taken, last(v))
        lines += more
        if fresh_buffer:
            made.add(s.name)
    for name, e in zip(names, reduced):
        free = last(e)
        named: dict = {}
        branch = _label_branch(name, e, labels, printer, lines, fresh, named) \
            if labels is not None else None
        e = _small_first(e, lines, printer, fresh, named)
        if branch is None:
            lines += _statement(e, name, printer, taken, free)[0]
        else:
            rank = len(shape_of(labels)) - 1
            # np.asarray(t).ndim is np.ndim(t) without its dispatch (0.07 against 0.21 us)
            lines += [f"if np.asarray({labels.name}).ndim == {rank}:      # label indices, not one-hot rows",
                      *(f"    {line}" for line in branch),
                      "else:", *(f"    {line}" for line in _statement(e, name, printer, taken)[0])]
    return lines


def _statement(e, name, printer, taken, reuse=()) -> tuple:
    """(lines for ``name = e``, whether ``name`` is then a buffer made here): elementwise
    steps into buffers (:mod:`.tensor_lower`) where that saves full-size temporaries,
    else the printed expression (which may be a view: a reshape, a transpose)."""
    from .tensor_lower import lower_statement
    if not getattr(printer, "buffers", True):      # immutable arrays (JAX): no out= steps
        return [f"{name} = {printer.doprint(e)}"], False
    lowered = lower_statement(e, name, printer, taken, reuse)
    if lowered is None:
        return [f"{name} = {printer.doprint(e)}"], False
    return lowered, True


def _label_branch(name, e, t, printer, lines, fresh, named):
    """The lines computing ``name = e`` when the one-hot ``t`` comes as label indices."""
    from .labels import picked_sum, split_linear
    if not e.has(t):
        return None
    split = split_linear(e, t)
    if split is not None:
        P, Q = split
        value = printer.doprint(_small_first(P, lines, printer, fresh, named))
        if P.is_Atom:
            value = f"np.array({value}, dtype=_floating({value}))"
        # Q as a small value already named (softmax-with-loss: -dout/N, named for P)
        op, q = next(((o, v.name) for k, v in named.items() for o, k2 in (("+=", k), ("-=", -k))
                      if Q == k2), ("+=", printer.doprint(Q)))
        return [f"{name} = {value}", f"{name}[np.arange({name}.shape[0]), {t.name}] {op} {q}"]
    picked = picked_sum(e, t, printer)
    return None if picked is None else [f"{name} = {picked}"]


def labels_handled(exprs, t) -> bool:
    """True when every expression reading ``t`` has a form for label indices."""
    from .labels import picked_sum, split_linear
    printer = NumpyCodePrinter()
    return all(not e.has(t) or split_linear(e, t) is not None or
               picked_sum(e, t, printer) is not None for e in exprs)


def _bind_dims(lines, sources) -> list:
    """``N = x.shape[0]`` lines for the dimensions the lines use, from named arrays."""
    text = "\n".join(lines)
    out = []
    for name, shape in sources:
        for axis, d in enumerate(shape):
            if d.is_Symbol and d.name not in {o.split(" = ")[0] for o in out} and (
                    _uses(text, d.name)):
                at = f"{name}[{axis}]" if name.endswith("_shape") else f"{name}.shape[{axis}]"
                out.append(f"{d.name} = {at}")
    return out


def _uses(text, word) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(word)}(?!\w)", text) is not None


def _program_lines(spec, wanted, printer, taken, substitute=None, labels=None,
                   keep=()) -> list:
    """Forward lines: the statements ``wanted`` needs, in order; stable forms where they
    differ (proven equal), and ``substitute`` (name -> expression) for test-time values.
    ``keep``: names read after these lines (a running mean's batch values); a statement
    may write into the buffer of a value nothing later reads, else (``wanted``, ``keep``)."""
    substitute = substitute or {}
    program = list(spec.program) + [(spec.out, spec.output_in_names)]
    full = spec.named()
    stable = {}
    # statements with matmuls or sums in them, largest first: a stable form reads them by
    # name rather than computing them again (an LSTM's gates read A)
    heavy = sorted(((full[q.name], q) for q, _ in spec.program if any(
        isinstance(a, Structural) for a in sp.preorder_traversal(full[q.name]))),
        key=lambda fq: -sp.count_ops(fq[0]))
    done = []          # (stable form, name) of earlier statements: later ones read the name
    for sym, value in program:
        if sym.name in wanted and not substitute:
            s = tensor_stable(full[sym.name])
            if s != full[sym.name]:
                for f, q in sorted(done, key=lambda fq: -sp.count_ops(fq[0])) + heavy:
                    if q != sym:
                        s = s.xreplace({f: q})
                stable[sym.name] = s
                done.append((tensor_stable(full[sym.name]), sym))
    needed, order = set(wanted), []
    for sym, value in reversed(program):
        if sym.name in needed and sym.name not in substitute:
            order.append((sym, value))
            needed |= {s.name for s in (stable.get(sym.name, value)).free_symbols}
    order.reverse()
    lines, names = [], {s.name for s, _ in order}
    early = [n for n, v in stable.items() if n in names and not (
        {s.name for s in v.free_symbols} & names)]     # in the inputs only: lowered together
    if early:
        lines += lower_tensor([stable[n] for n in early], early, printer, taken, labels)
    made, kept = set(), set(wanted) | set(keep) | set(spec.input_names)
    for i, (sym, value) in enumerate(order):
        if sym.name in early:
            continue
        if sym.name in stable:       # written in earlier statements (an LSTM gate of A)
            lines += lower_tensor([stable[sym.name]], [sym.name], printer, taken, labels)
            continue
        value = value.xreplace({s: v for s, v in _symbols(spec, substitute).items()})
        later = {s.name for _, v in order[i + 1:] for s in stable.get(_.name, v).free_symbols}
        free = {s.name for s in value.free_symbols}
        more, fresh_buffer = _statement(value, sym.name, printer, taken,
                                        reuse=(free & made) - later - kept)
        lines += more
        if fresh_buffer:
            made.add(sym.name)
        note_floats(printer, [(sym, value)])
    return lines


def _symbols(spec, substitute) -> dict:
    table = spec.symbols()
    return {table[n]: v for n, v in substitute.items() if n in table}


def _float(v) -> str:
    return repr(float(v))


def _default(spec, p) -> str:
    """A parameter's default as Python writes it: 1 for an integer one (a stride), else 1.0."""
    value = spec.defaults.get(p, 1.0)
    return str(int(value)) if spec.symbols()[p].is_integer else _float(value)


def shape_args(spec, lines, sources) -> list:
    """Inputs whose shape the backward needs and cannot read from its arrays (fold's H, W):
    their shapes are passed (``x_shape``), as the book's col2im takes x's shape."""
    bound = {d.name for _, shape in sources for d in shape if d.is_Symbol}
    text = "\n".join(lines)
    table = spec.symbols()
    return [x for x in spec.input_names
            if any(d.is_Symbol and d.name not in bound and _uses(text, d.name)
                   for d in shape_of(table[x]))]


def _grads(d) -> list:
    """Gradient variable names in derivation order: dx, dW, db ..."""
    return [f"d{w}" for w in d.wrt]


def upstream_names(spec) -> list:
    """``["dout"]``, or one upstream gradient per output (``["dh_next", "dc_next"]``)."""
    return ["d" + n for n in spec.output_names] or ["dout"]


def backward_function(d, printer, needs, params) -> tuple:
    """(source of ``<layer>_backward``, its name)."""
    spec = d.layer
    fname = f"{spec.name}_backward"
    grads = _grads(d)
    upstream = upstream_names(spec)
    taken = {"dout", "np", *upstream, *needs, *params, *grads, *(s.name for s in spec.dims())}
    table = spec.symbols()
    from .labels import labels_of
    labels = next((table[t] for t in labels_of(spec) if t in needs), None)
    lines = lower_tensor([d.result[w] for w in d.wrt], grads, printer, taken, labels)
    sources = [(u, spec.out_shape[1:] if spec.output_names else spec.out_shape)
               for u in upstream] + [(n, shape_of(table[n])) for n in needs
                                     if labels is None or n != labels.name]
    shapes = shape_args(spec, lines, sources)
    sources += [(f"{x}_shape", shape_of(table[x])) for x in shapes]
    lines = _bind_dims(lines, sources) + lines
    sig = ", ".join([*upstream, *needs, *(f"{x}_shape" for x in shapes)]
                    + [f"{p}={_default(spec, p)}" for p in params])
    doc = [f'    """{spec.title} backward: ({", ".join(grads)}).', ""]
    from ..render.printers import text
    doc += [f"    dL/d{w} = {text(d.result[w])}" for w in d.wrt]
    doc.append('    """')
    body = [f"    {line}" for line in lines]
    body.append(f"    return {', '.join(grads)}")
    return "\n".join([f"def {fname}({sig}):", *doc, *body]), fname, shapes


def tensor_layer_code(d, api: str = "book1") -> LayerCode:
    """Backward function and book-style class for one tensor-layer Derivation (``api``:
    ``"book1"`` weights as attributes and dW, db; ``"book2"`` params and grads lists)."""
    spec = d.layer
    printer = TensorCodePrinter({"allow_unknown_functions": False})
    needs = list(dict.fromkeys(n for w in d.wrt for n in d.needs(w)))
    params = list(dict.fromkeys(p for w in d.wrt for p in d.params(w)))
    function, fname, shapes = backward_function(d, printer, needs, params)
    needs_all = needs + params
    from .tensor_class import class_source
    cls, held = class_source(d, printer, fname, needs_all, params, api, shapes)
    helpers = {h for h in ("_windows", "_fold", "_first_max", "_window_max", "_window_first_max")
               if h + "(" in function + cls}
    if helpers & {"_window_max", "_window_first_max"}:
        helpers.add("_offsets")
    if helpers:
        from . import window_runtime  # noqa: F401  (registers the helpers)
    if spec.features.get("flatten") and api == "book1":
        helpers.add("_rows")
    if spec.features.get("labels"):
        helpers |= {"_onehot", "_floating"}
    for name in ("_sigmoid", "_scatter_add", "_place"):  # stable form; embedding; slice
        if name + "(" in function + cls:
            helpers.add(name)
    return LayerCode(function, cls, helpers, held)
