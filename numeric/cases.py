"""``CASES``: one :class:`~numeric.layercase.LayerCase` per catalogue layer, and ``HAND_CODED``:
the book-style class written by hand for each (:mod:`numeric.reference`,
:mod:`numeric.matrix_reference`, :mod:`numeric.nlp_reference`, :mod:`numeric.conv_reference`,
:mod:`numeric.time_reference`).

A case is data only; what it is checked against is a class given next to it — the
exported (derived) code for a user's class, and for the catalogue table the
exported code and the hand-coded class against each other.

>>> CASES["log"].edge_values().tolist()
[1e-08, 1.0, 50.0, 1000.0]
>>> CASES["relu"].kinks
(0.0,)
>>> CASES["affine"].weights, CASES["softmax_with_loss"].loss
(('W', 'b'), True)
>>> CASES["lstm"].outputs
('h_next', 'c_next')
"""
from __future__ import annotations

from numeric import (conv_reference, matrix_reference, nlp_reference,
                     time_reference)
from numeric.layercase import DEFAULT_EDGES, LayerCase
from numeric.reference import PARAMS, REFERENCE

__all__ = ["CASES", "HAND_CODED", "ELEMENTWISE", "MATRIX", "BOOK2", "WINDOWED"]

# exp(x) is inf above ~709.78, which is the true value: keep its edges below that.
_EXP_EDGES = tuple(700.0 if e == 1000.0 else e for e in DEFAULT_EDGES)

# bce takes probabilities, 0 < x < 1: edges near both ends (t in random sets is 0 or 1,
# drawn as one-hot rows; its own edge set gives soft targets).
_PROBABILITY_EDGES = (1e-8, 1e-4, 0.5, 1.0 - 1e-4, 1.0 - 1e-8)

_OPTIONS: dict = {
    "mul": {"inputs": ("x", "y")},
    "add": {"inputs": ("x", "y")},
    "relu": {"kinks": (0.0,)},
    "leaky_relu": {"kinks": (0.0,)},
    "elu": {"kinks": (0.0,)},
    "exp": {"edges": _EXP_EDGES},
    "log": {"domain": (0.1, 5.0)},
    "relu6": {"kinks": (0.0, 6.0), "domain": (-8.0, 8.0)},
    "hardtanh": {"kinks": (-1.0, 1.0)},
    "hardsigmoid": {"kinks": (-3.0, 3.0)},
    "hardswish": {"kinks": (-3.0, 3.0)},
    "selu": {"kinks": (0.0,)},
    # celu, softsign: |x| and the branch switch at 0 leave the gradient continuous there, so
    # finite differences at x = 0 are kept on purpose: they check that the gradient is 1.
    # Losses: the target t is a second input. Their kinks (x = t, |x - t| = delta,
    # t*x = 1) are not points of one input; tests/test_catalogue_new.py checks them.
    "bce": {"inputs": ("x", "t"), "domain": (0.001, 0.999), "kinds": {"t": "onehot"},
            "edges": _PROBABILITY_EDGES},
    "bce_with_logits": {"inputs": ("x", "t"), "kinds": {"t": "onehot"}},
    "huber": {"inputs": ("x", "t")},
    "smooth_l1": {"inputs": ("x", "t")},
    "l1": {"inputs": ("x", "t")},
    "log_cosh": {"inputs": ("x", "t")},
    "hinge": {"inputs": ("x", "t")},
}

ELEMENTWISE: dict = {
    name: LayerCase(name, cls.__name__, params=dict(PARAMS.get(name, {})),
                    **_OPTIONS.get(name, {}))
    for name, cls in REFERENCE.items()
}

_ROWS = {"x": ("N", "D")}
_SIZES = ({"N": 1, "D": 4}, {"N": 5, "D": 4})
_NORM = {"shapes": {"x": ("N", "D"), "gamma": ("D",), "beta": ("D",)},
         "weights": ("gamma", "beta"), "kinds": {"x": "normal", "gamma": "positive"}}

