"""The programme's outputs (issue 22): ``programme.xlsx``, ``programme.docx`` and its PDF, as bytes.

The caller (``deliberation ledger``) writes them with the bundle writer; nothing is written here. The
PDF is the report converted by the bundle's LibreOffice converter, its metadata fixed (``normalise_pdf``).
"""

from __future__ import annotations

from pathlib import Path

from deliberation.bundle.pdf import ConvertOptions, convert, normalise_pdf
from deliberation.fsio import build_time
from deliberation.ledger import Ledger
from deliberation.render.programme import programme_report, programme_title
from deliberation.xlsx.programme import PROGRAMME_XLSX, programme_workbook

PROGRAMME_DOCX = "programme.docx"
PROGRAMME_PDF = "programme.pdf"


def programme_pdf(docx: bytes, ledger: Ledger, opts: ConvertOptions | None = None) -> bytes:
    """The report converted to PDF by LibreOffice, dated from the last phase's séance.

    Raises:
        BuildError: LibreOffice is missing or fails on the report.

    """
    raw = convert({PROGRAMME_DOCX: docx}, opts or ConvertOptions(jobs=1))
    return normalise_pdf(raw[PROGRAMME_PDF], programme_time(ledger), programme_title(ledger))


def programme_time(ledger: Ledger):
    """The date stamped into every programme output: ``SOURCE_DATE_EPOCH``, else the last phase's séance."""
    dates = [p.date for p in ledger.phases if p.date is not None]
    return build_time(dates[-1] if dates else None)


def write_programme_outputs(ledger: Ledger, out_dir: str | Path, pdf: bool = True) -> dict[str, bytes]:
    """``programme.xlsx``, ``programme.docx`` and (``pdf``) ``programme.pdf``, by file name, for ``out_dir``.

    Only the bytes are made: the caller writes them (all or nothing) into ``out_dir``. The same ledger gives
    the same bytes.

    Raises:
        BuildError: ``pdf`` and LibreOffice is missing or fails on the report.

    """
    del out_dir  # named by the caller, which writes the files
    when = programme_time(ledger)
    out = {PROGRAMME_XLSX: programme_workbook(ledger, when), PROGRAMME_DOCX: programme_report(ledger, when)}
    if pdf:
        out[PROGRAMME_PDF] = programme_pdf(out[PROGRAMME_DOCX], ledger)
    return out
