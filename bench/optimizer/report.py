"""Scores, tables (``optimizer.md``), raw results (``optimizer.json``) and plots."""

from __future__ import annotations

import heapq
import json
import math
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np

from bench.optimizer import scoring
from bench.optimizer.methods import METHODS
from bench.optimizer.tasks import function_tasks

FUNCTIONS = {t.name: t for t in function_tasks()}
MAIN_SETTINGS = ["16x8", "16x2"]
REF_B, REF_R = "ref-Bayesian-30xq2", "ref-Random-120xq8"
# twice the reference's trials (60 at q 2; kubetune and the peers that ran it): how far the 30-trial bar is from holding
REF_B60 = "ref-Bayesian-60xq2"
# budgets read off the 60-trial runs: how many trials at q 2 each method needs to reach Random 120 / q8
BUDGETS = (30, 35, 40, 45, 50, 55, 60)
KUBETUNE = "kubetune-Bayesian"
# random halvings of Random's own seeds: what the reference bar asks of a method exactly as good as Random
EQUAL_METHOD_SPLITS = 2000


def _is_model(task: str) -> bool:
    return task not in FUNCTIONS


def ensure_baseline(records: list[dict], path: Path, freeze: bool, jobs: int,
                    baseline_job: Callable[[str], tuple[str, list[float]]]) -> dict:
    data = scoring.load_baseline(path)
    problems = data.setdefault("problems", {})
    tasks = sorted({r["task"] for r in records if _is_model(r["task"])})
    missing = [t for t in tasks if t not in problems]
    if missing:
        with ProcessPoolExecutor(jobs) as pool:
            for name, losses in pool.map(baseline_job, missing):
                problems[name] = scoring.baseline_entry(losses)
                print(f"baseline {name}: clip {problems[name]['clip']:.5g}, random best {problems[name]['opt']:.5g}",
                      flush=True)
    for r in records:
        if r["task"] in problems and r["losses"] and (freeze or r["task"] in missing):
            scoring.update_opt(problems[r["task"]], min(r["losses"]), f"{r['method']} seed {r['seed']} {r['setting']}")
    data["about"] = ("clip = median loss of one random evaluation, opt = best loss ever found "
                     f"({scoring.N_RANDOM} random evaluations per problem plus every method's best of the run "
                     "that froze it); 3-fold CV, fixed folds and model seeds")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True))
    return data


def _by_method(records: list[dict]) -> dict[tuple[str, str, str], list[dict]]:
    """Completed runs by (problem, setting, method), every seed each method has."""
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for r in records:
        if r["losses"] and "error" not in r:
            groups[(r["task"], r["setting"], r["method"])].append(r)
    return groups


def _on_common_seeds(groups: dict[tuple[str, str, str], list[dict]]) -> dict[tuple[str, str, str], list[dict]]:
    """``_by_method``'s groups, keeping only the seeds that every method of that (problem, setting)
    completed: ranks and curves compare methods on the same seeds even when one method's run is
    partial."""
    seeds: dict[tuple[str, str], set] = {}
    for (task, setting, _), runs in groups.items():
        s = {r["seed"] for r in runs}
        seeds[(task, setting)] = seeds[(task, setting)] & s if (task, setting) in seeds else s
    return {k: sorted((r for r in v if r["seed"] in seeds[(k[0], k[1])]), key=lambda r: r["seed"])
            for k, v in groups.items() if any(r["seed"] in seeds[(k[0], k[1])] for r in v)}


def _fmt(x: float, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:.{digits}g}" if abs(x) < 1e4 else f"{x:.3e}"


