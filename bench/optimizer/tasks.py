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


def _scaled(estimator):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    return make_pipeline(StandardScaler(), estimator)


_TREE_SPACE = [integer("max_depth", 1, 15),
               _logit_space("min_samples_split", 0.01, 0.99),
               _logit_space("min_samples_leaf", 0.01, 0.49),
               _logit_space("min_weight_fraction_leaf", 0.01, 0.49),
               _logit_space("max_features", 0.01, 0.99),
               real("min_impurity_decrease", 0.0, 0.5)]


def _dt(classifier: bool, hp: dict[str, Any]):
    from sklearn import tree
    return (tree.DecisionTreeClassifier if classifier else tree.DecisionTreeRegressor)(random_state=0, **hp)


def _dt_space(classifier: bool) -> list[Param]:
    return list(_TREE_SPACE)


def _rf(classifier: bool, hp: dict[str, Any]):
    from sklearn import ensemble
    cls = ensemble.RandomForestClassifier if classifier else ensemble.RandomForestRegressor
    hp = dict(hp)
    if not classifier:
        hp["criterion"] = {"gini": "squared_error", "entropy": "friedman_mse"}[hp["criterion"]]
    return cls(n_estimators=10, random_state=0, n_jobs=1, **hp)


def _rf_space(classifier: bool) -> list[Param]:
    return _TREE_SPACE + [cat("criterion", ["gini", "entropy"]), boolean("bootstrap")]


def _svm(classifier: bool, hp: dict[str, Any]):
    from sklearn import svm
    limit = 100_000  # libsvm iterations: without a bound some poly corners (C=1e3, gamma=10) fit for minutes
    if classifier:
        return _scaled(svm.SVC(probability=False, random_state=0, max_iter=limit, **hp))
    return _scaled(svm.SVR(max_iter=limit, **hp))


def _svm_space(classifier: bool) -> list[Param]:
    return [real("C", 1e-2, 1e3, log=True), real("gamma", 1e-4, 1e1, log=True),
            real("tol", 1e-5, 1e-1, log=True), cat("kernel", ["rbf", "sigmoid", "poly"])]


def _knn(classifier: bool, hp: dict[str, Any]):
    from sklearn import neighbors
    return _scaled((neighbors.KNeighborsClassifier if classifier else neighbors.KNeighborsRegressor)(**hp))


def _knn_space(classifier: bool) -> list[Param]:
    return [integer("n_neighbors", 1, 25), integer("p", 1, 4), cat("weights", ["uniform", "distance"])]


def _ada(classifier: bool, hp: dict[str, Any]):
    from sklearn import ensemble
    return (ensemble.AdaBoostClassifier if classifier else ensemble.AdaBoostRegressor)(random_state=0, **hp)


def _ada_space(classifier: bool) -> list[Param]:
    return [integer("n_estimators", 10, 100), real("learning_rate", 1e-4, 1e1, log=True)]


def _linear(classifier: bool, hp: dict[str, Any]):
    from sklearn import linear_model
    if classifier:
        hp = dict(hp, class_weight=None if hp["class_weight"] == "none" else hp["class_weight"])
        return _scaled(linear_model.LogisticRegression(max_iter=200, **hp))
    return _scaled(linear_model.ElasticNet(max_iter=2000, random_state=0, **hp))


def _linear_space(classifier: bool) -> list[Param]:
    if classifier:
        return [real("C", 1e-4, 1e3, log=True), real("intercept_scaling", 1e-3, 1e2, log=True),
                boolean("fit_intercept"), cat("class_weight", ["none", "balanced"])]
    return [real("alpha", 1e-4, 1e1, log=True), _logit_space("l1_ratio", 0.01, 0.99),
            boolean("fit_intercept"), real("tol", 1e-5, 1e-1, log=True)]


def _mlp(classifier: bool, hp: dict[str, Any]):
    from sklearn import neural_network
    cls = neural_network.MLPClassifier if classifier else neural_network.MLPRegressor
    hp = dict(hp, hidden_layer_sizes=(hp["hidden_layer_sizes"],))
    return _scaled(cls(solver="adam", early_stopping=True, max_iter=40, random_state=0, **hp))


def _mlp_space(classifier: bool) -> list[Param]:
    return [integer("hidden_layer_sizes", 16, 128, log=True), real("alpha", 1e-5, 1e1, log=True),
            integer("batch_size", 10, 128, log=True), real("learning_rate_init", 1e-5, 1e-1, log=True),
            real("tol", 1e-5, 1e-1, log=True), _logit_space("validation_fraction", 0.1, 0.5),
            _logit_space("beta_1", 0.5, 0.99), _logit_space("beta_2", 0.9, 0.9999),
            real("epsilon", 1e-9, 1e-6, log=True)]


# model name → (estimator from (is classifier, hyperparameters), search space); one entry per model
# so that a change to one model re-runs only its problems (see fingerprint.py)
MODELS: dict[str, tuple[Callable[[bool, dict[str, Any]], Any], Callable[[bool], list[Param]]]] = {
    "DT": (_dt, _dt_space), "RF": (_rf, _rf_space), "SVM": (_svm, _svm_space), "kNN": (_knn, _knn_space),
    "ada": (_ada, _ada_space), "linear": (_linear, _linear_space), "MLP": (_mlp, _mlp_space)}


def model_task(model: str, dataset: str, metric: str) -> Task:
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

    x, y, classifier = _dataset(dataset)
    build, space_of = MODELS[model]
    space = space_of(classifier)
    if model == "SVM" and metric == "nll":
        raise ValueError("SVM problems use acc (SVC without probability estimates has no nll)")
    scoring = {"nll": "neg_log_loss", "acc": "accuracy", "mse": "neg_mean_squared_error",
               "mae": "neg_mean_absolute_error"}[metric]
    folds = (StratifiedKFold if classifier else KFold)(n_splits=3, shuffle=True, random_state=0)

    def evaluate(params: dict[str, Any]) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                scores = cross_val_score(build(classifier, _decode(space, params)), x, y, cv=folds,
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
