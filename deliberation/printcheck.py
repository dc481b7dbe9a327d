"""The print check (issue 19): reads the converted PDFs and reports what would print badly.

LibreOffice lays the Word documents out; what it does with a narrow column, a heading at the foot of a
page or a long table row is only visible in the PDF. This module reads each converted PDF with
pdfplumber (characters with their positions, fonts and rotation, and the table ruling lines) and
reports, page by page:

- ``impression.cellule_coupee``: an amount, a date or a word broken across two lines of a table cell;
- ``impression.titre_orphelin``: a page (not the last) whose last body line is a heading: « Article N : »,
  a line ending with « : », or a line entirely in bold;
- ``impression.signature_coupee``: a signature block (from « Fait à », « Pour le Département »,
  « LE PRESIDENT DU CONSEIL DEPARTEMENTAL »… to the end of the document) on two pages;
- ``impression.ligne_coupee``: a table row cut by a page break (the source Word table tells where rows
  start; without it, a continued table whose first row has an empty first cell);
- ``impression.ponctuation_seule``: a line holding only punctuation (« ; », « : », « » »…);
- ``impression.numero_absent``: a page of ``bundle.pdf`` without its number « N/M »;
- ``impression.filigrane_absent``: a page of a PROJET document (first page saying PROJET) without the
  diagonal « PROJET » watermark (rotated text).

The footer (the stamp) is the band of the page within ``FOOTER_BAND`` points of the bottom edge: the
templates' body text stops about 75 points above it, their stamp sits 45 to 50 points above it.

Reading is the costly part (pdfminer interprets every glyph): documents are read in parallel and the
result of each is kept in the parse cache under the SHA-256 of the PDF (and of its Word source).
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

#: The codes of the print check, in the order of the issue's list.
CODES = ("impression.cellule_coupee", "impression.titre_orphelin", "impression.signature_coupee",
         "impression.ligne_coupee", "impression.ponctuation_seule", "impression.numero_absent",
         "impression.filigrane_absent")
#: Height of the footer band (the stamp), in points from the bottom edge of the page.
FOOTER_BAND = 64.0
#: Height of the band where ``bundle.pdf`` prints its page number, at the top and at the bottom, in points.
NUMBER_BAND = 90.0
#: Version of what is cached: bump it when a heuristic changes.
CACHE_VERSION = "impression-2"

_BREAKING = " \t"  # spaces where a line may break; no-break spaces (« 8 589 450,00 ») are not
_PUNCT_ONLY = re.compile(r"[;:.,!?«»…)(\[\]’'\"\s\u00a0\u202f]+")
_HAS_PUNCT = re.compile(r"[;:.,!?«»…]")
_ARTICLE = re.compile(r"^Article\s+\d+\s*:", re.IGNORECASE)
_MONTHS = ("janvier", "février", "fevrier", "mars", "avril", "mai", "juin", "juillet", "août", "aout",
           "septembre", "octobre", "novembre", "décembre", "decembre")
_DAY = re.compile(r"(?:[1-9]|[12]\d|3[01]|1er)")
_LETTERS = re.compile(r"[^\W\d_]+")
#: Where a signature block starts: a whole line (or the start of one) of these forms.
_SIGNATURE = re.compile(
    r"^(?:Fait\s+(?:à|a|en)\b|(?:A|À)\s+\S+,?\s+le\b|Pour\s+le\s+Département\b|Pour\s+l['’]association\b|"
    r"Pour\s+la\s+structure\b|Pour\s+l['’]organisme\b|Pour\s+le\s+Président\b|"
    r"Le\s+Président\s+du\s+Conseil\s+[dD]épartemental,?\s*$|LE\s+PRESIDENT\s+DU\s+CONSEIL\s+DEPARTEMENTAL,?\s*$)")
#: What ends a signature block before the end of the document: an annex heading.
_PART = re.compile(r"^(?:ANNEXE|Annexe)\b")


@dataclass(frozen=True)
class Line:
    """A run of text on one line: its text, box (points, from the top of the page) and whether all of it is bold."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    bold: bool


@dataclass(frozen=True)
class Cell:
    """A cell of a ruled table: its box and its lines, top to bottom."""

    bbox: tuple[float, float, float, float]
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Table:
    """A ruled table found on a page: its box and its rows, each a tuple of cells (None where merged)."""

    bbox: tuple[float, float, float, float]
    rows: tuple[tuple[Cell | None, ...], ...]


