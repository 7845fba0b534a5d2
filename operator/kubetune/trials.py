"""Trial records and how a finished run becomes a result.

A ``Trial`` is what the TuningJob status stores for one hyperparameter set; it serialises to a
compact dict (short keys, no nulls) so that a 1,000-trial job stays far below etcd's object limit.
``conclude`` is the single place that decides whether a finished run succeeded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from kubetune.metrics import MetricParser
from kubetune.space import Hyperparameters


class TrialState(str, Enum):
    PENDING = "Pending"  # proposed and recorded; its process/Pod may not be running yet
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    STOPPED = "Stopped"  # ended by the job (suspend, job stop), not by its own fault

    @property
    def active(self) -> bool:
        return self in (TrialState.PENDING, TrialState.RUNNING)


class FailureReason(str, Enum):
    EXIT_CODE = "ExitCode"
    METRIC_NOT_FOUND = "MetricNotFound"
    NON_FINITE_METRIC = "NonFiniteMetric"
    DEADLINE_EXCEEDED = "DeadlineExceeded"
    POD_DELETED = "PodDeleted"
    EVICTED = "Evicted"
    NODE_LOST = "NodeLost"
    START_ERROR = "StartError"


def to_timestamp(moment: float | None) -> str | None:
    """Epoch seconds → RFC 3339 (what Kubernetes shows); None stays None."""
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_timestamp(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


@dataclass(frozen=True)
class Trial:
    name: str
    index: int
    hyperparameters: Hyperparameters
    state: TrialState = TrialState.PENDING
    objective: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    start_time: float | None = None
    end_time: float | None = None
    reason: str | None = None
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Compact status form: short keys, absent fields left out, finite numbers only."""
        data: dict[str, Any] = {"name": self.name, "index": self.index,
                                "hyperparameters": dict(self.hyperparameters), "state": self.state.value}
        if self.objective is not None:
            data["objective"] = self.objective
        finite = {k: v for k, v in self.metrics.items() if math.isfinite(v)}
        if finite:
            data["metrics"] = finite
        for key, value in (("startTime", to_timestamp(self.start_time)),
                           ("endTime", to_timestamp(self.end_time)),
                           ("reason", self.reason), ("message", self.message)):
            if value is not None:
                data[key] = value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trial:
        return cls(
            name=data["name"],
            index=int(data["index"]),
            hyperparameters=dict(data["hyperparameters"]),
            state=TrialState(data["state"]),
            objective=data.get("objective"),
            metrics=dict(data.get("metrics") or {}),
            start_time=from_timestamp(data.get("startTime")),
            end_time=from_timestamp(data.get("endTime")),
            reason=data.get("reason"),
            message=data.get("message"),
        )

    def started(self, now: float) -> Trial:
        return replace(self, state=TrialState.RUNNING, start_time=self.start_time or now)

    def failed(self, reason: FailureReason | str, message: str, now: float,
               metrics: dict[str, float] | None = None) -> Trial:
        return replace(self, state=TrialState.FAILED, reason=str(getattr(reason, "value", reason)),
                       message=message, end_time=now, metrics=metrics or self.metrics,
                       start_time=self.start_time or now)

    def stopped(self, reason: str, now: float) -> Trial:
        return replace(self, state=TrialState.STOPPED, reason=reason, end_time=now,
                       message=f"stopped by the job: {reason}")


def conclude(trial: Trial, exit_code: int, log: str, parser: MetricParser, objective_metric: str,
             now: float) -> Trial:
    """Turn a run that ended on its own into a Succeeded or Failed trial.

    Failed when the process exited non-zero, the objective metric never appeared in the log, or
    its last value is NaN/inf (a diverged run must not become the best trial).
    """
    metrics = parser.last_values(log)
    if exit_code != 0:
        return trial.failed(FailureReason.EXIT_CODE, f"trainer exited with code {exit_code}", now, metrics)
    value = metrics.get(objective_metric)
    if value is None:
        return trial.failed(FailureReason.METRIC_NOT_FOUND,
                            f"objective metric {objective_metric!r} never appeared in the log", now, metrics)
    if not math.isfinite(value):
        return trial.failed(FailureReason.NON_FINITE_METRIC,
                            f"objective metric {objective_metric!r} ended at {value}", now, metrics)
    return replace(trial, state=TrialState.SUCCEEDED, objective=value, metrics=metrics, end_time=now,
                   start_time=trial.start_time or now)
