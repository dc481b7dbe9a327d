"""The Excel export ``annexe-4.xlsx``: what each sheet says, its formulas' values, its layout, its bytes."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from conftest import FIXTURES, SOFFICE

from deliberation import pipeline
from deliberation.settings import Settings
from deliberation.xlsx.export import XLSX, workbook
from deliberation.xlsx.layout import (
    ANNEXE4_COLUMNS,
    BUDGET_COLUMNS,
    FMT_DATE,
    FMT_MONEY,
    FMT_TEXT,
    SHEET_ANNEXE4,
    SHEET_BUDGET,
)

CENT = Decimal("0.01")
A4 = {c.key: i for i, c in enumerate(ANNEXE4_COLUMNS)}  # column key → 0-based index
BU = {c.key: i for i, c in enumerate(BUDGET_COLUMNS)}


def export(source: Path):
    """Check a dossier, export it; return the checked dossier, the bytes and the workbook."""
    checked = pipeline.check(Settings(source=source))
    data = workbook(checked.dossier, checked.figures)
    return checked, data, openpyxl.load_workbook(io.BytesIO(data))


@pytest.fixture(scope="module")
def phase6():
    return export(FIXTURES / "phase-6-2024")


# ---------------------------------------------------------------------------
# a small evaluator for the formulas the export writes (SUBTOTAL 9, SUMIFS, SUM, a difference)


def _range(wb, ref: str, here: str) -> list:
    sheet, _, cells = ref.rpartition("!")
    ws = wb[sheet.strip("'")] if sheet else wb[here]
    return [row[0] for row in ws[cells.replace("$", "")]]


def evaluate(wb, sheet: str, coord: str) -> Decimal:
    """The value of a cell as Excel computes it, to the cent (formulas evaluated recursively)."""
    value = wb[sheet][coord].value
    if not (isinstance(value, str) and value.startswith("=")):
        return Decimal(str(value or 0)).quantize(CENT)
    f = value[1:]
    if m := re.fullmatch(r"SUBTOTAL\(9,([A-Z$]+\d+:[A-Z$]+\d+)\)", f):
        # SUBTOTAL ignores the cells of its range that hold a SUBTOTAL themselves
        return sum((evaluate(wb, sheet, c.coordinate) for c in _range(wb, m[1], sheet)
                    if not str(c.value).startswith("=SUBTOTAL")), Decimal(0))
    if m := re.fullmatch(r"SUMIFS\(([^,]+),([^,]+),([A-Z]+\d+)\)", f):
        key = wb[sheet][m[3]].value
        amounts, codes = _range(wb, m[1], sheet), _range(wb, m[2], sheet)
        assert len(amounts) == len(codes)
        return sum((evaluate(wb, a.parent.title, a.coordinate) for a, c in zip(amounts, codes, strict=True)
                    if c.value == key), Decimal(0))
    if m := re.fullmatch(r"SUM\(([A-Z]+\d+:[A-Z]+\d+)\)", f):
        return sum((evaluate(wb, sheet, c.coordinate) for c in _range(wb, m[1], sheet)), Decimal(0))
    if m := re.fullmatch(r"([A-Z]+\d+)-([A-Z]+\d+)", f):
        return evaluate(wb, sheet, m[1]) - evaluate(wb, sheet, m[2])
    raise AssertionError(f"formula not expected in the export: {value}")


def rows_of(ws) -> list[tuple]:
    return list(ws.iter_rows(min_row=2, values_only=True))


def row_number(ws, column: str, text: str, start: int = 2) -> int:
    """Row number of the first row from ``start`` whose ``column`` cell (annexe 4 key) equals ``text``."""
    col = A4[column] + 1
    return next(r for r in range(start, ws.max_row + 1) if ws.cell(r, col).value == text)


def money(col: str) -> str:
    return openpyxl.utils.get_column_letter(A4[col] + 1)


# ---------------------------------------------------------------------------
# annexe 4 sheet


def test_one_typed_row_per_ligne_in_dossier_order(phase6):
    checked, _, wb = phase6
    ws = wb[SHEET_ANNEXE4]
    rows = [r for r in rows_of(ws) if r[A4["id"]] is not None]
    assert [r[A4["id"]] for r in rows] == [lg.id for _, _, lg in checked.dossier.lignes()]
    for (t, o, ligne), r in zip(checked.dossier.lignes(), rows, strict=True):
        assert Decimal(str(r[A4["montant"]])).quantize(CENT) == ligne.montant, ligne.id
        assert (r[A4["thematique"]], r[A4["operation"]], r[A4["budget"]]) == (t.numero, o.numero, o.budget)
    pdc = next(r for r in rows if r[A4["id"]] == "t1-o3-pdc-actif")
    assert pdc[A4["montant"]] == 79850
    assert (pdc[A4["structure"]], pdc[A4["nom"]], pdc[A4["convention"]]) == (
        "pdc-actif", "Pas-de-Calais Actif", "2024-01213")
    assert (pdc[A4["territoire"]], pdc[A4["nature"]], pdc[A4["document"]]) == (
        "Départemental", "financement", "avenant-10")
    assert pdc[A4["etp"]] == 1.2 and pdc[A4["volume"]] is None
    assert isinstance(pdc[A4["debut"]], dt.datetime)  # a date cell (Excel has no date-only type)
    assert (pdc[A4["debut"]].date(), pdc[A4["fin"]].date()) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert pdc[A4["description"]].startswith("1,2 ETP supplémentaire")
    mempa = next(r for r in rows if r[A4["id"]] == "t1-o1-mempa")  # a valorisation: listed, at 0 €
    assert (mempa[A4["nature"]], mempa[A4["montant"]], mempa[A4["volume"]], mempa[A4["unite"]]) == (
        "valorisation", 0, 400, "diagnostics")
    tous = next(r for r in rows if r[A4["id"]] == "t1-o2-tous-parrains")
    assert (tous[A4["etp"]], tous[A4["etp_valorises"]]) == (2.3, 1.3)


def test_cells_carry_the_layout_number_formats(phase6):
    _, _, wb = phase6
    ws = wb[SHEET_ANNEXE4]
    r = row_number(ws, "id", "t1-o3-pdc-actif")
    fmt = {key: ws.cell(r, i + 1).number_format for key, i in A4.items()}
    assert fmt["montant"] == FMT_MONEY == '#,##0.00\\ "€"'
    assert fmt["debut"] == fmt["fin"] == FMT_DATE
    assert fmt["id"] == fmt["structure"] == fmt["budget"] == FMT_TEXT
    assert fmt["etp"] == "#,##0.00" and fmt["thematique"] == "#,##0"
    total = row_number(ws, "description", "TOTAL")
    assert ws.cell(total, A4["montant"] + 1).number_format == FMT_MONEY
    assert ws.cell(total, A4["description"] + 1).font.b


def test_subtotals_cover_exactly_their_rows_and_equal_the_figures(phase6):
    checked, _, wb = phase6
    ws, m = wb[SHEET_ANNEXE4], money("montant")
    start = 2
    for t in checked.dossier.thematiques:
        first = row_number(ws, "thematique", t.numero, start)
        for o in t.operations:
            o_first = row_number(ws, "operation", o.numero, first)
            o_total = row_number(ws, "description", f"TOTAL Opération {o.numero}", o_first)
            assert ws.cell(o_total, A4["id"] + 1).value is None
            assert ws[f"{m}{o_total}"].value == f"=SUBTOTAL(9,{m}{o_first}:{m}{o_total - 1})"
            covered = [ws.cell(r, A4["id"] + 1).value for r in range(o_first, o_total)]
            assert covered == [lg.id for lg in o.lignes]
            assert evaluate(wb, SHEET_ANNEXE4, f"{m}{o_total}") == checked.figures.of(o).montant
        t_total = row_number(ws, "description", f"TOTAL Thématique {t.numero}", first)
        assert ws[f"{m}{t_total}"].value == f"=SUBTOTAL(9,{m}{first}:{m}{t_total - 1})"
        ids = {ws.cell(r, A4["id"] + 1).value for r in range(first, t_total)} - {None}
        assert ids == {lg.id for o in t.operations for lg in o.lignes}
        assert evaluate(wb, SHEET_ANNEXE4, f"{m}{t_total}") == checked.figures.of(t).montant
        start = t_total + 1
    t1 = row_number(ws, "description", "TOTAL Thématique 1")
    assert ws[f"{m}{t1}"].value == f"=SUBTOTAL(9,{m}2:{m}{t1 - 1})"
    assert evaluate(wb, SHEET_ANNEXE4, f"{m}{t1}") == Decimal("712000.00")
    assert ws.max_row == start and ws.cell(start, A4["description"] + 1).value == "TOTAL"
    assert ws[f"{m}{start}"].value == f"=SUBTOTAL(9,{m}2:{m}{start - 1})"
    assert evaluate(wb, SHEET_ANNEXE4, f"{m}{start}") == checked.figures.phase.montant == Decimal("871198.00")


def test_header_bold_frozen_filtered_and_widths_from_the_layout(phase6):
    _, _, wb = phase6
    for name, cols in ((SHEET_ANNEXE4, ANNEXE4_COLUMNS), (SHEET_BUDGET, BUDGET_COLUMNS)):
        ws = wb[name]
        assert [c.value for c in ws[1]] == [c.header for c in cols]
        assert all(c.font.b for c in ws[1])
        assert ws.freeze_panes == "A2"
        last = openpyxl.utils.get_column_letter(len(cols))
        assert ws.auto_filter.ref == f"A1:{last}{ws.max_row}"
        widths = [ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width for i in range(1, len(cols) + 1)]
        assert widths == [c.width for c in cols]
    assert wb.sheetnames == [SHEET_ANNEXE4, SHEET_BUDGET]


# ---------------------------------------------------------------------------
# budget sheet


def test_budget_sheet_proposition_and_solde_formulas(phase6):
    checked, _, wb = phase6
    ws, a4 = wb[SHEET_BUDGET], wb[SHEET_ANNEXE4]
    rows = rows_of(ws)
    assert [r[BU["code"]] for r in rows[:-1]] == [b.code for b in checked.dossier.budget]
    first = rows[0]
    assert first[:BU["proposition"]] == ("C02-446A05", "6568/93446", "Indemnisation des organismes référents",
                                        8589450, 915067.73)
    end = a4.max_row
    assert first[BU["proposition"]] == f"=SUMIFS('Annexe 4'!$P$2:$P${end},'Annexe 4'!$R$2:$R${end},A2)"
    assert money("montant") == "P" and money("budget") == "R"
    assert first[BU["solde"]] == "=E2-F2"
    for r, b in enumerate(checked.dossier.budget, 2):
        fig = checked.figures.budget[b.code]
        assert evaluate(wb, SHEET_BUDGET, f"F{r}") == fig.proposition
        assert evaluate(wb, SHEET_BUDGET, f"G{r}") == fig.solde
        assert ws[f"E{r}"].number_format == ws[f"G{r}"].number_format == FMT_MONEY
    assert evaluate(wb, SHEET_BUDGET, "F2") == Decimal("712000.00")
    assert evaluate(wb, SHEET_BUDGET, "G2") == Decimal("203067.73")
    total = ws.max_row
    assert ws[f"C{total}"].value == "TOTAL" and ws[f"A{total}"].value is None
    assert evaluate(wb, SHEET_BUDGET, f"F{total}") == checked.figures.phase.montant
    assert evaluate(wb, SHEET_BUDGET, f"G{total}") == sum(f.solde for f in checked.figures.budget.values())


def test_negative_solde_is_shown_in_red(tmp_path):
    dest = tmp_path / "phase6"
    shutil.copytree(FIXTURES / "phase-6-2024", dest)
    budget = dest / "budget.yaml"
    budget.write_text(budget.read_text("utf-8").replace('disponible: "915 067,73"', 'disponible: "700 000,00"'),
                      "utf-8")
    checked, _, wb = export(dest)
    assert "budget.depassement" in {f.code for f in checked.findings}  # build would refuse; the export still says it
    ws = wb[SHEET_BUDGET]
    assert ws["E2"].value == 700000
    assert evaluate(wb, SHEET_BUDGET, "G2") == checked.figures.budget["C02-446A05"].solde == Decimal("-12000.00")
    (rng, rules), = ((str(cf.sqref), cf.rules) for cf in ws.conditional_formatting)
    assert rng == f"G2:G{ws.max_row}"
    (rule,) = rules
    assert (rule.type, rule.operator, rule.formula) == ("cellIs", "lessThan", ["0"])
    assert rule.dxf.font.color.rgb == "FF9C0006" and rule.dxf.fill.fgColor.rgb == "FFFFC7CE"


def test_a_text_starting_with_equals_stays_text(tmp_path):
    dest = tmp_path / "phase6"
    shutil.copytree(FIXTURES / "phase-6-2024", dest)
    t1 = dest / "thematiques" / "t1.yaml"
    t1.write_text(t1.read_text("utf-8").replace('description: "1,2 ETP', 'description: "=SUM(1;2) ETP', 1), "utf-8")
    _, data, wb = export(dest)
    ws = wb[SHEET_ANNEXE4]
    cell = ws.cell(row_number(ws, "id", "t1-o3-pdc-actif"), A4["description"] + 1)
    assert cell.value.startswith("=SUM(1;2) ETP supplémentaire") and cell.data_type == "s"
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>SUM(1" not in sheet and sheet.count("<f>") == 11  # the subtotal rows only


# ---------------------------------------------------------------------------
# bytes, amendments, the bundle


def test_two_exports_are_byte_identical_and_dated_from_the_seance(phase6):
    checked, data, wb = phase6
    assert workbook(checked.dossier, checked.figures) == data
    assert wb.properties.created.isoformat() == wb.properties.modified.isoformat() == "2024-12-09T00:00:00"
    assert {i.date_time for i in zipfile.ZipFile(io.BytesIO(data)).infolist()} == {(2024, 12, 9, 0, 0, 0)}


def test_amended_dossier_exports_the_adopted_figures():
    checked, _, wb = export(FIXTURES / "phase-6-2024-amended")
    ws = wb[SHEET_ANNEXE4]
    ids = [r[A4["id"]] for r in rows_of(ws)]
    assert "t1-o2-amie-ple" not in ids
    assert ws.cell(row_number(ws, "id", "t1-o3-pdc-actif"), A4["montant"] + 1).value == 70000
    assert evaluate(wb, SHEET_BUDGET, "F2") == Decimal("655350.00")
    assert evaluate(wb, SHEET_BUDGET, "G2") == Decimal("259717.73")


def test_build_writes_the_workbook_and_lists_it_in_the_manifest(tmp_path):
    out = tmp_path / "out"
    built = pipeline.build(Settings(source=FIXTURES / "fictif", out_dir=out))
    assert built.written
    data = (out / XLSX).read_bytes()
    assert data == workbook(built.checked.dossier, built.checked.figures)
    entry = json.loads((out / "manifest.json").read_text("utf-8"))["sorties"][XLSX]
    assert entry["octets"] == len(data) and len(entry["sha256"]) == 64
    again = pipeline.build(Settings(source=FIXTURES / "fictif", out_dir=out))
    assert again.unchanged and (out / XLSX).read_bytes() == data


def _calc() -> str | None:
    """``soffice`` when LibreOffice Calc is installed (the Writer-only package cannot open a workbook)."""
    exe = SOFFICE
    if exe and any(Path(exe).resolve().parent.glob("libsclo.*")):
        return exe
    return None


@pytest.mark.libreoffice
@pytest.mark.skipif(_calc() is None, reason="LibreOffice Calc absent (paquet libreoffice-calc-nogui)")
def test_libreoffice_computes_the_same_figures(phase6, tmp_path):
    checked, data, _ = phase6
    (tmp_path / XLSX).write_bytes(data)
    subprocess.run([_calc(), f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(tmp_path / "out"), str(tmp_path / XLSX)],
                   check=True, capture_output=True, timeout=120)
    wb = openpyxl.load_workbook(tmp_path / "out" / XLSX, data_only=True)  # values LibreOffice computed
    totals = {r[A4["description"]]: r[A4["montant"]] for r in rows_of(wb[SHEET_ANNEXE4])
              if r[A4["id"]] is None}
    figures = checked.figures
    assert Decimal(str(totals["TOTAL Thématique 1"])) == figures.thematiques[id(checked.dossier.thematiques[0])].montant
    assert Decimal(str(totals["TOTAL"])) == figures.phase.montant
    for r in rows_of(wb[SHEET_BUDGET])[:-1]:
        fig = figures.budget[r[BU["code"]]]
        assert Decimal(str(r[BU["proposition"]])).quantize(CENT) == fig.proposition, r
        assert Decimal(str(r[BU["solde"]])).quantize(CENT) == fig.solde, r
    total = rows_of(wb[SHEET_BUDGET])[-1]
    assert Decimal(str(total[BU["proposition"]])).quantize(CENT) == figures.phase.montant
