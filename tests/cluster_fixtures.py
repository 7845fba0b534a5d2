"""pytest plugin: the real local Kubernetes cluster (issue 4) for integration tests.

Register it once in tests/conftest.py with ``pytest_plugins = ["cluster_fixtures"]`` (tests/ on sys.path)
— tests/cluster/conftest.py loads it too until then.

Fixtures
  kube_cluster   session: makes sure the cluster runs (``make cluster-up`` if it does not) and yields
                 the admin kubeconfig path (also exported as $KUBECONFIG for the session).
  kubectl        session: ``kubectl(*args, input=None, check=True, timeout=120)`` -> CompletedProcess,
                 already pointed at that kubeconfig.
  kube_namespace function: a fresh namespace, deleted afterwards.

Tests that need the cluster are marked ``@pytest.mark.cluster``. They are skipped only when asked
explicitly with KUBETUNE_SKIP_CLUSTER=1, with a reason saying so and a warning in the terminal
summary. A cluster that fails to start is an error, never a skip.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
KUBECONFIG = REPO / ".cluster" / "kubeconfig"
SKIP_ENV = "KUBETUNE_SKIP_CLUSTER"
SKIP_REASON = f"{SKIP_ENV}=1 was set: real-cluster tests explicitly skipped (NOT run)"
NODE_NAME = os.environ.get("KUBETUNE_NODE_NAME", "kubetune-node")
TEST_IMAGE = "docker.io/kubetune/testbox:0.1.0"


def wait_until(fn, timeout=120.0, interval=1.0, what="condition"):
    """Poll fn() until it returns something truthy (returned); AssertionError after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def get_json(kubectl, *args):
    """``kubectl get ARGS -o json``, parsed."""
    return json.loads(kubectl("get", *args, "-o", "json").stdout)


def _skip_requested() -> bool:
    return os.environ.get(SKIP_ENV, "") not in ("", "0")


def kubectl_path() -> str:
    """kubectl from the version-keyed cache that hack/build-bins.sh fills, else from PATH."""
    versions = dict(
        line.split("=", 1)
        for line in (REPO / "hack" / "versions.env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    cache = Path(os.environ.get("KUBETUNE_CACHE", Path.home() / ".cache" / "kubetune"))
    cached = cache / "bin" / f"k8s-{versions['K8S_VERSION']}" / "kubectl"
    if cached.exists():
        return str(cached)
    found = shutil.which("kubectl")
    if not found:
        raise RuntimeError(f"kubectl not found at {cached} nor on PATH (run make cluster-up)")
    return found


def _run_kubectl(*args: str, input: str | None = None, check: bool = True, timeout: float = 120):
    cmd = [kubectl_path(), "--kubeconfig", str(KUBECONFIG), *args]
    proc = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc


def _cluster_ready() -> bool:
    if not KUBECONFIG.exists():
        return False
    try:
        p = _run_kubectl(
            "get", "node", NODE_NAME, "-o",
            "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
            check=False, timeout=20,
        )
    except (subprocess.TimeoutExpired, RuntimeError):
        return False
    return p.returncode == 0 and p.stdout.strip() == "True"


_skipped_by_request: set[str] = set()


def pytest_configure(config):
    config.addinivalue_line("markers", "cluster: needs the real local Kubernetes cluster (make cluster-up)")


def pytest_collection_modifyitems(config, items):
    if not _skip_requested():
        return
    marker = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if "cluster" in item.keywords:
            item.add_marker(marker)


def pytest_runtest_logreport(report):
    # Marked tests and tests that reach the kube_cluster fixture alike.
    if report.skipped and SKIP_REASON in str(report.longrepr):
        _skipped_by_request.add(report.nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    n = len(_skipped_by_request)
    if n:
        terminalreporter.section("KUBETUNE CLUSTER TESTS SKIPPED", sep="!", red=True, bold=True)
        terminalreporter.line(
            f"WARNING: {n} real-cluster test(s) were NOT run because {SKIP_ENV} is set. "
            "Unset it (make test) to run them.", red=True, bold=True,
        )


@pytest.fixture(scope="session")
def kube_cluster() -> str:
    if _skip_requested():
        pytest.skip(SKIP_REASON)
    if not _cluster_ready():
        make = shutil.which("make") or "make"
        print(f"\n[kube_cluster] cluster not ready: running make cluster-up in {REPO}", flush=True)
        proc = subprocess.run([make, "cluster-up"], cwd=REPO)
        if proc.returncode != 0 or not _cluster_ready():
            pytest.fail(f"make cluster-up failed (rc={proc.returncode}); see {REPO}/.cluster/logs/", pytrace=False)
    os.environ["KUBECONFIG"] = str(KUBECONFIG)
    return str(KUBECONFIG)


@pytest.fixture(scope="session")
def kubectl(kube_cluster):
    return _run_kubectl


@pytest.fixture
def kube_namespace(kubectl):
    name = f"kt-test-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    # The ServiceAccount controller creates "default" asynchronously; pods need it. Polled with get:
    # `kubectl wait` on a named object that does not exist yet fails at once with NotFound (once in CI).
    wait_until(lambda: kubectl("get", "serviceaccount", "default", "-n", name, check=False).returncode == 0,
               timeout=180, interval=0.5, what=f"ServiceAccount 'default' in namespace {name}")
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)
