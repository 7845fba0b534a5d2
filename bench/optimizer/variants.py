"""Candidate changes to kubetune's Bayesian strategy, tried in the harness without touching
``operator/kubetune``: method ``kubetune-Bayesian+<name>`` applies the patches of ``VARIANTS[name]``
for the duration of each ``ask``.

Each variant names its base. Most were measured before MACE became the default and run on
``PREVIOUS`` (EI with half Thompson samples, Matérn-5/2; variant ``previous`` itself):
``ei`` (no Thompson share, no transform: the EI-only strategy kubetune had before the Thompson
share) plus a change, the previous default plus a change (``ts25``, ``pt``...), ``warp`` (input
warping on) plus a change, ``raw`` (before the Yeo–Johnson transform from 30 observations was
adopted) or ``plateau`` (before the local candidates moved to the best distinct results);
``mace-m32`` is today's default with HEBO's Matérn-3/2 (the default for a few hours of 2026-12-04),
``m32`` the previous default with Matérn-3/2; ``mace-*`` variants change today's default (those
measured before 2026-12-05 were measured with the transform from 30 observations, today's
``mace-pt30``; since then it starts at 15; and those measured before session 23 ran without
today's improvement margin: ``mace-no-margin``'s base). Variants
measured before the transform's adoption (``ts25``, ``ts100``, ``ts50-rand20``, ``warp``...) were
measured on ``raw``'s base; ``ei`` keeps the transform off, as it was measured. Measured variants
stay reproducible in distribution, not draw for draw: the candidate projection has since been
vectorised (the same points up to floating point), Thompson draws are taken over distinct
candidates only, tied acquisition values are ranked stably and a Thompson-or-not draw is taken at
every proposal (``ei``'s share of 0 once skipped it). ``mace50`` (half MACE, half the previous
default) is gone with the patch that grafted MACE onto it. The measurements, and which variants
lost: ``bench/optimizer/README.md``.
"""

from __future__ import annotations

import contextlib
import functools
from types import SimpleNamespace
from typing import Any, Callable, Iterator

import numpy as np
from scipy.stats import qmc

from bench.optimizer.methods import Kubetune

Patch = Callable[[], contextlib.AbstractContextManager]


def _replacing(owner_path: str, name: str, make: Callable[[Any], Any]) -> Patch:
    """A patch that sets ``owner.name = make(original)`` and restores the original afterwards.

    ``owner_path`` is ``module:Class`` (or ``module:`` for a module attribute), imported only when
    the patch is entered so that this module loads without torch.
    """

    @contextlib.contextmanager
    def patch() -> Iterator[None]:
        import importlib
        module, _, cls = owner_path.partition(":")
        owner = importlib.import_module(module)
        owner = getattr(owner, cls) if cls else owner
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        setattr(owner, name, make(original))
        try:
            yield
        finally:
            setattr(owner, name, original)

    return patch


STRATEGY = "kubetune.strategies.bayesian:BayesianStrategy"
SURROGATE = "kubetune.strategies._gp:Surrogate"


def _options(**options: Any) -> Patch:
    """The strategy with other constructor options, e.g. ``thompson_share=0`` (EI only)."""

    def make(original):
        def suggest(self, *args, **kwargs):
            defaults = {name: getattr(self, name) for name in options}
            self.__dict__.update(options)
            try:
                return original(self, *args, **kwargs)
            finally:
                self.__dict__.update(defaults)
        return suggest

    return _replacing(STRATEGY, "suggest", make)


def _output_transform(transform: Callable[[np.ndarray], np.ndarray]) -> Patch:
    """The GP is fitted to ``transform(standardised losses)`` at every model-based ask, in place
    of the strategy's own choice (plain standardisation, or Yeo–Johnson from 30 observations)."""

    def make(original):
        return lambda losses, strategy_transform=None: original(losses, transform)

    return _replacing("kubetune.strategies._gp:", "standardised", make)


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


def _subset_steps() -> Patch:
    """Extra candidates that move only a few coordinates of the incumbents (BoTorch's
    ``sample_perturbed_subset_dims``): the next improvement is often one or two hyperparameters away."""

    def make(original):
        def candidates(self, space, incumbents, rng):
            base = original(self, space, incumbents, rng)
            n = len(incumbents) * 32
            starts = np.repeat(incumbents, 32, axis=0)
            mask = rng.random((n, space.dim)) < min(1.0, 2.0 / space.dim)
            mask[np.arange(n), rng.integers(0, space.dim, n)] = True
            steps = np.where(mask, rng.normal(0.0, 0.15, (n, space.dim)), 0.0)
            return np.concatenate([base, np.clip(starts + steps, 0.0, 1.0)])
        return candidates

    return _replacing(STRATEGY, "_candidates", make)


