"""A two-layer LSTM language model (volume 2's Rnnlm, one LSTM layer more), NumPy only.

    TimeEmbedding - LSTM x T - LSTM x T - Affine per position - SoftmaxWithLoss over N*T

Like numeric.nets, the model defines no layer formula itself: it takes its layer
classes from the module(s) given as ``layers`` (numeric.matrix_generated, the classes
derive exported, by default).  Each of the four roles is filled from the first module
that has either its time class or its step class:

=============  =======================  ======================================
role           time class (used as is)   step class (wrapped here)
=============  =======================  ======================================
embedding      ``TimeEmbedding``         none
recurrent      ``TimeLSTM``              ``LSTM``, looped over T by :class:`TimeLoop`
affine         ``TimeAffine``            ``Affine``, on the (N*T, H) reshape
loss           ``TimeSoftmaxWithLoss``   ``SoftmaxWithLoss``, over the N*T rows
=============  =======================  ======================================

So ``layers=numeric.matrix_generated`` (the default) runs derive's exported step
classes under this module's loop; ``layers=numeric.time_reference`` runs the
book-style hand-coded TimeLSTM, TimeEmbedding, TimeAffine and TimeSoftmaxWithLoss;
``layers=(numeric.nlp_reference, numeric.time_reference)`` runs the hand-coded step
classes under this module's loop (TimeEmbedding then comes from time_reference,
since nlp_reference has only the step Embedding).

Both gradient APIs are read: volume 1's attributes (``dW``, ``db``; ``dWx``, ``dWh``,
``db``) and volume 2's ``grads`` lists.  Every layer holds the very arrays of
``net.params``, so an optimizer's in-place update is seen by the next forward pass.

The reference loss puts 1e-7 inside the log (the book's); its backward is the
gradient without it, so the two builds agree in gradients to rounding, and in loss
only to about 1e-7 / (the probability of the label).

>>> net = LSTMLM(vocab_size=5, wordvec_size=3, hidden_size=2)
>>> sorted((k, v.shape) for k, v in net.params.items())[:3]
[('affine_W', (2, 5)), ('affine_b', (5,)), ('embed_W', (5, 3))]
>>> xs = np.array([[0, 1, 2], [3, 4, 0]])
>>> net.predict(xs).shape
(2, 3, 5)
>>> loss = net.loss(xs, np.roll(xs, -1, axis=1))
>>> sorted(net.gradient()) == sorted(net.params)
True
"""
from __future__ import annotations

import inspect
import math

import numpy as np

import numeric.matrix_generated

__all__ = ["LSTMLM", "TimeLoop", "TimeRows", "RowsLoss", "PARAM_NAMES", "lm_classes",
           "clip_grads"]

DEFAULT_LAYERS = (numeric.matrix_generated,)
ROLES = (("embedding", "TimeEmbedding", None),
         ("recurrent", "TimeLSTM", "LSTM"),
         ("affine", "TimeAffine", "Affine"),
         ("loss", "TimeSoftmaxWithLoss", "SoftmaxWithLoss"))
PARAM_NAMES = ("embed_W", "lstm1_Wx", "lstm1_Wh", "lstm1_b", "lstm2_Wx", "lstm2_Wh", "lstm2_b",
               "affine_W", "affine_b")


def layer_grads(layer, attrs):
    """The layer's parameter gradients: its volume 2 ``grads`` list if it has one of the
    right length, else its volume 1 attributes ``attrs`` (for example dWx, dWh, db)."""
    grads = getattr(layer, "grads", None)
    if isinstance(grads, list) and len(grads) == len(attrs):
        return list(grads)
    found = [getattr(layer, a, None) for a in attrs]
    if any(g is None for g in found):
        raise AttributeError(f"{type(layer).__name__} has no gradients {attrs} (run backward first)")
    return found


def _state_count(cell_cls) -> int:
    """How many recurrent states the cell's forward takes after x: 2 for LSTM (h, c), 1 for
    RNN or GRU (h)."""
    params = list(inspect.signature(cell_cls.forward).parameters.values())[1:]   # drop self
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    count = len(positional) - 1
    if count not in (1, 2):
        raise TypeError(f"{cell_cls.__name__}.forward takes {len(positional)} inputs; a recurrent "
                        "cell takes (x, h_prev) or (x, h_prev, c_prev)")
    return count


