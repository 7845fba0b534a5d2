"""Seconds per ``ask`` of kubetune's strategies at 10, 100 and 500 observations.

Not a test. Writes ``bench/results/suggest_time.json`` and ``.md``. Each cell is the median of
``--repeats`` asks on a random history of a smooth function (d dimensions), after one warm-up ask.

Usage: ``.venv/bin/python bench/suggest_time.py [--repeats 3] [--threads 2]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from kubetune import ContinuousParameter, Optimizer

RESULTS = Path(__file__).resolve().parent / "results"


def ask_seconds(strategy: str, dim: int, observations: int, q: int, repeats: int) -> float:
    rng = np.random.default_rng(observations + dim)
    space = {f"x{i}": ContinuousParameter(0.0, 1.0) for i in range(dim)}
    history = rng.random((observations, dim))
    values = ((history - 0.3) ** 2).sum(1)
    times = []
    for repeat in range(repeats + 1):
        opt = Optimizer(space, strategy=strategy, objective_type="Minimize", seed=repeat)
        for x, y in zip(history, values):
            opt.tell({f"x{i}": float(v) for i, v in enumerate(x)}, float(y))
        started = time.perf_counter()
        opt.ask(q)
        if repeat:  # the first ask warms up imports and caches
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the machine's cores)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for strategy in ("Bayesian", "Random"):
        for dim in (3, 10):
            for q in (1, 8):
                for n in (10, 100, 500):
                    seconds = ask_seconds(strategy, dim, n, q, args.repeats)
                    rows.append({"strategy": strategy, "dim": dim, "q": q, "observations": n, "seconds": seconds})
                    print(rows[-1], flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "suggest_time.json").write_text(json.dumps(rows, indent=1))
    lines = ["# Seconds per ask", "", "| strategy | d | q | n=10 | n=100 | n=500 |", "|---|---|---|---|---|---|"]
    for strategy in ("Bayesian", "Random"):
        for dim in (3, 10):
            for q in (1, 8):
                cells = [f"{r['seconds']:.3f}" for r in rows if (r["strategy"], r["dim"], r["q"]) == (strategy, dim, q)]
                lines.append(f"| {strategy} | {dim} | {q} | " + " | ".join(cells) + " |")
    (RESULTS / "suggest_time.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