@dataclass(frozen=True)
class PageText:
    """What the checks read of one page."""

    number: int  # 1-based
    width: float
    height: float
    lines: tuple[Line, ...]  # every upright run, top to bottom (tables included)
    tables: tuple[Table, ...]
    rotated: str  # the text of the characters that are not upright (a diagonal watermark)

    @property
    def footer_top(self) -> float:
        """Where the footer band starts (points from the top)."""
        return self.height - FOOTER_BAND

    def in_table(self, line: Line) -> bool:
        """True when the run lies inside one of the page's tables."""
        cx, cy = (line.x0 + line.x1) / 2, (line.top + line.bottom) / 2
        return any(t.bbox[0] <= cx <= t.bbox[2] and t.bbox[1] <= cy <= t.bbox[3] for t in self.tables)

    def body(self) -> list[Line]:
        """The runs above the footer band."""
        return [ln for ln in self.lines if ln.top < self.footer_top]


@dataclass(frozen=True)
class Issue:
    """A defect found on a page: its code, the 1-based page, and the French message (without the file name)."""

    code: str
    page: int
    message: str


@dataclass
class Report:
    """Every issue of one PDF."""

    issues: list[Issue] = field(default_factory=list)


def available() -> bool:
    """True when pdfplumber can be imported (the ``pdf`` extra is installed)."""
    try:
        import pdfplumber  # noqa: F401
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------
# reading


def _is_bold(fontname: str) -> bool:
    name = fontname.split("+", 1)[-1].lower()
    return "bold" in name or "black" in name or "heavy" in name


def _group_lines(chars: list[dict]) -> list[Line]:
    """Group characters into runs: same line (vertical overlap), split where the horizontal gap is wide."""
    out: list[Line] = []
    rows: list[list[dict]] = []
    for ch in sorted(chars, key=lambda c: (c["top"], c["x0"])):
        if rows:
            cur = rows[-1]
            top, bottom = min(c["top"] for c in cur[:1]), max(c["bottom"] for c in cur[:1])
            h = min(ch["bottom"] - ch["top"], bottom - top) or 1.0
            overlap = min(bottom, ch["bottom"]) - max(top, ch["top"])
            if overlap >= 0.5 * h:
                cur.append(ch)
                continue
        rows.append([ch])
    for row in rows:
        row.sort(key=lambda c: c["x0"])
        runs: list[list[dict]] = [[]]
        for ch in row:
            if runs[-1] and ch["x0"] - runs[-1][-1]["x1"] > 2.5 * max(ch["size"], 1.0):
                runs.append([])
            runs[-1].append(ch)
        for run in runs:
            text = ""
            prev = None
            for ch in run:
                if prev is not None and ch["x0"] - prev["x1"] > 0.2 * max(ch["size"], 1.0) \
                        and not text.endswith(" ") and ch["text"] != " ":
                    text += " "
                text += ch["text"]
                prev = ch
            visible = [c for c in run if c["text"].strip()]
            if not visible:
                continue
            out.append(Line(re.sub(r" +", " ", text).strip(), min(c["x0"] for c in visible),
                            max(c["x1"] for c in visible), min(c["top"] for c in visible),
                            max(c["bottom"] for c in visible), all(_is_bold(c["fontname"]) for c in visible)))
    return out


def _level(matrix) -> bool:
    """True for a glyph set level, as text is read (pdfminer's ``upright`` also holds for a 45° watermark)."""
    a, b, c, d = matrix[:4]
    return a > 0 and d > 0 and abs(b) < 1e-3 and abs(c) < 1e-3


def _light_chars(page) -> None:
    """Make pdfplumber turn each glyph into a small dict (the few keys read here): twice as fast on these PDFs."""
    from pdfminer.layout import LTChar

    full = page.process_object
    height, (mb_x0, mb_top) = page.height, page.mediabox[:2]

    def process(obj):
        if isinstance(obj, LTChar):
            return {"object_type": "char", "text": obj.get_text(), "fontname": str(obj.fontname),
                    "size": obj.size, "upright": _level(obj.matrix), "x0": obj.x0 + mb_x0, "x1": obj.x1 + mb_x0,
                    "top": height - obj.y1 + mb_top, "bottom": height - obj.y0 + mb_top}
        return full(obj)

    page.process_object = process


