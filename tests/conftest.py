"""Shared test set-up.

Hypothesis explores new random examples on every developer run; on CI (``CI`` set, as
``.ci/run`` is run) it replays a fixed, derandomized set so that a landing is decided by the
code, not by the draw. A failure found locally is kept in .hypothesis/ and replayed.
"""
import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

#: layer files the tests read as text (never imported: their annotations are our syntax)
collect_ignore_glob = ["data/*"]
