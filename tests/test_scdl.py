"""Open data export (SCDL « Subventions » 2.1.1): rows, schema rules, findings, determinism."""

from __future__ import annotations

import csv
import io
import shutil
from decimal import Decimal

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, Dossier

from deliberation.cli import main
from deliberation.commands import export_scdl
from deliberation.findings import Severity
from deliberation.opendata import (
    BY_NAME,
    FIELDS,
    SCHEMA,
    check_row,
    check_value,
)
from deliberation.settings import Settings


def _parse(data: bytes) -> list[dict[str, str]]:
    """Read the CSV back as the schema's readers do (UTF-8, comma, header row)."""
    text = data.decode("utf-8")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames) == FIELDS
    return list(reader)


def _financements(checked) -> list:
    return [ligne for _t, _o, ligne in checked.dossier.lignes() if ligne.nature != "valorisation"]


def _run(*args: str):
    return CliRunner().invoke(main, ["export", "scdl", *args])


def test_schema_field_list_is_scdl_2_1_1():
    """Verify the 16 fields, in the order of SCDL Subventions 2.1.1, with its required flags."""
    assert FIELDS == (
        "nomAttribuant", "idAttribuant", "dateConvention", "referenceDecision", "nomBeneficiaire", "idBeneficiaire",
        "rnaBeneficiaire", "objet", "montant", "nature", "conditionsVersement", "datesPeriodeVersement", "idRAE",
        "notificationUE", "pourcentageSubvention", "dispositifAide",
    )
    required = {f.name for f in SCHEMA if f.required}
    assert required == {"nomAttribuant", "idAttribuant", "dateConvention", "nomBeneficiaire", "objet", "montant",
                        "nature", "conditionsVersement", "datesPeriodeVersement", "notificationUE",
                        "pourcentageSubvention"}


def test_example_draft_one_row_per_financement_line():
    """Verify the real example's draft CSV: a row per financement line, amounts adding up to the phase total."""
    result = export_scdl(Settings(source=FIXTURES / "phase-6-2024"), draft=True)
    assert result.data is not None
    rows = _parse(result.data)
    lines = _financements(result.checked)
    assert len(rows) == len(lines) == 17
    figures = result.checked.figures
    valorisations = sum((ligne.montant for _t, _o, ligne in result.checked.dossier.lignes()
                         if ligne.nature == "valorisation"), Decimal(0))
    total = sum((Decimal(r["montant"]) for r in rows), Decimal(0))
    assert total == figures.phase.montant - valorisations == Decimal("871198.00")
    assert [Decimal(r["montant"]) for r in rows] == [ligne.montant for ligne in lines]
    assert all(Decimal(r["montant"]) > 0 for r in rows)  # no valorisation line (0 €) slipped in
    assert {r["nomAttribuant"] for r in rows} == {"Département du Pas-de-Calais"}
    assert {r["idAttribuant"] for r in rows} == {"22620001200012"}
    assert {r["dateConvention"] for r in rows} == {"2024-12-09"}
    assert {r["referenceDecision"] for r in rows} == {"2024-587"}
    actif = next(r for r in rows if r["nomBeneficiaire"] == "Pas-de-Calais Actif")
    assert actif["idBeneficiaire"] == "18620009300083"
    assert actif["montant"] == "79850.00"
    assert actif["conditionsVersement"] == "échelonné"  # the sheet of dispositif 1.7 has instalments
    assert actif["datesPeriodeVersement"] == "2025-01-01/2025-12-31"
    mempa = [r for r in rows if r["nomBeneficiaire"] == "MEMPA"]
    assert len(mempa) == 3 and all(r["idBeneficiaire"] == "" for r in mempa)  # no SIRET in the registry
    assert all(f.severity is Severity.WARNING for f in result.findings)


def test_every_present_field_passes_the_schema():
    """Verify that each value written in the example's draft CSV passes its field's rules."""
    result = export_scdl(Settings(source=FIXTURES / "phase-6-2024"), draft=True)
    for row in _parse(result.data):
        for name, value in row.items():
            if value:
                assert check_value(BY_NAME[name], value) is None, (name, value)
        assert len(row["objet"]) <= 256


@pytest.mark.parametrize(("name", "value", "code"), [
    ("idBeneficiaire", "1862000930008", "scdl.format"),        # 13 digits
    ("idBeneficiaire", "18620 009300083", "scdl.format"),      # a space
    ("idAttribuant", "", "scdl.manquant"),
    ("rnaBeneficiaire", "X123456789", "scdl.format"),
    ("dateConvention", "09/12/2024", "scdl.format"),
    ("dateConvention", "2024-02-30", "scdl.format"),           # no such day
    ("nature", "subvention", "scdl.valeur"),
    ("nature", "aide en numéraire ; aide en nature", "scdl.valeur"),
    ("montant", "50 000,00", "scdl.format"),
    ("montant", "50000,00", "scdl.format"),
    ("pourcentageSubvention", "1.5", "scdl.bornes"),
    ("pourcentageSubvention", "0", "scdl.bornes"),
    ("notificationUE", "false", "scdl.format"),
    ("datesPeriodeVersement", "2025-01-01_2025-12-31", "scdl.format"),
    ("objet", "x" * 257, "scdl.longueur"),
    ("idRAE", "123456", "scdl.longueur"),
])
def test_validator_rejects(name, value, code):
    """Verify that a value breaking a rule of the schema is rejected with its code."""
    problem = check_value(BY_NAME[name], value)
    assert problem is not None and problem[0] == code


