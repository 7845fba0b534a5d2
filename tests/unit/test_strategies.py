"""One contract for every strategy: distinct proposals, determinism, exhaustion, failures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kubetune import CategoricalParameter, ContinuousParameter, IntegerParameter, Optimizer
from kubetune.space import SearchSpace
from kubetune.strategies import History

STRATEGIES = ["Random", "Bayesian", "Grid"]


def mixed_ranges(grid_points: int | None = 4) -> dict[str, object]:
    return {"lr": ContinuousParameter(1e-4, 0.5, "Logarithmic", grid_points=grid_points),
            "layers": IntegerParameter(1, 4),
            "opt": CategoricalParameter(["sgd", "adam"])}


def toy_objective(p: dict[str, object]) -> float:
    return -abs(math.log10(p["lr"]) + 2) - 0.3 * abs(p["layers"] - 3) + 0.5 * (p["opt"] == "adam")  # type: ignore[arg-type]


def run(strategy: str, rounds: int, q: int, seed: int = 0) -> Optimizer:
    opt = Optimizer(mixed_ranges(), strategy=strategy, seed=seed)  # type: ignore[arg-type]
    for _ in range(rounds):
        for params in opt.ask(q):
            opt.tell(params, toy_objective(params))
    return opt


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_proposals_are_distinct_and_valid(strategy: str) -> None:
    opt = run(strategy, rounds=4, q=3)
    keys = [opt.space.key(p) for p, _ in opt.observations]
    assert len(keys) == 12 and len(set(keys)) == 12
    for params, _ in opt.observations:
        assert 1e-4 <= params["lr"] <= 0.5 and params["layers"] in range(1, 5)  # type: ignore[operator]
        assert isinstance(params["layers"], int) and params["opt"] in ("sgd", "adam")


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_same_seed_same_observations_same_proposals(strategy: str) -> None:
    a, b = run(strategy, rounds=3, q=2, seed=5), run(strategy, rounds=3, q=2, seed=5)
    assert a.observations == b.observations
    assert a.ask(3) == b.ask(3)


def test_different_seeds_differ() -> None:
    assert run("Random", 1, 3, seed=1).observations != run("Random", 1, 3, seed=2).observations


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_pending_trials_are_not_proposed_again(strategy: str) -> None:
    opt = Optimizer(mixed_ranges(), strategy=strategy, seed=0)  # type: ignore[arg-type]
    first = opt.ask(4)
    second = opt.ask(4)
    keys = {opt.space.key(p) for p in first + second}
    assert len(keys) == 8


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_small_space_is_exhausted_exactly(strategy: str) -> None:
    opt = Optimizer({"a": IntegerParameter(1, 3), "b": CategoricalParameter(["x", "y"])}, strategy=strategy, seed=0)
    seen = []
    while batch := opt.ask(4):
        for params in batch:
            opt.tell(params, float(params["a"]))  # type: ignore[arg-type]
        seen += batch
    assert len(seen) == 6 and len({opt.space.key(p) for p in seen}) == 6


def test_grid_order_is_deterministic() -> None:
    opt = Optimizer({"a": IntegerParameter(1, 2), "b": CategoricalParameter(["x", "y"])}, strategy="Grid")
    assert opt.ask(4) == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]
    assert opt.ask(1) == []


def test_bayesian_parallel_batch_spreads_out() -> None:
    closest = []
    for seed in range(5):  # a posterior draw may put two of four proposals close: judge several batches
        opt = Optimizer({"x": ContinuousParameter(0.0, 1.0), "y": ContinuousParameter(0.0, 1.0)}, seed=seed,
                        objective_type="Minimize")
        rng = np.random.default_rng(0)
        for _ in range(10):
            x, y = rng.random(2)
            opt.tell({"x": x, "y": y}, (x - 0.3) ** 2 + (y - 0.6) ** 2)
        batch = np.array([[p["x"], p["y"]] for p in opt.ask(4)])
        closest.append(min(np.linalg.norm(batch[i] - batch[j]) for i in range(4) for j in range(i + 1, 4)))
        assert np.linalg.norm(batch.mean(0) - [0.3, 0.6]) < 0.35  # and it still aims at the optimum
    # Kriging believer keeps batches from collapsing onto one point
    assert min(closest) > 0.002 and np.mean(closest) > 0.02


def test_bayesian_survives_failures_and_avoids_them() -> None:
    opt = Optimizer({"x": ContinuousParameter(0.0, 1.0)}, seed=0)
    for params in opt.ask(6):
        opt.tell(params, None if params["x"] > 0.5 else params["x"])  # type: ignore[arg-type]
    proposals = [p["x"] for p in opt.ask(3)]
    failed = [p["x"] for p, v in opt.observations if v is None]
    assert all(p not in failed for p in proposals)
    assert sum(p <= 0.5 for p in proposals) >= 2  # type: ignore[operator]


def test_bayesian_all_failed_falls_back_to_sampling() -> None:
    opt = Optimizer({"x": ContinuousParameter(0.0, 1.0)}, seed=0)
    for params in opt.ask(6):
        opt.tell(params, None)
    assert len(opt.ask(2)) == 2


def test_tell_validates_and_treats_nan_as_failure() -> None:
    opt = Optimizer({"x": ContinuousParameter(0.0, 1.0)}, strategy="Random", seed=0)
    [params] = opt.ask()
    opt.tell(params, math.nan)
    assert opt.observations == [(params, None)] and opt.pending == [] and opt.best() is None
    with pytest.raises(TypeError):
        opt.tell(params, "0.5")  # type: ignore[arg-type]
    with pytest.raises(Exception, match="x"):
        opt.tell({"z": 1.0}, 0.5)


def test_best_respects_objective_type() -> None:
    for objective_type, expected in (("Maximize", 0.9), ("Minimize", 0.1)):
        opt = Optimizer({"x": ContinuousParameter(0.0, 1.0)}, strategy="Random", objective_type=objective_type)
        for value in (0.1, 0.9, 0.5):
            opt.tell({"x": value}, value)
        assert opt.best() == ({"x": expected}, expected)


def bayesian_history(space: SearchSpace, rounds: int = 6) -> History:
    rng = np.random.default_rng(1)
    return History(observed=[(p, toy_objective(p)) for p in (space.sample(rng) for _ in range(rounds))])


def test_bayesian_thompson_share_one_never_maximises_ei(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubetune.strategies import BayesianStrategy, _gp

    monkeypatch.setattr(_gp.Surrogate, "maximise_log_ei", lambda *a, **k: pytest.fail("EI maximised"))
    drawn = []
    original = _gp.Surrogate.sample_posterior
    monkeypatch.setattr(_gp.Surrogate, "sample_posterior", lambda self, x, rng: drawn.append(1) or original(self, x, rng))
    space = SearchSpace(mixed_ranges())
    history = bayesian_history(space)
    proposals = BayesianStrategy(n_initial=4, thompson_share=1.0).suggest(
        space, history, 3, np.random.default_rng(0))
    assert len(drawn) == 3
    assert len({space.key(p) for p in proposals} | {space.key(p) for p, _ in history.observed}) == 9


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_bayesian_thompson_share_is_validated(share: float) -> None:
    from kubetune.strategies import BayesianStrategy

    with pytest.raises(ValueError, match="thompson_share"):
        BayesianStrategy(thompson_share=share)


def test_bayesian_acquisition_is_validated() -> None:
    from kubetune.strategies import BayesianStrategy

    with pytest.raises(ValueError, match="acquisition.*'ucb'"):
        BayesianStrategy(acquisition="ucb")


def test_bayesian_kernel_smoothness_is_validated_at_construction() -> None:
    """Only the Matérn kernels the surrogate has in closed form; rejected before any GP is fitted."""
    from kubetune.strategies import BayesianStrategy

    with pytest.raises(ValueError, match="nu must be one of .* got 0.5"):
        BayesianStrategy(nu=0.5)


def test_mace_proposes_a_point_of_the_pareto_front(monkeypatch: pytest.MonkeyPatch) -> None:
    """The proposal is a front point of the three acquisitions: scored so that one candidate alone
    is on the front (the one nearest a target), the strategy must propose exactly that candidate."""
    from kubetune.strategies import BayesianStrategy, _gp

    target, scored = np.full(5, 0.3), []

    def objectives(self, x: np.ndarray, kappa: float, margin: float) -> np.ndarray:
        assert kappa == pytest.approx(math.sqrt((2 + 5 / 2) * math.log(12) + math.log(math.pi**2 / 0.01)))
        assert margin == 0.05  # 12 points: below the margin's limit of 30
        scored.append(x)
        return np.repeat(-np.linalg.norm(x - target, axis=1)[:, None], 3, axis=1)

    monkeypatch.setattr(_gp.Surrogate, "mace_objectives", objectives)
    space = SearchSpace({f"x{i}": ContinuousParameter(0.0, 1.0) for i in range(5)})
    history = History(observed=[({f"x{i}": v for i, v in enumerate(row)}, float(row.sum()))
                                for row in np.random.default_rng(2).random((12, 5))])
    [proposal] = BayesianStrategy().suggest(space, history, 1, np.random.default_rng(0))
    nearest = scored[0][np.argmin(np.linalg.norm(scored[0] - target, axis=1))]
    assert np.allclose(space.encode(proposal), nearest)


def test_pareto_front_and_lcb_weight() -> None:
    from kubetune.strategies.bayesian import _lcb_weight, _non_dominated

    objectives = np.array([[3, 0, 0], [0, 3, 0], [1, 1, 1], [1, 1, 0], [3, 0, 0], [0, 0, 0]])
    # a tie is not dominance: both copies of the first row stay; [1, 1, 0] loses to [1, 1, 1]
    assert _non_dominated(objectives).tolist() == [True, True, True, False, True, False]
    assert _lcb_weight(0, 3) == _lcb_weight(2, 3) < _lcb_weight(100, 3) < _lcb_weight(100, 10)
    assert _lcb_weight(2, 0) == pytest.approx(math.sqrt(2 * math.log(2) + math.log(math.pi**2 / 0.01)))


def test_bayesian_steps_around_distinct_results_not_around_one_plateau(monkeypatch: pytest.MonkeyPatch) -> None:
    """Five configurations with the same best loss are one model (a stump): local candidates go
    around the best *distinct* losses, one of the plateau's points and the next-best results."""
    from kubetune.strategies import BayesianStrategy

    space = SearchSpace(mixed_ranges())
    history = bayesian_history(space, rounds=10)
    plateau = min(y for _, y in history.observed) - 5.0  # type: ignore[type-var]
    history.observed[:5] = [(p, plateau) for p, _ in history.observed[:5]]
    seen: list[np.ndarray] = []
    original = BayesianStrategy._candidates
    monkeypatch.setattr(BayesianStrategy, "_candidates",
                        lambda self, space, incumbents, rng: seen.append(incumbents) or original(self, space, incumbents, rng))
    BayesianStrategy(n_initial=4).suggest(space, history, 1, np.random.default_rng(0))
    by_loss = sorted(range(10), key=lambda i: history.observed[i][1])  # type: ignore[arg-type, return-value]
    expected = [0] + [i for i in by_loss if i >= 5][:4]
    np.testing.assert_array_equal(seen[0], np.stack([space.encode(history.observed[i][0]) for i in expected]))


