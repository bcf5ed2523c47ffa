"""``derive bench --backend``: children pinned or as shipped, the table, clear errors."""
from __future__ import annotations

import json
import re

import pytest

from derive.cli import main
from numeric import backend_bench


def _json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_one_thread_child_is_pinned_with_every_pool_at_one_thread(capsys):
    got = _json(capsys, "bench", "square", "relu", "--backend", "numpy", "--threads", "one",
                "--sizes", "1000", "--repeat", "3", "--format", "json")
    one = got["processes"]["one"]
    assert one["cores"] == 1 and isinstance(one["core"], int)
    assert one["threads_env"]["OPENBLAS_NUM_THREADS"] == "1"
    assert "intra_op_parallelism_threads=1" in one["threads_env"]["XLA_FLAGS"]
    assert got["shipped"] == [] and "shipped" not in got["processes"]
    # by default the child runs under glibc's adaptive mmap threshold
    assert one["malloc"] == "dynamic"
    assert set(one["malloc_env"].values()) == {None}
    rows = {(r["layer"], r["n"]) for r in got["one"]}
    assert rows == {("square", 1000), ("relu", 1000)}
    for r in got["one"]:
        v = r["backends"]["numpy"]
        assert v["s"] > 0 and r["book_s"] > 0 and r["floor_s"] > 0
        # each ratio is of the backend's own median and its baseline's
        assert v["book_ratio"] == pytest.approx(v["s"] / r["book_s"])


def test_shipped_child_keeps_the_libraries_thread_settings(capsys, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")      # the parent's: not passed on
    got = _json(capsys, "bench", "square", "--backend", "numpy", "--threads", "shipped",
                "--sizes", "1000", "--repeat", "3", "--format", "json")
    assert got["one"] == []
    assert set(got["processes"]["shipped"]["threads_env"].values()) == {None}


def test_dynamic_malloc_leaves_glibc_adaptive_threshold(capsys, monkeypatch):
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "4096")   # the parent's: not passed on
    got = _json(capsys, "bench", "square", "--backend", "numpy", "--threads", "one",
                "--sizes", "1000", "--repeat", "3", "--format", "json")
    one = got["processes"]["one"]
    assert one["malloc"] == "dynamic"
    assert set(one["malloc_env"].values()) == {None}


def test_fixed_malloc_reaches_the_child(capsys):
    got = _json(capsys, "bench", "square", "--backend", "numpy", "--threads", "one",
                "--malloc", "fixed", "--sizes", "1000", "--repeat", "3", "--format", "json")
    one = got["processes"]["one"]
    assert one["malloc"] == "fixed"
    assert one["malloc_env"] == backend_bench.FIXED_MALLOC_ENV


