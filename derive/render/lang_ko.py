"""한국어: the walkthrough's fixed wording (KEYS) and the proofs' phrases (PHRASES).

Terms as in 『밑바닥부터 시작하는 딥러닝』: 계산 그래프, 순전파, 역전파, 국소적 미분,
연쇄법칙, 기울기, 노드, 계층, 상류. Plain style (~다). Placeholders ``{0}`` … keep the
English numbering and may move; after a placeholder (a formula, a name) use a particle
that does not depend on its last sound (에, 에서, 에 대한, 의, 와 is avoided).
See :mod:`derive.render.lang` for how keys and phrases are read.
"""

KEYS = {
    "; ": ". ",       # between the phrases of a note or a proof's detail
    "; {0}": "; {0}",
    # --- the walkthrough (derive.render.document) ---
    "{0}: layer {1}": "{0} (계층 {1})",
    "inputs: {0}": "입력: {0}",
    "; weights (differentiated, given to the constructor): {0}":
        "; 가중치(미분 대상, 생성자에 전달): {0}",
    "weights (differentiated, given to the constructor): {0}":
        "가중치(미분 대상, 생성자에 전달): {0}",
    "; data (not differentiated, given to forward): {0}":
        "; 데이터(미분하지 않음, forward에 전달): {0}",
    "; parameters (constants, not differentiated): {0}":
        "; 매개변수(상수, 미분하지 않음): {0}",
    "; forward:": "; 순전파:",
    "assumption: {0}": "가정: {0}",
    "Computational graph": "계산 그래프",
    "graph: {0}": "그래프: {0}",
    "The graph is not a single chain; its nodes in order:":
        "이 그래프는 한 줄로 이어진 사슬이 아니다. 노드를 순서대로 나열하면 다음과 같다:",
    "Backward, node by node": "노드별 역전파",
    "{0} is the gradient arriving from the layer above. Each node multiplies the gradient "
    "arriving at it by its local derivative.":
        "위 계층(상류)에서 전해지는 기울기: {0}. 각 노드는 자신에게 전해진 기울기에 "
        "국소적 미분을 곱해 하류로 흘려보낸다.",
    " A structural node (a matrix product, a sum over an axis, a transpose) passes back its "
    "vector-Jacobian product instead; its index form is shown, and each such step is proven "
    "for every size of every dimension.":
        " 구조적 노드(행렬 곱, 축 방향의 합, 전치)는 그 대신 벡터-야코비 곱을 돌려보낸다. "
        "그 첨자 형태를 함께 보이며, 이런 단계는 모든 차원의 모든 크기에 대해 증명된다.",
    "node {0} ({1}), rule {2}: the gradient to {3}": "노드 {0} ({1}), 규칙 {2}: {3}에 대한 기울기",
    ", of shape {0}": ", 형상 {0}",
    " (one branch; the branches are added below)": " (한 갈래. 갈래들은 아래에서 더한다)",
    " (broadcast over the other axes: its copies add up)":
        " (다른 축으로 브로드캐스트됨: 복사본들의 기울기를 더한다)",
    "proof: {0} ({1}); numeric cross-check at {2} points": "증명: {0} ({1}); 점 {2}개에서 수치 교차 검증",
    ". Note: {0}": ". 참고: {0}",
    "sum at {0}: {1}": "{0}에서의 합: {1}",
    "a fact used below, from the definition of {0}:": "아래에서 쓰는 사실 ({0}의 정의에서):",
    "rewrite {0} {1} before node {2} passes it back (its operands are summed or broadcast)":
        "노드 {2}에서 역전파하기 전에 {0} 다시 쓰기 (피연산자가 합해지거나 브로드캐스트되므로) "
        "— {1}",
    "Cached form of the gradient to {0}": "{0}에 대한 기울기를 저장해 둔 값으로 쓰기",
    "rewrite {0}": "다시 쓰기 {0}",
    "result, proven against sympy.diff of the forward formula":
        "결과 (순전파 식을 sympy.diff로 미분한 것과 대조해 증명)",
    "result, proven against the derivative of the whole forward":
        "결과 (순전파 전체의 도함수와 대조해 증명)",
    "the backward for {0} reads the cached values: {1}": "{0}의 역전파가 읽는 저장된 값: {1}",
    "the backward for {0} reads the cached values: none (only dout)":
        "{0}의 역전파가 읽는 저장된 값: 없음 (dout만)",
    " (cached form: {0})": " (저장 형태: {0})",
    "{0} is the gradient arriving from the layer above (in the exported code, {1} is {2}). "
    "Each node multiplies the gradient arriving at it by its local derivative.":
        "위 계층(상류)에서 전해지는 기울기: {0} (내보낸 코드에서 {1}의 이름은 {2}). 각 노드는 "
        "자신에게 전해진 기울기에 국소적 미분을 곱해 하류로 흘려보낸다.",
    "{0} is the gradient arriving from the layer above ({1} in the exported code, where {2} is "
    "{3}). Each node multiplies the gradient arriving at it by its local derivative.":
        "위 계층(상류)에서 전해지는 기울기: {0} (내보낸 코드의 {1}. 코드에서 {2}의 이름은 {3}). "
        "각 노드는 자신에게 전해진 기울기에 국소적 미분을 곱해 하류로 흘려보낸다.",
    "; {0} is repeated along axis {1} ({2} copies) to the shape {3} of {4}, so its gradient is "
    "the sum of the copies":
        "; {0}의 값이 축 {1} 방향으로 {2}개 복제되어 {4}의 형상 {3}에 맞춰지므로, 그 기울기는 "
        "복사본들의 기울기를 더한 것이다",
    "; {0} is repeated along axes {1} ({2} copies) to the shape {3} of {4}, so its gradient is "
    "the sum of the copies":
        "; {0}의 값이 축 {1} 방향으로 {2}개 복제되어 {4}의 형상 {3}에 맞춰지므로, 그 기울기는 "
        "복사본들의 기울기를 더한 것이다",
    # a step's shape argument, as the book checks ∂L/∂X = ∂L/∂Y·Wᵀ by (N, 3)·(3, 2) = (N, 2)
    "shapes: {0}": "형상: {0}",
    "shapes: {0} ({1})": "형상: {0} ({1})",
    "shapes: {0} ({1}, {2})": "형상: {0} ({1}, {2})",
    "shapes: {0}: {1}": "형상: {0}: {1}",
    "edges, each operand with its shape, into its node:":
        "에지 목록 (각 피연산자와 그 형상 → 들어가는 노드):",
    "rewrite: {0}": "다시 쓰기: {0}",
    ", {0}": " ({0})",       # the identity a rewrite uses, after its note
    "the backward for {0} reads, besides {1}: {2}": "{0}의 역전파가 {1} 외에 읽는 값: {2}",
    "the backward for {0} reads only the gradient arriving, {1}.":
        "{0}의 역전파는 전해지는 기울기 {1}만 읽는다.",
    "Names you may use in derive check: {0}; check a node's gradient with {1}.":
        "derive check에서 쓸 수 있는 이름: {0}. 노드 하나의 기울기를 확인하려면 {1} 옵션을 쓴다.",
    # --- the HTML page, the Markdown and LaTeX site (html.py, docs.py, svg) ---
    'Forward values (<span class="fwd">above</span> the arrows, going right) and backward '
    'gradients (<span class="bwd">below</span>, going left); hover a label for its full '
    "formula. Labels use the walkthrough's names and NumPy's functions.":
        '순전파 값(화살표 <span class="fwd">위</span>, 오른쪽으로)과 역전파 기울기'
        '(<span class="bwd">아래</span>, 왼쪽으로). 라벨에 마우스를 올리면 전체 식이 보인다. '
        "라벨은 본문과 같은 이름과 NumPy의 함수를 쓴다.",
    "Computational graph of {0}: forward values above the arrows (going right), backward "
    "gradients below them (going left, in red).":
        "{0}의 계산 그래프: 순전파 값은 화살표 위(오른쪽으로), 역전파 기울기는 그 아래"
        "(왼쪽으로, 빨간색).",
    "← all layers": "← 모든 계층",
    "Result (proven; in the cached form the backward pass uses):":
        "결과 (증명됨. 역전파가 쓰는, 저장해 둔 값으로 쓴 형태):",
    'Forward values (<span class="fwd">above</span> the arrows, going right) and backward '
    'gradients (<span class="bwd">below</span>, going left); hover a label for its full '
    "formula. Labels use the code names: out is {0}, dout is ∂L/∂{0}.":
        '순전파 값(화살표 <span class="fwd">위</span>, 오른쪽으로)과 역전파 기울기'
        '(<span class="bwd">아래</span>, 왼쪽으로). 라벨에 마우스를 올리면 전체 식이 보인다. '
        "라벨은 코드의 이름을 쓴다: out은 {0}, dout은 ∂L/∂{0}.",
    "Computational graph of {0}": "{0}의 계산 그래프",
    "computational graph of {0}": "{0}의 계산 그래프",
    "Forward values above the arrows (going right), backward gradients below (going left, "
    "in red).": "순전파 값은 화살표 위(오른쪽으로), 역전파 기울기는 아래(왼쪽으로, 빨간색).",
    "Exported NumPy code": "내보낸 NumPy 코드",
    "exported code": "내보낸 코드",
    "Three-way verification": "세 방향 검증",
    "verification report": "검증 보고서",
    "{0}: not available.": "{0}: 제공되지 않음.",
    "The windows of the forward (windows(x, FH, FW, stride, pad) on the page) are the book's "
    "im2col: each window of x becomes one row; the derivation keeps them as a 6-D array "
    "(N, C, FH, FW, OH, OW), which is the same numbers before the reshape.":
        "순전파의 윈도(이 페이지의 windows(x, FH, FW, stride, pad))는 책의 im2col이다: x의 "
        "각 윈도가 한 행이 된다. 유도에서는 이를 6차원 배열 (N, C, FH, FW, OH, OW)로 두는데, "
        "reshape하기 전의 같은 수들이다.",
    "x: {0}, one channel": "x: {0}, 채널 1개",
    "{0} windows, stride 1": "{0} 윈도, 스트라이드 1",
    "im2col: one row per window ({0})": "im2col: 윈도마다 한 행 ({0})",
    "forward: the rows @ the filters reshaped to columns, then reshaped to (N, FN, OH, OW)":
        "순전파: 행들 @ 열로 펼친 필터, 그다음 (N, FN, OH, OW)로 reshape",
    "backward: the rows are folded back into x, overlapping windows adding up (col2im)":
        "역전파: 행들을 x로 다시 접는다. 겹치는 윈도는 더해진다 (col2im)",
    "im2col: each window of x becomes one row": "im2col: x의 각 윈도가 한 행이 된다",
    "layer": "계층",
    "forward": "순전파",
    "gradient (cached form)": "기울기 (저장해 둔 값으로 쓴 형태)",
    "also": "다른 형식",
    "derive: the layer catalogue": "derive: 계층 목록",
    "Every backward pass below is derived node by node on the computational graph; every "
    "step is proven.":
        "아래의 모든 역전파는 계산 그래프 위에서 노드 하나하나 유도했으며, 모든 단계가 "
        "증명되어 있다.",
    "Every backward pass is derived node by node on the computational graph; every step is "
    "proven.": "모든 역전파는 계산 그래프 위에서 노드 하나하나 유도했으며, 모든 단계가 증명되어 있다.",
    "derive — layer catalogue": "derive — 계층 목록",
    "derive: all derivations": "derive: 모든 유도",
}

