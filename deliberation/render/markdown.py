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

from deliberation.findings import BuildError
from deliberation.schema import CONTROL

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


#: List levels the Word templates have a style for (« List Bullet », « List Bullet 2 », « List Bullet 3 »…).
MAX_LIST_LEVELS = 3
_LIST_OPEN = ("bullet_list_open", "ordered_list_open")
_LIST_CLOSE = ("bullet_list_close", "ordered_list_close")
_BLOCK_TEXT = ("code_block", "fence", "html_block")  # written as they are, in a body paragraph
_INLINE_TEXT = ("text", "code_inline", "html_inline", "image")  # written as runs (an image: its alt text)
TOO_DEEP = (f"liste au {MAX_LIST_LEVELS + 1}e niveau d'imbrication : les modèles Word n'ont de style que pour "
            f"{MAX_LIST_LEVELS} niveaux de liste (puces et numéros confondus, citations comprises) ; "
            f"remontez-la d'un niveau")


@dataclass(frozen=True)
class Unrenderable:
    """Something of a Markdown text the Word writer cannot render: finding code, 0-based line in the text, why."""

    code: str
    line: int
    message: str


def unrenderable(text: str) -> list[Unrenderable]:
    """What the Word writer (``add_markdown``, ``wordml.markdown_xml``) cannot render in Markdown ``text``.

    Empty when the text renders. Lists nested deeper than ``MAX_LIST_LEVELS`` (bullets and numbers
    counted together, in quotes too) have no template style; characters XML cannot hold (a control
    character, or an entity such as ``&#12;`` that decodes to one) cannot go into a document. Both
    the ``check`` rules and the avenant clauses use this function, which needs no python-docx.
    """
    out: list[Unrenderable] = []
    depth = 0
    for token in _MD.parse(text):
        t = token.type
        line = token.map[0] if token.map else 0
        if t in _LIST_OPEN:
            depth += 1
            if depth == MAX_LIST_LEVELS + 1:  # once per too deep list, not for the lists inside it
                out.append(Unrenderable("texte.imbrication", line, TOO_DEEP))
        elif t in _LIST_CLOSE:
            depth -= 1
        if t == "inline":
            contents = [c.content for c in token.children or () if c.type in _INLINE_TEXT]
        else:
            contents = [token.content] if t in _BLOCK_TEXT else []
        for content in contents:
            if (m := CONTROL.search(content)) is not None:
                cp = ord(m.group())
                out.append(Unrenderable("texte.controle", line, (
                    f"caractère interdit dans le texte : U+{cp:04X} (caractère de contrôle ou non admis dans un "
                    f"document Word), écrit tel quel ou en entité comme « &#{cp}; »")))
                break
    return out


def list_style(kind: str, level: int) -> str:
    """The paragraph style of a list item: ``kind`` (« List Bullet », « List Number ») at ``level`` (1-based).

    Raises:
        BuildError: a level the templates have no style for (``unrenderable`` reports it at ``check``).

    """
    if level > MAX_LIST_LEVELS:
        raise BuildError(f"texte Markdown : {TOO_DEEP}")
    return kind + (f" {level}" if level > 1 else "")


def sheet_sections(body: str) -> list[tuple[str, str, int]]:
    """The ``## heading`` sections of a dispositif sheet: heading, Markdown text, 0-based line of the text in ``body``.

    Text before the first heading is not shown; the sheet's ``corps_ligne`` plus the line is the file's line.
    """
    out: list[tuple[str, list[tuple[str, int]]]] = []
    newlines = 0
    for raw, line in zip(body.splitlines(keepends=True), body.splitlines(), strict=True):
        if line.startswith("## "):
            out.append((line[3:].strip(), []))
        elif out:
            out[-1][1].append((line, newlines))
        newlines += raw.count("\n")
    sections = []
    for heading, lines in out:
        text = "\n".join(line for line, _ in lines).strip()
        first = next((n for line, n in lines if line.strip()), 0)
        sections.append((heading, text, first))
    return sections


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
        elif t in _INLINE_TEXT:
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
        elif t in _LIST_CLOSE:
            lists.pop()
        elif t == "heading_open":
            heading = True
        elif t == "heading_close":
            heading = None
        elif t == "inline":
            style = list_style(lists[-1], len(lists)) if lists else body_style
            p = _styled_paragraph(doc, style)
            _add_inline(p, token)
            if heading:
                for run in p.runs:
                    run.bold = True
        elif t in _BLOCK_TEXT:
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