def _category_swaps(probability: float) -> Patch:
    """Local candidates that also switch categories: each categorical parameter of a step around an
    incumbent takes another value with ``probability``. A Gaussian step on a one-hot block never
    moves its argmax, so otherwise no candidate asks "the best configuration, another kernel"."""

    def make(original):
        def candidates(self, space, incumbents, rng):
            points = original(self, space, incumbents, rng)
            local = points[self.n_candidates:]
            for block in space.categorical_blocks:
                width = block.stop - block.start
                if width > 1:
                    rows = np.flatnonzero(rng.random(len(local)) < probability)
                    current = np.argmax(local[rows, block], axis=1)
                    other = (current + rng.integers(1, width, len(rows))) % width
                    local[rows, block] = np.eye(width)[other]
            return points
        return candidates

    return _replacing(STRATEGY, "_candidates", make)


def _local_candidates_times(factor: int) -> Patch:
    """``factor`` times the default's steps around the incumbents (32 each), the uniform
    candidates unchanged: MACE picks from the Pareto front of what it scores, and near the best
    results its LCB/EI/PI trade-off is then drawn from more points."""

    def make(original):
        def candidates(self, space, incumbents, rng):
            points = [original(self, space, incumbents, rng)]
            uniform, self.n_candidates = self.n_candidates, 0  # the original then draws steps only
            try:
                points += [original(self, space, incumbents, rng) for _ in range(factor - 1)]
            finally:
                self.n_candidates = uniform
            return np.concatenate(points)
        return candidates

    return _replacing(STRATEGY, "_candidates", make)


def _off_plateaus(front: np.ndarray, surrogate: Any) -> np.ndarray:
    """The members of ``front`` whose nearest scored point (observation or fantasy) returned a loss
    no other scored point repeats: a repeated loss marks a plateau (one tree stump, one accuracy
    level), and mutants of points on it only find it again. Ties survive standardising and the
    Yeo-Johnson transform, so the surrogate's values show them."""
    x, y = surrogate.x.numpy(), surrogate.y.numpy()
    values, counts = np.unique(y, return_counts=True)
    on_plateau = np.isin(y, values[counts > 1])
    nearest = np.argmin(((front[:, None, :] - x[None, :, :]) ** 2).sum(axis=2), axis=1)
    return front[~on_plateau[nearest]]


def _strategy_lcb_weight(surrogate: Any, space: Any) -> float:
    """MACE's LCB weight as the strategy sets it for ``surrogate``: from the points the GP holds
    (observations and fantasies) and the number of parameters."""
    from kubetune.strategies.bayesian import _lcb_weight
    return _lcb_weight(len(surrogate.y), len(space.parameters))


def _candidates_seen_by_surrogate(extend: Callable[..., np.ndarray]) -> list[Patch]:
    """A pair of patches for candidate steps that need the GP: the strategy's proposal step
    records the surrogate it scores with (and the strategy), and the candidate step passes its
    pool to ``extend(strategy, space, pool, surrogate, rng)``, whose result it returns."""
    scoring: list[tuple[Any, Any]] = []

    def best_untaken(original):
        def wrapped(self, space, surrogate, *args, **kwargs):
            scoring.append((surrogate, self))
            try:
                return original(self, space, surrogate, *args, **kwargs)
            finally:
                scoring.pop()
        return wrapped

    def make_candidates(original):
        def candidates(self, space, incumbents, rng):
            surrogate, strategy = scoring[-1]
            return extend(strategy, space, original(self, space, incumbents, rng), surrogate, rng)
        return candidates

    return [_replacing(STRATEGY, "_best_untaken", best_untaken), _replacing(STRATEGY, "_candidates", make_candidates)]


def _evolved_front(generations: int = 3, children: int = 256, step: float = 0.1,
                   off_plateaus: bool = False) -> list[Patch]:
    """MACE's front evolved, as HEBO evolves it with NSGA-II, instead of only sampled: for
    ``generations`` rounds, ``children`` mutants of random members of the front over everything
    scored so far (each coordinate moved by N(0, ``step``) with probability 2/d, at least one)
    join the candidates. A sampled front in 8 dimensions rarely holds the corner where several
    parameters sit at their bounds together (RF-wine's best models, which HEBO and Optuna GP
    find and kubetune misses at 16 x q2). ``off_plateaus``: parents only from ``_off_plateaus``
    (unguarded, the evolution lost DT-breast-nll at every setting)."""

    def evolve(strategy, space, pool, surrogate, rng):
        from kubetune.strategies.bayesian import _non_dominated
        points = len(surrogate.y)
        until = strategy.improvement_margin_until
        margin = strategy.improvement_margin if until is None or points < until else 0.0
        kappa = _strategy_lcb_weight(surrogate, space)
        moves = min(1.0, 2.0 / space.dim)
        for _ in range(generations):
            front = pool[_non_dominated(surrogate.mace_objectives(space.round_trip(pool), kappa, margin))]
            if off_plateaus:
                front = _off_plateaus(front, surrogate)
                if not len(front):
                    break
            parents = front[rng.integers(len(front), size=children)]
            moved = rng.random(parents.shape) < moves
            moved[np.arange(children), rng.integers(space.dim, size=children)] = True
            mutants = np.clip(parents + moved * rng.normal(0.0, step, parents.shape), 0.0, 1.0)
            pool = np.concatenate([pool, mutants])
        return pool

    return _candidates_seen_by_surrogate(evolve)


