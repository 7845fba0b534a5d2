"""The trial state machine of one TuningJob: a pure function from (spec, status, now) to a plan.

Both shells (the local runner and the kopf operator) loop the same way: observe what finished,
record it in the status, call ``plan``, then carry out its decisions — start ``to_start`` (already
recorded in the new status, *before* anything runs, so a crash can never lose or duplicate a
trial) and kill ``to_stop``. Nothing here knows about processes or Pods.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from kubetune.optimizer import Optimizer
from kubetune.spec import TuningJobSpec
from kubetune.trials import FailureReason, Trial, TrialState, from_timestamp, to_timestamp


class JobState(str, Enum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUSPENDED = "Suspended"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPED = "Stopped"

    @property
    def terminal(self) -> bool:
        return self in (JobState.COMPLETED, JobState.FAILED, JobState.STOPPED)


class JobReason(str, Enum):
    MAX_TRIALS_REACHED = "MaxTrialsReached"
    SEARCH_SPACE_EXHAUSTED = "SearchSpaceExhausted"
    MAX_FAILED_TRIALS = "MaxFailedTrialsReached"
    MAX_RUNTIME_EXCEEDED = "MaxRuntimeExceeded"
    TARGET_REACHED = "TargetObjectiveReached"
    NO_IMPROVEMENT = "MaxTrialsWithoutImprovement"
    SUSPENDED = "Suspended"
    INVALID_SPEC = "InvalidSpec"
    TRIALS_RUNNING = "TrialsRunning"
    INTERRUPTED = "Interrupted"


def trial_name(job: str, index: int) -> str:
    """Deterministic trial (and Pod) name: the same index can never get two Pods."""
    return f"{job}-{index}"


@dataclass(frozen=True)
class JobStatus:
    """Everything known about a job; serialises to the TuningJob ``status``."""

    state: JobState = JobState.PENDING
    reason: str | None = None
    message: str | None = None
    seed: int | None = None
    start_time: float | None = None
    completion_time: float | None = None
    transition_time: float | None = None
    trials: tuple[Trial, ...] = field(default_factory=tuple)

    def with_trial(self, trial: Trial) -> JobStatus:
        """The status with ``trial`` replacing the trial of the same name (or appended)."""
        trials = [t for t in self.trials if t.name != trial.name]
        if len(trials) == len(self.trials):
            return replace(self, trials=self.trials + (trial,))
        return replace(self, trials=tuple(trial if t.name == trial.name else t for t in self.trials))

    def trial(self, name: str) -> Trial | None:
        return next((t for t in self.trials if t.name == name), None)

    def count(self, *states: TrialState) -> int:
        return sum(t.state in states for t in self.trials)

    def best(self, maximize: bool) -> Trial | None:
        done = [t for t in self.trials if t.state is TrialState.SUCCEEDED and t.objective is not None]
        if not done:
            return None
        sign = 1.0 if maximize else -1.0
        # Ties go to the earlier trial, so the best trial never flips between equal results.
        return max(done, key=lambda t: (sign * t.objective, -t.index))  # type: ignore[operator]

    def to_dict(self, spec: TuningJobSpec | None) -> dict[str, Any]:
        """The status as stored; ``spec`` is None only for a job whose spec did not validate."""
        best = self.best(spec.maximize) if spec is not None else None
        finished = self.count(TrialState.SUCCEEDED, TrialState.FAILED)
        data: dict[str, Any] = {
            "state": self.state.value,
            "trialsSucceeded": self.count(TrialState.SUCCEEDED),
            "trialsFailed": self.count(TrialState.FAILED),
            "trialsRunning": self.count(TrialState.RUNNING),
            "trialsPending": self.count(TrialState.PENDING),
            "trialsStopped": self.count(TrialState.STOPPED),
            "progress": f"{finished}/{spec.limits.max_trials if spec is not None else '-'}",
            "conditions": [self._condition()],
            "trials": [t.to_dict() for t in sorted(self.trials, key=lambda t: t.index)],
        }
        optional = {"reason": self.reason, "message": self.message, "randomSeed": self.seed,
                    "startTime": to_timestamp(self.start_time),
                    "completionTime": to_timestamp(self.completion_time)}
        data.update({k: v for k, v in optional.items() if v is not None})
        if best is not None:
            data["bestObjective"] = best.objective
            data["bestTrial"] = {"name": best.name, "objective": best.objective,
                                 "hyperparameters": dict(best.hyperparameters)}
        return data

    def _condition(self) -> dict[str, Any]:
        condition = {"type": self.state.value, "status": "True",
                     "reason": self.reason or self.state.value, "message": self.message or ""}
        if self.transition_time is not None:
            condition["lastTransitionTime"] = to_timestamp(self.transition_time)
        return condition

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> JobStatus:
        """Rebuild from a stored status; unknown or missing fields fall back to a fresh job."""
        data = data or {}
        conditions = data.get("conditions") or [{}]
        return cls(
            state=JobState(data.get("state", JobState.PENDING.value)),
            reason=data.get("reason"),
            message=data.get("message"),
            seed=data.get("randomSeed"),
            start_time=from_timestamp(data.get("startTime")),
            completion_time=from_timestamp(data.get("completionTime")),
            transition_time=from_timestamp(conditions[0].get("lastTransitionTime")),
            trials=tuple(Trial.from_dict(t) for t in data.get("trials") or []),
        )

    def moved_to(self, state: JobState, reason: JobReason | None, message: str | None,
                 now: float) -> JobStatus:
        changed = state is not self.state or (reason.value if reason else None) != self.reason
        return replace(self, state=state, reason=reason.value if reason else None, message=message,
                       transition_time=now if changed else self.transition_time,
                       completion_time=now if state.terminal else None)


@dataclass(frozen=True)
class Plan:
    """What the shell must do now. ``status`` already records every decision below."""

    status: JobStatus
    to_start: list[Trial] = field(default_factory=list)
    to_stop: list[Trial] = field(default_factory=list)


def build_optimizer(spec: TuningJobSpec, status: JobStatus) -> Optimizer:
    """The optimizer as the status describes it: every finished trial told, every active one pending."""
    optimizer = Optimizer(spec.space, spec.strategy, spec.objective_type, seed=job_seed(spec, status))
    for trial in sorted(status.trials, key=lambda t: (t.end_time or math.inf, t.index)):
        if trial.state is TrialState.SUCCEEDED:
            optimizer.tell(trial.hyperparameters, trial.objective)
        elif trial.state is TrialState.FAILED:
            optimizer.tell(trial.hyperparameters, None)
        elif trial.state.active:
            optimizer.add_pending(trial.hyperparameters)
    return optimizer


def job_seed(spec: TuningJobSpec, status: JobStatus) -> int:
    if spec.random_seed is not None:
        return spec.random_seed
    if status.seed is None:
        raise ValueError("a job without spec.randomSeed needs status.seed set when it starts")
    return status.seed


def fail_invalid(status: JobStatus, message: str, now: float) -> JobStatus:
    """A job whose spec does not validate: Failed, starting nothing."""
    return status.moved_to(JobState.FAILED, JobReason.INVALID_SPEC, message, now)


def stop_active(status: JobStatus, reason: str, now: float) -> tuple[JobStatus, list[Trial]]:
    """Every Pending/Running trial marked Stopped; the shell must kill those returned."""
    stopped = [t.stopped(reason, now) for t in status.trials if t.state.active]
    for trial in stopped:
        status = status.with_trial(trial)
    return status, stopped


def _ending(spec: TuningJobSpec, status: JobStatus, now: float) -> tuple[JobState, JobReason, str] | None:
    """Why the job must end now, if it must (before any new trial starts)."""
    limits, criteria = spec.limits, spec.completion
    if limits.max_runtime_seconds is not None and status.start_time is not None \
            and now - status.start_time >= limits.max_runtime_seconds:
        return JobState.STOPPED, JobReason.MAX_RUNTIME_EXCEEDED, \
            f"the job ran for longer than maxRuntimeSeconds={limits.max_runtime_seconds:g}"
    failed = status.count(TrialState.FAILED)
    if failed >= limits.max_failed_trials:
        return JobState.FAILED, JobReason.MAX_FAILED_TRIALS, \
            f"{failed} trials failed (maxFailedTrials={limits.max_failed_trials})"
    best = status.best(spec.maximize)
    target = criteria.target_objective_value
    if best is not None and target is not None and best.objective is not None \
            and (best.objective >= target if spec.maximize else best.objective <= target):
        return JobState.STOPPED, JobReason.TARGET_REACHED, \
            f"trial {best.name} reached {best.objective:g} (target {target:g})"
    patience = criteria.max_trials_without_improvement
    if best is not None and patience is not None:
        since = _trials_since_best(status.trials, best)
        if since >= patience:
            return JobState.STOPPED, JobReason.NO_IMPROVEMENT, \
                f"no improvement in the {since} trials after {best.name}"
    return None


def _trials_since_best(trials: Iterable[Trial], best: Trial) -> int:
    """Succeeded trials that finished after the best one did."""
    assert best.end_time is not None
    return sum(t.state is TrialState.SUCCEEDED and t.name != best.name
               and (t.end_time or 0.0, t.index) > (best.end_time, best.index) for t in trials)


def _deadline_exceeded(spec: TuningJobSpec, status: JobStatus, now: float) -> tuple[JobStatus, list[Trial]]:
    deadline = spec.limits.max_trial_runtime_seconds
    expired = [t for t in status.trials if deadline is not None and t.state is TrialState.RUNNING
               and t.start_time is not None and now - t.start_time >= deadline]
    failed = [t.failed(FailureReason.DEADLINE_EXCEEDED,
                       f"ran longer than maxTrialRuntimeSeconds={deadline:g}", now) for t in expired]
    for trial in failed:
        status = status.with_trial(trial)
    return status, failed


def plan(job: str, spec: TuningJobSpec, status: JobStatus, now: float) -> Plan:
    """Decide the job's next step from its spec and status alone.

    Never more active trials than ``maxParallelTrials``, never more non-stopped trials than
    ``maxTrials``; trials over their deadline fail; the job ends on the first of: budget spent,
    space exhausted, too many failures, runtime limit, target reached, no improvement.
    """
    if status.state.terminal:
        status, stopping = stop_active(status, status.reason or status.state.value, now)
        return Plan(status, to_stop=stopping)
    if status.start_time is None:
        status = replace(status, start_time=now)
    if spec.suspend:
        status, stopping = stop_active(status, JobReason.SUSPENDED.value, now)
        status = status.moved_to(JobState.SUSPENDED, JobReason.SUSPENDED, "spec.suspend is true", now)
        return Plan(status, to_stop=stopping)

    status, timed_out = _deadline_exceeded(spec, status, now)
    ending = _ending(spec, status, now)
    if ending is not None:
        state, reason, message = ending
        status, stopping = stop_active(status, reason.value, now)
        return Plan(status.moved_to(state, reason, message, now), to_stop=timed_out + stopping)

    active = status.count(TrialState.PENDING, TrialState.RUNNING)
    budget = spec.limits.max_trials - (len(status.trials) - status.count(TrialState.STOPPED))
    wanted = min(spec.limits.max_parallel_trials - active, budget)
    started: list[Trial] = []
    exhausted = False
    if wanted > 0:
        proposals = build_optimizer(spec, status).ask(wanted)
        exhausted = len(proposals) < wanted
        next_index = max((t.index for t in status.trials), default=-1) + 1
        for offset, params in enumerate(proposals):
            trial = Trial(trial_name(job, next_index + offset), next_index + offset, params)
            started.append(trial)
            status = status.with_trial(trial)

    if active + len(started) == 0 and (budget - len(started) <= 0 or exhausted):
        reason = JobReason.MAX_TRIALS_REACHED if budget <= 0 else JobReason.SEARCH_SPACE_EXHAUSTED
        best = status.best(spec.maximize)
        message = f"best trial {best.name}: {best.objective:g}" if best else "no trial succeeded"
        return Plan(status.moved_to(JobState.COMPLETED, reason, message, now), to_stop=timed_out)
    status = status.moved_to(JobState.RUNNING, JobReason.TRIALS_RUNNING,
                             f"{active + len(started)} trials active", now)
    return Plan(status, to_start=started, to_stop=timed_out)
