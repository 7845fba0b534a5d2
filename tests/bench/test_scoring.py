"""The benchmark's Bayesmark-style score stays honest: an oracle scores ~100, one random draw ~0."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.optimizer import scoring  # noqa: E402
from bench.optimizer.space import integer, real, sample  # noqa: E402

SPACE = [real("x", -5.0, 5.0), real("lr", 1e-4, 1.0, log=True), integer("n", 1, 20)]


def loss(p: dict) -> float:
    return (p["x"] - 1.0) ** 2 + (np.log10(p["lr"]) + 2.0) ** 2 + 0.1 * abs(p["n"] - 7)


@pytest.fixture(scope="module")
def baseline() -> dict:
    entry = scoring.baseline_entry(scoring.random_baseline(SPACE, loss, n=scoring.N_RANDOM))
    scoring.update_opt(entry, loss({"x": 1.0, "lr": 1e-2, "n": 7}), "oracle")  # the true optimum, 0
    return entry


def test_oracle_scores_100(baseline: dict) -> None:
    assert baseline["opt"] == 0.0
    normalised = scoring.problem_normalised([0.0] * 5, baseline["clip"], baseline["opt"])
    assert scoring.score([normalised]) == pytest.approx(100.0)


def test_single_random_draw_scores_about_0(baseline: dict) -> None:
    rng = np.random.default_rng(1)
    draws = [loss(sample(SPACE, rng)) for _ in range(200)]  # 200 seeds of a 1-evaluation random search
    normalised = scoring.problem_normalised(draws, baseline["clip"], baseline["opt"])
    assert abs(scoring.score([normalised])) < 5.0


def test_random_search_scores_in_between_and_improves_with_budget(baseline: dict) -> None:
    rng = np.random.default_rng(2)
    scores = []
    for budget in (4, 64):
        bests = [min(loss(sample(SPACE, rng)) for _ in range(budget)) for _ in range(20)]
        scores.append(scoring.score([scoring.problem_normalised(bests, baseline["clip"], baseline["opt"])]))
    assert 0.0 < scores[0] < scores[1] < 100.0


def test_normalised_loss_is_capped_at_one_and_best_so_far_is_monotone() -> None:
    assert scoring.normalised_loss(10.0, clip=2.0, opt=0.0) == 1.0
    assert scoring.normalised_loss(1.0, clip=2.0, opt=0.0) == 0.5
    assert list(scoring.best_so_far([3.0, 5.0, 1.0, 2.0])) == [3.0, 3.0, 1.0, 1.0]


def test_repeated_fraction_counts_exact_repeats_only() -> None:
    assert scoring.repeated_fraction([3.0, 1.0, 3.0, 3.0, 2.0]) == pytest.approx(0.4)
    assert scoring.repeated_fraction([1.0, 1.0 + 1e-12, 2.0]) == 0.0
    assert scoring.repeated_fraction([]) == 0.0


def test_score_difference_interval_separates_a_real_gap_from_seed_noise() -> None:
    rng = np.random.default_rng(3)
    worse, better = rng.uniform(0.4, 0.6, 20), rng.uniform(0.0, 0.2, 20)  # normalised losses, clip 1, opt 0
    low, high = scoring.score_difference_interval(worse, better, clip=1.0, opt=0.0)
    assert low < -40 + 15 and high < 0  # a shortfall of about 40 points, outside the noise
    same_a, same_b = rng.uniform(0.0, 0.6, 20), rng.uniform(0.0, 0.6, 20)  # one distribution, two samples
    low, high = scoring.score_difference_interval(same_a, same_b, clip=1.0, opt=0.0)
    assert low < 0 < high
    exact = scoring.score_difference_interval([0.5] * 5, [0.25] * 5, clip=1.0, opt=0.0)
    assert exact == pytest.approx((-25.0, -25.0))  # no spread between seeds: the difference itself
    # one seed on a side says nothing about seed noise: never a miss beyond it
    assert scoring.score_difference_interval([0.5], [0.25] * 5, clip=1.0, opt=0.0) == (-math.inf, math.inf)


def test_paired_interval_of_the_overall_lead_tells_a_real_lead_from_one_lucky_seed() -> None:
    steady = ([0.1] * 5, [0.4] * 5, 1.0, 0.0)  # a ahead by 30 points on every seed
    lead = scoring.paired_score_difference_interval([steady, steady])
    assert lead == pytest.approx((30.0, 30.0))
    lucky = ([0.0, 0.0, 0.0, 0.0, 1.0], [0.3] * 5, 1.0, 0.0)  # ahead by 10 on average, one seed a disaster
    low, high = scoring.paired_score_difference_interval([lucky])
    assert low < 0.0 < 10.0 < high
    same = ([0.2, 0.5, 0.9], [0.2, 0.5, 0.9], 1.0, 0.0)
    assert scoring.paired_score_difference_interval([same]) == (0.0, 0.0)
    assert scoring.paired_score_difference_interval([([0.1], [0.2], 1.0, 0.0)]) == (-math.inf, math.inf)
    with pytest.raises(ValueError, match="unpaired"):
        scoring.paired_score_difference_interval([([0.1, 0.2], [0.2, 0.3, 0.4], 1.0, 0.0)])
