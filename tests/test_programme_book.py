"""The programme's year at a glance (issue 22): ``programme.xlsx``, the report and its charts, its PDF.

Two ledgers of different shapes, both replayed by ``build_ledger`` from YAML: the fixture
``fixtures/programme-2025`` (three phases, two budget lines, an adjustment, a convention created then
amended twice, another amended three times) and a copy cut down to two phases and one budget line. Every
figure of the workbook is checked against the ledger: the formulas' text here, their values after
LibreOffice Calc recomputes the workbook (``libreoffice`` tests); the PDF's text and pictures are read back
with pypdf.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
import pytest
from conftest import FIXTURES, SOFFICE

from deliberation import fmt
from deliberation.bundle.programme import PROGRAMME_DOCX, PROGRAMME_PDF, programme_time, write_programme_outputs
from deliberation.ledger import build_ledger
from deliberation.render.programme import (
    CHART_CONSOMMATION,
    CHART_STRUCTURES,
    DPI,
    NO_CHARTS,
    programme_charts,
    programme_report,
)
from deliberation.resources import catalogue_dir
from deliberation.xlsx.programme import (
    PROGRAMME_XLSX,
    SHEET_BUDGET,
    SHEET_CHARTS,
    SHEET_CONVENTIONS,
    SHEET_LIGNES,
    SHEET_STRUCTURES,
    programme_workbook,
)

PROGRAMME = FIXTURES / "programme-2025"
ANNEXES = (catalogue_dir(),)
WHEN = dt.datetime(2025, 10, 13)  # noqa: DTZ001 - a séance's date, as build_time gives it
CENT = Decimal("0.01")


def _cut_down(root: Path) -> Path:
    """The fixture as two phases funding from one budget line (C02-446A05): Alpha and Beta only."""
    shutil.copytree(PROGRAMME, root)
    (root / "programme.yaml").write_text("annee: 2025\nphases: [phase-1, phase-2]\n", encoding="utf-8")
    shutil.rmtree(root / "phase-3")
    (root / "phase-2" / "structures.yaml").unlink()  # it names the convention phase 1 created for Gamma
    for phase in ("phase-1", "phase-2"):
        (root / phase / "thematiques" / "t4.yaml").unlink()
        budget = root / phase / "budget.yaml"
        text = budget.read_text(encoding="utf-8")
        budget.write_text(text[:text.index("  - code: C02-428C01")], encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory):
    """The two ledgers, by name: « trois » (the fixture) and « deux » (two phases, one line)."""
    three = build_ledger(PROGRAMME, ANNEXES)
    two = build_ledger(_cut_down(tmp_path_factory.mktemp("programme") / "aap"), ANNEXES)
    assert three.findings == [] and two.findings == []
    assert (len(three.phases), len({b.code for b in three.budget})) == (3, 2)
    assert (len(two.phases), len({b.code for b in two.budget})) == (2, 1)
    return {"trois": three, "deux": two}


SHAPES = ("trois", "deux")


def _money(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(CENT)


def _rows(ws, first: int = 2) -> list[tuple[int, tuple]]:
    return [(r, tuple(c.value for c in row)) for r, row in enumerate(ws.iter_rows(min_row=first), first)]


def _book(ledger) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(programme_workbook(ledger, WHEN)))


# ---------------------------------------------------------------------------
# the workbook: values and formulas as written


@pytest.mark.parametrize("shape", SHAPES)
def test_budget_sheet_one_row_per_line_and_phase_with_formulas(ledgers, shape):
    ledger = ledgers[shape]
    rows = _rows(_book(ledger)[SHEET_BUDGET])
    steps = {(b.code, b.phase): b for b in ledger.budget}
    assert len(rows) == len(steps)
    seen = []
    for r, (phase, code, libelle, ae, disponible, attendu, ajustement, motif, proposition, apres, ecart) in rows:
        b = steps[(code, phase)]
        seen.append((code, phase))
        assert (libelle, _money(ae), _money(disponible), _money(ajustement), motif, _money(proposition)) == (
            b.libelle, b.ae, b.disponible, b.ajustement, b.motif, b.proposition)
        assert apres == f"=E{r}-I{r}"  # disponible après = déclaré − proposition
        if b.attendu is None:  # a line's first phase
            assert (attendu, ecart) == (None, None)
        else:  # the previous phase's « après » (the row above: the same line) plus the adjustment
            assert rows[r - 3][1][1] == code and attendu == f"=J{r - 1}+G{r}" and ecart == f"=E{r}-F{r}"
    phases = [p.nom for p in ledger.phases]
    assert seen == sorted(seen, key=lambda k: (k[0], phases.index(k[1])))
    if shape == "trois":  # the declared adjustment and its reason, on phase 3 of C02-446A05
        adjusted = [(row[0], row[1], row[6]) for _, row in rows if row[6] is not None]
        assert adjusted == [("phase-3", "C02-446A05", 25000)]


@pytest.mark.parametrize("shape", SHAPES)
def test_conventions_sheet_initial_row_then_each_avenant_with_a_running_ceiling(ledgers, shape):
    ledger = ledgers[shape]
    rows = _rows(_book(ledger)[SHEET_CONVENTIONS])
    expected = []
    for h in ledger.conventions:
        expected.append((h.structure, h.numero, h.origine, h.montant_initial, h.periode_initiale[1], "initial"))
        expected += [(h.structure, h.numero, a.phase, a.montant, a.periode[1], a.numero) for a in h.avenants]
    assert len(rows) == len(expected)
    for (r, row), (structure, numero, phase, montant, fin, act) in zip(rows, expected, strict=True):
        assert (row[0], row[2], row[4], _money(row[7]), row[10].date()) == (structure, numero, phase, montant, fin)
        if act == "initial":
            assert row[8] == f"=H{r}"
        else:
            assert row[3] == f"avenant n°{act}" and row[8] == f"=I{r - 1}+H{r}"
    avenants = {h.structure: [a.numero for a in h.avenants] for h in ledger.conventions}
    if shape == "trois":
        assert avenants == {"alpha": [1, 2, 3], "beta": [2], "gamma": [1, 2]}
        created = next(row for _, row in rows if row[0] == "gamma")
        assert (created[3], created[5].date(), created[6]) == ("convention créée en phase-1", dt.date(2025, 3, 10),
                                                               "2025-100")
    else:
        assert avenants == {"alpha": [1, 2], "beta": [2]}


@pytest.mark.parametrize("shape", SHAPES)
def test_structures_are_sumifs_over_the_detail_sheet(ledgers, shape):
    ledger = ledgers[shape]
    book = _book(ledger)
    detail = [row for _, row in _rows(book[SHEET_LIGNES])]
    assert detail == [(ln.phase, ln.structure, ln.nom, ln.dispositif, ln.territoire, ln.budget,
                       int(ln.montant)) for ln in ledger.lignes]
    ws = book[SHEET_STRUCTURES]
    headers = [c.value for c in ws[2]]
    rows = _rows(ws, 3)
    assert [row[0] for _, row in rows] == [y.structure for y in ledger.structures] + [None]
    last = len(ledger.lignes) + 1
    amounts, who = f"'Lignes'!$G$2:$G${last}", f"'Lignes'!$B$2:$B${last}"
    columns = {"phase": "A", "dispositif": "D", "territoire": "E"}
    for _, row in rows[:-1]:
        assert row[2] == f'=SUMIFS({amounts},{who},"={row[0]}")'
        for header, formula in zip(headers[3:], row[3:], strict=True):
            kind = ("phase" if header in {p.nom for p in ledger.phases}
                    else "dispositif" if any(ln.dispositif == header for ln in ledger.lignes) else "territoire")
            col = columns[kind]
            assert formula == (f'=SUMIFS({amounts},{who},"={row[0]}",\'Lignes\'!${col}$2:${col}${last},'
                               f'"={header}")')
    assert rows[-1][1][1:3] == ("TOTAL", f"=SUM(C3:C{len(rows) + 1})")
    expected = {"trois": ["phase-1", "phase-2", "phase-3", "1.1", "1.2", "4.1", "Arrageois", "Calaisis",
                          "Lens-Liévin"],
                "deux": ["phase-1", "phase-2", "1.1", "1.2", "Arrageois", "Calaisis"]}[shape]
    assert headers[3:] == expected


def test_a_criterion_matches_its_text_exactly():
    from deliberation.xlsx.programme import criterion

    assert criterion("Lens-Liévin") == '"=Lens-Liévin"'
    assert criterion('a*b?c~"d') == '"=a~*b~?c~~""d"'


@pytest.mark.parametrize("shape", SHAPES)
def test_the_chart_sheet_and_its_two_charts(ledgers, shape):
    ledger = ledgers[shape]
    data = programme_workbook(ledger, WHEN)
    ws = openpyxl.load_workbook(io.BytesIO(data))[SHEET_CHARTS]
    rows = _rows(ws)
    codes = sorted({b.code for b in ledger.budget})
    assert [c.value for c in ws[1]] == ["Phase", *(f"Proposition {c}" for c in codes),
                                        *(f"Disponible après {c}" for c in codes)]
    budget = {(row[1], row[0]): r for r, row in _rows(openpyxl.load_workbook(io.BytesIO(data))[SHEET_BUDGET])}
    for (_, row), phase in zip(rows, ledger.phases, strict=True):
        refs = [f"='Lignes budgétaires'!I{budget[c, phase.nom]}" for c in codes]
        refs += [f"='Lignes budgétaires'!J{budget[c, phase.nom]}" for c in codes]
        assert row == (phase.nom, *refs)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    charts = sorted(n for n in names if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
    assert len(charts) == 2
    xml = [zipfile.ZipFile(io.BytesIO(data)).read(n).decode() for n in charts]
    assert "<barChart>" in xml[0] and "<lineChart>" in xml[1]
    assert all(f"'Graphiques'!$A$2:$A${len(ledger.phases) + 1}" in x for x in xml), xml


def test_workbook_report_and_charts_are_deterministic(ledgers):
    for ledger in ledgers.values():
        assert programme_workbook(ledger, WHEN) == programme_workbook(ledger, WHEN)
    ledger = ledgers["trois"]
    charts = programme_charts(ledger)
    assert programme_charts(ledger) == charts  # a fresh drawing, the same PNG bytes
    assert programme_report(ledger, WHEN, charts) == programme_report(ledger, WHEN, charts)
    assert programme_workbook(ledgers["deux"], WHEN) != programme_workbook(ledgers["trois"], WHEN)


# ---------------------------------------------------------------------------
# the charts and the report


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.mark.parametrize("shape", SHAPES)
def test_charts_are_png_without_metadata(ledgers, shape):
    charts = programme_charts(ledgers[shape])
    assert set(charts) == {CHART_CONSOMMATION, CHART_STRUCTURES}
    width, _ = _png_size(charts[CHART_CONSOMMATION])
    panels = len({b.code for b in ledgers[shape].budget})
    assert width == round((5.2 if panels == 1 else 10.4) * DPI)  # one panel per budget line, two a row
    for data in charts.values():
        assert b"Software" not in data and b"tIME" not in data  # nothing that varies from run to run


def _docx_text(data: bytes) -> str:
    d = docx.Document(io.BytesIO(data))
    parts = [p.text for p in d.paragraphs]
    parts += [c.text for t in d.tables for row in t.rows for c in row.cells]
    return "\n".join(parts).replace("\u00a0", " ")


def _figures(ledger) -> list[str]:
    """Every amount and date the report must show, in French, as text."""
    out = []
    for b in ledger.budget:
        out += [fmt.money(v) for v in (b.ae, b.disponible, b.attendu, b.ajustement, b.proposition, b.apres)
                if v is not None]
    for h in ledger.conventions:
        out += [fmt.money(h.montant_initial), fmt.date_long(h.periode_initiale[1])]
        for a in h.avenants:
            out += [fmt.money(a.montant), fmt.money(a.plafond), fmt.date_long(a.periode[1]), fmt.date_long(a.date)]
    for y in ledger.structures:
        out += [fmt.money(y.total), *(fmt.money(v) for v in y.par_phase.values())]
        out += [fmt.money(v) for v in (*y.par_dispositif.values(), *y.par_territoire.values())]
    return [f.replace("\u00a0", " ") for f in out]


@pytest.mark.parametrize("shape", SHAPES)
def test_report_states_every_figure_in_french_with_its_charts(ledgers, shape):
    ledger = ledgers[shape]
    data = programme_report(ledger, WHEN)
    text = _docx_text(data)
    missing = [f for f in _figures(ledger) if f not in text]
    assert missing == []
    assert len(docx.Document(io.BytesIO(data)).inline_shapes) == 2
    assert NO_CHARTS not in text
    if shape == "trois":
        assert "Situation après phase-3 (séance du 13 octobre 2025) : trois phases, deux lignes budgétaires" in text
        assert "C02-446A05, phase-3 : ajustement de 25 000,00 € — engagement 2024 de l'Association Delta" in text
        assert "445 000,00 €" in text and "220 000,00 €" in text and "31 décembre 2026" in text
    else:
        assert "Situation après phase-2 (séance du 16 juin 2025) : deux phases, une ligne budgétaire" in text


def test_without_matplotlib_the_report_has_no_chart_and_says_so(ledgers, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # « import matplotlib » raises ImportError
    ledger = ledgers["trois"]
    assert programme_charts(ledger) == {}
    data = programme_report(ledger, WHEN)
    text = _docx_text(data)
    assert NO_CHARTS in text and "pip install 'deliberation[programme]'" in text
    assert len(docx.Document(io.BytesIO(data)).inline_shapes) == 0
    assert [f for f in _figures(ledger) if f not in text] == []  # the tables are all there


def test_outputs_without_pdf_and_their_date(ledgers, tmp_path):
    ledger = ledgers["trois"]
    out = write_programme_outputs(ledger, tmp_path, pdf=False)
    assert set(out) == {PROGRAMME_XLSX, PROGRAMME_DOCX}
    when = programme_time(ledger)
    assert when == dt.datetime(2025, 10, 13)  # noqa: DTZ001 - the last séance
    assert out[PROGRAMME_XLSX] == programme_workbook(ledger, when)
    assert {i.date_time for i in zipfile.ZipFile(io.BytesIO(out[PROGRAMME_DOCX])).infolist()} == {
        (2025, 10, 13, 0, 0, 0)}
    assert list(tmp_path.iterdir()) == []  # nothing written: the caller writes


# ---------------------------------------------------------------------------
# LibreOffice: the workbook recomputed, the report converted


def _calc() -> str | None:
    """``soffice`` when LibreOffice Calc is installed (the Writer-only package cannot open a workbook)."""
    if SOFFICE and any(Path(SOFFICE).resolve().parent.glob("libsclo.*")):
        return SOFFICE
    return None


@pytest.mark.libreoffice
@pytest.mark.skipif(_calc() is None, reason="LibreOffice Calc absent (paquet libreoffice-calc-nogui)")
@pytest.mark.parametrize("shape", SHAPES)
def test_libreoffice_computes_the_ledger_figures(ledgers, shape, tmp_path):
    ledger = ledgers[shape]
    (tmp_path / PROGRAMME_XLSX).write_bytes(programme_workbook(ledger, WHEN))
    subprocess.run([_calc(), f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(tmp_path / "out"), str(tmp_path / PROGRAMME_XLSX)],
                   check=True, capture_output=True, timeout=120)
    book = openpyxl.load_workbook(tmp_path / "out" / PROGRAMME_XLSX, data_only=True)  # values Calc computed
    steps = {(b.code, b.phase): b for b in ledger.budget}
    for _, row in _rows(book[SHEET_BUDGET]):
        b = steps[(row[1], row[0])]
        assert (_money(row[5]), _money(row[9])) == (b.attendu, b.apres), row
        assert _money(row[10]) == (None if b.attendu is None else b.disponible - b.attendu), row
    plafonds = [p for h in ledger.conventions for p in (h.montant_initial, *(a.plafond for a in h.avenants))]
    assert [_money(row[8]) for _, row in _rows(book[SHEET_CONVENTIONS])] == plafonds
    ws = book[SHEET_STRUCTURES]
    headers = [c.value for c in ws[2]]
    rows = [row for _, row in _rows(ws, 3)]
    zero = Decimal(0)
    for y, row in zip(ledger.structures, rows, strict=False):
        merged = {**y.par_phase, **y.par_dispositif, **y.par_territoire}
        assert _money(row[2]) == y.total
        assert [_money(v) for v in row[3:]] == [merged.get(h, zero).quantize(CENT) for h in headers[3:]], y.nom
    assert _money(rows[-1][2]) == sum((y.total for y in ledger.structures), zero)
    for col in range(3, len(headers)):
        assert _money(rows[-1][col]) == sum((_money(r[col]) for r in rows[:-1]), zero)
    codes = sorted({b.code for b in ledger.budget})
    for (_, row), phase in zip(_rows(book[SHEET_CHARTS]), ledger.phases, strict=True):
        assert [_money(v) for v in row[1:]] == [steps[(c, phase.nom)].proposition for c in codes] + [
            steps[(c, phase.nom)].apres for c in codes]
    if shape == "trois":  # by hand from the YAML: 445 000 − 20 000; Alpha 120 000 + 50 000 + 30 000 + 20 000
        assert _money(book[SHEET_BUDGET]["J7"].value) == Decimal("425000.00")
        assert _money(book[SHEET_CONVENTIONS]["I5"].value) == Decimal("220000.00")


def _pdf_text(data: bytes) -> tuple[str, list[tuple[int, int]]]:
    """The PDF's text, and the size (pixels) of each picture a page draws (« /Name Do »), in page order."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(p.extract_text() for p in reader.pages)
    drawn = []
    for page in reader.pages:  # LibreOffice gives every page the same resources: what is drawn is in the content
        objects = page["/Resources"].get("/XObject", {})
        for name in re.findall(rb"/([\w.-]+)\s+Do\b", page.get_contents().get_data()):
            obj = objects.get(f"/{name.decode()}")
            if obj is not None and obj.get_object().get("/Subtype") == "/Image":
                drawn.append((int(obj.get_object()["/Width"]), int(obj.get_object()["/Height"])))
    return re.sub(r"[\u00a0\u202f]", " ", text), drawn


@pytest.mark.libreoffice
@pytest.mark.skipif(not SOFFICE, reason="LibreOffice absent (make libreoffice)")
@pytest.mark.parametrize("shape", SHAPES)
def test_the_pdf_report_shows_the_tables_and_the_charts(ledgers, shape, tmp_path):
    ledger = ledgers[shape]
    out = write_programme_outputs(ledger, tmp_path, pdf=True)
    assert set(out) == {PROGRAMME_XLSX, PROGRAMME_DOCX, PROGRAMME_PDF}
    text, images = _pdf_text(out[PROGRAMME_PDF])
    flat = re.sub(r"\s+", " ", text)
    missing = [f for f in _figures(ledger) if f not in flat]
    assert missing == []
    charts = programme_charts(ledger)  # the consumption chart, then the structures' chart, each drawn once
    assert images == [_png_size(charts[CHART_CONSOMMATION]), _png_size(charts[CHART_STRUCTURES])]
    assert "Programme 2025 — le point de l'année" in flat
    if shape == "trois":
        assert "13 octobre 2025" in flat and "425 000,00 €" in flat and "convention créée en phase-1" in flat
        again = write_programme_outputs(ledger, tmp_path, pdf=True)
        assert again == out  # the same ledger, the same bytes, PDF included
