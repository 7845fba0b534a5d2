"""Random search: independent draws on each parameter's own scale."""

from __future__ import annotations

import numpy as np

from kubetune.space import Hyperparameters, SearchSpace
from kubetune.strategies.base import Deduplicator, History, Strategy


class RandomStrategy(Strategy):
    name = "Random"

    def suggest(self, space: SearchSpace, history: History, n: int,
                rng: np.random.Generator) -> list[Hyperparameters]:
        return Deduplicator(space, history.all_params()).fill_randomly([], n, rng)
