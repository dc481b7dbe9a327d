"""PDFs put end to end one at a time (bundle/concat.py): pages, inherited attributes, shared streams, bookmarks."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from deliberation.bundle.concat import concatenate
from deliberation.bundle.pdf import finish

WHEN = dt.datetime(2024, 12, 9, tzinfo=dt.UTC)


def _font(writer: PdfWriter):
    return writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica")}))


def _stream(writer: PdfWriter, data: bytes):
    stream = DecodedStreamObject()
    stream.set_data(data)
    return writer._add_object(stream)


def make_pdf(texts: list[str], inherit: bool = False, shared: bytes | None = None, link: bool = False) -> bytes:
    """A PDF with one page per text (Helvetica); ``inherit``: resources and size on the page tree only;
    ``shared``: one more page drawing those bytes (the same stream in several inputs); ``link``: an
    annotation pointing back at its page."""
    writer = PdfWriter()
    font = _font(writer)
    resources = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    box = ArrayObject([NumberObject(0), NumberObject(0), FloatObject(595.3), FloatObject(841.9)])
    contents = [f"BT /F1 12 Tf 72 720 Td ({t}) Tj ET".encode("latin-1") for t in texts]
    if shared is not None:
        contents.append(shared)
    for data in contents:
        page = writer.add_blank_page(595.3, 841.9)
        page[NameObject("/Contents")] = _stream(writer, data)
        if inherit:
            del page["/MediaBox"]
            del page["/Resources"]
        else:
            page[NameObject("/Resources")] = resources
        if link:
            note = DictionaryObject({NameObject("/Type"): NameObject("/Annot"),
                                     NameObject("/Subtype"): NameObject("/Text"),
                                     NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4),
                                     NameObject("/P"): page.indirect_reference,
                                     NameObject("/Contents"): TextStringObject("note")})
            page[NameObject("/Annots")] = ArrayObject([writer._add_object(note)])
    if inherit:
        tree = writer._root_object["/Pages"].get_object()
        tree[NameObject("/Resources")] = resources
        tree[NameObject("/MediaBox")] = box
    return finish(writer, WHEN, "entrée")


def texts_of(data: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(data), strict=True).pages]


def test_pages_in_order_with_one_bookmark_each_on_its_first_page():
    """Verify three inputs of 2, 1 and 3 pages give 6 pages in order, bookmarks on pages 0, 2 and 3."""
    inputs = [(make_pdf(["a1", "a2"]), "Acte A — é"), (make_pdf(["b1"]), "Acte B"), (make_pdf(["c1", "c2", "c3"]), "C")]
    data, pages = concatenate(inputs, WHEN, "Actes à signer — test")
    reader = PdfReader(io.BytesIO(data), strict=True)
    assert pages == len(reader.pages) == 6
    assert texts_of(data) == ["a1", "a2", "b1", "c1", "c2", "c3"]
    assert [(o.title, reader.get_destination_page_number(o)) for o in reader.outline] == [
        ("Acte A — é", 0), ("Acte B", 2), ("C", 3)]
    assert reader.metadata.title == "Actes à signer — test"
    assert reader.metadata.creation_date == reader.metadata.modification_date == WHEN


def test_same_inputs_same_bytes_and_the_id_follows_the_pages():
    """Verify two runs give the same bytes; other pages give another /ID."""
    inputs = [(make_pdf(["x"]), "X"), (make_pdf(["y", "z"]), "Y")]
    one, _ = concatenate(inputs, WHEN, "t")
    assert one == concatenate(inputs, WHEN, "t")[0]
    other, _ = concatenate([(make_pdf(["x"]), "X"), (make_pdf(["y", "w"]), "Y")], WHEN, "t")
    assert PdfReader(io.BytesIO(one)).trailer["/ID"] != PdfReader(io.BytesIO(other)).trailer["/ID"]


def test_inherited_resources_and_size_are_kept():
    """Verify pages whose font and size live on their page tree keep them once put in another tree."""
    inherited = make_pdf(["herite"], inherit=True)
    assert inherited.count(b"/Resources") == inherited.count(b"/MediaBox") == 1  # on the page tree only
    data, _ = concatenate([(inherited, "H"), (make_pdf(["direct"]), "D")], WHEN, None)
    reader = PdfReader(io.BytesIO(data), strict=True)
    assert texts_of(data) == ["herite", "direct"]
    for page in reader.pages:
        assert "/Resources" in page and "/MediaBox" in page  # on the page itself now
        assert [round(float(v), 1) for v in page.mediabox] == [0, 0, 595.3, 841.9]


def test_a_stream_shared_by_inputs_is_written_once():
    """Verify 20 inputs showing the same page description store its 40 kB content stream once."""
    big = b"BT /F1 12 Tf 72 720 Td (description commune) Tj ET\n" + b"% padding\n" * 4000
    inputs = [(make_pdf([f"acte {k}"], shared=big), f"A{k}") for k in range(20)]
    data, pages = concatenate(inputs, WHEN, "t")
    assert pages == 40
    assert data.count(b"description commune") == 1
    assert len(data) < sum(len(d) for d, _ in inputs) / 10
    assert texts_of(data)[:4] == ["acte 0", "description commune", "acte 1", "description commune"]


def test_an_annotation_pointing_at_its_page_points_at_the_new_page():
    """Verify an annotation's /P names its page in the output (references between pages renumbered)."""
    data, _ = concatenate([(make_pdf(["p"], link=True), "L"), (make_pdf(["q", "r"], link=True), "M")], WHEN, "t")
    reader = PdfReader(io.BytesIO(data), strict=True)
    for page in reader.pages:
        (annot,) = page["/Annots"]
        assert annot.get_object().raw_get("/P").idnum == page.indirect_reference.idnum


