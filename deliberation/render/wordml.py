"""Markdown → WordprocessingML as text: the XML ``markdown.add_markdown`` builds, written directly.

python-docx builds each paragraph and run through its object layer (a fraction of a millisecond per
element); a 500-avenant phase has tens of thousands of them, mostly in annex sheets whose values
differ per structure. This module writes the same elements as strings. ``add_markdown`` and
``add_sheet_table`` stay the reference: the tests check that both give the same XML, element for
element, on the fixtures and on generated texts.
"""

from __future__ import annotations

from collections.abc import Callable
from xml.sax.saxutils import escape

from deliberation.render.markdown import bookmark_id, continue_style, list_style
from deliberation.text import BLOCK_TEXT, INLINE_TEXT, LIST_CLOSE, MD

_PRESERVE = ' xml:space="preserve"'


def _text_runs(text: str, rpr: str) -> str:
    """A run of ``text`` as python-docx writes it: tabs and line breaks become their own elements."""
    out, buf = [], []

    def flush():
        if buf:
            t = "".join(buf)
            space = _PRESERVE if len(t.strip()) < len(t) else ""
            out.append(f"<w:t{space}>{escape(t)}</w:t>")
            buf.clear()

    for ch in text:
        if ch == "\t":
            flush()
            out.append("<w:tab/>")
        elif ch in "\r\n":
            flush()
            out.append("<w:br/>")
        else:
            buf.append(ch)
    flush()
    return f"<w:r>{rpr}{''.join(out)}</w:r>"


def _rpr(bold: bool, italic: bool) -> str:
    inner = ("<w:b/>" if bold else "") + ("<w:i/>" if italic else "")
    return f"<w:rPr>{inner}</w:rPr>" if inner else "<w:rPr/>"


def _inline(token, heading: bool) -> str:
    """The runs of one inline token (bold, italic, soft and hard breaks)."""
    bold = italic = False
    runs = []
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
        elif t in INLINE_TEXT:  # an image: its alt text
            if child.content:
                runs.append(_text_runs(child.content, _rpr(bold or heading, italic)))
            else:
                runs.append(f"<w:r>{_rpr(bold or heading, italic)}</w:r>")
        elif t == "softbreak":
            runs.append(_text_runs(" ", "<w:rPr><w:b/></w:rPr>" if heading else ""))
        elif t == "hardbreak":
            runs.append(f"<w:r>{'<w:rPr><w:b/></w:rPr>' if heading else ''}<w:br/></w:r>")
    return "".join(runs)


_NO_STYLE = object()


def _p(style_id, runs: str) -> str:
    """A paragraph; a style that resolves to the default one leaves an empty ``w:pPr``, as python-docx does."""
    if style_id is _NO_STYLE:
        ppr = ""
    elif style_id is None:
        ppr = "<w:pPr/>"
    else:
        ppr = f'<w:pPr><w:pStyle w:val="{escape(style_id)}"/></w:pPr>'
    return f"<w:p>{ppr}{runs}</w:p>" if ppr or runs else "<w:p/>"


def markdown_xml(text: str, style_id: Callable[[str | None], str | None], body_style: str | None = None) -> list[str]:
    """The paragraphs of Markdown ``text``, as ``add_markdown`` writes them (one string each)."""
    lists: list[str] = []
    first: list[bool] = []  # per open list item: its first paragraph is still to come
    heading = False
    out = []
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
            heading = False
        elif t == "inline":
            style = list_style(lists[-1], len(lists)) if lists else body_style
            sid = style_id(style) if style is not None else _NO_STYLE
            if lists and first and not first[-1]:
                try:
                    sid = style_id(continue_style(len(lists)))
                except KeyError:  # a template without the style: numbered like the item
                    pass
            if first:
                first[-1] = False
            out.append(_p(sid, _inline(token, heading)))
        elif t in BLOCK_TEXT:
            content = token.content.rstrip("\n")
            runs = _text_runs(content, "") if content else ""
            out.append(_p(style_id(body_style) if body_style is not None else _NO_STYLE, runs))
    return out


class SheetSkeleton:
    """The fixed parts of a two-column annex-sheet table, as python-docx makes them in a given document."""

    def __init__(self, tbl_open: str, cell_open: tuple[str, str]):
        self.tbl_open = tbl_open  # <w:tbl><w:tblPr>…</w:tblPr><w:tblGrid>…</w:tblGrid>
        self.cell_open = cell_open  # <w:tc><w:tcPr>…</w:tcPr> for each column


def sheet_table_xml(rows, skeleton: SheetSkeleton, style_id: Callable[[str | None], str | None],
                    mark: str = "") -> str:
    """An annex sheet as ``add_sheet_table`` writes it: bold heading | Markdown content, per row."""
    out = [skeleton.tbl_open]
    for i, (heading, text) in enumerate(rows):
        runs = _text_runs(heading, "<w:rPr><w:b/></w:rPr>")
        if mark and i == 0:
            ident = bookmark_id(mark)
            runs = f'<w:bookmarkStart w:id="{ident}" w:name="{escape(mark)}"/><w:bookmarkEnd w:id="{ident}"/>' + runs
        head = _p(_NO_STYLE, runs)
        body = markdown_xml(text, style_id)
        if not body:
            body = ["<w:p/>"]
        out.append(f"<w:tr>{skeleton.cell_open[0]}{head}</w:tc>{skeleton.cell_open[1]}{''.join(body)}</w:tc></w:tr>")
    out.append("</w:tbl>")
    return "".join(out)
