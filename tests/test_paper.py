"""The bundle as paper, drafts that cannot be mistaken for final acts (issue 19).

Page numbers of the dossier printed on every page and equal to the sommaire's and to the page labels,
bookmarks pointing at the document they name, a cover title that breaks no word or number, footers in
one type, a diagonal « PROJET » on every page of a draft, no internal key in any printed text.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from pathlib import Path

import pytest
from conftest import FIXTURES, SOFFICE, TEMPLATES, adopted_templates, needs_lo
from docx import Document
from docx.shared import Pt
from docx.text.run import Run
from lxml import etree
from pypdf import PdfReader, PdfWriter

from deliberation import pipeline
from deliberation.acts import convention_designation
from deliberation.bundle.pdf import ConvertOptions, convert
from deliberation.bundle.publish import NUMBER_BOTTOM, NUMBER_RIGHT, number_pages
from deliberation.model import AnnexeConvention, Convention, Periode
from deliberation.render.compiled import render_many
from deliberation.render.documents import sommaire_job
from deliberation.render.filters import insecable
from deliberation.render.inspect import docx_text, typed
from deliberation.render.watermark import MARK, NEW_HEADER, add_watermark, for_converter
from deliberation.settings import Settings

# ---------------------------------------------------------------------------
# 1. page numbers of the dossier (no LibreOffice: pages made here)


def _numbered(sizes: list[tuple[float, float, int]]) -> PdfReader:
    writer = PdfWriter()
    for width, height, turn in sizes:
        page = writer.add_blank_page(width, height)
        if turn:
            page.rotate(turn)
    number_pages(writer)
    buf = io.BytesIO()
    writer.write(buf)
    return PdfReader(io.BytesIO(buf.getvalue()))


def _number_place(page) -> tuple[str, float, float]:
    """The number printed on ``page`` and where it starts, in the coordinates of the page as displayed."""
    found = []

    def visit(text, cm, tm, *_):
        if text.strip():
            # the text matrix applied to the current transformation: user space (PDF: row vectors)
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found.append((text.strip(), x, y))

    page.extract_text(visitor_text=visit)
    assert len(found) == 1, found
    text, x, y = found[0]
    w, h = float(page.mediabox.width), float(page.mediabox.height)
    turn = page.rotation % 360
    dx, dy = {0: (x, y), 90: (y, w - x), 180: (w - x, h - y), 270: (h - y, x)}[turn]
    return text, dx, dy


def test_every_page_prints_its_number_in_the_bottom_right_corner_as_displayed():
    a4 = (595.3, 841.9)
    reader = _numbered([(*a4, 0), (a4[1], a4[0], 0), (*a4, 90), (*a4, 180), (*a4, 270)])
    for n, page in enumerate(reader.pages, 1):
        text, dx, dy = _number_place(page)
        assert text == f"{n}/5"
        shown_width = float(page.mediabox.height if page.rotation % 180 else page.mediabox.width)
        assert shown_width - NUMBER_RIGHT - 20 < dx < shown_width - NUMBER_RIGHT, (n, page.rotation, dx)
        assert abs(dy - NUMBER_BOTTOM) < 0.5, (n, page.rotation, dy)


def test_numbering_is_deterministic():
    sizes = [(595.3, 841.9, 0)] * 3
    first, second = io.BytesIO(), io.BytesIO()
    for buf in (first, second):
        writer = PdfWriter()
        for w, h, _ in sizes:
            writer.add_blank_page(w, h)
        number_pages(writer)
        writer._ID = None
        writer.write(buf)
    assert first.getvalue() == second.getvalue()


# ---------------------------------------------------------------------------
# Word documents (no LibreOffice)

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
WP_DOCPR = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"
SHAPES = ("phase-6-2024", "phase-3-2026")


@pytest.fixture(scope="module")
def word(tmp_path_factory) -> dict[str, Path]:
    """The Word documents of the example and of phase-3-2026 (no PDF)."""
    out = {}
    for name in SHAPES:
        dest = tmp_path_factory.mktemp(name) / "out"
        result = pipeline.build(Settings(source=FIXTURES / name, out_dir=dest, pdf=False))
        assert result.written
        out[name] = dest
    return out


def _parts(path: Path, kind: str) -> dict[str, etree._Element]:
    """The header or footer parts (``kind``) of a DOCX, parsed."""
    with zipfile.ZipFile(path) as z:
        return {n: etree.fromstring(z.read(n)) for n in z.namelist() if re.fullmatch(rf"word/{kind}[^/]*\.xml", n)}


def _text(part: etree._Element) -> str:
    return "".join(t.text or "" for t in part.iter(f"{W}t"))


def _run_props(paragraph: etree._Element) -> list[bytes]:
    """The properties of every run of a paragraph, field results included (serialised, ``b""``: none)."""
    out = []
    for run in paragraph.iter(f"{W}r"):
        rpr = run.find(f"{W}rPr")
        out.append(b"" if rpr is None else etree.tostring(rpr, method="c14n"))
    return out


def test_every_footer_run_has_one_size_and_font(word):
    paths = sorted(TEMPLATES.glob("*.docx")) + [p for out in word.values() for p in sorted(out.rglob("*.docx"))]
    checked = 0
    for path in paths:
        for name, part in _parts(path, "footer").items():
            for paragraph in part.iter(f"{W}p"):
                props = _run_props(paragraph)
                if not props:
                    continue
                assert len(set(props)) == 1, (path, name, props)
                assert b'w:val="14"' in props[0], (path, name)  # 7 pt, the page number as the rest
                checked += 1
    assert checked >= 6 + 30
    # the same through python-docx: every run of the stamp, the PAGE and NUMPAGES results too, one size and font
    doc = Document(str(word["phase-6-2024"] / "07-annexe-5-avenant-5.docx"))
    paragraph = doc.sections[0].footer.paragraphs[0]
    runs = [Run(r, paragraph) for r in paragraph._p.iter(f"{W}r")]
    assert len(runs) == 4
    assert {(r.font.size, r.font.name) for r in runs} == {(Pt(7), None)}


def _convention_keys(root: Path) -> dict[str, str | None]:
    """Every convention key of a dossier → the convention's number."""
    checked = pipeline.check(Settings(source=root))
    return {key: c.numero for s in checked.dossier.structures.values() for key, c in (s.conventions or {}).items()}


