"""Plain helpers for tests/e2e (importable: pytest puts tests/e2e on sys.path)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "kubetune"
RELEASE_NAMESPACE = "kubetune-system"
OPERATOR_UID = 10001

# The operator's API access, as the contract of issue 5/6 states it: (apiGroup, resource, verbs).
NAMESPACED_RULES = {
    ("kubetune.io", "tuningjobs"): {"get", "list", "watch", "patch"},
    ("kubetune.io", "tuningjobs/status"): {"get", "patch", "update"},
    ("", "pods"): {"get", "list", "watch", "create", "delete"},
    ("", "pods/log"): {"get"},
    ("", "events"): {"create", "patch"},
    ("events.k8s.io", "events"): {"create"},
}
CRD_RULES = {("apiextensions.k8s.io", "customresourcedefinitions"): {"get", "list", "watch"}}
NAMESPACE_RULES = {("", "namespaces"): {"list", "watch"}}


def versions() -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in (REPO / "hack" / "versions.env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )


def helm_path() -> Path:
    cache = Path(os.environ.get("KUBETUNE_CACHE", Path.home() / ".cache" / "kubetune"))
    return cache / "bin" / f"helm-{versions()['HELM_VERSION']}" / "helm"


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = by_kind(objects, kind)
    assert len(found) == 1, f"expected one {kind}, got {[o['metadata']['name'] for o in found]}"
    return found[0]


def triples(rules_by_resource: dict[tuple[str, str], set[str]]) -> set[tuple[str, str, str]]:
    return {(g, r, v) for (g, r), verbs in rules_by_resource.items() for v in verbs}


def rule_triples(rules: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """RBAC rules as a set of (apiGroup, resource, verb)."""
    return {(g, r, v) for rule in rules for g in rule.get("apiGroups", [])
            for r in rule.get("resources", []) for v in rule.get("verbs", [])}


def wildcards(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rules that use '*' anywhere, or grant by resourceNames/nonResourceURLs (neither is needed)."""
    return [rule for rule in rules
            if any("*" in item for key in ("apiGroups", "resources", "verbs") for item in rule.get(key, []))
            or rule.get("nonResourceURLs")]


def container_args(args: list[str]) -> dict[str, str]:
    """``--name value`` / ``--name=value`` pairs of a container's args."""
    out: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--") and "=" in arg:
            name, value = arg[2:].split("=", 1)
            out[name] = value
        elif arg.startswith("--") and i + 1 < len(args) and not args[i + 1].startswith("--"):
            out[arg[2:]] = args[i + 1]
            i += 1
        i += 1
    return out
