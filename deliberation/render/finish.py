"""The last pass on every rendered part of a Word document: French typography, then page layout.

Every document the engine writes passes here (``compiled.Renderer``), its body and each header and
footer, whatever the text came from: the template, a dossier value, a Markdown narrative or a sheet.

- ``typeset``: ``deliberation.typo`` on each paragraph's text, run by run; ordinal letters raised.
- ``lay_out`` (body only): headings and « Article N : » kept with what follows, signature blocks and the
  vote kept on one page, table rows that never split, header rows repeated, blanks highlighted.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections import Counter

from lxml import etree

from deliberation.typo import typeset_runs

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_P, _R, _T, _RPR = f"{{{W}}}p", f"{{{W}}}r", f"{{{W}}}t", f"{{{W}}}rPr"
_SECT = f"{{{W}}}sectPr"
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


def _run_like(r, rpr, children, raised: bool = False, highlight: bool = False):
    new = r.makeelement(_R, {})
    props = copy.deepcopy(rpr) if rpr is not None else None
    if raised or highlight:
        props = props if props is not None else new.makeelement(_RPR, {})
    if raised:
        set_rpr(props, "vertAlign", "superscript", _AFTER_VERTALIGN)
    if highlight:
        set_rpr(props, "highlight", "yellow", _AFTER_HIGHLIGHT)
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


def _raise_letters(t, segments: list[tuple[str, bool]], highlight: bool = False) -> None:
    """Replace the run holding ``t`` by runs of its segments, the raised ones in superscript (or highlighted)."""
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
    for value, marked in segments:
        runs.append(_run_like(r, rpr, [_text(r, value)], marked and not highlight, marked and highlight))
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


#: A blank left visible in an act: « [SIRET à compléter] » (``acts.Values.need``).
_BLANK = re.compile(r"\[[^\[\]]{1,300}?à\s+compléter\]")


def highlight_blanks(root) -> int:
    """Highlight in yellow every blank « [… à compléter] » under ``root``; return how many."""
    count = 0
    for t in list(root.iter(_T)):
        text = t.text or ""
        if "compléter]" not in text:
            continue
        segments, pos = [], 0
        for m in _BLANK.finditer(text):
            if m.start() > pos:
                segments.append((text[pos:m.start()], False))
            segments.append((m.group(), True))
            pos = m.end()
            count += 1
        if pos < len(text):
            segments.append((text[pos:], False))
        if any(marked for _, marked in segments):
            _raise_letters(t, segments, highlight=True)
    return count


def parse(xml: bytes):
    """Parse a rendered part (no entity, no network)."""
    return etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))


# ---------------------------------------------------------------------------------------------------------
# page layout

_PPR, _TBL, _TR, _TC = f"{{{W}}}pPr", f"{{{W}}}tbl", f"{{{W}}}tr", f"{{{W}}}tc"
_BODY_P_ORDER = ("pStyle", "keepNext", "keepLines", "pageBreakBefore")  # the first children of w:pPr, in order
#: A line that introduces what follows: « Article 6 : », « DECIDE : », « Il convient de statuer … : ».
_ARTICLE = ("Article", "ARTICLE")
#: Where the block that must sit on one page begins: the vote, « Fait en deux exemplaires », the rapport's close.
SIGNATURE_STARTS = ("Dans les conditions de vote", "Fait en ", "Fait à ", "Je vous prie de bien vouloir")
_HEADING_STYLES = ("Heading", "Titre", "Title", "Subtitle")
#: The longest text a « heading » may have (a longer line ending with « : » is a paragraph).
_HEADING_MAX = 220


def _text_of(p) -> str:
    return "".join(t.text or "" for t in p.iter(_T))


def _ppr(p):
    ppr = p.find(_PPR)
    if ppr is None:
        ppr = p.makeelement(_PPR, {})
        p.insert(0, ppr)
    return ppr


def keep(p, *names: str) -> None:
    """Set ``w:keepNext`` / ``w:keepLines`` on a paragraph, in the schema's order."""
    ppr = _ppr(p)
    for name in names:
        tag = f"{{{W}}}{name}"
        if ppr.find(tag) is not None:
            continue
        el = ppr.makeelement(tag, {})
        rank = _BODY_P_ORDER.index(name)
        at = 0
        for i, child in enumerate(ppr):
            local = child.tag.split("}")[1]
            if local in _BODY_P_ORDER[:rank]:
                at = i + 1
        ppr.insert(at, el)


