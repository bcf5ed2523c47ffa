"""``derive bench --backend``: children pinned or as shipped, the table, clear errors."""
from __future__ import annotations

import json

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
