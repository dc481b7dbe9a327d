"""« Keep with next » as Word keeps it: a heading never ends a page in the PDF.

The templates' headings (« Article 3 : Coût de l'opération ») are paragraphs kept with the next one.
LibreOffice (7.4) sometimes lays such a paragraph at the foot of a page all the same, the paragraph it
announces on the next page, depending on what follows much further in the document (a
description page added to a sheet was enough to change the first page of an avenant model). Word does
not; the print check reports it (``impression.titre_orphelin``).

So each copy handed to LibreOffice carries a bookmark at every body paragraph kept with the next one
and at the paragraph after it; LibreOffice exports them as named destinations. A kept paragraph on an
earlier page than the paragraph after it is a broken chain: the copy is converted again with a page
break before the chain's first paragraph on that page (at most twice). The DOCX written to the bundle
is never changed; Word lays it out as the PDF shows it.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile

from lxml import etree

from deliberation.bundle.pdf import converter_id, named_destinations
from deliberation.engine import engine_sha
from deliberation.fsio import cache_dir, cache_get, cache_put
from deliberation.render.watermark import zip_replacing

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#: Bookmark names: ``dlbk<n>a`` at the kept paragraph, ``dlbk<n>b`` at the one after it.
MARK = "dlbk"
_MARK = re.compile(rf"{MARK}(\d+)([ab])$")
#: Conversions of a copy, at most (a page break moves what follows: a chain further on may break then).
ROUNDS = 3


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


def _kept(el: etree._Element) -> bool:
    if el.tag != _w("p"):
        return False
    keep = el.find(f"{_w('pPr')}/{_w('keepNext')}")
    return keep is not None and keep.get(_w("val")) not in ("0", "false")


def _first_paragraph(el: etree._Element) -> etree._Element | None:
    return el if el.tag == _w("p") else next(el.iter(_w("p")), None)


def add_bookmark(paragraph: etree._Element, name: str, ident: int) -> None:
    """A bookmark ``name`` spanning nothing, at the start of ``paragraph`` (after its properties)."""
    at = 1 if len(paragraph) and paragraph[0].tag == _w("pPr") else 0
    end = etree.Element(_w("bookmarkEnd"))
    end.set(_w("id"), str(ident))
    start = etree.Element(_w("bookmarkStart"))
    start.set(_w("id"), str(ident))
    start.set(_w("name"), name)
    paragraph.insert(at, end)
    paragraph.insert(at, start)


def _document(docx: bytes) -> tuple[list[zipfile.ZipInfo], etree._Element] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(docx)) as z:
            return z.infolist(), etree.fromstring(z.read("word/document.xml"))
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError):
        return None


def _rewrite(docx: bytes, infos, root: etree._Element) -> bytes:
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return zip_replacing(docx, infos, {"word/document.xml": xml})


def with_keep_marks(docx: bytes, breaks: frozenset[int] = frozenset()) -> bytes:
    """The copy to convert: bookmarks at each kept body paragraph and at the one after it.

    A page break goes before each body element numbered in ``breaks``. Itself if nothing is kept.
    """
    read = _document(docx)
    if read is None:
        return docx
    infos, root = read
    return _rewrite(docx, infos, root) if mark_body(root, breaks) else docx


def mark_body(root: etree._Element, breaks: frozenset[int] = frozenset()) -> bool:
    """``with_keep_marks`` on a parsed document.xml (changed in place); True if anything was added."""
    body = root.find(_w("body"))
    children = list(body)
    changed = False
    for i, el in enumerate(children):
        if i in breaks and el.tag == _w("p"):
            ppr = el.find(_w("pPr"))
            if ppr is None:
                ppr = etree.Element(_w("pPr"))
                el.insert(0, ppr)
            if ppr.find(_w("pageBreakBefore")) is None:
                at = sum(1 for c in ppr if etree.QName(c).localname in ("pStyle", "keepNext", "keepLines"))
                ppr.insert(at, etree.Element(_w("pageBreakBefore")))
            changed = True
        if _kept(el) and i + 1 < len(children):
            after = _first_paragraph(children[i + 1])
            if after is None:
                continue
            add_bookmark(el, f"{MARK}{i}a", 800_000 + 2 * i)
            add_bookmark(after, f"{MARK}{i}b", 800_001 + 2 * i)
            changed = True
    return changed


def broken(pdf: bytes) -> list[int]:
    """The body elements to put on a new page: the first of each broken chain's paragraphs on its page."""
    pages: dict[tuple[int, str], int] = {}
    for name, (page, _, _) in named_destinations(pdf).items():
        m = _MARK.match(name)
        if m:
            pages[(int(m.group(1)), m.group(2))] = page
    out = []
    for (i, side), page in sorted(pages.items()):
        if side != "a" or pages.get((i, "b"), page) <= page:
            continue
        start = i  # back along the chain while it stays on that page
        while (start - 1, "a") in pages and pages[(start - 1, "a")] == page and pages.get((start - 1, "b")) == page:
            start -= 1
        out.append(start)  # (a chain that starts its page stays there: LibreOffice adds no empty page)
    return sorted(set(out))


