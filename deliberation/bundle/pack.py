"""The signature pack ``actes.pdf``: every act whose values are complete, one bookmark each.

The acts' own PDFs, as converted for the bundle, merged in the register's order; an act printed as a
PROJET for a reconstructed text keeps its watermark and its bookmark says so.
"""

from __future__ import annotations

import datetime as dt
import io

from deliberation.bundle.pdf import finish
from deliberation.render.register import Entry


def signature_pack(entries: list[Entry], pdfs: dict[str, bytes], when: dt.datetime, title: str) -> bytes | None:
    """``actes.pdf``: the complete acts' PDFs with a bookmark per act; None when no act is complete."""
    from pypdf import PdfReader, PdfWriter

    chosen = [e for e in entries if e.complet and f"{e.document}.pdf" in pdfs]
    if not chosen:
        return None
    writer = PdfWriter()
    for e in chosen:
        start = len(writer.pages)
        writer.append(PdfReader(io.BytesIO(pdfs[f"{e.document}.pdf"])), import_outline=False)
        label = f"{e.structure} — {e.convention}" + (" (PROJET : texte reconstitué)" if e.projet else "")
        writer.add_outline_item(title=label, page_number=start)
    return finish(writer, when, title)  # made reproducible as it is, not written and read again
