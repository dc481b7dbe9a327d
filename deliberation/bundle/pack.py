"""The signature pack ``actes.pdf``: every act whose values are complete, one bookmark each.

The acts' own PDFs, as converted for the bundle, put end to end in the register's order
(``bundle/concat.py``: one act in memory at a time, the shared sheet descriptions' fonts and pages
written once); an act printed as a PROJET for a reconstructed text keeps its watermark and its
bookmark says so.
"""

from __future__ import annotations

import datetime as dt

from deliberation.bundle.concat import concatenate
from deliberation.bundle.pdf import remember_pages
from deliberation.render.register import Entry


def signature_pack(entries: list[Entry], pdfs: dict[str, bytes], when: dt.datetime, title: str) -> bytes | None:
    """``actes.pdf``: the complete acts' PDFs with a bookmark per act; None when no act is complete."""
    chosen = [e for e in entries if e.complet and f"{e.document}.pdf" in pdfs]
    if not chosen:
        return None
    inputs = [(pdfs[f"{e.document}.pdf"],
               f"{e.structure} — {e.convention}" + (" (PROJET : texte reconstitué)" if e.projet else ""))
              for e in chosen]
    data, pages = concatenate(inputs, when, title)
    remember_pages(data, pages)  # the manifest counts them without reading 40 MB again
    return data