@pytest.mark.parametrize("name", [*SHAPES, "fictif"])
def test_no_internal_key_in_any_header_or_footer(name, tmp_path, word):
    out = word.get(name)
    if out is None:
        out = tmp_path / "out"
        assert pipeline.build(Settings(source=FIXTURES / name, out_dir=out, pdf=False)).written
    keys = {k for k, numero in _convention_keys(FIXTURES / name).items() if k != numero}  # a number is printable
    assert keys
    stamps = 0
    for path in sorted(out.rglob("*.docx")):
        for kind in ("header", "footer"):
            for part in _parts(path, kind).values():
                text = _text(part)
                for key in keys:
                    assert f"« {key} »" not in text and not re.search(rf"\b{re.escape(key)}\b", text), (path, text)
                stamps += "avenant à la convention" in text
    assert stamps > 0
    if name == "phase-6-2024":  # no number in the dossier: the convention's annexes say what it is
        text = _text(next(iter(_parts(out / "actes" / "mempa" / "avenant-plie.docx", "footer").values())))
        assert "MEMPA — avenant à la convention « Accompagnement professionnel des BRSA dans le PLIE »" in typed(text)
    else:
        text = " ".join(_text(p) for f in out.glob("actes/*/avenant-*.docx") for p in _parts(f, "footer").values())
        assert re.search(r"avenant à la convention n°\d{4}-\d{3,6} — page", text)


def test_convention_designation_falls_back_to_words_of_the_convention():
    assert convention_designation(Convention(numero="2024-01213", objet="x")) == "n°2024-01213"
    two = (AnnexeConvention(numero=2, titre="Accueil"), AnnexeConvention(numero=3, titre="PLIE"))
    assert convention_designation(Convention(annexes=two)) == "« Accueil ; PLIE »"
    assert convention_designation(Convention(objet="Partenariat")) == "« Partenariat »"
    period = Periode(debut=dt.date(2024, 1, 1), fin=dt.date(2024, 12, 31))
    assert convention_designation(Convention(periode=period)) == "du 01/01/2024 au 31/12/2024"
    assert convention_designation(Convention()) == convention_designation(None) == "en vigueur"


