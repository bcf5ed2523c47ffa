"""Matrix layers, node by node, in index notation: :func:`derive_matrix`.

For a node ``v = f(A, ...)`` with upstream gradient ``dv`` the step is

    ∂L/∂A[p,q] = ∂/∂A[p,q] Σ_idx dv[idx]·v[idx]

taken by SymPy on the index form (KroneckerDelta sums), put into canonical form
(:mod:`.index`), matched to matrix form (:mod:`.translate`) and proven: the
matrix form is expanded to index form again and must have the same canonical
form (for every N, D, M), and both are evaluated at random points at small sizes.
The composed gradient is rewritten into the cached values (``xn``, ``std``,
``y``...) and proven once more against SymPy's derivative of the whole forward.

>>> d = derive_matrix("affine")
>>> d.result["W"]
'x.T @ dout'
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ..errors import DeriveError, ProofError
from .. import index
from . import numeric, specs
from .tensor import Arr, Reduce, Scalar, Tensor, fresh, show_shape
from .translate import to_tensor

P, Q = sp.symbols("p q", integer=True)
CHECK_SIZES = ({"N": 2, "D": 3, "M": 2, "C": 3}, {"N": 1, "D": 2, "M": 3, "C": 2})


@dataclass(frozen=True)
class MatrixProof:
    method: str            # "index form (all shapes)" | "by definition" (the seed)
    detail: str
    sizes: tuple = ()      # sizes of the numeric cross-check
    points: int = 0

    def __str__(self):
        if not self.points:                # the seed: nothing to check
            return f"{self.method}: {self.detail}"
        at = "; ".join(",".join(f"{k}={v}" for k, v in s.items()) for s in self.sizes)
        return f"{self.method}: {self.detail}; numeric cross-check at {self.points} points ({at})"

    def to_dict(self):
        return {"method": self.method, "detail": self.detail, "points": self.points,
                "sizes": [dict(s) for s in self.sizes]}


@dataclass(frozen=True)
class MatrixStep:
    kind: str              # seed | vjp | sum | fact | simplify | result
    rule: str
    node: str
    target: str
    tensor: Tensor
    proof: MatrixProof
    note: str = ""

    @property
    def description(self) -> str:
        what = {"seed": "upstream gradient", "vjp": f"back through node {self.node} ({self.rule})",
                "sum": f"{self.target} feeds several nodes: add the branches",
                "fact": "a fact used below", "simplify": "in the cached values",
                "result": "proven against the derivative of the whole forward"}[self.kind]
        return what + (f"; {self.note}" if self.note else "")

    @property
    def latex(self) -> str:
        if self.kind == "fact":
            return self.tensor.latex() + " = " + self.note.split("=")[-1].strip()
        lhs = r"\frac{\partial L}{\partial %s}" % Arr(self.target, ()).latex()
        if self.kind == "seed":            # defines the symbol: the code's dout
            return lhs + r" = \mathrm{dout}"
        return f"{lhs} = {self.tensor.latex()}"

    @property
    def text(self) -> str:
        if self.kind == "fact":
            return f"{self.tensor.numpy()} = {self.note.split('=')[-1].strip()}"
        if self.kind == "seed":
            return f"∂L/∂{self.target} = dout"
        return f"d{self.target} = {self.tensor.numpy()}"

    def to_dict(self):
        return {"kind": self.kind, "rule": self.rule, "node": self.node, "target": self.target,
                "numpy": self.tensor.numpy(), "latex": self.latex, "shape": show_shape(self.tensor.shape),
                "description": self.description, "proof": self.proof.to_dict()}


def _free(shape):
    letters = (P, Q)[-len(shape):] if len(shape) == 2 else ((Q,) if len(shape) == 1 else ())
    return tuple(0 if s == 1 else i for s, i in zip(shape, letters))


def _numeric_check(a: sp.Expr, b: sp.Expr, idx, layer, shapes, what, seed=0) -> tuple:
    rng = np.random.default_rng(seed)
    points = 0
    for sizes in CHECK_SIZES:
        env = numeric.random_env(layer, sizes, rng, shapes)
        free_ranges = [range(numeric.concrete((s,), sizes)[0]) if not getattr(i, "is_Integer", False)
                       else [0] for i, s in zip(idx, shapes.get("__result__", ()))]
        combos = [()] if not idx else __import__("itertools").product(*free_ranges)
        for vals in combos:
            bind = {i: v for i, v in zip(idx, vals) if not getattr(i, "is_Integer", False)}
            va = numeric.eval_index(a, env, sizes, dict(bind))
            vb = numeric.eval_index(b, env, sizes, dict(bind))
            if not np.isclose(va, vb, rtol=1e-9, atol=1e-12):
                raise ProofError(f"{what}: numeric cross-check failed at {sizes}, index {vals}: {va} vs {vb}")
            points += 1
    return CHECK_SIZES, points


def _cached_output(g, expr, node, out_idx):
    """Write an elementwise node's own value by its name (exp(x) -> e, sqrt(var+eps) -> std)."""
    elem = expr.element(out_idx)
    if elem.has(sp.Sum) or not elem.is_Function and not elem.is_Pow:
        return g
    mine = Arr(node, expr.shape).element(out_idx)
    if elem.is_Pow and not elem.exp.is_Integer:
        return g.replace(lambda a: a.is_Pow and a.base == elem.base,
                         lambda a: mine ** (a.exp / elem.exp))
    return g.xreplace({elem: mine})


