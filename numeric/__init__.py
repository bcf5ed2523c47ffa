"""The NumPy side of the project, independent of the symbolic ``derive`` package.

* :mod:`numeric.reference` — hand-coded, book-style layer classes (``forward`` /
  ``backward``), the independent answers the derivations are checked against.
* :mod:`numeric.special` — vectorised ``erf`` / ``erfc`` (NumPy has none).
* :mod:`numeric.fd` — central finite differences (gradcheck conventions).
* :mod:`numeric.verify` and :mod:`numeric.cases` — the verifier core: run a
  user's layer class against a reference and report errors, warnings, in-place
  mutation of ``dout`` and conventions at kinks.

Only NumPy is imported here; nothing from SymPy or ``derive``.
"""