def read_pages(data: bytes) -> list[PageText]:
    """Read a PDF's pages: runs of text, ruled tables with their cells, rotated text.

    Raises:
        ImportError: pdfplumber is not installed.

    """
    import pdfplumber

    pages: list[PageText] = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            _light_chars(page)
            chars = page.chars
            upright = [c for c in chars if c["upright"]]
            rotated = "".join(c["text"] for c in chars if not c["upright"])
            tables = []
            if page.edges:
                for found in page.find_tables({"vertical_strategy": "lines", "horizontal_strategy": "lines"}):
                    rows = []
                    for row in found.rows:
                        cells = []
                        for box in row.cells:
                            if box is None:
                                cells.append(None)
                                continue
                            x0, top, x1, bottom = box
                            inside = [c for c in upright if x0 <= (c["x0"] + c["x1"]) / 2 <= x1
                                      and top <= (c["top"] + c["bottom"]) / 2 <= bottom]
                            cells.append(Cell(tuple(box), tuple(_group_lines(inside))))
                        rows.append(tuple(cells))
                    tables.append(Table(tuple(found.bbox), tuple(rows)))
            pages.append(PageText(page.page_number, float(page.width), float(page.height),
                                  tuple(_group_lines(upright)), tuple(tables), rotated))
            page.close()
    return pages


def docx_cells(data: bytes) -> list[str]:
    """The text of every table cell of a Word document (nested tables included), in document order."""
    from docx import Document

    out: list[str] = []

    def walk(tables) -> None:
        for table in tables:
            for row in table.rows:
                seen = set()
                for cell in row.cells:
                    if id(cell._tc) in seen:  # a merged cell is listed once per grid column
                        continue
                    seen.add(id(cell._tc))
                    out.append("\n".join(p.text for p in cell.paragraphs))
                    walk(cell.tables)

    walk(Document(io.BytesIO(data)).tables)
    return out


