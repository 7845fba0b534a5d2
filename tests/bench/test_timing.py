"""The suggestion-time table: each cell is the median of repeated asks, and the table says so."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.optimizer import report, timing  # noqa: E402


def test_cell_is_the_median_of_its_repeats(monkeypatch: pytest.MonkeyPatch) -> None:
    times = iter([2.0, 0.5, 0.7, 9.0, 0.1, 0.2])  # a slow first ask (imports), then steady ones
    monkeypatch.setattr(timing, "ask_seconds", lambda *args: next(times))
    rows = timing.run(["kubetune-Random"], dims=(3,), observations=(10, 128), qs=(1,), log=lambda row: None)
    assert [row["samples"] for row in rows] == [[2.0, 0.5, 0.7], [9.0, 0.1, 0.2]]
    assert [row["seconds"] for row in rows] == [0.7, 0.2]
    assert report._timing_cell(rows[0]) == "0.700 (0.500–2.000)"
    assert report._timing_cell({"seconds": 0.0052, "samples": [0.0052, 0.0049, 0.0061]}) == "0.005 (0.005–0.006)"
    assert report._timing_cell({"seconds": 1.5}) == "1.500"  # measured once, before repeats


def test_a_cell_over_the_limit_is_not_repeated_and_skips_the_larger_histories(monkeypatch: pytest.MonkeyPatch) -> None:
    times = iter([130.0])
    monkeypatch.setattr(timing, "ask_seconds", lambda *args: next(times))
    rows = timing.run(["HEBO"], dims=(3,), observations=(10, 128), qs=(1,), limit_s=120.0, log=lambda row: None)
    assert rows[0]["samples"] == [130.0] and "skipped" in rows[1]
    assert report._timing_cell(rows[1]) == "skipped"


def test_every_row_names_its_machine_and_threads_and_the_table_says_when_rows_mix_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timing, "ask_seconds", lambda *args: 0.1)
    monkeypatch.setattr(timing, "machine", lambda: "CPU A, 2 cores")
    rows = timing.run(["kubetune-Random", "optuna-TPE"], dims=(3,), observations=(10,), qs=(1,), threads=2,
                      log=lambda row: None)
    assert {(row["machine"], row["threads"]) for row in rows} == {("CPU A, 2 cores", 2)}
    assert report._machines(rows) == "Every row measured on CPU A, 2 cores, torch on 2 threads."
    older = [dict(rows[1], machine="CPU B, 2 cores"), {k: v for k, v in rows[0].items() if k != "machine"},
             dict(rows[0], threads=1), {k: v for k, v in rows[1].items() if k != "threads"}]
    assert report._machines([rows[0], *older]) == (
        "Rows from different machines or thread counts, not comparable across them: "
        "CPU A, 2 cores, torch on 2 threads: kubetune-Random; CPU B, 2 cores, torch on 2 threads: optuna-TPE; "
        "a machine not recorded, torch on 2 threads: kubetune-Random; CPU A, 2 cores, torch on 1 thread: "
        "kubetune-Random; CPU A, 2 cores, torch threads not recorded: optuna-TPE.")
