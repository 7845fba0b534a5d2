"""The benchmark's plan: which (problem, setting, method, seed) runs a mode asks for."""

from __future__ import annotations

import json
import sys
from argparse import ArgumentTypeError
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.optimizer.__main__ import (KUBETUNE_REFERENCE_SEEDS, REFERENCE_SEEDS, TUNING_SEEDS_FROM,  # noqa: E402
                                      plan, seed_list)
from bench.optimizer.methods import METHODS as ALL_METHODS  # noqa: E402

METHODS = ["kubetune-Bayesian", "kubetune-Random", "optuna-TPE"]


def _seeds(jobs: list[tuple]) -> dict[tuple[str, str, str], set[int]]:
    seeds: dict[tuple[str, str, str], set[int]] = {}
    for task, setting, _, _, method, seed in jobs:
        seeds.setdefault((task, setting, method), set()).add(seed)
    return seeds


def test_the_reference_comparison_runs_its_own_seed_count_and_the_rest_keeps_seeds() -> None:
    seeds = _seeds(plan(quick=True, seeds=3, methods=METHODS, only=None, reference_seeds=7))
    assert seeds[("DT-diabetes-mse", "ref-Bayesian-30xq2", "kubetune-Bayesian")] == set(range(7))
    assert seeds[("DT-diabetes-mse", "ref-Random-120xq8", "kubetune-Random")] == set(range(7))
    assert seeds[("DT-diabetes-mse", "16x8", "optuna-TPE")] == set(range(3))
    assert seeds[("branin", "8x4", "kubetune-Bayesian")] == set(range(3))
    # 30 trials at q 2: kubetune Bayesian and the model-based peers; 120 at q 8: Random only
    assert seeds[("DT-diabetes-mse", "ref-Bayesian-30xq2", "optuna-TPE")] == set(range(7))
    assert ("DT-diabetes-mse", "ref-Bayesian-30xq2", "kubetune-Random") not in seeds
    assert ("DT-diabetes-mse", "ref-Random-120xq8", "optuna-TPE") not in seeds
    # 30 at q 2 runs every model-based peer; twice the trials (60 at q 2) all of them but HEBO, on
    # the reference's seeds
    every = _seeds(plan(quick=True, seeds=3, methods=list(ALL_METHODS), only=None, reference_seeds=7))
    assert every[("DT-diabetes-mse", "ref-Bayesian-30xq2", "HEBO")] == set(range(7))
    assert every[("DT-diabetes-mse", "ref-Bayesian-60xq2", "kubetune-Bayesian")] == set(range(7))
    assert every[("DT-diabetes-mse", "ref-Bayesian-60xq2", "botorch-qLogNEI")] == set(range(7))
    assert ({m for (_, setting, m) in every if setting == "ref-Bayesian-30xq2"}
            == set(ALL_METHODS) - {"kubetune-Random"})
    assert ({m for (_, setting, m) in every if setting == "ref-Bayesian-60xq2"}
            == {m for (_, setting, m) in every if setting == "ref-Bayesian-30xq2"} - {"HEBO"}
            == {"kubetune-Bayesian", "optuna-TPE", "optuna-GP", "skopt-GP", "botorch-qLogNEI"})


def test_kubetune_runs_its_own_side_of_the_reference_bar_on_more_seeds_than_the_peers() -> None:
    seeds = _seeds(plan(quick=False, seeds=5, methods=list(ALL_METHODS), only=["kNN-wine-nll"],
                        reference_seeds=20, kubetune_reference_seeds=50))
    assert seeds[("kNN-wine-nll", "ref-Bayesian-30xq2", "kubetune-Bayesian")] == set(range(50))
    assert seeds[("kNN-wine-nll", "ref-Random-120xq8", "kubetune-Random")] == set(range(50))
    # the peers, and kubetune's 60 trials, keep the reference's 20: paired with kubetune's first 20
    assert seeds[("kNN-wine-nll", "ref-Bayesian-30xq2", "optuna-GP")] == set(range(20))
    assert seeds[("kNN-wine-nll", "ref-Bayesian-60xq2", "kubetune-Bayesian")] == set(range(20))
    assert seeds[("kNN-wine-nll", "16x8", "kubetune-Bayesian")] == set(range(5))
    # never fewer than the reference's own count
    fewer = _seeds(plan(quick=False, seeds=5, methods=METHODS, only=["kNN-wine-nll"],
                        reference_seeds=20, kubetune_reference_seeds=10))
    assert fewer[("kNN-wine-nll", "ref-Random-120xq8", "kubetune-Random")] == set(range(20))