MATRIX: dict = {c.name: c for c in (
    LayerCase("affine", "Affine", shapes={"x": ("N", "D"), "W": ("D", "M"), "b": ("M",)},
              weights=("W", "b"), kinds={"x": "normal"}, flatten=True,
              sizes=({"N": 1, "D": 4, "M": 3}, {"N": 5, "D": 4, "M": 3})),
    LayerCase("softmax", "Softmax", shapes=_ROWS, kinds={"x": "normal"}, sizes=_SIZES),
    LayerCase("softmax_with_loss", "SoftmaxWithLoss", shapes={"x": ("N", "D"), "t": ("N", "D")},
              consts=("t",), kinds={"x": "normal", "t": "onehot"}, loss=True, sizes=_SIZES),
    LayerCase("mse", "MSE", shapes={"x": ("N", "D"), "t": ("N", "D")}, consts=("t",),
              kinds={"x": "normal"}, loss=True, sizes=_SIZES),
    LayerCase("batchnorm", "BatchNormalization", flatten=True,
              sizes=({"N": 1, "D": 4}, {"N": 6, "D": 4}), **_NORM),
    LayerCase("layernorm", "LayerNorm", sizes=_SIZES, **_NORM),
    LayerCase("dropout", "Dropout", shapes=_ROWS, kinds={"x": "normal"}, mask_attr="mask",
              sizes=_SIZES),
)}

_SEQ = {"N": 2, "T": 3, "H": 4}
#: volume 2's one-step layers: their hand-coded classes (numeric.nlp_reference) keep
#: gradients in params/grads lists, as the book's do
BOOK2: dict = {c.name: c for c in (
    LayerCase("matmul", "MatMul", shapes={"x": ("N", "D"), "W": ("D", "H")}, weights=("W",),
              kinds={"x": "normal"}, sizes=({"N": 1, "D": 4, "H": 3}, {"N": 5, "D": 4, "H": 3})),
    LayerCase("sigmoid_with_loss", "SigmoidWithLoss", shapes={"x": ("N",), "t": ("N",)},
              consts=("t",), kinds={"x": "normal", "t": "onehot"}, loss=True,
              sizes=({"N": 1}, {"N": 6})),
    LayerCase("rnn", "RNN", inputs=("x", "h_prev"),
              shapes={"x": ("N", "D"), "h_prev": ("N", "H"), "Wx": ("D", "H"), "Wh": ("H", "H"),
                      "b": ("H",)}, weights=("Wx", "Wh", "b"),
              kinds={"x": "normal", "h_prev": "normal"},
              sizes=({"N": 1, "D": 3, "H": 4}, {"N": 4, "D": 3, "H": 4})),
    LayerCase("gru", "GRU", inputs=("x", "h_prev"),
              shapes={"x": ("N", "D"), "h_prev": ("N", "H"), "Wx": ("D", "3*H"),
                      "Wh": ("H", "3*H"), "b": ("3*H",)}, weights=("Wx", "Wh", "b"),
              kinds={"x": "normal", "h_prev": "normal"},
              sizes=({"N": 1, "D": 3, "H": 4}, {"N": 4, "D": 3, "H": 4})),
    LayerCase("lstm", "LSTM", inputs=("x", "h_prev", "c_prev"), outputs=("h_next", "c_next"),
              shapes={"x": ("N", "D"), "h_prev": ("N", "H"), "c_prev": ("N", "H"),
                      "Wx": ("D", "4*H"), "Wh": ("H", "4*H"), "b": ("4*H",)},
              weights=("Wx", "Wh", "b"),
              kinds={"x": "normal", "h_prev": "normal", "c_prev": "normal"},
              sizes=({"N": 1, "D": 3, "H": 2}, {"N": 4, "D": 3, "H": 3})),
    LayerCase("weight_sum", "WeightSum", inputs=("hs", "a"),
              shapes={"hs": ("N", "T", "H"), "a": ("N", "T")}, kinds={"hs": "normal", "a": "normal"},
              sizes=({**_SEQ, "N": 1}, _SEQ)),
    LayerCase("attention_weight", "AttentionWeight", inputs=("hs", "h"),
              shapes={"hs": ("N", "T", "H"), "h": ("N", "H")}, kinds={"hs": "normal", "h": "normal"},
              sizes=({**_SEQ, "N": 1}, _SEQ)),
    LayerCase("attention", "Attention", inputs=("hs", "h"),
              shapes={"hs": ("N", "T", "H"), "h": ("N", "H")}, kinds={"hs": "normal", "h": "normal"},
              sizes=({**_SEQ, "N": 1}, _SEQ)),
)}
MATRIX.update(BOOK2)

