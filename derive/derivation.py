"""One layer, spec to proven result: the :class:`Derivation` and :func:`derive`.

Every layer — a catalogue name, ``--expr`` text, a ``def`` file — goes the same way:
spec → graph → backward node by node (one recorder, every step proven) → cached form.

>>> d = derive("sigmoid")
>>> d.result["x"]
dout*out*(1 - out)
>>> [s.rule for s in d.steps][:5]
['seed', 'reciprocal', 'add_const', 'exp', 'neg']
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from . import memo
from .backward import Names, backward_steps
from .errors import DeriveError
from .graph import Graph, decompose
from .spec import LayerSpec
from .steps import Recorder
from .tensor import Arr, Structural


@dataclass
class Derivation:
    """A proven walkthrough: graph, steps, and the final cached-form gradients."""

    spec: LayerSpec
    graph: Graph
    steps: list
    result: dict            # name -> gradient in cached form (dout, out, cached names, inputs)
    chain: dict             # name -> gradient as the chain rule left it
    form: dict              # name -> "out" | "x" | "mixed" | "index": which cached form won
    wrt: tuple = field(default_factory=tuple)
    cache_spec: LayerSpec | None = None   # spec + the graph's values the results read by name

    @property
    def forward(self) -> sp.Expr:
        return self.spec.forward

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def tensor(self) -> bool:
        """True when some value is an array (the steps are proven for every size)."""
        return is_tensor(self.spec)

    @property
    def layer(self) -> LayerSpec:
        """The spec the results are written in: the layer's own, plus any value of its graph
        a result reads by its node name (an unnamed sum or matrix product)."""
        return self.cache_spec or self.spec

    def needs(self, name: str) -> tuple:
        """The cached values and inputs the backward for ``name`` reads, e.g. ('out',).

        Layer parameters (``alpha``) are settings of the layer, not cached values: see
        :meth:`params`.
        """
        free = {s.name for s in self.result[name].free_symbols}
        spec = self.layer
        order = ("out", *(n for n, _ in spec.statements), *spec.input_names,
                 *spec.weight_names, *spec.const_names)
        return tuple(n for n in dict.fromkeys(order) if n in free)

    def params(self, name: str) -> tuple:
        """The layer parameters the backward for ``name`` reads, e.g. ('alpha',)."""
        free = {s.name for s in self.result[name].free_symbols}
        return tuple(p for p in self.layer.param_names if p in free)

    def cached(self) -> dict:
        """name -> value in the layer's inputs, of every cached value a result reads."""
        named = self.layer.named()
        used = [n for w in self.wrt for n in self.needs(w) if n in named]
        return {n: named[n] for n in dict.fromkeys(used)}

    def __repr__(self) -> str:
        """The layer, what it differentiates (inputs, then weights), how many steps were
        proven, and the results in code names.

        >>> derive("sigmoid")
        <Derivation sigmoid(x): 10 proven steps; dx = dout*out*(1 - out)>
        >>> print(derive("mul"))
        <Derivation mul(x, y): 5 proven steps; dx = dout*y, dy = dout*x>
        """
        from .render.printers import text
        args = ", ".join((*self.spec.input_names, *self.spec.weight_names))
        results = ", ".join(f"d{k} = {text(v)}" for k, v in self.result.items())
        return f"<Derivation {self.spec.name}({args}): {len(self.steps)} proven steps; {results}>"

    __str__ = __repr__

    # renderers (imported lazily: a derivation does not need them)
    # ``lang``: the prose in "en", "ko" or "ja" (derive.render.lang); the mathematics is
    # the same in every language
    def to_text(self, lang: str = "en") -> str:
        from .render import render
        return render(self, "text", lang=lang)

    def to_latex(self, standalone: bool = False, lang: str = "en") -> str:
        from .render import render
        return render(self, "latex", standalone=standalone, lang=lang)

    def to_mathml(self, lang: str = "en") -> str:
        from .render import render
        return render(self, "mathml", lang=lang)

    def to_markdown(self, lang: str = "en") -> str:
        from .render import render
        return render(self, "markdown", lang=lang)

    def to_html(self, lang: str = "en") -> str:
        """The full page, as ``derive docs`` writes it (without the exported code)."""
        from .render import html
        return html.render(self, index_href=None, lang=lang)

    def in_language(self, lang: str):
        """This derivation shown in a notebook with its prose in ``lang`` ("ko", "ja")."""
        from .notebook import Localized
        return Localized(self, lang)

    def to_dict(self) -> dict:
        from .render import json as json_render
        return json_render.to_dict(self)

    def to_json(self) -> str:
        from .render import render
        return render(self, "json")

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


def is_tensor(spec: LayerSpec) -> bool:
    values = [spec.forward, *(v for _, v in spec.statements)]
    return any(e.atoms(Arr) or e.atoms(Structural) for e in values)


def _wanted(spec: LayerSpec, wrt):
    names = spec.differentiable
    if wrt is None:
        return names
    wanted = [wrt] if isinstance(wrt, str) else list(wrt)
    by_name = {s.name: s for s in names}
    for n in wanted:
        if n not in by_name:
            raise DeriveError(f"--wrt {n}: {spec.name} has inputs {', '.join(by_name)}")
    return tuple(by_name[n] for n in wanted)


