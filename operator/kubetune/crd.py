"""The TuningJob CustomResourceDefinition, generated from the spec model's field table.

``crds/tuningjob.yaml`` is this module's output (``python -m kubetune.crd > crds/tuningjob.yaml``);
a unit test fails when the two differ, and generation fails when a field of ``spec.FIELDS`` has
no schema here — so the API server and the Python parser cannot drift apart.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml

from kubetune.space import INTEGER_SCALINGS, SCALINGS
from kubetune.spec import API_VERSION, FIELDS, KIND, OBJECTIVE_TYPES, STRATEGIES

GROUP, VERSION = API_VERSION.split("/")
PLURAL = "tuningjobs"
FREE_FORM = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
SCALAR = {"x-kubernetes-preserve-unknown-fields": True}  # a number, string or boolean (the parser checks)
HYPERPARAMETERS = {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                   "description": "name → value (number, string or boolean)"}


def _number(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "number", "description": description, **extra}


def _integer(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "integer", "description": description, **extra}


def _string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


# Leaves of the spec, by path. Objects and lists of objects come from spec.FIELDS.
LEAVES: dict[str, dict[str, Any]] = {
    "spec.strategy": _string("Search strategy.", enum=list(STRATEGIES), default="Bayesian"),
    "spec.objective.metric": _string("Name of the metric to optimise; must be in metricDefinitions."),
    "spec.objective.type": _string("Whether to maximise or minimise the metric.", enum=list(OBJECTIVE_TYPES)),
    "spec.metricDefinitions[].name": _string("Metric name.", minLength=1),
    "spec.metricDefinitions[].regex": _string(
        "Python regex with one capture group holding the number; the last match in the log counts.", minLength=1),
    "spec.hyperparameterRanges.continuous[].name": _string("Hyperparameter name (the trainer sees --name value).",
                                                           minLength=1),
    "spec.hyperparameterRanges.continuous[].min": _number("Lower bound."),
    "spec.hyperparameterRanges.continuous[].max": _number("Upper bound (must exceed min)."),
    "spec.hyperparameterRanges.continuous[].scaling": _string(
        "Auto: logarithmic when min > 0 and the range spans >= 3 decades, else linear.", enum=list(SCALINGS)),
    "spec.hyperparameterRanges.continuous[].gridPoints": _integer("Points tried by the Grid strategy.", minimum=1),
    "spec.hyperparameterRanges.integer[].name": _string("Hyperparameter name.", minLength=1),
    "spec.hyperparameterRanges.integer[].min": _integer("Lower bound (inclusive)."),
    "spec.hyperparameterRanges.integer[].max": _integer("Upper bound (inclusive)."),
    "spec.hyperparameterRanges.integer[].scaling": _string("Scaling.", enum=list(INTEGER_SCALINGS)),
    "spec.hyperparameterRanges.integer[].gridPoints": _integer("Points tried by Grid (default: every integer).",
                                                               minimum=1),
    "spec.hyperparameterRanges.categorical[].name": _string("Hyperparameter name.", minLength=1),
    "spec.hyperparameterRanges.categorical[].values": {
        "type": "array", "minItems": 1, "description": "The choices (strings, numbers or booleans).",
        "items": {**SCALAR}},
    "spec.staticHyperparameters": {"type": "object", "description": "Passed unchanged to every trial.",
                                   "additionalProperties": {**SCALAR}},
    "spec.resourceLimits.maxTrials": _integer("Trial budget (stopped trials do not count).", minimum=1),
    "spec.resourceLimits.maxParallelTrials": _integer("At most this many trial Pods at once (Pending included).",
                                                      minimum=1),
    "spec.resourceLimits.maxFailedTrials": _integer("The job fails at this many failed trials "
                                                    "(default max(3, maxTrials/2)).", minimum=1),
    "spec.resourceLimits.maxRuntimeSeconds": _number("Stop the whole job after this long.", exclusiveMinimum=True,
                                                     minimum=0),
    "spec.resourceLimits.maxTrialRuntimeSeconds": _number("Fail a trial running longer than this.",
                                                          exclusiveMinimum=True, minimum=0),
    "spec.completionCriteria.targetObjectiveValue": _number("Stop once a trial reaches this value."),
    "spec.completionCriteria.maxTrialsWithoutImprovement": _integer(
        "Stop after this many succeeded trials without a new best.", minimum=1),
    "spec.randomSeed": _integer("Same seed and same results give the same proposals.", minimum=0),
    "spec.trialTemplate.primaryContainer": _string("Container that trains (default: the first)."),
    "spec.trialTemplate.metadata": {**FREE_FORM, "description": "Labels and annotations for trial Pods."},
    "spec.trialTemplate.spec": {**FREE_FORM, "description": "A Pod spec; hyperparameters are appended to the "
                                "primary container's args and set as HP_* env vars.", "required": ["containers"]},
    "spec.suspend": {"type": "boolean", "description": "Stop running trials (results kept); false continues."},
}
REQUIRED: dict[str, list[str]] = {
    "spec": ["objective", "metricDefinitions", "hyperparameterRanges", "resourceLimits", "trialTemplate"],
    "spec.objective": ["metric", "type"],
    "spec.metricDefinitions[]": ["name", "regex"],
    "spec.hyperparameterRanges.continuous[]": ["name", "min", "max"],
    "spec.hyperparameterRanges.integer[]": ["name", "min", "max"],
    "spec.hyperparameterRanges.categorical[]": ["name", "values"],
    "spec.resourceLimits": ["maxTrials", "maxParallelTrials"],
    "spec.trialTemplate": ["spec"],
}
DESCRIPTIONS: dict[str, str] = {
    "spec": "What to tune, how, and within which limits.",
    "spec.objective": "The metric to optimise.",
    "spec.metricDefinitions": "Metrics scraped from each trial's log.",
    "spec.hyperparameterRanges": "The search space.",
    "spec.hyperparameterRanges.continuous": "Real-valued ranges.",
    "spec.hyperparameterRanges.integer": "Integer ranges.",
    "spec.hyperparameterRanges.categorical": "Choices.",
    "spec.resourceLimits": "Trial budget, parallelism and time limits.",
    "spec.completionCriteria": "Early ends of the job.",
    "spec.trialTemplate": "The Pod template of each trial.",
}

TRIAL_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"}, "index": {"type": "integer"}, "hyperparameters": HYPERPARAMETERS,
        "state": {"type": "string", "enum": ["Pending", "Running", "Succeeded", "Failed", "Stopped"]},
        "objective": {"type": "number"},
        "metrics": {"type": "object", "additionalProperties": {"type": "number"}},
        "startTime": {"type": "string", "format": "date-time"},
        "endTime": {"type": "string", "format": "date-time"},
        "reason": {"type": "string"}, "message": {"type": "string"},
    },
}
STATUS_SCHEMA = {
    "type": "object",
    "description": "Written by the operator only: the job's whole state (the operator keeps nothing else).",
    "properties": {
        "state": {"type": "string", "enum": ["Pending", "Running", "Suspended", "Completed", "Failed", "Stopped"]},
        "reason": {"type": "string"}, "message": {"type": "string"},
        "randomSeed": {"type": "integer"},
        "startTime": {"type": "string", "format": "date-time"},
        "completionTime": {"type": "string", "format": "date-time"},
        "progress": {"type": "string", "description": "finished/maxTrials"},
        **{key: {"type": "integer"} for key in ("trialsSucceeded", "trialsFailed", "trialsRunning",
                                                 "trialsPending", "trialsStopped")},
        "bestObjective": {"type": "number"},
        "bestTrial": {"type": "object", "properties": {"name": {"type": "string"}, "objective": {"type": "number"},
                                                        "hyperparameters": HYPERPARAMETERS}},
        "conditions": {"type": "array", "items": {"type": "object", "properties": {
            key: {"type": "string"} for key in ("type", "status", "reason", "message", "lastTransitionTime")}}},
        "trials": {"type": "array", "items": TRIAL_SCHEMA},
        "kopf": FREE_FORM,
    },
}
PRINTER_COLUMNS = [
    {"name": "Strategy", "type": "string", "jsonPath": ".spec.strategy"},
    {"name": "Metric", "type": "string", "jsonPath": ".spec.objective.metric"},
    {"name": "Best", "type": "number", "jsonPath": ".status.bestObjective"},
    {"name": "Trials", "type": "string", "jsonPath": ".status.progress", "description": "finished/max"},
    {"name": "Running", "type": "integer", "jsonPath": ".status.trialsRunning"},
    {"name": "State", "type": "string", "jsonPath": ".status.state"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


def _schema(path: str) -> dict[str, Any]:
    """The schema of the object at ``path`` (a key of FIELDS)."""
    properties: dict[str, Any] = {}
    for name in FIELDS[path]:
        child = f"{path}.{name}"
        if child in LEAVES:
            properties[name] = LEAVES[child]
        elif f"{child}[]" in FIELDS:
            properties[name] = {"type": "array", "items": _schema(f"{child}[]")}
        elif child in FIELDS:
            properties[name] = _schema(child)
        else:
            raise KeyError(f"no CRD schema for {child}: add it to kubetune.crd.LEAVES")
        if child in DESCRIPTIONS:
            properties[name]["description"] = DESCRIPTIONS[child]
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if path in REQUIRED:
        schema["required"] = REQUIRED[path]
    return schema


def tuningjob_crd() -> dict[str, Any]:
    spec_schema = _schema("spec")
    spec_schema["description"] = DESCRIPTIONS["spec"]
    spec_schema["properties"]["metricDefinitions"]["minItems"] = 1
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"kind": KIND, "listKind": f"{KIND}List", "plural": PLURAL, "singular": "tuningjob",
                      "shortNames": ["tj"], "categories": ["kubetune"]},
            "versions": [{
                "name": VERSION, "served": True, "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": PRINTER_COLUMNS,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "description": "A hyperparameter tuning job: trials run as Pods until the budget is spent.",
                    "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                   "metadata": {"type": "object"}, "spec": spec_schema, "status": STATUS_SCHEMA},
                    "required": ["spec"],
                }},
            }],
        },
    }


def render() -> str:
    header = "# Generated by `python -m kubetune.crd` from kubetune.spec — do not edit by hand.\n"
    return header + yaml.safe_dump(tuningjob_crd(), sort_keys=False, width=110)


if __name__ == "__main__":
    sys.stdout.write(render())
