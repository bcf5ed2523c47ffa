"""한국어: the notes — the rule table's (derive.rules), the engine's and the catalogue's.

A catalogue layer's notes are one entry each (an entry may hold "; "); its formulas stay
as they are. See :mod:`derive.render.lang`.
"""

PHRASES = {
    # --- the rule table and the engine ---
    "the gradient passes unchanged": "기울기가 그대로 전해진다",
    "the inputs swap: dL/dx = dout·y, dL/dy = dout·x": "입력이 서로 바뀐다: dL/dx = dout·y, dL/dy = dout·x",
    "the gradient flows into the branch that was taken": "기울기는 선택된 분기로 흘러간다",
    "{0} feeds {1} nodes; their gradients add": "{0}에서 노드 {1}개로 갈라진다. 각 기울기를 더한다",
    "{0}, from {1}": "{1}에서 얻은 {0}",
    "each branch inverted": "각 분기를 역함수로 되돌림",
    "conditions read on out": "조건은 out으로 판정",
    "out > 0 exactly where x > 0, so the condition can be read on out":
        "out > 0인 곳은 정확히 x > 0인 곳이므로, 조건을 out으로 판정할 수 있다",
    "not differentiable at {0}": "{0}에서 미분할 수 없다",
    "not differentiable where {0}": "{0}인 곳에서 미분할 수 없다",
    "defined for {0}": "{0}에서 정의된다",
    "the gradient there is taken as 0 (the book's ReLU convention)":
        "그곳의 기울기는 0으로 둔다 (책의 ReLU와 같은 관례)",
    "sign(0) = 0 is used there": "그곳에서는 sign(0) = 0을 쓴다",
    "not differentiable at 0 (the slope is infinite there)": "0에서 미분할 수 없다 (그곳의 기울기는 무한대)",
    "undefined at odd multiples of π/2": "π/2의 홀수 배에서 정의되지 않는다",
    "defined for -1 ≤ x ≤ 1, differentiable inside": "-1 ≤ x ≤ 1에서 정의되고, 그 안쪽에서 미분할 수 있다",
    "defined for x ≥ 1, differentiable for x > 1": "x ≥ 1에서 정의되고, x > 1에서 미분할 수 있다",
    "a 0/1 mask: its derivative is 0 except at the step, where it is undefined":
        "0/1 마스크: 도함수는 계단 밖에서 0이고, 계단에서는 정의되지 않는다",
    "a step function: its derivative is 0 away from the steps, where it is undefined":
        "계단 함수: 도함수는 계단 밖에서 0이고, 계단에서는 정의되지 않는다",
    "a step function: its derivative is 0 away from the steps, where it is undefined (at 0)":
        "계단 함수: 도함수는 계단 밖에서 0이고, 계단(0)에서는 정의되지 않는다",
    "a step function: its derivative is 0 away from the steps, where it is undefined (at the "
    "integers)": "계단 함수: 도함수는 계단 밖에서 0이고, 계단(정수)에서는 정의되지 않는다",
    "a step function: its derivative is 0 away from the steps, where it is undefined (at the "
    "half-integers; halves round to even)":
        "계단 함수: 도함수는 계단 밖에서 0이고, 계단(반정수. 절반은 짝수 쪽으로 반올림)에서는 "
        "정의되지 않는다",
    "np.maximum(a, b) is np.where(a >= b, a, b): at a tie the gradient flows into a, the first "
    "argument (TensorFlow's convention); np.maximum(0, x) and np.maximum(x, 0) are the ReLU, 0 "
    "at x = 0 as in the book":
        "np.maximum(a, b)는 np.where(a >= b, a, b)이다: 동점이면 기울기는 첫 번째 인수 a로 "
        "흐른다 (TensorFlow의 관례). np.maximum(0, x)와 np.maximum(x, 0)은 ReLU이며, 책에서처럼 "
        "x = 0에서 0이다",
    "np.minimum(a, b) is np.where(a <= b, a, b): at a tie the gradient flows into a, the first "
    "argument; with a 0 argument it is -ReLU(-x), 0 at the tie":
        "np.minimum(a, b)는 np.where(a <= b, a, b)이다: 동점이면 기울기는 첫 번째 인수 a로 "
        "흐른다. 인수 하나가 0이면 -ReLU(-x)가 되어 동점에서 0이다",
    "np.clip(x, lo, hi): the gradient flows into x for lo ≤ x ≤ hi (ends included, as "
    "PyTorch's clamp), into lo below and hi above":
        "np.clip(x, lo, hi): lo ≤ x ≤ hi이면 기울기는 x로 흐르고 (양 끝 포함, PyTorch의 clamp와 "
        "같다), 그 아래에서는 lo로, 위에서는 hi로 흐른다",
    "np.heaviside(x, h0) is h0 at x = 0; its derivative is 0 away from 0":
        "np.heaviside(x, h0)는 x = 0에서 h0이다. 도함수는 0이 아닌 곳에서 0이다",
    "windows(x, FH, FW, stride, pad): element [n, c, p, q, i, j] is x[n, c, i·stride + p − pad, "
    "j·stride + q − pad], 0 outside x (zero padding)":
        "windows(x, FH, FW, stride, pad): 원소 [n, c, p, q, i, j]는 "
        "x[n, c, i·stride + p − pad, j·stride + q − pad]이고, x 밖에서는 0 (제로 패딩)",
    "fold (col2im) adds each window back where it was read; overlapping windows add up":
        "fold(col2im)는 각 윈도를 읽어 온 자리에 다시 더한다. 겹치는 윈도는 더해진다",
    "W[idx] picks rows of W": "W[idx]는 W의 행을 고른다",
    "an index array is not differentiated": "인덱스 배열은 미분하지 않는다",
    "rows of G added at rows idx of zeros: repeated indices accumulate (np.add.at)":
        "G의 행들을 0 배열의 idx 행에 더한다: 반복되는 인덱스는 누적된다 (np.add.at)",
    "a[:, a:b] along one axis": "한 축을 따라 a[:, a:b]",
    "its gradient is placed back into zeros": "그 기울기는 0으로 채운 배열의 제자리에 놓인다",
    "the layer's outputs, each with its own upstream gradient d<output>":
        "계층의 출력들. 각 출력은 자신의 상류 기울기 d<output>을 받는다",
    "np.max over axes passes the gradient to the first maximum of each window in window order "
    "(np.argmax's convention): at a tie that one entry takes the whole gradient, the others 0, "
    "as the book's Pooling":
        "축에 대한 np.max는 각 윈도에서 윈도 순서로 첫 번째 최댓값에 기울기를 보낸다 "
        "(np.argmax의 관례): 동점이면 그 원소 하나가 기울기 전부를 받고 나머지는 0이다. "
        "책의 Pooling과 같다",
    "a maximum the layer only shifts by (a stable softmax) passes nothing, its gradient is "
    "proven 0": "계층이 값을 옮기는 데만 쓰는 최댓값(안정한 softmax)은 아무것도 전하지 않으며, "
    "그 기울기가 0임을 증명했다",
    "the gradient arriving at {0} is 0 (proven): the layer only shifts by the maximum, which "
    "does not change its output, so nothing flows back through np.max":
        "{0}에 전해지는 기울기는 0이다 (증명됨): 계층은 최댓값만큼 값을 옮길 뿐이고 이는 출력을 "
        "바꾸지 않으므로, np.max를 거쳐 되돌아가는 것은 없다",
    "np.max over axes is Σ_window M·a with M the 0/1 mask of the first maximum of each window":
        "축에 대한 np.max는 Σ_window M·a이다. 여기서 M은 각 윈도의 첫 번째 최댓값을 나타내는 "
        "0/1 마스크다",
    "M is locally constant in a away from ties (a fixed entry is the maximum there), so SymPy's "
    "derivative of Σ G·(Σ_window M·a), with M held as such an array, has the canonical form of "
    "the rule's G·M for every size":
        "M은 동점이 아닌 곳에서 a에 대해 국소적으로 상수다 (그곳에서는 고정된 원소가 최댓값이다). "
        "그래서 M을 그런 배열로 두고 Σ G·(Σ_window M·a)를 SymPy로 미분한 도함수는 모든 크기에서 "
        "규칙의 G·M과 정규형이 같다",
    "central differences at random points (no ties) agree. At a tie the rule is a convention: "
    "the first maximum takes the whole gradient (np.argmax)":
        "무작위 점(동점 없음)에서 중심 차분이 일치한다. 동점에서는 규칙이 관례다: 첫 번째 "
        "최댓값이 기울기 전부를 받는다 (np.argmax)",
    # --- the catalogue (derive/catalogue.py, catalogue_book2.py) ---
    "ReLU is not differentiable at x = 0": "ReLU는 x = 0에서 미분할 수 없다",
    "as in the book, the gradient there is 0": "책에서처럼 그곳의 기울기는 0이다",
    "at x = 0 the gradient is alpha (the x > 0 branch is strict, as ReLU's)":
        "x = 0에서 기울기는 alpha다 (x > 0 분기가 등호를 포함하지 않기 때문이며, ReLU와 같다)",
    "at x = 0 the gradient is alpha (the x > 0 branch is strict)":
        "x = 0에서 기울기는 alpha다 (x > 0 분기가 등호를 포함하지 않으므로)",
    "not differentiable at x = 0 and x = 6; the gradient is 1 only for 0 < x < 6 and 0 at both "
    "kinks (0 at 0 as the book's ReLU; at 6 np.minimum's tie goes to its first argument, the "
    "constant 6), as PyTorch's ReLU6":
        "x = 0과 x = 6에서 미분할 수 없다. 기울기는 0 < x < 6에서만 1이고 두 꺾인 점에서는 0이다 "
        "(0에서는 책의 ReLU처럼 0, 6에서는 np.minimum의 동점이 첫 번째 인수인 상수 6으로 가므로). "
        "PyTorch의 ReLU6과 같다",
    "not differentiable at x = ±1; the gradient is 1 only for −1 < x < 1 and 0 at both ends, as "
    "PyTorch's Hardtanh and ReLU6 (np.clip(x, -1, 1) would give 1 at the ends, torch.clamp's "
    "convention)":
        "x = ±1에서 미분할 수 없다. 기울기는 −1 < x < 1에서만 1이고 양 끝에서는 0이다. PyTorch의 "
        "Hardtanh, ReLU6과 같다 (np.clip(x, -1, 1)이라면 양 끝에서 1이 되는데, 이는 torch.clamp의 "
        "관례다)",
    "not differentiable at x = ±3; the gradient is 1/6 only for −3 < x < 3 and 0 at both ends "
    "(relu6's convention), as PyTorch's Hardsigmoid":
        "x = ±3에서 미분할 수 없다. 기울기는 −3 < x < 3에서만 1/6이고 양 끝에서는 0이다 "
        "(relu6의 관례). PyTorch의 Hardsigmoid와 같다",
    "the gradient is 0 for x < −3, (2x + 3)/6 for −3 < x < 3 and 1 for x > 3; not "
    "differentiable at x = −3 (left 0, right −1/2), where it is 0, and at x = 3 (left 3/2, "
    "right 1), where it is 1: relu6's gradient is 0 at its kinks and the product rule gives "
    "relu6(x + 3)/6 there (PyTorch uses (2x + 3)/6 at both)":
        "기울기는 x < −3에서 0, −3 < x < 3에서 (2x + 3)/6, x > 3에서 1이다. x = −3 (왼쪽 0, "
        "오른쪽 −1/2)에서 미분할 수 없고 그곳의 값은 0이며, x = 3 (왼쪽 3/2, 오른쪽 1)에서도 "
        "미분할 수 없고 그곳의 값은 1이다: relu6의 기울기가 꺾인 점에서 0이므로 곱의 미분법이 "
        "그곳에서 relu6(x + 3)/6을 준다 (PyTorch는 두 점 모두 (2x + 3)/6을 쓴다)",
    "smooth everywhere, so no convention at a kink is needed":
        "어디서나 매끄러우므로 꺾인 점의 관례가 필요 없다",
    "alpha = {0} and scale = {1} (Klambauer et al., as PyTorch and JAX)":
        "alpha = {0}, scale = {1} (Klambauer 외. PyTorch, JAX와 같다)",
    "not differentiable at x = 0; the x > 0 branch is strict, so the gradient there is "
    "scale·alpha (the left branch's, as PyTorch's)":
        "x = 0에서 미분할 수 없다. x > 0 분기가 등호를 포함하지 않으므로 그곳의 기울기는 "
        "scale·alpha다 (왼쪽 분기의 값. PyTorch와 같다)",
    "continuously differentiable: both branches have gradient 1 at x = 0 (the x > 0 branch is "
    "strict; the left one gives exp(0) = 1 there)":
        "연속 미분 가능하다: x = 0에서 두 분기의 기울기가 모두 1이다 (x > 0 분기는 등호를 "
        "포함하지 않고, 왼쪽 분기는 그곳에서 exp(0) = 1을 준다)",
    "|x| has a kink at 0 but softsign does not: its gradient 1/(1 + |x|)² is 1 there (sign(0) = "
    "0 in the steps)":
        "|x|는 0에서 꺾이지만 softsign은 그렇지 않다: 기울기 1/(1 + |x|)²는 그곳에서 1이다 "
        "(단계에서는 sign(0) = 0)",
    "smooth everywhere": "어디서나 매끄럽다",
    "the gradient is sigmoid(−x) = 1 − exp(out)": "기울기는 sigmoid(−x) = 1 − exp(out)이다",
    "the gradient tanh(x)² is 0 at x = 0 and tends to 1 as |x| grows":
        "기울기 tanh(x)²는 x = 0에서 0이고, |x|가 커지면 1에 가까워진다",
    "x is a probability, 0 < x < 1 (the loss is infinite at 0 and 1: no clamping, unlike "
    "PyTorch's log ≥ −100)":
        "x는 확률로 0 < x < 1이다 (손실은 0과 1에서 무한대다: PyTorch의 log ≥ −100과 달리 값을 "
        "잘라 내지 않는다)",
    "t is the target in [0, 1], an input here, so dL/dt is derived too":
        "t는 [0, 1]의 목표값이며 여기서는 입력이므로 dL/dt도 유도한다",
    "x is a logit (any real), t the target in [0, 1], an input here (dL/dt = −x)":
        "x는 로짓(임의의 실수), t는 [0, 1]의 목표값이며 여기서는 입력이다 (dL/dt = −x)",
    "written as (1 − t)·x + softplus(−x) (TensorFlow's form), equal to −(t·log sigmoid(x) + "
    "(1 − t)·log(1 − sigmoid(x)))":
        "(1 − t)·x + softplus(−x)로 쓴다 (TensorFlow의 형태). 이는 −(t·log sigmoid(x) + "
        "(1 − t)·log(1 − sigmoid(x)))와 같다",
    "smooth in x, so no convention at x = 0: the gradient is sigmoid(x) − t everywhere":
        "x에 대해 매끄러우므로 x = 0에서의 관례가 필요 없다: 기울기는 어디서나 sigmoid(x) − t이다",
    "½(x − t)² where |x − t| < delta, delta·(|x − t| − ½·delta) elsewhere":
        "|x − t| < delta인 곳에서는 ½(x − t)², 그 밖에서는 delta·(|x − t| − ½·delta)",
    "t is the target, an input here (dL/dt = −dL/dx)": "t는 목표값이며 여기서는 입력이다 (dL/dt = −dL/dx)",
    "continuously differentiable: at |x − t| = delta both branches give the gradient x − t = "
    "delta·sign(x − t)":
        "연속 미분 가능하다: |x − t| = delta에서 두 분기 모두 기울기 x − t = delta·sign(x − t)를 준다",
    "at x = t it is 0": "x = t에서는 0이다",
    "½(x − t)²/beta where |x − t| < beta, |x − t| − ½·beta elsewhere (PyTorch's, beta > 0)":
        "|x − t| < beta인 곳에서는 ½(x − t)²/beta, 그 밖에서는 |x − t| − ½·beta "
        "(PyTorch의 정의, beta > 0)",
    "continuously differentiable: at |x − t| = beta both branches give the gradient (x − t)/beta "
    "= sign(x − t)":
        "연속 미분 가능하다: |x − t| = beta에서 두 분기 모두 기울기 (x − t)/beta = sign(x − t)를 준다",
    "the gradient there is sign(0) = 0 (as PyTorch's l1_loss)":
        "그곳의 기울기는 sign(0) = 0이다 (PyTorch의 l1_loss와 같다)",
    "written as (x − t) + softplus(−2·(x − t)) − log 2, which equals log(cosh(x − t)), because "
    "cosh overflows beyond |x − t| ≈ 710 and the exported code must not":
        "(x − t) + softplus(−2·(x − t)) − log 2로 쓴다. 이는 log(cosh(x − t))와 같은데, cosh는 "
        "|x − t| ≈ 710을 넘으면 오버플로하고 내보낸 코드는 그래서는 안 되기 때문이다",
    "smooth everywhere, gradient tanh(x − t) = 1 − 2·sigmoid(−2·(x − t))":
        "어디서나 매끄럽고, 기울기는 tanh(x − t) = 1 − 2·sigmoid(−2·(x − t))",
    "t is the label, −1 or 1 (any real works), an input here: dL/dx = −t and dL/dt = −x where "
    "t·x < 1, 0 elsewhere":
        "t는 레이블로 −1 또는 1이며 (임의의 실수도 된다) 여기서는 입력이다: t·x < 1인 곳에서 "
        "dL/dx = −t, dL/dt = −x이고 그 밖에서는 0",
    "as the book's ReLU at 0, the gradient there is 0": "책의 ReLU가 0에서 그렇듯 그곳의 기울기는 0이다",
    "x of higher rank is flattened to (N, D) first, as the book does, and dx is reshaped back":
        "x의 차원이 더 높으면 책에서처럼 먼저 (N, D)로 평탄화하고, dx는 원래 형상으로 되돌린다",
    "dout is the scalar upstream gradient (1 when L is the final loss)":
        "dout은 상류에서 온 스칼라 기울기다 (L이 최종 손실이면 1)",
    "code also accepts label indices t (shape (N,)), read as one-hot rows":
        "코드는 레이블 인덱스 t (형상 (N,))도 받으며, 원-핫 행으로 읽는다",
    "normalisation: half the sum of squares, averaged over the batch (the book's 0.5·Σ(y − t)² "
    "per example, / N like its cross-entropy)":
        "정규화: 제곱합의 절반을 배치에 대해 평균한다 (예 하나당 책의 0.5·Σ(y − t)², 책의 교차 "
        "엔트로피처럼 / N)",
    "statistics of each feature over the batch (axis 0); std = sqrt(var + eps), the book's eps "
    "= 1e-6 in code":
        "각 특징의 통계량을 배치 방향(축 0)으로 구한다. std = sqrt(var + eps)이며, 코드에서는 "
        "책과 같이 eps = 1e-6",
    "statistics of each row over its features (axis 1); std = sqrt(var + eps), the book's eps "
    "= 1e-6 in code":
        "각 행의 통계량을 특징 방향(축 1)으로 구한다. std = sqrt(var + eps)이며, 코드에서는 "
        "책과 같이 eps = 1e-6",
    "mask is cached from forward (1 keeps a unit, 0 drops it); at test time out = x·(1 − ratio)":
        "mask는 순전파에서 저장해 둔다 (1은 뉴런을 남기고 0은 삭제한다). 시험 때는 "
        "out = x·(1 − ratio)",
    "x is (N, C, H, Wd) (Wd, the width, keeps the name W for the filters), W is (FN, C, FH, FW), "
    "out is (N, FN, OH, OW) with OH = 1 + (H + 2·pad − FH)//stride and OW = 1 + (Wd + 2·pad − "
    "FW)//stride; x reads 0 outside its range (zero padding)":
        "x는 (N, C, H, Wd) (너비는 Wd: 이름 W는 필터에 남겨 둔다), W는 (FN, C, FH, FW), out은 "
        "(N, FN, OH, OW)이며 OH = 1 + (H + 2·pad − FH)//stride, OW = 1 + (Wd + 2·pad − FW)//stride"
        "이다. x는 범위 밖에서 0으로 읽는다 (제로 패딩)",
    "windows(x, FH, FW, stride, pad) is the book's im2col before its reshape, shape (N, C, FH, "
    "FW, OH, OW); fold is col2im, its vector-Jacobian product: overlapping windows add up":
        "windows(x, FH, FW, stride, pad)는 reshape하기 전의 책의 im2col로, 형상은 "
        "(N, C, FH, FW, OH, OW)이다. fold는 col2im으로, windows의 벡터-야코비 곱이다: 겹치는 "
        "윈도는 더해진다",
    "stride and pad stay symbols in the index-form proofs, so every step holds for every stride "
    "≥ 1 and pad ≥ 0 as for every size; the numeric cross-checks run at stride 2, pad 1 and at "
    "stride 1, pad 0":
        "첨자 형태의 증명에서 stride와 pad는 기호로 남으므로, 모든 단계는 모든 크기에 대해서처럼 "
        "모든 stride ≥ 1, pad ≥ 0에 대해 성립한다. 수치 교차 검증은 stride 2, pad 1과 "
        "stride 1, pad 0에서 한다",
    "x is (N, C, H, Wd), out is (N, C, OH, OW) with OH = 1 + (H + 2·pad − pool_h)//stride; "
    "padding reads 0 and takes part in the maximum, as the book's im2col":
        "x는 (N, C, H, Wd), out은 (N, C, OH, OW)이며 OH = 1 + (H + 2·pad − pool_h)//stride이다. "
        "패딩은 0으로 읽고 최댓값 비교에도 참여한다. 책의 im2col과 같다",
    "the gradient of each window goes to its maximum; at a tie, to the first maximum in window "
    "order (row by row, np.argmax's convention), which takes the whole gradient, as the book's "
    "Pooling":
        "각 윈도의 기울기는 그 최댓값으로 간다. 동점이면 윈도 순서(행 우선, np.argmax의 관례)로 "
        "첫 번째 최댓값이 기울기 전부를 받는다. 책의 Pooling과 같다",
    "proven: the index form of the step with the first-maximum mask held as an array that is "
    "locally constant in x (true away from ties, where the maximum is a fixed entry) for every "
    "size, window, stride and pad; central differences at random points (ties have probability "
    "0)":
        "증명: 첫 번째 최댓값의 마스크를 x에 대해 국소적으로 상수인 배열로 두고 (동점이 아닌 "
        "곳에서는 참이며, 그곳에서 최댓값은 고정된 원소다) 모든 크기, 윈도, stride, pad에 대해 "
        "단계의 첨자 형태를 증명했다. 무작위 점에서 중심 차분도 확인했다 (동점의 확률은 0)",
    "idx holds row numbers (word ids), an index array that is not differentiated; backward "
    "returns None and dW adds dout at rows idx, repeated ids accumulating (np.add.at)":
        "idx는 행 번호(단어 ID)를 담은 인덱스 배열로, 미분하지 않는다. backward는 None을 "
        "돌려주고, dW는 idx의 행에 dout을 더한다. 같은 ID가 반복되면 누적된다 (np.add.at)",
    "the same W serves every time step, so dW adds the rows of every step: the sum over t of "
    "the per-step gradients":
        "같은 W를 모든 시각에서 쓰므로, dW는 모든 시각의 행을 더한다: 시각별 기울기를 t에 대해 "
        "더한 것이다",
    "L = −(1/N) Σ_n (t[n]·log y[n] + (1 − t[n])·log(1 − y[n])) with y = sigmoid(x); t is the 0/1 "
    "label of each score, as in word2vec's negative sampling":
        "L = −(1/N) Σ_n (t[n]·log y[n] + (1 − t[n])·log(1 − y[n])), 여기서 y = sigmoid(x). t는 "
        "각 점수의 0/1 레이블로, word2vec의 네거티브 샘플링과 같다",
    "the exported forward computes the logs as softplus terms, finite for every score":
        "내보낸 순전파는 log를 softplus 항으로 계산하므로 어떤 점수에서도 유한하다",
    "one time step; dh_next arrives as dout, and dh_prev is what flows back to step t − 1":
        "시각 하나의 단계. dh_next가 dout으로 들어오고, dh_prev가 시각 t − 1로 되돌아 흐른다",
    "the four gates are packed in one (D, 4H) matrix in the book's order f, g, i, o: A[:, :H] is "
    "the forget gate, A[:, H:2*H] the new memory, A[:, 2*H:3*H] the input gate, A[:, 3*H:] the "
    "output gate":
        "네 게이트는 책의 순서 f, g, i, o로 (D, 4H) 행렬 하나에 담겨 있다: A[:, :H]는 forget "
        "게이트, A[:, H:2*H]는 새로운 기억 셀, A[:, 2*H:3*H]는 input 게이트, A[:, 3*H:]는 output "
        "게이트",
    "two outputs, each with its own upstream gradient: backward(dh_next, dc_next) returns dx, "
    "dh_prev, dc_prev; the gate gradients are stacked back in the same order (np.concatenate, "
    "the book's np.hstack)":
        "출력이 둘이며 각자 상류 기울기를 받는다: backward(dh_next, dc_next)는 dx, dh_prev, "
        "dc_prev를 돌려준다. 게이트의 기울기는 같은 순서로 다시 쌓는다 (np.concatenate, 책에서는 "
        "np.hstack)",
    "packed in the order z (update gate), r (reset gate), h̃ (candidate): Wx[:, :H], Wx[:, H:2*H], "
    "Wx[:, 2*H:] and likewise Wh, b; the reset gate scales h_prev before its matrix product, so "
    "the slices are of the weights":
        "z (update 게이트), r (reset 게이트), h̃ (후보)의 순서로 담겨 있다: Wx[:, :H], "
        "Wx[:, H:2*H], Wx[:, 2*H:]이며 Wh, b도 마찬가지다. reset 게이트는 행렬 곱 전에 h_prev에 "
        "곱해지므로 슬라이스는 가중치 쪽에서 한다",
    "the derivation unrolls two steps, h_t = tanh(h_(t−1)·Wh + x_t·Wx + b), each h_t an output "
    "with its own upstream gradient dh_t: the gradient reaching h1 is dh1 plus what step 2 "
    "passes back through Wh (the same between any two steps, for any T), and the shared Wx, Wh, "
    "b collect one term per step (their gradients add up over t)":
        "유도는 두 단계를 펼친다. h_t = tanh(h_(t−1)·Wh + x_t·Wx + b)이고, 각 h_t는 자신의 상류 "
        "기울기 dh_t를 받는 출력이다: h1에 도달하는 기울기는 dh1에 단계 2가 Wh를 거쳐 돌려보내는 "
        "것을 더한 것이다 (어떤 T에서든 이웃한 두 단계 사이에서 같다). 공유하는 Wx, Wh, b는 "
        "단계마다 항을 하나씩 모은다 (기울기를 t에 대해 더한다)",
    "the exported TimeRNN(Wx, Wh, b, stateful=False) runs the cell over any T: forward(xs (N, T, "
    "D)) → hs (N, T, H), backward(dhs) → dxs, summing the steps' weight gradients":
        "내보낸 TimeRNN(Wx, Wh, b, stateful=False)는 임의의 T에 걸쳐 셀을 실행한다: "
        "forward(xs (N, T, D)) → hs (N, T, H), backward(dhs) → dxs이며, 각 단계의 가중치 "
        "기울기를 더한다",
    "dh is the gradient to the initial state": "dh는 초기 상태에 대한 기울기다",
    "one step of the loop is derived here (the {0} cell)": "여기서는 루프의 한 단계({0} 셀)를 유도한다",
    "through time, dh_prev and dc_prev of step t are added to the upstream gradients of step "
    "t − 1, and the steps' dWx, dWh, db add up, as time_rnn's page shows unrolled":
        "시간 방향으로는 시각 t의 dh_prev와 dc_prev를 시각 t − 1의 상류 기울기에 더하고, 각 "
        "단계의 dWx, dWh, db를 합한다. time_rnn 페이지가 펼쳐서 보여 주는 것과 같다",
    "the exported {0}: {1}": "내보낸 {0}: {1}",
    "dh and dc hold the gradients to the initial state": "dh와 dc는 초기 상태에 대한 기울기를 담는다",
    "through time, dh_prev of step t is added to the upstream gradient of step t − 1 and the "
    "steps' weight gradients add up, as time_rnn's page shows unrolled":
        "시간 방향으로는 시각 t의 dh_prev를 시각 t − 1의 상류 기울기에 더하고 각 단계의 가중치 "
        "기울기를 합한다. time_rnn 페이지가 펼쳐서 보여 주는 것과 같다",
    "dh holds the gradient to the initial state": "dh는 초기 상태에 대한 기울기를 담는다",
    "the same W and b at every step: their gradients add up over n and t (the einsum sums over "
    "both), as the book's reshape to (N·T, D) does":
        "모든 시각에서 같은 W와 b를 쓴다: 그 기울기는 n과 t에 대해 더해진다 (einsum이 둘 다에 "
        "대해 합한다). 책에서 (N·T, D)로 reshape하는 것과 같다",
    "L = −(1/(N·T)) Σ_n Σ_t Σ_v t[n,t,v]·log y[n,t,v], softmax over the vocabulary axis":
        "L = −(1/(N·T)) Σ_n Σ_t Σ_v t[n,t,v]·log y[n,t,v]이며, softmax는 어휘 축에 대해 한다",
    "code also accepts label indices t of shape (N, T)": "코드는 형상 (N, T)의 레이블 인덱스 t도 받는다",
    "inverted dropout: the kept units are scaled by 1/(1 − ratio) in training, so at test time "
    "out = x":
        "역 드롭아웃(inverted dropout): 학습 때 남긴 뉴런을 1/(1 − ratio)배 하므로, 시험 때는 "
        "out = x",
    "the book's TimeAttention runs one Attention per decoder step u":
        "책의 TimeAttention은 디코더의 시각 u마다 Attention을 하나씩 실행한다",
    "written with np.einsum the S steps are one batched product: s[n, u, t] = "
    "hs_enc[n, t]·hs_dec[n, u], a = softmax over t, c[n, u] = Σ_t a[n, u, t]·hs_enc[n, t]":
        "np.einsum으로 쓰면 S개의 단계가 배치된 곱 하나가 된다: s[n, u, t] = "
        "hs_enc[n, t]·hs_dec[n, u], a = t에 대한 softmax, c[n, u] = Σ_t a[n, u, t]·hs_enc[n, t]",
    "hs_enc reaches c by two paths at every step, through the weights a and directly: its "
    "gradient adds both, summed over the decoder steps":
        "hs_enc는 각 시각에서 두 경로로 c에 이른다. 가중치 a를 거치는 경로와 직접 가는 경로다: "
        "그 기울기는 둘을 더하고, 디코더의 시각에 대해 합한다",
    "a holds one weight per time step; its axis of size 1 is added so that it broadcasts over H":
        "a는 시각마다 가중치를 하나씩 가진다. 크기 1인 축을 붙여 H 방향으로 브로드캐스트되게 한다",
    "hs reaches c by two paths, through the weights a and directly; its gradient adds both":
        "hs는 두 경로로 c에 이른다. 가중치 a를 거치는 경로와 직접 가는 경로다. 그 기울기는 둘을 "
        "더한다",
}
