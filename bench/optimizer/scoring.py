"""Bayesmark-style scoring against a frozen baseline, and simple regret for test functions.

Per problem: ``clip`` is the median loss of a single random evaluation, ``opt`` the best loss
ever found (random evaluations and every method's best). A method's normalised loss on a
problem is ``(mean over seeds of its best-so-far − opt) / (clip − opt)``, capped at 1 (no better
than one random draw on average counts as 1, not worse); its score over a set of problems is
``100 × (1 − mean normalised loss)``: 100 = found the best known value on every seed, 0 = no
better than a single random draw.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from bench.optimizer.space import Param, sample

N_RANDOM = 512


def normalised_loss(best: float, clip: float, opt: float) -> float:
    if clip <= opt:
        return 0.0
    return min(1.0, (best - opt) / (clip - opt))


def score(normalised: Iterable[float]) -> float:
    values = list(normalised)
    return 100.0 * (1.0 - float(np.mean(values))) if values else math.nan


def problem_normalised(bests_over_seeds: Iterable[float], clip: float, opt: float) -> float:
    return normalised_loss(float(np.mean(list(bests_over_seeds))), clip, opt)


def problem_score(bests_over_seeds: Iterable[float], clip: float, opt: float) -> float:
    """One problem's score from a method's best loss on each seed: 100 × (1 − normalised loss of their mean)."""
    return 100.0 * (1.0 - problem_normalised(bests_over_seeds, clip, opt))


def score_difference_interval(a_bests: Iterable[float], b_bests: Iterable[float], clip: float, opt: float,
                              level: float = 0.9, resamples: int = 4000) -> tuple[float, float]:
    """Bootstrap interval of ``score(a) − score(b)`` on one problem, the seeds of each side resampled
    independently (two optimizers' runs share a seed's trial durations, not their outcomes).

    A shortfall whose interval reaches above zero is within seed noise; one wholly below zero is not.
    With one seed on a side nothing is known about the noise: the interval is unbounded.
    """
    from scipy import stats

    a_bests, b_bests = list(a_bests), list(b_bests)
    if min(len(a_bests), len(b_bests)) < 2:
        return -math.inf, math.inf

    def difference(a: np.ndarray, b: np.ndarray) -> float:
        return problem_score(a, clip, opt) - problem_score(b, clip, opt)

    result = stats.bootstrap((np.asarray(list(a_bests), float), np.asarray(list(b_bests), float)), difference,
                             vectorized=False, n_resamples=resamples, confidence_level=level, method="percentile",
                             random_state=np.random.default_rng(0))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def paired_score_difference_interval(problems: list[tuple[list[float], list[float], float, float]],
                                     level: float = 0.9, resamples: int = 4000) -> tuple[float, float]:
    """Bootstrap interval of the overall ``score(a) − score(b)`` over several problems, each given
    as (a's bests, b's bests, clip, opt) on the same seeds in the same order.

    Seeds are resampled per problem and shared by both sides (paired: a seed fixes the trial
    durations and the initial randomness of both runs), so the interval says whether a lead in
    the overall score is more than the luck of five seeds. Unbounded with fewer than two seeds.
    """
    if not problems or min(len(a) for a, _, _, _ in problems) < 2:
        return -math.inf, math.inf
    rng = np.random.default_rng(0)
    total = np.zeros(resamples)
    for a, b, clip, opt in problems:
        if len(a) != len(b):
            raise ValueError(f"unpaired seeds: {len(a)} against {len(b)}")
        pick = rng.integers(0, len(a), (resamples, len(a)))
        for sign, bests in ((-1.0, a), (1.0, b)):  # difference of scores = b's loss − a's loss
            mean = np.asarray(bests, float)[pick].mean(axis=1)
            total += sign * (np.minimum(1.0, (mean - opt) / (clip - opt)) if clip > opt else 0.0)
    differences = 100.0 * total / len(problems)
    tail = (1.0 - level) / 2
    return float(np.quantile(differences, tail)), float(np.quantile(differences, 1.0 - tail))


def best_so_far(losses: list[float]) -> np.ndarray:
    return np.minimum.accumulate(np.asarray(losses, dtype=float))


def repeated_fraction(losses: list[float]) -> float:
    """Share of evaluations whose loss exactly repeats an earlier one: on plateau-ridden problems
    (trees, accuracies) distinct configurations give the same model, and such trials teach nothing."""
    if not losses:
        return 0.0
    return 1.0 - len(set(losses)) / len(losses)


def random_baseline(space: list[Param], evaluate: Callable[[dict[str, Any]], float], n: int = N_RANDOM,
                    seed: int = 12345) -> list[float]:
    rng = np.random.default_rng(seed)
    return [float(evaluate(sample(space, rng))) for _ in range(n)]


def baseline_entry(random_losses: list[float]) -> dict[str, Any]:
    arr = np.asarray(random_losses)
    return {"clip": float(np.median(arr)), "opt": float(arr.min()), "opt_source": "random",
            "n_random": int(len(arr)), "random_mean": float(arr.mean())}


def update_opt(entry: dict[str, Any], value: float, source: str) -> None:
    if value < entry["opt"]:
        entry["opt"], entry["opt_source"] = float(value), source


def log10_regret(best: float, optimum: float, floor: float = 1e-8) -> float:
    return math.log10(max(best - optimum, floor))


def load_baseline(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}