def _memory_key(docx: bytes) -> str:
    return hashlib.sha256(b"keep\0" + f"{engine_sha()}\0{converter_id()}\0".encode() + docx).hexdigest()


def remembered(docs: dict[str, bytes]) -> tuple[dict[str, bytes], dict[str, frozenset[int]]]:
    """``docs`` with the page breaks an earlier build found each copy needs already in; and those breaks.

    The same copy and the same LibreOffice lay out the same pages: the breaks found after converting
    a copy (``keep_together``) are kept in the parse cache under its bytes, so that a build of the same
    copy converts it once, not twice. The PDF is the one the second conversion gave.
    """
    if cache_dir() is None:
        return docs, {}
    out, found = dict(docs), {}
    for name, docx in docs.items():
        hit = cache_get(_memory_key(docx))
        if isinstance(hit, frozenset) and hit:
            found[name] = hit
            out[name] = with_keep_marks(_unmarked_source(docx), hit)
    return out, found


def remember(docs: dict[str, bytes], breaks: dict[str, frozenset[int]]) -> None:
    """Keep the ``breaks`` found for the copies ``docs`` (as first handed, before ``remembered``)."""
    for name, found in breaks.items():
        if name in docs:
            cache_put(_memory_key(docs[name]), found)


def keep_together(docs: dict[str, bytes], raw: dict[str, bytes], convert,
                  breaks: dict[str, frozenset[int]] | None = None,
                  ) -> tuple[dict[str, bytes], dict[str, frozenset[int]]]:
    """``raw`` (PDF by name) with the copies whose chains broke converted again, page breaks added.

    ``docs`` are the copies converted (``with_keep_marks``), ``convert`` converts a dict of them; ``breaks``:
    those already in some copies (``remembered``). Returns the PDFs and the breaks of each document moved on.
    """
    raw = dict(raw)
    breaks = dict(breaks or {})
    for _ in range(ROUNDS - 1):
        todo = {}
        for name, docx in docs.items():
            pdf_name = name[:-5] + ".pdf"
            found = broken(raw[pdf_name]) if pdf_name in raw else []
            if found:
                breaks[name] = breaks.get(name, frozenset()) | frozenset(found)
                todo[name] = with_keep_marks(_unmarked_source(docx), breaks[name])
        if not todo:
            break
        raw.update(convert(todo))
    return raw, breaks


def _unmarked_source(docx: bytes) -> bytes:
    """The copy without this module's bookmarks (``with_keep_marks`` adds them again with its page breaks)."""
    read = _document(docx)
    if read is None:
        return docx
    infos, root = read
    names = {b.get(_w("id")) for b in root.iter(_w("bookmarkStart")) if (b.get(_w("name")) or "").startswith(MARK)}
    if not names:
        return docx
    for el in list(root.iter(_w("bookmarkStart"), _w("bookmarkEnd"))):
        if el.get(_w("id")) in names:
            el.getparent().remove(el)
    return _rewrite(docx, infos, root)


__all__ = ["add_bookmark", "broken", "keep_together", "mark_body", "remember", "remembered", "with_keep_marks"]
