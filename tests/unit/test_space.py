"""The search space: scalings, encoding round trips (property-based), grid and sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubetune import CategoricalParameter, ContinuousParameter, IntegerParameter, SearchSpace, SpecError


@st.composite
def spaces_and_points(draw: st.DrawFn) -> tuple[SearchSpace, dict[str, object]]:
    params: dict[str, object] = {}
    values: dict[str, object] = {}
    for i in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["lin", "log", "rlog", "int", "intlog", "cat"]))
        name = f"p{i}"
        if kind in ("lin", "log"):
            low = draw(st.floats(1e-6, 1e3)) if kind == "log" else draw(st.floats(-1e3, 1e3))
            high = low + draw(st.floats(1e-3, 1e3))
            params[name] = ContinuousParameter(low, high, "Linear" if kind == "lin" else "Logarithmic")
            values[name] = draw(st.floats(low, high))
        elif kind == "rlog":
            low = draw(st.floats(0.0, 0.5))
            high = draw(st.floats(low + 1e-3, 0.999))
            params[name] = ContinuousParameter(low, high, "ReverseLogarithmic")
            values[name] = draw(st.floats(low, high))
        elif kind in ("int", "intlog"):
            low = draw(st.integers(1 if kind == "intlog" else -100, 100))
            high = draw(st.integers(low + 1, low + 1000))
            params[name] = IntegerParameter(low, high, "Linear" if kind == "int" else "Logarithmic")
            values[name] = draw(st.integers(low, high))
        else:
            choices = draw(st.lists(st.one_of(st.text(min_size=1, max_size=5), st.integers(-5, 5)),
                                    min_size=1, max_size=5, unique_by=lambda v: (type(v), v)))
            params[name] = CategoricalParameter(choices)
            values[name] = draw(st.sampled_from(choices))
    return SearchSpace(params), values  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(spaces_and_points())
def test_decode_encode_round_trip(case: tuple[SearchSpace, dict[str, object]]) -> None:
    space, values = case
    x = space.encode(values)  # type: ignore[arg-type]
    assert x.shape == (space.dim,) and np.all((x >= 0) & (x <= 1))
    decoded = space.decode(x)
    for name, value in values.items():
        if isinstance(value, float):
            assert math.isclose(decoded[name], value, rel_tol=1e-9, abs_tol=1e-9)  # type: ignore[arg-type]
        else:
            assert decoded[name] == value and type(decoded[name]) is type(value)


@settings(max_examples=200, deadline=None)
@given(spaces_and_points(), st.lists(st.floats(-0.5, 1.5), min_size=30, max_size=30))
def test_any_point_decodes_to_valid_values(case: tuple[SearchSpace, dict[str, object]], raw: list[float]) -> None:
    space, _ = case
    decoded = space.decode(np.resize(np.array(raw), space.dim))
    again = space.decode(space.encode(decoded))
    assert space.key(again) == space.key(decoded)
    for name, param in space.parameters.items():
        value = decoded[name]
        if isinstance(param, CategoricalParameter):
            assert value in param.values
        else:
            assert param.min_value <= value <= param.max_value  # type: ignore[operator]
            assert isinstance(value, int) == isinstance(param, IntegerParameter)


@settings(max_examples=200, deadline=None)
@given(spaces_and_points(), st.lists(st.floats(-0.5, 1.5), min_size=90, max_size=90))
def test_round_trip_projects_each_row_as_decode_then_encode(case: tuple[SearchSpace, dict[str, object]],
                                                            raw: list[float]) -> None:
    space, _ = case
    points = np.resize(np.array(raw), (3, space.dim))
    expected = np.stack([space.encode(space.decode(row)) for row in points])
    assert np.allclose(space.round_trip(points), expected, rtol=0, atol=1e-12)


def test_ordinal_coordinates_skip_one_hot_blocks_and_the_blocks_cover_the_rest() -> None:
    space = SearchSpace({"opt": CategoricalParameter(["sgd", "adam", "rmsprop"]), "lr": ContinuousParameter(0.1, 1.0),
                         "flag": CategoricalParameter([True, False]), "layers": IntegerParameter(1, 4)})
    assert space.dim == 7 and space.ordinal_coordinates == [3, 6]
    assert space.categorical_blocks == [slice(0, 3), slice(4, 6)]


def test_log_scaling_samples_log_uniformly() -> None:
    space = SearchSpace({"lr": ContinuousParameter(1e-4, 1.0, "Logarithmic")})
    rng = np.random.default_rng(0)
    draws = np.array([space.sample(rng)["lr"] for _ in range(4000)])
    below = np.mean(draws < 1e-2)  # half the decades lie below 1e-2
    assert 0.46 < below < 0.54


def test_auto_scaling_picks_log_for_wide_positive_ranges() -> None:
    assert ContinuousParameter(1e-5, 1.0).resolved_scaling == "Logarithmic"
    assert ContinuousParameter(0.0, 1.0).resolved_scaling == "Linear"
    assert ContinuousParameter(1.0, 10.0).resolved_scaling == "Linear"


def test_integers_are_equally_likely() -> None:
    space = SearchSpace({"n": IntegerParameter(1, 4, "Linear")})
    rng = np.random.default_rng(1)
    counts = np.bincount([space.sample(rng)["n"] for _ in range(4000)], minlength=5)[1:]  # type: ignore[misc]
    assert counts.min() > 900 and counts.max() < 1100


def test_reverse_log_is_dense_near_one() -> None:
    space = SearchSpace({"m": ContinuousParameter(0.0, 0.999, "ReverseLogarithmic")})
    rng = np.random.default_rng(2)
    draws = np.array([space.sample(rng)["m"] for _ in range(2000)])
    assert np.mean(draws > 0.9) > 0.6


def test_grid_order_and_points() -> None:
    space = SearchSpace({"a": CategoricalParameter(["x", "y"]),
                         "lr": ContinuousParameter(0.001, 0.1, "Logarithmic", grid_points=3)})
    grid = list(space.grid())
    assert [g["a"] for g in grid] == ["x", "x", "x", "y", "y", "y"]
    assert [round(g["lr"], 6) for g in grid[:3]] == [0.001, 0.01, 0.1]


def test_grid_needs_points_for_continuous() -> None:
    with pytest.raises(SpecError, match="lr.gridPoints"):
        list(SearchSpace({"lr": ContinuousParameter(0.0, 1.0)}).grid())


def test_size() -> None:
    assert SearchSpace({"a": IntegerParameter(1, 3), "b": CategoricalParameter([1, 2])}).size() == 6
    assert SearchSpace({"a": ContinuousParameter(0, 1)}).size() is None


def test_duplicate_keys_ignore_float_noise_but_not_types() -> None:
    space = SearchSpace({"a": CategoricalParameter([True, 1, "1"]), "b": ContinuousParameter(0, 1)})
    assert space.key({"a": True, "b": 0.1 + 0.2}) == space.key({"a": True, "b": 0.3})
    assert space.key({"a": True, "b": 0.3}) != space.key({"a": 1, "b": 0.3})


def test_encode_rejects_unknown_category() -> None:
    space = SearchSpace({"a": CategoricalParameter(["x"])})
    with pytest.raises(SpecError, match="a: 'z' is not one of"):
        space.encode({"a": "z"})
