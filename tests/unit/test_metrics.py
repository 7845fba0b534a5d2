"""Metric parsing: last value wins, several metrics, no match, NaN."""

from __future__ import annotations

import math

from kubetune.metrics import MetricParser
from kubetune.spec import MetricDefinition

REFERENCE = MetricDefinition("validation-accuracy", r"validation: accuracy=([0-9\.]+)")
LOSS = MetricDefinition("train-loss", r"train: loss=([-0-9\.naNinf]+)")


def test_last_value_wins_and_series_is_kept() -> None:
    log = "epoch=1 validation: accuracy=0.51\nepoch=2 validation: accuracy=0.74\nepoch=3 validation: accuracy=0.70\n"
    series = MetricParser([REFERENCE]).parse(log)["validation-accuracy"]
    assert series.values == (0.51, 0.74, 0.70)
    assert series.last == 0.70


def test_several_metrics_on_one_line() -> None:
    log = "epoch=1 train: loss=2.31 validation: accuracy=0.10\nepoch=2 train: loss=1.20 validation: accuracy=0.55\n"
    assert MetricParser([REFERENCE, LOSS]).last_values(log) == {"validation-accuracy": 0.55, "train-loss": 1.20}


def test_no_match_gives_no_value() -> None:
    parser = MetricParser([REFERENCE, LOSS])
    assert parser.last_values("Traceback (most recent call last):\n  boom\n") == {}
    assert parser.parse("")["train-loss"].last is None


def test_nan_is_reported_for_the_caller_to_judge() -> None:
    values = MetricParser([LOSS]).last_values("train: loss=1.5\ntrain: loss=nan\n")
    assert math.isnan(values["train-loss"])


def test_unparsable_capture_is_skipped() -> None:
    # A loose [0-9.]+ can capture a version string; that is not a metric value.
    log = "validation: accuracy=0.5\nvalidation: accuracy=1.2.3\n"
    assert MetricParser([REFERENCE]).last_values(log) == {"validation-accuracy": 0.5}
