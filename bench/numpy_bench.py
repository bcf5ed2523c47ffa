"""The NumPy export against what it must never lose to, one process, medians (lower is better).

    taskset -c 0 python bench/numpy_bench.py [--layers sigmoid,elu] [--sizes 1e3,1e5]
                                             [--repeat 15] [--matrix-only | --no-matrix] [--json]
                                             [--aa] [--inputs 1]
    python bench/numpy_bench.py --diff before.json after.json

For every elementwise catalogue layer and N elements (float64):

* ``fb``: the exported class's ``forward`` + ``backward`` ÷ the book's class (numeric/reference.py);
* ``bwd/book``: the exported ``<layer>_backward(dout, ...)`` function ÷ the book's ``backward``
  (after its ``forward``);
* ``cbwd/book``: the exported class's ``backward`` ÷ the book's (each after its own
  ``forward``): both read what their forward cached, where the function above recomputes
  from the inputs the derivation names (gelu's erf, the losses' ``x - t``);
* ``book/book`` (with ``--aa``): the book's class ÷ a second instance of it in the same
  rounds, the spread of a ratio when both sides run the same code (at 1e7 it spans
  about 0.96-1.09: an ``fb`` inside that is a tie);
* ``bwd/lambdify``: the same function ÷ SymPy's ``lambdify(modules="numpy")`` of the derivative
  (``derive.derive(name).result``; ``scipy`` is added to the modules only where NumPy has no
  spelling, as for ``erf``; not for ``add``, whose lambdify returns ``dout`` itself).

The two or three sides of each ratio alternate call by call (the order flips every round)
so that load on the machine hits them alike, under a fixed glibc mmap threshold (the
script re-runs itself with ``MALLOC_MMAP_THRESHOLD_=131072`` and the trim threshold out of
reach, :data:`numeric.backend_bench.FIXED_MALLOC_ENV`; ``--malloc-dynamic`` not): every fresh
array of 16 Ki elements or more then page-faults in, and every smaller one comes back from
the heap, on both sides alike. Then batchnorm, layernorm and softmax_with_loss
forward+backward of numeric/matrix_generated.py ÷ the best NumPy written here by hand
(:class:`BestBatchNorm`, :class:`BestLayerNorm`, :class:`BestSoftmaxWithLoss`).

:func:`bench_layer` is the entry point for other tools (``derive bench --backend``).
"""
from __future__ import annotations

import argparse
import inspect
import itertools
import json
import sys
import warnings

import numpy as np

from numeric import generated
from numeric import matrix_generated as mgen
from numeric.bench import alternate, exported_class
from numeric.cases import CASES
from numeric.reference import PARAMS, REFERENCE

__all__ = ["SIZES", "bench_layer", "bench_matrix", "MATRIX_CASES", "BestBatchNorm",
           "BestLayerNorm", "BestSoftmaxWithLoss", "main"]

SIZES = (1_000, 10_000, 100_000, 1_000_000, 10_000_000)
FRESH_MAX = 100_000     # input sets beyond one only up to this N (memory: sets x arrays)


def _alternate(calls, repeat: int) -> list:
    """Median seconds of each zero-argument call after one warm-up call each; the calls
    alternate, the order flips (:func:`numeric.bench.alternate`)."""
    for c in calls:
        c()
    return alternate(calls, repeat)


def _repeat_for(n: int, repeat: int | None) -> int:
    if repeat is not None:
        return repeat
    return 201 if n <= 1e4 else 61 if n <= 1e5 else 21 if n <= 1e6 else 9


def _inputs(name: str, n: int, rng) -> list:
    case = CASES[name]
    lo, hi = case.domain
    values = []
    for x in case.inputs:
        if case.kind(x) == "onehot":   # elementwise targets: 0 or 1
            values.append(rng.integers(0, 2, n).astype(np.float64))
        else:
            values.append(rng.uniform(lo, hi, n))
    return values


_LAMBDIFIED: dict = {}