@pytest.mark.parametrize(("rounds", "power_transform_from", "expected"),
                         [(14, 15, False), (15, 15, True), (30, None, False), (6, 0, True)])
def test_bayesian_power_transforms_the_losses_from_the_threshold(
        monkeypatch: pytest.MonkeyPatch, rounds: int, power_transform_from: int | None, expected: bool) -> None:
    """A failed trial counts as an observation: it enters the GP at the worst loss."""
    from kubetune.strategies import BayesianStrategy, _gp

    fitted: list[bool] = []
    original = _gp.Surrogate.fit.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(_gp.Surrogate, "fit", classmethod(
        lambda cls, *args, power_transform=False, **kwargs:
            fitted.append(power_transform) or original(cls, *args, power_transform=power_transform, **kwargs)))
    space = SearchSpace(mixed_ranges())
    history = bayesian_history(space, rounds=rounds)
    history.observed[0] = (history.observed[0][0], None)
    BayesianStrategy(n_initial=4, power_transform_from=power_transform_from).suggest(
        space, history, 1, np.random.default_rng(0))
    assert fitted == [expected]


def test_bayesian_power_transform_threshold_is_validated() -> None:
    from kubetune.strategies import BayesianStrategy

    with pytest.raises(ValueError, match="power_transform_from"):
        BayesianStrategy(power_transform_from=-1)


