"""The benchmark's tables compare methods on the same problems and seeds, also in a partial run."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.optimizer import report  # noqa: E402

BASELINE = {"problems": {name: {"clip": 1.0, "opt": 0.0} for name in ("p1", "p2", "p3")}}


def _run(method: str, task: str, seed: int, best: float) -> dict:
    return {"task": task, "setting": "16x2", "rounds": 16, "q": 2, "method": method, "seed": seed,
            "losses": [1.0, best]}


def _reference_run(method: str, setting: str, task: str, seed: int, best: float) -> dict:
    return dict(_run(method, task, seed, best), setting=setting)


def test_partial_method_is_compared_with_kubetune_on_its_own_problems_and_seeds() -> None:
    """A partial run lowers no one else's seed count: each method keeps all its seeds."""
    records = [_run("kubetune-Bayesian", task, 0, best) for task, best in (("p1", 0.1), ("p2", 0.3), ("p3", 0.9))]
    records += [_run("kubetune-Bayesian", task, 1, 0.5) for task in ("p1", "p2", "p3")]
    records += [_run("HEBO", "p1", 0, 0.2), _run("HEBO", "p2", 0, 0.2)]  # HEBO: two problems, seed 0 only
    scores = report.analyse(records, BASELINE)["model"]["16x2"]
    assert scores["HEBO"]["n_tasks"] == 2 and scores["HEBO"]["score"] == pytest.approx(80.0)
    # kubetune on p1 and p2, seed 0 only (the seeds HEBO has; seed 1 would give 50): 1 - mean(0.1, 0.3) = 80
    assert scores["HEBO"]["kubetune_same"] == pytest.approx(80.0)
    assert scores["kubetune-Bayesian"]["n_tasks"] == 3 and scores["kubetune-Bayesian"]["runs"] == 6
    # kubetune's own score keeps both of its seeds on every problem, although HEBO has only seed 0:
    # mean bests 0.3, 0.4, 0.7
    assert scores["kubetune-Bayesian"]["score"] == pytest.approx(100 * (1 - (0.3 + 0.4 + 0.7) / 3))
    assert scores["kubetune-Bayesian"]["kubetune_same"] == pytest.approx(scores["kubetune-Bayesian"]["score"])


def test_reference_comparison_counts_the_seeds_where_bayesian_is_not_worse() -> None:
    """Seed by seed on the seeds both have: ties count for Bayesian; seed 3 (no Random run) not at all."""
    records = [_reference_run("kubetune-Bayesian", report.REF_B, "p1", s, b)
               for s, b in ((0, 0.2), (1, 0.5), (2, 0.1), (3, 0.9))]
    records += [_reference_run("kubetune-Random", report.REF_R, "p1", s, b) for s, b in ((0, 0.2), (1, 0.4), (2, 0.3))]
    (row,) = report.analyse(records, BASELINE)["reference"]["rows"]
    assert (row["seeds_not_worse"], row["seeds"]) == (2, 3)
    assert row["score"] == pytest.approx(100 * (1 - 0.8 / 3)) and row["random_120_q8"] == pytest.approx(70.0)
    assert row["holds"]
    low, high = row["difference_interval_90"]  # three seeds, one Bayesian win and one loss: within noise
    assert low < 0 < high


def test_reference_comparison_counts_misses_beyond_seed_noise() -> None:
    """p1: Bayesian worse on every seed by a wide margin (a miss beyond noise); p2: a tie (not a miss)."""
    records = [_reference_run("kubetune-Bayesian", report.REF_B, "p1", s, 0.6 + 0.01 * s) for s in range(5)]
    records += [_reference_run("kubetune-Random", report.REF_R, "p1", s, 0.1 + 0.01 * s) for s in range(5)]
    records += [_reference_run(m, setting, "p2", s, 0.3) for s in range(5)
                for m, setting in (("kubetune-Bayesian", report.REF_B), ("kubetune-Random", report.REF_R))]
    reference = report.analyse(records, BASELINE)["reference"]
    assert [r["holds"] for r in reference["rows"]] == [False, True]
    assert reference["misses_beyond_noise"] == 1 and reference["fraction"] == pytest.approx(0.5)


def test_reference_comparison_scores_peers_against_random_on_their_own_seeds() -> None:
    """A peer's 30 trials are paired with Random's runs on the seeds the peer has; kubetune's row
    keeps all of its seeds however few the peer ran."""
    records = [_reference_run("kubetune-Bayesian", report.REF_B, "p1", s, 0.2) for s in range(4)]
    records += [_reference_run("kubetune-Random", report.REF_R, "p1", s, 0.1 * (s + 1)) for s in range(4)]
    records += [_reference_run("optuna-GP", report.REF_B, "p1", s, 0.2) for s in (0, 1)]  # Random: 0.1, 0.2
    reference = report.analyse(records, BASELINE)["reference"]
    (row,) = reference["rows"]
    assert row["seeds"] == 4 and row["random_120_q8"] == pytest.approx(75.0) and row["holds"]  # 80 vs 75
    peer = row["peers"]["optuna-GP"]
    assert peer["seeds"] == 2 and peer["random_120_q8"] == pytest.approx(85.0) and not peer["holds"]  # 80 vs 85
    assert peer["seeds_not_worse"] == 1
    assert reference["peers"]["optuna-GP"]["fraction"] == 0.0
    assert reference["mean_score"] == pytest.approx(80.0)
    assert reference["peers"]["optuna-GP"]["mean_random_120_q8"] == pytest.approx(85.0)


