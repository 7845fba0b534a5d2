"""Gaussian-process surrogate and log expected improvement (gpytorch), on the unit cube.

Kept free of search-space knowledge: inputs are already-encoded points in [0, 1]^d and losses to
minimise. Double precision throughout; exact inference by Cholesky (trial counts stay in the
hundreds, where it is both exact and fast).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
from scipy import stats
from scipy.optimize import minimize

# gpytorch 1.15 still calls torch.jit.script at import; torch 2.15 warns about it on every run.
warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.* is deprecated", category=FutureWarning)
import gpytorch  # noqa: E402

DTYPE = torch.float64
# Our matrices are small (hundreds of points): one thread is fastest, and on a busy 2-core machine
# torch's default of one thread per core made every likelihood evaluation ~10x slower (measured).
GP_THREADS = 1
_CHOLESKY_SIZE = 10_000  # never switch to gpytorch's iterative solvers at our sizes


@contextmanager
def torch_threads(count: int = GP_THREADS) -> Iterator[None]:
    """Run the enclosed GP work with ``count`` torch threads, restoring the caller's setting after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class InputWarp(torch.nn.Module):
    """A Kumaraswamy CDF per warped coordinate, learned with the kernel (Snoek et al. 2014;
    HEBO; BoTorch's ``Warp``): it lets the stationary kernel stretch one end of a range, e.g. the
    sliver near zero where a tree's size constraints stop producing stumps.

    Concentrations are ``exp(log_concentration)``, clamped to [e⁻³, e³]; zeros are the identity.
    """

    _EPS = 1e-7

    def __init__(self, coordinates: Sequence[int]) -> None:
        super().__init__()
        self.register_buffer("coordinates", torch.as_tensor(list(coordinates), dtype=torch.long))
        self.log_concentration = torch.nn.Parameter(torch.zeros(2, len(coordinates), dtype=DTYPE))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not len(self.coordinates):
            return x
        a, b = self.log_concentration.clamp(-3.0, 3.0).exp()
        u = x[..., self.coordinates] * (1 - 2 * self._EPS) + self._EPS
        return x.index_copy(-1, self.coordinates, 1 - (1 - u**a) ** b)


class _ExactGP(gpytorch.models.ExactGP):
    """Constant mean, Matérn-``nu`` with ARD lengthscales on warped inputs, learned observation noise."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, warped: Sequence[int] = (), nu: float = 2.5) -> None:
        dim = x.shape[-1]
        likelihood = gpytorch.likelihoods.GaussianLikelihood(
            noise_prior=gpytorch.priors.LogNormalPrior(-4.0, 1.0),
            noise_constraint=gpytorch.constraints.GreaterThan(1e-6),
        )
        super().__init__(x, y, likelihood)
        self.mean_module = gpytorch.means.ConstantMean()
        # Dimension-scaled lengthscale prior (Hvarfner et al., 2024): long lengthscales in high
        # dimensions keep the GP from overfitting a handful of observations.
        lengthscale_prior = gpytorch.priors.LogNormalPrior(math.sqrt(2) + 0.5 * math.log(dim), math.sqrt(3))
        self.covar_module = gpytorch.kernels.ScaleKernel(
            gpytorch.kernels.MaternKernel(nu=nu, ard_num_dims=dim, lengthscale_prior=lengthscale_prior,
                                          lengthscale_constraint=gpytorch.constraints.GreaterThan(1e-3)),
            outputscale_constraint=gpytorch.constraints.Interval(0.05, 20.0),
        )
        self.covar_module.base_kernel.lengthscale = lengthscale_prior.mode.clamp(max=4.0)
        self.covar_module.outputscale = 1.0
        self.likelihood.noise = 1e-3
        self.warp = InputWarp(warped)
        # log-normal concentrations around the identity, as BoTorch's warping defaults
        self.register_prior("warp_prior", gpytorch.priors.NormalPrior(0.0, math.sqrt(0.75)),
                            lambda module: module.warp.log_concentration)
        self.to(DTYPE)

    def forward(self, x: torch.Tensor) -> gpytorch.distributions.MultivariateNormal:
        x = self.warp(x)
        return gpytorch.distributions.MultivariateNormal(self.mean_module(x), self.covar_module(x))


def _fit(model: _ExactGP, max_iter: int) -> None:
    """Maximise the marginal likelihood (plus priors) with L-BFGS-B over all raw parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    shapes = [p.shape for p in params]
    mll = gpytorch.mlls.ExactMarginalLogLikelihood(model.likelihood, model)
    model.train()

    def unpack(flat: np.ndarray) -> None:
        offset = 0
        with torch.no_grad():
            for p, shape in zip(params, shapes):
                size = int(np.prod(shape)) if len(shape) else 1
                p.copy_(torch.as_tensor(flat[offset:offset + size], dtype=DTYPE).reshape(shape))
                offset += size

    def loss_and_grad(flat: np.ndarray) -> tuple[float, np.ndarray]:
        unpack(flat)
        for p in params:
            p.grad = None
        try:
            loss = -mll(model(*model.train_inputs), model.train_targets)
            loss.backward()
        except (RuntimeError, ValueError):  # e.g. a non-PSD matrix at an extreme step: reject it
            return 1e10, np.zeros_like(flat)
        grad = np.concatenate([p.grad.detach().reshape(-1).numpy() for p in params])
        return float(loss.detach()), np.nan_to_num(grad)

    start = np.concatenate([p.detach().reshape(-1).numpy() for p in params])
    result = minimize(loss_and_grad, start, jac=True, method="L-BFGS-B",
                      bounds=[(-15.0, 15.0)] * len(start), options={"maxiter": max_iter})
    unpack(result.x if np.isfinite(result.fun) else start)
    model.eval()


