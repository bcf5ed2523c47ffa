import numpy as np

def rms_norm(x: "N, D", g: weight("D"), eps: param(positive=True) = 1e-6):
    """RMSNorm"""
    ms = np.mean(x**2, axis=1, keepdims=True)
    return x * g / np.sqrt(ms + eps)

def l2_normalize(x: "N, D"):
    """L2 normalisation of rows"""
    n = np.sqrt(np.sum(x**2, axis=1, keepdims=True))
    return x / n

def cosine_similarity(a: "N, D", b: "N, D"):
    """Cosine similarity of two batches"""
    dot = np.sum(a * b, axis=1)
    na = np.sqrt(np.sum(a**2, axis=1))
    nb = np.sqrt(np.sum(b**2, axis=1))
    return dot / (na * nb)

def dense(x: "N, D", W: weight("D", "M"), b: weight("M")):
    """Dense layer tanh(x W + b)"""
    return np.tanh(x @ W + b)

def glu(x: "N, D", W: weight("D", "M"), V: weight("D", "M")):
    """Gated linear unit"""
    return (x @ W) * (1 / (1 + np.exp(-(x @ V))))

def log_softmax(x: "N, C"):
    """Log-softmax"""
    return x - np.log(np.sum(np.exp(x), axis=1, keepdims=True))

def logsumexp(x: "N, C"):
    """Logsumexp over rows"""
    return np.log(np.sum(np.exp(x), axis=1))

def softmax_ce(x: "N, C", t: const("N", "C")):
    """Softmax cross-entropy

    assume: np.sum(t, axis=1) == 1
    """
    p = np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)
    return -np.sum(t * np.log(p)) / x.shape[0]

def mse_mean(x: "N, D", t: const("N", "D")):
    """MSE as a mean over all elements"""
    return np.mean((x - t)**2)

def attention_scores(Q: "N, d", K: "T, d"):
    """Attention scores"""
    s = Q @ K.T / np.sqrt(Q.shape[1])
    e = np.exp(s)
    return e / np.sum(e, axis=1, keepdims=True)

def attention_readout(A: "N, T", V: "T, E"):
    """Attention read-out"""
    return A @ V

def bilinear(x: "N, D", y: "N, E", W: weight("D", "E")):
    """Bilinear form"""
    return np.sum((x @ W) * y, axis=1)

def weight_decay(W: "D, M", lam: param(positive=True) = 0.01):
    """Weight decay (the weight matrix is the regularizer's input)"""
    return 0.5 * lam * np.sum(W**2)

def stable_softmax(x: "N, C"):
    """Softmax as usually coded: shifted by the row maximum"""
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)

def stable_logsumexp(x: "N, C"):
    """Logsumexp over rows, shifted by the row maximum"""
    m = np.max(x, axis=1, keepdims=True)
    return m + np.log(np.sum(np.exp(x - m), axis=1, keepdims=True))