def test_table_has_a_line_per_backend_and_says_lower_is_better(capsys):
    assert main(["bench", "square", "--backend", "numpy", "--threads", "one",
                 "--sizes", "1000,2000", "--repeat", "3"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("square")]
    assert len(lines) == 2 and all(" numpy " in line for line in lines)
    assert "lower is better" in out


@pytest.mark.parametrize("argv, needle", [
    (["bench", "square", "--backend", "fortran"], "fortran"),
    (["bench", "square", "--backend", "numpy", "--threads", "many"], "--threads"),
    (["bench", "square", "--backend", ","], "at least one"),
])
def test_bad_backend_options_are_usage_errors(capsys, argv, needle):
    assert main(argv) == 2
    assert needle in capsys.readouterr().err


def test_a_backend_that_cannot_be_imported_names_its_extra(monkeypatch):
    def refuse(name):
        raise ImportError(f"No module named {name!r}")
    monkeypatch.setattr(backend_bench.importlib, "import_module", refuse)
    with pytest.raises(backend_bench.BackendMissing, match=r"\.\[fast\]"):
        backend_bench.load_backend("numba")


def test_with_more_than_two_calls_no_call_always_follows_the_same_neighbour():
    """A fixed order left JAX's autodiff never right after the book's slow class, and what
    runs before a call changes its time: every call must follow several different ones."""
    from collections import defaultdict

    from numeric.bench import alternate
    seen = []
    calls = [lambda k=k: seen.append(k) for k in range(4)]
    medians = alternate(calls, 21)
    assert len(medians) == 4 and len(seen) == 84
    before = defaultdict(set)
    for prev, k in zip(seen, seen[1:]):
        before[k].add(prev)
    assert all(len(before[k] - {k}) == 3 for k in range(4)), dict(before)
    assert all(seen.count(k) == 21 for k in range(4))


def _peak_bytes(call):
    import tracemalloc
    call()                          # arrays made once (the warm floor's) are not counted
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("inputs, grads", [(1, 1), (2, 2)])
def test_warm_floor_writes_into_arrays_made_once_and_fresh_floor_makes_new_ones(inputs, grads):
    import numpy as np
    n = 1 << 16
    xs = [np.ones(n) for _ in range(inputs)]
    dout = np.ones(n)
    warm = backend_bench._floor_call(xs, dout, grads)
    fresh = backend_bench._floor_call(xs, dout, grads, fresh=True)
    assert _peak_bytes(warm) < 8 * n // 4          # no array of n float64 allocated
    assert _peak_bytes(fresh) >= 8 * n             # at least one (each freed in turn)


def test_rows_carry_both_floors_and_their_ratios(capsys):
    got = _json(capsys, "bench", "square", "--backend", "numpy", "--threads", "one",
                "--sizes", "1000", "--repeat", "3", "--format", "json")
    r = got["one"][0]
    v = r["backends"]["numpy"]
    assert r["fresh_floor_s"] > 0
    assert v["floor_ratio"] == pytest.approx(v["s"] / r["floor_s"])
    assert v["fresh_floor_ratio"] == pytest.approx(v["s"] / r["fresh_floor_s"])
    table = main(["bench", "square", "--backend", "numpy", "--threads", "one",
                  "--sizes", "1000", "--repeat", "3"])
    text = capsys.readouterr().out
    assert table == 0 and "/fresh floor" in text and "written before" in text


def test_the_jax_free_child_never_imports_jax_and_the_jax_child_times_the_jax_ratios(capsys):
    got = _json(capsys, "bench", "square", "--backend", "numpy,numba,jax", "--threads", "one",
                "--sizes", "1000", "--repeat", "3", "--format", "json")
    children = got["processes"]["one"]["children"]
    assert children["jax_free"]["jax_imported"] is False
    assert children["jax"]["jax_imported"] is True
    assert "jax_autodiff" not in children["jax_free"]["measured"]
    assert "jax" not in children["jax_free"]["measured"]
    assert "numpy" not in children["jax"]["measured"]
    assert {"jax_autodiff", "jax", "numba", "book"} <= set(children["jax"]["measured"])
    r = got["one"][0]
    v = r["backends"]
    assert list(v)[:2] == ["numpy", "numba"] and "jax" in v
    # numpy has no /jax: it never shares a process with JAX
    assert v["numpy"]["jax_ratio"] is None and v["numpy"]["process"] == "jax-free"
    # numba: time and /book from the JAX-free child, /jax of its time in the JAX child
    assert v["numba"]["process"] == "jax-free"
    assert v["numba"]["book_ratio"] == pytest.approx(v["numba"]["s"] / r["book_s"])
    assert v["numba"]["jax_ratio"] == pytest.approx(  # from its rounds with JAX alone
        v["numba"]["pair_s"] / v["numba"]["pair_autodiff_s"])
    assert v["numba"]["jax_ratio_shuffled"] == pytest.approx(
        v["numba"]["s_jax_process"] / r["jax_process"]["jax_autodiff_s"])
    # jax ran only in the JAX child: all its ratios are of that child's times
    assert v["jax"]["process"] == "jax"
    assert v["jax"]["book_ratio"] == pytest.approx(v["jax"]["s"] / r["jax_process"]["book_s"])
    # jax's /jax from rounds of the two JAX calls alone; the shuffled rounds' ratio kept
    assert v["jax"]["jax_ratio"] == pytest.approx(
        v["jax"]["pair_s"] / v["jax"]["pair_autodiff_s"])
    assert v["jax"]["jax_ratio_shuffled"] == pytest.approx(v["jax"]["s"] / r["jax_autodiff_s"])
    # JAX's autodiff as the book's two calls: timed in the JAX child, numba's ratio of it there
    assert "jax_split" in children["jax"]["measured"] and r["jax_split_s"] > 0
    assert v["numba"]["jax_split_ratio"] == pytest.approx(
        v["numba"]["s_jax_process"] / r["jax_process"]["jax_split_s"])
    assert v["numpy"]["jax_split_ratio"] is None


def test_numpy_alone_runs_only_the_jax_free_child(capsys):
    got = _json(capsys, "bench", "square", "--backend", "numpy", "--threads", "one",
                "--sizes", "1000", "--repeat", "3", "--format", "json")
    assert list(got["processes"]["one"]["children"]) == ["jax_free"]
    assert got["one"][0]["jax_process"] is None


def _row(book, backends, autodiff=None):
    return {"layer": "bce", "n": 10, "repeat": 3, "book_s": book, "floor_s": 1.0,
            "fresh_floor_s": 2.0, "jax_autodiff_s": autodiff, "timed": ["book"],
            "backends": {b: {"s": s, "first_s": 0.1, "book_ratio": s / book, "floor_ratio": s,
                             "fresh_floor_ratio": s / 2,
                             "jax_ratio": None if autodiff is None else s / autodiff,
                             "jax_split_ratio": None if autodiff is None else s / autodiff / 2}
                         for b, s in backends.items()}}


def test_merged_rows_take_book_from_the_jax_free_child_and_jax_from_the_jax_child():
    from derive.commands.bench_backends import merge_rows
    free = [_row(10.0, {"numpy": 5.0, "numba": 2.0, "numba_vjp": 1.0})]
    withjax = [_row(20.0, {"numba": 4.0, "numba_vjp": 3.0, "jax": 8.0}, autodiff=16.0)]
    (row,) = merge_rows(free, withjax)
    assert list(row["backends"]) == ["numpy", "numba", "numba_vjp", "jax"]
    assert row["book_s"] == 10.0 and row["jax_autodiff_s"] == 16.0
    assert row["jax_process"]["book_s"] == 20.0
    numba = row["backends"]["numba"]
    assert (numba["s"], numba["book_ratio"], numba["jax_ratio"], numba["s_jax_process"]) == \
        (2.0, 0.2, 0.25, 4.0)
    assert row["backends"]["numba_vjp"]["jax_ratio"] == 3.0 / 16.0
    assert row["backends"]["numpy"]["jax_ratio"] is None
    assert row["backends"]["numpy"]["s_jax_process"] is None
    jax = row["backends"]["jax"]
    assert jax["process"] == "jax" and jax["book_ratio"] == 8.0 / 20.0
    assert numba["jax_split_ratio"] == 0.125 and row["backends"]["numpy"]["jax_split_ratio"] is None
    keys = {"s", "first_s", "book_ratio", "floor_ratio", "fresh_floor_ratio", "jax_ratio",
            "jax_split_ratio", "s_jax_process", "process"}
    assert all(set(v) == keys for v in row["backends"].values())
    assert "timed" not in row
    # without a JAX child nothing has a /jax
    (alone,) = merge_rows(free, [])
    assert alone["jax_process"] is None
    assert all(v["jax_ratio"] is None for v in alone["backends"].values())


def _fake_numba(with_vjp: bool, seen: list):
    """A stand-in for the numba module: NumPy's classes, and <layer>_vjp if asked."""
    import types

    from numeric import generated
    fake = types.ModuleType("fake_numba")
    fake.__dict__.update({k: v for k, v in vars(generated).items() if isinstance(v, type)})
    if with_vjp:
        def bce_vjp(dout, x, t, **params):
            seen.append((dout, x, t, params))
            layer = generated.Bce()
            return (layer.forward(x, t),) + layer.backward(dout)

        def leaky_relu_vjp(dout, x, **params):
            seen.append((dout, x, params))
            return x, dout
        fake.bce_vjp, fake.leaky_relu_vjp = bce_vjp, leaky_relu_vjp
    return fake


@pytest.mark.parametrize("layer, args", [("bce", 3), ("leaky_relu", 2)])
def test_numba_vjp_is_timed_with_dout_first_and_the_hyper_parameters_as_keywords(layer, args):
    from numeric.reference import PARAMS
    seen = []
    row = backend_bench.bench_layer(layer, 64, ["numba"], 3,
                                    modules={"numba": _fake_numba(True, seen)})
    assert row["timed"][-2:] == ["numba", "numba_vjp"]
    v = row["backends"]["numba_vjp"]
    assert v["s"] > 0 and v["book_ratio"] == pytest.approx(v["s"] / row["book_s"])
    assert v["jax_ratio"] is None           # no JAX in this process
    assert len(seen) == 4                   # the first call and 3 rounds
    *arrays, params = seen[0]
    assert len(arrays) == args and params == PARAMS.get(layer, {})
    assert all(a.shape == (64,) for a in arrays)
    # dout first: drawn from (-1, 1), while bce's x lies in (0, 1) and leaky_relu's x differs
    rng = __import__("numpy").random.default_rng(0)
    from numeric.cases import CASES
    lo, hi = CASES[layer].domain
    for _ in CASES[layer].inputs:
        rng.uniform(lo, hi, 64)
    assert (arrays[0] == rng.uniform(-1.0, 1.0, 64)).all()


def test_a_numba_module_without_vjp_is_skipped_cleanly():
    row = backend_bench.bench_layer("bce", 64, ["numba"], 3,
                                    modules={"numba": _fake_numba(False, [])})
    assert "numba_vjp" not in row["backends"] and "numba_vjp" not in row["timed"]
    assert list(row["backends"]) == ["numba"]


def test_numba_vjp_gets_its_jax_ratio_in_the_process_with_jax():
    seen = []
    modules = {"numba": _fake_numba(True, seen), "jax": backend_bench.load_backend("jax")}
    row = backend_bench.bench_layer("bce", 64, ["numba"], 3, modules=modules)
    v = row["backends"]["numba_vjp"]
    assert v["jax_ratio"] == pytest.approx(v["pair_s"] / v["pair_autodiff_s"])
    assert v["jax_ratio_shuffled"] == pytest.approx(v["s"] / row["jax_autodiff_s"])
    # the first call, 3 shared rounds and 3 rounds of its own with JAX's autodiff
    assert len(seen) == 7


@pytest.mark.parametrize("process, label", [("jax-free", "JAX-free child"),
                                            ("jax", "JAX child")])
def test_a_failing_child_is_named_in_the_error(monkeypatch, process, label):
    import subprocess

    from derive.commands import bench_backends
    from derive.errors import DeriveError

    def failing(cmd, **kw):
        if process in cmd:
            return subprocess.CompletedProcess(cmd, 1, "", "Traceback ...\nValueError: boom")
        return subprocess.CompletedProcess(cmd, 0, json.dumps(
            {"rows": [], "jax_imported": False}), "")
    monkeypatch.setattr(bench_backends.subprocess, "run", failing)
    with pytest.raises(DeriveError, match=rf"\(one, {label}\): ValueError: boom"):
        bench_backends.measure(["square"], [10], ["numba", "jax"], 3, ("one",))


def test_a_jax_free_child_that_imported_jax_is_an_error(monkeypatch):
    import subprocess

    from derive.commands import bench_backends
    from derive.errors import DeriveError
    monkeypatch.setattr(bench_backends.subprocess, "run", lambda cmd, **kw: (
        subprocess.CompletedProcess(cmd, 0, json.dumps({"rows": [], "jax_imported": True}), "")))
    with pytest.raises(DeriveError, match="JAX-free child.*jax was imported"):
        bench_backends.measure(["square"], [10], ["numpy"], 3, ("one",))


def test_the_jax_free_child_refuses_the_jax_backend(capsys):
    assert backend_bench.main(["--process", "jax-free", "--backends", "numpy,jax",
                               "--layers", "square", "--sizes", "10", "--repeat", "3"]) == 2
    assert "does not time jax" in capsys.readouterr().err


def test_the_table_names_numba_vjp_and_shows_the_time_in_the_jax_child():
    from derive.commands.bench_backends import format_table, merge_rows
    free = [_row(10.0, {"numba": 2.0, "numba_vjp": 1.0})]
    withjax = [_row(20.0, {"numba": 6.0, "numba_vjp": 3.0, "jax": 8.0}, autodiff=16.0)]
    text = format_table({"one": merge_rows(free, withjax), "shipped": []})
    cells = [re.split(r"\s{2,}", line) for line in text.splitlines() if line.startswith("bce")]
    lines = {c[2]: c for c in cells}
    assert set(lines) == {"numba", "numba vjp", "jax"}
    assert lines["numba vjp"][-1] == "3000.000"          # ms in the JAX child
    assert lines["numba"][4] == "0.20"                   # /book of the JAX-free child
    assert lines["numba"][5] == "0.38"                   # /jax 1t of the JAX child
    assert "JAX child / JAX-free child: bce 1e+01 2.00" in text


def _jax_unimportable(monkeypatch):
    """load_backend as when jax is on disk but fails to import."""
    real = backend_bench.load_backend

    def load(backend):
        if backend == "jax":
            raise backend_bench.BackendMissing("the jax backend cannot be imported (test)")
        return real(backend)
    monkeypatch.setattr(backend_bench, "load_backend", load)


def test_a_jax_child_whose_jax_fails_to_import_reports_it_and_times_nothing(monkeypatch, capsys):
    _jax_unimportable(monkeypatch)
    argv = ["--process", "jax", "--layers", "square", "--sizes", "1000", "--repeat", "3",
            "--json"]
    # only numba asked for: JAX's autodiff was the point of this child, so it is skipped
    assert backend_bench.main(["--backends", "numba", *argv]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["rows"] == [] and "cannot be imported (test)" in got["jax_missing"]
    # jax itself asked for: an error, not a silent skip
    assert backend_bench.main(["--backends", "numba,jax", *argv]) == 2
    assert "cannot be imported (test)" in capsys.readouterr().err


def test_a_skipped_jax_child_leaves_every_jax_ratio_empty_and_says_why():
    from derive.commands.bench_backends import _described, merge_rows
    free = [_row(10.0, {"numba": 2.0})]
    (row,) = merge_rows(free, [])
    assert row["backends"]["numba"]["jax_ratio"] is None
    assert row["backends"]["numba"]["jax_split_ratio"] is None
    info = _described({"rows": [], "jax_missing": "no jax here", "jax_imported": False},
                      "dynamic")
    assert info["skipped"] == "no jax here" and info["measured"] == []
