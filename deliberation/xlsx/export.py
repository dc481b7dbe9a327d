"""The Excel export of the annexe 4 (``annexe-4.xlsx``): répartition financière and budget control.

Two sheets, laid out by ``deliberation.xlsx.layout``: « Annexe 4 », one row per ligne in dossier
order with a ``SUBTOTAL`` row after each opération and each thématique and a last « TOTAL »; and
« Contrôle budgétaire », one row per budget line whose proposition is a ``SUMIFS`` over the
annexe 4 and whose solde is a formula, shown in red when negative. The bytes depend only on the
dossier: the workbook is dated from the séance and the zip is rewritten with fixed timestamps.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from deliberation.compute import Figures
from deliberation.fsio import build_time, normalise_zip
from deliberation.model import Dossier, Ligne, Operation, Thematique
from deliberation.xlsx.layout import (
    ANNEXE4_COLUMNS,
    BUDGET_COLUMNS,
    FMT_DATE,
    SHEET_ANNEXE4,
    SHEET_BUDGET,
    TOTAL,
    Column,
)

#: The file's name in the bundle.
XLSX = "annexe-4.xlsx"

#: Fill and font of a negative solde (conditional formatting of the budget sheet).
RED_FILL = PatternFill(start_color="FFFFC7CE", end_color="FFFFC7CE", fill_type="solid")
RED_FONT = Font(color="FF9C0006", bold=True)
BOLD = Font(bold=True)
TOTAL_FILL = PatternFill(start_color="FFF2F2F2", end_color="FFF2F2F2", fill_type="solid")


class Formula(str):
    """A formula the export writes (any other text starting with « = » is written as text)."""

    __slots__ = ()


def letter(columns: tuple[Column, ...], key: str) -> str:
    """The column letter of ``key`` in ``columns`` (A for the first)."""
    return get_column_letter(next(i for i, c in enumerate(columns, 1) if c.key == key))


def workbook(dossier: Dossier, figures: Figures) -> bytes:
    """The ``annexe-4.xlsx`` workbook of an adopted dossier, as bytes (the same dossier, the same bytes).

    Args:
        dossier: the dossier as adopted (amendments applied).
        figures: its computed figures (the budget lines' order and existence; the sheets' own
            totals are formulas over the rows).

    Returns:
        The XLSX file.

    """
    when = build_time(dossier.info.seance.date if dossier.info and dossier.info.seance else None)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_ANNEXE4
    last = _annexe4(ws, dossier)
    _budget(wb.create_sheet(SHEET_BUDGET), dossier, figures, last)
    props = wb.properties
    props.creator = "deliberation"
    props.lastModifiedBy = "deliberation"
    props.title = _title(dossier)
    props.created = props.modified = when
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()  # as Workbook.save, without stamping « modified » with the clock
    return normalise_zip(buf.getvalue(), when)


def _title(d: Dossier) -> str:
    numero = d.info.deliberation.numero if d.info and d.info.deliberation else None
    return f"Délibération n°{numero} — annexe 4" if numero else "Annexe 4 — répartition financière"


def _header(ws: Worksheet, columns: tuple[Column, ...]) -> None:
    for i, col in enumerate(columns, 1):
        cell = ws.cell(row=1, column=i, value=col.header)
        cell.font = BOLD
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.freeze_panes = "A2"


def _put(ws: Worksheet, row: int, columns: tuple[Column, ...], values: dict, bold: bool = False) -> None:
    """Write one row: each column's value (typed for openpyxl) with the column's number format."""
    for i, col in enumerate(columns, 1):
        value = cell_value(values.get(col.key))
        cell = ws.cell(row=row, column=i, value=value)
        if isinstance(value, str) and not isinstance(value, Formula):
            cell.data_type = "s"  # a description « = 2 ETP » stays text
        if col.number_format and value is not None:
            cell.number_format = FMT_DATE if isinstance(value, dt.date) else col.number_format
        if bold:
            cell.font = BOLD
            cell.fill = TOTAL_FILL


def cell_value(value: object) -> object:
    """Decimals as int when whole, else float (a cent amount below 10^13 € round-trips exactly)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _ligne_values(d: Dossier, t: Thematique, o: Operation, ligne: Ligne) -> dict:
    structure = d.structures.get(ligne.structure) if ligne.structure else None
    periode, volume = ligne.periode, ligne.volume
    return {
        "thematique": t.numero,
        "operation": o.numero,
        "id": ligne.id,
        "territoire": ligne.territoire,
        "structure": ligne.structure,
        "nom": structure.nom if structure else None,
        "convention": ligne.convention,
        "nature": ligne.nature,
        "etp": ligne.etp,
        "etp_valorises": ligne.etp_valorises,
        "volume": volume.nombre if volume else None,
        "unite": volume.unite if volume else None,
        "debut": periode.debut if periode else None,
        "fin": periode.fin if periode else None,
        "description": ligne.description,
        "montant": ligne.montant,
        "document": ligne.document,
        "budget": o.budget,
    }


