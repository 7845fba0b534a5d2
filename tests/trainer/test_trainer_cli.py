"""The trainer on this host's CPU: it learns, its hyperparameters matter, and it fails loudly.

A tuner can only beat random search if the objective responds to the hyperparameters, so these
tests check that sensible values learn the digits and that a tiny or an absurd learning rate does
not, and that every way a trial can go wrong (an unknown hyperparameter, a diverged loss) ends in a
non-zero exit rather than a bogus metric.
"""

from __future__ import annotations

import pytest
from trainer_harness import METRIC_REGEX, SmokeRunner, TrainerRun

pytestmark = pytest.mark.slow  # each run trains for about ten seconds

# The reference experiment's worst random-search trial reached just over 0.2 on CIFAR-10; on the
# digits, runs that do not learn stay close to chance (0.1).
NOT_LEARNED_ACCURACY = 0.3


@pytest.fixture(scope="module")
def good_run(smoke: SmokeRunner, local_trainer: list[str]) -> TrainerRun:
    """The 2-epoch digits run with sensible hyperparameters, shared by several tests."""
    return smoke(local_trainer)


def test_prints_one_parsable_accuracy_per_epoch(good_run: TrainerRun) -> None:
    assert good_run.returncode == 0, good_run.describe()
    epoch_lines = [line for line in good_run.stdout.splitlines() if line.startswith("epoch=")]
    assert len(epoch_lines) == 2, good_run.describe()  # the smoke run trains 2 epochs
    for line in epoch_lines:
        # Exactly one match per line, so a first-match and a last-match scraper agree.
        assert len(METRIC_REGEX.findall(line)) == 1, line
    assert all(0.0 <= accuracy <= 1.0 for accuracy in good_run.accuracies), good_run.accuracies


def test_learns_with_sensible_hyperparameters(good_run: TrainerRun) -> None:
    assert good_run.learned, good_run.describe()


@pytest.mark.parametrize("learning_rate", ["1e-6", "50"], ids=["tiny", "absurd"])
def test_bad_learning_rate_does_not_learn(smoke: SmokeRunner, local_trainer: list[str],
                                          learning_rate: str) -> None:
    run = smoke(local_trainer, learning_rate=learning_rate)
    # Divergence may end the run (non-zero exit) or leave it at chance: either way, clearly worse.
    if run.returncode == 0:
        assert run.final_accuracy <= NOT_LEARNED_ACCURACY, run.describe()


def test_same_seed_same_run(smoke: SmokeRunner, local_trainer: list[str], good_run: TrainerRun) -> None:
    again = smoke(local_trainer)
    assert again.returncode == 0, again.describe()
    assert again.accuracies == good_run.accuracies
    assert _losses(again) == _losses(good_run)


def test_seed_changes_the_run(smoke: SmokeRunner, local_trainer: list[str], good_run: TrainerRun) -> None:
    other = smoke(local_trainer, seed="1")
    assert other.returncode == 0, other.describe()
    assert _losses(other) != _losses(good_run)


def test_unknown_hyperparameter_is_an_error(smoke: SmokeRunner, local_trainer: list[str]) -> None:
    run = smoke(local_trainer, optimizer="adam")
    assert run.returncode == 2, run.describe()
    assert "unrecognized arguments: --optimizer adam" in run.stderr
    assert not run.accuracies


def test_diverged_loss_fails_the_trial(smoke: SmokeRunner, local_trainer: list[str]) -> None:
    # Weight decay this large overflows the weights within a few batches, giving a NaN loss.
    run = smoke(local_trainer, wd="1e30")
    assert run.returncode != 0, run.describe()
    assert "training diverged: loss is nan" in run.stderr
    assert not run.accuracies


def _losses(run: TrainerRun) -> list[str]:
    """The per-epoch training losses as printed (4 decimals)."""
    return [field for line in run.stdout.splitlines() for field in line.split()
            if field.startswith("loss=")]