def lambdified(name: str):
    """(function, argument names) of SymPy's lambdify of the derivation's gradients, or None
    when every gradient is an input unchanged (``add``: lambdify would return ``dout``)."""
    if name not in _LAMBDIFIED:
        import sympy as sp
        from derive import derive
        d = derive(name)
        exprs = [d.result[w] for w in d.wrt]
        if all(e.is_Symbol for e in exprs):   # add: lambdify returns dout itself, no work
            _LAMBDIFIED[name] = None            # (and the caller's array): nothing to compare
            return None
        syms = sorted(set().union(*(e.free_symbols for e in exprs)), key=lambda s: s.name)
        args = [s.name for s in syms]
        expr = exprs[0] if len(exprs) == 1 else tuple(exprs)
        f = sp.lambdify(syms, expr, modules="numpy")
        probe = {a: np.full(3, 0.5) for a in args}
        try:
            f(*[probe[a] for a in args])
        except (TypeError, NameError):       # no NumPy spelling (erf): scipy's
            f = sp.lambdify(syms, expr, modules=["scipy", "numpy"])
        _LAMBDIFIED[name] = (f, args)
    return _LAMBDIFIED[name]


def _cycled(calls):
    """One zero-argument call that runs ``calls`` in turn, one per call."""
    if len(calls) == 1:
        return calls[0]
    turn = itertools.cycle(calls)
    return lambda: next(turn)()


