"""Helpers for operator tests and benchmarks on the real cluster: the operator as a killable
process, the synthetic-trainer TuningJob, and kubectl-based waits.

Trials use the Debian base image with the synthetic trainer mounted from a ConfigMap: a real
container and a real kubelet, no image build needed.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support import BASE_MANIFEST

BASE_IMAGE = "docker.io/library/debian:bookworm-slim"


class OperatorProcess:
    """The operator as a killable process, logging to a file."""

    def __init__(self, namespace: str, log_path: Path) -> None:
        self.namespace, self.log_path = namespace, log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        # kopf is exec'ed in place of the wrapper, so this PID is the operator itself.
        self.process = subprocess.Popen([sys.executable, "-m", "kubetune.operator", "--namespace", self.namespace,
                                         "--liveness", "http://127.0.0.1:0/healthz"],
                                        stdout=log, stderr=subprocess.STDOUT, env={**os.environ})

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def tuningjob(name: str, namespace: str, **spec: Any) -> dict[str, Any]:
    """The Branin test job, running the synthetic trainer in a real container; ``spec`` overrides."""
    manifest = copy.deepcopy(BASE_MANIFEST)
    manifest["metadata"] = {"name": name, "namespace": namespace}
    manifest["spec"]["trialTemplate"] = {"spec": {
        "terminationGracePeriodSeconds": 2,
        "containers": [{"name": "trainer", "image": BASE_IMAGE, "imagePullPolicy": "Never",
                        "command": ["python3", "/app/synthetic_trainer.py"],
                        "volumeMounts": [{"name": "app", "mountPath": "/app"}]}],
        "volumes": [{"name": "app", "configMap": {"name": "synthetic-trainer"}}]}}
    manifest["spec"].update(spec)
    return manifest


def apply(kubectl: Callable[..., Any], manifest: dict[str, Any]) -> None:
    kubectl("apply", "-f", "-", input=json.dumps(manifest))


def get_job(kubectl: Callable[..., Any], namespace: str, name: str) -> dict[str, Any]:
    return json.loads(kubectl("get", "tuningjob", name, "-n", namespace, "-o", "json").stdout)


def wait_for_state(kubectl: Callable[..., Any], namespace: str, name: str, states: tuple[str, ...],
                   timeout: float = 300.0, during: Callable[[], None] | None = None) -> dict[str, Any]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = get_job(kubectl, namespace, name)
        if job.get("status", {}).get("state") in states:
            return job
        if during is not None:
            during()
        time.sleep(0.5)
    raise AssertionError(f"{name} not in {states} after {timeout}s: {json.dumps(job.get('status'), indent=1)[:3000]}")


def trial_pods(kubectl: Callable[..., Any], namespace: str, job: str) -> list[dict[str, Any]]:
    out = kubectl("get", "pods", "-n", namespace, "-l", f"kubetune.io/tuningjob={job}", "-o", "json").stdout
    return json.loads(out)["items"]
