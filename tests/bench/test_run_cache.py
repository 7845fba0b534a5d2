"""The optimizer benchmark reuses a run only while everything that produced it is unchanged."""

from __future__ import annotations

import fcntl
import json
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.optimizer import fingerprint as fp  # noqa: E402
from bench.optimizer.__main__ import append_run, cached_runs, carried_meta, reset_store, write_meta  # noqa: E402


def _record(method: str = "kubetune-Random", task: str = "branin", **extra: object) -> dict:
    return {"task": task, "setting": "8x4", "rounds": 8, "q": 4, "method": method, "seed": 0,
            "losses": [1.0], "fingerprint": fp.fingerprint(method), "task_fingerprint": fp.task_fingerprint(task),
            **extra}


def test_fingerprints_separate_methods_and_problems() -> None:
    assert fp.fingerprint("kubetune-Bayesian") != fp.fingerprint("kubetune-Random")
    assert fp.fingerprint("optuna-TPE") != fp.fingerprint("optuna-GP")
    assert fp.task_fingerprint("branin") != fp.task_fingerprint("hartmann6")
    assert fp.task_fingerprint("DT-diabetes-mse") != fp.task_fingerprint("DT-breast-nll")


def _edited(path: Path, tmp_path: Path, monkeypatch, edit=lambda text: text + "\nCHANGED = 1\n") -> None:
    """kubetune's inputs with ``path`` replaced by a copy rewritten by ``edit``."""
    copy = tmp_path / path.name
    copy.write_text(edit(path.read_text()))
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


def test_rewording_docstrings_and_comments_keeps_the_stored_runs(tmp_path: Path, monkeypatch) -> None:
    """Only code keys a run: a docstring or comment edit must not throw away hours of runs."""
    fp.fingerprint.cache_clear()
    before = fp.fingerprint("kubetune-Bayesian")
    try:
        _edited(fp.STRATEGIES / "bayesian.py", tmp_path, monkeypatch, lambda text: text.replace(
            '"""Bayesian optimisation', '"""Reworded.\n\nBayesian optimisation', 1).replace(
            "\n    def _initial_size", "\n    # a new comment\n\n    def _initial_size", 1))
        assert (tmp_path / "bayesian.py").read_text() != (fp.STRATEGIES / "bayesian.py").read_text()
        assert fp.fingerprint("kubetune-Bayesian") == before
        _edited(fp.STRATEGIES / "bayesian.py", tmp_path, monkeypatch, lambda text: text.replace(
            "n_candidates: int = 1024", "n_candidates: int = 1023", 1))
        assert fp.fingerprint("kubetune-Bayesian") != before
    finally:
        fp.fingerprint.cache_clear()


def test_code_of_drops_every_docstring_and_keeps_string_statements_that_are_not_docstrings() -> None:
    source = '"""module"""\nclass A:\n    """class"""\n    def f(self):\n        """method"""\n        x = 1  # note\n        "not a docstring"\n'
    assert fp.code_of(source) == "class A:\n\n    def f(self):\n        x = 1\n        'not a docstring'"
    assert fp.code_of('def g():\n    """only a docstring"""\n') == "def g():\n    pass"


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


def test_a_new_run_keeps_the_hand_written_notes_and_history_and_restarts_the_counters() -> None:
    previous = {"notes": ["peers partial"], "history": [{"command": "old"}], "total_seconds": 3960.0,
                "runs_done": 200, "command": "old"}
    assert carried_meta(previous, new_runs=True) == {"notes": ["peers partial"], "history": [{"command": "old"}]}
    assert carried_meta({"total_seconds": 1.0}, new_runs=True) == {}
    assert carried_meta(previous, new_runs=False) == previous


def test_the_meta_file_keeps_what_changed_while_an_invocation_ran_and_adds_it_to_the_history(
        tmp_path: Path) -> None:
    path = tmp_path / "meta.json"
    path.write_text(json.dumps({"notes": ["read at the start"], "runs_done": 1}))
    meta = carried_meta(json.loads(path.read_text()), new_runs=True) | {"runs_done": 5}
    # meanwhile a note is added and an overlapping invocation finishes
    path.write_text(json.dumps({"notes": ["read at the start", "added meanwhile"], "runs_done": 1,
                                "history": [{"command": "other"}]}))
    write_meta(path, meta, {"command": "this"})
    assert json.loads(path.read_text()) == {"notes": ["read at the start", "added meanwhile"], "runs_done": 5,
                                            "history": [{"command": "other"}, {"command": "this"}]}
    write_meta(path, {"timing_command": "timing"})  # a timing or report pass adds no history
    assert json.loads(path.read_text())["history"] == [{"command": "other"}, {"command": "this"}]
    write_meta(tmp_path / "new.json", {"runs_done": 2})
    assert json.loads((tmp_path / "new.json").read_text()) == {"runs_done": 2}


def test_a_rewrite_waits_for_the_lock_and_keeps_a_run_appended_meanwhile(tmp_path: Path) -> None:
    """Two invocations overlap: one rewrites the store while the other holds it to append a run."""
    path = tmp_path / "runs.jsonl"
    kept, appended = _record(), _record(seed=1)
    path.write_text("".join(json.dumps(r) + "\n" for r in (kept, _record(seed=2, error="boom"))))
    with path.open("a") as other:
        fcntl.flock(other, fcntl.LOCK_EX)
        rewrite = threading.Thread(target=reset_store, args=(path,))
        rewrite.start()
        rewrite.join(timeout=0.5)
        assert rewrite.is_alive(), "the rewrite went ahead while another invocation held the store"
        other.write(json.dumps(appended) + "\n")
        other.flush()
        fcntl.flock(other, fcntl.LOCK_UN)
    rewrite.join()
    assert [json.loads(line) for line in path.read_text().splitlines()] == [kept, appended]


def test_appended_runs_follow_the_current_ones_and_a_fresh_store_starts_empty(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    append_run(path, _record())
    append_run(path, _record(seed=1, fingerprint="0" * 16))
    assert reset_store(path) == [_record()]
    assert cached_runs(path) == [_record()]
    assert reset_store(path, keep_current=False) == [] and path.read_text() == ""
