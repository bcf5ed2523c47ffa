"""How derive describes a catalogue layer to the NumPy verifier (:mod:`numeric.verify`).

:func:`case_for` is the only place that knows it: the layer's
:class:`~numeric.layercase.LayerCase` (how to build and call the class, how to draw
its arguments), the source text of the reference implementation — derive's
exported module, whose backward is the proven derivation turned into code — and
the class to take from it. The verifier never imports derive; it gets these three
as data (:mod:`numeric.sandbox` passes them to a child process as JSON and text).

Today the cases are :data:`numeric.cases.CASES` and the sources the committed
exported modules (``numeric/generated.py``, ``numeric/matrix_generated.py``, kept
fresh by the tests).

>>> case, source, class_name = case_for("sigmoid")
>>> case.inputs, class_name, f"class {class_name}:" in source
(('x',), 'Sigmoid', True)
>>> case_for("affine")[0].weights
('W', 'b')
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from . import catalogue
from .errors import DeriveError

__all__ = ["case_for", "layer_names"]


def _exported_source(filename: str) -> str:
    import numeric
    return (Path(numeric.__file__).resolve().parent / filename).read_text(encoding="utf-8")


def case_for(name: str):
    """(LayerCase, reference module source, reference class name) for catalogue layer ``name``.

    Unknown names raise :class:`~derive.errors.UnknownLayerError` (with suggestions).
    """
    from numeric.cases import CASES
    if catalogue.is_matrix(name):
        from .matrix import specs
        class_name, filename = specs.get(name).class_name, "matrix_generated.py"
    else:
        class_name, filename = catalogue.get(name).class_name, "generated.py"
    if name not in CASES:
        raise DeriveError(f"--layer {name}: no numeric case for it")
    case = dataclasses.replace(CASES[name], class_name=class_name)
    return case, _exported_source(filename), class_name


def layer_names() -> list:
    """The catalogue layers :func:`case_for` describes, elementwise first."""
    from numeric.cases import CASES
    return [n for n in (*catalogue.names(), *catalogue.matrix_names()) if n in CASES]