def _style(p) -> str:
    el = p.find(f"{_PPR}/{{{W}}}pStyle")
    return el.get(_VAL, "") if el is not None else ""


def _all_bold(p) -> bool:
    runs = [r for r in p.iter(_R) if "".join(t.text or "" for t in r.iter(_T)).strip()]
    return bool(runs) and all(r.find(f"{_RPR}/{{{W}}}b") is not None for r in runs)


def is_heading(p) -> bool:
    """A paragraph that announces what follows, and must not end a page."""
    text = _text_of(p).strip()
    if not text:
        return False
    if _style(p).startswith(_HEADING_STYLES):
        return True
    if len(text) > _HEADING_MAX:
        return False
    return text.startswith(_ARTICLE) or text.endswith(":") or _all_bold(p)


def _rows_cannot_split(tbl) -> None:
    for tr in tbl.iter(_TR):
        trpr = tr.find(f"{{{W}}}trPr")
        if trpr is None:
            trpr = tr.makeelement(f"{{{W}}}trPr", {})
            tr.insert(0, trpr)
        if trpr.find(f"{{{W}}}cantSplit") is None:
            trpr.insert(0, trpr.makeelement(f"{{{W}}}cantSplit", {}))  # before w:tblHeader, as the schema orders


def _signature_block(blocks: list) -> list:
    """The body's blocks from the start of its signature block to the table that ends it (or the body's end)."""
    start = None
    for i, el in enumerate(blocks):
        if el.tag == _P and _text_of(el).strip().startswith(SIGNATURE_STARTS):
            start = i
            break
    if start is None:
        return []
    block = []
    for el in blocks[start:]:
        block.append(el)
        if el.tag == _TBL or (el.tag == _P and el.find(f".//{{{W}}}br[@{{{W}}}type='page']") is not None):
            break
    return block


def lay_out(body) -> None:
    """Keep headings with what follows, the signature block (and the vote) on one page, rows whole."""
    blocks = [el for el in body if el.tag in (_P, _TBL)]
    for el in blocks[:-1]:
        if el.tag == _P and is_heading(el):
            keep(el, "keepNext")
    for tbl in list(body.iter(_TBL)):
        split_tall_rows(tbl)
        _rows_cannot_split(tbl)
    for tbl in body.findall(_TBL):
        fit_columns(tbl)
    block = _signature_block(blocks)
    for el in block[:-1]:
        if el.tag == _P:
            keep(el, "keepNext", "keepLines")
        else:  # a table inside the block: each of its paragraphs keeps with the next row
            for p in el.iter(_P):
                keep(p, "keepNext")
    if block and block[-1].tag == _P:
        keep(block[-1], "keepLines")


# ---------------------------------------------------------------------------------------------------------
# numbered lists

#: ``w:pPr`` children that come before ``w:numPr`` in the schema's sequence.
_BEFORE_NUMPR = {f"{{{W}}}{n}" for n in ("pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr",
                                          "widowControl")}


def numbered_styles(styles_xml: bytes) -> dict[str, str]:
    """The paragraph styles that number their paragraphs (« List Number »…), with their ``w:numId``."""
    root = parse(styles_xml)
    out = {}
    for style in root.iter(f"{{{W}}}style"):
        num = style.find(f"{_PPR}/{{{W}}}numPr/{{{W}}}numId")
        sid = style.get(f"{{{W}}}styleId", "")
        if style.get(f"{{{W}}}type") == "paragraph" and num is not None and "Number" in sid:
            out[sid] = num.get(_VAL)
    return out


#: Style ids of list paragraphs (bullets, numbers, an item's further paragraphs): they do not end a list.
_LIST_STYLES = ("ListBullet", "ListNumber", "ListContinue", "ListParagraph")


