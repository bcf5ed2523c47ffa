"""The code generator's backends: one derivation, several targets.

* ``numpy`` (the default): :func:`derive.codegen.module.emit_module`; the module imports
  numpy only.
* ``numba``: :mod:`derive.codegen.numba_backend`; each elementwise layer's forward (with
  its cache) and backward become one compiled loop over the elements; the module
  imports numpy and numba (``pip install 'derive[fast]'``).
* ``jax``: :mod:`derive.codegen.jax_backend`; one ``jax.custom_vjp`` function per layer
  whose backward is the derivation's (``pip install 'derive[jax]'``).

Generating code never imports numba or jax: only running the generated module does.

>>> sorted(BACKENDS)
['jax', 'numba', 'numpy']
>>> emitter("numpy").__name__
'emit_module'
>>> emitter("fortran")
Traceback (most recent call last):
...
derive.errors.DeriveError: unknown backend 'fortran': choose from numpy, numba, jax
"""
from __future__ import annotations

import importlib

from ..errors import DeriveError

__all__ = ["BACKENDS", "EXTRAS", "emitter"]

# backend -> (module, emitting function); each function takes (derivations, cmd=, api=)
BACKENDS = {
    "numpy": ("derive.codegen.module", "emit_module"),
    "numba": ("derive.codegen.numba_backend", "emit_numba_module"),
    "jax": ("derive.codegen.jax_backend", "emit_jax_module"),
}
# what running a backend's module needs besides numpy: the pyproject extra that installs it
EXTRAS = {"numpy": None, "numba": "fast", "jax": "jax"}


def emitter(backend: str):
    """The function that writes ``backend``'s module."""
    if backend not in BACKENDS:
        raise DeriveError(f"unknown backend {backend!r}: choose from {', '.join(BACKENDS)}")
    module, name = BACKENDS[backend]
    return getattr(importlib.import_module(module), name)
