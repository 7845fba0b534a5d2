"""Hyperparameters reach the trainer as --name value args and as HP_* env vars, in Pods and locally."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubetune import SpecError, parse_tuningjob
from kubetune.template import (
    HYPERPARAMETERS_ANNOTATION,
    JOB_LABEL,
    TRIAL_LABEL,
    expand_references,
    local_invocation,
    render_pod,
)
from kubetune.trials import Trial

TRIAL = Trial("branin-4", 4, {"x": 1.5, "y": 2.0})


def test_render_pod(manifest: dict[str, Any]) -> None:
    manifest["spec"]["trialTemplate"]["metadata"] = {"labels": {"team": "ml"}}
    manifest["spec"]["trialTemplate"]["spec"]["containers"][0]["args"] = ["--dataset", "digits"]
    manifest["spec"]["trialTemplate"]["spec"]["containers"].append({"name": "sidecar", "image": "busybox"})
    spec = parse_tuningjob(manifest).spec
    pod = render_pod("branin", TRIAL, spec.trial_template, spec.static_hyperparameters)
    assert pod["metadata"]["name"] == "branin-4"
    assert pod["metadata"]["labels"] == {"team": "ml", JOB_LABEL: "branin", TRIAL_LABEL: "branin-4",
                                         "kubetune.io/trial-index": "4"}
    assert json.loads(pod["metadata"]["annotations"][HYPERPARAMETERS_ANNOTATION]) == {"x": 1.5, "y": 2.0}
    assert pod["spec"]["restartPolicy"] == "Never"
    trainer, sidecar = pod["spec"]["containers"]
    assert trainer["args"] == ["--dataset", "digits", "--epochs", "3", "--x", "1.5", "--y", "2.0"]
    env = {e["name"]: e["value"] for e in trainer["env"]}
    assert env["HP_X"] == "1.5" and env["HP_EPOCHS"] == "3"
    assert json.loads(env["KUBETUNE_HYPERPARAMETERS"]) == {"epochs": "3", "x": "1.5", "y": "2.0"}
    assert "args" not in sidecar and "env" not in sidecar
    # the template itself is untouched
    assert "env" not in spec.trial_template.spec["containers"][0]


def test_local_invocation_replaces_command_and_expands_references(manifest: dict[str, Any]) -> None:
    container = manifest["spec"]["trialTemplate"]["spec"]["containers"][0]
    container["args"] = ["--lr=$(HP_X)", "$$(HP_X)"]
    container["env"] = [{"name": "MODE", "value": "fast-$(HP_Y)"}]
    spec = parse_tuningjob(manifest).spec
    argv, env = local_invocation(TRIAL, spec.trial_template, spec.static_hyperparameters, ["python", "train.py"])
    assert argv == ["python", "train.py", "--lr=1.5", "$(HP_X)", "--epochs", "3", "--x", "1.5", "--y", "2.0"]
    assert env["MODE"] == "fast-2.0" and env["HP_Y"] == "2.0"


def test_local_invocation_needs_a_command(manifest: dict[str, Any]) -> None:
    del manifest["spec"]["trialTemplate"]["spec"]["containers"][0]["command"]
    spec = parse_tuningjob(manifest).spec
    with pytest.raises(SpecError, match="--command"):
        local_invocation(TRIAL, spec.trial_template, spec.static_hyperparameters, None)


def test_expand_references_leaves_unknown_variables() -> None:
    assert expand_references("$(A) $(B) $$ $", {"A": "1"}) == "1 $(B) $ $"