def _watermarked(path: Path) -> tuple[set[str], list[dict[str, str]]]:
    """The header parts of a DOCX holding the « PROJET » watermark, and each section's header references."""
    with zipfile.ZipFile(path) as z:
        rels = etree.fromstring(z.read("word/_rels/document.xml.rels"))
        document = etree.fromstring(z.read("word/document.xml"))
        types = z.read("[Content_Types].xml").decode()
    targets = {r.get("Id"): "word/" + r.get("Target") for r in rels}
    marked = {n for n, part in _parts(path, "header").items()
              if any(d.get("name", "").startswith(MARK) for d in part.iter(WP_DOCPR))}
    for name in marked:
        assert f'PartName="/{name}"' in types
    sections = [{ref.get(f"{W}type"): targets[ref.get(R_ID)] for ref in sect.findall(f"{W}headerReference")}
                for sect in document.iter(f"{W}sectPr")]
    return marked, sections


R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def test_a_projet_document_has_the_watermark_in_every_header_of_every_section(word):
    for out in word.values():
        for path in sorted(out.rglob("*.docx")):  # the engine's templates are reconstructions: all PROJETs
            marked, sections = _watermarked(path)
            assert marked and sections, path
            for refs in sections:
                assert set(refs) == {"default", "first", "even"} and set(refs.values()) <= marked, (path, refs)
            doc = Document(str(path))  # a valid package: python-docx reads the header, the shape turned 45°
            header = doc.sections[0].header._element
            assert b'rot="18900000"' in etree.tostring(header) and b'behindDoc="1"' in etree.tostring(header)
            assert "PROJET" in _text(header)


def test_a_final_document_has_no_watermark(tmp_path):
    out = tmp_path / "out"
    assert pipeline.build(Settings(source=FIXTURES / "fictif", out_dir=out, pdf=False,
                                   templates=adopted_templates(tmp_path))).written
    finals = [p for p in sorted(out.rglob("*.docx")) if "PROJET" not in docx_text(p)]
    assert len(finals) >= 5  # the délibération's documents and the complete acts: adopted texts, nothing to fill in
    for path in finals:
        assert _watermarked(path)[0] == set(), path
        with zipfile.ZipFile(path) as z:
            assert f"word/{NEW_HEADER}" not in z.namelist()