def log_h(z: torch.Tensor) -> torch.Tensor:
    """log(φ(z) + z·Φ(z)), accurate far into the tail (Ament et al., 2023, "Unexpected
    improvements to expected improvement"), so that EI never underflows to a flat zero."""
    bound = -1.0
    z_upper = z.clamp(min=bound)
    normal = torch.distributions.Normal(torch.zeros_like(z), torch.ones_like(z))
    upper = torch.log(normal.log_prob(z_upper).exp() + z_upper * normal.cdf(z_upper))
    z_lower = z.clamp(max=bound, min=-1e6)
    log_phi = -0.5 * z_lower**2 - 0.5 * math.log(2 * math.pi)
    w = torch.log(torch.special.erfcx(-z_lower / math.sqrt(2)) * z_lower.abs()) + 0.5 * math.log(math.pi / 2)
    log1mexp = torch.where(w > -math.log(2), torch.log(-torch.expm1(w)), torch.log1p(-torch.exp(w)))
    lower = log_phi + log1mexp
    return torch.where(z > bound, upper, lower)


def _cholesky(covariance: torch.Tensor, jitter: float) -> torch.Tensor:
    """Lower Cholesky factor, with the smallest tenfold-growing jitter that makes it succeed
    (coinciding points, e.g. candidates projected onto the same integers, make it singular)."""
    eye = torch.eye(len(covariance), dtype=DTYPE)
    while True:
        factor, info = torch.linalg.cholesky_ex(covariance + jitter * eye)
        if int(info) == 0:
            return factor
        jitter *= 10


def yeo_johnson(z: np.ndarray) -> np.ndarray:
    """The Yeo–Johnson transform with its maximum-likelihood exponent (as HEBO transforms losses).

    Real-model losses are skewed (a few broken configurations far worse than the rest): fitted to
    raw losses, the GP spends its output scale on the outliers and sees the good region as flat.
    """
    return stats.yeojohnson(z)[0]


