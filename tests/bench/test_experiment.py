"""``experiment.py``: ``--in-rounds`` asks a batch only on complete data; a stopped screen continues;
another file's runs are reused, not copied; the yardstick comparison pairs seeds; a budget cuts
every run but the yardstick's."""

from __future__ import annotations

import json
from argparse import ArgumentTypeError
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.optimizer import experiment, methods, report  # noqa: E402
from bench.optimizer.__main__ import _job  # noqa: E402


def test_in_rounds_each_ask_comes_after_the_whole_previous_round_is_told(monkeypatch) -> None:
    make = methods.make
    seen: list[tuple[int, int]] = []  # (batch size asked, pending points at that ask)

    def counting(name: str, space: list, seed: int) -> methods.Method:
        method = make(name, space, seed)
        pending: set[int] = set()
        ask, tell = method.ask, method.tell

        def counted_ask(n: int) -> list:
            seen.append((n, len(pending)))
            proposals = ask(n)
            pending.update(token for token, _ in proposals)
            return proposals

        def counted_tell(token: int, loss: float) -> None:
            pending.remove(token)
            tell(token, loss)

        method.ask, method.tell = counted_ask, counted_tell
        return method

    monkeypatch.setattr(methods, "make", counting)
    record = _job(("branin", "3x4-rounds", 3, 4, "kubetune-Random", 0), protocol=experiment.run_in_rounds)
    assert "error" not in record
    assert seen == [(4, 0)] * 3
    assert len(record["losses"]) == 12 and record["setting"] == "3x4-rounds"
    assert [q for q, _ in record["ask_seconds"]] == [4, 4, 4]


def test_a_stopped_screen_continues_from_its_out_file(tmp_path: Path) -> None:
    """Runs already in ``--out`` and still current are reused, never run or appended twice; a
    stale one (its method's code changed since) is run again."""
    out = tmp_path / "screen.jsonl"
    jobs = [("branin", "2x2", 2, 2, "kubetune-Random", seed) for seed in (0, 1)]
    first = experiment.run_missing(jobs[:1], out, workers=1)
    assert [r["seed"] for r in first] == [0] and len(out.read_text().splitlines()) == 1

    both = experiment.run_missing(jobs, out, workers=1)
    assert sorted(r["seed"] for r in both) == [0, 1]
    assert both[0]["losses"] == first[0]["losses"]
    assert len(out.read_text().splitlines()) == 2  # seed 0 was not run again

    stale = [{**json.loads(line), "fingerprint": "0" * 16} for line in out.read_text().splitlines()]
    out.write_text("".join(json.dumps(r) + "\n" for r in stale))
    experiment.run_missing(jobs, out, workers=1)
    assert len(out.read_text().splitlines()) == 4  # both re-ran and were appended


def test_reuse_only_names_the_missing_runs_and_runs_none(tmp_path: Path) -> None:
    """``--reuse-only`` reads a complete file's runs, and on an incomplete one fails before
    running or appending anything."""
    out = tmp_path / "screen.jsonl"
    jobs = [("branin", "2x2", 2, 2, "kubetune-Random", seed) for seed in (0, 1)]
    (first,) = experiment.run_missing(jobs[:1], out, workers=1)
    (reused,) = experiment.run_missing(jobs[:1], out, workers=1, reuse_only=True)
    assert reused["losses"] == first["losses"]
    with pytest.raises(LookupError, match=r"1 of 2 runs are not on file.*'kubetune-Random', 1\)"):
        experiment.run_missing(jobs, out, workers=1, reuse_only=True)
    assert len(out.read_text().splitlines()) == 1


def _run(task: str, setting: str, method: str, seed: int, best: float) -> dict:
    return {"task": task, "setting": setting, "method": method, "seed": seed, "losses": [best + 1.0, best]}


PROBLEMS = {"a": {"clip": 10.0, "opt": 0.0}, "b": {"clip": 10.0, "opt": 0.0}}


def test_the_yardstick_comparison_pairs_each_problem_on_the_seeds_both_ran() -> None:
    records = [_run("a", "15x8", "random", s, 2.0) for s in (0, 1)] + [_run("b", "15x8", "random", s, 2.0) for s in (0, 1)]
    records += [_run("a", "15x2", "bayes", 0, 0.0), _run("a", "15x2", "bayes", 1, 1.0),
                _run("b", "15x2", "bayes", 0, 4.0), _run("b", "15x2", "bayes", 1, 4.0),
                _run("b", "15x2", "bayes", 2, 0.0),  # a seed the yardstick lacks: left out
                _run("branin", "15x2", "bayes", 0, 0.0)]  # no baseline entry: not a problem here
    (row,) = experiment.compared_with_yardstick(records, PROBLEMS, against=("random", "15x8"))
    assert (row["setting"], row["method"], row["yardstick"]) == ("15x2", "bayes", "random@15x8")
    assert row["problems"] == 2 and row["seeds"] == 2
    assert row["score"] == pytest.approx((95.0 + 60.0) / 2) and row["yardstick_score"] == pytest.approx(80.0)
    assert row["holds"] == 1  # a (95 against 80), not b (60 against 80)
    assert row["ahead_beyond_noise"] == ["a"] and row["short_beyond_noise"] == ["b"]  # every resample agrees
    low, high = row["lead_interval"]
    assert low <= row["score"] - row["yardstick_score"] <= high


