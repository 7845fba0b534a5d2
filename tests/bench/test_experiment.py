"""``experiment.py``: ``--in-rounds`` asks a batch only on complete data; a stopped screen continues."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.optimizer import experiment, methods  # noqa: E402
from bench.optimizer.__main__ import _job  # noqa: E402


def test_in_rounds_each_ask_comes_after_the_whole_previous_round_is_told(monkeypatch) -> None:
    make = methods.make
    seen: list[tuple[int, int]] = []  # (batch size asked, pending points at that ask)

    def counting(name: str, space: list, seed: int) -> methods.Method:
        method = make(name, space, seed)
        pending: set[int] = set()
        ask, tell = method.ask, method.tell

        def counted_ask(n: int) -> list:
            seen.append((n, len(pending)))
            proposals = ask(n)
            pending.update(token for token, _ in proposals)
            return proposals

        def counted_tell(token: int, loss: float) -> None:
            pending.remove(token)
            tell(token, loss)

        method.ask, method.tell = counted_ask, counted_tell
        return method

    monkeypatch.setattr(methods, "make", counting)
    record = _job(("branin", "3x4-rounds", 3, 4, "kubetune-Random", 0), protocol=experiment.run_in_rounds)
    assert "error" not in record
    assert seen == [(4, 0)] * 3
    assert len(record["losses"]) == 12 and record["setting"] == "3x4-rounds"
    assert [q for q, _ in record["ask_seconds"]] == [4, 4, 4]


def test_a_stopped_screen_continues_from_its_out_file(tmp_path: Path) -> None:
    """Runs already in ``--out`` and still current are reused, never run or appended twice; a
    stale one (its method's code changed since) is run again."""
    out = tmp_path / "screen.jsonl"
    jobs = [("branin", "2x2", 2, 2, "kubetune-Random", seed) for seed in (0, 1)]
    first = experiment.run_missing(jobs[:1], out, workers=1)
    assert [r["seed"] for r in first] == [0] and len(out.read_text().splitlines()) == 1

    both = experiment.run_missing(jobs, out, workers=1)
    assert sorted(r["seed"] for r in both) == [0, 1]
    assert both[0]["losses"] == first[0]["losses"]
    assert len(out.read_text().splitlines()) == 2  # seed 0 was not run again

    stale = [{**json.loads(line), "fingerprint": "0" * 16} for line in out.read_text().splitlines()]
    out.write_text("".join(json.dumps(r) + "\n" for r in stale))
    experiment.run_missing(jobs, out, workers=1)
    assert len(out.read_text().splitlines()) == 4  # both re-ran and were appended
