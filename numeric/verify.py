"""The verifier: a book-style layer class against a reference class, for one :class:`LayerCase`.

``verify_class(cls, case, reference)`` builds both classes the same way (weights,
params, consts from the case), feeds them the same inputs — for elementwise
layers random inputs of shapes (), (7,), (3,4), (2,3,5) from the case's domain,
then its edge values such as +-1000; for shaped layers every size set (N = 1
included) with each of the case's param sets (a convolution's stride and pad), and a
rank-4 input for layers that flatten (a class that does not accept it, as volume 2's
Affine, gets a note: "does not flatten a 4-D input") — and compares:

* **forward** with the reference's, at relative 1e-5 (the book puts 1e-7 inside
  its logs);
* **backward** — the returned gradients and the weight gradients, read where the
  class keeps them (:mod:`numeric.book_api`: volume 1's attributes ``dW``, ``db``, or
  volume 2's ``grads`` list aligned with ``params``; the report says which, and a
  ``grads`` list or array replaced instead of written in place is a failure) — with
  the reference's, **strictly**: per element
  ``|got - expected| <= atol + rtol*|expected|`` with rtol 1e-9 and atol
  1e-12·max(1, max|expected|) for float64 results (1e-4 and 1e-6 for float32).
  The reference is the derivation's exported code, so this is the exact answer in
  float64; a gradient 0.1 % off fails;
* **finite differences** of the class's *own* forward (inputs and weights
  perturbed, :mod:`numeric.fd`, gradcheck tolerances; a float32 forward with step
  1e-3 and tolerances 1e-2 relative, 1e-3 absolute): the third witness.

An ``index`` input (an embedding's ``idx``) has no gradient: backward returns the others'
(None if none), and finite differences leave it as drawn. A layer with several outputs
(``case.outputs``, an LSTM's ``h_next, c_next``) gets one upstream gradient each,
``backward(dh_next, dc_next)``; finite differences are of ``sum_k sum dout_k * out_k``; outputs
in another order, or a gradient that ignores an upstream one, fail with what happened.

On the way it records ``dout`` modified in place or returned itself, inputs
modified, a second ``backward`` that differs from the first (with how), warnings
(each located at the input values that cause it, for elementwise layers; a flood
of distinct warnings from one call is a failure), non-finite results where the
reference is finite, the convention at kinks (a note, not a failure), and for loss
layers a backward that ignores ``dout`` (a note: the book's SoftmaxWithLoss does).

Whatever the class does — raise, call ``sys.exit``, return a str, a dict or None,
the wrong number of gradients or the wrong shapes — is an error line in the
report, never an exception. ``ok`` is False when forward or gradients are wrong;
with ``strict=True`` also for in-place changes, a differing second call and
warnings. Process-level escapes (``os._exit``, a crash, a hang) need a separate
process: :mod:`numeric.sandbox`.

>>> from numeric.cases import CASES, HAND_CODED
>>> from numeric import generated
>>> verify_class(HAND_CODED["sigmoid"], CASES["sigmoid"], generated.Sigmoid).ok
True
"""
from __future__ import annotations

import numpy as np

from numeric.book_api import APIError, collect, detect
from numeric.fd import numerical_grad
from numeric.layercase import FLATTENED, SHAPES, LayerCase, dout_like, draw, input_sets
from numeric.report import FORWARD_RTOL, TOLERANCE, Report, format_at, tolerance as _tolerance
from numeric.watch import (FLOOD, NotAccepted, ReferenceFailure, UserError, call,
                           call_reference, capture, differs, distinct, flat_outputs, locate,
                           not_flattened, quiet, ignored, read_mask, read_outputs, takes,
                           wrong_order)
from numeric.watch import as_array as _array

__all__ = ["verify_class", "LayerCase", "Report", "SHAPES", "KINK_RADIUS", "TOLERANCE",
           "FORWARD_RTOL"]

