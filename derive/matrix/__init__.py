"""Matrix and vector layers with generic shapes (index notation, proven for all N, D, M).

Public API::

    LAYERS                                  names of the matrix layers
    derive_matrix(name, wrt=None)           -> MatrixDerivation (.steps, .result, .to_latex() ...)
    check_matrix(name, text, wrt)           -> MatrixCheck (.verdict in proven/checked/refuted, .message)
    export_source(names=None)               -> NumPy-only module text with the book's classes
"""
from .specs import LAYERS
from .derivation import MatrixDerivation, derive_matrix
from .check import MatrixCheck, check_matrix


def export_source(names=None) -> str:
    from .codegen import export_source as _export
    return _export(names)


__all__ = ["LAYERS", "derive_matrix", "check_matrix", "export_source", "MatrixDerivation", "MatrixCheck"]