def _lcb(surrogate: Any, x: Any, kappa: float) -> Any:
    """LCB = mean − ``kappa``·sd at the tensor ``x`` (MACE's first column, negated)."""
    mean, variance = surrogate.predict(x)
    return mean - kappa * variance.sqrt()


def _lcb_order(surrogate: Any, points: np.ndarray, kappa: float) -> np.ndarray:
    """Indices of ``points`` from the lowest LCB up (ties in order)."""
    import torch

    from kubetune.strategies._gp import DTYPE
    with torch.no_grad():
        return np.argsort(_lcb(surrogate, torch.as_tensor(points, dtype=DTYPE), kappa).numpy(), kind="stable")


def _lcb_minimisers(surrogate: Any, pool: np.ndarray, kappa: float, starts: int, max_iter: int) -> np.ndarray:
    """L-BFGS-B on LCB = mean − ``kappa``·sd from the ``starts`` members of ``pool`` with the
    lowest LCB, all starts as one batch (as ``Surrogate.maximise_log_ei`` does for log-EI)."""
    import torch
    from scipy.optimize import minimize

    from kubetune.strategies._gp import DTYPE

    first = pool[_lcb_order(surrogate, pool, kappa)[:starts]]

    def total(flat):
        x = torch.as_tensor(flat.reshape(first.shape), dtype=DTYPE).requires_grad_(True)
        value = _lcb(surrogate, x, kappa).sum()
        value.backward()
        return float(value.detach()), np.nan_to_num(x.grad.numpy().reshape(-1))

    result = minimize(total, first.reshape(-1), jac=True, method="L-BFGS-B",
                      bounds=[(0.0, 1.0)] * first.size, options={"maxiter": max_iter})
    return np.clip(result.x.reshape(first.shape), 0.0, 1.0)


def _optimised_lcb(starts: int = 5, max_iter: int = 50) -> list[Patch]:
    """MACE's exploring end optimised, not only sampled: LCB's local minimisers from the best
    ``starts`` candidates join the candidates, as log-EI's do (BoTorch optimises its whole
    acquisition). Tried against Hartmann-6's second basin (13 of kubetune's 30 runs)."""

    def extend(strategy, space, pool, surrogate, rng):
        kappa = _strategy_lcb_weight(surrogate, space)
        return np.concatenate([pool, _lcb_minimisers(surrogate, pool, kappa, starts, max_iter)])

    return _candidates_seen_by_surrogate(extend)


def _first_untaken(space: Any, taken: Any, projected: np.ndarray, order: np.ndarray) -> Any:
    """The first point of ``projected``, taken in ``order``, that no trial has claimed yet (claimed
    now), or ``None``: how a patched proposal step ends, as the strategy's own does."""
    for i in order:
        params = space.decode(projected[i])
        if taken.claim(params):
            return params
    return None


def _lcb_share(share: float) -> Patch:
    """A ``share`` of proposals minimise LCB alone (over the candidates and LCB's local minimisers)
    instead of taking a random point of MACE's front: on Hartmann-6 a trapped run (seed 107)
    spent 45 of 128 evaluations within 0.3 of the second basin's minimum and none within 0.5 of
    the global one; the front's exploring end is one point among many."""

    def make(original):
        def best_untaken(self, space, surrogate, taken, incumbents, rng):
            if rng.random() >= share:
                return original(self, space, surrogate, taken, incumbents, rng)
            kappa = _strategy_lcb_weight(surrogate, space)
            pool = self._candidates(space, incumbents, rng)
            pool = np.concatenate([_lcb_minimisers(surrogate, pool, kappa, self.n_starts, self.acquisition_iterations),
                                   pool])
            projected = np.unique(space.round_trip(pool), axis=0)
            return _first_untaken(space, taken, projected, _lcb_order(surrogate, projected, kappa))
        return best_untaken

    return _replacing(STRATEGY, "_best_untaken", make)


