"""한국어: the catalogue's layer titles (names as the book keeps them: ReLU, Affine, ...)."""

PHRASES = {
    "Multiply (MulLayer)": "곱셈 계층 (MulLayer)",
    "Add (AddLayer)": "덧셈 계층 (AddLayer)",
    "ReLU": "ReLU",
    "Sigmoid": "Sigmoid",
    "Tanh": "Tanh",
    "Exponential": "지수 함수",
    "Natural logarithm": "자연로그",
    "Softplus": "Softplus",
    "Leaky ReLU": "Leaky ReLU",
    "ELU": "ELU",
    "SiLU (swish)": "SiLU (swish)",
    "GELU (erf form)": "GELU (erf 형태)",
    "GELU (tanh approximation)": "GELU (tanh 근사)",
    "Square": "제곱",
    "Hardtanh: x clipped to [−1, 1]": "Hardtanh: x를 [−1, 1]로 자른 값",
    "{p0} (PyTorch's)": "{p0} (PyTorch의 정의)",
    "ReLU6: {0}": "ReLU6: {0}",
    "Mish: {0}": "Mish: {0}",
    "Softsign: {0}": "Softsign: {0}",
    "Log-sigmoid: {0}": "Log-sigmoid: {0}",
    "Tanhshrink: {0}": "Tanhshrink: {0}",
    "Hard sigmoid: {0}": "Hard sigmoid: {0}",
    "Hard swish: {0}": "Hard swish: {0}",
    "SELU: scale·x for x > 0, scale·alpha·(exp(x) − 1) otherwise":
        "SELU: x > 0이면 scale·x, 그 밖에는 scale·alpha·(exp(x) − 1)",
    "CELU: x for x > 0, alpha·(exp(x/alpha) − 1) otherwise":
        "CELU: x > 0이면 x, 그 밖에는 alpha·(exp(x/alpha) − 1)",
    "Binary cross-entropy of probabilities (elementwise, no reduction)":
        "확률에 대한 이진 교차 엔트로피 (원소별, 합하지 않음)",
    "Binary cross-entropy with logits (elementwise, no reduction)":
        "로짓을 받는 이진 교차 엔트로피 (원소별, 합하지 않음)",
    "Huber loss (elementwise, no reduction)": "Huber 손실 (원소별, 합하지 않음)",
    "Smooth L1 loss (elementwise, no reduction)": "Smooth L1 손실 (원소별, 합하지 않음)",
    "L1 loss (elementwise, no reduction): {0}": "L1 손실 (원소별, 합하지 않음): {0}",
    "Log-cosh loss (elementwise, no reduction): {0}": "Log-cosh 손실 (원소별, 합하지 않음): {0}",
    "Hinge loss (elementwise, no reduction): {0}": "힌지 손실 (원소별, 합하지 않음): {0}",
    "Affine (fully connected): {0}": "Affine (완전연결): {0}",
    "Softmax over each row": "각 행에 대한 Softmax",
    "Softmax with cross-entropy loss (mean over the batch)":
        "Softmax-with-Loss: 교차 엔트로피 오차 (배치 평균)",
    "Mean squared error: {0}": "평균 제곱 오차: {0}",
    "Batch normalization (training mode, per feature)": "배치 정규화 (학습 모드, 특징별)",
    "Layer normalization (per row)": "계층 정규화 (행별)",
    "Dropout (training): {0}": "드롭아웃 (학습 시): {0}",
    "Convolution (the book's im2col form): {0}": "합성곱 (책의 im2col 형태): {0}",
    "Max pooling: y[n, c, i, j] = max_p,q x[n, c, i·stride + p − pad, j·stride + q − pad]":
        "최대 풀링: y[n, c, i, j] = max_p,q x[n, c, i·stride + p − pad, j·stride + q − pad]",
    "MatMul: y = x·W (no bias, volume 2)": "MatMul: y = x·W (편향 없음, 2권)",
    "Embedding: y = W[idx], the rows of W picked by the word ids idx":
        "Embedding: y = W[idx], 단어 ID idx로 고른 W의 행",
    "Time embedding: y[n, t] = W[idx[n, t]] for a batch of id sequences":
        "Time Embedding: ID 시퀀스의 배치에 대해 y[n, t] = W[idx[n, t]]",
    "Sigmoid with binary cross-entropy loss (mean over the batch)":
        "Sigmoid-with-Loss: 이진 교차 엔트로피 오차 (배치 평균)",
    "RNN cell: {0}": "RNN 셀: {0}",
    "LSTM cell: {0}": "LSTM 셀: {0}",
    "GRU cell: {0}": "GRU 셀: {0}",
    "Time RNN: the RNN cell over T steps (backpropagation through time, shown for T = 2)":
        "Time RNN: T 단계에 걸친 RNN 셀 (BPTT, T = 2로 보인다)",
    "Time LSTM: the LSTM cell over T steps (one step shown; h and c carried)":
        "Time LSTM: T 단계에 걸친 LSTM 셀 (한 단계를 보인다. h와 c를 이어 받는다)",
    "Time GRU: the GRU cell over T steps (one step shown; h carried)":
        "Time GRU: T 단계에 걸친 GRU 셀 (한 단계를 보인다. h를 이어 받는다)",
    "Time affine: y[n, t] = x[n, t]·W + b at every time step":
        "Time Affine: 모든 시각에서 y[n, t] = x[n, t]·W + b",
    "Time softmax with loss: mean cross-entropy over the N·T time steps":
        "Time Softmax-with-Loss: N·T개 시각에 걸친 교차 엔트로피의 평균",
    "Time dropout (inverted, training): y = x ⊙ mask, mask in {0, 1/(1 − ratio)}":
        "Time Dropout (역 드롭아웃, 학습 시): y = x ⊙ mask, mask는 {0, 1/(1 − ratio)}의 원소",
    "Time attention: for each decoder step, attention over the encoder states":
        "Time Attention: 디코더의 각 시각마다 인코더 상태에 대한 어텐션",
    "Weight sum (attention's context vector): {0}": "Weight Sum (어텐션의 맥락 벡터): {0}",
    "Attention weight: a = softmax over t of the dot products hs[:, t]·h":
        "Attention Weight: a = 내적 hs[:, t]·h의 t에 대한 softmax",
    "Attention: AttentionWeight then WeightSum, {0}": "Attention: AttentionWeight 다음에 WeightSum, {0}",
}