def test_twice_the_trials_are_their_own_columns_against_the_same_random_runs() -> None:
    """The 60-trial runs are scored against Random 120 / q 8 on each method's seeds, apart from the
    30-trial row (which decides the bar) and from the 30-trial peers; without them there is no column."""
    records = [_reference_run("kubetune-Bayesian", report.REF_B, "p1", s, 0.4) for s in range(3)]
    records += [_reference_run("kubetune-Random", report.REF_R, "p1", s, 0.3) for s in range(3)]
    assert report.analyse(records, BASELINE)["reference"]["sixty"] == {}
    records += [_reference_run("kubetune-Bayesian", report.REF_B60, "p1", s, 0.2) for s in range(2)]
    records += [_reference_run("optuna-TPE", report.REF_B60, "p1", 0, 0.35)]
    reference = report.analyse(records, BASELINE)["reference"]
    (row,) = reference["rows"]
    assert not row["holds"] and row["score"] == pytest.approx(60.0)  # 30 trials: 60 vs Random's 70
    ours, tpe = row["sixty"]["kubetune-Bayesian"], row["sixty"]["optuna-TPE"]
    assert ours["holds"] and ours["seeds"] == 2 and ours["score"] == pytest.approx(80.0)
    assert not tpe["holds"] and tpe["seeds"] == 1 and tpe["score"] == pytest.approx(65.0)  # vs Random's 70
    sixty = reference["sixty"]
    assert sixty["kubetune-Bayesian"]["fraction"] == 1.0 and sixty["optuna-TPE"]["fraction"] == 0.0
    assert reference["fraction"] == 0.0
    assert sixty["kubetune-Bayesian"]["leads_beyond_noise"] == 1 and reference["leads_beyond_noise"] == 0
    assert row["peers"] == {}  # the 60-trial runs are not peers of the 30-trial row


def test_a_partial_reference_peer_is_set_beside_kubetune_on_its_own_problems_and_seeds() -> None:
    """HEBO ran p1 only, seeds 0 and 1: its summary counts 1 problem and gives kubetune's 30 trials
    on exactly those runs (bests 0.1, 0.3: 80), not kubetune's mean over both problems and all seeds."""
    records = [_reference_run("kubetune-Bayesian", report.REF_B, task, s, b)
               for task, bests in (("p1", (0.1, 0.3, 0.9)), ("p2", (0.5, 0.5, 0.5))) for s, b in enumerate(bests)]
    records += [_reference_run("kubetune-Random", report.REF_R, task, s, 0.2) for task in ("p1", "p2") for s in range(3)]
    records += [_reference_run("HEBO", report.REF_B, "p1", s, 0.1) for s in (0, 1)]
    reference = report.analyse(records, BASELINE)["reference"]
    hebo = reference["peers"]["HEBO"]
    assert hebo["problems"] == 1 and hebo["fraction"] == 1.0  # 90 vs Random's 80 on seeds 0-1
    assert hebo["mean_score"] == pytest.approx(90.0)
    assert hebo["mean_kubetune_30_q2"] == pytest.approx(80.0)
    assert reference["mean_score"] == pytest.approx(100 * (1 - (1.3 / 3 + 0.5) / 2))  # kubetune's own row
    assert reference["problems"] == 2 and reference["mean_kubetune_30_q2"] is None
    # a peer seed kubetune lacks leaves the comparison undefined rather than unpaired
    records += [_reference_run("kubetune-Random", report.REF_R, "p1", 5, 0.2),
                _reference_run("HEBO", report.REF_B, "p1", 5, 0.1)]
    assert report.analyse(records, BASELINE)["reference"]["peers"]["HEBO"]["mean_kubetune_30_q2"] is None


def test_a_peer_cell_names_its_seeds_where_it_ran_fewer_than_kubetune() -> None:
    """A partial peer run (HEBO, seeds 0-1 of 3) shows its seed count, so its score is not read as
    one over kubetune's seeds; a full one (optuna-GP, all 3) does not."""
    records = [_reference_run(m, setting, "p1", s, 0.2) for s in range(3)
               for m, setting in (("kubetune-Bayesian", report.REF_B), ("kubetune-Random", report.REF_R),
                                  ("optuna-GP", report.REF_B))]
    records += [_reference_run("HEBO", report.REF_B, "p1", s, 0.1) for s in (0, 1)]
    (row,) = report.analyse(records, BASELINE)["reference"]["rows"]
    assert report._peer_cell(row["peers"]["HEBO"], row["seeds"]).endswith("; 2 seeds)")
    assert "seeds" not in report._peer_cell(row["peers"]["optuna-GP"], row["seeds"])
    assert report._peer_cell(None, row["seeds"]) == "—"


