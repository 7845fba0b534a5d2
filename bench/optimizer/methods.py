"""One ask/tell adapter per method, over the method-neutral space.

``ask(n)`` returns ``n`` (token, params) pairs; ``tell(token, loss)`` reports one result. Every
adapter knows which of its proposals are still pending and hands them to its library the way
that library supports best (kubetune and Optuna: natively; BoTorch: ``X_pending``; skopt and
HEBO: a constant liar over the pending points).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from itertools import count
from pathlib import Path
from typing import Any

import numpy as np

from bench.optimizer import space as sp

ROOT = Path(__file__).resolve().parents[2]
HEBO_PYTHON = ROOT / ".venv-hebo" / "bin" / "python"
N_INITIAL = 10  # random/quasi-random start of the third-party methods (their common default)


class Method:
    name = "?"

    def __init__(self, space: list[sp.Param], seed: int) -> None:
        self.space, self.seed = space, seed
        self._ids = count()

    def ask(self, n: int) -> list[tuple[int, dict[str, Any]]]:
        raise NotImplementedError

    def tell(self, token: int, loss: float) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


# ---------------------------------------------------------------- kubetune

class Kubetune(Method):
    def __init__(self, space, seed, strategy: str) -> None:
        super().__init__(space, seed)
        from kubetune import CategoricalParameter, ContinuousParameter, IntegerParameter, Optimizer
        ranges = {}
        for p in space:
            if p["type"] == "real":
                ranges[p["name"]] = ContinuousParameter(p["low"], p["high"], scaling="Logarithmic" if p["log"] else "Linear")
            elif p["type"] == "int":
                ranges[p["name"]] = IntegerParameter(p["low"], p["high"], scaling="Logarithmic" if p["log"] else "Linear")
            elif p["type"] == "cat":
                ranges[p["name"]] = CategoricalParameter(p["values"])
            else:
                ranges[p["name"]] = CategoricalParameter([False, True])
        self.opt = Optimizer(ranges, strategy=strategy, objective_type="Minimize", seed=seed)
        self.name = f"kubetune-{strategy}"
        self.asked: dict[int, dict[str, Any]] = {}

    def ask(self, n):
        out = []
        for params in self.opt.ask(n):
            token = next(self._ids)
            self.asked[token] = params
            out.append((token, sp.normalise(self.space, params)))
        return out

    def tell(self, token, loss):
        self.opt.tell(self.asked.pop(token), loss)


# ---------------------------------------------------------------- Optuna

class Optuna(Method):
    def __init__(self, space, seed, sampler: str) -> None:
        super().__init__(space, seed)
        import optuna
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
        if sampler == "TPE":
            s = optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True,
                                           n_startup_trials=N_INITIAL, warn_independent_sampling=False)
            self.name = "optuna-TPE"
        else:
            s = optuna.samplers.GPSampler(seed=seed, n_startup_trials=N_INITIAL, warn_independent_sampling=False)
            self.name = "optuna-GP"
        self.study = optuna.create_study(sampler=s, direction="minimize")
        self.dists = {}
        for p in space:
            if p["type"] == "real":
                self.dists[p["name"]] = FloatDistribution(p["low"], p["high"], log=p["log"])
            elif p["type"] == "int":
                self.dists[p["name"]] = IntDistribution(p["low"], p["high"], log=p["log"])
            elif p["type"] == "cat":
                self.dists[p["name"]] = CategoricalDistribution(p["values"])
            else:
                self.dists[p["name"]] = CategoricalDistribution([False, True])
        self.trials: dict[int, Any] = {}

    def ask(self, n):
        out = []
        for _ in range(n):
            trial = self.study.ask(self.dists)
            token = next(self._ids)
            self.trials[token] = trial
            out.append((token, sp.normalise(self.space, trial.params)))
        return out

    def tell(self, token, loss):
        self.study.tell(self.trials.pop(token), loss)


# ---------------------------------------------------------------- scikit-optimize

class Skopt(Method):
    """skopt's GP (its defaults: Matérn + noise, EI acquisition; ``cl_min`` lies for pending)."""

    name = "skopt-GP"

    def __init__(self, space, seed) -> None:
        super().__init__(space, seed)
        from skopt.space import Categorical, Integer, Real
        self.dims = []
        for p in space:
            if p["type"] == "real":
                self.dims.append(Real(p["low"], p["high"], prior="log-uniform" if p["log"] else "uniform", name=p["name"]))
            elif p["type"] == "int":
                self.dims.append(Integer(p["low"], p["high"], prior="log-uniform" if p["log"] else "uniform", name=p["name"]))
            elif p["type"] == "cat":
                self.dims.append(Categorical(p["values"], name=p["name"]))
            else:
                self.dims.append(Categorical([False, True], name=p["name"]))
        self.observed: list[tuple[list, float]] = []
        self.pending: dict[int, list] = {}
        self.rng = np.random.default_rng(seed)

    def ask(self, n):
        from skopt import Optimizer
        opt = Optimizer(self.dims, base_estimator="GP", acq_func="EI", n_initial_points=N_INITIAL,
                        initial_point_generator="random", random_state=int(self.rng.integers(2**31)))
        xs = [x for x, _ in self.observed]
        ys = [y for _, y in self.observed]
        if self.pending:
            lie = min(ys) if ys else 0.0
            xs += list(self.pending.values())
            ys += [lie] * len(self.pending)
        if xs:
            opt.tell(xs, ys)
        points = opt.ask(n_points=n, strategy="cl_min") if n > 1 else [opt.ask()]
        out = []
        for x in points:
            token = next(self._ids)
            self.pending[token] = list(x)
            out.append((token, sp.normalise(self.space, dict(zip([p["name"] for p in self.space], x)))))
        return out

    def tell(self, token, loss):
        self.observed.append((self.pending.pop(token), float(loss)))


