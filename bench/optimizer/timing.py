"""Seconds per ``ask`` for every method at 10, 128 and 500 observations, d = 3 and 10, q = 1 and 8.

History: uniformly random points of [0, 1]^d with a smooth loss, told to the method directly
(no asks), then one timed ``ask(q)`` — a batch of q in one call, the way each library batches
(kubetune ``ask(8)``, Optuna 8 ``study.ask``, skopt ``cl_min``, BoTorch joint q, HEBO
``n_suggestions``). torch uses the machine's cores (``--threads``).

A cell is the median of ``repeats`` such asks, each by a fresh method on the same history: one
measurement on a 2-core machine varies by a third from run to run (kubetune d = 10, q = 8,
128 observations: 1.41–1.67 s in three single measurements, median 1.22 s over five in a row),
and a method's first ask also pays its lazy imports (2.0 s of those five).
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.optimizer import methods
from bench.optimizer.space import real


def machine() -> str:
    """The CPU the times were measured on: one cell differed twofold between two of our machines."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        cpuinfo = []
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
                 platform.processor() or platform.machine())
    return f"{model}, {os.cpu_count()} cores"


def _observe(m: methods.Method, params: dict[str, Any], loss: float) -> None:
    if isinstance(m, methods.Kubetune):
        m.opt.tell(params, loss)
    elif isinstance(m, methods.Optuna):
        import optuna
        m.study.add_trial(optuna.trial.create_trial(params=params, distributions=m.dists, value=loss))
    elif isinstance(m, methods.Skopt):
        m.observed.append(([params[p["name"]] for p in m.space], loss))
    elif isinstance(m, methods.Botorch):
        from bench.optimizer.space import to_unit
        m.observed.append((to_unit(m.space, params), loss))
        m.asked += 1
    elif isinstance(m, methods.Hebo):
        m._call({"cmd": "observe", "params": params, "loss": loss})
    else:
        raise TypeError(m)


def ask_seconds(method: str, dim: int, n: int, q: int, seed: int = 0) -> float:
    import torch
    rng = np.random.default_rng([dim, n, seed])
    space = [real(f"x{i}", 0.0, 1.0) for i in range(dim)]
    m = methods.make(method, space, seed)
    try:
        xs = rng.random((n, dim))
        for x in xs:
            _observe(m, {f"x{i}": float(v) for i, v in enumerate(x)}, float(((x - 0.3) ** 2).sum()))
        t0 = time.perf_counter()
        m.ask(q)
        return time.perf_counter() - t0
    finally:
        m.close()


def run(methods_: list[str], dims=(3, 10), observations=(10, 128, 500), qs=(1, 8),
        threads: int = 2, limit_s: float = 120.0, repeats: int = 3, log=print) -> list[dict[str, Any]]:
    import torch
    torch.set_num_threads(threads)
    rows, where = [], machine()
    for method in methods_:
        for dim in dims:
            for q in qs:
                slow = False  # within one (d, q) series: skip the larger histories once a cell is too slow
                for n in observations:
                    row = {"method": method, "dim": dim, "q": q, "observations": n, "machine": where,
                           "threads": threads}
                    if slow:
                        row["skipped"] = f"a smaller cell took > {limit_s:.0f} s"
                    else:
                        try:
                            row["samples"] = [ask_seconds(method, dim, n, q)]
                            while len(row["samples"]) < repeats and row["samples"][-1] <= limit_s:
                                row["samples"].append(ask_seconds(method, dim, n, q))
                            row["seconds"] = float(np.median(row["samples"]))
                            slow = row["seconds"] > limit_s
                        except Exception as exc:  # noqa: BLE001
                            row["error"] = f"{type(exc).__name__}: {exc}"
                    rows.append(row)
                    log(row)
    return rows
