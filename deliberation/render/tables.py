"""Long Word tables cut into consecutive shorter ones, so LibreOffice lays them out in linear time.

LibreOffice's layout time for one table grows with the square of its rows (4 000 rows: over a minute).
The same rows as tables of a few hundred rows each, separated by a 1 pt paragraph, look like one table
and convert in time proportional to the rows. Header rows (``w:tblHeader``) are repeated on each part,
and a vertically merged cell run (``w:vMerge``) is never cut.
"""

from __future__ import annotations

import copy

from docx.oxml.ns import qn
from lxml import etree

_TBL, _TR, _P = qn("w:tbl"), qn("w:tr"), qn("w:p")
_VAL = qn("w:val")
_NS = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
_FALSE = {"0", "false", "off"}
#: Continuation cells of a vertical merge, whether the cell is a direct child of the row or in a content control.
_VMERGE = etree.XPath("./w:tc/w:tcPr/w:vMerge | ./w:sdt/w:sdtContent/w:tc/w:tcPr/w:vMerge"
                       " | ./w:customXml/w:tc/w:tcPr/w:vMerge", namespaces=_NS)
#: ``w:tblLook/@w:val`` bits (ECMA-376 transitional) for first-row and last-row conditional formatting.
_LOOK_BITS = {"firstRow": 0x0020, "lastRow": 0x0040}
_COPY_IDS = (qn("w:bookmarkStart"), qn("w:bookmarkEnd"))
_W14_IDS = ("{http://schemas.microsoft.com/office/word/2010/wordml}paraId",
            "{http://schemas.microsoft.com/office/word/2010/wordml}textId")


def _is_header(tr) -> bool:
    for el in tr.iterfind(qn("w:trPr") + "/" + qn("w:tblHeader")):
        return el.get(_VAL, "true").lower() not in _FALSE
    return False


def _continues_merge(tr) -> bool:
    """True when a cell of the row continues the vertical merge of the row above."""
    return any(v.get(_VAL, "continue") == "continue" for v in _VMERGE(tr))


def _cuts(cont: list[bool], cap: int) -> list[int]:
    """Indexes of the rows that start a new part: at most ``cap`` rows a part, no cut before a continuation row.

    A merged run longer than ``cap`` is kept whole, in a part longer than ``cap``.
    """
    n, start, cuts = len(cont), 0, []
    while n - start > cap:
        cut = start + cap
        while cut > start and cont[cut]:
            cut -= 1
        if cut == start:
            cut = start + cap + 1
            while cut < n and cont[cut]:
                cut += 1
            if cut >= n:
                break
        cuts.append(cut)
        start = cut
    return cuts


def _clear_look(tblPr, *names: str) -> None:
    """Turn off first-row or last-row conditional formatting (attribute and legacy hex value)."""
    look = tblPr.find(qn("w:tblLook"))
    if look is None:
        return
    for name in names:
        if look.get(qn(f"w:{name}")) is not None:
            look.set(qn(f"w:{name}"), "0")
        val = look.get(_VAL)
        if val is not None:
            try:
                look.set(_VAL, f"{int(val, 16) & ~_LOOK_BITS[name]:04X}")
            except ValueError:
                pass


def _header_copy(tr):
    """A repeated header row: same content, without bookmarks or paragraph ids that must stay unique."""
    row = copy.deepcopy(tr)
    for el in list(row.iter(*_COPY_IDS)):
        el.getparent().remove(el)
    for el in row.iter(_P):
        for attr in _W14_IDS:
            el.attrib.pop(attr, None)
    return row


def _separator(body):
    """An empty paragraph 1 pt high, with no spacing, between two parts of a table."""
    p = body.makeelement(_P, {})
    ppr = p.makeelement(qn("w:pPr"), {})
    ppr.append(ppr.makeelement(qn("w:spacing"), {qn("w:before"): "0", qn("w:after"): "0", qn("w:line"): "20",
                                                 qn("w:lineRule"): "exact"}))
    rpr = ppr.makeelement(qn("w:rPr"), {})
    rpr.append(rpr.makeelement(qn("w:sz"), {_VAL: "2"}))
    rpr.append(rpr.makeelement(qn("w:szCs"), {_VAL: "2"}))
    ppr.append(rpr)
    p.append(ppr)
    return p


def _split(tbl, max_rows: int) -> int:
    tblPr, grid = tbl.find(qn("w:tblPr")), tbl.find(qn("w:tblGrid"))
    if tblPr is None or grid is None or tblPr.find(qn("w:tblpPr")) is not None:
        return 0  # malformed, or floating: its parts would all float at the same place
    rows = [el for el in tbl if el.tag == _TR]
    if len(rows) <= max_rows:
        return 0
    heads = 0
    while heads < len(rows) and _is_header(rows[heads]):
        heads += 1
    data = rows[heads:]
    cuts = _cuts([_continues_merge(tr) for tr in data], max(1, max_rows - heads))
    if not cuts:
        return 0
    starts = {data[i] for i in cuts}  # lxml keeps one proxy per live element: identity is safe
    parts, current, anchor = [], None, tbl
    for el in list(tbl):
        if el in starts:
            current = tbl.makeelement(_TBL, {})
            current.append(copy.deepcopy(tblPr))
            current.append(copy.deepcopy(grid))
            current.extend(_header_copy(h) for h in rows[:heads])
            sep = _separator(tbl)
            anchor.addnext(sep)
            sep.addnext(current)
            anchor = current
            parts.append(current)
        if current is not None:
            current.append(el)  # moves it (tblPr and tblGrid come first, so they stay)
    _clear_look(tblPr, "lastRow")
    for i, part in enumerate(parts):
        names = ("firstRow",) if not heads else ()
        _clear_look(part.find(qn("w:tblPr")), *names, *(("lastRow",) if i < len(parts) - 1 else ()))
    return len(parts)


def split_long_tables(body, max_rows: int = 500) -> int:
    """Split every table of ``body`` longer than ``max_rows`` rows into consecutive tables; return how many were added.

    ``body`` is the lxml ``w:body`` element (python-docx: ``document.element.body``). Only tables that are
    direct children of the body are split; tables nested in cells are left alone, and so are floating tables.
    Each part has at most ``max_rows`` rows, repeated header rows included: it copies the table's ``w:tblPr``
    and ``w:tblGrid``, starts with a copy of the leading ``w:tblHeader`` rows (if any; none is invented),
    and is separated from the previous part by an empty 1 pt paragraph without spacing. A cut is moved earlier
    rather than separate a ``w:vMerge`` continuation row from the row above it (a merged run longer than a
    part is kept whole). First-row/last-row conditional formatting (``w:tblLook``) is turned off where a part
    does not start with the real header or end with the real last row. Rows are moved, not copied: linear
    time. A body without long tables is not changed, and a second call changes nothing.
    """
    if max_rows < 1:
        raise ValueError(f"max_rows must be at least 1, not {max_rows}")
    return sum(_split(tbl, max_rows) for tbl in [el for el in body if el.tag == _TBL])
