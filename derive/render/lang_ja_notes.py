"""日本語: the notes — the rule table's (derive.rules), the engine's and the catalogue's.

A catalogue layer's notes are one entry each (an entry may hold "; "); its formulas stay
as they are. See :mod:`derive.render.lang`.
"""

PHRASES = {
    # --- the rule table and the engine ---
    "the gradient passes unchanged": "勾配はそのまま伝わる",
    "the inputs swap: dL/dx = dout·y, dL/dy = dout·x": "入力が入れ替わる: dL/dx = dout·y、dL/dy = dout·x",
    "the gradient flows into the branch that was taken": "勾配は選ばれた分岐へ流れる",
    "{0} feeds {1} nodes; their gradients add":
        "{0} は {1} 個のノードに分岐している。それぞれの勾配を足し合わせる",
    "{0}, from {1}": "{1} から得た {0}",
    "each branch inverted": "各分岐で逆関数をとる",
    "conditions read on out": "条件は out で判定する",
    "out > 0 exactly where x > 0, so the condition can be read on out":
        "out > 0 となるのはちょうど x > 0 の所なので、条件は out で判定できる",
    "not differentiable at {0}": "{0} で微分できない",
    "not differentiable where {0}": "{0} となる所で微分できない",
    "defined for {0}": "{0} で定義される",
    "the gradient there is taken as 0 (the book's ReLU convention)":
        "そこでの勾配は 0 とする（本書の ReLU と同じ慣例）",
    "sign(0) = 0 is used there": "そこでは sign(0) = 0 を使う",
    "not differentiable at 0 (the slope is infinite there)": "0 で微分できない（そこでの傾きは無限大）",
    "undefined at odd multiples of π/2": "π/2 の奇数倍で定義されない",
    "defined for -1 ≤ x ≤ 1, differentiable inside": "-1 ≤ x ≤ 1 で定義され、その内側で微分できる",
    "defined for x ≥ 1, differentiable for x > 1": "x ≥ 1 で定義され、x > 1 で微分できる",
    "a 0/1 mask: its derivative is 0 except at the step, where it is undefined":
        "0/1 のマスク: 導関数は段差の外で 0、段差では定義されない",
    "a step function: its derivative is 0 away from the steps, where it is undefined":
        "階段関数: 導関数は段差の外で 0、段差では定義されない",
    "a step function: its derivative is 0 away from the steps, where it is undefined (at 0)":
        "階段関数: 導関数は段差の外で 0、段差（0）では定義されない",
    "a step function: its derivative is 0 away from the steps, where it is undefined (at the "
    "integers)": "階段関数: 導関数は段差の外で 0、段差（整数）では定義されない",
    "a step function: its derivative is 0 away from the steps, where it is undefined (at the "
    "half-integers; halves round to even)":
        "階段関数: 導関数は段差の外で 0、段差（半整数。ちょうど半分は偶数へ丸める）では定義されない",
    "np.maximum(a, b) is np.where(a >= b, a, b): at a tie the gradient flows into a, the first "
    "argument (TensorFlow's convention); np.maximum(0, x) and np.maximum(x, 0) are the ReLU, 0 "
    "at x = 0 as in the book":
        "np.maximum(a, b) は np.where(a >= b, a, b) である: 同値のとき勾配は第 1 引数 a へ流れる"
        "（TensorFlow の慣例）。np.maximum(0, x) と np.maximum(x, 0) は ReLU で、本書と同じく "
        "x = 0 で 0",
    "np.minimum(a, b) is np.where(a <= b, a, b): at a tie the gradient flows into a, the first "
    "argument; with a 0 argument it is -ReLU(-x), 0 at the tie":
        "np.minimum(a, b) は np.where(a <= b, a, b) である: 同値のとき勾配は第 1 引数 a へ流れる。"
        "引数の一方が 0 なら -ReLU(-x) となり、同値の点で 0",
    "np.clip(x, lo, hi): the gradient flows into x for lo ≤ x ≤ hi (ends included, as "
    "PyTorch's clamp), into lo below and hi above":
        "np.clip(x, lo, hi): lo ≤ x ≤ hi では勾配は x へ流れ（両端を含む。PyTorch の clamp と同じ）、"
        "下では lo へ、上では hi へ流れる",
    "np.heaviside(x, h0) is h0 at x = 0; its derivative is 0 away from 0":
        "np.heaviside(x, h0) は x = 0 で h0。導関数は 0 以外で 0",
    "windows(x, FH, FW, stride, pad): element [n, c, p, q, i, j] is x[n, c, i·stride + p − pad, "
    "j·stride + q − pad], 0 outside x (zero padding)":
        "windows(x, FH, FW, stride, pad): 要素 [n, c, p, q, i, j] は "
        "x[n, c, i·stride + p − pad, j·stride + q − pad]、x の外では 0（ゼロパディング）",
    "fold (col2im) adds each window back where it was read; overlapping windows add up":
        "fold（col2im）は各ウィンドウを読んだ位置に足し戻す。重なるウィンドウは足し合わされる",
    "W[idx] picks rows of W": "W[idx] は W の行を選ぶ",
    "an index array is not differentiated": "インデックス配列は微分しない",
    "rows of G added at rows idx of zeros: repeated indices accumulate (np.add.at)":
        "G の行をゼロの配列の idx 行に足す: 繰り返すインデックスは累積する（np.add.at）",
    "a[:, a:b] along one axis": "一つの軸に沿った a[:, a:b]",
    "its gradient is placed back into zeros": "その勾配はゼロの配列の元の位置に戻される",
    "the layer's outputs, each with its own upstream gradient d<output>":
        "レイヤの出力。各出力にはそれぞれの上流の勾配 d<output> がある",
    "np.max over axes passes the gradient to the first maximum of each window in window order "
    "(np.argmax's convention): at a tie that one entry takes the whole gradient, the others 0, "
    "as the book's Pooling":
        "軸についての np.max は、各ウィンドウでウィンドウ順に最初の最大値へ勾配を流す"
        "（np.argmax の慣例）: 同値のときはその要素が勾配をすべて受け取り、他は 0。本書の "
        "Pooling と同じ",
    "a maximum the layer only shifts by (a stable softmax) passes nothing, its gradient is "
    "proven 0": "レイヤが値をずらすためだけに使う最大値（安定な softmax）は何も伝えず、"
    "その勾配が 0 であることを証明した",
    "the gradient arriving at {0} is 0 (proven): the layer only shifts by the maximum, which "
    "does not change its output, so nothing flows back through np.max":
        "{0} に届く勾配は 0 である（証明済み）: レイヤは最大値の分だけ値をずらすだけで出力は"
        "変わらないので、np.max を通って逆に流れるものはない",
    "np.max over axes is Σ_window M·a with M the 0/1 mask of the first maximum of each window":
        "軸についての np.max は Σ_window M·a で、M は各ウィンドウの最初の最大値を示す 0/1 のマスク",
    "M is locally constant in a away from ties (a fixed entry is the maximum there), so SymPy's "
    "derivative of Σ G·(Σ_window M·a), with M held as such an array, has the canonical form of "
    "the rule's G·M for every size":
        "M は同値のない所で a について局所的に定数（そこでは決まった要素が最大値）。そのため M を"
        "そのような配列として Σ G·(Σ_window M·a) を SymPy で微分した導関数は、どの大きさでも"
        "規則の G·M と同じ正規形になる",
    "central differences at random points (no ties) agree. At a tie the rule is a convention: "
    "the first maximum takes the whole gradient (np.argmax)":
        "ランダムな点（同値なし）で中心差分が一致する。同値の点では規則は慣例: 最初の最大値が"
        "勾配をすべて受け取る（np.argmax）",
    # --- the catalogue (derive/catalogue.py, catalogue_book2.py) ---
    "ReLU is not differentiable at x = 0": "ReLU は x = 0 で微分できない",
    "as in the book, the gradient there is 0": "本書と同じく、そこでの勾配は 0 とする",
    "at x = 0 the gradient is alpha (the x > 0 branch is strict, as ReLU's)":
        "x = 0 での勾配は alpha（x > 0 の分岐は等号を含まない。ReLU と同じ）",
    "at x = 0 the gradient is alpha (the x > 0 branch is strict)":
        "x = 0 での勾配は alpha（x > 0 の分岐は等号を含まないため）",
    "not differentiable at x = 0 and x = 6; the gradient is 1 only for 0 < x < 6 and 0 at both "
    "kinks (0 at 0 as the book's ReLU; at 6 np.minimum's tie goes to its first argument, the "
    "constant 6), as PyTorch's ReLU6":
        "x = 0 と x = 6 で微分できない。勾配は 0 < x < 6 でのみ 1 で、二つの折れ点では 0（0 では"
        "本書の ReLU と同じく 0、6 では np.minimum の同値が第 1 引数の定数 6 に行くため）。"
        "PyTorch の ReLU6 と同じ",
    "not differentiable at x = ±1; the gradient is 1 only for −1 < x < 1 and 0 at both ends, as "
    "PyTorch's Hardtanh and ReLU6 (np.clip(x, -1, 1) would give 1 at the ends, torch.clamp's "
    "convention)":
        "x = ±1 で微分できない。勾配は −1 < x < 1 でのみ 1、両端では 0。PyTorch の Hardtanh や "
        "ReLU6 と同じ（np.clip(x, -1, 1) なら両端で 1 になる。torch.clamp の慣例）",
    "not differentiable at x = ±3; the gradient is 1/6 only for −3 < x < 3 and 0 at both ends "
    "(relu6's convention), as PyTorch's Hardsigmoid":
        "x = ±3 で微分できない。勾配は −3 < x < 3 でのみ 1/6、両端では 0（relu6 の慣例）。"
        "PyTorch の Hardsigmoid と同じ",
    "the gradient is 0 for x < −3, (2x + 3)/6 for −3 < x < 3 and 1 for x > 3; not "
    "differentiable at x = −3 (left 0, right −1/2), where it is 0, and at x = 3 (left 3/2, "
    "right 1), where it is 1: relu6's gradient is 0 at its kinks and the product rule gives "
    "relu6(x + 3)/6 there (PyTorch uses (2x + 3)/6 at both)":
        "勾配は x < −3 で 0、−3 < x < 3 で (2x + 3)/6、x > 3 で 1。x = −3（左 0、右 −1/2）では"
        "微分できず値は 0、x = 3（左 3/2、右 1）でも微分できず値は 1: relu6 の勾配が折れ点で 0 "
        "なので、積の微分がそこで relu6(x + 3)/6 を与える（PyTorch はどちらの点でも "
        "(2x + 3)/6 を使う）",
    "smooth everywhere, so no convention at a kink is needed":
        "至る所で滑らかなので、折れ点での慣例は要らない",
    "alpha = {0} and scale = {1} (Klambauer et al., as PyTorch and JAX)":
        "alpha = {0}、scale = {1}（Klambauer ら。PyTorch や JAX と同じ）",
    "not differentiable at x = 0; the x > 0 branch is strict, so the gradient there is "
    "scale·alpha (the left branch's, as PyTorch's)":
        "x = 0 で微分できない。x > 0 の分岐は等号を含まないので、そこでの勾配は scale·alpha"
        "（左の分岐の値。PyTorch と同じ）",
    "continuously differentiable: both branches have gradient 1 at x = 0 (the x > 0 branch is "
    "strict; the left one gives exp(0) = 1 there)":
        "連続微分可能: x = 0 で両方の分岐の勾配が 1（x > 0 の分岐は等号を含まず、左の分岐は"
        "そこで exp(0) = 1 を与える）",
    "|x| has a kink at 0 but softsign does not: its gradient 1/(1 + |x|)² is 1 there (sign(0) = "
    "0 in the steps)":
        "|x| は 0 で折れ曲がるが softsign はそうではない: 勾配 1/(1 + |x|)² はそこで 1"
        "（ステップでは sign(0) = 0）",
    "smooth everywhere": "至る所で滑らか",
    "the gradient is sigmoid(−x) = 1 − exp(out)": "勾配は sigmoid(−x) = 1 − exp(out)",
    "the gradient tanh(x)² is 0 at x = 0 and tends to 1 as |x| grows":
        "勾配 tanh(x)² は x = 0 で 0、|x| が大きくなると 1 に近づく",
    "x is a probability, 0 < x < 1 (the loss is infinite at 0 and 1: no clamping, unlike "
    "PyTorch's log ≥ −100)":
        "x は確率で 0 < x < 1（損失は 0 と 1 で無限大: PyTorch の log ≥ −100 と違い、値を"
        "切り詰めない）",
    "t is the target in [0, 1], an input here, so dL/dt is derived too":
        "t は [0, 1] の目標値で、ここでは入力なので dL/dt も導出する",
    "x is a logit (any real), t the target in [0, 1], an input here (dL/dt = −x)":
        "x はロジット（任意の実数）、t は [0, 1] の目標値で、ここでは入力（dL/dt = −x）",
    "written as (1 − t)·x + softplus(−x) (TensorFlow's form), equal to −(t·log sigmoid(x) + "
    "(1 − t)·log(1 − sigmoid(x)))":
        "(1 − t)·x + softplus(−x) と書く（TensorFlow の形）。これは −(t·log sigmoid(x) + "
        "(1 − t)·log(1 − sigmoid(x))) に等しい",
    "smooth in x, so no convention at x = 0: the gradient is sigmoid(x) − t everywhere":
        "x について滑らかなので x = 0 での慣例は要らない: 勾配は至る所で sigmoid(x) − t",
    "½(x − t)² where |x − t| < delta, delta·(|x − t| − ½·delta) elsewhere":
        "|x − t| < delta では ½(x − t)²、それ以外では delta·(|x − t| − ½·delta)",
    "t is the target, an input here (dL/dt = −dL/dx)": "t は目標値で、ここでは入力（dL/dt = −dL/dx）",
    "continuously differentiable: at |x − t| = delta both branches give the gradient x − t = "
    "delta·sign(x − t)":
        "連続微分可能: |x − t| = delta で両方の分岐が勾配 x − t = delta·sign(x − t) を与える",
    "at x = t it is 0": "x = t では 0",
    "½(x − t)²/beta where |x − t| < beta, |x − t| − ½·beta elsewhere (PyTorch's, beta > 0)":
        "|x − t| < beta では ½(x − t)²/beta、それ以外では |x − t| − ½·beta"
        "（PyTorch の定義、beta > 0）",
    "continuously differentiable: at |x − t| = beta both branches give the gradient (x − t)/beta "
    "= sign(x − t)":
        "連続微分可能: |x − t| = beta で両方の分岐が勾配 (x − t)/beta = sign(x − t) を与える",
    "the gradient there is sign(0) = 0 (as PyTorch's l1_loss)":
        "そこでの勾配は sign(0) = 0（PyTorch の l1_loss と同じ）",
    "written as (x − t) + softplus(−2·(x − t)) − log 2, which equals log(cosh(x − t)), because "
    "cosh overflows beyond |x − t| ≈ 710 and the exported code must not":
        "(x − t) + softplus(−2·(x − t)) − log 2 と書く。これは log(cosh(x − t)) に等しい。cosh は "
        "|x − t| ≈ 710 を超えるとオーバーフローするが、エクスポートするコードはそうなっては"
        "ならないからである",
    "smooth everywhere, gradient tanh(x − t) = 1 − 2·sigmoid(−2·(x − t))":
        "至る所で滑らかで、勾配は tanh(x − t) = 1 − 2·sigmoid(−2·(x − t))",
    "t is the label, −1 or 1 (any real works), an input here: dL/dx = −t and dL/dt = −x where "
    "t·x < 1, 0 elsewhere":
        "t はラベルで −1 か 1（任意の実数でもよい）、ここでは入力: t·x < 1 では dL/dx = −t、"
        "dL/dt = −x、それ以外では 0",
    "as the book's ReLU at 0, the gradient there is 0":
        "本書の ReLU の 0 での扱いと同じく、そこでの勾配は 0",
    "x of higher rank is flattened to (N, D) first, as the book does, and dx is reshaped back":
        "x がより高い次元なら、本書と同じくまず (N, D) に平坦化し、dx は元の形状に戻す",
    "dout is the scalar upstream gradient (1 when L is the final loss)":
        "dout は上流から来るスカラーの勾配（L が最終的な損失なら 1）",
    "code also accepts label indices t (shape (N,)), read as one-hot rows":
        "コードはラベルのインデックス t（形状 (N,)）も受け付け、one-hot の行として読む",
    "normalisation: half the sum of squares, averaged over the batch (the book's 0.5·Σ(y − t)² "
    "per example, / N like its cross-entropy)":
        "正規化: 二乗和の半分をバッチで平均する（1 例あたり本書の 0.5·Σ(y − t)²、本書の交差"
        "エントロピーと同じく / N）",
    "statistics of each feature over the batch (axis 0); std = sqrt(var + eps), the book's eps "
    "= 1e-6 in code":
        "各特徴量の統計量をバッチ方向（軸 0）でとる。std = sqrt(var + eps)、コードでは本書と同じ "
        "eps = 1e-6",
    "statistics of each row over its features (axis 1); std = sqrt(var + eps), the book's eps "
    "= 1e-6 in code":
        "各行の統計量を特徴量の方向（軸 1）でとる。std = sqrt(var + eps)、コードでは本書と同じ "
        "eps = 1e-6",
    "mask is cached from forward (1 keeps a unit, 0 drops it); at test time out = x·(1 − ratio)":
        "mask は順伝播で保持しておく（1 はニューロンを残し、0 は消去する）。テスト時は "
        "out = x·(1 − ratio)",
    "x is (N, C, H, Wd) (Wd, the width, keeps the name W for the filters), W is (FN, C, FH, FW), "
    "out is (N, FN, OH, OW) with OH = 1 + (H + 2·pad − FH)//stride and OW = 1 + (Wd + 2·pad − "
    "FW)//stride; x reads 0 outside its range (zero padding)":
        "x は (N, C, H, Wd)（幅は Wd。W という名前はフィルターに残す）、W は (FN, C, FH, FW)、"
        "out は (N, FN, OH, OW) で、OH = 1 + (H + 2·pad − FH)//stride、"
        "OW = 1 + (Wd + 2·pad − FW)//stride。x は範囲外を 0 として読む（ゼロパディング）",
    "windows(x, FH, FW, stride, pad) is the book's im2col before its reshape, shape (N, C, FH, "
    "FW, OH, OW); fold is col2im, its vector-Jacobian product: overlapping windows add up":
        "windows(x, FH, FW, stride, pad) は reshape 前の本書の im2col で、形状は "
        "(N, C, FH, FW, OH, OW)。fold は col2im で、そのベクトル・ヤコビアン積: 重なる"
        "ウィンドウは足し合わされる",
    "stride and pad stay symbols in the index-form proofs, so every step holds for every stride "
    "≥ 1 and pad ≥ 0 as for every size; the numeric cross-checks run at stride 2, pad 1 and at "
    "stride 1, pad 0":
        "添字形式の証明では stride と pad は記号のままなので、どのステップもすべての大きさと同様に"
        "すべての stride ≥ 1、pad ≥ 0 で成り立つ。数値によるクロスチェックは stride 2、pad 1 と "
        "stride 1、pad 0 で行う",
    "x is (N, C, H, Wd), out is (N, C, OH, OW) with OH = 1 + (H + 2·pad − pool_h)//stride; "
    "padding reads 0 and takes part in the maximum, as the book's im2col":
        "x は (N, C, H, Wd)、out は (N, C, OH, OW) で、OH = 1 + (H + 2·pad − pool_h)//stride。"
        "パディングは 0 として読み、最大値の比較にも加わる。本書の im2col と同じ",
    "the gradient of each window goes to its maximum; at a tie, to the first maximum in window "
    "order (row by row, np.argmax's convention), which takes the whole gradient, as the book's "
    "Pooling":
        "各ウィンドウの勾配はその最大値へ行く。同値のときはウィンドウ順（行ごと、np.argmax の"
        "慣例）で最初の最大値が勾配をすべて受け取る。本書の Pooling と同じ",
    "proven: the index form of the step with the first-maximum mask held as an array that is "
    "locally constant in x (true away from ties, where the maximum is a fixed entry) for every "
    "size, window, stride and pad; central differences at random points (ties have probability "
    "0)":
        "証明: 最初の最大値のマスクを x について局所的に定数な配列とみなし（同値のない所では"
        "正しく、そこで最大値は決まった要素）、すべての大きさ・ウィンドウ・stride・pad について"
        "ステップの添字形式を証明した。ランダムな点での中心差分も確認（同値の確率は 0）",
    "idx holds row numbers (word ids), an index array that is not differentiated; backward "
    "returns None and dW adds dout at rows idx, repeated ids accumulating (np.add.at)":
        "idx は行番号（単語 ID）を持つインデックス配列で、微分しない。backward は None を返し、"
        "dW は idx の行に dout を足す。同じ ID が繰り返されれば累積する（np.add.at）",
    "the same W serves every time step, so dW adds the rows of every step: the sum over t of "
    "the per-step gradients":
        "同じ W をすべての時刻で使うので、dW はすべての時刻の行を足す: 時刻ごとの勾配の t に"
        "ついての和",
    "L = −(1/N) Σ_n (t[n]·log y[n] + (1 − t[n])·log(1 − y[n])) with y = sigmoid(x); t is the 0/1 "
    "label of each score, as in word2vec's negative sampling":
        "L = −(1/N) Σ_n (t[n]·log y[n] + (1 − t[n])·log(1 − y[n]))、ただし y = sigmoid(x)。"
        "t は各スコアの 0/1 のラベルで、word2vec の Negative Sampling（負例サンプリング）と同じ",
    "the exported forward computes the logs as softplus terms, finite for every score":
        "エクスポートした順伝播は log を softplus の項で計算するので、どのスコアでも有限",
    "one time step; dh_next arrives as dout, and dh_prev is what flows back to step t − 1":
        "1 時刻分のステップ。dh_next が dout として届き、dh_prev が時刻 t − 1 へ逆に流れる",
    "the four gates are packed in one (D, 4H) matrix in the book's order f, g, i, o: A[:, :H] is "
    "the forget gate, A[:, H:2*H] the new memory, A[:, 2*H:3*H] the input gate, A[:, 3*H:] the "
    "output gate":
        "四つのゲートは本書の順序 f, g, i, o で一つの (D, 4H) 行列にまとめてある: A[:, :H] が "
        "forget ゲート、A[:, H:2*H] が新しい記憶セル、A[:, 2*H:3*H] が input ゲート、"
        "A[:, 3*H:] が output ゲート",
    "two outputs, each with its own upstream gradient: backward(dh_next, dc_next) returns dx, "
    "dh_prev, dc_prev; the gate gradients are stacked back in the same order (np.concatenate, "
    "the book's np.hstack)":
        "出力は二つで、それぞれに上流の勾配がある: backward(dh_next, dc_next) は dx, dh_prev, "
        "dc_prev を返す。ゲートの勾配は同じ順序で積み直す（np.concatenate。本書では np.hstack）",
    "packed in the order z (update gate), r (reset gate), h̃ (candidate): Wx[:, :H], Wx[:, H:2*H], "
    "Wx[:, 2*H:] and likewise Wh, b; the reset gate scales h_prev before its matrix product, so "
    "the slices are of the weights":
        "z（update ゲート）、r（reset ゲート）、h̃（候補）の順にまとめてある: Wx[:, :H], "
        "Wx[:, H:2*H], Wx[:, 2*H:]、Wh と b も同様。reset ゲートは行列の積の前に h_prev に"
        "掛かるので、スライスは重みの側でとる",
    "the derivation unrolls two steps, h_t = tanh(h_(t−1)·Wh + x_t·Wx + b), each h_t an output "
    "with its own upstream gradient dh_t: the gradient reaching h1 is dh1 plus what step 2 "
    "passes back through Wh (the same between any two steps, for any T), and the shared Wx, Wh, "
    "b collect one term per step (their gradients add up over t)":
        "導出は 2 ステップを展開する。h_t = tanh(h_(t−1)·Wh + x_t·Wx + b) で、各 h_t はそれぞれの"
        "上流の勾配 dh_t を受ける出力: h1 に届く勾配は、dh1 にステップ 2 が Wh を通して返すものを"
        "足したもの（どの T でも隣り合う二つのステップの間で同じ）。共有される Wx, Wh, b は"
        "ステップごとに一つずつ項を集める（勾配を t について足し合わせる）",
    "the exported TimeRNN(Wx, Wh, b, stateful=False) runs the cell over any T: forward(xs (N, T, "
    "D)) → hs (N, T, H), backward(dhs) → dxs, summing the steps' weight gradients":
        "エクスポートした TimeRNN(Wx, Wh, b, stateful=False) は任意の T にわたってセルを実行する: "
        "forward(xs (N, T, D)) → hs (N, T, H)、backward(dhs) → dxs で、各ステップの重みの勾配を"
        "足し合わせる",
    "dh is the gradient to the initial state": "dh は初期状態への勾配",
    "one step of the loop is derived here (the {0} cell)": "ここではループの 1 ステップ（{0} セル）を導出する",
    "through time, dh_prev and dc_prev of step t are added to the upstream gradients of step "
    "t − 1, and the steps' dWx, dWh, db add up, as time_rnn's page shows unrolled":
        "時間方向には、時刻 t の dh_prev と dc_prev を時刻 t − 1 の上流の勾配に足し、各ステップの "
        "dWx, dWh, db を合計する。time_rnn のページが展開して示すとおり",
    "the exported {0}: {1}": "エクスポートした {0}: {1}",
    "dh and dc hold the gradients to the initial state": "dh と dc は初期状態への勾配を持つ",
    "through time, dh_prev of step t is added to the upstream gradient of step t − 1 and the "
    "steps' weight gradients add up, as time_rnn's page shows unrolled":
        "時間方向には、時刻 t の dh_prev を時刻 t − 1 の上流の勾配に足し、各ステップの重みの勾配を"
        "合計する。time_rnn のページが展開して示すとおり",
    "dh holds the gradient to the initial state": "dh は初期状態への勾配を持つ",
    "the same W and b at every step: their gradients add up over n and t (the einsum sums over "
    "both), as the book's reshape to (N·T, D) does":
        "すべての時刻で同じ W と b を使う: その勾配は n と t について足し合わされる（einsum が"
        "両方について和をとる）。本書が (N·T, D) に reshape するのと同じ",
    "L = −(1/(N·T)) Σ_n Σ_t Σ_v t[n,t,v]·log y[n,t,v], softmax over the vocabulary axis":
        "L = −(1/(N·T)) Σ_n Σ_t Σ_v t[n,t,v]·log y[n,t,v]、softmax は語彙の軸についてとる",
    "code also accepts label indices t of shape (N, T)":
        "コードは形状 (N, T) のラベルのインデックス t も受け付ける",
    "inverted dropout: the kept units are scaled by 1/(1 − ratio) in training, so at test time "
    "out = x":
        "inverted dropout: 学習時に残したニューロンを 1/(1 − ratio) 倍するので、テスト時は out = x",
    "the book's TimeAttention runs one Attention per decoder step u":
        "本書の TimeAttention はデコーダの時刻 u ごとに Attention を一つ実行する",
    "written with np.einsum the S steps are one batched product: s[n, u, t] = "
    "hs_enc[n, t]·hs_dec[n, u], a = softmax over t, c[n, u] = Σ_t a[n, u, t]·hs_enc[n, t]":
        "np.einsum で書くと S 個のステップが一つのバッチ化された積になる: s[n, u, t] = "
        "hs_enc[n, t]·hs_dec[n, u]、a = t についての softmax、c[n, u] = Σ_t a[n, u, t]·hs_enc[n, t]",
    "hs_enc reaches c by two paths at every step, through the weights a and directly: its "
    "gradient adds both, summed over the decoder steps":
        "hs_enc はどの時刻でも二つの経路で c に届く。重み a を通る経路と直接の経路: その勾配は"
        "両方を足し、デコーダの時刻について合計する",
    "a holds one weight per time step; its axis of size 1 is added so that it broadcasts over H":
        "a は時刻ごとに重みを一つ持つ。大きさ 1 の軸を加えて H の方向へブロードキャストされる"
        "ようにする",
    "hs reaches c by two paths, through the weights a and directly; its gradient adds both":
        "hs は二つの経路で c に届く。重み a を通る経路と直接の経路。その勾配は両方を足す",
}