def test_the_first_trials_of_a_long_run_are_the_run_with_that_budget() -> None:
    """What the budget table rests on: protocol.run with 10 trials tells exactly the losses that its
    20-trial run tells of its first 10 launched trials, in the same order."""
    from bench.optimizer.protocol import run

    long, short = (run("branin", "kubetune-Random", 2, rounds, 2) for rounds in (10, 5))
    # at seed 2 the 10th result told is the 11th trial launched: a plain prefix would be wrong
    assert len(long["losses"]) == 20 and long["losses"][:10] != short["losses"]
    assert report.first_trials(long, 10)["losses"] == short["losses"]
    assert sorted(report.completion_order(2, 20, 2)) == list(range(20))


def test_the_budget_table_finds_the_least_budget_from_which_every_problem_holds() -> None:
    """p1's best comes from the 46th launched trial: its first k trials reach Random's 0.2 from k = 50.
    Random's baseline row reads its own 120 trials: its 0.2 comes from the 100th launched (p1) and
    the 33rd (p2), so its first 30 score 50 on both and its first 35 reach its whole run on p2."""
    order = report.completion_order(0, 60, 2)
    sixty = {"setting": report.REF_B60, "rounds": 30, "q": 2, "seed": 0, "method": "kubetune-Bayesian"}
    records = [dict(sixty, task="p1", losses=[0.0 if i == 45 else 0.5 for i in order]),
               dict(sixty, task="p2", losses=[0.0] * 60)]
    records += [_reference_run("kubetune-Bayesian", report.REF_B, t, 0, 0.5) for t in ("p1", "p2")]
    random_order = report.completion_order(0, 120, 8)
    records += [{"task": t, "setting": report.REF_R, "rounds": 15, "q": 8, "method": "kubetune-Random", "seed": 0,
                 "losses": [0.2 if i == best else 0.5 for i in random_order]} for t, best in (("p1", 99), ("p2", 32))]
    budgets = report.analyse(records, BASELINE)["reference"]["budgets"]
    assert list(budgets) == ["kubetune-Bayesian", "kubetune-Random"]  # the baseline row last
    by_budget = budgets["kubetune-Bayesian"]["by_budget"]
    assert [by_budget[k]["fraction"] for k in report.BUDGETS] == [0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0]
    assert by_budget[30]["mean_score"] == pytest.approx(75.0)  # p1 50, p2 100
    assert budgets["kubetune-Bayesian"]["every_problem_from"] == 50
    random = budgets["kubetune-Random"]["by_budget"]
    assert [random[k]["fraction"] for k in report.BUDGETS] == [0.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    assert random[30]["mean_score"] == pytest.approx(50.0) and random[60]["mean_score"] == pytest.approx(65.0)
    assert budgets["kubetune-Random"]["every_problem_from"] is None


def test_a_method_as_good_as_random_holds_on_about_half_the_problems() -> None:
    rng = np.random.default_rng(1)
    problems = {f"p{i}": {"clip": 1.0, "opt": 0.0} for i in range(4)}
    # p0-p2: twenty distinct bests each, so one half of the seeds beats the other half by chance;
    # p3: every seed ties, so its halves always hold
    bests = {f"p{i}": list(0.5 * rng.random(20)) for i in range(3)} | {"p3": [0.2] * 20}
    equal = report.equal_method_holds(bests, problems, splits=400)
    assert equal["problems"] == 4 and equal["seeds_per_half"] == 10
    assert 2.3 < equal["mean"] < 2.7  # 1 + 3 coin flips
    assert 0.07 < equal["all"] < 0.18  # all three coins: 1/8
    assert equal["low"] >= 1 and equal["high"] <= 4
    assert report.equal_method_holds({"p0": [0.3]}, problems) is None


def test_the_overall_median_rank_counts_real_model_problems_and_test_functions() -> None:
    """``ranks.overall_median_ranks``: a method ranks on each problem-setting it ran, functions by regret."""
    from bench.optimizer.ranks import overall_median_ranks

    def branin(method: str, regret: float) -> dict:
        return dict(_run(method, "branin", 0, 0.0), setting="8x4", losses=[report.FUNCTIONS["branin"].optimum + regret])

    a, b, c = "kubetune-Bayesian", "optuna-GP", "HEBO"
    records = [_run(a, "p1", 0, 0.1), _run(b, "p1", 0, 0.5), _run(a, "p2", 0, 0.6), _run(b, "p2", 0, 0.2),
               _run(a, "p3", 0, 0.1), _run(b, "p3", 0, 0.3), branin(a, 1e-3), branin(b, 1.0), branin(c, 1e-2)]
    # kubetune 1, 2, 1 on p1-p3 and 1 on branin; Optuna GP 2, 1, 2 and 3; HEBO only branin, 2
    assert overall_median_ranks(report.analyse(records, BASELINE)) == {a: (1.0, 4), b: (2.0, 4), c: (2.0, 1)}
