"""The bundle as paper, drafts that cannot be mistaken for final acts (issue 19).

Page numbers of the dossier printed on every page and equal to the sommaire's and to the page labels,
bookmarks pointing at the document they name, a cover title that breaks no word or number, footers in
one type, a diagonal « PROJET » on every page of a draft, no internal key in any printed text.
"""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter

from deliberation.bundle.publish import NUMBER_BOTTOM, NUMBER_RIGHT, number_pages

# ---------------------------------------------------------------------------
# 1. page numbers of the dossier (no LibreOffice: pages made here)


def _numbered(sizes: list[tuple[float, float, int]]) -> PdfReader:
    writer = PdfWriter()
    for width, height, turn in sizes:
        page = writer.add_blank_page(width, height)
        if turn:
            page.rotate(turn)
    number_pages(writer)
    buf = io.BytesIO()
    writer.write(buf)
    return PdfReader(io.BytesIO(buf.getvalue()))


def _number_place(page) -> tuple[str, float, float]:
    """The number printed on ``page`` and where it starts, in the coordinates of the page as displayed."""
    found = []

    def visit(text, cm, tm, *_):
        if text.strip():
            # the text matrix applied to the current transformation: user space (PDF: row vectors)
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found.append((text.strip(), x, y))

    page.extract_text(visitor_text=visit)
    assert len(found) == 1, found
    text, x, y = found[0]
    w, h = float(page.mediabox.width), float(page.mediabox.height)
    turn = page.rotation % 360
    dx, dy = {0: (x, y), 90: (y, w - x), 180: (w - x, h - y), 270: (h - y, x)}[turn]
    return text, dx, dy


def test_every_page_prints_its_number_in_the_bottom_right_corner_as_displayed():
    a4 = (595.3, 841.9)
    reader = _numbered([(*a4, 0), (a4[1], a4[0], 0), (*a4, 90), (*a4, 180), (*a4, 270)])
    for n, page in enumerate(reader.pages, 1):
        text, dx, dy = _number_place(page)
        assert text == f"{n}/5"
        shown_width = float(page.mediabox.height if page.rotation % 180 else page.mediabox.width)
        assert shown_width - NUMBER_RIGHT - 20 < dx < shown_width - NUMBER_RIGHT, (n, page.rotation, dx)
        assert abs(dy - NUMBER_BOTTOM) < 0.5, (n, page.rotation, dy)


def test_numbering_is_deterministic():
    sizes = [(595.3, 841.9, 0)] * 3
    first, second = io.BytesIO(), io.BytesIO()
    for buf in (first, second):
        writer = PdfWriter()
        for w, h, _ in sizes:
            writer.add_blank_page(w, h)
        number_pages(writer)
        writer._ID = None
        writer.write(buf)
    assert first.getvalue() == second.getvalue()
