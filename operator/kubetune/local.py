"""Run a TuningJob on this machine: each trial a subprocess, same planner, optimizer and metrics.

The loop is the operator's loop with processes instead of Pods: reap finished trials, record them,
``plan``, start and stop what the plan says. Results land in ``DIR/tuningjob.yaml`` (the manifest
with its full status, as ``kubectl get -o yaml`` would show it) and ``DIR/trials/<trial>.log``.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TextIO

import yaml

from kubetune.job import JobReason, JobState, JobStatus, plan, stop_active
from kubetune.metrics import MetricParser
from kubetune.spec import TuningJob
from kubetune.strategies.bayesian import preload
from kubetune.template import local_invocation
from kubetune.trials import FailureReason, Trial, TrialState, conclude

POLL_SECONDS = 0.2
KILL_GRACE_SECONDS = 10.0


@dataclass
class _Running:
    trial: Trial
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    log_path: Path


class LocalRunner:
    """Drives one TuningJob with local processes; ``run`` returns the final status."""

    def __init__(self, job: TuningJob, output: Path, command: list[str] | None = None,
                 out: TextIO = sys.stderr) -> None:
        self.job, self.spec = job, job.spec
        self.output, self.command, self.out = output, command, out
        self.parser = MetricParser(self.spec.metric_definitions)
        self.running: dict[str, _Running] = {}
        self.status = JobStatus(seed=self.spec.random_seed if self.spec.random_seed is not None
                                else secrets.randbits(31))

    def run(self) -> JobStatus:
        (self.output / "trials").mkdir(parents=True, exist_ok=True)
        if self.spec.strategy == "Bayesian":  # the GP's imports take seconds: overlap them with trial 1
            threading.Thread(target=preload, daemon=True).start()
        try:
            with _stopped_by_signals():
                while True:
                    self._reap()
                    decision = plan(self.job.name, self.spec, self.status, time.time())
                    self.status = decision.status
                    for trial in decision.to_stop:
                        self._kill(trial.name)
                        self._report(self.status.trial(trial.name) or trial)
                    for trial in decision.to_start:
                        self._start(trial)
                    if self.status.state.terminal and not self.running:
                        break
                    time.sleep(POLL_SECONDS)
        except KeyboardInterrupt as stop:
            self._interrupt(str(stop) or "Ctrl-C")
        finally:
            self.write_result()
        return self.status

    def _start(self, trial: Trial) -> None:
        log_path = self.output / "trials" / f"{trial.name}.log"
        argv, env = local_invocation(trial, self.spec.trial_template, self.spec.static_hyperparameters,
                                     self.command)
        log = log_path.open("wb")
        log.write(f"# {' '.join(argv)}\n".encode())
        log.flush()
        try:
            # A session of its own: Ctrl-C reaches the runner, which then stops trials cleanly.
            process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                       env={**os.environ, **env}, start_new_session=True)
        except OSError as err:
            log.close()
            failed = trial.failed(FailureReason.START_ERROR, f"could not start {argv[0]!r}: {err}", time.time())
            self.status = self.status.with_trial(failed)
            self._report(failed)
            return
        started = trial.started(time.time())
        self.status = self.status.with_trial(started)
        self.running[trial.name] = _Running(started, process, log, log_path)
        self._report(started)

    def _reap(self) -> None:
        for name, run in list(self.running.items()):
            code = run.process.poll()
            if code is None:
                continue
            del self.running[name]
            run.log.close()
            current = self.status.trial(name)
            if current is None or current.state is not TrialState.RUNNING:
                continue  # already decided (deadline, stop) while it was exiting
            finished = conclude(current, code, run.log_path.read_text(errors="replace"), self.parser,
                                self.spec.objective_metric, time.time())
            self.status = self.status.with_trial(finished)
            self._report(finished)

    def _kill(self, name: str) -> None:
        run = self.running.pop(name, None)
        if run is None:
            return
        _terminate(run.process)
        run.log.close()

    def _interrupt(self, cause: str) -> None:
        now = time.time()
        for name in list(self.running):
            self._kill(name)
        self.status, _ = stop_active(self.status, JobReason.INTERRUPTED.value, now)
        self.status = self.status.moved_to(JobState.STOPPED, JobReason.INTERRUPTED, f"interrupted ({cause})", now)
        print(f"\ninterrupted ({cause}): running trials stopped, results kept", file=self.out)

    def _report(self, trial: Trial) -> None:
        counts = (self.status.count(TrialState.SUCCEEDED, TrialState.FAILED), self.spec.limits.max_trials,
                  self.status.count(TrialState.RUNNING))
        best = self.status.best(self.spec.maximize)
        best_text = f"best {best.objective:.6g} ({best.name})" if best else "best -"
        detail = (f"{self.spec.objective_metric}={trial.objective:.6g}" if trial.objective is not None
                  else trial.message or _format_params(trial))
        print(f"{time.strftime('%H:%M:%S')} {trial.name:<24} {trial.state.value:<9} {detail}"
              f"  | done {counts[0]}/{counts[1]}, running {counts[2]}, {best_text}", file=self.out, flush=True)

    def write_result(self) -> Path:
        manifest = dict(self.job.manifest)
        manifest["status"] = self.status.to_dict(self.spec)
        path = self.output / "tuningjob.yaml"
        path.write_text(yaml.safe_dump(manifest, sort_keys=False))
        return path


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise KeyboardInterrupt while the run loop runs, so either stops the trials
    (they run in sessions of their own and would outlive us) and keeps the results; SIGINT
    explicitly, because a shell starts background jobs with it ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = {signum: signal.signal(signum, _raise_interrupt) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _format_params(trial: Trial) -> str:
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in trial.hyperparameters.items())


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the trial's whole process group, SIGKILL it if it has not exited after a grace period."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def leaderboard(status: JobStatus, job: TuningJob, top: int = 10) -> str:
    """The best ``top`` succeeded trials as a text table, best first."""
    spec = job.spec
    done = sorted((t for t in status.trials if t.state is TrialState.SUCCEEDED),
                  key=lambda t: t.objective if spec.maximize else -t.objective,  # type: ignore[operator]
                  reverse=True)[:top]
    names = list(spec.space.parameters)
    header = ["rank", "trial", spec.objective_metric, *names]
    rows = [[str(i + 1), t.name, f"{t.objective:.6g}",
             *(f"{t.hyperparameters[n]:.6g}" if isinstance(t.hyperparameters[n], float)
               else str(t.hyperparameters[n]) for n in names)] for i, t in enumerate(done)]
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in [header, *rows]]
    failed = status.count(TrialState.FAILED)
    summary = (f"{job.name}: {status.state.value} ({status.reason}: {status.message}); "
               f"{status.count(TrialState.SUCCEEDED)} succeeded, {failed} failed")
    return "\n".join([summary, *lines])

