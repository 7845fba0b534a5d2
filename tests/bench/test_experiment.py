"""``experiment.py --in-rounds``: the synchronous protocol asks a batch only on complete data."""

from __future__ import annotations

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
