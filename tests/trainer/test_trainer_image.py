"""The CPU trainer image: built the project's way (`make images`, buildah, no Docker daemon), it runs
the same 2-epoch digits smoke test inside a container and carries no build tools or caches.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest
from trainer_harness import ROOT, SmokeRunner

pytestmark = [pytest.mark.image, pytest.mark.slow]

IMAGE = "docker.io/kubetune/trainer:0.1.0"
BUILD_TIMEOUT_S = 1800  # a cold build downloads about 150 MB of wheels


@pytest.fixture(scope="module")
def container() -> Iterator[str]:
    """A working container of the trainer image, rebuilt first by `make images` if it is stale."""
    if shutil.which("buildah") is None:
        pytest.fail("buildah is not installed (hack/install-deps.sh installs it)")
    build = subprocess.run(["make", "--no-print-directory", "images"], cwd=ROOT, capture_output=True,
                           text=True, timeout=BUILD_TIMEOUT_S, check=False)
    assert build.returncode == 0, f"make images failed:\n{build.stdout}\n{build.stderr}"
    name = subprocess.run(["buildah", "from", "--pull=never", IMAGE], capture_output=True, text=True,
                          check=True).stdout.strip()
    yield name
    subprocess.run(["buildah", "rm", name], capture_output=True, check=False)


def in_container(container: str, *command: str) -> list[str]:
    """``command`` run inside ``container``; chroot isolation needs no OCI runtime or cgroup setup."""
    return ["buildah", "run", "--isolation", "chroot", container, "--", *command]


def test_smoke_run_in_container_learns(smoke: SmokeRunner, container: str) -> None:
    # The TuningJob examples run the image as `python3 /app/cifar10.py ARGS`.
    run = smoke(in_container(container, "python3", "/app/cifar10.py"))
    assert run.learned, run.describe()


def test_image_has_no_pip_or_caches(container: str) -> None:
    check = "! python3 -m pip --version && ! test -e /root/.cache && test -z \"$(ls /var/lib/apt/lists)\""
    done = subprocess.run(in_container(container, "sh", "-c", check), capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
