"""Excel import (``import-xlsx``): round trip with the export, located findings, layouts and number formats."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, ROOT, slow_but
from openpyxl import Workbook, load_workbook

from deliberation import pipeline
from deliberation.cli import main
from deliberation.commands import import_xlsx
from deliberation.diff import compare, snapshot
from deliberation.settings import Settings
from deliberation.xlsx.export import workbook
from deliberation.xlsx.layout import ANNEXE4_COLUMNS, SHEET_ANNEXE4

SAMPLES = FIXTURES / "xlsx"
FILES = ("budget.yaml", "thematiques/t1.yaml", "thematiques/t3.yaml", "thematiques/t4.yaml")


def _figures(root: Path) -> dict:
    checked = pipeline.check(Settings(source=root))
    return snapshot(checked.presented, checked.presented_figures)


def _bytes(root: Path) -> dict[str, bytes]:
    return {name: (root / name).read_bytes() for name in FILES}


def _export(root: Path, tmp_path: Path) -> Path:
    checked = pipeline.check(Settings(source=root))
    path = tmp_path / "annexe-4.xlsx"
    path.write_bytes(workbook(checked.dossier, checked.figures))
    return path


def _column(key: str) -> int:
    return next(i for i, c in enumerate(ANNEXE4_COLUMNS, 1) if c.key == key)


def _set_cell(path: Path, ligne: str, key: str, value) -> None:
    wb = load_workbook(path)
    ws = wb[SHEET_ANNEXE4]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, _column("id")).value == ligne)
    ws.cell(row, _column(key), value)
    wb.save(path)


def _changed_lines(before: bytes, after: bytes) -> list[tuple[str, str]]:
    a, b = before.decode().splitlines(), after.decode().splitlines()
    assert len(a) == len(b)
    return [(x, y) for x, y in zip(a, b, strict=True) if x != y]


def _run(*args: str):
    return CliRunner().invoke(main, ["import-xlsx", *args])


# ---------------------------------------------------------------------------
# round trip


def test_round_trip_changes_nothing(phase6, tmp_path):
    """Verify that the exported example imported back gives the same figures and the same YAML bytes."""
    path = _export(FIXTURES / "phase-6-2024", tmp_path)
    before = _bytes(phase6.root)
    result = import_xlsx([path], phase6.root)
    assert not result.failed, result.findings
    assert result.edits == [] and result.written == [] and result.changes == []
    assert _bytes(phase6.root) == before
    assert compare(_figures(FIXTURES / "phase-6-2024"), _figures(phase6.root)) == []
    t1 = (phase6.root / "thematiques/t1.yaml").read_text(encoding="utf-8")
    assert "      - id: t1-o1-mempa  # seed l.207\n" in t1
    assert "# Version corrigée (voir ../README.md pour chaque correction)." in t1


def test_one_changed_amount_changes_that_value_only(phase6, tmp_path):
    """Verify that one amount changed in the exported workbook changes that line's montant and nothing else."""
    path = _export(phase6.root, tmp_path)
    _set_cell(path, "t1-o3-pdc-actif", "montant", 80000)
    before = _bytes(phase6.root)
    old_figures = _figures(phase6.root)
    result = _run(str(path), str(phase6.root))
    assert result.exit_code == 0, result.output
    assert "t1-o3-pdc-actif  montant : 79 850,00 € → 80 000,00 €" in result.output
    assert "Fichiers écrits : thematiques/t1.yaml" in result.output
    after = _bytes(phase6.root)
    assert _changed_lines(before["thematiques/t1.yaml"], after["thematiques/t1.yaml"]) == [
        ('        montant: "79 850,00"', '        montant: "80 000,00"')]
    assert {n for n in FILES if before[n] != after[n]} == {"thematiques/t1.yaml"}
    lignes = [c for c in compare(old_figures, _figures(phase6.root)) if c.portee == "ligne"]
    assert [(c.cle, c.champ, c.avant, c.apres) for c in lignes] == [
        ("t1-o3-pdc-actif", "montant", "79850.00", "80000.00")]


def test_valorisation_amount_keeps_its_comment(phase6, tmp_path):
    """Verify that a longer value keeps its end-of-line comment, two spaces away, and the file's French quoting."""
    path = _export(phase6.root, tmp_path)
    _set_cell(path, "t1-o1-mempa", "montant", "1 500,00 €")
    before = (phase6.root / "thematiques/t1.yaml").read_bytes()
    result = import_xlsx([path], phase6.root)
    assert not result.failed, result.findings
    assert _changed_lines(before, (phase6.root / "thematiques/t1.yaml").read_bytes()) == [
        ("        montant: 0  # « - € »", '        montant: "1 500,00"  # « - € »')]


