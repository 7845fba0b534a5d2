"""kubetune: hyperparameter tuning for training jobs, on Kubernetes or on this machine.

The public, cluster-free API::

    from kubetune import ContinuousParameter, IntegerParameter, CategoricalParameter, Optimizer
"""

from __future__ import annotations

from kubetune.errors import SpecError
from kubetune.optimizer import Optimizer
from kubetune.space import CategoricalParameter, ContinuousParameter, IntegerParameter, SearchSpace
from kubetune.spec import TuningJob, TuningJobSpec, load_tuningjob, parse_tuningjob

__all__ = [
    "CategoricalParameter",
    "ContinuousParameter",
    "IntegerParameter",
    "Optimizer",
    "SearchSpace",
    "SpecError",
    "TuningJob",
    "TuningJobSpec",
    "load_tuningjob",
    "parse_tuningjob",
]
