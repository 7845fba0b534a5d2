"""Side-by-side runs of a few methods (e.g. a Bayesian variant) without touching the main results.

    .venv/bin/python -m bench.optimizer.experiment --methods kubetune-Bayesian,kubetune-Bayesian+yj \
        --tasks DT-diabetes-mse,linear-breast-nll --settings 16x2 --tuning-seeds 3 --out /tmp/exp.jsonl
Scores use the frozen baseline where the problem has an entry. Runs already in ``--out`` whose
fingerprints still match are reused, as the main harness reuses its store: a screen that was
stopped continues where it stopped when started again with the same arguments.

Every (setting, method) is compared with a yardstick on their common seeds: the mean score over
the real-model problems, the paired 90 % interval of the lead, and on how many problems it holds
(its score at least the yardstick's). The yardstick is the first method at the same setting, or
``--against METHOD@ROUNDSxQ``, run alongside (issue 7's reference bar:
``--against kubetune-Random@15x8`` beside ``--settings 15x2``). Each setting with more than one
method then gets their median ranks over the real-model problems (issue 7's median-rank bar).
Screen variants on ``--tuning-seeds N`` (seeds from ``TUNING_SEEDS_FROM``), never on the seeds the
bars are measured on. ``--reuse-from bench/results/optimizer.runs.jsonl`` takes the store's current
runs where they match (Random 120 / q8's, say) instead of running them again, and ``--budgets``
reads every method's first k trials against the yardstick, k = 30, 35, ..., 60: how many trials the
reference bar needs, on any seeds.

``--in-rounds`` runs the 2020 challenge's synchronous protocol instead of the operator's
asynchronous one: ask ``q`` points, evaluate all of them, tell all, repeat. A method with a
native batch proposal (HEBO's ``suggest(n_suggestions=q)``) then never sees a pending point: it
shows whether the asynchronous protocol, not the method, explains a score.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from bench.optimizer import report, scoring
from bench.optimizer.__main__ import (BASELINE, TUNING_SEEDS_FROM, _job, append_run, cached_runs, run_key,
                                      seed_list)


def run_in_rounds(task_name: str, method: str, seed: int, rounds: int, q: int, threads: int = 1) -> dict:
    """One run in synchronous rounds; the record has ``protocol.run``'s fields. Not in
    ``protocol.py``: that file is part of every stored run's fingerprint."""
    import time

    import torch

    from bench.optimizer import methods
    from bench.optimizer.tasks import task_by_name
    torch.set_num_threads(threads)
    task = task_by_name(task_name)
    record = {"task": task_name, "method": method, "seed": seed, "rounds": rounds, "q": q,
              "losses": [], "ask_seconds": []}
    started = time.perf_counter()
    opt = methods.make(method, task.space, seed)
    try:
        for _ in range(rounds):
            t0 = time.perf_counter()
            proposals = opt.ask(q)
            record["ask_seconds"].append((q, time.perf_counter() - t0))
            for token, params in proposals:
                loss = float(task.evaluate(params))
                opt.tell(token, loss)
                record["losses"].append(loss)
    except Exception as exc:  # noqa: BLE001 — reported as FAILED, never scored
        record["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        opt.close()
    record["seconds"] = time.perf_counter() - started
    return record


def run_missing(jobs: list[tuple], out: Path, workers: int, in_rounds: bool = False,
                reuse_from: Sequence[Path] = (), reuse_only: bool = False) -> list[dict]:
    """The runs of ``jobs``: those already in ``out`` and still current, plus the others, run now
    and appended to ``out`` as each finishes. Synchronous-round runs are always run again: their
    protocol (``run_in_rounds``) is not part of any fingerprint. The current runs of the files
    ``reuse_from`` (the run store, say) count as done too, under the job's setting name whatever
    theirs (a run is fixed by problem, rounds, q, method, seed and fingerprints), and are not
    copied to ``out``: a screen against Random 120 / q8 reads the store's runs instead of repeating them.
    ``reuse_only`` raises ``LookupError`` naming the missing runs instead of running them, so that
    printing a table from runs on file cannot start hours of runs when a file is incomplete."""
    done = {} if in_rounds else {run_key(r): r for r in cached_runs(out)}
    # a job (task, label, rounds, q, method, seed) is the run_key of the record it produces
    elsewhere = {} if in_rounds else {_unlabelled(run_key(r)): r for path in reuse_from for r in cached_runs(path)}
    borrowed = {job: dict(elsewhere[_unlabelled(job)], setting=job[1]) for job in jobs
                if job not in done and _unlabelled(job) in elsewhere}
    done |= borrowed
    records = [done[job] for job in jobs if job in done]
    missing = [job for job in jobs if job not in done]
    if reuse_only and missing:
        raise LookupError(f"{len(missing)} of {len(jobs)} runs are not on file (first: {missing[0]}); "
                          "without --reuse-only they would be run and appended to " + str(out))
    print(f"{len(records)} of {len(jobs)} runs reused from {out}"
          + (f" ({len(borrowed)} of them from {', '.join(map(str, reuse_from))})" if reuse_from else "")
          + f"; running {len(missing)}", flush=True)
    with ProcessPoolExecutor(workers) as pool:
        for r in pool.map(partial(_job, protocol=run_in_rounds if in_rounds else None), missing):
            append_run(out, r)
            records.append(r)
            print(r["task"], r["setting"], r["method"], r["seed"], r.get("error") or min(r["losses"]),
                  f"{r.get('seconds', 0):.0f}s", flush=True)
    return records


def _unlabelled(key: tuple) -> tuple:
    """A run key without its setting's name: (task, rounds, q, method, seed)."""
    return key[:1] + key[2:]


def at_budget(records: list[dict], trials: int, yardstick: tuple[str, str]) -> list[dict]:
    """Every run cut to its first ``trials`` launched trials (``report.first_trials``: the run the
    method makes with that budget), the yardstick's runs whole; runs shorter than ``trials`` are left out."""
    return [r if (r["method"], r["setting"]) == yardstick else report.first_trials(r, trials)
            for r in records if (r["method"], r["setting"]) == yardstick or r["rounds"] * r["q"] >= trials]


def compared_with_yardstick(records: list[dict], problems: dict[str, dict],
                            against: tuple[str, str] | None = None) -> list[dict[str, Any]]:
    """Each (method, setting) of ``records`` beside its yardstick on the problems of ``problems``
    (the frozen baseline's) that both ran, each problem on the seeds both ran, as the report's
    reference table pairs them (``report.against_random``): the yardstick is ``against`` as
    (method, setting), or else the first method of ``records`` at the same setting."""
    runs: dict[tuple[str, str], dict[str, list[dict]]] = {}
    for r in records:
        if r["task"] in problems:
            runs.setdefault((r["method"], r["setting"]), {}).setdefault(r["task"], []).append(r)
    first_at: dict[str, str] = {}
    for method, setting in runs:
        first_at.setdefault(setting, method)
    rows = []
    for (method, setting), mine in runs.items():
        yardstick = against or (first_at[setting], setting)
        if yardstick == (method, setting) or yardstick not in runs:
            continue
        theirs = runs[yardstick]
        compared = {task: row for task in sorted(mine.keys() & theirs.keys())
                    if (row := report.against_random(mine[task], theirs[task], problems[task]))}
        if not compared:
            continue
        paired = [(_bests_on(mine[task], row["seed_list"]), _bests_on(theirs[task], row["seed_list"]),
                   problems[task]["clip"], problems[task]["opt"]) for task, row in compared.items()]
        rows.append({"setting": setting, "method": method, "yardstick": "@".join(yardstick),
                     "problems": len(compared), "seeds": min(row["seeds"] for row in compared.values()),
                     "score": float(np.mean([row["score"] for row in compared.values()])),
                     "yardstick_score": float(np.mean([row["random_120_q8"] for row in compared.values()])),
                     "lead_interval": scoring.paired_score_difference_interval(paired),
                     "holds": sum(row["holds"] for row in compared.values()),
                     "ahead_beyond_noise": [t for t, row in compared.items() if row["difference_interval_90"][0] > 0],
                     "short_beyond_noise": [t for t, row in compared.items() if row["difference_interval_90"][1] < 0]})
    return rows


def median_ranks(records: list[dict], problems: dict[str, dict]) -> dict[str, dict[str, tuple[float, int]]]:
    """Each method's median rank (1 = best) and number of problems, by setting, over the problems of
    ``problems``: issue 7's median-rank bar on these runs (the report's ranking, each problem on the
    seeds that all methods at its setting completed). Settings with a single method are left out."""
    out, settings = {}, sorted({r["setting"] for r in records})
    for setting, by_task in report.model_ranks(report.common_seed_groups(records), problems, settings).items():
        ranks: dict[str, list[float]] = {}
        for ranked in by_task.values():
            for method, rank in ranked.items():
                ranks.setdefault(method, []).append(rank)
        if len(ranks) > 1:
            medians = {m: (float(np.median(v)), len(v)) for m, v in ranks.items()}
            out[setting] = dict(sorted(medians.items(), key=lambda kv: kv[1][0]))
    return out


def _bests_on(runs: list[dict], seeds: list[int]) -> list[float]:
    """Each run's best loss, in the order of ``seeds``."""
    best = {r["seed"]: min(r["losses"]) for r in runs}
    return [best[seed] for seed in seeds]


def method_at_setting(text: str) -> tuple[str, str]:
    """``METHOD@ROUNDSxQ`` as (method, setting)."""
    method, _, setting = text.rpartition("@")
    rounds, _, q = setting.partition("x")
    if not (method and rounds.isdigit() and q.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not METHOD@ROUNDSxQ, e.g. kubetune-Random@15x8")
    return method, setting


def _print_comparison(row: dict[str, Any], prefix: str = "") -> None:
    """One ``compared_with_yardstick`` row as a line."""
    low, high = row["lead_interval"]
    print(f"{prefix}{row['setting']} {row['method']} against {row['yardstick']}: {row['problems']} problems, "
          f"at least {row['seeds']} seeds each: mean score {row['score']:.2f} vs {row['yardstick_score']:.2f} "
          f"(lead 90 %: {low:+.2f} to {high:+.2f}), holds on {row['holds']} of {row['problems']}; "
          f"beyond seed noise ahead on {', '.join(row['ahead_beyond_noise']) or 'none'}, "
          f"short on {', '.join(row['short_beyond_noise']) or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--methods", required=True)
    parser.add_argument("--tasks", required=True)
    parser.add_argument("--settings", default="16x2", help="comma-separated ROUNDSxQ")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1")
    parser.add_argument("--only-seeds", type=seed_list, default=None,
                        help="these seeds instead, e.g. 5-9 (more seeds later)")
    parser.add_argument("--tuning-seeds", type=int, default=None,
                        help=f"N seeds from {TUNING_SEEDS_FROM} instead, none of them a bar's: for variant screens")
    parser.add_argument("--against", type=method_at_setting, default=None,
                        help="the yardstick METHOD@ROUNDSxQ, run too (default: the first method at each setting)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", default="/tmp/bench-experiment.jsonl")
    parser.add_argument("--in-rounds", action="store_true",
                        help="synchronous rounds (ask q, tell q) instead of the asynchronous protocol")
    parser.add_argument("--reuse-from", type=Path, action="append", default=[],
                        help="also reuse the current runs of this run file (e.g. bench/results/optimizer.runs.jsonl), "
                             "without copying them to --out; repeatable")
    parser.add_argument("--reuse-only", action="store_true",
                        help="only print the tables of runs on file: fail, naming them, if any are missing")
    parser.add_argument("--budgets", action="store_true",
                        help=f"with --against: the comparison also at budgets {', '.join(map(str, report.BUDGETS))}, "
                             "each method's first k trials against the yardstick's whole runs")
    args = parser.parse_args()
    if args.budgets and not args.against:
        parser.error("--budgets needs --against: the yardstick's runs are read whole, every other run cut")
    seeds = args.only_seeds or (range(TUNING_SEEDS_FROM, TUNING_SEEDS_FROM + args.tuning_seeds)
                                if args.tuning_seeds else range(args.seeds))

    def labelled(setting: str) -> str:
        return f"{setting}-rounds" if args.in_rounds else setting

    runs = [(m, setting) for setting in args.settings.split(",") for m in args.methods.split(",")]
    if args.against and args.against not in runs:
        runs.insert(0, args.against)
    jobs = []
    for m, setting in runs:
        rounds, q = map(int, setting.split("x"))
        jobs += [(task, labelled(setting), rounds, q, m, seed) for task in args.tasks.split(",") for seed in seeds]
    try:
        records = run_missing(jobs, Path(args.out), args.jobs, in_rounds=args.in_rounds,
                              reuse_from=args.reuse_from, reuse_only=args.reuse_only)
    except LookupError as missing:
        parser.error(f"--reuse-only: {missing}")
    base = scoring.load_baseline(BASELINE).get("problems", {})
    from bench.optimizer.tasks import function_tasks
    fns = {t.name: t.optimum for t in function_tasks()}
    failed = [r for r in records if r.get("error")]
    for r in failed:  # a failed run's losses stop at the failing ask: never scored as if complete
        print(f"FAILED {r['task']} {r['setting']} {r['method']} seed {r['seed']}: {r['error']}")
    records = [r for r in records if not r.get("error")]
    keys = sorted({(r["task"], r["setting"], r["method"]) for r in records})
    for task, setting, m in keys:
        bests = [min(r["losses"]) for r in records if (r["task"], r["setting"], r["method"]) == (task, setting, m)]
        if task in base:
            s = scoring.problem_score(bests, base[task]["clip"], base[task]["opt"])
            print(f"{task:22s} {setting:6s} {m:28s} score {s:6.1f}  mean best {np.mean(bests):.5g}")
        elif task in fns:
            print(f"{task:22s} {setting:6s} {m:28s} mean log10 regret "
                  f"{np.mean([scoring.log10_regret(b, fns[task]) for b in bests]):.2f}")
        else:
            print(f"{task:22s} {setting:6s} {m:28s} mean best {np.mean(bests):.5g}")
    against = (args.against[0], labelled(args.against[1])) if args.against else None
    for row in compared_with_yardstick(records, base, against):
        _print_comparison(row)
    for trials in report.BUDGETS if args.budgets else ():
        for row in compared_with_yardstick(at_budget(records, trials, against), base, against):
            _print_comparison(row, f"first {trials} trials: ")
    for setting, ranks in median_ranks(records, base).items():
        print(f"{setting} median rank over the problems (1 = best; each problem on the seeds all its methods ran): "
              + ", ".join(f"{m} {rank:.2f} ({n} problems)" for m, (rank, n) in ranks.items()))


if __name__ == "__main__":
    main()
