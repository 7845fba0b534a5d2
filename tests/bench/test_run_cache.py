"""The optimizer benchmark reuses a run only while everything that produced it is unchanged."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.optimizer import fingerprint as fp  # noqa: E402
from bench.optimizer.__main__ import cached_runs, carried_meta  # noqa: E402


def _record(method: str = "kubetune-Random", task: str = "branin", **extra: object) -> dict:
    return {"task": task, "setting": "8x4", "rounds": 8, "q": 4, "method": method, "seed": 0,
            "losses": [1.0], "fingerprint": fp.fingerprint(method), "task_fingerprint": fp.task_fingerprint(task),
            **extra}


def test_fingerprints_separate_methods_and_problems() -> None:
    assert fp.fingerprint("kubetune-Bayesian") != fp.fingerprint("kubetune-Random")
    assert fp.fingerprint("optuna-TPE") != fp.fingerprint("optuna-GP")
    assert fp.task_fingerprint("branin") != fp.task_fingerprint("hartmann6")
    assert fp.task_fingerprint("DT-diabetes-mse") != fp.task_fingerprint("DT-breast-nll")


def _edited(path: Path, tmp_path: Path, monkeypatch) -> None:
    """kubetune's inputs with ``path`` replaced by an edited copy."""
    copy = tmp_path / path.name
    copy.write_text(path.read_text() + "\n# changed\n")
    adapter, files, packages = fp._INPUTS["kubetune"]
    monkeypatch.setitem(fp._INPUTS, "kubetune", (adapter, [copy if f == path else f for f in files], packages))
    monkeypatch.setattr(fp, "BAYESIAN_ONLY", {copy if f == path else f for f in fp.BAYESIAN_ONLY})
    fp.fingerprint.cache_clear()


def test_kubetune_fingerprints_follow_the_strategy_source_they_run(tmp_path: Path, monkeypatch) -> None:
    """Editing the Bayesian strategy re-runs kubetune-Bayesian only; editing Random re-runs Random."""
    fp.fingerprint.cache_clear()
    before = {m: fp.fingerprint(m) for m in ("kubetune-Bayesian", "kubetune-Random", "optuna-TPE")}
    try:
        _edited(fp.STRATEGIES / "bayesian.py", tmp_path, monkeypatch)
        assert fp.fingerprint("kubetune-Bayesian") != before["kubetune-Bayesian"]
        assert fp.fingerprint("kubetune-Random") == before["kubetune-Random"]
        assert fp.fingerprint("optuna-TPE") == before["optuna-TPE"]
        _edited(fp.STRATEGIES / "random.py", tmp_path, monkeypatch)
        assert fp.fingerprint("kubetune-Random") != before["kubetune-Random"]
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


def test_a_new_run_keeps_the_hand_written_notes_and_restarts_the_counters() -> None:
    previous = {"notes": ["peers partial"], "total_seconds": 3960.0, "runs_done": 200, "command": "old"}
    assert carried_meta(previous, new_runs=True) == {"notes": ["peers partial"]}
    assert carried_meta({"total_seconds": 1.0}, new_runs=True) == {}
    assert carried_meta(previous, new_runs=False) == previous