@pytest.mark.parametrize(("name", "value"), [
    ("idBeneficiaire", "18620009300083"),
    ("idBeneficiaire", ""),
    ("rnaBeneficiaire", "W380475558"),
    ("dateConvention", "2024-02-29"),
    ("nature", "aide en numéraire"),
    ("nature", "aide en nature;aide en numéraire"),
    ("montant", "47800.20"),
    ("montant", "12000"),
    ("pourcentageSubvention", "1.00"),
    ("pourcentageSubvention", "0.01"),
    ("notificationUE", "non"),
    ("datesPeriodeVersement", "2025-01-01/2025-12-31"),
    ("datesPeriodeVersement", "2025-03-14"),
    ("objet", "x" * 256),
])
def test_validator_accepts(name, value):
    """Verify that values the schema allows pass."""
    assert check_value(BY_NAME[name], value) is None


def test_one_of_required_beneficiary():
    """Verify the schema's custom check: a row names its beneficiary by SIRET or RNA."""
    row = {"idBeneficiaire": "", "rnaBeneficiaire": ""}
    assert ("idBeneficiaire", "scdl.manquant") in [(n, c) for n, c, _ in check_row(row)]
    row["rnaBeneficiaire"] = "W380475558"
    assert "idBeneficiaire" not in [n for n, _c, _ in check_row(row)]


def test_fictif_exports_without_findings(tmp_path):
    """Verify the complete fictitious dossier: exit 0, no finding, two subsidies, CRLF lines."""
    out = tmp_path / "subventions.csv"
    result = _run(str(FIXTURES / "fictif"), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "ERROR" not in result.output and "WARNING" not in result.output
    data = out.read_bytes()
    assert data.count(b"\r\n") == 3 and data.endswith(b"\r\n")
    rows = _parse(data)
    assert [(r["nomBeneficiaire"], r["idBeneficiaire"], r["montant"]) for r in rows] == [
        ("Association Alpha Insertion", "88123456100010", "50000.00"),
        ("Centre communal d'action sociale de Gamma", "88345678200019", "12000.00"),
    ]
    assert {r["idAttribuant"] for r in rows} == {"88900000600003"}
    assert [r["conditionsVersement"] for r in rows] == ["échelonné", "échelonné"]  # 60/40 and 80/20 sheets
    assert [r["datesPeriodeVersement"] for r in rows] == ["2025-01-01/2025-06-30", "2025-01-01/2025-12-31"]
    assert rows[0]["objet"] == ("Accompagnement équilibré social-professionnel — Financement de 2 ETP, "
                                "soit un maximum de 140 places")


def test_fictif_to_stdout():
    """Verify that without -o the CSV goes to standard output, findings to standard error."""
    result = _run(str(FIXTURES / "fictif"))
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"nomAttribuant,idAttribuant,dateConvention,")
    assert len(_parse(result.stdout_bytes)) == 2


def test_missing_siret_blocks_with_location(fictif: Dossier, tmp_path):
    """Verify that a structure without SIRET is a finding at the structure, exit 1, nothing written."""
    fictif.edit("structures.yaml", '    siret: "88345678200019"\n', "")
    out = tmp_path / "out.csv"
    result = _run(str(fictif.root), "-o", str(out))
    assert result.exit_code == 1
    line = fictif.line_of("structures.yaml", "  gamma:")
    assert f"structures.yaml:{line}: ERROR: structure gamma (CCAS de Gamma) : SIRET absent du registre" in result.stderr
    assert "[scdl.manquant]" in result.stderr
    assert not out.exists()


def test_draft_writes_with_empty_field_and_warnings(fictif: Dossier, tmp_path):
    """Verify --brouillon: the CSV is written with the value empty, the finding printed as a warning, exit 0."""
    fictif.edit("structures.yaml", '    siret: "88345678200019"\n', "")
    out = tmp_path / "out.csv"
    result = _run(str(fictif.root), "-o", str(out), "--brouillon")
    assert result.exit_code == 0, result.output
    assert "WARNING: structure gamma (CCAS de Gamma) : SIRET absent du registre" in result.stderr
    rows = _parse(out.read_bytes())
    assert [r["idBeneficiaire"] for r in rows] == ["88123456100010", ""]