def test_dry_run_writes_nothing(phase6, tmp_path):
    """Verify that --essai says what would change and writes nothing."""
    path = _export(phase6.root, tmp_path)
    _set_cell(path, "t3-o1-aifor", "montant", 31000)
    before = _bytes(phase6.root)
    result = _run(str(path), str(phase6.root), "--essai")
    assert result.exit_code == 0, result.output
    assert "t3-o1-aifor  montant : 30 000,00 € → 31 000,00 €" in result.output
    assert "--essai : aucun fichier écrit" in result.output
    assert "Contrôle du dossier :" in result.output
    assert _bytes(phase6.root) == before


# ---------------------------------------------------------------------------
# findings


def _broken_workbook(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Annexe 4"
    ws.append(["Ligne", "Montant", "Code opération", "Action", None])
    ws.merge_cells("D1:E1")
    ws.append(["t1-o3-pdc-actif", "quatre-vingt mille", "C02-446A05", "texte"])
    ws.append(["t1-o1-mempa", 0, "C09-999Z99", "texte"])
    budget = wb.create_sheet("Contrôle budgétaire")
    budget.append(["Code opération", "Imputation", "Libellé", "AE"])
    budget.append(["C02-446A05", "6568/93446", "Indemnisation des organismes référents", 8589450])
    wb.save(path)


def test_errors_are_located_and_nothing_is_written(phase6, tmp_path, monkeypatch):
    """Verify that an amount in words, a merged header, a missing column and an unknown code are four findings."""
    monkeypatch.chdir(tmp_path)
    _broken_workbook(tmp_path / "Classeur.xlsx")
    before = _bytes(phase6.root)
    result = _run("Classeur.xlsx", str(phase6.root))
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if ": ERROR: " in line]
    assert [line.split(": ERROR: ")[0] for line in lines] == [
        "Classeur.xlsx!Annexe 4!D1", "Classeur.xlsx!Contrôle budgétaire!A1",
        "Classeur.xlsx!Annexe 4!B2", "Classeur.xlsx!Annexe 4!C3"]
    assert [line.rsplit("[", 1)[1] for line in lines] == [
        "xlsx.entete_fusionnee]", "xlsx.colonne_manquante]", "xlsx.montant]", "xlsx.budget_inconnu]"]
    assert "fusionné sur les colonnes D à E" in lines[0]
    assert "« Disponible » absente" in lines[1]
    assert "« quatre-vingt mille »" in lines[2]
    assert "« C09-999Z99 » inconnu" in lines[3]
    assert "rien n'a été écrit" in result.output
    assert _bytes(phase6.root) == before


def test_unreadable_workbook(phase6, tmp_path):
    """Verify that a file that is not an xlsx workbook is a finding, not a traceback."""
    path = tmp_path / "situation.xlsx"
    path.write_text("code;disponible\nC02-446A05;1\n", encoding="utf-8")
    result = _run(str(path), str(phase6.root))
    assert result.exit_code == 1
    assert f"{path}: ERROR: classeur illisible : ce n'est pas un fichier Excel .xlsx" in result.output
    assert "[xlsx.illisible]" in result.output


def test_impossible_date_and_duplicate_line(phase6, tmp_path):
    """Verify that an impossible date and a line id given twice are located findings."""
    wb = Workbook()
    ws = wb.active
    ws.append(["Ligne", "Montant", "Fin"])
    ws.append(["t1-o2-mempa-ple", "53 700,00", "31/06/2025"])
    ws.append(["t1-o2-mempa-ple", "53 700,00", "30/06/2025"])
    wb.save(tmp_path / "w.xlsx")
    result = import_xlsx([tmp_path / "w.xlsx"], phase6.root)
    where = {(f.loc.file.rsplit("!", 1)[1], f.code): f.message for f in result.findings}
    assert where[("C2", "xlsx.date_inexistante")] == "fin : date inexistante : 31/06/2025 (juin 2025 n'a que 30 jours)"
    assert "déjà en " in where[("A3", "xlsx.ligne_doublon")]
    assert result.failed and result.written == []


# ---------------------------------------------------------------------------
# layouts: one sheet per thématique, French numbers, merged cells, new lines, mapping


