"""日本語: the walkthrough's fixed wording (KEYS) and the proofs' phrases (PHRASES).

Terms as in『ゼロから作るDeep Learning』: 計算グラフ, 順伝播, 逆伝播, 局所的な微分, 連鎖律,
勾配, ノード, レイヤ, 上流. Plain style (である調), full-width （）and 。in prose; formulas
and names keep their ASCII. Placeholders ``{0}`` … keep the English numbering and may move.
See :mod:`derive.render.lang` for how keys and phrases are read.
"""

KEYS = {
    "; ": "。",       # between the phrases of a note or a proof's detail
    "; {0}": "。{0}",
    # --- the walkthrough (derive.render.document) ---
    "{0}: layer {1}": "{0}（レイヤ {1}）",
    "inputs: {0}": "入力: {0}",
    "; weights (differentiated, given to the constructor): {0}":
        "。重み（微分する。コンストラクタに渡す）: {0}",
    "weights (differentiated, given to the constructor): {0}":
        "重み（微分する。コンストラクタに渡す）: {0}",
    "; data (not differentiated, given to forward): {0}":
        "。データ（微分しない。forward に渡す）: {0}",
    "; parameters (constants, not differentiated): {0}": "。パラメータ（定数。微分しない）: {0}",
    "; forward:": "。順伝播:",
    "assumption: {0}": "仮定: {0}",
    "Computational graph": "計算グラフ",
    "graph: {0}": "グラフ: {0}",
    "The graph is not a single chain; its nodes in order:":
        "このグラフは一本の鎖ではない。ノードを順に並べると次のとおり:",
    "Backward, node by node": "ノードごとの逆伝播",
    "{0} is the gradient arriving from the layer above. Each node multiplies the gradient "
    "arriving at it by its local derivative.":
        "{0} は上流（上のレイヤ）から伝わってきた勾配である。各ノードは、伝わってきた勾配に"
        "そのノードの局所的な微分を乗算して、下流へ伝える。",
    " A structural node (a matrix product, a sum over an axis, a transpose) passes back its "
    "vector-Jacobian product instead; its index form is shown, and each such step is proven "
    "for every size of every dimension.":
        "構造的なノード（行列の積、軸方向の和、転置）は、代わりにベクトル・ヤコビアン積を返す。"
        "その添字形式も示し、こうしたステップはどの次元のどの大きさについても証明する。",
    "node {0} ({1}), rule {2}: the gradient to {3}": "ノード {0}（{1}）、規則 {2}: {3} への勾配",
    ", of shape {0}": "、形状 {0}",
    " (one branch; the branches are added below)": "（分岐の一つ。分岐は後で足し合わせる）",
    " (broadcast over the other axes: its copies add up)":
        "（他の軸へブロードキャストされる: 複製の勾配を足し合わせる）",
    "proof: {0} ({1}); numeric cross-check at {2} points":
        "証明: {0}（{1}）。{2} 点で数値によるクロスチェック",
    ". Note: {0}": "。注: {0}",
    "sum at {0}: {1}": "{0} での和: {1}",
    "a fact used below, from the definition of {0}:": "以下で使う事実（{0} の定義から）:",
    "rewrite {0} {1} before node {2} passes it back (its operands are summed or broadcast)":
        "ノード {2} が逆伝播する前に {0} を書き換える（オペランドが足し合わされるか"
        "ブロードキャストされるため）— {1}",
    "Cached form of the gradient to {0}": "{0} への勾配を保持した値で表す",
    "rewrite {0}": "書き換え {0}",
    "result, proven against sympy.diff of the forward formula":
        "結果（順伝播の式を sympy.diff で微分したものと照合して証明）",
    "result, proven against the derivative of the whole forward":
        "結果（順伝播全体の導関数と照合して証明）",
    "the backward for {0} reads the cached values: {1}": "{0} の逆伝播が読む保持した値: {1}",
    "the backward for {0} reads the cached values: none (only dout)":
        "{0} の逆伝播が読む保持した値: なし（dout のみ）",
    " (cached form: {0})": "（保持する形: {0}）",
    "{0} is the gradient arriving from the layer above (in the exported code, {1} is {2}). "
    "Each node multiplies the gradient arriving at it by its local derivative.":
        "{0} は上流（上のレイヤ）から伝わってきた勾配である（エクスポートしたコードでは {1} を "
        "{2} と書く）。各ノードは、伝わってきた勾配にそのノードの局所的な微分を乗算して、"
        "下流へ伝える。",
    "{0} is the gradient arriving from the layer above ({1} in the exported code, where {2} is "
    "{3}). Each node multiplies the gradient arriving at it by its local derivative.":
        "{0} は上流（上のレイヤ）から伝わってきた勾配である（エクスポートしたコードでは {1}。"
        "コードでは {2} を {3} と書く）。各ノードは、伝わってきた勾配にそのノードの局所的な"
        "微分を乗算して、下流へ伝える。",
    "; {0} is repeated along axis {1} ({2} copies) to the shape {3} of {4}, so its gradient is "
    "the sum of the copies":
        "。{0} は軸 {1} の方向に {2} 個複製されて {4} の形状 {3} になるので、その勾配は"
        "複製の勾配の和である",
    "; {0} is repeated along axes {1} ({2} copies) to the shape {3} of {4}, so its gradient is "
    "the sum of the copies":
        "。{0} は軸 {1} の方向に {2} 個複製されて {4} の形状 {3} になるので、その勾配は"
        "複製の勾配の和である",
    # a step's shape argument, as the book checks ∂L/∂X = ∂L/∂Y·Wᵀ by (N, 3)·(3, 2) = (N, 2)
    "shapes: {0}": "形状: {0}",
    "shapes: {0} ({1})": "形状: {0}（{1}）",
    "shapes: {0} ({1}, {2})": "形状: {0}（{1}、{2}）",
    "shapes: {0}: {1}": "形状: {0}: {1}",
    "edges, each operand with its shape, into its node:":
        "エッジの一覧（各オペランドとその形状 → それが入るノード）:",
    "rewrite: {0}": "書き換え: {0}",
    ", {0}": "（{0}）",       # the identity a rewrite uses, after its note
    "the backward for {0} reads, besides {1}: {2}": "{0} の逆伝播が {1} のほかに読む値: {2}",
    " ({0})": "（{0}）",
    ".": "。",
    "the backward for {0} reads only the gradient arriving, {1}.":
        "{0} の逆伝播が読むのは、伝わってきた勾配 {1} だけである。",
    "Names you may use in derive check: {0}; check a node's gradient with {1}.":
        "derive check で使える名前: {0}。ノードの勾配を確かめるには {1} を使う。",
    # --- the HTML page, the Markdown and LaTeX site (html.py, docs.py, svg) ---
    'Forward values (<span class="fwd">above</span> the arrows, going right) and backward '
    'gradients (<span class="bwd">below</span>, going left); hover a label for its full '
    "formula. Labels use the walkthrough's names and NumPy's functions.":
        '順伝播の値（矢印の<span class="fwd">上</span>、右向き）と逆伝播の勾配'
        '（<span class="bwd">下</span>、左向き）。ラベルにカーソルを合わせると式全体が'
        "表示される。ラベルには本文と同じ名前と NumPy の関数を使う。",
    "Computational graph of {0}: forward values above the arrows (going right), backward "
    "gradients below them (going left, in red).":
        "{0} の計算グラフ: 順伝播の値は矢印の上（右向き）、逆伝播の勾配はその下"
        "（左向き、赤）。",
    "← all layers": "← すべてのレイヤ",
    "Result (proven; in the cached form the backward pass uses):":
        "結果（証明済み。逆伝播が使う、保持した値による形）:",
    'Forward values (<span class="fwd">above</span> the arrows, going right) and backward '
    'gradients (<span class="bwd">below</span>, going left); hover a label for its full '
    "formula. Labels use the code names: out is {0}, dout is ∂L/∂{0}.":
        '順伝播の値（矢印の<span class="fwd">上</span>、右向き）と逆伝播の勾配'
        '（<span class="bwd">下</span>、左向き）。ラベルにカーソルを合わせると式全体が'
        "表示される。ラベルはコードの名前を使う: out は {0}、dout は ∂L/∂{0}。",
    "Computational graph of {0}": "{0} の計算グラフ",
    "computational graph of {0}": "{0} の計算グラフ",
    "Forward values above the arrows (going right), backward gradients below (going left, "
    "in red).": "順伝播の値は矢印の上（右向き）、逆伝播の勾配は下（左向き、赤）。",
    "Exported NumPy code": "エクスポートした NumPy コード",
    "exported code": "エクスポートしたコード",
    "Three-way verification": "三方向の検証",
    "verification report": "検証レポート",
    "{0}: not available.": "{0}: 利用できない。",
    "The windows of the forward (windows(x, FH, FW, stride, pad) on the page) are the book's "
    "im2col: each window of x becomes one row; the derivation keeps them as a 6-D array "
    "(N, C, FH, FW, OH, OW), which is the same numbers before the reshape.":
        "順伝播のウィンドウ（このページでは windows(x, FH, FW, stride, pad)）は本書の im2col "
        "である。x の各ウィンドウが 1 行になる。導出ではこれを 6 次元配列 "
        "(N, C, FH, FW, OH, OW) のまま扱うが、reshape する前の同じ数値である。",
    "x: {0}, one channel": "x: {0}、1 チャンネル",
    "{0} windows, stride 1": "{0} のウィンドウ、ストライド 1",
    "im2col: one row per window ({0})": "im2col: ウィンドウごとに 1 行 ({0})",
    "forward: the rows @ the filters reshaped to columns, then reshaped to (N, FN, OH, OW)":
        "順伝播: 行 @ 列に並べ直したフィルター、その後 (N, FN, OH, OW) に reshape",
    "backward: the rows are folded back into x, overlapping windows adding up (col2im)":
        "逆伝播: 行を x に折り戻す。重なるウィンドウは足し合わされる (col2im)",
    "im2col: each window of x becomes one row": "im2col: x の各ウィンドウが 1 行になる",
    "layer": "レイヤ",
    "forward": "順伝播",
    "gradient (cached form)": "勾配（保持した値による形）",
    "also": "他の形式",
    "derive: the layer catalogue": "derive: レイヤ一覧",
    "Every backward pass below is derived node by node on the computational graph; every "
    "step is proven.":
        "以下の逆伝播はすべて計算グラフ上でノードごとに導出し、どのステップも証明してある。",
    "Every backward pass is derived node by node on the computational graph; every step is "
    "proven.": "逆伝播はすべて計算グラフ上でノードごとに導出し、どのステップも証明してある。",
    "derive — layer catalogue": "derive — レイヤ一覧",
    "derive: all derivations": "derive: すべての導出",
}