@pytest.mark.parametrize(("observed", "pending", "until", "expected"),
                         [(12, 0, 30, 0.05), (29, 0, 30, 0.05), (28, 2, 30, 0.0), (30, 0, 30, 0.0), (12, 0, 0, 0.0),
                          (40, 0, None, 0.05)])
def test_bayesian_asks_for_an_improvement_margin_while_the_gp_holds_few_points(
        monkeypatch: pytest.MonkeyPatch, observed: int, pending: int, until: int | None, expected: float) -> None:
    """The points are observations plus fantasies: pending trials count toward the limit; ``None``
    keeps the margin for the whole run."""
    from kubetune.strategies import BayesianStrategy, _gp

    margins: list[float] = []
    original = _gp.Surrogate.mace_objectives
    monkeypatch.setattr(_gp.Surrogate, "mace_objectives",
                        lambda self, x, kappa, margin: margins.append(margin) or original(self, x, kappa, margin))
    space = SearchSpace(mixed_ranges(grid_points=None))
    full = bayesian_history(space, rounds=observed + pending)
    history = History(observed=full.observed[:observed], pending=[p for p, _ in full.observed[observed:]])
    BayesianStrategy(n_initial=4, improvement_margin_until=until).suggest(space, history, 1, np.random.default_rng(0))
    assert margins == [expected]


@pytest.mark.parametrize(("option", "value"), [("improvement_margin", -0.1), ("improvement_margin", float("nan")),
                                               ("improvement_margin_until", -1)])
def test_bayesian_improvement_margin_is_validated(option: str, value: float) -> None:
    from kubetune.strategies import BayesianStrategy

    with pytest.raises(ValueError, match=f"{option} must be at least 0"):
        BayesianStrategy(**{option: value})