def _continues_merge(p) -> bool:
    tc = p.getparent()
    if tc is None or tc.tag != _TC:
        return False
    merge = tc.find(f"{{{W}}}tcPr/{{{W}}}vMerge")
    return merge is not None and merge.get(_VAL, "continue") == "continue"


def _list_groups(body, list_styles: set[str]) -> list[list]:
    """Runs of consecutive list paragraphs (in document order): a paragraph of another style ends a list."""
    groups, current = [], []
    for p in body.iter(_P):
        if not _text_of(p) and _continues_merge(p):
            continue  # the empty cell under a merged heading (``split_tall_rows``): not a paragraph of the text
        style = _style(p)
        if style in list_styles or style.startswith(_LIST_STYLES) or p.find(f"{_PPR}/{{{W}}}numPr") is not None:
            current.append(p)
        elif current:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


#: The numbering ids given from a segment's content: first id, how many (Word reads ids up to 32 767).
_KEYED_IDS = (1000, 30000)


def _page_break(el) -> bool:
    return el.tag == _P and el.find(f".//{{{W}}}br[@{{{W}}}type='page']") is not None


def _segment_keys(body) -> dict:
    """Each paragraph after the body's first page break → the digest of its page segment's XML.

    A segment runs from a page-break paragraph to the next one (or the end); the digest is taken before
    any list is numbered, so two segments alike get the same key.
    """
    keys: dict = {}
    segment: list = []
    started = False

    def close():
        if started and segment:
            digest = hashlib.sha256(b"".join(etree.tostring(el) for el in segment)).hexdigest()
            for el in segment:
                for p in el.iter(_P):
                    keys[p] = digest

    for el in body:
        if _page_break(el):
            close()
            segment, started = [], True
        elif el.tag != _SECT:
            segment.append(el)
    close()
    return keys


def restart_lists(body, numbering_xml: bytes, numbered: dict[str, str]) -> bytes | None:
    """Number each list of the document from 1, as the source restarts them.

    Word continues a numbered style's numbering through the whole document (the Bilan list of a second
    sheet would run 6 to 11). Each list after the first of its style gets a numbering instance of its
    own, starting at 1 (``w:num`` with ``w:startOverride``). Returns the new numbering part, or None when
    no list needed it.

    A list after a page break (an annex sheet) always gets its own instance, numbered from what its page
    segment holds (``_segment_keys``), not from what came before: a segment that is the same in two acts
    (a dispositif's shared description) is then the same XML in both.
    """
    if not numbered:
        return None
    list_styles = set(numbered)
    keys = _segment_keys(body)
    seen: set[str] = set()
    todo: list[tuple[list, str, str | None]] = []
    ordinal: Counter = Counter()
    for group in _list_groups(body, list_styles):
        for style, num in numbered.items():
            members = [p for p in group if _style(p) == style and p.find(f"{_PPR}/{{{W}}}numPr") is None]
            if not members:
                continue
            key = keys.get(members[0])
            if key is not None:
                ordinal[key] += 1
                todo.append((members, num, f"{key}\0{ordinal[key]}\0{style}"))
            elif num in seen:
                todo.append((members, num, None))
            seen.add(num)
    if not todo:
        return None
    root = parse(numbering_xml)
    nums = {n.get(f"{{{W}}}numId"): n for n in root.findall(f"{{{W}}}num")}
    used = {int(k) for k in nums if k.isdigit()}
    next_id = max(used, default=0) + 1
    anchor = root.find(f"{{{W}}}numIdMacAtCleanup")
    for members, num, key in todo:
        abstract = nums[num].find(f"{{{W}}}abstractNumId") if num in nums else None
        if abstract is None:
            continue
        if key is None:
            while next_id in used:
                next_id += 1
            num_id = next_id
        else:  # from the segment's content: the same segment numbers its lists alike in every act
            num_id = _KEYED_IDS[0] + int(hashlib.sha256(key.encode()).hexdigest(), 16) % _KEYED_IDS[1]
            while num_id in used:
                num_id += 1
        used.add(num_id)
        new = root.makeelement(f"{{{W}}}num", {f"{{{W}}}numId": str(num_id)})
        new.append(copy.deepcopy(abstract))
        override = new.makeelement(f"{{{W}}}lvlOverride", {f"{{{W}}}ilvl": "0"})
        override.append(override.makeelement(f"{{{W}}}startOverride", {_VAL: "1"}))
        new.append(override)
        if anchor is not None:
            anchor.addprevious(new)
        else:
            root.append(new)
        for p in members:
            ppr = _ppr(p)
            numpr = ppr.makeelement(f"{{{W}}}numPr", {})
            numpr.append(numpr.makeelement(f"{{{W}}}ilvl", {_VAL: "0"}))
            numpr.append(numpr.makeelement(f"{{{W}}}numId", {_VAL: str(num_id)}))
            at = sum(1 for c in ppr if c.tag in _BEFORE_NUMPR)
            ppr.insert(at, numpr)
    return etree.tostring(root, encoding="UTF-8", standalone=True)