class _Engine:
    def __init__(self, layer: specs.MatrixLayer):
        self.layer = layer
        self.shapes = dict(layer.shapes())
        self.steps: list = []

    def grad_name(self, n):
        return "dout" if n == self.layer.output else "d" + n

    def prove(self, tensor: Tensor, reference: sp.Expr, idx, what, rules=None, expand=None,
              shape=None) -> MatrixProof:
        mine = tensor.element(idx)
        if expand:
            mine = index.expand_cached(mine, expand)
            reference = index.expand_cached(reference, expand)
        diff = index.difference(mine, reference, rules)
        if diff:
            raise ProofError(f"{what}: index forms differ by {list(diff)[:2]}")
        shapes = {**self.shapes, "__result__": tensor.shape if shape is None else shape}
        shapes.update({self.grad_name(n): s for n, s in self.layer.shapes().items()})
        sizes, points = _numeric_check(mine, reference, idx, self.layer, {k: v for k, v in shapes.items()
                                                                        if k.startswith("d") or k == "__result__"},
                                       what)
        used = " using " + ", ".join(f"Σ {k[0]} over axis {k[1]} = {v}" for k, v in (rules or {}).items()) \
            if rules else ""
        return MatrixProof("index form (all shapes)", "same canonical form" + used, sizes, points)

    def vjp(self, node, expr: Tensor, wrt: str) -> Tensor:
        up = Arr(self.grad_name(node), expr.shape)
        out_idx = tuple(fresh("i") for _ in expr.shape)
        body = up.element(out_idx) * expr.element(out_idx)
        limits = [(i, 0, s - 1) for i, s in zip(out_idx, expr.shape) if s != 1]
        body = body.xreplace({i: 0 for i, s in zip(out_idx, expr.shape) if s == 1})
        total = sp.Sum(body, *limits) if limits else body
        idx = _free(self.shapes[wrt])
        g = total.diff(Arr(wrt, self.shapes[wrt]).element(idx))
        g = _cached_output(g, expr, node, out_idx)
        shapes = {**self.shapes, up.name: up.shape}
        t = to_tensor(index.canonical(g), idx, shapes, len(idx), factor_common=False)
        self.shapes[up.name] = up.shape
        return t, g, idx

    def seed_text(self) -> str:
        out = self.layer.output
        if self.shapes[out]:
            return f"∂L/∂{out} is the given upstream gradient, dout in the code"
        return (f"dout is the given upstream gradient of the loss {out} "
                f"(1 when {out} is the final loss)")

    def run(self, wanted):
        layer = self.layer
        out = layer.output
        seed = Arr("dout", self.shapes[out])
        self.steps.append(MatrixStep("seed", "seed", out, out, seed,
                                     MatrixProof("by definition", self.seed_text())))
        differentiable = set(layer.inputs) | {n for n, _, _ in layer.nodes}
        contributions: dict = {}
        composed = {out: seed}
        for node, rule, expr in reversed(layer.nodes):
            if node != out:
                parts = contributions.get(node, [])
                if not parts:
                    continue
                total = parts[0]
                for p in parts[1:]:
                    total = total + p
                if len(parts) > 1:
                    idx = _free(self.shapes[node])
                    ref = sum((p.element(idx) for p in parts), sp.Integer(0))
                    self.steps.append(MatrixStep("sum", "sum", node, node, total,
                                                 self.prove(total, ref, idx, f"sum for d{node}")))
                composed[node] = total.subs({self.grad_name(k): v for k, v in composed.items()})
            for name in sorted(expr.names() & differentiable, key=lambda n: list(self.shapes).index(n)):
                t, g, idx = self.vjp(node, expr, name)
                proof = self.prove(t, g, idx, f"node {node} -> d{name}", shape=self.shapes[name])
                self.steps.append(MatrixStep("vjp", rule, node, name, t, proof,
                                             note="" if len(t.shape) == len(self.shapes[name]) else ""))
                contributions.setdefault(name, []).append(t)
        results, tensors = {}, {}
        for name in wanted:
            parts = contributions[name]
            total = parts[0]
            for p in parts[1:]:
                total = total + p
            chain = total.subs({self.grad_name(k): v for k, v in composed.items()})
            tensors[name] = self.finish(name, chain, len(parts) > 1)
            results[name] = tensors[name].numpy()
        return results, tensors

    def finish(self, name, chain: Tensor, summed: bool) -> Tensor:
        layer = self.layer
        idx = _free(self.shapes[name])
        rules = layer.rule_table()
        for r in layer.rules:
            if r.kind == "fact" and not any(s.kind == "fact" and s.note == r.text for s in self.steps):
                self.prove_fact(r)
        cached = index.expand_cached(chain.element(idx), layer.rewrite)
        norm = index.canonical(cached, rules)
        shapes = {**self.shapes, "dout": self.shapes[layer.output]}
        result = to_tensor(norm, idx, shapes, len(idx))
        used = [r.text for r in layer.rules]
        self.steps.append(MatrixStep("simplify", "cached form", name, name, result,
                                     self.prove(result, chain.element(idx), idx, f"d{name} in cached form",
                                                rules, expand=layer.rewrite), note="; ".join(used)))
        # against SymPy's derivative of the whole forward, every cached value expanded
        full = {}
        for n, _, expr in layer.nodes:
            full[n] = expr.subs(full)
        fwd = full[layer.output]
        dout = Arr("dout", fwd.shape)
        oi = tuple(fresh("i") for _ in fwd.shape)
        L = dout.element(oi) * fwd.element(oi)
        if oi:
            L = sp.Sum(L, *[(i, 0, s - 1) for i, s in zip(oi, fwd.shape)])
        reference = L.diff(Arr(name, self.shapes[name]).element(idx))
        assumptions = layer.rule_table(("assumption",))
        proof = self.prove(result, reference, idx, f"d{name} against the whole forward",
                           assumptions, expand=layer.definitions())
        note = "; ".join(r.text for r in layer.rules if r.kind == "assumption")
        self.steps.append(MatrixStep("result", "result", name, name, result, proof,
                                     note=("assuming " + note) if note else ""))
        return result

    def prove_fact(self, r):
        layer = self.layer
        full = {}
        for n, _, expr in layer.nodes:
            full[n] = expr.subs(full)
        total = Reduce(Arr(r.name, self.shapes[r.name]), r.axis)
        idx = _free(total.shape)
        e = index.expand_cached(total.element(idx), layer.definitions())
        if index.difference(e, sp.Integer(r.value)):
            raise ProofError(f"fact {r.text} does not follow from the definitions")
        proof = self.prove(total, sp.Integer(r.value) + 0 * e, idx, f"fact {r.text}",
                           expand=layer.definitions())
        self.steps.append(MatrixStep("fact", "fact", r.name, r.name, total, proof, note=r.text))


