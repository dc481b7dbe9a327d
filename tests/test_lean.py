"""The PDFs the engine writes give the pages of the whole DOCX, word for word (``bundle/lean.py``, ``parts.py``).

Text equivalence: every page of every PDF the engine writes shows the text LibreOffice gives when it
converts the DOCX of the bundle as it is, on two fixture phases of different shapes and on a sample of
the generated 500-avenant phase.
"""

from __future__ import annotations

import datetime
import io
import re
import sys
import zipfile
from pathlib import Path

import pytest
from docx import Document

from deliberation import pipeline
from deliberation.bundle.keep import broken, with_keep_marks
from deliberation.bundle.lean import lean_docx
from deliberation.bundle.parts import assemble_all, prepare
from deliberation.bundle.pdf import ConvertOptions, convert, soffice
from deliberation.render.watermark import for_converter
from deliberation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
sys.path.insert(0, str(ROOT / "bench"))
from generate import generate_avenants  # noqa: E402

needs_lo = pytest.mark.skipif(not soffice(), reason="LibreOffice absent (make libreoffice)")


def page_texts(pdf: bytes) -> list[list[str]]:
    """Each page's lines, blanks collapsed; the « PROJET » watermark left out (the engine draws its own)."""
    from pypdf import PdfReader

    pages = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        lines = [re.sub(r"\s+", " ", line).strip() for line in page.extract_text().splitlines()]
        pages.append([line for line in lines if line and line != "PROJET"])
    return pages


def _styles_of(docx: bytes) -> tuple[set[str], set[str], list[str]]:
    z = zipfile.ZipFile(io.BytesIO(docx))
    styles = z.read("word/styles.xml").decode()
    ids = set(re.findall(r'w:styleId="([^"]*)"', styles))
    used = set()
    for name in z.namelist():
        if name.startswith("word/") and name.endswith(".xml") and "styles" not in name.lower():
            used |= set(re.findall(r'<w:(?:pStyle|rStyle|tblStyle) w:val="([^"]*)"', z.read(name).decode()))
    return ids, used, z.namelist()


@pytest.fixture(scope="module")
def word_bundles(tmp_path_factory) -> dict[str, Path]:
    """The Word files of two fixture phases of different shapes."""
    out = {}
    for name in ("phase-6-2024", "fictif"):
        where = tmp_path_factory.mktemp("lean") / name
        assert pipeline.build(Settings(source=FIXTURES / name, out_dir=where, pdf=False)).written
        out[name] = where
    return out


@pytest.mark.parametrize("name", ["phase-6-2024", "fictif"])
def test_the_copy_keeps_every_used_style_and_drops_the_rest(word_bundles, name):
    docs = sorted(word_bundles[name].rglob("*.docx"))
    assert len(docs) >= 5
    for path in docs:
        whole = path.read_bytes()
        lean = lean_docx(whole)
        ids, used, parts = _styles_of(whole)
        lean_ids, _, lean_parts = _styles_of(lean)
        assert used <= lean_ids, f"{path.name}: styles used but dropped: {sorted(used - lean_ids)}"
        assert len(lean_ids) < len(ids) / 3, f"{path.name}: {len(lean_ids)} styles kept of {len(ids)}"
        assert "word/stylesWithEffects.xml" not in lean_parts
        assert b"stylesWithEffects" not in zipfile.ZipFile(io.BytesIO(lean)).read("word/_rels/document.xml.rels")
        assert b"latentStyles" not in zipfile.ZipFile(io.BytesIO(lean)).read("word/styles.xml")
        z, lz = zipfile.ZipFile(io.BytesIO(whole)), zipfile.ZipFile(io.BytesIO(lean))
        assert z.read("word/document.xml") == lz.read("word/document.xml")
        assert [p.text for p in Document(io.BytesIO(lean)).paragraphs] == \
            [p.text for p in Document(io.BytesIO(whole)).paragraphs]
        assert path.read_bytes() == whole  # the bundle's file is untouched


def test_a_file_that_is_not_a_usual_docx_is_handed_over_as_it_is():
    assert lean_docx(b"not a zip") == b"not a zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    assert lean_docx(buf.getvalue()) == buf.getvalue()