def test_no_input_gives_an_empty_document_and_a_broken_input_is_an_error():
    """Verify no input gives a valid PDF without pages; bytes that are no PDF raise PdfReadError."""
    data, pages = concatenate([], WHEN, "vide")
    assert pages == 0 and len(PdfReader(io.BytesIO(data), strict=True).pages) == 0
    with pytest.raises(PdfReadError):
        concatenate([(b"pas un PDF", "X")], WHEN, "t")


def test_plain_inputs_are_copied_as_bytes_and_give_what_pypdf_gives(monkeypatch):
    """Verify files as pdf.finish writes them take the byte path, whose output reads as the pypdf path's.

    Same pages, texts, bookmarks and /ID whether each input is copied as bytes or read and written
    again by pypdf; a page tree giving its pages their resources is left to pypdf.
    """
    from pypdf import PdfReader as Reader

    from deliberation.bundle import concat

    inputs = [(make_pdf(["a1", "a2"], link=True), "A"), (make_pdf(["b1"], shared=b"BT /F1 9 Tf (s) Tj ET"), "B"),
              (make_pdf(["c1"], shared=b"BT /F1 9 Tf (s) Tj ET"), "C")]
    assert all(concat._plain(d, Reader(io.BytesIO(d))) is not None for d, _ in inputs)
    inherited = make_pdf(["h"], inherit=True)
    assert concat._plain(inherited, Reader(io.BytesIO(inherited))) is None
    fast, _ = concatenate(inputs, WHEN, "t")
    monkeypatch.setattr(concat, "_plain", lambda data, reader: None)
    slow, _ = concatenate(inputs, WHEN, "t")
    a, b = PdfReader(io.BytesIO(fast), strict=True), PdfReader(io.BytesIO(slow), strict=True)
    assert texts_of(fast) == texts_of(slow) == ["a1", "a2", "b1", "s", "c1", "s"]
    assert [(o.title, a.get_destination_page_number(o)) for o in a.outline] == [
        (o.title, b.get_destination_page_number(o)) for o in b.outline]
    assert a.trailer["/ID"] == b.trailer["/ID"]
    assert fast.count(b"(s) Tj") == slow.count(b"(s) Tj") == 1  # the shared stream once, both ways


def test_a_reference_written_inside_a_string_is_text_not_a_reference():
    """Verify « 5 0 R », « stream » and brackets inside a string are copied as they are, real references renumbered."""
    from deliberation.bundle.concat import _Raw

    body = (b"<< /Type /Annot /Contents (voir 5 0 R \\) et \\(stream\\) (imbriqu\\351e 7 0 R)) "
            b"/P 3 0 R /Kids [12 0 R 4 0 R] /F12 7 /Note <7a 30 52> >>")
    raw = _Raw(body)
    assert [m.group(0) for m in raw.refs] == [b"3 0 R", b"12 0 R", b"4 0 R"]
    assert raw.data_at == -1
    out = raw.renumbered({3: 30, 12: 120})
    assert out == (b"<< /Type /Annot /Contents (voir 5 0 R \\) et \\(stream\\) (imbriqu\\351e 7 0 R)) "
                   b"/P 30 0 R /Kids [120 0 R null] /F12 7 /Note <7a 30 52> >>")
    stream = _Raw(b"<< /Length 14 /Filter /X /Ref 9 0 R >>\nstream\n9 0 R (( 8 0 R\nendstream")
    assert [m.group(0) for m in stream.refs] == [b"9 0 R"]  # the data is not read for references
    assert stream.data() == b"9 0 R (( 8 0 R"
