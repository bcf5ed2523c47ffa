"""Central finite differences, the independent check of every backward pass.

Conventions (those of ``torch.autograd.gradcheck``): float64, central differences
with step ``eps = 1e-6``, and a gradient passes when
``|analytic - numeric| <= atol + rtol * |numeric|`` with ``atol = 1e-5`` and
``rtol = 1e-3``. (The book's ``numerical_gradient`` uses h = 1e-4 and breaks on
integer arrays; here every input is copied to float64 first.)

What is differentiated is the scalar ``L = sum(f(*inputs) * dout)``, so
``dL/dinput_i`` is exactly what ``backward(dout)`` must return.

Two details keep the differences meaningful at extreme values:

* ``f(x + e) - f(x - e)`` is formed elementwise *before* summing with ``dout``;
  summing first would let a huge unrelated output element (``exp(700)``) swamp the
  tiny change of the element being perturbed.
* The divisor is the step actually taken, ``(x + e) - (x - e)`` in float64, not
  ``2e``; at x = 1000 the two differ in the 7th digit.

>>> g, = numerical_grad(lambda x: x**2, [np.array([3.0])], np.array([1.0]))
>>> bool(abs(g[0] - 6.0) < 1e-8)
True
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

__all__ = [
    "GRADCHECK_EPS", "GRADCHECK_ATOL", "GRADCHECK_RTOL",
    "numerical_grad", "directional_check", "DirectionalCheck",
]

GRADCHECK_EPS = 1e-6
GRADCHECK_ATOL = 1e-5
GRADCHECK_RTOL = 1e-3


def _evaluate(f: Callable, work: Sequence[np.ndarray]) -> np.ndarray:
    """f at fresh copies of the working inputs, so f cannot disturb them."""
    return np.asarray(f(*[w.copy() for w in work]), dtype=np.float64)


def _contract(plus: np.ndarray, minus: np.ndarray, dout: np.ndarray) -> float:
    """sum((plus - minus) * dout), treating equal elements (even inf == inf) as 0."""
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(plus == minus, 0.0, plus - minus)
        return float(np.sum(diff * dout))


def numerical_grad(f: Callable, inputs: Sequence, dout, eps: float = GRADCHECK_EPS
                   ) -> list[np.ndarray]:
    """d sum(f(*inputs) * dout) / d inputs[i], element by element, by central differences.

    Costs two calls of ``f`` per input element; use :func:`directional_check` for
    big arrays. The caller's arrays are never modified.

    >>> gx, gy = numerical_grad(lambda x, y: x * y, [np.array(2.0), np.array(5.0)],
    ...                         np.array(1.0))
    >>> round(float(gx), 6), round(float(gy), 6)
    (5.0, 2.0)
    """
    work = [np.array(x, dtype=np.float64) for x in inputs]
    dout = np.asarray(dout, dtype=np.float64)
    grads = []
    for x in work:
        grad = np.zeros_like(x)
        for flat in range(x.size):
            idx = np.unravel_index(flat, x.shape)
            centre = x[idx]
            x[idx] = centre + eps
            plus = _evaluate(f, work)
            step = x[idx]
            x[idx] = centre - eps
            minus = _evaluate(f, work)
            step = step - x[idx]
            x[idx] = centre
            grad[idx] = _contract(plus, minus, dout) / step
        grads.append(grad)
    return grads


@dataclass
class DirectionalCheck:
    """Result of :func:`directional_check`: both directional derivatives and the verdict."""

    numeric: float
    analytic: float
    abs_error: float
    ok: bool


def directional_check(f: Callable, inputs: Sequence, dout, grads: Sequence, *,
                      eps: float = GRADCHECK_EPS, atol: float = GRADCHECK_ATOL,
                      rtol: float = GRADCHECK_RTOL, seed: int = 0) -> DirectionalCheck:
    """Compare ``grads`` with finite differences along one random direction.

    In the style of ``jax.test_util.check_grads`` (which uses eps = 1e-4): pick a
    random unit direction ``v`` over all inputs together; the analytic directional
    derivative is ``sum_i <grads[i], v_i>``, the numeric one is
    ``(L(x + eps v) - L(x - eps v)) / (2 eps)``. Two calls of ``f`` in total.

    >>> x = np.linspace(-1, 1, 1000)
    >>> directional_check(np.sin, [x], np.ones_like(x), [np.cos(x)]).ok
    True
    """
    work = [np.array(x, dtype=np.float64) for x in inputs]
    dout = np.asarray(dout, dtype=np.float64)
    rng = np.random.default_rng(seed)
    direction = [rng.standard_normal(x.shape) for x in work]
    norm = np.sqrt(sum(float(np.sum(v * v)) for v in direction)) or 1.0
    direction = [v / norm for v in direction]
    analytic = float(sum(np.sum(np.asarray(g, dtype=np.float64) * v)
                         for g, v in zip(grads, direction)))
    plus = _evaluate(f, [x + eps * v for x, v in zip(work, direction)])
    minus = _evaluate(f, [x - eps * v for x, v in zip(work, direction)])
    numeric = _contract(plus, minus, dout) / (2.0 * eps)
    abs_error = abs(numeric - analytic)
    ok = bool(abs_error <= atol + rtol * abs(numeric))
    return DirectionalCheck(numeric, analytic, abs_error, ok)
