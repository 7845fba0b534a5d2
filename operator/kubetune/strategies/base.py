"""The strategy contract: a stateless ``suggest`` over the full history.

Strategies own no history: every call receives all observations and all pending trials, exactly
as the operator rebuilds them from the TuningJob status. That is what makes a restarted operator
propose the same points as one that never stopped.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from kubetune.space import Hyperparameters, SearchSpace


@dataclass(frozen=True)
class History:
    """What is known when proposing.

    ``observed`` holds (hyperparameters, loss) with loss to *minimise* (the optimizer flips
    maximised objectives) and ``None`` for failed trials; ``pending`` holds trials still running.
    """

    observed: list[tuple[Hyperparameters, float | None]] = field(default_factory=list)
    pending: list[Hyperparameters] = field(default_factory=list)

    def all_params(self) -> Iterator[Hyperparameters]:
        yield from (params for params, _ in self.observed)
        yield from self.pending


class Strategy(ABC):
    """Proposes new hyperparameter sets; never one already observed or pending."""

    name: str

    @abstractmethod
    def suggest(self, space: SearchSpace, history: History, n: int,
                rng: np.random.Generator) -> list[Hyperparameters]:
        """Up to ``n`` new, distinct hyperparameter sets (fewer only when the space is exhausted)."""


class Deduplicator:
    """Tracks which hyperparameter sets are taken, so that no strategy proposes one twice."""

    def __init__(self, space: SearchSpace, taken: Iterable[Hyperparameters]) -> None:
        self.space = space
        self.keys = {space.key(params) for params in taken}

    def claim(self, params: Hyperparameters) -> bool:
        """Take ``params`` if it is new; False if it was taken already."""
        key = self.space.key(params)
        if key in self.keys:
            return False
        self.keys.add(key)
        return True

    def exhausted(self) -> bool:
        size = self.space.size()
        return size is not None and len(self.keys) >= size

    def fill_randomly(self, proposals: list[Hyperparameters], n: int,
                      rng: np.random.Generator) -> list[Hyperparameters]:
        """Top ``proposals`` up to ``n`` with fresh random draws (enumerating small finite spaces)."""
        attempts = 0
        while len(proposals) < n and not self.exhausted():
            attempts += 1
            if attempts > 200 * n:
                proposals.extend(self._enumerate_remaining(n - len(proposals), rng))
                break
            params = self.space.sample(rng)
            if self.claim(params):
                proposals.append(params)
        return proposals

    def _enumerate_remaining(self, n: int, rng: np.random.Generator) -> list[Hyperparameters]:
        """Random draws keep colliding: the space is finite and nearly full, so list what is left."""
        if self.space.size() is None:
            return []
        remaining = [p for p in self.space.grid() if self.space.key(p) not in self.keys]
        order = rng.permutation(len(remaining))[:n]
        chosen = [remaining[i] for i in order]
        for params in chosen:
            self.claim(params)
        return chosen
