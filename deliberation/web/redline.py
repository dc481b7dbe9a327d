"""A Word document with tracked changes (``revisions/…``) as HTML paragraphs: insertions and deletions marked."""

from __future__ import annotations

import io
import zipfile

from lxml import etree
from markupsafe import Markup, escape

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def tracked_html(docx: bytes, limit: int = 400) -> tuple[Markup, int]:
    """The body's paragraphs (tables flattened, row by row) with ``<ins>``/``<del>``; and the number of marks.

    Only paragraphs holding a change and their neighbours are kept, at most ``limit`` paragraphs.
    """
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        root = etree.fromstring(z.read("word/document.xml"), etree.XMLParser(resolve_entities=False))
    paragraphs: list[tuple[str, bool]] = []
    marks = 0
    for p in root.iter(f"{W}p"):
        parts, changed = [], False
        for el in p.iter(f"{W}t", f"{W}delText"):
            kind = next((a.tag for a in el.iterancestors(f"{W}ins", f"{W}del")), None)
            text = escape(el.text or "")
            if kind == f"{W}ins":
                parts.append(f"<ins>{text}</ins>")
                changed = True
            elif kind == f"{W}del":
                parts.append(f"<del>{text}</del>")
                changed = True
            else:
                parts.append(str(text))
        if p.find(f"{W}pPr/{W}rPr/{W}ins") is not None or p.find(f"{W}pPr/{W}rPr/{W}del") is not None:
            changed = True
        marks += changed
        html = "".join(parts).strip()
        if html:
            paragraphs.append((html, changed))
    keep = set()
    for i, (_, changed) in enumerate(paragraphs):
        if changed:
            keep.update(range(max(0, i - 1), i + 2))
    out = []
    last = -2
    for i in sorted(keep)[:limit]:
        if i != last + 1:
            out.append('<p class="gap">…</p>')
        cls = ' class="changed"' if paragraphs[i][1] else ""
        out.append(f"<p{cls}>{paragraphs[i][0]}</p>")
        last = i
    return Markup("\n".join(out)), marks
