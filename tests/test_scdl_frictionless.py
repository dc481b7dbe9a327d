"""The SCDL CSV export validated by frictionless against the SCDL « Subventions » 2.1.1 Table Schema.

The schema file (tests/data/scdl/) is a transcription, not the official file: see its README.md.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import FIXTURES
from stdnum.fr import siret as stdnum_siret

from deliberation.commands import export_scdl
from deliberation.opendata import FALSE_VALUES, ONE_OF_REQUIRED, SCHEMA, TRUE_VALUES, to_csv
from deliberation.settings import Settings

frictionless = pytest.importorskip("frictionless")

SCHEMA_FILE = Path(__file__).parent / "data" / "scdl" / "subventions-2.1.1.schema.json"
SIRET_FIELDS = ("idAttribuant", "idBeneficiaire")


class FrenchSiretValue(frictionless.Check):
    """The schema's custom SIRET check (validata's ``french-siret-value``), with python-stdnum, not the engine."""

    type = "french-siret-value"
    Errors = [frictionless.errors.CellError]

    def validate_row(self, row):
        for name in SIRET_FIELDS:
            value = row[name] or ""  # a missing value reads as None
            if len(value) == 14 and value.isdigit() and not stdnum_siret.is_valid(value):  # format: the pattern
                yield frictionless.errors.CellError.from_row(row, note="SIRET invalide", field_name=name)


def _validate(tmp_path: Path, data: bytes):
    """Frictionless report on ``data`` as a CSV file, against the schema and its two custom checks."""
    (tmp_path / "subventions.csv").write_bytes(data)
    schema = frictionless.Schema.from_descriptor(json.loads(SCHEMA_FILE.read_text("utf-8")))  # a path: "not safe"
    resource = frictionless.Resource(path="subventions.csv", basepath=str(tmp_path), encoding="utf-8", schema=schema)
    one_of = frictionless.checks.row_constraint(formula=" or ".join(ONE_OF_REQUIRED))
    return frictionless.validate(resource, checks=[one_of, FrenchSiretValue()])


@pytest.fixture(scope="module")
def fictif_csv() -> bytes:
    result = export_scdl(Settings(source=FIXTURES / "fictif"))
    assert result.reported == [] and result.data is not None
    return result.data


def test_schema_file_matches_declared_schema():
    """The transcription says what ``opendata.SCHEMA`` declares, field by field, in order."""
    fields = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"), parse_float=Decimal)["fields"]
    assert [f["name"] for f in fields] == [f.name for f in SCHEMA]
    for f, d in zip(SCHEMA, fields, strict=True):
        c = d.get("constraints", {})
        assert (d["type"], c.get("required", False), c.get("pattern"), c.get("maxLength"), c.get("enum", [])) == (
            f.type, f.required, f.pattern, f.max_length, list(f.enum)), f.name
        assert (c.get("minimum"), c.get("maximum")) == (f.minimum, f.maximum), f.name
        if f.type == "boolean":
            assert (d["trueValues"], d["falseValues"]) == (list(TRUE_VALUES), list(FALSE_VALUES))


def test_fictif_export_is_valid(tmp_path, fictif_csv):
    report = _validate(tmp_path, fictif_csv)
    assert report.flatten(["rowNumber", "fieldName", "type", "note"]) == []
    assert report.valid and report.stats["errors"] == 0
    assert report.tasks[0].stats["rows"] == fictif_csv.count(b"\r\n") - 1 > 0


def _next_key(siret: str) -> str:
    return siret[:13] + str((int(siret[13]) + 1) % 10)


@pytest.mark.parametrize(("field", "broken", "error"), [
    ("idBeneficiaire", lambda v: v[:13], "constraint-error"),  # 13 digits: the schema's pattern
    ("idAttribuant", _next_key, "cell-error"),                   # wrong key: the custom SIRET check
    ("dateConvention", lambda v: "2025-02-30", "type-error"),    # no such day
    ("montant", lambda v: v.replace(".", ","), "type-error"),    # French decimal comma
    ("idBeneficiaire", lambda v: "", "row-constraint"),          # neither SIRET nor RNA
])
def test_broken_value_fails(tmp_path, fictif_csv, field, broken, error):
    rows = list(csv.DictReader(io.StringIO(fictif_csv.decode("utf-8"), newline="")))
    rows[0][field] = broken(rows[0][field])
    report = _validate(tmp_path, to_csv(rows))
    assert not report.valid
    where = None if error == "row-constraint" else field  # a row check names no field
    assert report.flatten(["rowNumber", "fieldName", "type"]) == [[2, where, error]]
