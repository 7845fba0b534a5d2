"""Search strategies behind one contract (``Strategy.suggest``); ``make_strategy`` picks one by name."""

from __future__ import annotations

from kubetune.errors import SpecError
from kubetune.strategies.base import History, Strategy
from kubetune.strategies.bayesian import BayesianStrategy
from kubetune.strategies.grid import GridStrategy
from kubetune.strategies.random import RandomStrategy

STRATEGIES: dict[str, type[Strategy]] = {
    "Bayesian": BayesianStrategy,
    "Random": RandomStrategy,
    "Grid": GridStrategy,
}


def make_strategy(name: str, seed: int = 0) -> Strategy:
    """The strategy called ``name`` (Bayesian, Random, Grid), seeded where it uses a seed."""
    if name not in STRATEGIES:
        raise SpecError("strategy", f"must be one of {', '.join(STRATEGIES)}, got {name!r}")
    if name == "Bayesian":
        return BayesianStrategy(seed=seed)
    return STRATEGIES[name]()


__all__ = ["BayesianStrategy", "GridStrategy", "History", "RandomStrategy", "Strategy", "make_strategy"]
