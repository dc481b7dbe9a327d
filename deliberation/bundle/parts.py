"""Acts converted in parts: what several acts share is laid out by LibreOffice once.

An act's body is cut into *segments* at its page breaks (a paragraph that starts with a page break
begins a segment). The annexed sheets' descriptions are segments, identical in every act of one
dispositif with the same annex number. A segment found identical in two acts or more (same XML, same
styles, numbering definitions, page set-up) is converted once; the rest of each act — its head and
the segments only it has — is converted as one document, its segments found in the PDF by named
destinations (Word bookmarks exported by LibreOffice). Then each act's PDF is assembled page by page
with pypdf, in the act's order.

What depends on the act's position or length is drawn afterwards, once its pages are counted: the
footer (« Délibération n°… — page N/M ») on every page, and « Ce document comprend N pages. ». In the
copies converted, the footer's paragraphs are kept empty and that sentence's paragraph is emptied,
so every line stays where it was; the stamps are drawn where LibreOffice draws them, in Helvetica
(base-14 font, the metrics of Liberation Sans and Arial), with the same line breaks.

An act is converted whole, as before, when a part of it could depend on its position or is not
drawn this way: PDF/A (every font must be embedded), a header with text, a first-page or even-page
footer, several sections, a field other than PAGE and NUMPAGES, a footer with a tab or a picture,
text outside Windows-1252, or a font other than Arial, Liberation Sans or Helvetica.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field, replace

from lxml import etree

from deliberation.bundle.keep import add_bookmark, mark_body, with_keep_marks
from deliberation.bundle.lean import lean_docx
from deliberation.bundle.pdf import add_drawing, base14_font, finish, named_destinations
from deliberation.render.markdown import FICHE_MARK
from deliberation.render.watermark import for_converter, zip_replacing

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


#: Bookmark names (letters and digits only: LibreOffice escapes the rest in destination names).
SEGMENT_MARK, SENTENCE_MARK = "dlbseg", "dlbpages"
#: The fonts whose metrics are Helvetica's (Liberation Sans and Arial were drawn to match them).
HELVETICA_LIKE = {"arial", "liberation sans", "helvetica"}
#: Width of a narrow no-break space (U+202F) in Liberation Sans, thousandths of the size; drawn as a
#: space narrowed by the text operator (Windows-1252 has no such character).
NARROW_NBSP = 200
#: Where LibreOffice puts a footer's last baseline above the footer distance, and a line's height, per
#: point of the font size (Liberation Sans: descent 434, ascent 1854, line gap 67 of 2048), and the
#: distance from a paragraph's top (its destination) down to its baseline.
FOOTER_DESCENT, LINE_HEIGHT, ASCENT = 0.2, 1.157, 0.943


class Unsupported(Exception):  # noqa: N818 - a reason, not an error: the act is converted whole
    """Why an act is converted whole."""


@dataclass(frozen=True)
class Line:
    """A paragraph to draw: pieces of text and the fields ``PAGE`` / ``NUMPAGES``; its font and alignment."""

    pieces: tuple[str | tuple[str], ...]  # a field is a 1-tuple: ("PAGE",) or ("NUMPAGES",)
    size: float
    font: str  # Helvetica, Helvetica-Bold, Helvetica-Oblique, Helvetica-BoldOblique
    align: str  # left, center, right

    def text(self, page: int, pages: int) -> str:
        """The paragraph's text on page ``page`` of ``pages``."""
        return "".join(p if isinstance(p, str) else str(page if p[0] == "PAGE" else pages) for p in self.pieces)


@dataclass
class Stamps:
    """What is drawn on an act's pages once they are counted, and where (points)."""

    footer: list[Line]
    left: float  # the text area, between the margins
    right: float
    footer_distance: float
    sentence: Line | None = None  # « Ce document comprend N pages. », drawn where its bookmark is


@dataclass
class Plan:
    """An act cut into segments, with what its conversion copies are made of."""

    name: str
    parts: dict[str, bytes]  # the package's parts, read (footers emptied)
    infos: list[zipfile.ZipInfo]
    docx: bytes
    segments: list[list[etree._Element]]
    keys: list[str | None]  # a segment converted apart: its key (None: the act's own)
    stamps: Stamps
    head: bytes = b""  # document.xml up to its body's first element
    tail: bytes = b""  # its section properties and the closing tags
    emptied: dict[str, bytes] = field(default_factory=dict)  # the footers, their paragraphs emptied


