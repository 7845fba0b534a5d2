"""How hyperparameters reach the trainer: the trial Pod (operator) and the trial process (local).

Two equivalent channels, both always present, so a trainer can use whichever it likes:
- appended to the primary container's ``args`` as ``--name value`` (argparse convention), static
  hyperparameters first, then the tuned ones;
- environment variables ``HP_<NAME>`` (upper-cased, non-alphanumerics → ``_``) plus
  ``KUBETUNE_HYPERPARAMETERS`` holding all of them as JSON. Because they are set on the
  container, a template may instead reference ``$(HP_LEARNING_RATE)`` in its own args and let
  Kubernetes expand it (the local runner expands it the same way).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

from kubetune.errors import SpecError
from kubetune.space import Hyperparameters
from kubetune.spec import TrialTemplate, env_name, format_value
from kubetune.trials import Trial

GROUP = "kubetune.io"
JOB_LABEL = f"{GROUP}/tuningjob"
TRIAL_LABEL = f"{GROUP}/trial"
INDEX_LABEL = f"{GROUP}/trial-index"
HYPERPARAMETERS_ANNOTATION = f"{GROUP}/hyperparameters"
HYPERPARAMETERS_ENV = "KUBETUNE_HYPERPARAMETERS"
_REFERENCE = re.compile(r"\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)")


def all_hyperparameters(static: Mapping[str, str], tuned: Hyperparameters) -> dict[str, str]:
    """Static then tuned hyperparameters, every value in its command-line form."""
    return {**static, **{name: format_value(value) for name, value in tuned.items()}}


def hyperparameter_args(values: Mapping[str, str]) -> list[str]:
    return [item for name, value in values.items() for item in (f"--{name}", value)]


def hyperparameter_env(values: Mapping[str, str]) -> list[dict[str, str]]:
    env = [{"name": env_name(name), "value": value} for name, value in values.items()]
    return env + [{"name": HYPERPARAMETERS_ENV, "value": json.dumps(dict(values), sort_keys=True)}]


def expand_references(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion: defined variables are replaced, ``$$`` escapes, the rest stays."""
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))
    return _REFERENCE.sub(replace, text)


def primary_container(pod_spec: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in pod_spec["containers"] if c["name"] == name)


def render_pod(job: str, trial: Trial, template: TrialTemplate, static: Mapping[str, str]) -> dict[str, Any]:
    """The trial's Pod manifest (without owner reference and namespace, which the operator adds)."""
    values = all_hyperparameters(static, trial.hyperparameters)
    spec = copy.deepcopy(template.spec)
    spec["restartPolicy"] = "Never"
    container = primary_container(spec, template.primary_container)
    container["args"] = list(container.get("args") or []) + hyperparameter_args(values)
    container["env"] = hyperparameter_env(values) + list(container.get("env") or [])
    metadata = copy.deepcopy(template.metadata)
    metadata["name"] = trial.name
    metadata["labels"] = {**(metadata.get("labels") or {}), JOB_LABEL: job, TRIAL_LABEL: trial.name,
                          INDEX_LABEL: str(trial.index)}
    metadata["annotations"] = {**(metadata.get("annotations") or {}),
                               HYPERPARAMETERS_ANNOTATION: json.dumps(trial.hyperparameters, sort_keys=True)}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def local_invocation(trial: Trial, template: TrialTemplate, static: Mapping[str, str],
                     command: list[str] | None) -> tuple[list[str], dict[str, str]]:
    """argv and extra environment for running the trial as a host process.

    ``command`` replaces the container's ``command`` (an image path such as ``/app/train.py`` does
    not exist on the host); the container's args and literal env values are kept, and the
    hyperparameters are added exactly as in the Pod.
    """
    values = all_hyperparameters(static, trial.hyperparameters)
    container = primary_container(template.spec, template.primary_container)
    env = {e["name"]: e["value"] for e in hyperparameter_env(values)}
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = expand_references(str(item["value"]), env)
    base = command if command is not None else list(container.get("command") or [])
    if not base:
        raise SpecError("spec.trialTemplate.spec.containers",
                        f"container {template.primary_container!r} has no command; pass --command for a local run")
    args = [expand_references(str(a), env) for a in container.get("args") or []]
    return base + args + hyperparameter_args(values), env