def test_example_without_draft_is_refused(tmp_path):
    """Verify the real example (most SIRETs unknown): exit 1, each missing SIRET located, nothing written."""
    out = tmp_path / "out.csv"
    result = _run(str(FIXTURES / "phase-6-2024"), "-o", str(out))
    assert result.exit_code == 1
    assert "phase-6-2024/structures.yaml:7: ERROR: structure mempa (MEMPA) : SIRET absent du registre" in result.stderr
    assert "structure pdc-actif" not in result.stderr  # its SIRET is in the registry
    assert "thematiques/t1.yaml:160: ERROR: ligne t1-o2-mempa-ple, conditions de versement" in result.stderr
    assert not out.exists()


def test_bad_attribuant_siret(fictif: Dossier):
    """Verify that the attribuant's SIRET is checked (Luhn key), located in phase.yaml."""
    fictif.edit("phase.yaml", '"88900000600003"', '"88900000600004"')
    result = _run(str(fictif.root))
    assert result.exit_code == 1
    line = fictif.line_of("phase.yaml", "attribuant:")
    assert f"phase.yaml:{line}: ERROR: phase.yaml, SIRET de l'attribuant 88900000600004 : clé de contrôle" in (
        result.stderr)
    assert "[scdl.siret]" in result.stderr
    assert result.stderr.count("ERROR") == 1  # the emptied value is not reported a second time as missing


def test_attribuant_without_siret(fictif: Dossier):
    """Verify that an attribuant without SIRET is a finding at its entry in phase.yaml."""
    fictif.edit("phase.yaml", ', siret: "88900000600003"}', "}")
    result = export_scdl(Settings(source=fictif.root))
    line = fictif.line_of("phase.yaml", "attribuant:")
    assert [(f.code, f.loc.line) for f in result.findings] == [("scdl.manquant", line)]
    assert "idAttribuant" in result.findings[0].message and result.data is None


def test_missing_attribuant(fictif: Dossier):
    """Verify that without an attribuant the export names what phase.yaml lacks, once."""
    fictif.edit("phase.yaml", 'attribuant: {nom: Département fictif, siret: "88900000600003"}', "")
    result = _run(str(fictif.root))
    assert result.exit_code == 1
    assert result.stderr.count("[scdl.attribuant]") == 1
    assert "attribuant absent de phase.yaml" in result.stderr


def test_unknown_payment_schedule(fictif: Dossier):
    """Verify that a line whose sheet and convention give no instalments is located at the line."""
    shutil.rmtree(fictif.root / "dispositifs")  # the catalogue's sheet 4.1 has no schedule, nor has a new convention
    result = export_scdl(Settings(source=fictif.root))
    by_code = {(f.code, f.loc.line) for f in result.findings}
    assert ("scdl.manquant", fictif.line_of("thematiques/t4.yaml", "- id: t4-o1-gamma")) in by_code
    assert result.data is None


def test_long_objet_is_cut_with_warning(fictif: Dossier):
    """Verify that an objet beyond 256 characters is cut at a word, with a warning, and still exported."""
    fictif.edit("thematiques/t4.yaml", "description: Séjour de remobilisation pour 20 jeunes",
                "description: Séjour de remobilisation pour 20 jeunes" + " avec des ateliers" * 20)
    result = export_scdl(Settings(source=fictif.root))
    assert result.data is not None
    assert [f.code for f in result.findings] == ["scdl.objet_tronque"]
    objet = _parse(result.data)[1]["objet"]
    full = "Projets collectifs jeunesse - FAJ collectif — Séjour de remobilisation pour 20 jeunes" + (
        " avec des ateliers" * 20)
    assert len(objet) <= 256 and objet.endswith("…")
    assert full.startswith(objet[:-1]) and full[len(objet) - 1] == " "  # cut between two words


def test_amended_phase_is_exported_as_adopted():
    """Verify that amendments apply: the withdrawn line is gone, the reduced amount is exported."""
    result = export_scdl(Settings(source=FIXTURES / "phase-6-2024-amended"), draft=True)
    rows = _parse(result.data)
    assert len(rows) == 16
    assert "AMIE du Boulonnais" not in {r["nomBeneficiaire"] for r in rows}
    assert next(r for r in rows if r["nomBeneficiaire"] == "Pas-de-Calais Actif")["montant"] == "70000.00"
    assert sum(Decimal(r["montant"]) for r in rows) == result.checked.figures.phase.montant == Decimal("814548.00")


def test_dossier_errors_block_the_export(fictif: Dossier):
    """Verify that a dossier with errors exports nothing, even as a draft, and reports its errors."""
    fictif.edit("thematiques/t4.yaml", "montant: 12000", "montant: -5")
    result = _run(str(fictif.root), "--brouillon")
    assert result.exit_code == 1
    assert "ERROR" in result.stderr and result.stdout_bytes == b""


def test_byte_identical_runs(tmp_path):
    """Verify that two exports of the same dossier give the same bytes."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert _run(str(FIXTURES / "phase-6-2024"), "--brouillon", "-o", str(a)).exit_code == 0
    assert _run(str(FIXTURES / "phase-6-2024"), "--brouillon", "-o", str(b)).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes().startswith(b"nomAttribuant,")  # UTF-8 without BOM
