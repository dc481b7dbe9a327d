"""The print check (issue 19): each rule fails on a Word document built to break it, converted by LibreOffice."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import SOFFICE, needs_lo

pytest.importorskip("pdfplumber")

from docx import Document  # noqa: E402
from docx.oxml import parse_xml  # noqa: E402
from docx.oxml.ns import nsdecls  # noqa: E402
from docx.shared import Cm, Pt  # noqa: E402

from deliberation import pipeline, printcheck  # noqa: E402
from deliberation.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LAYOUT = ("impression.cellule_coupee", "impression.titre_orphelin", "impression.signature_coupee",
          "impression.ligne_coupee", "impression.ponctuation_seule")


def _doc() -> Document:
    """A Letter page, 1 inch margins, 11 pt lines exactly 14 pt high, no spacing: 46 lines a page."""
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.line_spacing = Pt(14)
    normal.paragraph_format.widow_control = False
    return doc


def _fill(doc: Document, n: int) -> None:
    for i in range(n):
        doc.add_paragraph(f"Ligne de remplissage numéro {i + 1}.")


def _bytes(doc: Document) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _check(doc: Document) -> list[printcheck.Issue]:
    from deliberation.bundle.pdf import convert

    source = _bytes(doc)
    pdf = convert({"essai.docx": source})["essai.pdf"]
    return printcheck.analyse(pdf, source)


def _codes(issues, *codes) -> list[tuple[str, int]]:
    return [(i.code, i.page) for i in issues if i.code in codes]


@pytest.mark.libreoffice
@needs_lo
def test_amount_and_word_cut_in_a_narrow_cell():
    doc = _doc()
    table = doc.add_table(rows=2, cols=3)
    table.style = "Table Grid"
    table.autofit = False
    for row, texts in zip(table.rows, [("Code", "Proposition", "AE €"), ("C01", "Appui", "13\u00a0789\u00a0480,46 €")],
                          strict=True):
        for cell, text, width in zip(row.cells, texts, (Cm(2), Cm(1.6), Cm(1.6)), strict=True):
            cell.width = width
            cell.text = text
    for col, width in zip(table.columns, (Cm(2), Cm(1.6), Cm(1.6)), strict=True):
        col.width = width
    doc.add_paragraph("La proposition est faite au titre de l'appui.")
    issues = _check(doc)
    cut = [i for i in issues if i.code == "impression.cellule_coupee"]
    assert {i.page for i in cut} == {1}
    text = " ".join(i.message for i in cut)
    assert "mot coupé" in text and "montant coupé" in text, text


def test_cut_heuristics_spare_normal_breaks():
    words = printcheck.vocabulary(["Indemnisation des organismes référents ; Proposition €"])
    assert printcheck._cut("Indemnisati", "on des", words) == "mot coupé"
    assert printcheck._cut("8\u00a0589\u00a0450,0", "0", words) == "montant coupé"
    assert printcheck._cut("le 9", "décembre 2024", words) == "date coupée"
    assert printcheck._cut("Indemnisation", "des", words) is None
    assert printcheck._cut("organismes", "référents", words) is None


@pytest.mark.libreoffice
@needs_lo
def test_article_heading_at_the_foot_of_a_page():
    doc = _doc()
    _fill(doc, 45)
    doc.add_paragraph("Article 3 : Objet")
    doc.add_paragraph("La présente convention a pour objet de définir les engagements des parties.")
    assert _codes(_check(doc), *LAYOUT) == [("impression.titre_orphelin", 1)]


@pytest.mark.libreoffice
@needs_lo
def test_signature_block_split_by_filler():
    doc = _doc()
    _fill(doc, 44)
    doc.add_paragraph("Fait à Arras, le 9 décembre 2024")
    doc.add_paragraph("Pour le Département,")
    doc.add_paragraph("Le Président du Conseil départemental")
    doc.add_paragraph("Jean-Claude LEROY")
    assert _codes(_check(doc), "impression.signature_coupee") == [("impression.signature_coupee", 1)]


@pytest.mark.libreoffice
@needs_lo
def test_table_row_of_long_cells_crossing_a_page():
    doc = _doc()
    _fill(doc, 20)
    table = doc.add_table(rows=2, cols=2)
    table.style = "Table Grid"
    table.rows[0].cells[0].text = "Action"
    table.rows[0].cells[1].text = "Accompagnement"
    table.rows[1].cells[0].text = "Bilan"
    cell = table.rows[1].cells[1]
    cell.text = "Élément de bilan numéro 1."
    for i in range(2, 50):
        cell.add_paragraph(f"Élément de bilan numéro {i}.")
    doc.add_paragraph("Fin.")
    assert _codes(_check(doc), "impression.ligne_coupee") == [("impression.ligne_coupee", 2)]


@pytest.mark.libreoffice
@needs_lo
def test_paragraph_holding_only_punctuation():
    doc = _doc()
    doc.add_paragraph("Vu le rapport du Président du Conseil départemental")
    doc.add_paragraph(";")
    assert _codes(_check(doc), *LAYOUT) == [("impression.ponctuation_seule", 1)]


def _field(paragraph, instr: str) -> None:
    paragraph._p.append(parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr="{instr}"><w:r><w:t>1</w:t></w:r>'
                                  "</w:fldSimple>"))


@pytest.mark.libreoffice
@needs_lo
def test_bundle_page_numbers_n_of_m():
    from deliberation.bundle.pdf import convert

    numbered, bare = _doc(), _doc()
    for doc in (numbered, bare):
        _fill(doc, 60)  # two pages
    foot = numbered.sections[0].footer.paragraphs[0]
    _field(foot, "PAGE")
    foot.add_run("/")
    _field(foot, "NUMPAGES")
    pdfs = convert({"avec.docx": _bytes(numbered), "sans.docx": _bytes(bare)})
    assert printcheck.analyse_bundle(pdfs["avec.pdf"]) == []
    assert [(i.code, i.page) for i in printcheck.analyse_bundle(pdfs["sans.pdf"])] == [
        ("impression.numero_absent", 1), ("impression.numero_absent", 2)]


@pytest.mark.libreoffice
@needs_lo
def test_projet_document_without_watermark():
    doc = _doc()
    doc.add_paragraph("PROJET")
    _fill(doc, 60)
    assert _codes(_check(doc), "impression.filigrane_absent") == [
        ("impression.filigrane_absent", 1), ("impression.filigrane_absent", 2)]


def _built(tmp_path_factory, name: str) -> Path:
    out = tmp_path_factory.mktemp("print") / name
    result = pipeline.build(Settings(source=ROOT / "fixtures" / name, out_dir=out, pdf=True))
    assert result.written
    return out


def _issues(out: Path, kind: str = "document") -> dict[str, list[printcheck.Issue]]:
    jobs = {}
    for f in sorted(out.rglob("*.pdf")):
        name = f.relative_to(out).as_posix()
        if (name == "bundle.pdf") != (kind == "bundle"):
            continue
        if name in ("actes.pdf", "actes/registre.pdf"):  # compilations, as bundle.pdf: not documents of the phase
            continue
        source = f.with_suffix(".docx")
        jobs[name] = (kind, f.read_bytes(), source.read_bytes() if source.is_file() else None)
    return printcheck.check_files(jobs)


@pytest.mark.libreoffice
@pytest.mark.slow
@needs_lo
@pytest.mark.parametrize("name", ["phase-6-2024", "phase-6-2024-amended", "fictif", "phase-3-2026"])
def test_every_fixture_prints_well(tmp_path_factory, name):
    if not SOFFICE:
        pytest.skip("LibreOffice absent")
    issues = _issues(_built(tmp_path_factory, name))
    found = [f"{n} p{i.page} {i.code} {i.message}" for n, lst in issues.items() for i in lst if i.code in LAYOUT]
    assert found == []


@pytest.mark.libreoffice
@pytest.mark.slow
@needs_lo
def test_example_bundle_numbers_every_page(tmp_path_factory):
    issues = _issues(_built(tmp_path_factory, "phase-6-2024"), "bundle")
    assert issues["bundle.pdf"] == []


@pytest.mark.libreoffice
@pytest.mark.slow
@needs_lo
def test_example_projet_documents_carry_the_watermark(tmp_path_factory):
    issues = _issues(_built(tmp_path_factory, "phase-6-2024"))
    assert [i for lst in issues.values() for i in lst if i.code == "impression.filigrane_absent"] == []


def test_print_check_rules_are_listed_and_all_report():
    from deliberation.rules import impression
    from deliberation.validate import rules

    codes = {c for r in rules("pdf") for c in r.codes}
    assert set(printcheck.CODES) <= codes
    assert impression.AWAITING == frozenset()  # every rule reports