# ---------------------------------------------------------------------------------------------------------
# column widths

#: Widths of characters in em (Liberation Sans / Arial metrics, rounded up): what a cell must hold.
_NARROW, _DIGIT, _UPPER, _LOWER = 0.30, 0.56, 0.72, 0.56
_CELL_MARGINS = 2 * 108  # twips, Word's default left and right cell margins
_SIZES = (22, 20, 19, 18, 17, 16)  # half-points tried, largest first: 11 pt down to 8 pt
_TWIPS_PER_POINT = 20
_MIN_COLUMNS = 4  # narrower tables (the sheets: heading | text) keep their template widths


def _em(text: str) -> float:
    total = 0.0
    for c in text:
        if c.isdigit():
            total += _DIGIT
        elif c.isupper():
            total += _UPPER
        elif c.isalpha():
            total += _LOWER
        else:
            total += _NARROW if c in " \u00a0\u202f.,;:'’()-/|!" else _DIGIT
    return total


#: Where a line may break: at a space, after a hyphen or a slash (« Avenant/ Convention », « 2021- 2027 »).
_BREAKS = re.compile(r" |(?<=[-/])")


def _tokens(text: str) -> list[str]:
    """The parts of a cell's text no line may break: words, and amounts or dates held by no-break spaces."""
    return [t for t in _BREAKS.split(text) if t] if text else []


def _cell_runs_bold(tc) -> bool:
    runs = [r for r in tc.iter(_R) if "".join(t.text or "" for t in r.iter(_T)).strip()]
    return bool(runs) and all(r.find(f"{_RPR}/{{{W}}}b") is not None for r in runs)


def _grid(tbl) -> list:
    grid = tbl.find(f"{{{W}}}tblGrid")
    return grid.findall(f"{{{W}}}gridCol") if grid is not None else []


def _needs(tbl, ncols: int) -> list[float] | None:
    """For each column, the widest unbreakable part of its cells, in em; None where a cell spans columns."""
    need = [0.0] * ncols
    for tr in tbl.findall(_TR):
        cells = tr.findall(_TC)
        if len(cells) != ncols:
            return None
        for i, tc in enumerate(cells):
            scale = 1.08 if _cell_runs_bold(tc) else 1.0
            for p in tc.iter(_P):
                for token in _tokens(_text_of(p)):
                    need[i] = max(need[i], _em(token) * scale)
    return need


def _set_size(tbl, size: int) -> None:
    for r in tbl.iter(_R):
        rpr = r.find(_RPR)
        if rpr is None:
            rpr = r.makeelement(_RPR, {})
            r.insert(0, rpr)
        for tag in ("sz", "szCs"):
            set_rpr(rpr, tag, str(size), _AFTER_SIZE[tag])


_AFTER_SIZE = {
    "sz": {f"{{{W}}}{n}" for n in ("szCs", "highlight")} | _AFTER_HIGHLIGHT,
    "szCs": {f"{{{W}}}highlight"} | _AFTER_HIGHLIGHT,
}


