"""Pods → trial results, without a cluster: finish, failure reasons, adoption, recreation."""

from __future__ import annotations

import json
from typing import Any

from kubetune import parse_tuningjob
from kubetune.job import JobStatus
from kubetune.operator.observe import observe
from kubetune.trials import Trial, TrialState

T0 = "2026-11-27T10:00:00Z"


def pod(name: str, phase: str, exit_code: int | None = None, **status: Any) -> dict[str, Any]:
    containers = []
    if exit_code is not None:
        containers = [{"name": "trainer", "state": {"terminated": {"exitCode": exit_code}}}]
    return {"metadata": {"name": name, "creationTimestamp": T0,
                         "labels": {"kubetune.io/trial-index": name.rsplit("-", 1)[1]},
                         "annotations": {"kubetune.io/hyperparameters": json.dumps({"x": 1.0, "y": 2.0})}},
            "status": {"phase": phase, "startTime": T0, "containerStatuses": containers, **status}}


def run(manifest: dict[str, Any], trials: list[Trial], pods: dict[str, Any], logs: dict[str, str] | None = None):
    spec = parse_tuningjob(manifest).spec
    return observe(JobStatus(trials=tuple(trials)), pods, spec, lambda name: (logs or {})[name], 100.0)


def test_finished_pods_conclude_trials(manifest: dict[str, Any]) -> None:
    trials = [Trial("j-0", 0, {"x": 1.0, "y": 2.0}, start_time=1.0), Trial("j-1", 1, {"x": 2.0, "y": 2.0}, start_time=1.0)]
    pods = {"j-0": pod("j-0", "Succeeded", 0), "j-1": pod("j-1", "Failed", 2)}
    seen = run(manifest, trials, pods, {"j-0": "validation: accuracy=0.5\n", "j-1": "Traceback\n"})
    assert seen.status.trial("j-0").state is TrialState.SUCCEEDED and seen.status.trial("j-0").objective == 0.5
    assert seen.status.trial("j-1").reason == "ExitCode"


def test_vanished_evicted_and_lost_pods_fail_with_reasons(manifest: dict[str, Any]) -> None:
    trials = [Trial(f"j-{i}", i, {"x": float(i), "y": 0.0}, state=TrialState.RUNNING, start_time=1.0) for i in range(4)]
    deleting = pod("j-3", "Running")
    deleting["metadata"]["deletionTimestamp"] = T0
    pods = {"j-1": pod("j-1", "Failed", reason="Evicted", message="low memory"),
            "j-2": pod("j-2", "Unknown", reason="NodeLost"), "j-3": deleting}
    seen = run(manifest, trials, pods)
    assert [seen.status.trial(f"j-{i}").reason for i in range(4)] == ["PodDeleted", "Evicted", "NodeLost", "PodDeleted"]


def test_recorded_trial_without_pod_is_created_once_seen_pod_is_not(manifest: dict[str, Any]) -> None:
    trials = [Trial("j-0", 0, {"x": 1.0, "y": 2.0}), Trial("j-1", 1, {"x": 2.0, "y": 2.0})]
    seen = run(manifest, trials, {"j-1": pod("j-1", "Pending")})
    assert [t.name for t in seen.to_create] == ["j-0"]
    assert seen.status.trial("j-1").start_time is not None  # its Pod exists now: a later disappearance is a failure


def test_unknown_pod_is_adopted_with_its_hyperparameters(manifest: dict[str, Any]) -> None:
    seen = run(manifest, [], {"j-5": pod("j-5", "Running")})
    adopted = seen.status.trial("j-5")
    assert adopted is not None and adopted.index == 5 and adopted.hyperparameters == {"x": 1.0, "y": 2.0}
    assert adopted.state is TrialState.RUNNING


def test_live_pod_of_a_decided_trial_is_deleted(manifest: dict[str, Any]) -> None:
    trials = [Trial("j-0", 0, {"x": 1.0, "y": 2.0}, state=TrialState.STOPPED, start_time=1.0)]
    assert run(manifest, trials, {"j-0": pod("j-0", "Running")}).to_delete == ["j-0"]
