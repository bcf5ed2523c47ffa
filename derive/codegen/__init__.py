"""Derivation → NumPy source: backward functions and book-style classes, numpy only.

The code generator takes a :class:`~derive.derivation.Derivation` (the one just made; a
layer is never re-derived by its name here) and lowers its proven results:

* :mod:`.printer` — the NumPy printer (a SymPy ``NumPyPrinter`` subclass);
* :mod:`.stable` — stable forms, each proven equal to what it replaces;
* :mod:`.lower` — elementwise expressions into ufunc calls on buffers it owns;
* :mod:`.elementwise`, :mod:`.share` — an elementwise layer's function and class;
* :mod:`.tensor`, :mod:`.tensor_class` — a tensor layer's function and class, in the
  API of the book's volume 1 (``dW``, ``db`` attributes) or volume 2 (``params`` and
  ``grads`` lists filled in place; ``emit_module(..., api="book2")``);
* :mod:`.runtime` — helpers copied into the generated module;
* :mod:`.module` — the assembled module.

>>> from derive import derive
>>> src = emit_module([derive("sigmoid")])
>>> "def sigmoid_backward(dout, out):" in src and "class Sigmoid:" in src
True
"""
from .module import code_for, emit_module
from .printer import NumpyCodePrinter

__all__ = ["emit_module", "code_for", "NumpyCodePrinter"]
