"""Markdown narratives → Word paragraphs (markdown-it-py), in the document's own styles.

Narratives are data: raw HTML is shown as text, never interpreted, and the only
substitution is the fixed vocabulary of computed figures written ``[[montant]]``,
``[[structures]]``… (see ``PLACEHOLDERS``), never template code.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass

from markdown_it import MarkdownIt

#: Figures a narrative may cite by name; each comes from ``compute`` for the narrative's scope.
PLACEHOLDERS = {
    "montant": "total de l'opération ou de la thématique (712 000 €)",
    "montant_centimes": "le même total avec les centimes (712 000,00 €)",
    "structures": "nombre de structures",
    "lignes": "nombre de lignes",
    "dispositifs": "nombre de dispositifs (thématique)",
    "etp": "total des ETP (2,38)",
    "diagnostics": "total des diagnostics",
    "places": "total des places",
    "participants": "total des participants",
    "familles": "total des familles",
    "personnes": "total des personnes",
    "jeunes": "total des jeunes",
    "periode": "période couverte (du 1er janvier 2025 au 31 décembre 2025)",
    "debut": "premier jour (1er janvier 2025)",
    "fin": "dernier jour (31 décembre 2025)",
}
PLACEHOLDER = re.compile(r"\[\[\s*([a-z_]+)\s*\]\]")

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


@dataclass(frozen=True)
class MarkdownText:
    """A narrative to render as Word paragraphs (a context value, converted by the renderer)."""

    text: str


@dataclass(frozen=True)
class SheetTable:
    """An annex sheet as a two-column table: (heading, Markdown content) rows."""

    rows: tuple


def unknown_placeholders(text: str) -> list[str]:
    """Placeholder names in ``text`` that are not in the vocabulary."""
    return [m.group(1) for m in PLACEHOLDER.finditer(text) if m.group(1) not in PLACEHOLDERS]


def expand(text: str, values: dict[str, str]) -> str:
    """Replace ``[[name]]`` by its computed, formatted value (names missing stay visible)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


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
        elif t in ("text", "code_inline", "html_inline", "image"):  # an image: its alt text
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
    p = doc.add_paragraph()
    if style is not None:
        ids = _STYLE_IDS.setdefault(doc.part, {})
        if style not in ids:
            from docx.enum.style import WD_STYLE_TYPE  # python-docx only when rendering, not for `check`

            ids[style] = doc.part.get_style_id(style, WD_STYLE_TYPE.PARAGRAPH)
        p._p.style = ids[style]
    return p


def add_markdown(doc, text: str, body_style: str | None = None) -> None:
    """Append the paragraphs of Markdown ``text`` to a python-docx document or subdocument."""
    lists: list[str] = []
    heading = None
    for token in _MD.parse(text):
        t = token.type
        if t == "bullet_list_open":
            lists.append("List Bullet")
        elif t == "ordered_list_open":
            lists.append("List Number")
        elif t in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif t == "heading_open":
            heading = True
        elif t == "heading_close":
            heading = None
        elif t == "inline":
            if lists:
                level = len(lists)
                style = lists[-1] + (f" {level}" if level > 1 else "")
            else:
                style = body_style
            p = _styled_paragraph(doc, style)
            _add_inline(p, token)
            if heading:
                for run in p.runs:
                    run.bold = True
        elif t in ("code_block", "fence", "html_block"):
            p = _styled_paragraph(doc, body_style)
            if token.content.rstrip("\n"):
                p.add_run(token.content.rstrip("\n"))


def _drop_first_empty(cell) -> None:
    first = cell.paragraphs[0]
    if not first.text and len(cell.paragraphs) > 1:
        first._p.getparent().remove(first._p)


def add_sheet_table(doc, rows) -> None:
    """Append an annex sheet as the seed's two-column table (heading | content) to a document."""
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
