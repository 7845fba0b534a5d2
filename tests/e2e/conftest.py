"""Fixtures for the chart and end-to-end tests (issue 6): the pinned helm binary and chart rendering.

helm is the binary hack/build-bins.sh builds into $KUBETUNE_CACHE/bin/helm-<HELM_VERSION>/ (make
cluster-bins, make helm). If it is missing, the ``helm`` fixture builds it (cached; a failed build is
an error, never a skip). Chart tests without the ``cluster`` mark need nothing else.
"""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e_helpers import CHART, RELEASE_NAMESPACE, REPO, helm_path


@pytest.fixture(scope="session")
def helm_bin() -> Path:
    path = helm_path()
    if not path.exists():
        print(f"\n[helm] {path} missing: running hack/build-bins.sh helm", flush=True)
        proc = subprocess.run([str(REPO / "hack" / "build-bins.sh"), "helm"], cwd=REPO)
        if proc.returncode != 0 or not path.exists():
            pytest.fail(f"hack/build-bins.sh helm failed (rc={proc.returncode}); no helm at {path}", pytrace=False)
    return path


@pytest.fixture(scope="session")
def helm(helm_bin):
    """``helm(*args, check=True, timeout=300)`` -> CompletedProcess (text), run in the repository root."""

    def run(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        cmd = [str(helm_bin), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
        return proc

    return run


@pytest.fixture(scope="session")
def render(helm):
    """``render(*helm_template_args, namespace=...)`` -> the rendered objects as dicts (CRDs only with
    ``--include-crds``)."""

    def _render(*args: str, namespace: str = RELEASE_NAMESPACE) -> list[dict[str, Any]]:
        out = helm("template", "kubetune", str(CHART), "--namespace", namespace, *args).stdout
        return [doc for doc in yaml.safe_load_all(out) if doc]

    return _render
