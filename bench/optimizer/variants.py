"""Candidate changes to kubetune's Bayesian strategy, tried in the harness without touching
``operator/kubetune`` (the patch is applied only for the duration of one ``ask``).

``kubetune-Bayesian+yj``: Yeo-Johnson output warping of the losses before the GP (as HEBO does):
real-model losses are skewed (a few broken configurations are far worse than the rest), which a
stationary GP on standardised raw losses fits badly.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np

from bench.optimizer.methods import Kubetune


@contextlib.contextmanager
def yeo_johnson_outputs() -> Iterator[None]:
    from scipy import stats

    from kubetune.strategies import _gp
    original = _gp.Surrogate.fit.__func__

    def fit(cls, x, losses, max_iter=75):
        z = (losses - losses.mean()) / (losses.std() or 1.0)
        try:
            warped, _ = stats.yeojohnson(z)
            if not np.all(np.isfinite(warped)) or warped.std() == 0:
                warped = z
        except (ValueError, FloatingPointError):
            warped = z
        return original(cls, x, warped, max_iter)

    _gp.Surrogate.fit = classmethod(fit)
    try:
        yield
    finally:
        _gp.Surrogate.fit = classmethod(original)


class KubetuneVariant(Kubetune):
    def __init__(self, space, seed, variant: str) -> None:
        super().__init__(space, seed, "Bayesian")
        self.variant = variant
        self.name = f"kubetune-Bayesian+{variant}"

    def ask(self, n):
        with yeo_johnson_outputs():
            return super().ask(n)
