"""The local cluster is real Kubernetes: node + GPUs, pods from local images, GC, RBAC, scheduling."""
from __future__ import annotations

import json
import time

import pytest

from cluster_fixtures import KUBECONFIG, NODE_NAME, TEST_IMAGE, get_json, wait_until

pytestmark = pytest.mark.cluster

P3 = {"node.kubernetes.io/instance-type": "p3.8xlarge"}


def pod_manifest(name, ns, command, *, gpus=0, owner=None, node_selector=None):
    container = {
        "name": "main",
        "image": TEST_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": command,
    }
    if gpus:
        container["resources"] = {"limits": {"nvidia.com/gpu": str(gpus)}}
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"restartPolicy": "Never", "containers": [container], "terminationGracePeriodSeconds": 1},
    }
    if owner:
        pod["metadata"]["ownerReferences"] = [owner]
    if node_selector:
        pod["spec"]["nodeSelector"] = node_selector
    return json.dumps(pod)



def finished_pod(kubectl, ns: str, name: str, timeout: float) -> tuple[str, str]:
    """Wait until the Pod has finished; its final phase and its log."""
    phase = wait_until(
        lambda: (p := get_json(kubectl, "pod", name, "-n", ns)["status"].get("phase")) in ("Succeeded", "Failed") and p,
        timeout=timeout, what=f"pod {name} to finish",
    )
    return phase, kubectl("logs", name, "-n", ns).stdout

def test_node_ready_with_gpus_and_p3_labels(kubectl):
    node = get_json(kubectl, "node", NODE_NAME)
    ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"]
    assert ready == "True"
    assert node["status"]["allocatable"].get("nvidia.com/gpu") == "4"
    assert node["status"]["capacity"].get("nvidia.com/gpu") == "4"
    labels = node["metadata"]["labels"]
    assert labels["node.kubernetes.io/instance-type"] == "p3.8xlarge"
    assert labels["kubetune.io/accelerator"] == "nvidia-tesla-v100"
    assert not [t for t in node["spec"].get("taints", []) if t["effect"] == "NoSchedule"]
    version = json.loads(kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"].startswith("v1.")


def test_pod_from_local_image_runs_logs_and_is_garbage_collected(kubectl, kube_namespace):
    ns = kube_namespace
    kubectl("create", "configmap", "owner", "-n", ns, "--from-literal=k=v")
    uid = get_json(kubectl, "configmap", "owner", "-n", ns)["metadata"]["uid"]
    owner = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}
    kubectl("apply", "-f", "-", input=pod_manifest("hello", ns, ["/usr/local/bin/hello"], owner=owner))

    phase, logs = finished_pod(kubectl, ns, "hello", timeout=180)
    assert phase == "Succeeded", logs
    assert "hello from testbox" in logs
    assert "python 3.11" in logs

    # Deleting the owner: the controller-manager's garbage collector deletes the pod.
    kubectl("delete", "configmap", "owner", "-n", ns)
    wait_until(
        lambda: kubectl("get", "pod", "hello", "-n", ns, check=False).returncode != 0,
        timeout=120, what="garbage collection of pod hello",
    )