def _forward_somewhere(forward) -> None:
    """A clear error up front when the forward has no value at any sample point: nowhere
    real is the user's formula (exit 2), only beyond float range is ours to report (exit 3).
    """
    from .crosscheck import cross_check
    from .errors import ProofError
    run = cross_check(forward, forward, domain=forward)
    if run.agreed:
        return
    why = run.why_no_point().replace("the forward formula is ", "")
    if "float range" in why:
        raise ProofError(f"the forward formula cannot be evaluated in float range at any "
                         f"sample point ({why}); nothing can be checked numerically")
    raise DeriveError(f"the forward formula has no real, finite value at any sample point "
                      f"({why}): is it defined for real inputs?")


_DONE = memo.table()      # catalogue derivations finished in this process (clear_cache empties it)


def derive_spec(spec: LayerSpec, wrt=None) -> Derivation:
    """Derive the backward pass of ``spec`` for the names in ``wrt`` (default: all).

    A catalogue layer derived once in a process is not derived again (a derivation depends
    on its spec only; a budget that ran out stores nothing): ``derive docs`` and a session
    showing one layer in several formats pay once. ``sympy.core.cache.clear_cache()`` forgets
    them, as it forgets the prover's memo, so benchmarks measure from scratch."""
    from . import catalogue
    key = (spec.name, wrt if wrt is None or isinstance(wrt, str) else
           tuple(sorted(str(w) for w in wrt)))
    if catalogue.is_catalogue(spec):
        done = _DONE.get(key)
        if done is None:
            done = _DONE[key] = _derive_spec(spec, wrt)
        return done
    return _derive_spec(spec, wrt)


def _derive_spec(spec: LayerSpec, wrt=None) -> Derivation:
    from .cached import rewrite_result
    wanted = _wanted(spec, wrt)
    program = spec.definitions()
    graph = decompose(spec.output_in_names, spec.differentiable, program,
                      reserved=spec.symbols())
    tensor = is_tensor(spec)
    search = spec
    if tensor:
        from .tensor_cached import with_node_names
        search = with_node_names(spec, graph)
    context = None
    if tensor:
        from .facts import layer_context
        context = layer_context(search)
    if not tensor:
        _forward_somewhere(spec.forward)
    rec = Recorder(spec.forward, context=context, definitions={
        symbol: full for (symbol, _), (_, full) in zip(spec.program, spec.statements)})
    names = Names(graph, spec.out, spec.dout, spec.symbols())
    from .cached import boundary_rewrite
    chain = backward_steps(graph, rec, wanted, names,
                           rewrite=lambda r, n, g: boundary_rewrite(r, search, graph, n, g))
    result, form = {}, {}
    for s in wanted:
        result[s.name], form[s.name] = rewrite_result(rec, search, graph, s, chain[s.name])
        if result[s.name].has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            from .errors import ProofError
            raise ProofError(f"∂L/∂{s.name} is infinite or undefined on part of the inputs "
                             "(the forward is not finite there, e.g. log of 0): no formula "
                             "for it is shown")
    cache_spec = _read_by_results(spec, search, result) if search is not spec else None
    return Derivation(spec, graph, rec.steps, result, chain, form, tuple(s.name for s in wanted),
                      cache_spec)


def _read_by_results(spec, search, result):
    """``spec`` with the graph-named statements of ``search`` that a result reads; None if none."""
    from dataclasses import replace
    own = {s.name for s, _ in spec.program}
    read = {q.name for e in result.values() for q in e.free_symbols}
    extra = [(s, v) for s, v in search.program if s.name not in own and s.name in read]
    if not extra:
        return None
    keep = own | {s.name for s, _ in extra}
    return replace(spec, program=tuple(p for p in search.program if p[0].name in keep),
                   statements=tuple(p for p in search.statements if p[0] in keep))


def derive(name: str | None = None, *, expr: str | None = None, source: str | None = None,
           fn: str | None = None, wrt=None, var=None, **layer):
    """Derive a catalogue layer by name, a forward given as text (``expr``), or a ``def``
    of the forward in Python source (``source``, with ``fn`` choosing the function).

    Text is parsed by the safe parser, never evaluated. With ``expr`` or ``source``,
    ``name`` names the layer; ``var`` orders ``expr``'s scalar inputs, and ``layer``
    passes shapes, weights, consts and params on to :func:`derive.program.layer_from_text`.

    >>> d = derive(expr="np.tanh(x @ W + b)", shapes={"x": "N,D", "W": "D,M", "b": "M"},
    ...            weights=["W", "b"], name="dense")
    >>> d.needs("W"), d.needs("b")
    (('out', 'x'), ('out',))
    """
    if (expr is not None) + (source is not None) > 1:
        raise DeriveError("give expr=... or source=..., not both")
    if expr is None and source is None:
        if name is None:
            raise DeriveError("give a layer name, expr=... or source=...")
        if var is not None or layer or fn is not None:
            raise DeriveError("--var, --fn, --shape, --weight, --const and --param apply only "
                              "to --expr and --file")
        from . import catalogue
        return derive_spec(catalogue.get(name), wrt)
    if source is not None:
        from .program import layer_from_def
        if var is not None or set(layer) - {"shapes", "positive"}:
            raise DeriveError("a def declares its inputs, weights and params in its signature")
        return derive_spec(layer_from_def(source, fn=fn, name=name, **layer), wrt)
    if fn is not None:
        raise DeriveError("fn=... chooses a function of source=...")
    from .program import layer_from_text
    if name is not None:
        layer["name"] = name
    if isinstance(var, str):            # "x,t", as on the command line
        var = [v.strip() for v in var.split(",") if v.strip()]
    return derive_spec(layer_from_text(expr, var=var, **layer), wrt)
