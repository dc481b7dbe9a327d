"""Tracked changes computed here when two versions of a document differ only in the text of paragraphs.

An amended amount changes a few paragraphs of a few documents: the same tables, rows and paragraphs
hold other words. For such a pair, the redline is made without the .NET comparer (whose start-up
alone costs more than the comparison): the two ``word/document.xml`` are walked side by side, and
each paragraph whose runs differ is rewritten as the new paragraph with the old words deleted
(``w:del``) and the new ones inserted (``w:ins``), word by word, a number being one word. Accepting
every change gives the new document, rejecting every change the old one (tests check both).

Anything else — a part other than ``document.xml`` that differs, a table or paragraph added or
removed, changed paragraph properties, a field, drawing or hyperlink in a changed paragraph — is left
to the general comparer: :func:`tracked_redline` then returns ``None``.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import io
import re
import zipfile
import zlib

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
DOCUMENT = "word/document.xml"


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


P, R, PPR, RPR, T, ID = _w("p"), _w("r"), _w("pPr"), _w("rPr"), _w("t"), _w("id")
TBL, TR = _w("tbl"), _w("tr")
#: Elements whose children are paragraphs, tables or rows that may be added or removed.
BLOCKS = frozenset(_w(t) for t in ("body", "tc", "tbl", "sdtContent", "txbxContent"))
#: Run content that can be deleted or inserted as it is (besides text).
ATOMIC = frozenset(_w(t) for t in ("tab", "br", "cr", "noBreakHyphen", "softHyphen", "lastRenderedPageBreak"))

#: A word is a number with its group and decimal separators (« 12 345,00 »), a run of letters or digits,
#: a run of spaces, or one other character.
TOKEN = re.compile(r"\d+(?:[ \u00a0\u202f.,]\d+)*|\w+|\s+|.", re.DOTALL)

_PARSER = etree.XMLParser(resolve_entities=False, huge_tree=True, no_network=True)


class _Mismatch(Exception):
    """The two documents differ beyond the words of their paragraphs."""


def tracked_redline(old: bytes, new: bytes, author: str, when: dt.datetime) -> bytes | None:
    """``new`` (DOCX) with tracked changes against ``old``, or ``None`` when their structure differs.

    The result is not normalised (the caller does it, like for the general comparer's output).
    """
    try:
        zo, zn = zipfile.ZipFile(io.BytesIO(old)), zipfile.ZipFile(io.BytesIO(new))
        names = zn.namelist()
        if sorted(zo.namelist()) != sorted(names) or DOCUMENT not in names:
            return None
        if any(zo.read(n) != zn.read(n) for n in names if n != DOCUMENT):
            return None
        old_root = etree.fromstring(zo.read(DOCUMENT), _PARSER)
        new_root = etree.fromstring(zn.read(DOCUMENT), _PARSER)
    except (zipfile.BadZipFile, etree.XMLSyntaxError, KeyError, OSError, ValueError, EOFError, zlib.error):
        return None  # a damaged file: the general comparer says what is wrong
    ids = [int(v) for v in new_root.xpath("//@w:id", namespaces={"w": W}) if v.lstrip("-").isdigit()]
    marks = _Marks(author, when.strftime("%Y-%m-%dT%H:%M:%SZ"), max([0, *ids]) + 1)
    try:
        if not _walk(old_root, new_root, marks):
            return None
    except _Mismatch:
        return None
    xml = etree.tostring(new_root, xml_declaration=True, encoding="UTF-8", standalone=True)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in zn.infolist():
            dst.writestr(info, xml if info.filename == DOCUMENT else zn.read(info.filename))
    return out.getvalue()


class _Marks:
    """Makes the ``w:ins`` / ``w:del`` elements: one author, one date, identifiers never used before."""

    def __init__(self, author: str, date: str, first_id: int):
        self.author, self.date, self.next_id = author, date, first_id

    def make(self, tag: str) -> etree._Element:
        el = etree.Element(_w(tag), {ID: str(self.next_id), _w("author"): self.author, _w("date"): self.date})
        self.next_id += 1
        return el


def _walk(a: etree._Element, b: etree._Element, marks: _Marks) -> bool:
    """Track the changes of ``b`` against ``a`` (in place); True if anything changed."""
    if a.tag != b.tag or dict(a.attrib) != dict(b.attrib) or a.text != b.text:
        raise _Mismatch
    if b.tag == P:
        if etree.tostring(a) == etree.tostring(b):
            return False
        _track_paragraph(a, b, marks)
        return True
    ca, cb = list(a), list(b)
    ka, kb = [_key(x) for x in ca], [_key(y) for y in cb]
    if ka == kb:
        return False
    if b.tag not in BLOCKS:  # a row's cells, a table's properties…: side by side, one for one
        if len(ca) != len(cb):
            raise _Mismatch
        changed = False
        for x, y, kx, ky in zip(ca, cb, ka, kb, strict=True):
            if kx != ky:
                if not isinstance(y.tag, str) or x.tail != y.tail:
                    raise _Mismatch
                changed |= _walk(x, y, marks)
        return changed
    # tables are never added or removed here: the n-th table is the n-th table; the blocks between
    # two tables are aligned word by word
    ta = [i for i, x in enumerate(ca) if x.tag == TBL]
    tb = [j for j, y in enumerate(cb) if y.tag == TBL]
    if len(ta) != len(tb):
        raise _Mismatch
    i0 = j0 = 0
    for i, j in [*zip(ta, tb, strict=True), (len(ca), len(cb))]:
        _align(b, ca[i0:i], cb[j0:j], ka[i0:i], kb[j0:j], cb[j] if j < len(cb) else None, marks)
        if i < len(ca) and ka[i] != kb[j]:
            _walk(ca[i], cb[j], marks)
        i0, j0 = i + 1, j + 1
    return True


def _align(parent, ca: list, cb: list, ka: list, kb: list, anchor, marks: _Marks) -> None:
    """Record the changes from blocks ``ca`` to blocks ``cb`` (children of ``parent``, before ``anchor``)."""
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ka, kb, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        old, new = ca[i1:i2], cb[j1:j2]
        after_all = cb[j2] if j2 < len(cb) else anchor  # deleted blocks go before the next block kept
        if len(old) == len(new) and all(x.tag == y.tag for x, y in zip(old, new, strict=True)):
            pairs = list(zip(old, new, strict=True))
        else:
            pairs = _pair(old, new)
        for k, (x, y) in enumerate(pairs):
            if x is not None and y is not None:
                _walk(x, y, marks)
            elif y is not None:
                _insert_block(y, marks)
            else:
                after = next((q for _, q in pairs[k + 1:] if q is not None), after_all)
                gone = _deleted_block(x, marks)
                if after is not None:
                    after.addprevious(gone)
                else:
                    parent.append(gone)


def _key(el: etree._Element) -> bytes:
    return etree.tostring(el) + (el.tail or "").encode()


#: Beyond this many block pairs to weigh, the general comparer aligns the documents.
MAX_PAIRS = 250_000


def _pair(old: list, new: list) -> list[tuple]:
    """Old and new blocks aligned in order: ``(x, y)`` matched, ``(x, None)`` deleted, ``(None, y)`` inserted.

    Paragraphs and table rows are matched when their words are at least half the same; the matching
    keeps the order and maximises the total likeness.
    """
    n, m = len(old), len(new)
    if n * m > MAX_PAIRS:
        raise _Mismatch
    words_a = [_words(x) for x in old]
    words_b = [_words(y) for y in new]
    like = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i, x in enumerate(old):
        for j, y in enumerate(new):
            if x.tag != y.tag or x.tag not in (P, TR):
                continue
            sm = difflib.SequenceMatcher(None, words_a[i], words_b[j], autojunk=False)
            if sm.real_quick_ratio() >= 0.5 and sm.quick_ratio() >= 0.5:
                ratio = sm.ratio()
                like[i][j] = ratio if ratio >= 0.5 else 0.0
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            take = best[i + 1][j + 1] + like[i][j] if like[i][j] else -1.0
            best[i][j] = max(best[i + 1][j], best[i][j + 1], take)
    out, i, j = [], 0, 0
    while i < n or j < m:
        if i < n and j < m and like[i][j] and best[i][j] == best[i + 1][j + 1] + like[i][j]:
            out.append((old[i], new[j]))
            i, j = i + 1, j + 1
        elif i < n and (j == m or best[i][j] == best[i + 1][j]):
            out.append((old[i], None))
            i += 1
        else:
            out.append((None, new[j]))
            j += 1
    return out


def _words(el: etree._Element) -> list[str]:
    return TOKEN.findall("".join(t.text or "" for t in el.iter(T)))


def _insert_block(el: etree._Element, marks: _Marks) -> None:
    """Mark a new paragraph or table row (in place) as inserted."""
    if el.tag == P:
        _mark_paragraph(el, marks, "ins")
    elif el.tag == TR:
        _mark_row(el, marks, "ins")
    else:
        raise _Mismatch  # a whole table, a section…


def _deleted_block(el: etree._Element, marks: _Marks) -> etree._Element:
    """A copy of an old paragraph or table row, marked as deleted."""
    gone = copy.deepcopy(el)
    if gone.tag == P:
        _mark_paragraph(gone, marks, "del")
    elif gone.tag == TR:
        _mark_row(gone, marks, "del")
    else:
        raise _Mismatch
    return gone


def _mark_paragraph(p: etree._Element, marks: _Marks, how: str) -> None:
    """Wrap the runs of ``p`` in ``w:ins`` or ``w:del``, its paragraph mark too."""
    ppr, tokens = _tokens(p)
    if ppr is not None and ppr.find(_w("sectPr")) is not None:
        raise _Mismatch  # a section break
    for child in list(p):
        if child is not ppr:
            p.remove(child)
    if ppr is None:
        ppr = etree.Element(PPR)
        p.insert(0, ppr)
    rpr = ppr.find(RPR)
    if rpr is None:
        rpr = etree.Element(RPR)
        later = next((c for c in ppr if c.tag == _w("pPrChange")), None)
        if later is not None:
            later.addprevious(rpr)
        else:
            ppr.append(rpr)
    rpr.insert(0, marks.make(how))
    if tokens:
        mark = marks.make(how)
        mark.extend(_runs(tokens, deleted=how == "del"))
        p.append(mark)


def _mark_row(tr: etree._Element, marks: _Marks, how: str) -> None:
    """Mark a table row as inserted or deleted, with every paragraph of its cells."""
    trpr = tr.find(_w("trPr"))
    if trpr is None:
        trpr = etree.Element(_w("trPr"))
        ex = tr.find(_w("tblPrEx"))
        if ex is not None:
            ex.addnext(trpr)
        else:
            tr.insert(0, trpr)
    later = trpr.find(_w("trPrChange"))
    if later is not None:
        later.addprevious(marks.make(how))
    else:
        trpr.append(marks.make(how))
    for p in list(tr.iter(P)):
        _mark_paragraph(p, marks, how)


# --- one paragraph


def _tokens(p: etree._Element) -> tuple[etree._Element | None, list[tuple[str, str | None, bytes, object]]]:
    """The paragraph properties and the words of ``p``: ``(kind, text, run properties key, payload)``.

    ``kind`` is ``"t"`` for text (payload: the ``w:rPr`` element or ``None``) or ``"x"`` for an atomic
    run element (text: its XML; payload: ``(rPr, element)``).
    """
    ppr, out = None, []
    for child in p:
        if not isinstance(child.tag, str):
            continue
        if child.tag == PPR:
            ppr = child
            continue
        if child.tag != R:
            raise _Mismatch  # hyperlink, bookmark, field, revision already there…
        rpr = child.find(RPR)
        key = etree.tostring(rpr) if rpr is not None else b""
        for item in child:
            if item.tag == RPR or not isinstance(item.tag, str):
                continue
            if item.tag == T:
                out += [("t", tok, key, rpr) for tok in TOKEN.findall(item.text or "")]
            elif item.tag in ATOMIC:
                out.append(("x", etree.tostring(item).decode(), key, (rpr, item)))
            else:
                raise _Mismatch
    return ppr, out


def _weak(tokens) -> bool:
    """True for an unchanged stretch too small to stand between two changes (spaces, a sign, a short word)."""
    text = "".join(t[1] for t in tokens if t[0] == "t")
    words = [w for w in TOKEN.findall(text) if w.strip()]
    return len(tokens) == len([t for t in tokens if t[0] == "t"]) and (
        all(not w[0].isalnum() for w in words) or (len(words) == 1 and len(words[0]) <= 3))


def _opcodes(ta: list, tb: list) -> list[tuple[str, int, int, int, int]]:
    """Word-level differences, with small unchanged islands between two changes absorbed by them."""
    ops = difflib.SequenceMatcher(None, [t[:3] for t in ta], [t[:3] for t in tb], autojunk=False).get_opcodes()
    merged = True
    while merged:
        merged = False
        for k in range(1, len(ops) - 1):
            tag, i1, i2, j1, j2 = ops[k]
            if tag == "equal" and ops[k - 1][0] != "equal" and ops[k + 1][0] != "equal" and _weak(tb[j1:j2]):
                ops[k - 1:k + 2] = [("replace", ops[k - 1][1], ops[k + 1][2], ops[k - 1][3], ops[k + 1][4])]
                merged = True
                break
    return ops


def _runs(tokens, deleted: bool) -> list[etree._Element]:
    """``w:r`` elements holding ``tokens`` (consecutive words of the same formatting in one run)."""
    runs, text_tag = [], _w("delText") if deleted else T
    for key, rpr, group in _groups(tokens):
        del key
        run = etree.Element(R)
        if rpr is not None:
            run.append(copy.deepcopy(rpr))
        pending = ""
        for kind, text, _, payload in group:
            if kind == "t":
                pending += text
                continue
            _text(run, text_tag, pending)
            pending = ""
            run.append(copy.deepcopy(payload[1]))
        _text(run, text_tag, pending)
        runs.append(run)
    return runs


def _groups(tokens):
    group, key, rpr = [], None, None
    for tok in tokens:
        if group and tok[2] != key:
            yield key, rpr, group
            group = []
        if not group:
            key = tok[2]
            rpr = tok[3] if tok[0] == "t" else tok[3][0]
        group.append(tok)
    if group:
        yield key, rpr, group


def _text(run: etree._Element, tag: str, text: str) -> None:
    if not text:
        return
    t = etree.SubElement(run, tag)
    t.text = text
    if text != text.strip():
        t.set(XML_SPACE, "preserve")


def _track_paragraph(a: etree._Element, b: etree._Element, marks: _Marks) -> None:
    ppr_a, ta = _tokens(a)
    ppr_b, tb = _tokens(b)
    if (etree.tostring(ppr_a) if ppr_a is not None else b"") != (etree.tostring(ppr_b) if ppr_b is not None else b""):
        raise _Mismatch  # a change of paragraph formatting: the general comparer records it
    body: list[etree._Element] = []
    for tag, i1, i2, j1, j2 in _opcodes(ta, tb):
        if tag == "equal":
            body += _runs(tb[j1:j2], deleted=False)
            continue
        if i2 > i1:
            mark = marks.make("del")
            mark.extend(_runs(ta[i1:i2], deleted=True))
            body.append(mark)
        if j2 > j1:
            mark = marks.make("ins")
            mark.extend(_runs(tb[j1:j2], deleted=False))
            body.append(mark)
    for child in list(b):
        if child is not ppr_b:
            b.remove(child)
    b.extend(body)