KINK_RADIUS = 1e-3            # finite differences are not evaluated this close to a kink
FD_FLOAT32 = (1e-3, 1e-2, 1e-3)   # eps, rtol, atol: differences of a float32 forward
LOCATE = 3                    # warnings located by re-running single elements
MAX_WARNINGS = 20             # distinct warning lines in one report


def verify_class(cls, case: LayerCase, reference, *, strict: bool = False, seed: int = 0,
                 progress=None) -> Report:
    """Check ``cls`` against ``reference`` (a class with the same API) on ``case``.

    ``progress(text)`` is called before every call into ``cls`` (the sandbox uses it
    to say where a crash or a hang happened). Never raises for the class's bugs.
    """
    report = Report(name=case.name, strict=strict)
    run = _Run(cls, case, reference, report, np.random.default_rng(seed), progress)
    state = np.random.get_state()     # a book-style Dropout draws from the global RNG:
    np.random.seed(seed)              # seeded, a report is the same run after run
    try:
        try:
            run.user("constructor", cls, *run.weights_for(None), **run.kwargs)
        except UserError as exc:
            report.errors.append(str(exc))
            return report.finish()
        for params in case.params_list():      # stride=1, pad=0; stride=2, pad=1; ...
            run.kwargs, run.ref_kwargs = {**run.kwargs, **params}, {**run.ref_kwargs, **params}
            for label, values in input_sets(case, run.rng, params=params):
                if not run.attempt(label, lambda: run.check_set(label, values)):
                    continue
                shape = np.shape(values[case.inputs[0]])
                if shape not in report.shapes:
                    report.shapes.append(shape)
        if case.elementwise:
            run.attempt("at a kink", run.check_kinks)
    finally:
        np.random.set_state(state)
    return report.finish()


def _copies(arrays) -> list:
    return [a.copy() for a in arrays]


