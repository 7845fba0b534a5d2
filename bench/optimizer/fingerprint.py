"""What a run's result depends on, hashed: the cache key for reusing runs.

A run of (problem, setting, method, seed) is a pure function of that problem's definition
(``task_fingerprint``), the protocol, the method's adapter and the libraries behind it
(``fingerprint``). Peers' results therefore stay valid while kubetune's
strategy is tuned, and only kubetune re-runs: that is what keeps ``--quick`` inside its budget.
A change to any of those inputs changes the fingerprint and the run is done again. Source enters
as code, not text (``code_of``): rewording a docstring or a comment keeps stored runs, which
hours of peers' runs and ~85 min of kubetune's would otherwise pay for.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from bench.optimizer import methods, tasks

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "optimizer"
# every method's runs depend on these: the method-neutral space and the protocol
COMMON_FILES = [BENCH / "space.py", BENCH / "protocol.py"]
COMMON_PACKAGES = ["numpy", "scipy", "scikit-learn"]
# the optimizer's own modules (not the operator, CLI or job state machine around it)
STRATEGIES = ROOT / "operator" / "kubetune" / "strategies"
KUBETUNE_FILES = [ROOT / "operator" / "kubetune" / name for name in ("errors.py", "space.py", "optimizer.py")] + sorted(
    STRATEGIES.glob("*.py"))
# kubetune-Random never fits a GP: tuning the Bayesian strategy leaves its stored runs valid
BAYESIAN_ONLY = {STRATEGIES / "bayesian.py", STRATEGIES / "_gp.py"}

# (adapter class, extra files, packages) per method family
_INPUTS = {
    "kubetune": (methods.Kubetune, KUBETUNE_FILES, ["torch", "gpytorch"]),
    "optuna": (methods.Optuna, [], ["optuna"]),
    "skopt": (methods.Skopt, [], ["scikit-optimize"]),
    "botorch": (methods.Botorch, [], ["botorch", "gpytorch", "torch"]),
    "HEBO": (methods.Hebo, [BENCH / "hebo_worker.py", ROOT / "bench" / "requirements-hebo.txt"], []),
}


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:  # such a method's runs fail and are listed, never reused
        return "not installed"


def code_of(source: str) -> str:
    """``source`` without docstrings, comments or layout: parsed, docstrings removed, written back
    by ``ast.unparse``. The unparser's output is the key, so another Python minor version (the
    project runs 3.11) may see every stored run as stale: safe, if slow."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) \
                and ast.get_docstring(node, clean=False) is not None:
            node.body = node.body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def _family(method: str) -> str:
    return method.split("-", 1)[0]


@lru_cache(maxsize=None)
def fingerprint(method: str) -> str:
    adapter, files, packages = _INPUTS[_family(method)]
    digest = hashlib.sha256(method.encode())
    digest.update(code_of(inspect.getsource(adapter)).encode())
    digest.update(str(methods.N_INITIAL).encode())
    if method == "kubetune-Random":
        files = [path for path in files if path not in BAYESIAN_ONLY]
    if "+" in method:  # a kubetune variant: the patches it applies (variants.py)
        files = files + [BENCH / "variants.py"]
    for path in COMMON_FILES + files:
        text = path.read_text()
        digest.update(path.name.encode() + b"\0" + (code_of(text) if path.suffix == ".py" else text).encode())
    for package in COMMON_PACKAGES + packages:
        digest.update(f"{package}=={_version(package)}".encode())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=None)
def task_fingerprint(name: str) -> str:
    """The problem's own definition: its space, and the source of the code that evaluates it
    (for a model, only that model's builder and space, so editing one model re-runs only its problems)."""
    task = tasks.task_by_name(name)
    digest = hashlib.sha256(name.encode() + json.dumps(task.space, sort_keys=True).encode())
    if task.kind == "model":
        build, space_of = tasks.MODELS[name.split("-")[0]]
        code = [tasks.model_task, tasks._dataset, tasks._decode, tasks._scaled, build, space_of]
    else:
        code = [tasks.function_tasks, tasks._vector_task, tasks.branin, tasks.hartmann6, tasks.levy, tasks.mixed_levy]
        digest.update(repr((tasks._H6_A.tolist(), tasks._H6_P.tolist(), tasks._H6_ALPHA.tolist(),
                            tasks._MIXED_OFFSET, task.optimum, task.settings)).encode())
    for function in code:
        digest.update(code_of(inspect.getsource(function)).encode())
    return digest.hexdigest()[:16]