def _uniform_candidates_only() -> Patch:
    """No candidate steps around the best points: with tied best losses they stay on the plateau."""
    return _replacing(STRATEGY, "_candidates", lambda original: lambda self, space, incumbents, rng:
                      rng.random((self.n_candidates, space.dim)))


def _lengthscale_cap(cap: float) -> Patch:
    """Lengthscales bounded by ``cap`` (unit cube): a dimension the data calls irrelevant keeps
    some posterior variance, so EI still explores along it."""

    def make(original):
        def init(self, x, y, *args, **kwargs):
            import gpytorch
            from kubetune.strategies._gp import DTYPE
            original(self, x, y, *args, **kwargs)
            kernel = self.covar_module.base_kernel
            kernel.register_constraint("raw_lengthscale", gpytorch.constraints.Interval(1e-3, cap))
            kernel.lengthscale = kernel.lengthscale_prior.mode.clamp(max=cap * 0.9)
            self.to(DTYPE)
        return init

    return _replacing("kubetune.strategies._gp:_ExactGP", "__init__", make)


def _loose_fit(steps: int = 100, lr: float = 0.01) -> Patch:
    """HEBO's GP fit instead of L-BFGS-B to the MAP: lengthscales start at each coordinate's median
    pairwise distance, then ``steps`` of pSGLD (RMSprop with Langevin noise after a tenth of them,
    scaled by 1 / observations) at ``lr``: the hyperparameters stay near that start, a rough
    model that the MAP fit would smooth out."""

    def make(original):
        def fit(model, max_iter):
            import gpytorch
            import torch

            from kubetune.strategies._gp import DTYPE
            x = model.train_inputs[0]
            with torch.no_grad():
                model.covar_module.base_kernel.lengthscale = torch.stack(
                    [torch.pdist(x[:, [i]]).median().clamp(min=0.01) for i in range(x.shape[1])])[None, :]
            params = [p for p in model.parameters() if p.requires_grad]
            optimiser = torch.optim.RMSprop(params, lr=lr)
            noise = torch.Generator().manual_seed(len(x))  # reproducible runs
            mll = gpytorch.mlls.ExactMarginalLogLikelihood(model.likelihood, model)
            model.train()
            for step in range(steps):
                optimiser.zero_grad()
                try:
                    (-mll(model(*model.train_inputs), model.train_targets)).backward()
                except (RuntimeError, ValueError):
                    break
                optimiser.step()
                if step >= steps // 10:
                    with torch.no_grad():
                        for p in params:
                            scale = (2 * lr / (optimiser.state[p]["square_avg"].sqrt() + 1e-8)).sqrt() / len(x)
                            p.add_(scale * torch.randn(p.shape, generator=noise, dtype=DTYPE))
            model.eval()
        return fit

    return _replacing("kubetune.strategies._gp:", "_fit", make)


def _marginalised(samples: int = 8, up_to: int = 64, burn: int = 10, thin: int = 2,
                  lengthscales_only: bool = False) -> Patch:
    """GP hyperparameters integrated out instead of fixed at the MAP (Snoek et al. 2012): with up to
    ``up_to`` observations, the MAP fit is followed by univariate slice sampling of the log
    lengthscales, log output scale, log noise and constant mean under the fit's priors (``burn``
    sweeps from the MAP, then ``samples`` draws ``thin`` sweeps apart), and the surrogate predicts
    the moment-matched mixture of the sampled GPs. A few dozen losses pin the lengthscales down
    poorly; one confident MAP then exploits a guess. ``lengthscales_only`` keeps the output scale,
    noise and mean at the MAP."""

    def make(original):
        def fit(cls, x, losses, max_iter=75, warped=(), power_transform=False, nu=2.5):
            surrogate = original.__func__(cls, x, losses, max_iter, warped, power_transform, nu)
            if len(x) > up_to or len(warped):
                return surrogate
            return _mixture_class().sampled(surrogate, samples, burn, thin, lengthscales_only)
        return classmethod(fit)

    return _replacing(SURROGATE, "fit", make)


def _slice_sample(log_density: Callable[[np.ndarray], float], start: np.ndarray, sweeps: int,
                  rng: np.random.Generator, width: float = 1.0) -> Iterator[np.ndarray]:
    """Univariate slice sampling with stepping out (Neal 2003), one coordinate at a time in random
    order; yields the state after each sweep."""
    state, current = start.copy(), log_density(start)
    for _ in range(sweeps):
        for i in rng.permutation(len(state)):
            level = current + np.log(rng.random())
            left = state[i] - width * rng.random()
            right = left + width
            for _ in range(20):
                probe = state.copy()
                probe[i] = left
                if log_density(probe) <= level:
                    break
                left -= width
            for _ in range(20):
                probe = state.copy()
                probe[i] = right
                if log_density(probe) <= level:
                    break
                right += width
            while True:
                probe = state.copy()
                probe[i] = rng.uniform(left, right)
                value = log_density(probe)
                if value > level:
                    state, current = probe, value
                    break
                if probe[i] < state[i]:
                    left = probe[i]
                else:
                    right = probe[i]
        yield state.copy()