# ---------------------------------------------------------------------------
# reading the act


def _twips(value: str | None, default: float = 0.0) -> float:
    return int(value) / 20 if value not in (None, "") else default


def _style_props(styles: etree._Element | None, style_id: str | None) -> dict[str, str]:
    """Size, bold, italic and font of a paragraph style (following ``basedOn``), then of the defaults."""
    found: dict[str, str] = {}
    if styles is None:
        return found
    by_id = {s.get(_w("styleId")): s for s in styles.iter(_w("style"))}
    if style_id is None:
        style_id = next((s.get(_w("styleId")) for s in by_id.values()
                         if s.get(_w("type")) == "paragraph" and s.get(_w("default")) == "1"), None)
    seen = set()
    while style_id and style_id in by_id and style_id not in seen:
        seen.add(style_id)
        style = by_id[style_id]
        _merge_rpr(found, style.find(_w("rPr")))
        based = style.find(_w("basedOn"))
        style_id = based.get(_w("val")) if based is not None else None
    defaults = styles.find(f"{_w('docDefaults')}/{_w('rPrDefault')}/{_w('rPr')}")
    _merge_rpr(found, defaults)
    return found


def _merge_rpr(found: dict[str, str], rpr: etree._Element | None) -> None:
    """Fill what ``found`` does not say yet from the run properties ``rpr``."""
    if rpr is None:
        return
    sz = rpr.find(_w("sz"))
    if sz is not None:
        found.setdefault("sz", sz.get(_w("val")))
    for tag in ("b", "i"):
        el = rpr.find(_w(tag))
        if el is not None:
            found.setdefault(tag, "0" if el.get(_w("val")) in ("0", "false") else "1")
    fonts = rpr.find(_w("rFonts"))
    if fonts is not None:
        if fonts.get(_w("ascii")):
            found.setdefault("font", fonts.get(_w("ascii")))
        elif fonts.get(_w("asciiTheme")):
            found.setdefault("theme", fonts.get(_w("asciiTheme")))


def _font(props: dict[str, str], theme: dict[str, str]) -> tuple[float, str]:
    name = props.get("font") or theme.get(props.get("theme", "minorHAnsi"), "")
    if name.lower() not in HELVETICA_LIKE:
        raise Unsupported(f"police « {name} »")
    bold, italic = props.get("b") == "1", props.get("i") == "1"
    base = "Helvetica" + ("-Bold" if bold else "") + ("Oblique" if italic and bold else "-Oblique" if italic else "")
    return int(props.get("sz", "20")) / 2, base


def _line(paragraph: etree._Element, styles, theme) -> Line:
    """A simple paragraph (runs of text, PAGE and NUMPAGES fields) as a ``Line``."""
    ppr = paragraph.find(_w("pPr"))
    style = ppr.find(_w("pStyle")) if ppr is not None else None
    base = _style_props(styles, style.get(_w("val")) if style is not None else None)
    jc = ppr.find(_w("jc")) if ppr is not None else None
    align = {"center": "center", "right": "right", "end": "right"}.get(jc.get(_w("val")) if jc is not None else "",
                                                                      "left")
    pieces: list = []
    sizes = set()
    in_field = None  # a complex field: its instruction, until its end
    for el in paragraph:
        if el.tag == _w("pPr") or el.tag in (_w("bookmarkStart"), _w("bookmarkEnd"), _w("proofErr")):
            continue
        if el.tag == _w("fldSimple"):
            pieces.append((_field(el.get(_w("instr"), "")),))
            sizes.add(_run_font(el.find(_w("r")), base, theme))
            continue
        if el.tag != _w("r"):
            raise Unsupported(f"élément {etree.QName(el).localname} dans un paragraphe tamponné")
        for child in el:
            tag = etree.QName(child).localname
            if tag == "rPr":
                continue
            if tag == "fldChar":
                kind = child.get(_w("fldCharType"))
                if kind == "begin":
                    in_field = ""
                elif kind == "separate" and in_field is not None:
                    pieces.append((_field(in_field),))
                    in_field = "done"
                elif kind == "end":
                    in_field = None
            elif tag == "instrText" and in_field is not None and in_field != "done":
                in_field += child.text or ""
            elif tag == "t" and in_field is None:
                pieces.append(child.text or "")
                sizes.add(_run_font(el, base, theme))
            elif tag in ("t", "lastRenderedPageBreak") or (tag == "t" and in_field == "done"):
                continue
            else:
                raise Unsupported(f"« {tag} » dans un paragraphe tamponné")
    if len(sizes) > 1:
        raise Unsupported("paragraphe tamponné en plusieurs tailles ou polices")
    size, font = sizes.pop() if sizes else _font(base, theme)
    text = "".join(p for p in pieces if isinstance(p, str))
    try:
        text.replace("\u202f", " ").encode("cp1252")
    except UnicodeEncodeError as err:
        raise Unsupported("caractère hors de Windows-1252") from err
    merged: list = []
    for p in pieces:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        else:
            merged.append(p)
    return Line(tuple(merged), size, font, align)