def test_without_against_each_setting_is_measured_against_its_first_method() -> None:
    records = [_run("a", "16x2", "first", 0, 5.0), _run("a", "16x2", "second", 0, 0.0),
               _run("a", "16x8", "first", 0, 0.0), _run("a", "16x8", "second", 0, 5.0)]
    rows = {(r["setting"], r["method"]): r for r in experiment.compared_with_yardstick(records, PROBLEMS)}
    assert set(rows) == {("16x2", "second"), ("16x8", "second")}
    assert rows[("16x2", "second")]["yardstick"] == "first@16x2" and rows[("16x2", "second")]["holds"] == 1
    assert rows[("16x8", "second")]["holds"] == 0


def test_against_is_written_method_at_setting_and_a_typo_is_named() -> None:
    assert experiment.method_at_setting("kubetune-Bayesian+mace-k05@15x8") == ("kubetune-Bayesian+mace-k05", "15x8")
    for wrong in ("kubetune-Random", "kubetune-Random@15", "@15x8", "kubetune-Random@15x"):
        with pytest.raises(ArgumentTypeError, match="is not METHOD@ROUNDSxQ"):
            experiment.method_at_setting(wrong)


def test_median_ranks_rank_each_problem_on_the_seeds_all_its_methods_ran() -> None:
    records = [_run("a", "16x2", "x", 0, 1.5), _run("a", "16x2", "y", 0, 2.0), _run("a", "16x2", "z", 0, 2.0),
               _run("a", "16x2", "z", 1, 0.0),  # only z ran seed 1: left out, else z would rank first on a
               _run("b", "16x2", "x", 0, 3.0), _run("b", "16x2", "y", 0, 1.0), _run("b", "16x2", "z", 0, 2.0),
               _run("branin", "16x2", "z", 0, 0.0),  # no baseline entry: not ranked
               _run("a", "16x8", "x", 0, 1.0)]  # a setting with one method: no ranking
    ranks = experiment.median_ranks(records, PROBLEMS)
    assert list(ranks) == ["16x2"]
    # a: x 1, y and z tied 2.5; b: y 1, z 2, x 3
    assert ranks["16x2"] == {"y": (1.75, 2), "x": (2.0, 2), "z": (2.25, 2)}
    assert list(ranks["16x2"]) == ["y", "x", "z"]  # best first


def test_runs_of_another_file_are_reused_under_the_jobs_setting_and_not_copied(tmp_path: Path) -> None:
    """``--reuse-from``: a current run stored under another setting name (the store's) counts as
    done; a stale one there does not."""
    store, out = tmp_path / "store.jsonl", tmp_path / "screen.jsonl"
    (stored,) = experiment.run_missing([("branin", "ref-Random-8xq2", 2, 2, "kubetune-Random", 0)], store, workers=1)
    stale = dict(stored, seed=1, fingerprint="0" * 16)
    store.write_text(store.read_text() + json.dumps(stale) + "\n")
    jobs = [("branin", "2x2", 2, 2, "kubetune-Random", seed) for seed in (0, 1)]
    records = experiment.run_missing(jobs, out, workers=1, reuse_from=[store])
    assert [(r["setting"], r["seed"]) for r in records] == [("2x2", 0), ("2x2", 1)]
    assert records[0]["losses"] == stored["losses"]
    assert [json.loads(line)["seed"] for line in out.read_text().splitlines()] == [1]  # only the stale one ran
    assert len(store.read_text().splitlines()) == 2  # the other file is only read


def test_at_a_budget_every_run_but_the_yardsticks_is_cut_to_its_first_trials() -> None:
    long = {"task": "a", "setting": "30x2", "method": "bayes", "seed": 3, "rounds": 30, "q": 2,
            "losses": [float(i) for i in range(60)]}
    short = dict(long, setting="15x2", rounds=15)  # 30 trials: no reading at 35
    yardstick = dict(long, setting="15x8", method="random", rounds=15, q=8, losses=[float(i) for i in range(120)])
    cut = experiment.at_budget([long, short, yardstick], 35, ("random", "15x8"))
    assert [r["setting"] for r in cut] == ["30x2", "15x8"]
    assert cut[0]["losses"] == report.first_trials(long, 35)["losses"] and len(cut[0]["losses"]) == 35
    assert cut[1]["losses"] == yardstick["losses"]
