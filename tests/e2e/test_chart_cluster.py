"""The chart against the real API server of the local cluster: server-side dry-run of every rendered
object (both RBAC modes), and `helm install` refusing bad values before it creates anything."""
from __future__ import annotations

import pytest

from e2e_helpers import CHART

pytestmark = pytest.mark.cluster


@pytest.mark.parametrize("mode", ["cluster-wide", "namespaced"])
def test_rendered_manifests_pass_server_side_dry_run(helm, kubectl, kube_namespace, mode):
    ns = kube_namespace
    values = ["--set", f"watchNamespaces={{{ns}}}"] if mode == "namespaced" else []
    manifests = helm("template", "kubetune", str(CHART), "--namespace", ns, *values).stdout
    proc = kubectl("apply", "--dry-run=server", "--validate=strict", "-n", ns, "-f", "-", input=manifests)
    applied = [line for line in proc.stdout.splitlines() if line.strip()]
    kinds = {line.split("/")[0].split(".")[0] for line in applied}
    assert all(line.endswith("(server dry run)") for line in applied), proc.stdout
    expected = {"serviceaccount", "clusterrole", "clusterrolebinding", "deployment"}
    if mode == "namespaced":
        expected |= {"role", "rolebinding"}
    assert kinds == expected, proc.stdout


def test_crd_passes_server_side_dry_run(kubectl):
    proc = kubectl("apply", "--dry-run=server", "--validate=strict", "--server-side", "--force-conflicts",
                   "-f", str(CHART / "crds" / "tuningjob.yaml"))
    assert "customresourcedefinition.apiextensions.k8s.io/tuningjobs.kubetune.io" in proc.stdout, proc.stdout


@pytest.mark.parametrize("bad", ["replicaCount=2", "logFormat=xml"])
def test_helm_install_rejects_bad_values_and_creates_nothing(helm, kubectl, kube_namespace, bad):
    proc = helm("install", "kubetune", str(CHART), "--namespace", kube_namespace, "--set", bad, check=False)
    assert proc.returncode != 0, proc.stdout
    assert "values don't meet the specifications of the schema" in proc.stderr, proc.stderr
    assert bad.split("=")[0] in proc.stderr, proc.stderr
    assert helm("list", "--namespace", kube_namespace, "--short").stdout.strip() == ""
    assert kubectl("get", "deployments,serviceaccounts", "-n", kube_namespace, "-l",
                   "app.kubernetes.io/instance=kubetune", "-o", "name").stdout.strip() == ""


@pytest.mark.parametrize("mode", ["cluster-wide", "namespaced"])
def test_notes_tell_how_to_submit_the_first_tuningjob(helm, kube_namespace, mode):
    ns = kube_namespace
    values = ["--set", f"watchNamespaces={{{ns}}}"] if mode == "namespaced" else []
    out = helm("install", "kubetune", str(CHART), "--namespace", ns, "--dry-run=client", *values).stdout
    notes = out[out.index("NOTES:"):]
    target = f" -n {ns}" if mode == "namespaced" else ""
    assert f"kubectl apply{target} -f examples/digits-cpu.yaml" in notes, notes
    assert f"kubectl get tj{target} -w" in notes, notes
    assert f"kubectl -n {ns} rollout status deployment/kubetune" in notes, notes