# a proof's method and detail (derive.proof, derive.tensorproof, the recorder's "against")
PHRASES = {
    "identical": "同一",
    "symbolic": "記号計算",
    "by cases": "場合分け",
    "by regions": "領域分け",
    "index form (all sizes)": "添字形式（すべての大きさ）",
    "by the steps above": "上のステップから",
    "the same expression": "同じ式になる",
    "same canonical form": "同じ正規形",
    "canonical form": "正規形",
    "expand(a - b) = 0 with f⁻¹(f(u)) = u": "f⁻¹(f(u)) = u を使って expand(a - b) = 0",
    "{p0} (elementwise)": "{p0}（要素ごと）",
    "{p0}, each switch held as an atom": "各スイッチ（分岐）を一つの記号とみなして {p0}",
    "{p0} once the output is replaced by its forward formula": "出力を順伝播の式に置き換えると {p0}",
    "{p0} (a condition's truth settled by the intermediate value theorem)":
        "{p0}（条件の真偽は中間値の定理で決まる）",
    "cases {0}": "{0} に分ける",
    "{0} regions cut by the sign of {1}": "{1} の符号で分けた {0} 個の領域",
    "the {0} rule's vector-Jacobian product has the canonical form of SymPy's derivative of "
    "Σ G·(node) with respect to the operand":
        "{0} 規則のベクトル・ヤコビアン積は、Σ G·(ノード) を被演算子で微分した SymPy の導関数と"
        "同じ正規形になる",
    "same canonical form as SymPy's derivative of Σ dout·out with respect to {0}":
        "Σ dout·out を {0} で微分した SymPy の導関数と同じ正規形",
    "the operand is broadcast, so its gradient adds up its copies (the sum over the broadcast "
    "axes has the canonical form of SymPy's derivative of the broadcast)":
        "被演算子がブロードキャストされるので、その勾配は複製の勾配の和になる（ブロードキャスト"
        "した軸についての和は、ブロードキャストを SymPy で微分した導関数と同じ正規形）",
    "np.concatenate of parts is the sum of the parts placed at their offsets (a lemma proven "
    "in index form)":
        "部分の np.concatenate は、各部分をそのオフセットに置いたものの和である"
        "（添字形式で証明した補題）",
    "using {p0}": "用いた事実: {p0}",
    "Σ {0} over axis {1} = {2}": "軸 {1} 方向の Σ {0} = {2}",
    "assuming {0}": "{0} を仮定",
    "central finite differences of the whole forward agree": "順伝播全体の中心差分と一致する",
    "each step above is proven": "上の各ステップは証明済み",
    "against the definition": "定義と照合",
    "against the definition of {0}": "{0} の定義と照合",
    "against the upstream gradient times SymPy's diff of the {0} node":
        "上流の勾配 × {0} ノードの SymPy による微分と照合",
    "against the previous line": "直前の行と照合",
    "against the sum of the branches above (the multivariable chain rule)":
        "上の分岐の和と照合（多変数の連鎖律）",
    "against SymPy's diff of the forward formula with respect to {0}":
        "順伝播の式を {0} で SymPy により微分したものと照合",
    "against sympy.diff of the forward formula": "順伝播の式の sympy.diff と照合",
    "against the whole forward": "順伝播全体と照合",
    "against the rule's vector-Jacobian product, proven in index form":
        "添字形式で証明した規則のベクトル・ヤコビアン積と照合",
    "against zero": "0 と照合",
    # a proof's kink note
    "the two sides differ only at {0}, a kink, where the derivative is a convention":
        "両辺が異なるのは折れ点 {0} だけで、そこでの微分は慣例で決める",
    "the two sides may differ only where {0} = 0 (a switching set of measure zero), where the "
    "derivative is a convention":
        "両辺が異なりうるのは {0} = 0 となる所だけで（測度ゼロの切り替え集合）、そこでの微分は"
        "慣例で決める",
    "the rule's local derivative equals its cached form ({p0})":
        "規則の局所的な微分は、保持した値による形と等しい（証明: {p0}）",
    # a proof's tactic (derive.proof._TACTICS)
    "the difference of the two sides expands to 0": "両辺の差は展開すれば 0 になる",
    "the difference of the two sides expands to 0 once f⁻¹(f(u)) is u":
        "f⁻¹(f(u)) を u とすれば、両辺の差は展開すれば 0 になる",
    "the difference of the two sides cancels to 0": "両辺の差は通分・約分すれば 0 になる",
    "the difference of the two sides, written with exp, cancels to 0":
        "両辺の差は exp で表して通分・約分すれば 0 になる",
    "the difference of the two sides simplifies to 0": "両辺の差は整理すれば 0 になる",
    # the cached form a gradient reads
    "mixed": "混合",
    "index": "インデックス",
    "the gradient written in the output": "出力で表した勾配",
    "the gradient written in the inputs": "入力で表した勾配",
    "the chain rule's result, simplified": "連鎖律の結果を整理したもの",
    "the gradient rewritten through the values the forward keeps":
        "順伝播が保持する値で書き直した勾配",
    # the cached form's rewrites (derive.algebra, derive.cached, derive.tensor_cached): a
    # rewrite's name is what the student does to the line, its note why
    "substitute": "代入する",
    "put in the forward formula": "出力に順伝播の式を代入する",
    "split the fraction": "分数を分ける",
    "the forward formula once for each y of the cached form, times what remains":
        "保持した値による形の y 一つにつき順伝播の式を一つずつ取り出し、残りの部分を掛ける",
    "what remains": "残りの部分を書き直す",
    "written with the forward formula": "順伝播の式で表す",
    "recognise y": "y に戻す",
    "the forward formula is the output": "順伝播の式は出力そのものである",
    "multiply out": "展開する",
    "factor": "因数分解する",
    "simplify": "整理する",
    "tidy": "式を整える",
    "invert": "逆関数で解く",
    "solve the forward formula for the input": "順伝播の式を入力について解く",
    "invert branches": "分岐ごとに逆関数で解く",
    "each branch solved for the input": "各分岐を入力について解く",
    "conditions read on y": "条件は y で判定する",
    "read on out": "条件を出力で判定する",
    "y > 0 exactly where {0} > 0, so the condition can be read on y":
        "y > 0 となるのはちょうど {0} > 0 のところなので、条件は y で判定できる",
    "each term": "項ごとに書き直す",
    "each term put in cached values on its own": "各項を一つずつ保持した値で表す",
    "in cached values": "保持した値で表す",
    "the terms collected": "項をまとめる",
    "the gradient arriving at the maximum cancels": "最大値に伝わる勾配は打ち消し合って消える",
    "chain rule": "連鎖律",
    "prune branches": "不要な分岐を除く",
    "branches that cannot be taken and conditions already decided removed":
        "通りえない分岐と、すでに決まっている条件を取り除く",
}
