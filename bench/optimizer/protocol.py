"""The asynchronous-parallel protocol the operator runs: ``q`` trials always in flight; when one
finishes its result is told and one new point is asked.

Trial durations are simulated (log-normal, drawn from the seed and the trial's index, hence
identical for every method at a seed), so the completion order is realistic and paired across
methods while each evaluation itself is real.
"""

from __future__ import annotations

import heapq
import time
import traceback
from typing import Any

import numpy as np

from bench.optimizer import methods
from bench.optimizer.tasks import task_by_name


def run(task_name: str, method: str, seed: int, rounds: int, q: int, threads: int = 1) -> dict[str, Any]:
    import torch
    torch.set_num_threads(threads)
    task = task_by_name(task_name)
    budget = rounds * q
    durations = np.random.default_rng([seed, 7919]).lognormal(0.0, 0.5, budget)
    record: dict[str, Any] = {"task": task_name, "method": method, "seed": seed, "rounds": rounds, "q": q,
                              "losses": [], "ask_seconds": [], "eval_seconds": 0.0}
    started = time.perf_counter()
    try:
        opt = methods.make(method, task.space, seed)
    except Exception as exc:  # noqa: BLE001 — listed with the reason, never silently dropped
        record["error"] = f"{type(exc).__name__}: {exc}"
        return record
    heap: list[tuple[float, int, int, dict]] = []
    launched = 0

    def launch(k: int, now: float) -> None:
        nonlocal launched
        t0 = time.perf_counter()
        proposals = opt.ask(k)
        record["ask_seconds"].append((k, time.perf_counter() - t0))
        for token, params in proposals:
            heapq.heappush(heap, (now + durations[launched], launched, token, params))
            launched += 1

    try:
        launch(q, 0.0)
        best = None
        while heap:
            now, index, token, params = heapq.heappop(heap)
            t0 = time.perf_counter()
            loss = float(task.evaluate(params))
            record["eval_seconds"] += time.perf_counter() - t0
            opt.tell(token, loss)
            record["losses"].append(loss)
            if best is None or loss < best[0]:
                best = (loss, params)
            if launched < budget:
                launch(1, now)
        record["best_params"] = best[1] if best else None
    except Exception as exc:  # noqa: BLE001
        record["error"] = f"{type(exc).__name__}: {exc}"
        record["traceback"] = traceback.format_exc(limit=5)
    finally:
        try:
            opt.close()
        except Exception:  # noqa: BLE001
            pass
    record["seconds"] = time.perf_counter() - started
    return record
