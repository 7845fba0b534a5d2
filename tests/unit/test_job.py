"""The trial state machine: cap, budget, failures, deadlines, completion criteria, resume."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from kubetune import parse_tuningjob
from kubetune.job import JobState, JobStatus, Plan, fail_invalid, plan
from kubetune.metrics import MetricParser
from kubetune.spec import TuningJobSpec
from kubetune.trials import Trial, TrialState, conclude


def spec_of(manifest: dict[str, Any], **limits: Any) -> TuningJobSpec:
    manifest["spec"]["strategy"] = "Random"  # fast; the state machine does not care
    manifest["spec"]["resourceLimits"].update(limits)
    return parse_tuningjob(manifest).spec


def finish(status: JobStatus, trial: Trial, value: float | None, now: float) -> JobStatus:
    if value is None:
        return status.with_trial(trial.failed("ExitCode", "boom", now))
    return status.with_trial(replace(trial, state=TrialState.SUCCEEDED, objective=value, end_time=now))


def start_all(p: Plan, now: float) -> JobStatus:
    status = p.status
    for trial in p.to_start:
        status = status.with_trial(trial.started(now))
    return status


def test_cap_and_budget_are_never_exceeded(manifest: dict[str, Any]) -> None:
    spec = spec_of(manifest, maxTrials=5, maxParallelTrials=2)
    status, now = JobStatus(), 1000.0
    max_active = 0
    for step in range(20):
        p = plan("job", spec, status, now)
        status = start_all(p, now)
        active = status.count(TrialState.PENDING, TrialState.RUNNING)
        max_active = max(max_active, active)
        if status.state is JobState.COMPLETED:
            break
        oldest = min((t for t in status.trials if t.state is TrialState.RUNNING), key=lambda t: t.index)
        status = finish(status, oldest, float(step), now + 1)
        now += 1
    assert status.state is JobState.COMPLETED and status.reason == "MaxTrialsReached"
    assert max_active == 2
    assert [t.name for t in status.trials] == [f"job-{i}" for i in range(5)]
    assert status.best(maximize=True).name == "job-4"  # type: ignore[union-attr]


def test_plan_is_idempotent_resume_adds_nothing(manifest: dict[str, Any]) -> None:
    spec = spec_of(manifest, maxTrials=5, maxParallelTrials=3)
    first = plan("job", spec, JobStatus(), 10.0)
    # The operator crashed after recording the trials: a restart plans again from the same status.
    restored = JobStatus.from_dict(first.status.to_dict(spec))
    again = plan("job", spec, restored, 11.0)
    assert len(first.to_start) == 3 and again.to_start == []
    assert [t.name for t in again.status.trials] == ["job-0", "job-1", "job-2"]


def test_status_round_trips(manifest: dict[str, Any]) -> None:
    spec = spec_of(manifest, maxTrials=4, maxParallelTrials=2)
    status = start_all(plan("job", spec, JobStatus(seed=3), 5.0), 5.0)
    status = finish(status, status.trials[0], 0.25, 9.0)
    data = status.to_dict(spec)
    assert JobStatus.from_dict(data).to_dict(spec) == data
    assert data["bestTrial"]["name"] == "job-0" and data["progress"] == "1/4"
    assert data["trialsSucceeded"] == 1 and data["trialsRunning"] == 1


def test_resumed_optimizer_proposes_what_the_original_would(manifest: dict[str, Any]) -> None:
    manifest["spec"]["strategy"] = "Bayesian"
    spec = parse_tuningjob(manifest).spec
    status = start_all(plan("job", spec, JobStatus(), 0.0), 0.0)
    for i, trial in enumerate(status.trials):
        status = finish(status, trial, -float(i), 1.0 + i)
    live = plan("job", spec, status, 5.0)
    resumed = plan("job", spec, JobStatus.from_dict(status.to_dict(spec)), 5.0)
    assert [t.hyperparameters for t in live.to_start] == [t.hyperparameters for t in resumed.to_start]


def test_too_many_failures_fail_the_job_and_stop_the_rest(manifest: dict[str, Any]) -> None:
    spec = spec_of(manifest, maxTrials=10, maxParallelTrials=3, maxFailedTrials=2)
    status = start_all(plan("job", spec, JobStatus(), 0.0), 0.0)
    status = finish(status, status.trials[0], None, 1.0)
    status = finish(status, status.trials[1], None, 2.0)
    p = plan("job", spec, status, 3.0)
    assert p.status.state is JobState.FAILED and p.status.reason == "MaxFailedTrialsReached"
    assert [t.name for t in p.to_stop] == ["job-2"] and p.to_start == []
    assert p.status.trial("job-2").state is TrialState.STOPPED  # type: ignore[union-attr]


def test_failed_trials_use_budget_but_job_continues(manifest: dict[str, Any]) -> None:
    spec = spec_of(manifest, maxTrials=3, maxParallelTrials=1)
    status = start_all(plan("job", spec, JobStatus(), 0.0), 0.0)
    status = finish(status, status.trials[0], None, 1.0)
    p = plan("job", spec, status, 2.0)
    assert p.status.state is JobState.RUNNING and [t.name for t in p.to_start] == ["job-1"]


def test_trial_deadline(manifest: dict[str, Any]) -> None:
    spec = spec_of(manifest, maxTrials=4, maxParallelTrials=1, maxTrialRuntimeSeconds=60)
    status = start_all(plan("job", spec, JobStatus(), 0.0), 0.0)
    assert plan("job", spec, status, 59.0).to_stop == []
    p = plan("job", spec, status, 61.0)
    assert [t.name for t in p.to_stop] == ["job-0"]
    assert p.status.trial("job-0").reason == "DeadlineExceeded"  # type: ignore[union-attr]
    assert [t.name for t in p.to_start] == ["job-1"]  # the job goes on


def test_job_runtime_limit_stops_everything(manifest: dict[str, Any]) -> None:
    spec = spec_of(manifest, maxTrials=4, maxParallelTrials=2, maxRuntimeSeconds=100)
    status = start_all(plan("job", spec, JobStatus(), 0.0), 0.0)
    p = plan("job", spec, status, 100.0)
    assert p.status.state is JobState.STOPPED and p.status.reason == "MaxRuntimeExceeded"
    assert len(p.to_stop) == 2 and p.status.completion_time == 100.0


@pytest.mark.parametrize("objective_type, values, stops", [
    ("Maximize", [0.5, 0.95], True), ("Maximize", [0.5, 0.8], False),
    ("Minimize", [0.5, 0.05], True), ("Minimize", [0.5, 0.2], False)])
def test_target_objective(manifest: dict[str, Any], objective_type: str, values: list[float], stops: bool) -> None:
    manifest["spec"]["objective"]["type"] = objective_type
    manifest["spec"]["completionCriteria"] = {"targetObjectiveValue": 0.9 if objective_type == "Maximize" else 0.1}
    spec = spec_of(manifest, maxTrials=10, maxParallelTrials=2)
    status = start_all(plan("job", spec, JobStatus(), 0.0), 0.0)
    for i, value in enumerate(values):
        status = finish(status, status.trials[i], value, 1.0 + i)
    p = plan("job", spec, status, 5.0)
    assert (p.status.reason == "TargetObjectiveReached") is stops
    assert (p.status.state is JobState.STOPPED) is stops


def test_max_trials_without_improvement(manifest: dict[str, Any]) -> None:
    manifest["spec"]["completionCriteria"] = {"maxTrialsWithoutImprovement": 2}
    spec = spec_of(manifest, maxTrials=10, maxParallelTrials=1)
    status, now = JobStatus(), 0.0
    for value in (0.9, 0.5, 0.4):
        p = plan("job", spec, status, now)
        assert p.status.state is JobState.RUNNING
        status = start_all(p, now)
        status = finish(status, p.to_start[0], value, now + 1)
        now += 2
    p = plan("job", spec, status, now)
    assert p.status.state is JobState.STOPPED and p.status.reason == "MaxTrialsWithoutImprovement"


def test_grid_exhaustion_completes(manifest: dict[str, Any]) -> None:
    manifest["spec"]["strategy"] = "Grid"
    manifest["spec"]["hyperparameterRanges"] = {"categorical": [{"name": "x", "values": [1, 2, 3]}]}
    manifest["spec"]["resourceLimits"] = {"maxTrials": 10, "maxParallelTrials": 2}
    spec = parse_tuningjob(manifest).spec
    status, now = JobStatus(), 0.0
    for _ in range(10):
        p = plan("job", spec, status, now)
        status = start_all(p, now)
        if status.state.terminal:
            break
        for trial in [t for t in status.trials if t.state is TrialState.RUNNING]:
            status = finish(status, trial, 1.0, now)
        now += 1
    assert status.state is JobState.COMPLETED and status.reason == "SearchSpaceExhausted"
    assert sorted(t.hyperparameters["x"] for t in status.trials) == [1, 2, 3]


def test_suspend_stops_trials_and_unsuspend_continues(manifest: dict[str, Any]) -> None:
    spec = spec_of(manifest, maxTrials=4, maxParallelTrials=2)
    status = start_all(plan("job", spec, JobStatus(), 0.0), 0.0)
    status = finish(status, status.trials[0], 0.5, 1.0)
    suspended = plan("job", replace(spec, suspend=True), status, 2.0)
    assert suspended.status.state is JobState.SUSPENDED and [t.name for t in suspended.to_stop] == ["job-1"]
    resumed = plan("job", spec, suspended.status, 3.0)
    assert resumed.status.state is JobState.RUNNING
    # The stopped trial does not use budget: 1 succeeded + 2 new, and the next index is fresh.
    assert [t.name for t in resumed.to_start] == ["job-2", "job-3"]
    assert resumed.status.trial("job-0").objective == 0.5  # type: ignore[union-attr]


def test_terminal_job_stays_terminal(manifest: dict[str, Any]) -> None:
    spec = spec_of(manifest, maxTrials=4, maxParallelTrials=2)
    failed = fail_invalid(JobStatus(), "spec.strategy: bad", 1.0)
    p = plan("job", spec, failed, 2.0)
    assert p.status.state is JobState.FAILED and p.to_start == [] and p.status.reason == "InvalidSpec"


@pytest.mark.parametrize("code, log, state, reason", [
    (0, "validation: accuracy=0.5\nvalidation: accuracy=0.7\n", TrialState.SUCCEEDED, None),
    (1, "validation: accuracy=0.7\n", TrialState.FAILED, "ExitCode"),
    (0, "all good, nothing printed\n", TrialState.FAILED, "MetricNotFound"),
    (0, "validation: accuracy=0.7\nvalidation: accuracy=nan\n", TrialState.FAILED, "NonFiniteMetric"),
    (0, "validation: accuracy=inf\n", TrialState.FAILED, "NonFiniteMetric"),
])
def test_conclude(manifest: dict[str, Any], code: int, log: str, state: TrialState, reason: str | None) -> None:
    spec = parse_tuningjob(manifest).spec
    trial = Trial("job-0", 0, {"x": 1.0, "y": 2.0}).started(0.0)
    done = conclude(trial, code, log, MetricParser(spec.metric_definitions), spec.objective_metric, 5.0)
    assert done.state is state and done.reason == reason and done.end_time == 5.0
    if state is TrialState.SUCCEEDED:
        assert done.objective == 0.7


def test_status_of_1000_trials_is_compact(manifest: dict[str, Any]) -> None:
    import json
    spec = spec_of(manifest, maxTrials=1000, maxParallelTrials=1000)
    status = plan("a-job-with-a-realistic-name", spec, JobStatus(), 0.0).status
    for trial in list(status.trials):
        status = finish(status, trial.started(1.0), 0.123456789, 2.0)
    size = len(json.dumps(status.to_dict(spec)))
    assert size < 400_000, size  # etcd's limit is 1.5 MiB; leave room for the spec and growth
