"""Shared test helpers: a valid TuningJob manifest to mutate, and the synthetic trainer's path."""

from __future__ import annotations

import copy
import sys
from typing import Any

import pytest

from support import BASE_MANIFEST, SYNTHETIC_TRAINER

# The real local cluster (make cluster-up) for tests marked `cluster`.
pytest_plugins = ["cluster_fixtures"]


@pytest.fixture
def manifest() -> dict[str, Any]:
    """A fresh, valid TuningJob manifest (Branin over x, y) that a test may change."""
    return copy.deepcopy(BASE_MANIFEST)


@pytest.fixture
def local_command() -> list[str]:
    """The host command that stands in for the container's command in local runs."""
    return [sys.executable, str(SYNTHETIC_TRAINER)]
