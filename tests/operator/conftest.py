"""Fixtures for operator tests on the real cluster: the CRD, the operator process, the trainer ConfigMap."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from operator_harness import OperatorProcess

from support import ROOT, SYNTHETIC_TRAINER


@pytest.fixture(scope="session")
def crd(kubectl: Callable[..., Any]) -> None:
    kubectl("apply", "-f", str(ROOT / "crds" / "tuningjob.yaml"))
    kubectl("wait", "--for=condition=Established", "crd/tuningjobs.kubetune.io", "--timeout=60s")


@pytest.fixture
def operator(crd: None, kube_namespace: str, tmp_path: Path) -> Iterator[OperatorProcess]:
    process = OperatorProcess(kube_namespace, tmp_path / "operator.log")
    process.start()
    yield process
    process.stop()
    print(f"operator log: {process.log_path}\n" + process.log_path.read_text()[-4000:])


@pytest.fixture
def synthetic_trainer(kubectl: Callable[..., Any], kube_namespace: str) -> None:
    kubectl("create", "configmap", "synthetic-trainer", "-n", kube_namespace, f"--from-file={SYNTHETIC_TRAINER}")
