"""Long tables split into consecutive parts so that LibreOffice lays them out in linear time."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from conftest import needs_lo
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm
from docx.table import _Cell
from pypdf import PdfReader

from deliberation.render.tables import split_long_tables


def make_doc(rows: int, cols: int = 3, header: int = 1, merges=(), look: str | None = None):
    """A document: a paragraph, one table (``header`` rows marked tblHeader, then ``rows`` data rows), a paragraph.

    ``merges`` lists (first, last, column) runs of data rows merged vertically.
    """
    doc = Document()
    doc.add_paragraph("Avant")
    table = doc.add_table(rows=0, cols=cols)
    for h in range(header):
        tr = table.add_row()._tr
        tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
        for c, tc in enumerate(tr.tc_lst):
            _Cell(tc, table).text = f"H{h}.{c}"
    trs = []
    for r in range(rows):
        tr = table.add_row()._tr
        trs.append(tr)
        for c, tc in enumerate(tr.tc_lst):
            _Cell(tc, table).text = f"R{r}.{c}"
    for first, last, col in merges:
        _Cell(trs[first].tc_lst[col], table).merge(_Cell(trs[last].tc_lst[col], table))
    if look is not None:
        el = table._tbl.tblPr.find(qn("w:tblLook"))
        el.set(qn("w:val"), look)
        el.set(qn("w:firstRow"), "1")
        el.set(qn("w:lastRow"), "1")
    doc.add_paragraph("Après")
    return doc


def saved(doc) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def document_xml(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read("word/document.xml")


def reopen(doc):
    return Document(io.BytesIO(saved(doc)))


def tables(doc):
    return doc.element.body.findall(qn("w:tbl"))


def rows_of(tbl):
    return tbl.findall(qn("w:tr"))


def is_header(tr) -> bool:
    return tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None


def continues(tr) -> bool:
    return any(v.get(qn("w:val"), "continue") == "continue" for v in tr.iter(qn("w:vMerge")))


def texts(tr) -> list[str]:
    return ["".join(t.text or "" for t in tc.iter(qn("w:t"))) for tc in tr.findall(qn("w:tc"))]


def data_texts(doc) -> list[list[str]]:
    return [texts(tr) for tbl in tables(doc) for tr in rows_of(tbl) if not is_header(tr)]


def check_parts(doc, max_rows: int, header_texts: list[list[str]]):
    parts = tables(doc)
    for tbl in parts:
        rows = rows_of(tbl)
        assert len(rows) <= max_rows
        assert tbl.find(qn("w:tblPr")) is not None and tbl.find(qn("w:tblGrid")) is not None
        assert [texts(tr) for tr in rows if is_header(tr)] == header_texts
        assert all(is_header(tr) for tr in rows[:len(header_texts)])
        first_data = rows[len(header_texts)]
        assert not continues(first_data), "a vMerge run was cut"
    return parts


def test_long_table_is_split_with_header_repeated_and_merges_kept():
    merges = [(8, 11, 0), (18, 20, 1), (29, 30, 2), (40, 44, 0)]
    doc = make_doc(57, merges=merges)
    before = data_texts(doc)
    grid = [int(c.get(qn("w:w"))) for c in tables(doc)[0].find(qn("w:tblGrid"))]
    added = split_long_tables(doc.element.body, max_rows=10)
    doc = reopen(doc)
    parts = check_parts(doc, 10, [["H0.0", "H0.1", "H0.2"]])
    assert added == len(parts) - 1 >= 6
    assert data_texts(doc) == before
    assert sum(len(rows_of(t)) - 1 for t in parts) == 57
    for tbl in parts:
        assert [int(c.get(qn("w:w"))) for c in tbl.find(qn("w:tblGrid"))] == grid
    # the cut was moved before each run that would have straddled it, so some parts are short
    assert any(len(rows_of(t)) < 10 for t in parts[:-1])
    # the body keeps its order: paragraph, part, separator, part, …, paragraph
    body = [el.tag for el in doc.element.body if el.tag != qn("w:sectPr")]
    assert body == [qn("w:p")] + [qn("w:tbl"), qn("w:p")] * (len(parts) - 1) + [qn("w:tbl"), qn("w:p")]


def test_separator_is_a_minimal_empty_paragraph():
    doc = make_doc(30)
    split_long_tables(doc.element.body, max_rows=10)
    doc = reopen(doc)
    seps = [el for el in doc.element.body if el.tag == qn("w:p")][1:-1]
    assert len(seps) == len(tables(doc)) - 1 == 3
    for p in seps:
        assert not list(p.iter(qn("w:r")))
        spacing = p.find(f"{qn('w:pPr')}/{qn('w:spacing')}")
        assert spacing.get(qn("w:before")) == "0" and spacing.get(qn("w:after")) == "0"
        assert p.find(f"{qn('w:pPr')}/{qn('w:rPr')}/{qn('w:sz')}").get(qn("w:val")) == "2"


def test_no_header_is_invented_and_first_last_row_formatting_follows_the_real_rows():
    doc = make_doc(25, header=0, look="04E0")
    before = data_texts(doc)
    assert split_long_tables(doc.element.body, max_rows=10) == 2
    doc = reopen(doc)
    parts = check_parts(doc, 10, [])
    assert [len(rows_of(t)) for t in parts] == [10, 10, 5]
    assert data_texts(doc) == before

    def look(tbl):
        el = tbl.find(f"{qn('w:tblPr')}/{qn('w:tblLook')}")
        return el.get(qn("w:firstRow")), el.get(qn("w:lastRow")), el.get(qn("w:val"))

    assert [look(t) for t in parts] == [("1", "0", "04A0"), ("0", "0", "0480"), ("0", "1", "04C0")]


def test_several_header_rows_are_repeated():
    doc = make_doc(44, header=2)
    split_long_tables(doc.element.body, max_rows=12)
    doc = reopen(doc)
    parts = check_parts(doc, 12, [["H0.0", "H0.1", "H0.2"], ["H1.0", "H1.1", "H1.2"]])
    assert [len(rows_of(t)) for t in parts] == [12, 12, 12, 12, 6]


def test_a_merged_run_longer_than_a_part_stays_whole():
    doc = make_doc(30, merges=[(5, 22, 1)])
    before = data_texts(doc)
    split_long_tables(doc.element.body, max_rows=10)
    doc = reopen(doc)
    parts = tables(doc)
    assert [len(rows_of(t)) - 1 for t in parts] == [5, 18, 7]
    assert data_texts(doc) == before
    assert all(not continues(rows_of(t)[1]) for t in parts)
    first = saved(doc)
    assert split_long_tables(doc.element.body, max_rows=10) == 0
    assert document_xml(saved(doc)) == document_xml(first)


def test_short_tables_and_split_tables_are_left_unchanged():
    doc = make_doc(10, merges=[(2, 5, 0)])
    before = document_xml(saved(doc))
    assert split_long_tables(doc.element.body, max_rows=11) == 0
    assert document_xml(saved(doc)) == before
    doc = make_doc(100)
    assert split_long_tables(doc.element.body, max_rows=20) == 5
    once = document_xml(saved(doc))
    assert split_long_tables(doc.element.body, max_rows=20) == 0
    assert document_xml(saved(doc)) == once


def test_nested_tables_are_left_alone():
    doc = Document()
    outer = doc.add_table(rows=1, cols=1)
    inner = outer.cell(0, 0).add_table(rows=50, cols=2)
    assert len(inner.rows) == 50
    before = document_xml(saved(doc))
    assert split_long_tables(doc.element.body, max_rows=10) == 0
    assert document_xml(saved(doc)) == before


def test_max_rows_must_be_positive():
    with pytest.raises(ValueError, match="max_rows"):
        split_long_tables(make_doc(3).element.body, max_rows=0)


def annexe(rows: int):
    """A landscape document with one annexe-4-like table: header row, then ``rows`` funding lines."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    doc.add_paragraph("Annexe 4 — répartition financière")
    table = doc.add_table(rows=0, cols=6)
    table.style = "Table Grid"
    head = table.add_row()._tr
    head.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for tc, text in zip(head.tc_lst, ["Territoire(s)", "Structure", "Description Action", "Montant Retenu",
                                      "Avenant/Convention", "Opération"], strict=True):
        _Cell(tc, table).text = text
    for i in range(rows):
        description = f"Ligne {i:05d} : accompagnement vers l'emploi et insertion sociale des publics éloignés"
        line = [f"Territoire {i % 7}", f"Structure n° {i}", description[:80], "12 345,00 €",
                f"Convention 2024-{i:05d}", f"Opération {i // 20 + 1}"]
        for tc, text in zip(table.add_row()._tr.tc_lst, line, strict=True):
            _Cell(tc, table).text = text
    doc.add_paragraph("Fin de l'annexe")
    return doc


@pytest.mark.libreoffice
@needs_lo
def test_split_5000_row_annexe_converts_with_every_line():
    from deliberation.bundle.pdf import ConvertOptions, convert, page_count

    doc = annexe(5000)
    added = split_long_tables(doc.element.body)
    assert added == 10
    start = time.perf_counter()
    pdf = convert({"a.docx": saved(doc)}, ConvertOptions(jobs=1))["a.pdf"]
    seconds = time.perf_counter() - start
    pages = page_count(pdf)
    print(f"\n5 000-row annexe split into {added + 1} tables: {pages} pages converted in {seconds:.1f} s")
    assert 50 <= pages <= 2000
    reader = PdfReader(io.BytesIO(pdf))
    second, last = reader.pages[1].extract_text(), reader.pages[-1].extract_text()
    assert "Territoire(s)" in second, "header row not repeated"
    assert "Ligne 04999" in last and "Fin de l'annexe" in last
