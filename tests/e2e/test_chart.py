"""The Helm chart without a cluster: lint, rendering, least-privilege RBAC, hardening, values schema,
the CRD copy, and the operator image's Dockerfile (issue 6)."""
from __future__ import annotations

import json
import re

import pytest
import yaml

from e2e_helpers import (
    CHART, CRD_RULES, NAMESPACE_RULES, NAMESPACED_RULES, OPERATOR_UID, RELEASE_NAMESPACE, REPO,
    by_kind, one, rule_triples, triples, wildcards,
)

NAMESPACED_VALUES = ("--set", "watchNamespaces={team-a,team-b}")


def test_chart_crd_is_the_repository_crd():
    """One source of truth: the chart's crds/ holds crds/tuningjob.yaml byte for byte."""
    source = REPO / "crds" / "tuningjob.yaml"
    copy = CHART / "crds" / "tuningjob.yaml"
    assert copy.read_bytes() == source.read_bytes(), (
        f"{copy.relative_to(REPO)} differs from {source.relative_to(REPO)}: run `make chart-crds`")


@pytest.mark.parametrize("values", [(), NAMESPACED_VALUES], ids=["cluster-wide", "namespaced"])
def test_helm_lint_is_clean(helm, values):
    proc = helm("lint", "--strict", str(CHART), *values)
    out = proc.stdout + proc.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in out, out
    assert "[WARNING]" not in out and "[ERROR]" not in out, out


def test_crd_is_installed_from_crds_dir(render):
    crds = by_kind(render("--include-crds"), "CustomResourceDefinition")
    source = yaml.safe_load((REPO / "crds" / "tuningjob.yaml").read_text())
    assert crds == [source]
    assert not by_kind(render(), "CustomResourceDefinition"), "the CRD must come from crds/, not templates/"


def test_cluster_wide_renders_the_operator_and_least_privilege_rbac(render):
    objects = render()
    assert sorted(o["kind"] for o in objects) == [
        "ClusterRole", "ClusterRoleBinding", "Deployment", "ServiceAccount"]
    sa = one(objects, "ServiceAccount")
    role = one(objects, "ClusterRole")
    binding = one(objects, "ClusterRoleBinding")
    assert not wildcards(role["rules"]), role["rules"]
    assert rule_triples(role["rules"]) == triples({**NAMESPACED_RULES, **CRD_RULES, **NAMESPACE_RULES})
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": role["metadata"]["name"]}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"],
                                    "namespace": RELEASE_NAMESPACE}]
    # cluster-scoped names carry the release namespace: two releases never collide
    assert role["metadata"]["name"] == f"kubetune-{RELEASE_NAMESPACE}"
    args = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--all-namespaces" in args and not any(a.startswith("--namespace") for a in args)


def test_namespaced_mode_uses_roles_and_keeps_only_scanning_reads_cluster_wide(render):
    objects = render(*NAMESPACED_VALUES)
    sa = one(objects, "ServiceAccount")
    cluster_role = one(objects, "ClusterRole")
    assert rule_triples(cluster_role["rules"]) == triples({**CRD_RULES, **NAMESPACE_RULES})
    roles = {r["metadata"]["namespace"]: r for r in by_kind(objects, "Role")}
    bindings = {b["metadata"]["namespace"]: b for b in by_kind(objects, "RoleBinding")}
    assert set(roles) == set(bindings) == {"team-a", "team-b"}
    for ns, role in roles.items():
        assert not wildcards(role["rules"]), role["rules"]
        assert rule_triples(role["rules"]) == triples(NAMESPACED_RULES)
        assert bindings[ns]["roleRef"]["name"] == role["metadata"]["name"]
        assert bindings[ns]["subjects"] == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"],
                                             "namespace": RELEASE_NAMESPACE}]
    args = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert [a for a in args if a.startswith("--namespace")] == ["--namespace=team-a", "--namespace=team-b"]
    assert "--all-namespaces" not in args


def test_no_rbac_when_disabled(render):
    kinds = {o["kind"] for o in render("--set", "rbac.create=false", "--set", "serviceAccount.create=false",
                                       "--set", "serviceAccount.name=mine")}
    assert kinds == {"Deployment"}


