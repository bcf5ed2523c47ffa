"""Shared test set-up.

Hypothesis explores new random examples on every developer run; on CI (``CI`` set, as
``.ci/run`` is run) it replays a fixed, derandomized set so that a landing is decided by the
code, not by the draw. A failure found locally is kept in .hypothesis/ and replayed.
"""
import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

#: layer files the tests read as text (never imported: their annotations are our syntax)
collect_ignore_glob = ["data/*"]


@pytest.fixture(autouse=True)
def _mpmath_precision_restored():
    """mpmath's precision is global to the worker: a test that sets ``mp.dps`` for its
    reference values must not hand it to the next test (test_proof_budget checks that an
    interrupted SymPy call leaves 53 bits, and the prover's numeric checks use mpmath)."""
    import mpmath
    prec = mpmath.mp.prec
    yield
    mpmath.mp.prec = prec
