"""Markdown narratives → Word paragraphs (markdown-it-py), in the document's own styles.

Narratives are data: raw HTML is shown as text, never interpreted, and the only
substitution is the fixed vocabulary of computed figures written ``[[montant]]``,
``[[structures]]``… (see ``text.PLACEHOLDERS``), never template code. What the writer cannot
render is told by ``text.unrenderable``, which ``check`` runs without python-docx.
"""

from __future__ import annotations

import weakref
import zlib
from dataclasses import dataclass

from docx.enum.style import WD_STYLE_TYPE

from deliberation.findings import BuildError
from deliberation.text import BLOCK_TEXT, INLINE_TEXT, LIST_CLOSE, MAX_LIST_LEVELS, MD, TOO_DEEP


@dataclass(frozen=True)
class MarkdownText:
    """A narrative to render as Word paragraphs (a context value, converted by the renderer)."""

    text: str


#: Start of the hidden bookmark marking a sheet's description, the same in every act that joins it
#: (``bundle/parts.py`` converts the page segment holding it once).
FICHE_MARK = "_DlbFiche"


@dataclass(frozen=True)
class SheetTable:
    """An annex sheet as a two-column table: (heading, Markdown content) rows.

    ``mark``: the name of a hidden bookmark (``_…``, which Word does not list) at the table's start,
    telling the PDF conversion that the page segment holding it is the same in every act showing it.
    """

    rows: tuple
    mark: str = ""


def bookmark_id(name: str) -> str:
    """The id of the bookmark ``name``: one per name, away from the small numbers Word gives its own."""
    return str(zlib.crc32(name.encode()) % 1_000_000 + 1_000_000)


def _bookmark(paragraph, name: str) -> None:
    """A bookmark ``name`` spanning nothing, at the start of ``paragraph`` (after its properties)."""
    from docx.oxml.ns import qn
    from docx.oxml.parser import OxmlElement

    start, end = OxmlElement("w:bookmarkStart"), OxmlElement("w:bookmarkEnd")
    ident = bookmark_id(name)
    start.set(qn("w:id"), ident)
    start.set(qn("w:name"), name)
    end.set(qn("w:id"), ident)
    at = 1 if len(paragraph) and paragraph[0].tag == qn("w:pPr") else 0
    paragraph.insert(at, end)
    paragraph.insert(at, start)


def list_style(kind: str, level: int) -> str:
    """The paragraph style of a list item: ``kind`` (« List Bullet », « List Number ») at ``level`` (1-based).

    Raises:
        BuildError: a level the templates have no style for (``text.unrenderable`` reports it at ``check``).

    """
    if level > MAX_LIST_LEVELS:
        raise BuildError(f"texte Markdown : {TOO_DEEP}")
    return kind + (f" {level}" if level > 1 else "")


def continue_style(level: int) -> str:
    """The style of a list item's second and later paragraphs: indented with the item, not numbered."""
    return "List Continue" + (f" {level}" if level > 1 else "")


def _add_inline(paragraph, token) -> None:
    bold = italic = False
    for child in token.children or []:
        t = child.type
        if t == "strong_open":
            bold = True
        elif t == "strong_close":
            bold = False
        elif t == "em_open":
            italic = True
        elif t == "em_close":
            italic = False
        elif t in INLINE_TEXT:
            run = paragraph.add_run(child.content)
            run.bold = bold or None
            run.italic = italic or None
        elif t == "softbreak":
            paragraph.add_run(" ")
        elif t == "hardbreak":
            paragraph.add_run().add_break()


_STYLE_IDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _styled_paragraph(doc, style: str | None):
    """``doc.add_paragraph(style=style)``, with the style id looked up once per document part.

    python-docx resolves a style name by scanning every style of the template (about 1 ms each).
    """
    if style is not None:
        ids = _STYLE_IDS.setdefault(doc.part, {})
        if style not in ids:
            ids[style] = doc.part.get_style_id(style, WD_STYLE_TYPE.PARAGRAPH)  # KeyError: no such style
    p = doc.add_paragraph()
    if style is not None:
        p._p.style = ids[style]
    return p


def add_markdown(doc, text: str, body_style: str | None = None) -> None:
    """Append the paragraphs of Markdown ``text`` to a python-docx document or subdocument."""
    lists: list[str] = []
    first: list[bool] = []  # per open list item: its first paragraph is still to come
    heading = None
    for token in MD.parse(text):
        t = token.type
        if t == "list_item_open":
            first.append(True)
        elif t == "list_item_close":
            first.pop()
        elif t == "bullet_list_open":
            lists.append("List Bullet")
        elif t == "ordered_list_open":
            lists.append("List Number")
        elif t in LIST_CLOSE:
            lists.pop()
        elif t == "heading_open":
            heading = True
        elif t == "heading_close":
            heading = None
        elif t == "inline":
            style = list_style(lists[-1], len(lists)) if lists else body_style
            if lists and first and not first[-1]:
                try:
                    p = _styled_paragraph(doc, continue_style(len(lists)))
                except KeyError:  # a template without the style: numbered like the item
                    p = _styled_paragraph(doc, style)
            else:
                p = _styled_paragraph(doc, style)
            if first:
                first[-1] = False
            _add_inline(p, token)
            if heading:
                for run in p.runs:
                    run.bold = True
        elif t in BLOCK_TEXT:
            p = _styled_paragraph(doc, body_style)
            if token.content.rstrip("\n"):
                p.add_run(token.content.rstrip("\n"))


def _drop_first_empty(cell) -> None:
    first = cell.paragraphs[0]
    if not first.text and len(cell.paragraphs) > 1:
        first._p.getparent().remove(first._p)


def add_sheet_table(doc, rows, mark: str = "") -> None:
    """Append an annex sheet as the seed's two-column table (heading | content) to a document.

    ``mark``: a hidden bookmark of that name in the first cell (``SheetTable.mark``).
    """
    table = doc.add_table(rows=len(rows), cols=2)
    try:
        table.style = "Table Grid"
    except KeyError:  # a template without the style keeps the default table look
        pass
    for row, (heading, text) in zip(table.rows, rows, strict=True):
        head, body = row.cells
        run = head.paragraphs[0].add_run(heading)
        run.bold = True
        add_markdown(body, text)
        _drop_first_empty(body)
    if mark and rows:
        _bookmark(table.rows[0].cells[0].paragraphs[0]._p, mark)
