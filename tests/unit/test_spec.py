"""Every invalid TuningJob is rejected with one error that names the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from kubetune import SpecError, load_tuningjob, parse_tuningjob
from kubetune.space import CategoricalParameter, ContinuousParameter, IntegerParameter

Mutation = Callable[[dict[str, Any]], None]


def _ranges(m: dict[str, Any]) -> dict[str, Any]:
    return m["spec"]["hyperparameterRanges"]


def _set(path: str, value: Any) -> Mutation:
    def mutate(m: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = m
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
        node[last if isinstance(node, dict) else int(last)] = value
    return mutate


def _delete(path: str) -> Mutation:
    def mutate(m: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = m
        for key in parents:
            node = node[key]
        del node[last]
    return mutate


INVALID: list[tuple[str, Mutation, str, str]] = [
    ("min >= max", _set("spec.hyperparameterRanges.continuous.0.min", 10.0),
     "spec.hyperparameterRanges.continuous[0].min", "below max"),
    ("log with min <= 0", _set("spec.hyperparameterRanges.continuous.0.scaling", "Logarithmic"),
     "spec.hyperparameterRanges.continuous[0].min", "> 0"),
    ("reverse log outside [0,1)", _set("spec.hyperparameterRanges.continuous.1.scaling", "ReverseLogarithmic"),
     "spec.hyperparameterRanges.continuous[1].max", "ReverseLogarithmic"),
    ("unknown scaling", _set("spec.hyperparameterRanges.continuous.0.scaling", "Quadratic"),
     "spec.hyperparameterRanges.continuous[0].scaling", "must be one of"),
    ("unknown strategy", _set("spec.strategy", "Hyperband9"), "spec.strategy", "must be one of"),
    ("objective not defined", _set("spec.objective.metric", "val-loss"), "spec.objective.metric",
     "not among metricDefinitions"),
    ("objective type", _set("spec.objective.type", "Maximise"), "spec.objective.type", "Maximize, Minimize"),
    ("regex without group", _set("spec.metricDefinitions.0.regex", "accuracy=[0-9.]+"),
     "spec.metricDefinitions[0].regex", "exactly one capture group"),
    ("regex with two groups", _set("spec.metricDefinitions.0.regex", "(a)=([0-9.]+)"),
     "spec.metricDefinitions[0].regex", "found 2"),
    ("regex does not compile", _set("spec.metricDefinitions.0.regex", "accuracy=([0-9.]+"),
     "spec.metricDefinitions[0].regex", "does not compile"),
    ("duplicate metric", _set("spec.metricDefinitions.1.name", "validation-accuracy"),
     "spec.metricDefinitions[1].name", "duplicate"),
    ("maxParallelTrials < 1", _set("spec.resourceLimits.maxParallelTrials", 0),
     "spec.resourceLimits.maxParallelTrials", ">= 1"),
    ("maxTrials missing", _delete("spec.resourceLimits.maxTrials"), "spec.resourceLimits.maxTrials", "required"),
    ("maxTrials not int", _set("spec.resourceLimits.maxTrials", "ten"), "spec.resourceLimits.maxTrials", "integer"),
    ("maxRuntimeSeconds <= 0", _set("spec.resourceLimits.maxRuntimeSeconds", -1),
     "spec.resourceLimits.maxRuntimeSeconds", "> 0"),
    ("duplicate parameter", _set("spec.hyperparameterRanges.continuous.1.name", "x"),
     "spec.hyperparameterRanges.continuous[1].name", "duplicate"),
    ("duplicate across types", _set("spec.hyperparameterRanges.categorical", [{"name": "X", "values": [1, 2]}]),
     "spec.hyperparameterRanges.categorical[0].name", "duplicate"),
    ("static clashes with range", _set("spec.staticHyperparameters.x", 1),
     "spec.staticHyperparameters.x", "duplicate"),
    ("grid without points", _set("spec.strategy", "Grid"),
     "spec.hyperparameterRanges.continuous[0].gridPoints", "point count"),
    ("integer min not int", _set("spec.hyperparameterRanges.integer", [{"name": "n", "min": 1.5, "max": 4}]),
     "spec.hyperparameterRanges.integer[0].min", "integer"),
    ("categorical without values", _set("spec.hyperparameterRanges.categorical", [{"name": "c", "values": []}]),
     "spec.hyperparameterRanges.categorical[0].values", "at least one"),
    ("categorical repeated value", _set("spec.hyperparameterRanges.categorical", [{"name": "c", "values": ["a", "a"]}]),
     "spec.hyperparameterRanges.categorical[0].values", "repeat"),
    ("no ranges", _set("spec.hyperparameterRanges", {}), "spec.hyperparameterRanges", "at least one"),
    ("bad parameter name", _set("spec.hyperparameterRanges.continuous.0.name", "1x"),
     "spec.hyperparameterRanges.continuous[0].name", "must start"),
    ("unknown field (typo)", _set("spec.resourceLimits.maxTrails", 3), "spec.resourceLimits.maxTrails", "unknown field"),
    ("unknown spec field", _set("spec.strategyy", "Random"), "spec.strategyy", "unknown field"),
    ("primary container missing", _set("spec.trialTemplate.primaryContainer", "main"),
     "spec.trialTemplate.primaryContainer", "not a container"),
    ("no containers", _set("spec.trialTemplate.spec.containers", []), "spec.trialTemplate.spec.containers", "at least one"),
    ("wrong kind", _set("kind", "Job"), "kind", "TuningJob"),
    ("wrong apiVersion", _set("apiVersion", "kubetune.io/v1"), "apiVersion", "v1alpha1"),
    ("name too long", _set("metadata.name", "x" * 60), "metadata.name", "DNS label"),
    ("seed negative", _set("spec.randomSeed", -3), "spec.randomSeed", ">= 0"),
    ("suspend not bool", _set("spec.suspend", "yes"), "spec.suspend", "true or false"),
    ("target not a number", _set("spec.completionCriteria.targetObjectiveValue", "high"),
     "spec.completionCriteria.targetObjectiveValue", "number"),
]


@pytest.mark.parametrize("mutate, field, words", [pytest.param(m, f, w, id=i) for i, m, f, w in INVALID])
def test_invalid_spec_names_the_field(manifest: dict[str, Any], mutate: Mutation, field: str, words: str) -> None:
    mutate(manifest)
    with pytest.raises(SpecError) as caught:
        parse_tuningjob(manifest)
    assert caught.value.field == field
    assert words in str(caught.value)
    assert str(caught.value).startswith(field)


def test_valid_spec_parses_with_defaults(manifest: dict[str, Any]) -> None:
    job = parse_tuningjob(manifest)
    spec = job.spec
    assert (job.name, job.namespace, spec.strategy, spec.maximize) == ("branin", "default", "Bayesian", True)
    assert spec.limits.max_failed_trials == 3  # max(3, 6 // 2)
    assert spec.trial_template.primary_container == "trainer"
    assert spec.static_hyperparameters == {"epochs": "3"}
    assert list(spec.space.parameters) == ["x", "y"]


def test_all_range_types_and_grid(manifest: dict[str, Any]) -> None:
    manifest["spec"]["strategy"] = "Grid"
    manifest["spec"]["hyperparameterRanges"] = {
        "continuous": [{"name": "lr", "min": 1e-4, "max": 1.0, "scaling": "Logarithmic", "gridPoints": 3},
                       {"name": "momentum", "min": 0.0, "max": 0.99, "scaling": "ReverseLogarithmic", "gridPoints": 2}],
        "integer": [{"name": "layers", "min": 2, "max": 4}],
        "categorical": [{"name": "opt", "values": ["sgd", "adam"]}],
    }
    space = parse_tuningjob(manifest).spec.space
    assert space.parameters["lr"] == ContinuousParameter(1e-4, 1.0, "Logarithmic", 3)
    assert space.parameters["layers"] == IntegerParameter(2, 4)
    assert space.parameters["opt"] == CategoricalParameter(["sgd", "adam"])
    assert len(list(space.grid())) == 3 * 2 * 3 * 2


def test_load_reports_yaml_errors(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text("spec: [unclosed\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_tuningjob(path)


@pytest.mark.parametrize("example", sorted((Path(__file__).parents[2] / "examples").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_examples_are_valid(example: Path) -> None:
    job = load_tuningjob(example)
    assert job.spec.limits.max_trials >= 1