def _run_font(run: etree._Element | None, base: dict[str, str], theme) -> tuple[float, str]:
    props: dict[str, str] = {}
    if run is not None:
        _merge_rpr(props, run.find(_w("rPr")))
    for k, v in base.items():
        props.setdefault(k, v)
    return _font(props, theme)


def _field(instr: str) -> str:
    word = instr.strip().split()[0].upper() if instr.strip() else ""
    if word not in ("PAGE", "NUMPAGES"):
        raise Unsupported(f"champ {word or 'vide'}")
    return word


def _theme_fonts(parts: dict[str, bytes]) -> dict[str, str]:
    data = parts.get("word/theme/theme1.xml")
    if not data:
        return {}
    root = etree.fromstring(data)
    out = {}
    for kind, names in (("minor", ("minorHAnsi", "minorAscii")), ("major", ("majorHAnsi", "majorAscii"))):
        latin = root.find(f".//{{{A}}}{kind}Font/{{{A}}}latin")
        if latin is not None:
            for n in names:
                out[n] = latin.get("typeface", "")
    return out


def _starts_page(el: etree._Element) -> bool:
    """A paragraph whose first content is a page break (what comes after it starts a page)."""
    if el.tag != _w("p"):
        return False
    for run in el:
        if run.tag in (_w("pPr"), _w("bookmarkStart"), _w("bookmarkEnd")):
            continue
        if run.tag != _w("r"):
            return False
        for child in run:
            if child.tag == _w("rPr"):
                continue
            return child.tag == _w("br") and child.get(_w("type")) == "page"
    return False


def _fields_in(el: etree._Element) -> list[str]:
    found = [f.get(_w("instr"), "") for f in el.iter(_w("fldSimple"))]
    found += [t.text or "" for t in el.iter(_w("instrText"))]
    return [f.strip().split()[0].upper() for f in found if f.strip()]


