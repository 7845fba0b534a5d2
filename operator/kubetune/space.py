"""Hyperparameter ranges and the search space: validation, scaling, and the unit-cube encoding.

Every strategy works on the same numeric view of a search space: each continuous or integer
parameter is one coordinate in [0, 1] after its scaling (linear, log, reverse-log), each
categorical parameter is a one-hot block. ``encode``/``decode`` convert between that view and the
user's hyperparameter dicts, so strategies never see units, scalings or category labels.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Union

import numpy as np

from kubetune.errors import SpecError

Value = Union[float, int, str, bool]
Hyperparameters = dict[str, Value]

SCALINGS = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")
INTEGER_SCALINGS = ("Auto", "Linear", "Logarithmic")
# Auto picks a log scale when the range spans this many orders of magnitude or more (min > 0).
AUTO_LOG_DECADES = 3.0


def _check_number(value: object, field_name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(field_name, f"must be a number, got {value!r}")
    if not math.isfinite(value):
        raise SpecError(field_name, f"must be finite, got {value!r}")
    return float(value)


def _check_grid_points(grid_points: int | None) -> None:
    if grid_points is not None and (
        isinstance(grid_points, bool) or not isinstance(grid_points, int) or grid_points < 1
    ):
        raise SpecError("gridPoints", f"must be an integer >= 1, got {grid_points!r}")


def _resolve_auto(scaling: str, low: float, high: float) -> str:
    if scaling != "Auto":
        return scaling
    if low > 0 and math.log10(high / low) >= AUTO_LOG_DECADES:
        return "Logarithmic"
    return "Linear"


class _Warp:
    """A monotone map of [low, high] onto [0, 1] for one scaling; elementwise on arrays."""

    def __init__(self, scaling: str, low: float, high: float) -> None:
        self.scaling = scaling
        self.low, self.high = low, high
        self.t_low, self.t_high = self._forward(np.float64(low)), self._forward(np.float64(high))

    def _forward(self, x: np.ndarray) -> np.ndarray:
        if self.scaling == "Logarithmic":
            return np.log(x)
        if self.scaling == "ReverseLogarithmic":
            return -np.log1p(-x)
        return x

    def _inverse(self, t: np.ndarray) -> np.ndarray:
        if self.scaling == "Logarithmic":
            return np.exp(t)
        if self.scaling == "ReverseLogarithmic":
            return -np.expm1(-t)
        return t

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        return np.clip((self._forward(x) - self.t_low) / (self.t_high - self.t_low), 0.0, 1.0)

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        u = np.clip(u, 0.0, 1.0)
        return np.clip(self._inverse(self.t_low + u * (self.t_high - self.t_low)), self.low, self.high)


@dataclass(frozen=True)
class ContinuousParameter:
    """A real-valued range ``[min_value, max_value]``.

    Args:
        min_value: lower bound (inclusive).
        max_value: upper bound (inclusive; exclusive of 1 for ``ReverseLogarithmic``).
        scaling: ``Auto`` (log when min > 0 and the range spans >= 3 decades, else linear),
            ``Linear``, ``Logarithmic`` (needs min > 0) or ``ReverseLogarithmic`` (values in
            [0, 1), dense near 1, e.g. momentum).
        grid_points: how many points the ``Grid`` strategy tries (evenly spaced on the scale).
    """

    min_value: float
    max_value: float
    scaling: str = "Auto"
    grid_points: int | None = None

    def __post_init__(self) -> None:
        low = _check_number(self.min_value, "min")
        high = _check_number(self.max_value, "max")
        if self.scaling not in SCALINGS:
            raise SpecError("scaling", f"must be one of {', '.join(SCALINGS)}, got {self.scaling!r}")
        if low >= high:
            raise SpecError("min", f"must be below max ({low!r} >= {high!r})")
        if self.scaling == "Logarithmic" and low <= 0:
            raise SpecError("min", f"must be > 0 for Logarithmic scaling, got {low!r}")
        if self.scaling == "ReverseLogarithmic" and not (0 <= low and high < 1):
            raise SpecError("max" if low >= 0 else "min",
                            "ReverseLogarithmic needs 0 <= min < max < 1")
        _check_grid_points(self.grid_points)
        object.__setattr__(self, "min_value", low)
        object.__setattr__(self, "max_value", high)

    @property
    def resolved_scaling(self) -> str:
        return _resolve_auto(self.scaling, self.min_value, self.max_value)

    def warp(self) -> _Warp:
        return _Warp(self.resolved_scaling, self.min_value, self.max_value)


@dataclass(frozen=True)
class IntegerParameter:
    """An integer range ``[min_value, max_value]``, both inclusive.

    Each integer owns an equal slice of the scaled unit interval (the range is widened by 0.5 on
    both sides before scaling), so random search draws every value with equal probability under
    ``Linear`` and log-uniformly under ``Logarithmic``.
    """

    min_value: int
    max_value: int
    scaling: str = "Auto"
    grid_points: int | None = None

    def __post_init__(self) -> None:
        for name, value in (("min", self.min_value), ("max", self.max_value)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise SpecError(name, f"must be an integer, got {value!r}")
        if self.scaling not in INTEGER_SCALINGS:
            raise SpecError("scaling",
                            f"must be one of {', '.join(INTEGER_SCALINGS)}, got {self.scaling!r}")
        if self.min_value >= self.max_value:
            raise SpecError("min", f"must be below max ({self.min_value} >= {self.max_value})")
        if self.scaling == "Logarithmic" and self.min_value <= 0:
            raise SpecError("min", f"must be > 0 for Logarithmic scaling, got {self.min_value}")
        _check_grid_points(self.grid_points)

    @property
    def resolved_scaling(self) -> str:
        return _resolve_auto(self.scaling, self.min_value, self.max_value)

    def warp(self) -> _Warp:
        return _Warp(self.resolved_scaling, self.min_value - 0.5, self.max_value + 0.5)

    def clip_round(self, x: np.ndarray) -> np.ndarray:
        return np.clip(np.round(x), self.min_value, self.max_value)


@dataclass(frozen=True)
class CategoricalParameter:
    """A choice among ``values`` (strings, numbers or booleans), one-hot encoded for the GP."""

    values: tuple[Value, ...]

    def __init__(self, values: Sequence[Value]) -> None:
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise SpecError("values", f"must be a list, got {values!r}")
        if len(values) < 1:
            raise SpecError("values", "must name at least one value")
        for i, value in enumerate(values):
            if not isinstance(value, (str, int, float, bool)):
                raise SpecError(f"values[{i}]", f"must be a string, number or boolean, got {value!r}")
        if len(set(map(_canonical, values))) != len(values):
            raise SpecError("values", f"must not repeat a value, got {list(values)!r}")
        object.__setattr__(self, "values", tuple(values))


Parameter = Union[ContinuousParameter, IntegerParameter, CategoricalParameter]


def _canonical(value: Value) -> tuple[str, object]:
    """A hashable identity for a value: 0.1 + 0.2 and 0.3 are the same trial; True and 1 are not."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("num", float(f"{float(value):.10g}"))
    return ("str", value)


