"""Local runs: real subprocesses, the same planner, results on disk, Ctrl-C handling."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubetune import parse_tuningjob
from kubetune.cli import main
from kubetune.local import LocalRunner

ROOT = Path(__file__).resolve().parents[2]


def write(manifest: dict[str, Any], path: Path) -> Path:
    path.write_text(yaml.safe_dump(manifest))
    return path


def test_local_run_completes_with_failures_recorded(manifest: dict[str, Any], local_command: list[str],
                                                      tmp_path: Path, capsys: Any) -> None:
    manifest["spec"]["strategy"] = "Random"
    manifest["spec"]["resourceLimits"] = {"maxTrials": 8, "maxParallelTrials": 3, "maxFailedTrials": 8}
    # x > 7 exits non-zero; 4 < x <= 7 never prints the metric.
    manifest["spec"]["staticHyperparameters"].update({"fail-if-x-above": 7, "no-metric-if-x-above": 4})
    code = main(["run", str(write(manifest, tmp_path / "job.yaml")), "--local", "--output", str(tmp_path / "out"),
                 "--command", " ".join(local_command)])
    result = yaml.safe_load((tmp_path / "out" / "tuningjob.yaml").read_text())
    status = result["status"]
    assert code == 0 and status["state"] == "Completed" and status["progress"] == "8/8"
    trials = status["trials"]
    assert len(trials) == 8 and len(list((tmp_path / "out" / "trials").glob("*.log"))) == 8
    for trial in trials:
        x = trial["hyperparameters"]["x"]
        expected = "Failed" if x > 4 else "Succeeded"
        assert trial["state"] == expected, trial
        if x > 7:
            assert trial["reason"] == "ExitCode"
        elif x > 4:
            assert trial["reason"] == "MetricNotFound"
    succeeded = [t for t in trials if t["state"] == "Succeeded"]
    assert status["bestTrial"]["objective"] == max(t["objective"] for t in succeeded)
    out = capsys.readouterr().out
    assert "rank" in out and status["bestTrial"]["name"] in out


def test_parallelism_is_respected_by_real_processes(manifest: dict[str, Any], local_command: list[str],
                                                    tmp_path: Path) -> None:
    manifest["spec"]["strategy"] = "Random"
    manifest["spec"]["resourceLimits"] = {"maxTrials": 6, "maxParallelTrials": 2}
    manifest["spec"]["staticHyperparameters"]["sleep"] = 0.6
    runner = LocalRunner(parse_tuningjob(manifest), tmp_path, local_command, out=open(os.devnull, "w"))
    status = runner.run()
    intervals = sorted((t.start_time, t.end_time) for t in status.trials)
    for start, _ in intervals:  # at each start, count trials whose run covers that moment
        overlapping = sum(s <= start < e for s, e in intervals)  # type: ignore[operator]
        assert overlapping <= 2


def test_trial_deadline_kills_the_process(manifest: dict[str, Any], local_command: list[str], tmp_path: Path) -> None:
    manifest["spec"]["strategy"] = "Random"
    manifest["spec"]["resourceLimits"] = {"maxTrials": 2, "maxParallelTrials": 2, "maxTrialRuntimeSeconds": 1}
    manifest["spec"]["staticHyperparameters"]["sleep"] = 30
    started = time.time()
    status = LocalRunner(parse_tuningjob(manifest), tmp_path, local_command, out=open(os.devnull, "w")).run()
    assert time.time() - started < 25
    assert [t.reason for t in status.trials] == ["DeadlineExceeded"] * 2
    assert status.state.value == "Completed"  # 2 failures stay below the default maxFailedTrials (3)


def test_missing_command_fails_the_trial_not_the_runner(manifest: dict[str, Any], tmp_path: Path) -> None:
    manifest["spec"]["strategy"] = "Random"
    manifest["spec"]["resourceLimits"] = {"maxTrials": 2, "maxParallelTrials": 1, "maxFailedTrials": 2}
    status = LocalRunner(parse_tuningjob(manifest), tmp_path, ["/nonexistent/python"], out=open(os.devnull, "w")).run()
    assert status.state.value == "Failed" and [t.reason for t in status.trials] == ["StartError"] * 2


def test_invalid_file_is_a_clear_error(manifest: dict[str, Any], tmp_path: Path, capsys: Any) -> None:
    manifest["spec"]["resourceLimits"]["maxParallelTrials"] = 0
    assert main(["validate", str(write(manifest, tmp_path / "bad.yaml"))]) == 2
    assert "spec.resourceLimits.maxParallelTrials: must be >= 1" in capsys.readouterr().err


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell starts a background job


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("started_in_background", [False, True])
def test_ctrl_c_or_sigterm_stops_trials_and_keeps_results(manifest: dict[str, Any], local_command: list[str],
                                                          tmp_path: Path, signum: int,
                                                          started_in_background: bool) -> None:
    manifest["spec"]["strategy"] = "Random"
    manifest["spec"]["resourceLimits"] = {"maxTrials": 4, "maxParallelTrials": 2}
    manifest["spec"]["staticHyperparameters"]["sleep"] = 60
    job_file = write(manifest, tmp_path / "job.yaml")
    process = subprocess.Popen(
        [sys.executable, "-m", "kubetune.cli", "run", str(job_file), "--local", "--output", str(tmp_path / "out"),
         "--command", " ".join(local_command)], stderr=subprocess.PIPE, text=True,
        preexec_fn=_ignore_sigint if started_in_background else None)
    assert process.stderr is not None
    for _ in range(2):  # wait until both trials report Running
        assert "Running" in process.stderr.readline()
    process.send_signal(signum)
    assert process.wait(timeout=30) == 1
    assert f"interrupted ({signal.Signals(signum).name})" in process.stderr.read()
    status = yaml.safe_load((tmp_path / "out" / "tuningjob.yaml").read_text())["status"]
    assert status["state"] == "Stopped" and status["reason"] == "Interrupted"
    assert [t["state"] for t in status["trials"]] == ["Stopped", "Stopped"]
    leftover = subprocess.run(["pgrep", "-f", "synthetic_trainer.py --epochs 3 --sleep 60"], capture_output=True)
    assert leftover.stdout == b""
