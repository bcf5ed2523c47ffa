"""日本語: the catalogue's layer titles (names as the book keeps them: ReLU, Affine, ...)."""

PHRASES = {
    "Multiply (MulLayer)": "乗算レイヤ（MulLayer）",
    "Add (AddLayer)": "加算レイヤ（AddLayer）",
    "ReLU": "ReLU",
    "Sigmoid": "Sigmoid",
    "Tanh": "Tanh",
    "Exponential": "指数関数",
    "Natural logarithm": "自然対数",
    "Softplus": "Softplus",
    "Leaky ReLU": "Leaky ReLU",
    "ELU": "ELU",
    "SiLU (swish)": "SiLU（swish）",
    "GELU (erf form)": "GELU（erf の形）",
    "GELU (tanh approximation)": "GELU（tanh による近似）",
    "Square": "二乗",
    "ReLU6: {0}": "ReLU6: {0}",
    "Hardtanh: x clipped to [−1, 1]": "Hardtanh: x を [−1, 1] に切り詰めた値",
    "{p0} (PyTorch's)": "{p0}（PyTorch の定義）",
    "Hard sigmoid: {0}": "Hard sigmoid: {0}",
    "Hard swish: {0}": "Hard swish: {0}",
    "Mish: {0}": "Mish: {0}",
    "SELU: scale·x for x > 0, scale·alpha·(exp(x) − 1) otherwise":
        "SELU: x > 0 では scale·x、それ以外では scale·alpha·(exp(x) − 1)",
    "CELU: x for x > 0, alpha·(exp(x/alpha) − 1) otherwise":
        "CELU: x > 0 では x、それ以外では alpha·(exp(x/alpha) − 1)",
    "Softsign: {0}": "Softsign: {0}",
    "Log-sigmoid: {0}": "Log-sigmoid: {0}",
    "Tanhshrink: {0}": "Tanhshrink: {0}",
    "Binary cross-entropy of probabilities (elementwise, no reduction)":
        "確率に対する二値交差エントロピー（要素ごと、和をとらない）",
    "Binary cross-entropy with logits (elementwise, no reduction)":
        "ロジットを受け取る二値交差エントロピー（要素ごと、和をとらない）",
    "Huber loss (elementwise, no reduction)": "Huber 損失（要素ごと、和をとらない）",
    "Smooth L1 loss (elementwise, no reduction)": "Smooth L1 損失（要素ごと、和をとらない）",
    "L1 loss (elementwise, no reduction): {0}": "L1 損失（要素ごと、和をとらない）: {0}",
    "Log-cosh loss (elementwise, no reduction): {0}": "Log-cosh 損失（要素ごと、和をとらない）: {0}",
    "Hinge loss (elementwise, no reduction): {0}": "ヒンジ損失（要素ごと、和をとらない）: {0}",
    "Affine (fully connected): {0}": "Affine（全結合）: {0}",
    "Softmax over each row": "各行についての Softmax",
    "Softmax with cross-entropy loss (mean over the batch)":
        "Softmax-with-Loss: 交差エントロピー誤差（バッチの平均）",
    "Mean squared error: {0}": "二乗和誤差の平均: {0}",
    "Batch normalization (training mode, per feature)": "Batch Normalization（学習時、特徴量ごと）",
    "Layer normalization (per row)": "Layer Normalization（行ごと）",
    "Dropout (training): {0}": "Dropout（学習時）: {0}",
    "Convolution (the book's im2col form): {0}": "畳み込み（本書の im2col の形）: {0}",
    "Max pooling: y[n, c, i, j] = max_p,q x[n, c, i·stride + p − pad, j·stride + q − pad]":
        "Max プーリング: y[n, c, i, j] = max_p,q x[n, c, i·stride + p − pad, j·stride + q − pad]",
    "MatMul: y = x·W (no bias, volume 2)": "MatMul: y = x·W（バイアスなし、第 2 巻）",
    "Embedding: y = W[idx], the rows of W picked by the word ids idx":
        "Embedding: y = W[idx]、単語 ID idx で選んだ W の行",
    "Time embedding: y[n, t] = W[idx[n, t]] for a batch of id sequences":
        "Time Embedding: ID の系列のバッチについて y[n, t] = W[idx[n, t]]",
    "Sigmoid with binary cross-entropy loss (mean over the batch)":
        "Sigmoid-with-Loss: 二値交差エントロピー誤差（バッチの平均）",
    "RNN cell: {0}": "RNN セル: {0}",
    "LSTM cell: {0}": "LSTM セル: {0}",
    "GRU cell: {0}": "GRU セル: {0}",
    "Time RNN: the RNN cell over T steps (backpropagation through time, shown for T = 2)":
        "Time RNN: T ステップにわたる RNN セル（BPTT、T = 2 で示す）",
    "Time LSTM: the LSTM cell over T steps (one step shown; h and c carried)":
        "Time LSTM: T ステップにわたる LSTM セル（1 ステップを示す。h と c を引き継ぐ）",
    "Time GRU: the GRU cell over T steps (one step shown; h carried)":
        "Time GRU: T ステップにわたる GRU セル（1 ステップを示す。h を引き継ぐ）",
    "Time affine: y[n, t] = x[n, t]·W + b at every time step":
        "Time Affine: すべての時刻で y[n, t] = x[n, t]·W + b",
    "Time softmax with loss: mean cross-entropy over the N·T time steps":
        "Time Softmax-with-Loss: N·T 個の時刻にわたる交差エントロピーの平均",
    "Time dropout (inverted, training): y = x ⊙ mask, mask in {0, 1/(1 − ratio)}":
        "Time Dropout（inverted dropout、学習時）: y = x ⊙ mask、mask は {0, 1/(1 − ratio)} の要素",
    "Time attention: for each decoder step, attention over the encoder states":
        "Time Attention: デコーダの各時刻で、エンコーダの状態に対する Attention",
    "Weight sum (attention's context vector): {0}": "Weight Sum（Attention のコンテキストベクトル）: {0}",
    "Attention weight: a = softmax over t of the dot products hs[:, t]·h":
        "Attention Weight: a = 内積 hs[:, t]·h の t についての softmax",
    "Attention: AttentionWeight then WeightSum, {0}": "Attention: AttentionWeight の後に WeightSum、{0}",
}