def test_deployment_is_hardened_single_replica_with_probes(render):
    deploy = one(render(), "Deployment")
    spec = deploy["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == "kubetune"
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": OPERATOR_UID, "runAsGroup": OPERATOR_UID,
                                      "seccompProfile": {"type": "RuntimeDefault"}}
    [c] = pod["containers"]
    assert c["image"] == "docker.io/kubetune/operator:0.1.0"
    assert c["imagePullPolicy"] == "IfNotPresent"
    assert "command" not in c, "the image's entrypoint is python3 -m kubetune.operator"
    assert c["args"] == ["--all-namespaces", "--liveness=http://0.0.0.0:8080/healthz", "--log-format=full"]
    assert c["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}}
    assert c["resources"]["requests"] and c["resources"]["limits"]
    assert c["ports"] == [{"name": "health", "containerPort": 8080, "protocol": "TCP"}]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert c[probe]["httpGet"] == {"path": "/healthz", "port": "health"}, probe
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["HOME"] == env["TMPDIR"] == "/tmp" and env["KUBETUNE_LOG_LEVEL"] == "INFO"
    assert c["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]


@pytest.mark.parametrize("level,flag", [("debug", "--verbose"), ("info", None), ("warning", "--quiet")])
def test_log_level_and_format(render, level, flag):
    [c] = one(render("--set", f"logLevel={level}", "--set", "logFormat=json"),
              "Deployment")["spec"]["template"]["spec"]["containers"]
    assert "--log-format=json" in c["args"]
    assert [a for a in c["args"] if a in ("--verbose", "--quiet")] == ([flag] if flag else [])
    assert {"name": "KUBETUNE_LOG_LEVEL", "value": level.upper()} in c["env"]


def test_image_values(render):
    [c] = one(render("--set", "image.repository=registry.example/kt", "--set-string", "image.tag=1.2",
                     "--set", "image.pullPolicy=Always"), "Deployment")["spec"]["template"]["spec"]["containers"]
    assert (c["image"], c["imagePullPolicy"]) == ("registry.example/kt:1.2", "Always")


@pytest.mark.parametrize("bad,field", [
    ("replicaCount=2", "replicaCount"),
    ("logFormat=xml", "logFormat"),
    ("logLevel=trace", "logLevel"),
    ("watchNamespaces={Team_A}", "watchNamespaces"),
    ("image.pullPolicy=Sometimes", "pullPolicy"),
    ("healthPort=80", "healthPort"),
    ("replicas=1", "replicas"),                      # an unknown key (typo of replicaCount)
])
def test_schema_rejects_bad_values(helm, bad, field):
    proc = helm("template", "kubetune", str(CHART), "--set", bad, check=False)
    assert proc.returncode != 0, f"--set {bad} was accepted"
    assert "values don't meet the specifications of the schema" in proc.stderr, proc.stderr
    assert field in proc.stderr, proc.stderr


def test_values_schema_covers_every_default_value():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert set(values) <= set(schema["properties"]), set(values) - set(schema["properties"])


def test_operator_dockerfile_is_multistage_nonroot_and_matches_the_chart():
    dockerfile = (REPO / "operator" / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim" in dockerfile
    assert re.search(r"^ARG TORCH_INDEX_URL=$", dockerfile, re.M)
    stages = re.split(r"^FROM ", dockerfile, flags=re.M)[1:]
    final = stages[-1]
    assert final.startswith("${BASE_IMAGE}\n"), "the runtime stage starts from the bare base image"
    code = "\n".join(line for line in final.splitlines() if not line.lstrip().startswith("#"))
    assert "python3-venv" not in code and "pip install" not in code, "no build tools in the runtime stage"
    assert re.search(rf"^USER {OPERATOR_UID}:{OPERATOR_UID}$", final, re.M)
    assert 'ENTRYPOINT ["python3", "-m", "kubetune.operator"]' in final
    assert "PYTHONDONTWRITEBYTECODE=1" in final and "HOME=/tmp" in final
    # the build context is the repository root: only what the image installs may go in
    ignore = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert ignore[0] == "*", ignore
    assert {line for line in ignore if line.startswith("!")} <= {"!pyproject.toml", "!README.md", "!operator/kubetune"}
