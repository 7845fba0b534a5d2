"""Grid search: the Cartesian grid in a fixed order; the job ends when it is exhausted."""

from __future__ import annotations

import numpy as np

from kubetune.space import Hyperparameters, SearchSpace
from kubetune.strategies.base import Deduplicator, History, Strategy


class GridStrategy(Strategy):
    name = "Grid"

    def suggest(self, space: SearchSpace, history: History, n: int,
                rng: np.random.Generator) -> list[Hyperparameters]:
        taken = Deduplicator(space, history.all_params())
        proposals: list[Hyperparameters] = []
        for params in space.grid():
            if len(proposals) >= n:
                break
            if taken.claim(params):
                proposals.append(params)
        return proposals
