"""One reconciliation pass of one TuningJob: read, observe, plan, record, act — in that order.

The status is written (with a resourceVersion precondition) *before* any Pod is created, so a crash
at any point leaves either a recorded trial without a Pod (created on the next pass, under the same
deterministic name) or nothing at all; never a Pod the status does not know, never two Pods for one
trial. The optimizer is rebuilt from the status on every pass.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field, replace
from typing import Any

from kubetune.errors import SpecError
from kubetune.job import JobReason, JobState, JobStatus, fail_invalid, plan, stop_active
from kubetune.operator.kube import Conflict, KubeApi, PodRejected
from kubetune.operator.observe import observe
from kubetune.spec import MAX_JOB_NAME, TuningJobSpec, parse_spec
from kubetune.template import render_pod
from kubetune.trials import TrialState

IDLE_WAKEUP_SECONDS = 30.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    type: str  # Normal | Warning
    reason: str
    message: str


@dataclass
class Outcome:
    events: list[Event] = field(default_factory=list)
    finished: bool = False  # terminal and nothing left to clean up: stop watching
    wait_seconds: float = IDLE_WAKEUP_SECONDS  # look again after this long even without a Pod event


def status_events(old: JobStatus, new: JobStatus) -> list[Event]:
    """Kubernetes Events for what changed between two statuses."""
    events = []
    for trial in new.trials:
        before = old.trial(trial.name)
        if before is not None and before.state is trial.state:
            continue
        if trial.state is TrialState.PENDING:
            events.append(Event("Normal", "TrialCreated", f"trial {trial.name}: {trial.hyperparameters}"))
        elif trial.state is TrialState.SUCCEEDED:
            events.append(Event("Normal", "TrialSucceeded", f"trial {trial.name}: objective {trial.objective}"))
        elif trial.state is TrialState.FAILED:
            events.append(Event("Warning", "TrialFailed", f"trial {trial.name} failed ({trial.reason}): "
                                                          f"{trial.message}"))
    if new.state is not old.state and new.state.terminal:
        kind = "Warning" if new.state is JobState.FAILED else "Normal"
        events.append(Event(kind, f"Job{new.state.value}", f"{new.reason}: {new.message}"))
    return events


def _parse(job: dict[str, Any]) -> TuningJobSpec:
    name = job["metadata"]["name"]
    if len(name) > MAX_JOB_NAME:
        raise SpecError("metadata.name", f"must be at most {MAX_JOB_NAME} characters (trial Pods are <job>-<index>)")
    return parse_spec(job.get("spec"))


def _wait_seconds(spec: TuningJobSpec, status: JobStatus, now: float) -> float:
    """Until the next time-based decision (a trial deadline, the job's runtime limit)."""
    moments = [IDLE_WAKEUP_SECONDS]
    limits = spec.limits
    if limits.max_runtime_seconds is not None and status.start_time is not None:
        moments.append(status.start_time + limits.max_runtime_seconds - now)
    if limits.max_trial_runtime_seconds is not None:
        moments += [t.start_time + limits.max_trial_runtime_seconds - now
                    for t in status.trials if t.state is TrialState.RUNNING and t.start_time is not None]
    return max(0.05, min(moments))


def reconcile(api: KubeApi, namespace: str, name: str, attempts: int = 5) -> Outcome:
    """Bring one job one step forward; retried from scratch when the job changed under us."""
    rejected: str | None = None
    for _ in range(attempts):
        try:
            return _reconcile_once(api, namespace, name, rejected)
        except Conflict:
            log.info("job %s/%s changed while reconciling; reading it again", namespace, name)
        except PodRejected as err:
            rejected = f"spec.trialTemplate: the API server rejected the trial Pod: {err}"
    return Outcome(wait_seconds=0.5)


def _reconcile_once(api: KubeApi, namespace: str, name: str, rejected: str | None) -> Outcome:
    """One pass; ``rejected`` says the Pod template was refused, which makes the spec invalid."""
    job = api.get_job(namespace, name)
    if job is None or job["metadata"].get("deletionTimestamp"):
        return Outcome(finished=True)  # owner references delete the Pods
    version = job["metadata"]["resourceVersion"]
    old = JobStatus.from_dict(job.get("status"))
    now = time.time()
    try:
        spec = _parse(job)
        if rejected is not None:
            raise SpecError("", rejected)
    except SpecError as err:
        if old.state is JobState.FAILED and old.message == str(err):
            return Outcome(finished=True)
        failed = fail_invalid(old, str(err), now)
        failed, stopping = stop_active(failed, JobReason.INVALID_SPEC.value, now)
        api.patch_status(namespace, name, version, _status_patch(job.get("status"), failed.to_dict(None)))
        for trial in stopping:
            api.delete_pod(namespace, trial.name)
        return Outcome([Event("Warning", "InvalidSpec", str(err))], finished=True)

    status = old if spec.random_seed is not None or old.seed is not None else replace(old, seed=secrets.randbits(31))
    pods = api.trial_pods(namespace, name)
    container = spec.trial_template.primary_container
    seen = observe(status, pods, spec, lambda pod: api.read_log(namespace, pod, container), now)
    decision = plan(name, spec, seen.status, now)
    new = decision.status
    new_dict = new.to_dict(spec)
    if new_dict != (job.get("status") or {}):
        api.patch_status(namespace, name, version, _status_patch(job.get("status"), new_dict))
    for trial in seen.to_create + decision.to_start:
        current = new.trial(trial.name)
        if current is not None and current.state.active:
            api.create_pod(namespace, render_pod(name, trial, spec.trial_template, spec.static_hyperparameters), job)
    for pod in seen.to_delete + [t.name for t in decision.to_stop]:
        if pod in pods:
            api.delete_pod(namespace, pod)
    active = new.count(TrialState.PENDING, TrialState.RUNNING)
    return Outcome(
        events=status_events(old, new),
        finished=new.state.terminal and active == 0 and not seen.to_delete,
        wait_seconds=_wait_seconds(spec, new, now),
    )


def _status_patch(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """A merge patch that turns ``old`` into ``new``: keys that disappeared are set to null."""
    return {**{key: None for key in (old or {}) if key not in new and key != "kopf"}, **new}