def plan_act(name: str, docx: bytes) -> Plan:
    """Cut the act ``docx`` (as handed to LibreOffice) into segments, and read what is stamped on it.

    Raises:
        Unsupported: the act is to be converted whole (the reason, in French).

    """
    try:
        z = zipfile.ZipFile(io.BytesIO(docx))
        infos = z.infolist()
        parts = {i.filename: z.read(i) for i in infos}
        root = etree.fromstring(parts["word/document.xml"])
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError) as err:
        raise Unsupported("document illisible") from err
    body = root.find(_w("body"))
    children = list(body)
    if not children or children[-1].tag != _w("sectPr"):
        raise Unsupported("pas de mise en page finale")
    sect = children[-1]
    if body.find(f".//{_w('pPr')}/{_w('sectPr')}") is not None:
        raise Unsupported("plusieurs sections")
    if sect.find(_w("titlePg")) is not None:
        raise Unsupported("première page distincte")
    styles = etree.fromstring(parts["word/styles.xml"]) if "word/styles.xml" in parts else None
    theme = _theme_fonts(parts)
    rels = etree.fromstring(parts.get("word/_rels/document.xml.rels", b"<Relationships/>"))
    target = {r.get("Id"): "word/" + r.get("Target", "").lstrip("/").removeprefix("word/") for r in rels}
    footers = []
    for ref in sect.findall(_w("footerReference")):
        if ref.get(_w("type")) != "default":
            raise Unsupported("pied de page de première page ou de page paire")
        footers.append(target[ref.get(f"{{{R}}}id")])
    for ref in sect.findall(_w("headerReference")):
        header = etree.fromstring(parts[target[ref.get(f"{{{R}}}id")]])
        if "".join(header.itertext()).strip() or header.find(f".//{_w('drawing')}") is not None:
            raise Unsupported("en-tête non vide")
    lines: list[Line] = []
    for path in footers:
        footer = etree.fromstring(parts[path])
        for el in footer:
            if el.tag != _w("p"):
                raise Unsupported("pied de page autre qu'en paragraphes")
            lines.append(_line(el, styles, theme))
            for child in list(el):  # the copy converted keeps the paragraph, empty
                if child.tag != _w("pPr"):
                    el.remove(child)
        parts[path] = etree.tostring(footer, xml_declaration=True, encoding="UTF-8", standalone=True)
    size = sect.find(_w("pgSz"))
    margins = sect.find(_w("pgMar"))
    width = _twips(size.get(_w("w")) if size is not None else None, 595.3)
    stamps = Stamps(lines, _twips(margins.get(_w("left"))), width - _twips(margins.get(_w("right"))),
                    _twips(margins.get(_w("footer")), 36.0))
    segments: list[list[etree._Element]] = [[]]
    sentence_at = None
    for el in children[:-1]:
        fields = _fields_in(el)
        if fields:
            if el.tag != _w("p") or fields != ["NUMPAGES"] or stamps.sentence is not None:
                raise Unsupported("champ de page dans le corps")
            stamps.sentence = _line(el, styles, theme)
            sentence_at = len(segments) - 1
        if _starts_page(el) and segments[-1]:
            segments.append([])
        segments[-1].append(el)
    if sentence_at is not None and len(segments) > 1:
        sentence_at = next(k for k, seg in enumerate(segments) for el in seg if _fields_in(el))
    fingerprint = _package_key(parts, sect, footers)
    keys = [None] + [_segment_key(seg, parts, fingerprint) for seg in segments[1:]]
    if sentence_at is not None:
        keys[sentence_at] = None
    raw = parts["word/document.xml"]
    start = re.search(rb"<w:body\b[^>]*>", raw)
    if start is None:
        raise Unsupported("corps introuvable")
    tail = etree.tostring(sect) + b"</w:body></w:document>"
    plan = Plan(name, parts, infos, docx, segments, keys, stamps, raw[:start.end()], tail)
    plan.emptied = {path: parts[path] for path in footers}
    return plan


def _package_key(parts: dict[str, bytes], sect: etree._Element, footers: list[str]) -> bytes:
    """What, besides its own XML, makes a segment lay out as it does."""
    h = hashlib.sha256()
    for name in ("word/styles.xml", "word/settings.xml", "word/theme/theme1.xml", "word/fontTable.xml",
                 *footers):
        h.update(name.encode() + b"\0" + parts.get(name, b"") + b"\0")
    plain = copy.deepcopy(sect)
    for ref in plain.findall(_w("footerReference")) + plain.findall(_w("headerReference")):
        plain.remove(ref)
    h.update(etree.tostring(plain))
    return h.digest()


_NUM_ID = re.compile(rb'<w:numId w:val="(\d+)"/>')


def _segment_key(segment: list[etree._Element], parts: dict[str, bytes], fingerprint: bytes) -> str | None:
    """The key under which identical segments are converted once; None if the segment is the act's own.

    Only a segment marked as the same for every act of its kind (a bookmark named ``FICHE_MARK…``,
    which the sheets' descriptions carry) is converted apart: what an act's PDF is made of then depends
    on that act alone, whichever other acts the build converts.
    """
    xml = b"".join(etree.tostring(el) for el in segment)
    if FICHE_MARK.encode() not in xml:
        return None
    if b' r:id="' in xml or b" r:embed=" in xml or b"<w:sectPr" in xml:
        return None  # pictures, links: relationships of this act's package
    h = hashlib.sha256(fingerprint)
    ids = list(dict.fromkeys(_NUM_ID.findall(xml)))
    if ids:
        numbering = etree.fromstring(parts.get("word/numbering.xml", b"<w:numbering xmlns:w='%s'/>" % W.encode()))
        nums = {n.get(_w("numId")): n for n in numbering.iter(_w("num"))}
        abstracts = {a.get(_w("abstractNumId")): a for a in numbering.iter(_w("abstractNum"))}
        for k, num_id in enumerate(ids):  # the same lists, whatever their numbers in each act
            xml = xml.replace(b'<w:numId w:val="%s"/>' % num_id, b'<w:numId w:val="#%d"/>' % k)
            num = nums.get(num_id.decode())
            if num is None:
                return None
            abstract = abstracts.get(num.find(_w("abstractNumId")).get(_w("val")))
            if abstract is None:
                return None
            plain = copy.deepcopy(abstract)
            plain.attrib.pop(_w("abstractNumId"), None)
            for tag in ("nsid", "tmpl"):
                for el in plain.findall(_w(tag)):
                    plain.remove(el)
            h.update(etree.tostring(plain) + etree.tostring(num.find(_w("abstractNumId")).getnext()
                                                            if num.find(_w("abstractNumId")).getnext() is not None
                                                            else etree.Element("none")))
    h.update(re.sub(rb' w:id="\d+"', b"", xml))
    return h.hexdigest()