def test_the_watermark_goes_into_existing_headers_too():
    doc = Document()
    doc.sections[0].header.paragraphs[0].text = "En-tête du Département"
    doc.add_section()
    buf = io.BytesIO()
    doc.save(buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        names = z.namelist()
        parts = {n: z.read(n) for n in names if n.startswith("word/header")}
        rels, types = z.read("word/_rels/document.xml.rels"), z.read("[Content_Types].xml")
        document = etree.fromstring(z.read("word/document.xml"))
    (existing,) = parts
    out = add_watermark(document, parts, rels, types)
    assert MARK.encode() in out[existing] and b"En-t\xc3\xaate du D\xc3\xa9partement" in out[existing]
    assert MARK.encode() in out[f"word/{NEW_HEADER}"]  # for the first-page and even-page headers
    sections = list(document.iter(f"{W}sectPr"))
    assert len(sections) == 2
    first, second = ({ref.get(f"{W}type"): ref.get(R_ID) for ref in s.findall(f"{W}headerReference")}
                     for s in sections)
    assert first == second and first["first"] == first["even"] == "rIdProjet" != first["default"]
    # and a document handed to LibreOffice loses it (its PDF gets its own)
    marked = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z, zipfile.ZipFile(marked, "w") as dest:
        for info in z.infolist():
            dest.writestr(info, out.get(info.filename, z.read(info)))
    stripped, was = for_converter(marked.getvalue())
    assert was and for_converter(stripped) == (stripped, False) and for_converter(buf.getvalue())[1] is False


def test_title_filter_binds_numbers_hyphens_and_short_words():
    example = insecable("APPELS À PROJETS DES POLITIQUES D'INCLUSION DURABLE 2024-PHASE 6")
    assert example == "APPELS À\u00a0PROJETS DES POLITIQUES D'INCLUSION DURABLE\u00a02024\u2011PHASE\u00a06"
    assert insecable("Délibération « n° 2024-587 » : le 9 décembre") == \
        "Délibération «\u00a0n°\u00a02024\u2011587\u00a0»\u00a0: le\u00a09\u00a0décembre"
    assert insecable("deux mots") == "deux mots"


def _cover(root: Path, tmp_path: Path) -> tuple[Path, str]:
    """The cover and sommaire of a dossier as a Word file, and the title's paragraph text."""
    job = sommaire_job(pipeline.check(Settings(source=root)), [{"titre": "Rapport", "page": 3}])
    path = tmp_path / "00-sommaire.docx"
    path.write_bytes(render_many([(job.template, job.context, job.when)])[0])
    title = next(p.text for p in Document(str(path)).paragraphs if "PROJETS" in p.text or "PHASE" in p.text)
    return path, title


def test_the_cover_title_is_bound(tmp_path):
    _, title = _cover(FIXTURES / "phase-6-2024", tmp_path)
    assert title == "APPELS À\u00a0PROJETS DES POLITIQUES D’INCLUSION DURABLE\u00a02024\u2011PHASE\u00a06"


# ---------------------------------------------------------------------------
# the PDFs (LibreOffice)


@pytest.fixture(scope="module")
def paper(tmp_path_factory) -> dict[str, Path]:
    """The example and phase-3-2026 built with their PDFs."""
    if not SOFFICE:
        pytest.skip("LibreOffice absent")
    out = {}
    for name in SHAPES:
        dest = tmp_path_factory.mktemp(f"pdf-{name}") / "out"
        assert pipeline.build(Settings(source=FIXTURES / name, out_dir=dest, pdf=True)).written
        out[name] = dest
    return out


def _items(page) -> list[tuple[str, float, float, float]]:
    """Each piece of text drawn on a page: text, x and y in the page's space, angle (degrees) of its baseline."""
    found = []

    def visit(text, cm, tm, *_):
        if text.strip():
            a, b = tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3]
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found.append((text.strip(), x, y, math.degrees(math.atan2(b, a))))

    page.extract_text(visitor_text=visit)
    return found


def _flat(text: str) -> str:
    return typed(text).replace("\u2011", "-")


@pytest.mark.libreoffice
@needs_lo
@pytest.mark.parametrize("name", SHAPES)
def test_bundle_pages_print_the_number_the_sommaire_and_the_labels_give(paper, name):
    reader = PdfReader(str(paper[name] / "bundle.pdf"))
    total = len(reader.pages)
    assert reader.page_labels == [str(n) for n in range(1, total + 1)]
    for n, page in enumerate(reader.pages, 1):
        numbers = [(x, y) for text, x, y, angle in _items(page) if text == f"{n}/{total}" and abs(angle) < 1]
        assert len(numbers) == 1, (n, _items(page)[-3:])
        x, y = numbers[0]
        width = float(page.mediabox.width)  # landscape pages too (annexe 4 of the example)
        assert width - NUMBER_RIGHT - 25 < x < width - NUMBER_RIGHT and abs(y - NUMBER_BOTTOM) < 1, (n, x, y)
    # the sommaire cites the page where each bookmark goes, and that page is the document's first
    sommaire = _flat(reader.pages[1].extract_text())
    assert "SOMMAIRE" in sommaire and "SOMMAIRE" not in _flat(reader.pages[0].extract_text())
    top = [x for x in reader.outline if not isinstance(x, list)]
    nested = next(x for x in reader.outline if isinstance(x, list))
    assert top[0].title == "Sommaire" and reader.get_destination_page_number(top[0]) == 1
    cited = dict(re.findall(r"^(.+?) (\d+)$", sommaire, flags=re.M))
    for item in [*top[1:], *nested]:
        if item.title == "Annexes":
            assert reader.get_destination_page_number(item) == reader.get_destination_page_number(nested[0])
            continue
        page = reader.get_destination_page_number(item)
        assert cited[item.title] == str(page + 1), item.title
        text = _flat(reader.pages[page].extract_text())
        stamps = {"Rapport": r"— Rapport n°\d+ — page 1/", "Délibération": r"Délibération n°[\d-]+ — page 1/"}
        stamp = stamps.get(item.title) or rf"— Annexe {item.title.split()[1]} — page 1/"
        assert re.search(stamp, text), (item.title, text[-200:])
        before = _flat(reader.pages[page - 1].extract_text())  # the last page of the document before
        assert page == 2 or re.search(r"— page (\d+)/\1\b", before), (item.title, before[-100:])