def test_sheets_per_thematique_french_numbers_and_merged_cells(phase6, tmp_path):
    """Verify per-thématique sheets, French amount texts, a territoire merged down rows and skipped subtotals."""
    wb = Workbook()
    t4 = wb.active
    t4.title = "Thématique 4"
    t4.append(["Annexe 4 — thématique 4"])  # a title above the header row
    t4.append([])
    t4.append(["Opération", "Identifiant", "Territoire MDS", "Montant retenu", "Observations"])
    t4.append([1, "t4-o1-mempa-escalade", "Artois", "6\u00a0200,00\u00a0€", "à revoir"])
    t4.append([1, "t4-o1-mempa-sejour-rupture", None, "13\u202f500,00\u202f€"])
    t4.append([1, "t4-o1-impact-oval", "Artois", "40000.00"])
    t4.merge_cells("C4:C5")  # « Artois » applies to both MEMPA lines
    t4.append([])
    t4.append([None, None, None, "59 700,00", "TOTAL opération 1"])
    t1 = wb.create_sheet("T1")
    t1.append(["Opération", "Ligne", "Montant"])
    t1.append([1, "t1-o1-mempa", "- €"])
    t1.append([2, "t1-o2-mempa-ple", "1 234,5"])
    t1.append(["TOTAL", None, 1234.5])
    wb.save(tmp_path / "w.xlsx")
    before = _bytes(phase6.root)
    result = import_xlsx([tmp_path / "w.xlsx"], phase6.root)
    assert not result.failed, result.findings
    assert result.ignored_headers == ["Thématique 4 : « Observations »"]
    changed = _changed_lines(before["thematiques/t4.yaml"], (phase6.root / "thematiques/t4.yaml").read_bytes())
    assert changed == [
        ("        territoire: Arrageois", "        territoire: Artois"),
        ("        territoire: Arrageois", "        territoire: Artois"),
        ('        montant: "13 000,00"', '        montant: "13 500,00"')]
    changed = _changed_lines(before["thematiques/t1.yaml"], (phase6.root / "thematiques/t1.yaml").read_bytes())
    assert changed == [('        montant: "53 700,00"', '        montant: "1 234,50"')]


@pytest.mark.slow
def test_unknown_id_is_appended_to_its_operation(phase6, tmp_path):
    """Verify that a new id in a known opération is appended there; an unknown opération is an error."""
    path = _export(phase6.root, tmp_path)
    wb = load_workbook(path)
    ws = wb[SHEET_ANNEXE4]
    new = {"thematique": 3, "operation": 2, "id": "t3-o2-nouvelle", "territoire": "Calaisis", "structure": "adefi",
           "convention": "nouvelle", "nature": "financement", "debut": "01/01/2025", "fin": "31/12/2025",
           "description": "Action nouvelle", "montant": "5 000,00", "document": "convention-type",
           "budget": "C01-444H02"}
    ws.append([new.get(c.key) for c in ANNEXE4_COLUMNS])
    wb.save(path)
    before = (phase6.root / "thematiques/t3.yaml").read_text(encoding="utf-8")
    result = import_xlsx([path], phase6.root)
    assert not result.failed, result.findings
    assert result.added == ["t3-o2-nouvelle"]
    after = (phase6.root / "thematiques/t3.yaml").read_text(encoding="utf-8")
    assert after.startswith(before)  # t3-o2 is the file's last opération: the line goes at the end
    assert after[len(before):] == (
        "      - id: t3-o2-nouvelle\n        territoire: Calaisis\n        structure: adefi\n"
        "        convention: nouvelle\n        nature: financement\n"
        "        periode: {debut: 01/01/2025, fin: 31/12/2025}\n        montant: \"5 000,00\"\n"
        "        document: convention-type\n        description: \"Action nouvelle\"\n")
    assert any(c.cle == "t3-o2-nouvelle" and c.champ == "ajout" and c.apres == "5000.00" for c in result.changes)
    ws.append([3, 9, "t3-o9-autre", *([None] * (len(ANNEXE4_COLUMNS) - 3))])
    wb.save(path)
    result = import_xlsx([path], phase6.root)
    assert [(f.code, f.loc.file.rsplit("!", 1)[1]) for f in result.findings if f.code.startswith("xlsx.op")] == [
        ("xlsx.operation_inconnue", f"B{ws.max_row}")]


@pytest.mark.slow
def test_column_mapping(phase6, tmp_path):
    """Verify that a declared column mapping reads the user's own header."""
    wb = Workbook()
    ws = wb.active
    ws.append(["Ligne", "Montant voté CP"])
    ws.append(["t4-o1-impact-oval", 41000])
    wb.save(tmp_path / "w.xlsx")
    assert _run(str(tmp_path / "w.xlsx"), str(phase6.root), "--essai").exit_code == 1  # no Montant column
    mapping = tmp_path / "colonnes.yaml"
    mapping.write_text('annexe4:\n  montant: "Montant voté CP"\n', encoding="utf-8")
    result = _run(str(tmp_path / "w.xlsx"), str(phase6.root), "--colonnes", str(mapping))
    assert result.exit_code == 0, result.output
    assert 'montant: "41 000,00"' in (phase6.root / "thematiques/t4.yaml").read_text(encoding="utf-8")
    mapping.write_text("annexe4:\n  montnat: Montant voté CP\n", encoding="utf-8")
    result = _run(str(tmp_path / "w.xlsx"), str(phase6.root), "--colonnes", str(mapping))
    assert result.exit_code == 1
    assert f"{mapping}:2: ERROR: annexe4 : colonne « montnat » inconnue ; vouliez-vous dire « montant » ?" \
        in result.output