# ---------------------------------------------------------------------------
# the copies converted


def _package(plan: Plan, elements: list[bytes], keep_marks: bool = False) -> bytes:
    """The act's package with these body ``elements`` (``keep_marks``: with ``keep.with_keep_marks``'s bookmarks).

    Compressed at zlib's level 1: a copy is read once, by LibreOffice.
    """
    document = plan.head + b"".join(elements) + plan.tail
    if keep_marks:
        root = etree.fromstring(document)
        if mark_body(root):
            document = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return zip_replacing(plan.docx, plan.infos, {**plan.emptied, "word/document.xml": document}, level=1)


def mark(k: int | str) -> str:
    """The bookmark where the act's segment ``k`` starts in its own copy (``P``: the pages sentence)."""
    return f"{SEGMENT_MARK}{k}"


def own_copy(plan: Plan, keep_marks: bool = False) -> bytes:
    """The act without the segments converted apart; bookmarks where each of its segments starts.

    A segment's bookmark is in its first paragraph after the page break: LibreOffice places a bookmark
    in the paragraph holding the break where the break is, at the foot of the page before.
    ``keep_marks``: with the « keep with next » marks (``keep.with_keep_marks``), put in before zipping.
    """
    elements = []
    for k, segment in enumerate(plan.segments):
        if plan.keys[k] is not None:
            continue
        marked = False
        for i, el in enumerate(segment):
            first = None if marked or (k and i == 0) else (el if el.tag == _w("p") else next(el.iter(_w("p")), None))
            sentence = bool(_fields_in(el))
            if first is not None or sentence:
                el = copy.deepcopy(el)
            if sentence:
                for child in list(el):
                    if child.tag != _w("pPr"):
                        el.remove(child)
                add_bookmark(el, mark("P"), 999_999)
            if first is not None:
                first = el if el.tag == _w("p") else next(el.iter(_w("p")))
                add_bookmark(first, mark(k), 900_000 + k)
                marked = True
            elements.append(etree.tostring(el))
        if not marked:
            raise Unsupported(f"partie {k} sans paragraphe")
    return _package(plan, elements, keep_marks)


def shared_copy(plan: Plan, k: int, keep_marks: bool = False) -> bytes:
    """Segment ``k`` of the act alone (its first paragraph without the page break that starts it)."""
    first = copy.deepcopy(plan.segments[k][0])
    for run in first.findall(_w("r")):
        br = run.find(_w("br"))
        if br is not None and br.get(_w("type")) == "page":
            run.remove(br)
            break
    return _package(plan, [etree.tostring(first)] + [etree.tostring(el) for el in plan.segments[k][1:]], keep_marks)


# ---------------------------------------------------------------------------
# assembling and stamping


def _widths(font: str) -> dict[str, int]:
    from pypdf._codecs.core_font_metrics import CORE_FONT_METRICS

    return CORE_FONT_METRICS[font].character_widths