# a proof's method and detail (derive.proof, derive.tensorproof, the recorder's "against")
PHRASES = {
    "identical": "동일",
    "symbolic": "기호 계산",
    "by cases": "경우 나누기",
    "by regions": "영역 나누기",
    "index form (all sizes)": "첨자 형태 (모든 크기)",
    "by the steps above": "위의 단계들로",
    "the same expression": "같은 식이 된다",
    "same canonical form": "같은 정규형",
    "canonical form": "정규형",
    "expand(a - b) = 0 with f⁻¹(f(u)) = u": "f⁻¹(f(u)) = u를 써서 expand(a - b) = 0",
    "{p0} (elementwise)": "{p0} (원소별)",
    "{p0}, each switch held as an atom": "분기(스위치)를 각각 하나의 기호로 두고 {p0}",
    "{p0} once the output is replaced by its forward formula":
        "출력을 순전파 식으로 바꾸어 놓으면 {p0}",
    "{p0} (a condition's truth settled by the intermediate value theorem)":
        "{p0} (조건의 참거짓은 중간값 정리로 정함)",
    "cases {0}": "구간 {0}",
    "{0} regions cut by the sign of {1}": "{1}의 부호로 나눈 영역 {0}개",
    "the {0} rule's vector-Jacobian product has the canonical form of SymPy's derivative of "
    "Σ G·(node) with respect to the operand":
        "{0} 규칙의 벡터-야코비 곱은 Σ G·(노드)를 피연산자에 대해 SymPy로 미분한 도함수와 "
        "정규형이 같다",
    "same canonical form as SymPy's derivative of Σ dout·out with respect to {0}":
        "Σ dout·out을 {0}에 대해 SymPy로 미분한 도함수와 같은 정규형",
    "the operand is broadcast, so its gradient adds up its copies (the sum over the broadcast "
    "axes has the canonical form of SymPy's derivative of the broadcast)":
        "피연산자가 브로드캐스트되므로 그 기울기는 복사본들의 기울기를 더한 것이다 "
        "(브로드캐스트된 축에 대한 합은 브로드캐스트를 SymPy로 미분한 도함수와 정규형이 같다)",
    "np.concatenate of parts is the sum of the parts placed at their offsets (a lemma proven "
    "in index form)":
        "조각들의 np.concatenate는 각 조각을 제자리(오프셋)에 놓은 것들의 합이다 "
        "(첨자 형태로 증명한 보조정리)",
    "using {p0}": "사용한 사실: {p0}",
    "Σ {0} over axis {1} = {2}": "축 {1} 방향의 Σ {0} = {2}",
    "assuming {0}": "가정: {0}",
    "central finite differences of the whole forward agree": "순전파 전체의 중심 차분과 일치한다",
    "each step above is proven": "위의 각 단계가 증명되었다",
    "against the definition": "정의와 대조",
    "against the definition of {0}": "{0}의 정의와 대조",
    "against the upstream gradient times SymPy's diff of the {0} node":
        "상류의 기울기 × {0} 노드를 SymPy로 미분한 것과 대조",
    "against the previous line": "바로 앞 줄과 대조",
    "against the sum of the branches above (the multivariable chain rule)":
        "위 갈래들의 합과 대조 (다변수 연쇄법칙)",
    "against SymPy's diff of the forward formula with respect to {0}":
        "순전파 식을 {0}에 대해 SymPy로 미분한 것과 대조",
    "against sympy.diff of the forward formula": "순전파 식의 sympy.diff 결과와 대조",
    "against the whole forward": "순전파 전체와 대조",
    "against the rule's vector-Jacobian product, proven in index form":
        "첨자 형태로 증명한 규칙의 벡터-야코비 곱과 대조",
    "against zero": "0과 대조",
    # a proof's kink note
    "the two sides differ only at {0}, a kink, where the derivative is a convention":
        "양변은 꺾인 점 {0}에서만 다르며, 그곳의 미분값은 관례로 정한다",
    "the two sides may differ only where {0} = 0 (a switching set of measure zero), where the "
    "derivative is a convention":
        "양변이 다를 수 있는 곳은 {0} = 0인 곳뿐이며 (측도 0인 전환 집합), 그곳의 미분값은 "
        "관례로 정한다",
    "the rule's local derivative equals its cached form ({p0})":
        "규칙의 국소적 미분은 저장해 둔 값으로 쓴 형태와 같다 (증명: {p0})",
    # a proof's tactic (derive.proof._TACTICS)
    "the difference of the two sides expands to 0": "양변의 차는 전개하여 0이 된다",
    "the difference of the two sides expands to 0 once f⁻¹(f(u)) is u":
        "f⁻¹(f(u))를 u로 두면 양변의 차는 전개하여 0이 된다",
    "the difference of the two sides cancels to 0": "양변의 차는 통분·약분하여 0이 된다",
    "the difference of the two sides, written with exp, cancels to 0":
        "양변의 차는 exp로 나타내 통분·약분하여 0이 된다",
    "the difference of the two sides simplifies to 0": "양변의 차는 정리하여 0이 된다",
    # the cached form a gradient reads
    "mixed": "혼합",
    "index": "인덱스",
    "the gradient written in the output": "출력으로 나타낸 기울기",
    "the gradient written in the inputs": "입력으로 나타낸 기울기",
    "the chain rule's result, simplified": "연쇄법칙의 결과를 정리한 것",
    "the gradient rewritten through the values the forward keeps":
        "순전파가 저장해 두는 값으로 다시 쓴 기울기",
    # the cached form's rewrites (derive.algebra, derive.cached, derive.tensor_cached): a
    # rewrite's name is what the student does to the line, its note why
    "substitute": "대입한다",
    "put in the forward formula": "출력 자리에 순전파 식을 넣는다",
    "split the fraction": "분수를 나눈다",
    "the forward formula once for each y of the cached form, times what remains":
        "저장해 둔 값으로 쓴 형태의 y 하나마다 순전파 식을 하나씩 떼어 내고, 남은 부분을 곱한다",
    "what remains": "남은 부분을 고쳐 쓴다",
    "written with the forward formula": "순전파 식으로 나타낸다",
    "recognise y": "y로 되돌린다",
    "the forward formula is the output": "순전파 식이 곧 출력이다",
    "multiply out": "전개한다",
    "factor": "인수분해한다",
    "simplify": "간단히 정리한다",
    "tidy": "식을 다듬는다",
    "invert": "역함수로 푼다",
    "solve the forward formula for the input": "순전파 식을 입력에 대해 푼다",
    "invert branches": "분기마다 역함수로 푼다",
    "each branch solved for the input": "각 분기를 입력에 대해 푼다",
    "conditions read on y": "조건은 y로 판정한다",
    "read on out": "조건을 출력으로 판정한다",
    "y > 0 exactly where {0} > 0, so the condition can be read on y":
        "y > 0인 곳은 정확히 {0} > 0인 곳이므로, 조건을 y로 판정할 수 있다",
    "each term": "항별로 다시 쓴다",
    "each term put in cached values on its own": "각 항을 하나씩 저장된 값으로 나타낸다",
    "in cached values": "저장된 값으로 나타낸다",
    "the terms collected": "항을 모은다",
    "the gradient arriving at the maximum cancels": "최댓값에 전해지는 기울기는 상쇄되어 없어진다",
    "chain rule": "연쇄법칙",
    "prune branches": "필요 없는 분기를 지운다",
    "branches that cannot be taken and conditions already decided removed":
        "실행될 수 없는 분기와 이미 결정된 조건을 지운다",
}
