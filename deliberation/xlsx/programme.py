"""The programme's year as a workbook (``programme.xlsx``, issue 22): budget lines, conventions, structures.

Five sheets drawn from a ``Ledger``:

- « Lignes budgétaires »: one row per budget line and phase (a line's phases together, in vote order); the
  disponible after the phase (``=E-I``), the disponible expected from the previous phase (its « après »
  plus the declared adjustment: ``=J(previous row)+G``) and the gap between declared and expected (``=E-F``)
  are formulas;
- « Conventions »: per convention its initial row, then one row per avenant; the ceiling is a running
  formula (previous ceiling + the avenant's amount);
- « Structures »: per structure the year's total and its amounts per phase, dispositif and territory, each a
  ``SUMIFS`` over the « Lignes » sheet, and a total row;
- « Lignes »: the detail, one row per funded line of each phase;
- « Graphiques »: the propositions and the disponible after each phase, per budget line (cells referring to
  the budget sheet), and two charts drawn from them.

Dated from the last phase's séance (``when``), the zip rewritten with fixed timestamps: the same ledger, the
same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from deliberation.fsio import normalise_zip
from deliberation.ledger import BudgetStep, Ledger
from deliberation.render.programme import NON_RENSEIGNE, axes, budget_rows, convention_act
from deliberation.xlsx.export import cell_value
from deliberation.xlsx.layout import FMT_DATE, FMT_MONEY, FMT_TEXT, TOTAL

#: The file's name among the programme's outputs.
PROGRAMME_XLSX = "programme.xlsx"

SHEET_BUDGET = "Lignes budgétaires"
SHEET_CONVENTIONS = "Conventions"
SHEET_STRUCTURES = "Structures"
SHEET_LIGNES = "Lignes"
SHEET_CHARTS = "Graphiques"

#: Columns of each sheet: (header, width, number format).
BUDGET_HEADERS = (
    ("Phase", 11, None), ("Code opération", 14, FMT_TEXT), ("Libellé", 36, None), ("AE", 16, FMT_MONEY),
    ("Disponible déclaré", 16, FMT_MONEY), ("Attendu (après précédent + ajustement)", 18, FMT_MONEY),
    ("Ajustement", 14, FMT_MONEY), ("Motif de l'ajustement", 36, None), ("Proposition", 16, FMT_MONEY),
    ("Disponible après", 16, FMT_MONEY), ("Écart déclaré − attendu", 16, FMT_MONEY),
)
CONVENTION_HEADERS = (
    ("Code structure", 14, FMT_TEXT), ("Structure", 26, None), ("Convention", 14, FMT_TEXT), ("Acte", 30, None),
    ("Phase", 11, None), ("Séance", 12, FMT_DATE), ("Délibération", 13, FMT_TEXT), ("Montant", 16, FMT_MONEY),
    ("Plafond", 16, FMT_MONEY), ("Début", 12, FMT_DATE), ("Fin", 12, FMT_DATE),
)
LIGNES_HEADERS = (
    ("Phase", 11, None), ("Code structure", 14, FMT_TEXT), ("Structure", 26, None), ("Dispositif", 11, FMT_TEXT),
    ("Territoire", 18, None), ("Code budgétaire", 14, FMT_TEXT), ("Montant", 16, FMT_MONEY),
)

BOLD = Font(bold=True)
TOTAL_FILL = PatternFill(start_color="FFF2F2F2", end_color="FFF2F2F2", fill_type="solid")


class Formula(str):
    """A formula this module writes (any other text starting with « = » is written as text)."""

    __slots__ = ()


def _put(ws: Worksheet, row: int, column: int, value: object, number_format: str | None = None,
         bold: bool = False):
    value = cell_value(value)
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str) and not isinstance(value, Formula):
        cell.data_type = "s"  # a motif « = 2 ETP » stays text
    if number_format and value is not None:
        cell.number_format = FMT_DATE if isinstance(value, dt.date) else number_format
    if bold:
        cell.font = BOLD
        cell.fill = TOTAL_FILL
    return cell


def _row(ws: Worksheet, row: int, headers: tuple, values: tuple, bold: bool = False) -> None:
    for i, ((_, _, number_format), value) in enumerate(zip(headers, values, strict=True), 1):
        _put(ws, row, i, value, number_format, bold)


def _header(ws: Worksheet, headers: tuple, row: int = 1) -> None:
    wrap = Alignment(wrap_text=True, vertical="top")
    for i, (title, width, _) in enumerate(headers, 1):
        cell = ws.cell(row=row, column=i, value=title)
        cell.font = BOLD
        cell.alignment = wrap
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = ws.cell(row=row + 1, column=1).coordinate






def _budget(ws: Worksheet, ledger: Ledger) -> dict[tuple[str, str], int]:
    """Fill the budget sheet; return (code, phase) → its row."""
    _header(ws, BUDGET_HEADERS)
    rows: dict[tuple[str, str], int] = {}
    previous: BudgetStep | None = None
    for r, b in enumerate(budget_rows(ledger), 2):
        same_line = previous is not None and previous.code == b.code
        if b.attendu is not None and same_line and previous.apres is not None:
            attendu = Formula(f"=J{r - 1}+G{r}")  # the previous phase's « après » plus the adjustment
        else:
            attendu = b.attendu
        apres = Formula(f"=E{r}-I{r}") if b.apres is not None else None
        ecart = Formula(f"=E{r}-F{r}") if b.attendu is not None and b.disponible is not None else None
        _row(ws, r, BUDGET_HEADERS, (b.phase, b.code, b.libelle, b.ae, b.disponible, attendu, b.ajustement,
                                     b.motif, b.proposition, apres, ecart))
        rows[(b.code, b.phase)] = r
        previous = b
    ws.auto_filter.ref = f"A1:{get_column_letter(len(BUDGET_HEADERS))}{max(1, len(ledger.budget) + 1)}"
    return rows




def _conventions(ws: Worksheet, ledger: Ledger) -> None:
    _header(ws, CONVENTION_HEADERS)
    phases = {p.nom: p for p in ledger.phases}
    r = 2
    for h in ledger.conventions:
        origin = phases.get(h.origine) if h.origine else None
        debut, fin = h.periode_initiale or (None, None)
        plafond = Formula(f"=H{r}") if h.montant_initial is not None else None
        _row(ws, r, CONVENTION_HEADERS, (h.structure, h.nom, h.numero or "(à compléter)", convention_act(h),
                                         h.origine, origin.date if origin else None,
                                         origin.deliberation if origin else None, h.montant_initial, plafond,
                                         debut, fin))
        known = plafond is not None
        for a in h.avenants:
            r += 1
            known = known and a.montant is not None and a.plafond is not None
            debut, fin = a.periode or (None, None)
            _row(ws, r, CONVENTION_HEADERS, (h.structure, h.nom, h.numero or "(à compléter)",
                                             f"avenant n°{a.numero}", a.phase, a.date, a.deliberation, a.montant,
                                             Formula(f"=I{r - 1}+H{r}") if known else None, debut, fin))
        r += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(CONVENTION_HEADERS))}{max(1, r - 1)}"


def _lignes(ws: Worksheet, ledger: Ledger) -> int:
    """Fill the detail sheet; return its last row."""
    _header(ws, LIGNES_HEADERS)
    for r, ln in enumerate(ledger.lignes, 2):
        _row(ws, r, LIGNES_HEADERS, (ln.phase, ln.structure, ln.nom, ln.dispositif or NON_RENSEIGNE,
                                     ln.territoire or NON_RENSEIGNE, ln.budget, ln.montant))
    last = len(ledger.lignes) + 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(LIGNES_HEADERS))}{last}"
    return last


def criterion(value: str) -> str:
    """A ``SUMIFS`` criterion matching exactly ``value`` (wildcards escaped), as a formula's string literal."""
    escaped = value.replace("~", "~~").replace("*", "~*").replace("?", "~?").replace('"', '""')
    return f'"={escaped}"'