def text_width(text: str, font: str, size: float) -> float:
    """Width of ``text`` in ``font`` at ``size`` points (Helvetica's metrics; U+202F as in Liberation Sans)."""
    widths = _widths(font)
    default = widths.get("default", 556)
    units = sum(NARROW_NBSP if c == "\u202f" else widths.get(" " if c == "\u00a0" else c, default) for c in text)
    return units * size / 1000


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width``, where LibreOffice breaks them (spaces, hyphens)."""
    return list(_wrap(text, font, size, width))


@functools.lru_cache(maxsize=4096)  # the same footers on every page of every act, but for their numbers
def _wrap(text: str, font: str, size: float, width: float) -> tuple[str, ...]:
    pieces, at = [], 0
    for m in re.finditer(r" +|(?<=[^\W\d_]-)(?=[^\W\d_])", text):
        end = m.end()
        pieces.append(text[at:end])
        at = end
    if at < len(text):
        pieces.append(text[at:])
    lines: list[str] = []
    current = ""
    for piece in pieces:
        if current and text_width((current + piece).rstrip(" "), font, size) > width + 0.01:
            lines.append(current.rstrip(" "))
            current = piece
        else:
            current += piece
    if current or not lines:
        lines.append(current.rstrip(" "))
    return tuple(lines)


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _show(text: str) -> bytes:
    """``text`` as a TJ array: narrow no-break spaces drawn as spaces narrowed to their width."""
    pieces = text.split("\u202f")
    out = [_pdf_string(pieces[0])]
    space = 278
    for piece in pieces[1:]:
        out += [_pdf_string(" "), str(space - NARROW_NBSP).encode(), _pdf_string(piece)]
    return b"[" + b" ".join(out) + b"] TJ"


def draw_lines(line: Line, text: str, left: float, right: float, baseline: float, resource: str) -> tuple[bytes, int]:
    """Content drawing ``text`` wrapped within ``left``–``right``, its first baseline at ``baseline``."""
    rows = wrap(text, line.font, line.size, right - left)
    ops = []
    for k, row in enumerate(rows):
        w = text_width(row, line.font, line.size)
        x = left + ((right - left - w) / 2 if line.align == "center" else right - left - w if line.align == "right"
                    else 0)
        y = baseline - k * LINE_HEIGHT * line.size
        ops.append(b"BT /%s %s Tf %.2f %.2f Td %s ET" % (resource.encode(), f"{line.size:g}".encode(), x, y,
                                                         _show(row)))
    return b" ".join(ops), len(rows)


def stamp_page(writer, page, stamps: Stamps, number: int, total: int, fonts: dict,
               sentence_at: tuple[float, float] | None) -> None:
    """Draw the footer (and the sentence, at ``sentence_at``: left, top) on ``page``."""
    ops = []
    texts = [(line, line.text(number, total)) for line in stamps.footer]
    rows = [len(wrap(t, line.font, line.size, stamps.right - stamps.left)) for line, t in texts]
    # the last line sits on the footer distance; the lines above it, one line height each
    y = stamps.footer_distance
    if texts:
        last = texts[-1][0]
        y += FOOTER_DESCENT * last.size
        heights = [n * LINE_HEIGHT * line.size for (line, _), n in zip(texts, rows, strict=True)]
        y += sum(heights) - LINE_HEIGHT * last.size
    resources = {}
    for (line, text), n in zip(texts, rows, strict=True):
        res = _resource(line.font, fonts, writer, resources)
        drawn, _ = draw_lines(line, text, stamps.left, stamps.right, y, res)
        ops.append(drawn)
        y -= n * LINE_HEIGHT * line.size
    if sentence_at is not None and stamps.sentence is not None:
        line = stamps.sentence
        res = _resource(line.font, fonts, writer, resources)
        left, top = sentence_at
        drawn, _ = draw_lines(line, line.text(number, total), left, stamps.right, top - ASCENT * line.size, res)
        ops.append(drawn)
    if not ops:
        return
    names = list(resources)
    add_drawing(writer, page, names[0], resources[names[0]], after=b" ".join(ops))
    for extra in names[1:]:
        page["/Resources"].get_object()["/Font"].get_object()[f"/{extra}"] = resources[extra]


def _resource(font: str, fonts: dict, writer, used: dict) -> str:
    if font not in fonts:
        fonts[font] = base14_font(writer, font)
    name = f"DlbS{list(fonts).index(font)}"
    used[name] = fonts[font]
    return name


@dataclass(frozen=True)
class Assembly:
    """What assembling one act needs (picklable: sent to the worker processes)."""

    name: str  # the act's DOCX in the bundle
    own: str  # the PDF of its own copy
    segments: tuple[str | None, ...]  # each segment: the PDF of its copy converted apart, or None (own)
    stamps: Stamps


def assemble(act: Assembly, own_pdf: bytes, apart: dict[str, bytes], when, title: str | None,
             projet: bool) -> tuple[bytes, int]:
    """The act's PDF: its own pages and its segments converted apart, in order; stamped, reproducible.

    Raises:
        Unsupported: a segment's bookmark is not in its own copy's PDF (the act is then converted whole).

    """
    from pypdf import PdfReader, PdfWriter

    own = PdfReader(io.BytesIO(own_pdf))
    marks = named_destinations(own_pdf)
    starts = []
    for k, copy_pdf in enumerate(act.segments):
        if copy_pdf is None:
            if mark(k) not in marks:
                raise Unsupported(f"partie {k} introuvable dans le PDF")
            starts.append((marks[mark(k)][0], k))
    starts.sort()
    ranges = {k: (p, starts[i + 1][0] if i + 1 < len(starts) else len(own.pages)) for i, (p, k) in enumerate(starts)}
    writer = PdfWriter()
    where: dict[int, int] = {}  # page of the own copy → page of the act
    for k, copy_pdf in enumerate(act.segments):
        if copy_pdf is not None:
            for page in PdfReader(io.BytesIO(apart[copy_pdf])).pages:
                writer.add_page(page)
        else:
            first, end = ranges[k]
            for p in range(first, end):
                where[p] = len(writer.pages)
                writer.add_page(own.pages[p])
    total = len(writer.pages)
    sentence = marks.get(mark("P"))
    fonts: dict = {}
    for i, page in enumerate(writer.pages):
        at = (sentence[1], sentence[2]) if sentence is not None and where.get(sentence[0]) == i else None
        stamp_page(writer, page, act.stamps, i + 1, total, fonts, at)
    return finish(writer, when, title, projet), total


def is_act(name: str) -> bool:
    """True for an act's DOCX in the bundle (``actes/<structure>/….docx``)."""
    return name.startswith("actes/") and name.endswith(".docx") and name.count("/") == 2


