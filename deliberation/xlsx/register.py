"""The register of acts as a workbook (``actes/registre.xlsx``): one row per act, filter, frozen header.

Amounts are numbers in the French money format; texts are written as text cells only (never a formula).
Dated from the séance, the zip rewritten with fixed timestamps: the same register, the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from openpyxl import Workbook
from openpyxl.styles import Alignment, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from deliberation.fsio import normalise_zip
from deliberation.render.register import COLUMNS, Entry
from deliberation.xlsx.export import BOLD, RED_FONT

#: Column widths (characters), in the order of ``COLUMNS``.
WIDTHS = (5, 40, 42, 28, 26, 34, 50, 16, 16)
MONEY = '#,##0.00\\ "€"'
PROJET_FILL = PatternFill(start_color="FFFFF2CC", end_color="FFFFF2CC", fill_type="solid")


def _text(value: str) -> str:
    """A text cell that no spreadsheet reads as a formula."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def register_workbook(entries: list[Entry], title: str, when: dt.datetime) -> bytes:
    """``actes/registre.xlsx``: the register's rows under a header, with a filter on every column."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Registre des actes"
    for i, (header, width) in enumerate(zip(COLUMNS, WIDTHS, strict=True), 1):
        cell = ws.cell(row=1, column=i, value=header)
        cell.font = BOLD
        ws.column_dimensions[get_column_letter(i)].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    for r, e in enumerate(entries, 2):
        values = (e.numero, _text(e.structure), _text(e.convention), _text(e.modele), e.conformite, e.statut_detail,
                  _text("\n".join(e.manquants)), e.montant, _text(", ".join(e.lignes_budgetaires)))
        for c, value in enumerate(values, 1):
            cell = ws.cell(row=r, column=c, value=value)
            cell.alignment = wrap
            if isinstance(value, str):
                cell.data_type = "s"
        ws.cell(row=r, column=8).number_format = MONEY
        if e.projet:
            ws.cell(row=r, column=6).fill = PROJET_FILL
        if e.conforme is False:
            ws.cell(row=r, column=5).font = RED_FONT
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(1, len(entries) + 1)}"
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    props = wb.properties
    props.creator = props.lastModifiedBy = "deliberation"
    props.title = title
    props.created = props.modified = when
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    return normalise_zip(buf.getvalue(), when)

