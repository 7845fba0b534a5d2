"""Issue 7's median-rank bar over any run files, e.g. the out-of-sample runs kept under
``bench/results/experiments/``, which the main report (the run store only) never reads:

    PYTHONPATH=.:operator .venv/bin/python -m bench.optimizer.ranks bench/results/experiments/heldout-*.jsonl

Each method's median rank over every problem and setting the files hold, ranked as the report
ranks them (``report.analyse``): the real-model problems at 16 x q8 and 16 x q2 by score, the
test functions by mean log10 regret, each problem on the seeds all its methods completed. A
method absent from a problem is not ranked there, so the count of problems says how much of the
bar a method was measured on.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.optimizer import report, scoring
from bench.optimizer.__main__ import BASELINE, read_runs


def overall_median_ranks(analysis: dict[str, Any]) -> dict[str, tuple[float, int]]:
    """(median rank, number of problem-settings ranked) per method of ``report.analyse``'s result, best first."""
    ranks = {m: (rank, len(analysis["ranks"][m])) for m, rank in analysis["median_rank"].items()}
    return dict(sorted(ranks.items(), key=lambda kv: kv[1][0]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path, help="run files (JSON lines, as experiment.py writes)")
    args = parser.parse_args()
    analysis = report.analyse([r for path in args.files for r in read_runs(path)], scoring.load_baseline(BASELINE))
    for problem, stats in analysis["function"].items():
        print(f"{problem:16s} mean log10 regret: " + ", ".join(
            f"{m} {s['mean_log10']:.2f} ({s['seeds']} seeds)" for m, s in sorted(stats.items(), key=lambda kv: kv[1]["mean_log10"])))
    print("median rank over all problems and settings (1 = best): " + ", ".join(
        f"{m} {rank:.1f} ({n} problems)" for m, (rank, n) in overall_median_ranks(analysis).items()))


if __name__ == "__main__":
    main()
