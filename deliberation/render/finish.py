"""The last pass on every rendered part of a Word document: French typography, then page layout.

Every document the engine writes passes here (``compiled.Renderer``), its body and each header and
footer, whatever the text came from: the template, a dossier value, a Markdown narrative or a sheet.

- ``typeset``: ``deliberation.typo`` on each paragraph's text, run by run; ordinal letters raised.
- ``lay_out`` (body only): headings and « Article N : » kept with what follows, signature blocks and the
  vote kept on one page, table rows that never split, header rows repeated, blanks highlighted.
"""

from __future__ import annotations

import copy

from lxml import etree

from deliberation.typo import typeset_runs

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_P, _R, _T, _RPR = f"{{{W}}}p", f"{{{W}}}r", f"{{{W}}}t", f"{{{W}}}rPr"
_VAL = f"{{{W}}}val"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
#: ``w:rPr`` children that come after ``w:vertAlign`` / ``w:highlight`` in the schema's sequence.
_AFTER_VERTALIGN = {f"{{{W}}}{n}" for n in ("rtl", "cs", "em", "lang", "eastAsianLayout", "specVanish", "oMath")}
_AFTER_HIGHLIGHT = {f"{{{W}}}{n}" for n in ("u", "effect", "bdr", "shd", "fitText", "vertAlign")} | _AFTER_VERTALIGN


def _paragraph_of(el):
    while el is not None and el.tag != _P:
        el = el.getparent()
    return el


def _texts_by_paragraph(root) -> dict:
    groups: dict = {}
    for t in root.iter(_T):
        p = _paragraph_of(t)
        if p is not None:
            groups.setdefault(p, []).append(t)
    return groups


def set_rpr(rpr, tag: str, value: str, after: set[str]) -> None:
    """Set ``<w:tag w:val=value/>`` in a run's properties, at its place in the schema's order."""
    name = f"{{{W}}}{tag}"
    for old in rpr.findall(name):
        rpr.remove(old)
    el = rpr.makeelement(name, {_VAL: value})
    for i, child in enumerate(rpr):
        if child.tag in after:
            rpr.insert(i, el)
            return
    rpr.append(el)


def _run_like(r, rpr, children, raised: bool = False):
    new = r.makeelement(_R, {})
    props = copy.deepcopy(rpr) if rpr is not None else None
    if raised:
        props = props if props is not None else new.makeelement(_RPR, {})
        set_rpr(props, "vertAlign", "superscript", _AFTER_VERTALIGN)
    if props is not None:
        new.append(props)
    new.extend(children)
    return new


def _text(r, value: str):
    t = r.makeelement(_T, {})
    t.text = value
    if value != value.strip() or "  " in value:
        t.set(_XML_SPACE, "preserve")
    return t


def _set_text(t, value: str) -> None:
    t.text = value
    if value != value.strip():
        t.set(_XML_SPACE, "preserve")


def _raise_letters(t, segments: list[tuple[str, bool]]) -> None:
    """Replace the run holding ``t`` by runs of its segments, the raised ones in superscript."""
    r = t.getparent()
    if r is None or r.tag != _R:
        _set_text(t, "".join(s for s, _ in segments))
        return
    rpr = r.find(_RPR)
    content = [c for c in r if c.tag != _RPR]
    k = content.index(t)
    before, after = content[:k], content[k + 1:]
    runs = []
    if before:
        runs.append(_run_like(r, rpr, before))
    for value, raised in segments:
        runs.append(_run_like(r, rpr, [_text(r, value)], raised))
    if after:
        runs.append(_run_like(r, rpr, after))
    parent = r.getparent()
    i = parent.index(r)
    parent.remove(r)
    for j, run in enumerate(runs):
        parent.insert(i + j, run)


def typeset(root) -> None:
    """French typography on every paragraph under ``root`` (a body, header or footer element)."""
    for texts in _texts_by_paragraph(root).values():
        pieces = [t.text or "" for t in texts]
        result = typeset_runs(pieces)
        for t, piece, segments in zip(texts, pieces, result, strict=True):
            if any(raised for _, raised in segments):
                _raise_letters(t, segments)
                continue
            value = "".join(s for s, _ in segments)
            if value != piece:
                _set_text(t, value)


def parse(xml: bytes):
    """Parse a rendered part (no entity, no network)."""
    return etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