def _type_size(tbl, default: int) -> int:
    """The type size of most of the table's runs (half-points), else ``default``."""
    sizes = Counter(el.get(_VAL) for el in tbl.iter(f"{{{W}}}sz"))
    if not sizes:
        return default
    value = sizes.most_common(1)[0][0]
    return int(value) if value and value.isdigit() else default


def fit_columns(tbl, default_size: int = 22) -> bool:
    """Widen the columns whose widest word or amount does not fit, taking from the others; else a smaller type.

    A wide table (``_MIN_COLUMNS`` columns or more, no merged cells) keeps its total width (the template's)
    and its columns' widths where they suffice; a column too narrow for its widest unbreakable part (a word,
    or an amount held by no-break spaces) gets what it needs from the columns with room to spare. When the
    table cannot hold them all at the template's type size, the type is reduced (down to 8 pt). Returns
    True when the table changed.
    """
    cols = _grid(tbl)
    if len(cols) < _MIN_COLUMNS:
        return False
    try:
        widths = [int(c.get(f"{{{W}}}w")) for c in cols]
    except (TypeError, ValueError):
        return False
    need_em = _needs(tbl, len(cols))
    if need_em is None:
        return False
    total = sum(widths)
    default_size = _type_size(tbl, default_size)
    for size in _SIZES:
        if size > default_size:
            continue
        need = [int(e * size / 2 * _TWIPS_PER_POINT) + _CELL_MARGINS + 20 for e in need_em]
        if sum(need) <= total:
            break
    else:
        return False
    if all(w >= n for w, n in zip(widths, need, strict=True)) and size == default_size:
        return False
    short = sum(max(0, n - w) for w, n in zip(widths, need, strict=True))
    room = [max(0, w - n) for w, n in zip(widths, need, strict=True)]
    spare = sum(room)
    new = [max(w, n) - (r * short // spare if spare else 0) for w, n, r in zip(widths, need, room, strict=True)]
    new[-1] += total - sum(new)  # the rounding, so the table keeps its width
    for col, w in zip(cols, new, strict=True):
        col.set(f"{{{W}}}w", str(w))
    for tr in tbl.findall(_TR):
        for tc, w in zip(tr.findall(_TC), new, strict=True):
            tcw = tc.find(f"{{{W}}}tcPr/{{{W}}}tcW")
            if tcw is not None:
                tcw.set(f"{{{W}}}w", str(w))
                tcw.set(f"{{{W}}}type", "dxa")
    tblpr = tbl.find(f"{{{W}}}tblPr")
    if tblpr is not None and tblpr.find(f"{{{W}}}tblLayout") is None:
        layout = tblpr.makeelement(f"{{{W}}}tblLayout", {f"{{{W}}}type": "fixed"})
        after = {f"{{{W}}}{n}" for n in ("tblCellMar", "tblLook", "tblCaption", "tblDescription")}
        at = next((i for i, c in enumerate(tblpr) if c.tag in after), len(tblpr))
        tblpr.insert(at, layout)
    if size != default_size:
        _set_size(tbl, size)
    return True


# ---------------------------------------------------------------------------------------------------------
# tall rows

#: A two-column row (an annex sheet: heading | text) taller than this many lines is cut into parts.
TALL_ROW = 24
#: The most lines a part holds: a part moves whole to the next page, leaving at most this much blank.
ROW_PART = 16
_LINE_EM = 0.5  # average width of a character of running text, in em
_BODY_SIZE = 10.5  # points: the templates' body text


def _lines(p, width: int) -> int:
    """How many lines a paragraph takes in a cell ``width`` twips wide (an estimate, rounded up)."""
    text = _text_of(p)
    indent = 360 if _style(p).startswith(_LIST_STYLES) else 0
    per_line = max(10, int((width - _CELL_MARGINS - indent) / (_LINE_EM * _BODY_SIZE * _TWIPS_PER_POINT)))
    return max(1, -(-len(text) // per_line))


def _tc_insert(tcpr, el, after: tuple[str, ...]) -> None:
    names = {f"{{{W}}}{n}" for n in after}
    at = sum(1 for c in tcpr if c.tag in names)
    tcpr.insert(at, el)


def _tcpr(tc):
    tcpr = tc.find(f"{{{W}}}tcPr")
    if tcpr is None:
        tcpr = tc.makeelement(f"{{{W}}}tcPr", {})
        tc.insert(0, tcpr)
    return tcpr


def _borders(tc, *sides: str) -> None:
    tcpr = _tcpr(tc)
    borders = tcpr.makeelement(f"{{{W}}}tcBorders", {})
    for side in sides:
        borders.append(borders.makeelement(f"{{{W}}}{side}", {_VAL: "nil"}))
    _tc_insert(tcpr, borders, ("cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge"))


def _parts(paragraphs: list, width: int) -> list[list]:
    """The paragraphs cut into parts of about ``ROW_PART`` lines, never after a heading or an intro line."""
    parts, current, lines = [], [], 0
    for p in paragraphs:
        n = _lines(p, width)
        if current and lines + n > ROW_PART:
            keep_with = []
            while current and is_heading(current[-1]):  # « … suivante : » goes with what it announces
                keep_with.insert(0, current.pop())
            if current:
                parts.append(current)
                current, lines = keep_with, sum(_lines(q, width) for q in keep_with)
            else:
                current = keep_with
        current.append(p)
        lines += n
    if current:
        parts.append(current)
    return parts


def split_tall_rows(tbl) -> int:
    """Cut each tall row of a two-column table into rows of a few lines; return how many rows were added.

    A row may not split across pages (``w:cantSplit``), but a row taller than a page must: LibreOffice then
    cuts it anywhere. So an annex sheet's long text (« Déroulement de l'action ») becomes consecutive rows
    of about ``ROW_PART`` lines, cut between paragraphs: the heading cell is merged down them (``w:vMerge``)
    and the borders between the parts are removed, so it reads as one row, and each part moves whole.
    """
    grid = _grid(tbl)
    if len(grid) != 2:
        return 0
    added = 0
    for tr in list(tbl.findall(_TR)):
        cells = tr.findall(_TC)
        if len(cells) != 2 or cells[0].find(f"{{{W}}}tcPr/{{{W}}}vMerge") is not None:
            continue
        head, body = cells
        tcw = body.find(f"{{{W}}}tcPr/{{{W}}}tcW")
        try:
            width = int(tcw.get(f"{{{W}}}w")) if tcw is not None else int(grid[1].get(f"{{{W}}}w"))
        except (TypeError, ValueError):
            continue
        paragraphs = [el for el in body if el.tag == _P]
        if len(paragraphs) != len([el for el in body if el.tag != f"{{{W}}}tcPr"]):
            continue  # a nested table: left whole
        if sum(_lines(p, width) for p in paragraphs) <= TALL_ROW:
            continue
        parts = _parts(paragraphs, width)
        if len(parts) < 2:
            continue
        merge = _tcpr(head).makeelement(f"{{{W}}}vMerge", {_VAL: "restart"})
        _tc_insert(_tcpr(head), merge, ("cnfStyle", "tcW", "gridSpan", "hMerge"))
        _borders(body, "bottom")
        anchor = tr
        for i, part in enumerate(parts[1:], start=1):
            row = tr.makeelement(_TR, {})
            trpr = tr.find(f"{{{W}}}trPr")
            if trpr is not None:
                row.append(copy.deepcopy(trpr))
            first = row.makeelement(_TC, {})
            fpr = copy.deepcopy(head.find(f"{{{W}}}tcPr"))
            fpr.find(f"{{{W}}}vMerge").set(_VAL, "continue")
            first.append(fpr)
            first.append(first.makeelement(_P, {}))
            second = row.makeelement(_TC, {})
            spr = copy.deepcopy(body.find(f"{{{W}}}tcPr"))
            for old in spr.findall(f"{{{W}}}tcBorders"):
                spr.remove(old)
            second.append(spr)
            second.extend(part)  # moved from the first row
            _borders(second, *(("top", "bottom") if i < len(parts) - 1 else ("top",)))
            row.extend([first, second])
            anchor.addnext(row)
            anchor = row
            added += 1
    return added
