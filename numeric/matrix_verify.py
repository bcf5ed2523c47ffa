"""The verifier for the matrix layers: a book-style class against an expected class and FD.

For each shape (always one with batch size N = 1; a 4-D input for Affine and
BatchNormalization, which flatten it) the class is built with the book's
constructor and random parameters — ``Affine(W, b)``, ``BatchNormalization(gamma,
beta)``, ``LayerNorm(gamma, beta)``, ``Softmax()``, ``SoftmaxWithLoss()``, ``MSE()``,
``Dropout()`` — and

* ``forward`` is compared with the expected class's forward;
* ``backward(dout)``: the returned ``dx`` and the parameter-gradient attributes
  (``dW``, ``db``; ``dgamma``, ``dbeta``) are compared with the expected class's and
  with central finite differences of the class's own forward (inputs *and*
  parameters perturbed, :func:`numeric.fd.numerical_grad`);
* ``dout`` modified in place or returned itself, inputs modified, a second
  ``backward`` disagreeing with the first, NumPy warnings are recorded.

Loss layers (SoftmaxWithLoss, MSE) are called as the book calls them, ``backward(1.0)``
(``dout = 1``: the loss is the final node); a second call with ``dout = 2`` is only a
note when the layer ignores ``dout`` (the book's SoftmaxWithLoss does), not a failure.
SoftmaxWithLoss gets one-hot labels ``t``.  Dropout draws its own mask: the ``mask``
attribute is read after ``forward`` and the expected values are ``x * mask`` and
``dout * mask`` (finite differences of that fixed-mask function).

Exceptions raised by the class, missing gradient attributes and wrong shapes are
reported as errors (the verdict is FAIL), never propagated.

>>> from numeric import matrix_generated as gen, matrix_reference as ref
>>> verify_matrix_class(gen.Affine, "affine", ref.Affine).ok
True
"""
from __future__ import annotations

from dataclasses import dataclass

import inspect

import numpy as np

from numeric.fd import numerical_grad
from numeric.report import Report
from numeric.verify import _capture, _quiet

__all__ = ["MatrixCase", "MATRIX_CASES", "verify_matrix_class"]

M_OUT = 3  # Affine output width


@dataclass(frozen=True)
class MatrixCase:
    name: str
    params: tuple = ()          # constructor arguments, in order (gamma, beta) / (W, b)
    grads: tuple = ()           # attribute names of their gradients
    target: str = ""            # "onehot" | "real": forward(x, t); the layer is a loss
    shapes: tuple = ((1, 4), (5, 4))
    mask: bool = False          # dropout

    @property
    def loss(self) -> bool:
        return bool(self.target)


MATRIX_CASES = {c.name: c for c in (
    MatrixCase("affine", ("W", "b"), ("dW", "db"), shapes=((1, 3), (4, 3), (2, 2, 3, 2))),
    MatrixCase("softmax"),
    MatrixCase("softmax_with_loss", target="onehot"),
    MatrixCase("mse", target="real"),
    MatrixCase("batchnorm", ("gamma", "beta"), ("dgamma", "dbeta"),
               shapes=((1, 4), (6, 4), (3, 2, 2, 2))),
    MatrixCase("layernorm", ("gamma", "beta"), ("dgamma", "dbeta")),
    MatrixCase("dropout", mask=True),
)}


class _UserError(Exception):
    pass


def _call(phase, fn, *args):
    try:
        return fn(*args)
    except Exception as exc:  # the class under test may raise anything
        raise _UserError(f"{phase} raised {type(exc).__name__}: {exc}") from exc


def _params(case: MatrixCase, shape, rng) -> list:
    D = int(np.prod(shape[1:]))
    if case.params == ("W", "b"):
        return [rng.standard_normal((D, M_OUT)), rng.standard_normal(M_OUT)]
    if case.params:
        return [rng.uniform(0.5, 2.0, D), rng.standard_normal(D)]
    return []


def _target(case: MatrixCase, shape, rng):
    if case.target == "onehot":
        return np.eye(shape[1])[rng.integers(0, shape[1], shape[0])]
    if case.target == "real":
        return rng.standard_normal(shape)
    return None


def _where(shape):
    axes = "ijkl"[:len(shape)]

    def where(i):
        return {a: float(v) for a, v in zip(axes, np.unravel_index(i, shape))} if shape else {}
    return where


def _array(phase, value, shape, what):
    if value is None:
        raise _UserError(f"{phase}: {what} is None (not set by backward?)")
    try:
        a = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise _UserError(f"{phase}: {what} is not an array ({exc})") from None
    if a.shape != tuple(shape):
        raise _UserError(f"{what} has shape {a.shape}, expected {tuple(shape)}")
    return a


def verify_matrix_class(cls, layer: str, expected_cls, *, strict: bool = False,
                        seed: int = 0) -> Report:
    """Check ``cls`` as matrix layer ``layer`` against ``expected_cls`` and FD; never raises
    for user bugs."""
    case = MATRIX_CASES[layer]
    report = Report(name=layer, strict=strict)
    rng = np.random.default_rng(seed)
    state = np.random.get_state()  # book-style Dropout draws from the global RNG:
    np.random.seed(seed)           # seed it so a report is the same run after run
    try:
        _check_shapes(cls, expected_cls, case, rng, report)
    finally:
        np.random.set_state(state)
    return report.finish()