@dataclass
class Prepared:
    """The copies to convert for some acts, and how to assemble their PDFs afterwards."""

    docs: dict[str, bytes] = field(default_factory=dict)  # copy name (.docx) → bytes to convert
    acts: list[Assembly] = field(default_factory=list)
    whole: dict[str, str] = field(default_factory=dict)  # act converted whole → why
    # with ``prepare(…, lean=True)``: each document as handed to LibreOffice, those converted whole with their
    # « keep with next » marks, and the PDFs of the documents marked « PROJET »
    handed: dict[str, bytes] = field(default_factory=dict)
    whole_copies: dict[str, bytes] = field(default_factory=dict)
    projets: set[str] = field(default_factory=set)


def _prepare_one(item: tuple[int, str, bytes], made: set[str] | None = None,
                 ) -> tuple[str, object, dict[str, bytes]]:
    """Plan one act: its own copy and the copies of its segments converted apart (or why it goes whole).

    ``made``: keys of segments whose copies this batch has already made (not made again: ``prepare``
    keeps the first act's, in name order).
    """
    _, name, docx = item
    if FICHE_MARK.encode() not in docx and not _marked(docx):
        return name, "aucune partie commune", {}
    try:
        plan = plan_act(name, docx)
        if all(key is None for key in plan.keys):
            return name, "aucune partie commune", {}
        own = name  # its own copy takes its name: a failed conversion names the act
        docs = {own: own_copy(plan, keep_marks=True)}
    except Unsupported as why:
        return name, str(why), {}
    except (KeyError, ValueError, TypeError, AttributeError, IndexError, StopIteration, etree.LxmlError) as err:
        return name, f"document inattendu ({type(err).__name__})", {}  # a template edited by hand: whole
    segments = []
    for k, key in enumerate(plan.keys):
        if key is None:
            segments.append(None)
        else:
            copy_name = f"{name[:-5]}-partie-{k}.docx"  # named after the first act showing it (sorted)
            if made is None or key not in made:
                docs[key] = (copy_name, shared_copy(plan, k, keep_marks=True))
                if made is not None:
                    made.add(key)
            segments.append(key)
    return name, Assembly(name, own[:-5] + ".pdf", tuple(segments), plan.stamps), docs


def _lean_one(item: tuple[int, str, bytes], made: set[str] | None = None) -> tuple:
    """``_prepare_one`` of the document as handed to LibreOffice; with that copy and whether it is a « PROJET »."""
    index, name, docx = item
    docx, marked = for_converter(docx)
    docx = lean_docx(docx)
    name, result, docs = _prepare_one((index, name, docx), made)
    if isinstance(result, str):  # converted whole: its copy with its « keep with next » marks
        docs = {name: with_keep_marks(docx)}
    return name, result, docs, docx, marked


