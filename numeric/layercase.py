"""What the verifier needs to know about one layer: :class:`LayerCase`, plain JSON-ready data.

A case names the layer's class and says how to call it, book style (chapter 5 of
*Deep Learning from Scratch*)::

    layer = Class(*weights, **params)          # Affine(W, b), LeakyRelu(alpha=0.01)
    out = layer.forward(*inputs, *consts)      # SoftmaxWithLoss.forward(x, t)
    grads = layer.backward(dout)               # one array, or a tuple in input order
    h_next, c_next = layer.forward(x, h_prev, c_prev)   # several outputs (an LSTM's) ...
    grads = layer.backward(dh_next, dc_next)   # ... one upstream gradient each, in order
    dW, db = layer.dW, layer.db                # weight gradients: attributes "d" + name

and how to draw its arguments:

* ``shapes`` maps a name to a shape template of ints and dimension names
  (``("N", "D")``; ``()`` is a scalar); ``sizes`` gives the dimension sizes to
  try (one with ``N = 1`` is always among them, see :meth:`LayerCase.size_sets`).
  An empty ``shapes`` means an **elementwise** layer: every input has the same,
  any shape; the verifier tries ``()``, ``(7,)``, ``(3, 4)``, ``(2, 3, 5)`` and the
  ``edges`` (and ``kinks``) of the domain.
* ``kinds`` says how a name is drawn: ``"domain"`` uniform in ``domain`` (the
  default for inputs), ``"normal"`` standard normal (the default for weights and
  consts), ``"positive"`` uniform in [0.5, 2], ``"onehot"`` rows of one-hot labels.
* ``outputs``: the names of a layer's several outputs, in the order forward returns them
  (``("h_next", "c_next")``); backward takes one upstream gradient per output, named
  ``"d" + name``, in that order. Empty (the default): one output, ``out``.
* ``loss``: the output is a scalar loss, ``backward`` is called with ``dout = 1``
  (the book's ``backward(dout=1)``).
* ``flatten``: the class may also take an ``x`` of rank 4 and flatten it to (N, D)
  (volume 1's Affine, BatchNormalization); the verifier adds such an input, labelled
  ``... flattened by the layer`` (:data:`FLATTENED`). A class that does not accept it
  (volume 2's Affine) gets a note, not a failure. Inputs of any rank other than that
  (``("N", "T", "D")``, ``("N", "C", "H", "W")``) are drawn as their templates say.
* ``mask_attr``: the class draws its own mask in ``forward`` (Dropout) and keeps it
  in this attribute; the expected output is ``x * mask`` and the reference's
  backward runs with the same mask. The mask holds 0 and 1, or 0 and one scale
  (inverted dropout: 1/(1 − p) in training); a 0/1 mask with ``out = x * mask / (1 − p)``
  is read as the scaled one. A ``seed`` keyword is passed when the
  constructor takes one, so a report is the same run after run.

The reference implementation is not part of the case: it is a class with the same
API (derive's exported code), given next to it (:func:`numeric.verify.verify_class`,
:mod:`numeric.sandbox`).

>>> case = LayerCase("affine", "Affine", shapes={"x": ("N", "D"), "W": ("D", "M"), "b": ("M",)},
...                  weights=("W", "b"), sizes=({"N": 4, "D": 3, "M": 2},))
>>> [s["N"] for s in case.size_sets()]
[1, 4]
>>> case.shape_of("W", {"N": 4, "D": 3, "M": 2})
(3, 2)
>>> LayerCase.from_dict(json.loads(json.dumps(case.to_dict()))) == case
True
>>> pool = LayerCase("pooling", "Pooling", shapes={"x": ("N", "H")}, params={"k": 2, "s": 2},
...                  windows={"H": ("k", "s", 0)}, sizes=({"N": 2, "H": 5},))
>>> [s["H"] for s in pool.size_sets()], pool.size_sets({"k": 3, "s": 2})[0]["H"]
([6, 6], 5)
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["LayerCase", "CaseError", "DEFAULT_EDGES", "KINDS", "SHAPES", "FLATTENED", "draw",
           "input_sets", "dout_like"]

DEFAULT_EDGES = (0.0, 1e-8, -1e-8, 1.0, -1.0, 50.0, -50.0, 1000.0, -1000.0)
KINDS = ("domain", "normal", "positive", "onehot", "index")
SHAPES: tuple = ((), (7,), (3, 4), (2, 3, 5))     # tried for elementwise layers
FLATTENED = "flattened by the layer"              # the end of the rank-4 input set's label


class CaseError(ValueError):
    """A case that does not describe a layer the verifier can call."""


@dataclass
class LayerCase:
    """One layer, as the verifier calls it (see the module docstring)."""

    name: str
    class_name: str
    inputs: tuple = ("x",)
    shapes: dict = field(default_factory=dict)
    weights: tuple = ()
    consts: tuple = ()
    kinds: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    loss: bool = False
    domain: tuple = (-5.0, 5.0)
    edges: tuple = DEFAULT_EDGES
    kinks: tuple = ()
    sizes: tuple = ()
    flatten: bool = False
    mask_attr: str | None = None
    param_sets: tuple = ()
    windows: dict = field(default_factory=dict)
    bounds: dict = field(default_factory=dict)
    outputs: tuple = ()

    def __post_init__(self):
        self.inputs, self.weights, self.consts = (tuple(self.inputs), tuple(self.weights),
                                                  tuple(self.consts))
        self.outputs = tuple(self.outputs)
        self.shapes = {k: tuple(v) for k, v in self.shapes.items()}
        self.domain, self.edges, self.kinks = (tuple(float(v) for v in self.domain),
                                               tuple(float(v) for v in self.edges),
                                               tuple(float(v) for v in self.kinks))
        self.sizes = tuple(dict(s) for s in self.sizes)
        self.param_sets = tuple(dict(p) for p in self.param_sets)
        self.windows = {k: tuple(v) for k, v in self.windows.items()}
        self.validate()

    @property
    def elementwise(self) -> bool:
        return not self.shapes

    @property
    def output_names(self) -> tuple:
        """The outputs as the report names them: ``outputs``, or ``("out",)``."""
        return self.outputs or ("out",)

    @property
    def names(self) -> tuple:
        return self.inputs + self.weights + self.consts

    def kind(self, name: str) -> str:
        return self.kinds.get(name, "domain" if name in self.inputs else "normal")

    @property
    def differentiated(self) -> tuple:
        """The inputs backward returns gradients for: all but the index inputs."""
        return tuple(n for n in self.inputs if self.kind(n) != "index")

    def params_list(self) -> list:
        """The params of each run: ``params`` updated by each of ``param_sets``."""
        return [{**self.params, **p} for p in self.param_sets] or [dict(self.params)]

    def validate(self) -> None:
        names = self.names
        if not self.inputs:
            raise CaseError(f"{self.name}: a layer needs at least one input")
        if len(set(names)) != len(names):
            raise CaseError(f"{self.name}: a name is used twice among {', '.join(names)}")
        if not all(isinstance(n, str) and n.isidentifier() for n in names + (self.class_name,)):
            raise CaseError(f"{self.name}: names must be Python identifiers")
        unknown = [k for k in (*self.shapes, *self.kinds) if k not in names]
        if unknown:
            raise CaseError(f"{self.name}: {', '.join(unknown)} is not an input, weight or const")
        bad = {k: v for k, v in self.kinds.items() if v not in KINDS}
        if bad:
            raise CaseError(f"{self.name}: unknown kind {bad}; choose from {', '.join(KINDS)}")
        if self.shapes:
            missing = [n for n in names if n not in self.shapes]
            if missing:
                raise CaseError(f"{self.name}: no shape for {', '.join(missing)}")
            dims = {_dim_name(d) for v in self.shapes.values() for d in v if isinstance(d, str)}
            if dims and not self.sizes:
                raise CaseError(f"{self.name}: give sizes for {', '.join(sorted(dims))}")
            for s in self.sizes:
                if dims - set(s):
                    raise CaseError(f"{self.name}: sizes {s} leave out "
                                    f"{', '.join(sorted(dims - set(s)))}")
        elif self.weights or self.flatten:
            raise CaseError(f"{self.name}: weights and flatten need shapes")
        if self.domain[0] >= self.domain[1]:
            raise CaseError(f"{self.name}: domain {self.domain} is empty")
        self._validate_windows()
        self._validate_outputs()

    def _validate_outputs(self) -> None:
        outs = self.outputs
        if not outs:
            return
        if len(outs) < 2 or len(set(outs)) != len(outs) or not all(
                isinstance(n, str) and n.isidentifier() for n in outs):
            raise CaseError(f"{self.name}: outputs {outs}: two or more distinct identifiers "
                            "(leave it empty for one output)")
        clash = [n for n in outs if n in self.names]
        if clash:
            raise CaseError(f"{self.name}: output {', '.join(clash)} is also an input, weight "
                            "or const")
        if self.loss or self.mask_attr:
            raise CaseError(f"{self.name}: a loss or a dropout mask has one output, not "
                            f"{len(outs)}")

    def _validate_windows(self) -> None:
        dims = {_dim_name(d) for v in self.shapes.values() for d in v if isinstance(d, str)}
        index = {n for n in self.names if self.kind(n) == "index"}
        if index - set(self.bounds) or set(self.bounds) - index:
            raise CaseError(f"{self.name}: give a bound for each index name and only for them "
                            f"(index: {', '.join(sorted(index)) or 'none'}; bounds: "
                            f"{', '.join(sorted(self.bounds)) or 'none'})")
        if index and not self.shapes:
            raise CaseError(f"{self.name}: an index input needs shapes")
        if not self.differentiated and not self.weights:
            raise CaseError(f"{self.name}: nothing is differentiated (only index inputs)")
        for name, bound in self.bounds.items():
            if not (bound in dims or isinstance(bound, int) and bound >= 1):
                raise CaseError(f"{self.name}: bound {bound!r} of {name} is not a dimension")
        extra = {k for p in self.param_sets for k in p} - set(self.params)
        if extra:
            raise CaseError(f"{self.name}: param_sets name {', '.join(sorted(extra))}, which "
                            "params does not have")
        for dim, spec in self.windows.items():
            if dim not in dims or len(spec) != 3 or any(
                    not isinstance(v, int) and v not in dims and v not in self.params
                    for v in spec):
                raise CaseError(f"{self.name}: windows[{dim!r}] = {spec}: a dimension mapped "
                                "to (window, stride, pad), each a dimension, a param or an int")
        for params in self.params_list():
            for sizes in self.sizes:
                self._fit(sizes, params)

    # --- shapes ----------------------------------------------------------------------------

    def size_sets(self, params: dict | None = None) -> list:
        """The sizes to try, with ``N = 1`` first when N is a dimension and none has it;
        the ``windows`` dimensions fitted to ``params`` (the case's own by default)."""
        sets = [dict(s) for s in self.sizes]
        uses_n = any("N" in v for v in self.shapes.values())
        if uses_n and sets and not any(s.get("N") == 1 for s in sets):
            sets.insert(0, {**sets[0], "N": 1})
        params = self.params_list()[0] if params is None else params
        return [self._fit(s, params) for s in sets]

    def _fit(self, sizes: dict, params: dict) -> dict:
        """``sizes`` with each window dimension raised until its windows fit exactly."""
        sizes = dict(sizes)
        for dim, spec in self.windows.items():
            window, stride, pad = (v if isinstance(v, int) else sizes.get(v, params.get(v))
                                   for v in spec)
            if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                       for v in (window, stride, pad)) or window < 1 or stride < 1 or pad < 0:
                raise CaseError(f"{self.name}: windows of {dim}: window {window!r}, stride "
                                f"{stride!r}, pad {pad!r}: ints, window and stride >= 1, "
                                "pad >= 0")
            size = max(int(sizes[dim]), window - 2 * pad, 1)
            size += -(size + 2 * pad - window) % stride
            sizes[dim] = size
        return sizes

    def bound_of(self, name: str, sizes: dict) -> int:
        """The number of rows an index name picks from (its ``bounds`` entry)."""
        bound = self.bounds[name]
        return int(bound) if isinstance(bound, int) else int(sizes[bound])

    def shape_of(self, name: str, sizes: dict) -> tuple:
        return tuple(_dim_size(d, sizes) if isinstance(d, str) else int(d)
                     for d in self.shapes[name])

    def edge_values(self) -> np.ndarray:
        """Edges (and kinks) of the domain's sign: positive only when domain[0] > 0."""
        low = self.domain[0]
        keep = [e for e in (*self.edges, *self.kinks)
                if low < 0 or (e > 0 if low > 0 else e >= 0)]
        return np.array(list(dict.fromkeys(keep)), dtype=np.float64)

    # --- JSON ---------------------------------------------------------------------------

    def to_dict(self) -> dict:
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, data: dict) -> "LayerCase":
        """The case from :meth:`to_dict` output; unknown keys are an error."""
        known = set(cls.__dataclass_fields__)
        extra = set(data) - known
        if extra:
            raise CaseError(f"unknown case fields: {', '.join(sorted(extra))}")
        return cls(**data)