@functools.cache
def _mixture_class() -> type:
    """The mixture surrogate, defined on first use so that this module loads without torch."""
    import math
    import zlib

    import torch

    from kubetune.strategies._gp import DTYPE, Surrogate

    class Mixture(Surrogate):
        """Equal-weight GPs with sampled hyperparameters, predicting their mixture's mean and variance."""

        @classmethod
        def sampled(cls, fitted, samples: int, burn: int, thin: int, lengthscales_only: bool):
            n, dim = fitted.x.shape
            prior_mean, prior_sd = math.sqrt(2) + 0.5 * math.log(dim), math.sqrt(3)

            def log_density(theta):
                log_ls, log_scale, log_noise, constant = theta[:dim], theta[dim], theta[dim + 1], theta[dim + 2]
                if (np.any(log_ls < math.log(1e-3)) or np.any(log_ls > 5) or not math.log(0.05) <= log_scale <= math.log(20)
                        or not math.log(1e-6) <= log_noise <= 0 or abs(constant) > 5):
                    return -np.inf
                member = _member(fitted, theta, dim)  # its Cholesky factor and weights give the likelihood
                log_likelihood = (-0.5 * float((fitted.y - constant) @ member.alpha.squeeze(-1))
                                  - float(member.factor.diagonal().log().sum()) - 0.5 * n * math.log(2 * math.pi))
                log_prior = (-0.5 * (((log_ls - prior_mean) / prior_sd) ** 2).sum()
                             - 0.5 * (log_noise + 4.0) ** 2)
                return log_likelihood + log_prior

            start = np.concatenate([np.log(fitted.lengthscale.numpy()), [math.log(fitted.prior_variance),
                                    math.log(max(fitted.noise, 1.1e-6)), fitted.constant]])
            rng = np.random.default_rng(zlib.crc32(fitted.x.numpy().tobytes() + fitted.y.numpy().tobytes()))
            free = dim if lengthscales_only else len(start)
            draws = [np.concatenate([head, start[free:]]) for head in _slice_sample(
                lambda head: log_density(np.concatenate([head, start[free:]])), start[:free],
                burn + samples * thin, rng)][burn + thin - 1::thin]
            mixture = cls.__new__(cls)
            mixture.members = [_member(fitted, theta, dim) for theta in draws]
            mixture.nu, mixture.best, mixture.x, mixture.y = fitted.nu, fitted.best, fitted.x, fitted.y
            return mixture

        def predict(self, x):
            moments = [member.predict(x) for member in self.members]
            means = torch.stack([m for m, _ in moments])
            variances = torch.stack([v for _, v in moments])
            mean = means.mean(0)
            return mean, ((variances + means**2).mean(0) - mean**2).clamp_min(1e-12)

        def condition_on(self, x, y):
            for member in self.members:
                member.condition_on(x, y)
            self.x, self.y = self.members[0].x, self.members[0].y
            self.best = min(self.best, float(np.min(y)))

        def sample_posterior(self, x, rng):
            return self.members[rng.integers(len(self.members))].sample_posterior(x, rng)

    def _member(fitted, theta, dim):
        member = Surrogate.__new__(Surrogate)
        member.lengthscale = torch.as_tensor(np.exp(theta[:dim]), dtype=DTYPE)
        member.nu, member.warp = fitted.nu, fitted.warp
        member.prior_variance, member.noise, member.constant = (math.exp(theta[dim]), math.exp(theta[dim + 1]),
                                                                float(theta[dim + 2]))
        member.best = fitted.best
        member._set_data(fitted.x, fitted.y, torch.full((len(fitted.x),), member.noise, dtype=DTYPE))
        return member

    return Mixture


def _random_interleave(probability: float) -> Patch:
    """Each model-based proposal replaced by a uniformly random one with ``probability`` (SMAC's
    interleaved random configurations): a guard against a confidently wrong GP."""

    def make(original):
        def model_based(self, space, history, taken, n, rng):
            explore = int((rng.random(n) < probability).sum())
            return original(self, space, history, taken, n - explore, rng) if n - explore else []
        return model_based

    return _replacing(STRATEGY, "_model_based", make)


