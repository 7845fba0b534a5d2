"""Operator reaction time on the local cluster, and the status size of a 1,000-trial job.

Not a test: it measures and writes ``bench/results/operator.json`` and ``.md``.

1. Successor delay: a 40-trial TuningJob (one trial at a time, so every Pod creation follows exactly
   one termination) with the synthetic trainer. A watch of the trial Pods, opened by this script,
   timestamps when each Pod is seen Succeeded/Failed and when the next Pod is seen ADDED; the delay
   is the difference (seen through the same watch, so clock skew and event lag cancel out).
2. Status size: the status of a 1,000-trial job as stored by the API server (patched onto a real
   TuningJob, read back, bytes of its JSON) against etcd's 1.5 MiB request limit.

Usage: ``make cluster-up && .venv/bin/python bench/operator_latency.py [--trials 40] [--strategy Bayesian]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import kubernetes

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "operator")]

from cluster_fixtures import kubectl_path  # noqa: E402
from support import SYNTHETIC_TRAINER  # noqa: E402
from operator_harness import tuningjob  # noqa: E402

from kubetune.job import JobStatus  # noqa: E402
from kubetune.spec import parse_spec  # noqa: E402
from kubetune.trials import Trial, TrialState  # noqa: E402

RESULTS = ROOT / "bench" / "results"
KUBECONFIG = ROOT / ".cluster" / "kubeconfig"


def kubectl(*args: str, input: str | None = None) -> str:
    return subprocess.run([kubectl_path(), "--kubeconfig", str(KUBECONFIG), *args], input=input, text=True,
                          capture_output=True, check=True).stdout


def watch_pods(core: kubernetes.client.CoreV1Api, namespace: str, seen: dict[str, dict[str, float]],
               stop: threading.Event) -> None:
    watcher = kubernetes.watch.Watch()
    for event in watcher.stream(core.list_namespaced_pod, namespace, timeout_seconds=600):
        now = time.time()
        pod = event["object"]
        times = seen.setdefault(pod.metadata.name, {})
        if event["type"] == "ADDED":
            times.setdefault("added", now)
        if pod.status.phase in ("Succeeded", "Failed"):
            times.setdefault("finished", now)
        if stop.is_set():
            watcher.stop()


def successor_delays(trials: int, strategy: str) -> dict[str, object]:
    namespace = f"bench-{int(time.time())}"
    kubectl("create", "namespace", namespace)
    kubectl("create", "configmap", "synthetic-trainer", "-n", namespace, f"--from-file={SYNTHETIC_TRAINER}")
    core = kubernetes.client.CoreV1Api()
    seen: dict[str, dict[str, float]] = {}
    stop = threading.Event()
    threading.Thread(target=watch_pods, args=(core, namespace, seen, stop), daemon=True).start()
    log = (RESULTS / "operator-bench.log").open("w")
    operator = subprocess.Popen([sys.executable, "-m", "kubetune.operator", "--namespace", namespace,
                                 "--liveness", "http://127.0.0.1:0/healthz", "--quiet"], stdout=log, stderr=log,
                                env={**os.environ, "KUBECONFIG": str(KUBECONFIG)})
    started = time.time()
    try:
        manifest = tuningjob("latency", namespace, strategy=strategy, staticHyperparameters={"epochs": 1},
                             resourceLimits={"maxTrials": trials, "maxParallelTrials": 1})
        kubectl("apply", "-f", "-", input=json.dumps(manifest))
        while True:
            state = json.loads(kubectl("get", "tj", "latency", "-n", namespace, "-o", "json")).get("status", {})
            if state.get("state") in ("Completed", "Failed", "Stopped"):
                break
            time.sleep(1)
        table = kubectl("get", "tj", "-n", namespace)
    finally:
        stop.set()
        operator.terminate()
        operator.wait()
        kubectl("delete", "namespace", namespace, "--wait=false")
    delays = [seen[f"latency-{i + 1}"]["added"] - seen[f"latency-{i}"]["finished"]
              for i in range(trials - 1) if "finished" in seen.get(f"latency-{i}", {})
              and "added" in seen.get(f"latency-{i + 1}", {})]
    delays.sort()
    return {"strategy": strategy, "trials": trials, "state": state.get("state"), "wall_seconds": time.time() - started,
            "delays": delays, "p50": statistics.median(delays),
            "p99": delays[min(len(delays) - 1, int(round(0.99 * (len(delays) - 1))))], "max": delays[-1],
            "kubectl_get": table}


def status_size(trials: int = 1000) -> dict[str, object]:
    """Bytes of a real 1,000-trial status, as the API server stores and returns it."""
    namespace = f"bench-size-{int(time.time())}"
    kubectl("create", "namespace", namespace)
    manifest = tuningjob("big", namespace, resourceLimits={"maxTrials": trials, "maxParallelTrials": 8},
                         hyperparameterRanges={"continuous": [
                             {"name": "learning_rate", "min": 0.001, "max": 0.5, "scaling": "Logarithmic"},
                             {"name": "momentum", "min": 0.0, "max": 0.99},
                             {"name": "wd", "min": 0.0, "max": 0.001}]})
    spec = parse_spec(manifest["spec"])
    status = JobStatus(seed=1, start_time=time.time())
    for i in range(trials):
        params = spec.space.sample(__import__("numpy").random.default_rng(i))
        status = status.with_trial(Trial(f"big-{i}", i, params, TrialState.SUCCEEDED, objective=0.7312345678901234,
                                         metrics={"validation-accuracy": 0.7312345678901234, "train-loss": 0.81234567},
                                         start_time=time.time(), end_time=time.time()))
    try:
        kubectl("apply", "-f", "-", input=json.dumps(manifest))
        body = json.dumps({"status": status.to_dict(spec)})
        patch_file = RESULTS / "status-1000.json"
        patch_file.write_text(body)
        kubectl("patch", "tj", "big", "-n", namespace, "--subresource=status", "--type=merge",
                "--patch-file", str(patch_file))
        patch_file.unlink()
        stored = kubectl("get", "tj", "big", "-n", namespace, "-o", "json")
        stored_trials = len(json.loads(stored)["status"]["trials"])
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false")
    compact = len(json.dumps(json.loads(stored), separators=(",", ":")))  # as etcd stores it
    return {"trials": stored_trials, "object_bytes": compact, "status_bytes": len(body),
            "pretty_printed_bytes": len(stored), "etcd_limit_bytes": 1_572_864,
            "fraction_of_limit": round(compact / 1_572_864, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--strategy", default="Bayesian")
    args = parser.parse_args()
    kubernetes.config.load_kube_config(str(KUBECONFIG))
    RESULTS.mkdir(parents=True, exist_ok=True)
    kubectl("apply", "-f", str(ROOT / "crds" / "tuningjob.yaml"))
    kubectl("wait", "--for=condition=Established", "crd/tuningjobs.kubetune.io", "--timeout=60s")
    result = {"status_size": status_size(), "successor_delay": successor_delays(args.trials, args.strategy)}
    (RESULTS / "operator.json").write_text(json.dumps(result, indent=1))
    delay, size = result["successor_delay"], result["status_size"]
    md = (f"# Operator benchmark\n\n| measure | value |\n|---|---|\n"
          f"| successor delay p50 ({delay['trials']} trials, {delay['strategy']}) | {delay['p50']:.3f} s |\n"
          f"| successor delay p99 | {delay['p99']:.3f} s |\n| successor delay max | {delay['max']:.3f} s |\n"
          f"| 1,000-trial TuningJob as stored (compact JSON) | {size['object_bytes']:,} bytes "
          f"({size['fraction_of_limit']:.1%} of etcd's 1.5 MiB) |\n"
          f"\n```\n{delay['kubectl_get']}```\n")
    (RESULTS / "operator.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