def test_rbac_denies_service_account_what_it_was_not_granted(kubectl, kube_namespace):
    ns = kube_namespace
    sa = f"system:serviceaccount:{ns}:reader"
    kubectl("create", "serviceaccount", "reader", "-n", ns)
    kubectl("create", "role", "pod-reader", "-n", ns, "--verb=get,list", "--resource=pods")
    kubectl("create", "rolebinding", "reader", "-n", ns, "--role=pod-reader", f"--serviceaccount={ns}:reader")

    def can_i(*args):
        return kubectl("auth", "can-i", *args, "-n", ns, f"--as={sa}", check=False).stdout.strip()

    wait_until(lambda: can_i("list", "pods") == "yes", timeout=30, what="RBAC grant to apply")
    assert can_i("create", "pods") == "no"
    assert can_i("get", "secrets") == "no"
    assert can_i("list", "pods", "--all-namespaces") == "no"

    # A real request authenticated with the ServiceAccount's token (no admin client certificate).
    token = kubectl("create", "token", "reader", "-n", ns, "--duration=10m").stdout.strip()
    cfg = json.loads(kubectl("config", "view", "--raw", "-o", "json").stdout)
    server = cfg["clusters"][0]["cluster"]["server"]
    ca = KUBECONFIG.parent / "pki" / "ca.crt"
    base = ["--kubeconfig=/dev/null", f"--server={server}", f"--certificate-authority={ca}", f"--token={token}"]
    ok = kubectl(*base, "get", "pods", "-n", ns, check=False)
    assert ok.returncode == 0, ok.stderr
    denied = kubectl(*base, "get", "secrets", "-n", ns, check=False)
    assert denied.returncode != 0
    assert "forbidden" in denied.stderr.lower(), denied.stderr
    assert f'User "{sa}" cannot list resource "secrets"' in denied.stderr


def test_gpu_requests_are_scheduled_by_the_real_scheduler(kubectl, kube_namespace):
    ns = kube_namespace
    sleep = ["sleep", "600"]
    kubectl("apply", "-f", "-", input=pod_manifest("gpu-a", ns, sleep, gpus=4, node_selector=P3))
    wait_until(
        lambda: get_json(kubectl, "pod", "gpu-a", "-n", ns)["status"].get("phase") == "Running",
        timeout=180, what="gpu-a Running",
    )
    assert get_json(kubectl, "pod", "gpu-a", "-n", ns)["spec"]["nodeName"] == NODE_NAME

    kubectl("apply", "-f", "-", input=pod_manifest("gpu-b", ns, sleep, gpus=4, node_selector=P3))

    def unschedulable():
        pod = get_json(kubectl, "pod", "gpu-b", "-n", ns)
        cond = {c["type"]: c for c in pod["status"].get("conditions", [])}.get("PodScheduled")
        return cond and cond["status"] == "False" and cond.get("reason") == "Unschedulable" and cond

    cond = wait_until(unschedulable, timeout=60, what="gpu-b Unschedulable")
    assert "nvidia.com/gpu" in cond.get("message", ""), cond
    time.sleep(5)
    pod_b = get_json(kubectl, "pod", "gpu-b", "-n", ns)
    assert pod_b["status"]["phase"] == "Pending" and not pod_b["spec"].get("nodeName")

    # Freeing the GPUs lets the scheduler place the second pod.
    kubectl("delete", "pod", "gpu-a", "-n", ns, "--grace-period=1", "--wait=true", timeout=120)
    wait_until(
        lambda: get_json(kubectl, "pod", "gpu-b", "-n", ns)["spec"].get("nodeName") == NODE_NAME,
        timeout=60, what="gpu-b scheduled after gpu-a freed the GPUs",
    )


def test_pod_reaches_the_api_through_the_kubernetes_service(kubectl, kube_namespace):
    """kube-proxy routes the kubernetes Service ClusterIP; the mounted SA token and CA authenticate."""
    ns = kube_namespace
    script = (
        "import os, ssl, json, urllib.request\n"
        "sa = '/var/run/secrets/kubernetes.io/serviceaccount/'\n"
        "url = 'https://%s:%s/version' % (os.environ['KUBERNETES_SERVICE_HOST'], os.environ['KUBERNETES_SERVICE_PORT'])\n"
        "req = urllib.request.Request(url, headers={'Authorization': 'Bearer ' + open(sa + 'token').read()})\n"
        "ctx = ssl.create_default_context(cafile=sa + 'ca.crt')\n"
        "print('in-cluster', json.load(urllib.request.urlopen(req, context=ctx, timeout=10))['gitVersion'])\n"
    )
    kubectl("apply", "-f", "-", input=pod_manifest("incluster", ns, ["python3", "-c", script]))
    phase, logs = finished_pod(kubectl, ns, "incluster", timeout=120)
    assert phase == "Succeeded", logs
    assert "in-cluster v1." in logs