def _improvement_margin(xi: float) -> Patch:
    """EI of an improvement by at least ``xi`` (standardised units) over the best: on a plateau
    of identical losses plain EI keeps sampling it, where mean == best."""

    return _replacing(SURROGATE, "log_ei", lambda original: lambda self, x: original(self, x, xi))


def _informative_only(relative_sd: float) -> Patch:
    """EI proposals skipped where the GP already knows the loss (posterior sd below ``relative_sd``
    of the prior sd): with long lengthscales on dims the GP calls irrelevant, EI's best point can be
    an effective duplicate of an observation."""

    def make(original):
        def best_untaken(self, space, surrogate, taken, incumbents, rng):
            import torch
            from kubetune.strategies._gp import DTYPE
            candidates = self._candidates(space, incumbents, rng)
            ranked = surrogate.maximise_log_ei(candidates, self.n_starts, self.acquisition_iterations)
            projected = space.round_trip(ranked[:256])
            with torch.no_grad():
                x = torch.as_tensor(projected, dtype=DTYPE)
                scores = surrogate.log_ei(x).numpy()
                sd = surrogate.predict(x)[1].sqrt().numpy()
            # uninformative points, and any non-finite log-EI, are never proposed
            eligible = (sd >= relative_sd * np.sqrt(surrogate.prior_variance)) & np.isfinite(scores)
            order = np.argsort(-scores, kind="stable")
            return _first_untaken(space, taken, projected, order[eligible[order]])
        return best_untaken

    return _replacing(STRATEGY, "_best_untaken", make)


def _initial_design_size(size: Callable[[int], int]) -> Patch:
    """A space-filling design of ``size(number of parameters)`` points instead of the default
    ``max(4, min(2 d, 10))``: fewer random points leave a 30-trial budget more model-based ones."""
    return _replacing(STRATEGY, "_initial_size",
                      lambda original: lambda self, space: size(len(space.parameters)))


