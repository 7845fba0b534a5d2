"""Helpers and fixtures for the trainer tests: run trainer-image/cifar10.py as the operator does.

The trainer lives in its own environment (MXNet 1.9.1 needs numpy < 1.24), so these tests never
import MXNet: they start the trainer as a subprocess, pass hyperparameters as ``--name value`` and
read the log with the reference experiment's regex, exactly as a tuner would. The module has a
unique name so that test modules can import it; conftest.py registers its fixtures.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRAINER_PYTHON = ROOT / ".venv-trainer" / "bin" / "python"
TRAINER_SCRIPT = ROOT / "trainer-image" / "cifar10.py"
# The objective regex of the reference experiment and of every example TuningJob.
METRIC_REGEX = re.compile(r"validation: accuracy=([0-9\.]+)")
# Two epochs of ResNet-8 on the digits: real learning in about ten seconds on one CPU core.
SMOKE_ARGS = ("--dataset", "digits", "--network", "resnet8", "--batch_size", "64", "--epochs", "2")
# Hyperparameters that learn the digits within those two epochs (about 0.88 validation accuracy).
GOOD_HYPERPARAMETERS = {"learning_rate": "0.02", "momentum": "0.9"}
# Chance is 0.1; a run that learned is far above this, one that did not stays far below it.
LEARNED_ACCURACY = 0.6
TIMEOUT_S = 300


@dataclass(frozen=True)
class TrainerRun:
    """A finished trainer process and what a tuner would scrape from it."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def accuracies(self) -> list[float]:
        """The objective per epoch: the regex's last match on each line, as a scraper reads it."""
        return [float(matches[-1]) for line in self.stdout.splitlines()
                if (matches := METRIC_REGEX.findall(line))]

    @property
    def final_accuracy(self) -> float:
        """The last epoch's validation accuracy."""
        assert self.accuracies, f"no line matched {METRIC_REGEX.pattern!r}:\n{self.describe()}"
        return self.accuracies[-1]

    @property
    def learned(self) -> bool:
        """Whether the run ended far above chance (0.1), as GOOD_HYPERPARAMETERS do."""
        return self.returncode == 0 and self.final_accuracy >= LEARNED_ACCURACY

    def describe(self) -> str:
        """Exit status and output, for assertion messages."""
        return f"exit {self.returncode}\n--- stdout\n{self.stdout}--- stderr\n{self.stderr}"


SmokeRunner = Callable[..., TrainerRun]


@pytest.fixture(scope="session")
def local_trainer() -> list[str]:
    """The trainer's command on this host, in the .venv-trainer that `make trainer-env` builds."""
    if not TRAINER_PYTHON.exists():
        pytest.fail(f"{TRAINER_PYTHON} is missing: run `make trainer-env`")
    return [str(TRAINER_PYTHON), str(TRAINER_SCRIPT)]


@pytest.fixture(scope="session")
def smoke() -> SmokeRunner:
    """``smoke(command, **hyperparameters)``: the 2-epoch digits run of ``command``.

    The hyperparameters given override GOOD_HYPERPARAMETERS and are appended as ``--name value``,
    the operator's convention, so a test changes one hyperparameter and keeps the others sensible.
    """

    def run(command: Sequence[str], **hyperparameters: str) -> TrainerRun:
        argv = [*command, *SMOKE_ARGS]
        for name, value in {**GOOD_HYPERPARAMETERS, **hyperparameters}.items():
            argv += [f"--{name}", value]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        return TrainerRun(done.returncode, done.stdout, done.stderr)

    return run