def _rank(values: dict[str, float]) -> dict[str, float]:
    """Average ranks (1 = best, lower value better); ties share."""
    items = sorted(values.items(), key=lambda kv: kv[1])
    ranks: dict[str, float] = {}
    i = 0
    while i < len(items):
        j = i
        while j + 1 < len(items) and abs(items[j + 1][1] - items[i][1]) < 1e-12:
            j += 1
        for k in range(i, j + 1):
            ranks[items[k][0]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _normalised(runs: list[dict], problem: dict) -> float:
    return scoring.problem_normalised([min(r["losses"]) for r in runs], problem["clip"], problem["opt"])


def common_seed_groups(records: list[dict]) -> dict[tuple[str, str, str], list[dict]]:
    """Completed runs by (problem, setting, method), on the seeds every method there completed."""
    return _on_common_seeds(_by_method(records))


def model_ranks(groups: dict[tuple[str, str, str], list[dict]], problems: dict[str, dict], settings: list[str],
                methods: list[str] | None = None) -> dict[str, dict[str, dict[str, float]]]:
    """Ranks (1 = best) by setting and real-model problem of ``problems``: each (problem, setting)
    compares its methods on the seeds that all of them completed (``groups`` from
    ``common_seed_groups``). ``methods`` limits and orders them (ties keep that order); by default
    every method of the groups, by name."""
    tasks = sorted({t for t, _, _ in groups if _is_model(t) and t in problems})
    order = methods or sorted({m for _, _, m in groups})
    ranked: dict[str, dict[str, dict[str, float]]] = {}
    for setting in settings:
        for task in tasks:
            scores = {m: _normalised(groups[(task, setting, m)], problems[task]) for m in order
                      if (task, setting, m) in groups}
            ranked.setdefault(setting, {})[task] = _rank(scores)
    return ranked


def analyse(records: list[dict], baseline: dict) -> dict[str, Any]:
    every_seed = _by_method(records)
    groups = _on_common_seeds(every_seed)
    problems = baseline.get("problems", {})
    out: dict[str, Any] = {"model": {}, "function": {}, "ranks": defaultdict(list), "reference": {}, "repeats": {}}
    model_tasks = sorted({t for t, _, _ in groups if _is_model(t)})

    def paired_with_kubetune(task: str, setting: str, runs: list[dict]) -> tuple | None:
        """(kubetune's bests, the method's bests, clip, opt) seed by seed, if kubetune ran them all."""
        theirs = {r["seed"]: min(r["losses"]) for r in runs}
        ours = {r["seed"]: min(r["losses"]) for r in every_seed.get((task, setting, KUBETUNE), [])}
        if not theirs.keys() <= ours.keys():
            return None
        seeds = sorted(theirs)
        return [ours[s] for s in seeds], [theirs[s] for s in seeds], problems[task]["clip"], problems[task]["opt"]

    for by_task in model_ranks(groups, problems, MAIN_SETTINGS, METHODS).values():
        for ranks in by_task.values():
            for m, rank in ranks.items():
                out["ranks"][m].append(rank)
    for setting in MAIN_SETTINGS:
        per_method: dict[str, dict[str, float]] = defaultdict(dict)
        pairs: dict[str, list[tuple | None]] = defaultdict(list)
        for task in [t for t in model_tasks if t in problems]:
            for m in METHODS:
                runs = every_seed.get((task, setting, m))
                if runs:  # a method's score uses every seed it has; kubetune's beside it the same seeds
                    per_method[m][task] = _normalised(runs, problems[task])
                    pairs[m].append(paired_with_kubetune(task, setting, runs))
        out["repeats"][setting] = {m: float(np.mean([scoring.repeated_fraction(r["losses"]) for t in d
                                                      for r in every_seed[(t, setting, m)]]))
                                   for m, d in per_method.items()}
        out["model"][setting] = {m: {"per_task": {t: 100 * (1 - v) for t, v in d.items()},
                                     "score": scoring.score(d.values()), "n_tasks": len(d),
                                     "kubetune_same": _kubetune_same(pairs[m]),
                                     "kubetune_lead": _lead_interval(m, pairs[m]),
                                     "runs": sum(len(every_seed[(t, setting, m)]) for t in d),
                                     "seeds": sorted({r["seed"] for t in d for r in every_seed[(t, setting, m)]})}
                                 for m, d in per_method.items()}
    rows = []
    for task in model_tasks:
        b, random_runs = problems.get(task), every_seed.get((task, REF_R, "kubetune-Random"))
        if not (b and random_runs):
            continue
        thirty = _methods_against_random(every_seed, task, REF_B, random_runs, b)
        if KUBETUNE in thirty:
            ours = every_seed[(task, REF_B, KUBETUNE)]
            rows.append({"task": task, **thirty.pop(KUBETUNE),
                         "peers": _beside_kubetune(thirty, ours, b),
                         "sixty": _beside_kubetune(_methods_against_random(every_seed, task, REF_B60, random_runs, b),
                                                   ours, b)})
    out["reference"] = {"rows": rows, **_reference_summary(rows),
                        **{key: _summaries_by_method(rows, key) for key in ("peers", "sixty")},
                        "budgets": _budgets(every_seed, [r["task"] for r in rows], problems),
                        "equal_method": equal_method_holds(
                            {r["task"]: [min(run["losses"]) for run in every_seed[(r["task"], REF_R, "kubetune-Random")]]
                             for r in rows}, problems)}
    for task, fn in FUNCTIONS.items():
        for setting in sorted({s for t, s, _ in groups if t == task}):
            stats = {}
            for m in METHODS:
                runs = groups.get((task, setting, m))
                if runs:
                    regrets = [min(r["losses"]) - fn.optimum for r in runs]
                    stats[m] = {"mean": float(np.mean(regrets)), "median": float(np.median(regrets)),
                                "mean_log10": float(np.mean([scoring.log10_regret(min(r["losses"]), fn.optimum)
                                                             for r in runs])), "seeds": len(runs)}
            for m, rank in _rank({m: s["mean_log10"] for m, s in stats.items()}).items():
                out["ranks"][m].append(rank)
            out["function"][f"{task} {setting}"] = stats
    out["median_rank"] = {m: float(np.median(v)) for m, v in out["ranks"].items()}
    out["ranks"] = dict(out["ranks"])
    ask = defaultdict(list)
    for r in records:
        for k, s in r.get("ask_seconds", [])[1:]:  # skip the first (batch of q, imports)
            ask[(r["method"], r["q"])].append(s)
    out["ask_in_runs"] = {f"{m} q{q}": {"mean": float(np.mean(v)), "p95": float(np.percentile(v, 95))}
                          for (m, q), v in sorted(ask.items())}
    return out


def _kubetune_same(pairs: list[tuple | None]) -> float:
    """kubetune's score on exactly a method's problems and seeds (NaN where it lacks one)."""
    return scoring.score([scoring.problem_normalised(p[0], p[2], p[3]) if p else math.nan for p in pairs])


def _lead_interval(method: str, pairs: list[tuple | None]) -> tuple[float, float] | None:
    """kubetune's score minus ``method``'s, 90 % paired-seed interval (None for kubetune itself,
    or where kubetune lacks one of the method's seeds)."""
    if method == KUBETUNE or any(p is None for p in pairs):
        return None
    return scoring.paired_score_difference_interval([p for p in pairs if p is not None])


def against_random(runs: list[dict], random: list[dict], baseline: dict,
                   interval: bool = True) -> dict[str, Any] | None:
    """One method's runs (30 or 60 trials at q 2) against Random's 120 at q 8 on the
    seeds both ran, paired by seed (``None`` without a common seed); with ``interval``, the
    bootstrap interval of the difference too (the costly part: seconds per call). ``experiment.py``
    passes any yardstick's runs as ``random``."""
    own_best = {r["seed"]: min(r["losses"]) for r in runs}
    random_best = {r["seed"]: min(r["losses"]) for r in random}
    seeds = sorted(own_best.keys() & random_best.keys())
    if not seeds:
        return None
    own_bests = [own_best[s] for s in seeds]
    random_bests = [random_best[s] for s in seeds]
    own, random_score = (scoring.problem_score(bests, baseline["clip"], baseline["opt"])
                         for bests in (own_bests, random_bests))
    # one accuracy level on one seed moves a plateau problem's score by a point: the count shows
    # whether a miss is one seed or all of them
    row = {"score": own, "random_120_q8": random_score, "holds": own >= random_score, "seeds": len(seeds),
           "seed_list": seeds, "seeds_not_worse": sum(x <= y for x, y in zip(own_bests, random_bests))}
    if interval:
        row["difference_interval_90"] = scoring.score_difference_interval(
            own_bests, random_bests, baseline["clip"], baseline["opt"])
    return row


def equal_method_holds(random_bests: dict[str, list[float]], problems: dict[str, dict],
                       splits: int = EQUAL_METHOD_SPLITS, seed: int = 0) -> dict[str, Any] | None:
    """How many problems a method exactly as good as Random 120 / q8 would hold on: Random's own
    seeds of each problem split at random into two halves, one half's score against the other's.

    For such a method each problem is a coin flip (ties aside), so the count is the yardstick for
    reading the reference bar's fraction, and "every problem" is met reliably only by a lead beyond
    seed noise on each one. ``None`` without two seeds on every problem.
    """
    if not random_bests or min(len(bests) for bests in random_bests.values()) < 2:
        return None
    rng = np.random.default_rng(seed)
    held = np.zeros(splits, dtype=int)
    for task, bests in random_bests.items():
        clip, opt = problems[task]["clip"], problems[task]["opt"]
        values = np.asarray(bests, dtype=float)
        half = len(values) // 2
        for split in range(splits):
            order = rng.permutation(len(values))
            held[split] += (scoring.problem_score(values[order[:half]], clip, opt)
                            >= scoring.problem_score(values[order[half:2 * half]], clip, opt))
    return {"problems": len(random_bests), "seeds_per_half": half, "splits": splits,
            "mean": float(held.mean()), "low": float(np.percentile(held, 5)),
            "high": float(np.percentile(held, 95)), "all": float(np.mean(held == len(random_bests)))}


def _methods_against_random(every_seed: dict[tuple[str, str, str], list[dict]], task: str, setting: str,
                            random: list[dict], baseline: dict) -> dict[str, dict[str, Any]]:
    """``against_random`` for every method with runs of ``task`` in ``setting`` on a seed Random has."""
    compared = {m: against_random(every_seed.get((task, setting, m), []), random, baseline) for m in METHODS}
    return {m: row for m, row in compared.items() if row}


def _beside_kubetune(compared: dict[str, dict[str, Any]], kubetune: list[dict],
                     baseline: dict) -> dict[str, dict[str, Any]]:
    """Each method's row with ``kubetune_30_q2``: kubetune's score with 30 trials at q 2 on exactly
    that row's seeds (``None`` where kubetune lacks one), so that a peer with fewer seeds or
    problems is compared on its own ground, not with kubetune's overall mean."""
    best = {r["seed"]: min(r["losses"]) for r in kubetune}
    for row in compared.values():
        bests = [best.get(s) for s in row["seed_list"]]
        row["kubetune_30_q2"] = (None if None in bests else
                                 scoring.problem_score(bests, baseline["clip"], baseline["opt"]))
    return compared


@lru_cache(maxsize=None)
def completion_order(seed: int, budget: int, q: int) -> tuple[int, ...]:
    """Launch index of each trial in the order ``protocol.run`` tells them. Its simulated durations
    (the same draw as there) alone fix that order, so it is recomputed here rather than factored
    out of the protocol, whose code keys every stored run; a test holds the two together."""
    durations = np.random.default_rng([seed, 7919]).lognormal(0.0, 0.5, budget)
    heap = [(durations[i], i) for i in range(min(q, budget))]
    heapq.heapify(heap)
    order = []
    while heap:
        now, index = heapq.heappop(heap)
        order.append(index)
        launched = len(order) + len(heap)
        if launched < budget:
            heapq.heappush(heap, (now + durations[launched], launched))
    return tuple(order)


def first_trials(record: dict, trials: int) -> dict:
    """``record`` cut to its first ``trials`` launched trials, in tell order: the run the same
    method makes with that budget, since no method is told the budget and every ask depends only
    on the results told before it."""
    order = completion_order(record["seed"], record["rounds"] * record["q"], record["q"])
    return dict(record, losses=[loss for loss, index in zip(record["losses"], order) if index < trials])


def _budgets(every_seed: dict[tuple[str, str, str], list[dict]], tasks: list[str],
             problems: dict) -> dict[str, dict[str, Any]]:
    """Per method with 60-trial runs: ``_reference_summary`` of its first k trials against Random
    120 / q8 for each k of ``BUDGETS``, and ``every_problem_from``, the least k from which it holds
    on every problem at every larger budget of ``BUDGETS`` (``None``: not even at 60). Random's own
    first k of its 120 trials come last, as the baseline: they were launched at q8, but Random's
    proposals ignore results, so in distribution they are its run with a budget of k at q 2."""

    def by_budget(runs: dict[str, list[dict]]) -> dict[str, Any]:
        # the table shows holds and means only: no bootstrap intervals (they cost ~50 s a report)
        summaries = {k: _reference_summary([row for t in tasks if (row := against_random(
            [first_trials(r, k) for r in runs[t]], every_seed[(t, REF_R, "kubetune-Random")], problems[t],
            interval=False))]) for k in BUDGETS}
        holding = [k for k in BUDGETS if all(summaries[j]["fraction"] == 1 for j in BUDGETS if j >= k)]
        return {"by_budget": summaries, "every_problem_from": holding[0] if holding else None}

    out = {}
    for m in METHODS:
        runs = {t: every_seed.get((t, REF_B60, m)) for t in tasks}
        if all(runs.values()):
            out[m] = by_budget(runs)
    if out:
        out["kubetune-Random"] = by_budget({t: every_seed[(t, REF_R, "kubetune-Random")] for t in tasks})
    return out


def _summaries_by_method(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    """``_reference_summary`` per method of the rows' ``key`` column (``peers`` or ``sixty``)."""
    return {m: _reference_summary([r[key][m] for r in rows if m in r[key]])
            for m in METHODS if any(m in r[key] for r in rows)}


def _reference_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Holds and means over ``rows``; the counts beyond seed noise only where every row has its interval."""
    summary = {"fraction": (sum(r["holds"] for r in rows) / len(rows)) if rows else None,
               "mean_score": float(np.mean([r["score"] for r in rows])) if rows else None,
               "mean_random_120_q8": float(np.mean([r["random_120_q8"] for r in rows])) if rows else None,
               "problems": len(rows),
               # a peer's rows only: kubetune's 30 trials on the same problems and seeds
               "mean_kubetune_30_q2": (float(np.mean([r["kubetune_30_q2"] for r in rows]))
                                       if rows and all(r.get("kubetune_30_q2") is not None for r in rows) else None)}
    if all("difference_interval_90" in r for r in rows):
        # a miss beyond seed noise: the whole interval of the method's score − Random's below 0;
        # a lead beyond it: the whole interval above 0
        summary |= {"misses_beyond_noise": sum(r["difference_interval_90"][1] < 0 for r in rows),
                    "leads_beyond_noise": sum(r["difference_interval_90"][0] > 0 for r in rows)}
    return summary


def _share(summary: dict[str, Any]) -> str:
    """Where a method holds, as a percentage and a count of the problems it ran."""
    held = round(summary["fraction"] * summary["problems"])
    return f"{summary['fraction'] * 100:.0f}% ({held} of {summary['problems']} problems)"


def _one_decimal(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _interval(row: dict[str, Any]) -> str:
    low, high = row["difference_interval_90"]
    return f"{low:+.2f} to {high:+.2f}"


def _holds(row: dict[str, Any]) -> str:
    return "yes" if row["holds"] else "NO"


def _peer_cell(row: dict[str, Any] | None, seeds: int) -> str:
    """A peer's score, whether it holds and its interval; its seed count where it ran fewer than
    kubetune's ``seeds`` (a partial run is compared with Random on its own seeds only)."""
    if row is None:
        return "—"
    fewer = f"; {row['seeds']} seeds" if row["seeds"] < seeds else ""
    return f"{row['score']:.1f} {_holds(row)} ({_interval(row)}{fewer})"


def _curves(records: list[dict], baseline: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    groups = common_seed_groups(records)
    panels = sorted({(t, s) for t, s, _ in groups if not s.startswith("ref-")})
    if not panels:
        path.unlink(missing_ok=True)  # no stale plot from an earlier run beside these tables
        return
    cols = 3
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
    problems = baseline.get("problems", {})
    for ax, (task, setting) in zip(axes.flat, panels):
        for m in METHODS:
            runs = groups.get((task, setting, m))
            if not runs:
                continue
            n = min(len(r["losses"]) for r in runs)
            curves = np.stack([scoring.best_so_far(r["losses"][:n]) for r in runs])
            if _is_model(task):
                b = problems.get(task)
                if not b:
                    continue
                y = np.minimum(1, (curves.mean(0) - b["opt"]) / max(b["clip"] - b["opt"], 1e-12))
                ax.set_ylabel("normalised loss (mean over seeds)")
            else:
                y = np.log10(np.maximum(curves - FUNCTIONS[task].optimum, 1e-8)).mean(0)
                ax.set_ylabel("log10 simple regret (mean)")
            ax.plot(np.arange(1, n + 1), y, label=m, lw=2 if m.startswith("kubetune") else 1)
        ax.set_title(f"{task} {setting}")
        ax.set_xlabel("evaluations told")
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _score_plot(analysis: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / max(1, len(MAIN_SETTINGS))
    for i, setting in enumerate(MAIN_SETTINGS):
        scores = analysis["model"].get(setting, {})
        ms = [m for m in METHODS if m in scores]
        ax.bar(np.arange(len(ms)) + i * width, [scores[m]["score"] for m in ms], width, label=setting)
        ax.set_xticks(np.arange(len(ms)) + width / 2, ms, rotation=20, fontsize=8)
    ax.set_ylabel("score (100 = best known, 0 = one random draw)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _timing_cell(row: dict) -> str:
    if "seconds" not in row:
        return "skipped" if "skipped" in row else "error"
    samples = row.get("samples", [])  # the range at the median's precision: 0.005 (0.01–0.01) misleads
    spread = f" ({min(samples):.3f}–{max(samples):.3f})" if len(samples) > 1 else ""
    return f"{row['seconds']:.3f}{spread}"


def _timing_plot(rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    combos = sorted({(r["dim"], r["q"]) for r in rows})
    if not combos:
        return
    fig, axes = plt.subplots(1, len(combos), figsize=(4.2 * len(combos), 3.6), squeeze=False)
    for ax, (d, q) in zip(axes[0], combos):
        for m in METHODS:
            pts = [(r["observations"], r["seconds"]) for r in rows
                   if r["method"] == m and r["dim"] == d and r["q"] == q and "seconds" in r]
            if pts:
                ax.plot(*zip(*pts), marker="o", label=m)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"d={d}, q={q}")
        ax.set_xlabel("observations")
        ax.set_ylabel("seconds per ask")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _machines(timing_rows: list[dict]) -> str:
    """Which CPU and how many torch threads measured which methods' rows: times are only
    comparable under one pair (passes may run with different ``--threads``)."""
    methods_on: dict[str, list[str]] = {}
    for r in timing_rows:
        threads = (f"torch on {r['threads']} thread{'s' * (r['threads'] != 1)}" if "threads" in r
                   else "torch threads not recorded")
        on = methods_on.setdefault(f"{r.get('machine', 'a machine not recorded')}, {threads}", [])
        if r["method"] not in on:
            on.append(r["method"])
    if len(methods_on) == 1:
        return f"Every row measured on {next(iter(methods_on))}."
    return "Rows from different machines or thread counts, not comparable across them: " + "; ".join(
        f"{where}: {', '.join(ms)}" for where, ms in methods_on.items()) + "."


def write(records: list[dict], baseline_path: Path, timing_rows: list[dict], meta: dict, outdir: Path,
          stem: str, store: Path, shown: list[str], command: str) -> None:
    """The tables and plots of ``records`` (this mode's current runs in the run ``store``), as the
    invocation ``command`` asked for them: the methods ``shown``."""
    baseline = scoring.load_baseline(baseline_path)
    a = analyse(records, baseline)
    kubetune_side = (f", kubetune's side of it {meta['kubetune_reference_seeds']}"
                     if meta.get("kubetune_reference_seeds") else "")
    lines = ["# Optimizer benchmark (issue 7)", "",
             f"Tables from the {len(records)} runs of this mode in the run store `{store.name}` "
             "whose method and problem fingerprints still match, whichever invocations produced them (the "
             f"`history` in `{stem}.meta.json` lists those since it was kept)"
             f"; tables by `{command}`. "
             f"Last invocation that ran jobs: `{meta.get('command')}` — {meta.get('seeds')} seeds (reference "
             f"comparison {meta.get('reference_seeds', meta.get('seeds'))}{kubetune_side}), {meta.get('jobs')} processes; "
             f"wall time: runs {meta.get('runs_seconds', 0) / 60:.1f} min, baseline {meta.get('baseline_seconds', 0) / 60:.1f} min, "
             f"suggestion times {meta.get('timing_seconds', 0) / 60:.1f} min, total {meta.get('total_seconds', 0) / 60:.1f} min; "
             f"{meta.get('runs_done', '?')} runs done, {meta.get('runs_reused', '?')} of its selection reused.",
             "", "Protocol: asynchronous parallel (q trials in flight, tell one → ask one; simulated log-normal "
             "durations paired across methods by seed). Real-model score = 100 × (1 − mean normalised loss) against "
             f"the frozen baseline `{baseline_path.relative_to(baseline_path.parents[2])}`.", ""]
    for note in meta.get("notes", []):
        lines += [f"> {note}", ""]
    errors = [r for r in records if "error" in r]
    if errors:
        lines += ["## Runs that failed (listed, not dropped)", "", "| problem | setting | method | seed | error |",
                  "|---|---|---|---|---|"]
        lines += [f"| {r['task']} | {r['setting']} | {r['method']} | {r['seed']} | {r['error'][:160]} |" for r in errors]
        lines.append("")
    absent = [m for m in METHODS if m not in shown]
    if absent:
        lines += [f"Methods left out of these tables: {', '.join(absent)}", ""]
    for setting in MAIN_SETTINGS:
        scores = a["model"].get(setting)
        if not scores:
            continue
        tasks = sorted({t for s in scores.values() for t in s["per_task"]})
        lines += [f"## Real-model problems, {setting} — score per problem and overall", "",
                  "Each method is scored on every seed it ran. Methods may have run different problems and "
                  "seeds (a partial run): `problems` and `runs` count them, and "
                  f"`{KUBETUNE} on them` is kubetune's score on exactly that method's problems and seeds; "
                  "`kubetune's lead` is that score minus the method's, with a 90 % bootstrap interval over "
                  "the seeds, paired (an interval that spans 0 is a lead or a deficit within seed luck).", "",
                  f"| method | score | problems | runs | {KUBETUNE} on them | kubetune's lead, 90 % interval | seeds | "
                  + " | ".join(tasks) + " |",
                  "|---|---|---|---|---|---|---|" + "---|" * len(tasks)]
        for m in METHODS:
            if m in scores:
                s = scores[m]
                lead = s.get("kubetune_lead")
                lead_cell = (f"{s['kubetune_same'] - s['score']:+.2f} ({lead[0]:+.2f} to {lead[1]:+.2f})"
                             if lead else "—")
                lines.append(f"| {m} | **{s['score']:.1f}** | {s['n_tasks']} | {s['runs']} | {s['kubetune_same']:.1f} | "
                             f"{lead_cell} | "
                             f"{','.join(map(str, s['seeds']))} | " +
                             " | ".join(_fmt(s["per_task"].get(t, math.nan), 4) for t in tasks) + " |")
        lines.append("")
    repeats = {setting: r for setting, r in a["repeats"].items() if r}
    if repeats:
        lines += ["## Evaluations that repeat an earlier loss exactly (real-model problems, mean share per run)", "",
                  "Distinct configurations that train the same model (a tree stump, one accuracy level): a high "
                  "share means trials spent on a plateau.", "",
                  "| method | " + " | ".join(repeats) + " |", "|---|" + "---|" * len(repeats)]
        lines += [f"| {m} | " + " | ".join(f"{repeats[s][m]:.0%}" if m in repeats[s] else "" for s in repeats) + " |"
                  for m in METHODS if any(m in r for r in repeats.values())]
        lines.append("")
    ref = a["reference"]
    if ref["rows"]:
        peers = list(ref["peers"])
        sixty = list(ref["sixty"])
        extra = [f"{m} 30/q2" for m in peers] + [f"{m} 60/q2" for m in sixty]
        lines += ["## Reference comparison: kubetune Bayesian 30 trials q2 vs Random 120 trials q8", "",
                  "| problem | Bayesian 30/q2 | Random 120/q8 | holds | Bayesian − Random, 90 % interval "
                  "| seeds where Bayesian's best ≤ Random's | " + " | ".join(extra) + " |",
                  "|---|---|---|---|---|---|" + "---|" * len(extra)]
        lines += [f"| {r['task']} | {r['score']:.1f} | {r['random_120_q8']:.1f} | {_holds(r)} "
                  f"| {_interval(r)} | {r['seeds_not_worse']} of {r['seeds']} | "
                  + " | ".join([_peer_cell(r["peers"].get(m), r["seeds"]) for m in peers]
                               + [_peer_cell(r["sixty"].get(m), r["seeds"]) for m in sixty])
                  + " |" for r in ref["rows"]]
        means = [ref["peers"][m] for m in peers] + [ref["sixty"][m] for m in sixty]
        lines += [f"| mean | {ref['mean_score']:.1f} | {ref['mean_random_120_q8']:.1f} | | | | "
                  + " | ".join(f"{p['mean_score']:.1f} (Random on its seeds {p['mean_random_120_q8']:.1f}; "
                               f"kubetune 30/q2 on them {_one_decimal(p['mean_kubetune_30_q2'])})"
                               for p in means) + " |"]
        lines += ["", f"Bayesian@30/q2 ≥ Random@120/q8 on **{ref['fraction'] * 100:.0f}%** of problems; "
                  f"short of it beyond seed noise (the whole interval below 0) on {ref['misses_beyond_noise']} of {len(ref['rows'])}. "
                  "Interval: bootstrap over each side's seeds, resampled independently."]
        equal = ref["equal_method"]
        if equal:
            lines += ["", f"The yardstick for that fraction: a method exactly as good as Random 120 / q8 holds on "
                      f"{equal['mean']:.1f} of {equal['problems']} problems on the mean (5–95 %: {equal['low']:.0f} to "
                      f"{equal['high']:.0f}) and on all {equal['problems']} in {round(equal['all'] * equal['splits'])} of "
                      f"{equal['splits']} splits of Random's own seeds into two random halves of "
                      f"{equal['seeds_per_half']} (one half's score against the other's). Each problem is a coin flip "
                      "for such a method: \"every problem\" holds reliably only with a lead beyond seed noise on each."]
        budgets = ref["budgets"]
        if budgets:
            lines += ["", "### Trials the bar needs: problems where a method's first k trials at q 2 reach Random 120 / q8", "",
                      "Read off the 60-trial runs: a run's first k launched trials are the run the method makes with a "
                      "budget of k (no method is told its budget). Cell: problems held (mean score); the last column: "
                      "the least k from which every problem holds at every larger budget. Random's row, the baseline: the first "
                      "k of its own 120 trials, launched at q8; its proposals ignore results, so in distribution they "
                      "are its run of k trials.", "",
                      "| method | " + " | ".join(str(k) for k in BUDGETS) + " | every problem from |",
                      "|---|" + "---|" * (len(BUDGETS) + 1)]
            lines += [f"| {m}{' (its first k of 120 at q8)' if m == 'kubetune-Random' else ''} | " + " | ".join(
                f"{round(s['fraction'] * s['problems'])} of {s['problems']} ({s['mean_score']:.1f})"
                for s in b["by_budget"].values()) + f" | {b['every_problem_from'] or '—'} |" for m, b in budgets.items()]
        for m, p in ref["sixty"].items():
            lines += ["", f"{m} with twice the trials, 60 at q 2, against the same Random runs on its seeds: holds on "
                      f"{_share(p)}, ahead beyond seed noise on {p['leads_beyond_noise']}, short beyond seed noise "
                      f"on {p['misses_beyond_noise']}."]
        for m, p in ref["peers"].items():
            lines += ["", f"{m} with 30 trials at q 2, against the same Random runs on its seeds: holds on "
                      f"{_share(p)}, short beyond seed noise on {p['misses_beyond_noise']}; mean "
                      f"{p['mean_score']:.1f} where kubetune-Bayesian's 30 trials score "
                      f"{_one_decimal(p['mean_kubetune_30_q2'])} on the same problems and seeds "
                      "(cell: score, holds, interval of its score − Random's)."]
        lines.append("")
    if a["function"]:
        lines += ["## Test functions — simple regret (best − optimum)", "",
                  "| problem | method | mean | median | mean log10 | seeds |", "|---|---|---|---|---|---|"]
        for key, stats in a["function"].items():
            for m in METHODS:
                if m in stats:
                    s = stats[m]
                    lines.append(f"| {key} | {m} | {_fmt(s['mean'])} | {_fmt(s['median'])} | {s['mean_log10']:.2f} | {s['seeds']} |")
        lines.append("")
    if a["median_rank"]:
        lines += ["## Median rank over all problems and settings (1 = best)", "", "| method | median rank | n |",
                  "|---|---|---|"]
        lines += [f"| {m} | {a['median_rank'][m]:.1f} | {len(a['ranks'][m])} |"
                  for m in sorted(a["median_rank"], key=a["median_rank"].get)]
        lines.append("")
    if a["ask_in_runs"]:
        lines += ["## Seconds per ask during the runs (1 torch thread per process, 2 processes)", "",
                  "| method, q | mean | p95 |", "|---|---|---|"]
        lines += [f"| {k} | {v['mean']:.3f} | {v['p95']:.3f} |" for k, v in a["ask_in_runs"].items()]
        lines.append("")
    if timing_rows:
        lines += ["## Suggestion cost: seconds per ask (one ask of q points)", "",
                  "Median of the repeated asks, (fastest–slowest) beside it; a cell without a range was measured once. "
                  + _machines(timing_rows),
                  "", "| method | d | q | n=10 | n=128 | n=500 |", "|---|---|---|---|---|---|"]
        cells = {(r["method"], r["dim"], r["q"], r["observations"]): r for r in timing_rows}
        for m in METHODS:
            for d in (3, 10):
                for q in (1, 8):
                    row = [cells.get((m, d, q, n)) for n in (10, 128, 500)]
                    if any(row):
                        lines.append(f"| {m} | {d} | {q} | " + " | ".join(
                            _timing_cell(c) if c else "—" for c in row) + " |")
        lines.append("")
    lines += [f"Plots: `{stem}_curves.png` (best-so-far), `{stem}_scores.png`, `{stem}_timing.png`.", ""]
    (outdir / f"{stem}.md").write_text("\n".join(lines))
    (outdir / f"{stem}.json").write_text(json.dumps(
        {"meta": meta, "baseline": baseline, "analysis": a, "timing": timing_rows, "runs": records},
        default=str))
    _curves(records, baseline, outdir / f"{stem}_curves.png")
    _score_plot(a, outdir / f"{stem}_scores.png")
    _timing_plot(timing_rows, outdir / f"{stem}_timing.png")
