"""The TuningJob spec: one typed model, parsed and validated from the YAML users ``kubectl apply``.

Parsing never half-succeeds: the first problem raises a ``SpecError`` whose field path points at it
(``spec.resourceLimits.maxParallelTrials: must be >= 1``). Unknown keys are errors too, so a typo
such as ``maxTrail`` is not silently ignored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kubetune.errors import SpecError
from kubetune.space import (
    CategoricalParameter,
    ContinuousParameter,
    IntegerParameter,
    Parameter,
    SearchSpace,
    Value,
)

API_VERSION = "kubetune.io/v1alpha1"
KIND = "TuningJob"
STRATEGIES = ("Bayesian", "Random", "Grid")
OBJECTIVE_TYPES = ("Maximize", "Minimize")
PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# Trial Pods are named "<job>-<index>"; leave room for the index within the 63-char label limit.
MAX_JOB_NAME = 52


# The fields each part of the spec accepts, by path ("[]" marks list items). The parser rejects
# anything else, and the CRD's schema is generated from this same table (kubetune.crd).
FIELDS: dict[str, tuple[str, ...]] = {
    "spec": ("strategy", "objective", "metricDefinitions", "hyperparameterRanges",
             "staticHyperparameters", "resourceLimits", "completionCriteria", "randomSeed",
             "trialTemplate", "suspend"),
    "spec.objective": ("metric", "type"),
    "spec.metricDefinitions[]": ("name", "regex"),
    "spec.hyperparameterRanges": ("continuous", "integer", "categorical"),
    "spec.hyperparameterRanges.continuous[]": ("name", "min", "max", "scaling", "gridPoints"),
    "spec.hyperparameterRanges.integer[]": ("name", "min", "max", "scaling", "gridPoints"),
    "spec.hyperparameterRanges.categorical[]": ("name", "values"),
    "spec.resourceLimits": ("maxTrials", "maxParallelTrials", "maxFailedTrials", "maxRuntimeSeconds",
                            "maxTrialRuntimeSeconds"),
    "spec.completionCriteria": ("targetObjectiveValue", "maxTrialsWithoutImprovement"),
    "spec.trialTemplate": ("primaryContainer", "metadata", "spec"),
}


def env_name(parameter: str) -> str:
    """The environment variable a hyperparameter is exposed as: ``learning_rate`` → ``HP_LEARNING_RATE``."""
    return "HP_" + re.sub(r"[^A-Za-z0-9_]", "_", parameter).upper()


@dataclass(frozen=True)
class MetricDefinition:
    name: str
    regex: str


@dataclass(frozen=True)
class ResourceLimits:
    max_trials: int
    max_parallel_trials: int
    max_failed_trials: int
    max_runtime_seconds: float | None = None
    max_trial_runtime_seconds: float | None = None


@dataclass(frozen=True)
class CompletionCriteria:
    target_objective_value: float | None = None
    max_trials_without_improvement: int | None = None


@dataclass(frozen=True)
class TrialTemplate:
    """A Pod template; hyperparameters are injected into ``primary_container`` (see ``template.py``)."""

    spec: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    primary_container: str = ""


@dataclass(frozen=True)
class TuningJobSpec:
    strategy: str
    objective_metric: str
    objective_type: str
    metric_definitions: tuple[MetricDefinition, ...]
    space: SearchSpace
    static_hyperparameters: dict[str, str]
    limits: ResourceLimits
    completion: CompletionCriteria
    trial_template: TrialTemplate
    random_seed: int | None = None
    suspend: bool = False

    @property
    def maximize(self) -> bool:
        return self.objective_type == "Maximize"


@dataclass(frozen=True)
class TuningJob:
    name: str
    namespace: str
    spec: TuningJobSpec
    manifest: dict[str, Any]


class _Fields:
    """Reads one mapping of the manifest while remembering where it is, for error messages."""

    def __init__(self, data: object, path: str, allowed: tuple[str, ...] | None = None) -> None:
        if not isinstance(data, Mapping):
            raise SpecError(path, f"must be a mapping, got {type(data).__name__}")
        self.data, self.path = data, path
        if allowed is not None:
            unknown = sorted(set(map(str, data)) - set(allowed))
            if unknown:
                raise SpecError(f"{path}.{unknown[0]}", f"unknown field (allowed: {', '.join(allowed)})")

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str, required: bool = False) -> Any:
        value = self.data.get(key)
        if value is None and required:
            raise SpecError(self.at(key), "is required")
        return value

    def string(self, key: str, required: bool = False, choices: tuple[str, ...] | None = None,
               default: str | None = None) -> str:
        value = self.raw(key, required)
        if value is None:
            return default or ""
        if not isinstance(value, str) or not value:
            raise SpecError(self.at(key), f"must be a non-empty string, got {value!r}")
        if choices is not None and value not in choices:
            raise SpecError(self.at(key), f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def integer(self, key: str, required: bool = False, minimum: int | None = None) -> int | None:
        value = self.raw(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(self.at(key), f"must be an integer, got {value!r}")
        if minimum is not None and value < minimum:
            raise SpecError(self.at(key), f"must be >= {minimum}, got {value}")
        return value

    def number(self, key: str, required: bool = False, positive: bool = False) -> float | None:
        value = self.raw(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise SpecError(self.at(key), f"must be a finite number, got {value!r}")
        if positive and value <= 0:
            raise SpecError(self.at(key), f"must be > 0, got {value}")
        return float(value)

    def child(self, key: str, allowed: tuple[str, ...] | None = None, required: bool = False) -> _Fields:
        return _Fields(self.raw(key, required) or {}, self.at(key), allowed)

    def items(self, key: str, allowed: tuple[str, ...]) -> list[_Fields]:
        value = self.raw(key) or []
        if not isinstance(value, list):
            raise SpecError(self.at(key), f"must be a list, got {type(value).__name__}")
        return [_Fields(item, f"{self.at(key)}[{i}]", allowed) for i, item in enumerate(value)]


def _parse_ranges(ranges: _Fields) -> tuple[SearchSpace, dict[str, str]]:
    parameters: dict[str, Parameter] = {}
    where: dict[str, str] = {}

    def add(name_fields: _Fields, build: Any) -> None:
        name = name_fields.string("name", required=True)
        if not PARAMETER_NAME.match(name):
            raise SpecError(name_fields.at("name"),
                            f"{name!r} must start with a letter or _ and use letters, digits, _ . -")
        clash = next((other for other in parameters if env_name(other) == env_name(name)), None)
        if clash is not None:
            raise SpecError(name_fields.at("name"), f"duplicate parameter name {name!r} (also {where[clash]})")
        try:
            parameters[name] = build()
        except SpecError as err:
            raise err.under(name_fields.path) from None
        where[name] = name_fields.path

    for item in ranges.items("continuous", FIELDS["spec.hyperparameterRanges.continuous[]"]):
        add(item, lambda f=item: ContinuousParameter(f.raw("min", True), f.raw("max", True),
                                                     f.raw("scaling") or "Auto", f.raw("gridPoints")))
    for item in ranges.items("integer", FIELDS["spec.hyperparameterRanges.integer[]"]):
        add(item, lambda f=item: IntegerParameter(f.raw("min", True), f.raw("max", True),
                                                  f.raw("scaling") or "Auto", f.raw("gridPoints")))
    for item in ranges.items("categorical", FIELDS["spec.hyperparameterRanges.categorical[]"]):
        add(item, lambda f=item: CategoricalParameter(f.raw("values", True)))
    try:
        return SearchSpace(parameters), where
    except SpecError as err:
        raise err.under(ranges.path) from None


def _parse_metrics(spec: _Fields) -> tuple[MetricDefinition, ...]:
    items = spec.items("metricDefinitions", FIELDS["spec.metricDefinitions[]"])
    if not items:
        raise SpecError(spec.at("metricDefinitions"), "must define at least one metric")
    seen: set[str] = set()
    definitions = []
    for item in items:
        name, regex = item.string("name", required=True), item.string("regex", required=True)
        if name in seen:
            raise SpecError(item.at("name"), f"duplicate metric name {name!r}")
        seen.add(name)
        try:
            groups = re.compile(regex).groups
        except re.error as err:
            raise SpecError(item.at("regex"), f"does not compile: {err}") from None
        if groups != 1:
            raise SpecError(item.at("regex"),
                            f"must have exactly one capture group holding the number, found {groups}")
        definitions.append(MetricDefinition(name, regex))
    return tuple(definitions)


def _parse_template(template: _Fields) -> TrialTemplate:
    pod_spec = template.raw("spec", required=True)
    if not isinstance(pod_spec, Mapping):
        raise SpecError(template.at("spec"), "must be a Pod spec mapping")
    containers = pod_spec.get("containers")
    if not isinstance(containers, list) or not containers:
        raise SpecError(template.at("spec.containers"), "must list at least one container")
    names = []
    for i, container in enumerate(containers):
        if not isinstance(container, Mapping) or not isinstance(container.get("name"), str):
            raise SpecError(template.at(f"spec.containers[{i}].name"), "is required")
        names.append(container["name"])
    primary = template.string("primaryContainer", default=names[0])
    if primary not in names:
        raise SpecError(template.at("primaryContainer"), f"{primary!r} is not a container of the template ({', '.join(names)})")
    metadata = template.raw("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise SpecError(template.at("metadata"), "must be a mapping")
    return TrialTemplate(spec=dict(pod_spec), metadata=dict(metadata), primary_container=primary)


def _parse_limits(limits: _Fields) -> ResourceLimits:
    max_trials = limits.integer("maxTrials", required=True, minimum=1)
    max_parallel = limits.integer("maxParallelTrials", required=True, minimum=1)
    assert max_trials is not None and max_parallel is not None
    max_failed = limits.integer("maxFailedTrials", minimum=1)
    return ResourceLimits(
        max_trials=max_trials,
        max_parallel_trials=max_parallel,
        # By default a job gives up once half its budget (at least 3 trials) has failed: some
        # divergent trials are normal in tuning, a template that always fails is not.
        max_failed_trials=max_failed if max_failed is not None else max(3, max_trials // 2),
        max_runtime_seconds=limits.number("maxRuntimeSeconds", positive=True),
        max_trial_runtime_seconds=limits.number("maxTrialRuntimeSeconds", positive=True),
    )




def parse_spec(data: object, path: str = "spec") -> TuningJobSpec:
    """Validate a TuningJob ``spec`` mapping into a ``TuningJobSpec``.

    Raises:
        SpecError: the first invalid field, named by its path.
    """
    spec = _Fields(data, path, FIELDS["spec"])
    strategy = spec.string("strategy", choices=STRATEGIES, default="Bayesian")
    objective = spec.child("objective", FIELDS["spec.objective"], required=True)
    metric = objective.string("metric", required=True)
    objective_type = objective.string("type", required=True, choices=OBJECTIVE_TYPES)
    metrics = _parse_metrics(spec)
    if metric not in {m.name for m in metrics}:
        raise SpecError(objective.at("metric"),
                        f"{metric!r} is not among metricDefinitions ({', '.join(m.name for m in metrics)})")
    ranges = spec.child("hyperparameterRanges", FIELDS["spec.hyperparameterRanges"], required=True)
    space, where = _parse_ranges(ranges)
    if strategy == "Grid":
        for name, param in space.parameters.items():
            if isinstance(param, ContinuousParameter) and param.grid_points is None:
                raise SpecError(f"{where[name]}.gridPoints",
                                "the Grid strategy needs a point count for continuous ranges")
    static = _parse_static(spec.child("staticHyperparameters"), space)
    completion = spec.child("completionCriteria", FIELDS["spec.completionCriteria"])
    seed = spec.integer("randomSeed", minimum=0)
    suspend = spec.raw("suspend") or False
    if not isinstance(suspend, bool):
        raise SpecError(spec.at("suspend"), f"must be true or false, got {suspend!r}")
    return TuningJobSpec(
        strategy=strategy,
        objective_metric=metric,
        objective_type=objective_type,
        metric_definitions=metrics,
        space=space,
        static_hyperparameters=static,
        limits=_parse_limits(spec.child("resourceLimits", FIELDS["spec.resourceLimits"], required=True)),
        completion=CompletionCriteria(
            target_objective_value=completion.number("targetObjectiveValue"),
            max_trials_without_improvement=completion.integer("maxTrialsWithoutImprovement", minimum=1),
        ),
        trial_template=_parse_template(spec.child("trialTemplate", FIELDS["spec.trialTemplate"], required=True)),
        random_seed=seed,
        suspend=suspend,
    )


def _parse_static(static: _Fields, space: SearchSpace) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in static.data.items():
        if not isinstance(name, str) or not PARAMETER_NAME.match(name):
            raise SpecError(static.at(str(name)), "is not a valid hyperparameter name")
        if name in space.parameters or any(env_name(n) == env_name(name) for n in space.parameters):
            raise SpecError(static.at(name), "duplicate name: also a tuned hyperparameter range")
        if not isinstance(value, (str, int, float, bool)):
            raise SpecError(static.at(name), f"must be a string, number or boolean, got {value!r}")
        values[name] = format_value(value)
    return values


def format_value(value: Value) -> str:
    """How a hyperparameter value is written on a command line or in an env var."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def parse_tuningjob(doc: object) -> TuningJob:
    """Validate a whole TuningJob manifest (apiVersion, kind, metadata.name, spec)."""
    top = _Fields(doc, "")
    api_version = top.string("apiVersion", required=True)
    if api_version != API_VERSION:
        raise SpecError("apiVersion", f"must be {API_VERSION}, got {api_version!r}")
    kind = top.string("kind", required=True)
    if kind != KIND:
        raise SpecError("kind", f"must be {KIND}, got {kind!r}")
    metadata = top.child("metadata", required=True)
    name = metadata.string("name", required=True)
    if len(name) > MAX_JOB_NAME or not DNS_LABEL.match(name):
        raise SpecError("metadata.name",
                        f"{name!r} must be a DNS label of at most {MAX_JOB_NAME} characters (trial Pods are named <job>-<index>)")
    namespace = metadata.string("namespace", default="default")
    return TuningJob(name=name, namespace=namespace, spec=parse_spec(top.raw("spec", required=True)),
                     manifest=dict(doc))  # type: ignore[call-overload]


def load_tuningjob(path: str | Path) -> TuningJob:
    """Read and validate a TuningJob YAML file (one document)."""
    text = Path(path).read_text()
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise SpecError("", f"{path}: not valid YAML: {err}") from None
    return parse_tuningjob(doc)
