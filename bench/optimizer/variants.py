"""Candidate changes to kubetune's Bayesian strategy, tried in the harness without touching
``operator/kubetune`` (the patch is applied only for the duration of one ``ask``).

Variants ``kubetune-Bayesian+<name>`` change what the GP sees of the losses: real-model losses are
skewed (a few broken configurations are far worse than the rest), which a stationary GP on
standardised raw losses fits badly. ``yj``: Yeo-Johnson power transform (as HEBO does);
``copula``: normal scores of the ranks; ``winsor``: the bad side log-compressed.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np

from bench.optimizer.methods import Kubetune


def _output_transform(transform):
    """A patch that feeds ``transform(standardised losses)`` to the GP instead of the losses."""

    @contextlib.contextmanager
    def patch() -> Iterator[None]:
        from kubetune.strategies import _gp
        original = _gp.Surrogate.fit.__func__

        def fit(cls, x, losses, max_iter=75):
            z = (losses - losses.mean()) / (losses.std() or 1.0)
            warped = transform(z)
            if not np.all(np.isfinite(warped)) or warped.std() == 0:
                warped = z
            return original(cls, x, warped, max_iter)

        _gp.Surrogate.fit = classmethod(fit)
        try:
            yield
        finally:
            _gp.Surrogate.fit = classmethod(original)

    return patch


def _yeo_johnson(z: np.ndarray) -> np.ndarray:
    """Yeo-Johnson power transform (as HEBO does)."""
    from scipy import stats
    try:
        return stats.yeojohnson(z)[0]
    except (ValueError, FloatingPointError):
        return z


def _copula(z: np.ndarray) -> np.ndarray:
    """Normal scores of the ranks (Gaussian copula, Salinas et al. 2020): scale-free, outlier-proof."""
    from scipy import stats
    ranks = stats.rankdata(z)
    return stats.norm.ppf((ranks - 0.5) / len(z))


def _winsorised(z: np.ndarray) -> np.ndarray:
    """Bad tail squashed: losses above the median are log-compressed, the good side kept linear."""
    med = np.median(z)
    spread = max(np.median(np.abs(z - med)), 1e-12)
    above = z > med
    out = z.copy()
    out[above] = med + spread * np.log1p((z[above] - med) / spread)
    return out


@contextlib.contextmanager
def subset_steps() -> Iterator[None]:
    """Extra candidates that move only a few coordinates of the incumbents (BoTorch's
    ``sample_perturbed_subset_dims``): on rough, plateau-ridden losses the next improvement is
    often one or two hyperparameters away, which full-dimensional Gaussian steps rarely hit."""
    from kubetune.strategies.bayesian import BayesianStrategy
    original = BayesianStrategy._candidates

    def candidates(self, space, incumbents, rng):
        base = original(self, space, incumbents, rng)
        n = len(incumbents) * 32
        starts = np.repeat(incumbents, 32, axis=0)
        mask = rng.random((n, space.dim)) < min(1.0, 2.0 / space.dim)
        mask[np.arange(n), rng.integers(0, space.dim, n)] = True
        steps = np.where(mask, rng.normal(0.0, 0.15, (n, space.dim)), 0.0)
        return np.concatenate([base, np.clip(starts + steps, 0.0, 1.0)])

    BayesianStrategy._candidates = candidates
    try:
        yield
    finally:
        BayesianStrategy._candidates = original


VARIANTS = {"yj": [_output_transform(_yeo_johnson)], "copula": [_output_transform(_copula)],
            "winsor": [_output_transform(_winsorised)], "subset": [subset_steps],
            "copula-subset": [_output_transform(_copula), subset_steps]}


class KubetuneVariant(Kubetune):
    def __init__(self, space, seed, variant: str) -> None:
        super().__init__(space, seed, "Bayesian")
        self.variant = variant
        self.name = f"kubetune-Bayesian+{variant}"

    def ask(self, n):
        with contextlib.ExitStack() as stack:
            for patch in VARIANTS[self.variant]:
                stack.enter_context(patch())
            return super().ask(n)