_IMAGE = {"N": 2, "C": 2, "H": 5, "Wd": 5}
_WINDOWS = {"H": ("FH", "stride", "pad"), "Wd": ("FW", "stride", "pad")}
_POOL = {"H": ("pool_h", "stride", "pad"), "Wd": ("pool_w", "stride", "pad")}
#: windows and indices: each param set runs with each size set, the spatial sizes fitted so
#: that (H + 2*pad - FH) % stride == 0 (numeric.layercase); idx holds repeated row numbers
WINDOWED: dict = {c.name: c for c in (
    LayerCase("convolution", "Convolution", weights=("W", "b"),
              shapes={"x": ("N", "C", "H", "Wd"), "W": ("FN", "C", "FH", "FW"), "b": ("FN",)},
              kinds={"x": "normal"}, params={"stride": 1, "pad": 0},
              param_sets=({"stride": 1, "pad": 0}, {"stride": 2, "pad": 1}), windows=_WINDOWS,
              sizes=({**_IMAGE, "FN": 3, "FH": 3, "FW": 3},
                     {**_IMAGE, "FN": 3, "FH": 2, "FW": 3})),
    LayerCase("pooling", "Pooling", shapes={"x": ("N", "C", "H", "Wd")}, kinds={"x": "normal"},
              params={"pool_h": 2, "pool_w": 2, "stride": 2, "pad": 0},
              param_sets=({}, {"pool_h": 3, "pool_w": 3, "stride": 2, "pad": 1},
                          {"pool_h": 3, "pool_w": 2, "stride": 1, "pad": 0}),
              windows=_POOL, sizes=(_IMAGE,)),
    LayerCase("embedding", "Embedding", inputs=("idx",), weights=("W",),
              shapes={"idx": ("N",), "W": ("V", "D")}, kinds={"idx": "index"}, bounds={"idx": "V"},
              sizes=({"N": 1, "V": 4, "D": 3}, {"N": 7, "V": 4, "D": 3})),
    LayerCase("time_embedding", "TimeEmbedding", inputs=("idx",), weights=("W",),
              shapes={"idx": ("N", "T"), "W": ("V", "D")}, kinds={"idx": "index"},
              bounds={"idx": "V"}, sizes=({"N": 1, "T": 3, "V": 4, "D": 3},
                                          {"N": 2, "T": 4, "V": 5, "D": 3})),
)}
MATRIX.update(WINDOWED)

_STEPS = ({"N": 1, "T": 3, "D": 4, "M": 3, "V": 5}, {"N": 2, "T": 4, "D": 4, "M": 3, "V": 5})
#: volume 2's time layers without a loop: (N, T, ·) batches (numeric.time_reference)
TIME: dict = {c.name: c for c in (
    LayerCase("time_affine", "TimeAffine", weights=("W", "b"),
              shapes={"x": ("N", "T", "D"), "W": ("D", "M"), "b": ("M",)},
              kinds={"x": "normal"}, sizes=_STEPS),
    LayerCase("time_softmax_with_loss", "TimeSoftmaxWithLoss",
              shapes={"x": ("N", "T", "V"), "t": ("N", "T", "V")}, consts=("t",),
              kinds={"x": "normal", "t": "onehot"}, loss=True, sizes=_STEPS),
    LayerCase("time_dropout", "TimeDropout", shapes={"x": ("N", "T", "D")},
              kinds={"x": "normal"}, mask_attr="mask", sizes=_STEPS),
    LayerCase("time_attention", "TimeAttention", inputs=("hs_enc", "hs_dec"),
              shapes={"hs_enc": ("N", "T", "H"), "hs_dec": ("N", "S", "H")},
              kinds={"hs_enc": "normal", "hs_dec": "normal"},
              sizes=({"N": 1, "T": 4, "S": 3, "H": 2}, {"N": 2, "T": 3, "S": 4, "H": 3})),
)}
_LOOP = ({"N": 1, "T": 3, "D": 3, "H": 4}, {"N": 2, "T": 4, "D": 3, "H": 4})
#: the time loops: an exported cell over T steps against the book's TimeRNN, TimeLSTM, TimeGRU
LOOPS: dict = {c.name: c for c in (
    LayerCase(f"time_{cell}", f"Time{cell.upper()}", inputs=("xs",), weights=("Wx", "Wh", "b"),
              shapes={"xs": ("N", "T", "D"), "Wx": ("D", k), "Wh": ("H", k), "b": (k,)},
              kinds={"xs": "normal"}, sizes=_LOOP)
    for cell, k in (("rnn", "H"), ("lstm", "4*H"), ("gru", "3*H")))}
TIME.update(LOOPS)
MATRIX.update(TIME)

_MODULE = {**{n: nlp_reference for n in BOOK2}, "convolution": conv_reference,
           "pooling": conv_reference, "embedding": nlp_reference,
           "time_embedding": time_reference, **{n: time_reference for n in TIME}}

CASES: dict = {**ELEMENTWISE, **MATRIX}

HAND_CODED: dict = {**REFERENCE,
                    **{n: getattr(_MODULE.get(n, matrix_reference), c.class_name)
                       for n, c in MATRIX.items()}}
