"""How derive describes a layer to the NumPy verifier (:mod:`numeric.verify`), from its Derivation.

:func:`case_of` is the only place that knows it: the layer's
:class:`~numeric.layercase.LayerCase` (how to build and call the class, how to draw its
arguments) comes from the spec — inputs, shapes, weights, consts, params, features —
and the reference implementation is the code generated from *this* derivation (what
``derive export`` writes and the docs page shows). The verifier never imports derive;
it gets the case and the source as data (:mod:`numeric.sandbox` passes them to a child
process as JSON and text).

>>> case, source, class_name = case_for("sigmoid")
>>> case.inputs, class_name, f"class {class_name}:" in source
(('x',), 'Sigmoid', True)
>>> case_for("affine")[0].weights
('W', 'b')
"""
from __future__ import annotations

import math
import dataclasses

from . import catalogue
from .errors import DeriveError
from .tensor import shape_of

__all__ = ["case_of", "case_for", "report_text"]


def _sizes(spec) -> tuple:
    """Two sets of sizes for the layer's dimensions: the batch N = 1, and a larger one."""
    dims = [d.name for d in spec.dims()]
    big = {d: 3 + (i % 3) for i, d in enumerate(dims)}
    if "N" in big:
        big["N"] = 5
    small = {**big, **({"N": 1} if "N" in big else {dims[0]: 1} if dims else {})}
    return (small, big) if dims else ()


def _shape(sym) -> tuple:
    """The case's spelling of a shape: names, integers and multiples ``"4*H"``."""
    def one(d):
        if d.is_Symbol or d.is_Integer:
            return d.name if d.is_Symbol else int(d)
        k, s = d.as_coeff_Mul()
        if k.is_Integer and s.is_Symbol:
            return f"{int(k)}*{s.name}"
        raise DeriveError(f"the verifier cannot draw an axis of size {d}")
    return tuple(one(d) for d in shape_of(sym))


def _kinds(spec, consts) -> dict:
    kinds = {}
    labels = set(spec.features.get("labels", ())) | {n for n, _, v, _ in spec.assume if v == 1}
    for s in (*spec.differentiable, *(c for c in spec.consts if c.name in consts)):
        if s.is_positive:
            kinds[s.name] = "positive"
        elif s.name in labels:
            kinds[s.name] = "onehot"
        elif shape_of(s) or spec.weights:
            kinds[s.name] = "normal"
    return kinds


def case_of(d):
    """The :class:`~numeric.layercase.LayerCase` of derivation ``d``'s layer."""
    from numeric.layercase import LayerCase
    spec = d.spec
    from numeric.cases import CASES
    if spec.name in CASES and catalogue.is_catalogue(spec):
        return dataclasses.replace(CASES[spec.name], class_name=spec.class_name)
    if not spec.inputs and not _indices(spec):
        raise DeriveError(f"{spec.name} has no forward input (only weights): the verifier "
                          "calls forward with inputs; make the weight an input of the layer")
    mask = spec.features.get("dropout")
    table = spec.symbols()
    consts = tuple(c for c in spec.const_names if c != mask and not (
        c in spec.defaults and not shape_of(table[c])))     # a scalar with a default: kept
    params = {p: spec.defaults[p] for p in spec.param_names if p in spec.defaults}
    outputs = tuple(spec.output_names)      # several: backward(dh_next, dc_next), in order
    if not d.tensor:
        positive = any(s.is_positive for s in spec.inputs)
        return LayerCase(spec.name, spec.class_name, inputs=spec.input_names, consts=consts,
                         params=params, domain=(0.1, 5.0) if positive else (-5.0, 5.0),
                         kinks=_kinks(spec), outputs=outputs)
    names = (*spec.differentiable, *(s for s in spec.consts if s.name in consts))
    bounds = _indices(spec)                # an embedding's idx: an input of kind "index"
    if bounds and any(c not in bounds for c in consts):
        raise DeriveError(f"{spec.name}: the verifier takes index arrays "
                          f"({', '.join(bounds)}) with no other consts")
    return LayerCase(spec.name, spec.class_name, inputs=spec.input_names + tuple(bounds),
                     shapes={s.name: _shape(s) for s in names}, weights=spec.weight_names,
                     consts=tuple(c for c in consts if c not in bounds),
                     kinds={**_kinds(spec, consts), **{n: "index" for n in bounds}},
                     params=params, loss=spec.is_loss, sizes=_sizes(spec), bounds=bounds,
                     flatten=bool(spec.features.get("flatten")), mask_attr=mask,
                     outputs=outputs)


def _indices(spec) -> dict:
    """{index const: the dimension bounding it}: each ``W[idx]`` of the forward, bounded
    by W's first dimension (its number of rows)."""
    from .gather import Gather
    consts = set(spec.const_names)
    found = {}
    for g in spec.forward.atoms(Gather):
        W, idx = g.args
        if getattr(idx, "name", None) in consts:
            rows = shape_of(W)[0]
            found[idx.name] = rows.name if rows.is_Symbol else int(rows)
    return found


def _kinks(spec) -> tuple:
    """Points where a one-input elementwise layer switches branch (finite differences skip
    them and the gradient there is compared with the derivation's convention)."""
    if len(spec.inputs) != 1:
        return ()
    from .intervals import _breakpoints, as_piecewise as _as_piecewise
    x = spec.inputs[0]
    try:
        points = _breakpoints(_as_piecewise(spec.forward), x)
    except (DeriveError, TypeError, ValueError):
        return ()
    return tuple(float(p) for p in points or ())


