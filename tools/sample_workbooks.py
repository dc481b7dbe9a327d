"""Write the sample workbooks of ``import-xlsx`` for the phase 6 example (same dossier, same bytes).

- ``fixtures/xlsx/phase-6-2024-annexe-4.xlsx``: the annexe 4 workbook that ``build`` writes
  (``deliberation.xlsx.export``), from ``fixtures/phase-6-2024``;
- ``fixtures/xlsx/situation-budgetaire.xlsx``: a budget situation as a finance system exports it:
  title rows above the header, its own header names (read through the layout's synonyms), amounts
  as numbers and as French or plain texts, the three budget lines of the phase and a few codes the
  phase does not use. FICTITIOUS: the disponible of C02-428C01 is lowered from 90 500,00 to
  88 000,00 to show an update; the unrelated codes and their amounts are invented.

Run ``python tools/sample_workbooks.py`` from the repository root.
"""

from __future__ import annotations

import io
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.writer.excel import ExcelWriter

from deliberation import pipeline
from deliberation.fsio import build_time, normalise_zip
from deliberation.settings import Settings
from deliberation.xlsx.export import workbook

ROOT = Path(__file__).resolve().parents[1]
DOSSIER = ROOT / "fixtures" / "phase-6-2024"
OUT = ROOT / "fixtures" / "xlsx"
ANNEXE4 = OUT / "phase-6-2024-annexe-4.xlsx"
SITUATION = OUT / "situation-budgetaire.xlsx"

NBSP, NNBSP = "\u00a0", "\u202f"
#: The finance system's headers (synonyms of the layout's budget columns), and one it alone has.
HEADERS = ("Code opé.", "Imputation budgétaire", "Intitulé", "AE votée", "Engagé", "AE disponible")
#: Invented codes the phase does not use: the import ignores and counts them.
UNRELATED = (
    ("C01-444H05", "6568/93444", "Ligne fictive sans rapport avec la phase", 250000, 12000.5, 238000),
    ("C02-446A07", "6568/93446", "Ligne fictive sans rapport avec la phase", "1 200 000,00", 0, "- €"),
    ("C03-512B01", "6574/93512", "Ligne fictive sans rapport avec la phase", 75000, 75000, 0),
)


def situation(dossier, when) -> bytes:
    """The budget-situation workbook: the phase's budget lines (one disponible changed) and unrelated codes."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Situation AE"
    ws["A1"] = "Situation des autorisations d'engagement — exemple FICTIF pour import-xlsx"
    ws["A1"].font = Font(bold=True)
    ws["A2"] = "Extraction construite à partir de fixtures/phase-6-2024/budget.yaml (voir tools/sample_workbooks.py)"
    for c, header in enumerate(HEADERS, 1):
        ws.cell(4, c, header).font = Font(bold=True)
    rows = []
    by_code = {b.code: b for b in dossier.budget}
    a05, h02, c01 = by_code["C02-446A05"], by_code["C01-444H02"], by_code["C02-428C01"]
    rows.append((a05.code, a05.imputation, a05.libelle, float(a05.ae), None,
                 _french(a05.disponible, NBSP) + NBSP + "€"))  # a French text, no-break spaces
    rows.append((h02.code, h02.imputation, h02.libelle, _french(h02.ae, NNBSP), None,
                 f"{h02.disponible:.2f}"))  # narrow no-break spaces; a plain text
    rows.append((c01.code, c01.imputation, c01.libelle, int(c01.ae), None, 88000))  # FICTITIOUS: was 90 500,00
    rows += UNRELATED
    for r, values in enumerate(rows, 5):
        for c, value in enumerate(values, 1):
            if value is not None:
                cell = ws.cell(r, c, value)
                if isinstance(value, (int, float)):
                    cell.number_format = '#,##0.00\\ "€"'
    for letter, width in zip("ABCDEF", (14, 16, 44, 18, 14, 18), strict=True):
        ws.column_dimensions[letter].width = width
    props = wb.properties
    props.creator = props.lastModifiedBy = "deliberation (exemple)"
    props.created = props.modified = when
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()  # Workbook.save would stamp « modified » with the clock
    return normalise_zip(buf.getvalue(), when)


def _french(value: Decimal, sep: str) -> str:
    whole, cents = f"{value:.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return sep.join(groups) + "," + cents


def main() -> int:
    """Write both sample workbooks."""
    checked = pipeline.check(Settings(source=DOSSIER))
    if checked.dossier is None:
        print("fixtures/phase-6-2024 illisible", file=sys.stderr)
        return 1
    when = build_time(checked.dossier.info.seance.date)
    OUT.mkdir(parents=True, exist_ok=True)
    ANNEXE4.write_bytes(workbook(checked.dossier, checked.figures))
    SITUATION.write_bytes(situation(checked.dossier, when))
    for path in (ANNEXE4, SITUATION):
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
