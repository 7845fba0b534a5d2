"""The public ask/tell optimizer: the one API behind local runs, the operator and users' scripts.

    >>> from kubetune import ContinuousParameter, IntegerParameter, Optimizer
    >>> opt = Optimizer({"lr": ContinuousParameter(1e-3, 0.5, scaling="Logarithmic"),
    ...                  "layers": IntegerParameter(2, 8)}, strategy="Random", seed=0)
    >>> [params] = opt.ask()
    >>> opt.tell(params, 0.91)

Proposals are a pure function of (seed, observations, pending trials): the per-ask random stream
is derived from the seed and the history's size, so an optimizer rebuilt from a saved status makes
exactly the proposals the original would have made.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping

import numpy as np

from kubetune.errors import SpecError
from kubetune.space import Hyperparameters, Parameter, SearchSpace, Value
from kubetune.spec import OBJECTIVE_TYPES
from kubetune.strategies import History, make_strategy


class Optimizer:
    """Ask for hyperparameters, tell results.

    Args:
        ranges: name → ``ContinuousParameter`` / ``IntegerParameter`` / ``CategoricalParameter``
            (the SageMaker SDK's ``hyperparameter_ranges``), or a ``SearchSpace``.
        strategy: ``Bayesian`` (default), ``Random`` or ``Grid``.
        objective_type: ``Maximize`` or ``Minimize``.
        seed: makes proposals reproducible; None draws one (see ``seed``).
    """

    def __init__(self, ranges: Mapping[str, Parameter] | SearchSpace, strategy: str = "Bayesian",
                 objective_type: str = "Maximize", seed: int | None = None) -> None:
        self.space = ranges if isinstance(ranges, SearchSpace) else SearchSpace(ranges)
        if objective_type not in OBJECTIVE_TYPES:
            raise SpecError("objective_type", f"must be one of {', '.join(OBJECTIVE_TYPES)}, got {objective_type!r}")
        self.objective_type = objective_type
        self.seed = seed if seed is not None else secrets.randbits(31)
        self.strategy = make_strategy(strategy, self.seed)
        self._observed: list[tuple[Hyperparameters, float | None]] = []
        self._pending: dict[tuple[object, ...], Hyperparameters] = {}

    @property
    def observations(self) -> list[tuple[Hyperparameters, float | None]]:
        """(hyperparameters, objective value or None for a failed trial), in the order told."""
        return list(self._observed)

    @property
    def pending(self) -> list[Hyperparameters]:
        return list(self._pending.values())

    def best(self) -> tuple[Hyperparameters, float] | None:
        """The best successful observation, or None before the first one."""
        finite = [(p, v) for p, v in self._observed if v is not None]
        if not finite:
            return None
        pick = max if self.objective_type == "Maximize" else min
        return pick(finite, key=lambda pv: pv[1])

    def ask(self, n: int = 1) -> list[Hyperparameters]:
        """``n`` new hyperparameter sets, distinct from every observed and pending one.

        Fewer than ``n`` come back only when the space is exhausted (Grid, or a small discrete
        space). The returned sets count as pending until told.
        """
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        rng = np.random.default_rng([self.seed, len(self._observed), len(self._pending)])
        history = History(
            observed=[(p, None if v is None else (-v if self.objective_type == "Maximize" else v))
                      for p, v in self._observed],
            pending=self.pending,
        )
        proposals = self.strategy.suggest(self.space, history, n, rng)
        for params in proposals:
            self._pending[self.space.key(params)] = params
        return [dict(p) for p in proposals]

    def add_pending(self, params: Mapping[str, Value]) -> None:
        """Register a trial that is running but was not asked from this instance (e.g. after a restart)."""
        self.space.encode(params)  # validates names and values
        self._pending[self.space.key(params)] = dict(params)

    def tell(self, params: Mapping[str, Value], value: float | None) -> None:
        """Record a result: the objective value, or None (or NaN/inf) for a failed trial."""
        self.space.encode(params)
        if isinstance(value, bool) or not (value is None or isinstance(value, (int, float))):
            raise TypeError(f"value must be a number or None, got {value!r}")
        if value is not None and not math.isfinite(value):
            value = None
        self._pending.pop(self.space.key(params), None)
        self._observed.append((dict(params), None if value is None else float(value)))