class TimeLoop:
    """A step cell (``cell_cls(Wx, Wh, b)``) run over T steps, as the book's TimeLSTM does.

    forward(xs (N, T, D)) -> hs (N, T, H), one new cell per step, each fed the h (and c)
    of the step before; they start from zeros, or, when ``stateful``, from the state the
    last call ended in (``set_state`` sets it, ``reset_state`` drops it).  The cell may
    be an LSTM (forward(x, h, c) -> (h, c); backward(dh, dc) -> (dx, dh, dc)) or a
    one-state cell such as RNN or GRU (forward(x, h) -> h; backward(dh) -> (dx, dh)).

    backward(dhs (N, T, H)) -> dxs (N, T, D): runs t = T-1..0, feeding step t
    dhs[:, t] plus the dh from step t+1 (and that step's dc), and adds the steps'
    weight gradients into ``dWx``, ``dWh``, ``db``.  ``dh`` is the gradient with respect
    to the initial h; ``dc`` (LSTM) the one with respect to the initial c, which, as in
    the book, is not propagated any further.
    """

    def __init__(self, cell_cls, Wx, Wh, b, stateful=False):
        self.cell_cls = cell_cls
        self.states = _state_count(cell_cls)
        self.Wx, self.Wh, self.b = Wx, Wh, b
        self.stateful = stateful
        self.cells = None
        self.h = self.c = None
        self.dh = self.dc = None
        self.dWx = self.dWh = self.db = None

    def set_state(self, h, c=None):
        self.h, self.c = h, c

    def reset_state(self):
        self.h = self.c = None

    def forward(self, xs):
        N, T = xs.shape[:2]
        H = self.Wh.shape[0]
        dtype = np.result_type(xs.dtype, self.Wx.dtype)
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype=dtype)
        if self.states == 2 and (not self.stateful or self.c is None):
            self.c = np.zeros((N, H), dtype=dtype)
        self.cells, hs = [], []
        for t in range(T):
            cell = self.cell_cls(self.Wx, self.Wh, self.b)
            if self.states == 2:
                self.h, self.c = cell.forward(xs[:, t], self.h, self.c)
            else:
                self.h = cell.forward(xs[:, t], self.h)
            hs.append(self.h)
            self.cells.append(cell)
        return np.stack(hs, axis=1)

    def backward(self, dhs):
        T = dhs.shape[1]
        dxs = [None] * T
        dh = np.zeros_like(dhs[:, 0])
        dc = np.zeros_like(dh) if self.states == 2 else None
        totals = None
        for t in reversed(range(T)):
            cell = self.cells[t]
            if self.states == 2:
                dxs[t], dh, dc = cell.backward(dhs[:, t] + dh, dc)
            else:
                dxs[t], dh = cell.backward(dhs[:, t] + dh)
            grads = layer_grads(cell, ("dWx", "dWh", "db"))
            if totals is None:
                totals = [np.array(g, copy=True) for g in grads]
            else:
                for acc, g in zip(totals, grads):
                    acc += g
        self.dWx, self.dWh, self.db = totals
        self.dh, self.dc = dh, dc
        return np.stack(dxs, axis=1)


class TimeRows:
    """A row layer (such as Affine) applied at every position: (N, T, H) is reshaped to
    (N*T, H), passed through, and the result reshaped to (N, T, M); backward likewise."""

    def __init__(self, layer):
        self.layer = layer
        self.shape = None

    def forward(self, xs):
        N, T = self.shape = xs.shape[:2]
        out = self.layer.forward(xs.reshape(N * T, -1))
        return out.reshape(N, T, -1)

    def backward(self, dout):
        N, T = self.shape
        dx = self.layer.backward(dout.reshape(N * T, -1))
        return dx.reshape(N, T, -1)


