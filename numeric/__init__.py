"""The NumPy side of the project, independent of the symbolic ``derive`` package.

* :mod:`numeric.reference` — hand-coded, book-style layer classes (``forward`` /
  ``backward``), the independent answers the derivations are checked against.
* :mod:`numeric.special` — vectorised ``erf`` / ``erfc`` (NumPy has none).
* :mod:`numeric.fd` — central finite differences (gradcheck conventions).
* :mod:`numeric.layercase` — :class:`LayerCase`, the JSON-ready description of a
  layer the verifier needs (how to build and call the class, how to draw its
  arguments); :mod:`numeric.cases` — one per catalogue layer, and the hand-coded
  classes.
* :mod:`numeric.verify` (with :mod:`numeric.watch`, :mod:`numeric.report`) — the
  one verifier: a class against a reference class, strict against the derivation,
  finite differences as a third witness, every misbehaviour a report line.
* :mod:`numeric.sandbox` — the same in a child process with time, memory and
  output limits, for code that is not ours.

Only NumPy is imported here; nothing from SymPy or ``derive``.
"""