class _Run:
    """One verification: the class, the case, the reference, and what was seen."""

    def __init__(self, cls, case, reference, report, rng, progress):
        self.cls, self.case, self.reference = cls, case, reference
        self.report, self.rng, self.progress = report, rng, progress
        self.label, self.located = "", 0
        self.kwargs, self.ref_kwargs = dict(case.params), dict(case.params)
        if case.mask_attr:                                   # a seedable Dropout: same mask
            seed = int(rng.integers(2**31))
            for kwargs, c in ((self.kwargs, cls), (self.ref_kwargs, reference)):
                if takes(c, "seed"):
                    kwargs["seed"] = seed

    def weights_for(self, values) -> list:
        if values is None:       # the first, bare construction: any weights of any size
            sizes = self.case.size_sets()[0] if self.case.sizes else {}
            return [draw(self.case, w, self.case.shape_of(w, sizes), self.rng)
                    for w in self.case.weights]
        return [values[w] for w in self.case.weights]

    def user(self, phase: str, fn, *args, **kwargs):
        if self.progress is not None:
            self.progress(f"{phase} ({self.label})" if self.label else phase)
        return call(phase, fn, *args, **kwargs)

    def attempt(self, label: str, step) -> bool:
        """Run one step; False when the class does not take its input (a note, no shape)."""
        self.label = label
        try:
            step()
        except NotAccepted as exc:
            self.report.note_once(self.report.notes, str(exc))
            return False
        except UserError as exc:
            if not any(e.startswith(f"{exc} (") for e in self.report.errors):
                self.report.errors.append(f"{exc} ({label})")
        except ReferenceFailure as exc:
            self.report.note_once(self.report.errors, f"{exc} ({label}; a bug on derive's side)")
        return True

    def api(self, layer, weights, phase="constructor"):
        """Where ``layer`` keeps its weight gradients (:mod:`numeric.book_api`), reported."""
        try:
            api = detect(layer, self.case.weights, weights)
        except APIError as exc:
            raise UserError(f"{phase}: {exc}") from None
        if not self.report.api:
            self.report.api = api.name
            if self.case.weights or api.name == "book2":
                self.report.api_detail = api.describe()
        return api

    # --- one input set ---------------------------------------------------------------

    def check_set(self, label: str, values: dict) -> None:
        case, report = self.case, self.report
        inputs = [values[n] for n in case.inputs]
        free = [values[n] for n in case.differentiated]      # not the index inputs
        weights, consts = self.weights_for(values), [values[n] for n in case.consts]
        where = self._where(values)
        given = _copies(weights)
        layer = self.user("constructor", self.cls, *given, **self.kwargs)
        api = self.api(layer, given)
        args = _copies(inputs + consts)
        optional = label.endswith(FLATTENED)
        with capture() as caught:
            try:
                out = self.user("forward", layer.forward, *args)
            except UserError as exc:
                if optional:
                    raise NotAccepted(not_flattened(case, args, exc)) from None
                raise
        self._warnings(caught, "forward", values)
        outs = read_outputs("forward", out, case.outputs)
        mask = self._mask(layer, inputs[0], outs[0]) if case.mask_attr else None
        given = _copies(weights)
        ref = call_reference("constructor", self.reference, *given, **self.ref_kwargs)
        try:
            ref_api = detect(ref, case.weights, given)
        except APIError as exc:
            raise ReferenceFailure(str(exc)) from None
        with quiet():
            ref_raw = call_reference("forward", ref.forward, *_copies(inputs + consts))
        ref_outs = read_outputs("the reference's forward", ref_raw, case.outputs, reference=True)
        if mask is not None:
            setattr(ref, case.mask_attr, mask.copy())
            ref_outs = [inputs[0] * mask]
        swapped = wrong_order(outs, ref_outs, case.outputs)
        if swapped:
            raise UserError(swapped)
        for name, o, r in zip(case.output_names, outs, ref_outs):
            if o.shape != r.shape:
                what = f"forward's {name} has shape" if case.outputs else "forward returned shape"
                if optional:
                    raise NotAccepted(not_flattened(case, args, f"{what} {o.shape}, expected "
                                                      f"{r.shape}"))
                raise UserError(f"{what} {o.shape}, expected {r.shape}")
            rtol, atol, _ = _tolerance(o, r, forward=True)
            for i in report.forward.add(name, o, r, where, label=label, rtol=rtol, atol=atol):
                report.note_once(report.nonfinite, f"{name} = {o.reshape(-1)[i]} at "
                                                   f"{format_at(where, i, o.shape)}")

        douts = [np.array(1.0)] if case.loss else [dout_like(r, self.rng) for r in ref_outs]
        dout_args = [1.0] if case.loss else _copies(douts)
        with capture() as caught:
            raw = self.user("backward", layer.backward, *dout_args)
        self._warnings(caught, "backward", values)
        grads = self._grads("backward", raw, layer, free, weights, api)
        replaced = api.replaced(layer)
        if replaced:
            report.note_once(report.replaced_grads, replaced)
        if not case.loss:
            returned = raw if isinstance(raw, (tuple, list)) else [raw]
            report.aliased_dout |= any(isinstance(g, np.ndarray) and np.shares_memory(g, d)
                                       for g in returned for d in dout_args)
            report.mutated_dout |= any(not np.array_equal(a, d, equal_nan=True)
                                       for a, d in zip(dout_args, douts))
        report.mutated_inputs |= any(not np.array_equal(a, x, equal_nan=True)
                                     for a, x in zip(args, inputs + consts))
        with quiet():
            ref_raw = call_reference("backward", ref.backward,
                                     *([1.0] if case.loss else _copies(douts)))
        try:
            expected = self._grads("the reference's backward", ref_raw, ref, free, weights,
                                   ref_api)
        except UserError as exc:
            raise ReferenceFailure(str(exc)) from None

        at_kink, near_kink = self._kink_masks(free)
        for (name, g), (_, e) in zip(grads, expected):
            e = np.asarray(e, dtype=np.float64)
            rtol, atol, kind = _tolerance(g, e)
            report.note_once(report.dtypes, kind)
            use = ~at_kink if g.shape == at_kink.shape else None
            for i in report.backward.add(name, g, e, where, mask=use, label=label,
                                         rtol=rtol, atol=atol):
                report.note_once(report.nonfinite, f"{name} = {g.reshape(-1)[i]} at "
                                                   f"{format_at(where, i, g.shape)}")
        grads = [(n, np.array(g, copy=True)) for n, g in grads]   # later calls may reuse them
        self._second_call(layer, douts, grads, free, weights, api)
        self._finite_differences(values, weights, consts, mask, douts, grads, near_kink, where,
                                 low=_tolerance(outs[0], outs[0])[2] == "float32")
        if case.outputs:
            self._ignored(layer, ref, douts, grads, expected, free, weights, (api, ref_api))

    def _ignored(self, layer, ref, douts, grads, expected, free, weights, apis) -> None:
        """Each upstream gradient redrawn alone (:func:`numeric.watch.ignored`)."""
        def redraw(k):
            other = _copies(douts)
            other[k] = dout_like(douts[k], self.rng)
            phase = f"backward (d{self.case.outputs[k]} redrawn)"
            with quiet():
                mine = self._grads(phase, self.user(phase, layer.backward, *_copies(other)),
                                   layer, free, weights, apis[0])
                raw = call_reference("backward", ref.backward, *_copies(other))
            return mine, self._grads("the reference's backward", raw, ref, free, weights,
                                     apis[1])
        for message in ignored(self.case.outputs, grads, expected, redraw):
            if not any(m.startswith(message) for m in self.report.ignored_douts):
                self.report.ignored_douts.append(f"{message} ({self.label})")

    def _grads(self, phase, raw, layer, inputs, weights, api=None) -> list:
        return collect(phase, raw, layer, self.case, inputs, weights, api)

    def _second_call(self, layer, douts, grads, inputs, weights, api) -> None:
        case, report = self.case, self.report
        with quiet():
            raw = self.user("backward (second call)", layer.backward,
                            *([1.0] if case.loss else _copies(douts)))
        again = self._grads("backward (second call)", raw, layer, inputs, weights, api)
        for (name, a), (_, g) in zip(again, grads):
            a, g = np.asarray(a, dtype=np.float64), np.asarray(g, dtype=np.float64)
            if a.shape == g.shape and np.array_equal(a, g, equal_nan=True):
                continue
            report.mutated_cache = True
            if not report.second_call:      # the first difference says it
                report.second_call.append(f"{differs(name, a, g)} ({self.label})")
        if case.loss and takes(layer.backward, None):
            with quiet():
                try:
                    twice = layer.backward(2.0)
                except Exception:  # the user's code; the dout = 1 checks decide
                    twice = None
            first = np.asarray(grads[0][1], dtype=np.float64)
            if isinstance(twice, np.ndarray) and twice.shape == first.shape \
                    and np.allclose(twice, first) and np.any(first != 0):
                report.note_once(report.notes, "backward ignores dout (checked with dout = 1 "
                                 "only, right when the loss is the final node)")

    def _finite_differences(self, values, weights, consts, mask, douts, grads, near_kink,
                            where, low=False) -> None:
        names, outputs = self.case.differentiated, self.case.outputs   # an index stays put
        dout = flat_outputs(douts) if outputs else douts[0]    # L = sum_k sum dout_k * out_k
        if mask is not None:
            def forward(x, *ws):
                return x * mask
        else:
            def forward(*xs):
                moved = dict(zip(names, xs))
                args = [moved[k] if k in moved else values[k].copy() for k in self.case.inputs]
                layer = self.cls(*xs[len(names):], **self.kwargs)
                out = layer.forward(*args, *_copies(consts))
                return flat_outputs(read_outputs("forward", out, outputs)) if outputs else out
        eps, rtol, atol = FD_FLOAT32 if low else (None, None, None)
        with quiet():
            numeric = self.user("forward (finite differences)", numerical_grad, forward,
                                [values[k] for k in names] + weights, dout,
                                **({"eps": eps} if low else {}))
        for (name, g), fd in zip(grads, numeric):
            use = np.isfinite(fd)
            if g.shape == near_kink.shape:
                use &= ~near_kink
            self.report.fd.add(name, g, fd, where, mask=use, label=self.label, rtol=rtol,
                               atol=atol)

    # --- details ---------------------------------------------------------------------------

    def _where(self, values):
        """flat index → the input values there (elementwise), or {} (the index is shown)."""
        if not self.case.elementwise:
            return lambda i: {}
        flat = {n: np.asarray(values[n]).reshape(-1) for n in self.case.inputs}
        return lambda i: {n: float(x[i]) if x.size > i else float(x[0]) for n, x in flat.items()}

    def _mask(self, layer, x, out) -> np.ndarray:
        attr = self.case.mask_attr
        mask = _array("forward", getattr(layer, attr, None), f"self.{attr}")
        ratio = getattr(layer, "dropout_ratio", self.kwargs.get("dropout_ratio"))
        mask, note = read_mask(mask, x, out, attr, ratio)
        if note:
            self.report.note_once(self.report.notes, note)
        return mask

    def _kink_masks(self, inputs) -> tuple:
        shape = np.shape(inputs[0]) if inputs else (0,)     # (0,): only index inputs
        at, near = np.zeros(shape, bool), np.zeros(shape, bool)
        for k in self.case.kinks:
            for x in inputs:
                at |= np.broadcast_to(x == k, shape)
                near |= np.broadcast_to(np.abs(x - k) < KINK_RADIUS, shape)
        return at, near

    def _warnings(self, caught, phase, values) -> None:
        report = self.report
        messages, count = distinct(caught)
        if count > FLOOD:
            many = f"{count}" if count <= 10 * FLOOD else f"more than {10 * FLOOD}"
            report.note_once(report.errors, f"{phase} emitted {many} distinct warnings in one "
                             f"call, a flood (the first: {messages[0][:100]})")
            return
        for message in messages:
            if len(report.warnings) >= MAX_WARNINGS:
                report.note_once(report.warnings, "more warnings, not listed")
                return
            spots = self._locate(phase, message, values) if self.located < LOCATE else []
            place = f"at {'; '.join(spots)}" if spots else f"({self.label})"
            report.note_once(report.warnings, f"{message} in {phase} {place}")

    def _locate(self, phase, message, values) -> list:
        """Input values whose elementwise re-run reproduces ``message`` (elementwise layers)."""
        if not self.case.elementwise:
            return []
        self.located += 1
        return locate(self.cls, self.kwargs, self.case.inputs, phase, message, values)

    def check_kinks(self) -> None:
        """Compare the gradient exactly at each kink with the reference's convention."""
        case = self.case
        for k in case.kinks:
            for i, name in enumerate(case.inputs):
                values = {n: draw(case, n, (1,), self.rng) for n in case.names}
                values[name] = np.array([k], dtype=np.float64)
                inputs = [values[n] for n in case.inputs]
                with quiet():
                    ref = call_reference("constructor", self.reference, **self.ref_kwargs)
                    call_reference("forward", ref.forward, *_copies(inputs))
                    ones = [np.ones(1)] * len(case.output_names)   # one per output
                    ref_raw = call_reference("backward", ref.backward, *ones)
                    try:
                        expected = self._grads("the reference", ref_raw, ref, inputs, [],
                                               None)[i][1]
                    except UserError as exc:
                        raise ReferenceFailure(str(exc)) from None
                    layer = self.user("constructor", self.cls, **self.kwargs)
                    self.user("forward", layer.forward, *_copies(inputs))
                    raw = self.user("backward", layer.backward, *_copies(ones))
                got = self._grads("backward", raw, layer, inputs, [], None)[i][1]
                got_v = float(np.asarray(got, dtype=np.float64).reshape(-1)[0])
                exp_v = float(np.asarray(expected, dtype=np.float64).reshape(-1)[0])
                if not (got_v == exp_v or abs(got_v - exp_v) <= 1e-12 * max(1.0, abs(exp_v))):
                    self.report.note_once(
                        self.report.kink_notes, f"at {name}={k:g} your gradient d{name} is "
                        f"{got_v:.6g}, the reference (book convention) gives {exp_v:.6g}")
