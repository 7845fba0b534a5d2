"""What the trial Pods say about the trials: a pure function over Pod JSON, no API calls.

The status is the record; the Pods are the evidence. A trial whose Pod finished is concluded from
its exit code and log; one whose Pod was deleted, evicted or lost with its node fails with that
reason; a Pod with no trial in the status (a crash between creating it and recording it) is adopted,
its hyperparameters read back from its annotation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from kubetune.metrics import MetricParser
from kubetune.job import JobStatus
from kubetune.spec import TuningJobSpec
from kubetune.template import HYPERPARAMETERS_ANNOTATION, INDEX_LABEL
from kubetune.trials import FailureReason, Trial, TrialState, conclude

Pod = Mapping[str, Any]


@dataclass
class Observation:
    status: JobStatus
    to_create: list[Trial] = field(default_factory=list)  # recorded, Pod never seen: (re)create
    to_delete: list[str] = field(default_factory=list)  # Pods still alive for trials already decided


def _time(text: str | None) -> float | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else None


def _exit_code(pod: Pod, container: str) -> int | None:
    for status in pod.get("status", {}).get("containerStatuses") or []:
        if status.get("name") == container:
            terminated = (status.get("state") or {}).get("terminated")
            return None if terminated is None else int(terminated.get("exitCode", 1))
    return None


def adopt(pod: Pod) -> Trial | None:
    """The trial a Pod belongs to, rebuilt from its name, index label and hyperparameters annotation."""
    metadata = pod.get("metadata", {})
    try:
        return Trial(name=metadata["name"], index=int(metadata["labels"][INDEX_LABEL]),
                     hyperparameters=json.loads(metadata["annotations"][HYPERPARAMETERS_ANNOTATION]),
                     start_time=_time(metadata.get("creationTimestamp")))
    except (KeyError, ValueError, TypeError):
        return None  # not one of ours in a shape we can trust; leave it alone


def observe(status: JobStatus, pods: Mapping[str, Pod], spec: TuningJobSpec,
            read_log: Callable[[str], str], now: float) -> Observation:
    """Update the status from the trial Pods (by name) at time ``now``."""
    for name, pod in pods.items():
        if status.trial(name) is None and (adopted := adopt(pod)) is not None:
            status = status.with_trial(adopted)
    result = Observation(status)
    parser = MetricParser(spec.metric_definitions)
    container = spec.trial_template.primary_container
    for trial in status.trials:
        pod = pods.get(trial.name)
        if not trial.state.active:
            phase = (pod or {}).get("status", {}).get("phase")
            if pod is not None and phase not in ("Succeeded", "Failed") \
                    and not pod.get("metadata", {}).get("deletionTimestamp"):
                result.to_delete.append(trial.name)
            continue
        updated = _observe_trial(trial, pod, container, parser, spec.objective_metric, read_log, now)
        if updated is None:
            result.to_create.append(trial)
        elif updated != trial:
            result.status = result.status.with_trial(updated)
    return result


def _observe_trial(trial: Trial, pod: Pod | None, container: str, parser: MetricParser, metric: str,
                   read_log: Callable[[str], str], now: float) -> Trial | None:
    """The trial as its Pod shows it; None when its Pod was never created."""
    if pod is None:
        if trial.start_time is None:
            return None
        return trial.failed(FailureReason.POD_DELETED, "the trial's Pod disappeared", now)
    pod_status = pod.get("status", {})
    phase, reason = pod_status.get("phase"), pod_status.get("reason")
    created = _time(pod.get("metadata", {}).get("creationTimestamp")) or now
    if pod.get("metadata", {}).get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        return trial.failed(FailureReason.POD_DELETED, "the trial's Pod was deleted while it ran", now)
    if reason == "Evicted":
        return trial.failed(FailureReason.EVICTED, pod_status.get("message") or "evicted", now)
    if reason == "NodeLost" or phase == "Unknown":
        return trial.failed(FailureReason.NODE_LOST, pod_status.get("message") or "its node was lost", now)
    if phase == "Running":
        return replace(trial, state=TrialState.RUNNING,
                       start_time=_time(pod_status.get("startTime")) or trial.start_time or created)
    if phase in ("Succeeded", "Failed"):
        code = _exit_code(pod, container)
        trial = replace(trial, start_time=_time(pod_status.get("startTime")) or trial.start_time or created)
        if code is None:
            return trial.failed(FailureReason.EXIT_CODE, f"Pod {phase} without an exit code ({reason})", now)
        return conclude(trial, code, read_log(trial.name), parser, metric, now)
    return trial if trial.start_time is not None else replace(trial, start_time=created)