def standardised(losses: np.ndarray,
                 transform: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Losses as zero-mean, unit-variance GP targets, ``transform``-ed first when given.

    Falls back to plain standardisation where the transform fails or returns no spread.
    """
    z = (losses - losses.mean()) / (losses.std() or 1.0)
    if transform is None:
        return z
    try:
        transformed = transform(z)
    except (ValueError, FloatingPointError):
        return z
    if not np.all(np.isfinite(transformed)) or transformed.std() == 0:
        return z
    return (transformed - transformed.mean()) / transformed.std()


class Surrogate:
    """A fitted GP over standardised losses, which can be conditioned on fantasies.

    gpytorch defines the model and fits its hyperparameters; prediction then uses one cached
    Cholesky factor directly, which keeps every acquisition evaluation (and its gradient) a
    couple of small matrix products, with no autograd through the kernel's hyperparameters.
    """

    def __init__(self, model: _ExactGP, x: torch.Tensor, y: torch.Tensor) -> None:
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        # The fitted kernel as plain tensors: evaluating gpytorch's lazy kernel module costs
        # milliseconds of overhead per call, and the acquisition optimiser calls it hundreds of times.
        self.lengthscale = model.covar_module.base_kernel.lengthscale.detach().reshape(-1)
        self.nu = float(model.covar_module.base_kernel.nu)
        self.warp = model.warp
        self.constant = float(model.mean_module.constant)
        self.noise = float(model.likelihood.noise)
        self.prior_variance = float(model.covar_module.outputscale)
        self.best = float(y.min())  # best (lowest) standardised loss, fantasies included
        self._set_data(x, y, torch.full((len(x),), self.noise, dtype=DTYPE))

    @classmethod
    def fit(cls, x: np.ndarray, losses: np.ndarray, max_iter: int = 75, warped: Sequence[int] = (),
            power_transform: bool = False, nu: float = 2.5) -> Surrogate:
        """The GP with a Matérn-``nu`` kernel fitted to the standardised ``losses`` (Yeo–Johnson-
        transformed first with ``power_transform``) at ``x``; ``warped`` coordinates get an ``InputWarp``.
        ``nu`` is one of ``bayesian.MATERN_SMOOTHNESS``, checked where users set it."""
        y = standardised(losses, yeo_johnson if power_transform else None)
        tx, ty = torch.as_tensor(x, dtype=DTYPE), torch.as_tensor(y, dtype=DTYPE)
        model = _ExactGP(tx, ty, warped, nu)
        with gpytorch.settings.max_cholesky_size(_CHOLESKY_SIZE), gpytorch.settings.cholesky_jitter(1e-8):
            _fit(model, max_iter)
        return cls(model, tx, ty)

    def _set_data(self, x: torch.Tensor, y: torch.Tensor, noise: torch.Tensor) -> None:
        self.x, self.y, self.point_noise = x, y, noise
        with torch.no_grad():
            self.factor = _cholesky(self.kernel(x, x) + torch.diag(noise), jitter=1e-9)
            self.alpha = torch.cholesky_solve((y - self.constant)[:, None], self.factor)

    def kernel(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The fitted Matérn kernel (ARD lengthscales, output scale), shape ``(len(a), len(b))``."""
        distance = torch.cdist(self.warp(a) / self.lengthscale, self.warp(b) / self.lengthscale).clamp_min(1e-15)
        if self.nu == 1.5:
            root3 = math.sqrt(3.0) * distance
            return self.prior_variance * (1.0 + root3) * torch.exp(-root3)
        root5 = math.sqrt(5.0) * distance
        return self.prior_variance * (1.0 + root5 + root5**2 / 3.0) * torch.exp(-root5)

    def _mean_and_whitened_cross(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean at ``x`` and ``L⁻¹ k(data, x)``, from which any posterior covariance follows."""
        cross = self.kernel(x, self.x)
        mean = self.constant + (cross @ self.alpha).squeeze(-1)
        return mean, torch.linalg.solve_triangular(self.factor, cross.T, upper=False)

    def predict(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and variance of the latent function at ``x`` of shape ``(m, d)``."""
        mean, v = self._mean_and_whitened_cross(x)
        variance = (self.prior_variance - (v * v).sum(0)).clamp_min(1e-12)
        return mean, variance

    def posterior_mean(self, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.predict(torch.as_tensor(x, dtype=DTYPE))[0].numpy()

    def condition_on(self, x: np.ndarray, y: np.ndarray) -> None:
        """Add (fantasised) points with fixed hyperparameters: the Kriging-believer step.

        Fantasies are noise-free, so the posterior variance (and with it EI) vanishes at and
        around them; and the believed values count as data, so EI measures improvement over them
        too. Without both, the next proposal lands right beside a fantasy.
        """
        self._set_data(torch.cat([self.x, torch.as_tensor(x, dtype=DTYPE)]),
                       torch.cat([self.y, torch.as_tensor(y, dtype=DTYPE)]),
                       torch.cat([self.point_noise, torch.full((len(x),), 1e-6, dtype=DTYPE)]))
        self.best = min(self.best, float(np.min(y)))

    def log_ei(self, x: torch.Tensor, margin: float = 0.0) -> torch.Tensor:
        """Log expected improvement below ``best`` minus ``margin`` (standardised units) at points
        ``x`` of shape ``(m, d)``."""
        mean, variance = self.predict(x)
        return self._log_ei(mean, variance.sqrt(), margin)

    def _log_ei(self, mean: torch.Tensor, sd: torch.Tensor, margin: float = 0.0) -> torch.Tensor:
        return sd.log() + log_h((self.best - margin - mean) / sd)

    def _log_pi(self, mean: torch.Tensor, sd: torch.Tensor, margin: float = 0.0) -> torch.Tensor:
        return torch.special.log_ndtr((self.best - margin - mean) / sd)

    def mace_objectives(self, x: np.ndarray, kappa: float, margin: float = 0.0) -> np.ndarray:
        """HEBO's three acquisitions at ``x`` as columns to maximise: −LCB with exploration weight
        ``kappa``, log-EI and log-PI of improving on ``best`` by at least ``margin`` (standardised
        units), shape ``(m, 3)``."""
        with torch.no_grad():
            points = torch.as_tensor(x, dtype=DTYPE)
            mean, variance = self.predict(points)
            return self._mace_columns(mean, mean, variance.sqrt(), kappa, margin).numpy()

    def _mace_columns(self, lcb_mean: torch.Tensor, improvement_mean: torch.Tensor, sd: torch.Tensor,
                      kappa: float, margin: float) -> torch.Tensor:
        """−LCB at ``lcb_mean``, log-EI and log-PI at ``improvement_mean``: two means, so that a
        variant can perturb each (HEBO draws one perturbation for LCB, another for EI and PI)."""
        return torch.stack([-(lcb_mean - kappa * sd), self._log_ei(improvement_mean, sd, margin),
                            self._log_pi(improvement_mean, sd, margin)], dim=1)

    def sample_posterior(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One joint draw of the latent function at the points ``x`` of shape ``(m, d)``."""
        with torch.no_grad():
            points = torch.as_tensor(x, dtype=DTYPE)
            mean, v = self._mean_and_whitened_cross(points)
            factor = _cholesky(self.kernel(points, points) - v.T @ v, jitter=1e-6)
            noise = torch.as_tensor(rng.standard_normal(len(x)), dtype=DTYPE)
            return (mean + factor @ noise).numpy()

    def maximise_log_ei(self, candidates: np.ndarray, n_starts: int, max_iter: int) -> np.ndarray:
        """Multi-start L-BFGS-B on the relaxed unit cube, all starts optimised as one batch.

        Returns the optimised starts and the raw candidates, best first, shape ``(k, d)``; the
        caller projects them onto runnable points and takes the best one not yet taken.
        """
        with torch.no_grad():
            values = self.log_ei(torch.as_tensor(candidates, dtype=DTYPE)).numpy()
        order = np.argsort(-values, kind="stable")  # ties (flat regions) ranked alike on every machine
        starts = candidates[order[:n_starts]]
        shape = starts.shape

        def negative_sum(flat: np.ndarray) -> tuple[float, np.ndarray]:
            x = torch.as_tensor(flat.reshape(shape), dtype=DTYPE).requires_grad_(True)
            value = self.log_ei(x)
            total = -value.sum()
            total.backward()
            return float(total.detach()), np.nan_to_num(x.grad.numpy().reshape(-1))

        result = minimize(negative_sum, starts.reshape(-1), jac=True, method="L-BFGS-B",
                          bounds=[(0.0, 1.0)] * starts.size, options={"maxiter": max_iter})
        optimised = np.clip(result.x.reshape(shape), 0.0, 1.0)
        with torch.no_grad():
            optimised_values = self.log_ei(torch.as_tensor(optimised, dtype=DTYPE)).numpy()
        ranked = np.concatenate([optimised, candidates[order]])
        ranked_values = np.concatenate([optimised_values, values[order]])
        return ranked[np.argsort(-ranked_values, kind="stable")]
