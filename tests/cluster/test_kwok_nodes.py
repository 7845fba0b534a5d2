"""kwok-simulated 4-GPU nodes (make kwok-nodes) take GPU pods that tolerate their taint, and only those."""
from __future__ import annotations

import json
import subprocess

import pytest

from cluster_fixtures import REPO, TEST_IMAGE, get_json, wait_until

pytestmark = pytest.mark.cluster


def gpu_pod(name, ns):
    return json.dumps({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "nodeSelector": {"type": "kwok", "node.kubernetes.io/instance-type": "p3.8xlarge"},
            "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}],
            "containers": [{"name": "main", "image": TEST_IMAGE, "imagePullPolicy": "IfNotPresent",
                            "resources": {"limits": {"nvidia.com/gpu": "4"}}}],
        },
    })


def test_kwok_gpu_nodes_schedule_gpu_pods(kubectl, kube_namespace):
    ns = kube_namespace
    subprocess.run([str(REPO / "hack" / "kwok-nodes.sh"), "2"], check=True, timeout=300)
    try:
        for i in range(3):
            kubectl("apply", "-f", "-", input=gpu_pod(f"sim-{i}", ns))

        def phases():
            pods = get_json(kubectl, "pods", "-n", ns)["items"]
            return sorted((p["status"].get("phase"), p["spec"].get("nodeName") or "") for p in pods)

        got = wait_until(
            lambda: (ph := phases()) and [p for p, _ in ph].count("Running") == 2 and ph,
            timeout=90, what="two simulated GPU pods Running",
        )
        running_nodes = {n for p, n in got if p == "Running"}
        assert running_nodes == {"kwok-gpu-0", "kwok-gpu-1"}, got
        assert [p for p, _ in got].count("Pending") == 1, got
    finally:
        kubectl("delete", "pods", "--all", "-n", ns, "--grace-period=0", "--force", check=False)
        subprocess.run([str(REPO / "hack" / "kwok-nodes.sh"), "0"], check=False, timeout=120)