class RowsLoss:
    """A row loss (such as SoftmaxWithLoss) over all N*T positions: scores (N, T, V) become
    N*T rows, labels (N, T) N*T indices (one-hot (N, T, V): N*T rows); the loss is the
    row loss's mean over them, and backward(dout=1) returns (N, T, V)."""

    def __init__(self, layer):
        self.layer = layer
        self.shape = None

    def forward(self, xs, ts):
        N, T, V = self.shape = xs.shape
        ts = np.asarray(ts)
        ts = ts.reshape(N * T, V) if ts.ndim == 3 else ts.reshape(N * T)
        return self.layer.forward(xs.reshape(N * T, V), ts)

    def backward(self, dout=1):
        return self.layer.backward(dout).reshape(self.shape)


def lm_classes(layers=None) -> dict:
    """role -> (class, True when it is a time class, used as is) for the four roles, each
    from the first of the given modules (one module or a sequence) that has the role's
    time class or step class (the time class is preferred within a module)."""
    modules = DEFAULT_LAYERS if layers is None else layers
    if not isinstance(modules, (list, tuple)):
        modules = (modules,)
    found = {}
    for role, time_name, step_name in ROLES:
        for module in modules:
            if hasattr(module, time_name):
                found[role] = (getattr(module, time_name), True)
                break
            if step_name and hasattr(module, step_name):
                found[role] = (getattr(module, step_name), False)
                break
        else:
            names = ", ".join(getattr(m, "__name__", repr(m)) for m in modules)
            wanted = time_name + (f" or {step_name}" if step_name else "")
            raise AttributeError(f"no {wanted} for the {role} in {names}")
    return found


