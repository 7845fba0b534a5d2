"""The optimizer benchmark reuses a run only while everything that produced it is unchanged."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.optimizer import fingerprint as fp  # noqa: E402
from bench.optimizer.__main__ import cached_runs  # noqa: E402


def _record(method: str = "kubetune-Random", task: str = "branin", **extra: object) -> dict:
    return {"task": task, "setting": "8x4", "rounds": 8, "q": 4, "method": method, "seed": 0,
            "losses": [1.0], "fingerprint": fp.fingerprint(method), "task_fingerprint": fp.task_fingerprint(task),
            **extra}


def test_fingerprints_separate_methods_and_problems() -> None:
    assert fp.fingerprint("kubetune-Bayesian") != fp.fingerprint("kubetune-Random")
    assert fp.fingerprint("optuna-TPE") != fp.fingerprint("optuna-GP")
    assert fp.task_fingerprint("branin") != fp.task_fingerprint("hartmann6")
    assert fp.task_fingerprint("DT-diabetes-mse") != fp.task_fingerprint("DT-breast-nll")


def test_kubetune_fingerprint_follows_the_strategy_source(tmp_path: Path, monkeypatch) -> None:
    before = fp.fingerprint("kubetune-Bayesian")
    copy = tmp_path / "bayesian.py"
    copy.write_text(fp.KUBETUNE_FILES[-1].read_text() + "\n# changed\n")
    fp.fingerprint.cache_clear()
    monkeypatch.setitem(fp._INPUTS, "kubetune", (fp.methods.Kubetune, fp.KUBETUNE_FILES[:-1] + [copy], []))
    try:
        assert fp.fingerprint("kubetune-Bayesian") != before
        assert fp.fingerprint("optuna-TPE") == fp.fingerprint("optuna-TPE")
    finally:
        fp.fingerprint.cache_clear()


def test_model_problem_fingerprint_covers_only_its_model(monkeypatch) -> None:
    svm, dt = fp.task_fingerprint("SVM-breast-acc"), fp.task_fingerprint("DT-diabetes-mse")
    build, space = fp.tasks.MODELS["SVM"]
    monkeypatch.setitem(fp.tasks.MODELS, "SVM", (fp.tasks._knn, space))  # a different estimator
    fp.task_fingerprint.cache_clear()
    try:
        assert fp.task_fingerprint("SVM-breast-acc") != svm
        assert fp.task_fingerprint("DT-diabetes-mse") == dt
    finally:
        fp.task_fingerprint.cache_clear()


def test_cache_keeps_current_runs_and_drops_stale_and_failed(tmp_path: Path) -> None:
    current = _record()
    stale_method = _record(seed=1, fingerprint="0" * 16)
    stale_task = _record(seed=2, task_fingerprint="0" * 16)
    failed = _record(seed=3, error="RuntimeError: boom")
    path = tmp_path / "runs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in (current, stale_method, stale_task, failed)))
    assert cached_runs(path) == [current]
    assert cached_runs(tmp_path / "absent.jsonl") == []
