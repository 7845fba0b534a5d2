"""Every strategy variant still runs against today's strategy: a patch written for an older
signature (``Surrogate.fit`` gained ``warped``) fails its first model-based ask, and a benchmark
run would record only that error (``+pt`` did, unnoticed, until this test)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.optimizer.space import boolean, cat, integer, real  # noqa: E402
from bench.optimizer.variants import VARIANTS, KubetuneVariant  # noqa: E402

SPACE = [real("x", -5.0, 5.0), real("lr", 1e-4, 1.0, log=True), integer("n", 1, 20),
         cat("kind", ["a", "b", "c"]), boolean("flag")]


def loss(p: dict) -> float:
    return (p["x"] - 1.0) ** 2 + (np.log10(p["lr"]) + 2.0) ** 2 + 0.1 * abs(p["n"] - 7) + (p["kind"] != "b")


def _run_until(method: KubetuneVariant, recorded: list) -> None:
    """Tell results and ask again, two trials pending, until a recording patch saw the first
    model-based ask."""
    pending = method.ask(2)
    while not recorded:
        token, params = pending.pop(0)
        method.tell(token, loss(params))
        pending += method.ask(1)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variant_completes_model_based_asks(variant: str) -> None:
    method = KubetuneVariant(SPACE, seed=0, variant=variant)
    pending = method.ask(2)
    for i in range(12):  # the initial design is 10 points (5 parameters): points 11-14 are model-based
        token, params = pending.pop(0)
        method.tell(token, 0.5 if i % 4 == 3 else loss(params))  # ties, as on a plateau
        pending += method.ask(1)  # one trial still pending: the Kriging-believer path
        assert len(pending) == 2


def test_slice_sampler_draws_from_its_density() -> None:
    """``mace-marg``'s sampler on a known density: a correlated 2-D Gaussian (means 1 and −2, sds
    0.5 and 2, correlation 0.8) from a far start. A sampler that stepped out wrongly or accepted
    outside the slice would miss these moments; 2,000 sweeps put them within a few per cent."""
    from bench.optimizer.variants import _slice_sample

    mean = np.array([1.0, -2.0])
    sd = np.array([0.5, 2.0])
    covariance = np.outer(sd, sd) * np.array([[1.0, 0.8], [0.8, 1.0]])
    precision = np.linalg.inv(covariance)

    def log_density(x: np.ndarray) -> float:
        return -0.5 * float((x - mean) @ precision @ (x - mean))

    draws = np.array(list(_slice_sample(log_density, np.array([6.0, 6.0]), 2200, np.random.default_rng(0))))[200:]
    assert np.allclose(draws.mean(0), mean, atol=0.15)
    assert np.allclose(draws.std(0), sd, rtol=0.1)
    assert np.corrcoef(draws.T)[0, 1] == pytest.approx(0.8, abs=0.05)


def test_centred_design_opens_with_the_centre_once_per_category() -> None:
    """``mace-centres``: the first points are the middle of every ordinal range (log-scaled ones
    on their log scale), one per value of the widest categorical, then the Sobol points follow."""
    method = KubetuneVariant(SPACE, seed=0, variant="mace-centres")
    first = [params for _, params in method.ask(4)]
    for params in first[:3]:
        assert params["x"] == pytest.approx(0.0) and params["lr"] == pytest.approx(1e-2)
        assert params["n"] in (10, 11)
    assert [p["kind"] for p in first[:3]] == ["a", "b", "c"]
    assert first[3]["x"] != pytest.approx(0.0)


def test_tied_variant_fits_one_lengthscale_per_categorical_parameter(monkeypatch) -> None:
    """``mace-tied``: the GP of a model-based ask has one lengthscale per parameter, shared by a
    categorical's one-hot coordinates (SPACE encodes to 3 ordinal + 3 + 2 one-hot coordinates),
    and a fit moves them (tying without fitting would leave every group at its prior's mode)."""
    from kubetune.strategies import _gp

    fitted: list[np.ndarray] = []
    original = _gp.Surrogate.__init__

    def recording(self, model, x, y):
        original(self, model, x, y)
        fitted.append(self.lengthscale.numpy().copy())

    monkeypatch.setattr(_gp.Surrogate, "__init__", recording)
    _run_until(KubetuneVariant(SPACE, seed=0, variant="mace-tied"), fitted)
    lengthscales = fitted[0]
    assert len(lengthscales) == 8
    assert lengthscales[3] == lengthscales[4] == lengthscales[5] and lengthscales[6] == lengthscales[7]
    assert len(set(np.round(lengthscales[:3], 12))) == 3  # the ordinal ones stay separate
    assert len({*np.round(lengthscales, 12)}) == 5


def test_evolved_front_adds_mutants_of_scored_candidates(monkeypatch) -> None:
    """``mace-evolve``: a model-based ask scores the sampled candidates plus 3 x 256 mutants inside
    the unit cube, each a copy of an earlier candidate with at least one coordinate moved (unless
    clipped back onto the bound it sat on) and most left exactly as they were (each moves with
    probability 2/d; SPACE has d = 8)."""
    from kubetune.strategies import _gp

    scored: list[np.ndarray] = []
    original = _gp.Surrogate.maximise_log_ei

    def recording(self, candidates, *args):
        scored.append(candidates)
        return original(self, candidates, *args)

    monkeypatch.setattr(_gp.Surrogate, "maximise_log_ei", recording)
    _run_until(KubetuneVariant(SPACE, seed=0, variant="mace-evolve"), scored)
    pool = scored[0]
    assert ((pool >= 0.0) & (pool <= 1.0)).all()
    sampled, mutants = pool[:-768], pool[-768:]
    assert len(sampled) == 1024 + 5 * 32
    first = mutants[:256]
    unchanged = (first[:, None, :] == sampled[None, :, :]).sum(axis=2).max(axis=1)  # closest parent
    assert (unchanged <= 7).mean() > 0.9  # moved (a move past a bound its parent sits on is clipped back)
    assert np.median(unchanged) >= 5  # ... and kept most coordinates of one sampled candidate


def test_evolution_guard_keeps_only_front_members_off_plateaus() -> None:
    """``mace-evolve-off``: a front member whose nearest scored point returned a repeated loss is on
    a plateau and parents no mutants; one nearest a unique loss does."""
    import torch

    from bench.optimizer.variants import _off_plateaus

    scored = SimpleNamespace(x=torch.tensor([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]], dtype=torch.float64),
                             y=torch.tensor([0.3, 0.3, -1.2], dtype=torch.float64))
    front = np.array([[0.1, 0.0], [0.9, 0.8], [0.1, 0.9]])
    assert np.array_equal(_off_plateaus(front, scored), front[2:])
    scored.y[1] = 0.5  # no loss repeats: no plateau
    assert np.array_equal(_off_plateaus(front, scored), front)


def test_lcb_minimisers_improve_on_their_starts() -> None:
    """``mace-lcb-opt``: each minimiser's LCB is at most its start's (the pool's lowest), at least
    one strictly lower (the starts are random points, not minima), and all stay in the unit cube."""
    import torch

    from bench.optimizer.variants import _lcb_minimisers
    from kubetune.strategies._gp import DTYPE, Surrogate

    rng = np.random.default_rng(0)
    x = rng.random((12, 3))
    surrogate = Surrogate.fit(x, ((x - 0.3) ** 2).sum(axis=1))
    pool = rng.random((200, 3))

    def lcb(points):
        with torch.no_grad():
            mean, variance = surrogate.predict(torch.as_tensor(points, dtype=DTYPE))
        return (mean - 2.0 * variance.sqrt()).numpy()

    minimisers = _lcb_minimisers(surrogate, pool, 2.0, starts=4, max_iter=50)
    starts = np.sort(lcb(pool))[:4]
    assert minimisers.shape == (4, 3) and ((minimisers >= 0.0) & (minimisers <= 1.0)).all()
    assert (lcb(minimisers) <= starts + 1e-9).all()  # minimiser i started from the i-th lowest
    assert lcb(minimisers).min() < starts.min() - 1e-6