def test_no_bar_is_measured_on_a_tuning_seed() -> None:
    """Variant screens run from ``TUNING_SEEDS_FROM`` on: the full plan's seeds must stay below."""
    jobs = plan(quick=False, seeds=5, methods=list(ALL_METHODS), only=None,
                reference_seeds=REFERENCE_SEEDS, kubetune_reference_seeds=KUBETUNE_REFERENCE_SEEDS)
    assert max(job[5] for job in jobs) == KUBETUNE_REFERENCE_SEEDS - 1 < TUNING_SEEDS_FROM


def test_without_a_reference_seed_count_every_setting_runs_the_same_seeds() -> None:
    jobs = plan(quick=True, seeds=3, methods=METHODS, only=["linear-breast-nll"])
    assert set(Counter(len(s) for s in _seeds(jobs).values())) == {3}
    assert {task for task, *_ in jobs} == {"linear-breast-nll"}


def test_a_selection_narrows_what_runs_not_what_the_tables_show(tmp_path: Path, monkeypatch) -> None:
    """An invocation that runs one method on one seed tables every current run of its mode: the
    other methods' stored runs too (its tables were once of its own runs only)."""
    import shutil

    from bench.optimizer import __main__ as cli
    from bench.optimizer import report
    from bench.optimizer.fingerprint import fingerprint, task_fingerprint
    shutil.copy(cli.BASELINE, tmp_path / "baseline.json")
    monkeypatch.setattr(cli, "RESULTS", tmp_path)
    monkeypatch.setattr(cli, "RUNS", tmp_path / "runs.jsonl")
    monkeypatch.setattr(cli, "BASELINE", tmp_path / "baseline.json")
    stored = {"task": "branin", "setting": "8x4", "rounds": 8, "q": 4, "method": "kubetune-Bayesian", "seed": 1,
              "losses": [1.0], "fingerprint": fingerprint("kubetune-Bayesian"),
              "task_fingerprint": task_fingerprint("branin")}
    cli.append_run(cli.RUNS, stored)
    tabled: list[list[dict]] = []
    shown: list[list[str]] = []
    monkeypatch.setattr(report, "write", lambda records, *_, **asked: (tabled.append(records),
                                                                       shown.append(asked["shown"])))
    monkeypatch.setattr(sys, "argv", ["bench.optimizer", "--quick", "--methods", "kubetune-Random",
                                      "--tasks", "branin", "--only-seeds", "0", "--jobs", "1", "--no-timing"])
    cli.main()
    ran = {(r["method"], r["seed"]) for r in tabled[0]}
    assert ran == {("kubetune-Random", 0), ("kubetune-Bayesian", 1)}
    assert len(cli.RUNS.read_text().splitlines()) == 2  # it ran only its selection
    meta_path = tmp_path / "optimizer-quick.meta.json"
    after_run = json.loads(meta_path.read_text())
    monkeypatch.setattr(sys, "argv", ["bench.optimizer", "--quick", "--methods", "kubetune-Random",
                                      "--tasks", "branin", "--only-seeds", "0", "--jobs", "1", "--no-timing"])
    monkeypatch.setattr(cli, "_job", lambda job: pytest.fail(f"re-ran {job}"))
    cli.main()  # finds every run of its selection done: a report pass, the meta file keeps the run
    assert json.loads(meta_path.read_text()) == after_run
    tabled.pop()
    shown.pop()
    monkeypatch.setattr(sys, "argv", ["bench.optimizer", "--quick", "--methods", "kubetune-Random", "--report-only"])
    cli.main()  # a report asked for one method shows that method only
    assert {r["method"] for r in tabled[1]} == {"kubetune-Random"}
    assert shown[:2] == [ALL_METHODS, ["kubetune-Random"]]
    # a later timing pass keeps the meta file, but not the narrowed report's selection
    from bench.optimizer import timing
    monkeypatch.setattr(timing, "run", lambda *_, **__: [])
    monkeypatch.setattr(sys, "argv", ["bench.optimizer", "--quick", "--methods", "kubetune-Random", "--timing-only"])
    cli.main()
    assert len(tabled[2]) == 2 and shown[2] == ALL_METHODS


def test_seeds_are_written_as_lists_and_ranges_and_a_typo_is_named() -> None:
    assert seed_list("3") == [3]
    assert seed_list("0,5-9") == [0, 5, 6, 7, 8, 9]
    with pytest.raises(ArgumentTypeError, match="'5-x'"):
        seed_list("2,5-x")
