"""Exact expected scores on a problem whose space is finite (the kNN problems: 200 configurations).

The reference bar compares 30 trials with Random's 120. On a finite space both sides can be
computed exactly rather than sampled: every configuration is evaluated once, and the best of k
distinct uniform trials has a hypergeometric law. It also measures how much a strategy's 30
trials must know before the first one: confined in advance to the m best configurations (known as
a set, not in order), they score what ``expected_best(losses[:m], 30)`` says, and the largest m
that still matches Random's 120 is that knowledge.

    PYTHONPATH=.:operator .venv/bin/python -m bench.optimizer.finite_space
"""

from __future__ import annotations

import argparse
import itertools
from math import comb
from typing import Any, Sequence

import numpy as np

from bench.optimizer import scoring, tasks
from bench.optimizer.__main__ import BASELINE, RUNS, cached_runs
from bench.optimizer.space import Param

REFERENCE_SETTINGS = ("ref-Bayesian-30xq2", "ref-Random-120xq8")


def configurations(space: list[Param]) -> list[dict[str, Any]]:
    """Every configuration of ``space``; a real parameter makes it infinite, which is an error."""
    choices = []
    for p in space:
        if p["type"] == "real":
            raise ValueError(f"parameter {p['name']!r} is real: the space is not finite")
        choices.append(range(p["low"], p["high"] + 1) if p["type"] == "int"
                       else [False, True] if p["type"] == "bool" else p["values"])
    return [dict(zip([p["name"] for p in space], combo)) for combo in itertools.product(*choices)]


def expected_best(losses: Sequence[float], k: int) -> float:
    """Mean of the smallest loss among ``k`` distinct configurations drawn uniformly from ``losses``.

    The i-th smallest (from 0) is the best drawn when it is drawn and the k − 1 others come from
    the m − 1 − i larger ones: probability C(m − 1 − i, k − 1) / C(m, k).
    """
    ordered = np.sort(np.asarray(losses, dtype=float))
    m = len(ordered)
    if not 1 <= k <= m:
        raise ValueError(f"k must be in 1..{m}, got {k}")
    total = comb(m, k)  # exact integers, divided one by one: no float overflow for large spaces
    weights = np.array([comb(m - 1 - i, k - 1) / total for i in range(m)])
    return float(weights @ ordered)


def largest_prior(losses: Sequence[float], k: int, target: float) -> int:
    """The largest m such that k uniform trials among the m best configurations still reach ``target``
    (0 when ``target`` is below the best loss, which no trials reach)."""
    ordered = np.sort(np.asarray(losses, dtype=float))
    return max((m for m in range(k, len(ordered) + 1) if expected_best(ordered[:m], k) <= target), default=0)


def observed(runs: list[dict], task: str, baseline: dict[str, float],
             best: float) -> dict[tuple[str, str], tuple[float, int, int]]:
    """(score, seeds, seeds whose best loss is ``best``) per (setting, method) of ``runs``."""
    bests: dict[tuple[str, str], list[float]] = {}
    for run in runs:
        if run["task"] == task and run["setting"] in REFERENCE_SETTINGS:
            bests.setdefault((run["setting"], run["method"]), []).append(min(run["losses"]))
    return {key: (scoring.problem_score(values, baseline["clip"], baseline["opt"]), len(values),
                  sum(v - best <= 1e-9 * abs(best) for v in values))
            for key, values in sorted(bests.items())}


def report(task: tasks.Task, trials: int, against: int, stored: list[dict]) -> list[str]:
    """The table for one problem; ``stored`` are the run store's current runs."""
    losses = np.sort([task.evaluate(c) for c in configurations(task.space)])
    baseline = scoring.load_baseline(BASELINE)["problems"][task.name]

    def score(expected_loss: float) -> float:
        return scoring.problem_score([expected_loss], baseline["clip"], baseline["opt"])

    target = expected_best(losses, against)
    m = largest_prior(losses, trials, target)
    lines = [f"## {task.name}: {len(losses)} configurations, best {losses[0]:.6g}, second {losses[1]:.6g}",
             f"Random, {against} distinct trials: expected score {score(target):.2f}",
             f"Random, {trials} distinct trials: expected score {score(expected_best(losses, trials)):.2f}",
             f"{trials} trials among the m best configurations, known in advance (expected score):"]
    sizes = sorted({*range(trials, min(len(losses), 3 * trials) + 1, trials // 6 or 1), m})
    lines.append("  " + ", ".join(f"m={size} {score(expected_best(losses[:size], trials)):.2f}" for size in sizes))
    lines.append(f"largest m whose {trials} trials reach Random's {against}: {m} of {len(losses)}")
    lines.append("stored runs: score (seeds; seeds that found the best configuration): " + "; ".join(
        f"{method} @{setting} {s:.2f} ({n}; {hits})"
        for (setting, method), (s, n, hits) in observed(stored, task.name, baseline, losses[0]).items()))
    return lines


def finite_problems() -> dict[str, tasks.Task]:
    """The full mode's problems whose every parameter is integer, boolean or categorical."""
    return {name: task for name, task in tasks.all_tasks(quick=False).items()
            if all(p["type"] != "real" for p in task.space)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tasks", nargs="*", help="problems with a finite space (default: every one)")
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--against", type=int, default=120, help="Random's trials")
    args = parser.parse_args(argv)
    finite = finite_problems()
    names = args.tasks or list(finite)
    for name in names:  # every argument checked before the first problem is evaluated
        if name not in finite:
            parser.error(f"{name}: not a problem with a finite space (those are {', '.join(finite)})")
        size = len(configurations(finite[name].space))
        for flag, value in (("--trials", args.trials), ("--against", args.against)):
            if not 1 <= value <= size:
                parser.error(f"{flag}: must be in 1..{size}, the configurations of {name}; got {value}")
    stored = cached_runs(RUNS)
    for name in names:
        print("\n".join(report(finite[name], args.trials, args.against, stored)))


if __name__ == "__main__":
    main()