def _runnable(param: ContinuousParameter | IntegerParameter, units: np.ndarray) -> np.ndarray:
    """Unit coordinates of one continuous or integer parameter → the values a trial runs with
    (elementwise): ``decode`` and ``round_trip`` share it."""
    values = param.warp().from_unit(units)
    return param.clip_round(values) if isinstance(param, IntegerParameter) else values


@dataclass(frozen=True)
class SearchSpace:
    """An ordered set of named parameters and their shared unit-cube encoding."""

    parameters: Mapping[str, Parameter]
    _offsets: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.parameters:
            raise SpecError("", "must define at least one hyperparameter range")
        for name, param in self.parameters.items():
            if not isinstance(name, str) or not name:
                raise SpecError("hyperparameterRanges", f"parameter names must be non-empty strings, got {name!r}")
            if not isinstance(param, (ContinuousParameter, IntegerParameter, CategoricalParameter)):
                raise SpecError(name, f"must be a Continuous/Integer/CategoricalParameter, got {param!r}")
        object.__setattr__(self, "parameters", dict(self.parameters))
        offsets, offset = [], 0
        for param in self.parameters.values():
            offsets.append(offset)
            offset += len(param.values) if isinstance(param, CategoricalParameter) else 1
        object.__setattr__(self, "_offsets", tuple(offsets + [offset]))

    @property
    def dim(self) -> int:
        """Number of unit-cube coordinates (one-hot blocks count one per category)."""
        return self._offsets[-1]

    @property
    def names(self) -> list[str]:
        return list(self.parameters)

    @property
    def ordinal_coordinates(self) -> list[int]:
        """The coordinates of continuous and integer parameters (not the one-hot blocks)."""
        return [offset for param, offset in zip(self.parameters.values(), self._offsets)
                if not isinstance(param, CategoricalParameter)]

    @property
    def categorical_blocks(self) -> list[slice]:
        """The one-hot block of each categorical parameter, in declaration order."""
        return [slice(offset, offset + len(param.values))
                for param, offset in zip(self.parameters.values(), self._offsets)
                if isinstance(param, CategoricalParameter)]

    def encode(self, params: Mapping[str, Value]) -> np.ndarray:
        """Hyperparameters → a point of the unit cube, shape ``(dim,)``."""
        x = np.zeros(self.dim)
        for (name, param), offset in zip(self.parameters.items(), self._offsets):
            if name not in params:
                raise SpecError(name, "missing from the hyperparameters")
            value = params[name]
            if isinstance(param, CategoricalParameter):
                keys = [_canonical(v) for v in param.values]
                try:
                    x[offset + keys.index(_canonical(value))] = 1.0
                except ValueError:
                    raise SpecError(name, f"{value!r} is not one of {list(param.values)!r}") from None
            else:
                x[offset] = param.warp().to_unit(np.float64(value))  # type: ignore[arg-type]
        return x

    def decode(self, x: Sequence[float] | np.ndarray) -> Hyperparameters:
        """A point of the unit cube (or of its relaxation) → valid hyperparameters."""
        x = np.asarray(x, dtype=float)
        if x.shape != (self.dim,):
            raise ValueError(f"expected a point of shape ({self.dim},), got {x.shape}")
        params: Hyperparameters = {}
        for (name, param), offset in zip(self.parameters.items(), self._offsets):
            if isinstance(param, CategoricalParameter):
                block = x[offset: offset + len(param.values)]
                params[name] = param.values[int(np.argmax(block))]
            else:
                value = _runnable(param, x[offset])
                params[name] = int(value) if isinstance(param, IntegerParameter) else float(value)
        return params

    def round_trip(self, x: np.ndarray) -> np.ndarray:
        """Project relaxed points onto what can actually be run (integers, one-hot), shape kept:
        ``encode(decode(row))`` for every row, computed a column at a time."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        out = np.empty_like(x)
        for param, offset in zip(self.parameters.values(), self._offsets):
            if not isinstance(param, CategoricalParameter):
                out[:, offset] = param.warp().to_unit(_runnable(param, x[:, offset]))
        for block in self.categorical_blocks:
            width = block.stop - block.start
            out[:, block] = np.eye(width)[np.argmax(x[:, block], axis=1)]
        return out

    def key(self, params: Mapping[str, Value]) -> tuple[tuple[str, object], ...]:
        """A hashable identity of a hyperparameter set, for duplicate detection."""
        return tuple(_canonical(params[name]) for name in self.parameters)

    def sample(self, rng: np.random.Generator) -> Hyperparameters:
        """One draw, uniform on each parameter's own scale (log-uniform for Logarithmic...)."""
        x = np.zeros(self.dim)
        for param, offset in zip(self.parameters.values(), self._offsets):
            if isinstance(param, CategoricalParameter):
                x[offset + int(rng.integers(len(param.values)))] = 1.0
            else:
                x[offset] = rng.random()
        return self.decode(x)

    def size(self) -> int | None:
        """How many distinct hyperparameter sets exist, or None when a range is continuous."""
        total = 1
        for param in self.parameters.values():
            if isinstance(param, ContinuousParameter):
                return None
            if isinstance(param, IntegerParameter):
                total *= param.max_value - param.min_value + 1
            else:
                total *= len(param.values)
        return total

    def grid(self) -> Iterator[Hyperparameters]:
        """The full Cartesian grid in a fixed order (parameters as declared, last varies fastest).

        Raises:
            SpecError: a continuous range has no ``grid_points``.
        """
        axes: list[list[Value]] = []
        for name, param in self.parameters.items():
            if isinstance(param, CategoricalParameter):
                axes.append(list(param.values))
            elif param.grid_points is None:
                if isinstance(param, ContinuousParameter):
                    raise SpecError(f"{name}.gridPoints", "the Grid strategy needs a point count for continuous ranges")
                axes.append(list(range(param.min_value, param.max_value + 1)))
            else:
                axes.append(self._grid_axis(param))
        for combo in itertools.product(*axes):
            yield dict(zip(self.parameters, combo))

    @staticmethod
    def _grid_axis(param: ContinuousParameter | IntegerParameter) -> list[Value]:
        assert param.grid_points is not None
        if isinstance(param, IntegerParameter):
            warp = _Warp(param.resolved_scaling, param.min_value, param.max_value)
            units = np.linspace(0.0, 1.0, param.grid_points)
            return list(dict.fromkeys(int(param.clip_round(warp.from_unit(u))) for u in units))
        warp = param.warp()
        if param.grid_points == 1:
            return [float(warp.from_unit(0.5))]
        return [float(warp.from_unit(u)) for u in np.linspace(0.0, 1.0, param.grid_points)]