def _marked(docx: bytes) -> bool:
    """True if the document's body names a segment converted apart (``FICHE_MARK``)."""
    try:
        with zipfile.ZipFile(io.BytesIO(docx)) as z:
            return FICHE_MARK.encode() in z.read("word/document.xml")
    except (zipfile.BadZipFile, KeyError, OSError):
        return False


def _prepare_batch(items: list) -> list:
    made: set[str] = set()  # a segment's copy made once per batch (the acts are in order: the first names it)
    return [_prepare_one(item, made) for item in items]


def _lean_batch(items: list) -> list:
    made: set[str] = set()
    return [_lean_one(item, made) for item in items]


#: Below this many acts, preparing or assembling them in this process is faster than forking workers
#: (the example's 22 acts: assembling 0.4 → 0.3 s, preparing 0.25 → 0.15 s on two cores).
PARALLEL_FROM = 8


def _map(fn, items: list, jobs: int | None) -> list:
    """``fn`` over batches of ``items`` (each a list), in forked workers when there are many."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(items) < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return fn(items)
    size = max(4, len(items) // (jobs * 4))
    batches = [items[k:k + size] for k in range(0, len(items), size)]
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        return [one for batch in pool.map(fn, batches) for one in batch]


def prepare(acts: dict[str, bytes], jobs: int | None = None, lean: bool = False) -> Prepared:
    """Plan each document (name → DOCX as handed to LibreOffice) and make the copies to convert.

    A document with no segment to convert apart (no sheet description) is left whole (``whole``, with
    the reason), as is one that cannot be converted in parts.
    A segment converted apart is made once whatever the number of acts showing it (same key, same copy).
    ``lean``: ``acts`` are the bundle's documents; the same workers first make each as it is handed to
    LibreOffice (``watermark.for_converter``, ``lean.lean_docx``: ``handed``, ``projets``), and give each
    one converted whole its « keep with next » marks (``whole_copies``).
    """
    out = Prepared()
    items = [(i, n, acts[n]) for i, n in enumerate(sorted(acts))]
    done = _map(_lean_batch, items, jobs) if lean else [(*r, acts[r[0]], False)
                                                        for r in _map(_prepare_batch, items, jobs)]
    named: dict[str, str] = {}  # key of a segment converted apart → its copy's PDF
    for name, result, docs, handed, projet in done:
        if lean:
            out.handed[name] = handed
        if projet:
            out.projets.add(name[:-5] + ".pdf")
        if isinstance(result, str):
            out.whole[name] = result
            if lean:
                out.whole_copies[name] = docs[name]
            continue
        out.docs[name] = docs.pop(name)
        for key, (copy_name, data) in docs.items():
            if key not in named:
                named[key] = copy_name[:-5] + ".pdf"
                out.docs[copy_name] = data
        out.acts.append(replace(result, segments=tuple(None if s is None else named[s] for s in result.segments)))
    return out


def _assemble_batch(items: list) -> list:
    out = []
    for act, own, apart, when, title, projet in items:
        try:
            out.append((act.name, assemble(act, own, apart, when, title, projet)))
        except Unsupported as why:
            out.append((act.name, str(why)))
    return out


def assemble_all(prep: Prepared, raw: dict[str, bytes], when, titles: dict[str, str], projets: set[str],
                 jobs: int | None = None) -> tuple[dict[str, tuple[bytes, int]], list[str]]:
    """Every act's finished PDF (bytes, pages) by its PDF name, over the cores; and the acts left to convert whole."""
    items = []
    for act in prep.acts:
        pdf_name = act.name[:-5] + ".pdf"
        apart = {p: raw[p] for p in act.segments if p is not None}
        items.append((act, raw[act.own], apart, when, titles.get(pdf_name), pdf_name in projets))
    out: dict[str, tuple[bytes, int]] = {}
    failed: list[str] = []
    for name, result in _map(_assemble_batch, items, jobs):
        if isinstance(result, str):
            failed.append(name)
        else:
            out[name[:-5] + ".pdf"] = result
    return out, failed


__all__ = ["FICHE_MARK", "Assembly", "Plan", "Prepared", "Stamps", "Unsupported", "assemble", "assemble_all",
           "is_act", "own_copy", "plan_act", "prepare", "shared_copy", "wrap"]