def _structures(ws: Worksheet, ledger: Ledger, last: int) -> None:
    """Per structure: the year's total, then per phase, dispositif and territory, ``SUMIFS`` over « Lignes »."""
    sheet = quote_sheetname(SHEET_LIGNES)

    def col(letter: str) -> str:
        return f"{sheet}!${letter}$2:${letter}${max(2, last)}"

    amounts, who = col("G"), col("B")
    phases, dispositifs, territoires = axes(ledger)
    groups = (("Par phase", col("A"), phases), ("Par dispositif", col("D"), dispositifs),
              ("Par territoire", col("E"), territoires))
    headers = [("Code structure", 14, FMT_TEXT), ("Structure", 26, None), ("Total de l'année", 16, FMT_MONEY)]
    ws.cell(row=1, column=3, value="Année").font = BOLD
    criteria: list[tuple[str, str]] = []
    for title, cells, keys in groups:
        if keys:
            ws.cell(row=1, column=len(headers) + 1, value=title).font = BOLD
        for key in keys:
            headers.append((key, 14, FMT_MONEY))
            criteria.append((cells, key))
    headers = tuple(headers)
    _header(ws, headers, row=2)
    ws.freeze_panes = "C3"
    r = 3
    for y in ledger.structures:
        mine = f"{who},{criterion(y.structure)}"
        values = [y.structure, y.nom, Formula(f"=SUMIFS({amounts},{mine})")]
        values += [Formula(f"=SUMIFS({amounts},{mine},{cells},{criterion(key)})") for cells, key in criteria]
        _row(ws, r, headers, tuple(values))
        r += 1
    first, end = 3, r - 1
    totals = [Formula(f"=SUM({get_column_letter(c)}{first}:{get_column_letter(c)}{end})" if end >= first else "=0")
              for c in range(3, len(headers) + 1)]
    _row(ws, r, headers, (None, TOTAL, *totals), bold=True)