def _check_shapes(cls, expected_cls, case, rng, report) -> None:
    for shape in case.shapes:
        label = f"shape {shape}"
        try:
            _check_shape(cls, expected_cls, case, shape, rng, report, label)
        except _UserError as exc:
            if not any(e.startswith(f"{exc} (") for e in report.errors):
                report.errors.append(f"{exc} ({label})")
        report.shapes.append(shape)


def _check_shape(cls, expected_cls, case, shape, rng, report: Report, label) -> None:
    x = rng.standard_normal(shape)
    params = _params(case, shape, rng)
    t = _target(case, shape, rng)
    extra = [] if t is None else [t]

    kwargs = {}
    if case.mask and "seed" in inspect.signature(cls).parameters:
        kwargs["seed"] = int(rng.integers(2**31))  # a seedable Dropout: same mask every run
    layer = _call("constructor", lambda *a: cls(*a, **kwargs), *[p.copy() for p in params])
    args = [x.copy(), *[e.copy() for e in extra]]
    with _capture() as caught:
        out = np.asarray(_call("forward", layer.forward, *args), dtype=np.float64)
    _warn(report, caught, "forward", label)

    if case.mask:
        mask = _array("forward", getattr(layer, "mask", None), shape, "self.mask")
        if not np.all((mask == 0) | (mask == 1)):
            raise _UserError("self.mask has values other than 0 and 1")
        ref_out = x * mask

        def f_ref(x_):
            return x_ * mask
    else:
        with _quiet():
            ref_layer = expected_cls(*[p.copy() for p in params])
            ref_out = np.asarray(ref_layer.forward(x.copy(), *[e.copy() for e in extra]),
                                 dtype=np.float64)
    if out.shape != ref_out.shape:
        raise _UserError(f"forward returned shape {out.shape}, expected {ref_out.shape}")
    report.forward.add("out", out, ref_out, _where(out.shape), label=label)

    if case.loss:
        dout = np.array(1.0)
    else:
        dout = rng.uniform(0.5, 2.0, out.shape) * rng.choice([-1.0, 1.0], out.shape)
    dout_arg = float(dout) if case.loss else dout.copy()
    with _capture() as caught:
        dx_raw = _call("backward", layer.backward, dout_arg)
    _warn(report, caught, "backward", label)
    if isinstance(dx_raw, (tuple, list)):
        raise _UserError(f"backward returned {len(dx_raw)} values; the book's {cls.__name__} "
                         "returns dx and stores parameter gradients as attributes")
    if not case.loss:
        report.aliased_dout |= isinstance(dx_raw, np.ndarray) and np.shares_memory(dx_raw,
                                                                                   dout_arg)
        report.mutated_dout |= not np.array_equal(dout_arg, dout)
    report.mutated_inputs |= any(not np.array_equal(a, b) for a, b in zip(args, [x, *extra]))
    got = [_array("backward", dx_raw, shape, "dx")]
    got += [_array("backward", getattr(layer, g, None), p.shape, f"self.{g}")
            for g, p in zip(case.grads, params)]

    with _quiet():
        again = _call("backward (second call)", layer.backward,
                      float(dout) if case.loss else dout.copy())
    report.mutated_cache |= not np.allclose(np.asarray(again, dtype=np.float64), got[0],
                                            rtol=0, atol=0, equal_nan=True)
    if case.loss:
        with _quiet():
            try:
                twice = layer.backward(2.0) if _accepts(layer.backward) else None
            except Exception:  # the user's code; the dout = 1 checks decide
                twice = None
        if twice is not None and np.allclose(np.asarray(twice, dtype=np.float64), got[0]) \
                and np.any(got[0] != 0):
            report.note_once(report.notes, "backward ignores dout (checked with dout = 1 "
                             "only, right when the loss is the final node)")

    names = ["dx", *case.grads]
    if case.mask:
        expected = [dout * mask]
    else:
        with _quiet():
            ref_dx = ref_layer.backward(float(dout) if case.loss else dout.copy())
        expected = [np.asarray(ref_dx, dtype=np.float64)]
        expected += [np.asarray(getattr(ref_layer, g), dtype=np.float64) for g in case.grads]
    for n, g, e in zip(names, got, expected):
        report.backward.add(n, g, e, _where(g.shape), label=f"{n}, {label}")

    if case.mask:
        fwd = f_ref
    else:
        def fwd(x_, *p):
            return cls(*p).forward(x_, *[e.copy() for e in extra])
    with _quiet():
        numeric = _call("forward (finite differences)", numerical_grad, fwd, [x, *params], dout)
    for n, g, fd in zip(names, got, numeric):
        report.fd.add(n, g, fd, _where(g.shape), mask=np.isfinite(fd), label=f"{n}, {label}")


def _accepts(fn) -> bool:
    import inspect
    try:
        return len(inspect.signature(fn).parameters) >= 1
    except (TypeError, ValueError):
        return False


def _warn(report: Report, caught, phase, label) -> None:
    for message in dict.fromkeys(str(w.message) for w in caught):
        report.note_once(report.warnings, f"{message} in {phase} ({label})")