# ---------------------------------------------------------------- BoTorch

class Botorch(Method):
    """SingleTaskGP (BoTorch's default priors) + qLogNEI with ``X_pending``, Sobol start,
    one-hot categoricals relaxed to [0, 1] and rounded after optimisation."""

    name = "botorch-qLogNEI"

    def __init__(self, space, seed) -> None:
        super().__init__(space, seed)
        import torch
        self.dim = sp.unit_dim(space)
        self.sobol = torch.quasirandom.SobolEngine(self.dim, scramble=True, seed=seed)
        self.observed: list[tuple[np.ndarray, float]] = []
        self.pending: dict[int, np.ndarray] = {}
        self.asked = 0

    def ask(self, n):
        import torch
        from botorch.acquisition.logei import qLogNoisyExpectedImprovement
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from botorch.models.transforms import Standardize
        from botorch.optim import optimize_acqf
        from gpytorch.mlls import ExactMarginalLogLikelihood

        points: list[np.ndarray] = []
        while len(points) < n and self.asked + len(points) < N_INITIAL:
            points.append(self.sobol.draw(1).double().numpy()[0])
        k = n - len(points)
        if k:
            if len(self.observed) < 2:
                points += [self.sobol.draw(1).double().numpy()[0] for _ in range(k)]
            else:
                torch.manual_seed(self.seed * 100003 + self.asked)
                x = torch.tensor(np.stack([p for p, _ in self.observed]), dtype=torch.double)
                y = -torch.tensor([[v] for _, v in self.observed], dtype=torch.double)
                model = SingleTaskGP(x, y, outcome_transform=Standardize(m=1))
                try:
                    fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
                except Exception:  # noqa: BLE001 — keep going with the prior's hyperparameters
                    pass
                pend = [*self.pending.values(), *points]
                x_pending = torch.tensor(np.stack(pend), dtype=torch.double) if pend else None
                acq = qLogNoisyExpectedImprovement(model, X_baseline=x, X_pending=x_pending, prune_baseline=True)
                bounds = torch.stack([torch.zeros(self.dim), torch.ones(self.dim)]).double()
                cand, _ = optimize_acqf(acq, bounds=bounds, q=k, num_restarts=8, raw_samples=256,
                                        options={"maxiter": 100})
                points += list(cand.detach().numpy())
        out = []
        for x in points:
            params = sp.from_unit(self.space, x)
            token = next(self._ids)
            self.pending[token] = sp.to_unit(self.space, params)  # the rounded point is what runs
            out.append((token, params))
        self.asked += n
        return out

    def tell(self, token, loss):
        self.observed.append((self.pending.pop(token), float(loss)))


# ---------------------------------------------------------------- HEBO (own virtualenv)

class Hebo(Method):
    """HEBO in ``.venv-hebo`` (numpy < 1.25), driven over JSON lines by ``hebo_worker.py``."""

    name = "HEBO"

    def __init__(self, space, seed) -> None:
        super().__init__(space, seed)
        if not HEBO_PYTHON.exists():
            raise RuntimeError(f"{HEBO_PYTHON} is missing (make bench-hebo-env)")
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen([str(HEBO_PYTHON), "-m", "bench.optimizer.hebo_worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        self._call({"cmd": "init", "space": space, "seed": seed, "n_initial": N_INITIAL,
                    "threads": int(os.environ.get("BENCH_TORCH_THREADS", "1"))})

    def _call(self, message: dict) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"HEBO worker died (exit {self.proc.poll()})")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"HEBO worker: {reply['error']}")
        return reply

    def ask(self, n):
        reply = self._call({"cmd": "ask", "n": n})
        return [(t, sp.normalise(self.space, p)) for t, p in reply["proposals"]]

    def tell(self, token, loss):
        self._call({"cmd": "tell", "token": token, "loss": float(loss)})

    def close(self):
        try:
            self._call({"cmd": "quit"})
        except Exception:  # noqa: BLE001
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


METHODS = ["kubetune-Bayesian", "kubetune-Random", "optuna-TPE", "optuna-GP", "skopt-GP",
           "botorch-qLogNEI", "HEBO"]


def make(name: str, space: list[sp.Param], seed: int) -> Method:
    if name.startswith("kubetune-Bayesian+"):
        from bench.optimizer.variants import KubetuneVariant
        return KubetuneVariant(space, seed, name.split("+", 1)[1])
    if name.startswith("kubetune-"):
        return Kubetune(space, seed, name.split("-", 1)[1])
    if name.startswith("optuna-"):
        return Optuna(space, seed, name.split("-", 1)[1])
    return {"skopt-GP": Skopt, "botorch-qLogNEI": Botorch, "HEBO": Hebo}[name](space, seed)
