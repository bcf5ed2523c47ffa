"""Catalogue layers of the second volume ("Deep Learning from Scratch 2"), one step each.

The same front door as every layer (parsed, never executed); :mod:`derive.catalogue`
lists them after the first volume's. Shapes follow the book: a batch of N rows, T time
steps, hidden size H.

>>> from derive.catalogue import get
>>> get("rnn").input_names
('x', 'h_prev')
"""
from __future__ import annotations

VOLUME2: dict[str, str] = {
    "matmul": '''
def matmul(x: input("N", "D"), W: weight("D", "H")):
    """MatMul: y = x·W (no bias, volume 2)

    class: MatMul
    """
    return x @ W
''',
    "embedding": '''
def embedding(idx: index("N"), W: weight("V", "D")):
    """Embedding: y = W[idx], the rows of W picked by the word ids idx

    class: Embedding
    note: idx holds row numbers (word ids), an index array that is not differentiated; backward returns None and dW adds dout at rows idx, repeated ids accumulating (np.add.at)
    """
    return W[idx]
''',
    "time_embedding": '''
def time_embedding(idx: index("N", "T"), W: weight("V", "D")):
    """Time embedding: y[n, t] = W[idx[n, t]] for a batch of id sequences

    class: TimeEmbedding
    note: the same W serves every time step, so dW adds the rows of every step: the sum over t of the per-step gradients
    """
    return W[idx]
''',
    "sigmoid_with_loss": '''
def sigmoid_with_loss(x: input("N"), t: const("N")):
    """Sigmoid with binary cross-entropy loss (mean over the batch)

    class: SigmoidWithLoss
    note: L = −(1/N) Σ_n (t[n]·log y[n] + (1 − t[n])·log(1 − y[n])) with y = sigmoid(x); t is the 0/1 label of each score, as in word2vec's negative sampling
    note: dout is the scalar upstream gradient (1 when L is the final loss); the exported forward computes the logs as softplus terms, finite for every score
    """
    y = 1 / (1 + np.exp(-x))
    return -np.sum(t * np.log(y) + (1 - t) * np.log(1 - y)) / x.shape[0]
''',
    "rnn": '''
def rnn(x: input("N", "D"), h_prev: input("N", "H"), Wx: weight("D", "H"),
        Wh: weight("H", "H"), b: weight("H")):
    """RNN cell: h_next = tanh(h_prev·Wh + x·Wx + b)

    class: RNN
    note: one time step; dh_next arrives as dout, and dh_prev is what flows back to step t − 1
    """
    t = h_prev @ Wh + x @ Wx + b
    h_next = np.tanh(t)
    return h_next
''',
    "lstm": '''
def lstm(x: input("N", "D"), h_prev: input("N", "H"), c_prev: input("N", "H"),
         Wx: weight("D", "4*H"), Wh: weight("H", "4*H"), b: weight("4*H")):
    """LSTM cell: c_next = f·c_prev + g·i, h_next = o·tanh(c_next)

    class: LSTM
    note: the four gates are packed in one (D, 4H) matrix in the book's order f, g, i, o: A[:, :H] is the forget gate, A[:, H:2*H] the new memory, A[:, 2*H:3*H] the input gate, A[:, 3*H:] the output gate
    note: two outputs, each with its own upstream gradient: backward(dh_next, dc_next) returns dx, dh_prev, dc_prev; the gate gradients are stacked back in the same order (np.concatenate, the book's np.hstack)
    """
    A = x @ Wx + h_prev @ Wh + b
    f = 1 / (1 + np.exp(-A[:, :H]))
    g = np.tanh(A[:, H:2 * H])
    i = 1 / (1 + np.exp(-A[:, 2 * H:3 * H]))
    o = 1 / (1 + np.exp(-A[:, 3 * H:]))
    c_next = f * c_prev + g * i
    tc = np.tanh(c_next)
    h_next = o * tc
    return h_next, c_next
''',
    "gru": '''
def gru(x: input("N", "D"), h_prev: input("N", "H"), Wx: weight("D", "3*H"),
        Wh: weight("H", "3*H"), b: weight("3*H")):
    """GRU cell: h_next = (1 − z)·h_prev + z·h̃

    class: GRU
    note: packed in the order z (update gate), r (reset gate), h̃ (candidate): Wx[:, :H], Wx[:, H:2*H], Wx[:, 2*H:] and likewise Wh, b; the reset gate scales h_prev before its matrix product, so the slices are of the weights
    """
    z = 1 / (1 + np.exp(-(x @ Wx[:, :H] + h_prev @ Wh[:, :H] + b[:H])))
    r = 1 / (1 + np.exp(-(x @ Wx[:, H:2 * H] + h_prev @ Wh[:, H:2 * H] + b[H:2 * H])))
    hh = np.tanh(x @ Wx[:, 2 * H:] + (r * h_prev) @ Wh[:, 2 * H:] + b[2 * H:])
    h_next = (1 - z) * h_prev + z * hh
    return h_next
''',
    "time_rnn": '''
def time_rnn(x0: input("N", "D"), x1: input("N", "D"), h0: input("N", "H"),
             Wx: weight("D", "H"), Wh: weight("H", "H"), b: weight("H")):
    """Time RNN: the RNN cell over T steps (backpropagation through time, shown for T = 2)

    class: TimeRNN
    loop: rnn
    note: the derivation unrolls two steps, h_t = tanh(h_(t−1)·Wh + x_t·Wx + b), each h_t an output with its own upstream gradient dh_t: the gradient reaching h1 is dh1 plus what step 2 passes back through Wh (the same between any two steps, for any T), and the shared Wx, Wh, b collect one term per step (their gradients add up over t)
    note: the exported TimeRNN(Wx, Wh, b, stateful=False) runs the cell over any T: forward(xs (N, T, D)) → hs (N, T, H), backward(dhs) → dxs, summing the steps' weight gradients; dh is the gradient to the initial state
    """
    h1 = np.tanh(h0 @ Wh + x0 @ Wx + b)
    h2 = np.tanh(h1 @ Wh + x1 @ Wx + b)
    return h1, h2
''',
    "time_lstm": '''
def time_lstm(x: input("N", "D"), h_prev: input("N", "H"), c_prev: input("N", "H"),
              Wx: weight("D", "4*H"), Wh: weight("H", "4*H"), b: weight("4*H")):
    """Time LSTM: the LSTM cell over T steps (one step shown; h and c carried)

    class: TimeLSTM
    loop: lstm
    note: one step of the loop is derived here (the lstm cell); through time, dh_prev and dc_prev of step t are added to the upstream gradients of step t − 1, and the steps' dWx, dWh, db add up, as time_rnn's page shows unrolled
    note: the exported TimeLSTM(Wx, Wh, b, stateful=False): forward(xs (N, T, D)) → hs (N, T, H), backward(dhs) → dxs; dh and dc hold the gradients to the initial state
    """
    A = x @ Wx + h_prev @ Wh + b
    f = 1 / (1 + np.exp(-A[:, :H]))
    g = np.tanh(A[:, H:2 * H])
    i = 1 / (1 + np.exp(-A[:, 2 * H:3 * H]))
    o = 1 / (1 + np.exp(-A[:, 3 * H:]))
    c_next = f * c_prev + g * i
    tc = np.tanh(c_next)
    h_next = o * tc
    return h_next, c_next
''',
    "time_gru": '''
def time_gru(x: input("N", "D"), h_prev: input("N", "H"), Wx: weight("D", "3*H"),
             Wh: weight("H", "3*H"), b: weight("3*H")):
    """Time GRU: the GRU cell over T steps (one step shown; h carried)

    class: TimeGRU
    loop: gru
    note: one step of the loop is derived here (the gru cell); through time, dh_prev of step t is added to the upstream gradient of step t − 1 and the steps' weight gradients add up, as time_rnn's page shows unrolled
    note: the exported TimeGRU(Wx, Wh, b, stateful=False): forward(xs (N, T, D)) → hs (N, T, H), backward(dhs) → dxs; dh holds the gradient to the initial state
    """
    z = 1 / (1 + np.exp(-(x @ Wx[:, :H] + h_prev @ Wh[:, :H] + b[:H])))
    r = 1 / (1 + np.exp(-(x @ Wx[:, H:2 * H] + h_prev @ Wh[:, H:2 * H] + b[H:2 * H])))
    hh = np.tanh(x @ Wx[:, 2 * H:] + (r * h_prev) @ Wh[:, 2 * H:] + b[2 * H:])
    h_next = (1 - z) * h_prev + z * hh
    return h_next
''',
    "time_affine": '''
def time_affine(x: input("N", "T", "D"), W: weight("D", "M"), b: weight("M")):
    """Time affine: y[n, t] = x[n, t]·W + b at every time step

    class: TimeAffine
    note: the same W and b at every step: their gradients add up over n and t (the einsum sums over both), as the book's reshape to (N·T, D) does
    """
    return np.einsum("ntd,dm->ntm", x, W) + b
''',
    "time_softmax_with_loss": '''
def time_softmax_with_loss(x: input("N", "T", "V"), t: const("N", "T", "V")):
    """Time softmax with loss: mean cross-entropy over the N·T time steps

    class: TimeSoftmaxWithLoss
    labels: t
    assume: np.sum(t, axis=2) == 1
    note: L = −(1/(N·T)) Σ_n Σ_t Σ_v t[n,t,v]·log y[n,t,v], softmax over the vocabulary axis; code also accepts label indices t of shape (N, T)
    """
    e = np.exp(x)
    S = np.sum(e, axis=2, keepdims=True)
    y = e / S
    return -np.sum(t * np.log(y)) / (x.shape[0] * x.shape[1])
''',
    "time_dropout": '''
def time_dropout(x: input("N", "T", "D"), mask: const("N", "T", "D")):
    """Time dropout (inverted, training): y = x ⊙ mask, mask in {0, 1/(1 − ratio)}

    class: TimeDropout
    dropout: mask (ratio 0.5, inverted)
    note: inverted dropout: the kept units are scaled by 1/(1 − ratio) in training, so at test time out = x
    """
    return x * mask
''',
    "time_attention": '''
def time_attention(hs_enc: input("N", "T", "H"), hs_dec: input("N", "S", "H")):
    """Time attention: for each decoder step, attention over the encoder states

    class: TimeAttention
    note: the book's TimeAttention runs one Attention per decoder step u; written with np.einsum the S steps are one batched product: s[n, u, t] = hs_enc[n, t]·hs_dec[n, u], a = softmax over t, c[n, u] = Σ_t a[n, u, t]·hs_enc[n, t]
    note: hs_enc reaches c by two paths at every step, through the weights a and directly: its gradient adds both, summed over the decoder steps
    """
    s = np.einsum("nth,nuh->nut", hs_enc, hs_dec)
    e = np.exp(s)
    a = e / np.sum(e, axis=2, keepdims=True)
    c = np.einsum("nut,nth->nuh", a, hs_enc)
    return c
''',
    "weight_sum": '''
def weight_sum(hs: input("N", "T", "H"), a: input("N", "T")):
    """Weight sum (attention's context vector): c = Σ_t a[:, t]·hs[:, t]

    class: WeightSum
    note: a holds one weight per time step; its axis of size 1 is added so that it broadcasts over H
    """
    ar = a.reshape(a.shape[0], a.shape[1], 1)
    t = hs * ar
    c = np.sum(t, axis=1)
    return c
''',
    "attention_weight": '''
def attention_weight(hs: input("N", "T", "H"), h: input("N", "H")):
    """Attention weight: a = softmax over t of the dot products hs[:, t]·h

    class: AttentionWeight
    """
    hr = h.reshape(h.shape[0], 1, h.shape[1])
    t = hs * hr
    s = np.sum(t, axis=2)
    e = np.exp(s)
    a = e / np.sum(e, axis=1, keepdims=True)
    return a
''',
    "attention": '''
def attention(hs: input("N", "T", "H"), h: input("N", "H")):
    """Attention: AttentionWeight then WeightSum, c = Σ_t a[:, t]·hs[:, t]

    class: Attention
    note: hs reaches c by two paths, through the weights a and directly; its gradient adds both
    """
    hr = h.reshape(h.shape[0], 1, h.shape[1])
    s = np.sum(hs * hr, axis=2)
    e = np.exp(s)
    a = e / np.sum(e, axis=1, keepdims=True)
    ar = a.reshape(a.shape[0], a.shape[1], 1)
    c = np.sum(hs * ar, axis=1)
    return c
''',
}
