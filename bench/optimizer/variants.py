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


@contextlib.contextmanager
def direct_matern_kernel() -> Iterator[None]:
    """Prediction with the Matérn-5/2 ARD kernel written out in torch (same hyperparameters, same
    values) instead of calling gpytorch's kernel module: the acquisition optimiser evaluates it
    thousands of times per ask, and gpytorch's per-call overhead dominates at these sizes."""
    import math

    import torch

    from kubetune.strategies import _gp
    original_set, original_predict = _gp.Surrogate._set_data, _gp.Surrogate.predict

    def matern(self, a, b):
        ls = self.kernel.base_kernel.lengthscale.detach().reshape(1, -1)
        d2 = ((a / ls).unsqueeze(-2) - (b / ls).unsqueeze(-3)).pow(2).sum(-1)
        r = d2.clamp_min(1e-30).sqrt() * math.sqrt(5.0)
        return self.prior_variance * (1.0 + r + r * r / 3.0) * torch.exp(-r)

    def predict(self, x):
        cross = matern(self, x, self.x)
        mean = self.constant + (cross @ self.alpha).squeeze(-1)
        v = torch.linalg.solve_triangular(self.factor, cross.T, upper=False)
        variance = (self.prior_variance - (v * v).sum(0)).clamp_min(1e-12)
        return mean, variance

    _gp.Surrogate.predict = predict
    try:
        yield
    finally:
        _gp.Surrogate._set_data, _gp.Surrogate.predict = original_set, original_predict


VARIANTS = {"yj": [yeo_johnson_outputs], "fast": [direct_matern_kernel],
            "yj-fast": [yeo_johnson_outputs, direct_matern_kernel]}


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