class LSTMLM:
    """TimeEmbedding - LSTM - LSTM - Affine at each position - SoftmaxWithLoss over N*T.

    Weights as the book's Rnnlm: the embedding is standard normals / 100, the LSTM and
    Affine matrices standard normals / sqrt(fan-in) (Xavier), the biases zeros, drawn
    from ``np.random.default_rng(seed)`` in ``dtype``; or ``params`` (a dict with the
    keys of PARAM_NAMES) gives them, copied into ``dtype``.
    """

    def __init__(self, vocab_size, wordvec_size, hidden_size, layers=None, dtype=np.float64,
                 seed=0, stateful=False, params=None):
        V, D, H = vocab_size, wordvec_size, hidden_size
        self.sizes = (V, D, H)
        self.classes = lm_classes(layers)
        self.dtype = np.dtype(dtype)
        self.stateful = stateful
        shapes = {"embed_W": (V, D),
                  "lstm1_Wx": (D, 4 * H), "lstm1_Wh": (H, 4 * H), "lstm1_b": (4 * H,),
                  "lstm2_Wx": (H, 4 * H), "lstm2_Wh": (H, 4 * H), "lstm2_b": (4 * H,),
                  "affine_W": (H, V), "affine_b": (V,)}
        if params is None:
            rng = np.random.default_rng(seed)
            params = {}
            for k in PARAM_NAMES:
                s = shapes[k]
                if k == "embed_W":
                    params[k] = rng.standard_normal(s) / 100
                elif len(s) == 2:
                    params[k] = rng.standard_normal(s) / math.sqrt(s[0])
                else:
                    params[k] = np.zeros(s)
        self.params = {}
        for k in PARAM_NAMES:
            value = np.array(params[k], dtype=self.dtype)      # a copy, owned by the net
            if value.shape != shapes[k]:
                raise ValueError(f"{k} has shape {value.shape}, the net needs {shapes[k]}")
            self.params[k] = value
        self._build()

    def _build(self, states=None):
        """(Re)create the layers around the current arrays of self.params."""
        p, C = self.params, self.classes
        embed_cls, _ = C["embedding"]
        self.embed = embed_cls(p["embed_W"])
        self.lstms = []
        rec_cls, is_time = C["recurrent"]
        for n in ("1", "2"):
            args = (p["lstm" + n + "_Wx"], p["lstm" + n + "_Wh"], p["lstm" + n + "_b"])
            if is_time:
                self.lstms.append(rec_cls(*args, stateful=self.stateful))
            else:
                self.lstms.append(TimeLoop(rec_cls, *args, stateful=self.stateful))
        affine_cls, is_time = C["affine"]
        affine = affine_cls(p["affine_W"], p["affine_b"])
        self.affine = affine if is_time else TimeRows(affine)
        loss_cls, is_time = C["loss"]
        self.loss_layer = loss_cls() if is_time else RowsLoss(loss_cls())
        if states is not None:
            self.set_states(states)

    def states(self):
        """The (h, c) each LSTM layer would start its next stateful call from."""
        return [(layer.h, layer.c) for layer in self.lstms]

    def set_states(self, states):
        for layer, (h, c) in zip(self.lstms, states):
            layer.set_state(h, c)

    def reset_state(self):
        for layer in self.lstms:
            layer.reset_state()

    def predict(self, xs):
        """The scores (N, T, V) for the word ids xs (N, T), before the softmax."""
        out = self.embed.forward(xs)
        for layer in self.lstms:
            out = layer.forward(out)
        return self.affine.forward(out)

    def loss(self, xs, ts):
        """Mean cross-entropy over the N*T positions of softmax(scores) against ts (N, T)."""
        return self.loss_layer.forward(self.predict(xs), ts)

    def backward(self, dout=1):
        """Backpropagation from the last ``loss`` call; the layers keep the gradients."""
        d = self.loss_layer.backward(dout)
        d = self.affine.backward(d)
        for layer in reversed(self.lstms):
            d = layer.backward(d)
        self.embed.backward(d)

    def gradient(self, xs=None, ts=None):
        """A dict (keys PARAM_NAMES) of copies of the loss's gradients: backward from the
        last ``loss`` call, or from ``loss(xs, ts)`` first when they are given."""
        if xs is not None:
            self.loss(xs, ts)
        self.backward()
        grads = {"embed_W": layer_grads(self.embed, ("dW",))[0]}
        for n, layer in zip(("1", "2"), self.lstms):
            for name, g in zip(("Wx", "Wh", "b"), layer_grads(layer, ("dWx", "dWh", "db"))):
                grads["lstm" + n + "_" + name] = g
        inner = self.affine.layer if isinstance(self.affine, TimeRows) else self.affine
        grads["affine_W"], grads["affine_b"] = layer_grads(inner, ("dW", "db"))
        return {k: np.array(grads[k], copy=True) for k in PARAM_NAMES}

    def numerical_gradient(self, xs, ts, h=1e-5):
        """Central differences (L(p + h) - L(p - h)) / 2h for every parameter entry, in
        float64 whatever the net's dtype, each evaluation from the same starting state
        (a stateful net's h and c are restored before each one).  The net's own arrays and
        state are left as they were (its layers are rebuilt, so call ``loss`` again before
        ``gradient``).  Returns a dict of float64 arrays."""
        saved, states = self.params, self.states()
        as64 = [(None if a is None else np.array(a, dtype=np.float64)) for s in states for a in s]
        states64 = [tuple(as64[i:i + 2]) for i in range(0, len(as64), 2)]
        self.params = {k: np.array(v, dtype=np.float64) for k, v in saved.items()}
        self._build(states64)
        try:
            grads = {}
            for key in PARAM_NAMES:
                p = self.params[key]
                g = np.zeros_like(p)
                for idx in np.ndindex(p.shape):
                    old = p[idx]
                    p[idx] = old + h
                    self.set_states(states64)
                    plus = float(self.loss(xs, ts))
                    p[idx] = old - h
                    self.set_states(states64)
                    minus = float(self.loss(xs, ts))
                    p[idx] = old
                    g[idx] = (plus - minus) / (2 * h)
                grads[key] = g
            return grads
        finally:
            self.params = saved
            self._build(states)


def clip_grads(grads, max_norm):
    """Scale every gradient in the dict in place so that their joint L2 norm is at most
    max_norm (the book's clip_grads); returns the norm before clipping."""
    total = math.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
    rate = max_norm / (total + 1e-6)
    if rate < 1:
        for g in grads.values():
            g *= rate
    return total