def _dim_name(d: str) -> str:
    """The dimension a shape entry names: ``"H"``, or ``"4*H"`` (four gates packed)."""
    return d.split("*")[1].strip() if "*" in d else d


def _dim_size(d: str, sizes: dict) -> int:
    if "*" in d:
        k, name = d.split("*")
        return int(k) * int(sizes[name.strip()])
    return int(sizes[d])


# --- drawing the arguments ---------------------------------------------------------------

def draw(case: LayerCase, name: str, shape, rng, sizes: dict | None = None) -> np.ndarray:
    """Random values of ``name`` (``sizes`` gives an index's bound)."""
    kind = case.kind(name)
    if kind == "index":
        idx = rng.integers(0, case.bound_of(name, sizes or {}), shape)
        flat = idx.reshape(-1)               # a view: at least one repeated row number
        if flat.size > 1 and np.unique(flat).size == flat.size:
            flat[-1] = flat[0]
        return idx
    if kind == "normal":
        return rng.standard_normal(shape)
    if kind == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "onehot":
        if not shape:
            return np.ones(())
        return np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]
    return np.asarray(rng.uniform(case.domain[0], case.domain[1], size=shape), dtype=np.float64)


def input_sets(case: LayerCase, rng, shapes=None, params: dict | None = None):
    """(label, {name: array}): random values per shape or size set, then edges / rank 4;
    the size sets fitted to ``params`` (:meth:`LayerCase.size_sets`), which the labels
    name when the case has ``param_sets``."""
    if case.elementwise:
        for shape in shapes or SHAPES:
            yield f"random, shape {shape}", {n: draw(case, n, shape, rng) for n in case.names}
        edges = case.edge_values()
        for name in case.inputs:
            values = {n: draw(case, n, edges.shape, rng) for n in case.names}
            values[name] = edges.copy()
            yield f"edge values of {name}", values
        return
    said = "; " + ", ".join(f"{k}={v}" for k, v in params.items()) \
        if case.param_sets and params else ""
    for sizes in case.size_sets(params):
        label = "sizes " + ", ".join(f"{k}={v}" for k, v in sizes.items()) + said
        yield label, {n: draw(case, n, case.shape_of(n, sizes), rng, sizes) for n in case.names}
    x = case.inputs[0]
    rows = tuple(case.shapes.get(x, ()))
    if case.flatten and len(rows) == 2 and all(isinstance(d, str) for d in rows):
        sizes = {**case.size_sets(params)[-1], rows[0]: 2, rows[1]: 12}   # (2, 12) as (2, 2, 3, 2)
        values = {n: draw(case, n, case.shape_of(n, sizes), rng, sizes) for n in case.names}
        values[x] = values[x].reshape(2, 2, 3, 2)
        yield f"{x} of shape (2, 2, 3, 2), {FLATTENED}", values


def dout_like(out: np.ndarray, rng) -> np.ndarray:
    """Random upstream gradient, |dout| in [0.5, 2] so a forgotten dout shows."""
    dout = rng.uniform(0.5, 2.0, out.shape) * rng.choice([-1.0, 1.0], out.shape)
    return np.asarray(dout, dtype=np.float64)  # a 0-d array, not a NumPy scalar, for shape ()