def _annexe4(ws: Worksheet, d: Dossier) -> int:
    """Fill the annexe 4 sheet; return its last row (the phase « TOTAL »)."""
    cols = ANNEXE4_COLUMNS
    money = letter(cols, "montant")
    _header(ws, cols)
    row = 2
    for t in d.thematiques:
        t_first = row
        for o in t.operations:
            o_first = row
            for ligne in o.lignes:
                _put(ws, row, cols, _ligne_values(d, t, o, ligne))
                row += 1
            _put(ws, row, cols, {"description": f"{TOTAL} Opération {o.numero}",
                                 "montant": _subtotal(money, o_first, row - 1)}, bold=True)
            row += 1
        _put(ws, row, cols, {"description": f"{TOTAL} Thématique {t.numero}",
                             "montant": _subtotal(money, t_first, row - 1)}, bold=True)
        row += 1
    _put(ws, row, cols, {"description": TOTAL, "montant": _subtotal(money, 2, row - 1)}, bold=True)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{row}"
    return row


def _subtotal(col: str, first: int, last: int) -> str:
    """``SUBTOTAL(9, …)`` over ``first``..``last`` (ignores nested subtotals; 0 over an empty range)."""
    return Formula(f"=SUBTOTAL(9,{col}{first}:{col}{last})" if last >= first else "=0")


def _budget(ws: Worksheet, d: Dossier, figures: Figures, annexe_last: int) -> None:
    """Fill the budget-control sheet: one row per budget line, a total row, red when a solde is negative."""
    cols = BUDGET_COLUMNS
    c = {col.key: letter(cols, col.key) for col in cols}
    sheet = f"'{SHEET_ANNEXE4}'"
    amounts = f"{sheet}!${letter(ANNEXE4_COLUMNS, 'montant')}$2:${letter(ANNEXE4_COLUMNS, 'montant')}${annexe_last}"
    codes = f"{sheet}!${letter(ANNEXE4_COLUMNS, 'budget')}$2:${letter(ANNEXE4_COLUMNS, 'budget')}${annexe_last}"
    _header(ws, cols)
    row = 2
    lines = [b for b in d.budget if b.code is not None and b.code in figures.budget]
    seen: set[str] = set()
    for b in lines:
        if b.code in seen:  # a duplicate code is a finding; the first line counts, as in compute
            continue
        seen.add(b.code)
        _put(ws, row, cols, {
            "code": b.code,
            "imputation": b.imputation,
            "libelle": b.libelle,
            "ae": b.ae,
            "disponible": b.disponible,
            "proposition": Formula(f'=SUMIFS({amounts},{codes},{c["code"]}{row})'),
            "solde": Formula(f"={c['disponible']}{row}-{c['proposition']}{row}"),
            "ajustement": b.ajustement,
            "motif": b.motif,
        })
        row += 1
    last = row - 1
    _put(ws, row, cols, {
        "libelle": TOTAL,
        **{k: Formula(f"=SUM({c[k]}2:{c[k]}{last})" if last >= 2 else "=0")
           for k in ("ae", "disponible", "proposition", "solde")},
    }, bold=True)
    solde = f"{c['solde']}2:{c['solde']}{row}"
    ws.conditional_formatting.add(solde, CellIsRule(operator="lessThan", formula=["0"], fill=RED_FILL,
                                                    font=RED_FONT))
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{row}"
