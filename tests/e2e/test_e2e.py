"""End to end, the way a user meets kubetune (issue 6): build the images, `helm install` the chart,
`kubectl apply` the CPU digits TuningJob, wait for Completed, and check what really ran: one trial Pod
per trial, each the real CPU trainer in a container with the injected hyperparameters, the best trial
the best objective found in the trial Pods' own logs. Then `kubectl get tuningjobs` and `helm uninstall`.

The job is examples/digits-cpu.yaml exactly as a user applies it (8 trials of 3 epochs, 2 at a time:
about two minutes on 2 cores).
The release watches only the test's namespace (`watchNamespaces`), so that it never acts on another
test's TuningJobs on the shared cluster; the cluster-wide default is covered by the rendering and
server-side dry-run tests, and run live with KUBETUNE_E2E_CLUSTER_WIDE=1.

Environment: KUBETUNE_E2E_TIMEOUT (seconds, default 900) bounds the wait for Completed;
KUBETUNE_E2E_IMAGES=prebuilt skips `make images` and only checks that the node has the images (for CI
that builds and loads them in an earlier step). The end of the run (`kubectl get tj`, `kubectl get
pods`, timings) is printed and written to .cluster/logs/e2e-last.txt.
"""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from e2e_helpers import CHART, OPERATOR_UID, REPO, container_args

pytestmark = pytest.mark.cluster

EXAMPLE = REPO / "examples" / "digits-cpu.yaml"
JOB = "digits-cpu"
TRAINER_IMAGE = "docker.io/kubetune/trainer:0.1.0"
OPERATOR_IMAGE = "docker.io/kubetune/operator:0.1.0"
TIMEOUT = float(os.environ.get("KUBETUNE_E2E_TIMEOUT", "900"))
CLUSTER_WIDE = os.environ.get("KUBETUNE_E2E_CLUSTER_WIDE", "") not in ("", "0")
PREBUILT = os.environ.get("KUBETUNE_E2E_IMAGES", "") == "prebuilt"
JOB_LABEL = "kubetune.io/tuningjob"
TRIAL_LABEL = "kubetune.io/trial"
CRD = "tuningjobs.kubetune.io"
ACCURACY = re.compile(r"validation: accuracy=([0-9\.]+)")
SUMMARY = REPO / ".cluster" / "logs" / "e2e-last.txt"


@pytest.fixture(scope="session")
def images(kube_cluster, kubectl):
    """`make images`: base, testbox, trainer and operator images, imported into the cluster's containerd
    (each rebuilt only when its sources changed). Returns the seconds it took."""
    t0 = time.monotonic()
    if PREBUILT:
        print("\n[images] KUBETUNE_E2E_IMAGES=prebuilt: NOT running make images", flush=True)
    else:
        proc = subprocess.run(["make", "images"], cwd=REPO)
        if proc.returncode != 0:
            pytest.fail(f"make images failed (rc={proc.returncode}); logs in $KUBETUNE_CACHE/logs/", pytrace=False)
    nodes = json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]
    on_nodes = {name for node in nodes
                for image in node["status"].get("images") or [] for name in image.get("names") or []}
    missing = {OPERATOR_IMAGE, TRAINER_IMAGE} - on_nodes
    assert not missing, f"images not on the node(s): {missing}"
    return time.monotonic() - t0


@pytest.fixture
def e2e_namespace(kube_namespace, helm, kubectl):
    """The test namespace; afterwards the release is uninstalled if still there, and TuningJobs lose
    their finalizer (without the operator it would block the namespace's deletion)."""
    yield kube_namespace
    helm("uninstall", "kubetune", "--namespace", kube_namespace, "--wait", check=False)
    names = kubectl("get", "tuningjobs", "-n", kube_namespace, "-o", "name", check=False).stdout.split()
    for name in names:
        kubectl("patch", name, "-n", kube_namespace, "--type=merge",
                "-p", '{"metadata":{"finalizers":null}}', check=False)


def get_json(kubectl, *args):
    return json.loads(kubectl("get", *args, "-o", "json").stdout)


def diagnostics(kubectl, ns: str) -> str:
    parts = []
    for args in (["get", "tuningjob", JOB, "-o", "yaml"], ["get", "pods", "-o", "wide"],
                 ["get", "events", "--sort-by=.lastTimestamp"], ["logs", "deployment/kubetune", "--tail=80"],
                 ["describe", "deployment", "kubetune"]):
        p = kubectl(*args, "-n", ns, check=False)
        parts.append(f"$ kubectl {' '.join(args)}\n{p.stdout}{p.stderr}")
    return "\n".join(parts)