def assert_same_pages(engine_pdf: bytes, reference_pdf: bytes, what: str) -> int:
    """The two PDFs show the same lines on each page (in any order: stamps are drawn last); pages compared."""
    mine, ref = page_texts(engine_pdf), page_texts(reference_pdf)
    assert len(mine) == len(ref), f"{what}: {len(mine)} pages, {len(ref)} by converting the whole DOCX"
    for k, (a, b) in enumerate(zip(mine, ref, strict=True), 1):
        only_mine, only_ref = [x for x in a if x not in b][:3], [x for x in b if x not in a][:3]
        assert sorted(a) == sorted(b), f"{what}, page {k}: {only_mine} ≠ {only_ref}"
    return len(mine)


_STAMPED = re.compile(r"page\s*\d+/\d+$|^Ce document comprend \d+ pages\.$")


def assert_same_text_kept_together(engine_pdf: bytes, docx: bytes, reference_pdf: bytes, what: str) -> bool:
    """The same pages as the whole DOCX's conversion, or, where LibreOffice left a heading at the foot of a
    page there (a broken « keep with next » chain, found by ``bundle.keep``), the same lines in the same
    order with that heading moved on. True in the second case."""
    try:
        assert_same_pages(engine_pdf, reference_pdf, what)
        return False
    except AssertionError:
        marked = convert({"x.docx": with_keep_marks(docx)}, ConvertOptions(destinations=True))["x.pdf"]
        assert broken(marked), f"{what}: pages differ, and no chain broken by LibreOffice explains it"
        assert broken(engine_pdf) == []

        def lines(pdf):
            return [x for page in page_texts(pdf) for x in page if not _STAMPED.search(x)]

        assert lines(engine_pdf) == lines(reference_pdf), what
        return True


@needs_lo
@pytest.mark.libreoffice
@pytest.mark.parametrize("name", ["phase-6-2024", "fictif"])
def test_every_pdf_of_the_bundle_shows_the_text_of_its_whole_docx(tmp_path, name):
    out = tmp_path / name
    assert pipeline.build(Settings(source=FIXTURES / name, out_dir=out, pdf=True, jobs=2)).written
    docs = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.docx"))}
    reference = convert(docs)
    acts = [n for n in docs if n.startswith("actes/")]
    assert len(acts) >= (20 if name == "phase-6-2024" else 3)
    moved = [n for n in docs if assert_same_text_kept_together((out / f"{n[:-5]}.pdf").read_bytes(), docs[n],
                                                                 reference[f"{n[:-5]}.pdf"], n)]
    # fictif's two avenant models: LibreOffice leaves « Article 3 » at the foot of page 1 of the whole DOCX
    assert moved == ([] if name == "phase-6-2024" else ["06-annexe-4-avenant-accueil.docx",
                                                        "07-annexe-5-avenant-valorisation.docx"])


@needs_lo
@pytest.mark.libreoffice
@pytest.mark.slow
def test_a_sample_of_the_500_avenant_phase_converts_to_the_same_text(tmp_path):
    """The acts in parts, as the engine converts them (lean copies, descriptions apart, stamps), on a sample."""
    phase = generate_avenants(tmp_path / "avenants-500", 500)
    out = tmp_path / "word"
    assert pipeline.build(Settings(source=phase, out_dir=out, pdf=False)).written
    acts = sorted(out.glob("actes/*/*.docx"))
    assert len(acts) == 550
    sample = acts[::25]  # 22 acts, every kind of avenant and some new conventions
    docs = {str(p.relative_to(out)): p.read_bytes() for p in sample}
    handed = {name: lean_docx(for_converter(data)[0]) for name, data in docs.items()}
    prep = prepare(handed, jobs=2)
    assert prep.whole == {} and len(prep.acts) == len(sample)
    apart = {p for act in prep.acts for p in act.segments if p is not None}
    assert 0 < len(apart) <= 6, apart  # a few descriptions, each converted once for the whole sample
    raw = convert(prep.docs, ConvertOptions(destinations=True))
    when = datetime.datetime(2025, 3, 10, tzinfo=datetime.UTC)
    assembled, failed = assemble_all(prep, raw, when, {}, set(), jobs=2)
    assert failed == []
    whole = convert(docs)
    pages = sum(assert_same_pages(assembled[k][0], whole[k], k) for k in whole)
    assert len(whole) == len(sample) and pages > 3 * len(sample)
