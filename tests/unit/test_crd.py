"""The CRD on disk is exactly what the spec model generates, and covers every spec field."""

from __future__ import annotations

from pathlib import Path

import yaml

from kubetune.crd import PRINTER_COLUMNS, render, tuningjob_crd
from kubetune.spec import FIELDS

CRD_FILE = Path(__file__).resolve().parents[2] / "crds" / "tuningjob.yaml"


def test_crd_file_is_generated_from_the_model() -> None:
    assert CRD_FILE.read_text() == render(), "regenerate: python -m kubetune.crd > crds/tuningjob.yaml"


def _object_at(schema: dict, path: str) -> dict:
    node = schema
    for part in path.split(".")[1:]:
        list_item = part.endswith("[]")
        node = node["properties"][part.removesuffix("[]")]
        if list_item:
            node = node["items"]
    return node


def test_every_parser_field_is_in_the_schema_and_nothing_else() -> None:
    spec = tuningjob_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    for path, fields in FIELDS.items():
        assert set(_object_at(spec, path)["properties"]) == set(fields), path


def test_printer_columns_fit_120_columns() -> None:
    # NAME (up to 30) + header widths + typical values, two spaces between columns.
    widths = [30] + [max(len(c["name"]), {"Metric": 20, "Best": 8, "Trials": 7}.get(c["name"], 9))
                     for c in PRINTER_COLUMNS]
    assert sum(widths) + 2 * len(widths) <= 120


def test_short_name_and_status_subresource() -> None:
    crd = yaml.safe_load(CRD_FILE.read_text())
    assert crd["spec"]["names"]["shortNames"] == ["tj"]
    assert crd["spec"]["versions"][0]["subresources"] == {"status": {}}