def wait_for_job_end(kubectl, ns: str) -> dict:
    deadline = time.monotonic() + TIMEOUT
    status: dict = {}
    while time.monotonic() < deadline:
        p = kubectl("get", "tuningjob", JOB, "-n", ns, "-o", "json", check=False)
        if p.returncode == 0:
            status = json.loads(p.stdout).get("status") or {}
            if status.get("state") in ("Completed", "Failed", "Stopped"):
                return status
        time.sleep(5)
    raise AssertionError(f"{JOB} not finished after {TIMEOUT:.0f}s (state {status.get('state')!r})")


def ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def test_helm_install_and_a_tuningjob_to_completed(images, helm, kubectl, e2e_namespace):
    ns = e2e_namespace
    t_start = time.monotonic()
    example = yaml.safe_load(EXAMPLE.read_text())
    assert example["metadata"]["name"] == JOB
    spec = example["spec"]
    max_trials = spec["resourceLimits"]["maxTrials"]
    max_parallel = spec["resourceLimits"]["maxParallelTrials"]
    static = {k: str(v) for k, v in spec["staticHyperparameters"].items()}
    ranges = {r["name"]: (r["min"], r["max"]) for r in spec["hyperparameterRanges"]["continuous"]}

    # An existing CRD (an earlier run, other tests) is upgraded first, as the chart README says;
    # on a fresh cluster `helm install` creates it from the chart's crds/.
    if kubectl("get", "crd", CRD, check=False).returncode == 0:
        kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CHART / "crds" / "tuningjob.yaml"))

    # --- helm install -------------------------------------------------------------------------------
    scope = [] if CLUSTER_WIDE else ["--set", f"watchNamespaces={{{ns}}}"]
    install = helm("install", "kubetune", str(CHART), "--namespace", ns, *scope, "--wait", "--timeout", "5m")
    assert "kubectl apply" in install.stdout and "examples/digits-cpu.yaml" in install.stdout, install.stdout
    kubectl("wait", "--for=condition=Established", f"crd/{CRD}", "--timeout=60s")
    kubectl("rollout", "status", "deployment/kubetune", "-n", ns, "--timeout=300s")
    [op] = get_json(kubectl, "pods", "-n", ns, "-l", "app.kubernetes.io/name=kubetune")["items"]
    assert op["spec"]["containers"][0]["image"] == OPERATOR_IMAGE
    assert op["spec"]["securityContext"]["runAsUser"] == OPERATOR_UID
    assert all(c["ready"] for c in op["status"]["containerStatuses"]), op["status"]
    t_installed = time.monotonic()

    # --- the TuningJob --------------------------------------------------------------------------------
    kubectl("apply", "-n", ns, "-f", str(EXAMPLE))
    try:
        status = wait_for_job_end(kubectl, ns)
        assert status["state"] == "Completed", f"state {status['state']}: {status.get('message')}"
    except AssertionError as e:
        raise AssertionError(f"{e}\n{diagnostics(kubectl, ns)}") from None
    t_completed = time.monotonic()

    # --- what really ran: one Pod per trial, the real trainer, the injected hyperparameters -----------
    pods = get_json(kubectl, "pods", "-n", ns, "-l", f"{JOB_LABEL}={JOB}")["items"]
    assert len(pods) == max_trials, [p["metadata"]["name"] for p in pods]
    accuracy: dict[str, float] = {}          # trial name -> last accuracy printed in its Pod's log
    hyperparameters: dict[str, dict[str, str]] = {}
    intervals = []
    for pod in pods:
        name = pod["metadata"]["name"]
        trial = pod["metadata"]["labels"].get(TRIAL_LABEL, name)
        assert pod["spec"]["restartPolicy"] == "Never"
        assert [(o["kind"], o["name"]) for o in pod["metadata"]["ownerReferences"]] == [("TuningJob", JOB)]
        [c] = [c for c in pod["spec"]["containers"] if c["name"] == "trainer"]
        assert c["image"] in ("kubetune/trainer:0.1.0", TRAINER_IMAGE)
        assert c["command"] == ["python3", "/app/cifar10.py"]
        [cs] = [s for s in pod["status"]["containerStatuses"] if s["name"] == "trainer"]
        assert cs["image"] == TRAINER_IMAGE and cs["imageID"], cs      # it ran in a container of that image
        term = cs["state"]["terminated"]
        intervals.append((ts(term["startedAt"]), ts(term["finishedAt"])))
        args = container_args(c["args"])
        assert args["dataset"] == "digits" and args["network"] == "resnet8"
        assert {k: args[k] for k in static} == static
        hp = {k: args[k] for k in ranges}
        for k, (low, high) in ranges.items():
            assert low <= float(hp[k]) <= high, (name, k, hp[k])
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        for k, v in hp.items():
            assert float(env[f"HP_{k.upper()}"]) == pytest.approx(float(v)), (name, k)
        hyperparameters[trial] = hp
        log = kubectl("logs", name, "-n", ns, "-c", "trainer").stdout
        values = ACCURACY.findall(log)
        if values:
            accuracy[trial] = float(values[-1])
    assert len({tuple(sorted(h.items())) for h in hyperparameters.values()}) == max_trials, "duplicate proposals"

    # parallelism cap, from the containers' own start/finish times
    events = sorted([(s, 1) for s, _ in intervals] + [(f, -1) for _, f in intervals], key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    assert peak <= max_parallel, f"{peak} trials ran at once, maxParallelTrials is {max_parallel}"

    # --- the status agrees with the Pods' own logs ----------------------------------------------------
    trials = {t["name"]: t for t in status["trials"]}
    assert set(trials) == set(hyperparameters), (sorted(trials), sorted(hyperparameters))
    succeeded = {name for name, t in trials.items() if t["state"] == "Succeeded"}
    assert succeeded, f"no trial succeeded: {trials}"
    for name, t in trials.items():
        if name in succeeded:
            assert t["objective"] == pytest.approx(accuracy[name]), (name, t, accuracy.get(name))
        else:
            assert t["state"] == "Failed" and t.get("reason"), t
    assert status.get("trialsSucceeded") == len(succeeded)
    assert status.get("progress") == f"{max_trials}/{max_trials}", status.get("progress")
    best = status["bestTrial"]
    top = max(accuracy[name] for name in succeeded)
    assert best["objective"] == pytest.approx(top), (best, accuracy)
    assert status.get("bestObjective") == pytest.approx(top)
    assert best["name"] in {name for name in succeeded if math.isclose(accuracy[name], top)}, (best, accuracy)
    for k, v in hyperparameters[best["name"]].items():
        assert float(best["hyperparameters"][k]) == pytest.approx(float(v)), (k, best)

    # --- kubectl get tuningjobs: the printer columns ---------------------------------------------------
    crd = get_json(kubectl, "crd", CRD)
    [version] = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    columns = [col["name"].upper() for col in version["additionalPrinterColumns"]]
    table = kubectl("get", "tuningjobs", "-n", ns).stdout
    header, row = table.splitlines()[:2]
    assert header.split() == ["NAME", *columns], table
    assert row.split()[0] == JOB and "Completed" in row.split(), table
    assert max(len(line) for line in table.splitlines()) <= 120, table
    pods_table = kubectl("get", "pods", "-n", ns, "-o", "wide").stdout

    # --- helm uninstall: the operator goes, the CRD and the job stay ----------------------------------
    helm("uninstall", "kubetune", "--namespace", ns, "--wait", "--timeout", "2m")
    for kind in ("deployment/kubetune", "serviceaccount/kubetune"):
        p = kubectl("get", kind, "-n", ns, check=False)
        assert p.returncode != 0 and "NotFound" in p.stderr, (kind, p.stdout, p.stderr)
    p = kubectl("get", "clusterrole", f"kubetune-{ns}", check=False)
    assert p.returncode != 0 and "NotFound" in p.stderr, p.stdout
    if not CLUSTER_WIDE:
        p = kubectl("get", "role,rolebinding", "-n", ns, "-o", "name")
        assert p.stdout.strip() == "", p.stdout
    kubectl("wait", "--for=delete", "pod", "-n", ns, "-l", "app.kubernetes.io/name=kubetune", "--timeout=60s")
    kubectl("get", "crd", CRD)
    kept = get_json(kubectl, "tuningjob", JOB, "-n", ns)
    assert kept["status"]["state"] == "Completed" and kept["status"]["bestTrial"] == best

    summary = (
        f"e2e {datetime.now().isoformat(timespec='seconds')} ({'cluster-wide' if CLUSTER_WIDE else 'namespaced'}"
        f" release): images {images:.0f}s, helm install "
        f"{t_installed - t_start:.0f}s, job to Completed {t_completed - t_installed:.0f}s "
        f"({max_trials} trials, {static.get('epochs')} epochs, {max_parallel} at a time)\n"
        f"best trial {best['name']}: objective {best['objective']} {best['hyperparameters']}\n\n"
        f"$ kubectl get tj -n {ns}\n{table}\n$ kubectl get pods -n {ns} -o wide\n{pods_table}"
    )
    print("\n" + summary)
    if SUMMARY.parent.is_dir():
        SUMMARY.write_text(summary)
