"""Test data shared by unit and cluster tests: a valid TuningJob manifest and the synthetic trainer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SYNTHETIC_TRAINER = ROOT / "tests" / "fixtures" / "synthetic_trainer.py"

BASE_MANIFEST: dict[str, Any] = {
    "apiVersion": "kubetune.io/v1alpha1",
    "kind": "TuningJob",
    "metadata": {"name": "branin"},
    "spec": {
        "strategy": "Bayesian",
        "objective": {"metric": "validation-accuracy", "type": "Maximize"},
        "metricDefinitions": [{"name": "validation-accuracy", "regex": r"validation: accuracy=([-0-9\.naninf]+)"},
                              {"name": "train-loss", "regex": r"train: loss=([-0-9\.]+)"}],
        "hyperparameterRanges": {
            "continuous": [{"name": "x", "min": -5.0, "max": 10.0, "scaling": "Linear"},
                           {"name": "y", "min": 0.0, "max": 15.0, "scaling": "Linear"}],
        },
        "staticHyperparameters": {"epochs": 3},
        "resourceLimits": {"maxTrials": 6, "maxParallelTrials": 2},
        "randomSeed": 7,
        "trialTemplate": {
            "spec": {"containers": [{"name": "trainer", "image": "kubetune/synthetic:0.1.0",
                                     "command": ["python3", "/app/synthetic_trainer.py"]}]},
        },
    },
}