# ---------------------------------------------------------------------------
# the shipped samples


def test_budget_situation_sample_updates_disponible(phase6):
    """Verify that the finance-system sample updates one disponible and ignores the codes the phase does not use."""
    before = (phase6.root / "budget.yaml").read_bytes()
    result = import_xlsx([SAMPLES / "situation-budgetaire.xlsx"], phase6.root)
    assert not result.failed, result.findings
    assert result.ignored_codes == ["C01-444H05", "C02-446A07", "C03-512B01"]
    assert [(e.element, e.field, e.before, e.after) for e in result.edits] == [
        ("C02-428C01", "disponible", "90 500,00 €", "88 000,00 €")]
    assert _changed_lines(before, (phase6.root / "budget.yaml").read_bytes()) == [
        ('    disponible: "90 500,00"', '    disponible: "88 000,00"')]
    budget = {(c.cle, c.champ): (c.avant, c.apres) for c in result.changes if c.portee == "budget"}
    assert budget == {("C02-428C01", "disponible"): ("90500.00", "88000.00"),
                      ("C02-428C01", "solde"): ("31300.00", "28800.00")}


def test_samples_are_up_to_date():
    """Verify that the shipped workbooks are what tools/sample_workbooks.py writes (byte for byte)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("sample_workbooks", ROOT / "tools" / "sample_workbooks.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    checked = pipeline.check(Settings(source=FIXTURES / "phase-6-2024"))
    when = tool.build_time(checked.dossier.info.seance.date)
    assert tool.situation(checked.dossier, when) == (SAMPLES / "situation-budgetaire.xlsx").read_bytes()
    assert workbook(checked.dossier, checked.figures) == (SAMPLES / "phase-6-2024-annexe-4.xlsx").read_bytes(), \
        "exporter changed: run python tools/sample_workbooks.py"
    sheet = load_workbook(io.BytesIO((SAMPLES / "situation-budgetaire.xlsx").read_bytes())).active
    assert sheet["A4"].value == "Code opé." and sheet["F4"].value == "AE disponible"


@pytest.mark.parametrize("text", slow_but(
    ["79 850,00 €", "79850.00", "79\u00a0850,00\u00a0€", "79\u202f850,00", "79850"], "79 850,00 €"))
def test_amount_texts(phase6, tmp_path, text):
    """Verify that French and plain amount texts are read as the same amount (no change)."""
    wb = Workbook()
    wb.active.append(["Ligne", "Montant"])
    wb.active.append(["t1-o3-pdc-actif", text])
    wb.save(tmp_path / "w.xlsx")
    result = import_xlsx([tmp_path / "w.xlsx"], phase6.root)
    assert not result.failed and result.edits == [], result.findings


def test_bidirectional_control_in_a_cell_is_imported_then_pointed_out(phase6, tmp_path):
    """A text cell with U+202E is data: imported as written, then `check` warns where it landed."""
    path = _export(phase6.root, tmp_path)
    _set_cell(path, "t1-o3-pdc-actif", "description", "Financement \u202eesrever")
    result = _run(str(path), str(phase6.root))
    assert result.exit_code == 0, result.output
    assert "\u202eesrever" in (phase6.root / "thematiques" / "t1.yaml").read_text(encoding="utf-8")
    (f,) = [f for f in phase6.check() if f.code == "texte.bidi"]
    assert f.loc.file.endswith("t1.yaml") and "U+202E" in f.message


def test_budget_code_twice_is_located(phase6, tmp_path):
    path = _export(phase6.root, tmp_path)
    wb = load_workbook(path)
    ws = wb["Contrôle budgétaire"]
    ws["A3"].value = ws["A2"].value
    wb.save(path)
    before = _bytes(phase6.root)
    result = _run(str(path), str(phase6.root))
    assert result.exit_code == 1
    code = ws["A2"].value
    assert (f"{path}!Contrôle budgétaire!A3: ERROR: code opération « {code} » en double dans le classeur "
            f"(déjà en {path}!Contrôle budgétaire!A2) [xlsx.budget_doublon]") in result.output
    assert _bytes(phase6.root) == before
