"""bench/numpy_bench.py's rows: the ratios are the quotients of the times they name, and
``--aa`` adds the book's class against itself (the noise floor of every ``fb`` ratio)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import numpy_bench  # noqa: E402


def test_a_row_holds_its_times_and_their_quotients():
    row = numpy_bench.bench_layer("relu", 1000, repeat=3, lambdify=False)
    assert "fb_aa" not in row
    assert row["fb"] == pytest.approx(row["fb_s"] / row["fb_book_s"])
    assert row["bwd_book"] == pytest.approx(row["bwd_s"] / row["bwd_book_s"])
    # the class's backward against the same book backward: both read their caches
    assert row["cbwd_book"] == pytest.approx(row["cbwd_s"] / row["bwd_book_s"])
    assert row["cbwd_s"] != row["bwd_s"]            # timed on its own, not copied
    assert "cbwd/book 1e+03" in numpy_bench._table([row], [1000]).splitlines()[0]


def test_aa_times_the_book_against_itself_and_the_table_shows_it():
    row = numpy_bench.bench_layer("relu", 1000, repeat=3, lambdify=False, aa=True)
    assert row["fb_aa"] > 0 and row["fb"] == pytest.approx(row["fb_s"] / row["fb_book_s"])
    table = numpy_bench._table([row], [1000])
    assert "book/book 1e+03" in table.splitlines()[0] and "(the noise)" in table
    assert "book/book" not in numpy_bench._table(
        [numpy_bench.bench_layer("relu", 1000, repeat=3, lambdify=False)], [1000])


def test_input_sets_are_cycled_call_by_call():
    seen = []
    call = numpy_bench._cycled([lambda: seen.append("a"), lambda: seen.append("b")])
    for _ in range(5):
        call()
    assert "".join(seen) == "ababa"
    row = numpy_bench.bench_layer("leaky_relu", 1000, repeat=3, lambdify=False, inputs=4)
    assert row["inputs"] == 4 and row["bwd_book"] == pytest.approx(row["bwd_s"] / row["bwd_book_s"])
    big = numpy_bench.bench_layer("relu", numpy_bench.FRESH_MAX + 1, repeat=3, lambdify=False,
                                  inputs=4)
    assert big["inputs"] == 1