def _lines(pdf: bytes, page: int = 0) -> list[str]:
    return [_flat(line).strip() for line in PdfReader(io.BytesIO(pdf)).pages[page].extract_text().splitlines()]


@pytest.mark.libreoffice
@needs_lo
def test_the_cover_title_breaks_no_word_nor_number(paper, fictif, tmp_path):
    lines = _lines((paper["phase-6-2024"] / "bundle.pdf").read_bytes())
    title = [line for line in lines if "PROJETS" in line or "PHASE" in line]
    assert any(line.endswith("2024-PHASE 6") for line in title), title
    # a long title: it wraps, only between words that may part
    long = ("APPELS À PROJETS DES POLITIQUES D'INCLUSION DURABLE ET DE L'ACCOMPAGNEMENT SOCIO-PROFESSIONNEL "
            "DES ALLOCATAIRES DU RSA DANS LE PAS-DE-CALAIS 2025-PHASE 2 (PROGRAMME 2025-2027, VOLET 12)")
    fictif.edit("phase.yaml", "APPELS À PROJETS DES POLITIQUES D'INCLUSION DURABLE 2025-PHASE 2", long, count=2)
    path, _ = _cover(fictif.root, tmp_path)
    pdf = convert({path.name: path.read_bytes()}, ConvertOptions(scratch=tmp_path))[f"{path.stem}.pdf"]
    cover = [line for line in _lines(pdf) if line]
    start = next(i for i, line in enumerate(cover) if line.startswith("APPELS"))
    wrapped = [line for line in cover[start:] if not line.startswith("Délibération n°")][:4]
    assert len([w for w in wrapped if w.isupper() or "2025" in w]) >= 2, cover  # it does wrap
    joined = " ".join(cover[start:start + len(wrapped)])
    assert long.split(" (")[0] in joined, joined
    for token in ("SOCIO-PROFESSIONNEL", "PAS-DE-CALAIS", "2025-PHASE 2", "2025-2027,", "VOLET 12)", "À PROJETS"):
        assert any(token in line for line in cover), (token, cover)
    for line in cover[start:start + 3]:
        assert not re.search(r"(^|\s)\S{1,2}$", line) and not line.endswith("-"), line  # no « À », « 2 », « DE » left


def _projet_marks(page) -> list[float]:
    """Angles of the « PROJET » words drawn turned on a page."""
    return [angle for text, _, _, angle in _items(page) if text == "PROJET" and 30 < angle < 60]


@pytest.mark.libreoffice
@needs_lo
@pytest.mark.parametrize("name", SHAPES)
def test_every_page_of_a_projet_pdf_says_projet_across(paper, name):
    out = paper[name]
    pdfs = [p for p in sorted(out.rglob("*.pdf")) if p.name not in ("bundle.pdf", "00-sommaire.pdf", "registre.pdf")]
    assert len(pdfs) > 10
    for path in pdfs:  # every document is built from a reconstruction: all are PROJETs
        for n, page in enumerate(PdfReader(str(path)).pages, 1):
            assert _projet_marks(page) == [pytest.approx(45, abs=0.5)], (path.name, n)
    reader = PdfReader(str(out / "bundle.pdf"))
    assert [len(_projet_marks(p)) for p in reader.pages] == [0, 0] + [1] * (len(reader.pages) - 2)
    for page in PdfReader(str(out / "00-sommaire.pdf")).pages:
        assert _projet_marks(page) == []