def bench_layer(name: str, n: int, repeat: int | None = None, seed: int = 0,
                lambdify: bool = True, aa: bool = False, inputs: int = 1) -> dict:
    """One elementwise layer at ``n`` float64 elements: median seconds and ratios.

    Keys: ``fb_s``/``fb_book_s`` and ``fb`` (exported class forward+backward ÷ the book's),
    ``bwd_s``/``bwd_book_s`` and ``bwd_book`` (``<layer>_backward`` ÷ the book's backward),
    ``cbwd_s`` and ``cbwd_book`` (the exported class's backward ÷ the book's),
    ``bwd_lambdify_s`` and ``bwd_lambdify`` (÷ SymPy's lambdify of the derivative). With
    ``aa``, a second instance of the book's class runs in the forward+backward rounds too
    (the three calls then shuffled each round): ``fb_aa`` is book ÷ book, the spread a
    ratio shows when both sides run the very same code.

    ``inputs``: that many input sets (inputs and dout), each call on the next one, up to
    1e5 elements (:data:`FRESH_MAX`; above, one set). With one set a select on a random
    mask of 1e3 elements is a branch the CPU learns after a few calls, which data that
    changes every call (every training step) never lets it: np.putmask at 1e3 took 2.1 us
    on one input repeated and 5.2 us over 64 inputs, an arithmetic blend 3.0 and 3.1 us.
    """
    rng = np.random.default_rng(seed)
    sets = [(_inputs(name, n, rng), rng.uniform(-1.0, 1.0, n))
            for _ in range(inputs if n <= FRESH_MAX else 1)]
    params = PARAMS.get(name, {})
    cls, book_cls = exported_class(name), REFERENCE[name]
    repeat = _repeat_for(n, repeat)
    row = {"layer": name, "n": n, "repeat": repeat, "inputs": len(sets)}
    exported, book = cls(**params), book_cls(**params)

    def fb(layer):
        return _cycled([lambda x=x, d=d: (layer.forward(*x), layer.backward(d))
                        for x, d in sets])
    sides = [fb(exported), fb(book)] + ([fb(book_cls(**params))] if aa else [])
    times = _alternate(sides, repeat)
    row["fb_s"], row["fb_book_s"] = times[:2]
    row["fb"] = row["fb_s"] / row["fb_book_s"]
    if aa:
        row["fb_aa"] = times[2] / times[1]

    fn = getattr(generated, f"{name}_backward")
    lam = lambdified(name) if lambdify else None
    mine, books, classes, lams = [], [], [], []
    for x, dout in sets:
        book = book_cls(**params)      # one per set: its backward reads that set's cache
        out = book.forward(*x)
        layer = cls(**params)
        layer.forward(*x)
        classes.append(lambda layer=layer, dout=dout: layer.backward(dout))
        values = {"dout": dout, "out": out, **dict(zip(CASES[name].inputs, x)), **params}
        fargs = [values[a] for a in inspect.signature(fn).parameters if a in values]
        mine.append(lambda fargs=fargs: fn(*fargs))
        books.append(lambda book=book, dout=dout: book.backward(dout))
        if lam is not None:
            lvals = [values[a] for a in lam[1]]
            lams.append(lambda lvals=lvals: lam[0](*lvals))
    calls = [_cycled(mine), _cycled(books), _cycled(classes)] + ([_cycled(lams)] if lams else [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # lambdify's literal forms may overflow
        with np.errstate(all="ignore"):
            times = _alternate(calls, repeat)
    row["bwd_s"], row["bwd_book_s"] = times[:2]
    row["bwd_book"] = times[0] / times[1]
    row["cbwd_s"] = times[2]
    row["cbwd_book"] = times[2] / times[1]
    if lam is not None:
        row["bwd_lambdify_s"] = times[3]
        row["bwd_lambdify"] = times[0] / times[3]
    return row


# best-effort hand-optimised NumPy for the matrix layers -------------------------------------

class BestBatchNorm:
    """Batch normalization (training, per feature) with as few full-size passes as we can
    write: forward keeps xn and 1/std; backward makes one temporary and reuses it."""

    def __init__(self, gamma, beta, momentum=0.9, eps=1e-6):
        self.gamma, self.beta, self.eps, self.momentum = gamma, beta, eps, momentum
        self.running_mean = self.running_var = None

    def forward(self, x):
        mu = x.mean(axis=0)
        xn = np.subtract(x, mu)
        var = np.einsum("ij,ij->j", xn, xn) / x.shape[0]
        if self.running_mean is None:      # the same bookkeeping as the book's class
            self.running_mean, self.running_var = np.zeros_like(mu), np.zeros_like(var)
        m = self.momentum
        self.running_mean = m * self.running_mean + (1 - m) * mu
        self.running_var = m * self.running_var + (1 - m) * var
        inv = 1.0 / np.sqrt(var + self.eps)
        xn *= inv
        self.xn, self.inv = xn, inv
        out = np.multiply(xn, self.gamma)
        out += self.beta
        return out

    def backward(self, dout):
        N = dout.shape[0]
        xn = self.xn
        self.dbeta = dout.sum(axis=0)
        self.dgamma = np.einsum("ij,ij->j", dout, xn)
        # dx = gamma/std*(dout - (dbeta + xn*dgamma)/N): one fresh array, the rest in place
        dx = np.multiply(xn, self.dgamma / N)
        dx += self.dbeta / N
        np.subtract(dout, dx, out=dx)
        dx *= self.gamma * self.inv
        return dx


class BestLayerNorm:
    """Layer normalization (per row), the fewest passes we could write."""

    def __init__(self, gamma, beta, eps=1e-6):
        self.gamma, self.beta, self.eps = gamma, beta, eps

    def forward(self, x):
        D = x.shape[1]
        mu = x.mean(axis=1, keepdims=True)
        xn = np.subtract(x, mu)
        var = np.einsum("ij,ij->i", xn, xn)[:, None] / D
        inv = 1.0 / np.sqrt(var + self.eps)
        xn *= inv
        self.xn, self.inv = xn, inv
        out = np.multiply(xn, self.gamma)
        out += self.beta
        return out

    def backward(self, dout):
        D = dout.shape[1]
        xn = self.xn
        self.dbeta = dout.sum(axis=0)
        self.dgamma = np.einsum("ij,ij->j", dout, xn)
        g = np.multiply(dout, self.gamma)                    # dxn
        a = g.sum(axis=1, keepdims=True)
        b = np.einsum("ij,ij->i", g, xn)[:, None]
        # dx = inv*(dxn - (a + xn*b)/D)
        t = np.multiply(xn, b / D)
        g -= t
        g -= a / D
        g *= self.inv
        return g


class BestSoftmaxWithLoss:
    """Softmax + cross-entropy (mean over the batch), label indices or (soft) one-hot rows:
    only y is made full-size; no log of y is taken."""

    def forward(self, x, t):
        N = x.shape[0]
        m = x.max(axis=1, keepdims=True)
        y = np.subtract(x, m)
        np.exp(y, out=y)
        s = y.sum(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(s[:, 0])                   # log-sum-exp per row
        if t.ndim == 1:
            loss = (x[np.arange(N), t] - lse).sum()
        else:     # sum(t*(x - lse)) without a full-size log y: two reads
            loss = np.einsum("ij,ij->", t, x) - t.sum(axis=1) @ lse
        y /= s
        self.y, self.t = y, t
        return -loss / N

    def backward(self, dout=1.0):
        N = self.y.shape[0]
        dx = np.multiply(self.y, dout / N)
        t = self.t
        if t.ndim == 1:
            dx[np.arange(N), t] -= dout / N
        else:
            dx -= t * (dout / N)
        return dx


def _matrix_cases(rng):
    def norm(cls_gen, cls_best, N, D, label):
        x, dout = rng.standard_normal((N, D)), rng.standard_normal((N, D))
        gamma, beta = rng.standard_normal(D), rng.standard_normal(D)

        def make(which):
            layer = cls_gen(gamma, beta) if which == "gen" else cls_best(gamma, beta)
            return lambda: (layer.forward(x), layer.backward(dout))
        return f"{label} (N,D)=({N},{D})", make

    def swl(N, C, onehot):
        x = rng.standard_normal((N, C))
        t = rng.integers(0, C, N)
        if onehot:
            t = np.eye(C)[t]

        def make(which):
            layer = mgen.SoftmaxWithLoss() if which == "gen" else BestSoftmaxWithLoss()
            return lambda: (layer.forward(x, t), layer.backward(1.0))
        return f"softmax_with_loss {'one-hot' if onehot else 'labels'} (N,C)=({N},{C})", make

    return [norm(mgen.BatchNormalization, BestBatchNorm, 100, 50, "batchnorm"),
            norm(mgen.BatchNormalization, BestBatchNorm, 256, 1024, "batchnorm"),
            norm(mgen.LayerNorm, BestLayerNorm, 100, 50, "layernorm"),
            norm(mgen.LayerNorm, BestLayerNorm, 256, 1024, "layernorm"),
            swl(100, 10, False), swl(100, 10, True),
            swl(4096, 1000, False), swl(4096, 1000, True)]


MATRIX_CASES = _matrix_cases


def bench_matrix(repeat: int = 31, seed: int = 0) -> list:
    """[{case, gen_s, best_s, ratio}] for batchnorm, layernorm, softmax_with_loss fwd+bwd."""
    rows = []
    for label, make in _matrix_cases(np.random.default_rng(seed)):
        g, b = _alternate([make("gen"), make("best")], repeat)
        rows.append({"case": label, "gen_s": g, "best_s": b, "ratio": g / b})
    return rows


def _table(rows, sizes) -> str:
    by = {(r["layer"], r["n"]): r for r in rows}
    layers = list(dict.fromkeys(r["layer"] for r in rows))
    keys = ["fb", "bwd_book", "cbwd_book", "bwd_lambdify"] + (
        ["fb_aa"] if any("fb_aa" in r for r in rows) else [])
    titles = {"fb": "fb", "bwd_book": "bwd/book", "cbwd_book": "cbwd/book",
              "bwd_lambdify": "bwd/lambdify", "fb_aa": "book/book"}
    head = ["layer"] + [f"{titles[k]} {n:.0e}" for k in keys for n in sizes]
    lines = [head]
    for name in layers:
        cells = [name]
        for k in keys:
            for n in sizes:
                v = by.get((name, n), {}).get(k)
                cells.append("-" if v is None else f"{v:.2f}" + ("*" if v > 1.0 else ""))
        lines.append(cells)
    widths = [max(len(r[i]) for r in lines) for i in range(len(head))]
    text = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                      enumerate(zip(r, widths))) for r in lines]
    text.append("ratios: exported ÷ other side, median seconds of alternating calls; lower is "
                "better; * marks > 1.0" + ("; book/book: the book's class ÷ itself in the same "
                                           "rounds (the noise)" if "fb_aa" in keys else ""))
    return "\n".join(text)


def diff(before: dict, after: dict) -> str:
    """Every cell that was or is > 1.0, as ``before -> after`` (two ``--json`` outputs)."""
    old = {(r["layer"], r["n"]): r for r in before["elementwise"]}
    lines = []
    for r in after["elementwise"]:
        b = old.get((r["layer"], r["n"]), {})
        for k in ("fb", "bwd_book", "cbwd_book", "bwd_lambdify"):
            was, now = b.get(k), r.get(k)
            if now is not None and (now > 1.0 or (was or 0) > 1.0):
                lines.append(f"{r['layer']:16s} {k:13s} N={r['n']:.0e}  "
                             f"{'-' if was is None else f'{was:.2f}'} -> {now:.2f}"
                             + ("  still > 1" if now > 1.0 else ""))
    olds = {m["case"]: m for m in before.get("matrix", [])}
    for m in after.get("matrix", []):
        was = olds.get(m["case"], {}).get("ratio")
        lines.append(f"{m['case']:44s} {'-' if was is None else f'{was:.2f}'} -> "
                     f"{m['ratio']:.2f}" + ("  still > 1" if m["ratio"] > 1.0 else ""))
    return "\n".join(lines)


def _fixed_malloc(argv) -> None:
    """Run again under a fixed glibc mmap threshold (128 KiB), unless asked not to.

    glibc adapts its threshold to what was freed before, so whether a fresh array of
    1e5-1e6 elements comes back from the heap or page-faults in depended on the call
    history: the book's Exp measured against itself was 2.5x apart, side by side. Fixed,
    every fresh array of 16 Ki elements or more page-faults in (as one of 1e7 always
    does): the cost of each temporary is counted, alike on both sides.
    """
    import os
    from numeric.backend_bench import FIXED_MALLOC_ENV
    if (any(os.environ.get(k) is None for k in FIXED_MALLOC_ENV)
            and sys.platform.startswith("linux")):
        env = {**os.environ, **FIXED_MALLOC_ENV}
        os.execvpe(sys.executable, [sys.executable, os.path.abspath(__file__), *argv], env)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--malloc-dynamic" not in argv:
        _fixed_malloc(argv)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--malloc-dynamic", action="store_true",
                    help="keep glibc's adaptive mmap threshold (results then depend on "
                         "allocation history)")
    ap.add_argument("--layers", help="comma-separated elementwise layers (default: all)")
    ap.add_argument("--sizes", help="comma-separated N (default: 1e3,1e4,1e5,1e6,1e7)")
    ap.add_argument("--repeat", type=int, help="calls per side (default: by N)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of tables")
    ap.add_argument("--no-lambdify", action="store_true")
    ap.add_argument("--aa", action="store_true",
                    help="also time the book's class against itself in the forward+backward "
                         "rounds (book/book: how far apart identical code measures)")
    ap.add_argument("--inputs", type=int, default=64, metavar="K",
                    help="cycle K input sets, a new one each call, up to N = 1e5 (default 64, "
                         "as data that changes every training step; 1: one set, whose masks "
                         "the branch predictor learns at 1e3, flattering every select)")
    ap.add_argument("--diff", nargs=2, metavar=("BEFORE", "AFTER"),
                    help="compare two --json outputs: every cell that was or is > 1.0")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--no-matrix", action="store_true")
    g.add_argument("--matrix-only", action="store_true")
    args = ap.parse_args(argv)
    if args.diff:
        with open(args.diff[0]) as a, open(args.diff[1]) as b:
            print(diff(json.load(a), json.load(b)))
        return 0
    layers = args.layers.split(",") if args.layers else list(REFERENCE)
    sizes = [int(float(s)) for s in args.sizes.split(",")] if args.sizes else list(SIZES)
    rows, matrix = [], []
    if not args.matrix_only:
        for n in sizes:
            for name in layers:
                print(f"bench {name} N={n:.0e}", file=sys.stderr, flush=True)
                rows.append(bench_layer(name, n, args.repeat, lambdify=not args.no_lambdify,
                                        aa=args.aa, inputs=args.inputs))
    if not args.no_matrix:
        matrix = bench_matrix(args.repeat or 31)
    if args.json:
        print(json.dumps({"elementwise": rows, "matrix": matrix}, indent=1))
        return 0
    if rows:
        print(_table(rows, sizes))
    if matrix:
        print()
        w = max(len(r["case"]) for r in matrix)
        print(f"{'matrix layer, forward+backward':{w}s}  {'derive ms':>9s}  {'best ms':>8s}  ratio")
        for r in matrix:
            print(f"{r['case']:{w}s}  {r['gen_s'] * 1e3:9.3f}  {r['best_s'] * 1e3:8.3f}  "
                  f"{r['ratio']:.2f}{'*' if r['ratio'] > 1.0 else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
