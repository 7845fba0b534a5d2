"""The exact expectations behind the finite-space bound agree with brute force over every subset."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.optimizer import finite_space  # noqa: E402
from bench.optimizer.space import boolean, cat, integer, real  # noqa: E402


def test_configurations_enumerate_every_combination_and_refuse_a_real_parameter() -> None:
    space = [integer("n", 1, 3), cat("w", ["a", "b"]), boolean("flag")]
    configs = finite_space.configurations(space)
    assert len(configs) == 3 * 2 * 2
    assert len({tuple(c.values()) for c in configs}) == 12
    assert {"n": 3, "w": "b", "flag": True} in configs
    with pytest.raises(ValueError, match="'lr' is real"):
        finite_space.configurations(space + [real("lr", 1e-3, 1.0, log=True)])


@pytest.mark.parametrize("k", [1, 2, 4, 7])
def test_expected_best_is_the_mean_over_every_subset_of_k(k: int) -> None:
    losses = np.random.default_rng(3).normal(size=9)
    losses[4] = losses[6]  # ties count once per configuration
    brute = np.mean([min(subset) for subset in itertools.combinations(losses, k)])
    assert finite_space.expected_best(losses, k) == pytest.approx(brute, rel=1e-12)


def test_expected_best_of_all_is_the_best_and_out_of_range_k_is_refused() -> None:
    assert finite_space.expected_best([3.0, 1.0, 2.0], 3) == 1.0
    with pytest.raises(ValueError, match="k must be in 1..3, got 4"):
        finite_space.expected_best([3.0, 1.0, 2.0], 4)


def test_largest_prior_on_a_needle() -> None:
    # a needle (0) among nine ones: k trials among the m best find it with chance k/m, so the
    # expected best is 1 - k/m; 3 trials reach 0.41 (Random's 6 of 10 reach 0.4) up to m = 5
    losses = [1.0] * 9 + [0.0]
    assert finite_space.expected_best(losses, 6) == pytest.approx(0.4)
    assert finite_space.largest_prior(losses, 3, 0.41) == 5
    assert finite_space.largest_prior(losses, 3, 0.0) == 3
    assert finite_space.largest_prior(losses, 3, -1.0) == 0


def test_cli_names_the_finite_problems_when_given_another(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        finite_space.main(["DT-breast-nll"])
    assert "DT-breast-nll: not a problem with a finite space (those are kNN-wine-nll, kNN-diabetes-mse)" \
        in capsys.readouterr().err