def _centred_design() -> Patch:
    """The design opens with the centre of the ordinal ranges, once for each value of the widest
    categorical (other categoricals cycle their values; at most half the design), as Vizier opens
    with the centre: a range's middle is where its author expects good values, and a Sobol design
    can give a category only corners (SVM-breast seed 1: rbf at two extreme gammas, written off).
    The strategy's own design code runs, with a Sobol sequence that yields the centres first."""

    def make(original):
        def initial_design(self, space, taken, asked, n):
            blocks = space.categorical_blocks
            count = min(max([b.stop - b.start for b in blocks], default=1), self._initial_size(space) // 2)
            centres = np.full((count, space.dim), 0.5)
            for block in blocks:
                centres[:, block] = np.eye(block.stop - block.start)[np.arange(count) % (block.stop - block.start)]

            class CentredSobol(qmc.Sobol):
                def random(self, n: int = 1, **options: Any) -> np.ndarray:
                    return np.concatenate([centres, super().random(n, **options)])[:n]

            with _replacing("kubetune.strategies.bayesian:", "qmc", lambda _: SimpleNamespace(Sobol=CentredSobol))():
                return original(self, space, taken, asked, n)
        return initial_design

    return _replacing(STRATEGY, "_initial_design", make)


def _tied_category_lengthscales() -> list[Patch]:
    """One lengthscale per categorical parameter, shared by its one-hot coordinates, instead of one
    per coordinate: every two values of a category are then equally far apart (an exchangeable
    kernel, as BoTorch's ``CategoricalKernel`` and HEBO's mixed kernels treat them), its prior
    counts once, and a 30-observation fit has a lengthscale per parameter, not per value, to pin down.
    A pair of patches: the strategy's model-based ask records which coordinates share a
    lengthscale, and the GP built during that ask reads it."""
    groups: list[list[int]] = []

    def model_based(original):
        def wrapped(self, space, *args, **kwargs):
            group = {coordinate: i for i, coordinate in enumerate(space.ordinal_coordinates)}
            for i, block in enumerate(space.categorical_blocks, len(group)):
                group.update({coordinate: i for coordinate in range(block.start, block.stop)})
            groups.append([group[coordinate] for coordinate in range(space.dim)])
            try:
                return original(self, space, *args, **kwargs)
            finally:
                groups.pop()
        return wrapped

    def init(original):
        def wrapped(self, x, y, *args, **kwargs):
            original(self, x, y, *args, **kwargs)
            old = self.covar_module.base_kernel
            self.covar_module.base_kernel = _tied_matern_class()(
                groups[-1], nu=old.nu, lengthscale_prior=old.lengthscale_prior,
                lengthscale_constraint=old.raw_lengthscale_constraint)
            self.covar_module.base_kernel.lengthscale = old.lengthscale_prior.mode.clamp(max=4.0)
            self.to(x.dtype)
        return wrapped

    return [_replacing(STRATEGY, "_model_based", model_based),
            _replacing("kubetune.strategies._gp:_ExactGP", "__init__", init)]


@functools.cache
def _tied_matern_class() -> type:
    """The Matérn kernel with grouped lengthscales, defined on first use (gpytorch loads with torch)."""
    import gpytorch
    import torch

    class TiedMatern(gpytorch.kernels.MaternKernel):
        """ARD Matérn whose coordinate ``i`` uses lengthscale ``groups[i]``; ``lengthscale`` reads
        expanded to every coordinate, as ``Surrogate`` and the kernel's forward pass expect."""

        def __init__(self, groups: list[int], **options: Any) -> None:
            super().__init__(ard_num_dims=max(groups) + 1, **options)
            self.register_buffer("groups", torch.as_tensor(groups, dtype=torch.long))

        @property
        def lengthscale(self):
            return self._group_lengthscales(self)[..., self.groups]

        @lengthscale.setter
        def lengthscale(self, value) -> None:
            self._set_lengthscale(value)

        @staticmethod
        def _group_lengthscales(kernel):
            return kernel.raw_lengthscale_constraint.transform(kernel.raw_lengthscale)

        def _lengthscale_param(self, kernel):  # the prior counts each group once
            return self._group_lengthscales(kernel)

    return TiedMatern


def _plateau_incumbents() -> Patch:
    """Local candidates around the five lowest observations, duplicates included: the strategy
    before it stepped around the best *distinct* results (on a plateau, five observations of one
    loss put every local candidate around one model)."""
    return _replacing("kubetune.strategies.bayesian:", "_best_distinct",
                      lambda original: lambda losses, count: np.argsort(losses)[:count])


def _lcb_weight_scaled(factor: float) -> Patch:
    """MACE's LCB weight times ``factor``: below 1 the front leans to exploitation."""
    return _replacing("kubetune.strategies.bayesian:", "_lcb_weight",
                      lambda original: lambda observations, parameters: factor * original(observations, parameters))


def _noisy_mace() -> Patch:
    """HEBO's MACE as HEBO evaluates it: the posterior mean is perturbed by √2·σ_noise·N(0, 1),
    drawn once for LCB and once more for EI and PI, so that on noisy losses the front's members
    are not ranked by differences the GP itself calls noise. The draws are seeded by the points,
    which keeps a run reproducible."""

    def make(original):
        def mace_objectives(self, x, kappa, margin):
            import zlib

            import torch

            from kubetune.strategies._gp import DTYPE
            rng = np.random.default_rng(zlib.crc32(np.ascontiguousarray(x).tobytes()))
            with torch.no_grad():
                mean, variance = self.predict(torch.as_tensor(x, dtype=DTYPE))
                jitter = np.sqrt(2.0 * self.noise) * torch.as_tensor(rng.standard_normal((2, len(x))), dtype=DTYPE)
                return self._mace_columns(mean + jitter[0], mean + jitter[1], variance.sqrt(), kappa, margin).numpy()
        return mace_objectives

    return _replacing(SURROGATE, "mace_objectives", make)


# The default before MACE was adopted: EI, half the proposals Thompson samples, Matérn-5/2,
# the Yeo–Johnson transform from 30 observations.
PREVIOUS = dict(acquisition="ei", thompson_share=0.5, nu=2.5, power_transform_from=30)


def _previous(**changes: Any) -> Patch:
    """The previous default (``PREVIOUS``) with ``changes``: the base most variants were measured on."""
    return _options(**{**PREVIOUS, **changes})


EI = _previous(thompson_share=0.0, power_transform_from=None)
VARIANTS: dict[str, list[Patch]] = {
    "previous": [_previous()], "mace-m32": [_options(nu=1.5)],
    "ei": [EI],
    "ts25": [_previous(thompson_share=0.25)], "ts75": [_previous(thompson_share=0.75)],
    "ts100": [_previous(thompson_share=1.0)],
    "ts50-rand20": [_previous(), _random_interleave(0.2)],
    "rand10": [EI, _random_interleave(0.1)], "rand20": [EI, _random_interleave(0.2)],
    "info05": [EI, _informative_only(0.05)], "info20": [EI, _informative_only(0.2)],
    "xi01": [EI, _improvement_margin(0.01)], "xi1": [EI, _improvement_margin(0.1)],
    "cap1": [EI, _lengthscale_cap(1.0)], "cap3": [EI, _lengthscale_cap(3.0)],
    "nolocal": [EI, _uniform_candidates_only()],
    "yj": [_previous(thompson_share=0.0, power_transform_from=0)], "copula": [EI, _output_transform(_copula)],
    "winsor": [EI, _output_transform(_winsorised)], "subset": [EI, _subset_steps()],
    "copula-subset": [EI, _output_transform(_copula), _subset_steps()],
    "pt": [_previous(power_transform_from=0)], "pt15": [_previous(power_transform_from=15)],
    "raw": [_previous(power_transform_from=None)],
    "warp": [_previous(warp_inputs=True)], "warp-pt": [_previous(warp_inputs=True, power_transform_from=0)],
    "plateau": [_plateau_incumbents(), _previous(power_transform_from=None)],
    "init-d1": [_previous(), _initial_design_size(lambda d: max(3, d + 1))],
    "init-3d": [_previous(), _initial_design_size(lambda d: max(6, min(3 * d, 15)))],
    "catswap": [_previous(), _category_swaps(0.25)],
    "m32": [_previous(nu=1.5)],
    "warp-ts25": [_previous(warp_inputs=True, thompson_share=0.25)],
    "warp-ei": [_previous(warp_inputs=True, thompson_share=0.0)],
    # on today's default (MACE, Matérn-5/2)
    "mace-ts25": [_options(thompson_share=0.25)], "mace-warp": [_options(warp_inputs=True)],
    "mace-init-d1": [_initial_design_size(lambda d: max(3, d + 1))], "mace-k05": [_lcb_weight_scaled(0.5)],
    "mace-loose": [_loose_fit()],
    # HEBO 0.3.6's default GP choices together (each alone lost at 16 x q2): Matérn-3/2, a
    # power transform from the first fit, d + 1 initial points, the loose pSGLD fit (its "gp"
    # model does not warp inputs)
    "mace-hebo": [_options(nu=1.5, power_transform_from=0),
                  _initial_design_size(lambda d: d + 1), _loose_fit()],
    "mace-hebo-map": [_options(nu=1.5, power_transform_from=0), _initial_design_size(lambda d: d + 1)],
    "mace-pt0": [_options(power_transform_from=0)], "mace-pt30": [_options(power_transform_from=30)],
    "mace-marg": [_marginalised()], "mace-marg-ls": [_marginalised(lengthscales_only=True)],
    # where MACE's front is drawn from: four times the uniform candidates, or four times the steps
    # around the best results (HEBO evolves its front with NSGA-II instead of sampling it)
    "mace-c4096": [_options(n_candidates=4096)], "mace-local4": [_local_candidates_times(4)],
    # HEBO perturbs MACE's posterior mean by the fitted noise (kubetune scores the plain mean)
    "mace-noise": [_noisy_mace()],
    # MACE's improvement margin (the default: 0.05 while the GP holds fewer than 30 points) for
    # the whole run, larger, or none (the default before session 23)
    "mace-xi05": [_options(improvement_margin_until=None)],
    "mace-xi2": [_options(improvement_margin=0.2, improvement_margin_until=None)],
    "mace-no-margin": [_options(improvement_margin=0.0)],
    # the margin for the first 20 points only: the last trials of a 30-trial run refine without
    # it (SVM-breast and ada-breast held without the margin, and lost with it)
    "mace-xi05-to20": [_options(improvement_margin_until=20)],
    # local candidates that switch categories (session 26: SVM-breast seed 1 ended on a poly-kernel
    # corner, 0.0369, with the rbf kernel's 0.0211 one switch away)
    "mace-catswap": [_category_swaps(0.25)],
    # the design opens with the centre of the ranges, one per category (Vizier opens with the centre)
    "mace-centres": [_centred_design()],
    # a larger design (15 points from 5 parameters; 10 today): on Hartmann-6 the seed's early
    # trials decide which basin a run ends in, and the 7-point design traps more runs (session 33)
    "mace-init-3d": [_initial_design_size(lambda d: max(6, min(3 * d, 15)))],
    # one lengthscale per categorical parameter, not per one-hot coordinate (an exchangeable kernel)
    "mace-tied": _tied_category_lengthscales(),
    # the front evolved from the sampled one (HEBO runs NSGA-II on MACE), not only sampled
    "mace-evolve": _evolved_front(),
    # ... with parents only off the plateaus of repeated losses (mace-evolve lost DT-breast)
    "mace-evolve-off": _evolved_front(off_plateaus=True),
    # Hartmann-6's second basin (13 of kubetune's 30 runs; session 34): without the Yeo-Johnson
    # transform, with LCB's minimisers among the candidates, with twice LCB's weight, a quarter of
    # the proposals LCB's: each still traps at least five of the default's six trapped seeds
    "mace-raw": [_options(power_transform_from=None)], "mace-lcb-opt": _optimised_lcb(),
    "mace-k2": [_lcb_weight_scaled(2.0)], "mace-lcb25": [_lcb_share(0.25)],
}


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