@dataclass
class MatrixDerivation:
    """A proven matrix-form derivation (same surface as the elementwise Derivation)."""

    layer: specs.MatrixLayer
    steps: list
    result: dict                  # input name -> NumPy expression string
    tensors: dict                 # input name -> Tensor
    wrt: tuple = field(default_factory=tuple)

    @property
    def spec(self):
        return self.layer

    @property
    def name(self):
        return self.layer.name

    def info(self) -> dict:
        lay = self.layer
        return {"name": lay.name, "title": lay.title, "class_name": lay.class_name,
                "inputs": {k: show_shape(v) for k, v in lay.inputs.items()},
                "params": {k: show_shape(v) for k, v in lay.constants.items()},
                "cached": sorted({a for t in self.tensors.values() for a in t.names()}
                                 - set(lay.inputs) - {"dout"}),
                "assumptions": [r.text for r in lay.rules if r.kind == "assumption"],
                "notes": list(lay.notes)}

    def steps_for(self, name):
        return [s for s in self.steps if s.kind not in ("simplify", "result") or s.target == name]

    def to_text(self) -> str:
        from . import render
        return render.text(self)

    def to_latex(self, standalone: bool = False) -> str:
        from . import render
        return render.latex(self, standalone)

    def to_mathml(self) -> str:
        from . import render
        return render.mathml(self)

    # notebook display, as for elementwise derivations (derive/notebook.py)
    def _repr_html_(self) -> str:
        from ..notebook import html
        return html(self)

    def _repr_latex_(self) -> str:
        from ..notebook import latex
        return latex(self)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def to_markdown(self) -> str:
        from . import render
        return render.markdown(self)

    def to_dict(self) -> dict:
        return {**self.info(), "wrt": list(self.wrt), "result": dict(self.result),
                "result_latex": {k: t.latex() for k, t in self.tensors.items()},
                "steps": [s.to_dict() for s in self.steps]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


def derive_matrix(name: str, wrt=None) -> MatrixDerivation:
    """Derive a matrix layer's backward pass, every step proven for all shapes."""
    layer = specs.get(name)
    wanted = tuple(layer.inputs) if wrt is None else ((wrt,) if isinstance(wrt, str) else tuple(wrt))
    for w in wanted:
        if w not in layer.inputs:
            raise DeriveError(f"--wrt {w}: {name} has inputs {', '.join(layer.inputs)}")
    engine = _Engine(layer)
    results, tensors = engine.run(wanted)
    return MatrixDerivation(layer, engine.steps, results, tensors, wanted)


_ = Scalar
