"""A user's LSTM cell for derive (tests/test_verify_outputs.py): the catalogue's, renamed."""
def peephole_free_lstm(x: input("N", "D"), h_prev: input("N", "H"), c_prev: input("N", "H"),
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