def case_for(name: str):
    """(LayerCase, reference module source, reference class name) for catalogue layer
    ``name``; the source is generated from the layer's derivation now."""
    from .codegen import emit_module
    from .derivation import derive_spec
    d = derive_spec(catalogue.get(name))
    return case_of(d), emit_module([d], cmd=name), d.spec.class_name


# --- one layer's three-way report (the docs pages show it) -----------------------------------

def layer_row(d, source: str, *, seed: int = 0, strict: bool = False) -> dict:
    """Three-way check of ``d``'s exported code (``source``): against the hand-coded class
    (:data:`numeric.cases.HAND_CODED`, where the catalogue has one) and finite differences."""
    from numeric.cases import HAND_CODED
    from numeric.sandbox import load_module
    from numeric.verify import verify_class
    case = case_of(d)
    name = d.spec.class_name
    exported = getattr(load_module(source, f"derive_exported_{name}"), name)
    hand = HAND_CODED.get(d.spec.name) if catalogue.is_catalogue(d.spec) else None
    mine = verify_class(exported, case, hand or exported, strict=True, seed=seed)
    ref = verify_class(hand, case, exported, strict=strict, seed=seed) if hand else None
    return row(d.spec.name, mine, ref)


def row(name, mine, ref) -> dict:
    """A table row from the reports on the exported class and on the hand-coded one."""
    ok = mine.ok and (ref is None or ref.ok)
    return {"layer": name, "ok": ok,
            "exported_vs_reference": mine.backward.max_abs if ref else float("nan"),
            "exported_vs_reference_rel": mine.backward.max_rel if ref else float("nan"),
            "exported_vs_fd": mine.fd.max_abs,
            "reference_vs_fd": ref.fd.max_abs if ref else float("nan"),
            "exported_vs_fd_rel": mine.fd.max_rel,
            "reference_vs_fd_rel": ref.fd.max_rel if ref else float("nan"),
            "forward": mine.forward.max_abs if ref else float("nan"),
            "mutation": any((mine.mutated_dout, mine.aliased_dout, mine.mutated_inputs,
                             mine.mutated_cache)),
            "warnings": len(mine.warnings) + (len(ref.warnings) if ref else 0),
            "failures": mine.failures + ([f"reference: {f}" for f in ref.failures] if ref
                                         else [])}


HEAD = ("layer", "fwd err", "exp-ref", "exp-fd", "ref-fd", "mutation", "warnings", "verdict")
LEGEND = ("fwd err, exp-ref: max abs error of the exported forward/backward against the "
          "hand-coded reference class (backward: within 1e-9 relative per element; nan: no "
          "hand-coded class); exp-fd, ref-fd: max relative error against central finite "
          "differences (where |value| > 1e-5)")


# The pages show an exported-vs-reference error below this as "<1e-13": at rounding level its
# digits depend on the machine (OpenBLAS picks its matmul kernels by CPU: 0.0 on one, 4.4e-16
# on another), and a page must come out byte-identical wherever `derive docs` runs.
PAGE_FLOOR = 1e-13


def _err(value: float, floor: float | None) -> str:
    """``value`` as ``1.5e-08``; below ``floor`` (when given) as ``<1e-13``.

    >>> _err(4.4e-16, 1e-13), _err(0.0, 1e-13), _err(2.5e-9, 1e-13), _err(4.4e-16, None)
    ('<1e-13', '<1e-13', '2.5e-09', '4.4e-16')
    """
    if floor is not None and abs(value) < floor:
        return f"<{floor:.0e}"
    return f"{value:.1e}"


def _decade(value: float) -> str:
    """``value`` as the power of ten just above it, ``<1e-07`` for 2.3e-08.

    The finite differences' error is rounding amplified by 1/h: its leading digit changes
    with the machine's kernels (time_rnn's 2.0e-08 on one CPU, 2.3e-08 on another), its
    decade does not, so the pages (byte-identical on every machine) show the decade.

    >>> _decade(2.3e-08), _decade(2.0e-08), _decade(1e-06), _decade(0.0), _decade(float("nan"))
    ('<1e-07', '<1e-07', '<1e-05', '0', 'nan')
    """
    if not math.isfinite(value):
        return f"{value}"
    if value <= 0.0:
        return "0"
    return f"<1e{math.floor(math.log10(value)) + 1:+03d}"


def format_table(rows, floor: float | None = None) -> str:
    """The table; ``floor`` (the pages): errors against the reference below it shown as
    ``<floor``, errors against finite differences as their decade (:func:`_decade`)."""
    fd = _decade if floor is not None else (lambda v: f"{v:.1e}")
    lines = [HEAD] + [(r["layer"], _err(r["forward"], floor),
                       _err(r["exported_vs_reference"], floor),
                       fd(r["exported_vs_fd_rel"]), fd(r["reference_vs_fd_rel"]),
                       "yes" if r["mutation"] else "no", str(r["warnings"]),
                       "PASS" if r["ok"] else "FAIL") for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEAD))]
    out = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines]
    out += [f"{r['layer']}: {f}" for r in rows for f in r["failures"]]
    return "\n".join(out)


def report_text(d, source: str | None) -> str:
    """One layer's verification of the code ``source`` (the page's), as text."""
    if source is None:
        raise DeriveError("no exported code to verify")
    return (f"{format_table([layer_row(d, source)], PAGE_FLOOR)}\n{LEGEND}; "
            f"<{PAGE_FLOOR:.0e}: at rounding level; exp-fd, ref-fd as <1e-07: below that power of ten "
            f"(their digits vary with the machine)")
