"""Benchmark problems: Bayesmark-style scikit-learn models on bundled datasets, and standard
test functions with a known optimum.

A task has a ``name``, a method-neutral ``space`` (see ``space.py``), ``evaluate(params) -> loss``
(to minimise) and ``kind`` (``model`` → scored against the frozen baseline; ``function`` →
log10 simple regret against the known ``optimum``). Evaluations are real: every call fits the
model with 3-fold cross-validation (fixed folds, fixed model seeds, so a configuration always
gets the same loss).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

import numpy as np

from bench.optimizer.space import Param, boolean, cat, integer, real, sigmoid, logit


@dataclass
class Task:
    name: str
    kind: str  # "model" | "function"
    space: list[Param]
    evaluate: Callable[[dict[str, Any]], float]
    optimum: float | None = None  # functions only
    settings: list[tuple[int, int]] = field(default_factory=list)  # (rounds, q) for functions


# ---------------------------------------------------------------- scikit-learn problems

@lru_cache(maxsize=None)
def _dataset(name: str) -> tuple[np.ndarray, np.ndarray, bool]:
    from sklearn import datasets
    loader = {"breast": datasets.load_breast_cancer, "digits": datasets.load_digits,
              "iris": datasets.load_iris, "wine": datasets.load_wine,
              "diabetes": datasets.load_diabetes}[name]
    x, y = loader(return_X_y=True)
    return x, y, name != "diabetes"


def _logit_space(name: str, low: float, high: float) -> Param:
    """A logit-scaled real: the optimizer sees logit(p) linearly; ``_decode`` applies the sigmoid."""
    return {**real(name, logit(low), logit(high)), "logit": True}


def _decode(space: list[Param], params: dict[str, Any]) -> dict[str, Any]:
    return {p["name"]: sigmoid(params[p["name"]]) if p.get("logit") else params[p["name"]] for p in space}


def _model(model: str, classifier: bool, hp: dict[str, Any]):
    from sklearn import ensemble, linear_model, neighbors, neural_network, svm, tree
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if model == "DT":
        cls = tree.DecisionTreeClassifier if classifier else tree.DecisionTreeRegressor
        return cls(random_state=0, **hp)
    if model == "RF":
        cls = ensemble.RandomForestClassifier if classifier else ensemble.RandomForestRegressor
        hp = dict(hp)
        if not classifier:
            hp["criterion"] = {"gini": "squared_error", "entropy": "friedman_mse"}[hp["criterion"]]
        return cls(n_estimators=10, random_state=0, n_jobs=1, **hp)
    if model == "SVM":
        if classifier:
            return make_pipeline(StandardScaler(), svm.SVC(probability=False, random_state=0, **hp))
        return make_pipeline(StandardScaler(), svm.SVR(**hp))
    if model == "kNN":
        cls = neighbors.KNeighborsClassifier if classifier else neighbors.KNeighborsRegressor
        return make_pipeline(StandardScaler(), cls(**hp))
    if model == "ada":
        cls = ensemble.AdaBoostClassifier if classifier else ensemble.AdaBoostRegressor
        return cls(random_state=0, **hp)
    if model == "linear":
        if classifier:
            return make_pipeline(StandardScaler(), linear_model.LogisticRegression(max_iter=200, **hp))
        return make_pipeline(StandardScaler(), linear_model.ElasticNet(max_iter=2000, random_state=0, **hp))
    if model == "MLP":
        cls = neural_network.MLPClassifier if classifier else neural_network.MLPRegressor
        hp = dict(hp)
        hp["hidden_layer_sizes"] = (hp["hidden_layer_sizes"],)
        return make_pipeline(StandardScaler(), cls(solver="adam", early_stopping=True, max_iter=40,
                                                   random_state=0, **hp))
    raise KeyError(model)


def _model_space(model: str, classifier: bool) -> list[Param]:
    if model in ("DT", "RF"):
        space = [integer("max_depth", 1, 15),
                 _logit_space("min_samples_split", 0.01, 0.99),
                 _logit_space("min_samples_leaf", 0.01, 0.49),
                 _logit_space("min_weight_fraction_leaf", 0.01, 0.49),
                 _logit_space("max_features", 0.01, 0.99),
                 real("min_impurity_decrease", 0.0, 0.5)]
        if model == "RF":
            space += [cat("criterion", ["gini", "entropy"]), boolean("bootstrap")]
        return space
    if model == "SVM":
        return [real("C", 1e-2, 1e3, log=True), real("gamma", 1e-4, 1e1, log=True),
                real("tol", 1e-5, 1e-1, log=True), cat("kernel", ["rbf", "sigmoid", "poly"])]
    if model == "kNN":
        return [integer("n_neighbors", 1, 25), integer("p", 1, 4), cat("weights", ["uniform", "distance"])]
    if model == "ada":
        return [integer("n_estimators", 10, 100), real("learning_rate", 1e-4, 1e1, log=True)]
    if model == "linear":
        if classifier:
            return [real("C", 1e-4, 1e3, log=True), real("intercept_scaling", 1e-3, 1e2, log=True),
                    boolean("fit_intercept"), cat("class_weight", ["none", "balanced"])]
        return [real("alpha", 1e-4, 1e1, log=True), _logit_space("l1_ratio", 0.01, 0.99),
                boolean("fit_intercept"), real("tol", 1e-5, 1e-1, log=True)]
    if model == "MLP":
        return [integer("hidden_layer_sizes", 16, 128, log=True), real("alpha", 1e-5, 1e1, log=True),
                integer("batch_size", 10, 128, log=True), real("learning_rate_init", 1e-5, 1e-1, log=True),
                real("tol", 1e-5, 1e-1, log=True), _logit_space("validation_fraction", 0.1, 0.5),
                _logit_space("beta_1", 0.5, 0.99), _logit_space("beta_2", 0.9, 0.9999),
                real("epsilon", 1e-9, 1e-6, log=True)]
    raise KeyError(model)


def model_task(model: str, dataset: str, metric: str) -> Task:
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

    x, y, classifier = _dataset(dataset)
    space = _model_space(model, classifier)
    scoring = {"nll": "neg_log_loss", "acc": "accuracy", "mse": "neg_mean_squared_error",
               "mae": "neg_mean_absolute_error"}[metric]
    folds = (StratifiedKFold if classifier else KFold)(n_splits=3, shuffle=True, random_state=0)

    def evaluate(params: dict[str, Any]) -> float:
        hp = _decode(space, params)
        if model == "linear" and classifier:
            hp["class_weight"] = None if hp["class_weight"] == "none" else hp["class_weight"]
        if model == "SVM" and metric == "nll":
            raise ValueError("SVM problems use acc")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                scores = cross_val_score(_model(model, classifier, hp), x, y, cv=folds,
                                         scoring=scoring, error_score="raise")
                value = -float(np.mean(scores))
            except (ValueError, FloatingPointError):
                value = math.nan
        if metric == "acc":
            value = 1.0 + value  # 1 - accuracy
        if not math.isfinite(value):
            value = 1e3 if metric != "acc" else 1.0  # a broken configuration: worst loss, as a failed trial would rank
        return value

    return Task(f"{model}-{dataset}-{metric}", "model", space, evaluate)


# quick: two problems with continuous losses (accuracy problems plateau: random search ties the best)
MODEL_PROBLEMS_QUICK = [("DT", "diabetes", "mse"), ("linear", "breast", "nll")]
MODEL_PROBLEMS_FULL = MODEL_PROBLEMS_QUICK + [
    ("SVM", "diabetes", "mae"), ("RF", "wine", "nll"), ("linear", "diabetes", "mae"), ("kNN", "wine", "nll"),
    ("ada", "breast", "acc"), ("kNN", "diabetes", "mse"), ("DT", "breast", "nll"), ("SVM", "breast", "acc"),
    ("MLP", "iris", "acc"), ("RF", "diabetes", "mae")]


# ---------------------------------------------------------------- test functions

def branin(x: np.ndarray) -> float:
    a, b, c, r, s, t = 1.0, 5.1 / (4 * math.pi ** 2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    return float(a * (x[1] - b * x[0] ** 2 + c * x[0] - r) ** 2 + s * (1 - t) * math.cos(x[0]) + s)


_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(x: np.ndarray) -> float:
    return float(-(_H6_ALPHA * np.exp(-(_H6_A * (x[None, :] - _H6_P) ** 2).sum(1))).sum())


def levy(x: np.ndarray) -> float:
    w = 1 + (np.asarray(x, dtype=float) - 1) / 4
    term = np.sin(math.pi * w[0]) ** 2 + (w[-1] - 1) ** 2 * (1 + np.sin(2 * math.pi * w[-1]) ** 2)
    return float(term + ((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2)).sum())


def _vector_task(name: str, fn: Callable[[np.ndarray], float], bounds: list[tuple[float, float]],
                 optimum: float, settings: list[tuple[int, int]]) -> Task:
    space = [real(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(bounds)]
    return Task(name, "function", space, lambda p: fn(np.array([p[f"x{i}"] for i in range(len(bounds))])),
                optimum, settings)


_MIXED_OFFSET = {"a": 0.0, "b": 0.5, "c": 1.0, "d": 2.0}


def mixed_levy(p: dict[str, Any]) -> float:
    """Levy-4 over a linear real, a log-scaled real (log10), two integers; plus a categorical and a
    boolean offset. Minimum 0 at x0=1, x1=10, n0=n1=1, c='a', flag=True."""
    core = levy(np.array([p["x0"], math.log10(p["x1"]), p["n0"], p["n1"]]))
    return core + _MIXED_OFFSET[p["c"]] + (0.0 if p["flag"] else 0.3)


def function_tasks() -> list[Task]:
    return [
        _vector_task("branin", branin, [(-5.0, 10.0), (0.0, 15.0)], 0.397887357729738, [(8, 4)]),
        _vector_task("hartmann6", hartmann6, [(0.0, 1.0)] * 6, -3.32236801141551, [(16, 8)]),
        _vector_task("levy10", levy, [(-10.0, 10.0)] * 10, 0.0, [(16, 8)]),
        Task("mixed-levy", "function",
             [real("x0", -10.0, 10.0), real("x1", 1e-3, 1e3, log=True), integer("n0", -5, 10),
              integer("n1", -5, 10), cat("c", ["a", "b", "c", "d"]), boolean("flag")],
             mixed_levy, 0.0, [(16, 8)]),
    ]


def model_tasks(quick: bool) -> list[Task]:
    return [model_task(*spec) for spec in (MODEL_PROBLEMS_QUICK if quick else MODEL_PROBLEMS_FULL)]


def all_tasks(quick: bool) -> dict[str, Task]:
    return {t.name: t for t in model_tasks(quick) + function_tasks()}


def task_by_name(name: str) -> Task:
    for t in function_tasks():
        if t.name == name:
            return t
    model, dataset, metric = name.split("-")
    return model_task(model, dataset, metric)