def _charts(ws: Worksheet, ledger: Ledger, rows: dict[tuple[str, str], int]) -> None:
    """Per phase (rows) and budget line (columns): proposition and disponible after; a chart of each."""
    codes = list(dict.fromkeys(b.code for b in budget_rows(ledger)))
    sheet = quote_sheetname(SHEET_BUDGET)
    ws.cell(row=1, column=1, value="Phase").font = BOLD
    ws.column_dimensions["A"].width = 12
    n = len(codes)
    for j, code in enumerate(codes):
        for offset, label in ((2, "Proposition"), (2 + n, "Disponible après")):
            cell = ws.cell(row=1, column=offset + j, value=f"{label} {code}")
            cell.font = BOLD
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            ws.column_dimensions[get_column_letter(offset + j)].width = 18
    for i, p in enumerate(ledger.phases, 2):
        _put(ws, i, 1, p.nom)
        for j, code in enumerate(codes):
            r = rows.get((code, p.nom))
            for offset, source in ((2, "I"), (2 + n, "J")):
                _put(ws, i, offset + j, Formula(f"={sheet}!{source}{r}") if r else None, FMT_MONEY)
    last = len(ledger.phases) + 1
    if not codes or not ledger.phases:
        return
    categories = Reference(ws, min_col=1, min_row=2, max_row=last)
    for k, (chart, title, offset) in enumerate(((BarChart(), "Propositions par phase et ligne budgétaire", 2),
                                                (LineChart(), "Disponible après chaque phase", 2 + n))):
        chart.title = title
        chart.y_axis.title = "euros"
        chart.y_axis.numFmt = FMT_MONEY
        chart.x_axis.title = "phase"
        chart.height, chart.width = 8, 16
        chart.add_data(Reference(ws, min_col=offset, max_col=offset + n - 1, min_row=1, max_row=last),
                       titles_from_data=True)
        chart.set_categories(categories)
        ws.add_chart(chart, f"{get_column_letter(2 * n + 3)}{2 + 17 * k}")


def programme_workbook(ledger: Ledger, when: dt.datetime) -> bytes:
    """``programme.xlsx``: the ledger's budget lines, conventions and structures, formulas and charts.

    Args:
        ledger: the programme replayed (``build_ledger``).
        when: the date stamped into the workbook and its zip (the last phase's séance, see ``build_time``).

    Returns:
        The XLSX file (the same ledger and date, the same bytes).

    """
    wb = Workbook()
    budget = wb.active
    budget.title = SHEET_BUDGET
    rows = _budget(budget, ledger)
    _conventions(wb.create_sheet(SHEET_CONVENTIONS), ledger)
    structures = wb.create_sheet(SHEET_STRUCTURES)
    last = _lignes(wb.create_sheet(SHEET_LIGNES), ledger)
    _structures(structures, ledger, last)
    _charts(wb.create_sheet(SHEET_CHARTS), ledger, rows)
    props = wb.properties
    props.creator = props.lastModifiedBy = "deliberation"
    props.title = f"Programme {ledger.annee or ''} — grand livre".replace("  ", " ")
    props.created = props.modified = when
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()  # as Workbook.save, without stamping « modified » with the clock
    return normalise_zip(buf.getvalue(), when)
