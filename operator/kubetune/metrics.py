"""Metrics scraped from a trial's log with the user's regexes.

The objective of a trial is the *last* value its metric printed (the final epoch), but the whole
series is kept so that later features (median-rule early stopping, learning-curve plots) can use
intermediate values without re-reading logs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from kubetune.spec import MetricDefinition


@dataclass(frozen=True)
class MetricSeries:
    """Every value of one metric in the order printed; unparsable captures are skipped."""

    name: str
    values: tuple[float, ...]

    @property
    def last(self) -> float | None:
        return self.values[-1] if self.values else None


class MetricParser:
    """Compiled metric regexes of one TuningJob."""

    def __init__(self, definitions: Iterable[MetricDefinition]) -> None:
        self._patterns = [(d.name, re.compile(d.regex)) for d in definitions]

    def parse(self, log: str) -> dict[str, MetricSeries]:
        """All series found in ``log``; a metric that never matched has an empty series."""
        found: dict[str, list[float]] = {name: [] for name, _ in self._patterns}
        for name, pattern in self._patterns:
            for match in pattern.finditer(log):
                try:
                    found[name].append(float(match.group(1)))
                except (TypeError, ValueError):
                    continue  # e.g. "1.2.3" matched by a loose [0-9.]+ — not a number, not a value
        return {name: MetricSeries(name, tuple(values)) for name, values in found.items()}

    def last_values(self, log: str) -> dict[str, float]:
        """The final value of each metric that appeared (NaN/inf included: callers decide)."""
        return {name: s.last for name, s in self.parse(log).items() if s.last is not None}


def is_finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
