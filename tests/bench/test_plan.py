"""The benchmark's plan: which (problem, setting, method, seed) runs a mode asks for."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.optimizer.__main__ import plan  # noqa: E402

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
    # 30 trials at q 2: kubetune Bayesian and the Optuna peers; 120 at q 8: Random only
    assert seeds[("DT-diabetes-mse", "ref-Bayesian-30xq2", "optuna-TPE")] == set(range(7))
    assert ("DT-diabetes-mse", "ref-Bayesian-30xq2", "kubetune-Random") not in seeds
    assert ("DT-diabetes-mse", "ref-Random-120xq8", "optuna-TPE") not in seeds


def test_without_a_reference_seed_count_every_setting_runs_the_same_seeds() -> None:
    jobs = plan(quick=True, seeds=3, methods=METHODS, only=["linear-breast-nll"])
    assert set(Counter(len(s) for s in _seeds(jobs).values())) == {3}
    assert {task for task, *_ in jobs} == {"linear-breast-nll"}