def docx_text(data: bytes) -> str:
    """All the text of a Word document (body, tables, headers and footers), from its XML."""
    import zipfile

    from lxml import etree

    parts = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("word/") and name.endswith(".xml") and "/_rels/" not in name:
                root = etree.fromstring(z.read(name))
                for p in root.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}p"):
                    parts.append("".join(t.text or "" for t in p.iter(
                        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t")))
    return "\n".join(parts)


# ---------------------------------------------------------------------------
# the checks, on pages already read


def _norm(text: str) -> str:
    """Lower-case letters and digits only: what is compared between the PDF and its Word source."""
    return "".join(c for c in unicodedata.normalize("NFC", text).lower() if c.isalnum())


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(f"[{_BREAKING}]+", text) if t]


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def vocabulary(texts: Iterable[str]) -> set[str]:
    """The words (letters only, lower case) of ``texts``."""
    return {w.lower() for t in texts for w in _LETTERS.findall(t)}


def _cut(a: str, b: str, words: set[str]) -> str | None:
    """Why the line break between cell lines ``a`` and ``b`` cuts an amount, a date or a word, or None."""
    ta, tb = _tokens(a), _tokens(b)
    if not ta or not tb:
        return None
    last, first = ta[-1], tb[0]
    if (last[-1].isdigit() or last[-1] == ",") and (first[0].isdigit() or first[0] == "€"):
        return "montant coupé"
    if _DAY.fullmatch(last) and first.lower().rstrip(".,;") in _MONTHS:
        return "date coupée"
    wa, wb = _LETTERS.findall(last), _LETTERS.findall(first)
    if wa and wb and last[-1].isalpha() and first[0].isalpha():
        head, tail = wa[-1].lower(), wb[0].lower()
        if (head + tail) in words and head not in words:
            return "mot coupé"
    return None


def check_cells(pages: list[PageText], words: set[str]) -> list[Issue]:
    """Amounts, dates and words broken across two lines of a table cell."""
    out = []
    for page in pages:
        for table in page.tables:
            for row in table.rows:
                for cell in row:
                    if cell is None:
                        continue
                    for a, b in zip(cell.lines, cell.lines[1:], strict=False):
                        why = _cut(a.text, b.text, words)
                        if why:
                            out.append(Issue("impression.cellule_coupee", page.number,
                                             f"{why} dans une cellule de tableau : « {_short(a.text, 40)} » / "
                                             f"« {_short(b.text, 40)} » (élargir la colonne ou réduire le texte)"))
    return out


def _rows(lines: list[Line]) -> list[list[Line]]:
    """Runs grouped into visual rows (vertical overlap), top to bottom."""
    rows: list[list[Line]] = []
    for ln in sorted(lines, key=lambda x: (x.top, x.x0)):
        if rows and ln.top < max(x.bottom for x in rows[-1]) - 0.5 * (ln.bottom - ln.top):
            rows[-1].append(ln)
        else:
            rows.append([ln])
    return rows


def _heading(text: str, bold: bool) -> bool:
    return bool(_ARTICLE.match(text)) or text.rstrip().endswith(":") or bold


def check_headings(pages: list[PageText]) -> list[Issue]:
    """A page (not the last) whose last body line is a heading, an « Article N : » line or ends with « : »."""
    out = []
    for page in pages[:-1]:
        rows = _rows(page.body())
        if not rows:
            continue
        last = rows[-1]
        if any(page.in_table(ln) for ln in last):
            continue  # the page ends inside a table: the row checks see it
        text = " ".join(ln.text for ln in sorted(last, key=lambda x: x.x0))
        if len(_norm(text)) < 2 or not _heading(text, all(ln.bold for ln in last)):
            continue
        out.append(Issue("impression.titre_orphelin", page.number,
                         f"la page se termine par un titre, séparé de ce qu'il annonce : « {_short(text)} » "
                         "(« paragraphe solidaire du suivant » dans le modèle)"))
    return out


def check_signatures(pages: list[PageText]) -> list[Issue]:
    """A signature block (from « Fait à », « Pour le Département »… to the end) printed on two pages."""
    start = None
    end = None
    for page in pages:
        for row in _rows(page.body()):
            for ln in sorted(row, key=lambda x: x.x0):
                if start is None and _SIGNATURE.match(ln.text):
                    start = (page.number, ln.text)
                elif start is not None and end is None and _PART.match(ln.text) and ln.bold:
                    end = page.number if row[0].top > 150 else page.number - 1
    if start is None:
        return []
    last_page = end if end is not None else pages[-1].number
    # the block ends on the last page holding body text
    while last_page > start[0] and not pages[last_page - 1].body():
        last_page -= 1
    if last_page == start[0]:
        return []
    return [Issue("impression.signature_coupee", start[0],
                  f"bloc de signature sur les pages {start[0]} à {last_page}, à partir de « {_short(start[1])} » "
                  "(le garder sur une page : paragraphes solidaires, ligne de tableau insécable)")]


#: A list item's number or bullet, printed by Word's numbering and absent from the source's text.
_LIST_MARK = re.compile(r"^\s*(?:\d{1,3}[.)]|[a-z][.)]|[•◦▪·–-])\s+")


def _row_fills_page(page: PageText) -> bool:
    """True when the page's last table row starts at the top of the page's body (it fills the page)."""
    last = max(page.tables, key=lambda t: t.bbox[3])
    if not last.rows:
        return False
    tops = [ln.top for c in last.rows[-1] if c is not None for ln in c.lines]
    body = page.body()
    return bool(tops and body) and min(tops) <= min(ln.top for ln in body) + 2


def check_rows(pages: list[PageText], cells: list[str] | None) -> list[Issue]:
    """A table row cut by a page break: the first row of a continued table does not start a row of the source."""
    starts = [_norm(c) for c in cells or () if _norm(c)]
    out = []
    for prev, page in zip(pages, pages[1:], strict=False):
        if not page.tables or not prev.tables:
            continue
        body = page.body()
        first = min(page.tables, key=lambda t: t.bbox[1])
        if any(ln.bottom < first.bbox[1] - 1 for ln in body):
            continue  # text above the table: not a table continued from the previous page
        prev_rows = _rows(prev.body())
        if not prev_rows or not any(prev.in_table(ln) for ln in prev_rows[-1]):
            continue  # the previous page does not end inside a table
        if _row_fills_page(prev):
            continue  # a row taller than a page: it starts at the top of a page and cannot be kept whole
        row = first.rows[0]
        texts = [_LIST_MARK.sub("", " ".join(ln.text for ln in c.lines)) if c is not None else "" for c in row]
        if not any(_norm(t) for t in texts):
            continue
        if cells is not None:
            # a cell's text on the new page must start a cell of the source (40 characters compared)
            cut = [t for t in texts if _norm(t) and not any(s.startswith(_norm(t)[:40]) for s in starts)]
        else:
            cut = [t for t in texts[1:] if _norm(t)] if not _norm(texts[0]) else []
        if cut:
            out.append(Issue("impression.ligne_coupee", page.number,
                             f"ligne de tableau coupée par le saut de page {prev.number}/{page.number} : la page "
                             f"{page.number} reprend au milieu d'une cellule (« {_short(cut[0].strip(), 50)} ») "
                             "(« autoriser la ligne à se couper » à décocher dans le modèle)"))
    return out


def check_punctuation(pages: list[PageText]) -> list[Issue]:
    """A line holding only punctuation (« ; », « : », « » »…), in the body or a table."""
    out = []
    for page in pages:
        for ln in page.body():
            if _HAS_PUNCT.search(ln.text) and _PUNCT_ONLY.fullmatch(ln.text):
                out.append(Issue("impression.ponctuation_seule", page.number,
                                 f"ligne réduite à la ponctuation « {ln.text} » (rejetée seule à la ligne : "
                                 "espace insécable avant, ou texte à raccourcir)"))
    return out


def is_projet(pages: list[PageText]) -> bool:
    """True when the document's first page says PROJET (the acts' banner, the reconstructed templates' stamp)."""
    return bool(pages) and any(re.search(r"\bPROJET\b", ln.text) for ln in pages[0].lines)


def check_watermark(pages: list[PageText]) -> list[Issue]:
    """Every page of a PROJET document carries the diagonal « PROJET » watermark (rotated text)."""
    if not is_projet(pages):
        return []
    return [Issue("impression.filigrane_absent", p.number, "document PROJET : filigrane diagonal « PROJET » absent "
                  "de la page") for p in pages if "PROJET" not in re.sub(r"\s", "", p.rotated).upper()]


def check_numbers(pages: list[PageText]) -> list[Issue]:
    """Every page of the bundle prints « N/M », N its 1-based index and M the page count, at its top or foot."""
    total = len(pages)
    out = []
    for page in pages:
        bands = [ln.text for ln in page.lines if ln.top < NUMBER_BAND or ln.bottom > page.height - NUMBER_BAND]
        want = re.compile(rf"(?<!\d){page.number}\s*/\s*{total}(?!\d)")
        if not any(want.search(t) for t in bands):
            out.append(Issue("impression.numero_absent", page.number,
                             f"numéro de page du dossier « {page.number}/{total} » absent du haut et du bas "
                             "de la page"))
    return out


def analyse(data: bytes, source: bytes | None = None, words: set[str] | None = None) -> list[Issue]:
    """Every issue of rules 1 to 5 and 7 in one converted document (``source``: its Word document, if known).

    Args:
        data: the PDF.
        source: the Word document it was converted from: its words and table cells make the cut words
            and cut rows exact; without it the PDF's own words are used.
        words: extra known words (other documents of the bundle).

    Raises:
        ImportError: pdfplumber is not installed.

    """
    pages = read_pages(data)
    if source is not None:
        vocab = vocabulary([docx_text(source)])
        cells = docx_cells(source)
    else:
        vocab = vocabulary(ln.text for p in pages for ln in p.lines if not p.in_table(ln))
        cells = None
    vocab |= words or set()
    return (check_cells(pages, vocab) + check_headings(pages) + check_signatures(pages)
            + check_rows(pages, cells) + check_punctuation(pages) + check_watermark(pages))


def analyse_bundle(data: bytes) -> list[Issue]:
    """The issues of ``bundle.pdf``: its page numbers (rule 6).

    Raises:
        ImportError: pdfplumber is not installed.

    """
    return check_numbers(read_bands(data))


def read_bands(data: bytes) -> list[PageText]:
    """The level text of each page's top and bottom bands (``NUMBER_BAND`` points): what rule 6 reads.

    pdfminer interprets every page's content, as for ``read_pages``, but the glyphs of a string drawn
    outside the bands are never decoded nor laid out: a 63-page bundle is read about twice as fast.

    Raises:
        ImportError: pdfminer (with pdfplumber) is not installed.

    """
    from pdfminer.pdfdevice import PDFTextDevice
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser
    from pdfminer.utils import mult_matrix

    class Bands(PDFTextDevice):
        """Records the strings drawn level in the bands: their text and where (points from the top)."""

        def begin_page(self, page, ctm) -> None:
            x0, y0, x1, y1 = page.mediabox
            self.box = (float(x1 - x0), float(y1 - y0), float(y0))
            self.found: list[Line] = []

        def render_string(self, textstate, seq, ncs, graphicstate) -> None:
            m = mult_matrix(textstate.matrix, self.ctm)
            width, height, y0 = self.box
            top = height - (m[5] - y0)
            if NUMBER_BAND <= top <= height - NUMBER_BAND or not _level(m):
                return
            font, text = textstate.font, []
            for obj in seq:
                if isinstance(obj, bytes):
                    for cid in font.decode(obj):
                        try:
                            text.append(font.to_unichr(cid))
                        except Exception:  # noqa: BLE001 — a glyph without Unicode: not a digit of N/M
                            text.append("")
            self.found.append(Line("".join(text), float(m[4]), float(m[4]), top, top, False))

    rsrc = PDFResourceManager(caching=True)
    device = Bands(rsrc)
    interpreter = PDFPageInterpreter(rsrc, device)
    pages = []
    for n, page in enumerate(PDFPage.create_pages(PDFDocument(PDFParser(io.BytesIO(data)))), 1):
        interpreter.process_page(page)
        width, height, _ = device.box
        lines = _joined(device.found)
        pages.append(PageText(n, width, height, tuple(lines), (), ""))
    return pages


def _joined(found: list[Line]) -> list[Line]:
    """Strings drawn on the same baseline joined, left to right (« 4 », « / », « 63 » → « 4/63 »)."""
    rows: dict[float, list[Line]] = {}
    for ln in found:
        rows.setdefault(round(ln.top), []).append(ln)
    return [Line("".join(x.text for x in sorted(row, key=lambda x: x.x0)), min(x.x0 for x in row),
                 max(x.x1 for x in row), top, top, False) for top, row in sorted(rows.items())]


def _key(kind: str, *parts: bytes | None) -> str:
    from deliberation.engine import engine_sha  # a new engine checks again (its rules may have changed)

    h = hashlib.sha256(CACHE_VERSION.encode() + engine_sha().encode() + kind.encode())
    for p in parts:
        h.update(b"\0" if p is None else hashlib.sha256(p).digest())
    return h.hexdigest()


def _analyse_cached(job: tuple[str, bytes, bytes | None]) -> list[Issue]:
    from deliberation.fsio import cache_get, cache_put

    kind, data, source = job
    key = _key(kind, data, source)
    hit = cache_get(key)
    if isinstance(hit, list):
        return hit
    try:
        issues = analyse_bundle(data) if kind == "bundle" else analyse(data, source)
    except Exception:  # noqa: BLE001 — pdfminer's many errors on a PDF it cannot read: nothing to check
        return []  # (an unreadable PDF is the @ctes pre-flight's finding, ``actes.pdf_illisible``)
    cache_put(key, issues)
    return issues


def check_files(jobs: dict[str, tuple[str, bytes, bytes | None]], workers: int = 2) -> dict[str, list[Issue]]:
    """Analyse several PDFs (name → (kind, pdf, source)), in parallel processes when several are not cached.

    ``kind`` is « document » (rules 1 to 5 and 7) or « bundle » (rule 6). A result already in the
    parse cache (same PDF, same source) is not computed again.

    Raises:
        ImportError: pdfplumber is not installed.

    """
    import pdfplumber  # noqa: F401  - fail here, once, rather than in each worker

    from deliberation.fsio import cache_get

    out: dict[str, list[Issue]] = {}
    todo = {}
    for name, job in jobs.items():
        hit = cache_get(_key(*job))
        if isinstance(hit, list):
            out[name] = hit
        else:
            todo[name] = job
    if len(todo) > 1 and workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # the biggest first, so that the two workers end together
        order = sorted(todo, key=lambda n: -len(todo[n][1]))
        ctx = multiprocessing.get_context("spawn" if multiprocessing.get_start_method() != "fork" else "fork")
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=ctx) as pool:
            for name, issues in zip(order, pool.map(_analyse_cached, [todo[n] for n in order]), strict=True):
                out[name] = issues
    else:
        for name, job in todo.items():
            out[name] = _analyse_cached(job)
    return out
